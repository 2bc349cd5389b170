/* backup.c - `mercuryctl backup create|list|verify|restore|prune`. */
#include "cmd.h"
#include "backup.h"
#include "coord.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* ---- shared --------------------------------------------------------------- */

static const struct mc_conf_section *backup_section(struct mc_ctx *ctx)
{
	return mc_conf_find(ctx->conf, "backup", NULL);
}

static const char *conf_str(struct mc_ctx *ctx, const char *key)
{
	const struct mc_conf_section *s = backup_section(ctx);

	return s ? mc_conf_str(s, key) : NULL;
}

/* A relative DIR on the command line, made absolute from the current
 * directory (manifests and the catalogue name directories absolutely).
 * The result lives until the process ends: one per option. */
static const char *absolute(struct mc_ctx *ctx, const char *opt,
			    const char *d)
{
	static char buf[2][PATH_MAX];
	char *abs = mc_path_absolute(d);
	char *slot = buf[!strcmp(opt, "--to")];

	if (abs == NULL || strlen(abs) >= PATH_MAX) {
		mc_err_set(&ctx->err, MC_EXIT_USAGE, "%s: cannot make '%s' an "
			   "absolute path: %s", opt, d,
			   abs ? "too long" : strerror(errno));
		free(abs);
		return NULL;
	}
	memcpy(slot, abs, strlen(abs) + 1);
	free(abs);
	return slot;
}

/* Every backup command starts here: the directory (--dest, else [backup]
 * dir) and the run's deadline
 * only when --timeout is given (a large backup outlasts [core] timeout,
 * which is made for checks; sources have timeouts of their own). */
static const char *backup_dir(struct mc_ctx *ctx)
{
	const char *d = mc_args_value(ctx->args, "dest");

	if (mc_args_value(ctx->args, "timeout") == NULL)
		mc_deadline_set(&ctx->dl, 0);
	if (d == NULL)
		d = conf_str(ctx, "dir");
	else if (d[0] != '/')
		d = absolute(ctx, "--dest", d);
	if (d == NULL) {
		if (ctx->err.code == 0)
			mc_err_set(&ctx->err, MC_EXIT_USAGE, "no backup "
				   "directory: give --dest DIR or set [backup] dir");
		return NULL;
	}
	if (!mc_bk_abs_path_safe(d)) {
		mc_err_set(&ctx->err, MC_EXIT_USAGE, "the backup directory must "
			   "be an absolute path without '..', not '%s'", d);
		return NULL;
	}
	return d;
}

static void human_size(uint64_t n, char *buf, size_t size)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	size_t u = 0;

	while (v >= 1024 && u + 1 < MC_ARRAY_LEN(units)) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%llu B", (unsigned long long)n);
	else
		snprintf(buf, size, "%.1f %s", v, units[u]);
}

/* A progress bar on a terminal's stderr, once work has taken a second. */
struct bar {
	double t0, last;
	int shown;
	unsigned spin;
};

static void bar_draw(void *ud, uint64_t done, uint64_t total)
{
	struct bar *b = ud;
	double now = mc_mono_now();
	char d[32], t[32];

	if (now - b->t0 < 1.0 || (b->shown && now - b->last < 0.1))
		return;
	b->last = now;
	b->shown = 1;
	human_size(done, d, sizeof(d));
	if (total == 0 || done > total) {
		/* A source's output: its size is not known before. */
		fprintf(stderr, "\r[%-30.*s] %s ", (int)(b->spin++ % 30) + 1,
			"##############################", d);
		fflush(stderr);
		return;
	}
	human_size(total, t, sizeof(t));
	mc_ctx_bar_draw(done, total, "%3d%% %s / %s ",
			(int)(100.0 * (double)done / (double)total), d, t);
}

static void bar_setup(struct mc_ctx *ctx, struct bar *b, struct mc_bk_io *io)
{
	memset(b, 0, sizeof(*b));
	b->t0 = mc_mono_now();
	io->dl = &ctx->dl;
	if (mc_ctx_bar_wanted(ctx)) {
		io->progress = bar_draw;
		io->ud = b;
	}
}

static void bar_end(struct bar *b)
{
	if (b->shown) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
}

static void json_time(json_t *o, const char *key, double t)
{
	char buf[40];

	mc_format_time(t, buf, sizeof(buf));
	mc_json_set(o, key, mc_json_str(buf));
}

static json_t *manifest_json(const struct mc_bk_manifest *m)
{
	json_t *o = json_object(), *files = json_array();

	json_object_set_new(o, "id", mc_json_str(m->id));
	json_time(o, "created", m->created);
	json_object_set_new(o, "host", mc_json_str(m->host));
	json_object_set_new(o, "note", m->note ? mc_json_str(m->note) :
			    json_null());
	json_object_set_new(o, "files", files);
	json_object_set_new(o, "size",
			    json_integer((json_int_t)mc_bk_manifest_size(m)));
	json_object_set_new(o, "stored",
			    json_integer((json_int_t)mc_bk_manifest_stored(m)));
	json_object_set_new(o, "duration_seconds", json_real(m->duration));
	for (size_t i = 0; i < m->n_files; i++) {
		const struct mc_bk_file *f = &m->files[i];
		json_t *j = json_object();

		json_object_set_new(j, "path", mc_json_str(f->path));
		json_object_set_new(j, "original", f->original ?
				    mc_json_str(f->original) : json_null());
		if (f->source)
			json_object_set_new(j, "source", mc_json_str(f->source));
		json_object_set_new(j, "kind",
				    mc_json_str(mc_bk_kind_name(f->kind)));
		json_object_set_new(j, "size", json_integer((json_int_t)f->size));
		json_object_set_new(j, "stored_size",
				    json_integer((json_int_t)f->stored_size));
		json_object_set_new(j, "sha256_original",
				    mc_json_str(f->sha256_original));
		json_array_append_new(files, j);
	}
	return o;
}

/* The metrics every backup command reports, from the directory (the
 * newest backup) and the catalogue (the last restore drill). */
