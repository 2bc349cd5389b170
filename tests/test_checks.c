/*
 * test_checks.c - the tcp, redis, redis_queue and sqlite check types of
 * lib/checks.c, against real servers on loopback and listeners of the
 * test's own.
 *
 * Needs the variables that scripts/servers.sh writes to DIR/env:
 * MC_TEST_RECEIVER, MC_TEST_REDIS_URL, MC_TEST_REDIS_AUTH_URL,
 * MC_TEST_REDIS_PASSWORD. Missing ones fail.
 */
#include <criterion/criterion.h>

#include "testlib.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "health.h"
#include "redis.h"

static const char *const env_vars[] = {
	"MERCURY_REDIS_PASSWORD", "REDISCLI_AUTH", "MERCURY_REDIS_URL",
	"REDIS_URL", "MERCURY_CONFIG",
};

/* The runner's environment must not leak into [core] defaults or into
 * the password precedence. */
static void clean_env(void)
{
	for (size_t i = 0; i < MC_ARRAY_LEN(env_vars); i++)
		unsetenv(env_vars[i]);
}

TestSuite(checks, .init = clean_env);

static int starts_with(const char *s, const char *prefix)
{
	return s != NULL && strncmp(s, prefix, strlen(prefix)) == 0;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = s ? strlen(s) : 0, m = strlen(suffix);

	return s != NULL && n >= m && strcmp(s + n - m, suffix) == 0;
}

/* ---- running one check -------------------------------------------------- */

static char check_name[] = "t";

/* A check made from a config text, as the engine makes it. */
struct probe {
	struct mc_conf *conf;
	struct mc_check c;
	struct mc_check_result r;
	struct mc_health_env env;
};

/* Loads text (which holds [check "t"]) and prepares the check. */
static void probe_load(struct probe *p, const char *text)
{
	struct mc_err err = { 0 };
	const struct mc_conf_section *sec;
	const char *type;

	memset(p, 0, sizeof(*p));
	p->conf = mc_conf_load_string(text, "mercury.conf", NULL, 0, &err);
	cr_assert_not_null(p->conf, "config: %s\n%s", err.msg, text);
	sec = mc_conf_find(p->conf, "check", "t");
	cr_assert_not_null(sec, "no [check \"t\"] in\n%s", text);
	type = mc_conf_str(sec, "type");
	if (mc_streq(type, "tcp"))
		p->c.type = &mc_check_tcp;
	else if (mc_streq(type, "redis"))
		p->c.type = &mc_check_redis;
	else if (mc_streq(type, "redis_queue"))
		p->c.type = &mc_check_redis_queue;
	else if (mc_streq(type, "sqlite"))
		p->c.type = &mc_check_sqlite;
	cr_assert_not_null(p->c.type, "type %s is not one of checks.c's", type);
	p->c.name = check_name;
	p->c.sec = sec;
	p->c.timeout_ms = mc_conf_ms(sec, "timeout", 2000);
	if (mc_conf_str(sec, "warn") != NULL)
		cr_assert_eq(mc_range_parse(mc_conf_str(sec, "warn"), &p->c.warn,
					    &err), 0, "%s", err.msg);
	if (mc_conf_str(sec, "crit") != NULL)
		cr_assert_eq(mc_range_parse(mc_conf_str(sec, "crit"), &p->c.crit,
					    &err), 0, "%s", err.msg);
	p->r.check = &p->c;
	p->r.status = -1;
	p->env.conf = p->conf;
}

static void probe_run(struct probe *p)
{
	p->c.type->run(&p->c, &p->env, &p->r);
	cr_assert(p->r.status >= MC_ST_OK && p->r.status <= MC_ST_UNKNOWN,
		  "status %d", p->r.status);
	cr_assert_not_null(p->r.message, "no message");
	cr_assert(strchr(p->r.message, '\n') == NULL, "one line: %s",
		  p->r.message);
}

static void probe_free(struct probe *p)
{
	free(p->r.message);
	free(p->r.perfdata);
	mc_conf_free(p->conf);
	memset(p, 0, sizeof(*p));
}

