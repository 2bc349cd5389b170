/*
 * test_cron.c - cron expressions and next/previous starts (lib/cron.c).
 *
 * The expected times are worked out by hand from cronie's crontab(5) and
 * cron(8): fields, names, the day-of-month OR day-of-week rule (both
 * restricted: either; one starting with '*': both), the @ shortcuts, and
 * daylight saving - a fixed-time job skipped by a jump forward runs at the
 * jump and runs once in a repeated hour, a job whose minute or hour field
 * starts with '*' runs at every local time that happens. The zones come
 * from tzdata: Europe/Berlin changes on 2026-03-29 01:00Z (02:00 CET ->
 * 03:00 CEST) and 2026-10-25 01:00Z (03:00 CEST -> 02:00 CET);
 * America/New_York on 2026-03-08 07:00Z; Australia/Sydney on 2026-10-03
 * 16:00Z (02:00 AEST -> 03:00 AEDT).
 */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "cron.h"
#include "mc.h"

static int64_t T(const char *rfc3339)
{
	double t;

	cr_assert_eq(mc_parse_rfc3339(rfc3339, strlen(rfc3339), &t), 0, "%s",
		     rfc3339);
	return (int64_t)t;
}

static struct mc_cron *parse_ok(const char *expr)
{
	struct mc_cron *c = NULL;
	struct mc_err err = { 0 };

	cr_assert_eq(mc_cron_parse(expr, &c, &err), 0, "[%s]: %s", expr,
		     err.msg);
	return c;
}

static void fmt(int64_t t, char *buf, size_t n)
{
	mc_format_time((double)t, buf, n);
}

