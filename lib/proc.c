/*
 * proc.c - the process runner (see proc.h).
 *
 * Starting. Before the child is made the parent prepares all it needs
 * (the PATH candidates as execvp(3) would try them, the environment
 * without secrets) and blocks its signals; the child then makes only
 * async-signal-safe calls: default dispositions for every signal, a
 * process group of its own, its three descriptors set up, every other
 * descriptor closed, an empty signal mask, execve. It is made as vfork(2)
 * makes one (clone with CLONE_VM | CLONE_VFORK, on a stack of its own), so
 * none of our memory is copied for a child that execs at once. A failed
 * execve sends its errno back through a close-on-exec pipe and exits 127;
 * a file without a #! line is not handed to /bin/sh. (posix_spawn would
 * do most of this, but glibc's leaves its internal signals 32 and 33
 * ignored in the child, and under valgrind it cannot report an exec
 * failure.)
 *
 * Waiting. The leader's exit wakes a poll on its pidfd (pidfd_open), beside
 * the pipes, so a run ends the moment its command does; without a pidfd
 * (a kernel before 5.3, or valgrind 3.19, which knows no pidfd_open and
 * is not asked) waitid(WNOWAIT) is polled with a backoff from 50 us to
 * 50 ms. The leader is reaped only at the very end: its zombie pins the
 * process group id, so kill(-pgid) never reaches an unrelated group that
 * reused the number.
 *
 * Killing. The tree of a run is found in /proc: the leader, its process
 * group, every descendant by parent pid, and the orphans re-parented to us
 * (we are a child subreaper) with their descendants. A scan and the
 * signals it leads to happen under the registry's mutex, which fork() and
 * the reaping of leaders also take, so a run never mistakes another run's
 * fresh leader for an orphan, and no thread reaps another run's leader.
 */
#include "proc.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

extern char **environ;

#define SLICE_MS	100	/* longest sleep: mc_interrupted is polled */
#define KILL_STEP_MS	5	/* checking a dying tree */
#define IDLE_MIN_US	50	/* exit polling backoff, from ... */
#define IDLE_MAX_US	50000	/* ... to */
#define CHUNK		8192

enum phase {
	PH_RUN,		/* the leader runs */
	PH_LINGER,	/* it exited; its pipes may still be open */
	PH_TERM,	/* SIGTERM sent to the tree */
	PH_KILL,	/* SIGKILL sent to the tree */
	PH_DONE,
};

struct mc_proc {
	pid_t pid;
	int pidfd;		/* readable once the leader exited, -1: none */
	int fd[3];		/* parent ends of pipes, -1: none */
	enum phase phase;
	double t0, stop_at, term_at, kill_at, exit_at;
	const struct mc_deadline *dl;
	double grace_s, linger_s;
	unsigned drain;		/* opts.drain */
	int exited;		/* the leader exited (a zombie until reaped) */
	int stop_asked;		/* mc_proc_kill() or a callback's -1 */
	int cb_stopped;		/* no more callbacks */
	long idle_us;
	char in_buf[CHUNK];
	size_t in_off, in_len;
	struct mc_proc_result res;
	struct mc_proc *next;	/* the registry of runs going on */
};

/* ---- the registry ------------------------------------------------------- */

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static struct mc_proc *reg_head;
static pthread_once_t setup_once = PTHREAD_ONCE_INIT;

static void setup(void)
{
	/* Descendants whose parent dies come to us, not to init: they can
	 * be found and killed. */
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	atexit(mc_proc_kill_all);
}

/* With reg_mu held. */
static void reg_remove(struct mc_proc *p)
{
	for (struct mc_proc **pp = &reg_head; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			p->next = NULL;
			return;
		}
}

/* With reg_mu held: 1 when pid leads a run going on. */
static int reg_leader(pid_t pid)
{
	for (struct mc_proc *q = reg_head; q; q = q->next)
		if (q->pid == pid)
			return 1;
	return 0;
}

/* ---- secrets kept from children ----------------------------------------- */

static pthread_mutex_t sec_mu = PTHREAD_MUTEX_INITIALIZER;
static char **sec_names;
static size_t n_sec;

void mc_proc_secret_env(const char *name)
{
	if (name == NULL || *name == '\0' || strchr(name, '='))
		return;
	pthread_mutex_lock(&sec_mu);
	for (size_t i = 0; i < n_sec; i++)
		if (strcmp(sec_names[i], name) == 0)
			goto out;
	sec_names = mc_realloc(sec_names, (n_sec + 1) * sizeof(*sec_names));
	sec_names[n_sec++] = mc_strdup(name);
out:
	pthread_mutex_unlock(&sec_mu);
}

