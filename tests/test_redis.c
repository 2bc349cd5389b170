/*
 * test_redis.c - lib/redis.c against real redis-servers on loopback.
 *
 * Needs the variables that scripts/servers.sh writes to DIR/env:
 * MC_TEST_REDIS_URL, MC_TEST_REDIS_PORT, MC_TEST_REDIS_AUTH_URL,
 * MC_TEST_REDIS_AUTH_PORT, MC_TEST_REDIS_PASSWORD. Missing ones fail.
 */
#include <criterion/criterion.h>

#include "testlib.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "redis.h"

/* The password variables of the environment must not leak into tests that
 * do not set them. */
static void clear_password_env(void)
{
	unsetenv("MERCURY_REDIS_PASSWORD");
	unsetenv("REDISCLI_AUTH");
}

/* A key no other test process uses. */
static void key_name(char *buf, size_t size, const char *what)
{
	snprintf(buf, size, "mc:test:redis:%s:%ld", what, (long)getpid());
}

static struct mc_redis *connect_opts(const struct mc_redis_opts *o)
{
	struct mc_err err = { 0 };
	struct mc_redis *r = mc_redis_connect(o, &err);

	cr_assert(r != NULL, "connect %s: %s", o->url, err.msg);
	return r;
}

static struct mc_redis *connect_url(const char *url)
{
	struct mc_redis_opts o = { .url = url };

	return connect_opts(&o);
}

static void assert_ping(struct mc_redis *r)
{
	struct mc_err err = { 0 };
	redisReply *reply = mc_redis_cmd(r, &err, "PING");

	cr_assert(reply != NULL, "PING: %s", err.msg);
	cr_assert_eq(reply->type, REDIS_REPLY_STATUS);
	cr_assert_str_eq(reply->str, "PONG");
	freeReplyObject(reply);
}

static void del_key(struct mc_redis *r, const char *key)
{
	struct mc_err err = { 0 };
	redisReply *reply = mc_redis_cmd(r, &err, "DEL %s", key);

	cr_assert(reply != NULL, "DEL: %s", err.msg);
	freeReplyObject(reply);
}

/* "redis://127.0.0.1:PORT/DB" with an optional "USERINFO@". */
static char *local_url(const char *port_var, const char *userinfo, int db)
{
	const char *port = mc_test_env(port_var);

	return mc_asprintf("redis://%s%s127.0.0.1:%s/%d",
			   userinfo ? userinfo : "", userinfo ? "@" : "", port,
			   db);
}

/* Expects connect to fail with code; returns err for further checks. */
static struct mc_err connect_fails(const struct mc_redis_opts *o, int code)
{
	struct mc_err err = { 0 };
	struct mc_redis *r = mc_redis_connect(o, &err);

	if (r != NULL)
		mc_redis_close(r);
	cr_assert(r == NULL, "connect %s should have failed", o->url);
	cr_assert_eq(err.code, code, "code %d, want %d (%s)", err.code, code,
		     err.msg);
	cr_assert(err.msg[0] != '\0');
	cr_assert(strchr(err.msg, '\n') == NULL, "one line: %s", err.msg);
	return err;
}

/* --- URL parsing --------------------------------------------------------- */

struct good_url {
	const char *url;
	const char *host;
	int port;
	int db;
	const char *user;
	const char *password;
};

