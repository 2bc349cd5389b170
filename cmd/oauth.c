/* oauth.c - `mercuryctl oauth status|refresh|login|token|exec|revoke`:
 * OAuth 2.0 tokens kept fresh for cron jobs and scripts. */
#include "cmd.h"
#include "alert.h"
#include "coord.h"
#include "oauth.h"
#include "proc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --min-valid's default. */
#define MIN_VALID_MS 60000

static void env_init(struct mc_ctx *ctx, struct mc_oauth_env *env)
{
	memset(env, 0, sizeof(*env));
	env->st = ctx->st;
	env->http = mc_ctx_http(ctx);
	env->dl = &ctx->dl;
	/* a machine format (-o json, prom, nagios) keeps stdout for its
	 * one rendering: the prompts go to stderr */
	env->out = ctx->format == MC_FMT_TEXT ? stdout : stderr;
	env->no_browser = mc_args_count(ctx->args, "no-browser") > 0;
}

static int duration_opt(struct mc_ctx *ctx, const char *name, int64_t *ms)
{
	const char *v = mc_args_value(ctx->args, name);
	struct mc_err e = { 0 };

	if (v == NULL)
		return 0;
	if (mc_parse_duration_ms(v, ms, &e) < 0)
		return mc_err_set(&ctx->err, MC_EXIT_USAGE, "--%s: %s", name,
				  e.msg);
	return 1;
}

/* The one provider a command names. */
static int one_provider(struct mc_ctx *ctx, struct mc_oauth_provider **p)
{
	size_t n = 0;
	const char *name = ctx->args->pos[0];

	if (mc_oauth_load(ctx->conf, &name, 1, p, &n, &ctx->err) < 0)
		return -1;
	return 0;
}

static void prom_samples_to(struct mc_buf *prom, const char *provider,
			    const struct mc_oauth_token *t, int needs_login)
{
	char *label = mc_prom_label(provider);
	char *labels = mc_asprintf("provider=\"%s\"", label);

	if (t->access_token && t->expires_at > 0)
		mc_prom_sample(prom,
			       "mercury_oauth_token_expiry_timestamp_seconds",
			       "gauge", "When the provider's access token "
			       "expires (Unix time)", labels, t->expires_at);
	mc_prom_sample(prom, "mercury_oauth_needs_login", "gauge",
		       "1 when the provider needs `mercuryctl oauth login`",
		       labels, needs_login);
	free(labels);
	free(label);
}

static void prom_samples(struct mc_report *r, const char *provider,
			 const struct mc_oauth_token *t, int needs_login)
{
	prom_samples_to(&r->prom, provider, t, needs_login);
}

/* Time left, to the second, for people. */
static void fmt_left(double seconds, char *buf, size_t size)
{
	if (seconds <= 0)
		snprintf(buf, size, "expired");
	else
		mc_format_duration((int64_t)seconds * 1000, buf, size);
}

/* ---- status ------------------------------------------------------------- */

/* One provider's row, JSON object, samples and Nagios part; returns the
 * worse of worst and its state (or its error's exit code). */
static int status_one(struct mc_ctx *ctx, const char *name, int64_t warn,
		      double now, struct mc_table *tab, json_t *arr,
		      struct mc_buf *nag, int worst)
{
	struct mc_oauth_provider *p = NULL;
	struct mc_oauth_token t;
	size_t np;
	char why[MC_ERR_MSG + 256], left[32] = "-", last[40] = "-";
	const char *cells[7];
	json_t *o = json_object();
	int st;

