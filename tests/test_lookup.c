/* test_lookup.c: the seed's iterative-lookup.test.ts ported case by case
 * (30 tests, suites lookup_basic .. lookup_mock_network), then unit tests of
 * each strategy and of the API contract (lookup_rounds, lookup_pipelined,
 * lookup_api).
 *
 * The seed's lookup is DHT_LOOKUP_ROUNDS; where a seed case does not depend
 * on batching it runs under both strategies. Randomness: every test derives
 * its seed from DHTSIM_TEST_SEED (default below) and its own name, and logs it. */
#include <criterion/criterion.h>
#include "criterion_assert.h"
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "lookup.h"
#include "mock_network.h"
#include "routing_table.h"

#define K MOCK_K
#define ALPHA DHT_ALPHA_DEFAULT
#define DEFAULT_BASE_SEED 0x5eed20240601ULL

static dht_rng rng;
static dht_id local_id, target;

static const dht_lookup_strategy STRATS[] = {DHT_LOOKUP_ROUNDS, DHT_LOOKUP_PIPELINED};
#define N_STRATS 2
static const char *strat_name(dht_lookup_strategy s) {
  return s == DHT_LOOKUP_ROUNDS ? "rounds" : "pipelined";
}

static uint64_t base_seed(void) {
  const char *s = getenv("DHTSIM_TEST_SEED");
  return s != NULL && *s != '\0' ? strtoull(s, NULL, 0) : DEFAULT_BASE_SEED;
}

/* Seeds rng from the base seed and the test's name; draws local_id and target. */
static void setup_named(const char *name) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const char *p = name; *p; p++)
    h = (h ^ (uint8_t)*p) * 0x100000001b3ULL;
  uint64_t seed = dht_seed_derive(base_seed(), h);
  cr_log_info("%s: base seed %#" PRIx64 " (DHTSIM_TEST_SEED), test seed %#" PRIx64, name,
              base_seed(), seed);
  dht_rng_init(&rng, seed);
  dht_id_random(&local_id, &rng);
  dht_id_random(&target, &rng);
}
#define SETUP() setup_named(__func__)

/* ---- helpers --------------------------------------------------------------- */

static struct cr_mem idmem(const dht_id *id) {
  return (struct cr_mem){.data = id->b, .size = DHT_ID_LEN};
}

static void assert_node_eq(const dht_node *a, const dht_node *b) {
  cr_assert(eq(mem, idmem(&a->id), idmem(&b->id)));
  cr_assert(dht_addr_eq(&a->addr, &b->addr));
}

static dht_lookup *new_lookup(dht_lookup_strategy s, unsigned alpha, unsigned k) {
  dht_lookup_config cfg = {.alpha = alpha, .k = k, .strategy = s};
  dht_lookup *l = dht_lookup_new(&target, &local_id, &cfg);
  cr_assert(ne(ptr, l, NULL));
  return l;
}

/* The seed's createSeededRoutingTable + routingTable.closest(target, k). */
static size_t seed_via_rt(dht_lookup *l, const dht_node *nodes, size_t n, unsigned k) {
  dht_rt *rt = dht_rt_new(&local_id, K);
  dht_node out[DHT_K_MAX];
  cr_assert(ne(ptr, rt, NULL));
  for (size_t i = 0; i < n; i++)
    cr_assert(ge(int, dht_rt_add(rt, &nodes[i]), 0));
  size_t m = dht_rt_closest(rt, &target, out, k);
  cr_assert(eq(int, dht_lookup_seed(l, out, m), DHT_OK));
  dht_rt_free(rt);
  return m;
}

/* n random nodes at 10.b.0.(first+i):6881. */
static void make_nodes(dht_node *out, size_t n, unsigned b, unsigned first) {
  for (size_t i = 0; i < n; i++)
    out[i] = mock_node_random(&rng, 10, b, 0, first + (unsigned)i, 6881);
}

static int by_distance(const void *a, const void *b) {
  return dht_id_distance_cmp(&target, &((const dht_node *)a)->id, &((const dht_node *)b)->id);
}

static void assert_sorted_by_distance(const dht_node *nodes, size_t n) {
  for (size_t i = 1; i < n; i++)
    cr_assert(le(int, dht_id_distance_cmp(&target, &nodes[i - 1].id, &nodes[i].id), 0),
              "closest not sorted at %zu", i);
}

static bool has_peer(const dht_addr *peers, size_t n, const dht_addr *a) {
  for (size_t i = 0; i < n; i++)
    if (dht_addr_eq(&peers[i], a))
      return true;
  return false;
}

/* A responder giving every node the same answer (the seed's
 * `async () => ({token, nodes: [...]})`), counting calls. */
typedef struct fixed {
  dht_lookup_reply r;
  size_t calls;
} fixed;

static bool fixed_responder(void *ud, const dht_node *q, dht_lookup_reply *out) {
  (void)q;
  fixed *f = ud;
  f->calls++;
  *out = f->r;
  return true;
}

static bool fail_responder(void *ud, const dht_node *q, dht_lookup_reply *out) {
  (void)q;
  (void)out;
  (*(size_t *)ud)++;
  return false;
}

static const uint8_t TOKEN4[] = {1, 2, 3, 4};
static const uint8_t TOK1[] = {1}, TOK2[] = {2}, TOK3[] = {3};

/* ===========================================================================
 * Basic functionality (5)
 * ========================================================================= */

Test(lookup_basic, queries_initial_candidates_from_routing_table) {
  SETUP();
  dht_node nodes[5];
  make_nodes(nodes, 5, 0, 0);
  for (int s = 0; s < N_STRATS; s++) {
    dht_lookup *l = new_lookup(STRATS[s], ALPHA, K);
    seed_via_rt(l, nodes, 5, K);
    fixed f = {.r = {.token = TOKEN4, .token_len = 4}};
    mock_sync_log log = {0};
    mock_run_sync(l, fixed_responder, &f, &log);
    cr_assert(eq(sz, log.n_queried, 5), "%s", strat_name(STRATS[s]));
    for (size_t i = 0; i < log.n_queried; i++) {
      bool found = false;
      for (size_t j = 0; j < 5; j++)
        found |= dht_addr_eq(&log.queried[i].addr, &nodes[j].addr) &&
                 dht_id_eq(&log.queried[i].id, &nodes[j].id);
      cr_assert(found, "queried a node that is not in the routing table");
    }
    mock_sync_log_clear(&log);
    dht_lookup_free(l);
  }
}

Test(lookup_basic, returns_peers_when_found) {
  SETUP();
  dht_node node = mock_node_random(&rng, 10, 0, 0, 1, 6881);
  dht_addr expected[2] = {mock_addr(192, 168, 1, 1, 51413), mock_addr(192, 168, 1, 2, 51414)};
  for (int s = 0; s < N_STRATS; s++) {
    dht_lookup *l = new_lookup(STRATS[s], ALPHA, K);
    seed_via_rt(l, &node, 1, K);
    fixed f = {.r = {.token = TOKEN4, .token_len = 4, .peers = expected, .n_peers = 2}};
    mock_run_sync(l, fixed_responder, &f, NULL);
    size_t n;
    const dht_addr *peers = dht_lookup_peers(l, &n);
    cr_assert(eq(sz, n, 2));
    cr_assert(has_peer(peers, n, &expected[0]));
    cr_assert(has_peer(peers, n, &expected[1]));
    dht_lookup_free(l);
  }
}

Test(lookup_basic, stores_tokens_from_responding_nodes) {
  SETUP();
  dht_node nodes[2];
  make_nodes(nodes, 2, 0, 1);
  static const uint8_t t1[] = {1, 1, 1, 1}, t2[] = {2, 2, 2, 2};
  mock_table *t = mock_table_new();
  mock_table_set(t, &nodes[0].addr, t1, 4, NULL, 0, NULL, 0);
  mock_table_set(t, &nodes[1].addr, t2, 4, NULL, 0, NULL, 0);
  for (int s = 0; s < N_STRATS; s++) {
    dht_lookup *l = new_lookup(STRATS[s], ALPHA, K);
    seed_via_rt(l, nodes, 2, K);
    mock_run_sync(l, mock_table_responder, t, NULL);
    cr_assert(eq(sz, dht_lookup_token_count(l), 2));
    const uint8_t *tok;
    size_t len;
    cr_assert(eq(int, dht_lookup_token_for(l, &nodes[0].addr, &tok, &len), DHT_OK));
    cr_assert(eq(mem, ((struct cr_mem){tok, len}), ((struct cr_mem){t1, 4})));
    cr_assert(eq(int, dht_lookup_token_for(l, &nodes[1].addr, &tok, &len), DHT_OK));
    cr_assert(eq(mem, ((struct cr_mem){tok, len}), ((struct cr_mem){t2, 4})));
    dht_lookup_free(l);
  }
  mock_table_free(t);
}

Test(lookup_basic, returns_closest_responding_nodes) {
  SETUP();
  dht_node nodes[10];
  make_nodes(nodes, 10, 0, 0);
  for (int s = 0; s < N_STRATS; s++) {
    dht_lookup *l = new_lookup(STRATS[s], ALPHA, 5);
    seed_via_rt(l, nodes, 10, 5);
    fixed f = {.r = {.token = TOKEN4, .token_len = 4}};
    mock_sync_log log = {0};
    mock_run_sync(l, fixed_responder, &f, &log);
    dht_node closest[K];
    size_t n = dht_lookup_closest(l, closest, K);
    cr_assert(le(sz, n, 5));
    assert_sorted_by_distance(closest, n);
    /* Everything queried answered: closest = the 5 closest queried, sorted. */
    qsort(log.queried, log.n_queried, sizeof *log.queried, by_distance);
    cr_assert(eq(sz, n, log.n_queried < 5 ? log.n_queried : 5));
    for (size_t i = 0; i < n; i++)
      assert_node_eq(&closest[i], &log.queried[i]);
    mock_sync_log_clear(&log);
    dht_lookup_free(l);
  }
}

Test(lookup_basic, tracks_queried_count_correctly) {
  SETUP();
  dht_node nodes[5];
  make_nodes(nodes, 5, 0, 0);
  for (int s = 0; s < N_STRATS; s++) {
    dht_lookup *l = new_lookup(STRATS[s], ALPHA, K);
    seed_via_rt(l, nodes, 5, K);
    fixed f = {.r = {.token = TOKEN4, .token_len = 4}};
    mock_run_sync(l, fixed_responder, &f, NULL);
    cr_assert(eq(sz, dht_lookup_queried_count(l), 5));
    cr_assert(eq(sz, f.calls, 5));
    dht_lookup_free(l);
  }
}

/* ===========================================================================
 * Iterative deepening (3)
 * ========================================================================= */