static void dir_metrics(struct mc_buf *p, struct mc_state *st,
			const char *dir, const struct mc_bk_entry *e, size_t n)
{
	char *d = mc_prom_label(dir);
	char *labels = mc_asprintf("dir=\"%s\"", d);
	const struct mc_bk_manifest *m = NULL;
	size_t count = 0;
	double drill;

	for (size_t i = 0; i < n; i++)
		if (e[i].m) {
			if (m == NULL)
				m = e[i].m;
			count++;
		}
	mc_prom_sample(p, "mercury_backup_count", "gauge",
		       "Backups in the backup directory.", labels,
		       (double)count);
	if (m) {
		mc_prom_sample(p, "mercury_backup_last_success_timestamp_seconds",
			       "gauge", "When the newest backup was made.",
			       labels, m->created);
		mc_prom_sample(p, "mercury_backup_size_bytes", "gauge",
			       "Bytes of the originals in the newest backup.",
			       labels, (double)mc_bk_manifest_size(m));
		mc_prom_sample(p, "mercury_backup_stored_bytes", "gauge",
			       "Bytes the newest backup takes on disk.", labels,
			       (double)mc_bk_manifest_stored(m));
		mc_prom_sample(p, "mercury_backup_duration_seconds", "gauge",
			       "How long the newest backup took to make.",
			       labels, m->duration);
		mc_prom_sample(p, "mercury_backup_files", "gauge",
			       "Files in the newest backup.", labels,
			       (double)m->n_files);
	}
	if (st && (drill = mc_bk_catalog_last_drill(st, dir)) >= 0)
		mc_prom_sample(p, "mercury_backup_restore_test_seconds", "gauge",
			       "How long the last restore drill took (time to "
			       "recover).", labels, drill);
	free(labels);
	free(d);
}

static void backup_metrics(struct mc_ctx *ctx, const char *dir,
			   const struct mc_bk_entry *e, size_t n)
{
	dir_metrics(&ctx->report.prom, ctx->st, dir, e, n);
}

static void add_dir(char ***dirs, size_t *n, char *dir)
{
	if (dir == NULL || !mc_bk_abs_path_safe(dir)) {
		free(dir);
		return;
	}
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*dirs)[i], dir) == 0) {
			free(dir);
			return;
		}
	*dirs = mc_realloc(*dirs, (*n + 1) * sizeof(**dirs));
	(*dirs)[(*n)++] = dir;
}

/* mercuryctl_backup.prom: the metrics of every backup directory - the
 * configured one, this run's --dest, and every one the catalogue holds
 * backups in - read as backup list reads them, whichever subcommand ran.
 * A directory that cannot be read now is left out (its backups are not
 * there to count). */
static int backup_metrics_view(struct mc_ctx *ctx, struct mc_buf *out,
			       struct mc_err *err)
{
	const char *dest = mc_args_value(ctx->args, "dest");
	const char *conf_dir = conf_str(ctx, "dir");
	char **dirs = NULL, **cat = NULL;
	size_t n = 0, n_cat = 0;

	add_dir(&dirs, &n, conf_dir ? mc_strdup(conf_dir) : NULL);
	if (dest)
		add_dir(&dirs, &n, mc_path_absolute(dest));
	if (ctx->st && mc_bk_catalog_dirs(ctx->st, &cat, &n_cat, err) < 0) {
		for (size_t i = 0; i < n; i++)
			free(dirs[i]);
		free(dirs);
		return -1;
	}
	for (size_t i = 0; i < n_cat; i++)
		add_dir(&dirs, &n, cat[i]);
	free(cat);
	for (size_t i = 0; i < n; i++) {
		struct mc_bk_entry *e = NULL;
		struct mc_err le = { 0 };
		size_t ne = 0;

		if (mc_bk_list(dirs[i], &e, &ne, &le) == 0)
			dir_metrics(out, ctx->st, dirs[i], e, ne);
		else
			mc_log(MC_LOG_DEBUG, "metrics: %s", le.msg);
		mc_bk_entries_free(e, ne);
		free(dirs[i]);
	}
	free(dirs);
	return 0;
}

static int list_and_metrics(struct mc_ctx *ctx, const char *dir,
			    struct mc_bk_entry **e, size_t *n)
{
	if (mc_bk_list(dir, e, n, &ctx->err) < 0)
		return -1;
	backup_metrics(ctx, dir, *e, *n);
	return 0;
}

/* The configured sources, borrowed from the configuration. */
static struct mc_bk_source *sources_of(struct mc_ctx *ctx, size_t *n)
{
	const struct mc_conf_section *s = NULL;
	struct mc_bk_source *v = NULL;

	*n = 0;
	while ((s = mc_conf_next(ctx->conf, "backup_source", s)) != NULL) {
		struct mc_bk_source *x;

		v = mc_realloc(v, (*n + 1) * sizeof(*v));
		x = &v[(*n)++];
		x->name = s->name;
		x->command = mc_conf_str(s, "command");
		x->file = mc_conf_str(s, "file") ? mc_conf_str(s, "file") :
			  s->name;
		x->timeout_ms = mc_conf_ms(s, "timeout", 1800000);
		x->restore_command = mc_conf_str(s, "restore_command");
	}
	return v;
}

static const char **list_of(const struct mc_conf_section *s, const char *key,
			    size_t *n)
{
	const char **v = NULL;

	*n = 0;
	if (s == NULL)
		return NULL;
	for (const struct mc_conf_value *x = mc_conf_get(s, key); x && x->raw;
	     x = x->next) {
		v = mc_realloc(v, (*n + 1) * sizeof(*v));
		v[(*n)++] = x->raw;
	}
	return v;
}

/* --wait-lock (checked when the command line was parsed). */
static int64_t lock_wait(struct mc_ctx *ctx)
{
	int64_t ms;

	return mc_ctx_wait_lock_ms(ctx, &ms) < 0 ? 0 : ms;
}

/* ---- prune ------------------------------------------------------------------ */

static int policy_from_flags(struct mc_ctx *ctx, struct mc_bk_policy *p)
{
	static const struct {
		const char *flag, *key;
		size_t off;
	} ints[] = {
		{ "keep-last", "keep_last", offsetof(struct mc_bk_policy, last) },
		{ "keep-hourly", "keep_hourly",
		  offsetof(struct mc_bk_policy, hourly) },
		{ "keep-daily", "keep_daily",
		  offsetof(struct mc_bk_policy, daily) },
		{ "keep-weekly", "keep_weekly",
		  offsetof(struct mc_bk_policy, weekly) },
		{ "keep-monthly", "keep_monthly",
		  offsetof(struct mc_bk_policy, monthly) },
	};
	const struct mc_conf_section *s = backup_section(ctx);
	int flags = 0;
	const char *v;

	memset(p, 0, sizeof(*p));
	for (size_t i = 0; i < MC_ARRAY_LEN(ints); i++)
		if (mc_args_value(ctx->args, ints[i].flag))
			flags = 1;
	if (mc_args_value(ctx->args, "keep-within"))
		flags = 1;
	for (size_t i = 0; i < MC_ARRAY_LEN(ints); i++) {
		long long x = 0;

		if (flags && ctx->args->cmd->opts &&
		    (v = mc_args_value(ctx->args, ints[i].flag))) {
			if (mc_parse_int(v, 1, 1000000, &x, NULL) < 0)
				return mc_err_set(&ctx->err, MC_EXIT_USAGE,
						  "--%s: a whole number from 1, "
						  "not '%s'", ints[i].flag, v);
		} else if (!flags && s) {
			x = mc_conf_int(s, ints[i].key, 0);
		}
		*(int *)((char *)p + ints[i].off) = (int)x;
	}
	if (flags && (v = mc_args_value(ctx->args, "keep-within"))) {
		if (mc_parse_duration_ms(v, &p->within_ms, &ctx->err) < 0)
			return -1;
	} else if (!flags && s) {
		p->within_ms = mc_conf_ms(s, "keep_within", 0);
	}
	if (mc_bk_policy_empty(p))
		return mc_err_set(&ctx->err, MC_EXIT_USAGE, "no retention "
				  "policy: give --keep-last, --keep-daily, ... "
				  "or set keep_* in [backup]");
	return 0;
}

