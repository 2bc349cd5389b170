/*
 * coord_state.c - the state-file backend of coord.h: breakers and buckets
 * of resil.h, the alert dedup records of the state file, flock(2) locks.
 * Runs on one host agree through SQLite transactions.
 */
#include "coord.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int st_breaker_allow(struct mc_coord *c, const char *name,
			    const struct mc_breaker_conf *conf,
			    const struct mc_clock *clock, double *retry_at,
			    struct mc_err *err)
{
	return mc_breaker_allow(mc_coord_state(c), name, conf, clock,
				retry_at, err);
}

static int st_breaker_record(struct mc_coord *c, const char *name,
			     int success, const struct mc_breaker_conf *conf,
			     const struct mc_clock *clock, struct mc_err *err)
{
	return mc_breaker_record(mc_coord_state(c), name, success, conf, clock,
				 err);
}

static int st_breaker_list(struct mc_coord *c, const struct mc_clock *clock,
			   int64_t recovery_ms, struct mc_breaker_info **out,
			   size_t *n, struct mc_err *err)
{
	return mc_breaker_list(mc_coord_state(c), clock, recovery_ms, out, n,
			       err);
}

static int st_breaker_reset(struct mc_coord *c, const char *name,
			    struct mc_err *err)
{
	return mc_breaker_reset(mc_coord_state(c), name, err);
}

static int st_bucket_reserve(struct mc_coord *c, const char *name,
			     double rate, double burst, double n,
			     double max_wait_s, const struct mc_clock *clock,
			     double *wait_s, struct mc_err *err)
{
	return mc_bucket_reserve(mc_coord_state(c), name, rate, burst, n,
				 max_wait_s, clock, wait_s, err);
}

/* The alert_dedup row of (scope, key) is decided and claimed in one
 * transaction, so concurrent runs take turns. */
static int st_dedup_claim(struct mc_coord *co, const char *scope,
			  const char *key, int resolve, const char *severity,
			  int64_t window_ms, int64_t lease_ms, int no_dedup,
			  const struct mc_clock *clock,
			  struct mc_coord_claim *c, char *why, size_t size,
			  struct mc_err *err)
{
	static const char what[] = "cannot read the alert dedup record";
	static const char sel[] =
		"SELECT state, severity, sent, lease FROM alert_dedup"
		" WHERE webhook = ?1 AND dedup_key = ?2";
	static const char put[] =
		"INSERT INTO alert_dedup (webhook, dedup_key, state, severity,"
		" sent, lease) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
		" ON CONFLICT (webhook, dedup_key) DO UPDATE SET"
		" state = excluded.state, severity = excluded.severity,"
		" sent = excluded.sent, lease = excluded.lease";
	struct mc_state *st = mc_coord_state(co);
	double now = mc_clock_now(clock);
	double lease = now + (double)lease_ms / 1e3;
	sqlite3_stmt *s;
	int rc, row = 0, confirmed = 1;
	char *state = NULL, *sev = NULL;
	double sent = 0, row_lease = 0;

