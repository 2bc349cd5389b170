/*
 * utf8.c - UTF-8 (RFC 3629): validation, cleaning, counting, truncation,
 * display width and the one helper that fits text in a terminal column
 * (as git's utf8.c).
 */
#include "mc.h"

#include <stdint.h>
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

/* ---- display width ------------------------------------------------------ */

struct cp_range {
	uint32_t lo, hi;
};

/* Code points that take no column: combining marks of the common scripts,
 * zero-width and direction controls, variation selectors (as wcwidth()
 * says). */
static const struct cp_range zero_width[] = {
	{ 0x0300, 0x036F }, { 0x0483, 0x0489 }, { 0x0591, 0x05BD },
	{ 0x05BF, 0x05BF }, { 0x05C1, 0x05C2 }, { 0x05C4, 0x05C5 },
	{ 0x05C7, 0x05C7 }, { 0x0610, 0x061A }, { 0x064B, 0x065F },
	{ 0x0670, 0x0670 }, { 0x06D6, 0x06DC }, { 0x06DF, 0x06E4 },
	{ 0x06E7, 0x06E8 }, { 0x06EA, 0x06ED }, { 0x0900, 0x0902 },
	{ 0x093A, 0x093A }, { 0x093C, 0x093C }, { 0x0941, 0x0948 },
	{ 0x094D, 0x094D }, { 0x0951, 0x0957 }, { 0x0962, 0x0963 },
	{ 0x0E31, 0x0E31 }, { 0x0E34, 0x0E3A }, { 0x0E47, 0x0E4E },
	{ 0x1AB0, 0x1AFF }, { 0x1DC0, 0x1DFF }, { 0x200B, 0x200F },
	{ 0x202A, 0x202E }, { 0x2060, 0x2064 }, { 0x20D0, 0x20FF },
	{ 0xFE00, 0xFE0F }, { 0xFE20, 0xFE2F }, { 0xFEFF, 0xFEFF },
	{ 0xE0100, 0xE01EF },
};

/* Code points that take two columns: East Asian Wide and Fullwidth, and
 * the emoji blocks. */
static const struct cp_range double_width[] = {
	{ 0x1100, 0x115F }, { 0x231A, 0x231B }, { 0x2329, 0x232A },
	{ 0x23E9, 0x23EC }, { 0x23F0, 0x23F0 }, { 0x23F3, 0x23F3 },
	{ 0x25FD, 0x25FE }, { 0x2614, 0x2615 }, { 0x2648, 0x2653 },
	{ 0x26AA, 0x26AB }, { 0x26BD, 0x26BE }, { 0x26C4, 0x26C5 },
	{ 0x26CE, 0x26CE }, { 0x26D4, 0x26D4 }, { 0x26EA, 0x26EA },
	{ 0x26F2, 0x26F5 }, { 0x26FA, 0x26FA }, { 0x26FD, 0x26FD },
	{ 0x2705, 0x2705 }, { 0x270A, 0x270B }, { 0x2728, 0x2728 },
	{ 0x274C, 0x274C }, { 0x274E, 0x274E }, { 0x2753, 0x2755 },
	{ 0x2757, 0x2757 }, { 0x2795, 0x2797 }, { 0x27B0, 0x27B0 },
	{ 0x27BF, 0x27BF }, { 0x2B1B, 0x2B1C }, { 0x2B50, 0x2B50 },
	{ 0x2B55, 0x2B55 }, { 0x2E80, 0x303E }, { 0x3041, 0x33FF },
	{ 0x3400, 0x4DBF }, { 0x4E00, 0x9FFF }, { 0xA000, 0xA4CF },
	{ 0xA960, 0xA97F }, { 0xAC00, 0xD7A3 }, { 0xF900, 0xFAFF },
	{ 0xFE10, 0xFE19 }, { 0xFE30, 0xFE6F }, { 0xFF00, 0xFF60 },
	{ 0xFFE0, 0xFFE6 }, { 0x16FE0, 0x16FE4 }, { 0x17000, 0x18AFF },
	{ 0x1B000, 0x1B2FF }, { 0x1F004, 0x1F004 }, { 0x1F0CF, 0x1F0CF },
	{ 0x1F18E, 0x1F18E }, { 0x1F191, 0x1F19A }, { 0x1F200, 0x1F251 },
	{ 0x1F300, 0x1F64F }, { 0x1F680, 0x1F6FF }, { 0x1F7E0, 0x1F7EB },
	{ 0x1F90C, 0x1F9FF }, { 0x1FA70, 0x1FAFF }, { 0x20000, 0x2FFFD },
	{ 0x30000, 0x3FFFD },
};

