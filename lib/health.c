/* health.c - check selection, the built-in check types, reports. */
#include "health.h"
#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

const char *mc_status_name(int status)
{
	static const char *const names[] = { "ok", "warning", "critical",
					     "unknown" };

	return status >= 0 && status <= 3 ? names[status] : "unknown";
}

const char *mc_run_status_name(int status)
{
	static const char *const names[] = { "ok", "degraded", "unavailable",
					     "unknown" };

	return status >= 0 && status <= 3 ? names[status] : "unknown";
}

static void result_msg(struct mc_check_result *r, int status,
		       const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void result_msg(struct mc_check_result *r, int status,
		       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	free(r->message);
	r->message = mc_vasprintf(fmt, ap);
	va_end(ap);
	r->status = status;
}

/* Status of a value against "at or above" thresholds. */
static int over(double v, double warn, double crit)
{
	if (v >= crit)
		return MC_ST_CRITICAL;
	if (v >= warn)
		return MC_ST_WARNING;
	return MC_ST_OK;
}

static void human_bytes(double v, char *buf, size_t size)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB",
					     "PiB" };
	size_t u = 0;

	while (v >= 1024 && u + 1 < MC_ARRAY_LEN(units)) {
		v /= 1024;
		u++;
	}
	snprintf(buf, size, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

/* ---- built-in check types ----------------------------------------------- */

static void run_state(const struct mc_check *c, const struct mc_health_env *env,
		      struct mc_check_result *r)
{
	sqlite3 *db = env->st ? mc_state_db(env->st) : NULL;
	sqlite3_stmt *s = NULL;
	const char *verdict = NULL;
	long long runs = 0;
	struct stat sb;
	char size[32] = "?";

	(void)c;
	if (db == NULL) {
		result_msg(r, MC_ST_CRITICAL, "state file not open");
		return;
	}
	if (sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &s, NULL) !=
	    SQLITE_OK || sqlite3_step(s) != SQLITE_ROW) {
		result_msg(r, MC_ST_CRITICAL, "quick_check failed: %s",
			   sqlite3_errmsg(db));
		sqlite3_finalize(s);
		return;
	}
	verdict = (const char *)sqlite3_column_text(s, 0);
	if (!mc_streq(verdict, "ok")) {
		result_msg(r, MC_ST_CRITICAL, "quick_check: %s",
			   verdict ? verdict : "no answer");
		sqlite3_finalize(s);
		return;
	}
	sqlite3_finalize(s);
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM runs", -1, &s,
			       NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		runs = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (stat(mc_state_path(env->st), &sb) == 0)
		human_bytes((double)sb.st_size, size, sizeof(size));
	r->has_value = 1;
	r->value = (double)runs;
	r->unit = "";
	result_msg(r, MC_ST_OK, "schema v%d, %lld runs recorded, %s",
		   mc_state_schema_version(), runs, size);
}

static void run_disk(const struct mc_check *c, const struct mc_health_env *env,
		     struct mc_check_result *r)
{
	struct statvfs vfs;
	double total, used, pct;
	char tot[32];

	(void)env;
	if (statvfs(c->path, &vfs) < 0) {
		result_msg(r, MC_ST_UNKNOWN, "cannot stat %s: %s", c->path,
			   strerror(errno));
		return;
	}
	/* As df(1): used / (used + available to unprivileged users). */
	used = (double)(vfs.f_blocks - vfs.f_bfree) * (double)vfs.f_frsize;
	total = used + (double)vfs.f_bavail * (double)vfs.f_frsize;
	pct = total > 0 ? 100.0 * used / total : 0;
	human_bytes(total, tot, sizeof(tot));
	r->has_value = 1;
	r->value = pct;
	r->unit = "%";
	result_msg(r, over(pct, c->warn, c->crit),
		   "%.1f%% used of %s at %s (warn %g%%, crit %g%%)", pct, tot,
		   c->path, c->warn, c->crit);
}

static void run_memory(const struct mc_check *c, const struct mc_health_env *env,
		       struct mc_check_result *r)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	unsigned long long total = 0, avail = 0, v;
	double pct;
	char tot[32];

	(void)env;
	if (f == NULL) {
		result_msg(r, MC_ST_UNKNOWN, "cannot read /proc/meminfo: %s",
			   strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "MemTotal: %llu kB", &v) == 1)
			total = v;
		else if (sscanf(line, "MemAvailable: %llu kB", &v) == 1)
			avail = v;
	}
	fclose(f);
	if (total == 0 || avail > total) {
		result_msg(r, MC_ST_UNKNOWN,
			   "/proc/meminfo has no MemTotal/MemAvailable");
		return;
	}
	pct = 100.0 * (double)(total - avail) / (double)total;
	human_bytes((double)total * 1024, tot, sizeof(tot));
	r->has_value = 1;
	r->value = pct;
	r->unit = "%";
	result_msg(r, over(pct, c->warn, c->crit),
		   "%.1f%% used of %s (warn %g%%, crit %g%%)", pct, tot, c->warn,
		   c->crit);
}

