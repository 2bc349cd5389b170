/*
 * test_fleet.c - fleet mode (lib/fleet.c, lib/coord*.c) against a real
 * redis-server. Each "host" is a forked process with its own connection
 * and fleet name; the processes start together on a gate (a pipe closed
 * by the parent), so their scripts race for real.
 *
 * Needs MC_TEST_REDIS_URL (scripts/servers.sh start DIR; . DIR/env). The
 * degraded-mode tests start and stop a redis-server of their own.
 */
#include <criterion/criterion.h>

#include "testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "coord.h"
#include "fleet.h"
#include "redis_script.h"
#include "state.h"

static struct mc_fleet *connect_as(const char *url, const char *name,
				   const char *prefix, int64_t lease_ms)
{
	struct mc_fleet_conf fc = { .url = (char *)url, .name = (char *)name,
				    .prefix = (char *)prefix,
				    .lease_ms = lease_ms };
	struct mc_err err = { 0 };
	struct mc_fleet *f = mc_fleet_connect(&fc, 2000, &err);

	if (f == NULL)
		cr_log_error("fleet connect: %s", err.msg);
	return f;
}

static struct mc_fleet *host(const char *name, const char *prefix)
{
	struct mc_fleet *f = connect_as(mc_test_env("MC_TEST_REDIS_URL"),
					name, prefix, 30000);

	cr_assert_not_null(f);
	return f;
}

/* Every key under prefix has a TTL (PTTL > 0); returns how many. */
static size_t assert_all_ttl(struct mc_fleet *f, const char *prefix)
{
	struct mc_redis *r = mc_fleet_redis(f);
	struct mc_err err = { 0 };
	char *pat = mc_asprintf("%s:*", prefix);
	char cursor[32] = "0";
	size_t n = 0;

	do {
		redisReply *rp = mc_redis_cmd(r, &err, "SCAN %s MATCH %s "
					      "COUNT 1000", cursor, pat);

		cr_assert_not_null(rp, "%s", err.msg);
		snprintf(cursor, sizeof(cursor), "%s", rp->element[0]->str);
		for (size_t i = 0; i < rp->element[1]->elements; i++) {
			const char *k = rp->element[1]->element[i]->str;
			redisReply *t = mc_redis_cmd(r, &err, "PTTL %s", k);

			cr_assert_not_null(t, "%s", err.msg);
			cr_expect_gt(t->integer, 0, "key %s has PTTL %lld", k,
				     t->integer);
			freeReplyObject(t);
			n++;
		}
		freeReplyObject(rp);
	} while (strcmp(cursor, "0") != 0);
	free(pat);
	return n;
}

/* ---- concurrent hosts ---- */

struct race {
	int gate[2];
	int n;
	pid_t pids[32];
};

static void race_open(struct race *rc)
{
	memset(rc, 0, sizeof(*rc));
	cr_assert_eq(pipe(rc->gate), 0);
}

/* Forks a host that waits for the gate, runs fn and exits with its
 * result (0-255). */
static void race_add(struct race *rc, int (*fn)(int i, void *arg), void *arg)
{
	pid_t pid = fork();

	cr_assert(pid >= 0);
	if (pid == 0) {
		char b;
		ssize_t got;

		close(rc->gate[1]);
		do
			got = read(rc->gate[0], &b, 1);
		while (got < 0 && errno == EINTR);
		_exit(fn(rc->n, arg));
	}
	rc->pids[rc->n++] = pid;
}

/* Opens the gate and collects the exit codes into codes. */
static void race_run(struct race *rc, int *codes)
{
	close(rc->gate[0]);
	close(rc->gate[1]);
	for (int i = 0; i < rc->n; i++) {
		int st = 0;

		cr_assert_eq(waitpid(rc->pids[i], &st, 0), rc->pids[i]);
		cr_assert(WIFEXITED(st), "host %d did not exit", i);
		codes[i] = WEXITSTATUS(st);
	}
}

static int count(const int *codes, int n, int v)
{
	int c = 0;

	for (int i = 0; i < n; i++)
		c += codes[i] == v;
	return c;
}

/* ---- keys ---- */

