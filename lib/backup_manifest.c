/*
 * backup_manifest.c - manifest.json, the description of one backup.
 *
 * A manifest is the only thing list, verify, restore and prune trust, so
 * parsing is strict: every member has its type, every path stays inside
 * the backup (relative, no "..") or is a plain absolute path, every hash is
 * 64 hex digits, and a "checksum" member (the SHA-256 of the rest of the
 * document, written compact with sorted keys) catches an edited manifest.
 */
#include "backup.h"
#include "json.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MANIFEST_MAX ((size_t)64 << 20)

static const char *const kind_names[] = { "state", "file", "source" };

const char *mc_bk_kind_name(int kind)
{
	if (kind < 0 || kind >= (int)MC_ARRAY_LEN(kind_names))
		return "?";
	return kind_names[kind];
}

static int component_ok(const char *c, size_t n)
{
	if (n == 0 || (n == 1 && c[0] == '.') ||
	    (n == 2 && c[0] == '.' && c[1] == '.'))
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)c[i] < 0x20 || c[i] == 0x7f)
			return 0;
	return 1;
}

static int components_ok(const char *p)
{
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);

		if (!component_ok(p, n))
			return 0;
		if (slash == NULL)
			return 1;
		p = slash + 1;
	}
}

int mc_bk_path_safe(const char *rel)
{
	return rel && *rel && rel[0] != '/' && strlen(rel) < 4096 &&
	       components_ok(rel);
}

int mc_bk_abs_path_safe(const char *path)
{
	return path && path[0] == '/' && path[1] != '\0' &&
	       strlen(path) < 4096 && components_ok(path + 1);
}

int mc_bk_id_valid(const char *id)
{
	/* 20261207T020000Z-3f9a */
	static const char shape[] = "ddddddddTddddddZ-xxxx";

	if (id == NULL || strlen(id) != sizeof(shape) - 1)
		return 0;
	for (size_t i = 0; shape[i]; i++) {
		char c = id[i];

		switch (shape[i]) {
		case 'd':
			if (c < '0' || c > '9')
				return 0;
			break;
		case 'x':
			if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
				return 0;
			break;
		default:
			if (c != shape[i])
				return 0;
		}
	}
	return 1;
}

static int hex64(const char *s)
{
	if (s == NULL || strlen(s) != 64)
		return 0;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

void mc_bk_manifest_free(struct mc_bk_manifest *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n_files; i++) {
		free(m->files[i].path);
		free(m->files[i].original);
		free(m->files[i].source);
	}
	free(m->files);
	free(m->id);
	free(m->host);
	free(m->tool_version);
	free(m->note);
	free(m->correlation_id);
	free(m);
}

uint64_t mc_bk_manifest_size(const struct mc_bk_manifest *m)
{
	uint64_t t = 0;

	for (size_t i = 0; i < m->n_files; i++)
		t += m->files[i].size;
	return t;
}

uint64_t mc_bk_manifest_stored(const struct mc_bk_manifest *m)
{
	uint64_t t = 0;

	for (size_t i = 0; i < m->n_files; i++)
		t += m->files[i].stored_size;
	return t;
}

/* The checksum: SHA-256 of the document without "checksum", compact with
 * sorted keys. */
static void doc_checksum(json_t *doc, char out[65])
{
	char *s = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);

	mc_bk_sha256_hex(s, strlen(s), out);
	free(s);
}

static json_t *file_json(const struct mc_bk_file *f)
{
	json_t *o = json_object();

	json_object_set_new(o, "path", mc_json_str(f->path));
	json_object_set_new(o, "original", f->original ?
			    mc_json_str(f->original) : json_null());
	if (f->source)
		json_object_set_new(o, "source", mc_json_str(f->source));
	json_object_set_new(o, "kind", mc_json_str(mc_bk_kind_name(f->kind)));
	json_object_set_new(o, "mode", json_integer(f->mode & 07777));
	json_object_set_new(o, "size", json_integer((json_int_t)f->size));
	json_object_set_new(o, "stored_size",
			    json_integer((json_int_t)f->stored_size));
	json_object_set_new(o, "compression",
			    mc_json_str(f->zstd ? "zstd" : "none"));
	json_object_set_new(o, "sqlite", json_boolean(f->sqlite));
	json_object_set_new(o, "sha256", mc_json_str(f->sha256));
	json_object_set_new(o, "sha256_original",
			    mc_json_str(f->sha256_original));
	return o;
}

