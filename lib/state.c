/*
 * state.c - the SQLite state file (docs/DESIGN.md, "State").
 *
 * Opening never writes to a file it does not recognise: the schema version
 * (PRAGMA user_version) is read first, and a file that is not a SQLite
 * database, or one newer than this binary, is refused untouched. Only then
 * does the connection switch to WAL and apply the pending migrations, each
 * step tolerant of many processes opening the same fresh path at once.
 */
#include "state.h"

#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The busy timeout, and the bound of our own retries. */
#define STATE_BUSY_MS	10000
#define STATE_BUSY_MIN_MS 250

struct mc_state {
	sqlite3 *db;
	char *path;
	char *dir;
	const struct mc_deadline *dl;	/* the run's, NULL: none */
	double busy_start;		/* of the current busy wait */
	int ours;			/* opened as a state database */
};

/* Migration i takes the schema from version i to i + 1. Append only: a
 * released entry is never edited. */
static const char *const migrations[] = {
	/* 0 -> 1: runs, check history, breakers, buckets */
	"CREATE TABLE runs ("
	" id INTEGER PRIMARY KEY,"
	" command TEXT NOT NULL,"
	" args TEXT,"
	" correlation_id TEXT,"
	" pid INTEGER,"
	" started REAL NOT NULL,"
	" ended REAL,"
	" exit_code INTEGER,"
	" status TEXT NOT NULL DEFAULT 'running',"
	" message TEXT);"
	"CREATE INDEX runs_started ON runs(started);"
	"CREATE INDEX runs_command_started ON runs(command, started);"
	"CREATE TABLE check_results ("
	" id INTEGER PRIMARY KEY,"
	" run_id INTEGER REFERENCES runs(id) ON DELETE CASCADE,"
	" ts REAL NOT NULL,"
	" check_name TEXT NOT NULL,"
	" type TEXT NOT NULL,"
	" status TEXT NOT NULL,"
	" critical INTEGER NOT NULL,"
	" latency_ms REAL,"
	" message TEXT,"
	" value REAL);"
	"CREATE INDEX check_results_name_ts ON check_results(check_name, ts);"
	"CREATE INDEX check_results_run ON check_results(run_id);"
	"CREATE TABLE breakers ("
	" name TEXT PRIMARY KEY,"
	" state INTEGER NOT NULL,"
	" failures INTEGER NOT NULL,"
	" opened_at REAL,"
	" probe_at REAL,"
	" updated REAL NOT NULL);"
	"CREATE TABLE buckets ("
	" name TEXT PRIMARY KEY,"
	" tokens REAL NOT NULL,"
	" updated REAL NOT NULL);",
	/* 1 -> 2: the audit of DLQ replays */
	"CREATE TABLE dlq_runs ("
	" id INTEGER PRIMARY KEY,"
	" run_id INTEGER REFERENCES runs(id) ON DELETE CASCADE,"
	" ts REAL NOT NULL,"
	" dlq TEXT NOT NULL,"
	" replayed INTEGER NOT NULL,"
	" dead INTEGER NOT NULL,"
	" left_in_source INTEGER NOT NULL,"
	" stopped_by TEXT,"
	" dry_run INTEGER NOT NULL,"
	" duration_ms REAL,"
	" correlation_id TEXT);"
	"CREATE INDEX dlq_runs_dlq_ts ON dlq_runs(dlq, ts);"
	"CREATE INDEX dlq_runs_run ON dlq_runs(run_id);",
	/* 2 -> 3: alert deliveries and dedup, health --notify streaks, SLO
	 * evaluations, and each breaker's own recovery time */
	"ALTER TABLE breakers ADD COLUMN recovery REAL;"
	"CREATE TABLE alert_log ("
	" id INTEGER PRIMARY KEY,"
	" run_id INTEGER REFERENCES runs(id) ON DELETE CASCADE,"
	" ts REAL NOT NULL,"
	" webhook TEXT NOT NULL,"
	" dedup_key TEXT NOT NULL,"
	" action TEXT NOT NULL,"		/* trigger | resolve | test */
	" severity TEXT NOT NULL,"
	" summary TEXT,"
	" source TEXT,"
	" result TEXT NOT NULL,"	/* delivered | suppressed | ... */
	" attempts INTEGER NOT NULL,"
	" http_status INTEGER,"
	" latency_ms REAL,"
	" message TEXT,"
	" correlation_id TEXT);"
	"CREATE INDEX alert_log_ts ON alert_log(ts);"
	"CREATE INDEX alert_log_run ON alert_log(run_id);"
	"CREATE TABLE alert_dedup ("
	" webhook TEXT NOT NULL,"
	" dedup_key TEXT NOT NULL,"
	" state TEXT NOT NULL,"		/* firing | resolved */
	" severity TEXT NOT NULL,"
	" sent REAL NOT NULL,"
	" lease REAL,"			/* set while a delivery is in flight */
	" PRIMARY KEY (webhook, dedup_key));"
	"CREATE TABLE check_notify ("
	" check_name TEXT PRIMARY KEY,"
	" notified TEXT NOT NULL,"	/* the state last alerted */
	" candidate TEXT,"		/* the state being counted */
	" streak INTEGER NOT NULL,"
	" updated REAL NOT NULL);"
	"CREATE TABLE slo_results ("
	" id INTEGER PRIMARY KEY,"
	" run_id INTEGER REFERENCES runs(id) ON DELETE CASCADE,"
	" ts REAL NOT NULL,"		/* the evaluation instant */
	" recorded REAL NOT NULL,"
	" slo TEXT NOT NULL,"
	" state TEXT NOT NULL,"
	" sli REAL,"
	" budget_consumed REAL,"
	" budget_remaining REAL,"
	" worst_burn REAL,"
	" burn_rates TEXT,"		/* JSON object: window -> burn rate */
	" message TEXT);"
	"CREATE INDEX slo_results_slo_ts ON slo_results(slo, ts);"
	"CREATE INDEX slo_results_run ON slo_results(run_id);",
	/* 3 -> 4: cumulative DLQ replay counts, never pruned, for the
	 * mercury_dlq_replayed_total and _dead_total counters; seeded from
	 * the audit still kept */
	"CREATE TABLE dlq_totals ("
	" dlq TEXT PRIMARY KEY,"
	" replayed INTEGER NOT NULL,"
	" dead INTEGER NOT NULL);"
	"INSERT INTO dlq_totals (dlq, replayed, dead)"
	" SELECT dlq, SUM(replayed), SUM(dead) FROM dlq_runs"
	" WHERE dry_run = 0 GROUP BY dlq;",
	/* 4 -> 5: OAuth tokens (the only place they are kept) and discovery
	 * documents, cached an hour */
	"CREATE TABLE oauth_tokens ("
	" provider TEXT PRIMARY KEY,"
	" access_token TEXT,"
	" refresh_token TEXT,"
	" token_type TEXT,"
	" scope TEXT,"
	" expires_at REAL,"		/* Unix time; NULL: unknown */
	" obtained REAL,"
	" needs_login INTEGER NOT NULL DEFAULT 0,"
	" last_refresh REAL,"
	" last_result TEXT,"		/* ok, or why not; never a token */
	" notified INTEGER NOT NULL DEFAULT 0,"	/* needs-login alerted */
	" updated REAL NOT NULL);"
	"CREATE TABLE oauth_discovery ("
	" issuer TEXT PRIMARY KEY,"
	" document TEXT NOT NULL,"
	" fetched REAL NOT NULL);",
	/* 5 -> 6: the backup catalogue (the backup directory stays the
	 * truth; this is history for metrics and the health check) */
	"CREATE TABLE backups ("
	" id TEXT PRIMARY KEY,"
	" dir TEXT NOT NULL,"
	" created REAL NOT NULL,"
	" files INTEGER NOT NULL,"
	" size INTEGER NOT NULL,"
	" stored INTEGER NOT NULL,"
	" duration REAL,"
	" note TEXT,"
	" correlation_id TEXT,"
	" run_id INTEGER,"
	" verified REAL,"
	" verify_ok INTEGER,"
	" verify_message TEXT,"
	" restore_tested REAL,"
	" restore_test_ok INTEGER,"
	" restore_test_seconds REAL,"
	" removed REAL);"
	"CREATE INDEX backups_dir_created ON backups(dir, created);",
	/* 6 -> 7: job runs (start recorded before the command starts, so a
	 * run that never ends is seen), when each job was first seen (the
	 * anchor of its first expected start), and its notify state */
	"CREATE TABLE job_runs ("
	" id INTEGER PRIMARY KEY,"
	" job TEXT NOT NULL,"
	" started REAL NOT NULL,"
	" ended REAL,"
	" status TEXT NOT NULL,"	/* running ok failed timeout ... */
	" exit_code INTEGER,"
	" signal INTEGER,"
	" pid INTEGER,"
	" host TEXT,"
	" command TEXT,"
	" message TEXT,"
	" correlation_id TEXT,"
	" output BLOB,"			/* the kept tail */
	" output_total INTEGER);"
	"CREATE INDEX job_runs_job_started ON job_runs(job, started);"
	"CREATE INDEX job_runs_started ON job_runs(started);"
	"CREATE TABLE job_seen ("
	" job TEXT PRIMARY KEY,"
	" first_seen REAL NOT NULL);"
	"CREATE TABLE job_alerts ("
	" job TEXT PRIMARY KEY,"
	" state TEXT NOT NULL,"		/* firing | resolved */
	" updated REAL NOT NULL);",
};

