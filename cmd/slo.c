/* slo.c - `mercuryctl slo status|rules|history` (mercuryctl-slo(1); docs/DESIGN.md, "The commands"). */
#include "cmd.h"
#include "slo.h"
#include "slo_history.h"
#include "slo_store.h"

#include <stdlib.h>
#include <string.h>

/* Cells in the sparklines of `slo history`. */
#define SPARK_WIDTH 60

static int select_slos(struct mc_ctx *ctx, struct mc_slo_def **defs,
		       size_t *n)
{
	return mc_slo_select(ctx->conf, (const char *const *)ctx->args->pos,
			     (size_t)ctx->args->n_pos, defs, n, &ctx->err);
}

/* ---- status ------------------------------------------------------------- */

static int status_run(struct mc_ctx *ctx)
{
	const char *at = mc_args_value(ctx->args, "at");
	const char *url = mc_args_value(ctx->args, "prometheus");
	struct mc_slo_run run;
	struct mc_http *http;
	int code;

	memset(&run, 0, sizeof(run));
	if (at != NULL) {
		struct mc_err e = { 0 };

		if (mc_parse_time(at, &run.at, &e) < 0)
			return mc_err_set(&ctx->err, MC_EXIT_USAGE,
					  "slo status: --at: %s", e.msg);
		/* Prometheus has no samples after now: a later instant
		 * would judge an empty window as a clean one */
		if (run.at > mc_wall_now())
			return mc_err_set(&ctx->err, MC_EXIT_USAGE,
					  "slo status: --at: '%s' is in the "
					  "future (an SLO is evaluated at now "
					  "or before)", at);
	}
	if (at == NULL)
		run.at = mc_wall_now();	/* one instant for every query */
	if (select_slos(ctx, &run.defs, &run.n) < 0)
		return -1;
	run.prometheus = mc_strdup(url ? url : mc_conf_str(mc_conf_core(
					   ctx->conf), "prometheus_url"));
	if ((http = mc_ctx_http(ctx)) == NULL ||
	    mc_slo_run_queries(&run, http, ctx->st, &ctx->dl, &ctx->err) < 0) {
		mc_slo_run_release(&run);
		return -1;
	}
	mc_slo_fill_last_known(ctx->st, &run);
	mc_slo_report(&run, ctx->correlation_id, &ctx->report);
	code = run.status;
	if (mc_slo_record(ctx->st, ctx->run_id, &run, &ctx->err) < 0)
		code = -1;
	mc_slo_run_release(&run);
	return code;
}

static const struct mc_opt status_opts[] = {
	{ 0, "prometheus", "URL", MC_OPT_VALUE, MC_ARG_URL, NULL,
	  "Ask the Prometheus at URL (default [core] prometheus_url)", 0 },
	{ 0, "at", "TIME", MC_OPT_VALUE, MC_ARG_STRING, NULL,
	  "Evaluate at TIME (RFC 3339 or Unix seconds, not in the future) "
	  "instead of now", 0 },
	{ 0 },
};

static const struct mc_cmd mc_cmd_slo_status = {
	.name = "status",
	.summary = "Evaluate SLOs: SLI, error budget, burn rates and state",
	.args = "[SLO...]",
	.description =
	"For each SLO of the configuration's [slo \"NAME\"] sections (or the "
	"named ones) asks Prometheus's /api/v1/query for the error and total "
	"queries over every window - 5m, 30m, 1h, 2h, 6h, 1d, 3d, the "
	"policy's own windows and the SLO window - all queries of all SLOs "
	"concurrently and all at one instant (now, or --at). It reports the "
	"SLI over the SLO window (100 x (1 - errors / total)), the error "
	"budget (1 - objective), the share of it consumed and remaining, and "
	"the burn rate of every window: its error ratio divided by the "
	"budget.\n\n"
	"The state follows the multi-window, multi-burn-rate policy: "
	"critical when both windows of a page pair burn faster than its "
	"factor (by default 1h and 5m above 14.4, or 6h and 30m above 6), "
	"warning when both windows of a ticket pair do (1d and 2h above 3, or "
	"3d and 6h above 1), else ok. \"Above\" means by more than one part "
	"in a billion, so that rounding in Prometheus never decides. The "
	"factors are written for a 30-day window; for another window they "
	"scale by window / 30d (a 7d SLO pages at 1h/5m above 3.36), and a "
	"threshold written as a budget share (2%) means that share spent "
	"within the long window. The exit code is the worst state: 2 "
	"critical, 1 warning, 3 when an SLO could not be evaluated and none "
	"is worse, else 0.\n\n"
	"Edge cases: no traffic (total 0 and errors 0) in a window gives burn "
	"rate 0 there, and over the SLO window an SLI of 100 - ok, with a "
	"note. With min_rate set, a pair whose short window saw fewer "
	"requests per second than that does not fire, and a note says so. A "
	"query that returns no series makes the SLO unknown (\"no data\"; "
	"append 'or vector(0)' to an error query whose series may be "
	"absent); one that returns several series is an error naming the SLO "
	"- the expressions must aggregate, e.g. with sum(). Prometheus "
	"answering an error (a bad query) shows its text. Prometheus "
	"unreachable, or an answer that is not the API's (an HTML page, "
	"malformed JSON), makes the SLO unknown (exit 3) and shows the last "
	"known values from the state file with their age. Every evaluation "
	"is recorded; a circuit breaker per SLO (\"slo NAME\") stops asking a "
	"Prometheus that keeps failing.\n\n"
	"Bad input: an SLO name that is not configured, or a TIME that is "
	"neither RFC 3339 nor Unix seconds, exits 64; an objective outside "
	"(0, 100), a query without {{window}} or a window shorter than the "
	"policy's longest exits 78 naming the file and line.",
	.opts = status_opts,
	.needs = MC_NEED_CONFIG | MC_NEED_STATE,
	.max_args = -1,
	.complete_section = "slo",
	.run = status_run,
};

