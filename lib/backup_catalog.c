/*
 * backup_catalog.c - the backups table of the state file: ids, sizes,
 * durations, the last verify and restore drill of each backup. The backup
 * directory stays the truth (list, verify, restore and prune read it);
 * this is the history behind the metrics and the `backup` health check.
 */
#include "backup.h"
#include "state.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void mc_bk_cat_release(struct mc_bk_cat *c)
{
	free(c->verify_message);
	memset(c, 0, sizeof(*c));
}

static int add(struct mc_state *st, const struct mc_bk_manifest *m,
	       const char *dir, int64_t run_id, int replace, struct mc_err *err)
{
	sqlite3_stmt *s;
	/* the note is the operator's text, kept raw in the manifest (and
	 * JSON); the state file holds it escaped, as every untrusted text
	 * (§2.9) */
	char *note = mc_escape_str(m->note);
	int rc;

	if (mc_state_prepare(st, replace ?
			     "INSERT INTO backups (id, dir, created, files, "
			     "size, stored, duration, note, correlation_id, "
			     "run_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
			     "?9, ?10) ON CONFLICT(id) DO UPDATE SET dir = ?2, "
			     "created = ?3, files = ?4, size = ?5, stored = ?6, "
			     "duration = ?7, note = ?8, correlation_id = ?9, "
			     "run_id = ?10, removed = NULL" :
			     "INSERT INTO backups (id, dir, created, files, "
			     "size, stored, duration, note, correlation_id, "
			     "run_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
			     "?9, ?10) ON CONFLICT(id) DO NOTHING",
			     &s, "backup catalogue", err) < 0) {
		free(note);
		return -1;
	}
	sqlite3_bind_text(s, 1, m->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, dir, -1, SQLITE_STATIC);
	sqlite3_bind_double(s, 3, m->created);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)m->n_files);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)mc_bk_manifest_size(m));
	sqlite3_bind_int64(s, 6, (sqlite3_int64)mc_bk_manifest_stored(m));
	sqlite3_bind_double(s, 7, m->duration);
	if (note)
		sqlite3_bind_text(s, 8, note, -1, SQLITE_STATIC);
	if (m->correlation_id)
		sqlite3_bind_text(s, 9, m->correlation_id, -1, SQLITE_STATIC);
	if (run_id)
		sqlite3_bind_int64(s, 10, run_id);
	rc = mc_state_exec_stmt(st, s, "backup catalogue", err);
	free(note);
	return rc;
}

int mc_bk_catalog_add(struct mc_state *st, const struct mc_bk_manifest *m,
		      const char *dir, int64_t run_id, struct mc_err *err)
{
	return add(st, m, dir, run_id, 1, err);
}

int mc_bk_catalog_verified(struct mc_state *st,
			   const struct mc_bk_manifest *m, const char *dir,
			   const struct mc_bk_verify_result *r,
			   int restore_test, struct mc_err *err)
{
	sqlite3_stmt *s;
	char *msg = NULL;
	int rc = 0;

	if (add(st, m, dir, 0, 0, err) < 0)
		return -1;
	if (mc_state_prepare(st, restore_test ?
			     "UPDATE backups SET verified = ?2, verify_ok = ?3, "
			     "verify_message = ?4, restore_tested = ?2, "
			     "restore_test_ok = ?3, restore_test_seconds = ?5 "
			     "WHERE id = ?1" :
			     "UPDATE backups SET verified = ?2, verify_ok = ?3, "
			     "verify_message = ?4 WHERE id = ?1",
			     &s, "backup catalogue", err) < 0)
		return -1;
	if (!r->ok) {
		char *raw = mc_asprintf("%s: %s", r->bad_file, r->reason);

		msg = mc_escape_str(raw);	/* §2.9: escaped in the state */
		free(raw);
	}
	sqlite3_bind_text(s, 1, m->id, -1, SQLITE_STATIC);
	sqlite3_bind_double(s, 2, mc_wall_now());
	sqlite3_bind_int(s, 3, r->ok);
	if (msg)
		sqlite3_bind_text(s, 4, msg, -1, SQLITE_STATIC);
	if (restore_test && r->ok)
		sqlite3_bind_double(s, 5, r->restore_seconds);
	rc = mc_state_exec_stmt(st, s, "backup catalogue", err);
	free(msg);
	return rc;
}

int mc_bk_catalog_removed(struct mc_state *st, const char *id,
			  struct mc_err *err)
{
	sqlite3_stmt *s;

	if (mc_state_prepare(st, "UPDATE backups SET removed = ? WHERE id = ?",
			     &s, "backup catalogue", err) < 0)
		return -1;
	sqlite3_bind_double(s, 1, mc_wall_now());
	sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
	return mc_state_exec_stmt(st, s, "backup catalogue", err);
}

