/*
 * backup.h - `mercuryctl backup`: consistent, verified, compressed backups of
 * the state file, configured files and command output, with restore drills,
 * safe restore and restic-style pruning (mercuryctl-backup(1)).
 *
 * The backup directory is the truth: a backup is DIR/<id>/ with its
 * manifest.json, written under DIR/.partial-<id>/ and renamed into place
 * once every byte is on disk, so a crash never leaves anything that list
 * shows. list, verify, restore and prune read DIR alone; the state file's
 * catalogue (lib/backup_catalog.c) only remembers history for metrics and
 * the health check.
 *
 * Parts: backup_manifest.c (the manifest format), backup_stream.c (one
 * streaming pass: hashes and zstd), backup.c (create, list, directories),
 * backup_verify.c (verify, restore drill, restore), backup_prune.c (restic's
 * forget rules), backup_catalog.c (the state file's catalogue).
 */
#ifndef MC_BACKUP_H
#define MC_BACKUP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "mc.h"

#define MC_BK_FORMAT 1
#define MC_BK_MANIFEST "manifest.json"

enum mc_bk_kind {
	MC_BK_STATE,		/* the state database */
	MC_BK_FILE,		/* an include */
	MC_BK_SOURCE,		/* a backup_source's output */
};
const char *mc_bk_kind_name(int kind);

/* One stored file, as manifest.json describes it. */
struct mc_bk_file {
	char *path;		/* relative to the backup's directory */
	char *original;		/* absolute path it came from (state, file);
				   NULL for a source */
	char *source;		/* kind source: the backup_source's name */
	int kind;		/* enum mc_bk_kind */
	unsigned mode;		/* permission bits of the original */
	uint64_t size;		/* bytes of the original */
	uint64_t stored_size;	/* bytes on disk in the backup */
	int zstd;		/* compressed with zstd */
	int sqlite;		/* an SQLite database copied with the online
				   backup API (integrity_check on verify) */
	char sha256[65];	/* of the stored bytes */
	char sha256_original[65];
};

struct mc_bk_manifest {
	int format;
	char *id;
	double created;		/* Unix seconds */
	char *host;
	char *tool_version;
	char *note;		/* NULL: none */
	char *correlation_id;
	double duration;	/* seconds the create took */
	struct mc_bk_file *files;
	size_t n_files;
};

/* ---- manifest (backup_manifest.c) ---------------------------------------- */

/* A relative path that stays inside the backup: not empty, not absolute,
 * no "." or ".." component, no empty component, no control character. */
int mc_bk_path_safe(const char *rel);
/* An absolute path without "." or ".." components. */
int mc_bk_abs_path_safe(const char *path);
/* A backup id: YYYYMMDDTHHMMSSZ-xxxx (lowercase hex). */
int mc_bk_id_valid(const char *id);

/* Parses and checks a manifest: every member typed, paths safe, hashes
 * well-formed, and its checksum (the SHA-256 of the rest of the document)
 * right, so an edited manifest is caught. -1 with MC_EXIT_CRITICAL and the
 * reason otherwise. */
int mc_bk_manifest_parse(const char *text, size_t len,
			 struct mc_bk_manifest **out, struct mc_err *err);
/* The manifest as JSON text with its checksum. Caller frees. */
char *mc_bk_manifest_dump(const struct mc_bk_manifest *m);
/* Reads DIR/ID/manifest.json (refusing a symlink). */
int mc_bk_manifest_read(const char *dir, const char *id,
			struct mc_bk_manifest **out, struct mc_err *err);
void mc_bk_manifest_free(struct mc_bk_manifest *m);
/* Totals over the files. */
uint64_t mc_bk_manifest_size(const struct mc_bk_manifest *m);
uint64_t mc_bk_manifest_stored(const struct mc_bk_manifest *m);

/* ---- one streaming pass (backup_stream.c) --------------------------------- */

/* zstd's level where [backup] compress_level does not say: on databases
 * (the state file's check results) level 2 stores as small as 3 does, a
 * little smaller even, with about 40% less CPU; other files come out
 * 3-7% larger than at 3 (docs/BENCHMARKS.md, mercury.conf(5)). */
#define MC_BK_ZSTD_LEVEL 2

