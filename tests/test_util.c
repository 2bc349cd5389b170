/* test_util.c - units, strings, buffers, clocks and files (lib/units.c,
 * strutil.c, strbuf.c, date.c, files.c, utf8.c). */
#include <criterion/criterion.h>

#include "testlib.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mc.h"
#include "resil.h"

/* ---- helpers ------------------------------------------------------------ */




/* Number of entries in dir other than . and .. */
static int util_count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	cr_assert_not_null(d, "opendir %s: %s", dir, strerror(errno));
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void util_write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	cr_assert_not_null(f, "fopen %s: %s", path, strerror(errno));
	cr_assert_eq(fwrite(data, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
}

/* ---- errors ------------------------------------------------------------- */

Test(util, err_set_and_sys)
{
	struct mc_err e = { 0 };

	cr_assert_eq(mc_err_set(&e, MC_EXIT_CONFIG, "bad key %s at %d", "x", 3),
		     -1);
	cr_assert_eq(e.code, MC_EXIT_CONFIG);
	cr_assert_eq(e.sys_errno, 0);
	cr_assert_str_eq(e.msg, "bad key x at 3");

	cr_assert_eq(mc_err_sys(&e, MC_EXIT_IOERR, ENOENT, "cannot open %s",
				"/nope"), -1);
	cr_assert_eq(e.code, MC_EXIT_IOERR);
	cr_assert_eq(e.sys_errno, ENOENT);
	{
		char want[MC_ERR_MSG];

		snprintf(want, sizeof(want), "cannot open /nope: %s",
			 strerror(ENOENT));
		cr_assert_str_eq(e.msg, want);
	}
	mc_err_clear(&e);
	cr_assert_eq(e.code, 0);
	cr_assert_str_eq(e.msg, "");
	/* A NULL err is allowed everywhere. */
	cr_assert_eq(mc_err_set(NULL, 1, "x"), -1);
	mc_err_clear(NULL);
}

/* ---- durations ---------------------------------------------------------- */

Test(util, parse_duration_valid)
{
	static const struct {
		const char *in;
		int64_t ms;
	} cases[] = {
		{ "250ms", 250 },
		{ "2s", 2000 },
		{ "15m", 15 * 60000LL },
		{ "6h", 6 * 3600000LL },
		{ "30d", 30 * 86400000LL },
		{ "1w", 7 * 86400000LL },
		{ "1h30m", 90 * 60000LL },
		{ "1d12h", 36 * 3600000LL },
		{ "2m500ms", 120500 },
		{ "1.5s", 1500 },
		{ "0.25s", 250 },
		{ "0", 0 },
		{ "0s", 0 },
		{ "0ms", 0 },
		{ "52w", 52 * 7 * 86400000LL },
	};

	for (size_t i = 0; i < MC_ARRAY_LEN(cases); i++) {
		struct mc_err e = { 0 };
		int64_t ms = -12345;

		cr_assert_eq(mc_parse_duration_ms(cases[i].in, &ms, &e), 0,
			     "'%s' refused: %s", cases[i].in, e.msg);
		cr_assert_eq(ms, cases[i].ms, "'%s' gave %lld, want %lld",
			     cases[i].in, (long long)ms,
			     (long long)cases[i].ms);
	}
}

Test(util, parse_duration_invalid)
{
	static const char *const bad[] = {
		"5", "5x", "s", "ms", "-1s", "1s2", "+1s", " 2s", "2s ",
		"2 s", "1.s.", ".s", "1e3s", "2S", "1min", "00", "1,5s",
		"99999999999999999999s",	/* overflow in the number */
		"1000000000000w",		/* overflow in the product */
		"999999999999999ms1w",		/* overflow in the sum */
	};

	for (size_t i = 0; i < MC_ARRAY_LEN(bad); i++) {
		struct mc_err e = { 0 };
		int64_t ms = -12345;
		char want[128];

		cr_assert_eq(mc_parse_duration_ms(bad[i], &ms, &e), -1,
			     "'%s' accepted as %lld", bad[i], (long long)ms);
		cr_assert_eq(ms, -12345, "'%s' changed the output", bad[i]);
		cr_assert_eq(e.code, MC_EXIT_USAGE, "'%s'", bad[i]);
		snprintf(want, sizeof(want), "bad duration '%s'", bad[i]);
		cr_assert(strstr(e.msg, want) != NULL, "'%s': message '%s'",
			  bad[i], e.msg);
		cr_assert(strstr(e.msg, "250ms") != NULL,
			  "'%s': message has no example: '%s'", bad[i], e.msg);
	}
}

Test(util, parse_duration_empty_and_null)
{
	struct mc_err e = { 0 };
	int64_t ms = 7;

	cr_assert_eq(mc_parse_duration_ms("", &ms, &e), -1);
	cr_assert_eq(e.code, MC_EXIT_USAGE);
	cr_assert(strstr(e.msg, "empty duration") != NULL, "%s", e.msg);
	mc_err_clear(&e);
	cr_assert_eq(mc_parse_duration_ms(NULL, &ms, &e), -1);
	cr_assert_eq(e.code, MC_EXIT_USAGE);
	cr_assert_eq(mc_parse_duration_ms("5x", &ms, NULL), -1);
	cr_assert_eq(ms, 7);
}

Test(util, format_duration_values)
{
	static const struct {
		int64_t ms;
		const char *out;
	} cases[] = {
		{ 0, "0s" },
		{ -5, "0s" },
		{ 1, "1ms" },
		{ 250, "250ms" },
		{ 1000, "1s" },
		{ 1500, "1s500ms" },
		{ 60000, "1m" },
		{ 5400000, "1h30m" },
		{ 86400000, "1d" },
		{ 604800000, "1w" },
		{ 604800000LL + 86400000 + 3600000 + 60000 + 1000 + 1,
		  "1w1d1h1m1s1ms" },
		{ 14 * 86400000LL, "2w" },
	};

	for (size_t i = 0; i < MC_ARRAY_LEN(cases); i++) {
		char buf[64];

		mc_format_duration(cases[i].ms, buf, sizeof(buf));
		cr_assert_str_eq(buf, cases[i].out, "%lld",
				 (long long)cases[i].ms);
	}
}

Test(util, format_duration_round_trips)
{
	static const int64_t values[] = {
		1, 999, 1000, 1001, 59999, 60000, 90061001, 3600000,
		5400000, 86399999, 604800000, 1234567890123LL,
	};

	for (size_t i = 0; i < MC_ARRAY_LEN(values); i++) {
		char buf[64];
		int64_t back = -1;
		struct mc_err e = { 0 };

		mc_format_duration(values[i], buf, sizeof(buf));
		cr_assert_eq(mc_parse_duration_ms(buf, &back, &e), 0,
			     "'%s' (from %lld) refused: %s", buf,
			     (long long)values[i], e.msg);
		cr_assert_eq(back, values[i], "'%s' parsed as %lld, want %lld",
			     buf, (long long)back, (long long)values[i]);
	}
	/* And the other way: text in canonical form survives. */
	{
		static const char *const texts[] = { "1h30m", "250ms", "2w3d",
						     "1m1s1ms" };

		for (size_t i = 0; i < MC_ARRAY_LEN(texts); i++) {
			int64_t ms;
			char buf[64];

			cr_assert_eq(mc_parse_duration_ms(texts[i], &ms, NULL),
				     0);
			mc_format_duration(ms, buf, sizeof(buf));
			cr_assert_str_eq(buf, texts[i]);
		}
	}
}

Test(util, format_duration_small_buffer)
{
	char buf[8];

	memset(buf, 'X', sizeof(buf));
	mc_format_duration(5400000, buf, 4);	/* "1h30m" does not fit */
	cr_assert(memchr(buf, '\0', 4) != NULL, "not terminated");
	cr_assert_eq(strncmp(buf, "1h", 2), 0, "'%s'", buf);
	for (size_t i = 4; i < sizeof(buf); i++)
		cr_assert_eq(buf[i], 'X', "wrote past the buffer at %zu", i);
	mc_format_duration(5400000, buf, 0);	/* size 0: nothing written */
	cr_assert_eq(buf[4], 'X');
}

/* ---- sizes, percentages, rates, integers, booleans ---------------------- */

Test(util, parse_size_valid)
{
	static const struct {
		const char *in;
		uint64_t out;
	} cases[] = {
		{ "0", 0 },
		{ "512", 512 },
		{ "512B", 512 },
		{ "10KB", 10000 },
		{ "1.5KB", 1500 },
		{ "3MB", 3000000 },
		{ "2GB", 2000000000ULL },
		{ "1TB", 1000000000000ULL },
		{ "1KiB", 1024 },
		{ "5MiB", 5242880 },
		{ "2GiB", 2147483648ULL },
		{ "1TiB", 1099511627776ULL },
	};

	for (size_t i = 0; i < MC_ARRAY_LEN(cases); i++) {
		uint64_t v = 12345;
		struct mc_err e = { 0 };

		cr_assert_eq(mc_parse_size(cases[i].in, &v, &e), 0,
			     "'%s' refused: %s", cases[i].in, e.msg);
		cr_assert_eq(v, cases[i].out, "'%s' gave %llu", cases[i].in,
			     (unsigned long long)v);
	}
}

Test(util, parse_size_invalid)
{
	static const char *const bad[] = {
		"", "KB", "10XB", "10 KB", "-1", "10KBs", "1.2.3", "abc",
		"B", "10BB",
	};

	for (size_t i = 0; i < MC_ARRAY_LEN(bad); i++) {
		uint64_t v = 99;
		struct mc_err e = { 0 };
		char want[64];

		cr_assert_eq(mc_parse_size(bad[i], &v, &e), -1,
			     "'%s' accepted as %llu", bad[i],
			     (unsigned long long)v);
		cr_assert_eq(v, 99);
		cr_assert_eq(e.code, MC_EXIT_USAGE);
		snprintf(want, sizeof(want), "bad size '%s'", bad[i]);
		cr_assert(strstr(e.msg, want) != NULL, "'%s': '%s'", bad[i],
			  e.msg);
	}
	cr_assert_eq(mc_parse_size(NULL, &(uint64_t){ 0 }, NULL), -1);
}

/* A size must fit a uint64_t: 20000000TB is 2e19 bytes (> 2^64 - 1);
 * 10000000TB = 1e19 fits a uint64_t but not a long long. */
Test(util, parse_size_overflow)
{
	uint64_t v = 7;
	struct mc_err e = { 0 };

	cr_assert_eq(mc_parse_size("20000000TB", &v, &e), -1,
		     "20000000TB (2e19 > UINT64_MAX) accepted as %llu",
		     (unsigned long long)v);
	cr_assert_eq(v, 7);
	cr_assert_eq(e.code, MC_EXIT_USAGE);
	cr_assert_not_null(strstr(e.msg, "20000000TB"), "%s", e.msg);
	cr_assert_eq(mc_parse_size("16EiB", &v, NULL), -1);	/* no such unit */
	cr_assert_eq(mc_parse_size("16777216TiB", &v, NULL), -1); /* = 2^64 */
	cr_assert_eq(mc_parse_size("10000000TB", &v, &e), 0, "%s", e.msg);
	cr_assert_eq(v, 10000000000000000000ULL, "%llu", (unsigned long long)v);
	cr_assert_eq(mc_parse_size("16777215TiB", &v, &e), 0, "%s", e.msg);
	cr_assert_eq(v, 16777215ULL * 1099511627776ULL);
}

Test(util, parse_percent)
{
	static const struct {
		const char *in;
		double out;
	} ok[] = {
		{ "80%", 80 }, { "80", 80 }, { "100", 100 }, { "100%", 100 },
		{ "0", 0 }, { "0%", 0 }, { "12.5%", 12.5 },
	};
	static const char *const bad[] = {
		"100.5", "101%", "abc", "", "-5", "80%%", "%", "80 %", "80x",
	};

	for (size_t i = 0; i < MC_ARRAY_LEN(ok); i++) {
		double v = -1;

		cr_assert_eq(mc_parse_percent(ok[i].in, &v, NULL), 0, "'%s'",
			     ok[i].in);
		cr_assert_float_eq(v, ok[i].out, 1e-12, "'%s' gave %g",
				   ok[i].in, v);
	}
	for (size_t i = 0; i < MC_ARRAY_LEN(bad); i++) {
		double v = -1;
		struct mc_err e = { 0 };

		cr_assert_eq(mc_parse_percent(bad[i], &v, &e), -1,
			     "'%s' accepted as %g", bad[i], v);
		cr_assert_eq(v, -1);
		cr_assert_eq(e.code, MC_EXIT_USAGE);
		cr_assert(strstr(e.msg, "bad percentage") != NULL, "%s", e.msg);
		cr_assert(strstr(e.msg, "80%") != NULL, "%s", e.msg);
	}
}

Test(util, parse_rate)
{
	static const struct {
		const char *in;
		double out;
	} ok[] = {
		{ "1/s", 1 }, { "30/m", 0.5 }, { "120/m", 2 },
		{ "100/h", 100.0 / 3600 }, { "0.5/s", 0.5 }, { "3600/h", 1 },
	};
	static const char *const bad[] = {
		"0/s", "0/m", "1", "1/x", "/s", "-1/s", "1/", "1/sec", "",
		"1 /s",
	};

	for (size_t i = 0; i < MC_ARRAY_LEN(ok); i++) {
		double v = -1;

		cr_assert_eq(mc_parse_rate(ok[i].in, &v, NULL), 0, "'%s'",
			     ok[i].in);
		cr_assert_float_eq(v, ok[i].out, 1e-12, "'%s' gave %g",
				   ok[i].in, v);
	}
	for (size_t i = 0; i < MC_ARRAY_LEN(bad); i++) {
		double v = -1;
		struct mc_err e = { 0 };

		cr_assert_eq(mc_parse_rate(bad[i], &v, &e), -1,
			     "'%s' accepted as %g", bad[i], v);
		cr_assert_eq(v, -1);
		cr_assert_eq(e.code, MC_EXIT_USAGE);
		cr_assert(strstr(e.msg, "bad rate") != NULL, "%s", e.msg);
	}
}

Test(util, parse_int_bounds)
{
	long long v = 42;
	struct mc_err e = { 0 };

	cr_assert_eq(mc_parse_int("0", 0, 10, &v, NULL), 0);
	cr_assert_eq(v, 0);
	cr_assert_eq(mc_parse_int("10", 0, 10, &v, NULL), 0);
	cr_assert_eq(v, 10);
	cr_assert_eq(mc_parse_int("-3", -5, 5, &v, NULL), 0);
	cr_assert_eq(v, -3);
	cr_assert_eq(mc_parse_int("9223372036854775807", LLONG_MIN, LLONG_MAX,
				  &v, NULL), 0);
	cr_assert_eq(v, LLONG_MAX);
	cr_assert_eq(mc_parse_int("-9223372036854775808", LLONG_MIN, LLONG_MAX,
				  &v, NULL), 0);
	cr_assert_eq(v, LLONG_MIN);

	v = 42;
	cr_assert_eq(mc_parse_int("11", 0, 10, &v, &e), -1);
	cr_assert_eq(v, 42);
	cr_assert_eq(e.code, MC_EXIT_USAGE);
	cr_assert_str_eq(e.msg, "bad number '11' (a whole number from 0 to 10)");
	{
		static const char *const bad[] = {
			"-1", "", "abc", "5x", "1.5", "0x10",
			"9223372036854775808", "99999999999999999999",
		};

		for (size_t i = 0; i < MC_ARRAY_LEN(bad); i++) {
			mc_err_clear(&e);
			cr_assert_eq(mc_parse_int(bad[i], 0, LLONG_MAX, &v, &e),
				     -1, "'%s' accepted as %lld", bad[i], v);
			cr_assert_eq(v, 42);
			cr_assert_eq(e.code, MC_EXIT_USAGE);
		}
	}
	cr_assert_eq(mc_parse_int(NULL, 0, 1, &v, NULL), -1);
}

Test(util, parse_bool_forms)
{
	static const char *const yes[] = { "true", "yes", "on", "1", "TRUE",
					   "Yes", "ON" };
	static const char *const no[] = { "false", "no", "off", "0", "FALSE",
					  "No", "Off" };
	static const char *const bad[] = { "", "maybe", "2", "truee",
					   " true", "yes please" };

	for (size_t i = 0; i < MC_ARRAY_LEN(yes); i++) {
		int v = -1;

		cr_assert_eq(mc_parse_bool(yes[i], &v, NULL), 0, "%s", yes[i]);
		cr_assert_eq(v, 1, "%s", yes[i]);
	}
	for (size_t i = 0; i < MC_ARRAY_LEN(no); i++) {
		int v = -1;

		cr_assert_eq(mc_parse_bool(no[i], &v, NULL), 0, "%s", no[i]);
		cr_assert_eq(v, 0, "%s", no[i]);
	}
	for (size_t i = 0; i < MC_ARRAY_LEN(bad); i++) {
		int v = -1;
		struct mc_err e = { 0 };

		cr_assert_eq(mc_parse_bool(bad[i], &v, &e), -1, "'%s'", bad[i]);
		cr_assert_eq(v, -1);
		cr_assert_eq(e.code, MC_EXIT_USAGE);
		cr_assert(strstr(e.msg, "bad boolean") != NULL, "%s", e.msg);
	}
	cr_assert_eq(mc_parse_bool(NULL, &(int){ 0 }, NULL), -1);
}

/* ---- strings ------------------------------------------------------------ */

Test(util, levenshtein)
{
	static const struct {
		const char *a, *b;
		size_t d;
	} cases[] = {
		{ "", "", 0 }, { "abc", "", 3 }, { "", "abcd", 4 },
		{ "same", "same", 0 }, { "kitten", "sitting", 3 },
		{ "flaw", "lawn", 2 }, { "health", "helth", 1 },
		{ "json", "josn", 2 },	/* no transpositions: 2 edits */
		{ "breaker", "braeker", 2 }, { "abc", "xyz", 3 },
	};

	for (size_t i = 0; i < MC_ARRAY_LEN(cases); i++) {
		cr_assert_eq(mc_levenshtein(cases[i].a, cases[i].b), cases[i].d,
			     "d(%s, %s)", cases[i].a, cases[i].b);
		cr_assert_eq(mc_levenshtein(cases[i].b, cases[i].a), cases[i].d,
			     "d(%s, %s)", cases[i].b, cases[i].a);
	}
}

Test(util, suggest)
{
	static const char *const cmds[] = { "health", "history", "breaker",
					    "config", "completion", "version" };
	static const char *const with_null[] = { NULL, "reset", NULL, "list" };
	size_t n = MC_ARRAY_LEN(cmds);

	cr_assert_str_eq(mc_suggest("helth", cmds, n), "health");
	cr_assert_str_eq(mc_suggest("histroy", cmds, n), "history");
	cr_assert_str_eq(mc_suggest("braeker", cmds, n), "breaker");
	cr_assert_str_eq(mc_suggest("confg", cmds, n), "config");
	cr_assert_str_eq(mc_suggest("version", cmds, n), "version");
	cr_assert_null(mc_suggest("zzzzzzzz", cmds, n));
	cr_assert_null(mc_suggest("deploy", cmds, n));
	cr_assert_null(mc_suggest("x", cmds, n));
	cr_assert_null(mc_suggest("helth", cmds, 0));
	cr_assert_str_eq(mc_suggest("rest", with_null, 4), "reset");
	cr_assert_str_eq(mc_suggest("lst", with_null, 4), "list");
	/* the one candidate a word begins, nearer ones aside (hist is one
	 * edit from list); a prefix of two is left to the distance */
	{
		static const char *const job[] = { "run", "list", "history",
						   "log" };

		cr_assert_str_eq(mc_suggest("hist", job, 4), "history");
		cr_assert_str_eq(mc_suggest("com", cmds, n), "completion");
		cr_assert_str_eq(mc_suggest("lo", job, 4), "log");
		cr_assert_null(mc_suggest("co", cmds, n));	/* config? completion? */
	}
}

Test(util, streq_trim_strdup)
{
	char s[] = "  \t hello world \n ";
	char *d;

	cr_assert(mc_streq("a", "a"));
	cr_assert_not(mc_streq("a", "b"));
	cr_assert(mc_streq(NULL, NULL));
	cr_assert_not(mc_streq("a", NULL));
	cr_assert_not(mc_streq(NULL, "a"));
	cr_assert_str_eq(mc_trim(s), "hello world");
	cr_assert_null(mc_strdup(NULL));
	d = mc_strndup("abcdef", 3);
	cr_assert_str_eq(d, "abc");
	free(d);
	d = mc_asprintf("%s-%d", "x", 42);
	cr_assert_str_eq(d, "x-42");
	free(d);
}

/* ---- buffers ------------------------------------------------------------ */

Test(util, buf_growth)
{
	struct mc_buf b = { 0 };
	char expect[5001];

	for (int i = 0; i < 5000; i++) {
		char c = (char)('a' + i % 26);

		mc_buf_add(&b, &c, 1);
		expect[i] = c;
		cr_assert_eq(b.len, (size_t)i + 1);
		cr_assert(b.cap > b.len, "cap %zu len %zu", b.cap, b.len);
		cr_assert_eq(b.data[b.len], '\0');
	}
	expect[5000] = '\0';
	cr_assert_str_eq(b.data, expect);
	mc_buf_printf(&b, "[%d|%s]", 7, "z");
	cr_assert_eq(b.len, 5005);
	cr_assert_str_eq(b.data + 5000, "[7|z]");
	mc_buf_reset(&b);
	cr_assert_eq(b.len, 0);
	cr_assert_not_null(b.data);
	cr_assert_str_eq(b.data, "");
	mc_buf_puts(&b, "again");
	cr_assert_str_eq(b.data, "again");
	mc_buf_release(&b);
	cr_assert_null(b.data);
	cr_assert_eq(b.len, 0);
	cr_assert_eq(b.cap, 0);
}

Test(util, buf_embedded_nul_and_empty_add)
{
	struct mc_buf b = { 0 };

	mc_buf_add(&b, "", 0);
	cr_assert_not_null(b.data);
	cr_assert_eq(b.len, 0);
	cr_assert_str_eq(b.data, "");
	mc_buf_add(&b, "a\0b", 3);
	cr_assert_eq(b.len, 3);
	cr_assert_eq(memcmp(b.data, "a\0b", 4), 0);
	mc_buf_release(&b);
}

Test(util, buf_steal)
{
	struct mc_buf b = { 0 };
	char *s;

	mc_buf_puts(&b, "hello ");
	mc_buf_printf(&b, "%s", "world");
	s = mc_buf_steal(&b);
	cr_assert_str_eq(s, "hello world");
	cr_assert_null(b.data);
	cr_assert_eq(b.len, 0);
	cr_assert_eq(b.cap, 0);
	/* b is usable again and independent of s. */
	mc_buf_puts(&b, "next");
	cr_assert_str_eq(b.data, "next");
	cr_assert_str_eq(s, "hello world");
	free(s);
	mc_buf_release(&b);
	/* Stealing from an empty buffer gives an empty, freeable string. */
	s = mc_buf_steal(&b);
	cr_assert_not_null(s);
	cr_assert_str_eq(s, "");
	free(s);
}

/* ---- clocks and deadlines ----------------------------------------------- */

Test(util, deadline_none)
{
	struct mc_deadline d = { 0 };

	cr_assert_eq(mc_deadline_left_ms(&d, 500), 500);
	cr_assert_eq(mc_deadline_left_ms(&d, 0), INT64_MAX);
	cr_assert_eq(mc_deadline_passed(&d), 0);
	cr_assert_eq(mc_deadline_left_ms(NULL, 700), 700);
	cr_assert_eq(mc_deadline_left_ms(NULL, 0), INT64_MAX);
	cr_assert_eq(mc_deadline_passed(NULL), 0);
}

Test(util, deadline_future_is_capped)
{
	struct mc_deadline d;
	int64_t left;

	mc_deadline_set(&d, 3600000);	/* an hour: never passes here */
	cr_assert_neq(d.at, 0);
	cr_assert_eq(mc_deadline_passed(&d), 0);
	cr_assert_eq(mc_deadline_left_ms(&d, 1000), 1000);
	left = mc_deadline_left_ms(&d, 0);
	cr_assert(left > 0 && left <= 3600000, "left %lld", (long long)left);
	left = mc_deadline_left_ms(&d, 7200000);	/* cap above what is left */
	cr_assert(left > 0 && left <= 3600000, "left %lld", (long long)left);
}

Test(util, deadline_in_the_past)
{
	struct mc_deadline d;

	d.at = mc_mono_now() - 1.0;	/* a second ago */
	cr_assert_eq(mc_deadline_left_ms(&d, 0), 0);
	cr_assert_eq(mc_deadline_left_ms(&d, 1000), 0);
	cr_assert_eq(mc_deadline_passed(&d), 1);
}

static double util_fixed_clock(void *ctx)
{
	return *(const double *)ctx;
}

Test(util, clock_injection)
{
	double t = 1234.5;
	struct mc_clock c = { util_fixed_clock, &t };
	double now = mc_wall_now();

	cr_assert_float_eq(mc_clock_now(&c), 1234.5, 1e-9);
	t = 99;
	cr_assert_float_eq(mc_clock_now(&c), 99, 1e-9);
	/* NULL clock: wall time (after 2020, and not before `now`). */
	cr_assert(mc_clock_now(NULL) >= now);
	cr_assert(now > 1577836800.0);
}

/* ---- backoff ------------------------------------------------------------ */

Test(util, backoff_unit_zero_is_zero)
{
	for (int a = 0; a < 70; a++)
		cr_assert_eq(mc_backoff_ms(a, 100, 30000, 0.0), 0, "attempt %d",
			     a);
}

Test(util, backoff_values)
{
	/* unit 0.5: half the ceiling min(cap, base * 2^attempt). */
	cr_assert_eq(mc_backoff_ms(0, 100, 10000, 0.5), 50);
	cr_assert_eq(mc_backoff_ms(1, 100, 10000, 0.5), 100);
	cr_assert_eq(mc_backoff_ms(3, 100, 10000, 0.5), 400);
	cr_assert_eq(mc_backoff_ms(6, 100, 10000, 0.5), 3200);
	cr_assert_eq(mc_backoff_ms(7, 100, 10000, 0.5), 5000);	/* 12800 > cap */
	cr_assert_eq(mc_backoff_ms(1000, 100, 10000, 0.5), 5000);
	cr_assert_eq(mc_backoff_ms(INT32_MAX, 100, 10000, 0.5), 5000);
	/* base above cap: the cap bounds already the first attempt. */
	cr_assert_eq(mc_backoff_ms(0, 50000, 10000, 0.5), 5000);
}

Test(util, backoff_stays_below_ceiling)
{
	static const double units[] = { 0.0, 0.25, 0.5, 0.999, 0.9999999999 };

	for (int a = 0; a < 80; a++) {
		for (size_t u = 0; u < MC_ARRAY_LEN(units); u++) {
			double ceiling = 250.0 * pow(2, a);
			int64_t d;

			if (ceiling > 60000)
				ceiling = 60000;
			d = mc_backoff_ms(a, 250, 60000, units[u]);
			cr_assert(d >= 0, "attempt %d unit %g: %lld", a, units[u],
				  (long long)d);
			cr_assert(d < ceiling || (d == 0 && ceiling == 0),
				  "attempt %d unit %g: %lld not below %g", a,
				  units[u], (long long)d, ceiling);
			cr_assert(d <= (int64_t)(ceiling * units[u]) + 1 &&
				  d >= (int64_t)(ceiling * units[u]) - 1,
				  "attempt %d unit %g: %lld, want ~%g", a, units[u],
				  (long long)d, ceiling * units[u]);
		}
	}
}

/* ---- randomness and hex ------------------------------------------------- */

Test(util, hex)
{
	static const unsigned char raw[] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xff };
	char out[2 * sizeof(raw) + 1];
	char none[1] = { 'X' };

	mc_hex(raw, sizeof(raw), out);
	cr_assert_str_eq(out, "00017f80abff");
	mc_hex(raw, 0, none);
	cr_assert_eq(none[0], '\0');
}

