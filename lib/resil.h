/*
 * resil.h - resilience primitives shared by every command (docs/DESIGN.md, "Resilience"):
 * backoff, circuit breakers and token buckets persisted in the state file,
 * and advisory locks. Time comes from an injectable struct mc_clock so tests
 * drive them without sleeping.
 */
#ifndef MC_RESIL_H
#define MC_RESIL_H

#include <stddef.h>
#include <stdint.h>
#include "mc.h"
#include "state.h"

/* Full-jitter exponential backoff: a delay uniform in
 * [0, min(cap_ms, base_ms * 2^attempt)), attempt counting from 0; unit is a
 * random number in [0, 1) (mc_random_unit(), or fixed in tests). */
int64_t mc_backoff_ms(int attempt, int64_t base_ms, int64_t cap_ms,
		      double unit);

/* Circuit breaker per external target. closed -> open after `failures`
 * consecutive failures -> half-open once `recovery_ms` has passed, letting
 * exactly one probe through (across processes) -> closed on its success,
 * open again on its failure. A probe that never reports back frees the
 * half-open slot after another recovery_ms. */
enum mc_breaker_state {
	MC_BREAKER_CLOSED = 0,
	MC_BREAKER_OPEN = 1,
	MC_BREAKER_HALF_OPEN = 2,
};
struct mc_breaker_conf {
	int failures;		/* default 5 */
	int64_t recovery_ms;	/* default 30000 */
};
const char *mc_breaker_state_name(int state);
/* A breaker's settings: section s's breaker_failures and breaker_recovery
 * (a check, webhook, slo or oauth section; NULL for none), else core's
 * ([core]; NULL for none), else 5 and 30 s. */
struct mc_conf_section;
void mc_breaker_conf_read(const struct mc_conf_section *core,
			  const struct mc_conf_section *s,
			  struct mc_breaker_conf *b);
/* 1: the call may go out; 0: denied, the circuit is open (*retry_at, when
 * not NULL, gets the wall time it half-opens); -1: error. */
int mc_breaker_allow(struct mc_state *st, const char *name,
		     const struct mc_breaker_conf *conf,
		     const struct mc_clock *clock, double *retry_at,
		     struct mc_err *err);
int mc_breaker_record(struct mc_state *st, const char *name, int success,
		      const struct mc_breaker_conf *conf,
		      const struct mc_clock *clock, struct mc_err *err);
/* One breaker of a batch: asked (allow, retry_at as mc_breaker_allow's)
 * or told (success) in one transaction for all, as a run with many
 * targets would otherwise take two for each. */
struct mc_breaker_call {
	const char *name;
	const struct mc_breaker_conf *conf;
	int success;		/* in: for mc_breakers_record */
	int allow;		/* out: of mc_breakers_allow */
	double retry_at;	/* out: when a denied one half-opens */
};
int mc_breakers_allow(struct mc_state *st, struct mc_breaker_call *calls,
		      size_t n, const struct mc_clock *clock,
		      struct mc_err *err);
int mc_breakers_record(struct mc_state *st, struct mc_breaker_call *calls,
		       size_t n, const struct mc_clock *clock,
		       struct mc_err *err);
struct mc_breaker_info {
	char *name;
	int state;		/* as seen now: an open one past recovery
				   reads half-open */
	int failures;		/* consecutive */
	double opened_at;	/* 0 when never opened */
	double updated;
	double retry_at;	/* when open: wall time it half-opens */
};
/* recovery_ms serves breakers whose row predates their own recovery time
 * being kept. */
int mc_breaker_list(struct mc_state *st, const struct mc_clock *clock,
		    int64_t recovery_ms, struct mc_breaker_info **out,
		    size_t *n, struct mc_err *err);
void mc_breaker_info_free(struct mc_breaker_info *list, size_t n);
/* Closes the breaker. Unknown name: -1 with MC_EXIT_USAGE. */
int mc_breaker_reset(struct mc_state *st, const char *name,
		     struct mc_err *err);

/* Token bucket per target: rate tokens per second, capacity burst. Takes n
 * tokens: 1 when taken, 0 when there are not enough (*wait_s, when not NULL,
 * gets how long until there are), -1 on error. Safe across processes. */
int mc_bucket_take(struct mc_state *st, const char *name, double rate,
		   double burst, double n, const struct mc_clock *clock,
		   double *wait_s, struct mc_err *err);
/* As mc_bucket_take, but takes the tokens also when they will be there
 * within max_wait_s: returns 1 with *wait_s the time to wait before using
 * them (the balance goes negative, so later callers queue behind), or 0
 * (nothing taken) when the wait would be longer. */
int mc_bucket_reserve(struct mc_state *st, const char *name, double rate,
		      double burst, double n, double max_wait_s,
		      const struct mc_clock *clock, double *wait_s,
		      struct mc_err *err);

/* Advisory lock DIR/NAME.lock (flock, released by the kernel if the holder
 * dies), DIR made (0700) when missing. The file holds the holder's pid.
 * wait_ms 0: fail at once with MC_EXIT_TEMPFAIL and a message naming the
 * holder's pid (the file's, or the kernel's list of flock holders where
 * the file names no live holder); > 0: wait that long (stopping early on
 * mc_interrupted). */
struct mc_lock;
struct mc_lock *mc_lock_take(const char *dir, const char *name,
			     int64_t wait_ms, struct mc_err *err);

/* Shared with other shared holders (readers), exclusive of the others.
 * DIR is neither made nor checked, the file is opened read-only (another
 * user's will do) and nothing is written to it. Where it cannot be made
 * (read-only media, a directory this user may not write) and does not
 * exist, no one can hold it exclusively: the lock is taken on nothing. */
#define MC_LOCK_SHARED		0x1
/* DIR must exist: never made. */
#define MC_LOCK_NO_MKDIR	0x2
/* mc_lock_take with flags (MC_LOCK_*), and shown naming the lock in
 * messages ("another run holds the lock SHOWN (pid N)"; NULL: 'NAME'). */
struct mc_lock *mc_lock_take_as(const char *dir, const char *name,
				int flags, const char *shown,
				int64_t wait_ms, struct mc_err *err);
void mc_lock_release(struct mc_lock *lock);

#endif