static const struct mc_check_type check_types[] = {
	{ "state", run_state },
	{ "disk", run_disk },
	{ "memory", run_memory },
};

static const struct mc_check_type *find_type(const char *name)
{
	for (size_t i = 0; i < MC_ARRAY_LEN(check_types); i++)
		if (mc_streq(check_types[i].name, name))
			return &check_types[i];
	return NULL;
}

/* ---- selection ---------------------------------------------------------- */

static char *default_disk_path(struct mc_state *st)
{
	char *p, *slash;

	if (st)
		return mc_strdup(mc_state_dir(st));
	p = mc_state_default_path();
	slash = strrchr(p, '/');
	if (slash && slash != p)
		*slash = '\0';
	return p;
}

static void add_check(struct mc_health *h, const char *name, const char *type,
		      const struct mc_conf_section *sec, struct mc_state *st)
{
	struct mc_check *c;

	h->checks = mc_realloc(h->checks, (h->n + 1) * sizeof(*h->checks));
	c = &h->checks[h->n++];
	memset(c, 0, sizeof(*c));
	c->name = mc_strdup(name);
	c->type = find_type(type);
	c->sec = sec;
	c->critical = sec ? mc_conf_bool(sec, "critical", 0)
			  : strcmp(type, "state") == 0;
	c->timeout_ms = sec ? mc_conf_ms(sec, "timeout", 2000) : 2000;
	c->warn = 90;
	c->crit = 95;
	if (sec && (strcmp(type, "disk") == 0 || strcmp(type, "memory") == 0)) {
		c->warn = mc_conf_double(sec, "warn", 90);
		c->crit = mc_conf_double(sec, "crit", 95);
	}
	if (strcmp(type, "disk") == 0) {
		const char *p = sec ? mc_conf_str(sec, "path") : NULL;

		c->path = p ? mc_strdup(p) : default_disk_path(st);
	}
}

int mc_health_select(const struct mc_conf *conf, struct mc_state *st,
		     const char *const *names, size_t n_names,
		     int critical_only, struct mc_health *h,
		     struct mc_err *err)
{
	const struct mc_conf_section *sec = NULL;
	struct mc_health all = { 0 };

	memset(h, 0, sizeof(*h));
	while ((sec = mc_conf_next(conf, "check", sec)) != NULL)
		add_check(&all, sec->name, mc_conf_str(sec, "type"), sec, st);
	if (all.n == 0) {
		/* No checks configured: the built-in defaults serve. */
		add_check(&all, "state", "state", NULL, st);
		add_check(&all, "disk", "disk", NULL, st);
		add_check(&all, "memory", "memory", NULL, st);
	}
	for (size_t i = 0; i < n_names; i++) {
		size_t k;

		for (k = 0; k < all.n; k++)
			if (strcmp(all.checks[k].name, names[i]) == 0)
				break;
		if (k == all.n) {
			const char **cands = mc_calloc(all.n, sizeof(*cands));
			const char *near;

			for (k = 0; k < all.n; k++)
				cands[k] = all.checks[k].name;
			near = mc_suggest(names[i], cands, all.n);
			mc_err_set(err, MC_EXIT_USAGE,
				   "health: no check named '%s' is configured%s%s%s",
				   names[i], near ? " (did you mean '" : "",
				   near ? near : "", near ? "'?)" : "");
			free(cands);
			mc_health_free(&all);
			return -1;
		}
	}
	/* Keep the selected ones, in configuration order. */
	for (size_t k = 0; k < all.n; k++) {
		struct mc_check *c = &all.checks[k];
		int keep = n_names == 0;

		for (size_t i = 0; i < n_names; i++)
			keep |= strcmp(c->name, names[i]) == 0;
		if (critical_only && !c->critical)
			keep = 0;
		if (keep) {
			h->checks = mc_realloc(h->checks,
					       (h->n + 1) * sizeof(*h->checks));
			h->checks[h->n++] = *c;
		} else {
			free(c->name);
			free(c->path);
		}
	}
	free(all.checks);
	h->results = mc_calloc(h->n ? h->n : 1, sizeof(*h->results));
	for (size_t i = 0; i < h->n; i++)
		h->results[i].check = &h->checks[i];
	return 0;
}

