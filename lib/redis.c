/*
 * redis.c - Redis client on hiredis 0.14 (RESP2): hiredis formats commands
 * and parses replies; the socket, connected by net.c, is ours and
 * non-blocking, and every wait is polled against an end time (redis.h).
 *
 * A connection that saw an I/O error, a timeout or a protocol error is
 * marked broken: the reply stream is out of step with the commands sent, so
 * every later command fails at once instead of reading a stale reply.
 */
#include "redis.h"
#include "config.h"
#include "net.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_PORT 6379
#define DEFAULT_TIMEOUT_MS 2000
#define PASSWORD_FILE_MAX 4096
#define SLICE_MS 100		/* longest poll: mc_interrupted is noticed */
#define INTERRUPT_GRACE_S 0.5
#define DEADLINE_GRACE_S 0.25

struct mc_redis {
	redisContext *c;
	char *where;			/* "host:port" for messages */
	int64_t command_timeout_ms;	/* bounds each command */
	int64_t shown_ms;		/* the timeout messages name */
	const struct mc_deadline *dl;	/* the run's, NULL: none */
	size_t max_reply;
	double intr_end;		/* waits end here once interrupted */
	int broken;
	char broken_why[200];		/* why, for the fail-fast message */
};

/* --- URL parsing --------------------------------------------------------- */

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Percent-decodes s[0..n) into a new string; NULL on a bad or %00 escape. */
static char *percent_decode(const char *s, size_t n)
{
	char *out = mc_malloc(n + 1);
	size_t i, j = 0;
	int hi, lo;

	for (i = 0; i < n; i++) {
		if (s[i] != '%') {
			out[j++] = s[i];
			continue;
		}
		if (i + 2 >= n)
			goto bad;
		hi = hexval((unsigned char)s[i + 1]);
		lo = hexval((unsigned char)s[i + 2]);
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
			goto bad;
		out[j++] = (char)(hi * 16 + lo);
		i += 2;
	}
	out[j] = '\0';
	return out;
bad:
	explicit_bzero(out, n + 1);
	free(out);
	return NULL;
}

static int all_digits(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* Parses the decimal s[0..n) (digits only) into [min, max]. */
static int parse_range(const char *s, size_t n, long min, long max, int *out)
{
	long v = 0;

	if (!all_digits(s, n))
		return -1;
	for (size_t i = 0; i < n; i++) {
		v = v * 10 + (s[i] - '0');
		if (v > max)
			return -1;
	}
	if (v < min)
		return -1;
	*out = (int)v;
	return 0;
}

static int host_char_ok(int ch, int bracketed)
{
	if (isalnum(ch) || ch == '.' || ch == '-')
		return 1;
	if (bracketed)
		return ch == ':';
	return ch == '_';
}

/*
 * The URL with the password replaced by ***, for messages. rest is what
 * follows "redis://", at the last '@' of it (or NULL).
 */
static char *redact(const char *rest, const char *at)
{
	const char *colon;

	if (at == NULL)
		return mc_asprintf("redis://%s", rest);
	colon = memchr(rest, ':', (size_t)(at - rest));
	if (colon == NULL)
		return mc_asprintf("redis://***%s", at);
	return mc_asprintf("redis://%.*s:***%s", (int)(colon - rest), rest,
			   at);
}

static int url_fail(struct mc_err *err, const char *rest, const char *at,
		    const char *why)
{
	char *shown = redact(rest, at);

	mc_err_set(err, MC_EXIT_USAGE, "bad redis URL %s: %s", shown, why);
	free(shown);
	return -1;
}

void mc_redis_opts_from_conf(const struct mc_conf_section *sec,
			     const struct mc_conf *conf,
			     struct mc_redis_opts *o)
{
	const struct mc_conf_section *core = conf ? mc_conf_core(conf) : NULL;

	o->url = mc_conf_str(sec, "url");
	if (o->url == NULL)
		o->url = mc_conf_str(core, "redis_url");
	o->password_file = mc_conf_str(sec, "password_file");
	if (o->password_file == NULL)
		o->password_file = mc_conf_str(core, "redis_password_file");
}

/* Why url, which does not start with redis://, is refused; -1. */
static int bad_scheme(const char *url, struct mc_err *err)
{
	/* Never echo the rest: it may hold a password. */
	const char *sep = strstr(url, "://");
	size_t n = sep ? (size_t)(sep - url) : 0;

	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)url[i]) && url[i] != '+' &&
		    url[i] != '-' && url[i] != '.')
			n = 0;
	if (n == 6 && strncasecmp(url, "rediss", 6) == 0)
		return mc_err_set(err, MC_EXIT_USAGE,
				  "bad redis URL: rediss:// (TLS) is not supported; use redis://");
	if (n > 0 && n <= 32)
		return mc_err_set(err, MC_EXIT_USAGE,
				  "bad redis URL: unsupported scheme '%.*s' (use redis://[[user]:password@]host[:port][/db])",
				  (int)n, url);
	return mc_err_set(err, MC_EXIT_USAGE,
			  "bad redis URL: it must start with redis:// (redis://[[user]:password@]host[:port][/db])");
}

