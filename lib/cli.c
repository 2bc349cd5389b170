/* cli.c - parsing, help, completions and man pages from the command table. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

/* ---- table walking ---------------------------------------------------- */

static const struct mc_cmd *find_sub(const struct mc_cmd *cmd, const char *name)
{
	for (size_t i = 0; cmd->subs && cmd->subs[i]; i++)
		if (strcmp(cmd->subs[i]->name, name) == 0)
			return cmd->subs[i];
	return NULL;
}

static int takes_value(const struct mc_opt *o)
{
	return o->kind == MC_OPT_VALUE || o->kind == MC_OPT_LIST;
}

/* The option called name (long) or c (short) visible at path: the
 * command's own, its ancestors', then the root's (global) ones. */
static const struct mc_opt *find_opt(const struct mc_cmd *const *path,
				     size_t depth, const char *name, char c)
{
	for (size_t d = depth; d-- > 0;) {
		const struct mc_opt *o = path[d]->opts;

		for (size_t i = 0; o && o[i].long_name; i++) {
			if (name && strcmp(o[i].long_name, name) == 0)
				return &o[i];
			if (!name && c && o[i].short_name == c)
				return &o[i];
		}
	}
	return NULL;
}

static char *path_name(const struct mc_cmd *const *path, size_t depth)
{
	struct mc_buf b = { 0 };

	mc_buf_puts(&b, "mercuryctl");
	for (size_t i = 1; i < depth; i++)
		mc_buf_printf(&b, " %s", path[i]->name);
	return mc_buf_steal(&b);
}

