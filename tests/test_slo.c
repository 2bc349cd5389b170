/* test_slo.c - SLO definitions, policy, evaluation, reports and rules
 * (lib/slo.c, lib/slo_report.c, lib/slo_rules.c). Every expected value is
 * worked out by hand from the counts the test feeds in. */
#include <criterion/criterion.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "health.h"
#include "promapi.h"
#include "slo.h"

#define MIN 60000LL
#define HOUR 3600000LL
#define DAY 86400000LL

static const char base_conf[] =
	"[slo \"api\"]\n"
	"objective = 99.9\n"
	"error_query = sum(rate(e[{{window}}]))\n"
	"total_query = sum(rate(t[{{window}}]))\n";

/* The conf text plus extra lines in the [slo "api"] section. */
static struct mc_conf *conf_with(const char *extra)
{
	struct mc_err err = { 0 };
	char *text = mc_asprintf("%s%s", base_conf, extra ? extra : "");
	struct mc_conf *c = mc_conf_load_string(text, "mercury.conf", NULL, 0,
						&err);

	free(text);
	cr_assert_not_null(c, "%s", err.msg);
	return c;
}

static void def_with(const char *extra, struct mc_slo_def *d)
{
	struct mc_conf *c = conf_with(extra);
	struct mc_slo_def *defs = NULL;
	size_t n = 0;
	struct mc_err err = { 0 };

	cr_assert_eq(mc_slo_select(c, NULL, 0, &defs, &n, &err), 0, "%s",
		     err.msg);
	cr_assert_eq(n, 1);
	*d = defs[0];
	free(defs);
	mc_conf_free(c);
}

/* The loader's error for the section with extra lines. */
static void conf_error(const char *text, const char *want)
{
	struct mc_err err = { 0 };
	struct mc_conf *c = mc_conf_load_string(text, "mercury.conf", NULL, 0,
						&err);

	cr_assert_null(c, "loaded; expected: %s", want);
	cr_expect_eq(err.code, MC_EXIT_CONFIG, "%s", err.msg);
	cr_expect(strstr(err.msg, want) != NULL, "'%s' lacks '%s'", err.msg,
		  want);
}

static size_t widx(const struct mc_slo_def *d, int64_t ms)
{
	for (size_t i = 0; i < d->n_windows; i++)
		if (d->windows[i] == ms)
			return i;
	cr_assert_fail("window %lld not queried", (long long)ms);
	return 0;
}

/* Answers: per window the error and total values. */
struct feed {
	struct mc_slo_answer e[MC_SLO_MAX_WINDOWS], t[MC_SLO_MAX_WINDOWS];
};

static void feed_all(const struct mc_slo_def *d, struct feed *f, double e,
		     double t)
{
	memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < d->n_windows; i++) {
		f->e[i].answered = f->t[i].answered = 1;
		f->e[i].kind = f->t[i].kind = MC_PROMAPI_VALUE;
		f->e[i].value = e;
		f->t[i].value = t;
		f->e[i].n_series = f->t[i].n_series = 1;
	}
}

static void feed_one(const struct mc_slo_def *d, struct feed *f, int64_t ms,
		     double e, double t)
{
	size_t i = widx(d, ms);

	f->e[i].value = e;
	f->t[i].value = t;
}

/* ---- definitions -------------------------------------------------------- */

Test(slo, defaults)
{
	struct mc_slo_def d;
	static const int64_t want[] = { 5 * MIN, 30 * MIN, HOUR, 2 * HOUR,
					6 * HOUR, DAY, 3 * DAY, 30 * DAY };

	def_with(NULL, &d);
	cr_expect_str_eq(d.name, "api");
	cr_expect_eq(d.objective, 99.9);
	cr_expect_eq(d.budget, 0.001, "budget %.20g", d.budget);
	cr_expect_eq(d.window_ms, 30 * DAY);
	cr_expect_eq(d.min_rate, 0);
	cr_expect_eq(d.timeout_ms, 10000);
	cr_assert_eq(d.n_windows, MC_ARRAY_LEN(want));
	for (size_t i = 0; i < d.n_windows; i++)
		cr_expect_eq(d.windows[i], want[i], "window %zu", i);
	cr_expect_eq(d.window_idx, 7);
	cr_expect(!mc_slo_is_burn_window(&d, 7), "30d is the SLO window only");
	cr_expect(mc_slo_is_burn_window(&d, 6));
	cr_assert_eq(d.n_conds, 4);
	cr_expect_eq(d.conds[0].severity, MC_SLO_PAGE);
	cr_expect_eq(d.conds[0].long_ms, HOUR);
	cr_expect_eq(d.conds[0].short_ms, 5 * MIN);
	cr_expect(fabs(d.conds[0].factor - 14.4) < 1e-12);
	cr_expect(fabs(d.conds[1].factor - 6) < 1e-12);
	cr_expect_eq(d.conds[2].severity, MC_SLO_TICKET);
	cr_expect(fabs(d.conds[2].factor - 3) < 1e-12);
	cr_expect(fabs(d.conds[3].factor - 1) < 1e-12);
	cr_expect_eq(d.breaker.failures, 5);
	cr_expect_eq(d.breaker.recovery_ms, 30000);
	mc_slo_def_release(&d);
}

