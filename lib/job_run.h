/*
 * job_run.h - `job run`: overlap lock, the start recorded before the
 * command starts, the command run through the process runner (lib/proc.h)
 * with its output passed through and its tail kept, the end recorded, and
 * the failure alert and its resolve.
 */
#ifndef MC_JOB_RUN_H
#define MC_JOB_RUN_H

#include "alert.h"
#include "config.h"
#include "coord.h"
#include "http.h"
#include "job.h"
#include "output.h"
#include "resil.h"
#include "state.h"

struct mc_job_runner {
	/* given */
	const struct mc_conf *conf;
	struct mc_state *st;
	const char *name;
	char **argv;			/* NULL: the configured command */
	const char *correlation_id;
	int64_t run_id;
	const char *wait_lock;		/* --wait-lock, NULL: none */
	const struct mc_deadline *dl;	/* the run's deadline (may be none) */
	struct mc_http *http;		/* for notify */
	struct mc_coord *coord;		/* the overlap lock's (coord.h): with
					   [fleet] one run fleet-wide; NULL:
					   beside the state file */
	int stdout_to_stderr;		/* the job's stdout goes to our
					   stderr: stdout holds a machine
					   format's one rendering (-o json,
					   prom, nagios) */
	/* filled */
	struct mc_job_def def;
	struct mc_coord *own_coord;	/* when coord was NULL */
	struct mc_coord_lock *lock;
	int64_t job_run_id;
	int ran;			/* the command was started */
	int ok;				/* it succeeded */
	int needs_http;			/* notify has something to deliver */
	int alert_action;		/* MC_ACT_TRIGGER or MC_ACT_RESOLVE */
	char *how;			/* "exit 3", "timed out", ... */
	int output_gone;		/* the reader of our stdout or stderr
					   went away (| head): the job's own
					   pipe was closed, as in a pipeline */
	double duration_s;
};

/* Runs the job and records it; fills r (text stays empty: stdout is the
 * job's, or with stdout_to_stderr our stderr is). Returns the exit code of job run (the command's status, 124 on
 * timeout, 128+N for signal N), or -1 with err (75 for overlap skip). */
int mc_job_runner_run(struct mc_job_runner *jr, struct mc_report *r,
		      struct mc_err *err);
/* With jr->http set: delivers the alert decided by the run (needs_http). */
void mc_job_runner_notify(struct mc_job_runner *jr, struct mc_report *r);
void mc_job_runner_release(struct mc_job_runner *jr);

/* The output pump on its own (tests and job run): passes what the two
 * pipes in[] carry to out[] unchanged and keeps the last keep bytes of
 * both in arrival order. */
struct mc_job_tail {
	unsigned char *buf;
	size_t len;		/* bytes held (at most keep at the end) */
	size_t cap;
	size_t keep;
	int64_t total;		/* bytes seen */
};
void mc_job_tail_init(struct mc_job_tail *t, size_t keep);
void mc_job_tail_add(struct mc_job_tail *t, const void *p, size_t n);
/* The kept bytes: the last min(len, keep). */
const unsigned char *mc_job_tail_data(const struct mc_job_tail *t,
				      size_t *len);
void mc_job_tail_free(struct mc_job_tail *t);

/* The name before git's rule (docs/DESIGN.md), for code written before it. */

#endif