/* name[0..len) */
static int is_secret(const char *name, size_t len)
{
	static const char pfx[] = "MERCURY_", word[] = "PASSWORD";
	int hit = 0;

	if (len == 13 && memcmp(name, "REDISCLI_AUTH", 13) == 0)
		return 1;
	if (len >= sizeof(pfx) - 1 && memcmp(name, pfx, sizeof(pfx) - 1) == 0)
		for (size_t i = sizeof(pfx) - 1; i + 8 <= len; i++)
			if (strncasecmp(name + i, word, 8) == 0)
				return 1;
	pthread_mutex_lock(&sec_mu);
	for (size_t i = 0; i < n_sec && !hit; i++)
		hit = strlen(sec_names[i]) == len &&
		      memcmp(sec_names[i], name, len) == 0;
	pthread_mutex_unlock(&sec_mu);
	return hit;
}

int mc_proc_env_is_secret(const char *name)
{
	return name != NULL && is_secret(name, strlen(name));
}

static size_t name_len(const char *entry)
{
	return strcspn(entry, "=");
}

/* The child's environment: ours without secrets and without the names add
 * sets, then add. Caller frees with argv_free. */
static char **child_env(const char *const *add)
{
	size_t n = 0, k = 0;
	char **env;

	for (char **e = environ; e && *e; e++)
		n++;
	for (const char *const *a = add; a && *a; a++)
		n++;
	env = mc_calloc(n + 1, sizeof(*env));
	for (char **e = environ; e && *e; e++) {
		size_t len = name_len(*e);
		int replaced = 0;

		if (is_secret(*e, len))
			continue;
		for (const char *const *a = add; a && *a && !replaced; a++)
			replaced = name_len(*a) == len &&
				   memcmp(*a, *e, len) == 0;
		if (!replaced)
			env[k++] = mc_strdup(*e);
	}
	for (const char *const *a = add; a && *a; a++)
		env[k++] = mc_strdup(*a);
	env[k] = NULL;
	return env;
}

static void strv_free(char **v)
{
	if (v == NULL)
		return;
	for (char **s = v; *s; s++)
		free(*s);
	free(v);
}

/* ---- starting ----------------------------------------------------------- */

/* What the child needs, prepared before fork(): after it, the child of a
 * threaded process may only make async-signal-safe calls. */
struct launch {
	char *const *argv;
	char **paths;		/* where to look for argv[0], in order */
	char **envp;
	const char *cwd;
	int src[3];		/* descriptor for 0, 1, 2; -1: leave it */
	int devnull[3];		/* 1: /dev/null there */
	int err_w;		/* exec-error pipe */
	int max_fd;		/* fallback for close_range */
};

/* The candidates for argv[0], as execvp(3) finds them: itself when it has
 * a '/', else each directory of PATH ("" is the current one; unset PATH is
 * glibc's default "/bin:/usr/bin"). NULL-terminated. */
static char **launch_paths(const char *name)
{
	const char *path = getenv("PATH");
	char **v;
	size_t n = 0;

	if (strchr(name, '/')) {
		v = mc_calloc(2, sizeof(*v));
		v[0] = mc_strdup(name);
		return v;
	}
	if (path == NULL)
		path = "/bin:/usr/bin";
	v = mc_calloc(strlen(path) + 2, sizeof(*v));
	for (const char *p = path;; p++) {
		const char *colon = strchr(p, ':');
		size_t len = colon ? (size_t)(colon - p) : strlen(p);

		v[n++] = len ? mc_asprintf("%.*s/%s", (int)len, p, name) :
			 mc_strdup(name);
		if (colon == NULL)
			break;
		p = colon;
	}
	return v;
}

/* The child: async-signal-safe calls only, then execve or _exit(127). */
static void __attribute__((noreturn)) child(const struct launch *l)
{
	struct sigaction dfl;
	sigset_t none;
	int e = ENOENT, seen_eacces = 0, chan = l->err_w, moved[3], nul = -1;

	/* Handlers would be reset by execve; ignored signals would not. */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL);	/* SIGKILL & co fail: fine */
	setpgid(0, 0);

	/* Every descriptor we place out of the way of 0-3 first, whatever
	 * numbers they have. */
	chan = fcntl(l->err_w, F_DUPFD_CLOEXEC, 10);
	if (chan < 0) {
		e = errno;
		chan = l->err_w;
		goto fail;
	}
	for (int i = 0; i < 3; i++) {
		moved[i] = -1;
		if (l->src[i] >= 0 &&
		    (moved[i] = fcntl(l->src[i], F_DUPFD, 10)) < 0)
			goto fail_errno;
		if (l->devnull[i] && nul < 0) {
			int fd = open("/dev/null", O_RDWR);

			if (fd < 0 || (nul = fcntl(fd, F_DUPFD, 10)) < 0)
				goto fail_errno;
			close(fd);
		}
	}
	for (int i = 0; i < 3; i++) {
		int from = l->devnull[i] ? nul : moved[i];

		if (from >= 0 && dup2(from, i) < 0)
			goto fail_errno;
	}
	/* The error channel becomes 3 (close-on-exec); everything else
	 * goes. */
	if (dup3(chan, 3, O_CLOEXEC) < 0)
		goto fail_errno;
	chan = 3;
	if (close_range(4, ~0U, 0) < 0)
		for (int i = 4; i < l->max_fd; i++)
			close(i);
	if (l->cwd && chdir(l->cwd) < 0)
		goto fail_errno;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	for (size_t i = 0; l->paths[i]; i++) {
		execve(l->paths[i], l->argv, l->envp);
		e = errno;
		if (e == EACCES)
			seen_eacces = 1;
		else if (e != ENOENT && e != ENOTDIR && e != ESTALE &&
			 e != ELOOP && e != ENAMETOOLONG && e != ENODEV &&
			 e != ETIMEDOUT)
			break;	/* as execvp: a real error stops the search */
	}
	if (seen_eacces && (e == ENOENT || e == ENOTDIR))
		e = EACCES;
	/* No shell for ENOEXEC (a file without #!): unlike execvp. */
	goto fail;