Test(slo, budget_as_written)
{
	static const struct {
		const char *objective;
		double budget;
		double ratio;	/* the objective as a ratio, as C reads it */
	} cases[] = {
		{ "99.9", 0.001, 0.999 }, { "99.99", 0.0001, 0.9999 },
		{ "99.95%", 0.0005, 0.9995 }, { "99", 0.01, 0.99 },
		{ "95.5", 0.045, 0.955 }, { "99.999", 0.00001, 0.99999 },
		{ "0.5", 0.995, 0.005 }, { "99.7", 0.003, 0.997 },
		{ "9.99e1", 0.001, 0.999 },
	};

	for (size_t i = 0; i < MC_ARRAY_LEN(cases); i++) {
		char *extra = mc_asprintf("[slo \"b\"]\nobjective = %s\n"
					  "error_query = e[{{window}}]\n"
					  "total_query = t[{{window}}]\n",
					  cases[i].objective);
		struct mc_conf *c = conf_with(extra);
		struct mc_slo_def d;
		const char *key = NULL;
		char why[256];

		cr_assert_eq(mc_slo_def_from_section(mc_conf_find(c, "slo", "b"),
						     NULL, &d, &key, why,
						     sizeof(why)), 0, "%s", why);
		cr_expect_eq(d.budget, cases[i].budget, "%s: %.20g",
			     cases[i].objective, d.budget);
		/* the double nearest to the decimal written / 100, never
		 * objective / 100 (99.9 / 100 is 0.9990000000000001) */
		cr_expect_eq(d.objective_ratio, cases[i].ratio, "%s: %.20g",
			     cases[i].objective, d.objective_ratio);
		mc_slo_def_release(&d);
		mc_conf_free(c);
		free(extra);
	}
}

Test(slo, factors_scale_with_the_window)
{
	struct mc_slo_def d;

	/* 7 days: each factor x 7/30 (a share over the same long window). */
	def_with("window = 7d\n", &d);
	cr_expect(fabs(d.conds[0].factor - 14.4 * 7 / 30) < 1e-12, "%g",
		  d.conds[0].factor);
	cr_expect(fabs(d.conds[0].factor - 3.36) < 1e-12);
	cr_expect(fabs(d.conds[1].factor - 1.4) < 1e-12);
	cr_expect(fabs(d.conds[2].factor - 0.7) < 1e-12);
	cr_expect(fabs(d.conds[3].factor - 7.0 / 30) < 1e-12);
	cr_expect_eq(d.windows[d.window_idx], 7 * DAY);
	mc_slo_def_release(&d);

	/* Budget shares: 2% within 1h of a 28d window is 0.02 x 672 = 13.44,
	 * as Sloth computes it. */
	def_with("window = 28d\npage = 1h 5m 2%\nticket = 3d 6h 10%\n", &d);
	cr_assert_eq(d.n_conds, 2);
	cr_expect(fabs(d.conds[0].factor - 13.44) < 1e-12, "%g",
		  d.conds[0].factor);
	cr_expect(fabs(d.conds[1].factor - 0.1 * 28 / 3) < 1e-12);
	mc_slo_def_release(&d);
}

