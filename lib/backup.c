/*
 * backup.c - `backup create` and `backup list`, and the directory work they
 * share with verify, restore and prune.
 *
 * A create holds the lock DIR/.backup.lock for its whole run, so any
 * DIR/.partial-* found while holding it was left by a writer that is gone
 * (killed, crashed, out of disk) and is removed. The new backup is written
 * under DIR/.partial-<id>/: each file streamed (hashed, compressed, fsynced),
 * SQLite databases through the online backup API (one read transaction, so
 * other writers go on and the copy is consistent) whose pages go straight
 * into the stream (lib/backup_sink.c), then
 * manifest.json, the directories fsynced, the rename to DIR/<id> and an
 * fsync of DIR. Until that rename nothing is listed.
 */
#include "backup.h"
#include "backup_int.h"
#include "log.h"
#include "resil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- directories ---------------------------------------------------------- */

static int remove_at(int dfd, const char *name, const char *shown,
		     struct mc_err *err)
{
	struct stat st;
	int fd;
	DIR *d;
	struct dirent *e;
	int rc = 0;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return mc_err_sys(err, MC_EXIT_IOERR, errno, "cannot remove %s",
				  shown);
	}
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
			return mc_err_sys(err, MC_EXIT_IOERR, errno,
					  "cannot remove %s", shown);
		return 0;
	}
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return mc_err_sys(err, MC_EXIT_IOERR, errno, "cannot remove %s",
				  shown);
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return mc_err_sys(err, MC_EXIT_IOERR, errno, "cannot remove %s",
				  shown);
	}
	while (rc == 0 && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		rc = remove_at(dirfd(d), e->d_name, shown, err);
	}
	closedir(d);
	if (rc == 0 && unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		rc = mc_err_sys(err, MC_EXIT_IOERR, errno, "cannot remove %s",
				shown);
	return rc;
}

int mc_bk_remove_tree(const char *path, struct mc_err *err)
{
	return remove_at(AT_FDCWD, path, path, err);
}

int mc_bk_remove(const char *dir, const char *id, struct mc_err *err)
{
	char *from = mc_asprintf("%s/%s", dir, id);
	char *to = mc_asprintf("%s/.partial-%s", dir, id);
	int rc = 0;

	/* Unlisted at once by the rename; a crash half-way leaves a
	 * partial the next create removes. */
	if (rename(from, to) < 0)
		rc = mc_err_sys(err, MC_EXIT_IOERR, errno, "cannot remove %s",
				from);
	else if (mc_bk_remove_tree(to, err) < 0)
		rc = -1;
	free(from);
	free(to);
	return rc;
}

/* 74 naming DIR, for the errno of a look at it. */
static int dir_error(const char *dir, int e, struct mc_err *err)
{
	if (e != ENOENT)
		return mc_err_sys(err, MC_EXIT_IOERR, e,
				  "cannot read backup directory %s", dir);
	mc_err_set(err, MC_EXIT_IOERR, "backup directory %s does not exist "
		   "(backup create makes it)", dir);
	if (err)
		err->sys_errno = ENOENT;
	return -1;
}

int mc_bk_dir_check(const char *dir, int create, struct mc_err *err)
{
	struct stat st;

	if (create && mc_mkdir_p(dir, 0700, err) < 0)
		return -1;
	if (stat(dir, &st) < 0)
		return dir_error(dir, errno, err);
	if (!S_ISDIR(st.st_mode))
		return mc_err_set(err, MC_EXIT_IOERR, "backup directory %s: not "
				  "a directory", dir);
	if (st.st_uid != geteuid())
		return mc_err_set(err, MC_EXIT_IOERR, "backup directory %s is "
				  "owned by another user (uid %u): refused", dir,
				  (unsigned)st.st_uid);
	if (st.st_mode & 0022)
		return mc_err_set(err, MC_EXIT_IOERR, "backup directory %s is "
				  "writable by others (mode %03o): refused", dir,
				  (unsigned)(st.st_mode & 0777));
	return 0;
}

/* ---- locks ----------------------------------------------------------------- */

struct mc_bk_lock {
	struct mc_lock *writer;		/* DIR/.backup.lock */
	struct mc_lock *readers;	/* DIR/.backup-readers.lock */
};

struct mc_bk_lock *mc_bk_lock(const char *dir, int mode, int64_t wait_ms,
			      struct mc_err *err)
{
	struct mc_bk_lock *l;
	char *shown;
	double t0 = mc_mono_now();
	struct stat st;

