/* test_network.c: generated networks (determinism, random tables equal to core
 * dht_rt tables, full tables obey BEP 5 bucket rules), exact closest queries
 * against brute force, address lookup, and the dhtsim-topology v1 format. */
#include <criterion/criterion.h>
#include "criterion_assert.h"
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "network.h"
#include "rng.h"
#include "routing_table.h"

static bool net_is_zero(const sim_network *net) {
  return net->n == 0 && net->ids == NULL && net->addrs == NULL && net->by_id == NULL && net->by_addr == NULL &&
         net->contact_off == NULL && net->contacts == NULL && net->flags == NULL;
}

static uint64_t n_contacts(const sim_network *net, uint32_t x) {
  return net->contact_off[x + 1] - net->contact_off[x];
}

/* Brute-force order: sort node indices by XOR distance to a target. */
static const dht_id *g_target;
static const sim_network *g_net;
static int by_distance(const void *pa, const void *pb) {
  uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
  return dht_id_distance_cmp(g_target, &g_net->ids[a], &g_net->ids[b]);
}

static void brute_sort(const sim_network *net, const dht_id *t, uint32_t *v, size_t n) {
  g_net = net;
  g_target = t;
  qsort(v, n, sizeof *v, by_distance);
}

/* A random target, sometimes very close to an existing node (long shared prefix). */
static void random_target(const sim_network *net, dht_rng *r, dht_id *t) {
  dht_id_random(t, r);
  if (dht_rng_below(r, 3) == 0) {
    const dht_id *near = &net->ids[dht_rng_below(r, net->n)];
    unsigned keep = (unsigned)dht_rng_below(r, DHT_ID_LEN + 1);
    memcpy(t->b, near->b, keep);
  }
}

static void check_sorted_indices(const sim_network *net) {
  for (uint32_t i = 1; i < net->n; i++) {
    cr_assert(lt(int, dht_id_cmp(&net->ids[net->by_id[i - 1]], &net->ids[net->by_id[i]]), 0));
    cr_assert(lt(int, dht_addr_cmp(&net->addrs[net->by_addr[i - 1]], &net->addrs[net->by_addr[i]]), 0));
  }
}

Test(network, generate_is_deterministic_and_seeded) {
  sim_network a, b, c;
  cr_assert(eq(int, sim_network_generate(&a, 700, 8, SIM_TABLES_RANDOM, 42), 0));
  cr_assert(eq(int, sim_network_generate(&b, 700, 8, SIM_TABLES_RANDOM, 42), 0));
  cr_assert(eq(int, sim_network_generate(&c, 700, 8, SIM_TABLES_RANDOM, 43), 0));
  cr_assert(eq(u32, a.n, 700));
  cr_assert(eq(u32, a.k, 8));
  cr_assert(eq(int, memcmp(a.ids, b.ids, 700 * sizeof *a.ids), 0));
  cr_assert(ne(int, memcmp(a.ids, c.ids, 700 * sizeof *a.ids), 0));
  cr_assert(eq(int, memcmp(a.contact_off, b.contact_off, 701 * sizeof *a.contact_off), 0));
  cr_assert(eq(int, memcmp(a.contacts, b.contacts, a.contact_off[700] * sizeof *a.contacts), 0));
  for (uint32_t i = 0; i < a.n; i++) {
    dht_addr want;
    dht_addr_set_v4(&want, 0x0a000000u | i, 6881);
    cr_assert(dht_addr_eq(&a.addrs[i], &want));
    cr_assert(eq(u32, a.by_addr[i], i)); /* 10.x.y.z in index order */
    cr_assert(eq(u8, a.flags[i], 0));
  }
  check_sorted_indices(&a);
  /* Addresses of large indices spread over the three low octets. */
  sim_network_clear(&a);
  sim_network_clear(&b);
  sim_network_clear(&c);
  cr_assert(net_is_zero(&a));

  cr_assert(eq(int, sim_network_generate(&a, 70000, 4, SIM_TABLES_FULL, 7), 0));
  cr_assert(eq(int, sim_network_generate(&b, 70000, 4, SIM_TABLES_FULL, 7), 0));
  {
    char s[DHT_ADDR_STRLEN];
    cr_assert(gt(int, dht_addr_format(&a.addrs[69999], s, sizeof s), 0));
    cr_assert(eq(str, s, "10.1.17.111:6881")); /* 69999 = 0x01116f */
  }
  cr_assert(eq(int, memcmp(a.contact_off, b.contact_off, 70001 * sizeof *a.contact_off), 0));
  cr_assert(eq(int, memcmp(a.contacts, b.contacts, a.contact_off[70000] * sizeof *a.contacts), 0));
  check_sorted_indices(&a);
  sim_network_clear(&a);
  sim_network_clear(&b);
}

Test(network, generate_rejects_bad_parameters) {
  sim_network net;
  cr_assert(eq(int, sim_network_generate(&net, 0, 8, SIM_TABLES_RANDOM, 1), DHT_EINVAL));
  cr_assert(net_is_zero(&net));
  cr_assert(eq(int, sim_network_generate(&net, SIM_NODES_MAX + 1, 8, SIM_TABLES_RANDOM, 1), DHT_EINVAL));
  cr_assert(eq(int, sim_network_generate(&net, 10, 0, SIM_TABLES_RANDOM, 1), DHT_EINVAL));
  cr_assert(eq(int, sim_network_generate(&net, 10, DHT_K_MAX + 1, SIM_TABLES_FULL, 1), DHT_EINVAL));
  cr_assert(eq(int, sim_network_generate(&net, 10, 8, (sim_tables_kind)7, 1), DHT_EINVAL));
  cr_assert(net_is_zero(&net));
}

Test(network, tiny_networks) {
  sim_network net;
  uint32_t out[4];
  dht_id t;
  memset(&t, 0x55, sizeof t);
  for (int kind = 0; kind < 2; kind++) {
    cr_assert(eq(int, sim_network_generate(&net, 1, 8, (sim_tables_kind)kind, 3), 0));
    cr_assert(eq(u64, n_contacts(&net, 0), 0));
    cr_assert(eq(sz, sim_network_closest(&net, 0, &t, out, 4), 0));
    cr_assert(eq(sz, sim_network_true_closest(&net, &t, 0, out, 4), 1));
    cr_assert(eq(u32, out[0], 0));
    sim_network_clear(&net);
    /* n - 1 <= K: everybody knows everybody. */
    cr_assert(eq(int, sim_network_generate(&net, 9, 8, (sim_tables_kind)kind, 3), 0));
    for (uint32_t x = 0; x < 9; x++)
      cr_assert(eq(u64, n_contacts(&net, x), 8));
    sim_network_clear(&net);
  }
}

/* The generator's bounded draw: Lemire's multiply-shift on the top 32 bits. */
static uint32_t ref_below(dht_rng *r, uint32_t s) {
  for (;;) {
    uint64_t m = (uint64_t)(uint32_t)(dht_rng_next(r) >> 32) * s;
    if ((uint32_t)m >= (uint32_t)(-s) % s)
      return (uint32_t)(m >> 32);
  }
}

