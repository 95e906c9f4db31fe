/* network.h: the simulated network: N node IDs, their (label-only) addresses, an
 * ID-sorted index (by_id, its 64-bit prefixes skey and a prefix directory dir)
 * and routing tables obeying the BEP 5 bucket rules of core/. Built from the
 * scenario seed, or loaded from a `dhtsim-topology v1` file.
 *
 * Two layouts of the tables:
 * - materialised (contacts != NULL): CSR, flat arrays of node indices. Loaded
 *   topologies, sim_network_generate (the reference build).
 *   Memory: SIM_NETWORK_NODE_BYTES + 4 per contact per node.
 * - on demand (contacts == NULL): sim_network_generate_ondemand, both kinds.
 *   A node's table is a pure function of the sorted IDs, the seed and the node
 *   (its sampler is seeded from the seed and the node index), so it is drawn
 *   when the node answers and never stored: SIM_NETWORK_ONDEMAND_NODE_BYTES per
 *   node, whatever K. Tables that change during a run (churn) will need the
 *   materialised layout for the nodes they change; closest() already takes
 *   either. */
#ifndef SIM_NETWORK_H
#define SIM_NETWORK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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
  SIM_NODE_UNREACHABLE = 1 << 2, /* behind a NAT: runs lookups, is in tables, but no query reaches it */
  SIM_NODE_OFFLINE = 1 << 4, /* churn: offline now, answers nothing (sim/churn.h) */
  SIM_NODE_RETIRED = 1 << 5, /* churn.rejoin new: an identity that left for good (with OFFLINE; sim/rejoin.h) */
};

/* Generated node i is at 10.(i>>16 & 255).(i>>8 & 255).(i & 255), port
 * 6881 + (i >> 24): the 2^24 nodes of the old layout keep their addresses, and
 * 2^28 nodes need ports up to 6896. */
#define SIM_NODES_MAX 268435456u
#define SIM_NET_PORT 6881u
/* Most contacts one node may have: 160 buckets of K (its own bucket included). */
#define SIM_CONTACTS_MAX(k) ((size_t)DHT_ID_BITS * (k))
/* Bytes per node of the arrays of sim_network_alloc_nodes: ids 20, addrs 20,
 * by_addr 4, by_id 4, skey 8, flags 1, contact_off 8, and a bound of 1 for dir;
 * plus own_bucket 1 (sim_network_bucket_order) (checked in network.c). */
#define SIM_NETWORK_NODE_BYTES 67u
/* The same for on-demand tables: no by_addr (a generated address names its
 * node), no contact_off: ids 20, addrs 20, by_id 4, skey 8, flags 1, dir 1. */
#define SIM_NETWORK_ONDEMAND_NODE_BYTES 54u
/* Bytes per node of the scratch sim_network_index holds at its peak (the
 * address sort; the ID sort needs none). */
#define SIM_NETWORK_INDEX_BYTES 32u

/* Scratch of the on-demand tables (network.c); one thread per network. */
typedef struct sim_net_scratch sim_net_scratch;

