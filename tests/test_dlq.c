/*
 * test_dlq.c - lib/dlq.c: the message transform (no server) and replay,
 * stats, peek and purge against a real redis-server on loopback, including
 * SIGKILL and CLIENT KILL in the middle of a replay.
 *
 * Needs MC_TEST_REDIS_URL (scripts/servers.sh start DIR; . DIR/env).
 */
#include <criterion/criterion.h>

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dlq.h"
#include "fleet.h"
#include "state.h"
#include "testlib.h"

#define NOW 1700000000.123
#define NOW_TEXT "2023-11-14T22:13:20.123Z"

/* --- transform ---------------------------------------------------------- */

static char *tr(const char *msg, size_t len, const char *field, long long max,
		const char *cid, enum mc_dlq_fate *fate)
{
	char *out = NULL;
	size_t olen = 0;

	*fate = mc_dlq_transform(msg, len, field, max, cid, NOW, &out, &olen);
	cr_assert_not_null(out);
	cr_assert_eq(strlen(out), olen, "length and NUL agree for %s", out);
	return out;
}

struct exact {
	const char *in;
	enum mc_dlq_fate fate;
	const char *out;
};

static void check_exact(const struct exact *cases, size_t n,
			const char *field, long long max)
{
	for (size_t i = 0; i < n; i++) {
		enum mc_dlq_fate f;
		char *out = tr(cases[i].in, strlen(cases[i].in), field, max,
			       "c1", &f);
		json_error_t je;
		json_t *j = json_loads(out, JSON_DECODE_INT_AS_REAL, &je);

		cr_expect_eq(f, cases[i].fate, "fate of %s: %d", cases[i].in,
			     f);
		cr_expect_str_eq(out, cases[i].out, "transform of %s",
				 cases[i].in);
		cr_expect(j != NULL && json_is_object(j),
			  "output parses: %s (%s)", out, je.text);
		json_decref(j);
		free(out);
	}
}

Test(dlq, transform_retry_counter)
{
	static const struct exact cases[] = {
		{ "{\"id\":1}", MC_DLQ_TARGET,
		  "{\"retry_count\":1,\"replayed_at\":\"" NOW_TEXT
		  "\",\"correlation_id\":\"c1\",\"id\":1}" },
		{ "{\"retry_count\":0}", MC_DLQ_TARGET,
		  "{\"replayed_at\":\"" NOW_TEXT
		  "\",\"correlation_id\":\"c1\",\"retry_count\":1}" },
		{ "{\"a\":[],\"retry_count\":1,\"b\":{}}", MC_DLQ_TARGET,
		  "{\"replayed_at\":\"" NOW_TEXT
		  "\",\"correlation_id\":\"c1\",\"a\":[],\"retry_count\":2,\"b\":{}}" },
		{ "{\"retry_count\":2}", MC_DLQ_TARGET,
		  "{\"replayed_at\":\"" NOW_TEXT
		  "\",\"correlation_id\":\"c1\",\"retry_count\":3}" },
		{ "{\"retry_count\":-0}", MC_DLQ_TARGET,
		  "{\"replayed_at\":\"" NOW_TEXT
		  "\",\"correlation_id\":\"c1\",\"retry_count\":1}" },
		{ "{\"retry_count\":3,\"a\":1}", MC_DLQ_DEAD,
		  "{\"dead_reason\":\"max_retries exceeded (3)\",\"retry_count\":3,\"a\":1}" },
		{ "{\"retry_count\":7}", MC_DLQ_DEAD,
		  "{\"dead_reason\":\"max_retries exceeded (3)\",\"retry_count\":7}" },
		{ "{\"retry_count\":9223372036854775807}", MC_DLQ_DEAD,
		  "{\"dead_reason\":\"max_retries exceeded (3)\",\"retry_count\":9223372036854775807}" },
		{ "{}", MC_DLQ_TARGET,
		  "{\"retry_count\":1,\"replayed_at\":\"" NOW_TEXT
		  "\",\"correlation_id\":\"c1\"}" },
		{ " { } ", MC_DLQ_TARGET,
		  " {\"retry_count\":1,\"replayed_at\":\"" NOW_TEXT
		  "\",\"correlation_id\":\"c1\" } " },
		/* a nested member of the same name is not the counter */
		{ "{\"inner\":{\"retry_count\":9,\"replayed_at\":\"x\"},\"l\":[{\"retry_count\":9}]}",
		  MC_DLQ_TARGET,
		  "{\"retry_count\":1,\"replayed_at\":\"" NOW_TEXT
		  "\",\"correlation_id\":\"c1\",\"inner\":{\"retry_count\":9,\"replayed_at\":\"x\"},\"l\":[{\"retry_count\":9}]}" },
		/* stamps replaced where they are */
		{ "{\"replayed_at\" : \"old\", \"retry_count\":0, \"correlation_id\":null}",
		  MC_DLQ_TARGET,
		  "{\"replayed_at\" : \"" NOW_TEXT
		  "\", \"retry_count\":1, \"correlation_id\":\"c1\"}" },
		{ "{\"dead_reason\":\"earlier\",\"retry_count\":5}", MC_DLQ_DEAD,
		  "{\"dead_reason\":\"max_retries exceeded (3)\",\"retry_count\":5}" },
		/* duplicates: the last occurrence decides and is edited */
		{ "{\"retry_count\":0,\"retry_count\":5}", MC_DLQ_DEAD,
		  "{\"dead_reason\":\"max_retries exceeded (3)\",\"retry_count\":0,\"retry_count\":5}" },
		{ "{\"retry_count\":5,\"retry_count\":1}", MC_DLQ_TARGET,
		  "{\"replayed_at\":\"" NOW_TEXT
		  "\",\"correlation_id\":\"c1\",\"retry_count\":5,\"retry_count\":2}" },
		/* a key spelled with an escape is the same key */
		{ "{\"retry\\u005fcount\":1}", MC_DLQ_TARGET,
		  "{\"replayed_at\":\"" NOW_TEXT
		  "\",\"correlation_id\":\"c1\",\"retry\\u005fcount\":2}" },
	};

	check_exact(cases, MC_ARRAY_LEN(cases), "retry_count", 3);
}

Test(dlq, transform_keeps_other_bytes)
{
	static const struct exact cases[] = {
		{ "{ \"big\" : 12345678901234567890 ,\n\t\"retry_count\" : 2 ,"
		  " \"name\":\"\\u00e9t\\u00E9 caf\xc3\xa9\", \"x\":1.50E+3,"
		  "\"s\":\"\\/\\\"\\\\\\b\\f\\n\\r\\t\\ud83d\\ude00\" }\r\n",
		  MC_DLQ_TARGET,
		  "{\"replayed_at\":\"" NOW_TEXT "\",\"correlation_id\":\"c1\","
		  " \"big\" : 12345678901234567890 ,\n\t\"retry_count\" : 3 ,"
		  " \"name\":\"\\u00e9t\\u00E9 caf\xc3\xa9\", \"x\":1.50E+3,"
		  "\"s\":\"\\/\\\"\\\\\\b\\f\\n\\r\\t\\ud83d\\ude00\" }\r\n" },
		{ "{\"id\":-0.0e-0,\"t\":true,\"f\":false,\"n\":null}",
		  MC_DLQ_TARGET,
		  "{\"retry_count\":1,\"replayed_at\":\"" NOW_TEXT
		  "\",\"correlation_id\":\"c1\",\"id\":-0.0e-0,\"t\":true,\"f\":false,\"n\":null}" },
	};

	check_exact(cases, MC_ARRAY_LEN(cases), "retry_count", 3);
}

