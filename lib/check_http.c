/*
 * check_http.c - the check types probed over HTTP: http (status, body,
 * latency, certificate expiry) and prometheus (readiness, or an instant
 * query against warn/crit). The engine runs all of them at once on one
 * libcurl multi handle: a type gives the request (http_prepare) and judges
 * the answer (http_evaluate).
 */
#include "check.h"
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

	if (req->user != NULL) {	/* no token for oauth = PROVIDER */
		mc_check_set(r, MC_ST_CRITICAL, "%s", (const char *)req->user);
		return;
	}
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
		if (days <= (double)cd)
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
		mc_check_set(r, MC_ST_OK, "HTTP %ld in %.1f ms%s", req->status,
			     req->latency_ms, cert);
	else
		mc_check_set(r, v.status, "%s", v.msg);
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

/* oauth = PROVIDER: the provider's token as a bearer token, refreshed
 * first (single-flight) when it has less than a minute left. When it
 * cannot be had, q->user says why and http_evaluate reports that instead
 * of the answer. */
static void oauth_header(const struct mc_check *c,
			 const struct mc_health_env *env, struct mc_http_req *q)
{
	const char *provider = mc_conf_str(c->sec, "oauth");
	const char **headers;
	struct mc_err err = { 0 };
	char *h = NULL;

	if (provider == NULL)
		return;
	if (mc_oauth_bearer(env->st, env->conf, provider, NULL, env->dl,
			    env->correlation_id, 60000, &h, &err) < 0) {
		q->user = mc_asprintf("oauth provider %s: %s", provider,
				      err.msg);
		return;
	}
	headers = mc_calloc(2, sizeof(*headers));
	headers[0] = h;
	q->headers = headers;
}

static void http_prepare(const struct mc_check *c,
			 const struct mc_health_env *env, struct mc_http_req *q)
{
	q->url = mc_strdup(mc_conf_str(c->sec, "url"));
	q->ca_file = mc_conf_str(c->sec, "ca_file");
	q->max_redirects = (int)mc_conf_int(c->sec, "max_redirects", 5);
	q->want_cert_expiry = strncmp(q->url, "https://", 8) == 0;
	oauth_header(c, env, q);
}

/* The query URL, or /-/ready without a query. */
static void prometheus_prepare(const struct mc_check *c,
			       const struct mc_health_env *env,
			       struct mc_http_req *q)
{
	const char *base = mc_conf_str(c->sec, "url"), *query;
	size_t n;

	q->ca_file = mc_conf_str(c->sec, "ca_file");
	if (base == NULL)
		base = mc_conf_str(mc_conf_core(env->conf), "prometheus_url");
	query = mc_conf_str(c->sec, "query");
	if (query != NULL) {
		q->url = mc_promapi_query_url(base, query, 0);
		return;
	}
	n = strlen(base);
	while (n > 0 && base[n - 1] == '/')
		n--;
	q->url = mc_asprintf("%.*s/-/ready", (int)n, base);
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
	.flags = MC_CHECK_HTTP,
	.keys = http_keys,
	.validate = http_validate,
	.http_prepare = http_prepare,
	.http_evaluate = http_evaluate,
};

const struct mc_check_type mc_check_prometheus = {
	.name = "prometheus",
	.flags = MC_CHECK_HTTP,
	.keys = prometheus_keys,
	.http_prepare = prometheus_prepare,
	.http_evaluate = prometheus_evaluate,
};
