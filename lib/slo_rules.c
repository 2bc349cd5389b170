/* slo_rules.c - Prometheus rule groups for the configured SLOs (`slo
 * rules`). See slo.h.
 *
 * One group per SLO, "mercury-slo-NAME":
 *   - a recording rule per window, slo:sli_error:ratio_rate<W>, the error
 *     query over the total query, labelled slo="NAME";
 *   - with min_rate, slo:sli_total:rate<W> for each short window;
 *   - the alert MercurySLOBurnRatePage (severity page) firing when a page
 *     pair's long and short error ratios both exceed factor * budget, and
 *     MercurySLOBurnRateTicket likewise for the ticket pairs.
 * The factors are those mercuryctl evaluates (scaled to the SLO window),
 * so `slo status` and the rules agree. */
#include "slo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A YAML double-quoted scalar. */
static void yaml_str(struct mc_buf *b, const char *s)
{
	mc_buf_puts(b, "\"");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			mc_buf_printf(b, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7F)
			mc_buf_printf(b, "\\x%02x", *p);
		else
			mc_buf_add(b, p, 1);
	}
	mc_buf_puts(b, "\"");
}

/* A PromQL string literal (double-quoted, Go escapes). */
static void promql_str(struct mc_buf *b, const char *s)
{
	mc_buf_puts(b, "\"");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			mc_buf_printf(b, "\\%c", *p);
		else if (*p == '\n')
			mc_buf_puts(b, "\\n");
		else if (*p < 0x20 || *p == 0x7F)
			mc_buf_printf(b, "\\x%02x", *p);
		else
			mc_buf_add(b, p, 1);
	}
	mc_buf_puts(b, "\"");
}

/* `slo:sli_error:ratio_rate1h{slo="NAME"}` */
static void series(struct mc_buf *b, const char *what, int64_t ms,
		   const char *name)
{
	char label[32];

	mc_slo_window_label(ms, label, sizeof(label));
	mc_buf_printf(b, "slo:%s%s{slo=", what, label);
	promql_str(b, name);
	mc_buf_puts(b, "}");
}

static void recording(struct mc_buf *b, const char *what, int64_t ms,
		      const char *name, const char *expr)
{
	char label[32];

	mc_slo_window_label(ms, label, sizeof(label));
	mc_buf_printf(b, "      - record: slo:%s%s\n", what, label);
	mc_buf_printf(b, "        expr: |-\n          %s\n", expr);
	mc_buf_puts(b, "        labels:\n          slo: ");
	yaml_str(b, name);
	mc_buf_puts(b, "\n");
}

static int is_short_window(const struct mc_slo_def *d, int64_t ms)
{
	for (size_t i = 0; i < d->n_conds; i++)
		if (d->conds[i].short_ms == ms)
			return 1;
	return 0;
}

static void alert(struct mc_buf *b, const struct mc_slo_def *d, int severity)
{
	const char *sev = mc_slo_severity_name(severity);
	const char *sep = "";
	size_t n = 0;

	for (size_t i = 0; i < d->n_conds; i++)
		n += d->conds[i].severity == severity;
	if (n == 0)
		return;
	mc_buf_printf(b, "      - alert: MercurySLOBurnRate%s\n",
		      severity == MC_SLO_PAGE ? "Page" : "Ticket");
	mc_buf_puts(b, "        expr: |-\n");
	for (size_t i = 0; i < d->n_conds; i++) {
		const struct mc_slo_cond *c = &d->conds[i];
		const int64_t w[2] = { c->long_ms, c->short_ms };

		if (c->severity != severity)
			continue;
		mc_buf_printf(b, "          %s(\n", sep);
		for (size_t k = 0; k < 2; k++) {
			mc_buf_puts(b, k ? "            and\n            " :
					   "            ");
			series(b, "sli_error:ratio_rate", w[k], d->name);
			mc_buf_printf(b, " > (%.15g * %.15g)\n", c->factor,
				      d->budget);
		}
		if (d->min_rate > 0) {
			mc_buf_puts(b, "            and\n            ");
			series(b, "sli_total:rate", c->short_ms, d->name);
			mc_buf_printf(b, " >= %.15g\n", d->min_rate);
		}
		mc_buf_puts(b, "          )\n");
		sep = "or ";
	}
	mc_buf_puts(b, "        labels:\n");
	mc_buf_printf(b, "          severity: %s\n          slo: ", sev);
	yaml_str(b, d->name);
	mc_buf_puts(b, "\n        annotations:\n          summary: ");
	yaml_str(b, severity == MC_SLO_PAGE ?
		 "SLO {{ $labels.slo }} is burning its error budget fast" :
		 "SLO {{ $labels.slo }} is burning its error budget");
	mc_buf_puts(b, "\n          description: ");
	{
		char w[32], *u;

		mc_slo_window_label(d->window_ms, w, sizeof(w));
		u = mc_asprintf("Objective %.15g%% over %s: the error ratio "
				"exceeds the %s burn-rate threshold on both "
				"windows of a pair.", d->objective, w, sev);
		yaml_str(b, u);
		free(u);
	}
	mc_buf_puts(b, "\n");
}

void mc_slo_rules(const struct mc_slo_def *defs, size_t n, struct mc_buf *out)
{
	mc_buf_puts(out, "# Prometheus rules for the SLOs of mercuryctl "
		    "(mercuryctl slo rules).\ngroups:\n");
	for (size_t i = 0; i < n; i++) {
		const struct mc_slo_def *d = &defs[i];
		char *gname = mc_asprintf("mercury-slo-%s", d->name);

		mc_buf_puts(out, "  - name: ");
		yaml_str(out, gname);
		mc_buf_puts(out, "\n    rules:\n");
		free(gname);
		for (size_t w = 0; w < d->n_windows; w++) {
			char *e = mc_slo_expand(d->error_query, d->windows[w]);
			char *t = mc_slo_expand(d->total_query, d->windows[w]);
			char *expr = mc_asprintf("(%s)\n          /\n          "
						 "(%s)", e, t);

			recording(out, "sli_error:ratio_rate", d->windows[w],
				  d->name, expr);
			if (d->min_rate > 0 && is_short_window(d, d->windows[w]))
				recording(out, "sli_total:rate", d->windows[w],
					  d->name, t);
			free(expr);
			free(e);
			free(t);
		}
		alert(out, d, MC_SLO_PAGE);
		alert(out, d, MC_SLO_TICKET);
	}
}
