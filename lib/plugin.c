/*
 * plugin.c - Nagios plugins: argv splitting, running one in its own process
 * group under a timeout, and parsing what it prints. See plugin.h.
 *
 * The plugin is started with fork() and execve(). Before the fork the
 * parent prepares all the child needs (the PATH candidates, as execvp(3)
 * would try them) and blocks its signals; the child then makes only
 * async-signal-safe calls: default dispositions for every signal (SIGPIPE
 * included), a process group of its own, stdin and stderr on /dev/null,
 * stdout on our pipe, every other descriptor closed, an empty signal mask,
 * execve. A failed execve sends its errno back through a close-on-exec pipe
 * and exits 127; a file without a #! line is not handed to /bin/sh.
 * (posix_spawn would do most of this, but glibc's leaves its internal
 * signals 32 and 33 ignored in the child, and under valgrind it cannot
 * report an exec failure.)
 *
 * The parent reads stdout with poll() against the deadline, and notices
 * the plugin's exit with waitid(WNOWAIT): its zombie pins the process group
 * id while the group is killed, so kill(-pgid) can never reach an unrelated
 * group that reused the number. Every run ends the same way: SIGKILL to the
 * group (after SIGTERM and a short grace on a timeout), the leader reaped,
 * and a bounded wait until no live process of the group is left, so neither
 * a zombie of ours nor a lingering grandchild survives. A plugin that exits
 * while something it started still holds stdout is read for LINGER_MS
 * more, then that something is killed with the group.
 */
#include "plugin.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define OUT_CAP		(64 * 1024)	/* stdout kept */
#define TEXT_CAP	4096		/* bytes of the first line kept */
#define TERM_GRACE_MS	200		/* SIGTERM -> SIGKILL */
#define LINGER_MS	100		/* reading on after the plugin exited */
#define KILL_WAIT_MS	1000		/* SIGKILL -> reaped, before giving up */
#define GROUP_WAIT_MS	100		/* the group's other members dying */
#define SLICE_MS	100		/* poll slice (mc_interrupted) */
#define IDLE_MIN_US	50		/* exit polling backoff, from ... */
#define IDLE_MAX_US	50000		/* ... to */

/* ---- argv splitting ----------------------------------------------------- */

void mc_argv_free(char **argv)
{
	if (argv == NULL)
		return;
	for (char **a = argv; *a; a++)
		free(*a);
	free(argv);
}

static int split_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

int mc_argv_split(const char *s, char ***argv, struct mc_err *err)
{
	struct mc_buf word = { 0 };
	char **v = NULL;
	size_t n = 0;
	int in_word = 0;
	char quote = 0;
	const char *p = s ? s : "";

	*argv = NULL;
	for (;;) {
		char c = *p;

		if (c == '\0' || split_space(c)) {
			if (in_word) {
				v = mc_realloc(v, (n + 2) * sizeof(*v));
				v[n++] = mc_strdup(word.data ? word.data : "");
				v[n] = NULL;
				mc_buf_reset(&word);
				in_word = 0;
			}
			if (c == '\0')
				break;
			p++;
			continue;
		}
		in_word = 1;
		if (c == '\'') {
			const char *q = strchr(p + 1, '\'');

			if (q == NULL) {
				quote = '\'';
				goto unclosed;
			}
			mc_buf_add(&word, p + 1, (size_t)(q - p - 1));
			p = q + 1;
		} else if (c == '"') {
			for (p++; *p != '"'; p++) {
				if (*p == '\0') {
					quote = '"';
					goto unclosed;
				}
				if (*p == '\\' && p[1] == '\n') {
					p++;		/* continuation */
				} else if (*p == '\\' &&
					   p[1] && strchr("\"\\$`", p[1])) {
					mc_buf_add(&word, ++p, 1);
				} else {
					mc_buf_add(&word, p, 1);
				}
			}
			p++;
		} else if (c == '\\') {
			if (p[1] == '\n') {
				p += 2;			/* continuation */
			} else if (p[1] == '\0') {
				mc_buf_add(&word, p++, 1);	/* as sh */
			} else {
				mc_buf_add(&word, p + 1, 1);
				p += 2;
			}
		} else {
			mc_buf_add(&word, p++, 1);
		}
		/* A word of only "" or '' exists though it is empty. */
		if (word.data == NULL)
			mc_buf_add(&word, "", 0);
	}
	mc_buf_free(&word);
	if (n == 0) {
		free(v);
		return mc_err_set(err, MC_EXIT_USAGE, "empty command");
	}
	*argv = v;
	return 0;
unclosed:
	mc_buf_free(&word);
	if (v)
		v[n] = NULL;
	mc_argv_free(v);
	return mc_err_set(err, MC_EXIT_USAGE, "unclosed %c quote in command",
			  quote);
}

