/* test_maintain.c: materialised tables under passive maintenance (sim/maintain.c):
 * the BEP 5 bucket rules, eviction after DHT_RT_BAD_FAILURES, and closest()
 * answering from the changed table. */
#include <criterion/criterion.h>
#include "criterion_assert.h"
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "maintain.h"
#include "network.h"
#include "rng.h"
#include "routing_table.h"
#include "scenario.h"
#include "sim.h"

static bool listed(const sim_network *net, uint32_t owner, uint32_t node) {
  uint32_t *t = g_new(uint32_t, SIM_CONTACTS_MAX(net->k) + 1);
  size_t c = sim_network_table(net, owner, t);
  bool in = false;
  for (size_t j = 0; j < c; j++)
    in |= t[j] == node;
  g_free(t);
  return in;
}

/* Owner's bucket b (cpl with owner, capped at depth) members of its table. */
static size_t bucket_members(const sim_network *net, uint32_t owner, unsigned b, unsigned depth, uint32_t *out) {
  uint32_t *t = g_new(uint32_t, SIM_CONTACTS_MAX(net->k) + 1);
  size_t c = sim_network_table(net, owner, t), m = 0;
  for (size_t j = 0; j < c; j++) {
    unsigned cp = dht_id_common_prefix(&net->ids[owner], &net->ids[t[j]]);
    if ((cp < depth ? cp : depth) == b)
      out[m++] = t[j];
  }
  g_free(t);
  return m;
}

/* The size of bucket i of owner (its own, last one: depth and beyond). */
static unsigned bucket_size(const sim_network *net, uint32_t owner, unsigned i, unsigned depth) {
  uint32_t *t = g_new(uint32_t, SIM_CONTACTS_MAX(net->k) + 1);
  size_t n = bucket_members(net, owner, i, depth, t);
  g_free(t);
  return (unsigned)n;
}

/* The same table as a core dht_rt offered the same nodes in the same order:
 * the generated full table, then every other node. */
/* (nodes, K): the second has many contacts sharing exactly the own bucket's
 * depth, where a split decides whether a node enters. */
static void offers_follow_the_core(uint32_t nodes, unsigned k);

Test(maintain, offers_follow_the_core_tables_rules) { offers_follow_the_core(600, 4); }
Test(maintain, offers_follow_the_core_tables_rules_k2) { offers_follow_the_core(5000, 2); }

static void offers_follow_the_core(uint32_t nodes, unsigned k) {
  sim_network net;
  cr_assert(eq(int, sim_network_generate_ondemand(&net, nodes, k, SIM_TABLES_RANDOM, 5), 0));
  cr_assert(eq(int, sim_maint_init(&net), 0));
  uint32_t owner = 17, *t = g_new(uint32_t, SIM_CONTACTS_MAX(k) + 1);
  size_t c = sim_network_table(&net, owner, t);
  dht_rt *rt = dht_rt_new(&net.ids[owner], k);
  for (size_t j = 0; j < c; j++) {
    dht_node nd = {.id = net.ids[t[j]]};
    dht_addr_set_v4(&nd.addr, t[j], 1);
    cr_assert(ge(int, dht_rt_add(rt, &nd), 0));
  }
  /* Every node, in a scrambled order (7 is prime to 600), the two tables
   * compared after each offer: splits happen while the table is partial. */
  for (uint32_t i = 0; i < net.n; i++) {
    uint32_t y = (i * 7u + 3u) % net.n;
    dht_node nd = {.id = net.ids[y]};
    dht_addr_set_v4(&nd.addr, y, 1);
    cr_assert(ge(int, dht_rt_add(rt, &nd), 0));
    cr_assert(eq(int, sim_maint_seen(&net, owner, y), 0));
    cr_assert(eq(sz, sim_network_table(&net, owner, t), dht_rt_size(rt)), "after offering node %u", y);
    cr_assert(eq(u32, net.mdepth[net.mslot[owner]] + 1u, dht_rt_bucket_count(rt)), "after offering node %u", y);
  }
  cr_assert(eq(u32, net.mslots, 1), "one table materialised");
  size_t got = sim_network_table(&net, owner, t);
  cr_assert(eq(sz, got, dht_rt_size(rt)));
  for (size_t j = 0; j < got; j++) {
    dht_id target = net.ids[t[j]];
    dht_node best;
    cr_assert(eq(sz, dht_rt_closest(rt, &target, &best, 1), 1));
    cr_assert(dht_id_eq(&best.id, &target), "contact %u not in the core's table", t[j]);
  }
  /* closest() answers from the materialised table, as the core's. */
  dht_id target;
  memset(target.b, 0xa5, sizeof target.b);
  uint32_t out[8];
  dht_node want[8];
  size_t n = sim_network_closest(&net, owner, &target, out, 8), wn = dht_rt_closest(rt, &target, want, 8);
  cr_assert(eq(sz, n, wn));
  for (size_t j = 0; j < n; j++)
    cr_assert(dht_id_eq(&net.ids[out[j]], &want[j].id), "rank %zu", j);
  dht_rt_free(rt);
  g_free(t);
  sim_network_clear(&net);
}

