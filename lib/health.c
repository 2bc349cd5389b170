/* health.c - check selection, the built-in check types, reports. */
#include "health.h"
#include "job.h"
#include "log.h"
#include "http.h"
#include "promapi.h"

#include <errno.h>
#include <regex.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

const char *mc_status_name(int status)
{
	static const char *const names[] = { "ok", "warning", "critical",
					     "unknown" };

	return status >= 0 && status <= 3 ? names[status] : "unknown";
}

const char *mc_run_status_name(int status)
{
	static const char *const names[] = { "ok", "degraded", "unavailable",
					     "unknown" };

	return status >= 0 && status <= 3 ? names[status] : "unknown";
}

void mc_check_set(struct mc_check_result *r, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	free(r->message);
	r->message = mc_vasprintf(fmt, ap);
	va_end(ap);
	r->status = status;
}

/* How a value alerts against r, for the message: ">= crit 10". */
static void alert_phrase(const struct mc_range *r, const char *name,
			 char *buf, size_t size)
{
	char f[48];

	mc_range_format(r, f, sizeof(f));
	if (r->flags & MC_RANGE_PLAIN)
		snprintf(buf, size, " >= %s %s", name, f);
	else if (r->flags & MC_RANGE_INSIDE)
		snprintf(buf, size, " inside %s %s", name, f + 1);
	else
		snprintf(buf, size, " outside %s %s", name, f);
}

void mc_check_value(struct mc_check_result *r, double value, const char *unit,
		    const char *what)
{
	const struct mc_check *c = r->check;
	int status = mc_range_status(&c->warn, &c->crit, value);
	char why[112] = "";

	r->has_value = 1;
	r->value = value;
	r->unit = unit;
	if (status == MC_ST_CRITICAL)
		alert_phrase(&c->crit, "crit", why, sizeof(why));
	else if (status == MC_ST_WARNING)
		alert_phrase(&c->warn, "warn", why, sizeof(why));
	mc_check_set(r, status, "%s %.15g%s%s", what, value, unit, why);
}

static void human_bytes(double v, char *buf, size_t size)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB",
					     "PiB" };
	size_t u = 0;

	while (v >= 1024 && u + 1 < MC_ARRAY_LEN(units)) {
		v /= 1024;
		u++;
	}
	snprintf(buf, size, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

/* ---- built-in check types ----------------------------------------------- */

static void run_state(const struct mc_check *c, const struct mc_health_env *env,
		      struct mc_check_result *r)
{
	sqlite3 *db = env->st ? mc_state_db(env->st) : NULL;
	sqlite3_stmt *s = NULL;
	const char *verdict = NULL;
	long long runs = 0;
	struct stat sb;
	char size[32] = "?";

	(void)c;
	if (db == NULL) {
		mc_check_set(r, MC_ST_CRITICAL, "state file not open");
		return;
	}
	if (sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &s, NULL) !=
	    SQLITE_OK || sqlite3_step(s) != SQLITE_ROW) {
		mc_check_set(r, MC_ST_CRITICAL, "quick_check failed: %s",
			   sqlite3_errmsg(db));
		sqlite3_finalize(s);
		return;
	}
	verdict = (const char *)sqlite3_column_text(s, 0);
	if (!mc_streq(verdict, "ok")) {
		mc_check_set(r, MC_ST_CRITICAL, "quick_check: %s",
			   verdict ? verdict : "no answer");
		sqlite3_finalize(s);
		return;
	}
	sqlite3_finalize(s);
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM runs", -1, &s,
			       NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		runs = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (stat(mc_state_path(env->st), &sb) == 0)
		human_bytes((double)sb.st_size, size, sizeof(size));
	r->has_value = 1;
	r->value = (double)runs;
	r->unit = "";
	mc_check_set(r, MC_ST_OK, "schema v%d, %lld runs recorded, %s",
		   mc_state_schema_version(), runs, size);
}

