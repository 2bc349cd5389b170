/* test_spark.c - sparkline cells and glyphs (lib/spark.c). */
#include <criterion/criterion.h>

#include <math.h>
#include <stdlib.h>

#include "mc.h"
#include "spark.h"

Test(spark, cells_and_levels)
{
	static const double v[] = { 0, 0.5, 1, -3, 7, NAN };
	char *s;

	cr_expect_eq(mc_spark_cell(0, 0, 100, 4), 0);
	cr_expect_eq(mc_spark_cell(24.9, 0, 100, 4), 0);
	cr_expect_eq(mc_spark_cell(25, 0, 100, 4), 1);
	cr_expect_eq(mc_spark_cell(100, 0, 100, 4), 3);
	cr_expect_eq(mc_spark_cell(-5, 0, 100, 4), 0);
	cr_expect_eq(mc_spark_cell(500, 0, 100, 4), 3);
	cr_expect_eq(mc_spark_cell(5, 10, 10, 4), 3, "empty span: last cell");
	s = mc_spark_levels(v, MC_ARRAY_LEN(v), 0, 1);
	/* 0 -> ▁, 0.5 -> level round(3.5) = 4 (▅), 1 -> █, below -> ▁,
	 * above -> █, NaN -> · */
	cr_expect_str_eq(s, "\xE2\x96\x81\xE2\x96\x85\xE2\x96\x88\xE2\x96\x81"
			 "\xE2\x96\x88\xC2\xB7");
	free(s);
	s = mc_spark_levels(v, 0, 0, 1);
	cr_expect_str_eq(s, "");
	free(s);
	cr_expect_str_eq(mc_spark_status_glyph(2), "\xE2\x96\x88");
	cr_expect_str_eq(mc_spark_status_glyph(-1), mc_spark_none);
	cr_expect_gt(mc_spark_status_rank(2), mc_spark_status_rank(3));
	cr_expect_gt(mc_spark_status_rank(3), mc_spark_status_rank(1));
}
