/*
 * dlq.h - dead-letter replay in Redis (mercuryctl-dlq(1)).
 *
 * A DLQ is three lists: source (dead letters), target (the work queue) and
 * dead (terminal). Producers RPUSH; the oldest message is at the head.
 *
 * Replay moves messages in batches, oldest first, and never loses or
 * duplicates one, even when mercuryctl is killed or the connection drops at
 * any instant:
 *   1. read the head of source (LRANGE 0 n-1);
 *   2. decide and transform each message here, in C (mc_dlq_transform):
 *      the JSON text is edited in place -- only the retry field and the
 *      replayed_at / correlation_id stamps change; every other byte stays
 *      as written (Redis's cjson would re-encode numbers to 14 digits and
 *      corrupt 64-bit ids);
  *   3. one server-side script (loaded once, called by its SHA) checks that
 *      the head of source is still exactly what was read (the messages as
 *      read travel with the results and are compared one by one), then
 *      LTRIMs it and RPUSHes the results to target and dead -- all or
 *      nothing, inside Redis.
 * A kill between 1 and 3 leaves everything in source; a kill during 3
 * cannot split it (Redis runs a script atomically). The steps of two
 * batches overlap: batch k+1 is read ahead with k's move and its move is
 * queued behind k's, so the client's work and the server's run side by
 * side; a move queued on a read-ahead that went stale fails its check and
 * is read again.
 */
#ifndef MC_DLQ_H
#define MC_DLQ_H

#include <stddef.h>
#include <stdint.h>
#include "mc.h"
#include "redis.h"
#include "state.h"

struct mc_dlq_conf {
	const char *name;
	const char *source, *target, *dead;
	const char *retry_field;	/* default "retry_count" */
	long long max_retries;		/* default 3 */
	long long batch;		/* default 100 */
	long long shed_threshold;	/* 0: none */
	double rate;			/* messages per second, 0: none */
};

/* Where one message goes. */
enum mc_dlq_fate {
	MC_DLQ_TARGET = 0,	/* retried: counter + 1, stamped */
	MC_DLQ_DEAD = 1,	/* at or over max_retries: dead_reason added */
	MC_DLQ_UNPARSEABLE = 2,	/* not a JSON object: wrapped whole */
};

/* Decides the fate of msg (len bytes, any bytes) and writes what goes to
 * target or dead into *out (caller frees; *out_len its length):
 *   - a JSON object whose retry field is below max_retries: the field set
 *     to counter + 1 (added when absent), "replayed_at": RFC 3339 now,
 *     "correlation_id": cid -- both replaced when present;
 *   - a JSON object at or over max_retries: unchanged but for an added (or
 *     replaced) "dead_reason": "max_retries exceeded (N)";
 *   - anything else (invalid JSON, an array, a string, empty):
 *     {"dead_reason":"unparseable","body":"<the original, JSON-escaped>"}
 *     so the original bytes can be recovered exactly; input that is not
 *     valid UTF-8 gets "body_encoding":"latin1" as well, and every byte
 *     >= 0x80 is written as \u00XX, one code point per input byte (the
 *     rule is spelled out at wrap_unparseable in dlq.c).
 * Retry field handling: absent = 0; a non-negative integer = itself; a
 * number with a fraction, a negative number, a string, or anything else
 * sends the message to dead with reason "bad retry_count: <why>".
 * now is the wall clock (for replayed_at). Never fails. */
enum mc_dlq_fate mc_dlq_transform(const char *msg, size_t len,
				  const char *retry_field,
				  long long max_retries, const char *cid,
				  double now, char **out, size_t *out_len);

/* The time a message carries in a top-level timestamp, ts, created_at or
 * failed_at (in that order): a number is Unix seconds (above 1e11:
 * milliseconds), a string RFC 3339. 0, or -1 when it has none. */
int mc_dlq_msg_time(const char *msg, size_t len, double *out);