void mc_health_run(struct mc_health *h, const struct mc_health_env *env)
{
	double t0 = mc_mono_now();
	int crit_fail = 0, degraded = 0, unknown = 0;

	h->started = mc_wall_now();
	for (size_t i = 0; i < h->n; i++) {
		struct mc_check_result *r = &h->results[i];
		const struct mc_check *c = &h->checks[i];
		double s = mc_mono_now();

		if (mc_interrupted || mc_deadline_passed(env->dl)) {
			result_msg(r, MC_ST_UNKNOWN, mc_interrupted ?
				   "not run: interrupted" :
				   "not run: the run's deadline passed");
		} else {
			c->type->run(c, env, r);
		}
		r->latency_ms = (mc_mono_now() - s) * 1e3;
	}
	for (size_t i = 0; i < h->n; i++) {
		int st = h->results[i].status;

		if (st == MC_ST_UNKNOWN)
			unknown = 1;
		else if (st == MC_ST_CRITICAL && h->checks[i].critical)
			crit_fail = 1;
		else if (st != MC_ST_OK)
			degraded = 1;
	}
	h->status = crit_fail ? MC_RUN_UNAVAILABLE : degraded ? MC_RUN_DEGRADED
			      : unknown ? MC_RUN_UNKNOWN : MC_RUN_OK;
	h->duration_ms = (mc_mono_now() - t0) * 1e3;
}

int mc_health_record(struct mc_state *st, int64_t run_id,
		     const struct mc_health *h, struct mc_err *err)
{
	sqlite3 *db = mc_state_db(st);
	sqlite3_stmt *s = NULL;

	if (mc_state_begin(st, err) < 0)
		return -1;
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO check_results (run_id, ts, check_name,"
			       " type, status, critical, latency_ms, message, value)"
			       " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", -1, &s,
			       NULL) != SQLITE_OK)
		goto fail;
	for (size_t i = 0; i < h->n; i++) {
		const struct mc_check_result *r = &h->results[i];
		char *msg = mc_redact(r->message ? r->message : "");

		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, run_id);
		sqlite3_bind_double(s, 2, h->started);
		sqlite3_bind_text(s, 3, r->check->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, r->check->type->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 5, mc_status_name(r->status), -1,
				  SQLITE_STATIC);
		sqlite3_bind_int(s, 6, r->check->critical);
		sqlite3_bind_double(s, 7, r->latency_ms);
		sqlite3_bind_text(s, 8, msg, -1, SQLITE_TRANSIENT);
		if (r->has_value)
			sqlite3_bind_double(s, 9, r->value);
		else
			sqlite3_bind_null(s, 9);
		free(msg);
		if (sqlite3_step(s) != SQLITE_DONE)
			goto fail;
	}
	sqlite3_finalize(s);
	return mc_state_commit(st, err);
fail:
	mc_state_sqlerr(st, err, "recording check results");
	sqlite3_finalize(s);
	mc_state_rollback(st);
	return -1;
}

void mc_health_free(struct mc_health *h)
{
	for (size_t i = 0; i < h->n; i++) {
		free(h->checks[i].name);
		free(h->checks[i].path);
		if (h->results)
			free(h->results[i].message);
	}
	free(h->checks);
	free(h->results);
	memset(h, 0, sizeof(*h));
}

/* ---- reports ------------------------------------------------------------ */

static int health_cell_color(size_t col, const char *cell)
{
	return col == 2 ? mc_status_color(cell) : 0;
}

/* A perfdata label: quoted when it has spaces or quotes (Nagios rules). */
static void perf_label(struct mc_buf *b, const char *name, const char *suffix)
{
	int quote = strpbrk(name, " '=") != NULL;

	if (quote)
		mc_buf_puts(b, "'");
	for (const char *p = name; *p; p++)
		mc_buf_add(b, *p == '\'' ? "\"" : p, 1);
	mc_buf_puts(b, suffix);
	if (quote)
		mc_buf_puts(b, "'");
}

void mc_health_report(const struct mc_health *h, const char *correlation_id,
		      struct mc_report *r)
{
	static const char *const headers[] = { "CHECK", "TYPE", "STATUS",
					       "LATENCY", "MESSAGE" };
	json_t *checks = json_object();
	struct mc_table *t = mc_table_new(5, headers);
	struct mc_buf perf = { 0 };
	char ts[40];
	size_t counts[4] = { 0 };

