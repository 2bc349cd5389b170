/*
 * oauth.c - the token store, discovery, the token requests of every grant,
 * the single-flight refresh and revocation. See oauth.h.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include "coord.h"
#include "log.h"
#include "oauth.h"
#include "oauth_int.h"

/* Discovery documents are trusted this long. */
#define DISCOVERY_TTL_S 3600.0
/* Server texts quoted in messages are cut to this many bytes. */
#define QUOTE_MAX 200

/* ---- small helpers ---------------------------------------------------- */

char *mc_oauth_quote(const char *s, size_t n)
{
	return mc_escape(s, n < QUOTE_MAX ? n : QUOTE_MAX);
}

/* application/x-www-form-urlencoded pair. */
void mc_oauth_form_add(struct mc_buf *b, const char *key, const char *value)
{
	char *v;

	if (value == NULL)
		return;
	v = mc_url_escape(value);
	mc_buf_printf(b, "%s%s=%s", b->len ? "&" : "", key, v);
	mc_free_secret(v);
}

static int http_url(const char *u)
{
	return u != NULL && (strncmp(u, "http://", 7) == 0 ||
			     strncmp(u, "https://", 8) == 0);
}

double mc_oauth_now(const struct mc_oauth_env *env)
{
	return mc_clock_now(env->clock);
}

/* ---- the token store -------------------------------------------------- */

void mc_oauth_token_release(struct mc_oauth_token *t)
{
	if (t == NULL)
		return;
	mc_free_secret(t->access_token);
	mc_free_secret(t->refresh_token);
	free(t->token_type);
	free(t->scope);
	free(t->last_result);
	memset(t, 0, sizeof(*t));
}

static char *column_secret(sqlite3_stmt *s, int i)
{
	char *v = mc_state_column_dup(s, i);

	mc_redact_add(v);
	return v;
}

int mc_oauth_token_read(struct mc_state *st, const char *provider,
			struct mc_oauth_token *t, struct mc_err *err)
{
	sqlite3_stmt *s;
	int rc;

	memset(t, 0, sizeof(*t));
	if (mc_state_prepare(st, "SELECT access_token, refresh_token, "
			     "token_type, scope, expires_at, obtained, "
			     "needs_login, last_refresh, last_result, notified "
			     "FROM oauth_tokens WHERE provider = ?", &s,
			     "cannot read the OAuth tokens", err) < 0)
		return -1;
	sqlite3_bind_text(s, 1, provider, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		t->present = 1;
		t->access_token = column_secret(s, 0);
		t->refresh_token = column_secret(s, 1);
		t->token_type = mc_state_column_dup(s, 2);
		t->scope = mc_state_column_dup(s, 3);
		t->expires_at = sqlite3_column_double(s, 4);
		t->obtained = sqlite3_column_double(s, 5);
		t->needs_login = sqlite3_column_int(s, 6);
		t->last_refresh = sqlite3_column_double(s, 7);
		t->last_result = mc_state_column_dup(s, 8);
		t->notified = sqlite3_column_int(s, 9);
	} else if (rc != SQLITE_DONE) {
		sqlite3_finalize(s);
		return mc_state_sqlerr(st, err, "cannot read the OAuth tokens");
	}
	sqlite3_finalize(s);
	return 0;
}

/* Saves a new access token (and a rotated refresh token, or keeps the old
 * one when the server sent none) in one statement, so one transaction. */
int mc_oauth_token_save(struct mc_state *st, const char *provider,
			const struct mc_oauth_token *t, double now,
			struct mc_err *err)
{
	static const char what[] = "cannot save the OAuth tokens";
	sqlite3_stmt *s;

	if (mc_state_prepare(st, "INSERT INTO oauth_tokens (provider, "
			     "access_token, refresh_token, token_type, scope, "
			     "expires_at, obtained, needs_login, last_refresh, "
			     "last_result, notified, updated) VALUES "
			     "(?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?7, 'ok', 0, ?7) "
			     "ON CONFLICT(provider) DO UPDATE SET "
			     "access_token = ?2, refresh_token = "
			     "coalesce(?3, refresh_token), token_type = ?4, "
			     "scope = coalesce(?5, scope), expires_at = ?6, "
			     "obtained = ?7, needs_login = 0, last_refresh = ?7, "
			     "last_result = 'ok', notified = 0, updated = ?7",
			     &s, what, err) < 0)
		return -1;
	sqlite3_bind_text(s, 1, provider, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, t->access_token, -1, SQLITE_STATIC);
	if (t->refresh_token)
		sqlite3_bind_text(s, 3, t->refresh_token, -1, SQLITE_STATIC);
	if (t->token_type)
		sqlite3_bind_text(s, 4, t->token_type, -1, SQLITE_STATIC);
	if (t->scope)
		sqlite3_bind_text(s, 5, t->scope, -1, SQLITE_STATIC);
	if (t->expires_at > 0)
		sqlite3_bind_double(s, 6, t->expires_at);
	sqlite3_bind_double(s, 7, now);
	return mc_state_exec_stmt(st, s, what, err);
}