static void run_disk(const struct mc_check *c, const struct mc_health_env *env,
		     struct mc_check_result *r)
{
	struct statvfs vfs;
	double total, used, pct;
	char tot[32], eb[128];

	(void)env;
	if (statvfs(c->path, &vfs) < 0) {
		mc_check_set(r, MC_ST_UNKNOWN, "cannot stat %s: %s", c->path,
			   mc_strerror(errno, eb, sizeof(eb)));
		return;
	}
	/* As df(1): used / (used + available to unprivileged users). */
	used = (double)(vfs.f_blocks - vfs.f_bfree) * (double)vfs.f_frsize;
	total = used + (double)vfs.f_bavail * (double)vfs.f_frsize;
	pct = total > 0 ? 100.0 * used / total : 0;
	human_bytes(total, tot, sizeof(tot));
	r->has_value = 1;
	r->value = pct;
	r->unit = "%";
	mc_check_set(r, mc_range_status(&c->warn, &c->crit, pct),
		     "%.1f%% used of %s at %s", pct, tot, c->path);
}

static void run_memory(const struct mc_check *c, const struct mc_health_env *env,
		       struct mc_check_result *r)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	unsigned long long total = 0, avail = 0, v;
	double pct;
	char tot[32], eb[128];

	(void)env;
	if (f == NULL) {
		mc_check_set(r, MC_ST_UNKNOWN, "cannot read /proc/meminfo: %s",
			   mc_strerror(errno, eb, sizeof(eb)));
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "MemTotal: %llu kB", &v) == 1)
			total = v;
		else if (sscanf(line, "MemAvailable: %llu kB", &v) == 1)
			avail = v;
	}
	fclose(f);
	if (total == 0 || avail > total) {
		mc_check_set(r, MC_ST_UNKNOWN,
			   "/proc/meminfo has no MemTotal/MemAvailable");
		return;
	}
	pct = 100.0 * (double)(total - avail) / (double)total;
	human_bytes((double)total * 1024, tot, sizeof(tot));
	r->has_value = 1;
	r->value = pct;
	r->unit = "%";
	mc_check_set(r, mc_range_status(&c->warn, &c->crit, pct),
		     "%.1f%% used of %s", pct, tot);
}

static const struct mc_check_type check_state = { "state", MC_CHECK_MAIN,
						   run_state };
static const struct mc_check_type check_disk = { "disk", 0, run_disk };
static const struct mc_check_type check_memory = { "memory", 0, run_memory };

/* Every check type; the config schema's [check] type key lists the same. */
static const struct mc_check_type check_http, check_prometheus;

static const struct mc_check_type *const check_types[] = {
	&check_state, &check_disk, &check_memory, &check_http,
	&check_prometheus, &mc_check_tcp, &mc_check_redis,
	&mc_check_redis_queue, &mc_check_sqlite, &mc_check_exec,
	&mc_check_job,
};

static const struct mc_check_type *find_type(const char *name)
{
	for (size_t i = 0; i < MC_ARRAY_LEN(check_types); i++)
		if (mc_streq(check_types[i]->name, name))
			return check_types[i];
	return NULL;
}

/* ---- selection ---------------------------------------------------------- */

static char *default_disk_path(struct mc_state *st)
{
	char *p, *slash;

	if (st)
		return mc_strdup(mc_state_dir(st));
	p = mc_state_default_path();
	slash = strrchr(p, '/');
	if (slash && slash != p)
		*slash = '\0';
	return p;
}

