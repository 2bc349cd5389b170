/*
 * test_alert.c - lib/alert*.c and lib/notify.c: the alert, each service's
 * payload, and delivery (filter, dedup, breaker, rate limit, retries)
 * against the real receiver (scripts/receiver.py), whose webhook routes
 * check each body against the service's documented format.
 */
#include <criterion/criterion.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "config.h"
#include "health.h"
#include "log.h"
#include "mc.h"
#include "notify.h"
#include "state.h"
#include "testlib.h"

#define T_TIMEOUT 60

static void make_alert(struct mc_alert *a, int action, int sev,
		       const char *summary)
{
	struct mc_err err = { 0 };

	memset(a, 0, sizeof(*a));
	a->action = action;
	a->severity = sev;
	a->summary = mc_strdup(summary);
	a->description = mc_strdup("the disk <b>fills</b> & @everyone");
	a->source = mc_strdup("db1");
	a->correlation_id = mc_strdup("4bf92f3577b34da6a3ce929d0e0e4736");
	a->started = 1795000000;
	cr_assert_eq(mc_alert_add_label(a, "team=ops", &err), 0, "%s", err.msg);
	cr_assert_eq(mc_alert_add_label(a, "env=prod", &err), 0, "%s", err.msg);
	cr_assert_eq(mc_alert_finish(a, &err), 0, "%s", err.msg);
}

static struct mc_webhook hook(int type)
{
	struct mc_webhook w;

	memset(&w, 0, sizeof(w));
	w.name = "ops";
	w.type = type;
	w.url = "http://127.0.0.1:1/x";
	w.routing_key = "R0UT1NGKEY0123456789abcdef012345";
	return w;
}

static json_t *payload(int type, const struct mc_alert *a, int resolve_sev)
{
	struct mc_webhook w = hook(type);
	char *s = mc_alert_payload(&w, a, resolve_sev, 1795000100);
	json_error_t jerr;
	json_t *j = json_loads(s, 0, &jerr);

	cr_assert_not_null(j, "payload is not JSON: %s: %s", jerr.text, s);
	free(s);
	return j;
}

static size_t u8chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

static const char *str_at(json_t *j, const char *path)
{
	json_t *v = j;
	char *copy = mc_strdup(path), *save = NULL;

	for (char *tok = strtok_r(copy, ".", &save); tok && v;
	     tok = strtok_r(NULL, ".", &save)) {
		char *end;
		long idx = strtol(tok, &end, 10);

		v = *end == '\0' ? json_array_get(v, (size_t)idx) :
		    json_object_get(v, tok);
	}
	free(copy);
	cr_assert(json_is_string(v), "%s is not a string", path);
	return json_string_value(v);
}

Test(alert, severities_types_and_labels)
{
	struct mc_alert a = { 0 };
	struct mc_err err = { 0 };

	cr_assert_eq(mc_severity_parse("critical"), MC_SEV_CRITICAL);
	cr_assert_eq(mc_severity_parse("warn"), -1);
	cr_assert_str_eq(mc_severity_name(MC_SEV_WARNING), "warning");
	cr_assert_str_eq(mc_webhook_type_name(MC_WH_PAGERDUTY), "pagerduty");
	cr_assert_eq(mc_alert_add_label(&a, "zone=b", &err), 0);
	cr_assert_eq(mc_alert_add_label(&a, "app=x=y", &err), 0);
	cr_assert_eq(mc_alert_add_label(&a, "zone=c", &err), 0);
	cr_assert_eq(a.n_labels, 2);
	cr_assert_str_eq(a.labels[0].key, "app");
	cr_assert_str_eq(a.labels[0].value, "x=y");
	cr_assert_str_eq(a.labels[1].value, "c");
	cr_assert_eq(mc_alert_add_label(&a, "novalue", &err), -1);
	cr_assert_eq(err.code, MC_EXIT_USAGE);
	cr_assert(strstr(err.msg, "KEY=VALUE") != NULL, "%s", err.msg);
	cr_assert_eq(mc_alert_add_label(&a, "1x=a", &err), -1);
	cr_assert_eq(mc_alert_add_label(&a, "a-b=a", &err), -1);
	cr_assert_eq(mc_alert_add_label(&a, "=a", &err), -1);
	mc_alert_release(&a);
}

Test(alert, finish_checks_summary_and_text)
{
	struct mc_alert a = { 0 };
	struct mc_err err = { 0 };

	cr_assert_eq(mc_alert_finish(&a, &err), -1);
	cr_assert_eq(err.code, MC_EXIT_USAGE);
	a.summary = mc_strdup(" \t ");
	cr_assert_eq(mc_alert_finish(&a, &err), -1);
	cr_assert(strstr(err.msg, "empty") != NULL, "%s", err.msg);
	free(a.summary);
	a.summary = mc_strdup("bad \xc3\x28 byte");
	cr_assert_eq(mc_alert_finish(&a, &err), -1);
	cr_assert_eq(err.code, MC_EXIT_DATAERR);
	free(a.summary);
	a.summary = mc_strdup("ok");
	a.description = mc_strdup("\xed\xa0\x80");	/* a surrogate */
	cr_assert_eq(mc_alert_finish(&a, &err), -1);
	cr_assert_eq(err.code, MC_EXIT_DATAERR);
	free(a.description);
	a.description = NULL;
	cr_assert_eq(mc_alert_finish(&a, &err), 0, "%s", err.msg);
	cr_assert_not_null(a.source);
	cr_assert_eq(strncmp(a.dedup_key, "mc-", 3), 0);
	cr_assert_eq(strlen(a.dedup_key), 35);
	mc_alert_release(&a);
}

