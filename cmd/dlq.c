/* dlq.c - `mercuryctl dlq stats|peek|replay|purge` (mercuryctl-dlq(1); docs/DESIGN.md, "The commands"). */
#include "cmd.h"
#include "coord.h"
#include "dlq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The [dlq "NAME"] section named on the command line, or the only one. */
static const struct mc_conf_section *find_dlq(struct mc_ctx *ctx,
					      const char *name)
{
	const struct mc_conf_section *s = NULL, *only = NULL;
	size_t n = 0;

	while ((s = mc_conf_next(ctx->conf, "dlq", s)) != NULL) {
		only = s;
		n++;
		if (name && strcmp(s->name, name) == 0)
			return s;
	}
	if (name == NULL && n == 1)
		return only;
	if (name == NULL && n > 1) {
		struct mc_buf b = { 0 };

		s = NULL;
		while ((s = mc_conf_next(ctx->conf, "dlq", s)) != NULL)
			mc_buf_printf(&b, "%s%s", b.len ? ", " : "", s->name);
		mc_err_set(&ctx->err, MC_EXIT_USAGE, "%s: %zu DLQs are "
			   "configured (%s): name one", ctx->command, n,
			   b.data);
		mc_buf_release(&b);
	} else if (name == NULL) {
		mc_err_set(&ctx->err, MC_EXIT_USAGE, "%s: no [dlq \"NAME\"] "
			   "section is configured", ctx->command);
	} else {
		const char *cands[64];
		size_t k = 0;
		const char *near;

		s = NULL;
		while ((s = mc_conf_next(ctx->conf, "dlq", s)) && k < 64)
			cands[k++] = s->name;
		near = mc_suggest(name, cands, k);
		mc_err_set(&ctx->err, MC_EXIT_USAGE,
			   "%s: no DLQ named '%s' is configured%s%s%s",
			   ctx->command, name, near ? " (did you mean '" : "",
			   near ? near : "", near ? "'?)" : "");
	}
	return NULL;
}

static void dlq_conf(const struct mc_conf_section *s, struct mc_dlq_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->name = s->name;
	c->source = mc_conf_str(s, "source");
	c->target = mc_conf_str(s, "target");
	c->dead = mc_conf_str(s, "dead");
	c->retry_field = mc_conf_str(s, "retry_field");
	c->max_retries = mc_conf_int(s, "max_retries", 3);
	c->batch = mc_conf_int(s, "batch", 100);
	c->shed_threshold = mc_conf_int(s, "shed_threshold", 0);
	c->rate = mc_conf_double(s, "rate", 0);
}

static struct mc_redis *redis_open(struct mc_ctx *ctx,
				   const struct mc_conf_section *s)
{
	struct mc_redis_opts o = { 0 };
	struct mc_redis *r;

	mc_redis_opts_from_conf(s, ctx->conf, &o);
	o.connect_timeout_ms = mc_deadline_left_ms(&ctx->dl, 5000);
	o.command_timeout_ms = mc_deadline_left_ms(&ctx->dl, 30000);
	o.dl = &ctx->dl;
	r = mc_redis_connect(&o, &ctx->err);
	if (r == NULL && ctx->err.code != MC_EXIT_CONFIG)
		ctx->err.code = MC_EXIT_CRITICAL;
	return r;
}

static void depth_metrics(struct mc_report *r, const char *dlq,
			  const struct mc_dlq_stats *st)
{
	static const char *const lists[] = { "source", "target", "dead" };
	const long long v[] = { st->source, st->target, st->dead };
	char *name = mc_prom_label(dlq);

	for (size_t i = 0; i < 3; i++) {
		char *labels = mc_asprintf("dlq=\"%s\",list=\"%s\"", name, lists[i]);

		mc_prom_sample(&r->prom, "mercury_dlq_depth", "gauge",
			       "Messages in each list of the DLQ.", labels,
			       (double)v[i]);
		free(labels);
	}
	free(name);
}

/* ---- stats --------------------------------------------------------------- */

/* The Nagios verdict of dlq stats: CRITICAL when a target is at its
 * shed_threshold (a replay would stop), WARNING when dead letters wait in a
 * source, else OK. */
struct verdict {
	int code;
	struct mc_buf why;	/* ", alerter: 3 dead letters waiting" */
	struct mc_buf perf;
};

static void verdict_add(struct verdict *v, const char *dlq,
			const struct mc_dlq_conf *c,
			const struct mc_dlq_stats *st)
{
	if (c->shed_threshold > 0 && st->target >= c->shed_threshold) {
		v->code = MC_EXIT_CRITICAL;
		mc_buf_printf(&v->why, ", %s: target at shed_threshold "
			      "(%lld >= %lld)", dlq, st->target,
			      c->shed_threshold);
	} else if (st->source > 0) {
		if (v->code < MC_EXIT_WARNING)
			v->code = MC_EXIT_WARNING;
		mc_buf_printf(&v->why, ", %s: %lld dead letter%s waiting", dlq,
			      st->source, st->source == 1 ? "" : "s");
	}
	mc_buf_puts(&v->perf, " ");
	mc_perf_label(&v->perf, dlq, "_source");
	mc_buf_printf(&v->perf, "=%lld ", st->source);
	mc_perf_label(&v->perf, dlq, "_target");
	mc_buf_printf(&v->perf, "=%lld;;", st->target);
	if (c->shed_threshold > 0)
		mc_buf_printf(&v->perf, "%lld", c->shed_threshold);
	mc_buf_puts(&v->perf, " ");
	mc_perf_label(&v->perf, dlq, "_dead");
	mc_buf_printf(&v->perf, "=%lld", st->dead);
	if (st->oldest_age_s >= 0) {
		mc_buf_puts(&v->perf, " ");
		mc_perf_label(&v->perf, dlq, "_oldest");
		mc_buf_printf(&v->perf, "=%.0fs", st->oldest_age_s);
	}
}

