/* result.h: the record one finished lookup leaves, on its own so that the
 * scenario's memory estimate can size it without depending on the simulator. */
#ifndef SIM_RESULT_H
#define SIM_RESULT_H

#include <stdint.h>

#include "id.h"

/* One finished lookup. */
typedef struct sim_lookup_result {
  uint64_t id;            /* 0-based lookup number */
  uint32_t start_node;    /* index of the node that ran it */
  uint64_t start_us;      /* virtual µs */
  uint64_t queries;       /* get_peers queries sent */
  uint64_t rounds;        /* batches: dht_lookup_rounds */
  uint64_t hops;          /* depth of the longest chain of queries: dht_lookup_hops */
  uint64_t result_us;     /* virtual µs from start to the last answer or timeout that changed the result (0: none did) */
  uint64_t time_us;       /* virtual µs from start until done (nothing in flight for rounds/pipelined) */
  uint64_t timeouts;      /* its queries that timed out */
  uint64_t first_peer_us; /* virtual µs from start to the first answer carrying peers; UINT64_MAX if none */
  uint32_t peers_found;   /* distinct peers returned */
  uint32_t closest_hits;  /* returned closest nodes that are among the true K closest live nodes */
  uint32_t closest_truth; /* size of that true set (K, or fewer in tiny networks) */
  dht_id target;          /* the infohash looked up */
} sim_lookup_result;

#endif