Test(cron, next_start_table)
{
	static const struct {
		const char *expr, *after, *next;
	} cases[] = {
		/* crontab(5)'s own example: the 1st, the 15th and Fridays */
		{ "CRON_TZ=UTC 30 4 1,15 * 5", "2026-01-01T00:00:00Z",
		  "2026-01-01T04:30:00Z" },
		{ "CRON_TZ=UTC 30 4 1,15 * 5", "2026-01-01T04:30:00Z",
		  "2026-01-02T04:30:00Z" },	/* Friday */
		{ "CRON_TZ=UTC 30 4 1,15 * 5", "2026-01-09T04:30:00Z",
		  "2026-01-15T04:30:00Z" },
		/* strictly after */
		{ "CRON_TZ=UTC 0 2 * * *", "2026-03-10T02:00:00Z",
		  "2026-03-11T02:00:00Z" },
		{ "CRON_TZ=UTC 0 2 * * *", "2026-03-10T01:59:59Z",
		  "2026-03-10T02:00:00Z" },
		{ "CRON_TZ=UTC */15 * * * *", "2026-03-10T10:07:30Z",
		  "2026-03-10T10:15:00Z" },
		{ "CRON_TZ=UTC */15 * * * *", "2026-03-10T23:59:00Z",
		  "2026-03-11T00:00:00Z" },
		/* Sunday as 0, 7 and sun */
		{ "CRON_TZ=UTC 0 0 * * 0", "2026-01-01T00:00:00Z",
		  "2026-01-04T00:00:00Z" },
		{ "CRON_TZ=UTC 0 0 * * 7", "2026-01-01T00:00:00Z",
		  "2026-01-04T00:00:00Z" },
		{ "CRON_TZ=UTC 5 4 * * SUN", "2026-01-01T00:00:00Z",
		  "2026-01-04T04:05:00Z" },
		/* fri-sun runs through Sunday */
		{ "CRON_TZ=UTC 0 12 * * fri-sun", "2026-01-01T12:00:00Z",
		  "2026-01-02T12:00:00Z" },
		{ "CRON_TZ=UTC 0 12 * * fri-sun", "2026-01-03T12:00:00Z",
		  "2026-01-04T12:00:00Z" },
		{ "CRON_TZ=UTC 0 12 * * fri-sun", "2026-01-04T12:00:00Z",
		  "2026-01-09T12:00:00Z" },
		/* the 29th of February: the next leap year */
		{ "CRON_TZ=UTC 0 0 29 2 *", "2026-03-01T00:00:00Z",
		  "2028-02-29T00:00:00Z" },
		/* day fields: '*'-led day of month ANDs (odd days that are
		 * Mondays), a plain range ORs (odd days, or Mondays) */
		{ "CRON_TZ=UTC 0 0 */2 * 1", "2026-01-01T00:00:00Z",
		  "2026-01-05T00:00:00Z" },
		{ "CRON_TZ=UTC 0 0 */2 * 1", "2026-01-05T00:00:00Z",
		  "2026-01-19T00:00:00Z" },
		{ "CRON_TZ=UTC 0 0 1-31/2 * 1", "2026-01-01T00:00:00Z",
		  "2026-01-03T00:00:00Z" },
		{ "CRON_TZ=UTC 0 0 1,15 * *", "2026-01-01T00:00:00Z",
		  "2026-01-15T00:00:00Z" },
		{ "CRON_TZ=UTC 0 22 * * 1-5", "2026-01-02T22:00:00Z",
		  "2026-01-05T22:00:00Z" },
		{ "CRON_TZ=UTC 23 0-23/2 * * *", "2026-01-01T01:00:00Z",
		  "2026-01-01T02:23:00Z" },
		{ "CRON_TZ=UTC 0 0 * jan-MAR mon,wed,fri", "2026-03-31T00:00:00Z",
		  "2027-01-01T00:00:00Z" },
		{ "CRON_TZ=UTC 1-10/3 * * * *", "2026-01-01T00:04:00Z",
		  "2026-01-01T00:07:00Z" },
		{ "CRON_TZ=UTC 1-10/3 * * * *", "2026-01-01T00:10:00Z",
		  "2026-01-01T01:01:00Z" },
		/* shortcuts */
		{ "CRON_TZ=UTC @hourly", "2026-01-01T10:00:00Z",
		  "2026-01-01T11:00:00Z" },
		{ "CRON_TZ=UTC @daily", "2026-01-01T10:00:00Z",
		  "2026-01-02T00:00:00Z" },
		{ "CRON_TZ=UTC @midnight", "2026-01-01T10:00:00Z",
		  "2026-01-02T00:00:00Z" },
		{ "CRON_TZ=UTC @weekly", "2026-01-01T00:00:00Z",
		  "2026-01-04T00:00:00Z" },
		{ "CRON_TZ=UTC @monthly", "2026-01-15T00:00:00Z",
		  "2026-02-01T00:00:00Z" },
		{ "CRON_TZ=UTC @yearly", "2026-01-01T00:00:00Z",
		  "2027-01-01T00:00:00Z" },
		{ "CRON_TZ=UTC @annually", "2026-06-01T00:00:00Z",
		  "2027-01-01T00:00:00Z" },
		/* a zone: 02:00 Berlin time is 01:00Z in winter */
		{ "CRON_TZ=Europe/Berlin 0 2 * * *", "2026-01-10T00:00:00Z",
		  "2026-01-10T01:00:00Z" },
		/* spring forward in Berlin: 02:00-02:59 does not happen */
		{ "CRON_TZ=Europe/Berlin 30 2 * * *", "2026-03-28T12:00:00Z",
		  "2026-03-29T01:00:00Z" },	/* fixed time: at the jump */
		{ "CRON_TZ=Europe/Berlin 30 2 * * *", "2026-03-29T01:00:00Z",
		  "2026-03-30T00:30:00Z" },
		{ "CRON_TZ=Europe/Berlin 0 2 * * *", "2026-03-28T12:00:00Z",
		  "2026-03-29T01:00:00Z" },
		{ "CRON_TZ=Europe/Berlin 0 3 * * *", "2026-03-28T12:00:00Z",
		  "2026-03-29T01:00:00Z" },	/* 03:00 CEST is the jump */
		{ "CRON_TZ=Europe/Berlin 30 * * * *", "2026-03-29T00:00:00Z",
		  "2026-03-29T00:30:00Z" },	/* 01:30 CET */
		{ "CRON_TZ=Europe/Berlin 30 * * * *", "2026-03-29T00:30:00Z",
		  "2026-03-29T01:30:00Z" },	/* 02:30 skipped: 03:30 CEST */
		{ "CRON_TZ=Europe/Berlin */20 2 * * *", "2026-03-28T12:00:00Z",
		  "2026-03-30T00:00:00Z" },	/* '*' minute: skipped */
		/* fall back in Berlin: 02:00-02:59 happens twice */
		{ "CRON_TZ=Europe/Berlin 30 2 * * *", "2026-10-24T12:00:00Z",
		  "2026-10-25T00:30:00Z" },	/* 02:30 CEST */
		{ "CRON_TZ=Europe/Berlin 30 2 * * *", "2026-10-25T00:30:00Z",
		  "2026-10-26T01:30:00Z" },	/* not again at 02:30 CET */
		{ "CRON_TZ=Europe/Berlin 30 * * * *", "2026-10-25T00:30:00Z",
		  "2026-10-25T01:30:00Z" },	/* wildcard: 02:30 CET too */
		{ "CRON_TZ=Europe/Berlin 30 * * * *", "2026-10-25T01:30:00Z",
		  "2026-10-25T02:30:00Z" },
		/* New York and Sydney */
		{ "CRON_TZ=America/New_York 0 9 * * *", "2026-03-07T15:00:00Z",
		  "2026-03-08T13:00:00Z" },	/* 09:00 EDT */
		{ "CRON_TZ=America/New_York 30 2 * * *", "2026-03-07T15:00:00Z",
		  "2026-03-08T07:00:00Z" },	/* in the gap: at the jump */
		{ "CRON_TZ=EST5EDT,M3.2.0,M11.1.0 30 2 * * *",
		  "2026-03-07T15:00:00Z", "2026-03-08T07:00:00Z" },
		{ "CRON_TZ=Australia/Sydney 30 2 * * *", "2026-10-03T00:00:00Z",
		  "2026-10-03T16:00:00Z" },
	};

	for (size_t i = 0; i < MC_ARRAY_LEN(cases); i++) {
		struct mc_cron *c = parse_ok(cases[i].expr);
		int64_t got = mc_cron_next(c, T(cases[i].after));
		char g[40];

		fmt(got, g, sizeof(g));
		cr_expect_eq(got, T(cases[i].next), "[%s] after %s: got %s, "
			     "want %s", cases[i].expr, cases[i].after, g,
			     cases[i].next);
		mc_cron_free(c);
	}
}