fail_errno:
	e = errno;
fail:
	while (write(chan, &e, sizeof(e)) < 0 && errno == EINTR)
		;
	_exit(127);
}

/* A child whose execve fails exits at once, its stack frames possibly
 * reused by then: what it was given is kept in static storage while it is
 * forked, so that leak checkers (valgrind follows forks) see it as
 * reachable. One fork at a time (under reg_mu). */
static char **volatile forking_paths, **volatile forking_env;

/* A pidfd for our child pid (close-on-exec), -1 when there is none. */
static int open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
	/* valgrind 3.19 would warn on stderr at every call */
	if (RUNNING_ON_VALGRIND)
		return -1;
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	return -1;
#endif
}

#if defined(__SANITIZE_ADDRESS__)
#define MC_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MC_ASAN 1
#endif
#endif

#ifndef MC_ASAN
static int child_main(void *arg)
{
	child(arg);
}
#endif

/* Starts the child as vfork(2) does: in our memory (CLONE_VM), so no page
 * table is copied and no page of ours is copied on write afterwards, with
 * this thread suspended until the child has called execve or exited
 * (CLONE_VFORK). The child runs on a stack of its own, kept for the next
 * start (one start at a time: under reg_mu), with all signals blocked, so
 * no handler of ours runs on it. fork() where no stack can be had, and
 * under ASan, which cannot follow a child onto another stack (it warns on
 * the child's stderr, which is the command's). */
static pid_t spawn(const struct launch *l)
{
	pid_t pid;
#ifndef MC_ASAN
	enum { STACK = 64 << 10 };
	static char *stack;

	if (stack == NULL) {
		void *m = mmap(NULL, STACK, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);

		stack = m == MAP_FAILED ? NULL : m;
	}
	if (stack)
		return clone(child_main, stack + STACK, CLONE_VM |
			     CLONE_VFORK | SIGCHLD, (void *)l);
#endif
	pid = fork();
	if (pid == 0)
		child(l);
	return pid;
}

static void close_pipe(int p[2])
{
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	p[0] = p[1] = -1;
}

int mc_proc_start(const struct mc_proc_opts *o, struct mc_proc **out,
		  struct mc_err *err)
{
	struct launch l;
	struct mc_proc *p;
	struct rlimit rl;
	sigset_t all, old;
	int pipes[3][2], ep[2] = { -1, -1 }, e = 0;
	const char *name;
	char eb[128];
	ssize_t r;
	pid_t pid;

	*out = NULL;
	if (o == NULL || o->argv == NULL || o->argv[0] == NULL ||
	    o->argv[0][0] == '\0')
		return mc_err_set(err, MC_EXIT_USAGE, "empty command");
	name = o->argv[0];
	pthread_once(&setup_once, setup);
	memset(&l, 0, sizeof(l));
	for (int i = 0; i < 3; i++) {
		pipes[i][0] = pipes[i][1] = -1;
		l.src[i] = -1;
	}
	for (int i = 0; i < 3 && e == 0; i++) {
		switch (o->io[i]) {
		case MC_PROC_INHERIT:
			break;
		case MC_PROC_DEVNULL:
			l.devnull[i] = 1;
			break;
		case MC_PROC_FD:
			if (o->fd[i] < 0)
				e = EBADF;
			l.src[i] = o->fd[i];
			break;
		case MC_PROC_PIPE:
			if (pipe2(pipes[i], O_CLOEXEC) < 0)
				e = errno;
			else
				l.src[i] = pipes[i][i == 0 ? 0 : 1];
			break;
		default:
			e = EINVAL;
		}
	}
	if (e == 0 && pipe2(ep, O_CLOEXEC) < 0)
		e = errno;
	if (e != 0) {
		for (int i = 0; i < 3; i++)
			close_pipe(pipes[i]);
		close_pipe(ep);
		return mc_err_sys(err, MC_EXIT_UNKNOWN, e, "cannot run %s",
				  name);
	}
	l.argv = o->argv;
	l.paths = launch_paths(name);
	l.envp = child_env(o->env_add);
	l.cwd = o->cwd;
	l.err_w = ep[1];
	l.max_fd = getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
		   rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 65536 ?
		   (int)rl.rlim_cur : 65536;

