/* promapi.c - see promapi.h. */
#include "promapi.h"
#include "mc.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *mc_promapi_query_url(const char *base, const char *query, double at)
{
	size_t n = strlen(base);
	char *q = mc_url_escape(query), *url;

	while (n > 0 && base[n - 1] == '/')
		n--;
	if (at > 0)
		url = mc_asprintf("%.*s/api/v1/query?query=%s&time=%.3f",
				  (int)n, base, q, at);
	else
		url = mc_asprintf("%.*s/api/v1/query?query=%s", (int)n, base, q);
	free(q);
	return url;
}

int mc_promapi_number(const char *text, double *out)
{
	char *end;
	double v;

	if (text == NULL || *text == '\0')
		return -1;
	/* strtod also reads hex floats and "infinity"; Prometheus writes
	 * neither, and what it does not write is not a sample value. */
	if (strpbrk(text, "xXpP") != NULL)
		return -1;
	v = strtod(text, &end);
	if (end == text || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

static void say(struct mc_promapi_result *out, int kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(struct mc_promapi_result *out, int kind, const char *fmt, ...)
{
	va_list ap;

	out->kind = kind;
	va_start(ap, fmt);
	if (vsnprintf(out->msg, sizeof(out->msg), fmt, ap) >=
	    (int)sizeof(out->msg))
		mc_utf8_uncut(out->msg);
	va_end(ap);
	/* One line, whatever the server sent. */
	for (char *p = out->msg; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
}

/* What a body that is not JSON looks like, for the message. */
static const char *what_body(const char *body, size_t len,
			     const json_error_t *jerr)
{
	size_t i = 0;

	while (i < len && (body[i] == ' ' || body[i] == '\n' ||
			   body[i] == '\r' || body[i] == '\t'))
		i++;
	if (i == len)
		return "an empty body";
	if (body[i] == '<')
		return "an HTML page";
	return jerr->text;
}

void mc_promapi_parse(long http_status, const char *body, size_t len,
		      struct mc_promapi_result *out)
{
	json_t *doc, *data, *result, *val = NULL;
	json_error_t jerr;
	const char *type, *text, *status;

	memset(out, 0, sizeof(*out));
	out->value = NAN;
	doc = json_loadb(body ? body : "", body ? len : 0, 0, &jerr);
	if (doc == NULL || !json_is_object(doc)) {
		say(out, MC_PROMAPI_BAD, "HTTP %ld and not a Prometheus API "
		    "answer (%s)", http_status, doc ? "JSON, but not an object" :
		    what_body(body ? body : "", body ? len : 0, &jerr));
		json_decref(doc);
		return;
	}
	status = json_string_value(json_object_get(doc, "status"));
	if (mc_streq(status, "error")) {
		text = json_string_value(json_object_get(doc, "error"));
		say(out, MC_PROMAPI_ERROR, "%s", text ? text :
		    "Prometheus answered an error without its text");
		json_decref(doc);
		return;
	}
	if (!mc_streq(status, "success")) {
		say(out, MC_PROMAPI_BAD, "HTTP %ld and not a Prometheus API "
		    "answer (no \"status\": \"success\")", http_status);
		json_decref(doc);
		return;
	}
	data = json_object_get(doc, "data");
	type = json_string_value(json_object_get(data, "resultType"));
	result = json_object_get(data, "result");
	if (mc_streq(type, "scalar")) {
		val = result;
	} else if (mc_streq(type, "vector") && json_is_array(result)) {
		out->n_series = json_array_size(result);
		if (out->n_series == 0) {
			say(out, MC_PROMAPI_EMPTY, "no data");
			json_decref(doc);
			return;
		}
		if (out->n_series > 1) {
			say(out, MC_PROMAPI_MANY, "%zu series", out->n_series);
			json_decref(doc);
			return;
		}
		val = json_object_get(json_array_get(result, 0), "value");
	}
	text = json_string_value(json_array_get(val, 1));
	if (text == NULL) {
		say(out, MC_PROMAPI_BAD, "the answer is a %s, not a scalar or "
		    "one sample", type && (mc_streq(type, "matrix") ||
					   mc_streq(type, "string")) ?
		    type : "malformed result");
		json_decref(doc);
		return;
	}
	if (mc_promapi_number(text, &out->value) < 0) {
		say(out, MC_PROMAPI_BAD, "the sample value '%.60s' is not a "
		    "number", text);
		json_decref(doc);
		return;
	}
	out->kind = MC_PROMAPI_VALUE;
	json_decref(doc);
}
