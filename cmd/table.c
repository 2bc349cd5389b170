/* table.c - the root of the command table: global options and commands. */
#include "cmd.h"

static const struct mc_opt global_opts[] = {
	{ 'c', "config", "FILE", MC_OPT_VALUE, MC_ARG_FILE, NULL,
	  "Read the configuration from FILE", 0 },
	{ 0, "state", "PATH", MC_OPT_VALUE, MC_ARG_FILE, NULL,
	  "Keep durable state in the SQLite file PATH", 0 },
	{ 'o', "output", "FORMAT", MC_OPT_VALUE, MC_ARG_ENUM,
	  "text|json|prom|nagios", "Print results in FORMAT", 0 },
	{ 0, "json", NULL, MC_OPT_FLAG, MC_ARG_STRING, NULL,
	  "Same as --output json", 0 },
	{ 'q', "quiet", NULL, MC_OPT_FLAG, MC_ARG_STRING, NULL,
	  "Print nothing on success and one line on failure", 0 },
	{ 'v', "verbose", NULL, MC_OPT_COUNT, MC_ARG_STRING, NULL,
	  "Log more (repeat for debug)", 0 },
	{ 0, "log-format", "FORMAT", MC_OPT_VALUE, MC_ARG_ENUM, "text|json",
	  "Write logs on stderr as text or JSON lines", 0 },
	{ 0, "timeout", "DURATION", MC_OPT_VALUE, MC_ARG_DURATION, "positive",
	  "Deadline for the whole run, longer than 0 (default [core] "
	  "timeout, 60s)", 0 },
	{ 0, "correlation-id", "ID", MC_OPT_VALUE, MC_ARG_STRING, NULL,
	  "Correlation id of this run (default: a fresh W3C trace id)", 0 },
	{ 0, "textfile-dir", "DIR", MC_OPT_VALUE, MC_ARG_DIR, NULL,
	  "Also write metrics atomically to DIR/mercuryctl_COMMAND.prom "
	  "(for node_exporter's textfile collector; see FILES)", 0 },
	{ 0, "pushgateway", "URL", MC_OPT_VALUE, MC_ARG_URL, NULL,
	  "Also push metrics to the Pushgateway at URL", 0 },
	{ 0, "wait-lock", "DURATION", MC_OPT_VALUE, MC_ARG_DURATION, NULL,
	  "Wait up to DURATION for another run's lock instead of exiting 75",
	  0 },
	{ 0, "no-color", NULL, MC_OPT_FLAG, MC_ARG_STRING, NULL,
	  "Never colour the output (as NO_COLOR does)", 0 },
	{ 0, "local-time", NULL, MC_OPT_FLAG, MC_ARG_STRING, NULL,
	  "Show times in text output in local time (TZ), not UTC", 0 },
	{ 'h', "help", NULL, MC_OPT_FLAG, MC_ARG_STRING, NULL,
	  "Show help for the command and exit", 0 },
	{ 0, "version", NULL, MC_OPT_FLAG, MC_ARG_STRING, NULL,
	  "Print the version and exit", 0 },
	{ 0 },
};

static const struct mc_cmd *const commands[] = {
	&mc_cmd_health,
	&mc_cmd_slo,
	&mc_cmd_dlq,
	&mc_cmd_alert,
	&mc_cmd_job,
	&mc_cmd_oauth,
	&mc_cmd_backup,
	&mc_cmd_history,
	&mc_cmd_breaker,
	&mc_cmd_fleet,
	&mc_cmd_config,
	&mc_cmd_completion,
	&mc_cmd_version,
	NULL,
};