Test(redis, parse_url_good)
{
	static const struct good_url cases[] = {
		{ "redis://localhost", "localhost", 6379, 0, NULL, NULL },
		{ "redis://localhost/", "localhost", 6379, 0, NULL, NULL },
		{ "redis://127.0.0.1:6380/2", "127.0.0.1", 6380, 2, NULL, NULL },
		{ "REDIS://Cache-1.example.com:1", "Cache-1.example.com", 1, 0,
		  NULL, NULL },
		{ "redis://h:65535/2147483647", "h", 65535, 2147483647, NULL,
		  NULL },
		{ "redis://:pw@h:7000/15", "h", 7000, 15, NULL, "pw" },
		{ "redis://alice:pw@h", "h", 6379, 0, "alice", "pw" },
		{ "redis://al%69ce:p%40ss%3Aw%2Fd%25@h/1", "h", 6379, 1,
		  "alice", "p@ss:w/d%" },
		{ "redis://:p@ss@h", "h", 6379, 0, NULL, "p@ss" },
		{ "redis://alice:@h", "h", 6379, 0, "alice", NULL },
		{ "redis://[::1]:6379", "::1", 6379, 0, NULL, NULL },
		{ "redis://[::1]", "::1", 6379, 0, NULL, NULL },
		{ "redis://:pw@[2001:db8::7]:7001/3", "2001:db8::7", 7001, 3,
		  NULL, "pw" },
	};

	for (size_t i = 0; i < MC_ARRAY_LEN(cases); i++) {
		const struct good_url *c = &cases[i];
		struct mc_redis_url u;
		struct mc_err err = { 0 };

		cr_assert_eq(mc_redis_parse_url(c->url, &u, &err), 0,
			     "%s: %s", c->url, err.msg);
		cr_assert_str_eq(u.host, c->host, "%s", c->url);
		cr_assert_eq(u.port, c->port, "%s", c->url);
		cr_assert_eq(u.db, c->db, "%s", c->url);
		cr_assert(mc_streq(u.user, c->user), "%s: user '%s'", c->url,
			  u.user ? u.user : "(null)");
		cr_assert(mc_streq(u.password, c->password), "%s", c->url);
		mc_redis_url_release(&u);
		cr_assert_null(u.host);
		cr_assert_null(u.password);
	}
}

struct bad_url {
	const char *url;
	const char *reason;	/* a word the message must hold */
};

Test(redis, parse_url_bad)
{
	/* The secret in every case is "hunter2" (or part of it). */
	static const struct bad_url cases[] = {
		{ "", "empty" },
		{ "http://h:6379", "scheme" },
		{ "http://u:hunter2@h", "scheme" },
		{ "rediss://:hunter2@h", "TLS" },
		{ "unix:///tmp/redis.sock", "scheme" },
		{ "localhost:6379", "redis://" },
		{ "redis://", "no host" },
		{ "redis://:6379/0", "no host" },
		{ "redis://:hunter2@", "no host" },
		{ "redis://:hunter2@:6379/0", "no host" },
		{ "redis://:hunter2@/0", "no host" },
		{ "redis://h:0", "port" },
		{ "redis://h:65536", "port" },
		{ "redis://:hunter2@h:99999", "port" },
		{ "redis://h:-1", "port" },
		{ "redis://h:+1", "port" },
		{ "redis://h:abc", "port" },
		{ "redis://h:", "port" },
		{ "redis://h:6379junk", "port" },
		{ "redis://h/-1", "database" },
		{ "redis://h/x", "database" },
		{ "redis://u:hunter2@h/abc", "database" },
		{ "redis://h/1/2", "database" },
		{ "redis://h/99999999999", "database" },
		{ "redis://h/1?timeout=1", "database" },
		{ "redis://h?x", "character" },
		{ "redis://h h", "space" },
		{ "redis://[::1", "]" },
		{ "redis://[]:1", "IPv6" },
		{ "redis://[::1]x", "unexpected" },
		{ "redis://hunter2@h", "':'" },
		{ "redis://:hunt%zzer2@h", "percent" },
		{ "redis://:hunter2%@h", "percent" },
		{ "redis://:hunter2%00@h", "percent" },
		{ "redis://u%4:hunter2@h", "percent" },
	};

	for (size_t i = 0; i < MC_ARRAY_LEN(cases); i++) {
		const struct bad_url *c = &cases[i];
		struct mc_redis_url u;
		struct mc_err err = { 0 };

		cr_assert_eq(mc_redis_parse_url(c->url, &u, &err), -1,
			     "'%s' should be refused", c->url);
		cr_assert_eq(err.code, MC_EXIT_USAGE, "%s", c->url);
		cr_assert(strstr(err.msg, c->reason) != NULL,
			  "'%s': '%s' does not say '%s'", c->url, err.msg,
			  c->reason);
		cr_assert(strstr(err.msg, "hunt") == NULL,
			  "'%s': message shows the password: %s", c->url,
			  err.msg);
		cr_assert(strchr(err.msg, '\n') == NULL);
		cr_assert_null(u.host);
		cr_assert_null(u.password);
		mc_redis_url_release(&u);
	}
}

