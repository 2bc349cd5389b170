/*
 * units.c - durations, sizes, percentages, rates, integers and booleans as
 * people write them (docs/DESIGN.md, "Invocation and units").
 */
#include "mc.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads a non-negative decimal number (digits with an optional fraction)
 * at *s, advancing it. */
int mc_read_number(const char **s, double *out)
{
	const char *p = *s;
	double v = 0, scale = 0.1;
	int digits = 0;

	while (isdigit((unsigned char)*p)) {
		v = v * 10 + (*p++ - '0');
		digits++;
	}
	if (*p == '.') {
		p++;
		while (isdigit((unsigned char)*p)) {
			v += (*p++ - '0') * scale;
			scale /= 10;
			digits++;
		}
	}
	if (!digits || v > 1e15)
		return -1;
	*s = p;
	*out = v;
	return 0;
}

int mc_parse_duration_ms(const char *s, int64_t *out_ms, struct mc_err *err)
{
	static const struct {
		const char *unit;
		double ms;
	} units[] = {
		{ "ms", 1 }, { "s", 1e3 }, { "m", 60e3 }, { "h", 3600e3 },
		{ "d", 86400e3 }, { "w", 604800e3 },
	};
	const char *p = s;
	double total = 0;

	if (s == NULL || *s == '\0')
		return mc_err_set(err, MC_EXIT_USAGE,
				  "empty duration (use e.g. 250ms, 2s, 15m, 6h, 30d, 1w)");
	if (strcmp(s, "0") == 0) {
		*out_ms = 0;
		return 0;
	}
	while (*p) {
		double v;
		size_t i, best = 0;
		const char *u;

		if (mc_read_number(&p, &v) < 0)
			goto bad;
		u = p;
		while (isalpha((unsigned char)*p))
			p++;
		for (i = 0; i < MC_ARRAY_LEN(units); i++) {
			if (strlen(units[i].unit) == (size_t)(p - u) &&
			    strncmp(units[i].unit, u, (size_t)(p - u)) == 0) {
				best = i + 1;
				break;
			}
		}
		if (!best)
			goto bad;
		total += v * units[best - 1].ms;
		if (total > 1e15)
			goto bad;
	}
	*out_ms = (int64_t)llround(total);
	return 0;
bad:
	return mc_err_set(err, MC_EXIT_USAGE,
			  "bad duration '%s' (use e.g. 250ms, 2s, 15m, 6h, 30d, 1w)",
			  s);
}

void mc_format_duration(int64_t ms, char *buf, size_t size)
{
	static const struct {
		const char *unit;
		int64_t ms;
	} units[] = {
		{ "w", 604800000 }, { "d", 86400000 }, { "h", 3600000 },
		{ "m", 60000 }, { "s", 1000 }, { "ms", 1 },
	};
	size_t off = 0;

	if (size == 0)
		return;
	buf[0] = '\0';
	if (ms <= 0) {
		snprintf(buf, size, "0s");
		return;
	}
	for (size_t i = 0; i < MC_ARRAY_LEN(units) && ms > 0; i++) {
		int64_t n = ms / units[i].ms;
		int w;

		if (n == 0)
			continue;
		ms -= n * units[i].ms;
		w = snprintf(buf + off, size - off, "%lld%s", (long long)n,
			     units[i].unit);
		if (w < 0 || (size_t)w >= size - off)
			return;
		off += (size_t)w;
	}
}

void mc_format_duration_days(int64_t ms, char *buf, size_t size)
{
	int64_t days = ms / 86400000;
	char rest[64];

	if (days <= 0) {
		mc_format_duration(ms, buf, size);
		return;
	}
	ms -= days * 86400000;
	rest[0] = '\0';
	if (ms > 0)
		mc_format_duration(ms, rest, sizeof(rest));
	snprintf(buf, size, "%lldd%s", (long long)days, rest);
}

int mc_parse_size(const char *s, uint64_t *out, struct mc_err *err)
{
	static const struct {
		const char *unit;
		double mult;
	} units[] = {
		{ "", 1 }, { "B", 1 }, { "KB", 1e3 }, { "MB", 1e6 },
		{ "GB", 1e9 }, { "TB", 1e12 }, { "KiB", 1024.0 },
		{ "MiB", 1048576.0 }, { "GiB", 1073741824.0 },
		{ "TiB", 1099511627776.0 },
	};
	const char *p = s;
	double v;

	if (s == NULL || mc_read_number(&p, &v) < 0)
		goto bad;
	for (size_t i = 0; i < MC_ARRAY_LEN(units); i++) {
		if (strcmp(p, units[i].unit) == 0) {
			double x = floor(v * units[i].mult + 0.5);

			if (x >= 18446744073709551616.0)	/* 2^64 */
				return mc_err_set(err, MC_EXIT_USAGE,
						  "size '%s' is too large", s);
			*out = (uint64_t)x;
			return 0;
		}
	}
bad:
	return mc_err_set(err, MC_EXIT_USAGE,
			  "bad size '%s' (use e.g. 512, 10KB, 5MiB)",
			  s ? s : "");
}