	p = mc_calloc(1, sizeof(*p));
	p->fd[0] = p->fd[1] = p->fd[2] = -1;
	p->pidfd = -1;
	p->t0 = mc_mono_now();
	p->dl = o->dl;
	p->stop_at = o->timeout_ms > 0 ? p->t0 + o->timeout_ms / 1e3 : 0;
	p->grace_s = (o->kill_grace_ms > 0 ? o->kill_grace_ms :
		      MC_PROC_GRACE_MS) / 1e3;
	p->linger_s = (o->linger_ms > 0 ? o->linger_ms : MC_PROC_LINGER_MS) /
		      1e3;
	p->drain = o->drain;
	p->idle_us = IDLE_MIN_US;
	p->res.exit_code = -1;

	/* No handler of ours may run in the child before it resets them. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_mutex_lock(&reg_mu);
	forking_paths = l.paths;
	forking_env = l.envp;
	pid = spawn(&l);
	if (pid < 0) {
		e = errno;
	} else {
		p->pid = pid;
		p->next = reg_head;
		reg_head = p;
	}
	forking_paths = forking_env = NULL;
	pthread_mutex_unlock(&reg_mu);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	strv_free(l.paths);
	strv_free(l.envp);
	close(ep[1]);
	for (int i = 0; i < 3; i++) {
		/* The child's ends go; ours stay. */
		int mine = i == 0 ? 1 : 0;

		if (pipes[i][0] < 0)
			continue;
		close(pipes[i][1 - mine]);
		p->fd[i] = pipes[i][mine];
		fcntl(p->fd[i], F_SETFL,
		      fcntl(p->fd[i], F_GETFL) | O_NONBLOCK);
	}
	if (e == 0) {
		/* Also here, so the group exists before anyone signals it
		 * (EACCES once the child has exec'd: it did it itself). */
		setpgid(pid, pid);
		p->pidfd = open_pidfd(pid);
		while ((r = read(ep[0], &e, sizeof(e))) < 0 && errno == EINTR)
			;
		if (r == (ssize_t)sizeof(e)) {
			if (e == 0)
				e = ENOEXEC;
			pthread_mutex_lock(&reg_mu);
			reg_remove(p);
			while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
				;
			pthread_mutex_unlock(&reg_mu);
		}
	}
	close(ep[0]);
	if (e != 0) {
		for (int i = 0; i < 3; i++)
			if (p->fd[i] >= 0)
				close(p->fd[i]);
		if (p->pidfd >= 0)
			close(p->pidfd);
		free(p);
		mc_err_set(err, MC_EXIT_UNKNOWN, "cannot run %s: %s", name,
			   mc_strerror(e, eb, sizeof(eb)));
		if (err)
			err->sys_errno = e;
		return -1;
	}
	*out = p;
	return 0;
}

pid_t mc_proc_pid(const struct mc_proc *p)
{
	return p->pid;
}

int mc_proc_fd(const struct mc_proc *p, int which)
{
	return which >= 0 && which < 3 ? p->fd[which] : -1;
}

void mc_proc_close_fd(struct mc_proc *p, int which)
{
	if (which >= 0 && which < 3 && p->fd[which] >= 0) {
		close(p->fd[which]);
		p->fd[which] = -1;
	}
}

/* ---- the process tree --------------------------------------------------- */

struct pinfo {
	pid_t pid, ppid, pgrp;
	char state;
	char member;
};

/* Reads pid's state, parent and group from /proc/PID/stat; -1 when it is
 * gone. */
static int read_stat(pid_t pid, struct pinfo *pi)
{
	char path[64], buf[512], *rp;
	long ppid, pgrp;
	ssize_t r;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (r <= 0)
		return -1;
	buf[r] = '\0';
	/* pid (comm) state ppid pgrp ...; comm may hold ')' */
	rp = strrchr(buf, ')');
	if (rp == NULL || sscanf(rp + 1, " %c %ld %ld", &pi->state, &ppid,
				 &pgrp) != 3)
		return -1;
	pi->pid = pid;
	pi->ppid = (pid_t)ppid;
	pi->pgrp = (pid_t)pgrp;
	pi->member = 0;
	return 0;
}

static void pid_add(pid_t **v, size_t *n, size_t *cap, pid_t pid)
{
	for (size_t i = 0; i < *n; i++)
		if ((*v)[i] == pid)
			return;
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 32;
		*v = mc_realloc(*v, *cap * sizeof(**v));
	}
	(*v)[(*n)++] = pid;
}

/* Appends the children of every thread of pid (/proc/PID/task/TID/
 * children); -1 when the kernel has no such file. */
static int children_of(pid_t pid, pid_t **v, size_t *n, size_t *cap)
{
	char path[96], buf[4096];
	DIR *d;
	struct dirent *e;
	int rc = 0;

	snprintf(path, sizeof(path), "/proc/%ld/task", (long)pid);
	if ((d = opendir(path)) == NULL)
		return 0;	/* gone */
	while ((e = readdir(d)) != NULL) {
		struct mc_buf b = { 0 };
		ssize_t r;
		char *p, *end;
		int fd;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children",
			 (long)pid, atol(e->d_name));
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
			if (errno == ENOENT && pid == getpid())
				rc = -1;
			continue;
		}
		while ((r = read(fd, buf, sizeof(buf))) > 0)
			mc_buf_add(&b, buf, (size_t)r);
		close(fd);
		for (p = b.data; p && *p; p = end) {
			long c = strtol(p, &end, 10);

			if (end == p) {
				end = p + 1;
				continue;
			}
			pid_add(v, n, cap, (pid_t)c);
		}
		mc_buf_release(&b);
	}
	closedir(d);
	return rc;
}