Test(cron, prev_start_table)
{
	static const struct {
		const char *expr, *at, *prev;
	} cases[] = {
		{ "CRON_TZ=UTC 0 2 * * *", "2026-03-10T02:00:00Z",
		  "2026-03-10T02:00:00Z" },	/* at or before */
		{ "CRON_TZ=UTC 0 2 * * *", "2026-03-10T01:59:59Z",
		  "2026-03-09T02:00:00Z" },
		{ "CRON_TZ=UTC 30 4 1,15 * 5", "2026-01-14T00:00:00Z",
		  "2026-01-09T04:30:00Z" },
		{ "CRON_TZ=UTC 0 0 29 2 *", "2026-03-01T00:00:00Z",
		  "2024-02-29T00:00:00Z" },
		{ "CRON_TZ=Europe/Berlin 30 2 * * *", "2026-03-29T01:30:00Z",
		  "2026-03-29T01:00:00Z" },
		{ "CRON_TZ=Europe/Berlin 30 2 * * *", "2026-10-25T02:00:00Z",
		  "2026-10-25T00:30:00Z" },
		{ "CRON_TZ=Europe/Berlin 30 * * * *", "2026-10-25T02:00:00Z",
		  "2026-10-25T01:30:00Z" },
	};

	for (size_t i = 0; i < MC_ARRAY_LEN(cases); i++) {
		struct mc_cron *c = parse_ok(cases[i].expr);
		int64_t got = mc_cron_prev(c, T(cases[i].at));
		char g[40];

		fmt(got, g, sizeof(g));
		cr_expect_eq(got, T(cases[i].prev), "[%s] at %s: got %s, want "
			     "%s", cases[i].expr, cases[i].at, g,
			     cases[i].prev);
		mc_cron_free(c);
	}
}

