/*
 * oauth.h - OAuth 2.0 token lifecycle for cron jobs and scripts (the
 * `mercuryctl oauth` command, mercuryctl-oauth(1)).
 *
 * A provider is an [oauth "NAME"] section. Its tokens live in the state
 * file only (table oauth_tokens), with the expiry as an absolute time.
 * Endpoints come from the section or from discovery (OpenID Connect, then
 * RFC 8414), cached in the state file for an hour. Grants:
 * client_credentials (RFC 6749 4.4), refresh_token (6), device (RFC 8628)
 * and authorization_code with PKCE S256 and a loopback redirect (RFC 8252).
 *
 * Refreshes are single-flight across processes: a per-provider lock file is
 * held across the HTTP exchange, the token is read again after taking it
 * (another process may just have refreshed), and the new access token and a
 * rotated refresh token are saved in one transaction.
 *
 * Errors: invalid_grant on a refresh marks the provider as needing login
 * (MC_EXIT_CRITICAL, the message names `mercuryctl oauth login NAME`);
 * invalid_client is MC_EXIT_CONFIG; a network failure leaves the stored
 * tokens untouched. Token values never appear in a message: every token
 * read or received is registered with mc_redact_add().
 */
#ifndef MC_OAUTH_H
#define MC_OAUTH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "config.h"
#include "http.h"
#include "mc.h"
#include "resil.h"
#include "state.h"

enum mc_oauth_grant {
	MC_GRANT_REFRESH_TOKEN = 0,
	MC_GRANT_CLIENT_CREDENTIALS = 1,
	MC_GRANT_DEVICE = 2,
	MC_GRANT_AUTHORIZATION_CODE = 3,
};
#define MC_OAUTH_GRANTS \
	"refresh_token|client_credentials|device|authorization_code"
const char *mc_oauth_grant_name(int grant);

/* The [oauth "NAME"] section schema (config_schema.c lists it). */
extern const struct mc_conf_schema mc_oauth_schema;

struct mc_oauth_provider {
	char *name;
	char *source;		/* "FILE:LINE" of the section header */
	int grant;
	char *issuer;		/* NULL: explicit endpoints only */
	char *token_url;	/* explicit endpoints, NULL when not given */
	char *device_url;
	char *authorization_url;
	char *revocation_url;
	char *introspection_url;
	char *client_id;
	char *client_secret;	/* NULL: a public client; registered for
				   redaction */
	int auth_post;		/* client_secret_post rather than basic */
	char *scope;		/* may be NULL */
	int64_t refresh_before_ms;
	int64_t warn_before_ms;
	int64_t timeout_ms;	/* per HTTP attempt */
	int retries;		/* further attempts after a failed one */
	struct mc_breaker_conf breaker;
	char *unusable;		/* why the provider cannot reach its server
				   now (an unset client_secret_env, a
				   missing client_secret_file): what needs
				   the secret fails alone with this, what
				   only reads the state file works */
};

/* The providers named (NULL/0: every configured one). A name the
 * configuration lacks is MC_EXIT_USAGE with a suggestion; an unreadable
 * client_secret_file or unset client_secret_env leaves the provider's
 * unusable set (MC_EXIT_CONFIG naming the line when used). */
int mc_oauth_load(const struct mc_conf *conf, const char *const *names,
		  size_t n_names, struct mc_oauth_provider **out, size_t *n,
		  struct mc_err *err);
void mc_oauth_providers_free(struct mc_oauth_provider *p, size_t n);

/* A grant that needs a user to log in (everything but client_credentials). */
int mc_oauth_needs_user(const struct mc_oauth_provider *p);

/* What the state file holds for a provider. */
struct mc_oauth_token {
	int present;		/* a row exists */
	char *access_token;	/* NULL when none */
	char *refresh_token;
	char *token_type;
	char *scope;
	double expires_at;	/* Unix time; 0: unknown */
	double obtained;	/* when the access token was had */
	int needs_login;
	double last_refresh;	/* the last attempt, 0: none */
	char *last_result;	/* "ok" or why not (no secrets) */
	int notified;		/* needs-login was alerted */
};
void mc_oauth_token_release(struct mc_oauth_token *t);
int mc_oauth_token_read(struct mc_state *st, const char *provider,
			struct mc_oauth_token *t, struct mc_err *err);
/* Forgets a provider's tokens. */
int mc_oauth_token_forget(struct mc_state *st, const char *provider,
			  struct mc_err *err);
/* Remembers whether the needs-login state was alerted. */
int mc_oauth_set_notified(struct mc_state *st, const char *provider,
			  int notified, struct mc_err *err);

/* The provider's state as status, health and metrics see it; the values
 * are the statuses of lib/output.h (ok, warning, critical). */
enum mc_oauth_state {
	MC_OAUTH_OK = 0,	/* valid, or unknown expiry */
	MC_OAUTH_EXPIRING = 1,	/* less than warn_before left, or expired
				   but refreshable, or no token yet for
				   client_credentials */
	MC_OAUTH_UNUSABLE = 2,	/* needs login, or expired with no way to
				   refresh */
};
/* warn_before_ms < 0: the provider's. why gets a short reason. */
int mc_oauth_state(const struct mc_oauth_provider *p,
		   const struct mc_oauth_token *t, double now,
		   int64_t warn_before_ms, char *why, size_t size);