Test(lookup_deepening, queries_nodes_returned_in_responses) {
  SETUP();
  dht_node n1 = mock_node_random(&rng, 10, 0, 0, 1, 6881);
  dht_node n2 = mock_node_random(&rng, 10, 0, 0, 2, 6881);
  static const uint8_t t2[] = {5, 6, 7, 8};
  mock_table *t = mock_table_new();
  mock_table_set(t, &n1.addr, TOKEN4, 4, NULL, 0, &n2, 1);
  mock_table_set(t, &n2.addr, t2, 4, NULL, 0, NULL, 0);
  for (int s = 0; s < N_STRATS; s++) {
    dht_lookup *l = new_lookup(STRATS[s], ALPHA, K);
    seed_via_rt(l, &n1, 1, K);
    mock_sync_log log = {0};
    mock_run_sync(l, mock_table_responder, t, &log);
    cr_assert(mock_sync_log_queried(&log, &n1.addr));
    cr_assert(mock_sync_log_queried(&log, &n2.addr));
    mock_sync_log_clear(&log);
    dht_lookup_free(l);
  }
  mock_table_free(t);
}

Test(lookup_deepening, continues_past_nodes_without_peers) {
  SETUP();
  dht_node n[3];
  make_nodes(n, 3, 0, 1);
  dht_addr peer = mock_addr(192, 168, 1, 1, 51413);
  mock_table *t = mock_table_new();
  mock_table_set(t, &n[0].addr, TOK1, 1, NULL, 0, &n[1], 1);
  mock_table_set(t, &n[1].addr, TOK2, 1, NULL, 0, &n[2], 1);
  mock_table_set(t, &n[2].addr, TOK3, 1, &peer, 1, NULL, 0);
  for (int s = 0; s < N_STRATS; s++) {
    dht_lookup *l = new_lookup(STRATS[s], ALPHA, K);
    seed_via_rt(l, &n[0], 1, K);
    mock_run_sync(l, mock_table_responder, t, NULL);
    size_t np;
    const dht_addr *peers = dht_lookup_peers(l, &np);
    cr_assert(eq(sz, np, 1));
    cr_assert(dht_addr_eq(&peers[0], &peer));
    cr_assert(eq(sz, dht_lookup_queried_count(l), 3));
    dht_lookup_free(l);
  }
  mock_table_free(t);
}

Test(lookup_deepening, collects_peers_from_multiple_nodes) {
  SETUP();
  dht_node n[3];
  make_nodes(n, 3, 0, 1);
  dht_addr p[3] = {mock_addr(192, 168, 1, 1, 1), mock_addr(192, 168, 1, 2, 2),
                   mock_addr(192, 168, 1, 3, 3)};
  const uint8_t *toks[3] = {TOK1, TOK2, TOK3};
  mock_table *t = mock_table_new();
  for (int i = 0; i < 3; i++)
    mock_table_set(t, &n[i].addr, toks[i], 1, &p[i], 1, NULL, 0);
  for (int s = 0; s < N_STRATS; s++) {
    dht_lookup *l = new_lookup(STRATS[s], ALPHA, K);
    seed_via_rt(l, n, 3, K);
    mock_run_sync(l, mock_table_responder, t, NULL);
    size_t np;
    const dht_addr *peers = dht_lookup_peers(l, &np);
    cr_assert(eq(sz, np, 3));
    for (int i = 0; i < 3; i++)
      cr_assert(has_peer(peers, np, &p[i]));
    dht_lookup_free(l);
  }
  mock_table_free(t);
}

/* ===========================================================================
 * Convergence (3)
 * ========================================================================= */

Test(lookup_convergence, stops_when_no_closer_nodes_available) {
  SETUP();
  dht_node nodes[K];
  make_nodes(nodes, K, 0, 0);
  for (int s = 0; s < N_STRATS; s++) {
    dht_lookup *l = new_lookup(STRATS[s], ALPHA, K);
    seed_via_rt(l, nodes, K, K);
    fixed f = {.r = {.token = TOKEN4, .token_len = 4}};
    mock_run_sync(l, fixed_responder, &f, NULL);
    cr_assert(eq(sz, dht_lookup_queried_count(l), K));
    cr_assert(eq(sz, f.calls, K));
    dht_lookup_free(l);
  }
}

/* The seed only checked queriedCount <= 2K. Here the 2K candidates are seeded
 * directly (a routing table of K-buckets may not keep all 2K), everybody
 * answers with no nodes, and the lookup must stop once the K closest have
 * answered: it queries the K closest, plus at most alpha-1 more that were
 * issued alongside them (rounds: the rest of the last batch, exactly
 * ceil(K/alpha)*alpha; pipelined: queries issued while the K-th was pending),
 * and returns exactly the K closest. */
Test(lookup_convergence, stops_when_k_closest_have_responded) {
  SETUP();
  dht_node nodes[2 * K];
  make_nodes(nodes, 2 * K, 0, 0);
  qsort(nodes, 2 * K, sizeof *nodes, by_distance);
  for (int s = 0; s < N_STRATS; s++) {
    dht_lookup *l = new_lookup(STRATS[s], ALPHA, K);
    cr_assert(eq(int, dht_lookup_seed(l, nodes, 2 * K), DHT_OK));
    fixed f = {.r = {.token = TOKEN4, .token_len = 4}};
    mock_sync_log log = {0};
    mock_run_sync(l, fixed_responder, &f, &log);
    size_t q = dht_lookup_queried_count(l);
    if (STRATS[s] == DHT_LOOKUP_ROUNDS)
      cr_assert(eq(sz, q, (K + ALPHA - 1) / ALPHA * ALPHA));
    cr_assert(le(sz, q, K + ALPHA - 1), "%s queried %zu", strat_name(STRATS[s]), q);
    for (size_t i = 0; i < K; i++)
      cr_assert(mock_sync_log_queried(&log, &nodes[i].addr));
    dht_node closest[K];
    cr_assert(eq(sz, dht_lookup_closest(l, closest, K), K));
    for (size_t i = 0; i < K; i++)
      assert_node_eq(&closest[i], &nodes[i]);
    mock_sync_log_clear(&log);
    dht_lookup_free(l);
  }
}

/* Close nodes share the first 104 bits with the target; far nodes differ in
 * the first bit, so every far node is farther than every close node. The
 * routing table yields the K close nodes; they answer with the far ones.
 *
 * With alpha dividing K the seed's algorithm queries the K close nodes in
 * K/alpha full batches, then converges: NO far node is queried. With the
 * default alpha=3, K=8 the third batch is 2 close + the closest far node (a
 * batch is the alpha closest unqueried, and 6 < K have responded before it):
 * exactly 1 far node, by design. Pipelined may issue up to alpha-1 far nodes
 * while the last close ones are pending. In every case the result is exactly
 * the close nodes, sorted. */
Test(lookup_convergence, does_not_query_nodes_farther_than_k_closest_responding) {
  SETUP();
  dht_node close_n[K], far_n[K], all[2 * K];
  for (unsigned i = 0; i < K; i++) {
    close_n[i] = mock_node_random(&rng, 10, 0, 0, i, 6881);
    memcpy(close_n[i].id.b, target.b, 13); /* 104 shared bits */
    far_n[i] = mock_node_random(&rng, 10, 1, 0, i, 6881);
    far_n[i].id.b[0] = (uint8_t)((far_n[i].id.b[0] & 0x7f) | (~target.b[0] & 0x80));
  }
  memcpy(all, close_n, sizeof close_n);
  memcpy(all + K, far_n, sizeof far_n);
  qsort(close_n, K, sizeof *close_n, by_distance);
  qsort(far_n, K, sizeof *far_n, by_distance);
  mock_table *t = mock_table_new();
  for (unsigned i = 0; i < K; i++) {
    mock_table_set(t, &close_n[i].addr, TOKEN4, 4, NULL, 0, far_n, K);
    mock_table_set(t, &far_n[i].addr, TOKEN4, 4, NULL, 0, NULL, 0);
  }

  struct {
    dht_lookup_strategy s;
    unsigned alpha;
    size_t min_far, max_far;
  } cases[] = {
      {DHT_LOOKUP_ROUNDS, 4, 0, 0}, /* K % alpha == 0: none */
      {DHT_LOOKUP_ROUNDS, 2, 0, 0},
      {DHT_LOOKUP_ROUNDS, 1, 0, 0},
      {DHT_LOOKUP_ROUNDS, 3, 1, 1}, /* the seed's defaults: the filler of the last batch */
      {DHT_LOOKUP_PIPELINED, 1, 0, 0},
      {DHT_LOOKUP_PIPELINED, 3, 0, 2},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    dht_lookup *l = new_lookup(cases[c].s, cases[c].alpha, K);
    cr_assert(eq(sz, seed_via_rt(l, all, 2 * K, K), K));
    mock_sync_log log = {0};
    mock_run_sync(l, mock_table_responder, t, &log);
    for (size_t i = 0; i < K; i++)
      cr_assert(mock_sync_log_queried(&log, &close_n[i].addr), "close node %zu not queried", i);
    size_t n_far = 0;
    for (size_t i = 0; i < K; i++)
      if (mock_sync_log_queried(&log, &far_n[i].addr)) {
        n_far++;
        /* Only ever the closest far ones, in order. */
        cr_assert(lt(sz, i, cases[c].max_far), "%s alpha=%u queried far node %zu",
                  strat_name(cases[c].s), cases[c].alpha, i);
      }
    cr_assert(ge(sz, n_far, cases[c].min_far));
    cr_assert(le(sz, n_far, cases[c].max_far), "%s alpha=%u queried %zu far nodes",
              strat_name(cases[c].s), cases[c].alpha, n_far);
    dht_node closest[K];
    cr_assert(eq(sz, dht_lookup_closest(l, closest, K), K));
    for (size_t i = 0; i < K; i++)
      assert_node_eq(&closest[i], &close_n[i]);
    mock_sync_log_clear(&log);
    dht_lookup_free(l);
  }
  mock_table_free(t);
}

/* Beyond the seed: K far nodes are queried, closest first; only the last one
 * to answer names a close node. K have then responded, but an unqueried
 * candidate is closer than the K-th: the lookup must go on, query it, and
 * rank it first (the farthest far node drops out of the K closest). */
Test(lookup_convergence, continues_while_a_closer_candidate_is_unqueried) {
  SETUP();
  dht_node far_n[K];
  for (unsigned i = 0; i < K; i++) {
    far_n[i] = mock_node_random(&rng, 10, 1, 0, i, 6881);
    far_n[i].id.b[0] = (uint8_t)((far_n[i].id.b[0] & 0x7f) | (~target.b[0] & 0x80));
  }
  qsort(far_n, K, sizeof *far_n, by_distance);
  dht_node near = mock_node_random(&rng, 10, 0, 0, 1, 6881);
  memcpy(near.id.b, target.b, 10);
  mock_table *t = mock_table_new();
  for (unsigned i = 0; i < K; i++)
    mock_table_set(t, &far_n[i].addr, TOKEN4, 4, NULL, 0, &near, i == K - 1 ? 1 : 0);
  mock_table_set(t, &near.addr, TOKEN4, 4, NULL, 0, NULL, 0);
  for (int s = 0; s < N_STRATS; s++) {
    for (unsigned alpha = 1; alpha <= K; alpha++) {
      dht_lookup *l = new_lookup(STRATS[s], alpha, K);
      cr_assert(eq(int, dht_lookup_seed(l, far_n, K), DHT_OK));
      mock_sync_log log = {0};
      mock_run_sync(l, mock_table_responder, t, &log);
      cr_assert(mock_sync_log_queried(&log, &near.addr), "%s alpha=%u: closer node not queried",
                strat_name(STRATS[s]), alpha);
      cr_assert(eq(sz, dht_lookup_queried_count(l), K + 1));
      dht_node closest[K];
      cr_assert(eq(sz, dht_lookup_closest(l, closest, K), K));
      assert_node_eq(&closest[0], &near);
      for (size_t i = 1; i < K; i++)
        assert_node_eq(&closest[i], &far_n[i - 1]);
      mock_sync_log_clear(&log);
      dht_lookup_free(l);
    }
  }
  mock_table_free(t);
}

