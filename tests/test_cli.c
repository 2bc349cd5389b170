/* test_cli.c - parsing, help, completions and man pages (lib/cli.c) against
 * the real command table (cmd/table.c) and a small table of its own for the
 * option kinds the real one does not use yet. */
#include <criterion/criterion.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "mc.h"

/* ---- helpers ------------------------------------------------------------ */

#define CLI_MAX_ARGS 32

struct cli_run {
	int argc;
	char *argv[CLI_MAX_ARGS + 1];
	struct mc_args a;
	struct mc_err e;
	int rc;
};

/* Parses "mercuryctl" followed by the NULL-terminated words against root.
 * argv is a private, writable copy (the parser may wipe secrets in it). */
static int cli_parse_v(struct cli_run *r, const struct mc_cmd *root, va_list ap)
{
	const char *w;

	memset(r, 0, sizeof(*r));
	r->argv[r->argc++] = mc_strdup("mercuryctl");
	while ((w = va_arg(ap, const char *)) != NULL) {
		cr_assert(r->argc < CLI_MAX_ARGS);
		r->argv[r->argc++] = mc_strdup(w);
	}
	r->argv[r->argc] = NULL;
	r->rc = mc_cli_parse(root, r->argc, r->argv, &r->a, &r->e);
	return r->rc;
}

static int cli_parse(struct cli_run *r, ...)
{
	va_list ap;
	int rc;

	va_start(ap, r);
	rc = cli_parse_v(r, &mc_cmd_root, ap);
	va_end(ap);
	return rc;
}

static int cli_parse_root(struct cli_run *r, const struct mc_cmd *root, ...)
{
	va_list ap;
	int rc;

	va_start(ap, root);
	rc = cli_parse_v(r, root, ap);
	va_end(ap);
	return rc;
}

static void cli_done(struct cli_run *r)
{
	mc_args_release(&r->a);
	for (int i = 0; i < r->argc; i++)
		free(r->argv[i]);
	r->argc = 0;
}

/* Expects success; returns the command name ("breaker reset", caller
 * frees). */
static char *cli_ok(struct cli_run *r)
{
	cr_assert_eq(r->rc, 0, "parse failed: %s", r->e.msg);
	cr_assert_not_null(r->a.cmd);
	cr_assert_eq(r->a.cmd, r->a.path[r->a.depth - 1]);
	cr_assert_eq(r->a.path[0], &mc_cmd_root);
	return mc_args_command_name(&r->a);
}

/* Expects a usage error whose message contains every NULL-terminated
 * fragment. */
static void cli_fails_with(struct cli_run *r, ...)
{
	va_list ap;
	const char *frag;

	cr_assert_eq(r->rc, -1, "parse succeeded, want an error");
	cr_assert_eq(r->e.code, MC_EXIT_USAGE, "code %d: %s", r->e.code,
		     r->e.msg);
	va_start(ap, r);
	while ((frag = va_arg(ap, const char *)) != NULL)
		cr_assert_not_null(strstr(r->e.msg, frag),
				   "message '%s' lacks '%s'", r->e.msg, frag);
	va_end(ap);
	/* One line, naming where to get help. */
	cr_assert_null(strchr(r->e.msg, '\n'), "%s", r->e.msg);
	cr_assert_not_null(strstr(r->e.msg, "--help"), "%s", r->e.msg);
}

/* What fn writes to a FILE, as a string (caller frees). */
struct cli_mem {
	char *buf;
	size_t len;
	FILE *f;
};

static FILE *mem_open(struct cli_mem *m)
{
	m->buf = NULL;
	m->len = 0;
	m->f = open_memstream(&m->buf, &m->len);
	cr_assert_not_null(m->f);
	return m->f;
}

static char *mem_close(struct cli_mem *m)
{
	cr_assert_eq(fclose(m->f), 0);
	return m->buf;
}

static char *help_of(const struct mc_cmd *root,
		     const struct mc_cmd *const *path, size_t depth)
{
	struct cli_mem m;

	mc_cli_help(mem_open(&m), root, path, depth);
	return mem_close(&m);
}

static char *completion_of(const struct mc_cmd *root, const char *shell,
			   int *rc)
{
	struct cli_mem m;

	*rc = mc_cli_completion(mem_open(&m), root, shell);
	return mem_close(&m);
}

static char *man_of(const struct mc_cmd *root, const struct mc_cmd *cmd)
{
	struct cli_mem m;

	mc_cli_man(mem_open(&m), root, cmd, "2026-11-22", NULL);
	return mem_close(&m);
}

static char *roff_escape_str(const char *s)
{
	struct cli_mem m;

	mc_roff_escape(mem_open(&m), s);
	return mem_close(&m);
}

static int starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Every command path below the root, as "mercuryctl a b" keys, with their
 * command; filled by walking the real table. */
struct cli_path {
	const struct mc_cmd *path[MC_CLI_DEPTH];
	size_t depth;
	char key[128];
};

static void collect(const struct mc_cmd **stack, size_t depth,
		    struct cli_path *out, size_t *n, size_t max)
{
	const struct mc_cmd *cmd = stack[depth - 1];

	cr_assert(*n < max);
	memcpy(out[*n].path, stack, depth * sizeof(*stack));
	out[*n].depth = depth;
	strcpy(out[*n].key, "mercuryctl");
	for (size_t i = 1; i < depth; i++) {
		strcat(out[*n].key, " ");
		strcat(out[*n].key, stack[i]->name);
	}
	(*n)++;
	for (size_t i = 0; cmd->subs && cmd->subs[i]; i++) {
		cr_assert(depth < MC_CLI_DEPTH, "table deeper than %d",
			  MC_CLI_DEPTH);
		stack[depth] = cmd->subs[i];
		collect(stack, depth + 1, out, n, max);
	}
}

static size_t all_paths(struct cli_path *out, size_t max)
{
	const struct mc_cmd *stack[MC_CLI_DEPTH] = { &mc_cmd_root };
	size_t n = 0;

	collect(stack, 1, out, &n, max);
	return n;
}

static int ends_with_dot(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && s[n - 1] == '.';
}

/* ---- parsing: global options -------------------------------------------- */

Test(cli, global_option_before_and_after_command)
{
	struct cli_run r;
	char *name;

	cli_parse(&r, "--json", "health", NULL);
	name = cli_ok(&r);
	cr_assert_str_eq(name, "health");
	free(name);
	cr_assert_eq(r.a.cmd, &mc_cmd_health);
	cr_assert_eq(r.a.depth, 2);
	cr_assert_eq(mc_args_count(&r.a, "json"), 1);
	cr_assert_eq(r.a.n_pos, 0);
	cr_assert_eq(r.a.help, 0);
	cli_done(&r);

	cli_parse(&r, "health", "--json", NULL);
	name = cli_ok(&r);
	cr_assert_str_eq(name, "health");
	free(name);
	cr_assert_eq(mc_args_count(&r.a, "json"), 1);
	cr_assert_eq(r.a.n_pos, 0);
	cli_done(&r);

	cli_parse(&r, "--quiet", "health", "--critical-only", "--no-color",
		  NULL);
	free(cli_ok(&r));
	cr_assert_eq(mc_args_count(&r.a, "quiet"), 1);
	cr_assert_eq(mc_args_count(&r.a, "critical-only"), 1);
	cr_assert_eq(mc_args_count(&r.a, "no-color"), 1);
	cr_assert_eq(mc_args_count(&r.a, "json"), 0);
	cr_assert_null(mc_args_value(&r.a, "output"));
	cli_done(&r);
}

Test(cli, option_value_forms)
{
	struct cli_run r;

	cli_parse(&r, "--output=json", "health", NULL);
	free(cli_ok(&r));
	cr_assert_str_eq(mc_args_value(&r.a, "output"), "json");
	cli_done(&r);

	cli_parse(&r, "-o", "json", "health", NULL);
	free(cli_ok(&r));
	cr_assert_str_eq(mc_args_value(&r.a, "output"), "json");
	cr_assert_eq(r.a.n_pos, 0);
	cli_done(&r);

	cli_parse(&r, "health", "-ojson", NULL);
	free(cli_ok(&r));
	cr_assert_str_eq(mc_args_value(&r.a, "output"), "json");
	cli_done(&r);

	/* The last one wins, and both are counted. */
	cli_parse(&r, "health", "-o", "prom", "--output", "nagios", NULL);
	free(cli_ok(&r));
	cr_assert_str_eq(mc_args_value(&r.a, "output"), "nagios");
	cr_assert_eq(mc_args_count(&r.a, "output"), 2);
	cli_done(&r);

	cli_parse(&r, "--timeout=90s", "--state", "/tmp/s.db", "health", NULL);
	free(cli_ok(&r));
	cr_assert_str_eq(mc_args_value(&r.a, "timeout"), "90s");
	cr_assert_str_eq(mc_args_value(&r.a, "state"), "/tmp/s.db");
	cli_done(&r);

	/* A value may start with a dash; '=' may be in a value. */
	cli_parse(&r, "--correlation-id", "-abc=1", "health", NULL);
	free(cli_ok(&r));
	cr_assert_str_eq(mc_args_value(&r.a, "correlation-id"), "-abc=1");
	cli_done(&r);

	cli_parse(&r, "history", "-n5", "--since=1h", NULL);
	free(cli_ok(&r));
	cr_assert_eq(r.a.cmd, &mc_cmd_history);
	cr_assert_str_eq(mc_args_value(&r.a, "limit"), "5");
	cr_assert_str_eq(mc_args_value(&r.a, "since"), "1h");
	cli_done(&r);

	cli_parse(&r, "--pushgateway", "http://127.0.0.1:9091",
		  "--textfile-dir", "/var/lib/node", "health", NULL);
	free(cli_ok(&r));
	cr_assert_str_eq(mc_args_value(&r.a, "pushgateway"),
			 "http://127.0.0.1:9091");
	cr_assert_str_eq(mc_args_value(&r.a, "textfile-dir"), "/var/lib/node");
	cli_done(&r);
}