/* The sampling the generator documents: min(m, s) distinct values of [0, s) in
 * random order, by partial Fisher-Yates when s <= 4m, by rejection otherwise. */
static size_t ref_sample(dht_rng *r, uint32_t s, size_t m, uint32_t *out) {
  size_t take = m < s ? m : s;
  if (s <= 4 * m) {
    uint32_t *fy = malloc(s * sizeof *fy);
    cr_assert(ne(ptr, fy, NULL));
    for (uint32_t i = 0; i < s; i++)
      fy[i] = i;
    for (size_t i = 0; i < take; i++) {
      size_t j = i + ref_below(r, s - (uint32_t)i);
      uint32_t tmp = fy[i];
      fy[i] = fy[j];
      fy[j] = tmp;
      out[i] = fy[i];
    }
    free(fy);
    return take;
  }
  for (size_t i = 0; i < take; i++) {
    uint32_t v;
    bool dup;
    do {
      v = ref_below(r, s);
      dup = false;
      for (size_t j = 0; j < i; j++)
        dup |= out[j] == v;
    } while (dup);
    out[i] = v;
  }
  return take;
}

/* Rebuilds node x's random table with core dht_rt: the same 4K nodes, the same order. */
static dht_rt *ref_random_table(const sim_network *net, uint64_t seed, uint32_t x) {
  const size_t m = 4 * (size_t)net->k;
  uint32_t *pick = malloc(m * sizeof *pick);
  dht_rng r;
  dht_rt *rt = dht_rt_new(&net->ids[x], net->k);
  size_t got;
  cr_assert(ne(ptr, rt, NULL));
  dht_rng_init(&r, dht_seed_derive(dht_seed_derive(seed, 1), x));
  got = net->n > 1 ? ref_sample(&r, net->n - 1, m, pick) : 0;
  for (size_t j = 0; j < got; j++) {
    uint32_t y = pick[j] >= x ? pick[j] + 1 : pick[j];
    dht_node nd = {.id = net->ids[y], .addr = net->addrs[y]};
    cr_assert(ge(int, dht_rt_add(rt, &nd), 0));
  }
  free(pick);
  return rt;
}

static void check_random_equals_core(uint32_t n, unsigned k, uint64_t seed, uint32_t step) {
  sim_network net;
  dht_rng r;
  uint32_t *out;
  dht_node *ref;
  const size_t counts[] = {1, 3, k, 2 * (size_t)k, 4 * (size_t)k + 5};
  cr_assert(eq(int, sim_network_generate(&net, n, k, SIM_TABLES_RANDOM, seed), 0));
  out = malloc((4 * k + 5) * sizeof *out);
  ref = malloc((4 * k + 5) * sizeof *ref);
  dht_rng_init(&r, 99);
  for (uint32_t x = 0; x < n; x += step) {
    dht_rt *rt = ref_random_table(&net, seed, x);
    uint64_t off = net.contact_off[x];
    /* Same contents in the same (bucket) order. */
    cr_assert(eq(u64, n_contacts(&net, x), dht_rt_size(rt)));
    for (unsigned b = 0; b < dht_rt_bucket_count(rt); b++) {
      dht_node bn[DHT_K_MAX];
      size_t c = dht_rt_bucket_nodes(rt, b, bn);
      for (size_t j = 0; j < c; j++)
        cr_assert(dht_id_eq(&net.ids[net.contacts[off++]], &bn[j].id));
    }
    for (int q = 0; q < 10; q++) {
      dht_id t;
      size_t count = counts[q % 5], a, b;
      random_target(&net, &r, &t);
      if (q == 0)
        t = net.ids[x]; /* the node's own ID as target */
      a = sim_network_closest(&net, x, &t, out, count);
      b = dht_rt_closest(rt, &t, ref, count);
      cr_assert(eq(sz, a, b), "node %u target %d count %zu", x, q, count);
      for (size_t j = 0; j < a; j++)
        cr_assert(dht_id_eq(&net.ids[out[j]], &ref[j].id), "node %u rank %zu", x, j);
    }
    dht_rt_free(rt);
  }
  free(out);
  free(ref);
  sim_network_clear(&net);
}

Test(network, random_tables_equal_core_tables) {
  check_random_equals_core(3000, 8, 2024, 1);  /* rejection sampling */
  check_random_equals_core(100, 8, 5, 1);      /* Fisher-Yates: n - 1 <= 16 K */
  check_random_equals_core(20, 8, 6, 1);       /* fewer nodes than 4K */
  check_random_equals_core(5000, 2, 77, 3);    /* small K: deeper tables */
  check_random_equals_core(2000, 20, 78, 7);   /* K = 20 */
}

/* Node x's full table against the rules, by brute force over all nodes. */
static void check_full_rules(uint32_t n, unsigned k, uint64_t seed) {
  sim_network net;
  uint8_t *mark = calloc(n, 1);
  cr_assert(eq(int, sim_network_generate(&net, n, k, SIM_TABLES_FULL, seed), 0));
  cr_assert(eq(u64, net.contact_off[0], 0));
  for (uint32_t x = 0; x < n; x++) {
    uint64_t hist[DHT_ID_BITS + 1] = {0}, chist[DHT_ID_BITS + 1] = {0}, suffix = 0;
    unsigned own = 0;
    for (uint32_t y = 0; y < n; y++)
      if (y != x)
        hist[dht_id_common_prefix(&net.ids[x], &net.ids[y])]++;
    /* The own bucket is at the smallest depth whose remaining nodes fit in K. */
    for (int d = DHT_ID_BITS; d >= 0; d--) {
      suffix += hist[d];
      if (suffix <= k)
        own = (unsigned)d;
      else
        break;
    }
    cr_assert(le(u64, net.contact_off[x], net.contact_off[x + 1]));
    for (uint64_t j = net.contact_off[x]; j < net.contact_off[x + 1]; j++) {
      uint32_t c = net.contacts[j];
      cr_assert(lt(u32, c, n));
      cr_assert(ne(u32, c, x));
      cr_assert(eq(u8, mark[c], 0), "duplicate contact");
      mark[c] = 1;
      chist[dht_id_common_prefix(&net.ids[x], &net.ids[c])]++;
    }
    for (uint64_t j = net.contact_off[x]; j < net.contact_off[x + 1]; j++)
      mark[net.contacts[j]] = 0;
    for (unsigned i = 0; i < own; i++)
      cr_assert(eq(u64, chist[i], hist[i] < k ? hist[i] : k), "node %u depth %u", x, i);
    for (unsigned i = own; i <= DHT_ID_BITS; i++)
      cr_assert(eq(u64, chist[i], hist[i]), "node %u own bucket depth %u", x, i);
  }
  free(mark);
  sim_network_clear(&net);
}

Test(network, full_tables_obey_bucket_rules) {
  check_full_rules(5000, 8, 11);
  check_full_rules(2000, 1, 12);
  check_full_rules(1500, 3, 13);
  check_full_rules(300, 20, 14);
}

