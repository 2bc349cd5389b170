/* test_config.c - mercury.conf parsing, checking and precedence. */
#include <criterion/criterion.h>

#include "testlib.h"

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "threshold.h"

static const char *const env_vars[] = {
	"MERCURY_CONFIG", "MERCURY_STATE", "MERCURY_PROMETHEUS_URL",
	"PROMETHEUS_URL", "MERCURY_REDIS_URL", "REDIS_URL",
	"MERCURY_LOG_FORMAT", "MERCURY_LOG_LEVEL", "XDG_CONFIG_HOME",
};

/* The runner's environment must not leak into expectations. */
static void clean_env(void)
{
	for (size_t i = 0; i < MC_ARRAY_LEN(env_vars); i++)
		unsetenv(env_vars[i]);
}

TestSuite(config, .init = clean_env);

static struct mc_conf *load_ok(const char *text)
{
	struct mc_err err;
	struct mc_conf *c;

	mc_err_clear(&err);
	c = mc_conf_load_string(text, "mercury.conf", NULL, 0, &err);
	cr_assert_not_null(c, "load failed: %s", err.msg);
	return c;
}

static void expect_err(const char *text, int code, const char *msg)
{
	struct mc_err err;
	struct mc_conf *c;

	mc_err_clear(&err);
	c = mc_conf_load_string(text, "mercury.conf", NULL, 0, &err);
	cr_assert_null(c, "loaded, expected: %s", msg);
	cr_assert_eq(err.code, code, "code %d for: %s", err.code, err.msg);
	cr_assert_str_eq(err.msg, msg);
}

static const char *src(const struct mc_conf_section *s, const char *key)
{
	const struct mc_conf_value *v = mc_conf_get(s, key);

	return v != NULL ? v->source : NULL;
}

/* Temporary directories and files. */



/* Writes text to dir/rel, making the directories between; caller frees
 * the path. */
