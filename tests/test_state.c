/* test_state.c - the SQLite state file (lib/state.c). */
#include <criterion/criterion.h>

#include "testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mc.h"
#include "state.h"

#define NPROC 20





static int exists(const char *path, const char *suffix)
{
	char *p = mc_asprintf("%s%s", path, suffix);
	int r = access(p, F_OK) == 0;

	free(p);
	return r;
}

static char *slurp(const char *path, size_t *len)
{
	struct mc_err err = { 0 };
	char *data = mc_read_file(path, 1 << 20, len, &err);

	cr_assert_not_null(data, "%s", err.msg);
	return data;
}

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	cr_assert(fd >= 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static struct mc_state *open_ok(const char *path)
{
	struct mc_err err = { 0 };
	struct mc_state *st = mc_state_open(path, &err);

	cr_assert_not_null(st, "open %s: %s", path, err.msg);
	return st;
}

static char *query_text(struct mc_state *st, const char *sql)
{
	sqlite3_stmt *s;
	char *v = NULL;

	cr_assert_eq(sqlite3_prepare_v2(mc_state_db(st), sql, -1, &s, NULL),
		     SQLITE_OK, "%s", sqlite3_errmsg(mc_state_db(st)));
	if (sqlite3_step(s) == SQLITE_ROW)
		v = mc_strdup((const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	cr_assert_not_null(v, "%s: no row", sql);
	return v;
}

static long long query_int(struct mc_state *st, const char *sql)
{
	char *t = query_text(st, sql);
	long long v = atoll(t);

	free(t);
	return v;
}

static void check_modes(mode_t mask)
{
	char dirbuf[MC_TEST_DIR_LEN], *dir = mc_test_dir(dirbuf);
	char *sub = mc_asprintf("%s/a/mercury", dir);
	char *path = mc_asprintf("%s/state.db", sub);
	char *wal = mc_asprintf("%s-wal", path);
	mode_t old = umask(mask);
	struct mc_state *st = open_ok(path);
	struct stat sb;

	umask(old);
	cr_assert_eq(stat(path, &sb), 0);
	cr_assert(S_ISREG(sb.st_mode));
	cr_assert_eq(sb.st_mode & 07777, 0600, "umask %03o: file mode %03o",
		     (unsigned)mask, (unsigned)(sb.st_mode & 07777));
	cr_assert_eq(stat(sub, &sb), 0);
	cr_assert_eq(sb.st_mode & 07777, 0700, "umask %03o: dir mode %03o",
		     (unsigned)mask, (unsigned)(sb.st_mode & 07777));
	/* SQLite's companions copy the file's mode */
	cr_assert_eq(stat(wal, &sb), 0, "%s: %s", wal, strerror(errno));
	cr_assert_eq(sb.st_mode & 0077, 0, "wal mode %03o",
		     (unsigned)(sb.st_mode & 07777));
	cr_assert_str_eq(mc_state_path(st), path);
	cr_assert_str_eq(mc_state_dir(st), sub);
	mc_state_close(st);
	free(wal);
	free(path);
	free(sub);
	mc_test_rmtree(dir);
}

Test(state, new_file_0600_dir_0700_umask_0)
{
	check_modes(0);
}

Test(state, new_file_0600_dir_0700_umask_077)
{
	check_modes(077);
}

Test(state, wal_and_schema_version)
{
	char dirbuf[MC_TEST_DIR_LEN], *dir = mc_test_dir(dirbuf);
	char *path = mc_asprintf("%s/state.db", dir);
	struct mc_state *st = open_ok(path);
	char *mode = query_text(st, "PRAGMA journal_mode");

	cr_assert_str_eq(mode, "wal");
	cr_assert_geq(mc_state_schema_version(), 1);
	cr_assert_eq(query_int(st, "PRAGMA user_version"),
		     mc_state_schema_version());
	cr_assert_eq(query_int(st, "PRAGMA foreign_keys"), 1);
	cr_assert_eq(query_int(st,
			       "SELECT count(*) FROM sqlite_master WHERE type ="
			       " 'table' AND name IN ('runs', 'check_results',"
			       " 'breakers', 'buckets')"), 4);
	free(mode);
	mc_state_close(st);
	/* opening again migrates nothing and keeps the version */
	st = open_ok(path);
	cr_assert_eq(query_int(st, "PRAGMA user_version"),
		     mc_state_schema_version());
	mc_state_close(st);
	free(path);
	mc_test_rmtree(dir);
}

static int64_t begin_run(struct mc_state *st, const char *command,
			 double started)
{
	struct mc_err err = { 0 };
	int64_t id = 0;

	cr_assert_eq(mc_state_run_begin(st, command, "--x 'y'", "corr-1",
					started, &id, &err), 0, "%s", err.msg);
	cr_assert_gt(id, 0);
	return id;
}

Test(state, runs_begin_end_list_filter_prune)
{
	char dirbuf[MC_TEST_DIR_LEN], *dir = mc_test_dir(dirbuf);
	char *path = mc_asprintf("%s/state.db", dir);
	struct mc_state *st = open_ok(path);
	struct mc_err err = { 0 };
	struct mc_run *runs;
	size_t n;
	int64_t a, b, c, removed = -1;
	char *sql;

	a = begin_run(st, "health", 100);
	b = begin_run(st, "dlq replay", 200);
	c = begin_run(st, "health", 300);
	cr_assert_eq(mc_state_run_end(st, a, 2, "critical", "db down", 150,
				      &err), 0, "%s", err.msg);
	cr_assert_eq(mc_state_run_end(st, b, 0, "ok", NULL, 250, &err), 0,
		     "%s", err.msg);
	cr_assert_eq(mc_state_run_end(st, 9999, 0, "ok", NULL, 250, &err),
		     -1);

	cr_assert_eq(mc_state_runs(st, NULL, 0, 0, &runs, &n, &err), 0);
	cr_assert_eq(n, 3);
	cr_assert_eq(runs[0].id, c);	/* newest first */
	cr_assert_eq(runs[1].id, b);
	cr_assert_eq(runs[2].id, a);
	cr_assert_str_eq(runs[0].status, "running");
	cr_assert_eq(runs[0].exit_code, -1);
	cr_assert_eq(runs[0].ended, 0);
	cr_assert_null(runs[0].message);
	cr_assert_eq(runs[0].pid, (long)getpid());
	cr_assert_str_eq(runs[2].command, "health");
	cr_assert_str_eq(runs[2].args, "--x 'y'");
	cr_assert_str_eq(runs[2].correlation_id, "corr-1");
	cr_assert_str_eq(runs[2].status, "critical");
	cr_assert_str_eq(runs[2].message, "db down");
	cr_assert_eq(runs[2].exit_code, 2);
	cr_assert_eq(runs[2].started, 100);
	cr_assert_eq(runs[2].ended, 150);
	mc_runs_free(runs, n);

	cr_assert_eq(mc_state_runs(st, "health", 0, 0, &runs, &n, &err), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(runs[0].id, c);
	cr_assert_eq(runs[1].id, a);
	mc_runs_free(runs, n);

	cr_assert_eq(mc_state_runs(st, NULL, 200, 0, &runs, &n, &err), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(runs[1].id, b);
	mc_runs_free(runs, n);

	cr_assert_eq(mc_state_runs(st, NULL, 0, 1, &runs, &n, &err), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(runs[0].id, c);
	mc_runs_free(runs, n);

	cr_assert_eq(mc_state_runs(st, "nothing", 0, 0, &runs, &n, &err), 0);
	cr_assert_eq(n, 0);
	mc_runs_free(runs, n);

	/* a command takes its subcommands' runs, word by word */
	cr_assert_eq(mc_state_runs(st, "dlq", 0, 0, &runs, &n, &err), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(runs[0].id, b);
	mc_runs_free(runs, n);
	cr_assert_eq(mc_state_runs(st, "dl", 0, 0, &runs, &n, &err), 0);
	cr_assert_eq(n, 0);
	mc_runs_free(runs, n);
	cr_assert_eq(mc_state_runs(st, "dlq replay", 0, 0, &runs, &n, &err),
		     0);
	cr_assert_eq(n, 1);
	mc_runs_free(runs, n);

	/* history of run a, plus a free-standing old and a new result */
	sql = mc_asprintf("INSERT INTO check_results (run_id, ts, check_name,"
			  " type, status, critical) VALUES"
			  " (%lld, 120, 'db', 'tcp', 'critical', 1),"
			  " (NULL, 50, 'web', 'http', 'ok', 0),"
			  " (%lld, 310, 'db', 'tcp', 'ok', 1)",
			  (long long)a, (long long)c);
	cr_assert_eq(mc_state_exec(st, sql, &err), 0, "%s", err.msg);
	free(sql);

	cr_assert_eq(mc_state_prune(st, 250, &removed, &err), 0, "%s",
		     err.msg);
	cr_assert_eq(removed, 4);	/* runs a, b; two results */
	cr_assert_eq(mc_state_runs(st, NULL, 0, 0, &runs, &n, &err), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(runs[0].id, c);
	mc_runs_free(runs, n);
	cr_assert_eq(query_int(st, "SELECT count(*) FROM check_results"), 1);
	cr_assert_eq(mc_state_prune(st, 250, &removed, &err), 0);
	cr_assert_eq(removed, 0);

	mc_state_close(st);
	free(path);
	mc_test_rmtree(dir);
}

Test(state, reopen_keeps_data)
{
	char dirbuf[MC_TEST_DIR_LEN], *dir = mc_test_dir(dirbuf);
	char *path = mc_asprintf("%s/state.db", dir);
	struct mc_state *st = open_ok(path);
	struct mc_err err = { 0 };
	struct mc_run *runs;
	size_t n;
	int64_t id = begin_run(st, "backup run", 42);

	cr_assert_eq(mc_state_run_end(st, id, 0, "ok", "done", 43, &err), 0);
	mc_state_close(st);
	st = open_ok(path);
	cr_assert_eq(mc_state_runs(st, NULL, 0, 0, &runs, &n, &err), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(runs[0].id, id);
	cr_assert_str_eq(runs[0].command, "backup run");
	cr_assert_str_eq(runs[0].message, "done");
	mc_runs_free(runs, n);
	mc_state_close(st);
	free(path);
	mc_test_rmtree(dir);
}

struct snapshot {
	char *data;
	size_t len;
	struct stat sb;
};

static void snap(const char *path, struct snapshot *s)
{
	s->data = slurp(path, &s->len);
	cr_assert_eq(stat(path, &s->sb), 0);
}

static void assert_untouched(const char *path, struct snapshot *s)
{
	struct snapshot now;

	snap(path, &now);
	cr_assert_eq(now.len, s->len, "%s changed size", path);
	cr_assert(memcmp(now.data, s->data, s->len) == 0, "%s changed",
		  path);
	cr_assert_eq(now.sb.st_mtim.tv_sec, s->sb.st_mtim.tv_sec);
	cr_assert_eq(now.sb.st_mtim.tv_nsec, s->sb.st_mtim.tv_nsec);
	cr_assert_eq(now.sb.st_mode, s->sb.st_mode);
	free(now.data);
	free(s->data);
}

static void assert_no_companions(const char *path)
{
	cr_assert_not(exists(path, "-wal"), "%s-wal created", path);
	cr_assert_not(exists(path, "-shm"), "%s-shm created", path);
	cr_assert_not(exists(path, "-journal"), "%s-journal created",
		      path);
}

static void make_db(const char *path, const char *sql)
{
	sqlite3 *db;

	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK,
		     "%s", sqlite3_errmsg(db));
	cr_assert_eq(sqlite3_close(db), SQLITE_OK);
}

static void check_newer(int wal)
{
	char dirbuf[MC_TEST_DIR_LEN], *dir = mc_test_dir(dirbuf);
	char *path = mc_asprintf("%s/state.db", dir);
	struct mc_err err = { 0 };
	struct snapshot s;
	char want[128];

	make_db(path, wal ? "PRAGMA journal_mode=WAL; CREATE TABLE future(x);"
			    " INSERT INTO future VALUES (1);"
			    " PRAGMA user_version = 99;" :
			    "CREATE TABLE future(x); INSERT INTO future"
			    " VALUES (1); PRAGMA user_version = 99;");
	snap(path, &s);
	cr_assert_null(mc_state_open(path, &err));
	cr_assert_eq(err.code, MC_EXIT_IOERR);
	snprintf(want, sizeof(want),
		 "schema version 99 is newer than this mercuryctl understands (%d)",
		 mc_state_schema_version());
	cr_assert_not_null(strstr(err.msg, want), "%s", err.msg);
	cr_assert_not_null(strstr(err.msg, path), "%s", err.msg);
	cr_assert_not_null(strstr(err.msg, "left untouched"), "%s", err.msg);
	assert_untouched(path, &s);
	if (!wal)
		assert_no_companions(path);
	free(path);
	mc_test_rmtree(dir);
}

Test(state, newer_schema_refused_untouched)
{
	check_newer(0);
}

Test(state, newer_schema_wal_file_refused_untouched)
{
	check_newer(1);
}

/* A newer file whose last writer left committed frames in its WAL (as a
 * crash does): refusing it must not checkpoint them into the main file. */
Test(state, newer_schema_with_pending_wal_refused_untouched)
{
	char dirbuf[MC_TEST_DIR_LEN], *dir = mc_test_dir(dirbuf);
	char *path = mc_asprintf("%s/state.db", dir);
	char *wal = mc_asprintf("%s-wal", path);
	struct mc_err err = { 0 };
	struct snapshot s, sw;
	sqlite3 *db;
	char *sql, *want;

	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, "PRAGMA journal_mode=WAL;"
				  " CREATE TABLE future(x);", NULL, NULL,
				  NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_close(db), SQLITE_OK);
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
				       1, NULL), SQLITE_OK);
	/* newer than this binary, whatever its schema version */
	sql = mc_asprintf("PRAGMA wal_autocheckpoint=0;"
			  " INSERT INTO future VALUES (1);"
			  " PRAGMA user_version = %d;",
			  mc_state_schema_version() + 1);
	cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	free(sql);
	cr_assert_eq(sqlite3_close(db), SQLITE_OK);
	snap(path, &s);
	snap(wal, &sw);
	cr_assert_gt(sw.len, 0);
	cr_assert_null(mc_state_open(path, &err));
	cr_assert_eq(err.code, MC_EXIT_IOERR);
	want = mc_asprintf("schema version %d is newer",
			   mc_state_schema_version() + 1);
	cr_assert_not_null(strstr(err.msg, want), "%s", err.msg);
	free(want);
	assert_untouched(path, &s);
	assert_untouched(wal, &sw);
	free(wal);
	free(path);
	mc_test_rmtree(dir);
}

static void check_garbage(const void *bytes, size_t len)
{
	char dirbuf[MC_TEST_DIR_LEN], *dir = mc_test_dir(dirbuf);
	char *path = mc_asprintf("%s/state.db", dir);
	struct mc_err err = { 0 };
	struct snapshot s;

	write_file(path, bytes, len);
	snap(path, &s);
	cr_assert_null(mc_state_open(path, &err));
	cr_assert_eq(err.code, MC_EXIT_IOERR);
	cr_assert_not_null(strstr(err.msg, path), "%s", err.msg);
	cr_assert_not_null(strstr(err.msg, "not a mercuryctl state database"),
			   "%s", err.msg);
	cr_assert_not_null(strstr(err.msg, "left untouched"), "%s", err.msg);
	assert_untouched(path, &s);
	assert_no_companions(path);
	free(path);
	mc_test_rmtree(dir);
}

Test(state, garbage_refused_untouched)
{
	unsigned char junk[8192];

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)(i * 7 + 3);
	check_garbage(junk, sizeof(junk));
}

Test(state, short_text_file_refused_untouched)
{
	static const char text[] = "[core]\nhistory = 30d\n";

	check_garbage(text, sizeof(text) - 1);
}

Test(state, foreign_sqlite_database_refused_untouched)
{
	char dirbuf[MC_TEST_DIR_LEN], *dir = mc_test_dir(dirbuf);
	char *path = mc_asprintf("%s/other.db", dir);
	struct mc_err err = { 0 };
	struct snapshot s;

	make_db(path, "CREATE TABLE runs(x); INSERT INTO runs VALUES (1);");
	snap(path, &s);
	cr_assert_null(mc_state_open(path, &err));
	cr_assert_eq(err.code, MC_EXIT_IOERR);
	cr_assert_not_null(strstr(err.msg, "not a mercuryctl state database"),
			   "%s", err.msg);
	assert_untouched(path, &s);
	assert_no_companions(path);
	free(path);
	mc_test_rmtree(dir);
}

Test(state, directory_refused)
{
	char dirbuf[MC_TEST_DIR_LEN], *dir = mc_test_dir(dirbuf);
	struct mc_err err = { 0 };

	cr_assert_null(mc_state_open(dir, &err));
	cr_assert_eq(err.code, MC_EXIT_IOERR);
	cr_assert_not_null(strstr(err.msg, dir), "%s", err.msg);
	cr_assert_not_null(strstr(err.msg, strerror(EISDIR)), "%s", err.msg);
	mc_test_rmtree(dir);
}

Test(state, parent_is_a_file_refused)
{
	char dirbuf[MC_TEST_DIR_LEN], *dir = mc_test_dir(dirbuf);
	char *file = mc_asprintf("%s/plain", dir);
	char *path = mc_asprintf("%s/state.db", file);
	struct mc_err err = { 0 };

	write_file(file, "x", 1);
	cr_assert_null(mc_state_open(path, &err));
	cr_assert_eq(err.code, MC_EXIT_IOERR);
	cr_assert_not_null(strstr(err.msg, file), "%s", err.msg);
	free(path);
	free(file);
	mc_test_rmtree(dir);
}

Test(state, exec_error_is_ioerr_naming_path)
{
	char dirbuf[MC_TEST_DIR_LEN], *dir = mc_test_dir(dirbuf);
	char *path = mc_asprintf("%s/state.db", dir);
	struct mc_state *st = open_ok(path);
	struct mc_err err = { 0 };

	cr_assert_eq(mc_state_exec(st, "SELECT * FROM no_such_table", &err),
		     -1);
	cr_assert_eq(err.code, MC_EXIT_IOERR);
	cr_assert_eq(strncmp(err.msg, path, strlen(path)), 0, "%s", err.msg);
	cr_assert_not_null(strstr(err.msg, "no_such_table"), "%s", err.msg);
	/* a rolled-back transaction leaves nothing */
	cr_assert_eq(mc_state_begin(st, &err), 0, "%s", err.msg);
	begin_run(st, "x", 1);
	mc_state_rollback(st);
	cr_assert_eq(query_int(st, "SELECT count(*) FROM runs"), 0);
	cr_assert_eq(mc_state_begin(st, &err), 0, "%s", err.msg);
	begin_run(st, "x", 1);
	cr_assert_eq(mc_state_commit(st, &err), 0, "%s", err.msg);
	cr_assert_eq(query_int(st, "SELECT count(*) FROM runs"), 1);
	mc_state_close(st);
	free(path);
	mc_test_rmtree(dir);
}

Test(state, default_path)
{
	char *p;

	setenv("MERCURY_STATE", "/srv/m.db", 1);
	setenv("XDG_STATE_HOME", "/xdg", 1);
	setenv("HOME", "/home/u", 1);
	p = mc_state_default_path();
	cr_assert_str_eq(p, "/srv/m.db");
	free(p);
	unsetenv("MERCURY_STATE");
	p = mc_state_default_path();
	cr_assert_str_eq(p, "/xdg/mercury/state.db");
	free(p);
	setenv("XDG_STATE_HOME", "relative/dir", 1);
	p = mc_state_default_path();
	cr_assert_str_eq(p, "/home/u/.local/state/mercury/state.db");
	free(p);
	unsetenv("XDG_STATE_HOME");
	p = mc_state_default_path();
	cr_assert_str_eq(p, "/home/u/.local/state/mercury/state.db");
	free(p);
	unsetenv("HOME");
	p = mc_state_default_path();
	cr_assert_str_eq(p, "/var/lib/mercury/state.db");
	free(p);
}

static int child_run(const char *path, int go)
{
	struct mc_err err = { 0 };
	struct mc_state *st;
	int64_t id;
	char c;

	/* the parent closes its end to release every child at once */
	while (read(go, &c, 1) < 0 && errno == EINTR)
		;
	st = mc_state_open(path, &err);
	if (st == NULL) {
		fprintf(stderr, "child %ld: %s\n", (long)getpid(), err.msg);
		return err.code ? err.code : 1;
	}
	if (mc_state_run_begin(st, "health", NULL, NULL, mc_wall_now(), &id,
			       &err) < 0 ||
	    mc_state_run_end(st, id, 0, "ok", NULL, mc_wall_now(), &err) < 0) {
		fprintf(stderr, "child %ld: %s\n", (long)getpid(), err.msg);
		mc_state_close(st);
		return err.code ? err.code : 1;
	}
	mc_state_close(st);
	return 0;
}

Test(state, concurrent_open_of_fresh_path)
{
	char dirbuf[MC_TEST_DIR_LEN], *dir = mc_test_dir(dirbuf);
	char path[MC_TEST_DIR_LEN + 32];
	pid_t pids[NPROC];
	struct mc_run *runs;
	struct mc_state *st;
	struct mc_err err = { 0 };
	int go[2], ok = 0;
	size_t n;

	snprintf(path, sizeof(path), "%s/fresh/state.db", dir);
	cr_assert_eq(pipe(go), 0);
	for (int i = 0; i < NPROC; i++) {
		pids[i] = fork();
		cr_assert(pids[i] >= 0, "fork: %s", strerror(errno));
		if (pids[i] == 0) {
			close(go[1]);
			_exit(child_run(path, go[0]));
		}
	}
	close(go[0]);
	close(go[1]);
	for (int i = 0; i < NPROC; i++) {
		int status;

		cr_assert_eq(waitpid(pids[i], &status, 0), pids[i]);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			ok++;
		else
			cr_log_error("child %d: status %#x", i, status);
	}
	cr_assert_eq(ok, NPROC);
	st = open_ok(path);
	cr_assert_eq(mc_state_runs(st, "health", 0, 0, &runs, &n, &err), 0);
	cr_assert_eq(n, NPROC);
	for (size_t i = 0; i < n; i++)
		cr_assert_str_eq(runs[i].status, "ok");
	mc_runs_free(runs, n);
	cr_assert_eq(query_int(st, "PRAGMA user_version"),
		     mc_state_schema_version());
	mc_state_close(st);
	mc_test_rmtree(dir);
}

/* A file at schema 1 (as the first release wrote it) is migrated forward
 * on open, its data kept. */
Test(state, migrates_version_1_forward)
{
	char dirbuf[MC_TEST_DIR_LEN], *dir = mc_test_dir(dirbuf);
	char *path = mc_asprintf("%s/state.db", dir);
	struct mc_err err = { 0 };
	struct mc_state *st = mc_state_open(path, &err);
	int64_t id = 0;
	sqlite3_stmt *s = NULL;

	cr_assert_not_null(st, "%s", err.msg);
	cr_assert_eq(mc_state_run_begin(st, "old", "", "cid", 1.0, &id, &err), 0);
	/* Back to what schema 1 was. */
	cr_assert_eq(mc_state_exec(st, "DROP TABLE dlq_runs;"
				   "DROP TABLE alert_log; DROP TABLE alert_dedup;"
				   "DROP TABLE check_notify;"
				   "DROP TABLE slo_results;"
				   "DROP TABLE dlq_totals;"
				   "DROP TABLE oauth_tokens;"
				   "DROP TABLE oauth_discovery;"
				   "DROP TABLE backups;"
				   "DROP TABLE job_runs; DROP TABLE job_seen;"
				   "DROP TABLE job_alerts;"
				   "ALTER TABLE breakers DROP COLUMN recovery;"
				   "PRAGMA user_version = 1", &err), 0, "%s",
		     err.msg);
	mc_state_close(st);

	st = mc_state_open(path, &err);
	cr_assert_not_null(st, "%s", err.msg);
	cr_assert_eq(sqlite3_prepare_v2(mc_state_db(st), "PRAGMA user_version",
					-1, &s, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
	cr_assert_eq(sqlite3_column_int(s, 0), mc_state_schema_version());
	sqlite3_finalize(s);
	cr_assert_eq(mc_state_exec(st, "SELECT count(*) FROM dlq_runs;"
				   "SELECT count(*) FROM alert_log;"
				   "SELECT count(*) FROM alert_dedup;"
				   "SELECT count(*) FROM check_notify;"
				   "SELECT count(*) FROM job_runs;"
				   "SELECT count(*) FROM job_seen;"
				   "SELECT count(*) FROM job_alerts;"
				   "SELECT count(*) FROM slo_results;"
				   "SELECT count(*) FROM dlq_totals;"
				   "SELECT count(*) FROM oauth_tokens;"
				   "SELECT count(*) FROM oauth_discovery;"
				   "SELECT count(*) FROM backups", &err), 0,
		     "%s", err.msg);
	cr_assert_eq(sqlite3_prepare_v2(mc_state_db(st),
					"SELECT command FROM runs", -1, &s, NULL),
		     SQLITE_OK);
	cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
	cr_assert_str_eq((const char *)sqlite3_column_text(s, 0), "old");
	sqlite3_finalize(s);
	mc_state_close(st);
	free(path);
	mc_test_rmtree(dir);
}

/* ---- mc_state_collect --------------------------------------------------- */

struct counted {
	char *text;
};

static int collect_released;

static void counted_row(sqlite3_stmt *s, void *element, void *ctx)
{
	struct counted *c = element;

	(*(int *)ctx)++;
	c->text = mc_state_column_dup(s, 0);
}

static void counted_release(void *element)
{
	free(((struct counted *)element)->text);
	collect_released++;
}

Test(state, collect_rows_and_a_failing_step)
{
	char dirbuf[MC_TEST_DIR_LEN], *dir = mc_test_dir(dirbuf);
	char *path = mc_asprintf("%s/state.db", dir);
	struct mc_state *st = open_ok(path);
	struct mc_err err = { 0 };
	sqlite3_stmt *s;
	void *rows = (void *)1;
	size_t n = 99;
	int seen = 0;

	/* Three rows. */
	cr_assert_eq(mc_state_prepare(st, "SELECT value FROM json_each("
				      "'[\"a\",\"b\",\"c\"]')", &s, "x",
				      &err), 0, "%s", err.msg);
	cr_assert_eq(mc_state_collect(st, s, sizeof(struct counted),
				      counted_row, &seen, counted_release,
				      &rows, &n, "cannot collect", &err), 0,
		     "%s", err.msg);
	cr_assert_eq(n, 3);
	cr_assert_eq(seen, 3);
	cr_assert_str_eq(((struct counted *)rows)[2].text, "c");
	for (size_t i = 0; i < n; i++)
		counted_release(&((struct counted *)rows)[i]);
	free(rows);

	/* No row: NULL and 0. */
	cr_assert_eq(mc_state_prepare(st, "SELECT 1 WHERE 0", &s, "x", &err),
		     0, "%s", err.msg);
	cr_assert_eq(mc_state_collect(st, s, sizeof(struct counted),
				      counted_row, &seen, counted_release,
				      &rows, &n, "cannot collect", &err), 0);
	cr_assert_null(rows);
	cr_assert_eq(n, 0);

	/* Two rows, then a step that fails (integer overflow in abs()):
	 * what was collected is released, and nothing is handed back. */
	collect_released = 0;
	seen = 0;
	cr_assert_eq(mc_state_prepare(st, "SELECT CASE WHEN key < 2 THEN value"
				      " ELSE abs(-9223372036854775807 - 1) END"
				      " FROM json_each('[\"a\",\"b\",\"c\"]')",
				      &s, "x", &err), 0, "%s", err.msg);
	cr_assert_eq(mc_state_collect(st, s, sizeof(struct counted),
				      counted_row, &seen, counted_release,
				      &rows, &n, "cannot collect", &err), -1);
	cr_assert_eq(seen, 2);
	cr_assert_eq(collect_released, 2);
	cr_assert_null(rows);
	cr_assert_eq(n, 0);
	cr_assert(strstr(err.msg, "cannot collect") != NULL, "%s", err.msg);
	mc_state_close(st);
	free(path);
}
