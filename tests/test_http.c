/*
 * test_http.c - lib/http.c against the real receiver (scripts/receiver.py).
 *
 * MC_TEST_RECEIVER must name it (scripts/servers.sh writes it); a missing
 * receiver fails the tests. Every test uses paths with a unique suffix, so
 * tests in parallel processes read back only their own requests through
 * /_requests?path_prefix=...
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "http.h"
#include "mc.h"
#include "testlib.h"

#define T_TIMEOUT 60

static const char *receiver(void)
{
	const char *r = getenv("MC_TEST_RECEIVER");

	cr_assert(r != NULL && *r != '\0',
		  "MC_TEST_RECEIVER is not set: start the test servers "
		  "(scripts/servers.sh start DIR; . DIR/env)");
	return r;
}

/* A path prefix no other test (or run) uses: /ROUTE.../t-NAME-PID-RAND */
static char *url_of(const char *path)
{
	return mc_asprintf("%s%s", receiver(), path);
}

static json_t *recorded(const char *prefix)
{
	json_t *j = mc_test_receiver("_requests", prefix);

	cr_assert(json_is_array(j));
	return j;
}

/* The value of a header in a recorded request, by name in any case. */
static const char *header(json_t *rec, const char *name)
{
	json_t *hs = json_object_get(rec, "headers");
	const char *k;
	json_t *v;

	json_object_foreach(hs, k, v) {
		if (strcasecmp(k, name) == 0)
			return json_string_value(v);
	}
	return NULL;
}

static int is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* Checks the traceparent format; copies out its trace and span ids. */
static void check_traceparent(const char *tp, char trace[33], char span[17])
{
	cr_assert_not_null(tp, "no traceparent header");
	cr_assert_eq(strlen(tp), 55, "traceparent '%s' is not 55 chars", tp);
	cr_assert(strncmp(tp, "00-", 3) == 0 && tp[35] == '-' &&
		  tp[52] == '-' && strcmp(tp + 53, "01") == 0,
		  "bad traceparent '%s'", tp);
	cr_assert(is_hex(tp + 3, 32) && is_hex(tp + 36, 16),
		  "traceparent '%s' is not lowercase hex", tp);
	cr_assert(strncmp(tp + 3, "00000000000000000000000000000000", 32) &&
		  strncmp(tp + 36, "0000000000000000", 16),
		  "all-zero id in '%s'", tp);
	memcpy(trace, tp + 3, 32);
	trace[32] = '\0';
	memcpy(span, tp + 36, 16);
	span[16] = '\0';
}

static struct mc_http *client(const char *cid)
{
	struct mc_err err = { 0 };
	struct mc_http *h = mc_http_new(cid, &err);

	cr_assert_not_null(h, "mc_http_new: %s", err.msg);
	return h;
}

/* One request, no deadline. */
static void run1(struct mc_http *h, struct mc_http_req *req,
		 const struct mc_deadline *dl)
{
	struct mc_err err = { 0 };

	cr_assert_eq(mc_http_perform(h, req, 1, dl, &err), 0,
		     "perform: %s", err.msg);
}

Test(http, get_200_with_body, .timeout = T_TIMEOUT)
{
	char *path = mc_test_unique("/echo", "get");
	char *url = url_of(path);
	struct mc_http *h = client(NULL);
	struct mc_http_req req = { .url = url };
	json_t *j, *rec;

	run1(h, &req, NULL);
	cr_assert_eq(req.done, 1, "err: %s", req.err.msg);
	cr_assert_eq(req.status, 200);
	cr_assert_eq(req.attempts, 1);
	cr_assert_str_empty(req.err.msg);
	cr_assert_not_null(req.resp);
	cr_assert_eq(req.resp_len, strlen(req.resp));
	cr_assert(req.latency_ms > 0);
	j = json_loads(req.resp, 0, NULL);
	cr_assert_not_null(j, "body is not the echo JSON: %s", req.resp);
	cr_assert_str_eq(json_string_value(json_object_get(j, "method")),
			 "GET");
	cr_assert_str_eq(json_string_value(json_object_get(j, "path")), path);
	json_decref(j);

	j = recorded(path);
	cr_assert_eq(json_array_size(j), 1);
	rec = json_array_get(j, 0);
	cr_assert(strncmp(header(rec, "User-Agent"), "mercuryctl/", 11) == 0);
	json_decref(j);

	mc_http_req_release(&req);
	cr_assert_null(req.resp);
	cr_assert_eq(req.done, 0);
	mc_http_free(h);
	free(url);
	free(path);
}

