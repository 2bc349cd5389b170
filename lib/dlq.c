/*
 * dlq.c - dead-letter replay in Redis (mercuryctl-dlq(1)). See dlq.h for the
 * design: messages are edited here, in C, byte for byte, and each batch is
 * moved by one server-side script that first checks that the head of
 * source is still what was read.
 */
#include "dlq.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fleet.h"
#include "json_scan.h"
#include "redis_script.h"
#include "resil.h"

#define DLQ_HEAD_RETRIES 5	/* "MCHEAD changed" re-reads before giving up */
#define DLQ_PUSH_CHUNK 1000	/* RPUSH arguments per call inside Lua */

/* --- transform ---------------------------------------------------------- */

/* Writes p[0..n) as the inside of a JSON string: '"' and '\\' and control
 * characters escaped; with latin1 every byte >= 0x80 becomes \u00XX (the
 * code point of the same number); without it well-formed UTF-8 is copied
 * and any other byte >= 0x80 becomes \u00XX. */
static void json_escape(struct mc_buf *b, const unsigned char *p, size_t n,
			int latin1)
{
	static const char hexd[] = "0123456789abcdef";
	size_t i = 0;

	while (i < n) {
		size_t run = i, l;

		/* copy plain ASCII in runs */
		while (run < n && p[run] >= 0x20 && p[run] < 0x80 &&
		       p[run] != '"' && p[run] != '\\')
			run++;
		if (run > i) {
			mc_buf_add(b, p + i, run - i);
			i = run;
			continue;
		}
		if (p[i] >= 0x80 && !latin1 &&
		    (l = mc_utf8_len(p + i, n - i)) > 0) {
			mc_buf_add(b, p + i, l);
			i += l;
			continue;
		}
		switch (p[i]) {
		case '"': mc_buf_add(b, "\\\"", 2); break;
		case '\\': mc_buf_add(b, "\\\\", 2); break;
		case '\n': mc_buf_add(b, "\\n", 2); break;
		case '\r': mc_buf_add(b, "\\r", 2); break;
		case '\t': mc_buf_add(b, "\\t", 2); break;
		case '\b': mc_buf_add(b, "\\b", 2); break;
		case '\f': mc_buf_add(b, "\\f", 2); break;
		default: {
			char u[6] = { '\\', 'u', '0', '0', hexd[p[i] >> 4],
				      hexd[p[i] & 15] };

			mc_buf_add(b, u, 6);
		}
		}
		i++;
	}
}

static void json_put_string(struct mc_buf *b, const char *s)
{
	mc_buf_add(b, "\"", 1);
	json_escape(b, (const unsigned char *)s, strlen(s), 0);
	mc_buf_add(b, "\"", 1);
}

static int valid_utf8(const unsigned char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t l = mc_utf8_len(p + i, n - i);

		if (l == 0)
			return 0;
		i += l;
	}
	return 1;
}

/* The wrapper for anything that is not a JSON object. The rule, so that a
 * reader can get the original bytes back:
 *   - input that is well-formed UTF-8 (this includes empty input):
 *       {"dead_reason":"unparseable","body":"..."}
 *     body decodes (as any JSON string) to exactly the input bytes;
 *   - any other input:
 *       {"dead_reason":"unparseable","body_encoding":"latin1","body":"..."}
 *     every input byte >= 0x80 is written as \u00XX, so body decodes to
 *     code points U+0000..U+00FF only, and each code point is one input
 *     byte (ISO 8859-1). The marker is needed because a bare \u00e9 and a
 *     raw UTF-8 "é" decode to the same text.
 * NUL bytes appear as \u0000 (jansson needs JSON_ALLOW_NUL to read them). */
static void wrap_unparseable(const unsigned char *p, size_t n,
			     struct mc_buf *b)
{
	int latin1 = !valid_utf8(p, n);

	mc_buf_puts(b, "{\"dead_reason\":\"unparseable\",");
	if (latin1)
		mc_buf_puts(b, "\"body_encoding\":\"latin1\",");
	mc_buf_puts(b, "\"body\":\"");
	json_escape(b, p, n, latin1);
	mc_buf_puts(b, "\"}");
}

/* Reads the retry value (text t, l bytes, kind as in struct mc_json_member). 0 with
 * *count, or -1 with why. */
static int retry_value(const char *t, size_t l, char kind, long long *count,
		       char *why, size_t whysize)
{
	int show = l > 40 ? 40 : (int)l;
	const char *more = l > 40 ? "..." : "";
	unsigned long long v = 0;
	size_t i = 0;

	switch (kind) {
	case '"':
		snprintf(why, whysize, "a string");
		return -1;
	case 't':
	case 'f':
		snprintf(why, whysize, "a boolean");
		return -1;
	case 'n':
		snprintf(why, whysize, "null");
		return -1;
	case '{':
		snprintf(why, whysize, "an object");
		return -1;
	case '[':
		snprintf(why, whysize, "an array");
		return -1;
	default:
		break;
	}
	if (memchr(t, '.', l) || memchr(t, 'e', l) || memchr(t, 'E', l)) {
		snprintf(why, whysize, "not an integer (%.*s%s)", show, t,
			 more);
		return -1;
	}
	if (t[0] == '-') {
		/* -0 is zero; anything else with a minus is negative */
		if (!(l == 2 && t[1] == '0')) {
			snprintf(why, whysize, "negative (%.*s%s)", show, t,
				 more);
			return -1;
		}
		i = 1;
	}
	for (; i < l; i++) {
		unsigned d = (unsigned)(t[i] - '0');

		if (v > ((unsigned long long)LLONG_MAX - d) / 10) {
			snprintf(why, whysize, "out of range (%.*s%s)", show,
				 t, more);
			return -1;
		}
		v = v * 10 + d;
	}
	*count = (long long)v;
	return 0;
}

