/* test_log.c - stderr diagnostics and redaction (lib/log.c). */
#include <criterion/criterion.h>

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mc.h"

/* ---- helpers ------------------------------------------------------------ */

/* Every test runs in its own process, but leave the module clean anyway so
 * that valgrind sees no leak. */
static void log_fini(void)
{
	mc_log_shutdown();
}

static void log_init(void)
{
	mc_log_setup(MC_LOG_WARN, 0, NULL, NULL);
}

TestSuite(log, .init = log_init, .fini = log_fini);

/* stderr goes to a temporary file between capture_begin and capture_end. */
struct log_capture {
	int saved;
	int fd;
	char path[64];
};

static void capture_begin(struct log_capture *c)
{
	strcpy(c->path, "/tmp/mc-log-test-XXXXXX");
	c->fd = mkstemp(c->path);
	cr_assert(c->fd >= 0, "mkstemp: %s", strerror(errno));
	fflush(stderr);
	c->saved = dup(2);
	cr_assert(c->saved >= 0);
	cr_assert(dup2(c->fd, 2) == 2);
}

/* Returns what was written (caller frees). */
static char *capture_end(struct log_capture *c)
{
	char *s;

	fflush(stderr);
	cr_assert(dup2(c->saved, 2) == 2);
	close(c->saved);
	close(c->fd);
	s = mc_read_file(c->path, 1 << 20, NULL, NULL);
	cr_assert_not_null(s);
	unlink(c->path);
	return s;
}

static void expect_redact(const char *in, const char *want)
{
	char *got = mc_redact(in);

	cr_assert_not_null(got);
	cr_assert_str_eq(got, want, "mc_redact(\"%s\")", in);
	free(got);
}

static void expect_redact_url(const char *in, int hide, const char *want)
{
	char *got = mc_redact_url(in, hide);

	cr_assert_not_null(got);
	cr_assert_str_eq(got, want, "mc_redact_url(\"%s\", %d)", in, hide);
	free(got);
}

/* Lines in s, each ending in a newline (the last one must). */
static int count_lines(const char *s)
{
	int n = 0;

	for (const char *p = s; *p; p++)
		if (*p == '\n')
			n++;
	cr_assert(*s == '\0' || s[strlen(s) - 1] == '\n',
		  "no newline at the end: %s", s);
	return n;
}

/* Parses one JSON log line and checks the fields every line has. */
static json_t *parse_line(const char *line, size_t len, const char *level)
{
	json_error_t je;
	json_t *o = json_loadb(line, len, 0, &je);
	const char *ts;

	cr_assert_not_null(o, "not JSON (%s): %.*s", je.text, (int)len, line);
	cr_assert(json_is_object(o));
	ts = json_string_value(json_object_get(o, "ts"));
	cr_assert_not_null(ts, "no ts");
	cr_assert_eq(strlen(ts), 24, "ts '%s'", ts);
	cr_assert(ts[4] == '-' && ts[7] == '-' && ts[10] == 'T' &&
		  ts[13] == ':' && ts[16] == ':' && ts[19] == '.' &&
		  ts[23] == 'Z', "ts '%s'", ts);
	cr_assert_str_eq(json_string_value(json_object_get(o, "level")), level);
	cr_assert_not_null(json_string_value(json_object_get(o, "msg")));
	return o;
}

/* ---- levels ------------------------------------------------------------- */

Test(log, level_parse)
{
	cr_assert_eq(mc_log_level_parse("error"), MC_LOG_ERROR);
	cr_assert_eq(mc_log_level_parse("warn"), MC_LOG_WARN);
	cr_assert_eq(mc_log_level_parse("warning"), MC_LOG_WARN);
	cr_assert_eq(mc_log_level_parse("info"), MC_LOG_INFO);
	cr_assert_eq(mc_log_level_parse("debug"), MC_LOG_DEBUG);
	cr_assert_eq(mc_log_level_parse("DEBUG"), MC_LOG_DEBUG);
	cr_assert_eq(mc_log_level_parse("Warn"), MC_LOG_WARN);
	cr_assert_eq(mc_log_level_parse("trace"), -1);
	cr_assert_eq(mc_log_level_parse(""), -1);
	cr_assert_eq(mc_log_level_parse("errors"), -1);
	cr_assert_eq(mc_log_level_parse(NULL), -1);
}

/* ---- mc_redact ---------------------------------------------------------- */

Test(log, redact_registered_secrets)
{
	mc_redact_add("hunter2secret");
	mc_redact_add("s3cr");		/* exactly 4 bytes: kept */
	expect_redact("pw is hunter2secret, again hunter2secret!",
		      "pw is ***, again ***!");
	expect_redact("hunter2secret", "***");
	expect_redact("xs3cry", "x***y");
	expect_redact("nothing secret here", "nothing secret here");
	expect_redact("", "");
	cr_assert_null(mc_redact(NULL));
}