/* Runs the check that fmt describes; p keeps the result. */
static void run_conf(struct probe *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void run_conf(struct probe *p, const char *fmt, ...)
{
	va_list ap;
	char *text;

	va_start(ap, fmt);
	text = mc_vasprintf(fmt, ap);
	va_end(ap);
	probe_load(p, text);
	free(text);
	probe_run(p);
}

static void expect(const struct probe *p, int status, const char *needle)
{
	cr_log_info("%s: %s", mc_status_name(p->r.status), p->r.message);
	cr_assert_eq(p->r.status, status, "status %s, want %s: %s",
		     mc_status_name(p->r.status), mc_status_name(status),
		     p->r.message);
	if (needle != NULL)
		cr_assert(strstr(p->r.message, needle) != NULL,
			  "message '%s' lacks '%s'", p->r.message, needle);
}

/* ---- sockets of the test's own ------------------------------------------ */

/* A TCP socket bound to 127.0.0.1 (or ::1) on a free port; listening when
 * backlog >= 0. */
static int bound_socket(int v6, int backlog, int *port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert(fd >= 0, "socket: %s", strerror(errno));
	memset(&ss, 0, sizeof(ss));
	if (v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*a);
	}
	cr_assert_eq(bind(fd, (struct sockaddr *)&ss, len), 0, "bind: %s",
		     strerror(errno));
	if (backlog >= 0)
		cr_assert_eq(listen(fd, backlog), 0, "listen: %s",
			     strerror(errno));
	len = sizeof(ss);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	*port = ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
			 : ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

/*
 * A fake Redis in a thread: accepts connections one after another; for
 * each command it reads, it waits delay_ms and answers +PONG (delay_ms < 0:
 * never answers). It stops when the test writes to its pipe; every wait is
 * bounded.
 */
struct fake_redis {
	int lfd, port, delay_ms;
	int stop[2];
	pthread_t th;
};

/* Waits for fd or the stop pipe, at most 10 s; 1 when fd is ready. */
static int fake_wait(struct fake_redis *f, int fd)
{
	struct pollfd p[2] = { { .fd = fd, .events = POLLIN },
			       { .fd = f->stop[0], .events = POLLIN } };
	int n;

	do
		n = poll(p, 2, 10000);
	while (n < 0 && errno == EINTR);
	return n > 0 && !(p[1].revents & POLLIN) && (p[0].revents & POLLIN);
}

static void fake_serve(struct fake_redis *f, int fd)
{
	char buf[512];

	while (fake_wait(f, fd)) {
		ssize_t n = read(fd, buf, sizeof(buf));
		int cmds = 0;

		if (n <= 0)
			return;
		for (ssize_t i = 0; i < n; i++)
			cmds += buf[i] == '*';	/* one RESP array a command */
		if (f->delay_ms < 0)
			continue;
		for (int i = 0; i < cmds; i++) {
			struct timespec ts = { f->delay_ms / 1000,
					       (f->delay_ms % 1000) * 1000000L };

			nanosleep(&ts, NULL);	/* the latency under test */
			if (write(fd, "+PONG\r\n", 7) != 7)
				return;
		}
	}
}

static void *fake_main(void *arg)
{
	struct fake_redis *f = arg;

	while (fake_wait(f, f->lfd)) {
		int fd = accept(f->lfd, NULL, NULL);

		if (fd < 0)
			break;
		fake_serve(f, fd);
		close(fd);
	}
	return NULL;
}

static void fake_start(struct fake_redis *f, int delay_ms)
{
	memset(f, 0, sizeof(*f));
	f->delay_ms = delay_ms;
	f->lfd = bound_socket(0, 8, &f->port);
	cr_assert_eq(pipe2(f->stop, O_CLOEXEC), 0);
	cr_assert_eq(pthread_create(&f->th, NULL, fake_main, f), 0);
}

static void fake_stop(struct fake_redis *f)
{
	cr_assert_eq(write(f->stop[1], "x", 1), 1);
	pthread_join(f->th, NULL);
	close(f->stop[0]);
	close(f->stop[1]);
	close(f->lfd);
}

/* ---- tcp ---------------------------------------------------------------- */

static int receiver_port(void)
{
	const char *url = mc_test_env("MC_TEST_RECEIVER");
	const char *colon = strrchr(url, ':');
	int port = colon ? atoi(colon + 1) : 0;

	cr_assert(port > 0 && port < 65536, "no port in %s", url);
	return port;
}

Test(checks, tcp_connects_to_receiver)
{
	struct probe p;
	char want[64];
	int port = receiver_port();

	run_conf(&p, "[check \"t\"]\ntype = tcp\naddress = 127.0.0.1:%d\n",
		 port);
	snprintf(want, sizeof(want), "connected to 127.0.0.1:%d in ", port);
	expect(&p, MC_ST_OK, NULL);
	cr_assert(starts_with(p.r.message, want), "%s", p.r.message);
	cr_assert(ends_with(p.r.message, " ms"), "%s", p.r.message);
	cr_assert_eq(p.r.has_value, 0);
	probe_free(&p);
}

Test(checks, tcp_listener_by_name_and_v6)
{
	struct probe p;
	char want[64];
	int port, port6;
	int fd = bound_socket(0, 4, &port);
	int fd6 = bound_socket(1, 4, &port6);

	/* localhost may resolve to ::1 first, where nothing listens on this
	 * port: the check must go on to 127.0.0.1. */
	run_conf(&p, "[check \"t\"]\ntype = tcp\naddress = localhost:%d\n",
		 port);
	snprintf(want, sizeof(want), "connected to localhost:%d in ", port);
	expect(&p, MC_ST_OK, want);
	probe_free(&p);

	run_conf(&p, "[check \"t\"]\ntype = tcp\naddress = [::1]:%d\n", port6);
	snprintf(want, sizeof(want), "connected to [::1]:%d in ", port6);
	expect(&p, MC_ST_OK, want);
	probe_free(&p);
	close(fd);
	close(fd6);
}

Test(checks, tcp_refused)
{
	struct probe p;
	char want[64];
	int port, fd = bound_socket(0, -1, &port);	/* bound, not listening */

	run_conf(&p, "[check \"t\"]\ntype = tcp\naddress = 127.0.0.1:%d\n",
		 port);
	snprintf(want, sizeof(want), "connection refused (127.0.0.1:%d)", port);
	expect(&p, MC_ST_CRITICAL, NULL);
	cr_assert_str_eq(p.r.message, want);
	probe_free(&p);
	close(fd);
}

Test(checks, tcp_unresolvable)
{
	struct probe p;

	run_conf(&p, "[check \"t\"]\ntype = tcp\n"
		 "address = no-such-host.invalid:80\n");
	expect(&p, MC_ST_CRITICAL, NULL);
	cr_assert(starts_with(p.r.message,
			      "cannot resolve 'no-such-host.invalid': "),
		  "%s", p.r.message);
	cr_assert(strlen(p.r.message) >
		  strlen("cannot resolve 'no-such-host.invalid': "));
	probe_free(&p);
}

Test(checks, tcp_times_out_on_a_full_backlog)
{
	struct probe p;
	char want[80];
	int port, fd = bound_socket(0, 0, &port), fill[4];

	/* Nobody accepts: once the accept queue is full, the kernel drops
	 * further SYNs and a connect waits until it gives up. */
	for (size_t i = 0; i < MC_ARRAY_LEN(fill); i++) {
		struct sockaddr_in a = { .sin_family = AF_INET,
					 .sin_port = htons((uint16_t)port),
					 .sin_addr.s_addr =
						 htonl(INADDR_LOOPBACK) };

		fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		cr_assert(fill[i] >= 0);
		connect(fill[i], (struct sockaddr *)&a, sizeof(a));
	}
	run_conf(&p, "[check \"t\"]\ntype = tcp\ntimeout = 200ms\n"
		 "address = 127.0.0.1:%d\n", port);
	snprintf(want, sizeof(want),
		 "timed out after 200 ms connecting to 127.0.0.1:%d", port);
	expect(&p, MC_ST_CRITICAL, NULL);
	cr_assert_str_eq(p.r.message, want);
	probe_free(&p);
	for (size_t i = 0; i < MC_ARRAY_LEN(fill); i++)
		close(fill[i]);
	close(fd);
}

/* ---- redis -------------------------------------------------------------- */

Test(checks, redis_ping)
{
	struct probe p;

	run_conf(&p, "[check \"t\"]\ntype = redis\nurl = %s\n",
		 mc_test_env("MC_TEST_REDIS_URL"));
	expect(&p, MC_ST_OK, NULL);
	cr_assert(starts_with(p.r.message, "PONG in "), "%s", p.r.message);
	cr_assert(ends_with(p.r.message, " ms"), "%s", p.r.message);
	probe_free(&p);
}

Test(checks, redis_url_defaults_to_core)
{
	struct probe p;

	run_conf(&p, "[core]\nredis_url = %s\n[check \"t\"]\ntype = redis\n",
		 mc_test_env("MC_TEST_REDIS_URL"));
	expect(&p, MC_ST_OK, "PONG in ");
	probe_free(&p);
}

Test(checks, redis_refused)
{
	struct probe p;
	int port, fd = bound_socket(0, -1, &port);

	run_conf(&p, "[check \"t\"]\ntype = redis\nurl = redis://127.0.0.1:%d\n",
		 port);
	expect(&p, MC_ST_CRITICAL, "cannot connect");
	cr_assert(strstr(p.r.message, "refused") != NULL, "%s", p.r.message);
	probe_free(&p);
	close(fd);
}

Test(checks, redis_needs_password)
{
	struct probe p;
	const char *pw = mc_test_env("MC_TEST_REDIS_PASSWORD");

	run_conf(&p, "[check \"t\"]\ntype = redis\nurl = %s\n",
		 mc_test_env("MC_TEST_REDIS_AUTH_URL"));
	expect(&p, MC_ST_CRITICAL, "requires a password");
	cr_assert(strstr(p.r.message, pw) == NULL);
	probe_free(&p);
}

/* Writes a password file in dir; returns its path (caller frees). */
static char *password_file(const char *dir, const char *pw)
{
	char *path = mc_asprintf("%s/redis.pass", dir);
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fprintf(f, "%s\n", pw);
	cr_assert_eq(fclose(f), 0);
	return path;
}

Test(checks, redis_password_file)
{
	char dir[MC_TEST_DIR_LEN];
	char *good, *bad;
	struct probe p;
	const char *url = mc_test_env("MC_TEST_REDIS_AUTH_URL");

	mc_test_dir(dir);
	good = password_file(dir, mc_test_env("MC_TEST_REDIS_PASSWORD"));
	run_conf(&p, "[check \"t\"]\ntype = redis\nurl = %s\n"
		 "password_file = %s\n", url, good);
	expect(&p, MC_ST_OK, "PONG in ");
	probe_free(&p);

	/* The [core] default serves a check that names none. */
	run_conf(&p, "[core]\nredis_url = %s\nredis_password_file = %s\n"
		 "[check \"t\"]\ntype = redis\n", url, good);
	expect(&p, MC_ST_OK, "PONG in ");
	probe_free(&p);

	/* A wrong password: critical, and the message never shows it. */
	free(good);
	good = mc_asprintf("%s/wrong.pass", dir);
	bad = password_file(dir, "not-the-Password-42");
	cr_assert_eq(rename(bad, good), 0);
	run_conf(&p, "[check \"t\"]\ntype = redis\nurl = %s\n"
		 "password_file = %s\n", url, good);
	expect(&p, MC_ST_CRITICAL, "authentication failed");
	cr_assert(strstr(p.r.message, "not-the-Password-42") == NULL, "%s",
		  p.r.message);
	probe_free(&p);

	/* An unreadable password file is the configuration's fault. */
	run_conf(&p, "[check \"t\"]\ntype = redis\nurl = %s\n"
		 "password_file = %s/none\n", url, dir);
	expect(&p, MC_ST_UNKNOWN, "password file");
	probe_free(&p);
	free(good);
	free(bad);
	mc_test_rmtree(dir);
}

Test(checks, redis_latency_thresholds)
{
	struct fake_redis f;
	struct probe p;

	/* Every answer comes 300 ms late. */
	fake_start(&f, 300);
	run_conf(&p, "[check \"t\"]\ntype = redis\ntimeout = 5s\n"
		 "url = redis://127.0.0.1:%d\nlatency_warn = 100ms\n"
		 "latency_crit = 10s\n", f.port);
	expect(&p, MC_ST_WARNING, "PONG in ");
	cr_assert(ends_with(p.r.message, " ms (>= latency_warn 100ms)"), "%s",
		  p.r.message);
	probe_free(&p);

	run_conf(&p, "[check \"t\"]\ntype = redis\ntimeout = 5s\n"
		 "url = redis://127.0.0.1:%d\nlatency_warn = 50ms\n"
		 "latency_crit = 100ms\n", f.port);
	expect(&p, MC_ST_CRITICAL, "PONG in ");
	cr_assert(ends_with(p.r.message, " ms (>= latency_crit 100ms)"), "%s",
		  p.r.message);
	probe_free(&p);

	/* Below the thresholds: ok. */
	run_conf(&p, "[check \"t\"]\ntype = redis\ntimeout = 5s\n"
		 "url = redis://127.0.0.1:%d\nlatency_warn = 1m\n", f.port);
	expect(&p, MC_ST_OK, "PONG in ");
	cr_assert(ends_with(p.r.message, " ms"), "%s", p.r.message);
	probe_free(&p);
	fake_stop(&f);
}

Test(checks, redis_hanging_server_times_out)
{
	struct fake_redis f;
	struct probe p;

	fake_start(&f, -1);	/* accepts, never answers */
	run_conf(&p, "[check \"t\"]\ntype = redis\ntimeout = 300ms\n"
		 "url = redis://127.0.0.1:%d\n", f.port);
	expect(&p, MC_ST_CRITICAL, "timed out after 300 ms");
	probe_free(&p);

	/* The run's deadline cuts a longer timeout short. */
	{
		struct mc_deadline dl;
		char *text = mc_asprintf("[check \"t\"]\ntype = redis\n"
					 "timeout = 1m\n"
					 "url = redis://127.0.0.1:%d\n", f.port);

		probe_load(&p, text);
		free(text);
		mc_deadline_set(&dl, 300);
		p.env.dl = &dl;
		probe_run(&p);
		expect(&p, MC_ST_CRITICAL, "timed out after ");
		cr_assert(strstr(p.r.message, "timed out after 60000 ms") ==
			  NULL, "%s", p.r.message);
		probe_free(&p);
	}
	fake_stop(&f);
}

/* ---- redis_queue -------------------------------------------------------- */

static struct mc_redis *test_redis(void)
{
	struct mc_redis_opts o = { .url = mc_test_env("MC_TEST_REDIS_URL") };
	struct mc_err err = { 0 };
	struct mc_redis *r = mc_redis_connect(&o, &err);

	cr_assert_not_null(r, "connect: %s", err.msg);
	return r;
}

static void redis_do(struct mc_redis *r, const char *cmd, const char *key,
		     const char *arg)
{
	struct mc_err err = { 0 };
	redisReply *reply = arg ? mc_redis_cmd(r, &err, "%s %s %s", cmd, key,
					       arg)
				: mc_redis_cmd(r, &err, "%s %s", cmd, key);

	cr_assert_not_null(reply, "%s %s: %s", cmd, key, err.msg);
	freeReplyObject(reply);
}

static void queue_key(char *buf, size_t size, const char *what)
{
	snprintf(buf, size, "mc:test:checks:%s:%ld", what, (long)getpid());
}

Test(checks, redis_queue_depth_against_thresholds)
{
	struct mc_redis *red = test_redis();
	const char *url = mc_test_env("MC_TEST_REDIS_URL");
	char key[80];
	struct probe p;

	queue_key(key, sizeof(key), "depth");
	redis_do(red, "DEL", key, NULL);
	for (int i = 0; i < 7; i++)
		redis_do(red, "RPUSH", key, "job");

	run_conf(&p, "[check \"t\"]\ntype = redis_queue\nurl = %s\n"
		 "queue = %s\n", url, key);
	expect(&p, MC_ST_OK, NULL);
	cr_assert_str_eq(p.r.message, "depth 7");
	cr_assert_eq(p.r.has_value, 1);
	cr_assert_float_eq(p.r.value, 7.0, 1e-9);
	cr_assert_str_eq(p.r.unit, "");
	probe_free(&p);

	run_conf(&p, "[check \"t\"]\ntype = redis_queue\nurl = %s\n"
		 "queue = %s\nwarn = 7\ncrit = 100\n", url, key);
	expect(&p, MC_ST_WARNING, NULL);
	cr_assert_str_eq(p.r.message, "depth 7 >= warn 7");
	probe_free(&p);

	run_conf(&p, "[check \"t\"]\ntype = redis_queue\nurl = %s\n"
		 "queue = %s\nwarn = 3\ncrit = 7\n", url, key);
	expect(&p, MC_ST_CRITICAL, NULL);
	cr_assert_str_eq(p.r.message, "depth 7 >= crit 7");
	cr_assert_float_eq(p.r.value, 7.0, 1e-9);
	probe_free(&p);

	run_conf(&p, "[check \"t\"]\ntype = redis_queue\nurl = %s\n"
		 "queue = %s\nwarn = 8\ncrit = 9\n", url, key);
	expect(&p, MC_ST_OK, NULL);
	cr_assert_str_eq(p.r.message, "depth 7");
	probe_free(&p);

	redis_do(red, "DEL", key, NULL);
	mc_redis_close(red);
}

Test(checks, redis_queue_missing_key_is_empty)
{
	struct mc_redis *red = test_redis();
	char key[80];
	struct probe p;

	queue_key(key, sizeof(key), "missing");
	redis_do(red, "DEL", key, NULL);
	run_conf(&p, "[check \"t\"]\ntype = redis_queue\nurl = %s\n"
		 "queue = %s\nwarn = 1\n", mc_test_env("MC_TEST_REDIS_URL"), key);
	expect(&p, MC_ST_OK, NULL);
	cr_assert_str_eq(p.r.message, "depth 0");
	cr_assert_eq(p.r.has_value, 1);
	cr_assert_float_eq(p.r.value, 0.0, 1e-9);
	probe_free(&p);
	mc_redis_close(red);
}

Test(checks, redis_queue_wrongtype)
{
	struct mc_redis *red = test_redis();
	char key[80], want[128];
	struct probe p;

	queue_key(key, sizeof(key), "string");
	redis_do(red, "SET", key, "not-a-list");
	run_conf(&p, "[check \"t\"]\ntype = redis_queue\nurl = %s\n"
		 "queue = %s\n", mc_test_env("MC_TEST_REDIS_URL"), key);
	snprintf(want, sizeof(want), "queue '%s' is not a list", key);
	expect(&p, MC_ST_CRITICAL, NULL);
	cr_assert_str_eq(p.r.message, want);
	cr_assert_eq(p.r.has_value, 0);
	probe_free(&p);
	redis_do(red, "DEL", key, NULL);
	mc_redis_close(red);
}

Test(checks, redis_queue_needs_password)
{
	struct probe p;

	run_conf(&p, "[check \"t\"]\ntype = redis_queue\nurl = %s\n"
		 "queue = q\n", mc_test_env("MC_TEST_REDIS_AUTH_URL"));
	expect(&p, MC_ST_CRITICAL, "requires a password");
	cr_assert_eq(p.r.has_value, 0);
	probe_free(&p);
}

/* ---- sqlite ------------------------------------------------------------- */

static void sql(sqlite3 *db, const char *q)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, q, NULL, NULL, &msg);

	cr_assert_eq(rc, SQLITE_OK, "%s: %s", q, msg ? msg : "?");
	sqlite3_free(msg);
}