/* Records a failed attempt; needs_login 1 also drops the refresh token
 * (the server refused it: it must never be sent again). */
int mc_oauth_token_failed(struct mc_state *st, const char *provider,
			  int needs_login, const char *why, double now,
			  struct mc_err *err)
{
	static const char what[] = "cannot record the OAuth result";
	sqlite3_stmt *s;

	if (mc_state_prepare(st, "INSERT INTO oauth_tokens (provider, "
			     "needs_login, last_refresh, last_result, updated) "
			     "VALUES (?1, ?2, ?3, ?4, ?3) ON CONFLICT(provider) "
			     "DO UPDATE SET needs_login = max(needs_login, ?2), "
			     "refresh_token = CASE WHEN ?2 THEN NULL ELSE "
			     "refresh_token END, last_refresh = ?3, "
			     "last_result = ?4, updated = ?3", &s,
			     what, err) < 0)
		return -1;
	sqlite3_bind_text(s, 1, provider, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, needs_login);
	sqlite3_bind_double(s, 3, now);
	sqlite3_bind_text(s, 4, why, -1, SQLITE_STATIC);
	return mc_state_exec_stmt(st, s, what, err);
}

int mc_oauth_token_forget(struct mc_state *st, const char *provider,
			  struct mc_err *err)
{
	static const char what[] = "cannot forget the OAuth tokens";
	sqlite3_stmt *s;

	if (mc_state_prepare(st, "DELETE FROM oauth_tokens WHERE provider = ?",
			     &s, what, err) < 0)
		return -1;
	sqlite3_bind_text(s, 1, provider, -1, SQLITE_STATIC);
	return mc_state_exec_stmt(st, s, what, err);
}

int mc_oauth_set_notified(struct mc_state *st, const char *provider,
			  int notified, struct mc_err *err)
{
	static const char what[] = "cannot record the OAuth notification";
	sqlite3_stmt *s;

	if (mc_state_prepare(st, "UPDATE oauth_tokens SET notified = ? "
			     "WHERE provider = ?", &s,
			     what, err) < 0)
		return -1;
	sqlite3_bind_int(s, 1, notified);
	sqlite3_bind_text(s, 2, provider, -1, SQLITE_STATIC);
	return mc_state_exec_stmt(st, s, what, err);
}

int mc_oauth_state(const struct mc_oauth_provider *p,
		   const struct mc_oauth_token *t, double now,
		   int64_t warn_before_ms, char *why, size_t size)
{
	double left;
	int refreshable = t->refresh_token != NULL || !mc_oauth_needs_user(p);

	if (warn_before_ms < 0)
		warn_before_ms = p->warn_before_ms;
	if (t->needs_login || (t->access_token == NULL &&
			       mc_oauth_needs_user(p))) {
		snprintf(why, size, "needs login: run `mercuryctl oauth login "
			 "%s`", p->name);
		return MC_OAUTH_UNUSABLE;
	}
	if (t->access_token == NULL) {
		snprintf(why, size, "no token yet (oauth refresh gets one)");
		return MC_OAUTH_EXPIRING;
	}
	if (t->expires_at <= 0) {
		snprintf(why, size, "valid, expiry unknown");
		return MC_OAUTH_OK;
	}
	left = t->expires_at - now;
	if (left <= 0) {
		if (!refreshable) {
			snprintf(why, size, "expired, and no refresh token: "
				 "run `mercuryctl oauth login %s`", p->name);
			return MC_OAUTH_UNUSABLE;
		}
		snprintf(why, size, "expired (a refresh renews it)");
		return MC_OAUTH_EXPIRING;
	}
	if (left * 1000 < (double)warn_before_ms) {
		char d[32];

		mc_format_duration((int64_t)left * 1000, d, sizeof(d));
		snprintf(why, size, "expires in %s", d);
		return MC_OAUTH_EXPIRING;
	}
	snprintf(why, size, "valid");
	return MC_OAUTH_OK;
}

/* ---- parsing the server's answers ------------------------------------- */

static char *json_str_dup(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? mc_strndup(json_string_value(v),
					      json_string_length(v)) : NULL;
}