/* Applies p to DIR (lock held by the caller); the report names each
 * backup as kept (and why) or removed. */
static int prune_dir(struct mc_ctx *ctx, const char *dir,
		     const struct mc_bk_policy *p, int dry, json_t *arr)
{
	struct mc_bk_entry *e = NULL;
	size_t n = 0, nv = 0, removed = 0, kept = 0, failed = 0;
	double *times;
	unsigned *keep, *vkeep;
	int rc = 0;

	if (mc_bk_list(dir, &e, &n, &ctx->err) < 0)
		return -1;
	times = mc_calloc(n + 1, sizeof(*times));
	keep = mc_calloc(n + 1, sizeof(*keep));
	vkeep = mc_calloc(n + 1, sizeof(*vkeep));
	for (size_t i = 0; i < n; i++)
		if (e[i].m)
			times[nv++] = e[i].m->created;
	mc_bk_forget(times, nv, p, vkeep);
	for (size_t i = 0, k = 0; i < n; i++)
		keep[i] = e[i].m ? vkeep[k++] : MC_BK_KEEP_DAMAGED;
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();
		char why[96];

		mc_bk_keep_reasons(keep[i], why, sizeof(why));
		json_object_set_new(o, "id", mc_json_str(e[i].id));
		json_object_set_new(o, "action",
				    mc_json_str(keep[i] ? "keep" : "remove"));
		if (keep[i]) {
			json_t *r = json_array();
			char *save = NULL, *tok, *copy = mc_strdup(why);

			for (tok = strtok_r(copy, ",", &save); tok;
			     tok = strtok_r(NULL, ",", &save))
				json_array_append_new(r, mc_json_str(tok));
			free(copy);
			json_object_set_new(o, "reasons", r);
			kept++;
			mc_buf_printf(&ctx->report.text, "keep    %s  (%s)\n",
				      e[i].id, why);
		} else if (dry) {
			mc_buf_printf(&ctx->report.text, "remove  %s\n",
				      e[i].id);
			removed++;
		} else {
			struct mc_err re = { 0 };

			/* said once it is done: a backup that could not be
			 * removed is never reported removed */
			if (mc_bk_remove(dir, e[i].id, &re) == 0) {
				mc_bk_catalog_removed(ctx->st, e[i].id, NULL);
				mc_buf_printf(&ctx->report.text, "removed  %s\n",
					      e[i].id);
				removed++;
			} else {
				json_object_set_new(o, "error",
						    mc_json_str(re.msg));
				mc_buf_printf(&ctx->report.text, "NOT removed "
					      "%s: %s\n", e[i].id, re.msg);
				if (failed++ == 0)
					ctx->err = re;
				rc = -1;
			}
			json_object_set_new(o, "removed",
					    json_boolean(re.code == 0));
		}
		json_array_append_new(arr, o);
	}
	mc_buf_printf(&ctx->report.text, "%zu kept, %zu %s%s", kept, removed,
		      dry ? "to remove" : "removed", dry ? " (dry run)" : "");
	mc_buf_puts(&ctx->report.text, "\n");
	if (failed) {
		/* the one line a failed run prints says where things stand */
		char first[sizeof(ctx->err.msg)];

		snprintf(first, sizeof(first), "%s", ctx->err.msg);
		mc_err_set(&ctx->err, MC_EXIT_IOERR, "%s; %zu kept, %zu removed, "
			   "%zu could not be removed", first, kept, removed,
			   failed);
	}
	free(times);
	free(keep);
	free(vkeep);
	mc_bk_entries_free(e, n);
	return rc;
}

static int prune_run(struct mc_ctx *ctx)
{
	const char *dir = backup_dir(ctx);
	struct mc_bk_policy p;
	struct mc_bk_lock *lock;
	struct mc_bk_entry *e = NULL;
	size_t n = 0;
	int dry = mc_args_count(ctx->args, "dry-run") > 0, rc;
	json_t *arr = json_array();

	json_object_set_new(ctx->report.doc, "backups", arr);
	json_object_set_new(ctx->report.doc, "dry_run", json_boolean(dry));
	if (dir == NULL || policy_from_flags(ctx, &p) < 0)
		return -1;
	if (mc_bk_dir_check(dir, 0, &ctx->err) < 0)
		return -1;
	if ((lock = mc_bk_lock(dir, MC_BK_LOCK_PRUNE, lock_wait(ctx),
			       &ctx->err)) == NULL)
		return -1;
	rc = prune_dir(ctx, dir, &p, dry, arr);
	mc_bk_unlock(lock);
	if (list_and_metrics(ctx, dir, &e, &n) < 0)
		return -1;
	mc_bk_entries_free(e, n);
	return rc < 0 ? -1 : 0;
}

/* ---- create ------------------------------------------------------------------ */

/* A create that made its backup and failed after (the catalogue, the
 * prune): the one line a failed run prints says the backup is there. */
static void created_but(struct mc_ctx *ctx, const char *id, const char *dir,
			const char *what)
{
	char *t = mc_asprintf("backup %s created in %s, but %s%s", id, dir,
			      what, ctx->err.msg);

	snprintf(ctx->err.msg, sizeof(ctx->err.msg), "%s", t);
	free(t);
}