Test(http, post_body_and_header_arrive_intact, .timeout = T_TIMEOUT)
{
	static const char body[] = "{\"msg\":\"h\xc3\xa9llo\\n\",\"tab\":\"\t\"}\r\n";
	static const char bin[] = "\x00\xff\x01" "bin\r\n\x80";
	const char *hdrs[] = { "X-Test-Header: value with  spaces; 1=2",
			       "Content-Type: application/json", NULL };
	char *path = mc_test_unique("/any", "post");
	char *url = url_of(path);
	char *path2 = mc_test_unique("/any", "putbin");
	char *url2 = url_of(path2);
	struct mc_http *h = client("post-test");
	struct mc_http_req req[2] = {
		{ .url = url, .headers = hdrs, .body = body,
		  .body_len = sizeof(body) - 1 },
		{ .url = url2, .method = "PUT", .body = bin,
		  .body_len = sizeof(bin) - 1 },
	};
	struct mc_err err = { 0 };
	json_t *j, *rec;

	cr_assert_eq(mc_http_perform(h, req, 2, NULL, &err), 0);
	cr_assert_eq(req[0].status, 200, "err: %s", req[0].err.msg);
	cr_assert_eq(req[1].status, 200, "err: %s", req[1].err.msg);

	j = recorded(path);
	cr_assert_eq(json_array_size(j), 1);
	rec = json_array_get(j, 0);
	cr_assert_str_eq(json_string_value(json_object_get(rec, "method")),
			 "POST");
	cr_assert_str_eq(json_string_value(json_object_get(rec, "body")),
			 body);
	cr_assert_str_eq(header(rec, "X-Test-Header"),
			 "value with  spaces; 1=2");
	cr_assert_str_eq(header(rec, "Content-Type"), "application/json");
	cr_assert_null(header(rec, "Expect"));
	json_decref(j);

	/* Not UTF-8, with a NUL: the receiver keeps it as base64. */
	j = recorded(path2);
	cr_assert_eq(json_array_size(j), 1);
	rec = json_array_get(j, 0);
	cr_assert_str_eq(json_string_value(json_object_get(rec, "method")),
			 "PUT");
	cr_assert_str_eq(json_string_value(json_object_get(rec, "body_b64")),
			 "AP8BYmluDQqA");
	json_decref(j);

	mc_http_req_release(&req[0]);
	mc_http_req_release(&req[1]);
	mc_http_free(h);
	free(url);
	free(url2);
	free(path);
	free(path2);
}

/* Sends one request with client h and returns the recorded traceparent's
 * trace id; checks X-Correlation-ID equals want_cid. */
static void trace_of(struct mc_http *h, const char *name,
		     const char *want_cid, char trace[33])
{
	char *path = mc_test_unique("/any", name);
	char *url = url_of(path);
	struct mc_http_req req = { .url = url };
	char span[17];
	json_t *j, *rec;

	run1(h, &req, NULL);
	cr_assert_eq(req.status, 200, "err: %s", req.err.msg);
	j = recorded(path);
	cr_assert_eq(json_array_size(j), 1);
	rec = json_array_get(j, 0);
	cr_assert_str_eq(header(rec, "X-Correlation-ID"), want_cid);
	check_traceparent(header(rec, "traceparent"), trace, span);
	json_decref(j);
	mc_http_req_release(&req);
	free(url);
	free(path);
}