Test(log, redact_ignores_short_secrets)
{
	mc_redact_add("abc");
	mc_redact_add("");
	mc_redact_add(NULL);
	expect_redact("abc abcabc cab", "abc abcabc cab");
}

Test(log, redact_secret_registered_twice_and_overlapping)
{
	mc_redact_add("topsecret");
	mc_redact_add("topsecret");
	mc_redact_add("secretvalue");
	expect_redact("a topsecret b secretvalue c", "a *** b *** c");
}

Test(log, redact_shutdown_forgets_secrets)
{
	mc_redact_add("forgetme");
	expect_redact("forgetme", "***");
	mc_log_shutdown();
	expect_redact("forgetme", "forgetme");
}

Test(log, redact_url_userinfo)
{
	expect_redact("connect to https://alice:s3cret@db.example.com:5432/x failed",
		      "connect to https://alice:***@db.example.com:5432/x failed");
	expect_redact("redis://:pa55word@localhost:6379/0",
		      "redis://:***@localhost:6379/0");
	expect_redact("https://tok123@api.example.com/",
		      "https://***@api.example.com/");
	expect_redact("a http://u:p1@h1/ and http://v:p2@h2:80 end",
		      "a http://u:***@h1/ and http://v:***@h2:80 end");
	/* '@' in the path is not userinfo. */
	expect_redact("https://example.com/users/@bob",
		      "https://example.com/users/@bob");
	expect_redact("https://example.com", "https://example.com");
	expect_redact("mailto bob@example.com", "mailto bob@example.com");
}

Test(log, redact_query_parameters)
{
	expect_redact("GET https://api.example.com/v1?token=abc123&x=1",
		      "GET https://api.example.com/v1?token=***&x=1");
	expect_redact("https://h/cb?a=1&access_token=zzz9",
		      "https://h/cb?a=1&access_token=***");
	expect_redact("password=hunter2 user=bob", "password=*** user=bob");
	expect_redact("PASSWORD=hunter2", "PASSWORD=***");
	expect_redact("refresh_token=r1;client_secret=c2",
		      "refresh_token=***;client_secret=***");
	expect_redact("api_key=k&apikey=k2&secret=s&sig=x",
		      "api_key=***&apikey=***&secret=***&sig=***");
	expect_redact("user=bob&page=2", "user=bob&page=2");
	/* An empty value stays empty. */
	expect_redact("token=&x=1", "token=&x=1");
	/* Both kinds in one URL. */
	expect_redact("https://u:pw@h/p?token=t0k&q=1",
		      "https://u:***@h/p?token=***&q=1");
}

/* ---- mc_redact_url ------------------------------------------------------ */

Test(log, redact_url_hide_path)
{
	expect_redact_url("https://hooks.slack.com/services/T000/B000/XXXX", 1,
			  "https://hooks.slack.com/***");
	expect_redact_url("https://u:p@host:8443/path?q=1", 1,
			  "https://u:***@host:8443/***");
	expect_redact_url("https://tok3n@host/x", 1, "https://***@host/***");
	expect_redact_url("https://host?x=1", 1, "https://host/***");
	expect_redact_url("https://host", 1, "https://host");
	expect_redact_url("not a url", 1, "***");
	cr_assert_null(mc_redact_url(NULL, 1));
}

Test(log, redact_url_keep_path)
{
	expect_redact_url("https://hooks.slack.com/services/T000/B000/XXXX", 0,
			  "https://hooks.slack.com/services/T000/B000/XXXX");
	/* The user name stays, the password is masked (log.h). */
	expect_redact_url("https://u:p@host/path?token=abc&x=2", 0,
			  "https://u:***@host/path?token=***&x=2");
	expect_redact_url("http://t0ken@host:80/", 0, "http://***@host:80/");
	expect_redact_url("https://host", 0, "https://host");
	mc_redact_add("XXXXsecret");
	expect_redact_url("https://host/a/XXXXsecret", 0, "https://host/a/***");
	expect_redact_url("plain password=pw1", 0, "plain password=***");
}

/* ---- mc_log: text ------------------------------------------------------- */

Test(log, text_format_and_redaction)
{
	struct log_capture c;
	char *out;

	mc_log_setup(MC_LOG_INFO, 0, "health", "cid-1");
	mc_redact_add("verysecret");
	capture_begin(&c);
	mc_log(MC_LOG_WARN, "retry %d of %s", 2, "https://u:pw@h/x");
	mc_log(MC_LOG_ERROR, "boom: %s", "verysecret");
	mc_log(MC_LOG_INFO, "token=%s", "abcd");
	out = capture_end(&c);
	cr_assert_str_eq(out,
			 "mercuryctl: warn: retry 2 of https://u:***@h/x\n"
			 "mercuryctl: boom: ***\n"
			 "mercuryctl: info: token=***\n");
	free(out);
}

