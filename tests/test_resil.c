/* test_resil.c - breakers, buckets, locks and backoff (lib/resil.c). */
#include <criterion/criterion.h>

#include "testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mc.h"
#include "resil.h"
#include "state.h"

static double fake_now_s = 1000;

static double fake_now(void *ctx)
{
	(void)ctx;
	return fake_now_s;
}

static const struct mc_clock fake_clock = { fake_now, NULL };
static const struct mc_breaker_conf conf5 = { 5, 30000 };





static struct mc_state *open_state(const char *dir)
{
	struct mc_err err = { 0 };
	char *path = mc_asprintf("%s/state.db", dir);
	struct mc_state *st = mc_state_open(path, &err);

	cr_assert_not_null(st, "%s", err.msg);
	free(path);
	return st;
}

static int allow(struct mc_state *st, const char *name, double *retry_at)
{
	struct mc_err err = { 0 };
	int r = mc_breaker_allow(st, name, &conf5, &fake_clock, retry_at,
				 &err);

	cr_assert_neq(r, -1, "%s", err.msg);
	return r;
}

static void record(struct mc_state *st, const char *name, int success)
{
	struct mc_err err = { 0 };

	cr_assert_eq(mc_breaker_record(st, name, success, &conf5, &fake_clock,
				       &err), 0, "%s", err.msg);
}

static void fail_n(struct mc_state *st, const char *name, int n)
{
	for (int i = 0; i < n; i++)
		record(st, name, 0);
}

/* Drives "api" to open at t = 1000 (half-open from 1030). */
static struct mc_state *opened(char *dir)
{
	struct mc_state *st;
	double retry = -1;

	mc_test_dir(dir);
	st = open_state(dir);
	fake_now_s = 1000;
	fail_n(st, "api", 5);
	cr_assert_eq(allow(st, "api", &retry), 0);
	cr_assert_eq(retry, 1030);
	return st;
}

Test(breaker, closed_opens_after_5_failures)
{
	char dirbuf[MC_TEST_DIR_LEN], *dir = mc_test_dir(dirbuf);
	struct mc_state *st = open_state(dir);
	double retry = -1;

	fake_now_s = 1000;
	cr_assert_eq(allow(st, "api", &retry), 1);	/* unknown = closed */
	cr_assert_eq(retry, 0);
	fail_n(st, "api", 4);
	cr_assert_eq(allow(st, "api", &retry), 1);
	fake_now_s = 1001;
	record(st, "api", 0);
	cr_assert_eq(allow(st, "api", &retry), 0);
	cr_assert_eq(retry, 1031);
	fake_now_s = 1030.999;
	cr_assert_eq(allow(st, "api", &retry), 0);
	cr_assert_eq(retry, 1031);
	/* another breaker is independent */
	cr_assert_eq(allow(st, "other", NULL), 1);
	mc_state_close(st);
	mc_test_rmtree(dir);
}

Test(breaker, half_open_lets_exactly_one_probe)
{
	char dir[MC_TEST_DIR_LEN];
	struct mc_state *st = opened(dir);
	double retry = -1;

	fake_now_s = 1030;
	cr_assert_eq(allow(st, "api", &retry), 1);
	cr_assert_eq(allow(st, "api", &retry), 0);
	cr_assert_eq(retry, 1060);
	fake_now_s = 1045;
	cr_assert_eq(allow(st, "api", NULL), 0);
	mc_state_close(st);
	mc_test_rmtree(dir);
}

