/*
 * test_job.c - [job] definitions, recorded runs and verdicts (lib/job.c),
 * the output tail (lib/job_run.c). Verdicts are judged at chosen instants
 * against runs recorded at known times, so each one is known in advance.
 */
#include <criterion/criterion.h>

#include "testlib.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "check.h"
#include "health.h"
#include "job.h"
#include "job_run.h"
#include "mc.h"
#include "state.h"

static char dir[MC_TEST_DIR_LEN];
static struct mc_state *st;
static struct mc_conf *conf;

static void load(const char *text)
{
	struct mc_err err = { 0 };

	mc_conf_free(conf);
	conf = mc_conf_load_string(text, "job.conf", NULL, 0, &err);
	cr_assert_not_null(conf, "%s", err.msg);
}

static void setup(void)
{
	struct mc_err err = { 0 };
	char *path;

	mc_test_dir(dir);
	path = mc_asprintf("%s/state.db", dir);
	st = mc_state_open(path, &err);
	free(path);
	cr_assert_not_null(st, "%s", err.msg);
	conf = NULL;
}

static void teardown(void)
{
	mc_state_close(st);
	mc_conf_free(conf);
	mc_test_rmtree(dir);
}

static double T(const char *s)
{
	double t;

	cr_assert_eq(mc_parse_rfc3339(s, strlen(s), &t), 0, "%s", s);
	return t;
}

static void def_of(const char *name, struct mc_job_def *d)
{
	const struct mc_conf_section *s = mc_conf_find(conf, "job", name);
	const char *key = NULL;
	char why[256];

	cr_assert_not_null(s, "%s", name);
	cr_assert_eq(mc_job_def_from_section(s, d, &key, why, sizeof(why)), 0,
		     "%s", why);
}

/* A finished run recorded at start..end. */
static int64_t record(const char *job, double start, double end,
		      const char *status, int code)
{
	struct mc_job_rec rec = { job, "cmd", "cid", start };
	struct mc_err err = { 0 };
	int64_t id;

	cr_assert_eq(mc_job_run_begin(st, &rec, &id, &err), 0, "%s", err.msg);
	if (end > 0)
		cr_assert_eq(mc_job_run_end(st, id, status, code, 0, end, "out",
					    3, 3, NULL, &err), 0, "%s",
			     err.msg);
	return id;
}

static void seen(const char *job, double when)
{
	char *sql = mc_asprintf("INSERT OR REPLACE INTO job_seen VALUES "
				"('%s', %.3f)", job, when);
	struct mc_err err = { 0 };

	cr_assert_eq(mc_state_exec(st, sql, &err), 0, "%s", err.msg);
	free(sql);
}

static int verdict_at(const char *name, const char *at, int *status)
{
	struct mc_job_def d;
	struct mc_job_status s;
	struct mc_err err = { 0 };
	int v;

	def_of(name, &d);
	cr_assert_eq(mc_job_evaluate(st, &d, T(at), &s, &err), 0, "%s",
		     err.msg);
	v = s.verdict;
	if (status)
		*status = s.status;
	mc_job_status_release(&s);
	mc_job_def_release(&d);
	return v;
}

TestSuite(job, .init = setup, .fini = teardown);

Test(job, definition_keys_and_defaults)
{
	struct mc_job_def d;

	load("[job \"a\"]\ncommand = /bin/echo \"two words\" x\n"
	     "schedule = 0 2 * * *\nsuccess_codes = 0, 3 7\nnotify = ops pager\n"
	     "overlap = wait\nkeep_output = 1KiB\ntimeout = 2h\n"
	     "[job \"b\"]\nevery = 15m\nnotify = true\n");
	def_of("a", &d);
	cr_expect_str_eq(d.argv[1], "two words");
	cr_expect_eq(d.grace_ms, 600000);
	cr_expect_eq(d.kill_grace_ms, 10000);
	cr_expect_eq(d.keep_output, 1024);
	cr_expect_eq(d.timeout_ms, 7200000);
	cr_expect_eq(d.overlap, MC_JOB_WAIT);
	cr_expect_eq(d.notify, 2);
	cr_expect_str_eq(d.notify_names[1], "pager");
	cr_expect(mc_job_success_code(&d, 3) && mc_job_success_code(&d, 7) &&
		  !mc_job_success_code(&d, 1));
	mc_job_def_release(&d);
	def_of("b", &d);
	cr_expect_eq(d.every_ms, 900000);
	cr_expect_eq(d.notify, 1);
	cr_expect_eq(d.overlap, MC_JOB_SKIP);
	cr_expect_eq(d.keep_output, 65536);
	cr_expect(mc_job_success_code(&d, 0));
	mc_job_def_release(&d);
}

