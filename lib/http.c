/*
 * http.c - HTTP client on libcurl's multi interface (see http.h).
 *
 * One mc_http_perform() drives every request on one multi handle. Each
 * request has a slot that lives for the call: its current easy handle (one
 * per attempt, so every attempt gets fresh headers and a fresh span id),
 * the body being received and the state of its retries. The loop starts
 * the attempts that are due, lets curl move the transfers, collects the
 * finished ones and waits in curl_multi_poll() no longer than the next
 * retry, the deadline and 100 ms, so a signal is noticed quickly.
 *
 * Error messages never carry the URL: webhook URLs are secrets. Callers
 * name the target when they report.
 */
#include "http.h"
#include "resil.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "curl_lazy.h"
#include <openssl/crypto.h>
#include <openssl/evp.h>

#ifndef MC_VERSION
#define MC_VERSION "dev"
#endif

#define DEFAULT_TIMEOUT_MS	10000
#define DEFAULT_BACKOFF_BASE_MS	200
#define DEFAULT_BACKOFF_CAP_MS	10000
#define DEFAULT_MAX_BODY	((size_t)1 << 20)
#define POLL_SLICE_MS		100
#define MAX_CORRELATION_ID	200

struct mc_http {
	char *correlation_id;
	char trace_id[33];
	CURLM *multi;
};

enum slot_state {
	SLOT_WAITING,		/* next attempt starts at next_at */
	SLOT_RUNNING,		/* an easy handle is on the multi handle */
	SLOT_FINISHED,		/* req holds the outcome */
};

struct slot {
	struct mc_http_req *req;
	enum slot_state state;
	double next_at;			/* monotonic seconds */
	CURL *easy;
	struct curl_slist *headers;
	struct mc_buf body;
	size_t max_body;
	int too_big;
	double retry_after;		/* this attempt's, -1 when none */
	double started;			/* monotonic start of the attempt */
	int64_t timeout_ms;		/* this attempt's timeout */
	int capped;			/* timeout_ms was cut by the deadline */
	char errbuf[CURL_ERROR_SIZE];
};

static int curl_ready;

static int global_init(struct mc_err *err)
{
	CURLcode rc;

	if (curl_ready)
		return 0;
	/* OpenSSL (which libcurl initialises) would free its tables in an
	 * atexit handler: a tenth of a run with one HTTP check, for memory
	 * the process exit returns anyway. Asked first, OpenSSL registers
	 * none. Asked before libcurl is loaded, libcrypto is loaded on its
	 * own first (lib/crypto_lazy.c), which binds its ~4,000 references
	 * to itself in fewer steps than as one of libcurl's dependencies
	 * (callgrind: 1M instructions fewer). */
	OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
	if (mc_curl_load(err) == NULL)
		return -1;
	rc = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (rc != CURLE_OK)
		return mc_err_set(err, MC_EXIT_UNKNOWN,
				  "cannot initialise libcurl: %s",
				  curl_easy_strerror(rc));
	curl_ready = 1;
	return 0;
}

static int is_trace_hex(const char *s)
{
	size_t i;
	int nonzero = 0;

	for (i = 0; s[i] != '\0'; i++) {
		if (!isdigit((unsigned char)s[i]) &&
		    (s[i] < 'a' || s[i] > 'f'))
			return 0;
		if (s[i] != '0')
			nonzero = 1;
	}
	return i == 32 && nonzero;
}

static int all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static void random_id(unsigned char *p, size_t n)
{
	do
		mc_random_bytes(p, n);
	while (all_zero(p, n));
}

/* A correlation id goes into two header lines: printable ASCII only. */
static int check_correlation_id(const char *id, struct mc_err *err)
{
	size_t len = strlen(id);

	if (len == 0 || len > MAX_CORRELATION_ID)
		goto bad;
	for (size_t i = 0; i < len; i++)
		if (id[i] <= ' ' || id[i] > '~')
			goto bad;
	return 0;
bad:
	return mc_err_set(err, MC_EXIT_USAGE,
			  "bad correlation id (1 to %d printable characters, no spaces)",
			  MAX_CORRELATION_ID);
}

