/* maintain.h: routing tables that change during a run
 * (network.maintenance: passive, docs/churn.md): a node's table is
 * materialised, from its generated one, the first time it changes, into a
 * flat pool (sim_network's mslot / mpool: one uint32 slot index per node, no
 * heap object per node), and then follows the BEP 5 bucket rules of core/'s
 * dht_rt: a node seen is added to its bucket if there is room, the own
 * (last) bucket splits when full, a full other bucket drops it; a contact
 * that failed DHT_RT_BAD_FAILURES queries in a row is evicted, so the next
 * node offered to its bucket replaces it. Cost per event O(table) ID reads. */
#ifndef SIM_MAINTAIN_H
#define SIM_MAINTAIN_H

#include <stdint.h>

#include "network.h"

/* Prepares net for materialised tables (every mslot SIM_NET_NO_SLOT). 0 or DHT_ENOMEM. */
int sim_maint_init(sim_network *net);
/* owner saw node (a query from it, or its answer): node is refreshed
 * (failures reset) or offered to owner's table. 0 or DHT_ENOMEM. */
int sim_maint_seen(sim_network *net, uint32_t owner, uint32_t node);
/* A query of owner to node failed: when node is in owner's table, one more
 * failure; at DHT_RT_BAD_FAILURES it is evicted. 0 or DHT_ENOMEM. */
int sim_maint_failed(sim_network *net, uint32_t owner, uint32_t node);

#endif