Test(dlq, transform_custom_field_and_limits)
{
	static const struct exact attempts[] = {
		{ "{\"attempts\":0,\"retry_count\":9}", MC_DLQ_TARGET,
		  "{\"replayed_at\":\"" NOW_TEXT
		  "\",\"correlation_id\":\"c1\",\"attempts\":1,\"retry_count\":9}" },
	};
	static const struct exact zero[] = {
		{ "{}", MC_DLQ_DEAD,
		  "{\"dead_reason\":\"max_retries exceeded (0)\"}" },
	};
	enum mc_dlq_fate f;
	char *out;

	check_exact(attempts, MC_ARRAY_LEN(attempts), "attempts", 3);
	check_exact(zero, MC_ARRAY_LEN(zero), NULL, 0);

	/* the correlation id is JSON-escaped */
	out = tr("{}", 2, NULL, 3, "a\"b\\c\n", &f);
	cr_expect_str_eq(out, "{\"retry_count\":1,\"replayed_at\":\"" NOW_TEXT
			      "\",\"correlation_id\":\"a\\\"b\\\\c\\n\"}");
	free(out);
	/* no correlation id: left alone */
	out = tr("{\"correlation_id\":7}", 20, NULL, 3, NULL, &f);
	cr_expect_str_eq(out, "{\"retry_count\":1,\"replayed_at\":\"" NOW_TEXT
			      "\",\"correlation_id\":7}");
	free(out);
}

Test(dlq, transform_bad_retry_values)
{
	static const char *const bad[][2] = {
		{ "2.5", "not an integer (2.5)" },
		{ "2.0", "not an integer (2.0)" },
		{ "-1", "negative (-1)" },
		{ "\"2\"", "a string" },
		{ "true", "a boolean" },
		{ "false", "a boolean" },
		{ "null", "null" },
		{ "{\"n\":1}", "an object" },
		{ "[1]", "an array" },
		{ "1e400", "not an integer (1e400)" },
		{ "99999999999999999999", "out of range (99999999999999999999)" },
		{ "9223372036854775808", "out of range (9223372036854775808)" },
	};

	for (size_t i = 0; i < MC_ARRAY_LEN(bad); i++) {
		char *in = mc_asprintf("{\"retry_count\":%s,\"k\":\"v\"}",
				       bad[i][0]);
		char *want = mc_asprintf(
			"{\"dead_reason\":\"bad retry_count: %s\",\"retry_count\":%s,\"k\":\"v\"}",
			bad[i][1], bad[i][0]);
		enum mc_dlq_fate f;
		char *out = tr(in, strlen(in), "retry_count", 3, "c1", &f);

		cr_expect_eq(f, MC_DLQ_DEAD, "%s", in);
		cr_expect_str_eq(out, want);
		free(out);
		free(in);
		free(want);
	}
}

/* The documented inverse of the unparseable wrapper. */
static void check_unparseable(const char *in, size_t len, int latin1)
{
	enum mc_dlq_fate f;
	char *out = tr(in, len, "retry_count", 3, "c1", &f);
	json_error_t je;
	json_t *j = json_loads(out, JSON_ALLOW_NUL, &je);
	json_t *body, *enc;
	const unsigned char *b;
	size_t blen;

	cr_assert_eq(f, MC_DLQ_UNPARSEABLE, "fate of %s", out);
	cr_assert(j != NULL, "%s parses: %s", out, je.text);
	cr_expect_str_eq(json_string_value(json_object_get(j, "dead_reason")),
			 "unparseable");
	body = json_object_get(j, "body");
	enc = json_object_get(j, "body_encoding");
	cr_assert(json_is_string(body));
	b = (const unsigned char *)json_string_value(body);
	blen = json_string_length(body);
	if (latin1) {
		size_t k = 0;

		cr_assert_str_eq(json_string_value(enc), "latin1", "%s", out);
		for (size_t i = 0; i < blen; k++) {
			unsigned cp = b[i];

			if (cp >= 0x80) {	/* U+0080..U+00FF: 2 bytes */
				cr_assert(cp == 0xC2 || cp == 0xC3);
				cp = ((cp & 0x1F) << 6) | (b[i + 1] & 0x3F);
				i += 2;
			} else {
				i++;
			}
			cr_assert(k < len);
			cr_expect_eq(cp, (unsigned char)in[k], "byte %zu", k);
		}
		cr_expect_eq(k, len);
	} else {
		cr_expect_null(enc, "%s", out);
		cr_assert_eq(blen, len, "%s", out);
		cr_expect(memcmp(b, in, len) == 0, "%s", out);
	}
	json_decref(j);
	free(out);
}

#define UNP(s, l) { s, sizeof(s) - 1, l }

Test(dlq, transform_unparseable_round_trip)
{
	static const struct {
		const char *in;
		size_t len;
		int latin1;
	} cases[] = {
		UNP("[1,2]", 0), UNP("\"str\"", 0), UNP("42", 0), UNP("", 0),
		UNP("   ", 0), UNP("null", 0), UNP("{", 0),
		UNP("{\"a\":1", 0), UNP("{\"a\":1}x", 0), UNP("{\"a\":01}", 0),
		UNP("{'a':1}", 0), UNP("{\"a\":\"\\ud800\"}", 0),
		UNP("{\"a\":\"\\udc00\\ud800\"}", 0),
		UNP("{\"a\":\"\\ud800\\u0041\"}", 0), UNP("{\"a\":1,}", 0),
		UNP("{\"a\" 1}", 0), UNP("nul", 0), UNP("{\"a\":tru}", 0),
		UNP("{\"a\":\"x\ny\"}", 0), UNP("{\"a\":-}", 0),
		UNP("{\"a\":1.}", 0), UNP("{\"a\":.5}", 0),
		UNP("{\"a\":1e}", 0), UNP("{\"a\":\"\\x\"}", 0),
		UNP("{\"a\":\"\\u12\"}", 0), UNP("{\"a\":[1,2}", 0),
		UNP("{1:2}", 0), UNP("\xef\xbb\xbf{}", 0),
		UNP("caf\xc3\xa9 \"quoted\" \\ \t\x01\x1f\x7f", 0),
		UNP("{\"a\":1}\0", 0), UNP("garbage-17", 0),
		UNP("{\"a\":\"\xff\"}", 1),
		UNP("\xc3\xa9\xff\0\"\\\x01 end \xe9", 1),
		UNP("\xed\xa0\x80", 1), UNP("\xc0\xaf", 1),
		UNP("\xf4\x90\x80\x80", 1), UNP("\xe2\x82", 1),
		UNP("{\"retry_count\":1,\"s\":\"\xc3\"}", 1),
	};

	for (size_t i = 0; i < MC_ARRAY_LEN(cases); i++)
		check_unparseable(cases[i].in, cases[i].len, cases[i].latin1);
}

