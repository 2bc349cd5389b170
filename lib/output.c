/* output.c - reports, tables, exposition, textfile and Pushgateway. */
#include "output.h"
#include "log.h"

#include <errno.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

int mc_format_parse(const char *s)
{
	static const char *const names[] = { "text", "json", "prom", "nagios" };

	for (size_t i = 0; s && i < MC_ARRAY_LEN(names); i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

int mc_format_scan(int argc, char *const *argv)
{
	int format = MC_FMT_TEXT;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		int f;

		if (strcmp(a, "--") == 0)
			break;
		if (strcmp(a, "--json") == 0)
			v = "json";
		else if (strncmp(a, "--output=", 9) == 0)
			v = a + 9;
		else if (strncmp(a, "-o", 2) == 0 && a[2] != '\0')
			v = a + 2;
		else if ((strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) &&
			 i + 1 < argc)
			v = argv[++i];
		if (v && (f = mc_format_parse(v)) >= 0)
			format = f;
	}
	return format;
}

/* The one table of status names: as JSON, tables and the history say them,
 * and as the Nagios line says them. */
static const struct {
	const char *name, *word;
} statuses[] = {
	[MC_ST_OK] = { "ok", "OK" },
	[MC_ST_WARNING] = { "warning", "WARNING" },
	[MC_ST_CRITICAL] = { "critical", "CRITICAL" },
	[MC_ST_UNKNOWN] = { "unknown", "UNKNOWN" },
};

const char *mc_status_name(int status)
{
	return statuses[status >= 0 && status <= 3 ? status : MC_ST_UNKNOWN]
		.name;
}

const char *mc_status_word(int status)
{
	return statuses[status >= 0 && status <= 3 ? status : MC_ST_UNKNOWN]
		.word;
}

int mc_status_parse(const char *name)
{
	for (int i = 0; i < 4; i++)
		if (mc_streq(name, statuses[i].name))
			return i;
	return MC_ST_UNKNOWN;
}

void mc_report_init(struct mc_report *r, int color)
{
	memset(r, 0, sizeof(*r));
	r->doc = json_object();
	r->color = color;
}

void mc_report_release(struct mc_report *r)
{
	json_decref(r->doc);
	mc_buf_release(&r->text);
	mc_buf_release(&r->prom);
	free(r->nagios);
	free(r->summary);
	memset(r, 0, sizeof(*r));
}

char *mc_prom_label(const char *value)
{
	struct mc_buf b = { 0 };

	mc_buf_puts(&b, "");
	for (const char *p = value; *p; p++) {
		if (*p == '\\')
			mc_buf_puts(&b, "\\\\");
		else if (*p == '"')
			mc_buf_puts(&b, "\\\"");
		else if (*p == '\n')
			mc_buf_puts(&b, "\\n");
		else
			mc_buf_add(&b, p, 1);
	}
	return mc_buf_steal(&b);
}

/* Where the next sample of family name goes in b: after the family's
 * last sample (the exposition format keeps a family's lines together),
 * or -1 when b has no such family yet. */
static long family_end(const struct mc_buf *b, const char *name)
{
	char *seen = mc_asprintf("# TYPE %s ", name);
	const char *p = b->data ? strstr(b->data, seen) : NULL;
	size_t n = strlen(name);

	free(seen);
	if (p == NULL)
		return -1;
	for (;;) {
		const char *nl = strchr(p, '\n');

		p = nl ? nl + 1 : b->data + b->len;
		if (strncmp(p, name, n) != 0 || (p[n] != '{' && p[n] != ' '))
			return (long)(p - b->data);
	}
}

void mc_prom_sample(struct mc_buf *b, const char *name, const char *type,
		    const char *help, const char *labels, double value)
{
	struct mc_buf line = { 0 };
	long at = family_end(b, name);

	if (at < 0)
		mc_buf_printf(&line, "# HELP %s %s\n# TYPE %s %s\n", name, help,
			      name, type);
	mc_buf_puts(&line, name);
	if (labels && *labels)
		mc_buf_printf(&line, "{%s}", labels);
	/* The shortest text that reads back as the same double; integers
	 * print plainly. The range test comes first: casting a huge or
	 * non-finite double to an integer is undefined. */
	if (isnan(value))
		mc_buf_puts(&line, " NaN\n");
	else if (isinf(value))
		mc_buf_puts(&line, value > 0 ? " +Inf\n" : " -Inf\n");
	else if (value < 1e15 && value > -1e15 &&
		 value == (double)(long long)value)
		mc_buf_printf(&line, " %lld\n", (long long)value);
	else {
		char num[40];

		mc_format_number(value, num, sizeof(num));
		mc_buf_printf(&line, " %s\n", num);
	}
	if (at < 0 || (size_t)at == b->len) {
		mc_buf_add(b, line.data, line.len);
	} else {
		size_t old = b->len;

		mc_buf_add(b, line.data, line.len);	/* room for it */
		memmove(b->data + at + line.len, b->data + at,
			old - (size_t)at);
		memcpy(b->data + at, line.data, line.len);
	}
	mc_buf_release(&line);
}

/* ---- tables ------------------------------------------------------------- */

struct mc_table {
	size_t n_cols;
	char **cells;		/* row-major, header row first */
	size_t n_rows;
};

struct mc_table *mc_table_new(size_t n_cols, const char *const *headers)
{
	struct mc_table *t = mc_calloc(1, sizeof(*t));

	t->n_cols = n_cols;
	mc_table_row(t, headers);
	return t;
}

void mc_table_row(struct mc_table *t, const char *const *cells)
{
	t->cells = mc_realloc(t->cells,
			      (t->n_rows + 1) * t->n_cols * sizeof(*t->cells));
	for (size_t c = 0; c < t->n_cols; c++)
		t->cells[t->n_rows * t->n_cols + c] =
			mc_column_text(cells[c] ? cells[c] : "", 0);
	t->n_rows++;
}

void mc_report_span(struct mc_report *r, double since, double until)
{
	char ts[40];

	if (since > 0) {
		mc_format_time(since, ts, sizeof(ts));
		json_object_set_new(r->doc, "since", mc_json_str(ts));
	} else {
		json_object_set_new(r->doc, "since", json_null());
	}
	mc_format_time(until, ts, sizeof(ts));
	json_object_set_new(r->doc, "until", mc_json_str(ts));
}

void mc_table_render(struct mc_table *t, struct mc_buf *out, int color,
		     mc_cell_color_fn cell_color)
{
	size_t *w = mc_calloc(t->n_cols, sizeof(*w));

	for (size_t r = 0; r < t->n_rows; r++)
		for (size_t c = 0; c < t->n_cols; c++) {
			size_t cw = mc_utf8_width(t->cells[r * t->n_cols + c]);

			if (cw > w[c])
				w[c] = cw;
		}
	for (size_t r = 0; r < t->n_rows; r++) {
		for (size_t c = 0; c < t->n_cols; c++) {
			const char *cell = t->cells[r * t->n_cols + c];
			int sgr = 0;
			size_t pad = w[c] - mc_utf8_width(cell);

			if (color && r == 0)
				sgr = 1;	/* bold header */
			else if (color && cell_color)
				sgr = cell_color(c, cell);
			if (sgr)
				mc_buf_printf(out, "\033[%dm%s\033[0m", sgr,
					      cell);
			else
				mc_buf_puts(out, cell);
			if (c + 1 < t->n_cols)
				for (size_t k = 0; k < pad + 2; k++)
					mc_buf_add(out, " ", 1);
		}
		mc_buf_puts(out, "\n");
	}
	free(w);
}

void mc_table_render_or(struct mc_table *t, struct mc_buf *out, int color,
			mc_cell_color_fn cell_color, const char *none, ...)
{
	va_list ap;

	if (t->n_rows > 1) {
		mc_table_render(t, out, color, cell_color);
		return;
	}
	va_start(ap, none);
	mc_buf_vprintf(out, none, ap);
	va_end(ap);
}

void mc_table_free(struct mc_table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n_rows * t->n_cols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

int mc_status_color(const char *status)
{
	if (mc_streq(status, "ok"))
		return 32;
	if (mc_streq(status, "warning") || mc_streq(status, "degraded"))
		return 33;
	if (mc_streq(status, "critical") || mc_streq(status, "unavailable"))
		return 31;
	if (mc_streq(status, "unknown"))
		return 35;
	return 0;
}

/* ---- textfile and Pushgateway ------------------------------------------ */

static char *file_safe(const char *s)
{
	char *p = mc_strdup(s);

	for (char *q = p; *q; q++)
		if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
		      (*q >= '0' && *q <= '9') || *q == '-'))
			*q = '_';
	return p;
}