Test(breaker, probe_success_closes)
{
	char dir[MC_TEST_DIR_LEN];
	struct mc_state *st = opened(dir);
	struct mc_breaker_info *list;
	struct mc_err err = { 0 };
	size_t n;

	fake_now_s = 1031;
	cr_assert_eq(allow(st, "api", NULL), 1);
	record(st, "api", 1);
	cr_assert_eq(allow(st, "api", NULL), 1);
	cr_assert_eq(allow(st, "api", NULL), 1);
	cr_assert_eq(mc_breaker_list(st, &fake_clock, 30000, &list, &n, &err),
		     0, "%s", err.msg);
	cr_assert_eq(n, 1);
	cr_assert_eq(list[0].state, MC_BREAKER_CLOSED);
	cr_assert_eq(list[0].failures, 0);
	mc_breaker_info_free(list, n);
	/* closed again: it takes five fresh failures to open */
	fail_n(st, "api", 4);
	cr_assert_eq(allow(st, "api", NULL), 1);
	record(st, "api", 0);
	cr_assert_eq(allow(st, "api", NULL), 0);
	mc_state_close(st);
	mc_test_rmtree(dir);
}

Test(breaker, probe_failure_reopens)
{
	char dir[MC_TEST_DIR_LEN];
	struct mc_state *st = opened(dir);
	double retry = -1;

	fake_now_s = 1040;
	cr_assert_eq(allow(st, "api", NULL), 1);
	fake_now_s = 1041;
	record(st, "api", 0);
	cr_assert_eq(allow(st, "api", &retry), 0);
	cr_assert_eq(retry, 1071);	/* opened_at is the probe's failure */
	fake_now_s = 1070.5;
	cr_assert_eq(allow(st, "api", NULL), 0);
	fake_now_s = 1071;
	cr_assert_eq(allow(st, "api", NULL), 1);
	cr_assert_eq(allow(st, "api", NULL), 0);
	mc_state_close(st);
	mc_test_rmtree(dir);
}

Test(breaker, stuck_probe_frees_after_recovery)
{
	char dir[MC_TEST_DIR_LEN];
	struct mc_state *st = opened(dir);
	double retry = -1;

	fake_now_s = 1030;
	cr_assert_eq(allow(st, "api", NULL), 1);	/* never reports */
	fake_now_s = 1059.9;
	cr_assert_eq(allow(st, "api", &retry), 0);
	cr_assert_eq(retry, 1060);
	fake_now_s = 1060;
	cr_assert_eq(allow(st, "api", NULL), 1);
	cr_assert_eq(allow(st, "api", NULL), 0);
	mc_state_close(st);
	mc_test_rmtree(dir);
}

Test(breaker, success_resets_consecutive_count)
{
	char dirbuf[MC_TEST_DIR_LEN], *dir = mc_test_dir(dirbuf);
	struct mc_state *st = open_state(dir);

	fake_now_s = 1000;
	fail_n(st, "api", 4);
	record(st, "api", 1);
	fail_n(st, "api", 4);
	cr_assert_eq(allow(st, "api", NULL), 1);
	record(st, "api", 0);
	cr_assert_eq(allow(st, "api", NULL), 0);
	mc_state_close(st);
	mc_test_rmtree(dir);
}

Test(breaker, conf_threshold_and_recovery)
{
	char dirbuf[MC_TEST_DIR_LEN], *dir = mc_test_dir(dirbuf);
	struct mc_state *st = open_state(dir);
	struct mc_breaker_conf c = { 2, 500 };
	struct mc_err err = { 0 };
	double retry = -1;

	fake_now_s = 1000;
	cr_assert_eq(mc_breaker_record(st, "x", 0, &c, &fake_clock, &err), 0);
	cr_assert_eq(mc_breaker_allow(st, "x", &c, &fake_clock, &retry, &err),
		     1);
	cr_assert_eq(mc_breaker_record(st, "x", 0, &c, &fake_clock, &err), 0);
	cr_assert_eq(mc_breaker_allow(st, "x", &c, &fake_clock, &retry, &err),
		     0);
	cr_assert_eq(retry, 1000.5);
	fake_now_s = 1000.5;
	cr_assert_eq(mc_breaker_allow(st, "x", &c, &fake_clock, &retry, &err),
		     1);
	mc_state_close(st);
	mc_test_rmtree(dir);
}

