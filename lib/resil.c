/*
 * resil.c - circuit breakers and token buckets kept in the state file, and
 * advisory locks (docs/DESIGN.md, "Resilience"). mc_backoff_ms lives in random.c.
 *
 * Every breaker or bucket decision reads and writes its row inside one
 * BEGIN IMMEDIATE transaction, so concurrent processes take turns and each
 * sees the state the previous one left.
 */
#include "resil.h"
#include "log.h"
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define BREAKER_FAILURES	5
#define BREAKER_RECOVERY_MS	30000

const char *mc_breaker_state_name(int state)
{
	switch (state) {
	case MC_BREAKER_CLOSED:
		return "closed";
	case MC_BREAKER_OPEN:
		return "open";
	case MC_BREAKER_HALF_OPEN:
		return "half-open";
	}
	return "unknown";
}

/* One row of the breakers table; has_* are 0 for SQL NULL. */
struct brow {
	int found;
	int state;
	int failures;
	int has_opened;
	double opened_at;
	int has_probe;
	double probe_at;
	double updated;
	double recovery_s;	/* the target's own, 0 when not stored */
};

static int conf_failures(const struct mc_breaker_conf *conf)
{
	return conf != NULL && conf->failures > 0 ? conf->failures :
						    BREAKER_FAILURES;
}

static double conf_recovery_s(const struct mc_breaker_conf *conf)
{
	return (conf != NULL && conf->recovery_ms >= 0 ?
		(double)conf->recovery_ms : BREAKER_RECOVERY_MS) / 1e3;
}

static void breaker_row(sqlite3_stmt *s, int first, struct brow *r)
{
	r->found = 1;
	r->state = sqlite3_column_int(s, first);
	r->failures = sqlite3_column_int(s, first + 1);
	r->has_opened = sqlite3_column_type(s, first + 2) != SQLITE_NULL;
	r->opened_at = sqlite3_column_double(s, first + 2);
	r->has_probe = sqlite3_column_type(s, first + 3) != SQLITE_NULL;
	r->probe_at = sqlite3_column_double(s, first + 3);
	r->updated = sqlite3_column_double(s, first + 4);
	r->recovery_s = sqlite3_column_double(s, first + 5);
}

/* The statements of one batch, each prepared on first use and reset
 * after each, so a run with a hundred breakers parses each once. */
struct bstmts {
	sqlite3_stmt *load, *store;
};

static void bstmts_release(struct bstmts *bs)
{
	sqlite3_finalize(bs->load);
	sqlite3_finalize(bs->store);
}

static int breaker_load(struct mc_state *st, struct bstmts *bs,
			const char *name, struct brow *r, struct mc_err *err)
{
	static const char sql[] =
		"SELECT state, failures, opened_at, probe_at, updated,"
		" recovery FROM breakers WHERE name = ?1";
	static const char what[] = "cannot read breaker";
	sqlite3_stmt *s;
	int rc;

	memset(r, 0, sizeof(*r));
	if (bs->load == NULL &&
	    mc_state_prepare(st, sql, &bs->load, what, err) < 0)
		return -1;
	s = bs->load;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		breaker_row(s, 0, r);
		rc = SQLITE_DONE;
	}
	if (rc != SQLITE_DONE)
		mc_state_sqlerr(st, err, what);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* The row, with the recovery time its caller uses, so `breaker list` can
 * tell when each breaker half-opens. */
static int breaker_store(struct mc_state *st, struct bstmts *bs,
			 const char *name, const struct brow *r, double now,
			 const struct mc_breaker_conf *conf, struct mc_err *err)
{
	static const char sql[] =
		"INSERT INTO breakers (name, state, failures, opened_at,"
		" probe_at, updated, recovery) VALUES (?1, ?2, ?3, ?4, ?5,"
		" ?6, ?7)"
		" ON CONFLICT (name) DO UPDATE SET state = excluded.state,"
		" failures = excluded.failures,"
		" opened_at = excluded.opened_at,"
		" probe_at = excluded.probe_at, updated = excluded.updated,"
		" recovery = excluded.recovery";
	static const char what[] = "cannot write breaker";
	sqlite3_stmt *s;
	int rc;

	if (bs->store == NULL &&
	    mc_state_prepare(st, sql, &bs->store, what, err) < 0)
		return -1;
	s = bs->store;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 2, r->state);
	sqlite3_bind_int(s, 3, r->failures);
	mc_state_bind_num(s, 4, r->has_opened ? r->opened_at : NAN);
	mc_state_bind_num(s, 5, r->has_probe ? r->probe_at : NAN);
	sqlite3_bind_double(s, 6, now);
	sqlite3_bind_double(s, 7, conf_recovery_s(conf));
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 : mc_state_sqlerr(st, err, what);
	sqlite3_reset(s);
	return rc;
}

