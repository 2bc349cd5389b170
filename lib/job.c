/*
 * job.c - [job "NAME"] definitions, the job runs in the state file, and
 * the verdict on each job (see job.h and mercuryctl-job(1)).
 */
#include "job.h"
#include "check.h"
#include "log.h"
#include "plugin.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A start this much before an expected time still counts for it (a clock
 * a little off, an operator who ran the job by hand just before). */
#define EARLY_START_S 60.0

/* ---- the section -------------------------------------------------------- */

static const struct mc_conf_key job_keys[] = {
	{ .name = "command", .type = MC_CT_STRING,
	  .help = "the program and its arguments, split like shell words but "
		  "never given to a shell (or give it after -- to job run)" },
	{ .name = "schedule", .type = MC_CT_STRING,
	  .help = "when cron starts it: five fields (minute hour day-of-month "
		  "month day-of-week) or @hourly, @daily, @weekly, @monthly, "
		  "@yearly, optionally after CRON_TZ=Zone" },
	{ .name = "every", .type = MC_CT_DURATION,
	  .help = "instead of schedule: started every DURATION (an interval "
		  "timer, a worker loop)" },
	{ .name = "grace", .type = MC_CT_DURATION, .def = "10m",
	  .help = "how late a start may be before the job is overdue" },
	{ .name = "timeout", .type = MC_CT_DURATION,
	  .help = "then the job's whole process tree is killed (exit 124); "
		  "default none" },
	{ .name = "overlap", .type = MC_CT_ENUM, .def = "skip",
	  .choices = "skip|wait|allow",
	  .help = "when a run is still going: skip (exit 75, recorded), wait "
		  "for it, or allow both" },
	{ .name = "notify", .type = MC_CT_STRING, .def = "false",
	  .help = "alert on failure and resolve on the next success: true "
		  "(every webhook), false, or webhook names" },
	{ .name = "kill_grace", .type = MC_CT_DURATION, .def = "10s",
	  .help = "time between SIGTERM and SIGKILL of the job's tree" },
	{ .name = "keep_output", .type = MC_CT_SIZE, .def = "64KiB",
	  .help = "the tail of stdout and stderr kept per run (0: none)" },
	{ .name = "success_codes", .type = MC_CT_STRING, .def = "0",
	  .help = "exit codes that count as success, separated by spaces or "
		  "commas" },
	{ .name = NULL },
};

static int validate(const struct mc_conf_section *s, const char **key,
		    char *why, size_t size)
{
	struct mc_job_def d;

	if (mc_job_def_from_section(s, &d, key, why, size) < 0)
		return -1;
	mc_job_def_release(&d);
	return 0;
}

const struct mc_conf_schema mc_job_schema = {
	.name = "job",
	.named = 1,
	.help = "a cron job kept by `mercuryctl job run`: recorded, timed out, "
		"alerted on, and noticed when it does not start",
	.keys = job_keys,
	.validate = validate,
};

void mc_job_def_default(const char *name, struct mc_job_def *d)
{
	memset(d, 0, sizeof(*d));
	d->name = mc_strdup(name);
	d->grace_ms = 600000;
	d->overlap = MC_JOB_SKIP;
	d->kill_grace_ms = 10000;
	d->keep_output = 65536;
	d->success_codes = mc_calloc(1, sizeof(int));
	d->n_success = 1;
}

void mc_job_def_release(struct mc_job_def *d)
{
	if (d == NULL)
		return;
	free(d->name);
	mc_argv_free(d->argv);
	free(d->schedule);
	mc_cron_free(d->cron);
	if (d->notify_names)
		for (char **p = d->notify_names; *p; p++)
			free(*p);
	free(d->notify_names);
	free(d->success_codes);
	memset(d, 0, sizeof(*d));
}

int mc_job_success_code(const struct mc_job_def *d, int code)
{
	for (size_t i = 0; i < d->n_success; i++)
		if (d->success_codes[i] == code)
			return 1;
	return 0;
}

/* Words of s separated by spaces or commas; NULL-terminated, caller
 * frees each and the array. */
static char **words(const char *s, size_t *n)
{
	char *copy = mc_strdup(s), *save = NULL, *t;
	char **w = NULL;

	*n = 0;
	for (t = strtok_r(copy, " ,\t", &save); t;
	     t = strtok_r(NULL, " ,\t", &save)) {
		w = mc_realloc(w, (*n + 2) * sizeof(*w));
		w[(*n)++] = mc_strdup(t);
		w[*n] = NULL;
	}
	free(copy);
	return w;
}

static void words_free(char **w)
{
	if (w == NULL)
		return;
	for (char **p = w; *p; p++)
		free(*p);
	free(w);
}