/* ===========================================================================
 * Error handling (4)
 * ========================================================================= */

Test(lookup_errors, handles_unresponsive_nodes_gracefully) {
  SETUP();
  dht_node n[2];
  make_nodes(n, 2, 0, 1);
  mock_table *t = mock_table_new();
  mock_table_set(t, &n[0].addr, TOKEN4, 4, NULL, 0, NULL, 0);
  mock_table_set_fail(t, &n[1].addr); /* timeout */
  for (int s = 0; s < N_STRATS; s++) {
    dht_lookup *l = new_lookup(STRATS[s], ALPHA, K);
    seed_via_rt(l, n, 2, K);
    mock_run_sync(l, mock_table_responder, t, NULL);
    cr_assert(eq(sz, dht_lookup_queried_count(l), 2));
    dht_node closest[K];
    cr_assert(eq(sz, dht_lookup_closest(l, closest, K), 1));
    assert_node_eq(&closest[0], &n[0]);
    cr_assert(eq(sz, dht_lookup_token_count(l), 1));
    cr_assert(eq(int, dht_lookup_token_for(l, &n[1].addr, NULL, NULL), DHT_ENOENT));
    dht_lookup_free(l);
  }
  mock_table_free(t);
}

Test(lookup_errors, handles_all_nodes_being_unresponsive) {
  SETUP();
  dht_node nodes[5];
  make_nodes(nodes, 5, 0, 0);
  for (int s = 0; s < N_STRATS; s++) {
    dht_lookup *l = new_lookup(STRATS[s], ALPHA, K);
    seed_via_rt(l, nodes, 5, K);
    size_t calls = 0;
    mock_run_sync(l, fail_responder, &calls, NULL);
    size_t np;
    dht_node closest[K];
    cr_assert(eq(sz, dht_lookup_queried_count(l), 5));
    cr_assert(eq(sz, calls, 5));
    cr_assert(eq(sz, dht_lookup_closest(l, closest, K), 0));
    dht_lookup_peers(l, &np);
    cr_assert(eq(sz, np, 0));
    cr_assert(eq(sz, dht_lookup_token_count(l), 0));
    dht_lookup_free(l);
  }
}

/* The seed's "sendGetPeers throwing errors": in C the driver reports the
 * error with dht_lookup_failed, exactly like a timeout. */
typedef struct throw_resp {
  dht_addr bad;
  size_t calls;
} throw_resp;

static bool throwing_responder(void *ud, const dht_node *q, dht_lookup_reply *out) {
  throw_resp *tr = ud;
  tr->calls++;
  if (dht_addr_eq(&q->addr, &tr->bad))
    return false; /* "throw new Error('Network error')" */
  *out = (dht_lookup_reply){.token = TOKEN4, .token_len = 4};
  return true;
}

Test(lookup_errors, handles_query_errors_reported_as_failures) {
  SETUP();
  dht_node n[2];
  make_nodes(n, 2, 0, 1);
  for (int s = 0; s < N_STRATS; s++) {
    dht_lookup *l = new_lookup(STRATS[s], ALPHA, K);
    seed_via_rt(l, n, 2, K);
    throw_resp tr = {.bad = n[0].addr};
    mock_run_sync(l, throwing_responder, &tr, NULL);
    cr_assert(eq(sz, tr.calls, 2));
    dht_node closest[K];
    cr_assert(eq(sz, dht_lookup_closest(l, closest, K), 1));
    assert_node_eq(&closest[0], &n[1]);
    dht_lookup_free(l);
  }
}

Test(lookup_errors, continues_discovering_through_failures) {
  SETUP();
  dht_node n[2];
  make_nodes(n, 2, 0, 1);
  dht_addr peer = mock_addr(192, 168, 1, 1, 1);
  mock_table *t = mock_table_new();
  mock_table_set_fail(t, &n[0].addr);
  mock_table_set(t, &n[1].addr, TOK1, 1, &peer, 1, NULL, 0);
  for (int s = 0; s < N_STRATS; s++) {
    dht_lookup *l = new_lookup(STRATS[s], ALPHA, K);
    seed_via_rt(l, n, 2, K);
    mock_run_sync(l, mock_table_responder, t, NULL);
    size_t np;
    const dht_addr *peers = dht_lookup_peers(l, &np);
    cr_assert(eq(sz, np, 1));
    cr_assert(dht_addr_eq(&peers[0], &peer));
    dht_lookup_free(l);
  }
  mock_table_free(t);
}

/* ===========================================================================
 * Parallelism (2)
 * ========================================================================= */

Test(lookup_parallelism, respects_alpha_parallelism_limit) {
  SETUP();
  dht_node nodes[10];
  make_nodes(nodes, 10, 0, 0);
  for (int s = 0; s < N_STRATS; s++) {
    for (unsigned alpha = 1; alpha <= 5; alpha++) {
      dht_lookup *l = new_lookup(STRATS[s], alpha, K);
      /* Seeded directly with 10 (> K) so that alpha never runs out of work. */
      cr_assert(eq(int, dht_lookup_seed(l, nodes, 10), DHT_OK));
      fixed f = {.r = {.token = TOKEN4, .token_len = 4}};
      mock_sync_log log = {0};
      mock_run_sync(l, fixed_responder, &f, &log);
      cr_assert(le(uint, log.max_in_flight, alpha), "%s alpha=%u: %u in flight",
                strat_name(STRATS[s]), alpha, log.max_in_flight);
      mock_sync_log_clear(&log);
      dht_lookup_free(l);
    }
  }
}

Test(lookup_parallelism, sends_alpha_queries_in_parallel) {
  SETUP();
  dht_node nodes[10];
  make_nodes(nodes, 10, 0, 0);
  for (int s = 0; s < N_STRATS; s++) {
    dht_lookup *l = new_lookup(STRATS[s], ALPHA, K);
    cr_assert(eq(int, dht_lookup_seed(l, nodes, 10), DHT_OK));
    fixed f = {.r = {.token = TOKEN4, .token_len = 4}};
    mock_sync_log log = {0};
    mock_run_sync(l, fixed_responder, &f, &log);
    cr_assert(eq(sz, log.first_batch, ALPHA), "%s", strat_name(STRATS[s]));
    cr_assert(eq(uint, log.max_in_flight, ALPHA));
    mock_sync_log_clear(&log);
    dht_lookup_free(l);
  }
}

/* ===========================================================================
 * Deduplication (3)
 * ========================================================================= */

Test(lookup_dedup, does_not_query_the_same_node_twice) {
  SETUP();
  dht_node node = mock_node_random(&rng, 10, 0, 0, 1, 6881);
  for (int s = 0; s < N_STRATS; s++) {
    dht_lookup *l = new_lookup(STRATS[s], ALPHA, K);
    seed_via_rt(l, &node, 1, K);
    fixed f = {.r = {.token = TOKEN4, .token_len = 4, .nodes = &node, .n_nodes = 1}};
    mock_run_sync(l, fixed_responder, &f, NULL);
    cr_assert(eq(sz, f.calls, 1));
    cr_assert(eq(sz, dht_lookup_queried_count(l), 1));
    dht_lookup_free(l);
  }
}

Test(lookup_dedup, deduplicates_peers_by_host_port) {
  SETUP();
  dht_node n[2];
  make_nodes(n, 2, 0, 1);
  dht_addr same = mock_addr(192, 168, 1, 1, 51413);
  mock_table *t = mock_table_new();
  mock_table_set(t, &n[0].addr, TOK1, 1, &same, 1, NULL, 0);
  mock_table_set(t, &n[1].addr, TOK2, 1, &same, 1, NULL, 0);
  for (int s = 0; s < N_STRATS; s++) {
    dht_lookup *l = new_lookup(STRATS[s], ALPHA, K);
    seed_via_rt(l, n, 2, K);
    mock_run_sync(l, mock_table_responder, t, NULL);
    size_t np;
    dht_lookup_peers(l, &np);
    cr_assert(eq(sz, np, 1));
    cr_assert(eq(sz, dht_lookup_token_count(l), 2));
    dht_lookup_free(l);
  }
  mock_table_free(t);
}

Test(lookup_dedup, handles_nodes_with_same_address_but_different_ids) {
  SETUP();
  dht_node n1 = mock_node_random(&rng, 10, 0, 0, 1, 6881);
  dht_node n2 = mock_node_random(&rng, 10, 0, 0, 1, 6881); /* same address, new ID */
  cr_assert(not(eq(mem, idmem(&n1.id), idmem(&n2.id))));
  for (int s = 0; s < N_STRATS; s++) {
    dht_lookup *l = new_lookup(STRATS[s], ALPHA, K);
    seed_via_rt(l, &n1, 1, K);
    fixed f = {.r = {.token = TOKEN4, .token_len = 4, .nodes = &n2, .n_nodes = 1}};
    mock_run_sync(l, fixed_responder, &f, NULL);
    cr_assert(eq(sz, f.calls, 1));
    dht_node closest[K];
    cr_assert(eq(sz, dht_lookup_closest(l, closest, K), 1));
    assert_node_eq(&closest[0], &n1); /* first seen wins */
    dht_lookup_free(l);
  }
}

/* Beyond the seed: the first ID seen for an address is the one queried,
 * also when the later one arrives before the address is queried (in the same
 * answer, or among the seeds). */
