/* ctx.c - helpers the command fronts share. */
#include "cmd.h"
#include "coord.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

struct mc_http *mc_ctx_http(struct mc_ctx *ctx)
{
	if (ctx->http == NULL)
		ctx->http = mc_http_new(ctx->correlation_id, &ctx->err);
	return ctx->http;
}

int mc_ctx_wait_lock_ms(struct mc_ctx *ctx, int64_t *wait_ms)
{
	const char *w = mc_args_value(ctx->args, "wait-lock");

	*wait_ms = 0;
	return w ? mc_parse_duration_ms(w, wait_ms, &ctx->err) : 0;
}

int mc_ctx_lock(struct mc_ctx *ctx, const char *name)
{
	int64_t wait_ms;
	char *dir;

	if (mc_ctx_wait_lock_ms(ctx, &wait_ms) < 0)
		return -1;
	dir = mc_asprintf("%s/locks", mc_state_dir(ctx->st));
	ctx->lock = mc_lock_take(dir, name, wait_ms, &ctx->err);
	free(dir);
	return ctx->lock ? 0 : -1;
}

int mc_ctx_coord_lock(struct mc_ctx *ctx, const char *name, int flags,
		      struct mc_coord_lock **out)
{
	int64_t wait_ms;

	*out = NULL;
	if (mc_ctx_wait_lock_ms(ctx, &wait_ms) < 0)
		return -1;
	return mc_coord_lock_take(ctx->coord, name, flags, wait_ms, out,
				  &ctx->err);
}

void mc_ctx_breaker_conf(const struct mc_ctx *ctx, struct mc_breaker_conf *bc)
{
	mc_breaker_conf_read(mc_conf_core(ctx->conf), NULL, bc);
}

/* The Pushgateway URL: --pushgateway, else [core] pushgateway_url (or
 * MERCURY_PUSHGATEWAY_URL), else the file or variable [core] names. Its
 * password is registered for masking. *url is NULL when none is set;
 * caller frees it. */
static int pushgateway_url(const struct mc_ctx *ctx, char **url,
			   struct mc_err *err)
{
	const struct mc_conf_section *core = mc_conf_core(ctx->conf);
	const char *v = mc_args_value(ctx->args, "pushgateway");

	*url = NULL;
	if (v == NULL && core != NULL)
		v = mc_conf_str(core, "pushgateway_url");
	if (v != NULL)
		*url = mc_strdup(v);
	else if (core != NULL &&
		 mc_conf_secret(core, "pushgateway_url_file",
				"pushgateway_url_env", "Pushgateway URL", url,
				err) < 0)
		return -1;
	if (*url == NULL)
		return 0;
	mc_redact_add_url(*url);
	if (strncmp(*url, "http://", 7) != 0 &&
	    strncmp(*url, "https://", 8) != 0) {
		mc_free_secret(*url);
		*url = NULL;
		return mc_err_set(err, MC_EXIT_CONFIG, "the Pushgateway URL is "
				  "not http:// or https:// (not shown)");
	}
	return 0;
}

/* The family of one line of exposition (a "# HELP" or "# TYPE" line, or
 * a sample) in own's table, or NULL. */
static const struct mc_metric_family *
family_of(const struct mc_metric_owner *own, const char *line, size_t len)
{
	size_t n;

	if (len > 7 && (strncmp(line, "# HELP ", 7) == 0 ||
			strncmp(line, "# TYPE ", 7) == 0)) {
		line += 7;
		len -= 7;
	}
	for (n = 0; n < len && !strchr("{ \n", line[n]); n++)
		;
	for (const struct mc_metric_family *f = own->families; f->name; f++)
		if (strlen(f->name) == n && strncmp(f->name, line, n) == 0)
			return f;
	return NULL;
}

/* The run's file: its exposition without the families owned elsewhere. */
static char *run_file_text(const struct mc_ctx *ctx,
			   const struct mc_metric_owner *own, const char *text)
{
	struct mc_buf b = { 0 };

	mc_buf_puts(&b, "");
	while (*text) {
		const char *nl = strchr(text, '\n');
		size_t len = nl ? (size_t)(nl - text) + 1 : strlen(text);
		const struct mc_metric_family *f =
			own ? family_of(own, text, len) : NULL;

		if (f == NULL || (f->run_of && !strcmp(f->run_of, ctx->command)))
			mc_buf_add(&b, text, len);
		text += len;
	}
	return mc_buf_steal(&b);
}

/* DIR/mercuryctl_TOP.prom: the view of the families top owns. Left as
 * it is when the run has no configuration (it failed before loading
 * one) or the view cannot tell. */
