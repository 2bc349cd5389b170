/*
 * mc.h - what every part of libmercury shares: exit codes, the error
 * record, allocation, strings, units, clocks and the run's deadline. They
 * are implemented by subject: wrapper.c (errors, allocation), strbuf.c,
 * strutil.c, units.c, date.c (clocks, times, deadlines), sigchain.c,
 * random.c, files.c and utf8.c.
 *
 * Ownership rule for the whole library: a function that returns a pointer
 * gives it to the caller, who frees it with the matching mc_<thing>_free()
 * (or free() for plain strings); every _free() accepts NULL. Naming, as
 * git's: mc_<thing>_release(p) frees what *p holds and leaves the struct
 * (the caller's, often on the stack) reusable; mc_<thing>_free(p) frees
 * that and p itself (or an array of n). Arguments are
 * borrowed: a const char * that a function keeps is copied. Functions that
 * can fail return 0 on success and -1 on failure, and fill the optional
 * caller-owned struct mc_err. lib/ never prints and never exits; cmd/ reports
 * and maps mc_err.code to the process exit code. Allocation failure aborts
 * (as git's xmalloc does): there is no useful recovery in a CLI run.
 */
#ifndef MC_H
#define MC_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>

/* Exit codes: one table for every command (mercuryctl(1) EXIT STATUS;
 * docs/DESIGN.md, "Exit codes"). */
enum mc_exit {
	MC_EXIT_OK = 0,
	MC_EXIT_WARNING = 1,
	MC_EXIT_CRITICAL = 2,
	MC_EXIT_UNKNOWN = 3,
	MC_EXIT_USAGE = 64,
	MC_EXIT_DATAERR = 65,
	MC_EXIT_IOERR = 74,
	MC_EXIT_TEMPFAIL = 75,
	MC_EXIT_CONFIG = 78,
	MC_EXIT_SIGINT = 130,
	MC_EXIT_SIGTERM = 143,
};

#define MC_ERR_MSG 512

/* An error as lib/ reports it: the exit code it maps to, the errno and HTTP
 * status when they apply, and one line of text without a trailing newline. */
struct mc_err {
	int code;		/* enum mc_exit */
	int sys_errno;		/* 0 when not from a system call */
	long http_status;	/* 0 when not from an HTTP answer */
	char msg[MC_ERR_MSG];
};