int mc_state_schema_version(void)
{
	return (int)MC_ARRAY_LEN(migrations);
}

char *mc_state_default_path(void)
{
	const char *s;

	s = getenv("MERCURY_STATE");
	if (s != NULL && *s != '\0')
		return mc_strdup(s);
	s = getenv("XDG_STATE_HOME");
	if (s != NULL && s[0] == '/')	/* the XDG spec ignores relative */
		return mc_asprintf("%s/mercury/state.db", s);
	s = getenv("HOME");
	if (s != NULL && *s != '\0')
		return mc_asprintf("%s/.local/state/mercury/state.db", s);
	return mc_strdup("/var/lib/mercury/state.db");
}

sqlite3 *mc_state_db(struct mc_state *st)
{
	return st->db;
}

const char *mc_state_path(const struct mc_state *st)
{
	return st->path;
}

const char *mc_state_dir(const struct mc_state *st)
{
	return st->dir;
}

static char *parent_dir(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return mc_strdup(".");
	while (slash > path && slash[-1] == '/')
		slash--;
	if (slash == path)
		return mc_strdup("/");
	return mc_strndup(path, (size_t)(slash - path));
}

static int is_busy(int rc)
{
	rc &= 0xff;
	return rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
}

/* Sleeps a little before another try; 0 when the deadline has passed. */
static int retry_pause(double deadline)
{
	if (mc_mono_now() >= deadline)
		return 0;
	mc_sleep_ms(10 + (int64_t)(mc_random_unit() * 40));
	return 1;
}

