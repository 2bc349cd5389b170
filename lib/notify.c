/* notify.c - state changes of health checks, damped, for health --notify. */
#include <stdlib.h>
#include <string.h>
#include "notify.h"

static int status_parse(const char *s)
{
	for (int i = MC_ST_OK; i <= MC_ST_UNKNOWN; i++)
		if (mc_streq(s, mc_status_name(i)))
			return i;
	return -1;
}

static int failing(int st)
{
	return st != MC_ST_OK;
}

/* Whether a run at `now_st` continues a streak counted at `cand`, given
 * what was notified: across the ok/failing line any failing state counts
 * (a check flapping between warning and critical is still failing); within
 * it, only the same state. */
static int continues(int cand, int now_st, int notified)
{
	if (cand < 0)
		return 0;
	if (failing(now_st) != failing(notified))
		return failing(cand) == failing(now_st);
	return cand == now_st;
}

int mc_notify_update(struct mc_state *st, const struct mc_health *h,
		     double now, struct mc_notify_change **out, size_t *n,
		     struct mc_err *err)
{
	static const char what[] = "cannot update the notify streaks";
	sqlite3_stmt *sel = NULL, *put = NULL;
	struct mc_notify_change *ch = NULL;
	size_t count = 0;

	*out = NULL;
	*n = 0;
	if (mc_state_begin(st, err) < 0)
		return -1;
	if (mc_state_prepare(st, "SELECT notified, candidate, streak FROM"
			     " check_notify WHERE check_name = ?1", &sel, what,
			     err) < 0 ||
	    mc_state_prepare(st, "INSERT INTO check_notify (check_name,"
			     " notified, candidate, streak, updated) VALUES"
			     " (?1, ?2, ?3, ?4, ?5) ON CONFLICT (check_name) DO"
			     " UPDATE SET candidate = excluded.candidate,"
			     " streak = excluded.streak, updated ="
			     " excluded.updated", &put, what, err) < 0)
		goto fail;
	for (size_t i = 0; i < h->n; i++) {
		const struct mc_check_result *r = &h->results[i];
		int notified = MC_ST_OK, cand = -1, streak = 0, rc, threshold;
		const struct mc_conf_section *sec = r->check->sec;

		sqlite3_reset(sel);
		sqlite3_bind_text(sel, 1, r->check->name, -1, SQLITE_TRANSIENT);
		rc = sqlite3_step(sel);
		if (rc == SQLITE_ROW) {
			notified = status_parse((const char *)
						sqlite3_column_text(sel, 0));
			cand = status_parse((const char *)
					    sqlite3_column_text(sel, 1));
			streak = sqlite3_column_int(sel, 2);
			if (notified < 0)
				notified = MC_ST_OK;
		} else if (rc != SQLITE_DONE) {
			mc_state_sqlerr(st, err, what);
			goto fail;
		}
		if (r->status == notified) {
			cand = -1;
			streak = 0;
		} else {
			streak = continues(cand, r->status, notified) ?
				 streak + 1 : 1;
			cand = r->status;
		}
		threshold = r->status == MC_ST_OK ?
			    (int)mc_conf_int(sec, "success_threshold", 2) :
			    (int)mc_conf_int(sec, "failure_threshold", 3);
		if (threshold < 1)
			threshold = 1;
		sqlite3_reset(put);
		sqlite3_bind_text(put, 1, r->check->name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(put, 2, mc_status_name(notified), -1,
				  SQLITE_STATIC);
		if (cand >= 0)
			sqlite3_bind_text(put, 3, mc_status_name(cand), -1,
					  SQLITE_STATIC);
		else
			sqlite3_bind_null(put, 3);
		sqlite3_bind_int(put, 4, streak);
		sqlite3_bind_double(put, 5, now);
		if (sqlite3_step(put) != SQLITE_DONE) {
			mc_state_sqlerr(st, err, what);
			goto fail;
		}
		if (cand >= 0 && streak >= threshold) {
			ch = mc_realloc(ch, (count + 1) * sizeof(*ch));
			ch[count].result = r;
			ch[count].from = notified;
			ch[count].to = r->status;
			ch[count].streak = streak;
			count++;
		}
	}
	sqlite3_finalize(sel);
	sqlite3_finalize(put);
	if (mc_state_commit(st, err) < 0) {
		free(ch);
		return -1;
	}
	*out = ch;
	*n = count;
	return 0;
fail:
	sqlite3_finalize(sel);
	sqlite3_finalize(put);
	mc_state_rollback(st);
	free(ch);
	return -1;
}

int mc_notify_done(struct mc_state *st, const struct mc_notify_change *c,
		   double now, struct mc_err *err)
{
	static const char what[] = "cannot record the notification";
	sqlite3_stmt *s;

	if (mc_state_prepare(st, "UPDATE check_notify SET notified = ?2,"
			     " candidate = NULL, streak = 0, updated = ?3"
			     " WHERE check_name = ?1", &s, what, err) < 0)
		return -1;
	sqlite3_bind_text(s, 1, c->result->check->name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 2, mc_status_name(c->to), -1, SQLITE_STATIC);
	sqlite3_bind_double(s, 3, now);
	return mc_state_exec_stmt(st, s, what, err);
}

void mc_notify_alert(const struct mc_notify_change *c, const char *host,
		     const char *correlation_id, struct mc_alert *a)
{
	const struct mc_check_result *r = c->result;
	/* A check's message may quote what a server or plugin said: only
	 * UTF-8 goes into a payload. */
	char *msg = mc_utf8_clean(r->message ? r->message : "");
	char *kv;

	memset(a, 0, sizeof(*a));
	if (c->to == MC_ST_OK) {
		a->action = MC_ACT_RESOLVE;
		a->severity = MC_SEV_WARNING;	/* the trigger's is used */
		a->summary = mc_asprintf("health check '%s' recovered: %s",
					 r->check->name, msg);
	} else {
		a->action = MC_ACT_TRIGGER;
		a->severity = c->to == MC_ST_CRITICAL && r->check->critical ?
			      MC_SEV_CRITICAL : MC_SEV_WARNING;
		a->summary = mc_asprintf("health check '%s' is %s: %s",
					 r->check->name,
					 mc_status_name(c->to), msg);
	}
	a->description = mc_asprintf("%s check '%s' went from %s to %s (%d "
				     "runs in a row). Last result: %s",
				     r->check->type->name, r->check->name,
				     mc_status_name(c->from),
				     mc_status_name(c->to), c->streak, msg);
	a->source = mc_strdup(host);
	a->correlation_id = mc_strdup(correlation_id);
	a->dedup_key = mc_asprintf("mercury-health/%s/%s", host,
				   r->check->name);
	a->started = mc_wall_now();
	kv = mc_asprintf("alertname=MercuryHealthCheck");
	mc_alert_add_label(a, kv, NULL);
	free(kv);
	kv = mc_asprintf("check=%s", r->check->name);
	mc_alert_add_label(a, kv, NULL);
	free(kv);
	kv = mc_asprintf("check_type=%s", r->check->type->name);
	mc_alert_add_label(a, kv, NULL);
	free(kv);
	free(msg);
}
