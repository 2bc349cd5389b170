/*
 * health_report.c - a health run's renderings: the JSON document, the text
 * table, the Prometheus exposition and the Nagios line with perfdata.
 */
#include "health.h"
#include "plugin.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A message in the text table: its first line, cut to this many
 * characters (JSON and the Nagios long output have it whole). */
#define MESSAGE_COLS 100

/* The STATUS column: a failed check that is not critical is "failed" in
 * yellow (it degrades the run); a critical one keeps its red "critical". */
static int health_cell_color(size_t col, const char *cell)
{
	if (col == 3 && strcmp(cell, "failed") == 0)
		return 33;
	return col == 3 ? mc_status_color(cell) : 0;
}

static char *message_cell(const char *msg)
{
	size_t n = strcspn(msg, "\r\n");
	char *line = mc_strndup(msg, n), *cut;

	if (msg[n] != '\0') {		/* more lines: say so */
		char *more = mc_asprintf("%s …", line);

		free(line);
		line = more;
	}
	cut = mc_column_text(line, MESSAGE_COLS);
	free(line);
	return cut;
}

/* An exec plugin's perfdata: in the Nagios line with every label after
 * "NAME_" (two check_http checks give api_time and web_time, not time
 * twice), in the exposition as mercury_check_perfdata{check, label, uom},
 * and in JSON as "perfdata". */
static void plugin_perf(const struct mc_check_result *res, const char *label,
			struct mc_buf *perf, struct mc_report *r, json_t *o)
{
	struct mc_perf *pf = NULL;
	size_t n = 0;
	char *prefix;
	json_t *arr = json_array();

	struct mc_buf one = { 0 };

	mc_perf_parse(res->perfdata, &pf, &n);
	prefix = mc_asprintf("%s_", res->check->name);
	mc_perf_format(&one, pf, n, prefix);
	if (one.len)
		mc_buf_printf(perf, " %s", one.data);
	mc_buf_release(&one);
	for (size_t i = 0; i < n; i++) {
		char *l = mc_prom_label(pf[i].label), *u = mc_prom_label(pf[i].uom);
		char *labels = mc_asprintf("check=\"%s\",label=\"%s\",uom=\"%s\"",
					   label, l, u);
		json_t *po = json_pack("{s:o, s:o}",
				       "label", mc_json_str(pf[i].label),
				       "uom", mc_json_str(pf[i].uom));

		json_object_set_new(po, "value", isnan(pf[i].value) ?
				    json_null() : json_real(pf[i].value));
		json_array_append_new(arr, po);
		if (!isnan(pf[i].value))
			mc_prom_sample(&r->prom, "mercury_check_perfdata",
				       "gauge", "A value an exec plugin reported "
				       "in its perfdata (uom as it gave it).",
				       labels, pf[i].value);
		free(labels);
		free(u);
		free(l);
	}
	json_object_set_new(o, "perfdata", arr);
	free(prefix);
	mc_perf_free(pf, n);
}

/* The Nagios line: "HEALTH STATUS - counts: the failing checks | perf". */
/* The plugin line and, after it, the long output (one line per check, as
 * the plugin guidelines allow; longout holds "\nNAME: status - message"
 * entries), each line escaped: messages hold what servers and plugins
 * said. */
static char *nagios_line(const struct mc_health *h, const size_t counts[4],
			 const char *perf, const char *longout)
{
	struct mc_buf line = { 0 };
	char *out;
	size_t bad = counts[1] + counts[2] + counts[3];
	const char *up = mc_run_status_word(h->status);

	if (h->n == 0) {
		mc_buf_printf(&line, "HEALTH %s - no check selected", up);
	} else if (bad == 0) {
		mc_buf_printf(&line, "HEALTH %s - %zu of %zu checks ok", up,
			      counts[0], h->n);
	} else {
		const char *sep = "";

		mc_buf_printf(&line, "HEALTH %s - ", up);
		for (int s = 2; s >= 1; s--) {
			if (counts[s] == 0)
				continue;
			mc_buf_printf(&line, "%s%zu of %zu checks %s", sep,
				      counts[s], h->n, mc_status_name(s));
			sep = ", ";
		}
		if (counts[3]) {
			mc_buf_printf(&line, "%s%zu of %zu checks unknown", sep,
				      counts[3], h->n);
		}
		sep = ": ";
		for (size_t i = 0; i < h->n; i++) {
			if (h->results[i].status == MC_ST_OK)
				continue;
			mc_buf_printf(&line, "%s%s %s", sep,
				      h->checks[i].name,
				      h->results[i].message ?
				      h->results[i].message : "");
			sep = "; ";
		}
	}
	/* A '|' in a message would start the perfdata early. */
	for (char *p = line.data; *p; p++)
		if (*p == '|' || *p == '\n')
			*p = '/';
	if (*perf)	/* no "|" before perfdata that is not there */
		mc_buf_printf(&line, " |%s", perf);
	out = mc_escape(line.data ? line.data : "", line.len);
	mc_buf_reset(&line);
	mc_buf_puts(&line, out);
	free(out);
	for (const char *p = longout; p && *p == '\n';) {
		const char *nl = strchr(p + 1, '\n');
		size_t len = nl ? (size_t)(nl - p - 1) : strlen(p + 1);

		out = mc_escape(p + 1, len);
		mc_buf_printf(&line, "\n%s", out);
		free(out);
		p += 1 + len;
	}
	return mc_buf_steal(&line);
}

/* A check's own perfdata: its latency, and the value it measured with
 * its unit and thresholds. */
