/*
 * backup_int.h - what the parts of lib/backup*.c share and nobody else
 * needs: careful file creation and the child processes (sources, restore
 * commands, hooks).
 */
#ifndef MC_BACKUP_INT_H
#define MC_BACKUP_INT_H

#include "backup.h"

/* A new file, 0600, O_EXCL and O_NOFOLLOW; -1 with err naming it. */
int mc_bk_open_new(const char *path, struct mc_err *err);
/* fsync and close, each failure naming the file. Closes fd always. */
int mc_bk_finish_file(int fd, const char *path, struct mc_err *err);
int mc_bk_fsync_path(const char *path, int dir, struct mc_err *err);
/* Starts (does not wait for) writeback of bytes [from, to) of fd. */
void mc_bk_writeback(int fd, uint64_t from, uint64_t to);

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
