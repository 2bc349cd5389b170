/*
 * backup_source.c - the child processes of a backup: backup_source commands
 * whose stdout becomes a file, restore_commands fed a file on stdin, and the
 * before_restore/after_restore hooks. They run through lib/proc.c: argv,
 * never a shell; their own process group; the whole tree killed on a
 * timeout, the run's deadline or a signal; no secrets in their environment.
 */
#include "backup_int.h"
#include "log.h"
#include "plugin.h"
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct sink {
	struct mc_bk_writer *w;
	struct mc_err err;
	int failed;
	struct mc_buf stderr_tail;	/* the last words, for the message */
};

static int on_output(void *ctx, int fd, const char *data, size_t len)
{
	struct sink *s = ctx;

	if (fd == 2) {
		if (s->stderr_tail.len < 4096)
			mc_buf_add(&s->stderr_tail, data,
				   len < 4096 ? len : 4096);
		return 0;
	}
	if (mc_bk_writer_add(s->w, data, len, &s->err) < 0) {
		s->failed = 1;
		return -1;
	}
	return 0;
}

/* The child's last line on stderr, escaped, for the error message. */
static char *last_words(struct mc_buf *b)
{
	char *t, *nl, *clean;

	if (b->len == 0)
		return mc_strdup("");
	t = mc_strndup(b->data, b->len);
	while ((nl = strrchr(t, '\n')) && nl[1] == '\0')
		*nl = '\0';
	nl = strrchr(t, '\n');
	clean = mc_escape_str(nl ? nl + 1 : t);
	free(t);
	t = mc_utf8_truncate(clean, 200);
	free(clean);
	clean = *t ? mc_asprintf(" (%s)", t) : mc_strdup("");
	free(t);
	return clean;
}

/* Why a finished run failed, as one line; NULL when it did not. */
static char *run_failure(const char *what, const struct mc_proc_result *r,
			 int64_t timeout_ms, struct mc_buf *tail)
{
	char dur[32], *words = last_words(tail), *msg = NULL;

	if (r->timed_out) {
		mc_format_duration(timeout_ms, dur, sizeof(dur));
		msg = mc_asprintf("%s overran its timeout of %s: its process "
				  "tree was killed", what, dur);
	} else if (r->deadline) {
		msg = mc_asprintf("%s stopped at the run's deadline (--timeout)",
				  what);
	} else if (r->interrupted) {
		msg = mc_asprintf("%s stopped: interrupted by %s", what,
				  mc_interrupted == SIGINT ? "SIGINT" : "SIGTERM");
	} else if (!r->exited) {
		msg = mc_asprintf("%s was killed by signal %d%s", what,
				  r->signal, words);
	} else if (r->exit_code != 0) {
		msg = mc_asprintf("%s exited %d%s", what, r->exit_code, words);
	} else if (r->cut & (1u << 1)) {
		msg = mc_asprintf("%s: a process it started still held its "
				  "output when its tree was killed: the output "
				  "may be cut", what);
	}
	free(words);
	return msg;
}

static int fail_code(const struct mc_proc_result *r)
{
	if (r->interrupted)
		return mc_interrupted == SIGINT ? MC_EXIT_SIGINT :
		       MC_EXIT_SIGTERM;
	return MC_EXIT_CRITICAL;
}

int mc_bk_source_store(const struct mc_bk_source *src, int zstd,
		       const char *out_path, struct mc_bk_io *io,
		       struct mc_bk_file *f, struct mc_err *err)
{
	struct mc_proc_opts po = { 0 };
	struct mc_proc_io pio = { 0 };
	struct mc_proc_result res;
	struct mc_bk_sums sums;
	struct sink s = { 0 };
	char **argv = NULL, *what = NULL, *why;
	int out, rc = -1;

	if (mc_argv_split(src->command, &argv, err) < 0)
		return -1;
	if ((out = mc_bk_open_new(out_path, err)) < 0)
		goto out;
	what = mc_asprintf("backup_source '%s'", src->name);
	s.w = mc_bk_writer_new(out, out_path, zstd, io);
	po.argv = argv;
	po.io[0] = MC_PROC_DEVNULL;
	po.io[1] = MC_PROC_PIPE;
	po.io[2] = MC_PROC_PIPE;
	po.timeout_ms = src->timeout_ms;
	po.dl = io->dl;
	/* Every byte, also what a process it started writes after it
	 * exited, within its timeout: never cut and stored as whole. */
	po.drain = MC_PROC_DRAIN_STDOUT;
	pio.output = on_output;
	pio.ctx = &s;
	if (mc_proc_run(&po, &pio, &res, err) < 0) {
		err->code = MC_EXIT_CRITICAL;
		goto close;
	}
	if (s.failed) {
		*err = s.err;
		goto close;
	}
	if ((why = run_failure(what, &res, src->timeout_ms,
			       &s.stderr_tail)) != NULL) {
		mc_err_set(err, fail_code(&res), "%s", why);
		free(why);
		goto close;
	}
	if (mc_bk_writer_finish(s.w, &sums, err) < 0)
		goto close;
	if (sums.size == 0) {
		mc_err_set(err, MC_EXIT_CRITICAL, "%s printed nothing", what);
		goto close;
	}
	rc = mc_bk_finish_file(out, out_path, err);
	out = -1;
	if (rc < 0)
		goto out;
	f->size = sums.size;
	f->stored_size = sums.stored;
	memcpy(f->sha256, sums.sha256, 65);
	memcpy(f->sha256_original, sums.sha256_original, 65);
	goto out;
close:
	close(out);
out:
	mc_bk_writer_free(s.w);
	mc_buf_release(&s.stderr_tail);
	mc_argv_free(argv);
	free(what);
	return rc;
}