/* What a run gives the library. */
struct mc_oauth_env {
	struct mc_state *st;
	struct mc_http *http;
	const struct mc_deadline *dl;
	const struct mc_clock *clock;	/* NULL: wall clock */
	/* Device polling waits through this (tests: a fake); NULL:
	 * mc_sleep_ms. Returns 1 when interrupted. */
	int (*sleep_ms)(void *ctx, int64_t ms);
	void *sleep_ctx;
	/* Where `login` prints what the user must see (URL, user code);
	 * flushed at once. NULL: stdout. */
	FILE *out;
	int no_browser;		/* authorization_code: never open one */
};

/* Endpoints, explicit or discovered. */
struct mc_oauth_endpoints {
	char *token;
	char *device;
	char *authorization;
	char *revocation;
	char *introspection;
};
void mc_oauth_endpoints_release(struct mc_oauth_endpoints *e);
/* The provider's endpoints: explicit keys first, the rest from the
 * issuer's discovery document (the cached one when younger than an hour). */
int mc_oauth_endpoints(const struct mc_oauth_env *env,
		       const struct mc_oauth_provider *p,
		       struct mc_oauth_endpoints *e, struct mc_err *err);
/* Reads a discovery document: its issuer must be `issuer` (a trailing
 * slash aside) and its endpoints http(s) URLs. */
int mc_oauth_parse_discovery(const char *body, size_t len, const char *issuer,
			     struct mc_oauth_endpoints *e, struct mc_err *err);

/* A token endpoint's answer. On a 200 with an access_token, fills t's
 * access_token, refresh_token (when given), token_type, scope and
 * expires_at (now + expires_in; 0 when absent) and returns 0. Otherwise
 * -1 with *error (caller frees) the OAuth error code when the body has one
 * ("invalid_grant"), and err a message with the server's text escaped. */
int mc_oauth_parse_token(const char *body, size_t len, long status, double now,
			 struct mc_oauth_token *t, char **error,
			 struct mc_err *err);

/* 1 when t holds an access token, not marked needs-login, valid for
 * min_valid_ms more at now (an unknown expiry counts as valid). */
int mc_oauth_usable(const struct mc_oauth_token *t, double now,
		    int64_t min_valid_ms);

/* Makes sure the stored access token stays valid for min_valid_ms,
 * refreshing if not (or always, with force): single-flight, as above.
 * On success t holds the token (caller cleans) and *refreshed says whether
 * this process refreshed it. */
int mc_oauth_ensure(const struct mc_oauth_env *env,
		    const struct mc_oauth_provider *p, int64_t min_valid_ms,
		    int force, struct mc_oauth_token *t, int *refreshed,
		    struct mc_err *err);

/* `oauth login`: device flow or authorization code, as the grant (and for
 * refresh_token, what the server offers) says. Saves the tokens. */
int mc_oauth_login(const struct mc_oauth_env *env,
		   const struct mc_oauth_provider *p, struct mc_err *err);

/* The device flow's polling (RFC 8628 3.5), given the device_code and the
 * server's interval: waits interval seconds between polls (5 when 0),
 * adding 5 s on slow_down, until the token, access_denied or
 * expired_token (MC_EXIT_CRITICAL), or expires_at (wall) or the deadline.
 * *polls gets the number of token requests. */
int mc_oauth_device_poll(const struct mc_oauth_env *env,
			 const struct mc_oauth_provider *p,
			 const char *token_url, const char *device_code,
			 int64_t interval_s, double expires_at,
			 struct mc_oauth_token *t, int *polls,
			 struct mc_err *err);

/* RFC 7009 revocation of the refresh and access tokens, then forgets them
 * (also when the server cannot be reached: *warning then gets why, and
 * the call still returns 0). */
int mc_oauth_revoke(const struct mc_oauth_env *env,
		    const struct mc_oauth_provider *p, char **warning,
		    struct mc_err *err);

/* For a request that authenticates with the provider's token (an http
 * check's oauth = NAME): "Authorization: Bearer TOKEN" in *header (caller
 * frees with mc_free_secret), the token valid for min_valid_ms, refreshed
 * first (single-flight) when it is not. http may be NULL: one is made when
 * a refresh must go out. */
int mc_oauth_bearer(struct mc_state *st, const struct mc_conf *conf,
		    const char *provider, struct mc_http *http,
		    const struct mc_deadline *dl, const char *correlation_id,
		    int64_t min_valid_ms, char **header, struct mc_err *err);

/* PKCE (RFC 7636): a verifier of 43 unreserved characters from 32 random
 * bytes, and its S256 challenge. */
void mc_oauth_pkce(char verifier[44], char challenge[44]);
void mc_oauth_s256(const char *verifier, char challenge[44]);

#endif
