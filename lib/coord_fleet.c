/*
 * coord_fleet.c - the Redis backend of coord.h: every call is one script
 * of fleet.h, so hosts agree. Locks are the local flock(2) lock first (two
 * runs on one host never both ask Redis) and then the fleet lease.
 */
#include "coord.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* ---- keepalive: a thread that renews a lease while it is held ---- */

struct mc_coord_keepalive {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop;			/* under mu */
	atomic_int lost;
	struct mc_fleet_conf fc;	/* copies: the thread has its own
					   connection */
	struct mc_fleet_lease lease;
};

static char *dup_or_null(const char *s)
{
	return s ? mc_strdup(s) : NULL;
}

/* Every third of a lease: renew. A renewal that finds another owner, or
 * no renewal for a whole lease (Redis gone, or this process paused past
 * it), means lost; a failed connection is made again next time. */
static void *keepalive_main(void *arg)
{
	struct mc_coord_keepalive *ka = arg;
	int64_t every = ka->lease.lease_ms / 3 > 0 ? ka->lease.lease_ms / 3 : 1;
	double last_ok = mc_mono_now();
	struct mc_fleet *f = NULL;

	pthread_mutex_lock(&ka->mu);
	while (!ka->stop && !atomic_load(&ka->lost)) {
		struct timespec ts;
		struct mc_err e = { 0 };
		int r;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += (time_t)(every / 1000);
		ts.tv_nsec += (long)(every % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		while (!ka->stop &&
		       pthread_cond_timedwait(&ka->cv, &ka->mu, &ts) == 0)
			;
		if (ka->stop)
			break;
		pthread_mutex_unlock(&ka->mu);
		if (f == NULL)
			f = mc_fleet_connect(&ka->fc, every < 2000 ? every : 2000,
					     &e);
		r = f ? mc_fleet_lock_renew(f, &ka->lease, &e) : -1;
		if (r == 1) {
			last_ok = mc_mono_now();
		} else if (r == 0 || (mc_mono_now() - last_ok) * 1e3 >=
					     (double)ka->lease.lease_ms) {
			atomic_store(&ka->lost, 1);
		} else {
			mc_fleet_close(f);
			f = NULL;
		}
		pthread_mutex_lock(&ka->mu);
	}
	pthread_mutex_unlock(&ka->mu);
	mc_fleet_close(f);
	return NULL;
}

int mc_coord_keepalive_start(struct mc_coord *c, struct mc_coord_lock *l,
			     struct mc_err *err)
{
	const struct mc_fleet_conf *fc = mc_coord_fleet_conf(c);
	struct mc_coord_keepalive *ka = mc_calloc(1, sizeof(*ka));
	pthread_condattr_t ca;
	sigset_t all, old;
	int rc;

	ka->fc.url = dup_or_null(fc->url);
	ka->fc.password_file = dup_or_null(fc->password_file);
	ka->fc.name = dup_or_null(fc->name);
	ka->fc.prefix = dup_or_null(fc->prefix);
	ka->fc.lease_ms = fc->lease_ms;
	ka->lease.name = mc_strdup(l->lease.name);
	ka->lease.owner = mc_strdup(l->lease.owner);
	memcpy(ka->lease.token, l->lease.token, sizeof(ka->lease.token));
	ka->lease.lease_ms = l->lease.lease_ms;
	pthread_mutex_init(&ka->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ka->cv, &ca);
	pthread_condattr_destroy(&ca);
	/* the thread blocks every signal, so SIGINT and SIGTERM reach the
	 * thread doing the work and interrupt its waits */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&ka->thread, NULL, keepalive_main, ka);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		pthread_cond_destroy(&ka->cv);
		pthread_mutex_destroy(&ka->mu);
		mc_fleet_conf_release(&ka->fc);
		mc_fleet_lease_release(&ka->lease);
		free(ka);
		return mc_err_sys(err, MC_EXIT_IOERR, rc, "fleet: cannot "
				  "start the renewal of the lease of '%s'",
				  l->lease.name);
	}
	l->ka = ka;
	return 0;
}

void mc_coord_keepalive_stop(struct mc_coord_lock *l)
{
	struct mc_coord_keepalive *ka = l->ka;

	if (ka == NULL)
		return;
	pthread_mutex_lock(&ka->mu);
	ka->stop = 1;
	pthread_cond_signal(&ka->cv);
	pthread_mutex_unlock(&ka->mu);
	pthread_join(ka->thread, NULL);
	pthread_cond_destroy(&ka->cv);
	pthread_mutex_destroy(&ka->mu);
	mc_fleet_conf_release(&ka->fc);
	mc_fleet_lease_release(&ka->lease);
	free(ka);
	l->ka = NULL;
}

int mc_coord_lock_lost(const struct mc_coord_lock *l)
{
	return l->ka != NULL && atomic_load(&l->ka->lost);
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
