/*
 * redis_script.h - server-side Lua scripts on a struct mc_redis: called by
 * their SHA-1 (EVALSHA), and sent whole (EVAL) only when the server answers
 * NOSCRIPT -- after a restart, a SCRIPT FLUSH or on a fresh server -- which
 * also caches the script there for the next call.
 */
#ifndef MC_REDIS_SCRIPT_H
#define MC_REDIS_SCRIPT_H

#include <stddef.h>
#include "redis.h"

/* The SHA-1 of script as Redis names it (40 hex digits and a NUL). */
void mc_redis_script_sha(const char *script, char out[41]);

/* Runs script with nkeys KEYS and nargs ARGV (argvlen may be NULL: the
 * arguments are C strings). An error reply (the script's own included)
 * is NULL with err filled, as mc_redis_cmd does. Caller frees the reply. */
redisReply *mc_redis_eval(struct mc_redis *r, const char *script, int nkeys,
			  const char *const *keys, int nargs,
			  const char *const *args, const size_t *argvlen,
			  struct mc_err *err);

#endif