Test(util, random_unit_range)
{
	for (int i = 0; i < 1000; i++) {
		double u = mc_random_unit();

		cr_assert(u >= 0.0 && u < 1.0, "%g", u);
	}
}

/* ---- time formatting ---------------------------------------------------- */

Test(util, format_time_known_epochs)
{
	static const struct {
		double wall;
		const char *out;
	} cases[] = {
		{ 0, "1970-01-01T00:00:00.000Z" },
		{ 1700000000.25, "2023-11-14T22:13:20.250Z" },
		{ 1700000000.5, "2023-11-14T22:13:20.500Z" },
		{ 951782400, "2000-02-29T00:00:00.000Z" },	/* leap day */
		{ 951868799.75, "2000-02-29T23:59:59.750Z" },
		{ 1e9, "2001-09-09T01:46:40.000Z" },
	};

	for (size_t i = 0; i < MC_ARRAY_LEN(cases); i++) {
		char buf[40];

		mc_format_time(cases[i].wall, buf, sizeof(buf));
		cr_assert_str_eq(buf, cases[i].out, "%.3f", cases[i].wall);
		cr_assert_eq(strlen(buf), 24);
	}
}

/* The fraction is rounded to the millisecond, not truncated: 1.001 is stored
 * as 1.000999999999999889... and must still print .001; a fraction that
 * rounds up to 1000 ms carries into the seconds (and beyond). */
