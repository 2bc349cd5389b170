/*
 * oauth_conf.c - the [oauth "NAME"] section: its keys, the rules across
 * them, and a provider read from it (secrets loaded and registered for
 * redaction).
 */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include "log.h"
#include "oauth.h"

static const struct mc_conf_key oauth_keys[] = {
	{ .name = "issuer", .type = MC_CT_URL,
	  .help = "the authorization server's issuer URL: endpoints not given "
		  "below come from its discovery document (OpenID Connect, "
		  "then RFC 8414), cached for an hour" },
	{ .name = "token_url", .type = MC_CT_URL,
	  .help = "the token endpoint (instead of discovery)" },
	{ .name = "device_authorization_url", .type = MC_CT_URL,
	  .help = "the device authorization endpoint (RFC 8628)" },
	{ .name = "authorization_url", .type = MC_CT_URL,
	  .help = "the authorization endpoint (authorization_code login)" },
	{ .name = "revocation_url", .type = MC_CT_URL,
	  .help = "the revocation endpoint (RFC 7009), for oauth revoke" },
	{ .name = "grant", .type = MC_CT_ENUM, .def = "refresh_token",
	  .choices = MC_OAUTH_GRANTS,
	  .help = "how tokens are had: refresh_token (login once, then "
		  "refresh), client_credentials, device or authorization_code" },
	{ .name = "client_id", .type = MC_CT_STRING, .flags = MC_CK_REQUIRED,
	  .help = "the client identifier" },
	{ .name = "client_secret_file", .type = MC_CT_PATH,
	  .help = "a file holding the client secret (none: a public client)" },
	{ .name = "client_secret_env", .type = MC_CT_STRING,
	  .help = "an environment variable holding the client secret" },
	{ .name = "auth_method", .type = MC_CT_ENUM,
	  .def = "client_secret_basic",
	  .choices = "client_secret_basic|client_secret_post",
	  .help = "how the client authenticates at the token endpoint" },
	{ .name = "scope", .type = MC_CT_STRING,
	  .help = "the scopes asked for, separated by spaces" },
	{ .name = "refresh_before", .type = MC_CT_DURATION, .def = "10m",
	  .help = "oauth refresh renews a token with less than this left" },
	{ .name = "warn_before", .type = MC_CT_DURATION, .def = "1h",
	  .help = "status and the oauth check warn with less than this left" },
	{ .name = "timeout", .type = MC_CT_DURATION, .def = "10s",
	  .help = "time limit of each request to the server" },
	{ .name = "retries", .type = MC_CT_INT, .def = "3",
	  .help = "further attempts after a failed request (0 to 10): "
		  "network errors, 429 and 5xx, Retry-After honoured" },
	{ .name = "breaker_failures", .type = MC_CT_INT,
	  .help = "failed exchanges in a row that open this provider's "
		  "breaker (default [core])" },
	{ .name = "breaker_recovery", .type = MC_CT_DURATION,
	  .help = "how long its open breaker waits before one probe "
		  "(default [core])" },
	{ .name = NULL },
};

/* A token endpoint (or an issuer to find it), one place for the secret, a
 * secret where the grant cannot do without one, sane numbers. */
static int oauth_validate(const struct mc_conf_section *s, const char **key,
			  char *why, size_t size)
{
	const char *grant = mc_conf_str(s, "grant");
	int secret = mc_conf_str(s, "client_secret_file") != NULL ||
		     mc_conf_str(s, "client_secret_env") != NULL;

	if (mc_conf_str(s, "issuer") == NULL &&
	    mc_conf_str(s, "token_url") == NULL) {
		snprintf(why, size, "the provider needs issuer (discovery) or "
			 "token_url");
		return -1;
	}
	if (mc_conf_str(s, "client_secret_file") != NULL &&
	    mc_conf_str(s, "client_secret_env") != NULL) {
		*key = "client_secret_env";
		snprintf(why, size, "give one of client_secret_file and "
			 "client_secret_env, not both");
		return -1;
	}
	if (mc_streq(grant, "client_credentials") && !secret) {
		*key = "grant";
		snprintf(why, size, "client_credentials needs a client secret "
			 "(client_secret_file or client_secret_env)");
		return -1;
	}
	if (mc_conf_int(s, "retries", 3) > 10) {
		*key = "retries";
		snprintf(why, size, "retries must be 0 to 10");
		return -1;
	}
	if (mc_conf_ms(s, "timeout", 10000) <= 0) {
		*key = "timeout";
		snprintf(why, size, "timeout must be longer than 0");
		return -1;
	}
	return 0;
}