char *mc_bk_manifest_dump(const struct mc_bk_manifest *m)
{
	json_t *doc = json_object(), *files = json_array();
	char created[40], sum[65];
	char *s;

	mc_format_time(m->created, created, sizeof(created));
	json_object_set_new(doc, "format", json_integer(m->format));
	json_object_set_new(doc, "id", mc_json_str(m->id));
	json_object_set_new(doc, "created", mc_json_str(created));
	json_object_set_new(doc, "host", mc_json_str(m->host ? m->host : ""));
	json_object_set_new(doc, "tool_version",
			    mc_json_str(m->tool_version ? m->tool_version : ""));
	json_object_set_new(doc, "note", m->note ? mc_json_str(m->note) :
			    json_null());
	json_object_set_new(doc, "correlation_id", m->correlation_id ?
			    mc_json_str(m->correlation_id) : json_null());
	json_object_set_new(doc, "duration_ms",
			    json_integer((json_int_t)(m->duration * 1e3 + 0.5)));
	for (size_t i = 0; i < m->n_files; i++)
		json_array_append_new(files, file_json(&m->files[i]));
	json_object_set_new(doc, "files", files);
	doc_checksum(doc, sum);
	json_object_set_new(doc, "checksum", mc_json_str(sum));
	s = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(doc);
	return s;
}

/* Typed members; each returns 0 or fills why. */
static const char *get_str(json_t *o, const char *key, int nullable,
			   const char **why)
{
	json_t *v = json_object_get(o, key);

	if (v && json_is_string(v))
		return json_string_value(v);
	if (nullable && (v == NULL || json_is_null(v)))
		return NULL;
	if (*why == NULL)
		*why = key;
	return NULL;
}

static uint64_t get_u64(json_t *o, const char *key, const char **why)
{
	json_t *v = json_object_get(o, key);

	if (v && json_is_integer(v) && json_integer_value(v) >= 0)
		return (uint64_t)json_integer_value(v);
	if (*why == NULL)
		*why = key;
	return 0;
}

static int parse_file(json_t *o, size_t i, struct mc_bk_file *f,
		      struct mc_err *err)
{
	const char *why = NULL, *kind, *comp, *path, *orig, *src, *h, *ho;
	json_t *sq;

	if (!json_is_object(o))
		return mc_err_set(err, MC_EXIT_CRITICAL,
				  "manifest.json: files[%zu] is not an object",
				  i);
	path = get_str(o, "path", 0, &why);
	orig = get_str(o, "original", 1, &why);
	src = get_str(o, "source", 1, &why);
	kind = get_str(o, "kind", 0, &why);
	comp = get_str(o, "compression", 0, &why);
	h = get_str(o, "sha256", 0, &why);
	ho = get_str(o, "sha256_original", 0, &why);
	f->mode = (unsigned)get_u64(o, "mode", &why);
	f->size = get_u64(o, "size", &why);
	f->stored_size = get_u64(o, "stored_size", &why);
	sq = json_object_get(o, "sqlite");
	if (why == NULL && !json_is_boolean(sq))
		why = "sqlite";
	if (why)
		return mc_err_set(err, MC_EXIT_CRITICAL, "manifest.json: "
				  "files[%zu]: '%s' missing or of the wrong "
				  "type", i, why);
	if (!mc_bk_path_safe(path))
		return mc_err_set(err, MC_EXIT_CRITICAL, "manifest.json: "
				  "files[%zu]: unsafe path (absolute, empty or "
				  "with '..'), refused", i);
	f->kind = -1;
	for (size_t k = 0; k < MC_ARRAY_LEN(kind_names); k++)
		if (strcmp(kind, kind_names[k]) == 0)
			f->kind = (int)k;
	if (f->kind < 0)
		return mc_err_set(err, MC_EXIT_CRITICAL, "manifest.json: "
				  "files[%zu]: unknown kind", i);
	if (f->kind != MC_BK_SOURCE && !mc_bk_abs_path_safe(orig))
		return mc_err_set(err, MC_EXIT_CRITICAL, "manifest.json: "
				  "files[%zu]: original path must be absolute "
				  "without '..', refused", i);
	if (f->kind == MC_BK_SOURCE && (src == NULL || *src == '\0'))
		return mc_err_set(err, MC_EXIT_CRITICAL, "manifest.json: "
				  "files[%zu]: a source without its name", i);
	if (strcmp(comp, "zstd") == 0)
		f->zstd = 1;
	else if (strcmp(comp, "none") != 0)
		return mc_err_set(err, MC_EXIT_CRITICAL, "manifest.json: "
				  "files[%zu]: unknown compression", i);
	if (!hex64(h) || !hex64(ho))
		return mc_err_set(err, MC_EXIT_CRITICAL, "manifest.json: "
				  "files[%zu]: a SHA-256 that is not 64 hex "
				  "digits", i);
	if (f->mode > 07777)
		return mc_err_set(err, MC_EXIT_CRITICAL, "manifest.json: "
				  "files[%zu]: bad mode", i);
	if (!f->zstd && f->size != f->stored_size)
		return mc_err_set(err, MC_EXIT_CRITICAL, "manifest.json: "
				  "files[%zu]: sizes differ without "
				  "compression", i);
	f->sqlite = json_is_true(sq);
	f->path = mc_strdup(path);
	f->original = mc_strdup(orig);
	f->source = mc_strdup(src);
	memcpy(f->sha256, h, 65);
	memcpy(f->sha256_original, ho, 65);
	return 0;
}

int mc_bk_manifest_parse(const char *text, size_t len,
			 struct mc_bk_manifest **out, struct mc_err *err)
{
	json_error_t je;
	json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	json_t *files, *sum;
	struct mc_bk_manifest *m = NULL;
	const char *why = NULL, *id, *created, *host, *tv, *note, *cid;
	char want[65];
	int64_t format;

