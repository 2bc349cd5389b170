/*
 * redis.h - Redis client on hiredis (Debian's 0.14: blocking context,
 * RESP2, no TLS).
 *
 * URLs: redis://[[user]:password@]host[:port][/db]. The password comes from
 * the URL, else the file named in opts, else $MERCURY_REDIS_PASSWORD, else
 * $REDISCLI_AUTH. A timed-out or broken connection is not reused.
 *
 * Every wait ends on time: hiredis' blocking calls apply a timeout to each
 * read (a server that drips a byte at a time never trips it) and retry
 * after EINTR, so this client does its own I/O on a non-blocking socket
 * (hiredis only builds commands and parses replies): the name is resolved
 * and the socket connected by net.h, and each command's write and read are
 * polled against one end time -- the command timeout, cut to the run's
 * deadline (plus 0.25 s, so that the step in flight and the report after
 * a stop still get their answers from a healthy server) -- and
 * mc_interrupted (0.5 s more at most). Connecting, authenticating, selecting the
 * db and the first PING share the connect timeout. A reply larger than
 * max_reply_bytes is refused before it is all in memory.
 */
#ifndef MC_REDIS_H
#define MC_REDIS_H

#include <stddef.h>
#include <stdint.h>
#include "lazylib.h"	/* hiredis, loaded on first use */
#include "mc.h"

struct mc_redis_url {
	char *host;
	int port;		/* default 6379 */
	int db;			/* default 0 */
	char *user;		/* NULL unless given */
	char *password;		/* NULL unless given; wiped on clean */
};
int mc_redis_parse_url(const char *url, struct mc_redis_url *out,
		       struct mc_err *err);
void mc_redis_url_release(struct mc_redis_url *u);

struct mc_redis_opts {
	const char *url;
	const char *password_file;	/* may be NULL */
	int64_t connect_timeout_ms;	/* 0: 2 s; the whole connect */
	int64_t command_timeout_ms;	/* 0: 2 s; each command whole */
	/* The run's deadline, NULL: none. Borrowed: it must outlive the
	 * connection. Bounds every wait besides the timeouts. */
	const struct mc_deadline *dl;
	size_t max_reply_bytes;		/* 0: MC_REDIS_MAX_REPLY */
	/* The timeout that messages name, 0: the connect or command
	 * timeout. A health check passes its configured timeout: its
	 * budget can be a millisecond short of it by the time its thread
	 * runs, and "timed out after 1499 ms" would name neither setting. */
	int64_t shown_timeout_ms;
};

/* The largest reply read by default (a DLQ batch of 100 messages of 640
 * KiB fits). */
#define MC_REDIS_MAX_REPLY (64u * 1024 * 1024)

/* Fills o->url and o->password_file from a config section (a [check] or
 * [dlq] section with `url` and `password_file` keys), falling back to
 * [core] redis_url and redis_password_file. Strings are borrowed from the
 * configuration; timeouts are left as they are. */
struct mc_conf;
struct mc_conf_section;
void mc_redis_opts_from_conf(const struct mc_conf_section *sec,
			     const struct mc_conf *conf,
			     struct mc_redis_opts *o);

struct mc_redis;
/* Connects, authenticates, selects the db. Errors: MC_EXIT_CRITICAL for an
 * unreachable server or refused authentication, MC_EXIT_USAGE for a bad
 * URL, MC_EXIT_CONFIG for an unreadable password file. Messages never hold
 * the password. */
struct mc_redis *mc_redis_connect(const struct mc_redis_opts *opts,
				  struct mc_err *err);
void mc_redis_close(struct mc_redis *r);
/* The raw context, for pipelining with redisAppendCommand; read the
 * replies with mc_redis_get_reply(), never with redisGetReply(). */
redisContext *mc_redis_context(struct mc_redis *r);
/* Sends what is pending and reads the next reply, bounded as a command is.
 * 0 with *reply (an error reply included: the caller looks at its type;
 * caller frees), or -1 with err and the connection broken. */
int mc_redis_get_reply(struct mc_redis *r, redisReply **reply,
		       struct mc_err *err);
/* Sets the timeout of each later command (a check gives the command what
 * its connect left of its budget); messages still name the timeout given
 * at connect, the one the user configured. */
void mc_redis_set_timeout(struct mc_redis *r, int64_t ms);

/* Runs one command. An error reply (e.g. WRONGTYPE) becomes err with
 * MC_EXIT_CRITICAL and the server's text, and NULL is returned; so does an
 * I/O error or timeout. Caller frees the reply with freeReplyObject(). */
redisReply *mc_redis_cmd(struct mc_redis *r, struct mc_err *err,
			 const char *fmt, ...);
redisReply *mc_redis_cmdargv(struct mc_redis *r, int argc,
			     const char **argv, const size_t *argvlen,
			     struct mc_err *err);

#endif