const struct mc_conf_schema mc_oauth_schema = {
	.name = "oauth",
	.named = 1,
	.help = "one OAuth 2.0 provider whose tokens `mercuryctl oauth` keeps "
		"fresh",
	.keys = oauth_keys,
	.validate = oauth_validate,
};

const char *mc_oauth_grant_name(int grant)
{
	static const char *const names[] = { "refresh_token",
		"client_credentials", "device", "authorization_code" };

	return grant >= 0 && grant < (int)MC_ARRAY_LEN(names) ? names[grant] :
	       "?";
}

int mc_oauth_needs_user(const struct mc_oauth_provider *p)
{
	return p->grant != MC_GRANT_CLIENT_CREDENTIALS;
}

static void provider_release(struct mc_oauth_provider *p)
{
	free(p->name);
	free(p->source);
	free(p->issuer);
	free(p->token_url);
	free(p->device_url);
	free(p->authorization_url);
	free(p->revocation_url);
	free(p->introspection_url);
	free(p->client_id);
	mc_free_secret(p->client_secret);
	free(p->scope);
	free(p->unusable);
}

void mc_oauth_providers_free(struct mc_oauth_provider *p, size_t n)
{
	for (size_t i = 0; p != NULL && i < n; i++)
		provider_release(&p[i]);
	free(p);
}

static int load_one(const struct mc_conf *conf,
		    const struct mc_conf_section *s, struct mc_oauth_provider *p,
		    struct mc_err *err)
{
	const struct mc_conf_section *core = mc_conf_core(conf);

	p->name = mc_strdup(s->name);
	p->source = mc_strdup(s->source);
	p->grant = (int)mc_conf_get(s, "grant")->v.i;
	p->issuer = mc_strdup(mc_conf_str(s, "issuer"));
	p->token_url = mc_strdup(mc_conf_str(s, "token_url"));
	p->device_url = mc_strdup(mc_conf_str(s, "device_authorization_url"));
	p->authorization_url = mc_strdup(mc_conf_str(s, "authorization_url"));
	p->revocation_url = mc_strdup(mc_conf_str(s, "revocation_url"));
	p->client_id = mc_strdup(mc_conf_str(s, "client_id"));
	p->auth_post = mc_streq(mc_conf_str(s, "auth_method"),
				"client_secret_post");
	p->scope = mc_strdup(mc_conf_str(s, "scope"));
	p->refresh_before_ms = mc_conf_ms(s, "refresh_before", 600000);
	p->warn_before_ms = mc_conf_ms(s, "warn_before", 3600000);
	p->timeout_ms = mc_conf_ms(s, "timeout", 10000);
	p->retries = (int)mc_conf_int(s, "retries", 3);
	mc_breaker_conf_read(core, s, &p->breaker);
	(void)err;
	{
		struct mc_err e = { 0 };

		if (mc_conf_secret(s, "client_secret_file", "client_secret_env",
				   "client secret", &p->client_secret, &e) < 0)
			p->unusable = mc_strdup(e.msg);
	}
	mc_redact_add(p->client_secret);
	return 0;
}

int mc_oauth_load(const struct mc_conf *conf, const char *const *names,
		  size_t n_names, struct mc_oauth_provider **out, size_t *n,
		  struct mc_err *err)
{
	const struct mc_conf_section **secs = NULL;
	struct mc_oauth_provider *p;
	size_t count = 0;

	*out = NULL;
	*n = 0;
	if (mc_conf_select(conf, "oauth", "provider", names, n_names, &secs,
			   &count, err) < 0)
		return -1;
	p = mc_calloc(count ? count : 1, sizeof(*p));
	for (size_t i = 0; i < count; i++)
		if (load_one(conf, secs[i], &p[i], err) < 0) {
			mc_oauth_providers_free(p, i + 1);
			free(secs);
			return -1;
		}
	free(secs);
	*out = p;
	*n = count;
	return 0;
}