Test(network, full_tables_depend_on_seed) {
  sim_network a, b;
  cr_assert(eq(int, sim_network_generate(&a, 3000, 8, SIM_TABLES_FULL, 1), 0));
  cr_assert(eq(int, sim_network_generate(&b, 3000, 8, SIM_TABLES_FULL, 2), 0));
  cr_assert(ne(int, memcmp(a.ids, b.ids, 3000 * sizeof *a.ids), 0));
  /* Sizes near (log2(n/K) + 1) K per node. */
  cr_assert(gt(u64, a.contact_off[3000], 3000ull * 8 * 7));
  cr_assert(lt(u64, a.contact_off[3000], 3000ull * 8 * 12));
  sim_network_clear(&a);
  sim_network_clear(&b);
}

static void check_closest_brute(sim_tables_kind kind, uint32_t n, unsigned k, uint64_t seed) {
  sim_network net;
  dht_rng r;
  uint32_t out[400], all[400];
  const size_t counts[] = {0, 1, 2, k, 3 * (size_t)k, 400};
  cr_assert(eq(int, sim_network_generate(&net, n, k, kind, seed), 0));
  dht_rng_init(&r, seed + 1);
  for (uint32_t x = 0; x < n; x += 5) {
    size_t c = (size_t)n_contacts(&net, x);
    cr_assert(le(sz, c, 400));
    for (int q = 0; q < 6; q++) {
      dht_id t;
      size_t count = counts[q], want = count < c ? count : c;
      random_target(&net, &r, &t);
      memcpy(all, net.contacts + net.contact_off[x], c * sizeof *all);
      brute_sort(&net, &t, all, c);
      cr_assert(eq(sz, sim_network_closest(&net, x, &t, out, count), want));
      for (size_t j = 0; j < want; j++)
        cr_assert(eq(u32, out[j], all[j]));
    }
  }
  sim_network_clear(&net);
}

Test(network, closest_equals_brute_force) {
  check_closest_brute(SIM_TABLES_FULL, 4000, 8, 21);
  check_closest_brute(SIM_TABLES_RANDOM, 4000, 8, 22);
  check_closest_brute(SIM_TABLES_FULL, 3000, 2, 23);
}

Test(network, true_closest_equals_brute_force) {
  const uint32_t n = 3000;
  sim_network net;
  dht_rng r;
  uint32_t *all = malloc(n * sizeof *all), *out = malloc((n + 10) * sizeof *out);
  const size_t counts[] = {1, 8, 9, 50, 300};
  cr_assert(eq(int, sim_network_generate(&net, n, 8, SIM_TABLES_RANDOM, 31), 0));
  dht_rng_init(&r, 32);
  for (uint32_t i = 0; i < n; i++) { /* ~30% dead, ~10% slow */
    if (dht_rng_below(&r, 10) < 3)
      net.flags[i] |= SIM_NODE_DEAD;
    if (dht_rng_below(&r, 10) == 0)
      net.flags[i] |= SIM_NODE_SLOW;
  }
  for (int q = 0; q < 300; q++) {
    const uint8_t skips[] = {0, SIM_NODE_DEAD, SIM_NODE_DEAD | SIM_NODE_SLOW};
    uint8_t skip = skips[q % 3];
    size_t count = counts[q % 5], m = 0, got;
    dht_id t;
    random_target(&net, &r, &t);
    if (q % 7 == 0)
      t = net.ids[dht_rng_below(&r, n)];
    for (uint32_t i = 0; i < n; i++)
      if (!(net.flags[i] & skip))
        all[m++] = i;
    brute_sort(&net, &t, all, m);
    got = sim_network_true_closest(&net, &t, skip, out, count);
    cr_assert(eq(sz, got, count < m ? count : m));
    for (size_t j = 0; j < got; j++)
      cr_assert(eq(u32, out[j], all[j]), "query %d rank %zu", q, j);
  }
  /* Whole network, and nothing left once everything is skipped. */
  {
    dht_id t;
    size_t m = 0;
    memset(&t, 0xa5, sizeof t);
    for (uint32_t i = 0; i < n; i++)
      all[m++] = i;
    brute_sort(&net, &t, all, m);
    cr_assert(eq(sz, sim_network_true_closest(&net, &t, 0, out, n + 10), n));
    cr_assert(eq(int, memcmp(out, all, n * sizeof *out), 0));
    for (uint32_t i = 0; i < n; i++)
      net.flags[i] = SIM_NODE_DEAD;
    cr_assert(eq(sz, sim_network_true_closest(&net, &t, SIM_NODE_DEAD, out, 8), 0));
    cr_assert(eq(sz, sim_network_true_closest(&net, &t, 0, out, 0), 0));
  }
  free(all);
  free(out);
  sim_network_clear(&net);
}

Test(network, find_addr) {
  sim_network net;
  dht_addr a;
  uint32_t idx = 0;
  cr_assert(eq(int, sim_network_generate(&net, 1000, 8, SIM_TABLES_RANDOM, 41), 0));
  for (uint32_t i = 0; i < net.n; i++) {
    cr_assert(eq(int, sim_network_find_addr(&net, &net.addrs[i], &idx), 0));
    cr_assert(eq(u32, idx, i));
  }
  dht_addr_set_v4(&a, 0x0a000000u | 1000, 6881); /* just past the last node */
  cr_assert(eq(int, sim_network_find_addr(&net, &a, &idx), DHT_ENOENT));
  dht_addr_set_v4(&a, 0x0a000005u, 6882); /* right host, wrong port */
  cr_assert(eq(int, sim_network_find_addr(&net, &a, &idx), DHT_ENOENT));
  dht_addr_set_v4(&a, 0x09ffffffu, 6881);
  cr_assert(eq(int, sim_network_find_addr(&net, &a, &idx), DHT_ENOENT));
  sim_network_clear(&net);
}

/* ------------------------------------------------------------- topology */

static char *tmp_dir(void) {
  GError *e = NULL;
  char *d = g_dir_make_tmp("dhtsim-net-XXXXXX", &e);
  cr_assert(ne(ptr, d, NULL), "g_dir_make_tmp: %s", e ? e->message : "?");
  return d;
}

static char *write_file(const char *dir, const char *name, const char *text) {
  char *p = g_build_filename(dir, name, NULL);
  cr_assert(g_file_set_contents(p, text, -1, NULL));
  return p;
}

/* Removes (and frees) two files and their temporary directory. */
static void remove_two(char *dir, char *p1, char *p2) {
  g_remove(p1);
  g_remove(p2);
  g_rmdir(dir);
  g_free(p1);
  g_free(p2);
  g_free(dir);
}

static void net_equal(const sim_network *a, const sim_network *b) {
  cr_assert(eq(u32, a->n, b->n));
  cr_assert(eq(int, memcmp(a->ids, b->ids, a->n * sizeof *a->ids), 0));
  cr_assert(eq(int, memcmp(a->addrs, b->addrs, a->n * sizeof *a->addrs), 0));
  cr_assert(eq(int, memcmp(a->by_id, b->by_id, a->n * sizeof *a->by_id), 0));
  cr_assert(eq(int, memcmp(a->by_addr, b->by_addr, a->n * sizeof *a->by_addr), 0));
  cr_assert(eq(int, memcmp(a->contact_off, b->contact_off, (a->n + 1) * sizeof *a->contact_off), 0));
  cr_assert(eq(int, memcmp(a->contacts, b->contacts, a->contact_off[a->n] * sizeof *a->contacts), 0));
}