int mc_redis_parse_url(const char *url, struct mc_redis_url *out,
		       struct mc_err *err)
{
	static const char scheme[] = "redis://";
	const char *rest, *at, *hp, *p, *host_end;
	size_t hostlen;
	int bracketed = 0;

	memset(out, 0, sizeof(*out));
	out->port = DEFAULT_PORT;
	if (url == NULL || *url == '\0')
		return mc_err_set(err, MC_EXIT_USAGE,
				  "empty redis URL (use redis://[[user]:password@]host[:port][/db])");
	for (p = url; *p; p++)
		if (iscntrl((unsigned char)*p) || *p == ' ')
			return mc_err_set(err, MC_EXIT_USAGE,
					  "bad redis URL: it contains a space or control character");
	if (strncasecmp(url, scheme, sizeof(scheme) - 1) != 0)
		return bad_scheme(url, err);
	rest = url + sizeof(scheme) - 1;
	at = strrchr(rest, '@');
	hp = rest;

	if (at != NULL) {
		const char *colon = memchr(rest, ':', (size_t)(at - rest));

		if (colon == NULL)
			return url_fail(err, rest, at,
					"the user info needs ':' before the password (redis://:PASSWORD@host or redis://USER:PASSWORD@host)");
		if (colon > rest) {
			out->user = percent_decode(rest, (size_t)(colon - rest));
			if (out->user == NULL) {
				url_fail(err, rest, at,
					 "bad percent-encoding in the user name");
				goto fail;
			}
		}
		if (at > colon + 1) {
			out->password = percent_decode(colon + 1,
						       (size_t)(at - colon - 1));
			if (out->password == NULL) {
				url_fail(err, rest, at,
					 "bad percent-encoding in the password");
				goto fail;
			}
		}
		hp = at + 1;
	}

	/* Host. */
	if (*hp == '[') {
		bracketed = 1;
		host_end = strchr(hp, ']');
		if (host_end == NULL) {
			url_fail(err, rest, at, "'[' without ']' around the IPv6 address");
			goto fail;
		}
		p = hp + 1;
		hostlen = (size_t)(host_end - p);
		if (memchr(p, ':', hostlen) == NULL) {
			url_fail(err, rest, at, "brackets hold no IPv6 address");
			goto fail;
		}
		host_end++;
	} else {
		p = hp;
		host_end = hp + strcspn(hp, ":/");
		hostlen = (size_t)(host_end - p);
	}
	if (hostlen == 0) {
		url_fail(err, rest, at, "no host");
		goto fail;
	}
	for (size_t i = 0; i < hostlen; i++) {
		if (!host_char_ok((unsigned char)p[i], bracketed)) {
			url_fail(err, rest, at, "bad character in the host");
			goto fail;
		}
	}
	out->host = mc_strndup(p, hostlen);

