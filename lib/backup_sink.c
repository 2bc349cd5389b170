/*
 * backup_sink.c - SQLite's online backup API written straight into the
 * streaming pass, with no copy of the database on disk.
 *
 * The destination of the backup is a database opened through a small VFS
 * of our own whose main file is a sink: what SQLite writes at the end of
 * the file goes on, in order, through the hashes and the compressor
 * (lib/backup_stream.c). With journal_mode=OFF the destination pager
 * writes pages 2..N in ascending order as its cache spills and at commit;
 * the one page it keeps back is page 1, which its B-tree holds until the
 * commit. So page 1 goes first from the source file itself, read inside
 * the same read transaction after a passive checkpoint, and when the
 * destination finally writes its page 1 the two are compared byte for
 * byte, but for the fields the backup rewrites (change counter, schema
 * cookie, version numbers). A difference (page 1 was still in the WAL,
 * newer than the file) or any write out of order ends the pass as
 * "stale": the caller starts again through a copy on disk.
 */
#include "backup_int.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SINK_BUF (1u << 20)

struct sink {
	struct mc_bk_vfs vfs;
	struct mc_bk_writer *w;
	char *buf;			/* bytes not yet handed to w */
	size_t len;
	uint64_t next;			/* file offset after what was handed on */
	uint64_t size;			/* what the destination wrote up to */
	unsigned char *page1;		/* what went out as page 1 */
	unsigned char *dest1;		/* the destination's own page 1 */
	int pgsz;
	int stale;			/* page 1 differs, or a write went back */
	int failed;			/* the writer failed: err says why */
	struct mc_err err;
};

struct sink_file {
	sqlite3_file base;
	struct sink *s;
};

static int sink_flush(struct sink *s)
{
	if (s->len == 0 || s->failed)
		return s->failed ? -1 : 0;
	if (mc_bk_writer_add(s->w, s->buf, s->len, &s->err) < 0) {
		s->failed = 1;
		return -1;
	}
	s->len = 0;
	return 0;
}

/* Appends n bytes of p (zeros when p is NULL) to the stream. */
static int sink_put(struct sink *s, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		size_t k = SINK_BUF - s->len;

		if (k > n)
			k = n;
		if (c) {
			memcpy(s->buf + s->len, c, k);
			c += k;
		} else {
			memset(s->buf + s->len, 0, k);
		}
		s->len += k;
		s->next += k;
		n -= k;
		if (s->len == SINK_BUF && sink_flush(s) < 0)
			return -1;
	}
	return 0;
}

/* Page 1 as the backup writes it against the one that went out: equal
 * but for the change counter (24-27), the schema cookie (40-43) and
 * version-valid-for and the library version (92-99). */
static int page1_same(const unsigned char *a, const unsigned char *b, int n)
{
	static const int skip[][2] = { { 24, 28 }, { 40, 44 }, { 92, 100 } };
	int from = 0;

	for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++) {
		if (memcmp(a + from, b + from, (size_t)(skip[i][0] - from)))
			return 0;
		from = skip[i][1];
	}
	return memcmp(a + from, b + from, (size_t)(n - from)) == 0;
}

static int sf_close(sqlite3_file *f)
{
	(void)f;
	return SQLITE_OK;
}

static int sf_read(sqlite3_file *f, void *p, int amt, sqlite3_int64 off)
{
	struct sink *s = ((struct sink_file *)f)->s;

	if (off == 0 && s->dest1 && amt <= s->pgsz) {
		memcpy(p, s->dest1, (size_t)amt);
		return SQLITE_OK;
	}
	if ((uint64_t)off >= s->size) {
		memset(p, 0, (size_t)amt);
		return SQLITE_IOERR_SHORT_READ;
	}
	/* Bytes already gone down the stream cannot be read back. */
	s->stale = 1;
	return SQLITE_IOERR_READ;
}

static int sf_write(sqlite3_file *f, const void *p, int amt,
		    sqlite3_int64 off)
{
	struct sink *s = ((struct sink_file *)f)->s;
	uint64_t o = (uint64_t)off, end = o + (uint64_t)amt;

	if (s->failed || s->stale)
		return SQLITE_IOERR_WRITE;
	if (o == 0 && amt == s->pgsz) {
		if (!page1_same(p, s->page1, s->pgsz)) {
			s->stale = 1;
			return SQLITE_IOERR_WRITE;
		}
		if (s->dest1 == NULL)
			s->dest1 = mc_malloc((size_t)s->pgsz);
		memcpy(s->dest1, p, (size_t)amt);
	} else if (o >= s->next) {
		if (sink_put(s, NULL, o - s->next) < 0 ||
		    sink_put(s, p, (size_t)amt) < 0)
			return SQLITE_IOERR_WRITE;
	} else {
		s->stale = 1;
		return SQLITE_IOERR_WRITE;
	}
	if (end > s->size)
		s->size = end;
	return SQLITE_OK;
}

