/*
 * check_oauth.c - the oauth check type: the state of an [oauth "NAME"]
 * provider's token, as `mercuryctl oauth status` reports it (ok; warning
 * with less than warn_before left, expired but refreshable, or no token yet
 * for client_credentials; critical when it needs login or is expired with
 * no way to refresh). Reads the state file only: no request goes out.
 */
#include "check.h"
#include "oauth.h"

#include <stdlib.h>

static const struct mc_conf_key oauth_keys[] = {
	{ .name = "provider", .type = MC_CT_STRING, .flags = MC_CK_REQUIRED,
	  .help = "the [oauth \"NAME\"] provider whose token is watched" },
	{ .name = "warn_before", .type = MC_CT_DURATION,
	  .help = "warn when less than this is left (default: the "
		  "provider's warn_before)" },
	{ .name = NULL },
};

static void run_oauth(const struct mc_check *c, const struct mc_health_env *env,
		      struct mc_check_result *r)
{
	static const int status[] = { MC_ST_OK, MC_ST_WARNING,
				      MC_ST_CRITICAL };
	const char *name = c->sec ? mc_conf_str(c->sec, "provider") : NULL;
	struct mc_oauth_provider *p = NULL;
	struct mc_oauth_token t;
	struct mc_err err = { 0 };
	size_t n = 0;
	char why[256];
	int st;

	if (name == NULL || env->st == NULL ||
	    mc_oauth_load(env->conf, &name, 1, &p, &n, &err) < 0 ||
	    mc_oauth_token_read(env->st, name, &t, &err) < 0) {
		mc_check_set(r, MC_ST_UNKNOWN, "%s", err.msg[0] ? err.msg :
			     "no provider or no state file");
		mc_oauth_providers_free(p, n);
		return;
	}
	st = mc_oauth_state(p, &t, mc_wall_now(),
			    c->sec ? mc_conf_ms(c->sec, "warn_before", -1) : -1,
			    why, sizeof(why));
	if (t.access_token != NULL && t.expires_at > 0) {
		r->has_value = 1;
		r->value = t.expires_at - mc_wall_now();
		r->unit = "s";
	}
	mc_check_set(r, status[st], "provider %s: %s", name, why);
	mc_oauth_token_release(&t);
	mc_oauth_providers_free(p, n);
}

const struct mc_check_type mc_check_oauth = {
	.name = "oauth",
	.flags = MC_CHECK_MAIN,
	.run = run_oauth,
	.keys = oauth_keys,
};
