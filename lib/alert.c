/*
 * alert.c - webhooks from the configuration, delivery (filter, dedup,
 * breaker, rate limit, send), and the alert log. See alert.h for the order
 * of the steps and why the dedup record is claimed before the request.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "alert.h"
#include "coord.h"
#include "json.h"
#include "log.h"

#define PAGERDUTY_DEFAULT_URL "https://events.pagerduty.com/v2/enqueue"
/* Cap of the texts kept in the alert log. */
#define LOG_TEXT_MAX 1024

/* A URL must be http(s): anything else is refused without being shown. */
static int url_ok(const char *url)
{
	return strncmp(url, "http://", 7) == 0 ||
	       strncmp(url, "https://", 8) == 0;
}

/* The settings every webhook has, usable or not (the filter needs them). */
static void load_settings(const struct mc_conf *conf,
			  const struct mc_conf_section *s,
			  struct mc_webhook *wh)
{
	const struct mc_conf_section *core = mc_conf_core(conf);

	wh->min_severity = (int)mc_conf_get(s, "min_severity")->v.i;
	wh->rate = mc_conf_double(s, "rate", 1);
	wh->burst = (double)mc_conf_int(s, "burst", 5);
	wh->dedup_window_ms = mc_conf_ms(s, "dedup_window", 15 * 60000);
	wh->timeout_ms = mc_conf_ms(s, "timeout", 10000);
	wh->retries = (int)mc_conf_int(s, "retries", 3);
	mc_breaker_conf_read(core, s, &wh->breaker);
}

/* Reads the webhook's URL and key. A secret that cannot be read now (an
 * unset url_env, a missing url_file) or a URL that is not http(s) leaves
 * wh->unusable saying why: that webhook fails alone. */
static int load_one(const struct mc_conf *conf,
		    const struct mc_conf_section *s, struct mc_webhook *wh,
		    struct mc_err *err)
{
	const struct mc_conf_value *v;
	struct mc_err e = { 0 };

	wh->name = mc_strdup(s->name);
	wh->type = (int)mc_conf_get(s, "type")->v.i;
	load_settings(conf, s, wh);
	if (mc_conf_secret(s, "url_file", "url_env", "webhook URL", &wh->url,
			&e) < 0) {
		wh->unusable = mc_strdup(e.msg);
		return 0;
	}
	if (wh->url == NULL && (v = mc_conf_get(s, "url")) != NULL &&
	    v->raw != NULL) {
		struct stat sb;

		wh->url = mc_strdup(v->raw);
		if (conf->path != NULL && stat(conf->path, &sb) == 0 &&
		    (sb.st_mode & 044) != 0)
			mc_log(MC_LOG_WARN, "%s: [webhook \"%s\"] url is a "
			       "secret in a file others can read: move it to "
			       "url_file or url_env", v->source, s->name);
	}
	if (wh->url == NULL && wh->type == MC_WH_PAGERDUTY)
		wh->url = mc_strdup(PAGERDUTY_DEFAULT_URL);
	if (wh->url == NULL)		/* config validation prevents it */
		return mc_err_set(err, MC_EXIT_CONFIG,
				  "%s: [webhook \"%s\"] has no URL", s->source,
				  s->name);
	mc_redact_add(wh->url);
	if (!url_ok(wh->url)) {
		wh->unusable = mc_asprintf("%s: [webhook \"%s\"] the URL is "
					   "not an http:// or https:// URL "
					   "(not shown: it is a secret)",
					   s->source, s->name);
		return 0;
	}
	if (wh->type == MC_WH_PAGERDUTY) {
		if (mc_conf_secret(s, "routing_key_file", "routing_key_env",
				"routing key", &wh->routing_key, &e) < 0) {
			wh->unusable = mc_strdup(e.msg);
			return 0;
		}
		mc_redact_add(wh->routing_key);
	}
	return 0;
}

static void webhook_release(struct mc_webhook *wh)
{
	free(wh->name);
	free(wh->unusable);
	mc_free_secret(wh->url);
	mc_free_secret(wh->routing_key);
}

void mc_webhooks_free(struct mc_webhook *w, size_t n)
{
	for (size_t i = 0; w != NULL && i < n; i++)
		webhook_release(&w[i]);
	free(w);
}