Test(cli, option_order)
{
	struct cli_run r;

	/* --json and -o are two options: the order tells which came last. */
	cli_parse(&r, "--json", "health", "-o", "text", NULL);
	free(cli_ok(&r));
	cr_assert_gt(mc_args_order(&r.a, "output"), mc_args_order(&r.a, "json"));
	cr_assert_gt(mc_args_order(&r.a, "json"), 0);
	cr_assert_eq(mc_args_order(&r.a, "quiet"), 0);
	cli_done(&r);

	cli_parse(&r, "-o", "text", "health", "-o", "prom", "--json", "-q",
		  "-o", "nagios", NULL);
	free(cli_ok(&r));
	cr_assert_gt(mc_args_order(&r.a, "output"), mc_args_order(&r.a, "json"));
	cr_assert_gt(mc_args_order(&r.a, "output"), mc_args_order(&r.a, "quiet"));
	cr_assert_gt(mc_args_order(&r.a, "quiet"), mc_args_order(&r.a, "json"));
	cli_done(&r);
}

Test(cli, short_flag_clusters_and_counts)
{
	struct cli_run r;

	cli_parse(&r, "-qv", "health", NULL);
	free(cli_ok(&r));
	cr_assert_eq(mc_args_count(&r.a, "quiet"), 1);
	cr_assert_eq(mc_args_count(&r.a, "verbose"), 1);
	cli_done(&r);

	cli_parse(&r, "health", "-vv", NULL);
	free(cli_ok(&r));
	cr_assert_eq(mc_args_count(&r.a, "verbose"), 2);
	cr_assert_eq(mc_args_count(&r.a, "quiet"), 0);
	cli_done(&r);

	cli_parse(&r, "-v", "health", "-vqv", "--verbose", NULL);
	free(cli_ok(&r));
	cr_assert_eq(mc_args_count(&r.a, "verbose"), 4);
	cr_assert_eq(mc_args_count(&r.a, "quiet"), 1);
	cli_done(&r);

	/* A value option ends the cluster: the rest, or the next word. */
	cli_parse(&r, "-qo", "json", "health", NULL);
	free(cli_ok(&r));
	cr_assert_eq(mc_args_count(&r.a, "quiet"), 1);
	cr_assert_str_eq(mc_args_value(&r.a, "output"), "json");
	cli_done(&r);

	cli_parse(&r, "-vojson", "health", NULL);
	free(cli_ok(&r));
	cr_assert_eq(mc_args_count(&r.a, "verbose"), 1);
	cr_assert_str_eq(mc_args_value(&r.a, "output"), "json");
	cli_done(&r);
}

Test(cli, double_dash_ends_options)
{
	struct cli_run r;

	cli_parse(&r, "health", "--", "--json", "-v", NULL);
	free(cli_ok(&r));
	cr_assert_eq(r.a.n_pos, 2);
	cr_assert_str_eq(r.a.pos[0], "--json");
	cr_assert_str_eq(r.a.pos[1], "-v");
	cr_assert_eq(mc_args_count(&r.a, "json"), 0);
	cr_assert_eq(mc_args_count(&r.a, "verbose"), 0);
	cli_done(&r);

	/* Options and positionals interleave; a lone '-' is positional. */
	cli_parse(&r, "health", "api", "--json", "db", "-", NULL);
	free(cli_ok(&r));
	cr_assert_eq(r.a.n_pos, 3);
	cr_assert_str_eq(r.a.pos[0], "api");
	cr_assert_str_eq(r.a.pos[1], "db");
	cr_assert_str_eq(r.a.pos[2], "-");
	cr_assert_eq(mc_args_count(&r.a, "json"), 1);
	cli_done(&r);
}

/* A command to run goes after --: job run NAME -- COMMAND; a word after
 * NAME without -- is refused, not run as a command. */
Test(cli, command_to_run_only_after_double_dash)
{
	struct cli_run r;

	cli_parse(&r, "job", "run", "nightly", "--", "/bin/echo", "a", NULL);
	free(cli_ok(&r));
	cr_assert_eq(r.a.n_pos, 3);
	cr_assert_eq(r.a.n_before_dashdash, 1);
	cli_done(&r);
	cli_parse(&r, "job", "run", "nightly", NULL);
	free(cli_ok(&r));
	cr_assert_eq(r.a.n_before_dashdash, 1);
	cli_done(&r);
	cli_parse(&r, "job", "run", "nightly", "typo", NULL);
	cli_fails_with(&r, "unexpected argument 'typo'", "after --", NULL);
	cli_done(&r);
	cli_parse(&r, "oauth", "exec", "kite", "./sync.sh", NULL);
	cli_fails_with(&r, "unexpected argument './sync.sh'", NULL);
	cli_done(&r);
	cli_parse(&r, "oauth", "exec", "kite", "--", "./sync.sh", NULL);
	free(cli_ok(&r));
	cli_done(&r);
}

Test(cli, subcommand_descent)
{
	struct cli_run r;
	char *name;

	cli_parse(&r, "breaker", "reset", "api-gw", NULL);
	name = cli_ok(&r);
	cr_assert_str_eq(name, "breaker reset");
	free(name);
	cr_assert_eq(r.a.depth, 3);
	cr_assert_eq(r.a.path[1], &mc_cmd_breaker);
	cr_assert_str_eq(r.a.cmd->name, "reset");
	cr_assert_eq(r.a.n_pos, 1);
	cr_assert_str_eq(r.a.pos[0], "api-gw");
	cli_done(&r);

	/* Options between the levels. */
	cli_parse(&r, "-q", "breaker", "--json", "reset", "-v", "x", NULL);
	name = cli_ok(&r);
	cr_assert_str_eq(name, "breaker reset");
	free(name);
	cr_assert_eq(mc_args_count(&r.a, "json"), 1);
	cr_assert_eq(mc_args_count(&r.a, "quiet"), 1);
	cr_assert_eq(mc_args_count(&r.a, "verbose"), 1);
	cr_assert_str_eq(r.a.pos[0], "x");
	cli_done(&r);

	/* A breaker called "list": positional once at the leaf. */
	cli_parse(&r, "breaker", "reset", "list", NULL);
	name = cli_ok(&r);
	cr_assert_str_eq(name, "breaker reset");
	free(name);
	cr_assert_str_eq(r.a.pos[0], "list");
	cli_done(&r);

	/* "history" is health's subcommand; after "--" it is an argument (a
	 * check of that name). */
	cli_parse(&r, "health", "history", NULL);
	name = cli_ok(&r);
	cr_assert_str_eq(name, "health history");
	free(name);
	cr_assert_eq(r.a.n_pos, 0);
	cli_done(&r);
	cli_parse(&r, "health", "--", "history", NULL);
	name = cli_ok(&r);
	cr_assert_str_eq(name, "health");
	free(name);
	cr_assert_eq(r.a.n_pos, 1);
	cr_assert_str_eq(r.a.pos[0], "history");
	cli_done(&r);

	cli_parse(&r, "config", "show", NULL);
	name = cli_ok(&r);
	cr_assert_str_eq(name, "config show");
	free(name);
	cli_done(&r);

	cli_parse(&r, "breaker", "list", NULL);
	name = cli_ok(&r);
	cr_assert_str_eq(name, "breaker list");
	free(name);
	cli_done(&r);
}

/* ---- parsing: errors ---------------------------------------------------- */

