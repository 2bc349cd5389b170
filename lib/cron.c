/*
 * cron.c - cron expressions and the time zones they are read in (see
 * cron.h for the rules; they follow cronie's crontab(5) and cron(8)).
 *
 * Zones are read from the tz database files (RFC 8536, version 1 to 4)
 * and extended past their last transition by the POSIX TZ rule in their
 * footer, so no process-wide TZ is ever set: health checks run in threads.
 */
#include "cron.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* ---- calendar ----------------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = floor_div(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = floor_div(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int64_t y, int m)
{
	static const int n[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && is_leap(y) ? 29 : n[m - 1];
}

/* ---- zones -------------------------------------------------------------- */

struct mc_tz {
	int64_t *at;		/* transition instants, ascending */
	int32_t *off;		/* seconds east of UTC from at[i] on */
	size_t n, cap;
	int32_t off0;		/* before the first transition */
};

/* Zones are extended by their rule up to this year. */
#define TZ_LAST_YEAR 2400

static void tz_add(struct mc_tz *tz, int64_t at, int32_t off)
{
	if (tz->n > 0 && at <= tz->at[tz->n - 1])
		return;
	if (tz->n == tz->cap) {
		tz->cap = tz->cap ? tz->cap * 2 : 64;
		tz->at = mc_realloc(tz->at, tz->cap * sizeof(*tz->at));
		tz->off = mc_realloc(tz->off, tz->cap * sizeof(*tz->off));
	}
	tz->at[tz->n] = at;
	tz->off[tz->n] = off;
	tz->n++;
}

void mc_tz_free(struct mc_tz *tz)
{
	if (tz == NULL)
		return;
	free(tz->at);
	free(tz->off);
	free(tz);
}

/* Index of the last transition at or before t, or -1. */
static ptrdiff_t tz_index(const struct mc_tz *tz, int64_t t)
{
	size_t lo = 0, hi = tz->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (tz->at[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (ptrdiff_t)lo - 1;
}

int32_t mc_tz_offset(const struct mc_tz *tz, int64_t t)
{
	ptrdiff_t i = tz_index(tz, t);

	return i < 0 ? tz->off0 : tz->off[i];
}

/* POSIX TZ rules: "STD offset [DST [offset] [,start[/time],end[/time]]]". */
struct tz_rule {
	char kind;		/* 'J' (1..365, no Feb 29), 'N' (0..365), 'M' */
	int m, w, d, n;
	int32_t secs;		/* local time of day of the change */
};

struct tz_posix {
	int32_t std_east, dst_east;
	int has_dst;
	struct tz_rule start, end;
};

static const char *p_name(const char *p)
{
	const char *s = p;

	if (*p == '<') {
		while (*p && *p != '>')
			p++;
		return *p == '>' && p - s >= 4 ? p + 1 : NULL;
	}
	while (isalpha((unsigned char)*p))
		p++;
	return p - s >= 3 ? p : NULL;
}

/* [+-]hh[:mm[:ss]], hh at most max_h; seconds in *out. */
static const char *p_time(const char *p, int max_h, int32_t *out)
{
	int sign = 1, part[3] = { 0, 0, 0 };

	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	for (int i = 0; i < 3; i++) {
		int v = 0, digits = 0;

		if (i > 0) {
			if (*p != ':')
				break;
			p++;
		}
		while (isdigit((unsigned char)*p) && digits < 3) {
			v = v * 10 + (*p++ - '0');
			digits++;
		}
		if (digits == 0 || (i > 0 && v > 59) || (i == 0 && v > max_h))
			return NULL;
		part[i] = v;
	}
	*out = sign * (part[0] * 3600 + part[1] * 60 + part[2]);
	return p;
}

static const char *p_num(const char *p, int lo, int hi, int *out)
{
	int v = 0, digits = 0;

	while (isdigit((unsigned char)*p) && digits < 4) {
		v = v * 10 + (*p++ - '0');
		digits++;
	}
	if (digits == 0 || v < lo || v > hi)
		return NULL;
	*out = v;
	return p;
}

static const char *p_rule(const char *p, struct tz_rule *r)
{
	memset(r, 0, sizeof(*r));
	if (*p == 'J') {
		r->kind = 'J';
		p = p_num(p + 1, 1, 365, &r->n);
	} else if (*p == 'M') {
		r->kind = 'M';
		if ((p = p_num(p + 1, 1, 12, &r->m)) == NULL || *p != '.' ||
		    (p = p_num(p + 1, 1, 5, &r->w)) == NULL || *p != '.')
			return NULL;
		p = p_num(p + 1, 0, 6, &r->d);
	} else {
		r->kind = 'N';
		p = p_num(p, 0, 365, &r->n);
	}
	if (p == NULL)
		return NULL;
	r->secs = 7200;
	if (*p == '/')
		p = p_time(p + 1, 167, &r->secs);
	return p;
}

static int p_posix(const char *s, struct tz_posix *pz)
{
	const char *p = p_name(s);
	int32_t west;

	memset(pz, 0, sizeof(*pz));
	if (p == NULL || (p = p_time(p, 24, &west)) == NULL)
		return -1;
	pz->std_east = -west;
	if (*p == '\0')
		return 0;
	if ((p = p_name(p)) == NULL)
		return -1;
	pz->has_dst = 1;
	pz->dst_east = pz->std_east + 3600;
	if (*p != ',' && *p != '\0') {
		if ((p = p_time(p, 24, &west)) == NULL)
			return -1;
		pz->dst_east = -west;
	}
	if (*p == '\0') {	/* POSIX leaves it open; the US rule, as glibc */
		p = ",M3.2.0,M11.1.0";
	}
	if (*p != ',' || (p = p_rule(p + 1, &pz->start)) == NULL ||
	    *p != ',' || (p = p_rule(p + 1, &pz->end)) == NULL)
		return -1;
	return *p == '\0' ? 0 : -1;
}

/* Local seconds (since the epoch, as if local were UTC) of rule r in y. */
static int64_t rule_local(const struct tz_rule *r, int64_t y)
{
	int64_t day;

	if (r->kind == 'J')
		day = days_from_civil(y, 1, 1) + r->n - 1 +
		      (is_leap(y) && r->n >= 60);
	else if (r->kind == 'N')
		day = days_from_civil(y, 1, 1) + r->n;
	else {
		int64_t first = days_from_civil(y, r->m, 1);
		int wday1 = (int)(((first + 4) % 7 + 7) % 7), md;

		md = 1 + (r->d - wday1 + 7) % 7 + (r->w - 1) * 7;
		while (md > month_days(y, r->m))
			md -= 7;
		day = first + md - 1;
	}
	return day * 86400 + r->secs;
}

/* Appends the rule's transitions from year y0 through TZ_LAST_YEAR. */
static void tz_extend(struct mc_tz *tz, const struct tz_posix *pz, int64_t y0)
{
	if (!pz->has_dst) {
		if (tz->n == 0)
			tz->off0 = pz->std_east;
		else if (tz->off[tz->n - 1] != pz->std_east)
			tz_add(tz, tz->at[tz->n - 1] + 1, pz->std_east);
		return;
	}
	if (tz->n == 0)
		tz->off0 = pz->std_east;
	for (int64_t y = y0; y <= TZ_LAST_YEAR; y++) {
		int64_t s = rule_local(&pz->start, y) - pz->std_east;
		int64_t e = rule_local(&pz->end, y) - pz->dst_east;

		if (s < e) {
			tz_add(tz, s, pz->dst_east);
			tz_add(tz, e, pz->std_east);
		} else {
			tz_add(tz, e, pz->std_east);
			tz_add(tz, s, pz->dst_east);
		}
	}
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* Reads a TZif file's transitions (the 64-bit block when there is one)
 * and its footer rule. -1 when it is not one. */
static int tz_parse_tzif(const unsigned char *b, size_t len, struct mc_tz *tz)
{
	size_t pos = 0, tsize = 4;
	uint32_t cnt[6];
	const unsigned char *times, *idx, *types;
	struct tz_posix pz;

	for (int block = 0; block < 2; block++) {
		size_t size;

		if (len - pos < 44 || memcmp(b + pos, "TZif", 4) != 0)
			return -1;
		for (int i = 0; i < 6; i++)
			cnt[i] = be32(b + pos + 20 + 4 * i);
		/* isutcnt isstdcnt leapcnt timecnt typecnt charcnt */
		if (cnt[3] > 100000 || cnt[4] == 0 || cnt[4] > 256 ||
		    cnt[5] > 100000 || cnt[2] > 100000 || cnt[0] > 256 ||
		    cnt[1] > 256)
			return -1;
		size = cnt[3] * (tsize + 1) + cnt[4] * 6 + cnt[5] +
		       cnt[2] * (tsize + 4) + cnt[1] + cnt[0];
		if (len - pos - 44 < size)
			return -1;
		if (block == 0 && b[pos + 4] >= '2') {
			pos += 44 + size;
			tsize = 8;
			continue;
		}
		pos += 44;
		break;
	}
	times = b + pos;
	idx = times + cnt[3] * tsize;
	types = idx + cnt[3];
	tz->off0 = (int32_t)be32(types);
	for (uint32_t i = 0; i < cnt[3]; i++) {
		int64_t at = tsize == 8 ? be64(times + 8 * i) :
			     (int64_t)(int32_t)be32(times + 4 * i);

		if (idx[i] >= cnt[4])
			return -1;
		tz_add(tz, at, (int32_t)be32(types + 6 * idx[i]));
	}
	pos = (size_t)(types - b) + cnt[4] * 6 + cnt[5] +
	      cnt[2] * (tsize + 4) + cnt[1] + cnt[0];
	if (tsize == 8 && pos < len && b[pos] == '\n') {
		const unsigned char *nl = memchr(b + pos + 1, '\n',
						 len - pos - 1);
		char *rule;
		int64_t y0 = 1970;

		if (nl == NULL)
			return -1;
		rule = mc_strndup((const char *)b + pos + 1,
				  (size_t)(nl - b - (ptrdiff_t)pos - 1));
		if (rule[0] != '\0' && p_posix(rule, &pz) == 0) {
			if (tz->n > 0) {
				int m, d;

				civil_from_days(floor_div(tz->at[tz->n - 1],
							  86400), &y0, &m, &d);
			}
			if (tz->n == 0)
				tz->off0 = pz.std_east;
			tz_extend(tz, &pz, y0);
		}
		free(rule);
	}
	return 0;
}

static int tz_from_file(const char *path, struct mc_tz *tz)
{
	size_t len = 0;
	char *data = mc_read_file(path, 4 << 20, &len, NULL);
	int rc;

	if (data == NULL)
		return -1;
	rc = tz_parse_tzif((const unsigned char *)data, len, tz);
	free(data);
	return rc;
}

static int zone_name_ok(const char *name)
{
	if (name[0] == '\0' || name[0] == '/' || strlen(name) > 255)
		return 0;
	for (const char *p = name; *p; p++) {
		if (!isalnum((unsigned char)*p) && !strchr("_+-/", *p))
			return 0;
		if (*p == '.' || (p[0] == '/' && p[1] == '/'))
			return 0;
	}
	return strstr(name, "..") == NULL;
}

int mc_tz_load(const char *name, struct mc_tz **out, struct mc_err *err)
{
	struct mc_tz *tz = mc_calloc(1, sizeof(*tz));
	const char *dir = getenv("TZDIR");
	struct tz_posix pz;
	int local = name == NULL;

	*out = NULL;
	if (dir == NULL || dir[0] != '/')
		dir = "/usr/share/zoneinfo";
	if (local) {
		name = getenv("TZ");
		if (name == NULL) {
			if (tz_from_file("/etc/localtime", tz) == 0)
				goto done;
			mc_tz_free(tz);
			tz = mc_calloc(1, sizeof(*tz));
			goto done;	/* UTC */
		}
		if (*name == ':')
			name++;
		if (*name == '\0')
			goto done;
		if (*name == '/') {
			if (tz_from_file(name, tz) == 0)
				goto done;
			mc_tz_free(tz);
			tz = mc_calloc(1, sizeof(*tz));
			goto done;	/* glibc falls back to UTC too */
		}
	}
	if (zone_name_ok(name)) {
		char *path = mc_asprintf("%s/%s", dir, name);
		int rc = tz_from_file(path, tz);

		free(path);
		if (rc == 0)
			goto done;
		mc_tz_free(tz);
		tz = mc_calloc(1, sizeof(*tz));
	}
	if (p_posix(name, &pz) == 0) {
		tz_extend(tz, &pz, 1970);
		goto done;
	}
	mc_tz_free(tz);
	if (local) {		/* an unusable TZ: UTC, as the C library does */
		*out = mc_calloc(1, sizeof(**out));
		return 0;
	}
	return mc_err_set(err, MC_EXIT_USAGE, "unknown time zone '%s' (a name "
			  "from the tz database such as Europe/Berlin, or a "
			  "POSIX TZ rule)", name);
done:
	*out = tz;
	return 0;
}

/* The instants whose local time is L (seconds, as if local were UTC):
 * returns how many (0, 1 or 2, ascending in u). With none, L fell in a gap
 * and *gap is the instant of the jump over it (0 if unknown). */
static int tz_solve(const struct mc_tz *tz, int64_t L, int64_t u[2],
		    int64_t *gap)
{
	const int64_t span = 26 * 3600;
	int32_t offs[16];
	size_t n_offs = 0;
	ptrdiff_t i0 = tz_index(tz, L - span), i;
	int n = 0;

	offs[n_offs++] = mc_tz_offset(tz, L - span);
	for (i = i0 + 1; (size_t)i < tz->n && tz->at[i] <= L + span &&
	     n_offs < MC_ARRAY_LEN(offs); i++)
		offs[n_offs++] = tz->off[i];
	for (size_t k = 0; k < n_offs; k++) {
		int64_t c = L - offs[k];
		int dup = 0;

		if (mc_tz_offset(tz, c) != offs[k])
			continue;
		for (int j = 0; j < n; j++)
			dup |= u[j] == c;
		if (dup)
			continue;
		if (n < 2) {
			u[n++] = c;
		} else if (c > u[1]) {
			u[1] = c;
		}
		if (n == 2 && u[0] > u[1]) {
			int64_t t = u[0];

			u[0] = u[1];
			u[1] = t;
		}
	}
	*gap = 0;
	if (n > 0)
		return n;
	for (i = i0 + 1; (size_t)i < tz->n && tz->at[i] <= L + span; i++) {
		int32_t before = i > 0 ? tz->off[i - 1] : tz->off0;

		if (tz->off[i] > before && tz->at[i] + before <= L &&
		    L < tz->at[i] + tz->off[i]) {
			*gap = tz->at[i];
			break;
		}
	}
	return 0;
}

/* ---- expressions -------------------------------------------------------- */

static const char *const field_name[5] = {
	"minute", "hour", "day-of-month", "month", "day-of-week",
};
static const int field_lo[5] = { 0, 0, 1, 1, 0 };
static const int field_hi[5] = { 59, 23, 31, 12, 7 };
static const char *const month_names[] = {
	"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
	"nov", "dec",
};
static const char *const dow_names[] = {
	"sun", "mon", "tue", "wed", "thu", "fri", "sat",
};

void mc_cron_free(struct mc_cron *c)
{
	if (c == NULL)
		return;
	mc_tz_free(c->tz);
	free(c->zone);
	free(c);
}

/* A number or (month, day of week) a name at *pp. */
static int cron_value(const char **pp, int f, int *out, const char *item,
		      struct mc_err *err)
{
	const char *p = *pp, *s = p;
	char word[8];
	size_t n;

	while (isalnum((unsigned char)*p))
		p++;
	n = (size_t)(p - s);
	if (n == 0)
		return mc_err_set(err, MC_EXIT_USAGE, "%s: expected a number "
				  "in '%s'", field_name[f], item);
	if (isdigit((unsigned char)*s)) {
		int v = 0;

		for (const char *q = s; q < p; q++) {
			if (!isdigit((unsigned char)*q) || v > 1000)
				return mc_err_set(err, MC_EXIT_USAGE,
						  "%s: bad number in '%s'",
						  field_name[f], item);
			v = v * 10 + (*q - '0');
		}
		*out = v;
		*pp = p;
		return 0;
	}
	if ((f == 3 || f == 4) && n == 3) {
		const char *const *names = f == 3 ? month_names : dow_names;
		size_t count = f == 3 ? 12 : 7;

		for (size_t i = 0; i < 3; i++)
			word[i] = (char)tolower((unsigned char)s[i]);
		word[3] = '\0';
		for (size_t i = 0; i < count; i++) {
			if (strcmp(word, names[i]) == 0) {
				*out = (int)i + (f == 3 ? 1 : 0);
				*pp = p;
				return 0;
			}
		}
	}
	if (f == 3 || f == 4)
		return mc_err_set(err, MC_EXIT_USAGE, "%s: unknown name '%.*s' "
				  "in '%s' (%s)", field_name[f], (int)n, s,
				  item, f == 3 ? "jan..dec or 1-12" :
				  "sun..sat or 0-7");
	return mc_err_set(err, MC_EXIT_USAGE, "%s: '%.*s' is not a number "
			  "(names are for month and day-of-week)",
			  field_name[f], (int)n, s);
}

static int cron_field(const char *text, int f, uint64_t *bits,
		      struct mc_err *err)
{
	const char *p = text;

	*bits = 0;
	if (strchr(text, '~'))
		return mc_err_set(err, MC_EXIT_USAGE, "%s: random ranges (~) "
				  "are not supported: the expected start would "
				  "not be known", field_name[f]);
	for (;;) {
		int a, b, step = 1;

		if (*p == '*') {
			a = field_lo[f];
			b = field_hi[f];
			p++;
			if (*p == '/')
				goto step;
		} else {
			if (cron_value(&p, f, &a, text, err) < 0)
				return -1;
			b = a;
			if (*p == '-') {
				p++;
				if (cron_value(&p, f, &b, text, err) < 0)
					return -1;
				if (f == 4 && a > b && b == 0)
					b = 7;	/* fri-sun */
				if (a > b)
					return mc_err_set(err, MC_EXIT_USAGE,
							  "%s: range %d-%d in "
							  "'%s' runs backwards",
							  field_name[f], a, b,
							  text);
				if (*p == '/')
					goto step;
			} else if (*p == '/') {
				return mc_err_set(err, MC_EXIT_USAGE,
						  "%s: a step needs a range or "
						  "* (N-M/S or */S) in '%s'",
						  field_name[f], text);
			}
		}
		goto range;
step:
		p++;
		if (!isdigit((unsigned char)*p) ||
		    cron_value(&p, 0, &step, text, err) < 0 || step == 0)
			return mc_err_set(err, MC_EXIT_USAGE, "%s: bad step in "
					  "'%s' (a number above 0)",
					  field_name[f], text);
range:
		if (a < field_lo[f] || b > field_hi[f])
			return mc_err_set(err, MC_EXIT_USAGE, "%s: %d is out of "
					  "range %d-%d in '%s'", field_name[f],
					  a < field_lo[f] ? a : b, field_lo[f],
					  field_hi[f], text);
		for (int v = a; v <= b; v += step)
			*bits |= (uint64_t)1 << v;
		if (*p == '\0')
			return 0;
		if (*p != ',' || p[1] == '\0')
			return mc_err_set(err, MC_EXIT_USAGE, "%s: unexpected "
					  "'%c' in '%s'", field_name[f], *p,
					  text);
		p++;
	}
}

static const struct {
	const char *name;
	const char *expr;
	unsigned flags;
} shortcuts[] = {
	{ "yearly", "0 0 1 1 *", MC_CRON_DOW_STAR },
	{ "annually", "0 0 1 1 *", MC_CRON_DOW_STAR },
	{ "monthly", "0 0 1 * *", MC_CRON_DOW_STAR },
	{ "weekly", "0 0 * * 0", MC_CRON_DOM_STAR },
	{ "daily", "0 0 * * *", 0 },
	{ "midnight", "0 0 * * *", 0 },
	{ "hourly", "0 * * * *", MC_CRON_HR_STAR },
};

/* Splits s at blanks into at most max words (copies). */
static size_t split_words(const char *s, char **w, size_t max)
{
	size_t n = 0;

	while (*s) {
		const char *e;

		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0')
			break;
		for (e = s; *e && *e != ' ' && *e != '\t'; e++)
			;
		if (n < max)
			w[n] = mc_strndup(s, (size_t)(e - s));
		n++;
		s = e;
	}
	return n;
}

static int cron_fields(struct mc_cron *c, const char *text, int shortcut,
		       struct mc_err *err)
{
	char *w[6] = { 0 };
	size_t n = split_words(text, w, 6);
	uint64_t bits[5];
	int rc = -1;

	if (n != 5) {
		mc_err_set(err, MC_EXIT_USAGE, "expected 5 fields (minute hour "
			   "day-of-month month day-of-week) or an @ shortcut, "
			   "got %zu", n);
		goto out;
	}
	for (int f = 0; f < 5; f++)
		if (cron_field(w[f], f, &bits[f], err) < 0)
			goto out;
	c->minute = bits[0];
	c->hour = (uint32_t)bits[1];
	c->dom = (uint32_t)bits[2];
	c->month = (uint16_t)bits[3];
	if (bits[4] & 0x81)
		bits[4] |= 0x81;	/* 0 and 7 are both Sunday */
	c->dow = (uint8_t)(bits[4] & 0x7f);
	if (!shortcut) {
		c->flags |= w[0][0] == '*' ? MC_CRON_MIN_STAR : 0;
		c->flags |= w[1][0] == '*' ? MC_CRON_HR_STAR : 0;
		c->flags |= w[2][0] == '*' ? MC_CRON_DOM_STAR : 0;
		c->flags |= w[4][0] == '*' ? MC_CRON_DOW_STAR : 0;
	}
	rc = 0;
out:
	for (size_t i = 0; i < 6; i++)
		free(w[i]);
	return rc;
}

int mc_cron_parse(const char *expr, struct mc_cron **out, struct mc_err *err)
{
	struct mc_cron *c = mc_calloc(1, sizeof(*c));
	const char *p = expr;
	int ok = 0;

	*out = NULL;
	while (*p == ' ' || *p == '\t')
		p++;
	if (strncmp(p, "CRON_TZ=", 8) == 0) {
		const char *e = p + 8;
		struct mc_err e2 = { 0 };

		while (*e && *e != ' ' && *e != '\t')
			e++;
		c->zone = mc_strndup(p + 8, (size_t)(e - p - 8));
		if (mc_tz_load(c->zone, &c->tz, &e2) < 0) {
			mc_err_set(err, MC_EXIT_USAGE, "CRON_TZ: %s", e2.msg);
			goto fail;
		}
		p = e;
		while (*p == ' ' || *p == '\t')
			p++;
	} else if (mc_tz_load(NULL, &c->tz, err) < 0) {
		goto fail;
	}
	if (*p == '@') {
		const char *e = p + 1;
		size_t n;

		while (*e && *e != ' ' && *e != '\t')
			e++;
		n = (size_t)(e - p - 1);
		for (const char *q = e; *q; q++)
			if (*q != ' ' && *q != '\t') {
				mc_err_set(err, MC_EXIT_USAGE, "unexpected text "
					   "after %.*s", (int)(n + 1), p);
				goto fail;
			}
		if (n == 6 && strncmp(p + 1, "reboot", 6) == 0) {
			mc_err_set(err, MC_EXIT_USAGE, "@reboot has no expected "
				   "start: use a five-field schedule or every = "
				   "DURATION");
			goto fail;
		}
		for (size_t i = 0; i < MC_ARRAY_LEN(shortcuts); i++) {
			if (strlen(shortcuts[i].name) == n &&
			    strncmp(shortcuts[i].name, p + 1, n) == 0) {
				if (cron_fields(c, shortcuts[i].expr, 1, err) < 0)
					goto fail;
				c->flags = shortcuts[i].flags;
				ok = 1;
				break;
			}
		}
		if (!ok) {
			mc_err_set(err, MC_EXIT_USAGE, "unknown shortcut '%.*s' "
				   "(@yearly, @annually, @monthly, @weekly, "
				   "@daily, @midnight, @hourly)", (int)(n + 1),
				   p);
			goto fail;
		}
	} else if (cron_fields(c, p, 0, err) < 0) {
		goto fail;
	}
	/* Both day fields ANDed (one starts with *): a day of the month
	 * that no month of the schedule has never comes. */
	if (c->flags & (MC_CRON_DOM_STAR | MC_CRON_DOW_STAR)) {
		int any = 0;

		for (int m = 1; m <= 12 && !any; m++)
			for (int d = 1; d <= month_days(2000, m) && !any; d++)
				any = (c->month >> m & 1) && (c->dom >> d & 1);
		if (!any) {
			mc_err_set(err, MC_EXIT_USAGE, "day-of-month: no day of "
				   "it falls in the schedule's months, so the "
				   "job would never start");
			goto fail;
		}
	}
	*out = c;
	return 0;
fail:
	mc_cron_free(c);
	return -1;
}

/* ---- next and previous start -------------------------------------------- */

/* How far local time may stray from UTC plus the offset at one instant
 * over the span a search looks at (daylight saving moves it 1-2 hours). */
#define MARGIN (4 * 3600)
#define SCAN_DAYS (366 * 10 + 3)

static int day_matches(const struct mc_cron *c, int64_t day)
{
	int64_t y;
	int m, d, wday = (int)(((day + 4) % 7 + 7) % 7);
	int dm, dw;

	civil_from_days(day, &y, &m, &d);
	if (!(c->month >> m & 1))
		return 0;
	dm = c->dom >> d & 1;
	dw = c->dow >> wday & 1;
	if (c->flags & (MC_CRON_DOM_STAR | MC_CRON_DOW_STAR))
		return dm && dw;
	return dm || dw;
}

/* The start instants of local time L: 0, 1 or 2 (see cron.h). */
static int instants(const struct mc_cron *c, int64_t L, int64_t out[2])
{
	int64_t u[2], gap;
	int n = tz_solve(c->tz, L, u, &gap);
	int wild = (c->flags & (MC_CRON_MIN_STAR | MC_CRON_HR_STAR)) != 0;

	if (n == 0) {
		if (wild || gap == 0)
			return 0;
		out[0] = gap;
		return 1;
	}
	out[0] = u[0];
	if (n == 2 && wild) {
		out[1] = u[1];
		return 2;
	}
	return 1;
}

int64_t mc_cron_next(const struct mc_cron *c, int64_t after)
{
	int64_t L0 = after + mc_tz_offset(c->tz, after) - MARGIN;
	int64_t day0 = floor_div(L0, 86400), best = 0, limit = 0;

	for (int64_t k = 0; k <= SCAN_DAYS; k++) {
		int64_t day = day0 + k;

		if (best && day * 86400 > limit)
			break;
		if (!day_matches(c, day))
			continue;
		for (int h = 0; h < 24; h++) {
			if (!(c->hour >> h & 1))
				continue;
			for (int mi = 0; mi < 60; mi++) {
				int64_t L = day * 86400 + h * 3600 + mi * 60;
				int64_t u[2];
				int n;

				if (!(c->minute >> mi & 1) || L < L0)
					continue;
				if (best && L > limit)
					return best;
				n = instants(c, L, u);
				for (int j = 0; j < n; j++) {
					if (u[j] > after && (!best || u[j] < best)) {
						best = u[j];
						limit = best + mc_tz_offset(c->tz,
							best) + MARGIN;
					}
				}
			}
		}
	}
	return best;
}

int64_t mc_cron_prev(const struct mc_cron *c, int64_t at)
{
	int64_t L0 = at + mc_tz_offset(c->tz, at) + MARGIN;
	int64_t day0 = floor_div(L0, 86400), best = 0, limit = 0;

	for (int64_t k = 0; k <= SCAN_DAYS; k++) {
		int64_t day = day0 - k;

		if (best && day * 86400 + 86400 <= limit)
			break;
		if (!day_matches(c, day))
			continue;
		for (int h = 23; h >= 0; h--) {
			if (!(c->hour >> h & 1))
				continue;
			for (int mi = 59; mi >= 0; mi--) {
				int64_t L = day * 86400 + h * 3600 + mi * 60;
				int64_t u[2];
				int n;

				if (!(c->minute >> mi & 1) || L > L0)
					continue;
				if (best && L < limit)
					return best;
				n = instants(c, L, u);
				for (int j = 0; j < n; j++) {
					if (u[j] <= at && (!best || u[j] > best)) {
						best = u[j];
						limit = best + mc_tz_offset(c->tz,
							best) - MARGIN;
					}
				}
			}
		}
	}
	return best;
}