static void add_check(struct mc_health *h, const char *name, const char *type,
		      const struct mc_conf_section *sec, struct mc_state *st)
{
	struct mc_check *c;

	h->checks = mc_realloc(h->checks, (h->n + 1) * sizeof(*h->checks));
	c = &h->checks[h->n++];
	memset(c, 0, sizeof(*c));
	c->name = mc_strdup(name);
	c->type = find_type(type);
	if (c->type == NULL)
		abort();	/* the schema names a type with no code: our bug */
	c->sec = sec;
	c->critical = sec ? mc_conf_bool(sec, "critical", 0)
			  : strcmp(type, "state") == 0;
	c->timeout_ms = sec ? mc_conf_ms(sec, "timeout", 2000) : 2000;
	if (strcmp(type, "disk") == 0 || strcmp(type, "memory") == 0) {
		/* Built-in defaults: warn at 90%, critical at 95% used. */
		mc_range_parse("90", &c->warn, NULL);
		mc_range_parse("95", &c->crit, NULL);
	}
	if (sec) {
		mc_conf_range(sec, "warn", &c->warn);
		mc_conf_range(sec, "crit", &c->crit);
	}
	if (strcmp(type, "disk") == 0) {
		const char *p = sec ? mc_conf_str(sec, "path") : NULL;

		c->path = p ? mc_strdup(p) : default_disk_path(st);
	}
}

int mc_health_select(const struct mc_conf *conf, struct mc_state *st,
		     const char *const *names, size_t n_names,
		     int critical_only, struct mc_health *h,
		     struct mc_err *err)
{
	const struct mc_conf_section *sec = NULL;
	struct mc_health all = { 0 };

	memset(h, 0, sizeof(*h));
	while ((sec = mc_conf_next(conf, "check", sec)) != NULL)
		add_check(&all, sec->name, mc_conf_str(sec, "type"), sec, st);
	if (all.n == 0) {
		/* No checks configured: the built-in defaults serve. */
		add_check(&all, "state", "state", NULL, st);
		add_check(&all, "disk", "disk", NULL, st);
		add_check(&all, "memory", "memory", NULL, st);
	}
	for (size_t i = 0; i < n_names; i++) {
		size_t k;

		for (k = 0; k < all.n; k++)
			if (strcmp(all.checks[k].name, names[i]) == 0)
				break;
		if (k == all.n) {
			const char **cands = mc_calloc(all.n, sizeof(*cands));
			const char *near;

			for (k = 0; k < all.n; k++)
				cands[k] = all.checks[k].name;
			near = mc_suggest(names[i], cands, all.n);
			mc_err_set(err, MC_EXIT_USAGE,
				   "health: no check named '%s' is configured%s%s%s",
				   names[i], near ? " (did you mean '" : "",
				   near ? near : "", near ? "'?)" : "");
			free(cands);
			mc_health_free(&all);
			return -1;
		}
	}
	/* Keep the selected ones, in configuration order. */
	for (size_t k = 0; k < all.n; k++) {
		struct mc_check *c = &all.checks[k];
		int keep = n_names == 0;

		for (size_t i = 0; i < n_names; i++)
			keep |= strcmp(c->name, names[i]) == 0;
		if (critical_only && !c->critical)
			keep = 0;
		if (keep) {
			h->checks = mc_realloc(h->checks,
					       (h->n + 1) * sizeof(*h->checks));
			h->checks[h->n++] = *c;
		} else {
			free(c->name);
			free(c->path);
		}
	}
	free(all.checks);
	h->results = mc_calloc(h->n ? h->n : 1, sizeof(*h->results));
	for (size_t i = 0; i < h->n; i++)
		h->results[i].check = &h->checks[i];
	return 0;
}

/* ---- http and prometheus: probes on the shared libcurl multi handle ---- */

static const struct mc_check_type check_http = { "http", MC_CHECK_HTTP, NULL };
static const struct mc_check_type check_prometheus = { "prometheus",
						       MC_CHECK_HTTP, NULL };

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