Test(redis, parse_url_redacts_password)
{
	struct mc_redis_url u;
	struct mc_err err = { 0 };

	cr_assert_eq(mc_redis_parse_url("redis://bob:hunter2@h:99999", &u,
					&err), -1);
	cr_assert(strstr(err.msg, "redis://bob:***@h:99999") != NULL, "%s",
		  err.msg);
	cr_assert_eq(mc_redis_parse_url("redis://:hunter2@h/x", &u, &err), -1);
	cr_assert(strstr(err.msg, "redis://:***@h/x") != NULL, "%s", err.msg);
	mc_redis_url_release(&u);
	mc_redis_url_release(NULL);
}

/* --- Plain server -------------------------------------------------------- */

Test(redis, connect_and_ping)
{
	struct mc_redis *r;

	clear_password_env();
	r = connect_url(mc_test_env("MC_TEST_REDIS_URL"));
	cr_assert_not_null(mc_redis_context(r));
	assert_ping(r);
	mc_redis_close(r);
	mc_redis_close(NULL);
}

Test(redis, set_get_binary_safe)
{
	static const char value[] = { 'a', '\0', 'b', '\r', '\n', '\xff' };
	struct mc_redis *r;
	struct mc_err err = { 0 };
	redisReply *reply;
	char key[128];
	const char *argv[3];
	size_t argvlen[3];

	clear_password_env();
	r = connect_url(mc_test_env("MC_TEST_REDIS_URL"));
	key_name(key, sizeof(key), "bin");

	argv[0] = "SET";
	argv[1] = key;
	argv[2] = value;
	argvlen[0] = 3;
	argvlen[1] = strlen(key);
	argvlen[2] = sizeof(value);
	reply = mc_redis_cmdargv(r, 3, argv, argvlen, &err);
	cr_assert_not_null(reply, "SET: %s", err.msg);
	cr_assert_eq(reply->type, REDIS_REPLY_STATUS);
	freeReplyObject(reply);

	argv[0] = "GET";
	argvlen[0] = 3;
	reply = mc_redis_cmdargv(r, 2, argv, argvlen, &err);
	cr_assert_not_null(reply, "GET: %s", err.msg);
	cr_assert_eq(reply->type, REDIS_REPLY_STRING);
	cr_assert_eq(reply->len, sizeof(value));
	cr_assert_eq(memcmp(reply->str, value, sizeof(value)), 0);
	freeReplyObject(reply);

	/* The same through the format API and %b. */
	reply = mc_redis_cmd(r, &err, "STRLEN %b", key, strlen(key));
	cr_assert_not_null(reply, "STRLEN: %s", err.msg);
	cr_assert_eq(reply->type, REDIS_REPLY_INTEGER);
	cr_assert_eq(reply->integer, (long long)sizeof(value));
	freeReplyObject(reply);

	del_key(r, key);
	mc_redis_close(r);
}

Test(redis, db_selection)
{
	struct mc_redis *r3, *r0;
	struct mc_err err = { 0 };
	redisReply *reply;
	char key[128];
	char *url3 = local_url("MC_TEST_REDIS_PORT", NULL, 3);
	char *url0 = local_url("MC_TEST_REDIS_PORT", NULL, 0);

	clear_password_env();
	key_name(key, sizeof(key), "db3");
	r3 = connect_url(url3);
	r0 = connect_url(url0);

	reply = mc_redis_cmd(r3, &err, "SET %s here", key);
	cr_assert_not_null(reply, "SET: %s", err.msg);
	freeReplyObject(reply);

	reply = mc_redis_cmd(r0, &err, "EXISTS %s", key);
	cr_assert_not_null(reply, "EXISTS: %s", err.msg);
	cr_assert_eq(reply->type, REDIS_REPLY_INTEGER);
	cr_assert_eq(reply->integer, 0, "key written in db 3 is in db 0");
	freeReplyObject(reply);

	reply = mc_redis_cmd(r3, &err, "GET %s", key);
	cr_assert_not_null(reply, "GET: %s", err.msg);
	cr_assert_eq(reply->type, REDIS_REPLY_STRING);
	cr_assert_str_eq(reply->str, "here");
	freeReplyObject(reply);

	del_key(r3, key);
	mc_redis_close(r3);
	mc_redis_close(r0);
	free(url3);
	free(url0);
}

