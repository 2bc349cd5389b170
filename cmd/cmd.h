/*
 * cmd.h - what the command fronts share: the run context main() prepares
 * from each command's `needs`, and the command table.
 *
 * A command's run() fills ctx->report and returns its exit code (0-3), or
 * -1 with ctx->err filled; main() prints, records and exits.
 */
#ifndef MC_CMD_H
#define MC_CMD_H

#include "cli.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "mc.h"
#include "output.h"
#include "resil.h"
#include "state.h"

struct mc_coord;
struct mc_coord_lock;

struct mc_ctx {
	const struct mc_args *args;
	char *command;			/* "health", "breaker reset" */
	char *correlation_id;
	struct mc_conf *conf;		/* MC_NEED_CONFIG */
	struct mc_state *st;		/* MC_NEED_STATE */
	int64_t run_id;
	struct mc_deadline dl;
	int format;			/* enum mc_format */
	int quiet;
	int verbose;
	int color;
	struct mc_report report;
	struct mc_err err;
	struct mc_http *http;		/* made on first use */
	struct mc_lock *lock;		/* released by main() */
	struct mc_coord *coord;		/* with MC_NEED_STATE: dedup, breakers,
					   buckets and locks, in the state file
					   or the fleet (coord.h) */
	int64_t timeout_ms;		/* --timeout / [core] timeout */
	int printed;			/* the command printed its output */
	int interrupt_is_exit;		/* a signal is the normal end (watch):
					   keep the command's exit code */
	int (*keep_conf)(void);		/* set by a command whose threads may
					   outlive its run and still read
					   conf: nonzero leaves conf to the
					   process exit */
};

/* The shared HTTP client (correlation id set), made on first use. */
struct mc_http *mc_ctx_http(struct mc_ctx *ctx);
/* --wait-lock, in ms (0 when not given); -1 with ctx->err on a bad one. */
int mc_ctx_wait_lock_ms(struct mc_ctx *ctx, int64_t *wait_ms);
/* Takes the advisory lock NAME for this run, honouring --wait-lock;
 * main() releases it. */
int mc_ctx_lock(struct mc_ctx *ctx, const char *name);
/* Takes the coordinator's lock NAME (coord.h: fleet-wide with [fleet]),
 * honouring --wait-lock; the caller releases it with
 * mc_coord_lock_release. */
int mc_ctx_coord_lock(struct mc_ctx *ctx, const char *name, int flags,
		      struct mc_coord_lock **out);
/* The metric families of a top-level command that several of its
 * subcommands report (docs/DESIGN.md, "Streams and output"). With
 * --textfile-dir a family is written to exactly one file, so that
 * node_exporter never sees a series in two:
 * - run_of NULL: shared state (the backup catalogue, job status, tokens),
 *   never in a run file; every subcommand rewrites DIR/mercuryctl_TOP.prom
 *   with view(), the complete current view of every entity;
 * - run_of a command ("dlq stats"): measured over the network, so no
 *   complete view is cheap; only that command's run file carries it.
 * A family no table names belongs to the one command path that reports
 * it, in that run's file. Stdout (-o prom) and the Pushgateway (grouped
 * by command) keep the run's own exposition. */
struct mc_metric_family {
	const char *name;	/* a family (its samples' name) */
	const char *run_of;
};
struct mc_metric_owner {
	const struct mc_metric_family *families;	/* ends with { NULL } */
	/* Appends the owned families (run_of NULL) for every entity the
	 * configuration, state file and local directories know - nothing
	 * over the network: 0; 1 when it cannot tell here (no state file
	 * open), and the file is left as it is; -1 with err filled. */
	int (*view)(struct mc_ctx *ctx, struct mc_buf *out, struct mc_err *err);
};

/* Writes r's exposition to --textfile-dir (the run's file and, for a
 * command whose top-level command owns metric families, that command's
 * file) and pushes it to --pushgateway when they are given; all are
 * tried, the first failure fills err. */
int mc_publish_metrics(struct mc_ctx *ctx, const struct mc_report *r,
		       struct mc_err *err);
/* Starts a fresh run deadline of ctx->timeout_ms (for --watch, where
 * --timeout bounds each run). */
void mc_ctx_rearm_deadline(struct mc_ctx *ctx);
/* The start of the span --since DURATION asks for (default_ms when not
 * given), back from now; 0 when it is 0 (everything kept). */
double mc_ctx_since(const struct mc_ctx *ctx, int64_t default_ms, double now);
/* The [core] breaker settings. */
void mc_ctx_breaker_conf(const struct mc_ctx *ctx, struct mc_breaker_conf *bc);
/* Asks the question (printf format) on the terminal, /dev/tty, followed
 * by " [y/N] ": 1 when the answer starts with y or Y, 0 for any other
 * answer, none, or no terminal. The caller decides first whether it may
 * ask (--yes not given, stdin a terminal). */
int mc_ctx_confirm(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* 1 when a progress bar may be drawn: stderr is a terminal and --quiet is
 * not given. */
int mc_ctx_bar_wanted(const struct mc_ctx *ctx);
/* Draws the progress bar on stderr, over the previous one:
 * "\r[#####-----] " (done of total, 30 cells) and then the tail (printf
 * format). */
void mc_ctx_bar_draw(uint64_t done, uint64_t total, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The table: the root (global options) and its commands. */
extern const struct mc_cmd mc_cmd_root;
extern const struct mc_cmd mc_cmd_health, mc_cmd_health_history,
	mc_cmd_config, mc_cmd_breaker, mc_cmd_dlq, mc_cmd_alert, mc_cmd_slo,
	mc_cmd_history, mc_cmd_completion, mc_cmd_version, mc_cmd_oauth,
	mc_cmd_fleet, mc_cmd_backup, mc_cmd_job;

/* The annotated example configuration `config init` prints. */
extern const char mc_config_example[];

/* The EXIT STATUS, ENVIRONMENT and FILES sections every man page shares. */
extern const char mc_man_exit_status[];
extern const char mc_man_environment[];

#endif
