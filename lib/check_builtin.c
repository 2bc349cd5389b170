/*
 * check_builtin.c - the check types that need no server: state (the state
 * file's integrity), disk and memory (used percentages). These three are
 * also the checks that serve when the configuration names none.
 */
#include "check.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

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
		mc_check_set(r, MC_ST_CRITICAL, "state file not open");
		return;
	}
	if (sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &s, NULL) !=
	    SQLITE_OK || sqlite3_step(s) != SQLITE_ROW) {
		mc_check_set(r, MC_ST_CRITICAL, "quick_check failed: %s",
			   sqlite3_errmsg(db));
		sqlite3_finalize(s);
		return;
	}
	verdict = (const char *)sqlite3_column_text(s, 0);
	if (!mc_streq(verdict, "ok")) {
		mc_check_set(r, MC_ST_CRITICAL, "quick_check: %s",
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
	/* perfdata state_runs=N: a count, not a status */
	r->value_name = "runs";
	mc_check_set(r, MC_ST_OK, "schema v%d, %lld run%s recorded, %s",
		   mc_state_schema_version(), runs, runs == 1 ? "" : "s", size);
}

static void run_disk(const struct mc_check *c, const struct mc_health_env *env,
		     struct mc_check_result *r)
{
	struct statvfs vfs;
	double total, used, pct;
	char tot[32], eb[128];

	(void)env;
	if (statvfs(c->path, &vfs) < 0) {
		mc_check_set(r, MC_ST_UNKNOWN, "cannot stat %s: %s", c->path,
			   mc_strerror(errno, eb, sizeof(eb)));
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
	mc_check_set(r, mc_range_status(&c->warn, &c->crit, pct),
		     "%.1f%% used of %s at %s", pct, tot, c->path);
}

static void run_memory(const struct mc_check *c, const struct mc_health_env *env,
		       struct mc_check_result *r)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	unsigned long long total = 0, avail = 0, v;
	double pct;
	char tot[32], eb[128];

	(void)env;
	if (f == NULL) {
		mc_check_set(r, MC_ST_UNKNOWN, "cannot read /proc/meminfo: %s",
			   mc_strerror(errno, eb, sizeof(eb)));
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
		mc_check_set(r, MC_ST_UNKNOWN,
			   "/proc/meminfo has no MemTotal/MemAvailable");
		return;
	}
	pct = 100.0 * (double)(total - avail) / (double)total;
	human_bytes((double)total * 1024, tot, sizeof(tot));
	r->has_value = 1;
	r->value = pct;
	r->unit = "%";
	mc_check_set(r, mc_range_status(&c->warn, &c->crit, pct),
		     "%.1f%% used of %s", pct, tot);
}

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

/* A disk check without a path watches the state file's directory. */
static void setup_disk(struct mc_check *c, struct mc_state *st)
{
	const char *p = c->sec ? mc_conf_str(c->sec, "path") : NULL;

	c->path = p ? mc_strdup(p) : default_disk_path(st);
}

/* Disk and memory thresholds are used percentages. */
static int validate_percent(const struct mc_conf_section *s, const char **key,
			    char *why, size_t size)
{
	static const char *const keys[] = { "warn", "crit" };

	for (size_t i = 0; i < 2; i++) {
		struct mc_range r;

		if (!mc_conf_range(s, keys[i], &r) ||
		    (r.lo >= 0 && r.hi <= 100) ||
		    ((r.flags & MC_RANGE_PLAIN) && r.hi >= 0 &&
		     r.hi <= 100))
			continue;
		*key = keys[i];
		snprintf(why, size, "'%s' is a used percentage: 0 to "
			 "100, not '%s'", keys[i],
			 mc_conf_str(s, keys[i]));
		return -1;
	}
	return 0;
}

#define PERCENT_KEYS \
	{ .name = "warn", .type = MC_CT_THRESHOLD, .def = "90", \
	  .help = "used percentage at which the check warns (a Nagios range)" }, \
	{ .name = "crit", .type = MC_CT_THRESHOLD, .def = "95", \
	  .help = "used percentage at which the check is critical (a Nagios " \
		  "range)" }

static const struct mc_conf_key disk_keys[] = {
	{ .name = "path", .type = MC_CT_PATH,
	  .help = "a path on the filesystem to check (default: the state "
		  "file's directory)" },
	PERCENT_KEYS,
	{ .name = NULL },
};

static const struct mc_conf_key memory_keys[] = {
	PERCENT_KEYS,
	{ .name = NULL },
};

const struct mc_check_type mc_check_state = {
	.name = "state",
	.flags = MC_CHECK_MAIN | MC_CHECK_DEFAULT | MC_CHECK_DEFAULT_CRITICAL,
	.run = run_state,
};

const struct mc_check_type mc_check_disk = {
	.name = "disk",
	.flags = MC_CHECK_DEFAULT,
	.run = run_disk,
	.keys = disk_keys,
	.validate = validate_percent,
	.setup = setup_disk,
};

const struct mc_check_type mc_check_memory = {
	.name = "memory",
	.flags = MC_CHECK_DEFAULT,
	.run = run_memory,
	.keys = memory_keys,
	.validate = validate_percent,
};
