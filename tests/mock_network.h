/* mock_network.h: test helpers for the lookup (C port of the seed's
 * MockDHTNetwork plus the scripted helpers of its test file).
 *
 * Everything random comes from a dht_rng seeded by the caller, so a failing
 * test reproduces from the seed it prints. Two drivers run a dht_lookup:
 *  - mock_run_sync: a scripted responder answers synchronously, queries in
 *    FIFO order, dht_lookup_next after every answer (the seed's unit tests);
 *  - mock_run_lookup: a seeded network of N nodes in virtual steps with
 *    per-node delays, loss and dead nodes (the seed's network tests). */
#ifndef DHTSIM_TESTS_MOCK_NETWORK_H
#define DHTSIM_TESTS_MOCK_NETWORK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "id.h"
#include "lookup.h"
#include "rng.h"
#include "routing_table.h"

#define MOCK_K DHT_K_DEFAULT /* the seed's K */
#define MOCK_TOKEN_LEN 8

/* ---- small constructors ------------------------------------------------ */

/* a.b.c.d:port */
dht_addr mock_addr(unsigned a, unsigned b, unsigned c, unsigned d, uint16_t port);
/* A node with a random ID at a.b.c.d:port. */
dht_node mock_node_random(dht_rng *r, unsigned a, unsigned b, unsigned c, unsigned d,
                          uint16_t port);
/* The seed's generateMockPeers: 192.168.(i/256).(i%256):51413+i. */
void mock_peers_generate(dht_addr *out, size_t count);
/* "host:port" into a static-free caller buffer of DHT_ADDR_STRLEN. */
const char *mock_addr_str(const dht_addr *a, char buf[DHT_ADDR_STRLEN]);

/* ---- scripted answers (the seed's createMockSendGetPeers) --------------- */

/* A responder: fills *out (storage owned by the responder, valid until its
 * next call) and returns true, or returns false for a failed query (the
 * seed's null result or thrown error). */
typedef bool (*mock_responder)(void *ud, const dht_node *queried, dht_lookup_reply *out);

/* Answers keyed by address; an address not in the table fails, as
 * responses.get(key) ?? null. */
typedef struct mock_table mock_table;
mock_table *mock_table_new(void);
void mock_table_free(mock_table *t);
/* Sets (or replaces) the answer for addr; everything is copied. */
void mock_table_set(mock_table *t, const dht_addr *addr, const uint8_t *token, size_t token_len,
                    const dht_addr *peers, size_t n_peers, const dht_node *nodes, size_t n_nodes);
/* An explicit failure for addr (same as absent, kept for readability). */
void mock_table_set_fail(mock_table *t, const dht_addr *addr);
/* Responder over a mock_table (ud = the table). */
bool mock_table_responder(void *ud, const dht_node *queried, dht_lookup_reply *out);

/* The seed's generateNodeChain(depth, per_level): level d has per_level
 * random nodes at 10.d.0.i:6881; each node of level d answers with all nodes
 * of level d+1 (the last level with none) and a random 8-byte token per level.
 * Writes depth*per_level nodes into levels (level-major) and the answers into t. */
void mock_node_chain(mock_table *t, dht_rng *r, size_t depth, size_t per_level, dht_node *levels);

/* What mock_run_sync saw. */
typedef struct mock_sync_log {
  dht_node *queried; /* every node handed out by dht_lookup_next, in order */
  size_t n_queried, cap_queried;
  size_t first_batch;     /* nodes returned by the first dht_lookup_next */
  unsigned max_in_flight; /* dht_lookup_in_flight observed after every next */
  size_t answers, failures;
} mock_sync_log;

/* Runs l to completion: each issued query is answered by fn in FIFO order
 * and dht_lookup_next is called after every answer or failure. Asserts
 * (Criterion) that every report is accepted and that l ends done.
 * log may be NULL; free it with mock_sync_log_clear. */
