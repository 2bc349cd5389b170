/* test_plugin.c - Nagios plugins: argv splitting, perfdata, running real
 * plugins and tests/plugins/ scripts (lib/plugin.c), the exec check
 * (lib/check_exec.c). check_tcp needs the test receiver: MC_TEST_RECEIVER
 * (scripts/servers.sh) must be set. */
#include <criterion/criterion.h>

#include "testlib.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "health.h"
#include "mc.h"
#include "plugin.h"

#define T_TIMEOUT 60
#define NAGIOS "/usr/lib/nagios/plugins/"
#define MARK_VAR "MC_PLUGIN_TEST_MARK"

/* ---- helpers ------------------------------------------------------------ */

/* Absolute path of tests/plugins/NAME (from $MC_SRC, else the cwd). */
static void plugin_path(const char *name, char out[PATH_MAX])
{
	const char *src = getenv("MC_SRC");
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s/tests/plugins",
		 src && *src ? src : ".");
	cr_assert_not_null(realpath(dir, out), "realpath %s: %s", dir,
			   strerror(errno));
	cr_assert_lt(strlen(out) + strlen(name) + 2, (size_t)PATH_MAX);
	strcat(out, "/");
	strcat(out, name);
}

/* Runs argv (NULL-terminated) and returns mc_plugin_run's result code. */
static int run(const char *const *argv, int64_t timeout_ms,
	       struct mc_plugin_result *res, struct mc_err *err)
{
	return mc_plugin_run((char *const *)argv, timeout_ms, res, err);
}

static int run_script(const char *name, int64_t timeout_ms,
		      struct mc_plugin_result *res)
{
	char path[PATH_MAX];
	const char *argv[] = { path, NULL };
	struct mc_err err = { 0 };
	int rc;

	plugin_path(name, path);
	rc = run(argv, timeout_ms, res, &err);
	cr_assert_eq(rc, 0, "%s: %s", name, err.msg);
	cr_assert_not_null(res->text);
	return rc;
}

static const struct mc_perf *find_perf(const struct mc_plugin_result *res,
				       const char *label)
{
	for (size_t i = 0; i < res->n_perf; i++)
		if (strcmp(res->perf[i].label, label) == 0)
			return &res->perf[i];
	return NULL;
}

/* Tags every process this test starts: the plugin and its children inherit
 * the environment, so /proc/PID/environ finds them even when a plugin was
 * killed before it could say who it is. */
static void mark_processes(char mark[32])
{
	unsigned char r[8];

	mc_random_bytes(r, sizeof(r));
	mc_hex(r, sizeof(r), mark);
	cr_assert_eq(setenv(MARK_VAR, mark, 1), 0);
}

/* Number of live (not zombie) processes carrying the mark. */
static int marked_alive(const char *mark)
{
	char want[64];

	snprintf(want, sizeof(want), MARK_VAR "=%s", mark);
	return mc_test_env_alive(want);
}

/* This process has no child at all: none running, no zombie. */
static void assert_no_children(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int st;

	errno = 0;
	cr_assert_eq(waitpid(-1, &st, WNOHANG), -1, "a child is waitable");
	cr_assert_eq(errno, ECHILD);
	cr_assert_not_null(d);
	while ((e = readdir(d)) != NULL) {
		char path[300], buf[512], *rp;
		long ppid = 0;
		ssize_t len;
		int fd;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		rp = strrchr(buf, ')');
		if (rp && sscanf(rp + 1, " %*c %ld", &ppid) == 1)
			cr_assert_neq(ppid, (long)getpid(),
				      "process %s is still our child",
				      e->d_name);
	}
	closedir(d);
}

/* The receiver's port from MC_TEST_RECEIVER (http://127.0.0.1:PORT). */
static int receiver_port(void)
{
	const char *r = getenv("MC_TEST_RECEIVER"), *colon;

	cr_assert(r != NULL && *r != '\0',
		  "MC_TEST_RECEIVER is not set: start the test servers "
		  "(scripts/servers.sh start DIR; . DIR/env)");
	colon = strrchr(r, ':');
	cr_assert(colon && atoi(colon + 1) > 0, "no port in %s", r);
	return atoi(colon + 1);
}

