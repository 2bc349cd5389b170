/*
 * check.h - what a check type is made of, and what its code may use.
 *
 * A check type is data: a struct mc_check_type naming the type, the keys a
 * [check "NAME"] section of that type takes (with their types, defaults
 * and help), which of them it cannot do without, its validation across
 * keys, and its run function. The registry (lib/check_types.c) lists every
 * type; the configuration schema of [check] sections, mercury.conf(5) and
 * `config show` are made from it. A new check type is one new file that
 * defines its struct mc_check_type, and one line in the registry
 * (docs/DESIGN.md, "How to add a check type").
 */
#ifndef MC_CHECK_H
#define MC_CHECK_H

#include "config.h"
#include "http.h"
#include "mc.h"
#include "output.h"
#include "state.h"
#include "threshold.h"

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
	const char *value_name;			/* the value's perfdata label
						   after "NAME_" (NULL: the
						   check's name alone) */
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

/* Type flags. */
#define MC_CHECK_MAIN	0x1	/* runs in the main thread (uses env->st) */
#define MC_CHECK_HTTP	0x2	/* runs on the shared HTTP client (libcurl
				   multi), not in a thread: http_prepare and
				   http_evaluate instead of run */
#define MC_CHECK_DEFAULT 0x4	/* one of the checks that serve when the
				   configuration names none, named after
				   its type */
#define MC_CHECK_DEFAULT_CRITICAL 0x8	/* as such a default, critical */
#define MC_CHECK_BREAKER 0x10	/* probes a target over the network: the
				   check has a circuit breaker ("check:NAME",
				   breaker_failures, breaker_recovery); while
				   it is open the target is not probed */

struct mc_check_type {
	const char *name;
	unsigned flags;
	/* Runs one check: reads c (c->sec for its keys) and env, writes r. */
	void (*run)(const struct mc_check *c, const struct mc_health_env *env,
		    struct mc_check_result *r);
	/* The keys a [check] section of this type takes besides the common
	 * ones (type, timeout, critical, ...), ending with { NULL }; NULL:
	 * none. MC_CK_REQUIRED marks those the type cannot do without (a
	 * section without one is refused: "a check of type 'T' needs 'K'").
	 * Leave .types NULL: the registry fills it. Keys named warn and crit
	 * (MC_CT_THRESHOLD) become c->warn and c->crit, their defaults
	 * included, also for a built-in default check. */
	const struct mc_conf_key *keys;
	/* Rules across this type's keys, run when the section is complete
	 * (required keys present, defaults applied); as
	 * mc_conf_schema.validate. NULL: none. */
	int (*validate)(const struct mc_conf_section *s, const char **key,
			char *why, size_t size);
	/* Fills c's type-specific fields once the common ones are set
	 * (c->sec is NULL for a built-in default). NULL: nothing to do. */
	void (*setup)(struct mc_check *c, struct mc_state *st);
	/* MC_CHECK_HTTP: fills the request (url, malloc'd and freed by the
	 * engine; the engine sets the timeout and a single attempt), then
	 * judges its answer (done == 0: none came). prepare returns 0 to
	 * probe, or the status to report with why instead when the check
	 * cannot be probed in this run (a credential file it cannot read:
	 * MC_ST_UNKNOWN; an oauth provider that gives no token:
	 * MC_ST_CRITICAL): that check alone. http_release, when set, frees
	 * what prepare put in q (q->user); without it the engine frees
	 * q->headers (array and strings) and q->user. */
	int (*http_prepare)(const struct mc_check *c,
			    const struct mc_health_env *env,
			    struct mc_http_req *q, char *why, size_t size);
	void (*http_evaluate)(const struct mc_check *c,
			      const struct mc_http_req *q,
			      struct mc_check_result *r);
	void (*http_release)(struct mc_http_req *q);
};

/* ---- the registry (lib/check_types.c) ------------------------------------ */

/* Every check type, ending with NULL. */
extern const struct mc_check_type *const mc_check_types[];
/* The type called name; NULL when there is none. */
const struct mc_check_type *mc_check_type_find(const char *name);
/* The [check "NAME"] section's schema, made from the registry. */
extern const struct mc_conf_schema mc_check_schema;

/* The types. */
extern const struct mc_check_type mc_check_state, mc_check_disk,
	mc_check_memory, mc_check_http, mc_check_prometheus, mc_check_tcp,
	mc_check_redis, mc_check_redis_queue, mc_check_sqlite, mc_check_exec,
	mc_check_oauth, mc_check_backup, mc_check_job;

/* ---- for a type's code (lib/check.c) -------------------------------------- */

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

/* Keys several types take alike, written once. The registry shows a key
 * that several types declare alike as one, "for types: a|b". */
#define MC_CHECK_KEYS_LATENCY \
	{ .name = "latency_warn", .type = MC_CT_DURATION, \
	  .help = "warn when the probe takes at least this long" }, \
	{ .name = "latency_crit", .type = MC_CT_DURATION, \
	  .help = "critical when the probe takes at least this long" }

#define MC_CHECK_KEYS_THRESHOLD \
	{ .name = "warn", .type = MC_CT_THRESHOLD, \
	  .help = "warning threshold: a number (value >= N) or a Nagios range " \
		  "(N:, ~:N, N:M, @N:M); redis_queue: the depth that warns" }, \
	{ .name = "crit", .type = MC_CT_THRESHOLD, \
	  .help = "critical threshold, as warn; redis_queue: the depth at " \
		  "which producers should shed" }

#endif