/* mc_breaker_allow's decision for one breaker, inside the caller's
 * transaction. */
static int breaker_decide(struct mc_state *st, struct bstmts *bs,
			  struct mc_breaker_call *c, double now,
			  struct mc_err *err)
{
	double rec = conf_recovery_s(c->conf);
	struct brow r;
	int dirty = 0;

	c->allow = 1;
	c->retry_at = 0;
	if (breaker_load(st, bs, c->name, &r, err) < 0)
		return -1;
	if (!r.found || r.state == MC_BREAKER_CLOSED) {
		c->allow = 1;
	} else if (r.state == MC_BREAKER_OPEN && now < r.opened_at + rec) {
		c->allow = 0;
		c->retry_at = r.opened_at + rec;
	} else if (r.state == MC_BREAKER_HALF_OPEN && r.has_probe &&
		   now < r.probe_at + rec) {
		/* the probe is out; its slot frees after recovery */
		c->allow = 0;
		c->retry_at = r.probe_at + rec;
	} else {
		/* open past recovery, or half-open with a free slot: this
		 * caller is the probe */
		r.state = MC_BREAKER_HALF_OPEN;
		r.has_probe = 1;
		r.probe_at = now;
		dirty = 1;
	}
	if (dirty && breaker_store(st, bs, c->name, &r, now, c->conf, err) < 0)
		return -1;
	return 0;
}

/* mc_breaker_record's update of one breaker, inside the caller's
 * transaction. */
static int breaker_update(struct mc_state *st, struct bstmts *bs,
			  const struct mc_breaker_call *c, double now,
			  struct mc_err *err)
{
	struct brow r;
	int dirty = 1;

	if (breaker_load(st, bs, c->name, &r, err) < 0)
		return -1;
	if (c->success) {
		/* closed with a clean count needs no write (nor a row) */
		if (!r.found || (r.state == MC_BREAKER_CLOSED &&
				 r.failures == 0))
			dirty = 0;
		r.state = MC_BREAKER_CLOSED;
		r.failures = 0;
		r.has_probe = 0;
	} else {
		if (!r.found)
			r.state = MC_BREAKER_CLOSED;
		if (r.failures < INT_MAX)
			r.failures++;
		if ((r.state == MC_BREAKER_CLOSED &&
		     r.failures >= conf_failures(c->conf)) ||
		    r.state == MC_BREAKER_HALF_OPEN) {
			r.state = MC_BREAKER_OPEN;
			r.has_opened = 1;
			r.opened_at = now;
			r.has_probe = 0;
		}
		/* a late failure while open leaves opened_at alone */
	}
	if (dirty && breaker_store(st, bs, c->name, &r, now, c->conf, err) < 0)
		return -1;
	return 0;
}

/* Decides (or, with record, updates) calls[0..n) in one transaction. */
static int breakers_txn(struct mc_state *st, struct mc_breaker_call *calls,
			size_t n, int record, const struct mc_clock *clock,
			struct mc_err *err)
{
	double now = mc_clock_now(clock);
	struct bstmts bs = { 0 };
	int rc = 0;