Test(network, topology_round_trip) {
  char *dir = tmp_dir();
  char *p1 = g_build_filename(dir, "a.topo", NULL), *p2 = g_build_filename(dir, "b.topo", NULL);
  char err[256] = "";
  char *t1 = NULL, *t2 = NULL;
  sim_network net, back;
  for (int kind = 0; kind < 2; kind++) {
    cr_assert(eq(int, sim_network_generate(&net, 800, 8, (sim_tables_kind)kind, 51), 0));
    cr_assert(eq(int, sim_network_export_topology(&net, p1, err, sizeof err), 0), "%s", err);
    cr_assert(eq(int, sim_network_load_topology(&back, p1, 8, err, sizeof err), 0), "%s", err);
    net_equal(&net, &back);
    cr_assert(eq(u32, back.k, 8));
    for (uint32_t i = 0; i < back.n; i++)
      cr_assert(eq(u8, back.flags[i], 0));
    /* Export of the loaded network is byte-identical. */
    cr_assert(eq(int, sim_network_export_topology(&back, p2, err, sizeof err), 0), "%s", err);
    cr_assert(g_file_get_contents(p1, &t1, NULL, NULL));
    cr_assert(g_file_get_contents(p2, &t2, NULL, NULL));
    cr_assert(eq(str, t1, t2));
    cr_assert(eq(int, strncmp(t1, "dhtsim-topology v1\nnodes 800\n0 ", 31), 0));
    {
      /* Written under path.tmp and renamed: nothing temporary is left. */
      char *tmp = g_strdup_printf("%s.tmp", p1);
      cr_assert(eq(int, g_file_test(tmp, G_FILE_TEST_EXISTS), FALSE), "%s left behind", tmp);
      g_free(tmp);
    }
    g_free(t1);
    g_free(t2);
    sim_network_clear(&net);
    sim_network_clear(&back);
  }
  cr_assert(eq(int, sim_network_export_topology(&net, "/nonexistent-dir/x.topo", err, sizeof err), DHT_EIO));
  cr_assert(eq(str, err, "cannot write /nonexistent-dir/x.topo.tmp: No such file or directory"));
  remove_two(dir, p1, p2);
}

Test(network, topology_hand_written_with_ipv6_and_comments) {
  static const char text[] =
      "# a small mixed network\n"
      "\n"
      "dhtsim-topology v1\n"
      "nodes 4\n"
      "0 ffffffffffffffffffffffffffffffffffffffff 2001:db8::1 6881\n"
      "  # comment between nodes\n"
      "1 0000000000000000000000000000000000000001 192.168.1.2 1\n"
      "2 8000000000000000000000000000000000000000 [::1] 65535\n"
      "3\tABCDEFabcdef0123456789abcdefABCDEF012345\t10.0.0.1\t0   \r\n"
      "contacts\n"
      "0: 1 2 3\n"
      "1:\n"
      "2: 3   0\n"
      "3: 2\n"
      "\n# end\n";
  char *dir = tmp_dir(), *p = write_file(dir, "t.topo", text), *p2 = g_build_filename(dir, "t2.topo", NULL);
  char err[256] = "", *out = NULL;
  sim_network net;
  dht_addr a;
  uint32_t idx, near[4];
  dht_id t;
  cr_assert(eq(int, sim_network_load_topology(&net, p, 8, err, sizeof err), 0), "%s", err);
  cr_assert(eq(u32, net.n, 4));
  cr_assert(eq(u64, n_contacts(&net, 0), 3));
  cr_assert(eq(u64, n_contacts(&net, 1), 0));
  cr_assert(eq(u32, net.contacts[net.contact_off[2]], 3)); /* file order kept */
  cr_assert(eq(u32, net.contacts[net.contact_off[2] + 1], 0));
  cr_assert(eq(int, dht_addr_parse(&a, "[2001:db8::1]:6881"), 0));
  cr_assert(eq(int, sim_network_find_addr(&net, &a, &idx), 0));
  cr_assert(eq(u32, idx, 0));
  cr_assert(eq(int, dht_addr_parse(&a, "[::1]:65535"), 0));
  cr_assert(eq(int, sim_network_find_addr(&net, &a, &idx), 0));
  cr_assert(eq(u32, idx, 2));
  /* v4 sorts before v6, then by address bytes. */
  cr_assert(eq(u32, net.by_addr[0], 3));
  cr_assert(eq(u32, net.by_addr[1], 1));
  cr_assert(eq(u32, net.by_addr[2], 2));
  cr_assert(eq(u32, net.by_addr[3], 0));
  cr_assert(eq(u32, net.by_id[0], 1));
  cr_assert(eq(u32, net.by_id[3], 0));
  memset(&t, 0, sizeof t);
  cr_assert(eq(sz, sim_network_closest(&net, 0, &t, near, 4), 3));
  cr_assert(eq(u32, near[0], 1));
  cr_assert(eq(u32, near[1], 2));
  cr_assert(eq(u32, near[2], 3));
  cr_assert(eq(int, sim_network_export_topology(&net, p2, err, sizeof err), 0), "%s", err);
  cr_assert(g_file_get_contents(p2, &out, NULL, NULL));
  cr_assert(eq(str, out,
               "dhtsim-topology v1\n"
               "nodes 4\n"
               "0 ffffffffffffffffffffffffffffffffffffffff 2001:db8::1 6881\n"
               "1 0000000000000000000000000000000000000001 192.168.1.2 1\n"
               "2 8000000000000000000000000000000000000000 ::1 65535\n"
               "3 abcdefabcdef0123456789abcdefabcdef012345 10.0.0.1 0\n"
               "contacts\n"
               "0: 1 2 3\n"
               "1:\n"
               "2: 3 0\n"
               "3: 2\n"));
  g_free(out);
  sim_network_clear(&net);
  g_remove(p);
  g_remove(p2);
  g_rmdir(dir);
  g_free(p);
  g_free(p2);
  g_free(dir);
}

typedef struct topo_case {
  const char *text;
  unsigned k;
  int rc;
  const char *msg; /* after "<path>:" */
} topo_case;

#define ID0 "0000000000000000000000000000000000000000"
#define ID1 "1111111111111111111111111111111111111111"
#define ID2 "2222222222222222222222222222222222222222"
#define HDR "dhtsim-topology v1\n"
#define N2 HDR "nodes 2\n0 " ID0 " 10.0.0.1 6881\n1 " ID1 " 10.0.0.2 6881\n"
#define N3 HDR "nodes 3\n0 " ID0 " 10.0.0.1 6881\n1 " ID1 " 10.0.0.2 6881\n2 " ID2 " 10.0.0.3 6881\n"

