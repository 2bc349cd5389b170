/*
 * slo.h - service level objectives evaluated against Prometheus
 * (mercuryctl-slo(1)): the [slo "NAME"] definitions, the multi-window
 * multi-burn-rate policy, one evaluation from Prometheus's answers, the
 * concurrent queries of a run, its report, and Prometheus rule groups.
 *
 * Ownership as in mc.h: what a function fills belongs to the caller and is
 * released by the matching _free(); definitions borrow nothing from the
 * configuration (they copy what they keep).
 */
#ifndef MC_SLO_H
#define MC_SLO_H

#include <stddef.h>
#include <stdint.h>
#include "config.h"
#include "http.h"
#include "mc.h"
#include "output.h"
#include "resil.h"
#include "state.h"

/* Factors in the configuration are written for this window (the SRE
 * workbook's), and scaled for others. */
#define MC_SLO_REF_PERIOD_MS	(30LL * 86400000)
/* At most this many windows per SLO: the seven burn windows, the policy's
 * own and the SLO window. */
#define MC_SLO_MAX_WINDOWS	16
#define MC_SLO_MAX_CONDS	8
/* A burn rate "exceeds" a factor when it is larger by more than this
 * share: rounding in Prometheus's arithmetic (an SLO burning exactly its
 * budget comes back as 1.0000000000000002) never decides a state. */
#define MC_SLO_EPSILON		1e-9

/* The policy's defaults (docs/DESIGN.md, "The commands"): the SRE workbook's page pairs
 * and Sloth's ticket pairs, as factors for a 30-day window. */
#define MC_SLO_DEFAULT_PAGE	"1h 5m 14.4, 6h 30m 6"
#define MC_SLO_DEFAULT_TICKET	"1d 2h 3, 3d 6h 1"

/* The burn windows every status reports (mercuryctl-slo(1)), in ms. */
extern const int64_t mc_slo_burn_windows[7];

enum mc_slo_severity {
	MC_SLO_PAGE,		/* critical */
	MC_SLO_TICKET,		/* warning */
};
const char *mc_slo_severity_name(int severity);

/* One window pair of the policy: it fires when the burn rates over both
 * windows exceed factor. */
struct mc_slo_cond {
	int severity;
	int64_t long_ms, short_ms;
	double factor;		/* for this SLO's window (scaled) */
};

struct mc_slo_def {
	char *name;
	double objective;	/* percent, 0 < objective < 100 */
	double objective_ratio;	/* the same as a ratio, the double nearest
				   to the decimal written / 100 */
	double budget;		/* 1 - objective / 100, to 15 digits */
	int64_t window_ms;
	char *error_query;	/* PromQL with {{window}} */
	char *total_query;
	double min_rate;	/* total_query's value over a pair's short
				   window below which the pair does not fire;
				   0: no guard */
	int64_t timeout_ms;	/* per query */
	struct mc_slo_cond conds[MC_SLO_MAX_CONDS];
	size_t n_conds;
	/* The windows queried, ascending: the burn windows, the policy's,
	 * and the SLO window (windows[window_idx]). */
	int64_t windows[MC_SLO_MAX_WINDOWS];
	size_t n_windows;
	size_t window_idx;
	struct mc_breaker_conf breaker;
};

/* Parses a policy value: conditions "LONG SHORT THRESHOLD" separated by
 * commas, THRESHOLD a burn factor written for a 30-day window (14.4) or
 * the share of the budget spent within LONG (2%); both scale to period_ms
 * (factor * period / 30d, or share * period / LONG). Appends to
 * conds[*n..max). -1 with a reason in why. */
int mc_slo_policy_parse(const char *text, int severity, int64_t period_ms,
			struct mc_slo_cond *conds, size_t max, size_t *n,
			char *why, size_t size);

/* Fills d from an [slo "NAME"] section (core gives the breaker defaults;
 * may be NULL). On a bad value: -1, the reason in why and in *key the key
 * to blame. d is left empty then. */
int mc_slo_def_from_section(const struct mc_conf_section *s,
			    const struct mc_conf_section *core,
			    struct mc_slo_def *d, const char **key, char *why,
			    size_t size);
void mc_slo_def_release(struct mc_slo_def *d);

/* The SLOs named (all when n_names is 0), in configuration order. A name
 * that is not configured is MC_EXIT_USAGE with a suggestion; so is a
 * configuration without SLOs. */
