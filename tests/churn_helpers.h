/* churn_helpers.h: the churn scenario and the run that tests/test_churn.c and
 * tests/test_rejoin.c share. */
#ifndef TESTS_CHURN_HELPERS_H
#define TESTS_CHURN_HELPERS_H

#include <stdint.h>

#include "scenario.h"
#include "sim.h"

/* Defaults plus full tables, 200 lookups and exponential churn (sessions of
 * mean 3600 s, downtimes of 1800 s: 2/3 online), the given warm-up; path
 * (error messages name it) and name as given. */
void churn_test_scenario(sim_scenario *sc, const char *path, uint32_t nodes, double warmup_s);
/* sim_run that must succeed (its error message otherwise). */
void churn_test_run_ok(const sim_scenario *sc, sim_results *res);

#endif