int mc_check_latency(const struct mc_check *c, double ms, char *why,
		     size_t size)
{
	static const char *const keys[] = { "latency_crit", "latency_warn" };
	static const int status[] = { MC_ST_CRITICAL, MC_ST_WARNING };

	for (size_t i = 0; i < 2; i++) {
		int64_t limit = mc_conf_ms(c->sec, keys[i], 0);
		char d[32];

		if (limit <= 0 || ms < (double)limit)
			continue;
		mc_format_duration(limit, d, sizeof(d));
		snprintf(why, size, ">= %s %s", keys[i], d);
		return status[i];
	}
	if (size)
		why[0] = '\0';
	return MC_ST_OK;
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

/* The URL a probe asks; caller frees. */
static char *probe_url(const struct mc_check *c, const struct mc_health_env *env)
{
	const char *base, *query;
	size_t n;

	if (c->type == &check_http)
		return mc_strdup(mc_conf_str(c->sec, "url"));
	base = mc_conf_str(c->sec, "url");
	if (base == NULL)
		base = mc_conf_str(mc_conf_core(env->conf), "prometheus_url");
	query = mc_conf_str(c->sec, "query");
	if (query != NULL)
		return mc_promapi_query_url(base, query, 0);
	n = strlen(base);
	while (n > 0 && base[n - 1] == '/')
		n--;
	return mc_asprintf("%.*s/-/ready", (int)n, base);
}

static void run_http_checks(struct mc_health *h, const struct mc_health_env *env)
{
	struct mc_http_req *reqs;
	size_t *idx, n = 0;
	struct mc_http *http;
	struct mc_err err = { 0 };

	for (size_t i = 0; i < h->n; i++)
		n += (h->checks[i].type->flags & MC_CHECK_HTTP) != 0;
	if (n == 0 || mc_interrupted || mc_deadline_passed(env->dl))
		return;
	reqs = mc_calloc(n, sizeof(*reqs));
	idx = mc_calloc(n, sizeof(*idx));
	n = 0;
	for (size_t i = 0; i < h->n; i++) {
		const struct mc_check *c = &h->checks[i];
		struct mc_http_req *q = &reqs[n];

		if (!(c->type->flags & MC_CHECK_HTTP))
			continue;
		idx[n++] = i;
		q->url = probe_url(c, env);
		q->timeout_ms = c->timeout_ms;
		q->max_attempts = 1;	/* a probe measures, it does not retry */
		q->ca_file = mc_conf_str(c->sec, "ca_file");
		if (c->type == &check_http) {
			q->max_redirects = (int)mc_conf_int(c->sec,
							    "max_redirects", 5);
			q->want_cert_expiry = strncmp(q->url, "https://", 8) == 0;
		}
	}
	http = mc_http_new(env->correlation_id, &err);
	if (http == NULL || mc_http_perform(http, reqs, n, env->dl, &err) < 0) {
		for (size_t k = 0; k < n; k++)
			mc_check_set(&h->results[idx[k]], MC_ST_UNKNOWN,
				     "cannot probe: %s", err.msg);
	} else {
		for (size_t k = 0; k < n; k++) {
			const struct mc_check *c = &h->checks[idx[k]];
			struct mc_check_result *r = &h->results[idx[k]];

			if (c->type == &check_http)
				http_evaluate(c, &reqs[k], r);
			else
				prometheus_evaluate(c, &reqs[k], r);
			r->latency_ms = reqs[k].latency_ms;
		}
	}
	for (size_t k = 0; k < n; k++) {
		free((char *)reqs[k].url);
		mc_http_req_clean(&reqs[k]);
	}
	mc_http_free(http);
	free(reqs);
	free(idx);
}

/* ---- the engine: threads for blocking checks, libcurl multi for HTTP ---- */

/* Grace a worker gets past its check's timeout before it is abandoned. */
#define WORKER_GRACE_S 0.5

static atomic_int abandoned_running;

int mc_health_abandoned(void)
{
	return atomic_load(&abandoned_running);
}

/* Shared by the main thread and the workers of one run; freed by whoever
 * lets go of it last, so an abandoned worker never touches freed memory. */
struct pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int refs;
};

/* One worker's job. It owns a deep copy of its check and its own result:
 * the main thread takes the result over only when the job is done. */