struct edit {
	size_t start, end;
	char *text;
};

/* Copies msg into out, inserting ins right after the top-level '{' (at
 * open) and applying the replacements (at most 3). */
static void apply_edits(const char *msg, size_t len, size_t open,
			size_t members, const struct mc_buf *ins,
			struct edit *e, size_t ne, struct mc_buf *out)
{
	size_t pos;

	/* sort by start (tiny n) */
	for (size_t a = 1; a < ne; a++)
		for (size_t k = a; k > 0 && e[k].start < e[k - 1].start; k--) {
			struct edit t = e[k];

			e[k] = e[k - 1];
			e[k - 1] = t;
		}
	mc_buf_add(out, msg, open + 1);
	if (ins->len > 0) {
		mc_buf_add(out, ins->data, ins->len);
		if (members > 0)
			mc_buf_add(out, ",", 1);
	}
	pos = open + 1;
	for (size_t k = 0; k < ne; k++) {
		if (e[k].start < pos)
			continue;	/* the same member named twice */
		mc_buf_add(out, msg + pos, e[k].start - pos);
		mc_buf_puts(out, e[k].text);
		pos = e[k].end;
	}
	mc_buf_add(out, msg + pos, len - pos);
}

/* Sets member name to value text: replaces the recorded value, or adds
 * "name":value to the insertion list. */
static void set_member(const struct mc_json_member *w, const char *value,
		       struct mc_buf *ins, struct edit *e, size_t *ne)
{
	if (w->found) {
		e[*ne].start = w->vstart;
		e[*ne].end = w->vend;
		e[*ne].text = mc_strdup(value);
		(*ne)++;
		return;
	}
	if (ins->len > 0)
		mc_buf_add(ins, ",", 1);
	json_put_string(ins, w->name);
	mc_buf_add(ins, ":", 1);
	mc_buf_puts(ins, value);
}

enum mc_dlq_fate mc_dlq_transform(const char *msg, size_t len,
				  const char *retry_field,
				  long long max_retries, const char *cid,
				  double now, char **out, size_t *out_len)
{
	struct mc_json_member w[4] = {
		{ .name = retry_field && *retry_field ? retry_field :
							 "retry_count" },
		{ .name = "replayed_at" },
		{ .name = "correlation_id" },
		{ .name = "dead_reason" },
	};
	struct mc_buf o = { 0 }, ins = { 0 }, v = { 0 };
	struct edit e[3];
	size_t ne = 0, open = 0, members = 0;
	enum mc_dlq_fate fate;
	long long count = 0;
	char why[128] = "";

	if (msg == NULL)
		len = 0;
	if (msg == NULL ||
	    mc_json_scan_object(msg, len, w, 4, &open, &members) < 0) {
		wrap_unparseable((const unsigned char *)(msg ? msg : ""), len,
				 &o);
		fate = MC_DLQ_UNPARSEABLE;
		goto out;
	}
	if (w[0].found &&
	    retry_value(msg + w[0].vstart, w[0].vend - w[0].vstart, w[0].kind,
			&count, why, sizeof(why)) < 0) {
		char *reason = mc_asprintf("bad %s: %s", w[0].name, why);

		json_put_string(&v, reason);
		free(reason);
		fate = MC_DLQ_DEAD;
	} else if (count >= max_retries) {
		char reason[64];

		snprintf(reason, sizeof(reason), "max_retries exceeded (%lld)",
			 max_retries);
		json_put_string(&v, reason);
		fate = MC_DLQ_DEAD;
	} else {
		fate = MC_DLQ_TARGET;
	}

	if (fate == MC_DLQ_DEAD) {
		if (!mc_streq(w[0].name, "dead_reason"))
			set_member(&w[3], v.data, &ins, e, &ne);
	} else {
		char num[32], ts[40];

		snprintf(num, sizeof(num), "%lld", count + 1);
		set_member(&w[0], num, &ins, e, &ne);
		if (!mc_streq(w[0].name, "replayed_at")) {
			mc_format_time(now, ts, sizeof(ts));
			mc_buf_reset(&v);
			json_put_string(&v, ts);
			set_member(&w[1], v.data, &ins, e, &ne);
		}
		/* no cid: correlation_id is left as it is */
		if (cid != NULL && !mc_streq(w[0].name, "correlation_id")) {
			mc_buf_reset(&v);
			json_put_string(&v, cid);
			set_member(&w[2], v.data, &ins, e, &ne);
		}
	}
	apply_edits(msg, len, open, members, &ins, e, ne, &o);
	for (size_t k = 0; k < ne; k++)
		free(e[k].text);
out:
	mc_buf_release(&ins);
	mc_buf_release(&v);
	if (o.data == NULL)
		mc_buf_add(&o, "", 0);
	*out_len = o.len;
	*out = mc_buf_steal(&o);
	return fate;
}

/* --- Redis helpers ------------------------------------------------------ */

/* KEYS: source, target, dead, and with fencing the lease's key. ARGV: n,
 * the destinations as one string of n letters ("T" target, "D" dead), the
 * n payloads, the n messages as read, and with fencing the lease's owner,
 * token and lease ms. With fencing, nothing moves unless the lease is
 * still this replayer's (mc_fence of fleet.h, which renews it too): a
 * replayer that lost it -- paused, cut off -- cannot move one more
 * message. Then the types are checked so that nothing is written when a
 * key is not a list, then that the source's head still is, message for
 * message, what was read (Lua compares its interned strings by identity:
 * no hash of the batch is needed). */