Test(http, correlation_and_traceparent, .timeout = T_TIMEOUT)
{
	struct mc_http *h;
	char trace[33];

	/* A W3C trace id as correlation id is the trace id itself. */
	h = client("0af7651916cd43dd8448eb211c80319c");
	cr_assert_str_eq(mc_http_trace_id(h),
			 "0af7651916cd43dd8448eb211c80319c");
	trace_of(h, "cid-hex", "0af7651916cd43dd8448eb211c80319c", trace);
	cr_assert_str_eq(trace, "0af7651916cd43dd8448eb211c80319c");
	mc_http_free(h);

	/* Anything else: the first 16 bytes of its SHA-256
	 * (python3 -c 'import hashlib;
	 *  print(hashlib.sha256(b"run-abc").hexdigest()[:32])'). */
	h = client("run-abc");
	trace_of(h, "cid-sha", "run-abc", trace);
	cr_assert_str_eq(trace, "fccb04a343a290386a0fa6bb8003bc0a");
	cr_assert_str_eq(mc_http_trace_id(h), trace);
	mc_http_free(h);

	/* Upper case hex is not a W3C trace id: hashed too. */
	h = client("0AF7651916CD43DD8448EB211C80319C");
	cr_assert_str_neq(mc_http_trace_id(h),
			  "0af7651916cd43dd8448eb211c80319c");
	mc_http_free(h);

	/* None: a fresh random trace id, sent as the correlation id too. */
	h = client(NULL);
	{
		char *cid = mc_strdup(mc_http_trace_id(h));

		cr_assert_eq(strlen(cid), 32);
		cr_assert(is_hex(cid, 32));
		trace_of(h, "cid-none", cid, trace);
		cr_assert_str_eq(trace, cid);
		free(cid);
	}
	mc_http_free(h);
}

Test(http, span_id_fresh_per_attempt, .timeout = T_TIMEOUT)
{
	char *path = mc_test_unique("/flaky", "span");
	char *full = mc_asprintf("%s/1/503", path);
	char *url = url_of(full);
	struct mc_http *h = client("span-test");
	struct mc_http_req req = { .url = url, .max_attempts = 2,
				   .backoff_base_ms = 1 };
	char t1[33], s1[17], t2[33], s2[17];
	json_t *j;

	run1(h, &req, NULL);
	cr_assert_eq(req.status, 200, "err: %s", req.err.msg);
	cr_assert_eq(req.attempts, 2);
	j = recorded(path);
	cr_assert_eq(json_array_size(j), 2);
	check_traceparent(header(json_array_get(j, 0), "traceparent"), t1, s1);
	check_traceparent(header(json_array_get(j, 1), "traceparent"), t2, s2);
	cr_assert_str_eq(t1, t2);
	cr_assert_str_eq(t1, mc_http_trace_id(h));
	cr_assert_str_neq(s1, s2, "span id repeated across attempts");
	json_decref(j);
	mc_http_req_release(&req);
	mc_http_free(h);
	free(url);
	free(full);
	free(path);
}

Test(http, bad_correlation_id_refused)
{
	struct mc_err err = { 0 };

	cr_assert_null(mc_http_new("evil\r\nX-Injected: 1", &err));
	cr_assert_eq(err.code, MC_EXIT_USAGE);
	cr_assert_null(mc_http_new("", &err));
}