Test(breaker, shared_across_processes)
{
	char dirbuf[MC_TEST_DIR_LEN], *dir = mc_test_dir(dirbuf);
	struct mc_state *st;
	double retry = 0, before;
	int status;
	pid_t pid;

	/* no connection open in the parent while it forks */
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		struct mc_err err = { 0 };
		char *path = mc_asprintf("%s/state.db", dir);
		struct mc_state *cst = mc_state_open(path, &err);
		int rc = cst ? 0 : 1;

		for (int i = 0; cst && i < 5; i++)
			if (mc_breaker_record(cst, "shared", 0, &conf5, NULL,
					      &err) < 0)
				rc = 2;
		mc_state_close(cst);
		free(path);
		_exit(rc);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "child status %#x", status);
	st = open_state(dir);
	before = mc_wall_now();
	cr_assert_eq(mc_breaker_allow(st, "shared", &conf5, NULL, &retry,
				      NULL), 0);
	cr_assert_gt(retry, before);
	cr_assert_leq(retry, before + 30);
	mc_state_close(st);
	mc_test_rmtree(dir);
}

static const char odd_name[] = "it's \"odd\"; DROP TABLE breakers; --";

Test(breaker, list_and_reset)
{
	char dirbuf[MC_TEST_DIR_LEN], *dir = mc_test_dir(dirbuf);
	struct mc_state *st = open_state(dir);
	struct mc_breaker_info *list;
	struct mc_err err = { 0 };
	size_t n;

	fake_now_s = 1000;
	fail_n(st, "a", 5);
	fail_n(st, "b", 2);
	fail_n(st, odd_name, 1);
	record(st, "never-failed", 1);	/* success alone makes no row */
	cr_assert_eq(mc_breaker_list(st, &fake_clock, 30000, &list, &n, &err),
		     0, "%s", err.msg);
	cr_assert_eq(n, 3);
	cr_assert_str_eq(list[0].name, "a");
	cr_assert_eq(list[0].state, MC_BREAKER_OPEN);
	cr_assert_eq(list[0].failures, 5);
	cr_assert_eq(list[0].opened_at, 1000);
	cr_assert_eq(list[0].retry_at, 1030);
	cr_assert_eq(list[0].updated, 1000);
	cr_assert_str_eq(list[1].name, "b");
	cr_assert_eq(list[1].state, MC_BREAKER_CLOSED);
	cr_assert_eq(list[1].failures, 2);
	cr_assert_eq(list[1].opened_at, 0);
	cr_assert_str_eq(list[2].name, odd_name);
	mc_breaker_info_free(list, n);

	/* past recovery an open breaker reads half-open */
	fake_now_s = 1030;
	cr_assert_eq(mc_breaker_list(st, &fake_clock, 30000, &list, &n, &err),
		     0);
	cr_assert_eq(list[0].state, MC_BREAKER_HALF_OPEN);
	cr_assert_str_eq(mc_breaker_state_name(list[0].state), "half-open");
	mc_breaker_info_free(list, n);

	cr_assert_eq(mc_breaker_reset(st, "a", &err), 0, "%s", err.msg);
	cr_assert_eq(mc_breaker_reset(st, odd_name, &err), 0, "%s", err.msg);
	fake_now_s = 1001;
	cr_assert_eq(allow(st, "a", NULL), 1);
	cr_assert_eq(mc_breaker_list(st, &fake_clock, 30000, &list, &n, &err),
		     0);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(list[0].name, "b");
	mc_breaker_info_free(list, n);

	cr_assert_eq(mc_breaker_reset(st, "nope", &err), -1);
	cr_assert_eq(err.code, MC_EXIT_USAGE);
	cr_assert_str_eq(err.msg, "no breaker named 'nope'");
	mc_state_close(st);
	mc_test_rmtree(dir);
}

static int take(struct mc_state *st, const char *name, double rate,
		double burst, double n, double *wait_s)
{
	struct mc_err err = { 0 };
	int r = mc_bucket_take(st, name, rate, burst, n, &fake_clock, wait_s,
			       &err);

	cr_assert_neq(r, -1, "%s", err.msg);
	return r;
}

