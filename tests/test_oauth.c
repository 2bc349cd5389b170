/* test_oauth.c - lib/oauth*.c: parsing the server's answers, PKCE, the
 * token store, token states, and the device flow's polling against the
 * real OAuth server (scripts/oauth-server) with a fake sleep. */
#include <criterion/criterion.h>

#include "testlib.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "http.h"
#include "mc.h"
#include "oauth.h"
#include "oauth_int.h"
#include "state.h"

static struct mc_state *open_state(const char *dir)
{
	struct mc_err err = { 0 };
	char *path = mc_asprintf("%s/state.db", dir);
	struct mc_state *st = mc_state_open(path, &err);

	cr_assert_not_null(st, "%s", err.msg);
	free(path);
	return st;
}

Test(oauth, parse_token_success)
{
	static const char body[] = "{\"access_token\":\"at-123456\","
		"\"refresh_token\":\"rt-654321\",\"expires_in\":3600,"
		"\"token_type\":\"Bearer\",\"scope\":\"openid\"}";
	struct mc_oauth_token t;
	struct mc_err err = { 0 };
	char *error = NULL;

	cr_assert_eq(mc_oauth_parse_token(body, strlen(body), 200, 1000.0, &t,
					  &error, &err), 0, "%s", err.msg);
	cr_assert_str_eq(t.access_token, "at-123456");
	cr_assert_str_eq(t.refresh_token, "rt-654321");
	cr_assert_str_eq(t.token_type, "Bearer");
	/* an absolute time, never the relative expires_in */
	cr_assert_float_eq(t.expires_at, 4600.0, 1e-9);
	cr_assert_null(error);
	mc_oauth_token_release(&t);
}

Test(oauth, parse_token_without_expiry_is_unknown)
{
	static const char body[] = "{\"access_token\":\"at-abcdef\"}";
	struct mc_oauth_token t;
	char *error = NULL;

	cr_assert_eq(mc_oauth_parse_token(body, strlen(body), 200, 1000.0, &t,
					  &error, NULL), 0);
	cr_assert_eq(t.expires_at, 0);
	cr_assert_null(t.refresh_token);
	mc_oauth_token_release(&t);
}

Test(oauth, parse_token_errors_and_escaping)
{
	static const char body[] = "{\"error\":\"invalid_grant\","
		"\"error_description\":\"bad\\u001b[31mtoken\"}";
	static const char html[] = "<html>\x01oops</html>";
	static const char nul[] = "{\"access_token\":\"a\\u0000b\"}";
	struct mc_oauth_token t;
	struct mc_err err = { 0 };
	char *error = NULL;

	cr_assert_eq(mc_oauth_parse_token(body, strlen(body), 400, 0, &t,
					  &error, &err), -1);
	cr_assert_str_eq(error, "invalid_grant");
	cr_assert_null(strchr(err.msg, '\x1b'), "raw escape in: %s", err.msg);
	cr_assert(strstr(err.msg, "\\x1b") || strstr(err.msg, "\\x1B"), "%s",
		  err.msg);
	free(error);
	cr_assert_eq(mc_oauth_parse_token(html, strlen(html), 200, 0, &t,
					  &error, &err), -1);
	cr_assert_null(error);
	cr_assert_not_null(strstr(err.msg, "\\x01"), "%s", err.msg);
	/* a token with a NUL inside is not a token */
	cr_assert_eq(mc_oauth_parse_token(nul, strlen(nul), 200, 0, &t,
					  &error, &err), -1);
	cr_assert_null(t.access_token);
}

Test(oauth, parse_discovery)
{
	static const char doc[] = "{\"issuer\":\"https://as.example/t1\","
		"\"token_endpoint\":\"https://as.example/t1/token\","
		"\"device_authorization_endpoint\":\"javascript:alert(1)\","
		"\"revocation_endpoint\":\"https://as.example/t1/revoke\"}";
	struct mc_oauth_endpoints e;
	struct mc_err err = { 0 };

	cr_assert_eq(mc_oauth_parse_discovery(doc, strlen(doc),
					      "https://as.example/t1/", &e,
					      &err), 0, "%s", err.msg);
	cr_assert_str_eq(e.token, "https://as.example/t1/token");
	cr_assert_str_eq(e.revocation, "https://as.example/t1/revoke");
	cr_assert_null(e.device, "a non-http endpoint was taken");
	mc_oauth_endpoints_release(&e);
	/* another issuer's document is refused (mix-up) */
	cr_assert_eq(mc_oauth_parse_discovery(doc, strlen(doc),
					      "https://as.example/t2", &e,
					      &err), -1);
	cr_assert_not_null(strstr(err.msg, "another issuer"), "%s", err.msg);
}

