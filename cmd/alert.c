/* alert.c - `mercuryctl alert test|send|history`: alerts to webhooks. */
#include "cmd.h"
#include "alert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The most of a description read from standard input. */
#define STDIN_MAX (1024 * 1024)

static int load_webhooks(struct mc_ctx *ctx, struct mc_webhook **whs,
			 size_t *n)
{
	if (mc_webhooks_load(ctx->conf, (const char *const *)ctx->args->pos,
			     (size_t)ctx->args->n_pos, whs, n, &ctx->err) < 0)
		return -1;
	if (*n == 0)
		return mc_err_set(&ctx->err, MC_EXIT_CONFIG,
				  "no webhooks: the configuration%s%s has no "
				  "[webhook \"NAME\"] section",
				  ctx->conf->path ? " " : "",
				  ctx->conf->path ? ctx->conf->path : "");
	return 0;
}

static int result_color(size_t col, const char *cell)
{
	if (col != 2)
		return 0;
	if (strcmp(cell, "delivered") == 0)
		return 32;
	if (strcmp(cell, "failed") == 0 || strcmp(cell, "circuit_open") == 0)
		return 31;
	return strcmp(cell, "suppressed") == 0 ||
	       strcmp(cell, "filtered") == 0 ? 33 : 0;
}

/* The one line -q prints: which webhooks failed and why. */
static char *failed_summary(const struct mc_delivery *d, size_t n,
			    size_t bad)
{
	struct mc_buf b = { 0 };
	const char *sep = ": ";

	mc_buf_printf(&b, "alert: %zu of %zu deliveries failed", bad, n);
	for (size_t i = 0; i < n; i++) {
		if (d[i].result != MC_DLV_FAILED &&
		    d[i].result != MC_DLV_CIRCUIT_OPEN)
			continue;
		mc_buf_printf(&b, "%s%s (%s)", sep, d[i].wh->name,
			      d[i].message ? d[i].message :
			      mc_delivery_result_name(d[i].result));
		sep = "; ";
	}
	return mc_buf_steal(&b);
}

/* The metrics of one webhook's delivery. */
static void delivery_samples(struct mc_buf *prom, const char *webhook,
			     const char *result, int attempts,
			     double latency_ms)
{
	char *lab = mc_prom_label(webhook), *res = mc_prom_label(result);
	char *labels = mc_asprintf("webhook=\"%s\",result=\"%s\"", lab, res);
	char *wl = mc_asprintf("webhook=\"%s\"", lab);

	mc_prom_sample(prom, "mercury_alert_delivery", "gauge",
		       "1 for the outcome of each webhook's delivery",
		       labels, 1);
	mc_prom_sample(prom, "mercury_alert_attempts", "gauge",
		       "HTTP attempts made for the delivery", wl, attempts);
	if (attempts > 0)
		mc_prom_sample(prom, "mercury_alert_latency_seconds", "gauge",
			       "latency of the last attempt", wl,
			       latency_ms / 1e3);
	free(labels);
	free(wl);
	free(res);
	free(lab);
}