static int usage_err(struct mc_err *err, const struct mc_cmd *const *path,
		     size_t depth, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int usage_err(struct mc_err *err, const struct mc_cmd *const *path,
		     size_t depth, const char *fmt, ...)
{
	va_list ap;
	char *msg, *safe, *name = path_name(path, depth);

	va_start(ap, fmt);
	msg = mc_vasprintf(fmt, ap);
	va_end(ap);
	/* msg quotes the user's arguments: shown escaped, on one line. */
	safe = mc_escape_str(msg);
	mc_err_set(err, MC_EXIT_USAGE, "%s: %s; see '%s --help'", name, safe,
		   name);
	free(safe);
	free(msg);
	free(name);
	return -1;
}

/* ---- parsing ------------------------------------------------------------ */

static struct mc_optval *val_for(struct mc_args *a, const struct mc_opt *o)
{
	for (size_t i = 0; i < a->n_vals; i++)
		if (a->vals[i].opt == o)
			return &a->vals[i];
	a->vals = mc_realloc(a->vals, (a->n_vals + 1) * sizeof(*a->vals));
	memset(&a->vals[a->n_vals], 0, sizeof(*a->vals));
	a->vals[a->n_vals].opt = o;
	return &a->vals[a->n_vals++];
}

/* An MC_ARG_INT option's range: .choices "MIN..MAX" (0 to 10^12 when
 * the table gives none). */
static void int_range(const struct mc_opt *o, long long *min, long long *max)
{
	*min = 0;
	*max = 1000000000000LL;
	if (o->choices != NULL &&
	    sscanf(o->choices, "%lld..%lld", min, max) != 2)
		MC_BUG("--%s: range '%s' is not MIN..MAX", o->long_name,
		       o->choices);
}

static int check_value(const struct mc_opt *o, const char *v,
		       struct mc_args *a, struct mc_err *err)
{
	struct mc_err e = { 0 };
	int64_t ms;
	long long n;

	switch (o->type) {
	case MC_ARG_DURATION:
		if (mc_parse_duration_ms(v, &ms, &e) < 0)
			return usage_err(err, a->path, a->depth, "--%s: %s",
					 o->long_name, e.msg);
		if (ms <= 0 && mc_streq(o->choices, "positive"))
			return usage_err(err, a->path, a->depth, "--%s: '%s': "
					 "must be longer than 0 (e.g. 30s)",
					 o->long_name, v);
		break;
	case MC_ARG_INT: {
		long long min, max;

		int_range(o, &min, &max);
		if (mc_parse_int(v, min, max, &n, &e) < 0)
			return usage_err(err, a->path, a->depth, "--%s: %s",
					 o->long_name, e.msg);
		break;
	}
	case MC_ARG_ENUM: {
		char *list = mc_strdup(o->choices), *save = NULL;
		const char *cands[16];
		size_t nc = 0;
		int ok = 0;

		for (char *t = strtok_r(list, "|", &save); t && nc < 16;
		     t = strtok_r(NULL, "|", &save)) {
			cands[nc++] = t;
			if (strcmp(t, v) == 0)
				ok = 1;
		}
		if (!ok) {
			const char *near = mc_suggest(v, cands, nc);

			usage_err(err, a->path, a->depth,
				  "--%s: '%s' is not one of %s%s%s%s",
				  o->long_name, v, o->choices,
				  near ? " (did you mean '" : "",
				  near ? near : "", near ? "'?)" : "");
		}
		free(list);
		if (!ok)
			return -1;
		break;
	}
	case MC_ARG_RATE: {
		double rate;

		if (mc_parse_rate(v, &rate, &e) < 0)
			return usage_err(err, a->path, a->depth, "--%s: %s",
					 o->long_name, e.msg);
		break;
	}
	case MC_ARG_URL:
		if (strstr(v, "://") == NULL)
			return usage_err(err, a->path, a->depth,
					 "--%s: '%s' is not a URL",
					 o->long_name, v);
		break;
	default:
		if (*v == '\0')
			return usage_err(err, a->path, a->depth,
					 "--%s: empty value", o->long_name);
		break;
	}
	return 0;
}

static int set_opt(struct mc_args *a, const struct mc_opt *o, char *v,
		   struct mc_err *err)
{
	struct mc_optval *ov;

	if (v && check_value(o, v, a, err) < 0)
		return -1;
	if (v && (o->flags & MC_OPTF_SECRET)) {
		char *copy = mc_strdup(v);

		explicit_bzero(v, strlen(v));
		a->secrets = mc_realloc(a->secrets, (a->n_secrets + 1) *
					sizeof(*a->secrets));
		a->secrets[a->n_secrets++] = copy;
		v = copy;
	}
	ov = val_for(a, o);
	ov->count++;
	ov->order = ++a->n_given;
	if (v) {
		ov->value = v;
		if (o->kind == MC_OPT_LIST) {
			ov->values = mc_realloc(ov->values, (ov->n_values + 1) *
						sizeof(*ov->values));
			ov->values[ov->n_values++] = v;
		}
	}
	if (strcmp(o->long_name, "help") == 0)
		a->help = 1;
	return 0;
}

static void opt_names(const struct mc_cmd *const *path, size_t depth,
		      const char ***names, size_t *n)
{
	*n = 0;
	*names = NULL;
	for (size_t d = 0; d < depth; d++) {
		const struct mc_opt *o = path[d]->opts;

		for (size_t i = 0; o && o[i].long_name; i++) {
			*names = mc_realloc(*names, (*n + 1) * sizeof(**names));
			(*names)[(*n)++] = o[i].long_name;
		}
	}
}

static int parse_long(struct mc_args *a, int argc, char **argv, int *i,
		      struct mc_err *err)
{
	char *arg = argv[*i] + 2, *eq = strchr(arg, '=');
	char *name = eq ? mc_strndup(arg, (size_t)(eq - arg)) : mc_strdup(arg);
	const struct mc_opt *o = find_opt(a->path, a->depth, name, 0);
	char *v = NULL;
	int rc = -1;

	if (o == NULL) {
		const char **names;
		size_t n;
		const char *near;

		opt_names(a->path, a->depth, &names, &n);
		near = mc_suggest(name, names, n);
		usage_err(err, a->path, a->depth,
			  "unknown option '--%s'%s%s%s", name,
			  near ? " (did you mean '--" : "", near ? near : "",
			  near ? "'?)" : "");
		free(names);
		goto out;
	}
	if (takes_value(o)) {
		if (eq)
			v = eq + 1;
		else if (*i + 1 < argc)
			v = argv[++*i];
		else {
			usage_err(err, a->path, a->depth,
				  "option '--%s' needs a value (%s)", name,
				  o->arg);
			goto out;
		}
	} else if (eq) {
		usage_err(err, a->path, a->depth,
			  "option '--%s' takes no value", name);
		goto out;
	}
	rc = set_opt(a, o, v, err);
out:
	free(name);
	return rc;
}

static int parse_short(struct mc_args *a, int argc, char **argv, int *i,
		       struct mc_err *err)
{
	char *p = argv[*i] + 1;

	for (; *p; p++) {
		const struct mc_opt *o = find_opt(a->path, a->depth, NULL, *p);

		if (o == NULL)
			return usage_err(err, a->path, a->depth,
					 "unknown option '-%c'", *p);
		if (takes_value(o)) {
			char *v = p[1] ? p + 1 : NULL;

			if (v == NULL && *i + 1 < argc)
				v = argv[++*i];
			if (v == NULL)
				return usage_err(err, a->path, a->depth,
						 "option '-%c' needs a value (%s)",
						 *p, o->arg);
			return set_opt(a, o, v, err);
		}
		if (set_opt(a, o, NULL, err) < 0)
			return -1;
	}
	return 0;
}

int mc_cli_parse(const struct mc_cmd *root, int argc, char **argv,
		 struct mc_args *a, struct mc_err *err)
{
	int end_opts = 0;

	memset(a, 0, sizeof(*a));
	a->path[0] = root;
	a->depth = 1;
	a->pos = mc_calloc((size_t)(argc > 0 ? argc : 1), sizeof(*a->pos));
	for (int i = 1; i < argc; i++) {
		char *arg = argv[i];
		const struct mc_cmd *cur = a->path[a->depth - 1], *sub;

		if (!end_opts && strcmp(arg, "--") == 0) {
			end_opts = 1;
			a->n_before_dashdash = a->n_pos;
			continue;
		}
		if (!end_opts && arg[0] == '-' && arg[1] != '\0') {
			int rc = arg[1] == '-' ? parse_long(a, argc, argv, &i, err)
					       : parse_short(a, argc, argv, &i, err);
			if (rc < 0)
				goto fail;
			continue;
		}
		if (!end_opts && a->n_pos == 0 && cur->subs &&
		    (sub = find_sub(cur, arg)) && a->depth < MC_CLI_DEPTH) {
			a->path[a->depth++] = sub;
			continue;
		}
		if (a->n_pos == 0 && cur->subs && (cur->run == NULL ||
						   cur == root)) {
			const char *cands[32];
			size_t nc = 0;
			const char *near;

			for (size_t k = 0; cur->subs[k] && nc < 32; k++)
				cands[nc++] = cur->subs[k]->name;
			near = mc_suggest(arg, cands, nc);
			usage_err(err, a->path, a->depth,
				  "unknown command '%s'%s%s%s", arg,
				  near ? " (did you mean '" : "",
				  near ? near : "", near ? "'?)" : "");
			goto fail;
		}
		a->pos[a->n_pos++] = arg;
	}
	if (!end_opts)
		a->n_before_dashdash = a->n_pos;
	a->cmd = a->path[a->depth - 1];
	if (a->help || mc_args_count(a, "version"))
		return 0;
	if (a->cmd->run == NULL) {
		if (a->depth == 1)
			mc_err_set(err, MC_EXIT_USAGE,
				   "mercuryctl: a command is needed (try 'mercuryctl --help')");
		else
			usage_err(err, a->path, a->depth,
				  "a subcommand is needed");
		goto fail;
	}
	for (size_t k = 0; a->cmd->opts && a->cmd->opts[k].long_name; k++)
		if ((a->cmd->opts[k].flags & MC_OPTF_REQUIRED) &&
		    mc_args_count(a, a->cmd->opts[k].long_name) == 0) {
			usage_err(err, a->path, a->depth, "--%s is required",
				  a->cmd->opts[k].long_name);
			goto fail;
		}
	if (a->n_pos < a->cmd->min_args) {
		usage_err(err, a->path, a->depth, "missing argument %s",
			  a->cmd->args ? a->cmd->args : "");
		goto fail;
	}
	if (a->cmd->max_args >= 0 && a->n_pos > a->cmd->max_args) {
		usage_err(err, a->path, a->depth, "unexpected argument '%s'",
			  a->pos[a->cmd->max_args]);
		goto fail;
	}
	if (a->cmd->max_before_dashdash > 0 &&
	    a->n_before_dashdash > a->cmd->max_before_dashdash) {
		usage_err(err, a->path, a->depth, "unexpected argument '%s' "
			  "(a command to run goes after --)",
			  a->pos[a->cmd->max_before_dashdash]);
		goto fail;
	}
	if (a->cmd->arg_choices) {
		for (int k = 0; k < a->n_pos; k++) {
			char *list = mc_strdup(a->cmd->arg_choices), *save = NULL;
			int ok = 0;

			for (char *t = strtok_r(list, "|", &save); t;
			     t = strtok_r(NULL, "|", &save))
				ok |= strcmp(t, a->pos[k]) == 0;
			free(list);
			if (!ok) {
				usage_err(err, a->path, a->depth,
					  "'%s' is not one of %s", a->pos[k],
					  a->cmd->arg_choices);
				goto fail;
			}
		}
	}
	return 0;
fail:
	mc_args_release(a);
	return -1;
}

void mc_args_release(struct mc_args *a)
{
	for (size_t i = 0; i < a->n_secrets; i++)
		mc_free_secret(a->secrets[i]);
	free(a->secrets);
	a->secrets = NULL;
	a->n_secrets = 0;
	for (size_t i = 0; i < a->n_vals; i++)
		free(a->vals[i].values);
	free(a->vals);
	free(a->pos);
	a->vals = NULL;
	a->pos = NULL;
	a->n_vals = 0;
	a->n_pos = 0;
}

static const struct mc_optval *lookup(const struct mc_args *a, const char *name)
{
	for (size_t i = 0; i < a->n_vals; i++)
		if (strcmp(a->vals[i].opt->long_name, name) == 0)
			return &a->vals[i];
	return NULL;
}

int mc_args_count(const struct mc_args *a, const char *name)
{
	const struct mc_optval *v = lookup(a, name);

	return v ? v->count : 0;
}

const char *mc_args_value(const struct mc_args *a, const char *name)
{
	const struct mc_optval *v = lookup(a, name);

	return v ? v->value : NULL;
}

long long mc_args_int(const struct mc_args *a, const char *name,
		      long long fallback)
{
	const struct mc_optval *v = lookup(a, name);
	long long min, max, n;

	if (v == NULL || v->value == NULL)
		return fallback;
	if (v->opt->type != MC_ARG_INT)
		MC_BUG("--%s read as an integer", name);
	int_range(v->opt, &min, &max);
	if (mc_parse_int(v->value, min, max, &n, NULL) < 0)
		MC_BUG("--%s: '%s' passed the parser", name, v->value);
	return n;
}

int mc_args_order(const struct mc_args *a, const char *name)
{
	const struct mc_optval *v = lookup(a, name);

	return v ? v->order : 0;
}

const char *const *mc_args_values(const struct mc_args *a, const char *name,
				  size_t *n)
{
	const struct mc_optval *v = lookup(a, name);

	*n = v ? v->n_values : 0;
	return v ? v->values : NULL;
}

char *mc_args_command_name(const struct mc_args *a)
{
	struct mc_buf b = { 0 };

	for (size_t i = 1; i < a->depth; i++)
		mc_buf_printf(&b, "%s%s", i > 1 ? " " : "", a->path[i]->name);
	return mc_buf_steal(&b);
}

/* ---- help --------------------------------------------------------------- */

/* "[--name ARG]" pieces of a synopsis. */
static void synopsis(struct mc_buf *b, const struct mc_cmd *const *path,
		     size_t depth)
{
	const struct mc_cmd *cmd = path[depth - 1];

	mc_buf_puts(b, "mercuryctl");
	if (depth == 1) {
		mc_buf_puts(b, " [OPTIONS] COMMAND [ARGS]");
		return;
	}
	for (size_t i = 1; i < depth; i++)
		mc_buf_printf(b, " %s", path[i]->name);
	if (cmd->run == NULL) {
		mc_buf_puts(b, " COMMAND");
		return;
	}
	for (size_t i = 0; cmd->opts && cmd->opts[i].long_name; i++) {
		const struct mc_opt *o = &cmd->opts[i];

		if (o->flags & MC_OPTF_HIDDEN)
			continue;
		if (o->flags & MC_OPTF_REQUIRED)
			mc_buf_printf(b, " --%s%s%s", o->long_name,
				      o->arg ? " " : "", o->arg ? o->arg : "");
		else
			mc_buf_printf(b, " [--%s%s%s]%s", o->long_name,
				      o->arg ? " " : "", o->arg ? o->arg : "",
				      o->kind == MC_OPT_LIST ? "..." : "");
	}
	if (cmd->args)
		mc_buf_printf(b, " %s", cmd->args);
}

static void opt_left(struct mc_buf *b, const struct mc_opt *o)
{
	if (o->short_name)
		mc_buf_printf(b, "-%c, ", o->short_name);
	else
		mc_buf_puts(b, "    ");
	mc_buf_printf(b, "--%s", o->long_name);
	if (o->arg)
		mc_buf_printf(b, " %s", o->arg);
}

/* Columns of a listing's left side ("-c, --config FILE", a command's
 * name); its right side starts two columns further. */
#define HELP_LEFT 28

/* "  LEFT" padded to the right side's column, or on a line of its own
 * when it leaves no room there: the right side then starts at that
 * column of the next line. */
static void help_left(FILE *f, const char *left)
{
	size_t w = mc_utf8_width(left);

	if (w < HELP_LEFT)
		fprintf(f, "  %s%*s", left, (int)(HELP_LEFT - w), "");
	else
		fprintf(f, "  %s\n  %*s", left, HELP_LEFT, "");
}

static void print_opts(FILE *f, const char *title, const struct mc_opt *o)
{
	int any = 0;

	for (size_t i = 0; o && o[i].long_name; i++) {
		struct mc_buf b = { 0 };

		if (o[i].flags & MC_OPTF_HIDDEN)
			continue;
		if (!any++)
			fprintf(f, "\n%s:\n", title);
		opt_left(&b, &o[i]);
		help_left(f, b.data);
		fputs(o[i].help, f);
		if (o[i].type == MC_ARG_ENUM && o[i].choices)
			fprintf(f, " (%s)", o[i].choices);
		fputc('\n', f);
		mc_buf_release(&b);
	}
}

/* Prints text's paragraphs (split on blank lines) wrapped at width. */
static void wrap(FILE *f, const char *text, size_t width)
{
	const char *p = text;
	size_t col = 0;

	fputc('\n', f);
	while (*p) {
		size_t n;

		if (p[0] == '\n' && p[1] == '\n') {
			fputs("\n\n", f);
			col = 0;
			p += 2;
			continue;
		}
		if (*p == ' ' || *p == '\n') {
			p++;
			continue;
		}
		n = strcspn(p, " \n");
		if (col && col + 1 + n > width) {
			fputc('\n', f);
			col = 0;
		} else if (col) {
			fputc(' ', f);
			col++;
		}
		fwrite(p, 1, n, f);
		col += n;
		p += n;
	}
	fputc('\n', f);
}

void mc_cli_usage(FILE *f, const struct mc_cmd *root,
		  const struct mc_cmd *const *path, size_t depth)
{
	struct mc_buf b = { 0 };

	(void)root;
	synopsis(&b, path, depth);
	fprintf(f, "usage: %s\n", b.data);
	mc_buf_release(&b);
}

void mc_cli_help(FILE *f, const struct mc_cmd *root,
		 const struct mc_cmd *const *path, size_t depth)
{
	const struct mc_cmd *cmd = path[depth - 1];
	char *name = path_name(path, depth);

	mc_cli_usage(f, root, path, depth);
	fprintf(f, "\n%s.\n", cmd->summary);
	if (cmd->description)
		wrap(f, cmd->description, 78);
	if (cmd != root)
		print_opts(f, "Options", cmd->opts);
	if (cmd->subs) {
		fprintf(f, "\n%s:\n", depth == 1 ? "Commands" : "Subcommands");
		for (size_t i = 0; cmd->subs[i]; i++) {
			help_left(f, cmd->subs[i]->name);
			fprintf(f, "%s\n", cmd->subs[i]->summary);
		}
	}
	/* The global options once, in the root's help: a command's help
	 * shows its own and points there. */
	if (depth == 1) {
		print_opts(f, "Global options", root->opts);
		fprintf(f, "\nRun 'mercuryctl COMMAND --help' for a command's options; "
			"man mercuryctl for more.\n");
	} else {
		fprintf(f, "\nGlobal options (-c FILE, -o FORMAT, --json, -q, -v, "
			"--timeout, ...) go\nbefore or after the command: see "
			"'mercuryctl --help'.\n");
		fprintf(f, "\nSee mercuryctl-%s(1).\n", path[1]->name);
	}
	free(name);
}

/* ---- completions -------------------------------------------------------- */

/* Calls fn for every command path below root (depth >= 2), parents first. */
typedef void (*walk_fn)(FILE *f, const struct mc_cmd *const *path,
			size_t depth);

static void walk(FILE *f, const struct mc_cmd **path, size_t depth,
		 walk_fn fn)
{
	const struct mc_cmd *cmd = path[depth - 1];

	fn(f, path, depth);
	for (size_t i = 0; cmd->subs && cmd->subs[i] && depth < MC_CLI_DEPTH;
	     i++) {
		path[depth] = cmd->subs[i];
		walk(f, path, depth + 1, fn);
	}
}

/* "mercuryctl health history": the key of a path in the completions. */
static void key_of(struct mc_buf *b, const struct mc_cmd *const *path,
		   size_t depth)
{
	mc_buf_puts(b, "mercuryctl");
	for (size_t i = 1; i < depth; i++)
		mc_buf_printf(b, " %s", path[i]->name);
}

static void choices_words(struct mc_buf *b, const char *choices)
{
	for (const char *p = choices; *p; p++)
		mc_buf_add(b, *p == '|' ? " " : p, 1);
}

/* The mercuryctl arguments that print a command's positional names, one a
 * line ("config show --names check"), or 0 when it has none. The shells
 * run them with the --config given on the line being completed. */
static int names_cmd(struct mc_buf *b, const struct mc_cmd *cmd)
{
	if (cmd->complete_cmd)
		mc_buf_puts(b, cmd->complete_cmd);
	else if (cmd->complete_section)
		mc_buf_printf(b, "config show --names %s",
			      cmd->complete_section);
	else
		return 0;
	return 1;
}

/* The completion of an option's value: "@file", "@dir", "@none" or words. */
static void value_words(struct mc_buf *b, const struct mc_opt *o)
{
	switch (o->type) {
	case MC_ARG_FILE:
		mc_buf_puts(b, "@file");
		break;
	case MC_ARG_DIR:
		mc_buf_puts(b, "@dir");
		break;
	case MC_ARG_ENUM:
		choices_words(b, o->choices);
		break;
	default:
		mc_buf_puts(b, "@none");
		break;
	}
}

static void bash_entry(FILE *f, const struct mc_cmd *const *path, size_t depth)
{
	const struct mc_cmd *cmd = path[depth - 1];
	struct mc_buf key = { 0 }, w = { 0 };

	key_of(&key, path, depth);
	for (size_t i = 0; cmd->subs && cmd->subs[i]; i++)
		mc_buf_printf(&w, "%s%s", i ? " " : "", cmd->subs[i]->name);
	if (cmd->arg_choices) {
		if (w.len)
			mc_buf_puts(&w, " ");
		choices_words(&w, cmd->arg_choices);
	}
	fprintf(f, "_mercuryctl_words[\"%s\"]=\"%s\"\n", key.data ? key.data : "",
		w.data ? w.data : "");
	mc_buf_reset(&w);
	if (names_cmd(&w, cmd))
		fprintf(f, "_mercuryctl_names[\"%s\"]=\"%s\"\n", key.data,
			w.data);
	mc_buf_reset(&w);
	for (size_t i = 0; cmd->opts && cmd->opts[i].long_name; i++) {
		const struct mc_opt *o = &cmd->opts[i];

		if (o->flags & MC_OPTF_HIDDEN)
			continue;
		mc_buf_printf(&w, "%s--%s", w.len ? " " : "", o->long_name);
		if (o->short_name)
			mc_buf_printf(&w, " -%c", o->short_name);
		if (takes_value(o)) {
			struct mc_buf v = { 0 };

			value_words(&v, o);
			fprintf(f, "_mercuryctl_values[\"--%s\"]=\"%s\"\n",
				o->long_name, v.data);
			if (o->short_name)
				fprintf(f, "_mercuryctl_values[\"-%c\"]=\"%s\"\n",
					o->short_name, v.data);
			mc_buf_release(&v);
		}
	}
	fprintf(f, "_mercuryctl_opts[\"%s\"]=\"%s\"\n", key.data ? key.data : "",
		w.data ? w.data : "");
	mc_buf_release(&key);
	mc_buf_release(&w);
}

static const char bash_body[] =
"\n"
"_mercuryctl() {\n"
"\tlocal cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
"\tlocal path=mercuryctl w i skip=0 cfg=\n"
"\tfor ((i = 1; i < COMP_CWORD; i++)); do\n"
"\t\tw=${COMP_WORDS[i]}\n"
"\t\tif ((skip)); then skip=0; continue; fi\n"
"\t\tcase $w in\n"
"\t\t-c|--config) cfg=${COMP_WORDS[i+1]}; skip=1; continue ;;\n"
"\t\t--config=*) cfg=${w#--config=}; continue ;;\n"
"\t\t--*=*) continue ;;\n"
"\t\t-*) [[ -n ${_mercuryctl_values[$w]+x} ]] && skip=1; continue ;;\n"
"\t\tesac\n"
"\t\t[[ -n ${_mercuryctl_opts[\"$path $w\"]+x} ]] && path=\"$path $w\"\n"
"\tdone\n"
"\tif [[ -n ${_mercuryctl_values[$prev]+x} ]] && ((COMP_CWORD > 1)); then\n"
"\t\tcase ${_mercuryctl_values[$prev]} in\n"
"\t\t@file) COMPREPLY=($(compgen -f -- \"$cur\")) ;;\n"
"\t\t@dir) COMPREPLY=($(compgen -d -- \"$cur\")) ;;\n"
"\t\t@none) COMPREPLY=() ;;\n"
"\t\t*) COMPREPLY=($(compgen -W \"${_mercuryctl_values[$prev]}\" -- \"$cur\")) ;;\n"
"\t\tesac\n"
"\t\treturn\n"
"\tfi\n"
"\tif [[ $cur == -* ]]; then\n"
"\t\tCOMPREPLY=($(compgen -W \"${_mercuryctl_opts[$path]} ${_mercuryctl_opts[mercuryctl]}\" -- \"$cur\"))\n"
"\telse\n"
"\t\tlocal names=\"\"\n"
"\t\t# Names of configured sections (checks, DLQs) or breakers, from\n"
"\t\t# the config given on the line (-c FILE), else the usual one.\n"
"\t\tcfg=${cfg/#\\~/$HOME}\n"
"\t\t[[ -n ${_mercuryctl_names[$path]+x} ]] &&\n"
"\t\t\tnames=$(\"${COMP_WORDS[0]}\" ${cfg:+--config \"$cfg\"} ${_mercuryctl_names[$path]} 2>/dev/null)\n"
"\t\tCOMPREPLY=($(compgen -W \"${_mercuryctl_words[$path]} $names\" -- \"$cur\"))\n"
"\tfi\n"
"}\n"
"complete -F _mercuryctl mercuryctl\n";

/* Text inside a zsh single-quoted string: ' becomes '\''. */
static void zsh_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	}
}