	memset(c, 0, sizeof(*c));
	c->backend = MC_COORD_STATE;
	if (mc_state_begin(st, err) < 0)
		return -1;
	if (mc_state_prepare(st, sel, &s, what, err) < 0)
		goto fail;
	sqlite3_bind_text(s, 1, scope, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 2, key, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		row = 1;
		state = mc_state_column_dup(s, 0);
		sev = mc_state_column_dup(s, 1);
		sent = sqlite3_column_double(s, 2);
		confirmed = sqlite3_column_type(s, 3) == SQLITE_NULL;
		row_lease = sqlite3_column_double(s, 3);
		rc = SQLITE_DONE;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		mc_state_sqlerr(st, err, what);
		goto fail;
	}
	if (resolve)
		snprintf(c->open_severity, sizeof(c->open_severity), "%s",
			 row && sev && *sev ? sev : severity);
	else if (row && mc_streq(state, "firing"))
		snprintf(c->open_severity, sizeof(c->open_severity), "%s",
			 sev ? sev : "");
	if (!no_dedup) {
		char ago[32], win[32];

		if (row && !confirmed && row_lease > now) {
			snprintf(why, size, "another run is delivering the "
				 "same alert now");
			goto suppressed;
		}
		mc_format_duration((int64_t)((now - sent) * 1e3), ago,
				   sizeof(ago));
		mc_format_duration(window_ms, win, sizeof(win));
		if (!resolve && row && confirmed && mc_streq(state, "firing") &&
		    mc_streq(sev, severity) &&
		    (now - sent) * 1e3 < (double)window_ms) {
			snprintf(why, size, "sent %s ago, within dedup_window "
				 "%s", ago, win);
			goto suppressed;
		}
		if (resolve && !row) {
			snprintf(why, size, "no trigger of this alert to "
				 "resolve");
			goto suppressed;
		}
		if (resolve && confirmed && mc_streq(state, "resolved")) {
			snprintf(why, size, "already resolved %s ago", ago);
			goto suppressed;
		}
	}
	if (mc_state_prepare(st, put, &s, what, err) < 0)
		goto fail;
	sqlite3_bind_text(s, 1, scope, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 2, key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 3, resolve ? "resolved" : "firing", -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(s, 4, resolve ? c->open_severity : severity, -1,
			  SQLITE_TRANSIENT);
	sqlite3_bind_double(s, 5, now);
	sqlite3_bind_double(s, 6, lease);
	if (mc_state_exec_stmt(st, s, what, err) < 0)
		goto fail;
	if (mc_state_commit(st, err) < 0)
		goto out;
	c->active = 1;
	c->had_row = row;
	c->prev_state = state;
	c->prev_severity = sev;
	c->prev_sent = sent;
	c->prev_confirmed = confirmed;
	c->prev_lease = row_lease;
	c->lease = lease;
	return 1;
suppressed:
	mc_state_rollback(st);
	free(state);
	free(sev);
	return 0;
fail:
	mc_state_rollback(st);
out:
	free(state);
	free(sev);
	return -1;
}

/* Only our own claim is touched: one whose lease ran out may have been
 * taken over. */
static int st_dedup_settle(struct mc_coord *co, const char *scope,
			   const char *key, struct mc_coord_claim *c,
			   int delivered, struct mc_err *err)
{
	static const char what[] = "cannot update the alert dedup record";
	struct mc_state *st = mc_coord_state(co);
	sqlite3_stmt *s;
	int rc;

	if (!c->active)
		return 0;
	if (delivered)
		rc = mc_state_prepare(st, "UPDATE alert_dedup SET lease = NULL"
				      " WHERE webhook = ?1 AND dedup_key = ?2"
				      " AND lease = ?3", &s, what, err);
	else if (!c->had_row)
		rc = mc_state_prepare(st, "DELETE FROM alert_dedup"
				      " WHERE webhook = ?1 AND dedup_key = ?2"
				      " AND lease = ?3", &s, what, err);
	else
		rc = mc_state_prepare(st, "UPDATE alert_dedup SET state = ?4,"
				      " severity = ?5, sent = ?6, lease = ?7"
				      " WHERE webhook = ?1 AND dedup_key = ?2"
				      " AND lease = ?3", &s, what, err);
	if (rc < 0)
		return -1;
	sqlite3_bind_text(s, 1, scope, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 2, key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_double(s, 3, c->lease);
	if (!delivered && c->had_row) {
		sqlite3_bind_text(s, 4, c->prev_state, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s, 5, c->prev_severity, -1,
				  SQLITE_TRANSIENT);
		sqlite3_bind_double(s, 6, c->prev_sent);
		/* an earlier claim never confirmed stays unconfirmed */
		if (c->prev_confirmed)
			sqlite3_bind_null(s, 7);
		else
			sqlite3_bind_double(s, 7, c->prev_lease);
	}
	c->active = 0;
	return mc_state_exec_stmt(st, s, what, err);
}

static int st_lock_take(struct mc_coord *c, const char *name, int64_t wait_ms,
			struct mc_coord_lock *l, struct mc_err *err)
{
	l->backend = MC_COORD_STATE;
	l->local = mc_coord_local_lock(c, name, wait_ms, err);
	return l->local ? 0 : -1;
}

/* A flock(2) lock is held until released or the holder dies. */
static int st_lock_renew(struct mc_coord *c, struct mc_coord_lock *l,
			 struct mc_err *err)
{
	(void)c;
	(void)l;
	(void)err;
	return 0;
}

static void st_lock_release(struct mc_coord *c, struct mc_coord_lock *l)
{
	(void)c;
	mc_lock_release(l->local);
	l->local = NULL;
}

const struct mc_coord_ops mc_coord_state_ops = {
	.name = "state",
	.breaker_allow = st_breaker_allow,
	.breaker_record = st_breaker_record,
	.breaker_list = st_breaker_list,
	.breaker_reset = st_breaker_reset,
	.bucket_reserve = st_bucket_reserve,
	.dedup_claim = st_dedup_claim,
	.dedup_settle = st_dedup_settle,
	.lock_take = st_lock_take,
	.lock_renew = st_lock_renew,
	.lock_release = st_lock_release,
};
