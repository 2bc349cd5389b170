/* slo_report.c - the renderings of `slo status`. See slo.h. */
#include "slo.h"
#include "log.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Cells of the remaining-budget bar. */
#define BAR_WIDTH 20

static json_t *num_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *strv_json(char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, mc_json_str(v[i]));
	return a;
}

static json_t *burn_rates_json(const struct mc_slo_def *d,
			       const struct mc_slo_eval *e)
{
	json_t *o = json_object();
	char label[32];

	for (size_t w = 0; w < d->n_windows; w++) {
		if (!mc_slo_is_burn_window(d, w))
			continue;
		mc_slo_window_label(d->windows[w], label, sizeof(label));
		mc_json_set(o, label, num_or_null(e->burn[w]));
	}
	return o;
}

static json_t *budget_json(double total, double consumed, double remaining)
{
	json_t *o = json_object();

	json_object_set_new(o, "total", json_real(total));
	json_object_set_new(o, "consumed", num_or_null(consumed));
	json_object_set_new(o, "remaining", num_or_null(remaining));
	return o;
}

static json_t *last_json(const struct mc_slo_def *d,
			 const struct mc_slo_last *l, double at)
{
	json_t *o, *burns;
	char ts[40];

	if (!l->found)
		return json_null();
	o = json_object();
	mc_format_time(l->ts, ts, sizeof(ts));
	json_object_set_new(o, "ts", mc_json_str(ts));
	json_object_set_new(o, "age_s", json_real(at - l->ts));
	json_object_set_new(o, "state", mc_json_str(l->state));
	json_object_set_new(o, "sli", num_or_null(l->sli));
	json_object_set_new(o, "error_budget", budget_json(d->budget,
		l->consumed, l->remaining));
	json_object_set_new(o, "worst_burn", num_or_null(l->worst_burn));
	burns = json_loads(l->burn_rates ? l->burn_rates : "", 0, NULL);
	json_object_set_new(o, "burn_rates", json_is_object(burns) ? burns :
			    json_object());
	if (!json_is_object(burns))
		json_decref(burns);
	return o;
}

static json_t *policy_json(const struct mc_slo_def *d)
{
	json_t *a = json_array();
	char lw[32], sw[32];

	for (size_t i = 0; i < d->n_conds; i++) {
		const struct mc_slo_cond *c = &d->conds[i];

		mc_slo_window_label(c->long_ms, lw, sizeof(lw));
		mc_slo_window_label(c->short_ms, sw, sizeof(sw));
		json_array_append_new(a, json_pack("{s:o,s:o,s:o,s:f}",
			"severity",
			mc_json_str(mc_slo_severity_name(c->severity)),
			"long", mc_json_str(lw), "short", mc_json_str(sw),
			"factor", c->factor));
	}
	return a;
}

static json_t *slo_json(const struct mc_slo_def *d,
			const struct mc_slo_eval *e, double at)
{
	json_t *o = json_object();
	char w[32];

	mc_slo_window_label(d->window_ms, w, sizeof(w));
	json_object_set_new(o, "state", mc_json_str(mc_status_name(e->state)));
	json_object_set_new(o, "objective", json_real(d->objective));
	json_object_set_new(o, "window", mc_json_str(w));
	json_object_set_new(o, "sli", num_or_null(e->sli));
	json_object_set_new(o, "error_budget", budget_json(d->budget,
		e->consumed, e->remaining));
	json_object_set_new(o, "burn_rates", burn_rates_json(d, e));
	json_object_set_new(o, "worst_burn", num_or_null(e->worst_burn));
	json_object_set_new(o, "alerts", strv_json(e->alerts, e->n_alerts));
	json_object_set_new(o, "notes", strv_json(e->notes, e->n_notes));
	json_object_set_new(o, "policy", policy_json(d));
	if (d->min_rate > 0)
		json_object_set_new(o, "min_rate", json_real(d->min_rate));
	if (e->state == MC_ST_UNKNOWN) {
		json_object_set_new(o, "error", mc_json_str(e->error ? e->error :
							    "unknown"));
		json_object_set_new(o, "last_known", last_json(d, &e->last, at));
	}
	return o;
}