/* Fills the report from the deliveries; returns the exit code. */
static int report(struct mc_ctx *ctx, const struct mc_alert *a,
		  const struct mc_delivery *d, size_t n)
{
	static const char *const headers[] = { "WEBHOOK", "TYPE", "RESULT",
					       "ATTEMPTS", "HTTP", "LATENCY",
					       "MESSAGE" };
	struct mc_report *r = &ctx->report;
	struct mc_table *t = mc_table_new(7, headers);
	int code = mc_deliveries_exit(d, n);
	size_t counts[MC_DLV_CIRCUIT_OPEN + 1] = { 0 };
	const char *status = code == 0 ? "ok" : code == 1 ? "partial" :
			     "failed";
	struct mc_buf perf = { 0 };

	json_object_set_new(r->doc, "status", mc_json_str(status));
	json_object_set_new(r->doc, "action",
			    mc_json_str(mc_alert_action_name(a->action)));
	json_object_set_new(r->doc, "test", json_boolean(a->action ==
							 MC_ACT_TEST));
	json_object_set_new(r->doc, "severity", a->severity >= 0 ?
			    mc_json_str(mc_severity_name(a->severity)) :
			    json_null());
	json_object_set_new(r->doc, "summary", mc_json_str(a->summary));
	json_object_set_new(r->doc, "dedup_key", mc_json_str(a->dedup_key));
	json_object_set_new(r->doc, "deliveries", mc_deliveries_json(d, n));
	mc_buf_puts(&perf, "");
	for (size_t i = 0; i < n; i++) {
		char att[16], http[24] = "-", lat[32] = "-";
		const char *cells[7];

		counts[d[i].result]++;
		snprintf(att, sizeof(att), "%d", d[i].attempts);
		if (d[i].http_status > 0)
			snprintf(http, sizeof(http), "%ld", d[i].http_status);
		if (d[i].attempts > 0)
			snprintf(lat, sizeof(lat), "%.1fms", d[i].latency_ms);
		cells[0] = d[i].wh->name;
		cells[1] = mc_webhook_type_name(d[i].wh->type);
		cells[2] = mc_delivery_result_name(d[i].result);
		cells[3] = att;
		cells[4] = http;
		cells[5] = lat;
		cells[6] = d[i].message ? d[i].message : "";
		mc_table_row(t, cells);
		delivery_samples(&r->prom, d[i].wh->name,
				 mc_delivery_result_name(d[i].result),
				 d[i].attempts, d[i].latency_ms);
		if (d[i].attempts > 0)
			mc_buf_printf(&perf, " %s_latency=%.1fms", d[i].wh->name,
				      d[i].latency_ms);
	}
	mc_table_render(t, &r->text, ctx->color, result_color);
	mc_table_free(t);
	{
		size_t bad = counts[MC_DLV_FAILED] + counts[MC_DLV_CIRCUIT_OPEN];
		const char *word = mc_status_word(code);

		r->nagios = mc_asprintf("ALERT %s - %zu delivered, %zu "
					"suppressed, %zu filtered, %zu failed "
					"of %zu%s%s", word,
					counts[MC_DLV_DELIVERED],
					counts[MC_DLV_SUPPRESSED],
					counts[MC_DLV_FILTERED], bad, n,
					perf.len ? " |" : "", perf.data);
		if (code != 0)
			r->summary = failed_summary(d, n, bad);
	}
	mc_buf_release(&perf);
	return code;
}

static int deliver(struct mc_ctx *ctx, struct mc_alert *a)
{
	struct mc_webhook *whs = NULL;
	struct mc_delivery *d = NULL;
	struct mc_http *http;
	size_t n = 0;
	int code = -1;

	if (load_webhooks(ctx, &whs, &n) < 0)
		goto out;
	if ((http = mc_ctx_http(ctx)) == NULL)
		goto out;
	{
		struct mc_alert_env env = { ctx->st, http, &ctx->dl, NULL,
					    ctx->run_id, ctx->coord };

		if (mc_alert_deliver(&env, a, whs, n, &d, &ctx->err) < 0)
			goto out;
	}
	code = report(ctx, a, d, n);
out:
	mc_deliveries_free(d, n);
	mc_webhooks_free(whs, n);
	return code;
}

static char *read_stdin(struct mc_err *err)
{
	struct mc_buf b = { 0 };
	char chunk[8192];
	size_t r;

	mc_buf_puts(&b, "");
	while ((r = fread(chunk, 1, sizeof(chunk), stdin)) > 0) {
		if (b.len + r > STDIN_MAX) {
			mc_buf_release(&b);
			mc_err_set(err, MC_EXIT_DATAERR, "the description on "
				   "standard input is longer than 1 MiB");
			return NULL;
		}
		mc_buf_add(&b, chunk, r);
	}
	if (ferror(stdin)) {
		mc_buf_release(&b);
		mc_err_set(err, MC_EXIT_IOERR, "cannot read standard input");
		return NULL;
	}
	if (strlen(b.data) != b.len) {
		mc_buf_release(&b);
		mc_err_set(err, MC_EXIT_DATAERR, "the description on standard "
			   "input holds a NUL byte: not text");
		return NULL;
	}
	/* a trailing newline is the pipe's, not the text's */
	while (b.len > 0 && b.data[b.len - 1] == '\n')
		b.data[--b.len] = '\0';
	return mc_buf_steal(&b);
}

