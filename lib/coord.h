/*
 * coord.h - one interface for what several runs must agree on: alert dedup
 * claims, rate-limit buckets, circuit breakers and locks. Behind it sits
 * one backend, chosen once per run (mc_coord_open):
 *   state  the state file and flock(2) locks (resil.h): runs on this host
 *          agree with each other;
 *   fleet  Redis, through the scripts of fleet.h: every host of the fleet
 *          agrees, when the configuration has a [fleet] section.
 * The functions have the shapes of resil.h's, so a caller does not know
 * which backend it has.
 *
 * Degraded mode: when [fleet] is configured but Redis cannot be reached --
 * at the start, or by a failed call during the run -- the run goes on with
 * the state backend (the failed call is made again there) and
 * mc_coord_degraded() says so; the driver reports `fleet: degraded` on
 * stderr and in JSON. The next run tries Redis again. A lock taken with
 * MC_COORD_FLEET_ONLY does not fall back: it fails with MC_EXIT_TEMPFAIL,
 * since two hosts could otherwise both take it (safety before progress).
 */
#ifndef MC_COORD_H
#define MC_COORD_H

#include <stddef.h>
#include <stdint.h>
#include "config.h"
#include "fleet.h"
#include "mc.h"
#include "resil.h"
#include "state.h"

struct mc_coord;

struct mc_coord_opts {
	const char *command;		/* for the heartbeat ("alert send") */
	const struct mc_deadline *dl;	/* bounds the connect (2 s at most) */
};

/* Never fails for want of Redis (that is degraded mode); NULL with err
 * only for a [fleet] section that cannot be used. st is borrowed and must
 * outlive the coordinator. */
struct mc_coord *mc_coord_open(const struct mc_conf *conf,
			       struct mc_state *st,
			       const struct mc_coord_opts *opts,
			       struct mc_err *err);
void mc_coord_close(struct mc_coord *c);
/* A coordinator on the state file alone, whatever the configuration. */
struct mc_coord *mc_coord_open_state(struct mc_state *st);

/* "fleet" or "state": the backend in use now. */
const char *mc_coord_backend(const struct mc_coord *c);
/* 1 when [fleet] is configured but the run uses the state file. */
int mc_coord_degraded(const struct mc_coord *c);
/* Why, when degraded (one line, no secrets); "" otherwise. */
const char *mc_coord_degraded_why(const struct mc_coord *c);
/* The fleet connection when the fleet backend is in use, else NULL. */
struct mc_fleet *mc_coord_fleet(struct mc_coord *c);

/* Circuit breakers and buckets, as in resil.h (the fleet backend ignores
 * clock: it uses the Redis server's). */
int mc_coord_breaker_allow(struct mc_coord *c, const char *name,
			   const struct mc_breaker_conf *conf,
			   const struct mc_clock *clock, double *retry_at,
			   struct mc_err *err);
int mc_coord_breaker_record(struct mc_coord *c, const char *name,
			    int success, const struct mc_breaker_conf *conf,
			    const struct mc_clock *clock, struct mc_err *err);
int mc_coord_breaker_list(struct mc_coord *c, const struct mc_clock *clock,
			  int64_t recovery_ms, struct mc_breaker_info **out,
			  size_t *n, struct mc_err *err);
int mc_coord_breaker_reset(struct mc_coord *c, const char *name,
			   struct mc_err *err);
int mc_coord_bucket_reserve(struct mc_coord *c, const char *name,
			    double rate, double burst, double n,
			    double max_wait_s, const struct mc_clock *clock,
			    double *wait_s, struct mc_err *err);

/*
 * Dedup of one identity (key) per scope (a webhook): one delivery per
 * identity, severity and window; a resolve goes out once after a trigger,
 * and one without a trigger is suppressed. The record is claimed before
 * the delivery under a lease of lease_ms and settled after it: confirmed
 * when delivered, given back otherwise (the next run tries again). A claim
 * nobody settles (a killed run) frees itself when its lease ends.
 */
struct mc_coord_claim {
	int active;
	int backend;			/* the one holding the claim */
	/* the severity open at the target: for a resolve the trigger's (the
	 * alert's own when there is none), for a trigger the one firing now;
	 * "" when none */
	char open_severity[MC_FLEET_SEVERITY_MAX];
	struct mc_fleet_claim fleet;
	/* the state backend: the row before the claim, to put back */
	int had_row;
	char *prev_state;
	char *prev_severity;
	double prev_sent;
	int prev_confirmed;
	double prev_lease;
	double lease;
};
/* severity: its name, compared as text (the coordinator does not rank
 * them). 1: send; 0: suppressed (why filled); -1: error. */
int mc_coord_dedup_claim(struct mc_coord *c, const char *scope,
			 const char *key, int resolve, const char *severity,
			 int64_t window_ms, int64_t lease_ms, int no_dedup,
			 const struct mc_clock *clock,
			 struct mc_coord_claim *claim, char *why, size_t size,
			 struct mc_err *err);
