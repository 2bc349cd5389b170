/* health.c - `mercuryctl health`: run the checks, report, record. */
#include "cmd.h"
#include "json.h"
#include "alert.h"
#include "health.h"
#include "health_history.h"
#include "notify.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Delivers the alert for one change; 0 when every webhook has it. */
static int notify_one(struct mc_ctx *ctx, const struct mc_notify_change *c,
		      const struct mc_webhook *whs, size_t nw, const char *host,
		      struct mc_report *r, json_t *arr)
{
	struct mc_alert a;
	struct mc_delivery *d = NULL;
	struct mc_alert_env env = { ctx->st, mc_ctx_http(ctx), &ctx->dl, NULL,
				    ctx->run_id, ctx->coord };
	struct mc_err e = { 0 };
	json_t *o;
	int code;

	if (env.http == NULL)
		return -1;
	mc_notify_alert(c, host, ctx->correlation_id, &a);
	if (mc_alert_deliver(&env, &a, whs, nw, &d, &e) < 0) {
		mc_log(MC_LOG_ERROR, "health --notify: %s", e.msg);
		mc_alert_release(&a);
		return -1;
	}
	code = mc_deliveries_exit(d, nw);
	o = json_pack("{s:o, s:o, s:o, s:o, s:o}", "check",
		      mc_json_str(c->result->check->name), "action",
		      mc_json_str(mc_alert_action_name(a.action)), "from",
		      mc_json_str(mc_status_name(c->from)),
		      "to", mc_json_str(mc_status_name(c->to)),
		      "severity", mc_json_str(mc_severity_name(a.severity)));
	json_object_set_new(o, "deliveries", mc_deliveries_json(d, nw));
	json_array_append_new(arr, o);
	mc_buf_printf(&r->text, "notify: %s %s -> %s:", c->result->check->name,
		      mc_status_name(c->from), mc_status_name(c->to));
	for (size_t i = 0; i < nw; i++)
		mc_buf_printf(&r->text, "%s %s %s%s%s%s", i ? "," : "",
			      d[i].wh->name,
			      mc_delivery_result_name(d[i].result),
			      d[i].message ? " (" : "",
			      d[i].message ? d[i].message : "",
			      d[i].message ? ")" : "");
	mc_buf_puts(&r->text, "\n");
	if (code != 0)
		mc_log(MC_LOG_WARN, "health --notify: the alert for check '%s' "
		       "did not reach every webhook; the next run tries again",
		       c->result->check->name);
	mc_deliveries_free(d, nw);
	mc_alert_release(&a);
	return code == 0 ? 0 : -1;
}

/* health --notify: alerts for the checks whose state changed (damped).
 * A failure here is logged and leaves the run's exit code alone: the checks'
 * results are what the run reports. */
static void notify(struct mc_ctx *ctx, const struct mc_health *h,
		   struct mc_report *r)
{
	struct mc_notify_change *ch = NULL;
	struct mc_webhook *whs = NULL;
	size_t n = 0, nw = 0;
	struct mc_err e = { 0 };
	json_t *arr = json_array();
	char host[256];

	json_object_set_new(r->doc, "notifications", arr);
	if (mc_notify_update(ctx->st, h, mc_wall_now(), &ch, &n, &e) < 0) {
		mc_log(MC_LOG_ERROR, "health --notify: %s", e.msg);
		return;
	}
	if (n == 0)
		goto out;
	if (mc_webhooks_load(ctx->conf, NULL, 0, &whs, &nw, &e) < 0) {
		mc_log(MC_LOG_ERROR, "health --notify: %s", e.msg);
		goto out;
	}
	if (nw == 0) {
		mc_log(MC_LOG_WARN, "health --notify: %zu check(s) changed "
		       "state, but no [webhook] is configured", n);
		goto out;
	}
	mc_hostname(host, sizeof(host));
	for (size_t i = 0; i < n; i++)
		if (notify_one(ctx, &ch[i], whs, nw, host, r, arr) == 0 &&
		    mc_notify_done(ctx->st, &ch[i], mc_wall_now(), &e) < 0)
			mc_log(MC_LOG_ERROR, "health --notify: %s", e.msg);
out:
	mc_webhooks_free(whs, nw);
	free(ch);
}