/* Entries are added as +=('KEY' 'VALUE'): in a["KEY"]=VALUE zsh keeps the
 * quotes as part of the key, and no lookup would find it. */
static void zsh_entry(FILE *f, const struct mc_cmd *const *path, size_t depth)
{
	const struct mc_cmd *cmd = path[depth - 1];
	struct mc_buf key = { 0 };

	key_of(&key, path, depth);
	fprintf(f, "_mercuryctl_words+=('%s' '", key.data ? key.data : "");
	for (size_t i = 0; cmd->subs && cmd->subs[i]; i++)
	{
		fprintf(f, "%s%s:", i ? "\n" : "", cmd->subs[i]->name);
		zsh_text(f, cmd->subs[i]->summary);
	}
	if (cmd->arg_choices) {
		struct mc_buf w = { 0 };

		choices_words(&w, cmd->arg_choices);
		for (char *p = w.data; *p; p++)
			if (*p == ' ')
				*p = '\n';
		fprintf(f, "%s%s", cmd->subs ? "\n" : "", w.data);
		mc_buf_release(&w);
	}
	fprintf(f, "')\n");
	{
		struct mc_buf nc = { 0 };

		if (names_cmd(&nc, cmd))
			fprintf(f, "_mercuryctl_names+=('%s' '%s')\n",
				key.data, nc.data);
		mc_buf_release(&nc);
	}
	fprintf(f, "_mercuryctl_opts+=('%s' '", key.data ? key.data : "");
	for (size_t i = 0, n = 0; cmd->opts && cmd->opts[i].long_name; i++) {
		const struct mc_opt *o = &cmd->opts[i];

		if (o->flags & MC_OPTF_HIDDEN)
			continue;
		fprintf(f, "%s--%s:", n++ ? "\n" : "", o->long_name);
		zsh_text(f, o->help);
		if (o->short_name) {
			fprintf(f, "\n-%c:", o->short_name);
			zsh_text(f, o->help);
		}
	}
	fprintf(f, "')\n");
	for (size_t i = 0; cmd->opts && cmd->opts[i].long_name; i++) {
		const struct mc_opt *o = &cmd->opts[i];
		struct mc_buf v = { 0 };

		if ((o->flags & MC_OPTF_HIDDEN) || !takes_value(o))
			continue;
		value_words(&v, o);
		fprintf(f, "_mercuryctl_values+=('--%s' '%s')\n", o->long_name,
			v.data);
		if (o->short_name)
			fprintf(f, "_mercuryctl_values+=('-%c' '%s')\n",
				o->short_name, v.data);
		mc_buf_release(&v);
	}
	mc_buf_release(&key);
}