/* closest() on a changed table reads only the buckets that matter
 * (closest_slot): whatever the target's shared prefix, the count asked and
 * the holes evictions left, its answer is the selection from the whole table. */
Test(maintain, closest_of_a_changed_table_is_the_whole_tables_selection) {
  sim_network net;
  const unsigned k = 8;
  const uint64_t seed = 0x5107u;
  printf("maintain closest test seed: 0x%" PRIx64 "\n", seed);
  cr_assert(eq(int, sim_network_generate_ondemand(&net, 3000, k, SIM_TABLES_FULL, seed), 0));
  cr_assert(eq(int, sim_maint_init(&net), 0));
  uint32_t owner = 1234, *t = g_new(uint32_t, SIM_CONTACTS_MAX(k) + 1), got[200], want[200];
  dht_rng rng;
  dht_rng_init(&rng, seed);
  /* Evict some contacts (two failures each), offer others: short buckets, a
   * table order that is no longer the generated one. */
  size_t c = sim_network_table(&net, owner, t);
  for (size_t j = 0; j < c; j += 3) {
    cr_assert(eq(int, sim_maint_failed(&net, owner, t[j]), 0));
    cr_assert(eq(int, sim_maint_failed(&net, owner, t[j]), 0));
  }
  for (unsigned i = 0; i < 200; i++)
    cr_assert(eq(int, sim_maint_seen(&net, owner, dht_rng_below(&rng, net.n)), 0));
  c = sim_network_table(&net, owner, t);
  cr_assert(gt(sz, c, 2 * k));
  const size_t counts[] = {1, 3, 8, 9, 20, 200};
  for (unsigned trial = 0; trial < 400; trial++) {
    dht_id target;
    if (trial < 161) { /* the owner's ID with bit trial flipped (trial 160: the ID itself) */
      target = net.ids[owner];
      if (trial < DHT_ID_BITS)
        target.b[trial / 8] ^= (uint8_t)(0x80u >> (trial % 8));
    } else if (trial < 161 + 40) {
      target = net.ids[t[(trial - 161) % c]]; /* a contact */
    } else {
      dht_id_random(&target, &rng);
    }
    for (size_t ci = 0; ci < G_N_ELEMENTS(counts); ci++) {
      size_t n = sim_network_closest(&net, owner, &target, got, counts[ci]);
      size_t w = sim_network_select(&net, &target, t, c, want, counts[ci]);
      cr_assert(eq(sz, n, w), "trial %u count %zu", trial, counts[ci]);
      for (size_t j = 0; j < n; j++)
        cr_assert(eq(u32, got[j], want[j]), "trial %u count %zu rank %zu", trial, counts[ci], j);
    }
  }
  g_free(t);
  sim_network_clear(&net);
}

/* A contact that failed twice in a row is evicted; an answer between resets
 * the count; a node not in the table is not added by its failure. */
