/*
 * threshold.h - warning/critical thresholds of the health checks, in the
 * Nagios plugin range syntax (nagios-plugins.org, "Threshold and ranges"):
 *
 *   10      plain number: alert when value >= 10 (mercuryctl's reading of a
 *           bare number, as "depth 1204 >= warn 1000" says; Nagios would
 *           alert only above 10 -- the boundary is the only difference)
 *   10:     alert when value < 10
 *   ~:10    alert when value > 10 (~ is minus infinity)
 *   10:20   alert when value < 10 or > 20
 *   @10:20  alert when 10 <= value <= 20 (inside)
 *
 * A trailing '%' is accepted (disk, memory) and ignored.
 */
#ifndef MC_THRESHOLD_H
#define MC_THRESHOLD_H

#include <stddef.h>
#include "mc.h"

#define MC_RANGE_INSIDE	0x1	/* '@': alert inside [lo, hi] */
#define MC_RANGE_PLAIN	0x2	/* a bare number: alert when value >= hi */

struct mc_range {
	double lo;		/* -INFINITY for '~' */
	double hi;		/* INFINITY when open ("10:") */
	unsigned flags;
	int set;		/* 0: no threshold (never alerts) */
};

/* Parses s; -1 with MC_EXIT_USAGE and a one-line reason when malformed
 * (callers reading config re-code to 78). */
int mc_range_parse(const char *s, struct mc_range *r, struct mc_err *err);
/* 1 when value is in alert for r. NaN alerts. */
int mc_range_alert(const struct mc_range *r, double value);
/* Nagios syntax for perfdata ("10", "10:", "~:10", "@10:20"), "" when not
 * set. */
void mc_range_format(const struct mc_range *r, char *buf, size_t size);
/* Status of value against warn and crit: 0 ok, 1 warning, 2 critical. */
int mc_range_status(const struct mc_range *warn, const struct mc_range *crit,
		    double value);

#endif