static int stats_run(struct mc_ctx *ctx)
{
	static const char *const headers[] = { "DLQ", "SOURCE", "TARGET", "DEAD",
					       "OLDEST" };
	const struct mc_conf_section *s = NULL;
	struct mc_table *t = mc_table_new(5, headers);
	json_t *all = json_object();
	struct verdict v = { 0 };
	size_t n = 0;
	int rc = 0;

	json_object_set_new(ctx->report.doc, "dlqs", all);
	for (int i = 0; i < ctx->args->n_pos; i++)
		if (find_dlq(ctx, ctx->args->pos[i]) == NULL) {
			mc_table_free(t);
			return -1;
		}
	while ((s = mc_conf_next(ctx->conf, "dlq", s)) != NULL) {
		struct mc_dlq_conf c;
		struct mc_dlq_stats st;
		struct mc_redis *r;
		int wanted = ctx->args->n_pos == 0;
		char src[24], tgt[24], dead[24], age[32] = "-";
		const char *cells[5];
		json_t *o;

		for (int i = 0; i < ctx->args->n_pos; i++)
			wanted |= strcmp(ctx->args->pos[i], s->name) == 0;
		if (!wanted)
			continue;
		dlq_conf(s, &c);
		if ((r = redis_open(ctx, s)) == NULL ||
		    mc_dlq_stats(r, &c, mc_wall_now(), &st, &ctx->err) < 0) {
			mc_redis_close(r);
			rc = -1;
			break;
		}
		mc_redis_close(r);
		o = json_object();
		json_object_set_new(o, "source", json_pack("{s:o,s:I}", "list",
			mc_json_str(c.source), "depth", (json_int_t)st.source));
		json_object_set_new(o, "target", json_pack("{s:o,s:I}", "list",
			mc_json_str(c.target), "depth", (json_int_t)st.target));
		json_object_set_new(o, "dead", json_pack("{s:o,s:I}", "list",
			mc_json_str(c.dead), "depth", (json_int_t)st.dead));
		json_object_set_new(o, "oldest_age_s", st.oldest_age_s >= 0 ?
				    json_real(st.oldest_age_s) : json_null());
		mc_json_set(all, s->name, o);
		depth_metrics(&ctx->report, s->name, &st);
		if (st.oldest_age_s >= 0) {
			char *lab = mc_prom_label(s->name);
			char *labels = mc_asprintf("dlq=\"%s\"", lab);

			mc_prom_sample(&ctx->report.prom,
				       "mercury_dlq_oldest_age_seconds", "gauge",
				       "Age of the oldest dead letter, from its "
				       "timestamp field.", labels,
				       st.oldest_age_s);
			free(labels);
			free(lab);
		}
		verdict_add(&v, s->name, &c, &st);
		n++;
		snprintf(src, sizeof(src), "%lld", st.source);
		snprintf(tgt, sizeof(tgt), "%lld", st.target);
		snprintf(dead, sizeof(dead), "%lld", st.dead);
		if (st.oldest_age_s >= 0)
			mc_format_age(st.oldest_age_s, age, sizeof(age));
		cells[0] = s->name;
		cells[1] = src;
		cells[2] = tgt;
		cells[3] = dead;
		cells[4] = age;
		mc_table_row(t, cells);
	}
	if (rc == 0 && n == 0) {
		/* a gate never passes on nothing (§2.9) */
		v.code = MC_EXIT_UNKNOWN;
		mc_buf_puts(&v.why, ": no [dlq \"NAME\"] section is configured");
	}
	if (rc == 0) {
		mc_table_render(t, &ctx->report.text, ctx->color, NULL);
		ctx->report.nagios = mc_asprintf("DLQ %s - %zu DLQ%s%s%s%s",
						 mc_status_word(v.code), n,
						 n == 1 ? "" : "s",
						 v.why.data ? v.why.data : "",
						 v.perf.len ? " |" : "",
						 v.perf.len ? v.perf.data :
						 "");
	}
	mc_table_free(t);
	mc_buf_release(&v.why);
	mc_buf_release(&v.perf);
	/* The verdict is the exit code of a Nagios check; otherwise stats
	 * only report (exit 0). */
	return rc == 0 && ctx->format == MC_FMT_NAGIOS ? v.code : rc;
}

/* ---- peek ---------------------------------------------------------------- */

