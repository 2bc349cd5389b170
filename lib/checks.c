/*
 * checks.c - the probe check types: tcp, redis, redis_queue, sqlite
 * (mercuryctl-health(1), mercury.conf(5)).
 *
 * Each run function executes in a worker thread of its own, concurrently
 * with other checks: it reads c, c->sec and env->conf, writes only r, keeps
 * no static mutable state, and bounds every blocking call by what remains
 * of the check's timeout, name resolution included (net.h).
 */
#include "check.h"
#include "net.h"
#include "redis.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define DEFAULT_TIMEOUT_MS 2000

/* ---- shared ------------------------------------------------------------- */

/* The check's time budget in ms: its timeout, cut to what is left of the
 * run's deadline; at least 1. */
static int64_t budget_ms(const struct mc_check *c,
			 const struct mc_health_env *env)
{
	int64_t t = c->timeout_ms > 0 ? c->timeout_ms : DEFAULT_TIMEOUT_MS;

	if (env != NULL && env->dl != NULL)
		t = mc_deadline_left_ms(env->dl, t);
	return t > 0 ? t : 1;
}

/* The timeout a message names: the check's configured one, not its budget
 * (which the time already spent can cut by a millisecond). */
static int64_t shown_ms(const struct mc_check *c)
{
	return c->timeout_ms > 0 ? c->timeout_ms : DEFAULT_TIMEOUT_MS;
}

/* Milliseconds left until end (monotonic seconds), 0 when passed. */
static int64_t left_ms(double end)
{
	double left = (end - mc_mono_now()) * 1e3;

	if (left <= 0)
		return 0;
	return left < 1 ? 1 : (int64_t)left;
}

/* Thread-safe strerror into buf (GNU strerror_r may return a static
 * string instead of filling buf). */
static const char *errstr(int errnum, char *buf, size_t size)
{
	return strerror_r(errnum, buf, size);
}

/* Sets r from the probe's latency against latency_warn / latency_crit
 * (0 or unset: no threshold); what is the ok message ("PONG in 0.3 ms"). */
static void latency_verdict(const struct mc_check *c,
			    struct mc_check_result *r, double ms,
			    const char *what)
{
	char why[64];
	int st = mc_check_latency(c, ms, why, sizeof(why));

	if (st == MC_ST_OK)
		mc_check_set(r, MC_ST_OK, "%s", what);
	else
		mc_check_set(r, st, "%s (%s)", what, why);
}

/* ---- tcp ---------------------------------------------------------------- */

/* Splits "host:port" or "[v6]:port" into host and port; -1 when malformed
 * (the config loader has already refused those). */
static int split_address(const char *addr, char *host, size_t hsize,
			 char *port, size_t psize)
{
	const char *colon = strrchr(addr, ':');
	const char *h = addr;
	size_t hlen;

	if (colon == NULL || colon == addr || colon[1] == '\0')
		return -1;
	hlen = (size_t)(colon - addr);
	if (h[0] == '[' && hlen >= 2 && h[hlen - 1] == ']') {
		h++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= hsize || strlen(colon + 1) >= psize)
		return -1;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	snprintf(port, psize, "%s", colon + 1);
	return 0;
}

static void run_tcp(const struct mc_check *c, const struct mc_health_env *env,
		    struct mc_check_result *r)
{
	const char *addr = mc_conf_str(c->sec, "address");
	struct mc_err err = { 0 };
	char host[256], port[16], eb[128], what[320];
	int64_t budget = budget_ms(c, env);
	double start = mc_mono_now(), end = start + (double)budget / 1e3;
	long long pn;
	int fd = -1;

	if (addr == NULL ||
	    split_address(addr, host, sizeof(host), port, sizeof(port)) < 0 ||
	    mc_parse_int(port, 1, 65535, &pn, NULL) < 0) {
		mc_check_set(r, MC_ST_UNKNOWN, "bad address '%s' (use host:port)",
			     addr ? addr : "");
		return;
	}
	if (mc_net_connect(host, (int)pn, end, &fd, &err) == 0) {
		double ms = (mc_mono_now() - start) * 1e3;

		close(fd);
		snprintf(what, sizeof(what), "connected to %s in %.1f ms", addr,
			 ms);
		latency_verdict(c, r, ms, what);
	} else if (err.sys_errno == ETIMEDOUT) {
		mc_check_set(r, MC_ST_CRITICAL,
			     "timed out after %lld ms %s %s",
			     (long long)shown_ms(c), strstr(err.msg, "resolving") ?
			     "resolving" : "connecting to", addr);
	} else if (err.sys_errno == ECONNREFUSED) {
		mc_check_set(r, MC_ST_CRITICAL, "connection refused (%s)", addr);
	} else if (err.sys_errno == EINTR) {
		mc_check_set(r, MC_ST_UNKNOWN, "interrupted");
	} else if (err.sys_errno == 0) {
		mc_check_set(r, MC_ST_CRITICAL, "%s", err.msg);
	} else {
		mc_check_set(r, MC_ST_CRITICAL, "cannot connect to %s: %s", addr,
			     errstr(err.sys_errno, eb, sizeof(eb)));
	}
}