/* Fills err (when not NULL) and returns -1, so "return mc_err_set(...)". */
int mc_err_set(struct mc_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* As mc_err_set, appending ": strerror(errnum)" and keeping errnum. */
int mc_err_sys(struct mc_err *err, int code, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void mc_err_clear(struct mc_err *err);
/* strerror(3) that is safe in threads (health checks run in several). */
const char *mc_strerror(int errnum, char *buf, size_t size);

/* A programming error, not a runtime one (a key the schema lacks, a table
 * outgrown): reports file, line and why on stderr and aborts. The one
 * place lib/ prints: there is no caller left to report to. */
#define MC_BUG(...) mc_bug(__FILE__, __LINE__, __VA_ARGS__)
_Noreturn void mc_bug(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Allocation: abort on failure. */
void *mc_malloc(size_t n);
void *mc_calloc(size_t n, size_t size);
void *mc_realloc(void *p, size_t n);
char *mc_strdup(const char *s);		/* NULL stays NULL */
char *mc_strndup(const char *s, size_t n);
char *mc_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *mc_vasprintf(const char *fmt, va_list ap)
	__attribute__((format(printf, 1, 0)));
/* Overwrites s with zeros (not optimised away), then frees it. */
void mc_free_secret(char *s);
/* Frees the array a of n elements of size bytes after release(element) on
 * each (release may be NULL); a may be NULL. What every mc_<things>_free()
 * of an array does. */
void mc_array_free(void *a, size_t n, size_t size,
		   void (*release)(void *element));

/* A growable byte buffer, always NUL-terminated. */
struct mc_buf {
	char *data;
	size_t len;
	size_t cap;
};
void mc_buf_add(struct mc_buf *b, const void *p, size_t n);
void mc_buf_puts(struct mc_buf *b, const char *s);
void mc_buf_printf(struct mc_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void mc_buf_vprintf(struct mc_buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
void mc_buf_reset(struct mc_buf *b);		/* len = 0, keeps memory */
void mc_buf_release(struct mc_buf *b);
char *mc_buf_steal(struct mc_buf *b);		/* caller frees; b is reset */

/* Strings. */
int mc_streq(const char *a, const char *b);	/* NULL-safe */
char *mc_trim(char *s);				/* in place */
/* Damerau-free Levenshtein distance, for did-you-mean suggestions. */
size_t mc_levenshtein(const char *a, const char *b);
/* The one candidate that word (3 characters or more) begins, else the
 * candidate nearest to word within a small distance, or NULL. */
const char *mc_suggest(const char *word, const char *const *candidates,
		       size_t n);

/* Units (docs/DESIGN.md, "Invocation and units"). Each returns 0 or -1 with a one-line reason in err
 * (code MC_EXIT_USAGE; callers that read config re-code it to 78).
 *   durations: 250ms 2s 15m 6h 30d 1w, also combined (1h30m); bare 0
 *   sizes:     10KB (1000), 5MiB (1048576), 512 or 512B
 *   percent:   80% or 80 (0..100)
 *   rate:      N/s, N/m, N/h as tokens per second */
/* Reads a non-negative decimal number (digits with an optional fraction,
 * at most 1e15) at *s, advancing it; -1 when there is none. */
int mc_read_number(const char **s, double *out);
int mc_parse_duration_ms(const char *s, int64_t *out_ms, struct mc_err *err);
int mc_parse_size(const char *s, uint64_t *out, struct mc_err *err);
int mc_parse_percent(const char *s, double *out, struct mc_err *err);
int mc_parse_rate(const char *s, double *per_second, struct mc_err *err);
int mc_parse_int(const char *s, long long min, long long max, long long *out,
		 struct mc_err *err);
/* A plain decimal number, all of s[0..n): [+-]digits[.digits][e[+-]digits]
 * (at most 63 bytes). No hex, inf, nan or blanks, which strtod alone would
 * take. 0, or -1 without touching *v. */
int mc_parse_decimal(const char *s, size_t n, double *v);
/* The decimal number s[0..n) (as mc_parse_decimal reads it), a
 * percentage, as a ratio: the double nearest to its value / 100 ("99.9"
 * gives 0.999, where 99.9 / 100 is 0.9990000000000001). 0, or -1 without
 * touching *out. */
int mc_percent_ratio(const char *s, size_t n, double *out);
int mc_parse_bool(const char *s, int *out, struct mc_err *err);
/* Writes "1h30m", "250ms", "0s" into buf. */
void mc_format_duration(int64_t ms, char *buf, size_t size);
/* As mc_format_duration, but in days rather than weeks ("30d", "1d12h"),
 * as people write windows and spans (and PromQL reads them). */
void mc_format_duration_days(int64_t ms, char *buf, size_t size);
/* The fewest significant digits (1..17) with which "%.*g" reads back as
 * the finite number d; the one rule for every number mercuryctl prints. */
int mc_shortest_digits(double d);
/* d as "%.*g" with mc_shortest_digits(d) digits: 0.013, not
 * 0.012999999999999999. */
void mc_format_number(double d, char *buf, size_t size);

/* Clocks. Wall time is Unix seconds with fractions (persisted state uses it
 * so breakers and buckets work across processes); monotonic time measures
 * and bounds. A struct mc_clock lets tests inject wall time. */
double mc_wall_now(void);
double mc_mono_now(void);
struct mc_clock {
	double (*now)(void *ctx);	/* NULL: mc_wall_now() */
	void *ctx;
};
double mc_clock_now(const struct mc_clock *c);	/* c may be NULL */
/* RFC 3339 UTC with milliseconds: 2026-11-22T10:00:00.123Z */
void mc_format_time(double wall, char *buf, size_t size);
/* Reads a time given as RFC 3339 (2026-11-22T10:00:00Z, fractions and
 * offsets allowed) or as Unix seconds (1795400000, 1795400000.5) into Unix
 * seconds; -1 with MC_EXIT_USAGE and the accepted forms otherwise. */
int mc_parse_time(const char *s, double *out, struct mc_err *err);
/* RFC 3339 alone, in the n bytes at s (need not be NUL-terminated):
 * YYYY-MM-DD(T| )HH:MM:SS[.frac](Z|+HH:MM|-HH:MM), a date that exists.
 * 0, or -1 without touching *out. */
int mc_parse_rfc3339(const char *s, size_t n, double *out);

/* The run's deadline, on the monotonic clock. at == 0 means none;
 * mc_deadline_set() with ms_from_now <= 0 sets none. */
struct mc_deadline {
	double at;
};
void mc_deadline_set(struct mc_deadline *d, int64_t ms_from_now);
/* Milliseconds left, capped at cap_ms (when cap_ms > 0); 0 when passed;
 * with no deadline, cap_ms (or INT64_MAX). */
int64_t mc_deadline_left_ms(const struct mc_deadline *d, int64_t cap_ms);
int mc_deadline_passed(const struct mc_deadline *d);

/* Signals: cmd/ installs handlers that set mc_interrupted to the signal
 * number; long loops in lib/ poll it and stop cleanly. */
extern volatile sig_atomic_t mc_interrupted;
void mc_signals_install(void);
/* Sleeps up to ms, returning early (1) when interrupted, else 0. */
int mc_sleep_ms(int64_t ms);

/* Randomness for jitter, span ids and trace ids (getrandom(2)). */
void mc_random_bytes(void *p, size_t n);
double mc_random_unit(void);			/* [0, 1) */
void mc_hex(const unsigned char *p, size_t n, char *out);	/* out: 2n+1 */

/* UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above
 * U+10FFFF). mc_utf8_len: length of the sequence at p, 0 when malformed;
 * mc_utf8_valid: 1 when all of s[0..n) is well-formed and holds no NUL. */
size_t mc_utf8_len(const unsigned char *p, size_t n);
int mc_utf8_valid(const char *s, size_t n);
/* A copy of s[0..n) that is valid UTF-8 and keeps all of it: each byte
 * that is not part of well-formed UTF-8 (a NUL included) written as the
 * four characters \xNN, as mc_escape() writes it; control characters are
 * kept (for JSON, which escapes them itself). Caller frees. */
char *mc_utf8_clean_n(const char *s, size_t n);
char *mc_utf8_clean(const char *s);	/* of a C string */
/* Untrusted text (Redis values, HTTP bodies, plugin output, server error
 * strings, command-line arguments) made safe for a terminal, a log line, a
 * Nagios line or the state file, as `ls -b` and redis-cli show it: control
 * characters (C0, DEL, and C1 U+0080..U+009F) and bytes that are not
 * well-formed UTF-8 are written \xNN, one per byte; everything else,
 * backslashes included, is kept. The result is one line of valid UTF-8.
 * mc_escape reads s[0..n) (NUL bytes included); caller frees. */
char *mc_escape(const char *s, size_t n);
char *mc_escape_str(const char *s);	/* NULL stays NULL */
/* As mc_escape, but newlines and tabs are kept: for text shown as lines
 * (a job's output, an indented JSON document). Caller frees. */
char *mc_escape_lines(const char *s, size_t n);
/* Code points in s (one display column each, as mercuryctl counts them;
 * what services count as characters). */
size_t mc_utf8_chars(const char *s);
/* A copy of s cut to at most max code points, "…" included when cut (at
 * a character boundary): for services that count characters. Caller
 * frees. */
char *mc_utf8_truncate(const char *s, size_t max);
/* For a buffer that snprintf() had to cut: drops the UTF-8 sequence the
 * cut left incomplete at its end (a message that ends in half an "é"
 * would otherwise show \xC3). Call it only when the text was cut: bytes
 * that were never UTF-8 are left alone. */
void mc_utf8_uncut(char *s);
/* Columns s takes on a terminal: 2 for East Asian wide and emoji
 * characters, 0 for combining marks and zero-width characters, 1 for any
 * other character and for a byte that is not UTF-8. */
size_t mc_utf8_width(const char *s);
/* The one way text goes into a terminal column: s escaped as mc_escape()
 * does and cut to at most cols display columns (mc_utf8_width), "…"
 * included when cut, never inside a character or an escape; cols 0: no
 * limit. Tables (mc_table_row) and every capped cell use it. Caller
 * frees. */
char *mc_column_text(const char *s, size_t cols);

/* This host's name in buf (always terminated; "localhost" when it cannot
 * be had): the source of alerts, the Pushgateway instance. */
void mc_hostname(char *buf, size_t size);

/* Percent-encodes s for a URL query component (RFC 3986: all but the
 * unreserved characters). Caller frees. */
char *mc_url_escape(const char *s);

/* Files. */
/* Creates dir and its parents with mode (existing ones are left as they
 * are). */
int mc_mkdir_p(const char *dir, unsigned mode, struct mc_err *err);
/* Writes data to path atomically: a temporary file in the same directory
 * (PATH.tmp.RANDOM, created with O_EXCL|O_NOFOLLOW: a link planted under
 * any name is never written through), fsync, rename (which replaces a
 * link at path rather than following it), fsync of the directory. The
 * file gets exactly mode, whatever the umask. */
int mc_write_atomic(const char *path, const void *data, size_t len,
		    unsigned mode, struct mc_err *err);
/* Refuses (MC_EXIT_IOERR, saying why) a directory that is not ours or
 * that every user may write to: anyone could plant links in it. For the
 * state and lock directories. */
int mc_dir_check_private(const char *dir, struct mc_err *err);
/* path made absolute for a user's relative argument (--dest ../bk): the
 * real path of path, or when it does not exist yet, of its parent with
 * its last component after it. Caller frees; NULL with errno set when
 * the parent cannot be resolved or the last component is "." or "..". */
char *mc_path_absolute(const char *path);
/* Reads a whole small file (secrets, plugin output); caller frees. */
char *mc_read_file(const char *path, size_t max, size_t *len,
		   struct mc_err *err);

#define MC_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
