/*
 * plugin.h - running Nagios-compatible plugins (the `exec` check) and
 * parsing their output (Nagios Plugin API: exit code 0-3, first line
 * "TEXT | perfdata", perfdata 'label'=value[UOM];[warn];[crit];[min];[max]).
 *
 * The command line is split into words as a shell would (quotes and
 * backslashes respected) but never given to a shell; it runs through
 * proc.h (own process group, no secrets in its environment), and when it
 * exits, overruns its timeout or the run is interrupted its whole tree is
 * killed (SIGTERM, then SIGKILL) and reaped: nothing is left running and
 * no zombie is left.
 */
#ifndef MC_PLUGIN_H
#define MC_PLUGIN_H

#include <stddef.h>
#include <stdint.h>
#include "mc.h"

/* Splits s into a NULL-terminated argv (caller frees with mc_argv_free).
 * -1 with a reason on an unclosed quote or an empty command. */
int mc_argv_split(const char *s, char ***argv, struct mc_err *err);
void mc_argv_free(char **argv);

struct mc_perf {
	char *label;
	double value;
	char *uom;		/* "", "%", "s", "ms", "B", "KB", "c" ... */
	char *warn, *crit;	/* as written, may be empty */
	double min, max;
	int has_min, has_max;
};

struct mc_plugin_result {
	int status;		/* 0-3 from the exit code; 3 for anything
				   else (127: not found, signals) */
	int exit_code;		/* -1 when killed by a signal */
	int timed_out;
	char *text;		/* the first line before '|', trimmed; never
				   NULL ("" when the plugin printed nothing) */
	struct mc_perf *perf;
	size_t n_perf;
	double duration_ms;
};

/* Runs argv[0] (an absolute path, or looked up in PATH) with timeout_ms,
 * capturing at most 64 KiB of stdout (stderr is discarded). Returns 0 when
 * it ran (look at res), -1 with err when it could not start at all (then
 * res->status is 3 and res->text says why). */
int mc_plugin_run(char *const argv[], int64_t timeout_ms,
		  struct mc_plugin_result *res, struct mc_err *err);
void mc_plugin_result_release(struct mc_plugin_result *res);
/* Fills res->text, res->perf and res->n_perf from a plugin's raw output
 * (what mc_plugin_run() does with what it captured). */
void mc_plugin_parse_output(const char *buf, size_t len,
			    struct mc_plugin_result *res);

/* Parses perfdata "a=1;2;3;0;10 'b c'=5ms" (tolerant: skips malformed
 * items, never fails). */
void mc_perf_parse(const char *s, struct mc_perf **out, size_t *n);
void mc_perf_free(struct mc_perf *p, size_t n);
/* Appends p as perfdata text, each label after prefix ("api_" makes
 * time=1s api_time=1s), quoted as Nagios needs, numbers as the shortest
 * text that reads back, fields after the last set one left out; items
 * are separated by a space (one before each when b is not empty). */
void mc_perf_format(struct mc_buf *b, const struct mc_perf *p, size_t n,
		    const char *prefix);

#endif
