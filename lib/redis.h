/*
 * redis.h - Redis client on hiredis (Debian's 0.14: blocking context,
 * RESP2, no TLS).
 *
 * URLs: redis://[[user]:password@]host[:port][/db]. The password comes from
 * the URL, else the file named in opts, else $MERCURY_REDIS_PASSWORD, else
 * $REDISCLI_AUTH. Connect and command timeouts are separate; a timed-out or
 * broken connection is not reused.
 */
#ifndef MC_REDIS_H
#define MC_REDIS_H

#include <stddef.h>
#include <stdint.h>
#include <hiredis/hiredis.h>
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
	int64_t connect_timeout_ms;	/* 0: 2 s */
	int64_t command_timeout_ms;	/* 0: 2 s */
};

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
/* The raw context, for pipelining with redisAppendCommand. */
redisContext *mc_redis_context(struct mc_redis *r);

/* Runs one command. An error reply (e.g. WRONGTYPE) becomes err with
 * MC_EXIT_CRITICAL and the server's text, and NULL is returned; so does an
 * I/O error or timeout. Caller frees the reply with freeReplyObject(). */
redisReply *mc_redis_cmd(struct mc_redis *r, struct mc_err *err,
			 const char *fmt, ...);
redisReply *mc_redis_cmdargv(struct mc_redis *r, int argc,
			     const char **argv, const size_t *argvlen,
			     struct mc_err *err);

/* The names before git's rule (_release frees what a struct holds, _free
 * also the struct; docs/DESIGN.md), for code written before it. */
#define mc_redis_url_clean mc_redis_url_release

#endif