Test(job, bad_sections_are_config_errors)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "[job \"x\"]\nschedule = 61 * * * *\n",
		  "job.conf:2: [job \"x\"] schedule: minute: 61" },
		{ "[job \"x\"]\nschedule = @daily\nevery = 1h\n",
		  "schedule or every" },
		{ "[job \"x\"]\nsuccess_codes = 0 256\n", "success_codes" },
		{ "[job \"x\"]\noverlap = sometimes\n", "overlap" },
		{ "[job \"x\"]\ncommand = \"unterminated\n", "command" },
		{ "[job \"x\"]\nschedul = @daily\n", "did you mean 'schedule'" },
	};

	for (size_t i = 0; i < MC_ARRAY_LEN(cases); i++) {
		struct mc_err err = { 0 };
		struct mc_conf *c = mc_conf_load_string(cases[i].text,
							"job.conf", NULL, 0,
							&err);

		cr_expect_null(c, "[%s]", cases[i].text);
		mc_conf_free(c);
		cr_expect_eq(err.code, MC_EXIT_CONFIG);
		cr_expect(strstr(err.msg, cases[i].want) != NULL, "'%s' lacks "
			  "'%s'", err.msg, cases[i].want);
	}
}

Test(job, overdue_after_grace_only)
{
	int status;

	load("[job \"d\"]\nschedule = CRON_TZ=UTC 0 2 * * *\ngrace = 30m\n");
	seen("d", T("2026-01-01T00:00:00Z"));
	record("d", T("2026-01-05T02:00:01Z"), T("2026-01-05T02:10:00Z"), "ok",
	       0);
	/* the 6th's start is due at 02:00, overdue once 02:30 passes */
	cr_expect_eq(verdict_at("d", "2026-01-06T02:29:00Z", &status),
		     MC_JOB_OK);
	cr_expect_eq(verdict_at("d", "2026-01-06T02:31:00Z", &status),
		     MC_JOB_OVERDUE);
	cr_expect_eq(status, MC_ST_CRITICAL);
	/* a start a few seconds early counts */
	record("d", T("2026-01-06T01:59:30Z"), T("2026-01-06T02:05:00Z"), "ok",
	       0);
	cr_expect_eq(verdict_at("d", "2026-01-06T02:31:00Z", NULL), MC_JOB_OK);
	/* a skipped start counts: cron did start it */
	{
		struct mc_job_rec rec = { "d", "cmd", "cid",
					  T("2026-01-07T02:00:00Z") };
		struct mc_err err = { 0 };
		int64_t id;

		cr_assert_eq(mc_job_run_skipped(st, &rec, "busy", &id, &err), 0);
	}
	cr_expect_eq(verdict_at("d", "2026-01-07T03:00:00Z", NULL), MC_JOB_OK);
}

Test(job, new_job_not_overdue_for_starts_before_it_was_seen)
{
	load("[job \"n\"]\nschedule = CRON_TZ=UTC 0 2 * * *\ngrace = 30m\n");
	seen("n", T("2026-01-06T12:00:00Z"));
	cr_expect_eq(verdict_at("n", "2026-01-06T23:00:00Z", NULL), MC_JOB_OK);
	cr_expect_eq(verdict_at("n", "2026-01-07T02:31:00Z", NULL),
		     MC_JOB_OVERDUE);
}

