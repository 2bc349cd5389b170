/*
 * backup_prune.c - which backups `backup prune` keeps: restic's `forget`
 * rules. Backups are walked newest first; --keep-last N keeps the first N;
 * --keep-hourly/daily/weekly/monthly N keep the newest backup of each of
 * the last N hours, days, ISO weeks and months that have backups (calendar
 * boundaries in local time); --keep-within D keeps every backup within D of
 * the newest one (younger than the newest minus D: one exactly D older is
 * not kept, as restic's snapshot policy has it). The rules are ORed, and
 * the newest backup is always kept.
 */
#include "backup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int mc_bk_policy_empty(const struct mc_bk_policy *p)
{
	return p->last <= 0 && p->hourly <= 0 && p->daily <= 0 &&
	       p->weekly <= 0 && p->monthly <= 0 && p->within_ms <= 0;
}

/* The calendar bucket of t for a rule: a number that changes exactly at
 * the rule's boundaries (local time). */
static long long bucket(double t, unsigned rule)
{
	time_t s = (time_t)t;
	struct tm tm;
	char buf[16];
	long long day;

	localtime_r(&s, &tm);
	day = (tm.tm_year + 1900LL) * 10000 + (tm.tm_mon + 1) * 100 +
	      tm.tm_mday;
	switch (rule) {
	case MC_BK_KEEP_HOURLY:
		return day * 100 + tm.tm_hour;
	case MC_BK_KEEP_DAILY:
		return day;
	case MC_BK_KEEP_WEEKLY:
		/* ISO 8601 week-based year and week. */
		strftime(buf, sizeof(buf), "%G%V", &tm);
		return strtoll(buf, NULL, 10);
	default:
		return (tm.tm_year + 1900LL) * 100 + tm.tm_mon + 1;
	}
}

void mc_bk_forget(const double *times, size_t n,
		  const struct mc_bk_policy *p, unsigned *keep)
{
	struct {
		unsigned rule;
		int left;
		long long last;
		int have_last;
	} cal[] = {
		{ MC_BK_KEEP_HOURLY, p->hourly, 0, 0 },
		{ MC_BK_KEEP_DAILY, p->daily, 0, 0 },
		{ MC_BK_KEEP_WEEKLY, p->weekly, 0, 0 },
		{ MC_BK_KEEP_MONTHLY, p->monthly, 0, 0 },
	};
	int last_left = p->last;

	for (size_t i = 0; i < n; i++) {
		keep[i] = 0;
		if (i == 0)
			keep[i] |= MC_BK_KEEP_NEWEST;
		if (last_left > 0) {
			keep[i] |= MC_BK_KEEP_LAST;
			last_left--;
		}
		for (size_t r = 0; r < MC_ARRAY_LEN(cal); r++) {
			long long b;

			if (cal[r].left <= 0)
				continue;
			b = bucket(times[i], cal[r].rule);
			if (!cal[r].have_last || b != cal[r].last) {
				keep[i] |= cal[r].rule;
				cal[r].last = b;
				cal[r].have_last = 1;
				cal[r].left--;
			}
		}
		if (p->within_ms > 0 &&
		    times[0] - times[i] < (double)p->within_ms / 1e3)
			keep[i] |= MC_BK_KEEP_WITHIN;
	}
}

void mc_bk_keep_reasons(unsigned keep, char *buf, size_t size)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{ MC_BK_KEEP_NEWEST, "newest" },
		{ MC_BK_KEEP_LAST, "last" },
		{ MC_BK_KEEP_HOURLY, "hourly" },
		{ MC_BK_KEEP_DAILY, "daily" },
		{ MC_BK_KEEP_WEEKLY, "weekly" },
		{ MC_BK_KEEP_MONTHLY, "monthly" },
		{ MC_BK_KEEP_WITHIN, "within" },
		{ MC_BK_KEEP_DAMAGED, "unreadable" },
	};
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < MC_ARRAY_LEN(names); i++) {
		if (!(keep & names[i].bit))
			continue;
		len += (size_t)snprintf(buf + len, len < size ? size - len : 0,
					"%s%s", len ? "," : "", names[i].name);
		if (len >= size)
			break;
	}
}
