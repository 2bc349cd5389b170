/* fuzz_promapi.c - libFuzzer target: mc_promapi_parse, the reader of
 * Prometheus /api/v1/query answers. Any bytes in: never crash, one kind
 * out, a one-line message, and a value only when the answer says
 * "success" and holds exactly one sample or a scalar. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "promapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mc_promapi_result r;
	json_t *doc;
	size_t n;

	/* The first byte picks the HTTP status, the rest is the body; the
	 * body is not NUL-terminated, as libcurl's is not either. */
	if (size == 0)
		return 0;
	mc_promapi_parse(200 + (long)data[0], (const char *)data + 1, size - 1,
			 &r);
	if (r.kind < MC_PROMAPI_VALUE || r.kind > MC_PROMAPI_BAD)
		abort();
	n = strnlen(r.msg, sizeof(r.msg));
	if (n == sizeof(r.msg))
		abort();	/* not terminated */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)r.msg[i] < 0x20)
			abort();	/* not one line */
	if (r.kind == MC_PROMAPI_VALUE) {
		doc = json_loadb((const char *)data + 1, size - 1, 0, NULL);
		if (doc == NULL ||
		    strcmp(json_string_value(json_object_get(doc, "status")) ?
			   json_string_value(json_object_get(doc, "status")) :
			   "", "success") != 0)
			abort();
		json_decref(doc);
	}
	if (r.kind == MC_PROMAPI_MANY && r.n_series < 2)
		abort();
	return 0;
}