static char *nested(int depth)
{
	struct mc_buf b = { 0 };

	mc_buf_puts(&b, "{\"a\":");
	for (int i = 0; i < depth; i++)
		mc_buf_puts(&b, "[");
	for (int i = 0; i < depth; i++)
		mc_buf_puts(&b, "]");
	mc_buf_puts(&b, "}");
	return mc_buf_steal(&b);
}

Test(dlq, transform_depth_limit)
{
	char *ok = nested(511), *deep = nested(512);
	enum mc_dlq_fate f;
	char *out;

	out = tr(ok, strlen(ok), NULL, 3, "c", &f);
	cr_expect_eq(f, MC_DLQ_TARGET);
	free(out);
	check_unparseable(deep, strlen(deep), 0);
	free(ok);
	free(deep);
}

/* --- against Redis ------------------------------------------------------ */

static struct mc_redis *connect_test(void)
{
	struct mc_redis_opts o = { .url = mc_test_env("MC_TEST_REDIS_URL"),
				   .command_timeout_ms = 20000 };
	struct mc_err err = { 0 };
	struct mc_redis *r = mc_redis_connect(&o, &err);

	cr_assert_not_null(r, "connect: %s", err.msg);
	return r;
}

struct fx {
	struct mc_redis *r;
	char src[96], tgt[96], dead[96];
	struct mc_dlq_conf c;
};

static void del_keys(struct fx *f)
{
	struct mc_err err = { 0 };
	redisReply *rp = mc_redis_cmd(f->r, &err, "DEL %s %s %s", f->src,
				      f->tgt, f->dead);

	cr_assert_not_null(rp, "DEL: %s", err.msg);
	freeReplyObject(rp);
}

static void fx_init(struct fx *f, const char *tag)
{
	memset(f, 0, sizeof(*f));
	f->r = connect_test();
	snprintf(f->src, sizeof(f->src), "mc:test:dlq:%s:%ld:src", tag,
		 (long)getpid());
	snprintf(f->tgt, sizeof(f->tgt), "mc:test:dlq:%s:%ld:tgt", tag,
		 (long)getpid());
	snprintf(f->dead, sizeof(f->dead), "mc:test:dlq:%s:%ld:dead", tag,
		 (long)getpid());
	f->c.name = tag;
	f->c.source = f->src;
	f->c.target = f->tgt;
	f->c.dead = f->dead;
	f->c.retry_field = "retry_count";
	f->c.max_retries = 3;
	f->c.batch = 100;
	del_keys(f);
}

static void fx_fini(struct fx *f)
{
	del_keys(f);
	mc_redis_close(f->r);
}

static void cmd_ok(struct mc_redis *r, const char *what, redisReply *rp,
		   const struct mc_err *err)
{
	(void)r;
	cr_assert_not_null(rp, "%s: %s", what, err->msg);
	freeReplyObject(rp);
}

/* Message i: a mix of fates, 7 in 10 to target. */
static int gen_msg(long i, char *buf, size_t size)
{
	switch (i % 10) {
	case 5:
		return snprintf(buf, size, "{\"id\":%ld}", i);
	case 6:
		return snprintf(buf, size, "{\"id\":%ld,\"retry_count\":3}", i);
	case 7:
		return snprintf(buf, size, "{\"id\":%ld,\"retry_count\":\"x\"}",
				i);
	case 8:
		return snprintf(buf, size, "garbage-%ld", i);
	case 9:
		return snprintf(buf, size,
				"{\"id\":%ld,\"retry_count\":2,\"n\":{\"retry_count\":0}}",
				i);
	default:
		return snprintf(buf, size,
				"{\"id\":%ld,\"retry_count\":%ld,\"big\":12345678901234567890}",
				i, i % 3);
	}
}

static int gen_fate_target(long i)
{
	return i % 10 < 6 || i % 10 == 9;
}

/* RPUSH messages from..to-1 to key, 1000 a call. */
static void push_gen(struct mc_redis *r, const char *key, long from, long to)
{
	enum { CHUNK = 1000 };
	static char bufs[CHUNK][128];
	const char *argv[CHUNK + 2];
	size_t argvlen[CHUNK + 2];

	for (long i = from; i < to;) {
		int argc = 2;
		struct mc_err err = { 0 };
		redisReply *rp;

		argv[0] = "RPUSH";
		argvlen[0] = 5;
		argv[1] = key;
		argvlen[1] = strlen(key);
		for (int k = 0; k < CHUNK && i < to; k++, i++) {
			argvlen[argc] = (size_t)gen_msg(i, bufs[k],
							sizeof(bufs[k]));
			argv[argc] = bufs[k];
			argc++;
		}
		rp = mc_redis_cmdargv(r, argc, argv, argvlen, &err);
		cmd_ok(r, "RPUSH", rp, &err);
	}
}

static void push_raw(struct mc_redis *r, const char *key, const char *v,
		     size_t len)
{
	const char *argv[3] = { "RPUSH", key, v };
	size_t argvlen[3] = { 5, strlen(key), len };
	struct mc_err err = { 0 };
	redisReply *rp = mc_redis_cmdargv(r, 3, argv, argvlen, &err);

	cmd_ok(r, "RPUSH", rp, &err);
}

static long long list_len(struct mc_redis *r, const char *key)
{
	struct mc_err err = { 0 };
	redisReply *rp = mc_redis_cmd(r, &err, "LLEN %s", key);
	long long n;

	cr_assert_not_null(rp, "LLEN: %s", err.msg);
	n = rp->integer;
	freeReplyObject(rp);
	return n;
}

/* The whole list as one string (elements framed by length), to compare. */
static char *dump(struct mc_redis *r, const char *key)
{
	struct mc_err err = { 0 };
	redisReply *rp = mc_redis_cmd(r, &err, "LRANGE %s 0 -1", key);
	struct mc_buf b = { 0 };

	cr_assert_not_null(rp, "LRANGE: %s", err.msg);
	for (size_t i = 0; i < rp->elements; i++) {
		mc_buf_printf(&b, "%zu:", rp->element[i]->len);
		mc_buf_add(&b, rp->element[i]->str, rp->element[i]->len);
	}
	freeReplyObject(rp);
	mc_buf_add(&b, "", 0);
	return mc_buf_steal(&b);
}

