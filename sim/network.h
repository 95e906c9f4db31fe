/* network.h: the simulated network: N node IDs, their (label-only) addresses and
 * compact routing tables (CSR: flat arrays of node indices) obeying the BEP 5
 * bucket rules of core/. Built from the scenario seed, or loaded from a
 * `dhtsim-topology v1` file. Memory: 57 + 4 * contacts bytes per node (ids 20, addrs 20,
 * by_id 4, by_addr 4, flags 1, offsets 8, contacts 4 each). */
#ifndef SIM_NETWORK_H
#define SIM_NETWORK_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "id.h"
/* The file format's functions are declared with the network's: every caller
 * that builds networks can also load and export them without a second include. */
#include "topology.h"

typedef enum sim_tables_kind {
  SIM_TABLES_RANDOM = 0, /* each node learns 4*K random others (the seed's MockDHTNetwork) */
  SIM_TABLES_FULL = 1,   /* each node knows up to K nodes of every bucket range */
} sim_tables_kind;

enum {
  SIM_NODE_DEAD = 1 << 0, /* never answers */
  SIM_NODE_SLOW = 1 << 1, /* latency multiplied by the scenario's slow_multiplier */
};

#define SIM_NODES_MAX 16777216u /* addresses 10.x.y.z give 2^24 distinct labels */
/* Most contacts one node may have: 160 buckets of K (its own bucket included). */
#define SIM_CONTACTS_MAX(k) ((size_t)DHT_ID_BITS * (k))
/* Bytes per node of the arrays of sim_network_alloc_nodes: ids 20, addrs 20,
 * by_addr 4, by_id 4, flags 1, contact_off 8 (checked in network.c). */
#define SIM_NETWORK_NODE_BYTES 57u
/* Bytes per node of the scratch sim_network_index holds at its peak. */
#define SIM_NETWORK_INDEX_BYTES 32u

typedef struct sim_network {
  uint32_t n;          /* nodes */
  unsigned k;          /* bucket size used to build the tables */
  dht_id *ids;         /* [n] */
  dht_addr *addrs;     /* [n] */
  uint32_t *by_addr;   /* [n] node indices sorted by address: O(log n) reverse lookup */
  uint32_t *by_id;     /* [n] node indices sorted by ID: true closest in O(K * 160) */
  uint64_t *contact_off; /* [n+1]: node i's contacts are contacts[contact_off[i] .. contact_off[i+1]) */
  uint32_t *contacts;  /* node indices */
  uint8_t *flags;      /* [n] SIM_NODE_* bits; set by the driver */
} sim_network;

/* Generated network: node i has address 10.(i>>16).(i>>8 & 255).(i & 255):6881,
 * IDs drawn from seed. Returns 0, DHT_EINVAL (n == 0, n > SIM_NODES_MAX, k out of range) or DHT_ENOMEM
 * (nothing left allocated). */
int sim_network_generate(sim_network *net, uint32_t n, unsigned k, sim_tables_kind kind, uint64_t seed);
void sim_network_clear(sim_network *net);

/* For loaders of other networks (topology.c). Allocates every per-node array
 * of an n-node network (contacts excepted) into a zeroed net and sets net->n;
 * 0 or DHT_ENOMEM, which leaves partial arrays for sim_network_clear. */
int sim_network_alloc_nodes(sim_network *net, uint32_t n);
/* Fills by_id and by_addr from ids and addrs. 0 or DHT_ENOMEM. */
int sim_network_index(sim_network *net);

/* Node `node`'s answer set: up to count of its contacts closest to target, sorted
 * by XOR distance (ties cannot happen: IDs are unique). Returns how many. O(c log c), c = its contacts. */
size_t sim_network_closest(const sim_network *net, uint32_t node, const dht_id *target, uint32_t *out,
                           size_t count);
/* Up to count nodes of the whole network closest to target, skipping nodes whose
 * flags intersect skip_flags; sorted by distance. O(count * 160 + log n). */
size_t sim_network_true_closest(const sim_network *net, const dht_id *target, uint8_t skip_flags, uint32_t *out,
                                size_t count);
/* Index of the node at addr, or DHT_ENOENT. */
int sim_network_find_addr(const sim_network *net, const dht_addr *addr, uint32_t *idx);

/* Bytes a network of n nodes with these tables will need at peak while building
 * (estimate, used to refuse scenarios before allocating). */
uint64_t sim_network_estimate_bytes(uint64_t n, unsigned k, sim_tables_kind kind);

#endif
