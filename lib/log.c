/* log.c - stderr diagnostics and redaction of secrets. */
#include "log.h"
#include "json.h"
#include "mc.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static struct {
	int level;
	int json;
	char *command;
	char *correlation_id;
	char **secrets;
	size_t n_secrets;
} lg = { .level = MC_LOG_WARN };

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void mc_log_setup(int level, int json, const char *command,
		  const char *correlation_id)
{
	lg.level = level;
	lg.json = json;
	free(lg.command);
	free(lg.correlation_id);
	lg.command = mc_strdup(command);
	lg.correlation_id = mc_strdup(correlation_id);
}

int mc_log_level_parse(const char *s)
{
	for (size_t i = 0; s && i < MC_ARRAY_LEN(level_names); i++)
		if (strcasecmp(s, level_names[i]) == 0)
			return (int)i;
	if (s && strcasecmp(s, "warning") == 0)
		return MC_LOG_WARN;
	return -1;
}

void mc_log_shutdown(void)
{
	for (size_t i = 0; i < lg.n_secrets; i++)
		mc_free_secret(lg.secrets[i]);
	free(lg.secrets);
	free(lg.command);
	free(lg.correlation_id);
	lg.secrets = NULL;
	lg.n_secrets = 0;
	lg.command = lg.correlation_id = NULL;
}

void mc_redact_add(const char *secret)
{
	if (secret == NULL || strlen(secret) < 4)
		return;
	for (size_t i = 0; i < lg.n_secrets; i++)
		if (strcmp(lg.secrets[i], secret) == 0)
			return;
	lg.secrets = mc_realloc(lg.secrets,
				(lg.n_secrets + 1) * sizeof(*lg.secrets));
	lg.secrets[lg.n_secrets++] = mc_strdup(secret);
}

void mc_redact_add_url(const char *url)
{
	const char *sep = url ? strstr(url, "://") : NULL;
	const char *host, *end, *at = NULL, *colon;
	char *pw;

	if (sep == NULL)
		return;
	host = sep + 3;
	end = host + strcspn(host, "?#");
	for (const char *q = host; q < end; q++)
		if (*q == '@')
			at = q;
	if (at == NULL ||
	    (colon = memchr(host, ':', (size_t)(at - host))) == NULL)
		return;
	pw = mc_strndup(colon + 1, (size_t)(at - colon - 1));
	mc_redact_add(pw);
	mc_free_secret(pw);
}

/* Masks user:password@ in every scheme://user:password@host of s. */
static void mask_userinfo(struct mc_buf *out, const char *s)
{
	const char *p = s;

	while (*p) {
		const char *sep = strstr(p, "://");
		const char *host, *at, *end;

		if (sep == NULL)
			break;
		host = sep + 3;
		end = host + strcspn(host, "/?# \t\"'<>");
		at = NULL;
		for (const char *q = host; q < end; q++)
			if (*q == '@')
				at = q;
		mc_buf_add(out, p, (size_t)(host - p));
		if (at != NULL) {
			const char *colon = memchr(host, ':', (size_t)(at - host));

			if (colon != NULL) {
				mc_buf_add(out, host, (size_t)(colon - host));
				mc_buf_puts(out, ":***");
			} else {
				mc_buf_puts(out, "***");
			}
			host = at;
		}
		mc_buf_add(out, host, (size_t)(end - host));
		p = end;
	}
	mc_buf_puts(out, p);
}

/* Masks the values of query parameters and key=value pairs whose name says
 * they are secret (token=, password=, secret=, key=, auth=, signature=). */
static char *mask_params(const char *s)
{
	static const char *const names[] = {
		"token", "password", "passwd", "secret", "apikey", "api_key", "api-key", "x-api-key", "access_key",
		"secret_key", "private_token", "access_token", "refresh_token",
		"id_token", "client_secret", "auth", "signature", "sig",
		"routing_key", "credential", "credentials", "jwt",
	};
	static const char *const query_names[] = { "key", "pass", "pwd",
						   "code" };
	struct mc_buf out = { 0 };
	const char *p = s;

	while (*p) {
		const char *eq = strchr(p, '=');
		const char *name;
		int secret = 0;

		if (eq == NULL)
			break;
		name = eq;
		while (name > p && (isalnum((unsigned char)name[-1]) ||
				    name[-1] == '_' || name[-1] == '-'))
			name--;
		for (size_t i = 0; i < MC_ARRAY_LEN(names); i++)
			if ((size_t)(eq - name) == strlen(names[i]) &&
			    strncasecmp(name, names[i], (size_t)(eq - name)) == 0)
				secret = 1;
		/* Names too common in prose ("KEY=VALUE") count only as a
		 * URL's query parameters. */
		for (size_t i = 0; i < MC_ARRAY_LEN(query_names); i++)
			if (name > s && (name[-1] == '?' || name[-1] == '&') &&
			    (size_t)(eq - name) == strlen(query_names[i]) &&
			    strncasecmp(name, query_names[i],
					(size_t)(eq - name)) == 0)
				secret = 1;
		mc_buf_add(&out, p, (size_t)(eq - p) + 1);
		p = eq + 1;
		if (secret && *p && !strchr("&; \t\n\"'", *p)) {
			mc_buf_puts(&out, "***");
			p += strcspn(p, "&; \t\n\"',");
		}
	}
	mc_buf_puts(&out, p);
	return mc_buf_steal(&out);
}