Test(alert, default_key_covers_every_field_unambiguously)
{
	struct mc_alert a = { 0 }, b = { 0 };
	char *k1, *k2;

	a.summary = "ab";
	a.source = "c";
	b.summary = "a";
	b.source = "bc";
	k1 = mc_alert_default_key(&a);
	k2 = mc_alert_default_key(&b);
	cr_assert_str_neq(k1, k2);
	free(k2);
	b.summary = "ab";
	b.source = "c";
	k2 = mc_alert_default_key(&b);
	cr_assert_str_eq(k1, k2);
	free(k2);
	/* not the severity: an escalation is the same alert */
	b.severity = MC_SEV_CRITICAL;
	k2 = mc_alert_default_key(&b);
	cr_assert_str_eq(k1, k2);
	free(k2);
	b.n_labels = 1;
	b.labels = &(struct mc_label){ "team", "ops" };
	k2 = mc_alert_default_key(&b);
	cr_assert_str_neq(k1, k2);
	free(k1);
	free(k2);
}

Test(alert, utf8_truncate_at_character_boundaries)
{
	char *s;

	s = mc_utf8_truncate("héllo", 5);
	cr_assert_str_eq(s, "héllo");
	free(s);
	s = mc_utf8_truncate("héllo", 3);
	cr_assert_str_eq(s, "hé…");
	free(s);
	s = mc_utf8_truncate("ééééé", 4);
	cr_assert_str_eq(s, "ééé…");
	cr_assert_eq(u8chars(s), 4);
	free(s);
	s = mc_utf8_truncate("abc", 1);
	cr_assert_str_eq(s, "…");
	free(s);
}

Test(alert, slack_payload)
{
	struct mc_alert a;
	json_t *j, *blocks;
	const char *text;

	make_alert(&a, MC_ACT_TRIGGER, MC_SEV_CRITICAL, "disk full");
	j = payload(MC_WH_SLACK, &a, -1);
	cr_assert_str_eq(str_at(j, "text"), "[CRITICAL] disk full");
	blocks = json_object_get(j, "blocks");
	cr_assert(json_array_size(blocks) >= 3);
	cr_assert_str_eq(str_at(j, "blocks.0.type"), "header");
	cr_assert_str_eq(str_at(j, "blocks.0.text.type"), "plain_text");
	/* mrkdwn markup in the texts is escaped: no <b>, no bare & */
	text = str_at(j, "blocks.1.text.text");
	cr_assert(strstr(text, "&lt;b&gt;fills&lt;/b&gt; &amp;") != NULL,
		  "%s", text);
	{
		char *all = json_dumps(j, 0);

		cr_assert(strstr(all, a.correlation_id) != NULL);
		cr_assert(strstr(all, "team=ops") != NULL);
		free(all);
	}
	json_decref(j);
	mc_alert_release(&a);
}

Test(alert, discord_payload_colours_and_no_mentions)
{
	struct mc_alert a;
	json_t *j, *e;

	make_alert(&a, MC_ACT_TRIGGER, MC_SEV_WARNING, "slow");
	j = payload(MC_WH_DISCORD, &a, -1);
	e = json_array_get(json_object_get(j, "embeds"), 0);
	cr_assert_str_eq(str_at(j, "content"), "[WARNING] slow");
	cr_assert_eq(json_integer_value(json_object_get(e, "color")), 0xFB8C00);
	cr_assert_eq(json_array_size(json_object_get(json_object_get(j,
		     "allowed_mentions"), "parse")), 0);
	cr_assert(strstr(str_at(e, "footer.text"), a.correlation_id) != NULL);
	json_decref(j);
	mc_alert_release(&a);
	make_alert(&a, MC_ACT_RESOLVE, MC_SEV_WARNING, "slow");
	j = payload(MC_WH_DISCORD, &a, MC_SEV_CRITICAL);
	e = json_array_get(json_object_get(j, "embeds"), 0);
	cr_assert_eq(json_integer_value(json_object_get(e, "color")), 0x43A047);
	cr_assert_str_eq(str_at(j, "content"), "[RESOLVED] slow");
	json_decref(j);
	mc_alert_release(&a);
}

Test(alert, pagerduty_trigger_and_resolve)
{
	struct mc_alert a;
	json_t *j;

	make_alert(&a, MC_ACT_TRIGGER, MC_SEV_CRITICAL, "db down");
	j = payload(MC_WH_PAGERDUTY, &a, -1);
	cr_assert_str_eq(str_at(j, "routing_key"),
			 "R0UT1NGKEY0123456789abcdef012345");
	cr_assert_str_eq(str_at(j, "event_action"), "trigger");
	cr_assert_str_eq(str_at(j, "dedup_key"), a.dedup_key);
	cr_assert_str_eq(str_at(j, "payload.summary"), "db down");
	cr_assert_str_eq(str_at(j, "payload.source"), "db1");
	cr_assert_str_eq(str_at(j, "payload.severity"), "critical");
	cr_assert_str_eq(str_at(j, "payload.custom_details.correlation_id"),
			 a.correlation_id);
	json_decref(j);
	mc_alert_release(&a);

	make_alert(&a, MC_ACT_RESOLVE, MC_SEV_INFO, "db down");
	free(a.dedup_key);
	a.dedup_key = malloc(400);
	memset(a.dedup_key, 'k', 399);
	a.dedup_key[399] = '\0';
	j = payload(MC_WH_PAGERDUTY, &a, MC_SEV_CRITICAL);
	cr_assert_str_eq(str_at(j, "event_action"), "resolve");
	cr_assert_leq(strlen(str_at(j, "dedup_key")), 255);
	{
		/* the same long key always maps to the same short one */
		json_t *j2 = payload(MC_WH_PAGERDUTY, &a, MC_SEV_CRITICAL);

		cr_assert_str_eq(str_at(j, "dedup_key"),
				 str_at(j2, "dedup_key"));
		json_decref(j2);
	}
	json_decref(j);
	mc_alert_release(&a);
}

