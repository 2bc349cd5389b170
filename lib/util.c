/* util.c - the small shared pieces declared in mc.h. */
#include "mc.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

volatile sig_atomic_t mc_interrupted;

static int err_vset(struct mc_err *err, int code, int errnum, const char *fmt,
		    va_list ap)
{
	if (err == NULL)
		return -1;
	err->code = code;
	err->sys_errno = errnum;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	if (errnum) {
		size_t len = strlen(err->msg);
		char buf[128];

		snprintf(err->msg + len, sizeof(err->msg) - len, ": %s",
			 mc_strerror(errnum, buf, sizeof(buf)));
	}
	return -1;
}

const char *mc_strerror(int errnum, char *buf, size_t size)
{
	/* The GNU strerror_r (we build with _GNU_SOURCE) returns the text,
	 * which may or may not be in buf. */
	return strerror_r(errnum, buf, size);
}

int mc_err_set(struct mc_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vset(err, code, 0, fmt, ap);
	va_end(ap);
	return -1;
}

int mc_err_sys(struct mc_err *err, int code, int errnum, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vset(err, code, errnum, fmt, ap);
	va_end(ap);
	return -1;
}

void mc_err_clear(struct mc_err *err)
{
	if (err != NULL)
		memset(err, 0, sizeof(*err));
}

void mc_bug(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "mercuryctl: BUG at %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

static void *oom(size_t n)
{
	fprintf(stderr, "mercuryctl: out of memory (%zu bytes)\n", n);
	abort();
}

void *mc_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	return p ? p : oom(n);
}

void *mc_calloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	return p ? p : oom(n * size);
}

void *mc_realloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	return q ? q : oom(n);
}

char *mc_strdup(const char *s)
{
	return s ? mc_strndup(s, strlen(s)) : NULL;
}