/* A real database at path: a table over many pages, and an index. */
static void make_db(const char *path)
{
	sqlite3 *db = NULL;

	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	sql(db, "PRAGMA page_size = 4096;"
		"CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);"
		"CREATE INDEX t_v ON t (v);"
		"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 "
		"FROM n WHERE i < 2000) "
		"INSERT INTO t (v) SELECT printf('value-%d-%s', i, "
		"hex(randomblob(16))) FROM n;");
	cr_assert_eq(sqlite3_close(db), SQLITE_OK);
}

static void write_at(const char *path, long off, const void *p, size_t n)
{
	FILE *f = fopen(path, off < 0 ? "w" : "r+");

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	if (off > 0)
		cr_assert_eq(fseek(f, off, SEEK_SET), 0);
	cr_assert_eq(fwrite(p, 1, n, f), n);
	cr_assert_eq(fclose(f), 0);
}

Test(checks, sqlite_quick_check_ok)
{
	char dir[MC_TEST_DIR_LEN], *path;
	struct probe p;

	mc_test_dir(dir);
	path = mc_asprintf("%s/good.db", dir);
	make_db(path);
	run_conf(&p, "[check \"t\"]\ntype = sqlite\npath = %s\n", path);
	expect(&p, MC_ST_OK, NULL);
	cr_assert_str_eq(p.r.message, "quick_check ok");
	probe_free(&p);
	free(path);
	mc_test_rmtree(dir);
}

