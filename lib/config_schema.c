/*
 * config_schema.c - every section mercury.conf may hold, with one help line
 * per key: the loader checks files against these tables, and `config show`
 * and mercury.conf(5) are written from them. A new section is one more
 * table and one more line in mc_conf_schemas[]. The [check] section's
 * schema comes from the registry of check types (lib/check_types.c).
 */
#include <ctype.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "oauth.h"
#include "slo.h"
#include "job.h"
#include "threshold.h"
#include "config.h"
#include "backup.h"

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
	{ .name = "time_zone", .type = MC_CT_ENUM, .def = "utc",
	  .choices = "utc|local",
	  .help = "times in text output: utc, or local (the TZ zone, with its "
		  "offset); JSON is always UTC; --local-time sets local" },
	{ .name = "pushgateway_url", .type = MC_CT_URL,
	  .env = "MERCURY_PUSHGATEWAY_URL",
	  .help = "push every run's metrics to this Pushgateway (as "
		  "--pushgateway does; credentials in its user info are "
		  "masked)" },
	{ .name = "pushgateway_url_file", .type = MC_CT_PATH,
	  .help = "a file holding the Pushgateway URL, credentials and all, "
		  "kept out of argv and this file" },
	{ .name = "pushgateway_url_env", .type = MC_CT_STRING,
	  .help = "an environment variable holding the Pushgateway URL" },
	{ .name = NULL },
};

/* The Pushgateway's URL comes from one place in the file. */
static int core_validate(const struct mc_conf_section *s, const char **key,
			 char *why, size_t size)
{
	static const char *const keys[] = { "pushgateway_url",
					    "pushgateway_url_file",
					    "pushgateway_url_env" };
	int n = 0;

	for (size_t i = 0; i < 3; i++) {
		const struct mc_conf_value *v = mc_conf_get(s, keys[i]);

		/* MERCURY_PUSHGATEWAY_URL overrides the file's keys. */
		if (v != NULL && strncmp(v->source, "env ", 4) != 0 &&
		    n++ > 0) {
			*key = keys[i];
			snprintf(why, size, "give one of pushgateway_url, "
				 "pushgateway_url_file and pushgateway_url_env");
			return -1;
		}
	}
	return 0;
}

static const struct mc_conf_schema core_schema = {
	.name = "core",
	.named = 0,
	.help = "settings for every command",
	.keys = core_keys,
	.validate = core_validate,
};

static const struct mc_conf_key dlq_keys[] = {
	{ .name = "source", .type = MC_CT_STRING, .flags = MC_CK_REQUIRED,
	  .help = "the dead-letter list replayed from (its head is the oldest)" },
	{ .name = "target", .type = MC_CT_STRING, .flags = MC_CK_REQUIRED,
	  .help = "the work queue retried messages are appended to" },
	{ .name = "dead", .type = MC_CT_STRING, .flags = MC_CK_REQUIRED,
	  .help = "the terminal list for messages out of retries or unparseable" },
	{ .name = "url", .type = MC_CT_URL,
	  .help = "redis://[:password@]host:port/db (default [core] redis_url)" },
	{ .name = "password_file", .type = MC_CT_PATH,
	  .help = "a file holding the Redis password (default [core] "
		  "redis_password_file)" },
	{ .name = "retry_field", .type = MC_CT_STRING, .def = "retry_count",
	  .help = "the top-level field counting a message's retries" },
	{ .name = "max_retries", .type = MC_CT_INT, .def = "3",
	  .help = "a message whose counter has reached this goes to dead" },
	{ .name = "batch", .type = MC_CT_INT, .def = "100",
	  .help = "messages moved per atomic step (1 to 5000)" },
	{ .name = "shed_threshold", .type = MC_CT_INT, .def = "0",
	  .help = "stop (or with --defer wait) while the target holds at least "
		  "this many messages (0: never)" },
	{ .name = "rate", .type = MC_CT_RATE,
	  .help = "at most this many messages per time (N/s, N/m; default: "
		  "no limit)" },
	{ .name = NULL },
};

/* The three lists must be three lists, and a batch must fit one script
 * call. */
static int dlq_validate(const struct mc_conf_section *s, const char **key,
			char *why, size_t size)
{
	const char *src = mc_conf_str(s, "source");
	const char *tgt = mc_conf_str(s, "target");
	const char *dead = mc_conf_str(s, "dead");
	long long batch = mc_conf_int(s, "batch", 100);

	if (mc_streq(src, tgt) || mc_streq(src, dead) || mc_streq(tgt, dead)) {
		*key = mc_streq(src, tgt) ? "target" : "dead";
		snprintf(why, size, "source, target and dead must be three "
			 "different lists (%s, %s, %s)", src, tgt, dead);
		return -1;
	}
	if (batch < 1 || batch > 5000) {
		*key = "batch";
		snprintf(why, size, "batch must be 1 to 5000, not %lld", batch);
		return -1;
	}
	return 0;
}

static const struct mc_conf_schema dlq_schema = {
	.name = "dlq",
	.named = 1,
	.help = "one dead-letter queue, three Redis lists, replayed by "
		"`mercuryctl dlq`",
	.keys = dlq_keys,
	.validate = dlq_validate,
};

