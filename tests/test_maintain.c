/* test_maintain.c: materialised tables under passive maintenance (sim/maintain.c):
 * the BEP 5 bucket rules, eviction after DHT_RT_BAD_FAILURES, and closest()
 * answering from the changed table. */
#include <criterion/criterion.h>
#include "criterion_assert.h"
#include <glib.h>
#include <string.h>

#include "error.h"
#include "maintain.h"
#include "network.h"
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

/* Bucket i of owner (its own, last one: depth and beyond). */
static unsigned bucket_size(const sim_network *net, uint32_t owner, unsigned i, unsigned depth) {
  uint32_t *t = g_new(uint32_t, SIM_CONTACTS_MAX(net->k) + 1);
  size_t c = sim_network_table(net, owner, t);
  unsigned n = 0;
  for (size_t j = 0; j < c; j++) {
    unsigned cp = dht_id_common_prefix(&net->ids[owner], &net->ids[t[j]]);
    n += (cp < depth ? cp : depth) == i;
  }
  g_free(t);
  return n;
}

/* The same table as a core dht_rt offered the same nodes in the same order:
 * the generated full table, then every other node. */
Test(maintain, offers_follow_the_core_tables_rules) {
  sim_network net;
  const unsigned k = 4;
  cr_assert(eq(int, sim_network_generate_ondemand(&net, 600, k, SIM_TABLES_RANDOM, 5), 0));
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