Test(job, every_interval)
{
	load("[job \"e\"]\nevery = 1h\ngrace = 5m\n");
	seen("e", T("2026-01-01T00:00:00Z"));
	record("e", T("2026-01-06T10:00:00Z"), T("2026-01-06T10:01:00Z"), "ok",
	       0);
	cr_expect_eq(verdict_at("e", "2026-01-06T11:04:00Z", NULL), MC_JOB_OK);
	cr_expect_eq(verdict_at("e", "2026-01-06T11:06:00Z", NULL),
		     MC_JOB_OVERDUE);
}

Test(job, failed_interrupted_running_late)
{
	int status;
	struct mc_job_rec rec = { "r", "cmd", "cid", T("2026-01-06T10:00:00Z") };
	struct mc_err err = { 0 };
	int64_t id;

	load("[job \"f\"]\n[job \"i\"]\n[job \"r\"]\ntimeout = 1h\n");
	record("f", T("2026-01-06T10:00:00Z"), T("2026-01-06T10:01:00Z"),
	       "failed", 3);
	cr_expect_eq(verdict_at("f", "2026-01-06T11:00:00Z", &status),
		     MC_JOB_FAILED);
	cr_expect_eq(status, MC_ST_CRITICAL);
	record("i", T("2026-01-06T10:00:00Z"), T("2026-01-06T10:01:00Z"),
	       "interrupted", -1);
	cr_expect_eq(verdict_at("i", "2026-01-06T11:00:00Z", &status),
		     MC_JOB_FAILED);
	cr_expect_eq(status, MC_ST_WARNING);
	/* recorded by this live process: running, then past its timeout */
	cr_assert_eq(mc_job_run_begin(st, &rec, &id, &err), 0, "%s", err.msg);
	cr_expect_eq(verdict_at("r", "2026-01-06T10:30:00Z", &status),
		     MC_JOB_RUNNING);
	cr_expect_eq(status, MC_ST_OK);
	cr_expect_eq(verdict_at("r", "2026-01-06T11:30:00Z", &status),
		     MC_JOB_LATE);
	cr_expect_eq(status, MC_ST_CRITICAL);
	/* a success after a failure is ok again */
	record("f", T("2026-01-06T12:00:00Z"), T("2026-01-06T12:01:00Z"), "ok",
	       0);
	cr_expect_eq(verdict_at("f", "2026-01-06T13:00:00Z", NULL), MC_JOB_OK);
}

Test(job, runs_and_output_round_trip)
{
	struct mc_job_run r, *runs = NULL;
	size_t n = 0;
	struct mc_err err = { 0 };
	int64_t a = record("h", 100, 101, "ok", 0);
	int64_t b = record("h", 200, 203, "failed", 2);

	cr_assert_eq(mc_job_runs(st, "h", 0, 0, &runs, &n, &err), 0);
	cr_assert_eq(n, 2);
	cr_expect_eq(runs[0].id, b);
	cr_expect_eq(runs[1].id, a);
	cr_expect_eq(runs[0].exit_code, 2);
	mc_job_runs_free(runs, n);
	cr_assert_eq(mc_job_run_get(st, "h", 0, &r, &err), 1);
	cr_expect_eq(r.id, b);
	cr_expect_eq(r.output_len, 3);
	cr_expect(memcmp(r.output, "out", 3) == 0);
	mc_job_run_release(&r);
	cr_expect_eq(mc_job_run_get(st, "h", 999, &r, &err), 0);
	mc_job_run_release(&r);
}

Test(job, tail_keeps_last_bytes)
{
	struct mc_job_tail t;
	const unsigned char *p;
	size_t len;
	char chunk[16];

	mc_job_tail_init(&t, 10);
	for (int i = 0; i < 100; i++) {
		snprintf(chunk, sizeof(chunk), "%06d", i);
		mc_job_tail_add(&t, chunk, 6);
	}
	p = mc_job_tail_data(&t, &len);
	cr_assert_eq(len, 10);
	cr_expect(memcmp(p, "0098000099", 10) == 0, "%.10s", p);
	cr_expect_eq(t.total, 600);
	mc_job_tail_add(&t, "0123456789abcdef", 16);
	p = mc_job_tail_data(&t, &len);
	cr_expect(len == 10 && memcmp(p, "6789abcdef", 10) == 0);
	mc_job_tail_free(&t);
	mc_job_tail_init(&t, 0);
	mc_job_tail_add(&t, "abc", 3);
	mc_job_tail_data(&t, &len);
	cr_expect_eq(len, 0);
	cr_expect_eq(t.total, 3);
	mc_job_tail_free(&t);
}