	if (n == 0)
		return 0;
	if (mc_state_begin(st, err) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = record ? breaker_update(st, &bs, &calls[i], now, err)
			    : breaker_decide(st, &bs, &calls[i], now, err);
	bstmts_release(&bs);
	if (rc < 0) {
		mc_state_rollback(st);
		return -1;
	}
	return mc_state_commit(st, err);
}

void mc_breaker_conf_read(const struct mc_conf_section *core,
			  const struct mc_conf_section *s,
			  struct mc_breaker_conf *b)
{
	b->failures = (int)mc_conf_int(s, "breaker_failures",
				       mc_conf_int(core, "breaker_failures", 5));
	b->recovery_ms = mc_conf_ms(s, "breaker_recovery",
				    mc_conf_ms(core, "breaker_recovery", 30000));
}

int mc_breakers_allow(struct mc_state *st, struct mc_breaker_call *calls,
		      size_t n, const struct mc_clock *clock,
		      struct mc_err *err)
{
	return breakers_txn(st, calls, n, 0, clock, err);
}

int mc_breakers_record(struct mc_state *st, struct mc_breaker_call *calls,
		       size_t n, const struct mc_clock *clock,
		       struct mc_err *err)
{
	return breakers_txn(st, calls, n, 1, clock, err);
}

int mc_breaker_allow(struct mc_state *st, const char *name,
		     const struct mc_breaker_conf *conf,
		     const struct mc_clock *clock, double *retry_at,
		     struct mc_err *err)
{
	struct mc_breaker_call c = { .name = name, .conf = conf };

	if (retry_at != NULL)
		*retry_at = 0;
	if (mc_breakers_allow(st, &c, 1, clock, err) < 0)
		return -1;
	if (retry_at != NULL)
		*retry_at = c.retry_at;
	return c.allow;
}

int mc_breaker_record(struct mc_state *st, const char *name, int success,
		      const struct mc_breaker_conf *conf,
		      const struct mc_clock *clock, struct mc_err *err)
{
	struct mc_breaker_call c = { .name = name, .conf = conf,
				     .success = success };

	return mc_breakers_record(st, &c, 1, clock, err);
}

/* What a listed breaker's state is judged against. */
struct breaker_list_ctx {
	double now;
	double recovery_s;	/* [core]'s, for a breaker without its own */
};

static void breaker_info_release(void *element)
{
	free(((struct mc_breaker_info *)element)->name);
}

static void breaker_info_row(sqlite3_stmt *s, void *element, void *ctx)
{
	const struct breaker_list_ctx *c = ctx;
	const unsigned char *name = sqlite3_column_text(s, 0);
	struct mc_breaker_info *b = element;
	struct brow r;

	breaker_row(s, 1, &r);
	b->name = mc_strdup(name ? (const char *)name : "");
	b->state = r.state;
	b->failures = r.failures;
	b->opened_at = r.has_opened ? r.opened_at : 0;
	b->updated = r.updated;
	b->retry_at = 0;
	if (r.state == MC_BREAKER_OPEN) {
		double own = r.recovery_s > 0 ? r.recovery_s : c->recovery_s;

		if (c->now >= r.opened_at + own)
			b->state = MC_BREAKER_HALF_OPEN;
		else
			b->retry_at = r.opened_at + own;
	}
}

int mc_breaker_list(struct mc_state *st, const struct mc_clock *clock,
		    int64_t recovery_ms, struct mc_breaker_info **out,
		    size_t *n, struct mc_err *err)
{
	static const char sql[] =
		"SELECT name, state, failures, opened_at, probe_at, updated,"
		" recovery FROM breakers ORDER BY name";
	static const char what[] = "cannot list breakers";
	struct mc_breaker_conf conf = { .recovery_ms = recovery_ms };
	struct breaker_list_ctx ctx = { mc_clock_now(clock),
					conf_recovery_s(&conf) };
	sqlite3_stmt *s;
	void *rows;

	*out = NULL;
	*n = 0;
	if (mc_state_prepare(st, sql, &s, what, err) < 0)
		return -1;
	if (mc_state_collect(st, s, sizeof(struct mc_breaker_info),
			     breaker_info_row, &ctx, breaker_info_release,
			     &rows, n, what, err) < 0)
		return -1;
	*out = rows;
	return 0;
}

void mc_breaker_info_free(struct mc_breaker_info *list, size_t n)
{
	mc_array_free(list, n, sizeof(*list), breaker_info_release);
}

int mc_breaker_reset(struct mc_state *st, const char *name,
		     struct mc_err *err)
{
	static const char what[] = "cannot reset breaker";
	sqlite3_stmt *s;

