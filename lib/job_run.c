/*
 * job_run.c - `job run` (see job_run.h and mercuryctl-job(1)).
 *
 * The output passes through without a copy where the kernel allows: each
 * chunk in the child's pipe is duplicated with tee(2) into a "tail pipe"
 * and moved to our stdout or stderr with splice(2); the tail pipe is cut
 * to keep_output by splicing its oldest bytes to /dev/null. What lies more
 * than keep_output bytes before the end of what the child has written
 * cannot be in the tail: it is moved out without the tee. Only the kept
 * tail is ever read into memory. Where splice cannot write (a terminal, a
 * file opened for appending) the stream falls back to read and write
 * with a large buffer.
 */
#include "job_run.h"
#include "log.h"
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* Bytes moved per tee/splice, and per read where splice cannot go. The
 * child's pipes hold 4 chunks; the tail pipe holds the tail and 3 chunks,
 * and is cut back once it holds 2 beyond the tail (fewer cuts), all under
 * the 1 MiB an unprivileged process may give a pipe. */
#define CHUNK (256 << 10)
#define RW_BUF (256 << 10)
/* How often the runner is stepped without a pidfd to wake on (ms). */
#define STEP_MS 10

/* ---- the tail ----------------------------------------------------------- */

void mc_job_tail_init(struct mc_job_tail *t, size_t keep)
{
	memset(t, 0, sizeof(*t));
	t->keep = keep;
	t->cap = keep ? keep * 2 : 0;
	t->buf = keep ? mc_malloc(t->cap) : NULL;
}

void mc_job_tail_add(struct mc_job_tail *t, const void *p, size_t n)
{
	const unsigned char *b = p;

	t->total += (int64_t)n;
	if (t->keep == 0 || n == 0)
		return;
	if (n >= t->keep) {
		memcpy(t->buf, b + n - t->keep, t->keep);
		t->len = t->keep;
		return;
	}
	if (t->len + n > t->cap) {
		size_t drop = t->len + n - t->keep;

		memmove(t->buf, t->buf + drop, t->len - drop);
		t->len -= drop;
	}
	memcpy(t->buf + t->len, b, n);
	t->len += n;
}

const unsigned char *mc_job_tail_data(const struct mc_job_tail *t,
				      size_t *len)
{
	size_t n = t->len < t->keep ? t->len : t->keep;

	*len = n;
	return t->buf ? t->buf + t->len - n : NULL;
}

void mc_job_tail_free(struct mc_job_tail *t)
{
	free(t->buf);
	memset(t, 0, sizeof(*t));
}

/* ---- the pump ----------------------------------------------------------- */

enum { MODE_SPLICE, MODE_RW };

struct stream {
	int which;		/* 1 stdout, 2 stderr */
	int in;			/* the pipe's parent end, -1 at EOF */
	int out;		/* ours */
	int mode;
	int broken;		/* our side went away: discard */
	int gone;		/* ... because its reader closed it (EPIPE):
				   the job's pipe is closed too, so the job
				   sees the reader go, as without job run */
};

struct pump {
	struct mc_proc *p;
	struct stream s[2];
	int tp[2];		/* the tail pipe, -1: not used */
	size_t tp_len;
	int devnull;
	struct mc_job_tail tail;
	char *buf;
	int gone;		/* a stream's reader went away */
};

static void tp_drain(struct pump *pm)
{
	while (pm->tp_len > 0) {
		size_t want = pm->tp_len < RW_BUF ? pm->tp_len : RW_BUF;
		ssize_t n = read(pm->tp[0], pm->buf, want);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			pm->tp_len = 0;
			break;
		}
		pm->tail.total -= n;	/* counted when it came */
		mc_job_tail_add(&pm->tail, pm->buf, (size_t)n);
		pm->tp_len -= (size_t)n;
	}
}

/* Drops the tail pipe's oldest bytes beyond keep, once there are more
 * than two chunks of them (at the end: all of them). */