/* The command path being completed lives in cmd: a zsh function must not
 * name a variable path, which zsh ties to $PATH (local path=... empties the
 * command search path, and nothing completes). */
static const char zsh_body[] =
"\n"
"_mercuryctl() {\n"
"\tlocal cmd=mercuryctl w i skip=0 prev=${words[CURRENT-1]} cfg=\n"
"\tlocal -a items\n"
"\tfor ((i = 2; i < CURRENT; i++)); do\n"
"\t\tw=${words[i]}\n"
"\t\tif ((skip)); then skip=0; continue; fi\n"
"\t\tcase $w in\n"
"\t\t-c|--config) cfg=${words[i+1]}; skip=1; continue ;;\n"
"\t\t--config=*) cfg=${w#--config=}; continue ;;\n"
"\t\t--*=*) continue ;;\n"
"\t\t-*) (( ${+_mercuryctl_values[$w]} )) && skip=1; continue ;;\n"
"\t\tesac\n"
"\t\t(( ${+_mercuryctl_opts[$cmd $w]} )) && cmd=\"$cmd $w\"\n"
"\tdone\n"
"\tif (( CURRENT > 2 && ${+_mercuryctl_values[$prev]} )); then\n"
"\t\tcase ${_mercuryctl_values[$prev]} in\n"
"\t\t@file) _files ;;\n"
"\t\t@dir) _files -/ ;;\n"
"\t\t@none) _message 'value' ;;\n"
"\t\t*) items=(${=_mercuryctl_values[$prev]}); compadd -a items ;;\n"
"\t\tesac\n"
"\t\treturn\n"
"\tfi\n"
"\tif [[ ${words[CURRENT]} == -* ]]; then\n"
"\t\titems=(${(f)_mercuryctl_opts[$cmd]})\n"
"\t\t[[ $cmd != mercuryctl ]] && items+=(${(f)_mercuryctl_opts[mercuryctl]})\n"
"\t\t_describe 'option' items\n"
"\telse\n"
"\t\titems=(${(f)_mercuryctl_words[$cmd]})\n"
"\t\t(( ${#items} )) && _describe 'command' items\n"
"\t\tif (( ${+_mercuryctl_names[$cmd]} )); then\n"
"\t\t\tcfg=${cfg/#\\~/$HOME}\n"
"\t\t\titems=(${(f)\"$(${words[1]} ${cfg:+--config} ${cfg:+$cfg} ${=_mercuryctl_names[$cmd]} 2>/dev/null)\"})\n"
"\t\t\t(( ${#items} )) && compadd -a items\n"
"\t\tfi\n"
"\tfi\n"
"}\n"
"\n"
"# Autoloaded from $fpath this file is _mercuryctl's body: complete now.\n"
"# Sourced (source <(mercuryctl completion zsh), after compinit): register.\n"
"if [[ $funcstack[1] == _mercuryctl ]]; then\n"
"\t_mercuryctl \"$@\"\n"
"else\n"
"\tcompdef _mercuryctl mercuryctl\n"
"fi\n";