/* The id a message carries, raw or transformed; -1 when none. */
static long msg_id(const char *s, size_t len)
{
	json_t *j = json_loadb(s, len, JSON_DECODE_INT_AS_REAL, NULL);
	long id = -1;

	if (j != NULL && json_is_object(j)) {
		json_t *v = json_object_get(j, "id");
		json_t *body = json_object_get(j, "body");

		if (json_is_number(v))
			id = (long)json_number_value(v);
		else if (json_is_string(body) &&
			 sscanf(json_string_value(body), "garbage-%ld", &id) !=
				 1)
			id = -1;
	} else if (len < 64) {
		char tmp[64];

		memcpy(tmp, s, len);
		tmp[len] = '\0';
		if (sscanf(tmp, "garbage-%ld", &id) != 1)
			id = -1;
	}
	json_decref(j);
	return id;
}

/* Every id 0..n-1 exactly once in source + target + dead, each list in
 * ascending order; fills the list lengths. The three lists are read in one
 * script, at one instant: a killed replayer's last pipelined batch may
 * still be waiting in Redis's socket buffer, and would otherwise move
 * between two reads and be counted twice (or not at all). */
static void check_ids(struct fx *f, long n, long long *lens)
{
	const char *keys[3] = { f->src, f->tgt, f->dead };
	unsigned char *seen = mc_calloc((size_t)n, 1);
	struct mc_err serr = { 0 };
	redisReply *all = mc_redis_cmd(f->r, &serr, "EVAL %s 3 %s %s %s",
				       "return {redis.call('LRANGE', KEYS[1], "
				       "0, -1), redis.call('LRANGE', KEYS[2], "
				       "0, -1), redis.call('LRANGE', KEYS[3], "
				       "0, -1)}", f->src, f->tgt, f->dead);

	cr_assert_not_null(all, "EVAL LRANGE: %s", serr.msg);
	cr_assert_eq(all->type, REDIS_REPLY_ARRAY);
	cr_assert_eq(all->elements, 3);
	for (int k = 0; k < 3; k++) {
		redisReply *rp = all->element[k];
		long last = -1;

		lens[k] = (long long)rp->elements;
		for (size_t i = 0; i < rp->elements; i++) {
			long id = msg_id(rp->element[i]->str,
					 rp->element[i]->len);

			cr_assert(id >= 0 && id < n, "bad id in %s: %.*s",
				  keys[k], (int)rp->element[i]->len,
				  rp->element[i]->str);
			cr_assert(id > last, "%s out of order at %ld",
				  keys[k], id);
			last = id;
			cr_assert_eq(seen[id], 0, "id %ld twice", id);
			seen[id] = 1;
			if (k == 1)
				cr_assert(gen_fate_target(id),
					  "id %ld in target", id);
			if (k == 2)
				cr_assert(!gen_fate_target(id),
					  "id %ld in dead", id);
		}
	}
	freeReplyObject(all);
	for (long i = 0; i < n; i++)
		cr_assert_eq(seen[i], 1, "id %ld lost", i);
	free(seen);
}

static long count_target(long from, long to)
{
	long t = 0;

	for (long i = from; i < to; i++)
		t += gen_fate_target(i);
	return t;
}

static int replay(struct fx *f, const struct mc_dlq_opts *o,
		  struct mc_dlq_result *res, struct mc_err *err)
{
	static const struct mc_dlq_opts none = { .correlation_id = "cid-t" };

	return mc_dlq_replay(f->r, &f->c, o ? o : &none, res, err);
}

static double fixed_now(void *ctx)
{
	(void)ctx;
	return NOW;
}

static void count_progress(void *ctx, const struct mc_dlq_result *sofar,
			   long long total)
{
	long long *calls = ctx;

	cr_assert(sofar->replayed + sofar->dead <= total);
	(*calls)++;
}

Test(dlq, replay_mixed_keeps_order_and_counts)
{
	struct fx f;
	struct mc_dlq_result res;
	struct mc_err err = { 0 };
	long long lens[3], calls = 0;
	struct mc_dlq_opts o = { .correlation_id = "cid-t",
				 .progress = count_progress,
				 .progress_ctx = &calls };
	redisReply *rp;

	fx_init(&f, "mixed");
	f.c.batch = 37;
	push_gen(f.r, f.src, 0, 1000);
	cr_assert_eq(replay(&f, &o, &res, &err), 0, "%s", err.msg);
	cr_expect_eq(res.replayed, count_target(0, 1000));
	cr_expect_eq(res.dead, 1000 - count_target(0, 1000));
	cr_expect_eq(res.left, 0);
	cr_expect_null(res.stopped_by);
	cr_expect_eq(calls, (1000 + 36) / 37);
	check_ids(&f, 1000, lens);
	cr_expect_eq(lens[0], 0);
	cr_expect_eq(lens[1], res.replayed);
	cr_expect_eq(lens[2], res.dead);

	/* the first target message was edited as mc_dlq_transform says */
	rp = mc_redis_cmd(f.r, &err, "LINDEX %s 0", f.tgt);
	cr_assert_not_null(rp);
	cr_expect(strstr(rp->str, "\"retry_count\":1,\"big\":12345678901234567890}") != NULL,
		  "%s", rp->str);
	cr_expect(strstr(rp->str, "\"correlation_id\":\"cid-t\"") != NULL,
		  "%s", rp->str);
	freeReplyObject(rp);

	/* an empty source: nothing to do */
	cr_assert_eq(replay(&f, NULL, &res, &err), 0, "%s", err.msg);
	cr_expect_eq(res.replayed + res.dead + res.left, 0);
	cr_expect_null(res.stopped_by);
	fx_fini(&f);
}

/* A consumer other than mercuryctl pops from the source between batches,
 * while the next batch's move is already queued on a read-ahead: that move
 * must fail whole (the head is not what it read), be read again, and in
 * the end every id is in exactly one place: source, target, dead, or with
 * the other consumer. */
struct foreign {
	struct mc_redis *r;
	const char *src;
	long popped[64];
	size_t n;
	long long calls;
};

static void foreign_pop(void *ctx, const struct mc_dlq_result *sofar,
			long long total)
{
	struct foreign *fp = ctx;
	struct mc_err err = { 0 };

	(void)sofar;
	(void)total;
	/* after batches 1, 3, 5 and 7, pop one message (then two) */
	if (++fp->calls % 2 == 1 && fp->calls < 8) {
		for (int k = 0; k < (fp->calls > 4 ? 2 : 1); k++) {
			redisReply *rp = mc_redis_cmd(fp->r, &err, "LPOP %s",
						      fp->src);

			cr_assert_not_null(rp, "LPOP: %s", err.msg);
			if (rp->type == REDIS_REPLY_STRING &&
			    fp->n < MC_ARRAY_LEN(fp->popped))
				fp->popped[fp->n++] = msg_id(rp->str, rp->len);
			freeReplyObject(rp);
		}
	}
}