	*out = NULL;
	if (doc == NULL || !json_is_object(doc)) {
		mc_err_set(err, MC_EXIT_CRITICAL, "manifest.json: not a JSON "
			   "object (%s)", doc ? "wrong type" : je.text);
		goto fail;
	}
	sum = json_object_get(doc, "checksum");
	if (!json_is_string(sum) || !hex64(json_string_value(sum))) {
		mc_err_set(err, MC_EXIT_CRITICAL,
			   "manifest.json: checksum missing or malformed");
		goto fail;
	}
	memcpy(want, json_string_value(sum), 65);
	json_object_del(doc, "checksum");
	{
		char got[65];

		doc_checksum(doc, got);
		if (strcmp(got, want) != 0) {
			mc_err_set(err, MC_EXIT_CRITICAL, "manifest.json: "
				   "checksum mismatch (the manifest was "
				   "edited or damaged)");
			goto fail;
		}
	}
	format = (int64_t)get_u64(doc, "format", &why);
	id = get_str(doc, "id", 0, &why);
	created = get_str(doc, "created", 0, &why);
	host = get_str(doc, "host", 0, &why);
	tv = get_str(doc, "tool_version", 0, &why);
	note = get_str(doc, "note", 1, &why);
	cid = get_str(doc, "correlation_id", 1, &why);
	files = json_object_get(doc, "files");
	if (why == NULL && !json_is_array(files))
		why = "files";
	if (why) {
		mc_err_set(err, MC_EXIT_CRITICAL, "manifest.json: '%s' missing "
			   "or of the wrong type", why);
		goto fail;
	}
	if (format != MC_BK_FORMAT) {
		mc_err_set(err, MC_EXIT_CRITICAL, "manifest.json: format %lld "
			   "is not one this mercuryctl reads (%d)",
			   (long long)format, MC_BK_FORMAT);
		goto fail;
	}
	if (!mc_bk_id_valid(id)) {
		mc_err_set(err, MC_EXIT_CRITICAL, "manifest.json: bad id");
		goto fail;
	}
	m = mc_calloc(1, sizeof(*m));
	m->format = (int)format;
	if (mc_parse_rfc3339(created, strlen(created), &m->created) < 0) {
		mc_err_set(err, MC_EXIT_CRITICAL, "manifest.json: bad created "
			   "time");
		goto fail;
	}
	m->id = mc_strdup(id);
	m->host = mc_strdup(host);
	m->tool_version = mc_strdup(tv);
	m->note = mc_strdup(note);
	m->correlation_id = mc_strdup(cid);
	m->duration = (double)get_u64(doc, "duration_ms", &why) / 1e3;
	if (why) {
		mc_err_set(err, MC_EXIT_CRITICAL, "manifest.json: 'duration_ms' "
			   "missing or of the wrong type");
		goto fail;
	}
	m->files = mc_calloc(json_array_size(files) + 1, sizeof(*m->files));
	for (size_t i = 0; i < json_array_size(files); i++) {
		if (parse_file(json_array_get(files, i), i, &m->files[i],
			       err) < 0) {
			m->n_files = i + 1;
			goto fail;
		}
		m->n_files = i + 1;
		for (size_t j = 0; j < i; j++)
			if (strcmp(m->files[j].path, m->files[i].path) == 0) {
				mc_err_set(err, MC_EXIT_CRITICAL,
					   "manifest.json: files[%zu]: the "
					   "path appears twice", i);
				goto fail;
			}
	}
	json_decref(doc);
	*out = m;
	return 0;
fail:
	mc_bk_manifest_free(m);
	json_decref(doc);
	return -1;
}

int mc_bk_manifest_read(const char *dir, const char *id,
			struct mc_bk_manifest **out, struct mc_err *err)
{
	char *path = mc_asprintf("%s/%s/%s", dir, id, MC_BK_MANIFEST);
	char *text = NULL;
	struct stat st;
	size_t len = 0;
	int rc = -1;

	*out = NULL;
	/* A manifest is a file of the backup, never a link to elsewhere. */
	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			mc_err_set(err, MC_EXIT_CRITICAL, "%s/manifest.json: "
				   "missing", id);
		else
			mc_err_sys(err, MC_EXIT_IOERR, errno, "cannot read %s",
				   path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		mc_err_set(err, MC_EXIT_CRITICAL, "%s/manifest.json: not a "
			   "regular file", id);
		goto out;
	}
	if ((text = mc_read_file(path, MANIFEST_MAX, &len, err)) == NULL)
		goto out;
	if (mc_bk_manifest_parse(text, len, out, err) < 0)
		goto out;
	if (strcmp((*out)->id, id) != 0) {
		mc_bk_manifest_free(*out);
		*out = NULL;
		mc_err_set(err, MC_EXIT_CRITICAL, "%s/manifest.json: names "
			   "another backup id", id);
		goto out;
	}
	rc = 0;
out:
	free(text);
	free(path);
	return rc;
}