int mc_job_def_from_section(const struct mc_conf_section *s,
			    struct mc_job_def *d, const char **key, char *why,
			    size_t size)
{
	const struct mc_conf_value *cv;
	const char *v;
	char **w;
	size_t n;
	struct mc_err e = { 0 };

	mc_job_def_default(s->name ? s->name : "", d);
	d->configured = 1;
	if ((v = mc_conf_str(s, "command")) != NULL) {
		if (mc_argv_split(v, &d->argv, &e) < 0 || d->argv[0] == NULL) {
			*key = "command";
			snprintf(why, size, "command: %s", d->argv ? "empty" :
				 e.msg);
			goto fail;
		}
	}
	if ((v = mc_conf_str(s, "schedule")) != NULL) {
		if (mc_cron_parse(v, &d->cron, &e) < 0) {
			*key = "schedule";
			snprintf(why, size, "schedule: %s", e.msg);
			goto fail;
		}
		d->schedule = mc_strdup(v);
	}
	d->every_ms = mc_conf_ms(s, "every", 0);
	if (mc_conf_get(s, "every") != NULL && d->every_ms <= 0) {
		*key = "every";
		snprintf(why, size, "every: must be above 0");
		goto fail;
	}
	if (d->cron && d->every_ms) {
		*key = "every";
		snprintf(why, size, "give schedule or every, not both");
		goto fail;
	}
	d->grace_ms = mc_conf_ms(s, "grace", d->grace_ms);
	d->timeout_ms = mc_conf_ms(s, "timeout", 0);
	v = mc_conf_str(s, "overlap");
	d->overlap = mc_streq(v, "wait") ? MC_JOB_WAIT :
		     mc_streq(v, "allow") ? MC_JOB_ALLOW : MC_JOB_SKIP;
	d->kill_grace_ms = mc_conf_ms(s, "kill_grace", d->kill_grace_ms);
	if ((cv = mc_conf_get(s, "keep_output")) != NULL)
		d->keep_output = cv->v.size;
	if (d->keep_output > (64u << 20)) {
		*key = "keep_output";
		snprintf(why, size, "keep_output: at most 64MiB");
		goto fail;
	}
	v = mc_conf_str(s, "notify");
	if (v != NULL) {
		int b;

		if (mc_parse_bool(v, &b, NULL) == 0) {
			d->notify = b;
		} else {
			d->notify_names = words(v, &n);
			d->notify = n > 0 ? 2 : 0;
		}
	}
	w = words(mc_conf_str(s, "success_codes") ?
		  mc_conf_str(s, "success_codes") : "0", &n);
	free(d->success_codes);
	d->success_codes = mc_calloc(n ? n : 1, sizeof(int));
	d->n_success = 0;
	for (size_t i = 0; i < n; i++) {
		long long c;

		if (mc_parse_int(w[i], 0, 255, &c, NULL) < 0) {
			*key = "success_codes";
			snprintf(why, size, "success_codes: '%s' is not an exit "
				 "code (0-255)", w[i]);
			words_free(w);
			goto fail;
		}
		d->success_codes[d->n_success++] = (int)c;
	}
	words_free(w);
	if (d->n_success == 0) {
		*key = "success_codes";
		snprintf(why, size, "success_codes: at least one exit code");
		goto fail;
	}
	return 0;
fail:
	mc_job_def_release(d);
	return -1;
}

void mc_job_defs_free(struct mc_job_def *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		mc_job_def_release(&d[i]);
	free(d);
}

int mc_job_select(const struct mc_conf *conf, const char *const *names,
		  size_t n_names, struct mc_job_def **out, size_t *n,
		  struct mc_err *err)
{
	const struct mc_conf_section **secs = NULL;
	size_t n_secs = 0;

	*out = NULL;
	*n = 0;
	if (mc_conf_select(conf, "job", "job", names, n_names, &secs, &n_secs,
			   err) < 0)
		return -1;
	*out = mc_calloc(n_secs ? n_secs : 1, sizeof(**out));
	for (size_t i = 0; i < n_secs; i++) {
		const char *key = NULL;
		char why[256];

		if (mc_job_def_from_section(secs[i], &(*out)[i], &key, why,
					    sizeof(why)) < 0) {
			mc_job_defs_free(*out, i);
			*out = NULL;
			mc_err_set(err, MC_EXIT_CONFIG, "%s: [job \"%s\"] %s",
				   secs[i]->source, secs[i]->name, why);
			free((void *)secs);
			return -1;
		}
		*n = i + 1;
	}
	free((void *)secs);
	return 0;
}

/* ---- runs --------------------------------------------------------------- */