Test(maintain, bad_contacts_are_evicted_and_replaced) {
  sim_network net;
  const unsigned k = 4;
  cr_assert(eq(int, sim_network_generate_ondemand(&net, 2000, k, SIM_TABLES_FULL, 9), 0));
  cr_assert(eq(int, sim_maint_init(&net), 0));
  uint32_t owner = 3, *t = g_new(uint32_t, SIM_CONTACTS_MAX(k) + 1);
  size_t c = sim_network_table(&net, owner, t);
  cr_assert(gt(sz, c, 10));
  uint32_t victim = t[0];
  unsigned bucket = dht_id_common_prefix(&net.ids[owner], &net.ids[victim]);
  cr_assert(eq(int, sim_maint_failed(&net, owner, victim), 0));
  cr_assert(listed(&net, owner, victim), "one failure: still there");
  cr_assert(eq(int, sim_maint_seen(&net, owner, victim), 0));
  cr_assert(eq(int, sim_maint_failed(&net, owner, victim), 0));
  cr_assert(listed(&net, owner, victim), "the answer reset the count");
  cr_assert(eq(int, sim_maint_failed(&net, owner, victim), 0));
  cr_assert(not(listed(&net, owner, victim)), "two in a row: evicted");
  cr_assert(eq(sz, sim_network_table(&net, owner, t), c - 1));
  /* Its bucket (a full one, bucket 0 of a 2000-node table) takes the next node offered for it. */
  uint32_t fresh = UINT32_MAX;
  for (uint32_t y = 0; y < net.n && fresh == UINT32_MAX; y++)
    if (y != owner && y != victim && dht_id_common_prefix(&net.ids[owner], &net.ids[y]) == bucket &&
        !listed(&net, owner, y))
      fresh = y;
  cr_assert(ne(u32, fresh, UINT32_MAX));
  cr_assert(eq(u32, bucket_size(&net, owner, bucket, 160), k - 1));
  cr_assert(eq(int, sim_maint_seen(&net, owner, fresh), 0));
  cr_assert(listed(&net, owner, fresh));
  cr_assert(eq(u32, bucket_size(&net, owner, bucket, 160), k));
  /* Now full again: another node for it is dropped. */
  uint32_t other = UINT32_MAX;
  for (uint32_t y = 0; y < net.n && other == UINT32_MAX; y++)
    if (y != owner && dht_id_common_prefix(&net.ids[owner], &net.ids[y]) == bucket && !listed(&net, owner, y) &&
        y != victim)
      other = y;
  cr_assert(eq(int, sim_maint_seen(&net, owner, other), 0));
  cr_assert(not(listed(&net, owner, other)));
  /* A failure of a node the owner never knew changes nothing and materialises nothing. */
  uint32_t before = net.mslots, stranger = UINT32_MAX;
  for (uint32_t y = 0; y < net.n && stranger == UINT32_MAX; y++)
    if (y != 11 && !listed(&net, 11, y))
      stranger = y;
  cr_assert(eq(int, sim_maint_failed(&net, 11, stranger), 0));
  cr_assert(eq(u32, net.mslots, before));
  cr_assert(eq(u32, net.mslot[11], SIM_NET_NO_SLOT));
  g_free(t);
  sim_network_clear(&net);
}

/* In a run: a node answering learns the querier, the querier the answering
 * node. One lookup without loss: every queried node answers once, so the
 * tables changed are those of the queried nodes and of the start node. */
Test(maintain, a_run_changes_the_tables_of_queriers_and_responders) {
  sim_scenario sc;
  sim_results res;
  char err[256] = "";
  sim_scenario_defaults(&sc);
  sc.path = (char *)"m.yaml";
  sc.name = (char *)"m";
  sc.network.nodes = 1000;
  sc.network.maintenance = SIM_MAINTENANCE_PASSIVE;
  sc.workload.lookups = 1;
  cr_assert(eq(int, sim_run(&sc, NULL, &res, err, sizeof err), 0), "%s", err);
  cr_assert(gt(u64, res.lookups[0].queries, 5));
  cr_assert(eq(u32, res.tables_changed, (uint32_t)res.lookups[0].queries + 1));
  sim_results_clear(&res);
  /* Without maintenance nothing is materialised. */
  sc.network.maintenance = SIM_MAINTENANCE_NONE;
  cr_assert(eq(int, sim_run(&sc, NULL, &res, err, sizeof err), 0), "%s", err);
  cr_assert(eq(u32, res.tables_changed, 0));
  sim_results_clear(&res);
}


/* bep5, scripted (BEP 5 "Routing Table"): a node offered to a full bucket
 * pings the least recently seen contact once it has been idle for 15
 * minutes (not at 899 s), one ping per bucket at a time; the ping failing
 * twice evicts it and the node offered next takes its place; a ping
 * answered makes the contact good, and the next offer pings the next least
 * recently seen questionable one. */