Test(cli, unknown_command_suggests)
{
	struct cli_run r;

	cli_parse(&r, "helth", NULL);
	cli_fails_with(&r, "unknown command 'helth'",
		       "did you mean 'health'", NULL);
	cli_done(&r);

	cli_parse(&r, "--json", "histroy", NULL);
	cli_fails_with(&r, "unknown command 'histroy'",
		       "did you mean 'history'", NULL);
	cli_done(&r);

	cli_parse(&r, "deploy", NULL);
	cli_fails_with(&r, "unknown command 'deploy'", NULL);
	cr_assert_null(strstr(r.e.msg, "did you mean"), "%s", r.e.msg);
	cli_done(&r);

	cli_parse(&r, "breaker", "rest", "x", NULL);
	cli_fails_with(&r, "mercuryctl breaker:", "unknown command 'rest'",
		       "did you mean 'reset'", "mercuryctl breaker --help",
		       NULL);
	cli_done(&r);

	cli_parse(&r, "config", "shwo", NULL);
	cli_fails_with(&r, "did you mean 'show'", NULL);
	cli_done(&r);
}

Test(cli, unknown_option_suggests)
{
	struct cli_run r;

	cli_parse(&r, "--josn", "health", NULL);
	cli_fails_with(&r, "unknown option '--josn'", "did you mean '--json'",
		       NULL);
	cli_done(&r);

	cli_parse(&r, "health", "--critcal-only", NULL);
	cli_fails_with(&r, "mercuryctl health:", "unknown option '--critcal-only'",
		       "did you mean '--critical-only'", NULL);
	cli_done(&r);

	cli_parse(&r, "history", "--limt", "3", NULL);
	cli_fails_with(&r, "did you mean '--limit'", NULL);
	cli_done(&r);

	cli_parse(&r, "health", "--completely-unrelated", NULL);
	cli_fails_with(&r, "unknown option '--completely-unrelated'", NULL);
	cr_assert_null(strstr(r.e.msg, "did you mean"), "%s", r.e.msg);
	cli_done(&r);

	cli_parse(&r, "-x", "health", NULL);
	cli_fails_with(&r, "unknown option '-x'", NULL);
	cli_done(&r);

	cli_parse(&r, "health", "-qz", NULL);
	cli_fails_with(&r, "unknown option '-z'", NULL);
	cli_done(&r);

	/* A command's option is not known at another command. */
	cli_parse(&r, "version", "--critical-only", NULL);
	cli_fails_with(&r, "unknown option '--critical-only'", NULL);
	cli_done(&r);
}

Test(cli, missing_value)
{
	struct cli_run r;

	cli_parse(&r, "health", "--timeout", NULL);
	cli_fails_with(&r, "option '--timeout' needs a value (DURATION)", NULL);
	cli_done(&r);

	cli_parse(&r, "health", "-o", NULL);
	cli_fails_with(&r, "option '-o' needs a value (FORMAT)", NULL);
	cli_done(&r);

	cli_parse(&r, "health", "-qo", NULL);
	cli_fails_with(&r, "option '-o' needs a value", NULL);
	cli_done(&r);

	cli_parse(&r, "--config", NULL);
	cli_fails_with(&r, "option '--config' needs a value (FILE)", NULL);
	cli_done(&r);
}

Test(cli, bad_values)
{
	struct cli_run r;

	cli_parse(&r, "--timeout", "5x", "health", NULL);
	cli_fails_with(&r, "--timeout", "bad duration '5x'", NULL);
	cli_done(&r);

	cli_parse(&r, "health", "--timeout=-1s", NULL);
	cli_fails_with(&r, "mercuryctl health:", "bad duration '-1s'", NULL);
	cli_done(&r);

	cli_parse(&r, "--wait-lock", "forever", "breaker", "reset", "x", NULL);
	cli_fails_with(&r, "--wait-lock", "bad duration 'forever'", NULL);
	cli_done(&r);

	cli_parse(&r, "-o", "xml", "health", NULL);
	cli_fails_with(&r, "--output: 'xml' is not one of text|json|prom|nagios",
		       NULL);
	cr_assert_null(strstr(r.e.msg, "did you mean"), "%s", r.e.msg);
	cli_done(&r);

	cli_parse(&r, "health", "-ojsn", NULL);
	cli_fails_with(&r, "'jsn' is not one of", "did you mean 'json'", NULL);
	cli_done(&r);

	cli_parse(&r, "health", "--output=", NULL);
	cli_fails_with(&r, "--output", "is not one of", NULL);
	cli_done(&r);

	cli_parse(&r, "--log-format", "yaml", "health", NULL);
	cli_fails_with(&r, "'yaml' is not one of text|json", NULL);
	cli_done(&r);

	cli_parse(&r, "history", "-n", "abc", NULL);
	cli_fails_with(&r, "--limit", "bad number 'abc'", NULL);
	cli_done(&r);

	cli_parse(&r, "history", "--limit=-1", NULL);
	cli_fails_with(&r, "--limit", "bad number '-1'", NULL);
	cli_done(&r);

	cli_parse(&r, "--pushgateway", "localhost:9091", "health", NULL);
	cli_fails_with(&r, "--pushgateway", "not a URL", NULL);
	cli_done(&r);

	cli_parse(&r, "--config=", "health", NULL);
	cli_fails_with(&r, "--config", "empty value", NULL);
	cli_done(&r);

	cli_parse(&r, "--json=yes", "health", NULL);
	cli_fails_with(&r, "option '--json' takes no value", NULL);
	cli_done(&r);
}

Test(cli, argument_counts_and_choices)
{
	struct cli_run r;

	cli_parse(&r, "breaker", "reset", NULL);
	cli_fails_with(&r, "mercuryctl breaker reset:", "missing argument NAME",
		       NULL);
	cli_done(&r);

	cli_parse(&r, "breaker", "reset", "a", "b", NULL);
	cli_fails_with(&r, "unexpected argument 'b'", NULL);
	cli_done(&r);

	cli_parse(&r, "version", "extra", NULL);
	cli_fails_with(&r, "mercuryctl version:", "unexpected argument 'extra'",
		       NULL);
	cli_done(&r);

	cli_parse(&r, "history", "x", NULL);
	cli_fails_with(&r, "unexpected argument 'x'", NULL);
	cli_done(&r);

	cli_parse(&r, "config", "check", "x", NULL);
	cli_fails_with(&r, "mercuryctl config check:", "unexpected argument 'x'",
		       NULL);
	cli_done(&r);

	cli_parse(&r, "completion", NULL);
	cli_fails_with(&r, "missing argument SHELL", NULL);
	cli_done(&r);

	cli_parse(&r, "completion", "tcsh", NULL);
	cli_fails_with(&r, "'tcsh' is not one of bash|zsh|fish", NULL);
	cli_done(&r);

	cli_parse(&r, "completion", "bash", "zsh", NULL);
	cli_fails_with(&r, "unexpected argument 'zsh'", NULL);
	cli_done(&r);

	{
		static const char *const shells[] = { "bash", "zsh", "fish" };

		for (size_t i = 0; i < MC_ARRAY_LEN(shells); i++) {
			cli_parse(&r, "completion", shells[i], NULL);
			free(cli_ok(&r));
			cr_assert_eq(r.a.n_pos, 1);
			cr_assert_str_eq(r.a.pos[0], shells[i]);
			cli_done(&r);
		}
	}

	cli_parse(&r, "health", "a", "b", "c", NULL);
	free(cli_ok(&r));
	cr_assert_eq(r.a.n_pos, 3);
	cli_done(&r);
}

Test(cli, command_needed)
{
	struct cli_run r;

	cli_parse(&r, NULL);
	cr_assert_eq(r.rc, -1);
	cr_assert_eq(r.e.code, MC_EXIT_USAGE);
	cr_assert_not_null(strstr(r.e.msg, "a command is needed"), "%s",
			   r.e.msg);
	cli_done(&r);

	cli_parse(&r, "--json", "-v", NULL);
	cr_assert_eq(r.rc, -1);
	cr_assert_not_null(strstr(r.e.msg, "a command is needed"), "%s",
			   r.e.msg);
	cli_done(&r);

	cli_parse(&r, "config", NULL);
	cli_fails_with(&r, "mercuryctl config:", "a subcommand is needed",
		       "mercuryctl config --help", NULL);
	cli_done(&r);

	cli_parse(&r, "breaker", "--json", NULL);
	cli_fails_with(&r, "mercuryctl breaker:", "a subcommand is needed", NULL);
	cli_done(&r);
}

