/* test_threshold.c - Nagios ranges for thresholds (lib/threshold.c). */
#include <criterion/criterion.h>

#include <math.h>
#include <string.h>

#include "mc.h"
#include "threshold.h"

#define INF INFINITY

/* ---- parsing ------------------------------------------------------------ */

Test(threshold, parse_table)
{
	static const struct {
		const char *in;
		double lo, hi;
		unsigned flags;
	} cases[] = {
		{ "10", 0, 10, MC_RANGE_PLAIN },
		{ "10:", 10, INF, 0 },
		{ "~:10", -INF, 10, 0 },
		{ "10:20", 10, 20, 0 },
		{ "@10:20", 10, 20, MC_RANGE_INSIDE },
		{ "80%", 0, 80, MC_RANGE_PLAIN },
		{ "95.5%", 0, 95.5, MC_RANGE_PLAIN },
		{ "@10", 0, 10, MC_RANGE_INSIDE },
		{ "0", 0, 0, MC_RANGE_PLAIN },
		{ "-5", 0, -5, MC_RANGE_PLAIN },
		{ "-5:-1", -5, -1, 0 },
		{ "1.5:2.5", 1.5, 2.5, 0 },
		{ "5:5", 5, 5, 0 },
		{ "~:", -INF, INF, 0 },
		{ "@~:0", -INF, 0, MC_RANGE_INSIDE },
		{ "1e3:", 1000, INF, 0 },
		{ "10:20%", 10, 20, 0 },
	};

	for (size_t i = 0; i < MC_ARRAY_LEN(cases); i++) {
		struct mc_range r;
		struct mc_err err = { 0 };

		cr_assert_eq(mc_range_parse(cases[i].in, &r, &err), 0,
			     "[%s]: %s", cases[i].in, err.msg);
		cr_assert_eq(r.set, 1, "[%s]", cases[i].in);
		cr_assert_eq(r.flags, cases[i].flags, "[%s] flags %u",
			     cases[i].in, r.flags);
		cr_assert(r.lo == cases[i].lo, "[%s] lo %g", cases[i].in, r.lo);
		cr_assert(r.hi == cases[i].hi, "[%s] hi %g", cases[i].in, r.hi);
	}
}

Test(threshold, parse_rejects)
{
	static const char *const bad[] = {
		"", "a", "10:5", "@", "1:2:3", ":", ":10", "10:a", "~", "~10",
		"%", "10%%", "@@1", "inf", "nan", "1e999", "10 :20", "10: ",
		"x10", "10x", "~:~", "@:", "--1", "1..2",
		/* strtod would take these: hex, blanks, infinity spelled out */
		"0x10", "0x1p4", "10:0x20", "0X1A:", " 10", "10: 20", "@ 5",
		"infinity", "-inf:", "0x10%", ".", "1e", "+", "@-1",
	};

	for (size_t i = 0; i < MC_ARRAY_LEN(bad); i++) {
		struct mc_range r;
		struct mc_err err = { 0 };

		memset(&r, 0xff, sizeof(r));
		cr_assert_eq(mc_range_parse(bad[i], &r, &err), -1,
			     "[%s] was accepted", bad[i]);
		cr_assert_eq(err.code, MC_EXIT_USAGE, "[%s]", bad[i]);
		cr_assert_eq(r.set, 0, "[%s] left set", bad[i]);
		cr_assert_neq(err.msg[0], '\0');
	}
}

Test(threshold, parse_messages)
{
	struct mc_range r;
	struct mc_err err = { 0 };

	cr_assert_eq(mc_range_parse("", &r, &err), -1);
	cr_assert_str_eq(err.msg, "empty threshold");
	cr_assert_eq(mc_range_parse(NULL, &r, &err), -1);
	cr_assert_str_eq(err.msg, "empty threshold");
	cr_assert_eq(mc_range_parse("10:5", &r, &err), -1);
	cr_assert_str_eq(err.msg,
			 "bad threshold '10:5' (use N, N:, ~:N, N:M or @N:M)");
	/* err is optional. */
	cr_assert_eq(mc_range_parse("a", &r, NULL), -1);
}

/* ---- alerting ----------------------------------------------------------- */

Test(threshold, alert_truth_table)
{
	static const struct {
		const char *range;
		double v;
		int alert;
	} cases[] = {
		/* A bare number: alert at or above it (mercuryctl's reading). */
		{ "10", 9.999, 0 }, { "10", 10, 1 }, { "10", 11, 1 },
		{ "10", -1, 0 }, { "10", -INF, 0 }, { "10", INF, 1 },
		{ "80%", 79.99, 0 }, { "80%", 80, 1 },
		{ "0", -0.001, 0 }, { "0", 0, 1 },
		/* N: alert below N */
		{ "10:", 9.999, 1 }, { "10:", 10, 0 }, { "10:", 1e300, 0 },
		/* ~:N alert above N */
		{ "~:10", 10, 0 }, { "~:10", 10.001, 1 }, { "~:10", -1e300, 0 },
		/* N:M alert outside, the ends inside */
		{ "10:20", 9.999, 1 }, { "10:20", 10, 0 }, { "10:20", 15, 0 },
		{ "10:20", 20, 0 }, { "10:20", 20.001, 1 },
		/* @N:M alert inside, the ends included */
		{ "@10:20", 9.999, 0 }, { "@10:20", 10, 1 }, { "@10:20", 20, 1 },
		{ "@10:20", 20.001, 0 },
		/* @N is @0:N */
		{ "@10", -0.001, 0 }, { "@10", 0, 1 }, { "@10", 10, 1 },
		{ "@10", 10.001, 0 },
		{ "5:5", 5, 0 }, { "5:5", 5.001, 1 }, { "5:5", 4.999, 1 },
		{ "~:", -1e300, 0 }, { "~:", 1e300, 0 },
		{ "-5:-1", -3, 0 }, { "-5:-1", 0, 1 },
	};

	for (size_t i = 0; i < MC_ARRAY_LEN(cases); i++) {
		struct mc_range r;

		cr_assert_eq(mc_range_parse(cases[i].range, &r, NULL), 0);
		cr_assert_eq(mc_range_alert(&r, cases[i].v), cases[i].alert,
			     "[%s] at %g", cases[i].range, cases[i].v);
	}
}