char *mc_redact(const char *s)
{
	struct mc_buf b = { 0 };
	char *cur;

	if (s == NULL)
		return NULL;
	mask_userinfo(&b, s);
	cur = mc_buf_steal(&b);
	for (size_t i = 0; i < lg.n_secrets; i++) {
		const char *sec = lg.secrets[i], *p = cur, *hit;
		size_t n = strlen(sec);

		if (strstr(cur, sec) == NULL)
			continue;
		while ((hit = strstr(p, sec)) != NULL) {
			mc_buf_add(&b, p, (size_t)(hit - p));
			mc_buf_puts(&b, "***");
			p = hit + n;
		}
		mc_buf_puts(&b, p);
		free(cur);
		cur = mc_buf_steal(&b);
	}
	{
		char *masked = mask_params(cur);

		free(cur);
		cur = mc_escape_str(masked);
		free(masked);
	}
	return cur;
}

char *mc_redact_url(const char *url, int hide_path)
{
	struct mc_buf b = { 0 };
	const char *sep, *host, *end, *at = NULL;

	if (url == NULL)
		return NULL;
	sep = strstr(url, "://");
	if (sep == NULL)
		return hide_path ? mc_strdup("***") : mc_redact(url);
	host = sep + 3;
	end = host + strcspn(host, "/?#");
	for (const char *q = host; q < end; q++)
		if (*q == '@')
			at = q;
	mc_buf_add(&b, url, (size_t)(host - url));
	if (at != NULL) {
		/* Keep the user name, mask the password: people see that one
		 * is set. */
		const char *colon = memchr(host, ':', (size_t)(at - host));

		if (colon != NULL) {
			mc_buf_add(&b, host, (size_t)(colon - host));
			mc_buf_puts(&b, ":***@");
		} else {
			mc_buf_puts(&b, "***@");
		}
		host = at + 1;
	}
	mc_buf_add(&b, host, (size_t)(end - host));
	if (hide_path) {
		if (*end)
			mc_buf_puts(&b, "/***");
		return mc_buf_steal(&b);
	} else {
		char *rest = mc_redact(end), *out;

		mc_buf_puts(&b, rest);
		free(rest);
		out = mc_buf_steal(&b);
		return out;
	}
}

/* A field whose name says it holds a secret is masked whole. */
static int secret_key(const char *k)
{
	static const char *const words[] = { "password", "passwd", "secret",
					     "token", "authorization", "apikey",
					     "api_key", "routing_key", "cookie" };

	for (size_t i = 0; i < MC_ARRAY_LEN(words); i++)
		if (strcasestr(k, words[i]))
			return 1;
	return 0;
}

static char *field_value(const char *k, const char *v)
{
	return secret_key(k) ? mc_strdup("***") : mc_redact(v ? v : "");
}

static void emit(int level, const char *msg, va_list kv)
{
	char ts[40];
	char *safe = mc_redact(msg);

	mc_format_time(mc_wall_now(), ts, sizeof(ts));
	if (lg.json) {
		json_t *o = json_object();
		const char *k;
		char *line;

		json_object_set_new(o, "ts", mc_json_str(ts));
		json_object_set_new(o, "level", mc_json_str(level_names[level]));
		json_object_set_new(o, "msg", mc_json_str(safe));
		if (lg.command)
			json_object_set_new(o, "command",
					    mc_json_str(lg.command));
		if (lg.correlation_id)
			json_object_set_new(o, "correlation_id",
					    mc_json_str(lg.correlation_id));
		while ((k = va_arg(kv, const char *)) != NULL) {
			const char *v = va_arg(kv, const char *);
			char *sv = field_value(k, v);

			/* a number stays a number ("exit_code":0) */
			if (mc_json_is_number(sv) && strchr(sv, '.') == NULL &&
			    strpbrk(sv, "eE") == NULL && strlen(sv) < 19)
				mc_json_set(o, k, json_integer(
					strtoll(sv, NULL, 10)));
			else if (mc_json_is_number(sv))
				mc_json_set(o, k,
					    json_real(strtod(sv, NULL)));
			else
				mc_json_set(o, k, mc_json_str(sv));
			free(sv);
		}
		line = mc_json_dumps(o, MC_JSON_ASCII);
		fprintf(stderr, "%s\n", line);
		free(line);
		json_decref(o);
	} else {
		struct mc_buf b = { 0 };
		const char *k;

		mc_buf_printf(&b, "mercuryctl: %s%s", level == MC_LOG_ERROR ?
			      "" : level_names[level], level == MC_LOG_ERROR ?
			      "" : ": ");
		mc_buf_puts(&b, safe);
		while ((k = va_arg(kv, const char *)) != NULL) {
			const char *v = va_arg(kv, const char *);
			char *sv = field_value(k, v);

			mc_buf_printf(&b, " %s=%s", k, sv);
			free(sv);
		}
		fprintf(stderr, "%s\n", b.data);
		mc_buf_release(&b);
	}
	free(safe);
}

static void emit_kv(int level, const char *msg, ...)
{
	va_list ap;

	va_start(ap, msg);
	emit(level, msg, ap);
	va_end(ap);
}

void mc_log(int level, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (level > lg.level)
		return;
	va_start(ap, fmt);
	msg = mc_vasprintf(fmt, ap);
	va_end(ap);
	emit_kv(level, msg, (const char *)NULL);
	free(msg);
}

void mc_logkv(int level, const char *msg, ...)
{
	va_list ap;

	if (level > lg.level)
		return;
	va_start(ap, msg);
	emit(level, msg, ap);
	va_end(ap);
}