Test(http, requests_run_concurrently, .timeout = T_TIMEOUT)
{
	enum { N = 10 };
	char *path = mc_test_unique("/delay/300", "conc");
	char *urls[N];
	struct mc_http_req req[N];
	struct mc_http *h = client(NULL);
	struct mc_err err = { 0 };
	json_t *st;

	memset(req, 0, sizeof(req));
	for (int i = 0; i < N; i++) {
		urls[i] = mc_asprintf("%s%s/%d", receiver(), path, i);
		req[i].url = urls[i];
	}
	cr_assert_eq(mc_http_perform(h, req, N, NULL, &err), 0);
	for (int i = 0; i < N; i++)
		cr_assert_eq(req[i].status, 200, "req %d: %s", i,
			     req[i].err.msg);
	st = mc_test_receiver("_stats", path);
	cr_assert_eq(json_integer_value(json_object_get(st, "count")), N);
	cr_assert_geq(json_integer_value(json_object_get(st, "max_inflight")),
		      N, "the receiver never had all %d requests at once", N);
	json_decref(st);
	for (int i = 0; i < N; i++) {
		mc_http_req_release(&req[i]);
		free(urls[i]);
	}
	mc_http_free(h);
	free(path);
}

Test(http, timeout_of_one_does_not_fail_another, .timeout = T_TIMEOUT)
{
	char *p1 = mc_test_unique("/hang", "to");
	char *p2 = mc_test_unique("/delay/100", "to");
	char *u1 = url_of(p1), *u2 = url_of(p2);
	struct mc_http *h = client(NULL);
	struct mc_http_req req[2] = {
		{ .url = u1, .timeout_ms = 300 },
		{ .url = u2, .timeout_ms = 10000 },
	};
	struct mc_err err = { 0 };

	cr_assert_eq(mc_http_perform(h, req, 2, NULL, &err), 0);
	cr_assert_eq(req[0].done, 0);
	cr_assert_eq(req[0].status, 0);
	cr_assert_str_eq(req[0].err.msg, "timed out after 300 ms");
	cr_assert_eq(req[0].err.code, MC_EXIT_TEMPFAIL);
	cr_assert_null(req[0].resp);
	cr_assert_eq(req[1].done, 1);
	cr_assert_eq(req[1].status, 200, "err: %s", req[1].err.msg);
	cr_assert_str_empty(req[1].err.msg);
	mc_http_req_release(&req[0]);
	mc_http_req_release(&req[1]);
	mc_http_free(h);
	free(u1);
	free(u2);
	free(p1);
	free(p2);
}

Test(http, deadline_cuts_the_attempt, .timeout = T_TIMEOUT)
{
	char *p = mc_test_unique("/hang", "dl");
	char *u = url_of(p);
	struct mc_http *h = client(NULL);
	struct mc_http_req req = { .url = u, .timeout_ms = 20000,
				   .max_attempts = 3 };
	struct mc_deadline dl;

	mc_deadline_set(&dl, 300);
	run1(h, &req, &dl);
	cr_assert_eq(req.done, 0);
	cr_assert(strstr(req.err.msg, "deadline") != NULL, "err: %s",
		  req.err.msg);
	cr_assert_eq(req.err.code, MC_EXIT_UNKNOWN);
	cr_assert_eq(req.attempts, 1);
	mc_http_req_release(&req);

	/* A deadline already past: no attempt at all. */
	dl.at = mc_mono_now() - 1;
	run1(h, &req, &dl);
	cr_assert_eq(req.attempts, 0);
	cr_assert_str_eq(req.err.msg, "deadline reached");
	mc_http_req_release(&req);
	mc_http_free(h);
	free(u);
	free(p);
}

Test(http, flaky_recovers_within_attempts, .timeout = T_TIMEOUT)
{
	char *p = mc_test_unique("/flaky", "ok");
	char *full = mc_asprintf("%s/2/500", p);
	char *u = url_of(full);
	struct mc_http *h = client(NULL);
	struct mc_http_req req = { .url = u, .max_attempts = 3,
				   .backoff_base_ms = 10 };
	json_t *j;

	run1(h, &req, NULL);
	cr_assert_eq(req.done, 1);
	cr_assert_eq(req.status, 200, "err: %s", req.err.msg);
	cr_assert_eq(req.attempts, 3);
	cr_assert_str_empty(req.err.msg);
	j = recorded(p);
	cr_assert_eq(json_array_size(j), 3);
	json_decref(j);
	mc_http_req_release(&req);
	mc_http_free(h);
	free(u);
	free(full);
	free(p);
}

