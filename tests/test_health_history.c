/* test_health_history.c - `health history` (lib/health_history.c). Every
 * expected value below is worked out by hand from the rows the test writes. */
#include <criterion/criterion.h>

#include "testlib.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health_history.h"
#include "mc.h"
#include "output.h"
#include "state.h"

#define OK 0
#define WARNING 1
#define CRITICAL 2
#define UNKNOWN 3
#define NONE (-1)

/* 2026-11-22T10:00:00Z */
#define T0 1795341600.0
#define DAY 86400.0

static char dirbuf[MC_TEST_DIR_LEN];
static struct mc_state *st;
static sqlite3_stmt *ins;
static int64_t run_id;

static void setup(void)
{
	struct mc_err err = { 0 };
	char *path = mc_asprintf("%s/state.db", mc_test_dir(dirbuf));

	st = mc_state_open(path, &err);
	free(path);
	cr_assert_not_null(st, "%s", err.msg);
	cr_assert_eq(mc_state_run_begin(st, "health", "", NULL, 1, &run_id,
					&err), 0, "%s", err.msg);
	cr_assert_eq(sqlite3_prepare_v2(mc_state_db(st),
		"INSERT INTO check_results (run_id, ts, check_name, type,"
		" status, critical, latency_ms, message, value)"
		" VALUES (?1, ?2, ?3, ?4, ?5, 0, 1.5, ?6, NULL)",
		-1, &ins, NULL), SQLITE_OK);
}

static void teardown(void)
{
	sqlite3_finalize(ins);
	ins = NULL;
	mc_state_close(st);
	st = NULL;
	mc_test_rmtree(dirbuf);
}

static void add(const char *name, const char *type, double ts,
		const char *status, const char *msg)
{
	sqlite3_reset(ins);
	sqlite3_bind_int64(ins, 1, run_id);
	sqlite3_bind_double(ins, 2, ts);
	sqlite3_bind_text(ins, 3, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 4, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 5, status, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 6, msg, -1, SQLITE_STATIC);
	cr_assert_eq(sqlite3_step(ins), SQLITE_DONE, "%s",
		     sqlite3_errmsg(mc_state_db(st)));
}

static void exec(const char *sql)
{
	struct mc_err err = { 0 };

	cr_assert_eq(mc_state_exec(st, sql, &err), 0, "%s", err.msg);
}

static struct mc_check_history *history(const char *const *names, size_t nn,
					double since, double now,
					size_t width, size_t *n)
{
	struct mc_err err = { 0 };
	struct mc_check_history *h = NULL;

	cr_assert_eq(mc_health_history(st, names, nn, since, now, width, &h,
				       n, &err), 0, "%s", err.msg);
	return h;
}

TestSuite(health_history, .init = setup, .fini = teardown);

Test(health_history, uptime_transitions_last_failure)
{
	const struct mc_check_history *api, *db;
	struct mc_check_history *h;
	size_t n;

	/* api: ok ok critical critical ok warning -> 3 of 6 ok, changes at
	 * 1002, 1004 and 1005 */
	add("api", "http", 1000, "ok", "HTTP 200");
	add("api", "http", 1001, "ok", "HTTP 200");
	add("api", "http", 1002, "critical", "refused");
	add("api", "http", 1003, "critical", "still refused");
	add("api", "http", 1004, "ok", "HTTP 200");
	add("api", "http", 1005, "warning", "slow");
	/* db: the last failure is followed by successes */
	add("db", "redis", 1001, "critical", "refused");
	add("db", "redis", 1002, "unknown", "timeout");
	add("db", "redis", 1003, "ok", "PONG");
	add("db", "redis", 1004, "ok", "PONG");

	h = history(NULL, 0, 0, 2000, 10, &n);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(h[0].name, "api");	/* sorted */
	cr_assert_str_eq(h[1].name, "db");

	api = &h[0];
	cr_assert_str_eq(api->type, "http");
	cr_assert_eq(api->samples, 6);
	cr_assert_eq(api->ok, 3);
	cr_assert_float_eq(api->uptime_pct, 50.0, 1e-12);
	cr_assert_eq(api->transitions, 3);
	cr_assert_eq(api->current, WARNING);
	cr_assert_float_eq(api->first_ts, 1000, 1e-9);
	cr_assert_float_eq(api->last_ts, 1005, 1e-9);
	cr_assert_float_eq(api->last_failure_ts, 1005, 1e-9);
	cr_assert_str_eq(api->last_failure_status, "warning");
	cr_assert_str_eq(api->last_failure_msg, "slow");

	db = &h[1];
	cr_assert_eq(db->samples, 4);
	cr_assert_eq(db->ok, 2);
	cr_assert_float_eq(db->uptime_pct, 50.0, 1e-12);
	cr_assert_eq(db->transitions, 2);	/* crit->unknown, unknown->ok */
	cr_assert_eq(db->current, OK);
	cr_assert_float_eq(db->last_failure_ts, 1002, 1e-9);
	cr_assert_str_eq(db->last_failure_status, "unknown");
	cr_assert_str_eq(db->last_failure_msg, "timeout");
	mc_health_history_free(h, n);
}