static int send_run(struct mc_ctx *ctx)
{
	struct mc_alert a = { 0 };
	const char *sev = mc_args_value(ctx->args, "severity");
	const char *desc = mc_args_value(ctx->args, "description");
	const char *const *labels;
	size_t n_labels;
	int code = -1;

	a.action = mc_args_count(ctx->args, "resolve") ? MC_ACT_RESOLVE :
		   MC_ACT_TRIGGER;
	/* A resolve needs none: it resolves whatever was triggered. */
	if (sev == NULL && a.action == MC_ACT_TRIGGER)
		return mc_err_set(&ctx->err, MC_EXIT_USAGE, "alert send: "
				  "--severity is required (except with "
				  "--resolve)");
	a.severity = sev ? mc_severity_parse(sev) : -1;
	a.summary = mc_strdup(mc_args_value(ctx->args, "summary"));
	if (desc && strcmp(desc, "-") == 0) {
		if ((a.description = read_stdin(&ctx->err)) == NULL)
			goto out;
	} else {
		a.description = mc_strdup(desc);
	}
	a.source = mc_strdup(mc_args_value(ctx->args, "source"));
	a.dedup_key = mc_strdup(mc_args_value(ctx->args, "dedup-key"));
	a.generator_url = mc_strdup(mc_args_value(ctx->args, "generator-url"));
	a.correlation_id = mc_strdup(ctx->correlation_id);
	a.no_dedup = mc_args_count(ctx->args, "no-dedup") > 0;
	a.started = mc_wall_now();
	labels = mc_args_values(ctx->args, "label", &n_labels);
	for (size_t i = 0; i < n_labels; i++)
		if (mc_alert_add_label(&a, labels[i], &ctx->err) < 0)
			goto out;
	if (mc_alert_finish(&a, &ctx->err) < 0)
		goto out;
	code = deliver(ctx, &a);
out:
	mc_alert_release(&a);
	return code;
}

static int test_run(struct mc_ctx *ctx)
{
	struct mc_alert a = { 0 };
	char host[256];
	int code = -1;

	mc_hostname(host, sizeof(host));
	a.action = MC_ACT_TEST;
	a.severity = MC_SEV_INFO;
	a.summary = mc_asprintf("Test alert from mercuryctl on %s", host);
	a.description = mc_strdup("This is a test sent by `mercuryctl alert "
				  "test` to check that alerts reach this "
				  "channel. No action is needed.");
	a.correlation_id = mc_strdup(ctx->correlation_id);
	a.dedup_key = mc_asprintf("mercuryctl-test-%s", ctx->correlation_id);
	a.started = mc_wall_now();
	if (mc_alert_finish(&a, &ctx->err) == 0)
		code = deliver(ctx, &a);
	mc_alert_release(&a);
	return code;
}

