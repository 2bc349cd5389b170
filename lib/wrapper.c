/*
 * wrapper.c - errors, allocation that cannot fail, programming errors, and
 * thin wrappers of system calls (as git's wrapper.c).
 */
#include "mc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int err_vset(struct mc_err *err, int code, int errnum, const char *fmt,
		    va_list ap)
{
	if (err == NULL)
		return -1;
	err->code = code;
	err->sys_errno = errnum;
	if (vsnprintf(err->msg, sizeof(err->msg), fmt, ap) >=
	    (int)sizeof(err->msg))
		mc_utf8_uncut(err->msg);
	if (errnum) {
		size_t len = strlen(err->msg);
		char buf[128];

		snprintf(err->msg + len, sizeof(err->msg) - len, ": %s",
			 mc_strerror(errnum, buf, sizeof(buf)));
	}
	return -1;
}

const char *mc_strerror(int errnum, char *buf, size_t size)
{
	/* The GNU strerror_r (we build with _GNU_SOURCE) returns the text,
	 * which may or may not be in buf. */
	return strerror_r(errnum, buf, size);
}

int mc_err_set(struct mc_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vset(err, code, 0, fmt, ap);
	va_end(ap);
	return -1;
}

int mc_err_sys(struct mc_err *err, int code, int errnum, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vset(err, code, errnum, fmt, ap);
	va_end(ap);
	return -1;
}

void mc_err_clear(struct mc_err *err)
{
	if (err != NULL)
		memset(err, 0, sizeof(*err));
}

void mc_bug(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "mercuryctl: BUG at %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

static void *oom(size_t n)
{
	fprintf(stderr, "mercuryctl: out of memory (%zu bytes)\n", n);
	abort();
}

void *mc_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	return p ? p : oom(n);
}

void *mc_calloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	return p ? p : oom(n * size);
}

void *mc_realloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	return q ? q : oom(n);
}

void mc_array_free(void *a, size_t n, size_t size,
		   void (*release)(void *element))
{
	for (size_t i = 0; a != NULL && release != NULL && i < n; i++)
		release((char *)a + i * size);
	free(a);
}

char *mc_strdup(const char *s)
{
	return s ? mc_strndup(s, strlen(s)) : NULL;
}

char *mc_strndup(const char *s, size_t n)
{
	char *p = mc_malloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *mc_vasprintf(const char *fmt, va_list ap)
{
	va_list cp;
	int n;
	char *p;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		n = 0;
	p = mc_malloc((size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *mc_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = mc_vasprintf(fmt, ap);
	va_end(ap);
	return p;
}

void mc_free_secret(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

void mc_hostname(char *buf, size_t size)
{
	if (size == 0)
		return;
	if (gethostname(buf, size - 1) != 0 || buf[0] == '\0')
		snprintf(buf, size, "localhost");
	buf[size - 1] = '\0';
}
