/* network.c: the simulated network in flat arrays: generated IDs and addresses,
 * BEP 5 routing tables as CSR node-index lists (random or full knowledge), and
 * exact closest-node queries. The topology file format is topology.c. */
#include "network.h"

#include <assert.h>
#include <glib.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "error.h"
#include "rng.h"
#include "routing_table.h"

/* The per-node arrays of sim_network_alloc_nodes are what network.h promises
 * (the last 1: dir, n/4 + 1 cells of 4 bytes). */
_Static_assert(sizeof(dht_id) + sizeof(dht_addr) + sizeof(uint32_t) * 2 + sizeof(uint64_t) + sizeof(uint8_t) +
                       sizeof(uint64_t) + 1 + sizeof(uint8_t) ==
                   SIM_NETWORK_NODE_BYTES,
               "SIM_NETWORK_NODE_BYTES");
_Static_assert(sizeof(dht_id) + sizeof(dht_addr) + sizeof(uint32_t) + sizeof(uint64_t) + sizeof(uint8_t) + 1 ==
                   SIM_NETWORK_ONDEMAND_NODE_BYTES,
               "SIM_NETWORK_ONDEMAND_NODE_BYTES");
/* Seed stream of the routing tables (IDs use dht_rng(seed) directly). */
#define NET_STREAM_TABLES 1

static void scratch_free(sim_net_scratch *sc);
static bool check_order(const sim_network *net);

/* ---------------------------------------------------------------- helpers */

/* The first 64 bits of an ID as a big-endian integer: the same order as memcmp. */
static inline uint64_t id_hi64(const dht_id *id) {
  uint64_t v;
  memcpy(&v, id->b, sizeof v);
  return __builtin_bswap64(v);
}

static inline int id_bit(const dht_id *id, unsigned d) { return (id->b[d >> 3] >> (7 - (d & 7))) & 1; }

/* Asks for transparent huge pages on a large array read at random by every
 * query (ids, by_id): with 4 KiB pages nearly each of those reads is also a
 * TLB miss; measured at 4M nodes, closest() 2x and true_closest() 3x faster.
 * Advisory only, no effect on results. Not used for the contacts (read
 * sequentially per node; huge pages there only cost compaction time). */
static void advise_huge(void *p, size_t bytes) {
#ifdef MADV_HUGEPAGE
  const uintptr_t huge = (uintptr_t)2 << 20;
  uintptr_t lo = ((uintptr_t)p + huge - 1) & ~(huge - 1), hi = ((uintptr_t)p + bytes) & ~(huge - 1);
  if (p != NULL && hi > lo)
    (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
#else
  (void)p;
  (void)bytes;
#endif
}

/* Maps every page of a large array about to be written in random order (the
 * full tables' contacts, written node by node in ID order) in one call,
 * instead of one page fault per 4 KiB page at a random place: measured at
 * 10^7 nodes, build about 8 % faster. Huge pages are not asked for there: on the
 * VM measured, first-touch faults of fresh 2 MiB pages cost more than they
 * saved (docs/performance.md). Advisory only (Linux >= 5.14); no effect on results. */
static void populate(void *p, size_t bytes) {
#ifdef MADV_POPULATE_WRITE
  long ps = sysconf(_SC_PAGESIZE);
  const uintptr_t page = ps > 0 ? (uintptr_t)ps : 4096;
  uintptr_t lo = ((uintptr_t)p + page - 1) & ~(page - 1), hi = ((uintptr_t)p + bytes) & ~(page - 1);
  if (p != NULL && bytes >= ((size_t)64 << 20) && hi > lo)
    (void)madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE);
#else
  (void)p;
  (void)bytes;
#endif
}

void sim_network_clear(sim_network *net) {
  if (net == NULL)
    return;
  g_free(net->ids);
  g_free(net->addrs);
  g_free(net->by_addr);
  g_free(net->by_id);
  g_free(net->contact_off);
  g_free(net->contacts);
  g_free(net->flags);
  g_free(net->skey);
  g_free(net->dir);
  g_free(net->own_bucket);
  g_free(net->urank);
  g_free(net->upos);
  g_free(net->unode);
  g_free(net->mslot);
  g_free(net->mpool);
  g_free(net->mfail);
  g_free(net->mcpl);
  g_free(net->mseen);
  g_free(net->mlen);
  g_free(net->mdepth);
  g_free(net->mbuf);
  scratch_free(net->scratch);
  memset(net, 0, sizeof *net);
}

int sim_network_alloc_nodes(sim_network *net, uint32_t n) {
  net->n = n;
  net->ids = g_try_malloc_n(n, sizeof *net->ids);
  net->addrs = g_try_malloc0_n(n, sizeof *net->addrs);
  net->by_addr = g_try_malloc_n(n, sizeof *net->by_addr);
  net->by_id = g_try_malloc_n(n, sizeof *net->by_id);
  net->contact_off = g_try_malloc0_n((gsize)n + 1, sizeof *net->contact_off);
  net->flags = g_try_malloc0_n(n, sizeof *net->flags);
  net->skey = g_try_malloc_n(n, sizeof *net->skey);
  if (!net->ids || !net->addrs || !net->by_addr || !net->by_id || !net->contact_off || !net->flags || !net->skey)
    return DHT_ENOMEM;
  advise_huge(net->ids, (size_t)n * sizeof *net->ids);
  advise_huge(net->by_id, (size_t)n * sizeof *net->by_id);
  advise_huge(net->skey, (size_t)n * sizeof *net->skey);
  return DHT_OK;
}

/* ------------------------------------------------------------- sorting */

/* Sort record: a node and a 64-bit key that agrees with the full order. */
typedef struct kv {
  uint64_t key;
  uint32_t idx;
  uint32_t pad_;
} kv;

/* The scratch sort_indices holds per node is what network.h promises. */
_Static_assert(2 * sizeof(kv) == SIM_NETWORK_INDEX_BYTES, "SIM_NETWORK_INDEX_BYTES");

typedef int (*full_cmp_fn)(const sim_network *net, uint32_t a, uint32_t b);

static int cmp_ids(const sim_network *net, uint32_t a, uint32_t b) {
  int c = dht_id_cmp(&net->ids[a], &net->ids[b]);
  return c != 0 ? c : (a < b ? -1 : a > b);
}

static int cmp_addrs(const sim_network *net, uint32_t a, uint32_t b) {
  int c = dht_addr_cmp(&net->addrs[a], &net->addrs[b]);
  return c != 0 ? c : (a < b ? -1 : a > b);
}

static void idx_sift_down(const sim_network *net, full_cmp_fn cmp, uint32_t *a, size_t n, size_t i) {
  uint32_t v = a[i];
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= n)
      break;
    if (c + 1 < n && cmp(net, a[c + 1], a[c]) > 0)
      c++;
    if (cmp(net, a[c], v) <= 0)
      break;
    a[i] = a[c];
    i = c;
  }
  a[i] = v;
}

/* Heap sort of a[0..n) by cmp: O(n log n), no allocation; used on the runs of
 * equal 64-bit keys the radix sort leaves (none for random IDs). */
static void heap_sort_idx(const sim_network *net, full_cmp_fn cmp, uint32_t *a, size_t n) {
  for (size_t s = n / 2; s-- > 0;)
    idx_sift_down(net, cmp, a, n, s);
  for (size_t end = n; end > 1; end--) {
    uint32_t t = a[0];
    a[0] = a[end - 1];
    a[end - 1] = t;
    idx_sift_down(net, cmp, a, end - 1, 0);
  }
}

/* Writes into out[0..n) the indices 0..n-1 sorted by cmp, given keys that
 * agree with it (key(a) < key(b) implies cmp(a, b) < 0).
 * LSD radix sort on the 64-bit keys (6 passes of 11 bits, constant passes
 * skipped), then heap sort of each run of equal keys. Scratch 32 B per node,
 * freed on return. Returns 0 or DHT_ENOMEM. */
static int sort_indices(const sim_network *net, uint32_t n, uint64_t (*key)(const sim_network *, uint32_t),
                        full_cmp_fn cmp, uint32_t *out) {
  enum { BITS = 11, RADIX = 1 << BITS, PASSES = 6 };
  kv *a, *b;
  /* Keys already strictly increasing (generated addresses: 10.x.y.z in node
   * order): the sorted order is the identity. One pass, no scratch. */
  {
    uint32_t i = 1;
    for (uint64_t prev = n > 0 ? key(net, 0) : 0; i < n; i++) {
      uint64_t cur = key(net, i);
      if (cur <= prev)
        break;
      prev = cur;
    }
    if (i >= n) {
      for (i = 0; i < n; i++)
        out[i] = i;
      return DHT_OK;
    }
  }
  a = g_try_malloc_n(n, sizeof *a);
  b = g_try_malloc_n(n, sizeof *b);
  uint32_t (*count)[RADIX] = g_try_malloc0_n(PASSES, sizeof *count);
  if (a == NULL || b == NULL || count == NULL) {
    g_free(a);
    g_free(b);
    g_free(count);
    return DHT_ENOMEM;
  }
  for (uint32_t i = 0; i < n; i++) {
    a[i].key = key(net, i);
    a[i].idx = i;
    a[i].pad_ = 0;
    for (unsigned p = 0; p < PASSES; p++)
      count[p][(a[i].key >> (p * BITS)) & (RADIX - 1)]++;
  }
  for (unsigned p = 0; p < PASSES; p++) {
    uint32_t sum = 0;
    bool trivial = false;
    for (unsigned d = 0; d < RADIX; d++) {
      uint32_t c = count[p][d];
      if (c == n)
        trivial = true; /* every key has this digit: the pass would not move anything */
      count[p][d] = sum;
      sum += c;
    }
    if (trivial)
      continue;
    for (uint32_t i = 0; i < n; i++)
      b[count[p][(a[i].key >> (p * BITS)) & (RADIX - 1)]++] = a[i];
    kv *t = a;
    a = b;
    b = t;
  }
  for (uint32_t i = 0; i < n; i++)
    out[i] = a[i].idx;
  /* Equal keys: order the run by the full comparison. */
  for (uint32_t i = 0; i < n;) {
    uint32_t j = i + 1;
    while (j < n && a[j].key == a[i].key)
      j++;
    if (j - i > 1)
      heap_sort_idx(net, cmp, out + i, j - i);
    i = j;
  }
  g_free(a);
  g_free(b);
  g_free(count);
  return DHT_OK;
}