int mc_textfile_write(const char *dir, const char *command, const char *text,
		      struct mc_err *err)
{
	char *name = file_safe(command);
	char *path = mc_asprintf("%s/mercuryctl_%s.prom", dir, name);
	struct stat st;
	int rc;

	if (stat(dir, &st) < 0) {
		rc = mc_err_sys(err, MC_EXIT_IOERR, errno, "--textfile-dir %s",
				dir);
	} else if (!S_ISDIR(st.st_mode)) {
		rc = mc_err_sys(err, MC_EXIT_IOERR, ENOTDIR, "--textfile-dir %s",
				dir);
	} else {
		rc = mc_write_atomic(path, text, strlen(text), 0644, err);
	}
	free(name);
	free(path);
	return rc;
}

/* A grouping-key path segment: plain when safe, else base64url. */
static void group_label(struct mc_buf *b, const char *label, const char *v)
{
	int plain = *v != '\0';

	for (const char *p = v; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("._-", *p)))
			plain = 0;
	if (plain) {
		mc_buf_printf(b, "/%s/%s", label, v);
		return;
	}
	{
		size_t n = strlen(v);
		unsigned char *enc = mc_malloc(4 * ((n + 2) / 3) + 1);
		int len = EVP_EncodeBlock(enc, (const unsigned char *)v, (int)n);

		for (int i = 0; i < len; i++)
			if (enc[i] == '+')
				enc[i] = '-';
			else if (enc[i] == '/')
				enc[i] = '_';
		/* An empty value is written as "=" in base64 form. */
		mc_buf_printf(b, "/%s@base64/%s", label,
			      len ? (char *)enc : "=");
		free(enc);
	}
}