Test(util, format_time_rounds_to_the_millisecond)
{
	static const struct {
		double wall;
		const char *out;
	} cases[] = {
		{ 1.001, "1970-01-01T00:00:01.001Z" },
		{ 1700000000.123, "2023-11-14T22:13:20.123Z" },
		{ 1700000000.001, "2023-11-14T22:13:20.001Z" },
		{ 1700000000.999, "2023-11-14T22:13:20.999Z" },
		{ 0.9996, "1970-01-01T00:00:01.000Z" },
		{ 59.9999, "1970-01-01T00:01:00.000Z" },
		{ 946684799.9999, "2000-01-01T00:00:00.000Z" },
		{ 0.0004, "1970-01-01T00:00:00.000Z" },
	};

	for (size_t i = 0; i < MC_ARRAY_LEN(cases); i++) {
		char buf[40];

		mc_format_time(cases[i].wall, buf, sizeof(buf));
		cr_assert_str_eq(buf, cases[i].out, "%.4f formatted as %s",
				 cases[i].wall, buf);
	}
}

/* ---- files -------------------------------------------------------------- */

Test(util, write_atomic_content_mode_no_temp)
{
	char dirbuf[MC_TEST_DIR_LEN], *dir = mc_test_dir(dirbuf);
	char *path = mc_asprintf("%s/out.txt", dir);
	static const char data[] = "line one\nline two\n\0binary\xff";
	struct mc_err e = { 0 };
	struct stat st;
	size_t len = 0;
	char *back;

	umask(022);
	cr_assert_eq(mc_write_atomic(path, data, sizeof(data), 0600, &e), 0,
		     "%s", e.msg);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0600, "mode %o", st.st_mode & 07777);
	cr_assert_eq((size_t)st.st_size, sizeof(data));
	back = mc_read_file(path, 1 << 20, &len, &e);
	cr_assert_not_null(back, "%s", e.msg);
	cr_assert_eq(len, sizeof(data));
	cr_assert_eq(memcmp(back, data, len), 0);
	free(back);
	cr_assert_eq(util_count_entries(dir), 1, "a temporary file was left");

	/* Replacing: new content and mode, still one file. */
	cr_assert_eq(mc_write_atomic(path, "new", 3, 0644, &e), 0, "%s", e.msg);
	back = mc_read_file(path, 100, &len, &e);
	cr_assert_not_null(back);
	cr_assert_eq(len, 3);
	cr_assert_str_eq(back, "new");
	free(back);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0644, "mode %o", st.st_mode & 07777);
	cr_assert_eq(util_count_entries(dir), 1, "a temporary file was left");

	/* Empty content. */
	cr_assert_eq(mc_write_atomic(path, "", 0, 0644, &e), 0, "%s", e.msg);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_size, 0);

	free(path);
	mc_test_rmtree(dir);
}

