/* test_output.c - exposition, tables, colours and the textfile (lib/output.c). */
#include <criterion/criterion.h>

#include "testlib.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mc.h"
#include "output.h"

/* ---- helpers ------------------------------------------------------------ */




/* The only entry of dir (caller frees); fails unless there is exactly one. */
static char *output_only_entry(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char *name = NULL;
	int n = 0;

	cr_assert_not_null(d, "opendir %s: %s", dir, strerror(errno));
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		n++;
		free(name);
		name = mc_strdup(e->d_name);
	}
	closedir(d);
	cr_assert_eq(n, 1, "want one file in %s, found %d (last %s)", dir, n,
		     name ? name : "-");
	return name;
}

static size_t count_substr(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* ---- formats ------------------------------------------------------------ */

Test(output, format_parse)
{
	cr_assert_eq(mc_format_parse("text"), MC_FMT_TEXT);
	cr_assert_eq(mc_format_parse("json"), MC_FMT_JSON);
	cr_assert_eq(mc_format_parse("prom"), MC_FMT_PROM);
	cr_assert_eq(mc_format_parse("nagios"), MC_FMT_NAGIOS);
	cr_assert_eq(mc_format_parse("xml"), -1);
	cr_assert_eq(mc_format_parse(""), -1);
	cr_assert_eq(mc_format_parse("jso"), -1);
	cr_assert_eq(mc_format_parse("jsonx"), -1);
	cr_assert_eq(mc_format_parse(NULL), -1);
}

/* The early scan of argv (before parsing): argv[0] is skipped. */
static int output_scan(const char *first, ...)
{
	char *argv[16];
	int argc = 0;
	va_list ap;

	argv[argc++] = (char *)"mercuryctl";
	va_start(ap, first);
	for (const char *w = first; w; w = va_arg(ap, const char *)) {
		cr_assert(argc < 15);
		argv[argc++] = (char *)w;
	}
	va_end(ap);
	argv[argc] = NULL;
	return mc_format_scan(argc, argv);
}

Test(output, format_scan_forms)
{
	cr_assert_eq(output_scan("health", NULL), MC_FMT_TEXT);
	cr_assert_eq(output_scan("--json", "helth", NULL), MC_FMT_JSON);
	cr_assert_eq(output_scan("helth", "-o", "nagios", NULL), MC_FMT_NAGIOS);
	cr_assert_eq(output_scan("-oprom", "helth", NULL), MC_FMT_PROM);
	cr_assert_eq(output_scan("--output", "json", NULL), MC_FMT_JSON);
	cr_assert_eq(output_scan("--output=nagios", NULL), MC_FMT_NAGIOS);
	/* A value that is no format changes nothing; a missing one neither. */
	cr_assert_eq(output_scan("--json", "-o", "xml", NULL), MC_FMT_JSON);
	cr_assert_eq(output_scan("--json", "-o", NULL), MC_FMT_JSON);
	/* The value of -o is not read as an option of its own. */
	cr_assert_eq(output_scan("-o", "--json", NULL), MC_FMT_TEXT);
}

Test(output, format_scan_last_wins)
{
	cr_assert_eq(output_scan("--json", "-o", "nagios", NULL), MC_FMT_NAGIOS);
	cr_assert_eq(output_scan("-o", "nagios", "--json", NULL), MC_FMT_JSON);
	cr_assert_eq(output_scan("-ojson", "--output=text", NULL), MC_FMT_TEXT);
	cr_assert_eq(output_scan("--output", "prom", "x", "--json", "y",
				 "-onagios", NULL), MC_FMT_NAGIOS);
}

Test(output, format_scan_stops_at_double_dash)
{
	cr_assert_eq(output_scan("health", "--", "--json", NULL), MC_FMT_TEXT);
	cr_assert_eq(output_scan("-o", "nagios", "--", "-o", "json", NULL),
		     MC_FMT_NAGIOS);
	cr_assert_eq(output_scan("--json", "--", "-onagios", NULL), MC_FMT_JSON);
	/* "--" as the value of -o is a (bad) value, not the end of options. */
	cr_assert_eq(output_scan("-o", "--", "--json", NULL), MC_FMT_JSON);
}

Test(output, perf_label_quotes_only_when_needed)
{
	static const char *const cases[][3] = {
		{ "api", "_latency", "api_latency" },
		{ "my api", "_sli", "'my api_sli'" },
		{ "it's", "", "'it''s'" },
		{ "a=b", "", "'a=b'" },
		{ "tab\there", "", "'tab\there'" },
		{ "", "", "''" },
		{ "", "_x", "_x" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mc_buf b = { 0 };

		mc_perf_label(&b, cases[i][0], cases[i][1]);
		cr_assert_str_eq(b.data, cases[i][2], "label '%s' + '%s'",
				 cases[i][0], cases[i][1]);
		mc_buf_release(&b);
	}
}

Test(output, report_init_free)
{
	struct mc_report r;

	mc_report_init(&r, 1);
	cr_assert(json_is_object(r.doc));
	cr_assert_eq(json_object_size(r.doc), 0);
	cr_assert_eq(r.color, 1);
	cr_assert_eq(r.text.len, 0);
	cr_assert_eq(r.prom.len, 0);
	cr_assert_null(r.nagios);
	cr_assert_null(r.summary);
	mc_buf_puts(&r.text, "x");
	r.nagios = mc_strdup("OK - fine");
	json_object_set_new(r.doc, "k", json_integer(1));
	mc_report_release(&r);
	cr_assert_null(r.doc);
	cr_assert_null(r.nagios);
	cr_assert_null(r.text.data);
}

/* ---- Prometheus exposition ---------------------------------------------- */

Test(output, prom_help_type_once_per_name)
{
	struct mc_buf b = { 0 };

	mc_prom_sample(&b, "mercury_check_up", "gauge",
		       "Whether the check passed", "check=\"api\"", 1);
	mc_prom_sample(&b, "mercury_check_up", "gauge",
		       "Whether the check passed", "check=\"db\"", 0);
	mc_prom_sample(&b, "mercury_check_latency_seconds", "gauge",
		       "Latency of the check", "check=\"api\"", 0.25);
	mc_prom_sample(&b, "mercury_runs_total", "counter", "Runs", NULL, 42);
	cr_assert_str_eq(b.data,
		"# HELP mercury_check_up Whether the check passed\n"
		"# TYPE mercury_check_up gauge\n"
		"mercury_check_up{check=\"api\"} 1\n"
		"mercury_check_up{check=\"db\"} 0\n"
		"# HELP mercury_check_latency_seconds Latency of the check\n"
		"# TYPE mercury_check_latency_seconds gauge\n"
		"mercury_check_latency_seconds{check=\"api\"} 0.25\n"
		"# HELP mercury_runs_total Runs\n"
		"# TYPE mercury_runs_total counter\n"
		"mercury_runs_total 42\n");
	mc_buf_release(&b);
}

/* Samples given per target, metric after metric (health's checks, the
 * jobs of job list, the OAuth providers), still come out one family
 * after another, each family's lines together, as the format requires. */
Test(output, prom_family_lines_kept_together)
{
	struct mc_buf b = { 0 };

	mc_prom_sample(&b, "m_status", "gauge", "S", "check=\"a\"", 0);
	mc_prom_sample(&b, "m_latency", "gauge", "L", "check=\"a\"", 0.5);
	mc_prom_sample(&b, "m_status", "gauge", "S", "check=\"b\"", 2);
	mc_prom_sample(&b, "m_latency", "gauge", "L", "check=\"b\"", 1.5);
	mc_prom_sample(&b, "m_status_total", "counter", "T", NULL, 7);
	mc_prom_sample(&b, "m_status", "gauge", "S", "check=\"c\"", 1);
	cr_assert_str_eq(b.data,
		"# HELP m_status S\n"
		"# TYPE m_status gauge\n"
		"m_status{check=\"a\"} 0\n"
		"m_status{check=\"b\"} 2\n"
		"m_status{check=\"c\"} 1\n"
		"# HELP m_latency L\n"
		"# TYPE m_latency gauge\n"
		"m_latency{check=\"a\"} 0.5\n"
		"m_latency{check=\"b\"} 1.5\n"
		"# HELP m_status_total T\n"
		"# TYPE m_status_total counter\n"
		"m_status_total 7\n");
	mc_buf_release(&b);
}

Test(output, prom_names_sharing_a_prefix)
{
	struct mc_buf b = { 0 };

	mc_prom_sample(&b, "mc_x_total", "counter", "X total", NULL, 1);
	mc_prom_sample(&b, "mc_x", "gauge", "X", "", 2);
	mc_prom_sample(&b, "mc_x", "gauge", "X", "a=\"b\"", 3);
	mc_prom_sample(&b, "mc_x_total", "counter", "X total", "a=\"b\"", 4);
	cr_assert_eq(count_substr(b.data, "# TYPE mc_x gauge\n"), 1, "%s", b.data);
	cr_assert_eq(count_substr(b.data, "# HELP mc_x X\n"), 1, "%s", b.data);
	cr_assert_eq(count_substr(b.data, "# TYPE mc_x_total counter\n"), 1,
		     "%s", b.data);
	cr_assert_eq(count_substr(b.data, "# HELP "), 2, "%s", b.data);
	/* Empty labels: no braces. */
	cr_assert_not_null(strstr(b.data, "\nmc_x 2\n"), "%s", b.data);
	cr_assert_not_null(strstr(b.data, "\nmc_x{a=\"b\"} 3\n"), "%s", b.data);
	mc_buf_release(&b);
}

Test(output, prom_values_shortest_text)
{
	struct mc_buf b = { 0 };

	mc_prom_sample(&b, "m", "gauge", "h", NULL, 0.1);
	mc_prom_sample(&b, "m", "gauge", "h", NULL, -3);
	mc_prom_sample(&b, "m", "gauge", "h", NULL, 1700000000);
	mc_prom_sample(&b, "m", "gauge", "h", NULL, 1.5);
	mc_prom_sample(&b, "m", "gauge", "h", NULL, -0.0);
	cr_assert_str_eq(b.data, "# HELP m h\n# TYPE m gauge\n"
			 "m 0.1\n"
			 "m -3\n"
			 "m 1700000000\n"
			 "m 1.5\n"
			 "m 0\n");
	mc_buf_release(&b);
}

Test(output, prom_values_round_trip)
{
	static const double values[] = {
		0.1, 1.0 / 3, 2.0 / 3, 1e-9, 123456.789, 1e15, 1e20, -1e20,
		4503599627370497.0, 9007199254740993.0, 6.02214076e23, -0.5,
		5e-324,
	};

	for (size_t i = 0; i < MC_ARRAY_LEN(values); i++) {
		struct mc_buf b = { 0 };
		const char *sp;
		char *end;
		double back;

		mc_prom_sample(&b, "m", "gauge", "h", NULL, values[i]);
		sp = strrchr(b.data, ' ');
		cr_assert_not_null(sp);
		back = strtod(sp + 1, &end);
		cr_assert_str_eq(end, "\n", "value line '%s'", sp + 1);
		cr_assert(back == values[i], "%.17g printed as %s", values[i],
			  sp + 1);
		mc_buf_release(&b);
	}
}

Test(output, prom_label_escaping)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "plain", "plain" },
		{ "", "" },
		{ "back\\slash", "back\\\\slash" },
		{ "say \"hi\"", "say \\\"hi\\\"" },
		{ "two\nlines", "two\\nlines" },
		{ "\\\"\n", "\\\\\\\"\\n" },
		{ "caf\xc3\xa9 tab\t", "caf\xc3\xa9 tab\t" },
	};

	for (size_t i = 0; i < MC_ARRAY_LEN(cases); i++) {
		char *s = mc_prom_label(cases[i].in);

		cr_assert_str_eq(s, cases[i].out, "case %zu", i);
		free(s);
	}
}

