/*
 * health.h - the engine of `mercuryctl health` (mercuryctl-health(1)).
 *
 * A check is a [check "NAME"] section of one of the types in the registry
 * (check.h), or one of the built-in defaults (state, disk, memory) when the
 * configuration names none. The engine selects the checks, runs them
 * concurrently and records them (lib/health.c); a run yields a struct
 * mc_health: one result per check and the run's status, which
 * lib/health_report.c renders.
 */
#ifndef MC_HEALTH_H
#define MC_HEALTH_H

#include "check.h"
#include "config.h"
#include "mc.h"
#include "output.h"
#include "state.h"

/* The run's status: ok, degraded (exit 1), unavailable (exit 2), unknown
 * (exit 3: nothing failed, but something could not be evaluated). */
enum mc_run_status {
	MC_RUN_OK = 0,
	MC_RUN_DEGRADED = 1,
	MC_RUN_UNAVAILABLE = 2,
	MC_RUN_UNKNOWN = 3,
};
const char *mc_run_status_name(int status);
const char *mc_run_status_word(int status);	/* in capitals: "DEGRADED" */

struct mc_health {
	struct mc_check *checks;
	struct mc_check_result *results;
	size_t n;
	int status;		/* enum mc_run_status */
	double started;		/* wall clock */
	double duration_ms;
};

/* Selects the checks (names: NULL/0 for all; an unknown name is
 * MC_EXIT_USAGE with a suggestion; critical_only keeps critical ones). */
int mc_health_select(const struct mc_conf *conf, struct mc_state *st,
		     const char *const *names, size_t n_names,
		     int critical_only, struct mc_health *out,
		     struct mc_err *err);
/* Runs the selected checks concurrently and sets the run status: each
 * check in a thread of its own, HTTP-based ones together on one libcurl
 * multi handle, so a run takes about as long as its slowest check. A check
 * still running at its timeout (plus a short grace) is reported as timed
 * out and abandoned. */
void mc_health_run(struct mc_health *h, const struct mc_health_env *env);
/* Worker threads abandoned by mc_health_run() that have not ended yet.
 * They may still read the configuration: while this is non-zero, the
 * caller must not free it (the process is about to exit anyway). */
int mc_health_abandoned(void);
/* Appends the results to the state file under run_id. */
int mc_health_record(struct mc_state *st, int64_t run_id,
		     const struct mc_health *h, struct mc_err *err);
void mc_health_release(struct mc_health *h);

/* Renderings into a report: JSON document, text table, exposition and the
 * Nagios line. */
void mc_health_report(const struct mc_health *h, const char *correlation_id,
		      struct mc_report *r);

#endif