Test(lookup_dedup, first_seen_id_wins_for_an_unqueried_address) {
  SETUP();
  dht_node a = mock_node_random(&rng, 10, 0, 0, 1, 6881);
  dht_node x[3];
  for (int i = 0; i < 3; i++)
    x[i] = mock_node_random(&rng, 10, 0, 0, 9, 6881); /* one address, three IDs */
  dht_node y1 = mock_node_random(&rng, 10, 0, 0, 10, 6881);
  dht_node y2 = y1;
  dht_id_random(&y2.id, &rng);
  dht_node seeds[3] = {a, y1, y2};
  for (int s = 0; s < N_STRATS; s++) {
    dht_lookup *l = new_lookup(STRATS[s], 1, K);
    cr_assert(eq(int, dht_lookup_seed(l, seeds, 3), DHT_OK));
    fixed f = {.r = {.token = TOKEN4, .token_len = 4, .nodes = x, .n_nodes = 3}};
    mock_sync_log log = {0};
    mock_run_sync(l, fixed_responder, &f, &log);
    cr_assert(eq(sz, log.n_queried, 3));
    for (size_t i = 0; i < log.n_queried; i++) {
      if (dht_addr_eq(&log.queried[i].addr, &x[0].addr))
        assert_node_eq(&log.queried[i], &x[0]);
      if (dht_addr_eq(&log.queried[i].addr, &y1.addr))
        assert_node_eq(&log.queried[i], &y1);
    }
    mock_sync_log_clear(&log);
    dht_lookup_free(l);
  }
}

/* ===========================================================================
 * Edge cases (6)
 * ========================================================================= */

Test(lookup_edge, handles_empty_routing_table) {
  SETUP();
  for (int s = 0; s < N_STRATS; s++) {
    dht_lookup *l = new_lookup(STRATS[s], ALPHA, K);
    seed_via_rt(l, NULL, 0, K);
    cr_assert(dht_lookup_done(l));
    size_t calls = 0;
    mock_run_sync(l, fail_responder, &calls, NULL);
    size_t np;
    dht_node closest[K];
    cr_assert(eq(sz, calls, 0));
    cr_assert(eq(sz, dht_lookup_queried_count(l), 0));
    dht_lookup_peers(l, &np);
    cr_assert(eq(sz, np, 0));
    cr_assert(eq(sz, dht_lookup_closest(l, closest, K), 0));
    cr_assert(eq(sz, dht_lookup_rounds(l), 0));
    dht_lookup_free(l);
  }
}

Test(lookup_edge, excludes_local_node_from_candidates) {
  SETUP();
  dht_node self = {.id = local_id, .addr = mock_addr(127, 0, 0, 1, 6881)};
  dht_node other = mock_node_random(&rng, 10, 0, 0, 1, 6881);
  for (int s = 0; s < N_STRATS; s++) {
    dht_lookup *l = new_lookup(STRATS[s], ALPHA, K);
    seed_via_rt(l, &other, 1, K);
    /* Also offered directly as a seed: still skipped. */
    cr_assert(eq(int, dht_lookup_seed(l, &self, 1), DHT_OK));
    fixed f = {.r = {.token = TOKEN4, .token_len = 4, .nodes = &self, .n_nodes = 1}};
    mock_sync_log log = {0};
    mock_run_sync(l, fixed_responder, &f, &log);
    cr_assert(not(mock_sync_log_queried(&log, &self.addr)));
    cr_assert(eq(sz, log.n_queried, 1));
    mock_sync_log_clear(&log);
    dht_lookup_free(l);
  }
}

Test(lookup_edge, handles_nodes_returning_both_peers_and_nodes) {
  SETUP();
  dht_node n1 = mock_node_random(&rng, 10, 0, 0, 1, 6881);
  dht_node n2 = mock_node_random(&rng, 10, 0, 0, 2, 6881);
  dht_addr p1 = mock_addr(192, 168, 1, 1, 1), p2 = mock_addr(192, 168, 1, 2, 2);
  mock_table *t = mock_table_new();
  mock_table_set(t, &n1.addr, TOK1, 1, &p1, 1, &n2, 1);
  mock_table_set(t, &n2.addr, TOK2, 1, &p2, 1, NULL, 0);
  for (int s = 0; s < N_STRATS; s++) {
    dht_lookup *l = new_lookup(STRATS[s], ALPHA, K);
    seed_via_rt(l, &n1, 1, K);
    mock_run_sync(l, mock_table_responder, t, NULL);
    size_t np;
    const dht_addr *peers = dht_lookup_peers(l, &np);
    cr_assert(eq(sz, np, 2));
    cr_assert(dht_addr_eq(&peers[0], &p1)); /* first-seen order */
    cr_assert(dht_addr_eq(&peers[1], &p2));
    cr_assert(eq(sz, dht_lookup_queried_count(l), 2));
    dht_lookup_free(l);
  }
  mock_table_free(t);
}

/* generateNodeChain(10, 3): each level only knows the next one. */
Test(lookup_edge, handles_very_deep_chains) {
  SETUP();
  enum { DEPTH = 10, PER = 3 };
  dht_node levels[DEPTH * PER];
  mock_table *t = mock_table_new();
  mock_node_chain(t, &rng, DEPTH, PER, levels);
  for (int s = 0; s < N_STRATS; s++) {
    dht_lookup *l = new_lookup(STRATS[s], ALPHA, K);
    cr_assert(eq(sz, seed_via_rt(l, levels, PER, K), PER));
    mock_sync_log log = {0};
    mock_run_sync(l, mock_table_responder, t, &log);
    cr_assert(gt(sz, dht_lookup_queried_count(l), 3));
    /* Level 1 is only known from level 0's answers: it was reached. */
    for (size_t i = 0; i < PER; i++)
      cr_assert(mock_sync_log_queried(&log, &levels[PER + i].addr));
    cr_assert(ge(sz, dht_lookup_rounds(l), 2));
    mock_sync_log_clear(&log);
    dht_lookup_free(l);
  }
  mock_table_free(t);
}

Test(lookup_edge, works_with_alpha_1_sequential) {
  SETUP();
  dht_node nodes[5];
  make_nodes(nodes, 5, 0, 0);
  for (int s = 0; s < N_STRATS; s++) {
    dht_lookup *l = new_lookup(STRATS[s], 1, K);
    seed_via_rt(l, nodes, 5, K);
    fixed f = {.r = {.token = TOKEN4, .token_len = 4}};
    mock_sync_log log = {0};
    mock_run_sync(l, fixed_responder, &f, &log);
    cr_assert(eq(sz, dht_lookup_queried_count(l), 5));
    cr_assert(eq(uint, log.max_in_flight, 1));
    /* One at a time, closest first. */
    assert_sorted_by_distance(log.queried, log.n_queried);
    mock_sync_log_clear(&log);
    dht_lookup_free(l);
  }
}

Test(lookup_edge, works_with_k_1) {
  SETUP();
  dht_node nodes[5];
  make_nodes(nodes, 5, 0, 0);
  dht_node sorted[5];
  memcpy(sorted, nodes, sizeof nodes);
  qsort(sorted, 5, sizeof *sorted, by_distance);
  for (int s = 0; s < N_STRATS; s++) {
    dht_lookup *l = new_lookup(STRATS[s], ALPHA, 1);
    /* k = 1 also means the table yields one seed, as closest(target, k). */
    dht_lookup *l5 = new_lookup(STRATS[s], ALPHA, 1);
    cr_assert(eq(int, dht_lookup_seed(l5, nodes, 5), DHT_OK));
    seed_via_rt(l, nodes, 5, 1);
    fixed f = {.r = {.token = TOKEN4, .token_len = 4}};
    mock_run_sync(l, fixed_responder, &f, NULL);
    mock_run_sync(l5, fixed_responder, &f, NULL);
    dht_node closest[K];
    cr_assert(eq(sz, dht_lookup_closest(l, closest, K), 1));
    assert_node_eq(&closest[0], &sorted[0]);
    /* With 5 seeds: the first alpha answer, the closest of them converges. */
    cr_assert(eq(sz, dht_lookup_closest(l5, closest, K), 1));
    assert_node_eq(&closest[0], &sorted[0]);
    cr_assert(eq(sz, dht_lookup_queried_count(l5), ALPHA));
    dht_lookup_free(l);
    dht_lookup_free(l5);
  }
}

/* ===========================================================================
 * With mock network (4)
 * ========================================================================= */

#define TIMEOUT_STEPS 5

static void assert_well_formed(const dht_lookup *l, const mock_net *net, size_t start,
                               const dht_addr *planted, size_t n_planted, unsigned k) {
  size_t np;
  const dht_addr *peers = dht_lookup_peers(l, &np);
  for (size_t i = 0; i < np; i++) {
    cr_assert(has_peer(planted, n_planted, &peers[i]), "peer not planted");
    for (size_t j = 0; j < i; j++)
      cr_assert(not(dht_addr_eq(&peers[i], &peers[j])), "duplicate peer");
  }
  dht_node closest[DHT_K_MAX];
  size_t nc = dht_lookup_closest(l, closest, DHT_K_MAX);
  cr_assert(le(sz, nc, k));
  assert_sorted_by_distance(closest, nc);
  /* Every responder left a token: closest = the k closest of them. */
  size_t nt = dht_lookup_token_count(l);
  dht_node *resp = g_new(dht_node, nt + 1);
  for (size_t i = 0; i < nt; i++)
    dht_lookup_token_at(l, i, &resp[i], NULL, NULL);
  qsort(resp, nt, sizeof *resp, by_distance);
  cr_assert(eq(sz, nc, nt < k ? nt : k));
  for (size_t i = 0; i < nc; i++)
    assert_node_eq(&closest[i], &resp[i]);
  g_free(resp);
  for (size_t i = 0; i < dht_lookup_token_count(l); i++) {
    dht_node node;
    const uint8_t *tok, *tok2;
    size_t len, len2;
    cr_assert(eq(int, dht_lookup_token_at(l, i, &node, &tok, &len), DHT_OK));
    cr_assert(gt(sz, len, 0));
    /* Keyed by the node's address: the lookup by host:port gives it back. */
    cr_assert(eq(int, dht_lookup_token_for(l, &node.addr, &tok2, &len2), DHT_OK));
    cr_assert(eq(mem, ((struct cr_mem){tok, len}), ((struct cr_mem){tok2, len2})));
    long idx = mock_net_find(net, &node.addr);
    cr_assert(ge(long, idx, 0));
    cr_assert(eq(mem, idmem(&node.id), idmem(&net->nodes[idx].node.id)));
    /* The token is the one that node gave to this querier. */
    mock_answer_buf buf;
    dht_lookup_reply r;
    mock_net_answer(net, (size_t)idx, &target, &net->nodes[start].node.id, &buf, &r);
    cr_assert(eq(mem, ((struct cr_mem){tok, len}), ((struct cr_mem){r.token, r.token_len})));
  }
}

Test(lookup_mock_network, converges_in_log_n_queries_for_100_node_network) {
  SETUP();
  mock_net *net = mock_net_new(100, dht_rng_next(&rng));
  mock_net_set_delays(net, 1, 1);
  dht_lookup_config cfg = {.alpha = ALPHA, .k = K, .strategy = DHT_LOOKUP_ROUNDS};
  size_t total = 0, worst = 0;
  enum { RUNS = 20 };
  for (int run = 0; run < RUNS; run++) {
    size_t start = mock_net_random_node(net);
    dht_id_random(&target, &rng);
    mock_run_stats st;
    dht_lookup *l = mock_run_lookup(net, start, &target, &cfg, TIMEOUT_STEPS, &st);
    size_t q = dht_lookup_queried_count(l);
    dht_node closest[K];
    cr_assert(lt(sz, q, 50), "run %d: %zu queries", run, q);
    cr_assert(gt(sz, dht_lookup_closest(l, closest, K), 0));
    total += q;
    worst = q > worst ? q : worst;
    dht_lookup_free(l);
  }
  cr_log_info("100 nodes: mean %.1f queries, worst %zu", (double)total / RUNS, worst);
  mock_net_free(net);
}