static void fish_quote(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('\'', f);
}

static void fish_entry(FILE *f, const struct mc_cmd *const *path, size_t depth)
{
	const struct mc_cmd *cmd = path[depth - 1];
	struct mc_buf key = { 0 };

	key_of(&key, path, depth);
	for (size_t i = 0; cmd->subs && cmd->subs[i]; i++) {
		fprintf(f, "complete -c mercuryctl -n '__mercuryctl_at \"%s\"' -f -a %s -d ",
			key.data ? key.data : "", cmd->subs[i]->name);
		fish_quote(f, cmd->subs[i]->summary);
		fputc('\n', f);
	}
	if (cmd->arg_choices) {
		struct mc_buf w = { 0 };

		choices_words(&w, cmd->arg_choices);
		fprintf(f, "complete -c mercuryctl -n '__mercuryctl_at \"%s\"' -f -a '%s'\n",
			key.data ? key.data : "", w.data);
		mc_buf_release(&w);
	}
	{
		struct mc_buf nc = { 0 };

		if (names_cmd(&nc, cmd))
			fprintf(f, "complete -c mercuryctl -n "
				"'__mercuryctl_at \"%s\"' -f -a "
				"'(__mercuryctl_names %s)'\n", key.data,
				nc.data);
		mc_buf_release(&nc);
	}
	for (size_t i = 0; cmd->opts && cmd->opts[i].long_name; i++) {
		const struct mc_opt *o = &cmd->opts[i];

		if (o->flags & MC_OPTF_HIDDEN)
			continue;
		fprintf(f, "complete -c mercuryctl");
		if (depth > 1)
			fprintf(f, " -n '__mercuryctl_at \"%s\"'", key.data);
		if (o->short_name)
			fprintf(f, " -s %c", o->short_name);
		fprintf(f, " -l %s", o->long_name);
		if (takes_value(o)) {
			if (o->type == MC_ARG_FILE)
				fprintf(f, " -r -F");
			else if (o->type == MC_ARG_DIR)
				fprintf(f, " -r -a '(__fish_complete_directories)'");
			else if (o->type == MC_ARG_ENUM) {
				struct mc_buf w = { 0 };

				choices_words(&w, o->choices);
				fprintf(f, " -x -a '%s'", w.data);
				mc_buf_release(&w);
			} else
				fprintf(f, " -x");
		}
		fprintf(f, " -d ");
		fish_quote(f, o->help);
		fputc('\n', f);
	}
	mc_buf_release(&key);
}

