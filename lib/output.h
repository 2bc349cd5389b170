/*
 * output.h - what a command reports, and its four renderings (docs/DESIGN.md,
 * "Streams and output"): text for people, one JSON document, Prometheus exposition,
 * and a Nagios plugin line.
 *
 * A command fills one struct mc_report; cmd/main.c prints the rendering the
 * user asked for, once, at the end, so `-o json` is always exactly one
 * document on stdout, also on failure.
 */
#ifndef MC_OUTPUT_H
#define MC_OUTPUT_H

#include <jansson.h>
#include <stdio.h>
#include "mc.h"
#include "http.h"
#include "json.h"

enum mc_format {
	MC_FMT_TEXT,
	MC_FMT_JSON,
	MC_FMT_PROM,
	MC_FMT_NAGIOS,
};
int mc_format_parse(const char *s);	/* -1 when unknown */

/* A status, in Nagios order: of a check, an SLO, a command's verdict. */
enum mc_status {
	MC_ST_OK = 0,
	MC_ST_WARNING = 1,
	MC_ST_CRITICAL = 2,
	MC_ST_UNKNOWN = 3,
};
/* "ok", "warning", "critical", "unknown" (anything else: "unknown"). */
const char *mc_status_name(int status);
/* The same in capitals, as a Nagios line starts: "OK", "WARNING", ... */
const char *mc_status_word(int status);
/* The status called name; MC_ST_UNKNOWN for any other name. */
int mc_status_parse(const char *name);
/* The output mode argv asks for, read before (or without) parsing it, so
 * that a usage error is reported in that mode: -o FORMAT, -oFORMAT,
 * --output FORMAT, --output=FORMAT and --json; the last one wins, nothing
 * after "--" counts, an unknown FORMAT changes nothing. MC_FMT_TEXT when
 * none is given. */
int mc_format_scan(int argc, char *const *argv);

struct mc_report {
	json_t *doc;		/* the JSON document (an object) */
	struct mc_buf text;	/* text rendering */
	struct mc_buf prom;	/* exposition, without the run's metrics */
	char *nagios;		/* Nagios line (perfdata after '|') */
	char *summary;		/* one line for -q on failure (stderr) */
	int color;		/* text may use ANSI colour */
};

void mc_report_init(struct mc_report *r, int color);
void mc_report_release(struct mc_report *r);

/* The span a history report covers: "since" (RFC 3339, or null when 0:
 * from the first record on) and "until" in r's document. */
void mc_report_span(struct mc_report *r, double since, double until);

/* One exposition sample; HELP and TYPE lines are written the first time a
 * name appears, and a later sample of a name joins its family's group
 * (the format keeps a family's lines together). labels: "check=\"api\""
 * or NULL. */
void mc_prom_sample(struct mc_buf *b, const char *name, const char *type,
		    const char *help, const char *labels, double value);
/* A label value escaped for the exposition format. Caller frees. */
char *mc_prom_label(const char *value);

/* Times for people, in text output: to the second, UTC
 * ("2026-11-22T10:00:00Z") unless local time was asked for (--local-time,
 * [core] time_zone = local): then the TZ zone, with its offset
 * ("2026-11-22T11:00:00+01:00"). JSON keeps RFC 3339 UTC (mc_format_time). */
void mc_time_text_local(int on);
void mc_format_time_text(double wall, char *buf, size_t size);

/* An age or a span for people, in its two largest units, the second
 * zero-padded and the rest cut off: "850ms", "42s", "5m07s", "2h01m",
 * "3d04h". Negative counts as 0. */
void mc_format_age(double seconds, char *buf, size_t size);

/* A Nagios perfdata label NAME+SUFFIX: quoted when NAME has a blank, a
 * quote or '=' or the label is empty (a quote inside doubled), as the
 * plugin guidelines say. The one label writer: health, slo, dlq and the
 * exec check's re-serialised perfdata all use it. */
void mc_perf_label(struct mc_buf *b, const char *name, const char *suffix);

/* Text tables: columns aligned on display width (UTF-8 aware). */
struct mc_table;
struct mc_table *mc_table_new(size_t n_cols, const char *const *headers);
/* Adds a row of n_cols cells (copied, escaped with mc_column_text(): a
 * cell may hold untrusted text; a cell cut beforehand with
 * mc_column_text(s, cols) stays as it is); a cell may carry a colour: the
 * table calls colorize(cell) through cell_color. Columns are aligned on
 * mc_utf8_width(). */
void mc_table_row(struct mc_table *t, const char *const *cells);
/* Colour of a cell (ANSI SGR number, 0 none) by its column and text. */
typedef int (*mc_cell_color_fn)(size_t col, const char *cell);
void mc_table_render(struct mc_table *t, struct mc_buf *out, int color,
		     mc_cell_color_fn cell_color);
/* mc_table_render() when t has a row under its header; otherwise appends
 * the line none (printf format, ending in its own newline) says instead:
 * "no runs recorded\n". */
void mc_table_render_or(struct mc_table *t, struct mc_buf *out, int color,
			mc_cell_color_fn cell_color, const char *none, ...)
	__attribute__((format(printf, 5, 6)));
void mc_table_free(struct mc_table *t);

/* SGR colour of a status word: ok green, warning/degraded yellow,
 * critical/unavailable red, unknown magenta; 0 for anything else. */
int mc_status_color(const char *status);

/* Writes DIR/mercuryctl_<command>.prom atomically (mode 0644). */
int mc_textfile_write(const char *dir, const char *command, const char *text,
		      struct mc_err *err);
/* PUTs the exposition to URL/metrics/job/mercuryctl/command/<command>/
 * instance/<host>, replacing that group. */
int mc_pushgateway_push(struct mc_http *h, const char *url,
			const char *command, const char *instance,
			const char *text, const struct mc_deadline *dl,
			struct mc_err *err);

/* Writes all of s to f, reporting a failed write (EPIPE, ENOSPC) as -1
 * with errno set. A reader that went away (EPIPE: `| head`) is remembered
 * for mc_output_gone(). */
int mc_write_all(FILE *f, const char *s, size_t len);
/* fflush(f) with the same rules: 0, or -1 with errno (EPIPE remembered). */
int mc_flush(FILE *f);
/* 1 once a write or flush met EPIPE: the reader of the output went away,
 * and the run ends quietly, as `git log | head` does (see mercuryctl(1),
 * EXIT STATUS). */
int mc_output_gone(void);

#endif