struct mc_http *mc_http_new(const char *correlation_id, struct mc_err *err)
{
	struct mc_http *h;
	unsigned char raw[EVP_MAX_MD_SIZE];
	unsigned int rawlen = 0;

	if (correlation_id != NULL &&
	    check_correlation_id(correlation_id, err) < 0)
		return NULL;
	if (global_init(err) < 0)
		return NULL;
	h = mc_calloc(1, sizeof(*h));
	if (correlation_id == NULL) {
		random_id(raw, 16);
		mc_hex(raw, 16, h->trace_id);
		h->correlation_id = mc_strdup(h->trace_id);
	} else if (is_trace_hex(correlation_id)) {
		memcpy(h->trace_id, correlation_id, 33);
		h->correlation_id = mc_strdup(correlation_id);
	} else {
		if (!EVP_Digest(correlation_id, strlen(correlation_id), raw,
				&rawlen, EVP_sha256(), NULL) || rawlen < 16) {
			free(h);
			mc_err_set(err, MC_EXIT_UNKNOWN,
				   "cannot hash the correlation id (SHA-256)");
			return NULL;
		}
		/* W3C: an all-zero trace id is invalid. */
		if (all_zero(raw, 16))
			raw[15] = 1;
		mc_hex(raw, 16, h->trace_id);
		h->correlation_id = mc_strdup(correlation_id);
	}
	h->multi = curl_multi_init();
	if (h->multi == NULL) {
		mc_http_free(h);
		mc_err_set(err, MC_EXIT_UNKNOWN,
			   "cannot create a curl multi handle");
		return NULL;
	}
	return h;
}

void mc_http_free(struct mc_http *h)
{
	if (h == NULL)
		return;
	if (h->multi != NULL)
		curl_multi_cleanup(h->multi);
	free(h->correlation_id);
	free(h);
}

const char *mc_http_trace_id(const struct mc_http *h)
{
	return h ? h->trace_id : NULL;
}

double mc_http_parse_retry_after(const char *value, double now)
{
	char buf[128];
	const char *p;
	char *s;
	size_t len;
	int has_alpha = 0;
	time_t t;

	if (value == NULL)
		return -1;
	len = strlen(value);
	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, value, len + 1);
	s = mc_trim(buf);
	if (*s == '\0')
		return -1;
	for (p = s; isdigit((unsigned char)*p); p++)
		;
	if (*p == '\0') {
		/* delta-seconds: a non-negative integer */
		double v = strtod(s, NULL);

		return v > 1e9 ? 1e9 : v;
	}
	/* Every HTTP-date form names the month (and the weekday) in letters,
	 * which keeps curl_getdate()'s leniency away from numeric junk. */
	for (p = s; *p; p++)
		if (isalpha((unsigned char)*p))
			has_alpha = 1;
	if (!has_alpha || mc_curl_load(NULL) == NULL)
		return -1;
	t = curl_getdate(s, NULL);
	if (t == (time_t)-1)
		return -1;
	return (double)t > now ? (double)t - now : 0;
}

void mc_http_req_release(struct mc_http_req *req)
{
	if (req == NULL)
		return;
	free(req->resp);
	req->done = 0;
	req->status = 0;
	req->resp = NULL;
	req->resp_len = 0;
	req->resp_cut = 0;
	req->latency_ms = 0;
	req->attempts = 0;
	req->retry_after_s = 0;
	req->cert_expiry = 0;
	mc_err_clear(&req->err);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	struct slot *s = ud;
	size_t n = size * nmemb;

	if (n > s->max_body - s->body.len) {
		if (s->req->cut_body)
			mc_buf_add(&s->body, data, s->max_body - s->body.len);
		s->too_big = 1;
		return 0;	/* curl stops with CURLE_WRITE_ERROR */
	}
	mc_buf_add(&s->body, data, n);
	return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
	static const char name[] = "retry-after:";
	struct slot *s = ud;
	size_t n = size * nmemb;
	char value[128];
	size_t vlen;
	double v;

	if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		/* A new response (after a redirect or a 1xx) starts. */
		s->retry_after = -1;
		return n;
	}
	if (n <= sizeof(name) - 1 ||
	    strncasecmp(data, name, sizeof(name) - 1) != 0)
		return n;
	vlen = n - (sizeof(name) - 1);
	if (vlen >= sizeof(value))
		return n;
	memcpy(value, data + sizeof(name) - 1, vlen);
	value[vlen] = '\0';
	v = mc_http_parse_retry_after(value, mc_wall_now());
	if (v >= 0)
		s->retry_after = v;
	return n;
}

