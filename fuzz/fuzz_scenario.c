/* fuzz_scenario: the scenario parser (sim_scenario_parse) on arbitrary bytes.
 *
 * A parse either fails with a one-line message and nothing allocated, or gives
 * a scenario whose sweep points are walked: point 0, the last, the middle and
 * one chosen by the input; each point must validate or fail with a message,
 * and its label and run seeds are computed. sim_scenario_clear frees it all
 * (LeakSanitizer checks). The memory estimate runs under a 256 MiB
 * DHTSIM_MEMORY_LIMIT. */
#include <string.h>

#include "error.h"
#include "fuzz_common.h"
#include "routing_table.h"
#include "scenario.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  fuzz_setup();
  return 0;
}

static bool one_line(const char *s) { return s[0] != '\0' && strchr(s, '\n') == NULL; }

static void check_point(const sim_scenario *sc, uint64_t index) {
  sim_scenario pt;
  char err[1024], label[1024], small[6];
  int rc, n, n2;

  memset(err, 0, sizeof err);
  rc = sim_scenario_point(sc, index, &pt, err, sizeof err);
  if (rc < 0) {
    FUZZ_CHECK(one_line(err));
  } else {
    FUZZ_CHECK(pt.sweep == NULL && pt.n_sweep == 0);
    FUZZ_CHECK(pt.network.topology != NULL || (pt.network.nodes >= 2 && pt.network.nodes <= SIM_NODES_MAX));
    FUZZ_CHECK(pt.lookup.alpha >= 1 && pt.lookup.alpha <= DHT_ALPHA_MAX);
    FUZZ_CHECK(pt.lookup.k >= 1 && pt.lookup.k <= DHT_K_MAX);
    FUZZ_CHECK(pt.lookup.timeout_us > 0);
    FUZZ_CHECK(pt.latency.min_us <= pt.latency.max_us);
    FUZZ_CHECK(pt.loss.request_drop >= 0 && pt.loss.request_drop <= 1);
    FUZZ_CHECK(pt.loss.response_drop >= 0 && pt.loss.response_drop <= 1);
    FUZZ_CHECK(pt.loss.dead_fraction >= 0 && pt.loss.dead_fraction < 1);
    FUZZ_CHECK(pt.workload.plant_at >= 1);
  }

  n = sim_scenario_point_label(sc, index, label, sizeof label);
  if (n >= 0) {
    FUZZ_CHECK((size_t)n == strlen(label));
    FUZZ_CHECK((sc->n_sweep == 0) == (n == 0));
  }
  n2 = sim_scenario_point_label(sc, index, small, sizeof small);
  if (n >= 0 && (size_t)n < sizeof small)
    FUZZ_CHECK(n2 == n && strcmp(small, label) == 0);
  else
    FUZZ_CHECK(n2 == DHT_ERANGE);

  if (sc->n_sweep == 0 && index == 0)
    FUZZ_CHECK(sim_scenario_run_seed(sc, 0, 0) == sc->seed);
  (void)sim_scenario_run_seed(sc, index, sc->replicas - 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sim_scenario sc;
  char err[1024];
  /* Now and then a tiny message buffer, to exercise truncation. */
  size_t errlen = size % 7 == 3 ? 17 : sizeof err;
  uint64_t points, picks[4];
  int rc;

  memset(err, 0, sizeof err);
  rc = sim_scenario_parse(&sc, "fuzz/s.yaml", (const char *)data, size, err, errlen);
  if (rc < 0) {
    FUZZ_CHECK(rc == DHT_EINVAL || rc == DHT_ETOOBIG || rc == DHT_ENOMEM || rc == DHT_ENOENT);
    FUZZ_CHECK(errlen < sizeof err || one_line(err));
    FUZZ_CHECK(strlen(err) < errlen);
    FUZZ_CHECK(sc.name == NULL && sc.path == NULL && sc.sweep == NULL && sc.n_sweep == 0);
    FUZZ_CHECK(sc.network.topology == NULL && sc.workload.lookups_file == NULL);
    return 0;
  }
  FUZZ_CHECK(rc == 0);
  FUZZ_CHECK(sc.name != NULL && sc.replicas >= 1 && sc.replicas <= 10000);
  points = sim_scenario_point_count(&sc);
  FUZZ_CHECK(points >= 1 && points <= SIM_POINTS_MAX);
  FUZZ_CHECK((sc.n_sweep == 0) == (sc.sweep == NULL));
  for (size_t i = 0; i < sc.n_sweep; i++)
    FUZZ_CHECK(sc.sweep[i].key != NULL && sc.sweep[i].n >= 1 && sc.sweep[i].values != NULL);

  picks[0] = 0;
  picks[1] = points - 1;
  picks[2] = points / 2;
  picks[3] = size > 0 ? ((uint64_t)data[size - 1] * 2654435761u + size) % points : 0;
  for (size_t i = 0; i < 4; i++)
    check_point(&sc, picks[i]);

  sim_scenario_clear(&sc);
  FUZZ_CHECK(sc.name == NULL && sc.sweep == NULL);
  return 0;
}