Test(alert, alertmanager_labels_and_resolve)
{
	struct mc_alert a;
	json_t *j, *al;

	make_alert(&a, MC_ACT_TRIGGER, MC_SEV_WARNING, "queue deep");
	a.generator_url = mc_strdup("http://ci/job/1");
	j = payload(MC_WH_ALERTMANAGER, &a, -1);
	cr_assert(json_is_array(j));
	al = json_array_get(j, 0);
	cr_assert_str_eq(str_at(al, "labels.alertname"), "mercuryctl");
	cr_assert_str_eq(str_at(al, "labels.severity"), "warning");
	cr_assert_str_eq(str_at(al, "labels.team"), "ops");
	cr_assert_str_eq(str_at(al, "labels.dedup_key"), a.dedup_key);
	cr_assert_str_eq(str_at(al, "annotations.summary"), "queue deep");
	cr_assert_str_eq(str_at(al, "annotations.correlation_id"),
			 a.correlation_id);
	cr_assert_str_eq(str_at(al, "generatorURL"), "http://ci/job/1");
	cr_assert_not_null(json_object_get(al, "startsAt"));
	json_decref(j);
	mc_alert_release(&a);
	/* A resolve carries the trigger's severity, so the label set (the
	 * alert's identity in Alertmanager) is the same. */
	make_alert(&a, MC_ACT_RESOLVE, MC_SEV_INFO, "queue deep");
	j = payload(MC_WH_ALERTMANAGER, &a, MC_SEV_WARNING);
	al = json_array_get(j, 0);
	cr_assert_str_eq(str_at(al, "labels.severity"), "warning");
	cr_assert_str_eq(str_at(al, "endsAt"), "2026-11-18T11:08:20.000Z");
	cr_assert_null(json_object_get(al, "startsAt"));
	json_decref(j);
	mc_alert_release(&a);
}

/* An escalation ends the alert at the old severity in the same request:
 * Alertmanager keeps exactly one active. */
Test(alert, alertmanager_escalation_ends_the_old_severity)
{
	struct mc_alert a;
	json_t *j, *al;

	make_alert(&a, MC_ACT_TRIGGER, MC_SEV_CRITICAL, "queue deep");
	j = payload(MC_WH_ALERTMANAGER, &a, MC_SEV_WARNING);
	cr_assert_eq(json_array_size(j), 2, "%s",
		     json_dumps(j, JSON_COMPACT));
	al = json_array_get(j, 0);
	cr_assert_str_eq(str_at(al, "labels.severity"), "warning");
	cr_assert_str_eq(str_at(al, "endsAt"), "2026-11-18T11:08:20.000Z");
	cr_assert_null(json_object_get(al, "startsAt"));
	al = json_array_get(j, 1);
	cr_assert_str_eq(str_at(al, "labels.severity"), "critical");
	cr_assert_str_eq(str_at(al, "labels.dedup_key"), a.dedup_key);
	cr_assert_not_null(json_object_get(al, "startsAt"));
	json_decref(j);
	/* the same severity open: one alert, a re-send */
	j = payload(MC_WH_ALERTMANAGER, &a, MC_SEV_CRITICAL);
	cr_assert_eq(json_array_size(j), 1);
	json_decref(j);
	/* PagerDuty: a new trigger under the same dedup_key */
	j = payload(MC_WH_PAGERDUTY, &a, MC_SEV_WARNING);
	cr_assert_str_eq(str_at(j, "event_action"), "trigger");
	cr_assert_str_eq(str_at(j, "dedup_key"), a.dedup_key);
	cr_assert_str_eq(str_at(j, "payload.severity"), "critical");
	json_decref(j);
	mc_alert_release(&a);
	/* a resolve whose severity nobody knows ends every severity */
	make_alert(&a, MC_ACT_RESOLVE, -1, "queue deep");
	j = payload(MC_WH_ALERTMANAGER, &a, -1);
	cr_assert_eq(json_array_size(j), 3);
	for (size_t i = 0; i < 3; i++) {
		al = json_array_get(j, i);
		cr_assert_str_eq(str_at(al, "labels.severity"),
				 mc_severity_name((int)i));
		cr_assert_null(json_object_get(al, "startsAt"));
	}
	json_decref(j);
	j = payload(MC_WH_JSON, &a, -1);
	cr_assert(json_is_null(json_object_get(j, "severity")));
	json_decref(j);
	mc_alert_release(&a);
}

Test(alert, json_schema)
{
	struct mc_alert a;
	json_t *j;

	make_alert(&a, MC_ACT_TRIGGER, MC_SEV_INFO, "deploy done");
	j = payload(MC_WH_JSON, &a, -1);
	cr_assert_str_eq(str_at(j, "schema"), "mercury.alert/v1");
	cr_assert_str_eq(str_at(j, "action"), "trigger");
	cr_assert(json_is_false(json_object_get(j, "test")));
	cr_assert_str_eq(str_at(j, "severity"), "info");
	cr_assert_str_eq(str_at(j, "labels.env"), "prod");
	cr_assert_str_eq(str_at(j, "webhook"), "ops");
	cr_assert_str_eq(str_at(j, "correlation_id"), a.correlation_id);
	cr_assert(json_is_null(json_object_get(j, "generator_url")));
	json_decref(j);
	mc_alert_release(&a);
}

Test(alert, a_test_is_marked_in_every_format)
{
	struct mc_alert a;
	json_t *j;

	make_alert(&a, MC_ACT_TEST, MC_SEV_INFO, "hello");
	j = payload(MC_WH_SLACK, &a, -1);
	cr_assert_str_eq(str_at(j, "text"), "[TEST] hello");
	json_decref(j);
	j = payload(MC_WH_DISCORD, &a, -1);
	cr_assert_str_eq(str_at(j, "content"), "[TEST] hello");
	json_decref(j);
	j = payload(MC_WH_PAGERDUTY, &a, -1);
	cr_assert_str_eq(str_at(j, "payload.summary"), "[TEST] hello");
	cr_assert(json_is_true(json_object_get(json_object_get(
		json_object_get(j, "payload"), "custom_details"), "test")));
	json_decref(j);
	j = payload(MC_WH_ALERTMANAGER, &a, -1);
	cr_assert_str_eq(str_at(json_array_get(j, 0), "labels.mercury_test"),
			 "true");
	json_decref(j);
	j = payload(MC_WH_JSON, &a, -1);
	cr_assert(json_is_true(json_object_get(j, "test")));
	cr_assert_str_eq(str_at(j, "action"), "test");
	json_decref(j);
	mc_alert_release(&a);
}

