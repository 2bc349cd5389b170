/* breaker.c - `mercuryctl breaker list|reset`: the circuit breakers. */
#include "cmd.h"
#include "coord.h"

#include <stdlib.h>
#include <string.h>

/* The fleet's breakers (shared: the webhooks'), when the run uses the
 * fleet, then this host's (the state file: checks, Prometheus, OAuth);
 * *n_fleet says how many come first. A fleet that fails during the call
 * leaves the run on the state file (coord.h): then there are none. */
static int all_breakers(struct mc_ctx *ctx, int64_t recovery_ms,
			struct mc_breaker_info **out, size_t *n,
			size_t *n_fleet, struct mc_err *err)
{
	struct mc_breaker_info *local = NULL;
	size_t nl = 0;

	*out = NULL;
	*n = *n_fleet = 0;
	if (mc_coord_fleet(ctx->coord) != NULL) {
		if (mc_coord_breaker_list(ctx->coord, NULL, recovery_ms, out,
					  n_fleet, err) < 0)
			return -1;
		if (mc_coord_fleet(ctx->coord) == NULL) {
			mc_breaker_info_free(*out, *n_fleet);
			*out = NULL;
			*n_fleet = 0;
		}
	}
	if (mc_breaker_list(ctx->st, NULL, recovery_ms, &local, &nl,
			    err) < 0) {
		mc_breaker_info_free(*out, *n_fleet);
		*out = NULL;
		*n_fleet = 0;
		return -1;
	}
	if (*n_fleet == 0) {
		free(*out);
		*out = local;
		*n = nl;
		return 0;
	}
	*out = mc_realloc(*out, (*n_fleet + nl) * sizeof(**out));
	if (nl)
		memcpy(*out + *n_fleet, local, nl * sizeof(*local));
	free(local);
	*n = *n_fleet + nl;
	return 0;
}

static int list_run(struct mc_ctx *ctx)
{
	static const char *const headers[] = { "NAME", "STATE", "FAILURES",
					       "OPENED", "RETRY AT", "SCOPE" };
	struct mc_breaker_conf bc;
	struct mc_breaker_info *list = NULL;
	size_t n = 0, n_fleet = 0;
	json_t *arr = json_array();
	/* the SCOPE column with a [fleet] section only */
	int cols = mc_coord_fleet_conf(ctx->coord) != NULL ? 6 : 5;
	struct mc_table *t = mc_table_new(cols, headers);

	json_object_set_new(ctx->report.doc, "breakers", arr);
	mc_ctx_breaker_conf(ctx, &bc);
	if (all_breakers(ctx, bc.recovery_ms, &list, &n, &n_fleet,
			 &ctx->err) < 0) {
		mc_table_free(t);
		return -1;
	}
	if (mc_args_count(ctx->args, "names")) {
		/* one a line, for scripts and the shell completions */
		for (size_t i = 0; i < n; i++) {
			mc_buf_printf(&ctx->report.text, "%s\n", list[i].name);
			json_array_append_new(arr, mc_json_str(list[i].name));
		}
		mc_table_free(t);
		mc_breaker_info_free(list, n);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		const struct mc_breaker_info *b = &list[i];
		json_t *o = json_object();
		char opened[40] = "-", retry[40] = "-", fails[16];
		char opened_t[40] = "-", retry_t[40] = "-";
		const char *cells[6];
		const char *scope = i < n_fleet ? "fleet" : "local";

		json_object_set_new(o, "name", mc_json_str(b->name));
		json_object_set_new(o, "state",
				    mc_json_str(mc_breaker_state_name(b->state)));
		json_object_set_new(o, "failures", json_integer(b->failures));
		json_object_set_new(o, "scope", mc_json_str(scope));
		if (b->opened_at > 0) {
			mc_format_time(b->opened_at, opened, sizeof(opened));
			json_object_set_new(o, "opened_at", mc_json_str(opened));
			mc_format_time_text(b->opened_at, opened_t,
					    sizeof(opened_t));
		}
		if (b->state == MC_BREAKER_OPEN && b->retry_at > 0) {
			mc_format_time(b->retry_at, retry, sizeof(retry));
			json_object_set_new(o, "retry_at", mc_json_str(retry));
			mc_format_time_text(b->retry_at, retry_t,
					    sizeof(retry_t));
		}
		json_array_append_new(arr, o);
		snprintf(fails, sizeof(fails), "%d", b->failures);
		cells[0] = b->name;
		cells[1] = mc_breaker_state_name(b->state);
		cells[2] = fails;
		cells[3] = opened_t;
		cells[4] = retry_t;
		cells[5] = scope;
		mc_table_row(t, cells);
	}
	mc_table_render_or(t, &ctx->report.text, ctx->color, NULL,
			   "no circuit breakers recorded\n");
	mc_table_free(t);
	mc_breaker_info_free(list, n);
	return 0;
}