/* family in the top byte, then the address bytes: exact for IPv4 (ip and port fit),
 * a prefix for IPv6; consistent with dht_addr_cmp (family, ip, port). */
static uint64_t key_addr(const sim_network *net, uint32_t i) {
  const dht_addr *a = &net->addrs[i];
  uint64_t k = (uint64_t)a->family << 56;
  if (a->family == DHT_AF_INET4)
    return k | (uint64_t)a->ip[0] << 40 | (uint64_t)a->ip[1] << 32 | (uint64_t)a->ip[2] << 24 |
           (uint64_t)a->ip[3] << 16 | a->port;
  for (unsigned j = 0; j < 7; j++)
    k |= (uint64_t)a->ip[j] << (48 - 8 * j);
  return k;
}

/* The ID sort's order on positions of (skey, by_id): 64-bit prefix, then the
 * whole ID, then the index (the order of cmp_ids: duplicate IDs of a topology
 * file end up adjacent, by index). */
static bool pos_less(const sim_network *net, uint32_t a, uint32_t b) {
  uint64_t ka = net->skey[a], kb = net->skey[b];
  return ka != kb ? ka < kb : cmp_ids(net, net->by_id[a], net->by_id[b]) < 0;
}

static void pos_swap(sim_network *net, uint32_t a, uint32_t b) {
  uint64_t k = net->skey[a];
  uint32_t v = net->by_id[a];
  net->skey[a] = net->skey[b];
  net->by_id[a] = net->by_id[b];
  net->skey[b] = k;
  net->by_id[b] = v;
}

static void pos_sift_down(sim_network *net, uint32_t base, uint32_t n, uint32_t i) {
  for (;;) {
    uint32_t c = 2 * i + 1;
    if (c >= n)
      break;
    if (c + 1 < n && pos_less(net, base + c, base + c + 1))
      c++;
    if (!pos_less(net, base + i, base + c))
      break;
    pos_swap(net, base + i, base + c);
    i = c;
  }
}

/* Sorts positions [lo, hi) of (skey, by_id) by pos_less: insertion sort for
 * the few entries of a typical cell, heap sort (O(m log m), no allocation)
 * for a large one. */
static void cell_sort(sim_network *net, uint32_t lo, uint32_t hi) {
  uint32_t n = hi - lo;
  if (n <= 32) {
    for (uint32_t i = lo + 1; i < hi; i++)
      for (uint32_t j = i; j > lo && pos_less(net, j, j - 1); j--)
        pos_swap(net, j, j - 1);
    return;
  }
  for (uint32_t s = n / 2; s-- > 0;)
    pos_sift_down(net, lo, n, s);
  for (uint32_t end = n; end > 1; end--) {
    pos_swap(net, lo, lo + end - 1);
    pos_sift_down(net, lo, end - 1, 0);
  }
}

/* Cell of dir holding a 64-bit ID prefix. */
static inline uint32_t dir_cell(const sim_network *net, uint64_t key) {
  return net->dir_bits > 0 ? (uint32_t)(key >> (64 - net->dir_bits)) : 0;
}

/* by_id, skey and dir from ids (by_id and skey allocated, dir not): one
 * counting pass on the top dir_bits bits of each ID (dir's cells), a scatter
 * of each node's prefix and index straight into skey and by_id at its cell,
 * then each cell sorted in place (random IDs: 4 entries per cell on average;
 * clustered IDs of a topology file fall back to heap sort, O(m log m) per
 * cell of m). Two sequential passes over ids and one random scatter instead
 * of six radix passes, and no scratch but dir itself. 0 or DHT_ENOMEM. */
static int index_ids(sim_network *net) {
  const uint32_t n = net->n;
  unsigned b = 0;
  size_t cells;
  while (b + 3 < 32 && ((uint64_t)8 << b) <= n) /* b = floor(log2 n) - 2: 2^(b+2) <= n < 2^(b+3) */
    b++;
  cells = (size_t)1 << b;
  net->dir_bits = b;
  g_free(net->dir);
  net->dir = g_try_malloc0_n(cells + 1, sizeof *net->dir);
  if (net->dir == NULL)
    return DHT_ENOMEM;
  for (uint32_t i = 0; i < n; i++)
    net->dir[dir_cell(net, id_hi64(&net->ids[i])) + 1]++;
  for (size_t j = 0; j < cells; j++) /* dir[j] = start of cell j */
    net->dir[j + 1] += net->dir[j];
  for (uint32_t i = 0; i < n; i++) {
    uint64_t key = id_hi64(&net->ids[i]);
    uint32_t p = net->dir[dir_cell(net, key)]++;
    net->skey[p] = key;
    net->by_id[p] = i;
  }
  /* The scatter moved each dir[j] to the end of cell j: shift back. */
  memmove(net->dir + 1, net->dir, cells * sizeof *net->dir);
  net->dir[0] = 0;
  for (size_t j = 0; j < cells; j++)
    cell_sort(net, net->dir[j], net->dir[j + 1]);
  return DHT_OK;
}

int sim_network_index(sim_network *net) {
  int rc = index_ids(net);
  if (rc == DHT_OK && net->by_addr != NULL)
    rc = sort_indices(net, net->n, key_addr, cmp_addrs, net->by_addr);
  assert(rc < 0 || check_order(net));
  return rc;
}

/* Bit d of the ID at position p. */
static inline int pos_bit(const sim_network *net, uint32_t p, unsigned d) {
  return d < 64 ? (int)(net->skey[p] >> (63 - d)) & 1 : id_bit(&net->ids[net->by_id[p]], d);
}

/* First position p in [lo, hi) whose ID has bit d set, given that [lo, hi) is
 * exactly the (non-empty) set of nodes sharing bits 0..d-1: a trie node. For
 * d < dir_bits that is one dir read (the first position of prefix
 * "bits 0..d-1 of the range, then 1"); deeper, a binary search of the range's
 * skeys (about 4 >> (d - dir_bits) of them). */
static uint32_t split_at(const sim_network *net, uint32_t lo, uint32_t hi, unsigned d) {
  if (d < net->dir_bits) {
    uint64_t half = (net->skey[lo] >> (63 - d)) | 1; /* bits 0..d: the range's prefix, then 1 */
    return net->dir[half << (net->dir_bits - d - 1)];
  }
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (pos_bit(net, mid, d))
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo;
}

/* ---------------------------------------------------------- sampling */

/* Scratch for drawing m distinct values of [0, s) in random order, m <= cap_m:
 * a partial Fisher-Yates over fy (s <= 4 m) or rejection (s > 4 m: < 4/3 draws
 * per value) checked against the values so far (m <= 16) or a small
 * open-addressing set. The membership test never changes the values drawn.
 * O(m) per set (O(m^2) compares for m <= 16). */
typedef struct sampler {
  size_t cap_m;
  uint32_t *fy;    /* [4 cap_m] */
  uint32_t *hkey;  /* [hsize] */
  uint32_t *hgen;  /* [hsize] slot valid iff hgen == gen: no clearing between sets */
  uint32_t hmask;
  unsigned hshift; /* 32 - log2(hsize): the hash keeps the product's top bits */
  uint32_t gen;
} sampler;

static void sampler_free(sampler *s) {
  g_free(s->fy);
  g_free(s->hkey);
  g_free(s->hgen);
  memset(s, 0, sizeof *s);
}

static int sampler_init(sampler *s, size_t cap_m) {
  size_t hsize = 16;
  unsigned lg = 4;
  memset(s, 0, sizeof *s);
  while (hsize < 2 * cap_m) {
    hsize *= 2;
    lg++;
  }
  s->hshift = 32 - lg;
  s->cap_m = cap_m;
  s->hmask = (uint32_t)(hsize - 1);
  s->fy = g_try_malloc_n(4 * cap_m, sizeof *s->fy);
  s->hkey = g_try_malloc_n(hsize, sizeof *s->hkey);
  s->hgen = g_try_malloc0_n(hsize, sizeof *s->hgen);
  if (s->fy == NULL || s->hkey == NULL || s->hgen == NULL) {
    sampler_free(s);
    return DHT_ENOMEM;
  }
  return DHT_OK;
}