int mc_oauth_parse_token(const char *body, size_t len, long status, double now,
			 struct mc_oauth_token *t, char **error,
			 struct mc_err *err)
{
	json_t *doc, *v;
	const char *e;

	*error = NULL;
	memset(t, 0, sizeof(*t));
	doc = body ? json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL) : NULL;
	if (!json_is_object(doc)) {
		char *q = mc_oauth_quote(body ? body : "", body ? len : 0);

		json_decref(doc);
		mc_err_set(err, MC_EXIT_CRITICAL, "the token endpoint answered "
			   "HTTP %ld without a JSON object: %s", status, q);
		free(q);
		return -1;
	}
	if ((e = json_string_value(json_object_get(doc, "error"))) != NULL ||
	    status != 200) {
		char *desc = json_str_dup(doc, "error_description");
		char *qe = mc_oauth_quote(e ? e : "", e ? strlen(e) : 0);
		char *qd = desc ? mc_oauth_quote(desc, strlen(desc)) : NULL;

		*error = e ? mc_strdup(e) : NULL;
		mc_err_set(err, MC_EXIT_CRITICAL, "the token endpoint refused "
			   "(HTTP %ld): %s%s%s", status,
			   e ? qe : "no error code", qd ? ": " : "",
			   qd ? qd : "");
		free(desc);
		free(qe);
		free(qd);
		json_decref(doc);
		return -1;
	}
	t->access_token = json_str_dup(doc, "access_token");
	if (t->access_token == NULL || *t->access_token == '\0' ||
	    strlen(t->access_token) != json_string_length(
		    json_object_get(doc, "access_token"))) {
		json_decref(doc);
		mc_oauth_token_release(t);
		return mc_err_set(err, MC_EXIT_CRITICAL, "the token endpoint's "
				  "answer has no usable access_token");
	}
	mc_redact_add(t->access_token);
	t->refresh_token = json_str_dup(doc, "refresh_token");
	if (t->refresh_token != NULL && (*t->refresh_token == '\0' ||
	    strlen(t->refresh_token) != json_string_length(
		    json_object_get(doc, "refresh_token")))) {
		mc_free_secret(t->refresh_token);
		t->refresh_token = NULL;
	}
	mc_redact_add(t->refresh_token);
	t->token_type = json_str_dup(doc, "token_type");
	t->scope = json_str_dup(doc, "scope");
	v = json_object_get(doc, "expires_in");
	if (json_is_string(v)) {	/* some servers send "3600" */
		long long n;

		if (mc_parse_int(json_string_value(v), 0, 10LL * 365 * 86400,
				 &n, NULL) == 0)
			t->expires_at = now + (double)n;
	} else if (json_is_number(v) && json_number_value(v) >= 0 &&
		   json_number_value(v) < 10.0 * 365 * 86400) {
		t->expires_at = now + json_number_value(v);
	}
	t->present = 1;
	json_decref(doc);
	return 0;
}

void mc_oauth_endpoints_release(struct mc_oauth_endpoints *e)
{
	free(e->token);
	free(e->device);
	free(e->authorization);
	free(e->revocation);
	free(e->introspection);
	memset(e, 0, sizeof(*e));
}

/* Equal but for one trailing slash. */
static int same_issuer(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la && a[la - 1] == '/')
		la--;
	if (lb && b[lb - 1] == '/')
		lb--;
	return la == lb && memcmp(a, b, la) == 0;
}

int mc_oauth_parse_discovery(const char *body, size_t len, const char *issuer,
			     struct mc_oauth_endpoints *e, struct mc_err *err)
{
	static const struct {
		const char *key;
		size_t off;
	} fields[] = {
		{ "token_endpoint", offsetof(struct mc_oauth_endpoints, token) },
		{ "device_authorization_endpoint",
		  offsetof(struct mc_oauth_endpoints, device) },
		{ "authorization_endpoint",
		  offsetof(struct mc_oauth_endpoints, authorization) },
		{ "revocation_endpoint",
		  offsetof(struct mc_oauth_endpoints, revocation) },
		{ "introspection_endpoint",
		  offsetof(struct mc_oauth_endpoints, introspection) },
	};
	json_t *doc;
	const char *iss;

