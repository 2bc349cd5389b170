/*
 * test_coord.c - the one interface over the state file and the fleet
 * (lib/coord*.c): both backends give the same answers; degraded mode when
 * Redis goes away and back without a hand; fleet locks.
 *
 * Needs MC_TEST_REDIS_URL; the degraded-mode test starts, stops and
 * restarts a redis-server of its own on a free loopback port.
 */
#include <criterion/criterion.h>

#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "coord.h"
#include "fleet.h"
#include "log.h"
#include "redis_script.h"
#include "state.h"

struct host {
	char dir[MC_TEST_DIR_LEN];
	struct mc_conf *conf;
	struct mc_state *st;
	struct mc_coord *c;
};

/* A host with a state file of its own; fleet_url NULL: no [fleet]. */
static void host_open(struct host *h, const char *fleet_url,
		      const char *name, const char *prefix)
{
	struct mc_err err = { 0 };
	struct mc_coord_opts o = { .command = "test" };
	char *path, *text;

	mc_test_dir(h->dir);
	path = mc_asprintf("%s/state.db", h->dir);
	h->st = mc_state_open(path, &err);
	cr_assert_not_null(h->st, "%s", err.msg);
	free(path);
	text = fleet_url ?
	       mc_asprintf("[fleet]\nredis_url = %s\nname = %s\n"
			   "key_prefix = %s\nlease = 2s\n", fleet_url, name,
			   prefix) : mc_strdup("");
	h->conf = mc_conf_load_string(text, "test.conf", NULL, 0, &err);
	cr_assert_not_null(h->conf, "%s", err.msg);
	free(text);
	h->c = mc_coord_open(h->conf, h->st, &o, &err);
	cr_assert_not_null(h->c, "%s", err.msg);
}

/* A new run of the same host: the coordinator is chosen again. */
static void host_rerun(struct host *h)
{
	struct mc_err err = { 0 };
	struct mc_coord_opts o = { .command = "test" };

	mc_coord_close(h->c);
	h->c = mc_coord_open(h->conf, h->st, &o, &err);
	cr_assert_not_null(h->c, "%s", err.msg);
}

static void host_close(struct host *h)
{
	mc_coord_close(h->c);
	mc_state_close(h->st);
	mc_conf_free(h->conf);
	mc_test_rmtree(h->dir);
}

/* ---- the same answers from both backends ---- */