static int insert_run(struct mc_state *st, const struct mc_job_rec *rec,
		      const char *status, const char *message, int64_t *id,
		      struct mc_err *err)
{
	static const char what[] = "cannot record the job run";
	sqlite3_stmt *s;
	char host[256];

	mc_hostname(host, sizeof(host));
	if (mc_state_prepare(st, "INSERT INTO job_runs (job, started, ended,"
			     " status, pid, host, command, message,"
			     " correlation_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6,"
			     " ?7, ?8, ?9)", &s, what, err) < 0)
		return -1;
	mc_state_bind_text(s, 1, rec->job);
	sqlite3_bind_double(s, 2, rec->at);
	if (strcmp(status, "running") == 0)
		sqlite3_bind_null(s, 3);
	else
		sqlite3_bind_double(s, 3, rec->at);
	mc_state_bind_text(s, 4, status);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)getpid());
	mc_state_bind_text(s, 6, host);
	mc_state_bind_text(s, 7, rec->command);
	mc_state_bind_text(s, 8, message);
	mc_state_bind_text(s, 9, rec->correlation_id);
	if (mc_state_exec_stmt(st, s, what, err) < 0)
		return -1;
	*id = sqlite3_last_insert_rowid(mc_state_db(st));
	return 0;
}

int mc_job_run_begin(struct mc_state *st, const struct mc_job_rec *rec,
		     int64_t *id, struct mc_err *err)
{
	return insert_run(st, rec, "running", NULL, id, err);
}

int mc_job_run_skipped(struct mc_state *st, const struct mc_job_rec *rec,
		       const char *message, int64_t *id, struct mc_err *err)
{
	return insert_run(st, rec, "skipped", message, id, err);
}

int mc_job_run_end(struct mc_state *st, int64_t id, const char *status,
		   int exit_code, int signal, double ended,
		   const void *output, size_t output_len, int64_t output_total,
		   const char *message, struct mc_err *err)
{
	static const char what[] = "cannot record the end of the job run";
	sqlite3_stmt *s;

	if (mc_state_prepare(st, "UPDATE job_runs SET ended = ?2, status = ?3,"
			     " exit_code = ?4, signal = ?5, output = ?6,"
			     " output_total = ?7, message = ?8 WHERE id = ?1",
			     &s, what, err) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_double(s, 2, ended);
	mc_state_bind_text(s, 3, status);
	if (exit_code >= 0)
		sqlite3_bind_int(s, 4, exit_code);
	else
		sqlite3_bind_null(s, 4);
	if (signal > 0)
		sqlite3_bind_int(s, 5, signal);
	else
		sqlite3_bind_null(s, 5);
	if (output_len > 0)
		sqlite3_bind_blob64(s, 6, output, output_len, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, 6);
	sqlite3_bind_int64(s, 7, output_total);
	mc_state_bind_text(s, 8, message);
	return mc_state_exec_stmt(st, s, what, err);
}

#define RUN_COLS "id, job, started, ended, status, exit_code, signal, pid," \
		 " host, command, message, correlation_id, output_total"

static void read_run(sqlite3_stmt *s, struct mc_job_run *r)
{
	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(s, 0);
	r->job = mc_state_column_dup(s, 1);
	r->started = sqlite3_column_double(s, 2);
	r->ended = mc_state_column_or(s, 3, 0);
	r->status = mc_state_column_dup(s, 4);
	if (r->status == NULL)
		r->status = mc_strdup("unknown");
	r->exit_code = (int)mc_state_column_or(s, 5, -1);
	r->signal = sqlite3_column_int(s, 6);
	r->pid = (long)sqlite3_column_int64(s, 7);
	r->host = mc_state_column_dup(s, 8);
	r->command = mc_state_column_dup(s, 9);
	r->message = mc_state_column_dup(s, 10);
	r->correlation_id = mc_state_column_dup(s, 11);
	r->output_total = sqlite3_column_int64(s, 12);
}

void mc_job_run_release(struct mc_job_run *r)
{
	if (r == NULL)
		return;
	free(r->job);
	free(r->status);
	free(r->host);
	free(r->command);
	free(r->message);
	free(r->correlation_id);
	free(r->output);
	memset(r, 0, sizeof(*r));
}

static void run_row(sqlite3_stmt *s, void *element, void *ctx)
{
	(void)ctx;
	read_run(s, element);
}

static void run_release(void *element)
{
	mc_job_run_release(element);
}

void mc_job_runs_free(struct mc_job_run *r, size_t n)
{
	mc_array_free(r, n, sizeof(*r), run_release);
}

int mc_job_runs(struct mc_state *st, const char *job, double since, int limit,
		struct mc_job_run **out, size_t *n, struct mc_err *err)
{
	void *rows;
	int rc = mc_state_recent(st, "SELECT " RUN_COLS " FROM job_runs WHERE"
				 " job = ?1 AND (?2 <= 0 OR started >= ?2)"
				 " ORDER BY started DESC, id DESC LIMIT ?3",
				 job, since, limit, sizeof(struct mc_job_run),
				 run_row, run_release, &rows, n,
				 "cannot list job runs", err);

	*out = rows;
	return rc;
}

/* One run selected by sql (?1 job, ?2 id, ?3 now); 1 found, 0 not. */
static int get_run(struct mc_state *st, const char *sql, const char *job,
		   int64_t id, double now, int with_output,
		   struct mc_job_run *out, struct mc_err *err)
{
	static const char what[] = "cannot read the job run";
	sqlite3_stmt *s;
	int rc, found = 0;

	memset(out, 0, sizeof(*out));
	if (mc_state_prepare(st, sql, &s, what, err) < 0)
		return -1;
	mc_state_bind_text(s, 1, job);
	sqlite3_bind_int64(s, 2, id);
	sqlite3_bind_double(s, 3, now);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		read_run(s, out);
		if (with_output && sqlite3_column_type(s, 13) == SQLITE_BLOB) {
			int len = sqlite3_column_bytes(s, 13);

			out->output = mc_malloc((size_t)len + 1);
			memcpy(out->output, sqlite3_column_blob(s, 13),
			       (size_t)len);
			out->output[len] = 0;
			out->output_len = (size_t)len;
		}
		found = 1;
	} else if (rc != SQLITE_DONE) {
		mc_state_sqlerr(st, err, what);
		sqlite3_finalize(s);
		return -1;
	}
	sqlite3_finalize(s);
	return found;
}