Test(util, write_atomic_relative_path)
{
	char dirbuf[MC_TEST_DIR_LEN], *dir = mc_test_dir(dirbuf);
	char *back;

	cr_assert_eq(chdir(dir), 0);
	cr_assert_eq(mc_write_atomic("rel.txt", "abc", 3, 0644, NULL), 0);
	back = mc_read_file("rel.txt", 10, NULL, NULL);
	cr_assert_str_eq(back, "abc");
	free(back);
	cr_assert_eq(util_count_entries("."), 1);
	cr_assert_eq(chdir("/"), 0);
	mc_test_rmtree(dir);
}

Test(util, write_atomic_missing_dir)
{
	char dirbuf[MC_TEST_DIR_LEN], *dir = mc_test_dir(dirbuf);
	char *path = mc_asprintf("%s/no/such/dir/file", dir);
	struct mc_err e = { 0 };

	cr_assert_eq(mc_write_atomic(path, "x", 1, 0644, &e), -1);
	cr_assert_eq(e.code, MC_EXIT_IOERR);
	cr_assert_eq(e.sys_errno, ENOENT);
	cr_assert(strstr(e.msg, "no/such/dir") != NULL, "%s", e.msg);
	cr_assert(strstr(e.msg, strerror(ENOENT)) != NULL, "%s", e.msg);
	cr_assert_eq(util_count_entries(dir), 0);
	free(path);
	mc_test_rmtree(dir);
}