	if (stat(dir, &st) < 0) {
		dir_error(dir, errno, err);
		return NULL;
	}
	l = mc_calloc(1, sizeof(*l));
	shown = mc_asprintf("on backup directory %s", dir);
	if (mode != MC_BK_LOCK_READ &&
	    (l->writer = mc_lock_take_as(dir, ".backup", MC_LOCK_NO_MKDIR,
					 shown, wait_ms, err)) == NULL)
		goto fail;
	if (mode != MC_BK_LOCK_CREATE) {
		int64_t left = wait_ms - (int64_t)((mc_mono_now() - t0) * 1e3);

		if (wait_ms > 0 && left < 1)
			left = 1;
		l->readers = mc_lock_take_as(dir, ".backup-readers",
					     mode == MC_BK_LOCK_READ ?
					     MC_LOCK_SHARED : MC_LOCK_NO_MKDIR,
					     shown, wait_ms > 0 ? left : 0, err);
		if (l->readers == NULL)
			goto fail;
	}
	free(shown);
	return l;
fail:
	free(shown);
	mc_bk_unlock(l);
	return NULL;
}

void mc_bk_unlock(struct mc_bk_lock *l)
{
	if (l == NULL)
		return;
	mc_lock_release(l->readers);
	mc_lock_release(l->writer);
	free(l);
}

int mc_bk_fsync_path(const char *path, int dir, struct mc_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
		      (dir ? O_DIRECTORY : 0));
	int rc = 0;

	if (fd < 0)
		return mc_err_sys(err, MC_EXIT_IOERR, errno, "cannot open %s",
				  path);
	if (fsync(fd) < 0)
		rc = mc_err_sys(err, MC_EXIT_IOERR, errno, "cannot fsync %s",
				path);
	close(fd);
	return rc;
}

/* ---- SQLite --------------------------------------------------------------- */

int mc_bk_is_sqlite(int fd)
{
	char head[16];

	if (pread(fd, head, sizeof(head), 0) != (ssize_t)sizeof(head))
		return 0;
	return memcmp(head, "SQLite format 3", 16) == 0;
}

static int sqlerr(sqlite3 *db, struct mc_err *err, int code, const char *what,
		  const char *path)
{
	return mc_err_set(err, code, "%s %s: %s", what, path,
			  db ? sqlite3_errmsg(db) : "out of memory");
}

static int sqlite_page_size(sqlite3 *db)
{
	sqlite3_stmt *ps;
	int page = 4096;

	if (sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &ps, NULL) ==
	    SQLITE_OK) {
		if (sqlite3_step(ps) == SQLITE_ROW)
			page = sqlite3_column_int(ps, 0);
		sqlite3_finalize(ps);
	}
	return page;
}

int mc_bk_busy_ms(const struct mc_bk_io *io)
{
	return (int)mc_deadline_left_ms(io ? io->dl : NULL, 10000);
}