int mc_state_sqlerr(struct mc_state *st, struct mc_err *err,
		    const char *what)
{
	int rc = sqlite3_errcode(st->db);
	int code = is_busy(rc) ? MC_EXIT_TEMPFAIL : MC_EXIT_IOERR;

	/* CORRUPT, NOTADB, IOERR, FULL, CANTOPEN, READONLY and everything
	 * else the state file can answer are I/O errors of the state file;
	 * only a lock held past the busy timeout is a temporary failure. */
	mc_err_set(err, code, "%s: %s: %s", st->path, what,
		   sqlite3_errmsg(st->db));
	if (err != NULL)
		err->sys_errno = sqlite3_system_errno(st->db);
	return -1;
}

/* Makes sure path names a regular file of ours that we can read and
 * write, creating it 0600 (and its directory 0700) when it does not
 * exist. A directory of someone else's or writable by all is refused, so
 * is a link at path (never followed); a file looser than 0600 is
 * tightened. */
static int ensure_file(const char *path, const char *dir, int *loose,
		       struct mc_err *err)
{
	const int flags = O_RDWR | O_CLOEXEC | O_NOCTTY | O_NONBLOCK |
			  O_NOFOLLOW;
	struct stat sb;
	int fd;

	*loose = 0;
	if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
		return mc_err_sys(err, MC_EXIT_IOERR, EISDIR, "%s", path);
	if (stat(dir, &sb) < 0) {
		if (errno != ENOENT)
			return mc_err_sys(err, MC_EXIT_IOERR, errno, "%s", dir);
		if (mc_mkdir_p(dir, 0700, err) < 0)
			return -1;
		/* mkdir obeyed the umask; the spec says 0700 */
		if (chmod(dir, 0700) < 0)
			return mc_err_sys(err, MC_EXIT_IOERR, errno, "%s", dir);
	}
	if (mc_dir_check_private(dir, err) < 0)
		return -1;
	fd = open(path, flags);
	if (fd < 0 && errno == ENOENT) {
		fd = open(path, flags | O_CREAT | O_EXCL, 0600);
		if (fd >= 0 && fchmod(fd, 0600) < 0) {
			int e = errno;

			close(fd);
			return mc_err_sys(err, MC_EXIT_IOERR, e, "%s", path);
		}
		if (fd < 0 && errno == EEXIST)	/* another process won */
			fd = open(path, flags);
	}
	if (fd < 0 && errno == ELOOP)
		return mc_err_set(err, MC_EXIT_IOERR,
				  "%s is a symbolic link: refused (the state file is never opened through a link)",
				  path);
	if (fd < 0 && (errno == EACCES || errno == EROFS))
		return mc_err_sys(err, MC_EXIT_IOERR, errno,
				  "%s: cannot open the state file for writing",
				  path);
	if (fd < 0)
		return mc_err_sys(err, MC_EXIT_IOERR, errno, "%s", path);
	if (fstat(fd, &sb) < 0) {
		int e = errno;

		close(fd);
		return mc_err_sys(err, MC_EXIT_IOERR, e, "%s", path);
	}
	if (!S_ISREG(sb.st_mode)) {
		close(fd);
		return mc_err_set(err, MC_EXIT_IOERR,
				  "%s: not a regular file", path);
	}
	if (sb.st_uid != geteuid()) {
		close(fd);
		return mc_err_set(err, MC_EXIT_IOERR,
				  "%s: owned by uid %ld, not by this user (uid %ld): refused",
				  path, (long)sb.st_uid, (long)geteuid());
	}
	*loose = (sb.st_mode & 07777 & ~0600) != 0;
	close(fd);
	return 0;
}

