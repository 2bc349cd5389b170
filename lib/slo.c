/* slo.c - SLO definitions, the burn-rate policy, evaluation and the
 * concurrent queries of a run. See slo.h. */
#include "slo.h"
#include "log.h"
#include "promapi.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const int64_t mc_slo_burn_windows[7] = {
	5 * 60000LL, 30 * 60000LL, 3600000LL, 2 * 3600000LL, 6 * 3600000LL,
	86400000LL, 3 * 86400000LL,
};

const char *mc_slo_severity_name(int severity)
{
	return severity == MC_SLO_PAGE ? "page" : "ticket";
}

/* ---- definitions -------------------------------------------------------- */

void mc_slo_window_label(int64_t ms, char *buf, size_t size)
{
	mc_format_duration_days(ms, buf, size);
}

char *mc_slo_expand(const char *query, int64_t window_ms)
{
	static const char ph[] = "{{window}}";
	struct mc_buf b = { 0 };
	char label[32];
	const char *p = query, *hit;

	mc_slo_window_label(window_ms, label, sizeof(label));
	mc_buf_puts(&b, "");
	while ((hit = strstr(p, ph)) != NULL) {
		mc_buf_add(&b, p, (size_t)(hit - p));
		mc_buf_puts(&b, label);
		p = hit + sizeof(ph) - 1;
	}
	mc_buf_puts(&b, p);
	return mc_buf_steal(&b);
}