Test(redis, db_out_of_range)
{
	struct mc_redis_opts o = { 0 };
	struct mc_err err;
	char *url = local_url("MC_TEST_REDIS_PORT", NULL, 100000);

	clear_password_env();
	o.url = url;
	err = connect_fails(&o, MC_EXIT_CRITICAL);
	cr_assert(strstr(err.msg, "DB index") != NULL, "%s", err.msg);
	free(url);
}

Test(redis, wrongtype_surfaces_server_text)
{
	struct mc_redis *r;
	struct mc_err err = { 0 };
	redisReply *reply;
	char key[128];

	clear_password_env();
	r = connect_url(mc_test_env("MC_TEST_REDIS_URL"));
	key_name(key, sizeof(key), "wrongtype");
	reply = mc_redis_cmd(r, &err, "SET %s a-string", key);
	cr_assert_not_null(reply, "SET: %s", err.msg);
	freeReplyObject(reply);

	reply = mc_redis_cmd(r, &err, "LPUSH %s x", key);
	cr_assert_null(reply);
	cr_assert_eq(err.code, MC_EXIT_CRITICAL);
	cr_assert(strstr(err.msg, "WRONGTYPE") != NULL, "%s", err.msg);

	/* An error reply leaves the connection usable. */
	assert_ping(r);
	del_key(r, key);
	mc_redis_close(r);
}

Test(redis, connection_refused)
{
	struct sockaddr_in sa = { 0 };
	socklen_t len = sizeof(sa);
	struct mc_redis_opts o = { 0 };
	struct mc_err err;
	char *url, where[64];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	/* A port bound but not listening: nothing can take it meanwhile,
	 * and a connect to it is refused. */
	cr_assert(fd >= 0);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	snprintf(where, sizeof(where), "127.0.0.1:%d", ntohs(sa.sin_port));
	url = mc_asprintf("redis://%s/0", where);

	clear_password_env();
	o.url = url;
	err = connect_fails(&o, MC_EXIT_CRITICAL);
	cr_assert(strstr(err.msg, where) != NULL, "%s", err.msg);
	cr_assert(strstr(err.msg, "refused") != NULL, "%s", err.msg);
	close(fd);
	free(url);
}

Test(redis, command_timeout_breaks_connection)
{
	struct mc_redis_opts o = { 0 };
	struct mc_redis *r;
	struct mc_err err = { 0 };
	redisReply *reply;
	char key[128];

	clear_password_env();
	o.url = mc_test_env("MC_TEST_REDIS_URL");
	o.command_timeout_ms = 200;
	r = connect_opts(&o);
	key_name(key, sizeof(key), "emptykey");

	reply = mc_redis_cmd(r, &err, "BLPOP %s 5", key);
	cr_assert_null(reply);
	cr_assert_eq(err.code, MC_EXIT_CRITICAL);
	cr_assert(strstr(err.msg, "timed out after 200 ms") != NULL, "%s",
		  err.msg);

	/* The BLPOP reply may still come: the connection must not be used. */
	memset(&err, 0, sizeof(err));
	reply = mc_redis_cmd(r, &err, "PING");
	cr_assert_null(reply);
	cr_assert_eq(err.code, MC_EXIT_CRITICAL);
	cr_assert(strstr(err.msg, "broken") != NULL, "%s", err.msg);
	cr_assert(strstr(err.msg, "timed out") != NULL, "%s", err.msg);

	memset(&err, 0, sizeof(err));
	reply = mc_redis_cmdargv(r, 1, (const char *[]){ "PING" }, NULL, &err);
	cr_assert_null(reply);
	cr_assert(strstr(err.msg, "broken") != NULL, "%s", err.msg);
	mc_redis_close(r);
}

/* A command cut short by its own timeout names the timeout shown to the
 * user (a check's configured one), however far the run's deadline is:
 * "timed out after 1500 ms" for a 1500 ms check whose command got the
 * 200 ms left of it, never the 1499 ms a clock read later computes. */
