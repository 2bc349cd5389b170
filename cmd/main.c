/*
 * main.c - the generic driver: parse, set up what the command needs, run
 * it, publish and print its report once, record the run, exit with the
 * code of mercuryctl(1) EXIT STATUS. main() is the list of these phases
 * (docs/DESIGN.md, "How a run flows"); it knows no command by name.
 */
#include "cmd.h"
#include "json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coord.h"

static void print_error_json(const char *msg, int code, const char *cid)
{
	json_t *o = json_object();
	char *s;

	json_object_set_new(o, "error", mc_json_str(msg));
	json_object_set_new(o, "exit_code", json_integer(code));
	if (cid)
		json_object_set_new(o, "correlation_id", mc_json_str(cid));
	s = mc_json_dumps(o, 0);
	printf("%s\n", s ? s : "{}");
	free(s);
	json_decref(o);
}

/* It travels in HTTP headers, logs and payloads: printable ASCII without
 * spaces, at most 200 characters (the HTTP client refuses anything else). */
static int valid_correlation_id(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 200)
		return 0;
	for (; *s; s++)
		if (*s <= ' ' || *s >= 127)
			return 0;
	return 1;
}

static char *fresh_trace_id(void)
{
	unsigned char raw[16];
	char hex[33];

	mc_random_bytes(raw, sizeof(raw));
	mc_hex(raw, sizeof(raw), hex);
	return mc_strdup(hex);
}

/* The args as recorded in the runs table: joined, secrets masked. */
static char *args_string(int argc, char **argv)
{
	struct mc_buf b = { 0 };
	char *safe;

	for (int i = 1; i < argc; i++)
		mc_buf_printf(&b, "%s%s", i > 1 ? " " : "", argv[i]);
	safe = mc_redact(b.data ? b.data : "");
	mc_buf_release(&b);
	return safe;
}

static int config_flags(const struct mc_args *a, struct mc_conf_flag *f)
{
	static const struct {
		const char *opt, *key;
	} map[] = {
		{ "--timeout", "timeout" },
		{ "--state", "state" },
		{ "--log-format", "log_format" },
	};
	int n = 0;

	for (size_t i = 0; i < MC_ARRAY_LEN(map); i++) {
		const char *v = mc_args_value(a, map[i].opt + 2);

		if (v) {
			f[n].key = map[i].key;
			f[n].value = v;
			f[n].flag = map[i].opt;
			n++;
		}
	}
	return n;
}

/* Every secret of the configuration is masked wherever it would appear:
 * MC_CK_SECRET values and the passwords inside URLs. */
static void register_secrets(const struct mc_conf *c)
{
	for (size_t i = 0; i < c->n_sections; i++) {
		const struct mc_conf_section *s = &c->sections[i];

		for (size_t k = 0; s->schema->keys[k].name; k++) {
			for (const struct mc_conf_value *v = &s->values[k]; v;
			     v = v->next) {
				if (v->raw == NULL)
					continue;
				if (v->key->flags & MC_CK_SECRET)
					mc_redact_add(v->raw);
				if (v->key->type == MC_CT_URL)
					mc_redact_add_url(v->raw);
			}
		}
	}
}

static const char *run_status(int code)
{
	if (code >= MC_ST_OK && code <= MC_ST_UNKNOWN)
		return mc_status_name(code);
	if (code == MC_EXIT_SIGINT || code == MC_EXIT_SIGTERM)
		return "interrupted";
	return "error";
}

static void add_run_metrics(struct mc_ctx *ctx, int code, double seconds)
{
	char *cmd = mc_prom_label(ctx->command);
	char *labels = mc_asprintf("command=\"%s\"", cmd);

	mc_prom_sample(&ctx->report.prom, "mercuryctl_run_duration_seconds",
		       "gauge", "How long the run took.", labels, seconds);
	mc_prom_sample(&ctx->report.prom, "mercuryctl_run_exit_code", "gauge",
		       "The run's exit code.", labels, code);
	mc_prom_sample(&ctx->report.prom, "mercuryctl_run_timestamp_seconds",
		       "gauge", "When the run ended (Unix time).", labels,
		       mc_wall_now());
	free(labels);
	free(cmd);
}

static int exit_for_signal(void)
{
	return mc_interrupted == SIGTERM ? MC_EXIT_SIGTERM : MC_EXIT_SIGINT;
}

/* A JSON document whose run ended with code != 0 without failing (a
 * verdict, or an action partly done) carries exit_code, and an error when
 * no status member says what went wrong: the -q line, masked. */