void mock_run_sync(dht_lookup *l, mock_responder fn, void *ud, mock_sync_log *log);
void mock_sync_log_clear(mock_sync_log *log);
/* True if log->queried holds an entry at addr. */
bool mock_sync_log_queried(const mock_sync_log *log, const dht_addr *addr);

/* ---- the seeded network (the seed's MockDHTNetwork) -------------------- */

typedef struct mock_plant {
  dht_id infohash;
  dht_addr *peers;
  size_t n_peers;
} mock_plant;

typedef struct mock_node {
  dht_node node;  /* random ID, 10.0.(i/256).(i%256):6881+i */
  dht_rt *rt;     /* K=8, filled with K*4 random other nodes (some may not fit) */
  bool drop_requests; /* dead: every query to it fails */
  unsigned delay;     /* response delay in virtual steps */
  mock_plant *plants; /* peers per infohash (the seed's Map) */
  size_t n_plants;
} mock_node;

typedef struct mock_net {
  mock_node *nodes;
  size_t n_nodes;
  dht_rng rng; /* drops and get_random_node draw from it */
  double drop_rate;
} mock_net;

/* n_nodes in 1..65535-6881 so that ports fit. Aborts on allocation failure. */
mock_net *mock_net_new(size_t n_nodes, uint64_t seed);
void mock_net_free(mock_net *net);
void mock_net_set_drop_rate(mock_net *net, double rate); /* clamped to [0, 1] */
/* Every node's delay uniform in [lo, hi] steps, drawn from the net's rng. */
void mock_net_set_delays(mock_net *net, unsigned lo, unsigned hi);
size_t mock_net_random_node(mock_net *net);
/* Index of the node at addr, or -1. O(1): addresses encode the index. */
long mock_net_find(const mock_net *net, const dht_addr *addr);
/* Indices of the count nodes closest to target (brute force), skipping the
 * node with ID exclude if not NULL. Returns how many were written. */
size_t mock_net_closest(const mock_net *net, const dht_id *target, size_t count,
                        const dht_id *exclude, size_t *out);
/* plantPeers: the count nodes closest to infohash get a copy of peers. */
void mock_net_plant_peers(mock_net *net, const dht_id *infohash, const dht_addr *peers,
                          size_t n_peers, size_t count);

/* Storage behind one get_peers answer. */
typedef struct mock_answer_buf {
  uint8_t token[MOCK_TOKEN_LEN];
  dht_node nodes[MOCK_K];
} mock_answer_buf;

/* createGetPeersHandlerForInfohash without the drop: the answer of node idx
 * to querier for infohash: its peers if it has some (no nodes), else its K
 * closest to infohash minus the querier. The token is a function of (idx,
 * querier), 8 bytes. *out points into buf and the node's plants. */
void mock_net_answer(const mock_net *net, size_t idx, const dht_id *infohash,
                     const dht_id *querier, mock_answer_buf *buf, dht_lookup_reply *out);

typedef struct mock_run_stats {
  uint64_t steps;         /* virtual step at which the lookup was done */
  unsigned max_in_flight; /* most queries in flight at once */
  size_t first_batch;     /* nodes handed out by the first dht_lookup_next */
  size_t queries, answers, failures;
  size_t dup_queries;  /* an address issued twice (must stay 0) */
  size_t self_queries; /* the local node issued (must stay 0) */
} mock_run_stats;

/* Runs a lookup for target from node `start` (seeded with its table's
 * cfg->k closest, local ID = its ID) to completion in virtual steps: a query
 * issued at step s is answered at s + delay of its node, or, if the node is
 * unknown, dead or the query dropped (drawn at issue from the net's rng),
 * reported failed at s + timeout_steps. Events at the same step are
 * delivered in issue order, and dht_lookup_next is called after each.
 * Returns the finished lookup (transfer full) and fills *st (may be NULL). */
dht_lookup *mock_run_lookup(mock_net *net, size_t start, const dht_id *target,
                            const dht_lookup_config *cfg, unsigned timeout_steps,
                            mock_run_stats *st);

#endif
