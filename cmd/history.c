/* history.c - `mercuryctl history`: the runs recorded in the state file. */
#include "cmd.h"

#include <stdlib.h>
#include <string.h>

static int history_run(struct mc_ctx *ctx)
{
	static const char *const headers[] = { "ID", "STARTED", "COMMAND",
					       "STATUS", "EXIT", "DURATION",
					       "CORRELATION ID" };
	const char *cmd = mc_args_value(ctx->args, "command");
	struct mc_run *runs = NULL;
	size_t n = 0;
	long long limit = mc_args_int(ctx->args, "limit", 20);
	json_t *arr = json_array();
	struct mc_table *t = mc_table_new(7, headers);

	json_object_set_new(ctx->report.doc, "runs", arr);
	if (mc_state_runs(ctx->st, cmd, mc_ctx_since(ctx, 0, mc_wall_now()),
			  (int)limit, &runs, &n, &ctx->err) < 0) {
		mc_table_free(t);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const struct mc_run *r = &runs[i];
		json_t *o = json_object();
		char started[40], code[16], dur[32];
		const char *cells[7];

		mc_format_time(r->started, started, sizeof(started));
		json_object_set_new(o, "id", json_integer(r->id));
		json_object_set_new(o, "command", json_string(r->command));
		/* Rows written before text was escaped may hold any bytes:
		 * mc_json_str keeps them rather than lose the member. */
		json_object_set_new(o, "args", mc_json_str(r->args ? r->args : ""));
		json_object_set_new(o, "started", json_string(started));
		json_object_set_new(o, "status", json_string(r->status));
		json_object_set_new(o, "correlation_id",
				    json_string(r->correlation_id ?
						r->correlation_id : ""));
		json_object_set_new(o, "pid", json_integer(r->pid));
		if (r->ended > 0) {
			json_object_set_new(o, "duration_ms",
					    json_real((r->ended - r->started) * 1e3));
			json_object_set_new(o, "exit_code",
					    json_integer(r->exit_code));
			snprintf(code, sizeof(code), "%d", r->exit_code);
			snprintf(dur, sizeof(dur), "%.1fms",
				 (r->ended - r->started) * 1e3);
		} else {
			json_object_set_new(o, "duration_ms", json_null());
			json_object_set_new(o, "exit_code", json_null());
			snprintf(code, sizeof(code), "-");
			snprintf(dur, sizeof(dur), "-");
		}
		if (r->message)
			json_object_set_new(o, "message", mc_json_str(r->message));
		json_array_append_new(arr, o);
		started[19] = '\0';	/* to the second, for people */
		snprintf(started + 19, sizeof(started) - 19, "Z");
		{
			char id[24];

			snprintf(id, sizeof(id), "%lld", (long long)r->id);
			cells[0] = id;
			cells[1] = started;
			cells[2] = r->command;
			cells[3] = r->status;
			cells[4] = code;
			cells[5] = dur;
			cells[6] = r->correlation_id ? r->correlation_id : "";
			mc_table_row(t, cells);
		}
	}
	if (n)
		mc_table_render(t, &ctx->report.text, ctx->color, NULL);
	else
		mc_buf_puts(&ctx->report.text, "no runs recorded\n");
	mc_table_free(t);
	mc_runs_free(runs, n);
	return 0;
}

static const struct mc_opt history_opts[] = {
	{ 0, "command", "COMMAND", MC_OPT_VALUE, MC_ARG_STRING, NULL,
	  "Only runs of COMMAND (e.g. health, \"breaker reset\")", 0 },
	{ 0, "since", "DURATION", MC_OPT_VALUE, MC_ARG_DURATION, NULL,
	  "Only runs started within DURATION", 0 },
	{ 'n', "limit", "N", MC_OPT_VALUE, MC_ARG_INT, "1..1000000",
	  "Show at most N runs (default 20; 1 to 1000000)", 0 },
	{ 0 },
};

const struct mc_cmd mc_cmd_history = {
	.name = "history",
	.summary = "List the runs recorded in the state file",
	.description =
	"Lists runs newest first: when each started, the command, its status "
	"(ok, warning, critical, unknown, error, interrupted, or running for a "
	"run that is still going or was killed), exit code, duration and "
	"correlation id. Informational commands (version, completion, config, "
	"--help) do not touch the state file and are not recorded.",
	.opts = history_opts,
	.needs = MC_NEED_CONFIG | MC_NEED_STATE,
	.max_args = 0,
	.run = history_run,
};