int mc_job_run_get(struct mc_state *st, const char *job, int64_t id,
		   struct mc_job_run *out, struct mc_err *err)
{
	return get_run(st, id ? "SELECT " RUN_COLS ", output FROM job_runs"
		       " WHERE job = ?1 AND id = ?2" :
		       "SELECT " RUN_COLS ", output FROM job_runs WHERE job ="
		       " ?1 AND status NOT IN ('running', 'skipped')"
		       " ORDER BY started DESC, id DESC LIMIT 1",
		       job, id, 0, 1, out, err);
}

/* ---- verdicts ----------------------------------------------------------- */

const char *mc_job_verdict_name(int v)
{
	switch (v) {
	case MC_JOB_RUNNING: return "running";
	case MC_JOB_FAILED: return "failed";
	case MC_JOB_OVERDUE: return "overdue";
	case MC_JOB_LATE: return "running";
	default: return "ok";
	}
}

void mc_job_status_release(struct mc_job_status *s)
{
	if (s == NULL)
		return;
	mc_job_run_release(&s->last);
	mc_job_run_release(&s->running);
	free(s->message);
	memset(s, 0, sizeof(*s));
}

/* A double from a one-value query (?1 job, ?2 now), 0 when NULL. */
static int query_time(struct mc_state *st, const char *sql, const char *job,
		      double now, double *out, struct mc_err *err)
{
	static const char what[] = "cannot read the job's runs";
	sqlite3_stmt *s;
	int rc;

	*out = 0;
	if (mc_state_prepare(st, sql, &s, what, err) < 0)
		return -1;
	mc_state_bind_text(s, 1, job);
	sqlite3_bind_double(s, 2, now);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
		*out = sqlite3_column_double(s, 0);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return mc_state_sqlerr(st, err, what);
	return 0;
}

int mc_job_select_known(const struct mc_conf *conf, struct mc_state *st,
			const char *const *names, size_t n_names,
			struct mc_job_def **out, size_t *n,
			struct mc_err *err)
{
	const char **cfg = mc_calloc(n_names + 1, sizeof(*cfg));
	const char **adhoc = mc_calloc(n_names + 1, sizeof(*adhoc));
	size_t n_cfg = 0, n_adhoc = 0;
	int rc = -1;