/* dht_rng_next (core/rng.c: xoshiro256**) inlined: the table builds draw
 * ~160 values per node, and the call alone was ~10 % of the full-table fill.
 * Must stay the same function (tests/test_regression.c catches a drift). */
static inline uint64_t rotl64(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t rng_next(dht_rng *r) {
  uint64_t *s = r->s;
  uint64_t result = rotl64(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl64(s[3], 45);
  return result;
}

/* Uniform in [0, s), s > 0: Lemire's multiply-shift with rejection (unbiased,
 * a division only in the rare rejection path). The tables' only bounded draw. */
static inline uint32_t below32(dht_rng *r, uint32_t s) {
  uint64_t m = (uint64_t)(uint32_t)(rng_next(r) >> 32) * s;
  uint32_t l = (uint32_t)m;
  if (l < s) {
    uint32_t t = (uint32_t)(-s) % s; /* 2^32 mod s */
    while (l < t) {
      m = (uint64_t)(uint32_t)(rng_next(r) >> 32) * s;
      l = (uint32_t)m;
    }
  }
  return (uint32_t)(m >> 32);
}

/* Inserts v; false if already present in the current set. */
static bool sampler_insert(sampler *s, uint32_t v) {
  uint32_t h = (v * 0x9e3779b1u) >> s->hshift;
  while (s->hgen[h] == s->gen) {
    if (s->hkey[h] == v)
      return false;
    h = (h + 1) & s->hmask;
  }
  s->hgen[h] = s->gen;
  s->hkey[h] = v;
  return true;
}

/* Writes base + min(m, s) distinct values of [0, s) into out, uniformly at
 * random and in random order (every ordered sample equally likely). Returns
 * how many. Inlined: the full-table fill calls it for every bucket of every node. */
static inline __attribute__((always_inline)) size_t sample_distinct(sampler *sp, dht_rng *r, uint32_t s, size_t m,
                                                                  uint32_t base, uint32_t *out) {
  size_t take = m < s ? m : s;
  g_assert(m <= sp->cap_m);
  if (s <= 4 * m) {
    for (uint32_t i = 0; i < s; i++)
      sp->fy[i] = i;
    for (size_t i = 0; i < take; i++) {
      size_t j = i + below32(r, (uint32_t)(s - i));
      uint32_t t = sp->fy[i];
      sp->fy[i] = sp->fy[j];
      sp->fy[j] = t;
      out[i] = base + sp->fy[i];
    }
    return take;
  }
  if (take <= 16) { /* few values: a linear membership scan beats hashing */
    /* A 64-bit mask of v mod 64 answers "new" for most draws (s > 4 m: a
     * set bit is rare) without the scan; the scan decides the rest. The same
     * values are accepted either way. */
    uint64_t seen = 0;
    for (size_t i = 0; i < take; i++) {
      uint32_t v;
      uint64_t bit;
      for (;;) {
        bool dup = false;
        v = below32(r, s);
        bit = (uint64_t)1 << (v & 63);
        if (!(seen & bit))
          break;
        for (size_t j = 0; j < i; j++)
          dup |= out[j] == base + v;
        if (!dup)
          break;
      }
      seen |= bit;
      out[i] = base + v;
    }
    return take;
  }
  if (++sp->gen == 0) { /* wrapped: forget every old stamp */
    memset(sp->hgen, 0, ((size_t)sp->hmask + 1) * sizeof *sp->hgen);
    sp->gen = 1;
  }
  for (size_t i = 0; i < take; i++) {
    uint32_t v;
    do
      v = below32(r, s);
    while (!sampler_insert(sp, v));
    out[i] = base + v;
  }
  return take;
}

/* ------------------------------------------------------ random tables */

/* Mean contacts per node of random tables, bounded above: a table offered 4K
 * random nodes keeps K + ~K + K/2 + K/4 + ... < 3K (measured 2.5K at K = 1,
 * 2.88K at K = 8, 2.98K at K = 256), and never more than the n - 1 others. */
static uint64_t random_contacts_bound(uint64_t n, unsigned k) {
  return n - 1 < 3ull * k ? n - 1 : 3ull * k;
}

/* Each node x offers 4K distinct random other nodes, in random order, to a
 * fresh core dht_rt(ids[x], K); the table's contents, bucket by bucket, become
 * x's contacts. The scratch table carries node indices in its address field
 * (ip = index). Cost O(n K) plus the table's own O(K) per insertion; memory: the
 * contact array is sized by the mean bound (+ one node's worst case), grown by
 * 25% if ever short, and shrunk to the real total at the end. */
static int build_random(sim_network *net, uint64_t seed) {
  const uint32_t n = net->n;
  const unsigned k = net->k;
  const size_t m = 4 * (size_t)k;
  uint64_t tseed = dht_seed_derive(seed, NET_STREAM_TABLES), pos = 0, cap;
  sampler sp;
  uint32_t *pick = NULL, *shrunk;
  dht_node *bucket = NULL, *offer = NULL;
  dht_rt *rt = NULL;
  int rc = sampler_init(&sp, m);
  if (rc < 0)
    return rc;
  pick = g_try_malloc_n(m, sizeof *pick);
  bucket = g_try_malloc_n(k, sizeof *bucket);
  offer = g_try_malloc_n(m, sizeof *offer);
  cap = (uint64_t)n * random_contacts_bound(n, k) + m;
  net->contacts = g_try_malloc_n(cap, sizeof *net->contacts);
  if (pick == NULL || bucket == NULL || offer == NULL || net->contacts == NULL) {
    rc = DHT_ENOMEM;
    goto out;
  }
  for (uint32_t x = 0; x < n; x++) {
    dht_rng r;
    size_t got;
    dht_rng_init(&r, dht_seed_derive(tseed, x));
    got = n > 1 ? sample_distinct(&sp, &r, n - 1, m, 0, pick) : 0;
    if (cap - pos < m) { /* rarely: more than the mean bound so far; grow 25% */
      uint64_t nc = cap + cap / 4 > pos + m ? cap + cap / 4 : pos + m;
      uint32_t *grown = g_try_realloc_n(net->contacts, nc, sizeof *grown);
      if (grown == NULL) {
        rc = DHT_ENOMEM;
        goto out;
      }
      net->contacts = grown;
      cap = nc;
    }
    rt = dht_rt_new(&net->ids[x], k);
    if (rt == NULL) {
      rc = DHT_ENOMEM;
      goto out;
    }
    /* Gather first: the 4K random ID loads are independent and overlap their
     * cache misses, instead of one miss per dht_rt_add. */
    for (size_t j = 0; j < got; j++) {
      uint32_t y = pick[j] >= x ? pick[j] + 1 : pick[j]; /* skip self */
      offer[j].id = net->ids[y];
      dht_addr_set_v4(&offer[j].addr, y, 0);
    }
    for (size_t j = 0; j < got; j++)
      if ((rc = dht_rt_add(rt, &offer[j])) < 0)
        goto out;
    rc = DHT_OK;
    for (unsigned b = 0; b < dht_rt_bucket_count(rt); b++) {
      size_t c = dht_rt_bucket_nodes(rt, b, bucket);
      for (size_t j = 0; j < c; j++) {
        const uint8_t *ip = bucket[j].addr.ip;
        net->contacts[pos++] = (uint32_t)ip[0] << 24 | (uint32_t)ip[1] << 16 | (uint32_t)ip[2] << 8 | ip[3];
      }
    }
    g_assert(pos - net->contact_off[x] <= got);
    net->contact_off[x + 1] = pos;
    dht_rt_free(rt);
    rt = NULL;
  }
  /* Give back the unused tail (in place for large blocks: no copy, no peak). */
  shrunk = g_try_realloc_n(net->contacts, pos + 1, sizeof *net->contacts);
  if (shrunk != NULL)
    net->contacts = shrunk;
out:
  dht_rt_free(rt);
  g_free(pick);
  g_free(bucket);
  g_free(offer);
  sampler_free(&sp);
  return rc;
}

/* -------------------------------------------------------- full tables */

/* The BEP 5 table each node would end with after being offered every node:
 * descending the implicit binary trie of by_id, node x at depth d is in a range
 * R of the nodes sharing d bits with it. While |R| - 1 > K, R splits on bit d:
 * bucket d of x is up to K random nodes of the other half. Once |R| - 1 <= K the
 * rest of R is x's own (last) bucket. Two passes over the trie: sizes, then
 * contents. Cost O(n K log(n/K)) output plus O(n/K) binary searches. */
typedef struct full_ctx {
  sim_network *net;
  bool fill;       /* false: count into contact_off[x+1]; true: write contacts */
  uint64_t tseed;
  sampler sp;
  uint32_t *pos;   /* [2][160 K]: two nodes' sampled by_id positions (this one, the pending one) */
  unsigned cur;    /* which half of pos is this node's */
  uint32_t *pend_dst; /* the pending node's sampled contacts go here (NULL: none) */
  size_t pend_np;
  uint32_t path_lo[DHT_ID_BITS + 1], path_hi[DHT_ID_BITS + 1]; /* bucket ranges of depths < d */
} full_ctx;

/* Prefetch distances, in nodes of by_id order, of the fill pass: a node's
 * contact_off entry (random: x = by_id[p]) is fetched PF_OFF nodes ahead, the
 * first line of its contacts (written at a random place) PF_DST nodes ahead,
 * once its offset is in cache. */
enum { PF_OFF = 16, PF_DST = 8 };

/* Writes the pending node's sampled contacts (positions in the other half of pos). */
static void full_flush(full_ctx *c) {
  const uint32_t *pos = c->pos + (size_t)(c->cur ^ 1) * SIM_CONTACTS_MAX(c->net->k), *by_id = c->net->by_id;
  uint32_t *dst = c->pend_dst;
  if (dst == NULL)
    return;
  for (size_t j = 0; j < c->pend_np; j++)
    dst[j] = by_id[pos[j]];
  c->pend_dst = NULL;
}

/* Emits the table of every node of the leaf range [lo, hi) at depth d. */
static void full_leaf(full_ctx *c, uint32_t lo, uint32_t hi, unsigned d) {
  sim_network *net = c->net;
  const unsigned k = net->k;
  const uint32_t n = net->n;
  if (!c->fill) {
    /* Every node of the leaf has the same count: its d bucket ranges plus the
     * rest of the leaf. */
    uint64_t cnt = hi - lo - 1;
    for (unsigned i = 0; i < d; i++) {
      uint32_t s = c->path_hi[i] - c->path_lo[i];
      cnt += s < k ? s : k;
    }
    for (uint32_t p = lo; p < hi; p++) {
      if (p + PF_OFF < n)
        __builtin_prefetch(&net->contact_off[net->by_id[p + PF_OFF] + 1], 1);
      net->contact_off[net->by_id[p] + 1] = cnt;
    }
    return;
  }
  for (uint32_t p = lo; p < hi; p++) {
    uint32_t x = net->by_id[p];
    if (p + PF_OFF < n)
      __builtin_prefetch(&net->contact_off[net->by_id[p + PF_OFF]]);
    if (p + PF_DST < n)
      __builtin_prefetch(net->contacts + net->contact_off[net->by_id[p + PF_DST]], 1);
    uint32_t *dst = net->contacts + net->contact_off[x];
    uint32_t *pos = c->pos + (size_t)c->cur * SIM_CONTACTS_MAX(k);
    size_t np = 0;
    dht_rng r;
    dht_rng_init(&r, dht_seed_derive(c->tseed, x));
    for (unsigned i = 0; i < d; i++) {
      uint32_t blo = c->path_lo[i], s = c->path_hi[i] - blo;
      if (s <= k) {
        for (uint32_t j = 0; j < s; j++)
          pos[np++] = blo + j;
      } else {
        np += sample_distinct(&c->sp, &r, s, k, blo, pos + np);
      }
    }
    /* The sampled positions of large (shallow) ranges miss the cache: start
     * this node's loads now and gather the previous node's, fetched one node
     * ago. */
    for (size_t j = 0; j < np; j++)
      __builtin_prefetch(&net->by_id[pos[j]]);
    full_flush(c);
    c->pend_dst = dst;
    c->pend_np = np;
    c->cur ^= 1;
    dst += np;
    for (uint32_t q = lo; q < hi; q++)
      if (q != p)
        *dst++ = net->by_id[q];
    g_assert((uint64_t)(dst - net->contacts) == net->contact_off[x + 1]);
  }
}

/* [lo, hi): the nodes sharing bits 0..d-1 (non-empty). Recursion depth <= 160. */
static void full_visit(full_ctx *c, uint32_t lo, uint32_t hi, unsigned d) {
  uint32_t m;
  if (hi - lo - 1 <= c->net->k) {
    full_leaf(c, lo, hi, d);
    return;
  }
  g_assert(d < DHT_ID_BITS); /* IDs are unique, so 160 shared bits means one node */
  m = split_at(c->net, lo, hi, d);
  if (m > lo) {
    c->path_lo[d] = m;
    c->path_hi[d] = hi;
    full_visit(c, lo, m, d + 1);
  }
  if (hi > m) {
    c->path_lo[d] = lo;
    c->path_hi[d] = m;
    full_visit(c, m, hi, d + 1);
  }
}

static int build_full(sim_network *net, uint64_t seed) {
  full_ctx *c = g_try_new0(full_ctx, 1);
  int rc = DHT_ENOMEM;
  if (c == NULL)
    return DHT_ENOMEM;
  c->net = net;
  c->tseed = dht_seed_derive(seed, NET_STREAM_TABLES);
  if (sampler_init(&c->sp, net->k) < 0)
    goto out;
  c->pos = g_try_malloc_n(2 * SIM_CONTACTS_MAX(net->k), sizeof *c->pos);
  if (c->pos == NULL)
    goto out;
  c->fill = false;
  full_visit(c, 0, net->n, 0);
  for (uint32_t x = 0; x < net->n; x++)
    net->contact_off[x + 1] += net->contact_off[x];
  net->contacts = g_try_malloc_n(net->contact_off[net->n] + 1, sizeof *net->contacts);
  if (net->contacts == NULL)
    goto out;
  populate(net->contacts, (net->contact_off[net->n] + 1) * sizeof *net->contacts);
  c->fill = true;
  full_visit(c, 0, net->n, 0);
  full_flush(c);
  rc = DHT_OK;
out:
  sampler_free(&c->sp);
  g_free(c->pos);
  g_free(c);
  return rc;
}

/* ------------------------------------------------------ on-demand tables */

struct sim_net_scratch {
  sampler sp;    /* the tables' sampler, as build_full's (m = K) or build_random's (m = 4K) */
  uint32_t *pos; /* [SIM_CONTACTS_MAX(k)]: one full table's by_id positions; random: bucket b's slots at b K */
  uint8_t *scpl; /* random: [SIM_CONTACTS_MAX(k)] bits each slot's node shares with the table's node */
  uint32_t *tab; /* random: [4K] the table in bucket order (node indices); first the 4K offers */
  /* Of the last table od_draw drew whole: bucket i is pos[bstart[i] .. bstart[i+1])
   * for i < depth, the own leaf pos[bstart[depth] .. end). */
  size_t bstart[DHT_ID_BITS + 1];
  unsigned depth;
};

static void scratch_free(sim_net_scratch *sc) {
  if (sc == NULL)
    return;
  sampler_free(&sc->sp);
  g_free(sc->pos);
  g_free(sc->scpl);
  g_free(sc->tab);
  g_free(sc);
}

static sim_net_scratch *scratch_new(unsigned k, sim_tables_kind kind) {
  sim_net_scratch *sc = g_try_new0(sim_net_scratch, 1);
  bool rnd = kind == SIM_TABLES_RANDOM;
  if (sc == NULL)
    return NULL;
  sc->pos = g_try_malloc_n(SIM_CONTACTS_MAX(k), sizeof *sc->pos);
  sc->scpl = rnd ? g_try_malloc_n(SIM_CONTACTS_MAX(k), sizeof *sc->scpl) : NULL;
  sc->tab = rnd ? g_try_malloc_n(4 * (size_t)k, sizeof *sc->tab) : NULL;
  if (sc->pos == NULL || (rnd && (sc->scpl == NULL || sc->tab == NULL)) ||
      sampler_init(&sc->sp, rnd ? 4 * (size_t)k : k) < 0) {
    scratch_free(sc);
    return NULL;
  }
  return sc;
}

/* Position of node x in by_id: its dir cell, then a binary search of the
 * cell's skeys (4 on average: one or two cache lines). O(1) expected. */
static uint32_t pos_of(const sim_network *net, uint32_t x) {
  uint64_t key = id_hi64(&net->ids[x]);
  uint32_t c = dir_cell(net, key), lo = net->dir[c], hi = net->dir[c + 1];
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (net->skey[mid] < key)
      lo = mid + 1;
    else
      hi = mid;
  }
  while (net->by_id[lo] != x) /* equal 64-bit prefixes (probability ~ n^2 / 2^65) */
    lo++;
  return lo;
}

/* Number of leading bits a and b share (160 if equal). */
static unsigned id_cpl(const dht_id *a, const dht_id *b) {
  uint64_t x = id_hi64(a) ^ id_hi64(b);
  if (x != 0)
    return (unsigned)__builtin_clzll(x);
  for (unsigned i = 8; i < DHT_ID_LEN; i++) {
    unsigned v = (unsigned)(a->b[i] ^ b->b[i]);
    if (v != 0)
      return 8 * i + (unsigned)__builtin_clz(v) - 24;
  }
  return DHT_ID_BITS;
}

/* od_draw on the tables restricted to the present nodes
 * (sim_network_restrict_tables): the same descent along x's ID, but a range
 * counts only its present nodes (urank), a bucket is sampled among them (their
 * ranks, mapped to positions by upos) and the leaf keeps only them. So x's
 * table is the full table x would have in the network of the present nodes
 * (plus x): bucket i holds min(K, present nodes sharing exactly i bits). Cost
 * as od_draw's: two urank reads per depth. */
static bool od_draw_present(const sim_network *net, uint32_t x, uint32_t px, dht_rng *r, unsigned stop, size_t need,
                            size_t *b0, size_t *end) {
  sim_net_scratch *sc = net->scratch;
  uint32_t *pos = sc->pos;
  const unsigned k = net->k;
  const uint32_t *urank = net->urank, *upos = net->upos;
  uint32_t lo = 0, hi = net->n, self = urank[px + 1] - urank[px]; /* 1: x is present itself */
  size_t np = 0;
  unsigned d = 0;
  (void)x;
  for (; urank[hi] - urank[lo] - self > k; d++) {
    uint32_t m, blo, bhi, s;
    size_t start = np;
    g_assert(d < DHT_ID_BITS); /* more than K others: at least two distinct IDs in the range */
    m = split_at(net, lo, hi, d);
    if (px < m) {
      blo = m;
      bhi = hi;
      hi = m;
    } else {
      blo = lo;
      bhi = m;
      lo = m;
    }
    s = urank[bhi] - urank[blo];
    if (s <= k) {
      for (uint32_t j = urank[blo]; j < urank[bhi]; j++)
        pos[np++] = upos[j];
    } else {
      np += sample_distinct(&sc->sp, r, s, k, urank[blo], pos + np);
      for (size_t j = start; j < np; j++)
        pos[j] = upos[pos[j]];
    }
    if (d == stop && np - start >= need) {
      *b0 = start;
      *end = np;
      return true;
    }
    sc->bstart[d] = start;
  }
  sc->depth = d;
  sc->bstart[d] = np;
  for (uint32_t j = urank[lo]; j < urank[hi]; j++)
    if (upos[j] != px)
      pos[np++] = upos[j];
  g_assert(np <= SIM_CONTACTS_MAX(k));
  *b0 = 0;
  *end = np;
  return false;
}

/* Draws node x's full table, as by_id positions, into the scratch's pos in
 * the order full_leaf writes it: one trie descent along x's ID; at depth i
 * (while the range holds more than K others) bucket i is the other half,
 * whole if it has <= K nodes, else K sampled with x's own generator; then the
 * rest of x's leaf. The same draws as full_leaf: same table.
 * Stops early, returning true, right after bucket `stop` if it holds at least
 * `need` nodes (*b0, *end: its slice of pos); else draws it all (*end).
 * Cost per depth: one dir read (or a short binary search below dir_bits) and
 * the bucket's draws; no ID is read. */
static bool od_draw(const sim_network *net, uint32_t x, unsigned stop, size_t need, size_t *b0, size_t *end) {
  sim_net_scratch *sc = net->scratch;
  uint32_t *pos = sc->pos;
  const unsigned k = net->k;
  uint32_t px = pos_of(net, x), lo = 0, hi = net->n;
  size_t np = 0;
  unsigned d = 0;
  dht_rng r;
  dht_rng_init(&r, dht_seed_derive(net->tseed, x));
  if (net->urank != NULL)
    return od_draw_present(net, x, px, &r, stop, need, b0, end);
  for (; hi - lo - 1 > k; d++) {
    uint32_t m, blo, s;
    size_t start = np;
    g_assert(d < DHT_ID_BITS); /* IDs are unique */
    m = split_at(net, lo, hi, d);
    if (px < m) {
      blo = m;
      s = hi - m;
      hi = m;
    } else {
      blo = lo;
      s = m - lo;
      lo = m;
    }
    if (s <= k) {
      for (uint32_t j = 0; j < s; j++)
        pos[np++] = blo + j;
    } else {
      np += sample_distinct(&sc->sp, &r, s, k, blo, pos + np);
    }
    if (d == stop && np - start >= need) {
      *b0 = start;
      *end = np;
      return true;
    }
    sc->bstart[d] = start;
  }
  sc->depth = d;
  sc->bstart[d] = np;
  for (uint32_t q = lo; q < hi; q++)
    if (q != px)
      pos[np++] = q;
  g_assert(np <= SIM_CONTACTS_MAX(k));
  *b0 = 0;
  *end = np;
  return false;
}

/* Draws node x's random table into the scratch's tab, in the order
 * build_random stores it, without a core dht_rt: the same 4K offers from x's
 * generator, inserted as dht_rt_add does for nodes that never failed (bucket
 * min(shared bits, last); a full last bucket splits, stably, while it can; a
 * node for a full other bucket is dropped), then the buckets in order. The
 * layout of od_draw's groups: bucket i = tab[bstart[i] .. bstart[i+1]) for
 * i < depth (shares exactly i bits), the last bucket tab[bstart[depth] .. end)
 * (shares >= depth). Returns end. Cost: 4K draws and 4K ID reads, O(K) per
 * split. */
static size_t od_random(const sim_network *net, uint32_t x) {
  sim_net_scratch *sc = net->scratch;
  const unsigned k = net->k;
  const size_t m = 4 * (size_t)k;
  uint32_t *slot = sc->pos, *tab = sc->tab;
  uint16_t cnt[DHT_ID_BITS] = {0};
  unsigned nb = 1;
  size_t got, np = 0;
  dht_rng r;
  dht_rng_init(&r, dht_seed_derive(net->tseed, x));
  if (net->unode == NULL) {
    got = net->n > 1 ? sample_distinct(&sc->sp, &r, net->n - 1, m, 0, tab) : 0;
    for (size_t j = 0; j < got; j++) /* skip self: node indices from here on */
      tab[j] = tab[j] >= x ? tab[j] + 1 : tab[j];
  } else {
    /* Restricted to the present nodes (sim_network_restrict_tables): 4K
     * distinct present others, by rank in unode (ascending node indices);
     * rx: x's rank, skipped when x is present itself. */
    uint32_t lo = 0, hi = net->n_present, rx;
    while (lo < hi) {
      uint32_t mid = lo + (hi - lo) / 2;
      if (net->unode[mid] < x)
        lo = mid + 1;
      else
        hi = mid;
    }
    rx = lo;
    bool self = rx < net->n_present && net->unode[rx] == x;
    uint32_t others = net->n_present - (self ? 1u : 0u);
    got = others > 0 ? sample_distinct(&sc->sp, &r, others, m, 0, tab) : 0;
    for (size_t j = 0; j < got; j++)
      tab[j] = net->unode[self && tab[j] >= rx ? tab[j] + 1 : tab[j]];
  }
  for (size_t j = 0; j < got; j++) /* the ID loads are the cost: start them all */
    __builtin_prefetch(&net->ids[tab[j]]);
  for (size_t j = 0; j < got; j++) {
    uint32_t y = tab[j];
    unsigned c = id_cpl(&net->ids[x], &net->ids[y]);
    g_assert(c < DHT_ID_BITS); /* IDs are unique */
    for (;;) {
      unsigned b = c < nb - 1 ? c : nb - 1, last = nb - 1, keep = 0, moved = 0;
      if (cnt[b] < k) {
        slot[(size_t)b * k + cnt[b]] = y;
        sc->scpl[(size_t)b * k + cnt[b]] = (uint8_t)c;
        cnt[b]++;
        break;
      }
      if (b != last || nb >= DHT_ID_BITS)
        break; /* DHT_RT_FULL: dropped */
      for (unsigned i = 0; i < cnt[last]; i++) { /* split_last: keep order in both halves */
        size_t from = (size_t)last * k + i;
        size_t to = sc->scpl[from] == last ? (size_t)last * k + keep++ : (size_t)(last + 1) * k + moved++;
        slot[to] = slot[from];
        sc->scpl[to] = sc->scpl[from];
      }
      cnt[last] = (uint16_t)keep;
      cnt[last + 1] = (uint16_t)moved;
      nb++;
    }
  }
  /* The offers are consumed: tab now takes the table. */
  for (unsigned b = 0; b < nb; b++) {
    sc->bstart[b] = np;
    memcpy(tab + np, slot + (size_t)b * k, cnt[b] * sizeof *tab);
    np += cnt[b];
  }
  g_assert(np <= got);
  sc->depth = nb - 1;
  return np;
}

size_t sim_network_table(const sim_network *net, uint32_t node, uint32_t *out) {
  size_t b0, np;
  g_return_val_if_fail(net != NULL && node < net->n && out != NULL, 0);
  if (net->mslot != NULL && net->mslot[node] != SIM_NET_NO_SLOT) {
    uint32_t s = net->mslot[node];
    np = net->mlen[s];
    memcpy(out, net->mpool + (size_t)s * net->mcap, np * sizeof *out);
    return np;
  }
  if (net->contacts != NULL) {
    np = (size_t)(net->contact_off[node + 1] - net->contact_off[node]);
    memcpy(out, net->contacts + net->contact_off[node], np * sizeof *out);
    return np;
  }
  if (net->scratch->tab != NULL) {
    np = od_random(net, node);
    memcpy(out, net->scratch->tab, np * sizeof *out);
    return np;
  }
  (void)od_draw(net, node, DHT_ID_BITS, 0, &b0, &np);
  for (size_t j = 0; j < np; j++)
    out[j] = net->by_id[net->scratch->pos[j]];
  return np;
}

/* ------------------------------------------------------------ generate */

void sim_network_node_addr(dht_addr *a, uint32_t i) {
  dht_addr_set_v4(a, 0x0a000000u | (i & 0xffffffu), (uint16_t)(SIM_NET_PORT + (i >> 24)));
}

static int generate(sim_network *net, uint32_t n, unsigned k, sim_tables_kind kind, uint64_t seed, bool ondemand) {
  dht_rng r;
  int rc = DHT_ENOMEM;
  g_return_val_if_fail(net != NULL, DHT_EINVAL);
  memset(net, 0, sizeof *net);
  if (n == 0 || n > SIM_NODES_MAX || k < 1 || k > DHT_K_MAX || (kind != SIM_TABLES_RANDOM && kind != SIM_TABLES_FULL))
    return DHT_EINVAL;
  net->k = k;
  if (!ondemand) {
    if ((rc = sim_network_alloc_nodes(net, n)) < 0)
      goto err;
  } else {
    /* No by_addr (find_addr decodes the address), no contact_off. */
    net->n = n;
    net->ids = g_try_malloc_n(n, sizeof *net->ids);
    net->addrs = g_try_malloc0_n(n, sizeof *net->addrs);
    net->by_id = g_try_malloc_n(n, sizeof *net->by_id);
    net->skey = g_try_malloc_n(n, sizeof *net->skey);
    net->flags = g_try_malloc0_n(n, sizeof *net->flags);
    net->scratch = scratch_new(k, kind);
    if (!net->ids || !net->addrs || !net->by_id || !net->skey || !net->flags || !net->scratch)
      goto err;
    advise_huge(net->ids, (size_t)n * sizeof *net->ids);
    advise_huge(net->by_id, (size_t)n * sizeof *net->by_id);
    advise_huge(net->skey, (size_t)n * sizeof *net->skey);
  }
  /* dht_id_random inlined: bytes 0..7, 8..15 of two draws (little-endian),
   * 16..19 the low bytes of a third, as dht_rng_fill. */
  dht_rng_init(&r, seed);
  for (uint32_t i = 0; i < n; i++) {
    uint8_t *b = net->ids[i].b;
    for (unsigned w = 0; w < DHT_ID_LEN; w += 8) {
      uint64_t v = rng_next(&r);
      for (unsigned j = 0; j < 8 && w + j < DHT_ID_LEN; j++)
        b[w + j] = (uint8_t)(v >> (8 * j));
    }
    sim_network_node_addr(&net->addrs[i], i);
  }
  if ((rc = sim_network_index(net)) < 0)
    goto err;
  /* Equal 160-bit IDs (probability < n^2 / 2^161) would break the trie invariants. */
  for (uint32_t p = 1; p < n; p++) {
    if (net->skey[p - 1] == net->skey[p] && dht_id_eq(&net->ids[net->by_id[p - 1]], &net->ids[net->by_id[p]])) {
      rc = DHT_EINVAL;
      goto err;
    }
  }
  net->tseed = dht_seed_derive(seed, NET_STREAM_TABLES);
  if (!ondemand) {
    rc = kind == SIM_TABLES_FULL ? build_full(net, seed) : build_random(net, seed);
    if (rc < 0)
      goto err;
  }
  assert(sim_network_check(net));
  return DHT_OK;
err:
  sim_network_clear(net);
  return rc;
}

int sim_network_generate(sim_network *net, uint32_t n, unsigned k, sim_tables_kind kind, uint64_t seed) {
  return generate(net, n, k, kind, seed, false);
}

int sim_network_generate_ondemand(sim_network *net, uint32_t n, unsigned k, sim_tables_kind kind, uint64_t seed) {
  return generate(net, n, k, kind, seed, true);
}

int sim_network_restrict_tables(sim_network *net, uint8_t absent_flags) {
  uint32_t np = 0;
  g_return_val_if_fail(net != NULL && net->contacts == NULL && net->scratch != NULL, DHT_EINVAL);
  g_return_val_if_fail(net->urank == NULL, DHT_EINVAL);
  net->urank = g_try_malloc_n((gsize)net->n + 1, sizeof *net->urank);
  if (net->urank == NULL)
    return DHT_ENOMEM;
  for (uint32_t p = 0; p < net->n; p++) {
    net->urank[p] = np;
    np += (net->flags[net->by_id[p]] & absent_flags) == 0;
  }
  net->urank[net->n] = np;
  net->n_present = np;
  net->upos = g_try_malloc_n((gsize)np + 1, sizeof *net->upos);
  /* Random tables sample node indices, full tables positions. */
  net->unode = net->scratch->tab != NULL ? g_try_malloc_n((gsize)np + 1, sizeof *net->unode) : NULL;
  if (net->upos == NULL || (net->scratch->tab != NULL && net->unode == NULL)) {
    g_free(net->urank);
    g_free(net->upos);
    g_free(net->unode);
    net->urank = net->upos = net->unode = NULL;
    net->n_present = 0;
    return DHT_ENOMEM;
  }
  for (uint32_t p = 0, j = 0; p < net->n; p++)
    if ((net->flags[net->by_id[p]] & absent_flags) == 0)
      net->upos[j++] = p;
  if (net->unode != NULL)
    for (uint32_t i = 0, j = 0; i < net->n; i++)
      if ((net->flags[i] & absent_flags) == 0)
        net->unode[j++] = i;
  return DHT_OK;
}

/* -------------------------------------------------------------- queries */

/* The closest-first selections run over node indices (materialised tables:
 * IDs read from ids) or over by_id positions (on-demand tables, true
 * closest: 64-bit prefixes read from skey, contiguous for the deep buckets;
 * the whole ID only on a prefix tie). by_pos is a constant at every call. */
static inline __attribute__((always_inline)) uint64_t item_hi(const sim_network *net, bool by_pos, uint32_t v) {
  return by_pos ? net->skey[v] : id_hi64(&net->ids[v]);
}

static inline const dht_id *item_id(const sim_network *net, bool by_pos, uint32_t v) {
  return by_pos ? &net->ids[net->by_id[v]] : &net->ids[v];
}

/* True iff item a is strictly farther from target than item b. */
static inline __attribute__((always_inline)) bool farther(const sim_network *net, bool by_pos, const dht_id *t,
                                                          uint64_t t64, uint32_t a, uint32_t b) {
  uint64_t da = item_hi(net, by_pos, a) ^ t64, db = item_hi(net, by_pos, b) ^ t64;
  if (da != db)
    return da > db;
  return dht_id_distance_cmp(t, item_id(net, by_pos, a), item_id(net, by_pos, b)) > 0;
}

/* Max-heap on distance (root = farthest) over h[0..n). */
static inline __attribute__((always_inline)) void far_sift_down(const sim_network *net, bool by_pos,
                                                                const dht_id *t, uint64_t t64, uint32_t *h,
                                                                size_t n, size_t i) {
  uint32_t v = h[i];
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= n)
      break;
    if (c + 1 < n && farther(net, by_pos, t, t64, h[c + 1], h[c]))
      c++;
    if (!farther(net, by_pos, t, t64, h[c], v))
      break;
    h[i] = h[c];
    i = c;
  }
  h[i] = v;
}