/* With reg_mu held: p's tree as mark_tree() marks it, found by walking
 * children from the leader and from our own children (orphans come to
 * us), without reading every process in /proc. NULL with *n 0 when the
 * kernel has no children files (then scan() serves). Caller frees. */
static struct pinfo *walk(const struct mc_proc *p, size_t *n)
{
	pid_t self = getpid(), *todo = NULL;
	size_t n_todo = 0, cap_todo = 0, cap = 0;
	struct pinfo *v = NULL;

	*n = 0;
	if (children_of(self, &todo, &n_todo, &cap_todo) < 0) {
		free(todo);
		return NULL;
	}
	pid_add(&todo, &n_todo, &cap_todo, p->pid);
	for (size_t i = 0; i < n_todo; i++) {
		struct pinfo pi;

		if (read_stat(todo[i], &pi) < 0)
			continue;
		if (pi.pid == p->pid || pi.pgrp == p->pid)
			pi.member = 1;
		else if (pi.ppid == self)
			pi.member = !reg_leader(pi.pid) && !reg_leader(pi.pgrp);
		else
			pi.member = 1;	/* a child of a member */
		if (!pi.member)
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			v = mc_realloc(v, cap * sizeof(*v));
		}
		v[(*n)++] = pi;
		children_of(pi.pid, &todo, &n_todo, &cap_todo);
	}
	free(todo);
	if (v == NULL)		/* nothing: not "no children files" */
		v = mc_calloc(1, sizeof(*v));
	return v;
}

/* Every process in /proc (but us). Caller frees. */
static struct pinfo *scan(size_t *n)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	struct pinfo *v = NULL;
	size_t cap = 0;
	pid_t self = getpid();

	*n = 0;
	if (d == NULL)
		return NULL;
	while ((e = readdir(d)) != NULL) {
		struct pinfo pi;

		if (!isdigit((unsigned char)e->d_name[0]) ||
		    (pid_t)atol(e->d_name) == self ||
		    read_stat((pid_t)atol(e->d_name), &pi) < 0)
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 256;
			v = mc_realloc(v, cap * sizeof(*v));
		}
		v[(*n)++] = pi;
	}
	closedir(d);
	return v;
}

static int dead_state(char s)
{
	return s == 'Z' || s == 'X' || s == 'x';
}

/* With reg_mu held: marks p's tree in v[0..n): the leader, its group, the
 * orphans re-parented to us that belong to no other run, and every
 * descendant of those. */
static void mark_tree(const struct mc_proc *p, struct pinfo *v, size_t n)
{
	pid_t self = getpid();
	int changed = 1;

	for (size_t i = 0; i < n; i++) {
		struct pinfo *q = &v[i];

		if (q->pid == p->pid || q->pgrp == p->pid)
			q->member = 1;
		else if (q->ppid == self && !reg_leader(q->pid) &&
			 !reg_leader(q->pgrp))
			q->member = 1;
	}
	while (changed) {
		changed = 0;
		for (size_t i = 0; i < n; i++) {
			if (v[i].member)
				continue;
			for (size_t j = 0; j < n; j++)
				if (v[j].member && v[j].pid == v[i].ppid) {
					v[i].member = 1;
					changed = 1;
					break;
				}
		}
	}
}

/* With reg_mu held: p's tree, its members marked. Caller frees. */
static struct pinfo *tree(const struct mc_proc *p, size_t *n)
{
	struct pinfo *v = walk(p, n);

	if (v == NULL) {
		v = scan(n);
		mark_tree(p, v, *n);
	}
	return v;
}

/* 1 when the leader has exited (a zombie not reaped), else 0. */
static int leader_exited(pid_t pid)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
		return errno == ECHILD;	/* reaped elsewhere: gone */
	return si.si_pid == pid;
}

/* Sends sig to p's tree (sig 0: none), reaps the zombie orphans found;
 * returns how many of its processes are alive (the leader counts until it
 * exited). */
static int tree_signal(struct mc_proc *p, int sig)
{
	struct pinfo *v;
	size_t n;
	int alive = 0;
	pid_t self = getpid();

	pthread_mutex_lock(&reg_mu);
	if (sig)
		kill(-p->pid, sig);	/* the leader pins the group id */
	v = tree(p, &n);
	for (size_t i = 0; i < n; i++) {
		struct pinfo *q = &v[i];

		if (!q->member || q->pid == p->pid)
			continue;
		if (dead_state(q->state)) {
			/* A zombie orphan of ours: reap it. Never a leader
			 * of a run (mark_tree left those out). */
			if (q->ppid == self)
				waitpid(q->pid, NULL, WNOHANG);
			continue;
		}
		alive++;
		if (sig)
			kill(q->pid, sig);
	}
	if (!p->exited && !leader_exited(p->pid))
		alive++;
	pthread_mutex_unlock(&reg_mu);
	free(v);
	return alive;
}

