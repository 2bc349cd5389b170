/* test_proc.c - the process runner (lib/proc.c): trees that try to escape
 * (setsid, SIGTERM ignored, double forks) are killed whole on a stop, a
 * timeout, a signal and at exit; stdio plumbing; the child's environment
 * without secrets; statuses. Every process a test starts carries a random
 * mark in its environment, so /proc tells whether any of them survived. */
#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mc.h"
#include "proc.h"
#include "testlib.h"

#define T_TIMEOUT 60
#define MARK_VAR "MC_PROC_TEST_MARK"

struct marked {
	char mark[40];		/* MARK_VAR=hex */
	const char *env[3];
};

static void mark_new(struct marked *m, const char *extra)
{
	unsigned char r[8];
	char hex[17];

	mc_random_bytes(r, sizeof(r));
	mc_hex(r, sizeof(r), hex);
	snprintf(m->mark, sizeof(m->mark), MARK_VAR "=%s", hex);
	m->env[0] = m->mark;
	m->env[1] = extra;
	m->env[2] = NULL;
}

static int marked_alive(const struct marked *m)
{
	return mc_test_env_alive(m->mark);
}

static void assert_no_child(void)
{
	int st;

	errno = 0;
	cr_assert_eq(waitpid(-1, &st, WNOHANG), -1, "a child is waitable");
	cr_assert_eq(errno, ECHILD, "a child is left: %s", strerror(errno));
}

/* Steps p until the file at path holds n lines (the tree has started
 * what it announces there), bounded. */
static void step_until_lines(struct mc_proc *p, const char *path, int n)
{
	double end = mc_mono_now() + 20;

	for (;;) {
		FILE *f = fopen(path, "r");
		int lines = 0, c;

		if (f) {
			while ((c = fgetc(f)) != EOF)
				lines += c == '\n';
			fclose(f);
		}
		if (lines >= n)
			return;
		cr_assert_lt(mc_mono_now(), end, "%s: %d of %d lines", path,
			     lines, n);
		cr_assert_eq(mc_proc_step(p, NULL, 10), 1,
			     "the run ended early");
	}
}

/* A tree that does all it can to survive: the leader ignores SIGTERM;
 * one child leaves the group with setsid and ignores SIGTERM too; another
 * double-forks out of a new session so that its parent is gone (it is
 * re-parented to us). Each writes a line into pids when it runs. */
static const char *escaper =
	"trap '' TERM; "
	"setsid sh -c 'trap \"\" TERM; echo a >>\"$0\"; sleep 30' \"$0\" & "
	"setsid sh -c '(trap \"\" TERM; echo b >>\"$0\"; sleep 30) & exit 0' \"$0\"; "
	"echo c >>\"$0\"; sleep 30";

static struct mc_proc *start_escaper(const char *dir, const struct marked *m,
				     char pids[256], int64_t timeout_ms)
{
	struct mc_err err = { 0 };
	struct mc_proc *p = NULL;
	char *const argv[] = { "/bin/sh", "-c", (char *)escaper, pids, NULL };
	struct mc_proc_opts o = {
		.argv = argv,
		.io = { MC_PROC_DEVNULL, MC_PROC_DEVNULL, MC_PROC_DEVNULL },
		.env_add = m->env,
		.timeout_ms = timeout_ms,
	};

	snprintf(pids, 256, "%s/pids", dir);
	cr_assert_eq(mc_proc_start(&o, &p, &err), 0, "%s", err.msg);
	step_until_lines(p, pids, 3);
	cr_assert_geq(marked_alive(m), 3, "the tree has %d processes",
		      marked_alive(m));
	return p;
}

enum how { BY_STOP, BY_TIMEOUT, BY_SIGNAL };

/* Starts the escaper, ends it the way asked, and checks nothing of it
 * survived. */
static struct mc_proc_result escape_case(enum how how)
{
	char dir[MC_TEST_DIR_LEN], pids[256];
	struct marked m;
	struct mc_proc *p;
	struct mc_proc_result res;

	mark_new(&m, NULL);
	mc_test_dir(dir);
	/* The timeout is long enough to start under valgrind; the test
	 * waits on the file. */
	p = start_escaper(dir, &m, pids, how == BY_TIMEOUT ? 3000 : 0);
	if (how == BY_STOP)
		mc_proc_kill(p);
	if (how == BY_SIGNAL)
		mc_interrupted = SIGTERM;
	mc_proc_wait(p, NULL, &res);
	mc_interrupted = 0;
	cr_assert_not(res.unkillable);
	mc_proc_free(p);
	cr_assert_eq(marked_alive(&m), 0, "%d survived", marked_alive(&m));
	assert_no_child();
	mc_test_rmtree(dir);
	return res;
}