Test(slo, policy_forms)
{
	struct mc_slo_def d;

	/* Repeated keys add pairs; extra windows are queried too. */
	def_with("page = 2h 10m 10\npage = 12h 1h 3\nticket = none\n", &d);
	cr_assert_eq(d.n_conds, 2);
	cr_expect_eq(d.conds[1].long_ms, 12 * HOUR);
	cr_expect_eq(d.conds[1].short_ms, HOUR);
	widx(&d, 10 * MIN);
	widx(&d, 12 * HOUR);
	cr_expect_eq(d.n_windows, 10);
	mc_slo_def_release(&d);

	/* A short SLO window is fine when the policy fits into it. */
	def_with("window = 1d\nticket = none\n", &d);
	cr_expect_eq(d.n_conds, 2);
	cr_expect_eq(d.windows[d.window_idx], DAY);
	cr_expect(mc_slo_is_burn_window(&d, d.window_idx), "1d is both");
	mc_slo_def_release(&d);
}

Test(slo, policy_parse_refuses)
{
	static const char *const bad[] = {
		"1h 5m", "1h 5m 14.4 x", "5m 1h 14.4", "1h 1h 2", "1h 5m 0",
		"1h 5m -1", "1h 5m 0%", "1h 5m 101%", "1h 5m abc", "1x 5m 1",
		"1h 0 1", "1h 5m nan", "1h 5m inf", "1h 5m 0x10", "",
	};

	for (size_t i = 0; i < MC_ARRAY_LEN(bad); i++) {
		struct mc_slo_cond c[MC_SLO_MAX_CONDS];
		size_t n = 0;
		char why[256] = "";

		cr_expect_eq(mc_slo_policy_parse(bad[i], MC_SLO_PAGE, 30 * DAY,
						 c, MC_SLO_MAX_CONDS, &n, why,
						 sizeof(why)), bad[i][0] ? -1 : 0,
			     "'%s' accepted", bad[i]);
		if (bad[i][0])
			cr_expect(why[0] != '\0');
	}
}

Test(slo, config_errors)
{
	conf_error("[slo \"a\"]\nobjective = 100\nerror_query = e[{{window}}]\n"
		   "total_query = t[{{window}}]\n",
		   "mercury.conf:2: [slo \"a\"] objective must be above 0 and "
		   "below 100 (a percentage such as 99.9), not '100'");
	conf_error("[slo \"a\"]\nobjective = 0\nerror_query = e[{{window}}]\n"
		   "total_query = t[{{window}}]\n", "mercury.conf:2:");
	conf_error("[slo \"a\"]\nobjective = 120\nerror_query = e[{{window}}]\n"
		   "total_query = t[{{window}}]\n", "not '120'");
	conf_error("[slo \"a\"]\nobjective = 99.9x\nerror_query = e[{{window}}]\n"
		   "total_query = t[{{window}}]\n", "objective must be");
	conf_error("[slo \"a\"]\nobjective = 99\nerror_query = e[5m]\n"
		   "total_query = t[{{window}}]\n",
		   "mercury.conf:3: [slo \"a\"] error_query has no {{window}} "
		   "placeholder");
	conf_error("[slo \"a\"]\nobjective = 99\nerror_query = e[{{window}}]\n"
		   "total_query = t[1h]\n", "mercury.conf:4: [slo \"a\"] "
		   "total_query has no {{window}}");
	conf_error("[slo \"a\"]\nobjective = 99\nerror_query = e[{{window}}]\n"
		   "total_query = t[{{window}}]\nwindow = 1d\n",
		   "mercury.conf:5: [slo \"a\"] window 1d is shorter than the "
		   "longest burn window 3d");
	conf_error("[slo \"a\"]\nobjective = 99\nerror_query = e[{{window}}]\n"
		   "total_query = t[{{window}}]\npage = 1h 5m\n",
		   "mercury.conf:5: [slo \"a\"] bad page: '1h 5m' is not LONG "
		   "SHORT THRESHOLD");
	conf_error("[slo \"a\"]\nobjective = 99\nerror_query = e[{{window}}]\n"
		   "total_query = t[{{window}}]\nmin_rate = fast\n",
		   "mercury.conf:5: [slo \"a\"] bad min_rate 'fast'");
	conf_error("[slo \"a\"]\nobjective = 99\nerror_query = e[{{window}}]\n",
		   "missing required key 'total_query'");
	conf_error("[slo \"a\"]\nobjective = 99\nerror_query = e[{{window}}]\n"
		   "total_query = t[{{window}}]\nobjectiv = 1\n",
		   "unknown key 'objectiv' (did you mean 'objective'?)");
}

