/* health_history.c - see health_history.h. */
#include "health_history.h"
#include "spark.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The widest LAST FAILURE cell, in display columns. */
#define FAILURE_COLS 48

/* "7d", "36h", "1d12h": days rather than weeks, as people write --since. */
static void format_span(double seconds, char *buf, size_t size)
{
	mc_format_duration_days((int64_t)llround(seconds * 1000), buf, size);
}

/* ---- query and aggregation ---------------------------------------------- */

static void start_check(struct mc_check_history *h, const char *name,
			size_t width)
{
	memset(h, 0, sizeof(*h));
	h->name = mc_strdup(name);
	h->current = -1;
	if (width > 0) {
		h->buckets = mc_malloc(width * sizeof(*h->buckets));
		for (size_t i = 0; i < width; i++)
			h->buckets[i] = -1;
	}
}

static void add_sample(struct mc_check_history *h, sqlite3_stmt *s,
		       double start, double end, size_t width)
{
	const char *type = mc_state_column_text(s, 1);
	double ts = sqlite3_column_double(s, 2);
	int status = mc_status_parse(mc_state_column_text(s, 3));

	if (h->type == NULL || strcmp(h->type, type) != 0) {
		free(h->type);
		h->type = mc_strdup(type);
	}
	if (h->samples == 0)
		h->first_ts = ts;
	else if (status != h->current)
		h->transitions++;
	h->samples++;
	h->last_ts = ts;
	h->current = status;
	if (status == MC_ST_OK) {
		h->ok++;
	} else {
		/* Rows come oldest first: the last one seen is the newest. */
		h->last_failure_ts = ts;
		free(h->last_failure_status);
		free(h->last_failure_msg);
		h->last_failure_status = mc_strdup(mc_status_name(status));
		h->last_failure_msg = mc_strdup(mc_state_column_text(s, 4));
	}
	if (width > 0) {
		size_t cell = mc_spark_cell(ts, start, end, width);
		int *b = &h->buckets[cell];

		if (*b < 0 || mc_spark_status_rank(status) >
			      mc_spark_status_rank(*b))
			*b = status;
		h->last_cell = cell;
	}
}

static void finish_check(struct mc_check_history *h, size_t width)
{
	struct mc_buf b = { 0 };

	h->uptime_pct = h->samples ? 100.0 * (double)h->ok /
					     (double)h->samples : 0;
	/* The line ends where the check stands now: a check that recovered
	 * ends in ok, not in the worst of its last cell (the failure is in
	 * TRANSITIONS and LAST FAILURE). */
	if (width > 0 && h->samples > 0)
		h->buckets[h->last_cell] = h->current;
	mc_buf_puts(&b, "");
	for (size_t i = 0; i < width; i++)
		mc_buf_puts(&b, mc_spark_status_glyph(h->buckets[i]));
	h->sparkline = mc_buf_steal(&b);
}

/* The statement: rows of the span oldest first per check, each carrying
 * the span's oldest sample (for since == 0). ?1 since, ?2 now, ?3 the
 * samples per check (last > 0 only), ?4.. names. The index
 * check_results(check_name, ts) gives the order without a sort. */
static char *build_sql(size_t n_names, size_t last)
{
	struct mc_buf where = { 0 };
	char *sql;

	mc_buf_puts(&where, "ts >= ?1 AND ts <= ?2");
	if (n_names > 0) {
		mc_buf_puts(&where, " AND check_name IN (");
		for (size_t i = 0; i < n_names; i++)
			mc_buf_printf(&where, "%s?%zu", i ? ", " : "", i + 4);
		mc_buf_puts(&where, ")");
	}
	if (last > 0)		/* each check's newest ?3, then oldest first */
		sql = mc_asprintf("SELECT check_name, type, ts, status, message,"
				  " min(ts) OVER () FROM (SELECT check_name,"
				  " type, ts, status, message, id, row_number()"
				  " OVER (PARTITION BY check_name ORDER BY ts"
				  " DESC, id DESC) AS nth FROM check_results"
				  " WHERE %s) WHERE nth <= ?3"
				  " ORDER BY check_name, ts, id", where.data);
	else
		sql = mc_asprintf("SELECT check_name, type, ts, status, message,"
				  " (SELECT min(ts) FROM check_results WHERE %s)"
				  " FROM check_results WHERE %s"
				  " ORDER BY check_name, ts, id",
				  where.data, where.data);
	mc_buf_release(&where);
	return sql;
}