static void fish_valopts(FILE *f, const struct mc_cmd *const *path,
			 size_t depth)
{
	const struct mc_cmd *cmd = path[depth - 1];

	for (size_t i = 0; cmd->opts && cmd->opts[i].long_name; i++) {
		const struct mc_opt *o = &cmd->opts[i];

		if (!takes_value(o))
			continue;
		fprintf(f, " --%s", o->long_name);
		if (o->short_name)
			fprintf(f, " -%c", o->short_name);
	}
}

static void fish_paths(FILE *f, const struct mc_cmd *const *path, size_t depth)
{
	struct mc_buf key = { 0 };

	key_of(&key, path, depth);
	fprintf(f, " '%s'", key.data);
	mc_buf_release(&key);
}

static const char fish_body[] =
"\n"
"# The command path typed so far (\"health history\"), options skipped.\n"
"function __mercuryctl_path\n"
"\tset -l toks (commandline -opc)\n"
"\tset -e toks[1]\n"
"\tset -l path mercuryctl\n"
"\tset -l skip 0\n"
"\tfor t in $toks\n"
"\t\tif test $skip = 1\n"
"\t\t\tset skip 0\n"
"\t\t\tcontinue\n"
"\t\tend\n"
"\t\tswitch $t\n"
"\t\tcase '--*=*'\n"
"\t\t\tcontinue\n"
"\t\tcase '-*'\n"
"\t\t\tcontains -- $t $__mercuryctl_valopts; and set skip 1\n"
"\t\t\tcontinue\n"
"\t\tend\n"
"\t\tset -l next \"$path $t\"\n"
"\t\tcontains -- $next $__mercuryctl_paths; and set path $next\n"
"\tend\n"
"\techo $path\n"
"end\n"
"\n"
"function __mercuryctl_at\n"
"\ttest (__mercuryctl_path) = \"$argv[1]\"\n"
"end\n"
"\n"
"# Names for a positional argument: mercuryctl ARGV, with the --config\n"
"# given on the line being completed (-c FILE), else the usual one.\n"
"function __mercuryctl_names\n"
"\tset -l toks (commandline -opc)\n"
"\tset -l cfg\n"
"\tfor i in (seq 2 (count $toks))\n"
"\t\tswitch $toks[$i]\n"
"\t\tcase -c --config\n"
"\t\t\tset -l j (math $i + 1)\n"
"\t\t\ttest $j -le (count $toks); and set cfg --config $toks[$j]\n"
"\t\tcase '--config=*'\n"
"\t\t\tset cfg --config (string replace -- --config= '' $toks[$i])\n"
"\t\tend\n"
"\tend\n"
"\tmercuryctl $cfg $argv 2>/dev/null\n"
"end\n"
"\n";

