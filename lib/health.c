/*
 * health.c - the health engine: selects the checks, runs them concurrently
 * (a thread per blocking check, one libcurl multi handle for the HTTP-based
 * ones, the state check in the main thread), and records the results. A
 * check that probes a target over the network has a circuit breaker in the
 * state file ("check:NAME"): after breaker_failures failed probes in a row
 * the target is left alone for breaker_recovery, the check failing without
 * a probe, then one probe decides. The check types are in the registry
 * (lib/check_types.c); the renderings in lib/health_report.c.
 */
#include "health.h"
#include "log.h"
#include "resil.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The run statuses' names, and in capitals as the Nagios line says them. */
static const struct {
	const char *name, *word;
} run_statuses[] = {
	[MC_RUN_OK] = { "ok", "OK" },
	[MC_RUN_DEGRADED] = { "degraded", "DEGRADED" },
	[MC_RUN_UNAVAILABLE] = { "unavailable", "UNAVAILABLE" },
	[MC_RUN_UNKNOWN] = { "unknown", "UNKNOWN" },
};

const char *mc_run_status_name(int status)
{
	return run_statuses[status >= 0 && status <= 3 ? status :
			    MC_RUN_UNKNOWN].name;
}

const char *mc_run_status_word(int status)
{
	return run_statuses[status >= 0 && status <= 3 ? status :
			    MC_RUN_UNKNOWN].word;
}

/* ---- selection ---------------------------------------------------------- */

/* The warn or crit range the type's key gives by default ({0}: none). */
static void default_range(const struct mc_check_type *t, const char *name,
			  struct mc_range *r)
{
	memset(r, 0, sizeof(*r));
	for (size_t k = 0; t->keys && t->keys[k].name; k++)
		if (strcmp(t->keys[k].name, name) == 0 && t->keys[k].def &&
		    t->keys[k].type == MC_CT_THRESHOLD)
			mc_range_parse(t->keys[k].def, r, NULL);
}

/* A check of the type called type: from its section, or (sec NULL) a
 * built-in default with its keys' defaults. */
static void add_check(struct mc_health *h, const char *name, const char *type,
		      const struct mc_conf_section *sec, struct mc_state *st)
{
	struct mc_check *c;

	h->checks = mc_realloc(h->checks, (h->n + 1) * sizeof(*h->checks));
	c = &h->checks[h->n++];
	memset(c, 0, sizeof(*c));
	c->name = mc_strdup(name);
	c->type = mc_check_type_find(type);
	if (c->type == NULL)
		MC_BUG("the schema names check type '%s', which has no code",
		       type ? type : "(none)");
	c->sec = sec;
	c->critical = sec ? mc_conf_bool(sec, "critical", 0)
			  : (c->type->flags & MC_CHECK_DEFAULT_CRITICAL) != 0;
	c->timeout_ms = sec ? mc_conf_ms(sec, "timeout", 2000) : 2000;
	if (sec) {
		mc_conf_range(sec, "warn", &c->warn);
		mc_conf_range(sec, "crit", &c->crit);
	} else {
		default_range(c->type, "warn", &c->warn);
		default_range(c->type, "crit", &c->crit);
	}
	if (c->type->setup != NULL)
		c->type->setup(c, st);
}

int mc_health_select(const struct mc_conf *conf, struct mc_state *st,
		     const char *const *names, size_t n_names,
		     int critical_only, struct mc_health *h,
		     struct mc_err *err)
{
	const struct mc_conf_section *sec = NULL;
	struct mc_health all = { 0 };
	size_t configured;

