/* fuzz_cron.c - libFuzzer target: cron expressions (CRON_TZ zones and
 * POSIX TZ rules included). A parsed schedule's next start lies after the
 * instant asked about, its previous one at or before it, and the previous
 * start of a next start is that start. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "cron.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct mc_cron *c = NULL;
	const int64_t t = 1795400000;	/* 2026-11-23 */

	memcpy(s, data, size);
	s[size] = '\0';
	if (mc_cron_parse(s, &c, NULL) == 0) {
		int64_t n = mc_cron_next(c, t), p = mc_cron_prev(c, t);

		if ((n != 0 && n <= t) || p > t)
			abort();
		if (n != 0 && mc_cron_prev(c, n) != n)
			abort();
	}
	mc_cron_free(c);
	free(s);
	return 0;
}