int mc_bk_sqlite_source(const char *src, const struct mc_bk_io *io,
			sqlite3 **out, struct mc_err *err)
{
	sqlite3 *s = NULL;

	*out = NULL;
	if (sqlite3_open_v2(src, &s, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		sqlerr(s, err, MC_EXIT_IOERR, "cannot open", src);
		sqlite3_close(s);
		return -1;
	}
	sqlite3_busy_timeout(s, mc_bk_busy_ms(io));
	/* One read transaction for the whole copy: a consistent snapshot,
	 * and the backup never restarts because another process wrote. */
	if (sqlite3_exec(s, "BEGIN; SELECT count(*) FROM sqlite_master;",
			 NULL, NULL, NULL) != SQLITE_OK) {
		sqlerr(s, err, MC_EXIT_IOERR, "cannot read", src);
		sqlite3_close(s);
		return -1;
	}
	*out = s;
	return 0;
}

void mc_bk_sqlite_source_end(sqlite3 *s)
{
	if (s) {
		sqlite3_exec(s, "COMMIT", NULL, NULL, NULL);
		sqlite3_close(s);
	}
}

int mc_bk_sqlite_steps(sqlite3 *s, sqlite3 *d, const char *src,
		       const char *dst, struct mc_bk_io *io, int count,
		       struct mc_err *err)
{
	sqlite3_backup *b;
	int busy = 0, step, page;
	uint64_t counted = 0;

	b = sqlite3_backup_init(d, "main", s, "main");
	if (b == NULL)
		return sqlerr(d, err, MC_EXIT_IOERR, "cannot copy", src);
	page = sqlite_page_size(s);
	for (;;) {
		step = sqlite3_backup_step(b, 2048);
		if (io && count) {
			uint64_t now = (uint64_t)(sqlite3_backup_pagecount(b) -
						  sqlite3_backup_remaining(b)) *
				       (uint64_t)page;

			if (now > counted) {
				io->done += now - counted;
				counted = now;
				if (io->progress)
					io->progress(io->ud, io->done,
						     io->total);
			}
		}
		if (step == SQLITE_DONE)
			break;
		if (step == SQLITE_BUSY || step == SQLITE_LOCKED) {
			if (++busy > 1000) {
				mc_err_set(err, MC_EXIT_IOERR, "cannot copy %s: "
					   "busy for too long", src);
				goto fail;
			}
			mc_sleep_ms(10);
		} else if (step != SQLITE_OK) {
			mc_err_set(err, MC_EXIT_IOERR, "cannot copy %s to %s: %s",
				   src, dst, sqlite3_errstr(step));
			goto fail;
		}
		if (mc_interrupted) {
			mc_err_set(err, mc_interrupted == SIGTERM ?
				   MC_EXIT_SIGTERM : MC_EXIT_SIGINT,
				   "interrupted by %s", mc_interrupted == SIGTERM ?
				   "SIGTERM" : "SIGINT");
			goto fail;
		}
		if (io && io->dl && mc_deadline_passed(io->dl)) {
			mc_err_set(err, MC_EXIT_CRITICAL,
				   "the run's deadline (--timeout) passed");
			goto fail;
		}
	}
	step = sqlite3_backup_finish(b);
	if (step != SQLITE_OK)
		return mc_err_set(err, MC_EXIT_IOERR, "cannot write %s: %s", dst,
				  sqlite3_errstr(step));
	return 0;
fail:
	sqlite3_backup_finish(b);
	return -1;
}

int mc_bk_sqlite_copy(const char *src, const char *dst, struct mc_bk_io *io,
		      struct mc_err *err)
{
	sqlite3 *s = NULL, *d = NULL;
	int rc = -1, fd;

	/* The file exists (0600, ours) before SQLite opens it. */
	fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0)
		return mc_err_sys(err, MC_EXIT_IOERR, errno, "cannot create %s",
				  dst);
	close(fd);
	if (mc_bk_sqlite_source(src, io, &s, err) < 0)
		goto out;
	if (sqlite3_open_v2(dst, &d, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
	    sqlite3_exec(d, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;",
			 NULL, NULL, NULL) != SQLITE_OK) {
		sqlerr(d, err, MC_EXIT_IOERR, "cannot create", dst);
		goto out;
	}
	rc = mc_bk_sqlite_steps(s, d, src, dst, io, 1, err);
out:
	sqlite3_close(d);
	mc_bk_sqlite_source_end(s);
	return rc;
}

char *mc_bk_immutable_uri(const char *path)
{
	struct mc_buf u = { 0 };

	mc_buf_puts(&u, "file:");
	for (const char *p = path; *p; p++) {
		if (*p == '?' || *p == '#' || *p == '%')
			mc_buf_printf(&u, "%%%02X", (unsigned char)*p);
		else
			mc_buf_add(&u, p, 1);
	}
	mc_buf_puts(&u, "?immutable=1");
	return mc_buf_steal(&u);
}

int mc_bk_sqlite_check(const char *path, char **why, struct mc_err *err)
{
	char *uri = NULL;
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	struct mc_buf b = { 0 };
	int rc = -1, step;

	*why = NULL;
	/* immutable: no -wal or -shm beside a copy, nothing written. */
	uri = mc_bk_immutable_uri(path);
	if (sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI,
			    NULL) != SQLITE_OK) {
		*why = mc_asprintf("cannot open: %s",
				   db ? sqlite3_errmsg(db) : "out of memory");
		rc = 0;
		goto out;
	}
	if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL) !=
	    SQLITE_OK) {
		*why = mc_asprintf("%s", sqlite3_errmsg(db));
		rc = 0;
		goto out;
	}
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(s, 0);

		if (t && strcmp(t, "ok") != 0 && b.len < 300)
			mc_buf_printf(&b, "%s%s", b.len ? "; " : "", t);
	}
	if (step != SQLITE_DONE && b.len == 0)
		mc_buf_puts(&b, sqlite3_errmsg(db));
	if (b.len)
		*why = mc_asprintf("integrity_check: %s", b.data);
	rc = 0;
out:
	(void)err;
	sqlite3_finalize(s);
	sqlite3_close(db);
	mc_buf_release(&b);
	free(uri);
	return rc;
}

/* ---- list ------------------------------------------------------------------ */