static const char replay_script[] =
	MC_FLEET_LUA_FENCE
	"local n = tonumber(ARGV[1])\n"
	"if KEYS[4] and not mc_fence(KEYS[4], ARGV[3 + 2 * n],"
	" ARGV[4 + 2 * n], tonumber(ARGV[5 + 2 * n])) then\n"
	"  return redis.error_reply('MCFENCED')\n"
	"end\n"
	"for i = 1, 3 do\n"
	"  local t = redis.call('TYPE', KEYS[i])['ok']\n"
	"  if t ~= 'list' and t ~= 'none' then\n"
	"    return redis.error_reply('MCTYPE ' .. i)\n"
	"  end\n"
	"end\n"
"local head = redis.call('LRANGE', KEYS[1], 0, n - 1)\n"
	"if #head < n then\n"
	"  return redis.error_reply('MCHEAD changed')\n"
	"end\n"
	"for i = 1, n do\n"
	"  if head[i] ~= ARGV[2 + n + i] then\n"
	"    return redis.error_reply('MCHEAD changed')\n"
	"  end\n"
	"end\n"
	"head = nil\n"
	"redis.call('LTRIM', KEYS[1], n, -1)\n"
	"local t, d = {}, {}\n"
	"local dest = ARGV[2]\n"
	"for i = 1, n do\n"
	"  if string.byte(dest, i) == 84 then\n"	/* 'T' */
	"    t[#t + 1] = ARGV[2 + i]\n"
	"  else\n"
	"    d[#d + 1] = ARGV[2 + i]\n"
	"  end\n"
	"end\n"
	"local function push(key, list)\n"
	"  for i = 1, #list, 1000 do\n"
	"    redis.call('RPUSH', key, unpack(list, i, math.min(i + 999, #list)))\n"
	"  end\n"
	"end\n"
	"push(KEYS[2], t)\n"
	"push(KEYS[3], d)\n"
	"return {#t, #d}\n";

/* KEYS: dead, checked by LLEN (an error when not a list). */
/* Deletes the first ARGV[1] messages of the list (all when 0 or more than
 * it holds), oldest first; returns how many went. */
static const char purge_script[] =
	"local n = redis.call('LLEN', KEYS[1])\n"
	"local m = tonumber(ARGV[1])\n"
	"if m > 0 and m < n then\n"
	"  redis.call('LTRIM', KEYS[1], m, -1)\n"
	"  return m\n"
	"end\n"
	"redis.call('DEL', KEYS[1])\n"
	"return n\n";

static const char *dlq_name(const struct mc_dlq_conf *c)
{
	return c->name ? c->name : "";
}

/* Copies e into err, turning a WRONGTYPE about key into the DLQ's own
 * message. Returns -1. */
static int key_fail(const struct mc_dlq_conf *c, const char *key,
		    const struct mc_err *e, struct mc_err *err)
{
	if (strstr(e->msg, "WRONGTYPE") != NULL)
		return mc_err_set(err, MC_EXIT_CRITICAL,
				  "DLQ '%s': key %s is not a list",
				  dlq_name(c), key);
	if (err)
		*err = *e;
	return -1;
}

static int llen(struct mc_redis *r, const struct mc_dlq_conf *c,
		const char *key, long long *out, struct mc_err *err)
{
	struct mc_err e = { 0 };
	redisReply *reply = mc_redis_cmd(r, &e, "LLEN %s", key);

	if (reply == NULL)
		return key_fail(c, key, &e, err);
	*out = reply->type == REDIS_REPLY_INTEGER ? reply->integer : 0;
	freeReplyObject(reply);
	return 0;
}

static redisReply *lrange(struct mc_redis *r, const struct mc_dlq_conf *c,
			  long long from, long long to, struct mc_err *err)
{
	struct mc_err e = { 0 };
	redisReply *reply = mc_redis_cmd(r, &e, "LRANGE %s %lld %lld",
					 c->source, from, to);

	if (reply == NULL) {
		key_fail(c, c->source, &e, err);
		return NULL;
	}
	if (reply->type != REDIS_REPLY_ARRAY) {
		freeReplyObject(reply);
		mc_err_set(err, MC_EXIT_CRITICAL,
			   "DLQ '%s': unexpected LRANGE reply", dlq_name(c));
		return NULL;
	}
	for (size_t i = 0; i < reply->elements; i++)
		if (reply->element[i]->type != REDIS_REPLY_STRING) {
			freeReplyObject(reply);
			mc_err_set(err, MC_EXIT_CRITICAL,
				   "DLQ '%s': unexpected LRANGE reply",
				   dlq_name(c));
			return NULL;
		}
	return reply;
}

static int conf_ok(const struct mc_dlq_conf *c, struct mc_err *err)
{
	if (c == NULL || c->source == NULL || c->target == NULL ||
	    c->dead == NULL)
		return mc_err_set(err, MC_EXIT_USAGE,
				  "DLQ '%s': source, target and dead are needed",
				  c ? dlq_name(c) : "");
	return 0;
}

/* --- stats, peek, purge ------------------------------------------------- */

/* The time a message carries in a top-level timestamp, ts, created_at or
 * failed_at (in that order of preference): a number is Unix seconds (one
 * above 1e11 is taken as milliseconds), a string RFC 3339. */
int mc_dlq_msg_time(const char *msg, size_t len, double *out)
{
	struct mc_json_member w[4] = { { .name = "timestamp" }, { .name = "ts" },
			     { .name = "created_at" }, { .name = "failed_at" } };
	size_t open, members;

	if (mc_json_scan_object(msg, len, w, 4, &open, &members) < 0)
		return -1;
	for (size_t k = 0; k < 4; k++) {
		const char *t = msg + w[k].vstart;
		size_t l = w[k].vend - w[k].vstart;

		if (!w[k].found)
			continue;
		if (w[k].kind == '0' && l < 64) {
			char num[64];
			double v;

			memcpy(num, t, l);
			num[l] = '\0';
			v = strtod(num, NULL);
			if (!isfinite(v))
				continue;
			*out = v > 1e11 ? v / 1000 : v;
			return 0;
		}
		if (w[k].kind == '"') {
			struct mc_buf dec = { 0 };
			int rc = -1;

			if (mc_json_string_decode(t, l, &dec) == 0 &&
			    dec.data != NULL)
				rc = mc_parse_rfc3339(dec.data, dec.len, out);
			mc_buf_release(&dec);
			if (rc == 0)
				return 0;
		}
	}
	return -1;
}