Test(cli, help_accepted_at_every_level)
{
	const char *const *const cases[] = {
		(const char *const[]){ "--help", NULL },
		(const char *const[]){ "-h", NULL },
		(const char *const[]){ "health", "--help", NULL },
		(const char *const[]){ "history", "-h", NULL },
		(const char *const[]){ "breaker", "--help", NULL },
		(const char *const[]){ "breaker", "reset", "--help", NULL },
		(const char *const[]){ "breaker", "reset", "-h", NULL },
		(const char *const[]){ "breaker", "list", "--help", NULL },
		(const char *const[]){ "config", "-h", NULL },
		(const char *const[]){ "config", "check", "--help", NULL },
		(const char *const[]){ "config", "show", "--help", NULL },
		(const char *const[]){ "completion", "--help", NULL },
		(const char *const[]){ "version", "--help", NULL },
		(const char *const[]){ "-vh", NULL },
	};
	static const char *const want[] = {
		"", "", "health", "history", "breaker", "breaker reset",
		"breaker reset", "breaker list", "config", "config check",
		"config show", "completion", "version", "",
	};

	for (size_t i = 0; i < MC_ARRAY_LEN(cases); i++) {
		struct cli_run r;
		const char *const *w = cases[i];
		char *name;

		memset(&r, 0, sizeof(r));
		r.argv[r.argc++] = mc_strdup("mercuryctl");
		for (; *w; w++)
			r.argv[r.argc++] = mc_strdup(*w);
		r.rc = mc_cli_parse(&mc_cmd_root, r.argc, r.argv, &r.a, &r.e);
		cr_assert_eq(r.rc, 0, "case %zu: %s", i, r.e.msg);
		cr_assert_eq(r.a.help, 1, "case %zu", i);
		name = mc_args_command_name(&r.a);
		cr_assert_str_eq(name, want[i], "case %zu", i);
		free(name);
		cli_done(&r);
	}
}

Test(cli, version_flag_without_command)
{
	struct cli_run r;

	cli_parse(&r, "--version", NULL);
	cr_assert_eq(r.rc, 0, "%s", r.e.msg);
	cr_assert_eq(mc_args_count(&r.a, "version"), 1);
	cr_assert_eq(r.a.cmd, &mc_cmd_root);
	cli_done(&r);
}

Test(cli, args_lookups_and_free)
{
	struct cli_run r;
	size_t n = 99;

	cli_parse(&r, "health", NULL);
	free(cli_ok(&r));
	cr_assert_eq(mc_args_count(&r.a, "json"), 0);
	cr_assert_null(mc_args_value(&r.a, "output"));
	cr_assert_null(mc_args_values(&r.a, "output", &n));
	cr_assert_eq(n, 0);
	cr_assert_eq(mc_args_count(&r.a, "no-such-option"), 0);
	mc_args_release(&r.a);		/* twice is harmless */
	cli_done(&r);
}

/* ---- a table of our own: lists, secrets, hidden options ------------------ */

static int cli_dummy_run(struct mc_ctx *ctx)
{
	(void)ctx;
	return 0;
}

static const struct mc_opt cli_t_global[] = {
	{ 'h', "help", NULL, MC_OPT_FLAG, MC_ARG_STRING, NULL, "Show help", 0 },
	{ 0, "json", NULL, MC_OPT_FLAG, MC_ARG_STRING, NULL, "JSON output", 0 },
	{ 0 },
};

static const struct mc_opt cli_t_opts[] = {
	{ 't', "token", "TOKEN", MC_OPT_VALUE, MC_ARG_STRING, NULL,
	  "API token", MC_OPTF_SECRET },
	{ 'l', "label", "LABEL", MC_OPT_LIST, MC_ARG_STRING, NULL,
	  "Add a label", 0 },
	{ 0, "debug-internals", NULL, MC_OPT_FLAG, MC_ARG_STRING, NULL,
	  "Dump internal state", MC_OPTF_HIDDEN },
	{ 0 },
};

static const struct mc_cmd cli_t_run = {
	.name = "run",
	.summary = "Run the thing",
	.args = "[TARGET...]",
	.opts = cli_t_opts,
	.max_args = -1,
	.run = cli_dummy_run,
};

static const struct mc_cmd *const cli_t_subs[] = { &cli_t_run, NULL };

static const struct mc_cmd cli_t_root = {
	.name = "mercuryctl",
	.summary = "Test root",
	.opts = cli_t_global,
	.subs = cli_t_subs,
	.max_args = -1,
};

Test(cli, list_option_keeps_every_value)
{
	struct cli_run r;
	const char *const *v;
	size_t n = 0;
	char *help;
	const struct mc_cmd *path[] = { &cli_t_root, &cli_t_run };

	cli_parse_root(&r, &cli_t_root, "run", "-l", "a", "--label=b", "-lc",
		       "--label", "d", "x", NULL);
	cr_assert_eq(r.rc, 0, "%s", r.e.msg);
	v = mc_args_values(&r.a, "label", &n);
	cr_assert_eq(n, 4);
	cr_assert_str_eq(v[0], "a");
	cr_assert_str_eq(v[1], "b");
	cr_assert_str_eq(v[2], "c");
	cr_assert_str_eq(v[3], "d");
	cr_assert_str_eq(mc_args_value(&r.a, "label"), "d");
	cr_assert_eq(mc_args_count(&r.a, "label"), 4);
	cr_assert_eq(r.a.n_pos, 1);
	cr_assert_str_eq(r.a.pos[0], "x");
	cli_done(&r);

	help = help_of(&cli_t_root, path, 2);
	cr_assert_not_null(strstr(help, "usage: mercuryctl run [--token TOKEN] "
				  "[--label LABEL]... [TARGET...]\n"), "%s", help);
	free(help);
}

Test(cli, hidden_option_parsed_not_shown)
{
	struct cli_run r;
	const struct mc_cmd *path[] = { &cli_t_root, &cli_t_run };
	static const char *const shells[] = { "bash", "zsh", "fish" };
	char *s;
	int rc;

	cli_parse_root(&r, &cli_t_root, "run", "--debug-internals", NULL);
	cr_assert_eq(r.rc, 0, "%s", r.e.msg);
	cr_assert_eq(mc_args_count(&r.a, "debug-internals"), 1);
	cli_done(&r);

	s = help_of(&cli_t_root, path, 2);
	cr_assert_null(strstr(s, "debug-internals"), "%s", s);
	cr_assert_not_null(strstr(s, "--label LABEL"), "%s", s);
	free(s);
	for (size_t i = 0; i < MC_ARRAY_LEN(shells); i++) {
		s = completion_of(&cli_t_root, shells[i], &rc);
		cr_assert_eq(rc, 0);
		cr_assert_null(strstr(s, "debug-internals"), "%s: %s", shells[i],
			       s);
		cr_assert_not_null(strstr(s, "label"), "%s", shells[i]);
		free(s);
	}
	s = man_of(&cli_t_root, &cli_t_run);
	cr_assert_null(strstr(s, "debug\\-internals"), "%s", s);
	cr_assert_not_null(strstr(s, "\\-\\-label"), "%s", s);
	free(s);
}

/* An MC_OPTF_SECRET value reads back whole from mc_args after it has been
 * wiped from argv, in all three forms (--token V, --token=V, -t V). */
Test(cli, secret_option_value_survives_wiping)
{
	struct cli_run r;
	const char *v;

	cli_parse_root(&r, &cli_t_root, "run", "--token", "s3cr3t-value", NULL);
	cr_assert_eq(r.rc, 0, "%s", r.e.msg);
	v = mc_args_value(&r.a, "token");
	cr_expect(v != NULL && strcmp(v, "s3cr3t-value") == 0,
		  "--token VALUE reads back as '%s'", v ? v : "(null)");
	cr_expect_null(strstr(r.argv[3], "s3cr3t"), "argv keeps '%s'",
		       r.argv[3]);
	cli_done(&r);

	cli_parse_root(&r, &cli_t_root, "run", "--token=s3cr3t-value", NULL);
	cr_assert_eq(r.rc, 0, "%s", r.e.msg);
	v = mc_args_value(&r.a, "token");
	cr_expect(v != NULL && strcmp(v, "s3cr3t-value") == 0,
		  "--token=VALUE reads back as '%s'", v ? v : "(null)");
	cr_expect_null(strstr(r.argv[2], "s3cr3t"), "argv keeps '%s'",
		       r.argv[2]);
	cli_done(&r);

	cli_parse_root(&r, &cli_t_root, "run", "-t", "s3cr3t-value", NULL);
	cr_assert_eq(r.rc, 0, "%s", r.e.msg);
	v = mc_args_value(&r.a, "token");
	cr_expect(v != NULL && strcmp(v, "s3cr3t-value") == 0,
		  "-t VALUE reads back as '%s'", v ? v : "(null)");
	cr_expect_null(strstr(r.argv[3], "s3cr3t"), "argv keeps '%s'",
		       r.argv[3]);
	cli_done(&r);
}

/* ---- the table's invariants --------------------------------------------- */

