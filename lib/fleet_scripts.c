/*
 * fleet_scripts.c - the server-side scripts of fleet mode (fleet.h). Each
 * touches only keys of one target, `<prefix>:{<target>}:...`, passed in
 * KEYS, so each runs in one Redis Cluster slot; each leaves every key it
 * wrote with a TTL; times come from the server's clock (TIME), so hosts
 * whose clocks disagree still agree on leases, windows and refills.
 *
 * Numbers go back as strings: Redis turns a Lua number into an integer.
 */
#include "fleet.h"

/* now: the server's time in seconds with microseconds; fmt: a number as
 * text that reads back the same. */
#define PRELUDE \
	"local t = redis.call('TIME')\n" \
	"local now = tonumber(t[1]) + tonumber(t[2]) / 1e6\n" \
	"local function fmt(x) return string.format('%.17g', x) end\n"

/*
 * Dedup claim. KEYS[1]: the record. ARGV: action (trigger|resolve),
 * severity (its name), window ms, lease ms, claim token, no_dedup (0|1),
 * keep ms. The record: state, sev, sent, lease (0 once confirmed), token,
 * and p_* -- the record as it was before this claim, put back when the
 * claim is given back. The severity open at the target: for a resolve
 * the trigger's (the alert's own when there is none), for a trigger the
 * one firing now ('' when none). Returns {1, '', ago, open} for "send"
 * or {0, reason, ago, open} for "suppressed".
 */
const char mc_fleet_lua_dedup_claim[] =
	PRELUDE
	"local k = KEYS[1]\n"
	"local r = redis.call('HMGET', k, 'state', 'sev', 'sent', 'lease',"
	" 'token')\n"
	"local row = r[1] ~= false\n"
	"local resolve = ARGV[1] == 'resolve'\n"
	"local sev = ARGV[2]\n"
	"local window = tonumber(ARGV[3])\n"
	"local lease = tonumber(ARGV[4])\n"
	"local sent = row and tonumber(r[3]) or 0\n"
	"local rlease = row and tonumber(r[4]) or 0\n"
	"local confirmed = rlease == 0\n"
	"local open = ''\n"
	"if resolve then\n"
	"  open = sev\n"
	"  if row and r[2] ~= '' then open = r[2] end\n"
	"elseif row and r[1] == 'firing' then\n"
	"  open = r[2]\n"
	"end\n"
	"local ago = fmt(now - sent)\n"
	"if ARGV[6] ~= '1' then\n"
	"  if row and not confirmed and rlease > now then\n"
	"    return {0, 'busy', ago, open}\n"
	"  end\n"
	"  if not resolve and row and confirmed and r[1] == 'firing' and\n"
	"     r[2] == sev and (now - sent) * 1000 < window then\n"
	"    return {0, 'window', ago, open}\n"
	"  end\n"
	"  if resolve and not row then\n"
	"    return {0, 'no_trigger', ago, open}\n"
	"  end\n"
	"  if resolve and confirmed and r[1] == 'resolved' then\n"
	"    return {0, 'resolved', ago, open}\n"
	"  end\n"
	"end\n"
	"redis.call('HSET', k, 'state', resolve and 'resolved' or 'firing',\n"
	"  'sev', resolve and open or sev, 'sent', fmt(now),\n"
	"  'lease', fmt(now + lease / 1000), 'token', ARGV[5],\n"
	"  'p_row', row and '1' or '0', 'p_state', r[1] or '',\n"
	"  'p_sev', r[2] or '', 'p_sent', r[3] or '', 'p_lease', r[4] or '',\n"
	"  'p_token', r[5] or '')\n"
	"redis.call('PEXPIRE', k, math.max(window, lease) +"
	" tonumber(ARGV[7]))\n"
	"return {1, '', ago, open}\n";

/*
 * Dedup settle. KEYS[1]: the record. ARGV: claim token, delivered (0|1).
 * Only our own claim is touched (one whose lease ran out may have been
 * taken over): delivered confirms it (lease 0); otherwise the record
 * before the claim comes back, or goes when there was none. Returns 1
 * when settled, 0 when the claim was no longer ours.
 */
