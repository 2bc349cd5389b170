/* fuzz_common.h - helpers shared by the libFuzzer targets. */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a NUL-terminated string (cut at its first NUL). */
static inline char *fuzz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Splits a copy of the input at NUL bytes into at most max strings; the
 * count goes to *n. Free the first string only (they share one block). */
static inline char *fuzz_split(const uint8_t *data, size_t size,
			       char **parts, size_t max, size_t *n)
{
	char *s = fuzz_str(data, size), *p = s;

	*n = 0;
	while (*n < max) {
		parts[(*n)++] = p;
		p += strlen(p);
		if (p >= s + size)
			break;
		p++;
	}
	return s;
}

#endif