	/* Port. */
	p = host_end;
	if (*p == ':') {
		size_t n = strcspn(p + 1, "/");

		if (parse_range(p + 1, n, 1, 65535, &out->port) < 0) {
			url_fail(err, rest, at,
				 n ? "bad port (a whole number from 1 to 65535)"
				   : "empty port (a whole number from 1 to 65535)");
			goto fail;
		}
		p += 1 + n;
	}

	/* Database. */
	if (*p == '/') {
		size_t n = strlen(p + 1);

		if (n > 0 && parse_range(p + 1, n, 0, INT_MAX, &out->db) < 0) {
			url_fail(err, rest, at,
				 "bad database (a non-negative whole number after '/')");
			goto fail;
		}
		p += 1 + n;
	}
	if (*p != '\0') {
		url_fail(err, rest, at,
			 "unexpected text after the host (use redis://[[user]:password@]host[:port][/db])");
		goto fail;
	}
	return 0;
fail:
	mc_redis_url_release(out);
	return -1;
}

void mc_redis_url_release(struct mc_redis_url *u)
{
	if (u == NULL)
		return;
	free(u->host);
	free(u->user);
	mc_free_secret(u->password);
	memset(u, 0, sizeof(*u));
	u->port = DEFAULT_PORT;
}

/* --- Connection ---------------------------------------------------------- */

/*
 * The password by precedence: URL, file, $MERCURY_REDIS_PASSWORD,
 * $REDISCLI_AUTH. *out is NULL when there is none; the caller wipes it.
 */
static int find_password(const struct mc_redis_opts *opts,
			 const struct mc_redis_url *u, char **out,
			 struct mc_err *err)
{
	const char *env;

	*out = NULL;
	if (u->password != NULL) {
		*out = mc_strdup(u->password);
		return 0;
	}
	if (opts->password_file != NULL) {
		struct mc_err ferr = { 0 };
		size_t len = 0;
		char *s = mc_read_file(opts->password_file, PASSWORD_FILE_MAX,
				       &len, &ferr);

		if (s == NULL) {
			mc_err_set(err, MC_EXIT_CONFIG,
				   "redis password file: %s", ferr.msg);
			if (err)
				err->sys_errno = ferr.sys_errno;
			return -1;
		}
		while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r'))
			s[--len] = '\0';
		if (len == 0 || strlen(s) != len) {
			explicit_bzero(s, len);
			free(s);
			return mc_err_set(err, MC_EXIT_CONFIG,
					  "redis password file %s is %s",
					  opts->password_file,
					  len ? "not text (it holds a NUL byte)"
					      : "empty");
		}
		*out = s;
		return 0;
	}
	env = getenv("MERCURY_REDIS_PASSWORD");
	if (env == NULL || *env == '\0')
		env = getenv("REDISCLI_AUTH");
	if (env != NULL && *env != '\0')
		*out = mc_strdup(env);
	return 0;
}

static void mark_broken(struct mc_redis *r, const char *why)
{
	r->broken = 1;
	snprintf(r->broken_why, sizeof(r->broken_why), "%s", why);
	/* Pipelining callers read the reason from the context. */
	if (r->c != NULL && r->c->err == 0) {
		r->c->err = REDIS_ERR_IO;
		snprintf(r->c->errstr, sizeof(r->c->errstr), "%s", why);
	}
}

/* Marks the connection broken for why and fills err (code). -1. */
static int fail(struct mc_redis *r, struct mc_err *err, int code,
		const char *why)
{
	mark_broken(r, why);
	return mc_err_set(err, code, "redis %s: %s", r->where, why);
}

/* The failure hiredis recorded in the context (parsing, out of memory). */
static int context_fail(struct mc_redis *r, struct mc_err *err)
{
	redisContext *c = r->c;
	char why[200];

	if (c->err == REDIS_ERR_PROTOCOL)
		snprintf(why, sizeof(why), "protocol error: %s", c->errstr);
	else if (c->err != 0)
		snprintf(why, sizeof(why), "client error: %s", c->errstr);
	else
		snprintf(why, sizeof(why), "connection lost (no reply)");
	return fail(r, err, MC_EXIT_CRITICAL, why);
}