/* A state file of ours looser than 0600 (made by hand, or by an older
 * version) is tightened once it is known to be a state file. */
static int tighten(const char *path, struct mc_err *err)
{
	static const char *const suffix[] = { "", "-wal", "-shm" };

	for (size_t i = 0; i < MC_ARRAY_LEN(suffix); i++) {
		char *p = mc_asprintf("%s%s", path, suffix[i]);
		int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK |
			      O_NOFOLLOW);
		int e = errno;

		/* SQLite gives its -wal and -shm files the main file's
		 * mode: they were made as loose. */
		if (fd < 0 && e == ENOENT && i > 0) {
			free(p);
			continue;
		}
		if (fd < 0 || fchmod(fd, 0600) < 0) {
			e = errno;
			if (fd >= 0)
				close(fd);
			mc_err_sys(err, MC_EXIT_IOERR, e,
				   "%s: others may read the state file, and it cannot be tightened to 0600",
				   p);
			free(p);
			return -1;
		}
		close(fd);
		free(p);
	}
	return 0;
}

static int refuse_foreign(struct mc_state *st, struct mc_err *err)
{
	return mc_err_set(err, MC_EXIT_IOERR,
			  "%s: not a mercuryctl state database (corrupt or another file); it was left untouched",
			  st->path);
}

static int refuse_newer(struct mc_state *st, int version, struct mc_err *err)
{
	return mc_err_set(err, MC_EXIT_IOERR,
			  "%s: schema version %d is newer than this mercuryctl understands (%d); it was left untouched",
			  st->path, version, mc_state_schema_version());
}

/* When a wait for a lock that began at start gives up: STATE_BUSY_MS
 * later, or at the run's deadline when that comes first -- but never
 * sooner than STATE_BUSY_MIN_MS after start, so that the bookkeeping of a
 * run that reached its deadline (its end, the prune) can still get a
 * lock another run holds for a moment. */
static double busy_end(const struct mc_state *st, double start)
{
	double end = start + STATE_BUSY_MS / 1e3;

	if (st->dl != NULL && st->dl->at != 0 && st->dl->at < end)
		end = st->dl->at > start + STATE_BUSY_MIN_MS / 1e3 ?
		      st->dl->at : start + STATE_BUSY_MIN_MS / 1e3;
	return end;
}

/* SQLite's busy handler: waits with a short backoff until busy_end(). */
static int on_busy(void *arg, int count)
{
	struct mc_state *st = arg;
	double now = mc_mono_now(), left;
	struct timespec ts;
	long ms = count < 5 ? 1L << count : 20;

	if (count == 0)
		st->busy_start = now;
	left = (busy_end(st, st->busy_start) - now) * 1e3;
	if (left <= 0)
		return 0;
	if (left < ms)
		ms = (long)left + 1;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	nanosleep(&ts, NULL);
	return 1;
}

/* Not a mercuryctl state database, or one SQLite could not open for a
 * reason that has nothing to do with its content: say which. */
static int probe_failed(struct mc_state *st, struct mc_err *err)
{
	int rc = sqlite3_errcode(st->db) & 0xff;

	if (is_busy(rc))
		return mc_state_sqlerr(st, err,
				       "cannot read the schema version");
	if (rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT)
		return refuse_foreign(st, err);
	if (access(st->dir, W_OK) != 0) {
		int e = errno;
		char eb[128];

		return mc_err_set(err, MC_EXIT_IOERR,
				  "%s: cannot open the state: its directory %s is not writable (%s), and SQLite keeps the -wal and -shm files beside the state file; the file was left untouched",
				  st->path, st->dir,
				  mc_strerror(e, eb, sizeof(eb)));
	}
	return mc_state_sqlerr(st, err, "cannot read the state");
}

/* Reads the schema version and whether the file holds any table, in one
 * read transaction and without writing anything. */