static void check_perf(struct mc_buf *perf, const struct mc_check_result *res)
{
	const struct mc_check *c = res->check;
	char w[48], k[48], *suffix;

	mc_buf_puts(perf, " ");
	mc_perf_label(perf, c->name, "_latency");
	mc_buf_printf(perf, "=%.3fms", res->latency_ms);
	if (!res->has_value)
		return;
	suffix = res->value_name ? mc_asprintf("_%s", res->value_name) :
		 mc_strdup("");
	mc_buf_puts(perf, " ");
	mc_perf_label(perf, c->name, suffix);
	free(suffix);

	mc_range_format(&c->warn, w, sizeof(w));
	mc_range_format(&c->crit, k, sizeof(k));
	if (mc_streq(res->unit, "%"))
		mc_buf_printf(perf, "=%.2f%%;%s;%s;0;100", res->value, w, k);
	else if (*w || *k)
		mc_buf_printf(perf, "=%.15g%s;%s;%s", res->value,
			      res->unit ? res->unit : "", w, k);
	else
		mc_buf_printf(perf, "=%.15g%s", res->value,
			      res->unit ? res->unit : "");
}

void mc_health_report(const struct mc_health *h, const char *correlation_id,
		      struct mc_report *r)
{
	static const char *const headers[] = { "CHECK", "TYPE", "CRITICAL",
					       "STATUS", "LATENCY", "MESSAGE" };
	json_t *checks = json_object();
	struct mc_table *t = mc_table_new(6, headers);
	struct mc_buf perf = { 0 }, longout = { 0 };
	char ts[40];
	size_t counts[4] = { 0 };

	mc_format_time(h->started, ts, sizeof(ts));
	json_object_set_new(r->doc, "status",
			    mc_json_str(mc_run_status_name(h->status)));
	json_object_set_new(r->doc, "timestamp", mc_json_str(ts));
	json_object_set_new(r->doc, "correlation_id",
			    mc_json_str(correlation_id));
	json_object_set_new(r->doc, "duration_ms", json_real(h->duration_ms));
	for (size_t i = 0; i < h->n; i++) {
		const struct mc_check_result *res = &h->results[i];
		const struct mc_check *c = res->check;
		json_t *o = json_object();
		char lat[32], *label = mc_prom_label(c->name), *labels, *msg;
		const char *cells[6];

		counts[res->status & 3]++;
		json_object_set_new(o, "type", mc_json_str(c->type->name));
		json_object_set_new(o, "status",
				    mc_json_str(mc_status_name(res->status)));
		json_object_set_new(o, "critical", json_boolean(c->critical));
		json_object_set_new(o, "latency_ms", json_real(res->latency_ms));
		json_object_set_new(o, "message", mc_json_str(res->message ?
							     res->message : ""));
		if (res->has_value)
			json_object_set_new(o, "value", json_real(res->value));
		mc_json_set(checks, c->name, o);

		snprintf(lat, sizeof(lat), "%.1fms", res->latency_ms);
		msg = message_cell(res->message ? res->message : "");
		cells[0] = c->name;
		cells[1] = c->type->name;
		cells[2] = c->critical ? "yes" : "no";
		cells[3] = !c->critical && res->status == MC_ST_CRITICAL ?
			   "failed" : mc_status_name(res->status);
		cells[4] = lat;
		cells[5] = msg;
		mc_table_row(t, cells);
		free(msg);
		/* The Nagios long output: one line per check; a '|' or a
		 * line break inside would start perfdata or a line. */
		{
			char *m = mc_strdup(res->message ? res->message : "");

			for (char *p = m; *p; p++)
				if (*p == '|' || *p == '\n' || *p == '\r')
					*p = '/';
			mc_buf_printf(&longout, "\n%s: %s - %s", c->name,
				      mc_status_name(res->status), m);
			free(m);
		}

		labels = mc_asprintf("check=\"%s\",type=\"%s\"", label,
				     c->type->name);
		mc_prom_sample(&r->prom, "mercury_check_status", "gauge",
			       "Check status: 0 ok, 1 warning, 2 critical, 3 unknown.",
			       labels, res->status);
		mc_prom_sample(&r->prom, "mercury_check_latency_seconds", "gauge",
			       "How long the check took.", labels,
			       res->latency_ms / 1e3);
		if (res->has_value)
			mc_prom_sample(&r->prom, "mercury_check_value", "gauge",
				       "The value the check measured.", labels,
				       res->value);
		free(labels);

		if (res->perfdata && *res->perfdata)
			plugin_perf(res, label, &perf, r, o);
		free(label);
		check_perf(&perf, res);
	}
	json_object_set_new(r->doc, "checks", checks);
	mc_prom_sample(&r->prom, "mercury_health_status", "gauge",
		       "Run status: 0 ok, 1 degraded, 2 unavailable, 3 unknown.",
		       NULL, h->status);
	if (h->n > 0)
		mc_table_render(t, &r->text, r->color, health_cell_color);
	mc_table_free(t);
	if (h->n == 0)
		mc_buf_puts(&r->text, "health: unknown: no check was selected "
			    "(a name filter or --critical-only left none), so "
			    "nothing was checked\n");
	else
		mc_buf_printf(&r->text, "health: %s (%zu check%s, %.1f ms)\n",
			      mc_run_status_name(h->status), h->n,
			      h->n == 1 ? "" : "s", h->duration_ms);
	r->nagios = nagios_line(h, counts, perf.data ? perf.data : "",
				longout.data);
	mc_buf_release(&perf);
	mc_buf_release(&longout);
}