static int create_run(struct mc_ctx *ctx)
{
	const struct mc_conf_section *s = backup_section(ctx);
	struct mc_bk_create_opts o = { 0 };
	struct mc_bk_manifest *m = NULL;
	struct mc_bk_source *src;
	struct mc_bk_entry *e = NULL;
	struct bar bar;
	size_t n = 0, n_src;
	const char **inc, **exc;
	char sz[32], st[32], dur[32], *lname;
	int rc = -1, cat, prune = mc_args_count(ctx->args, "prune") > 0;
	struct mc_bk_policy pol;
	struct mc_coord_lock *dirlock = NULL;

	o.dir = backup_dir(ctx);
	if (o.dir == NULL)
		return -1;
	if (prune && policy_from_flags(ctx, &pol) < 0)
		return -1;
	/* the coordinator's lock on the directory: with [fleet], hosts that
	 * share it (NFS, where flock(2) may not reach across hosts) create
	 * one at a time; DIR/.backup.lock is taken inside as ever, and
	 * without [fleet] it is the lock (a second one in the state
	 * directory would only name the directory worse when held) */
	if (mc_coord_fleet_conf(ctx->coord) != NULL) {
		lname = mc_asprintf("backup:%s", o.dir);
		rc = mc_ctx_coord_lock(ctx, lname, MC_COORD_KEEPALIVE,
				       &dirlock);
		free(lname);
		if (rc < 0)
			return -1;
	}
	rc = -1;
	o.state_path = mc_state_path(ctx->st);
	inc = list_of(s, "include", &o.n_includes);
	exc = list_of(s, "exclude", &o.n_excludes);
	o.includes = inc;
	o.excludes = exc;
	src = sources_of(ctx, &n_src);
	o.sources = src;
	o.n_sources = n_src;
	o.zstd = !mc_streq(conf_str(ctx, "compress"), "none");
	o.io.level = s ? (int)mc_conf_int(s, "compress_level",
					  MC_BK_ZSTD_LEVEL) : MC_BK_ZSTD_LEVEL;
	o.note = mc_args_value(ctx->args, "note");
	o.correlation_id = ctx->correlation_id;
	o.lock_wait_ms = lock_wait(ctx);
	bar_setup(ctx, &bar, &o.io);
	if (mc_bk_create(&o, &m, &ctx->err) < 0) {
		bar_end(&bar);
		goto out;
	}
	bar_end(&bar);
	cat = mc_bk_catalog_add(ctx->st, m, o.dir, ctx->run_id, &ctx->err);
	json_object_set_new(ctx->report.doc, "backup", manifest_json(m));
	json_object_set_new(ctx->report.doc, "id", mc_json_str(m->id));
	json_object_set_new(ctx->report.doc, "dir", mc_json_str(o.dir));
	json_object_set_new(ctx->report.doc, "removed_partials",
			    json_integer(o.removed_partials));
	human_size(mc_bk_manifest_size(m), sz, sizeof(sz));
	human_size(mc_bk_manifest_stored(m), st, sizeof(st));
	mc_format_duration((int64_t)(m->duration * 1e3), dur, sizeof(dur));
	mc_buf_printf(&ctx->report.text, "backup %s created in %s: %zu files, "
		      "%s (stored %s) in %s\n", m->id, o.dir, m->n_files, sz,
		      st, dur);
	if (o.removed_partials)
		mc_buf_printf(&ctx->report.text, "removed %d stale partial "
			      "backup%s\n", o.removed_partials,
			      o.removed_partials == 1 ? "" : "s");
	if (cat < 0) {
		created_but(ctx, m->id, o.dir, "");
		goto out;
	}
	if (prune) {
		struct mc_bk_lock *lock;
		json_t *arr = json_array();

		json_object_set_new(ctx->report.doc, "prune", arr);
		if ((lock = mc_bk_lock(o.dir, MC_BK_LOCK_PRUNE, o.lock_wait_ms,
				       &ctx->err)) == NULL) {
			created_but(ctx, m->id, o.dir, "not pruned: ");
			goto out;
		}
		rc = prune_dir(ctx, o.dir, &pol, 0, arr);
		mc_bk_unlock(lock);
		if (rc < 0) {
			created_but(ctx, m->id, o.dir, "prune: ");
			goto out;
		}
		rc = -1;
	}
	if (list_and_metrics(ctx, o.dir, &e, &n) < 0)
		goto out;
	rc = 0;
out:
	mc_coord_lock_release(ctx->coord, dirlock);
	mc_bk_entries_free(e, n);
	mc_bk_manifest_free(m);
	free(inc);
	free(exc);
	free(src);
	return rc;
}

/* ---- list --------------------------------------------------------------------- */

static void format_age(double seconds, char *buf, size_t size)
{
	mc_format_duration_days((int64_t)(seconds > 0 ? seconds : 0) * 1000,
				buf, size);
}

static int list_run(struct mc_ctx *ctx)
{
	static const char *const headers[] = { "ID", "CREATED", "AGE", "FILES",
					       "SIZE", "STORED", "NOTE",
					       "LAST VERIFY" };
	const char *dir = backup_dir(ctx);
	struct mc_bk_entry *e = NULL;
	size_t n = 0;
	json_t *arr = json_array();
	struct mc_table *t;
	double now = mc_wall_now();

	json_object_set_new(ctx->report.doc, "backups", arr);
	if (dir == NULL)
		return -1;
	json_object_set_new(ctx->report.doc, "dir", mc_json_str(dir));
	if (list_and_metrics(ctx, dir, &e, &n) < 0)
		return -1;
	t = mc_table_new(8, headers);
	for (size_t i = 0; i < n; i++) {
		const struct mc_bk_manifest *m = e[i].m;
		struct mc_bk_cat c;
		json_t *o;
		char created[40] = "?", age[32] = "?", files[16] = "?",
		     sz[32] = "?", st[32] = "?", ver[64] = "never";
		const char *cells[8];
		char *note = NULL;

		if (m == NULL) {
			o = json_object();
			json_object_set_new(o, "id", mc_json_str(e[i].id));
			json_object_set_new(o, "damaged",
					    mc_json_str(e[i].damaged));
			json_array_append_new(arr, o);
			note = mc_asprintf("DAMAGED: %s", e[i].damaged);
			cells[0] = e[i].id;
			for (size_t k = 1; k < 6; k++)
				cells[k] = "?";
			cells[6] = note;
			cells[7] = "-";
			mc_table_row(t, cells);
			free(note);
			continue;
		}
		o = manifest_json(m);
		json_object_del(o, "files");
		json_object_set_new(o, "files", json_integer((json_int_t)
							     m->n_files));
		json_object_set_new(o, "age_seconds", json_real(now -
								m->created));
		if (mc_bk_catalog_get(ctx->st, m->id, &c, NULL) == 0 &&
		    c.verified > 0) {
			json_t *v = json_object();

			json_time(v, "at", c.verified);
			json_object_set_new(v, "ok", json_boolean(c.verify_ok));
			if (c.verify_message)
				json_object_set_new(v, "message",
						    mc_json_str(c.verify_message));
			json_object_set_new(o, "last_verify", v);
			mc_format_time(c.verified, created, sizeof(created));
			snprintf(ver, sizeof(ver), "%s %.10s",
				 c.verify_ok ? "ok" : "FAILED", created);
		} else {
			json_object_set_new(o, "last_verify", json_null());
		}
		mc_bk_cat_release(&c);
		json_array_append_new(arr, o);
		mc_format_time(m->created, created, sizeof(created));
		created[19] = '\0';
		created[10] = ' ';
		format_age(now - m->created, age, sizeof(age));
		snprintf(files, sizeof(files), "%zu", m->n_files);
		human_size(mc_bk_manifest_size(m), sz, sizeof(sz));
		human_size(mc_bk_manifest_stored(m), st, sizeof(st));
		note = mc_utf8_clean(m->note ? m->note : "");
		cells[0] = m->id;
		cells[1] = created;
		cells[2] = age;
		cells[3] = files;
		cells[4] = sz;
		cells[5] = st;
		cells[6] = note;
		cells[7] = ver;
		mc_table_row(t, cells);
		free(note);
	}
	mc_table_render_or(t, &ctx->report.text, ctx->color, NULL,
			   "no backups in %s\n", dir);
	mc_table_free(t);
	mc_bk_entries_free(e, n);
	return 0;
}

