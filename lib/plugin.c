/*
 * plugin.c - Nagios plugins: argv splitting, running one under a timeout,
 * and parsing what it prints. See plugin.h.
 *
 * The plugin runs through lib/proc.c (stdin and stderr on /dev/null,
 * stdout on a pipe of which the first 64 KiB are kept), which gives it its
 * own process group and an environment without mercuryctl's secrets, and
 * kills its whole tree when it is over: on a timeout or a signal SIGTERM,
 * TERM_GRACE_MS, SIGKILL; when it exits, whatever it left behind (read for
 * LINGER_MS more if it still holds stdout), descendants that called setsid
 * included. No zombie is left.
 */
#include "plugin.h"
#include "proc.h"
#include "output.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OUT_CAP		(64 * 1024)	/* stdout kept */
#define TEXT_CAP	4096		/* bytes of the first line kept */
#define TERM_GRACE_MS	200		/* SIGTERM -> SIGKILL */
#define LINGER_MS	100		/* reading on after the plugin exited */

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
	mc_buf_release(&word);
	if (n == 0) {
		free(v);
		return mc_err_set(err, MC_EXIT_USAGE, "empty command");
	}
	*argv = v;
	return 0;
unclosed:
	mc_buf_release(&word);
	if (v)
		v[n] = NULL;
	mc_argv_free(v);
	return mc_err_set(err, MC_EXIT_USAGE, "unclosed %c quote in command",
			  quote);
}

/* ---- output parsing ----------------------------------------------------- */

/* Appends p[0..n) to b as one line of UTF-8 that keeps what the plugin
 * said: whitespace controls as ' ', bytes that are not UTF-8 (NUL
 * included) as \xNN. With all, other control characters are written \xNN
 * too (perfdata: labels); else they are kept, for each output to show as
 * all untrusted text is (mc_escape() in text, Nagios and the state file;
 * JSON escapes them itself). */
static void add_clean(struct mc_buf *b, const char *p, size_t n, int all)
{
	char *t = mc_malloc(n + 1), *e;

	memcpy(t, p, n);
	for (size_t i = 0; i < n; i++)
		if (t[i] != ' ' && split_space(t[i]))
			t[i] = ' ';
	e = all ? mc_escape(t, n) : mc_utf8_clean_n(t, n);
	mc_buf_puts(b, e);
	if (b->data == NULL)
		mc_buf_add(b, "", 0);
	free(e);
	free(t);
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
	mc_buf_release(&label);
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

	add_clean(&t, buf, bar ? (size_t)(bar - buf) : l1, 0);
	trimmed = mc_trim(t.data);
	if (strlen(trimmed) > TEXT_CAP) {
		/* Cut on a character boundary. */
		size_t cut = TEXT_CAP;

		while (cut > 0 && ((unsigned char)trimmed[cut] & 0xc0) == 0x80)
			cut--;
		/* nor inside a \xNN escape */
		for (size_t k = 1; k <= 3 && k <= cut; k++)
			if (trimmed[cut - k] == '\\' &&
			    (k == 1 || trimmed[cut - k + 1] == 'x')) {
				cut -= k;
				break;
			}
		trimmed[cut] = '\0';
		trimmed = mc_trim(trimmed);
	}
	res->text = mc_strdup(trimmed);
	mc_buf_release(&t);

	if (bar)
		add_clean(&perf, bar + 1, l1 - (size_t)(bar + 1 - buf), 1);
	if (nl) {
		const char *rest = nl + 1;
		size_t rlen = len - (size_t)(rest - buf);
		const char *bar2 = memchr(rest, '|', rlen);

		if (bar2) {
			mc_buf_add(&perf, " ", 1);
			add_clean(&perf, bar2 + 1,
				  rlen - (size_t)(bar2 + 1 - rest), 1);
		}
	}
	if (perf.data)
		mc_perf_parse(perf.data, &res->perf, &res->n_perf);
	mc_buf_release(&perf);
}

/* ---- running ------------------------------------------------------------ */

/* Keeps the first OUT_CAP bytes of stdout; past the cap the rest is
 * drained, not kept, so the plugin never blocks on us. */