Test(fleet, keys_put_the_target_in_one_hash_tag)
{
	char *prefix = mc_test_unique("mct", "keys");
	struct mc_fleet *f = host("a", prefix);
	char *k = mc_fleet_key(f, "webhook:o{p}s%", "breaker");
	char *want = mc_asprintf("%s:{webhook:o%%7Bp%%7Ds%%25}:breaker",
				 prefix);

	cr_expect_str_eq(k, want);
	free(k);
	free(want);
	mc_fleet_close(f);
	free(prefix);
}

/* ---- dedup ---- */

struct dedup_arg {
	const char *prefix;
	int resolve;
	const char *severity;
};

/* 1 delivered (claimed and confirmed), 0 suppressed, 2 error. */
static int dedup_host(int i, void *p)
{
	const struct dedup_arg *a = p;
	char name[16], why[256];
	struct mc_fleet_claim c;
	struct mc_fleet *f;
	int r;

	snprintf(name, sizeof(name), "host%d", i);
	f = connect_as(getenv("MC_TEST_REDIS_URL"), name, a->prefix, 30000);
	if (f == NULL)
		return 2;
	r = mc_fleet_dedup_claim(f, "webhook:ops", "mc-key1", a->resolve,
				 a->severity, 60000, 10000, 0, &c, why,
				 sizeof(why), NULL);
	if (r == 1 && mc_fleet_dedup_settle(f, "webhook:ops", "mc-key1", &c,
					    1, NULL) < 0)
		r = -1;
	mc_fleet_close(f);
	return r < 0 ? 2 : r;
}

static void dedup_round(struct dedup_arg *a, int hosts, int *delivered,
			int *suppressed)
{
	struct race rc;
	int codes[32];

	race_open(&rc);
	for (int i = 0; i < hosts; i++)
		race_add(&rc, dedup_host, a);
	race_run(&rc, codes);
	cr_assert_eq(count(codes, hosts, 2), 0, "a host failed");
	*delivered = count(codes, hosts, 1);
	*suppressed = count(codes, hosts, 0);
}

Test(fleet, dedup_one_delivery_fleet_wide, .timeout = 60)
{
	char *prefix = mc_test_unique("mct", "dedup");
	struct dedup_arg a = { .prefix = prefix, .severity = "warning" };
	struct mc_fleet *f = host("check", prefix);
	int d, s;

	dedup_round(&a, 12, &d, &s);
	cr_expect_eq(d, 1, "trigger: %d deliveries of 12", d);
	cr_expect_eq(s, 11);
	cr_expect_gt(assert_all_ttl(f, prefix), 0);

	a.severity = "critical";	/* escalation: one more */
	dedup_round(&a, 12, &d, &s);
	cr_expect_eq(d, 1, "escalation: %d deliveries of 12", d);

	a.resolve = 1;			/* resolve: one */
	dedup_round(&a, 12, &d, &s);
	cr_expect_eq(d, 1, "resolve: %d deliveries of 12", d);
	dedup_round(&a, 4, &d, &s);	/* and never again */
	cr_expect_eq(d, 0, "second resolve: %d deliveries", d);
	cr_expect_gt(assert_all_ttl(f, prefix), 0);
	mc_fleet_close(f);
	free(prefix);
}

