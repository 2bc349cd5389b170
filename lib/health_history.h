/*
 * health_history.h - `health history` (mercuryctl-health(1)): per check, uptime
 * over a span, transitions, the last failure and a one-line sparkline of
 * status over time, read from the check_results table of the state file.
 *
 * Ownership as in mc.h: the array mc_health_history() returns belongs to
 * the caller, who releases it (and every string and bucket array in it)
 * with mc_health_history_free().
 */
#ifndef MC_HEALTH_HISTORY_H
#define MC_HEALTH_HISTORY_H

#include <stddef.h>
#include "mc.h"
#include "output.h"
#include "state.h"

/* Status codes used below: 0 ok, 1 warning, 2 critical, 3 unknown (a
 * status text the file holds but this binary does not know counts as
 * unknown). "Worst" orders them critical, unknown, warning, ok. */
struct mc_check_history {
	char *name, *type;	/* type: that of the newest sample */
	size_t samples;		/* results in the span */
	size_t ok;		/* of which ok */
	double uptime_pct;	/* 100 * ok / samples (0 samples: not listed) */
	size_t transitions;	/* status changes between consecutive samples */
	int current;		/* status of the newest sample */
	double first_ts, last_ts;	/* oldest and newest sample */
	double last_failure_ts;	/* newest non-ok sample, 0 if none */
	char *last_failure_status, *last_failure_msg;	/* NULL if none */
	char *sparkline;	/* UTF-8, `width` cells */
	int *buckets;		/* width entries: worst status, -1 = no data,
				 * but the newest sample's cell holds that
				 * sample's status (where the check stands
				 * now); NULL when width is 0 */
	size_t last_cell;	/* the newest sample's cell */
};

/* The history of the checks named in names (every recorded check when
 * n_names is 0), sorted by name, from the samples with since <= ts <= now
 * (since 0: from the first sample on). now is the end of the span (pass
 * mc_wall_now(); tests inject it). A name given but without results in the
 * span is an error (MC_EXIT_USAGE); with no names, no results at all is an
 * empty list.
 *
 * Sparkline: the span [start, now] - start is since, or when since is 0 the
 * oldest sample of the listed checks, so that all rows share one time axis -
 * is cut into width equal buckets; each shows the worst status of its
 * samples: ok "▁", warning "▄", unknown "▆", critical "█", no data "·".
 *
 * One query; rows are streamed and aggregated, so memory grows with the
 * number of checks and width, not with the number of samples. */
int mc_health_history(struct mc_state *st, const char *const *names,
		      size_t n_names, double since, double now, size_t width,
		      struct mc_check_history **out, size_t *n,
		      struct mc_err *err);
/* As mc_health_history, from each check's last `last` samples in the span
 * only (0: all of them). */
int mc_health_history_last(struct mc_state *st, const char *const *names,
			   size_t n_names, double since, double now,
			   size_t width, size_t last,
			   struct mc_check_history **out, size_t *n,
			   struct mc_err *err);
void mc_health_history_free(struct mc_check_history *h, size_t n);

/* Fills r (since and now as given to mc_health_history):
 *   doc:  {"since": RFC 3339 | null, "until": RFC 3339,
 *          "checks": {NAME: {"type", "samples", "uptime_pct", "transitions",
 *                            "current", "last_failure": {"ts", "status",
 *                            "message"} | null, "buckets": [status | null],
 *                            "sparkline"}}}
 *   text: a table CHECK TYPE NOW UPTIME TRANSITIONS LAST FAILURE
 *         SPARKLINE (NOW: the newest sample's status)
 *         (sparkline cells coloured when r->color) and a legend line. */
void mc_health_history_report(const struct mc_check_history *h, size_t n,
			      double since, double now, struct mc_report *r);

#endif
