/*
 * proc.h - the one process runner of mercuryctl: `exec` checks, `job run`,
 * backup's source commands and hooks, `oauth exec`.
 *
 * What every run gets, whoever asks for it:
 *   - argv without a shell; argv[0] is looked up in PATH as execvp(3) does,
 *     but a file without a #! line is never handed to /bin/sh. A command
 *     that cannot be started is reported as such (mc_proc_start() fails
 *     with its errno), never as an exit status of 127 that the command
 *     might have returned itself.
 *   - stdin, stdout and stderr each chosen: mercuryctl's own, /dev/null, a
 *     descriptor of the caller's, or a pipe whose parent end the runner
 *     pumps through callbacks (or hands to the caller; see mc_proc_step).
 *     No other descriptor of ours reaches the child.
 *   - default signal dispositions and an empty signal mask (SIGPIPE
 *     included), and a process group of its own.
 *   - an environment without mercuryctl's secrets: MERCURY_*PASSWORD*,
 *     REDISCLI_AUTH and every variable registered with
 *     mc_proc_secret_env() (the configuration loader registers the
 *     variables its *_env keys name), plus the variables the caller adds.
 *   - a bounded wait: the run's timeout, the run's deadline and SIGINT/
 *     SIGTERM (mc_interrupted) each end it; the callbacks are served
 *     meanwhile.
 *   - when it ends, for whatever reason, its whole tree is killed and
 *     reaped: the process group, the descendants that left it (setsid)
 *     while their parent lives, and those re-parented to mercuryctl, which
 *     makes itself a child subreaper (PR_SET_CHILD_SUBREAPER) at the first
 *     run. A timeout, deadline, signal or abort sends SIGTERM, then SIGKILL
 *     after kill_grace_ms; a command that simply exits has what it left
 *     behind killed at once (after linger_ms if it still holds a pipe, or
 *     once the pipes named by drain are read to their end).
 *     Nothing is left running and no zombie is left.
 *   - at exit() (an atexit handler), any run still going (a health worker
 *     abandoned at the deadline, say) has its tree killed the same way.
 *
 * Because re-parented orphans cannot say which run they came from, a
 * process that uses this runner must start its children through it only:
 * a direct child the runner did not start counts as an orphan of some run
 * and is killed with the next tree (one whose process group is that of a
 * run still going is left to that run).
 *
 * Threads: runs are independent and may go on in several threads at once;
 * one run (struct mc_proc) belongs to one thread at a time.
 */
#ifndef MC_PROC_H
#define MC_PROC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "mc.h"

/* SIGTERM -> SIGKILL when the options leave kill_grace_ms at 0. */
#define MC_PROC_GRACE_MS	200
/* Reading on after the command exited, when linger_ms is 0. */
#define MC_PROC_LINGER_MS	100
/* After SIGKILL, how long the tree may take to go before the run gives up
 * on it (a process in uninterruptible sleep; reported as unkillable). */
#define MC_PROC_KILL_WAIT_MS	1000

enum mc_proc_stdio {
	MC_PROC_INHERIT = 0,	/* mercuryctl's own descriptor */
	MC_PROC_DEVNULL,	/* /dev/null */
	MC_PROC_FD,		/* opts.fd[i], a descriptor of the caller's:
				   duplicated into place, the caller keeps
				   (and closes) its own */
	MC_PROC_PIPE,		/* a pipe; the parent end (non-blocking,
				   close-on-exec) is the runner's to pump,
				   or the caller's: see mc_proc_step() */
};

struct mc_proc_opts {
	char *const *argv;		/* NULL-terminated, argv[0] not empty */
	enum mc_proc_stdio io[3];	/* stdin, stdout, stderr */
	int fd[3];			/* for MC_PROC_FD */
	/* "NAME=value" strings, NULL-terminated, set in the child's
	 * environment over what it inherits (a token for `oauth exec`).
	 * NULL: none. */
	const char *const *env_add;
	const char *cwd;		/* NULL: ours */
	int64_t timeout_ms;		/* <= 0: none */
	/* The run's deadline (borrowed: it must outlive the run), NULL or
	 * unset: none. Reaching it kills the tree like the timeout. */
	const struct mc_deadline *dl;
	int64_t kill_grace_ms;		/* <= 0: MC_PROC_GRACE_MS */
	int64_t linger_ms;		/* <= 0: MC_PROC_LINGER_MS */
	/* Pumped pipes read to their end (MC_PROC_DRAIN_*): after the
	 * command exits the run goes on while a process it left holds one
	 * open, for as long as the command could have run (timeout_ms,
	 * the deadline, signals: reaching one kills the tree and says so in
	 * the result, as before the exit). Data whose every byte counts (a
	 * backup source's dump) is never cut at linger_ms. */
	unsigned drain;
};

#define MC_PROC_DRAIN_STDOUT	(1u << 1)
#define MC_PROC_DRAIN_STDERR	(1u << 2)