Test(fleet, dedup_give_back_and_resolve_without_trigger)
{
	char *prefix = mc_test_unique("mct", "giveback");
	struct mc_fleet *f = host("a", prefix);
	struct mc_fleet_claim c, c2;
	struct mc_err err = { 0 };
	char why[256] = "";

	cr_assert_eq(mc_fleet_dedup_claim(f, "webhook:x", "k", 1, "warning", 60000,
					  10000, 0, &c, why, sizeof(why),
					  &err), 0, "%s", err.msg);
	cr_expect(strstr(why, "no trigger") != NULL, "%s", why);

	/* a claim under way suppresses; a failed delivery gives it back */
	cr_assert_eq(mc_fleet_dedup_claim(f, "webhook:x", "k", 0, "warning", 60000,
					  10000, 0, &c, why, sizeof(why),
					  &err), 1, "%s", err.msg);
	cr_assert_eq(mc_fleet_dedup_claim(f, "webhook:x", "k", 0, "warning", 60000,
					  10000, 0, &c2, why, sizeof(why),
					  &err), 0);
	cr_expect(strstr(why, "delivering") != NULL, "%s", why);
	cr_assert_eq(mc_fleet_dedup_settle(f, "webhook:x", "k", &c, 0, &err),
		     0, "%s", err.msg);
	cr_assert_eq(mc_fleet_dedup_claim(f, "webhook:x", "k", 0, "warning", 60000,
					  10000, 0, &c, why, sizeof(why),
					  &err), 1, "given back, not retried");
	cr_assert_eq(mc_fleet_dedup_settle(f, "webhook:x", "k", &c, 1, &err),
		     0);
	/* a resolve names the trigger's severity, whatever it is given */
	cr_assert_eq(mc_fleet_dedup_claim(f, "webhook:x", "k", 1, "info", 60000,
					  10000, 0, &c, why, sizeof(why),
					  &err), 1);
	cr_expect_str_eq(c.open_severity, "warning");
	cr_assert_eq(mc_fleet_dedup_settle(f, "webhook:x", "k", &c, 1, &err),
		     0);
	/* --no-dedup always goes */
	cr_expect_eq(mc_fleet_dedup_claim(f, "webhook:x", "k", 1, "info", 60000,
					  10000, 1, &c, why, sizeof(why),
					  &err), 1);
	cr_expect_gt(assert_all_ttl(f, prefix), 0);
	mc_fleet_close(f);
	free(prefix);
}

/* ---- buckets ---- */

struct bucket_arg {
	const char *prefix;
	int fd;				/* waits written here */
};

/* Four reservations of one token; writes to the pipe the time each may
 * be used (the clock after the call plus the wait), in ms. */
