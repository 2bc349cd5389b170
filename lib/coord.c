/*
 * coord.c - the coordinator: picks the backend once per run, passes each
 * call to it, and falls back from the fleet to the state file when Redis
 * fails (degraded mode). See coord.h.
 */
#include "coord.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mc_coord {
	const struct mc_coord_ops *ops;
	struct mc_state *st;
	struct mc_fleet *fleet;
	int configured;			/* [fleet] is there */
	struct mc_fleet_conf fc;	/* its settings */
	int degraded;
	char why[MC_ERR_MSG];
};

/* The fleet cannot be used for the rest of the run: keep why and go on
 * with the state file. */
static void degrade(struct mc_coord *c, const char *why)
{
	if (c->degraded)
		return;
	c->degraded = 1;
	snprintf(c->why, sizeof(c->why), "%s", why);
	c->ops = &mc_coord_state_ops;
	mc_fleet_close(c->fleet);
	c->fleet = NULL;
	/* the driver says "fleet: degraded" once, at the end of the run */
	mc_log(MC_LOG_INFO, "fleet: degraded: %s; going on with the state "
	       "file", c->why);
}

struct mc_coord *mc_coord_open(const struct mc_conf *conf,
			       struct mc_state *st,
			       const struct mc_coord_opts *opts,
			       struct mc_err *err)
{
	struct mc_coord *c = mc_calloc(1, sizeof(*c));
	struct mc_fleet_conf fc;
	struct mc_err e = { 0 };
	int has;

	c->st = st;
	c->ops = &mc_coord_state_ops;
	has = mc_fleet_conf_load(conf, &fc, err);
	if (has < 0) {
		mc_fleet_conf_release(&fc);
		free(c);
		return NULL;
	}
	if (has) {
		int64_t left = mc_deadline_left_ms(opts ? opts->dl : NULL,
						   2000);

		c->configured = 1;
		c->fleet = mc_fleet_connect(&fc, left > 0 ? left : 1, &e);
		if (c->fleet == NULL)
			degrade(c, e.msg);
		else if (mc_fleet_heartbeat(c->fleet, opts ? opts->command :
					    NULL, &e) < 0)
			degrade(c, e.msg);
		else
			c->ops = &mc_coord_fleet_ops;
	}
	c->fc = fc;
	return c;
}

struct mc_coord *mc_coord_open_state(struct mc_state *st)
{
	struct mc_coord *c = mc_calloc(1, sizeof(*c));

	c->st = st;
	c->ops = &mc_coord_state_ops;
	return c;
}

void mc_coord_close(struct mc_coord *c)
{
	if (c == NULL)
		return;
	mc_fleet_close(c->fleet);
	mc_fleet_conf_release(&c->fc);
	free(c);
}

const struct mc_fleet_conf *mc_coord_fleet_conf(const struct mc_coord *c)
{
	return c->configured ? &c->fc : NULL;
}

const char *mc_coord_backend(const struct mc_coord *c)
{
	return c->ops->name;
}

int mc_coord_degraded(const struct mc_coord *c)
{
	return c->degraded;
}

const char *mc_coord_degraded_why(const struct mc_coord *c)
{
	return c->degraded ? c->why : "";
}

struct mc_fleet *mc_coord_fleet(struct mc_coord *c)
{
	return c->fleet;
}

struct mc_state *mc_coord_state(struct mc_coord *c)
{
	return c->st;
}

struct mc_lock *mc_coord_local_lock(struct mc_coord *c, const char *name,
				    int64_t wait_ms, struct mc_err *err)
{
	char *dir = mc_asprintf("%s/locks", mc_state_dir(c->st));
	struct mc_lock *l = mc_lock_take(dir, name, wait_ms, err);

	free(dir);
	return l;
}

/* A fleet call failed with e: 1 when that moved the run to the state
 * file, so the call is to be made again there. Only a failure of Redis
 * itself does; a usage error (no such breaker) stands. */
static int failover(struct mc_coord *c, const struct mc_err *e)
{
	if (c->ops != &mc_coord_fleet_ops || e->code != MC_EXIT_CRITICAL)
		return 0;
	degrade(c, e->msg);
	return 1;
}

#define DISPATCH(c, err, op, ...)					\
	do {								\
		struct mc_err e_ = { 0 };				\
		int rc_ = (c)->ops->op((c), __VA_ARGS__, &e_);		\
		if (rc_ < 0 && failover((c), &e_)) {			\
			mc_err_clear(&e_);				\
			rc_ = (c)->ops->op((c), __VA_ARGS__, &e_);	\
		}							\
		if (rc_ < 0 && (err) != NULL)				\
			*(err) = e_;					\
		return rc_;						\
	} while (0)

int mc_coord_breaker_allow(struct mc_coord *c, const char *name,
			   const struct mc_breaker_conf *conf,
			   const struct mc_clock *clock, double *retry_at,
			   struct mc_err *err)
{
	DISPATCH(c, err, breaker_allow, name, conf, clock, retry_at);
}

int mc_coord_breaker_record(struct mc_coord *c, const char *name,
			    int success, const struct mc_breaker_conf *conf,
			    const struct mc_clock *clock, struct mc_err *err)
{
	DISPATCH(c, err, breaker_record, name, success, conf, clock);
}