/* RFC 7636 appendix B. */
Test(oauth, pkce_s256_vector)
{
	char challenge[44], v1[44], v2[44], c2[44];

	mc_oauth_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", challenge);
	cr_assert_str_eq(challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
	mc_oauth_pkce(v1, challenge);
	mc_oauth_pkce(v2, c2);
	cr_assert_eq(strlen(v1), 43);
	cr_assert_str_neq(v1, v2);
	for (const char *p = v1; *p; p++)
		cr_assert(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				 "0123456789-_", *p), "not unreserved: %c", *p);
}

Test(oauth, token_store_roundtrip_and_states)
{
	char dir[MC_TEST_DIR_LEN];
	struct mc_state *st = open_state(mc_test_dir(dir));
	struct mc_oauth_provider p = { .name = "kite",
		.grant = MC_GRANT_DEVICE, .warn_before_ms = 3600000 };
	struct mc_oauth_token t, got;
	struct mc_err err = { 0 };
	char why[256];

	cr_assert_eq(mc_oauth_token_read(st, "kite", &got, &err), 0);
	cr_assert_eq(got.present, 0);
	cr_assert_eq(mc_oauth_state(&p, &got, 1000, -1, why, sizeof(why)),
		     MC_OAUTH_UNUSABLE);
	cr_assert_not_null(strstr(why, "mercuryctl oauth login kite"));
	memset(&t, 0, sizeof(t));
	t.access_token = mc_strdup("at-1111");
	t.refresh_token = mc_strdup("rt-1111");
	t.expires_at = 1000 + 7200;
	cr_assert_eq(mc_oauth_token_save(st, "kite", &t, 1000, &err), 0, "%s",
		     err.msg);
	/* a refresh without a new refresh token keeps the old one */
	mc_free_secret(t.access_token);
	mc_free_secret(t.refresh_token);
	t.access_token = mc_strdup("at-2222");
	t.refresh_token = NULL;
	cr_assert_eq(mc_oauth_token_save(st, "kite", &t, 1001, &err), 0);
	mc_oauth_token_release(&t);
	cr_assert_eq(mc_oauth_token_read(st, "kite", &got, &err), 0);
	cr_assert_str_eq(got.access_token, "at-2222");
	cr_assert_str_eq(got.refresh_token, "rt-1111");
	cr_assert_eq(mc_oauth_state(&p, &got, 1000, -1, why, sizeof(why)),
		     MC_OAUTH_OK);
	cr_assert_eq(mc_oauth_state(&p, &got, 1000 + 7200 - 60, -1, why,
				    sizeof(why)), MC_OAUTH_EXPIRING);
	cr_assert_eq(mc_oauth_state(&p, &got, 9000, -1, why, sizeof(why)),
		     MC_OAUTH_EXPIRING, "expired with a refresh token: %s", why);
	cr_assert(mc_oauth_usable(&got, 1000, 60000));
	{
		/* an unknown expiry is valid until a forced refresh */
		struct mc_oauth_token u = got;

		u.expires_at = 0;
		cr_assert(mc_oauth_usable(&u, 1e12, 3600000));
		cr_assert_eq(mc_oauth_state(&p, &u, 1e12, -1, why,
					    sizeof(why)), MC_OAUTH_OK);
	}
	cr_assert(!mc_oauth_usable(&got, 1000 + 7200 - 30, 60000));
	mc_oauth_token_release(&got);
	/* invalid_grant: needs login, the refresh token dropped */
	cr_assert_eq(mc_oauth_token_failed(st, "kite", 1, "invalid_grant", 1002,
					   &err), 0);
	cr_assert_eq(mc_oauth_token_read(st, "kite", &got, &err), 0);
	cr_assert_null(got.refresh_token);
	cr_assert_eq(got.needs_login, 1);
	cr_assert_eq(mc_oauth_state(&p, &got, 1000, -1, why, sizeof(why)),
		     MC_OAUTH_UNUSABLE);
	mc_oauth_token_release(&got);
	cr_assert_eq(mc_oauth_token_forget(st, "kite", &err), 0);
	cr_assert_eq(mc_oauth_token_read(st, "kite", &got, &err), 0);
	cr_assert_eq(got.present, 0);
	mc_state_close(st);
	mc_test_rmtree(dir);
}

/* ---- against the real server ----------------------------------------- */

struct sleeps {
	int64_t ms[16];
	int n;
};

