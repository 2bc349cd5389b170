/*
 * check_http.c - the check types probed over HTTP: http (status, body,
 * latency, certificate expiry) and prometheus (readiness, or an instant
 * query against warn/crit). The engine runs all of them at once on one
 * libcurl multi handle: a type gives the request (http_prepare) and judges
 * the answer (http_evaluate).
 */
#include "check.h"
#include "log.h"
#include "oauth.h"
#include "promapi.h"

#include <ctype.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Is status accepted by the check's expect list ("200 204", "2xx")? */
static int status_expected(const struct mc_conf_section *sec, long status)
{
	const struct mc_conf_value *v = mc_conf_get(sec, "expect");
	char code[8];
	int ok = 0;

	snprintf(code, sizeof(code), "%ld", status);
	for (; v && !ok; v = v->next) {
		char *list = mc_strdup(v->raw), *save = NULL;

		for (char *t = strtok_r(list, " ,", &save); t && !ok;
		     t = strtok_r(NULL, " ,", &save))
			ok = strcmp(t, code) == 0 ||
			     (strcmp(t + 1, "xx") == 0 && t[0] == code[0]);
		free(list);
	}
	return ok;
}

/* Keeps the worst of several findings: status and the message of the
 * first one at that status. */
struct verdict {
	int status;
	char msg[256];
};