Test(proc, stop_kills_setsid_escapers, .timeout = T_TIMEOUT)
{
	struct mc_proc_result res = escape_case(BY_STOP);

	cr_assert(res.aborted);
	cr_assert_eq(res.signal, SIGKILL, "the leader ignored SIGTERM");
}

Test(proc, timeout_kills_setsid_escapers, .timeout = T_TIMEOUT)
{
	struct mc_proc_result res = escape_case(BY_TIMEOUT);

	cr_assert(res.timed_out);
	cr_assert_eq(mc_proc_status(&res), 124);
}

Test(proc, signal_kills_the_tree, .timeout = T_TIMEOUT)
{
	struct mc_proc_result res = escape_case(BY_SIGNAL);

	cr_assert(res.interrupted);
	cr_assert_not(res.timed_out);
}

Test(proc, deadline_kills_the_tree, .timeout = T_TIMEOUT)
{
	char dir[MC_TEST_DIR_LEN], pids[256];
	struct marked m;
	struct mc_proc *p;
	struct mc_proc_result res;
	struct mc_deadline dl = { 0 };
	struct mc_err err = { 0 };
	char *const argv[] = { "/bin/sh", "-c", (char *)escaper, pids, NULL };
	struct mc_proc_opts o = {
		.argv = argv, .dl = &dl,
		.io = { MC_PROC_DEVNULL, MC_PROC_DEVNULL, MC_PROC_DEVNULL },
	};

	mark_new(&m, NULL);
	o.env_add = m.env;
	mc_test_dir(dir);
	snprintf(pids, sizeof(pids), "%s/pids", dir);
	cr_assert_eq(mc_proc_start(&o, &p, &err), 0, "%s", err.msg);
	step_until_lines(p, pids, 3);
	mc_deadline_set(&dl, 1);	/* passes now */
	mc_proc_wait(p, NULL, &res);
	cr_assert(res.deadline);
	cr_assert_eq(mc_proc_status(&res), 124);
	mc_proc_free(p);
	cr_assert_eq(marked_alive(&m), 0);
	assert_no_child();
	mc_test_rmtree(dir);
}

/* The leader exits at once, leaving a setsid'd child and a daemon behind
 * (both re-parented to us): the run kills them as it ends. */
Test(proc, exit_kills_what_is_left, .timeout = T_TIMEOUT)
{
	char dir[MC_TEST_DIR_LEN], pids[256], cmd[1200];
	struct marked m;
	struct mc_proc_result res;
	struct mc_err err = { 0 };
	char *const argv[] = { "/bin/sh", "-c", cmd, NULL };
	struct mc_proc_opts o = {
		.argv = argv,
		.io = { MC_PROC_DEVNULL, MC_PROC_DEVNULL, MC_PROC_DEVNULL },
	};

	mark_new(&m, NULL);
	o.env_add = m.env;
	mc_test_dir(dir);
	snprintf(pids, sizeof(pids), "%s/pids", dir);
	/* The leader waits until both have started, then exits 7. */
	snprintf(cmd, sizeof(cmd),
		 "setsid sh -c 'trap \"\" TERM; echo a >>%s; sleep 30' & "
		 "setsid sh -c '(echo b >>%s; sleep 30) & exit 0'; "
		 "while [ $(wc -l <%s) -lt 2 ]; do sleep 0.01; done; exit 7",
		 pids, pids, pids);
	cr_assert_eq(mc_proc_run(&o, NULL, &res, &err), 0, "%s", err.msg);
	cr_assert(res.exited);
	cr_assert_eq(res.exit_code, 7);
	cr_assert_eq(mc_proc_status(&res), 7);
	cr_assert_eq(marked_alive(&m), 0, "%d survived", marked_alive(&m));
	assert_no_child();
	mc_test_rmtree(dir);
}

/* Two runs at once in one process: the end of one leaves the other's
 * group alone. */