static int probe(struct mc_state *st, int *version, struct mc_err *err)
{
	static const char sql[] =
		"SELECT (SELECT user_version FROM pragma_user_version),"
		" (SELECT count(*) FROM sqlite_master)";
	double deadline = busy_end(st, mc_mono_now());

	for (;;) {
		sqlite3_stmt *s = NULL;
		int rc, tables = 0;

		rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
		if (rc == SQLITE_OK) {
			rc = sqlite3_step(s);
			if (rc == SQLITE_ROW) {
				*version = sqlite3_column_int(s, 0);
				tables = sqlite3_column_int(s, 1);
				rc = SQLITE_OK;
			}
		}
		sqlite3_finalize(s);
		if (rc == SQLITE_OK) {
			if (*version == 0 && tables > 0)
				return refuse_foreign(st, err);
			if (*version < 0)
				return refuse_foreign(st, err);
			if (*version > mc_state_schema_version())
				return refuse_newer(st, *version, err);
			return 0;
		}
		if (!is_busy(rc) || !retry_pause(deadline))
			break;
	}
	return probe_failed(st, err);
}

/* PRAGMA journal_mode=WAL needs an exclusive lock and, when many processes
 * open a fresh file together, may answer SQLITE_BUSY without calling the
 * busy handler: try again for a while. */
static int set_wal(struct mc_state *st, struct mc_err *err)
{
	double deadline = busy_end(st, mc_mono_now());
	char mode[32] = "";

	for (;;) {
		sqlite3_stmt *s = NULL;
		int rc;

		rc = sqlite3_prepare_v2(st->db, "PRAGMA journal_mode=WAL", -1,
					&s, NULL);
		if (rc == SQLITE_OK) {
			rc = sqlite3_step(s);
			if (rc == SQLITE_ROW) {
				const unsigned char *m =
					sqlite3_column_text(s, 0);

				snprintf(mode, sizeof(mode), "%s",
					 m ? (const char *)m : "");
				rc = SQLITE_OK;
			}
		}
		sqlite3_finalize(s);
		if (rc == SQLITE_OK && strcasecmp(mode, "wal") == 0)
			return 0;
		if (rc != SQLITE_OK && !is_busy(rc))
			return mc_state_sqlerr(st, err,
					       "cannot switch to WAL mode");
		if (!retry_pause(deadline))
			break;
	}
	if (*mode != '\0')
		return mc_err_set(err, MC_EXIT_IOERR,
				  "%s: cannot switch to WAL mode (the journal stays '%s')",
				  st->path, mode);
	return mc_state_sqlerr(st, err, "cannot switch to WAL mode");
}

static int read_version(struct mc_state *st, int *version,
			struct mc_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s,
			       NULL) != SQLITE_OK)
		return mc_state_sqlerr(st, err,
				       "cannot read the schema version");
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		mc_state_sqlerr(st, err, "cannot read the schema version");
		sqlite3_finalize(s);
		return -1;
	}
	*version = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return 0;
}

static int migrate(struct mc_state *st, struct mc_err *err)
{
	int version = 0, latest = mc_state_schema_version();
	char *sql;

	if (mc_state_begin(st, err) < 0)
		return -1;
	/* another process may have migrated since the probe */
	if (read_version(st, &version, err) < 0)
		goto fail;
	if (version > latest) {
		refuse_newer(st, version, err);
		goto fail;
	}
	if (version == latest) {
		mc_state_rollback(st);
		return 0;
	}
	for (int v = version; v < latest; v++) {
		if (sqlite3_exec(st->db, migrations[v], NULL, NULL,
				 NULL) != SQLITE_OK) {
			char what[64];

			snprintf(what, sizeof(what),
				 "cannot migrate to schema version %d", v + 1);
			mc_state_sqlerr(st, err, what);
			goto fail;
		}
	}
	sql = mc_asprintf("PRAGMA user_version = %d", latest);
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		mc_state_sqlerr(st, err, "cannot set the schema version");
		free(sql);
		goto fail;
	}
	free(sql);
	return mc_state_commit(st, err);
fail:
	mc_state_rollback(st);
	return -1;
}

/* Before SQLite's first use in the process: no memory statistics (no
 * mercuryctl code reads them, and keeping them takes a mutex at every
 * allocation: 8% of opening the state file and recording a run, by
 * callgrind). Refused, harmlessly, once SQLite is initialised. */
static pthread_once_t sqlite_once = PTHREAD_ONCE_INIT;

