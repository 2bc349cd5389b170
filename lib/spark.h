/*
 * spark.h - one-line sparklines, shared by `health history` and `slo
 * history`: a span of time cut into equal cells, each drawn as one
 * character.
 *
 * Two kinds of cell: a status (ok ▁, warning ▄, unknown ▆, critical █)
 * and a level (▁▂▃▄▅▆▇█ on a scale). "·" is a cell without data in both.
 */
#ifndef MC_SPARK_H
#define MC_SPARK_H

#include <stddef.h>

/* The cell (0 .. width-1) of the instant ts in the span [start, end] cut
 * into width equal cells; ts outside the span goes to the nearest end, and
 * an empty span puts everything in the last cell. width must be > 0. */
size_t mc_spark_cell(double ts, double start, double end, size_t width);

/* The glyph of a status (0 ok, 1 warning, 2 critical, 3 unknown), or of
 * "no data" for anything else. */
const char *mc_spark_status_glyph(int status);

/* How bad a status is when cells keep the worst of their samples:
 * critical, unknown, warning, ok. */
int mc_spark_status_rank(int status);

/* The glyph "·" of a cell without data. */
extern const char mc_spark_none[];

/* The level sparkline of values v[0..n) on the scale lo..hi (lo < hi):
 * each value picks one of eight glyphs, ▁ at or below lo, █ at or above
 * hi; a NaN is "·". Caller frees. */
char *mc_spark_levels(const double *v, size_t n, double lo, double hi);

#endif