/* When the current wait must end: now + timeout, cut to the deadline and
 * DEADLINE_GRACE_S: a step in flight at the deadline on a healthy server
 * is answered (and counted), and the report after a stop (the depth left)
 * can still be asked; a stalled server is given up. */
static double end_of(const struct mc_redis *r, int64_t timeout_ms)
{
	double end = mc_mono_now() + (double)timeout_ms / 1e3;

	if (r->dl != NULL && r->dl->at != 0 &&
	    r->dl->at + DEADLINE_GRACE_S < end)
		end = r->dl->at + DEADLINE_GRACE_S;
	return end;
}

/* Waits until the socket is ready for events, at most until end and
 * SLICE_MS at a time. After SIGINT/SIGTERM a wait goes on for at most
 * INTERRUPT_GRACE_S: a batch in flight on a healthy server is still
 * answered (and counted), a stalled one is given up well within the
 * second the run has to end. shown_ms is the time the operation was
 * given, for the message. 0, or -1 with the connection broken. */
static int wait_io(struct mc_redis *r, short events, double end,
		   int64_t shown_ms, struct mc_err *err)
{
	char why[200];

	for (;;) {
		struct pollfd p = { r->c->fd, events, 0 };
		double now = mc_mono_now(), left;
		int n;

		/* (an interrupt that was cleared, as tests do, leaves no
		 * grace behind to cut later waits) */
		if (!mc_interrupted)
			r->intr_end = 0;
		else if (r->intr_end == 0)
			r->intr_end = now + INTERRUPT_GRACE_S;
		if (mc_interrupted && now >= r->intr_end)
			return fail(r, err, mc_interrupted == SIGTERM ?
				    MC_EXIT_SIGTERM : MC_EXIT_SIGINT,
				    "interrupted");
		if (r->intr_end != 0 && r->intr_end < end)
			end = r->intr_end;
		left = (end - now) * 1e3;
		if (left <= 0) {
			snprintf(why, sizeof(why), "timed out after %lld ms",
				 (long long)shown_ms);
			return fail(r, err, MC_EXIT_CRITICAL, why);
		}
		n = poll(&p, 1, left < SLICE_MS ? (int)left + 1 : SLICE_MS);
		if (n < 0 && errno != EINTR) {
			snprintf(why, sizeof(why), "connection lost: %s",
				 strerror(errno));
			return fail(r, err, MC_EXIT_CRITICAL, why);
		}
		if (n > 0)
			return 0;
	}
}

/* Whether the bulk string the reader waits for announces more than max
 * bytes: hiredis keeps an unfinished bulk's "$LEN\r\n" header at its
 * cursor, so a reply too large is refused when announced, not after max
 * bytes of it were read (which a slow link or a slow process may not do
 * within the timeout). */
static int announced_too_big(const redisReader *rd, size_t max)
{
	const char *p = rd->buf + rd->pos, *end = rd->buf + rd->len;
	unsigned long long len = 0;

	if (rd->buf == NULL || p >= end || *p != '$')
		return 0;
	for (p++; p < end && *p >= '0' && *p <= '9'; p++) {
		len = len * 10 + (unsigned)(*p - '0');
		if (len > max)
			return 1;
	}
	return 0;
}

/* Fails r: the reply is larger than it takes. */
static redisReply *refuse_big(struct mc_redis *r, struct mc_err *err)
{
	char why[200];

	snprintf(why, sizeof(why),
		 "a reply larger than %zu MiB: refused (the connection is closed)",
		 r->max_reply >> 20);
	fail(r, err, MC_EXIT_CRITICAL, why);
	return NULL;
}