Test(maintain, questionable_contact_is_pinged_after_15_minutes_and_evicted) {
  sim_network net;
  const unsigned k = 4;
  cr_assert(eq(int, sim_network_generate_ondemand(&net, 2000, k, SIM_TABLES_FULL, 9), 0));
  cr_assert(eq(int, sim_maint_init(&net), 0));
  cr_assert(eq(int, sim_maint_init_times(&net), 0));
  uint32_t owner = 3, c[8], ping = 0;
  cr_assert(eq(sz, bucket_members(&net, owner, 0, 160, c), k), "bucket 0 is full");
  cr_assert(eq(int, sim_maint_offer(&net, owner, c[1], 200, &ping), 0));
  cr_assert(eq(u32, ping, SIM_MAINT_NONE), "a contact's own activity asks for no ping");
  cr_assert(eq(int, sim_maint_offer(&net, owner, c[2], 300, &ping), 0));
  cr_assert(eq(int, sim_maint_offer(&net, owner, c[3], 400, &ping), 0));
  /* Nodes for bucket 0 that the owner does not know. */
  uint32_t fresh[3], nf = 0;
  for (uint32_t y = 0; y < net.n && nf < 3; y++)
    if (y != owner && dht_id_common_prefix(&net.ids[owner], &net.ids[y]) == 0 && !listed(&net, owner, y))
      fresh[nf++] = y;
  cr_assert(eq(u32, nf, 3));
  /* c[0] was last heard of at 0 (the table's build): good until 900. */
  cr_assert(eq(int, sim_maint_offer(&net, owner, fresh[0], 899, &ping), 0));
  cr_assert(eq(u32, ping, SIM_MAINT_NONE), "899 s idle: still good");
  cr_assert(not(listed(&net, owner, fresh[0])), "a full bucket of good nodes drops it");
  cr_assert(eq(int, sim_maint_offer(&net, owner, fresh[0], 900, &ping), 0));
  cr_assert(eq(u32, ping, c[0]), "900 s idle: questionable, the least recently seen, pinged");
  cr_assert(not(listed(&net, owner, fresh[0])));
  cr_assert(eq(int, sim_maint_offer(&net, owner, fresh[1], 1200, &ping), 0));
  cr_assert(eq(u32, ping, SIM_MAINT_NONE), "one ping of the bucket at a time");
  /* The ping fails, is tried once more and fails again: evicted, replaced. */
  bool evicted = true;
  cr_assert(eq(int, sim_maint_fail(&net, owner, c[0], &evicted), 0));
  cr_assert(not(evicted));
  cr_assert(listed(&net, owner, c[0]));
  sim_maint_pinging(&net, owner, c[0]); /* its retry, as the driver sends it */
  cr_assert(eq(int, sim_maint_offer(&net, owner, fresh[1], 1200, &ping), 0));
  cr_assert(eq(u32, ping, SIM_MAINT_NONE), "the retry is the bucket's one ping");
  cr_assert(eq(int, sim_maint_fail(&net, owner, c[0], &evicted), 0));
  cr_assert(evicted);
  cr_assert(not(listed(&net, owner, c[0])));
  cr_assert(eq(int, sim_maint_offer(&net, owner, fresh[0], 1200, &ping), 0));
  cr_assert(listed(&net, owner, fresh[0]), "the node offered takes the bad one's place");
  cr_assert(eq(u32, ping, SIM_MAINT_NONE));
  /* At 1300 c[1] (200), c[2] (300) and c[3] (400, exactly 900 s) are questionable. */
  cr_assert(eq(int, sim_maint_offer(&net, owner, fresh[2], 1300, &ping), 0));
  cr_assert(eq(u32, ping, c[1]));
  cr_assert(eq(int, sim_maint_offer(&net, owner, c[1], 1300, &ping), 0)); /* it answers: good */
  cr_assert(eq(int, sim_maint_offer(&net, owner, fresh[2], 1300, &ping), 0));
  cr_assert(eq(u32, ping, c[2]), "the next least recently seen questionable contact");
  cr_assert(eq(int, sim_maint_offer(&net, owner, c[2], 1300, &ping), 0));
  cr_assert(eq(int, sim_maint_offer(&net, owner, fresh[2], 1300, &ping), 0));
  cr_assert(eq(u32, ping, c[3]), "idle exactly 900 s: questionable");
  cr_assert(eq(int, sim_maint_offer(&net, owner, c[3], 1300, &ping), 0));
  cr_assert(eq(int, sim_maint_offer(&net, owner, fresh[2], 1300, &ping), 0));
  cr_assert(eq(u32, ping, SIM_MAINT_NONE), "all good: dropped");
  cr_assert(not(listed(&net, owner, fresh[2])));
  /* Without times (passive) a full bucket never asks for a ping. */
  sim_network_clear(&net);
  cr_assert(eq(int, sim_network_generate_ondemand(&net, 2000, k, SIM_TABLES_FULL, 9), 0));
  cr_assert(eq(int, sim_maint_init(&net), 0));
  cr_assert(eq(int, sim_maint_offer(&net, owner, fresh[0], 5000, &ping), 0));
  cr_assert(eq(u32, ping, SIM_MAINT_NONE));
  sim_network_clear(&net);
}