/* The time in an id (UTC), for ordering a backup whose manifest is gone. */
static double id_time(const char *id)
{
	struct tm tm = { 0 };

	if (sscanf(id, "%4d%2d%2dT%2d%2d%2d", &tm.tm_year, &tm.tm_mon,
		   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (double)timegm(&tm);
}

static double entry_time(const struct mc_bk_entry *e)
{
	return e->m ? e->m->created : id_time(e->id);
}

static int entry_cmp(const void *a, const void *b)
{
	const struct mc_bk_entry *x = a, *y = b;
	double tx = entry_time(x), ty = entry_time(y);

	if (tx != ty)
		return tx < ty ? 1 : -1;
	return -strcmp(x->id, y->id);
}

void mc_bk_entries_free(struct mc_bk_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(e[i].id);
		mc_bk_manifest_free(e[i].m);
		free(e[i].damaged);
	}
	free(e);
}

int mc_bk_list(const char *dir, struct mc_bk_entry **out, size_t *n,
	       struct mc_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct mc_bk_entry *list = NULL;
	size_t count = 0, cap = 0;

	*out = NULL;
	*n = 0;
	if (d == NULL)
		return dir_error(dir, errno, err);
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		struct mc_err e = { 0 };

		if (!mc_bk_id_valid(de->d_name) ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode))
			continue;
		if (count == cap) {
			cap = cap ? cap * 2 : 16;
			list = mc_realloc(list, cap * sizeof(*list));
		}
		memset(&list[count], 0, sizeof(*list));
		if (mc_bk_manifest_read(dir, de->d_name, &list[count].m, &e) < 0) {
			/* Gone meanwhile (a prune renames it away before
			 * removing it): not a damaged backup, no backup. */
			if (fstatat(dirfd(d), de->d_name, &st,
				    AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
				continue;
			list[count].damaged = mc_strdup(e.msg);
		}
		list[count].id = mc_strdup(de->d_name);
		count++;
	}
	closedir(d);
	if (count)
		qsort(list, count, sizeof(*list), entry_cmp);
	*out = list;
	*n = count;
	return 0;
}

int mc_bk_find(const struct mc_bk_entry *e, size_t n, const char *id,
	       size_t *index, struct mc_err *err)
{
	if (mc_streq(id, "latest")) {
		if (n == 0)
			return mc_err_set(err, MC_EXIT_CRITICAL,
					  "there is no backup yet");
		*index = 0;
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (strcmp(e[i].id, id) == 0) {
			*index = i;
			return 0;
		}
	return mc_err_set(err, MC_EXIT_USAGE, "no backup '%s' (see `mercuryctl "
			  "backup list`)", id);
}

/* ---- create ---------------------------------------------------------------- */

struct item {
	int kind;
	char *original;		/* absolute, NULL for a source */
	char *rel;		/* stored path */
	int sqlite;
	uint64_t size_hint;
	const struct mc_bk_source *src;
};

struct plan {
	struct item *items;
	size_t n, cap;
};

static void plan_add(struct plan *p, int kind, const char *original,
		     const char *rel, int sqlite, uint64_t size,
		     const struct mc_bk_source *src)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 16;
		p->items = mc_realloc(p->items, p->cap * sizeof(*p->items));
	}
	p->items[p->n].kind = kind;
	p->items[p->n].original = mc_strdup(original);
	p->items[p->n].rel = mc_strdup(rel);
	p->items[p->n].sqlite = sqlite;
	p->items[p->n].size_hint = size;
	p->items[p->n].src = src;
	p->n++;
}

static void plan_free(struct plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->items[i].original);
		free(p->items[i].rel);
	}
	free(p->items);
}

static int excluded(const struct mc_bk_create_opts *o, const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	for (size_t i = 0; i < o->n_excludes; i++)
		if (fnmatch(o->excludes[i], path, FNM_PATHNAME) == 0 ||
		    fnmatch(o->excludes[i], base, 0) == 0)
			return 1;
	return 0;
}

/* Inside DIR (the backups themselves), or the state file and its -wal and
 * -shm (the state is copied on its own). */
static int skipped(const struct mc_bk_create_opts *o, const char *path)
{
	size_t dl = strlen(o->dir);

	if (strncmp(path, o->dir, dl) == 0 && (path[dl] == '/' ||
					       path[dl] == '\0'))
		return 1;
	if (o->state_path) {
		size_t sl = strlen(o->state_path);

		if (strncmp(path, o->state_path, sl) == 0 &&
		    (path[sl] == '\0' || strcmp(path + sl, "-wal") == 0 ||
		     strcmp(path + sl, "-shm") == 0 ||
		     strcmp(path + sl, "-journal") == 0))
			return 1;
	}
	return 0;
}

static int plan_has(const struct plan *p, const char *original)
{
	for (size_t i = 0; i < p->n; i++)
		if (mc_streq(p->items[i].original, original))
			return 1;
	return 0;
}