Test(dlq, replay_with_a_foreign_consumer_between_batches)
{
	struct fx f;
	struct mc_dlq_result res;
	struct mc_err err = { 0 };
	struct foreign fp = { 0 };
	struct mc_dlq_opts o = { .correlation_id = "cid-f",
				 .progress = foreign_pop,
				 .progress_ctx = &fp };
	const char *keys[3];
	unsigned char seen[1000] = { 0 };

	fx_init(&f, "foreign");
	keys[0] = f.src;
	keys[1] = f.tgt;
	keys[2] = f.dead;
	f.c.batch = 50;
	fp.r = connect_test();
	fp.src = f.src;
	push_gen(f.r, f.src, 0, 1000);
	cr_assert_eq(replay(&f, &o, &res, &err), 0, "%s", err.msg);
	cr_assert_eq(fp.n, 6, "the other consumer popped %zu", fp.n);
	cr_expect_eq(res.replayed + res.dead + (long long)fp.n, 1000);
	for (size_t i = 0; i < fp.n; i++) {
		cr_assert(fp.popped[i] >= 0 && fp.popped[i] < 1000);
		seen[fp.popped[i]]++;
	}
	for (int k = 0; k < 3; k++) {
		redisReply *rp = mc_redis_cmd(f.r, &err, "LRANGE %s 0 -1",
					      keys[k]);

		cr_assert_not_null(rp, "%s", err.msg);
		for (size_t i = 0; i < rp->elements; i++) {
			long id = msg_id(rp->element[i]->str,
					 rp->element[i]->len);

			cr_assert(id >= 0 && id < 1000);
			seen[id]++;
		}
		freeReplyObject(rp);
	}
	for (long i = 0; i < 1000; i++)
		cr_assert_eq(seen[i], 1, "id %ld is in %d places", i, seen[i]);
	mc_redis_close(fp.r);
	fx_fini(&f);
}

Test(dlq, replay_limit)
{
	struct fx f;
	struct mc_dlq_result res;
	struct mc_err err = { 0 };
	struct mc_dlq_opts o = { .limit = 150, .correlation_id = "c" };
	char *head;
	redisReply *rp;

	fx_init(&f, "limit");
	push_gen(f.r, f.src, 0, 250);
	cr_assert_eq(replay(&f, &o, &res, &err), 0, "%s", err.msg);
	cr_expect_eq(res.replayed + res.dead, 150);
	cr_expect_eq(res.replayed, count_target(0, 150));
	cr_expect_str_eq(res.stopped_by, "limit");
	cr_expect_eq(res.left, 100);
	rp = mc_redis_cmd(f.r, &err, "LINDEX %s 0", f.src);
	cr_assert_not_null(rp);
	head = mc_strndup(rp->str, rp->len);
	cr_expect_eq(msg_id(head, strlen(head)), 150);
	free(head);
	freeReplyObject(rp);

	/* a limit that is exactly the rest finishes the job */
	o.limit = 100;
	cr_assert_eq(replay(&f, &o, &res, &err), 0, "%s", err.msg);
	cr_expect_eq(res.replayed + res.dead, 100);
	cr_expect_null(res.stopped_by);
	cr_expect_eq(res.left, 0);
	fx_fini(&f);
}

/* With a fleet's lease, each batch's script checks it first (fencing): a
 * replayer whose lease another took -- or whose token is stale -- moves
 * nothing and stops with 75; the holder's batches renew the lease. */
static int64_t key_pttl(struct mc_redis *r, const char *key)
{
	struct mc_err err = { 0 };
	redisReply *rp = mc_redis_cmd(r, &err, "PTTL %s", key);
	int64_t v;

	cr_assert_not_null(rp, "%s", err.msg);
	v = rp->integer;
	freeReplyObject(rp);
	return v;
}

Test(dlq, replay_fenced_by_the_fleet_lease)
{
	char *prefix = mc_test_unique("mct", "dlqfence");
	struct mc_fleet_conf fc = { .url = (char *)mc_test_env(
					    "MC_TEST_REDIS_URL"),
				    .name = (char *)"A", .prefix = prefix,
				    .lease_ms = 60000 };
	struct mc_fleet *A, *B;
	struct mc_fleet_lease la, lb;
	struct mc_dlq_fence fa, fb;
	struct mc_dlq_opts o = { .limit = 100, .correlation_id = "c" };
	struct mc_dlq_result res;
	struct mc_err err = { 0 };
	char holder[300];
	long long lens[3];
	char *lk;
	redisReply *rp;
	struct fx f;

	fx_init(&f, "fence");
	push_gen(f.r, f.src, 0, 250);
	A = mc_fleet_connect(&fc, 2000, &err);
	cr_assert_not_null(A, "%s", err.msg);
	fc.name = (char *)"B";
	B = mc_fleet_connect(&fc, 2000, &err);
	cr_assert_not_null(B, "%s", err.msg);
	cr_assert_eq(mc_fleet_lock_acquire(A, f.src, 0, &la, holder,
					   sizeof(holder), &err), 1, "%s",
		     err.msg);
	lk = mc_fleet_lock_key(A, f.src);
	fa = (struct mc_dlq_fence){ lk, la.owner, la.token, 60000 };

	/* the holder moves, and its batches renew the lease */
	rp = mc_redis_cmd(f.r, &err, "PEXPIRE %s 5000", lk);
	cr_assert_not_null(rp, "%s", err.msg);
	freeReplyObject(rp);
	o.fence = &fa;
	cr_assert_eq(replay(&f, &o, &res, &err), 0, "%s", err.msg);
	cr_expect_eq(res.replayed + res.dead, 100);
	cr_expect_gt(key_pttl(f.r, lk), 5000, "a batch renews the lease");

	/* the right owner with a stale token is refused */
	fa.token = "0";
	cr_expect_eq(replay(&f, &o, &res, &err), -1);
	cr_expect_eq(err.code, MC_EXIT_TEMPFAIL);
	cr_expect_eq(res.replayed + res.dead, 0);
	fa.token = la.token;

	/* A's lease ends (paused past it); B takes over with a new token */
	rp = mc_redis_cmd(f.r, &err, "DEL %s", lk);
	cr_assert_not_null(rp, "%s", err.msg);
	freeReplyObject(rp);
	cr_assert_eq(mc_fleet_lock_acquire(B, f.src, 0, &lb, holder,
					   sizeof(holder), &err), 1, "%s",
		     err.msg);
	mc_err_clear(&err);
	o.limit = 0;
	cr_expect_eq(replay(&f, &o, &res, &err), -1, "A moved after B took over");
	cr_expect_eq(err.code, MC_EXIT_TEMPFAIL);
	cr_expect(strstr(err.msg, "lease of this replay was lost") != NULL,
		  "%s", err.msg);
	cr_expect_eq(res.replayed + res.dead, 0);
	cr_expect_eq(list_len(f.r, f.src), 150);

	/* B, the holder, finishes: every id exactly once */
	fb = (struct mc_dlq_fence){ lk, lb.owner, lb.token, 60000 };
	o.fence = &fb;
	cr_assert_eq(replay(&f, &o, &res, &err), 0, "%s", err.msg);
	cr_expect_eq(res.replayed + res.dead, 150);
	check_ids(&f, 250, lens);
	cr_expect_eq(lens[0], 0);
	cr_expect_eq(mc_fleet_lock_release(B, &lb, &err), 1);
	free(lk);
	mc_fleet_lease_release(&la);
	mc_fleet_lease_release(&lb);
	mc_fleet_close(A);
	mc_fleet_close(B);
	free(prefix);
	fx_fini(&f);
}