/* ---- redis, redis_queue ------------------------------------------------- */

/* Connects as the check says; NULL with r set on failure. *end is when the
 * budget runs out; the connection's command timeout is cut to what is left
 * of it. */
static struct mc_redis *redis_open(const struct mc_check *c,
				   const struct mc_health_env *env,
				   struct mc_check_result *r, double *end)
{
	struct mc_redis_opts o = { 0 };
	struct mc_err err = { 0 };
	struct mc_redis *red;
	int64_t budget = budget_ms(c, env), left;

	*end = mc_mono_now() + (double)budget / 1e3;
	mc_redis_opts_from_conf(c->sec, env ? env->conf : NULL, &o);
	/* Connecting (name, socket, AUTH, SELECT) takes from the same
	 * budget as the command after it: the whole check ends in time. */
	o.connect_timeout_ms = budget;
	o.command_timeout_ms = budget;
	o.shown_timeout_ms = shown_ms(c);
	o.dl = env ? env->dl : NULL;
	red = mc_redis_connect(&o, &err);
	if (red == NULL) {
		/* Unreachable, refused, wrong password: critical. A bad URL or
		 * an unreadable password file: the check cannot be evaluated. */
		mc_check_set(r, err.code == MC_EXIT_CRITICAL ? MC_ST_CRITICAL
							     : MC_ST_UNKNOWN,
			     "%s", err.msg[0] ? err.msg : "redis: cannot connect");
		return NULL;
	}
	left = left_ms(*end);
	if (left == 0) {
		mc_check_set(r, MC_ST_CRITICAL,
			     "redis: timed out after %lld ms (connecting took "
			     "all of it)", (long long)o.shown_timeout_ms);
		mc_redis_close(red);
		return NULL;
	}
	mc_redis_set_timeout(red, left);
	return red;
}

static void run_redis(const struct mc_check *c, const struct mc_health_env *env,
		      struct mc_check_result *r)
{
	struct mc_err err = { 0 };
	struct mc_redis *red;
	redisReply *reply;
	double end, t0, ms;
	char what[64];

	red = redis_open(c, env, r, &end);
	if (red == NULL)
		return;
	t0 = mc_mono_now();
	reply = mc_redis_cmd(red, &err, "PING");
	ms = (mc_mono_now() - t0) * 1e3;
	if (reply == NULL) {
		mc_check_set(r, MC_ST_CRITICAL, "%s", err.msg);
	} else if (reply->type != REDIS_REPLY_STATUS || reply->str == NULL ||
		   strcmp(reply->str, "PONG") != 0) {
		mc_check_set(r, MC_ST_CRITICAL,
			     "PING answered %.60s, not PONG",
			     (reply->type == REDIS_REPLY_STATUS ||
			      reply->type == REDIS_REPLY_STRING) && reply->str
				     ? reply->str : "a non-status reply");
	} else {
		snprintf(what, sizeof(what), "PONG in %.1f ms", ms);
		latency_verdict(c, r, ms, what);
	}
	freeReplyObject(reply);
	mc_redis_close(red);
}

static void run_redis_queue(const struct mc_check *c,
			    const struct mc_health_env *env,
			    struct mc_check_result *r)
{
	const char *queue = mc_conf_str(c->sec, "queue");
	struct mc_err err = { 0 };
	struct mc_redis *red;
	redisReply *reply;
	double end;

	if (queue == NULL) {
		mc_check_set(r, MC_ST_UNKNOWN, "no queue configured");
		return;
	}
	red = redis_open(c, env, r, &end);
	if (red == NULL)
		return;
	reply = mc_redis_cmd(red, &err, "LLEN %s", queue);
	if (reply == NULL) {
		if (strstr(err.msg, "WRONGTYPE") != NULL)
			mc_check_set(r, MC_ST_CRITICAL,
				     "queue '%s' is not a list", queue);
		else
			mc_check_set(r, MC_ST_CRITICAL, "%s", err.msg);
	} else if (reply->type != REDIS_REPLY_INTEGER) {
		mc_check_set(r, MC_ST_CRITICAL,
			     "LLEN %s: unexpected reply type %d", queue,
			     reply->type);
	} else {
		mc_check_value(r, (double)reply->integer, "", "depth");
	}
	freeReplyObject(reply);
	mc_redis_close(red);
}

/* ---- sqlite ------------------------------------------------------------- */

/* Progress handler: interrupts the statement once the budget is spent. */
static int past_end(void *p)
{
	return mc_mono_now() >= *(const double *)p;
}

/* Sets r from quick_check's first row of problems: its first line that is
 * not a "*** in database main ***" header, and how many lines follow. */
