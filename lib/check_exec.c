/*
 * check_exec.c - the `exec` check: runs a Nagios-compatible plugin named by
 * the section's `command` (split into words, never given to a shell) and
 * takes its exit code, text and perfdata (plugin.h does the work).
 */
#include "check.h"
#include "plugin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXEC_DEFAULT_TIMEOUT_MS 2000

/* The plugin's perfdata, re-serialised with its own labels; NULL when it
 * gave none. The report prefixes each label with the check's name. */
static char *perf_string(const struct mc_perf *pf, size_t n)
{
	struct mc_buf b = { 0 };

	mc_perf_format(&b, pf, n, "");
	if (b.len == 0) {
		mc_buf_release(&b);
		return NULL;
	}
	return mc_buf_steal(&b);
}

static void run_exec(const struct mc_check *c, const struct mc_health_env *env,
		     struct mc_check_result *r)
{
	const char *cmd = c->sec ? mc_conf_str(c->sec, "command") : NULL;
	struct mc_plugin_result res;
	struct mc_err err = { 0 };
	int64_t timeout = c->timeout_ms > 0 ? c->timeout_ms :
			  EXEC_DEFAULT_TIMEOUT_MS;
	char **argv;

	if (env && env->dl)
		timeout = mc_deadline_left_ms(env->dl, timeout);
	if (cmd == NULL) {
		mc_check_set(r, MC_ST_UNKNOWN, "no command configured");
		return;
	}
	if (mc_argv_split(cmd, &argv, &err) < 0) {
		mc_check_set(r, MC_ST_UNKNOWN, "%s", err.msg);
		return;
	}
	if (mc_plugin_run(argv, timeout, &res, &err) < 0) {
		mc_check_set(r, MC_ST_UNKNOWN, "%s", res.text);
	} else if (res.timed_out) {
		mc_check_set(r, MC_ST_CRITICAL, "%s", res.text);
	} else {
		mc_check_set(r, res.status, "%s",
			     *res.text ? res.text : "plugin printed nothing");
	}
	free(r->perfdata);
	r->perfdata = perf_string(res.perf, res.n_perf);
	mc_plugin_result_release(&res);
	mc_argv_free(argv);
}

/* The command splits into words. */
static int exec_validate(const struct mc_conf_section *s, const char **key,
			 char *why, size_t size)
{
	char **argv;
	struct mc_err e = { 0 };

	if (mc_argv_split(mc_conf_str(s, "command"), &argv, &e) < 0) {
		*key = "command";
		snprintf(why, size, "%s", e.msg);
		return -1;
	}
	/* An absolute path: cron and systemd run with a short PATH, and
	 * Nagios plugins live outside any PATH. */
	if (argv[0][0] != '/') {
		char *guess = mc_asprintf("/usr/lib/nagios/plugins/%s", argv[0]);

		*key = "command";
		if (strchr(argv[0], '/') == NULL && access(guess, X_OK) == 0)
			snprintf(why, size, "command '%s' is not an absolute path "
				 "(did you mean %s?)", argv[0], guess);
		else
			snprintf(why, size, "command '%s' is not an absolute path: "
				 "give the plugin's full path", argv[0]);
		free(guess);
		mc_argv_free(argv);
		return -1;
	}
	mc_argv_free(argv);
	return 0;
}

static const struct mc_conf_key exec_keys[] = {
	{ .name = "command", .type = MC_CT_STRING, .flags = MC_CK_REQUIRED,
	  .help = "a Nagios plugin (an absolute path) and its arguments, "
		  "split like shell words "
		  "but never given to a shell; it gets mercuryctl's "
		  "environment without its secrets, and its whole process "
		  "tree is killed when it ends, times out or the run is "
		  "interrupted" },
	{ .name = NULL },
};

const struct mc_check_type mc_check_exec = {
	.name = "exec",
	.run = run_exec,
	.keys = exec_keys,
	.validate = exec_validate,
};