/* Largest count for the sorted-array selection of select_closest (K of
 * the common scenarios); larger counts use the heap. Same result either way:
 * distances are unique. */
#define CLOSEST_SMALL 32

/* Up to count of the items cs[0..c) closest to target into out, by distance;
 * returns how many. Small count: a sorted array of the best so far with their
 * 64-bit distance prefixes kept locally, so an item is rejected with one
 * compare and an insertion shifts a few entries without reloading IDs. Larger:
 * a max-heap of the best, then heap sort. O(c + count log count log c)
 * typical, O(c log count) worst; no allocation. Items stay items (the caller
 * maps positions to nodes). */
static inline __attribute__((always_inline)) size_t select_closest(const sim_network *net, bool by_pos,
                                                                  const dht_id *target, const uint32_t *cs,
                                                                  size_t c, uint32_t *out, size_t count) {
  uint64_t t64 = id_hi64(target), worst;
  size_t m = 0;
  if (count == 0 || c == 0)
    return 0;
  for (size_t j = 0; j < c; j++) /* the ID loads are the cost: start them all */
    __builtin_prefetch(by_pos ? (const void *)&net->skey[cs[j]] : (const void *)&net->ids[cs[j]]);
  if (count <= CLOSEST_SMALL) {
    uint64_t bk[CLOSEST_SMALL];
    for (size_t j = 0; j < c; j++) {
      uint32_t v = cs[j];
      uint64_t dv = item_hi(net, by_pos, v) ^ t64;
      size_t i;
      if (m == count) {
        if (dv > bk[m - 1] || (dv == bk[m - 1] && farther(net, by_pos, target, t64, v, out[m - 1])))
          continue;
        m--; /* the farthest kept one is dropped */
      }
      for (i = m; i > 0 && (bk[i - 1] > dv || (bk[i - 1] == dv && farther(net, by_pos, target, t64, out[i - 1], v)));
           i--) {
        bk[i] = bk[i - 1];
        out[i] = out[i - 1];
      }
      bk[i] = dv;
      out[i] = v;
      m++;
    }
    return m;
  }
  for (; m < c && m < count; m++) { /* fill, sifting up */
    size_t i = m;
    uint32_t v = cs[m];
    while (i > 0 && farther(net, by_pos, target, t64, v, out[(i - 1) / 2])) {
      out[i] = out[(i - 1) / 2];
      i = (i - 1) / 2;
    }
    out[i] = v;
  }
  worst = item_hi(net, by_pos, out[0]) ^ t64;
  for (size_t j = m; j < c; j++) {
    uint32_t v = cs[j];
    uint64_t dv = item_hi(net, by_pos, v) ^ t64;
    if (dv > worst || (dv == worst && !farther(net, by_pos, target, t64, out[0], v)))
      continue;
    out[0] = v;
    far_sift_down(net, by_pos, target, t64, out, m, 0);
    worst = item_hi(net, by_pos, out[0]) ^ t64;
  }
  for (size_t end = m; end > 1; end--) { /* heap sort: ascending distance */
    uint32_t t = out[0];
    out[0] = out[end - 1];
    out[end - 1] = t;
    far_sift_down(net, by_pos, target, t64, out, end - 1, 0);
  }
  return m;
}