/* bash and zsh: the same tables of words, options, values and names,
 * declared with each shell's keyword, then the function that reads them. */
static const struct {
	const char *name, *first, *declare;
	walk_fn entry;
	const char *body;
} assoc_shells[] = {
	{ "bash", "", "declare", bash_entry, bash_body },
	{ "zsh", "#compdef mercuryctl\n", "typeset", zsh_entry, zsh_body },
};

int mc_cli_completion(FILE *f, const struct mc_cmd *root, const char *shell)
{
	const struct mc_cmd *path[MC_CLI_DEPTH] = { root };

	for (size_t i = 0; i < MC_ARRAY_LEN(assoc_shells); i++) {
		if (strcmp(shell, assoc_shells[i].name) != 0)
			continue;
		fprintf(f, "%s# %s completion for mercuryctl (generated from "
			"its command table)\n%s -gA _mercuryctl_words "
			"_mercuryctl_opts _mercuryctl_values _mercuryctl_names\n",
			assoc_shells[i].first, shell, assoc_shells[i].declare);
		walk(f, path, 1, assoc_shells[i].entry);
		fputs(assoc_shells[i].body, f);
		return 0;
	}
	if (strcmp(shell, "fish") == 0) {
		fprintf(f, "# fish completion for mercuryctl "
			"(generated from its command table)\n"
			"set -g __mercuryctl_valopts");
		walk(f, path, 1, fish_valopts);
		fprintf(f, "\nset -g __mercuryctl_paths");
		walk(f, path, 1, fish_paths);
		fputc('\n', f);
		fputs(fish_body, f);
		fprintf(f, "complete -c mercuryctl -f\n");
		walk(f, path, 1, fish_entry);
		return 0;
	}
	return -1;
}

/* ---- man pages ---------------------------------------------------------- */

/* Writes the UTF-8 sequence at s as a groff \[uXXXX] escape (groff reads
 * its input as Latin-1); returns the bytes consumed. */
static size_t utf8_escape(FILE *f, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned cp;
	size_t n;

	if (u[0] >= 0xF0 && u[1] && u[2] && u[3]) {
		cp = (u[0] & 7u) << 18 | (u[1] & 63u) << 12 | (u[2] & 63u) << 6 |
		     (u[3] & 63u);
		n = 4;
	} else if (u[0] >= 0xE0 && u[1] && u[2]) {
		cp = (u[0] & 15u) << 12 | (u[1] & 63u) << 6 | (u[2] & 63u);
		n = 3;
	} else if (u[0] >= 0xC0 && u[1]) {
		cp = (u[0] & 31u) << 6 | (u[1] & 63u);
		n = 2;
	} else {
		fputc('?', f);
		return 1;
	}
	fprintf(f, "\\[u%04X]", cp);
	return n;
}

void mc_roff_escape(FILE *f, const char *s)
{
	int bol = 1;

	for (; *s; s++) {
		if (bol && (*s == '.' || *s == '\''))
			fputs("\\&", f);
		if (*s == '\\')
			fputs("\\e", f);
		else if (*s == '-')
			fputs("\\-", f);
		else if ((unsigned char)*s >= 0x80)
			s += utf8_escape(f, s) - 1;
		else
			fputc(*s, f);
		bol = *s == '\n';
	}
}

