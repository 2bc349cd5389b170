/*
 * health_report.c - a health run's renderings: the JSON document, the text
 * table, the Prometheus exposition and the Nagios line with perfdata.
 */
#include "health.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int health_cell_color(size_t col, const char *cell)
{
	return col == 2 ? mc_status_color(cell) : 0;
}

/* The Nagios line: "HEALTH STATUS - counts: the failing checks | perf". */
static char *nagios_line(const struct mc_health *h, const size_t counts[4],
			 const char *perf)
{
	struct mc_buf line = { 0 };
	char up[16], *out;
	size_t bad = counts[1] + counts[2] + counts[3];
	const char *name = mc_run_status_name(h->status);

	for (size_t i = 0; name[i] && i < sizeof(up) - 1; i++)
		up[i] = (char)(name[i] >= 'a' && name[i] <= 'z' ?
			       name[i] - 32 : name[i]);
	up[strlen(name) < sizeof(up) ? strlen(name) : sizeof(up) - 1] = 0;
	if (bad == 0) {
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
	mc_buf_printf(&line, " |%s", perf);
	/* Check messages hold what servers and plugins said. */
	out = mc_escape(line.data ? line.data : "", line.len);
	mc_buf_release(&line);
	return out;
}

void mc_health_report(const struct mc_health *h, const char *correlation_id,
		      struct mc_report *r)
{
	static const char *const headers[] = { "CHECK", "TYPE", "STATUS",
					       "LATENCY", "MESSAGE" };
	json_t *checks = json_object();
	struct mc_table *t = mc_table_new(5, headers);
	struct mc_buf perf = { 0 };
	char ts[40];
	size_t counts[4] = { 0 };

	mc_format_time(h->started, ts, sizeof(ts));
	json_object_set_new(r->doc, "status",
			    json_string(mc_run_status_name(h->status)));
	json_object_set_new(r->doc, "timestamp", json_string(ts));
	json_object_set_new(r->doc, "correlation_id",
			    json_string(correlation_id));
	json_object_set_new(r->doc, "duration_ms", json_real(h->duration_ms));
	for (size_t i = 0; i < h->n; i++) {
		const struct mc_check_result *res = &h->results[i];
		const struct mc_check *c = res->check;
		json_t *o = json_object();
		char lat[32], *label = mc_prom_label(c->name), *labels;
		const char *cells[5];

		counts[res->status & 3]++;
		json_object_set_new(o, "type", json_string(c->type->name));
		json_object_set_new(o, "status",
				    json_string(mc_status_name(res->status)));
		json_object_set_new(o, "critical", json_boolean(c->critical));
		json_object_set_new(o, "latency_ms", json_real(res->latency_ms));
		json_object_set_new(o, "message", json_string(res->message ?
							     res->message : ""));
		if (res->has_value)
			json_object_set_new(o, "value", json_real(res->value));
		json_object_set_new(checks, c->name, o);

		snprintf(lat, sizeof(lat), "%.1fms", res->latency_ms);
		cells[0] = c->name;
		cells[1] = c->type->name;
		cells[2] = mc_status_name(res->status);
		cells[3] = lat;
		cells[4] = res->message ? res->message : "";
		mc_table_row(t, cells);

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
		free(label);

		if (res->perfdata && *res->perfdata)
			mc_buf_printf(&perf, " %s", res->perfdata);
		mc_buf_puts(&perf, " ");
		mc_perf_label(&perf, c->name, "_latency");
		mc_buf_printf(&perf, "=%.3fms", res->latency_ms);
		if (res->has_value) {
			mc_buf_puts(&perf, " ");
			mc_perf_label(&perf, c->name, "");
			char w[48], k[48];

			mc_range_format(&c->warn, w, sizeof(w));
			mc_range_format(&c->crit, k, sizeof(k));
			if (mc_streq(res->unit, "%"))
				mc_buf_printf(&perf, "=%.2f%%;%s;%s;0;100",
					      res->value, w, k);
			else if (*w || *k)
				mc_buf_printf(&perf, "=%.15g%s;%s;%s", res->value,
					      res->unit ? res->unit : "", w, k);
			else
				mc_buf_printf(&perf, "=%.15g%s", res->value,
					      res->unit ? res->unit : "");
		}
	}
	json_object_set_new(r->doc, "checks", checks);
	mc_prom_sample(&r->prom, "mercury_health_status", "gauge",
		       "Run status: 0 ok, 1 degraded, 2 unavailable, 3 unknown.",
		       NULL, h->status);
	mc_table_render(t, &r->text, r->color, health_cell_color);
	mc_table_free(t);
	mc_buf_printf(&r->text, "health: %s (%zu check%s, %.1f ms)\n",
		      mc_run_status_name(h->status), h->n, h->n == 1 ? "" : "s",
		      h->duration_ms);
	r->nagios = nagios_line(h, counts, perf.data ? perf.data : "");
	mc_buf_release(&perf);
}