static void json_nonzero(struct mc_report *r, int code)
{
	json_t *st = json_object_get(r->doc, "status");

	if (json_object_get(r->doc, "exit_code") == NULL)
		json_object_set_new(r->doc, "exit_code", json_integer(code));
	if (json_object_get(r->doc, "error") == NULL &&
	    !(json_is_string(st) && !mc_streq(json_string_value(st), "ok")) &&
	    r->summary != NULL) {
		char *safe = mc_redact(r->summary);

		json_object_set_new(r->doc, "error", mc_json_str(safe));
		free(safe);
	}
}

/* Prints the report in the chosen format; -1 when stdout failed. */
static int print_report(struct mc_ctx *ctx, int code, int failed)
{
	struct mc_report *r = &ctx->report;
	/* Errors are masked on stdout as on stderr: a config error may quote
	 * a URL with its password, a server may echo one. */
	char *err = failed ? mc_redact(ctx->err.msg) : NULL;
	int rc = 0;

	switch (ctx->format) {
	case MC_FMT_JSON: {
		char *s;

		if (failed) {
			json_object_set_new(r->doc, "error", mc_json_str(err));
			json_object_set_new(r->doc, "exit_code",
					    json_integer(code));
		} else if (code != 0) {
			json_nonzero(r, code);
		}
		if (json_object_get(r->doc, "correlation_id") == NULL)
			json_object_set_new(r->doc, "correlation_id",
					    mc_json_str(ctx->correlation_id));
		s = mc_json_dumps(r->doc, 0);
		rc = mc_write_all(stdout, s, strlen(s));
		rc |= mc_write_all(stdout, "\n", 1);
		free(s);
		break;
	}
	case MC_FMT_PROM:
		rc = mc_write_all(stdout, r->prom.data ? r->prom.data : "",
				  r->prom.len);
		break;
	case MC_FMT_NAGIOS:
		if (failed || r->nagios == NULL) {
			/* a run that went wrong without a check result says
			 * what went wrong (its -q line), not that there is no
			 * result */
			char *sum = !failed && code != 0 && r->summary ?
				    mc_redact(r->summary) : NULL;
			char *line = mc_asprintf("%s UNKNOWN - %s\n", ctx->command,
						 failed ? err : sum ? sum :
						 "no check result");

			free(sum);
			for (char *p = line; *p && p[1]; p++)
				if (*p == '|' || *p == '\n')
					*p = '/';
			rc = mc_write_all(stdout, line, strlen(line));
			free(line);
		} else {
			rc = mc_write_all(stdout, r->nagios, strlen(r->nagios));
			rc |= mc_write_all(stdout, "\n", 1);
		}
		break;
	default:
		if (failed)
			break;
		if (ctx->quiet) {
			if (code != 0 && r->summary)
				fprintf(stderr, "%s\n", r->summary);
			break;
		}
		rc = mc_write_all(stdout, r->text.data ? r->text.data : "",
				  r->text.len);
		break;
	}
	free(err);
	return rc;
}

static void setup_logging(struct mc_ctx *ctx)
{
	const char *lf = NULL, *ll = NULL;
	int level = MC_LOG_WARN, json;

	if (ctx->conf) {
		lf = mc_conf_str(mc_conf_core(ctx->conf), "log_format");
		ll = mc_conf_str(mc_conf_core(ctx->conf), "log_level");
	} else {
		lf = getenv("MERCURY_LOG_FORMAT");
		ll = getenv("MERCURY_LOG_LEVEL");
	}
	if (mc_args_value(ctx->args, "log-format"))
		lf = mc_args_value(ctx->args, "log-format");
	if (ll && mc_log_level_parse(ll) >= 0)
		level = mc_log_level_parse(ll);
	if (ctx->verbose)
		level = ctx->verbose >= 2 ? MC_LOG_DEBUG : MC_LOG_INFO;
	if (ctx->quiet)
		level = MC_LOG_ERROR;
	json = mc_streq(lf, "json");
	mc_log_setup(level, json, ctx->command, ctx->correlation_id);
}


/* ---- the phases of a run ------------------------------------------------ */

/* What the driver carries from one phase to the next. */
struct run {
	int argc;
	char **argv;
	double t0;			/* monotonic start */
	int early_format;		/* enum mc_format, from argv alone */
	struct mc_args a;
	struct mc_ctx ctx;
	int code;			/* the exit code so far */
	int failed;			/* ctx.err holds why */
};

/* An error before the run has a context: the early output mode decides
 * what stdout gets, so a CI gate always gets its JSON document and a
 * Nagios plugin exits 3. The message may quote an argument: masked (a
 * URL's password) on every stream. */
