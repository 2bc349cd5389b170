/* fuzz_json_scan.c - libFuzzer target: mc_json_scan_object and
 * mc_json_string_decode. Any bytes in: never crash, never read past the
 * input; what the scanner accepts, jansson reads as an object (numbers a
 * double cannot hold aside); every member it reports spans bytes that
 * jansson reads as one value, the same value jansson gives for that key
 * (the last occurrence, as both keep); and a string value decodes to what
 * jansson decodes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "json_scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int jansson_number_limit(const json_error_t *e)
{
	return strstr(e->text, "overflow") != NULL ||
	       strstr(e->text, "too big") != NULL;
}

static void check_member(const struct mc_json_member *m, const uint8_t *data,
			 size_t size, const json_t *doc)
{
	json_error_t e;
	json_t *v;
	const json_t *want = json_object_getn(doc, m->name, m->name_len);

	if (m->vstart >= m->vend || m->vend > size || want == NULL)
		abort();
	v = json_loadb((const char *)data + m->vstart, m->vend - m->vstart,
		       JSON_DECODE_ANY | JSON_ALLOW_NUL |
		       JSON_DECODE_INT_AS_REAL, &e);
	if (v == NULL)
		abort();
	if (!json_equal(v, want))
		abort();
	if (m->kind == '"') {
		struct mc_buf dec = { 0 };

		if (mc_json_string_decode(data + m->vstart,
					  m->vend - m->vstart, &dec) < 0 ||
		    dec.len != json_string_length(v) ||
		    (dec.len && memcmp(dec.data, json_string_value(v),
				       dec.len) != 0))
			abort();
		mc_buf_release(&dec);
	} else if ((m->kind == '0') != json_is_number(v) ||
		   (m->kind == '{') != json_is_object(v) ||
		   (m->kind == '[') != json_is_array(v)) {
		abort();
	}
	json_decref(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mc_json_member w[] = {
		{ .name = "retry_count" }, { .name = "a" }, { .name = "" },
		{ .name = "ts" },
	};
	size_t open = 0, members = 0;
	json_error_t e;
	json_t *doc;
	struct mc_buf dec = { 0 };

	/* The decoder alone, on any bytes. */
	(void)mc_json_string_decode(data, size, &dec);
	mc_buf_release(&dec);

	if (mc_json_scan_object(data, size, w, 4, &open, &members) < 0)
		return 0;
	if (open >= size || data[open] != '{')
		abort();
	doc = json_loadb((const char *)data, size,
			 JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &e);
	if (doc == NULL) {
		if (!jansson_number_limit(&e))
			abort();
		return 0;
	}
	if (!json_is_object(doc) || json_object_size(doc) > members)
		abort();
	for (size_t k = 0; k < 4; k++) {
		if (w[k].found)
			check_member(&w[k], data, size, doc);
		else if (json_object_getn(doc, w[k].name, w[k].name_len))
			abort();
	}
	json_decref(doc);
	return 0;
}