/* ---- output parsing ----------------------------------------------------- */

/* Appends at most max bytes of p[0..n) to b as clean text: valid UTF-8,
 * whitespace controls as ' ', other controls and invalid bytes as '?'. */
static void add_clean(struct mc_buf *b, const char *p, size_t n, size_t max)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t i = 0, start = b->len;

	while (i < n) {
		size_t len = mc_utf8_len(u + i, n - i);

		if (b->len - start + (len ? len : 1) > max)
			break;
		if (len == 0 || u[i] == 0x7f || (u[i] < 0x20 &&
		    !split_space((char)u[i]))) {
			mc_buf_add(b, "?", 1);
			i += len ? len : 1;
		} else if (u[i] < 0x20) {
			mc_buf_add(b, " ", 1);
			i++;
		} else {
			mc_buf_add(b, p + i, len);
			i += len;
		}
	}
	if (b->data == NULL)
		mc_buf_add(b, "", 0);
}

/* Length of the leading number of s[0..n) (0: none), for value[UOM]. */
static size_t number_prefix(const char *s, size_t n)
{
	size_t best = 0;
	double v;

	for (size_t k = 1; k <= n && k < 64; k++)
		if (mc_parse_decimal(s, k, &v) == 0)
			best = k;
	return best;
}

static int perf_uom(const char *s, size_t n)
{
	/* The plugin guidelines' units; GB too, which real plugins print. */
	static const char *const uoms[] = { "", "s", "ms", "us", "%", "B",
					    "KB", "MB", "GB", "TB", "c" };

	for (size_t i = 0; i < MC_ARRAY_LEN(uoms); i++)
		if (strlen(uoms[i]) == n && memcmp(uoms[i], s, n) == 0)
			return 0;
	return -1;
}

/* A warn or crit field: range syntax characters only. */
static int perf_range_text(const char *s, size_t n)
{
	if (n == 0 || n > 64)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789.+-~@:eE", s[i]) || s[i] == '\0')
			return -1;
	return 0;
}

static void perf_strings_free(struct mc_perf *p)
{
	free(p->label);
	free(p->uom);
	free(p->warn);
	free(p->crit);
}

/* Parses one item's data "value[UOM];warn;crit;min;max" (s[0..n)) into pf;
 * -1 when it is malformed. */
static int perf_data(const char *s, size_t n, struct mc_perf *pf)
{
	const char *f[5], *end = s + n;
	size_t fl[5], nf = 0, k;

	/* Split on ';' into at most 5 fields; more are allowed only empty. */
	for (const char *p = s;;) {
		const char *semi = memchr(p, ';', (size_t)(end - p));
		size_t len = semi ? (size_t)(semi - p) : (size_t)(end - p);

		if (nf < 5) {
			f[nf] = p;
			fl[nf++] = len;
		} else if (len) {
			return -1;
		}
		if (semi == NULL)
			break;
		p = semi + 1;
	}
	for (k = nf; k < 5; k++)
		f[k] = end, fl[k] = 0;

	if (fl[0] == 1 && f[0][0] == 'U') {
		pf->value = NAN;	/* "U": could not be determined */
		k = 1;
	} else {
		k = number_prefix(f[0], fl[0]);
		if (k == 0 || mc_parse_decimal(f[0], k, &pf->value) < 0)
			return -1;
	}
	if (perf_uom(f[0] + k, fl[0] - k) < 0)
		return -1;
	pf->uom = mc_strndup(f[0] + k, fl[0] - k);
	pf->warn = mc_strndup(f[1], perf_range_text(f[1], fl[1]) ? 0 : fl[1]);
	pf->crit = mc_strndup(f[2], perf_range_text(f[2], fl[2]) ? 0 : fl[2]);
	pf->has_min = mc_parse_decimal(f[3], fl[3], &pf->min) == 0;
	pf->has_max = mc_parse_decimal(f[4], fl[4], &pf->max) == 0;
	if (!pf->has_min)
		pf->min = 0;
	if (!pf->has_max)
		pf->max = 0;
	return 0;
}