	memset(e, 0, sizeof(*e));
	doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(doc)) {
		json_decref(doc);
		return mc_err_set(err, MC_EXIT_CRITICAL, "the discovery "
				  "document of %s is not a JSON object",
				  issuer);
	}
	iss = json_string_value(json_object_get(doc, "issuer"));
	if (iss == NULL || !same_issuer(iss, issuer)) {
		char *q = iss ? mc_oauth_quote(iss, strlen(iss)) : NULL;

		mc_err_set(err, MC_EXIT_CRITICAL, "the discovery document of "
			   "%s names another issuer (%s)", issuer,
			   q ? q : "none");
		free(q);
		json_decref(doc);
		return -1;
	}
	for (size_t i = 0; i < MC_ARRAY_LEN(fields); i++) {
		char *v = json_str_dup(doc, fields[i].key);

		if (v != NULL && (!http_url(v) || strlen(v) != json_string_length(
				json_object_get(doc, fields[i].key)) ||
				  strpbrk(v, " \t\r\n") != NULL)) {
			free(v);
			v = NULL;
		}
		*(char **)((char *)e + fields[i].off) = v;
	}
	json_decref(doc);
	return 0;
}

/* ---- HTTP exchanges --------------------------------------------------- */

/* Sets the client's authentication for a request to an endpoint:
 * client_secret_basic (RFC 6749 2.3.1: id and secret form-encoded, then
 * base64), or client_id (and client_secret) in the form. *auth gets the
 * header to send (caller frees with mc_free_secret), or NULL. */
static void client_auth(const struct mc_oauth_provider *p, struct mc_buf *form,
			char **auth)
{
	*auth = NULL;
	if (p->client_secret != NULL && !p->auth_post) {
		char *id = mc_url_escape(p->client_id);
		char *sec = mc_url_escape(p->client_secret);
		char *pair = mc_asprintf("%s:%s", id, sec);
		size_t n = strlen(pair);
		char *b64 = mc_malloc(4 * ((n + 2) / 3) + 1);

		EVP_EncodeBlock((unsigned char *)b64, (unsigned char *)pair,
				(int)n);
		*auth = mc_asprintf("Authorization: Basic %s", b64);
		mc_redact_add(b64);
		mc_free_secret(b64);
		mc_free_secret(pair);
		mc_free_secret(sec);
		free(id);
		return;
	}
	mc_oauth_form_add(form, "client_id", p->client_id);
	mc_oauth_form_add(form, "client_secret", p->client_secret);
}

int mc_oauth_post(const struct mc_oauth_env *env,
		  const struct mc_oauth_provider *p, const char *url,
		  struct mc_buf *form, int retry, struct mc_http_req *req,
		  struct mc_err *err)
{
	char *auth = NULL;
	const char *headers[4];
	size_t nh = 0;
	int rc;

	memset(req, 0, sizeof(*req));
	if (p->unusable)
		return mc_err_set(err, MC_EXIT_CONFIG, "%s", p->unusable);
	client_auth(p, form, &auth);
	headers[nh++] = "Content-Type: application/x-www-form-urlencoded";
	headers[nh++] = "Accept: application/json";
	if (auth)
		headers[nh++] = auth;
	headers[nh] = NULL;
	memset(req, 0, sizeof(*req));
	req->method = "POST";
	req->url = url;
	req->headers = headers;
	req->body = form->data;
	req->body_len = form->len;
	req->timeout_ms = p->timeout_ms;
	req->max_attempts = retry ? p->retries + 1 : 1;
	req->max_body = 256 * 1024;
	rc = mc_http_perform(env->http, req, 1, env->dl, err);
	req->headers = NULL;
	req->body = NULL;
	mc_free_secret(auth);
	return rc;
}

/* The breaker's name for a provider. */
static char *breaker_name(const struct mc_oauth_provider *p)
{
	return mc_asprintf("oauth %s", p->name);
}

int mc_oauth_token_request(const struct mc_oauth_env *env,
			   const struct mc_oauth_provider *p, const char *url,
			   struct mc_buf *form, struct mc_oauth_token *t,
			   char **error, struct mc_err *err)
{
	struct mc_http_req req;
	char *bname = breaker_name(p);
	double retry_at = 0, now = mc_oauth_now(env);
	int allow, rc;

	*error = NULL;
	memset(t, 0, sizeof(*t));
	allow = mc_breaker_allow(env->st, bname, &p->breaker, env->clock,
				 &retry_at, err);
	if (allow <= 0) {
		if (allow == 0) {
			char at[40];

			mc_format_time(retry_at, at, sizeof(at));
			mc_err_set(err, MC_EXIT_UNKNOWN, "provider '%s': the "
				   "circuit breaker is open after failed "
				   "requests (next try at %s)", p->name, at);
		}
		free(bname);
		return -1;
	}
	if (mc_oauth_post(env, p, url, form, 1, &req, err) < 0) {
		mc_http_req_release(&req);
		free(bname);
		return -1;
	}
	if (!req.done || req.status >= 500 || req.status == 429) {
		/* the server could not be had: nothing it said counts */
		mc_err_set(err, MC_EXIT_UNKNOWN, "provider '%s': the token "
			   "endpoint %s could not be reached: %s", p->name,
			   url, req.err.msg[0] ? req.err.msg : "no answer");
		mc_breaker_record(env->st, bname, 0, &p->breaker, env->clock,
				  NULL);
		mc_http_req_release(&req);
		free(bname);
		return -1;
	}
	mc_breaker_record(env->st, bname, 1, &p->breaker, env->clock, NULL);
	free(bname);
	rc = mc_oauth_parse_token(req.resp, req.resp_len, req.status, now, t,
				  error, err);
	mc_http_req_release(&req);
	if (rc == 0)
		return 0;
	if (*error && (strcmp(*error, "invalid_client") == 0 ||
		       strcmp(*error, "unauthorized_client") == 0)) {
		char why[MC_ERR_MSG];

		snprintf(why, sizeof(why), "%s", err->msg);
		mc_err_set(err, MC_EXIT_CONFIG, "%s: [oauth \"%s\"] the server "
			   "refused the client (%s): check client_id, the "
			   "secret and auth_method (%s)", p->source, p->name,
			   *error, why);
	}
	return -1;
}