/* "████████░░░░ 47.3%" */
static void budget_bar(double remaining, char *buf, size_t size)
{
	size_t fill, off = 0;

	if (isnan(remaining)) {
		snprintf(buf, size, "-");
		return;
	}
	fill = remaining <= 0 ? 0 : remaining >= 1 ? BAR_WIDTH :
	       (size_t)floor(remaining * BAR_WIDTH + 0.5);
	for (size_t i = 0; i < BAR_WIDTH && off + 4 < size; i++) {
		memcpy(buf + off, i < fill ? "\xE2\x96\x88" : "\xE2\x96\x91", 3);
		off += 3;
	}
	snprintf(buf + off, size - off, " %.1f%%", remaining * 100);
}

static void fmt_burn(double v, char *buf, size_t size)
{
	if (isnan(v))
		snprintf(buf, size, "-");
	else if (v >= 1000)
		snprintf(buf, size, "%.0f", v);
	else
		snprintf(buf, size, "%.3g", v);
}

static void fmt_sli(double v, char *buf, size_t size)
{
	if (isnan(v))
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.4f%%", v);
}

static int slo_cell_color(size_t col, const char *cell)
{
	return col == 1 ? mc_status_color(cell) : 0;
}

static void age_text(double s, char *buf, size_t size)
{
	mc_format_duration_days(s > 0 ? (int64_t)llround(s) * 1000 : 0, buf,
				size);
}

static void text_report(const struct mc_slo_run *run, struct mc_report *r,
			const char *prom)
{
	const char *headers[4 + MC_ARRAY_LEN(mc_slo_burn_windows)] = {
		"SLO", "STATE", "SLI", "BUDGET LEFT",
	};
	char labels[MC_ARRAY_LEN(mc_slo_burn_windows)][32], at[40];
	struct mc_table *t;
	const size_t nb = MC_ARRAY_LEN(mc_slo_burn_windows);

	for (size_t i = 0; i < nb; i++) {
		mc_slo_window_label(mc_slo_burn_windows[i], labels[i],
				    sizeof(labels[i]));
		headers[4 + i] = labels[i];
	}
	t = mc_table_new(4 + nb, headers);
	for (size_t i = 0; i < run->n; i++) {
		const struct mc_slo_def *d = &run->defs[i];
		const struct mc_slo_eval *e = &run->evals[i];
		char sli[32], bar[128], burns[MC_ARRAY_LEN(mc_slo_burn_windows)][32];
		const char *cells[4 + MC_ARRAY_LEN(mc_slo_burn_windows)];

		fmt_sli(e->sli, sli, sizeof(sli));
		budget_bar(e->remaining, bar, sizeof(bar));
		cells[0] = d->name;
		cells[1] = mc_status_name(e->state);
		cells[2] = sli;
		cells[3] = bar;
		for (size_t k = 0; k < nb; k++) {
			double v = NAN;

			for (size_t w = 0; w < d->n_windows; w++)
				if (d->windows[w] == mc_slo_burn_windows[k])
					v = e->burn[w];
			fmt_burn(v, burns[k], sizeof(burns[k]));
			cells[4 + k] = burns[k];
		}
		mc_table_row(t, cells);
	}
	mc_table_render(t, &r->text, r->color, slo_cell_color);
	mc_table_free(t);
	for (size_t i = 0; i < run->n; i++) {
		const struct mc_slo_def *d = &run->defs[i];
		const struct mc_slo_eval *e = &run->evals[i];

		if (e->error)
			mc_buf_printf(&r->text, "%s: %s\n", d->name, e->error);
		for (size_t k = 0; k < e->n_alerts; k++)
			mc_buf_printf(&r->text, "%s: %s\n", d->name,
				      e->alerts[k]);
		for (size_t k = 0; k < e->n_notes; k++)
			mc_buf_printf(&r->text, "%s: note: %s\n", d->name,
				      e->notes[k]);
		if (e->state == MC_ST_UNKNOWN && e->last.found) {
			char age[32], sl[32], rem[32];

			age_text(run->at - e->last.ts, age, sizeof(age));
			fmt_sli(e->last.sli, sl, sizeof(sl));
			snprintf(rem, sizeof(rem), isnan(e->last.remaining) ?
				 "-" : "%.1f%%", e->last.remaining * 100);
			mc_buf_printf(&r->text, "%s: last known %s ago: %s, "
				      "SLI %s, budget left %s\n", d->name, age,
				      e->last.state, sl, rem);
		} else if (e->state == MC_ST_UNKNOWN) {
			mc_buf_printf(&r->text, "%s: no earlier evaluation "
				      "recorded\n", d->name);
		}
	}
	mc_format_time(run->at, at, sizeof(at));
	mc_buf_printf(&r->text, "slo: %s (%zu SLO%s, %zu queries to %s at "
		      "%s, %.1f ms)\n", mc_status_name(run->status), run->n,
		      run->n == 1 ? "" : "s", run->n_queries, prom, at,
		      run->duration_ms);
}