void mc_perf_parse(const char *s, struct mc_perf **out, size_t *n)
{
	const char *p = s ? s : "";
	struct mc_buf label = { 0 };

	*out = NULL;
	*n = 0;
	while (*p) {
		struct mc_perf pf = { 0 };
		const char *data;
		int ok = 1;

		while (split_space(*p))
			p++;
		if (*p == '\0')
			break;
		mc_buf_reset(&label);
		if (*p == '\'') {
			/* 'label with spaces', '' is a literal quote */
			for (p++;; p++) {
				if (*p == '\0') {
					ok = 0;
					break;
				}
				if (*p == '\'' && p[1] == '\'') {
					mc_buf_add(&label, p++, 1);
				} else if (*p == '\'') {
					p++;
					break;
				} else {
					mc_buf_add(&label, p, 1);
				}
			}
			if (!ok)
				break;		/* unclosed: nothing more */
		} else {
			const char *q = p;

			while (*q && *q != '=' && !split_space(*q))
				q++;
			mc_buf_add(&label, p, (size_t)(q - p));
			p = q;
		}
		if (*p != '=' || label.len == 0)
			ok = 0;
		else
			p++;
		data = p;
		while (*p && !split_space(*p))
			p++;
		if (ok && perf_data(data, (size_t)(p - data), &pf) == 0) {
			pf.label = mc_strndup(label.data, label.len);
			*out = mc_realloc(*out, (*n + 1) * sizeof(**out));
			(*out)[(*n)++] = pf;
		} else {
			perf_strings_free(&pf);
			/* A bad item: go on after the next blank. */
		}
	}
	mc_buf_free(&label);
}

void mc_perf_free(struct mc_perf *p, size_t n)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		perf_strings_free(&p[i]);
	free(p);
}

/* Splits raw output into res->text and res->perf (Nagios plugin API: the
 * first line is "TEXT | PERF"; in the long output that follows, everything
 * after the first '|' is more perfdata). */
void mc_plugin_parse_output(const char *buf, size_t len,
			    struct mc_plugin_result *res)
{
	const char *nl = memchr(buf, '\n', len);
	size_t l1 = nl ? (size_t)(nl - buf) : len;
	const char *bar = memchr(buf, '|', l1);
	struct mc_buf t = { 0 }, perf = { 0 };
	char *trimmed;

	add_clean(&t, buf, bar ? (size_t)(bar - buf) : l1, (size_t)-1);
	trimmed = mc_trim(t.data);
	if (strlen(trimmed) > TEXT_CAP) {
		/* Cut on a character boundary. */
		size_t cut = TEXT_CAP;

		while (cut > 0 && ((unsigned char)trimmed[cut] & 0xc0) == 0x80)
			cut--;
		trimmed[cut] = '\0';
		trimmed = mc_trim(trimmed);
	}
	res->text = mc_strdup(trimmed);
	mc_buf_free(&t);

	if (bar)
		add_clean(&perf, bar + 1, l1 - (size_t)(bar + 1 - buf),
			  (size_t)-1);
	if (nl) {
		const char *rest = nl + 1;
		size_t rlen = len - (size_t)(rest - buf);
		const char *bar2 = memchr(rest, '|', rlen);

		if (bar2) {
			mc_buf_add(&perf, " ", 1);
			add_clean(&perf, bar2 + 1,
				  rlen - (size_t)(bar2 + 1 - rest), (size_t)-1);
		}
	}
	if (perf.data)
		mc_perf_parse(perf.data, &res->perf, &res->n_perf);
	mc_buf_free(&perf);
}

/* ---- running ------------------------------------------------------------ */

/* What the child needs, prepared before fork(): after it, the child of a
 * threaded process may only make async-signal-safe calls. */
struct launch {
	char *const *argv;
	char **paths;		/* where to look for argv[0], in order */
	size_t n_paths;
	char **envp;
	int out_w, err_w;	/* stdout pipe, exec-error pipe */
	int max_fd;		/* fallback for close_range */
};

/* The candidates for argv[0], as execvp(3) finds them: itself when it has
 * a '/', else each directory of PATH ("" is the current one; unset PATH is
 * glibc's default "/bin:/usr/bin"). */
