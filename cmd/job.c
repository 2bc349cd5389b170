/* job.c - `mercuryctl job run|list|history|log` (mercuryctl-job(1)). */
#include "cmd.h"
#include "job.h"
#include "job_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- run ---------------------------------------------------------------- */

static int run_run(struct mc_ctx *ctx)
{
	const char *name = ctx->args->pos[0];
	struct mc_job_runner jr;
	int code;

	memset(&jr, 0, sizeof(jr));
	jr.conf = ctx->conf;
	jr.st = ctx->st;
	jr.name = name;
	jr.argv = ctx->args->n_pos > 1 ? ctx->args->pos + 1 : NULL;
	jr.correlation_id = ctx->correlation_id;
	jr.run_id = ctx->run_id;
	jr.wait_lock = mc_args_value(ctx->args, "wait-lock");
	/* A job is bounded by its own timeout, not by [core] timeout: only
	 * an explicit --timeout is a deadline for it. */
	if (mc_args_value(ctx->args, "timeout") == NULL)
		mc_deadline_set(&ctx->dl, 0);
	jr.dl = &ctx->dl;
	jr.http = NULL;
	jr.coord = ctx->coord;
	/* -o json, prom, nagios: stdout holds the one rendering, and the
	 * job's stdout goes to stderr, where cron's mail still gets it */
	jr.stdout_to_stderr = ctx->format != MC_FMT_TEXT;
	code = mc_job_runner_run(&jr, &ctx->report, &ctx->err);
	/* a reader that went away (| head) ends the run quietly, with the
	 * job's own status, as the job alone in the pipeline would */
	if (code >= 0 && !jr.ok && !mc_interrupted && !jr.output_gone) {
		struct mc_report *r = &ctx->report;
		char d[32];

		mc_format_duration((int64_t)(jr.duration_s * 1e3), d, sizeof(d));
		if (strstr(jr.how, "timed out") || strstr(jr.how, "deadline"))
			r->summary = mc_asprintf("job %s: %s (run %lld)", name,
						 jr.how,
						 (long long)jr.job_run_id);
		else
			r->summary = mc_asprintf("job %s: %s after %s (run "
						 "%lld)", name, jr.how, d,
						 (long long)jr.job_run_id);
		/* the line on stderr; with -q main() prints it (and the
		 * Nagios line says it) */
		if (!(ctx->quiet && ctx->format == MC_FMT_TEXT))
			fprintf(stderr, "mercuryctl: %s\n", r->summary);
	}
	/* The job's metrics follow the run only where they go somewhere:
	 * judging the job costs queries a bare cron run can do without.
	 * (--textfile-dir writes every job's, from job_metrics_view.) */
	if (jr.ran && (ctx->format == MC_FMT_PROM ||
		       mc_args_value(ctx->args, "pushgateway"))) {
		struct mc_job_status s;
		struct mc_err e = { 0 };

		if (mc_job_evaluate(ctx->st, &jr.def, mc_wall_now(), &s, &e) == 0)
			mc_job_metrics(&s, &ctx->report.prom);
		mc_job_status_release(&s);
	}
	if (jr.needs_http) {
		/* notify: deliveries need the shared client */
		jr.http = mc_ctx_http(ctx);
		if (jr.http)
			mc_job_runner_notify(&jr, &ctx->report);
	}
	mc_job_runner_release(&jr);
	return code;
}