Test(log, text_level_filtering)
{
	struct log_capture c;
	char *out;

	mc_log_setup(MC_LOG_WARN, 0, NULL, NULL);
	capture_begin(&c);
	mc_log(MC_LOG_DEBUG, "debug line");
	mc_log(MC_LOG_INFO, "info line");
	mc_log(MC_LOG_WARN, "warn line");
	mc_log(MC_LOG_ERROR, "error line");
	mc_logkv(MC_LOG_DEBUG, "debug kv", "k", "v", (char *)NULL);
	out = capture_end(&c);
	cr_assert_str_eq(out, "mercuryctl: warn: warn line\n"
			 "mercuryctl: error line\n");
	free(out);

	mc_log_setup(MC_LOG_ERROR, 0, NULL, NULL);
	capture_begin(&c);
	mc_log(MC_LOG_WARN, "warn line");
	mc_log(MC_LOG_ERROR, "error line");
	out = capture_end(&c);
	cr_assert_str_eq(out, "mercuryctl: error line\n");
	free(out);

	mc_log_setup(MC_LOG_DEBUG, 0, NULL, NULL);
	capture_begin(&c);
	mc_log(MC_LOG_DEBUG, "d");
	mc_log(MC_LOG_INFO, "i");
	out = capture_end(&c);
	cr_assert_str_eq(out, "mercuryctl: debug: d\nmercuryctl: info: i\n");
	free(out);
}

Test(log, text_logkv_fields_redacted)
{
	struct log_capture c;
	char *out;

	mc_log_setup(MC_LOG_INFO, 0, "breaker reset", NULL);
	mc_redact_add("p4ssw0rd");
	capture_begin(&c);
	mc_logkv(MC_LOG_WARN, "retrying", "url", "https://u:pw@h/?token=t1",
		 "attempt", "2", "why", "auth p4ssw0rd refused", "none",
		 (char *)NULL, (char *)NULL);
	out = capture_end(&c);
	cr_assert_str_eq(out, "mercuryctl: warn: retrying "
			 "url=https://u:***@h/?token=*** attempt=2 "
			 "why=auth *** refused none=\n");
	free(out);
}

/* ---- mc_log: JSON ------------------------------------------------------- */

Test(log, json_lines)
{
	struct log_capture c;
	char *out, *nl, *line;
	json_t *o;

	mc_log_setup(MC_LOG_DEBUG, 1, "breaker reset", "0af7651916cd43dd");
	mc_redact_add("jsonsecret");
	capture_begin(&c);
	mc_log(MC_LOG_INFO, "using https://u:pw@host/x");
	mc_log(MC_LOG_ERROR, "quote \" backslash \\ newline\nsecret jsonsecret");
	mc_log(MC_LOG_DEBUG, "caf\xc3\xa9");
	out = capture_end(&c);

	cr_assert_eq(count_lines(out), 3, "want 3 lines: %s", out);

	line = out;
	nl = strchr(line, '\n');
	o = parse_line(line, (size_t)(nl - line), "info");
	cr_assert_str_eq(json_string_value(json_object_get(o, "msg")),
			 "using https://u:***@host/x");
	cr_assert_str_eq(json_string_value(json_object_get(o, "command")),
			 "breaker reset");
	cr_assert_str_eq(json_string_value(json_object_get(o, "correlation_id")),
			 "0af7651916cd43dd");
	json_decref(o);

	line = nl + 1;
	nl = strchr(line, '\n');
	o = parse_line(line, (size_t)(nl - line), "error");
	/* Control characters are escaped in logs, JSON lines included
	 * (mercuryctl(1): untrusted text). */
	cr_assert_str_eq(json_string_value(json_object_get(o, "msg")),
			 "quote \" backslash \\ newline\\x0Asecret ***");
	json_decref(o);

	line = nl + 1;
	nl = strchr(line, '\n');
	o = parse_line(line, (size_t)(nl - line), "debug");
	cr_assert_str_eq(json_string_value(json_object_get(o, "msg")),
			 "caf\xc3\xa9");
	json_decref(o);
	cr_assert_null(strstr(out, "jsonsecret"));
	cr_assert_null(strstr(out, "pw@"));
	free(out);
}