static int sf_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	struct sink *s = ((struct sink_file *)f)->s;

	if ((uint64_t)size < s->size) {
		s->stale = 1;
		return SQLITE_IOERR_TRUNCATE;
	}
	return SQLITE_OK;
}

static int sf_size(sqlite3_file *f, sqlite3_int64 *size)
{
	*size = (sqlite3_int64)((struct sink_file *)f)->s->size;
	return SQLITE_OK;
}

int mc_bk_vf_sync(sqlite3_file *f, int flags)
{
	(void)f;
	(void)flags;
	return SQLITE_OK;
}

int mc_bk_vf_lock(sqlite3_file *f, int level)
{
	(void)f;
	(void)level;
	return SQLITE_OK;
}

int mc_bk_vf_reserved(sqlite3_file *f, int *out)
{
	(void)f;
	*out = 0;
	return SQLITE_OK;
}

int mc_bk_vf_control(sqlite3_file *f, int op, void *arg)
{
	(void)f;
	(void)op;
	(void)arg;
	return SQLITE_NOTFOUND;
}

static int sf_sector(sqlite3_file *f)
{
	(void)f;
	return 4096;
}

static int sf_caps(sqlite3_file *f)
{
	(void)f;
	return 0;
}

static const sqlite3_io_methods sink_methods = {
	.iVersion = 1,
	.xClose = sf_close,
	.xRead = sf_read,
	.xWrite = sf_write,
	.xTruncate = sf_truncate,
	.xSync = mc_bk_vf_sync,
	.xFileSize = sf_size,
	.xLock = mc_bk_vf_lock,
	.xUnlock = mc_bk_vf_lock,
	.xCheckReservedLock = mc_bk_vf_reserved,
	.xFileControl = mc_bk_vf_control,
	.xSectorSize = sf_sector,
	.xDeviceCharacteristics = sf_caps,
};

static int sv_open(sqlite3_vfs *v, const char *name, sqlite3_file *f,
		   int flags, int *out_flags)
{
	(void)name;
	f->pMethods = NULL;
	/* The main database only: journal_mode=OFF opens nothing else. */
	if (!(flags & SQLITE_OPEN_MAIN_DB))
		return SQLITE_CANTOPEN;
	((struct sink_file *)f)->s = v->pAppData;
	f->pMethods = &sink_methods;
	if (out_flags)
		*out_flags = flags;
	return SQLITE_OK;
}

static int sv_delete(sqlite3_vfs *v, const char *name, int sync)
{
	(void)v;
	(void)name;
	(void)sync;
	return SQLITE_OK;
}

static int sv_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{
	(void)v;
	(void)name;
	(void)flags;
	*out = 0;
	return SQLITE_OK;
}

static int sv_full(sqlite3_vfs *v, const char *name, int n, char *out)
{
	(void)v;
	snprintf(out, (size_t)n, "%s", name);
	return SQLITE_OK;
}

static int sv_random(sqlite3_vfs *v, int n, char *out)
{
	sqlite3_vfs *d = sqlite3_vfs_find(NULL);

	(void)v;
	return d->xRandomness(d, n, out);
}

static int sv_sleep(sqlite3_vfs *v, int us)
{
	sqlite3_vfs *d = sqlite3_vfs_find(NULL);

	(void)v;
	return d->xSleep(d, us);
}

static int sv_time(sqlite3_vfs *v, double *out)
{
	sqlite3_vfs *d = sqlite3_vfs_find(NULL);

	(void)v;
	return d->xCurrentTime(d, out);
}

static int sv_last_error(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	if (n > 0)
		out[0] = '\0';
	return 0;
}

void mc_bk_vfs_init(struct mc_bk_vfs *v, const char *kind, void *app,
		    int file_size,
		    int (*xopen)(sqlite3_vfs *, const char *, sqlite3_file *,
				 int, int *))
{
	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "mercury-bk-%s-%p", kind, app);
	v->vfs.iVersion = 1;
	v->vfs.szOsFile = file_size;
	v->vfs.mxPathname = 512;
	v->vfs.zName = v->name;
	v->vfs.pAppData = app;
	v->vfs.xOpen = xopen;
	v->vfs.xDelete = sv_delete;
	v->vfs.xAccess = sv_access;
	v->vfs.xFullPathname = sv_full;
	v->vfs.xRandomness = sv_random;
	v->vfs.xSleep = sv_sleep;
	v->vfs.xCurrentTime = sv_time;
	v->vfs.xGetLastError = sv_last_error;
	if (sqlite3_vfs_register(&v->vfs, 0) != SQLITE_OK)
		MC_BUG("cannot register the VFS %s", v->name);
}