static int in_ranges(uint32_t cp, const struct cp_range *r, size_t n)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cp < r[mid].lo)
			hi = mid;
		else if (cp > r[mid].hi)
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}

/* Columns of the well-formed character u[0..len): 0, 1 or 2. */
static size_t char_width(const unsigned char *u, size_t len)
{
	static const unsigned char lead_mask[] = { 0, 0x7F, 0x1F, 0x0F, 0x07 };
	uint32_t cp = u[0] & lead_mask[len];

	if (len == 1)
		return 1;
	for (size_t i = 1; i < len; i++)
		cp = cp << 6 | (u[i] & 0x3F);
	if (in_ranges(cp, zero_width, MC_ARRAY_LEN(zero_width)))
		return 0;
	return in_ranges(cp, double_width, MC_ARRAY_LEN(double_width)) ? 2 : 1;
}

size_t mc_utf8_width(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, w = 0;

	while (i < n) {
		size_t len = mc_utf8_len(u + i, n - i);

		if (len == 0)
			len = 1, w++;	/* not UTF-8: one column, as shown */
		else
			w += char_width(u + i, len);
		i += len;
	}
	return w;
}

/* The unit of text at u[0..n) (n > 0) as a terminal is shown it: a
 * well-formed character other than a control character (and, with lines,
 * a newline or a tab), kept (returns its length, *raw = 1); or a control
 * character (C0, DEL, C1) or a byte that is not well-formed UTF-8,
 * written \xNN a byte (returns how many bytes, *raw = 0). */
static size_t shown_unit(const unsigned char *u, size_t n, int lines,
			 int *raw)
{
	size_t len = u[0] ? mc_utf8_len(u, n) : 0;
	int c1 = len == 2 && u[0] == 0xc2 && u[1] < 0xa0;

	*raw = !(len == 0 || u[0] < 0x20 || u[0] == 0x7f || c1) ||
	       (lines && (u[0] == '\n' || u[0] == '\t'));
	return len > 1 ? len : 1;
}

/* Appends the unit shown_unit() measured; returns its display columns. */
static size_t add_unit(struct mc_buf *b, const char *s, size_t len, int raw)
{
	const unsigned char *u = (const unsigned char *)s;

	if (raw) {
		mc_buf_add(b, s, len);
		return char_width(u, len);
	}
	for (size_t j = 0; j < len; j++)
		mc_buf_printf(b, "\\x%02X", u[j]);
	return 4 * len;
}

static char *escape(const char *s, size_t n, int lines)
{
	struct mc_buf b = { 0 };
	size_t i = 0;

	mc_buf_add(&b, "", 0);
	while (i < n) {
		int raw;
		size_t len = shown_unit((const unsigned char *)s + i, n - i,
					lines, &raw);

		add_unit(&b, s + i, len, raw);
		i += len;
	}
	return mc_buf_steal(&b);
}

char *mc_escape(const char *s, size_t n)
{
	return escape(s, n, 0);
}

char *mc_escape_lines(const char *s, size_t n)
{
	return escape(s, n, 1);
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

void mc_utf8_uncut(char *s)
{
	size_t i = strlen(s), cont = 0, need;
	unsigned char lead;

	while (i > 0 && cont < 3 && ((unsigned char)s[i - 1] & 0xC0) == 0x80) {
		i--;
		cont++;
	}
	if (i == 0)
		return;
	lead = (unsigned char)s[i - 1];
	need = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : lead >= 0xC0 ? 1 : 0;
	if (need > cont)
		s[i - 1] = '\0';
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

char *mc_column_text(const char *s, size_t cols)
{
	static const char ellipsis[] = "\xe2\x80\xa6";	/* U+2026 */
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, w = 0, cut = 0;
	struct mc_buf b = { 0 };

	mc_buf_add(&b, "", 0);
	while (i < n) {
		int raw;
		size_t len = shown_unit(u + i, n - i, 0, &raw);

		w += add_unit(&b, s + i, len, raw);
		if (cols > 0 && w <= cols - 1)
			cut = b.len;	/* room left for the ellipsis */
		i += len;
	}
	if (cols > 0 && w > cols) {
		b.len = cut;
		mc_buf_add(&b, ellipsis, sizeof(ellipsis) - 1);
	}
	return mc_buf_steal(&b);
}
