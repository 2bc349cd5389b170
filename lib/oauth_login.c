/*
 * oauth_login.c - `oauth login`: the device flow (RFC 8628) and the
 * authorization code flow with PKCE and a loopback redirect (RFC 8252
 * 7.3), each ending with the tokens saved in the state file.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <jansson.h>
#include <openssl/rand.h>
#include "log.h"
#include "oauth.h"
#include "oauth_int.h"
#include "proc.h"

#define DEVICE_GRANT "urn:ietf:params:oauth:grant-type:device_code"
/* RFC 8628 3.5: the interval without one from the server, and what a
 * slow_down adds. */
#define DEVICE_INTERVAL_S 5
#define SLOW_DOWN_S 5
/* A browser's request to the loopback listener. */
#define CALLBACK_MAX 8192
#define CALLBACK_READ_MS 5000

static FILE *out_of(const struct mc_oauth_env *env)
{
	return env->out ? env->out : stdout;
}

static int env_sleep(const struct mc_oauth_env *env, int64_t ms)
{
	if (env->sleep_ms)
		return env->sleep_ms(env->sleep_ctx, ms);
	return mc_sleep_ms(ms);
}

static int save_login(const struct mc_oauth_env *env,
		      const struct mc_oauth_provider *p,
		      const struct mc_oauth_token *t, struct mc_err *err)
{
	return mc_oauth_token_save(env->st, p->name, t, mc_oauth_now(env), err);
}

/* ---- device flow ------------------------------------------------------ */

int mc_oauth_device_poll(const struct mc_oauth_env *env,
			 const struct mc_oauth_provider *p,
			 const char *token_url, const char *device_code,
			 int64_t interval_s, double expires_at,
			 struct mc_oauth_token *t, int *polls,
			 struct mc_err *err)
{
	*polls = 0;
	if (interval_s <= 0)
		interval_s = DEVICE_INTERVAL_S;
	for (;;) {
		struct mc_buf form = { 0 };
		char *error = NULL;
		int64_t wait = interval_s * 1000, left;
		int rc;

		if (expires_at > 0 && mc_oauth_now(env) + interval_s >
		    expires_at)
			return mc_err_set(err, MC_EXIT_CRITICAL, "provider '%s': "
					  "the device code expired before the "
					  "login was approved: run login again",
					  p->name);
		left = mc_deadline_left_ms(env->dl, 0);
		if (env->dl && env->dl->at > 0 && left < wait)
			return mc_err_set(err, MC_EXIT_UNKNOWN, "provider '%s': "
					  "the run's deadline came before the "
					  "login was approved (give a longer "
					  "--timeout)", p->name);
		if (env_sleep(env, wait))
			return mc_err_set(err, mc_interrupted == SIGTERM ?
					  MC_EXIT_SIGTERM : MC_EXIT_SIGINT,
					  "interrupted while waiting for the "
					  "login");
		mc_oauth_form_add(&form, "grant_type", DEVICE_GRANT);
		mc_oauth_form_add(&form, "device_code", device_code);
		(*polls)++;
		rc = mc_oauth_token_request(env, p, token_url, &form, t,
					    &error, err);
		mc_free_secret(mc_buf_steal(&form));
		if (rc == 0) {
			free(error);
			return 0;
		}
		if (mc_streq(error, "authorization_pending")) {
			free(error);
			continue;
		}
		if (mc_streq(error, "slow_down")) {
			interval_s += SLOW_DOWN_S;
			mc_log(MC_LOG_INFO, "provider '%s': the server asked to "
			       "slow down; polling every %llds", p->name,
			       (long long)interval_s);
			free(error);
			continue;
		}
		if (mc_streq(error, "access_denied"))
			mc_err_set(err, MC_EXIT_CRITICAL, "provider '%s': the "
				   "login was denied (access_denied)", p->name);
		else if (mc_streq(error, "expired_token"))
			mc_err_set(err, MC_EXIT_CRITICAL, "provider '%s': the "
				   "device code expired (expired_token): run "
				   "`mercuryctl oauth login %s` again",
				   p->name, p->name);
		free(error);
		return -1;
	}
}

static char *str_dup(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? mc_strdup(v) : NULL;
}