Test(util, mkdir_p)
{
	char dirbuf[MC_TEST_DIR_LEN], *dir = mc_test_dir(dirbuf);
	char *deep = mc_asprintf("%s/a/b/c", dir);
	char *file = mc_asprintf("%s/f", dir);
	char *under = mc_asprintf("%s/f/sub", dir);
	struct mc_err e = { 0 };
	struct stat st;

	cr_assert_eq(mc_mkdir_p(deep, 0700, &e), 0, "%s", e.msg);
	cr_assert_eq(stat(deep, &st), 0);
	cr_assert(S_ISDIR(st.st_mode));
	cr_assert_eq(mc_mkdir_p(deep, 0700, &e), 0, "existing: %s", e.msg);
	util_write_file(file, "x", 1);
	cr_assert_eq(mc_mkdir_p(under, 0700, &e), -1);
	cr_assert_eq(e.code, MC_EXIT_IOERR);
	cr_assert_eq(e.sys_errno, ENOTDIR);
	free(deep);
	free(file);
	free(under);
	mc_test_rmtree(dir);
}

Test(util, read_file)
{
	char dirbuf[MC_TEST_DIR_LEN], *dir = mc_test_dir(dirbuf);
	char *path = mc_asprintf("%s/data", dir);
	char *missing = mc_asprintf("%s/missing", dir);
	char big[10000];
	struct mc_err e = { 0 };
	size_t len = 0;
	char *s;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('0' + i % 10);
	util_write_file(path, big, sizeof(big));

	/* Larger than one read: whole, NUL-terminated. */
	s = mc_read_file(path, sizeof(big), &len, &e);
	cr_assert_not_null(s, "%s", e.msg);
	cr_assert_eq(len, sizeof(big));
	cr_assert_eq(memcmp(s, big, len), 0);
	cr_assert_eq(s[len], '\0');
	free(s);

	/* One byte over the limit. */
	s = mc_read_file(path, sizeof(big) - 1, &len, &e);
	cr_assert_null(s);
	cr_assert_eq(e.code, MC_EXIT_IOERR);
	cr_assert(strstr(e.msg, "larger than 9999 bytes") != NULL, "%s", e.msg);
	cr_assert(strstr(e.msg, path) != NULL, "%s", e.msg);

	/* Small limit, small first chunk. */
	mc_err_clear(&e);
	s = mc_read_file(path, 5, NULL, &e);
	cr_assert_null(s);
	cr_assert_eq(e.code, MC_EXIT_IOERR);

	/* Empty file. */
	util_write_file(path, "", 0);
	s = mc_read_file(path, 0, &len, &e);
	cr_assert_not_null(s, "%s", e.msg);
	cr_assert_eq(len, 0);
	cr_assert_str_eq(s, "");
	free(s);

	/* Missing file. */
	mc_err_clear(&e);
	cr_assert_null(mc_read_file(missing, 100, &len, &e));
	cr_assert_eq(e.code, MC_EXIT_IOERR);
	cr_assert_eq(e.sys_errno, ENOENT);

	free(path);
	free(missing);
	mc_test_rmtree(dir);
}