/* A summary of 100 KB is cut to each service's limit, at a character
 * boundary (the summary is multi-byte throughout). */
Test(alert, long_summary_is_cut_to_each_limit)
{
	struct mc_alert a;
	size_t n = 50000;
	char *big = mc_malloc(2 * n + 1);
	json_t *j;

	for (size_t i = 0; i < n; i++)
		memcpy(big + 2 * i, "\xc3\xa9", 2);	/* é */
	big[2 * n] = '\0';
	make_alert(&a, MC_ACT_TRIGGER, MC_SEV_CRITICAL, big);
	j = payload(MC_WH_SLACK, &a, -1);
	cr_assert_eq(u8chars(str_at(j, "blocks.0.text.text")),
		     MC_LIMIT_SLACK_HEADER);
	cr_assert_eq(u8chars(str_at(j, "text")), MC_LIMIT_SLACK_SECTION);
	json_decref(j);
	j = payload(MC_WH_DISCORD, &a, -1);
	cr_assert_eq(u8chars(str_at(j, "embeds.0.title")),
		     MC_LIMIT_DISCORD_TITLE);
	cr_assert_eq(u8chars(str_at(j, "content")), 2000);
	json_decref(j);
	j = payload(MC_WH_PAGERDUTY, &a, -1);
	cr_assert_eq(u8chars(str_at(j, "payload.summary")),
		     MC_LIMIT_PD_SUMMARY);
	json_decref(j);
	j = payload(MC_WH_JSON, &a, -1);
	cr_assert_eq(u8chars(str_at(j, "summary")), MC_LIMIT_TEXT);
	json_decref(j);
	mc_alert_release(&a);
	free(big);
}

/* ---- delivery against the receiver ---- */

struct fixture {
	char dir[MC_TEST_DIR_LEN];
	struct mc_state *st;
	struct mc_http *http;
	struct mc_deadline dl;
};

static void fx_open(struct fixture *f)
{
	struct mc_err err = { 0 };
	char *path;

	mc_test_dir(f->dir);
	path = mc_asprintf("%s/state.db", f->dir);
	f->st = mc_state_open(path, &err);
	cr_assert_not_null(f->st, "%s", err.msg);
	free(path);
	f->http = mc_http_new("0af7651916cd43dd8448eb211c80319c", &err);
	cr_assert_not_null(f->http, "%s", err.msg);
	mc_deadline_set(&f->dl, 30000);
}

static void fx_close(struct fixture *f)
{
	mc_http_free(f->http);
	mc_state_close(f->st);
	mc_test_rmtree(f->dir);
}

static struct mc_webhook receiver_hook(const char *name, int type,
				       const char *path)
{
	struct mc_webhook w = hook(type);

	w.name = (char *)name;
	w.url = mc_asprintf("%s%s", mc_test_env("MC_TEST_RECEIVER"), path);
	w.min_severity = MC_SEV_INFO;
	w.dedup_window_ms = 60000;
	w.timeout_ms = 5000;
	w.retries = 0;
	w.breaker.failures = 3;
	w.breaker.recovery_ms = 60000;
	return w;
}

/* Delivers a to w; returns the result, fills *d when not NULL. */
static int deliver1(struct fixture *f, const struct mc_alert *a,
		    const struct mc_webhook *w, struct mc_delivery *copy)
{
	struct mc_alert_env env = { f->st, f->http, &f->dl, NULL, 0, NULL };
	struct mc_delivery *d = NULL;
	struct mc_err err = { 0 };
	int r;

	cr_assert_eq(mc_alert_deliver(&env, a, w, 1, &d, &err), 0, "%s",
		     err.msg);
	r = d[0].result;
	if (copy) {
		*copy = d[0];
		copy->message = mc_strdup(d[0].message);
	}
	mc_deliveries_free(d, 1);
	return r;
}

static size_t count_requests(const char *prefix)
{
	json_t *j = mc_test_receiver("_requests", prefix);
	size_t n = json_array_size(j);

	json_decref(j);
	return n;
}

Test(alert, every_format_passes_the_receivers_checks, .timeout = T_TIMEOUT)
{
	static const struct { int type; const char *route; } cases[] = {
		{ MC_WH_SLACK, "/slack" }, { MC_WH_DISCORD, "/discord" },
		{ MC_WH_PAGERDUTY, "/pagerduty" }, { MC_WH_JSON, "/mercury" },
	};
	struct fixture f;

	fx_open(&f);
	for (size_t i = 0; i < MC_ARRAY_LEN(cases); i++) {
		char *path = mc_test_unique(cases[i].route, "fmt");
		struct mc_webhook w = receiver_hook("fmt", cases[i].type, path);
		struct mc_alert a;
		struct mc_delivery d;
		json_t *recs;

		make_alert(&a, MC_ACT_TRIGGER, MC_SEV_CRITICAL, "fmt check");
		cr_assert_eq(deliver1(&f, &a, &w, &d), MC_DLV_DELIVERED,
			     "%s: %s", cases[i].route, d.message);
		cr_assert_eq(d.attempts, 1);
		free(d.message);
		recs = mc_test_receiver("_requests", path);
		cr_assert_eq(json_array_size(recs), 1);
		cr_assert_eq(json_array_size(json_object_get(
			json_array_get(recs, 0), "problems")), 0,
			"%s: the receiver found problems", cases[i].route);
		json_decref(recs);
		/* a resolve passes too */
		mc_alert_release(&a);
		make_alert(&a, MC_ACT_RESOLVE, MC_SEV_CRITICAL, "fmt check");
		cr_assert_eq(deliver1(&f, &a, &w, NULL), MC_DLV_DELIVERED);
		mc_alert_release(&a);
		free(w.url);
		free(path);
	}
	fx_close(&f);
}