static int login_device(const struct mc_oauth_env *env,
			const struct mc_oauth_provider *p,
			const struct mc_oauth_endpoints *e, struct mc_err *err)
{
	struct mc_buf form = { 0 };
	struct mc_http_req req;
	struct mc_oauth_token t;
	json_t *doc = NULL;
	char *device_code = NULL, *user_code = NULL, *uri = NULL,
	     *complete = NULL;
	double expires_at = 0;
	int64_t interval = 0;
	int polls = 0, rc = -1;

	mc_oauth_form_add(&form, "scope", p->scope);
	if (mc_oauth_post(env, p, e->device, &form, 1, &req, err) < 0)
		goto out;
	if (!req.done || req.status != 200) {
		char *q = req.resp ? mc_oauth_quote(req.resp, req.resp_len) :
			  NULL;

		mc_err_set(err, req.done && req.status == 401 ?
			   MC_EXIT_CONFIG : MC_EXIT_CRITICAL,
			   "provider '%s': the device authorization request "
			   "failed: %s%s%s", p->name,
			   req.err.msg[0] ? req.err.msg : "no answer",
			   q ? ": " : "", q ? q : "");
		free(q);
		goto out;
	}
	doc = json_loadb(req.resp, req.resp_len, 0, NULL);
	device_code = str_dup(doc, "device_code");
	user_code = str_dup(doc, "user_code");
	uri = str_dup(doc, "verification_uri");
	if (uri == NULL)	/* an early draft's name, still seen */
		uri = str_dup(doc, "verification_url");
	complete = str_dup(doc, "verification_uri_complete");
	if (device_code == NULL || user_code == NULL || uri == NULL) {
		mc_err_set(err, MC_EXIT_CRITICAL, "provider '%s': the device "
			   "authorization answer lacks device_code, user_code "
			   "or verification_uri", p->name);
		goto out;
	}
	mc_redact_add(device_code);
	if (json_is_integer(json_object_get(doc, "interval")))
		interval = json_integer_value(json_object_get(doc, "interval"));
	if (json_is_number(json_object_get(doc, "expires_in")))
		expires_at = mc_oauth_now(env) + json_number_value(
				     json_object_get(doc, "expires_in"));
	{
		char *qu = mc_oauth_quote(uri, strlen(uri));
		char *qc = mc_oauth_quote(user_code, strlen(user_code));
		char *qx = complete ? mc_oauth_quote(complete, strlen(complete)) :
			   NULL;
		FILE *f = out_of(env);

		fprintf(f, "To log in to %s, open %s\nand enter the code: %s\n",
			p->name, qu, qc);
		if (qx)
			fprintf(f, "Or open: %s\n", qx);
		fflush(f);
		free(qu);
		free(qc);
		free(qx);
	}
	if (interval < 0 || interval > 3600)
		interval = 0;
	if (mc_oauth_device_poll(env, p, e->token, device_code, interval,
				 expires_at, &t, &polls, err) < 0)
		goto out;
	rc = save_login(env, p, &t, err);
	mc_oauth_token_release(&t);
out:
	mc_http_req_release(&req);
	mc_free_secret(mc_buf_steal(&form));
	json_decref(doc);
	mc_free_secret(device_code);
	free(user_code);
	free(uri);
	free(complete);
	return rc;
}

/* ---- authorization code with a loopback redirect ---------------------- */

static void respond(int fd, int status, const char *title, const char *text)
{
	char *page = mc_asprintf("<!DOCTYPE html><html><head><meta "
				 "charset=\"utf-8\"><title>%s</title></head>"
				 "<body><p>%s</p></body></html>\n", title, text);
	char *msg = mc_asprintf("HTTP/1.1 %d %s\r\nContent-Type: text/html; "
				"charset=utf-8\r\nContent-Length: %zu\r\n"
				"Cache-Control: no-store\r\nConnection: "
				"close\r\n\r\n%s", status,
				status == 200 ? "OK" : status == 404 ?
				"Not Found" : "Bad Request", strlen(page),
				page);
	size_t off = 0, n = strlen(msg);

	while (off < n) {
		ssize_t w = send(fd, msg + off, n - off, MSG_NOSIGNAL);

		if (w <= 0)
			break;
		off += (size_t)w;
	}
	free(page);
	free(msg);
}