/* "" 0, info 1, warning 2, critical 3; -1 anything else. */
static int sev_index(const char *s)
{
	static const char *const names[] = { "", "info", "warning",
					     "critical" };

	for (int i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

/* Runs one sequence of calls and writes what each answered into out. */
static size_t sequence(struct mc_coord *c, int *out)
{
	static const struct mc_breaker_conf bc = { 2, 60000 };
	struct mc_coord_claim cl;
	struct mc_err err = { 0 };
	char why[256];
	double wait = 0;
	size_t n = 0;
	int r;

#define CLAIM(resolve, sev) do {					\
		memset(&cl, 0, sizeof(cl));				\
		r = mc_coord_dedup_claim(c, "webhook:ops", "mc-k",	\
					 resolve, sev, 60000, 10000, 0,	\
					 NULL, &cl, why, sizeof(why),	\
					 &err);				\
		cr_assert_neq(r, -1, "%s", err.msg);			\
		out[n++] = r;						\
		out[n++] = sev_index(cl.open_severity);			\
		cr_assert_eq(mc_coord_dedup_settle(c, "webhook:ops",	\
						   "mc-k", &cl, 1,	\
						   &err), 0, "%s",	\
			     err.msg);					\
		mc_coord_claim_release(&cl);				\
	} while (0)

	CLAIM(1, "warning");		/* resolve without trigger: suppressed */
	CLAIM(0, "warning");		/* trigger: send */
	CLAIM(0, "warning");		/* again in the window: suppressed */
	CLAIM(0, "critical");		/* escalation: send */
	CLAIM(1, "info");		/* resolve: send, of the critical one */
	CLAIM(1, "info");		/* again: suppressed */
	CLAIM(0, "critical");		/* a new trigger after the resolve: send */
#undef CLAIM
	/* claimed and given back: the next claim sends again */
	memset(&cl, 0, sizeof(cl));
	out[n++] = mc_coord_dedup_claim(c, "webhook:ops", "mc-g", 0, "warning", 60000,
					10000, 0, NULL, &cl, why, sizeof(why),
					&err);
	cr_assert_eq(mc_coord_dedup_settle(c, "webhook:ops", "mc-g", &cl, 0,
					   &err), 0);
	mc_coord_claim_release(&cl);
	out[n++] = mc_coord_dedup_claim(c, "webhook:ops", "mc-g", 0, "warning", 60000,
					10000, 0, NULL, &cl, why, sizeof(why),
					&err);
	mc_coord_dedup_settle(c, "webhook:ops", "mc-g", &cl, 1, &err);
	mc_coord_claim_release(&cl);

	/* breakers */
	out[n++] = mc_coord_breaker_allow(c, "webhook:ops", &bc, NULL, NULL,
					  &err);
	for (int i = 0; i < 2; i++)
		cr_assert_eq(mc_coord_breaker_record(c, "webhook:ops", 0, &bc,
						     NULL, &err), 0);
	out[n++] = mc_coord_breaker_allow(c, "webhook:ops", &bc, NULL, NULL,
					  &err);
	{
		struct mc_breaker_info *list = NULL;
		size_t k = 0;

		cr_assert_eq(mc_coord_breaker_list(c, NULL, 60000, &list, &k,
						   &err), 0, "%s", err.msg);
		out[n++] = (int)k;
		out[n++] = k ? list[0].state : -1;
		out[n++] = k ? list[0].failures : -1;
		mc_breaker_info_free(list, k);
	}
	out[n++] = mc_coord_breaker_reset(c, "webhook:ops", &err);
	out[n++] = mc_coord_breaker_reset(c, "webhook:ops", &err);
	out[n++] = err.code;

	/* buckets: 1/s, burst 1 */
	out[n++] = mc_coord_bucket_reserve(c, "webhook:ops", 1, 1, 1, 5, NULL,
					   &wait, &err);
	out[n++] = wait < 0.1;
	out[n++] = mc_coord_bucket_reserve(c, "webhook:ops", 1, 1, 1, 5, NULL,
					   &wait, &err);
	out[n++] = wait > 0.8;
	out[n++] = mc_coord_bucket_reserve(c, "webhook:ops", 1, 1, 1, 0.5,
					   NULL, &wait, &err);
	return n;
}

Test(coord, state_and_fleet_answer_alike)
{
	char *prefix = mc_test_unique("mct", "alike");
	struct host s, f;
	int a[64], b[64];
	size_t na, nb;

	host_open(&s, NULL, NULL, NULL);
	host_open(&f, mc_test_env("MC_TEST_REDIS_URL"), "web-1", prefix);
	cr_assert_str_eq(mc_coord_backend(s.c), "state");
	cr_assert_str_eq(mc_coord_backend(f.c), "fleet");
	cr_assert_eq(mc_coord_degraded(f.c), 0, "%s",
		     mc_coord_degraded_why(f.c));
	na = sequence(s.c, a);
	nb = sequence(f.c, b);
	cr_assert_eq(na, nb);
	for (size_t i = 0; i < na; i++)
		cr_expect_eq(a[i], b[i], "answer %zu: state %d, fleet %d", i,
			     a[i], b[i]);
	/* and they are the answers the contract asks for */
	cr_expect_eq(a[0], 0, "a resolve without a trigger is suppressed");
	cr_expect_eq(a[2], 1);
	cr_expect_eq(a[3], 0, "nothing was open before the trigger");
	cr_expect_eq(a[4], 0, "the same severity within the window");
	cr_expect_eq(a[5], 2, "warning is open");
	cr_expect_eq(a[6], 1, "an escalation goes out");
	cr_expect_eq(a[7], 2, "and names the warning it replaces");
	cr_expect_eq(a[8], 1);
	cr_expect_eq(a[9], 3, "the resolve names the critical trigger");
	cr_expect_eq(a[10], 0);
	cr_expect_eq(a[12], 1, "a new trigger after the resolve");
	cr_expect_eq(a[13], 0, "with nothing open");
	host_close(&s);
	host_close(&f);
	free(prefix);
}

/* ---- a redis-server of our own ---- */

struct server {
	char dir[MC_TEST_DIR_LEN];
	int port;
	pid_t pid;
	char url[64];
};

static void server_start(struct server *s)
{
	snprintf(s->url, sizeof(s->url), "redis://127.0.0.1:%d/0", s->port);
	s->pid = mc_test_redis_start(s->port, s->dir, NULL);
}

static void server_stop(struct server *s)
{
	mc_test_redis_stop(s->pid);
	s->pid = 0;
}

/* 1 when the server has the script cached. */
static int script_cached(const struct server *s, const char *script)
{
	struct mc_redis_opts o = { .url = s->url };
	struct mc_err err = { 0 };
	struct mc_redis *r = mc_redis_connect(&o, &err);
	char sha[41];
	redisReply *rp;
	int v;

	cr_assert_not_null(r, "%s", err.msg);
	mc_redis_script_sha(script, sha);
	rp = mc_redis_cmd(r, &err, "SCRIPT EXISTS %s", sha);
	cr_assert_not_null(rp, "%s", err.msg);
	v = (int)rp->element[0]->integer;
	freeReplyObject(rp);
	mc_redis_close(r);
	return v;
}

static const struct mc_breaker_conf bc5 = { 5, 30000 };

Test(coord, degraded_while_redis_is_down_and_back_without_a_hand,
     .timeout = 60)
{
	char *prefix = mc_test_unique("mct", "degraded");
	struct server srv = { .port = mc_test_free_port() };
	struct mc_coord_lock *lk = NULL;
	struct mc_coord_claim cl;
	struct mc_err err = { 0 };
	char why[256];
	struct host h;

	mc_log_setup(MC_LOG_ERROR, 0, NULL, NULL);
	mc_test_dir(srv.dir);
	server_start(&srv);
	cr_assert_eq(script_cached(&srv, mc_fleet_lua_breaker_record), 0);
	host_open(&h, srv.url, "web-1", prefix);
	cr_assert_str_eq(mc_coord_backend(h.c), "fleet");
	cr_assert_eq(mc_coord_breaker_record(h.c, "webhook:ops", 0, &bc5,
					     NULL, &err), 0, "%s", err.msg);
	/* a fresh server had no script: EVALSHA fell back to EVAL */
	cr_expect_eq(script_cached(&srv, mc_fleet_lua_breaker_record), 1);
	cr_assert_eq(mc_coord_dedup_claim(h.c, "webhook:ops", "k", 0, "warning",
					  60000, 10000, 0, NULL, &cl, why,
					  sizeof(why), &err), 1);

	/* Redis goes away mid-run: the run goes on with the state file */
	server_stop(&srv);
	cr_expect_eq(mc_coord_dedup_settle(h.c, "webhook:ops", "k", &cl, 1,
					   &err), 0, "%s", err.msg);
	mc_coord_claim_release(&cl);
	cr_assert_eq(mc_coord_breaker_record(h.c, "webhook:ops", 0, &bc5,
					     NULL, &err), 0, "%s", err.msg);
	cr_expect_eq(mc_coord_degraded(h.c), 1);
	cr_expect_str_eq(mc_coord_backend(h.c), "state");
	cr_expect(strstr(mc_coord_degraded_why(h.c), "redis") != NULL, "%s",
		  mc_coord_degraded_why(h.c));
	{
		struct mc_breaker_info *list = NULL;
		size_t n = 0;

		cr_assert_eq(mc_breaker_list(h.st, NULL, 30000, &list, &n,
					     &err), 0);
		cr_expect_eq(n, 1, "the failure went to the state file");
		mc_breaker_info_free(list, n);
	}
	/* an alert is never lost: the claim is made locally */
	cr_expect_eq(mc_coord_dedup_claim(h.c, "webhook:ops", "k2", 0, "warning",
					  60000, 10000, 0, NULL, &cl, why,
					  sizeof(why), &err), 1, "%s",
		     err.msg);
	cr_expect_eq(cl.backend, MC_COORD_STATE);
	mc_coord_dedup_settle(h.c, "webhook:ops", "k2", &cl, 1, &err);
	mc_coord_claim_release(&cl);
	/* a fleet-wide lock refuses; a lock that may be local is local */
	cr_expect_eq(mc_coord_lock_take(h.c, "dlq:alerter",
					MC_COORD_FLEET_ONLY, 0, &lk, &err),
		     -1);
	cr_expect_eq(err.code, MC_EXIT_TEMPFAIL);
	cr_expect(strstr(err.msg, "fleet: degraded") != NULL, "%s", err.msg);
	cr_assert_eq(mc_coord_lock_take(h.c, "job:x", 0, 0, &lk, &err), 0,
		     "%s", err.msg);
	cr_expect_eq(lk->backend, MC_COORD_STATE);
	mc_coord_lock_release(h.c, lk);

	/* a run that starts while Redis is down is degraded at once */
	host_rerun(&h);
	cr_expect_eq(mc_coord_degraded(h.c), 1);
	cr_expect_eq(mc_coord_lock_take(h.c, "dlq:alerter",
					MC_COORD_FLEET_ONLY, 0, &lk, &err),
		     -1);
	cr_expect_eq(err.code, MC_EXIT_TEMPFAIL);

	/* Redis is back: the next run uses it, nobody did anything */
	server_start(&srv);
	host_rerun(&h);
	cr_expect_eq(mc_coord_degraded(h.c), 0, "%s",
		     mc_coord_degraded_why(h.c));
	cr_expect_str_eq(mc_coord_backend(h.c), "fleet");
	cr_assert_eq(mc_coord_lock_take(h.c, "dlq:alerter",
					MC_COORD_FLEET_ONLY, 0, &lk, &err), 0,
		     "%s", err.msg);
	cr_expect_eq(lk->backend, MC_COORD_FLEET);
	cr_expect_eq(mc_coord_lock_renew(h.c, lk, &err), 0, "%s", err.msg);
	mc_coord_lock_release(h.c, lk);
	host_close(&h);
	server_stop(&srv);
	mc_test_rmtree(srv.dir);
	free(prefix);
}

Test(coord, fleet_lock_one_holder_across_hosts)
{
	char *prefix = mc_test_unique("mct", "lock");
	const char *url = mc_test_env("MC_TEST_REDIS_URL");
	struct mc_coord_lock *la = NULL, *lb = NULL;
	struct mc_err err = { 0 };
	struct host a, b;

	host_open(&a, url, "web-1", prefix);
	host_open(&b, url, "web-2", prefix);
	cr_assert_eq(mc_coord_lock_take(a.c, "dlq:alerter",
					MC_COORD_FLEET_ONLY, 0, &la, &err), 0,
		     "%s", err.msg);
	cr_expect_eq(mc_coord_lock_take(b.c, "dlq:alerter",
					MC_COORD_FLEET_ONLY, 300, &lb, &err),
		     -1);
	cr_expect_eq(err.code, MC_EXIT_TEMPFAIL);
	cr_expect(strstr(err.msg, "host web-1 pid") != NULL, "%s", err.msg);
	mc_coord_lock_release(a.c, la);
	cr_assert_eq(mc_coord_lock_take(b.c, "dlq:alerter",
					MC_COORD_FLEET_ONLY, 0, &lb, &err), 0,
		     "%s", err.msg);
	cr_expect_gt(strtoll(lb->lease.token, NULL, 10), 1);
	mc_coord_lock_release(b.c, lb);
	host_close(&a);
	host_close(&b);
	free(prefix);
}

/* The lease's `renewed` time, as another host reads it (0: no lock). */
static double renewed_at(struct mc_fleet *f, const char *name)
{
	struct mc_err err = { 0 };
	char *k = mc_fleet_lock_key(f, name);
	redisReply *r = mc_redis_cmd(mc_fleet_redis(f), &err,
				     "HGET %s renewed", k);
	double v;

	free(k);
	cr_assert_not_null(r, "%s", err.msg);
	v = r->type == REDIS_REPLY_STRING ? strtod(r->str, NULL) : 0;
	freeReplyObject(r);
	return v;
}

Test(coord, keepalive_renews_and_a_paused_holder_learns_it_lost,
     .timeout = 60)
{
	const char *url = mc_test_env("MC_TEST_REDIS_URL");
	char *prefix = mc_test_unique("mct", "keepalive");
	struct mc_fleet_conf fc = { .url = (char *)url, .name = "watcher",
				    .prefix = prefix, .lease_ms = 1000 };
	struct mc_err err = { 0 };
	struct mc_fleet *w = mc_fleet_connect(&fc, 2000, &err);
	struct mc_coord_lock *lb = NULL;
	struct host b;
	double start, first = 0;
	int pfd[2], st;
	char token[24] = "";
	pid_t pid;

	cr_assert_not_null(w, "%s", err.msg);
	cr_assert_eq(pipe(pfd), 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		/* host A: holds the lock with a keepalive, reports its token,
		 * and waits (bounded) to learn it lost the lock */
		struct mc_coord_lock *la = NULL;
		struct host a;
		double t0;
		int code = 2;

		close(pfd[0]);
		host_open(&a, url, "web-1", prefix);
		if (mc_coord_lock_take(a.c, "job:nightly", MC_COORD_KEEPALIVE,
				       0, &la, NULL) == 0) {
			if (write(pfd[1], la->lease.token,
				  sizeof(la->lease.token)) > 0) {
				t0 = mc_mono_now();
				code = 1;
				while (mc_mono_now() - t0 < 30)
					if (mc_coord_lock_lost(la)) {
						code = 0;
						break;
					} else {
						mc_sleep_ms(20);
					}
			}
			mc_coord_lock_release(a.c, la);
		}
		close(pfd[1]);
		host_close(&a);
		_exit(code);
	}
	close(pfd[1]);
	cr_assert_eq(read(pfd[0], token, sizeof(token)), sizeof(token));
	close(pfd[0]);

	/* held for 3 s, past its lease of 2 s: renewed by the thread */
	start = mc_mono_now();
	while ((first = renewed_at(w, "job:nightly")) == 0)
		cr_assert(mc_mono_now() - start < 10);
	while (renewed_at(w, "job:nightly") < first + 3) {
		cr_assert(mc_mono_now() - start < 20, "the lease was not "
			  "renewed for 3 s");
		cr_assert_eq(waitpid(pid, &st, WNOHANG), 0, "host A ended");
		mc_sleep_ms(50);
	}
	/* host A is paused past its lease: host B takes over */
	cr_assert_eq(kill(pid, SIGSTOP), 0);
	host_open(&b, url, "web-2", prefix);
	start = mc_mono_now();
	while (mc_coord_lock_take(b.c, "job:nightly", MC_COORD_FLEET_ONLY, 0,
				  &lb, &err) < 0) {
		cr_assert_eq(err.code, MC_EXIT_TEMPFAIL, "%s", err.msg);
		cr_assert(mc_mono_now() - start < 10, "no takeover");
		mc_sleep_ms(50);
	}
	cr_expect_gt(strtoll(lb->lease.token, NULL, 10),
		     strtoll(token, NULL, 10));
	/* A goes on, renews, finds B's lease and knows it lost */
	cr_assert_eq(kill(pid, SIGCONT), 0);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		  "host A did not learn it lost the lock (%d)",
		  WEXITSTATUS(st));
	cr_expect_eq(mc_coord_lock_lost(lb), 0);
	mc_coord_lock_release(b.c, lb);
	host_close(&b);
	mc_fleet_close(w);
	free(prefix);
}