	json_object_set_new(o, "provider", mc_json_str(name));
	json_array_append_new(arr, o);
	if (mc_oauth_load(ctx->conf, &name, 1, &p, &np, &ctx->err) < 0 ||
	    mc_oauth_token_read(ctx->st, name, &t, &ctx->err) < 0) {
		json_object_set_new(o, "state", json_string("unknown"));
		json_object_set_new(o, "error", mc_json_str(ctx->err.msg));
		cells[0] = name;
		cells[1] = "-";
		cells[2] = "unknown";
		cells[3] = cells[4] = cells[5] = "-";
		cells[6] = ctx->err.msg;
		mc_table_row(tab, cells);
		if (ctx->err.code > worst)
			worst = ctx->err.code;
		mc_oauth_providers_free(p, p ? 1 : 0);
		mc_err_clear(&ctx->err);
		return worst;
	}
	st = mc_oauth_state(p, &t, now, warn, why, sizeof(why));
	if (st > worst)
		worst = st;
	if (t.access_token && t.expires_at > 0) {
		double l = t.expires_at - now;

		fmt_left(l, left, sizeof(left));
		json_object_set_new(o, "expires_in_seconds",
				    json_real(l));
		{
			char at[40];

			mc_format_time(t.expires_at, at, sizeof(at));
			json_object_set_new(o, "expires_at",
					    mc_json_str(at));
		}
	} else if (t.access_token) {
		snprintf(left, sizeof(left), "unknown");
	}
	if (t.last_refresh > 0) {
		mc_format_time(t.last_refresh, last, sizeof(last));
		json_object_set_new(o, "last_refresh",
				    mc_json_str(last));
		json_object_set_new(o, "last_result",
				    mc_json_str(t.last_result ?
						t.last_result : ""));
	}
	json_object_set_new(o, "grant",
			    mc_json_str(mc_oauth_grant_name(p->grant)));
	json_object_set_new(o, "state", mc_json_str(mc_status_name(st)));
	json_object_set_new(o, "has_refresh_token",
			    json_boolean(t.refresh_token != NULL));
	json_object_set_new(o, "needs_login",
			    json_boolean(st == MC_OAUTH_UNUSABLE &&
					 mc_oauth_needs_user(p)));
	json_object_set_new(o, "message", mc_json_str(why));
	cells[0] = name;
	cells[1] = mc_oauth_grant_name(p->grant);
	cells[2] = mc_status_name(st);
	cells[3] = left;
	cells[4] = t.refresh_token ? "yes" : "no";
	cells[5] = last;
	if (t.last_result && strcmp(t.last_result, "ok") != 0) {
		size_t l = strlen(why);

		snprintf(why + l, sizeof(why) - l, " (last refresh: %s)",
			 t.last_result);
	}
	cells[6] = why;
	mc_table_row(tab, cells);
	prom_samples(&ctx->report, name, &t, st == MC_OAUTH_UNUSABLE &&
		     mc_oauth_needs_user(p));
	mc_buf_printf(nag, "%s%s %s", nag->len ? ", " : "", name, why);
	mc_oauth_token_release(&t);
	mc_oauth_providers_free(p, 1);
	return worst;
}

static int status_run(struct mc_ctx *ctx)
{
	static const char *const headers[] = { "PROVIDER", "GRANT", "STATE",
		"EXPIRES IN", "REFRESH TOKEN", "LAST REFRESH", "DETAIL" };
	const struct mc_conf_section **secs = NULL;
	struct mc_table *tab = mc_table_new(7, headers);
	json_t *arr = json_array();
	struct mc_buf nag = { 0 };
	int64_t warn = -1;
	size_t n = 0;
	int worst = 0;
	double now = mc_wall_now();

	json_object_set_new(ctx->report.doc, "providers", arr);
	if (duration_opt(ctx, "warn-before", &warn) < 0 ||
	    mc_conf_select(ctx->conf, "oauth", "provider",
			   (const char *const *)ctx->args->pos,
			   (size_t)ctx->args->n_pos, &secs, &n, &ctx->err) < 0) {
		mc_table_free(tab);
		return -1;
	}
	if (n == 0) {
		mc_table_free(tab);
		free(secs);
		return mc_err_set(&ctx->err, MC_EXIT_USAGE, "no [oauth \"NAME\"] "
				  "section is configured");
	}
	for (size_t i = 0; i < n; i++)
		worst = status_one(ctx, secs[i]->name, warn, now, tab, arr, &nag,
				   worst);
	mc_table_render(tab, &ctx->report.text, ctx->color, NULL);
	mc_table_free(tab);
	free(secs);
	{
		ctx->report.nagios = mc_asprintf("OAUTH %s - %s",
						 mc_status_word(worst),
						 nag.data ? nag.data : "");
		for (char *c = ctx->report.nagios; *c; c++)
			if (*c == '|' || *c == '\n')
				*c = '/';
		ctx->report.summary = mc_asprintf("oauth status: %s",
						  nag.data ? nag.data : "");
		/* the verdict, as job list and health give it */
		json_object_set_new(ctx->report.doc, "status",
				    mc_json_str(mc_status_name(worst)));
	}
	mc_buf_release(&nag);
	return worst;
}

static const struct mc_opt status_opts[] = {
	{ 0, "warn-before", "DURATION", MC_OPT_VALUE, MC_ARG_DURATION, NULL,
	  "Warn when less than DURATION is left (default: warn_before)", 0 },
	{ 0 },
};

static const struct mc_cmd oauth_status = {
	.name = "status",
	.summary = "Show each provider's token: time left, refresh token, "
		   "needs-login",
	.args = "[PROVIDER...]",
	.description =
	"For each [oauth \"NAME\"] provider (or the named ones) shows the "
	"grant, the time its access token has left, whether a refresh "
	"token is held, whether it needs login, and the last refresh with "
	"its result. Reads the state file only: no request goes out. "
	"Exits 0 when every token is fine (or its expiry is unknown), 1 "
	"when one has less than warn_before (or --warn-before) left, is "
	"expired but can be refreshed, or a client_credentials provider "
	"has no token yet, and 2 when one needs login or is expired with "
	"no way to refresh it; the JSON document's \"status\" (ok, warning, "
	"critical) says the same. With -o prom it gives "
	"mercury_oauth_token_expiry_timestamp_seconds{provider} and "
	"mercury_oauth_needs_login{provider} (oauth refresh too, for the "
	"providers it refreshed). With --textfile-dir every oauth command "
	"writes them for every provider, from the state file, to "
	"DIR/mercuryctl_oauth.prom.",
	.opts = status_opts,
	.needs = MC_NEED_CONFIG | MC_NEED_STATE,
	.max_args = -1,
	.complete_section = "oauth",
	.run = status_run,
};

