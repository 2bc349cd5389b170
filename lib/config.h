/*
 * config.h - mercury.conf (mercury.conf(5)): INI with git-config style named
 * sections, parsed with inih and validated against one schema table, which
 * also drives `config show`, the did-you-mean suggestions and
 * mercury.conf(5).
 *
 * Precedence for every key: flag > environment > file > default. Each
 * value remembers where it came from. Any malformed input is an error with
 * MC_EXIT_CONFIG naming file, line and key.
 */
#ifndef MC_CONFIG_H
#define MC_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include "mc.h"

enum mc_conf_type {
	MC_CT_STRING,
	MC_CT_PATH,
	MC_CT_URL,
	MC_CT_DURATION,		/* v.ms */
	MC_CT_SIZE,		/* v.size */
	MC_CT_PERCENT,		/* v.d, 0..100 */
	MC_CT_INT,		/* v.i, >= 0 */
	MC_CT_BOOL,		/* v.b */
	MC_CT_RATE,		/* v.d, per second */
	MC_CT_ENUM,		/* one of key->choices ("a|b|c"); v.i: its
				   index in choices */
	MC_CT_THRESHOLD,	/* a Nagios range (threshold.h): read it as a
				   string, mc_range_parse() it */
};

/* Key flags. */
#define MC_CK_SECRET	0x1	/* value shown as *** */
#define MC_CK_LIST	0x2	/* may repeat; values chain through ->next */
#define MC_CK_REQUIRED	0x4

struct mc_conf_key {
	const char *name;
	enum mc_conf_type type;
	const char *def;	/* default as text, NULL: none */
	const char *help;	/* one line, for config show and man page */
	unsigned flags;
	const char *choices;	/* MC_CT_ENUM: "a|b|c" */
	const char *types;	/* sections with a type key: the types this
				   key is valid for ("disk|memory"); NULL: all */
	const char *env;	/* environment variables, first set wins
				   ("MERCURY_REDIS_URL REDIS_URL") */
};

struct mc_conf_section;

struct mc_conf_schema {
	const char *name;	/* "core", "check" */
	int named;		/* 1: [check "NAME"] */
	const char *help;
	const struct mc_conf_key *keys;	/* ends with { NULL } */
	/* Rules across keys, run on the finished section (file, environment,
	 * flags and defaults applied), NULL: none. Returns 0, or -1 with a
	 * reason in why and in *key the key whose line to cite (left NULL:
	 * the section header's). */
	int (*validate)(const struct mc_conf_section *s, const char **key,
			char *why, size_t size);
};

/* Every section the binary understands, ending in NULL. */
extern const struct mc_conf_schema *const mc_conf_schemas[];

struct mc_conf_value {
	const struct mc_conf_key *key;
	char *raw;		/* as written (secrets included: never print) */
	char *source;		/* "FILE:LINE", "env NAME", "flag --x",
				   "default" */
	union {
		int64_t ms;
		uint64_t size;
		double d;
		long long i;
		int b;
	} v;
	struct mc_conf_value *next;	/* MC_CK_LIST: the next value */
};

struct mc_conf_section {
	const struct mc_conf_schema *schema;
	char *name;		/* NULL for unnamed sections */
	char *source;		/* "FILE:LINE" of its header, or "default" */
	struct mc_conf_value *values;	/* one per key of the schema, in
					   schema order; .raw NULL when unset
					   and without default */
};

struct mc_conf {
	char *path;		/* the file read, NULL when none */
	struct mc_conf_section *sections;
	size_t n_sections;
	/* What `config check` warns about, one line each ("FILE:LINE: ..."),
	 * never quoting a value: an inline comment that cut a value which
	 * looks like a URL or a secret. */
	char **warnings;
	size_t n_warnings;
};

/* A value given on the command line for a [core] key. */
struct mc_conf_flag {
	const char *key;	/* "prometheus_url" */
	const char *value;	/* NULL: not given (skipped) */
	const char *flag;	/* "--prometheus", for the source */
};

/* --config, else $MERCURY_CONFIG, else $XDG_CONFIG_HOME/mercury/mercury.conf
 * (~/.config when unset), else /etc/mercury/mercury.conf, else NULL (the
 * built-in defaults serve). explicit: 1 when named by flag or environment,
 * where a missing file is an error. Caller frees. */
char *mc_conf_find_path(const char *flag_path, int *explicit);

/* Loads path (NULL: defaults only), applies environment and flags, checks
 * every value. On error returns NULL with MC_EXIT_CONFIG and a message such
 * as: "mercury.conf:12: [check "api"] unknown key 'tiemout' (did you mean
 * 'timeout'?)". A missing explicit file or an unreadable one is also 78. */
struct mc_conf *mc_conf_load(const char *path, const struct mc_conf_flag *flags,
			     size_t n_flags, struct mc_err *err);
