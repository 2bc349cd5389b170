/* test_json.c - lib/json.c: the JSON writer's shortest reals, escaping and
 * order. */
#include <criterion/criterion.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "mc.h"

/* Significant digits of a number's text ("0.00120e+5": 3). */
static size_t sigdigits(const char *s)
{
	size_t n = 0, zeros = 0;
	int started = 0;

	for (; *s && *s != 'e' && *s != 'E'; s++) {
		if (*s < '0' || *s > '9')
			continue;
		if (*s == '0' && !started)
			continue;
		started = 1;
		if (*s == '0') {
			zeros++;
		} else {
			n += zeros + 1;
			zeros = 0;
		}
	}
	return n;
}

Test(json, reals_are_the_shortest_text_that_reads_back)
{
	static const struct { double d; const char *want; } cases[] = {
		{ 0.1, "0.1" }, { 8.80604, "8.80604" }, { 2, "2.0" },
		{ -0.5, "-0.5" }, { 1e-7, "1e-07" }, { 1.5e300, "1.5e+300" },
		{ 212.4, "212.4" }, { 99.87, "99.87" }, { 0, "0.0" },
		{ 1.0 / 3, "0.3333333333333333" },
		/* the issue's: jansson wrote 8.8060400000244954 */
		{ 8.8060400000244954, "8.806040000024495" },
		/* positional from 1e-4 to below 1e16, as Python's repr */
		{ 20, "20.0" }, { 100000, "100000.0" }, { 1e15, "1000000000000000.0" },
		{ 1e16, "1e+16" }, { 0.0001, "0.0001" }, { 0.00001, "1e-05" },
		{ 1234.5, "1234.5" }, { -0.000123, "-0.000123" },
	};
	char buf[40];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mc_json_real(cases[i].d, buf, sizeof(buf));
		cr_expect_str_eq(buf, cases[i].want, "%.17g", cases[i].d);
		cr_expect_eq(strtod(buf, NULL), cases[i].d, "%s", buf);
	}
	/* many doubles over many magnitudes: each reads back exactly, and
	 * none needs more digits than %.17g */
	srand(7);
	for (int i = 0; i < 100000; i++) {
		double d = ((double)rand() / RAND_MAX - 0.5) *
			   pow(10, (i % 60) - 30);
		char ref[40];

		mc_json_real(d, buf, sizeof(buf));
		snprintf(ref, sizeof(ref), "%.17g", d);
		cr_assert_eq(strtod(buf, NULL), d, "%s", buf);
		cr_assert_leq(sigdigits(buf), sigdigits(ref), "%s vs %s", buf,
			      ref);
	}
}

Test(json, documents_read_back_equal_in_order)
{
	json_t *o = json_pack("{s:s, s:I, s:f, s:b, s:n, s:[i, s], s:{}}",
			      "z", "a \"q\" \\ \n\t\x01 é 😀", "big",
			      (json_int_t)9007199254740993LL, "r", 12.5,
			      "t", 1, "nil", "arr", 1, "x", "empty");
	json_t *back;
	char *s = mc_json_dumps(o, 0), *a;

	cr_assert_str_eq(s, "{\"z\":\"a \\\"q\\\" \\\\ \\n\\t\\u0001 é 😀\","
			 "\"big\":9007199254740993,\"r\":12.5,\"t\":true,"
			 "\"nil\":null,\"arr\":[1,\"x\"],\"empty\":{}}");
	back = json_loads(s, 0, NULL);
	cr_assert(json_equal(o, back));
	json_decref(back);
	a = mc_json_dumps(o, MC_JSON_ASCII);
	cr_assert(strstr(a, "\\u00e9 \\ud83d\\ude00") != NULL, "%s", a);
	back = json_loads(a, 0, NULL);
	cr_assert(json_equal(o, back));
	json_decref(back);
	free(a);
	free(s);
	json_decref(o);
	s = mc_json_dumps(NULL, 0);
	cr_assert_str_eq(s, "null");
	free(s);
}

Test(json, numbers_by_the_grammar)
{
	static const char *const yes[] = { "0", "-1", "12.5", "1e9", "-0.5E-3",
					   "74" };
	static const char *const no[] = { "", "-", "01", "1.", ".5", "1e",
					  "0x1", "nan", "12 ", "+1", "1.5.2" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		cr_expect(mc_json_is_number(yes[i]), "%s", yes[i]);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		cr_expect(!mc_json_is_number(no[i]), "%s", no[i]);
}

/* JSON keeps text that is not UTF-8, its bad bytes as \xNN, instead of
 * the NULL json_string() gives (a member silently lost). */
Test(json, text_keeps_bad_utf8)
{
	json_t *o = json_object();
	char *s;

	json_object_set_new(o, "ok", mc_json_str("caf\xc3\xa9 \x1b"));
	json_object_set_new(o, "bad", mc_json_text("a\xff\0b", 4));
	json_object_set_new(o, "none", mc_json_str(NULL));
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	cr_assert_str_eq(s, "{\"bad\":\"a\\\\xFF\\\\x00b\",\"none\":null,"
			 "\"ok\":\"caf\xc3\xa9 \\u001B\"}");
	free(s);
	json_decref(o);
}

/* Well-formed UTF-8 is kept byte for byte (JSON escapes control
 * characters itself); a NUL, which a C string cannot carry, is \x00. */
Test(json, text_keeps_utf8_and_writes_nul_as_x00)
{
	json_t *j = mc_json_text("\x01\xc3\xa9\x7f", 4);

	cr_assert_not_null(j);
	cr_assert_eq(json_string_length(j), 4);
	cr_assert_eq(memcmp(json_string_value(j), "\x01\xc3\xa9\x7f", 4), 0);
	json_decref(j);
	j = mc_json_text("a\0\xc3\xa9", 4);
	cr_assert_str_eq(json_string_value(j), "a\\x00\xc3\xa9");
	json_decref(j);
	j = mc_json_text("", 0);
	cr_assert_str_eq(json_string_value(j), "");
	json_decref(j);
	j = mc_json_text("\xe2\x80", 2);	/* a character cut short */
	cr_assert_str_eq(json_string_value(j), "\\xE2\\x80");
	json_decref(j);
}

/* A key that is not UTF-8 keeps its member: jansson refuses it (and
 * drops the value), so mc_json_set writes it with \xNN. */
Test(json, set_keeps_a_key_that_is_not_utf8)
{
	json_t *o = json_object();
	char *s;

	cr_assert_eq(json_object_set_new(o, "x\xe9", json_true()), -1);
	cr_assert_eq(json_object_size(o), 0);
	cr_assert_eq(mc_json_set(o, "caf\xe9", mc_json_str("v\xff")), 0);
	cr_assert_eq(mc_json_set(o, "caf\xc3\xa9", json_integer(1)), 0);
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	cr_assert_str_eq(s, "{\"caf\\\\xE9\":\"v\\\\xFF\",\"caf\xc3\xa9\":1}");
	free(s);
	json_decref(o);
}