static int is_retry_status(long status)
{
	return status == 429 || status == 500 || status == 502 ||
	       status == 503 || status == 504;
}

/* Transport errors a later attempt cannot cure. */
static int is_final_curl_error(CURLcode rc)
{
	switch (rc) {
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_NOT_BUILT_IN:
	case CURLE_TOO_MANY_REDIRECTS:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_FILESIZE_EXCEEDED:
	case CURLE_WRITE_ERROR:
	case CURLE_BAD_FUNCTION_ARGUMENT:
	case CURLE_OUT_OF_MEMORY:
	case CURLE_LOGIN_DENIED:
		return 1;
	default:
		return 0;
	}
}

static int is_tls_error(CURLcode rc)
{
	switch (rc) {
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CLIENTCERT:
	case CURLE_USE_SSL_FAILED:
		return 1;
	default:
		return 0;
	}
}

/* Copies curl's error buffer into out with every URL-looking word
 * (scheme://...) replaced by "<url>", and the request's URL wherever it
 * appears. */
static void scrub(const char *in, const char *url, char *out, size_t size)
{
	struct mc_buf b = { 0 };
	size_t ulen = url ? strlen(url) : 0, n;
	const char *p = in;

	while (*p) {
		const char *q;

		if (ulen && strncmp(p, url, ulen) == 0) {
			mc_buf_puts(&b, "<url>");
			p += ulen;
			continue;
		}
		if (isalpha((unsigned char)*p) &&
		    (p == in || !isalnum((unsigned char)p[-1]))) {
			q = p;
			while (isalnum((unsigned char)*q) || *q == '+' ||
			       *q == '-' || *q == '.')
				q++;
			if (strncmp(q, "://", 3) == 0) {
				while (*q && !isspace((unsigned char)*q) &&
				       *q != '\'' && *q != '"')
					q++;
				mc_buf_puts(&b, "<url>");
				p = q;
				continue;
			}
			mc_buf_add(&b, p, (size_t)(q - p));
			p = q;
			continue;
		}
		mc_buf_add(&b, p, 1);
		p++;
	}
	snprintf(out, size, "%s", b.data ? b.data : "");
	mc_buf_release(&b);
	/* Drop a trailing newline curl sometimes leaves. */
	n = strlen(out);
	while (n > 0 && isspace((unsigned char)out[n - 1]))
		out[--n] = '\0';
}

/* What went wrong in a transfer, in words without the URL. */
static void describe(struct slot *s, CURLcode rc, char *out, size_t size)
{
	char detail[CURL_ERROR_SIZE + 64];
	long oserr = 0;

	scrub(s->errbuf, s->req->url, detail, sizeof(detail));
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
		curl_easy_getinfo(s->easy, CURLINFO_OS_ERRNO, &oserr);
		if (oserr == ECONNREFUSED)
			snprintf(out, size, "connection refused");
		else if (oserr != 0)
			snprintf(out, size, "could not connect: %s",
				 strerror((int)oserr));
		else
			snprintf(out, size, "could not connect");
		return;
	case CURLE_COULDNT_RESOLVE_HOST:
		snprintf(out, size, "could not resolve host");
		return;
	case CURLE_COULDNT_RESOLVE_PROXY:
		snprintf(out, size, "could not resolve proxy");
		return;
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(out, size, "timed out after %lld ms",
			 (long long)s->timeout_ms);
		return;
	case CURLE_GOT_NOTHING:
		snprintf(out, size, "empty reply from server");
		return;
	case CURLE_UNSUPPORTED_PROTOCOL:
		snprintf(out, size,
			 "unsupported protocol (only http and https)");
		return;
	case CURLE_URL_MALFORMAT:
		snprintf(out, size, "malformed URL");
		return;
	case CURLE_TOO_MANY_REDIRECTS:
		snprintf(out, size, "too many redirects (limit %d)",
			 s->req->max_redirects);
		return;
	case CURLE_FILESIZE_EXCEEDED:
	case CURLE_WRITE_ERROR:
		if (rc == CURLE_FILESIZE_EXCEEDED || s->too_big) {
			snprintf(out, size, "response larger than %zu bytes",
				 s->max_body);
			return;
		}
		break;
	default:
		break;
	}
	if (is_tls_error(rc))
		snprintf(out, size, "TLS error: %s",
			 *detail ? detail : curl_easy_strerror(rc));
	else if (*detail)
		snprintf(out, size, "%s", detail);
	else
		snprintf(out, size, "%s", curl_easy_strerror(rc));
}