Test(redis, command_timeout_names_the_shown_timeout)
{
	struct mc_redis_opts o = { 0 };
	struct mc_deadline dl;
	struct mc_redis *r;
	struct mc_err err = { 0 };
	redisReply *reply;
	char key[128];

	clear_password_env();
	mc_deadline_set(&dl, 60000);
	o.url = mc_test_env("MC_TEST_REDIS_URL");
	o.command_timeout_ms = 200;
	o.shown_timeout_ms = 1500;
	o.dl = &dl;
	r = connect_opts(&o);
	key_name(key, sizeof(key), "emptykey");

	reply = mc_redis_cmd(r, &err, "BLPOP %s 5", key);
	cr_assert_null(reply);
	cr_assert_eq(err.code, MC_EXIT_CRITICAL);
	cr_assert(strstr(err.msg, "timed out after 1500 ms") != NULL, "%s",
		  err.msg);
	mc_redis_close(r);
}

/* A server that answers PING, then announces a bulk reply of 300 MB and
 * sends a few bytes of it and nothing more, until the client hangs up. */
static void announcing_server(int lfd)
{
	static const char pong[] = "+PONG\r\n", big[] = "$314572800\r\naaaa";
	char buf[512];
	int c = accept(lfd, NULL, NULL);

	if (c < 0 || read(c, buf, sizeof(buf)) <= 0 ||
	    write(c, pong, sizeof(pong) - 1) < 0 ||
	    read(c, buf, sizeof(buf)) <= 0 ||
	    write(c, big, sizeof(big) - 1) < 0)
		_exit(1);
	while (read(c, buf, sizeof(buf)) > 0)
		;
	_exit(0);
}

/* A reply announced larger than the client takes is refused at once, not
 * after that much of it was read (which a slow link may not deliver within
 * the timeout, and which would be held in memory meanwhile). */
Test(redis, huge_bulk_refused_when_announced, .timeout = 30)
{
	struct mc_redis_opts o = { 0 };
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	struct mc_redis *r;
	struct mc_err err = { 0 };
	redisReply *reply;
	char *url;
	int lfd, status;
	pid_t pid;

	clear_password_env();
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_geq(lfd, 0);
	cr_assert_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(lfd, 1), 0);
	cr_assert_eq(getsockname(lfd, (struct sockaddr *)&sa, &len), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		announcing_server(lfd);
	close(lfd);
	url = mc_asprintf("redis://127.0.0.1:%d/0", ntohs(sa.sin_port));
	o.url = url;
	/* Longer than any test: only the announcement can end the wait. */
	o.command_timeout_ms = 600000;
	o.max_reply_bytes = 1 << 20;
	r = connect_opts(&o);
	reply = mc_redis_cmd(r, &err, "GET big");
	cr_assert_null(reply);
	cr_assert_eq(err.code, MC_EXIT_CRITICAL);
	cr_assert(strstr(err.msg, "a reply larger than 1 MiB: refused") != NULL,
		  "%s", err.msg);
	mc_redis_close(r);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "the server failed: %d", status);
	free(url);
}

/* After SIGINT a connection's waits get a short grace; an interrupt that
 * is over (as a test clears it) leaves no grace behind: a command later,
 * past that grace, waits its own timeout again. */
Test(redis, a_cleared_interrupt_leaves_no_grace)
{
	struct mc_redis *r;
	double past;

	clear_password_env();
	r = connect_url(mc_test_env("MC_TEST_REDIS_URL"));
	mc_interrupted = SIGINT;
	assert_ping(r);
	mc_interrupted = 0;
	/* past the grace (half a second) of that interrupt */
	past = mc_mono_now() + 0.6;
	while (mc_mono_now() < past)
		poll(NULL, 0, 50);
	assert_ping(r);
	mc_redis_close(r);
}

Test(redis, server_gone_is_connection_lost)
{
	struct mc_redis *r;
	struct mc_err err = { 0 };
	redisReply *reply;

	clear_password_env();
	r = connect_url(mc_test_env("MC_TEST_REDIS_URL"));
	/* The server closes this client after the reply to QUIT. */
	reply = mc_redis_cmd(r, &err, "QUIT");
	cr_assert_not_null(reply, "QUIT: %s", err.msg);
	freeReplyObject(reply);
	reply = mc_redis_cmd(r, &err, "PING");
	cr_assert_null(reply);
	cr_assert_eq(err.code, MC_EXIT_CRITICAL);
	cr_assert(strstr(err.msg, "connection lost") != NULL, "%s", err.msg);
	reply = mc_redis_cmd(r, &err, "PING");
	cr_assert_null(reply);
	cr_assert(strstr(err.msg, "broken") != NULL, "%s", err.msg);
	mc_redis_close(r);
}