/* Page 1 of src as the file holds it, read through SQLite's own handle
 * (a second descriptor of ours would drop SQLite's POSIX locks on
 * close), with the page count the backup writes into it. */
static int read_page1(sqlite3 *db, unsigned char *p, int pgsz,
		      uint32_t pages)
{
	sqlite3_file *f = NULL;

	if (sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &f) !=
	    SQLITE_OK || f == NULL || f->pMethods == NULL ||
	    f->pMethods->xRead(f, p, pgsz, 0) != SQLITE_OK)
		return -1;
	p[28] = (unsigned char)(pages >> 24);
	p[29] = (unsigned char)(pages >> 16);
	p[30] = (unsigned char)(pages >> 8);
	p[31] = (unsigned char)pages;
	return 0;
}

static int64_t pragma_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Moves what the WAL holds into the database file where no reader needs
 * it, so page 1 in the file is the one the snapshot sees. Best effort: a
 * database we may not write is left as it is (the pass may then turn out
 * stale). */
static void checkpoint(const char *src)
{
	sqlite3 *c = NULL;

	if (sqlite3_open_v2(src, &c, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK) {
		sqlite3_busy_timeout(c, 100);
		/* A connection knows the WAL once it has read the file. */
		sqlite3_exec(c, "SELECT 1 FROM sqlite_master LIMIT 1", NULL,
			     NULL, NULL);
		sqlite3_wal_checkpoint_v2(c, "main", SQLITE_CHECKPOINT_PASSIVE,
					  NULL, NULL);
	}
	sqlite3_close(c);
}

int mc_bk_sqlite_stream(const char *src, struct mc_bk_writer *w,
			struct mc_bk_io *io, int *stale, struct mc_err *err)
{
	struct sink *s = mc_calloc(1, sizeof(*s));
	sqlite3 *sdb = NULL, *d = NULL;
	int64_t pgsz, pages;
	int rc = -1, registered = 0;

	*stale = 0;
	checkpoint(src);
	if (mc_bk_sqlite_source(src, io, &sdb, err) < 0)
		goto out;
	pgsz = pragma_int(sdb, "PRAGMA page_size");
	pages = pragma_int(sdb, "PRAGMA page_count");
	if (pgsz < 512 || pgsz > 65536 || pages < 1 || pages > UINT32_MAX) {
		*stale = 1;
		goto out;
	}
	s->w = w;
	s->pgsz = (int)pgsz;
	s->buf = mc_malloc(SINK_BUF);
	s->page1 = mc_malloc((size_t)pgsz);
	if (read_page1(sdb, s->page1, s->pgsz, (uint32_t)pages) < 0) {
		*stale = 1;
		goto out;
	}
	if (sink_put(s, s->page1, (size_t)pgsz) < 0)
		goto sink_failed;

	mc_bk_vfs_init(&s->vfs, "sink", s, (int)sizeof(struct sink_file),
		       sv_open);
	registered = 1;
	if (sqlite3_open_v2("sink", &d, SQLITE_OPEN_READWRITE |
			    SQLITE_OPEN_CREATE, s->vfs.name) != SQLITE_OK ||
	    sqlite3_exec(d, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;",
			 NULL, NULL, NULL) != SQLITE_OK) {
		*stale = 1;
		goto out;
	}
	rc = mc_bk_sqlite_steps(sdb, d, src, "the stream", io, 0, err);
	sqlite3_close(d);
	d = NULL;
	if (s->failed)
		goto sink_failed;
	if (s->stale) {
		/* Whatever the steps said: this pass is not the copy. */
		*stale = 1;
		rc = -1;
		goto out;
	}
	if (rc < 0)
		goto out;
	if (s->dest1 == NULL || s->next != (uint64_t)pgsz * (uint64_t)pages) {
		*stale = 1;
		rc = -1;
		goto out;
	}
	if (sink_flush(s) < 0)
		goto sink_failed;
	goto out;
sink_failed:
	*err = s->err;
	rc = -1;
out:
	sqlite3_close(d);
	if (registered)
		sqlite3_vfs_unregister(&s->vfs.vfs);
	mc_bk_sqlite_source_end(sdb);
	free(s->buf);
	free(s->page1);
	free(s->dest1);
	free(s);
	return rc;
}