static int peek_run(struct mc_ctx *ctx)
{
	const struct mc_conf_section *s = find_dlq(ctx, ctx->args->n_pos ?
						   ctx->args->pos[0] : NULL);
	long long n = mc_args_int(ctx->args, "count", 10);
	struct mc_dlq_conf c;
	struct mc_dlq_msg *msgs = NULL;
	size_t count = 0;
	struct mc_redis *r;
	json_t *arr;

	int dead = mc_args_count(ctx->args, "dead") > 0;

	if (s == NULL)
		return -1;
	dlq_conf(s, &c);
	if (dead)		/* the terminal list, read the same way */
		c.source = c.dead;
	if ((r = redis_open(ctx, s)) == NULL)
		return -1;
	if (mc_dlq_peek(r, &c, n, &msgs, &count, &ctx->err) < 0) {
		mc_redis_close(r);
		return -1;
	}
	mc_redis_close(r);
	arr = json_array();
	json_object_set_new(ctx->report.doc, "dlq", mc_json_str(s->name));
	json_object_set_new(ctx->report.doc, "list", mc_json_str(c.source));
	json_object_set_new(ctx->report.doc, "messages", arr);
	for (size_t i = 0; i < count; i++) {
		json_t *j = json_loadb(msgs[i].data, msgs[i].len, 0, NULL);
		char *pretty = j ? json_dumps(j, JSON_INDENT(2) |
						  JSON_PRESERVE_ORDER) : NULL;

		/* Bodies are untrusted: escaped for the terminal (indented
		 * JSON too: jansson leaves C1 controls raw), kept whole in
		 * JSON (see mercuryctl-dlq(1)). */
		char *shown = pretty ? mc_escape_lines(pretty, strlen(pretty))
				     : mc_escape(msgs[i].data, msgs[i].len);

		mc_buf_printf(&ctx->report.text, "--- %zu ---\n%s\n", i + 1,
			      shown);
		if (pretty)
			json_array_append_new(arr, j);
		else
			json_array_append_new(arr, mc_json_text(msgs[i].data,
								msgs[i].len));
		free(shown);
		free(pretty);
	}
	if (count == 0)
		mc_buf_printf(&ctx->report.text, "%s: %s%s is empty\n",
			      s->name, dead ? "the dead list " : "", c.source);
	mc_dlq_msgs_free(msgs, count);
	return 0;
}

/* ---- replay -------------------------------------------------------------- */

/* A progress bar on a terminal's stderr: "[#####-----] 500/1000". */
static void progress(void *ud, const struct mc_dlq_result *r, long long total)
{
	long long done = r->replayed + r->dead;

	(void)ud;
	if (total <= 0)
		return;
	mc_ctx_bar_draw((uint64_t)done, (uint64_t)total, "%lld/%lld", done,
			total);
}

/* The DLQ's cumulative totals (0 and 0 before its first replay). */
static int totals_read(struct mc_state *st, const char *dlq,
		       long long *replayed, long long *dead, struct mc_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (mc_state_prepare(st, "SELECT replayed, dead FROM dlq_totals"
			     " WHERE dlq = ?1", &s, "dlq totals", err) < 0)
		return -1;
	sqlite3_bind_text(s, 1, dlq, -1, SQLITE_STATIC);
	*replayed = *dead = 0;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*replayed = sqlite3_column_int64(s, 0);
		*dead = sqlite3_column_int64(s, 1);
		rc = SQLITE_DONE;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return mc_state_sqlerr(st, err, "dlq totals");
	return 0;
}

/* Adds a real run's moves to the DLQ's cumulative totals and reads them
 * back into *replayed and *dead (what the _total counters expose). */
static int add_totals(struct mc_ctx *ctx, const char *dlq, int dry,
		      const struct mc_dlq_result *res, long long *replayed,
		      long long *dead)
{
	static const char what[] = "dlq totals";
	sqlite3_stmt *s = NULL;

	if (!dry) {
		if (mc_state_prepare(ctx->st, "INSERT INTO dlq_totals (dlq,"
				     " replayed, dead) VALUES (?1, ?2, ?3)"
				     " ON CONFLICT (dlq) DO UPDATE SET"
				     " replayed = replayed + excluded.replayed,"
				     " dead = dead + excluded.dead", &s, what,
				     &ctx->err) < 0)
			return -1;
		sqlite3_bind_text(s, 1, dlq, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, res->replayed);
		sqlite3_bind_int64(s, 3, res->dead);
		if (mc_state_exec_stmt(ctx->st, s, what, &ctx->err) < 0)
			return -1;
	}
	return totals_read(ctx->st, dlq, replayed, dead, &ctx->err);
}

/* What the replay's callbacks need. */
struct replay_ui {
	struct mc_ctx *ctx;
	const struct mc_dlq_conf *c;
	int bar;		/* draw the progress bar */
	int waiting;		/* said so since the last batch */
	json_t *decisions;	/* a dry run's, in JSON */
	long long listed;
};

/* A dry run lists at most this many messages (the counts cover all). */
#define DRY_LIST_MAX 1000

static void on_batch(void *ud, const struct mc_dlq_result *r, long long total)
{
	struct replay_ui *ui = ud;

	ui->waiting = 0;
	if (ui->bar)
		progress(NULL, r, total);
}

/* --defer: say what the wait is for, once per wait. */
static void on_wait(void *ud, long long depth, long long threshold)
{
	struct replay_ui *ui = ud;
	char left[32];

	if (ui->waiting || ui->ctx->quiet)
		return;
	ui->waiting = 1;
	mc_format_age((double)mc_deadline_left_ms(&ui->ctx->dl, 0) / 1e3,
		      left, sizeof(left));
	fprintf(stderr, "%sdlq replay: --defer: waiting for %s to drain below "
		"shed_threshold %lld (it holds %lld); the deadline is in %s "
		"(--timeout)\n", ui->bar ? "\n" : "", ui->c->target, threshold,
		depth, left);
}