/* ---- tables ------------------------------------------------------------- */

static const char *const output_headers[] = { "NAME", "STATE", "LATENCY" };

static struct mc_table *output_sample_table(void)
{
	struct mc_table *t = mc_table_new(3, output_headers);
	const char *r1[] = { "api", "ok", "12ms" };
	const char *r2[] = { "database-primary", "critical", "1500ms" };
	const char *r3[] = { "cache", NULL, "" };

	mc_table_row(t, r1);
	mc_table_row(t, r2);
	mc_table_row(t, r3);
	return t;
}

/* Colour by the STATE column only. */
static int output_state_color(size_t col, const char *cell)
{
	return col == 1 ? mc_status_color(cell) : 0;
}

Test(output, table_aligned_plain)
{
	struct mc_table *t = output_sample_table();
	struct mc_buf out = { 0 };

	/* Widths 16, 8, 7; two spaces between columns; no trailing blanks. */
	mc_table_render(t, &out, 0, output_state_color);
	cr_assert_str_eq(out.data,
			 "NAME              STATE     LATENCY\n"
			 "api               ok        12ms\n"
			 "database-primary  critical  1500ms\n"
			 "cache                       \n");
	cr_assert_null(strchr(out.data, '\033'), "ANSI code with color=0");
	mc_buf_release(&out);
	mc_table_free(t);
}