	mc_format_time(h->started, ts, sizeof(ts));
	json_object_set_new(r->doc, "status",
			    json_string(mc_run_status_name(h->status)));
	json_object_set_new(r->doc, "timestamp", json_string(ts));
	json_object_set_new(r->doc, "correlation_id",
			    json_string(correlation_id));
	json_object_set_new(r->doc, "duration_ms", json_real(h->duration_ms));
	for (size_t i = 0; i < h->n; i++) {
		const struct mc_check_result *res = &h->results[i];
		const struct mc_check *c = res->check;
		json_t *o = json_object();
		char lat[32], *label = mc_prom_label(c->name), *labels;
		const char *cells[5];

		counts[res->status & 3]++;
		json_object_set_new(o, "type", json_string(c->type->name));
		json_object_set_new(o, "status",
				    json_string(mc_status_name(res->status)));
		json_object_set_new(o, "critical", json_boolean(c->critical));
		json_object_set_new(o, "latency_ms", json_real(res->latency_ms));
		json_object_set_new(o, "message", json_string(res->message ?
							     res->message : ""));
		if (res->has_value)
			json_object_set_new(o, "value", json_real(res->value));
		json_object_set_new(checks, c->name, o);

		snprintf(lat, sizeof(lat), "%.1fms", res->latency_ms);
		cells[0] = c->name;
		cells[1] = c->type->name;
		cells[2] = mc_status_name(res->status);
		cells[3] = lat;
		cells[4] = res->message ? res->message : "";
		mc_table_row(t, cells);

		labels = mc_asprintf("check=\"%s\",type=\"%s\"", label,
				     c->type->name);
		mc_prom_sample(&r->prom, "mercury_check_status", "gauge",
			       "Check status: 0 ok, 1 warning, 2 critical, 3 unknown.",
			       labels, res->status);
		mc_prom_sample(&r->prom, "mercury_check_latency_seconds", "gauge",
			       "How long the check took.", labels,
			       res->latency_ms / 1e3);
		if (res->has_value)
			mc_prom_sample(&r->prom, "mercury_check_value", "gauge",
				       "The value the check measured.", labels,
				       res->value);
		free(labels);
		free(label);

		mc_buf_puts(&perf, " ");
		perf_label(&perf, c->name, "_latency");
		mc_buf_printf(&perf, "=%.3fms", res->latency_ms);
		if (res->has_value) {
			mc_buf_puts(&perf, " ");
			perf_label(&perf, c->name, "");
			if (mc_streq(res->unit, "%"))
				mc_buf_printf(&perf, "=%.2f%%;%g;%g;0;100",
					      res->value, c->warn, c->crit);
			else
				mc_buf_printf(&perf, "=%g", res->value);
		}
	}
	json_object_set_new(r->doc, "checks", checks);
	mc_prom_sample(&r->prom, "mercury_health_status", "gauge",
		       "Run status: 0 ok, 1 degraded, 2 unavailable, 3 unknown.",
		       NULL, h->status);
	mc_table_render(t, &r->text, r->color, health_cell_color);
	mc_table_free(t);
	mc_buf_printf(&r->text, "health: %s (%zu check%s, %.1f ms)\n",
		      mc_run_status_name(h->status), h->n, h->n == 1 ? "" : "s",
		      h->duration_ms);
	{
		struct mc_buf line = { 0 };
		char up[16];
		size_t bad = counts[1] + counts[2] + counts[3];
		const char *name = mc_run_status_name(h->status);

		for (size_t i = 0; name[i] && i < sizeof(up) - 1; i++)
			up[i] = (char)(name[i] >= 'a' && name[i] <= 'z' ?
				       name[i] - 32 : name[i]);
		up[strlen(name) < sizeof(up) ? strlen(name) : sizeof(up) - 1] = 0;
		if (bad == 0) {
			mc_buf_printf(&line, "HEALTH %s - %zu of %zu checks ok", up,
				      counts[0], h->n);
		} else {
			const char *sep = "";

			mc_buf_printf(&line, "HEALTH %s - ", up);
			for (int s = 2; s >= 1; s--) {
				if (counts[s] == 0)
					continue;
				mc_buf_printf(&line, "%s%zu of %zu checks %s", sep,
					      counts[s], h->n, mc_status_name(s));
				sep = ", ";
			}
			if (counts[3]) {
				mc_buf_printf(&line, "%s%zu of %zu checks unknown", sep,
					      counts[3], h->n);
			}
			sep = ": ";
			for (size_t i = 0; i < h->n; i++) {
				if (h->results[i].status == MC_ST_OK)
					continue;
				mc_buf_printf(&line, "%s%s %s", sep,
					      h->checks[i].name,
					      h->results[i].message ?
					      h->results[i].message : "");
				sep = "; ";
			}
		}
		/* A '|' in a message would start the perfdata early. */
		for (char *p = line.data; *p; p++)
			if (*p == '|' || *p == '\n')
				*p = '/';
		mc_buf_printf(&line, " |%s", perf.data ? perf.data : "");
		r->nagios = mc_buf_steal(&line);
	}
	mc_buf_free(&perf);
}