static int history_run(struct mc_ctx *ctx)
{
	static const char *const headers[] = { "TIME", "WEBHOOK", "ACTION",
					       "SEVERITY", "RESULT", "ATTEMPTS",
					       "HTTP", "SUMMARY" };
	const char *webhook = ctx->args->n_pos > 0 ? ctx->args->pos[0] : NULL;
	struct mc_alert_log *l = NULL;
	size_t n = 0;
	json_t *arr = json_array();
	struct mc_table *t;

	json_object_set_new(ctx->report.doc, "alerts", arr);
	const char *v = mc_args_value(ctx->args, "limit");
	long long limit = 0;

	if (v && mc_parse_int(v, 0, 1000000000, &limit, &ctx->err) < 0)
		return -1;
	if (mc_alert_history(ctx->st, mc_ctx_since(ctx, 7LL * 86400000,
						   mc_wall_now()), webhook,
			     (size_t)limit, &l, &n, &ctx->err) < 0)
		return -1;
	/* A name neither configured nor in the span is most likely a typo. */
	if (webhook && n == 0 &&
	    mc_conf_find(ctx->conf, "webhook", webhook) == NULL) {
		mc_alert_history_free(l, n);
		return mc_err_set(&ctx->err, MC_EXIT_USAGE,
				  "no webhook '%s' in the configuration or "
				  "in the alert log of the span", webhook);
	}
	t = mc_table_new(8, headers);
	for (size_t i = 0; i < n; i++) {
		const struct mc_alert_log *e = &l[i];
		json_t *o = json_object();
		char ts[40], ts_text[40], att[16], http[24] = "-";
		char *sum = mc_column_text(e->summary ? e->summary : "", 60);
		const char *cells[8];

		mc_format_time(e->ts, ts, sizeof(ts));
		mc_format_time_text(e->ts, ts_text, sizeof(ts_text));
		json_object_set_new(o, "time", mc_json_str(ts));
		json_object_set_new(o, "webhook", mc_json_str(e->webhook));
		json_object_set_new(o, "action", mc_json_str(e->action));
		json_object_set_new(o, "severity", mc_streq(e->severity, "-") ?
				    json_null() : mc_json_str(e->severity));
		json_object_set_new(o, "summary", mc_json_str(e->summary));
		json_object_set_new(o, "source", mc_json_str(e->source));
		json_object_set_new(o, "dedup_key", mc_json_str(e->dedup_key));
		json_object_set_new(o, "result", mc_json_str(e->result));
		json_object_set_new(o, "attempts", json_integer(e->attempts));
		json_object_set_new(o, "http_status", e->http_status > 0 ?
				    json_integer(e->http_status) : json_null());
		json_object_set_new(o, "latency_ms", e->latency_ms >= 0 ?
				    json_real(e->latency_ms) : json_null());
		json_object_set_new(o, "message", e->message ?
				    mc_json_str(e->message) : json_null());
		json_object_set_new(o, "correlation_id",
				    mc_json_str(e->correlation_id));
		json_array_append_new(arr, o);
		snprintf(att, sizeof(att), "%d", e->attempts);
		if (e->http_status > 0)
			snprintf(http, sizeof(http), "%ld", e->http_status);
		cells[0] = ts_text;
		cells[1] = e->webhook;
		cells[2] = e->action;
		cells[3] = e->severity;
		cells[4] = e->result;
		cells[5] = att;
		cells[6] = http;
		cells[7] = sum;
		mc_table_row(t, cells);
		free(sum);
	}
	mc_table_render_or(t, &ctx->report.text, ctx->color, NULL,
			   "no alerts in the span\n");
	mc_table_free(t);
	mc_alert_history_free(l, n);
	return 0;
}

static const struct mc_opt send_opts[] = {
	{ 0, "severity", "LEVEL", MC_OPT_VALUE, MC_ARG_ENUM, MC_SEVERITIES,
	  "The alert's severity (required, except with --resolve)", 0 },
	{ 0, "summary", "TEXT", MC_OPT_VALUE, MC_ARG_STRING, NULL,
	  "One line saying what is wrong", MC_OPTF_REQUIRED },
	{ 0, "description", "TEXT", MC_OPT_VALUE, MC_ARG_STRING, NULL,
	  "More detail; - reads it from standard input", 0 },
	{ 0, "source", "NAME", MC_OPT_VALUE, MC_ARG_STRING, NULL,
	  "What the alert is about (default: this host's name)", 0 },
	{ 0, "label", "K=V", MC_OPT_LIST, MC_ARG_STRING, NULL,
	  "A label (repeatable)", 0 },
	{ 0, "dedup-key", "KEY", MC_OPT_VALUE, MC_ARG_STRING, NULL,
	  "Identify the alert by KEY (default: a hash of summary, source and "
	  "labels, not severity)", 0 },
	{ 0, "resolve", NULL, MC_OPT_FLAG, MC_ARG_STRING, NULL,
	  "Resolve the alert triggered earlier with the same key, at "
	  "whatever severity it was sent", 0 },
	{ 0, "no-dedup", NULL, MC_OPT_FLAG, MC_ARG_STRING, NULL,
	  "Send even when the same alert went out within the window", 0 },
	{ 0, "generator-url", "URL", MC_OPT_VALUE, MC_ARG_URL, NULL,
	  "A link to where the alert comes from (alertmanager generatorURL)",
	  0 },
	{ 0 },
};