/* On demand. With p the number of bits the target shares with the node, the
 * node's contacts fall into groups each strictly closer to the target than
 * the next: bucket p (they share > p bits with the target), then buckets
 * p+1.. and the node's own leaf (exactly p), then bucket p-1, p-2, ..., 0. So
 * when bucket p holds count nodes (a full bucket, the common case: count = K)
 * they are the answer: its draws, then count skey reads. Otherwise (p at or
 * past the leaf depth D, or a short bucket p) the whole table is drawn and
 * the groups are selected in that order (with q = min(p, D): bucket q or the
 * leaf, the rest of the table after it, then buckets q-1 .. 0) until count
 * are out: about 2K skey reads instead of the whole table's. */
/* The groups of a drawn table (bucket i = items[bstart[i] .. bstart[i+1]) for
 * i < depth, the last or own one items[bstart[depth] .. end)) selected in
 * distance order until count are out; p: the bits target shares with the node. */
static inline __attribute__((always_inline)) size_t select_groups(const sim_network *net, bool by_pos,
                                                                 const dht_id *target, const uint32_t *items,
                                                                 size_t end, unsigned p, uint32_t *out,
                                                                 size_t count) {
  const sim_net_scratch *sc = net->scratch;
  unsigned q = p < sc->depth ? p : sc->depth;
  size_t cut = q < sc->depth ? sc->bstart[q + 1] : end, m;
  m = select_closest(net, by_pos, target, items + sc->bstart[q], cut - sc->bstart[q], out, count);
  if (m < count)
    m += select_closest(net, by_pos, target, items + cut, end - cut, out + m, count - m);
  for (unsigned i = q; m < count && i-- > 0;)
    m += select_closest(net, by_pos, target, items + sc->bstart[i], sc->bstart[i + 1] - sc->bstart[i], out + m,
                        count - m);
  return m;
}