int mc_dlq_stats(struct mc_redis *r, const struct mc_dlq_conf *c,
		 double now, struct mc_dlq_stats *out, struct mc_err *err)
{
	const char *keys[3];
	long long *vals[3];
	redisContext *ctx;
	redisReply *reply;
	struct mc_err e = { 0 };
	int rc = 0;
	double t;

	if (conf_ok(c, err) < 0)
		return -1;
	memset(out, 0, sizeof(*out));
	out->oldest_age_s = -1;
	keys[0] = c->source;
	keys[1] = c->target;
	keys[2] = c->dead;
	vals[0] = &out->source;
	vals[1] = &out->target;
	vals[2] = &out->dead;

	/* a PING through the wrapper first: it fails fast on a connection
	 * already known broken, before raw pipelining */
	reply = mc_redis_cmd(r, &e, "PING");
	if (reply == NULL)
		return key_fail(c, "", &e, err);
	freeReplyObject(reply);
	ctx = mc_redis_context(r);
	for (int k = 0; k < 3; k++)
		redisAppendCommand(ctx, "LLEN %s", keys[k]);
	for (int k = 0; k < 3; k++) {
		redisReply *rp = NULL;

		if (mc_redis_get_reply(r, &rp, NULL) < 0) {
			/* the wrapper marks the context broken on next use */
			return mc_err_set(err, MC_EXIT_CRITICAL,
					  "DLQ '%s': redis: %s", dlq_name(c),
					  ctx->errstr[0] ? ctx->errstr :
							   "no reply");
		}
		reply = rp;
		if (reply->type == REDIS_REPLY_INTEGER) {
			*vals[k] = reply->integer;
		} else if (rc == 0) {
			mc_err_set(&e, MC_EXIT_CRITICAL, "redis: %s",
				   reply->str ? reply->str : "bad reply");
			rc = key_fail(c, keys[k], &e, err);
		}
		freeReplyObject(reply);
	}
	if (rc < 0)
		return -1;

	reply = mc_redis_cmd(r, &e, "LINDEX %s 0", c->source);
	if (reply == NULL)
		return key_fail(c, c->source, &e, err);
	if (reply->type == REDIS_REPLY_STRING &&
	    mc_dlq_msg_time(reply->str, reply->len, &t) == 0)
		out->oldest_age_s = now > t ? now - t : 0;
	freeReplyObject(reply);
	return 0;
}

int mc_dlq_peek(struct mc_redis *r, const struct mc_dlq_conf *c, long long n,
		struct mc_dlq_msg **out, size_t *count, struct mc_err *err)
{
	redisReply *reply;
	struct mc_dlq_msg *m;

	*out = NULL;
	*count = 0;
	if (conf_ok(c, err) < 0)
		return -1;
	if (n <= 0)
		return 0;
	reply = lrange(r, c, 0, n - 1, err);
	if (reply == NULL)
		return -1;
	m = mc_calloc(reply->elements ? reply->elements : 1, sizeof(*m));
	for (size_t i = 0; i < reply->elements; i++) {
		m[i].data = mc_malloc(reply->element[i]->len + 1);
		memcpy(m[i].data, reply->element[i]->str,
		       reply->element[i]->len);
		m[i].data[reply->element[i]->len] = '\0';
		m[i].len = reply->element[i]->len;
	}
	*out = m;
	*count = reply->elements;
	freeReplyObject(reply);
	return 0;
}

void mc_dlq_msgs_free(struct mc_dlq_msg *m, size_t n)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(m[i].data);
	free(m);
}

int mc_dlq_purge_dead(struct mc_redis *r, const struct mc_dlq_conf *c,
		      long long max, long long *removed, struct mc_err *err)
{
	struct mc_err e = { 0 };
	redisReply *reply;
	char maxs[24];
	const char *args[1] = { maxs };

	*removed = 0;
	if (conf_ok(c, err) < 0)
		return -1;
	snprintf(maxs, sizeof(maxs), "%lld", max > 0 ? max : 0);
	reply = mc_redis_eval(r, purge_script, 1, &c->dead, 1, args, NULL, &e);
	if (reply == NULL)
		return key_fail(c, c->dead, &e, err);
	if (reply->type == REDIS_REPLY_INTEGER)
		*removed = reply->integer;
	freeReplyObject(reply);
	return 0;
}

/* --- replay ------------------------------------------------------------- */

struct pacer {
	double tokens, last;	/* in-memory bucket (no state file) */
};

static int stop_reason(const struct mc_dlq_opts *o, const char **why)
{
	if (mc_interrupted) {
		*why = "interrupted";
		return 1;
	}
	if (o->dl && mc_deadline_passed(o->dl)) {
		*why = "deadline";
		return 1;
	}
	return 0;
}

/* Sleeps about ms, bounded by the deadline. 1 (with *why) when the run
 * must stop instead. */
static int pause_ms(const struct mc_dlq_opts *o, int64_t ms, const char **why)
{
	if (ms < 1)
		ms = 1;
	if (o->dl)
		ms = mc_deadline_left_ms(o->dl, ms);
	mc_sleep_ms(ms);
	return stop_reason(o, why);
}

/* Waits until n messages may go at c->rate: 0, 1 (stop, *why) or -1.
 * Tokens that would come only after the deadline are not waited for: the
 * run stops at once ("deadline"). With the state file the tokens are
 * reserved in the persisted bucket (another run queues behind them);
 * without it, an in-memory bucket paces this run alone. */
