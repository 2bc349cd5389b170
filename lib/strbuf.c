/*
 * strbuf.c - struct mc_buf, the growable byte buffer (as git's strbuf.c).
 */
#include "mc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mc_buf_add(struct mc_buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;

		while (cap < b->len + n + 1)
			cap *= 2;
		b->data = mc_realloc(b->data, cap);
		b->cap = cap;
	}
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void mc_buf_puts(struct mc_buf *b, const char *s)
{
	mc_buf_add(b, s, strlen(s));
}

void mc_buf_vprintf(struct mc_buf *b, const char *fmt, va_list ap)
{
	char *s = mc_vasprintf(fmt, ap);

	mc_buf_puts(b, s);
	free(s);
}

void mc_buf_printf(struct mc_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	mc_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void mc_buf_reset(struct mc_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void mc_buf_release(struct mc_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

char *mc_buf_steal(struct mc_buf *b)
{
	char *p = b->data ? b->data : mc_strdup("");

	memset(b, 0, sizeof(*b));
	return p;
}