int mc_health_history(struct mc_state *st, const char *const *names,
		      size_t n_names, double since, double now, size_t width,
		      struct mc_check_history **out, size_t *n,
		      struct mc_err *err)
{
	return mc_health_history_last(st, names, n_names, since, now, width, 0,
				      out, n, err);
}

int mc_health_history_last(struct mc_state *st, const char *const *names,
			   size_t n_names, double since, double now,
			   size_t width, size_t last,
			   struct mc_check_history **out, size_t *n,
			   struct mc_err *err)
{
	static const char what[] = "cannot read check history";
	struct mc_check_history *hs = NULL;
	size_t len = 0, cap = 0;
	double start = since;
	sqlite3_stmt *s = NULL;
	char *sql;
	int rc;

	*out = NULL;
	*n = 0;
	if (since < 0)
		since = start = 0;
	if (n_names > 32000)
		return mc_err_set(err, MC_EXIT_USAGE, "too many check names");
	sql = build_sql(n_names, last);
	rc = sqlite3_prepare_v2(mc_state_db(st), sql, -1, &s, NULL);
	free(sql);
	if (rc != SQLITE_OK)
		return mc_state_sqlerr(st, err, what);
	sqlite3_bind_double(s, 1, since);
	sqlite3_bind_double(s, 2, now);
	if (last > 0)
		sqlite3_bind_int64(s, 3, last > INT64_MAX ? INT64_MAX :
				   (sqlite3_int64)last);
	for (size_t i = 0; i < n_names; i++)
		sqlite3_bind_text(s, (int)i + 4, names[i], -1,
				  SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *name = mc_state_column_text(s, 0);

		if (len == 0) {
			if (since <= 0)
				start = sqlite3_column_double(s, 5);
		}
		if (len == 0 || strcmp(hs[len - 1].name, name) != 0) {
			if (len > 0)
				finish_check(&hs[len - 1], width);
			if (len == cap) {
				cap = cap ? cap * 2 : 8;
				hs = mc_realloc(hs, cap * sizeof(*hs));
			}
			start_check(&hs[len++], name, width);
		}
		add_sample(&hs[len - 1], s, start, now, width);
	}
	if (rc != SQLITE_DONE) {
		mc_state_sqlerr(st, err, what);
		sqlite3_finalize(s);
		/* The last entry has no sparkline yet; free copes. */
		mc_health_history_free(hs, len);
		return -1;
	}
	sqlite3_finalize(s);
	if (len > 0)
		finish_check(&hs[len - 1], width);

	/* Every name asked for must have shown up. */
	for (size_t i = 0; i < n_names; i++) {
		size_t j = 0;

		while (j < len && strcmp(hs[j].name, names[i]) != 0)
			j++;
		if (j < len)
			continue;
		if (since > 0) {
			char span[64];

			format_span(now - since, span, sizeof(span));
			mc_err_set(err, MC_EXIT_USAGE,
				   "no results for check '%s' in the last %s",
				   names[i], span);
		} else {
			mc_err_set(err, MC_EXIT_USAGE,
				   "no results for check '%s'", names[i]);
		}
		mc_health_history_free(hs, len);
		return -1;
	}
	*out = hs;
	*n = len;
	return 0;
}

void mc_health_history_free(struct mc_check_history *h, size_t n)
{
	if (h == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free(h[i].name);
		free(h[i].type);
		free(h[i].last_failure_status);
		free(h[i].last_failure_msg);
		free(h[i].sparkline);
		free(h[i].buckets);
	}
	free(h);
}