static int bucket_host(int i, void *p)
{
	const struct bucket_arg *a = p;
	char name[16];
	struct mc_fleet *f;

	snprintf(name, sizeof(name), "host%d", i);
	f = connect_as(getenv("MC_TEST_REDIS_URL"), name, a->prefix, 30000);
	if (f == NULL)
		return 2;
	for (int k = 0; k < 4; k++) {
		double wait = 0;
		int64_t ms;

		if (mc_fleet_bucket_reserve(f, "webhook:ops", 2, 2, 1, 60,
					    &wait, NULL) != 1) {
			mc_fleet_close(f);
			return 2;
		}
		ms = (int64_t)((mc_wall_now() + wait) * 1e3);
		if (write(a->fd, &ms, sizeof(ms)) != sizeof(ms)) {
			mc_fleet_close(f);
			return 2;
		}
	}
	mc_fleet_close(f);
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

Test(fleet, bucket_rate_holds_across_hosts, .timeout = 60)
{
	char *prefix = mc_test_unique("mct", "bucket");
	struct bucket_arg a = { .prefix = prefix };
	struct mc_fleet *f = host("check", prefix);
	struct mc_err err = { 0 };
	int64_t waits[12];
	int pfd[2], codes[3];
	double w = 0, w2 = 0, w3 = 0;
	struct race rc;

	cr_assert_eq(pipe(pfd), 0);
	a.fd = pfd[1];
	race_open(&rc);
	for (int i = 0; i < 3; i++)
		race_add(&rc, bucket_host, &a);
	race_run(&rc, codes);
	close(pfd[1]);
	cr_assert_eq(count(codes, 3, 0), 3, "a host failed");
	cr_assert_eq(read(pfd[0], waits, sizeof(waits)), sizeof(waits));
	close(pfd[0]);
	qsort(waits, 12, sizeof(*waits), cmp_i64);
	/* 12 tokens at 2/s with a burst of 2: any k + 1 of the slots span at
	 * least (k + 1 - 2) / 2 s, however the hosts interleave and however
	 * slowly they run; 250 ms for the clocks read after the calls. */
	for (int i = 0; i < 12; i++)
		for (int j = i + 2; j < 12; j++)
			cr_expect_geq(waits[j] - waits[i],
				      (j - i - 1) * 500 - 250,
				      "slots %d and %d %lld ms apart", i, j,
				      (long long)(waits[j] - waits[i]));
	/* a reservation past max_wait is refused and takes nothing */
	cr_assert_eq(mc_fleet_bucket_reserve(f, "webhook:ops", 2, 2, 1, 60, &w,
					     &err), 1, "%s", err.msg);
	cr_expect_eq(mc_fleet_bucket_reserve(f, "webhook:ops", 2, 2, 1, 0, &w2,
					     &err), 0, "%s", err.msg);
	cr_expect_geq(w2, w + 0.4, "%g after %g", w2, w);
	cr_expect_eq(mc_fleet_bucket_reserve(f, "webhook:ops", 2, 2, 1, 0, &w3,
					     &err), 0, "%s", err.msg);
	cr_expect_leq(w3, w2 + 0.001, "the refusal took a token: %g, %g", w2,
		      w3);
	cr_expect_gt(assert_all_ttl(f, prefix), 0);
	mc_fleet_close(f);
	free(prefix);
}

/* ---- breakers ---- */

/* Recovery is the caller's setting: a long one while the test looks at
 * the open breaker (however slowly it runs, under valgrind too), a short
 * one once it waits for the half-open probe. */
static const struct mc_breaker_conf slow = { 5, 60000 };
/* A probe counts as lost after the recovery time, and then another host
 * may probe: the recovery must outlast the race of 8 hosts' probes even
 * under valgrind (400 ms did not), or a second probe is correct. */
static const struct mc_breaker_conf fast = { 5, 2000 };

struct breaker_arg {
	const char *prefix;
	const struct mc_breaker_conf *conf;
};

/* 1 allowed, 0 refused, 2 error. */
static int breaker_host(int i, void *p)
{
	const struct breaker_arg *a = p;
	char name[16];
	struct mc_fleet *f;
	int r;

	snprintf(name, sizeof(name), "B%d", i);
	f = connect_as(getenv("MC_TEST_REDIS_URL"), name, a->prefix, 30000);
	if (f == NULL)
		return 2;
	r = mc_fleet_breaker_allow(f, "webhook:ops", a->conf, NULL, NULL);
	mc_fleet_close(f);
	return r < 0 ? 2 : r;
}

/* Polls the server's clock until it reaches t (bounded). */
static void wait_server_time(struct mc_fleet *f, double t)
{
	double start = mc_mono_now(), now = 0;
	struct mc_err err = { 0 };

	for (;;) {
		cr_assert_eq(mc_fleet_server_time(f, &now, &err), 0, "%s",
			     err.msg);
		if (now >= t)
			return;
		cr_assert(mc_mono_now() - start < 10, "server time never "
			  "reached %.3f", t);
		mc_sleep_ms(20);
	}
}

Test(fleet, breaker_opened_on_one_host_is_open_on_all, .timeout = 60)
{
	char *prefix = mc_test_unique("mct", "breaker");
	struct breaker_arg a = { prefix, &slow };
	struct mc_fleet *A = host("A", prefix);
	struct mc_breaker_info *list = NULL;
	struct mc_err err = { 0 };
	double retry_at = 0, opened_at = 0;
	int codes[16];
	struct race rc;
	size_t n = 0;

	for (int i = 0; i < 5; i++)
		cr_assert_eq(mc_fleet_breaker_record(A, "webhook:ops", 0,
						     &slow, &err), 0, "%s",
			     err.msg);
	/* every other host is refused, without a probe */
	race_open(&rc);
	for (int i = 0; i < 6; i++)
		race_add(&rc, breaker_host, &a);
	race_run(&rc, codes);
	cr_expect_eq(count(codes, 6, 0), 6, "open: %d let through",
		     count(codes, 6, 1));
	cr_assert_eq(mc_fleet_breaker_allow(A, "webhook:ops", &slow,
					    &retry_at, &err), 0);
	cr_assert_eq(mc_fleet_breaker_list(A, &list, &n, &err), 0);
	cr_assert_eq(n, 1);
	cr_expect_str_eq(list[0].name, "webhook:ops");
	cr_expect_eq(list[0].state, MC_BREAKER_OPEN);
	cr_expect_eq(list[0].failures, 5);
	opened_at = list[0].opened_at;
	mc_breaker_info_free(list, n);

	/* after the recovery time: exactly one probe fleet-wide */
	wait_server_time(A, opened_at + fast.recovery_ms / 1e3);
	a.conf = &fast;
	race_open(&rc);
	for (int i = 0; i < 8; i++)
		race_add(&rc, breaker_host, &a);
	race_run(&rc, codes);
	cr_expect_eq(count(codes, 8, 1), 1, "half-open: %d probes",
		     count(codes, 8, 1));
	cr_expect_eq(count(codes, 8, 2), 0);
	/* the probe fails: open again; then a probe that succeeds closes */
	cr_assert_eq(mc_fleet_breaker_record(A, "webhook:ops", 0, &fast,
					     &err), 0);
	cr_expect_eq(mc_fleet_breaker_allow(A, "webhook:ops", &fast,
					    &retry_at, &err), 0);
	wait_server_time(A, retry_at);
	cr_expect_eq(mc_fleet_breaker_allow(A, "webhook:ops", &fast, NULL,
					    &err), 1);
	cr_assert_eq(mc_fleet_breaker_record(A, "webhook:ops", 1, &fast,
					     &err), 0);
	cr_expect_eq(mc_fleet_breaker_allow(A, "webhook:ops", &fast, NULL,
					    &err), 1);
	cr_expect_eq(mc_fleet_breaker_allow(A, "webhook:ops", &fast, NULL,
					    &err), 1, "closed lets all "
		     "through");
	cr_expect_gt(assert_all_ttl(A, prefix), 0);
	cr_expect_eq(mc_fleet_breaker_reset(A, "webhook:ops", &err), 0);
	cr_expect_eq(mc_fleet_breaker_reset(A, "webhook:ops", &err), -1);
	cr_expect_eq(err.code, MC_EXIT_USAGE);
	mc_fleet_close(A);
	free(prefix);
}

/* ---- leases and fencing ---- */

/* A script of the kind the DLQ batch move is: it embeds the fencing
 * check and appends to a list of the lock's slot only for the holder. */
static const char fenced_push[] =
	"%s"
	"if not mc_fence(KEYS[1], ARGV[1], ARGV[2], 0) then\n"
	"  return redis.error_reply('FENCED stale lock holder')\n"
	"end\n"
	"return redis.call('RPUSH', KEYS[2], ARGV[3])\n";

static int fenced(struct mc_fleet *f, const struct mc_fleet_lease *l,
		  const char *list, const char *value, struct mc_err *err)
{
	char *script = mc_asprintf(fenced_push, mc_fleet_lua_fence);
	char *lk = mc_fleet_lock_key(f, l->name);
	const char *keys[2] = { lk, list };
	const char *args[3] = { l->owner, l->token, value };
	redisReply *r = mc_redis_eval(mc_fleet_redis(f), script, 2, keys, 3,
				      args, NULL, err);

	free(script);
	free(lk);
	if (r == NULL)
		return -1;
	freeReplyObject(r);
	return 0;
}

static int64_t pttl(struct mc_fleet *f, const char *key)
{
	struct mc_err err = { 0 };
	redisReply *r = mc_redis_cmd(mc_fleet_redis(f), &err, "PTTL %s", key);
	int64_t v;

	cr_assert_not_null(r, "%s", err.msg);
	v = r->integer;
	freeReplyObject(r);
	return v;
}

Test(fleet, lease_expiry_takeover_and_fencing, .timeout = 60)
{
	char *prefix = mc_test_unique("mct", "lease");
	struct mc_fleet *A = host("A", prefix), *B = host("B", prefix);
	struct mc_fleet_lease la, lb;
	struct mc_fleet_lock_info *locks = NULL;
	struct mc_err err = { 0 };
	char holder[300] = "", *list, *lk;
	double start;
	size_t n = 0;

	cr_assert_eq(mc_fleet_lock_acquire(A, "dlq:alerter", 500, &la, holder,
					   sizeof(holder), &err), 1, "%s",
		     err.msg);
	cr_assert_eq(mc_fleet_lock_acquire(B, "dlq:alerter", 500, &lb, holder,
					   sizeof(holder), &err), 0);
	cr_expect(strstr(holder, "host A pid ") != NULL, "%s", holder);
	cr_assert_eq(mc_fleet_locks(B, &locks, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n, 1);
	cr_expect_str_eq(locks[0].name, "dlq:alerter");
	cr_expect_str_eq(locks[0].owner, la.owner);
	cr_expect_str_eq(locks[0].token, la.token);
	cr_expect_gt(locks[0].ttl_ms, 0);
	mc_fleet_locks_free(locks, n);

	/* the holder's fenced work goes through, and renews */
	list = mc_fleet_key(A, "dlq:alerter", "work");
	cr_assert_eq(fenced(A, &la, list, "a1", &err), 0, "%s", err.msg);
	cr_assert_eq(mc_fleet_lock_renew(A, &la, &err), 1, "%s", err.msg);

	/* A stops renewing (paused, partitioned): its lease runs out */
	lk = mc_fleet_lock_key(A, "dlq:alerter");
	start = mc_mono_now();
	while (pttl(A, lk) != -2) {	/* 0: a last millisecond */
		cr_assert(mc_mono_now() - start < 10, "the lease never ends");
		mc_sleep_ms(10);
	}
	cr_assert_eq(mc_fleet_lock_acquire(B, "dlq:alerter", 500, &lb, holder,
					   sizeof(holder), &err), 1, "%s %s",
		     err.msg, holder);
	cr_expect_gt(strtoll(lb.token, NULL, 10), strtoll(la.token, NULL, 10),
		     "token %s after %s", lb.token, la.token);
	/* A comes back: its fenced work is refused, its lease is gone */
	cr_expect_eq(fenced(A, &la, list, "a2", &err), -1);
	cr_expect(strstr(err.msg, "FENCED") != NULL, "%s", err.msg);
	cr_expect_eq(mc_fleet_lock_renew(A, &la, &err), 0);
	cr_expect_eq(mc_fleet_lock_release(A, &la, &err), 0);
	cr_assert_eq(fenced(B, &lb, list, "b1", &err), 0, "%s", err.msg);
	{
		redisReply *r = mc_redis_cmd(mc_fleet_redis(B), &err,
					     "LRANGE %s 0 -1", list);

		cr_assert_not_null(r);
		cr_expect_eq(r->elements, 2);
		cr_expect_str_eq(r->element[0]->str, "a1");
		cr_expect_str_eq(r->element[1]->str, "b1");
		freeReplyObject(r);
		r = mc_redis_cmd(mc_fleet_redis(B), &err, "PEXPIRE %s 60000",
				 list);
		freeReplyObject(r);
	}
	cr_expect_gt(assert_all_ttl(B, prefix), 0);
	cr_expect_eq(mc_fleet_lock_release(B, &lb, &err), 1);
	cr_expect_eq(pttl(B, lk), -2, "released: the lock is gone");
	free(lk);
	free(list);
	mc_fleet_lease_release(&la);
	mc_fleet_lease_release(&lb);
	mc_fleet_close(A);
	mc_fleet_close(B);
	free(prefix);
}

/* ---- membership ---- */

Test(fleet, heartbeat_lists_members)
{
	char *prefix = mc_test_unique("mct", "members");
	struct mc_fleet *A = host("web-1", prefix), *B = host("web-2", prefix);
	struct mc_fleet_member *m = NULL;
	struct mc_err err = { 0 };
	size_t n = 0;

	cr_assert_eq(mc_fleet_heartbeat(A, "alert send", &err), 0, "%s",
		     err.msg);
	cr_assert_eq(mc_fleet_heartbeat(B, "dlq replay", &err), 0, "%s",
		     err.msg);
	cr_assert_eq(mc_fleet_members(A, &m, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n, 2);
	cr_expect_str_eq(m[0].name, "web-1");
	cr_expect_str_eq(m[0].last_command, "alert send");
	cr_expect_str_eq(m[0].version, MC_VERSION);
	cr_expect_eq(m[0].pid, (long)getpid());
	cr_expect_str_eq(m[1].name, "web-2");
	cr_expect_str_eq(m[1].last_command, "dlq replay");
	cr_expect_gt(m[1].last_seen, 1e9);
	mc_fleet_members_free(m, n);
	cr_expect_eq(assert_all_ttl(A, prefix), 2);
	mc_fleet_close(A);
	mc_fleet_close(B);
	free(prefix);
}

/* ---- Redis Cluster ---- */

static long long key_slot(struct mc_fleet *via, const char *key)
{
	struct mc_err err = { 0 };
	redisReply *s = mc_redis_cmd(mc_fleet_redis(via), &err,
				     "CLUSTER KEYSLOT %s", key);
	long long slot;

	cr_assert_not_null(s, "%s", err.msg);
	slot = s->integer;
	freeReplyObject(s);
	return slot;
}

/* The port of the node owning key's slot, as node `via` tells it. */
static int slot_owner(struct mc_fleet *via, const char *key)
{
	struct mc_redis *r = mc_fleet_redis(via);
	struct mc_err err = { 0 };
	long long slot = key_slot(via, key);
	redisReply *slots;
	int port = -1;

	slots = mc_redis_cmd(r, &err, "CLUSTER SLOTS");
	cr_assert_not_null(slots, "%s", err.msg);
	for (size_t i = 0; i < slots->elements; i++) {
		redisReply *e = slots->element[i];

		if (slot >= e->element[0]->integer &&
		    slot <= e->element[1]->integer)
			port = (int)e->element[2]->element[1]->integer;
	}
	freeReplyObject(slots);
	cr_assert_gt(port, 0, "no node owns slot %lld", slot);
	return port;
}

static int cluster_ok(int port)
{
	char url[64];
	struct mc_redis_opts o = { .url = url, .connect_timeout_ms = 500,
				   .command_timeout_ms = 500 };
	struct mc_redis *r;
	redisReply *rp;
	int ok;

	snprintf(url, sizeof(url), "redis://127.0.0.1:%d/0", port);
	r = mc_redis_connect(&o, NULL);
	if (r == NULL)
		return 0;
	rp = mc_redis_cmd(r, NULL, "CLUSTER INFO");
	ok = rp != NULL && rp->str != NULL &&
	     strstr(rp->str, "cluster_state:ok") != NULL;
	if (rp)
		freeReplyObject(rp);
	mc_redis_close(r);
	return ok;
}

/* Every script runs on a real 3-node cluster, on the node that owns its
 * target's slot: a key of another slot would make Redis refuse it. */
Test(fleet, every_script_stays_in_one_cluster_slot, .timeout = 120)
{
	static const char *const targets[] = { "webhook:ops", "dlq:alerter",
					       "host:web-1" };
	char dirs[3][MC_TEST_DIR_LEN], conf[3][MC_TEST_DIR_LEN + 16];
	char addr[3][32], url[64], *prefix = mc_test_unique("mct", "cluster");
	int ports[3];
	pid_t pids[3], pid;
	double start;
	int st;

	for (int i = 0; i < 3; i++) {
		char bus[16];
		/* the bus port: otherwise port + 10000, maybe taken or
		 * past 65535 */
		const char *extra[] = { "--cluster-enabled", "yes",
					"--cluster-config-file", conf[i],
					"--cluster-node-timeout", "5000",
					"--cluster-port", bus, NULL };

		snprintf(bus, sizeof(bus), "%d", mc_test_free_port());
		mc_test_dir(dirs[i]);
		snprintf(conf[i], sizeof(conf[i]), "%s/nodes.conf", dirs[i]);
		ports[i] = mc_test_free_port();
		snprintf(addr[i], sizeof(addr[i]), "127.0.0.1:%d", ports[i]);
		pids[i] = mc_test_redis_start(ports[i], dirs[i], extra);
	}
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(null, 1);
		execlp("timeout", "timeout", "30", "redis-cli", "--cluster",
		       "create", addr[0], addr[1], addr[2],
		       "--cluster-replicas", "0", "--cluster-yes",
		       (char *)NULL);
		_exit(127);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		  "redis-cli --cluster create failed");
	start = mc_mono_now();
	for (int i = 0; i < 3; i++)
		while (!cluster_ok(ports[i])) {
			cr_assert(mc_mono_now() - start < 30, "the cluster is "
				  "not ok after 30 s");
			mc_sleep_ms(50);
		}

	for (size_t t = 0; t < MC_ARRAY_LEN(targets); t++) {
		struct mc_fleet *via, *f;
		struct mc_fleet_claim c;
		struct mc_fleet_lease l;
		struct mc_breaker_info *list = NULL;
		struct mc_err err = { 0 };
		char why[256], holder[300];
		char *key, *list_key;
		double w;
		size_t n;

		snprintf(url, sizeof(url), "redis://127.0.0.1:%d/0", ports[0]);
		via = connect_as(url, "web-1", prefix, 30000);
		cr_assert_not_null(via);
		key = mc_fleet_key(via, targets[t], "any");
		snprintf(url, sizeof(url), "redis://127.0.0.1:%d/0",
			 slot_owner(via, key));
		free(key);
		mc_fleet_close(via);
		f = connect_as(url, "web-1", prefix, 30000);
		cr_assert_not_null(f);

		cr_expect_eq(mc_fleet_dedup_claim(f, targets[t], "k", 0, "warning",
						  60000, 10000, 0, &c, why,
						  sizeof(why), &err), 1,
			     "%s: %s", targets[t], err.msg);
		cr_expect_eq(mc_fleet_dedup_settle(f, targets[t], "k", &c, 1,
						   &err), 0, "%s", err.msg);
		cr_expect_eq(mc_fleet_bucket_reserve(f, targets[t], 1, 1, 1, 0,
						     &w, &err), 1, "%s",
			     err.msg);
		cr_expect_eq(mc_fleet_breaker_allow(f, targets[t], &fast,
						    NULL, &err), 1, "%s",
			     err.msg);
		cr_expect_eq(mc_fleet_breaker_record(f, targets[t], 0, &fast,
						     &err), 0, "%s", err.msg);
		cr_expect_eq(mc_fleet_breaker_list(f, &list, &n, &err), 0,
			     "%s", err.msg);
		mc_breaker_info_free(list, n);
		cr_assert_eq(mc_fleet_lock_acquire(f, targets[t], 5000, &l,
						   holder, sizeof(holder),
						   &err), 1, "%s", err.msg);
		list_key = mc_fleet_key(f, targets[t], "work");
		cr_expect_eq(fenced(f, &l, list_key, "x", &err), 0, "%s",
			     err.msg);
		cr_expect_eq(mc_fleet_lock_renew(f, &l, &err), 1, "%s",
			     err.msg);
		cr_expect_eq(mc_fleet_lock_release(f, &l, &err), 1, "%s",
			     err.msg);
		if (strcmp(targets[t], "host:web-1") == 0)
			cr_expect_eq(mc_fleet_heartbeat(f, "test", &err), 0,
				     "%s", err.msg);
		/* and the cluster does refuse a script across two slots */
		{
			char *k2 = NULL;
			const char *keys[2] = { list_key, NULL };

			for (int i = 0; k2 == NULL; i++) {
				char other[32];

				snprintf(other, sizeof(other), "other-%d", i);
				k2 = mc_fleet_key(f, other, "x");
				if (key_slot(f, k2) == key_slot(f, list_key)) {
					free(k2);
					k2 = NULL;
				}
			}
			keys[1] = k2;
			redisReply *r = mc_redis_eval(mc_fleet_redis(f),
						      "return 1", 2, keys, 0,
						      NULL, NULL, &err);

			cr_expect_null(r, "a script across two slots ran");
			if (r)
				freeReplyObject(r);
			free(k2);
		}
		mc_fleet_lease_release(&l);
		free(list_key);
		mc_fleet_close(f);
	}
	for (int i = 0; i < 3; i++) {
		mc_test_redis_stop(pids[i]);
		mc_test_rmtree(dirs[i]);
	}
	free(prefix);
}