/* Sends what is pending and reads one reply, all before end. */
static redisReply *roundtrip(struct mc_redis *r, int64_t timeout_ms,
			     double end, struct mc_err *err)
{
	redisContext *c = r->c;
	void *reply = NULL;
	size_t fed = 0;
	char why[200];
	double given = (end - mc_mono_now()) * 1e3;

	/* The message tells the time given: the timeout named, or what was
	 * left when the run's deadline cut it (end_of() then returned the
	 * deadline's end, not an earlier one of the timeout's). */
	if (r->dl != NULL && r->dl->at != 0 &&
	    end >= r->dl->at + DEADLINE_GRACE_S - 1e-6)
		timeout_ms = given < 1 ? 1 : (int64_t)(given + 0.5);
	for (;;) {
		int done = 0;

		if (redisBufferWrite(c, &done) == REDIS_ERR) {
			snprintf(why, sizeof(why), "connection lost: %s",
				 c->errstr);
			fail(r, err, MC_EXIT_CRITICAL, why);
			return NULL;
		}
		if (done)
			break;
		if (wait_io(r, POLLOUT, end, timeout_ms, err) < 0)
			return NULL;
	}
	for (;;) {
		char buf[16384];
		ssize_t n;

		if (redisGetReplyFromReader(c, &reply) == REDIS_ERR) {
			context_fail(r, err);
			return NULL;
		}
		if (reply != NULL)
			return reply;
		if (wait_io(r, POLLIN, end, timeout_ms, err) < 0)
			return NULL;
		n = read(c->fd, buf, sizeof(buf));
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0) {
			snprintf(why, sizeof(why), "connection lost: %s",
				 strerror(errno));
			fail(r, err, MC_EXIT_CRITICAL, why);
			return NULL;
		}
		if (n == 0) {
			fail(r, err, MC_EXIT_CRITICAL,
			     "connection lost (the server closed it)");
			return NULL;
		}
		fed += (size_t)n;
		if (fed > r->max_reply)
			return refuse_big(r, err);
		if (redisReaderFeed(c->reader, buf, (size_t)n) != REDIS_OK) {
			context_fail(r, err);
			return NULL;
		}
		if (announced_too_big(c->reader, r->max_reply))
			return refuse_big(r, err);
	}
}

/* Checks a reply: NULL when the call failed or the server answered with an
 * error (err filled, reply freed). */
static redisReply *check_reply(struct mc_redis *r, redisReply *reply,
			       struct mc_err *err)
{
	if (reply == NULL)
		return NULL;
	if (reply->type == REDIS_REPLY_ERROR) {
		if (reply->str && strncmp(reply->str, "NOAUTH", 6) == 0)
			mc_err_set(err, MC_EXIT_CRITICAL,
				   "redis %s: server requires a password (%s)",
				   r->where, reply->str);
		else
			mc_err_set(err, MC_EXIT_CRITICAL, "redis %s: %s",
				   r->where,
				   reply->str ? reply->str : "error reply");
		freeReplyObject(reply);
		return NULL;
	}
	return reply;
}

static int usable(struct mc_redis *r, struct mc_err *err)
{
	if (r == NULL || r->c == NULL)
		return mc_err_set(err, MC_EXIT_CRITICAL,
				  "redis: no connection");
	if (!r->broken && r->c->err)
		mark_broken(r, r->c->errstr);
	if (r->broken)
		return mc_err_set(err, MC_EXIT_CRITICAL,
				  "redis %s: connection broken by an earlier error (%s); not reused",
				  r->where, r->broken_why);
	return 0;
}

/* Sends argv and reads its reply before end (the connect's, or the
 * command's). */
static redisReply *argv_before(struct mc_redis *r, int argc,
			       const char **argv, const size_t *argvlen,
			       int64_t timeout_ms, double end,
			       struct mc_err *err)
{
	if (redisAppendCommandArgv(r->c, argc, argv, argvlen) != REDIS_OK) {
		context_fail(r, err);
		return NULL;
	}
	return roundtrip(r, timeout_ms, end, err);
}

static int authenticate(struct mc_redis *r, const char *user,
			const char *password, int64_t cto, double end,
			struct mc_err *err)
{
	const char *argv[3];
	size_t argvlen[3];
	int argc = 0;
	redisReply *reply;
	const char *text;