#define WEBHOOK_TYPES "slack|discord|json|alertmanager|pagerduty"

static const struct mc_conf_key webhook_keys[] = {
	{ .name = "type", .type = MC_CT_ENUM, .flags = MC_CK_REQUIRED,
	  .choices = WEBHOOK_TYPES,
	  .help = "the service, and so the payload's format" },
	{ .name = "url", .type = MC_CT_URL, .flags = MC_CK_SECRET,
	  .help = "the webhook URL, a secret: prefer url_file or url_env "
		  "(alertmanager: its base URL, to which /api/v2/alerts "
		  "is appended; pagerduty: default "
		  "https://events.pagerduty.com/v2/enqueue)" },
	{ .name = "url_file", .type = MC_CT_PATH,
	  .help = "a file holding the webhook URL" },
	{ .name = "url_env", .type = MC_CT_STRING,
	  .help = "an environment variable holding the webhook URL" },
	{ .name = "routing_key_file", .type = MC_CT_PATH, .types = "pagerduty",
	  .help = "a file holding the PagerDuty routing (integration) key" },
	{ .name = "routing_key_env", .type = MC_CT_STRING, .types = "pagerduty",
	  .help = "an environment variable holding the routing key" },
	{ .name = "min_severity", .type = MC_CT_ENUM, .def = "info",
	  .choices = "info|warning|critical",
	  .help = "alerts below this severity are filtered out" },
	{ .name = "rate", .type = MC_CT_RATE, .def = "1/s",
	  .help = "at most this many deliveries per time (N/s, N/m), kept "
		  "across runs" },
	{ .name = "burst", .type = MC_CT_INT, .def = "5",
	  .help = "deliveries that may go at once before rate applies" },
	{ .name = "dedup_window", .type = MC_CT_DURATION, .def = "15m",
	  .help = "the same alert again within this span is suppressed" },
	{ .name = "timeout", .type = MC_CT_DURATION, .def = "10s",
	  .help = "time limit of each attempt" },
	{ .name = "retries", .type = MC_CT_INT, .def = "3",
	  .help = "further attempts after a failed one (0 to 10)" },
	{ .name = "breaker_failures", .type = MC_CT_INT,
	  .help = "failed deliveries in a row that open this webhook's "
		  "breaker (default [core])" },
	{ .name = "breaker_recovery", .type = MC_CT_DURATION,
	  .help = "how long its open breaker waits before one probe "
		  "(default [core])" },
	{ .name = NULL },
};

/* Exactly one place for the URL (pagerduty may use its default), a routing
 * key for pagerduty, sane numbers. */
static int webhook_validate(const struct mc_conf_section *s, const char **key,
			    char *why, size_t size)
{
	static const char *const url_keys[] = { "url", "url_file", "url_env" };
	int pd = mc_streq(mc_conf_str(s, "type"), "pagerduty");
	int n = 0;

	for (size_t i = 0; i < MC_ARRAY_LEN(url_keys); i++)
		if (mc_conf_str(s, url_keys[i]) != NULL) {
			n++;
			if (n > 1) {
				*key = url_keys[i];
				snprintf(why, size, "give one of url, url_file "
					 "and url_env, not several");
				return -1;
			}
		}
	if (n == 0 && !pd) {
		snprintf(why, size, "the webhook needs url_file, url_env or "
			 "url");
		return -1;
	}
	if (pd && (mc_conf_str(s, "routing_key_file") != NULL) ==
		  (mc_conf_str(s, "routing_key_env") != NULL)) {
		*key = mc_conf_str(s, "routing_key_file") ?
		       "routing_key_env" : NULL;
		snprintf(why, size, "a pagerduty webhook needs one of "
			 "routing_key_file and routing_key_env");
		return -1;
	}
	if (mc_conf_int(s, "retries", 3) > 10) {
		*key = "retries";
		snprintf(why, size, "retries must be 0 to 10");
		return -1;
	}
	if (mc_conf_int(s, "burst", 5) < 1) {
		*key = "burst";
		snprintf(why, size, "burst must be at least 1");
		return -1;
	}
	if (mc_conf_ms(s, "timeout", 10000) <= 0) {
		*key = "timeout";
		snprintf(why, size, "timeout must be longer than 0");
		return -1;
	}
	return 0;
}

static const struct mc_conf_schema webhook_schema = {
	.name = "webhook",
	.named = 1,
	.help = "one alert destination, used by `mercuryctl alert` and "
		"`health --notify`",
	.keys = webhook_keys,
	.validate = webhook_validate,
};