/* ---- refresh ------------------------------------------------------------ */

/* --notify: one alert when a provider starts needing login. */
static void notify_login(struct mc_ctx *ctx, const char *provider,
			 json_t *o)
{
	struct mc_webhook *whs = NULL;
	struct mc_delivery *d = NULL;
	struct mc_alert a;
	struct mc_alert_env aenv = { ctx->st, mc_ctx_http(ctx), &ctx->dl,
				     NULL, ctx->run_id, ctx->coord };
	struct mc_err e = { 0 };
	size_t nw = 0;
	char *label;

	if (mc_webhooks_load(ctx->conf, NULL, 0, &whs, &nw, &e) < 0) {
		mc_log(MC_LOG_ERROR, "oauth refresh --notify: %s", e.msg);
		return;
	}
	if (nw == 0) {
		mc_log(MC_LOG_WARN, "oauth refresh --notify: provider '%s' "
		       "needs login, but no [webhook] is configured", provider);
		mc_webhooks_free(whs, nw);
		return;
	}
	memset(&a, 0, sizeof(a));
	a.action = MC_ACT_TRIGGER;
	a.severity = MC_SEV_CRITICAL;
	a.summary = mc_asprintf("OAuth provider %s needs login", provider);
	a.description = mc_asprintf("The refresh of provider %s failed for "
				    "good: run `mercuryctl oauth login %s`.",
				    provider, provider);
	a.correlation_id = mc_strdup(ctx->correlation_id);
	a.started = mc_wall_now();
	label = mc_asprintf("provider=%s", provider);
	if (mc_alert_add_label(&a, label, &e) < 0 ||
	    mc_alert_add_label(&a, "alertname=OAuthNeedsLogin", &e) < 0 ||
	    mc_alert_finish(&a, &e) < 0 ||
	    aenv.http == NULL ||
	    mc_alert_deliver(&aenv, &a, whs, nw, &d, &e) < 0) {
		mc_log(MC_LOG_ERROR, "oauth refresh --notify: %s", e.msg);
	} else {
		json_object_set_new(o, "notified", mc_deliveries_json(d, nw));
		if (mc_deliveries_exit(d, nw) == 0) {
			if (mc_oauth_set_notified(ctx->st, provider, 1, &e) < 0)
				mc_log(MC_LOG_ERROR, "oauth refresh --notify: %s",
				       e.msg);
		} else {
			mc_log(MC_LOG_WARN, "oauth refresh --notify: the alert "
			       "for provider '%s' did not reach every webhook; "
			       "the next run tries again", provider);
		}
		mc_deliveries_free(d, nw);
	}
	free(label);
	mc_alert_release(&a);
	mc_webhooks_free(whs, nw);
}