static void early_error(struct run *r, int code, const char *text)
{
	char *msg = mc_redact(text);

	fprintf(stderr, "%s\n", msg);
	r->code = code;
	if (r->early_format == MC_FMT_JSON) {
		print_error_json(msg, code, NULL);
	} else if (r->early_format == MC_FMT_NAGIOS) {
		printf("UNKNOWN - %s\n", msg);
		r->code = MC_EXIT_UNKNOWN;
	}
	free(msg);
}

/* Parses argv. Usage errors, --version and --help end the run here: 1
 * with r->code set; 0 when a command is to run. */
static int phase_parse(struct run *r)
{
	struct mc_err perr = { 0 };

	if (mc_cli_parse(&mc_cmd_root, r->argc, r->argv, &r->a, &perr) < 0) {
		early_error(r, perr.code, perr.msg);
		return 1;
	}
	if (mc_args_count(&r->a, "version") && !r->a.help)
		printf("mercuryctl %s\n", MC_VERSION);
	else if (r->a.help)
		mc_cli_help(stdout, &mc_cmd_root, r->a.path, r->a.depth);
	else
		return 0;
	mc_args_release(&r->a);
	/* `--help | head` is fine; any other failed write is not */
	r->code = mc_flush(stdout) == 0 || mc_output_gone() ? 0 :
		  MC_EXIT_IOERR;
	return 1;
}

/* -o FORMAT and --json: the last one given wins. */
static int output_format(const struct mc_args *a)
{
	const char *v = mc_args_value(a, "output");
	int format = v ? mc_format_parse(v) : MC_FMT_TEXT;

	if (mc_args_order(a, "json") > mc_args_order(a, "output"))
		format = MC_FMT_JSON;
	return format;
}

/* Whether NAME is set to something: no-color.org's rule for NO_COLOR
 * ("present and not an empty string"). */
static int env_set(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0';
}

/* The run context from the parsed options: output, correlation id, the
 * report, logging. A bad correlation id ends the run: 1 with r->code. */
static int phase_context(struct run *r)
{
	struct mc_ctx *ctx = &r->ctx;
	const char *v;

	memset(ctx, 0, sizeof(*ctx));
	ctx->args = &r->a;
	ctx->command = mc_args_command_name(&r->a);
	ctx->format = output_format(&r->a);
	ctx->quiet = mc_args_count(&r->a, "quiet");
	ctx->verbose = mc_args_count(&r->a, "verbose");
	ctx->color = ctx->format == MC_FMT_TEXT && isatty(STDOUT_FILENO) &&
		     !env_set("NO_COLOR") &&
		     !mc_args_count(&r->a, "no-color") &&
		     !mc_streq(getenv("TERM"), "dumb");
	if ((v = mc_args_value(&r->a, "correlation-id")) ||
	    ((v = getenv("MERCURY_CORRELATION_ID")) && *v)) {
		if (!valid_correlation_id(v)) {
			/* the flag is usage (64); the environment, like
			 * every MERCURY_ variable, configuration (78) */
			int flag = mc_args_value(&r->a, "correlation-id") != NULL;

			early_error(r, flag ? MC_EXIT_USAGE : MC_EXIT_CONFIG,
				    flag ? "mercuryctl: --correlation-id: bad "
				    "value: 1 to 200 printable characters "
				    "without spaces; see 'mercuryctl --help'" :
				    "mercuryctl: environment "
				    "MERCURY_CORRELATION_ID: bad value: 1 to 200 "
				    "printable characters without spaces");
			free(ctx->command);
			mc_args_release(&r->a);
			return 1;
		}
		ctx->correlation_id = mc_strdup(v);
	} else {
		ctx->correlation_id = fresh_trace_id();
	}
	mc_report_init(&ctx->report, ctx->color);
	setup_logging(ctx);
	return 0;
}

/* Marks the run failed with ctx.err (code when ctx.err has none). */
static int fail(struct run *r, int code)
{
	r->failed = 1;
	r->code = r->ctx.err.code ? r->ctx.err.code : code;
	return -1;
}

/* Loads the configuration when the command needs it (logging and secret
 * masking then follow it), and arms the run's deadline. */
