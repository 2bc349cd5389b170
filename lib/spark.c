/* spark.c - see spark.h. */
#include "spark.h"
#include "mc.h"

#include <math.h>

const char mc_spark_none[] = "\xC2\xB7";	/* · */

static const char *const status_glyphs[] = {
	"\xE2\x96\x81",		/* ▁ ok */
	"\xE2\x96\x84",		/* ▄ warning */
	"\xE2\x96\x88",		/* █ critical */
	"\xE2\x96\x86",		/* ▆ unknown */
};

static const char *const level_glyphs[] = {
	"\xE2\x96\x81", "\xE2\x96\x82", "\xE2\x96\x83", "\xE2\x96\x84",
	"\xE2\x96\x85", "\xE2\x96\x86", "\xE2\x96\x87", "\xE2\x96\x88",
};

size_t mc_spark_cell(double ts, double start, double end, size_t width)
{
	double span = end - start, pos;

	if (!(span > 0))
		return width - 1;
	pos = floor((ts - start) / span * (double)width);
	if (!(pos >= 0))
		return 0;
	if (pos >= (double)width)
		return width - 1;
	return (size_t)pos;
}

const char *mc_spark_status_glyph(int status)
{
	return status >= 0 && status < 4 ? status_glyphs[status] :
					   mc_spark_none;
}

int mc_spark_status_rank(int status)
{
	static const int rank[] = { 0, 1, 3, 2 };

	return status >= 0 && status < 4 ? rank[status] : -1;
}

char *mc_spark_levels(const double *v, size_t n, double lo, double hi)
{
	struct mc_buf b = { 0 };
	const size_t top = MC_ARRAY_LEN(level_glyphs) - 1;

	mc_buf_puts(&b, "");
	for (size_t i = 0; i < n; i++) {
		double x = v[i], pos;
		size_t k;

		if (isnan(x)) {
			mc_buf_puts(&b, mc_spark_none);
			continue;
		}
		pos = hi > lo ? (x - lo) / (hi - lo) * (double)top : 0;
		/* Round to the nearest level; clamp outside the scale. */
		k = !(pos > 0) ? 0 : pos >= (double)top ? top :
		    (size_t)floor(pos + 0.5);
		mc_buf_puts(&b, level_glyphs[k]);
	}
	return mc_buf_steal(&b);
}