	*out = NULL;
	*n = 0;
	for (size_t i = 0; i < n_names; i++) {
		const char *name = names[i];
		size_t k;
		double last;

		if (mc_conf_find(conf, "job", name) != NULL) {
			cfg[n_cfg++] = name;
			continue;
		}
		for (k = 0; k < n_adhoc && strcmp(adhoc[k], name) != 0; k++)
			;
		if (k < n_adhoc)
			continue;
		if (query_time(st, "SELECT MAX(started) FROM job_runs WHERE"
			       " job = ?1 AND ?2 = ?2", name, 0, &last, err) < 0)
			goto out;
		if (last <= 0) {
			/* the usual error, with its suggestion */
			if (mc_job_select(conf, &name, 1, out, n, err) == 0) {
				mc_job_defs_free(*out, *n);
				MC_BUG("job '%s' both unknown and configured",
				       name);
			}
			goto out;
		}
		adhoc[n_adhoc++] = name;
	}
	/* with names given and none configured, select no section */
	if ((n_names == 0 || n_cfg > 0) &&
	    mc_job_select(conf, cfg, n_cfg, out, n, err) < 0)
		goto out;
	if (n_adhoc > 0) {
		*out = mc_realloc(*out, (*n + n_adhoc) * sizeof(**out));
		for (size_t i = 0; i < n_adhoc; i++)
			mc_job_def_default(adhoc[i], &(*out)[(*n)++]);
	}
	rc = 0;
out:
	free((void *)cfg);
	free((void *)adhoc);
	return rc;
}

int mc_job_select_all(const struct mc_conf *conf, struct mc_state *st,
		      struct mc_job_def **out, size_t *n, struct mc_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if (mc_job_select(conf, NULL, 0, out, n, err) < 0)
		return -1;
	if (mc_state_prepare(st, "SELECT DISTINCT job FROM job_runs ORDER BY"
			     " job", &s, "job runs", err) < 0)
		goto fail;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(s, 0);

		if (name == NULL || mc_conf_find(conf, "job", name) != NULL)
			continue;
		*out = mc_realloc(*out, (*n + 1) * sizeof(**out));
		mc_job_def_default(name, &(*out)[(*n)++]);
	}
	sqlite3_finalize(s);
	if (rc == SQLITE_DONE)
		return 0;
	mc_state_sqlerr(st, err, "job runs");
fail:
	mc_job_defs_free(*out, *n);
	*out = NULL;
	*n = 0;
	return -1;
}

int mc_job_metrics_all(const struct mc_conf *conf, struct mc_state *st,
		       double now, struct mc_buf *prom, struct mc_err *err)
{
	struct mc_job_def *defs = NULL;
	struct mc_job_status *sts;
	size_t n = 0, done = 0;
	int rc = -1;

	if (mc_state_begin(st, err) < 0)
		return -1;
	if (mc_job_select_all(conf, st, &defs, &n, err) < 0) {
		mc_state_rollback(st);
		return -1;
	}
	/* judged first, written after: the families stay one group each */
	sts = mc_calloc(n ? n : 1, sizeof(*sts));
	for (; done < n; done++)
		if (mc_job_evaluate(st, &defs[done], now, &sts[done], err) < 0)
			break;
	if (done == n && mc_state_commit(st, err) == 0) {
		for (size_t i = 0; i < n; i++)
			mc_job_metrics(&sts[i], prom);
		rc = 0;
	}
	mc_state_rollback(st);
	for (size_t i = 0; i < done; i++)
		mc_job_status_release(&sts[i]);
	free(sts);
	mc_job_defs_free(defs, n);
	return rc;
}

/* Whether the mercuryctl that recorded a running run is still there: it
 * is gone when it ran on this host and its pid is no more. */
static int run_alive(const struct mc_job_run *r)
{
	char host[256];

	mc_hostname(host, sizeof(host));
	if (r->pid <= 0 || !mc_streq(r->host, host))
		return 1;
	return !(kill((pid_t)r->pid, 0) < 0 && errno == ESRCH);
}

static void ago(double secs, char *buf, size_t n)
{
	mc_format_duration((int64_t)(secs < 0 ? 0 : secs) * 1000, buf, n);
}

static char *ended_how(const struct mc_job_run *r)
{
	if (mc_streq(r->status, "timeout"))
		return mc_strdup("timed out");
	if (mc_streq(r->status, "interrupted"))
		return mc_strdup("interrupted");
	if (mc_streq(r->status, "lost"))
		return mc_asprintf("ended without a record (mercuryctl pid %ld "
				   "is gone)", r->pid);
	if (r->signal > 0)
		return mc_asprintf("killed by signal %d (%s)", r->signal,
				   strsignal(r->signal));
	if (r->exit_code >= 0)
		return mc_asprintf("exit %d", r->exit_code);
	return mc_strdup(r->message ? r->message : r->status);
}