Test(http, flaky_exhausts_attempts, .timeout = T_TIMEOUT)
{
	char *p = mc_test_unique("/flaky", "bad");
	char *full = mc_asprintf("%s/5/500", p);
	char *u = url_of(full);
	struct mc_http *h = client(NULL);
	struct mc_http_req req = { .url = u, .max_attempts = 2,
				   .backoff_base_ms = 10 };
	json_t *j;

	run1(h, &req, NULL);
	cr_assert_eq(req.status, 500);
	cr_assert_eq(req.attempts, 2);
	cr_assert_str_eq(req.err.msg, "HTTP 500 after 2 attempts");
	cr_assert_eq(req.err.http_status, 500);
	cr_assert_not_null(req.resp);
	j = recorded(p);
	cr_assert_eq(json_array_size(j), 2);
	json_decref(j);
	mc_http_req_release(&req);
	mc_http_free(h);
	free(u);
	free(full);
	free(p);
}

Test(http, retry_after_is_the_least_wait, .timeout = T_TIMEOUT)
{
	char *p = mc_test_unique("/retry-after", "ra");
	char *full = mc_asprintf("%s/1/2", p);
	char *u = url_of(full);
	struct mc_http *h = client(NULL);
	struct mc_http_req req = { .url = u, .max_attempts = 3,
				   .backoff_base_ms = 1 };
	double t0, t1;
	json_t *j;

	run1(h, &req, NULL);
	cr_assert_eq(req.status, 200, "err: %s", req.err.msg);
	cr_assert_eq(req.attempts, 2);
	cr_assert_float_eq(req.retry_after_s, 2.0, 1e-9);
	j = recorded(p);
	cr_assert_eq(json_array_size(j), 2);
	t0 = json_real_value(json_object_get(json_array_get(j, 0), "ts"));
	t1 = json_real_value(json_object_get(json_array_get(j, 1), "ts"));
	cr_assert_geq(t1 - t0, 1.9, "retried %.3f s after a Retry-After: 2",
		      t1 - t0);
	json_decref(j);
	mc_http_req_release(&req);
	mc_http_free(h);
	free(u);
	free(full);
	free(p);
}

Test(http, retry_after_past_deadline_gives_up, .timeout = T_TIMEOUT)
{
	char *p = mc_test_unique("/retry-after", "rad");
	char *full = mc_asprintf("%s/1/60/503", p);
	char *u = url_of(full);
	struct mc_http *h = client(NULL);
	struct mc_http_req req = { .url = u, .max_attempts = 3,
				   .backoff_base_ms = 1 };
	struct mc_deadline dl;

	mc_deadline_set(&dl, 10000);
	run1(h, &req, &dl);
	cr_assert_not(mc_deadline_passed(&dl),
		      "waited for the deadline instead of giving up");
	cr_assert_eq(req.status, 503);
	cr_assert_eq(req.attempts, 1);
	cr_assert(strstr(req.err.msg, "HTTP 503") != NULL &&
		  strstr(req.err.msg, "deadline") != NULL,
		  "err: %s", req.err.msg);
	cr_assert_float_eq(req.retry_after_s, 60.0, 1e-9);
	mc_http_req_release(&req);
	mc_http_free(h);
	free(u);
	free(full);
	free(p);
}

Test(http, client_error_is_not_retried, .timeout = T_TIMEOUT)
{
	char *p = mc_test_unique("/status/404", "nf");
	char *u = url_of(p);
	struct mc_http *h = client(NULL);
	struct mc_http_req req = { .url = u, .max_attempts = 3,
				   .backoff_base_ms = 1 };
	json_t *j;

	run1(h, &req, NULL);
	cr_assert_eq(req.done, 1);
	cr_assert_eq(req.status, 404);
	cr_assert_eq(req.attempts, 1);
	cr_assert_str_eq(req.err.msg, "HTTP 404");
	cr_assert_eq(req.err.http_status, 404);
	j = recorded(p);
	cr_assert_eq(json_array_size(j), 1);
	json_decref(j);
	mc_http_req_release(&req);
	mc_http_free(h);
	free(u);
	free(p);
}