Test(job, escape_control_and_invalid_utf8)
{
	static const struct {
		const char *in;
		size_t n;
		const char *want;
	} cases[] = {
		{ "plain\ttext\n", 11, "plain\ttext\n" },
		{ "\x1b[2J", 4, "\\x1B[2J" },
		{ "caf\xc3\xa9", 5, "caf\xc3\xa9" },
		{ "\xff\xfe", 2, "\\xFF\\xFE" },
		{ "a\\b", 3, "a\\b" },	/* kept */
		{ "\r\x7f", 2, "\\x0D\\x7F" },
		{ "nul\0x", 5, "nul\\x00x" },
		{ "\xc2\x85", 2, "\\xC2\\x85" },		/* C1 control NEL */
		{ "\xe2\x82", 2, "\\xE2\\x82" },		/* cut short */
		{ "\xed\xa0\x80", 3, "\\xED\\xA0\\x80" },	/* surrogate */
	};

	for (size_t i = 0; i < MC_ARRAY_LEN(cases); i++) {
		char *got = mc_escape_lines(cases[i].in, cases[i].n);

		cr_expect_str_eq(got, cases[i].want, "case %zu", i);
		free(got);
	}
}

/* A job run only by name (its command after --, no section) is a job once
 * it has runs: job list NAME, history, log and the job check find it; a
 * name with neither a section nor runs is still a usage error. */
Test(job, select_known_takes_a_job_known_by_its_runs)
{
	const char *both[] = { "adhoc", "nightly", "adhoc" };
	const char *none[] = { "nosuch" };
	struct mc_job_def *d = NULL;
	size_t n = 0;
	struct mc_err err = { 0 };
	double now = mc_wall_now();

	load("[job \"nightly\"]\nschedule = @daily\n");
	cr_expect_eq(mc_job_select_known(conf, st, both, 1, &d, &n, &err), -1);
	cr_expect_eq(err.code, MC_EXIT_USAGE);
	record("adhoc", now - 60, now - 59, "failed", 3);
	cr_assert_eq(mc_job_select_known(conf, st, both, 3, &d, &n, &err), 0,
		     "%s", err.msg);
	cr_assert_eq(n, 2);
	cr_expect_str_eq(d[0].name, "nightly");
	cr_expect(d[0].configured);
	cr_expect_str_eq(d[1].name, "adhoc");
	cr_expect(!d[1].configured);
	cr_expect_null(d[1].cron);
	mc_job_defs_free(d, n);
	/* no names: the configured jobs only */
	cr_assert_eq(mc_job_select_known(conf, st, NULL, 0, &d, &n, &err), 0);
	cr_expect_eq(n, 1);
	mc_job_defs_free(d, n);
	memset(&err, 0, sizeof(err));
	cr_expect_eq(mc_job_select_known(conf, st, none, 1, &d, &n, &err), -1);
	cr_expect_eq(err.code, MC_EXIT_USAGE);
	cr_expect(strstr(err.msg, "nosuch") != NULL, "%s", err.msg);
}

/* The job check type gives the job's verdict (the check runs in the main
 * thread, on the state connection). */