/* What long work reports and obeys: a progress callback (bytes of
 * originals done), the run's deadline and mc_interrupted. */
struct mc_bk_io {
	void (*progress)(void *ud, uint64_t done, uint64_t total);
	void *ud;
	uint64_t done, total;
	const struct mc_deadline *dl;	/* NULL: none */
	int level;			/* zstd level (0: MC_BK_ZSTD_LEVEL) */
	int threads;			/* zstd workers (0: one per core,
					   at most 4) */
};

struct mc_bk_sums {
	uint64_t size, stored;
	char sha256[65], sha256_original[65];
};

/* Reads in_fd to its end and writes it to out_fd, compressed with zstd
 * when zstd is set, hashing the original and the stored bytes in the same
 * pass. Names are for messages. Errors: reading or writing, 74 naming the
 * file (a full disk says so); deadline or signal, their codes. */
int mc_bk_store(int in_fd, const char *in_name, int out_fd,
		const char *out_name, int zstd, struct mc_bk_io *io,
		struct mc_bk_sums *sums, struct mc_err *err);
/* The same pass fed by the caller (a child's output as it comes):
 * new, add chunks, finish (sums filled), free. */
struct mc_bk_writer;
struct mc_bk_writer *mc_bk_writer_new(int out_fd, const char *out_name,
				      int zstd, struct mc_bk_io *io);
int mc_bk_writer_add(struct mc_bk_writer *w, const void *data, size_t len,
		     struct mc_err *err);
int mc_bk_writer_finish(struct mc_bk_writer *w, struct mc_bk_sums *sums,
			struct mc_err *err);
void mc_bk_writer_free(struct mc_bk_writer *w);
/* The reverse: reads a stored file, hashes it, decompresses it when zstd,
 * hashes the original and writes it to out_fd (-1: nowhere). A stored file
 * that does not decompress is MC_EXIT_CRITICAL ("corrupt compressed
 * data", "truncated"); I/O errors are 74. */
int mc_bk_load(int in_fd, const char *in_name, int out_fd,
	       const char *out_name, int zstd, struct mc_bk_io *io,
	       struct mc_bk_sums *sums, struct mc_err *err);
/* Hex SHA-256 of a small buffer (the manifest checksum). */
void mc_bk_sha256_hex(const void *p, size_t n, char out[65]);

/* ---- directories (backup.c) ----------------------------------------------- */

/* Removes path and everything below it, never following a symlink. */
int mc_bk_remove_tree(const char *path, struct mc_err *err);
/* Removes the backup DIR/ID: renamed out of the listing at once, then
 * removed (prune; the caller holds MC_BK_LOCK_PRUNE). */
int mc_bk_remove(const char *dir, const char *id, struct mc_err *err);
/* Refuses a backup directory owned by another user or writable by others,
 * and a missing one (74) unless create: then it is made (0700). Only
 * create makes DIR; list, verify, restore and prune find a missing DIR an
 * I/O error (a backup volume that is not mounted is no "no backups"). */
int mc_bk_dir_check(const char *dir, int create, struct mc_err *err);

/* The locks on a backup directory (flock(2) on files in DIR, which must
 * exist); a held lock is MC_EXIT_TEMPFAIL naming DIR and the holders'
 * pids, or is waited for wait_ms.
 *   MC_BK_LOCK_CREATE  DIR/.backup.lock, exclusive: one create or prune
 *                      at a time (a create adds a backup and removes only
 *                      stale partials, which no reader reads).
 *   MC_BK_LOCK_READ    DIR/.backup-readers.lock, shared: verify and
 *                      restore, which read backups over time, beside each
 *                      other and beside a create.
 *   MC_BK_LOCK_PRUNE   both, exclusive: backups are removed while no one
 *                      reads them. */
enum { MC_BK_LOCK_CREATE, MC_BK_LOCK_READ, MC_BK_LOCK_PRUNE };
struct mc_bk_lock;
struct mc_bk_lock *mc_bk_lock(const char *dir, int mode, int64_t wait_ms,
			      struct mc_err *err);
void mc_bk_unlock(struct mc_bk_lock *l);

