/* test_sim.c: the simulation driver: determinism, the seed's mock-network
 * expectations, and exact agreement with a naive port of the seed's algorithm. */
#include <criterion/criterion.h>
#include "criterion_assert.h"
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "network.h"
#include "scenario.h"
#include "sim.h"
#include "stats.h"

static void base_scenario(sim_scenario *sc) {
  sim_scenario_defaults(sc);
  /* Not owned: these tests never call sim_scenario_clear. */
  sc->path = (char *)"test.yaml";
  sc->name = (char *)"test";
}

static void run_ok(const sim_scenario *sc, const sim_options *opt, sim_results *res) {
  char err[512] = "";
  int rc = sim_run(sc, opt, res, err, sizeof err);
  cr_assert(eq(int, rc, 0), "sim_run failed: %s", err);
}

/* The whole output of a run as text: its runs.csv row, lookups.csv rows and table. */
static char *render(const sim_scenario *sc, uint64_t seed, const sim_results *res) {
  sim_summary s;
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  cr_assert(f != NULL);
  cr_assert(eq(int, sim_summary_compute(&s, sc, seed, res), 0));
  sim_columns shown;
  sim_columns_of(&shown, sc);
  sim_write_runs_row(f, 0, 0, "", sc, &s, &shown);
  sim_write_lookups_rows(f, 0, 0, sc, NULL, 0, res);
  sim_write_table(f, &s);
  fclose(f);
  return buf;
}

Test(sim, same_seed_same_bytes_different_seed_different_numbers) {
  sim_scenario sc;
  sim_results a, b, c;
  sim_options other = {.seed_set = true, .seed = 2};
  char *ta, *tb, *tc;

  base_scenario(&sc);
  sc.loss.request_drop = 0.1;
  sc.latency.model = SIM_LATENCY_LOGNORMAL;
  sc.workload.lookups = 50;
  run_ok(&sc, NULL, &a);
  run_ok(&sc, NULL, &b);
  run_ok(&sc, &other, &c);
  ta = render(&sc, sc.seed, &a);
  tb = render(&sc, sc.seed, &b);
  tc = render(&sc, 2, &c);
  cr_assert(eq(str, ta, tb));
  cr_assert(ne(str, ta, tc));
  free(ta);
  free(tb);
  free(tc);
  sim_results_clear(&a);
  sim_results_clear(&b);
  sim_results_clear(&c);
}

/* The seed's "with mock network" expectations on baseline settings (100 nodes,
 * alpha 3, K 8, random tables, rounds): fewer than 50 queries and a non-empty
 * closest set in every lookup, and the planted peers found. */
Test(sim, baseline_meets_the_seeds_mock_network_expectations) {
  sim_scenario sc;
  sim_results res;
  base_scenario(&sc);
  sc.workload.lookups = 200;
  run_ok(&sc, NULL, &res);
  cr_assert(eq(u64, res.n_lookups, 200));
  for (size_t i = 0; i < res.n_lookups; i++) {
    cr_assert(lt(u64, res.lookups[i].queries, 50), "lookup %zu: %lu queries", i,
              (unsigned long)res.lookups[i].queries);
    cr_assert(gt(u32, res.lookups[i].peers_found, 0), "lookup %zu found no planted peer", i);
    cr_assert(le(u32, res.lookups[i].peers_found, sc.workload.planted_peers));
  }
  sim_results_clear(&res);
}

/* With no loss and constant latency every rounds-batch is one round trip. */
Test(sim, rounds_time_is_rounds_times_round_trip_without_loss) {
  sim_scenario sc;
  sim_results res;
  base_scenario(&sc);
  sc.workload.lookups = 40;
  run_ok(&sc, NULL, &res);
  for (size_t i = 0; i < res.n_lookups; i++)
    cr_assert(eq(u64, res.lookups[i].time_us, res.lookups[i].rounds * 2 * sc.latency.delay_us));
  cr_assert(eq(u64, res.counters.timeouts, 0));
  cr_assert(eq(u64, res.counters.messages_dropped, 0));
  sim_results_clear(&res);
}

