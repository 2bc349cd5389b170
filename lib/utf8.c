/*
 * utf8.c - UTF-8 (RFC 3629): validation, cleaning, counting, truncation
 * (as git's utf8.c).
 */
#include "mc.h"

#include <stdlib.h>
#include <string.h>

/* Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0. */
size_t mc_utf8_len(const unsigned char *p, size_t n)
{
	unsigned c = p[0];

	if (c < 0x80)
		return 1;
	if (c < 0xC2)
		return 0;
	if (c < 0xE0)
		return n >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
	if (c < 0xF0) {
		if (n < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
			return 0;
		if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] >= 0xA0))
			return 0;
		return 3;
	}
	if (c < 0xF5) {
		if (n < 4 || (p[1] & 0xC0) != 0x80 ||
		    (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
			return 0;
		if ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] >= 0x90))
			return 0;
		return 4;
	}
	return 0;
}

int mc_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, l;

	while (i < n) {
		if (p[i] == '\0' || (l = mc_utf8_len(p + i, n - i)) == 0)
			return 0;
		i += l;
	}
	return 1;
}

char *mc_escape(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	struct mc_buf b = { 0 };
	size_t i = 0;

	while (i < n) {
		size_t len = mc_utf8_len(u + i, n - i);
		int c1 = len == 2 && u[i] == 0xc2 && u[i + 1] < 0xa0;

		if (len == 0 || u[i] < 0x20 || u[i] == 0x7f || c1) {
			size_t k = len > 1 ? len : 1;

			for (size_t j = 0; j < k; j++)
				mc_buf_printf(&b, "\\x%02X", u[i + j]);
			i += k;
		} else {
			mc_buf_add(&b, s + i, len);
			i += len;
		}
	}
	return mc_buf_steal(&b);
}

char *mc_escape_str(const char *s)
{
	return s != NULL ? mc_escape(s, strlen(s)) : NULL;
}

char *mc_utf8_clean_n(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	struct mc_buf b = { 0 };
	size_t i = 0;

	mc_buf_add(&b, "", 0);
	while (i < n) {
		size_t l = p[i] ? mc_utf8_len(p + i, n - i) : 0;

		if (l == 0) {
			mc_buf_printf(&b, "\\x%02X", p[i]);
			i++;
		} else {
			mc_buf_add(&b, s + i, l);
			i += l;
		}
	}
	return mc_buf_steal(&b);
}

char *mc_utf8_clean(const char *s)
{
	return mc_utf8_clean_n(s, strlen(s));
}

size_t mc_utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

char *mc_utf8_truncate(const char *s, size_t max)
{
	static const char ellipsis[] = "\xe2\x80\xa6";	/* U+2026 */
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, chars = 0, cut = 0;

	while (i < n) {
		size_t l = mc_utf8_len(p + i, n - i);

		if (l == 0)
			l = 1;		/* not ours to judge: keep going */
		if (chars == (max > 0 ? max - 1 : 0))
			cut = i;
		i += l;
		chars++;
	}
	if (chars <= max)
		return mc_strdup(s);
	if (max == 0)
		return mc_strdup("");
	{
		char *out = mc_malloc(cut + sizeof(ellipsis));

		memcpy(out, s, cut);
		memcpy(out + cut, ellipsis, sizeof(ellipsis));
		return out;
	}
}