int mc_pushgateway_push(struct mc_http *h, const char *url,
			const char *command, const char *instance,
			const char *text, const struct mc_deadline *dl,
			struct mc_err *err)
{
	static const char *const headers[] = {
		"Content-Type: text/plain; version=0.0.4", NULL,
	};
	struct mc_buf u = { 0 };
	struct mc_http_req req = { 0 };
	size_t n = strlen(url);
	int rc = 0;

	while (n > 0 && url[n - 1] == '/')
		n--;
	mc_buf_add(&u, url, n);
	mc_buf_puts(&u, "/metrics/job/mercuryctl");
	group_label(&u, "command", command);
	group_label(&u, "instance", instance);
	req.method = "PUT";
	req.url = u.data;
	req.headers = headers;
	req.body = text;
	req.body_len = strlen(text);
	req.timeout_ms = 5000;
	req.max_attempts = 3;
	if (mc_http_perform(h, &req, 1, dl, err) < 0) {
		rc = -1;
	} else if (!req.done || req.status < 200 || req.status >= 300) {
		char *safe = mc_redact_url(url, 0);

		rc = mc_err_set(err, MC_EXIT_IOERR, "push to Pushgateway %s failed: %s",
				safe, req.err.msg[0] ? req.err.msg : "no answer");
		free(safe);
	}
	mc_http_req_release(&req);
	mc_buf_release(&u);
	return rc;
}

/* Set from the one thread that writes the output. */
static int output_gone;

int mc_write_all(FILE *f, const char *s, size_t len)
{
	if (len && fwrite(s, 1, len, f) != len) {
		output_gone |= errno == EPIPE;
		return -1;
	}
	return 0;
}

int mc_flush(FILE *f)
{
	if (fflush(f) != 0) {
		output_gone |= errno == EPIPE;
		return -1;
	}
	return 0;
}

int mc_output_gone(void)
{
	return output_gone;
}

void mc_perf_label(struct mc_buf *b, const char *name, const char *suffix)
{
	int quote = (*name == '\0' && *suffix == '\0') ||
		    strpbrk(name, " \t'=") != NULL;

	if (quote)
		mc_buf_puts(b, "'");
	for (const char *p = name; *p; p++) {
		if (*p == '\'')
			mc_buf_puts(b, "''");	/* Nagios: a quote doubled */
		else
			mc_buf_add(b, p, 1);
	}
	mc_buf_puts(b, suffix);
	if (quote)
		mc_buf_puts(b, "'");
}

void mc_format_age(double seconds, char *buf, size_t size)
{
	long long s;

	if (!(seconds > 0))	/* negative, or NaN */
		seconds = 0;
	if (seconds < 1) {
		snprintf(buf, size, "%dms", (int)(seconds * 1000));
		return;
	}
	s = seconds > 9e15 ? 9000000000000000LL : (long long)seconds;
	if (s < 60)
		snprintf(buf, size, "%llds", s);
	else if (s < 3600)
		snprintf(buf, size, "%lldm%02llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, size, "%lldh%02lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, size, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
}

/* Set once by the driver, before any command runs. */
static int time_text_local;

void mc_time_text_local(int on)
{
	time_text_local = on;
}

void mc_format_time_text(double wall, char *buf, size_t size)
{
	time_t secs = (time_t)floor(wall);
	struct tm tm;
	char off[8];
	long o;

	if (!time_text_local) {
		gmtime_r(&secs, &tm);
		strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
		return;
	}
	localtime_r(&secs, &tm);
	o = tm.tm_gmtoff;
	if (o == 0) {
		strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
		return;
	}
	snprintf(off, sizeof(off), "%c%02ld:%02ld", o < 0 ? '-' : '+',
		 labs(o) / 3600 % 100, labs(o) % 3600 / 60);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	if (strlen(buf) + strlen(off) < size)
		strcat(buf, off);
}