Test(sim, total_loss_times_out_every_query) {
  sim_scenario sc;
  sim_results res;
  uint64_t queries = 0;
  base_scenario(&sc);
  sc.loss.request_drop = 1.0;
  sc.workload.lookups = 20;
  run_ok(&sc, NULL, &res);
  for (size_t i = 0; i < res.n_lookups; i++) {
    queries += res.lookups[i].queries;
    cr_assert(eq(u32, res.lookups[i].peers_found, 0));
    cr_assert(eq(u32, res.lookups[i].closest_hits, 0));
    /* Each lookup can only query its start node's own K closest contacts. */
    cr_assert(le(u64, res.lookups[i].queries, sc.lookup.k));
    cr_assert(eq(u64, res.lookups[i].time_us, res.lookups[i].rounds * sc.lookup.timeout_us));
  }
  cr_assert(eq(u64, res.counters.timeouts, queries));
  cr_assert(eq(u64, res.counters.messages_dropped, queries));
  cr_assert(eq(u64, res.counters.messages_sent, queries));
  sim_results_clear(&res);
}

Test(sim, dead_nodes_never_answer) {
  sim_scenario sc;
  sim_results res;
  base_scenario(&sc);
  sc.loss.dead_fraction = 0.3;
  sc.workload.lookups = 100;
  run_ok(&sc, NULL, &res);
  cr_assert(gt(u32, res.counters.dead_nodes, 10));
  cr_assert(lt(u32, res.counters.dead_nodes, 50));
  cr_assert(gt(u64, res.counters.dead_queries, 0));
  cr_assert(eq(u64, res.counters.timeouts, res.counters.dead_queries));
  sim_results_clear(&res);
}

Test(sim, poisson_arrivals_overlap_lookups_on_one_clock) {
  sim_scenario sc;
  sim_results res;
  uint64_t overlapping = 0;
  base_scenario(&sc);
  sc.workload.arrival = SIM_ARRIVAL_POISSON;
  sc.workload.rate_per_s = 50; /* mean gap 20 ms, lookups take hundreds of ms */
  sc.workload.lookups = 100;
  run_ok(&sc, NULL, &res);
  for (size_t i = 1; i < res.n_lookups; i++) {
    const sim_lookup_result *p = &res.lookups[i - 1], *l = &res.lookups[i];
    cr_assert(ge(u64, l->start_us, p->start_us));
    overlapping += l->start_us < p->start_us + p->time_us;
  }
  cr_assert(gt(u64, overlapping, 50));
  sim_results_clear(&res);
}

/* ---- exact agreement with a naive port of the seed's iterativeLookup ---- */

typedef struct ref_cand {
  uint32_t node;
  bool queried, responded;
} ref_cand;

/* Stable insertion sort of indices by XOR distance: the seed's Array.sort is stable
 * and iterates its Map in insertion order. O(n^2): a reference, not a product. */
static void ref_sort(const sim_network *net, const dht_id *t, const ref_cand *c, size_t *v, size_t n) {
  for (size_t i = 1; i < n; i++) {
    size_t x = v[i], j = i;
    while (j > 0 && dht_id_distance_cmp(t, &net->ids[c[x].node], &net->ids[c[v[j - 1]].node]) < 0) {
      v[j] = v[j - 1];
      j--;
    }
    v[j] = x;
  }
}

static void ref_add(const sim_network *net, uint32_t start, ref_cand *c, size_t *n, uint32_t node) {
  if (dht_id_eq(&net->ids[node], &net->ids[start]))
    return;
  for (size_t i = 0; i < *n; i++)
    if (dht_addr_eq(&net->addrs[c[i].node], &net->addrs[node]))
      return;
  c[(*n)++] = (ref_cand){.node = node};
}

/* queriedCount of the seed's algorithm on the network's answers (no loss). */
static uint64_t ref_lookup(const sim_network *net, uint32_t start, const dht_id *target, unsigned alpha, unsigned k,
                           const uint32_t *planted, size_t n_planted) {
  ref_cand *c = g_new0(ref_cand, net->n);
  size_t *unq = g_new(size_t, net->n), *resp = g_new(size_t, net->n);
  uint32_t idx[256];
  size_t n = 0, nu, nr;
  uint64_t queried = 0;

  size_t m = sim_network_closest(net, start, target, idx, k);
  for (size_t i = 0; i < m; i++)
    ref_add(net, start, c, &n, idx[i]);
  for (;;) {
    size_t batch[64], nb;
    nu = nr = 0;
    for (size_t i = 0; i < n; i++) {
      if (!c[i].queried)
        unq[nu++] = i;
      if (c[i].responded)
        resp[nr++] = i;
    }
    if (nu == 0)
      break;
    ref_sort(net, target, c, unq, nu);
    ref_sort(net, target, c, resp, nr);
    if (nr >= k && dht_id_distance_cmp(target, &net->ids[c[unq[0]].node], &net->ids[c[resp[k - 1]].node]) >= 0)
      break;
    nb = nu < alpha ? nu : alpha;
    for (size_t i = 0; i < nb; i++) {
      batch[i] = unq[i];
      c[batch[i]].queried = true;
      queried++;
    }
    for (size_t i = 0; i < nb; i++) {
      uint32_t node = c[batch[i]].node;
      bool has_peers = false;
      c[batch[i]].responded = true;
      for (size_t p = 0; p < n_planted; p++)
        has_peers |= planted[p] == node;
      if (has_peers)
        continue;
      m = sim_network_closest(net, node, target, idx, k);
      for (size_t j = 0; j < m; j++)
        if (idx[j] != start)
          ref_add(net, start, c, &n, idx[j]);
    }
  }
  g_free(c);
  g_free(unq);
  g_free(resp);
  return queried;
}

