/* test_routing_table.c: BEP 5 k-bucket rules (split only own bucket, bad-node
 * replacement, refresh) and exactness of dht_rt_closest against brute force. */
#include <criterion/criterion.h>
#include "criterion_assert.h"
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "error.h"
#include "id.h"
#include "rng.h"
#include "routing_table.h"

#define ID_MEM(x) ((struct cr_mem){.data = (x).b, .size = DHT_ID_LEN})
#define ADDR_MEM(x) ((struct cr_mem){.data = &(x), .size = sizeof(dht_addr)})

static dht_id self_id(void) {
  dht_id s;
  /* A fixed self with mixed bits, so that "shares i bits" is not "starts with i zeros". */
  cr_assert(eq(int, dht_id_from_hex(&s, "a5c3e1f00f1e3c5a96b4d2e0112233445566778f", 40), DHT_OK));
  return s;
}

/* An ID sharing exactly cp (< 160) leading bits with self; the bits after cp are random. */
static dht_id id_with_prefix(const dht_id *self, unsigned cp, dht_rng *r) {
  dht_id id;
  dht_id_random(&id, r);
  for (unsigned i = 0; i <= cp; i++) {
    unsigned byte = i / 8, bit = 7 - i % 8;
    int want = dht_id_bit(self, i) ^ (i == cp);
    id.b[byte] = (uint8_t)((id.b[byte] & ~(1u << bit)) | ((unsigned)want << bit));
  }
  cr_assert(eq(uint, dht_id_common_prefix(self, &id), cp));
  return id;
}

static dht_node mknode(const dht_id *id, uint32_t n) {
  dht_node node;
  node.id = *id;
  dht_addr_set_v4(&node.addr, 0x0a000000u + n, 6881);
  return node;
}

/* Checks every structural invariant; returns all nodes of the table in out (malloc). */
static dht_node *check_invariants(const dht_rt *rt, size_t *n_out) {
  const dht_id *self = dht_rt_self(rt);
  unsigned nb = dht_rt_bucket_count(rt), k = dht_rt_k(rt);
  size_t total = 0;
  dht_node *all = malloc((dht_rt_size(rt) + 1) * sizeof *all);
  dht_node *buf = malloc(k * sizeof *buf);
  cr_assert(ne(ptr, all, NULL));
  cr_assert(ne(ptr, buf, NULL));
  cr_assert(ge(uint, nb, 1));
  cr_assert(le(uint, nb, DHT_ID_BITS));
  for (unsigned i = 0; i < nb; i++) {
    size_t c = dht_rt_bucket_nodes(rt, i, buf);
    cr_assert(le(sz, c, k), "bucket %u holds %zu > k", i, c);
    for (size_t j = 0; j < c; j++) {
      unsigned cp = dht_id_common_prefix(self, &buf[j].id);
      if (i < nb - 1)
        cr_assert(eq(uint, cp, i), "bucket %u node %zu", i, j);
      else /* Separate asserts: all() leaks memory in Criterion 2.4.1. */
        cr_assert(ge(uint, cp, i), "last bucket %u node %zu", i, j);
      cr_assert(lt(uint, cp, DHT_ID_BITS));
      cr_assert(le(sz, total, dht_rt_size(rt)));
      all[total++] = buf[j];
    }
  }
  cr_assert(eq(sz, total, dht_rt_size(rt)));
  free(buf);
  *n_out = total;
  return all;
}

static size_t bucket_size(const dht_rt *rt, unsigned i) {
  dht_node buf[DHT_K_MAX];
  return dht_rt_bucket_nodes(rt, i, buf);
}

Test(routing_table, new_rejects_bad_k) {
  dht_id s = self_id();
  cr_assert(eq(ptr, dht_rt_new(&s, 0), NULL));
  cr_assert(eq(ptr, dht_rt_new(&s, DHT_K_MAX + 1), NULL));
  dht_rt *rt = dht_rt_new(&s, DHT_K_MAX);
  cr_assert(ne(ptr, rt, NULL));
  cr_assert(eq(uint, dht_rt_k(rt), DHT_K_MAX));
  dht_rt_free(rt);
  dht_rt_free(NULL);
}