Test(alert, dedup_window_severity_and_resolve, .timeout = T_TIMEOUT)
{
	struct fixture f;
	char *path = mc_test_unique("/mercury", "dedup");
	struct mc_webhook w = receiver_hook("dedup", MC_WH_JSON, path);
	struct mc_alert a;
	struct mc_delivery d;

	fx_open(&f);
	make_alert(&a, MC_ACT_RESOLVE, MC_SEV_WARNING, "cpu hot");
	cr_assert_eq(deliver1(&f, &a, &w, &d), MC_DLV_SUPPRESSED);
	cr_assert(strstr(d.message, "no trigger") != NULL, "%s", d.message);
	free(d.message);
	a.action = MC_ACT_TRIGGER;
	cr_assert_eq(deliver1(&f, &a, &w, NULL), MC_DLV_DELIVERED);
	cr_assert_eq(deliver1(&f, &a, &w, &d), MC_DLV_SUPPRESSED);
	cr_assert(strstr(d.message, "within dedup_window 1m") != NULL, "%s",
		  d.message);
	free(d.message);
	/* escalation is not a duplicate */
	a.severity = MC_SEV_CRITICAL;
	cr_assert_eq(deliver1(&f, &a, &w, NULL), MC_DLV_DELIVERED);
	/* --no-dedup forces */
	a.no_dedup = 1;
	cr_assert_eq(deliver1(&f, &a, &w, NULL), MC_DLV_DELIVERED);
	a.no_dedup = 0;
	/* a resolve without a severity resolves the one sent: critical */
	a.action = MC_ACT_RESOLVE;
	a.severity = -1;
	cr_assert_eq(deliver1(&f, &a, &w, NULL), MC_DLV_DELIVERED);
	{
		json_t *recs = mc_test_receiver("_requests", path);
		json_t *last = json_array_get(recs, json_array_size(recs) - 1);
		json_t *body = json_loads(json_string_value(
			json_object_get(last, "body")), 0, NULL);

		cr_assert_str_eq(str_at(body, "action"), "resolve");
		cr_assert_str_eq(str_at(body, "severity"), "critical");
		json_decref(body);
		json_decref(recs);
	}
	a.severity = MC_SEV_CRITICAL;
	cr_assert_eq(deliver1(&f, &a, &w, &d), MC_DLV_SUPPRESSED);
	cr_assert(strstr(d.message, "already resolved") != NULL, "%s",
		  d.message);
	free(d.message);
	/* a window of 0 suppresses nothing */
	a.action = MC_ACT_TRIGGER;
	w.dedup_window_ms = 0;
	cr_assert_eq(deliver1(&f, &a, &w, NULL), MC_DLV_DELIVERED);
	cr_assert_eq(deliver1(&f, &a, &w, NULL), MC_DLV_DELIVERED);
	cr_assert_eq(count_requests(path), 6);
	mc_alert_release(&a);
	free(w.url);
	free(path);
	fx_close(&f);
}

/* A run that died between its claim and its delivery left a lease: while
 * the lease runs, others keep off; after it, the alert is taken as never
 * sent, and a failed retry leaves it that way. */
Test(alert, a_dead_runs_claim, .timeout = T_TIMEOUT)
{
	struct fixture f;
	char *path = mc_test_unique("/status/500", "lease");
	struct mc_webhook w = receiver_hook("lease", MC_WH_JSON, path);
	char *ok_path = mc_test_unique("/mercury", "lease");
	struct mc_webhook ok = receiver_hook("lease", MC_WH_JSON, ok_path);
	struct mc_alert a;
	struct mc_delivery d;
	struct mc_err err = { 0 };
	char *sql;

	fx_open(&f);
	make_alert(&a, MC_ACT_TRIGGER, MC_SEV_CRITICAL, "crashed");
	sql = mc_asprintf("INSERT INTO alert_dedup VALUES ('lease', '%s',"
			  " 'firing', 'critical', %f, %f)", a.dedup_key,
			  mc_wall_now() - 5, mc_wall_now() + 60);
	cr_assert_eq(mc_state_exec(f.st, sql, &err), 0, "%s", err.msg);
	free(sql);
	cr_assert_eq(deliver1(&f, &a, &w, &d), MC_DLV_SUPPRESSED);
	cr_assert(strstr(d.message, "another run") != NULL, "%s", d.message);
	free(d.message);
	cr_assert_eq(mc_state_exec(f.st, "UPDATE alert_dedup SET lease ="
				   " strftime('%s','now') - 1", &err), 0);
	cr_assert_eq(deliver1(&f, &a, &w, NULL), MC_DLV_FAILED);
	cr_assert_eq(deliver1(&f, &a, &ok, NULL), MC_DLV_DELIVERED);
	cr_assert_eq(deliver1(&f, &a, &ok, NULL), MC_DLV_SUPPRESSED);
	cr_assert_eq(count_requests(ok_path), 1);
	mc_alert_release(&a);
	free(w.url);
	free(ok.url);
	free(path);
	free(ok_path);
	fx_close(&f);
}

Test(alert, filter_by_min_severity, .timeout = T_TIMEOUT)
{
	struct fixture f;
	char *path = mc_test_unique("/mercury", "filter");
	struct mc_webhook w = receiver_hook("filter", MC_WH_JSON, path);
	struct mc_alert a;

	fx_open(&f);
	w.min_severity = MC_SEV_CRITICAL;
	make_alert(&a, MC_ACT_TRIGGER, MC_SEV_WARNING, "meh");
	cr_assert_eq(deliver1(&f, &a, &w, NULL), MC_DLV_FILTERED);
	/* a test goes through the filter */
	a.action = MC_ACT_TEST;
	cr_assert_eq(deliver1(&f, &a, &w, NULL), MC_DLV_DELIVERED);
	cr_assert_eq(count_requests(path), 1);
	mc_alert_release(&a);
	free(w.url);
	free(path);
	fx_close(&f);
}

/* A webhook that cannot be used in this run fails alone, by name; the
 * others are delivered; nothing is claimed for it, so the next run with
 * its variable set sends. */
