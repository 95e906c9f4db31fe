/* rejoin.h: churn.rejoin: new (issue #14, docs/churn.md): a returning node
 * comes back as a new identity. The network is built with `spares` extra
 * nodes (indices n .. n + spares - 1, IDs and addresses drawn like any
 * node's, in the sorted ID index), all offline from t = 0 and so in nobody's
 * table; a return claims the next one, the old identity stays offline. */
#ifndef SIM_REJOIN_H
#define SIM_REJOIN_H

#include <stdint.h>

#include "network.h"
#include "scenario.h"

/* The spare identities a run of sc with `lookups` workload lookups builds:
 * 0 unless churn is on with rejoin new; churn.spares when given; else, with
 * E = the expected returns over the run's horizon H (n H / (E[S] + E[D])
 * plus the nodes offline at t = 0), ceil(1.25 E + 6 sqrt(E)) + 64, at most
 * SIM_NODES_MAX - n. H: the warm-up, then lookups / rate_per_s (poisson) or
 * 60 virtual s a lookup (sequential), the latest event and 600 s more. */
uint64_t sim_rejoin_spares(const sim_scenario *sc, uint64_t lookups);
/* The run's horizon above, in virtual seconds. */
double sim_rejoin_horizon_s(const sim_scenario *sc, uint64_t lookups);

/* A new identity's table: empty (BEP 5: a node starting with nothing but
 * its bootstrap contact), materialised through sim/maintain.c (which owns
 * the slots: a first offer to `other`, any node but `node`, materialises the
 * generated table) and then emptied through the documented slot layout
 * (network.h: mlen, mdepth); madded does not count it. With maintenance
 * only (net->mslot set). 0 or DHT_ENOMEM. */
int sim_rejoin_empty_table(sim_network *net, uint32_t node, uint32_t other);

#endif