static const struct mc_cmd mc_cmd_job_run = {
	.name = "run",
	.summary = "Run a job: record it, time it out, pass its output through",
	.args = "NAME [-- COMMAND [ARG...]]",
	.description =
	"Runs the job's command (the [job \"NAME\"] section's command, or "
	"COMMAND given after --, which also serves for a job that has no "
	"section) without a shell, in a process group of its own. Its "
	"standard output and standard error pass through unchanged, so the "
	"mail cron sends still carries them, and their last keep_output bytes "
	"(64KiB; both streams in the order they came) are kept with the run. "
	"The start is recorded in the state file before the command starts, "
	"so a run that never ends is seen by job list; then the end, the exit "
	"status or signal, the duration and the output tail.\n\n"
	"With -o json, prom or nagios the job's standard output goes to "
	"mercuryctl's standard error instead (cron's mail still carries it), "
	"so that standard output holds only the one rendering of the run: "
	"one JSON document (job, run, status, exit_code, duration_seconds), "
	"the exposition, or the UNKNOWN line of a command without a check "
	"result. -q does not silence the job: its output is its own.\n\n"
	"The exit status is the command's; 124 when its timeout (or an "
	"explicit --timeout) ended it, as timeout(1) does; 128+N when signal "
	"N killed it; 75 when it was skipped for overlap; 130 or 143 when "
	"mercuryctl itself got SIGINT or SIGTERM (the run is recorded as "
	"interrupted). A timeout or a signal reaches the job's whole process "
	"tree - its process group, and through a child subreaper the "
	"descendants that left it with setsid - with SIGTERM, then SIGKILL "
	"after kill_grace (10s); nothing of it is left running. The "
	"configuration's [core] timeout does not apply to job run.\n\n"
	"A reader that goes away (job run NAME | head) is passed on: the "
	"job's own pipe is closed, as it would be in the pipeline without "
	"job run, so a job that writes on gets SIGPIPE (exit 141, recorded "
	"as killed by signal 13) instead of running on unread, and nothing "
	"is said on standard error.\n\n"
	"overlap decides what happens when the job's previous run still "
	"holds its lock: skip (the default) records a skipped run and exits "
	"75 at once; wait waits for it, up to --wait-lock or else the job's "
	"timeout, then exits 75; allow runs both. With a [fleet] section "
	"(mercuryctl-fleet(1)) the lock holds fleet-wide, renewed while the "
	"job runs: a job scheduled on every host runs once, the other hosts "
	"skip (or wait); when the fleet's Redis cannot be reached the lock "
	"is this host's alone, as without a fleet.\n\n"
	"With notify = true (or a list of webhook names) a failed run - an "
	"exit code not in success_codes, a signal, a timeout - sends one "
	"critical alert, \"job NAME failed\", whose identity is the job's, "
	"so further failures do not alert again; the next successful run "
	"resolves it. With -o prom the job's metrics follow the run (see job "
	"list); with --textfile-dir DIR every job's are written to "
	"DIR/mercuryctl_job.prom (see mercuryctl(1), FILES).",
	.needs = MC_NEED_CONFIG | MC_NEED_STATE,
	.min_args = 1,
	.max_args = -1,
	.max_before_dashdash = 1,
	.complete_section = "job",
	.run = run_run,
};

/* ---- list --------------------------------------------------------------- */

static int at_time(struct mc_ctx *ctx, double *now)
{
	const char *at = mc_args_value(ctx->args, "at");
	struct mc_err e = { 0 };

	*now = mc_wall_now();
	if (at != NULL && mc_parse_time(at, now, &e) < 0)
		return mc_err_set(&ctx->err, MC_EXIT_USAGE, "%s: --at: %s",
				  ctx->command, e.msg);
	return 0;
}

static int list_run(struct mc_ctx *ctx)
{
	struct mc_job_def *defs = NULL;
	struct mc_job_status *st;
	size_t n = 0;
	double now;
	int code;

	if (at_time(ctx, &now) < 0 ||
	    mc_job_select_known(ctx->conf, ctx->st,
				(const char *const *)ctx->args->pos,
				(size_t)ctx->args->n_pos, &defs, &n,
				&ctx->err) < 0)
		return -1;
	st = mc_calloc(n ? n : 1, sizeof(*st));
	for (size_t i = 0; i < n; i++) {
		if (mc_job_evaluate(ctx->st, &defs[i], now, &st[i],
				    &ctx->err) < 0) {
			for (size_t k = 0; k < i; k++)
				mc_job_status_release(&st[k]);
			free(st);
			mc_job_defs_free(defs, n);
			return -1;
		}
	}
	code = mc_job_list_report(st, n, now, &ctx->report);
	for (size_t i = 0; i < n; i++)
		mc_job_status_release(&st[i]);
	free(st);
	mc_job_defs_free(defs, n);
	return code;
}

static const struct mc_opt list_opts[] = {
	{ 0, "at", "TIME", MC_OPT_VALUE, MC_ARG_STRING, NULL,
	  "Judge as of TIME (RFC 3339 or Unix seconds; a time to come says "
	  "what will be overdue then) instead of now", 0 },
	{ 0 },
};