static const topo_case cases[] = {
    {"", 8, DHT_EINVAL, "1: missing header 'dhtsim-topology v1'"},
    {"# only a comment\n", 8, DHT_EINVAL, "1: missing header 'dhtsim-topology v1'"},
    {"dhtsim-topology\nnodes 1\n", 8, DHT_EINVAL, "1: expected header 'dhtsim-topology v1'"},
    {"hello v1\n", 8, DHT_EINVAL, "1: expected header 'dhtsim-topology v1'"},
    {"dhtsim-topology v2\n", 8, DHT_EINVAL, "1: unsupported version 'v2' (expected v1)"},
    {HDR, 8, DHT_EINVAL, "1: unexpected end of file: expected 'nodes <N>'"},
    {HDR "node 3\n", 8, DHT_EINVAL, "2: expected 'nodes <N>'"},
    {HDR "nodes -3\n", 8, DHT_EINVAL, "2: expected 'nodes <N>'"},
    {HDR "nodes 3 4\n", 8, DHT_EINVAL, "2: expected 'nodes <N>'"},
    {HDR "nodes 0\n", 8, DHT_ERANGE, "2: nodes must be at least 1"},
    {HDR "nodes 10000000000\n", 8, DHT_ERANGE, "2: nodes 10000000000 exceeds the maximum 268435456"},
    {HDR "nodes 268435457\n", 8, DHT_ERANGE, "2: nodes 268435457 exceeds the maximum 268435456"},
    {HDR "nodes 99999999999999999999999999\n", 8, DHT_ERANGE,
     "2: nodes 99999999999999999999999999 exceeds the maximum 268435456"},
    {HDR "nodes 2\n0 " ID0 " 10.0.0.1 6881\n", 8, DHT_EINVAL, "3: unexpected end of file: expected 2 node lines, got 1"},
    {HDR "nodes 2\n0 " ID0 " 10.0.0.1 6881\ncontacts\n", 8, DHT_EINVAL,
     "4: bad node index 'contacts' (expected '<index> <id> <host> <port>')"},
    {HDR "nodes 2\n0 00000000000000000000000000000000000000zz 10.0.0.1 6881\n", 8, DHT_EINVAL,
     "3: bad node id '00000000000000000000000000000000000000zz' (expected 40 hex digits)"},
    {HDR "nodes 2\n0 000000000000000000000000000000000000000 10.0.0.1 6881\n", 8, DHT_EINVAL,
     "3: bad node id '000000000000000000000000000000000000000' (expected 40 hex digits)"},
    {HDR "nodes 2\n0 " ID0 "\n", 8, DHT_EINVAL, "3: missing address (expected '<host> <port>' after the id)"},
    {HDR "nodes 2\n0 " ID0 " 10.0.0.1\n", 8, DHT_EINVAL, "3: missing address (expected '<host> <port>' after the id)"},
    {HDR "nodes 2\n0 " ID0 " 10.0.0.256 6881\n", 8, DHT_EINVAL,
     "3: bad address '10.0.0.256 6881' (expected an IPv4 or IPv6 host and a port 0..65535)"},
    {HDR "nodes 2\n0 " ID0 " 10.0.0.1 65536\n", 8, DHT_EINVAL,
     "3: bad address '10.0.0.1 65536' (expected an IPv4 or IPv6 host and a port 0..65535)"},
    {HDR "nodes 2\n0 " ID0 " example.org 80\n", 8, DHT_EINVAL,
     "3: bad address 'example.org 80' (expected an IPv4 or IPv6 host and a port 0..65535)"},
    {HDR "nodes 2\n0 " ID0 " 10.0.0.1 6881 extra\n", 8, DHT_EINVAL, "3: trailing garbage 'extra'"},
    /* Untrusted bytes are shown through sim_show: controls and invalid UTF-8
     * escaped, valid UTF-8 kept; VT and FF inside a line are not separators. */
    {HDR "nodes 2\n0 " ID0 " 10.0.0.1 6881 \x1b[2J\n", 8, DHT_EINVAL, "3: trailing garbage '\\x1b[2J'"},
    {HDR "nodes 2\n0\v1 " ID0 " 10.0.0.1 6881\n", 8, DHT_EINVAL,
     "3: bad node index '0\\x0b1' (expected '<index> <id> <host> <port>')"},
    {HDR "nodes 2\n\xc3\xa9 " ID0 " 10.0.0.1 6881\n", 8, DHT_EINVAL,
     "3: bad node index '\xc3\xa9' (expected '<index> <id> <host> <port>')"},
    {HDR "nodes 2\n0 " ID0 " 10.0.0.1 6881 \r\xff\n", 8, DHT_EINVAL, "3: trailing garbage '\\r\\xff'"},
    {"dhtsim-topology v1\x7f\n", 8, DHT_EINVAL, "1: unsupported version 'v1\\x7f' (expected v1)"},
    {HDR "nodes 2\n1 " ID0 " 10.0.0.1 6881\n", 8, DHT_EINVAL, "3: node index 1 out of order (expected 0)"},
    {HDR "nodes 2\n0 " ID0 " 10.0.0.1 6881\n0 " ID1 " 10.0.0.2 6881\n", 8, DHT_EINVAL,
     "4: node index 0 out of order (expected 1)"},
    {HDR "nodes 2\n2 " ID0 " 10.0.0.1 6881\n", 8, DHT_EINVAL, "3: node index 2 out of range (nodes 2)"},
    {HDR "nodes 2\nx " ID0 " 10.0.0.1 6881\n", 8, DHT_EINVAL,
     "3: bad node index 'x' (expected '<index> <id> <host> <port>')"},
    {HDR "nodes 3\n0 " ID0 " 10.0.0.1 6881\n1 " ID1 " 10.0.0.2 6881\n# dup\n2 " ID0 " 10.0.0.3 6881\n", 8, DHT_EINVAL,
     "6: duplicate node id (already on line 3)"},
    {HDR "nodes 3\n0 " ID0 " 10.0.0.1 6881\n1 " ID1 " 10.0.0.2 6881\n2 " ID2 " 10.0.0.1 6881\n", 8, DHT_EINVAL,
     "5: duplicate node address (already on line 3)"},
    {HDR "nodes 2\n0 " ID0 " ::1 6881\n1 " ID1 " [::1] 6881\n", 8, DHT_EINVAL,
     "4: duplicate node address (already on line 3)"},
    {N2, 8, DHT_EINVAL, "4: unexpected end of file: expected 'contacts'"},
    /* Shown input is cut after SIM_SHOW_MAX = 40 bytes. */
    {N2 "0 " ID2 " 10.0.0.3 6881\n", 8, DHT_EINVAL,
     "5: expected 'contacts' after 2 node lines, got '0 22222222222222222222222222222222222222...'"},
    {N2 "contacts\n0: 1\n", 8, DHT_EINVAL, "6: unexpected end of file: expected 2 contacts lines, got 1"},
    {N2 "contacts\n0 1\n1: 0\n", 8, DHT_EINVAL, "6: expected '<index>:' at the start of a contacts line, got '0'"},
    {N2 "contacts\n1: 0\n0: 1\n", 8, DHT_EINVAL, "6: contacts index 1 out of order (expected 0)"},
    {N2 "contacts\n5: 0\n", 8, DHT_EINVAL, "6: node index 5 out of range (nodes 2)"},
    {N2 "contacts\n0: 2\n1: 0\n", 8, DHT_EINVAL, "6: contact 2 out of range (nodes 2)"},
    {N2 "contacts\n0: 1\n1: 1\n", 8, DHT_EINVAL, "7: node 1 lists itself as a contact"},
    {N3 "contacts\n0: 1 2 1\n1:\n2:\n", 8, DHT_EINVAL, "7: duplicate contact 1"},
    {N3 "contacts\n0: 1 x\n1:\n2:\n", 8, DHT_EINVAL, "7: bad contact 'x' (expected a node index)"},
    {N3 "contacts\n0: 1 -2\n1:\n2:\n", 8, DHT_EINVAL, "7: bad contact '-2' (expected a node index)"},
    {N3 "contacts\n0:\n1: 0 2\n2:\n", 0, DHT_EINVAL, NULL}, /* k = 0 refused */
    {N3 "contacts\n0:\n1: 0\n2: 0 1\n", 1, DHT_OK, NULL},   /* 160 * K = 160 >= 2 */
    {N2 "contacts\n0: 1\n1: 0\nextra\n", 8, DHT_EINVAL, "8: trailing garbage after the last contacts line: 'extra'"},
    {N2 "contacts\n0: 1\n1: 0\n\n# fine\n2: 0\n", 8, DHT_EINVAL,
     "10: trailing garbage after the last contacts line: '2: 0'"},
};