static int keep_output(void *ctx, int fd, const char *data, size_t len)
{
	struct mc_buf *out = ctx;
	size_t keep = out->len < OUT_CAP ? OUT_CAP - out->len : 0;

	(void)fd;
	mc_buf_add(out, data, len < keep ? len : keep);
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

int mc_plugin_run(char *const argv[], int64_t timeout_ms,
		  struct mc_plugin_result *res, struct mc_err *err)
{
	struct mc_buf out = { 0 };
	struct mc_proc_opts o = {
		.argv = argv,
		.io = { MC_PROC_DEVNULL, MC_PROC_PIPE, MC_PROC_DEVNULL },
		.kill_grace_ms = TERM_GRACE_MS,
		.linger_ms = LINGER_MS,
	};
	struct mc_proc_io io = { .output = keep_output, .ctx = &out };
	struct mc_proc_result pr;
	struct mc_err e = { 0 };
	double t0 = mc_mono_now();

	memset(res, 0, sizeof(*res));
	res->status = 3;
	res->exit_code = -1;
	if (argv == NULL || argv[0] == NULL || argv[0][0] == '\0') {
		res->text = mc_strdup("empty command");
		return mc_err_set(err, MC_EXIT_USAGE, "empty command");
	}
	/* 0 would mean none to the runner: here it means at once. */
	o.timeout_ms = timeout_ms > 0 ? timeout_ms : 1;
	if (mc_proc_run(&o, &io, &pr, &e) < 0) {
		res->exit_code = 127;
		res->duration_ms = (mc_mono_now() - t0) * 1e3;
		res->text = mc_strdup(e.msg);
		if (err)
			*err = e;
		return -1;
	}
	res->timed_out = pr.timed_out;
	res->duration_ms = pr.duration_ms;
	mc_plugin_parse_output(out.data ? out.data : "", out.len, res);
	mc_buf_release(&out);

	if (pr.unkillable || pr.timed_out || pr.interrupted) {
		/* Partial output is no measurement. */
		mc_perf_free(res->perf, res->n_perf);
		res->perf = NULL;
		res->n_perf = 0;
		res->status = 3;
		res->exit_code = -1;
		if (pr.unkillable)
			set_text(res, "plugin %s did not die after SIGKILL",
				 argv[0]);
		else if (pr.interrupted)
			set_text(res, "plugin interrupted (killed)");
		else
			set_text(res, "plugin timed out after %lld ms (killed)",
				 (long long)timeout_ms);
	} else if (pr.exited) {
		res->exit_code = pr.exit_code;
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
		res->status = 3;
		res->exit_code = -1;
		set_text(res, "plugin killed by signal %d%s%s", pr.signal,
			 *res->text ? ": " : "", res->text);
	}
	return 0;
}

void mc_plugin_result_release(struct mc_plugin_result *res)
{
	if (res == NULL)
		return;
	free(res->text);
	mc_perf_free(res->perf, res->n_perf);
	memset(res, 0, sizeof(*res));
}

static void put_perf_number(struct mc_buf *b, double v)
{
	char s[40];

	mc_format_number(v, s, sizeof(s));
	mc_buf_puts(b, s);
}

void mc_perf_format(struct mc_buf *b, const struct mc_perf *pf, size_t n,
		    const char *prefix)
{
	for (size_t i = 0; i < n; i++) {
		const struct mc_perf *p = &pf[i];
		/* Fields after the last non-empty one are left out. */
		int last = p->has_max ? 4 : p->has_min ? 3 : *p->crit ? 2 :
			   *p->warn ? 1 : 0;
		char *label = mc_asprintf("%s%s", prefix ? prefix : "",
					  p->label);

		if (b->len)
			mc_buf_puts(b, " ");
		mc_perf_label(b, label, "");
		free(label);
		mc_buf_puts(b, "=");
		if (isnan(p->value))
			mc_buf_puts(b, "U");
		else
			put_perf_number(b, p->value);
		mc_buf_puts(b, p->uom);
		if (last >= 1)
			mc_buf_printf(b, ";%s", p->warn);
		if (last >= 2)
			mc_buf_printf(b, ";%s", p->crit);
		if (last >= 3) {
			mc_buf_puts(b, ";");
			if (p->has_min)
				put_perf_number(b, p->min);
		}
		if (last >= 4) {
			mc_buf_puts(b, ";");
			put_perf_number(b, p->max);
		}
	}
}