Test(cli, table_invariants)
{
	struct cli_path paths[64];
	size_t n = all_paths(paths, MC_ARRAY_LEN(paths));

	cr_assert_gt(n, 6, "the walk found only %zu commands", n);
	for (size_t p = 0; p < n; p++) {
		const struct cli_path *cp = &paths[p];
		const struct mc_cmd *cmd = cp->path[cp->depth - 1];

		cr_assert_not_null(cmd->name, "%s", cp->key);
		cr_assert(cmd->name[0] != '\0' && !strchr(cmd->name, ' ') &&
			  cmd->name[0] != '-', "bad name in %s", cp->key);
		cr_assert_not_null(cmd->summary, "%s has no summary", cp->key);
		cr_assert(cmd->summary[0] != '\0', "%s: empty summary", cp->key);
		cr_assert_not(ends_with_dot(cmd->summary),
			      "%s: summary ends with '.': %s", cp->key,
			      cmd->summary);
		cr_assert_null(strchr(cmd->summary, '\n'), "%s", cp->key);

		/* Runnable, or a group of subcommands; never neither. */
		if (cp->depth > 1)
			cr_assert(cmd->run != NULL || (cmd->subs && cmd->subs[0]),
				  "%s has neither run nor subcommands",
				  cp->key);
		if (cmd->subs == NULL || cmd->subs[0] == NULL)
			cr_assert_not_null(cmd->run, "leaf %s cannot run",
					   cp->key);
		/* Siblings have distinct names. */
		for (size_t i = 0; cmd->subs && cmd->subs[i]; i++)
			for (size_t j = i + 1; cmd->subs[j]; j++)
				cr_assert_str_neq(cmd->subs[i]->name,
						  cmd->subs[j]->name,
						  "%s: two subcommands named %s",
						  cp->key, cmd->subs[i]->name);
		/* The positional synopsis matches the counts. */
		if (cmd->run && cp->depth > 1) {
			cr_assert(cmd->max_args < 0 ||
				  cmd->min_args <= cmd->max_args, "%s",
				  cp->key);
			cr_assert_eq(cmd->args != NULL, cmd->max_args != 0,
				     "%s: args '%s' but max_args %d", cp->key,
				     cmd->args ? cmd->args : "(null)",
				     cmd->max_args);
		}

		for (size_t i = 0; cmd->opts && cmd->opts[i].long_name; i++) {
			const struct mc_opt *o = &cmd->opts[i];
			int value = o->kind == MC_OPT_VALUE ||
				    o->kind == MC_OPT_LIST;

			cr_assert(o->long_name[0] != '\0' &&
				  o->long_name[0] != '-' &&
				  !strchr(o->long_name, '=') &&
				  !strchr(o->long_name, ' '),
				  "%s: bad option name '%s'", cp->key,
				  o->long_name);
			cr_assert_not_null(o->help, "%s --%s has no help",
					   cp->key, o->long_name);
			cr_assert(o->help[0] != '\0', "%s --%s: empty help",
				  cp->key, o->long_name);
			cr_assert_not(ends_with_dot(o->help),
				      "%s --%s: help ends with '.'", cp->key,
				      o->long_name);
			cr_assert_eq(o->arg != NULL, value,
				     "%s --%s: arg name and kind disagree",
				     cp->key, o->long_name);
			if (o->type == MC_ARG_ENUM)
				cr_assert(o->choices && o->choices[0],
					  "%s --%s: enum without choices",
					  cp->key, o->long_name);
			/* Every number option states its range, so the parser
			 * refuses what the command would ignore or misread
			 * (history -n 0 read as "all"). */
			if (o->type == MC_ARG_INT) {
				long long lo, hi;

				cr_assert(o->choices && sscanf(o->choices,
					  "%lld..%lld", &lo, &hi) == 2 &&
					  lo <= hi, "%s --%s: number option "
					  "without a MIN..MAX range", cp->key,
					  o->long_name);
			}
			if (o->short_name)
				cr_assert(o->short_name != '-' &&
					  o->short_name > ' ',
					  "%s --%s: bad short name", cp->key,
					  o->long_name);

			/* No clash with any option on the path (the globals
			 * included), nor within the command itself. */
			for (size_t d = 0; d < cp->depth; d++) {
				const struct mc_opt *q = cp->path[d]->opts;

				for (size_t k = 0; q && q[k].long_name; k++) {
					if (&q[k] == o)
						continue;
					cr_assert_str_neq(q[k].long_name,
							  o->long_name,
							  "%s: --%s defined twice on its path",
							  cp->key, o->long_name);
					if (o->short_name)
						cr_assert_neq(q[k].short_name,
							      o->short_name,
							      "%s: -%c used by --%s and --%s",
							      cp->key, o->short_name,
							      o->long_name,
							      q[k].long_name);
				}
			}
		}
	}
}

Test(cli, table_has_the_documented_commands)
{
	static const char *const keys[] = {
		"mercuryctl", "mercuryctl health", "mercuryctl history",
		"mercuryctl breaker", "mercuryctl breaker list",
		"mercuryctl breaker reset", "mercuryctl config",
		"mercuryctl config check", "mercuryctl config show",
		"mercuryctl completion", "mercuryctl version",
	};
	struct cli_path paths[64];
	size_t n = all_paths(paths, MC_ARRAY_LEN(paths));

	for (size_t k = 0; k < MC_ARRAY_LEN(keys); k++) {
		int found = 0;

		for (size_t p = 0; p < n; p++)
			found |= strcmp(paths[p].key, keys[k]) == 0;
		cr_assert(found, "no command %s in the table", keys[k]);
	}
	/* Every global option the product documents. */
	{
		static const char *const globals[] = {
			"config", "state", "output", "json", "quiet", "verbose",
			"log-format", "timeout", "correlation-id",
			"textfile-dir", "pushgateway", "wait-lock", "no-color",
			"help", "version",
		};

		for (size_t g = 0; g < MC_ARRAY_LEN(globals); g++) {
			int found = 0;

			for (size_t i = 0; mc_cmd_root.opts[i].long_name; i++)
				found |= strcmp(mc_cmd_root.opts[i].long_name,
						globals[g]) == 0;
			cr_assert(found, "no global --%s", globals[g]);
		}
	}
}

/* ---- help --------------------------------------------------------------- */

/* "  -c, --config FILE" or "      --json" as the help prints an option. */
static void help_left(char *buf, size_t size, const struct mc_opt *o)
{
	if (o->short_name)
		snprintf(buf, size, "  -%c, --%s%s%s", o->short_name,
			 o->long_name, o->arg ? " " : "", o->arg ? o->arg : "");
	else
		snprintf(buf, size, "      --%s%s%s", o->long_name,
			 o->arg ? " " : "", o->arg ? o->arg : "");
}

static void expect_opts_in_help(const char *help, const struct mc_opt *o)
{
	for (size_t i = 0; o && o[i].long_name; i++) {
		char left[128];

		if (o[i].flags & MC_OPTF_HIDDEN)
			continue;
		help_left(left, sizeof(left), &o[i]);
		cr_assert_not_null(strstr(help, left), "help lacks '%s':\n%s",
				   left, help);
		cr_assert_not_null(strstr(help, o[i].help), "help lacks '%s'",
				   o[i].help);
	}
}

Test(cli, help_for_health)
{
	const struct mc_cmd *path[] = { &mc_cmd_root, &mc_cmd_health };
	char *s = help_of(&mc_cmd_root, path, 2);

	cr_assert(starts_with(s, "usage: mercuryctl health [--critical-only] "
			      "[--notify] [--watch INTERVAL] "
			      "[--watch-degraded INTERVAL] "
			      "[CHECK...]\n"), "%s", s);
	cr_assert_not_null(strstr(s, "\nRun the configured health checks and "
				  "report their status.\n"), "%s", s);
	cr_assert_not_null(strstr(s, "\nOptions:\n"), "%s", s);
	expect_opts_in_help(s, mc_cmd_health.opts);
	/* Its own options only; the global ones are in mercuryctl --help. */
	cr_assert_null(strstr(s, "\nGlobal options:\n"), "%s", s);
	cr_assert_null(strstr(s, "--pushgateway"), "%s", s);
	cr_assert_not_null(strstr(s, "see 'mercuryctl --help'"), "%s", s);
	cr_assert_not_null(strstr(s, "See mercuryctl-health(1)."), "%s", s);
	free(s);
}