/* Buckets idle for 15 minutes: none at 899 s (the tables were built at 0),
 * every one at 900; one with activity at 900 is due again at 1800; a
 * refresh target lies in its bucket's range. */
Test(maintain, idle_buckets_and_their_refresh_targets) {
  sim_network net;
  const unsigned k = 4;
  cr_assert(eq(int, sim_network_generate_ondemand(&net, 2000, k, SIM_TABLES_FULL, 9), 0));
  cr_assert(eq(int, sim_maint_init(&net), 0));
  cr_assert(eq(int, sim_maint_init_times(&net), 0));
  uint32_t owner = 5, next = 0, c[8];
  uint8_t idle[DHT_ID_BITS];
  unsigned n_idle = 99;
  cr_assert(eq(int, sim_maint_idle_buckets(&net, owner, 899, idle, &n_idle, &next), 0));
  cr_assert(eq(u32, n_idle, 0));
  cr_assert(eq(u32, next, 900));
  unsigned depth = net.mdepth[net.mslot[owner]];
  cr_assert(gt(u32, depth, 4));
  cr_assert(eq(int, sim_maint_idle_buckets(&net, owner, 900, idle, &n_idle, &next), 0));
  cr_assert(eq(u32, n_idle, depth + 1), "every bucket, the own one included");
  for (unsigned i = 0; i < n_idle; i++)
    cr_assert(eq(u32, idle[i], i));
  cr_assert(eq(u32, next, 1800));
  cr_assert(gt(sz, bucket_members(&net, owner, 2, depth, c), 0));
  cr_assert(eq(int, sim_maint_offer(&net, owner, c[0], 1000, NULL), 0)); /* no times kept with ping NULL? they are */
  cr_assert(eq(int, sim_maint_idle_buckets(&net, owner, 1100, idle, &n_idle, &next), 0));
  cr_assert(eq(u32, n_idle, depth), "bucket 2 changed at 1000");
  for (unsigned i = 0; i < n_idle; i++)
    cr_assert(ne(u32, idle[i], 2));
  cr_assert(eq(u32, next, 1900));
  dht_rng rng;
  dht_rng_init(&rng, 77);
  unsigned deeper = 0; /* own-bucket targets sharing more than depth bits: about half */
  for (unsigned b = 0; b <= depth; b++)
    for (int i = 0; i < 50; i++) {
      dht_id t;
      sim_maint_bucket_id(&net, owner, b, &rng, &t);
      unsigned cp = dht_id_common_prefix(&net.ids[owner], &t);
      if (b < depth)
        cr_assert(eq(u32, cp, b), "bucket %u", b);
      else
        cr_assert(ge(u32, cp, depth));
      deeper += b == depth && cp > depth;
    }
  cr_assert(gt(u32, deeper, 10), "the own bucket's whole range: %u of 50 deeper", deeper);
  sim_network_clear(&net);
}

/* In a run without churn or loss: the maintenance traffic is counted apart
 * (each workload query is still one request and one answer in
 * messages_sent), and the refresh lookups of the buckets idle at 900 s
 * fill the tables (random ones, 4K contacts: room in most buckets): many
 * more contacts are added than under passive. */
