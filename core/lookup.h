/* lookup.h: the iterative get_peers lookup (BEP 5 / Kademlia) as a sans-I/O
 * state machine. The driver seeds it, asks which nodes to query, and feeds back
 * each answer or failure by address. No I/O, no clock, no randomness. */
#ifndef DHT_LOOKUP_H
#define DHT_LOOKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "id.h"

#define DHT_ALPHA_DEFAULT 3
#define DHT_ALPHA_MAX 64
#define DHT_TOKEN_MAX 64 /* longest token kept; longer ones are rejected as DHT_EINVAL */

typedef enum dht_lookup_strategy {
  /* The seed's algorithm exactly: a batch of up to alpha closest unqueried
   * candidates; the next batch only when every query of the batch has answered
   * or failed; the batch's answers applied in batch order; the convergence test
   * before each batch. */
  DHT_LOOKUP_ROUNDS = 0,
  /* Up to alpha queries in flight: each answer is applied on arrival and, unless
   * converged (in-flight queries count as not responded), the next closest
   * unqueried candidate is issued at once. */
  DHT_LOOKUP_PIPELINED = 1,
} dht_lookup_strategy;

typedef struct dht_lookup_config {
  unsigned alpha;               /* parallel queries, 1..DHT_ALPHA_MAX */
  unsigned k;                   /* closest nodes tracked / returned, 1..DHT_K_MAX */
  dht_lookup_strategy strategy;
} dht_lookup_config;

/* A get_peers answer as the driver received it (all transfer none; copied). */
typedef struct dht_lookup_reply {
  const uint8_t *token;   /* may be NULL when token_len == 0 */
  size_t token_len;       /* <= DHT_TOKEN_MAX */
  const dht_addr *peers;  /* values */
  size_t n_peers;
  const dht_node *nodes;  /* closer nodes */
  size_t n_nodes;
} dht_lookup_reply;

typedef struct dht_lookup dht_lookup;

/* target: the infohash. local_id: our own ID (nodes with it are never
 * candidates), or NULL. Returns NULL on bad config or allocation failure.
 * transfer full: free with dht_lookup_free. */
dht_lookup *dht_lookup_new(const dht_id *target, const dht_id *local_id,
                           const dht_lookup_config *cfg);
void dht_lookup_free(dht_lookup *l);

/* Adds initial candidates (e.g. dht_rt_closest(rt, target, k)). Duplicates
 * by address and the local ID are skipped. Returns 0 or DHT_ENOMEM. */
int dht_lookup_seed(dht_lookup *l, const dht_node *nodes, size_t n);

/* The nodes to query now: writes up to max of them into out, marks them
 * queried/in flight and returns how many (0 when nothing is to be sent now).
 * Call after seeding and after every reply/failure. Never returns the local
 * node, never an address twice, never lets more than alpha be in flight. */
size_t dht_lookup_next(dht_lookup *l, dht_node *out, size_t max);

/* An answer from an in-flight query. DHT_ENOENT if no query to that address is
 * in flight (a late, duplicate or unsolicited answer: ignored), DHT_EINVAL for
 * a malformed reply (token too long), DHT_ENOMEM (state unchanged). */
int dht_lookup_reply_from(dht_lookup *l, const dht_addr *from, const dht_lookup_reply *r);
/* The query to that address timed out or errored. DHT_ENOENT if not in flight. */
int dht_lookup_failed(dht_lookup *l, const dht_addr *from);

/* True once no query is in flight and nothing more will be sent. */
bool dht_lookup_done(const dht_lookup *l);
unsigned dht_lookup_in_flight(const dht_lookup *l);

/* Results; valid at any time, final once done. Pointers are transfer none and
 * valid until the next call that changes the lookup. */
size_t dht_lookup_queried_count(const dht_lookup *l);
/* Batches issued: in `rounds`, the number of batches; in `pipelined`, the
 * longest chain of queries each issued on the answer of the previous (depth). */
size_t dht_lookup_rounds(const dht_lookup *l);
/* Peers, deduplicated by address, in first-seen order. */
const dht_addr *dht_lookup_peers(const dht_lookup *l, size_t *n);
/* Up to k closest nodes that responded, sorted by XOR distance to target. Returns how many. */
size_t dht_lookup_closest(const dht_lookup *l, dht_node *out, size_t max);
/* Tokens keyed by host:port with their node, in the order answers were applied. */
size_t dht_lookup_token_count(const dht_lookup *l);
/* Entry i < token_count: node and token (transfer none). */
int dht_lookup_token_at(const dht_lookup *l, size_t i, dht_node *node,
                        const uint8_t **token, size_t *token_len);
/* Token for an address, or DHT_ENOENT. */
int dht_lookup_token_for(const dht_lookup *l, const dht_addr *addr,
                         const uint8_t **token, size_t *token_len);

#endif
