/* routing_table.c: the BEP 5 k-bucket routing table: prefix buckets of up to K
 * nodes around our own ID, bad-node replacement, splitting of our own bucket
 * only, and an exact allocation-free "K closest to a target" query. */
#include "routing_table.h"

#include <glib.h>
#include <limits.h>
#include <string.h>

#include "error.h"

/* Bucket 160 could only ever hold self (rejected), so a table never needs more
 * than 160 buckets, one fewer than the header's hard cap of 161. */
#define RT_MAX_BUCKETS DHT_ID_BITS

typedef struct rt_slot {
  dht_node node;
  uint32_t failures; /* consecutive failed queries; saturates at INT_MAX */
} rt_slot;

/* Storage: bucket i occupies slots[i*k .. i*k+count[i]) in insertion order, so a
 * bucket is one contiguous run and a split only appends the next bucket: the
 * slot array grows geometrically (realloc keeps every bucket in place).
 * Invariants: 1 <= nbuckets <= cap <= RT_MAX_BUCKETS; count[i] <= k;
 * size == sum(count); a node in bucket i < nbuckets-1 has common_prefix == i
 * with self, a node in the last bucket has common_prefix >= nbuckets-1. */
struct dht_rt {
  dht_id self;
  unsigned k;
  unsigned nbuckets;
  unsigned cap;    /* buckets allocated in slots */
  size_t size;     /* nodes over all buckets */
  rt_slot *slots;  /* cap * k */
  uint16_t count[RT_MAX_BUCKETS];
};

static unsigned bucket_of(const dht_rt *rt, const dht_id *id) {
  unsigned cp = dht_id_common_prefix(&rt->self, id);
  unsigned last = rt->nbuckets - 1;
  return cp < last ? cp : last;
}

static rt_slot *bucket_slots(const dht_rt *rt, unsigned b) {
  return rt->slots + (size_t)b * rt->k;
}

/* The slot holding id, or NULL. O(K): only the id's own bucket is scanned. */
static rt_slot *find_slot(const dht_rt *rt, const dht_id *id) {
  unsigned b = bucket_of(rt, id);
  rt_slot *s = bucket_slots(rt, b);
  for (unsigned j = 0; j < rt->count[b]; j++)
    if (dht_id_eq(&s[j].node.id, id))
      return &s[j];
  return NULL;
}

/* Makes room for at least `need` buckets; changes nothing observable.
 * Returns DHT_OK or DHT_ENOMEM (table untouched). */
static int reserve_buckets(dht_rt *rt, unsigned need) {
  unsigned cap;
  rt_slot *p;
  g_assert(need <= RT_MAX_BUCKETS);
  if (need <= rt->cap)
    return DHT_OK;
  cap = rt->cap * 2 > need ? rt->cap * 2 : need;
  if (cap > RT_MAX_BUCKETS)
    cap = RT_MAX_BUCKETS;
  p = g_try_realloc_n(rt->slots, (gsize)cap * rt->k, sizeof *p);
  if (p == NULL)
    return DHT_ENOMEM;
  rt->slots = p;
  rt->cap = cap;
  return DHT_OK;
}

/* Splits the last bucket L into L (nodes sharing exactly L bits with self) and
 * a new last bucket L+1 (nodes sharing more). Both keep insertion order.
 * Capacity must already be reserved. Cost O(K). */
static void split_last(dht_rt *rt) {
  unsigned last = rt->nbuckets - 1;
  rt_slot *src = bucket_slots(rt, last), *dst = bucket_slots(rt, last + 1);
  unsigned keep = 0, moved = 0;

  g_assert(last + 1 < rt->cap);
  for (unsigned j = 0; j < rt->count[last]; j++) {
    unsigned cp = dht_id_common_prefix(&rt->self, &src[j].node.id);
    g_assert(cp >= last && cp < DHT_ID_BITS);
    if (cp == last)
      src[keep++] = src[j]; /* keep <= j: compaction in place is safe */
    else
      dst[moved++] = src[j];
  }
  rt->count[last] = (uint16_t)keep;
  rt->count[last + 1] = (uint16_t)moved;
  rt->nbuckets++;
}