Test(routing_table, empty_table_accessors) {
  dht_id s = self_id();
  dht_node out[4];
  dht_rt *rt = dht_rt_new(&s, 8);
  cr_assert(eq(uint, dht_rt_k(rt), 8));
  cr_assert(eq(sz, dht_rt_size(rt), 0));
  cr_assert(eq(uint, dht_rt_bucket_count(rt), 1));
  cr_assert(eq(mem, ID_MEM(*dht_rt_self(rt)), ID_MEM(s)));
  cr_assert(eq(sz, dht_rt_closest(rt, &s, out, 4), 0));
  cr_assert(eq(sz, dht_rt_bucket_nodes(rt, 0, out), 0));
  cr_assert(eq(int, dht_rt_failures(rt, &s), DHT_ENOENT));
  cr_assert(eq(int, dht_rt_failed(rt, &s), DHT_ENOENT));
  cr_assert(eq(int, dht_rt_answered(rt, &s), DHT_ENOENT));
  dht_rt_free(rt);
}

Test(routing_table, self_rejected) {
  dht_id s = self_id();
  dht_rt *rt = dht_rt_new(&s, 8);
  dht_node me = mknode(&s, 1);
  cr_assert(eq(int, dht_rt_add(rt, &me), DHT_RT_SELF));
  cr_assert(eq(sz, dht_rt_size(rt), 0));
  cr_assert(eq(int, dht_rt_failures(rt, &s), DHT_ENOENT));
  dht_rt_free(rt);
}

Test(routing_table, refresh_updates_address_and_resets_failures) {
  dht_id s = self_id();
  dht_rng r;
  dht_rng_init(&r, 1);
  dht_rt *rt = dht_rt_new(&s, 8);
  dht_id id = id_with_prefix(&s, 3, &r);
  dht_node a = mknode(&id, 1), b = mknode(&id, 2), out[8];

  cr_assert(eq(int, dht_rt_add(rt, &a), DHT_RT_ADDED));
  cr_assert(eq(int, dht_rt_failed(rt, &id), 1));
  cr_assert(eq(int, dht_rt_failed(rt, &id), 2));
  cr_assert(eq(int, dht_rt_failures(rt, &id), 2));
  cr_assert(eq(int, dht_rt_add(rt, &b), DHT_RT_REFRESHED));
  cr_assert(eq(sz, dht_rt_size(rt), 1));
  cr_assert(eq(int, dht_rt_failures(rt, &id), 0));
  cr_assert(eq(sz, dht_rt_bucket_nodes(rt, 0, out), 1));
  cr_assert(eq(mem, ID_MEM(out[0].id), ID_MEM(id)));
  cr_assert(eq(mem, ADDR_MEM(out[0].addr), ADDR_MEM(b.addr)));
  dht_rt_free(rt);
}

Test(routing_table, far_bucket_full_drops) {
  dht_id s = self_id();
  dht_rng r;
  dht_rng_init(&r, 2);
  dht_rt *rt = dht_rt_new(&s, 8);
  for (uint32_t i = 0; i < 8; i++) {
    dht_id id = id_with_prefix(&s, 0, &r);
    dht_node n = mknode(&id, i);
    cr_assert(eq(int, dht_rt_add(rt, &n), DHT_RT_ADDED));
    cr_assert(eq(sz, dht_rt_size(rt), i + 1));
  }
  cr_assert(eq(uint, dht_rt_bucket_count(rt), 1));
  /* The 9th splits the (own) bucket once: bucket 0 keeps all 8, the node is dropped. */
  dht_id id = id_with_prefix(&s, 0, &r);
  dht_node n = mknode(&id, 100);
  cr_assert(eq(int, dht_rt_add(rt, &n), DHT_RT_FULL));
  cr_assert(eq(uint, dht_rt_bucket_count(rt), 2));
  cr_assert(eq(sz, dht_rt_size(rt), 8));
  cr_assert(eq(int, dht_rt_failures(rt, &id), DHT_ENOENT));
  /* Further far nodes are dropped without more splits. */
  for (uint32_t i = 0; i < 20; i++) {
    id = id_with_prefix(&s, 0, &r);
    n = mknode(&id, 200 + i);
    cr_assert(eq(int, dht_rt_add(rt, &n), DHT_RT_FULL));
  }
  cr_assert(eq(uint, dht_rt_bucket_count(rt), 2));
  cr_assert(eq(sz, dht_rt_size(rt), 8));
  size_t total;
  free(check_invariants(rt, &total));
  dht_rt_free(rt);
}