char *mc_strndup(const char *s, size_t n)
{
	char *p = mc_malloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *mc_vasprintf(const char *fmt, va_list ap)
{
	va_list cp;
	int n;
	char *p;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		n = 0;
	p = mc_malloc((size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *mc_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = mc_vasprintf(fmt, ap);
	va_end(ap);
	return p;
}

void mc_free_secret(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

void mc_buf_add(struct mc_buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;

		while (cap < b->len + n + 1)
			cap *= 2;
		b->data = mc_realloc(b->data, cap);
		b->cap = cap;
	}
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void mc_buf_puts(struct mc_buf *b, const char *s)
{
	mc_buf_add(b, s, strlen(s));
}

void mc_buf_printf(struct mc_buf *b, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = mc_vasprintf(fmt, ap);
	va_end(ap);
	mc_buf_puts(b, s);
	free(s);
}

void mc_buf_reset(struct mc_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void mc_buf_free(struct mc_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

char *mc_buf_steal(struct mc_buf *b)
{
	char *p = b->data ? b->data : mc_strdup("");

	memset(b, 0, sizeof(*b));
	return p;
}

int mc_streq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

char *mc_trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

size_t mc_levenshtein(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t *row = mc_malloc((lb + 1) * sizeof(*row));
	size_t i, j, d;

	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	d = row[lb];
	free(row);
	return d;
}

const char *mc_suggest(const char *word, const char *const *candidates,
		       size_t n)
{
	const char *best = NULL;
	size_t best_d = SIZE_MAX, limit = strlen(word) / 3 + 1;

	if (limit > 3)
		limit = 3;
	for (size_t i = 0; i < n; i++) {
		size_t d;

		if (candidates[i] == NULL)
			continue;
		d = mc_levenshtein(word, candidates[i]);
		if (d < best_d) {
			best_d = d;
			best = candidates[i];
		}
	}
	return best_d <= limit ? best : NULL;
}

/* Reads a non-negative decimal number (digits with an optional fraction)
 * at *s, advancing it. */
static int read_number(const char **s, double *out)
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

		if (read_number(&p, &v) < 0)
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

	if (s == NULL || read_number(&p, &v) < 0)
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

	if (s == NULL || read_number(&p, &v) < 0 ||
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

	if (s == NULL || read_number(&p, &v) < 0 || v <= 0)
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

int mc_parse_int(const char *s, long long min, long long max, long long *out,
		 struct mc_err *err)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0')
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

	if (s != NULL && read_number(&p, &v) == 0 && *p == '\0') {
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

static void on_signal(int sig)
{
	if (mc_interrupted) {
		/* A second signal: the user insists. Stop at once with the
		 * conventional status; SQLite's journal keeps the file whole. */
		signal(sig, SIG_DFL);
		raise(sig);
	}
	mc_interrupted = sig;
}

void mc_signals_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: blocking calls return EINTR */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int mc_sleep_ms(int64_t ms)
{
	double end = mc_mono_now() + ms / 1e3;

	while (!mc_interrupted) {
		double left = end - mc_mono_now();
		struct timespec ts;

		if (left <= 0)
			return 0;
		if (left > 0.05)
			left = 0.05;	/* wake to notice a signal that raced */
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
	}
	return 1;
}

void mc_random_bytes(void *p, size_t n)
{
	unsigned char *c = p;

	while (n > 0) {
		ssize_t r = getrandom(c, n, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			abort();	/* the kernel has no entropy source */
		}
		c += r;
		n -= (size_t)r;
	}
}

double mc_random_unit(void)
{
	uint64_t v;

	mc_random_bytes(&v, sizeof(v));
	return (double)(v >> 11) / 9007199254740992.0;	/* 2^53 */
}

void mc_hex(const unsigned char *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

char *mc_url_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	struct mc_buf b = { 0 };

	mc_buf_puts(&b, "");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || strchr("-._~", *p)) {
			mc_buf_add(&b, p, 1);
		} else {
			char e[3] = { '%', hex[*p >> 4], hex[*p & 15] };

			mc_buf_add(&b, e, 3);
		}
	}
	return mc_buf_steal(&b);
}

int mc_mkdir_p(const char *dir, unsigned mode, struct mc_err *err)
{
	char *path = mc_strdup(dir);
	int rc = 0;

	for (char *p = path + 1;; p++) {
		char c = *p;

		if (c != '/' && c != '\0')
			continue;
		*p = '\0';
		if (mkdir(path, mode) < 0 && errno != EEXIST) {
			rc = mc_err_sys(err, MC_EXIT_IOERR, errno,
					"cannot create directory %s", path);
			break;
		}
		*p = c;
		if (c == '\0')
			break;
	}
	free(path);
	return rc;
}

int mc_dir_check_private(const char *dir, struct mc_err *err)
{
	struct stat sb;

	if (stat(dir, &sb) < 0)
		return mc_err_sys(err, MC_EXIT_IOERR, errno, "%s", dir);
	if (!S_ISDIR(sb.st_mode))
		return mc_err_set(err, MC_EXIT_IOERR, "%s: not a directory",
				  dir);
	if (sb.st_uid != geteuid())
		return mc_err_set(err, MC_EXIT_IOERR,
				  "%s: owned by uid %ld, not by this user (uid %ld): refused, another user could replace its files",
				  dir, (long)sb.st_uid, (long)geteuid());
	if (sb.st_mode & S_IWOTH)
		return mc_err_set(err, MC_EXIT_IOERR,
				  "%s: writable by every user (mode %04o): refused, anyone could plant links there (chmod o-w it)",
				  dir, (unsigned)(sb.st_mode & 07777));
	return 0;
}

/* Tries for a temporary name no one can foresee: a random suffix, created
 * with O_EXCL (a name someone planted is skipped, never opened). */
#define TMP_TRIES 16

int mc_write_atomic(const char *path, const void *data, size_t len,
		    unsigned mode, struct mc_err *err)
{
	char *tmp = NULL;
	char *dir = mc_strdup(path), *slash = strrchr(dir, '/');
	const char *p = data;
	int fd = -1, dfd, rc = -1, e = 0;

	for (int i = 0; i < TMP_TRIES && fd < 0; i++) {
		unsigned char r[8];
		char hex[17];

		mc_random_bytes(r, sizeof(r));
		mc_hex(r, sizeof(r), hex);
		free(tmp);
		tmp = mc_asprintf("%s.tmp.%s", path, hex);
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
			  O_CLOEXEC | O_NOCTTY, mode & 0777);
		e = errno;
		if (fd < 0 && e != EEXIST)
			break;
	}
	if (fd < 0) {
		mc_err_sys(err, MC_EXIT_IOERR, e, "cannot create %s", tmp);
		goto out;
	}
	if (fchmod(fd, mode) < 0) {
		mc_err_sys(err, MC_EXIT_IOERR, errno, "cannot chmod %s", tmp);
		close(fd);
		goto unlink;
	}
	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			mc_err_sys(err, MC_EXIT_IOERR, errno, "cannot write %s",
				   tmp);
			close(fd);
			goto unlink;
		}
		p += w;
		len -= (size_t)w;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		mc_err_sys(err, MC_EXIT_IOERR, errno, "cannot write %s", tmp);
		goto unlink;
	}
	/* rename() replaces a link planted at path; it never follows it. */
	if (rename(tmp, path) < 0) {
		mc_err_sys(err, MC_EXIT_IOERR, errno, "cannot rename %s to %s",
			   tmp, path);
		goto unlink;
	}
	if (slash)
		*slash = '\0';
	dfd = open(slash ? (*dir ? dir : "/") : ".",
		   O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	rc = 0;
	goto out;
unlink:
	unlink(tmp);
out:
	free(tmp);
	free(dir);
	return rc;
}

char *mc_read_file(const char *path, size_t max, size_t *len,
		   struct mc_err *err)
{
	struct mc_buf b = { 0 };
	char chunk[4096];
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		mc_err_sys(err, MC_EXIT_IOERR, errno, "cannot open %s", path);
		return NULL;
	}
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof(chunk));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			mc_err_sys(err, MC_EXIT_IOERR, errno, "cannot read %s",
				   path);
			goto fail;
		}
		if (r == 0)
			break;
		if (b.len + (size_t)r > max) {
			mc_err_set(err, MC_EXIT_IOERR,
				   "%s is larger than %zu bytes", path, max);
			goto fail;
		}
		mc_buf_add(&b, chunk, (size_t)r);
	}
	close(fd);
	if (len)
		*len = b.len;
	return mc_buf_steal(&b);
fail:
	close(fd);
	if (b.data)
		explicit_bzero(b.data, b.len);
	mc_buf_free(&b);
	return NULL;
}