static void *late_reaper(void *arg)
{
	pid_t pid = (pid_t)(intptr_t)arg;

	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return NULL;
}

static void sleep_ms(double ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = (time_t)(ms / 1e3);
	ts.tv_nsec = (long)((ms - ts.tv_sec * 1e3) * 1e6);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void close_fds(struct mc_proc *p, const struct mc_proc_io *io)
{
	for (int i = 0; i < 3; i++) {
		int pumped = io && (i == 0 ? io->input != NULL :
				    io->output != NULL);

		if (pumped)
			mc_proc_close_fd(p, i);
	}
}

/* The end of every run: SIGKILL to what is left of the tree, a bounded
 * wait until none of it lives, the leader reaped into the result. */
static void finish(struct mc_proc *p, const struct mc_proc_io *io)
{
	double end = mc_mono_now() + MC_PROC_KILL_WAIT_MS / 1e3;
	int st = 0;

	for (int i = 1; i < 3; i++)
		if (io && io->output && p->fd[i] >= 0)
			p->res.cut |= 1u << i;
	close_fds(p, io);
	while (tree_signal(p, SIGKILL) > 0) {
		if (mc_mono_now() >= end) {
			p->res.unkillable = 1;
			break;
		}
		sleep_ms(1);
		p->exited = p->exited || leader_exited(p->pid);
	}
	p->exited = p->exited || leader_exited(p->pid);
	pthread_mutex_lock(&reg_mu);
	reg_remove(p);
	if (p->exited) {
		while (waitpid(p->pid, &st, 0) < 0 && errno == EINTR)
			;
	} else {
		/* It would not die: a thread of its own reaps it when it
		 * does, so it is never left a zombie. */
		pthread_t t;
		pthread_attr_t a;

		pthread_attr_init(&a);
		pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t, &a, late_reaper,
				   (void *)(intptr_t)p->pid) != 0)
			p->res.unkillable = 1;
		pthread_attr_destroy(&a);
	}
	pthread_mutex_unlock(&reg_mu);
	if (p->exited && WIFEXITED(st)) {
		p->res.exited = 1;
		p->res.exit_code = WEXITSTATUS(st);
	} else if (p->exited && WIFSIGNALED(st)) {
		p->res.signal = WTERMSIG(st);
	}
	p->res.duration_ms = (mc_mono_now() - p->t0) * 1e3;
	p->phase = PH_DONE;
}

/* ---- pumping ------------------------------------------------------------ */

static void stop(struct mc_proc *p)
{
	p->stop_asked = 1;
	p->cb_stopped = 1;
	if (!p->res.timed_out && !p->res.deadline && !p->res.interrupted)
		p->res.aborted = 1;
}

/* Writes what stdin has pending; a reader that went away (EPIPE) closes
 * it. SIGPIPE is blocked meanwhile and a pending one we caused is taken
 * back, so a process that does not ignore SIGPIPE survives. */
