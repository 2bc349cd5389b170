/* threshold.c - Nagios ranges; see threshold.h. */
#include "threshold.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The number in p[0..n), written plainly (mc_parse_decimal: no hex, no
 * inf or nan, no blanks). */
static int number(const char *p, size_t n, double *v)
{
	return mc_parse_decimal(p, n, v);
}

int mc_range_parse(const char *s, struct mc_range *r, struct mc_err *err)
{
	const char *p = s, *colon;
	char *text;
	size_t n;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (s == NULL || *s == '\0')
		return mc_err_set(err, MC_EXIT_USAGE, "empty threshold");
	n = strlen(s);
	if (s[n - 1] == '%')
		n--;
	text = mc_strndup(s, n);
	p = text;
	if (*p == '@') {
		r->flags |= MC_RANGE_INSIDE;
		p++;
	}
	colon = strchr(p, ':');
	r->lo = 0;
	r->hi = INFINITY;
	if (colon == NULL) {
		/* @N is 0:N inside: a negative N is an empty range (found
		 * by fuzz_threshold). */
		if (number(p, strlen(p), &r->hi) < 0 ||
		    ((r->flags & MC_RANGE_INSIDE) && r->hi < 0))
			goto bad;
		if (!(r->flags & MC_RANGE_INSIDE))
			r->flags |= MC_RANGE_PLAIN;
	} else {
		if (p + 1 == colon && *p == '~')
			r->lo = -INFINITY;
		else if (number(p, (size_t)(colon - p), &r->lo) < 0)
			goto bad;
		p = colon + 1;
		if (*p != '\0' && number(p, strlen(p), &r->hi) < 0)
			goto bad;
		if (r->lo > r->hi)
			goto bad;
	}
	r->set = 1;
	rc = 0;
	goto out;
bad:
	mc_err_set(err, MC_EXIT_USAGE,
		   "bad threshold '%s' (use N, N:, ~:N, N:M or @N:M)", s);
	memset(r, 0, sizeof(*r));
out:
	free(text);
	return rc;
}

int mc_range_alert(const struct mc_range *r, double v)
{
	int inside;

	if (!r->set)
		return 0;
	if (isnan(v))
		return 1;
	if (r->flags & MC_RANGE_PLAIN)
		return v >= r->hi;
	inside = v >= r->lo && v <= r->hi;
	return (r->flags & MC_RANGE_INSIDE) ? inside : !inside;
}

void mc_range_format(const struct mc_range *r, char *buf, size_t size)
{
	const char *at = (r->flags & MC_RANGE_INSIDE) ? "@" : "";

	if (!r->set)
		snprintf(buf, size, "%s", "");
	else if (r->flags & MC_RANGE_PLAIN)
		snprintf(buf, size, "%.15g", r->hi);
	else if (isinf(r->hi) && isinf(r->lo))
		snprintf(buf, size, "%s~:", at);
	else if (isinf(r->hi))
		snprintf(buf, size, "%s%.15g:", at, r->lo);
	else if (isinf(r->lo))
		snprintf(buf, size, "%s~:%.15g", at, r->hi);
	else if (r->lo == 0 && !(r->flags & MC_RANGE_INSIDE))
		snprintf(buf, size, "%.15g", r->hi);
	else
		snprintf(buf, size, "%s%.15g:%.15g", at, r->lo, r->hi);
}

int mc_range_status(const struct mc_range *warn, const struct mc_range *crit,
		    double value)
{
	if (mc_range_alert(crit, value))
		return 2;
	if (mc_range_alert(warn, value))
		return 1;
	return 0;
}