Test(lookup_mock_network, finds_planted_peers_in_the_network) {
  SETUP();
  mock_net *net = mock_net_new(50, dht_rng_next(&rng));
  mock_net_set_delays(net, 1, 1);
  dht_addr planted[5];
  mock_peers_generate(planted, 5);
  mock_net_plant_peers(net, &target, planted, 5, K);
  size_t start = mock_net_random_node(net);
  dht_lookup_config cfg = {.alpha = ALPHA, .k = K, .strategy = DHT_LOOKUP_ROUNDS};
  dht_lookup *l = mock_run_lookup(net, start, &target, &cfg, TIMEOUT_STEPS, NULL);
  size_t np;
  dht_lookup_peers(l, &np);
  cr_assert(gt(sz, np, 0));
  assert_well_formed(l, net, start, planted, 5, K);
  dht_lookup_free(l);
  mock_net_free(net);
}

/* 50 seeded lookups (new infohash, planted peers and start node each) on a
 * 50-node network with 30% loss (failures reported after a 5-step timeout).
 * Measured over 31 base seeds (the default and 1..30): 49 or 50 of 50
 * lookups found planted peers, under both strategies (about 30% of queries
 * failed). The bound, 90% (45/50), is comfortably below that.
 * Peers sit at 8 of the 50 nodes, so finding them is easy; the lookup's
 * reach is measured too: the fraction of the true K closest returned was
 * 0.64..0.73 over base seeds 0..20 (each is lost to this lookup with p=0.3,
 * so ~0.7 is the ceiling). A lookup that gives up on the first failure
 * scored 0.36..0.55; the bound is 0.58. */
Test(lookup_mock_network, handles_packet_loss_gracefully) {
  SETUP();
  mock_net *net = mock_net_new(50, dht_rng_next(&rng));
  mock_net_set_delays(net, 1, 1);
  mock_net_set_drop_rate(net, 0.3);
  dht_addr planted[5];
  mock_peers_generate(planted, 5);
  enum { RUNS = 50 };
  for (int s = 0; s < N_STRATS; s++) {
    dht_lookup_config cfg = {.alpha = ALPHA, .k = K, .strategy = STRATS[s]};
    int found = 0;
    size_t failures = 0, queries = 0, hits = 0;
    for (int run = 0; run < RUNS; run++) {
      dht_id_random(&target, &rng);
      mock_net_plant_peers(net, &target, planted, 5, K);
      size_t start = mock_net_random_node(net);
      mock_run_stats st;
      dht_lookup *l = mock_run_lookup(net, start, &target, &cfg, TIMEOUT_STEPS, &st);
      size_t np;
      dht_lookup_peers(l, &np);
      found += np > 0;
      /* How many of the true K closest (the querier excluded) were returned. */
      size_t truth[K];
      dht_node got[K];
      size_t nt = mock_net_closest(net, &target, K, &net->nodes[start].node.id, truth);
      size_t ng = dht_lookup_closest(l, got, K);
      for (size_t a = 0; a < nt; a++)
        for (size_t b = 0; b < ng; b++)
          hits += dht_addr_eq(&net->nodes[truth[a]].node.addr, &got[b].addr);
      failures += st.failures;
      queries += st.queries;
      cr_assert(eq(sz, st.dup_queries, 0));
      cr_assert(eq(sz, st.self_queries, 0));
      assert_well_formed(l, net, start, planted, 5, K);
      dht_lookup_free(l);
    }
    double accuracy = (double)hits / (RUNS * K);
    cr_log_info("30%% loss, %s: found peers in %d/%d lookups; %zu/%zu queries failed; "
                "%.3f of the true K closest returned",
                strat_name(STRATS[s]), found, RUNS, failures, queries, accuracy);
    /* The loss is real: about 30% of queries failed. */
    cr_assert(gt(sz, failures * 5, queries), "loss not applied");
    cr_assert(ge(int, found, RUNS * 9 / 10), "%s: found in only %d/%d", strat_name(STRATS[s]),
              found, RUNS);
    cr_assert(ge(dbl, accuracy, 0.58), "%s: only %.3f of the K closest", strat_name(STRATS[s]),
              accuracy);
  }
  mock_net_free(net);
}

Test(lookup_mock_network, collects_tokens_from_closest_responding_nodes) {
  SETUP();
  mock_net *net = mock_net_new(50, dht_rng_next(&rng));
  mock_net_set_delays(net, 1, 1);
  size_t start = mock_net_random_node(net);
  for (int s = 0; s < N_STRATS; s++) {
    dht_lookup_config cfg = {.alpha = ALPHA, .k = K, .strategy = STRATS[s]};
    mock_run_stats st;
    dht_lookup *l = mock_run_lookup(net, start, &target, &cfg, TIMEOUT_STEPS, &st);
    cr_assert(gt(sz, dht_lookup_token_count(l), 0));
    /* No loss: every queried node answered and left a token. */
    cr_assert(eq(sz, dht_lookup_token_count(l), st.answers));
    assert_well_formed(l, net, start, NULL, 0, K);
    /* Every closest node has a token for announce_peer. */
    dht_node closest[K];
    size_t nc = dht_lookup_closest(l, closest, K);
    for (size_t i = 0; i < nc; i++)
      cr_assert(eq(int, dht_lookup_token_for(l, &closest[i].addr, NULL, NULL), DHT_OK));
    dht_lookup_free(l);
  }
  mock_net_free(net);
}

/* ===========================================================================
 * DHT_LOOKUP_ROUNDS unit tests
 * ========================================================================= */

static dht_lookup_reply reply_nodes(const dht_node *nodes, size_t n) {
  return (dht_lookup_reply){.token = TOKEN4, .token_len = 4, .nodes = nodes, .n_nodes = n};
}

Test(lookup_rounds, waits_for_the_whole_batch) {
  SETUP();
  dht_node nodes[6], out[DHT_ALPHA_MAX];
  make_nodes(nodes, 6, 0, 0);
  dht_lookup *l = new_lookup(DHT_LOOKUP_ROUNDS, ALPHA, K);
  cr_assert(eq(int, dht_lookup_seed(l, nodes, 6), DHT_OK));
  cr_assert(eq(sz, dht_lookup_next(l, out, DHT_ALPHA_MAX), 3));
  dht_addr extra_peer = mock_addr(192, 168, 0, 1, 1);
  dht_lookup_reply r = reply_nodes(NULL, 0);
  r.peers = &extra_peer;
  r.n_peers = 1;
  cr_assert(eq(int, dht_lookup_reply_from(l, &out[0].addr, &r), DHT_OK));
  cr_assert(eq(sz, dht_lookup_next(l, out + 3, DHT_ALPHA_MAX), 0));
  cr_assert(eq(int, dht_lookup_failed(l, &out[1].addr), DHT_OK));
  cr_assert(eq(sz, dht_lookup_next(l, out + 3, DHT_ALPHA_MAX), 0));
  cr_assert(eq(uint, dht_lookup_in_flight(l), 1));
  cr_assert(not(dht_lookup_done(l)));
  /* Buffered answers are not applied yet. */
  size_t np;
  dht_lookup_peers(l, &np);
  cr_assert(eq(sz, np, 0));
  cr_assert(eq(sz, dht_lookup_token_count(l), 0));
  cr_assert(eq(int, dht_lookup_reply_from(l, &out[2].addr, &r), DHT_OK));
  dht_lookup_peers(l, &np);
  cr_assert(eq(sz, np, 1));
  cr_assert(eq(sz, dht_lookup_token_count(l), 2));
  cr_assert(eq(sz, dht_lookup_next(l, out + 3, DHT_ALPHA_MAX), 3));
  cr_assert(eq(sz, dht_lookup_rounds(l), 2));
  dht_lookup_free(l);
}

/* Two batch members report the same new address with different IDs. The
 * farther member answers first; the closer (first in batch order) still wins,
 * as the seed processes Promise.all results in batch order. */
Test(lookup_rounds, applies_batch_answers_in_batch_order) {
  SETUP();
  dht_node nodes[2], out[DHT_ALPHA_MAX];
  make_nodes(nodes, 2, 0, 1);
  qsort(nodes, 2, sizeof *nodes, by_distance);
  dht_node x1 = mock_node_random(&rng, 10, 9, 9, 9, 6881);
  dht_node x2 = mock_node_random(&rng, 10, 9, 9, 9, 6881);
  dht_lookup *l = new_lookup(DHT_LOOKUP_ROUNDS, 2, K);
  cr_assert(eq(int, dht_lookup_seed(l, nodes, 2), DHT_OK));
  cr_assert(eq(sz, dht_lookup_next(l, out, DHT_ALPHA_MAX), 2));
  assert_node_eq(&out[0], &nodes[0]); /* batch order = distance order */
  dht_lookup_reply r1 = reply_nodes(&x1, 1), r2 = reply_nodes(&x2, 1);
  cr_assert(eq(int, dht_lookup_reply_from(l, &nodes[1].addr, &r2), DHT_OK));
  cr_assert(eq(int, dht_lookup_reply_from(l, &nodes[0].addr, &r1), DHT_OK));
  cr_assert(eq(sz, dht_lookup_next(l, out, DHT_ALPHA_MAX), 1));
  assert_node_eq(&out[0], &x1);
  /* Tokens too are in batch order, not arrival order. */
  dht_node tn;
  cr_assert(eq(int, dht_lookup_token_at(l, 0, &tn, NULL, NULL), DHT_OK));
  assert_node_eq(&tn, &nodes[0]);
  dht_lookup_free(l);
}

Test(lookup_rounds, counts_batches_as_rounds) {
  SETUP();
  dht_node nodes[7];
  make_nodes(nodes, 7, 0, 0);
  dht_lookup *l = new_lookup(DHT_LOOKUP_ROUNDS, ALPHA, K);
  cr_assert(eq(int, dht_lookup_seed(l, nodes, 7), DHT_OK));
  fixed f = {.r = {.token = TOKEN4, .token_len = 4}};
  mock_run_sync(l, fixed_responder, &f, NULL);
  cr_assert(eq(sz, dht_lookup_rounds(l), 3)); /* 3 + 3 + 1 */
  cr_assert(eq(sz, dht_lookup_queried_count(l), 7));
  dht_lookup_free(l);
}

/* ===========================================================================
 * DHT_LOOKUP_PIPELINED unit tests
 * ========================================================================= */