static int error_code(CURLcode rc)
{
	switch (rc) {
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return MC_EXIT_CONFIG;
	case CURLE_FILESIZE_EXCEEDED:
	case CURLE_WRITE_ERROR:
		return MC_EXIT_DATAERR;
	default:
		return MC_EXIT_TEMPFAIL;
	}
}

static void release_easy(struct mc_http *h, struct slot *s)
{
	if (s->easy != NULL) {
		curl_multi_remove_handle(h->multi, s->easy);
		curl_easy_cleanup(s->easy);
		s->easy = NULL;
	}
	curl_slist_free_all(s->headers);
	s->headers = NULL;
}

static void finish(struct slot *s)
{
	s->state = SLOT_FINISHED;
	mc_buf_release(&s->body);
}

/* The request ended with an answer: hand the body over. */
static void finish_answer(struct slot *s)
{
	struct mc_http_req *req = s->req;

	req->done = 1;
	req->resp_len = s->body.len;
	req->resp = mc_buf_steal(&s->body);
	finish(s);
}

/* " after N attempts" when there were several. */
static void attempts_suffix(const struct mc_http_req *req, char *out,
			    size_t size)
{
	if (req->attempts > 1)
		snprintf(out, size, " after %d attempts", req->attempts);
	else if (size)
		out[0] = '\0';
}

static void fail_deadline(struct slot *s)
{
	mc_err_set(&s->req->err, MC_EXIT_UNKNOWN, "deadline reached");
	s->req->err.http_status = s->req->status;
	finish(s);
}

static struct curl_slist *add_header(struct curl_slist *list, const char *h)
{
	struct curl_slist *l = curl_slist_append(list, h);

	if (l == NULL)
		MC_BUG("out of memory (curl_slist)");
	return l;
}

static int has_header(const char *const *headers, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; headers && headers[i]; i++)
		if (strncasecmp(headers[i], name, len) == 0 &&
		    (headers[i][len] == ':' || headers[i][len] == ';'))
			return 1;
	return 0;
}

static int setup_method(CURL *e, const struct mc_http_req *req)
{
	const char *m = req->method;
	int rc = 0;

	if (m == NULL)
		m = req->body ? "POST" : "GET";
	if (strcmp(m, "GET") == 0 && req->body == NULL) {
		rc |= curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
		return rc;
	}
	if (strcmp(m, "HEAD") == 0) {
		rc |= curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
		return rc;
	}
	if (req->body != NULL || strcmp(m, "POST") == 0) {
		curl_off_t len = req->body ? (curl_off_t)req->body_len : 0;

		rc |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, len);
		rc |= curl_easy_setopt(e, CURLOPT_POSTFIELDS,
				       req->body ? req->body : "");
	}
	if (strcmp(m, "POST") != 0)
		rc |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
	return rc;
}

