/* test_health.c - the health engine (lib/health.c), the helpers every check
 * type uses (lib/check.c), the registry (lib/check_types.c) and the
 * renderings of a run (lib/health_report.c), with check types of the
 * test's own whose behaviour it controls. */
#include <criterion/criterion.h>

#include "testlib.h"

#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health.h"

/* ---- check types of the test's own -------------------------------------- */

/* Sets the status the check's name asks for: "ok-…", "warn-…", "crit-…",
 * "unknown-…". */
static void run_named(const struct mc_check *c, const struct mc_health_env *env,
		      struct mc_check_result *r)
{
	static const char *const prefixes[] = { "ok", "warn", "crit",
						"unknown" };

	(void)env;
	for (int st = 0; st < 4; st++)
		if (strncmp(c->name, prefixes[st], strlen(prefixes[st])) == 0) {
			mc_check_set(r, st, "%s says %s", c->name,
				     mc_status_name(st));
			return;
		}
	mc_check_set(r, MC_ST_UNKNOWN, "no such status");
}

static const struct mc_check_type named_type = {
	.name = "named",
	.run = run_named,
};

/* A check that blocks until the test lets it go. */
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_open;

static void run_blocked(const struct mc_check *c,
			const struct mc_health_env *env,
			struct mc_check_result *r)
{
	(void)c;
	(void)env;
	pthread_mutex_lock(&gate_mu);
	while (!gate_open)
		pthread_cond_wait(&gate_cv, &gate_mu);
	pthread_mutex_unlock(&gate_mu);
	mc_check_set(r, MC_ST_OK, "let go");
}

static const struct mc_check_type blocked_type = {
	.name = "blocked",
	.run = run_blocked,
};

/* A check that runs in the main thread and records that it did. */
static pthread_t main_thread;
static int ran_in_main;

static void run_main(const struct mc_check *c, const struct mc_health_env *env,
		     struct mc_check_result *r)
{
	(void)c;
	ran_in_main = pthread_equal(pthread_self(), main_thread) &&
		      env->st == (struct mc_state *)&ran_in_main;
	mc_check_set(r, MC_ST_OK, "main");
}

static const struct mc_check_type main_type = {
	.name = "mainthread",
	.flags = MC_CHECK_MAIN,
	.run = run_main,
};

/* Adds a check as mc_health_select() would have made it. */
static void add(struct mc_health *h, const struct mc_check_type *t,
		const char *name, int critical, int64_t timeout_ms)
{
	struct mc_check *c;

	h->checks = mc_realloc(h->checks, (h->n + 1) * sizeof(*h->checks));
	c = &h->checks[h->n++];
	memset(c, 0, sizeof(*c));
	c->name = mc_strdup(name);
	c->type = t;
	c->critical = critical;
	c->timeout_ms = timeout_ms;
}

/* Gives the checks their results, as mc_health_select() does last. */
static void ready(struct mc_health *h)
{
	h->results = mc_calloc(h->n ? h->n : 1, sizeof(*h->results));
	for (size_t i = 0; i < h->n; i++)
		h->results[i].check = &h->checks[i];
}

static int run_status_of(const char *const *names, const int *critical,
			 size_t n)
{
	struct mc_health h = { 0 };
	struct mc_health_env env = { 0 };
	int status;

	for (size_t i = 0; i < n; i++)
		add(&h, &named_type, names[i], critical[i], 2000);
	ready(&h);
	mc_health_run(&h, &env);
	for (size_t i = 0; i < n; i++) {
		cr_assert_not_null(h.results[i].message);
		cr_assert_geq(h.results[i].latency_ms, 0);
	}
	status = h.status;
	mc_health_release(&h);
	return status;
}

/* ---- names --------------------------------------------------------------- */