typedef struct sim_network {
  uint32_t n;          /* nodes */
  unsigned k;          /* bucket size used to build the tables */
  dht_id *ids;         /* [n] */
  dht_addr *addrs;     /* [n] */
  uint32_t *by_addr;   /* [n] node indices sorted by address, or NULL (generated: the address names the node) */
  uint32_t *by_id;     /* [n] node indices sorted by ID ("positions" p = 0..n-1 are ranks in this order) */
  uint64_t *skey;      /* [n] skey[p] = the first 64 bits of ids[by_id[p]] (big-endian): ascending */
  uint32_t *dir;       /* [2^dir_bits + 1] dir[j] = first position whose ID's top dir_bits bits are >= j */
  unsigned dir_bits;   /* floor(log2 n) - 2 (0 below 8 nodes): n/4 cells, 4 nodes each on average */
  uint64_t *contact_off; /* [n+1]: node i's contacts are contacts[contact_off[i] .. contact_off[i+1]) */
  uint32_t *contacts;  /* node indices; NULL: tables on demand */
  uint8_t *own_bucket; /* [n] or NULL: contacts in bucket order (sim_network_bucket_order), node i's own bucket */
  uint8_t *flags;      /* [n] SIM_NODE_* bits; set by the driver */
  uint64_t tseed;      /* on demand: the tables' seed stream */
  /* On demand, restricted to the present nodes (sim_network_restrict_tables;
   * all NULL otherwise): urank[p] = present nodes at by_id positions < p
   * ([n+1]); upos: their positions in by_id order, unode (random tables):
   * their node indices ascending ([n_present] each). */
  uint32_t *urank, *upos, *unode;
  uint32_t n_present;
  /* Tables that changed during the run (network.maintenance, sim/maintain.c):
   * node i's is slot mslot[i] of a flat pool (SIM_NET_NO_SLOT: none, its
   * generated table stands), contacts mpool[s mcap ..] (node indices, mlen[s]
   * of them), their consecutive failures mfail[s mcap ..], the bits each
   * shares with the node mcpl[s mcap ..] (kept so that neither an offer nor
   * an answer reads the contacts' IDs, random loads at 10^6 nodes: only the
   * bucket an answer comes from is read), its own (last) bucket mdepth[s].
   * All NULL without maintenance. */
  uint32_t *mslot;
  uint32_t *mpool;
  uint8_t *mfail;
  uint8_t *mcpl;
  uint16_t *mlen;
  uint8_t *mdepth;
  /* bep5 only (NULL otherwise): mseen[s mcap + j] = the virtual second (since
   * t = 0) of contact j's last activity: added, answered, or queried us; a
   * generated contact counts as seen at 0, when its table was built. */
  uint32_t *mseen;
  bool mtimes;                 /* mseen kept (bep5) */
  uint64_t madded;             /* contacts added to materialised tables (a materialisation's copy not counted) */
  uint32_t mslots, mslots_cap; /* slots used, allocated */
  uint32_t mcap;               /* contacts a slot holds */
  uint32_t *mbuf;              /* scratch of sim/maintain.c and closest_slot: [SIM_CONTACTS_MAX(k) + 1] words, then as many bytes */
  sim_net_scratch *scratch; /* on demand: sampler and positions */
} sim_network;

/* Generated network: node i has address 10.x.y.z:port as above, IDs drawn
 * from seed, tables built for every node (the reference layout; what
 * export-topology writes). Returns 0, DHT_EINVAL (n == 0, n > SIM_NODES_MAX, k
 * out of range) or DHT_ENOMEM (nothing left allocated). */
int sim_network_generate(sim_network *net, uint32_t n, unsigned k, sim_tables_kind kind, uint64_t seed);
/* The same network, but its tables are drawn on demand (contacts == NULL):
 * every query answers exactly as on the network of sim_network_generate.
 * Same return codes. */
int sim_network_generate_ondemand(sim_network *net, uint32_t n, unsigned k, sim_tables_kind kind, uint64_t seed);
void sim_network_clear(sim_network *net);

#define SIM_NET_NO_SLOT UINT32_MAX

/* The first j in [from, len) with p[j] == v, or len (from <= len): memchr over the bytes
 * (vector code). Walks the contacts of a changed table (mcpl) that share v
 * bits with its node: `for (j = next(p, 0, ..); j < len; j = next(p, j + 1, ..))`. */
static inline size_t sim_network_next_byte(const uint8_t *p, size_t from, size_t len, unsigned v) {
  const uint8_t *hit = memchr(p + from, (int)v, len - from); /* from <= len: none when equal */
  return hit != NULL ? (size_t)(hit - p) : len;
}

/* Node `node`'s routing table, in the order sim_network_generate stores it
 * (buckets 0, 1, ... then its own), or its materialised one when it changed
 * (sim/maintain.c; its own order): writes up to SIM_CONTACTS_MAX(k) node
 * indices into out, returns how many. O(contacts) plus, on demand, the draws. */
size_t sim_network_table(const sim_network *net, uint32_t node, uint32_t *out);
/* Restricts the on-demand tables to the nodes whose flags do not intersect
 * absent_flags now (churn: the nodes online at t = 0): from then on every
 * table, as sim_network_table and sim_network_closest draw it, is the one its
 * node would have in the network of only those nodes (full: min(K, present
 * nodes) per bucket range; random: 4K random present others), still a pure
 * function of the IDs, the seed, the node and the present set. Never called
 * without churn, so a network without it is unchanged. On-demand networks
 * only (DHT_EINVAL otherwise); 0 or DHT_ENOMEM (unchanged). O(n), 4 bytes per
 * node plus 4 per present node (8 for random tables). */