int mc_parse_percent(const char *s, double *out, struct mc_err *err)
{
	const char *p = s;
	double v;

	if (s == NULL || mc_read_number(&p, &v) < 0 ||
	    (*p != '\0' && strcmp(p, "%") != 0) || v > 100)
		return mc_err_set(err, MC_EXIT_USAGE,
				  "bad percentage '%s' (use e.g. 80%% or 80, 0 to 100)",
				  s ? s : "");
	*out = v;
	return 0;
}

int mc_parse_rate(const char *s, double *per_second, struct mc_err *err)
{
	const char *p = s;
	double v;

	if (s == NULL || mc_read_number(&p, &v) < 0 || v <= 0)
		goto bad;
	if (strcmp(p, "/s") == 0)
		*per_second = v;
	else if (strcmp(p, "/m") == 0)
		*per_second = v / 60;
	else if (strcmp(p, "/h") == 0)
		*per_second = v / 3600;
	else
		goto bad;
	return 0;
bad:
	return mc_err_set(err, MC_EXIT_USAGE,
			  "bad rate '%s' (use e.g. 1/s, 30/m, 100/h)",
			  s ? s : "");
}

int mc_parse_decimal(const char *s, size_t n, double *v)
{
	size_t i = 0, digits = 0;
	char tmp[64];

	if (n == 0 || n >= sizeof(tmp))
		return -1;
	if (s[i] == '+' || s[i] == '-')
		i++;
	while (i < n && isdigit((unsigned char)s[i]))
		i++, digits++;
	if (i < n && s[i] == '.')
		for (i++; i < n && isdigit((unsigned char)s[i]); i++)
			digits++;
	if (digits == 0)
		return -1;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		size_t e;

		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		for (e = i; i < n && isdigit((unsigned char)s[i]); i++)
			;
		if (i == e)
			return -1;
	}
	if (i != n)
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	*v = strtod(tmp, NULL);
	return isfinite(*v) ? 0 : -1;
}

int mc_parse_int(const char *s, long long min, long long max, long long *out,
		 struct mc_err *err)
{
	char *end;
	long long v;

	/* strtoll would also take blanks and a '+' before the digits. */
	if (s == NULL || !(isdigit((unsigned char)*s) ||
			   (*s == '-' && isdigit((unsigned char)s[1]))))
		goto bad;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end != '\0' || v < min || v > max)
		goto bad;
	*out = v;
	return 0;
bad:
	return mc_err_set(err, MC_EXIT_USAGE,
			  "bad number '%s' (a whole number from %lld to %lld)",
			  s ? s : "", min, max);
}

int mc_parse_bool(const char *s, int *out, struct mc_err *err)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };

	for (size_t i = 0; s && i < MC_ARRAY_LEN(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return mc_err_set(err, MC_EXIT_USAGE,
			  "bad boolean '%s' (use true or false)", s ? s : "");
}

int mc_shortest_digits(double d)
{
	char s[40];
	int lo = 1, hi = 17;	/* 17 always reads back */

	/* A precision that reads back means every greater one does too: its
	 * rounding is at least as near. So the least is found by bisection:
	 * 4 or 5 conversions where counting up took as many as 16 for a
	 * duration or a timestamp (callgrind: 44K instructions a number).
	 * A power of two reads back from a narrower interval below it than
	 * above; tests/test_util.c checks all 2098 against counting up. */
	while (lo < hi) {
		int p = lo + (hi - lo) / 2;

		snprintf(s, sizeof(s), "%.*g", p, d);
		if (strtod(s, NULL) == d)
			hi = p;
		else
			lo = p + 1;
	}
	return lo;
}

void mc_format_number(double d, char *buf, size_t size)
{
	int p = mc_shortest_digits(d);
	int e = d == 0 || !isfinite(d) ? 0 : (int)floor(log10(fabs(d)));

	/* %g turns to an exponent once it exceeds the precision: 100 with one
	 * digit is 1e+02. Whole numbers below 1e17 keep their digits. */
	if (e >= p && e < 17)
		p = e + 1;
	snprintf(buf, size, "%.*g", p, d);
}