Test(sim, topology_rounds_query_counts_equal_the_seeds_algorithm) {
  char *dir = g_dir_make_tmp("dhtsim-test-XXXXXX", NULL);
  char *topo = g_build_filename(dir, "net.topo", NULL);
  char *lk = g_build_filename(dir, "lookups.txt", NULL);
  sim_network net;
  sim_scenario sc;
  sim_results res;
  dht_rng rng;
  char err[512];
  FILE *f;
  const size_t n_lookups = 60;
  uint32_t starts[60];
  dht_id targets[60];

  cr_assert(dir != NULL);
  cr_assert(eq(int, sim_network_generate(&net, 300, 8, SIM_TABLES_RANDOM, 77), 0));
  cr_assert(eq(int, sim_network_export_topology(&net, topo, err, sizeof err), 0), "%s", err);
  dht_rng_init(&rng, 4242);
  cr_log_info("lookups file seed 4242");
  f = fopen(lk, "w");
  cr_assert(f != NULL);
  fprintf(f, "# start target\n");
  for (size_t i = 0; i < n_lookups; i++) {
    char hex[41];
    starts[i] = (uint32_t)dht_rng_below(&rng, net.n);
    dht_id_random(&targets[i], &rng);
    dht_id_to_hex(&targets[i], hex);
    fprintf(f, "%u %s\n", starts[i], hex);
  }
  fclose(f);

  base_scenario(&sc);
  sc.network.topology = topo;
  sc.workload.lookups_file = lk;
  run_ok(&sc, NULL, &res);
  cr_assert(eq(u64, res.n_lookups, n_lookups));
  for (size_t i = 0; i < n_lookups; i++) {
    uint32_t planted[64];
    size_t np = sim_network_true_closest(&net, &targets[i], 0, planted, sc.workload.plant_at);
    uint64_t want = ref_lookup(&net, starts[i], &targets[i], sc.lookup.alpha, sc.lookup.k, planted, np);
    cr_assert(eq(u32, res.lookups[i].start_node, starts[i]));
    cr_assert(eq(u64, res.lookups[i].queries, want), "lookup %zu: sim %lu queries, seed algorithm %lu", i,
              (unsigned long)res.lookups[i].queries, (unsigned long)want);
  }
  /* And without planted peers (pure node lookups). */
  sim_results_clear(&res);
  sc.workload.planted_peers = 0;
  run_ok(&sc, NULL, &res);
  for (size_t i = 0; i < n_lookups; i++) {
    uint64_t want = ref_lookup(&net, starts[i], &targets[i], sc.lookup.alpha, sc.lookup.k, NULL, 0);
    cr_assert(eq(u64, res.lookups[i].queries, want), "lookup %zu (no peers)", i);
  }
  sim_results_clear(&res);
  sim_network_clear(&net);
  g_remove(topo);
  g_remove(lk);
  g_rmdir(dir);
  g_free(topo);
  g_free(lk);
  g_free(dir);
}

/* alpha may exceed k: the driver must have room for alpha queries at once. */
Test(sim, alpha_larger_than_k) {
  sim_scenario sc;
  sim_results res;
  base_scenario(&sc);
  sc.lookup.alpha = 16;
  sc.lookup.k = 2;
  sc.workload.plant_at = 2;
  sc.workload.lookups = 20;
  run_ok(&sc, NULL, &res);
  for (size_t i = 0; i < res.n_lookups; i++)
    cr_assert(le(u64, res.lookups[i].rounds, res.lookups[i].queries));
  sim_results_clear(&res);
}

/* ---- boundaries a one-token change would cross (issue #11) ---- */

/* A node answers with at most K nodes: node 1 knows three nodes closer to
 * the target than itself and answers node 0's query with the K closest of
 * them, all of which the lookup then queries in one batch (alpha = K + 1):
 * 1 + K queries. An answer of K + 1 nodes would make it 2 + K. */