Test(maintain, bep5_refresh_fills_tables_and_its_traffic_is_counted_apart) {
  sim_scenario sc;
  sim_results res[2];
  char err[256] = "";
  for (int m = 0; m < 2; m++) {
    sim_scenario_defaults(&sc);
    sc.path = (char *)"m.yaml";
    sc.name = (char *)"m";
    sc.network.nodes = 1000;
    sc.network.maintenance = m ? SIM_MAINTENANCE_BEP5 : SIM_MAINTENANCE_PASSIVE;
    sc.churn.warmup_s = 1300; /* every node's pass in [900, 1200) finds idle buckets */
    sc.workload.lookups = 3;
    cr_assert(eq(int, sim_run(&sc, NULL, &res[m], err, sizeof err), 0), "%s", err);
    uint64_t q = 0;
    for (size_t i = 0; i < res[m].n_lookups; i++)
      q += res[m].lookups[i].queries;
    cr_assert(eq(u64, res[m].counters.messages_sent, 2 * q), "maintenance %d", m);
    cr_assert(eq(u64, res[m].counters.timeouts, 0));
  }
  cr_assert(eq(u64, res[0].counters.maint_lookups, 0));
  cr_assert(eq(u64, res[0].counters.maint_queries, 0));
  /* Not one per bucket: a bucket whose questionable contacts answered pings
   * (offered the queriers of other nodes' refreshes) changed, so needs none. */
  cr_assert(ge(u64, res[1].counters.maint_lookups, 200), "%" PRIu64 " refreshes", res[1].counters.maint_lookups);
  cr_assert(gt(u64, res[1].counters.maint_queries, 3 * res[1].counters.maint_lookups));
  cr_assert(le(u64, res[1].counters.maint_pings, res[1].counters.maint_queries));
  cr_assert(eq(u32, res[1].tables_changed, 1000));
  cr_assert(gt(u64, res[1].contacts_added, 10 * res[0].contacts_added), "bep5 %" PRIu64 ", passive %" PRIu64,
            res[1].contacts_added, res[0].contacts_added);
  cr_assert(gt(u64, res[1].contacts_added, 1000));
  sim_results_clear(&res[0]);
  sim_results_clear(&res[1]);
}

/* The memory estimate counts the maintained tables (scenario.c's
 * maintenance_bytes): 2^20 nodes, K 8: slots of 8 (20 + 4) = 192 contacts,
 * 5 B each (node, failures; bep5 9 with the activity time) + 3, in a pool
 * that may double; a slot index per node (bep5: and its pass time). */
Test(maintain, the_estimate_counts_the_maintained_tables) {
  sim_scenario sc;
  sim_scenario_defaults(&sc);
  sc.network.nodes = 1u << 20;
  sc.network.tables = SIM_TABLES_FULL;
  sc.lookup.k = 8;
  sc.workload.lookups = 1000;
  uint64_t none = sim_scenario_estimate_bytes(&sc, 0);
  sc.network.maintenance = SIM_MAINTENANCE_PASSIVE;
  /* static: the start nodes and the nodes they query, 65 a lookup */
  cr_assert(eq(u64, sim_scenario_estimate_bytes(&sc, 0) - none, 4u * (1u << 20) + 2u * 65000u * (192u * 6u + 3u)));
  {
    /* --lookups 2000 doubles the changed nodes (the results' own bytes aside) */
    sim_scenario d = sc;
    d.network.maintenance = SIM_MAINTENANCE_NONE;
    cr_assert(eq(u64, sim_scenario_estimate_bytes(&sc, 2000) - sim_scenario_estimate_bytes(&d, 2000),
                  4u * (1u << 20) + 2u * 130000u * (192u * 6u + 3u)));
  }
  sc.workload.lookups = 100000; /* 6.5 M > n: every node */
  uint64_t none_many = 0;
  {
    sim_scenario d = sc;
    d.network.maintenance = SIM_MAINTENANCE_NONE;
    none_many = sim_scenario_estimate_bytes(&d, 0);
  }
  /* every node: one slot each, the pool never grows past n slots */
  cr_assert(eq(u64, sim_scenario_estimate_bytes(&sc, 0) - none_many, 4u * (1u << 20) + 1ull * (1u << 20) * (192u * 6u + 3u)));
  sc.network.maintenance = SIM_MAINTENANCE_BEP5;
  cr_assert(eq(u64, sim_scenario_estimate_bytes(&sc, 0) - none_many, (12u + 128u) * (1u << 20) + 1ull * (1u << 20) * (192u * 10u + 3u)));
}

/* The pool doubles (256, 512, ...) but stops at one slot per node: what the
 * memory estimate counts when every table changes. */
Test(maintain, the_pool_never_holds_more_slots_than_nodes) {
  sim_network net;
  cr_assert(eq(int, sim_network_generate_ondemand(&net, 600, 4, SIM_TABLES_FULL, 9), 0));
  cr_assert(eq(int, sim_maint_init(&net), 0));
  for (uint32_t i = 0; i < net.n; i++) {
    cr_assert(eq(int, sim_maint_seen(&net, i, (i + 1) % net.n), 0));
    cr_assert(eq(u32, net.mslots, i + 1));
    cr_assert(eq(u32, net.mslots_cap, i < 256 ? 256u : i < 512 ? 512u : 600u), "after %u", i);
  }
  sim_network_clear(&net);
}
