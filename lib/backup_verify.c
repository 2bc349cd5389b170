/*
 * backup_verify.c - `backup verify` (with the --restore-test drill) and
 * `backup restore`.
 *
 * Verify trusts nothing but the manifest's checksummed content: each stored
 * file is opened without following symlinks, its size and SHA-256 compared,
 * decompressed and its original SHA-256 compared, and database copies get
 * PRAGMA integrity_check (a compressed one on a temporary copy, while
 * another thread hashes it and the stored file). Restore verifies first
 * and refuses a bad backup before touching anything; then each file is
 * written beside its target, fsynced and renamed over it, the replaced one
 * kept as a hard link <file>.pre-restore-<id>; a database that exists
 * (the live state file among them) is replaced through SQLite's backup
 * API instead, so open connections never see a file swapped under them.
 */
#include "backup.h"
#include "backup_int.h"
#include "log.h"
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void mc_bk_verify_result_release(struct mc_bk_verify_result *r)
{
	free(r->bad_file);
	free(r->reason);
	memset(r, 0, sizeof(*r));
}

static void bad(struct mc_bk_verify_result *r, const char *file,
		const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void bad(struct mc_bk_verify_result *r, const char *file,
		const char *fmt, ...)
{
	va_list ap;

	if (!r->ok)
		return;
	r->ok = 0;
	r->bad_file = mc_strdup(file);
	va_start(ap, fmt);
	r->reason = mc_vasprintf(fmt, ap);
	va_end(ap);
}

static int is_signal_code(int code)
{
	return code == MC_EXIT_SIGINT || code == MC_EXIT_SIGTERM;
}

/* A private temporary directory for database copies and drills. */
static char *temp_dir(const char *what, struct mc_err *err)
{
	const char *t = getenv("TMPDIR");
	char *d = mc_asprintf("%s/mercury-%s-XXXXXX", t && *t ? t : "/tmp",
			      what);

	if (mkdtemp(d) == NULL) {
		mc_err_sys(err, MC_EXIT_IOERR, errno, "cannot create %s", d);
		free(d);
		return NULL;
	}
	return d;
}

/* Files hashed (as mc_bk_load gives it: sums[i] of fd[i], unless -1) on
 * a thread of their own while this one runs PRAGMA integrity_check on the
 * database at db: the reads of a database check on two cores. *why as
 * mc_bk_sqlite_check gives it, worth reading only when the hashes match. */
struct hashing {
	int fd[2];
	const char *name[2];
	struct mc_bk_io *io;
	struct mc_bk_sums sums[2];
	struct mc_err err;
	int rc;
};

static void *hashing_main(void *arg)
{
	struct hashing *h = arg;

	for (int i = 0; i < 2 && h->rc == 0; i++)
		if (h->fd[i] >= 0)
			h->rc = mc_bk_load(h->fd[i], h->name[i], -1, NULL, 0,
					   h->io, &h->sums[i], &h->err);
	return NULL;
}

static int check_hashed(struct hashing *h, const char *db, char **why,
			struct mc_err *err)
{
	pthread_t th;
	int rc;

	mc_bk_thread_start(&th, hashing_main, h);
	rc = mc_bk_sqlite_check(db, why, err);
	pthread_join(th, NULL);
	if (rc == 0 && h->rc < 0) {
		*err = h->err;
		rc = -1;
	}
	if (rc < 0) {
		free(*why);
		*why = NULL;
	}
	return rc;
}

/* A compressed database: decompressed into a temporary copy, the writes
 * on a second thread; then integrity_check of the copy while the other
 * thread hashes the copy (the original's hash taken from the very bytes
 * the check read) and the stored file. (The check cannot follow the copy
 * as it is written: it walks each B-tree from its last page back.) */
static int load_database(int fd, const char *path, const char *copy,
			 struct mc_bk_io *io, struct mc_bk_sums *sums,
			 char **why, struct mc_err *err)
{
	struct mc_bk_io quiet = { 0 };
	struct hashing h = { .fd = { -1, fd }, .name = { copy, path } };
	int out, rc;

	if ((out = mc_bk_open_new(copy, err)) < 0)
		return -1;
	rc = mc_bk_unpack(fd, path, out, copy, io, sums, err);
	close(out);
	if (rc < 0)
		return rc;
	if ((h.fd[0] = open(copy, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0 ||
	    lseek(fd, 0, SEEK_SET) != 0)
		rc = mc_err_sys(err, MC_EXIT_IOERR, errno, "cannot read %s",
				h.fd[0] < 0 ? copy : path);
	if (io) {
		quiet = *io;
		quiet.progress = NULL;	/* counted once, as it was unpacked */
		h.io = &quiet;
	}
	if (rc == 0)
		rc = check_hashed(&h, copy, why, err);
	if (h.fd[0] >= 0)
		close(h.fd[0]);
	if (rc == 0) {
		memcpy(sums->sha256, h.sums[1].sha256, 65);
		memcpy(sums->sha256_original, h.sums[0].sha256, 65);
		sums->size = h.sums[0].size;
	}
	return rc;
}

/* Checks one stored file; bad() on a finding, -1 when it could not. */
static int verify_file(const char *bdir, const struct mc_bk_file *f,
		       const char *tmp, size_t seq, struct mc_bk_io *io,
		       struct mc_bk_verify_result *r, struct mc_err *err)
{
	char *path = mc_asprintf("%s/%s", bdir, f->path), *copy = NULL;
	char *why = NULL;
	struct mc_bk_sums sums;
	struct mc_err e = { 0 };
	struct stat st;
	int fd, rc = -1, lrc;

	/* O_NONBLOCK: a FIFO put in a backup opens at once (and is found
	 * no regular file) instead of waiting for a writer for ever. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY |
		  O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			bad(r, f->path, "missing");
		else if (errno == ELOOP)
			bad(r, f->path, "a symlink, not a stored file");
		else
			goto fail_sys;
		rc = 0;
		goto out;
	}
	if (fstat(fd, &st) < 0)
		goto fail_sys;
	if (!S_ISREG(st.st_mode)) {
		bad(r, f->path, "not a regular file");
		rc = 0;
		goto out;
	}
	if ((uint64_t)st.st_size != f->stored_size) {
		bad(r, f->path, "%s: %lld bytes, the manifest says %llu",
		    (uint64_t)st.st_size < f->stored_size ? "truncated" :
		    "wrong size", (long long)st.st_size,
		    (unsigned long long)f->stored_size);
		rc = 0;
		goto out;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	if (f->sqlite && f->zstd) {
		copy = mc_asprintf("%s/%zu.db", tmp, seq);
		lrc = load_database(fd, path, copy, io, &sums, &why, &e);
	} else if (f->sqlite) {
		/* Stored as it is: hashed while it is checked. */
		struct hashing h = { .fd = { fd, -1 }, .name = { path, NULL },
				     .io = io };

		lrc = check_hashed(&h, path, &why, &e);
		sums = h.sums[0];
	} else {
		lrc = mc_bk_load(fd, path, -1, NULL, f->zstd, io, &sums, &e);
	}
	if (lrc < 0) {
		if (e.code != MC_EXIT_CRITICAL) {
			*err = e;
			goto out;
		}
		bad(r, f->path, "%s", e.msg);
		rc = 0;
		goto out;
	}
	if (strcmp(sums.sha256, f->sha256) != 0)
		bad(r, f->path, "SHA-256 of the stored bytes differs from the "
		    "manifest (damaged)");
	else if (sums.size != f->size ||
		 strcmp(sums.sha256_original, f->sha256_original) != 0)
		bad(r, f->path, "the restored bytes differ from the original "
		    "(SHA-256 or size)");
	else if (why)
		bad(r, f->path, "%s", why);
	rc = 0;
	goto out;
fail_sys:
	mc_err_sys(err, MC_EXIT_IOERR, errno, "cannot read %s", path);
out:
	if (fd >= 0)
		close(fd);
	if (copy)
		unlink(copy);
	free(copy);
	free(why);
	free(path);
	return rc;
}

static int verify_manifest(const char *dir, const struct mc_bk_manifest *m,
			   struct mc_bk_io *io, struct mc_bk_verify_result *r,
			   struct mc_err *err)
{
	char *bdir = mc_asprintf("%s/%s", dir, m->id), *tmp = NULL;
	int rc = -1;

	for (size_t i = 0; i < m->n_files && r->ok; i++) {
		if (m->files[i].sqlite && m->files[i].zstd && tmp == NULL &&
		    (tmp = temp_dir("verify", err)) == NULL)
			goto out;
		if (verify_file(bdir, &m->files[i], tmp, i, io, r, err) < 0)
			goto out;
	}
	rc = 0;
out:
	if (tmp)
		rmdir(tmp);
	free(tmp);
	free(bdir);
	return rc;
}

/* ---- restore ---------------------------------------------------------------- */

void mc_bk_restore_result_release(struct mc_bk_restore_result *r)
{
	for (size_t i = 0; i < r->n_replaced; i++)
		free(r->replaced[i]);
	for (size_t i = 0; i < r->n_kept; i++)
		free(r->kept[i]);
	for (size_t i = 0; i < r->n_not_replaced; i++)
		free(r->not_replaced[i]);
	free(r->replaced);
	free(r->kept);
	free(r->not_replaced);
	memset(r, 0, sizeof(*r));
}

static void push(char ***v, size_t *n, const char *s)
{
	*v = mc_realloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = mc_strdup(s);
}

static const struct mc_bk_source *find_source(const struct mc_bk_source *s,
					      size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (mc_streq(s[i].name, name))
			return &s[i];
	return NULL;
}

/* Where a file goes: the live state file, its original path, or under
 * --to (sources there as sources/NAME). */
static char *target_of(const struct mc_bk_restore_opts *o,
		       const struct mc_bk_file *f)
{
	if (o->to == NULL && f->kind == MC_BK_SOURCE)
		return mc_asprintf("source %s", f->source);
	if (o->to == NULL)
		return mc_strdup(f->kind == MC_BK_STATE && o->state_path ?
				 o->state_path : f->original);
	if (f->kind == MC_BK_SOURCE) {
		char *p = mc_asprintf("%s/%s", o->to, f->path);
		size_t n = strlen(p);

		if (f->zstd && n > 4 && strcmp(p + n - 4, ".zst") == 0)
			p[n - 4] = '\0';
		return p;
	}
	return mc_asprintf("%s%s", o->to, f->original);
}

static int mkdir_parent(const char *path, struct mc_err *err)
{
	char *d = mc_strdup(path), *slash = strrchr(d, '/');
	int rc = 0;

	if (slash && slash != d) {
		*slash = '\0';
		rc = mc_mkdir_p(d, 0700, err);
	}
	free(d);
	return rc;
}

static void fsync_parent(const char *path)
{
	char *d = mc_strdup(path), *slash = strrchr(d, '/');

	if (slash) {
		*slash = '\0';
		mc_bk_fsync_path(*d ? d : "/", 1, NULL);
	}
	free(d);
}

/* A new temporary file beside target, with an unpredictable name. */
static int temp_beside(const char *target, unsigned mode, char **name,
		       struct mc_err *err)
{
	for (int tries = 0; tries < 16; tries++) {
		unsigned char rnd[6];
		char hex[13];
		int fd;

		mc_random_bytes(rnd, sizeof(rnd));
		mc_hex(rnd, sizeof(rnd), hex);
		*name = mc_asprintf("%s.restore-%s", target, hex);
		fd = open(*name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
			  O_CLOEXEC, 0600);
		if (fd >= 0) {
			if (fchmod(fd, mode & 07777 ? mode & 07777 : 0600) < 0) {
				mc_err_sys(err, MC_EXIT_IOERR, errno,
					   "cannot chmod %s", *name);
				close(fd);
				unlink(*name);
				free(*name);
				*name = NULL;
				return -1;
			}
			return fd;
		}
		if (errno != EEXIST) {
			mc_err_sys(err, MC_EXIT_IOERR, errno, "cannot create %s",
				   *name);
			free(*name);
			*name = NULL;
			return -1;
		}
		free(*name);
	}
	*name = NULL;
	return mc_err_set(err, MC_EXIT_IOERR, "cannot create a file beside %s",
			  target);
}

/* Writes the original bytes of stored file f into a new temporary file
 * beside target, checked against the manifest and fsynced. */
static int unpack_beside(const char *bdir, const struct mc_bk_file *f,
			 const char *target, struct mc_bk_io *io, char **tmp,
			 struct mc_err *err)
{
	char *src = mc_asprintf("%s/%s", bdir, f->path);
	struct mc_bk_sums sums;
	int in, out, rc = -1;

	*tmp = NULL;
	/* O_NONBLOCK: never waiting on a FIFO swapped in since verify */
	in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (in < 0) {
		mc_err_sys(err, MC_EXIT_IOERR, errno, "cannot read %s", src);
		free(src);
		return -1;
	}
	if ((out = temp_beside(target, f->mode, tmp, err)) < 0)
		goto out;
	if (mc_bk_load(in, src, out, *tmp, f->zstd, io, &sums, err) < 0) {
		close(out);
		goto fail;
	}
	if (strcmp(sums.sha256_original, f->sha256_original) != 0 ||
	    sums.size != f->size) {
		close(out);
		mc_err_set(err, MC_EXIT_CRITICAL, "%s changed since it was "
			   "verified (SHA-256 differs)", f->path);
		goto fail;
	}
	if (mc_bk_finish_file(out, *tmp, err) < 0)
		goto fail;
	rc = 0;
	goto out;
fail:
	unlink(*tmp);
	free(*tmp);
	*tmp = NULL;
out:
	close(in);
	free(src);
	return rc;
}

/* The replaced file kept as target.pre-restore-ID (a hard link: the old
 * inode itself). An existing copy from an earlier restore is kept: it is
 * the older data. */
static int keep_old(const char *target, const char *id,
		    struct mc_bk_restore_result *r, struct mc_err *err)
{
	char *pre = mc_asprintf("%s.pre-restore-%s", target, id);
	struct stat st;
	int rc = 0;

	if (lstat(target, &st) < 0) {
		free(pre);
		return 0;		/* nothing to keep */
	}
	if (link(target, pre) == 0) {
		push(&r->kept, &r->n_kept, pre);
	} else if (errno == EEXIST) {
		mc_log(MC_LOG_WARN, "%s already exists: kept as it is", pre);
		push(&r->kept, &r->n_kept, pre);
	} else {
		rc = mc_err_sys(err, MC_EXIT_IOERR, errno, "cannot keep %s as %s",
				target, pre);
	}
	free(pre);
	return rc;
}

static int restore_plain(const struct mc_bk_restore_opts *o,
			 const char *bdir, const struct mc_bk_file *f,
			 const char *target, struct mc_bk_io *io,
			 struct mc_bk_restore_result *r, struct mc_err *err)
{
	char *tmp = NULL;

	if (mkdir_parent(target, err) < 0)
		return -1;
	if (unpack_beside(bdir, f, target, io, &tmp, err) < 0)
		return -1;
	if (o->to == NULL && keep_old(target, o->id, r, err) < 0) {
		unlink(tmp);
		free(tmp);
		return -1;
	}
	if (rename(tmp, target) < 0) {
		mc_err_sys(err, MC_EXIT_IOERR, errno, "cannot rename %s to %s",
			   tmp, target);
		unlink(tmp);
		free(tmp);
		return -1;
	}
	fsync_parent(target);
	free(tmp);
	return 0;
}

/* Copies the database at src into the open database at dst, in one write
 * transaction, waiting (bounded) while another run holds it. */
static int sqlite_replace(const char *src, const char *dst,
			  const struct mc_bk_io *io, struct mc_err *err)
{
	sqlite3 *s = NULL, *d = NULL;
	sqlite3_backup *b;
	int rc = -1, step, busy = 0;
	char *uri = mc_bk_immutable_uri(src);

	if (sqlite3_open_v2(uri, &s, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI,
			    NULL) != SQLITE_OK ||
	    sqlite3_open_v2(dst, &d, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		mc_err_set(err, MC_EXIT_IOERR, "cannot open %s: %s", dst,
			   d ? sqlite3_errmsg(d) : s ? sqlite3_errmsg(s) : "?");
		goto out;
	}
	sqlite3_busy_timeout(d, mc_bk_busy_ms(io));
	b = sqlite3_backup_init(d, "main", s, "main");
	if (b == NULL) {
		mc_err_set(err, MC_EXIT_IOERR, "cannot replace %s: %s", dst,
			   sqlite3_errmsg(d));
		goto out;
	}
	while ((step = sqlite3_backup_step(b, -1)) == SQLITE_BUSY ||
	       step == SQLITE_LOCKED) {
		if (++busy > 1000 || mc_interrupted || mc_bk_busy_ms(io) == 0)
			break;
		mc_sleep_ms(10);
	}
	sqlite3_backup_finish(b);
	if (step != SQLITE_DONE) {
		mc_err_set(err, MC_EXIT_IOERR, "cannot replace %s: %s", dst,
			   sqlite3_errstr(step));
		goto out;
	}
	rc = 0;
out:
	sqlite3_close(s);
	sqlite3_close(d);
	free(uri);
	return rc;
}

/* Runs still going (this one, a health --watch) keep their rows in the
 * restored state file, so their results and their end can be recorded:
 * copied into the copy before it replaces the live file, and once more
 * after (a run that began in between). Their ids are above any in the
 * backup, which is older. */
static void carry_running(const char *target, const char *pre,
			  const struct mc_bk_io *io)
{
	static const char cols[] = "id, command, args, correlation_id, pid, "
				   "started, ended, exit_code, status, message";
	sqlite3 *db = NULL;
	char *sql;

	if (sqlite3_open_v2(target, &db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		sqlite3_close(db);
		return;
	}
	sqlite3_busy_timeout(db, mc_bk_busy_ms(io));
	sql = sqlite3_mprintf("ATTACH %Q AS pre; INSERT OR IGNORE INTO "
			      "main.runs (%s) SELECT %s FROM pre.runs WHERE "
			      "status = 'running'; DETACH pre;", pre, cols,
			      cols);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		mc_log(MC_LOG_WARN, "runs in progress not carried into the "
		       "restored %s: %s", target, sqlite3_errmsg(db));
	sqlite3_free(sql);
	sqlite3_close(db);
}

/* A database in use: the copy unpacked beside it, the current content
 * kept through the backup API, then replaced through it. */
static int restore_database(const struct mc_bk_restore_opts *o,
			    const char *bdir, const struct mc_bk_file *f,
			    const char *target, struct mc_bk_io *io,
			    struct mc_bk_restore_result *r, struct mc_err *err)
{
	/* the copy of the file in place: bound by the deadline, not counted
	 * in the restore's progress */
	struct mc_bk_io pio = { .dl = io ? io->dl : NULL };
	char *tmp = NULL, *pre = mc_asprintf("%s.pre-restore-%s", target,
					     o->id);
	int rc = -1;

	if (unpack_beside(bdir, f, target, io, &tmp, err) < 0)
		goto out;
	if (access(pre, F_OK) == 0) {
		mc_log(MC_LOG_WARN, "%s already exists: kept as it is", pre);
	} else if (mc_bk_sqlite_copy(target, pre, &pio, err) < 0) {
		unlink(pre);
		goto out;
	}
	push(&r->kept, &r->n_kept, pre);
	if (f->kind == MC_BK_STATE)
		carry_running(tmp, target, io);
	if (sqlite_replace(tmp, target, io, err) < 0)
		goto out;
	if (f->kind == MC_BK_STATE)
		carry_running(target, pre, io);
	rc = 0;
out:
	if (tmp)
		unlink(tmp);
	free(tmp);
	free(pre);
	return rc;
}

static int restore_one(const struct mc_bk_restore_opts *o, const char *bdir,
		       const struct mc_bk_file *f, const char *target,
		       struct mc_bk_io *io, struct mc_bk_restore_result *r,
		       struct mc_err *err)
{
	if (o->to == NULL && f->kind == MC_BK_SOURCE) {
		const struct mc_bk_source *s = find_source(o->sources,
							   o->n_sources,
							   f->source);
		char *src = mc_asprintf("%s/%s", bdir, f->path);
		char *what = mc_asprintf("restore_command of backup_source "
					 "'%s'", f->source);
		int rc = mc_bk_source_feed(s->restore_command, what, f, src,
					   s->timeout_ms, io, err);

		free(src);
		free(what);
		return rc;
	}
	if (o->to == NULL && f->sqlite) {
		int fd = open(target, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		int live = fd >= 0 && mc_bk_is_sqlite(fd);

		if (fd >= 0)
			close(fd);
		if (live)
			return restore_database(o, bdir, f, target, io, r, err);
	}
	return restore_plain(o, bdir, f, target, io, r, err);
}

static int selected(const struct mc_bk_restore_opts *o,
		    const struct mc_bk_file *f)
{
	if (o->n_only == 0)
		return 1;
	for (size_t i = 0; i < o->n_only; i++) {
		const char *p = o->only[i];

		if (mc_streq(p, f->original) || mc_streq(p, f->path) ||
		    (f->kind == MC_BK_SOURCE && mc_streq(p, f->source)) ||
		    (f->kind == MC_BK_STATE && mc_streq(p, "state")))
			return 1;
	}
	return 0;
}

/* Restores m's selected files; r names what was and was not replaced. */
static int restore_files(const struct mc_bk_restore_opts *o,
			 const struct mc_bk_manifest *m, struct mc_bk_io *io,
			 struct mc_bk_restore_result *r, struct mc_err *err)
{
	char *bdir = mc_asprintf("%s/%s", o->dir, m->id);
	size_t i;
	int rc = 0;

	for (i = 0; i < m->n_files; i++) {
		const struct mc_bk_file *f = &m->files[i];
		char *target;

		if (!selected(o, f))
			continue;
		target = target_of(o, f);
		if (rc == 0 && mc_interrupted)
			rc = mc_err_set(err, mc_interrupted == SIGTERM ?
					MC_EXIT_SIGTERM : MC_EXIT_SIGINT,
					"interrupted by %s",
					mc_interrupted == SIGTERM ? "SIGTERM" :
					"SIGINT");
		if (rc == 0) {
			mc_logkv(MC_LOG_INFO, "restoring", "file", target,
				 (char *)NULL);
			rc = restore_one(o, bdir, f, target, io, r, err);
		}
		if (rc == 0)
			push(&r->replaced, &r->n_replaced, target);
		else
			push(&r->not_replaced, &r->n_not_replaced, target);
		free(target);
	}
	free(bdir);
	return rc;
}

/* Every selected source must have its restore_command; every --only must
 * name something. Checked before anything is touched. */
static int restore_precheck(const struct mc_bk_restore_opts *o,
			    const struct mc_bk_manifest *m, struct mc_err *err)
{
	for (size_t k = 0; k < o->n_only; k++) {
		struct mc_bk_restore_opts one = *o;
		int found = 0;

		one.only = &o->only[k];
		one.n_only = 1;
		for (size_t i = 0; i < m->n_files && !found; i++)
			found = selected(&one, &m->files[i]);
		if (!found)
			return mc_err_set(err, MC_EXIT_USAGE, "--only %s: backup "
					  "%s holds no such file", o->only[k],
					  m->id);
	}
	for (size_t i = 0; i < m->n_files && o->to == NULL; i++) {
		const struct mc_bk_file *f = &m->files[i];
		const struct mc_bk_source *s;

		if (f->kind != MC_BK_SOURCE || !selected(o, f))
			continue;
		s = find_source(o->sources, o->n_sources, f->source);
		if (s == NULL || s->restore_command == NULL)
			return mc_err_set(err, MC_EXIT_CONFIG, "backup_source "
					  "'%s' has no restore_command: restore "
					  "its file with --to DIR, or leave it "
					  "out with --only", f->source);
	}
	if (o->to == NULL && o->state_path == NULL)
		for (size_t i = 0; i < m->n_files; i++)
			if (m->files[i].kind == MC_BK_STATE &&
			    selected(o, &m->files[i]))
				return mc_err_set(err, MC_EXIT_USAGE, "no state "
						  "file to restore into");
	return 0;
}

int mc_bk_restore(const struct mc_bk_restore_opts *o,
		  struct mc_bk_restore_result *r, struct mc_err *err)
{
	struct mc_bk_manifest *m = NULL;
	struct mc_bk_verify_result v = { .ok = 1 };
	struct mc_bk_io io = o->io;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (o->to && (o->to[0] != '/' || !mc_bk_abs_path_safe(o->to)))
		return mc_err_set(err, MC_EXIT_USAGE, "--to %s: give an absolute "
				  "path without '..'", o->to);
	if (mc_bk_manifest_read(o->dir, o->id, &m, err) < 0) {
		if (err->code != MC_EXIT_CRITICAL)
			return -1;
		char why[MC_ERR_MSG];

		r->verified_bad = 1;
		snprintf(why, sizeof(why), "%s", err->msg);
		return mc_err_set(err, MC_EXIT_CRITICAL, "backup %s failed "
				  "verify: %s; nothing restored", o->id, why);
	}
	if (restore_precheck(o, m, err) < 0)
		goto out;
	if (verify_manifest(o->dir, m, &io, &v, err) < 0)
		goto out;
	if (!v.ok) {
		r->verified_bad = 1;
		mc_err_set(err, MC_EXIT_CRITICAL, "backup %s failed verify: %s: "
			   "%s; nothing restored", o->id, v.bad_file, v.reason);
		goto out;
	}
	if (o->to == NULL && o->before &&
	    mc_bk_hook_run("before_restore", o->before, o->hook_timeout_ms,
			   io.dl, err) < 0) {
		for (size_t i = 0; i < m->n_files; i++)
			if (selected(o, &m->files[i])) {
				char *t = target_of(o, &m->files[i]);

				push(&r->not_replaced, &r->n_not_replaced, t);
				free(t);
			}
		goto out;
	}
	io.done = 0;
	io.total = mc_bk_manifest_size(m);
	if (restore_files(o, m, &io, r, err) < 0)
		goto out;
	if (o->to == NULL && o->after &&
	    mc_bk_hook_run("after_restore", o->after, o->hook_timeout_ms,
			   io.dl, err) < 0)
		goto out;
	rc = 0;
out:
	mc_bk_verify_result_release(&v);
	mc_bk_manifest_free(m);
	return rc;
}

/* ---- verify and the restore drill -------------------------------------------- */

/* Every restored file hashed again against the manifest. */
static int check_restored(const struct mc_bk_restore_opts *o,
			  const struct mc_bk_manifest *m,
			  struct mc_bk_verify_result *r, struct mc_err *err)
{
	for (size_t i = 0; i < m->n_files && r->ok; i++) {
		const struct mc_bk_file *f = &m->files[i];
		char *t = target_of(o, f);
		struct mc_bk_sums sums;
		int fd = open(t, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), rc;
		struct mc_err e = { 0 };

		if (fd < 0) {
			bad(r, f->path, "restore drill: %s was not restored",
			    t);
			free(t);
			continue;
		}
		rc = mc_bk_load(fd, t, -1, NULL, 0, NULL, &sums, &e);
		close(fd);
		if (rc < 0) {
			*err = e;
			free(t);
			return -1;
		}
		if (strcmp(sums.sha256, f->sha256_original) != 0)
			bad(r, f->path, "restore drill: the restored file "
			    "differs from the manifest");
		free(t);
	}
	return 0;
}

static int restore_drill(const char *dir, const struct mc_bk_manifest *m,
			 struct mc_bk_io *io, struct mc_bk_verify_result *r,
			 struct mc_err *err)
{
	struct mc_bk_restore_opts o = { 0 };
	struct mc_bk_restore_result rr = { 0 };
	char *tmp = temp_dir("drill", err);
	double t0 = mc_mono_now();
	int rc = -1;

	if (tmp == NULL)
		return -1;
	o.dir = dir;
	o.id = m->id;
	o.to = tmp;
	if (restore_files(&o, m, io, &rr, err) < 0) {
		if (err->code != MC_EXIT_CRITICAL)
			goto out;
		bad(r, rr.n_not_replaced ? rr.not_replaced[0] : m->id,
		    "restore drill: %s", err->msg);
		mc_err_clear(err);
		rc = 0;
		goto out;
	}
	r->restore_seconds = mc_mono_now() - t0;
	/* Hashes first: opening the state copy may migrate it. */
	if (check_restored(&o, m, r, err) < 0)
		goto out;
	for (size_t i = 0; i < m->n_files && r->ok; i++) {
		const struct mc_bk_file *f = &m->files[i];

		if (f->kind == MC_BK_STATE) {
			char *t = target_of(&o, f);
			struct mc_err e = { 0 };
			struct mc_state *st = mc_state_open(t, &e);

			if (st == NULL)
				bad(r, f->path, "restore drill: the state copy "
				    "does not open: %s", e.msg);
			mc_state_close(st);
			free(t);
		}
	}
	rc = 0;
out:
	mc_bk_restore_result_release(&rr);
	{
		struct mc_err e = { 0 };

		if (mc_bk_remove_tree(tmp, &e) < 0)
			mc_log(MC_LOG_ERROR, "%s", e.msg);
	}
	free(tmp);
	return rc;
}

int mc_bk_verify(const char *dir, const char *id, int restore_test,
		 struct mc_bk_io *io, struct mc_bk_verify_result *r,
		 struct mc_err *err)
{
	struct mc_bk_manifest *m = NULL;
	struct mc_err e = { 0 };
	int rc = -1;

	memset(r, 0, sizeof(*r));
	r->ok = 1;
	if (mc_bk_manifest_read(dir, id, &m, &e) < 0) {
		if (e.code != MC_EXIT_CRITICAL) {
			*err = e;
			return -1;
		}
		/* the reader names the file already: once is enough */
		bad(r, MC_BK_MANIFEST, "%s",
		    strncmp(e.msg, MC_BK_MANIFEST ": ",
			    sizeof(MC_BK_MANIFEST ": ") - 1) == 0 ?
		    e.msg + sizeof(MC_BK_MANIFEST ": ") - 1 : e.msg);
		return 0;
	}
	if (io) {
		io->done = 0;
		io->total = mc_bk_manifest_size(m) * (restore_test ? 2 : 1);
	}
	if (verify_manifest(dir, m, io, r, err) < 0)
		goto out;
	if (r->ok && restore_test && restore_drill(dir, m, io, r, err) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0 && is_signal_code(err->code))
		mc_log(MC_LOG_INFO, "verify of %s interrupted", id);
	mc_bk_manifest_free(m);
	return rc;
}