/* One entry of a listing: a directory whose name is an id. m is NULL when
 * its manifest could not be read (damaged says why). */
struct mc_bk_entry {
	char *id;
	struct mc_bk_manifest *m;
	char *damaged;
};
/* The backups in DIR, newest first (by the manifest's created, the id for
 * a damaged one). A missing DIR is an I/O error (74, errno ENOENT); an
 * empty one an empty list. A backup removed while it is read is left out,
 * never listed as damaged. */
int mc_bk_list(const char *dir, struct mc_bk_entry **out, size_t *n,
	       struct mc_err *err);
void mc_bk_entries_free(struct mc_bk_entry *e, size_t n);
/* "latest" or an id: the entry, or -1 with MC_EXIT_USAGE. */
int mc_bk_find(const struct mc_bk_entry *e, size_t n, const char *id,
	       size_t *index, struct mc_err *err);

/* ---- create (backup.c) ---------------------------------------------------- */

struct mc_bk_source {
	const char *name;
	const char *command;	/* split like shell words, never a shell */
	const char *file;	/* the stored file's name */
	int64_t timeout_ms;
	const char *restore_command;	/* NULL: none */
};

struct mc_bk_create_opts {
	const char *dir;
	const char *state_path;		/* NULL or missing: not included */
	const char *const *includes;
	size_t n_includes;
	const char *const *excludes;
	size_t n_excludes;
	const struct mc_bk_source *sources;
	size_t n_sources;
	int zstd;
	const char *note;
	const char *correlation_id;
	int64_t lock_wait_ms;
	struct mc_bk_io io;
	double now;			/* 0: the wall clock */
	int removed_partials;		/* out: stale partials removed */
	int copies_on_disk;		/* out: databases that could not be
					   streamed and went through a copy
					   on disk (lib/backup_sink.c) */
};

/* Takes the lock on DIR (75 when held), removes stale partials, writes a
 * new backup and renames it into place. On failure nothing is listed and
 * the partial directory is gone. */
int mc_bk_create(struct mc_bk_create_opts *o, struct mc_bk_manifest **out,
		 struct mc_err *err);

/* ---- verify and restore (backup_verify.c) ---------------------------------- */

struct mc_bk_verify_result {
	int ok;
	char *bad_file;		/* first bad file, NULL when ok */
	char *reason;
	double restore_seconds;	/* --restore-test: time to restore */
};
void mc_bk_verify_result_release(struct mc_bk_verify_result *r);

/* Checks DIR/ID against its manifest: every stored file's size and hash,
 * its decompressed hash, PRAGMA integrity_check of database copies. 0 with
 * r->ok set either way; -1 only when it could not check (I/O, signal).
 * restore_test: also restores into a fresh temporary directory, opens the
 * state copy as mercuryctl would, checks every file and times it. */
int mc_bk_verify(const char *dir, const char *id, int restore_test,
		 struct mc_bk_io *io, struct mc_bk_verify_result *r,
		 struct mc_err *err);

struct mc_bk_restore_opts {
	const char *dir;
	const char *id;
	const char *to;			/* NULL: the original places */
	const char *const *only;	/* paths (original or stored) */
	size_t n_only;
	const char *state_path;		/* the live state database */
	const struct mc_bk_source *sources;
	size_t n_sources;
	const char *before;		/* hooks, NULL: none */
	const char *after;
	int64_t hook_timeout_ms;
	struct mc_bk_io io;
};

struct mc_bk_restore_result {
	char **replaced;	/* targets written */
	size_t n_replaced;
	char **kept;		/* .pre-restore copies made */
	size_t n_kept;
	char **not_replaced;	/* targets not reached */
	size_t n_not_replaced;
	int verified_bad;	/* refused: the backup failed verify */
};
void mc_bk_restore_result_release(struct mc_bk_restore_result *r);

/* Verifies, runs the before hook, puts each file back atomically keeping
 * the replaced one as <file>.pre-restore-<id>, replaces a live database
 * through the backup API, feeds sources to their restore_command, runs the
 * after hook. On a failure or a signal between files the result names what
 * was and was not replaced. */
int mc_bk_restore(const struct mc_bk_restore_opts *o,
		  struct mc_bk_restore_result *r, struct mc_err *err);