Test(network, topology_errors) {
  char *dir = tmp_dir();
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char name[32], err[512] = "", *p, *want;
    sim_network net;
    int rc;
    snprintf(name, sizeof name, "case%zu.topo", i);
    p = write_file(dir, name, cases[i].text);
    memset(&net, 0xff, sizeof net); /* load must not rely on a zeroed struct */
    rc = sim_network_load_topology(&net, p, cases[i].k, err, sizeof err);
    cr_assert(eq(int, rc, cases[i].rc), "case %zu: rc %d, err '%s'", i, rc, err);
    if (rc < 0)
      cr_assert(net_is_zero(&net), "case %zu", i);
    if (cases[i].msg != NULL) {
      want = g_strdup_printf("%s:%s", p, cases[i].msg);
      cr_assert(eq(str, err, want), "case %zu", i);
      g_free(want);
    }
    sim_network_clear(&net);
    g_remove(p);
    g_free(p);
  }
  g_rmdir(dir);
  g_free(dir);
}

Test(network, topology_contact_limit_is_160k) {
  /* K = 1: at most 160 contacts per line. 162 nodes; node 0 lists 160, then 161. */
  GString *s = g_string_new("dhtsim-topology v1\nnodes 162\n");
  char *dir = tmp_dir(), *p, err[256] = "", *want;
  sim_network net;
  for (unsigned i = 0; i < 162; i++)
    g_string_append_printf(s, "%u %040x 10.0.%u.%u 6881\n", i, i, i >> 8, i & 255);
  g_string_append(s, "contacts\n0:");
  for (unsigned i = 1; i <= 160; i++)
    g_string_append_printf(s, " %u", i);
  g_string_append(s, "\n");
  for (unsigned i = 1; i < 162; i++)
    g_string_append_printf(s, "%u: 0\n", i);
  p = write_file(dir, "ok.topo", s->str);
  cr_assert(eq(int, sim_network_load_topology(&net, p, 1, err, sizeof err), 0), "%s", err);
  cr_assert(eq(u64, n_contacts(&net, 0), 160));
  sim_network_clear(&net);
  g_remove(p);
  g_free(p);
  /* One more on line 0 (file line 166) is refused. */
  {
    char *pos = strstr(s->str, " 160\n");
    g_string_insert(s, pos - s->str + 4, " 161");
  }
  p = write_file(dir, "big.topo", s->str);
  cr_assert(eq(int, sim_network_load_topology(&net, p, 1, err, sizeof err), DHT_EINVAL));
  want = g_strdup_printf("%s:166: more than 160 contacts (160 * K, K = 1)", p);
  cr_assert(eq(str, err, want));
  g_free(want);
  g_remove(p);
  g_free(p);
  g_rmdir(dir);
  g_free(dir);
  g_string_free(s, TRUE);
}

Test(network, topology_missing_file) {
  char err[256] = "";
  sim_network net;
  cr_assert(eq(int, sim_network_load_topology(&net, "/nonexistent/dhtsim.topo", 8, err, sizeof err), DHT_ENOENT));
  cr_assert(eq(str, err, "/nonexistent/dhtsim.topo: cannot open: No such file or directory"));
  cr_assert(net_is_zero(&net));
}

Test(network, estimate_bounds_allocation) {
  const uint32_t sizes[] = {1, 10, 1000, 20000};
  for (int kind = 0; kind < 2; kind++) {
    uint64_t prev = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
      sim_network net;
      uint64_t real, est = sim_network_estimate_bytes_layout(sizes[i], 8, (sim_tables_kind)kind, false);
      uint64_t est_od = sim_network_estimate_bytes(sizes[i], 8, (sim_tables_kind)kind);
      cr_assert(eq(int, sim_network_generate(&net, sizes[i], 8, (sim_tables_kind)kind, 61), 0));
      real = (uint64_t)net.n * (sizeof(dht_id) + sizeof(dht_addr) + 4 + 4 + 8 + 1) + ((uint64_t)net.n + 1) * 8 +
             net.contact_off[net.n] * 4;
      cr_assert(ge(u64, est, real), "kind %d n %u", kind, sizes[i]);
      sim_network_clear(&net);
      /* On demand (what a run builds): the per-node arrays. */
      cr_assert(eq(int, sim_network_generate_ondemand(&net, sizes[i], 8, (sim_tables_kind)kind, 61), 0));
      real = (uint64_t)net.n * (sizeof(dht_id) + sizeof(dht_addr) + 4 + 8 + 1) +
             (net.contacts != NULL ? ((uint64_t)net.n + 1) * 12 + net.contact_off[net.n] * 4 : 0);
      cr_assert(ge(u64, est_od, real), "kind %d n %u", kind, sizes[i]);
      cr_assert(gt(u64, est, prev));
      prev = est;
      sim_network_clear(&net);
    }
  }
  cr_assert(gt(u64, sim_network_estimate_bytes_layout(1000000, 8, SIM_TABLES_FULL, false),
               sim_network_estimate_bytes_layout(1000000, 8, SIM_TABLES_RANDOM, false)));
  /* On demand, tables take no memory per contact: less than either kind built. */
  cr_assert(lt(u64, sim_network_estimate_bytes(1000000, 8, SIM_TABLES_FULL),
               sim_network_estimate_bytes_layout(1000000, 8, SIM_TABLES_RANDOM, false)));
  cr_assert(lt(u64, sim_network_estimate_bytes(1000000, 8, SIM_TABLES_RANDOM),
               sim_network_estimate_bytes_layout(1000000, 8, SIM_TABLES_RANDOM, false)));
  cr_assert(gt(u64, sim_network_estimate_bytes(1000000, 20, SIM_TABLES_FULL),
               sim_network_estimate_bytes(1000000, 8, SIM_TABLES_FULL)));
}

