/* slo_history.c - see slo_history.h. */
#include "slo_history.h"
#include "log.h"
#include "spark.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- history ------------------------------------------------------------ */

static void history_init(struct mc_slo_history *h, const char *slo,
			 size_t width)
{
	memset(h, 0, sizeof(*h));
	h->slo = mc_strdup(slo);
	h->width = width;
	h->remaining = mc_malloc((width ? width : 1) * sizeof(double));
	h->burn = mc_malloc((width ? width : 1) * sizeof(double));
	h->states = mc_malloc((width ? width : 1) * sizeof(int));
	for (size_t i = 0; i < width; i++) {
		h->remaining[i] = h->burn[i] = NAN;
		h->states[i] = -1;
	}
	h->min_remaining = h->max_burn = NAN;
	h->last_sli = h->last_remaining = h->last_burn = NAN;
	h->last_state = -1;
}

static void add_row(struct mc_slo_history *h, sqlite3_stmt *s)
{
	double ts = sqlite3_column_double(s, 0);
	int state = mc_status_parse(mc_state_column_text(s, 1));
	double rem = mc_state_column_num(s, 2), burn = mc_state_column_num(s, 3);
	size_t c = h->width ? mc_spark_cell(ts, h->start, h->end, h->width) : 0;

	if (h->samples > 0 && state != h->last_state)
		h->transitions++;
	h->samples++;
	h->last_ts = ts;
	h->last_state = state;
	h->last_sli = mc_state_column_num(s, 4);
	h->last_remaining = rem;
	h->last_burn = burn;
	free(h->last_message);
	h->last_message = mc_strdup(mc_state_column_text(s, 5));
	if (!isnan(rem) && (isnan(h->min_remaining) || rem < h->min_remaining))
		h->min_remaining = rem;
	if (!isnan(burn) && (isnan(h->max_burn) || burn > h->max_burn))
		h->max_burn = burn;
	if (h->width == 0)
		return;
	if (!isnan(rem) && (isnan(h->remaining[c]) || rem < h->remaining[c]))
		h->remaining[c] = rem;
	if (!isnan(burn) && (isnan(h->burn[c]) || burn > h->burn[c]))
		h->burn[c] = burn;
	if (h->states[c] < 0 ||
	    mc_spark_status_rank(state) > mc_spark_status_rank(h->states[c]))
		h->states[c] = state;
}

int mc_slo_history(struct mc_state *st, const char *slo, double since,
		   double now, size_t width, struct mc_slo_history *out,
		   struct mc_err *err)
{
	static const char what[] = "cannot read SLO history";
	sqlite3_stmt *s = NULL;
	int rc;

	if (since < 0)
		since = 0;
	history_init(out, slo, width);
	out->start = since;
	out->end = now;
	if (sqlite3_prepare_v2(mc_state_db(st),
			       "SELECT ts, state, budget_remaining, worst_burn, "
			       "sli, message, (SELECT min(ts) FROM slo_results "
			       "WHERE slo = ?1 AND ts >= ?2 AND ts <= ?3) "
			       "FROM slo_results WHERE slo = ?1 AND ts >= ?2 "
			       "AND ts <= ?3 ORDER BY ts, id", -1, &s,
			       NULL) != SQLITE_OK) {
		mc_slo_history_release(out);
		return mc_state_sqlerr(st, err, what);
	}
	sqlite3_bind_text(s, 1, slo, -1, SQLITE_STATIC);
	sqlite3_bind_double(s, 2, since);
	sqlite3_bind_double(s, 3, now);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (out->samples == 0 && since <= 0)
			out->start = sqlite3_column_double(s, 6);
		add_row(out, s);
	}
	if (rc != SQLITE_DONE) {
		mc_state_sqlerr(st, err, what);
		sqlite3_finalize(s);
		mc_slo_history_release(out);
		return -1;
	}
	sqlite3_finalize(s);
	return 0;
}

void mc_slo_history_release(struct mc_slo_history *h)
{
	free(h->slo);
	free(h->remaining);
	free(h->burn);
	free(h->states);
	free(h->last_message);
	memset(h, 0, sizeof(*h));
}

/* ---- rendering ---------------------------------------------------------- */

static json_t *num_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static char *state_sparkline(const struct mc_slo_history *h, int color)
{
	struct mc_buf b = { 0 };

	mc_buf_puts(&b, "");
	for (size_t i = 0; i < h->width; i++) {
		int st = h->states[i];

		if (color && st >= 0)
			mc_buf_printf(&b, "\033[%dm%s\033[0m",
				      mc_status_color(mc_status_name(st)),
				      mc_spark_status_glyph(st));
		else
			mc_buf_puts(&b, mc_spark_status_glyph(st));
	}
	return mc_buf_steal(&b);
}

static void pct(double v, char *buf, size_t size)
{
	if (isnan(v))
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.1f%%", v * 100);
}

static void num(double v, char *buf, size_t size)
{
	if (isnan(v))
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.3g", v);
}