/* next and prev agree: prev(next(t)) is next(t), and no start lies
 * between t and next(t). */
Test(cron, next_prev_agree)
{
	static const char *const exprs[] = {
		"CRON_TZ=Europe/Berlin 30 2 * * *",
		"CRON_TZ=Europe/Berlin */7 1-3 * * *",
		"CRON_TZ=America/New_York 0 0,12 1,15 * mon",
		"CRON_TZ=UTC 59 23 31 * *",
	};
	int64_t t0 = T("2026-03-27T00:00:00Z");

	for (size_t i = 0; i < MC_ARRAY_LEN(exprs); i++) {
		struct mc_cron *c = parse_ok(exprs[i]);
		int64_t t = t0;

		for (int k = 0; k < 200; k++) {
			int64_t n = mc_cron_next(c, t);

			cr_assert_gt(n, t, "[%s]", exprs[i]);
			cr_assert_eq(mc_cron_prev(c, n), n, "[%s] %lld",
				     exprs[i], (long long)n);
			cr_assert_lt(mc_cron_prev(c, n - 1), n, "[%s]",
				     exprs[i]);
			t = n;
		}
		mc_cron_free(c);
	}
}

Test(cron, fields_and_flags)
{
	struct mc_cron *c = parse_ok("CRON_TZ=UTC */20 1-10/3 * MAR-may Mon-Fri");

	cr_expect_eq(c->minute, (1ULL << 0) | (1ULL << 20) | (1ULL << 40));
	cr_expect_eq(c->hour, (1u << 1) | (1u << 4) | (1u << 7) | (1u << 10));
	cr_expect_eq(c->month, (1u << 3) | (1u << 4) | (1u << 5));
	cr_expect_eq(c->dow, 0x3e);
	cr_expect_eq(c->flags, MC_CRON_MIN_STAR | MC_CRON_DOM_STAR);
	cr_expect_str_eq(c->zone, "UTC");
	mc_cron_free(c);
	c = parse_ok("0 0 * * 7,0");
	cr_expect_eq(c->dow, 1);
	cr_expect_null(c->zone);
	mc_cron_free(c);
}

/* Without CRON_TZ the schedule is read in local time: $TZ. */
Test(cron, local_time_from_tz)
{
	struct mc_cron *c;
	char *old = getenv("TZ") ? mc_strdup(getenv("TZ")) : NULL;

	setenv("TZ", "Europe/Berlin", 1);
	c = parse_ok("0 2 * * *");
	cr_expect_eq(mc_cron_next(c, T("2026-01-10T00:00:00Z")),
		     T("2026-01-10T01:00:00Z"));
	mc_cron_free(c);
	if (old)
		setenv("TZ", old, 1);
	else
		unsetenv("TZ");
	free(old);
}