static const struct mc_opt history_opts[] = {
	{ 0, "since", "DURATION", MC_OPT_VALUE, MC_ARG_DURATION, NULL,
	  "The span to look back over (default 7d; 0 for everything kept)", 0 },
	{ 'n', "limit", "N", MC_OPT_VALUE, MC_ARG_INT, "0..1000000000",
	  "Show at most the N newest outcomes (default all in the span)", 0 },
	{ 0 },
};

static const struct mc_cmd alert_test = {
	.name = "test",
	.summary = "Send a test alert to each webhook and report each delivery",
	.args = "[WEBHOOK...]",
	.description =
	"Sends an info alert marked as a test in every format ([TEST] in the "
	"text, \"test\": true in JSON, label mercury_test=\"true\" for "
	"Alertmanager, which resolves it after five minutes) to every "
	"configured webhook, or the named ones. A test bypasses the severity "
	"filter and dedup; rate limits and breakers still apply.",
	.opts = NULL,
	.needs = MC_NEED_CONFIG | MC_NEED_STATE,
	.max_args = -1,
	.complete_section = "webhook",
	.run = test_run,
};

static const struct mc_cmd alert_send = {
	.name = "send",
	.summary = "Send an alert, or resolve one, through the webhooks",
	.args = "[WEBHOOK...]",
	.description =
	"Sends the alert to every configured webhook, or the named ones, "
	"concurrently. Per webhook, in this order: alerts below min_severity "
	"are filtered; a webhook whose URL or routing key cannot be read in "
	"this run (an unset url_env, a missing url_file) fails alone, by "
	"name, and the others go on; the same dedup key at the same severity "
	"within dedup_window is suppressed, and a resolve goes out only "
	"after a trigger of the same key; an open circuit breaker makes "
	"no request; the rate limit (rate, burst) delays the request, or "
	"fails it when the wait would pass the run's deadline; failed "
	"attempts (transport errors, 429, 5xx) are retried with backoff, "
	"honouring Retry-After. Any 2xx answer is a delivery, whatever its "
	"body's size (beyond 64 KiB the body is discarded unread). "
	"Dedup, rate limits and breakers are kept in "
	"the state file, so they hold across processes and cron runs: two "
	"runs sending the same alert at once deliver it once.\n\n"
	"An alert's identity is its dedup key: by default a hash of summary, "
	"source and labels, not severity. So --resolve needs no --severity "
	"and resolves whatever severity each webhook was sent, and a trigger "
	"at another severity (warning, then critical) updates the same "
	"incident: PagerDuty gets a new trigger with the same dedup_key; "
	"Alertmanager, whose alert is its label set (severity included), "
	"gets in one request the alert at the old severity ended (endsAt "
	"now) and the one at the new severity, so exactly one is active. A "
	"resolve of a key never sent to a webhook is suppressed there (\"no "
	"trigger of this alert to resolve\"); with --no-dedup and no "
	"--severity it goes out anyway, and Alertmanager gets the alert ended "
	"at every severity.\n\n"
	"Texts longer than a service takes are cut at a character boundary "
	"and end in an ellipsis: Slack header 150 and section 3000 "
	"characters; Discord embed title 256, description 4096 (6000 in all); "
	"PagerDuty summary 1024 and dedup_key 255 (a longer key is replaced "
	"by its hash); json and alertmanager texts 16384.\n\n"
	"The json webhook type posts mercury's own schema: {\"schema\": "
	"\"mercury.alert/v1\", \"action\": \"trigger\"|\"resolve\"|\"test\", "
	"\"test\", \"severity\" (null for a resolve whose severity is not "
	"known), \"summary\", \"description\", \"source\", "
	"\"labels\": {}, \"dedup_key\", \"correlation_id\", \"webhook\", "
	"\"timestamp\", \"started_at\", \"generator_url\"}. Every format "
	"carries the run's correlation id.\n\n"
	"Each webhook's result is delivered, suppressed, filtered or failed; "
	"a delivery that met an open circuit breaker is failed, made no "
	"request, and says so in its message (and \"circuit_open\": true in "
	"JSON).\n\n"
	"Exit status: 0 when every delivery was delivered, suppressed or "
	"filtered; 1 when some failed (or met an open circuit); 2 when all "
	"did (with -q, the one line on standard error names each webhook "
	"that failed and why). A --label without '=', an empty summary, no "
	"--severity on a trigger: 64; text that is not UTF-8: 65.",
	.opts = send_opts,
	.needs = MC_NEED_CONFIG | MC_NEED_STATE,
	.max_args = -1,
	.complete_section = "webhook",
	.run = send_run,
};

