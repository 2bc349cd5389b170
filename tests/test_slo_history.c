/* test_slo_history.c - SLO results in the state file and `slo history`
 * (lib/slo_history.c). The expected values are worked out by hand from
 * the rows the test writes. */
#include <criterion/criterion.h>

#include "testlib.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health.h"
#include "mc.h"
#include "promapi.h"
#include "slo.h"
#include "slo_history.h"
#include "slo_store.h"
#include "state.h"

/* 2026-11-22T10:00:00Z */
#define T0 1795341600.0

static char dirbuf[MC_TEST_DIR_LEN];
static struct mc_state *st;
static int64_t run_id;

static void setup(void)
{
	struct mc_err err = { 0 };
	char *path = mc_asprintf("%s/state.db", mc_test_dir(dirbuf));

	st = mc_state_open(path, &err);
	free(path);
	cr_assert_not_null(st, "%s", err.msg);
	cr_assert_eq(mc_state_run_begin(st, "slo status", "", NULL, 1, &run_id,
					&err), 0, "%s", err.msg);
}

static void teardown(void)
{
	mc_state_close(st);
	st = NULL;
	mc_test_rmtree(dirbuf);
}

TestSuite(slo_history, .init = setup, .fini = teardown);

/* A run of one SLO "api" at `at` whose every window saw e errors of t
 * requests (e < 0: Prometheus unreachable). */
static void record(double at, double e, double t)
{
	struct mc_err err = { 0 };
	struct mc_conf *c = mc_conf_load_string(
		"[slo \"api\"]\nobjective = 99\nerror_query = e[{{window}}]\n"
		"total_query = t[{{window}}]\n", "m.conf", NULL, 0, &err);
	struct mc_slo_run run;
	struct mc_slo_answer ea[MC_SLO_MAX_WINDOWS], ta[MC_SLO_MAX_WINDOWS];

	cr_assert_not_null(c, "%s", err.msg);
	memset(&run, 0, sizeof(run));
	cr_assert_eq(mc_slo_select(c, NULL, 0, &run.defs, &run.n, &err), 0);
	mc_conf_free(c);
	run.evals = mc_calloc(1, sizeof(*run.evals));
	run.prometheus = mc_strdup("http://p");
	run.at = at;
	if (e < 0) {
		mc_slo_eval_unknown(&run.evals[0], "Prometheus unreachable");
	} else {
		memset(ea, 0, sizeof(ea));
		memset(ta, 0, sizeof(ta));
		for (size_t i = 0; i < run.defs[0].n_windows; i++) {
			ea[i].answered = ta[i].answered = 1;
			ea[i].kind = ta[i].kind = MC_PROMAPI_VALUE;
			ea[i].value = e;
			ta[i].value = t;
		}
		mc_slo_evaluate(&run.defs[0], ea, ta, &run.evals[0]);
	}
	cr_assert_eq(mc_slo_record(st, run_id, &run, &err), 0, "%s", err.msg);
	mc_slo_run_release(&run);
}

