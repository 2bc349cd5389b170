/*
 * notify.h - `health --notify` (mercuryctl-health(1)): which checks changed state
 * between runs, damped as Gatus and Kubernetes probes damp flapping.
 *
 * Per check the state file keeps the state last notified (ok at first), the
 * state now being counted and for how many runs in a row. A check must fail
 * failure_threshold runs in a row before it alerts, and pass
 * success_threshold runs before it resolves; a change between failing
 * states (warning to critical) counts with failure_threshold too. A change
 * is only remembered as notified once its alert went out, so a run whose
 * delivery failed is retried by the next one (dedup keeps webhooks that did
 * get it from getting it twice).
 */
#ifndef MC_NOTIFY_H
#define MC_NOTIFY_H

#include "alert.h"
#include "health.h"

struct mc_notify_change {
	const struct mc_check_result *result;
	int from;		/* enum mc_status last notified */
	int to;			/* enum mc_status now */
	int streak;		/* runs in a row at `to` */
};

/* Counts this run's results into the streaks and returns the changes due.
 * One transaction. */
int mc_notify_update(struct mc_state *st, const struct mc_health *h,
		     double now, struct mc_notify_change **out, size_t *n,
		     struct mc_err *err);
/* Remembers that change c was notified. */
int mc_notify_done(struct mc_state *st, const struct mc_notify_change *c,
		   double now, struct mc_err *err);
/* The alert for change c: a trigger with severity critical (a critical
 * check failing), warning (anything else not ok), or a resolve. host: the
 * source. Fills a (mc_alert_release() it). */
void mc_notify_alert(const struct mc_notify_change *c, const char *host,
		     const char *correlation_id, struct mc_alert *a);

#endif