Test(proc, runs_do_not_kill_each_other, .timeout = T_TIMEOUT)
{
	struct marked m;
	struct mc_proc *a, *b;
	struct mc_proc_result ra, rb;
	struct mc_err err = { 0 };
	char dir[MC_TEST_DIR_LEN], *script, *pidfile;
	char *const argv_a[] = { "/bin/sh", "-c", "exit 3", NULL };
	/* b's shell and its sleep live until the test ends the sleep: no
	 * timer of theirs can run out while a is being started on a loaded
	 * machine (a "sleep 0.3" could, and then only the shell was left). */
	struct mc_proc_opts oa = { .argv = argv_a };
	struct mc_proc_opts ob = { 0 };
	long sleeper = 0;

	mc_test_dir(dir);
	pidfile = mc_asprintf("%s/sleep.pid", dir);
	script = mc_asprintf("sleep 60 & echo $! >%s; wait $!; echo done; "
			     "exit 4", pidfile);
	char *const argv_b[] = { "/bin/sh", "-c", script, NULL };

	mark_new(&m, NULL);
	ob.argv = argv_b;
	ob.env_add = m.env;
	ob.io[1] = ob.io[2] = MC_PROC_DEVNULL;
	cr_assert_eq(mc_proc_start(&ob, &b, &err), 0, "%s", err.msg);
	/* b's shell has forked its sleep before a starts */
	for (int i = 0; i < 500 && marked_alive(&m) < 2; i++)
		usleep(10000);
	cr_assert_eq(mc_proc_start(&oa, &a, &err), 0, "%s", err.msg);
	mc_proc_wait(a, NULL, &ra);
	cr_assert_eq(ra.exit_code, 3);
	cr_assert_eq(marked_alive(&m), 2, "b's shell and sleep go on");
	/* now b ends as it would: its sleep ends, its shell exits 4 */
	for (int i = 0; i < 500 && sleeper <= 0; i++) {
		FILE *f = fopen(pidfile, "r");

		if (f == NULL || fscanf(f, "%ld", &sleeper) != 1)
			usleep(10000);
		if (f)
			fclose(f);
	}
	cr_assert_gt(sleeper, 0, "b's sleep never said its pid");
	cr_assert_eq(kill((pid_t)sleeper, SIGTERM), 0);
	mc_proc_wait(b, NULL, &rb);
	cr_assert(rb.exited);
	cr_assert_eq(rb.exit_code, 4);
	mc_proc_free(a);
	mc_proc_free(b);
	assert_no_child();
	mc_test_rmtree(dir);
	free(pidfile);
	free(script);
}

Test(proc, kill_all_at_exit, .timeout = T_TIMEOUT)
{
	char dir[MC_TEST_DIR_LEN], pids[256];
	struct marked m;
	struct mc_proc *p;

	mark_new(&m, NULL);
	mc_test_dir(dir);
	p = start_escaper(dir, &m, pids, 0);
	/* What the atexit handler does for a run nobody waits for. */
	mc_proc_kill_all();
	cr_assert_eq(marked_alive(&m), 0, "%d survived", marked_alive(&m));
	mc_proc_free(p);
	assert_no_child();
	mc_test_rmtree(dir);
}

/* ---- stdio -------------------------------------------------------------- */

struct feed {
	size_t total, sent;
	struct mc_buf got[3];
	int stop_after;		/* output: -1 after this many bytes (0: no) */
};

static ssize_t feed_input(void *ctx, char *buf, size_t cap)
{
	struct feed *f = ctx;
	size_t n = f->total - f->sent < cap ? f->total - f->sent : cap;

	for (size_t i = 0; i < n; i++)
		buf[i] = (char)('a' + (f->sent + i) % 26);
	f->sent += n;
	return (ssize_t)n;
}

static int feed_output(void *ctx, int fd, const char *data, size_t len)
{
	struct feed *f = ctx;

	cr_assert(fd == 1 || fd == 2);
	mc_buf_add(&f->got[fd], data, len);
	return f->stop_after && f->got[fd].len >= (size_t)f->stop_after ?
	       -1 : 0;
}

Test(proc, pipes_both_ways, .timeout = T_TIMEOUT)
{
	struct feed f = { .total = 3 * 1024 * 1024 + 17 };
	struct mc_proc_io io = { feed_output, feed_input, &f };
	char *const argv[] = { "cat", NULL };	/* found in PATH */
	struct mc_proc_opts o = {
		.argv = argv,
		.io = { MC_PROC_PIPE, MC_PROC_PIPE, MC_PROC_DEVNULL },
	};
	struct mc_proc_result res;
	struct mc_err err = { 0 };

	cr_assert_eq(mc_proc_run(&o, &io, &res, &err), 0, "%s", err.msg);
	cr_assert(res.exited);
	cr_assert_eq(res.exit_code, 0);
	cr_assert_eq(f.got[1].len, f.total);
	for (size_t i = 0; i < f.total; i += 4099)
		cr_assert_eq(f.got[1].data[i], 'a' + i % 26, "byte %zu", i);
	mc_buf_release(&f.got[1]);
	assert_no_child();
}