Test(slo, min_rate_and_breaker)
{
	struct mc_slo_def d;

	def_with("min_rate = 30/m\nbreaker_failures = 2\n"
		 "breaker_recovery = 1m\n", &d);
	cr_expect_eq(d.min_rate, 0.5);
	cr_expect_eq(d.breaker.failures, 2);
	cr_expect_eq(d.breaker.recovery_ms, MIN);
	mc_slo_def_release(&d);
	def_with("min_rate = 0.25\n", &d);
	cr_expect_eq(d.min_rate, 0.25);
	mc_slo_def_release(&d);
}

Test(slo, select_names)
{
	struct mc_conf *c = conf_with("[slo \"web\"]\nobjective = 99\n"
				      "error_query = e[{{window}}]\n"
				      "total_query = t[{{window}}]\n");
	static const char *const one[] = { "web" }, *const typo[] = { "apj" };
	struct mc_slo_def *defs = NULL;
	size_t n = 0;
	struct mc_err err = { 0 };

	cr_assert_eq(mc_slo_select(c, one, 1, &defs, &n, &err), 0);
	cr_expect_eq(n, 1);
	cr_expect_str_eq(defs[0].name, "web");
	mc_slo_defs_free(defs, n);
	cr_expect_eq(mc_slo_select(c, typo, 1, &defs, &n, &err), -1);
	cr_expect_eq(err.code, MC_EXIT_USAGE);
	cr_expect_str_eq(err.msg, "no SLO named 'apj' is configured (did you "
			 "mean 'api'?)");
	mc_conf_free(c);
	c = mc_conf_load_string("", "mercury.conf", NULL, 0, &err);
	cr_assert_not_null(c);
	cr_expect_eq(mc_slo_select(c, NULL, 0, &defs, &n, &err), -1);
	cr_expect_eq(err.code, MC_EXIT_USAGE);
	cr_expect(strstr(err.msg, "no [slo \"NAME\"] section") != NULL);
	mc_conf_free(c);
}

Test(slo, expand)
{
	char *q = mc_slo_expand("a[{{window}}] / b[{{window}}] {{win}}", 30 * DAY);

	cr_expect_str_eq(q, "a[30d] / b[30d] {{win}}");
	free(q);
	q = mc_slo_expand("x[{{window}}]", 90 * MIN);
	cr_expect_str_eq(q, "x[1h30m]");
	free(q);
}

/* ---- evaluation --------------------------------------------------------- */

Test(slo, at_budget_is_ok)
{
	struct mc_slo_def d;
	struct feed f;
	struct mc_slo_eval e;

	def_with(NULL, &d);
	/* 1 bad in 1000, as Prometheus computes it: 1 ulp high. A burn of
	 * 1.0000000000000002 does not exceed the 3d/6h factor 1. */
	feed_all(&d, &f, 0.0015000000000000002, 1.5);
	mc_slo_evaluate(&d, f.e, f.t, &e);
	cr_expect_eq(e.state, MC_ST_OK);
	cr_expect(fabs(e.sli - 99.9) < 1e-12, "%.17g", e.sli);
	cr_expect(fabs(e.consumed - 1) < 1e-12);
	cr_expect(fabs(e.remaining) < 1e-12);
	cr_expect(fabs(e.worst_burn - 1) < 1e-12);
	cr_expect_eq(e.n_alerts, 0);
	cr_expect_null(e.error);
	mc_slo_eval_release(&e);
	mc_slo_def_release(&d);
}