/* --- Password-protected server ------------------------------------------- */

Test(redis, auth_no_password)
{
	struct mc_redis_opts o = { 0 };
	struct mc_err err;
	char where[64];

	clear_password_env();
	snprintf(where, sizeof(where), "127.0.0.1:%s",
		 mc_test_env("MC_TEST_REDIS_AUTH_PORT"));
	o.url = mc_test_env("MC_TEST_REDIS_AUTH_URL");
	err = connect_fails(&o, MC_EXIT_CRITICAL);
	cr_assert(strstr(err.msg, "requires a password") != NULL, "%s",
		  err.msg);
	cr_assert(strstr(err.msg, where) != NULL, "%s", err.msg);
}

Test(redis, auth_no_password_db_select)
{
	struct mc_redis_opts o = { 0 };
	struct mc_err err;
	char *url = local_url("MC_TEST_REDIS_AUTH_PORT", NULL, 2);

	clear_password_env();
	o.url = url;
	err = connect_fails(&o, MC_EXIT_CRITICAL);
	cr_assert(strstr(err.msg, "requires a password") != NULL, "%s",
		  err.msg);
	free(url);
}

Test(redis, auth_wrong_password)
{
	static const char wrong[] = "wr0ng-Pa55word";
	struct mc_redis_opts o = { 0 };
	struct mc_err err;
	char *url = local_url("MC_TEST_REDIS_AUTH_PORT", ":wr0ng-Pa55word", 0);

	clear_password_env();
	o.url = url;
	err = connect_fails(&o, MC_EXIT_CRITICAL);
	cr_assert(strstr(err.msg, "authentication failed") != NULL, "%s",
		  err.msg);
	cr_assert(strstr(err.msg, wrong) == NULL, "%s", err.msg);
	free(url);

	/* Wrong through the environment, and with a user (ACL form). */
	o.url = mc_test_env("MC_TEST_REDIS_AUTH_URL");
	setenv("MERCURY_REDIS_PASSWORD", wrong, 1);
	err = connect_fails(&o, MC_EXIT_CRITICAL);
	cr_assert(strstr(err.msg, "authentication failed") != NULL, "%s",
		  err.msg);
	cr_assert(strstr(err.msg, wrong) == NULL, "%s", err.msg);
	clear_password_env();

	url = local_url("MC_TEST_REDIS_AUTH_PORT", "default:wr0ng-Pa55word",
			0);
	o.url = url;
	err = connect_fails(&o, MC_EXIT_CRITICAL);
	cr_assert(strstr(err.msg, "authentication failed") != NULL, "%s",
		  err.msg);
	cr_assert(strstr(err.msg, wrong) == NULL, "%s", err.msg);
	free(url);
}

Test(redis, auth_password_in_url)
{
	const char *pw = mc_test_env("MC_TEST_REDIS_PASSWORD");
	struct mc_redis_url pu;
	struct mc_buf enc = { 0 };
	struct mc_redis *r;
	char *userinfo, *url;

	clear_password_env();
	/* Percent-encode every byte: decoding must give the password back. */
	for (const char *p = pw; *p; p++)
		mc_buf_printf(&enc, "%%%02X", (unsigned char)*p);
	userinfo = mc_asprintf(":%s", enc.data);
	url = local_url("MC_TEST_REDIS_AUTH_PORT", userinfo, 0);
	cr_assert_eq(mc_redis_parse_url(url, &pu, NULL), 0);
	cr_assert_str_eq(pu.password, pw);
	mc_redis_url_release(&pu);
	r = connect_url(url);
	assert_ping(r);
	mc_redis_close(r);
	free(url);
	free(userinfo);

	/* The Redis 6 ACL form, user "default". */
	userinfo = mc_asprintf("default:%s", enc.data);
	url = local_url("MC_TEST_REDIS_AUTH_PORT", userinfo, 1);
	r = connect_url(url);
	assert_ping(r);
	mc_redis_close(r);
	free(url);
	free(userinfo);
	mc_buf_release(&enc);
}

