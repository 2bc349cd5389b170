/*
 * slo_store.h - SLO evaluations in the state file (table slo_results,
 * schema 3): every evaluation recorded, and the last known values for an
 * evaluation that came back unknown.
 */
#ifndef MC_SLO_STORE_H
#define MC_SLO_STORE_H

#include <stdint.h>
#include "mc.h"
#include "slo.h"
#include "state.h"

/* Appends one row per SLO of the run under run_id (one transaction):
 * ts the evaluation instant, recorded the wall clock, values NULL where
 * unknown, burn_rates a JSON object of the burn windows, message the
 * error, or the alerts and notes. */
int mc_slo_record(struct mc_state *st, int64_t run_id,
		  const struct mc_slo_run *run, struct mc_err *err);

/* Gives every unknown evaluation of run the last known values of its SLO
 * (evaluated at or before run->at); a failed lookup is logged, not fatal. */
void mc_slo_fill_last_known(struct mc_state *st, struct mc_slo_run *run);

/* The newest evaluation of slo that was not unknown, evaluated at or
 * before `before`: out->found 0 when there is none. */
int mc_slo_last_known(struct mc_state *st, const char *slo, double before,
		      struct mc_slo_last *out, struct mc_err *err);

#endif