static char *put_file(const char *dir, const char *rel, const char *text)
{
	char *path = mc_asprintf("%s/%s", dir, rel);
	char *slash = strrchr(path, '/');
	FILE *f;

	*slash = '\0';
	cr_assert_eq(mc_mkdir_p(path, 0700, NULL), 0);
	*slash = '/';
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* A schema list of our own, for list keys, strings, sizes, rates, secrets
 * and one key name given two types. */
static const struct mc_conf_key t_core_keys[] = {
	{ .name = "timeout", .type = MC_CT_DURATION, .def = "5s", .help = "t" },
	{ .name = NULL },
};
static const struct mc_conf_key t_item_keys[] = {
	{ .name = "query", .type = MC_CT_STRING, .help = "q" },
	{ .name = "include", .type = MC_CT_PATH, .flags = MC_CK_LIST,
	  .help = "i" },
	{ .name = "max", .type = MC_CT_SIZE, .help = "m" },
	{ .name = "rate", .type = MC_CT_RATE, .help = "r" },
	{ .name = "token", .type = MC_CT_STRING, .flags = MC_CK_SECRET,
	  .help = "t" },
	{ .name = "hook", .type = MC_CT_URL, .flags = MC_CK_SECRET,
	  .help = "h" },
	{ .name = NULL },
};
static const struct mc_conf_key t_opt_keys[] = {
	{ .name = "type", .type = MC_CT_ENUM, .choices = "a|b", .help = "t" },
	{ .name = "x", .type = MC_CT_INT, .types = "a", .help = "x" },
	{ .name = NULL },
};
static const struct mc_conf_key t_probe_keys[] = {
	{ .name = "type", .type = MC_CT_ENUM, .choices = "pct|count",
	  .flags = MC_CK_REQUIRED, .help = "t" },
	{ .name = "warn", .type = MC_CT_PERCENT, .types = "pct", .def = "90",
	  .help = "w" },
	{ .name = "warn", .type = MC_CT_INT, .types = "count", .def = "1000",
	  .help = "w" },
	{ .name = NULL },
};
static const struct mc_conf_schema t_core = {
	.name = "core", .help = "c", .keys = t_core_keys,
};
static const struct mc_conf_schema t_item = {
	.name = "item", .help = "i", .keys = t_item_keys,
};
static const struct mc_conf_schema t_probe = {
	.name = "probe", .named = 1, .help = "p", .keys = t_probe_keys,
};
static const struct mc_conf_schema t_opt = {
	.name = "opt", .help = "o", .keys = t_opt_keys,
};
static const struct mc_conf_schema *const t_schemas[] = {
	&t_core, &t_item, &t_probe, &t_opt, NULL,
};

static struct mc_conf *load_t(const char *text, struct mc_err *err)
{
	mc_err_clear(err);
	return mc_conf_load_schemas(text, "t.conf", t_schemas, NULL, 0, err);
}

Test(config, inih_knobs_long_value_and_inline_comments)
{
	char long_val[1001], *text;
	struct mc_conf *c;
	const struct mc_conf_section *core;

	memset(long_val, 'a', sizeof(long_val) - 1);
	long_val[0] = '/';
	long_val[sizeof(long_val) - 1] = '\0';
	text = mc_asprintf("[core]\nstate = %s\nlog_format = json   # comment\n"
			   "log_level = info ; other comment\n"
			   "prometheus_url = http://p:9090/#frag\n", long_val);
	c = load_ok(text);
	core = mc_conf_core(c);
	cr_assert_str_eq(mc_conf_str(core, "state"), long_val);
	cr_assert_eq(strlen(mc_conf_str(core, "state")), 1000);
	cr_assert_str_eq(mc_conf_str(core, "log_format"), "json");
	cr_assert_str_eq(mc_conf_str(core, "log_level"), "info");
	/* '#' with no space before it is data. */
	cr_assert_str_eq(mc_conf_str(core, "prometheus_url"),
			 "http://p:9090/#frag");
	mc_conf_free(c);
	free(text);
}

Test(config, long_line_kept_whole)
{
	struct mc_buf b = { 0 };
	struct mc_err err;
	struct mc_conf *c;
	const struct mc_conf_section *s;
	size_t qlen;

	mc_buf_puts(&b, "[item]\nquery = sum(rate(x{a=\"b\"}[5m]))");
	while (b.len < 60000)
		mc_buf_puts(&b, " + sum(rate(mutt_ingest_total{s!=\"ok\"}[5m]))");
	qlen = b.len - strlen("[item]\nquery = ");
	mc_buf_puts(&b, "   # trailing comment\nmax = 10KB\n");
	c = load_t(b.data, &err);
	cr_assert_not_null(c, "%s", err.msg);
	s = mc_conf_find(c, "item", NULL);
	cr_assert_not_null(s);
	cr_assert_eq(strlen(mc_conf_str(s, "query")), qlen);
	cr_assert_eq(strncmp(mc_conf_str(s, "query"), "sum(rate(x{a=", 13), 0);
	cr_assert_str_eq(src(s, "max"), "t.conf:3");
	mc_conf_free(c);
	mc_buf_release(&b);
}

Test(config, overlong_line_is_an_error)
{
	struct mc_buf b = { 0 };
	struct mc_err err;

	mc_buf_puts(&b, "[item]\n\nquery = ");
	while (b.len < 70000)
		mc_buf_puts(&b, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	mc_buf_puts(&b, "\n");
	cr_assert_null(load_t(b.data, &err));
	cr_assert_eq(err.code, MC_EXIT_CONFIG);
	cr_assert_str_eq(err.msg, "t.conf:3: line too long (over 65533 bytes)");
	mc_buf_release(&b);
}

/* The number of a plain threshold ("80%", "12.5"). */
static double range_hi(const struct mc_conf_section *s, const char *key)
{
	struct mc_range r;

	cr_assert(mc_conf_range(s, key, &r), "%s not set", key);
	cr_assert(r.flags & MC_RANGE_PLAIN, "%s not a plain number", key);
	return r.hi;
}

Test(config, full_valid_file)
{
	static const char text[] =
		"# mercury.conf used by the tests\n"
		"; a semicolon comment\n"
		"\n"
		"[core]   # the core section\n"
		"prometheus_url = http://prom.example:9090   # inline\n"
		"redis_url      = redis://:pw@redis.example:6380/2\n"
		"timeout        = 10s\n"
		"history = 1w\n"
		"log_level = debug ; inline semicolon\n"
		"breaker_failures = 7\n"
		"redis_password_file = /etc/mercury/redis.pw\n"
		"\n"
		"[check \"state\"]\n"
		"type = state\n"
		"\n"
		"[check \"root disk\"]\n"
		"type = disk\n"
		"path = /\n"
		"warn = 80%\n"
		"crit = 90\n"
		"critical = yes\n"
		"  # indented comment\n"
		"[check \"mem\"]\n"
		"    type = memory     # indented key\n"
		"    timeout = 1500ms\n"
		"    failure_threshold = 5\n"
		"    breaker_recovery = 1m\n";
	struct mc_conf *c = load_ok(text);
	const struct mc_conf_section *core = mc_conf_core(c), *s;

	cr_assert_null(c->path);
	cr_assert_str_eq(core->source, "mercury.conf:4");
	cr_assert_str_eq(mc_conf_str(core, "prometheus_url"),
			 "http://prom.example:9090");
	cr_assert_str_eq(src(core, "prometheus_url"), "mercury.conf:5");
	cr_assert_str_eq(mc_conf_str(core, "redis_url"),
			 "redis://:pw@redis.example:6380/2");
	cr_assert_eq(mc_conf_ms(core, "timeout", 0), 10000);
	cr_assert_eq(mc_conf_ms(core, "history", 0), 7LL * 86400000);
	cr_assert_str_eq(mc_conf_str(core, "log_level"), "debug");
	cr_assert_eq(mc_conf_int(core, "log_level", -1), 3);
	cr_assert_eq(mc_conf_int(core, "breaker_failures", 0), 7);
	cr_assert_eq(mc_conf_ms(core, "breaker_recovery", 0), 30000);
	cr_assert_str_eq(src(core, "breaker_recovery"), "default");
	cr_assert_str_eq(mc_conf_str(core, "log_format"), "text");
	cr_assert_null(mc_conf_get(core, "state"));
	cr_assert_str_eq(mc_conf_str(core, "redis_password_file"),
			 "/etc/mercury/redis.pw");

	s = mc_conf_find(c, "check", "state");
	cr_assert_not_null(s);
	cr_assert_str_eq(s->source, "mercury.conf:13");
	cr_assert_eq(mc_conf_ms(s, "timeout", 0), 2000);
	cr_assert_eq(mc_conf_bool(s, "critical", -1), 0);
	cr_assert_eq(mc_conf_int(s, "failure_threshold", 0), 3);
	cr_assert_eq(mc_conf_int(s, "success_threshold", 0), 2);
	cr_assert_null(mc_conf_get(s, "warn"));	/* not for type state */
	cr_assert_null(mc_conf_get(s, "path"));
	cr_assert_null(mc_conf_get(s, "breaker_failures"));

	s = mc_conf_find(c, "check", "root disk");
	cr_assert_not_null(s);
	cr_assert_str_eq(mc_conf_str(s, "path"), "/");
	cr_assert_float_eq(range_hi(s, "warn"), 80, 1e-9);
	cr_assert_float_eq(range_hi(s, "crit"), 90, 1e-9);
	cr_assert_eq(mc_conf_bool(s, "critical", -1), 1);
	cr_assert_str_eq(src(s, "critical"), "mercury.conf:21");

	s = mc_conf_find(c, "check", "mem");
	cr_assert_not_null(s);
	cr_assert_str_eq(mc_conf_str(s, "type"), "memory");
	cr_assert_eq(mc_conf_int(s, "type", -1), 2);
	cr_assert_eq(mc_conf_ms(s, "timeout", 0), 1500);
	cr_assert_eq(mc_conf_int(s, "failure_threshold", 0), 5);
	cr_assert_eq(mc_conf_ms(s, "breaker_recovery", 0), 60000);
	cr_assert_float_eq(range_hi(s, "warn"), 90, 1e-9);
	cr_assert_str_eq(src(s, "warn"), "default");
	cr_assert_float_eq(range_hi(s, "crit"), 95, 1e-9);
	cr_assert_null(mc_conf_get(s, "path"));	/* disk only */

	cr_assert_null(mc_conf_find(c, "check", "nope"));
	cr_assert_eq(c->n_sections, 4);
	mc_conf_free(c);
}

Test(config, value_types)
{
	static const char text[] =
		"[check \"a\"]\ntype = disk\ntimeout = 1h30m\nwarn = 12.5%\n"
		"crit = 12.5\ncritical = TRUE\nfailure_threshold = 0\n"
		"[check \"b\"]\ntype = memory\ntimeout = 0\ncritical = off\n"
		"warn = 0\ncrit = 100%\n"
		"[check \"c\"]\ntype = state\ntimeout = 250ms\ncritical = 1\n"
		"[check \"d\"]\ntype = state\ncritical = no\n"
		"[check \"e\"]\ntype = state\ncritical = On\n";
	struct mc_conf *c = load_ok(text);
	const struct mc_conf_section *s;

	s = mc_conf_find(c, "check", "a");
	cr_assert_eq(mc_conf_ms(s, "timeout", 0), 5400000);
	cr_assert_float_eq(range_hi(s, "warn"), 12.5, 1e-9);
	cr_assert_float_eq(range_hi(s, "crit"), 12.5, 1e-9);
	cr_assert_eq(mc_conf_bool(s, "critical", -1), 1);
	cr_assert_eq(mc_conf_int(s, "failure_threshold", -1), 0);
	s = mc_conf_find(c, "check", "b");
	cr_assert_eq(mc_conf_ms(s, "timeout", -1), 0);
	cr_assert_eq(mc_conf_bool(s, "critical", -1), 0);
	cr_assert_float_eq(range_hi(s, "warn"), 0, 1e-9);
	cr_assert_float_eq(range_hi(s, "crit"), 100, 1e-9);
	s = mc_conf_find(c, "check", "c");
	cr_assert_eq(mc_conf_ms(s, "timeout", 0), 250);
	cr_assert_eq(mc_conf_bool(s, "critical", -1), 1);
	cr_assert_eq(mc_conf_bool(mc_conf_find(c, "check", "d"), "critical",
				  -1), 0);
	cr_assert_eq(mc_conf_bool(mc_conf_find(c, "check", "e"), "critical",
				  -1), 1);
	/* Getters on an absent section give the fallback. */
	cr_assert_eq(mc_conf_ms(mc_conf_find(c, "check", "zz"), "timeout", 42),
		     42);
	mc_conf_free(c);
}

Test(config, size_rate_string_secret)
{
	struct mc_err err;
	struct mc_conf *c = load_t("[item]\nmax = 5MiB\nrate = 30/m\n"
				   "token = s3cret\nquery = \n", &err);
	const struct mc_conf_section *s;

	cr_assert_not_null(c, "%s", err.msg);
	s = mc_conf_find(c, "item", NULL);
	cr_assert_eq(mc_conf_get(s, "max")->v.size, 5 * 1048576);
	cr_assert_eq(mc_conf_int(s, "max", 0), 5 * 1048576);
	cr_assert_float_eq(mc_conf_double(s, "rate", 0), 0.5, 1e-9);
	cr_assert_str_eq(mc_conf_str(s, "token"), "s3cret");
	cr_assert_str_eq(mc_conf_str(s, "query"), "");	/* strings may be empty */
	mc_conf_free(c);
	cr_assert_null(load_t("[item]\nrate = 3/d\n", &err));
	cr_assert_str_eq(err.msg,
			 "t.conf:2: [item] bad value for 'rate': bad rate '3/d' (use e.g. 1/s, 30/m, 100/h)");
	cr_assert_null(load_t("[item]\nmax = 5 apples\n", &err));
	cr_assert_eq(err.code, MC_EXIT_CONFIG);
}

Test(config, bad_values)
{
	expect_err("[check \"d\"]\ntype = disk\n\n\n\n\ntimeout = 2x\n",
		   MC_EXIT_CONFIG,
		   "mercury.conf:7: [check \"d\"] bad value for 'timeout': bad duration '2x' (use e.g. 250ms, 2s, 15m, 6h, 30d, 1w)");
	expect_err("[check \"d\"]\ntype = disk\nwarn = 101%\n", MC_EXIT_CONFIG,
		   "mercury.conf:3: [check \"d\"] 'warn' is a used percentage: 0 to 100, not '101%'");
	expect_err("[check \"d\"]\ntype = disk\ncritical = maybe\n",
		   MC_EXIT_CONFIG,
		   "mercury.conf:3: [check \"d\"] bad value for 'critical': bad boolean 'maybe' (use true or false)");
	expect_err("[check \"d\"]\ntype = disk\nfailure_threshold = -1\n",
		   MC_EXIT_CONFIG,
		   "mercury.conf:3: [check \"d\"] bad value for 'failure_threshold': bad number '-1' (a whole number, 0 or more)");
	expect_err("[core]\nprometheus_url = ftp://x\n", MC_EXIT_CONFIG,
		   "mercury.conf:2: [core] bad value for 'prometheus_url': bad URL 'ftp://x' (use http://, https:// or redis:// and a host)");
	expect_err("[core]\nredis_url = redis:///0\n", MC_EXIT_CONFIG,
		   "mercury.conf:2: [core] bad value for 'redis_url': bad URL 'redis:///0' (use http://, https:// or redis:// and a host)");
	expect_err("[core]\nstate =\n", MC_EXIT_CONFIG,
		   "mercury.conf:2: [core] bad value for 'state': empty path");
}

Test(config, enum_did_you_mean)
{
	expect_err("[check \"x\"]\ntype = dsk\n", MC_EXIT_CONFIG,
		   "mercury.conf:2: [check \"x\"] bad value for 'type': 'dsk' is not one of state|disk|memory|http|tcp|redis|redis_queue|prometheus|sqlite|exec|oauth|backup|job (did you mean 'disk'?)");
	expect_err("[core]\nlog_format = xml\n", MC_EXIT_CONFIG,
		   "mercury.conf:2: [core] bad value for 'log_format': 'xml' is not one of text|json");
}

Test(config, unknown_key)
{
	expect_err("[core]\n\n[check \"api\"]\ntype = disk\n# c\n# c\n# c\n"
		   "# c\n# c\n# c\n# c\ntiemout = 3s\n",
		   MC_EXIT_CONFIG,
		   "mercury.conf:12: [check \"api\"] unknown key 'tiemout' (did you mean 'timeout'?)");
	expect_err("[core]\nzzzzzz = 1\n", MC_EXIT_CONFIG,
		   "mercury.conf:2: [core] unknown key 'zzzzzz'");
	/* Suggestions come from the keys the type allows: 'pth' is near
	 * 'path', which memory checks lack. */
	expect_err("[check \"m\"]\ntype = memory\npth = /\n", MC_EXIT_CONFIG,
		   "mercury.conf:3: [check \"m\"] unknown key 'pth'");
	expect_err("[check \"m\"]\ntype = disk\npth = /\n", MC_EXIT_CONFIG,
		   "mercury.conf:3: [check \"m\"] unknown key 'pth' (did you mean 'path'?)");
}

Test(config, unknown_section)
{
	expect_err("[core]\n\n[chek \"x\"]\ntype = disk\n", MC_EXIT_CONFIG,
		   "mercury.conf:3: unknown section [chek \"x\"] (did you mean [check]?)");
	expect_err("[cor]\n", MC_EXIT_CONFIG,
		   "mercury.conf:1: unknown section [cor] (did you mean [core]?)");
	expect_err("[zebra]\n", MC_EXIT_CONFIG,
		   "mercury.conf:1: unknown section [zebra]");
}

Test(config, section_header_forms)
{
	expect_err("[check]\ntype = disk\n", MC_EXIT_CONFIG,
		   "mercury.conf:1: section [check] needs a name, as in [check \"NAME\"]");
	expect_err("[core \"x\"]\n", MC_EXIT_CONFIG,
		   "mercury.conf:1: section [core] takes no name (found [core \"x\"])");
	expect_err("[check \"\"]\ntype = disk\n", MC_EXIT_CONFIG,
		   "mercury.conf:1: empty name in section header [check \"\"]");
	expect_err("\n[check \"x]\n", MC_EXIT_CONFIG,
		   "mercury.conf:2: syntax error in section header (expected [name] or [name \"instance\"])");
	expect_err("[core] junk\n", MC_EXIT_CONFIG,
		   "mercury.conf:1: syntax error in section header (expected [name] or [name \"instance\"])");
	expect_err("[core\n", MC_EXIT_CONFIG,
		   "mercury.conf:1: syntax error in section header (expected [name] or [name \"instance\"])");
	expect_err("[]\n", MC_EXIT_CONFIG,
		   "mercury.conf:1: syntax error in section header (expected [name] or [name \"instance\"])");
}

Test(config, instance_names_with_spaces_and_long)
{
	char name[201], *text;
	struct mc_conf *c;

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	text = mc_asprintf("  [ check   \"my api #1; x\" ]  ; comment\ntype=state\n"
			   "[check \"%s\"]\ntype = state\n", name);
	c = load_ok(text);
	cr_assert_not_null(mc_conf_find(c, "check", "my api #1; x"));
	/* inih would cut a header at 50 bytes; ours keep it whole. */
	cr_assert_not_null(mc_conf_find(c, "check", name));
	mc_conf_free(c);
	free(text);
}

Test(config, duplicate_sections)
{
	expect_err("[core]\n[check \"api\"]\ntype = state\n[check \"b\"]\n"
		   "type = state\n\n\n\n[check \"api\"]\ntype = disk\n",
		   MC_EXIT_CONFIG,
		   "mercury.conf:9: duplicate section [check \"api\"] (first at line 2)");
	expect_err("[core]\ntimeout = 1s\n[core]\n", MC_EXIT_CONFIG,
		   "mercury.conf:3: duplicate section [core] (first at line 1)");
}

Test(config, key_given_twice)
{
	expect_err("\n\n[core]\ntimeout = 1s\ntimeout = 2s\n", MC_EXIT_CONFIG,
		   "mercury.conf:5: [core] 'timeout' given twice (first at line 4)");
}

Test(config, syntax_errors)
{
	expect_err("[core]\ntimeout = 1s\n\njust words\n", MC_EXIT_CONFIG,
		   "mercury.conf:4: syntax error (expected 'key = value' or '[section]')");
	expect_err("[core]\n= 5\n", MC_EXIT_CONFIG,
		   "mercury.conf:2: syntax error (expected 'key = value' or '[section]')");
	expect_err("# top\ntimeout = 1s\n", MC_EXIT_CONFIG,
		   "mercury.conf:2: key 'timeout' outside any section (put it under [core] or another section)");
	/* An earlier bad key in the section comes first. */
	expect_err("[core]\ntimout = 1s\nwords\n", MC_EXIT_CONFIG,
		   "mercury.conf:2: [core] unknown key 'timout' (did you mean 'timeout'?)");
}

Test(config, key_not_for_type)
{
	expect_err("[check \"x\"]\ntype = memory\n\n\n\n\n\npath = /\n",
		   MC_EXIT_CONFIG,
		   "mercury.conf:8: [check \"x\"] key 'path' does not apply to type 'memory'");
	/* The type may come after the keys that depend on it. */
	expect_err("[check \"x\"]\npath = /\ntype = state\n", MC_EXIT_CONFIG,
		   "mercury.conf:2: [check \"x\"] key 'path' does not apply to type 'state'");
}

Test(config, type_after_typed_keys)
{
	struct mc_conf *c = load_ok("[check \"x\"]\npath = /var\nwarn = 70\n"
				    "type = disk\n");
	const struct mc_conf_section *s = mc_conf_find(c, "check", "x");

	cr_assert_str_eq(mc_conf_str(s, "path"), "/var");
	cr_assert_float_eq(range_hi(s, "warn"), 70, 1e-9);
	mc_conf_free(c);
}

Test(config, missing_required_key)
{
	expect_err("[core]\n\n\n\n\n[check \"x\"]\ntimeout = 1s\n[check \"y\"]\n",
		   MC_EXIT_CONFIG,
		   "mercury.conf:6: [check \"x\"] missing required key 'type'");
	expect_err("[check \"y\"]\n", MC_EXIT_CONFIG,
		   "mercury.conf:1: [check \"y\"] missing required key 'type'");
}

Test(config, warn_above_crit)
{
	expect_err("[check \"d\"]\ntype = disk\nwarn = 96\ncrit = 95%\n",
		   MC_EXIT_CONFIG,
		   "mercury.conf:3: [check \"d\"] warn (96) must not exceed crit (95%)");
	/* Against the default crit, the line cited is the warn one. */
	expect_err("[check \"d\"]\ntype = memory\nwarn = 96\n", MC_EXIT_CONFIG,
		   "mercury.conf:3: [check \"d\"] warn (96) must not exceed crit (95)");
	/* Against the default warn, the crit one. */
	expect_err("[check \"d\"]\ntype = memory\n\ncrit = 50\n", MC_EXIT_CONFIG,
		   "mercury.conf:4: [check \"d\"] warn (90) must not exceed crit (50)");
}

Test(config, defaults_only)
{
	struct mc_err err;
	struct mc_conf *c;
	const struct mc_conf_section *core;

	mc_err_clear(&err);
	c = mc_conf_load(NULL, NULL, 0, &err);
	cr_assert_not_null(c, "%s", err.msg);
	cr_assert_null(c->path);
	cr_assert_eq(c->n_sections, 1);
	core = mc_conf_core(c);
	cr_assert_not_null(core);
	cr_assert_str_eq(core->source, "default");
	cr_assert_str_eq(mc_conf_str(core, "prometheus_url"),
			 "http://127.0.0.1:9090");
	cr_assert_str_eq(mc_conf_str(core, "redis_url"),
			 "redis://127.0.0.1:6379/0");
	cr_assert_eq(mc_conf_ms(core, "timeout", 0), 60000);
	cr_assert_eq(mc_conf_ms(core, "history", 0), 30LL * 86400000);
	cr_assert_eq(mc_conf_int(core, "breaker_failures", 0), 5);
	cr_assert_eq(mc_conf_ms(core, "breaker_recovery", 0), 30000);
	cr_assert_str_eq(mc_conf_str(core, "log_format"), "text");
	cr_assert_str_eq(mc_conf_str(core, "log_level"), "warn");
	cr_assert_null(mc_conf_str(core, "state"));
	cr_assert_null(mc_conf_str(core, "redis_password_file"));
	cr_assert_null(core->values[2].raw);
	cr_assert_null(core->values[2].source);
	cr_assert_null(mc_conf_next(c, "check", NULL));
	mc_conf_free(c);
}

Test(config, empty_file_and_bom)
{
	struct mc_conf *c = load_ok("");

	cr_assert_not_null(mc_conf_core(c));
	mc_conf_free(c);
	c = load_ok("\xEF\xBB\xBF[core]\ntimeout = 3s\n");
	cr_assert_eq(mc_conf_ms(mc_conf_core(c), "timeout", 0), 3000);
	mc_conf_free(c);
}

Test(config, crlf_line_endings)
{
	struct mc_conf *c = load_ok("# c\r\n[core]\r\ntimeout = 4s\r\n"
				    "log_format = json # x\r\n\r\n"
				    "[check \"w\"]\r\ntype = disk\r\npath = /tmp\r\n");
	const struct mc_conf_section *s = mc_conf_find(c, "check", "w");

	cr_assert_eq(mc_conf_ms(mc_conf_core(c), "timeout", 0), 4000);
	cr_assert_str_eq(mc_conf_str(mc_conf_core(c), "log_format"), "json");
	cr_assert_not_null(s);
	cr_assert_str_eq(mc_conf_str(s, "path"), "/tmp");
	cr_assert_str_eq(src(s, "path"), "mercury.conf:8");
	mc_conf_free(c);
}

Test(config, iteration_in_file_order)
{
	static const char *const names[] = { "zeta", "alpha", "mid", "beta" };
	struct mc_conf *c = load_ok("[check \"zeta\"]\ntype=state\n"
				    "[check \"alpha\"]\ntype=state\n"
				    "[core]\n"
				    "[check \"mid\"]\ntype=state\n"
				    "[check \"beta\"]\ntype=state\n");
	const struct mc_conf_section *s = NULL;
	size_t n = 0;

	while ((s = mc_conf_next(c, "check", s)) != NULL) {
		cr_assert_lt(n, MC_ARRAY_LEN(names));
		cr_assert_str_eq(s->name, names[n]);
		n++;
	}
	cr_assert_eq(n, 4);
	cr_assert_str_eq(mc_conf_next(c, "core", NULL)->source,
			 "mercury.conf:5");
	cr_assert_null(mc_conf_next(c, "core", mc_conf_core(c)));
	mc_conf_free(c);
}

Test(config, precedence_and_sources)
{
	static const char text[] = "[core]\nprometheus_url = http://file:9090\n";
	struct mc_conf_flag flags[] = {
		{ .key = "prometheus_url", .value = "http://flag:9090",
		  .flag = "--prometheus" },
		{ .key = "timeout", .value = NULL, .flag = "--timeout" },
	};
	struct mc_err err;
	struct mc_conf *c;
	const struct mc_conf_section *core;

	c = mc_conf_load_string(NULL, "mercury.conf", NULL, 0, &err);
	core = mc_conf_core(c);
	cr_assert_str_eq(mc_conf_str(core, "prometheus_url"),
			 "http://127.0.0.1:9090");
	cr_assert_str_eq(src(core, "prometheus_url"), "default");
	mc_conf_free(c);

	c = load_ok(text);
	core = mc_conf_core(c);
	cr_assert_str_eq(mc_conf_str(core, "prometheus_url"),
			 "http://file:9090");
	cr_assert_str_eq(src(core, "prometheus_url"), "mercury.conf:2");
	mc_conf_free(c);

	setenv("PROMETHEUS_URL", "http://env2:9090", 1);
	c = load_ok(text);
	core = mc_conf_core(c);
	cr_assert_str_eq(mc_conf_str(core, "prometheus_url"),
			 "http://env2:9090");
	cr_assert_str_eq(src(core, "prometheus_url"), "env PROMETHEUS_URL");
	mc_conf_free(c);

	/* The first variable named wins; an empty one counts as unset. */
	setenv("MERCURY_PROMETHEUS_URL", "", 1);
	c = load_ok(text);
	cr_assert_str_eq(src(mc_conf_core(c), "prometheus_url"),
			 "env PROMETHEUS_URL");
	mc_conf_free(c);
	setenv("MERCURY_PROMETHEUS_URL", "http://env:9090", 1);
	c = load_ok(text);
	core = mc_conf_core(c);
	cr_assert_str_eq(mc_conf_str(core, "prometheus_url"),
			 "http://env:9090");
	cr_assert_str_eq(src(core, "prometheus_url"),
			 "env MERCURY_PROMETHEUS_URL");
	mc_conf_free(c);

	c = mc_conf_load_string(text, "mercury.conf", flags,
				MC_ARRAY_LEN(flags), &err);
	cr_assert_not_null(c, "%s", err.msg);
	core = mc_conf_core(c);
	cr_assert_str_eq(mc_conf_str(core, "prometheus_url"),
			 "http://flag:9090");
	cr_assert_str_eq(src(core, "prometheus_url"), "flag --prometheus");
	/* A flag without a value is not given. */
	cr_assert_str_eq(src(core, "timeout"), "default");
	mc_conf_free(c);

	/* Without a file, env and flags still apply. */
	setenv("MERCURY_LOG_LEVEL", "debug", 1);
	c = mc_conf_load(NULL, flags, 1, &err);
	cr_assert_not_null(c, "%s", err.msg);
	core = mc_conf_core(c);
	cr_assert_str_eq(src(core, "prometheus_url"), "flag --prometheus");
	cr_assert_str_eq(mc_conf_str(core, "log_level"), "debug");
	cr_assert_str_eq(src(core, "log_level"), "env MERCURY_LOG_LEVEL");
	mc_conf_free(c);
}

Test(config, env_and_flag_for_state_and_log_format)
{
	struct mc_conf_flag flags[] = {
		{ .key = "log_format", .value = "text", .flag = "--log-format" },
		{ .key = "state", .value = "/flag/state.db", .flag = "--state" },
	};
	struct mc_err err;
	struct mc_conf *c;
	const struct mc_conf_section *core;

	setenv("MERCURY_STATE", "/env/state.db", 1);
	setenv("MERCURY_LOG_FORMAT", "json", 1);
	c = mc_conf_load_string("[core]\nstate = /file/state.db\n",
				"mercury.conf", NULL, 0, &err);
	cr_assert_not_null(c, "%s", err.msg);
	core = mc_conf_core(c);
	cr_assert_str_eq(mc_conf_str(core, "state"), "/env/state.db");
	cr_assert_str_eq(mc_conf_str(core, "log_format"), "json");
	cr_assert_eq(mc_conf_int(core, "log_format", -1), 1);
	mc_conf_free(c);
	c = mc_conf_load_string("[core]\nstate = /file/state.db\n",
				"mercury.conf", flags, 2, &err);
	cr_assert_not_null(c, "%s", err.msg);
	core = mc_conf_core(c);
	cr_assert_str_eq(mc_conf_str(core, "state"), "/flag/state.db");
	cr_assert_str_eq(src(core, "state"), "flag --state");
	cr_assert_str_eq(mc_conf_str(core, "log_format"), "text");
	cr_assert_str_eq(src(core, "log_format"), "flag --log-format");
	mc_conf_free(c);
}

Test(config, env_bad_value)
{
	struct mc_err err;

	setenv("MERCURY_LOG_FORMAT", "xml", 1);
	mc_err_clear(&err);
	cr_assert_null(mc_conf_load(NULL, NULL, 0, &err));
	cr_assert_eq(err.code, MC_EXIT_CONFIG);
	cr_assert_str_eq(err.msg,
			 "environment MERCURY_LOG_FORMAT: bad value for 'log_format': 'xml' is not one of text|json");
	unsetenv("MERCURY_LOG_FORMAT");
	setenv("REDIS_URL", "localhost:6379", 1);
	cr_assert_null(mc_conf_load_string("[core]\n", "m.conf", NULL, 0,
					   &err));
	cr_assert_eq(err.code, MC_EXIT_CONFIG);
	cr_assert_not_null(strstr(err.msg, "environment REDIS_URL: bad value for 'redis_url'"),
			   "%s", err.msg);
}

Test(config, flag_bad_value)
{
	struct mc_conf_flag flags[] = {
		{ .key = "timeout", .value = "soon", .flag = "--timeout" },
	};
	struct mc_err err;

	mc_err_clear(&err);
	cr_assert_null(mc_conf_load_string("[core]\n", "m.conf", flags, 1,
					   &err));
	cr_assert_eq(err.code, MC_EXIT_USAGE);
	cr_assert_str_eq(err.msg,
			 "option --timeout: bad value for 'timeout': bad duration 'soon' (use e.g. 250ms, 2s, 15m, 6h, 30d, 1w)");
	mc_err_clear(&err);
	cr_assert_null(mc_conf_load(NULL, flags, 1, &err));
	cr_assert_eq(err.code, MC_EXIT_USAGE);
}

Test(config, list_keys_chain)
{
	struct mc_err err;
	struct mc_conf *c = load_t("[item]\ninclude = /etc/a\nquery = q\n"
				   "include = /etc/b  # second\n"
				   "include = /etc/c\n", &err);
	const struct mc_conf_value *v;
	static const char *const want[] = { "/etc/a", "/etc/b", "/etc/c" };
	static const char *const lines[] = { "t.conf:2", "t.conf:4",
					     "t.conf:5" };
	size_t n = 0;

	cr_assert_not_null(c, "%s", err.msg);
	for (v = mc_conf_get(mc_conf_find(c, "item", NULL), "include");
	     v != NULL; v = v->next) {
		cr_assert_lt(n, 3);
		cr_assert_str_eq(v->raw, want[n]);
		cr_assert_str_eq(v->source, lines[n]);
		n++;
	}
	cr_assert_eq(n, 3);
	/* A test schema's [core] still exists, with its defaults. */
	cr_assert_eq(mc_conf_ms(mc_conf_core(c), "timeout", 0), 5000);
	mc_conf_free(c);
	/* Not a list key: twice is an error. */
	cr_assert_null(load_t("[item]\nquery = a\nquery = b\n", &err));
	cr_assert_str_eq(err.msg,
			 "t.conf:3: [item] 'query' given twice (first at line 2)");
}

Test(config, same_key_name_for_two_types)
{
	struct mc_err err;
	struct mc_conf *c = load_t("[probe \"a\"]\ntype = pct\nwarn = 80%\n"
				   "[probe \"b\"]\nwarn = 1000\ntype = count\n"
				   "[probe \"c\"]\ntype = count\n", &err);

	cr_assert_not_null(c, "%s", err.msg);
	cr_assert_float_eq(mc_conf_double(mc_conf_find(c, "probe", "a"),
					  "warn", 0), 80, 1e-9);
	cr_assert_eq(mc_conf_int(mc_conf_find(c, "probe", "b"), "warn", 0),
		     1000);
	cr_assert_eq(mc_conf_int(mc_conf_find(c, "probe", "c"), "warn", 0),
		     1000);
	cr_assert_str_eq(mc_conf_get(mc_conf_find(c, "probe", "c"),
				     "warn")->source, "default");
	mc_conf_free(c);
	cr_assert_null(load_t("[probe \"a\"]\ntype = pct\nwarn = 1000\n",
			      &err));
	cr_assert_str_eq(err.msg,
			 "t.conf:3: [probe \"a\"] bad value for 'warn': bad percentage '1000' (use e.g. 80% or 80, 0 to 100)");
}

Test(config, secret_values_not_quoted)
{
	struct mc_err err;

	cr_assert_null(load_t("[item]\nhook = htp://user:tok3n@x/\n", &err));
	cr_assert_eq(err.code, MC_EXIT_CONFIG);
	cr_assert_str_eq(err.msg,
			 "t.conf:2: [item] bad value for 'hook': not a valid URL (a secret: value not shown)");
	cr_assert_null(strstr(err.msg, "tok3n"));
}

Test(config, typed_key_without_type)
{
	struct mc_err err;
	struct mc_conf *c;

	cr_assert_null(load_t("[opt]\nx = 1\n", &err));
	cr_assert_str_eq(err.msg,
			 "t.conf:2: [opt] key 'x' does not apply without a type");
	c = load_t("[opt]\nx = 1\ntype = a\n", &err);
	cr_assert_not_null(c, "%s", err.msg);
	cr_assert_eq(mc_conf_int(mc_conf_find(c, "opt", NULL), "x", 0), 1);
	mc_conf_free(c);
	/* A required type that is missing is named first. */
	expect_err("[check \"x\"]\npath = /\n", MC_EXIT_CONFIG,
		   "mercury.conf:1: [check \"x\"] missing required key 'type'");
}

/* Held in a volatile static (a store the compiler may not drop) so that
 * the abort leaves it reachable, not lost. */
static struct mc_conf *volatile aborting_conf;

Test(config, unknown_key_get_aborts, .signal = SIGABRT)
{
	aborting_conf = mc_conf_load(NULL, NULL, 0, NULL);
	mc_conf_get(mc_conf_core(aborting_conf), "no_such_key");
}

Test(config, unknown_flag_key_aborts, .signal = SIGABRT)
{
	struct mc_conf_flag flags[] = {
		{ .key = "nope", .value = "1", .flag = "--nope" },
	};

	mc_conf_load(NULL, flags, 1, NULL);
}

Test(config, find_path_order)
{
	char dirbuf[MC_TEST_DIR_LEN];
	char *dir = mc_test_dir(dirbuf), *home = mc_asprintf("%s/home", dir);
	char *xdg = mc_asprintf("%s/xdg", dir), *p, *want_home, *want_xdg;
	int explicit = -1;
	int etc = access("/etc/mercury/mercury.conf", F_OK) == 0;

	cr_assert_eq(mkdir(home, 0700), 0);
	setenv("HOME", home, 1);
	setenv("XDG_CONFIG_HOME", xdg, 1);

	/* Nothing there: /etc, or the built-in defaults. */
	p = mc_conf_find_path(NULL, &explicit);
	cr_assert_eq(explicit, 0);
	if (etc)
		cr_assert_str_eq(p, "/etc/mercury/mercury.conf");
	else
		cr_assert_null(p);
	free(p);

	/* XDG_CONFIG_HOME set: ~/.config is not looked at. */
	want_home = put_file(home, ".config/mercury/mercury.conf", "");
	p = mc_conf_find_path(NULL, &explicit);
	cr_assert(p == NULL || strcmp(p, want_home) != 0);
	free(p);

	want_xdg = put_file(xdg, "mercury/mercury.conf", "");
	p = mc_conf_find_path(NULL, &explicit);
	cr_assert_str_eq(p, want_xdg);
	cr_assert_eq(explicit, 0);
	free(p);

	/* A relative XDG_CONFIG_HOME is ignored. */
	setenv("XDG_CONFIG_HOME", "relative/xdg", 1);
	p = mc_conf_find_path(NULL, &explicit);
	cr_assert_str_eq(p, want_home);
	free(p);
	unsetenv("XDG_CONFIG_HOME");
	p = mc_conf_find_path(NULL, &explicit);
	cr_assert_str_eq(p, want_home);
	cr_assert_eq(explicit, 0);
	free(p);

	/* $MERCURY_CONFIG beats them, and need not exist (yet). */
	setenv("MERCURY_CONFIG", "/nonexistent/m.conf", 1);
	p = mc_conf_find_path(NULL, &explicit);
	cr_assert_str_eq(p, "/nonexistent/m.conf");
	cr_assert_eq(explicit, 1);
	free(p);

	/* --config beats everything. */
	explicit = -1;
	p = mc_conf_find_path("/flag/m.conf", &explicit);
	cr_assert_str_eq(p, "/flag/m.conf");
	cr_assert_eq(explicit, 1);
	free(p);
	p = mc_conf_find_path("/flag/m.conf", NULL);
	cr_assert_str_eq(p, "/flag/m.conf");
	free(p);

	mc_test_rmtree(dir);
	free(want_home);
	free(want_xdg);
	free(home);
	free(xdg);
}

Test(config, load_from_file)
{
	char dirbuf[MC_TEST_DIR_LEN], *dir = mc_test_dir(dirbuf);
	char *path = put_file(dir, "m.conf", "[core]\n\ntimeout = 9s\n");
	char *want = mc_asprintf("%s:3", path);
	struct mc_err err;
	struct mc_conf *c;

	mc_err_clear(&err);
	c = mc_conf_load(path, NULL, 0, &err);
	cr_assert_not_null(c, "%s", err.msg);
	cr_assert_str_eq(c->path, path);
	cr_assert_str_eq(src(mc_conf_core(c), "timeout"), want);
	mc_conf_free(c);
	free(want);

	/* Errors name the file as given. */
	free(put_file(dir, "bad.conf", "[core]\ntimeout = 9x\n"));
	free(path);
	path = mc_asprintf("%s/bad.conf", dir);
	cr_assert_null(mc_conf_load(path, NULL, 0, &err));
	want = mc_asprintf("%s:2: [core] bad value for 'timeout'", path);
	cr_assert_eq(strncmp(err.msg, want, strlen(want)), 0, "%s", err.msg);
	mc_test_rmtree(dir);
	free(want);
	free(path);
}

Test(config, nul_byte_in_file)
{
	char dirbuf[MC_TEST_DIR_LEN];
	char *dir = mc_test_dir(dirbuf), *path = mc_asprintf("%s/nul.conf", dir), *want;
	static const char text[] = "[core]\ntimeout = 1s\x00x\n";
	struct mc_err err;

	cr_assert_eq(mc_write_atomic(path, text, sizeof(text) - 1, 0600, NULL),
		     0);
	cr_assert_null(mc_conf_load(path, NULL, 0, &err));
	want = mc_asprintf("%s:2: NUL byte in line", path);
	cr_assert_eq(err.code, MC_EXIT_CONFIG);
	cr_assert_str_eq(err.msg, want);
	mc_test_rmtree(dir);
	free(want);
	free(path);
}

Test(config, missing_explicit_file)
{
	char dirbuf[MC_TEST_DIR_LEN];
	char *dir = mc_test_dir(dirbuf), *path = mc_asprintf("%s/nope.conf", dir), *want;
	struct mc_err err;

	mc_err_clear(&err);
	cr_assert_null(mc_conf_load(path, NULL, 0, &err));
	cr_assert_eq(err.code, MC_EXIT_CONFIG);
	want = mc_asprintf("cannot read config %s: No such file or directory",
			   path);
	cr_assert_str_eq(err.msg, want);
	mc_test_rmtree(dir);
	free(want);
	free(path);
}

Test(config, unreadable_file)
{
	char dirbuf[MC_TEST_DIR_LEN];
	char *dir = mc_test_dir(dirbuf), *path = put_file(dir, "m.conf", "[core]\n");
	char *want;
	struct mc_err err;

	/* Root reads a mode 000 file; a directory fails for everyone. */
	cr_assert_eq(chmod(path, 0), 0);
	mc_err_clear(&err);
	if (geteuid() != 0) {
		cr_assert_null(mc_conf_load(path, NULL, 0, &err));
		cr_assert_eq(err.code, MC_EXIT_CONFIG);
		want = mc_asprintf("cannot read config %s: Permission denied",
				   path);
		cr_assert_str_eq(err.msg, want);
		free(want);
	}
	mc_err_clear(&err);
	cr_assert_null(mc_conf_load(dir, NULL, 0, &err));
	cr_assert_eq(err.code, MC_EXIT_CONFIG);
	want = mc_asprintf("cannot read config %s: Is a directory", dir);
	cr_assert_str_eq(err.msg, want);
	mc_test_rmtree(dir);
	free(want);
	free(path);
}

Test(config, schemas_are_well_formed)
{
	/* Every default parses (the loader aborts otherwise), every enum has
	 * choices, every key a help line. */
	for (size_t i = 0; mc_conf_schemas[i] != NULL; i++) {
		const struct mc_conf_schema *sc = mc_conf_schemas[i];

		cr_assert_not_null(sc->help);
		for (size_t k = 0; sc->keys[k].name != NULL; k++) {
			cr_assert_not_null(sc->keys[k].help, "%s.%s", sc->name,
					   sc->keys[k].name);
			if (sc->keys[k].type == MC_CT_ENUM)
				cr_assert_not_null(sc->keys[k].choices);
		}
	}
	/* A check of each type loads with its defaults. */
	for (const char *t = "state\0disk\0memory\0"; *t; t += strlen(t) + 1) {
		char *text = mc_asprintf("[check \"x\"]\ntype = %s\n", t);
		struct mc_conf *c = load_ok(text);

		mc_conf_free(c);
		free(text);
	}
}

/* git-config quoting of values (mercury.conf(5)). */
Test(config, unquote_rules)
{
	static const struct {
		const char *in, *out;
		int cut;
	} cases[] = {
		{ "plain", "plain", 0 },
		{ "needle #frag", "needle", 1 },
		{ "needle ;frag", "needle", 1 },
		{ "a#b;c", "a#b;c", 0 },
		{ "http://h/p#frag", "http://h/p#frag", 0 },
		{ "\"ready\"", "ready", 0 },
		{ "\"ready\"   # a comment", "ready", 0 },
		{ "\"pa ss #w;rd\"", "pa ss #w;rd", 0 },
		{ "\"  spaces kept  \"", "  spaces kept  ", 0 },
		{ "\"q\\\"x\\\\y\\nz\\tw\"", "q\"x\\y\nz\tw", 0 },
		{ "\"\"", "", 0 },
		{ "#only a comment", "", 1 },
		/* Not a quoted value whole: kept as written, quotes and
		 * backslashes included; a comment inside "..." is data. */
		{ "/bin/p arg1 \"arg two\"", "/bin/p arg1 \"arg two\"", 0 },
		{ "/bin/p \"a #b\" c # real", "/bin/p \"a #b\" c", 1 },
		{ "\"/opt/my p\" -w 5 ; c", "\"/opt/my p\" -w 5", 1 },
		{ "up{job=\"a\"} # c", "up{job=\"a\"}", 1 },
		{ "^\\d+$", "^\\d+$", 0 },
		/* A lone quote inside plain text is a character. */
		{ "it\"s #x", "it\"s", 1 },
	};

	for (size_t i = 0; i < MC_ARRAY_LEN(cases); i++) {
		char why[200] = "";
		int cut = -1;
		char *v = mc_conf_unquote(cases[i].in, &cut, why, sizeof(why));

		cr_assert_not_null(v, "%s: %s", cases[i].in, why);
		cr_expect_str_eq(v, cases[i].out, "in: %s", cases[i].in);
		cr_expect_eq(cut, cases[i].cut, "cut for: %s", cases[i].in);
		free(v);
	}
}

Test(config, unquote_errors)
{
	char why[200];
	int cut;

	cr_assert_null(mc_conf_unquote("\"open", &cut, why, sizeof(why)));
	cr_assert(strstr(why, "unterminated") != NULL, "%s", why);
	cr_assert_null(mc_conf_unquote("\"a\\qb\"", &cut, why, sizeof(why)));
	cr_assert(strstr(why, "unknown escape '\\q'") != NULL, "%s", why);
	expect_err("[core]\nlog_level = info\nstate = \"/tmp/x\n",
		   MC_EXIT_CONFIG,
		   "mercury.conf:3: key 'state': unterminated quoted value "
		   "(a value that starts with '\"' ends with one)");
}

/* The README's own example: the quotes are not part of the body. */
Test(config, quoted_values_in_a_file)
{
	struct mc_conf *c = load_ok(
		"[check \"api\"]\n"
		"type = http\n"
		"url = http://127.0.0.1:1/health\n"
		"body     = \"ready\"             # or body_regex = ...\n"
		"[check \"b\"]\n"
		"type = http\n"
		"url = \"http://127.0.0.1:1/h?a=1;b=2#x\"\n"
		"body = needle #frag\n"
		"[check \"e\"]\n"
		"type = exec\n"
		"command = /bin/echo \"a #b\" c # comment\n");
	const struct mc_conf_section *s = mc_conf_find(c, "check", "api");

	cr_assert_str_eq(mc_conf_str(s, "body"), "ready");
	s = mc_conf_find(c, "check", "b");
	cr_assert_str_eq(mc_conf_str(s, "url"), "http://127.0.0.1:1/h?a=1;b=2#x");
	cr_assert_str_eq(mc_conf_str(s, "body"), "needle");
	s = mc_conf_find(c, "check", "e");
	cr_assert_str_eq(mc_conf_str(s, "command"), "/bin/echo \"a #b\" c");
	/* Nothing there looks like a URL or secret cut short. */
	cr_assert_eq(c->n_warnings, 0, "%s", c->n_warnings ? c->warnings[0] : "");
	mc_conf_free(c);
}

Test(config, cut_url_or_secret_warns_without_the_value)
{
	struct mc_conf *c = load_ok(
		"[core]\n"
		"prometheus_url = http://127.0.0.1:9/api #frag\n"
		"redis_password_file = /etc/pw   # a path is no secret\n"
		"redis_url = \"redis://127.0.0.1:1/0#x\"   # quoted whole\n"
		"[check \"q\"]\n"
		"type = http\n"
		"url = http://127.0.0.1:1/x\n"
		"body = needle #frag\n");

	cr_assert_eq(c->n_warnings, 1);
	cr_assert_str_eq(c->warnings[0],
			 "mercury.conf:2: [core] 'prometheus_url' looks like a "
			 "URL and an inline comment (' #' or ' ;') cut it; put "
			 "the whole value in double quotes to keep '#' and ';'");
	cr_assert_null(strstr(c->warnings[0], "127.0.0.1"));
	mc_conf_free(c);
}

/* Sections are found by a hash: many of them load, and a duplicate far
 * down is still found, naming the first one's line. */
Test(config, many_sections)
{
	struct mc_buf b = { 0 };
	struct mc_err err;
	struct mc_conf *c;
	const struct mc_conf_section *s;
	char *want;

	for (int i = 0; i < 20000; i++)
		mc_buf_printf(&b, "[check \"c%d\"]\ntype = memory\n", i);
	c = load_ok(b.data);
	cr_assert_eq(c->n_sections, 20001);
	s = mc_conf_find(c, "check", "c19999");
	cr_assert_not_null(s);
	cr_assert_str_eq(s->source, "mercury.conf:39999");
	mc_conf_free(c);
	mc_buf_puts(&b, "[check \"c7\"]\ntype = memory\n");
	mc_err_clear(&err);
	cr_assert_null(mc_conf_load_string(b.data, "mercury.conf", NULL, 0,
					   &err));
	want = mc_asprintf("mercury.conf:40001: duplicate section "
			   "[check \"c7\"] (first at line 15)");
	cr_assert_str_eq(err.msg, want);
	free(want);
	mc_buf_release(&b);
}

/* Found by fuzz_config_value: an unknown escape after other escapes freed
 * a buffer that was not yet a string. */
Test(config, unquote_bad_escape_after_others)
{
	char why[200];
	int cut;

	cr_assert_null(mc_conf_unquote("\"a \\;x\\n\\t\"  # c", &cut, why,
				       sizeof(why)));
	cr_assert(strstr(why, "unknown escape '\\;'") != NULL, "%s", why);
}
