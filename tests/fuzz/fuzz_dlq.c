/* fuzz_dlq.c - libFuzzer target: mc_dlq_transform. Any bytes in: never
 * crash; the output is always a JSON object that jansson reads; for an
 * unparseable message the wrapper's "body" gives back exactly the input
 * bytes (by the rule documented at wrap_unparseable in lib/dlq.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "dlq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* jansson refuses numbers a double cannot hold (1e400) and object keys
 * holding \u0000: valid JSON that it cannot read, so only those refusals
 * are accepted (integers beyond int64
 * are read as reals with JSON_DECODE_INT_AS_REAL). */
static int jansson_number_limit(const json_error_t *e)
{
	return strstr(e->text, "overflow") != NULL ||
	       strstr(e->text, "too big") != NULL ||
	       strstr(e->text, "NUL byte in object key") != NULL;
}

static void check_body(const json_t *j, const uint8_t *data, size_t size)
{
	const json_t *body = json_object_get(j, "body");
	const json_t *enc = json_object_get(j, "body_encoding");
	const unsigned char *b;
	size_t blen, k = 0;

	if (!json_is_string(body) ||
	    strcmp(json_string_value(json_object_get(j, "dead_reason")),
		   "unparseable") != 0)
		abort();
	b = (const unsigned char *)json_string_value(body);
	blen = json_string_length(body);
	if (enc == NULL) {
		if (blen != size || (size && memcmp(b, data, size) != 0))
			abort();
		return;
	}
	if (strcmp(json_string_value(enc), "latin1") != 0)
		abort();
	for (size_t i = 0; i < blen; k++) {
		unsigned cp = b[i];

		if (cp >= 0x80) {
			if ((cp != 0xC2 && cp != 0xC3) || i + 1 >= blen)
				abort();
			cp = ((cp & 0x1F) << 6) | (b[i + 1] & 0x3F);
			i += 2;
		} else {
			i++;
		}
		if (k >= size || cp != data[k])
			abort();
	}
	if (k != size)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *out = NULL;
	size_t olen = 0;
	json_error_t e;
	json_t *j;
	enum mc_dlq_fate f;

	f = mc_dlq_transform((const char *)data, size, "retry_count", 3,
			     "cid\"\\\x01", 1700000000.5, &out, &olen);
	if (out == NULL || strlen(out) != olen)
		abort();
	j = json_loadb(out, olen, JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL,
		       &e);
	if (j == NULL) {
		if (f == MC_DLQ_UNPARSEABLE || !jansson_number_limit(&e))
			abort();
		free(out);
		return 0;
	}
	if (!json_is_object(j))
		abort();
	if (f == MC_DLQ_UNPARSEABLE) {
		check_body(j, data, size);
	} else if (f == MC_DLQ_TARGET) {
		if (!json_is_number(json_object_get(j, "retry_count")) ||
		    !json_is_string(json_object_get(j, "correlation_id")) ||
		    strcmp(json_string_value(json_object_get(
				   j, "correlation_id")),
			   "cid\"\\\x01") != 0 ||
		    !json_is_string(json_object_get(j, "replayed_at")))
			abort();
	} else {
		if (!json_is_string(json_object_get(j, "dead_reason")))
			abort();
	}
	json_decref(j);
	free(out);
	return 0;
}