/* One run of the checks into r; its exit code, or -1 with ctx->err. */
static int one_run(struct mc_ctx *ctx, struct mc_report *r)
{
	struct mc_health h;
	struct mc_health_env env = { ctx->st, ctx->conf, &ctx->dl,
				     ctx->correlation_id };
	int code;

	if (mc_health_select(ctx->conf, ctx->st,
			     (const char *const *)ctx->args->pos,
			     (size_t)ctx->args->n_pos,
			     mc_args_count(ctx->args, "critical-only"), &h,
			     &ctx->err) < 0)
		return -1;
	mc_health_run(&h, &env);
	mc_health_report(&h, ctx->correlation_id, r);
	if (h.status != MC_RUN_OK && r->nagios) {
		/* The Nagios line without perfdata (nor the long output
		 * after it) is the one-line summary. */
		size_t len = strcspn(r->nagios, "\n");
		char *bar = strstr(r->nagios, " |");

		if (bar != NULL && (size_t)(bar - r->nagios) < len)
			len = (size_t)(bar - r->nagios);
		r->summary = mc_strndup(r->nagios, len);
	}
	code = h.status;
	if (mc_health_record(ctx->st, ctx->run_id, &h, &ctx->err) < 0)
		code = -1;
	else if (mc_args_count(ctx->args, "notify"))
		notify(ctx, &h, r);
	mc_health_release(&h);
	return code;
}

/* Prints one run of --watch: on a terminal the whole table, redrawn; else
 * one line per run (one JSON document per line with -o json). -1 when the
 * output could not be written (mc_output_gone(): its reader went away). */
static int watch_print(struct mc_ctx *ctx, struct mc_report *r, int tty,
		       int64_t next_ms)
{
	char ts[40], every[32];
	char *s = NULL;

	mc_format_time_text(mc_wall_now(), ts, sizeof(ts));
	mc_format_duration(next_ms, every, sizeof(every));
	switch (ctx->format) {
	case MC_FMT_JSON: {
		char *d = mc_json_dumps(r->doc, 0);

		s = mc_asprintf("%s\n", d ? d : "{}");
		free(d);
		break;
	}
	case MC_FMT_PROM:
		s = mc_asprintf("%s\n", r->prom.data ? r->prom.data : "");
		break;
	case MC_FMT_NAGIOS:
		s = mc_asprintf("%s\n", r->nagios ? r->nagios : "");
		break;
	default:
		if (tty) {
			/* Home, clear, table, and when the next run comes. */
			s = mc_asprintf("\033[H\033[2J%s\n%s  next run in %s; "
					"Ctrl-C stops\n",
					r->text.data ? r->text.data : "", ts,
					every);
		} else {
			const char *line = r->summary ? r->summary : r->nagios;
			char *bar = line ? strstr(line, " |") : NULL;

			s = mc_asprintf("%s %.*s\n", ts, bar ?
					(int)(bar - line) :
					(int)strlen(line ? line : ""),
					line ? line : "");
		}
		break;
	}
	if (mc_write_all(stdout, s, strlen(s)) < 0 || mc_flush(stdout) < 0) {
		free(s);
		return -1;
	}
	free(s);
	return 0;
}

static int watch(struct mc_ctx *ctx, int64_t every_ms, int64_t degraded_ms)
{
	int tty = isatty(STDOUT_FILENO) && ctx->format == MC_FMT_TEXT;
	int last = 0;

	for (;;) {
		struct mc_report r;
		int code;
		int64_t next;

		mc_report_init(&r, ctx->color);
		code = one_run(ctx, &r);
		if (code < 0) {
			mc_report_release(&r);
			return -1;
		}
		last = code;
		next = code != 0 && degraded_ms > 0 ? degraded_ms : every_ms;
		if (watch_print(ctx, &r, tty, next) < 0) {
			/* The reader went away (`| head -1`): the watch is
			 * over, quietly. Anything else is an I/O error. */
			int e = errno;

			mc_report_release(&r);
			if (mc_output_gone())
				break;
			return mc_err_sys(&ctx->err, MC_EXIT_IOERR, e,
					  "health --watch: cannot write "
					  "output");
		}
		{
			struct mc_err e = { 0 };

			if (mc_publish_metrics(ctx, &r, &e) < 0)
				mc_log(MC_LOG_ERROR, "%s", e.msg);
		}
		mc_report_release(&r);
		/* Each run has its own deadline: --timeout bounds one run. */
		if (mc_sleep_ms(next))
			break;
		mc_ctx_rearm_deadline(ctx);
	}
	/* Ctrl-C is how a watch ends: exit with the last run's code. */
	ctx->interrupt_is_exit = 1;
	ctx->printed = 1;
	return last;
}