dht_rt *dht_rt_new(const dht_id *self, unsigned k) {
  dht_rt *rt;
  g_return_val_if_fail(self != NULL, NULL);
  /* A bad k is documented input (it may come from a config file), not a
   * programmer error: NULL without a critical. */
  if (k < 1 || k > DHT_K_MAX)
    return NULL;
  rt = g_try_new0(dht_rt, 1);
  if (rt == NULL)
    return NULL;
  /* Start with room for one bucket: tables of real networks end up with about
   * log2(N/K) + a few buckets, reached by doubling. */
  rt->slots = g_try_new(rt_slot, k);
  if (rt->slots == NULL) {
    g_free(rt);
    return NULL;
  }
  rt->self = *self;
  rt->k = k;
  rt->nbuckets = 1;
  rt->cap = 1;
  return rt;
}

void dht_rt_free(dht_rt *rt) {
  if (rt == NULL)
    return;
  g_free(rt->slots);
  g_free(rt);
}

int dht_rt_add(dht_rt *rt, const dht_node *node) {
  rt_slot *s;
  unsigned b, cp;
  bool reserved = false;

  g_return_val_if_fail(rt != NULL && node != NULL, DHT_EINVAL);
  cp = dht_id_common_prefix(&rt->self, &node->id);
  if (cp == DHT_ID_BITS)
    return DHT_RT_SELF;
  s = find_slot(rt, &node->id);
  if (s != NULL) {
    s->node.addr = node->addr;
    s->failures = 0;
    return DHT_RT_REFRESHED;
  }

  for (;;) {
    rt_slot *bs;
    rt_slot *worst = NULL;
    b = bucket_of(rt, &node->id);
    bs = bucket_slots(rt, b);
    if (rt->count[b] < rt->k) {
      bs[rt->count[b]].node = *node;
      bs[rt->count[b]].failures = 0;
      rt->count[b]++;
      rt->size++;
      return DHT_RT_ADDED;
    }
    /* Full: the worst bad node (most failures, earliest on ties) goes first. */
    for (unsigned j = 0; j < rt->k; j++)
      if (bs[j].failures >= DHT_RT_BAD_FAILURES && (worst == NULL || bs[j].failures > worst->failures))
        worst = &bs[j];
    if (worst != NULL) {
      worst->node = *node;
      worst->failures = 0;
      return DHT_RT_REPLACED;
    }
    if (b != rt->nbuckets - 1 || rt->nbuckets >= RT_MAX_BUCKETS)
      return DHT_RT_FULL;
    if (!reserved) {
      /* Splitting stops once the node's bucket is no longer the last, i.e. at
       * the latest when the last bucket index is cp+1: reserve that many now so
       * that no split happens unless the whole add can complete. */
      unsigned need = cp + 2 < RT_MAX_BUCKETS ? cp + 2 : RT_MAX_BUCKETS;
      if (reserve_buckets(rt, need) != DHT_OK)
        return DHT_ENOMEM;
      reserved = true;
    }
    split_last(rt);
  }
}

int dht_rt_failed(dht_rt *rt, const dht_id *id) {
  rt_slot *s;
  g_return_val_if_fail(rt != NULL && id != NULL, DHT_EINVAL);
  s = find_slot(rt, id);
  if (s == NULL)
    return DHT_ENOENT;
  if (s->failures < INT_MAX)
    s->failures++;
  return (int)s->failures;
}

int dht_rt_answered(dht_rt *rt, const dht_id *id) {
  rt_slot *s;
  g_return_val_if_fail(rt != NULL && id != NULL, DHT_EINVAL);
  s = find_slot(rt, id);
  if (s == NULL)
    return DHT_ENOENT;
  s->failures = 0;
  return DHT_OK;
}

int dht_rt_failures(const dht_rt *rt, const dht_id *id) {
  const rt_slot *s;
  g_return_val_if_fail(rt != NULL && id != NULL, DHT_EINVAL);
  s = find_slot(rt, id);
  return s == NULL ? DHT_ENOENT : (int)s->failures;
}

/* ---- closest: bounded max-heap (farthest at the root) inside out[] ---- */

static bool farther(const dht_id *t, const dht_node *a, const dht_node *b) {
  return dht_id_distance_cmp(t, &a->id, &b->id) > 0;
}