/* --dry-run: where each message would go and why. */
static void on_decided(void *ud, long long index, enum mc_dlq_fate fate,
		       const char *why)
{
	struct replay_ui *ui = ud;
	const char *to = fate == MC_DLQ_TARGET ? "target" : "dead";
	const char *list = fate == MC_DLQ_TARGET ? ui->c->target : ui->c->dead;

	if (ui->listed++ >= DRY_LIST_MAX)
		return;
	json_array_append_new(ui->decisions,
			      json_pack("{s:I, s:o, s:o, s:o}", "index",
					(json_int_t)index,
					"to", mc_json_str(to),
					"list", mc_json_str(list),
					"why", mc_json_str(why)));
	mc_buf_printf(&ui->ctx->report.text, "#%-6lld -> %-6s %s: %s\n",
		      index + 1, to, list, why);
}

static int audit(struct mc_ctx *ctx, const char *dlq, int dry,
		 const struct mc_dlq_result *res)
{
	sqlite3_stmt *s = NULL;

	if (mc_state_prepare(ctx->st, "INSERT INTO dlq_runs (run_id, ts, dlq, "
			     "replayed, dead, left_in_source, stopped_by, "
			     "dry_run, duration_ms, correlation_id) VALUES "
			     "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &s, "dlq audit",
			     &ctx->err) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, ctx->run_id);
	sqlite3_bind_double(s, 2, mc_wall_now());
	sqlite3_bind_text(s, 3, dlq, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, res->replayed);
	sqlite3_bind_int64(s, 5, res->dead);
	sqlite3_bind_int64(s, 6, res->left);
	if (res->stopped_by)
		sqlite3_bind_text(s, 7, res->stopped_by, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 8, dry);
	sqlite3_bind_double(s, 9, res->duration_ms);
	sqlite3_bind_text(s, 10, ctx->correlation_id, -1, SQLITE_STATIC);
	return mc_state_exec_stmt(ctx->st, s, "dlq audit", &ctx->err);
}

/* A replay's samples: its moves (have_last) and the DLQ's totals
 * (have_totals). */
static void replay_samples(struct mc_buf *prom, const char *labels,
			   int have_last, long long last_replayed,
			   long long last_dead, int have_totals,
			   long long tot_replayed, long long tot_dead)
{
	if (have_last) {
		mc_prom_sample(prom, "mercury_dlq_replayed_last_run", "gauge",
			       "Messages the last replay moved back to the "
			       "work queue (a dry run: would move).", labels,
			       (double)last_replayed);
		mc_prom_sample(prom, "mercury_dlq_dead_last_run", "gauge",
			       "Messages the last replay moved to the terminal "
			       "list (a dry run: would move).", labels,
			       (double)last_dead);
	}
	if (have_totals) {
		mc_prom_sample(prom, "mercury_dlq_replayed_total", "counter",
			       "Messages moved back to the work queue by every "
			       "replay this state file recorded.", labels,
			       (double)tot_replayed);
		mc_prom_sample(prom, "mercury_dlq_dead_total", "counter",
			       "Messages moved to the terminal list by every "
			       "replay this state file recorded.", labels,
			       (double)tot_dead);
	}
}

static void replay_report(struct mc_ctx *ctx, const char *dlq, int dry,
			  const struct mc_dlq_result *res, int have_totals,
			  long long tot_replayed, long long tot_dead)
{
	char *name = mc_prom_label(dlq), *labels = mc_asprintf("dlq=\"%s\"", name);
	json_t *d = ctx->report.doc;

	json_object_set_new(d, "dlq", mc_json_str(dlq));
	json_object_set_new(d, "replayed", json_integer(res->replayed));
	json_object_set_new(d, "dead", json_integer(res->dead));
	json_object_set_new(d, "left", json_integer(res->left));
	json_object_set_new(d, "stopped_by", res->stopped_by ?
			    mc_json_str(res->stopped_by) : json_null());
	json_object_set_new(d, "dry_run", json_boolean(dry));
	json_object_set_new(d, "duration_ms", json_real(res->duration_ms));
	json_object_set_new(d, "correlation_id",
			    mc_json_str(ctx->correlation_id));
	replay_samples(&ctx->report.prom, labels, 1, res->replayed, res->dead,
		       have_totals, tot_replayed, tot_dead);
	mc_buf_printf(&ctx->report.text, "%s%s: %lld replayed, %lld dead, "
		      "%lld left%s%s%s (%.0f ms)\n", dry ? "dry run: " : "",
		      dlq, res->replayed, res->dead, res->left,
		      res->stopped_by ? "; stopped by " : "",
		      res->stopped_by ? res->stopped_by : "",
		      dry ? "; nothing was moved" : "", res->duration_ms);
	ctx->report.nagios = mc_asprintf("DLQ REPLAY %s - %s%s: %lld "
					 "replayed, %lld dead, %lld left%s%s "
					 "| replayed=%lld dead=%lld left=%lld",
					 res->stopped_by &&
					 !mc_streq(res->stopped_by, "limit") &&
					 !mc_streq(res->stopped_by,
						   "interrupted") ?
					 mc_status_word(MC_ST_WARNING) :
					 mc_status_word(MC_ST_OK),
					 dry ? "dry run: " :
					 "", dlq, res->replayed, res->dead,
					 res->left,
					 res->stopped_by ? "; stopped by " : "",
					 res->stopped_by ? res->stopped_by : "",
					 res->replayed, res->dead, res->left);
	if (res->stopped_by && strcmp(res->stopped_by, "shed") == 0)
		ctx->report.summary = mc_asprintf("%s: stopped: the target "
						  "reached shed_threshold; %lld "
						  "left", dlq, res->left);
	free(labels);
	free(name);
}