int mc_coord_dedup_settle(struct mc_coord *c, const char *scope,
			  const char *key, struct mc_coord_claim *claim,
			  int delivered, struct mc_err *err);
void mc_coord_claim_release(struct mc_coord_claim *claim);

/*
 * Locks. The state backend: the flock(2) lock DIR/NAME.lock beside the
 * state file (resil.h). The fleet backend: that same local lock, then the
 * fleet lease NAME, with a fencing token that only grows; the holder
 * renews it (mc_coord_lock_renew) within each lease, and a script that
 * must refuse a stale holder embeds mc_fleet_lua_fence with the lock's
 * key, owner and token. wait_ms as mc_lock_take. A held lock is
 * MC_EXIT_TEMPFAIL naming the holder.
 */
#define MC_COORD_FLEET_ONLY 0x1		/* no fallback to a local lock */
#define MC_COORD_KEEPALIVE 0x2		/* a thread renews the fleet lease
					   every third of a lease until the
					   lock is released */
struct mc_coord_keepalive;
struct mc_coord_lock {
	int backend;
	struct mc_lock *local;
	struct mc_fleet_lease lease;	/* fleet: name, owner, token */
	struct mc_coord_keepalive *ka;	/* MC_COORD_KEEPALIVE */
};
int mc_coord_lock_take(struct mc_coord *c, const char *name, int flags,
		       int64_t wait_ms, struct mc_coord_lock **out,
		       struct mc_err *err);
/* 0: held for another lease; -1: lost (MC_EXIT_TEMPFAIL: stop at once,
 * another host may hold it now) or error. */
int mc_coord_lock_renew(struct mc_coord *c, struct mc_coord_lock *l,
			struct mc_err *err);
void mc_coord_lock_release(struct mc_coord *c, struct mc_coord_lock *l);
/* With MC_COORD_KEEPALIVE: 1 once the lease is known lost (a renewal found
 * another owner, or none succeeded for a whole lease: the holder was
 * paused or cut off); the holder must stop what the lock guards. 0 while
 * held, and always for a local lock. */
int mc_coord_lock_lost(const struct mc_coord_lock *l);

/* ---- the backends (coord_state.c, coord_fleet.c) ---- */

enum mc_coord_backend_id {
	MC_COORD_STATE = 0,
	MC_COORD_FLEET = 1,
};
struct mc_coord_ops {
	const char *name;
	int (*breaker_allow)(struct mc_coord *c, const char *name,
			     const struct mc_breaker_conf *conf,
			     const struct mc_clock *clock, double *retry_at,
			     struct mc_err *err);
	int (*breaker_record)(struct mc_coord *c, const char *name,
			      int success, const struct mc_breaker_conf *conf,
			      const struct mc_clock *clock,
			      struct mc_err *err);
	int (*breaker_list)(struct mc_coord *c, const struct mc_clock *clock,
			    int64_t recovery_ms, struct mc_breaker_info **out,
			    size_t *n, struct mc_err *err);
	int (*breaker_reset)(struct mc_coord *c, const char *name,
			     struct mc_err *err);
	int (*bucket_reserve)(struct mc_coord *c, const char *name,
			      double rate, double burst, double n,
			      double max_wait_s, const struct mc_clock *clock,
			      double *wait_s, struct mc_err *err);
	int (*dedup_claim)(struct mc_coord *c, const char *scope,
			   const char *key, int resolve, const char *severity,
			   int64_t window_ms, int64_t lease_ms, int no_dedup,
			   const struct mc_clock *clock,
			   struct mc_coord_claim *claim, char *why,
			   size_t size, struct mc_err *err);
	int (*dedup_settle)(struct mc_coord *c, const char *scope,
			    const char *key, struct mc_coord_claim *claim,
			    int delivered, struct mc_err *err);
	/* 0 taken; -1: held by another (MC_EXIT_TEMPFAIL) or error */
	int (*lock_take)(struct mc_coord *c, const char *name,
			 int64_t wait_ms, struct mc_coord_lock *l,
			 struct mc_err *err);
	int (*lock_renew)(struct mc_coord *c, struct mc_coord_lock *l,
			  struct mc_err *err);
	void (*lock_release)(struct mc_coord *c, struct mc_coord_lock *l);
};
extern const struct mc_coord_ops mc_coord_state_ops, mc_coord_fleet_ops;

/* What the backends reach through the coordinator. */
struct mc_state *mc_coord_state(struct mc_coord *c);
/* The [fleet] settings, NULL without [fleet]. */
const struct mc_fleet_conf *mc_coord_fleet_conf(const struct mc_coord *c);
/* Starts and stops the renewal thread of a fleet lock (coord_fleet.c). */
int mc_coord_keepalive_start(struct mc_coord *c, struct mc_coord_lock *l,
			     struct mc_err *err);
void mc_coord_keepalive_stop(struct mc_coord_lock *l);
/* A local lock beside the state file, as mc_ctx_lock takes them. */
struct mc_lock *mc_coord_local_lock(struct mc_coord *c, const char *name,
				    int64_t wait_ms, struct mc_err *err);

#endif