Test(proc, stdout_and_stderr_apart, .timeout = T_TIMEOUT)
{
	struct feed f = { 0 };
	struct mc_proc_io io = { feed_output, NULL, &f };
	char *const argv[] = { "/bin/sh", "-c",
			       "echo out; echo err >&2; read x; echo \"[$x]\"",
			       NULL };
	struct mc_proc_opts o = {
		.argv = argv,
		.io = { MC_PROC_DEVNULL, MC_PROC_PIPE, MC_PROC_PIPE },
	};
	struct mc_proc_result res;
	struct mc_err err = { 0 };

	cr_assert_eq(mc_proc_run(&o, &io, &res, &err), 0, "%s", err.msg);
	cr_assert_eq(res.exit_code, 0);
	cr_assert_str_eq(f.got[1].data, "out\n[]\n");
	cr_assert_str_eq(f.got[2].data, "err\n");
	mc_buf_release(&f.got[1]);
	mc_buf_release(&f.got[2]);
}

Test(proc, caller_descriptor_and_cwd, .timeout = T_TIMEOUT)
{
	char dir[MC_TEST_DIR_LEN], path[256], *text;
	char *const argv[] = { "/bin/sh", "-c", "pwd; echo to-file", NULL };
	struct mc_proc_opts o = { .argv = argv };
	struct mc_proc_result res;
	struct mc_err err = { 0 };
	int fd;

	mc_test_dir(dir);
	snprintf(path, sizeof(path), "%s/out", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	cr_assert_geq(fd, 0);
	o.io[1] = MC_PROC_FD;
	o.fd[1] = fd;
	o.cwd = dir;
	cr_assert_eq(mc_proc_run(&o, NULL, &res, &err), 0, "%s", err.msg);
	close(fd);
	text = mc_read_file(path, 4096, NULL, &err);
	cr_assert_not_null(text, "%s", err.msg);
	cr_assert(strstr(text, dir) != NULL, "pwd: %s", text);
	cr_assert(strstr(text, "to-file\n") != NULL);
	free(text);
	mc_test_rmtree(dir);
}

/* A callback that says stop: the run is killed, with what it gave. */
Test(proc, output_callback_stops_the_run, .timeout = T_TIMEOUT)
{
	struct feed f = { .stop_after = 1 };
	struct mc_proc_io io = { feed_output, NULL, &f };
	char *const argv[] = { "/bin/sh", "-c",
			       "trap '' TERM; echo hi; exec sleep 30", NULL };
	struct mc_proc_opts o = {
		.argv = argv,
		.io = { MC_PROC_DEVNULL, MC_PROC_PIPE, MC_PROC_DEVNULL },
	};
	struct mc_proc_result res;
	struct mc_err err = { 0 };

	cr_assert_eq(mc_proc_run(&o, &io, &res, &err), 0, "%s", err.msg);
	cr_assert(res.aborted);
	cr_assert_not(res.exited);
	cr_assert_eq(res.signal, SIGKILL);
	cr_assert_str_eq(f.got[1].data, "hi\n");
	mc_buf_release(&f.got[1]);
	assert_no_child();
}

/* A child that stops reading stdin: no SIGPIPE for us, the run goes on. */
Test(proc, reader_gone_is_no_signal, .timeout = T_TIMEOUT)
{
	struct feed f = { .total = 8 * 1024 * 1024 };
	struct mc_proc_io io = { feed_output, feed_input, &f };
	char *const argv[] = { "/bin/sh", "-c", "exec 0<&-; exit 5", NULL };
	struct mc_proc_opts o = {
		.argv = argv,
		.io = { MC_PROC_PIPE, MC_PROC_DEVNULL, MC_PROC_DEVNULL },
	};
	struct mc_proc_result res;
	struct mc_err err = { 0 };

	cr_assert_eq(mc_proc_run(&o, &io, &res, &err), 0, "%s", err.msg);
	cr_assert_eq(res.exit_code, 5);
}

/* ---- starting, statuses, environment ------------------------------------ */

Test(proc, start_failures, .timeout = T_TIMEOUT)
{
	char dir[MC_TEST_DIR_LEN], path[256];
	char *const missing[] = { "no-such-command-mc-test", NULL };
	char *const noexec[] = { path, NULL };
	struct mc_proc_opts o = { .argv = missing };
	struct mc_proc *p = (struct mc_proc *)1;
	struct mc_err err = { 0 };
	int fd;

	cr_assert_eq(mc_proc_start(&o, &p, &err), -1);
	cr_assert_null(p);
	cr_assert_eq(err.sys_errno, ENOENT);
	cr_assert(strstr(err.msg, "cannot run no-such-command-mc-test") != NULL,
		  "%s", err.msg);
	mc_test_dir(dir);
	snprintf(path, sizeof(path), "%s/plain", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "echo hi\n", 8), 8);
	close(fd);
	o.argv = noexec;
	cr_assert_eq(mc_proc_start(&o, &p, &err), -1);
	cr_assert_eq(err.sys_errno, EACCES, "%s", err.msg);
	chmod(path, 0755);	/* executable, but no #!: never a shell */
	cr_assert_eq(mc_proc_start(&o, &p, &err), -1);
	cr_assert_eq(err.sys_errno, ENOEXEC, "%s", err.msg);
	assert_no_child();
	mc_test_rmtree(dir);
}

