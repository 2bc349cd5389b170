/* health.c - `mercuryctl health`: run the checks, report, record. */
#include "cmd.h"
#include "health.h"

#include <string.h>

static int health_run(struct mc_ctx *ctx)
{
	struct mc_health h;
	struct mc_health_env env = { ctx->st, &ctx->dl };
	int code;

	if (mc_health_select(ctx->conf, ctx->st,
			     (const char *const *)ctx->args->pos,
			     (size_t)ctx->args->n_pos,
			     mc_args_count(ctx->args, "critical-only"), &h,
			     &ctx->err) < 0)
		return -1;
	mc_health_run(&h, &env);
	mc_health_report(&h, ctx->correlation_id, &ctx->report);
	if (h.status != MC_RUN_OK && ctx->report.nagios) {
		/* The Nagios line without perfdata is the one-line summary. */
		char *bar = strstr(ctx->report.nagios, " |");

		ctx->report.summary = bar ? mc_strndup(ctx->report.nagios,
						       (size_t)(bar - ctx->report.nagios))
					  : mc_strdup(ctx->report.nagios);
	}
	code = h.status;
	if (mc_health_record(ctx->st, ctx->run_id, &h, &ctx->err) < 0)
		code = -1;
	mc_health_free(&h);
	return code;
}

static const struct mc_opt health_opts[] = {
	{ 0, "critical-only", NULL, MC_OPT_FLAG, MC_ARG_STRING, NULL,
	  "Run only the checks marked critical (a readiness gate)", 0 },
	{ 0 },
};

const struct mc_cmd mc_cmd_health = {
	.name = "health",
	.summary = "Run the configured health checks and report their status",
	.args = "[CHECK...]",
	.description =
	"Runs the checks of the configuration's [check \"NAME\"] sections, or "
	"the named ones, each under its own timeout, and reports each check's "
	"status (ok, warning, critical, unknown), latency and message. With no "
	"checks configured, the built-in ones run: state (the state file opens "
	"and passes SQLite's quick_check), disk (usage of the state file's "
	"file system) and memory.\n\n"
	"The run is ok (exit 0) when every check is ok; degraded (exit 1) when "
	"a check warns or a check not marked critical fails; unavailable "
	"(exit 2) when a check marked critical fails; unknown (exit 3) when "
	"nothing failed but a check could not be evaluated. Every run and "
	"every result is recorded in the state file.",
	.opts = health_opts,
	.needs = MC_NEED_CONFIG | MC_NEED_STATE,
	.max_args = -1,
	.complete_section = "check",
	.run = health_run,
};