Test(health, status_names)
{
	cr_assert_str_eq(mc_status_name(MC_ST_OK), "ok");
	cr_assert_str_eq(mc_status_name(MC_ST_WARNING), "warning");
	cr_assert_str_eq(mc_status_name(MC_ST_CRITICAL), "critical");
	cr_assert_str_eq(mc_status_name(MC_ST_UNKNOWN), "unknown");
	cr_assert_str_eq(mc_status_name(4), "unknown");
	cr_assert_str_eq(mc_status_name(-1), "unknown");
	cr_assert_str_eq(mc_run_status_name(MC_RUN_OK), "ok");
	cr_assert_str_eq(mc_run_status_name(MC_RUN_DEGRADED), "degraded");
	cr_assert_str_eq(mc_run_status_name(MC_RUN_UNAVAILABLE), "unavailable");
	cr_assert_str_eq(mc_run_status_name(MC_RUN_UNKNOWN), "unknown");
	cr_assert_str_eq(mc_run_status_name(7), "unknown");
}

Test(health, status_words)
{
	cr_assert_str_eq(mc_status_word(MC_ST_OK), "OK");
	cr_assert_str_eq(mc_status_word(MC_ST_WARNING), "WARNING");
	cr_assert_str_eq(mc_status_word(MC_ST_CRITICAL), "CRITICAL");
	cr_assert_str_eq(mc_status_word(MC_ST_UNKNOWN), "UNKNOWN");
	cr_assert_str_eq(mc_status_word(4), "UNKNOWN");
	cr_assert_str_eq(mc_status_word(-1), "UNKNOWN");
	cr_assert_str_eq(mc_run_status_word(MC_RUN_OK), "OK");
	cr_assert_str_eq(mc_run_status_word(MC_RUN_DEGRADED), "DEGRADED");
	cr_assert_str_eq(mc_run_status_word(MC_RUN_UNAVAILABLE), "UNAVAILABLE");
	cr_assert_str_eq(mc_run_status_word(MC_RUN_UNKNOWN), "UNKNOWN");
	cr_assert_str_eq(mc_run_status_word(7), "UNKNOWN");
}

/* ---- what a check type's code uses -------------------------------------- */

Test(health, check_set_replaces_the_message)
{
	struct mc_check c = { .name = "x" };
	struct mc_check_result r = { .check = &c };

	mc_check_set(&r, MC_ST_WARNING, "first %d", 1);
	cr_assert_str_eq(r.message, "first 1");
	cr_assert_eq(r.status, MC_ST_WARNING);
	mc_check_set(&r, MC_ST_OK, "second");
	cr_assert_str_eq(r.message, "second");
	cr_assert_eq(r.status, MC_ST_OK);
	free(r.message);
}

Test(health, check_value_against_warn_and_crit)
{
	struct mc_check c = { .name = "q" };
	struct mc_check_result r = { .check = &c };

	cr_assert_eq(mc_range_parse("10", &c.warn, NULL), 0);
	cr_assert_eq(mc_range_parse("20", &c.crit, NULL), 0);
	mc_check_value(&r, 5, "", "depth");
	cr_assert_eq(r.status, MC_ST_OK);
	cr_assert_str_eq(r.message, "depth 5");
	cr_assert(r.has_value);
	cr_assert_float_eq(r.value, 5, 1e-9);
	mc_check_value(&r, 12, "", "depth");
	cr_assert_eq(r.status, MC_ST_WARNING);
	cr_assert_str_eq(r.message, "depth 12 >= warn 10");
	mc_check_value(&r, 25.5, "%", "used");
	cr_assert_eq(r.status, MC_ST_CRITICAL);
	cr_assert_str_eq(r.message, "used 25.5% >= crit 20");
	cr_assert_str_eq(r.unit, "%");
	/* Ranges read as Nagios ranges. */
	cr_assert_eq(mc_range_parse("10:20", &c.crit, NULL), 0);
	memset(&c.warn, 0, sizeof(c.warn));
	mc_check_value(&r, 30, "", "v");
	cr_assert_eq(r.status, MC_ST_CRITICAL);
	cr_assert_str_eq(r.message, "v 30 outside crit 10:20");
	cr_assert_eq(mc_range_parse("@10:20", &c.crit, NULL), 0);
	mc_check_value(&r, 15, "", "v");
	cr_assert_eq(r.status, MC_ST_CRITICAL);
	cr_assert_str_eq(r.message, "v 15 inside crit 10:20");
	free(r.message);
}