/* On demand, every node's table is the one the full build stores, and every
 * query gives the same answer: full and random kinds, several K and N (trees
 * with empty and short buckets at small N, K = 1, K above the sampler's
 * linear-scan limit of 16), every node or a stride of them, targets near
 * nodes and random, counts below, at and above K. */
static void check_ondemand_equals_built(sim_tables_kind kind, uint32_t n, unsigned k, uint64_t seed, uint32_t step) {
  sim_network a, b;
  uint32_t *ta = g_new(uint32_t, SIM_CONTACTS_MAX(k)), *tb = g_new(uint32_t, SIM_CONTACTS_MAX(k));
  uint32_t oa[3 * DHT_K_MAX], ob[3 * DHT_K_MAX];
  dht_rng r;
  dht_rng_init(&r, seed ^ 0x5eed);
  cr_assert(eq(int, sim_network_generate(&a, n, k, kind, seed), 0));
  cr_assert(eq(int, sim_network_generate_ondemand(&b, n, k, kind, seed), 0));
  cr_assert(sim_network_check(&a) && sim_network_check(&b));
  cr_assert(eq(ptr, b.contacts, NULL));
  cr_assert(eq(int, memcmp(a.ids, b.ids, (size_t)n * sizeof *a.ids), 0));
  cr_assert(eq(int, memcmp(a.addrs, b.addrs, (size_t)n * sizeof *a.addrs), 0));
  cr_assert(eq(int, memcmp(a.by_id, b.by_id, (size_t)n * sizeof *a.by_id), 0));
  for (uint32_t x = 0; x < n; x += step) {
    size_t ca = sim_network_table(&a, x, ta), cb = sim_network_table(&b, x, tb);
    cr_assert(eq(sz, ca, n_contacts(&a, x)));
    cr_assert(eq(sz, ca, cb), "n %u k %u node %u", n, k, x);
    cr_assert(eq(int, memcmp(ta, tb, ca * sizeof *ta), 0), "n %u k %u node %u", n, k, x);
    for (int q = 0; q < 6; q++) {
      dht_id t;
      size_t count = q == 0 || q >= 4 ? k : q == 1 ? 1 : q == 2 ? (size_t)k + 1 : 3 * (size_t)k;
      size_t na, nb;
      if (q == 3) {
        t = a.ids[x]; /* the node's own ID: shares 160 bits, the whole table is drawn */
      } else if (q >= 4) {
        /* Shares exactly j bits with the node, j around its depth: every bucket
         * boundary (short buckets, the leaf) is met. */
        unsigned j = (unsigned)dht_rng_below(&r, 26);
        dht_id_random(&t, &r);
        memcpy(t.b, a.ids[x].b, j / 8);
        for (unsigned bit = (j / 8) * 8; bit <= j; bit++) {
          uint8_t mask = (uint8_t)(0x80u >> (bit & 7));
          int want = bit < j ? dht_id_bit(&a.ids[x], bit) : !dht_id_bit(&a.ids[x], bit);
          t.b[bit / 8] = (uint8_t)(want ? t.b[bit / 8] | mask : t.b[bit / 8] & ~mask);
        }
        cr_assert(eq(u32, dht_id_common_prefix(&t, &a.ids[x]), j));
      } else {
        random_target(&a, &r, &t);
      }
      na = sim_network_closest(&a, x, &t, oa, count);
      nb = sim_network_closest(&b, x, &t, ob, count);
      cr_assert(eq(sz, na, nb), "n %u k %u node %u count %zu", n, k, x, count);
      cr_assert(eq(int, memcmp(oa, ob, na * sizeof *oa), 0), "n %u k %u node %u count %zu", n, k, x, count);
      na = sim_network_true_closest(&a, &t, 0, oa, count);
      nb = sim_network_true_closest(&b, &t, 0, ob, count);
      cr_assert(eq(sz, na, nb));
      cr_assert(eq(int, memcmp(oa, ob, na * sizeof *oa), 0));
    }
  }
  cr_assert(sim_network_check(&b)); /* queries do not disturb the index */
  sim_network_clear(&a);
  sim_network_clear(&b);
  g_free(ta);
  g_free(tb);
}

Test(network, ondemand_tables_equal_built_tables) {
  static const uint32_t ns[] = {1, 2, 9, 10, 37, 300, 5000};
  static const unsigned ks[] = {1, 2, 8, 20};
  for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++)
    for (size_t j = 0; j < sizeof ks / sizeof ks[0]; j++)
      for (int kind = 0; kind < 2; kind++)
        check_ondemand_equals_built((sim_tables_kind)kind, ns[i], ks[j], 1000 + i * 10 + j, 1);
  check_ondemand_equals_built(SIM_TABLES_FULL, 200000, 8, 77, 997);
  check_ondemand_equals_built(SIM_TABLES_FULL, 70000, 3, 78, 331);
  check_ondemand_equals_built(SIM_TABLES_FULL, 20000, 64, 79, 401);
}

/* The debug walker sees one-token damage to the index. */
Test(network, check_catches_a_broken_index) {
  sim_network net;
  cr_assert(eq(int, sim_network_generate_ondemand(&net, 1000, 8, SIM_TABLES_FULL, 5), 0));
  cr_assert(sim_network_check(&net));
  net.skey[500]++; /* a prefix that is not its ID's */
  cr_assert(not(sim_network_check(&net)));
  net.skey[500]--;
  {
    uint32_t t = net.by_id[10]; /* two nodes out of ID order */
    net.by_id[10] = net.by_id[11];
    net.by_id[11] = t;
    uint64_t u = net.skey[10];
    net.skey[10] = net.skey[11];
    net.skey[11] = u;
    cr_assert(not(sim_network_check(&net)));
    net.by_id[11] = net.by_id[10];
    net.by_id[10] = t;
    net.skey[11] = net.skey[10];
    net.skey[10] = u;
  }
  cr_assert(sim_network_check(&net));
  net.dir[3]++; /* a cell boundary one off */
  cr_assert(not(sim_network_check(&net)));
  net.dir[3]--;
  cr_assert(sim_network_check(&net));
  net.addrs[700].port++; /* an address that does not name its node (sim_network_addr would differ) */
  cr_assert(not(sim_network_check(&net)));
  net.addrs[700].port--;
  cr_assert(sim_network_check(&net));
  sim_network_clear(&net);
}

/* sim_network_addr: computed from the index on generated networks, read on
 * loaded ones (by_addr set), and the same as addrs[] on both. */
Test(network, computed_addresses_are_the_stored_ones) {
  sim_network net;
  dht_addr a;
  cr_assert(eq(int, sim_network_generate_ondemand(&net, 3000, 8, SIM_TABLES_FULL, 12), 0));
  for (uint32_t i = 0; i < net.n; i++) {
    sim_network_addr(&net, i, &a);
    cr_assert(dht_addr_eq(&a, &net.addrs[i]), "node %u", i);
  }
  sim_network_clear(&net);
  cr_assert(eq(int, sim_network_generate(&net, 300, 8, SIM_TABLES_FULL, 12), 0));
  cr_assert(ne(ptr, net.by_addr, NULL));
  net.addrs[7].port = 1; /* a loaded topology's own address: read, not computed */
  sim_network_addr(&net, 7, &a);
  cr_assert(eq(u32, a.port, 1));
  sim_network_clear(&net);
}