static void launch_paths(struct launch *l)
{
	const char *name = l->argv[0], *path = getenv("PATH"), *p;

	if (strchr(name, '/')) {
		l->paths = mc_calloc(1, sizeof(*l->paths));
		l->paths[l->n_paths++] = mc_strdup(name);
		return;
	}
	if (path == NULL)
		path = "/bin:/usr/bin";
	l->paths = mc_calloc(strlen(path) + 2, sizeof(*l->paths));
	for (p = path;; p++) {
		const char *colon = strchr(p, ':');
		size_t len = colon ? (size_t)(colon - p) : strlen(p);

		l->paths[l->n_paths++] = len ?
			mc_asprintf("%.*s/%s", (int)len, p, name) :
			mc_strdup(name);
		if (colon == NULL)
			break;
		p = colon;
	}
}

static void launch_free(struct launch *l)
{
	for (size_t i = 0; i < l->n_paths; i++)
		free(l->paths[i]);
	free(l->paths);
}

/* The child: async-signal-safe calls only, then execve or _exit(127). */
static void __attribute__((noreturn)) child(const struct launch *l)
{
	struct sigaction dfl;
	sigset_t none;
	int e = ENOENT, seen_eacces = 0, fd, out, errp, chan = l->err_w;

	/* Handlers would be reset by execve; ignored signals would not. */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL);	/* SIGKILL & co fail: fine */
	setpgid(0, 0);

	/* Our pipes out of the way of 0-3 first, whatever numbers they got. */
	out = fcntl(l->out_w, F_DUPFD, 10);
	errp = fcntl(l->err_w, F_DUPFD, 10);
	fd = open("/dev/null", O_RDWR);
	if (out < 0 || errp < 0 || fd < 0 || dup2(fd, 0) < 0 ||
	    dup2(fd, 2) < 0 || dup2(out, 1) < 0 || dup2(errp, 3) < 0) {
		e = errno;
		goto fail;
	}
	/* Everything else goes; the error pipe stays until execve. */
	chan = 3;
	fcntl(3, F_SETFD, FD_CLOEXEC);
	if (close_range(4, ~0U, 0) < 0)
		for (int i = 4; i < l->max_fd; i++)
			close(i);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	for (size_t i = 0; i < l->n_paths; i++) {
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
fail:
	while (write(chan, &e, sizeof(e)) < 0 && errno == EINTR)
		;
	_exit(127);
}

/* 1 when the child has exited (left a zombie: not reaped), else 0. */
static int leader_exited(pid_t pid)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
		return errno == ECHILD;	/* reaped elsewhere: gone */
	return si.si_pid == pid;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Waits up to ms for the child to exit (without reaping); 1 when it has.
 * Polls waitid() with a short backoff: a pidfd would say it at once, but
 * valgrind (3.19) knows no pidfd_open. */
static int wait_exit(pid_t pid, long ms)
{
	double end = mc_mono_now() + ms / 1e3;
	long step = 1;

	for (;;) {
		double left;

		if (leader_exited(pid))
			return 1;
		left = (end - mc_mono_now()) * 1e3;
		if (left <= 0)
			return 0;
		sleep_ms(left < step ? (long)left + 1 : step);
		if (step < 10)
			step *= 2;
	}
}

/* 1 when a process of group pgid other than a zombie exists. */
static int group_alive(pid_t pgid)
{
	DIR *d;
	struct dirent *e;
	int alive = 0;

	if (kill(-pgid, 0) < 0 && errno == ESRCH)
		return 0;
	d = opendir("/proc");
	if (d == NULL)
		return 1;
	while (!alive && (e = readdir(d)) != NULL) {
		char path[300], buf[512], *rp, state;
		long pgrp;
		ssize_t r;
		int fd;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		r = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (r <= 0)
			continue;
		buf[r] = '\0';
		/* pid (comm) state ppid pgrp ...; comm may hold ')' */
		rp = strrchr(buf, ')');
		if (rp && sscanf(rp + 1, " %c %*d %ld", &state, &pgrp) == 2 &&
		    pgrp == (long)pgid && state != 'Z' && state != 'X')
			alive = 1;
	}
	closedir(d);
	return alive;
}

static void *reaper(void *arg)
{
	pid_t pid = (pid_t)(intptr_t)arg;

	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return NULL;
}

/* Kills what is left of the group, reaps the leader into *st; 0, or -1
 * when the leader would not die in time (then a detached thread reaps it
 * later, so it is never left a zombie). */