Test(http, body_size_cap, .timeout = T_TIMEOUT)
{
	char *p1 = mc_test_unique("/bytes/2000000", "big");
	char *p2 = mc_test_unique("/bytes/1000", "small");
	char *p3 = mc_test_unique("/bytes/2000000", "bigchunked");
	char *u1 = url_of(p1), *u2 = url_of(p2);
	char *u3 = mc_asprintf("%s%s?chunked=1", receiver(), p3);
	char *u4 = mc_asprintf("%s%s?chunked=1", receiver(), p2);
	struct mc_http *h = client(NULL);
	struct mc_http_req req[4] = {
		{ .url = u1, .max_attempts = 3 },
		{ .url = u2 },
		{ .url = u3, .max_attempts = 3 },
		{ .url = u4, .max_body = 999 },
	};
	struct mc_err err = { 0 };

	cr_assert_eq(mc_http_perform(h, req, 4, NULL, &err), 0);
	/* Content-Length says too much: refused before the body. */
	cr_assert_eq(req[0].done, 0);
	cr_assert_str_eq(req[0].err.msg, "response larger than 1048576 bytes");
	cr_assert_eq(req[0].attempts, 1);
	cr_assert_null(req[0].resp);
	cr_assert_eq(req[1].done, 1);
	cr_assert_eq(req[1].status, 200);
	cr_assert_eq(req[1].resp_len, 1000);
	cr_assert_eq(strlen(req[1].resp), 1000);
	/* No Content-Length: stopped by the write callback. */
	cr_assert_eq(req[2].done, 0);
	cr_assert_str_eq(req[2].err.msg, "response larger than 1048576 bytes");
	cr_assert_eq(req[2].attempts, 1);
	cr_assert_eq(req[3].done, 0);
	cr_assert_str_eq(req[3].err.msg, "response larger than 999 bytes");
	for (int i = 0; i < 4; i++)
		mc_http_req_release(&req[i]);
	mc_http_free(h);
	free(u1);
	free(u2);
	free(u3);
	free(u4);
	free(p1);
	free(p2);
	free(p3);
}

Test(http, connection_refused_without_url, .timeout = T_TIMEOUT)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct mc_http *h = client(NULL);
	struct mc_http_req req = { .max_attempts = 2, .backoff_base_ms = 1 };
	char *url;

	/* A port bound but never listened on refuses connections, and
	 * nothing else can take it while we hold it. */
	cr_assert_geq(fd, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	url = mc_asprintf("http://127.0.0.1:%d/hooks/s3cret-token-XYZ",
			  ntohs(sa.sin_port));
	req.url = url;
	run1(h, &req, NULL);
	cr_assert_eq(req.done, 0);
	cr_assert_eq(req.status, 0);
	cr_assert_eq(req.attempts, 2);
	cr_assert_str_eq(req.err.msg, "connection refused after 2 attempts");
	cr_assert_null(strstr(req.err.msg, "s3cret"));
	cr_assert_null(strstr(req.err.msg, "127.0.0.1"));
	mc_http_req_release(&req);
	close(fd);
	mc_http_free(h);
	free(url);
}

Test(http, could_not_resolve, .timeout = T_TIMEOUT)
{
	struct mc_http *h = client(NULL);
	struct mc_http_req req = {
		.url = "http://no-such-host.invalid/hooks/s3cret",
	};

	run1(h, &req, NULL);
	cr_assert_eq(req.done, 0);
	cr_assert_str_eq(req.err.msg, "could not resolve host");
	mc_http_req_release(&req);
	mc_http_free(h);
}

