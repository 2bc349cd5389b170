/*
 * backup_int.h - what the parts of lib/backup*.c share and nobody else
 * needs: careful file creation and the child processes (sources, restore
 * commands, hooks).
 */
#ifndef MC_BACKUP_INT_H
#define MC_BACKUP_INT_H

#include "backup.h"

#include <pthread.h>
#include <sqlite3.h>

/* A new file, 0600, O_EXCL and O_NOFOLLOW; -1 with err naming it. */
int mc_bk_open_new(const char *path, struct mc_err *err);
/* fsync and close, each failure naming the file. Closes fd always. */
int mc_bk_finish_file(int fd, const char *path, struct mc_err *err);
int mc_bk_fsync_path(const char *path, int dir, struct mc_err *err);
/* Starts (does not wait for) writeback of bytes [from, to) of fd. */
void mc_bk_writeback(int fd, uint64_t from, uint64_t to);

/* How long a connection of this run may wait on another's lock: 10 s,
 * or what is left of io's deadline (--timeout) when that is less. */
int mc_bk_busy_ms(const struct mc_bk_io *io);
/* The source of a copy: src opened read-only inside one read
 * transaction (a consistent snapshot while others write); a lock held
 * by another is waited for mc_bk_busy_ms(io) at most. */
int mc_bk_sqlite_source(const char *src, const struct mc_bk_io *io,
			sqlite3 **out, struct mc_err *err);
/* Ends the transaction and closes; NULL is fine. */
void mc_bk_sqlite_source_end(sqlite3 *s);
/* The online backup of s into d, step by step, stopping on a signal or
 * the deadline (io may be NULL); count: add the pages done to io's
 * progress. src and dst name the two in messages. */
int mc_bk_sqlite_steps(sqlite3 *s, sqlite3 *d, const char *src,
		       const char *dst, struct mc_bk_io *io, int count,
		       struct mc_err *err);
/* The online backup of src streamed into w with no copy on disk
 * (lib/backup_sink.c). *stale set (and -1) when this pass could not be
 * the copy: the caller truncates the output and copies through a file. */
int mc_bk_sqlite_stream(const char *src, struct mc_bk_writer *w,
			struct mc_bk_io *io, int *stale, struct mc_err *err);

/* A one-file VFS of our own (lib/backup_sink.c),
 * registered (not as the default) under "mercury-bk-KIND-<app>": files
 * open with xopen, the rest asks the default VFS or does nothing. */
struct mc_bk_vfs {
	sqlite3_vfs vfs;
	char name[64];
};
void mc_bk_vfs_init(struct mc_bk_vfs *v, const char *kind, void *app,
		    int file_size,
		    int (*xopen)(sqlite3_vfs *, const char *, sqlite3_file *,
				 int, int *));
/* File methods with nothing to do: no sync, no locks, no controls. */
int mc_bk_vf_sync(sqlite3_file *f, int flags);
int mc_bk_vf_lock(sqlite3_file *f, int level);
int mc_bk_vf_reserved(sqlite3_file *f, int *out);
int mc_bk_vf_control(sqlite3_file *f, int op, void *arg);

/* Starts fn(arg) on a new thread with every signal blocked (they stay
 * with the main thread, which checks mc_interrupted). */
void mc_bk_thread_start(pthread_t *t, void *(*fn)(void *), void *arg);
/* mc_bk_load of a compressed file into out_fd, decompressing on this
 * thread while another writes (the two halves of the work on two cores),
 * without the hashes: sums->sha256 and sha256_original stay empty, for
 * the caller to take on a third thread (lib/backup_verify.c). */
int mc_bk_unpack(int in_fd, const char *in_name, int out_fd,
		 const char *out_name, struct mc_bk_io *io,
		 struct mc_bk_sums *sums, struct mc_err *err);

/* "file:PATH?immutable=1": a database copy opened read-only leaves no
 * -wal or -shm beside it. Caller frees. */
char *mc_bk_immutable_uri(const char *path);

/* Runs the source's command and streams its stdout into the new file
 * out_path; a command that fails, prints nothing or overruns its timeout
 * (its whole process tree killed) is MC_EXIT_CRITICAL. */
int mc_bk_source_store(const struct mc_bk_source *s, int zstd,
		       const char *out_path, struct mc_bk_io *io,
		       struct mc_bk_file *f, struct mc_err *err);
/* Runs command (shell words, no shell) with the stored file stored_path
 * (decompressed on the way) on its stdin; checks the original hash. */
int mc_bk_source_feed(const char *command, const char *what,
		      const struct mc_bk_file *f, const char *stored_path,
		      int64_t timeout_ms, struct mc_bk_io *io,
		      struct mc_err *err);
/* Runs a hook (before_restore, after_restore); non-zero exit fails. */
int mc_bk_hook_run(const char *name, const char *command, int64_t timeout_ms,
		   const struct mc_deadline *dl, struct mc_err *err);

#endif