static int write_owned(struct mc_ctx *ctx, const char *dir,
		       const struct mc_cmd *top, struct mc_err *err)
{
	struct mc_buf b = { 0 };
	struct mc_err e = { 0 };
	int rc;

	/* the owner's file name must be no run's: TOP alone never runs */
	if (top->run != NULL)
		MC_BUG("'%s' runs, so it cannot own metric families", top->name);
	if (ctx->conf == NULL)
		return 0;
	mc_buf_puts(&b, "");
	rc = top->metrics->view(ctx, &b, &e);
	if (rc == 0)
		rc = mc_textfile_write(dir, top->name, b.data, &e);
	mc_buf_release(&b);
	if (rc >= 0)
		return 0;
	if (err)
		*err = e;
	return -1;
}

static int write_textfiles(struct mc_ctx *ctx, const char *dir,
			   const char *text, struct mc_err *err)
{
	const struct mc_cmd *top = ctx->args->depth > 1 ?
				   ctx->args->path[1] : NULL;
	const struct mc_metric_owner *own = top ? top->metrics : NULL;
	char *run = run_file_text(ctx, own, text);
	int rc = mc_textfile_write(dir, ctx->command, run, err);

	free(run);
	/* (a directory the run's file could not go to is reported once) */
	if (rc == 0 && own && own->view)
		rc = write_owned(ctx, dir, top, err);
	return rc;
}

int mc_publish_metrics(struct mc_ctx *ctx, const struct mc_report *r,
		       struct mc_err *err)
{
	const char *dir = mc_args_value(ctx->args, "textfile-dir");
	const char *text = r->prom.data ? r->prom.data : "";
	char *url = NULL;
	int rc = 0;

	if (dir && write_textfiles(ctx, dir, text, err) < 0)
		rc = -1;
	{
		struct mc_err e = { 0 };

		if (pushgateway_url(ctx, &url, &e) < 0) {
			if (rc == 0 && err)
				*err = e;
			else
				mc_log(MC_LOG_ERROR, "%s", e.msg);
			rc = -1;
		}
	}
	if (url) {
		struct mc_err e = { 0 };
		char host[256];
		struct mc_http *h = mc_ctx_http(ctx);

		mc_hostname(host, sizeof(host));
		if (h == NULL) {
			e = ctx->err;
			mc_err_clear(&ctx->err);
		}
		if (h == NULL || mc_pushgateway_push(h, url, ctx->command, host,
						     text, &ctx->dl, &e) < 0) {
			if (rc == 0 && err)
				*err = e;
			else
				mc_log(MC_LOG_ERROR, "%s", e.msg);
			rc = -1;
		}
		mc_free_secret(url);
	}
	return rc;
}

double mc_ctx_since(const struct mc_ctx *ctx, int64_t default_ms, double now)
{
	const char *s = mc_args_value(ctx->args, "since");
	int64_t ms = default_ms;

	/* parsed already: the option is typed MC_ARG_DURATION */
	if (s != NULL)
		mc_parse_duration_ms(s, &ms, NULL);
	return ms > 0 ? now - (double)ms / 1e3 : 0;
}

void mc_ctx_rearm_deadline(struct mc_ctx *ctx)
{
	mc_deadline_set(&ctx->dl, ctx->timeout_ms);
}

int mc_ctx_confirm(const char *fmt, ...)
{
	char line[16];
	FILE *tty = fopen("/dev/tty", "r+");
	va_list ap;
	int yes;

	if (tty == NULL)
		return 0;
	va_start(ap, fmt);
	vfprintf(tty, fmt, ap);
	va_end(ap);
	fputs(" [y/N] ", tty);
	fflush(tty);
	yes = fgets(line, sizeof(line), tty) != NULL &&
	      (line[0] == 'y' || line[0] == 'Y');
	fclose(tty);
	return yes;
}

int mc_ctx_bar_wanted(const struct mc_ctx *ctx)
{
	return isatty(STDERR_FILENO) && !ctx->quiet;
}

void mc_ctx_bar_draw(uint64_t done, uint64_t total, const char *fmt, ...)
{
	static const char full[] = "##############################";
	static const char empty[] = "------------------------------";
	int width = (int)sizeof(full) - 1;
	int fill = total == 0 ? 0 :
		   (int)((double)width * (double)(done > total ? total : done) /
			 (double)total);
	va_list ap;

	fprintf(stderr, "\r[%.*s%.*s] ", fill, full, width - fill, empty);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fflush(stderr);
}