/* The -wal, -shm or -journal of an SQLite database: its content comes
 * with the database's copy, and restoring it beside another copy would
 * corrupt that. */
static int sqlite_companion(const char *path)
{
	static const char *const sfx[] = { "-wal", "-shm", "-journal" };
	size_t n = strlen(path);

	for (size_t i = 0; i < MC_ARRAY_LEN(sfx); i++) {
		size_t k = strlen(sfx[i]);
		char *db;
		int fd, yes = 0;

		if (n <= k || strcmp(path + n - k, sfx[i]) != 0)
			continue;
		db = mc_strndup(path, n - k);
		fd = open(db, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd >= 0) {
			yes = mc_bk_is_sqlite(fd);
			close(fd);
		}
		free(db);
		if (yes)
			return 1;
	}
	return 0;
}

static int strp_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int add_file(struct plan *p, const struct mc_bk_create_opts *o,
		    const char *path, const struct stat *st, struct mc_err *err)
{
	char *rel;
	int fd, sq;

	if (skipped(o, path) || excluded(o, path) || plan_has(p, path) ||
	    sqlite_companion(path))
		return 0;
	/* A name found on disk, not in the configuration: bad input data
	 * (65), not a configuration error (78, which names file and line) */
	if (!mc_bk_abs_path_safe(path))
		return mc_err_set(err, MC_EXIT_DATAERR, "cannot back up %s: its "
				  "name holds control characters or is too long "
				  "(rename the file, or leave it out with "
				  "exclude)", path);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return mc_err_sys(err, MC_EXIT_IOERR, errno, "cannot read %s",
				  path);
	sq = mc_bk_is_sqlite(fd);
	close(fd);
	rel = mc_asprintf("files%s%s", path, o->zstd ? ".zst" : "");
	if (!mc_bk_path_safe(rel)) {
		free(rel);
		return mc_err_set(err, MC_EXIT_DATAERR, "cannot back up %s: a "
				  "path the manifest cannot hold", path);
	}
	plan_add(p, MC_BK_FILE, path, rel, sq, (uint64_t)st->st_size *
		 (sq ? 2 : 1), NULL);
	free(rel);
	return 0;
}

/* A directory taken whole: its regular files, symlinks not followed. */
static int add_tree(struct plan *p, const struct mc_bk_create_opts *o,
		    const char *dir, struct mc_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	if (d == NULL)
		return mc_err_sys(err, MC_EXIT_IOERR, errno, "cannot read %s",
				  dir);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			names = mc_realloc(names, cap * sizeof(*names));
		}
		names[n++] = mc_strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), strp_cmp);
	for (size_t i = 0; i < n; i++) {
		char *path = mc_asprintf("%s%s%s", dir,
					 dir[strlen(dir) - 1] == '/' ? "" : "/",
					 names[i]);
		struct stat st;

		if (rc == 0 && lstat(path, &st) == 0) {
			if (S_ISDIR(st.st_mode)) {
				if (!skipped(o, path) && !excluded(o, path))
					rc = add_tree(p, o, path, err);
			} else if (S_ISREG(st.st_mode)) {
				rc = add_file(p, o, path, &st, err);
			}
		}
		free(path);
		free(names[i]);
	}
	free(names);
	return rc;
}

static int plan_includes(struct plan *p, const struct mc_bk_create_opts *o,
			 struct mc_err *err)
{
	for (size_t i = 0; i < o->n_includes; i++) {
		const char *pat = o->includes[i];
		glob_t g;
		int r = glob(pat, GLOB_NOSORT, NULL, &g);

		if (r == GLOB_NOMATCH) {
			if (strpbrk(pat, "*?[") == NULL)
				return mc_err_set(err, MC_EXIT_IOERR,
						  "include %s: no such file",
						  pat);
			mc_log(MC_LOG_WARN, "include %s matches nothing", pat);
			continue;
		}
		if (r != 0)
			return mc_err_set(err, MC_EXIT_IOERR, "include %s: "
					  "cannot expand", pat);
		qsort(g.gl_pathv, g.gl_pathc, sizeof(char *), strp_cmp);
		for (size_t k = 0; k < g.gl_pathc; k++) {
			struct stat st;
			int rc = 0;

			if (stat(g.gl_pathv[k], &st) < 0)
				rc = mc_err_sys(err, MC_EXIT_IOERR, errno,
						"include %s", g.gl_pathv[k]);
			else if (S_ISDIR(st.st_mode))
				rc = add_tree(p, o, g.gl_pathv[k], err);
			else if (S_ISREG(st.st_mode))
				rc = add_file(p, o, g.gl_pathv[k], &st, err);
			if (rc < 0) {
				globfree(&g);
				return -1;
			}
		}
		globfree(&g);
	}
	return 0;
}