struct mc_dlq_stats {
	long long source, target, dead;		/* LLEN each */
	double oldest_age_s;	/* age of source's head from its timestamp
				   (a field named timestamp, ts, created_at,
				   failed_at: RFC 3339 or Unix seconds), or -1
				   when it has none */
};
int mc_dlq_stats(struct mc_redis *r, const struct mc_dlq_conf *c,
		 double now, struct mc_dlq_stats *out, struct mc_err *err);

/* The first n messages of source, not removed. Caller frees with
 * mc_dlq_msgs_free. */
struct mc_dlq_msg {
	char *data;
	size_t len;
};
int mc_dlq_peek(struct mc_redis *r, const struct mc_dlq_conf *c, long long n,
		struct mc_dlq_msg **out, size_t *count, struct mc_err *err);
void mc_dlq_msgs_free(struct mc_dlq_msg *m, size_t n);

/* Deletes the first max messages of dead, oldest first (max 0: all of
 * them), in one step inside Redis; *removed gets how many went. A count
 * shown in a prompt is passed as max, so what arrives after it stays. */
int mc_dlq_purge_dead(struct mc_redis *r, const struct mc_dlq_conf *c,
		      long long max, long long *removed, struct mc_err *err);

struct mc_dlq_result {
	long long replayed;		/* moved to target */
	long long dead;			/* moved to dead (incl. unparseable) */
	long long left;			/* in source at the end */
	const char *stopped_by;		/* NULL (done), "limit", "shed",
					   "deadline", "interrupted" */
	double duration_ms;
};

/* Fencing (a fleet's replay lease, docs/DESIGN.md "Leases and
 * fencing"): each batch's script first checks that the lease key still
 * names owner with token, renews it for lease_ms, and moves nothing
 * otherwise -- the run then stops with MC_EXIT_TEMPFAIL. key must live in
 * the DLQ's Redis, in the source's hash slot. */
struct mc_dlq_fence {
	const char *key;
	const char *owner;
	const char *token;
	int64_t lease_ms;
};

struct mc_dlq_opts {
	long long limit;		/* 0: no limit */
	int dry_run;			/* decide, count, move nothing */
	int defer;			/* wait while target >= shed_threshold
					   instead of stopping */
	const char *correlation_id;
	const struct mc_deadline *dl;
	/* Rate limiting with the persisted token bucket "dlq:NAME", when
	 * c->rate > 0; st may be NULL to pace in memory only. */
	struct mc_state *st;
	const struct mc_clock *clock;	/* NULL: wall clock */
	/* Called after every batch (a progress bar); may be NULL. */
	void (*progress)(void *ctx, const struct mc_dlq_result *sofar,
			 long long total);
	/* With defer: called each time a wait for the target to drain
	 * starts (the depth read, the threshold); may be NULL. */
	void (*waiting)(void *ctx, long long depth, long long threshold);
	/* A dry run: called for every message walked, with its index in
	 * source (0: the head), where it would go and why ("retry_count
	 * 1 -> 2, below max_retries 3", or the dead_reason); may be NULL. */
	void (*decided)(void *ctx, long long index, enum mc_dlq_fate fate,
			const char *why);
	void *progress_ctx;		/* for all three */
	const struct mc_dlq_fence *fence;	/* NULL: no fencing */
};

/* Replays as described at the top. Stops at the end of source, at
 * opts->limit (stopped_by "limit", exit 0), when target reaches the shed
 * threshold (stopped_by "shed"; with defer: waits, bounded by the
 * deadline), at the deadline, or on mc_interrupted after the batch in
 * flight. Returns 0 with res filled, or -1 with err (a WRONGTYPE list is
 * MC_EXIT_CRITICAL; a lost connection MC_EXIT_CRITICAL; a batch refused
 * by opts->fence MC_EXIT_TEMPFAIL) -- res still says what was moved
 * before the error. */
int mc_dlq_replay(struct mc_redis *r, const struct mc_dlq_conf *c,
		  const struct mc_dlq_opts *opts, struct mc_dlq_result *res,
		  struct mc_err *err);

#endif