/* ---- the fleet's replay lease ---------------------------------------------- */

/* With [fleet]: one replayer per source fleet-wide. The lease is named
 * after the source's hash tag (the whole key when it has none), so that
 * its key, <prefix>:{<tag>}:lock, hashes to the source's slot; each
 * batch's script checks it (fencing, lib/dlq.h). */
struct replay_lease {
	struct mc_coord_lock *lock;	/* NULL without [fleet] */
	char *key;
	struct mc_dlq_fence fence;
};

static char *hash_tag(const char *key)
{
	const char *open = strchr(key, '{');
	const char *close = open ? strchr(open + 1, '}') : NULL;

	if (close != NULL && close > open + 1)
		return mc_strndup(open + 1, (size_t)(close - open - 1));
	return mc_strdup(key);
}

static void lease_release(struct mc_ctx *ctx, struct replay_lease *l)
{
	mc_coord_lock_release(ctx->coord, l->lock);
	free(l->key);
	memset(l, 0, sizeof(*l));
}

/* 0: taken (or no [fleet]); -1: refused (75: held elsewhere, or the
 * fleet's Redis is unreachable -- safety before progress) or error. */
static int lease_take(struct mc_ctx *ctx, struct mc_redis *r,
		      const struct mc_dlq_conf *c, struct replay_lease *l)
{
	char *name;
	redisReply *rp;
	int rc, same;

	memset(l, 0, sizeof(*l));
	if (mc_coord_fleet_conf(ctx->coord) == NULL)
		return 0;
	name = hash_tag(c->source);
	rc = mc_ctx_coord_lock(ctx, name, MC_COORD_FLEET_ONLY |
			       MC_COORD_KEEPALIVE, &l->lock);
	free(name);
	if (rc < 0) {
		if (mc_coord_degraded(ctx->coord)) {
			json_object_set_new(ctx->report.doc, "fleet",
					    json_string("degraded"));
			json_object_set_new(ctx->report.doc, "fleet_error",
					    mc_json_str(mc_coord_degraded_why(
						    ctx->coord)));
		}
		return -1;
	}
	l->key = mc_fleet_lock_key(mc_coord_fleet(ctx->coord),
				   l->lock->lease.name);
	/* the batches' check runs in the DLQ's Redis: the lease must be
	 * there, beside the lists */
	rp = mc_redis_cmd(r, &ctx->err, "HGET %s owner", l->key);
	if (rp == NULL) {
		lease_release(ctx, l);
		if (ctx->err.code != MC_EXIT_CONFIG)
			ctx->err.code = MC_EXIT_CRITICAL;
		return -1;
	}
	same = rp->type == REDIS_REPLY_STRING &&
	       mc_streq(rp->str, l->lock->lease.owner);
	freeReplyObject(rp);
	if (!same) {
		lease_release(ctx, l);
		return mc_err_set(&ctx->err, MC_EXIT_CONFIG, "DLQ '%s': the "
				  "fleet's Redis ([fleet] redis_url) is not "
				  "the one holding %s: each batch checks the "
				  "fleet lease beside the lists, so they must "
				  "be one Redis server and database", c->name,
				  c->source);
	}
	l->fence.key = l->key;
	l->fence.owner = l->lock->lease.owner;
	l->fence.token = l->lock->lease.token;
	l->fence.lease_ms = l->lock->lease.lease_ms;
	return 0;
}

static int replay_run(struct mc_ctx *ctx)
{
	const struct mc_conf_section *s = find_dlq(ctx, ctx->args->n_pos ?
						   ctx->args->pos[0] : NULL);
	struct mc_dlq_conf c;
	struct mc_dlq_opts o = { 0 };
	struct mc_dlq_result res = { 0 };
	struct mc_dlq_stats st;
	struct replay_ui ui = { 0 };
	struct replay_lease lease = { 0 };
	struct mc_redis *r;
	const char *v;
	char *lock;
	int rc;

	if (s == NULL)
		return -1;
	dlq_conf(s, &c);
	c.batch = mc_args_int(ctx->args, "batch", c.batch);
	c.max_retries = mc_args_int(ctx->args, "max-retries", c.max_retries);
	/* parsed already: the option is typed MC_ARG_RATE */
	if ((v = mc_args_value(ctx->args, "rate")) &&
	    mc_parse_rate(v, &c.rate, &ctx->err) < 0)
		return -1;
	o.limit = mc_args_int(ctx->args, "limit", 0);
	o.dry_run = mc_args_count(ctx->args, "dry-run") > 0;
	o.defer = mc_args_count(ctx->args, "defer") > 0;
	o.correlation_id = ctx->correlation_id;
	o.dl = &ctx->dl;
	o.st = ctx->st;
	lock = mc_asprintf("dlq-%s", c.name);
	rc = mc_ctx_lock(ctx, lock);
	free(lock);
	if (rc < 0)
		return -1;
	if ((r = redis_open(ctx, s)) == NULL)
		return -1;
	if (!o.dry_run && lease_take(ctx, r, &c, &lease) < 0) {
		mc_redis_close(r);
		return -1;
	}
	if (lease.lock != NULL)
		o.fence = &lease.fence;
	ui.ctx = ctx;
	ui.c = &c;
	if (mc_ctx_bar_wanted(ctx)) {
		ui.bar = 1;
		if (mc_dlq_stats(r, &c, mc_wall_now(), &st, NULL) == 0 &&
		    st.source == 0)
			ui.bar = 0;
	}
	o.progress = on_batch;
	o.waiting = on_wait;
	o.progress_ctx = &ui;
	if (o.dry_run) {
		ui.decisions = json_array();
		json_object_set_new(ctx->report.doc, "messages",
				    ui.decisions);
		o.decided = on_decided;
	}
	rc = mc_dlq_replay(r, &c, &o, &res, &ctx->err);
	lease_release(ctx, &lease);
	if (ui.bar)
		fputs("\n", stderr);
	if (ui.listed > DRY_LIST_MAX)
		mc_buf_printf(&ctx->report.text, "... and %lld more (the "
			      "first %d are listed; --limit chooses how many "
			      "to walk)\n", ui.listed - DRY_LIST_MAX,
			      DRY_LIST_MAX);
	if (mc_dlq_stats(r, &c, mc_wall_now(), &st, NULL) == 0)
		depth_metrics(&ctx->report, c.name, &st);
	mc_redis_close(r);
	{
		struct mc_err keep = ctx->err;	/* the replay's, if any */
		long long tr = 0, td = 0;
		int tot = add_totals(ctx, c.name, o.dry_run, &res, &tr, &td);

		if (tot < 0 && rc < 0)
			ctx->err = keep;
		replay_report(ctx, c.name, o.dry_run, &res, tot == 0, tr, td);
		if (tot < 0 && rc == 0)
			return -1;
	}
	if (audit(ctx, c.name, o.dry_run, &res) < 0 || rc < 0)
		return -1;
	if (res.stopped_by == NULL || strcmp(res.stopped_by, "limit") == 0)
		return MC_EXIT_OK;
	if (strcmp(res.stopped_by, "interrupted") == 0)
		return MC_EXIT_OK;	/* main() turns it into 130/143 */
	return MC_EXIT_WARNING;	/* shed or deadline: partly done */
}