struct job {
	struct pool *pool;
	struct mc_check check;
	struct mc_check_result res;
	struct mc_health_env env;
	struct mc_deadline dl;
	double deadline;		/* monotonic: timeout + grace */
	int done;			/* under pool->mu */
	int abandoned;			/* under pool->mu */
	pthread_t tid;
};

static void pool_unref(struct pool *p)
{
	int last;

	pthread_mutex_lock(&p->mu);
	last = --p->refs == 0;
	pthread_mutex_unlock(&p->mu);
	if (last) {
		pthread_mutex_destroy(&p->mu);
		pthread_cond_destroy(&p->cv);
		free(p);
	}
}

static void job_free(struct job *j)
{
	free(j->check.name);
	free(j->check.path);
	free(j->res.message);
	free(j->res.perfdata);
	free(j);
}

static void *worker(void *arg)
{
	struct job *j = arg;
	struct pool *p = j->pool;
	double t0 = mc_mono_now();
	int abandoned;

	j->check.type->run(&j->check, &j->env, &j->res);
	j->res.latency_ms = (mc_mono_now() - t0) * 1e3;
	pthread_mutex_lock(&p->mu);
	j->done = 1;
	abandoned = j->abandoned;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	if (abandoned) {
		job_free(j);
		atomic_fetch_sub(&abandoned_running, 1);
	}
	pool_unref(p);
	return NULL;
}

static struct job *start_job(struct pool *p, const struct mc_check *c,
			     const struct mc_health_env *env)
{
	struct job *j = mc_calloc(1, sizeof(*j));
	pthread_attr_t attr;
	int rc;

	j->pool = p;
	j->check = *c;
	j->check.name = mc_strdup(c->name);
	j->check.path = mc_strdup(c->path);
	j->res.check = &j->check;
	j->res.status = MC_ST_UNKNOWN;
	j->env = *env;
	j->env.st = NULL;		/* the main thread's connection */
	if (env->dl)
		j->dl = *env->dl;
	j->env.dl = &j->dl;
	j->deadline = mc_mono_now() + c->timeout_ms / 1e3 + WORKER_GRACE_S;
	pthread_mutex_lock(&p->mu);
	p->refs++;
	pthread_mutex_unlock(&p->mu);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&j->tid, &attr, worker, j);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		/* No thread: run it here; concurrency is lost, not the check. */
		pool_unref(p);
		j->check.type->run(&j->check, &j->env, &j->res);
		j->done = 1;
	}
	return j;
}

/* Waits until every job is done or past its deadline (or the run's
 * deadline, or a signal), then moves the results into h. */
static void collect(struct mc_health *h, struct pool *p, struct job **jobs,
		    const struct mc_deadline *dl)
{
	pthread_mutex_lock(&p->mu);
	for (;;) {
		double now = mc_mono_now(), next = now + 0.1;
		int pending = 0;

		for (size_t i = 0; i < h->n; i++) {
			struct job *j = jobs[i];

			if (j == NULL || j->done)
				continue;
			if (now >= j->deadline || mc_interrupted ||
			    mc_deadline_passed(dl)) {
				j->abandoned = 1;
				continue;
			}
			pending = 1;
			if (j->deadline < next)
				next = j->deadline;
		}
		if (!pending)
			break;
		{
			struct timespec ts;
			double wall = mc_wall_now() + (next - now);

			ts.tv_sec = (time_t)wall;
			ts.tv_nsec = (long)((wall - (double)ts.tv_sec) * 1e9);
			pthread_cond_timedwait(&p->cv, &p->mu, &ts);
		}
	}
	for (size_t i = 0; i < h->n; i++) {
		struct job *j = jobs[i];
		struct mc_check_result *r = &h->results[i];

		if (j == NULL)
			continue;
		if (j->abandoned && !j->done) {
			atomic_fetch_add(&abandoned_running, 1);
			r->latency_ms = (mc_mono_now() - (j->deadline -
				h->checks[i].timeout_ms / 1e3 - WORKER_GRACE_S)) * 1e3;
			if (mc_interrupted)
				mc_check_set(r, MC_ST_UNKNOWN, "interrupted");
			else if (mc_deadline_passed(dl))
				mc_check_set(r, MC_ST_UNKNOWN, "did not finish "
					     "before the run's deadline");
			else
				mc_check_set(r, MC_ST_CRITICAL, "timed out after "
					     "%lld ms (still running; abandoned)",
					     (long long)h->checks[i].timeout_ms);
			continue;	/* the worker frees the job */
		}
		r->status = j->res.status;
		r->latency_ms = j->res.latency_ms;
		r->message = j->res.message;
		r->has_value = j->res.has_value;
		r->value = j->res.value;
		r->unit = j->res.unit;
		r->perfdata = j->res.perfdata;
		j->res.message = NULL;
		j->res.perfdata = NULL;
		jobs[i] = NULL;
		job_free(j);
	}
	pthread_mutex_unlock(&p->mu);
}