Test(sim, a_node_answers_with_at_most_k_nodes) {
  static const char *const ids[] = {"ff00000000000000000000000000000000000000", "4000000000000000000000000000000000000000",
                                    "1000000000000000000000000000000000000000", "2000000000000000000000000000000000000000",
                                    "3000000000000000000000000000000000000000"};
  char *dir = g_dir_make_tmp("dhtsim-test-XXXXXX", NULL);
  char *topo = g_build_filename(dir, "t.topo", NULL), *lk = g_build_filename(dir, "l.txt", NULL);
  GString *t = g_string_new("dhtsim-topology v1\nnodes 5\n");
  for (int i = 0; i < 5; i++)
    g_string_append_printf(t, "%d %s 10.0.0.%d 6881\n", i, ids[i], i);
  g_string_append(t, "contacts\n0: 1\n1: 2 3 4\n2:\n3:\n4:\n");
  cr_assert(g_file_set_contents(topo, t->str, -1, NULL));
  cr_assert(g_file_set_contents(lk, "0 0000000000000000000000000000000000000000\n", -1, NULL));
  for (unsigned k = 1; k <= 2; k++) {
    sim_scenario sc;
    sim_results res;
    base_scenario(&sc);
    sc.network.topology = topo;
    sc.workload.lookups_file = lk;
    sc.workload.planted_peers = 0;
    sc.lookup.k = k;
    sc.lookup.alpha = k + 1;
    run_ok(&sc, NULL, &res);
    cr_assert(eq(u64, res.lookups[0].queries, 1 + k), "K %u", k);
    sim_results_clear(&res);
  }
  g_remove(topo);
  g_remove(lk);
  g_rmdir(dir);
  g_string_free(t, TRUE);
  g_free(topo);
  g_free(lk);
  g_free(dir);
}

/* The first seed from 1 whose run of sc has the given dead and slow counts. */
static uint64_t seed_with(const sim_scenario *sc, uint32_t dead, uint32_t slow) {
  for (uint64_t seed = 1; seed < 1000; seed++) {
    sim_options o = {.seed_set = true, .seed = seed};
    sim_results res;
    char err[256];
    if (sim_run(sc, &o, &res, err, sizeof err) != 0)
      continue;
    bool hit = res.counters.dead_nodes == dead && res.counters.slow_nodes == slow;
    sim_results_clear(&res);
    if (hit)
      return seed;
  }
  cr_assert(false, "no seed below 1000 gives %u dead and %u slow nodes", dead, slow);
  return 0;
}

/* Two nodes, one slow: every lookup is one query, whose request and answer
 * each involve the slow node, so both take 10 x 50 ms. Slowing only
 * messages from a slow node, only those to it, or only those between two
 * slow nodes would give 550 or 100 ms. */
Test(sim, the_slow_multiplier_applies_to_messages_to_or_from_a_slow_node) {
  sim_scenario sc;
  sim_results res;
  base_scenario(&sc);
  sc.network.nodes = 2;
  sc.workload.planted_peers = 0;
  sc.workload.lookups = 10;
  sc.latency.slow_fraction = 0.5;
  sc.latency.slow_multiplier = 10;
  sim_options o = {.seed_set = true, .seed = seed_with(&sc, 0, 1)};
  run_ok(&sc, &o, &res);
  bool both_starts = false;
  for (size_t i = 0; i < res.n_lookups; i++) {
    cr_assert(eq(u64, res.lookups[i].queries, 1));
    cr_assert(eq(u64, res.lookups[i].time_us, 1000000), "lookup %zu from node %u", i, res.lookups[i].start_node);
    both_starts |= res.lookups[i].start_node != res.lookups[0].start_node;
  }
  cr_assert(both_starts, "every lookup started at the same node: the slow one as querier and as queried not both seen");
  sim_results_clear(&res);
}

/* Six nodes with full tables, two of them dead: each lookup reaches every
 * live node, so its accuracy is 3 of 3 (the live nodes but the start one);
 * counting the dead in the true closest set would make it 3 of 4. The dead
 * never answer: each query to one times out, and every lookup waits for
 * that timeout. */