	if (mc_state_prepare(st, "DELETE FROM breakers WHERE name = ?1", &s, what,
		    err) < 0)
		return -1;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
	if (mc_state_exec_stmt(st, s, what, err) < 0)
		return -1;
	if (sqlite3_changes(mc_state_db(st)) == 0)
		return mc_err_set(err, MC_EXIT_USAGE, "no breaker named '%s'",
				  name);
	return 0;
}

int mc_bucket_take(struct mc_state *st, const char *name, double rate,
		   double burst, double n, const struct mc_clock *clock,
		   double *wait_s, struct mc_err *err)
{
	return mc_bucket_reserve(st, name, rate, burst, n, 0, clock, wait_s,
				 err);
}

int mc_bucket_reserve(struct mc_state *st, const char *name, double rate,
		      double burst, double n, double max_wait_s,
		      const struct mc_clock *clock, double *wait_s,
		      struct mc_err *err)
{
	static const char sel[] =
		"SELECT tokens, updated FROM buckets WHERE name = ?1";
	static const char put[] =
		"INSERT INTO buckets (name, tokens, updated)"
		" VALUES (?1, ?2, ?3)"
		" ON CONFLICT (name) DO UPDATE SET tokens = excluded.tokens,"
		" updated = excluded.updated";
	static const char what[] = "cannot update rate limit";
	double now = mc_clock_now(clock), tokens = burst, updated = now;
	sqlite3_stmt *s;
	int rc, taken;

	if (wait_s != NULL)
		*wait_s = 0;
	if (!(rate > 0) || !(burst > 0) || !(n >= 0) || n > burst)
		return mc_err_set(err, MC_EXIT_USAGE,
				  "rate limit '%s': cannot take %g tokens at %g/s with burst %g",
				  name, n, rate, burst);
	if (mc_state_begin(st, err) < 0)
		return -1;
	if (mc_state_prepare(st, sel, &s, what, err) < 0)
		goto fail;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		tokens = sqlite3_column_double(s, 0);
		updated = sqlite3_column_double(s, 1);
		/* a clock that stepped back refills nothing */
		if (now > updated) {
			tokens += (now - updated) * rate;
			updated = now;
		}
		if (tokens > burst)
			tokens = burst;
		rc = SQLITE_DONE;
	}
	if (rc != SQLITE_DONE) {
		mc_state_sqlerr(st, err, what);
		sqlite3_finalize(s);
		goto fail;
	}
	sqlite3_finalize(s);
	/* The balance may go below zero by what max_wait_s refills: the
	 * tokens are the caller's, to use once that wait is over, and the
	 * next caller queues behind it. */
	taken = tokens >= n || (n - tokens) / rate <= max_wait_s;
	if (wait_s != NULL)
		*wait_s = tokens >= n ? 0 : (n - tokens) / rate;
	if (!taken) {
		/* nothing to write: the next call refills from the row */
		mc_state_rollback(st);
		return 0;
	}
	tokens -= n;
	if (mc_state_prepare(st, put, &s, what, err) < 0)
		goto fail;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_double(s, 2, tokens);
	sqlite3_bind_double(s, 3, updated);
	if (mc_state_exec_stmt(st, s, what, err) < 0)
		goto fail;
	if (mc_state_commit(st, err) < 0)
		return -1;
	return 1;
fail:
	mc_state_rollback(st);
	return -1;
}

struct mc_lock {
	int fd;			/* -1: nothing to hold (mc_lock_take_as) */
	int shared;
};

/* The holder's pid as the lock file tells it, or 0. */
static long lock_file_pid(int fd)
{
	char buf[32];
	ssize_t r;
	char *end;
	long pid;

	r = pread(fd, buf, sizeof(buf) - 1, 0);
	if (r <= 0)
		return 0;
	buf[r] = '\0';
	errno = 0;
	pid = strtol(buf, &end, 10);
	if (errno || end == buf || *end != '\n' || pid <= 0)
		return 0;
	return pid;
}