void mc_health_run(struct mc_health *h, const struct mc_health_env *env)
{
	double t0 = mc_mono_now();
	struct pool *p = mc_calloc(1, sizeof(*p));
	struct job **jobs = mc_calloc(h->n ? h->n : 1, sizeof(*jobs));
	int crit_fail = 0, degraded = 0, unknown = 0;

	h->started = mc_wall_now();
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->refs = 1;
	for (size_t i = 0; i < h->n; i++) {
		const struct mc_check *c = &h->checks[i];

		if (!(c->type->flags & (MC_CHECK_MAIN | MC_CHECK_HTTP)) &&
		    !mc_interrupted && !mc_deadline_passed(env->dl))
			jobs[i] = start_job(p, c, env);
	}
	/* Meanwhile, in this thread: the checks that use the state
	 * connection, then every HTTP-based check at once. */
	for (size_t i = 0; i < h->n; i++) {
		struct mc_check_result *r = &h->results[i];
		const struct mc_check *c = &h->checks[i];
		double s = mc_mono_now();

		if (!(c->type->flags & MC_CHECK_MAIN))
			continue;
		if (mc_interrupted || mc_deadline_passed(env->dl))
			continue;
		c->type->run(c, env, r);
		r->latency_ms = (mc_mono_now() - s) * 1e3;
	}
	run_http_checks(h, env);
	collect(h, p, jobs, env->dl);
	pool_unref(p);
	free(jobs);
	for (size_t i = 0; i < h->n; i++) {
		struct mc_check_result *r = &h->results[i];

		if (r->message != NULL)
			continue;
		/* Never started: the run was interrupted or out of time. */
		mc_check_set(r, MC_ST_UNKNOWN, mc_interrupted ?
			     "not run: interrupted" :
			     "not run: the run's deadline passed");
	}
	for (size_t i = 0; i < h->n; i++) {
		int st = h->results[i].status;

		if (st == MC_ST_UNKNOWN)
			unknown = 1;
		else if (st == MC_ST_CRITICAL && h->checks[i].critical)
			crit_fail = 1;
		else if (st != MC_ST_OK)
			degraded = 1;
	}
	h->status = crit_fail ? MC_RUN_UNAVAILABLE : degraded ? MC_RUN_DEGRADED
			      : unknown ? MC_RUN_UNKNOWN : MC_RUN_OK;
	h->duration_ms = (mc_mono_now() - t0) * 1e3;
}