/* ---- discovery -------------------------------------------------------- */

static int discovery_cached(struct mc_state *st, const char *issuer,
			    double now, char **doc, struct mc_err *err)
{
	sqlite3_stmt *s;

	*doc = NULL;
	if (mc_state_prepare(st, "SELECT document FROM oauth_discovery WHERE "
			     "issuer = ? AND fetched > ? AND fetched <= ?", &s,
			     "cannot read the discovery cache", err) < 0)
		return -1;
	sqlite3_bind_text(s, 1, issuer, -1, SQLITE_STATIC);
	sqlite3_bind_double(s, 2, now - DISCOVERY_TTL_S);
	sqlite3_bind_double(s, 3, now + 60);
	if (sqlite3_step(s) == SQLITE_ROW)
		*doc = mc_state_column_dup(s, 0);
	sqlite3_finalize(s);
	return 0;
}

static int discovery_store(struct mc_state *st, const char *issuer,
			   const char *doc, double now, struct mc_err *err)
{
	static const char what[] = "cannot cache the discovery document";
	sqlite3_stmt *s;

	if (mc_state_prepare(st, "INSERT OR REPLACE INTO oauth_discovery "
			     "(issuer, document, fetched) VALUES (?, ?, ?)", &s,
			     what, err) < 0)
		return -1;
	sqlite3_bind_text(s, 1, issuer, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, doc, -1, SQLITE_STATIC);
	sqlite3_bind_double(s, 3, now);
	return mc_state_exec_stmt(st, s, what, err);
}

/* The RFC 8414 URL: /.well-known/oauth-authorization-server inserted
 * between the host and the issuer's path. */
static char *rfc8414_url(const char *issuer)
{
	const char *host = strstr(issuer, "://");
	const char *path;
	size_t n;

	host = host ? host + 3 : issuer;
	path = strchr(host, '/');
	if (path == NULL)
		return mc_asprintf("%s/.well-known/oauth-authorization-server",
				   issuer);
	n = strlen(path);
	while (n > 0 && path[n - 1] == '/')
		n--;
	return mc_asprintf("%.*s/.well-known/oauth-authorization-server%.*s",
			   (int)(path - issuer), issuer, (int)n, path);
}

static int fetch_discovery(const struct mc_oauth_env *env,
			   const struct mc_oauth_provider *p,
			   struct mc_oauth_endpoints *e, struct mc_err *err)
{
	size_t n = strlen(p->issuer);
	char *urls[2];
	int rc = -1;

	while (n > 0 && p->issuer[n - 1] == '/')
		n--;
	urls[0] = mc_asprintf("%.*s/.well-known/openid-configuration", (int)n,
			      p->issuer);
	urls[1] = rfc8414_url(p->issuer);
	for (int i = 0; i < 2 && rc < 0; i++) {
		struct mc_http_req req;

		memset(&req, 0, sizeof(req));
		req.url = urls[i];
		req.timeout_ms = p->timeout_ms;
		req.max_attempts = p->retries + 1;
		req.max_body = 256 * 1024;
		if (mc_http_perform(env->http, &req, 1, env->dl, err) < 0)
			break;
		if (!req.done || req.status >= 500 || req.status == 429) {
			mc_err_set(err, MC_EXIT_UNKNOWN, "provider '%s': "
				   "discovery at %s failed: %s", p->name,
				   urls[i], req.err.msg[0] ? req.err.msg :
				   "no answer");
			mc_http_req_release(&req);
			break;
		}
		if (req.status != 200) {
			mc_err_set(err, MC_EXIT_CONFIG, "%s: [oauth \"%s\"] "
				   "no discovery document for issuer %s "
				   "(HTTP %ld at %s)", p->source, p->name,
				   p->issuer, req.status, urls[i]);
			mc_http_req_release(&req);
			continue;
		}
		rc = mc_oauth_parse_discovery(req.resp, req.resp_len,
					      p->issuer, e, err);
		if (rc == 0 && discovery_store(env->st, p->issuer, req.resp,
					       mc_oauth_now(env), err) < 0) {
			mc_oauth_endpoints_release(e);
			rc = -1;
		}
		mc_http_req_release(&req);
		if (rc < 0)
			break;
	}
	free(urls[0]);
	free(urls[1]);
	return rc;
}