/* ---- rules -------------------------------------------------------------- */

static int rules_run(struct mc_ctx *ctx)
{
	struct mc_slo_def *defs = NULL;
	size_t n = 0;

	if (select_slos(ctx, &defs, &n) < 0)
		return -1;
	mc_slo_rules(defs, n, &ctx->report.text);
	json_object_set_new(ctx->report.doc, "rules",
			    mc_json_str(ctx->report.text.data));
	mc_slo_defs_free(defs, n);
	return 0;
}

static const struct mc_cmd mc_cmd_slo_rules = {
	.name = "rules",
	.summary = "Print Prometheus recording and alerting rules for the SLOs",
	.args = "[SLO...]",
	.description =
	"Prints a Prometheus rule file (YAML) with one group per SLO, "
	"mercury-slo-NAME: a recording rule per window, "
	"slo:sli_error:ratio_rate<WINDOW> (the error query over the total "
	"query, labelled slo=\"NAME\"), and the alerts "
	"MercurySLOBurnRatePage (severity page) and MercurySLOBurnRateTicket "
	"(severity ticket) for the policy's window pairs, with the same "
	"scaled factors as slo status (compared without its one-in-a-billion "
	"margin). With min_rate, "
	"slo:sli_total:rate<WINDOW> is recorded for the short windows and "
	"guards each pair. The output passes promtool check rules. With -o "
	"json the YAML is the \"rules\" member.",
	.needs = MC_NEED_CONFIG,
	.max_args = -1,
	.complete_section = "slo",
	.run = rules_run,
};

/* ---- history ------------------------------------------------------------ */

static int history_run(struct mc_ctx *ctx)
{
	double now = mc_wall_now(), since = mc_ctx_since(ctx, 7LL * 86400000,
							 now);
	struct mc_slo_def *defs = NULL;
	struct mc_slo_history h;
	size_t n = 0;

	if (select_slos(ctx, &defs, &n) < 0)
		return -1;
	mc_slo_defs_free(defs, n);
	if (mc_slo_history(ctx->st, ctx->args->pos[0], since, now, SPARK_WIDTH,
			   &h, &ctx->err) < 0)
		return -1;
	mc_slo_history_report(&h, since, now, &ctx->report);
	mc_slo_history_release(&h);
	return 0;
}

static const struct mc_opt history_opts[] = {
	{ 0, "since", "DURATION", MC_OPT_VALUE, MC_ARG_DURATION, NULL,
	  "The span to look back over (default 7d; 0 for everything kept)", 0 },
	{ 0 },
};

static const struct mc_cmd mc_cmd_slo_history = {
	.name = "history",
	.summary = "Show an SLO's remaining budget and burn rate over time",
	.args = "SLO",
	.description =
	"Draws the SLO's recorded evaluations over the span (by the instant "
	"each evaluated) as three sparklines of 60 cells: the remaining error "
	"budget (a cell shows its lowest; the scale runs from 0, or the "
	"lowest value when overspent, to 100%), the worst burn rate of the "
	"burn windows (a cell shows its highest; the scale runs from 0 to the "
	"highest, at least 1), and the state (▁ ok, ▄ warning, ▆ unknown, █ "
	"critical). · marks a cell without evaluations. With -o json the "
	"cells come as numbers. The history is kept for [core] history "
	"(30d).",
	.opts = history_opts,
	.needs = MC_NEED_CONFIG | MC_NEED_STATE,
	.min_args = 1,
	.max_args = 1,
	.complete_section = "slo",
	.run = history_run,
};

static const struct mc_cmd *const slo_subs[] = {
	&mc_cmd_slo_status, &mc_cmd_slo_rules, &mc_cmd_slo_history, NULL,
};

const struct mc_cmd mc_cmd_slo = {
	.examples =
	"The state, budget and burn rates of every SLO:\n"
	"$ mercuryctl slo status\n"
	"As they were during an incident:\n"
	"$ mercuryctl slo status ingest --at 2026-11-22T10:00:00Z\n"
	"Prometheus rules for them, checked by promtool:\n"
	"$ mercuryctl slo rules > slo.rules.yml && promtool check rules "
	"slo.rules.yml\n"
	"The remaining budget over the last month:\n"
	"$ mercuryctl slo history ingest --since 30d\n",
	.name = "slo",
	.summary = "Service level objectives: status, Prometheus rules, history",
	.description =
	"SLOs are [slo \"NAME\"] sections: an objective (99.9), a window "
	"(default 30d), and error and total PromQL queries with a {{window}} "
	"placeholder, evaluated against [core] prometheus_url. See "
	"mercury.conf(5) for the page and ticket policy and min_rate.",
	.subs = slo_subs,
	.needs = MC_NEED_CONFIG,
};