/* Copies the SQLite database src into the new file dst (created 0600)
 * with the online backup API, in one read transaction so writers go on. */
int mc_bk_sqlite_copy(const char *src, const char *dst, struct mc_bk_io *io,
		      struct mc_err *err);
/* PRAGMA integrity_check on path, read-only; 0 with *why NULL when "ok",
 * else *why (caller frees) says what it found. */
int mc_bk_sqlite_check(const char *path, char **why, struct mc_err *err);
/* 1 when the file at fd starts with the SQLite header. */
int mc_bk_is_sqlite(int fd);

/* ---- prune (backup_prune.c) ----------------------------------------------- */

struct mc_bk_policy {
	int last, hourly, daily, weekly, monthly;	/* 0: unset */
	int64_t within_ms;				/* 0: unset */
};
int mc_bk_policy_empty(const struct mc_bk_policy *p);

/* Why a backup is kept: bits of these, 0 for one to remove. */
#define MC_BK_KEEP_LAST		0x01
#define MC_BK_KEEP_HOURLY	0x02
#define MC_BK_KEEP_DAILY	0x04
#define MC_BK_KEEP_WEEKLY	0x08
#define MC_BK_KEEP_MONTHLY	0x10
#define MC_BK_KEEP_WITHIN	0x20
#define MC_BK_KEEP_NEWEST	0x40	/* the newest is always kept */
#define MC_BK_KEEP_DAMAGED	0x80	/* no readable time: never removed */

/* restic's forget rules over times[0..n) (Unix seconds, newest first),
 * calendar buckets in local time (TZ): keep[i] gets the reasons. */
void mc_bk_forget(const double *times, size_t n,
		  const struct mc_bk_policy *p, unsigned *keep);
/* "last,daily" for the bits. */
void mc_bk_keep_reasons(unsigned keep, char *buf, size_t size);

/* ---- configuration (backup_config.c) -------------------------------------- */

struct mc_conf_schema;
/* [backup] and [backup_source "NAME"], listed in mc_conf_schemas[]. */
extern const struct mc_conf_schema mc_backup_schema, mc_backup_source_schema;

/* ---- the state file's catalogue (backup_catalog.c) ------------------------- */

struct mc_state;

/* What the state file remembers of a backup (history, metrics, the health
 * check); zero when it knows nothing. */
struct mc_bk_cat {
	int known;
	double verified;		/* 0: never */
	int verify_ok;
	char *verify_message;
	double restore_tested;		/* 0: never */
	int restore_test_ok;
	double restore_test_seconds;
};
void mc_bk_cat_release(struct mc_bk_cat *c);

/* Records a backup (created, or first seen by verify on a new machine). */
int mc_bk_catalog_add(struct mc_state *st, const struct mc_bk_manifest *m,
		      const char *dir, int64_t run_id, struct mc_err *err);
/* Records a verify (restore_test: the drill too). */
int mc_bk_catalog_verified(struct mc_state *st,
			   const struct mc_bk_manifest *m, const char *dir,
			   const struct mc_bk_verify_result *r,
			   int restore_test, struct mc_err *err);
int mc_bk_catalog_removed(struct mc_state *st, const char *id,
			  struct mc_err *err);
int mc_bk_catalog_get(struct mc_state *st, const char *id,
		      struct mc_bk_cat *out, struct mc_err *err);
/* The `backup` health check: 0 (ok), 2 (no backup, the newest older than
 * max_age_ms, damaged, or failed its last verify; DIR missing) or 3 (DIR
 * unreadable),
 * with *msg (caller frees) saying which and *age the newest's age in
 * seconds (-1 when none). st may be NULL (no verify history). */
int mc_bk_health(struct mc_state *st, const char *dir, int64_t max_age_ms,
		 double now, double *age, char **msg);
/* The directories the catalogue knows backups in that it has not seen
 * removed, sorted, each once: an array of *n strings (caller frees each
 * and the array). */
int mc_bk_catalog_dirs(struct mc_state *st, char ***out, size_t *n,
		       struct mc_err *err);
/* The newest restore drill's duration in dir, -1 when none. */
double mc_bk_catalog_last_drill(struct mc_state *st, const char *dir);

#endif
