/*
 * random.c - randomness from getrandom(2): bytes, a uniform unit, and the
 * jittered backoff built on it.
 */
#include "mc.h"
#include "resil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

void mc_random_bytes(void *p, size_t n)
{
	unsigned char *c = p;

	while (n > 0) {
		ssize_t r = getrandom(c, n, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			/* The kernel has no entropy source: nothing to go on. */
			MC_BUG("getrandom: %s", strerror(errno));
		}
		c += r;
		n -= (size_t)r;
	}
}

double mc_random_unit(void)
{
	uint64_t v;

	mc_random_bytes(&v, sizeof(v));
	return (double)(v >> 11) / 9007199254740992.0;	/* 2^53 */
}

/* Declared in resil.h; here so that http.c and resil.c share one copy. */
int64_t mc_backoff_ms(int attempt, int64_t base_ms, int64_t cap_ms,
		      double unit)
{
	double ceiling = (double)base_ms;

	for (int i = 0; i < attempt && ceiling < (double)cap_ms; i++)
		ceiling *= 2;
	if (ceiling > (double)cap_ms)
		ceiling = (double)cap_ms;
	return (int64_t)(ceiling * unit);
}