/* ---- purge --------------------------------------------------------------- */

static int purge_run(struct mc_ctx *ctx)
{
	const struct mc_conf_section *s = find_dlq(ctx, ctx->args->n_pos ?
						   ctx->args->pos[0] : NULL);
	struct mc_dlq_conf c;
	struct mc_dlq_stats st;
	struct mc_redis *r;
	long long removed = 0, max = 0;
	char *lock;
	int rc;

	if (s == NULL)
		return -1;
	dlq_conf(s, &c);
	lock = mc_asprintf("dlq-%s", c.name);
	rc = mc_ctx_lock(ctx, lock);
	free(lock);
	if (rc < 0 || (r = redis_open(ctx, s)) == NULL)
		return -1;
	json_object_set_new(ctx->report.doc, "dlq", mc_json_str(c.name));
	if (!mc_args_count(ctx->args, "yes")) {
		if (!isatty(STDIN_FILENO)) {
			mc_redis_close(r);
			return mc_err_set(&ctx->err, MC_EXIT_USAGE, "dlq purge: "
					  "not a terminal: confirm with --yes");
		}
		if (mc_dlq_stats(r, &c, mc_wall_now(), &st, &ctx->err) < 0) {
			mc_redis_close(r);
			return -1;
		}
		if (st.dead == 0) {
			mc_redis_close(r);
			json_object_set_new(ctx->report.doc, "purged",
					    json_integer(0));
			mc_buf_printf(&ctx->report.text, "%s: the dead list %s "
				      "is empty: nothing to delete\n", c.name,
				      c.dead);
			return 0;
		}
		/* What the prompt counts is what goes: messages that arrive
		 * while it waits stay. */
		max = st.dead;
		if (!mc_ctx_confirm("Delete the %lld message%s in the dead "
				    "list %s (DLQ %s)?", st.dead,
				    st.dead == 1 ? "" : "s", c.dead, c.name)) {
			mc_redis_close(r);
			return mc_err_set(&ctx->err, MC_EXIT_USAGE,
					  "dlq purge: not confirmed; nothing "
					  "deleted");
		}
	}
	rc = mc_dlq_purge_dead(r, &c, max, &removed, &ctx->err);
	mc_redis_close(r);
	if (rc < 0)
		return -1;
	json_object_set_new(ctx->report.doc, "purged", json_integer(removed));
	mc_buf_printf(&ctx->report.text, "%s: %lld messages deleted from %s\n",
		      c.name, removed, c.dead);
	return 0;
}

/* ---- the table ----------------------------------------------------------- */

static const struct mc_opt peek_opts[] = {
	{ 'n', "count", "N", MC_OPT_VALUE, MC_ARG_INT, "1..1000000",
	  "Show the first N messages (default 10; 1 to 1000000)", 0 },
	{ 0, "dead", NULL, MC_OPT_FLAG, MC_ARG_STRING, NULL,
	  "Show the terminal (dead) list instead of the dead letters", 0 },
	{ 0 },
};

static const struct mc_opt replay_opts[] = {
	{ 0, "batch", "N", MC_OPT_VALUE, MC_ARG_INT, "1..5000",
	  "Move N messages per atomic step (overrides batch; 1 to 5000)", 0 },
	{ 0, "max-retries", "N", MC_OPT_VALUE, MC_ARG_INT, "0..1000000000",
	  "Send messages with N or more retries to dead (overrides max_retries)",
	  0 },
	{ 0, "limit", "N", MC_OPT_VALUE, MC_ARG_INT, "1..1000000000000",
	  "Move at most N messages in this run (1 or more)", 0 },
	{ 0, "rate", "RATE", MC_OPT_VALUE, MC_ARG_RATE, NULL,
	  "Move at most RATE messages (N/s, N/m; overrides rate)", 0 },
	{ 0, "dry-run", NULL, MC_OPT_FLAG, MC_ARG_STRING, NULL,
	  "Report what would happen and change nothing", 0 },
	{ 0, "defer", NULL, MC_OPT_FLAG, MC_ARG_STRING, NULL,
	  "Wait while the target is at shed_threshold instead of stopping", 0 },
	{ 0 },
};