	argv[argc] = "AUTH";
	argvlen[argc++] = 4;
	if (user != NULL) {
		argv[argc] = user;
		argvlen[argc++] = strlen(user);
	}
	argv[argc] = password;
	argvlen[argc++] = strlen(password);
	reply = argv_before(r, argc, argv, argvlen, cto, end, err);
	if (reply == NULL)
		return -1;
	if (reply->type != REDIS_REPLY_ERROR) {
		freeReplyObject(reply);
		return 0;
	}
	text = reply->str ? reply->str : "";
	if (strncmp(text, "WRONGPASS", 9) == 0 ||
	    strstr(text, "invalid password") != NULL ||
	    strstr(text, "invalid username") != NULL)
		mc_err_set(err, MC_EXIT_CRITICAL,
			   "redis %s: authentication failed (wrong password%s)",
			   r->where, user ? " or user" : "");
	else if (strstr(text, "without any password configured") != NULL)
		mc_err_set(err, MC_EXIT_CRITICAL,
			   "redis %s: authentication failed: a password was given but the server has none configured",
			   r->where);
	else if (user != NULL && strstr(text, "wrong number of arguments"))
		mc_err_set(err, MC_EXIT_CRITICAL,
			   "redis %s: authentication failed: the server does not support ACL users (Redis < 6)",
			   r->where);
	else if (strstr(text, password) != NULL)
		mc_err_set(err, MC_EXIT_CRITICAL,
			   "redis %s: authentication failed", r->where);
	else
		mc_err_set(err, MC_EXIT_CRITICAL,
			   "redis %s: authentication failed: %s", r->where,
			   text);
	freeReplyObject(reply);
	return -1;
}

struct mc_redis *mc_redis_connect(const struct mc_redis_opts *opts,
				  struct mc_err *err)
{
	struct mc_redis_url u;
	struct mc_redis *r = NULL;
	struct mc_err ce = { 0 };
	char *password = NULL, dbs[16];
	int64_t cto, mto;
	redisReply *reply;
	double end;
	int fd = -1;

	if (opts == NULL) {
		mc_err_set(err, MC_EXIT_USAGE, "redis: no options");
		return NULL;
	}
	if (mc_redis_parse_url(opts->url, &u, err) < 0)
		return NULL;
	if (find_password(opts, &u, &password, err) < 0)
		goto fail;
	cto = opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms
					   : DEFAULT_TIMEOUT_MS;
	mto = opts->command_timeout_ms > 0 ? opts->command_timeout_ms
					   : DEFAULT_TIMEOUT_MS;

	r = mc_calloc(1, sizeof(*r));
	r->command_timeout_ms = r->shown_ms = mto;
	if (opts->shown_timeout_ms > 0)
		r->shown_ms = opts->shown_timeout_ms;
	r->dl = opts->dl;
	r->max_reply = opts->max_reply_bytes ? opts->max_reply_bytes :
		       MC_REDIS_MAX_REPLY;
	r->where = strchr(u.host, ':') ? mc_asprintf("[%s]:%d", u.host, u.port)
				       : mc_asprintf("%s:%d", u.host, u.port);
	/* One end for all of connecting: resolve, connect, AUTH, SELECT or
	 * PING. */
	end = end_of(r, cto);
	if (mc_net_connect(u.host, u.port, end, &fd, &ce) < 0) {
		if (ce.sys_errno == ETIMEDOUT)
			mc_err_set(err, MC_EXIT_CRITICAL,
				   "redis %s: cannot connect: timed out after %lld ms%s",
				   r->where, (long long)(opts->shown_timeout_ms > 0 ?
					     opts->shown_timeout_ms : cto),
				   ce.msg[0] && strstr(ce.msg, "resolving") ?
				   " (resolving the name)" : "");
		else if (ce.sys_errno == EINTR)
			mc_err_set(err, ce.code, "redis %s: interrupted",
				   r->where);
		else
			mc_err_set(err, MC_EXIT_CRITICAL,
				   "redis %s: cannot connect: %s", r->where,
				   ce.sys_errno ? strerror(ce.sys_errno) :
				   ce.msg);
		goto fail;
	}
	r->c = redisConnectFd(fd);
	if (r->c == NULL) {
		close(fd);
		mc_err_set(err, MC_EXIT_CRITICAL,
			   "redis %s: cannot connect: out of memory", r->where);
		goto fail;
	}
	/* Our own polling does the waiting: hiredis must never block. */
	r->c->flags &= ~REDIS_BLOCK;