static void take_explicit(char **dst, const char *explicit)
{
	if (explicit != NULL) {
		free(*dst);
		*dst = mc_strdup(explicit);
	}
}

int mc_oauth_endpoints(const struct mc_oauth_env *env,
		       const struct mc_oauth_provider *p,
		       struct mc_oauth_endpoints *e, struct mc_err *err)
{
	memset(e, 0, sizeof(*e));
	if (p->issuer != NULL && (p->token_url == NULL ||
	    (p->device_url == NULL && p->authorization_url == NULL) ||
	    p->revocation_url == NULL)) {
		char *doc = NULL;
		int rc;

		if (discovery_cached(env->st, p->issuer, mc_oauth_now(env), &doc,
				     err) < 0)
			return -1;
		if (doc != NULL) {
			rc = mc_oauth_parse_discovery(doc, strlen(doc),
						      p->issuer, e, err);
			free(doc);
		} else {
			rc = -1;
		}
		if (rc < 0 && fetch_discovery(env, p, e, err) < 0 &&
		    p->token_url == NULL)
			return -1;
	}
	take_explicit(&e->token, p->token_url);
	take_explicit(&e->device, p->device_url);
	take_explicit(&e->authorization, p->authorization_url);
	take_explicit(&e->revocation, p->revocation_url);
	if (e->token == NULL) {
		mc_oauth_endpoints_release(e);
		return mc_err_set(err, MC_EXIT_CONFIG, "%s: [oauth \"%s\"] the "
				  "issuer's metadata names no token endpoint: "
				  "set token_url", p->source, p->name);
	}
	mc_err_clear(err);
	return 0;
}

/* ---- the single-flight refresh ---------------------------------------- */

int mc_oauth_usable(const struct mc_oauth_token *t, double now,
		  int64_t min_valid_ms)
{
	if (t->access_token == NULL || t->needs_login)
		return 0;
	return t->expires_at <= 0 ||
	       (t->expires_at - now) * 1000 >= (double)min_valid_ms;
}

static int needs_login_err(const struct mc_oauth_provider *p,
			   const char *why, struct mc_err *err)
{
	return mc_err_set(err, MC_EXIT_CRITICAL, "provider '%s' needs login%s%s: "
			  "run `mercuryctl oauth login %s`", p->name,
			  why ? " " : "", why ? why : "", p->name);
}

/* One exchange at the token endpoint, under the provider's lock. */
static int refresh_locked(const struct mc_oauth_env *env,
			  const struct mc_oauth_provider *p,
			  const struct mc_oauth_token *old,
			  struct mc_oauth_token *t, struct mc_err *err)
{
	struct mc_oauth_endpoints e;
	struct mc_buf form = { 0 };
	char *error = NULL;
	double now = mc_oauth_now(env);
	int rc;

