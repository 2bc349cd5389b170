/* fuzz_oauth.c - libFuzzer target: the readers of an OAuth server's
 * answers, mc_oauth_parse_token (token endpoint) and
 * mc_oauth_parse_discovery (discovery documents). Any bytes in: never
 * crash; a token only with a non-empty access token; every message one
 * line without control characters (server text is escaped); endpoints
 * only as http(s) URLs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "oauth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_msg(const struct mc_err *err)
{
	size_t n = strnlen(err->msg, sizeof(err->msg));

	if (n == sizeof(err->msg))
		abort();	/* not terminated */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)err->msg[i] < 0x20)
			abort();	/* a raw control character */
}

static void check_url(const char *u)
{
	if (u != NULL && strncmp(u, "http://", 7) != 0 &&
	    strncmp(u, "https://", 8) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mc_oauth_token t;
	struct mc_oauth_endpoints e;
	struct mc_err err = { 0 };
	char *error = NULL;
	const char *body;

	/* The first byte picks the HTTP status, the rest is the body, not
	 * NUL-terminated. */
	if (size == 0)
		return 0;
	body = (const char *)data + 1;
	if (mc_oauth_parse_token(body, size - 1, 200 + (long)data[0] % 300,
				 1e9, &t, &error, &err) == 0) {
		if (t.access_token == NULL || *t.access_token == '\0' ||
		    error != NULL)
			abort();
		if (t.expires_at != 0 && (t.expires_at < 1e9 ||
					  t.expires_at > 1e9 + 10 * 366 * 86400.0))
			abort();
		mc_oauth_token_release(&t);
	} else {
		if (t.access_token != NULL)
			abort();
		check_msg(&err);
	}
	free(error);
	mc_err_clear(&err);
	if (mc_oauth_parse_discovery(body, size - 1, "https://as.example",
				     &e, &err) == 0) {
		check_url(e.token);
		check_url(e.device);
		check_url(e.authorization);
		check_url(e.revocation);
		check_url(e.introspection);
		mc_oauth_endpoints_release(&e);
	} else {
		check_msg(&err);
	}
	mc_log_shutdown();	/* the tokens registered for redaction */
	return 0;
}