struct mc_proc_result {
	int exited;		/* 1: it exited, with exit_code */
	int exit_code;		/* -1 when it did not exit */
	int signal;		/* the signal that ended it, 0: none */
	int timed_out;		/* ended by timeout_ms */
	int deadline;		/* ended by the run's deadline */
	int interrupted;	/* ended by mc_interrupted: SIGINT or SIGTERM */
	int aborted;		/* a callback or mc_proc_kill() asked */
	int unkillable;		/* something survived SIGKILL for
				   MC_PROC_KILL_WAIT_MS (it is reaped later
				   in a thread of its own if it ever dies) */
	unsigned cut;		/* pumped pipes (1 << fd) still open when the
				   tree was killed: what was read of them may
				   not be all the tree wrote */
	double duration_ms;
};

/* How the runner serves its pipes. Every member may be NULL. */
struct mc_proc_io {
	/* A chunk the child wrote to its stdout (fd 1) or stderr (fd 2)
	 * pipe. Return 0, or -1 to stop the run (the tree is killed; the
	 * result says aborted). Not called again after -1. */
	int (*output)(void *ctx, int fd, const char *data, size_t len);
	/* Called when the stdin pipe can take more: put up to cap bytes in
	 * buf and return how many; 0 ends stdin (the pipe is closed); -1
	 * stops the run as output's -1 does. */
	ssize_t (*input)(void *ctx, char *buf, size_t cap);
	void *ctx;
};

struct mc_proc;

/* Starts a run. 0 with *out, or -1 with err when the command could not
 * start: err->sys_errno is the reason (ENOENT: not found in PATH; EACCES:
 * not executable; ENOEXEC: no #! line; or fork/pipe/chdir errors), the
 * message "cannot run ARGV0: REASON", code MC_EXIT_UNKNOWN. */
int mc_proc_start(const struct mc_proc_opts *o, struct mc_proc **out,
		  struct mc_err *err);

pid_t mc_proc_pid(const struct mc_proc *p);

/* The parent end of the pipe for stdin (0), stdout (1) or stderr (2), or
 * -1 when that stream is no pipe (or was closed). */
int mc_proc_fd(const struct mc_proc *p, int which);
/* Closes that parent end now (stdin: the child reads EOF). */
void mc_proc_close_fd(struct mc_proc *p, int which);

/* One step of the run: waits at most max_ms (< 0: up to the next event
 * worth looking at, at most 100 ms) while serving the pipes that io has a
 * callback for, and moves the run on (exit, timeout, deadline, signal,
 * killing). Returns 1 while the run goes on, 0 once it is over (tree
 * killed and reaped; mc_proc_result() is final). A pipe io has no callback
 * for is the caller's: the runner neither reads, writes nor closes it, so
 * a caller can drive several runs and its own descriptors with poll() and
 * short steps. Pass the same io to every step of one run. */
int mc_proc_step(struct mc_proc *p, const struct mc_proc_io *io,
		 int64_t max_ms);

/* For a caller that waits in its own poll() (on pipes it serves itself):
 * a descriptor that polls readable (POLLIN) once the command has exited,
 * so the wait ends then; -1 when there is none (the command already
 * exited, or the system gives no pidfd: then step every few ms). Owned by
 * the run. */
int mc_proc_exit_fd(const struct mc_proc *p);

/* How long the run may go without a step (its timeout, deadline, the next
 * look at a dying tree), in ms, at most 100; 0: step now. */
int mc_proc_step_due_ms(const struct mc_proc *p);

/* Steps until the run is over, then fills res (may be NULL). */
void mc_proc_wait(struct mc_proc *p, const struct mc_proc_io *io,
		  struct mc_proc_result *res);

/* The result so far (final once mc_proc_step() returned 0). */
const struct mc_proc_result *mc_proc_result(const struct mc_proc *p);

/* Asks the run to stop: the tree is killed (SIGTERM, kill_grace_ms,
 * SIGKILL) by the next steps; the result says aborted. */
void mc_proc_kill(struct mc_proc *p);

/* Frees a run; one still going has its tree killed and reaped first
 * (without serving its pipes). NULL is fine. */
void mc_proc_free(struct mc_proc *p);

/* start + wait + free. 0 with *res, or -1 as mc_proc_start(). */
int mc_proc_run(const struct mc_proc_opts *o, const struct mc_proc_io *io,
		struct mc_proc_result *res, struct mc_err *err);

/* A shell-style status for a finished run: 124 when it was ended by its
 * timeout or the run's deadline (as timeout(1)), 128+N when a signal N
 * ended it, else its exit code. */
int mc_proc_status(const struct mc_proc_result *r);
/* The exit status a command that could not start stands for, as env(1)
 * and the shells give it: 127 when it was not found (ENOENT), else 126;
 * e is what mc_proc_start() or mc_proc_run() failed with. */
int mc_proc_start_status(const struct mc_err *e);

/* Registers the name of an environment variable that holds a secret:
 * children never see it. Names are copied; the registry lives for the
 * process. */
void mc_proc_secret_env(const char *name);
/* 1 when a child would not get variable name. */
int mc_proc_env_is_secret(const char *name);

/* Kills every run still going (SIGTERM, its grace, SIGKILL) and waits,
 * bounded, until nothing of theirs is alive. Installed with atexit() at the
 * first run; callable earlier. */
void mc_proc_kill_all(void);

#endif