Test(lookup_pipelined, issues_a_new_query_right_after_one_answer) {
  SETUP();
  dht_node nodes[6], out[DHT_ALPHA_MAX];
  make_nodes(nodes, 6, 0, 0);
  qsort(nodes, 6, sizeof *nodes, by_distance);
  dht_lookup *l = new_lookup(DHT_LOOKUP_PIPELINED, ALPHA, K);
  cr_assert(eq(int, dht_lookup_seed(l, nodes, 6), DHT_OK));
  cr_assert(eq(sz, dht_lookup_next(l, out, DHT_ALPHA_MAX), 3));
  cr_assert(eq(sz, dht_lookup_next(l, out + 3, DHT_ALPHA_MAX), 0)); /* alpha in flight */
  dht_addr peer = mock_addr(192, 168, 0, 1, 1);
  dht_lookup_reply r = reply_nodes(NULL, 0);
  r.peers = &peer;
  r.n_peers = 1;
  cr_assert(eq(int, dht_lookup_reply_from(l, &out[1].addr, &r), DHT_OK));
  /* Applied on arrival. */
  size_t np;
  dht_lookup_peers(l, &np);
  cr_assert(eq(sz, np, 1));
  cr_assert(eq(sz, dht_lookup_token_count(l), 1));
  cr_assert(eq(sz, dht_lookup_next(l, out + 3, DHT_ALPHA_MAX), 1));
  assert_node_eq(&out[3], &nodes[3]);
  cr_assert(eq(uint, dht_lookup_in_flight(l), 3));
  cr_assert(eq(int, dht_lookup_failed(l, &out[0].addr), DHT_OK));
  cr_assert(eq(sz, dht_lookup_next(l, out + 4, DHT_ALPHA_MAX), 1));
  assert_node_eq(&out[4], &nodes[4]);
  dht_lookup_free(l);
}

/* The answer of a hop-h query yields hop h+1 candidates: hops is the depth
 * whatever the strategy and alpha; rounds counts the batches. */
Test(lookup_pipelined, hops_is_the_depth_and_rounds_the_batches) {
  SETUP();
  enum { DEPTH = 4, PER = 2 };
  dht_node levels[DEPTH * PER];
  mock_table *t = mock_table_new();
  mock_node_chain(t, &rng, DEPTH, PER, levels);
  for (int s = 0; s < N_STRATS; s++)
    for (unsigned alpha = 1; alpha <= ALPHA; alpha += ALPHA - 1) {
      dht_lookup *l = new_lookup(STRATS[s], alpha, K);
      cr_assert(eq(int, dht_lookup_seed(l, levels, PER), DHT_OK));
      mock_run_sync(l, mock_table_responder, t, NULL);
      /* 8 nodes, k = 8: never converged early, everything is queried. */
      cr_assert(eq(sz, dht_lookup_queried_count(l), DEPTH * PER));
      cr_assert(eq(sz, dht_lookup_hops(l), DEPTH), "%s alpha %u", strat_name(STRATS[s]), alpha);
      /* alpha = 1: one query per decision. alpha = 3: one batch per level in
       * both (pipelined: a level's two nodes come in one answer and go out
       * together; the other answer of the level sends nothing). */
      cr_assert(eq(sz, dht_lookup_rounds(l), alpha == 1 ? DEPTH * PER : DEPTH), "%s alpha %u",
                strat_name(STRATS[s]), alpha);
      dht_lookup_free(l);
    }
  mock_table_free(t);
}

/* The result version changes exactly when the result does: a node entering
 * the k closest responded, or a new peer; not for an answer that adds
 * neither (a farther node once the k closest are full, a known peer). */
Test(lookup_pipelined, result_version_changes_only_with_the_result) {
  SETUP();
  dht_node nodes[2];
  dht_addr peer;
  make_nodes(nodes, 2, 0, 0);
  qsort(nodes, 2, sizeof *nodes, by_distance); /* nodes[0] the closer */
  dht_addr_set_v4(&peer, 0x0a000001u, 6881);
  dht_lookup *l = new_lookup(DHT_LOOKUP_PIPELINED, 2, 1);
  cr_assert(eq(int, dht_lookup_seed(l, nodes, 2), DHT_OK));
  dht_node out[2];
  cr_assert(eq(sz, dht_lookup_next(l, out, 2), 2));
  uint64_t v0 = dht_lookup_result_version(l);
  dht_lookup_reply with_peer = {.peers = &peer, .n_peers = 1};
  cr_assert(eq(int, dht_lookup_reply_from(l, &nodes[0].addr, &with_peer), DHT_OK));
  uint64_t v1 = dht_lookup_result_version(l);
  cr_assert(ne(u64, v1, v0), "the closer node and a new peer");
  /* k = 1 is full with the closer node: the farther one with a known peer changes nothing. */
  cr_assert(eq(int, dht_lookup_reply_from(l, &nodes[1].addr, &with_peer), DHT_OK));
  cr_assert(eq(u64, dht_lookup_result_version(l), v1));
  dht_lookup_free(l);

  /* A new peer alone changes it: from the farther node, k = 1 full. */
  dht_addr peer2;
  dht_addr_set_v4(&peer2, 0x0a000002u, 6881);
  dht_lookup_reply new_peer = {.peers = &peer2, .n_peers = 1};
  l = new_lookup(DHT_LOOKUP_PIPELINED, 2, 1);
  cr_assert(eq(int, dht_lookup_seed(l, nodes, 2), DHT_OK));
  cr_assert(eq(sz, dht_lookup_next(l, out, 2), 2));
  cr_assert(eq(int, dht_lookup_reply_from(l, &nodes[0].addr, &with_peer), DHT_OK));
  v1 = dht_lookup_result_version(l);
  cr_assert(eq(int, dht_lookup_reply_from(l, &nodes[1].addr, &new_peer), DHT_OK));
  cr_assert(ne(u64, dht_lookup_result_version(l), v1), "a peer not seen before");
  dht_lookup_free(l);

  /* The other order: the closer node enters the k closest, with a known peer. */
  l = new_lookup(DHT_LOOKUP_PIPELINED, 2, 1);
  cr_assert(eq(int, dht_lookup_seed(l, nodes, 2), DHT_OK));
  cr_assert(eq(sz, dht_lookup_next(l, out, 2), 2));
  cr_assert(eq(int, dht_lookup_reply_from(l, &nodes[1].addr, &with_peer), DHT_OK));
  v1 = dht_lookup_result_version(l);
  cr_assert(eq(int, dht_lookup_reply_from(l, &nodes[0].addr, &with_peer), DHT_OK));
  cr_assert(ne(u64, dht_lookup_result_version(l), v1), "the closer node replaces the farther");
  dht_lookup_free(l);
}

/* ===========================================================================
 * API contract (both strategies)
 * ========================================================================= */

typedef struct snapshot {
  size_t queried, peers, tokens, closest, rounds;
  unsigned in_flight;
  bool done;
} snapshot;

static snapshot snap(const dht_lookup *l) {
  snapshot s;
  dht_node tmp[DHT_K_MAX];
  dht_lookup_peers(l, &s.peers);
  s.queried = dht_lookup_queried_count(l);
  s.tokens = dht_lookup_token_count(l);
  s.closest = dht_lookup_closest(l, tmp, DHT_K_MAX);
  s.rounds = dht_lookup_rounds(l);
  s.in_flight = dht_lookup_in_flight(l);
  s.done = dht_lookup_done(l);
  return s;
}

static void assert_same(snapshot a, snapshot b) {
  cr_assert(eq(sz, a.queried, b.queried));
  cr_assert(eq(sz, a.peers, b.peers));
  cr_assert(eq(sz, a.tokens, b.tokens));
  cr_assert(eq(sz, a.closest, b.closest));
  cr_assert(eq(sz, a.rounds, b.rounds));
  cr_assert(eq(uint, a.in_flight, b.in_flight));
  cr_assert(eq(int, a.done, b.done));
}

Test(lookup_api, enoent_for_unsolicited_replies) {
  SETUP();
  dht_node nodes[5], out[DHT_ALPHA_MAX];
  make_nodes(nodes, 5, 0, 0);
  qsort(nodes, 5, sizeof *nodes, by_distance);
  dht_addr stranger = mock_addr(10, 99, 0, 1, 6881);
  dht_addr peer = mock_addr(192, 168, 0, 1, 1);
  for (int s = 0; s < N_STRATS; s++) {
    dht_lookup *l = new_lookup(STRATS[s], 2, K);
    cr_assert(eq(int, dht_lookup_seed(l, nodes, 5), DHT_OK));
    cr_assert(eq(sz, dht_lookup_next(l, out, DHT_ALPHA_MAX), 2));
    dht_lookup_reply r = reply_nodes(&nodes[4], 1);
    r.peers = &peer;
    r.n_peers = 1;
    snapshot before = snap(l);
    /* Never seen; seen but not queried. */
    cr_assert(eq(int, dht_lookup_reply_from(l, &stranger, &r), DHT_ENOENT));
    cr_assert(eq(int, dht_lookup_failed(l, &stranger), DHT_ENOENT));
    cr_assert(eq(int, dht_lookup_reply_from(l, &nodes[3].addr, &r), DHT_ENOENT));
    cr_assert(eq(int, dht_lookup_failed(l, &nodes[3].addr), DHT_ENOENT));
    assert_same(before, snap(l));
    /* Already answered / already failed: late duplicates. */
    cr_assert(eq(int, dht_lookup_reply_from(l, &out[0].addr, &r), DHT_OK));
    cr_assert(eq(int, dht_lookup_failed(l, &out[1].addr), DHT_OK));
    before = snap(l);
    cr_assert(eq(int, dht_lookup_reply_from(l, &out[0].addr, &r), DHT_ENOENT));
    cr_assert(eq(int, dht_lookup_failed(l, &out[0].addr), DHT_ENOENT));
    cr_assert(eq(int, dht_lookup_reply_from(l, &out[1].addr, &r), DHT_ENOENT));
    cr_assert(eq(int, dht_lookup_failed(l, &out[1].addr), DHT_ENOENT));
    assert_same(before, snap(l));
    dht_lookup_free(l);
  }
}

Test(lookup_api, einval_for_a_token_too_long) {
  SETUP();
  dht_node nodes[2], out[DHT_ALPHA_MAX];
  make_nodes(nodes, 2, 0, 0);
  uint8_t tok[DHT_TOKEN_MAX + 1];
  dht_rng_fill(&rng, tok, sizeof tok);
  for (int s = 0; s < N_STRATS; s++) {
    dht_lookup *l = new_lookup(STRATS[s], ALPHA, K);
    cr_assert(eq(int, dht_lookup_seed(l, nodes, 2), DHT_OK));
    cr_assert(eq(sz, dht_lookup_next(l, out, DHT_ALPHA_MAX), 2));
    dht_lookup_reply r = {.token = tok, .token_len = DHT_TOKEN_MAX + 1, .nodes = nodes, .n_nodes = 2};
    snapshot before = snap(l);
    cr_assert(eq(int, dht_lookup_reply_from(l, &out[0].addr, &r), DHT_EINVAL));
    assert_same(before, snap(l));
    /* Still in flight: the longest allowed token is accepted and kept whole. */
    r.token_len = DHT_TOKEN_MAX;
    cr_assert(eq(int, dht_lookup_reply_from(l, &out[0].addr, &r), DHT_OK));
    cr_assert(eq(int, dht_lookup_failed(l, &out[1].addr), DHT_OK));
    const uint8_t *got;
    size_t len;
    cr_assert(eq(int, dht_lookup_token_for(l, &out[0].addr, &got, &len), DHT_OK));
    cr_assert(eq(mem, ((struct cr_mem){got, len}), ((struct cr_mem){tok, DHT_TOKEN_MAX})));
    dht_lookup_free(l);
  }
}