int mc_slo_select(const struct mc_conf *conf, const char *const *names,
		  size_t n_names, struct mc_slo_def **out, size_t *n,
		  struct mc_err *err);
void mc_slo_defs_free(struct mc_slo_def *defs, size_t n);

/* Is d->windows[i] a burn window (one of the seven, or the policy's)
 * rather than only the SLO window? */
int mc_slo_is_burn_window(const struct mc_slo_def *d, size_t i);
/* "5m", "1d", "30d". */
void mc_slo_window_label(int64_t ms, char *buf, size_t size);
/* query with every {{window}} replaced by the window's label. Caller
 * frees. */
char *mc_slo_expand(const char *query, int64_t window_ms);

/* One query's outcome, as evaluate reads it. */
struct mc_slo_answer {
	int answered;		/* an HTTP answer came */
	int kind;		/* enum mc_promapi_kind, when answered */
	double value;
	size_t n_series;
	char msg[256];		/* transport error, or the parser's text */
};

/* The last evaluation with values before an unknown one. */
struct mc_slo_last {
	int found;
	double ts;		/* its evaluation instant */
	char *state;
	double sli, consumed, remaining, worst_burn;	/* NaN: NULL */
	char *burn_rates;	/* JSON object text */
};

struct mc_slo_eval {
	int state;		/* enum mc_status (health.h) */
	double errors[MC_SLO_MAX_WINDOWS];	/* per def->windows; NaN */
	double total[MC_SLO_MAX_WINDOWS];	/* when not known */
	double burn[MC_SLO_MAX_WINDOWS];
	double sli;		/* percent over the SLO window; NaN unknown */
	double sli_ratio;	/* the same as a ratio (not sli / 100) */
	double consumed;	/* share of the budget spent */
	double remaining;	/* 1 - consumed */
	double worst_burn;	/* the largest burn over the burn windows */
	char **alerts;		/* "page: 1h/5m burn > 14.4" */
	size_t n_alerts;
	char **notes;		/* no traffic, min_rate guard */
	size_t n_notes;
	char *error;		/* unknown: why */
	int breaker_failure;	/* the target misbehaved (for its breaker) */
	struct mc_slo_last last;	/* unknown: the last known values */
};

/* Evaluates d from one answer per window (def->windows order) of the
 * error and total queries. Pure: no I/O. */
void mc_slo_evaluate(const struct mc_slo_def *d,
		     const struct mc_slo_answer *err,
		     const struct mc_slo_answer *tot, struct mc_slo_eval *out);
/* As mc_slo_evaluate, for an SLO that could not be asked at all. */
void mc_slo_eval_unknown(struct mc_slo_eval *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void mc_slo_eval_release(struct mc_slo_eval *e);

/* A run: every selected SLO at one instant. */
struct mc_slo_run {
	struct mc_slo_def *defs;	/* owned */
	size_t n;
	struct mc_slo_eval *evals;	/* n of them */
	char *prometheus;		/* base URL (owned) */
	double at;			/* the evaluation instant */
	double started;			/* wall clock */
	double duration_ms;
	size_t n_queries;		/* sent */
	double slowest_ms;		/* the slowest single query */
	int status;			/* worst state, by exit order */
};

/* Asks Prometheus every window of every SLO concurrently on http, all at
 * run->at, and evaluates each. SLOs whose circuit breaker (named "slo
 * NAME", in st; st may be NULL) is open are not asked: unknown (the last
 * known values come from mc_slo_fill_last_known(), slo_store.h). Returns
 * -1 only when nothing could be sent (err). */
int mc_slo_run_queries(struct mc_slo_run *run, struct mc_http *http,
		       struct mc_state *st, const struct mc_deadline *dl,
		       struct mc_err *err);
void mc_slo_run_release(struct mc_slo_run *run);

/* The run's exit status from its SLOs' states: 2 when one is critical,
 * else 1 when one warns, else 3 when one is unknown, else 0. */
int mc_slo_run_status(const struct mc_slo_eval *evals, size_t n);

/* Renderings (slo_report.c): JSON document, text table with the budget
 * as a bar, Prometheus exposition and the Nagios line. prometheus is
 * shown redacted. */
void mc_slo_report(const struct mc_slo_run *run, const char *correlation_id,
		   struct mc_report *r);

/* Prometheus rule groups (slo_rules.c), one per SLO: a recording rule
 * per window and the page and ticket alerts, as YAML into out. */
void mc_slo_rules(const struct mc_slo_def *defs, size_t n, struct mc_buf *out);

#endif