	memset(h, 0, sizeof(*h));
	while ((sec = mc_conf_next(conf, "check", sec)) != NULL)
		add_check(&all, sec->name, mc_conf_str(sec, "type"), sec, st);
	/* No checks configured: the built-in defaults serve. */
	configured = all.n;
	for (size_t t = 0; configured == 0 && mc_check_types[t] != NULL; t++)
		if (mc_check_types[t]->flags & MC_CHECK_DEFAULT)
			add_check(&all, mc_check_types[t]->name,
				  mc_check_types[t]->name, NULL, st);
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
			mc_health_release(&all);
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

/* ---- the HTTP-based checks: one libcurl multi handle for all ----------- */

/* Frees what a type's http_prepare gave: the URL, and its own release
 * or else the headers (they may hold credentials) and a note in user. */
static void release_req(const struct mc_check_type *t, struct mc_http_req *q)
{
	free((char *)q->url);
	if (t->http_release) {
		t->http_release(q);
		return;
	}
	for (size_t j = 0; q->headers && q->headers[j]; j++)
		mc_free_secret((char *)q->headers[j]);
	free((void *)q->headers);
	free(q->user);
}

/* A check whose result is already set (its breaker is open) is not run. */
static int to_run(const struct mc_health *h, size_t i, unsigned flag)
{
	return (h->checks[i].type->flags & flag) && h->results[i].message == NULL;
}

static void run_http_checks(struct mc_health *h, const struct mc_health_env *env,
			    char *gated)
{
	struct mc_http_req *reqs;
	size_t *idx, n = 0;
	struct mc_http *http;
	struct mc_err err = { 0 };

	for (size_t i = 0; i < h->n; i++)
		n += to_run(h, i, MC_CHECK_HTTP);
	if (n == 0 || mc_interrupted || mc_deadline_passed(env->dl))
		return;
	reqs = mc_calloc(n, sizeof(*reqs));
	idx = mc_calloc(n, sizeof(*idx));
	n = 0;
	for (size_t i = 0; i < h->n; i++) {
		const struct mc_check *c = &h->checks[i];
		struct mc_http_req *q = &reqs[n];
		char why[256] = "";
		int st;

		if (!to_run(h, i, MC_CHECK_HTTP))
			continue;
		st = c->type->http_prepare(c, env, q, why, sizeof(why));
		if (st != MC_ST_OK) {
			/* This one cannot be probed now; the others go on. Not
			 * its target's failure: its breaker is not told. */
			mc_check_set(&h->results[i], st, "%s", why);
			gated[i] = 0;
			release_req(c->type, q);
			memset(q, 0, sizeof(*q));
			continue;
		}
		idx[n++] = i;
		q->timeout_ms = c->timeout_ms;
		q->max_attempts = 1;	/* a probe measures, it does not retry */
	}
	http = n ? mc_http_new(env->correlation_id, &err) : NULL;
	if (n == 0) {
		/* every one failed to prepare: nothing to send */
	} else if (http == NULL ||
		   mc_http_perform(http, reqs, n, env->dl, &err) < 0) {
		for (size_t k = 0; k < n; k++)
			mc_check_set(&h->results[idx[k]], MC_ST_UNKNOWN,
				     "cannot probe: %s", err.msg);
	} else {
		for (size_t k = 0; k < n; k++) {
			const struct mc_check *c = &h->checks[idx[k]];
			struct mc_check_result *r = &h->results[idx[k]];

			c->type->http_evaluate(c, &reqs[k], r);
			r->latency_ms = reqs[k].latency_ms;
		}
	}
	for (size_t k = 0; k < n; k++) {
		release_req(h->checks[idx[k]].type, &reqs[k]);
		mc_http_req_release(&reqs[k]);
	}
	mc_http_free(http);
	free(reqs);
	free(idx);
}

/* ---- circuit breakers of the checks that probe a target ---------------- */

/* A batch of the checks' breakers, named and configured, in
 * calls[0..n); idx[k] is call k's check. */
struct breaker_batch {
	struct mc_breaker_call *calls;
	struct mc_breaker_conf *confs;
	size_t *idx;
	size_t n;
};

static void batch_add(struct breaker_batch *bb, const struct mc_health *h,
		      const struct mc_health_env *env, size_t i)
{
	const struct mc_check *c = &h->checks[i];
	size_t k = bb->n++;

	mc_breaker_conf_read(env->conf ? mc_conf_core(env->conf) : NULL,
			     c->sec, &bb->confs[k]);
	bb->calls[k].name = mc_asprintf("check:%s", c->name);
	bb->calls[k].conf = &bb->confs[k];
	bb->idx[k] = i;
}

static void batch_init(struct breaker_batch *bb, size_t n)
{
	bb->calls = mc_calloc(n ? n : 1, sizeof(*bb->calls));
	bb->confs = mc_calloc(n ? n : 1, sizeof(*bb->confs));
	bb->idx = mc_calloc(n ? n : 1, sizeof(*bb->idx));
	bb->n = 0;
}

static void batch_release(struct breaker_batch *bb)
{
	for (size_t k = 0; k < bb->n; k++)
		free((char *)bb->calls[k].name);
	free(bb->calls);
	free(bb->confs);
	free(bb->idx);
}

/* Asks each breaker before the run, all in one transaction: a check whose
 * breaker is open fails at once, without a probe, saying so. gated[i] is
 * set for the checks whose probe is to be told to their breaker. */
static void breakers_allow(struct mc_health *h, const struct mc_health_env *env,
			   char *gated)
{
	struct breaker_batch bb;
	struct mc_err err = { 0 };

	if (env->st == NULL)
		return;
	batch_init(&bb, h->n);
	for (size_t i = 0; i < h->n; i++)
		if (h->checks[i].type->flags & MC_CHECK_BREAKER)
			batch_add(&bb, h, env, i);
	if (mc_breakers_allow(env->st, bb.calls, bb.n, NULL, &err) < 0) {
		/* the state file could not say: probe all the same */
		mc_log(MC_LOG_WARN, "%s", err.msg);
		batch_release(&bb);
		return;
	}
	for (size_t k = 0; k < bb.n; k++) {
		size_t i = bb.idx[k];
		char when[40];

		gated[i] = (char)bb.calls[k].allow;
		if (bb.calls[k].allow)
			continue;
		mc_format_time(bb.calls[k].retry_at, when, sizeof(when));
		mc_check_set(&h->results[i], MC_ST_CRITICAL, "not probed: "
			     "circuit breaker open after %d failures in a row "
			     "(next probe after %s)", bb.confs[k].failures,
			     when);
	}
	batch_release(&bb);
}

/* Tells each breaker how its probe went, all in one transaction: a failed
 * check is a failure, an ok or warning one a success; one not evaluated
 * (unknown) says nothing. */
static void breakers_record(const struct mc_health *h,
			    const struct mc_health_env *env, const char *gated)
{
	struct breaker_batch bb;
	struct mc_err err = { 0 };

	batch_init(&bb, h->n);
	for (size_t i = 0; i < h->n; i++) {
		int st = h->results[i].status;

		if (!gated[i] || h->results[i].message == NULL ||
		    st == MC_ST_UNKNOWN)
			continue;
		batch_add(&bb, h, env, i);
		bb.calls[bb.n - 1].success = st != MC_ST_CRITICAL;
	}
	if (mc_breakers_record(env->st, bb.calls, bb.n, NULL, &err) < 0)
		mc_log(MC_LOG_WARN, "%s", err.msg);
	batch_release(&bb);
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
	char *gated = mc_calloc(h->n ? h->n : 1, 1);
	int crit_fail = 0, degraded = 0, unknown = 0;

	h->started = mc_wall_now();
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->refs = 1;
	breakers_allow(h, env, gated);
	for (size_t i = 0; i < h->n; i++) {
		const struct mc_check *c = &h->checks[i];

		if (!(c->type->flags & (MC_CHECK_MAIN | MC_CHECK_HTTP)) &&
		    h->results[i].message == NULL &&
		    !mc_interrupted && !mc_deadline_passed(env->dl))
			jobs[i] = start_job(p, c, env);
	}
	/* Meanwhile, in this thread: the checks that use the state
	 * connection, then every HTTP-based check at once. */
	for (size_t i = 0; i < h->n; i++) {
		struct mc_check_result *r = &h->results[i];
		const struct mc_check *c = &h->checks[i];
		double s = mc_mono_now();

		if (!to_run(h, i, MC_CHECK_MAIN))
			continue;
		if (mc_interrupted || mc_deadline_passed(env->dl))
			continue;
		c->type->run(c, env, r);
		r->latency_ms = (mc_mono_now() - s) * 1e3;
	}
	run_http_checks(h, env, gated);
	collect(h, p, jobs, env->dl);
	pool_unref(p);
	free(jobs);
	breakers_record(h, env, gated);
	free(gated);
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
	/* A gate never passes on nothing: no check selected is unknown. */
	if (h->n == 0)
		h->status = MC_RUN_UNKNOWN;
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
		/* untrusted text, escaped in the state file as in text */
		char *red = mc_redact(r->message ? r->message : "");
		char *msg = mc_escape_str(red);

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
		free(red);
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

void mc_health_release(struct mc_health *h)
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