Test(slo, fast_burn_pages)
{
	struct mc_slo_def d;
	struct feed f;
	struct mc_slo_eval e;

	def_with(NULL, &d);
	/* 0.05 % everywhere, then 2 % over the last hour. */
	feed_all(&d, &f, 1, 2000);
	feed_one(&d, &f, 5 * MIN, 40, 2000);
	feed_one(&d, &f, 30 * MIN, 40, 2000);
	feed_one(&d, &f, HOUR, 40, 2000);
	mc_slo_evaluate(&d, f.e, f.t, &e);
	cr_expect_eq(e.state, MC_ST_CRITICAL);
	cr_assert_eq(e.n_alerts, 1);
	cr_expect_str_eq(e.alerts[0], "page: 1h/5m burn > 14.4");
	cr_expect(fabs(e.burn[widx(&d, HOUR)] - 20) < 1e-9);
	cr_expect(fabs(e.burn[widx(&d, 6 * HOUR)] - 0.5) < 1e-9);
	cr_expect(fabs(e.worst_burn - 20) < 1e-9);
	cr_expect(fabs(e.sli - 99.95) < 1e-9, "%.17g", e.sli);
	cr_expect(fabs(e.consumed - 0.5) < 1e-9);
	mc_slo_eval_release(&e);

	/* Only one window of the pair: nothing fires. */
	feed_all(&d, &f, 1, 2000);
	feed_one(&d, &f, 5 * MIN, 40, 2000);
	mc_slo_evaluate(&d, f.e, f.t, &e);
	cr_expect_eq(e.state, MC_ST_OK);
	cr_expect_eq(e.n_alerts, 0);
	mc_slo_eval_release(&e);

	/* The second page pair: 6h and 30m at 8x. */
	feed_all(&d, &f, 1, 2000);
	feed_one(&d, &f, 30 * MIN, 16, 2000);
	feed_one(&d, &f, 6 * HOUR, 16, 2000);
	mc_slo_evaluate(&d, f.e, f.t, &e);
	cr_expect_eq(e.state, MC_ST_CRITICAL);
	cr_assert_eq(e.n_alerts, 1);
	cr_expect_str_eq(e.alerts[0], "page: 6h/30m burn > 6");
	mc_slo_eval_release(&e);
	mc_slo_def_release(&d);
}

Test(slo, slow_burn_tickets)
{
	struct mc_slo_def d;
	struct feed f;
	struct mc_slo_eval e;

	def_with(NULL, &d);
	feed_all(&d, &f, 3, 2000);	/* 1.5x everywhere */
	mc_slo_evaluate(&d, f.e, f.t, &e);
	cr_expect_eq(e.state, MC_ST_WARNING);
	cr_assert_eq(e.n_alerts, 1);
	cr_expect_str_eq(e.alerts[0], "ticket: 3d/6h burn > 1");
	mc_slo_eval_release(&e);

	feed_all(&d, &f, 8, 2000);	/* 4x: both tickets */
	mc_slo_evaluate(&d, f.e, f.t, &e);
	cr_expect_eq(e.state, MC_ST_WARNING);
	cr_assert_eq(e.n_alerts, 2);
	cr_expect_str_eq(e.alerts[0], "ticket: 1d/2h burn > 3");
	mc_slo_eval_release(&e);

	feed_all(&d, &f, 40, 2000);	/* 20x: pages and tickets */
	mc_slo_evaluate(&d, f.e, f.t, &e);
	cr_expect_eq(e.state, MC_ST_CRITICAL);
	cr_expect_eq(e.n_alerts, 4);
	cr_expect(e.remaining < 0, "overspent: %g", e.remaining);
	mc_slo_eval_release(&e);
	mc_slo_def_release(&d);
}

Test(slo, scaled_factors_decide)
{
	struct mc_slo_def d;
	struct feed f;
	struct mc_slo_eval e;

	/* 7d window: page at 3.36. A 4x burn pages, where a 30d SLO would
	 * only open a ticket. */
	def_with("window = 7d\n", &d);
	feed_all(&d, &f, 8, 2000);
	mc_slo_evaluate(&d, f.e, f.t, &e);
	cr_expect_eq(e.state, MC_ST_CRITICAL);
	cr_expect_str_eq(e.alerts[0], "page: 1h/5m burn > 3.36");
	mc_slo_eval_release(&e);
	mc_slo_def_release(&d);
}