Test(util, format_duration_days)
{
	static const struct {
		int64_t ms;
		const char *text;
	} cases[] = {
		{ 300000, "5m" }, { 3600000, "1h" }, { 86400000, "1d" },
		{ 3 * 86400000LL, "3d" }, { 30 * 86400000LL, "30d" },
		{ 36 * 3600000LL, "1d12h" }, { 0, "0s" }, { 1500, "1s500ms" },
	};
	char buf[64];

	for (size_t i = 0; i < MC_ARRAY_LEN(cases); i++) {
		mc_format_duration_days(cases[i].ms, buf, sizeof(buf));
		cr_expect_str_eq(buf, cases[i].text, "%lld ms",
				 (long long)cases[i].ms);
	}
}

Test(util, parse_time_forms)
{
	static const struct {
		const char *text;
		double want;
	} cases[] = {
		{ "1795341600", 1795341600.0 },
		{ "1795341600.25", 1795341600.25 },
		{ "2026-11-22T10:00:00Z", 1795341600.0 },
		{ "2026-11-22t10:00:00z", 1795341600.0 },
		{ "2026-11-22 10:00:00Z", 1795341600.0 },
		{ "2026-11-22T10:00:00.5Z", 1795341600.5 },
		{ "2026-11-22T12:30:00+02:30", 1795341600.0 },
		{ "2026-11-22T07:00:00-03:00", 1795341600.0 },
		{ "1970-01-01T00:00:00Z", 0 },
		{ "2024-02-29T00:00:00Z", 1709164800.0 },
	};

	for (size_t i = 0; i < MC_ARRAY_LEN(cases); i++) {
		double got = -1;
		struct mc_err err = { 0 };

		cr_expect_eq(mc_parse_time(cases[i].text, &got, &err), 0,
			     "%s: %s", cases[i].text, err.msg);
		cr_expect(fabs(got - cases[i].want) < 1e-6, "%s: %.6f, not %.6f",
			  cases[i].text, got, cases[i].want);
	}
}

