/*
 * gendoc.c - the man pages and shell completions, generated from the
 * command table (cmd/) and the configuration schema (lib/config_schema.c).
 *
 *   gendoc write DIR   write DIR/man/... and DIR/completions/...
 *   gendoc check DIR   exit 1 naming every file that differs from what the
 *                      table generates (the test behind "one source of
 *                      truth")
 */
#include "cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DOC_DATE "2026-11-22"

typedef void (*gen_fn)(FILE *f, const void *arg);

static void gen_root(FILE *f, const void *arg)
{
	struct mc_buf extra = { 0 };

	(void)arg;
	mc_buf_puts(&extra, mc_man_exit_status);
	mc_buf_puts(&extra, mc_man_environment);
	mc_buf_puts(&extra, ".SH SEE ALSO\n");
	for (size_t i = 0; mc_cmd_root.subs[i]; i++)
		mc_buf_printf(&extra, "\\fBmercuryctl\\-%s\\fR(1), ",
			      mc_cmd_root.subs[i]->name);
	mc_buf_puts(&extra, "\\fBmercury.conf\\fR(5)\n");
	mc_cli_man(f, &mc_cmd_root, &mc_cmd_root, DOC_DATE, extra.data);
	mc_buf_release(&extra);
}

static void gen_cmd(FILE *f, const void *arg)
{
	const struct mc_cmd *cmd = arg;
	struct mc_buf extra = { 0 };

	mc_buf_puts(&extra, mc_man_exit_status);
	mc_buf_puts(&extra, ".SH SEE ALSO\n\\fBmercuryctl\\fR(1), "
		    "\\fBmercury.conf\\fR(5)\n");
	mc_cli_man(f, &mc_cmd_root, cmd, DOC_DATE, extra.data);
	mc_buf_release(&extra);
}

static const char *type_name(enum mc_conf_type t)
{
	switch (t) {
	case MC_CT_STRING: return "string";
	case MC_CT_PATH: return "path";
	case MC_CT_URL: return "URL";
	case MC_CT_DURATION: return "duration";
	case MC_CT_SIZE: return "size";
	case MC_CT_PERCENT: return "percentage";
	case MC_CT_INT: return "integer";
	case MC_CT_BOOL: return "boolean";
	case MC_CT_RATE: return "rate";
	case MC_CT_ENUM: return "one of";
	case MC_CT_THRESHOLD: return "threshold";
	}
	return "value";
}

static void gen_conf(FILE *f, const void *arg)
{
	(void)arg;
	fputs(".\\\" Generated from lib/config_schema.c by tests/gendoc.c;\n"
	      ".\\\" edit the schema, then run 'make docs'.\n", f);
	fprintf(f, ".TH MERCURY.CONF 5 \"%s\" \"mercuryctl %s\" "
		"\"File Formats\"\n", DOC_DATE, MC_VERSION);
	fputs(".SH NAME\nmercury.conf \\- configuration of mercuryctl\n"
	      ".SH DESCRIPTION\n"
	      "An INI file with git\\-config style named sections "
	      "(\\fB[check \"api\"]\\fR), \\fB#\\fR and \\fB;\\fR comments "
	      "(inline ones after white space), and keys written "
	      "\\fBkey = value\\fR. A key may repeat only where it is a list.\n"
	      ".SS Quoting\n"
	      "Values are read as git\\-config reads them. A value written "
	      "whole in double quotes keeps \\fB#\\fR, \\fB;\\fR and white "
	      "space, knows the escapes \\fB\\e\"\\fR, \\fB\\e\\e\\fR, "
	      "\\fB\\en\\fR and \\fB\\et\\fR (any other is an error), and "
	      "loses its quotes: \\fBbody = \"ready\"\\fR looks for "
	      "\\fBready\\fR, \\fBpassword = \"a #b\"\\fR keeps the "
	      "\\fB#\\fR. Any other value ends at an inline comment (white "
	      "space, then \\fB#\\fR or \\fB;\\fR, outside a \"...\" span) and "
	      "is kept as written, quotes and backslashes included, so a PromQL "
	      "selector or an \\fBexec\\fR command line keeps its own quotes "
	      "(\\fBcommand = /bin/p \"a #b\" c\\fR). A \\fB#\\fR without white "
	      "space before it is data (\\fBhttp://h/p#frag\\fR). To give an "
	      "\\fBexec\\fR command that is one quoted word, escape the inner "
	      "quotes: \\fBcommand = \"\\e\"/opt/my plugin\\e\"\"\\fR. "
	      "\\fBmercuryctl config check\\fR warns (without showing the "
	      "value) when an inline comment cut a value that looks like a URL "
	      "or a secret.\n"
	      ".PP\nDurations are written 250ms, 2s, 15m, 6h, 30d, 1w (and "
	      "combined, 1h30m); sizes 512, 10KB, 5MiB; percentages 80% or 80; "
	      "rates 1/s, 30/m.\n"
	      ".PP\nEach value comes from, in order of precedence: a command-line "
	      "flag, the environment, this file, the built\\-in default. "
	      "\\fBmercuryctl config show\\fR prints every value with its source; "
	      "\\fBmercuryctl config check\\fR validates the file. Any error (an "
	      "unknown section or key, a bad value, a duplicate) exits 78 naming "
	      "the file, the line and the key, with a suggestion where a near "
	      "name exists.\n", f);
	for (size_t i = 0; mc_conf_schemas[i]; i++) {
		const struct mc_conf_schema *s = mc_conf_schemas[i];

		/* quoted whole: roff would take the inner quotes as its own
		 * and render SECTION [check NAME ] */
		fprintf(f, ".SH \"SECTION [%s%s]\"\n", s->name,
			s->named ? " \\(dqNAME\\(dq" : "");
		mc_roff_escape(f, s->help);
		fputs("\n", f);
		for (size_t k = 0; s->keys[k].name; k++) {
			const struct mc_conf_key *key = &s->keys[k];

			fputs(".TP\n\\fB", f);
			mc_roff_escape(f, key->name);
			fputs("\\fR (", f);
			fputs(type_name(key->type), f);
			if (key->type == MC_CT_ENUM) {
				fputc(' ', f);
				mc_roff_escape(f, key->choices);
			}
			if (key->flags & MC_CK_LIST)
				fputs(", may repeat", f);
			if (key->flags & MC_CK_REQUIRED)
				fputs(", required", f);
			if (key->def) {
				fputs(", default ", f);
				mc_roff_escape(f, key->def);
			}
			fputs(")\n", f);
			mc_roff_escape(f, key->help);
			fputs(".", f);
			if (key->types) {
				fputs(" For types: ", f);
				mc_roff_escape(f, key->types);
				fputs(".", f);
			}
			if (key->env) {
				fputs(" Environment: ", f);
				mc_roff_escape(f, key->env);
				fputs(".", f);
			}
			fputc('\n', f);
		}
	}
	fputs(".SH EXAMPLES\n"
	      ".PP\nA first configuration with every section kind, each key "
	      "explained, that \\fBmercuryctl config check\\fR accepts:\n"
	      ".RS 4\n.nf\n\\fBmercuryctl config init > "
	      "~/.config/mercury/mercury.conf\\fR\n.fi\n.RE\n"
	      ".PP\nThe built\\-in checks, made explicit, with the disk "
	      "critical:\n.nf\n"
	      "[core]\n"
	      "timeout = 30s\n"
	      "history = 30d\n"
	      "\n"
	      "[check \"root\\-disk\"]\n"
	      "type = disk\n"
	      "path = /\n"
	      "warn = 80%\n"
	      "crit = 90%\n"
	      "critical = true\n"
	      "\n"
	      "[check \"memory\"]\n"
	      "type = memory\n"
	      ".fi\n"
	      ".SH SEE ALSO\n\\fBmercuryctl\\fR(1), \\fBmercuryctl\\-config\\fR(1)\n",
	      f);
}

