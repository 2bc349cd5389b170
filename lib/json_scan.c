/*
 * json_scan.c - see json_scan.h.
 */
#include "json_scan.h"

#include <string.h>

struct scan {
	const unsigned char *p;
	size_t n, i;
	struct mc_buf key;	/* decoded top-level key */
};

static void skip_ws(struct scan *s)
{
	while (s->i < s->n && (s->p[s->i] == ' ' || s->p[s->i] == '\t' ||
			       s->p[s->i] == '\n' || s->p[s->i] == '\r'))
		s->i++;
}

static int hex4(const unsigned char *p, unsigned *out)
{
	unsigned v = 0;

	for (int k = 0; k < 4; k++) {
		unsigned c = p[k];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	*out = v;
	return 0;
}

static void put_utf8(struct mc_buf *b, unsigned cp)
{
	unsigned char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (unsigned char)(0xC0 | (cp >> 6));
		u[1] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (unsigned char)(0xE0 | (cp >> 12));
		u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		u[0] = (unsigned char)(0xF0 | (cp >> 18));
		u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
		u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		u[3] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	mc_buf_add(b, u, n);
}

/* A string starting at s->i (a '"'). Unpaired surrogate escapes are
 * rejected (as jansson does). Decoded bytes go to dec when not NULL. */
static int scan_string(struct scan *s, struct mc_buf *dec)
{
	s->i++;
	while (s->i < s->n) {
		unsigned char c = s->p[s->i];
		size_t l;

		if (c == '"') {
			s->i++;
			return 0;
		}
		if (c < 0x20)
			return -1;
		if (c == '\\') {
			unsigned cp, lo;
			char ch;

			if (s->i + 1 >= s->n)
				return -1;
			switch (s->p[s->i + 1]) {
			case '"': ch = '"'; break;
			case '\\': ch = '\\'; break;
			case '/': ch = '/'; break;
			case 'b': ch = '\b'; break;
			case 'f': ch = '\f'; break;
			case 'n': ch = '\n'; break;
			case 'r': ch = '\r'; break;
			case 't': ch = '\t'; break;
			case 'u':
				if (s->n - s->i < 6 ||
				    hex4(s->p + s->i + 2, &cp) < 0)
					return -1;
				s->i += 6;
				if (cp >= 0xDC00 && cp <= 0xDFFF)
					return -1;
				if (cp >= 0xD800 && cp <= 0xDBFF) {
					if (s->n - s->i < 6 ||
					    s->p[s->i] != '\\' ||
					    s->p[s->i + 1] != 'u' ||
					    hex4(s->p + s->i + 2, &lo) < 0 ||
					    lo < 0xDC00 || lo > 0xDFFF)
						return -1;
					s->i += 6;
					cp = 0x10000 + ((cp - 0xD800) << 10) +
					     (lo - 0xDC00);
				}
				if (dec)
					put_utf8(dec, cp);
				continue;
			default:
				return -1;
			}
			if (dec)
				mc_buf_add(dec, &ch, 1);
			s->i += 2;
			continue;
		}
		l = mc_utf8_len(s->p + s->i, s->n - s->i);
		if (l == 0)
			return -1;
		if (dec)
			mc_buf_add(dec, s->p + s->i, l);
		s->i += l;
	}
	return -1;
}

static int is_digit(const struct scan *s, size_t i)
{
	return i < s->n && s->p[i] >= '0' && s->p[i] <= '9';
}

static int scan_number(struct scan *s)
{
	size_t i = s->i;

	if (i < s->n && s->p[i] == '-')
		i++;
	if (!is_digit(s, i))
		return -1;
	if (s->p[i] == '0')
		i++;
	else
		while (is_digit(s, i))
			i++;
	if (i < s->n && s->p[i] == '.') {
		i++;
		if (!is_digit(s, i))
			return -1;
		while (is_digit(s, i))
			i++;
	}
	if (i < s->n && (s->p[i] == 'e' || s->p[i] == 'E')) {
		i++;
		if (i < s->n && (s->p[i] == '+' || s->p[i] == '-'))
			i++;
		if (!is_digit(s, i))
			return -1;
		while (is_digit(s, i))
			i++;
	}
	s->i = i;
	return 0;
}

static int scan_lit(struct scan *s, const char *lit)
{
	size_t l = strlen(lit);

	if (s->n - s->i < l || memcmp(s->p + s->i, lit, l) != 0)
		return -1;
	s->i += l;
	return 0;
}

static int scan_object(struct scan *s, int depth, struct mc_json_member *w, size_t nw,
		       size_t *members);

static int scan_value(struct scan *s, int depth)
{
	if (s->i >= s->n)
		return -1;
	switch (s->p[s->i]) {
	case '{':
		return scan_object(s, depth + 1, NULL, 0, NULL);
	case '[':
		if (depth + 1 > MC_JSON_MAX_DEPTH)
			return -1;
		s->i++;
		skip_ws(s);
		if (s->i < s->n && s->p[s->i] == ']') {
			s->i++;
			return 0;
		}
		for (;;) {
			skip_ws(s);
			if (scan_value(s, depth + 1) < 0)
				return -1;
			skip_ws(s);
			if (s->i >= s->n)
				return -1;
			if (s->p[s->i] == ']') {
				s->i++;
				return 0;
			}
			if (s->p[s->i] != ',')
				return -1;
			s->i++;
		}
	case '"':
		return scan_string(s, NULL);
	case 't':
		return scan_lit(s, "true");
	case 'f':
		return scan_lit(s, "false");
	case 'n':
		return scan_lit(s, "null");
	default:
		return scan_number(s);
	}
}

/* An object at s->i (a '{'). When w is not NULL (the top level) the keys
 * are decoded and the members named in w recorded. */
static int scan_object(struct scan *s, int depth, struct mc_json_member *w, size_t nw,
		       size_t *members)
{
	size_t count = 0;

	if (depth > MC_JSON_MAX_DEPTH)
		return -1;
	s->i++;
	skip_ws(s);
	if (s->i < s->n && s->p[s->i] == '}') {
		s->i++;
		goto done;
	}
	for (;;) {
		size_t vstart;

		skip_ws(s);
		if (s->i >= s->n || s->p[s->i] != '"')
			return -1;
		if (w)	/* nested objects must not touch the top key */
			mc_buf_reset(&s->key);
		if (scan_string(s, w ? &s->key : NULL) < 0)
			return -1;
		skip_ws(s);
		if (s->i >= s->n || s->p[s->i] != ':')
			return -1;
		s->i++;
		skip_ws(s);
		vstart = s->i;
		if (scan_value(s, depth) < 0)
			return -1;
		for (size_t k = 0; w && k < nw; k++) {
			if (s->key.len != w[k].name_len ||
			    (s->key.len > 0 &&
			     memcmp(s->key.data, w[k].name, s->key.len) != 0))
				continue;
			w[k].found = 1;
			w[k].vstart = vstart;
			w[k].vend = s->i;
			w[k].kind = (s->p[vstart] == '-' ||
				     (s->p[vstart] >= '0' &&
				      s->p[vstart] <= '9')) ?
					    '0' : (char)s->p[vstart];
		}
		count++;
		skip_ws(s);
		if (s->i >= s->n)
			return -1;
		if (s->p[s->i] == '}') {
			s->i++;
			break;
		}
		if (s->p[s->i] != ',')
			return -1;
		s->i++;
	}
done:
	if (members)
		*members = count;
	return 0;
}

int mc_json_scan_object(const void *data, size_t n, struct mc_json_member *w,
			size_t nw, size_t *open, size_t *members)
{
	const unsigned char *p = data;
	struct scan s = { .p = p, .n = n, .i = 0 };
	int rc = -1;

	for (size_t k = 0; k < nw; k++) {
		w[k].name_len = strlen(w[k].name);
		w[k].found = 0;
	}
	skip_ws(&s);
	if (s.i >= n || p[s.i] != '{')
		return -1;
	*open = s.i;
	if (scan_object(&s, 1, w, nw, members) == 0) {
		skip_ws(&s);
		rc = s.i == n ? 0 : -1;
	}
	mc_buf_release(&s.key);
	return rc;
}

int mc_json_string_decode(const void *data, size_t n, struct mc_buf *dec)
{
	struct scan s = { .p = data, .n = n };

	if (n == 0 || s.p[0] != '"')
		return -1;
	return scan_string(&s, dec);
}