	if (old->refresh_token == NULL && mc_oauth_needs_user(p))
		return needs_login_err(p, old->needs_login ?
				       "(the server refused the refresh token)" :
				       NULL, err);
	if (mc_oauth_endpoints(env, p, &e, err) < 0)
		goto record;
	if (old->refresh_token != NULL) {
		mc_oauth_form_add(&form, "grant_type", "refresh_token");
		mc_oauth_form_add(&form, "refresh_token", old->refresh_token);
	} else {
		mc_oauth_form_add(&form, "grant_type", "client_credentials");
		mc_oauth_form_add(&form, "scope", p->scope);
	}
	rc = mc_oauth_token_request(env, p, e.token, &form, t, &error, err);
	mc_free_secret(mc_buf_steal(&form));
	mc_oauth_endpoints_release(&e);
	if (rc == 0) {
		if (mc_oauth_token_save(env->st, p->name, t, now, err) < 0) {
			mc_oauth_token_release(t);
			free(error);
			return -1;
		}
		/* what the store now holds: a refresh token kept */
		if (t->refresh_token == NULL)
			t->refresh_token = mc_strdup(old->refresh_token);
		{
			char left[32] = "unknown";

			if (t->expires_at > 0)
				mc_format_duration((int64_t)(t->expires_at -
					now) * 1000, left, sizeof(left));
			mc_log(MC_LOG_INFO, "provider '%s': new access token "
			       "by %s, valid for %s%s", p->name,
			       old->refresh_token ? "refresh_token" :
			       "client_credentials", left,
			       t->refresh_token && !mc_streq(t->refresh_token,
			       old->refresh_token) ? "; the refresh token "
			       "rotated" : "");
		}
		return 0;
	}
	if (error && strcmp(error, "invalid_grant") == 0) {
		int grant_cc = old->refresh_token == NULL;

		free(error);
		if (grant_cc)	/* client_credentials: a server-side rule */
			goto record;
		mc_oauth_token_failed(env->st, p->name, 1, "invalid_grant: the "
				      "server refused the refresh token",
				      mc_oauth_now(env), NULL);
		return needs_login_err(p, "(the server refused the refresh "
				       "token: invalid_grant)", err);
	}
	free(error);
record:
	{
		char *why = mc_redact(err->msg);

		mc_oauth_token_failed(env->st, p->name, 0, why,
				      mc_oauth_now(env), NULL);
		free(why);
	}
	return -1;
}

/* The provider's lock: one refresh (or revocation) at a time per
 * provider, across this host's processes, waited for as long as the run
 * may. A coordinator lock (coord.h) on the state file's backend: the
 * tokens live in each host's state file, so the hosts of a fleet each
 * refresh their own and wait for none of the others (docs/DESIGN.md). */
struct provider_lock {
	struct mc_coord *c;
	struct mc_coord_lock *l;
};

static int provider_lock(const struct mc_oauth_env *env,
			 const struct mc_oauth_provider *p,
			 struct provider_lock *pl, struct mc_err *err)
{
	int64_t left = mc_deadline_left_ms(env->dl, 0);
	char *name = mc_asprintf("oauth:%s", p->name);
	int rc;

	pl->c = mc_coord_open_state(env->st);
	rc = mc_coord_lock_take(pl->c, name, 0, left > 0 && left < INT64_MAX ?
				left : 60000, &pl->l, err);
	free(name);
	if (rc < 0)
		mc_coord_close(pl->c);
	return rc;
}

static void provider_unlock(struct provider_lock *pl)
{
	mc_coord_lock_release(pl->c, pl->l);
	mc_coord_close(pl->c);
}

int mc_oauth_ensure(const struct mc_oauth_env *env,
		    const struct mc_oauth_provider *p, int64_t min_valid_ms,
		    int force, struct mc_oauth_token *t, int *refreshed,
		    struct mc_err *err)
{
	struct mc_oauth_token cur;
	struct provider_lock lock;
	double started = mc_oauth_now(env);
	int rc;

	*refreshed = 0;
	memset(t, 0, sizeof(*t));
	if (mc_oauth_token_read(env->st, p->name, &cur, err) < 0)
		return -1;
	if (!force && mc_oauth_usable(&cur, started, min_valid_ms)) {
		*t = cur;
		return 0;
	}
	if (cur.refresh_token == NULL && mc_oauth_needs_user(p)) {
		mc_oauth_token_release(&cur);
		return needs_login_err(p, NULL, err);
	}
	mc_oauth_token_release(&cur);
	if (provider_lock(env, p, &lock, err) < 0)
		return -1;
	if (mc_oauth_token_read(env->st, p->name, &cur, err) < 0) {
		provider_unlock(&lock);
		return -1;
	}
	/* Another process may have refreshed while we waited: its token
	 * is the best the server gives, even when shorter than asked. */
	if ((mc_oauth_usable(&cur, mc_oauth_now(env), min_valid_ms) &&
	     !force) || (cur.obtained >= started &&
			 mc_oauth_usable(&cur, mc_oauth_now(env), 0))) {
		provider_unlock(&lock);
		*t = cur;
		return 0;
	}
	rc = refresh_locked(env, p, &cur, t, err);
	provider_unlock(&lock);
	mc_oauth_token_release(&cur);
	*refreshed = rc == 0;
	return rc;
}

/* ---- revocation ------------------------------------------------------- */

int mc_oauth_revoke(const struct mc_oauth_env *env,
		    const struct mc_oauth_provider *p, char **warning,
		    struct mc_err *err)
{
	struct mc_oauth_token cur;
	struct mc_oauth_endpoints e;
	struct mc_buf warn = { 0 };
	struct mc_err e2 = { 0 };
	const char *tokens[2], *hints[2] = { "refresh_token", "access_token" };
	struct provider_lock lock;
	int rc;

