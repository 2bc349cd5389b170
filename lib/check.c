/*
 * check.c - what the code of every check type uses: setting a result, and
 * the one rule for values against warn/crit and for probe latency.
 */
#include "check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mc_check_set(struct mc_check_result *r, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	free(r->message);
	r->message = mc_vasprintf(fmt, ap);
	va_end(ap);
	r->status = status;
}

/* How a value alerts against r, for the message: ">= crit 10". */
static void alert_phrase(const struct mc_range *r, const char *name,
			 char *buf, size_t size)
{
	char f[48];

	mc_range_format(r, f, sizeof(f));
	if (r->flags & MC_RANGE_PLAIN)
		snprintf(buf, size, " >= %s %s", name, f);
	else if (r->flags & MC_RANGE_INSIDE)
		snprintf(buf, size, " inside %s %s", name, f + 1);
	else
		snprintf(buf, size, " outside %s %s", name, f);
}

void mc_check_value(struct mc_check_result *r, double value, const char *unit,
		    const char *what)
{
	const struct mc_check *c = r->check;
	int status = mc_range_status(&c->warn, &c->crit, value);
	char why[112] = "";

	r->has_value = 1;
	r->value = value;
	r->unit = unit;
	if (status == MC_ST_CRITICAL)
		alert_phrase(&c->crit, "crit", why, sizeof(why));
	else if (status == MC_ST_WARNING)
		alert_phrase(&c->warn, "warn", why, sizeof(why));
	mc_check_set(r, status, "%s %.15g%s%s", what, value, unit, why);
}

int mc_check_latency(const struct mc_check *c, double ms, char *why,
		     size_t size)
{
	static const char *const keys[] = { "latency_crit", "latency_warn" };
	static const int status[] = { MC_ST_CRITICAL, MC_ST_WARNING };

	for (size_t i = 0; i < 2; i++) {
		int64_t limit = mc_conf_ms(c->sec, keys[i], 0);
		char d[32];

		if (limit <= 0 || ms < (double)limit)
			continue;
		mc_format_duration(limit, d, sizeof(d));
		snprintf(why, size, ">= %s %s", keys[i], d);
		return status[i];
	}
	if (size)
		why[0] = '\0';
	return MC_ST_OK;
}