/* Creates the directories of rel under the partial directory. */
static int mkdirs_for(const char *partial, const char *rel, struct mc_err *err)
{
	char *path = mc_asprintf("%s/%s", partial, rel);
	char *p = path + strlen(partial) + 1;
	int rc = 0;

	for (char *s = strchr(p, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(path, 0700) < 0 && errno != EEXIST)
			rc = mc_err_sys(err, MC_EXIT_IOERR, errno,
					"cannot create %s", path);
		*s = '/';
		if (rc < 0)
			break;
	}
	free(path);
	return rc;
}

/* The directories under the partial directory, deepest first, fsynced. */
static int fsync_tree(const char *path, struct mc_err *err)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int rc = 0;

	if (d == NULL)
		return mc_err_sys(err, MC_EXIT_IOERR, errno, "cannot open %s",
				  path);
	while (rc == 0 && (de = readdir(d)) != NULL) {
		struct stat st;
		char *sub;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode))
			continue;
		sub = mc_asprintf("%s/%s", path, de->d_name);
		rc = fsync_tree(sub, err);
		free(sub);
	}
	closedir(d);
	return rc < 0 ? -1 : mc_bk_fsync_path(path, 1, err);
}

int mc_bk_open_new(const char *path, struct mc_err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		      O_CLOEXEC, 0600);

	if (fd < 0)
		mc_err_sys(err, MC_EXIT_IOERR, errno, "cannot create %s", path);
	return fd;
}

int mc_bk_finish_file(int fd, const char *path, struct mc_err *err)
{
	if (fsync(fd) < 0) {
		int e = errno;

		close(fd);
		return mc_err_sys(err, MC_EXIT_IOERR, e, "cannot write %s", path);
	}
	if (close(fd) < 0)
		return mc_err_sys(err, MC_EXIT_IOERR, errno, "cannot write %s",
				  path);
	return 0;
}

/* A database through a copy on disk: the online backup into the copy,
 * then the copy streamed (zstd) or hashed in place (none). */
static int store_sqlite_copy(const struct mc_bk_create_opts *o,
			     struct item *it, const char *partial,
			     const char *out_path, int seq,
			     struct mc_bk_io *io, struct mc_bk_sums *sums,
			     struct mc_err *err)
{
	char *copy = o->zstd ? mc_asprintf("%s/.copy-%d.db", partial, seq) :
		     mc_strdup(out_path);
	int in = -1, out = -1, rc = -1;

	if (mc_bk_sqlite_copy(it->original, copy, io, err) < 0)
		goto out;
	in = open(copy, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (in < 0) {
		mc_err_sys(err, MC_EXIT_IOERR, errno, "cannot read %s", copy);
		goto out;
	}
	posix_fadvise(in, 0, 0, POSIX_FADV_SEQUENTIAL);
	if (o->zstd) {
		if ((out = mc_bk_open_new(out_path, err)) < 0)
			goto out;
		if (mc_bk_store(in, copy, out, out_path, 1, io, sums, err) < 0)
			goto out;
		rc = mc_bk_finish_file(out, out_path, err);
		out = -1;
	} else {
		struct stat cst;

		/* The copy goes to disk while it is hashed. */
		if (fstat(in, &cst) == 0)
			mc_bk_writeback(in, 0, (uint64_t)cst.st_size);
		if (mc_bk_load(in, copy, -1, NULL, 0, io, sums, err) < 0)
			goto out;
		if (fsync(in) < 0) {
			mc_err_sys(err, MC_EXIT_IOERR, errno, "cannot write %s",
				   copy);
			goto out;
		}
		rc = 0;
	}
out:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	if (o->zstd)
		unlink(copy);
	free(copy);
	return rc;
}

/* A database: the online backup streamed straight through the hashes and
 * the compressor into the stored file; through a copy on disk when that
 * pass turns out stale (lib/backup_sink.c says when). */
static int store_sqlite(struct mc_bk_create_opts *o, struct item *it,
			const char *partial, const char *out_path, int seq,
			struct mc_bk_io *io, struct mc_bk_file *f,
			struct mc_err *err)
{
	struct mc_bk_writer *w;
	struct mc_bk_sums sums;
	uint64_t base = io->done;
	int out, stale = 0, rc;