static const struct mc_cmd mc_cmd_job_list = {
	.name = "list",
	.summary = "Show each job: last run, last success, next start, verdict",
	.args = "[JOB...]",
	.description =
	"For each [job \"NAME\"] section (or the named ones) shows the "
	"schedule, the last run (start, duration, status), the last "
	"success, the next expected start and the verdict. A job named "
	"here that has no section but has recorded runs (one run as job "
	"run NAME -- COMMAND) is shown too, with no schedule, so never "
	"overdue; a name with neither is a usage error (64). The "
	"verdicts:\n\n"
	"overdue (critical): an expected start passed more than grace ago "
	"and the job has not started since (a start up to a minute early "
	"counts, a skipped start counts: cron did start it). Expected "
	"starts are counted from the moment mercuryctl first saw the job "
	"(or its first recorded run), so a new job is not overdue for "
	"starts before it existed. With every = DURATION the expected start "
	"is the last start plus DURATION.\n\n"
	"running: the job runs now, for how long; critical and shown as "
	"running-late past its timeout. A run whose mercuryctl is gone "
	"from this host (killed with SIGKILL, a reboot) counts as a failed "
	"run that ended without a record.\n\n"
	"failed (critical; warning when interrupted): the last run did not "
	"succeed.\n\n"
	"ok: none of these.\n\n"
	"The exit code is the worst: 2 critical, 1 warning, 0 ok. A health "
	"check of type job (job = NAME) gives the same verdict, so the cron "
	"entry that runs mercuryctl health is the dead-man switch for every "
	"job. With -o prom (the jobs listed) or --textfile-dir (every job, "
	"configured or known by its runs, in DIR/mercuryctl_job.prom, "
	"whichever job subcommand ran): "
	"mercury_job_last_success_timestamp_seconds, "
	"mercury_job_last_exit_code (128+N for signal N), "
	"mercury_job_duration_seconds, mercury_job_running and "
	"mercury_job_overdue, each labelled job=\"NAME\". With -o nagios "
	"it is a plugin: JOBS CRITICAL - nightly overdue, with each job's "
	"last duration as perfdata (NAME_duration), exit 0-3.\n\n"
	"Schedules are Vixie cron expressions as cronie reads them: minute "
	"(0-59), hour (0-23), day of month (1-31), month (1-12 or jan-dec), "
	"day of week (0-7 or sun-sat, 0 and 7 both Sunday); each a list of "
	"*, N, N-M, N-M/S or */S; when both day fields are restricted (none "
	"starts with *) a day matches if either does, else both must. "
	"@yearly, @annually, @monthly, @weekly, @daily, @midnight and "
	"@hourly stand for their usual expressions; @reboot and random "
	"ranges (~) are refused, as they have no expected start. Times are "
	"local ($TZ, else /etc/localtime) unless the expression starts with "
	"CRON_TZ=Zone. Daylight saving follows cronie's cron(8): a job at a "
	"fixed time (neither minute nor hour starts with *) that the clock "
	"skips forward over is expected at the jump, and once when the clock "
	"goes back; a job whose minute or hour starts with * is expected at "
	"every local time that happens. A bad expression is a configuration "
	"error (exit 78) naming the field.",
	.opts = list_opts,
	.needs = MC_NEED_CONFIG | MC_NEED_STATE,
	.max_args = -1,
	.complete_section = "job",
	.run = list_run,
};

/* ---- history ------------------------------------------------------------ */

/* The job named on the command line: configured, or known from its runs
 * (a job run given its command after --). */
static int known_job(struct mc_ctx *ctx, const char *name)
{
	struct mc_job_def *defs = NULL;
	size_t n = 0;

	if (mc_job_select_known(ctx->conf, ctx->st, &name, 1, &defs, &n,
				&ctx->err) < 0)
		return -1;
	mc_job_defs_free(defs, n);
	return 0;
}

