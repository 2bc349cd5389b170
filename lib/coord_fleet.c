/*
 * coord_fleet.c - the Redis backend of coord.h: every call is one script
 * of fleet.h, so hosts agree. Locks are the local flock(2) lock first (two
 * runs on one host never both ask Redis) and then the fleet lease.
 */
#include "coord.h"

#include <stdlib.h>
#include <string.h>

static int fl_breaker_allow(struct mc_coord *c, const char *name,
			    const struct mc_breaker_conf *conf,
			    const struct mc_clock *clock, double *retry_at,
			    struct mc_err *err)
{
	(void)clock;
	return mc_fleet_breaker_allow(mc_coord_fleet(c), name, conf, retry_at,
				      err);
}

static int fl_breaker_record(struct mc_coord *c, const char *name,
			     int success, const struct mc_breaker_conf *conf,
			     const struct mc_clock *clock, struct mc_err *err)
{
	(void)clock;
	return mc_fleet_breaker_record(mc_coord_fleet(c), name, success, conf,
				       err);
}

/* Each fleet breaker keeps its own recovery time. */
static int fl_breaker_list(struct mc_coord *c, const struct mc_clock *clock,
			   int64_t recovery_ms, struct mc_breaker_info **out,
			   size_t *n, struct mc_err *err)
{
	(void)clock;
	(void)recovery_ms;
	return mc_fleet_breaker_list(mc_coord_fleet(c), out, n, err);
}

static int fl_breaker_reset(struct mc_coord *c, const char *name,
			    struct mc_err *err)
{
	return mc_fleet_breaker_reset(mc_coord_fleet(c), name, err);
}

static int fl_bucket_reserve(struct mc_coord *c, const char *name,
			     double rate, double burst, double n,
			     double max_wait_s, const struct mc_clock *clock,
			     double *wait_s, struct mc_err *err)
{
	(void)clock;
	return mc_fleet_bucket_reserve(mc_coord_fleet(c), name, rate, burst, n,
				       max_wait_s, wait_s, err);
}

static int fl_dedup_claim(struct mc_coord *co, const char *scope,
			  const char *key, int resolve, const char *severity,
			  int64_t window_ms, int64_t lease_ms, int no_dedup,
			  const struct mc_clock *clock,
			  struct mc_coord_claim *c, char *why, size_t size,
			  struct mc_err *err)
{
	int rc;

	(void)clock;
	memset(c, 0, sizeof(*c));
	c->backend = MC_COORD_FLEET;
	rc = mc_fleet_dedup_claim(mc_coord_fleet(co), scope, key, resolve,
				  severity, window_ms, lease_ms, no_dedup,
				  &c->fleet, why, size, err);
	c->active = c->fleet.active;
	memcpy(c->open_severity, c->fleet.open_severity,
	       sizeof(c->open_severity));
	return rc;
}

static int fl_dedup_settle(struct mc_coord *co, const char *scope,
			   const char *key, struct mc_coord_claim *c,
			   int delivered, struct mc_err *err)
{
	c->active = 0;
	return mc_fleet_dedup_settle(mc_coord_fleet(co), scope, key, &c->fleet,
				     delivered, err);
}

/* Polls the lease until it is free or wait_ms has passed (bounded, and
 * stopped by a signal). */
static int fl_lock_take(struct mc_coord *c, const char *name, int64_t wait_ms,
			struct mc_coord_lock *l, struct mc_err *err)
{
	struct mc_fleet *f = mc_coord_fleet(c);
	double start = mc_mono_now();
	char holder[300];
	int r;

	l->backend = MC_COORD_FLEET;
	l->local = mc_coord_local_lock(c, name, wait_ms, err);
	if (l->local == NULL)
		return -1;
	for (;;) {
		int64_t left;

		r = mc_fleet_lock_acquire(f, name, 0, &l->lease, holder,
					  sizeof(holder), err);
		if (r != 0)
			break;
		left = wait_ms - (int64_t)((mc_mono_now() - start) * 1e3);
		if (left <= 0 || mc_interrupted) {
			mc_err_set(err, MC_EXIT_TEMPFAIL, "another run holds "
				   "the fleet lock '%s' (%s)", name, holder);
			break;
		}
		mc_sleep_ms(left < 100 ? left : 100);
	}
	if (r == 1)
		return 0;
	mc_lock_release(l->local);
	l->local = NULL;
	return -1;
}

static int fl_lock_renew(struct mc_coord *c, struct mc_coord_lock *l,
			 struct mc_err *err)
{
	struct mc_err e = { 0 };
	int r = mc_fleet_lock_renew(mc_coord_fleet(c), &l->lease, &e);

	if (r == 1)
		return 0;
	if (r == 0)
		return mc_err_set(err, MC_EXIT_TEMPFAIL,
				  "fleet: the lease of '%s' was lost (another "
				  "host may hold it now); stopping",
				  l->lease.name);
	return mc_err_set(err, MC_EXIT_TEMPFAIL,
			  "fleet: the lease of '%s' cannot be renewed (%s); "
			  "stopping", l->lease.name, e.msg);
}

/* A release Redis does not hear of ends with the lease. */
static void fl_lock_release(struct mc_coord *c, struct mc_coord_lock *l)
{
	struct mc_fleet *f = mc_coord_fleet(c);

	if (f != NULL && l->lease.name != NULL)
		mc_fleet_lock_release(f, &l->lease, NULL);
	mc_fleet_lease_release(&l->lease);
	mc_lock_release(l->local);
	l->local = NULL;
}

const struct mc_coord_ops mc_coord_fleet_ops = {
	.name = "fleet",
	.breaker_allow = fl_breaker_allow,
	.breaker_record = fl_breaker_record,
	.breaker_list = fl_breaker_list,
	.breaker_reset = fl_breaker_reset,
	.bucket_reserve = fl_bucket_reserve,
	.dedup_claim = fl_dedup_claim,
	.dedup_settle = fl_dedup_settle,
	.lock_take = fl_lock_take,
	.lock_renew = fl_lock_renew,
	.lock_release = fl_lock_release,
};