static void gen_completion(FILE *f, const void *arg)
{
	mc_cli_completion(f, &mc_cmd_root, arg);
}

static char *render(gen_fn fn, const void *arg, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (f == NULL) {
		perror("gendoc: open_memstream");
		exit(2);
	}
	fn(f, arg);
	fclose(f);
	return buf;
}

/* Writes or compares one file; returns 1 when it differs (check mode). */
static int one(const char *mode, const char *dir, const char *rel, gen_fn fn,
	       const void *arg)
{
	size_t len;
	char *want = render(fn, arg, &len);
	char *path = mc_asprintf("%s/%s", dir, rel);
	int differs = 0;

	if (strcmp(mode, "write") == 0) {
		struct mc_err e = { 0 };

		if (mc_write_atomic(path, want, len, 0644, &e) < 0) {
			fprintf(stderr, "gendoc: %s\n", e.msg);
			exit(2);
		}
	} else {
		size_t have_len = 0;
		char *have = mc_read_file(path, 1 << 24, &have_len, NULL);

		if (have == NULL || have_len != len || memcmp(have, want, len)) {
			fprintf(stderr, "gendoc: %s differs from the command "
				"table (run 'make docs' and commit)\n", rel);
			differs = 1;
		}
		free(have);
	}
	free(path);
	free(want);
	return differs;
}

int main(int argc, char **argv)
{
	const char *mode, *dir;
	int bad = 0;

	if (argc != 3 || (strcmp(argv[1], "write") && strcmp(argv[1], "check"))) {
		fprintf(stderr, "usage: gendoc write|check DIR\n");
		return 64;
	}
	mode = argv[1];
	dir = argv[2];
	bad |= one(mode, dir, "man/mercuryctl.1", gen_root, NULL);
	for (size_t i = 0; mc_cmd_root.subs[i]; i++) {
		char *rel = mc_asprintf("man/mercuryctl-%s.1",
					mc_cmd_root.subs[i]->name);

		bad |= one(mode, dir, rel, gen_cmd, mc_cmd_root.subs[i]);
		free(rel);
	}
	bad |= one(mode, dir, "man/mercury.conf.5", gen_conf, NULL);
	bad |= one(mode, dir, "completions/mercuryctl.bash", gen_completion,
		   "bash");
	bad |= one(mode, dir, "completions/_mercuryctl", gen_completion, "zsh");
	bad |= one(mode, dir, "completions/mercuryctl.fish", gen_completion,
		   "fish");
	return bad;
}