static int history_run(struct mc_ctx *ctx)
{
	static const char *const headers[] = {
		"ID", "STARTED", "DURATION", "STATUS", "EXIT", "OUTPUT",
		"MESSAGE",
	};
	const char *name = ctx->args->pos[0];
	double now = mc_wall_now(), since = mc_ctx_since(ctx, 0, now);
	long long limit = mc_args_int(ctx->args, "limit", 20);
	struct mc_job_run *runs = NULL;
	size_t n = 0;
	struct mc_table *t;
	json_t *arr;

	if (known_job(ctx, name) < 0 ||
	    mc_job_runs(ctx->st, name, since, (int)limit, &runs, &n,
			&ctx->err) < 0)
		return -1;
	t = mc_table_new(MC_ARRAY_LEN(headers), headers);
	arr = json_array();
	json_object_set_new(ctx->report.doc, "job", mc_json_str(name));
	json_object_set_new(ctx->report.doc, "runs", arr);
	for (size_t i = 0; i < n; i++) {
		const struct mc_job_run *r = &runs[i];
		char id[24], start[40], dur[32], code[24], out[24];
		const char *cells[7];

		snprintf(id, sizeof(id), "%lld", (long long)r->id);
		mc_format_time(r->started, start, sizeof(start));
		if (r->ended > 0)
			mc_format_duration((int64_t)((r->ended - r->started) *
						     1e3), dur, sizeof(dur));
		else
			snprintf(dur, sizeof(dur), "-");
		if (r->signal > 0)
			snprintf(code, sizeof(code), "signal %d", r->signal);
		else if (r->exit_code >= 0)
			snprintf(code, sizeof(code), "%d", r->exit_code);
		else
			snprintf(code, sizeof(code), "-");
		snprintf(out, sizeof(out), "%lldB", (long long)r->output_total);
		cells[0] = id;
		cells[1] = start;
		cells[2] = dur;
		cells[3] = r->status;
		cells[4] = code;
		cells[5] = out;
		cells[6] = r->message ? r->message : "";
		mc_table_row(t, cells);
		json_array_append_new(arr, mc_job_run_json(r));
	}
	mc_table_render_or(t, &ctx->report.text, ctx->color, NULL,
			   "no runs recorded\n");
	mc_table_free(t);
	mc_job_runs_free(runs, n);
	return 0;
}

static const struct mc_opt history_opts[] = {
	{ 0, "since", "DURATION", MC_OPT_VALUE, MC_ARG_DURATION, NULL,
	  "Only runs that started within DURATION (default: all kept)", 0 },
	{ 'n', "limit", "N", MC_OPT_VALUE, MC_ARG_INT, "1..1000000",
	  "Show at most N runs, newest first (default 20; 1 to 1000000)",
	  0 },
	{ 0 },
};

static const struct mc_cmd mc_cmd_job_history = {
	.name = "history",
	.summary = "Show a job's recorded runs, newest first",
	.args = "NAME",
	.description =
	"Lists the job's runs: id (for job log), start, duration, status "
	"(running, ok, failed, timeout, interrupted, skipped), exit code or "
	"signal, how much output the command wrote, and a message. Runs are "
	"kept for [core] history (30d); a job's newest run and newest "
	"success are kept however old.",
	.opts = history_opts,
	.needs = MC_NEED_CONFIG | MC_NEED_STATE,
	.min_args = 1,
	.max_args = 1,
	.complete_section = "job",
	.run = history_run,
};

/* ---- log ---------------------------------------------------------------- */

