/* inputs.c: the checks of everything a run reads, before any run starts. */
#include "inputs.h"

#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "budget.h"
#include "error.h"
#include "infile.h"
#include "latency.h"
#include "message.h"
#include "network.h"
#include "sim.h"
#include "workload.h"

/* The loaded network's bytes, counted as sim_network_estimate_bytes counts a
 * generated one: 2 MiB of slack, the per-node arrays and the contacts. */
static uint64_t network_bytes(const sim_network *net) {
  return ((uint64_t)2 << 20) + (uint64_t)SIM_NETWORK_NODE_BYTES * ((uint64_t)net->n + 1) +
         4 * net->contact_off[net->n];
}

uint64_t sim_inputs_estimate(const sim_inputs *in, const sim_scenario *pt, uint64_t lookups) {
  uint64_t b = sim_scenario_estimate_known(pt, lookups, in->topology_bytes, in->file_lookups);
  uint64_t m = pt->latency.model == SIM_LATENCY_MATRIX ? in->matrix_bytes : 0;
  return b > UINT64_MAX - m ? UINT64_MAX : b + m;
}

/* Reads the topology with the smallest K of any point (its bound on contacts
 * per line is the strictest, so the file holds for every point), then its digest. */
static int check_topology(const sim_scenario *sc, unsigned min_k, sim_inputs *in, char *err, size_t errlen) {
  sim_network net;
  int rc = sim_network_load_topology(&net, sc->network.topology, min_k, err, errlen);
  if (rc < 0)
    return rc;
  in->topology_nodes = net.n;
  in->topology_bytes = network_bytes(&net);
  sim_network_clear(&net);
  return 0;
}

/* Reads the lookups file against the smallest network of any point. */
static int check_lookups(const sim_scenario *sc, uint64_t min_nodes, sim_inputs *in, char *err, size_t errlen) {
  sim_lookup_spec *specs = NULL;
  size_t count = 0;
  uint32_t n = in->topology_nodes ? in->topology_nodes : (uint32_t)min_nodes;
  int rc = sim_lookups_load(sc->workload.lookups_file, n, &specs, &count, err, errlen);
  if (rc < 0)
    return rc;
  g_free(specs);
  in->file_lookups = count;
  return 0;
}

int sim_inputs_digests(const sim_scenario *sc, sim_file_digests *d, char *err, size_t errlen) {
  memset(d, 0, sizeof *d);
  for (int i = 0; i < SIM_PARAM_COUNT; i++) {
    const char *path = sim_params[i].type == SIM_PT_PATH ? sim_param_text((sim_param_id)i, sc) : NULL;
    int rc = path != NULL ? sim_infile_sha256(path, d->sha256[i], err, errlen) : 0;
    if (rc < 0)
      return rc;
  }
  return 0;
}

/* "s.yaml: point 3 (network.nodes=1000): 1000 nodes with random tables (K 8)
 * and 1000000 lookups (--lookups) need an estimated ..., more than ...". */
static int over_budget(const sim_scenario *sc, uint64_t p, const sim_scenario *pt, const sim_inputs *in,
                       uint64_t lookups, uint64_t need, uint64_t limit, bool from_env, char *err, size_t errlen) {
  char over[256], nodes[128], work[128], label[512], point[600] = "";
  const char *tables = sim_param_enum_name(SIM_P_NETWORK_TABLES, (int)pt->network.tables);
  sim_memory_over(over, sizeof over, need, true, limit, from_env);
  if (pt->network.topology != NULL)
    snprintf(nodes, sizeof nodes, "%" PRIu32 " nodes (the topology file)", in->topology_nodes);
  else
    snprintf(nodes, sizeof nodes, "%" PRIu64 " nodes with %s tables (K %u)", pt->network.nodes, tables, pt->lookup.k);
  if (pt->workload.lookups_file != NULL)
    snprintf(work, sizeof work, "%" PRIu64 " lookups (the lookups file)", in->file_lookups);
  else if (lookups > 0)
    snprintf(work, sizeof work, "%" PRIu64 " lookups (--lookups)", lookups);
  else
    snprintf(work, sizeof work, "%" PRIu64 " lookups", pt->workload.lookups);
  if (sc->n_sweep > 0 && sim_scenario_point_label(sc, p, label, sizeof label) >= 0)
    snprintf(point, sizeof point, "point %" PRIu64 " (%s): ", p, label);
  if (pt->latency.model == SIM_LATENCY_MATRIX && in->matrix_bytes > 0) {
    char mb[32];
    sim_format_bytes(mb, sizeof mb, in->matrix_bytes);
    return sim_fail(err, errlen, DHT_ETOOBIG, "%s: %s%s, %s and the latency.matrix (%s) %s", sc->path, point, nodes,
                    work, mb, over);
  }
  return sim_fail(err, errlen, DHT_ETOOBIG, "%s: %s%s and %s %s", sc->path, point, nodes, work, over);
}