Test(output, table_header_only)
{
	static const char *const h[] = { "A", "LONGER" };
	struct mc_table *t = mc_table_new(2, h);
	struct mc_buf out = { 0 };

	mc_table_render(t, &out, 0, NULL);
	cr_assert_str_eq(out.data, "A  LONGER\n");
	mc_buf_release(&out);
	mc_table_free(t);
}

Test(output, table_utf8_width)
{
	static const char *const h[] = { "NAME", "TREND", "N" };
	const char *r1[] = { "caf\xc3\xa9", "\xe2\x96\x81\xe2\x96\x82\xe2\x96\x83", "1" };
	const char *r2[] = { "ab", "x", "2" };
	struct mc_table *t = mc_table_new(3, h);
	struct mc_buf out = { 0 };

	mc_table_row(t, r1);
	mc_table_row(t, r2);
	mc_table_render(t, &out, 0, NULL);
	/* "café" is 4 columns, the sparkline 3: widths 4 and 5. */
	cr_assert_str_eq(out.data,
			 "NAME  TREND  N\n"
			 "caf\xc3\xa9  \xe2\x96\x81\xe2\x96\x82\xe2\x96\x83    1\n"
			 "ab    x      2\n");
	mc_buf_release(&out);
	mc_table_free(t);
}