Test(slo, no_traffic)
{
	struct mc_slo_def d;
	struct feed f;
	struct mc_slo_eval e;

	def_with(NULL, &d);
	feed_all(&d, &f, 0, 0);
	mc_slo_evaluate(&d, f.e, f.t, &e);
	cr_expect_eq(e.state, MC_ST_OK);
	cr_expect_eq(e.sli, 100);
	cr_expect_eq(e.consumed, 0);
	cr_expect_eq(e.remaining, 1);
	cr_expect_eq(e.worst_burn, 0);
	cr_assert_eq(e.n_notes, 1);
	cr_expect(strstr(e.notes[0], "no traffic in any window") != NULL);
	mc_slo_eval_release(&e);

	/* Quiet for the last half hour only. */
	feed_all(&d, &f, 40, 2000);
	feed_one(&d, &f, 5 * MIN, 0, 0);
	feed_one(&d, &f, 30 * MIN, 0, 0);
	mc_slo_evaluate(&d, f.e, f.t, &e);
	cr_assert_eq(e.n_notes, 1);
	cr_expect_str_eq(e.notes[0], "no traffic over 5m, 30m");
	cr_expect_eq(e.burn[widx(&d, 5 * MIN)], 0);
	/* 1h/5m and 6h/30m cannot fire: their short windows burn 0. */
	cr_expect_eq(e.state, MC_ST_WARNING);
	mc_slo_eval_release(&e);
	mc_slo_def_release(&d);
}

Test(slo, min_rate_guard)
{
	struct mc_slo_def d;
	struct feed f;
	struct mc_slo_eval e;

	def_with("min_rate = 1\n", &d);
	/* 20x burn, but 0.5 requests/s over the 5m window. */
	feed_all(&d, &f, 40, 2000);
	feed_one(&d, &f, 5 * MIN, 0.01, 0.5);
	mc_slo_evaluate(&d, f.e, f.t, &e);
	cr_expect_eq(e.state, MC_ST_CRITICAL, "6h/30m still pages");
	cr_assert_eq(e.n_notes, 1);
	cr_expect_str_eq(e.notes[0], "page 1h/5m not firing: 0.5 requests/s "
			 "over 5m is below min_rate 1");
	for (size_t i = 0; i < e.n_alerts; i++)
		cr_expect(strstr(e.alerts[i], "1h/5m") == NULL);
	mc_slo_eval_release(&e);
	/* At exactly min_rate the pair fires. */
	feed_one(&d, &f, 5 * MIN, 0.02, 1);
	mc_slo_evaluate(&d, f.e, f.t, &e);
	cr_expect_eq(e.n_notes, 0);
	cr_expect_str_eq(e.alerts[0], "page: 1h/5m burn > 14.4");
	mc_slo_eval_release(&e);
	mc_slo_def_release(&d);
}

Test(slo, unknown_answers)
{
	static const struct {
		int answered, kind;
		size_t n_series;
		double value;
		const char *msg, *want;
	} cases[] = {
		{ 1, MC_PROMAPI_EMPTY, 0, 0, "no data",
		  "no data: total_query over 1h returned no series (append 'or "
		  "vector(0)'" },
		{ 1, MC_PROMAPI_MANY, 2, 0, "2 series",
		  "total_query over 1h returned 2 series: the expression must "
		  "aggregate to one" },
		{ 1, MC_PROMAPI_ERROR, 0, 0, "parse error: unexpected",
		  "Prometheus: parse error: unexpected (total_query over 1h)" },
		{ 1, MC_PROMAPI_BAD, 0, 0, "HTTP 200 and not a Prometheus API "
		  "answer (an HTML page)", "HTTP 200 and not a Prometheus API "
		  "answer (an HTML page)" },
		{ 0, 0, 0, 0, "connection refused",
		  "Prometheus unreachable: connection refused" },
		{ 1, MC_PROMAPI_VALUE, 1, NAN, "", "total_query over 1h is nan, "
		  "not a rate" },
		{ 1, MC_PROMAPI_VALUE, 1, -1, "", "total_query over 1h is -1" },
	};
	struct mc_slo_def d;

	def_with(NULL, &d);
	for (size_t i = 0; i < MC_ARRAY_LEN(cases); i++) {
		struct feed f;
		struct mc_slo_eval e;
		size_t h = widx(&d, HOUR);

		feed_all(&d, &f, 1, 2000);
		f.t[h].answered = cases[i].answered;
		f.t[h].kind = cases[i].kind;
		f.t[h].n_series = cases[i].n_series;
		f.t[h].value = cases[i].value;
		snprintf(f.t[h].msg, sizeof(f.t[h].msg), "%s", cases[i].msg);
		mc_slo_evaluate(&d, f.e, f.t, &e);
		cr_expect_eq(e.state, MC_ST_UNKNOWN, "case %zu", i);
		cr_assert_not_null(e.error);
		cr_expect(strstr(e.error, cases[i].want) != NULL,
			  "case %zu: '%s' lacks '%s'", i, e.error, cases[i].want);
		cr_expect(isnan(e.burn[h]));
		cr_expect(fabs(e.burn[widx(&d, 5 * MIN)] - 0.5) < 1e-9,
			  "other windows still reported");
		cr_expect(fabs(e.sli - 99.95) < 1e-9);
		cr_expect_eq(e.n_alerts, 0);
		cr_expect_eq(e.breaker_failure, !cases[i].answered ||
			     cases[i].kind == MC_PROMAPI_BAD, "case %zu", i);
		mc_slo_eval_release(&e);
	}
	mc_slo_def_release(&d);
}