static int refresh_run(struct mc_ctx *ctx)
{
	const struct mc_conf_section **secs = NULL;
	json_t *arr = json_array();
	int64_t within = -1;
	int force = mc_args_count(ctx->args, "force") > 0;
	int notify = mc_args_count(ctx->args, "notify") > 0;
	struct mc_oauth_env env;
	struct mc_buf failed = { 0 };
	size_t n = 0;
	int worst = 0;

	json_object_set_new(ctx->report.doc, "providers", arr);
	if (duration_opt(ctx, "if-expiring-within", &within) < 0 ||
	    mc_conf_select(ctx->conf, "oauth", "provider",
			   (const char *const *)ctx->args->pos,
			   (size_t)ctx->args->n_pos, &secs, &n, &ctx->err) < 0)
		return -1;
	if (n == 0) {
		free(secs);
		return mc_err_set(&ctx->err, MC_EXIT_USAGE, "no [oauth \"NAME\"] "
				  "section is configured");
	}
	env_init(ctx, &env);
	if (env.http == NULL) {
		free(secs);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct mc_oauth_provider *p = NULL;
		struct mc_oauth_token t;
		struct mc_err e = { 0 };
		const char *name = secs[i]->name;
		json_t *o = json_object();
		size_t np;
		int refreshed = 0, code = 0;

		json_object_set_new(o, "provider", mc_json_str(name));
		json_array_append_new(arr, o);
		if (mc_oauth_load(ctx->conf, &name, 1, &p, &np, &e) < 0 ||
		    mc_oauth_ensure(&env, p, within >= 0 ? within :
				    p->refresh_before_ms, force, &t, &refreshed,
				    &e) < 0) {
			code = e.code ? e.code : MC_EXIT_CRITICAL;
			json_object_set_new(o, "result", json_string("failed"));
			json_object_set_new(o, "error", mc_json_str(e.msg));
			mc_buf_printf(&ctx->report.text, "%s: failed: %s\n",
				      name, e.msg);
			mc_buf_printf(&failed, "%s%s", failed.len ? "; " : "",
				      e.msg);
			/* -q: the summary is the one line */
			if (!ctx->quiet)
				mc_log(MC_LOG_ERROR, "%s", e.msg);
		} else {
			char left[32] = "unknown";

			if (t.expires_at > 0)
				fmt_left(t.expires_at - mc_wall_now(), left,
					 sizeof(left));
			json_object_set_new(o, "result", mc_json_str(refreshed ?
					    "refreshed" : "fresh"));
			if (t.expires_at > 0)
				json_object_set_new(o, "expires_in_seconds",
					json_real(t.expires_at - mc_wall_now()));
			mc_buf_printf(&ctx->report.text, "%s: %s, valid for %s\n",
				      name, refreshed ? "refreshed" :
				      "fresh, not refreshed", left);
			mc_oauth_token_release(&t);
		}
		if (p != NULL) {
			char why[256];
			int st, nl;

			if (mc_oauth_token_read(ctx->st, name, &t, &e) == 0) {
				st = mc_oauth_state(p, &t, mc_wall_now(), -1,
						    why, sizeof(why));
				nl = st == MC_OAUTH_UNUSABLE &&
				     mc_oauth_needs_user(p);
				prom_samples(&ctx->report, name, &t, nl);
				json_object_set_new(o, "needs_login",
						    json_boolean(nl));
				if (nl && notify && !t.notified)
					notify_login(ctx, name, o);
				mc_oauth_token_release(&t);
			}
		}
		if (code > worst)
			worst = code;
		mc_oauth_providers_free(p, p ? 1 : 0);
	}
	free(secs);
	if (worst > 0)
		ctx->report.summary = mc_asprintf("oauth refresh: %s",
						  failed.data);
	mc_buf_release(&failed);
	return worst;
}

static const struct mc_opt refresh_opts[] = {
	{ 0, "if-expiring-within", "DURATION", MC_OPT_VALUE, MC_ARG_DURATION,
	  NULL, "Refresh tokens with less than DURATION left (default: "
	  "refresh_before)", 0 },
	{ 0, "force", NULL, MC_OPT_FLAG, MC_ARG_STRING, NULL,
	  "Refresh even tokens that are fresh (or of unknown expiry)", 0 },
	{ 0, "notify", NULL, MC_OPT_FLAG, MC_ARG_STRING, NULL,
	  "Alert the webhooks once when a provider starts needing login", 0 },
	{ 0 },
};

static const struct mc_cmd oauth_refresh = {
	.name = "refresh",
	.summary = "Refresh the tokens that are about to expire",
	.args = "[PROVIDER...]",
	.description =
	"For each provider (or the named ones) whose access token has less "
	"than refresh_before (or --if-expiring-within) left, gets a new one: "
	"with the refresh token (grant refresh_token, device, "
	"authorization_code) or the client's credentials "
	"(client_credentials). A token whose expiry is unknown (the server "
	"sent no expires_in) is refreshed with --force only.\n\n"
	"Refreshes are single-flight: a per-provider lock is held across the "
	"request, and a process that waited for it reads the token again "
	"and uses the one another process just saved, so ten cron jobs at "
	"once make one request and a rotating refresh token is used once. "
	"The new access token and a rotated refresh token are saved in one "
	"transaction. Requests are retried on network errors, 429 and 5xx "
	"(Retry-After honoured) within the deadline, retries times; a "
	"circuit breaker per provider (\"oauth NAME\") stops asking a server "
	"that keeps failing.\n\n"
	"invalid_grant (the server refused the refresh token) marks the "
	"provider as needing login and exits 2 naming `mercuryctl oauth "
	"login NAME`; invalid_client exits 78; a server that cannot be "
	"reached leaves the stored tokens as they were. One failing provider "
	"does not stop the others; the exit code is the worst. With "
	"--notify, a provider that starts needing login is alerted once "
	"(severity critical, labels provider and alertname=OAuthNeedsLogin) "
	"to every [webhook]; a later successful login re-arms it.",
	.opts = refresh_opts,
	.needs = MC_NEED_CONFIG | MC_NEED_STATE,
	.max_args = -1,
	.complete_section = "oauth",
	.run = refresh_run,
};

/* ---- login -------------------------------------------------------------- */