static void prom_report(const struct mc_slo_run *run, struct mc_report *r)
{
	for (size_t i = 0; i < run->n; i++) {
		const struct mc_slo_def *d = &run->defs[i];
		const struct mc_slo_eval *e = &run->evals[i];
		char *name = mc_prom_label(d->name);
		char *labels = mc_asprintf("slo=\"%s\"", name);

		mc_prom_sample(&r->prom, "mercury_slo_state", "gauge",
			       "SLO state: 0 ok, 1 warning, 2 critical, 3 unknown.",
			       labels, e->state);
		mc_prom_sample(&r->prom, "mercury_slo_objective_ratio", "gauge",
			       "The objective, as a ratio.", labels,
			       d->objective_ratio);
		if (!isnan(e->sli))
			mc_prom_sample(&r->prom, "mercury_slo_sli_ratio",
				       "gauge", "The SLI over the SLO window, "
				       "as a ratio.", labels, e->sli_ratio);
		if (!isnan(e->consumed))
			mc_prom_sample(&r->prom,
				       "mercury_slo_error_budget_consumed_ratio",
				       "gauge", "Share of the error budget "
				       "spent over the SLO window.", labels,
				       e->consumed);
		if (!isnan(e->remaining))
			mc_prom_sample(&r->prom,
				       "mercury_slo_error_budget_remaining_ratio",
				       "gauge", "Share of the error budget "
				       "left (negative when overspent).",
				       labels, e->remaining);
		for (size_t w = 0; w < d->n_windows; w++) {
			char label[32], *l;

			if (!mc_slo_is_burn_window(d, w) || isnan(e->burn[w]))
				continue;
			mc_slo_window_label(d->windows[w], label, sizeof(label));
			l = mc_asprintf("slo=\"%s\",window=\"%s\"", name, label);
			mc_prom_sample(&r->prom, "mercury_slo_burn_rate",
				       "gauge", "Error ratio over the window "
				       "divided by the error budget.", l,
				       e->burn[w]);
			free(l);
		}
		free(labels);
		free(name);
	}
	mc_prom_sample(&r->prom, "mercury_slo_status", "gauge",
		       "Run status: 0 ok, 1 warning, 2 critical, 3 unknown.",
		       NULL, run->status);
	mc_prom_sample(&r->prom, "mercury_slo_queries", "gauge",
		       "Prometheus queries sent by the run.", NULL,
		       (double)run->n_queries);
}