	if ((out = mc_bk_open_new(out_path, err)) < 0)
		return -1;
	w = mc_bk_writer_new(out, out_path, o->zstd, io);
	rc = mc_bk_sqlite_stream(it->original, w, io, &stale, err);
	if (rc == 0)
		rc = mc_bk_writer_finish(w, &sums, err);
	mc_bk_writer_free(w);
	if (rc == 0) {
		rc = mc_bk_finish_file(out, out_path, err);
	} else {
		close(out);
		if (stale) {
			mc_log(MC_LOG_INFO, "%s: cannot stream its backup (page "
			       "1 newer in the WAL than in the file): copying "
			       "through a file", it->original);
			io->done = base;
			o->copies_on_disk++;
			if (unlink(out_path) < 0)
				rc = mc_err_sys(err, MC_EXIT_IOERR, errno,
						"cannot remove %s", out_path);
			else
				rc = store_sqlite_copy(o, it, partial, out_path,
						       seq, io, &sums, err);
		}
	}
	if (rc < 0)
		return -1;
	io->done = base + it->size_hint;
	f->size = sums.size;
	f->stored_size = sums.stored;
	memcpy(f->sha256, sums.sha256, 65);
	memcpy(f->sha256_original, sums.sha256_original, 65);
	return 0;
}

static int store_plain(const struct mc_bk_create_opts *o, struct item *it,
		       const char *out_path, struct mc_bk_io *io,
		       struct mc_bk_file *f, struct mc_err *err)
{
	struct mc_bk_sums sums;
	int in, out, rc;

	in = open(it->original, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (in < 0)
		return mc_err_sys(err, MC_EXIT_IOERR, errno, "cannot read %s",
				  it->original);
	posix_fadvise(in, 0, 0, POSIX_FADV_SEQUENTIAL);
	if ((out = mc_bk_open_new(out_path, err)) < 0) {
		close(in);
		return -1;
	}
	rc = mc_bk_store(in, it->original, out, out_path, o->zstd, io, &sums,
			 err);
	close(in);
	if (rc < 0) {
		close(out);
		return -1;
	}
	if (mc_bk_finish_file(out, out_path, err) < 0)
		return -1;
	f->size = sums.size;
	f->stored_size = sums.stored;
	memcpy(f->sha256, sums.sha256, 65);
	memcpy(f->sha256_original, sums.sha256_original, 65);
	return 0;
}

static int remove_partials(const char *dir, int *removed, struct mc_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int rc = 0;

	if (d == NULL)
		return mc_err_sys(err, MC_EXIT_IOERR, errno,
				  "cannot read backup directory %s", dir);
	while (rc == 0 && (de = readdir(d)) != NULL) {
		char *path;

		if (strncmp(de->d_name, ".partial-", 9) != 0)
			continue;
		path = mc_asprintf("%s/%s", dir, de->d_name);
		rc = mc_bk_remove_tree(path, err);
		if (rc == 0) {
			(*removed)++;
			mc_log(MC_LOG_INFO, "removed the stale partial backup %s",
			       path);
		}
		free(path);
	}
	closedir(d);
	return rc;
}

static void new_id(double now, char *id, size_t size)
{
	time_t t = (time_t)now;
	struct tm tm;
	unsigned char r[2];
	char hex[5];

	gmtime_r(&t, &tm);
	mc_random_bytes(r, sizeof(r));
	mc_hex(r, sizeof(r), hex);
	snprintf(id, size, "%04d%02d%02dT%02d%02d%02dZ-%s", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 hex);
}

/* What goes in: the state file, the include paths, the sources; and the
 * total the progress counts to. */
static int plan_create(struct plan *p, struct mc_bk_create_opts *o,
		       struct mc_err *err)
{
	struct stat st;

	if (o->state_path && stat(o->state_path, &st) == 0)
		plan_add(p, MC_BK_STATE, o->state_path,
			 o->zstd ? "state.db.zst" : "state.db", 1,
			 (uint64_t)st.st_size * 2, NULL);
	if (plan_includes(p, o, err) < 0)
		return -1;
	for (size_t i = 0; i < o->n_sources; i++) {
		char *rel = mc_asprintf("sources/%s%s", o->sources[i].file,
					o->zstd ? ".zst" : "");

		plan_add(p, MC_BK_SOURCE, NULL, rel, 0, 0, &o->sources[i]);
		free(rel);
	}
	o->io.done = 0;
	o->io.total = 0;
	for (size_t i = 0; i < p->n; i++)
		o->io.total += p->items[i].size_hint;
	return 0;
}

/* Writes the manifest text to the new file mpath, synced. */
static int write_manifest(const char *mpath, const char *text,
			  struct mc_err *err)
{
	int fd = mc_bk_open_new(mpath, err);
	size_t len = strlen(text), off = 0;

	if (fd < 0)
		return -1;
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			mc_err_sys(err, MC_EXIT_IOERR, errno,
				   "cannot write %s", mpath);
			close(fd);
			return -1;
		}
		off += (size_t)w;
	}
	return mc_bk_finish_file(fd, mpath, err);
}