Test(dlq, replay_shed)
{
	struct fx f;
	struct mc_dlq_result res;
	struct mc_err err = { 0 };
	struct mc_deadline dl;
	struct mc_dlq_opts o = { .correlation_id = "c" };
	long long lens[3];

	fx_init(&f, "shed");
	f.c.shed_threshold = 5;
	for (int i = 0; i < 5; i++)
		push_raw(f.r, f.tgt, "x", 1);
	push_gen(f.r, f.src, 0, 50);
	cr_assert_eq(replay(&f, &o, &res, &err), 0, "%s", err.msg);
	cr_expect_eq(res.replayed + res.dead, 0);
	cr_expect_str_eq(res.stopped_by, "shed");
	cr_expect_eq(res.left, 50);
	cr_expect_eq(list_len(f.r, f.tgt), 5);

	/* with defer: waits, bounded by the deadline */
	mc_deadline_set(&dl, 30);
	o.defer = 1;
	o.dl = &dl;
	cr_assert_eq(replay(&f, &o, &res, &err), 0, "%s", err.msg);
	cr_expect_str_eq(res.stopped_by, "deadline");
	cr_expect_eq(res.left, 50);
	del_keys(&f);

	/* shed in the middle of a run, after the batch that crossed it */
	f.c.shed_threshold = 150;
	push_gen(f.r, f.src, 0, 1000);
	o.defer = 0;
	o.dl = NULL;
	cr_assert_eq(replay(&f, &o, &res, &err), 0, "%s", err.msg);
	cr_expect_str_eq(res.stopped_by, "shed");
	cr_expect(list_len(f.r, f.tgt) >= 150);
	cr_expect_eq(res.replayed + res.dead + res.left, 1000);
	check_ids(&f, 1000, lens);
	fx_fini(&f);
}

/* A dry run's decisions, counted by destination. */
struct decisions {
	long long next, target, dead;
	int in_order, why_ok;
};

static void count_decided(void *ud, long long index, enum mc_dlq_fate fate,
			  const char *why)
{
	struct decisions *d = ud;

	d->in_order &= index == d->next++;
	if (fate == MC_DLQ_TARGET) {
		d->target++;
		d->why_ok &= strstr(why, "below max_retries") != NULL;
	} else {
		d->dead++;
		d->why_ok &= why[0] != '\0';
	}
}

Test(dlq, dry_run_says_where_each_message_goes_and_why)
{
	struct fx f;
	struct mc_dlq_result dry;
	struct mc_err err = { 0 };
	struct decisions d = { .in_order = 1, .why_ok = 1 };
	struct mc_dlq_opts o = { .dry_run = 1, .correlation_id = "c",
				 .decided = count_decided,
				 .progress_ctx = &d };

	fx_init(&f, "dryw");
	f.c.batch = 10;
	push_gen(f.r, f.src, 0, 37);
	cr_assert_eq(replay(&f, &o, &dry, &err), 0, "%s", err.msg);
	cr_expect_eq(d.next, 37);
	cr_expect(d.in_order, "indexes not 0, 1, 2, ...");
	cr_expect(d.why_ok, "a reason is missing");
	cr_expect_eq(d.target, dry.replayed);
	cr_expect_eq(d.dead, dry.dead);
	cr_expect_eq(d.target, count_target(0, 37));
	fx_fini(&f);
}

Test(dlq, replay_dry_run_changes_nothing)
{
	struct fx f;
	struct mc_dlq_result dry, real;
	struct mc_err err = { 0 };
	struct mc_dlq_opts o = { .dry_run = 1, .correlation_id = "c" };
	char *before[3], *after[3];
	const char *keys[3];

	fx_init(&f, "dry");
	keys[0] = f.src;
	keys[1] = f.tgt;
	keys[2] = f.dead;
	f.c.batch = 10;
	push_gen(f.r, f.src, 0, 137);
	push_raw(f.r, f.tgt, "already", 7);
	push_raw(f.r, f.dead, "gone", 4);
	for (int k = 0; k < 3; k++)
		before[k] = dump(f.r, keys[k]);
	cr_assert_eq(replay(&f, &o, &dry, &err), 0, "%s", err.msg);
	for (int k = 0; k < 3; k++) {
		after[k] = dump(f.r, keys[k]);
		cr_expect_str_eq(after[k], before[k], "%s changed", keys[k]);
		free(after[k]);
	}
	cr_expect_null(dry.stopped_by);
	cr_expect_eq(dry.left, 0);

	/* with a limit: looks at that many only */
	{
		struct mc_dlq_result part;
		struct mc_dlq_opts ol = { .dry_run = 1, .limit = 25 };

		cr_assert_eq(replay(&f, &ol, &part, &err), 0, "%s", err.msg);
		cr_expect_eq(part.replayed + part.dead, 25);
		cr_expect_eq(part.replayed, count_target(0, 25));
		cr_expect_str_eq(part.stopped_by, "limit");
		cr_expect_eq(part.left, 112);
	}
	for (int k = 0; k < 3; k++) {
		after[k] = dump(f.r, keys[k]);
		cr_expect_str_eq(after[k], before[k], "%s changed", keys[k]);
		free(after[k]);
		free(before[k]);
	}

	o.dry_run = 0;
	cr_assert_eq(replay(&f, &o, &real, &err), 0, "%s", err.msg);
	cr_expect_eq(real.replayed, dry.replayed);
	cr_expect_eq(real.dead, dry.dead);
	cr_expect_eq(real.replayed, count_target(0, 137));
	fx_fini(&f);
}

static void expect_not_a_list(struct fx *f, const char *key)
{
	struct mc_dlq_result res;
	struct mc_err err = { 0 };
	struct mc_dlq_stats st;
	long long removed;
	char want[160];

	snprintf(want, sizeof(want), "key %s is not a list", key);
	cr_assert_eq(replay(f, NULL, &res, &err), -1);
	cr_expect_eq(err.code, MC_EXIT_CRITICAL);
	cr_expect(strstr(err.msg, want) != NULL, "%s", err.msg);
	cr_expect_eq(res.replayed + res.dead, 0);
	mc_err_clear(&err);
	cr_expect_eq(mc_dlq_stats(f->r, &f->c, NOW, &st, &err), -1);
	cr_expect(strstr(err.msg, want) != NULL, "%s", err.msg);
	if (key == f->dead) {
		mc_err_clear(&err);
		cr_expect_eq(mc_dlq_purge_dead(f->r, &f->c, 0, &removed, &err),
			     -1);
		cr_expect(strstr(err.msg, want) != NULL, "%s", err.msg);
	}
}