int mc_job_evaluate(struct mc_state *st, const struct mc_job_def *def,
		    double now, struct mc_job_status *out, struct mc_err *err)
{
	static const char what[] = "cannot note the job";
	const char *job = def->name;
	double first_seen = 0, first_run = 0, last_start = 0, anchor;
	sqlite3_stmt *s;
	char d1[32], d2[32];
	int running;

	memset(out, 0, sizeof(*out));
	out->def = def;
	if (mc_state_prepare(st, "INSERT OR IGNORE INTO job_seen (job,"
			     " first_seen) VALUES (?1, ?2)", &s, what, err) < 0)
		return -1;
	mc_state_bind_text(s, 1, job);
	sqlite3_bind_double(s, 2, mc_wall_now());
	if (mc_state_exec_stmt(st, s, what, err) < 0 ||
	    query_time(st, "SELECT first_seen FROM job_seen WHERE job = ?1"
		       " AND ?2 = ?2", job, now, &first_seen, err) < 0 ||
	    query_time(st, "SELECT MIN(started) FROM job_runs WHERE job = ?1"
		       " AND ?2 = ?2", job, now, &first_run, err) < 0 ||
	    query_time(st, "SELECT MAX(started) FROM job_runs WHERE job = ?1"
		       " AND started <= ?2", job, now, &last_start, err) < 0 ||
	    query_time(st, "SELECT MAX(started) FROM job_runs WHERE job = ?1"
		       " AND status = 'ok' AND started <= ?2", job, now,
		       &out->last_success, err) < 0)
		goto fail;
	anchor = first_seen;
	if (first_run > 0 && (anchor <= 0 || first_run < anchor))
		anchor = first_run;
	if ((running = get_run(st, "SELECT " RUN_COLS " FROM job_runs WHERE"
			       " job = ?1 AND status = 'running' AND started"
			       " <= ?3 AND ?2 = ?2 ORDER BY started DESC, id"
			       " DESC LIMIT 1", job, 0, now, 0, &out->running,
			       err)) < 0 ||
	    get_run(st, "SELECT " RUN_COLS " FROM job_runs WHERE job = ?1"
		    " AND status NOT IN ('running', 'skipped') AND started <="
		    " ?3 AND ?2 = ?2 ORDER BY started DESC, id DESC LIMIT 1",
		    job, 0, now, 0, &out->last, err) < 0)
		goto fail;
	/* A run whose mercuryctl is gone ended without a record. */
	if (running && !run_alive(&out->running)) {
		if (out->last.id == 0 || out->last.started <= out->running.started) {
			mc_job_run_release(&out->last);
			out->last = out->running;
			free(out->last.status);
			out->last.status = mc_strdup("lost");
		} else {
			mc_job_run_release(&out->running);
		}
		memset(&out->running, 0, sizeof(out->running));
		running = 0;
	}

	/* The expected start missed, and the next one. */
	if (def->cron) {
		int64_t e = mc_cron_prev(def->cron,
					 (int64_t)(now - def->grace_ms / 1e3));

		if (e > 0 && e >= anchor && last_start < e - EARLY_START_S)
			out->missed = (double)e;
		out->next = (double)mc_cron_next(def->cron, (int64_t)now);
	} else if (def->every_ms > 0) {
		double base = last_start > 0 ? last_start : anchor;

		out->next = base + def->every_ms / 1e3;
		if (now > out->next + def->grace_ms / 1e3)
			out->missed = out->next;
	}

	out->verdict = MC_JOB_OK;
	out->status = MC_ST_OK;
	if (running && def->timeout_ms > 0 &&
	    now - out->running.started > def->timeout_ms / 1e3) {
		ago(now - out->running.started, d1, sizeof(d1));
		mc_format_duration(def->timeout_ms, d2, sizeof(d2));
		out->verdict = MC_JOB_LATE;
		out->status = MC_ST_CRITICAL;
		out->message = mc_asprintf("running for %s, past its timeout "
					   "%s", d1, d2);
	} else if (out->missed > 0 && !running) {
		char t[40];

		mc_format_time(out->missed, t, sizeof(t));
		ago(now - out->missed, d1, sizeof(d1));
		out->verdict = MC_JOB_OVERDUE;
		out->status = MC_ST_CRITICAL;
		out->message = mc_asprintf("overdue: expected to start at %s "
					   "(%s ago), no start since", t, d1);
	} else if (out->last.id && !mc_streq(out->last.status, "ok")) {
		char *how = ended_how(&out->last);

		out->verdict = MC_JOB_FAILED;
		out->status = mc_streq(out->last.status, "interrupted") ?
			      MC_ST_WARNING : MC_ST_CRITICAL;
		out->message = mc_asprintf("last run failed: %s%s", how,
					   running ? "; running again" : "");
		free(how);
	} else if (running) {
		ago(now - out->running.started, d1, sizeof(d1));
		out->verdict = MC_JOB_RUNNING;
		out->message = mc_asprintf("running for %s", d1);
	} else if (out->last.id) {
		ago(now - out->last.started, d1, sizeof(d1));
		out->message = mc_asprintf("last run ok, %s ago", d1);
	} else {
		out->message = mc_strdup("no run recorded yet");
	}
	return 0;
fail:
	mc_job_status_release(out);
	return -1;
}