Test(proc, status_of_a_signal, .timeout = T_TIMEOUT)
{
	char *const argv[] = { "/bin/sh", "-c", "kill -USR1 $$", NULL };
	struct mc_proc_opts o = { .argv = argv };
	struct mc_proc_result res;

	cr_assert_eq(mc_proc_run(&o, NULL, &res, NULL), 0);
	cr_assert_not(res.exited);
	cr_assert_eq(res.signal, SIGUSR1);
	cr_assert_eq(mc_proc_status(&res), 128 + SIGUSR1);
}

Test(proc, environment_without_secrets, .timeout = T_TIMEOUT)
{
	struct feed f = { 0 };
	struct mc_proc_io io = { feed_output, NULL, &f };
	char *const argv[] = { "env", NULL };
	const char *add[] = { "MC_TEST_TOKEN=added-token", "HOME=/added",
			      NULL };
	struct mc_proc_opts o = {
		.argv = argv, .env_add = add,
		.io = { MC_PROC_DEVNULL, MC_PROC_PIPE, MC_PROC_DEVNULL },
	};
	struct mc_proc_result res;
	struct mc_err err = { 0 };
	const char *const planted[] = {
		"MERCURY_REDIS_PASSWORD", "MERCURY_DB_password_FILE",
		"REDISCLI_AUTH", "MC_TEST_HOOK_URL",
	};

	for (size_t i = 0; i < MC_ARRAY_LEN(planted); i++)
		cr_assert_eq(setenv(planted[i], "planted-secret-4711", 1), 0);
	cr_assert_eq(setenv("MC_TEST_PLAIN", "plain-value", 1), 0);
	mc_proc_secret_env("MC_TEST_HOOK_URL");
	cr_assert(mc_proc_env_is_secret("MC_TEST_HOOK_URL"));
	cr_assert_not(mc_proc_env_is_secret("MC_TEST_PLAIN"));
	cr_assert_eq(mc_proc_run(&o, &io, &res, &err), 0, "%s", err.msg);
	cr_assert_eq(res.exit_code, 0);
	cr_assert_not_null(f.got[1].data);
	cr_assert(strstr(f.got[1].data, "planted-secret") == NULL,
		  "a secret reached the child:\n%s", f.got[1].data);
	cr_assert(strstr(f.got[1].data, "\nMC_TEST_PLAIN=plain-value\n"));
	cr_assert(strstr(f.got[1].data, "\nMC_TEST_TOKEN=added-token\n"));
	{
		int homes = strncmp(f.got[1].data, "HOME=", 5) == 0;

		for (const char *q = f.got[1].data;
		     (q = strstr(q, "\nHOME=")) != NULL; q++)
			homes++;
		cr_assert_eq(homes, 1, "HOME %d times", homes);
		cr_assert(strstr(f.got[1].data, "HOME=/added\n"));
	}
	mc_buf_release(&f.got[1]);
}

/* 1 when pid is a zombie: exited, not reaped (the runner reaps a leader
 * only when the run is over). */
static int is_zombie(pid_t pid)
{
	char path[64], buf[512], *rp;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	rp = strrchr(buf, ')');
	return rp && rp[1] == ' ' && rp[2] == 'Z';
}