static int pace(const struct mc_dlq_conf *c, const struct mc_dlq_opts *o,
		struct pacer *pc, long long n, double burst, const char **why,
		struct mc_err *err)
{
	double max_wait = o->dl != NULL && o->dl->at != 0 ?
			  (double)mc_deadline_left_ms(o->dl, 0) / 1e3 : 1e9;
	double wait_s = 0;

	if (o->st != NULL) {
		char *name = mc_asprintf("dlq:%s", dlq_name(c));
		int rc = mc_bucket_reserve(o->st, name, c->rate, burst,
					   (double)n, max_wait, o->clock,
					   &wait_s, err);

		free(name);
		if (rc < 0)
			return -1;
		if (rc == 0) {
			*why = "deadline";
			return 1;
		}
	} else {
		double now = mc_mono_now();

		pc->tokens += (now - pc->last) * c->rate;
		pc->last = now;
		if (pc->tokens > burst)
			pc->tokens = burst;
		if (pc->tokens < (double)n) {
			wait_s = ((double)n - pc->tokens) / c->rate;
			if (wait_s > max_wait) {
				*why = "deadline";
				return 1;
			}
		}
		pc->tokens -= (double)n;	/* may go below 0: the wait */
	}
	if (wait_s > 0 && pause_ms(o, (int64_t)ceil(wait_s * 1000), why))
		return 1;
	return 0;
}

/* Backpressure before a batch: 0 go, 1 stop (*why), -1 error. */
static int backpressure(struct mc_redis *r, const struct mc_dlq_conf *c,
			const struct mc_dlq_opts *o, const char **why,
			struct mc_err *err)
{
	long long depth;

	if (c->shed_threshold <= 0)
		return 0;
	for (;;) {
		if (llen(r, c, c->target, &depth, err) < 0)
			return -1;
		if (depth < c->shed_threshold)
			return 0;
		if (!o->defer) {
			*why = "shed";
			return 1;
		}
		if (o->waiting)
			o->waiting(o->progress_ctx, depth, c->shed_threshold);
		if (o->dl == NULL || o->dl->at == 0) {
			/* waiting needs a bound; without one, poll on */
			mc_sleep_ms(100);
			if (mc_interrupted) {
				*why = "interrupted";
				return 1;
			}
			continue;
		}
		if (pause_ms(o, 100, why))
			return 1;
	}
}

/* ---- replay with the next batch read ahead ------------------------------
 *
 * Redis and this process take turns: while the server moves batch k, the
 * client would sit idle, and while the client transforms batch k+1 the
 * server would. So each step pipelines [LRANGE of the next batch at its
 * pre-move indexes, EVALSHA moving this batch, LLEN of the target] and
 * transforms the next batch while the move runs. The prediction is exact
 * with one replayer (the lock) and producers that only append; if anything
 * else touched the head, the script's check refuses the move ("MCHEAD
 * changed") and the batch is read again. A wrong guess can cost a re-read,
 * never a message. */

struct prepared {
	redisReply *head;	/* the batch as read */
	size_t got;
	char **outs;		/* transformed payloads */
	size_t *lens;
	char *dest;		/* 'T' or 'D' per message */
	long long t, d;
	int sent;		/* its move is queued */
	int ahead;		/* its group reads ahead */
};

static void prepared_init(struct prepared *p, long long batch)
{
	memset(p, 0, sizeof(*p));
	p->outs = mc_calloc((size_t)batch, sizeof(*p->outs));
	p->lens = mc_calloc((size_t)batch, sizeof(*p->lens));
	p->dest = mc_malloc((size_t)batch + 1);
}

static void prepared_clear(struct prepared *p)
{
	for (size_t i = 0; i < p->got; i++) {
		free(p->outs[i]);
		p->outs[i] = NULL;
	}
	freeReplyObject(p->head);
	p->head = NULL;
	p->got = 0;
	p->t = p->d = 0;
	p->sent = p->ahead = 0;
}

static void prepared_free(struct prepared *p)
{
	prepared_clear(p);
	free(p->outs);
	free(p->lens);
	free(p->dest);
}

/* Takes head over and transforms its messages. */
static void prepare(struct prepared *p, redisReply *head,
		    const struct mc_dlq_conf *c, const struct mc_dlq_opts *o)
{
	double now = mc_clock_now(o->clock);

	p->head = head;
	p->got = head->elements;
	for (size_t i = 0; i < p->got; i++) {
		redisReply *m = head->element[i];
		enum mc_dlq_fate f = mc_dlq_transform(m->str, m->len,
						      c->retry_field,
						      c->max_retries,
						      o->correlation_id, now,
						      &p->outs[i], &p->lens[i]);

		p->dest[i] = f == MC_DLQ_TARGET ? 'T' : 'D';
		if (f == MC_DLQ_TARGET)
			p->t++;
		else
			p->d++;
	}
}

/* The arguments of the EVALSHA moving batch p, in argv/argvlen (which
 * hold MOVE_ARGC(batch) entries); lease (room for a number) gets the
 * fence's lease in ms. */
