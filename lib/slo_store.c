/*
 * slo_store.c - SLO evaluations kept in the state file (table
 * slo_results): one row per SLO per run, and the last known values of an
 * SLO that came back unknown. The one place that writes the table;
 * slo_history.c reads it for `slo history`.
 */
#include "slo_store.h"
#include "log.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The JSON object of an evaluation's burn rates, window -> rate. */
static char *burn_json(const struct mc_slo_def *d, const struct mc_slo_eval *e)
{
	json_t *o = json_object();
	char *s, label[32];

	for (size_t w = 0; w < d->n_windows; w++) {
		if (!mc_slo_is_burn_window(d, w) || isnan(e->burn[w]))
			continue;
		mc_slo_window_label(d->windows[w], label, sizeof(label));
		mc_json_set(o, label, json_real(e->burn[w]));
	}
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER |
			  JSON_REAL_PRECISION(17));
	json_decref(o);
	return s;
}

/* The row's message: why it is unknown, else its alerts and notes. */
static char *eval_message(const struct mc_slo_eval *e)
{
	struct mc_buf b = { 0 };
	char *safe;

	mc_buf_puts(&b, "");
	if (e->error)
		mc_buf_puts(&b, e->error);
	for (size_t i = 0; i < e->n_alerts; i++)
		mc_buf_printf(&b, "%s%s", b.len ? "; " : "", e->alerts[i]);
	for (size_t i = 0; i < e->n_notes; i++)
		mc_buf_printf(&b, "%s%s", b.len ? "; " : "", e->notes[i]);
	safe = mc_redact(b.data);
	mc_buf_release(&b);
	return safe;
}

int mc_slo_record(struct mc_state *st, int64_t run_id,
		  const struct mc_slo_run *run, struct mc_err *err)
{
	sqlite3 *db = mc_state_db(st);
	sqlite3_stmt *s = NULL;
	double now = mc_wall_now();

	if (mc_state_begin(st, err) < 0)
		return -1;
	if (sqlite3_prepare_v2(db, "INSERT INTO slo_results (run_id, ts, "
			       "recorded, slo, state, sli, budget_consumed, "
			       "budget_remaining, worst_burn, burn_rates, "
			       "message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			       -1, &s, NULL) != SQLITE_OK)
		goto fail;
	for (size_t i = 0; i < run->n; i++) {
		const struct mc_slo_eval *e = &run->evals[i];
		char *burns = burn_json(&run->defs[i], e);
		char *msg = eval_message(e);
		int rc;

		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, run_id);
		sqlite3_bind_double(s, 2, run->at);
		sqlite3_bind_double(s, 3, now);
		sqlite3_bind_text(s, 4, run->defs[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 5, mc_status_name(e->state), -1,
				  SQLITE_STATIC);
		mc_state_bind_num(s, 6, e->sli);
		mc_state_bind_num(s, 7, e->consumed);
		mc_state_bind_num(s, 8, e->remaining);
		mc_state_bind_num(s, 9, e->worst_burn);
		sqlite3_bind_text(s, 10, burns, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s, 11, msg, -1, SQLITE_TRANSIENT);
		rc = sqlite3_step(s);
		free(burns);
		free(msg);
		if (rc != SQLITE_DONE)
			goto fail;
	}
	sqlite3_finalize(s);
	return mc_state_commit(st, err);
fail:
	mc_state_sqlerr(st, err, "recording SLO results");
	sqlite3_finalize(s);
	mc_state_rollback(st);
	return -1;
}

int mc_slo_last_known(struct mc_state *st, const char *slo, double before,
		      struct mc_slo_last *out, struct mc_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	out->sli = out->consumed = out->remaining = out->worst_burn = NAN;
	if (sqlite3_prepare_v2(mc_state_db(st), "SELECT ts, state, sli, "
			       "budget_consumed, budget_remaining, worst_burn, "
			       "burn_rates FROM slo_results WHERE slo = ?1 AND "
			       "state != 'unknown' AND ts <= ?2 ORDER BY ts "
			       "DESC, id DESC LIMIT 1", -1, &s, NULL) != SQLITE_OK)
		return mc_state_sqlerr(st, err, "cannot read SLO results");
	sqlite3_bind_text(s, 1, slo, -1, SQLITE_STATIC);
	sqlite3_bind_double(s, 2, before);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		out->found = 1;
		out->ts = sqlite3_column_double(s, 0);
		out->state = mc_strdup(mc_state_column_text(s, 1));
		out->sli = mc_state_column_num(s, 2);
		out->consumed = mc_state_column_num(s, 3);
		out->remaining = mc_state_column_num(s, 4);
		out->worst_burn = mc_state_column_num(s, 5);
		out->burn_rates = mc_strdup(mc_state_column_text(s, 6));
	} else if (rc != SQLITE_DONE) {
		mc_state_sqlerr(st, err, "cannot read SLO results");
		sqlite3_finalize(s);
		return -1;
	}
	sqlite3_finalize(s);
	return 0;
}

void mc_slo_fill_last_known(struct mc_state *st, struct mc_slo_run *run)
{
	for (size_t i = 0; st != NULL && i < run->n; i++) {
		struct mc_err le = { 0 };

		if (run->evals[i].state != MC_ST_UNKNOWN)
			continue;
		if (mc_slo_last_known(st, run->defs[i].name, run->at,
				      &run->evals[i].last, &le) < 0)
			mc_log(MC_LOG_WARN, "%s", le.msg);
	}
}
