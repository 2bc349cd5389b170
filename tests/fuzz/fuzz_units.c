/* fuzz_units.c - libFuzzer target: durations, sizes, percentages, rates.
 * A parsed duration must format and parse back to the same value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "mc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	int64_t ms, back;
	uint64_t sz;
	double d;
	char buf[64];

	memcpy(s, data, size);
	s[size] = '\0';
	if (mc_parse_duration_ms(s, &ms, NULL) == 0) {
		mc_format_duration(ms, buf, sizeof(buf));
		if (mc_parse_duration_ms(buf, &back, NULL) != 0 || back != ms)
			abort();
	}
	mc_parse_size(s, &sz, NULL);
	if (mc_parse_percent(s, &d, NULL) == 0 && (d < 0 || d > 100))
		abort();
	if (mc_parse_rate(s, &d, NULL) == 0 && !(d > 0))
		abort();
	free(s);
	return 0;
}