Test(lookup_api, rejects_bad_config) {
  SETUP();
  dht_lookup_config bad[] = {
      {.alpha = 0, .k = K, .strategy = DHT_LOOKUP_ROUNDS},
      {.alpha = DHT_ALPHA_MAX + 1, .k = K, .strategy = DHT_LOOKUP_ROUNDS},
      {.alpha = ALPHA, .k = 0, .strategy = DHT_LOOKUP_PIPELINED},
      {.alpha = ALPHA, .k = DHT_K_MAX + 1, .strategy = DHT_LOOKUP_PIPELINED},
      {.alpha = ALPHA, .k = K, .strategy = (dht_lookup_strategy)2},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    cr_assert(eq(ptr, dht_lookup_new(&target, NULL, &bad[i]), NULL), "config %zu", i);
  dht_lookup_config ok = {.alpha = DHT_ALPHA_MAX, .k = DHT_K_MAX, .strategy = DHT_LOOKUP_PIPELINED};
  dht_lookup *l = dht_lookup_new(&target, NULL, &ok);
  cr_assert(ne(ptr, l, NULL));
  dht_lookup_free(l);
}

/* Random scripted worlds where answers are drawn from a small pool of
 * addresses, each with several IDs, and where our own ID shows up at many
 * addresses. Nothing may be issued twice by address, our ID never, and
 * in-flight never exceeds alpha. */
typedef struct chaos {
  dht_rng rng;
  dht_node *pool;
  size_t n_pool;
  dht_node buf[16];
  uint8_t token[4];
} chaos;

static bool chaos_responder(void *ud, const dht_node *q, dht_lookup_reply *out) {
  (void)q;
  chaos *c = ud;
  if (dht_rng_chance(&c->rng, 0.2))
    return false;
  size_t n = (size_t)dht_rng_below(&c->rng, 16);
  for (size_t i = 0; i < n; i++)
    c->buf[i] = c->pool[dht_rng_below(&c->rng, c->n_pool)];
  dht_rng_fill(&c->rng, c->token, sizeof c->token);
  *out = (dht_lookup_reply){.token = c->token, .token_len = 4, .nodes = c->buf, .n_nodes = n};
  return true;
}

Test(lookup_api, never_queries_local_node_nor_an_address_twice) {
  SETUP();
  enum { ADDRS = 60, VARIANTS = 3 };
  chaos c = {.n_pool = ADDRS * VARIANTS};
  dht_rng_init(&c.rng, dht_rng_next(&rng));
  c.pool = g_new(dht_node, c.n_pool);
  for (size_t a = 0; a < ADDRS; a++)
    for (size_t v = 0; v < VARIANTS; v++) {
      dht_node *n = &c.pool[a * VARIANTS + v];
      *n = mock_node_random(&rng, 10, 5, (unsigned)(a / 256), (unsigned)(a % 256), 6881);
      if (a % 7 == 0 && v == 1)
        n->id = local_id; /* ourselves, at a stranger's address */
    }
  for (int s = 0; s < N_STRATS; s++) {
    for (int run = 0; run < 20; run++) {
      unsigned alpha = 1 + (unsigned)(run % 5);
      dht_lookup *l = new_lookup(STRATS[s], alpha, 1 + (unsigned)(run % K));
      cr_assert(eq(int, dht_lookup_seed(l, c.pool, 12), DHT_OK));
      mock_sync_log log = {0};
      mock_run_sync(l, chaos_responder, &c, &log);
      cr_assert(le(uint, log.max_in_flight, alpha));
      cr_assert(eq(sz, log.n_queried, dht_lookup_queried_count(l)));
      for (size_t i = 0; i < log.n_queried; i++) {
        cr_assert(not(dht_id_eq(&log.queried[i].id, &local_id)), "queried ourselves");
        for (size_t j = 0; j < i; j++)
          cr_assert(not(dht_addr_eq(&log.queried[i].addr, &log.queried[j].addr)),
                    "%s: address queried twice", strat_name(STRATS[s]));
      }
      mock_sync_log_clear(&log);
      dht_lookup_free(l);
    }
  }
  g_free(c.pool);
}

/* Thousands of candidates (growth, rehash, heap): with alpha = 1 and every
 * query failing, nothing converges early, so next() yields every candidate
 * exactly in (distance, first-seen) order. Equal IDs at distinct addresses
 * tie on distance and keep insertion order; repeated addresses are skipped. */
Test(lookup_api, issues_candidates_in_distance_then_insertion_order) {
  SETUP();
  enum { N = 3000 };
  dht_node *nodes = g_new(dht_node, N);
  for (size_t i = 0; i < N; i++) {
    nodes[i] = mock_node_random(&rng, 10, (unsigned)(i / 65536), (unsigned)(i / 256 % 256),
                                (unsigned)(i % 256), 7000);
    if (i % 10 == 9)
      nodes[i].id = nodes[i - 3].id; /* same ID, another address */
  }
  for (int s = 0; s < N_STRATS; s++) {
    dht_lookup *l = new_lookup(STRATS[s], 1, K);
    cr_assert(eq(int, dht_lookup_seed(l, nodes, N / 2), DHT_OK));
    cr_assert(eq(int, dht_lookup_seed(l, nodes, N), DHT_OK)); /* first half again: skipped */
    size_t issued = 0;
    dht_node prev, out;
    while (dht_lookup_next(l, &out, 1) == 1) {
      if (issued > 0) {
        int c = dht_id_distance_cmp(&target, &prev.id, &out.id);
        cr_assert(le(int, c, 0), "out of order at %zu", issued);
        if (c == 0) /* tie: earlier address first (addresses grow with index) */
          cr_assert(lt(int, dht_addr_cmp(&prev.addr, &out.addr), 0));
      }
      prev = out;
      issued++;
      cr_assert(eq(int, dht_lookup_failed(l, &out.addr), DHT_OK));
    }
    cr_assert(eq(sz, issued, N));
    cr_assert(dht_lookup_done(l));
    dht_lookup_free(l);
  }
  g_free(nodes);
}

/* Many peers in one answer, with repeats: first-seen order, no duplicates. */
Test(lookup_api, deduplicates_many_peers_in_first_seen_order) {
  SETUP();
  enum { NP = 2000, DISTINCT = 700 };
  dht_addr *peers = g_new(dht_addr, NP);
  for (size_t i = 0; i < NP; i++) {
    size_t v = i < DISTINCT ? i : (size_t)dht_rng_below(&rng, DISTINCT);
    peers[i] = mock_addr(172, 16, (unsigned)(v / 256), (unsigned)(v % 256), (uint16_t)(1000 + v));
  }
  dht_node node = mock_node_random(&rng, 10, 0, 0, 1, 6881), out[DHT_ALPHA_MAX];
  for (int s = 0; s < N_STRATS; s++) {
    dht_lookup *l = new_lookup(STRATS[s], ALPHA, K);
    cr_assert(eq(int, dht_lookup_seed(l, &node, 1), DHT_OK));
    cr_assert(eq(sz, dht_lookup_next(l, out, DHT_ALPHA_MAX), 1));
    dht_lookup_reply r = {.token = TOKEN4, .token_len = 4, .peers = peers, .n_peers = NP};
    cr_assert(eq(int, dht_lookup_reply_from(l, &node.addr, &r), DHT_OK));
    size_t np;
    const dht_addr *got = dht_lookup_peers(l, &np);
    cr_assert(eq(sz, np, DISTINCT));
    for (size_t i = 0; i < DISTINCT; i++)
      cr_assert(dht_addr_eq(&got[i], &peers[i]));
    cr_assert(dht_lookup_done(l));
    dht_lookup_free(l);
  }
  g_free(peers);
}

/* Invariants over the seeded network, both strategies, with loss, dead nodes
 * and varied delays. */
Test(lookup_api, mock_network_invariants) {
  SETUP();
  mock_net *net = mock_net_new(150, dht_rng_next(&rng));
  mock_net_set_delays(net, 1, 6);
  mock_net_set_drop_rate(net, 0.1);
  for (size_t i = 0; i < net->n_nodes; i += 11)
    net->nodes[i].drop_requests = true;
  for (int s = 0; s < N_STRATS; s++) {
    for (unsigned alpha = 1; alpha <= 6; alpha++) {
      dht_lookup_config cfg = {.alpha = alpha, .k = K, .strategy = STRATS[s]};
      for (int run = 0; run < 5; run++) {
        dht_id_random(&target, &rng);
        size_t start = mock_net_random_node(net);
        mock_run_stats st;
        dht_lookup *l = mock_run_lookup(net, start, &target, &cfg, TIMEOUT_STEPS, &st);
        cr_assert(le(uint, st.max_in_flight, alpha));
        cr_assert(eq(sz, st.dup_queries, 0));
        cr_assert(eq(sz, st.self_queries, 0));
        cr_assert(eq(sz, st.queries, dht_lookup_queried_count(l)));
        cr_assert(eq(sz, st.answers + st.failures, st.queries));
        cr_assert(eq(sz, dht_lookup_token_count(l), st.answers));
        assert_well_formed(l, net, start, NULL, 0, K);
        dht_lookup_free(l);
      }
    }
  }
  mock_net_free(net);
}

/* ===========================================================================
 * Allocation failure: DHT_ENOMEM leaves the lookup unchanged
 *
 * malloc/calloc/realloc are interposed in this executable (plain builds
 * only: the sanitizers own the allocator) with a countdown: after `n`
 * successful allocations, every further one fails until disarmed. Each
 * mutating call is retried with n = 0, 1, 2, ... until it succeeds; every
 * DHT_ENOMEM must leave an identical observable state, and the final result
 * must equal a run without failures.
 * ========================================================================= */

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DHTSIM_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(DHTSIM_ASAN)
#define FAULT_INJECTION 0
#else
#define FAULT_INJECTION 1
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);

static long fail_countdown = -1; /* < 0: never fail */
static size_t injected;

static bool alloc_fails(void) {
  if (fail_countdown < 0)
    return false;
  if (fail_countdown == 0) {
    injected++;
    return true;
  }
  fail_countdown--;
  return false;
}
void *malloc(size_t n) { return alloc_fails() ? NULL : __libc_malloc(n); }
void *calloc(size_t n, size_t size) { return alloc_fails() ? NULL : __libc_calloc(n, size); }
void *realloc(void *p, size_t n) { return alloc_fails() ? NULL : __libc_realloc(p, n); }
void free(void *p) { __libc_free(p); }
#endif