Test(bucket, starts_full_and_drains)
{
	char dirbuf[MC_TEST_DIR_LEN], *dir = mc_test_dir(dirbuf);
	struct mc_state *st = open_state(dir);
	double wait = -1;

	fake_now_s = 1000;
	for (int i = 0; i < 5; i++) {
		cr_assert_eq(take(st, "hook", 1, 5, 1, &wait), 1, "take %d", i);
		cr_assert_eq(wait, 0);
	}
	cr_assert_eq(take(st, "hook", 1, 5, 1, &wait), 0);
	cr_assert_eq(wait, 1.0);
	/* another bucket is independent */
	cr_assert_eq(take(st, "other", 1, 5, 5, NULL), 1);
	mc_state_close(st);
	mc_test_rmtree(dir);
}

Test(bucket, exact_wait_and_refill)
{
	char dirbuf[MC_TEST_DIR_LEN], *dir = mc_test_dir(dirbuf);
	struct mc_state *st = open_state(dir);
	double wait = -1;

	fake_now_s = 1000;
	cr_assert_eq(take(st, "b", 4, 10, 10, &wait), 1);
	cr_assert_eq(take(st, "b", 4, 10, 3, &wait), 0);
	cr_assert_eq(wait, 0.75);
	fake_now_s = 1000.5;		/* +2 tokens */
	cr_assert_eq(take(st, "b", 4, 10, 3, &wait), 0);
	cr_assert_eq(wait, 0.25);
	fake_now_s = 1000.75;		/* +1 token: 3 */
	cr_assert_eq(take(st, "b", 4, 10, 3, &wait), 1);
	cr_assert_eq(take(st, "b", 4, 10, 1, &wait), 0);
	cr_assert_eq(wait, 0.25);
	mc_state_close(st);
	mc_test_rmtree(dir);
}

Test(bucket, reserve_queues_callers_behind_each_other)
{
	char dirbuf[MC_TEST_DIR_LEN], *dir = mc_test_dir(dirbuf);
	struct mc_state *st = open_state(dir);
	struct mc_err err = { 0 };
	double wait = -1;

	fake_now_s = 1000;
	/* rate 1/s, burst 1: five callers at once get waits 0, 1, 2, 3, 4 */
	for (int i = 0; i < 5; i++) {
		cr_assert_eq(mc_bucket_reserve(st, "q", 1, 1, 1, 10,
					       &fake_clock, &wait, &err), 1,
			     "%s", err.msg);
		cr_assert_eq(wait, (double)i, "caller %d waits %g", i, wait);
	}
	/* the sixth would wait 5 s: more than it may */
	cr_assert_eq(mc_bucket_reserve(st, "q", 1, 1, 1, 4.5, &fake_clock,
				       &wait, &err), 0);
	cr_assert_eq(wait, 5.0);
	/* nothing was taken by the refusal: the queue drains with time */
	fake_now_s = 1005;
	cr_assert_eq(mc_bucket_reserve(st, "q", 1, 1, 1, 0, &fake_clock,
				       &wait, &err), 1);
	cr_assert_eq(wait, 0);
	cr_assert_eq(take(st, "q", 1, 1, 1, &wait), 0);
	cr_assert_eq(wait, 1.0);
	mc_state_close(st);
	mc_test_rmtree(dir);
}

Test(bucket, burst_caps_refill)
{
	char dirbuf[MC_TEST_DIR_LEN], *dir = mc_test_dir(dirbuf);
	struct mc_state *st = open_state(dir);
	double wait = -1;

	fake_now_s = 1000;
	cr_assert_eq(take(st, "b", 2, 3, 3, &wait), 1);
	fake_now_s = 5000;		/* would be 8000 tokens uncapped */
	cr_assert_eq(take(st, "b", 2, 3, 3, &wait), 1);
	cr_assert_eq(take(st, "b", 2, 3, 1, &wait), 0);
	cr_assert_eq(wait, 0.5);
	/* a clock that steps back refills nothing and breaks nothing */
	fake_now_s = 4000;
	cr_assert_eq(take(st, "b", 2, 3, 1, &wait), 0);
	cr_assert_eq(wait, 0.5);
	mc_state_close(st);
	mc_test_rmtree(dir);
}