/* ---- verify --------------------------------------------------------------------- */

/* The Nagios verdict of a verify: CRITICAL naming the first bad backup's
 * file and reason (the summary line), else OK; perfdata for each. */
static void verify_nagios(struct mc_ctx *ctx, size_t nbad, size_t nchecked,
			  double drill)
{
	struct mc_buf b = { 0 };

	if (nbad)
		mc_buf_printf(&b, "BACKUP VERIFY CRITICAL - %zu of %zu bad: %s",
			      nbad, nchecked, ctx->report.summary);
	else
		mc_buf_printf(&b, "BACKUP VERIFY OK - %zu backup%s verified%s",
			      nchecked, nchecked == 1 ? "" : "s",
			      drill >= 0 ? " with a restore drill" : "");
	/* '|' starts the perfdata; a Nagios line is one line */
	for (size_t i = 0; i < b.len; i++)
		if (b.data[i] == '|' || b.data[i] == '\n')
			b.data[i] = '/';
	mc_buf_printf(&b, " | verified=%zu bad=%zu;;0", nchecked, nbad);
	if (drill >= 0)
		mc_buf_printf(&b, " restore_seconds=%.3fs", drill);
	ctx->report.nagios = b.data;
}

/* No backup to verify. Nothing in the directory is a finding, not a
 * failure to look: as the backup health check, CRITICAL, also for Nagios;
 * a missing directory (why) is an I/O error (74), but for Nagios, which
 * wants a verdict, CRITICAL too, why on its second line. */
static int verify_none(struct mc_ctx *ctx, const char *dir, const char *why)
{
	if (ctx->format == MC_FMT_NAGIOS) {
		ctx->report.nagios = mc_asprintf("BACKUP VERIFY CRITICAL - no "
						 "backup in %s | verified=0 "
						 "bad=0;;0%s%s", dir,
						 why ? "\n" : "",
						 why ? why : "");
		mc_err_clear(&ctx->err);
		if (why == NULL)
			backup_metrics(ctx, dir, NULL, 0);
		return MC_EXIT_CRITICAL;
	}
	if (why == NULL)
		mc_err_set(&ctx->err, MC_EXIT_CRITICAL, "no backup in %s", dir);
	return -1;
}

static int verify_run(struct mc_ctx *ctx)
{
	const char *dir = backup_dir(ctx);
	int all = mc_args_count(ctx->args, "all") > 0;
	int latest = mc_args_count(ctx->args, "latest") > 0;
	int drill = mc_args_count(ctx->args, "restore-test") > 0;
	struct mc_bk_entry *e = NULL;
	size_t n = 0, nbad = 0, nchecked = 0;
	double drill_s = -1;	/* the slowest drill's restore time */
	json_t *arr = json_array();
	struct bar bar;
	struct mc_bk_io io = { 0 };
	struct mc_bk_lock *lock;
	int rc = -1;
	size_t *pick = NULL, npick = 0;

	json_object_set_new(ctx->report.doc, "backups", arr);
	if (dir == NULL)
		return -1;
	if ((all || latest) && ctx->args->n_pos > 0) {
		mc_err_set(&ctx->err, MC_EXIT_USAGE, "give IDs, --latest or "
			   "--all, not several");
		return -1;
	}
	if (all && latest) {
		mc_err_set(&ctx->err, MC_EXIT_USAGE, "give --latest or --all, "
			   "not both");
		return -1;
	}
	/* held to the end: no prune removes a backup while it is read */
	lock = mc_bk_lock(dir, MC_BK_LOCK_READ, lock_wait(ctx), &ctx->err);
	if (lock == NULL || mc_bk_list(dir, &e, &n, &ctx->err) < 0) {
		if (ctx->err.sys_errno == ENOENT && ctx->args->n_pos == 0)
			rc = verify_none(ctx, dir, ctx->err.msg);
		goto out;
	}
	if (n == 0 && ctx->args->n_pos == 0) {
		rc = verify_none(ctx, dir, NULL);
		goto out;
	}
	pick = mc_calloc(n + (size_t)ctx->args->n_pos + 1, sizeof(*pick));
	if (all) {
		for (size_t i = 0; i < n; i++)
			pick[npick++] = i;
	} else if (ctx->args->n_pos > 0) {
		for (int k = 0; k < ctx->args->n_pos; k++)
			if (mc_bk_find(e, n, ctx->args->pos[k], &pick[npick++],
				       &ctx->err) < 0)
				goto out;
	} else if (mc_bk_find(e, n, "latest", &pick[npick++], &ctx->err) < 0) {
		goto out;
	}
	bar_setup(ctx, &bar, &io);
	for (size_t k = 0; k < npick; k++) {
		struct mc_bk_entry *x = &e[pick[k]];
		struct mc_bk_verify_result r;
		json_t *o = json_object();
		double t0 = mc_mono_now();

		if (mc_bk_verify(dir, x->id, drill, &io, &r, &ctx->err) < 0) {
			json_decref(o);
			bar_end(&bar);
			goto out;
		}
		nchecked++;
		json_object_set_new(o, "id", mc_json_str(x->id));
		json_object_set_new(o, "ok", json_boolean(r.ok));
		json_object_set_new(o, "seconds", json_real(mc_mono_now() - t0));
		if (!r.ok) {
			/* the file's name and the reason come from the
			 * backup directory: shown escaped (§2.9) */
			char *file = mc_escape_str(r.bad_file);
			char *why = mc_escape_str(r.reason);
			char *line;

			nbad++;
			json_object_set_new(o, "file", mc_json_str(r.bad_file));
			json_object_set_new(o, "reason", mc_json_str(r.reason));
			line = mc_asprintf("%s BAD: %s: %s", x->id,
					   file ? file : "?", why ? why : "?");
			mc_buf_printf(&ctx->report.text, "%s\n", line);
			if (ctx->report.summary == NULL)
				ctx->report.summary = mc_strdup(line);
			free(line);
			free(file);
			free(why);
		} else if (drill) {
			json_object_set_new(o, "restore_seconds",
					    json_real(r.restore_seconds));
			if (r.restore_seconds > drill_s)
				drill_s = r.restore_seconds;
			mc_buf_printf(&ctx->report.text, "%s ok (restore drill: "
				      "%.2fs to restore)\n", x->id,
				      r.restore_seconds);
		} else {
			mc_buf_printf(&ctx->report.text, "%s ok\n", x->id);
		}
		json_array_append_new(arr, o);
		if (x->m)
			mc_bk_catalog_verified(ctx->st, x->m, dir, &r, drill,
					       NULL);
		mc_bk_verify_result_release(&r);
	}
	bar_end(&bar);
	json_object_set_new(ctx->report.doc, "bad", json_integer((json_int_t)nbad));
	backup_metrics(ctx, dir, e, n);
	rc = nbad ? MC_EXIT_CRITICAL : MC_EXIT_OK;
	verify_nagios(ctx, nbad, nchecked, drill_s);
out:
	free(pick);
	mc_bk_entries_free(e, n);
	mc_bk_unlock(lock);
	return rc;
}