static int health_run(struct mc_ctx *ctx)
{
	const char *w = mc_args_value(ctx->args, "watch");
	const char *wd = mc_args_value(ctx->args, "watch-degraded");
	int64_t every = 0, degraded = 0;

	/* A worker abandoned at its timeout may still read the
	 * configuration until the process exits. */
	ctx->keep_conf = mc_health_abandoned;
	if (wd && !w)
		return mc_err_set(&ctx->err, MC_EXIT_USAGE,
				  "health: --watch-degraded goes with --watch");
	if (w) {
		/* parsed already, longer than 0: typed "positive" below */
		mc_parse_duration_ms(w, &every, NULL);
		if (wd)
			mc_parse_duration_ms(wd, &degraded, NULL);
		return watch(ctx, every, degraded);
	}
	return one_run(ctx, &ctx->report);
}

static const struct mc_opt health_opts[] = {
	{ 0, "critical-only", NULL, MC_OPT_FLAG, MC_ARG_STRING, NULL,
	  "Run only the checks marked critical (a readiness gate)", 0 },
	{ 0, "notify", NULL, MC_OPT_FLAG, MC_ARG_STRING, NULL,
	  "Alert through the webhooks when a check changes state", 0 },
	{ 0, "watch", "INTERVAL", MC_OPT_VALUE, MC_ARG_DURATION, "positive",
	  "Run again every INTERVAL until interrupted", 0 },
	{ 0, "watch-degraded", "INTERVAL", MC_OPT_VALUE, MC_ARG_DURATION,
	  "positive",
	  "With --watch, run every INTERVAL instead while the run is not ok",
	  0 },
	{ 0 },
};

/* Cells in the sparkline of `health history`. */
#define SPARK_WIDTH 40

static int history_run(struct mc_ctx *ctx)
{
	double now = mc_wall_now(), since = mc_ctx_since(ctx, 7LL * 86400000,
							 now);
	struct mc_check_history *hist = NULL;
	const char *v = mc_args_value(ctx->args, "limit");
	long long last = 0;
	size_t n = 0;

	if (v && mc_parse_int(v, 0, 1000000000, &last, &ctx->err) < 0)
		return -1;
	if (mc_health_history_last(ctx->st,
				   (const char *const *)ctx->args->pos,
				   (size_t)ctx->args->n_pos, since, now,
				   SPARK_WIDTH, (size_t)last, &hist, &n,
				   &ctx->err) < 0)
		return -1;
	mc_health_history_report(hist, n, since, now, &ctx->report);
	mc_health_history_free(hist, n);
	return 0;
}

static const struct mc_opt history_opts[] = {
	{ 0, "since", "DURATION", MC_OPT_VALUE, MC_ARG_DURATION, NULL,
	  "The span to look back over (default 7d; 0 for everything kept)", 0 },
	{ 'n', "limit", "N", MC_OPT_VALUE, MC_ARG_INT, "0..1000000000",
	  "Only each check's last N results in the span (default all)", 0 },
	{ 0 },
};

const struct mc_cmd mc_cmd_health_history = {
	.name = "history",
	.summary = "Show each check's uptime, transitions and last failure over time",
	.args = "[CHECK...]",
	.description =
	"For each check (or the named ones) over the span: its status now (the "
	"newest result), the share of runs that were ok, how often the status "
	"changed, the last failure, and a sparkline of the status over time "
	"(▁ ok, ▄ warning, ▆ unknown, █ critical, · no run): each cell shows "
	"the worst result in it, but the cell of the newest result shows that "
	"result, so the line ends where the check stands now. -n N looks at "
	"each check's last N results only. The history is kept for [core] "
	"history (30d).",
	.opts = history_opts,
	.needs = MC_NEED_CONFIG | MC_NEED_STATE,
	.max_args = -1,
	.complete_section = "check",
	.run = history_run,
};