static int fake_sleep(void *ctx, int64_t ms)
{
	struct sleeps *s = ctx;

	if (s->n < 16)
		s->ms[s->n++] = ms;
	return 0;
}

/* POSTs to a test-only route of the server; the body, parsed. */
static json_t *osrv(const char *route)
{
	struct mc_err err = { 0 };
	struct mc_http *h = mc_http_new(NULL, &err);
	struct mc_http_req req;
	char *url = mc_asprintf("%s/_test/%s", mc_test_env("MC_TEST_OAUTH"),
				route);
	json_t *doc;

	cr_assert_not_null(h, "%s", err.msg);
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = url;
	req.body = "";
	cr_assert_eq(mc_http_perform(h, &req, 1, NULL, &err), 0, "%s", err.msg);
	cr_assert_eq(req.status, 200, "%s: HTTP %ld", route, req.status);
	doc = json_loads(req.resp, 0, NULL);
	mc_http_req_release(&req);
	mc_http_free(h);
	free(url);
	return doc;
}

/* RFC 8628 3.5: slow_down adds 5 s to the interval, for this and every
 * later poll. The server's interval is 1 s; the sleeps are recorded. */
Test(oauth, device_poll_slow_down_adds_five_seconds)
{
	char dir[MC_TEST_DIR_LEN];
	struct mc_state *st = open_state(mc_test_dir(dir));
	const char *os = mc_test_env("MC_TEST_OAUTH");
	struct mc_err err = { 0 };
	struct mc_http *h = mc_http_new(NULL, &err);
	struct sleeps sl = { { 0 }, 0 };
	struct mc_oauth_provider p = { 0 };
	struct mc_oauth_env env = { 0 };
	struct mc_oauth_endpoints e;
	struct mc_oauth_token t;
	struct mc_http_req req;
	struct mc_deadline dl;
	char *form, *url, *code, *path;
	json_t *doc;
	int polls = 0;

	cr_assert_not_null(h, "%s", err.msg);
	p.name = "dev";
	p.source = "test:1";
	p.grant = MC_GRANT_DEVICE;
	p.issuer = (char *)os;
	p.client_id = "mc-conf";
	p.client_secret = (char *)mc_test_env("MC_TEST_OAUTH_CONF_SECRET");
	p.timeout_ms = 5000;
	p.retries = 1;
	p.breaker.failures = 5;
	p.breaker.recovery_ms = 30000;
	mc_deadline_set(&dl, 30000);
	env.st = st;
	env.http = h;
	env.dl = &dl;
	env.sleep_ms = fake_sleep;
	env.sleep_ctx = &sl;
	cr_assert_eq(mc_oauth_endpoints(&env, &p, &e, &err), 0, "%s", err.msg);
	cr_assert_not_null(e.device);

	/* a device code of the confidential client, approved at once */
	memset(&req, 0, sizeof(req));
	url = mc_strdup(e.device);
	{
		char *sec = mc_url_escape(p.client_secret);

		form = mc_asprintf("client_id=mc-conf&client_secret=%s&"
				   "scope=openid", sec);
		free(sec);
	}
	req.url = url;
	req.body = form;
	req.body_len = strlen(form);
	cr_assert_eq(mc_http_perform(h, &req, 1, &dl, &err), 0, "%s", err.msg);
	cr_assert_eq(req.status, 200, "device auth: HTTP %ld %s", req.status,
		     req.resp);
	doc = json_loads(req.resp, 0, NULL);
	code = mc_strdup(json_string_value(json_object_get(doc, "device_code")));
	cr_assert_eq(json_integer_value(json_object_get(doc, "interval")), 1);
	path = mc_asprintf("approve?user_code=%s", json_string_value(
				   json_object_get(doc, "user_code")));
	json_decref(doc);
	mc_http_req_release(&req);
	json_decref(osrv(path));
	json_decref(osrv("device_error?error=slow_down&n=1"));

	cr_assert_eq(mc_oauth_device_poll(&env, &p, e.token, code, 1, 0, &t,
					  &polls, &err), 0, "%s", err.msg);
	cr_assert_eq(polls, 2);
	cr_assert_eq(sl.n, 2);
	cr_assert_eq(sl.ms[0], 1000);
	cr_assert_eq(sl.ms[1], 6000, "after slow_down: %lld ms",
		     (long long)sl.ms[1]);
	cr_assert_not_null(t.access_token);
	mc_oauth_token_release(&t);
	mc_oauth_endpoints_release(&e);
	free(path);
	free(code);
	free(form);
	free(url);
	mc_http_free(h);
	mc_state_close(st);
	mc_test_rmtree(dir);
}