static void feed(struct mc_proc *p)
{
	sigset_t pipe_set, old, pending;
	ssize_t w;
	int was_pending;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	w = write(p->fd[0], p->in_buf + p->in_off, p->in_len - p->in_off);
	if (w > 0) {
		p->in_off += (size_t)w;
	} else if (w < 0 && errno != EAGAIN && errno != EINTR) {
		if (errno == EPIPE && !was_pending) {
			struct timespec zero = { 0, 0 };

			while (sigtimedwait(&pipe_set, NULL, &zero) < 0 &&
			       errno == EINTR)
				;
		}
		mc_proc_close_fd(p, 0);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Serves the pumped pipes for at most wait_s, waking early when the
 * leader exits (its pidfd); 1 when something happened. */
static int pump(struct mc_proc *p, const struct mc_proc_io *io, double wait_s)
{
	struct pollfd pf[4];
	int which[4], n = 0, busy = 0;
	struct timespec ts;

	if (wait_s < 0)
		wait_s = 0;
	if (io && io->input && p->fd[0] >= 0 && !p->cb_stopped) {
		if (p->in_off == p->in_len) {
			ssize_t r = io->input(io->ctx, p->in_buf,
					      sizeof(p->in_buf));

			if (r < 0) {
				stop(p);
				return 1;
			}
			if (r == 0) {
				mc_proc_close_fd(p, 0);
			} else {
				p->in_off = 0;
				p->in_len = (size_t)r > sizeof(p->in_buf) ?
					    sizeof(p->in_buf) : (size_t)r;
			}
		}
		if (p->fd[0] >= 0) {
			pf[n] = (struct pollfd){ p->fd[0], POLLOUT, 0 };
			which[n++] = 0;
		}
	}
	for (int i = 1; i < 3; i++)
		if (io && io->output && p->fd[i] >= 0) {
			pf[n] = (struct pollfd){ p->fd[i], POLLIN, 0 };
			which[n++] = i;
		}
	if (n == 0 && wait_s == 0)
		return 0;
	if (p->pidfd >= 0 && !p->exited) {
		pf[n] = (struct pollfd){ p->pidfd, POLLIN, 0 };
		which[n++] = 3;
	}
	ts.tv_sec = (time_t)wait_s;
	ts.tv_nsec = (long)((wait_s - (double)ts.tv_sec) * 1e9);
	if (n == 0) {
		nanosleep(&ts, NULL);
		return 0;
	}
	if (ppoll(pf, (nfds_t)n, &ts, NULL) <= 0)
		return 0;
	for (int k = 0; k < n; k++) {
		int i = which[k];

		if (pf[k].revents == 0)
			continue;
		busy = 1;
		if (i == 3)
			continue;	/* the leader exited: the next step sees it */
		if (i == 0) {
			if (pf[k].revents & (POLLERR | POLLHUP))
				mc_proc_close_fd(p, 0);
			else
				feed(p);
		} else {
			char chunk[CHUNK];
			ssize_t r = read(p->fd[i], chunk, sizeof(chunk));

			if (r > 0) {
				/* After a stop the rest is drained, not
				 * given: the child never blocks on us. */
				if (!p->cb_stopped &&
				    io->output(io->ctx, i, chunk,
					       (size_t)r) < 0)
					stop(p);
			} else if (r == 0 || (errno != EAGAIN &&
					      errno != EINTR)) {
				mc_proc_close_fd(p, i);
			}
		}
	}
	return busy;
}

static int pumped_open(const struct mc_proc *p, const struct mc_proc_io *io)
{
	return io && ((io->input && p->fd[0] >= 0) ||
		      (io->output && (p->fd[1] >= 0 || p->fd[2] >= 0)));
}

/* ---- the run ------------------------------------------------------------ */

static double min_d(double a, double b)
{
	return b > 0 && b < a ? b : a;
}

/* 1 while a pipe the run must read to its end is open (opts.drain). */
static int draining(const struct mc_proc *p, const struct mc_proc_io *io)
{
	for (int i = 1; i < 3; i++)
		if ((p->drain & (1u << i)) && io && io->output &&
		    p->fd[i] >= 0 && !p->cb_stopped)
			return 1;
	return 0;
}

/* What ends a run that goes on (the command, or what it left holding a
 * pipe to be drained): a stop asked, a signal, the timeout, the deadline.
 * 1 when one did: SIGTERM went to the tree, the result says why. */
static int stop_due(struct mc_proc *p, double now)
{
	if (p->stop_asked)
		;
	else if (mc_interrupted)
		p->res.interrupted = 1;
	else if (p->stop_at && now >= p->stop_at)
		p->res.timed_out = 1;
	else if (mc_deadline_passed(p->dl))
		p->res.deadline = 1;
	else
		return 0;
	p->cb_stopped = p->cb_stopped || p->stop_asked;
	tree_signal(p, SIGTERM);
	p->phase = PH_TERM;
	p->term_at = now;
	return 1;
}

/* The next time a running or draining run must look at the clock. */
static double run_until(const struct mc_proc *p, double until, double now)
{
	until = min_d(until, p->stop_at);
	if (p->dl && p->dl->at)
		until = min_d(until, p->dl->at);
	if (p->pidfd < 0 && !p->exited)
		until = min_d(until, now + p->idle_us / 1e6);
	return until;
}

int mc_proc_step(struct mc_proc *p, const struct mc_proc_io *io,
		 int64_t max_ms)
{
	double now = mc_mono_now(), until;

	if (p->phase == PH_DONE)
		return 0;
	until = now + (max_ms < 0 ? SLICE_MS : max_ms) / 1e3;
	if (!p->exited && leader_exited(p->pid)) {
		p->exited = 1;
		p->exit_at = now;
		if (p->phase == PH_RUN)
			p->phase = PH_LINGER;
	}
	if (p->phase == PH_RUN ||
	    (p->phase == PH_LINGER && draining(p, io)))
		stop_due(p, now);
	if (p->phase == PH_LINGER && draining(p, io)) {
		until = run_until(p, until, now);
	} else if (p->phase == PH_LINGER) {
		if (!pumped_open(p, io) || p->stop_asked || mc_interrupted ||
		    now >= p->exit_at + p->linger_s) {
			finish(p, io);
			return 0;
		}
		until = min_d(until, p->exit_at + p->linger_s);
	} else if (p->phase == PH_TERM || p->phase == PH_KILL) {
		if (p->exited && tree_signal(p, 0) == 0) {
			finish(p, io);
			return 0;
		}
		if (p->phase == PH_TERM && now >= p->term_at + p->grace_s) {
			tree_signal(p, SIGKILL);
			p->phase = PH_KILL;
			p->kill_at = now;
		} else if (p->phase == PH_KILL &&
			   now >= p->kill_at + MC_PROC_KILL_WAIT_MS / 1e3) {
			finish(p, io);
			return 0;
		}
		until = min_d(until, now + KILL_STEP_MS / 1e3);
	} else {
		until = run_until(p, until, now);
	}
	if (pump(p, io, until - now)) {
		p->idle_us = IDLE_MIN_US;
	} else if (p->idle_us < IDLE_MAX_US) {
		p->idle_us *= 2;
	}
	return 1;
}

int mc_proc_exit_fd(const struct mc_proc *p)
{
	return p->phase == PH_DONE || p->exited ? -1 : p->pidfd;
}

int mc_proc_step_due_ms(const struct mc_proc *p)
{
	double now = mc_mono_now(), until = now + SLICE_MS / 1e3;

	switch (p->phase) {
	case PH_DONE:
		return 0;
	case PH_LINGER:
		until = p->drain ? run_until(p, until, now) :
			min_d(until, p->exit_at + p->linger_s);
		break;
	case PH_TERM:
	case PH_KILL:
		until = min_d(until, now + KILL_STEP_MS / 1e3);
		break;
	case PH_RUN:
		until = run_until(p, until, now);
		break;
	}
	/* rounded up: a poll() of 0 ms would spin until then */
	return until <= now ? 0 : (int)((until - now) * 1e3) + 1;
}

void mc_proc_wait(struct mc_proc *p, const struct mc_proc_io *io,
		  struct mc_proc_result *res)
{
	while (mc_proc_step(p, io, -1))
		;
	if (res)
		*res = p->res;
}

const struct mc_proc_result *mc_proc_result(const struct mc_proc *p)
{
	return &p->res;
}

void mc_proc_kill(struct mc_proc *p)
{
	if (p->phase != PH_DONE && !p->stop_asked)
		stop(p);
}

void mc_proc_free(struct mc_proc *p)
{
	if (p == NULL)
		return;
	if (p->phase != PH_DONE) {
		mc_proc_kill(p);
		mc_proc_wait(p, NULL, NULL);
	}
	for (int i = 0; i < 3; i++)
		mc_proc_close_fd(p, i);
	if (p->pidfd >= 0)
		close(p->pidfd);
	free(p);
}

int mc_proc_run(const struct mc_proc_opts *o, const struct mc_proc_io *io,
		struct mc_proc_result *res, struct mc_err *err)
{
	struct mc_proc *p;

	memset(res, 0, sizeof(*res));
	res->exit_code = -1;
	if (mc_proc_start(o, &p, err) < 0)
		return -1;
	mc_proc_wait(p, io, res);
	mc_proc_free(p);
	return 0;
}

int mc_proc_status(const struct mc_proc_result *r)
{
	if (r->timed_out || r->deadline)
		return 124;
	if (r->signal)
		return 128 + r->signal;
	return r->exited ? r->exit_code : 125;
}

int mc_proc_start_status(const struct mc_err *e)
{
	return e->sys_errno == ENOENT ? 127 : 126;
}

/* ---- at exit ------------------------------------------------------------ */

/* Signals every run's tree; the number of their processes alive. */
static int all_signal(int sig)
{
	struct mc_proc *runs[64];
	size_t n = 0;
	int alive = 0;

	pthread_mutex_lock(&reg_mu);
	for (struct mc_proc *q = reg_head; q && n < MC_ARRAY_LEN(runs);
	     q = q->next)
		runs[n++] = q;
	pthread_mutex_unlock(&reg_mu);
	/* A run may finish in its own thread meanwhile: look again under
	 * the lock before touching it. */
	for (size_t i = 0; i < n; i++) {
		struct pinfo *v;
		size_t m;
		int known = 0;

		pthread_mutex_lock(&reg_mu);
		for (struct mc_proc *q = reg_head; q; q = q->next)
			known = known || q == runs[i];
		if (!known) {
			pthread_mutex_unlock(&reg_mu);
			continue;
		}
		if (sig)
			kill(-runs[i]->pid, sig);
		v = tree(runs[i], &m);
		for (size_t k = 0; k < m; k++) {
			if (!v[k].member || dead_state(v[k].state))
				continue;
			if (v[k].pid != runs[i]->pid || !leader_exited(v[k].pid))
				alive++;
			if (sig)
				kill(v[k].pid, sig);
		}
		pthread_mutex_unlock(&reg_mu);
		free(v);
	}
	return alive;
}

void mc_proc_kill_all(void)
{
	double grace = 0, end;

	pthread_mutex_lock(&reg_mu);
	for (struct mc_proc *q = reg_head; q; q = q->next)
		if (q->grace_s > grace)
			grace = q->grace_s;
	pthread_mutex_unlock(&reg_mu);
	if (all_signal(SIGTERM) == 0)
		return;
	end = mc_mono_now() + grace;
	while (all_signal(0) > 0 && mc_mono_now() < end)
		sleep_ms(KILL_STEP_MS);
	end = mc_mono_now() + MC_PROC_KILL_WAIT_MS / 1e3;
	while (all_signal(SIGKILL) > 0 && mc_mono_now() < end)
		sleep_ms(KILL_STEP_MS);
}
