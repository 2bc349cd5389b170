/*
 * http.h - HTTP client on libcurl's multi interface.
 *
 * Many requests run concurrently on one multi handle, each with its own
 * per-attempt timeout, all bounded by the run's deadline. Failed attempts
 * (transport errors, timeouts, 429, 500, 502, 503, 504) are retried with
 * full-jitter exponential backoff; a Retry-After (seconds or HTTP date) on
 * 429/503 is honoured as the least wait. Every request carries
 * X-Correlation-ID and a W3C traceparent (trace id derived from the
 * correlation id, fresh span id per attempt). TLS peer and host
 * verification stay on.
 */
#ifndef MC_HTTP_H
#define MC_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include "mc.h"

struct mc_http;

struct mc_http_req {
	/* Set by the caller. */
	const char *method;		/* NULL: GET, or POST with a body */
	const char *url;
	const char *const *headers;	/* NULL-terminated "Name: value" */
	const char *body;		/* may be NULL */
	size_t body_len;
	int64_t timeout_ms;		/* per attempt; 0: 10 s */
	int max_attempts;		/* 0 or 1: no retry */
	int64_t backoff_base_ms;	/* 0: 200 ms */
	int64_t backoff_cap_ms;		/* 0: 10 s */
	size_t max_body;		/* 0: 1 MiB; a larger answer fails */
	int cut_body;			/* 1: a larger answer is not a
					   failure: the first max_body bytes
					   are kept, the rest is not read
					   (the connection is closed), and
					   the status decides */
	int max_redirects;		/* 0: redirects not followed */
	const char *ca_file;		/* trust these CAs (PEM); NULL: the
					   system's */
	int want_cert_expiry;		/* fill cert_expiry (https) */
	const char *proxy;		/* send through this proxy URL; NULL:
					   libcurl's default */
	int insecure;			/* skip TLS verification (self-signed
					   test hosts; health checks only) */
	const char *userpwd;		/* HTTP basic auth "user:password"
					   (a secret); NULL: none */
	int64_t start_after_ms;		/* first attempt no sooner than this
					   (a rate limit's wait) */
	void *user;

	/* Filled by mc_http_perform(); released by mc_http_req_release(). */
	int done;			/* 1 when an answer was had */
	long status;			/* last HTTP status, 0 when none */
	char *resp;			/* body, NUL-terminated */
	size_t resp_len;
	int resp_cut;			/* cut_body: resp is the start only */
	double latency_ms;		/* of the last attempt */
	int attempts;
	double retry_after_s;		/* last Retry-After seen, else 0 */
	double cert_expiry;		/* want_cert_expiry: the server
					   certificate's notAfter (Unix time),
					   0 when unknown */
	struct mc_err err;		/* set when !done or on final 4xx/5xx */
};

/* correlation_id is copied; NULL makes a fresh W3C trace id. */
struct mc_http *mc_http_new(const char *correlation_id, struct mc_err *err);
void mc_http_free(struct mc_http *h);
/* The trace id (32 hex digits) this client sends in traceparent. */
const char *mc_http_trace_id(const struct mc_http *h);

/* Runs reqs[0..n) concurrently until each has an answer (any status, after
 * retries), has failed for good, the deadline passes (err "deadline") or
 * mc_interrupted is set (err "interrupted"). Returns 0 when the requests
 * ran (look at each one's done/status/err), -1 when they could not start.
 * A request "succeeds" when done && 200 <= status < 400. */
int mc_http_perform(struct mc_http *h, struct mc_http_req *reqs, size_t n,
		    const struct mc_deadline *dl, struct mc_err *err);
void mc_http_req_release(struct mc_http_req *req);

/* Parses a Retry-After value (delta seconds or an HTTP date) relative to
 * now; -1 when unparseable. */
double mc_http_parse_retry_after(const char *value, double now);

#endif