static int phase_config(struct run *r)
{
	struct mc_ctx *ctx = &r->ctx;
	const char *v;
	int64_t ms = 60000;

	if (r->a.cmd->needs & (MC_NEED_CONFIG | MC_NEED_STATE)) {
		struct mc_conf_flag flags[4];
		int n_flags = config_flags(&r->a, flags), explicit = 0;
		char *path = mc_conf_find_path(mc_args_value(&r->a, "config"),
					       &explicit);

		ctx->conf = mc_conf_load(path, flags, (size_t)n_flags,
					 &ctx->err);
		free(path);
		if (ctx->conf == NULL)
			return fail(r, ctx->err.code);
		mc_log_shutdown();
		setup_logging(ctx);
		register_secrets(ctx->conf);
	}
	if (ctx->conf)
		ms = mc_conf_ms(mc_conf_core(ctx->conf), "timeout", ms);
	/* Times in text: UTC unless asked otherwise. */
	mc_time_text_local(mc_args_count(&r->a, "local-time") > 0 ||
			   (ctx->conf && mc_streq(mc_conf_str(mc_conf_core(
				ctx->conf), "time_zone"), "local")));
	if ((v = mc_args_value(&r->a, "timeout")))
		mc_parse_duration_ms(v, &ms, NULL);
	ctx->timeout_ms = ms;
	mc_deadline_set(&ctx->dl, ms);
	return 0;
}

/* Opens the state file when the command needs it and records the run's
 * start. */
static int phase_state(struct run *r)
{
	struct mc_ctx *ctx = &r->ctx;
	const char *sp;
	char *path, *args;
	int rc;

	if (!(r->a.cmd->needs & MC_NEED_STATE))
		return 0;
	sp = mc_conf_str(mc_conf_core(ctx->conf), "state");
	path = sp ? mc_strdup(sp) : mc_state_default_path();
	args = args_string(r->argc, r->argv);
	ctx->st = mc_state_open_until(path, &ctx->dl, &ctx->err);
	free(path);
	rc = ctx->st ? mc_state_run_begin(ctx->st, ctx->command, args,
					  ctx->correlation_id, mc_wall_now(),
					  &ctx->run_id, &ctx->err) : -1;
	free(args);
	if (rc < 0)
		return fail(r, MC_EXIT_IOERR);
	/* the fleet, when [fleet] names one: a run that uses the state
	 * file is a member (its heartbeat goes out here) */
	ctx->coord = mc_coord_open(ctx->conf, ctx->st,
				   &(struct mc_coord_opts){ ctx->command,
							    &ctx->dl },
				   &ctx->err);
	return ctx->coord ? 0 : fail(r, MC_EXIT_CONFIG);
}

/* A run with [fleet] says whether it could use the fleet: "fleet" in
 * JSON, and on stderr when it went on with the state file alone. */
static void fleet_report(struct mc_ctx *ctx)
{
	const char *why;

	if (ctx->coord == NULL || mc_coord_fleet_conf(ctx->coord) == NULL ||
	    json_object_get(ctx->report.doc, "fleet") != NULL)
		return;
	if (!mc_coord_degraded(ctx->coord)) {
		json_object_set_new(ctx->report.doc, "fleet",
				    json_string("ok"));
		return;
	}
	why = mc_coord_degraded_why(ctx->coord);
	json_object_set_new(ctx->report.doc, "fleet", json_string("degraded"));
	json_object_set_new(ctx->report.doc, "fleet_error", mc_json_str(why));
	mc_log(MC_LOG_WARN, "fleet: degraded: %s; this run used the state "
	       "file alone", why);
}

/* Runs the command; a signal that is not the command's normal end makes
 * the run an interrupted one. */
static void phase_run(struct run *r)
{
	struct mc_ctx *ctx = &r->ctx;

	mc_logkv(MC_LOG_INFO, "run started", "config",
		 ctx->conf && ctx->conf->path ? ctx->conf->path :
		 "(built-in defaults)",
		 "state", ctx->st ? mc_state_path(ctx->st) : "(none)",
		 (char *)NULL);
	r->code = r->a.cmd->run(ctx);
	if (r->code < 0)
		fail(r, MC_EXIT_UNKNOWN);
	if (mc_interrupted && !ctx->interrupt_is_exit) {
		r->code = exit_for_signal();
		if (!r->failed) {
			r->failed = 1;
			mc_err_set(&ctx->err, r->code, "interrupted by %s",
				   mc_interrupted == SIGTERM ? "SIGTERM" :
				   "SIGINT");
		}
	}
}

/* Adds the run's own metrics and publishes them (--textfile-dir,
 * --pushgateway); a failure to publish fails a run that had not failed.
 * Then logs the outcome. */