Test(routing_table, splits_only_own_bucket) {
  const unsigned K = 8;
  dht_id s = self_id();
  dht_rng r;
  dht_rng_init(&r, 3);
  dht_rt *rt = dht_rt_new(&s, K);
  dht_id far[8], one[8], deep[8];
  dht_node out[8];

  for (uint32_t i = 0; i < K; i++) {
    far[i] = id_with_prefix(&s, 0, &r);
    dht_node n = mknode(&far[i], i);
    cr_assert(eq(int, dht_rt_add(rt, &n), DHT_RT_ADDED));
  }
  /* Nodes sharing the first bit: the first forces a split of bucket 0. */
  for (uint32_t i = 0; i < K; i++) {
    one[i] = id_with_prefix(&s, 1, &r);
    dht_node n = mknode(&one[i], 10 + i);
    cr_assert(eq(int, dht_rt_add(rt, &n), DHT_RT_ADDED));
    cr_assert(eq(uint, dht_rt_bucket_count(rt), 2));
  }
  cr_assert(eq(sz, bucket_size(rt, 0), K));
  cr_assert(eq(sz, bucket_size(rt, 1), K));

  /* Bucket 0 is not ours any more: full and never split. */
  dht_id x = id_with_prefix(&s, 0, &r);
  dht_node nx = mknode(&x, 50);
  cr_assert(eq(int, dht_rt_add(rt, &nx), DHT_RT_FULL));
  cr_assert(eq(uint, dht_rt_bucket_count(rt), 2));

  /* A node sharing 3 bits splits bucket 1 (all K stay since they share exactly 1). */
  deep[0] = id_with_prefix(&s, 3, &r);
  dht_node nd = mknode(&deep[0], 20);
  cr_assert(eq(int, dht_rt_add(rt, &nd), DHT_RT_ADDED));
  cr_assert(eq(uint, dht_rt_bucket_count(rt), 3));
  cr_assert(eq(sz, bucket_size(rt, 1), K));
  cr_assert(eq(sz, bucket_size(rt, 2), 1));

  /* Bucket 1 is now full and not ours: dropped, no split. */
  x = id_with_prefix(&s, 1, &r);
  nx = mknode(&x, 51);
  cr_assert(eq(int, dht_rt_add(rt, &nx), DHT_RT_FULL));
  cr_assert(eq(uint, dht_rt_bucket_count(rt), 3));

  /* Fill the last bucket with 7 nodes sharing 10 bits. */
  for (uint32_t i = 1; i < K; i++) {
    deep[i] = id_with_prefix(&s, 10, &r);
    dht_node n = mknode(&deep[i], 20 + i);
    cr_assert(eq(int, dht_rt_add(rt, &n), DHT_RT_ADDED));
  }
  cr_assert(eq(uint, dht_rt_bucket_count(rt), 3));
  cr_assert(eq(sz, bucket_size(rt, 2), K));

  /* Another node sharing 3 bits: bucket 2 splits (everything moves to 3), then
   * bucket 3 splits (the 3-bit node stays, the 10-bit ones move to 4). */
  dht_id y = id_with_prefix(&s, 3, &r);
  dht_node ny = mknode(&y, 60);
  cr_assert(eq(int, dht_rt_add(rt, &ny), DHT_RT_ADDED));
  cr_assert(eq(uint, dht_rt_bucket_count(rt), 5));
  cr_assert(eq(sz, bucket_size(rt, 0), K));
  cr_assert(eq(sz, bucket_size(rt, 1), K));
  cr_assert(eq(sz, bucket_size(rt, 2), 0));
  cr_assert(eq(sz, dht_rt_bucket_nodes(rt, 3, out), 2));
  cr_assert(eq(mem, ID_MEM(out[0].id), ID_MEM(deep[0])));
  cr_assert(eq(mem, ID_MEM(out[1].id), ID_MEM(y)));
  /* The moved nodes keep their relative (insertion) order. */
  cr_assert(eq(sz, dht_rt_bucket_nodes(rt, 4, out), K - 1));
  for (unsigned i = 0; i < K - 1; i++)
    cr_assert(eq(mem, ID_MEM(out[i].id), ID_MEM(deep[i + 1])));
  /* Buckets 0 and 1 kept their original order too. */
  cr_assert(eq(sz, dht_rt_bucket_nodes(rt, 0, out), K));
  for (unsigned i = 0; i < K; i++)
    cr_assert(eq(mem, ID_MEM(out[i].id), ID_MEM(far[i])));
  cr_assert(eq(sz, dht_rt_bucket_nodes(rt, 1, out), K));
  for (unsigned i = 0; i < K; i++)
    cr_assert(eq(mem, ID_MEM(out[i].id), ID_MEM(one[i])));
  cr_assert(eq(sz, dht_rt_size(rt), 3 * K + 1));
  size_t total;
  free(check_invariants(rt, &total));
  dht_rt_free(rt);
}