static int login_run(struct mc_ctx *ctx)
{
	struct mc_oauth_provider *p;
	struct mc_oauth_env env;
	struct mc_oauth_token t;
	char left[32] = "an unknown time";

	if (one_provider(ctx, &p) < 0)
		return -1;
	env_init(ctx, &env);
	if (env.http == NULL || mc_oauth_login(&env, p, &ctx->err) < 0 ||
	    mc_oauth_token_read(ctx->st, p->name, &t, &ctx->err) < 0) {
		mc_oauth_providers_free(p, 1);
		return -1;
	}
	if (t.expires_at > 0)
		fmt_left(t.expires_at - mc_wall_now(), left, sizeof(left));
	mc_buf_printf(&ctx->report.text, "logged in to %s: the token is valid "
		      "for %s%s\n", p->name, left, t.refresh_token ?
		      ", and a refresh token is held" : "");
	json_object_set_new(ctx->report.doc, "provider", mc_json_str(p->name));
	json_object_set_new(ctx->report.doc, "logged_in", json_true());
	json_object_set_new(ctx->report.doc, "has_refresh_token",
			    json_boolean(t.refresh_token != NULL));
	mc_oauth_token_release(&t);
	mc_oauth_providers_free(p, 1);
	return 0;
}

static const struct mc_opt login_opts[] = {
	{ 0, "no-browser", NULL, MC_OPT_FLAG, MC_ARG_STRING, NULL,
	  "Only print the URL to open; never start a browser", 0 },
	{ 0 },
};

static const struct mc_cmd oauth_login = {
	.name = "login",
	.summary = "Log in to a provider (device flow or browser)",
	.args = "PROVIDER",
	.description =
	"Gets the provider's first tokens with the user's consent. Grant "
	"device (RFC 8628): prints the verification URL and the user code "
	"(and the URL with the code in it, when the server gives one) on "
	"stdout at once, then polls the token endpoint at the server's "
	"interval (5 s when it names none), 5 s slower after each "
	"slow_down, until the user approves; access_denied and "
	"expired_token exit 2. Grant authorization_code: listens on "
	"127.0.0.1 on a free port, prints the authorization URL (with PKCE "
	"S256 and a random state), waits for the browser's redirect, "
	"checks the state (a redirect with another state is refused and "
	"waiting goes on), exchanges the code and answers the browser with "
	"a short page. Grant refresh_token uses the device flow when the "
	"server offers it, else the authorization code. --timeout bounds "
	"the wait (default [core] timeout): give a longer one for a person "
	"to act. With -o json, prom or nagios the prompts go to stderr, so "
	"that stdout holds the one rendering.",
	.opts = login_opts,
	.needs = MC_NEED_CONFIG | MC_NEED_STATE,
	.min_args = 1,
	.max_args = 1,
	.complete_section = "oauth",
	.run = login_run,
};

/* ---- token -------------------------------------------------------------- */

/* oauth token and oauth exec open the state file themselves: a fresh
 * token only reads it (scripts ask often: no write, no request), and the
 * run is recorded once it does more - a refresh, or running a command. */
static int state_open(struct mc_ctx *ctx)
{
	const char *sp = mc_conf_str(mc_conf_core(ctx->conf), "state");
	char *path = sp ? mc_strdup(sp) : mc_state_default_path();

	ctx->st = mc_state_open(path, &ctx->err);
	free(path);
	return ctx->st ? 0 : -1;
}

static int state_record(struct mc_ctx *ctx)
{
	struct mc_buf b = { 0 };
	char *args;
	int rc;

	if (ctx->run_id != 0)
		return 0;
	mc_buf_puts(&b, ctx->command);
	for (int i = 0; i < ctx->args->n_pos; i++)
		mc_buf_printf(&b, " %s", ctx->args->pos[i]);
	args = mc_redact(b.data);
	mc_buf_release(&b);
	rc = mc_state_run_begin(ctx->st, ctx->command, args,
				ctx->correlation_id, mc_wall_now(),
				&ctx->run_id, &ctx->err);
	free(args);
	/* a recorded run is a fleet member, as every other (its heartbeat;
	 * the single-flight lock stays the state file's, lib/oauth.c) */
	if (rc == 0 && ctx->coord == NULL) {
		ctx->coord = mc_coord_open(ctx->conf, ctx->st,
					   &(struct mc_coord_opts){
						   ctx->command, &ctx->dl },
					   &ctx->err);
		if (ctx->coord == NULL) {
			if (ctx->err.code == 0)
				ctx->err.code = MC_EXIT_CONFIG;
			return -1;
		}
	}
	return rc;
}

/* The token valid for --min-valid, in t; record: record the run even when
 * the stored token serves. */
static int valid_token(struct mc_ctx *ctx, struct mc_oauth_provider **p,
		       struct mc_oauth_token *t, int record)
{
	struct mc_oauth_env env;
	struct mc_oauth_token cur;
	int64_t min_valid = MIN_VALID_MS;
	int refreshed;

