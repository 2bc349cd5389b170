/*
 * cron.h - Vixie cron schedules, as cronie reads and runs them, and the
 * time zones they are read in.
 *
 * An expression is five fields - minute (0-59), hour (0-23), day of month
 * (1-31), month (1-12 or jan..dec), day of week (0-7 or sun..sat, 0 and 7
 * both Sunday) - each a comma-separated list of items: `*`, `*` / STEP, N,
 * N-M, N-M / STEP (N no greater than M, names allowed where numbers are;
 * `fri-sun` runs to Sunday). When both day fields are restricted (neither
 * begins with `*`) a day matches when either does; otherwise both must.
 * The shortcuts @yearly (@annually), @monthly, @weekly, @daily (@midnight)
 * and @hourly stand for the expressions cronie gives them. @reboot and
 * cronie's random ranges (`~`) are refused: neither has an expected start.
 * A leading `CRON_TZ=Zone` reads the schedule in that zone (a name under
 * the tz database), otherwise in local time ($TZ, else /etc/localtime).
 *
 * Daylight saving, as cron(8) of cronie describes it for changes of less
 * than three hours: a job at a fixed time (neither its minute nor its hour
 * field begins with `*`) whose time is skipped when the clock jumps forward
 * runs at the jump, and runs once when the clock goes back; a job whose
 * minute or hour field begins with `*` runs at every local time that
 * happens - none in the gap, both in the repeat.
 */
#ifndef MC_CRON_H
#define MC_CRON_H

#include <stdint.h>
#include "mc.h"

/* A time zone: transitions from the tz database file, extended by its
 * POSIX rule. */
struct mc_tz;

/* Loads zone NAME from $TZDIR or /usr/share/zoneinfo ("Europe/Berlin"),
 * or reads a POSIX TZ string ("CET-1CEST,M3.5.0,M10.5.0/3"); NULL name:
 * the local zone ($TZ, else /etc/localtime, else UTC). -1 with
 * MC_EXIT_USAGE when neither works. */
int mc_tz_load(const char *name, struct mc_tz **out, struct mc_err *err);
void mc_tz_free(struct mc_tz *tz);
/* Seconds east of UTC in effect at Unix time t. */
int32_t mc_tz_offset(const struct mc_tz *tz, int64_t t);

#define MC_CRON_MIN_STAR	0x1
#define MC_CRON_HR_STAR		0x2
#define MC_CRON_DOM_STAR	0x4
#define MC_CRON_DOW_STAR	0x8

struct mc_cron {
	uint64_t minute;	/* bit N: minute N */
	uint32_t hour;
	uint32_t dom;		/* bits 1..31 */
	uint16_t month;		/* bits 1..12 */
	uint8_t dow;		/* bits 0..6, Sunday 0 */
	unsigned flags;		/* MC_CRON_*_STAR, as cronie sets them */
	char *zone;		/* CRON_TZ, NULL: local */
	struct mc_tz *tz;
};

/* Parses expr. On error returns -1 with MC_EXIT_USAGE and a message that
 * names the field: "day-of-week: unknown name 'fry' in 'mon,fry'". */
int mc_cron_parse(const char *expr, struct mc_cron **out, struct mc_err *err);
void mc_cron_free(struct mc_cron *c);

/* The first start strictly after `after` (Unix seconds; starts fall on
 * whole minutes, or on the instant of a clock jump), or 0 when there is
 * none within ten years. */
int64_t mc_cron_next(const struct mc_cron *c, int64_t after);
/* The last start at or before `at`, or 0 when there is none within ten
 * years. */
int64_t mc_cron_prev(const struct mc_cron *c, int64_t at);

#endif
