/* fuzz_redis_url.c - libFuzzer target: redis:// URLs. A parsed URL has a
 * host, a port in 1..65535 and a database >= 0; a refusal says why in one
 * line that never holds the password. */
#include "fuzz_common.h"
#include "redis.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size);
	struct mc_redis_url u;
	struct mc_err err = { 0 };

	memset(&u, 0, sizeof(u));
	if (mc_redis_parse_url(s, &u, &err) == 0) {
		if (u.host == NULL || u.port < 1 || u.port > 65535 || u.db < 0)
			abort();
		mc_redis_url_release(&u);
	} else if (err.msg[0] == '\0' || strchr(err.msg, '\n') != NULL) {
		abort();
	}
	free(s);
	return 0;
}
