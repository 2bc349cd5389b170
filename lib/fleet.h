/*
 * fleet.h - shared state of several hosts in Redis: the [fleet] section,
 * and alert dedup, rate-limit buckets, circuit breakers, leases with
 * fencing tokens and heartbeats, each changed only by a server-side script
 * (lib/fleet_scripts.c) so that every decision is atomic fleet-wide.
 *
 * Keys are `<prefix>:{<target>}:<kind>[:<id>]`: everything a script touches
 * belongs to one target and so hashes to one Redis Cluster slot. Every key
 * carries a TTL. Times are the Redis server's (TIME inside the scripts):
 * hosts whose clocks disagree still agree on leases, windows and refills;
 * unlike the state-file primitives of resil.h there is no injectable clock.
 *
 * Callers do not use this directly but through coord.h, which falls back to
 * the state file when Redis cannot be reached.
 */
#ifndef MC_FLEET_H
#define MC_FLEET_H

#include <stddef.h>
#include <stdint.h>
#include "config.h"
#include "mc.h"
#include "redis.h"
#include "resil.h"

/* [fleet]: present (1) or not (0) in conf; -1 on a bad value. Strings are
 * copied; clean with mc_fleet_conf_release(). */
struct mc_fleet_conf {
	char *url;		/* [fleet] redis_url, else [core] redis_url */
	char *password_file;	/* [fleet] password_file, else [core]
				   redis_password_file; may be NULL */
	char *name;		/* this host in the fleet (default: the host
				   name) */
	char *prefix;		/* default "mercury" */
	int64_t lease_ms;	/* default 30 s */
};
int mc_fleet_conf_load(const struct mc_conf *conf, struct mc_fleet_conf *out,
		       struct mc_err *err);
void mc_fleet_conf_release(struct mc_fleet_conf *fc);

struct mc_fleet;
/* Connects (timeout_ms bounds the connect and each command; 0: 2 s). An
 * unreachable server is MC_EXIT_CRITICAL, as mc_redis_connect says. */
struct mc_fleet *mc_fleet_connect(const struct mc_fleet_conf *fc,
				  int64_t timeout_ms, struct mc_err *err);
void mc_fleet_close(struct mc_fleet *f);
const char *mc_fleet_name(const struct mc_fleet *f);
int64_t mc_fleet_lease_ms(const struct mc_fleet *f);
struct mc_redis *mc_fleet_redis(struct mc_fleet *f);
/* "<prefix>:{<target>}:<kind>", with '{', '}' and '%' in target written
 * %7B, %7D, %25 so the hash tag is the whole target. Caller frees. */
char *mc_fleet_key(const struct mc_fleet *f, const char *target,
		   const char *kind);

/* ---- dedup: one delivery per identity, severity and window ---- */

/* How long a record outlives its window, so a resolve days after its
 * trigger still finds it. */
#define MC_FLEET_DEDUP_KEEP_MS (7LL * 24 * 3600 * 1000)

enum mc_fleet_verdict {
	MC_FLEET_SEND = 1,
	MC_FLEET_SUPPRESSED = 0,
};
#define MC_FLEET_SEVERITY_MAX 16
struct mc_fleet_claim {
	int active;			/* ours, to confirm or give back */
	char token[33];
	/* the severity open at the target: for a resolve the trigger's (the
	 * alert's own when there is none), for a trigger the one firing
	 * now; "" when none */
	char open_severity[MC_FLEET_SEVERITY_MAX];
};
/* Decides and, when the alert is to go out, claims the record of key for
 * scope (a webhook) under a lease of lease_ms. resolve: 1 for a resolve,
 * 0 for a trigger; severity: its name ("warning"), compared as text. 1:
 * send; 0: suppressed (why filled); -1: error. */
int mc_fleet_dedup_claim(struct mc_fleet *f, const char *scope,
			 const char *key, int resolve, const char *severity,
			 int64_t window_ms, int64_t lease_ms, int no_dedup,
			 struct mc_fleet_claim *c, char *why, size_t size,
			 struct mc_err *err);
/* Confirms the claim (delivered) or gives it back; a claim that is no
 * longer ours is left alone. */
int mc_fleet_dedup_settle(struct mc_fleet *f, const char *scope,
			  const char *key, struct mc_fleet_claim *c,
			  int delivered, struct mc_err *err);

/* ---- token buckets, breakers: the shapes of resil.h ---- */

int mc_fleet_bucket_reserve(struct mc_fleet *f, const char *name,
			    double rate, double burst, double n,
			    double max_wait_s, double *wait_s,
			    struct mc_err *err);
/* A breaker key lives this long after its last change. */
#define MC_FLEET_BREAKER_KEEP_MS (24LL * 3600 * 1000)
int mc_fleet_breaker_allow(struct mc_fleet *f, const char *name,
			   const struct mc_breaker_conf *conf,
			   double *retry_at, struct mc_err *err);
