/*
 * main.c - parse, set up what the command needs, run it, print its report
 * once, record the run, exit with the code of PRODUCT.md 2.3.
 */
#include "cmd.h"
#include "health.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Before parsing succeeds we still honour -o json / --json for the error
 * document, so a CI gate always gets JSON on stdout. */
static int wants_json(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0)
			break;
		if (strcmp(a, "--json") == 0 || strcmp(a, "-ojson") == 0 ||
		    strcmp(a, "--output=json") == 0)
			return 1;
		if ((strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) &&
		    i + 1 < argc && strcmp(argv[i + 1], "json") == 0)
			return 1;
	}
	return 0;
}

static int wants_nagios(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-onagios") == 0 || strcmp(a, "--output=nagios") == 0)
			return 1;
		if ((strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) &&
		    i + 1 < argc && strcmp(argv[i + 1], "nagios") == 0)
			return 1;
	}
	return 0;
}

static void print_error_json(const char *msg, int code, const char *cid)
{
	json_t *o = json_object();
	char *s;

	json_object_set_new(o, "error", json_string(msg));
	json_object_set_new(o, "exit_code", json_integer(code));
	if (cid)
		json_object_set_new(o, "correlation_id", json_string(cid));
	s = json_dumps(o, JSON_COMPACT);
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
	mc_buf_free(&b);
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
				const char *sep, *at, *colon;
				char *pw;

				if (v->raw == NULL)
					continue;
				if (v->key->flags & MC_CK_SECRET)
					mc_redact_add(v->raw);
				if (v->key->type != MC_CT_URL ||
				    (sep = strstr(v->raw, "://")) == NULL)
					continue;
				at = strchr(sep + 3, '@');
				colon = at ? memchr(sep + 3, ':',
						    (size_t)(at - sep - 3)) : NULL;
				if (colon == NULL)
					continue;
				pw = mc_strndup(colon + 1, (size_t)(at - colon - 1));
				mc_redact_add(pw);
				mc_free_secret(pw);
			}
		}
	}
}

