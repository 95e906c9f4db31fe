/* rejoin.c: the spare identities of churn.rejoin: new (rejoin.h). */
#include "rejoin.h"

#include <math.h>

#include "churn.h"
#include "error.h"
#include "maintain.h"

double sim_rejoin_horizon_s(const sim_scenario *sc, uint64_t lookups) {
  double h = sc->churn.warmup_s;
  /* Sequential lookups: 60 s each, an assumption (measured: 9 s with rejoin
   * same, 19 to 27 s with new, at 2000 nodes and 1800 s downtimes: stale
   * contacts time out); a run that outlasts it fails, naming churn.spares. */
  h += sc->workload.arrival == SIM_ARRIVAL_POISSON ? (double)lookups / sc->workload.rate_per_s : 60.0 * (double)lookups;
  for (size_t i = 0; i < sc->n_events; i++)
    if ((double)sc->events[i].at_us / 1e6 > h)
      h = (double)sc->events[i].at_us / 1e6;
  return h + 600.0;
}

uint64_t sim_rejoin_spares(const sim_scenario *sc, uint64_t lookups) {
  uint64_t n = sc->network.nodes, room = n < SIM_NODES_MAX ? SIM_NODES_MAX - n : 0;
  if (!sim_churn_enabled(sc) || sc->churn.rejoin != SIM_REJOIN_NEW)
    return 0;
  if (sc->churn.spares > 0)
    return sc->churn.spares;
  /* Per node, a stationary alternating renewal process returns 1 / (E[S] +
   * E[D]) times a second (a Pareto shape is > 1: finite means); the nodes
   * offline at t = 0 are added once more as a margin for the start `all`
   * (fresh sessions, heavy tails: more early returns than the stationary rate). */
  double ms = sim_churn_mean_s(&sc->churn.session), md = sim_churn_mean_s(&sc->churn.downtime);
  double off = md / (ms + md); /* the stationary share offline at t = 0 (all: none; kept as the margin) */
  double e = (double)n * (sim_rejoin_horizon_s(sc, lookups) / (ms + md) + off);
  double s = ceil(1.25 * e + 6.0 * sqrt(e)) + 64.0;
  return !(s < (double)room) ? room : (uint64_t)s;
}

int sim_rejoin_empty_table(sim_network *net, uint32_t node, uint32_t other) {
  uint64_t added = net->madded;
  int rc = sim_maint_seen(net, node, other);
  if (rc < 0)
    return rc;
  uint32_t s = net->mslot[node];
  net->mlen[s] = 0;   /* no contact: the bootstrap's answers fill it */
  net->mdepth[s] = 0; /* one bucket, the whole ID space: it splits as contacts come */
  net->madded = added;
  return DHT_OK;
}