static const struct mc_opt purge_opts[] = {
	{ 0, "dead", NULL, MC_OPT_FLAG, MC_ARG_STRING, NULL,
	  "The terminal (dead) list: the only one purge empties, so it may "
	  "be left out", 0 },
	{ 0, "yes", NULL, MC_OPT_FLAG, MC_ARG_STRING, NULL,
	  "Do not ask for confirmation", 0 },
	{ 0 },
};

static const struct mc_cmd dlq_stats = {
	.name = "stats",
	.summary = "Show the depth of each DLQ's lists and its oldest message's age",
	.args = "[DLQ...]",
	.description =
	"The OLDEST column (oldest_age_s in JSON, "
	"mercury_dlq_oldest_age_seconds in -o prom) is the age of the message "
	"at the head of source, read from its top-level field timestamp, ts, "
	"created_at or failed_at (the first present, in that order): RFC 3339 "
	"text or a number of Unix seconds (milliseconds when it is larger than "
	"1e11). A message without one shows \"-\".\n\n"
	"With -o nagios, dlq stats is a check: CRITICAL when a target holds "
	"shed_threshold messages or more (a replay would stop), WARNING when "
	"dead letters wait in a source, UNKNOWN when no [dlq] section is "
	"configured (a gate never passes on nothing), else OK, with each "
	"list's depth as perfdata; it exits by that verdict. In the other "
	"formats it only "
	"reports, and exits 0.",
	.needs = MC_NEED_CONFIG | MC_NEED_STATE,
	.max_args = -1,
	.complete_section = "dlq",
	.run = stats_run,
};

static const struct mc_cmd dlq_peek = {
	.name = "peek",
	.summary = "Show the oldest dead letters without removing them",
	.description =
	"Shows the first N messages of source, oldest first, pretty-printed "
	"when they are JSON; with --dead, those of the terminal list instead. "
	"With several DLQs configured, name one (the error lists them).\n\n"
	"Message bodies are untrusted: the text output writes their control "
	"characters and bytes that are not UTF-8 as \\xNN (a JSON message is "
	"indented, each line escaped). With --json every message is there: a "
	"JSON message as JSON, any other as a string, its bytes that are not "
	"UTF-8 written as the text \\xNN.",
	.args = "[DLQ]",
	.opts = peek_opts,
	.needs = MC_NEED_CONFIG | MC_NEED_STATE,
	.max_args = 1,
	.complete_section = "dlq",
	.run = peek_run,
};

static const struct mc_cmd dlq_replay = {
	.name = "replay",
	.summary = "Move dead letters back to the work queue, or to dead",
	.args = "[DLQ]",
	.description =
	"Takes messages oldest first. A JSON object whose retry counter is "
	"below max_retries gets the counter incremented, replayed_at and the "
	"run's correlation_id, and goes to the target; one at or over the "
	"limit goes to dead with a dead_reason; anything that is not a JSON "
	"object goes to dead wrapped as {\"dead_reason\":\"unparseable\","
	"\"body\":\"...\"} with its bytes kept (input that is not UTF-8 is "
	"marked \"body_encoding\":\"latin1\", one code point per byte). Only "
	"the counter and those fields change: every other byte of a message "
	"stays as written. A counter that is absent counts as 0; one that is "
	"not a whole number from 0 up (a string, a fraction, a negative "
	"number, true) sends the message to dead with the reason.\n\n"
	"Each batch moves inside Redis in one script that first checks the "
	"source's head is still what was read, so no message is ever lost or "
	"duplicated, even when mercuryctl is killed or Redis drops the "
	"connection. Before each batch the target's depth is read: at "
	"shed_threshold the replay stops (exit 1) or, with --defer, waits, "
	"saying once on standard error what it waits for (which list, its "
	"depth, the threshold, the time left before the deadline). "
	"--dry-run walks source as a replay would and lists each message: "
	"its place (#1 is the head), where it would go and why (\"retry_count "
	"0 -> 1, below max_retries 3\", or the dead_reason), the first 1000 "
	"in text and in the JSON \"messages\" array, with the counts of all. "
	"With a rate, a batch waits for its tokens, unless they would come "
	"after the deadline: then the run stops at once. "
	"When standard error is a terminal (and without -q) a progress bar "
	"counts the messages moved. Every run, a dry run too, is audited in "
	"the state file: replayed, dead, left, what stopped it, duration and "
	"correlation id. "
	"One replay per DLQ runs at a time (exit 75). With a [fleet] section "
	"(mercuryctl-fleet(1)) that holds fleet-wide: the replay takes the "
	"fleet lease of its source (named after the source's {hash tag}, or "
	"the whole key), renewed while it runs, and every batch's script "
	"first checks that this replayer still holds it with its fencing "
	"token; a replayer that lost it (paused or cut off past the lease, "
	"another host took over) moves not one more message and exits 75. "
	"When the fleet's Redis cannot be reached the replay does not start "
	"(exit 75: safety before progress); the fleet's redis_url must be the "
	"DLQ's Redis (exit 78 otherwise), since the check runs beside the "
	"lists. --dry-run takes no lease. In -o prom, "
	"mercury_dlq_replayed_total and mercury_dlq_dead_total count every "
	"message moved by every replay this state file recorded (kept "
	"however old the audit gets), and mercury_dlq_replayed_last_run and "
	"mercury_dlq_dead_last_run this run's (a dry run's: what it would "
	"move), with mercury_dlq_depth after it. With --textfile-dir DIR the "
	"counters and the last replay of every DLQ go to "
	"DIR/mercuryctl_dlq.prom (from the state file, rewritten by every dlq "
	"command), the depths only to dlq stats's own file. Exit 0 when done "
	"or at "
	"--limit, 1 when stopped by the shed threshold or the deadline, 2 on "
	"an error such as a list of the wrong type.",
	.opts = replay_opts,
	.needs = MC_NEED_CONFIG | MC_NEED_STATE,
	.max_args = 1,
	.complete_section = "dlq",
	.run = replay_run,
};