/* ---- rendering ---------------------------------------------------------- */

/* s cut to at most cols (> 0) display columns, ending in "…" when cut;
 * control characters become spaces, so a multi-line message reads as one
 * line. Caller frees. */
static char *fit_cell(const char *s, size_t cols)
{
	char *t = mc_strdup(s), *cut;

	for (char *p = t; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7F)
			*p = ' ';
	cut = mc_column_text(t, cols);
	free(t);
	return cut;
}

/* RFC 3339 to the second, for the text table. */
static void format_second(double wall, char *buf, size_t size)
{
	mc_format_time_text(wall, buf, size);
}

static double span_start(const struct mc_check_history *h, size_t n,
			 double since)
{
	double start = since;

	if (since > 0)
		return since;
	for (size_t i = 0; i < n; i++)
		if (i == 0 || h[i].first_ts < start)
			start = h[i].first_ts;
	return start;
}

static json_t *check_json(const struct mc_check_history *h, size_t width)
{
	json_t *o = json_object(), *buckets = json_array();
	char ts[40];

	json_object_set_new(o, "type", mc_json_str(h->type ? h->type : ""));
	json_object_set_new(o, "samples", json_integer((json_int_t)h->samples));
	json_object_set_new(o, "uptime_pct", json_real(h->uptime_pct));
	json_object_set_new(o, "transitions",
			    json_integer((json_int_t)h->transitions));
	json_object_set_new(o, "current", mc_json_str(
		mc_status_name(h->current)));
	if (h->last_failure_status) {
		json_t *f = json_object();

		mc_format_time(h->last_failure_ts, ts, sizeof(ts));
		json_object_set_new(f, "ts", mc_json_str(ts));
		json_object_set_new(f, "status",
				    mc_json_str(h->last_failure_status));
		json_object_set_new(f, "message", mc_json_str(
			h->last_failure_msg ? h->last_failure_msg : ""));
		json_object_set_new(o, "last_failure", f);
	} else {
		json_object_set_new(o, "last_failure", json_null());
	}
	for (size_t i = 0; i < width; i++)
		json_array_append_new(buckets, h->buckets[i] < 0 ? json_null() :
				      mc_json_str(mc_status_name(
					      h->buckets[i])));
	json_object_set_new(o, "buckets", buckets);
	json_object_set_new(o, "sparkline",
			    mc_json_str(h->sparkline ? h->sparkline : ""));
	return o;
}

/* The sparkline's cells, each in its status colour. */
static void colour_sparkline(struct mc_buf *out, const int *buckets,
			     size_t width)
{
	for (size_t i = 0; i < width; i++) {
		int b = buckets[i];

		if (b < 0)
			mc_buf_puts(out, mc_spark_none);
		else
			mc_buf_printf(out, "\033[%dm%s\033[0m",
				      mc_status_color(mc_status_name(b)),
				      mc_spark_status_glyph(b));
	}
}

static void legend(struct mc_buf *out, int color)
{
	static const int order[] = { MC_ST_OK, MC_ST_WARNING, MC_ST_UNKNOWN,
				     MC_ST_CRITICAL };

	mc_buf_puts(out, "legend:");
	for (size_t i = 0; i < MC_ARRAY_LEN(order); i++) {
		int st = order[i];

		if (color)
			mc_buf_printf(out, " \033[%dm%s\033[0m %s",
				      mc_status_color(mc_status_name(st)),
				      mc_spark_status_glyph(st), mc_status_name(st));
		else
			mc_buf_printf(out, " %s %s", mc_spark_status_glyph(st),
				      mc_status_name(st));
	}
	mc_buf_printf(out, " %s no data", mc_spark_none);
}

/* The NOW column in its status colour. */
static int now_color(size_t col, const char *cell)
{
	return col == 2 ? mc_status_color(cell) : 0;
}