Test(cron, bad_expressions_name_the_field)
{
	static const struct {
		const char *expr, *want;
	} cases[] = {
		{ "60 * * * *", "minute: 60 is out of range 0-59" },
		{ "* 24 * * *", "hour: 24 is out of range" },
		{ "* * 0 * *", "day-of-month: 0 is out of range 1-31" },
		{ "* * 32 * *", "day-of-month" },
		{ "* * * 13 *", "month: 13 is out of range" },
		{ "* * * foo *", "month: unknown name 'foo'" },
		{ "* * * * 8", "day-of-week: 8 is out of range 0-7" },
		{ "* * * * fry", "day-of-week: unknown name 'fry'" },
		{ "* * * * monday", "day-of-week: unknown name 'monday'" },
		{ "5/10 * * * *", "minute: a step needs a range" },
		{ "*/0 * * * *", "minute: bad step" },
		{ "*/ * * * *", "minute: bad step" },
		{ "10-5 * * * *", "minute: range 10-5" },
		{ "1-5-7 * * * *", "minute: unexpected '-'" },
		{ "1,,2 * * * *", "minute: expected a number" },
		{ "1, * * * *", "minute: unexpected ','" },
		{ "mon * * * *", "minute: 'mon' is not a number" },
		{ "1~5 * * * *", "minute: random ranges" },
		{ "* * * *", "expected 5 fields" },
		{ "* * * * * *", "expected 5 fields" },
		{ "", "expected 5 fields" },
		{ "@reboot", "@reboot has no expected start" },
		{ "@often", "unknown shortcut '@often'" },
		{ "@daily x", "unexpected text after @daily" },
		{ "0 0 30 2 *", "day-of-month: no day" },
		{ "0 0 31 4,6,9,11 *", "day-of-month: no day" },
		{ "CRON_TZ=Mars/Olympus 0 0 * * *", "CRON_TZ: unknown time zone" },
		{ "CRON_TZ=../../etc/passwd 0 0 * * *", "CRON_TZ: unknown" },
		{ "* * * * 99999999999", "day-of-week: bad number" },
	};

	for (size_t i = 0; i < MC_ARRAY_LEN(cases); i++) {
		struct mc_cron *c = NULL;
		struct mc_err err = { 0 };

		cr_expect_eq(mc_cron_parse(cases[i].expr, &c, &err), -1, "[%s]",
			     cases[i].expr);
		cr_expect_null(c);
		cr_expect_eq(err.code, MC_EXIT_USAGE);
		cr_expect(strstr(err.msg, cases[i].want) != NULL,
			  "[%s]: '%s' lacks '%s'", cases[i].expr, err.msg,
			  cases[i].want);
	}
}

/* A both-restricted day with an impossible day of month still runs on
 * its weekdays (OR), so it is not refused. */
Test(cron, impossible_day_with_weekday_is_fine)
{
	struct mc_cron *c = parse_ok("CRON_TZ=UTC 0 0 30 2 mon");

	cr_expect_eq(mc_cron_next(c, T("2026-01-01T00:00:00Z")),
		     T("2026-02-02T00:00:00Z"));
	mc_cron_free(c);
}

Test(cron, tz_offsets)
{
	struct mc_tz *tz = NULL;
	struct mc_err err = { 0 };

	cr_assert_eq(mc_tz_load("Europe/Berlin", &tz, &err), 0, "%s", err.msg);
	cr_expect_eq(mc_tz_offset(tz, T("2026-01-01T00:00:00Z")), 3600);
	cr_expect_eq(mc_tz_offset(tz, T("2026-07-01T00:00:00Z")), 7200);
	/* past the file's transitions: its POSIX rule */
	cr_expect_eq(mc_tz_offset(tz, T("2399-07-01T00:00:00Z")), 7200);
	cr_expect_eq(mc_tz_offset(tz, T("2399-12-01T00:00:00Z")), 3600);
	mc_tz_free(tz);
	cr_assert_eq(mc_tz_load("<+0530>-5:30", &tz, &err), 0, "%s", err.msg);
	cr_expect_eq(mc_tz_offset(tz, T("2026-01-01T00:00:00Z")), 19800);
	mc_tz_free(tz);
	cr_expect_eq(mc_tz_load("No/Such_Zone", &tz, &err), -1);
}