Test(sim, accuracy_counts_live_nodes_and_dead_nodes_never_answer) {
  sim_scenario sc;
  sim_results res;
  base_scenario(&sc);
  sc.network.nodes = 6;
  sc.network.tables = SIM_TABLES_FULL;
  sc.workload.planted_peers = 0;
  sc.workload.lookups = 20;
  sc.loss.dead_fraction = 0.3;
  sim_options o = {.seed_set = true, .seed = seed_with(&sc, 2, 0)};
  run_ok(&sc, &o, &res);
  for (size_t i = 0; i < res.n_lookups; i++) {
    cr_assert(eq(u32, res.lookups[i].closest_truth, 3), "lookup %zu", i);
    cr_assert(eq(u32, res.lookups[i].closest_hits, 3), "lookup %zu", i);
    cr_assert(ge(u64, res.lookups[i].time_us, sc.lookup.timeout_us), "lookup %zu got an answer from a dead node?", i);
  }
  cr_assert(gt(u64, res.counters.dead_queries, 0));
  cr_assert(eq(u64, res.counters.timeouts, res.counters.dead_queries));
  cr_assert(eq(u64, res.counters.late_responses, 0));
  sim_results_clear(&res);
}

/* workload.values_with_nodes: true: a node holding peers answers with its
 * nodes as well, so peers change no lookup's course: every lookup queries
 * the same nodes as with no peers planted at all. false (the seed's rule):
 * the holders answer with no nodes, and the lookups differ. */
Test(sim, values_with_nodes_leaves_the_lookups_as_without_peers) {
  sim_scenario sc;
  sim_results none, with, without;
  uint64_t differ = 0;
  base_scenario(&sc);
  sc.network.nodes = 1000;
  sc.network.tables = SIM_TABLES_FULL;
  sc.latency.model = SIM_LATENCY_LOGNORMAL;
  sc.loss.request_drop = 0.05;
  sc.workload.lookups = 60;
  sc.workload.planted_peers = 0;
  run_ok(&sc, NULL, &none);
  sc.workload.planted_peers = 5;
  sc.workload.plant_at = sc.lookup.k;
  sc.workload.values_with_nodes = true;
  run_ok(&sc, NULL, &with);
  sc.workload.values_with_nodes = false;
  run_ok(&sc, NULL, &without);
  for (size_t i = 0; i < none.n_lookups; i++) {
    const sim_lookup_result *a = &none.lookups[i], *b = &with.lookups[i], *c = &without.lookups[i];
    cr_assert(eq(u64, a->queries, b->queries), "lookup %zu", i);
    cr_assert(eq(u64, a->hops, b->hops), "lookup %zu", i);
    cr_assert(eq(u64, a->time_us, b->time_us), "lookup %zu", i);
    cr_assert(eq(u32, a->closest_hits, b->closest_hits), "lookup %zu", i);
    cr_assert(eq(u32, a->peers_found, 0));
    cr_assert(eq(u32, b->peers_found, 5), "lookup %zu: every lookup reaches a holder", i);
    differ += a->queries != c->queries;
  }
  cr_assert(differ > 0, "the seed's rule changes some lookups");
  sim_results_clear(&none);
  sim_results_clear(&with);
  sim_results_clear(&without);
}

/* result_us: the last answer that changed the result. Without loss the
 * rounds strategy's last batch always brings nodes into the K closest (no
 * tail: result = time), while pipelined often waits for answers that change
 * nothing; a lookup that no answer reaches has result 0. */
Test(sim, result_time_is_the_last_useful_answer) {
  sim_scenario sc;
  sim_results res;
  uint64_t tails = 0;
  base_scenario(&sc);
  sc.network.nodes = 2000;
  sc.network.tables = SIM_TABLES_FULL;
  sc.workload.lookups = 50;
  run_ok(&sc, NULL, &res);
  for (size_t i = 0; i < res.n_lookups; i++) {
    cr_assert(eq(u64, res.lookups[i].result_us, res.lookups[i].time_us), "rounds, lookup %zu", i);
    cr_assert(res.lookups[i].result_us > 0, "lookup %zu", i);
  }
  sim_results_clear(&res);
  sc.lookup.strategy = DHT_LOOKUP_PIPELINED;
  run_ok(&sc, NULL, &res);
  for (size_t i = 0; i < res.n_lookups; i++) {
    cr_assert(le(u64, res.lookups[i].result_us, res.lookups[i].time_us));
    tails += res.lookups[i].result_us < res.lookups[i].time_us;
  }
  cr_assert(tails > 0, "pipelined waits after its last useful answer");
  sim_results_clear(&res);
  sc.loss.request_drop = 1.0;
  run_ok(&sc, NULL, &res);
  for (size_t i = 0; i < res.n_lookups; i++)
    cr_assert(eq(u64, res.lookups[i].result_us, 0), "nothing answered");
  sim_results_clear(&res);
}