void mc_health_history_report(const struct mc_check_history *h, size_t n,
			      double since, double now, struct mc_report *r)
{
	static const char *const headers[] = {
		"CHECK", "TYPE", "NOW", "UPTIME", "TRANSITIONS",
		"LAST FAILURE", "SPARKLINE",
	};
	double start = span_start(h, n, since);
	size_t width = n > 0 && h[0].sparkline ? mc_utf8_chars(h[0].sparkline) : 0;
	json_t *checks = json_object();
	struct mc_table *t;
	struct mc_buf table = { 0 };
	char from[40], to[40];

	mc_report_span(r, since, now);
	for (size_t i = 0; i < n; i++)
		mc_json_set(checks, h[i].name,
			    check_json(&h[i], width));
	json_object_set_new(r->doc, "checks", checks);

	if (n == 0) {
		mc_buf_puts(&r->text, since > 0 ?
			    "no check results in the span\n" :
			    "no check results recorded\n");
		return;
	}
	t = mc_table_new(MC_ARRAY_LEN(headers), headers);
	for (size_t i = 0; i < n; i++) {
		char uptime[32], trans[32], when[40], *failure, *line;
		const char *row[MC_ARRAY_LEN(headers)];

		/* 100.00% only when nothing failed. */
		snprintf(uptime, sizeof(uptime), "%.2f%%",
			 h[i].ok < h[i].samples ?
			 fmin(h[i].uptime_pct, 99.99) : h[i].uptime_pct);
		snprintf(trans, sizeof(trans), "%zu", h[i].transitions);
		if (h[i].last_failure_status) {
			format_second(h[i].last_failure_ts, when,
				      sizeof(when));
			line = mc_asprintf("%s %s%s%s", when,
					      h[i].last_failure_status,
					      h[i].last_failure_msg &&
					      *h[i].last_failure_msg ?
					      ": " : "",
					      h[i].last_failure_msg ?
					      h[i].last_failure_msg : "");
			failure = fit_cell(line, FAILURE_COLS);
			free(line);
		} else {
			failure = mc_strdup("-");
		}
		row[0] = h[i].name;
		row[1] = h[i].type;
		row[2] = mc_status_name(h[i].current);
		row[3] = uptime;
		row[4] = trans;
		row[5] = failure;
		row[6] = h[i].sparkline;
		mc_table_row(t, row);
		free(failure);
	}
	mc_table_render(t, &table, r->color, now_color);
	mc_table_free(t);

	if (!r->color) {
		mc_buf_add(&r->text, table.data, table.len);
	} else {
		/* The sparkline is the last column, never padded: each data
		 * line ends with it, so swap it for its coloured cells. */
		const char *p = table.data;
		size_t row = 0;

		while (*p) {
			const char *nl = strchr(p, '\n');
			size_t len = nl ? (size_t)(nl - p) : strlen(p);
			const char *spark = row > 0 ? h[row - 1].sparkline :
							NULL;
			size_t sl = spark ? strlen(spark) : 0;

			if (spark && sl <= len &&
			    memcmp(p + len - sl, spark, sl) == 0) {
				mc_buf_add(&r->text, p, len - sl);
				colour_sparkline(&r->text, h[row - 1].buckets,
						 width);
			} else {
				mc_buf_add(&r->text, p, len);
			}
			mc_buf_puts(&r->text, "\n");
			p += len + (nl ? 1 : 0);
			row++;
		}
	}
	mc_buf_release(&table);

	format_second(start, from, sizeof(from));
	format_second(now, to, sizeof(to));
	legend(&r->text, r->color);
	mc_buf_printf(&r->text, "  (%s .. %s", from, to);
	if (width > 0) {
		char cell[64];

		format_span((now - start) / (double)width, cell, sizeof(cell));
		mc_buf_printf(&r->text, ", %zu cells of %s", width, cell);
	}
	mc_buf_puts(&r->text, ")\n");
}