static void phase_publish(struct run *r)
{
	struct mc_ctx *ctx = &r->ctx;
	char code_s[16], ms_s[32];

	add_run_metrics(ctx, r->code, mc_mono_now() - r->t0);
	fleet_report(ctx);
	/* A --watch published each run itself. */
	if ((!mc_interrupted || ctx->interrupt_is_exit) && !ctx->printed) {
		struct mc_err e = { 0 };

		if (mc_publish_metrics(ctx, &ctx->report, &e) < 0) {
			/* The result stands and is printed; the export
			 * failure goes to stderr (and the JSON document), and
			 * the run exits with the worse of the two codes. */
			mc_log(MC_LOG_ERROR, "%s", e.msg);
			if (mc_interrupted && !ctx->interrupt_is_exit) {
				r->code = exit_for_signal();
			} else if (!r->failed) {
				char *safe = mc_redact(e.msg);

				json_object_set_new(ctx->report.doc,
						    "metrics_error",
						    mc_json_str(safe));
				free(safe);
				if (e.code > r->code)
					r->code = e.code;
			}
		}
	}
	if (r->failed)
		mc_log(MC_LOG_ERROR, "%s", ctx->err.msg);
	snprintf(code_s, sizeof(code_s), "%d", r->code);
	snprintf(ms_s, sizeof(ms_s), "%.1f", (mc_mono_now() - r->t0) * 1e3);
	mc_logkv(MC_LOG_INFO, "run finished", "exit_code", code_s,
		 "duration_ms", ms_s, (char *)NULL);
}

/* Prints the report once, in the chosen format (a Nagios plugin exits 0-3
 * only); a failed write to stdout is exit 74 for a run that was fine. A
 * reader that went away (`| head`) is no failure: the run ends quietly
 * with its own code, as `git log | head` does. */
static void phase_print(struct run *r)
{
	struct mc_ctx *ctx = &r->ctx;
	int code = r->code;	/* the run's own, for the report */

	/* A command without a check result has no Nagios verdict: UNKNOWN. */
	if (ctx->format == MC_FMT_NAGIOS &&
	    (r->code > 3 || (!ctx->printed && ctx->report.nagios == NULL)))
		r->code = MC_EXIT_UNKNOWN;
	if (((!ctx->printed && print_report(ctx, code, r->failed) < 0) ||
	     mc_flush(stdout) != 0) && !mc_output_gone()) {
		fprintf(stderr, "mercuryctl: cannot write output: %s\n",
			strerror(errno));
		if (r->code == 0)
			r->code = MC_EXIT_IOERR;
	}
}

/* Records the run's end in the state file and prunes old history. */
static void phase_record(struct run *r)
{
	struct mc_ctx *ctx = &r->ctx;
	struct mc_err e = { 0 };
	char *msg;
	int64_t keep, removed = 0;

	if (ctx->st == NULL || ctx->run_id == 0)
		return;
	msg = r->failed ? mc_redact(ctx->err.msg) : NULL;
	keep = mc_conf_ms(mc_conf_core(ctx->conf), "history", 30LL * 86400000);
	/* A signal arriving now must not stop the bookkeeping half-way:
	 * each statement is its own transaction. */
	if (mc_state_run_end(ctx->st, ctx->run_id, r->code,
			     run_status(r->code), msg, mc_wall_now(), &e) < 0)
		mc_log(MC_LOG_ERROR, "%s", e.msg);
	else if (mc_state_prune(ctx->st, mc_wall_now() - keep / 1e3,
				&removed, &e) < 0)
		mc_log(MC_LOG_WARN, "%s", e.msg);
	free(msg);
}

/* The configuration that threads still running at exit may read. */
static struct mc_conf *volatile left_to_exit;

/* Releases everything the run holds; returns the exit code. */
static int phase_teardown(struct run *r)
{
	struct mc_ctx *ctx = &r->ctx;

	mc_lock_release(ctx->lock);
	mc_http_free(ctx->http);
	mc_coord_close(ctx->coord);
	mc_state_close(ctx->st);
	/* A command's threads may outlive its run (see keep_conf in cmd.h):
	 * then the configuration is left to the process exit, held by a
	 * static so that leak checkers see it still in use, not lost. */
	if (ctx->keep_conf == NULL || ctx->keep_conf() == 0)
		mc_conf_free(ctx->conf);
	else
		left_to_exit = ctx->conf;
	mc_report_release(&ctx->report);
	free(ctx->command);
	free(ctx->correlation_id);
	mc_args_release(&r->a);
	mc_log_shutdown();
	return r->code;
}

int main(int argc, char **argv)
{
	struct run r = { .argc = argc, .argv = argv, .t0 = mc_mono_now() };

	mc_signals_install();
	r.early_format = mc_format_scan(argc, argv);
	if (phase_parse(&r) || phase_context(&r))
		return r.code;
	if (phase_config(&r) == 0 && phase_state(&r) == 0)
		phase_run(&r);
	phase_publish(&r);
	phase_print(&r);
	phase_record(&r);
	return phase_teardown(&r);
}