int mc_bk_create(struct mc_bk_create_opts *o, struct mc_bk_manifest **out,
		 struct mc_err *err)
{
	struct mc_bk_lock *lock = NULL;
	struct plan p = { 0 };
	struct mc_bk_manifest *m = NULL;
	char id[40], host[256];
	char *partial = NULL, *final = NULL, *text = NULL, *mpath = NULL;
	double t0 = mc_mono_now();
	int rc = -1, made = 0;
	struct stat st;

	*out = NULL;
	if (mc_bk_dir_check(o->dir, 1, err) < 0)
		return -1;
	if ((lock = mc_bk_lock(o->dir, MC_BK_LOCK_CREATE, o->lock_wait_ms,
			       err)) == NULL)
		return -1;
	if (remove_partials(o->dir, &o->removed_partials, err) < 0)
		goto out;

	if (plan_create(&p, o, err) < 0)
		goto out;

	do {
		new_id(o->now > 0 ? o->now : mc_wall_now(), id, sizeof(id));
		free(final);
		final = mc_asprintf("%s/%s", o->dir, id);
	} while (access(final, F_OK) == 0);
	partial = mc_asprintf("%s/.partial-%s", o->dir, id);
	if (mkdir(partial, 0700) < 0) {
		mc_err_sys(err, MC_EXIT_IOERR, errno, "cannot create %s",
			   partial);
		goto out;
	}
	made = 1;

	m = mc_calloc(1, sizeof(*m));
	m->format = MC_BK_FORMAT;
	m->id = mc_strdup(id);
	m->created = o->now > 0 ? o->now : mc_wall_now();
	mc_hostname(host, sizeof(host));
	m->host = mc_strdup(host);
	m->tool_version = mc_strdup(MC_VERSION);
	m->note = mc_strdup(o->note);
	m->correlation_id = mc_strdup(o->correlation_id);
	m->files = mc_calloc(p.n + 1, sizeof(*m->files));
	for (size_t i = 0; i < p.n; i++) {
		struct item *it = &p.items[i];
		struct mc_bk_file *f = &m->files[i];
		char *path = mc_asprintf("%s/%s", partial, it->rel);
		int r;

		f->kind = it->kind;
		f->path = mc_strdup(it->rel);
		f->original = mc_strdup(it->original);
		f->source = it->src ? mc_strdup(it->src->name) : NULL;
		f->zstd = o->zstd;
		f->sqlite = it->sqlite;
		f->mode = 0600;
		m->n_files = i + 1;
		if (it->original && stat(it->original, &st) == 0)
			f->mode = st.st_mode & 07777;
		mc_logkv(MC_LOG_INFO, "backing up", "file",
			 it->original ? it->original : it->src->name,
			 (char *)NULL);
		r = mkdirs_for(partial, it->rel, err);
		if (r == 0 && it->kind == MC_BK_SOURCE)
			r = mc_bk_source_store(it->src, o->zstd, path, &o->io,
						f, err);
		else if (r == 0 && it->sqlite)
			r = store_sqlite(o, it, partial, path, (int)i, &o->io,
					 f, err);
		else if (r == 0)
			r = store_plain(o, it, path, &o->io, f, err);
		free(path);
		if (r < 0)
			goto out;
	}
	m->duration = mc_mono_now() - t0;
	text = mc_bk_manifest_dump(m);
	mpath = mc_asprintf("%s/%s", partial, MC_BK_MANIFEST);
	if (write_manifest(mpath, text, err) < 0)
		goto out;
	if (fsync_tree(partial, err) < 0)
		goto out;
	if (mc_interrupted) {
		mc_err_set(err, mc_interrupted == SIGTERM ? MC_EXIT_SIGTERM :
			   MC_EXIT_SIGINT, "interrupted by %s",
			   mc_interrupted == SIGTERM ? "SIGTERM" : "SIGINT");
		goto out;
	}
	if (rename(partial, final) < 0) {
		mc_err_sys(err, MC_EXIT_IOERR, errno, "cannot rename %s to %s",
			   partial, final);
		goto out;
	}
	made = 0;
	if (mc_bk_fsync_path(o->dir, 1, err) < 0)
		goto out;
	*out = m;
	m = NULL;
	rc = 0;
out:
	if (made) {
		struct mc_err e = { 0 };

		if (mc_bk_remove_tree(partial, &e) < 0)
			mc_log(MC_LOG_ERROR, "%s", e.msg);
	}
	mc_bk_manifest_free(m);
	plan_free(&p);
	free(text);
	free(mpath);
	free(partial);
	free(final);
	mc_bk_unlock(lock);
	return rc;
}