/* A name that is no breaker: breakers are named KIND:NAME (webhook:ops,
 * check:api), so say which one was likely meant. */
static int no_such_breaker(struct mc_ctx *ctx, const char *name)
{
	struct mc_breaker_info *list = NULL;
	const char **names;
	const char *near = NULL;
	size_t n = 0, n_fleet;

	if (all_breakers(ctx, 0, &list, &n, &n_fleet, NULL) < 0)
		n = 0;
	names = mc_calloc(n ? n : 1, sizeof(*names));
	for (size_t i = 0; i < n; i++) {
		const char *colon = strchr(list[i].name, ':');

		names[i] = list[i].name;
		if (near == NULL && colon && strcmp(colon + 1, name) == 0)
			near = list[i].name;
	}
	if (near == NULL)
		near = mc_suggest(name, names, n);
	mc_err_set(&ctx->err, MC_EXIT_USAGE, "no breaker named '%s'%s%s%s "
		   "(breakers are named KIND:NAME, e.g. webhook:NAME; see "
		   "breaker list)", name, near ? ": did you mean '" : "",
		   near ? near : "", near ? "'?" : "");
	free(names);
	mc_breaker_info_free(list, n);
	return -1;
}

/* A fleet breaker and this host's of the same name both close; either
 * is enough. */
static int reset_run(struct mc_ctx *ctx)
{
	const char *name = ctx->args->pos[0];
	struct mc_err e = { 0 };
	int done = 0;

	if (mc_ctx_lock(ctx, "breaker") < 0)
		return -1;
	if (mc_coord_fleet(ctx->coord) != NULL) {
		if (mc_coord_breaker_reset(ctx->coord, name, &e) == 0) {
			/* degraded during the call: that was this host's */
			if (mc_coord_fleet(ctx->coord) == NULL)
				goto said;
			done = 1;
		} else if (e.code != MC_EXIT_USAGE) {
			ctx->err = e;
			return -1;
		}
	}
	if (mc_breaker_reset(ctx->st, name, &ctx->err) < 0) {
		if (ctx->err.code != MC_EXIT_USAGE)
			return -1;
		if (!done)
			return no_such_breaker(ctx, name);
		mc_err_clear(&ctx->err);
	}
said:
	mc_buf_printf(&ctx->report.text, "breaker '%s' reset (closed)\n", name);
	json_object_set_new(ctx->report.doc, "reset", mc_json_str(name));
	json_object_set_new(ctx->report.doc, "state", json_string("closed"));
	return 0;
}

static const struct mc_opt list_opts[] = {
	{ 0, "names", NULL, MC_OPT_FLAG, MC_ARG_STRING, NULL,
	  "Print only the breakers' names, one a line", 0 },
	{ 0 },
};

static const struct mc_cmd breaker_list = {
	.name = "list",
	.opts = list_opts,
	.summary = "List the circuit breakers and their states",
	.needs = MC_NEED_CONFIG | MC_NEED_STATE,
	.max_args = 0,
	.run = list_run,
};

static const struct mc_cmd breaker_reset = {
	.name = "reset",
	.summary = "Close the circuit breaker NAME",
	.args = "NAME",
	.description =
	"NAME is as breaker list shows it: KIND:NAME, e.g. webhook:ops for the "
	"webhook ops (the shell completions offer the names; a bare ops is "
	"answered with the full name it likely meant).",
	.complete_cmd = "breaker list --names",
	.needs = MC_NEED_CONFIG | MC_NEED_STATE,
	.min_args = 1,
	.max_args = 1,
	.run = reset_run,
};

static const struct mc_cmd *const breaker_subs[] = {
	&breaker_list, &breaker_reset, NULL,
};

const struct mc_cmd mc_cmd_breaker = {
	.examples =
	"See which targets are refused without trying:\n"
	"$ mercuryctl breaker list\n"
	"Close the breaker of the webhook ops after fixing its URL:\n"
	"$ mercuryctl breaker reset webhook:ops\n",
	.name = "breaker",
	.summary = "Inspect and reset the circuit breakers kept in the state file",
	.description =
	"Every external target has a circuit breaker: each health check that "
	"probes one (named check:NAME), webhook (webhook:NAME), SLO's "
	"Prometheus queries (slo NAME) and OAuth provider (oauth NAME). After "
	"breaker_failures consecutive failures it "
	"opens and calls are refused without trying; after breaker_recovery it "
	"lets one probe through and closes again on success. Breakers are kept "
	"in the state file, so they work across cron runs. With a [fleet] "
	"section (mercuryctl-fleet(1)) the webhooks' breakers are the fleet's, "
	"shared by every host: breaker list shows them first (SCOPE fleet; "
	"\"scope\": \"fleet\" in JSON) beside this host's (local), and "
	"breaker reset closes the fleet's breaker and this host's of that "
	"name, whichever there are.",
	.subs = breaker_subs,
};