/* drain: what a process the command started writes after the command
 * exited is read to the end, however long after (here: once the test
 * opens a FIFO, several steps past linger_ms), and nothing is cut. */
Test(proc, drain_reads_to_the_end, .timeout = T_TIMEOUT)
{
	char dir[MC_TEST_DIR_LEN], fifo[256], cmd[600];
	struct feed f = { 0 };
	struct mc_proc_io io = { feed_output, NULL, &f };
	char *const argv[] = { "/bin/sh", "-c", cmd, NULL };
	struct mc_proc_opts o = {
		.argv = argv,
		.io = { MC_PROC_DEVNULL, MC_PROC_PIPE, MC_PROC_DEVNULL },
		.linger_ms = 1,
		.timeout_ms = 60000,
		.drain = MC_PROC_DRAIN_STDOUT,
	};
	const struct mc_proc_result *res;
	struct mc_proc *p;
	struct mc_err err = { 0 };
	double end = mc_mono_now() + 20;
	int fd;

	mc_test_dir(dir);
	snprintf(fifo, sizeof(fifo), "%s/gate", dir);
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	snprintf(cmd, sizeof(cmd), "(read x <%s; echo late) & echo early",
		 fifo);
	cr_assert_eq(mc_proc_start(&o, &p, &err), 0, "%s", err.msg);
	while (!is_zombie(mc_proc_pid(p))) {
		cr_assert_lt(mc_mono_now(), end, "the leader never exited");
		cr_assert_eq(mc_proc_step(p, &io, 10), 1, "ended early");
	}
	for (int i = 0; i < 5; i++)
		cr_assert_eq(mc_proc_step(p, &io, 10), 1,
			     "the run ended with a pipe to drain open");
	fd = open(fifo, O_WRONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "\n", 1), 1);
	close(fd);
	while (mc_proc_step(p, &io, -1))
		cr_assert_lt(mc_mono_now(), end, "the run never ended");
	res = mc_proc_result(p);
	cr_assert(res->exited);
	cr_assert_eq(res->exit_code, 0);
	cr_assert_not(res->timed_out);
	cr_assert_eq(res->cut, 0);
	cr_assert_eq(f.got[1].len, 11);
	cr_assert_eq(memcmp(f.got[1].data, "early\nlate\n", 11), 0);
	mc_proc_free(p);
	mc_buf_release(&f.got[1]);
	assert_no_child();
	mc_test_rmtree(dir);
}

/* drain is bounded: a process left holding the pipe is killed at the
 * timeout, and the result says so although the command exited 0. Without
 * drain the pipe is given up after linger_ms and the result says it was
 * cut. */
Test(proc, drain_bounded_by_timeout_and_cut_said, .timeout = T_TIMEOUT)
{
	struct feed f = { 0 };
	struct mc_proc_io io = { feed_output, NULL, &f };
	char *const argv[] = { "/bin/sh", "-c", "sleep 60 & echo early", NULL };
	struct mc_proc_opts o = {
		.argv = argv,
		.io = { MC_PROC_DEVNULL, MC_PROC_PIPE, MC_PROC_DEVNULL },
		.linger_ms = 1,
		.timeout_ms = 300,
		.drain = MC_PROC_DRAIN_STDOUT,
	};
	struct mc_proc_result res;
	struct mc_err err = { 0 };
	struct marked m;

	mark_new(&m, NULL);
	o.env_add = m.env;
	cr_assert_eq(mc_proc_run(&o, &io, &res, &err), 0, "%s", err.msg);
	cr_assert(res.timed_out, "not ended by the timeout");
	cr_assert(res.exited);
	cr_assert_eq(res.exit_code, 0);
	cr_assert_eq(mc_proc_status(&res), 124);
	cr_assert_eq(marked_alive(&m), 0, "%d survived", marked_alive(&m));
	mc_buf_release(&f.got[1]);

	o.drain = 0;
	mark_new(&m, NULL);
	o.env_add = m.env;
	cr_assert_eq(mc_proc_run(&o, &io, &res, &err), 0, "%s", err.msg);
	cr_assert_not(res.timed_out);
	cr_assert(res.exited);
	cr_assert_eq(res.cut, 1u << 1, "cut %#x", res.cut);
	cr_assert_eq(marked_alive(&m), 0, "%d survived", marked_alive(&m));
	mc_buf_release(&f.got[1]);
	assert_no_child();
}
