/*
 * state.h - the one SQLite file that keeps mercuryctl's memory between runs
 * (docs/DESIGN.md, "State"): runs, check history, breakers, buckets, and later the
 * alert, DLQ, backup and OAuth tables.
 *
 * Created 0600 in a 0700 directory; WAL; busy timeout; schema versioned by
 * PRAGMA user_version with forward migrations. A file newer than this binary
 * knows, or one that is not a SQLite database, is refused with
 * MC_EXIT_IOERR and never written to.
 */
#ifndef MC_STATE_H
#define MC_STATE_H

#include <stdint.h>
#include <sqlite3.h>
#include "mc.h"

struct mc_state;

/* The schema version this binary writes. */
int mc_state_schema_version(void);
/* --state, else $MERCURY_STATE, else $XDG_STATE_HOME/mercury/state.db, else
 * ~/.local/state/mercury/state.db. Caller frees. */
char *mc_state_default_path(void);

struct mc_state *mc_state_open(const char *path, struct mc_err *err);
/* As mc_state_open, with every wait for another process's lock (SQLite's
 * busy wait, at most 10 s) ending at the run's deadline dl (borrowed: it
 * must outlive the state), though never sooner than 0.25 s into the wait,
 * so that the run's own bookkeeping still gets a lock held for a moment. */
struct mc_state *mc_state_open_until(const char *path,
				     const struct mc_deadline *dl,
				     struct mc_err *err);
void mc_state_close(struct mc_state *st);
sqlite3 *mc_state_db(struct mc_state *st);
const char *mc_state_path(const struct mc_state *st);
/* The directory holding the file (lock files live in DIR/locks). */
const char *mc_state_dir(const struct mc_state *st);

/* Write transactions: BEGIN IMMEDIATE (waits on the busy timeout). */
int mc_state_begin(struct mc_state *st, struct mc_err *err);
int mc_state_commit(struct mc_state *st, struct mc_err *err);
void mc_state_rollback(struct mc_state *st);
int mc_state_exec(struct mc_state *st, const char *sql, struct mc_err *err);
/* Prepares sql on the connection; on failure *s is NULL and err says
 * "what: SQLite's message". */
int mc_state_prepare(struct mc_state *st, const char *sql, sqlite3_stmt **s,
		     const char *what, struct mc_err *err);
/* A copy of column i of the current row as text, NULL when NULL. */
char *mc_state_column_dup(sqlite3_stmt *s, int i);
/* Column i as text, "" when NULL (valid until the next step). */
const char *mc_state_column_text(sqlite3_stmt *s, int i);
/* Column i as a number, NaN when NULL. */
double mc_state_column_num(sqlite3_stmt *s, int i);
/* Column i as a number, dflt when NULL. */
double mc_state_column_or(sqlite3_stmt *s, int i, double dflt);
/* Binds v to parameter i, NULL when it is not finite (NaN: unknown). */
void mc_state_bind_num(sqlite3_stmt *s, int i, double v);
/* Binds a copy of v to parameter i, NULL when v is NULL. */
void mc_state_bind_text(sqlite3_stmt *s, int i, const char *v);
/* Steps s (prepared and bound) once and finalizes it: 0 when it ran to
 * its end, -1 with err (what) when it did not. The one way a statement
 * that writes is run. */
int mc_state_exec_stmt(struct mc_state *st, sqlite3_stmt *s,
		       const char *what, struct mc_err *err);
/* Steps s (prepared and bound) to its end and collects the rows into an
 * array of elements of size bytes: for each row the array grows by one
 * zeroed element, which row(s, element, ctx) fills. s is finalized. 0 with
 * *rows (NULL when none) and *n; -1 with err (what) when a step fails,
 * after release(element) on each element collected (release may be NULL)
 * and the array freed: *rows NULL, *n 0. The one loop that reads rows
 * into an array. */
int mc_state_collect(struct mc_state *st, sqlite3_stmt *s, size_t size,
		     void (*row)(sqlite3_stmt *s, void *element, void *ctx),
		     void *ctx, void (*release)(void *element), void **rows,
		     size_t *n, const char *what, struct mc_err *err);
/* The newest rows of a history, collected as mc_state_collect() does:
 * sql selects them newest first with ?1 the name they belong to (NULL:
 * any), ?2 the earliest time (0: any) and ?3 the most rows (limit <= 0:
 * all). The one way a history (runs, job runs, the alert log) is read. */
int mc_state_recent(struct mc_state *st, const char *sql, const char *name,
		    double since, int64_t limit, size_t size,
		    void (*row)(sqlite3_stmt *s, void *element, void *ctx),
		    void (*release)(void *element), void **rows, size_t *n,
		    const char *what, struct mc_err *err);
/* Fills err from the connection's last error; returns -1. */
int mc_state_sqlerr(struct mc_state *st, struct mc_err *err,
		    const char *what);

/* Runs: one row per invocation. args and correlation_id are stored as given
 * (the caller redacts). status: "running" until mc_state_run_end(). */
int mc_state_run_begin(struct mc_state *st, const char *command,
		       const char *args, const char *correlation_id,
		       double started, int64_t *run_id, struct mc_err *err);
/* status: ok, warning, critical, unknown, error, interrupted. */
int mc_state_run_end(struct mc_state *st, int64_t run_id, int exit_code,
		     const char *status, const char *message, double ended,
		     struct mc_err *err);

struct mc_run {
	int64_t id;
	char *command;
	char *args;
	char *correlation_id;
	char *status;
	char *message;
	double started;
	double ended;		/* 0 while running */
	int exit_code;		/* -1 while running */
	long pid;
};
/* Newest first. command may be NULL (all), or a command, whose
 * subcommands it takes too ("dlq": "dlq replay", "dlq purge", ...);
 * since 0 means no bound; limit 0 means no limit. */
int mc_state_runs(struct mc_state *st, const char *command, double since,
		  int limit, struct mc_run **out, size_t *n,
		  struct mc_err *err);
void mc_runs_free(struct mc_run *runs, size_t n);

/* Deletes runs and history older than before; returns rows removed. */
int mc_state_prune(struct mc_state *st, double before, int64_t *removed,
		   struct mc_err *err);

#endif