static void sqlite_setup(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

struct mc_state *mc_state_open(const char *path, struct mc_err *err)
{
	return mc_state_open_until(path, NULL, err);
}

struct mc_state *mc_state_open_until(const char *path,
				     const struct mc_deadline *dl,
				     struct mc_err *err)
{
	struct mc_state *st;
	struct stat sb;
	int version = 0, wal_pending, loose;
	char *wal;
	int rc;

	if (path == NULL || *path == '\0') {
		mc_err_set(err, MC_EXIT_USAGE, "no state file path");
		return NULL;
	}
	st = mc_calloc(1, sizeof(*st));
	st->dl = dl;
	st->path = mc_strdup(path);
	st->dir = parent_dir(path);
	if (ensure_file(st->path, st->dir, &loose, err) < 0)
		goto fail;
	wal = mc_asprintf("%s-wal", st->path);
	wal_pending = stat(wal, &sb) == 0 && sb.st_size > 0;
	free(wal);
	pthread_once(&sqlite_once, sqlite_setup);
	/* READWRITE without CREATE: the file exists, and a path that
	 * vanished meanwhile is an error rather than a new empty file. */
	rc = sqlite3_open_v2(st->path, &st->db, SQLITE_OPEN_READWRITE |
			     SQLITE_OPEN_NOFOLLOW, NULL);
	if (rc != SQLITE_OK) {
		if (st->db == NULL) {
			mc_err_set(err, MC_EXIT_IOERR, "%s: cannot open: %s",
				   st->path, sqlite3_errstr(rc));
			goto fail;
		}
		mc_state_sqlerr(st, err, "cannot open");
		goto fail;
	}
	/* Setting the busy handler touches nothing on disk. */
	sqlite3_busy_handler(st->db, on_busy, st);
	/* Closing the last connection checkpoints a WAL that holds frames,
	 * which writes the main file: not before we know it is ours. */
	if (wal_pending)
		sqlite3_db_config(st->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1,
				  NULL);
	if (probe(st, &version, err) < 0)
		goto fail;
	if (loose && tighten(st->path, err) < 0)
		goto fail;
	if (wal_pending)
		sqlite3_db_config(st->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 0,
				  NULL);
	if (set_wal(st, err) < 0)
		goto fail;
	/* The WAL outlives each run (mc_state_close): a small one keeps the
	 * next opener's recovery read short, and a checkpoint (two
	 * fdatasync) comes every few runs rather than at each exit. */
	if (mc_state_exec(st, "PRAGMA synchronous=NORMAL", err) < 0 ||
	    mc_state_exec(st, "PRAGMA wal_autocheckpoint=100", err) < 0 ||
	    mc_state_exec(st, "PRAGMA foreign_keys=ON", err) < 0)
		goto fail;
	if (version < mc_state_schema_version() && migrate(st, err) < 0)
		goto fail;
	st->ours = 1;
	return st;
fail:
	mc_state_close(st);
	return NULL;
}

void mc_state_close(struct mc_state *st)
{
	sqlite3_stmt *s;

	if (st == NULL)
		return;
	if (st->db != NULL) {
		while ((s = sqlite3_next_stmt(st->db, NULL)) != NULL)
			sqlite3_finalize(s);
		/* The last connection to close would checkpoint the WAL into
		 * the file, with two fdatasync()s: in a CLI every run is the
		 * last one. The WAL stays for the next run instead, and is
		 * checkpointed when it grows past SQLite's 1000 pages. */
		if (st->ours)
			sqlite3_db_config(st->db,
					  SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1,
					  NULL);
		sqlite3_close(st->db);
	}
	free(st->path);
	free(st->dir);
	free(st);
}

int mc_state_exec(struct mc_state *st, const char *sql, struct mc_err *err)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return mc_state_sqlerr(st, err, "cannot run a statement");
	return 0;
}

int mc_state_begin(struct mc_state *st, struct mc_err *err)
{
	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL,
			 NULL) != SQLITE_OK)
		return mc_state_sqlerr(st, err, "cannot start a transaction");
	return 0;
}

int mc_state_commit(struct mc_state *st, struct mc_err *err)
{
	if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		mc_state_sqlerr(st, err, "cannot commit");
		mc_state_rollback(st);
		return -1;
	}
	return 0;
}

void mc_state_rollback(struct mc_state *st)
{
	if (st != NULL && st->db != NULL && !sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

int mc_state_prepare(struct mc_state *st, const char *sql, sqlite3_stmt **s,
		     const char *what, struct mc_err *err)
{
	if (sqlite3_prepare_v2(st->db, sql, -1, s, NULL) != SQLITE_OK) {
		*s = NULL;
		return mc_state_sqlerr(st, err, what);
	}
	return 0;
}

void mc_state_bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
}

int mc_state_run_begin(struct mc_state *st, const char *command,
		       const char *args, const char *correlation_id,
		       double started, int64_t *run_id, struct mc_err *err)
{
	static const char sql[] =
		"INSERT INTO runs (command, args, correlation_id, pid, started,"
		" status) VALUES (?1, ?2, ?3, ?4, ?5, 'running')";
	static const char what[] = "cannot record the run";
	sqlite3_stmt *s;

	if (mc_state_prepare(st, sql, &s, what, err) < 0)
		return -1;
	mc_state_bind_text(s, 1, command ? command : "");
	mc_state_bind_text(s, 2, args);
	mc_state_bind_text(s, 3, correlation_id);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)getpid());
	sqlite3_bind_double(s, 5, started);
	if (mc_state_exec_stmt(st, s, what, err) < 0)
		return -1;
	if (run_id != NULL)
		*run_id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