static void quick_check_failed(struct mc_check_result *r, const char *text)
{
	const char *line = text, *first = NULL;
	size_t first_len = 0, more = 0;

	while (line != NULL && *line != '\0') {
		size_t n = strcspn(line, "\n");

		if (n > 0 && strncmp(line, "*** in database ", 16) != 0) {
			if (first == NULL) {
				first = line;
				first_len = n;
			} else {
				more++;
			}
		}
		line = line[n] ? line + n + 1 : NULL;
	}
	if (first == NULL)
		mc_check_set(r, MC_ST_CRITICAL, "quick_check: %s",
			     text && *text ? "no details" : "no answer");
	else if (more > 0)
		mc_check_set(r, MC_ST_CRITICAL, "quick_check: %.*s (and %zu "
			     "more)", (int)first_len, first, more);
	else
		mc_check_set(r, MC_ST_CRITICAL, "quick_check: %.*s",
			     (int)first_len, first);
}

static void run_sqlite(const struct mc_check *c,
		       const struct mc_health_env *env,
		       struct mc_check_result *r)
{
	const char *path = mc_conf_str(c->sec, "path");
	int64_t budget = budget_ms(c, env);
	double end = mc_mono_now() + (double)budget / 1e3;
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	const char *text;
	int rc;

	if (path == NULL) {
		mc_check_set(r, MC_ST_UNKNOWN, "no path configured");
		return;
	}
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY |
			     SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		mc_check_set(r, MC_ST_CRITICAL, "cannot open %s: %s", path,
			     db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		goto out;
	}
	sqlite3_busy_timeout(db, budget > 0x7fffffff ? 0x7fffffff
						     : (int)budget);
	sqlite3_progress_handler(db, 1000, past_end, &end);
	rc = sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &s, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		text = (const char *)sqlite3_column_text(s, 0);
		if (mc_streq(text, "ok"))
			mc_check_set(r, MC_ST_OK, "quick_check ok");
		else
			quick_check_failed(r, text);
		goto out;
	}
	switch (rc & 0xff) {
	case SQLITE_NOTADB:
		mc_check_set(r, MC_ST_CRITICAL, "%s is not a SQLite database",
			     path);
		break;
	case SQLITE_INTERRUPT:
		mc_check_set(r, MC_ST_CRITICAL,
			     "timed out after %lld ms checking %s",
			     (long long)shown_ms(c), path);
		break;
	case SQLITE_DONE:
	case SQLITE_OK:
		mc_check_set(r, MC_ST_CRITICAL, "quick_check returned nothing "
			     "on %s", path);
		break;
	default:
		mc_check_set(r, MC_ST_CRITICAL, "quick_check failed on %s: %s",
			     path, sqlite3_errmsg(db));
		break;
	}
out:
	sqlite3_finalize(s);
	sqlite3_close(db);
}

/* ---- the types ---------------------------------------------------------- */

/* host:port with a port of 1 to 65535. */
static int tcp_validate(const struct mc_conf_section *s, const char **key,
			char *why, size_t size)
{
	const char *a = mc_conf_str(s, "address");
	const char *colon = strrchr(a, ':');
	long long port;

	if (colon == NULL || colon == a ||
	    mc_parse_int(colon + 1, 1, 65535, &port, NULL) < 0) {
		*key = "address";
		snprintf(why, size, "bad address '%s' (use host:port)", a);
		return -1;
	}
	return 0;
}

static const struct mc_conf_key tcp_keys[] = {
	{ .name = "address", .type = MC_CT_STRING, .flags = MC_CK_REQUIRED,
	  .help = "host:port to connect to ([v6addr]:port for IPv6)" },
	MC_CHECK_KEYS_LATENCY,
	{ .name = NULL },
};

#define REDIS_KEYS \
	{ .name = "url", .type = MC_CT_URL, \
	  .help = "redis://[:password@]host:port/db (default [core] " \
		  "redis_url)" }, \
	{ .name = "password_file", .type = MC_CT_PATH, \
	  .help = "a file holding the Redis password (default [core] " \
		  "redis_password_file)" }

static const struct mc_conf_key redis_keys[] = {
	REDIS_KEYS,
	MC_CHECK_KEYS_LATENCY,
	{ .name = NULL },
};

static const struct mc_conf_key redis_queue_keys[] = {
	REDIS_KEYS,
	{ .name = "queue", .type = MC_CT_STRING, .flags = MC_CK_REQUIRED,
	  .help = "the Redis list whose depth is watched" },
	MC_CHECK_KEYS_THRESHOLD,
	{ .name = NULL },
};

static const struct mc_conf_key sqlite_keys[] = {
	{ .name = "path", .type = MC_CT_PATH, .flags = MC_CK_REQUIRED,
	  .help = "the SQLite database to open and quick_check" },
	{ .name = NULL },
};

const struct mc_check_type mc_check_tcp = {
	.name = "tcp",
	.flags = MC_CHECK_BREAKER,
	.run = run_tcp,
	.keys = tcp_keys,
	.validate = tcp_validate,
};

const struct mc_check_type mc_check_redis = {
	.name = "redis",
	.flags = MC_CHECK_BREAKER,
	.run = run_redis,
	.keys = redis_keys,
};

const struct mc_check_type mc_check_redis_queue = {
	.name = "redis_queue",
	.flags = MC_CHECK_BREAKER,
	.run = run_redis_queue,
	.keys = redis_queue_keys,
};

const struct mc_check_type mc_check_sqlite = {
	.name = "sqlite",
	.run = run_sqlite,
	.keys = sqlite_keys,
};