/* Starts the next attempt of s. On failure the slot is finished. */
static void start_attempt(struct mc_http *h, struct slot *s,
			  const struct mc_deadline *dl)
{
	struct mc_http_req *req = s->req;
	unsigned char span[8];
	char span_hex[17], line[128 + MAX_CORRELATION_ID];
	int64_t left, timeout;
	CURL *e;
	int rc = 0;

	timeout = req->timeout_ms > 0 ? req->timeout_ms : DEFAULT_TIMEOUT_MS;
	left = mc_deadline_left_ms(dl, 0);
	if (left <= 0) {
		fail_deadline(s);
		return;
	}
	s->capped = left < timeout;
	s->timeout_ms = s->capped ? left : timeout;

	e = curl_easy_init();
	if (e == NULL) {
		mc_err_set(&req->err, MC_EXIT_UNKNOWN,
			   "cannot create a curl handle");
		finish(s);
		return;
	}
	s->easy = e;
	s->errbuf[0] = '\0';
	s->too_big = 0;
	s->req->resp_cut = 0;
	s->retry_after = -1;
	mc_buf_reset(&s->body);

	random_id(span, sizeof(span));
	mc_hex(span, sizeof(span), span_hex);
	snprintf(line, sizeof(line), "X-Correlation-ID: %s", h->correlation_id);
	s->headers = add_header(s->headers, line);
	snprintf(line, sizeof(line), "traceparent: 00-%s-%s-01", h->trace_id,
		 span_hex);
	s->headers = add_header(s->headers, line);
	/* No "Expect: 100-continue" pause unless the caller asks for it. */
	if (req->body != NULL && !has_header(req->headers, "Expect"))
		s->headers = add_header(s->headers, "Expect:");
	for (size_t i = 0; req->headers && req->headers[i]; i++)
		s->headers = add_header(s->headers, req->headers[i]);

	rc |= curl_easy_setopt(e, CURLOPT_URL, req->url);
	rc |= curl_easy_setopt(e, CURLOPT_PRIVATE, s);
	rc |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	rc |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	rc |= curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	rc |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	rc |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	rc |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION,
			       req->max_redirects > 0 ? 1L : 0L);
	rc |= curl_easy_setopt(e, CURLOPT_MAXREDIRS,
			       (long)(req->max_redirects > 0 ?
				      req->max_redirects : 0));
	/* The timeout covers name resolution only with an asynchronous
	 * resolver (Debian's libcurl has the threaded one, AsynchDNS); at
	 * cleanup, libcurl would still wait for a lookup that never ends
	 * unless told to leave its thread behind (7.87; older versions
	 * refuse the option, which changes nothing). */
	rc |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)s->timeout_ms);
	curl_easy_setopt(e, CURLOPT_QUICK_EXIT, 1L);
	if (!req->cut_body)
		rc |= curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
				       (curl_off_t)s->max_body);
	rc |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	rc |= curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
	rc |= curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	rc |= curl_easy_setopt(e, CURLOPT_HEADERDATA, s);
	rc |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->errbuf);
	rc |= curl_easy_setopt(e, CURLOPT_USERAGENT, "mercuryctl/" MC_VERSION);
	rc |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, s->headers);
	if (req->ca_file)
		rc |= curl_easy_setopt(e, CURLOPT_CAINFO, req->ca_file);
	if (req->proxy)
		rc |= curl_easy_setopt(e, CURLOPT_PROXY, req->proxy);
	if (req->insecure) {
		rc |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		rc |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (req->userpwd) {
		rc |= curl_easy_setopt(e, CURLOPT_HTTPAUTH,
				       (long)CURLAUTH_BASIC);
		rc |= curl_easy_setopt(e, CURLOPT_USERPWD, req->userpwd);
	}
	if (req->want_cert_expiry) {
		rc |= curl_easy_setopt(e, CURLOPT_CERTINFO, 1L);
		/* A reused connection has no handshake and so no chain. */
		rc |= curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
	}
	rc |= setup_method(e, req);
	if (rc != CURLE_OK) {
		release_easy(h, s);
		mc_err_set(&req->err, MC_EXIT_UNKNOWN,
			   "cannot set up the request (libcurl refused an option)");
		finish(s);
		return;
	}
	if (curl_multi_add_handle(h->multi, e) != CURLM_OK) {
		release_easy(h, s);
		mc_err_set(&req->err, MC_EXIT_UNKNOWN,
			   "cannot start the request (libcurl multi)");
		finish(s);
		return;
	}
	req->attempts++;
	s->started = mc_mono_now();
	s->state = SLOT_RUNNING;
}

/* A retryable failure: schedules the next attempt and returns 1, or
 * returns 0 when there is none to make (*past_deadline tells why). */