Test(checks, sqlite_not_a_database)
{
	char dir[MC_TEST_DIR_LEN], *path, *want;
	char junk[8192];
	struct probe p;

	mc_test_dir(dir);
	path = mc_asprintf("%s/junk.db", dir);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (char)('a' + i % 26);
	write_at(path, -1, junk, sizeof(junk));
	run_conf(&p, "[check \"t\"]\ntype = sqlite\npath = %s\n", path);
	want = mc_asprintf("%s is not a SQLite database", path);
	expect(&p, MC_ST_CRITICAL, NULL);
	cr_assert_str_eq(p.r.message, want);
	probe_free(&p);
	free(want);
	free(path);
	mc_test_rmtree(dir);
}

Test(checks, sqlite_missing_file_is_not_created)
{
	char dir[MC_TEST_DIR_LEN], *path, *want;
	struct probe p;

	mc_test_dir(dir);
	path = mc_asprintf("%s/absent.db", dir);
	run_conf(&p, "[check \"t\"]\ntype = sqlite\npath = %s\n", path);
	want = mc_asprintf("cannot open %s: ", path);
	expect(&p, MC_ST_CRITICAL, NULL);
	cr_assert(starts_with(p.r.message, want), "%s", p.r.message);
	cr_assert(strlen(p.r.message) > strlen(want));
	cr_assert_eq(access(path, F_OK), -1, "the check created %s", path);
	cr_assert_eq(errno, ENOENT);
	probe_free(&p);
	free(want);
	free(path);
	mc_test_rmtree(dir);
}