Test(job, check_type_gives_the_verdict)
{
	struct mc_check c;
	struct mc_check_result r;
	struct mc_deadline dl = { 0 };
	struct mc_health_env env;
	double now = mc_wall_now();

	load("[job \"nightly\"]\nschedule = 0 * * * *\ngrace = 10m\n"
	     "[check \"n\"]\ntype = job\njob = nightly\n"
	     "[check \"x\"]\ntype = job\njob = nosuch\n"
	     "[check \"a\"]\ntype = job\njob = adhoc\n");
	record("nightly", now - 3 * 3600, now - 3 * 3600 + 5, "ok", 0);
	record("adhoc", now - 60, now - 59, "failed", 3);
	memset(&env, 0, sizeof(env));
	env.st = st;
	env.conf = conf;
	env.dl = &dl;
	memset(&c, 0, sizeof(c));
	c.name = "n";
	c.type = &mc_check_job;
	c.sec = mc_conf_find(conf, "check", "n");
	memset(&r, 0, sizeof(r));
	r.check = &c;
	cr_assert(mc_check_job.flags & MC_CHECK_MAIN);
	mc_check_job.run(&c, &env, &r);
	cr_expect_eq(r.status, MC_ST_CRITICAL, "%s", r.message);
	cr_expect(strstr(r.message, "job nightly: overdue") != NULL, "%s",
		  r.message);
	free(r.message);
	record("nightly", now - 60, now - 55, "ok", 0);
	memset(&r, 0, sizeof(r));
	mc_check_job.run(&c, &env, &r);
	cr_expect_eq(r.status, MC_ST_OK, "%s", r.message);
	free(r.message);
	c.sec = mc_conf_find(conf, "check", "x");
	memset(&r, 0, sizeof(r));
	mc_check_job.run(&c, &env, &r);
	cr_expect_eq(r.status, MC_ST_UNKNOWN, "%s", r.message);
	free(r.message);
	/* a job known only by its runs: its verdict, not unknown */
	c.sec = mc_conf_find(conf, "check", "a");
	memset(&r, 0, sizeof(r));
	mc_check_job.run(&c, &env, &r);
	cr_expect_eq(r.status, MC_ST_CRITICAL, "%s", r.message);
	cr_expect(strstr(r.message, "job adhoc: last run failed: exit 3") !=
		  NULL, "%s", r.message);
	free(r.message);
}

/* Every job for the textfile's mercuryctl_job.prom: the configured ones,
 * then those known only by runs, each once; their metrics judged in one
 * transaction, each family one group. */
Test(job, select_all_and_every_jobs_metrics)
{
	struct mc_job_def *d = NULL;
	struct mc_buf prom = { 0 };
	size_t n = 0;
	struct mc_err err = { 0 };
	double now = mc_wall_now();

	load("[job \"nightly\"]\nschedule = @daily\n[job \"hourly\"]\n"
	     "every = 1h\n");
	record("zeta", now - 60, now - 59, "failed", 3);
	record("nightly", now - 50, now - 49, "ok", 0);
	record("alpha", now - 40, now - 39, "ok", 0);
	record("zeta", now - 30, now - 29, "ok", 0);
	cr_assert_eq(mc_job_select_all(conf, st, &d, &n, &err), 0, "%s",
		     err.msg);
	cr_assert_eq(n, 4);
	cr_expect_str_eq(d[0].name, "nightly");
	cr_expect_str_eq(d[1].name, "hourly");
	cr_expect_str_eq(d[2].name, "alpha");
	cr_expect(!d[2].configured);
	cr_expect_str_eq(d[3].name, "zeta");
	mc_job_defs_free(d, n);
	cr_assert_eq(mc_job_metrics_all(conf, st, now, &prom, &err), 0, "%s",
		     err.msg);
	cr_expect(strstr(prom.data, "mercury_job_last_exit_code{job=\"zeta\"} 0\n")
		  != NULL, "%s", prom.data);
	cr_expect(strstr(prom.data, "mercury_job_running{job=\"hourly\"} 0\n")
		  != NULL, "%s", prom.data);
	/* one TYPE line per family: the samples of a family stay together */
	{
		const char *p = prom.data;
		int types = 0;

		while ((p = strstr(p, "# TYPE ")) != NULL) {
			types++;
			p++;
		}
		cr_expect_eq(types, 5, "%s", prom.data);
	}
	mc_buf_release(&prom);
}