Test(cli, help_for_every_command)
{
	struct cli_path paths[64];
	size_t n = all_paths(paths, MC_ARRAY_LEN(paths));

	for (size_t p = 0; p < n; p++) {
		const struct cli_path *cp = &paths[p];
		const struct mc_cmd *cmd = cp->path[cp->depth - 1];
		char *s = help_of(&mc_cmd_root, cp->path, cp->depth);
		char want[256];

		/* The usage line names the command path, and ends with the
		 * positional synopsis. */
		snprintf(want, sizeof(want), "usage: %s", cp->key);
		cr_assert(starts_with(s, want), "%s", s);
		if (cmd->args) {
			size_t ul = strcspn(s, "\n"), al = strlen(cmd->args);

			cr_assert(ul > al && s[ul - al - 1] == ' ' &&
				  strncmp(s + ul - al, cmd->args, al) == 0,
				  "usage of %s does not end in %s: %s", cp->key,
				  cmd->args, s);
		}
		snprintf(want, sizeof(want), "\n%s.\n", cmd->summary);
		cr_assert_not_null(strstr(s, want), "%s lacks its summary", cp->key);
		if (cp->depth > 1) {
			expect_opts_in_help(s, cmd->opts);
			cr_assert_not_null(strstr(s, "see 'mercuryctl --help'"),
					   "%s", cp->key);
		} else {
			expect_opts_in_help(s, mc_cmd_root.opts);
		}
		cr_assert_eq(strstr(s, "\nGlobal options:\n") != NULL,
			     cp->depth == 1, "%s", cp->key);
		/* Subcommands listed with their summaries. */
		for (size_t i = 0; cmd->subs && cmd->subs[i]; i++) {
			snprintf(want, sizeof(want), "  %-28s%s\n",
				 cmd->subs[i]->name, cmd->subs[i]->summary);
			cr_assert_not_null(strstr(s, want), "%s lacks '%s'",
					   cp->key, want);
		}
		free(s);
	}
}

/* Collapses runs of white space to one blank (caller frees). */
static char *squash(const char *s, size_t n)
{
	struct mc_buf b = { 0 };
	int space = 0;

	mc_buf_puts(&b, "");
	for (size_t i = 0; i < n && s[i]; i++) {
		if (s[i] == ' ' || s[i] == '\n' || s[i] == '\t') {
			space = 1;
			continue;
		}
		if (space && b.len)
			mc_buf_add(&b, " ", 1);
		space = 0;
		mc_buf_add(&b, &s[i], 1);
	}
	return mc_buf_steal(&b);
}

Test(cli, help_wraps_the_description)
{
	struct cli_path paths[64];
	size_t n = all_paths(paths, MC_ARRAY_LEN(paths));

	for (size_t p = 0; p < n; p++) {
		const struct cli_path *cp = &paths[p];
		const struct mc_cmd *cmd = cp->path[cp->depth - 1];
		char *s, summary[256], *start, *end, *got, *want;

		if (cmd->description == NULL)
			continue;
		s = help_of(&mc_cmd_root, cp->path, cp->depth);
		snprintf(summary, sizeof(summary), "\n%s.\n", cmd->summary);
		start = strstr(s, summary);
		cr_assert_not_null(start);
		start += strlen(summary);
		/* The description ends where the first titled list begins,
		 * or at the pointer to the global options. */
		end = strstr(start, ":\n  ");
		{
			char *g = strstr(start, "\nGlobal options (");

			if (g && (end == NULL || g < end))
				end = g + 1;
		}
		cr_assert_not_null(end, "%s", s);
		while (end > start && end[-1] != '\n')
			end--;
		got = squash(start, (size_t)(end - start));
		want = squash(cmd->description, strlen(cmd->description));
		cr_assert_str_eq(got, want, "%s: description altered", cp->key);
		/* Wrapped at 78 columns, paragraphs kept apart. */
		for (char *l = start; l < end;) {
			char *nl = strchr(l, '\n');

			cr_assert((size_t)(nl - l) <= 78, "%s: line of %zu: %.*s",
				  cp->key, (size_t)(nl - l), (int)(nl - l), l);
			l = nl + 1;
		}
		if (strstr(cmd->description, "\n\n"))
			cr_assert_not_null(strstr(start, "\n\n"), "%s", cp->key);
		free(got);
		free(want);
		free(s);
	}
}

Test(cli, help_for_root_and_groups)
{
	const struct mc_cmd *root_path[] = { &mc_cmd_root };
	const struct mc_cmd *breaker_path[] = { &mc_cmd_root, &mc_cmd_breaker };
	char *s = help_of(&mc_cmd_root, root_path, 1);

	cr_assert(starts_with(s, "usage: mercuryctl [OPTIONS] COMMAND [ARGS]\n"),
		  "%s", s);
	cr_assert_not_null(strstr(s, "\nCommands:\n"), "%s", s);
	cr_assert_null(strstr(s, "\nOptions:\n"), "globals listed twice:\n%s", s);
	for (size_t i = 0; mc_cmd_root.subs[i]; i++)
		cr_assert_not_null(strstr(s, mc_cmd_root.subs[i]->summary), "%s",
				   mc_cmd_root.subs[i]->name);
	free(s);

	s = help_of(&mc_cmd_root, breaker_path, 2);
	cr_assert(starts_with(s, "usage: mercuryctl breaker COMMAND\n"), "%s", s);
	cr_assert_not_null(strstr(s, "\nSubcommands:\n"), "%s", s);
	free(s);
}

/* A name as wide as the left column, or wider, does not run into its
 * text: the text then starts on the next line, at the same column as
 * every other entry's. */
static const struct mc_opt cli_w_opts[] = {
	{ 0, "a-rather-long-option-name", "VALUE", MC_OPT_VALUE, MC_ARG_STRING,
	  NULL, "Long option", 0 },
	{ 'q', "quick", NULL, MC_OPT_FLAG, MC_ARG_STRING, NULL, "Short option",
	  0 },
	{ 0 },
};

static const struct mc_cmd cli_w_long = {
	.name = "a-subcommand-28-columns-wide",
	.summary = "Long name",
	.opts = cli_w_opts,
	.run = cli_dummy_run,
};

static const struct mc_cmd cli_w_short = {
	.name = "go",
	.summary = "Short name",
	.run = cli_dummy_run,
};

static const struct mc_cmd *const cli_w_subs[] = {
	&cli_w_long, &cli_w_short, NULL,
};

static const struct mc_cmd cli_w_group = {
	.name = "group",
	.summary = "A group",
	.subs = cli_w_subs,
};

Test(cli, help_long_names_keep_the_column)
{
	const struct mc_cmd *group[] = { &cli_t_root, &cli_w_group };
	const struct mc_cmd *sub[] = { &cli_t_root, &cli_w_group, &cli_w_long };
	char *s = help_of(&cli_t_root, group, 2);

	cr_assert_eq(strlen(cli_w_long.name), 28);
	cr_assert_not_null(strstr(s, "\n  a-subcommand-28-columns-wide\n"
				  "                              Long name\n"),
			   "%s", s);
	cr_assert_not_null(strstr(s, "\n  go                          "
				  "Short name\n"), "%s", s);
	free(s);
	s = help_of(&cli_t_root, sub, 3);
	cr_assert_not_null(strstr(s, "\n      --a-rather-long-option-name VALUE\n"
				  "                              Long option\n"),
			   "%s", s);
	cr_assert_not_null(strstr(s, "\n  -q, --quick                 "
				  "Short option\n"), "%s", s);
	free(s);
}

/* ---- completions -------------------------------------------------------- */

/* The line of s that starts with prefix, up to its end (caller frees), or
 * NULL. */
static char *line_starting(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	for (const char *l = s; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, prefix, n) == 0)
			return mc_strndup(l, strcspn(l, "\n"));
	return NULL;
}

/* word occurs in s delimited by start/end, blank, quote or newline. */
static int has_word(const char *s, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = s; (p = strstr(p, word)) != NULL; p++) {
		char before = p == s ? ' ' : p[-1], after = p[n];

		if (strchr(" \"'\n:", before) && strchr(" \"'\n:", after))
			return 1;
	}
	return 0;
}