void mc_slo_history_report(const struct mc_slo_history *h, double since,
			   double now, struct mc_report *r)
{
	double rem_lo = isnan(h->min_remaining) ? 0 : fmin(0, h->min_remaining);
	double burn_hi = isnan(h->max_burn) ? 1 : fmax(1, h->max_burn);
	char *sp_rem = mc_spark_levels(h->remaining, h->width, rem_lo, 1);
	char *sp_burn = mc_spark_levels(h->burn, h->width, 0, burn_hi);
	char *sp_state = state_sparkline(h, 0), *sp_state_c;
	json_t *cells = json_array(), *sparks = json_object();
	char ts[40], a[32], b[32], c[32], from[40], to[40];
	double cell_s = h->width ? (h->end - h->start) / (double)h->width : 0;

	json_object_set_new(r->doc, "slo", mc_json_str(h->slo));
	mc_report_span(r, since, now);
	json_object_set_new(r->doc, "evaluations",
			    json_integer((json_int_t)h->samples));
	json_object_set_new(r->doc, "transitions",
			    json_integer((json_int_t)h->transitions));
	json_object_set_new(r->doc, "min_budget_remaining",
			    num_or_null(h->min_remaining));
	json_object_set_new(r->doc, "max_worst_burn", num_or_null(h->max_burn));
	if (h->samples > 0) {
		json_t *cur = json_object();

		mc_format_time(h->last_ts, ts, sizeof(ts));
		json_object_set_new(cur, "ts", mc_json_str(ts));
		json_object_set_new(cur, "state",
				    mc_json_str(mc_status_name(h->last_state)));
		json_object_set_new(cur, "sli", num_or_null(h->last_sli));
		json_object_set_new(cur, "budget_remaining",
				    num_or_null(h->last_remaining));
		json_object_set_new(cur, "worst_burn",
				    num_or_null(h->last_burn));
		json_object_set_new(cur, "message", mc_json_str(
			h->last_message ? h->last_message : ""));
		json_object_set_new(r->doc, "current", cur);
	} else {
		json_object_set_new(r->doc, "current", json_null());
	}
	for (size_t i = 0; i < h->width && h->samples > 0; i++) {
		json_t *o = json_object();

		mc_format_time(h->start + cell_s * (double)i, ts, sizeof(ts));
		json_object_set_new(o, "start", mc_json_str(ts));
		json_object_set_new(o, "budget_remaining",
				    num_or_null(h->remaining[i]));
		json_object_set_new(o, "worst_burn", num_or_null(h->burn[i]));
		json_object_set_new(o, "state", h->states[i] < 0 ? json_null() :
				    mc_json_str(mc_status_name(h->states[i])));
		json_array_append_new(cells, o);
	}
	json_object_set_new(r->doc, "cells", cells);
	json_object_set_new(sparks, "budget_remaining", mc_json_str(sp_rem));
	json_object_set_new(sparks, "worst_burn", mc_json_str(sp_burn));
	json_object_set_new(sparks, "state", mc_json_str(sp_state));
	json_object_set_new(r->doc, "sparklines", sparks);

	if (h->samples == 0) {
		mc_buf_printf(&r->text, "no evaluations of SLO '%s' %s\n",
			      h->slo, since > 0 ? "in the span" : "recorded");
		goto out;
	}
	mc_format_time(h->start, from, sizeof(from));
	mc_format_time(h->end, to, sizeof(to));
	from[19] = to[19] = '\0';	/* to the second, for people */
	mc_buf_printf(&r->text, "SLO %s: %zu evaluation%s, %zu state "
		      "change%s, %sZ .. %sZ\n", h->slo, h->samples,
		      h->samples == 1 ? "" : "s", h->transitions,
		      h->transitions == 1 ? "" : "s", from, to);
	pct(h->last_remaining, a, sizeof(a));
	pct(h->min_remaining, b, sizeof(b));
	pct(rem_lo, c, sizeof(c));
	mc_buf_printf(&r->text, "budget remaining  %s  now %s, lowest %s "
		      "(scale %s .. 100%%)\n", sp_rem, a, b, c);
	num(h->last_burn, a, sizeof(a));
	num(h->max_burn, b, sizeof(b));
	num(burn_hi, c, sizeof(c));
	mc_buf_printf(&r->text, "worst burn rate   %s  now %s, highest %s "
		      "(scale 0 .. %s)\n", sp_burn, a, b, c);
	sp_state_c = state_sparkline(h, r->color);
	mc_buf_printf(&r->text, "state             %s  now %s\n", sp_state_c,
		      mc_status_name(h->last_state));
	free(sp_state_c);
	{
		char cell[64];

		mc_format_duration_days((int64_t)llround(cell_s * 1000), cell,
					sizeof(cell));
		mc_buf_printf(&r->text, "(%zu cells of %s; a cell shows its "
			      "lowest budget, highest burn rate and worst "
			      "state; %s no evaluation)\n", h->width, cell,
			      mc_spark_none);
	}
out:
	free(sp_rem);
	free(sp_burn);
	free(sp_state);
}