static int finish(pid_t pid, int *st)
{
	double end;

	kill(-pid, SIGKILL);		/* leader alive or a zombie: pgid pinned */
	if (!wait_exit(pid, KILL_WAIT_MS)) {
		pthread_t t;
		pthread_attr_t a;

		pthread_attr_init(&a);
		pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t, &a, reaper, (void *)(intptr_t)pid) != 0)
			waitpid(pid, st, 0);
		pthread_attr_destroy(&a);
		return -1;
	}
	while (waitpid(pid, st, 0) < 0 && errno == EINTR)
		;
	/* Members that were killed die at once, but let them get there. */
	end = mc_mono_now() + GROUP_WAIT_MS / 1e3;
	while (group_alive(pid) && mc_mono_now() < end)
		sleep_ms(2);
	return 0;
}

static void set_text(struct mc_plugin_result *res, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_text(struct mc_plugin_result *res, const char *fmt, ...)
{
	va_list ap;
	char *t;

	va_start(ap, fmt);
	t = mc_vasprintf(fmt, ap);
	va_end(ap);
	free(res->text);
	res->text = t;
}

/* Starts argv with stdout on out_w in a process group of its own; 0 with
 * *pid, or an errno (from fork, or from execve in the child, carried back
 * through a close-on-exec pipe; that child is reaped). */
/* A child whose execve fails exits at once, its stack frames possibly
 * reused by then: the candidate paths it was given are kept in static
 * storage while it is forked, so that leak checkers (valgrind follows
 * forks) see them as reachable. One fork at a time; the window is short. */
static pthread_mutex_t fork_mu = PTHREAD_MUTEX_INITIALIZER;
static char **volatile forking_paths;

static int spawn(char *const argv[], int out_w, pid_t *pid)
{
	struct launch l = { .argv = argv, .envp = environ, .out_w = out_w };
	struct rlimit rl;
	sigset_t all, old;
	int ep[2], e = 0;
	ssize_t r;

	if (pipe2(ep, O_CLOEXEC) < 0)
		return errno;
	launch_paths(&l);
	l.err_w = ep[1];
	l.max_fd = getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
		   rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 65536 ?
		   (int)rl.rlim_cur : 65536;
	/* No handler of ours may run in the child before it resets them. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_mutex_lock(&fork_mu);
	forking_paths = l.paths;
	*pid = fork();
	if (*pid == 0)
		child(&l);
	if (*pid < 0)
		e = errno;
	forking_paths = NULL;
	pthread_mutex_unlock(&fork_mu);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	close(ep[1]);
	launch_free(&l);
	if (e) {
		close(ep[0]);
		return e;
	}
	/* Also here, so the group exists before anyone signals it (EACCES
	 * once the child has exec'd: it did it itself by then). */
	setpgid(*pid, *pid);
	while ((r = read(ep[0], &e, sizeof(e))) < 0 && errno == EINTR)
		;
	close(ep[0]);
	if (r == (ssize_t)sizeof(e)) {
		while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
			;
		return e ? e : ENOEXEC;
	}
	return 0;
}

int mc_plugin_run(char *const argv[], int64_t timeout_ms,
		  struct mc_plugin_result *res, struct mc_err *err)
{
	struct mc_buf out = { 0 };
	int pfd[2], st = 0, exited = 0, interrupted = 0, rc;
	char eb[128];
	long idle_us = IDLE_MIN_US;
	double t0 = mc_mono_now(), deadline, exit_at = 0;
	pid_t pid = 0;

	memset(res, 0, sizeof(*res));
	res->status = 3;
	res->exit_code = -1;
	if (argv == NULL || argv[0] == NULL || argv[0][0] == '\0') {
		res->text = mc_strdup("empty command");
		return mc_err_set(err, MC_EXIT_USAGE, "empty command");
	}
	if (timeout_ms < 0)
		timeout_ms = 0;
	deadline = t0 + (double)timeout_ms / 1e3;
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		rc = errno;
		set_text(res, "cannot run %s: pipe: %s", argv[0],
			 mc_strerror(rc, eb, sizeof(eb)));
		return mc_err_sys(err, MC_EXIT_IOERR, rc, "cannot run %s: pipe",
				  argv[0]);
	}
	rc = spawn(argv, pfd[1], &pid);
	close(pfd[1]);
	if (rc != 0) {
		close(pfd[0]);
		res->exit_code = 127;
		res->duration_ms = (mc_mono_now() - t0) * 1e3;
		set_text(res, "cannot run %s: %s", argv[0],
			 mc_strerror(rc, eb, sizeof(eb)));
		return mc_err_set(err, MC_EXIT_UNKNOWN, "%s", res->text);
	}
	fcntl(pfd[0], F_SETFL, fcntl(pfd[0], F_GETFL) | O_NONBLOCK);

	/* Read until the plugin exits and its stdout closes, or it overruns
	 * the deadline. Its exit is polled with a backoff from 50 us while
	 * the pipe is quiet (the pipe usually closes just as it exits). */
	for (int out_fd = pfd[0];;) {
		struct pollfd pf = { out_fd, POLLIN, 0 };
		double now = mc_mono_now(), until;
		struct timespec ts;
		long wait_us;

		if (!exited && leader_exited(pid)) {
			exited = 1;
			exit_at = now;
		}
		if (exited && out_fd < 0)
			break;
		if (exited && now >= exit_at + LINGER_MS / 1e3)
			break;		/* something else holds stdout open */
		if (!exited && now >= deadline) {
			res->timed_out = 1;
			break;
		}
		if (mc_interrupted && !exited) {
			interrupted = 1;
			break;
		}
		until = exited ? exit_at + LINGER_MS / 1e3 : deadline;
		wait_us = (long)((until - now) * 1e6) + 1;
		if (wait_us > SLICE_MS * 1000L)
			wait_us = SLICE_MS * 1000L;
		if (!exited && wait_us > idle_us)
			wait_us = idle_us;
		ts.tv_sec = wait_us / 1000000;
		ts.tv_nsec = wait_us % 1000000 * 1000;
		if (ppoll(&pf, out_fd >= 0, &ts, NULL) <= 0) {
			if (idle_us < IDLE_MAX_US)
				idle_us *= 2;
			continue;
		}
		idle_us = IDLE_MIN_US;
		if (pf.revents) {
			char chunk[8192];
			ssize_t r = read(out_fd, chunk, sizeof(chunk));

			if (r > 0) {
				size_t keep = out.len < OUT_CAP ?
					      OUT_CAP - out.len : 0;

				/* Past the cap the rest is drained, not
				 * kept, so the plugin never blocks on us. */
				mc_buf_add(&out, chunk,
					   (size_t)r < keep ? (size_t)r : keep);
			} else if (r == 0 || (errno != EAGAIN &&
					      errno != EINTR)) {
				close(out_fd);
				out_fd = pfd[0] = -1;
			}
		}
	}
	if (pfd[0] >= 0)
		close(pfd[0]);

	if (!exited) {
		kill(-pid, SIGTERM);
		wait_exit(pid, TERM_GRACE_MS);
	}
	rc = finish(pid, &st);
	res->duration_ms = (mc_mono_now() - t0) * 1e3;

	mc_plugin_parse_output(out.data ? out.data : "", out.len, res);
	mc_buf_free(&out);

	if (rc < 0 || res->timed_out || interrupted) {
		/* Partial output is no measurement. */
		mc_perf_free(res->perf, res->n_perf);
		res->perf = NULL;
		res->n_perf = 0;
		res->status = 3;
		res->exit_code = -1;
		if (rc < 0)
			set_text(res, "plugin %s did not die after SIGKILL",
				 argv[0]);
		else if (interrupted)
			set_text(res, "plugin interrupted (killed)");
		else
			set_text(res, "plugin timed out after %lld ms (killed)",
				 (long long)timeout_ms);
	} else if (WIFEXITED(st)) {
		res->exit_code = WEXITSTATUS(st);
		if (res->exit_code <= 3) {
			res->status = res->exit_code;
		} else {
			const char *why = res->exit_code == 127 ?
				" (command not found)" : res->exit_code == 126 ?
				" (not executable)" : "";

			res->status = 3;
			set_text(res, "plugin exited %d%s%s%s", res->exit_code,
				 why, *res->text ? ": " : "", res->text);
		}
	} else {
		int sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;

		res->status = 3;
		res->exit_code = -1;
		set_text(res, "plugin killed by signal %d%s%s", sig,
			 *res->text ? ": " : "", res->text);
	}
	return 0;
}

void mc_plugin_result_clean(struct mc_plugin_result *res)
{
	if (res == NULL)
		return;
	free(res->text);
	mc_perf_free(res->perf, res->n_perf);
	memset(res, 0, sizeof(*res));
}
