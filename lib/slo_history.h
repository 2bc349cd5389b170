/*
 * slo_history.h - `slo history`: remaining budget, worst burn rate and
 * state of one SLO over time as sparklines, text or JSON, read from the
 * evaluations slo_store.c keeps (table slo_results, schema 3).
 *
 * Ownership as in mc.h: what a function fills belongs to the caller and is
 * released with the matching _clean().
 */
#ifndef MC_SLO_HISTORY_H
#define MC_SLO_HISTORY_H

#include <stddef.h>
#include <stdint.h>
#include "mc.h"
#include "output.h"
#include "state.h"

struct mc_slo_history {
	char *slo;
	double start, end;	/* the span drawn */
	size_t samples;		/* evaluations in it */
	size_t width;		/* cells */
	double *remaining;	/* per cell: the lowest remaining budget of its
				   evaluations; NaN: none */
	double *burn;		/* per cell: the highest worst burn rate */
	int *states;		/* per cell: the worst state; -1 none */
	double min_remaining;	/* over the span; NaN when none */
	double max_burn;
	size_t transitions;	/* state changes between evaluations */
	/* The newest evaluation (samples > 0). */
	double last_ts;
	int last_state;
	double last_sli, last_remaining, last_burn;	/* NaN: unknown */
	char *last_message;
};

/* The evaluations of slo with since <= ts <= now (since 0: all kept), cut
 * into width cells over [since, now] (since 0: from the oldest one). One
 * query; rows are streamed, so memory grows with width, not with the
 * number of evaluations. */
int mc_slo_history(struct mc_state *st, const char *slo, double since,
		   double now, size_t width, struct mc_slo_history *out,
		   struct mc_err *err);
void mc_slo_history_release(struct mc_slo_history *h);

/* Fills r:
 *   doc:  {"slo", "since": RFC 3339 | null, "until", "evaluations",
 *          "transitions", "min_budget_remaining", "max_worst_burn",
 *          "current": {"ts", "state", "sli", "budget_remaining",
 *                      "worst_burn", "message"} | null,
 *          "cells": [{"start", "budget_remaining", "worst_burn",
 *                     "state"}], "sparklines": {"budget_remaining",
 *          "worst_burn", "state"}}
 *   text: three sparklines with their scales, and the current values. */
void mc_slo_history_report(const struct mc_slo_history *h, double since,
			   double now, struct mc_report *r);

#endif