Test(alert, an_unusable_webhook_fails_alone, .timeout = T_TIMEOUT)
{
	struct fixture f;
	char *path = mc_test_unique("/mercury", "alone");
	struct mc_webhook w[2];
	struct mc_alert_env env;
	struct mc_delivery *d = NULL;
	struct mc_alert a;
	struct mc_err err = { 0 };

	fx_open(&f);
	w[0] = receiver_hook("broken", MC_WH_JSON, path);
	w[0].unusable = "t.conf:3: [webhook \"broken\"] url_env: not set";
	w[1] = receiver_hook("good", MC_WH_JSON, path);
	env = (struct mc_alert_env){ f.st, f.http, &f.dl, NULL, 0, NULL };
	make_alert(&a, MC_ACT_TRIGGER, MC_SEV_CRITICAL, "one broken");
	cr_assert_eq(mc_alert_deliver(&env, &a, w, 2, &d, &err), 0, "%s",
		     err.msg);
	cr_assert_eq(d[0].result, MC_DLV_FAILED);
	cr_assert_eq(d[0].attempts, 0);
	cr_assert(strstr(d[0].message, "url_env: not set") != NULL, "%s",
		  d[0].message);
	cr_assert_eq(d[1].result, MC_DLV_DELIVERED, "%s", d[1].message);
	cr_assert_eq(mc_deliveries_exit(d, 2), MC_EXIT_WARNING);
	mc_deliveries_free(d, 2);
	cr_assert_eq(count_requests(path), 1);
	/* fixed: it goes out now (nothing was claimed for it) */
	w[0].unusable = NULL;
	cr_assert_eq(deliver1(&f, &a, &w[0], NULL), MC_DLV_DELIVERED);
	mc_alert_release(&a);
	free(w[0].url);
	free(w[1].url);
	free(path);
	fx_close(&f);
}

/* A failed delivery gives its dedup claim back: the next run sends. */
Test(alert, failure_is_not_remembered_as_sent, .timeout = T_TIMEOUT)
{
	struct fixture f;
	char *path = mc_test_unique("/flaky", "claim");
	char *flaky = mc_asprintf("%s/1/500", path);
	struct mc_webhook w = receiver_hook("claim", MC_WH_JSON, flaky);
	struct mc_alert a;
	struct mc_delivery d;

	fx_open(&f);
	make_alert(&a, MC_ACT_TRIGGER, MC_SEV_CRITICAL, "retry me");
	cr_assert_eq(deliver1(&f, &a, &w, &d), MC_DLV_FAILED);
	cr_assert_eq(d.http_status, 500);
	free(d.message);
	cr_assert_eq(deliver1(&f, &a, &w, NULL), MC_DLV_DELIVERED);
	cr_assert_eq(deliver1(&f, &a, &w, NULL), MC_DLV_SUPPRESSED);
	mc_alert_release(&a);
	free(w.url);
	free(flaky);
	free(path);
	fx_close(&f);
}

Test(alert, retries_until_delivered, .timeout = T_TIMEOUT)
{
	struct fixture f;
	char *path = mc_test_unique("/flaky", "retry");
	char *flaky = mc_asprintf("%s/2/500", path);
	struct mc_webhook w = receiver_hook("retry", MC_WH_JSON, flaky);
	struct mc_alert a;
	struct mc_delivery d;

	fx_open(&f);
	w.retries = 3;
	make_alert(&a, MC_ACT_TRIGGER, MC_SEV_CRITICAL, "third time");
	cr_assert_eq(deliver1(&f, &a, &w, &d), MC_DLV_DELIVERED, "%s",
		     d.message);
	cr_assert_eq(d.attempts, 3);
	cr_assert_eq(d.http_status, 200);
	free(d.message);
	cr_assert_eq(count_requests(path), 3);
	mc_alert_release(&a);
	free(w.url);
	free(flaky);
	free(path);
	fx_close(&f);
}

Test(alert, breaker_opens_and_makes_no_request, .timeout = T_TIMEOUT)
{
	struct fixture f;
	char *path = mc_test_unique("/status/503", "breaker");
	struct mc_webhook w = receiver_hook("breaker", MC_WH_JSON, path);
	struct mc_alert a;
	struct mc_delivery d;

	fx_open(&f);
	w.breaker.failures = 2;
	make_alert(&a, MC_ACT_TRIGGER, MC_SEV_CRITICAL, "down");
	cr_assert_eq(deliver1(&f, &a, &w, NULL), MC_DLV_FAILED);
	cr_assert_eq(deliver1(&f, &a, &w, NULL), MC_DLV_FAILED);
	cr_assert_eq(deliver1(&f, &a, &w, &d), MC_DLV_CIRCUIT_OPEN);
	cr_assert_eq(d.attempts, 0);
	cr_assert(strstr(d.message, "circuit open") != NULL, "%s", d.message);
	free(d.message);
	cr_assert_eq(count_requests(path), 2);
	{
		struct mc_delivery one = { .wh = &w, .result = MC_DLV_CIRCUIT_OPEN };

		cr_assert_eq(mc_deliveries_exit(&one, 1), MC_EXIT_CRITICAL);
	}
	mc_alert_release(&a);
	free(w.url);
	free(path);
	fx_close(&f);
}

Test(alert, exit_codes_of_a_set)
{
	struct mc_webhook w = hook(MC_WH_JSON);
	struct mc_delivery d[3] = {
		{ .wh = &w, .result = MC_DLV_DELIVERED },
		{ .wh = &w, .result = MC_DLV_SUPPRESSED },
		{ .wh = &w, .result = MC_DLV_FILTERED },
	};

	cr_assert_eq(mc_deliveries_exit(d, 3), 0);
	d[1].result = MC_DLV_FAILED;
	cr_assert_eq(mc_deliveries_exit(d, 3), 1);
	d[0].result = d[2].result = MC_DLV_CIRCUIT_OPEN;
	cr_assert_eq(mc_deliveries_exit(d, 3), 2);
	cr_assert_eq(mc_deliveries_exit(d, 0), 0);
}