static size_t closest_ondemand(const sim_network *net, uint32_t node, const dht_id *target, uint32_t *out,
                               size_t count) {
  const sim_net_scratch *sc = net->scratch;
  unsigned p = id_cpl(&net->ids[node], target);
  size_t b0, end, m;
  if (sc->tab != NULL) /* random tables: node indices, no by_id step */
    return select_groups(net, false, target, sc->tab, od_random(net, node), p, out, count);
  if (od_draw(net, node, p, count, &b0, &end))
    m = select_closest(net, true, target, sc->pos + b0, end - b0, out, count);
  else
    m = select_groups(net, true, target, sc->pos, end, p, out, count);
  for (size_t i = 0; i < m; i++)
    out[i] = net->by_id[out[i]];
  return m;
}

int sim_network_bucket_order(sim_network *net) {
  const size_t cap = SIM_CONTACTS_MAX(net->k) + 1;
  uint32_t *tmp = g_try_malloc_n(cap, sizeof *tmp);
  uint8_t *key = g_try_malloc_n(cap, sizeof *key);
  g_return_val_if_fail(net->contacts != NULL, DHT_EINVAL);
  g_free(net->own_bucket);
  net->own_bucket = g_try_malloc_n(net->n, sizeof *net->own_bucket);
  if (tmp == NULL || key == NULL || net->own_bucket == NULL) {
    g_free(tmp);
    g_free(key);
    g_free(net->own_bucket);
    net->own_bucket = NULL;
    return DHT_ENOMEM;
  }
  for (uint32_t x = 0; x < net->n; x++) {
    uint32_t *cs = net->contacts + net->contact_off[x];
    size_t c = (size_t)(net->contact_off[x + 1] - net->contact_off[x]), at[DHT_ID_BITS + 2] = {0}, suffix = 0;
    unsigned b = DHT_ID_BITS + 1;
    bool sorted = true;
    g_assert(c < cap);
    for (size_t j = 0; j < c; j++) { /* shared lengths < 160: IDs are unique and no node lists itself */
      key[j] = (uint8_t)id_cpl(&net->ids[cs[j]], &net->ids[x]);
      at[key[j]]++;
    }
    while (b > 0 && suffix + at[b - 1] <= net->k) /* smallest b with at most K contacts sharing >= b bits */
      suffix += at[--b];
    for (size_t j = 0; j < c; j++)
      key[j] = key[j] < b ? key[j] : (uint8_t)b;
    for (size_t j = 1; j < c && sorted; j++)
      sorted = key[j - 1] <= key[j];
    net->own_bucket[x] = (uint8_t)b;
    if (sorted)
      continue;
    memset(at, 0, sizeof at); /* stable counting sort by key: at[v] = first slot of key v */
    for (size_t j = 0; j < c; j++)
      at[key[j] + 1]++;
    for (unsigned v = 0; v <= b; v++)
      at[v + 1] += at[v];
    for (size_t j = 0; j < c; j++)
      tmp[at[key[j]]++] = cs[j];
    memcpy(cs, tmp, c * sizeof *cs);
  }
  g_free(tmp);
  g_free(key);
  return DHT_OK;
}