int mc_webhooks_load(const struct mc_conf *conf, const char *const *names,
		     size_t n_names, struct mc_webhook **out, size_t *n,
		     struct mc_err *err)
{
	const struct mc_conf_section **secs = NULL;
	struct mc_webhook *w;
	size_t count = 0, i;

	*out = NULL;
	*n = 0;
	if (mc_conf_select(conf, "webhook", "webhook", names, n_names, &secs,
			   &count, err) < 0)
		return -1;
	w = mc_calloc(count ? count : 1, sizeof(*w));
	for (i = 0; i < count; i++)
		if (load_one(conf, secs[i], &w[i], err) < 0) {
			mc_webhooks_free(w, i + 1);
			free(secs);
			return -1;
		}
	free(secs);
	*out = w;
	*n = count;
	return 0;
}

/* ---- delivery ---- */

static void set_msg(struct mc_delivery *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void set_msg(struct mc_delivery *d, const char *fmt, ...)
{
	va_list ap;
	char *m;

	va_start(ap, fmt);
	m = mc_vasprintf(fmt, ap);
	va_end(ap);
	free(d->message);
	/* curl's messages may quote the URL: it is a secret */
	d->message = mc_redact(m);
	free(m);
}

/* The name of a webhook's breaker and of its rate-limit bucket. */
static char *target_name(const struct mc_webhook *wh)
{
	return mc_asprintf("webhook:%s", wh->name);
}

/* One outcome in the alert log. */
static int log_delivery(struct mc_state *st, int64_t run_id, double now,
			const struct mc_alert *a, const struct mc_delivery *d,
			int severity, struct mc_err *err)
{
	static const char what[] = "cannot record the alert";
	sqlite3_stmt *s;
	char *summary = mc_utf8_truncate(a->summary, LOG_TEXT_MAX);
	int rc;

	if (mc_state_prepare(st, "INSERT INTO alert_log (run_id, ts, webhook,"
			     " dedup_key, action, severity, summary, source,"
			     " result, attempts, http_status, latency_ms,"
			     " message, correlation_id) VALUES (?1, ?2, ?3,"
			     " ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
			     " ?14)", &s, what, err) < 0) {
		free(summary);
		return -1;
	}
	if (run_id > 0)
		sqlite3_bind_int64(s, 1, run_id);
	else
		sqlite3_bind_null(s, 1);
	sqlite3_bind_double(s, 2, now);
	sqlite3_bind_text(s, 3, d->wh->name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 4, a->dedup_key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 5, mc_alert_action_name(a->action), -1,
			  SQLITE_STATIC);
	/* a resolve of an alert never triggered here, without --severity */
	sqlite3_bind_text(s, 6, severity >= 0 ? mc_severity_name(severity) :
			  "-", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, summary, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 8, a->source, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 9, mc_delivery_result_name(d->result), -1,
			  SQLITE_STATIC);
	sqlite3_bind_int(s, 10, d->attempts);
	if (d->http_status > 0)
		sqlite3_bind_int64(s, 11, d->http_status);
	else
		sqlite3_bind_null(s, 11);
	if (d->attempts > 0)
		sqlite3_bind_double(s, 12, d->latency_ms);
	else
		sqlite3_bind_null(s, 12);
	mc_state_bind_text(s, 13, d->message);
	mc_state_bind_text(s, 14, a->correlation_id ? a->correlation_id : "");
	rc = mc_state_exec_stmt(st, s, what, err);
	free(summary);
	return rc;
}

static const char *const json_headers[] = {
	"Content-Type: application/json",
	"Accept: application/json",
	NULL,
};

/* What one delivery holds while it is prepared, sent and settled. */
struct slot {
	struct mc_coord_claim claim;	/* the dedup record claimed */
	int open_severity;	/* the severity open at the webhook (for a
				   resolve: the one to resolve); -1: none */
	char *target;		/* "webhook:NAME": breaker and bucket */
	char *url;		/* the endpoint (a secret) */
	char *body;
	struct mc_http_req *req;	/* in the batch sent; NULL: none */
};

static void slot_release(struct slot *sl)
{
	mc_coord_claim_release(&sl->claim);
	free(sl->target);
	free(sl->url);
	free(sl->body);
}

/* The steps before the request for one webhook: filter, usable, dedup,
 * breaker, rate. 1: a request is to go (*start_after_ms set); 0: the
 * outcome is in d; -1: a state file error. */
static int prepare(const struct mc_alert_env *env, struct mc_coord *co,
		   const struct mc_alert *a, struct mc_delivery *d,
		   struct slot *sl, int64_t lease_ms, double left_s,
		   int64_t *start_after_ms, struct mc_err *err)
{
	const struct mc_webhook *wh = d->wh;
	char why[256] = "";
	double retry_at = 0, wait = 0;
	int r;

	if (a->action == MC_ACT_TRIGGER && a->severity < wh->min_severity) {
		d->result = MC_DLV_FILTERED;
		set_msg(d, "severity %s is below min_severity %s",
			mc_severity_name(a->severity),
			mc_severity_name(wh->min_severity));
		return 0;
	}
	if (wh->unusable) {
		set_msg(d, "%s", wh->unusable);
		return 0;
	}
	sl->open_severity = -1;
	if (a->action != MC_ACT_TEST) {
		r = mc_coord_dedup_claim(co, wh->name, a->dedup_key,
					 a->action == MC_ACT_RESOLVE,
					 mc_severity_name(a->severity),
					 wh->dedup_window_ms, lease_ms,
					 a->no_dedup, env->clock, &sl->claim,
					 why, sizeof(why), err);
		sl->open_severity = mc_severity_parse(sl->claim.open_severity);
		if (r <= 0) {
			if (r == 0) {
				d->result = MC_DLV_SUPPRESSED;
				set_msg(d, "%s", why);
			}
			return r;
		}
	}
	/* A refusal below leaves the claim to be given back after the
	 * requests, with every other undelivered one. */
	sl->target = target_name(wh);
	r = mc_coord_breaker_allow(co, sl->target, &wh->breaker, env->clock,
				   &retry_at, err);
	if (r <= 0) {
		if (r == 0) {
			char at[40];

			mc_format_time(retry_at, at, sizeof(at));
			d->result = MC_DLV_CIRCUIT_OPEN;
			set_msg(d, "circuit open: no request made; one probe "
				"is let through from %s", at);
		}
		return r;
	}
	*start_after_ms = 0;
	if (wh->rate > 0) {
		r = mc_coord_bucket_reserve(co, sl->target, wh->rate,
					    wh->burst, 1, left_s, env->clock,
					    &wait, err);
		if (r <= 0) {
			if (r == 0)
				set_msg(d, "rate limit: the next slot is %.1fs "
					"away, past the run's deadline", wait);
			return r;
		}
		*start_after_ms = (int64_t)(wait * 1e3 + 0.5);
	}
	return 1;
}

/* Every outcome in the alert log, in one transaction; a resolve is logged
 * at the severity it resolved. */
static int log_deliveries(const struct mc_alert_env *env,
			  const struct mc_alert *a, const struct mc_delivery *d,
			  const struct slot *sl, size_t n, double now,
			  struct mc_err *err)
{
	if (mc_state_begin(env->st, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int sev = a->action == MC_ACT_RESOLVE &&
			  sl[i].open_severity >= 0 ?
			  sl[i].open_severity : a->severity;

		if (log_delivery(env->st, env->run_id, now, a, &d[i], sev,
				 err) < 0) {
			mc_state_rollback(env->st);
			return -1;
		}
	}
	return mc_state_commit(env->st, err);
}

int mc_alert_deliver(const struct mc_alert_env *env, const struct mc_alert *a,
		     const struct mc_webhook *whs, size_t n,
		     struct mc_delivery **out, struct mc_err *err)
{
	struct mc_delivery *d = mc_calloc(n ? n : 1, sizeof(*d));
	struct slot *sl = mc_calloc(n ? n : 1, sizeof(*sl));
	struct mc_http_req *reqs = mc_calloc(n ? n : 1, sizeof(*reqs));
	double now = mc_clock_now(env->clock);
	double left_s = (double)mc_deadline_left_ms(env->dl, 3600 * 1000) /
			1e3;
	/* A claim outlives this run's deadline by a margin: after that, a
	 * claim never confirmed is taken for a delivery that did not go. */
	int64_t lease_ms = (int64_t)((left_s + 5) * 1e3);
	/* Without a coordinator of the run's, the state file serves. */
	struct mc_coord *own = env->coord ? NULL :
			       mc_coord_open_state(env->st);
	struct mc_coord *co = env->coord ? env->coord : own;
	size_t m = 0, i;
	int rc = -1;

	for (i = 0; i < n; i++) {
		const struct mc_webhook *wh = &whs[i];
		struct mc_http_req *q = &reqs[m];
		int64_t after = 0;
		int r;

		d[i].wh = wh;
		d[i].result = MC_DLV_FAILED;
		r = prepare(env, co, a, &d[i], &sl[i], lease_ms, left_s,
			    &after, err);
		if (r < 0)
			goto out;
		if (r == 0)
			continue;
		sl[i].url = mc_webhook_endpoint(wh);
		sl[i].body = mc_alert_payload(wh, a, sl[i].open_severity, now);
		q->method = "POST";
		q->url = sl[i].url;
		q->headers = json_headers;
		q->body = sl[i].body;
		q->body_len = strlen(sl[i].body);
		q->timeout_ms = wh->timeout_ms;
		q->max_attempts = wh->retries + 1;
		/* What a webhook answers beyond 64 KiB is not read; its
		 * status alone says whether the alert was taken. */
		q->max_body = 64 * 1024;
		q->cut_body = 1;
		q->start_after_ms = after;
		sl[i].req = q;
		m++;
	}

	if (m > 0 && mc_http_perform(env->http, reqs, m, env->dl, err) < 0)
		goto out;

	now = mc_clock_now(env->clock);
	for (i = 0; i < n; i++) {
		struct mc_delivery *x = &d[i];
		struct mc_http_req *q = sl[i].req;
		int ok;

		if (q == NULL)
			continue;
		ok = q->done && q->status >= 200 && q->status < 300;
		x->attempts = q->attempts;
		x->http_status = q->status;
		x->latency_ms = q->latency_ms;
		x->result = ok ? MC_DLV_DELIVERED : MC_DLV_FAILED;
		if (!ok) {
			if (q->err.msg[0])
				set_msg(x, "%s", q->err.msg);
			else
				set_msg(x, "HTTP %ld", q->status);
		}
		if (mc_coord_breaker_record(co, sl[i].target, ok,
					    &x->wh->breaker, env->clock,
					    err) < 0)
			goto out;
	}
	/* Delivered: the claim is confirmed; anything else gives it back. */
	for (i = 0; i < n; i++)
		if (mc_coord_dedup_settle(co, whs[i].name, a->dedup_key,
					  &sl[i].claim,
					  d[i].result == MC_DLV_DELIVERED,
					  err) < 0)
			goto out;

	if (log_deliveries(env, a, d, sl, n, now, err) < 0)
		goto out;
	rc = 0;
out:
	for (i = 0; i < n; i++) {
		/* an error midway: give back what is still claimed */
		if (sl[i].claim.active)
			mc_coord_dedup_settle(co, whs[i].name, a->dedup_key,
					      &sl[i].claim, 0, NULL);
		slot_release(&sl[i]);
	}
	mc_coord_close(own);
	for (i = 0; i < m; i++)
		mc_http_req_release(&reqs[i]);
	free(sl);
	free(reqs);
	if (rc < 0) {
		mc_deliveries_free(d, n);
		*out = NULL;
		return -1;
	}
	*out = d;
	return 0;
}

void mc_deliveries_free(struct mc_delivery *d, size_t n)
{
	for (size_t i = 0; d != NULL && i < n; i++)
		free(d[i].message);
	free(d);
}

int mc_deliveries_exit(const struct mc_delivery *d, size_t n)
{
	size_t failed = 0;

	for (size_t i = 0; i < n; i++)
		failed += d[i].result == MC_DLV_FAILED ||
			  d[i].result == MC_DLV_CIRCUIT_OPEN;
	if (failed == 0)
		return MC_EXIT_OK;
	return failed == n ? MC_EXIT_CRITICAL : MC_EXIT_WARNING;
}

/* ---- the log ---- */

static void alert_log_row(sqlite3_stmt *s, void *element, void *ctx)
{
	struct mc_alert_log *e = element;

	(void)ctx;
	e->ts = sqlite3_column_double(s, 0);
	e->webhook = mc_state_column_dup(s, 1);
	e->action = mc_state_column_dup(s, 2);
	e->severity = mc_state_column_dup(s, 3);
	e->summary = mc_state_column_dup(s, 4);
	e->source = mc_state_column_dup(s, 5);
	e->dedup_key = mc_state_column_dup(s, 6);
	e->result = mc_state_column_dup(s, 7);
	e->attempts = sqlite3_column_int(s, 8);
	e->http_status = sqlite3_column_int64(s, 9);
	e->latency_ms = mc_state_column_or(s, 10, -1);
	e->message = mc_state_column_dup(s, 11);
	e->correlation_id = mc_state_column_dup(s, 12);
}

static void alert_log_release(void *element)
{
	struct mc_alert_log *e = element;

	free(e->webhook);
	free(e->action);
	free(e->severity);
	free(e->summary);
	free(e->source);
	free(e->dedup_key);
	free(e->result);
	free(e->message);
	free(e->correlation_id);
}

int mc_alert_history(struct mc_state *st, double since, const char *webhook,
		     size_t limit, struct mc_alert_log **out, size_t *n,
		     struct mc_err *err)
{
	void *rows;
	int rc = mc_state_recent(st, "SELECT ts, webhook, action, severity,"
				 " summary, source, dedup_key, result,"
				 " attempts, http_status, latency_ms, message,"
				 " correlation_id FROM alert_log"
				 " WHERE ts >= ?2 AND (?1 IS NULL OR webhook = ?1)"
				 " ORDER BY ts DESC, id DESC LIMIT ?3", webhook,
				 since, limit < INT64_MAX ? (int64_t)limit : 0,
				 sizeof(struct mc_alert_log), alert_log_row,
				 alert_log_release, &rows, n,
				 "cannot read the alert log", err);

	*out = rows;
	return rc;
}

void mc_alert_history_free(struct mc_alert_log *l, size_t n)
{
	mc_array_free(l, n, sizeof(*l), alert_log_release);
}

int mc_alert_last(struct mc_state *st, const char *webhook,
		  struct mc_alert_log *out, struct mc_err *err)
{
	static const char what[] = "cannot read the alert log";
	sqlite3_stmt *s;
	int rc;

	memset(out, 0, sizeof(*out));
	/* newest first by rowid: the scan stops at the webhook's last row */
	if (mc_state_prepare(st, "SELECT ts, webhook, action, severity,"
			     " summary, source, dedup_key, result, attempts,"
			     " http_status, latency_ms, message, correlation_id"
			     " FROM alert_log WHERE webhook = ?1 ORDER BY id"
			     " DESC LIMIT 1", &s, what, err) < 0)
		return -1;
	sqlite3_bind_text(s, 1, webhook, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		alert_log_row(s, out, NULL);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return mc_state_sqlerr(st, err, what);
	return rc == SQLITE_ROW;
}

void mc_alert_log_release(struct mc_alert_log *e)
{
	if (e == NULL)
		return;
	alert_log_release(e);
	memset(e, 0, sizeof(*e));
}

json_t *mc_deliveries_json(const struct mc_delivery *d, size_t n)
{
	json_t *o = json_object();

	for (size_t i = 0; i < n; i++) {
		json_t *x = json_object();

		json_object_set_new(x, "type",
				    mc_json_str(mc_webhook_type_name(d[i].wh->type)));
		json_object_set_new(x, "result",
				    mc_json_str(mc_delivery_result_name(d[i].result)));
		json_object_set_new(x, "circuit_open", json_boolean(
				    d[i].result == MC_DLV_CIRCUIT_OPEN));
		json_object_set_new(x, "attempts", json_integer(d[i].attempts));
		json_object_set_new(x, "http_status", d[i].http_status > 0 ?
				    json_integer(d[i].http_status) : json_null());
		json_object_set_new(x, "latency_ms", d[i].attempts > 0 ?
				    json_real(d[i].latency_ms) : json_null());
		json_object_set_new(x, "message", d[i].message ?
				    mc_json_str(d[i].message) : json_null());
		mc_json_set(o, d[i].wh->name, x);
	}
	return o;
}