/* Loads from a string (tests, fuzzing); name stands in for the file name. */
struct mc_conf *mc_conf_load_string(const char *text, const char *name,
				    const struct mc_conf_flag *flags,
				    size_t n_flags, struct mc_err *err);
/* As mc_conf_load_string, against another NULL-terminated schema list
 * (tests). [core] is always present only when the list has a "core". */
struct mc_conf *mc_conf_load_schemas(const char *text, const char *name,
				     const struct mc_conf_schema *const *schemas,
				     const struct mc_conf_flag *flags,
				     size_t n_flags, struct mc_err *err);
void mc_conf_free(struct mc_conf *c);

/* A value as written after "key =" (its ends trimmed), read the way git
 * reads config values: a value in double quotes, whole, keeps '#', ';' and
 * spaces, knows the escapes \" \\ \n \t, and loses its quotes; any other
 * value ends at an inline comment (whitespace, then '#' or ';', outside a
 * "..." span) and is kept as written, quotes and backslashes included (a
 * PromQL selector, an exec command line). *cut is 1 when a comment ended
 * such an unquoted value (a value quoted whole was not cut, whatever
 * comment follows it). Returns the value (caller frees), or NULL with a reason in why
 * (an unterminated quote, an unknown escape). */
char *mc_conf_unquote(const char *s, int *cut, char *why, size_t size);

/* The [core] section (always present, defaults filled). */
const struct mc_conf_section *mc_conf_core(const struct mc_conf *c);
/* The NAME section of a schema, NULL when absent. */
const struct mc_conf_section *mc_conf_find(const struct mc_conf *c,
					   const char *schema,
					   const char *name);
/* Iterates sections of one schema: pass NULL first, then the last result. */
const struct mc_conf_section *mc_conf_next(const struct mc_conf *c,
					   const char *schema,
					   const struct mc_conf_section *prev);

/* The sections of one schema named in names[0..n_names) (each once, in
 * the file's order), or all of them when n_names is 0, in a new array
 * (caller frees; NULL when none). A name the configuration lacks is
 * MC_EXIT_USAGE naming `what` ("provider") with the nearest configured
 * name. */
/* The first of names that no [schema "NAME"] section has, or NULL when
 * every one is configured; *near gets the configured name nearest to it
 * (NULL: none near). Both point into names or the configuration. */
const char *mc_conf_unknown_name(const struct mc_conf *c, const char *schema,
				 const char *const *names, size_t n_names,
				 const char **near);
int mc_conf_select(const struct mc_conf *c, const char *schema,
		   const char *what, const char *const *names, size_t n_names,
		   const struct mc_conf_section ***out, size_t *n,
		   struct mc_err *err);
/* A secret from the file named by key_file (surrounding white space
 * trimmed) or the environment variable named by key_env; *out stays NULL
 * when the section names neither. An unreadable or empty file, an unset
 * variable: MC_EXIT_CONFIG naming the line and `what`. Caller frees with
 * mc_free_secret(). */
int mc_conf_secret(const struct mc_conf_section *s, const char *key_file,
		   const char *key_env, const char *what, char **out,
		   struct mc_err *err);

/* The value of key (NULL when unset and no default). The getters return
 * the parsed value, or fallback when unset. Asking for a key the schema
 * lacks is a programming error (abort). */
const struct mc_conf_value *mc_conf_get(const struct mc_conf_section *s,
					const char *key);
const char *mc_conf_str(const struct mc_conf_section *s, const char *key);
int64_t mc_conf_ms(const struct mc_conf_section *s, const char *key,
		   int64_t fallback);
double mc_conf_double(const struct mc_conf_section *s, const char *key,
		      double fallback);
long long mc_conf_int(const struct mc_conf_section *s, const char *key,
		      long long fallback);
int mc_conf_bool(const struct mc_conf_section *s, const char *key,
		 int fallback);
/* A MC_CT_THRESHOLD value: 1 with *r filled when set, 0 (r cleared) when
 * not. */
struct mc_range;
int mc_conf_range(const struct mc_conf_section *s, const char *key,
		  struct mc_range *r);

/* Whether every name a key gives of another section exists: an http
 * check's oauth, an oauth check's provider, a job's notify webhooks. A
 * name without its section is MC_EXIT_CONFIG naming file, line and key,
 * with a did-you-mean (-1). Only `config check` refuses it: at run time
 * such a check or notification fails alone, by name. */
int mc_conf_check_refs(const struct mc_conf *c, struct mc_err *err);

/* What the configuration names outside itself that this environment
 * cannot give: a *_env variable unset or empty, a *_file that cannot be
 * read or is not a regular file, a secret *_file every user can read. One
 * message a problem ("FILE:LINE: [webhook "ops"] url_env: ..."); NULL and
 * 0 when none. Caller frees each and the array. See config_env.c. */
char **mc_conf_env_warnings(const struct mc_conf *c, size_t *n);

#endif