static const struct mc_cmd *const health_subs[] = {
	&mc_cmd_health_history, NULL,
};

const struct mc_cmd mc_cmd_health = {
	.examples =
	"Every check, as a table:\n"
	"$ mercuryctl health\n"
	"A CI gate on the critical checks, with JSON on stdout:\n"
	"$ mercuryctl health --critical-only --json\n"
	"From cron: quiet when fine, alerts on state changes, metrics for "
	"node_exporter:\n"
	"$ mercuryctl -q --textfile-dir /var/lib/node_exporter/textfile_collector "
	"health --notify\n"
	"As a Nagios plugin:\n"
	"$ mercuryctl -o nagios health api\n"
	"Watch, every 30 seconds, every 10 while degraded:\n"
	"$ mercuryctl health --watch 30s --watch-degraded 10s\n"
	"The last day of each check:\n"
	"$ mercuryctl health history --since 1d\n",
	.name = "health",
	.summary = "Run the configured health checks and report their status",
	.args = "[CHECK...]",
	.description =
	"Runs the checks of the configuration's [check \"NAME\"] sections, or "
	"the named ones, concurrently, each under its own timeout (default "
	"2s), so a run takes about as long as its slowest check. Check types: "
	"http, tcp, redis, redis_queue, prometheus, sqlite, disk, memory, exec "
	"(a Nagios plugin, run without a shell), state, oauth (a provider's "
	"token, as oauth status sees it), backup (the newest backup's age and "
	"last verify) and job (a cron job's verdict, as job list gives it); "
	"every key is in mercury.conf(5). With no checks "
	"configured, the built-in ones run: state (the state file opens and "
	"passes SQLite's quick_check), disk (usage of the state file's file "
	"system) and memory.\n\n"
	"The run is ok (exit 0) when every check is ok; degraded (exit 1) when "
	"a check warns or a check not marked critical fails; unavailable "
	"(exit 2) when a check marked critical fails; unknown (exit 3) when "
	"nothing failed but a check could not be evaluated, or when no check "
	"was selected at all (--critical-only with none marked critical, "
	"names that leave none): a gate never passes on nothing. Every run "
	"and every result is recorded in the state file.\n\n"
	"The table marks the critical checks (CRITICAL yes), shows a failed "
	"check that is not critical as failed (it degrades the run; JSON says "
	"critical), and each message's first line, cut at 100 characters "
	"(JSON has it whole). -o nagios prints the plugin line, then one line "
	"per check (the long output the Nagios plugin guidelines allow); an "
	"exec plugin's perfdata labels get the check's name in front "
	"(api_time=...), and -o prom gives them as mercury_check_perfdata"
	"{check, label, uom}. The state check's perfdata is state_runs, the "
	"runs the state file holds.\n\n"
	"With --notify, a check whose state changed since the runs before "
	"sends one alert through every configured webhook (alert send's "
	"filter, dedup, rate limit and breaker apply): severity critical when "
	"a check marked critical fails, warning otherwise; a resolve when it "
	"recovers. Flapping is damped: a check must fail failure_threshold "
	"runs in a row (default 3) before it alerts, and pass "
	"success_threshold runs (default 2) before it resolves, counted in "
	"the state file across runs. A change is remembered as notified only "
	"once every webhook has it, so a failed delivery is retried by the "
	"next run; its failure is logged and does not change the exit "
	"status.\n\n"
	"A check that probes a target over the network (http, prometheus, "
	"tcp, redis, redis_queue) has a circuit breaker, check:NAME in breaker "
	"list: after breaker_failures failed runs in a row (default 5, [core] "
	"or the check's section) the target is not probed for "
	"breaker_recovery (30s) and the check fails at once saying so (\"not "
	"probed: circuit breaker open\"); then one probe decides. breaker "
	"reset check:NAME probes again at once.\n\n"
	"With --watch the checks run again on a fixed beat until Ctrl-C, "
	"which exits with the last run's code: on a terminal the table is "
	"redrawn, otherwise one line is printed per run (one JSON document per "
	"line with -o json).",
	.opts = health_opts,
	.subs = health_subs,
	.needs = MC_NEED_CONFIG | MC_NEED_STATE,
	.max_args = -1,
	.complete_section = "check",
	.run = health_run,
};