Test(util, parse_time_refuses)
{
	static const char *const bad[] = {
		"", "now", "-5", "2026-11-22", "2026-11-22T10:00:00",
		"2026-02-30T00:00:00Z", "2025-02-29T00:00:00Z",
		"2026-13-01T00:00:00Z", "2026-11-22T24:00:00Z",
		"2026-11-22T10:60:00Z", "2026-11-22T10:00:00+2:00",
		"2026-11-22T10:00:00.Z", "2026-11-22T10:00:00Zjunk", "1e9",
		"12:00",
	};

	for (size_t i = 0; i < MC_ARRAY_LEN(bad); i++) {
		double got = 42;
		struct mc_err err = { 0 };

		cr_expect_eq(mc_parse_time(bad[i], &got, &err), -1, "'%s'",
			     bad[i]);
		cr_expect_eq(err.code, MC_EXIT_USAGE);
		cr_expect(strstr(err.msg, "RFC 3339") != NULL, "%s", err.msg);
		cr_expect_eq(got, 42, "'%s' wrote the result", bad[i]);
	}
	cr_expect_eq(mc_parse_time(NULL, NULL, NULL), -1);
}

Test(util, utf8_len_valid_clean)
{
	char *c;

	cr_assert_eq(mc_utf8_len((const unsigned char *)"a", 1), 1);
	cr_assert_eq(mc_utf8_len((const unsigned char *)"\xc3\xa9", 2), 2);
	cr_assert_eq(mc_utf8_len((const unsigned char *)"\xc3\xa9", 1), 0);
	cr_assert_eq(mc_utf8_len((const unsigned char *)"\xc0\xaf", 2), 0);
	cr_assert_eq(mc_utf8_len((const unsigned char *)"\xed\xa0\x80", 3), 0);
	cr_assert_eq(mc_utf8_len((const unsigned char *)"\xf4\x90\x80\x80", 4),
		     0);
	cr_assert_eq(mc_utf8_len((const unsigned char *)"\xf0\x9f\x98\x80", 4),
		     4);
	cr_assert(mc_utf8_valid("héllo", strlen("héllo")));
	cr_assert(!mc_utf8_valid("a\0b", 3));
	cr_assert(!mc_utf8_valid("a\xff", 2));
	c = mc_utf8_clean("ok \xff\xc3 é \xe2\x82");
	cr_assert_str_eq(c, "ok \\xFF\\xC3 é \\xE2\\x82");
	free(c);
	/* NUL bytes too; control characters are kept (JSON escapes them) */
	c = mc_utf8_clean_n("a\0b\x1b\x80", 5);
	cr_assert_str_eq(c, "a\\x00b\x1b\\x80");
	free(c);
}

Test(util, utf8_uncut_drops_only_a_cut_sequence)
{
	struct { const char *in, *out; } t[] = {
		{ "caf\xc3", "caf" },			/* é cut after 1 of 2 */
		{ "caf\xc3\xa9", "caf\xc3\xa9" },	/* whole: kept */
		{ "a\xe2\x82", "a" },			/* € cut after 2 of 3 */
		{ "a\xe2\x82\xac", "a\xe2\x82\xac" },
		{ "a\xf0\x9f\x98", "a" },		/* 😀 cut after 3 of 4 */
		{ "a\xf0\x9f\x98\x80", "a\xf0\x9f\x98\x80" },
		{ "plain", "plain" },
		{ "", "" },
		{ "x\x80", "x\x80" },			/* a stray byte: not ours */
	};
	char buf[32];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(buf, sizeof(buf), "%s", t[i].in);
		mc_utf8_uncut(buf);
		cr_assert_str_eq(buf, t[i].out, "case %zu", i);
	}
}

Test(util, err_set_never_ends_in_half_a_character)
{
	struct mc_err err = { 0 };
	char big[MC_ERR_MSG + 8];

	/* "é" (2 bytes) across the buffer's end, whichever parity */
	for (int pad = 0; pad < 2; pad++) {
		size_t n = 0;

		memset(big, 0, sizeof(big));
		for (int k = 0; k < pad; k++)
			big[n++] = 'x';
		while (n + 2 < sizeof(big) - 1) {
			big[n++] = '\xc3';
			big[n++] = '\xa9';
		}
		mc_err_set(&err, MC_EXIT_UNKNOWN, "%s", big);
		cr_assert(mc_utf8_valid(err.msg, strlen(err.msg)),
			  "pad %d: ends %02x", pad,
			  (unsigned char)err.msg[strlen(err.msg) - 1]);
		cr_assert_geq(strlen(err.msg), MC_ERR_MSG - 3);
	}
}

Test(util, utf8_width)
{
	cr_assert_eq(mc_utf8_width(""), 0);
	cr_assert_eq(mc_utf8_width("abc"), 3);
	cr_assert_eq(mc_utf8_width("caf\xc3\xa9"), 4);		/* café */
	cr_assert_eq(mc_utf8_width("cafe\xcc\x81"), 4);	/* e + U+0301 */
	cr_assert_eq(mc_utf8_width("\xe6\x97\xa5\xe6\x9c\xac"), 4);	/* 日本 */
	cr_assert_eq(mc_utf8_width("\xf0\x9f\x98\x80!"), 3);	/* U+1F600 ! */
	cr_assert_eq(mc_utf8_width("\xe2\x96\x81\xe2\x96\x88"), 2);	/* ▁█ */
	cr_assert_eq(mc_utf8_width("a\xe2\x80\x8b" "b"), 2);	/* ZWSP */
	cr_assert_eq(mc_utf8_width("\xea\xb0\x80"), 2);	/* U+AC00 */
	cr_assert_eq(mc_utf8_width("\xef\xbc\xa1"), 2);	/* U+FF21 */
	cr_assert_eq(mc_utf8_width("a\xff" "b"), 3);		/* a byte: one */
}

