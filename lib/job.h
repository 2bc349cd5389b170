/*
 * job.h - a cron job's keeper (`mercuryctl job`, mercuryctl-job(1)): the
 * [job "NAME"] section, the runs recorded in the state file, and the
 * verdict on each job - ok, running (flagged past its timeout), failed,
 * or overdue (an expected start passed more than `grace` ago without a
 * start).
 */
#ifndef MC_JOB_H
#define MC_JOB_H

#include <stddef.h>
#include <stdint.h>
#include "config.h"
#include "cron.h"
#include "mc.h"
#include "output.h"
#include "state.h"

enum mc_job_overlap {
	MC_JOB_SKIP,
	MC_JOB_WAIT,
	MC_JOB_ALLOW,
};

/* The [job "NAME"] schema (listed in mc_conf_schemas). */
extern const struct mc_conf_schema mc_job_schema;

struct mc_job_def {
	char *name;
	char **argv;		/* the command, NULL when not configured */
	char *schedule;		/* as written, NULL: none */
	struct mc_cron *cron;
	int64_t every_ms;	/* 0: none */
	int64_t grace_ms;
	int64_t timeout_ms;	/* 0: none */
	int overlap;		/* enum mc_job_overlap */
	int notify;		/* 0: no, 1: every webhook, 2: those named */
	char **notify_names;	/* NULL-terminated when notify == 2 */
	int64_t kill_grace_ms;
	uint64_t keep_output;
	int *success_codes;
	size_t n_success;
	int configured;		/* 0: a job known only by its name */
};

/* The job's definition from its section; -1 with *key the key to blame
 * and the reason in why. */
int mc_job_def_from_section(const struct mc_conf_section *s,
			    struct mc_job_def *d, const char **key, char *why,
			    size_t size);
/* A job without a section: the defaults, no command, no schedule. */
void mc_job_def_default(const char *name, struct mc_job_def *d);
void mc_job_def_release(struct mc_job_def *d);
int mc_job_success_code(const struct mc_job_def *d, int code);
/* The configured jobs (names: NULL/0 for all; a name the configuration
 * lacks is MC_EXIT_USAGE with a suggestion). */
int mc_job_select(const struct mc_conf *conf, const char *const *names,
		  size_t n_names, struct mc_job_def **out, size_t *n,
		  struct mc_err *err);
void mc_job_defs_free(struct mc_job_def *d, size_t n);
/* As mc_job_select, but a name the configuration lacks is also a job when
 * the state file holds runs of it (one run only by name, with its command
 * after --): it comes last, as mc_job_def_default() makes it. A name
 * neither knows is MC_EXIT_USAGE with a suggestion. */
int mc_job_select_known(const struct mc_conf *conf, struct mc_state *st,
			const char *const *names, size_t n_names,
			struct mc_job_def **out, size_t *n,
			struct mc_err *err);

/* Every job: the configured ones, then those known only by their recorded
 * runs (as mc_job_def_default() makes them), by name - what job list
 * shows when each is named. */
int mc_job_select_all(const struct mc_conf *conf, struct mc_state *st,
		      struct mc_job_def **out, size_t *n, struct mc_err *err);

/* ---- recorded runs ------------------------------------------------------ */

struct mc_job_run {
	int64_t id;
	char *job;
	double started;
	double ended;		/* 0 while running */
	char *status;		/* running ok failed timeout interrupted
				   skipped lost */
	int exit_code;		/* -1: none (running, signalled, skipped) */
	int signal;		/* the signal that ended it, 0: none */
	long pid;		/* mercuryctl's pid while it runs */
	char *host;
	char *command;		/* argv joined, secrets masked */
	char *message;
	char *correlation_id;
	unsigned char *output;	/* the kept tail (raw bytes), may be NULL */
	size_t output_len;
	int64_t output_total;	/* bytes the command wrote in all */
};

struct mc_job_rec {
	const char *job;
	const char *command;
	const char *correlation_id;
	double at;
};
/* Records a start ("running", with this process's pid and host) and
 * commits it, so another process sees it at once. */
int mc_job_run_begin(struct mc_state *st, const struct mc_job_rec *rec,
		     int64_t *id, struct mc_err *err);
/* Records how run id ended. */
int mc_job_run_end(struct mc_state *st, int64_t id, const char *status,
		   int exit_code, int signal, double ended,
		   const void *output, size_t output_len, int64_t output_total,
		   const char *message, struct mc_err *err);
/* Records a run that did not start (overlap): status "skipped". */
int mc_job_run_skipped(struct mc_state *st, const struct mc_job_rec *rec,
		       const char *message, int64_t *id, struct mc_err *err);
/* Runs of job, newest first (since 0: all; limit 0: all); without their
 * output. */
int mc_job_runs(struct mc_state *st, const char *job, double since, int limit,
		struct mc_job_run **out, size_t *n, struct mc_err *err);
/* One run with its output: id, or (id 0) the newest that ended. 1 when
 * found, 0 when not. */
int mc_job_run_get(struct mc_state *st, const char *job, int64_t id,
		   struct mc_job_run *out, struct mc_err *err);
void mc_job_run_release(struct mc_job_run *r);
/* A run as JSON, as job list and job history show it: times in RFC 3339,
 * null for what is not known (yet). */
json_t *mc_job_run_json(const struct mc_job_run *r);
void mc_job_runs_free(struct mc_job_run *r, size_t n);

/* ---- verdicts ----------------------------------------------------------- */

enum mc_job_verdict {
	MC_JOB_OK,		/* last run ok, or none expected yet */
	MC_JOB_RUNNING,		/* running within its timeout */
	MC_JOB_FAILED,		/* the last run did not succeed */
	MC_JOB_OVERDUE,		/* an expected start was missed */
	MC_JOB_LATE,		/* running past its timeout */
};
const char *mc_job_verdict_name(int v);

struct mc_job_status {
	const struct mc_job_def *def;
	int verdict;
	int status;		/* enum mc_status: ok, warning, critical */
	struct mc_job_run last;	/* .id 0: none */
	struct mc_job_run running;	/* .id 0: none */
	double last_success;	/* 0: none */
	double missed;		/* the expected start missed, 0: none */
	double next;		/* the next expected start, 0: none */
	char *message;
};

/* The verdict on def at now (wall clock); notes the job as seen, which
 * anchors its first expected start. */
int mc_job_evaluate(struct mc_state *st, const struct mc_job_def *def,
		    double now, struct mc_job_status *out, struct mc_err *err);
void mc_job_status_release(struct mc_job_status *s);

/* `job list`: the table, the JSON document, the job metrics and the exit
 * code (0/1/2 by the worst). */
int mc_job_list_report(const struct mc_job_status *s, size_t n, double now,
		       struct mc_report *r);
/* Adds the metrics of one job to prom. */
void mc_job_metrics(const struct mc_job_status *s, struct mc_buf *prom);
/* The metrics of every job (mc_job_select_all) at now, judged in one
 * transaction (noting each as seen is one commit, not one per job). */
int mc_job_metrics_all(const struct mc_conf *conf, struct mc_state *st,
		       double now, struct mc_buf *prom, struct mc_err *err);

#endif