/* ---- restore --------------------------------------------------------------------- */

static int confirm(struct mc_ctx *ctx, const char *id, const char *to)
{
	if (mc_args_count(ctx->args, "yes"))
		return 0;
	if (!isatty(STDIN_FILENO) || !isatty(STDERR_FILENO))
		return mc_err_set(&ctx->err, MC_EXIT_USAGE, "restore replaces "
				  "files: confirm with --yes when not on a "
				  "terminal");
	if (!mc_ctx_confirm("Restore backup %s %s%s? Replaced files are kept "
			    "as *.pre-restore-%s.", id, to ? "under " :
			    "over the original files", to ? to : "", id))
		return mc_err_set(&ctx->err, MC_EXIT_USAGE, "restore not "
				  "confirmed: nothing restored");
	return 0;
}

static json_t *string_array(char **v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, mc_json_str(v[i]));
	return a;
}

static void join(struct mc_buf *b, char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		mc_buf_printf(b, "%s%s", i ? ", " : "", v[i]);
	if (n == 0)
		mc_buf_puts(b, "none");
}

/* §2.9: a backup directory another user owns or anyone may write could
 * hold a planted backup whose manifest names any path (its checksum is no
 * signature): nothing is put back in place from it. Under --to every file
 * stays under the operator's DIR and no hook or restore_command runs, and
 * read-only media cannot have been written since: both are allowed. */
static int restore_trusted(struct mc_ctx *ctx, const char *dir,
			   const char *bdir)
{
	struct statvfs sv;
	char why[sizeof(ctx->err.msg)];

	if (statvfs(bdir, &sv) == 0 && (sv.f_flag & ST_RDONLY))
		return 0;
	if (mc_dir_check_private(dir, &ctx->err) == 0 &&
	    mc_dir_check_private(bdir, &ctx->err) == 0)
		return 0;
	snprintf(why, sizeof(why), "%s", ctx->err.msg);
	return mc_err_set(&ctx->err, MC_EXIT_IOERR, "%s; nothing restored "
			  "(--to DIR restores it elsewhere to look at it)", why);
}

static int restore_run(struct mc_ctx *ctx)
{
	const struct mc_conf_section *s = backup_section(ctx);
	const char *dir = backup_dir(ctx);
	struct mc_bk_restore_opts o = { 0 };
	struct mc_bk_restore_result r = { 0 };
	struct mc_bk_entry *e = NULL;
	struct mc_bk_source *src = NULL;
	size_t n = 0, idx, n_src;
	struct bar bar;
	struct mc_bk_lock *lock;
	char *bdir = NULL;
	int rc = -1;

	if (dir == NULL)
		return -1;
	/* held to the end: no prune removes the backup while it is read */
	if ((lock = mc_bk_lock(dir, MC_BK_LOCK_READ, lock_wait(ctx),
			       &ctx->err)) == NULL)
		return -1;
	if (mc_bk_list(dir, &e, &n, &ctx->err) < 0 ||
	    mc_bk_find(e, n, ctx->args->pos[0], &idx, &ctx->err) < 0)
		goto out;
	o.dir = dir;
	o.id = e[idx].id;
	o.to = mc_args_value(ctx->args, "to");
	if (o.to && o.to[0] != '/' && (o.to = absolute(ctx, "--to", o.to)) == NULL)
		goto out;
	o.only = (const char *const *)mc_args_values(ctx->args, "only",
						     &o.n_only);
	o.state_path = mc_state_path(ctx->st);
	src = sources_of(ctx, &n_src);
	o.sources = src;
	o.n_sources = n_src;
	o.before = s ? mc_conf_str(s, "before_restore") : NULL;
	o.after = s ? mc_conf_str(s, "after_restore") : NULL;
	o.hook_timeout_ms = s ? mc_conf_ms(s, "hook_timeout", 300000) : 300000;
	if (mc_ctx_lock(ctx, "backup-restore") < 0)
		goto out;
	bdir = mc_asprintf("%s/%s", dir, o.id);
	if (o.to == NULL && restore_trusted(ctx, dir, bdir) < 0)
		goto out;
	if (confirm(ctx, o.id, o.to) < 0)
		goto out;
	bar_setup(ctx, &bar, &o.io);
	rc = mc_bk_restore(&o, &r, &ctx->err);
	bar_end(&bar);
	json_object_set_new(ctx->report.doc, "id", mc_json_str(o.id));
	json_object_set_new(ctx->report.doc, "replaced",
			    string_array(r.replaced, r.n_replaced));
	json_object_set_new(ctx->report.doc, "not_replaced",
			    string_array(r.not_replaced, r.n_not_replaced));
	json_object_set_new(ctx->report.doc, "pre_restore_copies",
			    string_array(r.kept, r.n_kept));
	if (rc < 0 && !r.verified_bad && (r.n_replaced || r.n_not_replaced)) {
		/* The one line says exactly where things stand. */
		struct mc_buf b = { 0 };

		mc_buf_printf(&b, "restore of %s stopped: %s; replaced: ",
			      o.id, ctx->err.msg);
		join(&b, r.replaced, r.n_replaced);
		mc_buf_puts(&b, "; not replaced: ");
		join(&b, r.not_replaced, r.n_not_replaced);
		if (r.n_kept)
			mc_buf_printf(&b, "; previous versions kept as "
				      "*.pre-restore-%s", o.id);
		snprintf(ctx->err.msg, sizeof(ctx->err.msg), "%s", b.data);
		if (b.len >= sizeof(ctx->err.msg))
			memcpy(ctx->err.msg + sizeof(ctx->err.msg) - 24,
			       " (full list: -o json)", 22);
		mc_buf_release(&b);
		if (ctx->err.code != MC_EXIT_SIGINT &&
		    ctx->err.code != MC_EXIT_SIGTERM)
			ctx->err.code = MC_EXIT_CRITICAL;
		goto out;
	}
	if (rc < 0)
		goto out;
	mc_buf_printf(&ctx->report.text, "restored backup %s: %zu file%s\n",
		      o.id, r.n_replaced, r.n_replaced == 1 ? "" : "s");
	for (size_t i = 0; i < r.n_replaced; i++)
		mc_buf_printf(&ctx->report.text, "  %s\n", r.replaced[i]);
	if (r.n_kept)
		mc_buf_printf(&ctx->report.text, "previous versions kept as "
			      "*.pre-restore-%s\n", o.id);
	rc = 0;
out:
	mc_bk_restore_result_release(&r);
	mc_bk_entries_free(e, n);
	mc_bk_unlock(lock);
	free(src);
	free(bdir);
	return rc;
}

