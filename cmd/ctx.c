/* ctx.c - helpers the command fronts share. */
#include "cmd.h"

#include <stdlib.h>
#include <string.h>

struct mc_http *mc_ctx_http(struct mc_ctx *ctx)
{
	if (ctx->http == NULL)
		ctx->http = mc_http_new(ctx->correlation_id, &ctx->err);
	return ctx->http;
}

int mc_ctx_lock(struct mc_ctx *ctx, const char *name)
{
	const char *w = mc_args_value(ctx->args, "wait-lock");
	int64_t wait_ms = 0;
	char *dir;

	if (w && mc_parse_duration_ms(w, &wait_ms, &ctx->err) < 0)
		return -1;
	dir = mc_asprintf("%s/locks", mc_state_dir(ctx->st));
	ctx->lock = mc_lock_take(dir, name, wait_ms, &ctx->err);
	free(dir);
	return ctx->lock ? 0 : -1;
}

void mc_ctx_breaker_conf(const struct mc_ctx *ctx, struct mc_breaker_conf *bc)
{
	const struct mc_conf_section *core = mc_conf_core(ctx->conf);

	bc->failures = (int)mc_conf_int(core, "breaker_failures", 5);
	bc->recovery_ms = mc_conf_ms(core, "breaker_recovery", 30000);
}