const char mc_fleet_lua_dedup_settle[] =
	"local k = KEYS[1]\n"
	"if redis.call('HGET', k, 'token') ~= ARGV[1] then return 0 end\n"
	"if ARGV[2] == '1' then\n"
	"  redis.call('HSET', k, 'lease', '0')\n"
	"elseif redis.call('HGET', k, 'p_row') ~= '1' then\n"
	"  redis.call('DEL', k)\n"
	"  return 1\n"
	"else\n"
	"  local p = redis.call('HMGET', k, 'p_state', 'p_sev', 'p_sent',"
	" 'p_lease', 'p_token')\n"
	"  redis.call('HSET', k, 'state', p[1], 'sev', p[2], 'sent', p[3],"
	" 'lease', p[4], 'token', p[5])\n"
	"end\n"
	"redis.call('HDEL', k, 'p_row', 'p_state', 'p_sev', 'p_sent',"
	" 'p_lease', 'p_token')\n"
	"return 1\n";

/*
 * Token bucket reserve. KEYS[1]: the bucket. ARGV: rate (tokens/s),
 * burst, n, max_wait_s. As mc_bucket_reserve: takes n tokens when they
 * are there or will be within max_wait_s (the balance goes negative, so
 * later callers queue behind). Returns {taken, wait_s}. The key lives as
 * long as the bucket takes to fill up: an absent bucket is a full one.
 */
const char mc_fleet_lua_bucket[] =
	PRELUDE
	"local k = KEYS[1]\n"
	"local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])\n"
	"local n, maxw = tonumber(ARGV[3]), tonumber(ARGV[4])\n"
	"local v = redis.call('HMGET', k, 'tokens', 'updated')\n"
	"local tokens, updated = burst, now\n"
	"if v[1] then\n"
	"  tokens, updated = tonumber(v[1]), tonumber(v[2])\n"
	"  if now > updated then\n"
	"    tokens = tokens + (now - updated) * rate\n"
	"    updated = now\n"
	"  end\n"
	"  if tokens > burst then tokens = burst end\n"
	"end\n"
	"local wait = 0\n"
	"if tokens < n then wait = (n - tokens) / rate end\n"
	"if tokens < n and wait > maxw then return {0, fmt(wait)} end\n"
	"tokens = tokens - n\n"
	"redis.call('HSET', k, 'tokens', fmt(tokens), 'updated', fmt(updated))\n"
	"redis.call('PEXPIRE', k, math.ceil((burst - tokens) / rate * 1000)"
	" + 1000)\n"
	"return {1, fmt(wait)}\n";

/*
 * Breaker allow. KEYS[1]: the breaker. ARGV: recovery_s, keep ms. As
 * mc_breaker_allow: closed lets through; open before recovery refuses;
 * half-open with its probe out refuses until the probe's recovery is
 * over; otherwise this caller is the one probe. Returns {allow, retry_at}.
 * State: 0 closed, 1 open, 2 half-open (enum mc_breaker_state).
 */
const char mc_fleet_lua_breaker_allow[] =
	PRELUDE
	"local k = KEYS[1]\n"
	"local rec = tonumber(ARGV[1])\n"
	"local r = redis.call('HMGET', k, 'state', 'opened_at', 'probe_at')\n"
	"local st = tonumber(r[1] or '0')\n"
	"if st == 0 then return {1, '0'} end\n"
	"local opened = tonumber(r[2] or '0')\n"
	"if st == 1 and now < opened + rec then return {0, fmt(opened + rec)}"
	" end\n"
	"if st == 2 and r[3] and now < tonumber(r[3]) + rec then\n"
	"  return {0, fmt(tonumber(r[3]) + rec)}\n"
	"end\n"
	"redis.call('HSET', k, 'state', '2', 'probe_at', fmt(now), 'updated',"
	" fmt(now), 'recovery', ARGV[1])\n"
	"redis.call('PEXPIRE', k, tonumber(ARGV[2]))\n"
	"return {1, '0'}\n";

/*
 * Breaker record. KEYS[1]: the breaker. ARGV: success (0|1), failures
 * that open it, recovery_s, keep ms. As mc_breaker_record. Returns the
 * state after.
 */