Test(cli, completion_bash)
{
	struct cli_path paths[64];
	size_t n = all_paths(paths, MC_ARRAY_LEN(paths));
	int rc;
	char *s = completion_of(&mc_cmd_root, "bash", &rc);

	cr_assert_eq(rc, 0);
	cr_assert_not_null(strstr(s, "complete -F _mercuryctl mercuryctl\n"));
	for (size_t p = 0; p < n; p++) {
		const struct cli_path *cp = &paths[p];
		const struct mc_cmd *cmd = cp->path[cp->depth - 1];
		char prefix[192], *words, *opts;

		snprintf(prefix, sizeof(prefix), "_mercuryctl_words[\"%s\"]=\"",
			 cp->key);
		words = line_starting(s, prefix);
		cr_assert_not_null(words, "bash lacks %s", prefix);
		for (size_t i = 0; cmd->subs && cmd->subs[i]; i++)
			cr_assert(has_word(words + strlen(prefix) - 1,
					   cmd->subs[i]->name), "%s lacks %s",
				  words, cmd->subs[i]->name);
		snprintf(prefix, sizeof(prefix), "_mercuryctl_opts[\"%s\"]=\"",
			 cp->key);
		opts = line_starting(s, prefix);
		cr_assert_not_null(opts, "bash lacks %s", prefix);
		for (size_t i = 0; cmd->opts && cmd->opts[i].long_name; i++) {
			char w[64];

			snprintf(w, sizeof(w), "--%s", cmd->opts[i].long_name);
			cr_assert(has_word(opts + strlen(prefix) - 1, w),
				  "%s lacks %s", opts, w);
			if (cmd->opts[i].short_name) {
				snprintf(w, sizeof(w), "-%c",
					 cmd->opts[i].short_name);
				cr_assert(has_word(opts + strlen(prefix) - 1, w),
					  "%s lacks %s", opts, w);
			}
		}
		free(words);
		free(opts);
	}
	/* Values: choices, files, directories. */
	cr_assert_not_null(strstr(s, "_mercuryctl_values[\"--output\"]=\"text json prom nagios\"\n"), "%s", s);
	cr_assert_not_null(strstr(s, "_mercuryctl_values[\"-o\"]=\"text json prom nagios\"\n"));
	cr_assert_not_null(strstr(s, "_mercuryctl_values[\"--config\"]=\"@file\"\n"));
	cr_assert_not_null(strstr(s, "_mercuryctl_values[\"--textfile-dir\"]=\"@dir\"\n"));
	cr_assert_not_null(strstr(s, "_mercuryctl_values[\"--timeout\"]=\"@none\"\n"));
	cr_assert_not_null(strstr(s, "_mercuryctl_words[\"mercuryctl completion\"]=\"bash zsh fish\"\n"));
	/* Flags take no value: no entry that would swallow the next word. */
	cr_assert_null(strstr(s, "_mercuryctl_values[\"--json\"]"));
	cr_assert_null(strstr(s, "_mercuryctl_values[\"-q\"]"));
	free(s);
}

/* s as it appears inside a zsh single-quoted string (caller frees). */
static char *zsh_quoted(const char *s)
{
	struct mc_buf b = { 0 };

	mc_buf_puts(&b, "");
	for (; *s; s++) {
		if (*s == '\'')
			mc_buf_puts(&b, "'\\''");
		else
			mc_buf_add(&b, s, 1);
	}
	return mc_buf_steal(&b);
}

Test(cli, completion_zsh_and_fish)
{
	struct cli_path paths[64];
	size_t n = all_paths(paths, MC_ARRAY_LEN(paths));
	int rc;
	char *zsh = completion_of(&mc_cmd_root, "zsh", &rc);
	char *fish, *fish_paths;

	cr_assert_eq(rc, 0);
	fish = completion_of(&mc_cmd_root, "fish", &rc);
	cr_assert_eq(rc, 0);
	fish_paths = line_starting(fish, "set -g __mercuryctl_paths");
	cr_assert_not_null(fish_paths);
	cr_assert(starts_with(zsh, "#compdef mercuryctl\n"));
	for (size_t p = 0; p < n; p++) {
		const struct cli_path *cp = &paths[p];
		const struct mc_cmd *cmd = cp->path[cp->depth - 1];
		char w[256];

		snprintf(w, sizeof(w), "_mercuryctl_words+=('%s' '", cp->key);
		cr_assert_not_null(strstr(zsh, w), "zsh lacks %s", w);
		snprintf(w, sizeof(w), "_mercuryctl_opts+=('%s' '", cp->key);
		cr_assert_not_null(strstr(zsh, w), "zsh lacks %s", w);
		snprintf(w, sizeof(w), " '%s'", cp->key);
		cr_assert_not_null(strstr(fish_paths, w), "fish paths lack %s",
				   w);
		for (size_t i = 0; cmd->subs && cmd->subs[i]; i++) {
			char *q = zsh_quoted(cmd->subs[i]->summary);

			snprintf(w, sizeof(w), "%s:%s", cmd->subs[i]->name, q);
			free(q);
			cr_assert_not_null(strstr(zsh, w), "zsh lacks %s", w);
			snprintf(w, sizeof(w),
				 "complete -c mercuryctl -n '__mercuryctl_at \"%s\"' -f -a %s -d ",
				 cp->key, cmd->subs[i]->name);
			cr_assert_not_null(strstr(fish, w), "fish lacks %s", w);
		}
		for (size_t i = 0; cmd->opts && cmd->opts[i].long_name; i++) {
			char *q = zsh_quoted(cmd->opts[i].help);

			snprintf(w, sizeof(w), "--%s:%s", cmd->opts[i].long_name, q);
			free(q);
			cr_assert_not_null(strstr(zsh, w), "zsh lacks %s", w);
			snprintf(w, sizeof(w), " -l %s", cmd->opts[i].long_name);
			cr_assert_not_null(strstr(fish, w), "fish lacks %s", w);
		}
	}
	cr_assert_not_null(strstr(fish, "complete -c mercuryctl -s o -l output -x -a 'text json prom nagios'"), "%s", fish);
	cr_assert_not_null(strstr(fish, "-l config -r -F"), "%s", fish);
	cr_assert_not_null(strstr(fish, "complete -c mercuryctl -n '__mercuryctl_at \"mercuryctl health\"' -l critical-only -d "), "%s", fish);
	free(fish_paths);
	free(zsh);
	free(fish);
}

/* Walks a shell script's quoting (POSIX: '...' literal, "..." with \
 * escapes, \ outside; fish: \' and \\ escape inside '...' too) and checks
 * that every line starting with prefix starts outside any quote, and that
 * the script ends outside quotes. Returns the number of such lines. */
static int quoting_ok(const char *script, const char *prefix, int fish,
		      const char *what)
{
	enum { OUT, SQ, DQ } st = OUT;
	int lines = 0;

	for (const char *p = script; *p; p++) {
		if (p == script || p[-1] == '\n') {
			if (starts_with(p, prefix)) {
				cr_assert_eq(st, OUT, "%s: line starts inside a "
					     "quote: %.*s", what,
					     (int)strcspn(p, "\n"), p);
				lines++;
			}
		}
		switch (st) {
		case OUT:
			if (*p == '\\' && p[1])
				p++;
			else if (*p == '\'')
				st = SQ;
			else if (*p == '"')
				st = DQ;
			else if (*p == '#' && (p == script || p[-1] == '\n'))
				p += strcspn(p, "\n") - 1;	/* comment */
			break;
		case SQ:
			if (fish && *p == '\\' && (p[1] == '\'' || p[1] == '\\'))
				p++;
			else if (*p == '\'')
				st = OUT;
			break;
		case DQ:
			if (*p == '\\' && p[1])
				p++;
			else if (*p == '"')
				st = OUT;
			break;
		}
	}
	cr_assert_eq(st, OUT, "%s ends inside a quote", what);
	return lines;
}

Test(cli, completion_scripts_quote_balanced)
{
	struct cli_path paths[64];
	size_t n = all_paths(paths, MC_ARRAY_LEN(paths));
	int rc, lines;
	char *s;

	s = completion_of(&mc_cmd_root, "bash", &rc);
	lines = quoting_ok(s, "_mercuryctl_", 0, "bash");
	cr_assert_geq(lines, (int)(2 * n), "bash: %d table lines", lines);
	free(s);
	s = completion_of(&mc_cmd_root, "zsh", &rc);
	lines = quoting_ok(s, "_mercuryctl_", 0, "zsh");
	cr_assert_geq(lines, (int)(2 * n), "zsh: %d table lines", lines);
	free(s);
	s = completion_of(&mc_cmd_root, "fish", &rc);
	lines = quoting_ok(s, "complete ", 1, "fish");
	cr_assert_gt(lines, (int)n, "fish: %d complete lines", lines);
	free(s);
}

Test(cli, completion_fish_paths_line_is_one)
{
	int rc;
	char *fish = completion_of(&mc_cmd_root, "fish", &rc);
	char *paths = line_starting(fish, "set -g __mercuryctl_paths");
	char *valopts = line_starting(fish, "set -g __mercuryctl_valopts");

	cr_assert_eq(rc, 0);
	cr_assert_not_null(paths);
	cr_assert_not_null(valopts);
	cr_assert_not_null(strstr(paths, " 'mercuryctl breaker reset'"), "%s",
			   paths);
	/* Options that take a value, so that the path walk skips it. */
	cr_assert(has_word(valopts, "--output") && has_word(valopts, "-o") &&
		  has_word(valopts, "--limit") && has_word(valopts, "-n"), "%s",
		  valopts);
	cr_assert(!has_word(valopts, "--json") && !has_word(valopts, "-q"),
		  "%s", valopts);
	free(paths);
	free(valopts);
	free(fish);
}

Test(cli, completion_unknown_shell)
{
	int rc;
	char *s = completion_of(&mc_cmd_root, "tcsh", &rc);

	cr_assert_eq(rc, -1);
	cr_assert(s == NULL || s[0] == '\0', "wrote '%s'", s);
	free(s);
	s = completion_of(&mc_cmd_root, "", &rc);
	cr_assert_eq(rc, -1);
	free(s);
}