int mc_state_run_end(struct mc_state *st, int64_t run_id, int exit_code,
		     const char *status, const char *message, double ended,
		     struct mc_err *err)
{
	static const char sql[] =
		"UPDATE runs SET ended = ?1, exit_code = ?2,"
		" status = coalesce(?3, 'error'), message = ?4 WHERE id = ?5";
	static const char what[] = "cannot record the end of the run";
	sqlite3_stmt *s;

	if (mc_state_prepare(st, sql, &s, what, err) < 0)
		return -1;
	sqlite3_bind_double(s, 1, ended);
	sqlite3_bind_int(s, 2, exit_code);
	mc_state_bind_text(s, 3, status);
	mc_state_bind_text(s, 4, message);
	sqlite3_bind_int64(s, 5, run_id);
	if (mc_state_exec_stmt(st, s, what, err) < 0)
		return -1;
	if (sqlite3_changes(st->db) == 0)
		return mc_err_set(err, MC_EXIT_IOERR, "%s: %s: no run %lld",
				  st->path, what, (long long)run_id);
	return 0;
}

char *mc_state_column_dup(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t ? mc_strdup((const char *)t) : NULL;
}

const char *mc_state_column_text(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t ? (const char *)t : "";
}

double mc_state_column_or(sqlite3_stmt *s, int i, double dflt)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? dflt :
	       sqlite3_column_double(s, i);
}

double mc_state_column_num(sqlite3_stmt *s, int i)
{
	return mc_state_column_or(s, i, NAN);
}

void mc_state_bind_num(sqlite3_stmt *s, int i, double v)
{
	if (isfinite(v))
		sqlite3_bind_double(s, i, v);
	else
		sqlite3_bind_null(s, i);
}

int mc_state_collect(struct mc_state *st, sqlite3_stmt *s, size_t size,
		     void (*row)(sqlite3_stmt *s, void *element, void *ctx),
		     void *ctx, void (*release)(void *element), void **rows,
		     size_t *n, const char *what, struct mc_err *err)
{
	char *list = NULL;
	size_t len = 0, cap = 0;
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (len == cap) {
			cap = cap ? cap * 2 : 16;
			list = mc_realloc(list, cap * size);
		}
		memset(list + len * size, 0, size);
		row(s, list + len * size, ctx);
		len++;
	}
	*rows = list;
	*n = len;
	if (rc != SQLITE_DONE) {
		mc_state_sqlerr(st, err, what);
		sqlite3_finalize(s);
		mc_array_free(list, len, size, release);
		*rows = NULL;
		*n = 0;
		return -1;
	}
	sqlite3_finalize(s);
	return 0;
}

int mc_state_exec_stmt(struct mc_state *st, sqlite3_stmt *s,
		       const char *what, struct mc_err *err)
{
	int rc = sqlite3_step(s) == SQLITE_DONE ? 0 :
		 mc_state_sqlerr(st, err, what);

	sqlite3_finalize(s);
	return rc;
}

int mc_state_recent(struct mc_state *st, const char *sql, const char *name,
		    double since, int64_t limit, size_t size,
		    void (*row)(sqlite3_stmt *s, void *element, void *ctx),
		    void (*release)(void *element), void **rows, size_t *n,
		    const char *what, struct mc_err *err)
{
	sqlite3_stmt *s;

	*rows = NULL;
	*n = 0;
	if (mc_state_prepare(st, sql, &s, what, err) < 0)
		return -1;
	mc_state_bind_text(s, 1, name);
	sqlite3_bind_double(s, 2, since);
	sqlite3_bind_int64(s, 3, limit > 0 ? (sqlite3_int64)limit : -1);
	return mc_state_collect(st, s, size, row, NULL, release, rows, n,
				what, err);
}

static void run_row(sqlite3_stmt *s, void *element, void *ctx)
{
	struct mc_run *r = element;

	(void)ctx;
	r->id = sqlite3_column_int64(s, 0);
	r->command = mc_state_column_dup(s, 1);
	r->args = mc_state_column_dup(s, 2);
	r->correlation_id = mc_state_column_dup(s, 3);
	r->status = mc_state_column_dup(s, 4);
	r->message = mc_state_column_dup(s, 5);
	r->started = sqlite3_column_double(s, 6);
	r->ended = mc_state_column_or(s, 7, 0);
	r->exit_code = (int)mc_state_column_or(s, 8, -1);
	r->pid = (long)sqlite3_column_int64(s, 9);
}

static void run_release(void *element)
{
	struct mc_run *r = element;

	free(r->command);
	free(r->args);
	free(r->correlation_id);
	free(r->status);
	free(r->message);
}

