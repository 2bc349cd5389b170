/* json.c - the JSON writer: see json.h for why mercuryctl has its own. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "json.h"
#include "mc.h"

void mc_json_real(double d, char *buf, size_t size)
{
	if (!isfinite(d)) {
		snprintf(buf, size, "null");
		return;
	}
	int p, e;
	char exp[40];

	p = mc_shortest_digits(d);
	snprintf(buf, size, "%.*g", p, d);
	/* Positional notation from 1e-4 to below 1e16, as Python's repr
	 * writes them (%g would give 2e+01 for 20): p digits, the point
	 * where the exponent puts it. */
	snprintf(exp, sizeof(exp), "%.*e", p - 1, d);
	e = atoi(strchr(exp, 'e') + 1);
	if (d != 0 && e >= -4 && e < 16)
		snprintf(buf, size, "%.*f", p - 1 - e > 0 ? p - 1 - e : 0, d);
	/* A real stays a real when read back: 2 -> 2.0 (as jansson). */
	if (strpbrk(buf, ".eEn") == NULL && strlen(buf) + 3 <= size)
		strcat(buf, ".0");
}

int mc_json_is_number(const char *s)
{
	const char *p = s;

	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (*p >= '0' && *p <= '9')
			p++;
	else
		return 0;
	if (*p == '.') {
		if (!(*++p >= '0' && *p <= '9'))
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!(*p >= '0' && *p <= '9'))
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return *p == '\0';
}

/* One UTF-8 sequence at s (valid: jansson checks its strings) as a code
 * point; *len gets its length. */
static unsigned long utf8_decode(const unsigned char *s, size_t *len)
{
	if (s[0] < 0x80) {
		*len = 1;
		return s[0];
	}
	if ((s[0] & 0xE0) == 0xC0) {
		*len = 2;
		return ((unsigned long)(s[0] & 0x1F) << 6) | (s[1] & 0x3F);
	}
	if ((s[0] & 0xF0) == 0xE0) {
		*len = 3;
		return ((unsigned long)(s[0] & 0x0F) << 12) |
		       ((unsigned long)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
	}
	*len = 4;
	return ((unsigned long)(s[0] & 0x07) << 18) |
	       ((unsigned long)(s[1] & 0x3F) << 12) |
	       ((unsigned long)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
}

static void put_string(struct mc_buf *b, const char *s, size_t n, int flags)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	mc_buf_puts(b, "\"");
	while (i < n) {
		unsigned char c = p[i];

		if (c == '"' || c == '\\') {
			mc_buf_printf(b, "\\%c", c);
		} else if (c == '\n') {
			mc_buf_puts(b, "\\n");
		} else if (c == '\t') {
			mc_buf_puts(b, "\\t");
		} else if (c == '\r') {
			mc_buf_puts(b, "\\r");
		} else if (c == '\b') {
			mc_buf_puts(b, "\\b");
		} else if (c == '\f') {
			mc_buf_puts(b, "\\f");
		} else if (c < 0x20 || c == 0x7F) {
			mc_buf_printf(b, "\\u%04x", c);
		} else if (c >= 0x80 && (flags & MC_JSON_ASCII)) {
			size_t len;
			unsigned long cp = utf8_decode(p + i, &len);

			if (cp >= 0x10000) {	/* a surrogate pair */
				cp -= 0x10000;
				mc_buf_printf(b, "\\u%04lx\\u%04lx",
					      0xD800 | (cp >> 10),
					      0xDC00 | (cp & 0x3FF));
			} else {
				mc_buf_printf(b, "\\u%04lx", cp);
			}
			i += len;
			continue;
		} else {
			mc_buf_add(b, p + i, 1);
		}
		i++;
	}
	mc_buf_puts(b, "\"");
}

static void put(struct mc_buf *b, const json_t *j, int flags)
{
	char num[40];

	switch (json_typeof(j)) {
	case JSON_OBJECT: {
		const char *k;
		json_t *v;
		int first = 1;

		mc_buf_puts(b, "{");
		json_object_foreach((json_t *)j, k, v) {
			if (!first)
				mc_buf_puts(b, ",");
			first = 0;
			put_string(b, k, strlen(k), flags);
			mc_buf_puts(b, ":");
			put(b, v, flags);
		}
		mc_buf_puts(b, "}");
		break;
	}
	case JSON_ARRAY:
		mc_buf_puts(b, "[");
		for (size_t i = 0; i < json_array_size(j); i++) {
			if (i)
				mc_buf_puts(b, ",");
			put(b, json_array_get(j, i), flags);
		}
		mc_buf_puts(b, "]");
		break;
	case JSON_STRING:
		put_string(b, json_string_value(j), json_string_length(j),
			   flags);
		break;
	case JSON_INTEGER:
		mc_buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
		break;
	case JSON_REAL:
		mc_json_real(json_real_value(j), num, sizeof(num));
		mc_buf_puts(b, num);
		break;
	case JSON_TRUE:
		mc_buf_puts(b, "true");
		break;
	case JSON_FALSE:
		mc_buf_puts(b, "false");
		break;
	default:
		mc_buf_puts(b, "null");
		break;
	}
}

char *mc_json_dumps(const json_t *j, int flags)
{
	struct mc_buf b = { 0 };

	mc_buf_puts(&b, "");
	if (j == NULL)
		mc_buf_puts(&b, "null");
	else
		put(&b, j, flags);
	return mc_buf_steal(&b);
}

json_t *mc_json_text(const char *s, size_t n)
{
	char *clean;
	json_t *j;

	/* Checked here once: jansson need not check again. */
	if (mc_utf8_valid(s, n))
		return json_stringn_nocheck(s, n);
	clean = mc_utf8_clean_n(s, n);	/* valid UTF-8, no NUL */
	j = json_string_nocheck(clean);
	free(clean);
	return j;
}

json_t *mc_json_str(const char *s)
{
	return s != NULL ? mc_json_text(s, strlen(s)) : json_null();
}

int mc_json_set(json_t *obj, const char *key, json_t *value)
{
	char *clean;
	int rc;

	if (mc_utf8_valid(key, strlen(key)))
		return json_object_set_new_nocheck(obj, key, value);
	clean = mc_utf8_clean(key);
	rc = json_object_set_new_nocheck(obj, clean, value);
	free(clean);
	return rc;
}