	*warning = NULL;
	if (provider_lock(env, p, &lock, err) < 0)
		return -1;
	if (mc_oauth_token_read(env->st, p->name, &cur, err) < 0) {
		provider_unlock(&lock);
		return -1;
	}
	tokens[0] = cur.refresh_token;
	tokens[1] = cur.access_token;
	if (cur.refresh_token == NULL && cur.access_token == NULL) {
		/* nothing held: nothing to tell the server */
	} else if (mc_oauth_endpoints(env, p, &e, &e2) < 0) {
		mc_buf_printf(&warn, "%s", e2.msg);
	} else if (e.revocation == NULL) {
		mc_buf_printf(&warn, "the server offers no revocation endpoint "
			      "(set revocation_url): the tokens stay valid "
			      "there until they expire");
		mc_oauth_endpoints_release(&e);
	} else {
		for (int i = 0; i < 2; i++) {
			struct mc_buf form = { 0 };
			struct mc_http_req req;

			if (tokens[i] == NULL)
				continue;
			mc_oauth_form_add(&form, "token", tokens[i]);
			mc_oauth_form_add(&form, "token_type_hint", hints[i]);
			mc_err_clear(&e2);
			if (mc_oauth_post(env, p, e.revocation, &form, 1, &req,
					  &e2) < 0) {
				mc_buf_printf(&warn, "%s%s", warn.len ? "; " :
					      "", e2.msg);
			} else if (!req.done || req.status != 200) {
				mc_buf_printf(&warn, "%srevoking the %s: %s",
					      warn.len ? "; " : "", hints[i],
					      req.err.msg[0] ? req.err.msg :
					      "no answer");
			}
			mc_http_req_release(&req);
			mc_free_secret(mc_buf_steal(&form));
		}
		mc_oauth_endpoints_release(&e);
	}
	mc_oauth_token_release(&cur);
	rc = mc_oauth_token_forget(env->st, p->name, err);
	provider_unlock(&lock);
	if (rc < 0) {
		mc_buf_release(&warn);
		return -1;
	}
	if (warn.len)
		*warning = mc_buf_steal(&warn);
	mc_buf_release(&warn);
	return 0;
}

/* ---- a bearer token for a request ------------------------------------ */

int mc_oauth_bearer(struct mc_state *st, const struct mc_conf *conf,
		    const char *provider, struct mc_http *http,
		    const struct mc_deadline *dl, const char *correlation_id,
		    int64_t min_valid_ms, char **header, struct mc_err *err)
{
	struct mc_oauth_provider *p = NULL;
	struct mc_oauth_env env;
	struct mc_oauth_token t;
	struct mc_http *own = NULL;
	size_t n = 0;
	int refreshed, rc;

	*header = NULL;
	if (mc_oauth_load(conf, &provider, 1, &p, &n, err) < 0)
		return -1;
	memset(&env, 0, sizeof(env));
	env.st = st;
	env.dl = dl;
	env.http = http;
	if (env.http == NULL &&
	    (env.http = own = mc_http_new(correlation_id, err)) == NULL) {
		mc_oauth_providers_free(p, n);
		return -1;
	}
	rc = mc_oauth_ensure(&env, p, min_valid_ms, 0, &t, &refreshed, err);
	if (rc == 0) {
		*header = mc_asprintf("Authorization: Bearer %s",
				      t.access_token);
		mc_oauth_token_release(&t);
	}
	mc_http_free(own);
	mc_oauth_providers_free(p, n);
	return rc;
}

/* ---- PKCE ------------------------------------------------------------- */

/* base64url without padding of n bytes into out (room for 4n/3 + 1). */
static void base64url(const unsigned char *p, size_t n, char *out)
{
	unsigned char tmp[64];
	int len;

	len = EVP_EncodeBlock(tmp, p, (int)n);
	while (len > 0 && tmp[len - 1] == '=')
		len--;
	for (int i = 0; i < len; i++)
		out[i] = tmp[i] == '+' ? '-' : tmp[i] == '/' ? '_' :
			 (char)tmp[i];
	out[len] = '\0';
}

void mc_oauth_s256(const char *verifier, char challenge[44])
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *)verifier, strlen(verifier), md);
	base64url(md, sizeof(md), challenge);
}

void mc_oauth_pkce(char verifier[44], char challenge[44])
{
	unsigned char raw[32];

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		mc_random_bytes(raw, sizeof(raw));
	base64url(raw, sizeof(raw), verifier);
	mc_oauth_s256(verifier, challenge);
}