Test(http, https_to_plain_port_is_a_tls_error, .timeout = T_TIMEOUT)
{
	const char *base = receiver();
	char *p = mc_test_unique("/any", "tls");
	char *u;
	struct mc_http *h = client(NULL);
	struct mc_http_req req = { 0 };

	cr_assert(strncmp(base, "http://", 7) == 0);
	u = mc_asprintf("https://%s%s/s3cret", base + 7, p);
	req.url = u;
	run1(h, &req, NULL);
	cr_assert_eq(req.done, 0);
	cr_assert(strncmp(req.err.msg, "TLS error", 9) == 0, "err: %s",
		  req.err.msg);
	cr_assert_null(strstr(req.err.msg, "s3cret"));
	cr_assert_null(strstr(req.err.msg, "https://"));
	mc_http_req_release(&req);
	mc_http_free(h);
	free(u);
	free(p);
}

Test(http, only_http_and_https, .timeout = T_TIMEOUT)
{
	struct mc_http *h = client(NULL);
	struct mc_http_req req = { .url = "file:///etc/passwd",
				   .max_attempts = 3 };

	run1(h, &req, NULL);
	cr_assert_eq(req.done, 0);
	cr_assert_eq(req.attempts, 1);
	cr_assert_null(req.resp);
	cr_assert(strstr(req.err.msg, "unsupported protocol") != NULL,
		  "err: %s", req.err.msg);
	mc_http_req_release(&req);
	mc_http_free(h);
}

Test(http, redirects_only_when_allowed, .timeout = T_TIMEOUT)
{
	char *p = mc_test_unique("/redirect/2", "rd");
	char *p5 = mc_test_unique("/redirect/5", "rd");
	char *u = url_of(p), *u5 = url_of(p5);
	struct mc_http *h = client(NULL);
	struct mc_http_req req[3] = {
		{ .url = u },
		{ .url = u, .max_redirects = 3 },
		{ .url = u5, .max_redirects = 2 },
	};
	struct mc_err err = { 0 };

	cr_assert_eq(mc_http_perform(h, req, 3, NULL, &err), 0);
	cr_assert_eq(req[0].done, 1);
	cr_assert_eq(req[0].status, 302);
	cr_assert_str_empty(req[0].err.msg);
	cr_assert_eq(req[1].status, 200, "err: %s", req[1].err.msg);
	cr_assert_eq(req[2].done, 0);
	cr_assert(strstr(req[2].err.msg, "too many redirects") != NULL,
		  "err: %s", req[2].err.msg);
	for (int i = 0; i < 3; i++)
		mc_http_req_release(&req[i]);
	mc_http_free(h);
	free(u);
	free(u5);
	free(p);
	free(p5);
}

Test(http, perform_again_after_clean, .timeout = T_TIMEOUT)
{
	char *p = mc_test_unique("/flaky", "again");
	char *full = mc_asprintf("%s/1/502", p);
	char *u = url_of(full);
	struct mc_http *h = client(NULL);
	struct mc_http_req req = { .url = u, .method = "POST", .body = "x",
				   .body_len = 1 };
	json_t *j;

	run1(h, &req, NULL);
	cr_assert_eq(req.status, 502);
	cr_assert_eq(req.attempts, 1);
	cr_assert_str_eq(req.err.msg, "HTTP 502");
	mc_http_req_release(&req);
	run1(h, &req, NULL);
	cr_assert_eq(req.status, 200, "err: %s", req.err.msg);
	cr_assert_eq(req.attempts, 1);
	cr_assert_str_empty(req.err.msg);
	/* Without a clean in between the old answer is released, not
	 * leaked. */
	run1(h, &req, NULL);
	cr_assert_eq(req.status, 200);
	cr_assert_eq(req.attempts, 1);
	j = recorded(p);
	cr_assert_eq(json_array_size(j), 3);
	json_decref(j);
	mc_http_req_release(&req);
	mc_http_free(h);
	free(u);
	free(full);
	free(p);
}