/* Reads the request head (bounded in size and time); NULL when none. */
static char *read_request(int fd)
{
	struct timeval tv = { CALLBACK_READ_MS / 1000, 0 };
	struct mc_buf b = { 0 };
	char chunk[1024];

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (b.len < CALLBACK_MAX) {
		ssize_t r = recv(fd, chunk, sizeof(chunk), 0);

		if (r <= 0)
			break;
		mc_buf_add(&b, chunk, (size_t)r);
		if (strstr(b.data, "\r\n\r\n") || strstr(b.data, "\n\n"))
			return mc_buf_steal(&b);
	}
	if (b.len > 0 && strchr(b.data, '\n'))
		return mc_buf_steal(&b);
	mc_buf_release(&b);
	return NULL;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The value of key in a query string, percent-decoded; NULL when absent. */
static char *query_param(const char *q, const char *key)
{
	size_t kl = strlen(key);

	while (q && *q) {
		const char *end = q + strcspn(q, "&");

		if ((size_t)(end - q) > kl && strncmp(q, key, kl) == 0 &&
		    q[kl] == '=') {
			struct mc_buf b = { 0 };

			mc_buf_puts(&b, "");
			for (const char *p = q + kl + 1; p < end; p++) {
				int h, l;

				if (*p == '+') {
					mc_buf_add(&b, " ", 1);
				} else if (*p == '%' && p + 2 < end + 1 &&
					   (h = hexval(p[1])) >= 0 &&
					   (l = hexval(p[2])) >= 0) {
					char c = (char)(h * 16 + l);

					mc_buf_add(&b, &c, 1);
					p += 2;
				} else {
					mc_buf_add(&b, p, 1);
				}
			}
			return mc_buf_steal(&b);
		}
		q = *end ? end + 1 : end;
	}
	return NULL;
}

/* The callback's query string, or NULL when the request is not
 * GET /callback. Caller frees. */
static char *callback_query(const char *req)
{
	const char *sp;
	size_t n;

	if (strncmp(req, "GET /callback", 13) != 0 ||
	    (req[13] != '?' && req[13] != ' '))
		return NULL;
	if (req[13] == ' ')
		return mc_strdup("");
	sp = req + 14;
	n = strcspn(sp, " \r\n");
	return mc_strndup(sp, n);
}

/* Waits for the browser's redirect with our state: 0 with *code, or -1. */
static int await_code(const struct mc_oauth_env *env,
		      const struct mc_oauth_provider *p, int lfd,
		      const char *state, char **code, int *cfd_out,
		      struct mc_err *err)
{
	*code = NULL;
	*cfd_out = -1;
	for (;;) {
		struct pollfd pfd = { lfd, POLLIN, 0 };
		int64_t left = mc_deadline_left_ms(env->dl, 200);
		char *req, *q, *got_state, *error;
		int cfd, r;

		if (mc_interrupted)
			return mc_err_set(err, mc_interrupted == SIGTERM ?
					  MC_EXIT_SIGTERM : MC_EXIT_SIGINT,
					  "interrupted while waiting for the "
					  "login");
		if (env->dl && env->dl->at > 0 && left <= 0)
			return mc_err_set(err, MC_EXIT_UNKNOWN, "provider '%s': "
					  "the run's deadline came before the "
					  "browser came back (give a longer "
					  "--timeout)", p->name);
		r = poll(&pfd, 1, (int)(left < 200 ? left : 200));
		if (r <= 0)
			continue;
		cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (cfd < 0)
			continue;
		req = read_request(cfd);
		q = req ? callback_query(req) : NULL;
		free(req);
		if (q == NULL) {
			respond(cfd, 404, "Not found", "Not found.");
			close(cfd);
			continue;
		}
		got_state = query_param(q, "state");
		if (!mc_streq(got_state, state)) {
			mc_log(MC_LOG_WARN, "provider '%s': a request to the "
			       "login listener with a wrong state was "
			       "refused", p->name);
			respond(cfd, 400, "Login failed", "The state does not "
				"match this login: start it again.");
			close(cfd);
			free(got_state);
			free(q);
			continue;
		}
		free(got_state);
		if ((error = query_param(q, "error")) != NULL) {
			char *qe = mc_oauth_quote(error, strlen(error));

			respond(cfd, 400, "Login failed", "The login was not "
				"completed. You may close this window.");
			close(cfd);
			mc_err_set(err, MC_EXIT_CRITICAL, "provider '%s': the "
				   "authorization was refused (%s)", p->name,
				   qe);
			free(qe);
			free(error);
			free(q);
			return -1;
		}
		*code = query_param(q, "code");
		free(q);
		if (*code == NULL || **code == '\0') {
			free(*code);
			*code = NULL;
			respond(cfd, 400, "Login failed", "No code came back.");
			close(cfd);
			return mc_err_set(err, MC_EXIT_CRITICAL, "provider '%s': "
					  "the redirect carried no code",
					  p->name);
		}
		mc_redact_add(*code);
		*cfd_out = cfd;
		return 0;
	}
}

/* Asks the desktop to open url (xdg-open, through the process runner), when
 * there is a display and the user did not say --no-browser. A failure
 * only means the user opens the printed URL. The run is freed (its tree
 * killed, as every run's) when the login ends: a browser that was already
 * running got the URL and stays. */
static struct mc_proc *open_browser(const struct mc_oauth_env *env,
				    const char *url)
{
	const char *d = getenv("DISPLAY"), *w = getenv("WAYLAND_DISPLAY");
	char *argv[3] = { "xdg-open", (char *)url, NULL };
	struct mc_proc_opts o;
	struct mc_proc *run = NULL;
	struct mc_err e = { 0 };

	if (env->no_browser || ((d == NULL || *d == '\0') &&
				(w == NULL || *w == '\0')))
		return NULL;
	memset(&o, 0, sizeof(o));
	o.argv = argv;
	o.io[0] = o.io[1] = o.io[2] = MC_PROC_DEVNULL;
	o.dl = env->dl;
	if (mc_proc_start(&o, &run, &e) < 0) {
		mc_log(MC_LOG_INFO, "no browser opened (%s): open the URL "
		       "yourself", e.msg);
		return NULL;
	}
	return run;
}

static int login_code(const struct mc_oauth_env *env,
		      const struct mc_oauth_provider *p,
		      const struct mc_oauth_endpoints *e, struct mc_err *err)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	struct mc_buf url = { 0 }, form = { 0 };
	struct mc_oauth_token t;
	char verifier[44], challenge[44], state[33], *redirect = NULL,
	     *code = NULL, *error = NULL;
	unsigned char raw[16];
	struct mc_proc *browser = NULL;
	int lfd, cfd = -1, rc = -1;

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, 8) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &sl) < 0) {
		mc_err_sys(err, MC_EXIT_IOERR, errno, "provider '%s': cannot "
			   "listen on 127.0.0.1 for the login redirect",
			   p->name);
		if (lfd >= 0)
			close(lfd);
		return -1;
	}
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		mc_random_bytes(raw, sizeof(raw));
	mc_hex(raw, sizeof(raw), state);
	mc_oauth_pkce(verifier, challenge);
	redirect = mc_asprintf("http://127.0.0.1:%d/callback",
			       ntohs(sa.sin_port));
	mc_oauth_form_add(&url, "response_type", "code");
	mc_oauth_form_add(&url, "client_id", p->client_id);
	mc_oauth_form_add(&url, "redirect_uri", redirect);
	mc_oauth_form_add(&url, "scope", p->scope);
	mc_oauth_form_add(&url, "state", state);
	mc_oauth_form_add(&url, "code_challenge", challenge);
	mc_oauth_form_add(&url, "code_challenge_method", "S256");
	{
		char *full = mc_asprintf("%s%c%s", e->authorization,
					 strchr(e->authorization, '?') ? '&' :
					 '?', url.data);

		fprintf(out_of(env), "To log in to %s, open this URL in a "
			"browser:\n%s\n", p->name, full);
		fflush(out_of(env));
		browser = open_browser(env, full);
		free(full);
	}
	if (await_code(env, p, lfd, state, &code, &cfd, err) < 0)
		goto out;
	mc_oauth_form_add(&form, "grant_type", "authorization_code");
	mc_oauth_form_add(&form, "code", code);
	mc_oauth_form_add(&form, "redirect_uri", redirect);
	mc_oauth_form_add(&form, "code_verifier", verifier);
	if (mc_oauth_token_request(env, p, e->token, &form, &t, &error,
				   err) < 0) {
		respond(cfd, 400, "Login failed", "The code could not be "
			"exchanged for a token; see the terminal.");
		goto out;
	}
	rc = save_login(env, p, &t, err);
	mc_oauth_token_release(&t);
	if (rc == 0)
		respond(cfd, 200, "Logged in", "mercuryctl is logged in. You "
			"may close this window.");
	else
		respond(cfd, 400, "Login failed", "The token could not be "
			"saved; see the terminal.");