Test(slo_history, record_and_last_known)
{
	struct mc_slo_last last;
	struct mc_err err = { 0 };
	sqlite3_stmt *s;

	record(T0, 1, 200);		/* 0.5 %: burn 0.5, ok */
	record(T0 + 60, 30, 1000);	/* 3 %: burn 3, warning */
	record(T0 + 120, -1, 0);	/* unknown */
	cr_assert_eq(sqlite3_prepare_v2(mc_state_db(st), "SELECT state, sli, "
		"budget_remaining, worst_burn, burn_rates, message, recorded "
		"FROM slo_results ORDER BY id", -1, &s, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
	cr_expect_str_eq((const char *)sqlite3_column_text(s, 0), "ok");
	cr_expect(fabs(sqlite3_column_double(s, 1) - 99.5) < 1e-9);
	cr_expect(fabs(sqlite3_column_double(s, 2) - 0.5) < 1e-9);
	cr_expect(fabs(sqlite3_column_double(s, 3) - 0.5) < 1e-9);
	cr_expect(strstr((const char *)sqlite3_column_text(s, 4),
			 "\"5m\":0.5") != NULL, "%s", sqlite3_column_text(s, 4));
	cr_expect(strstr((const char *)sqlite3_column_text(s, 4), "30d") ==
		  NULL);
	cr_expect(sqlite3_column_double(s, 6) > T0, "recorded: wall clock");
	cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
	cr_expect_str_eq((const char *)sqlite3_column_text(s, 0), "warning");
	cr_expect(strstr((const char *)sqlite3_column_text(s, 5),
			 "ticket: 1d/2h burn > 3") == NULL, "3 is not above 3");
	cr_expect(strstr((const char *)sqlite3_column_text(s, 5),
			 "ticket: 3d/6h burn > 1") != NULL);
	cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
	cr_expect_str_eq((const char *)sqlite3_column_text(s, 0), "unknown");
	cr_expect_eq(sqlite3_column_type(s, 1), SQLITE_NULL);
	cr_expect_str_eq((const char *)sqlite3_column_text(s, 5),
			 "Prometheus unreachable");
	sqlite3_finalize(s);

	cr_assert_eq(mc_slo_last_known(st, "api", T0 + 120, &last, &err), 0);
	cr_expect(last.found);
	cr_expect_eq(last.ts, T0 + 60);
	cr_expect_str_eq(last.state, "warning");
	cr_expect(fabs(last.remaining - (1 - 3)) < 1e-9, "%g", last.remaining);
	free(last.state);
	free(last.burn_rates);
	/* Before the first evaluation there is nothing. */
	cr_assert_eq(mc_slo_last_known(st, "api", T0 - 1, &last, &err), 0);
	cr_expect(!last.found);
	cr_assert_eq(mc_slo_last_known(st, "other", T0 + 600, &last, &err), 0);
	cr_expect(!last.found);
}

Test(slo_history, cells_and_sparklines)
{
	struct mc_slo_history h;
	struct mc_err err = { 0 };
	struct mc_report r;
	json_t *cells;

	/* Span T0 .. T0+400 in 4 cells of 100 s. */
	record(T0 + 10, 0, 100);	/* cell 0: remaining 1, burn 0 */
	record(T0 + 50, 1, 100);	/* cell 0: remaining 0, burn 1 */
	record(T0 + 250, 3, 100);	/* cell 2: remaining -2, burn 3 */
	record(T0 + 390, -1, 0);	/* cell 3: unknown, no values */
	record(T0 + 900, 0, 100);	/* outside the span */
	cr_assert_eq(mc_slo_history(st, "api", T0, T0 + 400, 4, &h, &err), 0,
		     "%s", err.msg);
	cr_expect_eq(h.samples, 4);
	cr_expect_eq(h.transitions, 2, "ok ok warning unknown");
	cr_expect_eq(h.remaining[0], 0);
	cr_expect(isnan(h.remaining[1]));
	cr_expect(fabs(h.remaining[2] + 2) < 1e-9);
	cr_expect(isnan(h.remaining[3]));
	cr_expect(fabs(h.burn[0] - 1) < 1e-9);
	cr_expect(fabs(h.burn[2] - 3) < 1e-9);
	cr_expect_eq(h.states[0], MC_ST_OK);
	cr_expect_eq(h.states[1], -1);
	cr_expect_eq(h.states[2], MC_ST_WARNING);
	cr_expect_eq(h.states[3], MC_ST_UNKNOWN);
	cr_expect(fabs(h.min_remaining + 2) < 1e-9);
	cr_expect(fabs(h.max_burn - 3) < 1e-9);
	cr_expect_eq(h.last_state, MC_ST_UNKNOWN);

	mc_report_init(&r, 0);
	mc_slo_history_report(&h, T0, T0 + 400, &r);
	cells = json_object_get(r.doc, "cells");
	cr_assert_eq(json_array_size(cells), 4);
	cr_expect(json_is_null(json_object_get(json_array_get(cells, 1),
					       "state")));
	cr_expect_eq(json_integer_value(json_object_get(r.doc, "evaluations")),
		     4);
	/* Remaining on -2 .. 1: 0 is two thirds up of 7 levels -> level
	 * round(4.67) = 5 (▆); -2 is the bottom (▁). Burn on 0 .. 3: 1 ->
	 * round(2.33) = 2 (▃), 3 -> top (█). */
	cr_expect_str_eq(json_string_value(json_object_get(json_object_get(
		r.doc, "sparklines"), "budget_remaining")),
		"\xE2\x96\x86\xC2\xB7\xE2\x96\x81\xC2\xB7");
	cr_expect_str_eq(json_string_value(json_object_get(json_object_get(
		r.doc, "sparklines"), "worst_burn")),
		"\xE2\x96\x83\xC2\xB7\xE2\x96\x88\xC2\xB7");
	cr_expect_str_eq(json_string_value(json_object_get(json_object_get(
		r.doc, "sparklines"), "state")),
		"\xE2\x96\x81\xC2\xB7\xE2\x96\x84\xE2\x96\x86");
	cr_expect(strstr(r.text.data, "SLO api: 4 evaluations, 2 state changes")
		  != NULL, "%s", r.text.data);
	cr_expect(strstr(r.text.data, "now -, lowest -200.0% (scale -200.0% "
			 "..") != NULL, "%s", r.text.data);
	mc_report_release(&r);
	mc_slo_history_release(&h);

	/* since 0: from the oldest evaluation on. */
	cr_assert_eq(mc_slo_history(st, "api", 0, T0 + 1000, 4, &h, &err), 0);
	cr_expect_eq(h.samples, 5);
	cr_expect_eq(h.start, T0 + 10);
	mc_slo_history_release(&h);
}

Test(slo_history, nothing_recorded)
{
	struct mc_slo_history h;
	struct mc_err err = { 0 };
	struct mc_report r;

	cr_assert_eq(mc_slo_history(st, "api", T0, T0 + 400, 8, &h, &err), 0);
	cr_expect_eq(h.samples, 0);
	mc_report_init(&r, 0);
	mc_slo_history_report(&h, T0, T0 + 400, &r);
	cr_expect_str_eq(r.text.data, "no evaluations of SLO 'api' in the "
			 "span\n");
	cr_expect(json_is_null(json_object_get(r.doc, "current")));
	cr_expect_eq(json_array_size(json_object_get(r.doc, "cells")), 0);
	mc_report_release(&r);
	mc_slo_history_release(&h);
}