const struct mc_cmd mc_cmd_root = {
	.examples =
	"Run the checks of the configuration (the built-in ones without one):\n"
	"$ mercuryctl health\n"
	"Another configuration, the result as one JSON document:\n"
	"$ mercuryctl -c /etc/mercury/staging.conf health --json\n"
	"What ran lately, and how it ended:\n"
	"$ mercuryctl history\n"
	"A command's own options:\n"
	"$ mercuryctl dlq replay --help\n",
	.name = "mercuryctl",
	.summary = "Operator's toolkit for keeping a small fleet of services healthy",
	.description =
	"mercuryctl checks dependencies and keeps durable state between runs "
	"(circuit breakers, rate limits, history) in one SQLite file. It is "
	"made for four uses: an interactive shell (tables, colour on a "
	"terminal, completion), cron and systemd timers (quiet on success, "
	"meaningful exit codes, locks), CI gates (exit codes and one JSON "
	"document on stdout) and monitoring systems (Nagios plugin output, "
	"Prometheus exposition, textfile collector, Pushgateway).\n\n"
	"Global options are accepted before or after the command.\n\n"
	"Untrusted text (Redis values, HTTP bodies, plugin output, server "
	"error strings, arguments quoted back in errors) is shown escaped in "
	"text output, Nagios output, logs and the state file: control "
	"characters (C0, DEL, C1) and bytes that are not UTF-8 are written "
	"\\xNN, one per byte, as ls -b and redis-cli do. JSON output keeps "
	"every field and message: JSON escapes control characters itself, and "
	"a byte that is not part of well-formed UTF-8 is written as the text "
	"\\xNN. Secrets (passwords, tokens, URL credentials, secret query "
	"parameters such as key=, token=, password=) are masked as *** in every "
	"output, stdout included.",
	.opts = global_opts,
	.subs = commands,
	.max_args = -1,
};

const char mc_man_exit_status[] =
".SH EXIT STATUS\n"
".TP\n\\fB0\\fR\nOK: the action fully succeeded.\n"
".TP\n\\fB1\\fR\nWARNING: degraded, or the action was partly done.\n"
".TP\n\\fB2\\fR\nCRITICAL: unavailable, or the action failed.\n"
".TP\n\\fB3\\fR\nUNKNOWN: the state could not be evaluated.\n"
".TP\n\\fB64\\fR\nUsage error.\n"
".TP\n\\fB65\\fR\nBad input data.\n"
".TP\n\\fB74\\fR\nI/O error (state file, backup directory, textfile, Pushgateway).\n"
".TP\n\\fB75\\fR\nAnother run holds the lock (the message names its pid).\n"
".TP\n\\fB78\\fR\nConfiguration error (the message names file and line).\n"
".TP\n\\fB130\\fR, \\fB143\\fR\nInterrupted by SIGINT or SIGTERM after a clean stop.\n"
".PP\nWith \\fB\\-o nagios\\fR every code is 0 to 3, as the Nagios plugin "
"guidelines require; a command without a check result (history, breaker "
"list, dlq peek, ...) prints \\fBUNKNOWN \\- no check result\\fR and exits 3, "
"while health, slo status, alert, dlq stats, dlq replay, job list, oauth "
"status, config check and backup verify give a real verdict.\n"
".PP\nWhen the run's metrics cannot be exported (\\fB\\-\\-textfile\\-dir\\fR, "
"\\fB\\-\\-pushgateway\\fR), the result is still printed, the export "
"failure is reported on standard error (and as \\fB\"metrics_error\"\\fR in "
"JSON), and the exit code is the worse of the two: 74 (3 with "
"\\fB\\-o nagios\\fR).\n"
".PP\nA reader that goes away (\\fBmercuryctl dlq peek | head \\-2\\fR, "
"\\fBhealth \\-\\-watch 1m | head \\-1\\fR) ends the run quietly, without an "
"error message, with the command's own exit code, and the run is recorded "
"as completed, as \\fBgit log | head\\fR does.\n";