Test(health, check_latency_against_the_section)
{
	struct mc_err err = { 0 };
	struct mc_conf *conf = mc_conf_load_string(
		"[check \"t\"]\ntype = tcp\naddress = 127.0.0.1:1\n"
		"latency_warn = 100ms\nlatency_crit = 1s\n",
		"mercury.conf", NULL, 0, &err);
	struct mc_check c = { .name = "t" };
	char why[64];

	cr_assert_not_null(conf, "%s", err.msg);
	c.sec = mc_conf_find(conf, "check", "t");
	cr_assert_eq(mc_check_latency(&c, 99.9, why, sizeof(why)), MC_ST_OK);
	cr_assert_str_eq(why, "");
	cr_assert_eq(mc_check_latency(&c, 100, why, sizeof(why)),
		     MC_ST_WARNING);
	cr_assert_str_eq(why, ">= latency_warn 100ms");
	cr_assert_eq(mc_check_latency(&c, 2500, why, sizeof(why)),
		     MC_ST_CRITICAL);
	cr_assert_str_eq(why, ">= latency_crit 1s");
	mc_conf_free(conf);
}

/* ---- the registry ------------------------------------------------------- */

Test(health, registry_and_schema_agree)
{
	const struct mc_conf_key *type_key = &mc_check_schema.keys[0];
	size_t n = 0;

	cr_assert_str_eq(type_key->name, "type");
	for (size_t i = 0; mc_check_types[i] != NULL; i++, n++) {
		const struct mc_check_type *t = mc_check_types[i];
		char word[64];

		cr_assert_eq(mc_check_type_find(t->name), t);
		snprintf(word, sizeof(word), "|%s|", t->name);
		{
			char *all = mc_asprintf("|%s|", type_key->choices);

			cr_assert_not_null(strstr(all, word), "%s not in %s",
					   t->name, type_key->choices);
			free(all);
		}
		/* Each of its keys is in the schema, for it. */
		for (size_t k = 0; t->keys && t->keys[k].name; k++) {
			int found = 0;

			for (size_t s = 0; mc_check_schema.keys[s].name; s++) {
				const struct mc_conf_key *sk =
					&mc_check_schema.keys[s];
				char *types;

				if (strcmp(sk->name, t->keys[k].name) != 0 ||
				    sk->types == NULL)
					continue;
				types = mc_asprintf("|%s|", sk->types);
				found |= strstr(types, word) != NULL;
				free(types);
			}
			cr_assert(found, "%s.%s not in the schema", t->name,
				  t->keys[k].name);
		}
	}
	cr_assert_geq(n, 10);
	cr_assert_null(mc_check_type_find("nope"));
	cr_assert_null(mc_check_type_find(NULL));
}