Test(dlq, replay_wrongtype)
{
	struct fx f;
	struct mc_err err = { 0 };
	const char *which[3];
	char *before;

	fx_init(&f, "wrongtype");
	which[0] = f.src;
	which[1] = f.tgt;
	which[2] = f.dead;
	for (int k = 0; k < 3; k++) {
		del_keys(&f);
		if (k != 0)
			push_gen(f.r, f.src, 0, 20);
		cmd_ok(f.r, "SET",
		       mc_redis_cmd(f.r, &err, "SET %s x", which[k]), &err);
		before = k != 0 ? dump(f.r, f.src) : NULL;
		expect_not_a_list(&f, which[k]);
		if (k != 0) {
			char *after = dump(f.r, f.src);

			cr_expect_str_eq(after, before, "source changed");
			free(after);
			cr_expect_eq(list_len(f.r, k == 1 ? f.dead : f.tgt),
				     0);
		}
		free(before);
	}
	fx_fini(&f);
}

Test(dlq, replay_one_mib_message)
{
	struct fx f;
	struct mc_dlq_result res;
	struct mc_err err = { 0 };
	struct mc_clock clk = { .now = fixed_now };
	struct mc_dlq_opts o = { .correlation_id = "big", .clock = &clk };
	size_t len = 1 << 20;
	char *msg = mc_malloc(len + 1), *want;
	size_t wlen;
	redisReply *rp;

	fx_init(&f, "mib");
	memset(msg, 'a', len);
	memcpy(msg, "{\"id\":1,\"pad\":\"", 15);
	memcpy(msg + len - 2, "\"}", 2);
	msg[len] = '\0';
	push_raw(f.r, f.src, msg, len);
	cr_assert_eq(mc_dlq_transform(msg, len, "retry_count", 3, "big", NOW,
				      &want, &wlen),
		     MC_DLQ_TARGET);
	cr_assert_eq(replay(&f, &o, &res, &err), 0, "%s", err.msg);
	cr_expect_eq(res.replayed, 1);
	rp = mc_redis_cmd(f.r, &err, "LINDEX %s 0", f.tgt);
	cr_assert_not_null(rp, "%s", err.msg);
	cr_assert_eq(rp->len, wlen);
	cr_expect(memcmp(rp->str, want, wlen) == 0);
	freeReplyObject(rp);
	free(want);
	free(msg);
	fx_fini(&f);
}

Test(dlq, replay_rate_interrupt_deadline)
{
	struct fx f;
	struct mc_dlq_result res;
	struct mc_err err = { 0 };
	struct mc_dlq_opts o = { .correlation_id = "c" };
	struct mc_deadline dl = { .at = mc_mono_now() - 1 };
	char dir[MC_TEST_DIR_LEN];
	char *path;
	struct mc_state *st;
	long long lens[3];

	fx_init(&f, "rate");
	push_gen(f.r, f.src, 0, 300);

	mc_interrupted = SIGINT;
	cr_assert_eq(replay(&f, &o, &res, &err), 0, "%s", err.msg);
	mc_interrupted = 0;
	cr_expect_str_eq(res.stopped_by, "interrupted");
	cr_expect_eq(res.left, 300);

	o.dl = &dl;
	cr_assert_eq(replay(&f, &o, &res, &err), 0, "%s", err.msg);
	cr_expect_str_eq(res.stopped_by, "deadline");
	cr_expect_eq(res.left, 300);
	o.dl = NULL;

	/* in-memory pacing, then the persisted bucket */
	f.c.rate = 1e6;
	o.limit = 150;
	cr_assert_eq(replay(&f, &o, &res, &err), 0, "%s", err.msg);
	cr_expect_eq(res.replayed + res.dead, 150);
	mc_test_dir(dir);
	path = mc_asprintf("%s/state.db", dir);
	st = mc_state_open(path, &err);
	cr_assert_not_null(st, "%s", err.msg);
	o.st = st;
	o.limit = 0;
	cr_assert_eq(replay(&f, &o, &res, &err), 0, "%s", err.msg);
	cr_expect_eq(res.replayed + res.dead, 150);
	cr_expect_eq(res.left, 0);
	check_ids(&f, 300, lens);
	mc_state_close(st);
	free(path);
	mc_test_rmtree(dir);
	fx_fini(&f);
}

Test(dlq, stats_peek_purge)
{
	struct fx f;
	struct mc_err err = { 0 };
	struct mc_dlq_stats st;
	struct mc_dlq_msg *m;
	size_t n;
	long long removed;

	fx_init(&f, "stats");
	cr_assert_eq(mc_dlq_stats(f.r, &f.c, NOW, &st, &err), 0, "%s",
		     err.msg);
	cr_expect_eq(st.source + st.target + st.dead, 0);
	cr_expect_eq(st.oldest_age_s, -1);

	push_raw(f.r, f.src, "{\"ts\":1000,\"x\":1}", 17);
	push_raw(f.r, f.src, "b", 1);
	push_raw(f.r, f.src, "c", 1);
	push_raw(f.r, f.tgt, "t", 1);
	for (int i = 0; i < 5; i++)
		push_raw(f.r, f.dead, "d", 1);
	cr_assert_eq(mc_dlq_stats(f.r, &f.c, 1060, &st, &err), 0, "%s",
		     err.msg);
	cr_expect_eq(st.source, 3);
	cr_expect_eq(st.target, 1);
	cr_expect_eq(st.dead, 5);
	cr_expect_float_eq(st.oldest_age_s, 60, 1e-9);

	cmd_ok(f.r, "LSET",
	       mc_redis_cmd(f.r, &err, "LSET %s 0 %s", f.src,
			    "{\"created_at\":\"2023-11-14T23:13:20.5+01:00\"}"),
	       &err);
	cr_assert_eq(mc_dlq_stats(f.r, &f.c, 1700000010.5, &st, &err), 0);
	cr_expect_float_eq(st.oldest_age_s, 10, 1e-6);
	cmd_ok(f.r, "LSET",
	       mc_redis_cmd(f.r, &err, "LSET %s 0 %s", f.src,
			    "{\"n\":{\"ts\":5}}"),
	       &err);
	cr_assert_eq(mc_dlq_stats(f.r, &f.c, NOW, &st, &err), 0);
	cr_expect_eq(st.oldest_age_s, -1);

	cr_assert_eq(mc_dlq_peek(f.r, &f.c, 2, &m, &n, &err), 0, "%s",
		     err.msg);
	cr_assert_eq(n, 2);
	cr_expect_str_eq(m[1].data, "b");
	cr_expect_eq(m[1].len, 1);
	mc_dlq_msgs_free(m, n);
	cr_assert_eq(mc_dlq_peek(f.r, &f.c, 10, &m, &n, &err), 0);
	cr_expect_eq(n, 3);
	mc_dlq_msgs_free(m, n);
	cr_assert_eq(mc_dlq_peek(f.r, &f.c, 0, &m, &n, &err), 0);
	cr_expect_eq(n, 0);
	mc_dlq_msgs_free(m, n);
	cr_expect_eq(list_len(f.r, f.src), 3);

	/* what a prompt counted, oldest first; later arrivals stay */
	cr_assert_eq(mc_dlq_purge_dead(f.r, &f.c, 2, &removed, &err), 0, "%s",
		     err.msg);
	cr_expect_eq(removed, 2);
	cr_expect_eq(list_len(f.r, f.dead), 3);
	cr_assert_eq(mc_dlq_purge_dead(f.r, &f.c, 0, &removed, &err), 0, "%s",
		     err.msg);
	cr_expect_eq(removed, 3);
	cr_expect_eq(list_len(f.r, f.dead), 0);
	cr_assert_eq(mc_dlq_purge_dead(f.r, &f.c, 0, &removed, &err), 0);
	cr_expect_eq(removed, 0);
	/* the script is reloaded when the server lost it */
	cmd_ok(f.r, "SCRIPT FLUSH", mc_redis_cmd(f.r, &err, "SCRIPT FLUSH"),
	       &err);
	push_raw(f.r, f.dead, "d", 1);
	cr_assert_eq(mc_dlq_purge_dead(f.r, &f.c, 0, &removed, &err), 0, "%s",
		     err.msg);
	cr_expect_eq(removed, 1);
	fx_fini(&f);
}