int mc_health_record(struct mc_state *st, int64_t run_id,
		     const struct mc_health *h, struct mc_err *err)
{
	sqlite3 *db = mc_state_db(st);
	sqlite3_stmt *s = NULL;

	if (mc_state_begin(st, err) < 0)
		return -1;
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO check_results (run_id, ts, check_name,"
			       " type, status, critical, latency_ms, message, value)"
			       " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", -1, &s,
			       NULL) != SQLITE_OK)
		goto fail;
	for (size_t i = 0; i < h->n; i++) {
		const struct mc_check_result *r = &h->results[i];
		char *msg = mc_redact(r->message ? r->message : "");

		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, run_id);
		sqlite3_bind_double(s, 2, h->started);
		sqlite3_bind_text(s, 3, r->check->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, r->check->type->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 5, mc_status_name(r->status), -1,
				  SQLITE_STATIC);
		sqlite3_bind_int(s, 6, r->check->critical);
		sqlite3_bind_double(s, 7, r->latency_ms);
		sqlite3_bind_text(s, 8, msg, -1, SQLITE_TRANSIENT);
		if (r->has_value)
			sqlite3_bind_double(s, 9, r->value);
		else
			sqlite3_bind_null(s, 9);
		free(msg);
		if (sqlite3_step(s) != SQLITE_DONE)
			goto fail;
	}
	sqlite3_finalize(s);
	return mc_state_commit(st, err);
fail:
	mc_state_sqlerr(st, err, "recording check results");
	sqlite3_finalize(s);
	mc_state_rollback(st);
	return -1;
}

void mc_health_free(struct mc_health *h)
{
	for (size_t i = 0; i < h->n; i++) {
		free(h->checks[i].name);
		free(h->checks[i].path);
		if (h->results) {
			free(h->results[i].message);
			free(h->results[i].perfdata);
		}
	}
	free(h->checks);
	free(h->results);
	memset(h, 0, sizeof(*h));
}

/* ---- reports ------------------------------------------------------------ */

static int health_cell_color(size_t col, const char *cell)
{
	return col == 2 ? mc_status_color(cell) : 0;
}

void mc_health_report(const struct mc_health *h, const char *correlation_id,
		      struct mc_report *r)
{
	static const char *const headers[] = { "CHECK", "TYPE", "STATUS",
					       "LATENCY", "MESSAGE" };
	json_t *checks = json_object();
	struct mc_table *t = mc_table_new(5, headers);
	struct mc_buf perf = { 0 };
	char ts[40];
	size_t counts[4] = { 0 };

