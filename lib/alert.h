/*
 * alert.h - alerts delivered to webhooks (mercuryctl-alert(1)): the alert, the
 * [webhook "NAME"] targets, each service's payload, and delivery with
 * severity filter, dedup, rate limit, circuit breaker and retries, all
 * persisted in the state file so they hold across processes and cron runs.
 *
 * A delivery goes through these steps, in this order, per webhook:
 *   filter     the alert's severity is below min_severity   -> filtered
 *   usable     the webhook's URL or key could not be read
 *              (an unset url_env, a missing url_file)       -> failed
 *   dedup      the same key went out within dedup_window,
 *              or a resolve has no trigger to resolve         -> suppressed
 *   breaker    the webhook's circuit is open                -> failed
 *              (MC_DLV_CIRCUIT_OPEN: no request made; JSON's
 *              "circuit_open" says so)
 *   rate       a token is reserved; the request waits for it
 *              (past the run's deadline                     -> failed)
 *   send       POST with retries and backoff (Retry-After)  -> delivered
 *                                                              or failed
 * The dedup record is claimed before the request, under a lease that ends
 * with the run's deadline, so two processes sending the same alert at once
 * deliver it once; a failed delivery gives the claim back, so the next run
 * tries again.
 *
 * Identity: an alert is its dedup key, by default a hash of summary,
 * source and labels, not severity. A trigger at another severity than the
 * one open at a webhook is an escalation (or the reverse) of the same
 * incident: it is delivered, and for Alertmanager, whose alerts are their
 * label sets, the request also ends the alert at the old severity. A
 * resolve resolves whatever severity the webhook was sent.
 */
#ifndef MC_ALERT_H
#define MC_ALERT_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "config.h"
#include "http.h"
#include "mc.h"
#include "resil.h"
#include "state.h"

enum mc_severity {
	MC_SEV_INFO = 0,
	MC_SEV_WARNING = 1,
	MC_SEV_CRITICAL = 2,
};
#define MC_SEVERITIES "info|warning|critical"
const char *mc_severity_name(int sev);
int mc_severity_parse(const char *s);		/* -1 when unknown */

enum mc_webhook_type {
	MC_WH_SLACK,
	MC_WH_DISCORD,
	MC_WH_JSON,
	MC_WH_ALERTMANAGER,
	MC_WH_PAGERDUTY,
};
#define MC_WEBHOOK_TYPES "slack|discord|json|alertmanager|pagerduty"
const char *mc_webhook_type_name(int type);

struct mc_label {
	char *key;
	char *value;
};

enum mc_alert_action {
	MC_ACT_TRIGGER,
	MC_ACT_RESOLVE,
	MC_ACT_TEST,		/* alert test: marked, bypasses filter and
				   dedup */
};
const char *mc_alert_action_name(int action);

struct mc_alert {
	int action;
	int severity;		/* -1: not given (a resolve needs none) */
	char *summary;
	char *description;	/* may be NULL */
	char *source;		/* default: the host name */
	struct mc_label *labels;	/* sorted by key, keys unique */
	size_t n_labels;
	char *dedup_key;	/* given, or mc_alert_default_key() */
	char *correlation_id;
	char *generator_url;	/* may be NULL */
	double started;		/* wall clock: startsAt, timestamps */
	int no_dedup;		/* --no-dedup */
};

/* Adds a label from "KEY=VALUE" (the key: letters, digits, underscores,
 * not starting with a digit, as Prometheus label names; a repeated key
 * replaces the earlier value). -1 with MC_EXIT_USAGE otherwise. */
int mc_alert_add_label(struct mc_alert *a, const char *kv,
		       struct mc_err *err);
/* "mc-" and 32 hex digits of SHA-256 over summary, source and the
 * labels, each length-prefixed so no two alerts share an encoding; not
 * the severity, so an escalation keeps its identity. Caller frees. */
char *mc_alert_default_key(const struct mc_alert *a);
/* Checks the texts are UTF-8 without NUL (MC_EXIT_DATAERR) and the summary
 * is not empty (MC_EXIT_USAGE); fills dedup_key and source when unset. */
int mc_alert_finish(struct mc_alert *a, struct mc_err *err);
void mc_alert_release(struct mc_alert *a);

/* Per-service limits (characters, not bytes), documented in
 * mercuryctl-alert(1): longer text is cut at a character boundary and ends
 * in "…". */
#define MC_LIMIT_SLACK_HEADER	150	/* header block plain_text */
#define MC_LIMIT_SLACK_SECTION	3000	/* section block text */
#define MC_LIMIT_DISCORD_TITLE	256	/* embed title */
#define MC_LIMIT_DISCORD_DESC	4096	/* embed description */
#define MC_LIMIT_DISCORD_FIELD	1024	/* embed field value */
#define MC_LIMIT_PD_SUMMARY	1024	/* payload.summary */
#define MC_LIMIT_PD_DEDUP	255	/* dedup_key */
#define MC_LIMIT_TEXT		16384	/* json and alertmanager */