Test(checks, sqlite_corrupt_page)
{
	char dir[MC_TEST_DIR_LEN], *path;
	char junk[4096];
	struct probe p;

	mc_test_dir(dir);
	path = mc_asprintf("%s/corrupt.db", dir);
	make_db(path);
	memset(junk, 0xa5, sizeof(junk));
	write_at(path, 4096, junk, sizeof(junk));	/* page 2 */
	run_conf(&p, "[check \"t\"]\ntype = sqlite\npath = %s\n", path);
	/* quick_check reports the damaged page (after its "*** in database
	 * main ***" header, which says nothing). */
	expect(&p, MC_ST_CRITICAL, NULL);
	cr_assert(starts_with(p.r.message, "quick_check: Page 2: "), "%s",
		  p.r.message);
	probe_free(&p);
	free(path);
	mc_test_rmtree(dir);
}

Test(checks, sqlite_locked_database_is_bounded)
{
	char dir[MC_TEST_DIR_LEN], *path;
	sqlite3 *db = NULL;
	struct probe p;

	mc_test_dir(dir);
	path = mc_asprintf("%s/locked.db", dir);
	make_db(path);
	/* A writer holds an exclusive lock: the check's reads wait for the
	 * busy timeout (its own timeout), then fail. */
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	sql(db, "BEGIN EXCLUSIVE; INSERT INTO t (v) VALUES ('x');");
	run_conf(&p, "[check \"t\"]\ntype = sqlite\ntimeout = 200ms\n"
		 "path = %s\n", path);
	expect(&p, MC_ST_CRITICAL, "locked");
	probe_free(&p);
	sql(db, "ROLLBACK;");
	sqlite3_close(db);
	free(path);
	mc_test_rmtree(dir);
}