Test(health_history, no_failure_and_odd_status)
{
	struct mc_check_history *h;
	size_t n;

	add("a", "tcp", 10, "ok", "open");
	add("a", "tcp", 20, "ok", "open");
	add("b", "exec", 10, "bogus", NULL);	/* not a status: unknown */
	add("b", "exec", 20, "ok", NULL);
	h = history(NULL, 0, 0, 100, 5, &n);
	cr_assert_eq(n, 2);
	cr_assert_float_eq(h[0].uptime_pct, 100.0, 1e-12);
	cr_assert_eq(h[0].transitions, 0);
	cr_assert_float_eq(h[0].last_failure_ts, 0, 0);
	cr_assert_null(h[0].last_failure_status);
	cr_assert_null(h[0].last_failure_msg);
	cr_assert_str_eq(h[1].last_failure_status, "unknown");
	cr_assert_str_eq(h[1].last_failure_msg, "");	/* NULL message */
	cr_assert_eq(h[1].transitions, 1);
	mc_health_history_free(h, n);
}

Test(health_history, type_is_the_newest)
{
	struct mc_check_history *h;
	size_t n;

	add("x", "tcp", 10, "ok", "");
	add("x", "http", 20, "ok", "");
	h = history(NULL, 0, 0, 100, 4, &n);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(h[0].type, "http");
	mc_health_history_free(h, n);
}

Test(health_history, since_and_now_bound_the_span)
{
	struct mc_check_history *h;
	size_t n;

	add("api", "http", 100, "critical", "old failure");
	add("api", "http", 200, "ok", "");
	add("api", "http", 300, "ok", "");
	add("api", "http", 900, "warning", "after the end");

	h = history(NULL, 0, 150, 500, 4, &n);
	cr_assert_eq(n, 1);
	cr_assert_eq(h[0].samples, 2);
	cr_assert_float_eq(h[0].uptime_pct, 100.0, 1e-12);
	cr_assert_eq(h[0].transitions, 0);
	cr_assert_null(h[0].last_failure_status);
	cr_assert_float_eq(h[0].first_ts, 200, 1e-9);
	mc_health_history_free(h, n);

	/* since 0: everything up to now */
	h = history(NULL, 0, 0, 500, 4, &n);
	cr_assert_eq(n, 1);
	cr_assert_eq(h[0].samples, 3);
	cr_assert_eq(h[0].transitions, 1);
	cr_assert_str_eq(h[0].last_failure_msg, "old failure");
	mc_health_history_free(h, n);

	/* a span after every sample: nothing, no error */
	h = history(NULL, 0, 1000, 2000, 4, &n);
	cr_assert_eq(n, 0);
	cr_assert_null(h);
}

Test(health_history, bucket_layout)
{
	static const int want[] = { OK, CRITICAL, NONE, WARNING };
	struct mc_check_history *h;
	size_t n;

	/* span 1000..1400 in 4 buckets of 100 s */
	add("api", "http", 1050, "ok", "");
	add("api", "http", 1150, "critical", "down");
	add("api", "http", 1160, "ok", "");
	add("api", "http", 1350, "warning", "slow");
	h = history(NULL, 0, 1000, 1400, 4, &n);
	cr_assert_eq(n, 1);
	for (size_t i = 0; i < 4; i++)
		cr_assert_eq(h[0].buckets[i], want[i], "bucket %zu: %d", i,
			     h[0].buckets[i]);
	cr_assert_str_eq(h[0].sparkline, "▁█·▄");
	mc_health_history_free(h, n);
}

