/* fuzz_manifest.c - libFuzzer target: mc_bk_manifest_parse, the reader of
 * a backup's manifest.json (the one file list, verify, restore and prune
 * trust). Any bytes in: never crash, and a manifest accepted only with
 * every path safe, every id and hash well-formed; what is accepted dumps
 * and parses back the same. The first byte picks whether the checksum is
 * fixed up first, so the fuzzer also reaches past it into the members. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "backup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The checksum member set right, as a careful forger would. */
static char *resign(const char *text, size_t len)
{
	json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	char *s, sum[65];

	if (doc == NULL || !json_is_object(doc)) {
		json_decref(doc);
		return NULL;
	}
	json_object_del(doc, "checksum");
	s = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
	if (s == NULL) {
		json_decref(doc);
		return NULL;
	}
	mc_bk_sha256_hex(s, strlen(s), sum);
	free(s);
	json_object_set_new(doc, "checksum", json_string(sum));
	s = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	return s;
}

static void check(const struct mc_bk_manifest *m)
{
	if (!mc_bk_id_valid(m->id))
		abort();
	for (size_t i = 0; i < m->n_files; i++) {
		const struct mc_bk_file *f = &m->files[i];

		if (!mc_bk_path_safe(f->path))
			abort();
		if (f->kind != MC_BK_SOURCE && !mc_bk_abs_path_safe(f->original))
			abort();
		if (f->kind == MC_BK_SOURCE && (f->source == NULL || !*f->source))
			abort();
		if (strlen(f->sha256) != 64 || strlen(f->sha256_original) != 64)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mc_bk_manifest *m = NULL, *back = NULL;
	struct mc_err err = { 0 };
	char *signed_text = NULL, *dump;
	const char *text;
	size_t len;

	if (size == 0)
		return 0;
	text = (const char *)data + 1;
	len = size - 1;
	if (data[0] & 1) {
		signed_text = resign(text, len);
		if (signed_text) {
			text = signed_text;
			len = strlen(signed_text);
		}
	}
	if (mc_bk_manifest_parse(text, len, &m, &err) < 0) {
		if (m != NULL || err.code != MC_EXIT_CRITICAL ||
		    strchr(err.msg, '\n'))
			abort();
		free(signed_text);
		return 0;
	}
	check(m);
	dump = mc_bk_manifest_dump(m);
	if (mc_bk_manifest_parse(dump, strlen(dump), &back, &err) < 0 ||
	    back->n_files != m->n_files || strcmp(back->id, m->id) != 0 ||
	    back->created != m->created)
		abort();
	mc_bk_manifest_free(back);
	mc_bk_manifest_free(m);
	free(dump);
	free(signed_text);
	return 0;
}