Test(slo, worst_problem_wins)
{
	struct mc_slo_def d;
	struct feed f;
	struct mc_slo_eval e;

	def_with(NULL, &d);
	feed_all(&d, &f, 1, 2000);
	f.e[0].kind = MC_PROMAPI_EMPTY;
	f.t[3].answered = 0;
	snprintf(f.t[3].msg, sizeof(f.t[3].msg), "timed out");
	mc_slo_evaluate(&d, f.e, f.t, &e);
	cr_expect_str_eq(e.error, "Prometheus unreachable: timed out");
	mc_slo_eval_release(&e);

	/* Errors without traffic cannot be. */
	feed_all(&d, &f, 1, 2000);
	feed_one(&d, &f, 5 * MIN, 3, 0);
	mc_slo_evaluate(&d, f.e, f.t, &e);
	cr_expect_eq(e.state, MC_ST_UNKNOWN);
	cr_expect_str_eq(e.error, "error_query over 5m is 3 while total_query "
			 "is 0");
	mc_slo_eval_release(&e);
	mc_slo_def_release(&d);
}

Test(slo, run_status_order)
{
	struct mc_slo_eval e[3];

	memset(e, 0, sizeof(e));
	cr_expect_eq(mc_slo_run_status(e, 3), MC_ST_OK);
	e[0].state = MC_ST_UNKNOWN;
	cr_expect_eq(mc_slo_run_status(e, 3), MC_ST_UNKNOWN);
	e[1].state = MC_ST_WARNING;
	cr_expect_eq(mc_slo_run_status(e, 3), MC_ST_WARNING);
	e[2].state = MC_ST_CRITICAL;
	cr_expect_eq(mc_slo_run_status(e, 3), MC_ST_CRITICAL);
	cr_expect_eq(mc_slo_run_status(e, 0), MC_ST_OK);
}

/* ---- reports and rules -------------------------------------------------- */

static void one_run(struct mc_slo_run *run, const char *extra)
{
	struct feed f;

	memset(run, 0, sizeof(*run));
	run->defs = mc_calloc(2, sizeof(*run->defs));
	def_with(extra, &run->defs[0]);
	def_with(extra, &run->defs[1]);
	free(run->defs[1].name);
	run->defs[1].name = mc_strdup("it's down");
	run->n = 2;
	run->evals = mc_calloc(2, sizeof(*run->evals));
	feed_all(&run->defs[0], &f, 40, 2000);
	mc_slo_evaluate(&run->defs[0], f.e, f.t, &run->evals[0]);
	mc_slo_eval_unknown(&run->evals[1], "Prometheus unreachable: refused");
	run->prometheus = mc_strdup("http://user:s3cret@prom:9090");
	run->at = 1795341600;
	run->started = 1795341601;
	run->n_queries = 16;
	run->status = mc_slo_run_status(run->evals, run->n);
}

