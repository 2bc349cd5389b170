/*
 * health.h - the health checks of `mercuryctl health` (PRODUCT.md 3.1).
 *
 * A check type is a row in a registry (name and run function); a check is
 * a [check "NAME"] section of that type, or one of the built-in defaults
 * (state, disk, memory) when the configuration names none. A run yields a
 * struct mc_health: one result per check and the run's status.
 */
#ifndef MC_HEALTH_H
#define MC_HEALTH_H

#include <jansson.h>
#include "config.h"
#include "mc.h"
#include "output.h"
#include "state.h"
#include "threshold.h"

/* Check status, in Nagios order. */
enum mc_status {
	MC_ST_OK = 0,
	MC_ST_WARNING = 1,
	MC_ST_CRITICAL = 2,
	MC_ST_UNKNOWN = 3,
};
const char *mc_status_name(int status);

/* The run's status: ok, degraded (exit 1), unavailable (exit 2), unknown
 * (exit 3: nothing failed, but something could not be evaluated). */
enum mc_run_status {
	MC_RUN_OK = 0,
	MC_RUN_DEGRADED = 1,
	MC_RUN_UNAVAILABLE = 2,
	MC_RUN_UNKNOWN = 3,
};
const char *mc_run_status_name(int status);

struct mc_check {
	char *name;
	const struct mc_check_type *type;
	const struct mc_conf_section *sec;	/* NULL for a built-in; read
						   type-specific keys from it */
	int critical;
	int64_t timeout_ms;
	struct mc_range warn, crit;		/* .set 0 where unused */
	char *path;				/* disk: the path */
};

struct mc_check_result {
	const struct mc_check *check;
	int status;
	double latency_ms;
	char *message;
	int has_value;
	double value;
	const char *unit;			/* perfdata unit: "%", "" */
	char *perfdata;				/* extra perfdata, passed on
						   as given (exec plugins) */
};

/* What a check may use while it runs. Checks run concurrently, each in a
 * thread of its own: a run function reads env and c, writes only r, and
 * must return within c->timeout_ms (a check that does not is abandoned and
 * reported as timed out). env->st is the main thread's connection: only
 * types flagged MC_CHECK_MAIN may use it. */
struct mc_health_env {
	struct mc_state *st;
	const struct mc_conf *conf;		/* [core] for defaults */
	const struct mc_deadline *dl;
	const char *correlation_id;		/* sent on HTTP probes */
};

#define MC_CHECK_MAIN	0x1	/* runs in the main thread (uses env->st) */
#define MC_CHECK_HTTP	0x2	/* runs on the shared HTTP client (libcurl
				   multi), not in a thread */

struct mc_check_type {
	const char *name;
	unsigned flags;
	void (*run)(const struct mc_check *c, const struct mc_health_env *env,
		    struct mc_check_result *r);
};

/* Sets r's status and message (printf-style; replaces an earlier one). */
void mc_check_set(struct mc_check_result *r, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Sets r's value (with its perfdata unit), its status against the check's
 * warn and crit ranges, and the message: "WHAT VALUE[UNIT] >= crit C" (or
 * "outside crit C", "inside crit C" for ranges) when alerting, else
 * "WHAT VALUE[UNIT]". */
void mc_check_value(struct mc_check_result *r, double value, const char *unit,
		    const char *what);

/* The status of a probe that took ms against the check's latency_warn and
 * latency_crit (unset: no threshold); when it is not ok, why gets the
 * reason, e.g. ">= latency_crit 100ms". One rule for every check type. */
int mc_check_latency(const struct mc_check *c, double ms, char *why,
		     size_t size);

/* The check types of lib/checks.c and lib/check_exec.c. */
extern const struct mc_check_type mc_check_tcp, mc_check_redis,
	mc_check_redis_queue, mc_check_sqlite, mc_check_exec;

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
void mc_health_free(struct mc_health *h);

/* Renderings into a report: JSON document, text table, exposition and the
 * Nagios line. */
void mc_health_report(const struct mc_health *h, const char *correlation_id,
		      struct mc_report *r);

#endif