static char *write_temp(const char *content)
{
	char *path = mc_strdup("/tmp/mc-test-redis-pw-XXXXXX");
	int fd = mkstemp(path);
	size_t n = strlen(content);

	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, content, n), (ssize_t)n);
	close(fd);
	return path;
}

Test(redis, auth_password_file)
{
	const char *pw = mc_test_env("MC_TEST_REDIS_PASSWORD");
	struct mc_redis_opts o = { 0 };
	struct mc_redis *r;
	struct mc_err err;
	char *content = mc_asprintf("%s\n", pw);
	char *path = write_temp(content);
	char *bad = write_temp("wr0ng-Pa55word\n");

	clear_password_env();
	o.url = mc_test_env("MC_TEST_REDIS_AUTH_URL");
	o.password_file = path;
	r = connect_opts(&o);
	assert_ping(r);
	mc_redis_close(r);

	/* The file comes before the environment. */
	setenv("MERCURY_REDIS_PASSWORD", pw, 1);
	o.password_file = bad;
	err = connect_fails(&o, MC_EXIT_CRITICAL);
	cr_assert(strstr(err.msg, "authentication failed") != NULL, "%s",
		  err.msg);
	cr_assert(strstr(err.msg, "wr0ng") == NULL, "%s", err.msg);
	clear_password_env();

	unlink(path);
	unlink(bad);
	free(path);
	free(bad);
	free(content);
}

Test(redis, password_file_unreadable)
{
	struct mc_redis_opts o = { 0 };
	struct mc_err err;
	char *path = write_temp("x");

	unlink(path);
	clear_password_env();
	o.url = mc_test_env("MC_TEST_REDIS_AUTH_URL");
	o.password_file = path;
	err = connect_fails(&o, MC_EXIT_CONFIG);
	cr_assert(strstr(err.msg, path) != NULL, "%s", err.msg);
	free(path);

	path = write_temp("\n");
	o.password_file = path;
	err = connect_fails(&o, MC_EXIT_CONFIG);
	cr_assert(strstr(err.msg, "empty") != NULL, "%s", err.msg);
	unlink(path);
	free(path);
}

Test(redis, auth_password_env)
{
	const char *pw = mc_test_env("MC_TEST_REDIS_PASSWORD");
	struct mc_redis_opts o = { 0 };
	struct mc_redis *r;
	struct mc_err err;

	clear_password_env();
	o.url = mc_test_env("MC_TEST_REDIS_AUTH_URL");

	setenv("MERCURY_REDIS_PASSWORD", pw, 1);
	r = connect_opts(&o);
	assert_ping(r);
	mc_redis_close(r);
	unsetenv("MERCURY_REDIS_PASSWORD");

	setenv("REDISCLI_AUTH", pw, 1);
	r = connect_opts(&o);
	assert_ping(r);
	mc_redis_close(r);

	/* MERCURY_REDIS_PASSWORD comes before REDISCLI_AUTH. */
	setenv("MERCURY_REDIS_PASSWORD", "wr0ng-Pa55word", 1);
	err = connect_fails(&o, MC_EXIT_CRITICAL);
	cr_assert(strstr(err.msg, "authentication failed") != NULL, "%s",
		  err.msg);
	clear_password_env();
}

Test(redis, url_password_comes_first)
{
	const char *pw = mc_test_env("MC_TEST_REDIS_PASSWORD");
	struct mc_redis_opts o = { 0 };
	struct mc_redis *r;
	char *userinfo = mc_asprintf(":%s", pw);
	char *url = local_url("MC_TEST_REDIS_AUTH_PORT", userinfo, 0);
	char *bad = write_temp("wr0ng-Pa55word");

	setenv("MERCURY_REDIS_PASSWORD", "wr0ng-Pa55word", 1);
	o.url = url;
	o.password_file = bad;
	r = connect_opts(&o);
	assert_ping(r);
	mc_redis_close(r);
	clear_password_env();
	unlink(bad);
	free(bad);
	free(url);
	free(userinfo);
}