static void on_alarm(int sig)
{
	(void)sig;
	mc_interrupted = SIGTERM;
}

Test(http, interrupt_abandons_everything, .timeout = T_TIMEOUT)
{
	char *p1 = mc_test_unique("/hang", "int");
	char *p2 = mc_test_unique("/flaky", "int");
	char *f2 = mc_asprintf("%s/100/500", p2);
	char *u1 = url_of(p1), *u2 = url_of(f2);
	struct mc_http *h = client(NULL);
	struct mc_http_req req[2] = {
		{ .url = u1, .timeout_ms = 30000 },
		{ .url = u2, .max_attempts = 100, .backoff_base_ms = 50,
		  .backoff_cap_ms = 100 },
	};
	struct itimerval it = { .it_value = { .tv_usec = 300000 } };
	struct sigaction sa;
	struct mc_err err = { 0 };

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	cr_assert_eq(sigaction(SIGALRM, &sa, NULL), 0);
	mc_interrupted = 0;
	cr_assert_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
	cr_assert_eq(mc_http_perform(h, req, 2, NULL, &err), 0);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(req[i].done, 0);
		cr_assert_str_eq(req[i].err.msg, "interrupted");
		cr_assert_eq(req[i].err.code, MC_EXIT_SIGTERM);
	}
	cr_assert_geq(req[0].attempts, 1);
	mc_interrupted = 0;
	for (int i = 0; i < 2; i++)
		mc_http_req_release(&req[i]);
	mc_http_free(h);
	free(u1);
	free(u2);
	free(f2);
	free(p1);
	free(p2);
}

Test(http, perform_refuses_bad_input)
{
	struct mc_http *h = client(NULL);
	struct mc_http_req req = { 0 };
	struct mc_err err = { 0 };

	cr_assert_eq(mc_http_perform(h, &req, 1, NULL, &err), -1);
	cr_assert_eq(err.code, MC_EXIT_USAGE);
	cr_assert_eq(mc_http_perform(h, NULL, 0, NULL, &err), 0);
	cr_assert_eq(mc_http_perform(NULL, &req, 1, NULL, &err), -1);
	mc_http_free(h);
	mc_http_free(NULL);
	mc_http_req_release(NULL);
}

Test(http, parse_retry_after)
{
	double now = (double)time(NULL);
	char date[64];
	time_t later = (time_t)now + 120, earlier = (time_t)now - 3600;
	struct tm tm;

	cr_assert_float_eq(mc_http_parse_retry_after("2", now), 2.0, 1e-9);
	cr_assert_float_eq(mc_http_parse_retry_after("0", now), 0.0, 1e-9);
	cr_assert_float_eq(mc_http_parse_retry_after(" 30 ", now), 30.0,
			   1e-9);

	gmtime_r(&later, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	cr_assert_float_eq(mc_http_parse_retry_after(date, now), 120.0, 1e-9,
			   "'%s'", date);
	cr_assert_float_eq(mc_http_parse_retry_after(
				   "Wed, 21 Oct 2015 07:28:00 GMT",
				   1445412480.0 - 10), 10.0, 1e-9);
	/* A date in the past: no wait. */
	gmtime_r(&earlier, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	cr_assert_float_eq(mc_http_parse_retry_after(date, now), 0.0, 1e-9);

	cr_assert_lt(mc_http_parse_retry_after("garbage", now), 0);
	cr_assert_lt(mc_http_parse_retry_after("", now), 0);
	cr_assert_lt(mc_http_parse_retry_after("-5", now), 0);
	cr_assert_lt(mc_http_parse_retry_after("1.5", now), 0);
	cr_assert_lt(mc_http_parse_retry_after("12abc", now), 0);
	cr_assert_lt(mc_http_parse_retry_after(NULL, now), 0);
}