/* ---- man pages ---------------------------------------------------------- */

Test(cli, roff_escape)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "plain text", "plain text" },
		{ "--critical-only", "\\-\\-critical\\-only" },
		{ ".starts with a dot", "\\&.starts with a dot" },
		{ "'starts with a quote", "\\&'starts with a quote" },
		{ "mid.dle and mid'dle", "mid.dle and mid'dle" },
		{ "a\n.b\n'c", "a\n\\&.b\n\\&'c" },
		{ "back\\slash", "back\\eslash" },
		{ "", "" },
	};

	for (size_t i = 0; i < MC_ARRAY_LEN(cases); i++) {
		char *s = roff_escape_str(cases[i].in);

		cr_assert_str_eq(s, cases[i].out, "roff(\"%s\")", cases[i].in);
		free(s);
	}
}

/* Text lines (not requests) have every '-' escaped and no line starts with
 * a control character unless it is a request we write. */
static void expect_clean_roff(const char *page, const char *what)
{
	static const char *const requests[] = {
		".\\\"", ".TH ", ".SH ", ".SS ", ".PP", ".TP", ".nf", ".fi",
		".RS ", ".RE",
	};

	for (const char *l = page; *l;) {
		size_t len = strcspn(l, "\n");

		if (*l == '.' || *l == '\'') {
			int known = 0;

			for (size_t i = 0; i < MC_ARRAY_LEN(requests); i++)
				known |= strncmp(l, requests[i],
						 strlen(requests[i])) == 0;
			cr_assert(known, "%s: unknown request line: %.*s", what,
				  (int)len, l);
		} else {
			for (size_t i = 0; i < len; i++)
				cr_assert(l[i] != '-' || (i > 0 && l[i - 1] == '\\'),
					  "%s: unescaped '-' in: %.*s", what,
					  (int)len, l);
		}
		if (*l == '.' && strncmp(l, ".SS ", 4) == 0)
			for (size_t i = 4; i < len; i++)
				cr_assert(l[i] != '-' || l[i - 1] == '\\',
					  "%s: %.*s", what, (int)len, l);
		l += len;
		if (*l == '\n')
			l++;
	}
}

/* The roff form of an option's head: \fB\-n\fR, \fB\-\-limit\fR */
static void man_head(char *buf, size_t size, const struct mc_opt *o)
{
	char *name = roff_escape_str(o->long_name);

	if (o->short_name)
		snprintf(buf, size, "\\fB\\-%c\\fR, \\fB\\-\\-%s\\fR",
			 o->short_name, name);
	else
		snprintf(buf, size, "\\fB\\-\\-%s\\fR", name);
	free(name);
}

static void expect_opts_in_man(const char *page, const struct mc_opt *o,
			       const char *what)
{
	for (size_t i = 0; o && o[i].long_name; i++) {
		char head[160];
		char *help;

		if (o[i].flags & MC_OPTF_HIDDEN)
			continue;
		man_head(head, sizeof(head), &o[i]);
		cr_assert_not_null(strstr(page, head), "%s lacks %s", what, head);
		help = roff_escape_str(o[i].help);
		cr_assert_not_null(strstr(page, help), "%s lacks %s", what, help);
		free(help);
	}
}

Test(cli, man_root)
{
	char *s = man_of(&mc_cmd_root, &mc_cmd_root);

	cr_assert_not_null(strstr(s, ".TH MERCURYCTL 1 \"2026-11-22\" "
				  "\"mercuryctl " MC_VERSION "\""), "%s", s);
	cr_assert_not_null(strstr(s, "\n.SH NAME\nmercuryctl \\- "), "%s", s);
	cr_assert_not_null(strstr(s, "\n.SH SYNOPSIS\n"), "%s", s);
	cr_assert_not_null(strstr(s, "\n.SH DESCRIPTION\n"), "%s", s);
	cr_assert_not_null(strstr(s, "\n.SH COMMANDS\n"), "%s", s);
	cr_assert_not_null(strstr(s, "\n.SH OPTIONS\n"), "%s", s);
	cr_assert_not_null(strstr(s, "mercuryctl [OPTIONS] COMMAND [ARGS]"), "%s",
			   s);
	for (size_t i = 0; mc_cmd_root.subs[i]; i++) {
		char want[128];
		char *name = roff_escape_str(mc_cmd_root.subs[i]->name);

		snprintf(want, sizeof(want), "\\fBmercuryctl\\-%s\\fR(1)\n", name);
		cr_assert_not_null(strstr(s, want), "root page lacks %s", want);
		free(name);
	}
	expect_opts_in_man(s, mc_cmd_root.opts, "root page");
	cr_assert_not_null(strstr(s, "\\fB\\-\\-log\\-format\\fR \\fIFORMAT\\fR"),
			   "%s", s);
	expect_clean_roff(s, "mercuryctl.1");
	free(s);
}

/* Options of cmd and of all its subcommands are on its page. */
static void expect_tree_opts(const char *page, const struct mc_cmd *cmd,
			     const char *what)
{
	expect_opts_in_man(page, cmd->opts, what);
	for (size_t i = 0; cmd->subs && cmd->subs[i]; i++)
		expect_tree_opts(page, cmd->subs[i], what);
}

Test(cli, man_every_command)
{
	struct cli_path paths[64];
	size_t n = all_paths(paths, MC_ARRAY_LEN(paths));

	for (size_t i = 0; mc_cmd_root.subs[i]; i++) {
		const struct mc_cmd *cmd = mc_cmd_root.subs[i];
		char *s = man_of(&mc_cmd_root, cmd), want[256], upper[64];
		size_t k;

		for (k = 0; cmd->name[k] && k + 1 < sizeof(upper); k++)
			upper[k] = (char)(cmd->name[k] >= 'a' && cmd->name[k] <= 'z'
					  ? cmd->name[k] - 32 : cmd->name[k]);
		upper[k] = '\0';
		snprintf(want, sizeof(want), ".TH MERCURYCTL\\-%s 1 ", upper);
		cr_assert_not_null(strstr(s, want), "%s lacks %s", cmd->name,
				   want);
		snprintf(want, sizeof(want), "\n.SH NAME\nmercuryctl\\-%s \\- ",
			 cmd->name);
		cr_assert_not_null(strstr(s, want), "%s lacks %s", cmd->name,
				   want);
		cr_assert_not_null(strstr(s, "\n.SH SYNOPSIS\n"), "%s", cmd->name);
		cr_assert_not_null(strstr(s, "\n.SH OPTIONS\n"), "%s", cmd->name);
		expect_tree_opts(s, cmd, cmd->name);
		/* A synopsis line for every runnable command of the page. */
		for (size_t p = 0; p < n; p++) {
			const struct cli_path *cp = &paths[p];
			char *key;

			if (cp->depth < 2 || cp->path[1] != cmd ||
			    cp->path[cp->depth - 1]->run == NULL)
				continue;
			key = roff_escape_str(cp->key);
			snprintf(want, sizeof(want), ".nf\n%s", key);
			cr_assert_not_null(strstr(s, want), "%s lacks synopsis %s",
					   cmd->name, key);
			free(key);
		}
		expect_clean_roff(s, cmd->name);
		free(s);
	}
}

Test(cli, man_health_options_escaped)
{
	char *s = man_of(&mc_cmd_root, &mc_cmd_health);

	cr_assert_not_null(strstr(s, "\\fB\\-\\-critical\\-only\\fR"), "%s", s);
	cr_assert_not_null(strstr(s, "mercuryctl health [\\-\\-critical\\-only] "
				  "[\\-\\-notify] [\\-\\-watch INTERVAL]"), "%s",
			   s);
	cr_assert_null(strstr(s, "--critical-only"), "unescaped:\n%s", s);
	free(s);

	s = man_of(&mc_cmd_root, &mc_cmd_history);
	cr_assert_not_null(strstr(s, "\\fB\\-n\\fR, \\fB\\-\\-limit\\fR \\fIN\\fR"),
			   "%s", s);
	free(s);
}

Test(cli, man_extra_appended)
{
	struct cli_mem m;
	char *s;

	mc_cli_man(mem_open(&m), &mc_cmd_root, &mc_cmd_version, "2026-01-02",
		   ".SH EXTRA\nverbatim \\- text\n");
	s = mem_close(&m);
	cr_assert_not_null(strstr(s, "\"2026-01-02\""), "%s", s);
	cr_assert_eq(strcmp(s + strlen(s) - strlen(".SH EXTRA\nverbatim \\- text\n"),
			    ".SH EXTRA\nverbatim \\- text\n"), 0, "%s", s);
	free(s);
}