static const struct mc_conf_key slo_keys[] = {
	{ .name = "objective", .type = MC_CT_STRING, .flags = MC_CK_REQUIRED,
	  .help = "the objective in percent, above 0 and below 100 (99.9); "
		  "the error budget is 100 minus it" },
	{ .name = "window", .type = MC_CT_DURATION, .def = "30d",
	  .help = "the SLO window: SLI and budget are computed over it; at "
		  "least the longest window of page and ticket" },
	{ .name = "error_query", .type = MC_CT_STRING, .flags = MC_CK_REQUIRED,
	  .help = "PromQL for bad events, aggregated to one series, with "
		  "{{window}} where the range goes: "
		  "sum(rate(x{code=~\"5..\"}[{{window}}]))" },
	{ .name = "total_query", .type = MC_CT_STRING, .flags = MC_CK_REQUIRED,
	  .help = "PromQL for all events, as error_query: "
		  "sum(rate(x[{{window}}]))" },
	{ .name = "page", .type = MC_CT_STRING, .def = MC_SLO_DEFAULT_PAGE,
	  .flags = MC_CK_LIST,
	  .help = "window pairs that make the SLO critical: LONG SHORT "
		  "THRESHOLD, comma-separated or the key repeated; THRESHOLD "
		  "a burn factor for a 30d window (scaled to this window) or a "
		  "budget share (2%); none for no pair" },
	{ .name = "ticket", .type = MC_CT_STRING, .def = MC_SLO_DEFAULT_TICKET,
	  .flags = MC_CK_LIST,
	  .help = "window pairs that make the SLO warn, as page" },
	{ .name = "min_rate", .type = MC_CT_STRING,
	  .help = "a pair does not fire while total_query over its short "
		  "window is below this (requests/s: 0.5, or 30/m)" },
	{ .name = "timeout", .type = MC_CT_DURATION, .def = "10s",
	  .help = "time one Prometheus query may take" },
	{ .name = "breaker_failures", .type = MC_CT_INT,
	  .help = "overrides [core] breaker_failures for this SLO" },
	{ .name = "breaker_recovery", .type = MC_CT_DURATION,
	  .help = "overrides [core] breaker_recovery for this SLO" },
	{ .name = NULL },
};

/* Everything mercuryctl will need to evaluate the SLO, checked now: the
 * objective, the placeholders, the policy and the window's length. */
static int slo_validate(const struct mc_conf_section *s, const char **key,
			char *why, size_t size)
{
	struct mc_slo_def d;

	if (mc_slo_def_from_section(s, NULL, &d, key, why, size) < 0)
		return -1;
	mc_slo_def_release(&d);
	return 0;
}

static const struct mc_conf_schema slo_schema = {
	.name = "slo",
	.named = 1,
	.help = "one service level objective, evaluated against Prometheus "
		"by `mercuryctl slo`",
	.keys = slo_keys,
	.validate = slo_validate,
};

static const struct mc_conf_key fleet_keys[] = {
	{ .name = "redis_url", .type = MC_CT_URL,
	  .help = "the Redis the fleet shares, redis://[[user]:password@]"
		  "host[:port][/db] (default [core] redis_url)" },
	{ .name = "password_file", .type = MC_CT_PATH,
	  .help = "a file holding that Redis's password (default [core] "
		  "redis_password_file; then $MERCURY_REDIS_PASSWORD, "
		  "$REDISCLI_AUTH)" },
	{ .name = "name", .type = MC_CT_STRING,
	  .help = "this host's name in the fleet (default: the host name)" },
	{ .name = "key_prefix", .type = MC_CT_STRING, .def = "mercury",
	  .help = "the first part of every key the fleet writes" },
	{ .name = "lease", .type = MC_CT_DURATION, .def = "30s",
	  .help = "lifetime of a fleet lock, renewed while it is held" },
	{ .name = NULL },
};

/* A name and a prefix go into keys and listings: printable, no spaces. */
static int fleet_validate(const struct mc_conf_section *s, const char **key,
			  char *why, size_t size)
{
	static const char *const words[] = { "name", "key_prefix" };

	for (size_t i = 0; i < MC_ARRAY_LEN(words); i++) {
		const char *v = mc_conf_str(s, words[i]);

		if (v == NULL)
			continue;
		if (*v == '\0' || strlen(v) > 200) {
			*key = words[i];
			snprintf(why, size, "%s must be 1 to 200 characters",
				 words[i]);
			return -1;
		}
		for (const char *p = v; *p; p++)
			if ((unsigned char)*p <= ' ' || *p == 127 ||
			    *p == '{' || *p == '}') {
				*key = words[i];
				snprintf(why, size, "%s may not hold spaces, "
					 "control characters or braces",
					 words[i]);
				return -1;
			}
	}
	if (mc_conf_ms(s, "lease", 30000) < 1000) {
		*key = "lease";
		snprintf(why, size, "lease must be at least 1s");
		return -1;
	}
	return 0;
}

static const struct mc_conf_schema fleet_schema = {
	.name = "fleet",
	.named = 0,
	.help = "shared state of several hosts in one Redis: alert dedup, "
		"rate limits, circuit breakers and locks (see "
		"mercuryctl-fleet(1))",
	.keys = fleet_keys,
	.validate = fleet_validate,
};

const struct mc_conf_schema *const mc_conf_schemas[] = {
	&core_schema,
	&mc_check_schema,
	&dlq_schema,
	&webhook_schema,
	&slo_schema,
	&mc_oauth_schema,
	&fleet_schema,
	&mc_backup_schema,
	&mc_backup_source_schema,
	&mc_job_schema,
	NULL,
};