Test(routing_table, split_keeps_relative_order_when_interleaved) {
  /* One bucket holding interleaved 0-bit and 1-bit nodes; a split separates them in order. */
  const unsigned K = 4;
  dht_id s = self_id();
  dht_rng r;
  dht_rng_init(&r, 4);
  dht_rt *rt = dht_rt_new(&s, K);
  dht_id ids[4];
  dht_node out[4];
  for (unsigned i = 0; i < K; i++) {
    ids[i] = id_with_prefix(&s, i % 2 == 0 ? 0 : 5, &r);
    dht_node n = mknode(&ids[i], i);
    cr_assert(eq(int, dht_rt_add(rt, &n), DHT_RT_ADDED));
  }
  dht_id x = id_with_prefix(&s, 2, &r);
  dht_node nx = mknode(&x, 9);
  cr_assert(eq(int, dht_rt_add(rt, &nx), DHT_RT_ADDED));
  cr_assert(eq(uint, dht_rt_bucket_count(rt), 2));
  cr_assert(eq(sz, dht_rt_bucket_nodes(rt, 0, out), 2));
  cr_assert(eq(mem, ID_MEM(out[0].id), ID_MEM(ids[0])));
  cr_assert(eq(mem, ID_MEM(out[1].id), ID_MEM(ids[2])));
  cr_assert(eq(sz, dht_rt_bucket_nodes(rt, 1, out), 3));
  cr_assert(eq(mem, ID_MEM(out[0].id), ID_MEM(ids[1])));
  cr_assert(eq(mem, ID_MEM(out[1].id), ID_MEM(ids[3])));
  cr_assert(eq(mem, ID_MEM(out[2].id), ID_MEM(x)));
  dht_rt_free(rt);
}

/* A table with K far nodes in bucket 0 (not the last bucket any more). */
static dht_rt *full_far_bucket(unsigned K, dht_id *far, dht_rng *r) {
  dht_id s = self_id();
  dht_rt *rt = dht_rt_new(&s, K);
  for (uint32_t i = 0; i < K; i++) {
    far[i] = id_with_prefix(&s, 0, r);
    dht_node n = mknode(&far[i], i);
    cr_assert(eq(int, dht_rt_add(rt, &n), DHT_RT_ADDED));
  }
  dht_id near = id_with_prefix(&s, 1, r);
  dht_node nn = mknode(&near, 99);
  cr_assert(eq(int, dht_rt_add(rt, &nn), DHT_RT_ADDED));
  cr_assert(eq(uint, dht_rt_bucket_count(rt), 2));
  return rt;
}