static int log_run(struct mc_ctx *ctx)
{
	const char *name = ctx->args->pos[0];
	long long id = 0;
	struct mc_job_run r;
	char *text;
	int found;

	if (ctx->args->n_pos > 1 &&
	    mc_parse_int(ctx->args->pos[1], 1, INT64_MAX, &id, NULL) < 0)
		return mc_err_set(&ctx->err, MC_EXIT_USAGE, "job log: RUN_ID "
				  "must be a run's id (see job history), not "
				  "'%s'", ctx->args->pos[1]);
	if (known_job(ctx, name) < 0)
		return -1;
	if ((found = mc_job_run_get(ctx->st, name, id, &r, &ctx->err)) < 0)
		return -1;
	if (!found)
		return id ? mc_err_set(&ctx->err, MC_EXIT_USAGE, "job '%s' has "
				       "no run %lld", name, id) :
			    mc_err_set(&ctx->err, MC_EXIT_USAGE, "job '%s' has "
				       "no finished run yet", name);
	/* The output as lines, escaped (docs/DESIGN.md, Trust rules); in
	 * JSON whole, only what JSON cannot hold escaped. */
	text = mc_escape_lines(r.output ? (const char *)r.output : "",
			       r.output_len);
	mc_buf_puts(&ctx->report.text, text);
	if (r.output_len > 0 && r.output[r.output_len - 1] != '\n')
		mc_buf_puts(&ctx->report.text, "\n");
	json_object_set_new(ctx->report.doc, "job", mc_json_str(name));
	json_object_set_new(ctx->report.doc, "id", json_integer(r.id));
	json_object_set_new(ctx->report.doc, "status", mc_json_str(r.status));
	json_object_set_new(ctx->report.doc, "output",
			    mc_json_text(r.output ? (const char *)r.output : "",
					 r.output_len));
	json_object_set_new(ctx->report.doc, "output_kept",
			    json_integer((json_int_t)r.output_len));
	json_object_set_new(ctx->report.doc, "output_total",
			    json_integer(r.output_total));
	free(text);
	mc_job_run_release(&r);
	return 0;
}

static const struct mc_cmd mc_cmd_job_log = {
	.name = "log",
	.summary = "Print the output kept from a job's run",
	.args = "NAME [RUN_ID]",
	.description =
	"Prints the tail of standard output and standard error kept from "
	"the run RUN_ID (see job history), or from the newest run that "
	"ended: at most keep_output bytes, both streams in the order they "
	"came. As all untrusted text (mercuryctl(1)): control characters "
	"(but newline and tab) and bytes that are not UTF-8 are written as "
	"\\xNN, so the output of a job can never drive the terminal; with "
	"--json, output holds it whole, with only the bytes that are not "
	"UTF-8 written as \\xNN.",
	.needs = MC_NEED_CONFIG | MC_NEED_STATE,
	.min_args = 1,
	.max_args = 2,
	.complete_section = "job",
	.run = log_run,
};

/* ---- the command -------------------------------------------------------- */

static const struct mc_cmd *const job_subs[] = {
	&mc_cmd_job_run,
	&mc_cmd_job_list,
	&mc_cmd_job_history,
	&mc_cmd_job_log,
	NULL,
};

/* mercuryctl_job.prom: every job's state, whichever subcommand ran. */
static int job_metrics_view(struct mc_ctx *ctx, struct mc_buf *out,
			    struct mc_err *err)
{
	if (ctx->st == NULL)
		return 1;
	return mc_job_metrics_all(ctx->conf, ctx->st, mc_wall_now(), out, err);
}

static const struct mc_metric_family job_families[] = {
	{ "mercury_job_last_success_timestamp_seconds", NULL },
	{ "mercury_job_last_exit_code", NULL },
	{ "mercury_job_duration_seconds", NULL },
	{ "mercury_job_running", NULL },
	{ "mercury_job_overdue", NULL },
	{ NULL, NULL },
};

static const struct mc_metric_owner job_metrics = {
	.families = job_families,
	.view = job_metrics_view,
};

const struct mc_cmd mc_cmd_job = {
	.examples =
	"In the crontab, instead of the bare command: recorded, timed, "
	"alerting on failure:\n"
	"$ mercuryctl job run nightly-backup\n"
	"A job defined by its name only, its command after --:\n"
	"$ mercuryctl job run cleanup -- /usr/local/bin/cleanup --days 30\n"
	"Which jobs are overdue, running or failed:\n"
	"$ mercuryctl job list\n"
	"The last runs of a job, and the output of the latest:\n"
	"$ mercuryctl job history nightly-backup -n 10\n"
	"$ mercuryctl job log nightly-backup\n",
	.name = "job",
	.summary = "Keep cron jobs honest: run, record, time out, notice misses",
	.description =
	"A cron job's keeper. In the crontab, put mercuryctl job run NAME in "
	"front of the command (or configure the command in a [job \"NAME\"] "
	"section): each run is recorded with its output tail, timed out with "
	"its whole process tree, and alerted on when it fails. job list - "
	"or a health check of type job - notices the run that never "
	"happened, without a dead-man-switch service.",
	.subs = job_subs,
	.metrics = &job_metrics,
};