/* A decimal number, all of text: 0 or -1. */
static int number(const char *text, double *out)
{
	char *end;
	double v;

	if (text == NULL || *text == '\0' || strpbrk(text, "xXpPnNiI"))
		return -1;	/* no hex floats, nan or inf */
	v = strtod(text, &end);
	if (end == text || *end != '\0' || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

/* The error budget of an objective as written: 100 - objective to as many
 * decimals as it has, as a ratio (mc_percent_ratio). For "99.9" that is
 * 0.001, not the 0.00099999999999994316 that binary arithmetic gives, so a
 * service burning exactly its budget burns at 1. */
static double budget_of(const char *text, double objective)
{
	const char *dot = strchr(text, '.');
	int decimals = 0;
	char b[64];
	double v;

	if (strpbrk(text, "eE") != NULL) {
		snprintf(b, sizeof(b), "%.12g", 100 - objective);
	} else {
		while (dot && dot[1 + decimals] >= '0' && dot[1 + decimals] <= '9')
			decimals++;
		snprintf(b, sizeof(b), "%.*f", decimals > 20 ? 20 : decimals,
			 100 - objective);
	}
	if (mc_percent_ratio(b, strlen(b), &v) < 0)
		v = (100 - objective) / 100;	/* not reached: b is %f/%g */
	return v;
}

static int parse_cond(char *item, int severity, int64_t period_ms,
		      struct mc_slo_cond *c, char *why, size_t size)
{
	char *words[4], *save = NULL, *t, *text = mc_strdup(mc_trim(item));
	size_t k = 0;
	int64_t lo, sh;
	double th;
	int rc = -1;

	for (t = strtok_r(item, " \t", &save); t && k < 4;
	     t = strtok_r(NULL, " \t", &save))
		words[k++] = t;
	if (k != 3) {
		snprintf(why, size, "'%s' is not LONG SHORT THRESHOLD (e.g. "
			 "1h 5m 14.4, or 1h 5m 2%%)", text);
		goto out;
	}
	if (mc_parse_duration_ms(words[0], &lo, NULL) < 0 || lo <= 0 ||
	    mc_parse_duration_ms(words[1], &sh, NULL) < 0 || sh <= 0) {
		snprintf(why, size, "'%s': windows are durations longer than "
			 "0 (e.g. 1h 5m)", text);
		goto out;
	}
	if (sh >= lo) {
		snprintf(why, size, "'%s': the short window must be shorter "
			 "than the long one", text);
		goto out;
	}
	t = words[2];
	if (t[0] && t[strlen(t) - 1] == '%') {
		t[strlen(t) - 1] = '\0';
		if (number(t, &th) < 0 || th <= 0 || th > 100 ||
		    mc_percent_ratio(t, strlen(t), &th) < 0) {
			snprintf(why, size, "'%s': a budget share is above 0%% "
				 "and at most 100%%", text);
			goto out;
		}
		/* That share of the budget spent within the long window. */
		c->factor = th * (double)period_ms / (double)lo;
	} else {
		if (number(t, &th) < 0 || th <= 0) {
			snprintf(why, size, "'%s': the threshold is a burn "
				 "factor above 0 (e.g. 14.4) or a budget share "
				 "(e.g. 2%%)", text);
			goto out;
		}
		/* Written for a 30-day window: the same share of the budget
		 * within the long window, for this window. */
		c->factor = th * (double)period_ms / (double)MC_SLO_REF_PERIOD_MS;
	}
	c->severity = severity;
	c->long_ms = lo;
	c->short_ms = sh;
	rc = 0;
out:
	free(text);
	return rc;
}

int mc_slo_policy_parse(const char *text, int severity, int64_t period_ms,
			struct mc_slo_cond *conds, size_t max, size_t *n,
			char *why, size_t size)
{
	char *copy = mc_strdup(text ? text : ""), *save = NULL, *item;
	int rc = 0;

	if (strcmp(mc_trim(copy), "none") == 0) {
		free(copy);
		return 0;
	}
	for (item = strtok_r(copy, ",", &save); item && rc == 0;
	     item = strtok_r(NULL, ",", &save)) {
		if (*n >= max) {
			snprintf(why, size, "at most %zu window pairs in all",
				 max);
			rc = -1;
			break;
		}
		rc = parse_cond(item, severity, period_ms, &conds[*n], why,
				size);
		if (rc == 0)
			(*n)++;
	}
	free(copy);
	return rc;
}

/* Adds ms to the sorted set w[0..*n); -1 when full. */
static int add_window(int64_t *w, size_t *n, int64_t ms)
{
	size_t i = 0;

	while (i < *n && w[i] < ms)
		i++;
	if (i < *n && w[i] == ms)
		return 0;
	if (*n >= MC_SLO_MAX_WINDOWS)
		return -1;
	memmove(&w[i + 1], &w[i], (*n - i) * sizeof(*w));
	w[i] = ms;
	(*n)++;
	return 0;
}

/* min_rate: requests per second as a plain number, or N/s, N/m, N/h. */
static int parse_min_rate(const char *text, double *out)
{
	if (text == NULL) {
		*out = 0;
		return 0;
	}
	if (number(text, out) == 0)
		return *out >= 0 ? 0 : -1;
	return mc_parse_rate(text, out, NULL);
}

static int def_fail(struct mc_slo_def *d, const char **key, const char *k)
{
	*key = k;
	mc_slo_def_release(d);
	return -1;
}

int mc_slo_def_from_section(const struct mc_conf_section *s,
			    const struct mc_conf_section *core,
			    struct mc_slo_def *d, const char **key, char *why,
			    size_t size)
{
	static const char *const queries[] = { "error_query", "total_query" };
	static const char *const policies[] = { "page", "ticket" };
	const char *obj = mc_conf_str(s, "objective");
	char *o = mc_strdup(obj ? obj : ""), lw[32], ww[32];
	size_t len = strlen(o);
	int64_t longest = 0;

	memset(d, 0, sizeof(*d));
	d->name = mc_strdup(s->name ? s->name : "");
	if (len > 0 && o[len - 1] == '%')
		o[len - 1] = '\0';
	if (number(mc_trim(o), &d->objective) < 0 || !(d->objective > 0) ||
	    !(d->objective < 100)) {
		snprintf(why, size, "objective must be above 0 and below 100 "
			 "(a percentage such as 99.9), not '%s'",
			 obj ? obj : "");
		free(o);
		return def_fail(d, key, "objective");
	}
	/* the ratio as written ("99.9": 0.999), not objective / 100 */
	if (mc_percent_ratio(mc_trim(o), strlen(mc_trim(o)),
			     &d->objective_ratio) < 0)
		d->objective_ratio = d->objective / 100;
	d->budget = budget_of(o, d->objective);
	free(o);
	d->window_ms = mc_conf_ms(s, "window", MC_SLO_REF_PERIOD_MS);
	if (d->window_ms <= 0) {
		snprintf(why, size, "window must be longer than 0");
		return def_fail(d, key, "window");
	}
	for (size_t i = 0; i < 2; i++) {
		const char *q = mc_conf_str(s, queries[i]);

		if (q == NULL || strstr(q, "{{window}}") == NULL) {
			snprintf(why, size, "%s has no {{window}} placeholder: "
				 "each window's range goes there, e.g. "
				 "sum(rate(http_requests_total[{{window}}]))",
				 queries[i]);
			return def_fail(d, key, queries[i]);
		}
	}
	d->error_query = mc_strdup(mc_conf_str(s, "error_query"));
	d->total_query = mc_strdup(mc_conf_str(s, "total_query"));
	if (parse_min_rate(mc_conf_str(s, "min_rate"), &d->min_rate) < 0) {
		snprintf(why, size, "bad min_rate '%s' (requests per second: "
			 "0.5, or 30/m)", mc_conf_str(s, "min_rate"));
		return def_fail(d, key, "min_rate");
	}
	d->timeout_ms = mc_conf_ms(s, "timeout", 10000);
	for (size_t i = 0; i < 2; i++) {
		char pwhy[256];

		for (const struct mc_conf_value *v = mc_conf_get(s, policies[i]);
		     v; v = v->next) {
			if (mc_slo_policy_parse(v->raw, (int)i, d->window_ms,
						d->conds, MC_SLO_MAX_CONDS,
						&d->n_conds, pwhy,
						sizeof(pwhy)) < 0) {
				snprintf(why, size, "bad %s: %s", policies[i],
					 pwhy);
				return def_fail(d, key, policies[i]);
			}
		}
	}
	for (size_t i = 0; i < MC_ARRAY_LEN(mc_slo_burn_windows); i++)
		add_window(d->windows, &d->n_windows, mc_slo_burn_windows[i]);
	for (size_t i = 0; i < d->n_conds; i++) {
		if (d->conds[i].long_ms > longest)
			longest = d->conds[i].long_ms;
		if (add_window(d->windows, &d->n_windows,
			       d->conds[i].long_ms) < 0 ||
		    add_window(d->windows, &d->n_windows,
			       d->conds[i].short_ms) < 0) {
			snprintf(why, size, "the policy names too many "
				 "windows (at most %d in all, with the seven "
				 "burn windows and the SLO window)",
				 MC_SLO_MAX_WINDOWS);
			return def_fail(d, key, "ticket");
		}
	}
	if (longest > d->window_ms) {
		mc_slo_window_label(longest, lw, sizeof(lw));
		mc_slo_window_label(d->window_ms, ww, sizeof(ww));
		snprintf(why, size, "window %s is shorter than the longest "
			 "burn window %s of its page and ticket policy", ww,
			 lw);
		return def_fail(d, key, "window");
	}
	if (add_window(d->windows, &d->n_windows, d->window_ms) < 0) {
		snprintf(why, size, "too many windows (at most %d in all)",
			 MC_SLO_MAX_WINDOWS);
		return def_fail(d, key, "window");
	}
	for (size_t i = 0; i < d->n_windows; i++)
		if (d->windows[i] == d->window_ms)
			d->window_idx = i;
	mc_breaker_conf_read(core, s, &d->breaker);
	return 0;
}

void mc_slo_def_release(struct mc_slo_def *d)
{
	free(d->name);
	free(d->error_query);
	free(d->total_query);
	memset(d, 0, sizeof(*d));
}

void mc_slo_defs_free(struct mc_slo_def *defs, size_t n)
{
	for (size_t i = 0; defs && i < n; i++)
		mc_slo_def_release(&defs[i]);
	free(defs);
}

int mc_slo_select(const struct mc_conf *conf, const char *const *names,
		  size_t n_names, struct mc_slo_def **out, size_t *n,
		  struct mc_err *err)
{
	const struct mc_conf_section *s = NULL;
	const char *unknown, *near;

	*out = NULL;
	*n = 0;
	if (mc_conf_next(conf, "slo", NULL) == NULL)
		return mc_err_set(err, MC_EXIT_USAGE, "no [slo \"NAME\"] "
				  "section is configured");
	unknown = mc_conf_unknown_name(conf, "slo", names, n_names, &near);
	if (unknown != NULL)
		return mc_err_set(err, MC_EXIT_USAGE, "no SLO named '%s' is "
				  "configured%s%s%s", unknown,
				  near ? " (did you mean '" : "",
				  near ? near : "", near ? "'?)" : "");
	while ((s = mc_conf_next(conf, "slo", s)) != NULL) {
		int keep = n_names == 0;
		const char *key = NULL;
		char why[MC_ERR_MSG - 64];

		for (size_t i = 0; i < n_names; i++)
			keep |= strcmp(names[i], s->name) == 0;
		if (!keep)
			continue;
		*out = mc_realloc(*out, (*n + 1) * sizeof(**out));
		if (mc_slo_def_from_section(s, mc_conf_core(conf),
					    &(*out)[*n], &key, why,
					    sizeof(why)) < 0) {
			mc_slo_defs_free(*out, *n);
			*out = NULL;
			*n = 0;
			/* The loader checked it: only a schema change gets
			 * here. */
			return mc_err_set(err, MC_EXIT_CONFIG, "%s: [slo "
					  "\"%s\"] %s", s->source, s->name, why);
		}
		(*n)++;
	}
	return 0;
}

/* ---- evaluation --------------------------------------------------------- */

static void strv_add(char ***v, size_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void strv_add(char ***v, size_t *n, const char *fmt, ...)
{
	va_list ap;

	*v = mc_realloc(*v, (*n + 1) * sizeof(**v));
	va_start(ap, fmt);
	(*v)[(*n)++] = mc_vasprintf(fmt, ap);
	va_end(ap);
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void mc_slo_eval_release(struct mc_slo_eval *e)
{
	strv_free(e->alerts, e->n_alerts);
	strv_free(e->notes, e->n_notes);
	free(e->error);
	free(e->last.state);
	free(e->last.burn_rates);
	memset(e, 0, sizeof(*e));
}

static void eval_init(struct mc_slo_eval *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < MC_SLO_MAX_WINDOWS; i++)
		out->errors[i] = out->total[i] = out->burn[i] = NAN;
	out->sli = out->sli_ratio = out->consumed = out->remaining =
		out->worst_burn = NAN;
	out->state = MC_ST_OK;
}

void mc_slo_eval_unknown(struct mc_slo_eval *out, const char *fmt, ...)
{
	va_list ap;

	eval_init(out);
	out->state = MC_ST_UNKNOWN;
	va_start(ap, fmt);
	out->error = mc_vasprintf(fmt, ap);
	va_end(ap);
}

/* How much a problem with an answer says about the SLO: the worst one is
 * reported. */
static int problem_rank(const struct mc_slo_answer *a)
{
	if (!a->answered)
		return 6;
	switch (a->kind) {
	case MC_PROMAPI_BAD:
		return 5;
	case MC_PROMAPI_ERROR:
		return 4;
	case MC_PROMAPI_MANY:
		return 3;
	case MC_PROMAPI_EMPTY:
		return 2;
	default:
		return !isfinite(a->value) || a->value < 0 ? 1 : 0;
	}
}

static char *problem_text(const struct mc_slo_answer *a, const char *query,
			  const char *window)
{
	switch (problem_rank(a)) {
	case 6:
		return mc_asprintf("Prometheus unreachable: %s", a->msg);
	case 5:
		return mc_asprintf("%s", a->msg);
	case 4:
		return mc_asprintf("Prometheus: %s (%s over %s)", a->msg, query,
				   window);
	case 3:
		return mc_asprintf("%s over %s returned %zu series: the "
				   "expression must aggregate to one, e.g. "
				   "sum(...)", query, window, a->n_series);
	case 2:
		return mc_asprintf("no data: %s over %s returned no series "
				   "(append 'or vector(0)' where a series may "
				   "be absent)", query, window);
	default:
		return mc_asprintf("%s over %s is %g, not a rate", query,
				   window, a->value);
	}
}

/* Does burn exceed factor (by more than rounding)? */
static int exceeds(double burn, double factor)
{
	return burn > factor * (1 + MC_SLO_EPSILON);
}

int mc_slo_is_burn_window(const struct mc_slo_def *d, size_t i)
{
	if (i != d->window_idx)
		return 1;	/* only burn and policy windows besides it */
	for (size_t k = 0; k < MC_ARRAY_LEN(mc_slo_burn_windows); k++)
		if (mc_slo_burn_windows[k] == d->window_ms)
			return 1;
	for (size_t k = 0; k < d->n_conds; k++)
		if (d->conds[k].long_ms == d->window_ms ||
		    d->conds[k].short_ms == d->window_ms)
			return 1;
	return 0;
}

static size_t window_index(const struct mc_slo_def *d, int64_t ms)
{
	for (size_t i = 0; i < d->n_windows; i++)
		if (d->windows[i] == ms)
			return i;
	MC_BUG("SLO %s: window %lld ms is not queried", d->name,
	       (long long)ms);
}

static void apply_policy(const struct mc_slo_def *d, struct mc_slo_eval *out)
{
	for (size_t c = 0; c < d->n_conds; c++) {
		const struct mc_slo_cond *k = &d->conds[c];
		size_t li = window_index(d, k->long_ms);
		size_t si = window_index(d, k->short_ms);
		char lw[32], sw[32];
		const char *sev = mc_slo_severity_name(k->severity);

		if (!exceeds(out->burn[li], k->factor) ||
		    !exceeds(out->burn[si], k->factor))
			continue;
		mc_slo_window_label(k->long_ms, lw, sizeof(lw));
		mc_slo_window_label(k->short_ms, sw, sizeof(sw));
		if (d->min_rate > 0 && out->total[si] < d->min_rate) {
			strv_add(&out->notes, &out->n_notes, "%s %s/%s not "
				 "firing: %.4g requests/s over %s is below "
				 "min_rate %.4g", sev, lw, sw, out->total[si],
				 sw, d->min_rate);
			continue;
		}
		strv_add(&out->alerts, &out->n_alerts, "%s: %s/%s burn > %.4g",
			 sev, lw, sw, k->factor);
		if (k->severity == MC_SLO_PAGE)
			out->state = MC_ST_CRITICAL;
		else if (out->state == MC_ST_OK)
			out->state = MC_ST_WARNING;
	}
}

void mc_slo_evaluate(const struct mc_slo_def *d,
		     const struct mc_slo_answer *err,
		     const struct mc_slo_answer *tot, struct mc_slo_eval *out)
{
	const struct mc_slo_answer *worst = NULL;
	const char *worst_query = NULL;
	size_t worst_w = 0, quiet = 0;
	struct mc_buf idle = { 0 };
	char label[32];

	eval_init(out);
	for (size_t i = 0; i < d->n_windows; i++) {
		const struct mc_slo_answer *a[2] = { &err[i], &tot[i] };
		static const char *const names[2] = { "error_query",
						       "total_query" };

		for (size_t q = 0; q < 2; q++) {
			int rank = problem_rank(a[q]);

			if (!a[q]->answered || a[q]->kind == MC_PROMAPI_BAD)
				out->breaker_failure = 1;
			if (rank > 0 && (worst == NULL ||
					 rank > problem_rank(worst))) {
				worst = a[q];
				worst_query = names[q];
				worst_w = i;
			}
		}
		if (problem_rank(a[0]) == 0 && problem_rank(a[1]) == 0) {
			out->errors[i] = a[0]->value;
			out->total[i] = a[1]->value;
		}
	}
	for (size_t i = 0; i < d->n_windows; i++) {
		double e = out->errors[i], t = out->total[i];

		if (isnan(e))
			continue;
		mc_slo_window_label(d->windows[i], label, sizeof(label));
		if (t == 0 && e == 0) {
			out->burn[i] = 0;
			quiet++;
			mc_buf_printf(&idle, "%s%s", idle.len ? ", " : "",
				      label);
		} else if (t == 0) {
			if (out->error == NULL && worst == NULL)
				out->error = mc_asprintf(
					"error_query over %s is %g while "
					"total_query is 0", label, e);
			continue;
		} else {
			out->burn[i] = e / t / d->budget;
		}
		if (mc_slo_is_burn_window(d, i) &&
		    (isnan(out->worst_burn) || out->burn[i] > out->worst_burn))
			out->worst_burn = out->burn[i];
	}
	if (!isnan(out->burn[d->window_idx])) {
		double t = out->total[d->window_idx];
		double ratio = t != 0 ? out->errors[d->window_idx] / t : 0;
		out->sli_ratio = 1 - ratio;
		out->sli = 100 * out->sli_ratio;
		out->consumed = ratio / d->budget;
		out->remaining = 1 - out->consumed;
	}
	if (worst != NULL) {
		mc_slo_window_label(d->windows[worst_w], label, sizeof(label));
		free(out->error);
		out->error = problem_text(worst, worst_query, label);
	}
	if (out->error != NULL) {
		out->state = MC_ST_UNKNOWN;
		mc_buf_release(&idle);
		return;
	}
	if (quiet == d->n_windows)
		strv_add(&out->notes, &out->n_notes, "no traffic in any "
			 "window: nothing to burn");
	else if (quiet > 0)
		strv_add(&out->notes, &out->n_notes, "no traffic over %s",
			 idle.data);
	mc_buf_release(&idle);
	apply_policy(d, out);
}

/* ---- a run -------------------------------------------------------------- */

int mc_slo_run_status(const struct mc_slo_eval *evals, size_t n)
{
	int crit = 0, warn = 0, unknown = 0;

	for (size_t i = 0; i < n; i++) {
		crit |= evals[i].state == MC_ST_CRITICAL;
		warn |= evals[i].state == MC_ST_WARNING;
		unknown |= evals[i].state == MC_ST_UNKNOWN;
	}
	return crit ? MC_ST_CRITICAL : warn ? MC_ST_WARNING :
	       unknown ? MC_ST_UNKNOWN : MC_ST_OK;
}

static void breaker_name(const struct mc_slo_def *d, char *buf, size_t size)
{
	snprintf(buf, size, "slo %s", d->name);
}

static void to_answer(const struct mc_http_req *q, struct mc_slo_answer *a)
{
	struct mc_promapi_result r;

	memset(a, 0, sizeof(*a));
	if (!q->done) {
		char *m = mc_redact(q->err.msg[0] ? q->err.msg : "no answer");

		snprintf(a->msg, sizeof(a->msg), "%s", m);
		free(m);
		return;
	}
	a->answered = 1;
	mc_promapi_parse(q->status, q->resp, q->resp_len, &r);
	a->kind = r.kind;
	a->value = r.value;
	a->n_series = r.n_series;
	memcpy(a->msg, r.msg, sizeof(a->msg));
}

int mc_slo_run_queries(struct mc_slo_run *run, struct mc_http *http,
		       struct mc_state *st, const struct mc_deadline *dl,
		       struct mc_err *err)
{
	struct mc_http_req *reqs;
	size_t *first, n = 0, k = 0;
	char *allowed;
	double t0 = mc_mono_now();
	int rc = 0;

	run->started = mc_wall_now();
	run->evals = mc_calloc(run->n ? run->n : 1, sizeof(*run->evals));
	first = mc_calloc(run->n ? run->n : 1, sizeof(*first));
	allowed = mc_calloc(run->n ? run->n : 1, 1);
	for (size_t i = 0; i < run->n; i++) {
		const struct mc_slo_def *d = &run->defs[i];
		char name[300];
		double retry_at = 0;
		struct mc_err be = { 0 };
		int ok = 1;

		breaker_name(d, name, sizeof(name));
		if (st != NULL)
			ok = mc_breaker_allow(st, name, &d->breaker, NULL,
					      &retry_at, &be);
		if (ok == 0) {
			char when[40];

			mc_format_time(retry_at, when, sizeof(when));
			mc_slo_eval_unknown(&run->evals[i], "circuit breaker "
					    "open after repeated failures "
					    "(next try after %s)", when);
			continue;
		}
		if (ok < 0)
			mc_log(MC_LOG_WARN, "%s", be.msg);
		allowed[i] = 1;
		n += 2 * d->n_windows;
	}
	reqs = mc_calloc(n ? n : 1, sizeof(*reqs));
	for (size_t i = 0; i < run->n; i++) {
		const struct mc_slo_def *d = &run->defs[i];

		first[i] = k;
		if (!allowed[i])
			continue;
		for (size_t w = 0; w < d->n_windows; w++) {
			const char *qs[2] = { d->error_query, d->total_query };

			for (size_t q = 0; q < 2; q++) {
				char *expr = mc_slo_expand(qs[q], d->windows[w]);

				reqs[k].url = mc_promapi_query_url(
					run->prometheus, expr, run->at);
				reqs[k].timeout_ms = d->timeout_ms;
				reqs[k].max_attempts = 2;
				k++;
				free(expr);
			}
		}
	}
	run->n_queries = n;
	if (n > 0 && mc_http_perform(http, reqs, n, dl, err) < 0)
		rc = -1;
	for (size_t i = 0; rc == 0 && i < run->n; i++) {
		const struct mc_slo_def *d = &run->defs[i];
		struct mc_slo_answer e[MC_SLO_MAX_WINDOWS];
		struct mc_slo_answer t[MC_SLO_MAX_WINDOWS];
		char name[300];

		if (!allowed[i])
			continue;
		for (size_t w = 0; w < d->n_windows; w++) {
			struct mc_http_req *qe = &reqs[first[i] + 2 * w];

			to_answer(qe, &e[w]);
			to_answer(qe + 1, &t[w]);
			for (size_t q = 0; q < 2; q++)
				if (qe[q].latency_ms > run->slowest_ms)
					run->slowest_ms = qe[q].latency_ms;
		}
		mc_slo_evaluate(d, e, t, &run->evals[i]);
		if (st != NULL) {
			struct mc_err be = { 0 };

			breaker_name(d, name, sizeof(name));
			if (mc_breaker_record(st, name,
					      !run->evals[i].breaker_failure,
					      &d->breaker, NULL, &be) < 0)
				mc_log(MC_LOG_WARN, "%s", be.msg);
		}
	}
	for (size_t i = 0; i < n; i++) {
		free((char *)reqs[i].url);
		mc_http_req_release(&reqs[i]);
	}
	free(reqs);
	free(first);
	free(allowed);
	run->status = mc_slo_run_status(run->evals, run->n);
	run->duration_ms = (mc_mono_now() - t0) * 1e3;
	return rc;
}

void mc_slo_run_release(struct mc_slo_run *run)
{
	for (size_t i = 0; run->evals && i < run->n; i++)
		mc_slo_eval_release(&run->evals[i]);
	free(run->evals);
	mc_slo_defs_free(run->defs, run->n);
	free(run->prometheus);
	memset(run, 0, sizeof(*run));
}