	if (password != NULL) {
		if (authenticate(r, u.user, password, cto, end, err) < 0)
			goto fail;
	}
	if (u.db != 0) {
		const char *argv[] = { "SELECT", dbs };
		size_t argvlen[2] = { 6, 0 };

		snprintf(dbs, sizeof(dbs), "%d", u.db);
		argvlen[1] = strlen(dbs);
		reply = argv_before(r, 2, argv, argvlen, cto, end, err);
		if (reply != NULL && reply->type == REDIS_REPLY_ERROR &&
		    strncmp(reply->str, "NOAUTH", 6) != 0) {
			mc_err_set(err, MC_EXIT_CRITICAL,
				   "redis %s: cannot select db %d: %s",
				   r->where, u.db, reply->str);
			freeReplyObject(reply);
			goto fail;
		}
		reply = check_reply(r, reply, err);
		if (reply == NULL)
			goto fail;
		freeReplyObject(reply);
	} else if (password == NULL) {
		/* Without AUTH or SELECT nothing has asked the server yet;
		 * a PING tells a password-protected server now. */
		const char *argv[] = { "PING" };
		size_t argvlen[] = { 4 };

		reply = check_reply(r, argv_before(r, 1, argv, argvlen, cto,
						   end, err), err);
		if (reply == NULL)
			goto fail;
		freeReplyObject(reply);
	}
	mc_free_secret(password);
	mc_redis_url_release(&u);
	return r;
fail:
	mc_free_secret(password);
	mc_redis_url_release(&u);
	mc_redis_close(r);
	return NULL;
}

void mc_redis_close(struct mc_redis *r)
{
	if (r == NULL)
		return;
	if (r->c != NULL)
		redisFree(r->c);
	free(r->where);
	free(r);
}

redisContext *mc_redis_context(struct mc_redis *r)
{
	return r ? r->c : NULL;
}

void mc_redis_set_timeout(struct mc_redis *r, int64_t ms)
{
	if (r != NULL && ms > 0)
		r->command_timeout_ms = ms;
}

int mc_redis_get_reply(struct mc_redis *r, redisReply **reply,
		       struct mc_err *err)
{
	*reply = NULL;
	if (usable(r, err) < 0)
		return -1;
	*reply = roundtrip(r, r->shown_ms, end_of(r, r->command_timeout_ms),
			   err);
	return *reply ? 0 : -1;
}

redisReply *mc_redis_cmd(struct mc_redis *r, struct mc_err *err,
			 const char *fmt, ...)
{
	va_list ap;
	int rc;

	if (usable(r, err) < 0)
		return NULL;
	va_start(ap, fmt);
	rc = redisvAppendCommand(r->c, fmt, ap);
	va_end(ap);
	if (rc != REDIS_OK) {
		context_fail(r, err);
		return NULL;
	}
	return check_reply(r, roundtrip(r, r->shown_ms,
					end_of(r, r->command_timeout_ms), err),
			   err);
}

redisReply *mc_redis_cmdargv(struct mc_redis *r, int argc,
			     const char **argv, const size_t *argvlen,
			     struct mc_err *err)
{
	if (usable(r, err) < 0)
		return NULL;
	if (argc <= 0 || argv == NULL) {
		mc_err_set(err, MC_EXIT_USAGE, "redis %s: empty command",
			   r->where);
		return NULL;
	}
	return check_reply(r, argv_before(r, argc, argv, argvlen,
					  r->shown_ms,
					  end_of(r, r->command_timeout_ms),
					  err), err);
}