const char mc_fleet_lua_breaker_record[] =
	PRELUDE
	"local k = KEYS[1]\n"
	"local r = redis.call('HMGET', k, 'state', 'failures')\n"
	"local st, fails = tonumber(r[1] or '0'), tonumber(r[2] or '0')\n"
	"if ARGV[1] == '1' then\n"
	"  if not r[1] then return 0 end\n"
	"  redis.call('HSET', k, 'state', '0', 'failures', '0', 'updated',"
	" fmt(now), 'recovery', ARGV[3])\n"
	"  redis.call('HDEL', k, 'probe_at')\n"
	"  redis.call('PEXPIRE', k, tonumber(ARGV[4]))\n"
	"  return 0\n"
	"end\n"
	"fails = fails + 1\n"
	"if (st == 0 and fails >= tonumber(ARGV[2])) or st == 2 then\n"
	"  st = 1\n"
	"  redis.call('HSET', k, 'opened_at', fmt(now))\n"
	"  redis.call('HDEL', k, 'probe_at')\n"
	"end\n"
	"redis.call('HSET', k, 'state', tostring(st), 'failures',"
	" tostring(fails), 'updated', fmt(now), 'recovery', ARGV[3])\n"
	"redis.call('PEXPIRE', k, tonumber(ARGV[4]))\n"
	"return st\n";

/*
 * Lock acquire. KEYS: the lock, its fencing counter. ARGV: owner, lease
 * ms, keep ms (the counter's TTL, renewed on each use). Another owner's
 * lock: {0, owner, token, acquired, pttl}. Free (or ours already): {1,
 * owner, token, acquired, lease} -- a fresh lock gets the next value of
 * the counter, which only grows while the counter lives.
 */
const char mc_fleet_lua_lock_acquire[] =
	PRELUDE
	"local cur = redis.call('HMGET', KEYS[1], 'owner', 'token',"
	" 'acquired')\n"
	"if cur[1] and cur[1] ~= ARGV[1] then\n"
	"  return {0, cur[1], cur[2], cur[3],"
	" tostring(redis.call('PTTL', KEYS[1]))}\n"
	"end\n"
	"redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[3]))\n"
	"if cur[1] then\n"
	"  redis.call('HSET', KEYS[1], 'renewed', fmt(now))\n"
	"  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))\n"
	"  return {1, cur[1], cur[2], cur[3], ARGV[2]}\n"
	"end\n"
	"local tok = redis.call('INCR', KEYS[2])\n"
	"redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[3]))\n"
	"redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'token', tostring(tok),"
	" 'acquired', fmt(now), 'renewed', fmt(now))\n"
	"redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))\n"
	"return {1, ARGV[1], tostring(tok), fmt(now), ARGV[2]}\n";

/*
 * The fencing check, for any script to embed (the lock's key must share
 * the script's slot): true when owner still holds the lock with token;
 * with lease_ms > 0 the lease is renewed too, so a batch that passes the
 * check also keeps the lock for the next one.
 */
#define FENCE \
	"local function mc_fence(lockkey, owner, token, lease_ms)\n" \
	"  local v = redis.call('HMGET', lockkey, 'owner', 'token')\n" \
	"  if v[1] ~= owner or v[2] ~= token then return false end\n" \
	"  if lease_ms > 0 then\n" \
	"    redis.call('PEXPIRE', lockkey, lease_ms)\n" \
	"  end\n" \
	"  return true\n" \
	"end\n"
const char mc_fleet_lua_fence[] = FENCE;

/*
 * Lock renew. KEYS: the lock, its counter. ARGV: owner, token, lease ms,
 * keep ms. 1 renewed; 0 lost (expired, or taken over).
 */
const char mc_fleet_lua_lock_renew[] =
	PRELUDE
	FENCE
	"if not mc_fence(KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3])) then\n"
	"  return 0\n"
	"end\n"
	"redis.call('HSET', KEYS[1], 'renewed', fmt(now))\n"
	"redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[4]))\n"
	"return 1\n";

/* Lock release. KEYS[1]: the lock. ARGV: owner, token. 1 released, 0 it
 * was no longer ours. */
const char mc_fleet_lua_lock_release[] =
	"local v = redis.call('HMGET', KEYS[1], 'owner', 'token')\n"
	"if v[1] ~= ARGV[1] or v[2] ~= ARGV[2] then return 0 end\n"
	"redis.call('DEL', KEYS[1])\n"
	"return 1\n";

/* Heartbeat. KEYS[1]: the member. ARGV: name, version, command, pid,
 * keep ms. */
const char mc_fleet_lua_heartbeat[] =
	PRELUDE
	"redis.call('HSET', KEYS[1], 'name', ARGV[1], 'version', ARGV[2],"
	" 'last_command', ARGV[3], 'pid', ARGV[4], 'last_seen', fmt(now))\n"
	"redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[5]))\n"
	"return 1\n";