Test(checks, sqlite_interrupted_at_timeout)
{
	char dir[MC_TEST_DIR_LEN], *path, *want;
	sqlite3 *db = NULL;
	struct probe p;

	mc_test_dir(dir);
	path = mc_asprintf("%s/big.db", dir);
	/* Some 10 MB: quick_check takes far longer than 1 ms, so the progress
	 * handler has to stop it. */
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	sql(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);"
		"CREATE INDEX t_v ON t (v);"
		"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 "
		"FROM n WHERE i < 40000) "
		"INSERT INTO t (v) SELECT hex(randomblob(100)) FROM n;");
	cr_assert_eq(sqlite3_close(db), SQLITE_OK);
	run_conf(&p, "[check \"t\"]\ntype = sqlite\ntimeout = 1ms\n"
		 "path = %s\n", path);
	want = mc_asprintf("timed out after 1 ms checking %s", path);
	expect(&p, MC_ST_CRITICAL, NULL);
	cr_assert_str_eq(p.r.message, want);
	probe_free(&p);
	free(want);
	free(path);
	mc_test_rmtree(dir);
}

/* ---- concurrency -------------------------------------------------------- */

struct job {
	struct probe p;
	int rounds, ok;
};

static void *job_main(void *arg)
{
	struct job *j = arg;

	for (int i = 0; i < j->rounds; i++) {
		j->p.c.type->run(&j->p.c, &j->p.env, &j->p.r);
		j->ok += j->p.r.status == MC_ST_OK;
	}
	return NULL;
}