static int pid_alive(long pid)
{
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/* The live processes other than this one that the kernel says hold a
 * flock(2) lock on the file at fd (/proc/locks: "N: FLOCK ADVISORY
 * READ|WRITE PID MAJ:MIN:INODE ..."), at most max. Shared holders write
 * no pid into the file, and a holder killed with SIGKILL leaves its pid
 * behind: the kernel's list is the truth where the file says nothing or
 * names someone who no longer holds it. */
static size_t lock_kernel_pids(int fd, long *pids, size_t max)
{
	struct stat sb;
	FILE *f;
	char line[256];
	size_t n = 0;

	if (fstat(fd, &sb) < 0 || (f = fopen("/proc/locks", "re")) == NULL)
		return 0;
	while (n < max && fgets(line, sizeof(line), f)) {
		char type[16];
		long pid;
		unsigned long long ino;

		if (sscanf(line, "%*[^:]: %15s %*s %*s %ld %*x:%*x:%llu", type,
			   &pid, &ino) != 3 || strcmp(type, "FLOCK") != 0 ||
		    ino != (unsigned long long)sb.st_ino || pid <= 0 ||
		    pid == (long)getpid() || !pid_alive(pid))
			continue;
		for (size_t i = 0; i <= n; i++)
			if (i == n) {
				pids[n++] = pid;
				break;
			} else if (pids[i] == pid) {
				break;
			}
	}
	fclose(f);
	return n;
}

/* "pid N", "pid N, pid M" or "pid unknown" for whoever holds the lock. */
static void lock_holders(int fd, char *who, size_t size)
{
	long kpids[4], fpid = lock_file_pid(fd);
	size_t n = lock_kernel_pids(fd, kpids, MC_ARRAY_LEN(kpids)), off = 0;
	int file_holds = n == 0;

	for (size_t i = 0; i < n; i++)
		file_holds = file_holds || kpids[i] == fpid;
	if (fpid > 0 && file_holds) {
		snprintf(who, size, "pid %ld", fpid);
		return;
	}
	if (n == 0) {
		snprintf(who, size, "pid unknown");
		return;
	}
	who[0] = '\0';
	for (size_t i = 0; i < n && off < size; i++)
		off += (size_t)snprintf(who + off, size - off, "%spid %ld",
					i ? ", " : "", kpids[i]);
}

static int lock_busy(struct mc_err *err, int fd, const char *shown,
		     const char *waited)
{
	char who[96];

	lock_holders(fd, who, sizeof(who));
	return mc_err_set(err, MC_EXIT_TEMPFAIL,
			  "another run holds the lock %s (%s)%s%s", shown, who,
			  waited ? " after waiting " : "",
			  waited ? waited : "");
}

/* Clearing the pid is a courtesy: on failure the lock still goes with the
 * close that follows. */
static void truncate_quietly(int fd)
{
	if (ftruncate(fd, 0) < 0)
		return;
}

static int write_pid(int fd)
{
	char buf[32];
	int len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	ssize_t w;

	if (ftruncate(fd, 0) < 0)
		return -1;
	do
		w = pwrite(fd, buf, (size_t)len, 0);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return -1;
	if (w != len) {
		errno = ENOSPC;
		return -1;
	}
	return 0;
}

/* DIR/NAME.lock, NAME made safe for a file name. */
static char *lock_path(const char *dir, const char *name)
{
	char *base = mc_strdup(*name ? name : "_"), *path;

	for (char *p = base; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			*p = '_';
	}
	path = mc_asprintf("%s/%s.lock", dir, base);
	free(base);
	return path;
}

/* Opens the lock file: a descriptor, -1 with err, or -2 when a shared
 * lock has nothing to be taken on (see MC_LOCK_SHARED). */
static int lock_open(const char *path, int shared, struct mc_err *err)
{
	int flags = O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
	struct stat sb;
	int fd;

	/* The file stays between runs, so no O_EXCL; but never through a
	 * link, never a FIFO or device, never a file of someone else's or
	 * one with other names (a planted hard link): write_pid truncates.
	 * A shared holder writes nothing: read-only, and another user's file
	 * will do. */
	fd = open(path, flags | (shared ? O_RDONLY : O_RDWR), 0600);
	if (fd < 0 && shared && (errno == EROFS || errno == EACCES)) {
		fd = open(path, (flags & ~O_CREAT) | O_RDONLY);
		if (fd < 0 && errno == ENOENT)
			return -2;
	}
	if (fd < 0) {
		if (errno == ELOOP)
			return mc_err_set(err, MC_EXIT_IOERR,
					  "%s is a symbolic link: refused", path);
		return mc_err_sys(err, MC_EXIT_IOERR, errno, "cannot open %s",
				  path);
	}
	if (fstat(fd, &sb) < 0) {
		mc_err_sys(err, MC_EXIT_IOERR, errno, "cannot open %s", path);
		close(fd);
		return -1;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_nlink != 1 ||
	    (!shared && sb.st_uid != geteuid())) {
		mc_err_set(err, MC_EXIT_IOERR,
			   "%s is not a lock file of ours (%s): refused", path,
			   !S_ISREG(sb.st_mode) ? "not a regular file" :
			   sb.st_nlink != 1 ? "it has other names" :
			   "another user owns it");
		close(fd);
		return -1;
	}
	return fd;
}

struct mc_lock *mc_lock_take(const char *dir, const char *name,
			     int64_t wait_ms, struct mc_err *err)
{
	return mc_lock_take_as(dir, name, 0, NULL, wait_ms, err);
}

struct mc_lock *mc_lock_take_as(const char *dir, const char *name,
				int flags, const char *shown,
				int64_t wait_ms, struct mc_err *err)
{
	double start = mc_mono_now();
	int shared = (flags & MC_LOCK_SHARED) != 0;
	struct mc_lock *lock;
	char *path, *quoted = NULL;
	int fd;

	if (!shared && ((!(flags & MC_LOCK_NO_MKDIR) &&
			 mc_mkdir_p(dir, 0700, err) < 0) ||
			mc_dir_check_private(dir, err) < 0))
		return NULL;
	path = lock_path(dir, name);
	fd = lock_open(path, shared, err);
	if (fd == -2) {
		/* Nobody can have taken it exclusively either. */
		mc_log(MC_LOG_DEBUG, "%s cannot be created: no lock taken",
		       path);
		free(path);
		lock = mc_malloc(sizeof(*lock));
		lock->fd = -1;
		lock->shared = 1;
		return lock;
	}
	if (fd < 0) {
		free(path);
		return NULL;
	}
	if (shown == NULL)
		shown = quoted = mc_asprintf("'%s'", name);
	for (;;) {
		int64_t left;
		char waited[32];

		if (flock(fd, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK) {
			mc_err_sys(err, MC_EXIT_IOERR, errno, "cannot lock %s",
				   path);
			goto fail;
		}
		if (wait_ms <= 0) {
			lock_busy(err, fd, shown, NULL);
			goto fail;
		}
		if (mc_interrupted) {
			mc_err_set(err, mc_interrupted == SIGTERM ?
				   MC_EXIT_SIGTERM : MC_EXIT_SIGINT,
				   "interrupted while waiting for the lock %s",
				   shown);
			goto fail;
		}
		left = wait_ms - (int64_t)((mc_mono_now() - start) * 1e3);
		if (left <= 0) {
			mc_format_duration(wait_ms, waited, sizeof(waited));
			lock_busy(err, fd, shown, waited);
			goto fail;
		}
		mc_sleep_ms(left < 50 ? left : 50);
	}
	if (!shared && write_pid(fd) < 0) {
		mc_err_sys(err, MC_EXIT_IOERR, errno, "cannot write %s", path);
		truncate_quietly(fd);
		goto fail;
	}
	free(path);
	free(quoted);
	lock = mc_malloc(sizeof(*lock));
	lock->fd = fd;
	lock->shared = shared;
	return lock;
fail:
	close(fd);
	free(path);
	free(quoted);
	return NULL;
}

void mc_lock_release(struct mc_lock *lock)
{
	if (lock == NULL)
		return;
	/* Truncate while still holding it, then let close() unlock. The
	 * file stays: unlinking it would let a waiter lock a dead inode
	 * while a newcomer locks a fresh one. A shared holder wrote
	 * nothing and leaves the pid of no one else's alone. */
	if (lock->fd >= 0) {
		if (!lock->shared)
			truncate_quietly(lock->fd);
		close(lock->fd);
	}
	free(lock);
}