static void nagios_report(const struct mc_slo_run *run, struct mc_report *r)
{
	struct mc_buf line = { 0 }, perf = { 0 };
	size_t counts[4] = { 0 };
	const char *sep = ": ";
	const char *up = mc_status_word(run->status);

	for (size_t i = 0; i < run->n; i++)
		counts[run->evals[i].state & 3]++;
	mc_buf_printf(&line, "SLO %s - ", up);
	if (counts[0] == run->n) {
		mc_buf_printf(&line, "%zu of %zu SLOs ok", counts[0], run->n);
	} else {
		const char *s = "";
		static const int order[] = { MC_ST_CRITICAL, MC_ST_WARNING,
					     MC_ST_UNKNOWN };

		for (size_t k = 0; k < MC_ARRAY_LEN(order); k++) {
			if (counts[order[k]] == 0)
				continue;
			mc_buf_printf(&line, "%s%zu of %zu SLOs %s", s,
				      counts[order[k]], run->n,
				      mc_status_name(order[k]));
			s = ", ";
		}
	}
	for (size_t i = 0; i < run->n; i++) {
		const struct mc_slo_eval *e = &run->evals[i];

		if (e->state == MC_ST_OK)
			continue;
		mc_buf_printf(&line, "%s%s %s", sep, run->defs[i].name,
			      e->error ? e->error : e->n_alerts ?
			      e->alerts[0] : "");
		sep = "; ";
	}
	for (char *p = line.data; *p; p++)
		if (*p == '|' || *p == '\n')
			*p = '/';
	for (size_t i = 0; i < run->n; i++) {
		const struct mc_slo_def *d = &run->defs[i];
		const struct mc_slo_eval *e = &run->evals[i];

		if (!isnan(e->sli)) {
			mc_buf_puts(&perf, " ");
			mc_perf_label(&perf, d->name, "_sli");
			mc_buf_puts(&perf, "=");
			mc_buf_printf(&perf, "%.6g%%;;;0;100", e->sli);
		}
		if (!isnan(e->remaining)) {
			mc_buf_puts(&perf, " ");
			mc_perf_label(&perf, d->name, "_budget_remaining");
			mc_buf_puts(&perf, "=");
			mc_buf_printf(&perf, "%.4g%%;;;;100",
				      e->remaining * 100);
		}
		if (!isnan(e->worst_burn)) {
			mc_buf_puts(&perf, " ");
			mc_perf_label(&perf, d->name, "_worst_burn");
			mc_buf_puts(&perf, "=");
			mc_buf_printf(&perf, "%.6g", e->worst_burn);
		}
	}
	r->summary = mc_strdup(line.data);
	if (perf.len)	/* no "|" before perfdata that is not there */
		mc_buf_printf(&line, " |%s", perf.data);
	/* Prometheus's error texts may be in it. */
	r->nagios = mc_escape(line.data ? line.data : "", line.len);
	mc_buf_release(&line);
	mc_buf_release(&perf);
}

void mc_slo_report(const struct mc_slo_run *run, const char *correlation_id,
		   struct mc_report *r)
{
	json_t *slos = json_object();
	char *prom = mc_redact_url(run->prometheus, 0);
	char ts[40];

	json_object_set_new(r->doc, "status",
			    mc_json_str(mc_status_name(run->status)));
	mc_format_time(run->started, ts, sizeof(ts));
	json_object_set_new(r->doc, "timestamp", mc_json_str(ts));
	mc_format_time(run->at, ts, sizeof(ts));
	json_object_set_new(r->doc, "evaluated_at", mc_json_str(ts));
	json_object_set_new(r->doc, "prometheus", mc_json_str(prom));
	json_object_set_new(r->doc, "correlation_id",
			    mc_json_str(correlation_id));
	json_object_set_new(r->doc, "duration_ms", json_real(run->duration_ms));
	json_object_set_new(r->doc, "queries",
			    json_integer((json_int_t)run->n_queries));
	json_object_set_new(r->doc, "slowest_query_ms",
			    json_real(run->slowest_ms));
	for (size_t i = 0; i < run->n; i++)
		mc_json_set(slos, run->defs[i].name,
			    slo_json(&run->defs[i], &run->evals[i],
				     run->at));
	json_object_set_new(r->doc, "slos", slos);
	text_report(run, r, prom);
	prom_report(run, r);
	nagios_report(run, r);
	free(prom);
}