int mc_coord_breaker_list(struct mc_coord *c, const struct mc_clock *clock,
			  int64_t recovery_ms, struct mc_breaker_info **out,
			  size_t *n, struct mc_err *err)
{
	DISPATCH(c, err, breaker_list, clock, recovery_ms, out, n);
}

int mc_coord_breaker_reset(struct mc_coord *c, const char *name,
			   struct mc_err *err)
{
	DISPATCH(c, err, breaker_reset, name);
}

int mc_coord_bucket_reserve(struct mc_coord *c, const char *name,
			    double rate, double burst, double n,
			    double max_wait_s, const struct mc_clock *clock,
			    double *wait_s, struct mc_err *err)
{
	DISPATCH(c, err, bucket_reserve, name, rate, burst, n, max_wait_s,
		 clock, wait_s);
}

int mc_coord_dedup_claim(struct mc_coord *c, const char *scope,
			 const char *key, int resolve, const char *severity,
			 int64_t window_ms, int64_t lease_ms, int no_dedup,
			 const struct mc_clock *clock,
			 struct mc_coord_claim *claim, char *why, size_t size,
			 struct mc_err *err)
{
	DISPATCH(c, err, dedup_claim, scope, key, resolve, severity,
		 window_ms, lease_ms, no_dedup, clock, claim, why, size);
}

/* A claim is settled where it was made. One made in the fleet before the
 * run degraded is left to its lease: the next run finds it expired and
 * unconfirmed, and delivers again (at worst once more, never lost). */
int mc_coord_dedup_settle(struct mc_coord *c, const char *scope,
			  const char *key, struct mc_coord_claim *claim,
			  int delivered, struct mc_err *err)
{
	struct mc_err e = { 0 };
	int rc;

	if (!claim->active)
		return 0;
	if (claim->backend == MC_COORD_FLEET) {
		if (c->fleet == NULL) {
			claim->active = 0;
			return 0;
		}
		rc = mc_coord_fleet_ops.dedup_settle(c, scope, key, claim,
						     delivered, &e);
		if (rc < 0 && failover(c, &e))
			return 0;
	} else {
		rc = mc_coord_state_ops.dedup_settle(c, scope, key, claim,
						     delivered, &e);
	}
	if (rc < 0 && err != NULL)
		*err = e;
	return rc;
}

void mc_coord_claim_release(struct mc_coord_claim *claim)
{
	if (claim == NULL)
		return;
	free(claim->prev_state);
	free(claim->prev_severity);
	memset(claim, 0, sizeof(*claim));
}

int mc_coord_lock_take(struct mc_coord *c, const char *name, int flags,
		       int64_t wait_ms, struct mc_coord_lock **out,
		       struct mc_err *err)
{
	struct mc_coord_lock *l = mc_calloc(1, sizeof(*l));
	struct mc_err e = { 0 };
	int rc;

	*out = NULL;
	if (c->configured && c->fleet == NULL &&
	    (flags & MC_COORD_FLEET_ONLY)) {
		free(l);
		return mc_err_set(err, MC_EXIT_TEMPFAIL,
				  "fleet: degraded (%s): the fleet-wide lock "
				  "'%s' cannot be taken, so this run does not "
				  "start", c->why, name);
	}
	rc = c->ops->lock_take(c, name, wait_ms, l, &e);
	if (rc < 0 && failover(c, &e)) {
		if (flags & MC_COORD_FLEET_ONLY) {
			free(l);
			return mc_err_set(err, MC_EXIT_TEMPFAIL,
					  "fleet: degraded (%s): the "
					  "fleet-wide lock '%s' cannot be "
					  "taken, so this run does not start",
					  c->why, name);
		}
		mc_err_clear(&e);
		rc = c->ops->lock_take(c, name, wait_ms, l, &e);
	}
	if (rc == 0 && l->backend == MC_COORD_FLEET &&
	    (flags & MC_COORD_KEEPALIVE) &&
	    mc_coord_keepalive_start(c, l, &e) < 0) {
		c->ops->lock_release(c, l);
		rc = -1;
	}
	if (rc < 0) {
		free(l);
		if (err != NULL)
			*err = e;
		return -1;
	}
	*out = l;
	return 0;
}

int mc_coord_lock_renew(struct mc_coord *c, struct mc_coord_lock *l,
			struct mc_err *err)
{
	if (l->backend == MC_COORD_FLEET && c->fleet == NULL)
		return mc_err_set(err, MC_EXIT_TEMPFAIL,
				  "fleet: degraded (%s): the lease of '%s' "
				  "cannot be renewed; stopping", c->why,
				  l->lease.name);
	if (l->backend == MC_COORD_FLEET)
		return mc_coord_fleet_ops.lock_renew(c, l, err);
	return mc_coord_state_ops.lock_renew(c, l, err);
}

void mc_coord_lock_release(struct mc_coord *c, struct mc_coord_lock *l)
{
	if (l == NULL)
		return;
	mc_coord_keepalive_stop(l);
	if (l->backend == MC_COORD_FLEET)
		mc_coord_fleet_ops.lock_release(c, l);
	else
		mc_coord_state_ops.lock_release(c, l);
	free(l);
}