/* A loopback port nothing listens on (bound, then released). */
static int closed_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0), port;

	cr_assert_geq(s, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(getsockname(s, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(s);
	return port;
}

/* ---- mc_argv_split ------------------------------------------------------ */

struct split_case {
	const char *in;
	const char *out[6];	/* NULL-terminated */
};

Test(plugin, argv_split_table)
{
	static const struct split_case cases[] = {
		{ "a", { "a" } },
		{ "a b  c", { "a", "b", "c" } },
		{ "  lead\ttrail \n", { "lead", "trail" } },
		{ "/p arg1 \"arg two\"", { "/p", "arg1", "arg two" } },
		{ "'single $x \"q\" \\n'", { "single $x \"q\" \\n" } },
		{ "\"a\\\"b\\\\c\\$d\\`e\\n\"", { "a\"b\\c$d`e\\n" } },
		{ "a\\ b", { "a b" } },
		{ "\\'x \\\"y", { "'x", "\"y" } },
		{ "\"\"", { "" } },
		{ "a \"\" b ''", { "a", "", "b", "" } },
		{ "x''y \"p\"'q'r", { "xy", "pqr" } },
		{ "$HOME * ~ `id` ;", { "$HOME", "*", "~", "`id`", ";" } },
		{ "a\\", { "a\\" } },
		{ "a\\\nb", { "ab" } },
		{ "\"two\\\nlines\"", { "twolines" } },
		{ "it''s 'it'\\''s'", { "its", "it's" } },
		{ "-w 10% -c \"5%\"", { "-w", "10%", "-c", "5%" } },
	};

	for (size_t i = 0; i < MC_ARRAY_LEN(cases); i++) {
		struct mc_err err = { 0 };
		char **argv = NULL;
		size_t n = 0;

		cr_assert_eq(mc_argv_split(cases[i].in, &argv, &err), 0,
			     "[%s]: %s", cases[i].in, err.msg);
		for (; cases[i].out[n]; n++) {
			cr_assert_not_null(argv[n], "[%s] word %zu missing",
					   cases[i].in, n);
			cr_assert_str_eq(argv[n], cases[i].out[n], "[%s] word %zu",
					 cases[i].in, n);
		}
		cr_assert_null(argv[n], "[%s] has more than %zu words",
			       cases[i].in, n);
		mc_argv_free(argv);
	}
}

Test(plugin, argv_split_errors)
{
	static const struct {
		const char *in;
		const char *msg;
	} cases[] = {
		{ "", "empty command" },
		{ "   \t\n", "empty command" },
		{ "\"abc", "unclosed \" quote in command" },
		{ "'abc", "unclosed ' quote in command" },
		{ "a 'b\" c", "unclosed ' quote in command" },
		{ "a \"b' c", "unclosed \" quote in command" },
		{ "x \"esc\\\"", "unclosed \" quote in command" },
	};

	for (size_t i = 0; i < MC_ARRAY_LEN(cases); i++) {
		struct mc_err err = { 0 };
		char **argv = (char **)1;

		cr_assert_eq(mc_argv_split(cases[i].in, &argv, &err), -1,
			     "[%s] was accepted", cases[i].in);
		cr_assert_null(argv);
		cr_assert_str_eq(err.msg, cases[i].msg, "[%s]", cases[i].in);
		cr_assert_eq(err.code, MC_EXIT_USAGE);
	}
	{
		char **argv;

		cr_assert_eq(mc_argv_split(NULL, &argv, NULL), -1);
	}
	mc_argv_free(NULL);
}

/* ---- mc_perf_parse ------------------------------------------------------ */

struct perf_want {
	const char *label, *uom, *warn, *crit;
	double value;
	int has_min, has_max;
	double min, max;
};

Test(plugin, perf_parse_table)
{
	static const struct {
		const char *in;
		size_t n;
		struct perf_want want[3];
	} cases[] = {
		{ "a=1;2;3;0;10", 1, { { "a", "", "2", "3", 1, 1, 1, 0, 10 } } },
		{ "'b c'=5ms", 1, { { "b c", "ms", "", "", 5, 0, 0, 0, 0 } } },
		{ "'it''s'=1 'x=y'=2c", 2,
		  { { "it's", "", "", "", 1, 0, 0, 0, 0 },
		    { "x=y", "c", "", "", 2, 0, 0, 0, 0 } } },
		{ "time=0.001234s;;;0.000000;10.000000", 1,
		  { { "time", "s", "", "", 0.001234, 1, 1, 0, 10 } } },
		{ "/=17479761920B;243497277849;257024904396;0;270552530944", 1,
		  { { "/", "B", "243497277849", "257024904396", 17479761920.0,
		      1, 1, 0, 270552530944.0 } } },
		{ "  pct=80.5%;~:90;@95:100  rx=-1.5e3KB;10:;;-5 ", 2,
		  { { "pct", "%", "~:90", "@95:100", 80.5, 0, 0, 0, 0 },
		    { "rx", "KB", "10:", "", -1500, 1, 0, -5, 0 } } },
		{ "u=10us m=3MB g=4GB t=5TB", 4, { { "u", "us", "", "", 10,
						     0, 0, 0, 0 } } },
		{ "a=1;;;; b=2;", 2, { { "a", "", "", "", 1, 0, 0, 0, 0 },
				       { "b", "", "", "", 2, 0, 0, 0, 0 } } },
		/* Malformed fields after the value are dropped, not the item. */
		{ "a=1;abc;2x;zz;0x1", 1, { { "a", "", "", "", 1, 0, 0, 0,
					      0 } } },
		/* Malformed items are skipped, the good ones kept. */
		{ "=2 bad x=y ok=1 q=1zz h=0x10 i=inf n=nan e=1e s=.", 1,
		  { { "ok", "", "", "", 1, 0, 0, 0, 0 } } },
		{ "a b=1 c= d=;1 'e f'=2", 2,
		  { { "b", "", "", "", 1, 0, 0, 0, 0 },
		    { "e f", "", "", "", 2, 0, 0, 0, 0 } } },
		{ "a=1;2;3;4;5;6 b=+7", 1, { { "b", "", "", "", 7, 0, 0, 0,
					       0 } } },
		/* An unclosed quote ends the list. */
		{ "ok=1 'never closed=2 z=3", 1,
		  { { "ok", "", "", "", 1, 0, 0, 0, 0 } } },
		{ "", 0, { { 0 } } },
		{ "   ", 0, { { 0 } } },
		{ "''=1 '=1", 0, { { 0 } } },
	};

	for (size_t i = 0; i < MC_ARRAY_LEN(cases); i++) {
		struct mc_perf *p;
		size_t n;

		mc_perf_parse(cases[i].in, &p, &n);
		cr_assert_eq(n, cases[i].n, "[%s]: %zu items", cases[i].in, n);
		for (size_t k = 0; k < n && k < 3; k++) {
			const struct perf_want *w = &cases[i].want[k];

			if (w->label == NULL)
				continue;
			cr_assert_str_eq(p[k].label, w->label, "[%s]",
					 cases[i].in);
			cr_assert_str_eq(p[k].uom, w->uom, "[%s]", cases[i].in);
			cr_assert_str_eq(p[k].warn, w->warn, "[%s]",
					 cases[i].in);
			cr_assert_str_eq(p[k].crit, w->crit, "[%s]",
					 cases[i].in);
			cr_assert_float_eq(p[k].value, w->value,
					   fabs(w->value) * 1e-12, "[%s]",
					   cases[i].in);
			cr_assert_eq(p[k].has_min, w->has_min, "[%s]",
				     cases[i].in);
			cr_assert_eq(p[k].has_max, w->has_max, "[%s]",
				     cases[i].in);
			if (w->has_min)
				cr_assert_float_eq(p[k].min, w->min, 1e-9);
			if (w->has_max)
				cr_assert_float_eq(p[k].max, w->max,
						   fabs(w->max) * 1e-12);
		}
		mc_perf_free(p, n);
	}
}

Test(plugin, perf_parse_undetermined_and_null)
{
	struct mc_perf *p;
	size_t n;

	mc_perf_parse("x=U y=U;1;2", &p, &n);
	cr_assert_eq(n, 2);
	cr_assert(isnan(p[0].value));
	cr_assert_str_eq(p[1].warn, "1");
	mc_perf_free(p, n);

	mc_perf_parse(NULL, &p, &n);
	cr_assert_eq(n, 0);
	cr_assert_null(p);
	mc_perf_free(NULL, 0);
}

/* Random bytes and mutations of good perfdata: never a crash, and every
 * item kept has a label and a known unit. */
Test(plugin, perf_parse_garbage)
{
	static const char *const seeds[] = {
		"a=1;2;3;0;10 'b c'=5ms", "'x''y'=1.5e3KB;~:2;@3:4;;9",
		"time=0.1s;;;0.0;10.0 size=12B;1;2;0",
	};
	char buf[256];

	for (int iter = 0; iter < 4000; iter++) {
		struct mc_perf *p;
		size_t n, len;

		if (iter % 2) {
			len = 1 + (size_t)(mc_random_unit() * 200);
			mc_random_bytes(buf, len);
			for (size_t i = 0; i < len; i++)
				if (buf[i] == '\0')
					buf[i] = ' ';
		} else {
			const char *s = seeds[iter % MC_ARRAY_LEN(seeds)];

			len = strlen(s);
			memcpy(buf, s, len);
			for (int m = 0; m < 3; m++) {
				size_t at = (size_t)(mc_random_unit() * len);

				buf[at] = "'=; .-e%U\\\"0"[iter % 12 + m > 11 ?
							 0 : iter % 12 + m];
			}
		}
		buf[len] = '\0';
		mc_perf_parse(buf, &p, &n);
		for (size_t i = 0; i < n; i++) {
			cr_assert_not_null(p[i].label);
			cr_assert_neq(p[i].label[0], '\0');
			cr_assert_not_null(p[i].uom);
			cr_assert_not_null(p[i].warn);
			cr_assert_not_null(p[i].crit);
		}
		mc_perf_free(p, n);
	}
}

/* ---- real plugins (monitoring-plugins-basic) ---------------------------- */

Test(plugin, check_dummy_statuses, .timeout = T_TIMEOUT)
{
	static const struct {
		const char *code, *msg, *text;
		int status;
	} cases[] = {
		{ "0", "all good", "OK: all good", 0 },
		{ "1", "meh", "WARNING: meh", 1 },
		{ "2", "down", "CRITICAL: down", 2 },
		{ "3", "no idea", "UNKNOWN: no idea", 3 },
	};

	for (size_t i = 0; i < MC_ARRAY_LEN(cases); i++) {
		const char *argv[] = { NAGIOS "check_dummy", cases[i].code,
				       cases[i].msg, NULL };
		struct mc_plugin_result res;
		struct mc_err err = { 0 };

		cr_assert_eq(run(argv, 10000, &res, &err), 0, "%s", err.msg);
		cr_assert_eq(res.status, cases[i].status);
		cr_assert_eq(res.exit_code, cases[i].status);
		cr_assert_eq(res.timed_out, 0);
		cr_assert_str_eq(res.text, cases[i].text);
		cr_assert_eq(res.n_perf, 0);
		cr_assert_geq(res.duration_ms, 0);
		mc_plugin_result_release(&res);
	}
	assert_no_children();
}

Test(plugin, check_tcp_open_port, .timeout = T_TIMEOUT)
{
	char port[16];
	const char *argv[] = { NAGIOS "check_tcp", "-H", "127.0.0.1", "-p",
			       port, NULL };
	struct mc_plugin_result res;
	struct mc_err err = { 0 };
	const struct mc_perf *t;

	snprintf(port, sizeof(port), "%d", receiver_port());
	cr_assert_eq(run(argv, 20000, &res, &err), 0, "%s", err.msg);
	cr_assert_eq(res.status, 0, "check_tcp: %s", res.text);
	cr_assert_not_null(strstr(res.text, "TCP OK"), "%s", res.text);
	t = find_perf(&res, "time");
	cr_assert_not_null(t, "no time perfdata in %s", res.text);
	cr_assert_str_eq(t->uom, "s");
	cr_assert_geq(t->value, 0);
	mc_plugin_result_release(&res);
	assert_no_children();
}

Test(plugin, check_tcp_closed_port, .timeout = T_TIMEOUT)
{
	char port[16];
	const char *argv[] = { NAGIOS "check_tcp", "-H", "127.0.0.1", "-p",
			       port, NULL };
	struct mc_plugin_result res;
	struct mc_err err = { 0 };

	snprintf(port, sizeof(port), "%d", closed_port());
	cr_assert_eq(run(argv, 20000, &res, &err), 0, "%s", err.msg);
	cr_assert_eq(res.status, 2, "check_tcp: %s", res.text);
	cr_assert_not_null(strstr(res.text, "refused"), "%s", res.text);
	mc_plugin_result_release(&res);
}

Test(plugin, check_disk_root, .timeout = T_TIMEOUT)
{
	const char *argv[] = { NAGIOS "check_disk", "-w", "10%", "-c", "5%",
			       "-p", "/", NULL };
	static const char *const units[] = { "B", "KB", "MB", "GB", "TB",
					     "%" };
	struct mc_plugin_result res;
	struct mc_err err = { 0 };
	const struct mc_perf *p;
	int unit_ok = 0;

	cr_assert_eq(run(argv, 20000, &res, &err), 0, "%s", err.msg);
	cr_assert(res.status >= 0 && res.status <= 2, "status %d: %s",
		  res.status, res.text);
	cr_assert_not_null(strstr(res.text, "DISK"), "%s", res.text);
	p = find_perf(&res, "/");
	cr_assert_not_null(p, "no '/' perfdata: %s", res.text);
	for (size_t i = 0; i < MC_ARRAY_LEN(units); i++)
		unit_ok |= strcmp(p->uom, units[i]) == 0;
	cr_assert(unit_ok, "unit '%s'", p->uom);
	cr_assert_geq(p->value, 0);
	cr_assert(p->has_max && p->max >= p->value);
	cr_assert_neq(p->warn[0], '\0');
	cr_assert_neq(p->crit[0], '\0');
	mc_plugin_result_release(&res);
}

/* ---- tests/plugins scripts ---------------------------------------------- */

Test(plugin, prints_nothing, .timeout = T_TIMEOUT)
{
	struct mc_plugin_result res;

	run_script("silent.sh", 10000, &res);
	cr_assert_eq(res.status, 0);
	cr_assert_str_eq(res.text, "");
	cr_assert_eq(res.n_perf, 0);
	cr_assert_null(res.perf);
	mc_plugin_result_release(&res);
}

Test(plugin, prints_garbage, .timeout = T_TIMEOUT)
{
	struct mc_plugin_result res;

	run_script("garbage.sh", 10000, &res);
	cr_assert_eq(res.status, 1);
	cr_assert(mc_utf8_valid(res.text, strlen(res.text)), "text not UTF-8");
	/* Kept whole, as UTF-8: bytes that are not UTF-8 (NUL included) as
	 * \xNN; control characters stay, for each output to escape. */
	cr_assert_str_eq(res.text, "OK \\x00bin\\xFF\\xFEary\x01\x1B[31m");
	cr_assert_eq(res.n_perf, 1);
	cr_assert_str_eq(res.perf[0].label, "ok");
	mc_plugin_result_release(&res);
}

Test(plugin, huge_line, .timeout = T_TIMEOUT)
{
	struct mc_plugin_result res;
	size_t len;

	/* 512 KiB on one line: kept to the cap, the rest drained so the
	 * plugin finishes and its exit code is read. */
	run_script("huge.sh", 30000, &res);
	cr_assert_eq(res.timed_out, 0);
	cr_assert_eq(res.status, 2);
	len = strlen(res.text);
	cr_assert(len > 0 && len <= 4096, "text of %zu bytes", len);
	cr_assert_eq(strspn(res.text, "a"), len);
	cr_assert_eq(res.n_perf, 0);	/* past the cap */
	mc_plugin_result_release(&res);
}

Test(plugin, long_output_perfdata, .timeout = T_TIMEOUT)
{
	struct mc_plugin_result res;
	const struct mc_perf *p;

	run_script("longout.sh", 10000, &res);
	cr_assert_eq(res.status, 1);
	cr_assert_str_eq(res.text, "WARNING - main text");
	cr_assert_eq(res.n_perf, 3);
	cr_assert_str_eq(res.perf[0].label, "a");
	p = find_perf(&res, "b");
	cr_assert_not_null(p);
	cr_assert_str_eq(p->uom, "s");
	cr_assert_str_eq(p->warn, "1");
	cr_assert_str_eq(p->crit, "2");
	p = find_perf(&res, "c d");
	cr_assert_not_null(p);
	cr_assert_str_eq(p->uom, "%");
	cr_assert(p->has_min && p->has_max && p->max == 100);
	mc_plugin_result_release(&res);
}

Test(plugin, exit_127, .timeout = T_TIMEOUT)
{
	struct mc_plugin_result res;

	run_script("exit127.sh", 10000, &res);
	cr_assert_eq(res.status, 3);
	cr_assert_eq(res.exit_code, 127);
	cr_assert_str_eq(res.text, "plugin exited 127 (command not found)");
	mc_plugin_result_release(&res);
}

Test(plugin, exit_42, .timeout = T_TIMEOUT)
{
	struct mc_plugin_result res;

	run_script("exit42.sh", 10000, &res);
	cr_assert_eq(res.status, 3);
	cr_assert_eq(res.exit_code, 42);
	cr_assert_str_eq(res.text, "plugin exited 42: something odd");
	mc_plugin_result_release(&res);
}

Test(plugin, killed_by_signal, .timeout = T_TIMEOUT)
{
	struct mc_plugin_result res;

	run_script("signal.sh", 10000, &res);
	cr_assert_eq(res.status, 3);
	cr_assert_eq(res.exit_code, -1);
	cr_assert_eq(res.timed_out, 0);
	cr_assert_str_eq(res.text, "plugin killed by signal 9: about to die");
	mc_plugin_result_release(&res);
	assert_no_children();
}

/* A plugin that sleeps 30 s with a sleeping child: the whole group is
 * killed at the timeout and nothing of it is left. */
static void timeout_case(const char *script)
{
	struct mc_plugin_result res;
	char mark[32];

	mark_processes(mark);
	run_script(script, 300, &res);
	cr_assert_eq(res.timed_out, 1);
	cr_assert_eq(res.status, 3);
	cr_assert_eq(res.exit_code, -1);
	cr_assert_str_eq(res.text, "plugin timed out after 300 ms (killed)");
	cr_assert_eq(res.n_perf, 0);	/* partial output is not kept */
	mc_plugin_result_release(&res);
	cr_assert_eq(marked_alive(mark), 0, "a process of the plugin lives");
	assert_no_children();
}

Test(plugin, timeout_kills_group, .timeout = T_TIMEOUT)
{
	timeout_case("sleeper.sh");
}

Test(plugin, timeout_ignoring_sigterm, .timeout = T_TIMEOUT)
{
	timeout_case("stubborn.sh");
}

/* Exits at once, but a background child keeps stdout open: the run ends
 * soon after the plugin's exit (not at the timeout) and the child is
 * killed. */
Test(plugin, lingering_child, .timeout = T_TIMEOUT)
{
	struct mc_plugin_result res;
	char mark[32];

	mark_processes(mark);
	run_script("linger.sh", 30000, &res);
	cr_assert_eq(res.timed_out, 0);
	cr_assert_eq(res.status, 0);
	cr_assert_str_eq(res.text, "OK - bye");
	cr_assert_eq(res.n_perf, 1);
	cr_assert_str_eq(res.perf[0].label, "x");
	mc_plugin_result_release(&res);
	cr_assert_eq(marked_alive(mark), 0, "the background child lives");
	assert_no_children();
}

static void on_usr2(int sig)
{
	(void)sig;
}

/* The plugin gets default signal dispositions, an empty mask, its own
 * process group, /dev/null for stdin and stderr, and none of our other
 * descriptors. */
Test(plugin, child_environment, .timeout = T_TIMEOUT)
{
	struct mc_plugin_result res;
	sigset_t block;
	int fd = open("/dev/null", O_RDONLY);	/* no O_CLOEXEC on purpose */

	cr_assert_eq(dup2(fd, 200), 200);
	close(fd);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGUSR2, on_usr2);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	cr_assert_eq(pthread_sigmask(SIG_BLOCK, &block, NULL), 0);

	run_script("env.sh", 10000, &res);
	cr_assert_eq(res.status, 0);
	cr_assert_str_eq(res.text, "ign=0000000000000000 blk=0000000000000000 "
			 "leader=yes fd200=no in=/dev/null err=/dev/null");
	mc_plugin_result_release(&res);

	pthread_sigmask(SIG_UNBLOCK, &block, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGUSR2, SIG_DFL);
	close(200);
}

/* ---- failures to start -------------------------------------------------- */

static void cannot_run(const char *path, const char *reason)
{
	const char *argv[] = { path, "x", NULL };
	struct mc_plugin_result res;
	struct mc_err err = { 0 };
	char *want = mc_asprintf("cannot run %s: %s", path, reason);

	cr_assert_eq(run(argv, 10000, &res, &err), -1, "%s ran", path);
	cr_assert_str_eq(err.msg, want);
	cr_assert_str_eq(res.text, want);
	cr_assert_eq(res.status, 3);
	cr_assert_eq(res.exit_code, 127);
	cr_assert_eq(res.timed_out, 0);
	mc_plugin_result_release(&res);
	free(want);
	assert_no_children();
}

Test(plugin, missing_executable, .timeout = T_TIMEOUT)
{
	cannot_run("/nonexistent/check_nothing", "No such file or directory");
	cannot_run("mc-no-such-plugin-on-path", "No such file or directory");
}

Test(plugin, not_executable, .timeout = T_TIMEOUT)
{
	char dir[MC_TEST_DIR_LEN], path[PATH_MAX];
	FILE *f;

	mc_test_dir(dir);
	/* Readable but not executable. */
	snprintf(path, sizeof(path), "%s/plain", dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("#!/bin/sh\necho OK\n", f);
	fclose(f);
	chmod(path, 0644);
	cannot_run(path, "Permission denied");
	/* A directory. */
	cannot_run(dir, "Permission denied");
	/* Executable, but not a program and no #!: never given to a shell. */
	snprintf(path, sizeof(path), "%s/noshebang", dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("echo OK\n", f);
	fclose(f);
	chmod(path, 0755);
	cannot_run(path, "Exec format error");
	mc_test_rmtree(dir);
}

Test(plugin, path_lookup, .timeout = T_TIMEOUT)
{
	const char *argv[] = { "echo", "OK - via PATH | v=1", NULL };
	struct mc_plugin_result res;
	struct mc_err err = { 0 };

	cr_assert_eq(run(argv, 10000, &res, &err), 0, "%s", err.msg);
	cr_assert_eq(res.status, 0);
	cr_assert_str_eq(res.text, "OK - via PATH");
	cr_assert_eq(res.n_perf, 1);
	mc_plugin_result_release(&res);

	cr_assert_eq(mc_plugin_run(NULL, 1000, &res, &err), -1);
	cr_assert_eq(res.status, 3);
	mc_plugin_result_release(&res);
}

/* Runs from several threads at once: nobody inherits anybody's pipe, so
 * every run ends at its plugin's exit with its own output. */
struct par {
	int i;
	int ok;
};

static void *par_run(void *arg)
{
	struct par *p = arg;
	char code[8], msg[32];
	const char *argv[] = { NAGIOS "check_dummy", code, msg, NULL };
	struct mc_plugin_result res;

	snprintf(code, sizeof(code), "%d", p->i % 4);
	snprintf(msg, sizeof(msg), "thread %d", p->i);
	for (int k = 0; k < 5; k++) {
		if (mc_plugin_run((char *const *)argv, 20000, &res, NULL) != 0)
			return NULL;
		if (res.status != p->i % 4 || res.timed_out ||
		    strstr(res.text, msg) == NULL) {
			mc_plugin_result_release(&res);
			return NULL;
		}
		mc_plugin_result_release(&res);
	}
	p->ok = 1;
	return NULL;
}

Test(plugin, concurrent_runs, .timeout = T_TIMEOUT)
{
	pthread_t t[8];
	struct par p[8];

	for (int i = 0; i < 8; i++) {
		p[i] = (struct par){ i, 0 };
		cr_assert_eq(pthread_create(&t[i], NULL, par_run, &p[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		cr_assert(p[i].ok, "thread %d got a wrong result", i);
	}
	assert_no_children();
}

/* ---- the exec check ----------------------------------------------------- */

/* Runs an exec check whose command is cmd (config syntax) with timeout_ms;
 * fills r (caller frees message and perfdata). */
static void exec_check(const char *cmd, int64_t timeout_ms,
		       struct mc_check_result *r)
{
	char *text = mc_asprintf("[check \"p\"]\ntype = exec\ncommand = %s\n",
				 cmd);
	struct mc_err err = { 0 };
	struct mc_conf *conf = mc_conf_load_string(text, "test.conf", NULL, 0,
						   &err);
	struct mc_check c = { 0 };
	struct mc_health_env env = { 0 };

	cr_assert_not_null(conf, "%s", err.msg);
	c.name = "p";
	c.type = &mc_check_exec;
	c.sec = mc_conf_find(conf, "check", "p");
	cr_assert_not_null(c.sec);
	c.timeout_ms = timeout_ms;
	env.conf = conf;
	memset(r, 0, sizeof(*r));
	r->check = &c;
	mc_check_exec.run(&c, &env, r);
	r->check = NULL;
	mc_conf_free(conf);
	free(text);
	cr_assert_not_null(r->message);
}

static void result_free(struct mc_check_result *r)
{
	free(r->message);
	free(r->perfdata);
}

Test(plugin, exec_check_perfdata, .timeout = T_TIMEOUT)
{
	struct mc_check_result r;
	char path[PATH_MAX];

	cr_assert_str_eq(mc_check_exec.name, "exec");
	plugin_path("longout.sh", path);
	exec_check(path, 10000, &r);
	cr_assert_eq(r.status, MC_ST_WARNING);
	cr_assert_str_eq(r.message, "WARNING - main text");
	cr_assert_str_eq(r.perfdata, "a=1 b=2s;1;2 'c d'=3%;;;0;100");
	result_free(&r);
}

Test(plugin, exec_check_real_plugin, .timeout = T_TIMEOUT)
{
	struct mc_check_result r;

	exec_check(NAGIOS "check_dummy 2 \"it is down\"", 10000, &r);
	cr_assert_eq(r.status, MC_ST_CRITICAL);
	cr_assert_str_eq(r.message, "CRITICAL: it is down");
	cr_assert_null(r.perfdata);
	result_free(&r);

	exec_check(NAGIOS "check_disk -w 10% -c 5% -p /", 20000, &r);
	cr_assert(r.status >= 0 && r.status <= 2, "%s", r.message);
	cr_assert_not_null(r.perfdata);
	cr_assert_eq(strncmp(r.perfdata, "/=", 2), 0, "%s", r.perfdata);
	result_free(&r);
}

Test(plugin, exec_check_arguments, .timeout = T_TIMEOUT)
{
	struct mc_check_result r;
	char path[PATH_MAX], *cmd;

	plugin_path("args.sh", path);
	cmd = mc_asprintf("%s one \"two words\" 'it''s' a\\ b \"$x\" '*'",
			  path);
	exec_check(cmd, 10000, &r);
	cr_assert_eq(r.status, MC_ST_OK);
	cr_assert_str_eq(r.message, "OK - 6:[one][two words][its][a b][$x][*]");
	result_free(&r);
	free(cmd);
}

Test(plugin, exec_check_failures, .timeout = T_TIMEOUT)
{
	struct mc_check_result r;
	char path[PATH_MAX];
	char mark[32];

	plugin_path("silent.sh", path);
	exec_check(path, 10000, &r);
	cr_assert_eq(r.status, MC_ST_OK);
	cr_assert_str_eq(r.message, "plugin printed nothing");
	cr_assert_null(r.perfdata);
	result_free(&r);

	plugin_path("exit127.sh", path);
	exec_check(path, 10000, &r);
	cr_assert_eq(r.status, MC_ST_UNKNOWN);
	cr_assert_str_eq(r.message, "plugin exited 127 (command not found)");
	result_free(&r);

	exec_check("/nonexistent/check_x -a", 10000, &r);
	cr_assert_eq(r.status, MC_ST_UNKNOWN);
	cr_assert_str_eq(r.message, "cannot run /nonexistent/check_x: "
			 "No such file or directory");
	result_free(&r);

	/* A command that cannot be split is refused when the configuration
	 * is loaded, before any run. */
	{
		struct mc_err err = { 0 };

		cr_assert_null(mc_conf_load_string("[check \"p\"]\ntype = exec\n"
						   "command = /bin/true \"unclosed\n",
						   "test.conf", NULL, 0, &err));
		cr_assert_eq(err.code, MC_EXIT_CONFIG);
		cr_assert_str_eq(err.msg, "test.conf:3: [check \"p\"] unclosed \" "
				 "quote in command");
	}

	mark_processes(mark);
	plugin_path("sleeper.sh", path);
	exec_check(path, 300, &r);
	cr_assert_eq(r.status, MC_ST_CRITICAL);
	cr_assert_str_eq(r.message, "plugin timed out after 300 ms (killed)");
	result_free(&r);
	cr_assert_eq(marked_alive(mark), 0);
	assert_no_children();
}
