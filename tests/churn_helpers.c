/* churn_helpers.c: see churn_helpers.h. */
#include "churn_helpers.h"

#include <criterion/criterion.h>
#include "criterion_assert.h"

void churn_test_scenario(sim_scenario *sc, const char *path, uint32_t nodes, double warmup_s) {
  sim_scenario_defaults(sc);
  sc->path = (char *)path;
  sc->name = (char *)"churn";
  sc->network.nodes = nodes;
  sc->network.tables = SIM_TABLES_FULL;
  sc->workload.lookups = 200;
  sc->churn.session = (sim_churn_dist){.model = SIM_CHURN_EXPONENTIAL, .mean_s = 3600, .shape = 0.5,
                                       .scale_s = 3600, .median_s = 3600, .sigma = 1, .min_s = 600};
  sc->churn.downtime = sc->churn.session;
  sc->churn.downtime.mean_s = 1800;
  sc->churn.warmup_s = warmup_s;
}

void churn_test_run_ok(const sim_scenario *sc, sim_results *res) {
  char err[512] = "";
  cr_assert(eq(int, sim_run(sc, NULL, res, err, sizeof err), 0), "%s", err);
}