static const char *run_status(int code)
{
	switch (code) {
	case 0: return "ok";
	case 1: return "warning";
	case 2: return "critical";
	case 3: return "unknown";
	case MC_EXIT_SIGINT:
	case MC_EXIT_SIGTERM: return "interrupted";
	default: return "error";
	}
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

/* Prints the report in the chosen format; -1 when stdout failed. */
static int print_report(struct mc_ctx *ctx, int code, int failed)
{
	struct mc_report *r = &ctx->report;
	int rc = 0;

	switch (ctx->format) {
	case MC_FMT_JSON: {
		char *s;

		if (failed) {
			json_object_set_new(r->doc, "error",
					    json_string(ctx->err.msg));
			json_object_set_new(r->doc, "exit_code",
					    json_integer(code));
		}
		if (json_object_get(r->doc, "correlation_id") == NULL)
			json_object_set_new(r->doc, "correlation_id",
					    json_string(ctx->correlation_id));
		s = json_dumps(r->doc, JSON_COMPACT | JSON_REAL_PRECISION(17));
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
			char *line = mc_asprintf("%s UNKNOWN - %s\n", ctx->command,
						 failed ? ctx->err.msg :
						 "no check result");

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

int main(int argc, char **argv)
{
	struct mc_args a;
	struct mc_ctx ctx;
	struct mc_err perr = { 0 };
	double t0 = mc_mono_now();
	int code = 0, failed = 0, json_early;
	const char *v;

	mc_signals_install();
	json_early = wants_json(argc, argv);
	if (mc_cli_parse(&mc_cmd_root, argc, argv, &a, &perr) < 0) {
		fprintf(stderr, "%s\n", perr.msg);
		if (json_early)
			print_error_json(perr.msg, perr.code, NULL);
		else if (wants_nagios(argc, argv))
			printf("UNKNOWN - %s\n", perr.msg);
		return wants_nagios(argc, argv) ? MC_EXIT_UNKNOWN : perr.code;
	}
	if (mc_args_count(&a, "version") && !a.help) {
		printf("mercuryctl %s\n", MC_VERSION);
		mc_args_free(&a);
		return fflush(stdout) == 0 ? 0 : MC_EXIT_IOERR;
	}
	if (a.help) {
		mc_cli_help(stdout, &mc_cmd_root, a.path, a.depth);
		mc_args_free(&a);
		return fflush(stdout) == 0 ? 0 : MC_EXIT_IOERR;
	}

	memset(&ctx, 0, sizeof(ctx));
	ctx.args = &a;
	ctx.command = mc_args_command_name(&a);
	ctx.format = MC_FMT_TEXT;
	if ((v = mc_args_value(&a, "output")))
		ctx.format = mc_format_parse(v);
	if (mc_args_count(&a, "json"))
		ctx.format = MC_FMT_JSON;
	ctx.quiet = mc_args_count(&a, "quiet");
	ctx.verbose = mc_args_count(&a, "verbose");
	ctx.color = ctx.format == MC_FMT_TEXT && isatty(STDOUT_FILENO) &&
		    getenv("NO_COLOR") == NULL && !mc_args_count(&a, "no-color") &&
		    !mc_streq(getenv("TERM"), "dumb");
	if ((v = mc_args_value(&a, "correlation-id")) ||
	    ((v = getenv("MERCURY_CORRELATION_ID")) && *v)) {
		if (!valid_correlation_id(v)) {
			fprintf(stderr, "mercuryctl: bad correlation id: 1 to 200 "
				"printable characters without spaces\n");
			if (json_early)
				print_error_json("bad correlation id",
						 MC_EXIT_USAGE, NULL);
			free(ctx.command);
			mc_args_free(&a);
			return MC_EXIT_USAGE;
		}
		ctx.correlation_id = mc_strdup(v);
	} else {
		ctx.correlation_id = fresh_trace_id();
	}
	mc_report_init(&ctx.report, ctx.color);
	setup_logging(&ctx);

	if (a.cmd->needs & (MC_NEED_CONFIG | MC_NEED_STATE)) {
		struct mc_conf_flag flags[4];
		int n_flags = config_flags(&a, flags), explicit = 0;
		char *path = mc_conf_find_path(mc_args_value(&a, "config"),
					       &explicit);

		ctx.conf = mc_conf_load(path, flags, (size_t)n_flags, &ctx.err);
		free(path);
		if (ctx.conf == NULL) {
			failed = 1;
			code = ctx.err.code;
			goto out;
		}
		mc_log_shutdown();
		setup_logging(&ctx);
		register_secrets(ctx.conf);
	}
	{
		int64_t ms = 60000;

		if (ctx.conf)
			ms = mc_conf_ms(mc_conf_core(ctx.conf), "timeout", ms);
		if ((v = mc_args_value(&a, "timeout")))
			mc_parse_duration_ms(v, &ms, NULL);
		ctx.timeout_ms = ms;
		mc_deadline_set(&ctx.dl, ms);
	}
	if (a.cmd->needs & MC_NEED_STATE) {
		const char *sp = mc_conf_str(mc_conf_core(ctx.conf), "state");
		char *path = sp ? mc_strdup(sp) : mc_state_default_path();
		char *args = args_string(argc, argv);

		ctx.st = mc_state_open(path, &ctx.err);
		free(path);
		if (ctx.st == NULL ||
		    mc_state_run_begin(ctx.st, ctx.command, args,
				       ctx.correlation_id, mc_wall_now(),
				       &ctx.run_id, &ctx.err) < 0) {
			free(args);
			failed = 1;
			code = ctx.err.code ? ctx.err.code : MC_EXIT_IOERR;
			goto out;
		}
		free(args);
	}

	mc_logkv(MC_LOG_INFO, "run started", "config",
		 ctx.conf && ctx.conf->path ? ctx.conf->path : "(built-in defaults)",
		 "state", ctx.st ? mc_state_path(ctx.st) : "(none)", (char *)NULL);
	code = a.cmd->run(&ctx);
	if (code < 0) {
		failed = 1;
		code = ctx.err.code ? ctx.err.code : MC_EXIT_UNKNOWN;
	}
	if (mc_interrupted && !ctx.interrupt_is_exit) {
		code = exit_for_signal();
		if (!failed) {
			failed = 1;
			mc_err_set(&ctx.err, code, "interrupted by %s",
				   mc_interrupted == SIGTERM ? "SIGTERM" :
				   "SIGINT");
		}
	}

out:
	add_run_metrics(&ctx, code, mc_mono_now() - t0);
	/* A --watch published each run itself. */
	if ((!mc_interrupted || ctx.interrupt_is_exit) && !ctx.printed) {
		struct mc_err e = { 0 };

		if (mc_publish_metrics(&ctx, &ctx.report, &e) < 0) {
			if (mc_interrupted && !ctx.interrupt_is_exit) {
				mc_log(MC_LOG_ERROR, "%s", e.msg);
				code = exit_for_signal();
			} else if (failed) {
				mc_log(MC_LOG_ERROR, "%s", e.msg);
			} else {
				failed = 1;
				ctx.err = e;
				code = e.code;
			}
		}
	}
	if (failed)
		mc_log(MC_LOG_ERROR, "%s", ctx.err.msg);
	{
		char code_s[16], ms_s[32];

		snprintf(code_s, sizeof(code_s), "%d", code);
		snprintf(ms_s, sizeof(ms_s), "%.1f", (mc_mono_now() - t0) * 1e3);
		mc_logkv(MC_LOG_INFO, "run finished", "exit_code", code_s,
			 "duration_ms", ms_s, (char *)NULL);
	}
	if (ctx.format == MC_FMT_NAGIOS && code > 3)
		code = MC_EXIT_UNKNOWN;
	if ((!ctx.printed && print_report(&ctx, code, failed) < 0) ||
	    fflush(stdout) != 0) {
		fprintf(stderr, "mercuryctl: cannot write output: %s\n",
			strerror(errno));
		if (code == 0)
			code = MC_EXIT_IOERR;
	}
	if (ctx.st && ctx.run_id) {
		struct mc_err e = { 0 };
		char *msg = failed ? mc_redact(ctx.err.msg) : NULL;
		const struct mc_conf_section *core = mc_conf_core(ctx.conf);
		int64_t keep = mc_conf_ms(core, "history", 30LL * 86400000);
		int64_t removed = 0;

		/* A signal arriving now must not stop the bookkeeping half-way:
		 * each statement is its own transaction. */
		if (mc_state_run_end(ctx.st, ctx.run_id, code, run_status(code),
				     msg, mc_wall_now(), &e) < 0)
			mc_log(MC_LOG_ERROR, "%s", e.msg);
		else if (mc_state_prune(ctx.st, mc_wall_now() - keep / 1e3,
					&removed, &e) < 0)
			mc_log(MC_LOG_WARN, "%s", e.msg);
		free(msg);
	}
	mc_lock_release(ctx.lock);
	mc_http_free(ctx.http);
	mc_state_close(ctx.st);
	/* A health worker abandoned at its timeout may still read the
	 * configuration until the process exits: leave it to the exit. */
	if (mc_health_abandoned() == 0)
		mc_conf_free(ctx.conf);
	mc_report_free(&ctx.report);
	free(ctx.command);
	free(ctx.correlation_id);
	mc_args_free(&a);
	mc_log_shutdown();
	return code;
}