int mc_state_runs(struct mc_state *st, const char *command, double since,
		  int limit, struct mc_run **out, size_t *n,
		  struct mc_err *err)
{
	static const char sql[] =
		"SELECT id, command, args, correlation_id, status, message,"
		" started, ended, exit_code, pid FROM runs"
		" WHERE (?1 IS NULL OR command = ?1"
		" OR substr(command, 1, length(?1) + 1) = ?1 || ' ')"
		" AND (?2 <= 0 OR started >= ?2)"
		" ORDER BY started DESC, id DESC LIMIT ?3";
	void *rows;
	int rc = mc_state_recent(st, sql, command, since, limit,
				 sizeof(struct mc_run), run_row, run_release,
				 &rows, n, "cannot list runs", err);

	*out = rows;
	return rc;
}

void mc_runs_free(struct mc_run *runs, size_t n)
{
	mc_array_free(runs, n, sizeof(*runs), run_release);
}

static int delete_before(struct mc_state *st, const char *sql, double before,
			 int64_t *count, struct mc_err *err)
{
	static const char what[] = "cannot prune history";
	sqlite3_stmt *s;

	if (mc_state_prepare(st, sql, &s, what, err) < 0)
		return -1;
	sqlite3_bind_double(s, 1, before);
	if (mc_state_exec_stmt(st, s, what, err) < 0)
		return -1;
	*count += sqlite3_changes(st->db);
	return 0;
}

/* *found = 1 when the query sql (?1 = before) returns a row. */
static int any_before(struct mc_state *st, const char *sql, double before,
		      int *found, struct mc_err *err)
{
	static const char what[] = "cannot prune history";
	sqlite3_stmt *s;
	int rc;

	if (mc_state_prepare(st, sql, &s, what, err) < 0)
		return -1;
	sqlite3_bind_double(s, 1, before);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return mc_state_sqlerr(st, err, what);
	*found = rc == SQLITE_ROW;
	return 0;
}

int mc_state_prune(struct mc_state *st, double before, int64_t *removed,
		   struct mc_err *err)
{
	int64_t count = 0;

	if (removed != NULL)
		*removed = 0;
	/* Nearly every run has nothing to prune: one small read (one
	 * statement to prepare, not three) says so without a write
	 * transaction (a result or log row is never older than its run). */
	{
		int old_rows = 0;

		if (any_before(st, "SELECT 1 WHERE"
			       " EXISTS (SELECT 1 FROM runs WHERE started < ?1)"
			       " OR EXISTS (SELECT 1 FROM job_runs"
			       " WHERE started < ?1)"
			       " OR EXISTS (SELECT 1 FROM alert_dedup"
			       " WHERE sent < ?1 AND state <> 'firing')",
			       before, &old_rows, err) < 0)
			return -1;
		if (!old_rows)
			return 0;
	}
	if (mc_state_begin(st, err) < 0)
		return -1;
	/* History rows first, both the old ones and those of old runs (the
	 * cascade would take the latter too, but uncounted). */
	if (delete_before(st,
			  "DELETE FROM check_results WHERE ts < ?1 OR run_id IN"
			  " (SELECT id FROM runs WHERE started < ?1)",
			  before, &count, err) < 0 ||
	    delete_before(st,
			  "DELETE FROM alert_log WHERE ts < ?1 OR run_id IN"
			  " (SELECT id FROM runs WHERE started < ?1)",
			  before, &count, err) < 0 ||
	    delete_before(st,
			  "DELETE FROM slo_results WHERE recorded < ?1 OR run_id"
			  " IN (SELECT id FROM runs WHERE started < ?1)",
			  before, &count, err) < 0 ||
	    /* An alert still firing is live state, not history: its
	     * record keeps the dedup window and lets the resolve through
	     * however short [core] history is. */
	    delete_before(st, "DELETE FROM alert_dedup WHERE sent < ?1"
			  " AND state <> 'firing'", before, &count, err) < 0 ||
	    /* a job's newest run and newest success stay, however old:
	     * `job list` shows them for a monthly job too */
	    delete_before(st,
			  "DELETE FROM job_runs WHERE started < ?1"
			  " AND status != 'running'"
			  " AND id NOT IN (SELECT MAX(id) FROM job_runs GROUP BY job)"
			  " AND id NOT IN (SELECT MAX(id) FROM job_runs"
			  " WHERE status = 'ok' GROUP BY job)",
			  before, &count, err) < 0 ||
	    delete_before(st, "DELETE FROM runs WHERE started < ?1", before,
			  &count, err) < 0) {
		mc_state_rollback(st);
		return -1;
	}
	if (mc_state_commit(st, err) < 0)
		return -1;
	if (removed != NULL)
		*removed = count;
	return 0;
}