/* A check that failed and recovered within the last cell ends in ok, and
 * -n N keeps each check's last N results only. */
Test(health_history, the_line_ends_where_the_check_stands_and_last_n)
{
	struct mc_check_history *h;
	struct mc_err err = { 0 };
	size_t n;

	add("api", "http", 1050, "ok", "");
	add("api", "http", 1310, "critical", "down");
	add("api", "http", 1320, "critical", "down");
	add("api", "http", 1390, "ok", "");
	add("db", "tcp", 1050, "critical", "refused");
	add("db", "tcp", 1390, "critical", "refused");
	h = history(NULL, 0, 1000, 1400, 4, &n);
	cr_assert_eq(n, 2);
	cr_assert_eq(h[0].current, OK);
	cr_assert_str_eq(h[0].sparkline, "▁··▁");
	cr_assert_eq(h[0].transitions, 2);
	cr_assert_str_eq(h[1].sparkline, "█··█");
	mc_health_history_free(h, n);

	cr_assert_eq(mc_health_history_last(st, NULL, 0, 1000, 1400, 4, 2, &h,
					    &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n, 2);
	cr_assert_eq(h[0].samples, 2);
	cr_assert_eq(h[0].first_ts, 1320);
	cr_assert_eq(h[0].transitions, 1);
	cr_assert_eq(h[1].samples, 2);
	cr_assert_str_eq(h[1].sparkline, "█··█");
	mc_health_history_free(h, n);
	cr_assert_eq(mc_health_history_last(st, (const char *const[]){ "db" },
					    1, 1000, 1400, 4, 1, &h, &n,
					    &err), 0, "%s", err.msg);
	cr_assert_eq(n, 1);
	cr_assert_eq(h[0].samples, 1);
	cr_assert_eq(h[0].first_ts, 1390);
	mc_health_history_free(h, n);
}

Test(health_history, bucket_worst_and_edges)
{
	static const int want[] = { UNKNOWN, CRITICAL, OK, WARNING };
	struct mc_check_history *h;
	size_t n;

	add("q", "redis_queue", 1000, "warning", "");	/* the span's start */
	add("q", "redis_queue", 1010, "unknown", "");	/* worse than warning */
	add("q", "redis_queue", 1100, "unknown", "");	/* boundary: bucket 1 */
	add("q", "redis_queue", 1120, "critical", "");	/* worst of all */
	add("q", "redis_queue", 1130, "ok", "");
	add("q", "redis_queue", 1250, "ok", "");
	add("q", "redis_queue", 1310, "ok", "");
	add("q", "redis_queue", 1400, "warning", "");	/* now: last bucket */
	h = history(NULL, 0, 1000, 1400, 4, &n);
	cr_assert_eq(n, 1);
	for (size_t i = 0; i < 4; i++)
		cr_assert_eq(h[0].buckets[i], want[i], "bucket %zu: %d", i,
			     h[0].buckets[i]);
	cr_assert_str_eq(h[0].sparkline, "▆█▁▄");
	mc_health_history_free(h, n);
}

Test(health_history, since_zero_shares_one_time_axis)
{
	struct mc_check_history *h;
	size_t n;

	/* The span starts at the oldest sample of all listed checks (1000),
	 * so b's first sample at 1200 lands in the second of 2 buckets. */
	add("a", "tcp", 1000, "critical", "");
	add("a", "tcp", 1300, "ok", "");
	add("b", "tcp", 1200, "ok", "");
	h = history(NULL, 0, 0, 1400, 2, &n);
	cr_assert_eq(n, 2);
	cr_assert_eq(h[0].buckets[0], CRITICAL);
	cr_assert_eq(h[0].buckets[1], OK);
	cr_assert_eq(h[1].buckets[0], NONE);
	cr_assert_eq(h[1].buckets[1], OK);
	cr_assert_str_eq(h[1].sparkline, "·▁");
	mc_health_history_free(h, n);

	/* With only b listed, b's own first sample starts the span. */
	h = history((const char *const[]){ "b" }, 1, 0, 1400, 2, &n);
	cr_assert_eq(n, 1);
	cr_assert_eq(h[0].buckets[0], OK);
	cr_assert_eq(h[0].buckets[1], NONE);
	mc_health_history_free(h, n);
}

Test(health_history, width_zero)
{
	struct mc_check_history *h;
	struct mc_report r;
	size_t n;

	add("a", "tcp", 1000, "ok", "");
	h = history(NULL, 0, 0, 2000, 0, &n);
	cr_assert_eq(n, 1);
	cr_assert_null(h[0].buckets);
	cr_assert_str_eq(h[0].sparkline, "");
	mc_report_init(&r, 0);
	mc_health_history_report(h, n, 0, 2000, &r);
	cr_assert_eq(json_array_size(json_object_get(json_object_get(
		json_object_get(r.doc, "checks"), "a"), "buckets")), 0);
	mc_report_release(&r);
	mc_health_history_free(h, n);
}

Test(health_history, names_filter)
{
	const char *const names[] = { "web", "api", "web" };
	struct mc_check_history *h;
	size_t n;

	add("api", "http", 10, "ok", "");
	add("db", "redis", 10, "critical", "");
	add("web", "http", 10, "warning", "");
	add("web", "http", 20, "ok", "");
	h = history(names, MC_ARRAY_LEN(names), 0, 100, 4, &n);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(h[0].name, "api");
	cr_assert_str_eq(h[1].name, "web");
	cr_assert_eq(h[1].samples, 2);
	mc_health_history_free(h, n);
}

Test(health_history, unknown_name_is_an_error)
{
	struct mc_err err = { 0 };
	struct mc_check_history *h = (void *)1;
	size_t n = 99;
	double now = T0;

	add("api", "http", now - 8 * DAY, "ok", "");	/* outside 7d */
	add("web", "http", now - DAY, "ok", "");

	cr_assert_eq(mc_health_history(st, (const char *const[]){ "web",
				       "nope" }, 2, now - 7 * DAY, now, 4,
				       &h, &n, &err), -1);
	cr_assert_null(h);
	cr_assert_eq(n, 0);
	cr_assert_eq(err.code, MC_EXIT_USAGE);
	cr_assert_str_eq(err.msg,
			 "no results for check 'nope' in the last 7d");

	/* recorded, but not in the span */
	mc_err_clear(&err);
	cr_assert_eq(mc_health_history(st, (const char *const[]){ "api" }, 1,
				       now - 36 * 3600, now, 4, &h, &n,
				       &err), -1);
	cr_assert_str_eq(err.msg,
			 "no results for check 'api' in the last 1d12h");

	mc_err_clear(&err);
	cr_assert_eq(mc_health_history(st, (const char *const[]){ "nope" },
				       1, 0, now, 4, &h, &n, &err), -1);
	cr_assert_eq(err.code, MC_EXIT_USAGE);
	cr_assert_str_eq(err.msg, "no results for check 'nope'");
}

Test(health_history, nothing_recorded)
{
	struct mc_check_history *h = (void *)1;
	struct mc_report r;
	size_t n = 99;

	h = history(NULL, 0, 0, T0, 40, &n);
	cr_assert_eq(n, 0);
	cr_assert_null(h);

	mc_report_init(&r, 0);
	mc_health_history_report(h, n, 0, T0, &r);
	cr_assert(json_is_null(json_object_get(r.doc, "since")));
	cr_assert_eq(json_object_size(json_object_get(r.doc, "checks")), 0);
	cr_assert_not_null(strstr(r.text.data, "no check results"));
	mc_report_release(&r);
}

Test(health_history, sql_error_is_reported)
{
	struct mc_err err = { 0 };
	struct mc_check_history *h = (void *)1;
	size_t n = 99;

	exec("DROP TABLE check_results");
	cr_assert_eq(mc_health_history(st, NULL, 0, 0, T0, 4, &h, &n, &err),
		     -1);
	cr_assert_null(h);
	cr_assert_eq(n, 0);
	cr_assert_neq(err.code, 0);
	cr_assert_not_null(strstr(err.msg, "check history"), "%s", err.msg);
}

Test(health_history, many_samples)
{
	struct mc_check_history *h;
	struct mc_report r;
	size_t n;

	/* 19999 of 20000 ok: 99.995 %, which must not print as 100.00% */
	exec("BEGIN");
	for (int i = 0; i < 20000; i++)
		add("api", "http", 1000 + i, i == 5000 ? "critical" : "ok",
		    "");
	exec("COMMIT");
	h = history(NULL, 0, 0, 1000 + 20000, 40, &n);
	cr_assert_eq(n, 1);
	cr_assert_eq(h[0].samples, 20000);
	cr_assert_eq(h[0].transitions, 2);
	cr_assert_float_eq(h[0].uptime_pct, 99.995, 1e-9);
	/* 500 s cells: the failure at +5000 opens cell 10 */
	cr_assert_eq(h[0].buckets[9], OK);
	cr_assert_eq(h[0].buckets[10], CRITICAL);
	cr_assert_eq(h[0].buckets[11], OK);
	mc_report_init(&r, 0);
	mc_health_history_report(h, n, 0, 1000 + 20000, &r);
	cr_assert_not_null(strstr(r.text.data, " 99.99% "), "%s",
			   r.text.data);
	mc_report_release(&r);
	mc_health_history_free(h, n);
}

/* ---- rendering ---------------------------------------------------------- */

static struct mc_check_history *sample_history(size_t *n)
{
	/* span T0-400 .. T0 in 4 cells */
	add("api", "http", T0 - 350, "ok", "HTTP 200");
	add("api", "http", T0 - 250, "critical", "connection refused");
	add("api", "http", T0 - 240, "ok", "HTTP 200");
	add("api", "http", T0 - 50, "warning", "slow");
	add("api", "http", T0 - 40, "warning", "slow");
	add("api", "http", T0 - 30, "ok", "HTTP 200");
	add("alert-queue", "redis_queue", T0 - 150, "ok", "depth 3");
	add("disk", "disk", T0 - 310, "ok", "12%");
	add("disk", "disk", T0 - 210, "unknown",
	    "statvfs failed\nbecause the volume is not mounted anywhere at all");
	return history(NULL, 0, T0 - 400, T0, 4, n);
}

Test(health_history, json_shape)
{
	struct mc_check_history *h;
	struct mc_report r;
	json_t *checks, *api, *aq, *f, *b;
	size_t n;

	h = sample_history(&n);
	cr_assert_eq(n, 3);
	mc_report_init(&r, 0);
	mc_health_history_report(h, n, T0 - 400, T0, &r);

	cr_assert_str_eq(json_string_value(json_object_get(r.doc, "since")),
			 "2026-11-22T09:53:20.000Z");
	cr_assert_str_eq(json_string_value(json_object_get(r.doc, "until")),
			 "2026-11-22T10:00:00.000Z");
	checks = json_object_get(r.doc, "checks");
	cr_assert(json_is_object(checks));
	cr_assert_eq(json_object_size(checks), 3);

	api = json_object_get(checks, "api");
	cr_assert_str_eq(json_string_value(json_object_get(api, "type")),
			 "http");
	cr_assert_eq(json_integer_value(json_object_get(api, "samples")), 6);
	cr_assert_float_eq(json_real_value(json_object_get(api,
				"uptime_pct")), 50.0, 1e-12);
	/* ok crit ok warn warn ok */
	cr_assert_eq(json_integer_value(json_object_get(api, "transitions")),
		     4);
	cr_assert_str_eq(json_string_value(json_object_get(api, "current")),
			 "ok");
	f = json_object_get(api, "last_failure");
	cr_assert(json_is_object(f));
	cr_assert_str_eq(json_string_value(json_object_get(f, "ts")),
			 "2026-11-22T09:59:20.000Z");
	cr_assert_str_eq(json_string_value(json_object_get(f, "status")),
			 "warning");
	cr_assert_str_eq(json_string_value(json_object_get(f, "message")),
			 "slow");
	/* cells: [-400,-300) ok; [-300,-200) crit+ok; [-200,-100) none;
	 * [-100,0] warn+ok */
	b = json_object_get(api, "buckets");
	cr_assert_eq(json_array_size(b), 4);
	cr_assert_str_eq(json_string_value(json_array_get(b, 0)), "ok");
	cr_assert_str_eq(json_string_value(json_array_get(b, 1)), "critical");
	cr_assert(json_is_null(json_array_get(b, 2)));
	/* the last cell is where the check stands now: its newest, ok */
	cr_assert_str_eq(json_string_value(json_array_get(b, 3)), "ok");
	cr_assert_str_eq(json_string_value(json_object_get(api, "sparkline")),
			 "▁█·▁");

	aq = json_object_get(checks, "alert-queue");
	cr_assert(json_is_null(json_object_get(aq, "last_failure")));
	cr_assert_str_eq(json_string_value(json_object_get(aq, "sparkline")),
			 "··▁·");

	/* since 0 is null */
	mc_report_release(&r);
	mc_report_init(&r, 0);
	mc_health_history_report(h, n, 0, T0, &r);
	cr_assert(json_is_null(json_object_get(r.doc, "since")));
	mc_report_release(&r);
	mc_health_history_free(h, n);
}

/* Display column (code points) where needle starts in line. */
static size_t col_of(const char *line, const char *needle)
{
	const char *p = strstr(line, needle);
	size_t w = 0;

	cr_assert_not_null(p, "'%s' not in '%s'", needle, line);
	for (const char *q = line; q < p; q++)
		if (((unsigned char)*q & 0xC0) != 0x80)
			w++;
	return w;
}

static size_t cols(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			w++;
	return w;
}

/* Splits text into at most max lines (modifying it). */
static size_t lines(char *text, char **out, size_t max)
{
	size_t n = 0;

	for (char *p = text; *p && n < max;) {
		char *nl = strchr(p, '\n');

		out[n++] = p;
		if (nl == NULL)
			break;
		*nl = '\0';
		p = nl + 1;
	}
	return n;
}

Test(health_history, text_without_colour)
{
	static const char *const heads[] = { "TYPE", "NOW", "UPTIME",
					     "TRANSITIONS", "LAST FAILURE",
					     "SPARKLINE" };
	struct mc_check_history *h;
	struct mc_report r;
	char *text, *l[8];
	size_t n, nl, pos[6];

	h = sample_history(&n);
	mc_report_init(&r, 0);
	mc_health_history_report(h, n, T0 - 400, T0, &r);
	cr_assert_null(strchr(r.text.data, '\033'), "%s", r.text.data);
	text = mc_strdup(r.text.data);
	nl = lines(text, l, MC_ARRAY_LEN(l));
	cr_assert_eq(nl, 5, "%s", r.text.data);	/* header, 3 rows, legend */

	cr_assert_eq(col_of(l[0], "CHECK"), 0);
	for (size_t c = 0; c < 6; c++)
		pos[c] = col_of(l[0], heads[c]);

	/* alert-queue: no failure */
	cr_assert_eq(col_of(l[1], "alert-queue"), 0);
	cr_assert_eq(col_of(l[1], "redis_queue"), pos[0]);
	cr_assert_eq(col_of(l[1], "ok "), pos[1]);
	cr_assert_eq(col_of(l[1], "100.00%"), pos[2]);
	cr_assert_eq(col_of(l[1], "0 "), pos[3]);
	cr_assert_eq(col_of(l[1], "- "), pos[4]);
	cr_assert_eq(col_of(l[1], "··▁·"), pos[5]);

	/* api: failed, recovered: NOW ok, and the line ends in ok */
	cr_assert_eq(col_of(l[2], "api"), 0);
	cr_assert_eq(col_of(l[2], "http"), pos[0]);
	cr_assert_eq(col_of(l[2], "ok "), pos[1]);
	cr_assert_eq(col_of(l[2], "50.00%"), pos[2]);
	cr_assert_eq(col_of(l[2], "4 "), pos[3]);
	cr_assert_eq(col_of(l[2], "2026-11-22T09:59:20Z warning: slow"),
		     pos[4]);
	cr_assert_eq(col_of(l[2], "▁█·▁"), pos[5]);
	cr_assert(strcmp(l[2] + strlen(l[2]) - strlen("▁█·▁"), "▁█·▁") == 0);

	/* disk: 1 of 2, the long message on one line, cut to 48 columns */
	cr_assert_eq(col_of(l[3], "disk"), 0);
	cr_assert_eq(col_of(l[3], "unknown "), pos[1]);
	cr_assert_eq(col_of(l[3], "50.00%"), pos[2]);
	cr_assert_eq(col_of(l[3], "1 "), pos[3]);
	cr_assert_eq(col_of(l[3], "2026-11-22T09:56:30Z unknown: statvfs "
				  "failed be…  "), pos[4]);
	cr_assert_not_null(strstr(l[3], "…"));
	cr_assert_eq(col_of(l[3], "…") + 1 - pos[4], 48);
	cr_assert_eq(col_of(l[3], "▁▆··"), pos[5]);

	cr_assert_eq(strncmp(l[4], "legend:", 7), 0, "%s", l[4]);
	cr_assert_not_null(strstr(l[4], "▁ ok"));
	cr_assert_not_null(strstr(l[4], "█ critical"));
	cr_assert_not_null(strstr(l[4], "· no data"));
	cr_assert_not_null(strstr(l[4], "2026-11-22T09:53:20Z .. "
					"2026-11-22T10:00:00Z"), "%s", l[4]);
	cr_assert_not_null(strstr(l[4], "4 cells of 1m40s"), "%s", l[4]);
	cr_assert_eq(cols(l[0]), pos[5] + strlen("SPARKLINE"));
	free(text);
	mc_report_release(&r);
	mc_health_history_free(h, n);
}

/* text with every ESC [ ... m removed. Caller frees. */
static char *strip_sgr(const char *s)
{
	struct mc_buf b = { 0 };

	mc_buf_puts(&b, "");
	while (*s) {
		if (s[0] == '\033' && s[1] == '[') {
			s += 2;
			while (*s && *s != 'm')
				s++;
			if (*s)
				s++;
			continue;
		}
		mc_buf_add(&b, s++, 1);
	}
	return mc_buf_steal(&b);
}

Test(health_history, text_with_colour)
{
	struct mc_check_history *h;
	struct mc_report plain, col;
	char *stripped;
	size_t n;

	h = sample_history(&n);
	mc_report_init(&plain, 0);
	mc_report_init(&col, 1);
	mc_health_history_report(h, n, T0 - 400, T0, &plain);
	mc_health_history_report(h, n, T0 - 400, T0, &col);

	cr_assert_not_null(strchr(col.text.data, '\033'));
	/* each sparkline cell in its colour; no-data cells plain */
	cr_assert_not_null(strstr(col.text.data,
		"\033[32m▁\033[0m\033[31m█\033[0m·\033[32m▁\033[0m\n"),
		"%s", col.text.data);
	cr_assert_not_null(strstr(col.text.data,
		"\033[32m▁\033[0m\033[35m▆\033[0m··\n"));
	/* the colours change nothing else: the layout is the same */
	stripped = strip_sgr(col.text.data);
	cr_assert_str_eq(stripped, plain.text.data);
	free(stripped);
	mc_report_release(&plain);
	mc_report_release(&col);
	mc_health_history_free(h, n);
}

Test(health_history, uptime_format)
{
	struct mc_check_history *h;
	struct mc_report r;
	size_t n;

	/* 2 of 3 rounds to 66.67%; 199 of 200 is exactly 99.50% */
	add("a", "tcp", 1, "ok", "");
	add("a", "tcp", 2, "ok", "");
	add("a", "tcp", 3, "critical", "x");
	exec("BEGIN");
	for (int i = 0; i < 200; i++)
		add("b", "tcp", 10 + i, i == 0 ? "warning" : "ok", "");
	exec("COMMIT");
	h = history(NULL, 0, 0, 1000, 8, &n);
	cr_assert_eq(n, 2);
	mc_report_init(&r, 0);
	mc_health_history_report(h, n, 0, 1000, &r);
	cr_assert_not_null(strstr(r.text.data, " 66.67% "), "%s",
			   r.text.data);
	cr_assert_not_null(strstr(r.text.data, " 99.50% "), "%s",
			   r.text.data);
	mc_report_release(&r);
	mc_health_history_free(h, n);
}