#define MOVE_ARGC(batch) (12 + 2 * (batch))
static int move_args(const struct mc_dlq_conf *c,
		     const struct mc_dlq_fence *fence, const struct prepared *p, const char *script_sha,
		     char *nbuf, size_t nsize, char *lease, size_t lsize,
		     const char **argv, size_t *argvlen)
{
	int i = 0;
	size_t n;

	snprintf(nbuf, nsize, "%zu", p->got);
	argv[i++] = "EVALSHA";
	argv[i++] = script_sha;
	argv[i++] = fence != NULL ? "4" : "3";
	argv[i++] = c->source;
	argv[i++] = c->target;
	argv[i++] = c->dead;
	if (fence != NULL)
		argv[i++] = fence->key;
	argv[i++] = nbuf;
	for (int k = 0; k < i; k++)
		argvlen[k] = strlen(argv[k]);
	argv[i] = p->dest;
	argvlen[i++] = p->got;
	for (size_t k = 0; k < p->got; k++) {
		argv[i + k] = p->outs[k];
		argvlen[i + k] = p->lens[k];
		argv[i + p->got + k] = p->head->element[k]->str;
		argvlen[i + p->got + k] = p->head->element[k]->len;
	}
	n = (size_t)i + 2 * p->got;
	if (fence != NULL) {
		snprintf(lease, lsize, "%lld", (long long)fence->lease_ms);
		argv[n] = fence->owner;
		argvlen[n] = strlen(fence->owner);
		argv[n + 1] = fence->token;
		argvlen[n + 1] = strlen(fence->token);
		argv[n + 2] = lease;
		argvlen[n + 2] = strlen(lease);
		n += 3;
	}
	return (int)n;
}

/* Queues batch p's group: the read-ahead of the next ahead messages (they
 * follow p in source once p has moved), the move, and the target's depth
 * when a shed threshold needs it. Nothing is sent until a reply is read. */
static void send_group(redisContext *ctx, const struct mc_dlq_conf *c,
		       const struct mc_dlq_fence *fence, struct prepared *p,
		       long long ahead, const char *script_sha,
		       const char **argv, size_t *argvlen)
{
	char nbuf[32], lease[32];
	int argc = move_args(c, fence, p, script_sha, nbuf, sizeof(nbuf),
			     lease, sizeof(lease), argv, argvlen);

	p->ahead = ahead > 0;
	if (p->ahead)
		redisAppendCommand(ctx, "LRANGE %s %lld %lld", c->source,
				   (long long)p->got,
				   (long long)p->got + ahead - 1);
	redisAppendCommandArgv(ctx, argc, argv, argvlen);
	if (c->shed_threshold > 0)
		redisAppendCommand(ctx, "LLEN %s", c->target);
	p->sent = 1;
}

/* The replies of a sent group after its read-ahead: the move's (*mv) and
 * the depth's (*tdepth, -1 when not asked). -1 when the connection broke. */
static int group_replies(struct mc_redis *r, const struct mc_dlq_conf *c,
			 redisReply **mv, long long *tdepth)
{
	redisReply *ln = NULL;

	*mv = NULL;
	if (mc_redis_get_reply(r, mv, NULL) < 0)
		return -1;
	*tdepth = -1;
	if (c->shed_threshold > 0) {
		if (mc_redis_get_reply(r, &ln, NULL) < 0) {
			freeReplyObject(*mv);
			*mv = NULL;
			return -1;
		}
		if (ln->type == REDIS_REPLY_INTEGER)
			*tdepth = ln->integer;
		freeReplyObject(ln);
	}
	return 0;
}

/* Counts a successful move's reply into res; 0, or 1 when it was an error
 * (left for the caller). */
static int count_move(const redisReply *mv, struct mc_dlq_result *res,
		      long long *done)
{
	if (mv->type == REDIS_REPLY_ERROR)
		return 1;
	if (mv->type == REDIS_REPLY_ARRAY && mv->elements == 2) {
		res->replayed += mv->element[0]->integer;
		res->dead += mv->element[1]->integer;
		*done += mv->element[0]->integer + mv->element[1]->integer;
	}
	return 0;
}

/* The checks before a batch of n is sent: the stop reasons, the limit,
 * the shed threshold (with the depth last read, or read now), the rate.
 * 0: go; 1: stop (*why); -1: error. */
static int may_send(struct mc_redis *r, const struct mc_dlq_conf *c,
		    const struct mc_dlq_opts *o, struct pacer *pc,
		    long long batch, long long n, long long *tdepth,
		    const char **why, struct mc_err *err)
{
	for (;;) {
		int brc;

		if (stop_reason(o, why))
			return 1;
		if (c->shed_threshold > 0 && *tdepth >= c->shed_threshold) {
			if (!o->defer) {
				*why = "shed";
				return 1;
			}
			if (o->waiting)
				o->waiting(o->progress_ctx, *tdepth,
					   c->shed_threshold);
			*tdepth = -1;	/* wait, then read it afresh */
			if (pause_ms(o, 100, why))
				return 1;
			continue;
		}
		if (c->shed_threshold > 0 && *tdepth < 0) {
			brc = backpressure(r, c, o, why, err);
			if (brc != 0)
				return brc;
		}
		break;
	}
	if (c->rate > 0)
		return pace(c, o, pc, n, (double)batch, why, err);
	return 0;
}

/*
 * The moves, pipelined two deep: while the server runs the script moving
 * batch k, the client reads batch k+1 (read ahead in k's group), transforms
 * it and queues its move behind k's, so neither side waits for the other.
 * Safety does not rest on the pipeline: each script checks, message for
 * message, that the source's head is what its batch was read as, so a move
 * queued on a read-ahead that went stale fails whole and is read again.
 * With a shed threshold the pipeline is one deep, so every batch sees the
 * target's depth after the one before it.
 */