Test(slo, report_shapes)
{
	struct mc_slo_run run;
	struct mc_report r;
	json_t *api, *down;

	one_run(&run, NULL);
	mc_report_init(&r, 0);
	mc_slo_report(&run, "cid-1", &r);
	cr_expect_str_eq(json_string_value(json_object_get(r.doc, "status")),
			 "critical");
	cr_expect_str_eq(json_string_value(json_object_get(r.doc,
			 "evaluated_at")), "2026-11-22T10:00:00.000Z");
	cr_expect(strstr(json_string_value(json_object_get(r.doc, "prometheus")),
			 "s3cret") == NULL, "credentials shown");
	api = json_object_get(json_object_get(r.doc, "slos"), "api");
	cr_assert_not_null(api);
	cr_expect_str_eq(json_string_value(json_object_get(api, "state")),
			 "critical");
	cr_expect_eq(json_real_value(json_object_get(api, "objective")), 99.9);
	cr_expect_str_eq(json_string_value(json_object_get(api, "window")),
			 "30d");
	cr_expect(fabs(json_real_value(json_object_get(json_object_get(api,
		  "burn_rates"), "5m")) - 20) < 1e-9);
	cr_expect_null(json_object_get(json_object_get(api, "burn_rates"),
				       "30d"), "the SLO window is no burn window");
	cr_expect_eq(json_real_value(json_object_get(json_object_get(api,
		     "error_budget"), "total")), 0.001);
	cr_expect_eq(json_array_size(json_object_get(api, "alerts")), 4);
	down = json_object_get(json_object_get(r.doc, "slos"), "it's down");
	cr_expect(json_is_null(json_object_get(down, "sli")));
	cr_expect(json_is_null(json_object_get(down, "last_known")));
	cr_expect_str_eq(json_string_value(json_object_get(down, "error")),
			 "Prometheus unreachable: refused");
	{
		static const char want[] = "SLO CRITICAL - 1 of 2 SLOs "
			"critical, 1 of 2 SLOs unknown: api page: 1h/5m burn > "
			"14.4; it's down Prometheus unreachable: refused |";

		cr_expect(strncmp(r.nagios, want, sizeof(want) - 1) == 0,
			  "%s", r.nagios);
		cr_expect_str_eq(r.summary, "SLO CRITICAL - 1 of 2 SLOs "
				 "critical, 1 of 2 SLOs unknown: api page: "
				 "1h/5m burn > 14.4; it's down Prometheus "
				 "unreachable: refused");
	}
	cr_expect(strstr(r.nagios, " api_sli=98%;;;0;100") != NULL, "%s",
		  r.nagios);
	cr_expect(strstr(r.nagios, "'it''s down") == NULL, "no perfdata "
		  "without values");
	cr_expect(strstr(r.prom.data, "mercury_slo_burn_rate{slo=\"api\","
			 "window=\"1h\"} 20") != NULL, "%s", r.prom.data);
	cr_expect(strstr(r.prom.data, "mercury_slo_state{slo=\"it's down\"} 3")
		  != NULL);
	cr_expect(strstr(r.prom.data, "mercury_slo_status 2") != NULL);
	cr_expect(strstr(r.text.data, "api: page: 1h/5m burn > 14.4") != NULL);
	cr_expect(strstr(r.text.data, "it's down: no earlier evaluation") !=
		  NULL, "%s", r.text.data);
	cr_expect(strstr(r.text.data, "\xE2\x96\x91") != NULL, "a bar");
	mc_report_release(&r);
	mc_slo_run_release(&run);
}

Test(slo, rules_text)
{
	struct mc_slo_run run;
	struct mc_buf b = { 0 };

	one_run(&run, "min_rate = 2\n");
	free(run.defs[1].name);
	run.defs[1].name = mc_strdup("we\"ird\\");
	mc_slo_rules(run.defs, run.n, &b);
	cr_expect(strstr(b.data, "  - name: \"mercury-slo-api\"\n") != NULL);
	cr_expect(strstr(b.data, "      - record: slo:sli_error:ratio_rate30d\n")
		  != NULL);
	cr_expect(strstr(b.data, "(sum(rate(e[6h])))\n          /\n          "
			 "(sum(rate(t[6h])))") != NULL, "%s", b.data);
	cr_expect(strstr(b.data, "slo:sli_error:ratio_rate1h{slo=\"api\"} > "
			 "(14.4 * 0.001)") != NULL);
	cr_expect(strstr(b.data, "slo:sli_total:rate5m{slo=\"api\"} >= 2") !=
		  NULL, "the min_rate guard");
	cr_expect(strstr(b.data, "- record: slo:sli_total:rate1d") == NULL,
		  "1d is no short window");
	cr_expect(strstr(b.data, "name: \"mercury-slo-we\\\"ird\\\\\"") != NULL,
		  "YAML escapes: %s", b.data);
	cr_expect(strstr(b.data, "{slo=\"we\\\"ird\\\\\"}") != NULL,
		  "PromQL escapes");
	cr_expect(strstr(b.data, "      - alert: MercurySLOBurnRateTicket\n") !=
		  NULL);
	mc_buf_release(&b);
	mc_slo_run_release(&run);
}