Test(health, required_keys_come_from_the_type)
{
	static const char *const cases[][2] = {
		{ "http", "url" }, { "tcp", "address" },
		{ "redis_queue", "queue" }, { "sqlite", "path" },
		{ "exec", "command" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mc_err err = { 0 };
		char *text = mc_asprintf("[check \"x\"]\ntype = %s\n",
					 cases[i][0]);
		char *want = mc_asprintf("a check of type '%s' needs '%s'",
					 cases[i][0], cases[i][1]);
		struct mc_conf *c = mc_conf_load_string(text, "m.conf", NULL,
							 0, &err);

		cr_assert_null(c, "%s loaded without %s", cases[i][0],
			       cases[i][1]);
		cr_assert_eq(err.code, MC_EXIT_CONFIG);
		cr_assert_not_null(strstr(err.msg, want), "%s", err.msg);
		cr_assert_not_null(strstr(err.msg, "m.conf:2:"), "%s", err.msg);
		free(want);
		free(text);
	}
}

/* ---- selection ---------------------------------------------------------- */

Test(health, select_defaults_when_none_configured)
{
	struct mc_err err = { 0 };
	struct mc_conf *conf = mc_conf_load_string("", "m.conf", NULL, 0, &err);
	struct mc_health h;

	cr_assert_not_null(conf, "%s", err.msg);
	cr_assert_eq(mc_health_select(conf, NULL, NULL, 0, 0, &h, &err), 0,
		     "%s", err.msg);
	cr_assert_eq(h.n, 3);
	cr_assert_str_eq(h.checks[0].name, "state");
	cr_assert_eq(h.checks[0].type, &mc_check_state);
	cr_assert(h.checks[0].critical);
	cr_assert_str_eq(h.checks[1].name, "disk");
	cr_assert_not(h.checks[1].critical);
	cr_assert_not_null(h.checks[1].path);
	cr_assert_eq(h.checks[1].timeout_ms, 2000);
	cr_assert_str_eq(h.checks[2].name, "memory");
	/* The built-in thresholds are the keys' defaults: 90 and 95. */
	for (size_t i = 1; i < 3; i++) {
		char w[48], k[48];

		mc_range_format(&h.checks[i].warn, w, sizeof(w));
		mc_range_format(&h.checks[i].crit, k, sizeof(k));
		cr_assert_str_eq(w, "90");
		cr_assert_str_eq(k, "95");
	}
	for (size_t i = 0; i < h.n; i++)
		cr_assert_eq(h.results[i].check, &h.checks[i]);
	/* Only the critical one. */
	mc_health_release(&h);
	cr_assert_eq(mc_health_select(conf, NULL, NULL, 0, 1, &h, &err), 0);
	cr_assert_eq(h.n, 1);
	cr_assert_str_eq(h.checks[0].name, "state");
	mc_health_release(&h);
	cr_assert_eq(h.n, 0);
	cr_assert_null(h.checks);
	mc_conf_free(conf);
}

Test(health, select_by_name_in_config_order)
{
	struct mc_err err = { 0 };
	struct mc_conf *conf = mc_conf_load_string(
		"[check \"root\"]\ntype = disk\npath = /\nwarn = 70\n"
		"critical = true\ntimeout = 5s\n"
		"[check \"mem\"]\ntype = memory\n"
		"[check \"api\"]\ntype = tcp\naddress = 127.0.0.1:1\n",
		"m.conf", NULL, 0, &err);
	const char *names[] = { "api", "root" };
	const char *typo[] = { "roto" };
	struct mc_health h;
	char w[48];

	cr_assert_not_null(conf, "%s", err.msg);
	cr_assert_eq(mc_health_select(conf, NULL, names, 2, 0, &h, &err), 0,
		     "%s", err.msg);
	cr_assert_eq(h.n, 2);
	cr_assert_str_eq(h.checks[0].name, "root");
	cr_assert_str_eq(h.checks[0].path, "/");
	cr_assert(h.checks[0].critical);
	cr_assert_eq(h.checks[0].timeout_ms, 5000);
	mc_range_format(&h.checks[0].warn, w, sizeof(w));
	cr_assert_str_eq(w, "70");
	cr_assert_str_eq(h.checks[1].name, "api");
	cr_assert_eq(h.checks[1].type, &mc_check_tcp);
	cr_assert_not(h.checks[1].warn.set);
	mc_health_release(&h);

	cr_assert_eq(mc_health_select(conf, NULL, typo, 1, 0, &h, &err), -1);
	cr_assert_eq(err.code, MC_EXIT_USAGE);
	cr_assert_str_eq(err.msg, "health: no check named 'roto' is "
			 "configured (did you mean 'root'?)");
	cr_assert_eq(h.n, 0);
	mc_conf_free(conf);
}

/* ---- running ------------------------------------------------------------ */

Test(health, run_status_from_the_results)
{
	const char *ok[] = { "ok-a", "ok-b" };
	const char *warn[] = { "ok-a", "warn-b" };
	const char *crit_noncritical[] = { "ok-a", "crit-b" };
	const char *unknown[] = { "ok-a", "unknown-b" };
	const char *unknown_and_warn[] = { "unknown-a", "warn-b" };
	const int none[] = { 0, 0 }, second[] = { 0, 1 };

	cr_assert_eq(run_status_of(ok, none, 2), MC_RUN_OK);
	cr_assert_eq(run_status_of(warn, none, 2), MC_RUN_DEGRADED);
	/* A warning of a critical check only degrades. */
	cr_assert_eq(run_status_of(warn, second, 2), MC_RUN_DEGRADED);
	cr_assert_eq(run_status_of(crit_noncritical, none, 2), MC_RUN_DEGRADED);
	cr_assert_eq(run_status_of(crit_noncritical, second, 2),
		     MC_RUN_UNAVAILABLE);
	cr_assert_eq(run_status_of(unknown, none, 2), MC_RUN_UNKNOWN);
	/* Something failed: degraded wins over unknown. */
	cr_assert_eq(run_status_of(unknown_and_warn, none, 2),
		     MC_RUN_DEGRADED);
}

Test(health, run_uses_the_main_thread_for_state_checks)
{
	struct mc_health h = { 0 };
	struct mc_health_env env = { 0 };

	main_thread = pthread_self();
	ran_in_main = 0;
	env.st = (struct mc_state *)&ran_in_main;	/* only compared */
	add(&h, &main_type, "m", 0, 2000);
	add(&h, &named_type, "ok-w", 0, 2000);
	ready(&h);
	mc_health_run(&h, &env);
	cr_assert(ran_in_main, "an MC_CHECK_MAIN check ran elsewhere");
	cr_assert_str_eq(h.results[0].message, "main");
	cr_assert_str_eq(h.results[1].message, "ok-w says ok");
	cr_assert_eq(h.status, MC_RUN_OK);
	cr_assert_geq(h.duration_ms, 0);
	cr_assert_gt(h.started, 0);
	mc_health_release(&h);
}

Test(health, run_abandons_an_overrunning_check, .timeout = 30)
{
	struct mc_health h = { 0 };
	struct mc_health_env env = { 0 };
	double t0;

	gate_open = 0;
	add(&h, &blocked_type, "stuck", 1, 50);
	add(&h, &named_type, "ok-quick", 0, 2000);
	ready(&h);
	mc_health_run(&h, &env);
	cr_assert_eq(h.results[0].status, MC_ST_CRITICAL);
	cr_assert_str_eq(h.results[0].message, "timed out after 50 ms (still "
			 "running; abandoned)");
	cr_assert_geq(h.results[0].latency_ms, 50);
	cr_assert_eq(h.results[1].status, MC_ST_OK);
	cr_assert_eq(h.status, MC_RUN_UNAVAILABLE);
	/* The worker still runs: the configuration must outlive it. */
	cr_assert_eq(mc_health_abandoned(), 1);
	mc_health_release(&h);
	pthread_mutex_lock(&gate_mu);
	gate_open = 1;
	pthread_cond_broadcast(&gate_cv);
	pthread_mutex_unlock(&gate_mu);
	/* It ends once let go (bounded by the test's timeout). */
	t0 = mc_mono_now();
	while (mc_health_abandoned() != 0 && mc_mono_now() - t0 < 20)
		mc_sleep_ms(5);
	cr_assert_eq(mc_health_abandoned(), 0, "the worker never ended");
}

Test(health, run_past_the_deadline_starts_nothing)
{
	struct mc_health h = { 0 };
	struct mc_deadline dl;
	struct mc_health_env env = { .dl = &dl };

	dl.at = mc_mono_now() - 1;	/* passed */
	add(&h, &named_type, "ok-a", 0, 2000);
	add(&h, &main_type, "m", 0, 2000);
	ready(&h);
	mc_health_run(&h, &env);
	for (size_t i = 0; i < h.n; i++) {
		cr_assert_eq(h.results[i].status, MC_ST_UNKNOWN);
		cr_assert_str_eq(h.results[i].message,
				 "not run: the run's deadline passed");
	}
	cr_assert_eq(h.status, MC_RUN_UNKNOWN);
	mc_health_release(&h);
}

/* ---- recording and reports ---------------------------------------------- */

Test(health, record_writes_one_row_per_check)
{
	char dir[MC_TEST_DIR_LEN];
	char *path = mc_asprintf("%s/state.db", mc_test_dir(dir));
	struct mc_err err = { 0 };
	struct mc_state *st = mc_state_open(path, &err);
	struct mc_health h = { 0 };
	struct mc_health_env env = { 0 };
	sqlite3_stmt *s = NULL;
	int64_t run_id = 0;
	int rows = 0;

	cr_assert_not_null(st, "%s", err.msg);
	cr_assert_eq(mc_state_run_begin(st, "health", "", "cid", mc_wall_now(),
					&run_id, &err), 0, "%s", err.msg);
	add(&h, &named_type, "ok-a", 1, 2000);
	add(&h, &named_type, "warn-b", 0, 2000);
	ready(&h);
	mc_health_run(&h, &env);
	cr_assert_eq(mc_health_record(st, run_id, &h, &err), 0, "%s", err.msg);
	cr_assert_eq(sqlite3_prepare_v2(mc_state_db(st),
					"SELECT check_name, type, status, "
					"critical, message FROM check_results "
					"WHERE run_id = ? ORDER BY id", -1, &s,
					NULL), SQLITE_OK);
	sqlite3_bind_int64(s, 1, run_id);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const struct mc_check_result *r = &h.results[rows];

		cr_assert_lt(rows, 2);
		cr_assert_str_eq((const char *)sqlite3_column_text(s, 0),
				 r->check->name);
		cr_assert_str_eq((const char *)sqlite3_column_text(s, 1),
				 "named");
		cr_assert_str_eq((const char *)sqlite3_column_text(s, 2),
				 mc_status_name(r->status));
		cr_assert_eq(sqlite3_column_int(s, 3), r->check->critical);
		cr_assert_str_eq((const char *)sqlite3_column_text(s, 4),
				 r->message);
		rows++;
	}
	sqlite3_finalize(s);
	cr_assert_eq(rows, 2);
	mc_health_release(&h);
	mc_state_close(st);
	mc_test_rmtree(dir);
	free(path);
}