static int schedule_retry(struct slot *s, long status,
			  const struct mc_deadline *dl, int *past_deadline)
{
	struct mc_http_req *req = s->req;
	int max = req->max_attempts > 1 ? req->max_attempts : 1;
	int64_t base = req->backoff_base_ms > 0 ? req->backoff_base_ms :
		       DEFAULT_BACKOFF_BASE_MS;
	int64_t cap = req->backoff_cap_ms > 0 ? req->backoff_cap_ms :
		      DEFAULT_BACKOFF_CAP_MS;
	double wait_ms, now;

	*past_deadline = 0;
	if (req->attempts >= max)
		return 0;
	wait_ms = (double)mc_backoff_ms(req->attempts - 1, base, cap,
					mc_random_unit());
	if ((status == 429 || status == 503) && s->retry_after >= 0 &&
	    s->retry_after * 1e3 > wait_ms)
		wait_ms = s->retry_after * 1e3;
	now = mc_mono_now();
	if (dl != NULL && dl->at != 0 && now + wait_ms / 1e3 >= dl->at) {
		*past_deadline = 1;
		return 0;
	}
	s->next_at = now + wait_ms / 1e3;
	s->state = SLOT_WAITING;
	return 1;
}

/* A transfer of s ended with rc. */
/* notAfter of the server's own certificate (the first of the chain curl
 * reports with CURLOPT_CERTINFO: "Expire date:Nov 22 10:00:00 2027 GMT"),
 * or 0. */
static double cert_expiry(CURL *e)
{
	struct curl_certinfo *ci = NULL;
	static const char key[] = "Expire date:";

	if (curl_easy_getinfo(e, CURLINFO_CERTINFO, &ci) != CURLE_OK ||
	    ci == NULL || ci->num_of_certs < 1)
		return 0;
	for (struct curl_slist *l = ci->certinfo[0]; l; l = l->next) {
		if (strncmp(l->data, key, sizeof(key) - 1) == 0) {
			time_t t = curl_getdate(l->data + sizeof(key) - 1, NULL);

			return t == (time_t)-1 ? 0 : (double)t;
		}
	}
	return 0;
}

static void on_done(struct mc_http *h, struct slot *s, CURLcode rc,
		    const struct mc_deadline *dl)
{
	struct mc_http_req *req = s->req;
	char what[MC_ERR_MSG], more[64];
	curl_off_t total_us = 0;
	long status = 0;
	int past_deadline = 0;

	curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
	if (curl_easy_getinfo(s->easy, CURLINFO_TOTAL_TIME_T, &total_us) ==
	    CURLE_OK)
		req->latency_ms = (double)total_us / 1e3;
	else
		req->latency_ms = (mc_mono_now() - s->started) * 1e3;
	if (status != 0)
		req->status = status;
	if (s->retry_after >= 0)
		req->retry_after_s = s->retry_after;
	if (req->want_cert_expiry && rc == CURLE_OK)
		req->cert_expiry = cert_expiry(s->easy);
	/* An answer cut at max_body on purpose is an answer. */
	if (rc == CURLE_WRITE_ERROR && s->too_big && req->cut_body &&
	    status != 0) {
		rc = CURLE_OK;
		req->resp_cut = 1;
	}
	if (rc != CURLE_OK)
		describe(s, rc, what, sizeof(what));
	release_easy(h, s);

	if (rc == CURLE_OK && !is_retry_status(status)) {
		if (status >= 400) {
			mc_err_set(&req->err, MC_EXIT_DATAERR, "HTTP %ld",
				   status);
			req->err.http_status = status;
		}
		finish_answer(s);
		return;
	}
	if (rc == CURLE_OPERATION_TIMEDOUT && (s->capped ||
					       mc_deadline_passed(dl))) {
		fail_deadline(s);
		return;
	}
	if (rc != CURLE_OK && is_final_curl_error(rc)) {
		mc_err_set(&req->err, error_code(rc), "%s", what);
		req->err.http_status = req->status;
		finish(s);
		return;
	}
	if (schedule_retry(s, rc == CURLE_OK ? status : 0, dl, &past_deadline))
		return;
	attempts_suffix(req, more, sizeof(more));
	if (rc == CURLE_OK) {
		mc_err_set(&req->err, MC_EXIT_TEMPFAIL, "HTTP %ld%s%s", status,
			   more, past_deadline ?
			   " (a retry would pass the deadline)" : "");
		req->err.http_status = status;
		finish_answer(s);
	} else {
		mc_err_set(&req->err, MC_EXIT_TEMPFAIL, "%s%s%s", what, more,
			   past_deadline ?
			   " (a retry would pass the deadline)" : "");
		req->err.http_status = req->status;
		finish(s);
	}
}