int sim_inputs_check(const sim_scenario *sc, uint64_t lookups, sim_inputs *in, char *err, size_t errlen) {
  uint64_t points = sim_scenario_point_count(sc), min_nodes = UINT64_MAX, limit;
  unsigned min_k = DHT_K_MAX;
  bool from_env,
      files = sc->network.topology != NULL || sc->workload.lookups_file != NULL || sc->latency.matrix != NULL;
  char msg[256];
  sim_scenario pt;
  int rc;

  memset(in, 0, sizeof *in);
  /* Every point first: its own checks, and the smallest K and network. */
  for (uint64_t p = 0; p < points; p++) {
    if ((p & 1023) == 1023 && sim_infile_stopped())
      return sim_infile_stopped_fail(sc->path, err, errlen);
    if ((rc = sim_scenario_point(sc, p, &pt, err, errlen)) < 0)
      return rc;
    min_k = MIN(min_k, pt.lookup.k);
    min_nodes = MIN(min_nodes, pt.network.nodes);
  }
  if (sc->network.topology != NULL && (rc = check_topology(sc, min_k, in, err, errlen)) < 0)
    return rc;
  if (sc->workload.lookups_file != NULL && (rc = check_lookups(sc, min_nodes, in, err, errlen)) < 0)
    return rc;
  if (sc->latency.matrix != NULL) { /* read whole, as a run reads it, with the run's messages */
    sim_matrix mx;
    if ((rc = sim_matrix_load(&mx, sc->latency.matrix, err, errlen)) < 0)
      return rc;
    in->matrix_bytes = ((uint64_t)mx.m * mx.m + mx.m) * sizeof(float);
    sim_matrix_clear(&mx);
  }
  if ((rc = sim_inputs_digests(sc, &in->digests, err, errlen)) < 0)
    return rc;
  if ((rc = sim_memory_limit(&limit, &from_env, msg, sizeof msg)) < 0)
    return sim_fail(err, errlen, rc, "%s", msg);

  for (uint64_t p = 0; p < points; p++) {
    if ((p & 1023) == 1023 && sim_infile_stopped())
      return sim_infile_stopped_fail(sc->path, err, errlen);
    if ((rc = sim_scenario_point(sc, p, &pt, err, errlen)) < 0)
      return rc;
    /* Without files or --lookups, the scenario's own check (at parse time)
     * counted exactly this, with its messages. */
    if (files || lookups > 0) {
      uint64_t need = sim_inputs_estimate(in, &pt, lookups);
      if (need > limit)
        return over_budget(sc, p, &pt, in, lookups, need, limit, from_env, err, errlen);
    }
    uint32_t n = pt.network.topology != NULL ? in->topology_nodes : (uint32_t)pt.network.nodes;
    for (uint32_t r = 0; r < sc->replicas && sim_all_dead_possible(&pt, n); r++)
      if ((rc = sim_check_live(&pt, sim_scenario_run_seed(sc, p, r), n, err, errlen)) < 0)
        return rc;
  }
  return 0;
}