Test(health, report_renders_every_format)
{
	struct mc_health h = { 0 };
	struct mc_health_env env = { 0 };
	struct mc_report r;
	json_t *checks, *o;

	add(&h, &named_type, "ok-a", 0, 2000);
	add(&h, &named_type, "warn b", 0, 2000);
	ready(&h);
	mc_health_run(&h, &env);
	h.results[1].has_value = 1;
	h.results[1].value = 42;
	h.results[1].unit = "";
	mc_report_init(&r, 0);
	mc_health_report(&h, "cid-1", &r);

	cr_assert_str_eq(json_string_value(json_object_get(r.doc, "status")),
			 "degraded");
	cr_assert_str_eq(json_string_value(json_object_get(r.doc,
							   "correlation_id")),
			 "cid-1");
	checks = json_object_get(r.doc, "checks");
	cr_assert_eq(json_object_size(checks), 2);
	o = json_object_get(checks, "warn b");
	cr_assert_str_eq(json_string_value(json_object_get(o, "status")),
			 "warning");
	cr_assert_str_eq(json_string_value(json_object_get(o, "type")),
			 "named");
	cr_assert_float_eq(json_number_value(json_object_get(o, "value")), 42,
			   1e-9);
	cr_assert_null(json_object_get(json_object_get(checks, "ok-a"),
				       "value"));

	cr_assert_not_null(strstr(r.text.data, "health: degraded (2 checks"),
			   "%s", r.text.data);
	cr_assert_not_null(strstr(r.nagios, "HEALTH DEGRADED - 1 of 2 checks "
				  "warning: warn b warn b says warning |"),
			   "%s", r.nagios);
	/* A label with a space is quoted, Nagios's way. */
	cr_assert_not_null(strstr(r.nagios, " 'warn b_latency'="), "%s",
			   r.nagios);
	cr_assert_not_null(strstr(r.nagios, " 'warn b'=42"), "%s", r.nagios);
	cr_assert_not_null(strstr(r.prom.data, "mercury_check_status{check="
				  "\"warn b\",type=\"named\"} 1"), "%s",
			   r.prom.data);
	cr_assert_not_null(strstr(r.prom.data, "mercury_health_status 1"),
			   "%s", r.prom.data);
	mc_report_release(&r);
	mc_health_release(&h);
}