/* First j in [lo, hi) whose contact's key min(shared bits with x, b) is >= v
 * (keys are non-decreasing: bucket order). O(log(hi - lo)) ID reads. */
static size_t bucket_lb(const sim_network *net, const uint32_t *cs, const dht_id *xid, unsigned b, size_t lo,
                        size_t hi, unsigned v) {
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    unsigned kk = id_cpl(&net->ids[cs[mid]], xid);
    if ((kk < b ? kk : b) < v)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* Materialised contacts in bucket order, own bucket b. With q = min(p, b), p
 * the bits the target shares with the node, the groups, each strictly closer
 * than the next (see closest_ondemand): the bucket of key q, the deeper ones
 * (key > q) together, then the buckets of key q-1, q-2, ..., 0. Each is
 * selected by distance and appended until count are out: two binary searches
 * and about count ID reads when bucket q is full, instead of every contact. */
static size_t closest_buckets(const sim_network *net, uint32_t node, const dht_id *target, uint32_t *out,
                              size_t count) {
  const uint32_t *cs = net->contacts + net->contact_off[node];
  const dht_id *xid = &net->ids[node];
  size_t c = (size_t)(net->contact_off[node + 1] - net->contact_off[node]), m, lo, hi;
  unsigned b = net->own_bucket[node], p = id_cpl(xid, target), q = p < b ? p : b;
  lo = bucket_lb(net, cs, xid, b, 0, c, q);
  hi = q < b ? bucket_lb(net, cs, xid, b, lo, c, q + 1) : c;
  m = select_closest(net, false, target, cs + lo, hi - lo, out, count);
  if (m < count)
    m += select_closest(net, false, target, cs + hi, c - hi, out + m, count - m);
  while (m < count && lo > 0) {
    unsigned kk = id_cpl(&net->ids[cs[lo - 1]], xid);
    size_t from = bucket_lb(net, cs, xid, b, 0, lo, kk < b ? kk : b);
    m += select_closest(net, false, target, cs + from, lo - from, out + m, count - m);
    lo = from;
  }
  return m;
}

/* The contacts cs[j] with cp[j] == v (j < c) into g, in table order; how many. */
static size_t gather_eq(const uint8_t *cp, const uint32_t *cs, size_t c, unsigned v, uint32_t *g) {
  size_t n = 0;
  for (size_t j = sim_network_next_byte(cp, 0, c, v); j < c; j = sim_network_next_byte(cp, j + 1, c, v))
    g[n++] = cs[j];
  return n;
}

/* A table materialised by sim/maintain.c, whose contacts share cp[j] bits
 * with the node. With p the bits the target shares with the node, the
 * groups in distance order are those with cp == p (they share > p bits with
 * the target), cp > p (exactly p), then cp == p-1, ..., 0, as for
 * closest_ondemand's buckets: the groups are read in that order until count
 * are out. The first group, bucket p, is usually full (half the targets
 * share no bit with a node): one pass over the contacts' bytes and K ID
 * reads, where selecting from the whole table read every contact's ID, a
 * random load at 10^6 nodes. Else a histogram of cp, then one gathering pass
 * per group read. Gathers into net->mbuf (sim/maintain.c's scratch, free
 * between its calls). */
static size_t closest_slot(const sim_network *net, uint32_t node, const dht_id *target, uint32_t *out,
                           size_t count) {
  uint32_t s = net->mslot[node], *g = net->mbuf;
  size_t base = (size_t)s * net->mcap, c = net->mlen[s], m, n;
  const uint32_t *cs = net->mpool + base;
  const uint8_t *cp = net->mcpl + base;
  unsigned p = dht_id_common_prefix(&net->ids[node], target), top = 0;
  n = gather_eq(cp, cs, c, p, g);
  m = select_closest(net, false, target, g, n, out, count);
  if (m == count)
    return m;
  uint32_t at[DHT_ID_BITS + 1] = {0};
  for (size_t j = 0; j < c; j++) {
    at[cp[j]]++;
    top = cp[j] > top ? cp[j] : top;
  }
  for (unsigned grp = 1; m < count && grp <= p + 1; grp++) {
    /* group 1: p < cp; 2 + i: cp == p - 1 - i */
    unsigned lo = grp == 1 ? p + 1 : p + 1 - grp, hi = grp == 1 ? top : lo;
    size_t size = 0;
    for (unsigned v = lo; v <= hi; v++)
      size += at[v];
    if (size == 0)
      continue;
    n = 0;
    if (lo == hi)
      n = gather_eq(cp, cs, c, lo, g);
    else
      for (size_t j = 0; j < c && n < size; j++)
        if (cp[j] >= lo && cp[j] <= hi)
          g[n++] = cs[j];
    m += select_closest(net, false, target, g, n, out + m, count - m);
  }
  return m;
}

size_t sim_network_closest(const sim_network *net, uint32_t node, const dht_id *target, uint32_t *out,
                           size_t count) {
  g_return_val_if_fail(net != NULL && target != NULL && (out != NULL || count == 0), 0);
  g_return_val_if_fail(node < net->n, 0);
  if (count == 0)
    return 0;
  if (net->mslot != NULL && net->mslot[node] != SIM_NET_NO_SLOT) /* changed during the run */
    return closest_slot(net, node, target, out, count);
  if (net->contacts == NULL)
    return closest_ondemand(net, node, target, out, count);
  if (net->own_bucket != NULL)
    return closest_buckets(net, node, target, out, count);
  return select_closest(net, false, target, net->contacts + net->contact_off[node],
                        (size_t)(net->contact_off[node + 1] - net->contact_off[node]), out, count);
}

size_t sim_network_select(const sim_network *net, const dht_id *target, const uint32_t *cs, size_t c, uint32_t *out,
                          size_t count) {
  return select_closest(net, false, target, cs, c, out, count);
}

/* True-closest search state: appends to out in distance order. */
typedef struct tc_ctx {
  const sim_network *net;
  const dht_id *t;
  uint64_t t64;
  uint8_t skip;
  uint32_t *out;
  size_t count, len;
} tc_ctx;

#define TC_LEAF 16

/* The nodes of [lo, hi) (sharing bits 0..d-1 with each other) in distance order:
 * the half agreeing with the target on bit d first. Stops once count are out.
 * Above dir_bits each level is one dir read. */
static void tc_visit(tc_ctx *c, uint32_t lo, uint32_t hi, unsigned d) {
  const sim_network *net = c->net;
  uint32_t m;
  if (c->len == c->count || lo == hi)
    return;
  if (hi - lo <= TC_LEAF || d >= DHT_ID_BITS) {
    uint32_t buf[TC_LEAF];
    size_t nb = 0;
    g_assert(hi - lo <= TC_LEAF);
    for (uint32_t p = lo; p < hi; p++) { /* insertion sort of positions by distance */
      size_t i = nb++;
      if (net->flags[net->by_id[p]] & c->skip) {
        nb--;
        continue;
      }
      while (i > 0 && farther(net, true, c->t, c->t64, buf[i - 1], p)) {
        buf[i] = buf[i - 1];
        i--;
      }
      buf[i] = p;
    }
    for (size_t i = 0; i < nb && c->len < c->count; i++)
      c->out[c->len++] = net->by_id[buf[i]];
    return;
  }
  m = split_at(net, lo, hi, d);
  if (id_bit(c->t, d) == 0) {
    tc_visit(c, lo, m, d + 1);
    tc_visit(c, m, hi, d + 1);
  } else {
    tc_visit(c, m, hi, d + 1);
    tc_visit(c, lo, m, d + 1);
  }
}

size_t sim_network_true_closest(const sim_network *net, const dht_id *target, uint8_t skip_flags, uint32_t *out,
                                size_t count) {
  tc_ctx c;
  g_return_val_if_fail(net != NULL && target != NULL && (out != NULL || count == 0), 0);
  c.net = net;
  c.t = target;
  c.t64 = id_hi64(target);
  c.skip = skip_flags;
  c.out = out;
  c.count = count;
  c.len = 0;
  tc_visit(&c, 0, net->n, 0);
  return c.len;
}

int sim_network_find_addr(const sim_network *net, const dht_addr *addr, uint32_t *idx) {
  uint32_t lo = 0, hi;
  g_return_val_if_fail(net != NULL && addr != NULL, DHT_EINVAL);
  /* Generated networks put node i at 10.x.y.z:6881 + (i >> 24) with x.y.z the
   * low 24 bits of i: try that node first (one compare instead of a binary
   * search whose ~log2 n steps each miss the cache twice). Addresses are
   * unique, so a match is the answer the search would give; any other address
   * falls through to the search (or, generated, is nobody's). */
  if (addr->family == DHT_AF_INET4) {
    uint32_t top = addr->port >= SIM_NET_PORT ? (uint32_t)(addr->port - SIM_NET_PORT) & 255u : 0;
    uint32_t guess = top << 24 | (uint32_t)addr->ip[1] << 16 | (uint32_t)addr->ip[2] << 8 | addr->ip[3];
    if (guess < net->n && dht_addr_eq(&net->addrs[guess], addr)) {
      if (idx != NULL)
        *idx = guess;
      return DHT_OK;
    }
  }
  if (net->by_addr == NULL)
    return DHT_ENOENT;
  hi = net->n;
  while (lo < hi) { /* first position whose address is >= addr */
    uint32_t mid = lo + (hi - lo) / 2;
    if (dht_addr_cmp(&net->addrs[net->by_addr[mid]], addr) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == net->n || !dht_addr_eq(&net->addrs[net->by_addr[lo]], addr))
    return DHT_ENOENT;
  if (idx != NULL)
    *idx = net->by_addr[lo];
  return DHT_OK;
}

/* ---------------------------------------------------------- checks */

/* by_id strictly increasing by ID (so a permutation: its entries are < n and
 * distinct), skey its prefixes, dir the first position of each cell. */
static bool check_order(const sim_network *net) {
  size_t cells = (size_t)1 << net->dir_bits;
  if (net->dir == NULL || net->dir[0] != 0 || net->dir[cells] != net->n)
    return false;
  for (uint32_t p = 0; p < net->n; p++) {
    uint32_t v = net->by_id[p];
    if (v >= net->n || net->skey[p] != id_hi64(&net->ids[v]))
      return false;
    if (p > 0 && cmp_ids(net, net->by_id[p - 1], v) >= 0)
      return false;
  }
  for (size_t j = 0; j < cells; j++) {
    if (net->dir[j] > net->dir[j + 1])
      return false;
    for (uint32_t p = net->dir[j]; p < net->dir[j + 1]; p++)
      if (dir_cell(net, net->skey[p]) != j)
        return false;
  }
  return true;
}

bool sim_network_check(const sim_network *net) {
  if (net == NULL || net->n == 0 || !check_order(net))
    return false;
  if ((net->contacts == NULL) != (net->scratch != NULL) || (net->contacts == NULL && net->contact_off != NULL))
    return false;
  if (net->by_addr != NULL)
    return net->contacts != NULL;
  for (uint32_t i = 0; i < net->n; i++) { /* the addresses name the nodes (sim_network_addr computes them) */
    dht_addr a;
    sim_network_node_addr(&a, i);
    if (!dht_addr_eq(&a, &net->addrs[i]))
      return false;
  }
  return true;
}

/* ---------------------------------------------------------- estimate */

/* Mean contacts per node of full tables, bounded above: measured means are
 * K (log2(n/K) + c0) with c0 in 0.3..0.99 for K = 1..256 (buckets below the own
 * depth hold K, the deepest of them fewer, the own bucket <= K); 1.2 is used. */
static uint64_t full_contacts_bound(uint64_t n, unsigned k) {
  if (n <= (uint64_t)k + 1)
    return n - 1;
  return (uint64_t)ceil((double)k * (log2((double)n / k) + 1.2));
}

uint64_t sim_network_estimate_bytes_layout(uint64_t n, unsigned k, sim_tables_kind kind, bool ondemand) {
  uint64_t contacts, scratch_sort = SIM_NETWORK_INDEX_BYTES * n;
  if (n == 0)
    return 0;
  if (ondemand)
    return ((uint64_t)2 << 20) + SIM_NETWORK_ONDEMAND_NODE_BYTES * (n + 1) + 8ull * SIM_CONTACTS_MAX(k);
  if (kind == SIM_TABLES_FULL)
    contacts = n * full_contacts_bound(n, k);
  else
    contacts = n * random_contacts_bound(n, k) + 4ull * k;
  return ((uint64_t)2 << 20) + SIM_NETWORK_NODE_BYTES * (n + 1) +
         (scratch_sort > 4 * contacts ? scratch_sort : 4 * contacts);
}

/* Peak bytes of the network a run builds (sim_network_generate_ondemand, either
 * kind): the per-node arrays (SIM_NETWORK_ONDEMAND_NODE_BYTES; the ID sort
 * needs no other scratch), plus one table's scratch and 2 MiB for the process.
 * Measured against peak RSS: see bench/bench.c and docs/performance.md. The
 * materialised layout (ondemand false): the per-node arrays plus the larger
 * of the address sort's scratch (freed before the tables are built) and the
 * contacts (4 B each, at the bounds of the means above). */
uint64_t sim_network_estimate_bytes(uint64_t n, unsigned k, sim_tables_kind kind) {
  return sim_network_estimate_bytes_layout(n, k, kind, true);
}