static int replay_moves(struct mc_redis *r, const struct mc_dlq_conf *c,
			const struct mc_dlq_opts *o, long long batch,
			long long total, double t0, struct mc_dlq_result *res,
			const char **why, struct mc_err *err)
{
	redisContext *ctx = mc_redis_context(r);
	struct prepared bufs[2], *cur = &bufs[0], *nxt = &bufs[1];
	struct pacer pc = { .tokens = (double)batch, .last = t0 };
	const char **argv = mc_calloc((size_t)MOVE_ARGC(batch), sizeof(*argv));
	size_t *argvlen = mc_calloc((size_t)MOVE_ARGC(batch),
				    sizeof(*argvlen));
	char script_sha[41];
	long long done = 0, tdepth = -1;
	int head_tries = 0, rc = -1, brc;
	redisReply *reply;
	struct mc_err e = { 0 };

	prepared_init(cur, batch);
	prepared_init(nxt, batch);
	/* A replay stopped before its first batch (SIGINT, the deadline)
	 * loads no script: hashing it (OpenSSL's first use) and loading it
	 * would spend the half second an interrupted run has left. */
	if (stop_reason(o, why)) {
		rc = 0;
		goto out;
	}
	mc_redis_script_sha(replay_script, script_sha);
	/* Loaded once here, so the pipelined EVALSHA finds it. */
	reply = mc_redis_cmd(r, &e, "SCRIPT LOAD %s", replay_script);
	if (reply == NULL) {
		key_fail(c, c->source, &e, err);
		goto out;
	}
	freeReplyObject(reply);
	for (;;) {
		redisReply *pre = NULL, *mv = NULL;
		long long left;

		if (cur->got == 0) {
			/* Nothing in hand: read the head. */
			long long n = batch;

			if (o->limit > 0 && done >= o->limit) {
				*why = "limit";
				break;
			}
			if (o->limit > 0 && o->limit - done < n)
				n = o->limit - done;
			if (stop_reason(o, why))
				break;
			cur->head = lrange(r, c, 0, n - 1, err);
			if (cur->head == NULL)
				goto out;
			if (cur->head->elements == 0)
				break;
			prepare(cur, cur->head, c, o);
		}
		if (!cur->sent) {
			if (o->limit > 0 && done >= o->limit) {
				*why = "limit";
				break;
			}
			brc = may_send(r, c, o, &pc, batch,
				       (long long)cur->got, &tdepth, why, err);
			if (brc < 0)
				goto out;
			if (brc > 0)
				break;
			left = o->limit > 0 ? o->limit - done -
					      (long long)cur->got : batch;
			send_group(ctx, c, o->fence, cur,
				   left < batch ? left : batch, script_sha,
				   argv, argvlen);
		}
		/* The read-ahead arrives first; transform it while the server
		 * runs cur's move, and queue its move behind. */
		if (cur->ahead && mc_redis_get_reply(r, &pre, NULL) < 0)
			goto lost;
		if (pre != NULL && pre->type == REDIS_REPLY_ARRAY &&
		    pre->elements > 0) {
			prepare(nxt, pre, c, o);
			if (c->shed_threshold <= 0) {
				brc = may_send(r, c, o, &pc, batch,
					       (long long)nxt->got, &tdepth,
					       why, err);
				if (brc < 0)
					goto out;
				left = o->limit > 0 ? o->limit - done -
						      (long long)(cur->got +
								  nxt->got)
						    : batch;
				if (brc == 0)
					send_group(ctx, c, o->fence, nxt,
						   left < batch ? left : batch,
						   script_sha, argv, argvlen);
				/* a stop waits for cur's move to be
				 * counted, then ends the loop */
			}
		} else {
			freeReplyObject(pre);
		}
		if (group_replies(r, c, &mv, &tdepth) < 0)
			goto lost;
		if (count_move(mv, res, &done)) {
			const char *mt = strstr(mv->str, "MCTYPE ");
			int fatal = 1;

			/* A queued move behind this one ran too: count it
			 * (it checked the head itself), then drop both. */
			if (nxt->sent) {
				redisReply *pre2 = NULL, *mv2 = NULL;
				long long td2;

				if (nxt->ahead &&
				    mc_redis_get_reply(r, &pre2, NULL) < 0) {
					freeReplyObject(mv);
					goto lost;
				}
				freeReplyObject(pre2);
				if (group_replies(r, c, &mv2, &td2) < 0) {
					freeReplyObject(mv);
					goto lost;
				}
				count_move(mv2, res, &done);
				freeReplyObject(mv2);
			}
			if (mt != NULL) {
				const char *keys[3] = { c->source, c->target,
							c->dead };
				int k = mt[7] - '1';

				mc_err_set(err, MC_EXIT_CRITICAL,
					   "DLQ '%s': key %s is not a list",
					   dlq_name(c),
					   keys[k >= 0 && k < 3 ? k : 0]);
			} else if (strstr(mv->str, "MCFENCED") != NULL) {
				mc_err_set(err, MC_EXIT_TEMPFAIL, "DLQ '%s': "
					   "the fleet lease of this replay was "
					   "lost (paused or cut off past it; "
					   "another host may be replaying now): "
					   "stopped without moving another "
					   "message", dlq_name(c));
			} else if (strstr(mv->str, "NOSCRIPT") != NULL) {
				redisReply *l = mc_redis_cmd(r, &e,
							     "SCRIPT LOAD %s",
							     replay_script);

				freeReplyObject(l);
				fatal = 0;
			} else if (strstr(mv->str, "MCHEAD changed") != NULL) {
				fatal = 0;
			} else {
				mc_err_set(err, MC_EXIT_CRITICAL, "DLQ '%s': "
					   "redis: %s", dlq_name(c), mv->str);
			}
			freeReplyObject(mv);
			if (fatal)
				goto out;
			if (++head_tries > DLQ_HEAD_RETRIES) {
				mc_err_set(err, MC_EXIT_TEMPFAIL,
					   "DLQ '%s': the head of %s kept changing "
					   "while replaying (another consumer?)",
					   dlq_name(c), c->source);
				goto out;
			}
			/* Read the head again. */
			prepared_clear(cur);
			prepared_clear(nxt);
			tdepth = -1;
			continue;
		}
		freeReplyObject(mv);
		head_tries = 0;
		res->duration_ms = (mc_mono_now() - t0) * 1000;
		if (o->progress)
			o->progress(o->progress_ctx, res, total);
		{
			int ahead_empty = cur->ahead && nxt->got == 0;
			struct prepared *tmp = cur;

			prepared_clear(cur);
			cur = nxt;
			nxt = tmp;
			if (ahead_empty)
				break;	/* the read-ahead found source empty */
			if (cur->got > 0 && !cur->sent && *why != NULL)
				break;	/* stopped before queueing it */
		}
	}
	rc = 0;
	goto out;
lost:
	/* The connection broke: a batch may or may not have moved (never
	 * twice), and is not counted. */
	mc_err_set(err, MC_EXIT_CRITICAL, "DLQ '%s': redis: %s", dlq_name(c),
		   ctx->errstr[0] ? ctx->errstr : "connection lost");
out:
	prepared_free(cur);
	prepared_free(nxt);
	free(argv);
	free(argvlen);
	return rc;
}