/* ---- reports ------------------------------------------------------------ */

static void fmt_when(double t, double now, int future, char *buf, size_t n)
{
	char d[24];

	if (t <= 0) {
		snprintf(buf, n, "-");
		return;
	}
	ago(future ? t - now : now - t, d, sizeof(d));
	snprintf(buf, n, future ? "in %s" : "%s ago", d);
}

static json_t *time_json(double t)
{
	char buf[40];

	if (t <= 0)
		return json_null();
	mc_format_time(t, buf, sizeof(buf));
	return mc_json_str(buf);
}

json_t *mc_job_run_json(const struct mc_job_run *r)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_integer(r->id));
	json_object_set_new(o, "started", time_json(r->started));
	json_object_set_new(o, "ended", time_json(r->ended));
	json_object_set_new(o, "duration_seconds", r->ended > 0 ?
			    json_real(r->ended - r->started) : json_null());
	json_object_set_new(o, "status", mc_json_str(r->status));
	json_object_set_new(o, "exit_code", r->exit_code >= 0 ?
			    json_integer(r->exit_code) : json_null());
	json_object_set_new(o, "signal", r->signal > 0 ?
			    json_integer(r->signal) : json_null());
	json_object_set_new(o, "pid", json_integer(r->pid));
	json_object_set_new(o, "host", r->host ? mc_json_str(r->host) :
			    json_null());
	json_object_set_new(o, "output_total", json_integer(r->output_total));
	json_object_set_new(o, "correlation_id", mc_json_str(r->correlation_id));
	json_object_set_new(o, "message", mc_json_str(r->message));
	return o;
}

void mc_job_metrics(const struct mc_job_status *s, struct mc_buf *prom)
{
	char *name = mc_prom_label(s->def->name);
	char *labels = mc_asprintf("job=\"%s\"", name);

	if (s->last_success > 0)
		mc_prom_sample(prom, "mercury_job_last_success_timestamp_seconds",
			       "gauge", "When the job's last successful run "
			       "started (Unix time).", labels, s->last_success);
	if (s->last.id) {
		int code = s->last.exit_code >= 0 ? s->last.exit_code :
			   s->last.signal > 0 ? 128 + s->last.signal : -1;

		mc_prom_sample(prom, "mercury_job_last_exit_code", "gauge",
			       "Exit code of the job's last run (128+N: signal "
			       "N, -1: none).", labels, code);
		if (s->last.ended > 0)
			mc_prom_sample(prom, "mercury_job_duration_seconds",
				       "gauge", "How long the job's last run "
				       "took.", labels,
				       s->last.ended - s->last.started);
	}
	mc_prom_sample(prom, "mercury_job_running", "gauge", "1 while the job "
		       "runs.", labels, s->running.id ? 1 : 0);
	mc_prom_sample(prom, "mercury_job_overdue", "gauge", "1 when an "
		       "expected start passed more than grace ago without a "
		       "start.", labels, s->verdict == MC_JOB_OVERDUE);
	free(labels);
	free(name);
}

/* The jobs that are not ok, named with their state ("nightly overdue,
 * sync failed"), into b; how many are ok. */
static size_t not_ok(const struct mc_job_status *st, size_t n,
		     struct mc_buf *b)
{
	size_t ok = 0;

	for (size_t i = 0; i < n; i++) {
		const struct mc_job_status *s = &st[i];

		if (s->status == MC_ST_OK) {
			ok++;
			continue;
		}
		mc_buf_printf(b, "%s%s %s", b->len ? ", " : "", s->def->name,
			      s->verdict == MC_JOB_LATE ? "running-late" :
			      mc_job_verdict_name(s->verdict));
	}
	return ok;
}

/* `job list -o nagios`: "JOBS CRITICAL - nightly overdue, sync failed |
 * nightly_duration=12.5s ...", the jobs that are not ok named with their
 * state, the duration of each job's last finished run as perfdata. */
static char *nagios_line(const struct mc_job_status *st, size_t n, int worst)
{
	struct mc_buf line = { 0 }, bad = { 0 }, perf = { 0 };
	size_t ok = not_ok(st, n, &bad);
	char *out;

	for (size_t i = 0; i < n; i++) {
		const struct mc_job_status *s = &st[i];
		char num[40];

		if (!s->last.id || s->last.ended <= 0)
			continue;
		mc_format_number(s->last.ended - s->last.started, num,
				 sizeof(num));
		mc_buf_puts(&perf, " ");
		mc_perf_label(&perf, s->def->name, "_duration");
		mc_buf_printf(&perf, "=%ss", num);
	}
	mc_buf_printf(&line, "JOBS %s - ", mc_status_word(worst));
	if (ok == n)
		mc_buf_printf(&line, "%zu of %zu jobs ok", ok, n);
	else
		mc_buf_puts(&line, bad.data);
	/* a '|' would start the perfdata */
	for (char *c = line.data; *c; c++)
		if (*c == '|')
			*c = '/';
	if (perf.len)
		mc_buf_printf(&line, " |%s", perf.data);
	out = mc_escape(line.data, line.len);
	mc_buf_release(&line);
	mc_buf_release(&bad);
	mc_buf_release(&perf);
	return out;
}