#if FAULT_INJECTION
/* Every observable of the lookup, as text. */
static char *describe(const dht_lookup *l) {
  GString *s = g_string_new(NULL);
  char a[DHT_ADDR_STRLEN], hex[DHT_ID_HEXLEN + 1];
  size_t np;
  const dht_addr *peers = dht_lookup_peers(l, &np);
  g_string_append_printf(s, "q=%zu r=%zu inf=%u done=%d peers:", dht_lookup_queried_count(l),
                         dht_lookup_rounds(l), dht_lookup_in_flight(l), dht_lookup_done(l));
  for (size_t i = 0; i < np; i++)
    g_string_append_printf(s, " %s", mock_addr_str(&peers[i], a));
  dht_node closest[DHT_K_MAX];
  size_t nc = dht_lookup_closest(l, closest, DHT_K_MAX);
  g_string_append(s, " closest:");
  for (size_t i = 0; i < nc; i++) {
    dht_id_to_hex(&closest[i].id, hex);
    g_string_append_printf(s, " %s@%s", hex, mock_addr_str(&closest[i].addr, a));
  }
  g_string_append(s, " tokens:");
  for (size_t i = 0; i < dht_lookup_token_count(l); i++) {
    dht_node n;
    const uint8_t *t;
    size_t len;
    dht_lookup_token_at(l, i, &n, &t, &len);
    g_string_append_printf(s, " %s/%zu/%02x", mock_addr_str(&n.addr, a), len, len ? t[0] : 0);
  }
  return g_string_free(s, FALSE);
}

/* A deterministic answer per queried address: 20 nodes, 30 peers (with
 * repeats across answers), and some failures. */
typedef struct det_answer {
  dht_node nodes[20];
  dht_addr peers[30];
  uint8_t token[6];
} det_answer;

static bool det_respond(const dht_node *q, det_answer *b, dht_lookup_reply *r) {
  dht_rng rr;
  dht_rng_init(&rr, dht_addr_hash(&q->addr));
  if (dht_rng_chance(&rr, 0.15))
    return false;
  for (size_t i = 0; i < 20; i++)
    b->nodes[i] = mock_node_random(&rr, 10, 7, (unsigned)dht_rng_below(&rr, 4),
                                   (unsigned)dht_rng_below(&rr, 256), 6881);
  for (size_t i = 0; i < 30; i++)
    b->peers[i] = mock_addr(172, 20, 0, (unsigned)dht_rng_below(&rr, 200), 1);
  dht_rng_fill(&rr, b->token, sizeof b->token);
  *r = (dht_lookup_reply){.token = b->token, .token_len = sizeof b->token, .peers = b->peers,
                          .n_peers = 30, .nodes = b->nodes, .n_nodes = 20};
  return true;
}

enum { OP_SEED, OP_REPLY, OP_FAIL };

/* Runs one mutating call; with inject, retries it with growing countdowns. */
static int do_op(dht_lookup *l, int op, const dht_node *nodes, size_t n, const dht_addr *from,
                 const dht_lookup_reply *r, bool inject) {
  for (long at = 0;; at++) {
    char *before = inject ? describe(l) : NULL;
#if FAULT_INJECTION
    if (inject)
      fail_countdown = at;
#endif
    int rc = op == OP_SEED    ? dht_lookup_seed(l, nodes, n)
             : op == OP_REPLY ? dht_lookup_reply_from(l, from, r)
                              : dht_lookup_failed(l, from);
#if FAULT_INJECTION
    fail_countdown = -1;
#endif
    if (!inject || rc != DHT_ENOMEM) {
      g_free(before);
      return rc;
    }
    char *after = describe(l);
    cr_assert(eq(str, after, before), "state changed by a failed call (countdown %ld)", at);
    g_free(after);
    g_free(before);
    cr_assert(lt(long, at, 1000));
  }
}

static char *enomem_scenario(dht_lookup_strategy s, bool inject) {
  dht_rng rr;
  dht_rng_init(&rr, 42);
  dht_node seeds[40];
  for (size_t i = 0; i < 40; i++)
    seeds[i] = mock_node_random(&rr, 10, 6, 0, (unsigned)i, 6881);
  dht_lookup_config cfg = {.alpha = 4, .k = K, .strategy = s};
  dht_lookup *l = NULL;
  for (long at = 0; l == NULL; at++) {
#if FAULT_INJECTION
    if (inject)
      fail_countdown = at;
#endif
    l = dht_lookup_new(&target, &local_id, &cfg);
#if FAULT_INJECTION
    fail_countdown = -1;
#endif
    cr_assert(l != NULL || inject);
  }
  cr_assert(eq(int, do_op(l, OP_SEED, seeds, 40, NULL, NULL, inject), DHT_OK));
  dht_node out[DHT_ALPHA_MAX];
  dht_node queue[4096];
  size_t head = 0, tail = 0;
  for (;;) {
    size_t n = dht_lookup_next(l, out, DHT_ALPHA_MAX);
    cr_assert(le(sz, tail + n, sizeof queue / sizeof queue[0]));
    for (size_t i = 0; i < n; i++)
      queue[tail++] = out[i];
    if (head == tail)
      break;
    /* Answer in reverse order inside the pending window, to mix things up. */
    const dht_node *q = &queue[tail - 1];
    dht_node qq = *q;
    memmove(&queue[head + 1], &queue[head], (tail - 1 - head) * sizeof *queue);
    head++;
    det_answer b;
    dht_lookup_reply r;
    int rc = det_respond(&qq, &b, &r) ? do_op(l, OP_REPLY, NULL, 0, &qq.addr, &r, inject)
                                      : do_op(l, OP_FAIL, NULL, 0, &qq.addr, NULL, inject);
    cr_assert(eq(int, rc, DHT_OK));
  }
  cr_assert(dht_lookup_done(l));
  cr_assert(gt(sz, dht_lookup_queried_count(l), 10));
  char *d = describe(l);
  dht_lookup_free(l);
  return d;
}
#endif

Test(lookup_api, enomem_leaves_the_lookup_unchanged) {
  SETUP();
#if !FAULT_INJECTION
  cr_skip_test("allocator interposition is off under the sanitizers");
#else
  for (int s = 0; s < N_STRATS; s++) {
    char *ref = enomem_scenario(STRATS[s], false);
    injected = 0;
    char *got = enomem_scenario(STRATS[s], true);
    cr_log_info("%s: %zu allocation failures injected", strat_name(STRATS[s]), injected);
    cr_assert(gt(sz, injected, 10));
    cr_assert(eq(str, got, ref), "%s: result differs after ENOMEM retries", strat_name(STRATS[s]));
    g_free(ref);
    g_free(got);
  }
#endif
}

/* ===========================================================================
 * Boundaries a one-token change would cross (issue #11)
 * ========================================================================= */

/* The node whose XOR distance to target is dist, at 10.9.0.last:6881. */
static dht_node node_at_distance(const uint8_t dist[DHT_ID_LEN], unsigned last) {
  dht_node n = {0};
  dht_id d;
  memcpy(d.b, dist, DHT_ID_LEN);
  dht_id_xor(&n.id, &target, &d);
  n.addr = mock_addr(10, 9, 0, (uint8_t)last, 6881);
  return n;
}

/* Convergence is "the closest unqueried candidate is at least as far as the
 * K-th closest responded" (>=): a candidate exactly as far (another address
 * carrying the same ID, which core/ allows) is not queried. With > it would be. */
Test(lookup_convergence, a_candidate_as_far_as_the_kth_responded_is_not_queried) {
  SETUP();
  for (size_t s = 0; s < N_STRATS; s++) {
    static const uint8_t dist[DHT_ID_LEN] = {0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x07};
    dht_node a = node_at_distance(dist, 1), twin = node_at_distance(dist, 2), out[4];
    dht_lookup *l = new_lookup(STRATS[s], 1, 1);
    cr_assert(eq(int, dht_lookup_seed(l, &a, 1), DHT_OK));
    cr_assert(eq(sz, dht_lookup_next(l, out, 4), 1));
    dht_lookup_reply r = reply_nodes(&twin, 1);
    cr_assert(eq(int, dht_lookup_reply_from(l, &a.addr, &r), DHT_OK));
    cr_assert(eq(sz, dht_lookup_next(l, out, 4), 0), "%s: queried a candidate no closer than the K-th responded",
              strat_name(STRATS[s]));
    cr_assert(dht_lookup_done(l), "%s", strat_name(STRATS[s]));
    cr_assert(eq(sz, dht_lookup_queried_count(l), 1));
    dht_lookup_free(l);
  }
}

/* Distances are compared on all 20 bytes: candidates whose distances differ
 * only in the last byte are ordered by it when issued (the closer first,
 * though seeded second), when deciding convergence (a closer one found late
 * is still queried) and in the returned closest set. */
Test(lookup_api, distances_differing_in_the_last_byte_are_ordered) {
  SETUP();
  for (size_t s = 0; s < N_STRATS; s++) {
    static const uint8_t far[DHT_ID_LEN] = {0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02};
    static const uint8_t near[DHT_ID_LEN] = {0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
    dht_node a = node_at_distance(far, 1), b = node_at_distance(near, 2), both[2] = {a, b}, out[4], closest[2];
    /* Issued closest first. */
    dht_lookup *l = new_lookup(STRATS[s], 1, 1);
    cr_assert(eq(int, dht_lookup_seed(l, both, 2), DHT_OK));
    cr_assert(eq(sz, dht_lookup_next(l, out, 4), 1));
    cr_assert(dht_addr_eq(&out[0].addr, &b.addr), "%s: the farther candidate went first", strat_name(STRATS[s]));
    dht_lookup_free(l);
    /* Found late, the closer one is still queried, and is the closest returned. */
    l = new_lookup(STRATS[s], 1, 1);
    cr_assert(eq(int, dht_lookup_seed(l, &a, 1), DHT_OK));
    cr_assert(eq(sz, dht_lookup_next(l, out, 4), 1));
    dht_lookup_reply r = reply_nodes(&b, 1);
    cr_assert(eq(int, dht_lookup_reply_from(l, &a.addr, &r), DHT_OK));
    cr_assert(eq(sz, dht_lookup_next(l, out, 4), 1), "%s: converged before a closer candidate",
              strat_name(STRATS[s]));
    cr_assert(dht_addr_eq(&out[0].addr, &b.addr));
    r = reply_nodes(NULL, 0);
    cr_assert(eq(int, dht_lookup_reply_from(l, &b.addr, &r), DHT_OK));
    cr_assert(dht_lookup_done(l));
    cr_assert(eq(sz, dht_lookup_closest(l, closest, 2), 1));
    cr_assert(dht_addr_eq(&closest[0].addr, &b.addr), "%s: the closest set kept the farther node",
              strat_name(STRATS[s]));
    dht_lookup_free(l);
  }
}
