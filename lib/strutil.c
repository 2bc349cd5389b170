/*
 * strutil.c - small string helpers: comparison, trimming, did-you-mean
 * suggestions, hex and URL escaping.
 */
#include "mc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

int mc_streq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

char *mc_trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

size_t mc_levenshtein(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t *row = mc_malloc((lb + 1) * sizeof(*row));
	size_t i, j, d;

	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	d = row[lb];
	free(row);
	return d;
}

const char *mc_suggest(const char *word, const char *const *candidates,
		       size_t n)
{
	const char *best = NULL, *prefix_of = NULL;
	size_t best_d = SIZE_MAX, len = strlen(word), limit = len / 3 + 1;
	size_t n_prefix = 0;

	/* A word that starts exactly one candidate (hist: history) is that
	 * one, however far the rest of it is. */
	for (size_t i = 0; len >= 3 && i < n; i++)
		if (candidates[i] && strncmp(candidates[i], word, len) == 0 &&
		    candidates[i][len] != '\0') {
			prefix_of = candidates[i];
			n_prefix++;
		}
	if (n_prefix == 1)
		return prefix_of;
	if (limit > 3)
		limit = 3;
	for (size_t i = 0; i < n; i++) {
		size_t d;

		if (candidates[i] == NULL)
			continue;
		d = mc_levenshtein(word, candidates[i]);
		if (d < best_d) {
			best_d = d;
			best = candidates[i];
		}
	}
	return best_d <= limit ? best : NULL;
}

void mc_hex(const unsigned char *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

char *mc_url_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	struct mc_buf b = { 0 };

	mc_buf_puts(&b, "");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || strchr("-._~", *p)) {
			mc_buf_add(&b, p, 1);
		} else {
			char e[3] = { '%', hex[*p >> 4], hex[*p & 15] };

			mc_buf_add(&b, e, 3);
		}
	}
	return mc_buf_steal(&b);
}