Test(output, table_wide_characters)
{
	static const char *const h[] = { "NAME", "N" };
	const char *r1[] = { "\xe6\x97\xa5\xe6\x9c\xac", "1" };	/* 日本: 4 columns */
	const char *r2[] = { "a\tb", "2" };	/* a\x09b: 6 columns */
	struct mc_table *t = mc_table_new(2, h);
	struct mc_buf out = { 0 };

	mc_table_row(t, r1);
	mc_table_row(t, r2);
	mc_table_render(t, &out, 0, NULL);
	cr_assert_str_eq(out.data,
			 "NAME    N\n"
			 "\xe6\x97\xa5\xe6\x9c\xac    1\n"
			 "a\\x09b  2\n");
	mc_buf_release(&out);
	mc_table_free(t);
}

Test(output, table_render_or_says_none)
{
	static const char *const h[] = { "NAME", "N" };
	const char *r1[] = { "a", "1" };
	struct mc_table *t = mc_table_new(2, h);
	struct mc_buf out = { 0 };

	mc_table_render_or(t, &out, 0, NULL, "no %s in %s\n", "rows", "here");
	cr_assert_str_eq(out.data, "no rows in here\n");
	mc_buf_reset(&out);
	mc_table_row(t, r1);
	mc_table_render_or(t, &out, 0, NULL, "no %s\n", "rows");
	cr_assert_str_eq(out.data, "NAME  N\na     1\n");
	mc_buf_release(&out);
	mc_table_free(t);
}