int sim_network_restrict_tables(sim_network *net, uint8_t absent_flags);
/* Debug walker of the index: by_id sorted, skey and dir agree with it, the
 * on-demand scratch present iff contacts is NULL. O(n); for assert() and tests. */
bool sim_network_check(const sim_network *net);

/* For loaders of other networks (topology.c). Allocates every per-node array
 * of an n-node network (contacts excepted) into a zeroed net and sets net->n;
 * 0 or DHT_ENOMEM, which leaves partial arrays for sim_network_clear. */
int sim_network_alloc_nodes(sim_network *net, uint32_t n);
/* Fills by_id, skey, dir and (if allocated) by_addr from ids and addrs. 0 or DHT_ENOMEM. */
int sim_network_index(sim_network *net);
/* Puts every node's materialised contacts into bucket order, for
 * sim_network_closest to read only the buckets that matter. With c(y) the
 * bits contact y shares with the node, the node's own bucket B is the smallest
 * B such that at most K contacts have c >= B (a BEP 5 table: its last bucket),
 * and the contacts are stably sorted by min(c, B): buckets 0..B-1, each of
 * one shared length, then the own bucket. A table already in that order (every
 * generated or exported BEP 5 table) is left as it is, so its export is
 * unchanged. Sets own_bucket. O(contacts) ID reads; scratch of one table.
 * 0 or DHT_ENOMEM (contacts unchanged). */
int sim_network_bucket_order(sim_network *net);

/* Node `node`'s answer set: up to count of its contacts closest to target, sorted
 * by XOR distance (ties cannot happen: IDs are unique). Returns how many.
 * Materialised: O(c) ID reads, c = its contacts (loaded topologies in bucket
 * order: the matching bucket and the deeper ones). On demand, full tables: the
 * buckets are drawn in order up to the one matching the target's shared prefix
 * p; when it holds count nodes they are the answer (count ID reads, the common
 * case), else the whole table is drawn and its buckets read in distance order.
 * Random tables: the 4K offers are drawn and inserted (4K ID reads). */
size_t sim_network_closest(const sim_network *net, uint32_t node, const dht_id *target, uint32_t *out,
                           size_t count);
/* Up to count of the nodes cs[0..c) closest to target, sorted by distance,
 * into out (as sim_network_closest selects; for sim/maintain.c's tables). */
size_t sim_network_select(const sim_network *net, const dht_id *target, const uint32_t *cs, size_t c, uint32_t *out,
                          size_t count);
/* Up to count nodes of the whole network closest to target, skipping nodes whose
 * flags intersect skip_flags; sorted by distance. O(count * 160 + log n). */
size_t sim_network_true_closest(const sim_network *net, const dht_id *target, uint8_t skip_flags, uint32_t *out,
                                size_t count);
/* Generated node i's address: 10.x.y.z with x.y.z the low 24 bits of i, port
 * SIM_NET_PORT + (i >> 24). */
void sim_network_node_addr(dht_addr *a, uint32_t i);
/* Node i's address into *out: computed from i for a generated network (by_addr
 * NULL: the address names the node), so an answer's contacts cost no load of
 * addrs[] (a cache miss each at 10^6 nodes); else addrs[i]. */
static inline void sim_network_addr(const sim_network *net, uint32_t i, dht_addr *out) {
  if (net->by_addr == NULL)
    sim_network_node_addr(out, i);
  else
    *out = net->addrs[i];
}
/* Index of the node at addr, or DHT_ENOENT. */
int sim_network_find_addr(const sim_network *net, const dht_addr *addr, uint32_t *idx);

/* Bytes a network of n nodes with these tables, as sim_network_generate_ondemand
 * (what a run builds) lays them out, will need at peak while building
 * (estimate, used to refuse scenarios before allocating). */
uint64_t sim_network_estimate_bytes(uint64_t n, unsigned k, sim_tables_kind kind);
/* The same for either layout (ondemand false: sim_network_generate's). */
uint64_t sim_network_estimate_bytes_layout(uint64_t n, unsigned k, sim_tables_kind kind, bool ondemand);

#endif