Test(alert, log_records_every_outcome, .timeout = T_TIMEOUT)
{
	struct fixture f;
	char *path = mc_test_unique("/mercury", "log");
	struct mc_webhook w = receiver_hook("log", MC_WH_JSON, path);
	struct mc_alert a;
	struct mc_alert_log *l = NULL;
	size_t n = 0;
	struct mc_err err = { 0 };

	fx_open(&f);
	make_alert(&a, MC_ACT_TRIGGER, MC_SEV_WARNING, "logged");
	deliver1(&f, &a, &w, NULL);
	deliver1(&f, &a, &w, NULL);
	cr_assert_eq(mc_alert_history(f.st, 0, NULL, 0, &l, &n, &err), 0, "%s",
		     err.msg);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(l[0].result, "suppressed");
	cr_assert_str_eq(l[1].result, "delivered");
	cr_assert_str_eq(l[1].webhook, "log");
	cr_assert_eq(l[1].http_status, 200);
	cr_assert_str_eq(l[1].correlation_id, a.correlation_id);
	mc_alert_history_free(l, n);
	cr_assert_eq(mc_alert_history(f.st, 0, "other", 0, &l, &n, &err), 0);
	cr_assert_eq(n, 0);
	mc_alert_history_free(l, n);
	/* -n 1: the newest only */
	cr_assert_eq(mc_alert_history(f.st, 0, NULL, 1, &l, &n, &err), 0);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(l[0].result, "suppressed");
	mc_alert_history_free(l, n);
	mc_alert_release(&a);
	free(w.url);
	free(path);
	fx_close(&f);
}

/* ---- webhooks from the configuration ---- */