static void finding(struct verdict *v, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void finding(struct verdict *v, int status, const char *fmt, ...)
{
	va_list ap;

	if (status <= v->status && v->msg[0])
		return;
	v->status = status;
	va_start(ap, fmt);
	vsnprintf(v->msg, sizeof(v->msg), fmt, ap);
	va_end(ap);
}

/* A request that got no answer: why, as a check result. */
static void no_answer(const struct mc_http_req *req, struct mc_check_result *r)
{
	if (req->err.code == MC_EXIT_UNKNOWN || mc_interrupted)
		mc_check_set(r, MC_ST_UNKNOWN, "%s", mc_interrupted ?
			     "interrupted" : "did not finish before the run's "
			     "deadline");
	else
		mc_check_set(r, MC_ST_CRITICAL, "%s", req->err.msg[0] ?
			     req->err.msg : "no answer");
}

static void http_evaluate(const struct mc_check *c, const struct mc_http_req *req,
			  struct mc_check_result *r)
{
	const struct mc_conf_section *sec = c->sec;
	const char *body = mc_conf_str(sec, "body");
	const char *re = mc_conf_str(sec, "body_regex");
	struct verdict v = { MC_ST_OK, "" };
	char cert[64] = "";

	if (!req->done) {
		no_answer(req, r);
		return;
	}
	if (!status_expected(sec, req->status)) {
		const struct mc_conf_value *e = mc_conf_get(sec, "expect");

		finding(&v, MC_ST_CRITICAL, "HTTP %ld (expected %s)",
			req->status, e ? e->raw : "2xx");
	}
	if (body && (req->resp == NULL || strstr(req->resp, body) == NULL))
		finding(&v, MC_ST_CRITICAL, "HTTP %ld, but the body lacks '%s'",
			req->status, body);
	if (re) {
		regex_t rx;

		if (regcomp(&rx, re, REG_EXTENDED | REG_NOSUB) == 0) {
			if (regexec(&rx, req->resp ? req->resp : "", 0, NULL,
				    0) != 0)
				finding(&v, MC_ST_CRITICAL, "HTTP %ld, but the "
					"body does not match /%s/",
					req->status, re);
			regfree(&rx);
		}
	}
	{
		char why[64];
		int st = mc_check_latency(c, req->latency_ms, why, sizeof(why));

		if (st != MC_ST_OK)
			finding(&v, st, "HTTP %ld in %.1f ms (%s)", req->status,
				req->latency_ms, why);
	}
	if (req->cert_expiry > 0) {
		double days = floor((req->cert_expiry - mc_wall_now()) / 86400);
		long long wd = mc_conf_int(sec, "cert_warn_days", 14);
		long long cd = mc_conf_int(sec, "cert_crit_days", 7);

		snprintf(cert, sizeof(cert), ", certificate expires in %.0f "
			 "days", days);
		if (days < 0) {
			/* whole days since it expired, not -N days left */
			double ago = floor((mc_wall_now() - req->cert_expiry) /
					   86400);

			if (ago < 1)
				finding(&v, MC_ST_CRITICAL, "certificate "
					"expired less than a day ago");
			else
				finding(&v, MC_ST_CRITICAL, "certificate "
					"expired %.0f day%s ago", ago,
					ago == 1 ? "" : "s");
		} else if (days <= (double)cd)
			finding(&v, MC_ST_CRITICAL, "certificate expires in "
				"%.0f days (cert_crit_days %lld)", days, cd);
		else if (days <= (double)wd)
			finding(&v, MC_ST_WARNING, "certificate expires in "
				"%.0f days (cert_warn_days %lld)", days, wd);
		r->has_value = 1;
		r->value = days;
		r->unit = "";
	}
	if (v.status == MC_ST_OK)
		mc_check_set(r, MC_ST_OK, "HTTP %ld in %.1f ms%s%s",
			     req->status, req->latency_ms, cert,
			     req->insecure ? " (TLS not verified: insecure = "
			     "true)" : "");
	else
		mc_check_set(r, v.status, "%s%s", v.msg, req->insecure ?
			     " (TLS not verified: insecure = true)" : "");
}

/* The value of an instant query's answer: a scalar, or a vector of exactly
 * one sample. */
static void prometheus_evaluate(const struct mc_check *c,
				const struct mc_http_req *req,
				struct mc_check_result *r)
{
	struct mc_promapi_result a;

	if (!req->done) {
		no_answer(req, r);
		return;
	}
	if (mc_conf_str(c->sec, "query") == NULL) {
		if (req->status == 200)
			mc_check_set(r, MC_ST_OK, "ready (HTTP 200 in %.1f ms)",
				     req->latency_ms);
		else
			mc_check_set(r, MC_ST_CRITICAL, "not ready: HTTP %ld",
				     req->status);
		return;
	}
	mc_promapi_parse(req->status, req->resp, req->resp_len, &a);
	switch (a.kind) {
	case MC_PROMAPI_VALUE:
		mc_check_value(r, a.value, "", "value");
		break;
	case MC_PROMAPI_EMPTY:
		mc_check_set(r, MC_ST_UNKNOWN, "query returned no data");
		break;
	case MC_PROMAPI_MANY:
		mc_check_set(r, MC_ST_UNKNOWN, "query returned %zu series; "
			     "it must aggregate to one", a.n_series);
		break;
	case MC_PROMAPI_ERROR:
		mc_check_set(r, MC_ST_UNKNOWN, "query failed: %s", a.msg);
		break;
	default:
		mc_check_set(r, MC_ST_UNKNOWN, "%s", a.msg);
		break;
	}
}

/* What an http check's request holds beyond its URL (q->user). */
struct http_extra {
	char **headers;		/* NULL-terminated "Name: value" */
	size_t n_headers;
	char *body;
	size_t body_len;
	char *userpwd;		/* a secret */
};

static void add_header_line(struct http_extra *x, char *line)
{
	x->headers = mc_realloc(x->headers,
				(x->n_headers + 2) * sizeof(*x->headers));
	x->headers[x->n_headers++] = line;
	x->headers[x->n_headers] = NULL;
}

static void http_release(struct mc_http_req *q)
{
	struct http_extra *x = q->user;

	if (x == NULL)
		return;
	for (size_t i = 0; i < x->n_headers; i++)
		mc_free_secret(x->headers[i]);	/* Authorization among them */
	free(x->headers);
	free(x->body);
	mc_free_secret(x->userpwd);
	free(x);
	q->user = NULL;
}

/* A secret from a file (one line, trimmed) or a variable, registered for
 * redaction. 0 with *out NULL when neither key is set; -1 with why. */
static int read_secret(const struct mc_conf_section *s, const char *key_file,
		       const char *key_env, char **out, char *why,
		       size_t size)
{
	const char *path = mc_conf_str(s, key_file);
	const char *var = key_env ? mc_conf_str(s, key_env) : NULL;
	char *raw;

	*out = NULL;
	if (path) {
		struct mc_err e = { 0 };

		if ((raw = mc_read_file(path, 64 * 1024, NULL, &e)) == NULL) {
			snprintf(why, size, "%s: %s", key_file, e.msg);
			return -1;
		}
		*out = mc_strdup(mc_trim(raw));
		mc_free_secret(raw);
	} else if (var) {
		const char *v = getenv(var);

		if (v == NULL || *v == '\0') {
			snprintf(why, size, "%s: the environment variable %s "
				 "is not set", key_env, var);
			return -1;
		}
		raw = mc_strdup(v);
		*out = mc_strdup(mc_trim(raw));
		mc_free_secret(raw);
	} else {
		return 0;
	}
	if (**out == '\0') {
		snprintf(why, size, "%s: empty", path ? key_file : key_env);
		mc_free_secret(*out);
		*out = NULL;
		return -1;
	}
	mc_redact_add(*out);
	return 0;
}

/* The request an http check sends: method, headers, body, credentials,
 * proxy, TLS verification. */
static int http_prepare(const struct mc_check *c,
			const struct mc_health_env *env, struct mc_http_req *q,
			char *why, size_t size)
{
	const struct mc_conf_section *sec = c->sec;
	struct http_extra *x = mc_calloc(1, sizeof(*x));
	const char *body = mc_conf_str(sec, "request_body");
	const char *body_file = mc_conf_str(sec, "request_body_file");
	const char *provider = mc_conf_str(sec, "oauth");
	char *token = NULL;

	q->user = x;
	q->url = mc_strdup(mc_conf_str(sec, "url"));
	q->ca_file = mc_conf_str(sec, "ca_file");
	q->max_redirects = (int)mc_conf_int(sec, "max_redirects", 5);
	q->want_cert_expiry = strncmp(q->url, "https://", 8) == 0;
	q->method = mc_conf_str(sec, "method");
	q->proxy = mc_conf_str(sec, "proxy");
	q->insecure = mc_conf_bool(sec, "insecure", 0);
	for (const struct mc_conf_value *v = mc_conf_get(sec, "header");
	     v && v->raw; v = v->next)
		add_header_line(x, mc_strdup(v->raw));
	if (body) {
		x->body = mc_strdup(body);
		x->body_len = strlen(body);
	} else if (body_file) {
		struct mc_err e = { 0 };

		x->body = mc_read_file(body_file, 1024 * 1024, &x->body_len,
				       &e);
		if (x->body == NULL) {
			snprintf(why, size, "request_body_file: %s", e.msg);
			return MC_ST_UNKNOWN;
		}
	}
	if (x->body) {
		q->body = x->body;
		q->body_len = x->body_len;
		if (q->method == NULL)
			q->method = "POST";
	}
	if (read_secret(sec, "basic_auth_file", NULL, &x->userpwd, why,
			size) < 0)
		return MC_ST_UNKNOWN;
	if (x->userpwd && strchr(x->userpwd, ':') == NULL) {
		snprintf(why, size, "basic_auth_file: not one line "
			 "user:password");
		return MC_ST_UNKNOWN;
	}
	q->userpwd = x->userpwd;
	/* oauth = PROVIDER: the provider's token as a bearer token,
	 * refreshed first (single-flight) when it has less than a minute
	 * left; a provider that cannot give one (it needs a login) makes
	 * the check critical. */
	if (provider != NULL) {
		struct mc_err e = { 0 };
		char *h = NULL;

		if (mc_oauth_bearer(env->st, env->conf, provider, NULL,
				    env->dl, env->correlation_id, 60000, &h,
				    &e) < 0) {
			snprintf(why, size, "oauth provider %s: %s", provider,
				 e.msg);
			return MC_ST_CRITICAL;
		}
		add_header_line(x, h);
	}
	/* Or a bearer token from a file or a variable. */
	if (read_secret(sec, "bearer_token_file", "bearer_token_env", &token,
			why, size) < 0)
		return MC_ST_UNKNOWN;
	if (token) {
		add_header_line(x, mc_asprintf("Authorization: Bearer %s",
					       token));
		mc_free_secret(token);
	}
	q->headers = (const char *const *)x->headers;
	return 0;
}

/* The query URL, or /-/ready without a query. */
static int prometheus_prepare(const struct mc_check *c,
			      const struct mc_health_env *env,
			      struct mc_http_req *q, char *why, size_t size)
{
	const char *base = mc_conf_str(c->sec, "url"), *query;
	size_t n;

	q->ca_file = mc_conf_str(c->sec, "ca_file");
	if (base == NULL)
		base = mc_conf_str(mc_conf_core(env->conf), "prometheus_url");
	query = mc_conf_str(c->sec, "query");
	(void)why;
	(void)size;
	if (query != NULL) {
		q->url = mc_promapi_query_url(base, query, 0);
		return 0;
	}
	n = strlen(base);
	while (n > 0 && base[n - 1] == '/')
		n--;
	q->url = mc_asprintf("%.*s/-/ready", (int)n, base);
	return 0;
}

static int valid_status(const char *t)
{
	size_t n = strlen(t);

	if (n != 3 || t[0] < '1' || t[0] > '5')
		return 0;
	if (strcmp(t + 1, "xx") == 0)
		return 1;
	return isdigit((unsigned char)t[1]) && isdigit((unsigned char)t[2]);
}

/* The expect list is statuses; body_regex compiles. */
static int http_validate(const struct mc_conf_section *s, const char **key,
			 char *why, size_t size)
{
	const struct mc_conf_value *v;

	for (v = mc_conf_get(s, "expect"); v; v = v->next) {
		char *list = mc_strdup(v->raw), *save = NULL, *t;
		int ok = 1;

		for (t = strtok_r(list, " ,", &save); t && ok;
		     t = strtok_r(NULL, " ,", &save))
			ok = valid_status(t);
		free(list);
		if (!ok) {
			*key = "expect";
			snprintf(why, size,
				 "bad status list '%s' (codes like 200 or "
				 "classes like 2xx)", v->raw);
			return -1;
		}
	}
	for (v = mc_conf_get(s, "header"); v && v->raw; v = v->next) {
		const char *colon = strchr(v->raw, ':');
		size_t k = colon ? (size_t)(colon - v->raw) : 0;

		for (size_t i = 0; i < k && colon; i++)
			if (!isalnum((unsigned char)v->raw[i]) &&
			    !strchr("!#$%&'*+-.^_`|~", v->raw[i]))
				colon = NULL;
		if (colon == NULL || k == 0 || strpbrk(v->raw, "\r\n")) {
			*key = "header";
			snprintf(why, size, "a header is 'Name: value' on one "
				 "line");
			return -1;
		}
	}
	{
		static const char *const pairs[][2] = {
			{ "request_body", "request_body_file" },
			{ "bearer_token_file", "bearer_token_env" },
			{ "basic_auth_file", "bearer_token_file" },
			{ "basic_auth_file", "bearer_token_env" },
			{ "oauth", "bearer_token_file" },
			{ "oauth", "bearer_token_env" },
			{ "oauth", "basic_auth_file" },
		};

		for (size_t i = 0; i < MC_ARRAY_LEN(pairs); i++)
			if (mc_conf_str(s, pairs[i][0]) &&
			    mc_conf_str(s, pairs[i][1])) {
				*key = pairs[i][1];
				snprintf(why, size, "give %s or %s, not both",
					 pairs[i][0], pairs[i][1]);
				return -1;
			}
	}
	if ((v = mc_conf_get(s, "body_regex")) != NULL) {
		regex_t re;
		int e = regcomp(&re, v->raw, REG_EXTENDED | REG_NOSUB);

		if (e != 0) {
			char msg[128];

			regerror(e, &re, msg, sizeof(msg));
			*key = "body_regex";
			snprintf(why, size, "bad regular expression: %s", msg);
			return -1;
		}
		regfree(&re);
	}
	return 0;
}

/* Keys both types take alike. */
#define URL_KEY(required) \
	{ .name = "url", .type = MC_CT_URL, .flags = (required), \
	  .help = "the URL to probe (prometheus: the server's base URL, " \
		  "default [core] prometheus_url)" }
#define CA_FILE_KEY \
	{ .name = "ca_file", .type = MC_CT_PATH, \
	  .help = "trust the certificates in this PEM file (verification is " \
		  "never turned off)" }

static const struct mc_conf_key http_keys[] = {
	URL_KEY(MC_CK_REQUIRED),
	{ .name = "expect", .type = MC_CT_STRING, .def = "2xx",
	  .flags = MC_CK_LIST,
	  .help = "accepted statuses: codes or classes (200, 2xx), several "
		  "separated by spaces or commas, or the key repeated" },
	{ .name = "body", .type = MC_CT_STRING,
	  .help = "text the body must contain" },
	{ .name = "body_regex", .type = MC_CT_STRING,
	  .help = "POSIX extended regular expression the body must match" },
	{ .name = "max_redirects", .type = MC_CT_INT, .def = "5",
	  .help = "redirects followed at most (0: none)" },
	CA_FILE_KEY,
	{ .name = "cert_warn_days", .type = MC_CT_INT, .def = "14",
	  .help = "https: warn when the certificate expires within this many "
		  "days" },
	{ .name = "cert_crit_days", .type = MC_CT_INT, .def = "7",
	  .help = "https: critical when the certificate expires within this "
		  "many days" },
	MC_CHECK_KEYS_LATENCY,
	{ .name = "method", .type = MC_CT_ENUM,
	  .choices = "GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS",
	  .help = "the request method (default GET, POST with a request "
		  "body)" },
	{ .name = "header", .type = MC_CT_STRING, .flags = MC_CK_LIST,
	  .help = "a request header 'Name: value' (repeat the key for more)" },
	{ .name = "request_body", .type = MC_CT_STRING,
	  .help = "the request body (or request_body_file)" },
	{ .name = "request_body_file", .type = MC_CT_PATH,
	  .help = "a file whose bytes are the request body (at most 1 MiB)" },
	{ .name = "basic_auth_file", .type = MC_CT_PATH,
	  .help = "HTTP basic auth from a file of one line user:password (a "
		  "secret: never shown)" },
	{ .name = "bearer_token_file", .type = MC_CT_PATH,
	  .help = "send Authorization: Bearer with the token in this file" },
	{ .name = "bearer_token_env", .type = MC_CT_STRING,
	  .help = "send Authorization: Bearer with the token in this "
		  "environment variable" },
	{ .name = "proxy", .type = MC_CT_URL,
	  .help = "send the request through this HTTP proxy "
		  "(http://[user:password@]host:port)" },
	{ .name = "insecure", .type = MC_CT_BOOL, .def = "false",
	  .help = "skip TLS certificate verification, for self-signed test "
		  "hosts only; the check's message says so" },
	{ .name = "oauth", .type = MC_CT_STRING,
	  .help = "send the access token of this [oauth \"NAME\"] provider "
		  "as a bearer token (refreshed first when less than a minute "
		  "is left; a provider that needs login makes the check "
		  "critical)" },
	{ .name = NULL },
};

static const struct mc_conf_key prometheus_keys[] = {
	URL_KEY(0),
	CA_FILE_KEY,
	{ .name = "query", .type = MC_CT_STRING,
	  .help = "an instant PromQL query returning a scalar or one sample "
		  "(without it the check asks /-/ready)" },
	MC_CHECK_KEYS_THRESHOLD,
	{ .name = NULL },
};

const struct mc_check_type mc_check_http = {
	.name = "http",
	.flags = MC_CHECK_HTTP | MC_CHECK_BREAKER,
	.keys = http_keys,
	.validate = http_validate,
	.http_prepare = http_prepare,
	.http_evaluate = http_evaluate,
	.http_release = http_release,
};

const struct mc_check_type mc_check_prometheus = {
	.name = "prometheus",
	.flags = MC_CHECK_HTTP | MC_CHECK_BREAKER,
	.keys = prometheus_keys,
	.http_prepare = prometheus_prepare,
	.http_evaluate = prometheus_evaluate,
};