const char mc_man_environment[] =
".SH ENVIRONMENT\n"
".TP\n\\fBMERCURY_CONFIG\\fR\nThe configuration file, when \\fB\\-\\-config\\fR is not given.\n"
".TP\n\\fBMERCURY_STATE\\fR\nThe state file, when \\fB\\-\\-state\\fR is not given.\n"
".TP\n\\fBMERCURY_PROMETHEUS_URL\\fR, \\fBPROMETHEUS_URL\\fR\nOverride [core] prometheus_url.\n"
".TP\n\\fBMERCURY_REDIS_URL\\fR, \\fBREDIS_URL\\fR\nOverride [core] redis_url.\n"
".TP\n\\fBMERCURY_REDIS_PASSWORD\\fR, \\fBREDISCLI_AUTH\\fR\nThe Redis password when the URL has none.\n"
".TP\n\\fBMERCURY_LOG_FORMAT\\fR, \\fBMERCURY_LOG_LEVEL\\fR\nOverride [core] log_format and log_level.\n"
".TP\n\\fBMERCURY_CORRELATION_ID\\fR\nThe correlation id, when \\fB\\-\\-correlation\\-id\\fR is not given.\n"
".TP\n\\fBMERCURY_PUSHGATEWAY_URL\\fR\nThe Pushgateway to push metrics to, when "
"\\fB\\-\\-pushgateway\\fR is not given (overrides [core] pushgateway_url, "
"pushgateway_url_file and pushgateway_url_env); its credentials are masked "
"like every URL secret.\n"
".TP\n\\fBNO_COLOR\\fR\nWhen set to a value that is not empty, output is never coloured (no-color.org).\n"
".PP\nA bad value in one of these variables is a configuration error: "
"exit 78, naming the variable.\n"
".SH FILES\n"
".TP\n\\fI$XDG_CONFIG_HOME/mercury/mercury.conf\\fR, \\fI/etc/mercury/mercury.conf\\fR\n"
"The configuration, see \\fBmercury.conf\\fR(5).\n"
".TP\n\\fI$XDG_STATE_HOME/mercury/state.db\\fR\n"
"The state file (default \\fI~/.local/state/mercury/state.db\\fR; "
"\\fI/var/lib/mercury/state.db\\fR when neither \\fBXDG_STATE_HOME\\fR nor "
"\\fBHOME\\fR is set, as under some service managers and \\fBenv \\-i\\fR); "
"lock files live in \\fIlocks/\\fR beside it. Neither is ever opened "
"through a link; a state or lock directory that belongs to another user or "
"that every user may write to is refused, and a state file readable by "
"others is tightened to 0600.\n"
".TP\n\\fIDIR/mercuryctl_COMMAND.prom\\fR\n"
"With \\fB\\-\\-textfile\\-dir\\fR \\fIDIR\\fR, the run's metrics for "
"node_exporter's textfile collector, written atomically (a temporary file "
"created beside it, then renamed), the blanks of COMMAND as underscores "
"(\\fImercuryctl_backup_create.prom\\fR): the run's own "
"\\fBmercuryctl_run_duration_seconds\\fR, \\fBmercuryctl_run_exit_code\\fR "
"and \\fBmercuryctl_run_timestamp_seconds\\fR (labelled command) and the "
"families only that command reports. The collector fails on a series "
"found in two files, so no series is ever written to two.\n"
".TP\n\\fIDIR/mercuryctl_TOP.prom\\fR\n"
"What several subcommands of \\fBbackup\\fR, \\fBjob\\fR, \\fBoauth\\fR, "
"\\fBdlq\\fR and \\fBalert\\fR report, one file for each of these "
"(\\fImercuryctl_job.prom\\fR): every backup directory (the configured "
"one, \\fB\\-\\-dest\\fR, each one the catalogue knows backups in), every "
"job (configured, or known by its runs), every provider's token, every "
"DLQ's replay counters and last replay, every webhook's last delivery. "
"Each of their subcommands rewrites it whole from the configuration, the "
"state file and the backup directories (never over the network), so a "
"run for one job or directory never drops another's series. The DLQ "
"depths, measured in Redis, are in \\fImercuryctl_dlq_stats.prom\\fR "
"alone. Standard output (\\fB\\-o prom\\fR) and \\fB\\-\\-pushgateway\\fR "
"(grouped by command) carry the run's own view: what that run "
"measured.\n";