out:
	if (cfd >= 0)
		close(cfd);
	close(lfd);
	mc_proc_free(browser);
	free(error);
	mc_free_secret(code);
	free(redirect);
	mc_buf_release(&url);
	mc_free_secret(mc_buf_steal(&form));
	OPENSSL_cleanse(verifier, sizeof(verifier));
	return rc;
}

int mc_oauth_login(const struct mc_oauth_env *env,
		   const struct mc_oauth_provider *p, struct mc_err *err)
{
	struct mc_oauth_endpoints e;
	int rc, device;

	if (p->grant == MC_GRANT_CLIENT_CREDENTIALS)
		return mc_err_set(err, MC_EXIT_USAGE, "provider '%s' uses "
				  "client_credentials: there is no login, "
				  "`mercuryctl oauth refresh %s` gets a token",
				  p->name, p->name);
	if (mc_oauth_endpoints(env, p, &e, err) < 0)
		return -1;
	device = p->grant == MC_GRANT_DEVICE ||
		 (p->grant == MC_GRANT_REFRESH_TOKEN && e.device != NULL);
	if (device && e.device == NULL)
		rc = mc_err_set(err, MC_EXIT_CONFIG, "%s: [oauth \"%s\"] no "
				"device authorization endpoint: set "
				"device_authorization_url", p->source, p->name);
	else if (!device && e.authorization == NULL)
		rc = mc_err_set(err, MC_EXIT_CONFIG, "%s: [oauth \"%s\"] no "
				"authorization endpoint: set "
				"authorization_url", p->source, p->name);
	else
		rc = device ? login_device(env, p, &e, err) :
		     login_code(env, p, &e, err);
	mc_oauth_endpoints_release(&e);
	return rc;
}