static void man_opts(FILE *f, const struct mc_opt *o)
{
	for (size_t i = 0; o && o[i].long_name; i++) {
		if (o[i].flags & MC_OPTF_HIDDEN)
			continue;
		fputs(".TP\n", f);
		if (o[i].short_name)
			fprintf(f, "\\fB\\-%c\\fR, ", o[i].short_name);
		fputs("\\fB\\-\\-", f);
		mc_roff_escape(f, o[i].long_name);
		fputs("\\fR", f);
		if (o[i].arg) {
			fputs(" \\fI", f);
			mc_roff_escape(f, o[i].arg);
			fputs("\\fR", f);
		}
		fputc('\n', f);
		mc_roff_escape(f, o[i].help);
		if (o[i].type == MC_ARG_ENUM && o[i].choices) {
			fputs(" (", f);
			mc_roff_escape(f, o[i].choices);
			fputs(")", f);
		}
		fputs(".\n", f);
	}
}

static void man_paragraphs(FILE *f, const char *text)
{
	const char *p = text;

	while (*p) {
		const char *end = strstr(p, "\n\n");
		char *para = end ? mc_strndup(p, (size_t)(end - p))
				 : mc_strdup(p);

		fputs(".PP\n", f);
		mc_roff_escape(f, para);
		fputc('\n', f);
		free(para);
		if (!end)
			break;
		p = end + 2;
	}
}

/* EXAMPLES: each prose line a paragraph, each "$ " line a command set in
 * bold on its own, indented. */
static void man_examples(FILE *f, const char *text)
{
	const char *p = text;

	fputs(".SH EXAMPLES\n", f);
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char *line = mc_strndup(p, len);

		if (strncmp(line, "$ ", 2) == 0) {
			fputs(".RS 4\n.nf\n\\fB", f);
			mc_roff_escape(f, line + 2);
			fputs("\\fR\n.fi\n.RE\n", f);
		} else if (*line) {
			fputs(".PP\n", f);
			mc_roff_escape(f, line);
			fputc('\n', f);
		}
		free(line);
		p += len + (nl ? 1 : 0);
	}
}

static void man_synopsis(FILE *f, const struct mc_cmd **path, size_t depth)
{
	const struct mc_cmd *cmd = path[depth - 1];
	struct mc_buf b = { 0 };

	if (cmd->run || depth == 1) {
		synopsis(&b, path, depth);
		fputs(".PP\n.nf\n", f);
		mc_roff_escape(f, b.data);
		fputs("\n.fi\n", f);
		mc_buf_release(&b);
	}
	for (size_t i = 0; depth > 1 && cmd->subs && cmd->subs[i]; i++) {
		path[depth] = cmd->subs[i];
		man_synopsis(f, path, depth + 1);
	}
}

static void man_sub_options(FILE *f, const struct mc_cmd **path, size_t depth)
{
	const struct mc_cmd *cmd = path[depth - 1];

	if (depth > 2 || (cmd->opts && cmd->opts[0].long_name)) {
		struct mc_buf b = { 0 };

		key_of(&b, path, depth);
		fputs(".SS ", f);
		mc_roff_escape(f, b.data);
		fputc('\n', f);
		mc_roff_escape(f, cmd->summary);
		fputs(".\n", f);
		if (depth > 2 && cmd->description) {
			man_paragraphs(f, cmd->description);
		}
		if (cmd->opts && cmd->opts[0].long_name) {
			fputs(".PP\nOptions:\n", f);
			man_opts(f, cmd->opts);
		}
		mc_buf_release(&b);
	}
	for (size_t i = 0; cmd->subs && cmd->subs[i]; i++) {
		path[depth] = cmd->subs[i];
		man_sub_options(f, path, depth + 1);
	}
}

void mc_cli_man(FILE *f, const struct mc_cmd *root, const struct mc_cmd *cmd,
		const char *date, const char *extra)
{
	const struct mc_cmd *path[MC_CLI_DEPTH] = { root, cmd };
	size_t depth = cmd == root ? 1 : 2;
	const char *title = cmd == root ? "MERCURYCTL" : NULL;

	fputs(".\\\" Generated from mercuryctl's command table by tests/gendoc.c;\n"
	      ".\\\" edit the table (cmd/*.c), then run 'make docs'.\n", f);
	if (title)
		fprintf(f, ".TH %s 1 \"%s\" \"mercuryctl %s\" \"User Commands\"\n",
			title, date, MC_VERSION);
	else {
		fputs(".TH MERCURYCTL\\-", f);
		for (const char *p = cmd->name; *p; p++)
			fputc(*p >= 'a' && *p <= 'z' ? *p - 32 : *p, f);
		fprintf(f, " 1 \"%s\" \"mercuryctl %s\" \"User Commands\"\n",
			date, MC_VERSION);
	}
	fputs(".SH NAME\n", f);
	if (cmd == root)
		fputs("mercuryctl", f);
	else
		fprintf(f, "mercuryctl\\-%s", cmd->name);
	fputs(" \\- ", f);
	mc_roff_escape(f, cmd->summary);
	fputs("\n.SH SYNOPSIS\n", f);
	man_synopsis(f, path, depth);
	fputs(".SH DESCRIPTION\n", f);
	mc_roff_escape(f, cmd->summary);
	fputs(".\n", f);
	if (cmd->description)
		man_paragraphs(f, cmd->description);
	if (cmd == root) {
		fputs(".SH COMMANDS\n", f);
		for (size_t i = 0; root->subs && root->subs[i]; i++) {
			fputs(".TP\n\\fBmercuryctl\\-", f);
			mc_roff_escape(f, root->subs[i]->name);
			fputs("\\fR(1)\n", f);
			mc_roff_escape(f, root->subs[i]->summary);
			fputs(".\n", f);
		}
		fputs(".SH OPTIONS\n", f);
		man_opts(f, root->opts);
	} else {
		fputs(".SH OPTIONS\n", f);
		man_sub_options(f, path, depth);
		fputs(".PP\nThe global options of \\fBmercuryctl\\fR(1) are "
		      "accepted too.\n", f);
	}
	if (cmd->examples)
		man_examples(f, cmd->examples);
	if (extra)
		fputs(extra, f);
}