Test(routing_table, bad_node_replaced_first) {
  const unsigned K = 8;
  dht_id far[8], s = self_id();
  dht_node out[8];
  dht_rng r;
  dht_rng_init(&r, 5);
  dht_rt *rt = full_far_bucket(K, far, &r);

  /* One failure is not bad: still FULL. */
  cr_assert(eq(int, dht_rt_failed(rt, &far[3]), 1));
  dht_id a = id_with_prefix(&s, 0, &r);
  dht_node na = mknode(&a, 100);
  cr_assert(eq(int, dht_rt_add(rt, &na), DHT_RT_FULL));
  cr_assert(eq(int, dht_rt_failures(rt, &a), DHT_ENOENT));

  /* far[3] becomes bad (2), far[5] worse (3): far[5] goes first, in place. */
  cr_assert(eq(int, dht_rt_failed(rt, &far[3]), 2));
  for (int i = 1; i <= 3; i++)
    cr_assert(eq(int, dht_rt_failed(rt, &far[5]), i));
  cr_assert(eq(int, dht_rt_add(rt, &na), DHT_RT_REPLACED));
  cr_assert(eq(int, dht_rt_failures(rt, &far[5]), DHT_ENOENT));
  cr_assert(eq(int, dht_rt_failures(rt, &a), 0));
  cr_assert(eq(sz, dht_rt_bucket_nodes(rt, 0, out), K));
  cr_assert(eq(mem, ID_MEM(out[5].id), ID_MEM(a)));
  cr_assert(eq(mem, ADDR_MEM(out[5].addr), ADDR_MEM(na.addr)));

  dht_id b = id_with_prefix(&s, 0, &r);
  dht_node nb = mknode(&b, 101);
  cr_assert(eq(int, dht_rt_add(rt, &nb), DHT_RT_REPLACED));
  cr_assert(eq(int, dht_rt_failures(rt, &far[3]), DHT_ENOENT));
  cr_assert(eq(sz, dht_rt_bucket_nodes(rt, 0, out), K));
  cr_assert(eq(mem, ID_MEM(out[3].id), ID_MEM(b)));

  /* No bad node left. */
  dht_id c = id_with_prefix(&s, 0, &r);
  dht_node nc = mknode(&c, 102);
  cr_assert(eq(int, dht_rt_add(rt, &nc), DHT_RT_FULL));
  cr_assert(eq(sz, dht_rt_size(rt), K + 1));
  cr_assert(eq(uint, dht_rt_bucket_count(rt), 2));
  dht_rt_free(rt);
}

Test(routing_table, bad_node_tie_replaces_earliest) {
  const unsigned K = 8;
  dht_id far[8], s = self_id();
  dht_node out[8];
  dht_rng r;
  dht_rng_init(&r, 6);
  dht_rt *rt = full_far_bucket(K, far, &r);
  for (int i = 0; i < 2; i++) {
    dht_rt_failed(rt, &far[6]);
    dht_rt_failed(rt, &far[2]);
  }
  dht_id a = id_with_prefix(&s, 0, &r);
  dht_node na = mknode(&a, 100);
  cr_assert(eq(int, dht_rt_add(rt, &na), DHT_RT_REPLACED));
  cr_assert(eq(sz, dht_rt_bucket_nodes(rt, 0, out), K));
  cr_assert(eq(mem, ID_MEM(out[2].id), ID_MEM(a)));
  cr_assert(eq(mem, ID_MEM(out[6].id), ID_MEM(far[6])));
  cr_assert(eq(int, dht_rt_failures(rt, &far[6]), 2));
  dht_rt_free(rt);
}