Test(bucket, bad_arguments)
{
	char dirbuf[MC_TEST_DIR_LEN], *dir = mc_test_dir(dirbuf);
	struct mc_state *st = open_state(dir);
	struct mc_err err = { 0 };

	cr_assert_eq(mc_bucket_take(st, "b", 1, 3, 4, &fake_clock, NULL, &err),
		     -1);
	cr_assert_eq(err.code, MC_EXIT_USAGE);
	cr_assert_eq(mc_bucket_take(st, "b", 0, 3, 1, &fake_clock, NULL, &err),
		     -1);
	cr_assert_eq(err.code, MC_EXIT_USAGE);
	mc_state_close(st);
	mc_test_rmtree(dir);
}

Test(bucket, shared_by_processes)
{
	char dirbuf[MC_TEST_DIR_LEN], *dir = mc_test_dir(dirbuf);
	pid_t pids[4];
	int total = 0;

	fake_now_s = 1000;
	for (int i = 0; i < 4; i++) {
		pids[i] = fork();
		cr_assert(pids[i] >= 0);
		if (pids[i] == 0) {
			struct mc_err err = { 0 };
			char *path = mc_asprintf("%s/state.db", dir);
			struct mc_state *st = mc_state_open(path, &err);
			int got = 0;

			free(path);
			if (st == NULL)
				_exit(100);
			for (int j = 0; j < 5; j++) {
				int r = mc_bucket_take(st, "shared", 1e-9, 10,
						       1, &fake_clock, NULL,
						       &err);
				if (r < 0) {
					mc_state_close(st);
					_exit(101);
				}
				got += r;
			}
			mc_state_close(st);
			_exit(got);
		}
	}
	for (int i = 0; i < 4; i++) {
		int status;

		cr_assert_eq(waitpid(pids[i], &status, 0), pids[i]);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) <= 5,
			  "child %d status %#x", i, status);
		total += WEXITSTATUS(status);
	}
	cr_assert_eq(total, 10);
	mc_test_rmtree(dir);
}

/* A child that holds a lock: it says so on `ready`, then waits for a byte
 * (or EOF) on `cmd` before releasing it, or with die set exits without
 * releasing. */
struct holder {
	pid_t pid;
	int cmd;
	int ready;
};

static void holder_start(struct holder *h, const char *dir, const char *name,
			 int die)
{
	int to_child[2], from_child[2];
	char c;

	cr_assert_eq(pipe(to_child), 0);
	cr_assert_eq(pipe(from_child), 0);
	h->pid = fork();
	cr_assert(h->pid >= 0);
	if (h->pid == 0) {
		struct mc_lock *lock;

		close(to_child[1]);
		close(from_child[0]);
		lock = mc_lock_take(dir, name, 0, NULL);
		c = lock ? 'y' : 'n';
		if (write(from_child[1], &c, 1) != 1 || lock == NULL || die)
			_exit(lock ? 0 : 1);
		while (read(to_child[0], &c, 1) < 0 && errno == EINTR)
			;
		mc_lock_release(lock);
		_exit(0);
	}
	close(to_child[0]);
	close(from_child[1]);
	h->cmd = to_child[1];
	h->ready = from_child[0];
	cr_assert_eq(read(h->ready, &c, 1), 1);
	cr_assert_eq(c, 'y', "the child could not take the lock");
}

static void holder_release(struct holder *h)
{
	cr_assert_eq(write(h->cmd, "r", 1), 1);
}

