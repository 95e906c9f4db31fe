/* routing_table.h: the BEP 5 k-bucket routing table of one node.
 * Buckets partition the 160-bit ID space into prefix ranges; only the bucket
 * that holds our own ID ever splits. Hard caps: at most 160 buckets of K nodes. */
#ifndef DHT_ROUTING_TABLE_H
#define DHT_ROUTING_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "id.h"

#define DHT_K_DEFAULT 8
#define DHT_K_MAX 256
/* A node that failed this many queries in a row is "bad" (BEP 5) and is the
 * first to be replaced when a new node arrives for its full bucket. */
#define DHT_RT_BAD_FAILURES 2

typedef struct dht_rt dht_rt;

/* Outcome of dht_rt_add (non-negative); errors are negative dht_ codes. */
typedef enum dht_rt_added {
  DHT_RT_ADDED = 0,     /* new node inserted (possibly after splits) */
  DHT_RT_REFRESHED = 1, /* same ID already present: address updated, failures reset */
  DHT_RT_SELF = 2,      /* the node is us: rejected */
  DHT_RT_FULL = 3,      /* its bucket is full of good nodes and cannot split: dropped */
  DHT_RT_REPLACED = 4,  /* inserted in place of a bad node of a full bucket */
} dht_rt_added;

/* Returns a new empty table (transfer full) or NULL on allocation failure.
 * k in 1..DHT_K_MAX, else NULL. */
dht_rt *dht_rt_new(const dht_id *self, unsigned k);
void dht_rt_free(dht_rt *rt);

/* Adds or refreshes a node. Returns a dht_rt_added value or DHT_ENOMEM (table unchanged). */
int dht_rt_add(dht_rt *rt, const dht_node *node);
/* Records a failed query to the node with this ID: returns its new failure count,
 * or DHT_ENOENT if it is not in the table. */
int dht_rt_failed(dht_rt *rt, const dht_id *id);
/* Records an answer: resets the failure count. DHT_ENOENT if absent. */
int dht_rt_answered(dht_rt *rt, const dht_id *id);

/* Writes up to count nodes closest to target into out, sorted by XOR distance
 * (IDs are unique in a table, so the order is total). Returns the number written.
 * Cost O(size log count), no allocation. */
size_t dht_rt_closest(const dht_rt *rt, const dht_id *target, dht_node *out, size_t count);

size_t dht_rt_size(const dht_rt *rt);         /* number of nodes */
unsigned dht_rt_bucket_count(const dht_rt *rt);
unsigned dht_rt_k(const dht_rt *rt);
const dht_id *dht_rt_self(const dht_rt *rt);
/* Bucket i covers the IDs that share exactly i leading bits with self, except
 * the last bucket (i == bucket_count-1) which covers all IDs sharing >= i bits.
 * Copies its nodes (insertion order) into out (room for K); returns how many. */
size_t dht_rt_bucket_nodes(const dht_rt *rt, unsigned i, dht_node *out);
/* Failure count of a node, or DHT_ENOENT. */
int dht_rt_failures(const dht_rt *rt, const dht_id *id);

#endif