Test(output, table_colour)
{
	struct mc_table *t = output_sample_table();
	struct mc_buf out = { 0 };

	mc_table_render(t, &out, 1, output_state_color);
	/* Padding is computed on the visible text, outside the SGR codes. */
	cr_assert_str_eq(out.data,
			 "\033[1mNAME\033[0m              "
			 "\033[1mSTATE\033[0m     \033[1mLATENCY\033[0m\n"
			 "api               \033[32mok\033[0m        12ms\n"
			 "database-primary  \033[31mcritical\033[0m  1500ms\n"
			 "cache                       \n");
	mc_buf_release(&out);

	/* Colour without a callback: only the bold header. */
	mc_table_render(t, &out, 1, NULL);
	cr_assert_eq(count_substr(out.data, "\033["), 6, "%s", out.data);
	cr_assert_eq(count_substr(out.data, "\033[1m"), 3, "%s", out.data);
	mc_buf_release(&out);
	mc_table_free(t);
	mc_table_free(NULL);
}

Test(output, status_color)
{
	cr_assert_eq(mc_status_color("ok"), 32);
	cr_assert_eq(mc_status_color("warning"), 33);
	cr_assert_eq(mc_status_color("critical"), 31);
	cr_assert_eq(mc_status_color("unknown"), 35);
	cr_assert_eq(mc_status_color("OK"), 0);
	cr_assert_eq(mc_status_color("closed"), 0);
	cr_assert_eq(mc_status_color(""), 0);
	cr_assert_eq(mc_status_color(NULL), 0);
}

/* ---- textfile ----------------------------------------------------------- */

Test(output, textfile_write)
{
	char dirbuf[MC_TEST_DIR_LEN], *dir = mc_test_dir(dirbuf);
	char *path = mc_asprintf("%s/mercuryctl_health.prom", dir);
	static const char text[] = "# HELP m h\n# TYPE m gauge\nm 1\n";
	struct mc_err e = { 0 };
	struct stat st;
	char *back, *only;

	umask(022);
	cr_assert_eq(mc_textfile_write(dir, "health", text, &e), 0, "%s", e.msg);
	back = mc_read_file(path, 1 << 16, NULL, &e);
	cr_assert_not_null(back, "%s", e.msg);
	cr_assert_str_eq(back, text);
	free(back);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0644, "mode %o", st.st_mode & 07777);
	only = output_only_entry(dir);
	cr_assert_str_eq(only, "mercuryctl_health.prom");
	free(only);

	/* A second write replaces the content; still no temporary left. */
	cr_assert_eq(mc_textfile_write(dir, "health", "m 2\n", &e), 0, "%s",
		     e.msg);
	back = mc_read_file(path, 1 << 16, NULL, &e);
	cr_assert_str_eq(back, "m 2\n");
	free(back);
	only = output_only_entry(dir);
	free(only);

	free(path);
	mc_test_rmtree(dir);
}

Test(output, textfile_command_name_is_file_safe)
{
	char dirbuf[MC_TEST_DIR_LEN], *dir = mc_test_dir(dirbuf);
	struct mc_err e = { 0 };
	char *only, *path;

	cr_assert_eq(mc_textfile_write(dir, "breaker reset", "x 1\n", &e), 0,
		     "%s", e.msg);
	only = output_only_entry(dir);
	cr_assert_str_eq(only, "mercuryctl_breaker_reset.prom");
	free(only);
	path = mc_asprintf("%s/mercuryctl_breaker_reset.prom", dir);
	cr_assert_eq(unlink(path), 0);
	free(path);

	/* Nothing can lead the file out of the directory. */
	cr_assert_eq(mc_textfile_write(dir, "../../etc/x", "x 1\n", &e), 0,
		     "%s", e.msg);
	only = output_only_entry(dir);
	cr_assert_str_eq(only, "mercuryctl_______etc_x.prom");
	free(only);
	mc_test_rmtree(dir);
}

Test(output, textfile_missing_dir)
{
	char dirbuf[MC_TEST_DIR_LEN], *dir = mc_test_dir(dirbuf);
	char *missing = mc_asprintf("%s/nope", dir);
	struct mc_err e = { 0 };

	cr_assert_eq(mc_textfile_write(missing, "health", "m 1\n", &e), -1);
	cr_assert_eq(e.code, MC_EXIT_IOERR);
	cr_assert_eq(e.sys_errno, ENOENT);
	cr_assert_not_null(strstr(e.msg, missing), "%s", e.msg);
	cr_assert_not_null(strstr(e.msg, strerror(ENOENT)), "%s", e.msg);
	free(missing);
	mc_test_rmtree(dir);
}

