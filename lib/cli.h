/*
 * cli.h - the command table and everything derived from it.
 *
 * Every command, subcommand and option is declared once as data (struct
 * mc_cmd, struct mc_opt). From that one table come: argument parsing and
 * dispatch, --help on every level, the man pages' SYNOPSIS and OPTIONS, and
 * the bash, zsh and fish completions. tests/ checks that the committed man
 * pages and completions are exactly what the table generates.
 */
#ifndef MC_CLI_H
#define MC_CLI_H

#include <stdio.h>
#include "mc.h"

enum mc_opt_kind {
	MC_OPT_FLAG,	/* --x */
	MC_OPT_COUNT,	/* -v -v: counts */
	MC_OPT_VALUE,	/* --x VALUE; the last one wins */
	MC_OPT_LIST,	/* --x VALUE, repeatable; all kept */
};

/* What a VALUE is: checked at parse time, and used by the completions. */
enum mc_arg_type {
	MC_ARG_STRING,
	MC_ARG_DURATION,
	MC_ARG_INT,
	MC_ARG_ENUM,	/* one of .choices */
	MC_ARG_FILE,
	MC_ARG_DIR,
	MC_ARG_URL,
	MC_ARG_RATE,	/* N/s, N/m, N/h */
};

/* Option flags. */
#define MC_OPTF_SECRET	0x1	/* the value is kept in a private copy
				   and wiped from argv (as curl does), so
				   ps(1) shows it only for an instant */
#define MC_OPTF_HIDDEN	0x2	/* parsed, not shown */
#define MC_OPTF_REQUIRED 0x4	/* must be given (a usage error otherwise);
				   shown without brackets */

struct mc_opt {
	char short_name;		/* 0: none */
	const char *long_name;		/* without the dashes; NULL ends */
	const char *arg;		/* "DURATION"; NULL for flags */
	enum mc_opt_kind kind;
	enum mc_arg_type type;
	const char *choices;		/* MC_ARG_ENUM: "a|b|c"; MC_ARG_INT:
					   the range "MIN..MAX" (NULL: 0 to
					   10^12), a value outside it is a
					   usage error naming the option;
					   MC_ARG_DURATION: "positive" when 0
					   is refused (NULL: 0 allowed) */
	const char *help;
	unsigned flags;
};

/* What main() sets up before a command runs. */
#define MC_NEED_CONFIG	0x1	/* config loaded (and checked) */
#define MC_NEED_STATE	0x2	/* state file open, the run recorded */

struct mc_ctx;
struct mc_metric_owner;

struct mc_cmd {
	const char *name;
	const char *summary;		/* one line, no full stop */
	const char *args;		/* positional synopsis: "[CHECK...]" */
	const char *description;	/* paragraphs for --help and man */
	const struct mc_opt *opts;	/* ends with { .long_name = NULL } */
	const struct mc_cmd *const *subs;	/* NULL-terminated, or NULL */
	unsigned needs;
	int min_args;
	int max_args;			/* -1: no limit */
	int max_before_dashdash;	/* > 0: at most this many before "--"
					   (the rest, a command to run, only
					   after it) */
	const char *arg_choices;	/* positional args from a fixed set:
					   "bash|zsh|fish" */
	const char *complete_section;	/* positional args name config
					   sections of this schema */
	const char *examples;		/* man page EXAMPLES: lines; one
					   starting "$ " is a command line,
					   the others say what it does */
	const char *complete_cmd;	/* or: positional args are the lines
					   `mercuryctl COMPLETE_CMD` prints
					   ("breaker list --names") */
	int (*run)(struct mc_ctx *ctx);	/* NULL: needs a subcommand */
	const struct mc_metric_owner *metrics;	/* a top-level command's
						   shared metric families
						   (cmd/cmd.h) */
};

struct mc_optval {
	const struct mc_opt *opt;
	int count;
	const char *value;		/* the last value */
	const char **values;		/* MC_OPT_LIST: all, in order */
	size_t n_values;
	int order;			/* when it was last given: larger is
					   later on the command line */
};

#define MC_CLI_DEPTH 4

struct mc_args {
	const struct mc_cmd *path[MC_CLI_DEPTH];	/* root .. command */
	size_t depth;
	const struct mc_cmd *cmd;	/* path[depth - 1] */
	struct mc_optval *vals;		/* one per option seen */
	size_t n_vals;
	int help;			/* -h/--help given */
	char **pos;			/* positional arguments (borrowed) */
	int n_pos;
	int n_before_dashdash;		/* how many came before "--"; all of
					   them (n_pos) when none was given */
	char **secrets;			/* copies of MC_OPTF_SECRET values,
					   owned, wiped on free */
	size_t n_secrets;
	int n_given;			/* options given so far */
};

/* Parses argv against root (whose options are the global ones, accepted
 * on every level). On a usage error returns -1 with MC_EXIT_USAGE and a
 * message naming the command and a suggestion where one is near. */
int mc_cli_parse(const struct mc_cmd *root, int argc, char **argv,
		 struct mc_args *out, struct mc_err *err);
void mc_args_release(struct mc_args *a);

/* Lookups by long option name (global or command). */
int mc_args_count(const struct mc_args *a, const char *name);
const char *mc_args_value(const struct mc_args *a, const char *name);
/* An MC_ARG_INT option's value (checked against its range when parsed),
 * or fallback when not given. */
long long mc_args_int(const struct mc_args *a, const char *name,
		      long long fallback);
/* When the option was last given, to let the later of two options win:
 * larger is later; 0 when it was not given. */
int mc_args_order(const struct mc_args *a, const char *name);
const char *const *mc_args_values(const struct mc_args *a, const char *name,
				  size_t *n);

/* "health history" for path[1..]. Caller frees. */
char *mc_args_command_name(const struct mc_args *a);

/* Help for the command at path[0..depth). */
void mc_cli_help(FILE *f, const struct mc_cmd *root,
		 const struct mc_cmd *const *path, size_t depth);
/* "usage: ..." lines only. */
void mc_cli_usage(FILE *f, const struct mc_cmd *root,
		  const struct mc_cmd *const *path, size_t depth);

/* Completion scripts: shell is "bash", "zsh" or "fish"; -1 otherwise. */
int mc_cli_completion(FILE *f, const struct mc_cmd *root, const char *shell);

/* Man pages in roff: mercuryctl(1) for the root, mercuryctl-CMD(1) for a
 * top-level command. extra is appended verbatim (EXIT STATUS, FILES ...). */
void mc_cli_man(FILE *f, const struct mc_cmd *root, const struct mc_cmd *cmd,
		const char *date, const char *extra);

/* Writes s for roff: escapes backslashes, leading dots and dashes. */
void mc_roff_escape(FILE *f, const char *s);

#endif