static void tp_trim(struct pump *pm, int all)
{
	if (!all && pm->tp_len <= pm->tail.keep + 2 * CHUNK)
		return;
	while (pm->tp_len > pm->tail.keep) {
		ssize_t n = splice(pm->tp[0], NULL, pm->devnull, NULL,
				   pm->tp_len - pm->tail.keep, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {	/* cannot discard: read it instead */
			tp_drain(pm);
			return;
		}
		pm->tp_len -= (size_t)n;
	}
}

/* How many bytes the pipe fd holds, -1 when it cannot tell. */
static long queued(int fd)
{
	int n = 0;

	return ioctl(fd, FIONREAD, &n) < 0 ? -1 : n;
}

/* Makes room in a full tail pipe: drops what lies beyond the tail, or,
 * when there is nothing to drop (its slots hold many small pieces), reads
 * it into memory. -1 when it holds nothing (it cannot be full). */
static int tp_make_room(struct pump *pm)
{
	size_t before = pm->tp_len;

	if (before == 0)
		return -1;
	tp_trim(pm, 1);
	if (pm->tp_len == before)
		tp_drain(pm);
	return 0;
}

/* Waits until fd can take more, bounded; 0 when it can, else -1 with
 * errno EPIPE when its reader went away (POLLERR on a pipe), EAGAIN when
 * it did not drain in time. */
static int wait_out(int fd)
{
	struct pollfd pfd = { fd, POLLOUT, 0 };
	int n = poll(&pfd, 1, 1000);

	if (n > 0 && !(pfd.revents & (POLLERR | POLLNVAL)))
		return 0;
	errno = n > 0 ? EPIPE : EAGAIN;
	return -1;
}

static void write_out(struct stream *s, const char *p, size_t n)
{
	while (n > 0 && !s->broken) {
		ssize_t w = write(s->out, p, n);

		if (w > 0) {
			p += w;
			n -= (size_t)w;
		} else if (w < 0 && errno == EINTR) {
			continue;
		} else if (w < 0 && errno == EAGAIN && wait_out(s->out) == 0) {
			continue;
		} else {
			s->broken = 1;	/* the reader went away */
			s->gone = w < 0 && errno == EPIPE;
		}
	}
}

/* Moves n bytes from s->in to s->out; how many it moved. */
static size_t move_out(struct pump *pm, struct stream *s, size_t n)
{
	size_t done = 0;

	while (n > 0) {
		ssize_t m;

		if (s->broken) {
			m = splice(s->in, NULL, pm->devnull, NULL, n, 0);
		} else if (s->mode == MODE_SPLICE) {
			m = splice(s->in, NULL, s->out, NULL, n, SPLICE_F_MOVE);
			if (m < 0 && errno == EAGAIN && wait_out(s->out) == 0)
				continue;
			if (m < 0 && errno == EINVAL) {
				s->mode = MODE_RW;
				continue;
			}
			if (m < 0 && errno != EINTR) {
				s->gone = errno == EPIPE;
				s->broken = 1;
			}
		} else {
			m = read(s->in, pm->buf, n < RW_BUF ? n : RW_BUF);
			if (m > 0)
				write_out(s, pm->buf, (size_t)m);
		}
		if (m < 0 && errno == EINTR)
			continue;
		if (m <= 0 && s->broken && m < 0)
			break;		/* nothing more can be done */
		if (m > 0) {
			n -= (size_t)m;
			done += (size_t)m;
		} else if (m == 0) {
			break;
		}
	}
	return done;
}

/* Moves what s has now. 1 at its end of file (or when its reader went
 * away: the job's end is then closed, as a pipeline would), else 0. */
static int pump_stream(struct pump *pm, struct stream *s)
{
	for (int round = 0; round < 16; round++) {
		ssize_t n;

		if (s->gone) {
			pm->gone = 1;
			return 1;
		}

		if (s->mode == MODE_SPLICE && pm->tp[1] >= 0) {
			long q = queued(s->in);

			/* What lies more than keep bytes before the end of
			 * what the job has written can never be in the tail:
			 * it goes out without passing through the tail pipe
			 * (the keep bytes after it, teed next, supersede all
			 * that is there). */
			if (q > 0 && (size_t)q > pm->tail.keep) {
				pm->tail.total += (int64_t)move_out(pm, s,
						(size_t)q - pm->tail.keep);
				continue;
			}
			n = tee(s->in, pm->tp[1], CHUNK, SPLICE_F_NONBLOCK);
			if (n == 0)
				return 1;
			/* EAGAIN: the job's pipe is empty, or the tail pipe
			 * is full (then room is made and tee tried again) */
			if (n < 0 && errno == EAGAIN)
				if (q == 0 || tp_make_room(pm) < 0)
					return 0;
			if (n < 0 && errno == EAGAIN)
				continue;
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {	/* no tee here */
				s->mode = MODE_RW;
				continue;
			}
			pm->tail.total += n;
			pm->tp_len += (size_t)n;
			move_out(pm, s, (size_t)n);
			tp_trim(pm, 0);
			continue;
		}
		n = read(s->in, pm->buf, RW_BUF);
		if (n == 0)
			return 1;
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : 1;
		write_out(s, pm->buf, (size_t)n);
		tp_drain(pm);		/* keep the order of the tail */
		mc_job_tail_add(&pm->tail, pm->buf, (size_t)n);
	}
	return 0;
}

/* Serves the child's pipes until the run is over and they are drained.
 * The wait is one poll() on the pipes and the command's exit (its pidfd),
 * so the run ends as soon as the command does; the runner is stepped
 * when it is due (timeout, deadline) or the command exited. */
static void pump_run(struct pump *pm)
{
	struct mc_proc_io io = { 0 };
	double step_at = 0, over_at = 0;
	int over = 0;

	for (;;) {
		struct pollfd fds[3];
		struct stream *who[3];
		int nf = 0, xf = over ? -1 : mc_proc_exit_fd(pm->p), due = 0;
		int timeout;

		for (int i = 0; i < 2; i++) {
			if (pm->s[i].in < 0)
				continue;
			fds[nf].fd = pm->s[i].in;
			fds[nf].events = POLLIN;
			fds[nf].revents = 0;
			who[nf++] = &pm->s[i];
		}
		/* Once the tree is gone its pipes end; a process that even
		 * SIGKILL did not take may hold one: stop waiting for it. */
		if (nf == 0 || (over && mc_mono_now() - over_at > 2.0)) {
			if (over)
				break;
			over = mc_proc_step(pm->p, &io, -1) == 0;
			over_at = mc_mono_now();
			continue;
		}
		if (xf >= 0) {
			fds[nf].fd = xf;
			fds[nf].events = POLLIN;
			fds[nf].revents = 0;
			who[nf++] = NULL;
		}
		timeout = over ? 100 : mc_proc_step_due_ms(pm->p);
		if (xf < 0 && timeout > STEP_MS)
			timeout = STEP_MS;
		if (poll(fds, (nfds_t)nf, timeout) > 0) {
			for (int i = 0; i < nf; i++) {
				if (fds[i].revents == 0)
					continue;
				if (who[i] == NULL) {
					due = 1;	/* the command exited */
					continue;
				}
				if (pump_stream(pm, who[i])) {
					mc_proc_close_fd(pm->p, who[i]->which);
					who[i]->in = -1;
				}
			}
		}
		if (!over && (due || mc_interrupted ||
			      mc_mono_now() >= step_at)) {
			over = mc_proc_step(pm->p, &io, 0) == 0;
			over_at = mc_mono_now();
			step_at = over_at + mc_proc_step_due_ms(pm->p) / 1e3;
		}
	}
}

/* ---- the run ------------------------------------------------------------ */

static char *joined(char *const *argv)
{
	struct mc_buf b = { 0 };
	char *safe;

	for (size_t i = 0; argv[i]; i++)
		mc_buf_printf(&b, "%s%s", i ? " " : "", argv[i]);
	safe = mc_redact(b.data ? b.data : "");
	mc_buf_release(&b);
	return safe;
}

static int take_lock(struct mc_job_runner *jr, struct mc_err *err)
{
	int64_t wait_ms = 0;
	char *name;
	struct mc_err e = { 0 };

	if (jr->def.overlap == MC_JOB_ALLOW)
		return 0;
	if (jr->def.overlap == MC_JOB_WAIT) {
		if (jr->wait_lock) {
			if (mc_parse_duration_ms(jr->wait_lock, &wait_ms, err) < 0)
				return -1;
		} else {
			wait_ms = jr->def.timeout_ms > 0 ? jr->def.timeout_ms :
				  365LL * 86400000;
		}
		wait_ms = mc_deadline_left_ms(jr->dl, wait_ms);
		if (wait_ms <= 0)
			wait_ms = 1;
	}
	/* through the coordinator: with [fleet] the lock holds fleet-wide
	 * (renewed while the job runs), so overlap = skip on every host
	 * means one run; without, or degraded, the lock beside the state
	 * file */
	if (jr->coord == NULL && jr->own_coord == NULL)
		jr->own_coord = mc_coord_open_state(jr->st);
	name = mc_asprintf("job:%s", jr->name);
	mc_coord_lock_take(jr->coord ? jr->coord : jr->own_coord, name,
			   MC_COORD_KEEPALIVE, wait_ms, &jr->lock, &e);
	free(name);
	if (jr->lock)
		return 0;
	*err = e;
	if (e.code == MC_EXIT_TEMPFAIL) {
		struct mc_job_rec rec = { jr->name, NULL, jr->correlation_id,
					  mc_wall_now() };
		char *cmd = NULL;
		struct mc_err e2 = { 0 };

		if (jr->argv || jr->def.argv)
			rec.command = cmd = joined(jr->argv ? jr->argv :
						   jr->def.argv);
		if (mc_job_run_skipped(jr->st, &rec, e.msg, &jr->job_run_id,
				       &e2) < 0)
			mc_log(MC_LOG_ERROR, "%s", e2.msg);
		free(cmd);
		mc_err_set(err, MC_EXIT_TEMPFAIL, "job %s: skipped, the "
			   "previous run still goes on (%s)", jr->name, e.msg);
	}
	return -1;
}

/* The state the job's alert is in: 1 firing, 0 not. */
static int alert_firing(struct mc_state *st, const char *job)
{
	sqlite3_stmt *s;
	int firing = 0;

	if (mc_state_prepare(st, "SELECT state FROM job_alerts WHERE job = ?1",
			     &s, "cannot read the job's alert", NULL) < 0)
		return 0;
	sqlite3_bind_text(s, 1, job, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(s) == SQLITE_ROW)
		firing = mc_streq((const char *)sqlite3_column_text(s, 0),
				  "firing");
	sqlite3_finalize(s);
	return firing;
}

static void alert_set(struct mc_state *st, const char *job, const char *state)
{
	static const char what[] = "cannot record the job's alert";
	sqlite3_stmt *s;
	struct mc_err e = { 0 };

	if (mc_state_prepare(st, "INSERT INTO job_alerts (job, state, updated)"
			     " VALUES (?1, ?2, ?3) ON CONFLICT(job) DO UPDATE"
			     " SET state = ?2, updated = ?3", &s, what,
			     &e) < 0) {
		mc_log(MC_LOG_ERROR, "%s", e.msg);
		return;
	}
	sqlite3_bind_text(s, 1, job, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 2, state, -1, SQLITE_STATIC);
	sqlite3_bind_double(s, 3, mc_wall_now());
	if (mc_state_exec_stmt(st, s, what, &e) < 0)
		mc_log(MC_LOG_ERROR, "%s", e.msg);
}

static const char *run_status(const struct mc_proc_result *res, int ok)
{
	if (res->interrupted)
		return "interrupted";
	if (res->timed_out || res->deadline)
		return "timeout";
	return ok ? "ok" : "failed";
}

static char *describe(const struct mc_proc_result *res,
		      const struct mc_job_def *d)
{
	char g[32];

	if (res->interrupted)
		return mc_asprintf("interrupted by %s; its process tree was "
				   "killed", mc_interrupted == SIGINT ?
				   "SIGINT" : "SIGTERM");
	if (res->timed_out || res->deadline) {
		mc_format_duration(res->timed_out ? d->timeout_ms : 0, g,
				   sizeof(g));
		return res->timed_out ?
		       mc_asprintf("timed out after %s; its process tree was "
				   "killed", g) :
		       mc_strdup("stopped at the --timeout deadline; its "
				 "process tree was killed");
	}
	if (res->signal > 0)
		return mc_asprintf("killed by signal %d (%s)", res->signal,
				   strsignal(res->signal));
	return mc_asprintf("exit %d", res->exit_code);
}

static void pump_init(struct pump *pm, uint64_t keep)
{
	memset(pm, 0, sizeof(*pm));
	pm->tp[0] = pm->tp[1] = pm->devnull = -1;
	mc_job_tail_init(&pm->tail, (size_t)keep);
}

/* Closes and frees what pump_output() opened, and the tail. */
static void pump_release(struct pump *pm)
{
	if (pm->tp[0] >= 0) {
		close(pm->tp[0]);
		close(pm->tp[1]);
	}
	if (pm->devnull >= 0)
		close(pm->devnull);
	free(pm->buf);
	mc_job_tail_free(&pm->tail);
}

/* Copies the child's stdout and stderr to ours while it runs, keeping the
 * last keep bytes of both as the tail (spliced where the kernel can). */
static void pump_output(struct pump *pm, struct mc_proc *p, uint64_t keep,
			int stdout_fd)
{
	pm->p = p;
	pm->buf = mc_malloc(RW_BUF);
	for (int i = 0; i < 2; i++) {
		pm->s[i].which = i + 1;
		pm->s[i].in = mc_proc_fd(p, i + 1);
		pm->s[i].out = i == 0 ? stdout_fd : STDERR_FILENO;
		pm->s[i].mode = MODE_SPLICE;
		if (pm->s[i].in >= 0)
			fcntl(pm->s[i].in, F_SETPIPE_SZ, 4 * CHUNK);
	}
	pm->devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (pm->devnull < 0 || pipe2(pm->tp, O_CLOEXEC | O_NONBLOCK) < 0) {
		pm->tp[0] = pm->tp[1] = -1;
		pm->s[0].mode = pm->s[1].mode = MODE_RW;
	} else {
		if (fcntl(pm->tp[1], F_SETPIPE_SZ, (int)(3 * CHUNK + keep)) < 0)
			fcntl(pm->tp[1], F_SETPIPE_SZ, 1 << 20);
	}
	pump_run(pm);
	if (pm->tp[0] >= 0) {
		tp_trim(pm, 1);
		tp_drain(pm);
	}
}

int mc_job_runner_run(struct mc_job_runner *jr, struct mc_report *r,
		      struct mc_err *err)
{
	const struct mc_conf_section *sec = mc_conf_find(jr->conf, "job",
							 jr->name);
	struct mc_proc_opts o;
	struct mc_proc *p = NULL;
	struct mc_proc_result result;
	const struct mc_proc_result *res = &result;
	struct mc_job_rec rec;
	struct pump pm;
	struct mc_err e = { 0 };
	char *const *argv;
	char *cmd;
	const unsigned char *tail;
	size_t tail_len;
	int code, started;

	if (sec) {
		const char *key = NULL;
		char why[256];

		if (mc_job_def_from_section(sec, &jr->def, &key, why,
					    sizeof(why)) < 0)
			return mc_err_set(err, MC_EXIT_CONFIG, "%s: [job \"%s\"] "
					  "%s", sec->source, jr->name, why);
	} else {
		mc_job_def_default(jr->name, &jr->def);
	}
	argv = jr->argv ? jr->argv : jr->def.argv;
	if (argv == NULL || argv[0] == NULL || argv[0][0] == '\0')
		return mc_err_set(err, MC_EXIT_USAGE, "job run: job '%s' has no "
				  "command: give it after -- or set command in "
				  "[job \"%s\"]", jr->name, jr->name);
	if (take_lock(jr, err) < 0)
		return -1;

	cmd = joined(argv);
	rec.job = jr->name;
	rec.command = cmd;
	rec.correlation_id = jr->correlation_id;
	rec.at = mc_wall_now();
	if (mc_job_run_begin(jr->st, &rec, &jr->job_run_id, err) < 0) {
		free(cmd);
		return -1;
	}
	free(cmd);

	memset(&o, 0, sizeof(o));
	o.argv = argv;
	o.io[0] = MC_PROC_INHERIT;
	o.io[1] = o.io[2] = jr->def.keep_output ? MC_PROC_PIPE :
			    MC_PROC_INHERIT;
	if (jr->stdout_to_stderr && !jr->def.keep_output) {
		o.io[1] = MC_PROC_FD;
		o.fd[1] = STDERR_FILENO;
	}
	o.timeout_ms = jr->def.timeout_ms;
	o.dl = jr->dl;
	o.kill_grace_ms = jr->def.kill_grace_ms;
	pump_init(&pm, jr->def.keep_output);
	started = mc_proc_start(&o, &p, &e) == 0;
	if (!started) {
		int status = mc_proc_start_status(&e);

		jr->how = mc_strdup(e.msg);
		if (mc_job_run_end(jr->st, jr->job_run_id, "failed", status, 0,
				   mc_wall_now(), NULL, 0, 0, e.msg, err) < 0)
			mc_log(MC_LOG_ERROR, "%s", err->msg);
		pump_release(&pm);
		jr->needs_http = jr->def.notify != 0;
		jr->alert_action = MC_ACT_TRIGGER;
		mc_err_set(err, status, "job %s: %s", jr->name, e.msg);
		return -1;
	}
	jr->ran = 1;
	if (jr->def.keep_output)
		pump_output(&pm, p, jr->def.keep_output,
			    jr->stdout_to_stderr ? STDERR_FILENO :
			    STDOUT_FILENO);
	else
		mc_proc_wait(p, NULL, NULL);
	result = *mc_proc_result(p);	/* p is freed below */
	code = mc_proc_status(res);
	jr->ok = res->exited && !res->timed_out && !res->deadline &&
		 !res->interrupted && mc_job_success_code(&jr->def,
							  res->exit_code);
	jr->duration_s = res->duration_ms / 1e3;
	jr->output_gone = pm.gone;
	jr->how = describe(res, &jr->def);
	tail = mc_job_tail_data(&pm.tail, &tail_len);
	if (mc_job_run_end(jr->st, jr->job_run_id, run_status(res, jr->ok),
			   res->exited ? res->exit_code : -1, res->signal,
			   mc_wall_now(), tail, tail_len, pm.tail.total,
			   jr->ok ? NULL : jr->how, err) < 0)
		code = -1;
	pump_release(&pm);
	mc_proc_free(p);

	json_object_set_new(r->doc, "job", mc_json_str(jr->name));
	json_object_set_new(r->doc, "run", json_integer(jr->job_run_id));
	json_object_set_new(r->doc, "status", mc_json_str(run_status(res,
								     jr->ok)));
	json_object_set_new(r->doc, "exit_code", json_integer(code));
	json_object_set_new(r->doc, "duration_seconds",
			    json_real(jr->duration_s));
	if (jr->def.notify && !res->interrupted) {
		int firing = alert_firing(jr->st, jr->name);

		if (!jr->ok && !firing) {
			jr->needs_http = 1;
			jr->alert_action = MC_ACT_TRIGGER;
		} else if (jr->ok && firing) {
			jr->needs_http = 1;
			jr->alert_action = MC_ACT_RESOLVE;
		}
	}
	return code;
}

void mc_job_runner_notify(struct mc_job_runner *jr, struct mc_report *r)
{
	struct mc_webhook *whs = NULL;
	size_t nw = 0, n_names = 0;
	struct mc_alert a;
	struct mc_delivery *d = NULL;
	struct mc_deadline dl;
	struct mc_alert_env env;
	struct mc_err e = { 0 };
	char *label;
	int delivered = 0;

	if (!jr->needs_http || jr->http == NULL)
		return;
	if (jr->def.notify == 2)
		while (jr->def.notify_names[n_names])
			n_names++;
	if (mc_webhooks_load(jr->conf, (const char *const *)jr->def.notify_names,
			     n_names, &whs, &nw, &e) < 0 || nw == 0) {
		mc_log(MC_LOG_ERROR, "job %s: notify: %s", jr->name,
		       nw == 0 && e.msg[0] == '\0' ? "no webhook is configured"
		       : e.msg);
		mc_webhooks_free(whs, nw);
		return;
	}
	/* A delivery is bounded even when the job had no deadline. */
	dl = *jr->dl;
	if (dl.at == 0 || mc_deadline_left_ms(&dl, 0) > 30000)
		mc_deadline_set(&dl, 30000);
	env.st = jr->st;
	env.http = jr->http;
	env.dl = &dl;
	env.clock = NULL;
	env.run_id = jr->run_id;
	env.coord = NULL;	/* the state file (coord.h) */
	memset(&a, 0, sizeof(a));
	a.action = jr->alert_action;
	a.severity = MC_SEV_CRITICAL;
	/* The identity (summary, source, labels) is the job's alone, so a
	 * second failure is the same incident and the success resolves it. */
	a.summary = mc_asprintf("job %s failed", jr->name);
	if (a.action == MC_ACT_TRIGGER)
		a.description = mc_asprintf("%s (run %lld); see mercuryctl job "
					    "log %s %lld", jr->how ? jr->how :
					    "failed", (long long)jr->job_run_id,
					    jr->name, (long long)jr->job_run_id);
	else
		a.description = mc_asprintf("run %lld succeeded",
					    (long long)jr->job_run_id);
	a.correlation_id = mc_strdup(jr->correlation_id);
	a.started = mc_wall_now();
	label = mc_asprintf("job=%s", jr->name);
	if (mc_alert_add_label(&a, label, &e) < 0 ||
	    mc_alert_finish(&a, &e) < 0 ||
	    mc_alert_deliver(&env, &a, whs, nw, &d, &e) < 0) {
		mc_log(MC_LOG_ERROR, "job %s: notify: %s", jr->name, e.msg);
	} else {
		for (size_t i = 0; i < nw; i++)
			delivered |= d[i].result == MC_DLV_DELIVERED ||
				     d[i].result == MC_DLV_SUPPRESSED ||
				     d[i].result == MC_DLV_FILTERED;
		json_object_set_new(r->doc, "notify", mc_deliveries_json(d, nw));
		if (mc_deliveries_exit(d, nw) != 0)
			mc_log(MC_LOG_WARN, "job %s: the alert did not reach "
			       "every webhook", jr->name);
		if (delivered)
			alert_set(jr->st, jr->name, a.action == MC_ACT_TRIGGER ?
				  "firing" : "resolved");
	}
	free(label);
	mc_deliveries_free(d, nw);
	mc_alert_release(&a);
	mc_webhooks_free(whs, nw);
}

void mc_job_runner_release(struct mc_job_runner *jr)
{
	mc_coord_lock_release(jr->coord ? jr->coord : jr->own_coord, jr->lock);
	mc_coord_close(jr->own_coord);
	mc_job_def_release(&jr->def);
	free(jr->how);
	memset(jr, 0, sizeof(*jr));
}