Test(routing_table, bad_node_replaced_in_own_bucket_before_split) {
  /* Replacement wins over splitting even in the last bucket. */
  const unsigned K = 4;
  dht_id s = self_id(), ids[4];
  dht_node out[4];
  dht_rng r;
  dht_rng_init(&r, 7);
  dht_rt *rt = dht_rt_new(&s, K);
  for (unsigned i = 0; i < K; i++) {
    ids[i] = id_with_prefix(&s, i, &r);
    dht_node n = mknode(&ids[i], i);
    cr_assert(eq(int, dht_rt_add(rt, &n), DHT_RT_ADDED));
  }
  cr_assert(eq(int, dht_rt_failed(rt, &ids[1]), 1));
  cr_assert(eq(int, dht_rt_failed(rt, &ids[1]), 2));
  dht_id x = id_with_prefix(&s, 6, &r);
  dht_node nx = mknode(&x, 9);
  cr_assert(eq(int, dht_rt_add(rt, &nx), DHT_RT_REPLACED));
  cr_assert(eq(uint, dht_rt_bucket_count(rt), 1));
  cr_assert(eq(sz, dht_rt_bucket_nodes(rt, 0, out), K));
  cr_assert(eq(mem, ID_MEM(out[1].id), ID_MEM(x)));
  dht_rt_free(rt);
}

Test(routing_table, answered_resets_failures) {
  const unsigned K = 8;
  dht_id far[8], s = self_id();
  dht_rng r;
  dht_rng_init(&r, 8);
  dht_rt *rt = full_far_bucket(K, far, &r);
  cr_assert(eq(int, dht_rt_failed(rt, &far[0]), 1));
  cr_assert(eq(int, dht_rt_failed(rt, &far[0]), 2));
  cr_assert(eq(int, dht_rt_failed(rt, &far[0]), 3));
  cr_assert(eq(int, dht_rt_answered(rt, &far[0]), DHT_OK));
  cr_assert(eq(int, dht_rt_failures(rt, &far[0]), 0));
  /* No longer bad: a newcomer is dropped. */
  dht_id a = id_with_prefix(&s, 0, &r);
  dht_node na = mknode(&a, 100);
  cr_assert(eq(int, dht_rt_add(rt, &na), DHT_RT_FULL));
  cr_assert(eq(int, dht_rt_failed(rt, &far[0]), 1));
  cr_assert(eq(int, dht_rt_answered(rt, &a), DHT_ENOENT));
  cr_assert(eq(int, dht_rt_failed(rt, &a), DHT_ENOENT));
  dht_rt_free(rt);
}

/* Random IDs at geometric-ish depths, so that many buckets get populated. */
static dht_id random_id_near(const dht_id *self, dht_rng *r) {
  if (dht_rng_chance(r, 0.5)) {
    dht_id id;
    dht_id_random(&id, r);
    return id;
  }
  return id_with_prefix(self, (unsigned)dht_rng_below(r, 40), r);
}

static void fill_random(dht_rt *rt, dht_rng *r, unsigned n) {
  const dht_id *s = dht_rt_self(rt);
  size_t expect = 0;
  for (unsigned i = 0; i < n; i++) {
    dht_id id = random_id_near(s, r);
    dht_node node = mknode(&id, i);
    int rc = dht_rt_add(rt, &node);
    /* Not any(): in Criterion 2.4.1 any() fails when its first criterion holds. */
    cr_assert(rc == DHT_RT_ADDED || rc == DHT_RT_FULL, "add %u -> %d", i, rc);
    if (rc == DHT_RT_ADDED)
      expect++;
    if (i % 97 == 0)
      cr_assert(eq(int, dht_rt_add(rt, &node), rc == DHT_RT_ADDED ? DHT_RT_REFRESHED : DHT_RT_FULL));
  }
  cr_assert(eq(sz, dht_rt_size(rt), expect));
}

