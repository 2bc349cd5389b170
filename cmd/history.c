/* history.c - `mercuryctl history`: the runs recorded in the state file. */
#include "cmd.h"

#include <stdlib.h>
#include <string.h>

/* In text, the command line and a failed run's message are cut to these
 * many characters (JSON has them whole). */
#define HISTORY_ARGS_MAX 60
#define HISTORY_MSG_MAX 100

static int history_run(struct mc_ctx *ctx)
{
	static const char *const headers[] = { "ID", "STARTED", "STATUS",
					       "EXIT", "DURATION",
					       "CORRELATION ID", "COMMAND" };
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
		json_object_set_new(o, "command", mc_json_str(r->command));
		/* Rows written before text was escaped may hold any bytes:
		 * mc_json_str keeps them rather than lose the member. */
		json_object_set_new(o, "args", mc_json_str(r->args ? r->args : ""));
		json_object_set_new(o, "started", mc_json_str(started));
		json_object_set_new(o, "status", mc_json_str(r->status));
		json_object_set_new(o, "correlation_id",
				    mc_json_str(r->correlation_id ?
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
		mc_format_time_text(r->started, started, sizeof(started));
		{
			char id[24];
			/* The command line as given (secrets were masked when
			 * it was recorded), and why a run failed. */
			char *line = mc_column_text(r->args && *r->args ?
						    r->args : r->command,
						    HISTORY_ARGS_MAX);
			char *msg = r->message ?
				    mc_column_text(r->message,
						   HISTORY_MSG_MAX) : NULL;
			char *last = msg ? mc_asprintf("%s  (%s)", line, msg) :
				     mc_strdup(line);

			snprintf(id, sizeof(id), "%lld", (long long)r->id);
			cells[0] = id;
			cells[1] = started;
			cells[2] = r->status;
			cells[3] = code;
			cells[4] = dur;
			cells[5] = r->correlation_id ? r->correlation_id : "";
			cells[6] = last;
			mc_table_row(t, cells);
			free(last);
			free(msg);
			free(line);
		}
	}
	mc_table_render_or(t, &ctx->report.text, ctx->color, NULL,
			   "no runs recorded\n");
	mc_table_free(t);
	mc_runs_free(runs, n);
	return 0;
}

static const struct mc_opt history_opts[] = {
	{ 0, "command", "COMMAND", MC_OPT_VALUE, MC_ARG_STRING, NULL,
	  "Only runs of COMMAND and its subcommands (e.g. job, \"dlq "
	  "replay\")", 0 },
	{ 0, "since", "DURATION", MC_OPT_VALUE, MC_ARG_DURATION, NULL,
	  "Only runs started within DURATION", 0 },
	{ 'n', "limit", "N", MC_OPT_VALUE, MC_ARG_INT, "1..1000000",
	  "Show at most N runs (default 20; 1 to 1000000)", 0 },
	{ 0 },
};

const struct mc_cmd mc_cmd_history = {
	.examples =
	"The last 20 runs, with their command lines and errors:\n"
	"$ mercuryctl history\n"
	"Every DLQ replay of the last week, as JSON:\n"
	"$ mercuryctl history --command \"dlq replay\" --since 7d -n 1000 --json\n"
	"Every run of a job command (job run, job list, ...):\n"
	"$ mercuryctl history --command job\n",
	.name = "history",
	.summary = "List the runs recorded in the state file",
	.description =
	"Lists runs newest first: when each started, its status (ok, warning, "
	"critical, unknown, error, interrupted, or running for a run that is "
	"still going or was killed), exit code, duration, correlation id, and "
	"the command line as given (secrets masked), followed for a failed "
	"run by its error message in parentheses; text cuts the command line "
	"at 60 characters and the message at 100, JSON (\"args\", "
	"\"message\") has them whole. Informational commands (version, "
	"completion, config, --help) do not touch the state file and are not "
	"recorded.",
	.opts = history_opts,
	.needs = MC_NEED_CONFIG | MC_NEED_STATE,
	.max_args = 0,
	.run = history_run,
};