Test(threshold, unset_and_nan)
{
	struct mc_range unset = { 0 }, r;

	cr_assert_eq(mc_range_alert(&unset, 1e9), 0);
	cr_assert_eq(mc_range_alert(&unset, NAN), 0);
	cr_assert_eq(mc_range_parse("10", &r, NULL), 0);
	cr_assert_eq(mc_range_alert(&r, NAN), 1);
	cr_assert_eq(mc_range_parse("@10:20", &r, NULL), 0);
	cr_assert_eq(mc_range_alert(&r, NAN), 1);
}

/* ---- formatting --------------------------------------------------------- */

Test(threshold, format_round_trip)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "10", "10" }, { "10:", "10:" }, { "~:10", "~:10" },
		{ "10:20", "10:20" }, { "@10:20", "@10:20" }, { "80%", "80" },
		{ "@10", "@0:10" }, { "~:", "~:" }, { "@~:5", "@~:5" },
		{ "@5:", "@5:" }, { "-5:-1", "-5:-1" }, { "1.5:2.5", "1.5:2.5" },
		{ "0.25", "0.25" },
	};

	for (size_t i = 0; i < MC_ARRAY_LEN(cases); i++) {
		struct mc_range a, b;
		char buf[64];

		cr_assert_eq(mc_range_parse(cases[i].in, &a, NULL), 0);
		mc_range_format(&a, buf, sizeof(buf));
		cr_assert_str_eq(buf, cases[i].out, "[%s]", cases[i].in);
		cr_assert_eq(mc_range_parse(buf, &b, NULL), 0, "[%s]", buf);
		cr_assert(a.lo == b.lo && a.hi == b.hi && a.flags == b.flags,
			  "[%s] -> [%s] changed", cases[i].in, buf);
	}
}

Test(threshold, format_unset_and_small_buffer)
{
	struct mc_range unset = { 0 }, r;
	char buf[8];

	memset(buf, 'x', sizeof(buf));
	mc_range_format(&unset, buf, sizeof(buf));
	cr_assert_str_eq(buf, "");
	cr_assert_eq(mc_range_parse("@1000:2000", &r, NULL), 0);
	mc_range_format(&r, buf, 4);
	cr_assert_str_eq(buf, "@10");		/* truncated, terminated */
}

/* "0:10" is Nagios' long form of "10" (alert outside 0..10): it formats as
 * the short form for Nagios readers, which mercuryctl itself would read as
 * ">= 10" (see threshold.h; only the boundary and negatives differ). */
Test(threshold, format_zero_low_bound)
{
	struct mc_range r;
	char buf[32];

	cr_assert_eq(mc_range_parse("0:10", &r, NULL), 0);
	mc_range_format(&r, buf, sizeof(buf));
	cr_assert_str_eq(buf, "10");
}

/* ---- status ------------------------------------------------------------- */

Test(threshold, status)
{
	struct mc_range w, c, none = { 0 };

	cr_assert_eq(mc_range_parse("10", &w, NULL), 0);
	cr_assert_eq(mc_range_parse("20", &c, NULL), 0);
	cr_assert_eq(mc_range_status(&w, &c, 5), 0);
	cr_assert_eq(mc_range_status(&w, &c, 10), 1);
	cr_assert_eq(mc_range_status(&w, &c, 19.9), 1);
	cr_assert_eq(mc_range_status(&w, &c, 20), 2);
	cr_assert_eq(mc_range_status(&w, &c, NAN), 2);
	cr_assert_eq(mc_range_status(&none, &c, 20), 2);
	cr_assert_eq(mc_range_status(&w, &none, 1e9), 1);
	cr_assert_eq(mc_range_status(&none, &none, 1e9), 0);
	cr_assert_eq(mc_range_status(&none, &none, NAN), 0);

	/* Low-side thresholds: "free at least": warn below 20, crit below
	 * 10. */
	cr_assert_eq(mc_range_parse("20:", &w, NULL), 0);
	cr_assert_eq(mc_range_parse("10:", &c, NULL), 0);
	cr_assert_eq(mc_range_status(&w, &c, 25), 0);
	cr_assert_eq(mc_range_status(&w, &c, 20), 0);
	cr_assert_eq(mc_range_status(&w, &c, 15), 1);
	cr_assert_eq(mc_range_status(&w, &c, 9), 2);
}