Test(output, textfile_dir_is_a_file)
{
	char dirbuf[MC_TEST_DIR_LEN], *dir = mc_test_dir(dirbuf);
	char *file = mc_asprintf("%s/plain", dir);
	struct mc_err e = { 0 };

	cr_assert_eq(mc_write_atomic(file, "x", 1, 0644, NULL), 0);
	errno = 0;
	cr_assert_eq(mc_textfile_write(file, "health", "m 1\n", &e), -1);
	cr_assert_eq(e.code, MC_EXIT_IOERR);
	cr_assert_eq(e.sys_errno, ENOTDIR);
	cr_assert_not_null(strstr(e.msg, strerror(ENOTDIR)), "%s", e.msg);
	free(file);
	mc_test_rmtree(dir);
}

/* --textfile-dir naming a regular file is ENOTDIR, whatever errno an
 * earlier call left behind. */
Test(output, textfile_dir_is_a_file_gives_enotdir)
{
	char dirbuf[MC_TEST_DIR_LEN], *dir = mc_test_dir(dirbuf);
	char *file = mc_asprintf("%s/plain", dir);
	struct mc_err e = { 0 };

	cr_assert_eq(mc_write_atomic(file, "x", 1, 0644, NULL), 0);
	errno = ENOENT;		/* left over from, say, a config search */
	cr_assert_eq(mc_textfile_write(file, "health", "m 1\n", &e), -1);
	cr_expect_eq(e.code, MC_EXIT_IOERR);
	cr_expect_eq(e.sys_errno, ENOTDIR, "sys_errno %d (%s), message '%s'",
		     e.sys_errno, strerror(e.sys_errno), e.msg);
	free(file);
	mc_test_rmtree(dir);
}

/* ---- mc_write_all ------------------------------------------------------- */

Test(output, write_all)
{
	char path[] = "/tmp/mc-output-wa-XXXXXX";
	int fd = mkstemp(path);
	FILE *f, *ro;
	char *back;

	cr_assert(fd >= 0);
	f = fdopen(fd, "w");
	cr_assert_not_null(f);
	cr_assert_eq(mc_write_all(f, "hello\0world", 11), 0);
	cr_assert_eq(mc_write_all(f, "", 0), 0);
	cr_assert_eq(fclose(f), 0);
	{
		size_t len = 0;

		back = mc_read_file(path, 100, &len, NULL);
		cr_assert_eq(len, 11);
		cr_assert_eq(memcmp(back, "hello\0world", 11), 0);
		free(back);
	}
	/* A stream that cannot be written: the failure is reported. */
	ro = fopen(path, "r");
	cr_assert_not_null(ro);
	cr_assert_eq(mc_write_all(ro, "x", 1), -1);
	fclose(ro);
	unlink(path);
}

Test(output, ages_in_two_units)
{
	static const struct { double s; const char *want; } cases[] = {
		{ -5, "0ms" }, { 0.85, "850ms" }, { 1, "1s" }, { 42.9, "42s" },
		{ 307, "5m07s" }, { 7260.04, "2h01m" }, { 7299, "2h01m" },
		{ 3600, "1h00m" }, { 273600, "3d04h" }, { 86400 * 400.0, "400d00h" },
	};
	char buf[32];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mc_format_age(cases[i].s, buf, sizeof(buf));
		cr_assert_str_eq(buf, cases[i].want, "%g", cases[i].s);
	}
}

/* A cell holds what a server or a plugin said: escaped, never raw. */
Test(output, table_cells_escaped)
{
	static const char *const headers[] = { "CHECK", "MESSAGE" };
	const char *row[] = { "redis", "ERR \x1b]0;pwned\x07\x1b[2J bad \xff" };
	struct mc_table *t = mc_table_new(2, headers);
	struct mc_buf out = { 0 };

	mc_table_row(t, row);
	mc_table_render(t, &out, 0, NULL);
	cr_assert_null(strchr(out.data, '\x1b'), "%s", out.data);
	cr_assert(strstr(out.data, "ERR \\x1B]0;pwned\\x07\\x1B[2J bad \\xFF")
		  != NULL, "%s", out.data);
	mc_buf_release(&out);
	mc_table_free(t);
}