static void holder_reap(struct holder *h)
{
	int status;

	close(h->cmd);
	close(h->ready);
	cr_assert_eq(waitpid(h->pid, &status, 0), h->pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

#define PATH_LEN 160

static char *path_in(char *buf, const char *dir, const char *file)
{
	int n = snprintf(buf, PATH_LEN, "%s/%s", dir, file);

	cr_assert(n > 0 && n < PATH_LEN);
	return buf;
}

Test(lock, held_by_child_fails_at_once_then_frees)
{
	char dirbuf[MC_TEST_DIR_LEN], *dir = mc_test_dir(dirbuf);
	char lbuf[PATH_LEN], *locks = path_in(lbuf, dir, "locks");
	char fbuf[PATH_LEN];
	char *file = path_in(fbuf, locks, "dlq_replay_orders.lock");
	struct mc_err err = { 0 };
	struct holder h;
	struct mc_lock *lock;
	char want[128], *data;
	size_t len;
	double t0;

	holder_start(&h, locks, "dlq replay/orders", 0);
	t0 = mc_mono_now();
	cr_assert_null(mc_lock_take(locks, "dlq replay/orders", 0, &err));
	cr_assert_lt(mc_mono_now() - t0, 1.0);
	cr_assert_eq(err.code, MC_EXIT_TEMPFAIL);
	snprintf(want, sizeof(want),
		 "another run holds the lock 'dlq replay/orders' (pid %ld)",
		 (long)h.pid);
	cr_assert_str_eq(err.msg, want);
	holder_release(&h);
	holder_reap(&h);

	lock = mc_lock_take(locks, "dlq replay/orders", 0, &err);
	cr_assert_not_null(lock, "%s", err.msg);
	data = mc_read_file(file, 100, &len, &err);
	cr_assert_not_null(data, "%s", err.msg);
	snprintf(want, sizeof(want), "%ld\n", (long)getpid());
	cr_assert_str_eq(data, want);
	free(data);
	mc_lock_release(lock);
	/* released: empty, but still there */
	data = mc_read_file(file, 100, &len, &err);
	cr_assert_not_null(data, "%s", err.msg);
	cr_assert_eq(len, 0);
	free(data);
	mc_test_rmtree(dir);
}

Test(lock, wait_succeeds_when_holder_releases)
{
	char dirbuf[MC_TEST_DIR_LEN], *dir = mc_test_dir(dirbuf);
	struct mc_err err = { 0 };
	struct mc_lock *lock;
	struct holder h;
	double t0;

	holder_start(&h, dir, "backup", 0);
	t0 = mc_mono_now();
	holder_release(&h);
	lock = mc_lock_take(dir, "backup", 10000, &err);
	cr_assert_not_null(lock, "%s", err.msg);
	cr_assert_lt(mc_mono_now() - t0, 10.0);
	mc_lock_release(lock);
	holder_reap(&h);
	mc_test_rmtree(dir);
}

Test(lock, dead_holder_frees_the_lock)
{
	char dirbuf[MC_TEST_DIR_LEN], *dir = mc_test_dir(dirbuf);
	struct mc_err err = { 0 };
	struct mc_lock *lock;
	struct holder h;

	holder_start(&h, dir, "oauth", 1);
	holder_reap(&h);
	lock = mc_lock_take(dir, "oauth", 0, &err);
	cr_assert_not_null(lock, "%s", err.msg);
	mc_lock_release(lock);
	mc_test_rmtree(dir);
}

Test(lock, wait_times_out_naming_the_wait)
{
	char dirbuf[MC_TEST_DIR_LEN], *dir = mc_test_dir(dirbuf);
	struct mc_err err = { 0 };
	struct mc_lock *mine, *again;
	char want[128];
	double t0;

	/* flock locks belong to the open file: a second open conflicts */
	mine = mc_lock_take(dir, "x", 0, &err);
	cr_assert_not_null(mine, "%s", err.msg);
	t0 = mc_mono_now();
	cr_assert_null(mc_lock_take(dir, "x", 120, &err));
	cr_assert_geq(mc_mono_now() - t0, 0.119);
	cr_assert_eq(err.code, MC_EXIT_TEMPFAIL);
	snprintf(want, sizeof(want),
		 "another run holds the lock 'x' (pid %ld) after waiting 120ms",
		 (long)getpid());
	cr_assert_str_eq(err.msg, want);
	mc_lock_release(mine);
	again = mc_lock_take(dir, "x", 0, &err);
	cr_assert_not_null(again, "%s", err.msg);
	mc_lock_release(again);
	mc_test_rmtree(dir);
}

Test(lock, unreadable_pid_is_unknown)
{
	char dirbuf[MC_TEST_DIR_LEN], *dir = mc_test_dir(dirbuf);
	char fbuf[PATH_LEN], *file = path_in(fbuf, dir, "x.lock");
	struct mc_err err = { 0 };
	struct mc_lock *mine;

	mine = mc_lock_take(dir, "x", 0, &err);
	cr_assert_not_null(mine, "%s", err.msg);
	cr_assert_eq(truncate(file, 0), 0);
	cr_assert_null(mc_lock_take(dir, "x", 0, &err));
	cr_assert_str_eq(err.msg,
			 "another run holds the lock 'x' (pid unknown)");
	mc_lock_release(mine);
	mc_test_rmtree(dir);
}

static void check_interrupt(int sig, int code)
{
	char dirbuf[MC_TEST_DIR_LEN], *dir = mc_test_dir(dirbuf);
	struct mc_err err = { 0 };
	struct mc_lock *mine;
	double t0;

	mine = mc_lock_take(dir, "x", 0, &err);
	cr_assert_not_null(mine, "%s", err.msg);
	mc_interrupted = sig;
	t0 = mc_mono_now();
	cr_assert_null(mc_lock_take(dir, "x", 10000, &err));
	mc_interrupted = 0;
	cr_assert_lt(mc_mono_now() - t0, 1.0);
	cr_assert_eq(err.code, code);
	cr_assert_not_null(strstr(err.msg, "interrupted"), "%s", err.msg);
	mc_lock_release(mine);
	mc_test_rmtree(dir);
}

Test(lock, interrupted_wait_sigint)
{
	check_interrupt(SIGINT, MC_EXIT_SIGINT);
}

Test(lock, interrupted_wait_sigterm)
{
	check_interrupt(SIGTERM, MC_EXIT_SIGTERM);
}

Test(lock, name_sanitized_and_dir_created)
{
	char dirbuf[MC_TEST_DIR_LEN], *dir = mc_test_dir(dirbuf);
	char lbuf[PATH_LEN], *locks = path_in(lbuf, dir, "a/b/locks");
	char fbuf[PATH_LEN];
	char *file = path_in(fbuf, locks, "a_b_c_.._d-1.2.lock");
	struct mc_err err = { 0 };
	struct mc_lock *lock;
	struct stat sb;

	lock = mc_lock_take(locks, "a/b c/../d-1.2", 0, &err);
	cr_assert_not_null(lock, "%s", err.msg);
	cr_assert_eq(stat(file, &sb), 0, "%s: %s", file, strerror(errno));
	cr_assert_eq(sb.st_mode & 0077, 0);
	mc_lock_release(lock);
	cr_assert_eq(stat(file, &sb), 0);
	mc_test_rmtree(dir);
}

Test(resil, backoff_bounds)
{
	static const struct {
		int attempt;
		int64_t base, cap, ceiling;
	} cases[] = {
		{ 0, 100, 10000, 100 }, { 1, 100, 10000, 200 },
		{ 3, 100, 10000, 800 }, { 7, 100, 10000, 10000 },
		{ 40, 100, 5000, 5000 }, { 1000, 250, 30000, 30000 },
		{ INT_MAX, 1, 60000, 60000 },
	};

	for (size_t i = 0; i < MC_ARRAY_LEN(cases); i++) {
		int64_t hi = mc_backoff_ms(cases[i].attempt, cases[i].base,
					   cases[i].cap, 0.999);

		cr_assert_eq(mc_backoff_ms(cases[i].attempt, cases[i].base,
					   cases[i].cap, 0), 0);
		cr_assert_lt(hi, cases[i].ceiling, "case %zu: %lld", i,
			     (long long)hi);
		cr_assert_geq(hi, cases[i].ceiling * 99 / 100, "case %zu: %lld",
			      i, (long long)hi);
		cr_assert_leq(hi, cases[i].cap);
	}
}