/* ---- the table ------------------------------------------------------------------- */

#define DEST_OPT \
	{ 0, "dest", "DIR", MC_OPT_VALUE, MC_ARG_DIR, NULL, \
	  "The backup directory (default [backup] dir); a relative DIR is " \
	  "taken from the current directory", 0 }

static const struct mc_opt create_opts[] = {
	DEST_OPT,
	{ 0, "note", "TEXT", MC_OPT_VALUE, MC_ARG_STRING, NULL,
	  "A note kept in the manifest and shown by list", 0 },
	{ 0, "prune", NULL, MC_OPT_FLAG, MC_ARG_STRING, NULL,
	  "Apply the configured retention (keep_* in [backup]) after a "
	  "successful create", 0 },
	{ 0 },
};

static const struct mc_opt list_opts[] = {
	DEST_OPT,
	{ 0 },
};

static const struct mc_opt verify_opts[] = {
	{ 0, "latest", NULL, MC_OPT_FLAG, MC_ARG_STRING, NULL,
	  "Verify the newest backup (the default)", 0 },
	{ 0, "all", NULL, MC_OPT_FLAG, MC_ARG_STRING, NULL,
	  "Verify every backup", 0 },
	{ 0, "restore-test", NULL, MC_OPT_FLAG, MC_ARG_STRING, NULL,
	  "Also restore into a temporary directory, open the state copy "
	  "and time the restore (a drill)", 0 },
	DEST_OPT,
	{ 0 },
};

static const struct mc_opt restore_opts[] = {
	{ 0, "to", "DIR", MC_OPT_VALUE, MC_ARG_DIR, NULL,
	  "Restore under DIR instead of the original places (no hooks run)",
	  0 },
	{ 0, "only", "PATH", MC_OPT_LIST, MC_ARG_STRING, NULL,
	  "Restore only this file: its original path, its path in the "
	  "backup, a source's name, or 'state' (repeatable)", 0 },
	{ 'y', "yes", NULL, MC_OPT_FLAG, MC_ARG_STRING, NULL,
	  "Do not ask for confirmation (required when not on a terminal)", 0 },
	DEST_OPT,
	{ 0 },
};

static const struct mc_opt prune_opts[] = {
	{ 0, "keep-last", "N", MC_OPT_VALUE, MC_ARG_INT, "1..1000000",
	  "Keep the newest N backups", 0 },
	{ 0, "keep-hourly", "N", MC_OPT_VALUE, MC_ARG_INT, "1..1000000",
	  "Keep the newest backup of each of the last N hours with backups",
	  0 },
	{ 0, "keep-daily", "N", MC_OPT_VALUE, MC_ARG_INT, "1..1000000",
	  "The same for days (local time)", 0 },
	{ 0, "keep-weekly", "N", MC_OPT_VALUE, MC_ARG_INT, "1..1000000",
	  "The same for ISO weeks", 0 },
	{ 0, "keep-monthly", "N", MC_OPT_VALUE, MC_ARG_INT, "1..1000000",
	  "The same for months", 0 },
	{ 0, "keep-within", "DURATION", MC_OPT_VALUE, MC_ARG_DURATION, NULL,
	  "Keep every backup within DURATION of the newest one", 0 },
	{ 0, "dry-run", NULL, MC_OPT_FLAG, MC_ARG_STRING, NULL,
	  "Show what would be kept (and why) and removed; change nothing", 0 },
	DEST_OPT,
	{ 0 },
};

static const struct mc_cmd backup_create = {
	.name = "create",
	.summary = "Make a new backup of the state file, includes and sources",
	.opts = create_opts,
	.needs = MC_NEED_CONFIG | MC_NEED_STATE,
	.max_args = 0,
	.run = create_run,
};

static const struct mc_cmd backup_list = {
	.name = "list",
	.summary = "List the backups in the backup directory",
	.opts = list_opts,
	.needs = MC_NEED_CONFIG | MC_NEED_STATE,
	.max_args = 0,
	.run = list_run,
};

static const struct mc_cmd backup_verify = {
	.name = "verify",
	.summary = "Check backups against their manifests, optionally with a "
		   "restore drill",
	.args = "[ID...]",
	.opts = verify_opts,
	.needs = MC_NEED_CONFIG | MC_NEED_STATE,
	.max_args = -1,
	.run = verify_run,
};

static const struct mc_cmd backup_restore = {
	.name = "restore",
	.summary = "Put a verified backup's files back",
	.args = "ID|latest",
	.opts = restore_opts,
	.needs = MC_NEED_CONFIG | MC_NEED_STATE,
	.min_args = 1,
	.max_args = 1,
	.run = restore_run,
};

static const struct mc_cmd backup_prune = {
	.name = "prune",
	.summary = "Remove old backups by restic-style retention rules",
	.opts = prune_opts,
	.needs = MC_NEED_CONFIG | MC_NEED_STATE,
	.max_args = 0,
	.run = prune_run,
};

static const struct mc_cmd *const backup_subs[] = {
	&backup_create, &backup_list, &backup_verify, &backup_restore,
	&backup_prune, NULL,
};

static const struct mc_metric_family backup_families[] = {
	{ "mercury_backup_count", NULL },
	{ "mercury_backup_last_success_timestamp_seconds", NULL },
	{ "mercury_backup_size_bytes", NULL },
	{ "mercury_backup_stored_bytes", NULL },
	{ "mercury_backup_duration_seconds", NULL },
	{ "mercury_backup_files", NULL },
	{ "mercury_backup_restore_test_seconds", NULL },
	{ NULL, NULL },
};

static const struct mc_metric_owner backup_metrics_owner = {
	.families = backup_families,
	.view = backup_metrics_view,
};

