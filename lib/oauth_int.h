/*
 * oauth_int.h - what oauth.c lends oauth_login.c (not for other callers).
 */
#ifndef MC_OAUTH_INT_H
#define MC_OAUTH_INT_H

#include "oauth.h"

/* Server text for a message: its first couple of hundred bytes, through
 * mc_escape(). Caller frees. */
char *mc_oauth_quote(const char *s, size_t n);
/* Appends key=value (form-encoded) to b; nothing when value is NULL. */
void mc_oauth_form_add(struct mc_buf *b, const char *key, const char *value);
double mc_oauth_now(const struct mc_oauth_env *env);
/* POSTs form (the client's authentication added) to url; retry: with the
 * provider's retries. req is the caller's to clean. */
int mc_oauth_post(const struct mc_oauth_env *env,
		  const struct mc_oauth_provider *p, const char *url,
		  struct mc_buf *form, int retry, struct mc_http_req *req,
		  struct mc_err *err);
/* A token request with the provider's breaker: 0 with t filled, or -1
 * with *error the OAuth error code when the server gave one
 * (invalid_client re-coded MC_EXIT_CONFIG). */
int mc_oauth_token_request(const struct mc_oauth_env *env,
			   const struct mc_oauth_provider *p, const char *url,
			   struct mc_buf *form, struct mc_oauth_token *t,
			   char **error, struct mc_err *err);
int mc_oauth_token_save(struct mc_state *st, const char *provider,
			const struct mc_oauth_token *t, double now,
			struct mc_err *err);
int mc_oauth_token_failed(struct mc_state *st, const char *provider,
			  int needs_login, const char *why, double now,
			  struct mc_err *err);

#endif