/* Generated addresses: the 2^24 nodes of the old layout keep 10.x.y.z:6881;
 * beyond, the port carries the top bits (up to SIM_NODES_MAX); every label is
 * distinct and find_addr decodes it. */
Test(network, addresses_beyond_2_24_nodes) {
  static const uint32_t idx[] = {0, 1, 69999, 16777215, 16777216, 16777217, 33554431, 200000005, SIM_NODES_MAX - 1};
  static const char *want[] = {"10.0.0.0:6881",     "10.0.0.1:6881",   "10.1.17.111:6881",
                               "10.255.255.255:6881", "10.0.0.0:6882",   "10.0.0.1:6882",
                               "10.255.255.255:6882", "10.235.194.5:6892", "10.255.255.255:6896"};
  sim_network net;
  for (size_t i = 0; i < sizeof idx / sizeof idx[0]; i++) {
    dht_addr a;
    char s[DHT_ADDR_STRLEN];
    sim_network_node_addr(&a, idx[i]);
    cr_assert(gt(int, dht_addr_format(&a, s, sizeof s), 0));
    cr_assert(eq(str, s, (char *)want[i]), "node %u", idx[i]);
  }
  /* find_addr on an on-demand network (no by_addr): hits and misses. */
  cr_assert(eq(int, sim_network_generate_ondemand(&net, 5000, 8, SIM_TABLES_FULL, 9), 0));
  cr_assert(eq(ptr, net.by_addr, NULL));
  for (uint32_t i = 0; i < 5000; i += 7) {
    uint32_t got = UINT32_MAX;
    cr_assert(eq(int, sim_network_find_addr(&net, &net.addrs[i], &got), 0));
    cr_assert(eq(u32, got, i));
  }
  {
    dht_addr a;
    sim_network_node_addr(&a, 5000); /* one past the last */
    cr_assert(eq(int, sim_network_find_addr(&net, &a, NULL), DHT_ENOENT));
    sim_network_node_addr(&a, 16777216 + 3); /* node 3's ip, another port */
    cr_assert(eq(int, sim_network_find_addr(&net, &a, NULL), DHT_ENOENT));
  }
  sim_network_clear(&net);
}

/* export-topology of an on-demand network writes the file of the built one. */
Test(network, ondemand_export_equals_built_export) {
  char *dir = tmp_dir(), *pa = g_build_filename(dir, "a.topo", NULL), *pb = g_build_filename(dir, "b.topo", NULL);
  char err[256], *ca, *cb;
  gsize la, lb;
  sim_network a, b;
  cr_assert(eq(int, sim_network_generate(&a, 3000, 8, SIM_TABLES_FULL, 12), 0));
  cr_assert(eq(int, sim_network_generate_ondemand(&b, 3000, 8, SIM_TABLES_FULL, 12), 0));
  cr_assert(eq(int, sim_network_export_topology(&a, pa, err, sizeof err), 0), "%s", err);
  cr_assert(eq(int, sim_network_export_topology(&b, pb, err, sizeof err), 0), "%s", err);
  cr_assert(g_file_get_contents(pa, &ca, &la, NULL) && g_file_get_contents(pb, &cb, &lb, NULL));
  cr_assert(eq(sz, la, lb));
  cr_assert(eq(int, memcmp(ca, cb, la), 0));
  g_free(ca);
  g_free(cb);
  remove_two(dir, pa, pb);
  sim_network_clear(&a);
  sim_network_clear(&b);
}

/* Loaded topologies: contacts in bucket order answer closest() from the
 * buckets that matter, exactly as the full scan of the generated network.
 * An exported file keeps its order; a file with every contacts line reversed
 * is sorted back into bucket order and answers the same. */
Test(network, topology_bucket_order_answers_as_generated) {
  char *dir = tmp_dir(), *p1 = g_build_filename(dir, "a.topo", NULL), *p2 = g_build_filename(dir, "r.topo", NULL);
  char err[256] = "";
  for (int kind = 0; kind < 2; kind++)
    for (unsigned k = 1; k <= 20; k += 19) {
      sim_network gen, back, rev;
      uint32_t oa[64], ob[64], oc[64];
      dht_rng r;
      char *text;
      GString *g = g_string_new(NULL);
      dht_rng_init(&r, 99 + k);
      cr_assert(eq(int, sim_network_generate(&gen, 3000, k, (sim_tables_kind)kind, 5 + k), 0));
      cr_assert(eq(int, sim_network_export_topology(&gen, p1, err, sizeof err), 0), "%s", err);
      cr_assert(eq(int, sim_network_load_topology(&back, p1, k, err, sizeof err), 0), "%s", err);
      cr_assert(ne(ptr, back.own_bucket, NULL));
      cr_assert(eq(int, memcmp(gen.contacts, back.contacts, gen.contact_off[3000] * sizeof *gen.contacts), 0));
      /* The same file with each contacts line reversed. */
      cr_assert(g_file_get_contents(p1, &text, NULL, NULL));
      {
        char *cut = strstr(text, "contacts\n") + strlen("contacts\n");
        g_string_append_len(g, text, cut - text);
        for (uint32_t x = 0; x < 3000; x++) {
          g_string_append_printf(g, "%u:", x);
          for (uint64_t j = gen.contact_off[x + 1]; j-- > gen.contact_off[x];)
            g_string_append_printf(g, " %u", gen.contacts[j]);
          g_string_append_c(g, '\n');
        }
      }
      cr_assert(g_file_set_contents(p2, g->str, (gssize)g->len, NULL));
      cr_assert(eq(int, sim_network_load_topology(&rev, p2, k, err, sizeof err), 0), "%s", err);
      for (uint32_t x = 0; x < 3000; x += 3) {
        dht_id t;
        size_t count = x % 2 ? k : 3 * (size_t)k, na, nb, nc;
        if (x % 5 == 0)
          t = gen.ids[x];
        else
          random_target(&gen, &r, &t);
        na = sim_network_closest(&gen, x, &t, oa, count);
        nb = sim_network_closest(&back, x, &t, ob, count);
        nc = sim_network_closest(&rev, x, &t, oc, count);
        cr_assert(eq(sz, na, nb), "kind %d k %u node %u", kind, k, x);
        cr_assert(eq(sz, na, nc), "kind %d k %u node %u", kind, k, x);
        cr_assert(eq(int, memcmp(oa, ob, na * sizeof *oa), 0), "kind %d k %u node %u", kind, k, x);
        cr_assert(eq(int, memcmp(oa, oc, na * sizeof *oa), 0), "kind %d k %u node %u", kind, k, x);
      }
      /* Reversed lines were reordered (into bucket order; keys non-decreasing). */
      if (k > 1)
        cr_assert(ne(int, memcmp(gen.contacts, rev.contacts, gen.contact_off[3000] * sizeof *gen.contacts), 0));
      g_free(text);
      g_string_free(g, TRUE);
      sim_network_clear(&gen);
      sim_network_clear(&back);
      sim_network_clear(&rev);
    }
  remove_two(dir, p1, p2);
}