int mc_bk_catalog_get(struct mc_state *st, const char *id,
		      struct mc_bk_cat *out, struct mc_err *err)
{
	sqlite3_stmt *s;
	int rc = 0, step;

	memset(out, 0, sizeof(*out));
	if (mc_state_prepare(st, "SELECT verified, verify_ok, verify_message, "
			     "restore_tested, restore_test_ok, "
			     "restore_test_seconds FROM backups WHERE id = ?",
			     &s, "backup catalogue", err) < 0)
		return -1;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW) {
		out->known = 1;
		out->verified = sqlite3_column_double(s, 0);
		out->verify_ok = sqlite3_column_int(s, 1);
		out->verify_message = mc_state_column_dup(s, 2);
		out->restore_tested = sqlite3_column_double(s, 3);
		out->restore_test_ok = sqlite3_column_int(s, 4);
		out->restore_test_seconds = sqlite3_column_double(s, 5);
	} else if (step != SQLITE_DONE) {
		rc = mc_state_sqlerr(st, err, "backup catalogue");
	}
	sqlite3_finalize(s);
	return rc;
}

double mc_bk_catalog_last_drill(struct mc_state *st, const char *dir)
{
	sqlite3_stmt *s;
	double v = -1;

	if (mc_state_prepare(st, "SELECT restore_test_seconds FROM backups "
			     "WHERE dir = ? AND restore_test_ok = 1 ORDER BY "
			     "restore_tested DESC LIMIT 1", &s, "backup "
			     "catalogue", NULL) < 0)
		return -1;
	sqlite3_bind_text(s, 1, dir, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_double(s, 0);
	sqlite3_finalize(s);
	return v;
}

int mc_bk_catalog_dirs(struct mc_state *st, char ***out, size_t *n,
		       struct mc_err *err)
{
	sqlite3_stmt *s;
	int rc;

	*out = NULL;
	*n = 0;
	if (mc_state_prepare(st, "SELECT DISTINCT dir FROM backups WHERE "
			     "removed IS NULL ORDER BY dir", &s, "backup "
			     "catalogue", err) < 0)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*out = mc_realloc(*out, (*n + 1) * sizeof(**out));
		(*out)[(*n)++] = mc_state_column_dup(s, 0);
	}
	sqlite3_finalize(s);
	if (rc == SQLITE_DONE)
		return 0;
	for (size_t i = 0; i < *n; i++)
		free((*out)[i]);
	free(*out);
	*out = NULL;
	*n = 0;
	return mc_state_sqlerr(st, err, "backup catalogue");
}

int mc_bk_health(struct mc_state *st, const char *dir, int64_t max_age_ms,
		 double now, double *age, char **msg)
{
	struct mc_bk_entry *e = NULL;
	struct mc_err err = { 0 };
	struct mc_bk_cat c = { 0 };
	const struct mc_bk_manifest *m;
	char a[32], lim[32];
	size_t n = 0;
	int status;

	*age = -1;
	if (mc_bk_list(dir, &e, &n, &err) < 0) {
		/* no directory, no backup: critical as an empty one is */
		*msg = err.sys_errno == ENOENT ?
		       mc_asprintf("no backup in %s: the directory does not "
				   "exist", dir) : mc_strdup(err.msg);
		return err.sys_errno == ENOENT ? 2 : 3;
	}
	if (n == 0 || (e[0].m == NULL && n == 1)) {
		*msg = n ? mc_asprintf("the only backup in %s, %s, is damaged: "
				       "%s", dir, e[0].id, e[0].damaged) :
			   mc_asprintf("no backup in %s", dir);
		mc_bk_entries_free(e, n);
		return 2;
	}
	if (e[0].m == NULL) {
		*msg = mc_asprintf("the newest backup %s is damaged: %s", e[0].id,
				   e[0].damaged);
		mc_bk_entries_free(e, n);
		return 2;
	}
	m = e[0].m;
	*age = now - m->created;
	mc_format_duration((int64_t)(*age > 0 ? *age : 0) * 1000, a, sizeof(a));
	mc_format_duration(max_age_ms, lim, sizeof(lim));
	if (st)
		mc_bk_catalog_get(st, m->id, &c, NULL);
	if (*age * 1000 > (double)max_age_ms) {
		*msg = mc_asprintf("the newest backup %s is %s old, older than "
				   "max_age %s", m->id, a, lim);
		status = 2;
	} else if (c.verified > 0 && !c.verify_ok) {
		*msg = mc_asprintf("the newest backup %s failed its last verify: "
				   "%s", m->id, c.verify_message ?
				   c.verify_message : "?");
		status = 2;
	} else {
		*msg = mc_asprintf("the newest backup %s is %s old (max_age %s), "
				   "%s", m->id, a, lim, c.verified > 0 ?
				   "verified" : "not verified yet");
		status = 0;
	}
	mc_bk_cat_release(&c);
	mc_bk_entries_free(e, n);
	return status;
}