	*p = NULL;
	if (duration_opt(ctx, "min-valid", &min_valid) < 0 ||
	    one_provider(ctx, p) < 0 || state_open(ctx) < 0 ||
	    (record && state_record(ctx) < 0) ||
	    mc_oauth_token_read(ctx->st, (*p)->name, &cur, &ctx->err) < 0)
		return -1;
	if (mc_oauth_usable(&cur, mc_wall_now(), min_valid)) {
		*t = cur;
		return 0;
	}
	mc_oauth_token_release(&cur);
	if (state_record(ctx) < 0)
		return -1;
	env_init(ctx, &env);
	if (env.http == NULL ||
	    mc_oauth_ensure(&env, *p, min_valid, 0, t, &refreshed,
			    &ctx->err) < 0)
		return -1;
	/* The server's tokens may live less than was asked: say so rather
	 * than promise what the token cannot keep. */
	if (t->expires_at > 0 &&
	    (t->expires_at - mc_wall_now()) * 1e3 < (double)min_valid) {
		char left[32], want[32];

		fmt_left(t->expires_at - mc_wall_now(), left, sizeof(left));
		mc_format_duration(min_valid, want, sizeof(want));
		mc_log(MC_LOG_WARN, "provider '%s': the new token is valid for "
		       "%s only, less than --min-valid %s (the server gives "
		       "no longer one)", (*p)->name, left, want);
	}
	return 0;
}

static int token_run(struct mc_ctx *ctx)
{
	struct mc_oauth_provider *p;
	struct mc_oauth_token t;
	int rc = 0;

	if (valid_token(ctx, &p, &t, 0) < 0) {
		mc_oauth_providers_free(p, p ? 1 : 0);
		return -1;
	}
	if (ctx->format == MC_FMT_JSON) {
		json_object_set_new(ctx->report.doc, "provider",
				    mc_json_str(p->name));
		json_object_set_new(ctx->report.doc, "access_token",
				    mc_json_str(t.access_token));
		json_object_set_new(ctx->report.doc, "token_type",
				    mc_json_str(t.token_type ? t.token_type :
						"Bearer"));
		if (t.expires_at > 0) {
			char at[40];

			mc_format_time(t.expires_at, at, sizeof(at));
			json_object_set_new(ctx->report.doc, "expires_at",
					    mc_json_str(at));
		}
	} else if (ctx->format == MC_FMT_TEXT) {
		/* the token alone, as scripts want it; never in an exposition
		 * or a Nagios line, which monitoring systems keep and show */
		if (mc_write_all(stdout, t.access_token,
				 strlen(t.access_token)) < 0 ||
		    mc_write_all(stdout, "\n", 1) < 0)
			rc = mc_err_set(&ctx->err, MC_EXIT_IOERR,
					"cannot write the token");
		ctx->printed = 1;
	}
	mc_oauth_token_release(&t);
	mc_oauth_providers_free(p, 1);
	return rc;
}

static const struct mc_opt token_opts[] = {
	{ 0, "min-valid", "DURATION", MC_OPT_VALUE, MC_ARG_DURATION, NULL,
	  "Refresh first unless the token stays valid this long (default 1m)",
	  0 },
	{ 0 },
};

static const struct mc_cmd oauth_token = {
	.name = "token",
	.summary = "Print a valid access token for scripts",
	.args = "PROVIDER",
	.description =
	"Prints the provider's access token alone on stdout (with -o json: "
	"a document with access_token, token_type and expires_at; -o prom "
	"and -o nagios never show it: they give the run's metrics and "
	"UNKNOWN - no check result), after "
	"making sure it stays valid for at least --min-valid: a token with "
	"less left is refreshed first, single-flight as oauth refresh does "
	"(when even the new token has less left, as the server gives no "
	"longer one, it is printed with a warning on stderr). "
	"A fresh token is read from the state file without any request or "
	"write (the run is recorded in the state file, and heartbeats in a "
	"fleet, only when it refreshes). A provider that needs login exits 2 naming the command to run. This "
	"and oauth exec are the only places a token ever leaves the state "
	"file.",
	.opts = token_opts,
	.needs = MC_NEED_CONFIG,	/* the state file: state_open() */
	.min_args = 1,
	.max_args = 1,
	.complete_section = "oauth",
	.run = token_run,
};

/* ---- exec --------------------------------------------------------------- */

/* An environment variable's name: a letter or underscore, then letters,
 * digits and underscores. */