Test(alert, webhooks_from_config)
{
	char dir[MC_TEST_DIR_LEN];
	char *url_file, *key_file, *text;
	struct mc_conf *c;
	struct mc_err err = { 0 };
	struct mc_webhook *w = NULL;
	size_t n = 0;
	const char *names[] = { "pd" };
	const char *bad[] = { "slak" };
	FILE *fp;

	mc_test_dir(dir);
	url_file = mc_asprintf("%s/url", dir);
	key_file = mc_asprintf("%s/key", dir);
	fp = fopen(url_file, "w");
	fputs("  https://hooks.example.com/services/T0/B0/XyZsecret\n", fp);
	fclose(fp);
	fp = fopen(key_file, "w");
	fputs("routingkey0123456789abcdefghijkl\n", fp);
	fclose(fp);
	setenv("MC_TEST_ALERT_URL", "http://127.0.0.1:9/hook", 1);
	text = mc_asprintf("[webhook \"slack\"]\ntype = slack\nurl_file = %s\n"
			   "min_severity = warning\nrate = 2/m\nburst = 3\n"
			   "[webhook \"pd\"]\ntype = pagerduty\n"
			   "routing_key_file = %s\nbreaker_failures = 9\n"
			   "[webhook \"env\"]\ntype = json\n"
			   "url_env = MC_TEST_ALERT_URL\n", url_file, key_file);
	c = mc_conf_load_string(text, "t.conf", NULL, 0, &err);
	cr_assert_not_null(c, "%s", err.msg);
	cr_assert_eq(mc_webhooks_load(c, NULL, 0, &w, &n, &err), 0, "%s",
		     err.msg);
	cr_assert_eq(n, 3);
	cr_assert_str_eq(w[0].url,
			 "https://hooks.example.com/services/T0/B0/XyZsecret");
	cr_assert_eq(w[0].min_severity, MC_SEV_WARNING);
	cr_assert_float_eq(w[0].rate, 2.0 / 60, 1e-12);
	cr_assert_float_eq(w[0].burst, 3, 1e-12);
	cr_assert_eq(w[0].dedup_window_ms, 15 * 60000);
	cr_assert_eq(w[0].retries, 3);
	cr_assert_str_eq(w[1].url, "https://events.pagerduty.com/v2/enqueue");
	cr_assert_str_eq(w[1].routing_key, "routingkey0123456789abcdefghijkl");
	cr_assert_eq(w[1].breaker.failures, 9);
	cr_assert_eq(w[0].breaker.failures, 5);
	cr_assert_str_eq(w[2].url, "http://127.0.0.1:9/hook");
	/* the URL is a secret: redacted wherever it would appear */
	{
		char *r = mc_redact("posting to https://hooks.example.com/"
				    "services/T0/B0/XyZsecret failed");

		cr_assert(strstr(r, "XyZsecret") == NULL, "%s", r);
		free(r);
	}
	mc_webhooks_free(w, n);
	cr_assert_eq(mc_webhooks_load(c, names, 1, &w, &n, &err), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(w[0].type, MC_WH_PAGERDUTY);
	mc_webhooks_free(w, n);
	cr_assert_eq(mc_webhooks_load(c, bad, 1, &w, &n, &err), -1);
	cr_assert_eq(err.code, MC_EXIT_USAGE);
	cr_assert(strstr(err.msg, "did you mean 'slack'") != NULL, "%s",
		  err.msg);
	/* an unset url_env fails that webhook alone, saying why */
	unsetenv("MC_TEST_ALERT_URL");
	cr_assert_eq(mc_webhooks_load(c, NULL, 0, &w, &n, &err), 0, "%s",
		     err.msg);
	cr_assert_eq(n, 3);
	cr_assert_null(w[0].unusable);
	cr_assert_null(w[1].unusable);
	cr_assert_not_null(w[2].unusable);
	cr_assert(strstr(w[2].unusable, "t.conf:13") != NULL, "%s",
		  w[2].unusable);
	cr_assert(strstr(w[2].unusable, "MC_TEST_ALERT_URL") != NULL, "%s",
		  w[2].unusable);
	mc_webhooks_free(w, n);
	mc_conf_free(c);
	free(text);

	/* config validation: one URL source, a routing key for pagerduty */
	c = mc_conf_load_string("[webhook \"a\"]\ntype = json\nurl = "
				"http://x/\nurl_env = X\n", "t.conf", NULL, 0,
				&err);
	cr_assert_null(c);
	cr_assert_eq(err.code, MC_EXIT_CONFIG);
	c = mc_conf_load_string("[webhook \"a\"]\ntype = json\n", "t.conf",
				NULL, 0, &err);
	cr_assert_null(c);
	cr_assert(strstr(err.msg, "url_file") != NULL, "%s", err.msg);
	c = mc_conf_load_string("[webhook \"a\"]\ntype = pagerduty\n",
				"t.conf", NULL, 0, &err);
	cr_assert_null(c);
	cr_assert(strstr(err.msg, "routing_key") != NULL, "%s", err.msg);
	c = mc_conf_load_string("[webhook \"a\"]\ntype = teams\nurl = "
				"http://x/\n", "t.conf", NULL, 0, &err);
	cr_assert_null(c);
	cr_assert_eq(err.code, MC_EXIT_CONFIG);
	free(url_file);
	free(key_file);
	mc_test_rmtree(dir);
}

/* ---- notify: damping across runs ---- */

struct nfx {
	struct mc_conf *conf;
	struct mc_check check;
	struct mc_check_result res;
	struct mc_health h;
};

static const struct mc_check_type fake_type = { .name = "http" };

static void nfx_init(struct nfx *x, const char *conf)
{
	struct mc_err err = { 0 };

	memset(x, 0, sizeof(*x));
	x->conf = mc_conf_load_string(conf, "n.conf", NULL, 0, &err);
	cr_assert_not_null(x->conf, "%s", err.msg);
	x->check.name = "api";
	x->check.type = &fake_type;
	x->check.sec = mc_conf_find(x->conf, "check", "api");
	x->check.critical = 1;
	x->res.check = &x->check;
	x->res.message = "HTTP 503";
	x->h.checks = &x->check;
	x->h.results = &x->res;
	x->h.n = 1;
}

/* One run at status st: the change due, or -1 for none. Marks it done. */
static int nrun(struct mc_state *st, struct nfx *x, int status)
{
	struct mc_notify_change *ch = NULL;
	size_t n = 0;
	struct mc_err err = { 0 };
	int to = -1;

	x->res.status = status;
	cr_assert_eq(mc_notify_update(st, &x->h, mc_wall_now(), &ch, &n, &err),
		     0, "%s", err.msg);
	cr_assert_leq(n, 1);
	if (n == 1) {
		to = ch[0].to;
		cr_assert_eq(mc_notify_done(st, &ch[0], mc_wall_now(), &err),
			     0, "%s", err.msg);
	}
	free(ch);
	return to;
}

Test(notify, damped_by_failure_and_success_thresholds)
{
	struct fixture f;
	struct nfx x;

	fx_open(&f);
	nfx_init(&x, "[check \"api\"]\ntype = http\nurl = http://x/\n"
		 "failure_threshold = 3\nsuccess_threshold = 2\n");
	cr_assert_eq(nrun(f.st, &x, MC_ST_OK), -1);
	cr_assert_eq(nrun(f.st, &x, MC_ST_CRITICAL), -1);
	/* flapping between failing states still counts as failing */
	cr_assert_eq(nrun(f.st, &x, MC_ST_WARNING), -1);
	cr_assert_eq(nrun(f.st, &x, MC_ST_CRITICAL), MC_ST_CRITICAL);
	/* never twice for the same state */
	cr_assert_eq(nrun(f.st, &x, MC_ST_CRITICAL), -1);
	cr_assert_eq(nrun(f.st, &x, MC_ST_CRITICAL), -1);
	/* one good run among bad ones resets the count */
	cr_assert_eq(nrun(f.st, &x, MC_ST_OK), -1);
	cr_assert_eq(nrun(f.st, &x, MC_ST_CRITICAL), -1);
	cr_assert_eq(nrun(f.st, &x, MC_ST_OK), -1);
	cr_assert_eq(nrun(f.st, &x, MC_ST_OK), MC_ST_OK);
	cr_assert_eq(nrun(f.st, &x, MC_ST_OK), -1);
	mc_conf_free(x.conf);
	fx_close(&f);
}

Test(notify, a_change_not_done_is_due_again)
{
	struct fixture f;
	struct nfx x;
	struct mc_notify_change *ch = NULL;
	size_t n = 0;
	struct mc_err err = { 0 };
	struct mc_alert a;

	fx_open(&f);
	nfx_init(&x, "[check \"api\"]\ntype = http\nurl = http://x/\n"
		 "failure_threshold = 1\n");
	x.res.status = MC_ST_CRITICAL;
	for (int run = 0; run < 2; run++) {
		cr_assert_eq(mc_notify_update(f.st, &x.h, mc_wall_now(), &ch,
					      &n, &err), 0, "%s", err.msg);
		cr_assert_eq(n, 1, "run %d", run);
		if (run == 1)
			break;
		free(ch);
	}
	mc_notify_alert(&ch[0], "web1", "cid", &a);
	cr_assert_eq(a.action, MC_ACT_TRIGGER);
	cr_assert_eq(a.severity, MC_SEV_CRITICAL);
	cr_assert_str_eq(a.dedup_key, "mercury-health/web1/api");
	cr_assert(strstr(a.summary, "'api' is critical: HTTP 503") != NULL,
		  "%s", a.summary);
	mc_alert_release(&a);
	/* what the check said is made UTF-8 for the payloads */
	x.res.message = "bad \xff byte";
	mc_notify_alert(&ch[0], "web1", "cid", &a);
	cr_assert(strstr(a.summary, "bad \\xFF byte") != NULL, "%s", a.summary);
	cr_assert(mc_utf8_valid(a.description, strlen(a.description)));
	mc_alert_release(&a);
	x.res.message = "HTTP 503";
	/* a non-critical check failing is a warning */
	x.check.critical = 0;
	mc_notify_alert(&ch[0], "web1", "cid", &a);
	cr_assert_eq(a.severity, MC_SEV_WARNING);
	mc_alert_release(&a);
	free(ch);
	mc_conf_free(x.conf);
	fx_close(&f);
}
