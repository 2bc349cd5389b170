/*
 * config_schema.c - every section mercury.conf may hold, with one help line
 * per key: the loader checks files against these tables, and `config show`
 * and mercury.conf(5) are written from them. A new section is one more
 * table and one more line in mc_conf_schemas[].
 */
#include "config.h"

#include <stdio.h>

static const struct mc_conf_key core_keys[] = {
	{ .name = "prometheus_url", .type = MC_CT_URL,
	  .def = "http://127.0.0.1:9090",
	  .env = "MERCURY_PROMETHEUS_URL PROMETHEUS_URL",
	  .help = "Prometheus base URL, for SLOs and prometheus checks" },
	{ .name = "redis_url", .type = MC_CT_URL,
	  .def = "redis://127.0.0.1:6379/0",
	  .env = "MERCURY_REDIS_URL REDIS_URL",
	  .help = "Redis URL, for queues, DLQs and redis checks" },
	{ .name = "redis_password_file", .type = MC_CT_PATH,
	  .help = "file holding the Redis password, kept out of URLs and argv" },
	{ .name = "timeout", .type = MC_CT_DURATION, .def = "60s",
	  .help = "deadline for a whole run" },
	{ .name = "state", .type = MC_CT_PATH, .env = "MERCURY_STATE",
	  .help = "state database (default $XDG_STATE_HOME/mercury/state.db)" },
	{ .name = "history", .type = MC_CT_DURATION, .def = "30d",
	  .help = "how long runs and results are kept" },
	{ .name = "breaker_failures", .type = MC_CT_INT, .def = "5",
	  .help = "consecutive failures that open a circuit breaker" },
	{ .name = "breaker_recovery", .type = MC_CT_DURATION, .def = "30s",
	  .help = "how long an open breaker waits before a trial call" },
	{ .name = "log_format", .type = MC_CT_ENUM, .def = "text",
	  .choices = "text|json", .env = "MERCURY_LOG_FORMAT",
	  .help = "format of log lines on stderr" },
	{ .name = "log_level", .type = MC_CT_ENUM, .def = "warn",
	  .choices = "error|warn|info|debug", .env = "MERCURY_LOG_LEVEL",
	  .help = "least severe log level written" },
	{ .name = NULL },
};

static const struct mc_conf_schema core_schema = {
	.name = "core",
	.named = 0,
	.help = "settings for every command",
	.keys = core_keys,
};

static const struct mc_conf_key check_keys[] = {
	{ .name = "type", .type = MC_CT_ENUM, .flags = MC_CK_REQUIRED,
	  .choices = "state|disk|memory",
	  .help = "what the check probes" },
	{ .name = "timeout", .type = MC_CT_DURATION, .def = "2s",
	  .help = "time one probe may take" },
	{ .name = "critical", .type = MC_CT_BOOL, .def = "false",
	  .help = "a failure makes the run unavailable, not degraded" },
	{ .name = "failure_threshold", .type = MC_CT_INT, .def = "3",
	  .help = "consecutive failures before the check alerts" },
	{ .name = "success_threshold", .type = MC_CT_INT, .def = "2",
	  .help = "consecutive passes before the check resolves" },
	{ .name = "breaker_failures", .type = MC_CT_INT,
	  .help = "overrides [core] breaker_failures for this check" },
	{ .name = "breaker_recovery", .type = MC_CT_DURATION,
	  .help = "overrides [core] breaker_recovery for this check" },
	{ .name = "path", .type = MC_CT_PATH, .types = "disk",
	  .help = "a path on the filesystem to check (default: the state file's directory)" },
	{ .name = "warn", .type = MC_CT_PERCENT, .def = "90",
	  .types = "disk|memory",
	  .help = "used percentage at which the check warns" },
	{ .name = "crit", .type = MC_CT_PERCENT, .def = "95",
	  .types = "disk|memory",
	  .help = "used percentage at which the check is critical" },
	{ .name = NULL },
};

/* warn must not exceed crit; the key blamed is one the file set. */
static int check_validate(const struct mc_conf_section *s, const char **key,
			  char *why, size_t size)
{
	const struct mc_conf_value *w = mc_conf_get(s, "warn");
	const struct mc_conf_value *c = mc_conf_get(s, "crit");

	if (w == NULL || c == NULL)
		return 0;
	if (mc_conf_double(s, "warn", 0) <= mc_conf_double(s, "crit", 0))
		return 0;
	*key = mc_streq(w->source, "default") ? "crit" : "warn";
	snprintf(why, size, "warn (%s) must not exceed crit (%s)", w->raw,
		 c->raw);
	return -1;
}

static const struct mc_conf_schema check_schema = {
	.name = "check",
	.named = 1,
	.help = "one health check, run by `mercuryctl health`",
	.keys = check_keys,
	.validate = check_validate,
};

const struct mc_conf_schema *const mc_conf_schemas[] = {
	&core_schema,
	&check_schema,
	NULL,
};
