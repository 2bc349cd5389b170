/* test_json_scan.c - the byte-preserving JSON scanner (lib/json_scan.c). */
#include <criterion/criterion.h>

#include <string.h>

#include "json_scan.h"

static int scan(const char *text, struct mc_json_member *w, size_t nw,
		size_t *open, size_t *members)
{
	return mc_json_scan_object(text, strlen(text), w, nw, open, members);
}

/* The bytes of member k's value. */
static void value_is(const char *text, const struct mc_json_member *m,
		     const char *want, char kind)
{
	cr_assert(m->found, "%s not found", m->name);
	cr_assert_eq(m->vend - m->vstart, strlen(want), "%s: %.*s", m->name,
		     (int)(m->vend - m->vstart), text + m->vstart);
	cr_assert_eq(memcmp(text + m->vstart, want, strlen(want)), 0);
	cr_assert_eq(m->kind, kind, "%s: kind %c", m->name, m->kind);
}

Test(json_scan, members_and_their_bytes)
{
	const char *t = "  {\"n\": -1.5e3 , \"s\":\"a\\\"b\",\"o\":{\"n\":2},"
			"\"l\":[1,{}],\"t\":true,\"z\":null}\n";
	struct mc_json_member w[] = { { .name = "n" }, { .name = "s" },
				      { .name = "o" }, { .name = "l" },
				      { .name = "t" }, { .name = "z" },
				      { .name = "missing" } };
	size_t open = 99, members = 0;

	cr_assert_eq(scan(t, w, 7, &open, &members), 0);
	cr_assert_eq(open, 2);
	cr_assert_eq(members, 6);
	value_is(t, &w[0], "-1.5e3", '0');
	value_is(t, &w[1], "\"a\\\"b\"", '"');
	value_is(t, &w[2], "{\"n\":2}", '{');	/* nested "n" not taken */
	value_is(t, &w[3], "[1,{}]", '[');
	value_is(t, &w[4], "true", 't');
	value_is(t, &w[5], "null", 'n');
	cr_assert_not(w[6].found);
}

Test(json_scan, the_last_duplicate_is_the_member)
{
	const char *t = "{\"a\":1,\"\\u0061\":2}";
	struct mc_json_member w[] = { { .name = "a" } };
	size_t open, members;

	cr_assert_eq(scan(t, w, 1, &open, &members), 0);
	cr_assert_eq(members, 2);
	value_is(t, &w[0], "2", '0');
}

Test(json_scan, refuses_what_is_not_one_object)
{
	static const char *const bad[] = {
		"", "[]", "1", "\"s\"", "{", "{}x", "{} {}", "{\"a\"}",
		"{\"a\":}", "{\"a\":1,}", "{'a':1}", "{\"a\":01}",
		"{\"a\":\"\\ud800\"}", "{\"a\":\"\x01\"}", "{\"a\":\"\xff\"}",
		"{\"a\":tru}", "{\"a\":[1,]}",
	};
	struct mc_json_member w[] = { { .name = "a" } };
	size_t open, members;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(scan(bad[i], w, 1, &open, &members), -1,
			     "accepted: %s", bad[i]);
	cr_assert_eq(scan("{}", w, 1, &open, &members), 0);
	cr_assert_eq(members, 0);
	cr_assert_not(w[0].found);
}

Test(json_scan, nesting_is_bounded)
{
	size_t depth = MC_JSON_MAX_DEPTH + 1, open, members;
	char *t = mc_malloc(2 * depth + 8), *p = t;

	*p++ = '{';
	memcpy(p, "\"a\":", 4);
	p += 4;
	for (size_t i = 1; i < depth; i++)
		*p++ = '[';
	for (size_t i = 1; i < depth; i++)
		*p++ = ']';
	*p++ = '}';
	*p = '\0';
	cr_assert_eq(scan(t, NULL, 0, &open, &members), -1);
	/* One level less is fine. */
	memmove(t + 5, t + 6, strlen(t + 6) + 1);
	memmove(t + strlen(t) - 2, t + strlen(t) - 1, 2);
	cr_assert_eq(scan(t, NULL, 0, &open, &members), 0);
	free(t);
}

Test(json_scan, string_decode)
{
	struct mc_buf b = { 0 };
	const char *s = "\"x\\u00e9\\ud83d\\ude00\\n\\/\" trailing";

	cr_assert_eq(mc_json_string_decode(s, strlen(s), &b), 0);
	cr_assert_eq(b.len, strlen("x\xc3\xa9\xf0\x9f\x98\x80\n/"));
	cr_assert_eq(memcmp(b.data, "x\xc3\xa9\xf0\x9f\x98\x80\n/", b.len), 0);
	mc_buf_release(&b);
	cr_assert_eq(mc_json_string_decode("\"open", 5, &b), -1);
	cr_assert_eq(mc_json_string_decode("x\"", 2, &b), -1);
	cr_assert_eq(mc_json_string_decode("", 0, &b), -1);
	mc_buf_release(&b);
}
