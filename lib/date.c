/*
 * date.c - clocks, RFC 3339 times and the run's deadline (as git's date.c).
 */
#include "mc.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double mc_wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

double mc_mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

double mc_clock_now(const struct mc_clock *c)
{
	if (c == NULL || c->now == NULL)
		return mc_wall_now();
	return c->now(c->ctx);
}

void mc_format_time(double wall, char *buf, size_t size)
{
	time_t secs = (time_t)floor(wall);
	int ms = (int)llround((wall - (double)secs) * 1000);
	struct tm tm;

	if (ms >= 1000) {	/* 0.9996 rounds up into the next second */
		secs++;
		ms -= 1000;
	}
	gmtime_r(&secs, &tm);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, ms);
}

/* Reads exactly n digits at *p into *out, advancing *p. */
static int read_digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

static int parse_rfc3339(const char *s, double *out)
{
	const char *p = s;
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	double frac = 0, scale = 0.1;
	struct tm tm, back;
	time_t t;

	if (read_digits(&p, 4, &y) < 0 || *p++ != '-' ||
	    read_digits(&p, 2, &mo) < 0 || *p++ != '-' ||
	    read_digits(&p, 2, &d) < 0 ||
	    (*p != 'T' && *p != 't' && *p != ' ') || !*p++ ||
	    read_digits(&p, 2, &h) < 0 || *p++ != ':' ||
	    read_digits(&p, 2, &mi) < 0 || *p++ != ':' ||
	    read_digits(&p, 2, &sec) < 0)
		return -1;
	if (*p == '.') {
		if (!isdigit((unsigned char)p[1]))
			return -1;
		for (p++; isdigit((unsigned char)*p); p++, scale /= 10)
			frac += (*p - '0') * scale;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		if (read_digits(&p, 2, &oh) < 0 || *p++ != ':' ||
		    read_digits(&p, 2, &om) < 0 || oh > 23 || om > 59)
			return -1;
	} else {
		return -1;
	}
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 ||
	    sec > 60)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec > 59 ? 59 : sec;	/* a leap second: its eve */
	t = timegm(&tm);
	/* timegm normalises 31 February into March: refuse it. */
	if (gmtime_r(&t, &back) == NULL || back.tm_mday != d ||
	    back.tm_mon != mo - 1)
		return -1;
	*out = (double)t + (sec > 59 ? 1 : 0) + frac -
	       sign * (oh * 3600.0 + om * 60.0);
	return 0;
}

int mc_parse_rfc3339(const char *s, size_t n, double *out)
{
	char buf[64];

	if (n >= sizeof(buf) || memchr(s, '\0', n) != NULL)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return parse_rfc3339(buf, out);
}

int mc_parse_time(const char *s, double *out, struct mc_err *err)
{
	const char *p = s;
	double v;

	if (s != NULL && mc_read_number(&p, &v) == 0 && *p == '\0') {
		*out = v;
		return 0;
	}
	if (s != NULL && mc_parse_rfc3339(s, strlen(s), out) == 0)
		return 0;
	return mc_err_set(err, MC_EXIT_USAGE,
			  "bad time '%s' (use RFC 3339, e.g. "
			  "2026-11-22T10:00:00Z, or Unix seconds)", s ? s : "");
}

void mc_deadline_set(struct mc_deadline *d, int64_t ms_from_now)
{
	d->at = ms_from_now > 0 ? mc_mono_now() + ms_from_now / 1e3 : 0;
}

int64_t mc_deadline_left_ms(const struct mc_deadline *d, int64_t cap_ms)
{
	double left;
	int64_t ms;

	if (d == NULL || d->at == 0)
		return cap_ms > 0 ? cap_ms : INT64_MAX;
	left = (d->at - mc_mono_now()) * 1e3;
	ms = left <= 0 ? 0 : (int64_t)ceil(left);
	return cap_ms > 0 && ms > cap_ms ? cap_ms : ms;
}

int mc_deadline_passed(const struct mc_deadline *d)
{
	return d != NULL && d->at != 0 && mc_mono_now() >= d->at;
}