static const struct mc_cmd alert_history = {
	.name = "history",
	.summary = "List the alerts sent, suppressed, filtered and failed",
	.args = "[WEBHOOK]",
	.description =
	"The alert log, newest first: every delivery outcome of alert send, "
	"alert test and health --notify, with its attempts and HTTP status.",
	.opts = history_opts,
	.needs = MC_NEED_CONFIG | MC_NEED_STATE,
	.max_args = 1,
	.complete_section = "webhook",
	.run = history_run,
};

static const struct mc_cmd *const alert_subs[] = {
	&alert_test, &alert_send, &alert_history, NULL,
};

/* mercuryctl_alert.prom: each webhook's last logged delivery, whichever
 * run made it (alert send or test, a notify), from the state file. */
static int alert_metrics_view(struct mc_ctx *ctx, struct mc_buf *out,
			      struct mc_err *err)
{
	const struct mc_conf_section *s = NULL;

	if (ctx->st == NULL)
		return 1;
	while ((s = mc_conf_next(ctx->conf, "webhook", s)) != NULL) {
		struct mc_alert_log l;
		int found = mc_alert_last(ctx->st, s->name, &l, err);

		if (found < 0)
			return -1;
		if (found)
			delivery_samples(out, s->name, l.result, l.attempts,
					 l.latency_ms);
		mc_alert_log_release(&l);
	}
	return 0;
}

static const struct mc_metric_family alert_families[] = {
	{ "mercury_alert_delivery", NULL },
	{ "mercury_alert_attempts", NULL },
	{ "mercury_alert_latency_seconds", NULL },
	{ NULL, NULL },
};

static const struct mc_metric_owner alert_metrics = {
	.families = alert_families,
	.view = alert_metrics_view,
};

const struct mc_cmd mc_cmd_alert = {
	.examples =
	"Page the on-call channels about a full disk, the description from a "
	"file:\n"
	"$ mercuryctl alert send --severity critical --summary \"db1 disk 98% "
	"full\" --label team=ops --description - <report.txt\n"
	"Resolve it once fixed (no --severity: whatever was sent is resolved):\n"
	"$ mercuryctl alert send --summary \"db1 disk 98% full\" --label "
	"team=ops --resolve\n"
	"Check that every webhook reaches its channel:\n"
	"$ mercuryctl alert test\n"
	"The last ten outcomes for the webhook ops:\n"
	"$ mercuryctl alert history -n 10 ops\n",
	.name = "alert",
	.summary = "Deliver alerts to Slack, Discord, PagerDuty, Alertmanager "
		   "and JSON webhooks",
	.description =
	"Webhooks are [webhook \"NAME\"] sections of type slack, discord, "
	"json, alertmanager or pagerduty. A webhook URL is a secret: it comes "
	"from url_file or url_env (a plain url is accepted, with a warning "
	"when others can read the configuration) and is never printed or "
	"logged.\n\n"
	"alert send and alert test give, with -o prom, each webhook's "
	"mercury_alert_delivery{webhook,result} (1), mercury_alert_attempts "
	"and mercury_alert_latency_seconds for their deliveries; with "
	"--textfile-dir DIR every alert command writes them to "
	"DIR/mercuryctl_alert.prom for every webhook's last logged delivery, "
	"whichever run made it (a send, a test, a notify of health, job or "
	"oauth).",
	.subs = alert_subs,
	.metrics = &alert_metrics,
};