	mc_format_time(h->started, ts, sizeof(ts));
	json_object_set_new(r->doc, "status",
			    json_string(mc_run_status_name(h->status)));
	json_object_set_new(r->doc, "timestamp", json_string(ts));
	json_object_set_new(r->doc, "correlation_id",
			    json_string(correlation_id));
	json_object_set_new(r->doc, "duration_ms", json_real(h->duration_ms));
	for (size_t i = 0; i < h->n; i++) {
		const struct mc_check_result *res = &h->results[i];
		const struct mc_check *c = res->check;
		json_t *o = json_object();
		char lat[32], *label = mc_prom_label(c->name), *labels;
		const char *cells[5];

		counts[res->status & 3]++;
		json_object_set_new(o, "type", json_string(c->type->name));
		json_object_set_new(o, "status",
				    json_string(mc_status_name(res->status)));
		json_object_set_new(o, "critical", json_boolean(c->critical));
		json_object_set_new(o, "latency_ms", json_real(res->latency_ms));
		json_object_set_new(o, "message", json_string(res->message ?
							     res->message : ""));
		if (res->has_value)
			json_object_set_new(o, "value", json_real(res->value));
		json_object_set_new(checks, c->name, o);

		snprintf(lat, sizeof(lat), "%.1fms", res->latency_ms);
		cells[0] = c->name;
		cells[1] = c->type->name;
		cells[2] = mc_status_name(res->status);
		cells[3] = lat;
		cells[4] = res->message ? res->message : "";
		mc_table_row(t, cells);

		labels = mc_asprintf("check=\"%s\",type=\"%s\"", label,
				     c->type->name);
		mc_prom_sample(&r->prom, "mercury_check_status", "gauge",
			       "Check status: 0 ok, 1 warning, 2 critical, 3 unknown.",
			       labels, res->status);
		mc_prom_sample(&r->prom, "mercury_check_latency_seconds", "gauge",
			       "How long the check took.", labels,
			       res->latency_ms / 1e3);
		if (res->has_value)
			mc_prom_sample(&r->prom, "mercury_check_value", "gauge",
				       "The value the check measured.", labels,
				       res->value);
		free(labels);
		free(label);

		if (res->perfdata && *res->perfdata)
			mc_buf_printf(&perf, " %s", res->perfdata);
		mc_buf_puts(&perf, " ");
		mc_perf_label(&perf, c->name, "_latency");
		mc_buf_printf(&perf, "=%.3fms", res->latency_ms);
		if (res->has_value) {
			mc_buf_puts(&perf, " ");
			mc_perf_label(&perf, c->name, "");
			char w[48], k[48];

			mc_range_format(&c->warn, w, sizeof(w));
			mc_range_format(&c->crit, k, sizeof(k));
			if (mc_streq(res->unit, "%"))
				mc_buf_printf(&perf, "=%.2f%%;%s;%s;0;100",
					      res->value, w, k);
			else if (*w || *k)
				mc_buf_printf(&perf, "=%.15g%s;%s;%s", res->value,
					      res->unit ? res->unit : "", w, k);
			else
				mc_buf_printf(&perf, "=%.15g%s", res->value,
					      res->unit ? res->unit : "");
		}
	}
	json_object_set_new(r->doc, "checks", checks);
	mc_prom_sample(&r->prom, "mercury_health_status", "gauge",
		       "Run status: 0 ok, 1 degraded, 2 unavailable, 3 unknown.",
		       NULL, h->status);
	mc_table_render(t, &r->text, r->color, health_cell_color);
	mc_table_free(t);
	mc_buf_printf(&r->text, "health: %s (%zu check%s, %.1f ms)\n",
		      mc_run_status_name(h->status), h->n, h->n == 1 ? "" : "s",
		      h->duration_ms);
	{
		struct mc_buf line = { 0 };
		char up[16];
		size_t bad = counts[1] + counts[2] + counts[3];
		const char *name = mc_run_status_name(h->status);

		for (size_t i = 0; name[i] && i < sizeof(up) - 1; i++)
			up[i] = (char)(name[i] >= 'a' && name[i] <= 'z' ?
				       name[i] - 32 : name[i]);
		up[strlen(name) < sizeof(up) ? strlen(name) : sizeof(up) - 1] = 0;
		if (bad == 0) {
			mc_buf_printf(&line, "HEALTH %s - %zu of %zu checks ok", up,
				      counts[0], h->n);
		} else {
			const char *sep = "";

			mc_buf_printf(&line, "HEALTH %s - ", up);
			for (int s = 2; s >= 1; s--) {
				if (counts[s] == 0)
					continue;
				mc_buf_printf(&line, "%s%zu of %zu checks %s", sep,
					      counts[s], h->n, mc_status_name(s));
				sep = ", ";
			}
			if (counts[3]) {
				mc_buf_printf(&line, "%s%zu of %zu checks unknown", sep,
					      counts[3], h->n);
			}
			sep = ": ";
			for (size_t i = 0; i < h->n; i++) {
				if (h->results[i].status == MC_ST_OK)
					continue;
				mc_buf_printf(&line, "%s%s %s", sep,
					      h->checks[i].name,
					      h->results[i].message ?
					      h->results[i].message : "");
				sep = "; ";
			}
		}
		/* A '|' in a message would start the perfdata early. */
		for (char *p = line.data; *p; p++)
			if (*p == '|' || *p == '\n')
				*p = '/';
		mc_buf_printf(&line, " |%s", perf.data ? perf.data : "");
		r->nagios = mc_buf_steal(&line);
	}
	mc_buf_free(&perf);
}