Test(checks, concurrent_runs)
{
	char dir[MC_TEST_DIR_LEN], *path, *text[4];
	struct job jobs[8];
	pthread_t th[8];

	mc_test_dir(dir);
	path = mc_asprintf("%s/c.db", dir);
	make_db(path);
	text[0] = mc_asprintf("[check \"t\"]\ntype = tcp\n"
			      "address = 127.0.0.1:%d\n", receiver_port());
	text[1] = mc_asprintf("[check \"t\"]\ntype = redis\nurl = %s\n",
			      mc_test_env("MC_TEST_REDIS_URL"));
	text[2] = mc_asprintf("[check \"t\"]\ntype = redis_queue\nurl = %s\n"
			      "queue = mc:test:checks:none:%ld\n",
			      mc_test_env("MC_TEST_REDIS_URL"), (long)getpid());
	text[3] = mc_asprintf("[check \"t\"]\ntype = sqlite\npath = %s\n", path);
	for (size_t i = 0; i < MC_ARRAY_LEN(jobs); i++) {
		probe_load(&jobs[i].p, text[i % 4]);
		jobs[i].rounds = 5;
		jobs[i].ok = 0;
	}
	for (size_t i = 0; i < MC_ARRAY_LEN(jobs); i++)
		cr_assert_eq(pthread_create(&th[i], NULL, job_main, &jobs[i]), 0);
	for (size_t i = 0; i < MC_ARRAY_LEN(jobs); i++)
		pthread_join(th[i], NULL);
	for (size_t i = 0; i < MC_ARRAY_LEN(jobs); i++) {
		cr_assert_eq(jobs[i].ok, jobs[i].rounds, "job %zu (%s): %s", i,
			     jobs[i].p.c.type->name, jobs[i].p.r.message);
		probe_free(&jobs[i].p);
	}
	for (size_t i = 0; i < 4; i++)
		free(text[i]);
	free(path);
	mc_test_rmtree(dir);
}