int mc_job_list_report(const struct mc_job_status *st, size_t n, double now,
		       struct mc_report *r)
{
	static const char *const headers[] = {
		"JOB", "SCHEDULE", "LAST START", "DURATION", "LAST", "LAST OK",
		"NEXT", "STATE", "MESSAGE",
	};
	struct mc_table *t = mc_table_new(MC_ARRAY_LEN(headers), headers);
	json_t *arr = json_array();
	int worst = 0;

	json_object_set_new(r->doc, "jobs", arr);
	for (size_t i = 0; i < n; i++) {
		const struct mc_job_status *s = &st[i];
		const struct mc_job_def *d = s->def;
		const struct mc_job_run *last = s->running.id ? &s->running :
						&s->last;
		char sched[64], start[40], dur[32], ok[40], next[40];
		const char *state = s->verdict == MC_JOB_LATE ?
				    "running-late" : mc_job_verdict_name(s->verdict);
		const char *sch = d->schedule;
		json_t *o = json_object();
		const char *cells[9];

		if (sch)
			snprintf(sched, sizeof(sched), "%s", sch);
		else if (d->every_ms > 0) {
			char e[32];

			mc_format_duration(d->every_ms, e, sizeof(e));
			snprintf(sched, sizeof(sched), "every %s", e);
		} else
			snprintf(sched, sizeof(sched), "-");
		fmt_when(last->id ? last->started : 0, now, 0, start,
			 sizeof(start));
		if (last->id && last->ended > 0)
			mc_format_duration((int64_t)((last->ended -
						      last->started) * 1e3),
					   dur, sizeof(dur));
		else if (last->id)
			ago(now - last->started, dur, sizeof(dur));
		else
			snprintf(dur, sizeof(dur), "-");
		fmt_when(s->last_success, now, 0, ok, sizeof(ok));
		fmt_when(s->next, now, 1, next, sizeof(next));
		cells[0] = d->name;
		cells[1] = sched;
		cells[2] = start;
		cells[3] = dur;
		cells[4] = last->id ? last->status : "-";
		cells[5] = ok;
		cells[6] = next;
		cells[7] = state;
		cells[8] = s->message;	/* mc_table_row escapes cells */
		mc_table_row(t, cells);

		json_object_set_new(o, "job", mc_json_str(d->name));
		json_object_set_new(o, "schedule", mc_json_str(sch));
		json_object_set_new(o, "every_seconds", d->every_ms > 0 ?
				    json_real(d->every_ms / 1e3) : json_null());
		json_object_set_new(o, "state", mc_json_str(state));
		json_object_set_new(o, "status",
				    mc_json_str(mc_status_name(s->status)));
		json_object_set_new(o, "message", mc_json_str(s->message));
		json_object_set_new(o, "last_run", s->last.id ?
				    mc_job_run_json(&s->last) : json_null());
		json_object_set_new(o, "running", s->running.id ?
				    mc_job_run_json(&s->running) : json_null());
		json_object_set_new(o, "last_success", time_json(s->last_success));
		json_object_set_new(o, "next_expected", time_json(s->next));
		json_object_set_new(o, "missed_start", time_json(s->missed));
		json_object_set_new(o, "overdue",
				    json_boolean(s->verdict == MC_JOB_OVERDUE));
		json_array_append_new(arr, o);
		mc_job_metrics(s, &r->prom);
		if (s->status > worst)
			worst = s->status;
	}
	mc_table_render_or(t, &r->text, r->color, NULL,
			   "no [job \"NAME\"] section is configured\n");
	mc_table_free(t);
	json_object_set_new(r->doc, "status",
			    mc_json_str(mc_status_name(worst)));
	{
		struct mc_buf bad = { 0 };

		/* -q's one line names the jobs that are not ok */
		not_ok(st, n, &bad);
		r->summary = mc_asprintf("jobs: %s%s%s", mc_status_name(worst),
					 bad.len ? ": " : "",
					 bad.len ? bad.data : "");
		mc_buf_release(&bad);
	}
	if (n > 0)	/* none: no check result (UNKNOWN) */
		r->nagios = nagios_line(st, n, worst);
	return worst;
}