Test(routing_table, invariant_after_random_inserts) {
  const uint64_t seed = 0x5eed0001;
  unsigned ks[] = {1, 2, 8, 20, DHT_K_MAX};
  cr_log_info("seed %#llx", (unsigned long long)seed);
  for (size_t t = 0; t < sizeof ks / sizeof ks[0]; t++) {
    dht_rng r;
    dht_rng_init(&r, dht_seed_derive(seed, t));
    dht_id s;
    dht_id_random(&s, &r);
    dht_rt *rt = dht_rt_new(&s, ks[t]);
    fill_random(rt, &r, 5000);
    size_t n;
    dht_node *all = check_invariants(rt, &n);
    /* IDs are unique across the table. */
    for (size_t i = 0; i < n; i++)
      for (size_t j = i + 1; j < n; j++)
        cr_assert(ne(int, dht_id_cmp(&all[i].id, &all[j].id), 0));
    /* Every stored node is found by its ID. */
    for (size_t i = 0; i < n; i++)
      cr_assert(eq(int, dht_rt_failures(rt, &all[i].id), 0));
    /* Depth reached: >= 30 buckets with nodes at up to 39 shared bits. */
    cr_assert(ge(uint, dht_rt_bucket_count(rt), 30), "k=%u buckets=%u", ks[t], dht_rt_bucket_count(rt));
    free(all);
    dht_rt_free(rt);
  }
}

static const dht_id *sort_target;
static int by_distance(const void *a, const void *b) {
  /* Brute force: XOR bytes, compared big-endian. */
  dht_id da, db;
  dht_id_xor(&da, &((const dht_node *)a)->id, sort_target);
  dht_id_xor(&db, &((const dht_node *)b)->id, sort_target);
  return memcmp(da.b, db.b, DHT_ID_LEN);
}

static void check_closest(const dht_rt *rt, const dht_node *all, size_t n, const dht_id *target,
                          dht_node *sorted, dht_node *out, size_t count) {
  memcpy(sorted, all, n * sizeof *all);
  sort_target = target;
  qsort(sorted, n, sizeof *sorted, by_distance);
  size_t want = count < n ? count : n;
  size_t got = dht_rt_closest(rt, target, out, count);
  cr_assert(eq(sz, got, want), "count %zu", count);
  for (size_t i = 0; i < got; i++) {
    cr_assert(eq(mem, ID_MEM(out[i].id), ID_MEM(sorted[i].id)), "count %zu pos %zu", count, i);
    cr_assert(eq(mem, ADDR_MEM(out[i].addr), ADDR_MEM(sorted[i].addr)));
  }
}

static void closest_vs_brute(unsigned k, uint64_t seed, unsigned inserts, unsigned targets) {
  dht_rng r;
  dht_rng_init(&r, seed);
  cr_log_info("k=%u seed %#llx", k, (unsigned long long)seed);
  dht_id s;
  dht_id_random(&s, &r);
  dht_rt *rt = dht_rt_new(&s, k);
  fill_random(rt, &r, inserts);
  size_t n;
  dht_node *all = check_invariants(rt, &n);
  size_t cap = n + 10;
  dht_node *sorted = malloc(cap * sizeof *sorted), *out = malloc(cap * sizeof *out);
  size_t counts[] = {1, k, 3 * (size_t)k, n, n + 10};
  for (unsigned t = 0; t < targets; t++) {
    dht_id target;
    switch (t % 4) {
    case 0: dht_id_random(&target, &r); break;
    case 1: target = random_id_near(&s, &r); break;
    case 2: target = all[dht_rng_below(&r, n)].id; break; /* a node of the table */
    default: target = id_with_prefix(&s, (unsigned)dht_rng_below(&r, DHT_ID_BITS), &r); break;
    }
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++)
      check_closest(rt, all, n, &target, sorted, out, counts[c] < cap ? counts[c] : cap);
  }
  check_closest(rt, all, n, &s, sorted, out, k); /* self as target */
  cr_assert(eq(sz, dht_rt_closest(rt, &s, out, 0), 0));
  free(sorted);
  free(out);
  free(all);
  dht_rt_free(rt);
}