/* Declared in resil.h; here so that http.c and resil.c share one copy. */
#include "resil.h"

int64_t mc_backoff_ms(int attempt, int64_t base_ms, int64_t cap_ms,
		      double unit)
{
	double ceiling = (double)base_ms;

	for (int i = 0; i < attempt && ceiling < (double)cap_ms; i++)
		ceiling *= 2;
	if (ceiling > (double)cap_ms)
		ceiling = (double)cap_ms;
	return (int64_t)(ceiling * unit);
}

/* Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0. */
size_t mc_utf8_len(const unsigned char *p, size_t n)
{
	unsigned c = p[0];

	if (c < 0x80)
		return 1;
	if (c < 0xC2)
		return 0;
	if (c < 0xE0)
		return n >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
	if (c < 0xF0) {
		if (n < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
			return 0;
		if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] >= 0xA0))
			return 0;
		return 3;
	}
	if (c < 0xF5) {
		if (n < 4 || (p[1] & 0xC0) != 0x80 ||
		    (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
			return 0;
		if ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] >= 0x90))
			return 0;
		return 4;
	}
	return 0;
}

int mc_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, l;

	while (i < n) {
		if (p[i] == '\0' || (l = mc_utf8_len(p + i, n - i)) == 0)
			return 0;
		i += l;
	}
	return 1;
}

void mc_hostname(char *buf, size_t size)
{
	if (size == 0)
		return;
	if (gethostname(buf, size - 1) != 0 || buf[0] == '\0')
		snprintf(buf, size, "localhost");
	buf[size - 1] = '\0';
}

char *mc_utf8_clean(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0;
	struct mc_buf b = { 0 };

	mc_buf_add(&b, "", 0);
	while (i < n) {
		size_t l = mc_utf8_len(p + i, n - i);

		if (l == 0) {
			mc_buf_add(&b, "?", 1);
			i++;
		} else {
			mc_buf_add(&b, s + i, l);
			i += l;
		}
	}
	return mc_buf_steal(&b);
}

size_t mc_utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

char *mc_utf8_truncate(const char *s, size_t max)
{
	static const char ellipsis[] = "\xe2\x80\xa6";	/* U+2026 */
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, chars = 0, cut = 0;

	while (i < n) {
		size_t l = mc_utf8_len(p + i, n - i);

		if (l == 0)
			l = 1;		/* not ours to judge: keep going */
		if (chars == (max > 0 ? max - 1 : 0))
			cut = i;
		i += l;
		chars++;
	}
	if (chars <= max)
		return mc_strdup(s);
	if (max == 0)
		return mc_strdup("");
	{
		char *out = mc_malloc(cut + sizeof(ellipsis));

		memcpy(out, s, cut);
		memcpy(out + cut, ellipsis, sizeof(ellipsis));
		return out;
	}
}