static int env_name_ok(const char *s)
{
	if (s == NULL || !(*s == '_' || (*s >= 'A' && *s <= 'Z') ||
			   (*s >= 'a' && *s <= 'z')))
		return 0;
	for (s++; *s; s++)
		if (!(*s == '_' || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
			return 0;
	return 1;
}

static int exec_run(struct mc_ctx *ctx)
{
	const char *name = mc_args_value(ctx->args, "env");
	struct mc_oauth_provider *p;
	struct mc_oauth_token t;
	struct mc_proc_opts o;
	struct mc_proc_result res;
	const char *env_add[2];
	char *var;
	int rc;

	if (name == NULL)
		name = "OAUTH_ACCESS_TOKEN";
	if (!env_name_ok(name))
		return mc_err_set(&ctx->err, MC_EXIT_USAGE, "oauth exec: --env: "
				  "'%s' is not a variable name (letters, digits "
				  "and _, not starting with a digit)", name);
	if (valid_token(ctx, &p, &t, 1) < 0) {
		mc_oauth_providers_free(p, p ? 1 : 0);
		return -1;
	}
	var = mc_asprintf("%s=%s", name, t.access_token);
	mc_oauth_token_release(&t);
	env_add[0] = var;
	env_add[1] = NULL;
	memset(&o, 0, sizeof(o));
	o.argv = ctx->args->pos + 1;
	o.env_add = env_add;
	o.dl = &ctx->dl;
	/* stdout is the command's: nothing of ours goes there */
	ctx->printed = 1;
	rc = mc_proc_run(&o, NULL, &res, &ctx->err);
	mc_free_secret(var);
	mc_oauth_providers_free(p, 1);
	if (rc < 0) {
		/* 127 not found, 126 not runnable: as env(1) and job run;
		 * nothing ran, so stdout is ours again for the error */
		ctx->err.code = mc_proc_start_status(&ctx->err);
		ctx->printed = 0;
		return -1;
	}
	if (res.deadline || res.timed_out)
		mc_log(MC_LOG_ERROR, "oauth exec: %s was stopped at the run's "
		       "deadline (--timeout)", o.argv[0]);
	return mc_proc_status(&res);
}

static const struct mc_opt exec_opts[] = {
	{ 0, "env", "NAME", MC_OPT_VALUE, MC_ARG_STRING, NULL,
	  "Put the token in variable NAME (default OAUTH_ACCESS_TOKEN)", 0 },
	{ 0, "min-valid", "DURATION", MC_OPT_VALUE, MC_ARG_DURATION, NULL,
	  "Refresh first unless the token stays valid this long (default 1m)",
	  0 },
	{ 0 },
};

static const struct mc_cmd oauth_exec = {
	.name = "exec",
	.summary = "Run a command with a valid access token in its environment",
	.args = "PROVIDER -- COMMAND [ARG...]",
	.description =
	"Makes sure the provider's access token stays valid for at least "
	"--min-valid (refreshing it as oauth token does), then runs COMMAND "
	"with its arguments - no shell - with the token in the environment "
	"variable NAME (--env, default OAUTH_ACCESS_TOKEN) and nowhere else: "
	"not in its arguments, not in mercuryctl's own output. The command "
	"gets mercuryctl's stdin, stdout and stderr and an environment "
	"without mercuryctl's secrets (variables named by *_env keys, "
	"MERCURY_*PASSWORD*, REDISCLI_AUTH); it is bounded by --timeout, and "
	"its whole process tree is killed when it ends or mercuryctl is "
	"interrupted. The exit code is the command's (128+N when signal N "
	"ended it, 124 at the deadline); a command that cannot be started "
	"exits 127 when it is not found and 126 when it cannot be run, as "
	"env(1) does, saying why.\n\n"
	"Once COMMAND runs, stdout is its own in every output format, as "
	"with env(1): its output is what is wanted (oauth exec api -- curl "
	"-s URL | jq), and mercuryctl adds nothing there. -o json, prom and "
	"nagios shape only a failure before COMMAND starts (a token that "
	"cannot be had, a command that cannot be run): one JSON document "
	"with error and exit_code, the run's metrics, one UNKNOWN line. With "
	"-o nagios an exit code above 3 becomes 3, so oauth exec can run a "
	"Nagios plugin that needs the token.",
	.opts = exec_opts,
	.needs = MC_NEED_CONFIG,	/* the state file: state_open() */
	.min_args = 2,
	.max_args = -1,
	.max_before_dashdash = 1,
	.complete_section = "oauth",
	.run = exec_run,
};

/* ---- revoke ------------------------------------------------------------- */

static int revoke_run(struct mc_ctx *ctx)
{
	struct mc_oauth_provider *p;
	struct mc_oauth_env env;
	char *warning = NULL;
	int code = 0;

	if (one_provider(ctx, &p) < 0)
		return -1;
	env_init(ctx, &env);
	if (env.http == NULL || mc_oauth_revoke(&env, p, &warning,
						&ctx->err) < 0) {
		mc_oauth_providers_free(p, 1);
		return -1;
	}
	json_object_set_new(ctx->report.doc, "provider", mc_json_str(p->name));
	json_object_set_new(ctx->report.doc, "forgotten", json_true());
	if (warning) {
		mc_log(MC_LOG_WARN, "oauth revoke %s: the tokens are forgotten, "
		       "but the server did not confirm the revocation: %s",
		       p->name, warning);
		json_object_set_new(ctx->report.doc, "warning",
				    mc_json_str(warning));
		mc_buf_printf(&ctx->report.text, "%s: tokens forgotten; the "
			      "server did not confirm the revocation\n",
			      p->name);
		ctx->report.summary = mc_asprintf("oauth revoke %s: the server "
						  "did not confirm the "
						  "revocation", p->name);
		code = MC_EXIT_WARNING;
	} else {
		json_object_set_new(ctx->report.doc, "revoked", json_true());
		mc_buf_printf(&ctx->report.text, "%s: tokens revoked and "
			      "forgotten\n", p->name);
	}
	free(warning);
	mc_oauth_providers_free(p, 1);
	return code;
}

static const struct mc_cmd oauth_revoke = {
	.name = "revoke",
	.summary = "Revoke a provider's tokens at the server and forget them",
	.args = "PROVIDER",
	.description =
	"Asks the server's revocation endpoint (RFC 7009) to revoke the "
	"refresh token, then the access token, and removes both from the "
	"state file. When the server cannot be reached or refuses, the "
	"tokens are forgotten all the same, with a warning, and the exit "
	"code is 1.",
	.needs = MC_NEED_CONFIG | MC_NEED_STATE,
	.min_args = 1,
	.max_args = 1,
	.complete_section = "oauth",
	.run = revoke_run,
};

/* ---- the command -------------------------------------------------------- */

static const struct mc_cmd *const oauth_subs[] = {
	&oauth_status, &oauth_refresh, &oauth_login, &oauth_token,
	&oauth_exec, &oauth_revoke, NULL,
};

/* mercuryctl_oauth.prom: every provider's token state, from the state
 * file (no request to any server), whichever subcommand ran. A provider
 * whose section cannot be loaded is left out, as status shows it
 * unknown. */
static int oauth_metrics_view(struct mc_ctx *ctx, struct mc_buf *out,
			      struct mc_err *err)
{
	const struct mc_conf_section *s = NULL;
	double now = mc_wall_now();

	if (ctx->st == NULL)
		return 1;
	while ((s = mc_conf_next(ctx->conf, "oauth", s)) != NULL) {
		const char *name = s->name;
		struct mc_oauth_provider *p = NULL;
		struct mc_oauth_token t;
		struct mc_err e = { 0 };
		char why[MC_ERR_MSG + 256];
		size_t np = 0;
		int st;

		if (mc_oauth_load(ctx->conf, &name, 1, &p, &np, &e) < 0) {
			mc_log(MC_LOG_DEBUG, "metrics: %s", e.msg);
			continue;
		}
		if (mc_oauth_token_read(ctx->st, name, &t, err) < 0) {
			mc_oauth_providers_free(p, np);
			return -1;
		}
		st = mc_oauth_state(p, &t, now, -1, why, sizeof(why));
		prom_samples_to(out, name, &t, st == MC_OAUTH_UNUSABLE &&
				mc_oauth_needs_user(p));
		mc_oauth_token_release(&t);
		mc_oauth_providers_free(p, np);
	}
	return 0;
}

static const struct mc_metric_family oauth_families[] = {
	{ "mercury_oauth_token_expiry_timestamp_seconds", NULL },
	{ "mercury_oauth_needs_login", NULL },
	{ NULL, NULL },
};

static const struct mc_metric_owner oauth_metrics = {
	.families = oauth_families,
	.view = oauth_metrics_view,
};

const struct mc_cmd mc_cmd_oauth = {
	.examples =
	"Each provider's token: valid, expiring soon, expired, or needing a "
	"login:\n"
	"$ mercuryctl oauth status\n"
	"Log in once on a machine without a browser (device code):\n"
	"$ mercuryctl oauth login kite --no-browser\n"
	"A fresh token for a script, or in a command's environment:\n"
	"$ curl -H \"Authorization: Bearer $(mercuryctl oauth token kite)\" "
	"https://api.example.com/\n"
	"$ mercuryctl oauth exec kite --env API_TOKEN -- ./sync.sh\n",
	.name = "oauth",
	.summary = "Keep OAuth 2.0 tokens fresh for cron jobs and scripts",
	.description =
	"Each [oauth \"NAME\"] section of the configuration is a provider: "
	"an authorization server (issuer, for discovery, or token_url and "
	"the other endpoints), a client (client_id and a secret from "
	"client_secret_file or client_secret_env; none for a public client) "
	"and a grant - client_credentials, refresh_token, device or "
	"authorization_code. Tokens are kept in the state file only, with "
	"their expiry as an absolute time; they never appear in logs, "
	"output, error messages or the run log, except on the stdout of "
	"oauth token and in the environment of the command oauth exec runs. "
	"Discovery documents (OpenID Connect, else RFC 8414) are cached in "
	"the state file for an hour.\n\n"
	"A cron job keeps tokens fresh with `mercuryctl oauth refresh "
	"--notify`; scripts take one with `mercuryctl oauth token NAME` or "
	"run a command with it in the environment through oauth exec. A "
	"health check of type oauth (provider = NAME) reports the states of "
	"oauth status, and an http check with oauth = NAME sends the "
	"provider's token as a bearer token.",
	.subs = oauth_subs,
	.metrics = &oauth_metrics,
};