Test(log, json_level_filtering)
{
	struct log_capture c;
	char *out;
	json_t *o;

	mc_log_setup(MC_LOG_WARN, 1, "health", "cid");
	capture_begin(&c);
	mc_log(MC_LOG_DEBUG, "not shown");
	mc_log(MC_LOG_INFO, "not shown either");
	mc_logkv(MC_LOG_INFO, "nor this", "k", "v", (char *)NULL);
	mc_log(MC_LOG_WARN, "shown");
	out = capture_end(&c);
	cr_assert_null(strstr(out, "not shown"));
	cr_assert_null(strstr(out, "nor this"));
	cr_assert_eq(count_lines(out), 1, "want one line: %s", out);
	o = parse_line(out, strlen(out) - 1, "warn");
	cr_assert_str_eq(json_string_value(json_object_get(o, "msg")), "shown");
	json_decref(o);
	free(out);
}

Test(log, json_logkv_fields)
{
	struct log_capture c;
	char *out;
	json_t *o;

	mc_log_setup(MC_LOG_INFO, 1, "health", "cid-9");
	mc_redact_add("kvsecret");
	capture_begin(&c);
	mc_logkv(MC_LOG_INFO, "check done", "check", "api", "url",
		 "https://bob:pw@api.internal/health?access_token=a1",
		 "detail", "got kvsecret back", (char *)NULL);
	out = capture_end(&c);
	o = parse_line(out, strlen(out) - 1, "info");
	cr_assert_str_eq(json_string_value(json_object_get(o, "msg")),
			 "check done");
	cr_assert_str_eq(json_string_value(json_object_get(o, "command")),
			 "health");
	cr_assert_str_eq(json_string_value(json_object_get(o, "correlation_id")),
			 "cid-9");
	cr_assert_str_eq(json_string_value(json_object_get(o, "check")), "api");
	cr_assert_str_eq(json_string_value(json_object_get(o, "url")),
			 "https://bob:***@api.internal/health?access_token=***");
	cr_assert_str_eq(json_string_value(json_object_get(o, "detail")),
			 "got *** back");
	json_decref(o);
	free(out);
}

Test(log, json_without_command_or_id)
{
	struct log_capture c;
	char *out;
	json_t *o;

	mc_log_setup(MC_LOG_WARN, 1, NULL, NULL);
	capture_begin(&c);
	mc_log(MC_LOG_WARN, "bare");
	out = capture_end(&c);
	o = parse_line(out, strlen(out) - 1, "warn");
	cr_assert_null(json_object_get(o, "command"));
	cr_assert_null(json_object_get(o, "correlation_id"));
	json_decref(o);
	free(out);
}

Test(log, setup_twice_replaces_command)
{
	struct log_capture c;
	char *out;
	json_t *o;

	mc_log_setup(MC_LOG_WARN, 1, "first", "id1");
	mc_log_setup(MC_LOG_WARN, 1, "second", "id2");
	capture_begin(&c);
	mc_log(MC_LOG_WARN, "x");
	out = capture_end(&c);
	o = parse_line(out, strlen(out) - 1, "warn");
	cr_assert_str_eq(json_string_value(json_object_get(o, "command")),
			 "second");
	cr_assert_str_eq(json_string_value(json_object_get(o, "correlation_id")),
			 "id2");
	json_decref(o);
	free(out);
}

/* One escaping for terminals, logs, Nagios lines and the state file. */
#define L(s) s, sizeof(s) - 1
Test(log, escape_controls_and_bad_utf8)
{
	static const struct {
		const char *in;
		size_t n;
		const char *out;
	} cases[] = {
		{ L("plain caf\xc3\xa9 \\ ok"), "plain caf\xc3\xa9 \\ ok" },
		{ L("\x1b]0;title\x07\x1b[2J"),
		  "\\x1B]0;title\\x07\\x1B[2J" },
		{ L("a\nb\tc\rd"), "a\\x0Ab\\x09c\\x0Dd" },
		{ L("bad \xff\xfe end"), "bad \\xFF\\xFE end" },
		{ L("c1 \xc2\x9b" "31m"), "c1 \\xC2\\x9B31m" },
		{ L("nul\0x"), "nul\\x00x" },
		{ L("del\x7f"), "del\\x7F" },
		{ L("cut \xe2\x82"), "cut \\xE2\\x82" },
	};

	for (size_t i = 0; i < MC_ARRAY_LEN(cases); i++) {
		char *e = mc_escape(cases[i].in, cases[i].n);

		cr_expect_str_eq(e, cases[i].out, "case %zu", i);
		cr_expect(mc_utf8_valid(e, strlen(e)), "case %zu", i);
		free(e);
	}
}
#undef L

/* mc_redact() output is safe wherever it goes: masked, then escaped. */
Test(log, redact_escapes_and_masks_query_keys)
{
	char *r;

	mc_redact_add("hunter2secret");
	r = mc_redact("ERR \x1b[31mhunter2secret\x1b[0m http://h/x?key=abcd&a=1");
	cr_assert_str_eq(r, "ERR \\x1B[31m***\\x1B[0m http://h/x?key=***&a=1");
	free(r);
	mc_log_shutdown();
}