Test(routing_table, closest_matches_brute_force) { closest_vs_brute(8, 0xc105e57, 5000, 400); }

Test(routing_table, closest_matches_brute_force_k1) { closest_vs_brute(1, 0xc105e58, 3000, 300); }

Test(routing_table, closest_matches_brute_force_kmax) { closest_vs_brute(DHT_K_MAX, 0xc105e59, 4000, 100); }

Test(routing_table, k1_deepest_split) {
  /* With k = 1, a node sharing 159 bits followed by one sharing 158 drives the
   * table to its maximum of 160 buckets. */
  dht_id s = self_id();
  dht_rng r;
  dht_rng_init(&r, 9);
  dht_rt *rt = dht_rt_new(&s, 1);
  dht_id d159 = id_with_prefix(&s, 159, &r), d158 = id_with_prefix(&s, 158, &r);
  dht_node a = mknode(&d159, 1), b = mknode(&d158, 2), out[1];
  cr_assert(eq(int, dht_rt_add(rt, &a), DHT_RT_ADDED));
  cr_assert(eq(uint, dht_rt_bucket_count(rt), 1));
  cr_assert(eq(int, dht_rt_add(rt, &b), DHT_RT_ADDED));
  cr_assert(eq(uint, dht_rt_bucket_count(rt), DHT_ID_BITS));
  cr_assert(eq(sz, dht_rt_bucket_nodes(rt, 158, out), 1));
  cr_assert(eq(mem, ID_MEM(out[0].id), ID_MEM(d158)));
  cr_assert(eq(sz, dht_rt_bucket_nodes(rt, 159, out), 1));
  cr_assert(eq(mem, ID_MEM(out[0].id), ID_MEM(d159)));
  /* The only other ID sharing 159 bits is d159 itself: refresh. */
  dht_node a2 = mknode(&d159, 3);
  cr_assert(eq(int, dht_rt_add(rt, &a2), DHT_RT_REFRESHED));
  /* Full far buckets with k = 1. */
  dht_id f = id_with_prefix(&s, 0, &r), g = id_with_prefix(&s, 0, &r);
  dht_node nf = mknode(&f, 4), ng = mknode(&g, 5);
  cr_assert(eq(int, dht_rt_add(rt, &nf), DHT_RT_ADDED));
  cr_assert(eq(int, dht_rt_add(rt, &ng), DHT_RT_FULL));
  cr_assert(eq(sz, dht_rt_size(rt), 3));
  for (unsigned i = 1; i < 158; i++)
    cr_assert(eq(sz, bucket_size(rt, i), 0));
  size_t total;
  free(check_invariants(rt, &total));
  /* closest from the far side walks all 160 buckets. */
  dht_node out3[4];
  cr_assert(eq(sz, dht_rt_closest(rt, &g, out3, 4), 3));
  cr_assert(eq(mem, ID_MEM(out3[0].id), ID_MEM(f)));
  dht_rt_free(rt);
}

Test(routing_table, kmax_bucket_fills_to_256) {
  dht_id s = self_id();
  dht_rng r;
  dht_rng_init(&r, 10);
  dht_rt *rt = dht_rt_new(&s, DHT_K_MAX);
  for (uint32_t i = 0; i < DHT_K_MAX; i++) {
    dht_id id = id_with_prefix(&s, 0, &r);
    dht_node n = mknode(&id, i);
    cr_assert(eq(int, dht_rt_add(rt, &n), DHT_RT_ADDED));
  }
  dht_id id = id_with_prefix(&s, 0, &r);
  dht_node n = mknode(&id, 999);
  cr_assert(eq(int, dht_rt_add(rt, &n), DHT_RT_FULL));
  cr_assert(eq(sz, bucket_size(rt, 0), DHT_K_MAX));
  cr_assert(eq(uint, dht_rt_bucket_count(rt), 2));
  dht_rt_free(rt);
}