/* Why a message goes where it goes, from what it would become: the new
 * retry count for the target, the dead_reason (as JSON writes it) for
 * dead. */
static char *fate_why(const struct mc_dlq_conf *c, enum mc_dlq_fate f,
		      const char *out, size_t len)
{
	const char *field = c->retry_field ? c->retry_field : "retry_count";
	struct mc_json_member w[1] = { { .name = f == MC_DLQ_TARGET ? field :
				       "dead_reason" } };
	size_t open, members, l;
	const char *v;

	if (mc_json_scan_object(out, len, w, 1, &open, &members) < 0 ||
	    !w[0].found)
		return mc_strdup(f == MC_DLQ_TARGET ? "retried" :
				 "unparseable");
	v = out + w[0].vstart;
	l = w[0].vend - w[0].vstart;
	if (f == MC_DLQ_TARGET && w[0].kind == '0' && l < 24) {
		long long n = strtoll(v, NULL, 10);

		return mc_asprintf("%s %lld -> %lld, below max_retries %lld",
				   field, n - 1, n, c->max_retries);
	}
	if (w[0].kind == '"' && l >= 2)
		return mc_strndup(v + 1, l - 2);
	return mc_strndup(v, l);
}

/* A dry run: walks source with LRANGE offsets, decides each message as a
 * replay would, and moves nothing. The shed threshold is honoured as it
 * would be (the target does not grow), the rate is not. */
static int dry_walk(struct mc_redis *r, const struct mc_dlq_conf *c,
		    const struct mc_dlq_opts *o, long long batch,
		    long long total, double t0, struct mc_dlq_result *res,
		    long long *offset, const char **why, struct mc_err *err)
{
	double now = mc_clock_now(o->clock);

	for (;;) {
		long long n = batch;
		redisReply *head;
		int brc;

		if (stop_reason(o, why))
			return 0;
		if (o->limit > 0 && *offset >= o->limit) {
			*why = "limit";
			return 0;
		}
		brc = backpressure(r, c, o, why, err);
		if (brc != 0)
			return brc < 0 ? -1 : 0;
		if (o->limit > 0 && o->limit - *offset < n)
			n = o->limit - *offset;
		head = lrange(r, c, *offset, *offset + n - 1, err);
		if (head == NULL)
			return -1;
		for (size_t i = 0; i < head->elements; i++) {
			redisReply *m = head->element[i];
			char *out = NULL;
			size_t len;

			enum mc_dlq_fate f;

			f = mc_dlq_transform(m->str, m->len, c->retry_field,
					     c->max_retries, o->correlation_id,
					     now, &out, &len);
			if (f == MC_DLQ_TARGET)
				res->replayed++;
			else
				res->dead++;
			if (o->decided) {
				char *reason = fate_why(c, f, out, len);

				o->decided(o->progress_ctx, *offset +
					   (long long)i, f, reason);
				free(reason);
			}
			free(out);
		}
		*offset += (long long)head->elements;
		res->duration_ms = (mc_mono_now() - t0) * 1000;
		if (o->progress)
			o->progress(o->progress_ctx, res, total);
		if ((long long)head->elements < n) {	/* walked it all */
			freeReplyObject(head);
			return 0;
		}
		freeReplyObject(head);
	}
}

int mc_dlq_replay(struct mc_redis *r, const struct mc_dlq_conf *c,
		  const struct mc_dlq_opts *opts, struct mc_dlq_result *res,
		  struct mc_err *err)
{
	static const struct mc_dlq_opts no_opts;
	const struct mc_dlq_opts *o = opts ? opts : &no_opts;
	long long batch = c && c->batch > 0 ? c->batch : 100;
	long long total = 0, start_len = 0, offset = 0;
	double t0 = mc_mono_now();
	const char *why = NULL;
	int rc = -1;

	memset(res, 0, sizeof(*res));
	if (conf_ok(c, err) < 0)
		return -1;
	if (llen(r, c, c->source, &start_len, err) < 0)
		goto out;
	total = start_len;
	if (o->limit > 0 && o->limit < total)
		total = o->limit;
	if (o->dry_run) {
		long long len;

		if (dry_walk(r, c, o, batch, total, t0, res, &offset, &why,
			     err) < 0 || llen(r, c, c->source, &len, err) < 0)
			goto out;
		/* What a real run would leave behind. */
		res->left = len - offset > 0 ? len - offset : 0;
	} else {
		if (replay_moves(r, c, o, batch, total, t0, res, &why, err) < 0 ||
		    llen(r, c, c->source, &res->left, err) < 0)
			goto out;
	}
	if (why != NULL && mc_streq(why, "limit") && res->left == 0)
		why = NULL;	/* the limit and the end coincided */
	res->stopped_by = why;
	rc = 0;
out:
	res->duration_ms = (mc_mono_now() - t0) * 1000;
	return rc;
}
