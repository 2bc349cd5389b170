/* fuzz_time.c - libFuzzer target: RFC 3339 times, --at/--since times
 * (RFC 3339 or Unix seconds) and Retry-After (delta seconds or an HTTP
 * date). Whatever parses is a finite number. */
#include <math.h>
#include "fuzz_common.h"
#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size);
	struct mc_err err = { 0 };
	double t = 0, r;

	if (mc_parse_rfc3339((const char *)data, size, &t) == 0 && !isfinite(t))
		abort();
	if (mc_parse_time(s, &t, &err) == 0) {
		if (!isfinite(t))
			abort();
	} else if (err.msg[0] == '\0') {
		abort();
	}
	r = mc_http_parse_retry_after(s, 1.8e9);
	if (r != -1 && (!isfinite(r) || r < 0))
		abort();
	free(s);
	return 0;
}
