/*
 * alert_payload.c - the alert itself and the body each service expects.
 *
 * Formats, as each service documents them:
 *   slack         incoming webhooks, a `text` fallback plus Block Kit
 *                 `blocks` (https://api.slack.com/messaging/webhooks,
 *                 https://api.slack.com/reference/block-kit/blocks: header
 *                 text up to 150 characters, section text up to 3000)
 *   discord       Execute Webhook, `content` plus `embeds`
 *                 (https://discord.com/developers/docs/resources/webhook
 *                 #execute-webhook; embed limits: title 256, description
 *                 4096, field value 1024, 6000 in all)
 *   pagerduty     Events API v2 (https://developer.pagerduty.com/docs/
 *                 events-api-v2/trigger-events/ and .../resolve-events/:
 *                 summary up to 1024 characters, dedup_key up to 255)
 *   alertmanager  API v2 postableAlerts (https://github.com/prometheus/
 *                 alertmanager/blob/main/api/v2/openapi.yaml): an array of
 *                 {labels, annotations, startsAt, endsAt, generatorURL}
 *   json          mercury's own, documented in mercuryctl-alert(1)
 * Every body carries the run's correlation id.
 */
#include <ctype.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "alert.h"
#include "json.h"

static const char *const severity_names[] = { "info", "warning", "critical" };
static const char *const type_names[] = {
	"slack", "discord", "json", "alertmanager", "pagerduty",
};
static const char *const action_names[] = { "trigger", "resolve", "test" };
static const char *const result_names[] = {
	"delivered", "suppressed", "filtered", "failed", "failed",
};

const char *mc_severity_name(int sev)
{
	return sev >= 0 && sev < (int)MC_ARRAY_LEN(severity_names) ?
	       severity_names[sev] : "unknown";
}