struct mc_webhook {
	char *name;
	int type;
	char *url;		/* the secret (registered for redaction) */
	char *routing_key;	/* pagerduty */
	int min_severity;
	double rate;		/* tokens per second; 0: no limit */
	double burst;
	int64_t dedup_window_ms;
	int64_t timeout_ms;
	int retries;
	struct mc_breaker_conf breaker;
	/* Why this webhook cannot be used in this run (its url_env unset,
	 * its url_file unreadable, its URL not http), naming the file, line
	 * and key; NULL when it can. It fails alone: the others go on. */
	char *unusable;
};

/* The webhooks named (NULL/0: every configured one). A name the
 * configuration lacks is MC_EXIT_USAGE with a suggestion. A webhook whose
 * secrets cannot be read now is loaded with ->unusable set, so one broken
 * webhook never stops the others. Secrets are registered with
 * mc_redact_add(). A plain `url` in a file others can read is accepted
 * with a warning on stderr. */
int mc_webhooks_load(const struct mc_conf *conf, const char *const *names,
		     size_t n_names, struct mc_webhook **out, size_t *n,
		     struct mc_err *err);
void mc_webhooks_free(struct mc_webhook *w, size_t n);

/* The request body for wh (JSON text). open_severity is the severity at
 * which this alert is open at wh (-1: none known): a resolve resolves that
 * one (else the alert's); a trigger at another severity is an escalation,
 * and for Alertmanager the body also ends the alert at open_severity.
 * now: wall clock. Caller frees. */
char *mc_alert_payload(const struct mc_webhook *wh, const struct mc_alert *a,
		       int open_severity, double now);
/* The URL the payload goes to (alertmanager: base + /api/v2/alerts).
 * Caller frees. */
char *mc_webhook_endpoint(const struct mc_webhook *wh);

enum mc_delivery_result {
	MC_DLV_DELIVERED,
	MC_DLV_SUPPRESSED,
	MC_DLV_FILTERED,
	MC_DLV_FAILED,
	MC_DLV_CIRCUIT_OPEN,	/* failed without a request: "failed" */
};
/* The result as reported (mercuryctl-alert(1)): delivered, suppressed,
 * filtered or failed; an open circuit is a failed delivery. */
const char *mc_delivery_result_name(int result);

struct mc_delivery {
	const struct mc_webhook *wh;
	int result;
	int attempts;
	long http_status;
	double latency_ms;
	char *message;		/* why, for anything but delivered */
};

struct mc_coord;
struct mc_alert_env {
	struct mc_state *st;
	struct mc_http *http;
	const struct mc_deadline *dl;
	const struct mc_clock *clock;	/* NULL: wall clock */
	int64_t run_id;
	/* where dedup claims, breakers and buckets are kept (coord.h: the
	 * state file or the fleet); NULL: the state file */
	struct mc_coord *coord;
};

/* Delivers a to every webhook of whs concurrently (the steps above), and
 * records each outcome in the alert log. out gets one delivery per
 * webhook. Returns 0 when it ran (look at the results), -1 on a state
 * file error. */
int mc_alert_deliver(const struct mc_alert_env *env, const struct mc_alert *a,
		     const struct mc_webhook *whs, size_t n,
		     struct mc_delivery **out, struct mc_err *err);
void mc_deliveries_free(struct mc_delivery *d, size_t n);
/* {"NAME": {"type", "result", "attempts", "http_status", "latency_ms",
 * "message"}, ...} */
json_t *mc_deliveries_json(const struct mc_delivery *d, size_t n);
/* Exit code of a set of deliveries: 0 when none failed, 1 when some did,
 * 2 when every one did (failed or circuit open). */
int mc_deliveries_exit(const struct mc_delivery *d, size_t n);

/* The alert log, newest first (since 0: all; webhook NULL: all; limit 0:
 * no limit, else the newest `limit`). */
struct mc_alert_log {
	double ts;
	char *webhook;
	char *action;
	char *severity;
	char *summary;
	char *source;
	char *dedup_key;
	char *result;
	int attempts;
	long http_status;
	double latency_ms;
	char *message;
	char *correlation_id;
};
int mc_alert_history(struct mc_state *st, double since, const char *webhook,
		     size_t limit, struct mc_alert_log **out, size_t *n,
		     struct mc_err *err);
void mc_alert_history_free(struct mc_alert_log *l, size_t n);
/* The newest outcome logged for webhook, whichever run delivered it
 * (alert send or test, health --notify, a job's or oauth's notify): 1
 * and *out filled (release with mc_alert_log_release), 0 when none, -1. */
int mc_alert_last(struct mc_state *st, const char *webhook,
		  struct mc_alert_log *out, struct mc_err *err);
void mc_alert_log_release(struct mc_alert_log *e);

#endif