static const struct mc_cmd dlq_purge = {
	.name = "purge",
	.summary = "Empty a DLQ's terminal list after confirmation",
	.args = "[DLQ]",
	.description =
	"Deletes the messages of the terminal (dead) list, the only list purge "
	"touches (--dead may be given or left out). On a terminal it first "
	"says how many messages go and asks; exactly those are deleted, "
	"oldest first, and messages that arrive while it asks stay. Without a "
	"terminal, --yes is required, and deletes the whole list. An empty "
	"list deletes nothing and asks nothing.",
	.opts = purge_opts,
	.needs = MC_NEED_CONFIG | MC_NEED_STATE,
	.max_args = 1,
	.complete_section = "dlq",
	.run = purge_run,
};

static const struct mc_cmd *const dlq_subs[] = {
	&dlq_stats, &dlq_peek, &dlq_replay, &dlq_purge, NULL,
};

/* The newest replay of dlq in the audit: 1 (found), 0 (none), -1. */
static int last_replay(struct mc_state *st, const char *dlq,
		       long long *replayed, long long *dead, struct mc_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (mc_state_prepare(st, "SELECT replayed, dead FROM dlq_runs WHERE"
			     " dlq = ?1 ORDER BY ts DESC, id DESC LIMIT 1", &s,
			     "dlq audit", err) < 0)
		return -1;
	sqlite3_bind_text(s, 1, dlq, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*replayed = sqlite3_column_int64(s, 0);
		*dead = sqlite3_column_int64(s, 1);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return mc_state_sqlerr(st, err, "dlq audit");
	return rc == SQLITE_ROW;
}

/* mercuryctl_dlq.prom: every configured DLQ's replay counters and its
 * last replay, from the state file, whichever subcommand ran. (The
 * depths need Redis: only dlq stats's own file carries them.) */
static int dlq_metrics_view(struct mc_ctx *ctx, struct mc_buf *out,
			    struct mc_err *err)
{
	const struct mc_conf_section *s = NULL;
	int rc = 0;

	if (ctx->st == NULL)
		return 1;
	while (rc == 0 && (s = mc_conf_next(ctx->conf, "dlq", s)) != NULL) {
		char *name = mc_prom_label(s->name);
		char *labels = mc_asprintf("dlq=\"%s\"", name);
		long long lr = 0, ld = 0, tr, td;
		int found = last_replay(ctx->st, s->name, &lr, &ld, err);

		if (found < 0 || totals_read(ctx->st, s->name, &tr, &td,
					     err) < 0) {
			rc = -1;
		} else {
			/* (mc_prom_sample keeps each family one group) */
			replay_samples(out, labels, found, lr, ld, 1, tr, td);
		}
		free(labels);
		free(name);
	}
	return rc;
}

static const struct mc_metric_family dlq_families[] = {
	{ "mercury_dlq_replayed_total", NULL },
	{ "mercury_dlq_dead_total", NULL },
	{ "mercury_dlq_replayed_last_run", NULL },
	{ "mercury_dlq_dead_last_run", NULL },
	/* measured in Redis: only dlq stats's file (replay shows them on
	 * stdout) */
	{ "mercury_dlq_depth", "dlq stats" },
	{ "mercury_dlq_oldest_age_seconds", "dlq stats" },
	{ NULL, NULL },
};

static const struct mc_metric_owner dlq_metrics = {
	.families = dlq_families,
	.view = dlq_metrics_view,
};

const struct mc_cmd mc_cmd_dlq = {
	.examples =
	"Depths and the oldest dead letter's age of every DLQ:\n"
	"$ mercuryctl dlq stats\n"
	"What a replay would do with each message, without moving one:\n"
	"$ mercuryctl dlq replay alerter --dry-run\n"
	"Replay at most 1000 messages at 200 a second, waiting while the work "
	"queue is too deep:\n"
	"$ mercuryctl dlq replay alerter --limit 1000 --rate 200/s --defer\n"
	"Read the terminal list, then empty it:\n"
	"$ mercuryctl dlq peek alerter --dead -n 5\n"
	"$ mercuryctl dlq purge alerter\n",
	.name = "dlq",
	.summary = "Inspect and replay dead-letter queues in Redis",
	.description =
	"A DLQ is three Redis lists named in a [dlq \"NAME\"] section: source "
	"(dead letters), target (the work queue) and dead (terminal). When a "
	"command names no DLQ and exactly one is configured, that one is "
	"meant.",
	.subs = dlq_subs,
	.metrics = &dlq_metrics,
};