/* Abandons every unfinished request with the given error. */
static void abandon(struct mc_http *h, struct slot *slots, size_t n, int code,
		    const char *msg)
{
	for (size_t i = 0; i < n; i++) {
		struct slot *s = &slots[i];

		if (s->state == SLOT_FINISHED)
			continue;
		if (s->state == SLOT_RUNNING)
			s->req->latency_ms = (mc_mono_now() - s->started) * 1e3;
		release_easy(h, s);
		mc_err_set(&s->req->err, code, "%s", msg);
		s->req->err.http_status = s->req->status;
		finish(s);
	}
}

static void drain(struct mc_http *h, const struct mc_deadline *dl)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(h->multi, &left)) != NULL) {
		struct slot *s;
		char *priv = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
		s = (struct slot *)(void *)priv;
		if (s == NULL || s->easy != m->easy_handle)
			continue;
		on_done(h, s, m->data.result, dl);
	}
}

int mc_http_perform(struct mc_http *h, struct mc_http_req *reqs, size_t n,
		    const struct mc_deadline *dl, struct mc_err *err)
{
	struct slot *slots;
	size_t i, pending;

	if (h == NULL || (reqs == NULL && n > 0))
		return mc_err_set(err, MC_EXIT_UNKNOWN,
				  "mc_http_perform: no client or no requests");
	for (i = 0; i < n; i++)
		if (reqs[i].url == NULL || reqs[i].url[0] == '\0')
			return mc_err_set(err, MC_EXIT_USAGE,
					  "request %zu has no URL", i + 1);
	if (n == 0)
		return 0;

	slots = mc_calloc(n, sizeof(*slots));
	for (i = 0; i < n; i++) {
		mc_http_req_release(&reqs[i]);
		slots[i].req = &reqs[i];
		slots[i].state = SLOT_WAITING;
		slots[i].max_body = reqs[i].max_body ? reqs[i].max_body :
				    DEFAULT_MAX_BODY;
		slots[i].retry_after = -1;
		if (reqs[i].start_after_ms > 0)
			slots[i].next_at = mc_mono_now() +
					   reqs[i].start_after_ms / 1e3;
	}

	for (;;) {
		double now, wait;
		int running;

		if (mc_interrupted) {
			int code = mc_interrupted == SIGTERM ?
				   MC_EXIT_SIGTERM : MC_EXIT_SIGINT;

			abandon(h, slots, n, code, "interrupted");
			break;
		}
		now = mc_mono_now();
		for (i = 0; i < n; i++)
			if (slots[i].state == SLOT_WAITING &&
			    slots[i].next_at <= now)
				start_attempt(h, &slots[i], dl);
		curl_multi_perform(h->multi, &running);
		drain(h, dl);

		pending = 0;
		wait = POLL_SLICE_MS;
		now = mc_mono_now();
		for (i = 0; i < n; i++) {
			if (slots[i].state == SLOT_FINISHED)
				continue;
			pending++;
			if (slots[i].state == SLOT_WAITING) {
				double w = (slots[i].next_at - now) * 1e3;

				if (w < wait)
					wait = w;
			}
		}
		if (pending == 0)
			break;
		if (mc_deadline_passed(dl)) {
			abandon(h, slots, n, MC_EXIT_UNKNOWN,
				"deadline reached");
			break;
		}
		if (dl != NULL && dl->at != 0 && (dl->at - now) * 1e3 < wait)
			wait = (dl->at - now) * 1e3;
		if (wait < 0)
			wait = 0;
		curl_multi_poll(h->multi, NULL, 0, (int)ceil(wait), NULL);
	}

	for (i = 0; i < n; i++) {
		release_easy(h, &slots[i]);
		mc_buf_release(&slots[i].body);
	}
	free(slots);
	return 0;
}