int mc_fleet_breaker_record(struct mc_fleet *f, const char *name,
			    int success, const struct mc_breaker_conf *conf,
			    struct mc_err *err);
int mc_fleet_breaker_list(struct mc_fleet *f, struct mc_breaker_info **out,
			  size_t *n, struct mc_err *err);
int mc_fleet_breaker_reset(struct mc_fleet *f, const char *name,
			   struct mc_err *err);

/* ---- leases with fencing tokens ---- */

struct mc_fleet_lease {
	char *name;
	char *owner;		/* "<fleet name>/<pid>/<random>" */
	char token[24];		/* the fencing token, decimal */
	int64_t lease_ms;
};
/* Takes the lease NAME for lease_ms (0: the fleet's). 1: taken, *out
 * filled (clean with mc_fleet_lease_release); 0: another owner holds it,
 * holder gets who and for how much longer; -1: error. */
int mc_fleet_lock_acquire(struct mc_fleet *f, const char *name,
			  int64_t lease_ms, struct mc_fleet_lease *out,
			  char *holder, size_t size, struct mc_err *err);
/* 1: renewed for another lease_ms; 0: lost (expired and maybe taken);
 * -1: error. */
int mc_fleet_lock_renew(struct mc_fleet *f, const struct mc_fleet_lease *l,
			struct mc_err *err);
/* 1: released; 0: it was no longer ours; -1: error. */
int mc_fleet_lock_release(struct mc_fleet *f, const struct mc_fleet_lease *l,
			  struct mc_err *err);
void mc_fleet_lease_release(struct mc_fleet_lease *l);
/* The lock's key, for a script that embeds mc_fleet_lua_fence. Caller
 * frees. */
char *mc_fleet_lock_key(const struct mc_fleet *f, const char *name);
/* The fencing counter lives this long after its last use (at least 100
 * leases, at least a day), so it only grows while anyone could still hold
 * an old token. */
int64_t mc_fleet_fence_keep_ms(int64_t lease_ms);

/* ---- membership ---- */

#define MC_FLEET_MEMBER_KEEP_MS (7LL * 24 * 3600 * 1000)
int mc_fleet_heartbeat(struct mc_fleet *f, const char *command,
		       struct mc_err *err);
/* The server's clock, for ages in listings. */
int mc_fleet_server_time(struct mc_fleet *f, double *now, struct mc_err *err);

struct mc_fleet_member {
	char *name;
	char *version;
	char *last_command;
	long pid;
	double last_seen;
};
struct mc_fleet_lock_info {
	char *name;
	char *owner;
	char *token;
	double acquired;
	double renewed;
	int64_t ttl_ms;
};
/* Sorted by name. */
int mc_fleet_members(struct mc_fleet *f, struct mc_fleet_member **out,
		     size_t *n, struct mc_err *err);
void mc_fleet_members_free(struct mc_fleet_member *m, size_t n);
int mc_fleet_locks(struct mc_fleet *f, struct mc_fleet_lock_info **out,
		   size_t *n, struct mc_err *err);
void mc_fleet_locks_free(struct mc_fleet_lock_info *l, size_t n);

/* The fencing check, for any script to embed (the lock's key must share
 * the script's slot): it defines the Lua function mc_fence(lockkey,
 * owner, token, lease_ms), true when owner still holds the lock with
 * token, renewing it for lease_ms when lease_ms > 0 -- so a batch that
 * passes the check also keeps the lock for the next one. A script that
 * must refuse a stale holder starts with it; as a macro it joins a script
 * written as a string literal (MC_FLEET_LUA_FENCE "local n = ..."). */
#define MC_FLEET_LUA_FENCE \
	"local function mc_fence(lockkey, owner, token, lease_ms)\n" \
	"  local v = redis.call('HMGET', lockkey, 'owner', 'token')\n" \
	"  if v[1] ~= owner or v[2] ~= token then return false end\n" \
	"  if lease_ms > 0 then\n" \
	"    redis.call('PEXPIRE', lockkey, lease_ms)\n" \
	"  end\n" \
	"  return true\n" \
	"end\n"

/* The scripts (fleet_scripts.c); mc_fleet_lua_fence is the text of
 * MC_FLEET_LUA_FENCE. */
extern const char mc_fleet_lua_dedup_claim[], mc_fleet_lua_dedup_settle[],
	mc_fleet_lua_bucket[], mc_fleet_lua_breaker_allow[],
	mc_fleet_lua_breaker_record[], mc_fleet_lua_lock_acquire[],
	mc_fleet_lua_lock_renew[], mc_fleet_lua_lock_release[],
	mc_fleet_lua_heartbeat[], mc_fleet_lua_fence[];

#endif