Test(util, column_text_escapes_and_cuts)
{
	static const struct {
		const char *in;
		size_t cols;
		const char *want;
	} cases[] = {
		{ "hello", 0, "hello" },
		{ "hello", 5, "hello" },
		{ "hello!", 5, "hell\xe2\x80\xa6" },
		{ "h\xc3\xa9llo", 3, "h\xc3\xa9\xe2\x80\xa6" },
		{ "abc", 1, "\xe2\x80\xa6" },
		/* a control character is shown \xNN and counts four columns */
		{ "a\nb", 0, "a\\x0Ab" },
		{ "a\nb", 6, "a\\x0Ab" },
		{ "a\nbc", 6, "a\\x0A\xe2\x80\xa6" },
		/* never cut inside an escape: the whole \x1B goes */
		{ "ab\x1b[31m", 5, "ab\xe2\x80\xa6" },
		{ "x\xff", 0, "x\\xFF" },
		{ "\xc2\x85", 0, "\\xC2\\x85" },	/* C1 NEL */
		/* wide characters take two columns and are not split */
		{ "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 6,
		  "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e" },
		{ "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 5,
		  "\xe6\x97\xa5\xe6\x9c\xac\xe2\x80\xa6" },
		{ "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 4,
		  "\xe6\x97\xa5\xe2\x80\xa6" },
		/* a combining mark stays with its letter */
		{ "ne\xcc\x81" "e", 3, "ne\xcc\x81" "e" },
		{ "", 3, "" },
	};

	for (size_t i = 0; i < MC_ARRAY_LEN(cases); i++) {
		char *got = mc_column_text(cases[i].in, cases[i].cols);
		char *again = mc_column_text(got, 0);

		cr_expect_str_eq(got, cases[i].want, "case %zu", i);
		if (cases[i].cols)
			cr_expect_leq(mc_utf8_width(got), cases[i].cols,
				      "case %zu", i);
		/* what it returns goes through a table unchanged */
		cr_expect_str_eq(again, got, "case %zu", i);
		free(again);
		free(got);
	}
}

Test(util, hostname_is_terminated_and_never_empty)
{
	char host[256], small[4], want[256] = "";

	mc_hostname(host, sizeof(host));
	cr_assert_gt(strlen(host), 0);
	if (gethostname(want, sizeof(want) - 1) == 0 && want[0])
		cr_assert_str_eq(host, want);
	memset(small, 'x', sizeof(small));
	mc_hostname(small, sizeof(small));
	cr_assert_leq(strlen(small), sizeof(small) - 1);
}

/* One rule for every printed number: the fewest digits that read back. */
Test(util, format_number_is_shortest_and_reads_back)
{
	static const struct {
		double v;
		const char *out;
	} cases[] = {
		{ 0.013, "0.013" }, { 0.1, "0.1" }, { 1.0 / 3, "0.3333333333333333" },
		{ 2, "2" }, { -0.5, "-0.5" }, { 1e20, "1e+20" },
		{ 5e-324, "5e-324" }, { 8.80604, "8.80604" }, { 100, "100" },
		{ 1700000000, "1700000000" }, { 1.5e16, "15000000000000000" },
		{ 1e17, "1e+17" }, { 120.5, "120.5" }, { 99999.5, "99999.5" },
	};

	for (size_t i = 0; i < MC_ARRAY_LEN(cases); i++) {
		char buf[40];

		mc_format_number(cases[i].v, buf, sizeof(buf));
		cr_assert_str_eq(buf, cases[i].out, "%.17g", cases[i].v);
		cr_assert(strtod(buf, NULL) == cases[i].v, "%s", buf);
	}
}

/* The least precision that reads back, found by bisection, is the one
 * counting up from 1 finds: for every power of two (whose interval of
 * values reading back is narrower below it) and for a spread of others. */
static int digits_counted(double d)
{
	char s[40];
	int p;

	for (p = 1; p < 17; p++) {
		snprintf(s, sizeof(s), "%.*g", p, d);
		if (strtod(s, NULL) == d)
			break;
	}
	return p;
}

Test(util, shortest_digits_match_counting_up)
{
	uint64_t x = 88172645463325252u;

	for (int e = -1074; e < 1024; e++) {
		double d = ldexp(1.0, e);

		cr_assert_eq(mc_shortest_digits(d), digits_counted(d), "2^%d", e);
	}
	for (int i = 0; i < 20000; i++) {
		double d;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;	/* xorshift64 */
		memcpy(&d, &x, sizeof(d));
		if (i % 2)
			d = (double)(x % 10000000) / 1000.0;
		if (!isfinite(d))
			continue;
		cr_assert_eq(mc_shortest_digits(d), digits_counted(d), "%.17g",
			     d);
	}
}

/* A relative argument made absolute: existing paths by their real path,
 * new ones through their parent or, when parents are yet to be made,
 * from the current directory without "." components. */
Test(util, path_absolute)
{
	char tmpl[] = "/tmp/mc-abs.XXXXXX", *dir = mkdtemp(tmpl), *real, *cwd;
	char want[PATH_MAX + 64];
	static const struct {
		const char *in, *out;		/* out under the real dir */
	} cases[] = {
		{ "a", "/a" }, { "./a/", "/a" }, { "a/../a", "/a" },
		{ "new", "/new" }, { "./x/./y//z/", "/x/y/z" }, { ".", "" },
		{ "a/..", "" },
	};

	cr_assert_not_null(dir);
	real = realpath(dir, NULL);
	snprintf(want, sizeof(want), "%s/a", real);
	cr_assert_eq(mkdir(want, 0700), 0);
	cwd = getcwd(NULL, 0);
	cr_assert_eq(chdir(dir), 0);
	for (size_t i = 0; i < MC_ARRAY_LEN(cases); i++) {
		char *p = mc_path_absolute(cases[i].in);

		snprintf(want, sizeof(want), "%s%s", real, cases[i].out);
		cr_assert_not_null(p, "%s", cases[i].in);
		cr_assert_str_eq(p, want, "%s", cases[i].in);
		free(p);
	}
	cr_assert_null(mc_path_absolute("new/.."));
	cr_assert_eq(chdir(cwd), 0);
	snprintf(want, sizeof(want), "%s/a", real);
	rmdir(want);
	rmdir(real);
	free(cwd);
	free(real);
}