/* --- interruptions ------------------------------------------------------- */

#define KILL_N 20000

/* In a child: replays with its own connection. Writes its CLIENT ID to
 * fd (when >= 0) first. Exit 0: done; 1: failed with MC_EXIT_CRITICAL. */
static void child_replay(struct fx *f, int fd)
{
	struct mc_redis_opts ro = { .url = getenv("MC_TEST_REDIS_URL") };
	struct mc_err err = { 0 };
	struct mc_redis *r = mc_redis_connect(&ro, &err);
	struct mc_dlq_opts o = { .correlation_id = "kill" };
	struct mc_dlq_result res;
	int rc;

	if (r == NULL)
		_exit(3);
	if (fd >= 0) {
		redisReply *rp = mc_redis_cmd(r, &err, "CLIENT ID");
		long long id = rp ? rp->integer : -1;

		freeReplyObject(rp);
		if (write(fd, &id, sizeof(id)) != sizeof(id))
			_exit(3);
		close(fd);
	}
	rc = mc_dlq_replay(r, &f->c, &o, &res, &err);
	mc_redis_close(r);
	_exit(rc == 0 ? 0 : err.code == MC_EXIT_CRITICAL ? 1 : 2);
}

/* Waits (polling LLEN, no sleeps) until source drops below threshold or
 * the child is gone; 1 when the child already exited (status in *st). */
static int wait_below(struct fx *f, pid_t pid, long long threshold, int *st)
{
	for (;;) {
		if (waitpid(pid, st, WNOHANG) == pid)
			return 1;
		if (list_len(f->r, f->src) < threshold)
			return 0;
	}
}

static void final_replay(struct fx *f)
{
	struct mc_dlq_result res;
	struct mc_err err = { 0 };
	long long lens[3];

	cr_assert_eq(replay(f, NULL, &res, &err), 0, "%s", err.msg);
	cr_assert_eq(res.left, 0);
	check_ids(f, KILL_N, lens);
	cr_assert_eq(lens[0], 0);
	cr_assert_eq(lens[1], count_target(0, KILL_N));
}

Test(dlq, sigkill_never_loses_or_duplicates, .timeout = 600)
{
	struct fx f;
	long long lens[3];

	int killed = 0;

	fx_init(&f, "sigkill");
	for (int round = 0; round < 20; round++) {
		long long threshold =
			1 + (long long)(mc_random_unit() * (KILL_N - 1));
		int st = 0;
		pid_t pid;

		del_keys(&f);
		push_gen(f.r, f.src, 0, KILL_N);
		pid = fork();
		cr_assert(pid >= 0);
		if (pid == 0)
			child_replay(&f, -1);
		if (!wait_below(&f, pid, threshold, &st)) {
			kill(pid, SIGKILL);
			cr_assert_eq(waitpid(pid, &st, 0), pid);
			killed += WIFSIGNALED(st);
		}
		check_ids(&f, KILL_N, lens);
		final_replay(&f);
	}
	cr_log_info("sigkill: %d of 20 runs killed mid-replay", killed);
	cr_expect(killed > 0, "no run was killed mid-replay");
	fx_fini(&f);
}

Test(dlq, client_kill_fails_cleanly, .timeout = 600)
{
	struct fx f;
	long long lens[3];

	int failed = 0;

	fx_init(&f, "clientkill");
	for (int round = 0; round < 10; round++) {
		long long threshold =
			1 + (long long)(mc_random_unit() * (KILL_N - 1));
		long long id = -1;
		int st = 0, pfd[2], exited;
		struct mc_err err = { 0 };
		redisReply *rp;
		pid_t pid;

		del_keys(&f);
		push_gen(f.r, f.src, 0, KILL_N);
		cr_assert_eq(pipe(pfd), 0);
		pid = fork();
		cr_assert(pid >= 0);
		if (pid == 0) {
			close(pfd[0]);
			child_replay(&f, pfd[1]);
		}
		close(pfd[1]);
		cr_assert_eq(read(pfd[0], &id, sizeof(id)), sizeof(id));
		close(pfd[0]);
		cr_assert(id >= 0);
		exited = wait_below(&f, pid, threshold, &st);
		if (!exited) {
			rp = mc_redis_cmd(f.r, &err, "CLIENT KILL ID %lld",
					  id);
			cr_assert_eq(waitpid(pid, &st, 0), pid);
			cr_assert(WIFEXITED(st));
			if (rp != NULL && rp->integer == 1) {
				/* killed: an error, or done just before */
				cr_expect(WEXITSTATUS(st) == 1 ||
						  (WEXITSTATUS(st) == 0 &&
						   list_len(f.r, f.src) == 0),
					  "child exit %d", WEXITSTATUS(st));
			}
			freeReplyObject(rp);
		}
		cr_assert(WIFEXITED(st));
		cr_assert(WEXITSTATUS(st) <= 1, "child exit %d",
			  WEXITSTATUS(st));
		failed += WEXITSTATUS(st) == 1;
		check_ids(&f, KILL_N, lens);
		final_replay(&f);
	}
	cr_log_info("client kill: %d of 10 replays failed mid-run", failed);
	cr_expect(failed > 0, "no replay was cut mid-run");
	fx_fini(&f);
}