const struct mc_cmd mc_cmd_backup = {
	.examples =
	"A nightly backup from cron, then the retention policy applied:\n"
	"$ mercuryctl -q backup create --prune\n"
	"What is kept, and whether the newest backup still restores:\n"
	"$ mercuryctl backup list\n"
	"$ mercuryctl backup verify --latest --restore-test\n"
	"Restore the newest backup into a scratch directory to look at it:\n"
	"$ mercuryctl backup restore latest --to /tmp/restore\n",
	.name = "backup",
	.summary = "Make, check, restore and prune backups of state and files",
	.description =
	"A backup is a directory DIR/ID/ (the id sortable by time, e.g. "
	"20261207T020000Z-3f9a) holding the state database, copied with "
	"SQLite's online backup API so it is consistent while other runs "
	"write; every include of [backup] (SQLite databases among them, known "
	"by their header, copied the same way); the output of every "
	"[backup_source] command, streamed; and manifest.json, which records "
	"for each file its path, original path, kind, mode, sizes, "
	"compression and the SHA-256 of the stored and the original bytes. "
	"Files are compressed with zstd (level 2 unless compress_level says "
	"otherwise) unless compress = none. Directories are 0700 and files "
	"0600: backups hold secrets.\n\n"
	"create writes under DIR/.partial-ID/, fsyncs every file and "
	"directory, then renames it into place: a crash or a kill never "
	"leaves anything list shows, and the next create removes stale "
	"partials. Only create makes DIR (0700); for list, verify, restore "
	"and prune a DIR that does not exist is an I/O error, exit 74, "
	"naming it (a backup volume that is not mounted is no \"no "
	"backups\"), while an empty DIR holds no backups.\n\n"
	"Locks (flock(2) on files in DIR): create and prune take "
	"DIR/.backup.lock, so one runs at a time; verify and restore, which "
	"read backups for as long as they run, share DIR/.backup-readers.lock "
	"with each other, and prune (also the prune of create --prune) takes "
	"it alone, so no backup is removed while it is read. A held lock "
	"exits 75 at once, naming DIR and the pid of each holder "
	"(--wait-lock DURATION waits); readers never wait for each other or "
	"for a create. On read-only media, or in a DIR this user may not "
	"write, a reader takes no lock (no one else can create it there "
	"either). With a [fleet] section (mercuryctl-fleet(1)) create also "
	"takes the fleet lock backup:DIR, renewed while it runs, so hosts "
	"sharing DIR (where flock(2) may not reach across hosts) create one "
	"at a time - they must name DIR by the same path.\n\n"
	"A source that exits non-zero, prints nothing or "
	"overruns its timeout (its whole process tree is killed) fails the "
	"backup with exit 2. Its output is read to the end: what a process "
	"it started still writes after it exited is stored too, and such a "
	"process that holds the output past the source's timeout or the "
	"run's deadline fails the backup the same way. A full disk or "
	"another write error is exit 74 "
	"naming the file; a file whose name holds control characters (an "
	"escape sequence dropped into an included directory) is exit 65, "
	"named escaped, until it is renamed or excluded.\n\n"
	"The backup directory is the truth: list, verify, restore and prune "
	"read DIR and its manifests, so they work on a new machine with an "
	"empty state file. The state file keeps a catalogue (sizes, "
	"durations, last verify and drill) for the metrics and the backup "
	"health check.\n\n"
	"verify re-hashes every stored file, decompresses it and checks the "
	"original's hash, and runs PRAGMA integrity_check on database copies; "
	"a bad backup exits 2 naming the file and why (an edited manifest is "
	"caught by its checksum; a stored file that is no regular file, a "
	"FIFO say, is bad at once, never waited on). --restore-test restores into a temporary "
	"directory, opens the state copy, checks every file and reports the "
	"time the restore took (mercury_backup_restore_test_seconds). With "
	"-o nagios, verify gives a verdict: BACKUP VERIFY OK (exit 0), or "
	"CRITICAL (exit 2) naming the first bad backup, its file and why "
	"(or saying there is no backup at all, and on a second line when "
	"DIR does not exist), "
	"with perfdata verified, bad and restore_seconds.\n\n"
	"restore verifies first and refuses a bad backup before touching "
	"anything; it also refuses (exit 74) to restore in place from a "
	"backup directory, or a backup in it, that another user owns or "
	"anyone may write (a planted manifest could name any path), unless "
	"it is on read-only media; --to DIR still works. It asks on a terminal (--yes otherwise; without either "
	"on a non-terminal it exits 64), runs before_restore, puts each file "
	"back atomically (written beside it, fsynced, renamed) keeping the "
	"replaced one as FILE.pre-restore-ID, replaces the live state "
	"database (and any existing SQLite database) through the backup API, "
	"feeds each source's file to its restore_command on stdin, and "
	"finally runs after_restore. A manifest path that is absolute or "
	"climbs out with '..' is refused. If a step fails or a signal "
	"arrives, the files already replaced stay replaced and the error "
	"names which were and which were not.\n\n"
	"prune applies restic's forget rules: --keep-last N keeps the newest "
	"N; --keep-hourly, --keep-daily, --keep-weekly and --keep-monthly N "
	"keep the newest backup in each of the last N hours, days, ISO weeks "
	"and months that have backups (calendar boundaries in local time); "
	"--keep-within D keeps every backup within D of the newest. The "
	"rules are ORed; the newest backup is always kept; without any rule "
	"(no flags, no keep_* in [backup]) prune exits 64. A backup that "
	"cannot be removed is never reported removed: prune goes on with the "
	"others and exits 74 naming it (-o json marks each removal "
	"\"removed\": true or false).\n\n"
	"The run's deadline applies only when --timeout is given: [core] "
	"timeout is made for checks, and sources have timeouts of their own. "
	"With -o prom every backup command gives, for its directory "
	"(label dir), mercury_backup_count and, for the newest backup, "
	"mercury_backup_last_success_timestamp_seconds, "
	"mercury_backup_size_bytes, mercury_backup_stored_bytes, "
	"mercury_backup_duration_seconds and mercury_backup_files, and "
	"mercury_backup_restore_test_seconds after a drill. With "
	"--textfile-dir every backup command writes these for every backup "
	"directory - the configured one, --dest, and each one the catalogue "
	"knows backups in - to DIR/mercuryctl_backup.prom, so whichever "
	"ran last, no directory's series is dropped and none is in two files; "
	"DIR/mercuryctl_backup_SUBCOMMAND.prom keeps the run's own "
	"mercuryctl_run_* metrics. A progress bar "
	"is drawn on a terminal's stderr for work that takes over a second.\n\n"
	"A health check of type backup ([check \"backups\"] type = backup, "
	"with optional dir and max_age, defaulting to [backup]'s) is "
	"critical when there is no backup, when the newest one is older than "
	"max_age, is damaged, or failed its last verify, and says which.",
	.subs = backup_subs,
	.metrics = &backup_metrics_owner,
};