int mc_severity_parse(const char *s)
{
	for (size_t i = 0; s != NULL && i < MC_ARRAY_LEN(severity_names); i++)
		if (strcmp(s, severity_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *mc_webhook_type_name(int type)
{
	return type >= 0 && type < (int)MC_ARRAY_LEN(type_names) ?
	       type_names[type] : "unknown";
}

const char *mc_alert_action_name(int action)
{
	return action >= 0 && action < (int)MC_ARRAY_LEN(action_names) ?
	       action_names[action] : "unknown";
}

const char *mc_delivery_result_name(int result)
{
	return result >= 0 && result < (int)MC_ARRAY_LEN(result_names) ?
	       result_names[result] : "unknown";
}

static int label_key_ok(const char *k, size_t n)
{
	if (n == 0 || isdigit((unsigned char)k[0]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)k[i]) && k[i] != '_')
			return 0;
	return 1;
}

int mc_alert_add_label(struct mc_alert *a, const char *kv, struct mc_err *err)
{
	const char *eq = strchr(kv, '=');
	size_t klen, i;
	char *key;

	if (eq == NULL)
		return mc_err_set(err, MC_EXIT_USAGE,
				  "--label '%s': expected KEY=VALUE", kv);
	klen = (size_t)(eq - kv);
	if (!label_key_ok(kv, klen))
		return mc_err_set(err, MC_EXIT_USAGE,
				  "--label '%.*s': a key is letters, digits "
				  "and underscores, not starting with a digit",
				  (int)klen, kv);
	key = mc_strndup(kv, klen);
	for (i = 0; i < a->n_labels; i++) {
		int c = strcmp(a->labels[i].key, key);

		if (c == 0) {
			free(key);
			free(a->labels[i].value);
			a->labels[i].value = mc_strdup(eq + 1);
			return 0;
		}
		if (c > 0)	/* sorted: insert before the first greater */
			break;
	}
	a->labels = mc_realloc(a->labels, (a->n_labels + 1) *
			       sizeof(*a->labels));
	memmove(a->labels + i + 1, a->labels + i,
		(a->n_labels - i) * sizeof(*a->labels));
	a->labels[i].key = key;
	a->labels[i].value = mc_strdup(eq + 1);
	a->n_labels++;
	return 0;
}

static void digest_field(EVP_MD_CTX *md, const char *s)
{
	unsigned char len[8];
	size_t n = s ? strlen(s) : 0;

	for (int i = 0; i < 8; i++)
		len[i] = (unsigned char)(n >> (8 * i));
	EVP_DigestUpdate(md, len, sizeof(len));
	if (n > 0)
		EVP_DigestUpdate(md, s, n);
}

char *mc_alert_default_key(const struct mc_alert *a)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char sum[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	char hex[2 * EVP_MAX_MD_SIZE + 1];

	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		MC_BUG("cannot start a SHA-256 digest");
	digest_field(md, a->summary);
	digest_field(md, a->source);
	for (size_t i = 0; i < a->n_labels; i++) {
		digest_field(md, a->labels[i].key);
		digest_field(md, a->labels[i].value);
	}
	EVP_DigestFinal_ex(md, sum, &len);
	EVP_MD_CTX_free(md);
	mc_hex(sum, 16, hex);
	return mc_asprintf("mc-%s", hex);
}

static int text_ok(const char *what, const char *s, struct mc_err *err)
{
	if (s != NULL && !mc_utf8_valid(s, strlen(s)))
		return mc_err_set(err, MC_EXIT_DATAERR,
				  "%s is not valid UTF-8 text", what);
	return 0;
}

int mc_alert_finish(struct mc_alert *a, struct mc_err *err)
{
	const char *p;

	if (a->summary == NULL)
		return mc_err_set(err, MC_EXIT_USAGE, "a summary is required");
	for (p = a->summary; *p && isspace((unsigned char)*p); p++)
		;
	if (*p == '\0')
		return mc_err_set(err, MC_EXIT_USAGE,
				  "the summary is empty");
	if (text_ok("the summary", a->summary, err) < 0 ||
	    text_ok("the description", a->description, err) < 0 ||
	    text_ok("the source", a->source, err) < 0 ||
	    text_ok("the dedup key", a->dedup_key, err) < 0)
		return -1;
	for (size_t i = 0; i < a->n_labels; i++)
		if (text_ok("a label value", a->labels[i].value, err) < 0)
			return -1;
	if (a->dedup_key != NULL && a->dedup_key[0] == '\0')
		return mc_err_set(err, MC_EXIT_USAGE, "the dedup key is empty");
	if (a->source == NULL) {
		char host[256];

		mc_hostname(host, sizeof(host));
		a->source = mc_strdup(host);
	}
	if (a->dedup_key == NULL)
		a->dedup_key = mc_alert_default_key(a);
	return 0;
}

void mc_alert_release(struct mc_alert *a)
{
	if (a == NULL)
		return;
	free(a->summary);
	free(a->description);
	free(a->source);
	for (size_t i = 0; i < a->n_labels; i++) {
		free(a->labels[i].key);
		free(a->labels[i].value);
	}
	free(a->labels);
	free(a->dedup_key);
	free(a->correlation_id);
	free(a->generator_url);
	memset(a, 0, sizeof(*a));
}

/* Slack's mrkdwn treats &, < and > as markup ("<!channel>" would notify
 * a whole channel): they are escaped as its docs ask. */
static char *slack_escape(const char *s)
{
	struct mc_buf b = { 0 };

	mc_buf_puts(&b, "");
	for (; *s; s++) {
		switch (*s) {
		case '&': mc_buf_puts(&b, "&amp;"); break;
		case '<': mc_buf_puts(&b, "&lt;"); break;
		case '>': mc_buf_puts(&b, "&gt;"); break;
		default: mc_buf_add(&b, s, 1); break;
		}
	}
	return mc_buf_steal(&b);
}

/* Sets obj[key] to s cut to max characters. */
static void set_text(json_t *obj, const char *key, const char *s, size_t max)
{
	char *t = mc_utf8_truncate(s ? s : "", max);

	mc_json_set(obj, key, mc_json_str(t));
	free(t);
}

static void set_time(json_t *obj, const char *key, double wall)
{
	char ts[40];

	mc_format_time(wall, ts, sizeof(ts));
	mc_json_set(obj, key, mc_json_str(ts));
}

static int effective_severity(const struct mc_alert *a, int open_severity)
{
	return a->action == MC_ACT_RESOLVE && open_severity >= 0 ?
	       open_severity : a->severity;
}

/* "[CRITICAL] summary", "[RESOLVED] summary", "[TEST] summary". */
static char *title(const struct mc_alert *a, int sev)
{
	const char *tag;
	char up[16];
	size_t i;

	if (a->action == MC_ACT_TEST)
		tag = "TEST";
	else if (a->action == MC_ACT_RESOLVE)
		tag = "RESOLVED";
	else {
		const char *n = mc_severity_name(sev);

		for (i = 0; n[i] && i < sizeof(up) - 1; i++)
			up[i] = (char)toupper((unsigned char)n[i]);
		up[i] = '\0';
		tag = up;
	}
	return mc_asprintf("[%s] %s", tag, a->summary);
}

static json_t *labels_object(const struct mc_alert *a)
{
	json_t *o = json_object();

	for (size_t i = 0; i < a->n_labels; i++)
		mc_json_set(o, a->labels[i].key,
			    mc_json_str(a->labels[i].value));
	return o;
}

/* "k=v, k2=v2" */
static char *labels_line(const struct mc_alert *a)
{
	struct mc_buf b = { 0 };

	mc_buf_puts(&b, "");
	for (size_t i = 0; i < a->n_labels; i++)
		mc_buf_printf(&b, "%s%s=%s", i ? ", " : "", a->labels[i].key,
			      a->labels[i].value);
	return mc_buf_steal(&b);
}

static json_t *slack_payload(const struct mc_alert *a, int sev)
{
	json_t *doc = json_object(), *blocks = json_array(), *blk, *txt,
	       *fields, *elems;
	char *t = title(a, sev), *esc = slack_escape(t), *lab = labels_line(a),
	     *ctx;

	set_text(doc, "text", esc, MC_LIMIT_SLACK_SECTION);
	blk = json_pack("{s:s}", "type", "header");
	txt = json_pack("{s:s}", "type", "plain_text");
	set_text(txt, "text", t, MC_LIMIT_SLACK_HEADER);
	json_object_set_new(blk, "text", txt);
	json_array_append_new(blocks, blk);
	if (a->description && a->description[0]) {
		char *d = slack_escape(a->description);

		blk = json_pack("{s:s}", "type", "section");
		txt = json_pack("{s:s}", "type", "mrkdwn");
		set_text(txt, "text", d, MC_LIMIT_SLACK_SECTION);
		json_object_set_new(blk, "text", txt);
		json_array_append_new(blocks, blk);
		free(d);
	}
	{
		char *src = slack_escape(a->source);
		char *f1 = mc_asprintf("*Severity*\n%s", mc_severity_name(sev));
		char *f2 = mc_asprintf("*Source*\n%s", src);

		fields = json_array();
		txt = json_pack("{s:s}", "type", "mrkdwn");
		set_text(txt, "text", f1, 2000);
		json_array_append_new(fields, txt);
		txt = json_pack("{s:s}", "type", "mrkdwn");
		set_text(txt, "text", f2, 2000);
		json_array_append_new(fields, txt);
		blk = json_pack("{s:s, s:o}", "type", "section", "fields",
				fields);
		json_array_append_new(blocks, blk);
		free(src);
		free(f1);
		free(f2);
	}
	{
		char *l = slack_escape(lab);

		ctx = mc_asprintf("%s%s%scorrelation id %s%s",
				  l[0] ? "labels: " : "", l, l[0] ? " · " : "",
				  a->correlation_id ? a->correlation_id : "-",
				  a->action == MC_ACT_TEST ?
				  " · a test sent by mercuryctl alert test" : "");
		free(l);
	}
	elems = json_array();
	txt = json_pack("{s:s}", "type", "mrkdwn");
	set_text(txt, "text", ctx, MC_LIMIT_SLACK_SECTION);
	json_array_append_new(elems, txt);
	json_array_append_new(blocks, json_pack("{s:s, s:o}", "type", "context",
						"elements", elems));
	json_object_set_new(doc, "blocks", blocks);
	free(ctx);
	free(lab);
	free(esc);
	free(t);
	return doc;
}

/* Embed colours by what the alert says. */
static long discord_color(const struct mc_alert *a, int sev)
{
	if (a->action == MC_ACT_TEST)
		return 0x8E24AA;	/* purple */
	if (a->action == MC_ACT_RESOLVE)
		return 0x43A047;	/* green */
	return sev == MC_SEV_CRITICAL ? 0xE53935 :	/* red */
	       sev == MC_SEV_WARNING ? 0xFB8C00 :	/* orange */
	       0x1E88E5;				/* blue */
}

static json_t *discord_payload(const struct mc_alert *a, int sev, double now)
{
	json_t *doc = json_object(), *embed = json_object(),
	       *fields = json_array(), *f;
	char *t = title(a, sev), *foot, *tt;
	size_t used = 0, budget;

	set_text(doc, "content", t, 2000);
	/* Mentions in the summary ping nobody. */
	json_object_set_new(doc, "allowed_mentions",
			    json_pack("{s:[]}", "parse"));
	tt = mc_utf8_truncate(t, MC_LIMIT_DISCORD_TITLE);
	json_object_set_new(embed, "title", mc_json_str(tt));
	used += mc_utf8_chars(tt);
	free(tt);
	json_object_set_new(embed, "color", json_integer(discord_color(a, sev)));
	set_time(embed, "timestamp", now);

	f = json_pack("{s:s, s:o, s:b}", "name", "severity", "value",
		      mc_json_str(mc_severity_name(sev)), "inline", 1);
	json_array_append_new(fields, f);
	f = json_pack("{s:s, s:b}", "name", "source", "inline", 1);
	set_text(f, "value", a->source, 200);
	json_array_append_new(fields, f);
	used += 8 + 6 + mc_utf8_chars(mc_severity_name(sev)) + 200;
	/* Labels: up to 20 fields of 64 + 200 characters stay well inside
	 * the 25 fields and the 6000 characters of an embed. */
	for (size_t i = 0; i < a->n_labels && i < 20; i++) {
		f = json_pack("{s:b}", "inline", 1);
		set_text(f, "name", a->labels[i].key, 64);
		set_text(f, "value", a->labels[i].value[0] ?
			 a->labels[i].value : "-", 200);
		json_array_append_new(fields, f);
		used += 64 + 200;
	}
	json_object_set_new(embed, "fields", fields);
	foot = mc_asprintf("correlation id %s%s",
			   a->correlation_id ? a->correlation_id : "-",
			   a->action == MC_ACT_TEST ?
			   " · a test sent by mercuryctl alert test" : "");
	{
		json_t *ft = json_object();

		set_text(ft, "text", foot, 2048);
		json_object_set_new(embed, "footer", ft);
		used += mc_utf8_chars(foot);
	}
	budget = used < 6000 ? 6000 - used : 0;
	if (budget > MC_LIMIT_DISCORD_DESC)
		budget = MC_LIMIT_DISCORD_DESC;
	if (a->description && a->description[0] && budget > 0)
		set_text(embed, "description", a->description, budget);
	json_object_set_new(doc, "embeds", json_pack("[o]", embed));
	free(foot);
	free(t);
	return doc;
}

static json_t *details_object(const struct mc_alert *a)
{
	json_t *d = json_object();

	if (a->description)
		set_text(d, "description", a->description, MC_LIMIT_TEXT);
	json_object_set_new(d, "labels", labels_object(a));
	json_object_set_new(d, "correlation_id",
			    mc_json_str(a->correlation_id ? a->correlation_id :
					""));
	json_object_set_new(d, "test", json_boolean(a->action == MC_ACT_TEST));
	return d;
}

/* PagerDuty's dedup_key holds 255 characters: a longer key is replaced by
 * its hash, the same for every event of that alert. */
static char *pd_dedup_key(const char *key)
{
	struct mc_alert tmp = { 0 };

	if (mc_utf8_chars(key) <= MC_LIMIT_PD_DEDUP)
		return mc_strdup(key);
	tmp.summary = (char *)key;
	return mc_alert_default_key(&tmp);
}

static json_t *pagerduty_payload(const struct mc_webhook *wh,
				 const struct mc_alert *a, int sev, double now)
{
	json_t *doc = json_object(), *p = json_object();
	char *key = pd_dedup_key(a->dedup_key), *t;

	json_object_set_new(doc, "routing_key",
			    mc_json_str(wh->routing_key ? wh->routing_key : ""));
	json_object_set_new(doc, "event_action",
			    mc_json_str(a->action == MC_ACT_RESOLVE ? "resolve" :
					"trigger"));
	json_object_set_new(doc, "dedup_key", mc_json_str(key));
	json_object_set_new(doc, "client", json_string("mercuryctl"));
	t = a->action == MC_ACT_TEST ? mc_asprintf("[TEST] %s", a->summary) :
	    mc_strdup(a->summary);
	set_text(p, "summary", t, MC_LIMIT_PD_SUMMARY);
	set_text(p, "source", a->source, 255);
	/* PagerDuty's severities are critical, error, warning, info. */
	json_object_set_new(p, "severity", mc_json_str(mc_severity_name(sev)));
	set_time(p, "timestamp", now);
	json_object_set_new(p, "custom_details", details_object(a));
	json_object_set_new(doc, "payload", p);
	free(t);
	free(key);
	return doc;
}

/* One Alertmanager alert at severity sev; ends_now: ended at now (a
 * resolve, or the old severity of an escalation). */
static json_t *alertmanager_alert(const struct mc_alert *a, int sev,
				  int ends_now, double now)
{
	json_t *alert = json_object(), *labels = labels_object(a),
	       *ann = json_object();

	if (json_object_get(labels, "alertname") == NULL)
		json_object_set_new(labels, "alertname",
				    json_string("mercuryctl"));
	json_object_set_new(labels, "severity",
			    mc_json_str(mc_severity_name(sev)));
	if (json_object_get(labels, "source") == NULL)
		json_object_set_new(labels, "source", mc_json_str(a->source));
	json_object_set_new(labels, "dedup_key", mc_json_str(a->dedup_key));
	if (a->action == MC_ACT_TEST)
		json_object_set_new(labels, "mercury_test",
				    json_string("true"));
	set_text(ann, "summary", a->summary, MC_LIMIT_TEXT);
	if (a->description)
		set_text(ann, "description", a->description, MC_LIMIT_TEXT);
	json_object_set_new(ann, "correlation_id",
			    mc_json_str(a->correlation_id ? a->correlation_id :
					""));
	json_object_set_new(alert, "labels", labels);
	json_object_set_new(alert, "annotations", ann);
	if (ends_now) {
		set_time(alert, "endsAt", now);
	} else {
		set_time(alert, "startsAt", a->started > 0 ? a->started : now);
		/* Alertmanager ends an alert nobody re-sends after its
		 * resolve_timeout (5m). mercuryctl sends once and resolves
		 * explicitly, so the alert lasts until then, or a day at
		 * most if no resolve ever comes; a test, five minutes. */
		set_time(alert, "endsAt", now + (a->action == MC_ACT_TEST ?
						 300 : 86400));
	}
	if (a->generator_url)
		json_object_set_new(alert, "generatorURL",
				    mc_json_str(a->generator_url));
	return alert;
}

/* Alertmanager knows an alert by its label set, severity included: an
 * escalation ends the alert at the old severity in the same request, so
 * exactly one stays active. A resolve whose severity nobody knows (never
 * sent here, --no-dedup) ends it at every severity. */
static json_t *alertmanager_payload(const struct mc_alert *a, int sev,
				    int open_severity, double now)
{
	json_t *arr = json_array();

	if (a->action == MC_ACT_RESOLVE && sev < 0) {
		for (int s = MC_SEV_INFO; s <= MC_SEV_CRITICAL; s++)
			json_array_append_new(arr, alertmanager_alert(a, s, 1,
								      now));
		return arr;
	}
	if (a->action == MC_ACT_TRIGGER && open_severity >= 0 &&
	    open_severity != sev)
		json_array_append_new(arr, alertmanager_alert(a, open_severity,
							      1, now));
	json_array_append_new(arr, alertmanager_alert(a, sev,
						      a->action ==
						      MC_ACT_RESOLVE, now));
	return arr;
}

static json_t *mercury_payload(const struct mc_webhook *wh,
			       const struct mc_alert *a, int sev, double now)
{
	json_t *doc = json_object();

	json_object_set_new(doc, "schema", json_string("mercury.alert/v1"));
	json_object_set_new(doc, "action",
			    mc_json_str(mc_alert_action_name(a->action)));
	json_object_set_new(doc, "test", json_boolean(a->action == MC_ACT_TEST));
	/* null: a resolve whose severity is not known (--no-dedup) */
	json_object_set_new(doc, "severity", sev >= 0 ?
			    mc_json_str(mc_severity_name(sev)) : json_null());
	set_text(doc, "summary", a->summary, MC_LIMIT_TEXT);
	if (a->description)
		set_text(doc, "description", a->description, MC_LIMIT_TEXT);
	else
		json_object_set_new(doc, "description", json_null());
	json_object_set_new(doc, "source", mc_json_str(a->source));
	json_object_set_new(doc, "labels", labels_object(a));
	json_object_set_new(doc, "dedup_key", mc_json_str(a->dedup_key));
	json_object_set_new(doc, "correlation_id",
			    mc_json_str(a->correlation_id ? a->correlation_id :
					""));
	json_object_set_new(doc, "webhook", mc_json_str(wh->name));
	set_time(doc, "timestamp", now);
	set_time(doc, "started_at", a->started > 0 ? a->started : now);
	json_object_set_new(doc, "generator_url",
			    a->generator_url ? mc_json_str(a->generator_url) :
			    json_null());
	return doc;
}

char *mc_alert_payload(const struct mc_webhook *wh, const struct mc_alert *a,
		       int open_severity, double now)
{
	int sev = effective_severity(a, open_severity);
	json_t *doc;
	char *s;

	switch (wh->type) {
	case MC_WH_SLACK:
		doc = slack_payload(a, sev);
		break;
	case MC_WH_DISCORD:
		doc = discord_payload(a, sev, now);
		break;
	case MC_WH_PAGERDUTY:
		doc = pagerduty_payload(wh, a, sev, now);
		break;
	case MC_WH_ALERTMANAGER:
		doc = alertmanager_payload(a, sev, open_severity, now);
		break;
	default:
		doc = mercury_payload(wh, a, sev, now);
		break;
	}
	s = mc_json_dumps(doc, 0);
	json_decref(doc);
	return s;
}

char *mc_webhook_endpoint(const struct mc_webhook *wh)
{
	size_t n;

	if (wh->type != MC_WH_ALERTMANAGER)
		return mc_strdup(wh->url);
	n = strlen(wh->url);
	while (n > 0 && wh->url[n - 1] == '/')
		n--;
	return mc_asprintf("%.*s/api/v2/alerts", (int)n, wh->url);
}
