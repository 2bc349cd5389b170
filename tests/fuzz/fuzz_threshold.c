/* fuzz_threshold.c - libFuzzer target: Nagios ranges. A parsed range
 * formats back to text that parses to the same bounds. */
#include <math.h>
#include <stdio.h>
#include "fuzz_common.h"
#include "threshold.h"

/* Equal to the 15 digits mc_range_format() writes. */
static int near(double a, double b)
{
	if (isinf(a) || isinf(b))
		return a == b;
	return fabs(a - b) <= 1e-13 * fmax(fabs(a), fabs(b)) + 1e-300;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size);
	struct mc_range r, back;
	struct mc_err err = { 0 };
	char buf[128];

	if (mc_range_parse(s, &r, &err) == 0) {
		mc_range_format(&r, buf, sizeof(buf));
		if (mc_range_parse(buf, &back, NULL) != 0)
			abort();
		/* Bounds only: the format is perfdata's, where "10" is
		 * Nagios's 0:10 and our plain "alert at >= 10" alike. */
		if (!near(back.lo, r.lo) || !near(back.hi, r.hi))
			abort();
		(void)mc_range_status(&r, &r, NAN);
	} else if (err.msg[0] == '\0') {
		abort();
	}
	free(s);
	return 0;
}
