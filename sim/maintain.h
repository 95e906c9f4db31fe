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

#include <stdbool.h>
#include <stdint.h>

#include "rng.h"

#include "network.h"

/* Prepares net for materialised tables (every mslot SIM_NET_NO_SLOT). 0 or DHT_ENOMEM. */
int sim_maint_init(sim_network *net);
/* owner saw node (a query from it, or its answer): node is refreshed
 * (failures reset) or offered to owner's table. 0 or DHT_ENOMEM. */
int sim_maint_seen(sim_network *net, uint32_t owner, uint32_t node);
/* A query of owner to node failed: when node is in owner's table, one more
 * failure; at DHT_RT_BAD_FAILURES it is evicted. 0 or DHT_ENOMEM. */
int sim_maint_failed(sim_network *net, uint32_t owner, uint32_t node);

/* network.maintenance bep5 (docs/churn.md). BEP 5: a node is good with
 * activity in the last 15 minutes, questionable after 15 minutes without;
 * a bucket not changed for 15 minutes is refreshed. Virtual seconds. */
#define SIM_MAINT_QUESTIONABLE_S 900u
#define SIM_MAINT_NONE UINT32_MAX
/* mfail's bit of a contact being pinged (its count of failures below). */
#define SIM_MAINT_PINGING 0x80u
/* Keeps each contact's last activity (net->mseen, virtual seconds) from now
 * on: after sim_maint_init, before any table materialises. 0 or DHT_EINVAL. */
int sim_maint_init_times(sim_network *net);
/* sim_maint_seen at virtual second now_s. With times kept: the contact's
 * activity is now_s (a new one's too); when node goes to a full bucket that
 * cannot split and that bucket has no ping outstanding and a questionable
 * contact (no activity for SIM_MAINT_QUESTIONABLE_S), *ping = the least
 * recently seen one, now outstanding: the driver pings it (BEP 5). Else, and
 * always without times or with ping NULL, *ping = SIM_MAINT_NONE and node is
 * dropped as by sim_maint_seen. 0 or DHT_ENOMEM. */
int sim_maint_offer(sim_network *net, uint32_t owner, uint32_t node, uint32_t now_s, uint32_t *ping);
/* The bits owner and node share when the caller has them (a query record
 * keeps them: its nodes' IDs are then not read again, a cache miss each at
 * 10^6 nodes), else SIM_MAINT_CPL_UNKNOWN: computed from the IDs. */
#define SIM_MAINT_CPL_UNKNOWN 0xffu
/* sim_maint_offer with c = the bits owner and node share (or unknown). */
int sim_maint_offer_cpl(sim_network *net, uint32_t owner, uint32_t node, unsigned c, uint32_t now_s, uint32_t *ping);
/* sim_maint_failed, saying whether node was evicted (evicted may be NULL);
 * ends node's outstanding ping. */
int sim_maint_fail(sim_network *net, uint32_t owner, uint32_t node, bool *evicted);
/* sim_maint_fail with c = the bits owner and node share (or unknown). */
int sim_maint_fail_cpl(sim_network *net, uint32_t owner, uint32_t node, unsigned c, bool *evicted);
/* node's ping by owner is outstanding again (its retry): no other ping of
 * its bucket meanwhile. Nothing if node is not in owner's table. */
void sim_maint_pinging(sim_network *net, uint32_t owner, uint32_t node);
/* With times kept: owner's buckets (0 .. its own, last one) with no activity
 * for SIM_MAINT_QUESTIONABLE_S at now_s, into idle[] (room for DHT_ID_BITS),
 * *n_idle of them, and *next_s the second at which the next other one will
 * be, or now_s + SIM_MAINT_QUESTIONABLE_S if sooner (the refreshed ones are
 * due again then). Materialises owner's table. O(table). 0 or DHT_ENOMEM. */
int sim_maint_idle_buckets(sim_network *net, uint32_t owner, uint32_t now_s, uint8_t *idle, unsigned *n_idle,
                           uint32_t *next_s);
/* A random ID (from rng) in owner's bucket b: sharing exactly b bits with
 * owner's ID, or at least b for its own bucket. */
void sim_maint_bucket_id(const sim_network *net, uint32_t owner, unsigned b, dht_rng *rng, dht_id *out);

#endif