static void sift_down(const dht_id *t, dht_node *h, size_t n, size_t i) {
  for (;;) {
    size_t l = 2 * i + 1, m = i;
    if (l < n && farther(t, &h[l], &h[m]))
      m = l;
    if (l + 1 < n && farther(t, &h[l + 1], &h[m]))
      m = l + 1;
    if (m == i)
      return;
    dht_node tmp = h[i];
    h[i] = h[m];
    h[m] = tmp;
    i = m;
  }
}

static void sift_up(const dht_id *t, dht_node *h, size_t i) {
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (!farther(t, &h[i], &h[p]))
      return;
    dht_node tmp = h[i];
    h[i] = h[p];
    h[p] = tmp;
    i = p;
  }
}

/* Offers every node of bucket b to a heap of at most room nodes. O(K log room). */
static void heap_offer_bucket(const dht_rt *rt, const dht_id *t, unsigned b,
                              dht_node *h, size_t *n, size_t room) {
  const rt_slot *s = bucket_slots(rt, b);
  for (unsigned j = 0; j < rt->count[b]; j++) {
    if (*n < room) {
      h[*n] = s[j].node;
      sift_up(t, h, *n);
      (*n)++;
    } else if (farther(t, &h[0], &s[j].node)) {
      h[0] = s[j].node;
      sift_down(t, h, *n, 0);
    }
  }
}

/* Heap sort of a max-heap into ascending distance, in place. O(n log n). */
static void heap_sort(const dht_id *t, dht_node *h, size_t n) {
  while (n > 1) {
    dht_node tmp = h[0];
    h[0] = h[n - 1];
    h[n - 1] = tmp;
    sift_down(t, h, --n, 0);
  }
}

/* Buckets form groups of strictly increasing distance to t. With c =
 * common_prefix(self, t) and L the last bucket:
 *   - c >= L: bucket L first (distance prefix >= L), then L-1, ..., 0;
 *   - c < L: bucket c first (they agree with t on bit c), then buckets
 *     c+1..L together (all share exactly c bits with t), then c-1, ..., 0
 *     (a node of bucket i < c shares exactly i bits with t).
 * Each group is fed to a max-heap that lives in the unused tail of out; once a
 * group is complete and the output is full, farther groups cannot contribute.
 * No allocation; cost O(visited * log count). */
size_t dht_rt_closest(const dht_rt *rt, const dht_id *target, dht_node *out, size_t count) {
  unsigned last, c;
  size_t done = 0;

  g_return_val_if_fail(rt != NULL && target != NULL, 0);
  g_return_val_if_fail(out != NULL || count == 0, 0);
  last = rt->nbuckets - 1;
  c = dht_id_common_prefix(&rt->self, target);

  for (int step = 0; done < count; step++) {
    /* Group `step`: a range [lo, hi] of buckets. */
    unsigned lo, hi;
    size_t n = 0, room = count - done;
    if (c >= last) {
      if ((unsigned)step > last)
        break;
      lo = hi = last - (unsigned)step;
    } else if (step == 0) {
      lo = hi = c;
    } else if (step == 1) {
      lo = c + 1;
      hi = last;
    } else {
      if ((unsigned)step - 2 >= c)
        break;
      lo = hi = c - 1 - ((unsigned)step - 2);
    }
    for (unsigned b = lo; b <= hi; b++)
      heap_offer_bucket(rt, target, b, out + done, &n, room);
    heap_sort(target, out + done, n);
    done += n;
  }
  return done;
}

size_t dht_rt_size(const dht_rt *rt) {
  g_return_val_if_fail(rt != NULL, 0);
  return rt->size;
}

unsigned dht_rt_bucket_count(const dht_rt *rt) {
  g_return_val_if_fail(rt != NULL, 0);
  return rt->nbuckets;
}

unsigned dht_rt_k(const dht_rt *rt) {
  g_return_val_if_fail(rt != NULL, 0);
  return rt->k;
}

const dht_id *dht_rt_self(const dht_rt *rt) {
  g_return_val_if_fail(rt != NULL, NULL);
  return &rt->self;
}

size_t dht_rt_bucket_nodes(const dht_rt *rt, unsigned i, dht_node *out) {
  const rt_slot *s;
  g_return_val_if_fail(rt != NULL && out != NULL, 0);
  g_return_val_if_fail(i < rt->nbuckets, 0);
  s = bucket_slots(rt, i);
  for (unsigned j = 0; j < rt->count[i]; j++)
    out[j] = s[j].node;
  return rt->count[i];
}