int mc_bk_source_feed(const char *command, const char *what,
		      const struct mc_bk_file *f, const char *stored_path,
		      int64_t timeout_ms, struct mc_bk_io *io,
		      struct mc_err *err)
{
	struct mc_proc_opts po = { 0 };
	struct mc_proc_io pio = { 0 };
	struct mc_proc_result res;
	struct mc_bk_sums sums;
	struct sink s = { 0 };
	const char *t = getenv("TMPDIR");
	char *tmp = mc_asprintf("%s/mercury-restore-XXXXXX", t && *t ? t :
				"/tmp");
	char **argv = NULL, *why;
	int in = -1, fd, rc = -1;

	/* The original bytes, checked against the manifest, into an
	 * unlinked temporary file that becomes the command's stdin. */
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		mc_err_sys(err, MC_EXIT_IOERR, errno, "cannot create %s", tmp);
		goto out;
	}
	unlink(tmp);
	/* O_NONBLOCK: never waiting on a FIFO swapped in since verify */
	in = open(stored_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (in < 0) {
		mc_err_sys(err, MC_EXIT_IOERR, errno, "cannot read %s",
			   stored_path);
		goto out;
	}
	if (mc_bk_load(in, stored_path, fd, tmp, f->zstd, io, &sums, err) < 0)
		goto out;
	if (strcmp(sums.sha256_original, f->sha256_original) != 0) {
		mc_err_set(err, MC_EXIT_CRITICAL, "%s changed since it was "
			   "verified (SHA-256 differs)", f->path);
		goto out;
	}
	if (lseek(fd, 0, SEEK_SET) < 0) {
		mc_err_sys(err, MC_EXIT_IOERR, errno, "cannot rewind %s", tmp);
		goto out;
	}
	if (mc_argv_split(command, &argv, err) < 0)
		goto out;
	po.argv = argv;
	po.io[0] = MC_PROC_FD;
	po.fd[0] = fd;
	po.io[1] = MC_PROC_DEVNULL;
	po.io[2] = MC_PROC_PIPE;
	po.timeout_ms = timeout_ms;
	po.dl = io ? io->dl : NULL;
	pio.output = on_output;
	pio.ctx = &s;
	if (mc_proc_run(&po, &pio, &res, err) < 0) {
		err->code = MC_EXIT_CRITICAL;
		goto out;
	}
	if ((why = run_failure(what, &res, timeout_ms,
			       &s.stderr_tail)) != NULL) {
		mc_err_set(err, fail_code(&res), "%s", why);
		free(why);
		goto out;
	}
	rc = 0;
out:
	if (in >= 0)
		close(in);
	if (fd >= 0)
		close(fd);
	mc_buf_release(&s.stderr_tail);
	mc_argv_free(argv);
	free(tmp);
	return rc;
}

int mc_bk_hook_run(const char *name, const char *command, int64_t timeout_ms,
		   const struct mc_deadline *dl, struct mc_err *err)
{
	struct mc_proc_opts po = { 0 };
	struct mc_proc_io pio = { 0 };
	struct mc_proc_result res;
	struct sink s = { 0 };
	char **argv = NULL, *why;
	int rc = -1;

	if (mc_argv_split(command, &argv, err) < 0)
		return -1;
	mc_logkv(MC_LOG_INFO, "running a restore hook", "hook", name,
		 (char *)NULL);
	po.argv = argv;
	po.io[0] = MC_PROC_DEVNULL;
	po.io[1] = MC_PROC_DEVNULL;
	po.io[2] = MC_PROC_PIPE;
	po.timeout_ms = timeout_ms;
	po.dl = dl;
	pio.output = on_output;
	pio.ctx = &s;
	if (mc_proc_run(&po, &pio, &res, err) < 0) {
		err->code = MC_EXIT_CRITICAL;
		goto out;
	}
	if ((why = run_failure(name, &res, timeout_ms, &s.stderr_tail)) !=
	    NULL) {
		mc_err_set(err, fail_code(&res), "%s", why);
		free(why);
		goto out;
	}
	rc = 0;
out:
	mc_buf_release(&s.stderr_tail);
	mc_argv_free(argv);
	return rc;
}
