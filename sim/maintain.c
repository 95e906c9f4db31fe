/* maintain.c: materialised routing tables under passive maintenance (maintain.h). */
#include "maintain.h"

#include <assert.h>
#include <glib.h>
#include <string.h>

#include "error.h"
#include "routing_table.h"

/* Bits a and b share (160 if equal). */
static unsigned cpl(const dht_id *a, const dht_id *b) { return dht_id_common_prefix(a, b); }

int sim_maint_init(sim_network *net) {
  g_return_val_if_fail(net->mslot == NULL, DHT_EINVAL);
  net->mslot = g_try_malloc_n(net->n, sizeof *net->mslot);
  /* a table's node indices, then the bits each shares with its node */
  net->mbuf = g_try_new(uint32_t, SIM_CONTACTS_MAX(net->k) + 1 + (SIM_CONTACTS_MAX(net->k) + 3) / 4);
  if (net->mslot == NULL || net->mbuf == NULL)
    return DHT_ENOMEM; /* sim_network_clear frees either */
  memset(net->mslot, 0xff, (size_t)net->n * sizeof *net->mslot); /* SIM_NET_NO_SLOT */
  /* A table of n nodes has about log2(n/K) + 1 buckets of at most K: room
   * for 4 more than log2(n) of them (a contact beyond is dropped, as a full
   * bucket's), at most the 160 buckets of an ID. */
  unsigned lg = 1;
  while (lg < 32 && ((uint64_t)1 << lg) < net->n)
    lg++;
  size_t cap = (size_t)net->k * (lg + 4);
  net->mcap = (uint32_t)(cap < SIM_CONTACTS_MAX(net->k) ? cap : SIM_CONTACTS_MAX(net->k));
  return DHT_OK;
}

/* The own bucket of a table whose contacts share cp[0..c) bits with its
 * node: the smallest b with at most K contacts sharing >= b bits. */
static unsigned own_bucket(const sim_network *net, const uint8_t *cp, size_t c) {
  unsigned at[DHT_ID_BITS + 1] = {0}, b = DHT_ID_BITS;
  size_t suffix = 0;
  for (size_t j = 0; j < c; j++)
    at[cp[j]]++;
  while (b > 0 && suffix + at[b - 1] <= net->k)
    suffix += at[--b];
  return b < DHT_ID_BITS ? b : DHT_ID_BITS - 1;
}

/* A new slot for owner, from its generated table, c contacts in net->mbuf. */
static int materialise(sim_network *net, uint32_t owner, size_t c, uint32_t *out) {
  uint32_t s;
  if (net->mslots == net->mslots_cap) {
    /* Doubling, but never past one slot per node (each node has at most
     * one): the memory estimate counts min(n, twice the changed tables). */
    uint64_t want = net->mslots_cap ? (uint64_t)net->mslots_cap * 2 : 256;
    uint32_t ncap = (uint32_t)(want < net->n ? want : net->n);
    if (ncap <= net->mslots_cap || (uint64_t)ncap * net->mcap > SIZE_MAX / 4)
      return DHT_ENOMEM;
    uint32_t *pool = g_try_renew(uint32_t, net->mpool, (size_t)ncap * net->mcap);
    if (pool == NULL)
      return DHT_ENOMEM;
    net->mpool = pool;
    uint8_t *fail = g_try_renew(uint8_t, net->mfail, (size_t)ncap * net->mcap);
    if (fail == NULL)
      return DHT_ENOMEM;
    net->mfail = fail;
    uint8_t *cp = g_try_renew(uint8_t, net->mcpl, (size_t)ncap * net->mcap);
    if (cp == NULL)
      return DHT_ENOMEM;
    net->mcpl = cp;
    uint16_t *len = g_try_renew(uint16_t, net->mlen, ncap);
    if (len == NULL)
      return DHT_ENOMEM;
    net->mlen = len;
    uint8_t *depth = g_try_renew(uint8_t, net->mdepth, ncap);
    if (depth == NULL)
      return DHT_ENOMEM;
    net->mdepth = depth;
    if (net->mtimes) {
      uint32_t *seen = g_try_renew(uint32_t, net->mseen, (size_t)ncap * net->mcap);
      if (seen == NULL)
        return DHT_ENOMEM;
      net->mseen = seen;
    }
    net->mslots_cap = ncap; /* only once every array has grown: consistent on failure */
  }
  uint32_t *buf = net->mbuf;
  s = net->mslots++;
  /* The generated table, the bits each contact shares with owner (into the
   * scratch past it), its own bucket and, past the slot's room (never for a
   * generated table of a network this size, by the bound above), cut. */
  uint8_t *cp = (uint8_t *)(buf + SIM_CONTACTS_MAX(net->k) + 1);
  for (size_t j = 0; j < c; j++)
    cp[j] = (uint8_t)cpl(&net->ids[owner], &net->ids[buf[j]]);
  net->mdepth[s] = (uint8_t)own_bucket(net, cp, c);
  if (c > net->mcap)
    c = net->mcap;
  memcpy(net->mpool + (size_t)s * net->mcap, buf, c * sizeof *buf);
  memcpy(net->mcpl + (size_t)s * net->mcap, cp, c);
  memset(net->mfail + (size_t)s * net->mcap, 0, c);
  if (net->mtimes) /* built at t = 0: last heard of then */
    memset(net->mseen + (size_t)s * net->mcap, 0, c * sizeof *net->mseen);
  net->mlen[s] = (uint16_t)c;
  net->mslot[owner] = s;
  *out = s;
  return DHT_OK;
}

/* owner's slot, materialised from its generated table on first use. */
static int slot_of(sim_network *net, uint32_t owner, uint32_t *out) {
  uint32_t s = net->mslot[owner];
  if (s != SIM_NET_NO_SLOT) {
    *out = s;
    return DHT_OK;
  }
  return materialise(net, owner, sim_network_table(net, owner, net->mbuf), out);
}

/* Index of node, sharing c bits with the slot's owner, in slot s, or -1;
 * *same (if not NULL): then, how many contacts share c bits. Only those are
 * compared, found by memchr over the contacts' bytes (vector code; at most
 * K + 1 of them outside the own bucket). */
static long find(const sim_network *net, uint32_t s, uint32_t node, unsigned c, unsigned *same) {
  const uint32_t *cs = net->mpool + (size_t)s * net->mcap;
  const uint8_t *cp = net->mcpl + (size_t)s * net->mcap;
  size_t len = net->mlen[s];
  unsigned n = 0;
  for (size_t j = sim_network_next_byte(cp, 0, len, c); j < len; j = sim_network_next_byte(cp, j + 1, len, c)) {
    if (cs[j] == node)
      return (long)j;
    n++;
  }
  if (same != NULL)
    *same = n;
  return -1;
}

/* Contacts of slot s sharing at least d bits with its owner. */
static unsigned count_from(const sim_network *net, uint32_t s, unsigned d) {
  const uint8_t *cp = net->mcpl + (size_t)s * net->mcap;
  unsigned n = 0;
  for (uint32_t j = 0; j < net->mlen[s]; j++) /* branch-free: vectorised */
    n += cp[j] >= d;
  return n;
}

int sim_maint_init_times(sim_network *net) {
  g_return_val_if_fail(net->mslot != NULL && net->mslots == 0, DHT_EINVAL);
  net->mtimes = true; /* mseen grows with the pool */
  return DHT_OK;
}

/* Bucket of a contact sharing c bits with the owner, in a table whose own bucket is depth. */
static unsigned bucket_of(unsigned c, unsigned depth) { return c < depth ? c : depth; }

int sim_maint_offer(sim_network *net, uint32_t owner, uint32_t node, uint32_t now_s, uint32_t *ping) {
  return sim_maint_offer_cpl(net, owner, node, SIM_MAINT_CPL_UNKNOWN, now_s, ping);
}

/* c, or the bits owner and node share when c is unknown. */
static unsigned known_cpl(const sim_network *net, uint32_t owner, uint32_t node, unsigned c) {
  if (c == SIM_MAINT_CPL_UNKNOWN)
    return cpl(&net->ids[owner], &net->ids[node]);
  assert(c == cpl(&net->ids[owner], &net->ids[node]));
  return c;
}

int sim_maint_offer_cpl(sim_network *net, uint32_t owner, uint32_t node, unsigned known, uint32_t now_s,
                        uint32_t *ping) {
  uint32_t s;
  int rc;
  if (ping != NULL)
    *ping = SIM_MAINT_NONE;
  if (owner == node)
    return DHT_OK;
  if ((rc = slot_of(net, owner, &s)) < 0)
    return rc;
  size_t base = (size_t)s * net->mcap;
  unsigned c = known_cpl(net, owner, node, known);
  unsigned same = 0;
  long at = find(net, s, node, c, &same);
  if (at >= 0) {
    net->mfail[base + (size_t)at] = 0; /* good again; an outstanding ping is answered by this */
    if (net->mtimes)
      net->mseen[base + (size_t)at] = now_s;
    return DHT_OK;
  }
  uint32_t *cs = net->mpool + base;
  const uint8_t *cp = net->mcpl + base;
  for (;;) {
    /* Bucket c below the own one holds the contacts sharing exactly c bits. */
    unsigned depth = net->mdepth[s], b = bucket_of(c, depth), in = c < depth ? same : count_from(net, s, depth);
    if (in < net->k) {
      if (net->mlen[s] == net->mcap)
        return DHT_OK; /* the slot is full: dropped */
      cs[net->mlen[s]] = node;
      net->mcpl[base + net->mlen[s]] = (uint8_t)c;
      net->mfail[base + net->mlen[s]] = 0;
      if (net->mtimes)
        net->mseen[base + net->mlen[s]] = now_s;
      net->mlen[s]++;
      net->madded++;
      return DHT_OK;
    }
    if (b != depth || depth + 1 >= DHT_ID_BITS)
      break; /* a full bucket that cannot split */
    net->mdepth[s] = (uint8_t)(depth + 1); /* the own bucket splits: recount */
  }
  /* BEP 5: "If there are any questionable nodes in the bucket have not been
   * seen in the last 15 minutes, the least recently seen node is pinged";
   * without one (or while a ping of this bucket is outstanding) the node is
   * discarded. bad nodes are already gone (evicted at their second failure). */
  if (!net->mtimes || ping == NULL)
    return DHT_OK;
  unsigned depth = net->mdepth[s], b = bucket_of(c, depth);
  long lrs = -1;
  for (uint32_t j = 0; j < net->mlen[s]; j++) {
    if (bucket_of(cp[j], depth) != b)
      continue;
    if (net->mfail[base + j] & SIM_MAINT_PINGING)
      return DHT_OK; /* one ping per bucket at a time */
    if ((uint64_t)net->mseen[base + j] + SIM_MAINT_QUESTIONABLE_S <= now_s &&
        (lrs < 0 || net->mseen[base + j] < net->mseen[base + (size_t)lrs]))
      lrs = (long)j;
  }
  if (lrs >= 0) {
    net->mfail[base + (size_t)lrs] |= SIM_MAINT_PINGING;
    *ping = cs[lrs];
  }
  return DHT_OK;
}

int sim_maint_seen(sim_network *net, uint32_t owner, uint32_t node) {
  return sim_maint_offer(net, owner, node, 0, NULL);
}

int sim_maint_fail(sim_network *net, uint32_t owner, uint32_t node, bool *evicted) {
  return sim_maint_fail_cpl(net, owner, node, SIM_MAINT_CPL_UNKNOWN, evicted);
}

int sim_maint_fail_cpl(sim_network *net, uint32_t owner, uint32_t node, unsigned known, bool *evicted) {
  uint32_t s;
  int rc;
  if (evicted != NULL)
    *evicted = false;
  if ((s = net->mslot[owner]) == SIM_NET_NO_SLOT) {
    /* Not materialised: only if its generated table lists node. */
    uint32_t *buf = net->mbuf;
    bool listed = false;
    size_t c = sim_network_table(net, owner, buf);
    for (size_t j = 0; j < c && !listed; j++)
      listed = buf[j] == node;
    if (!listed)
      return DHT_OK;
    if ((rc = materialise(net, owner, c, &s)) < 0)
      return rc;
  }
  long at = find(net, s, node, known_cpl(net, owner, node, known), NULL);
  if (at < 0)
    return DHT_OK;
  size_t base = (size_t)s * net->mcap;
  uint8_t f = (uint8_t)((net->mfail[base + (size_t)at] & ~SIM_MAINT_PINGING) + 1); /* a ping's end */
  net->mfail[base + (size_t)at] = f;
  if (f < DHT_RT_BAD_FAILURES)
    return DHT_OK;
  /* Bad: evicted; the last contact takes its place (the order of a
   * materialised table is its own, closest() sorts by distance). */
  uint32_t last = net->mlen[s] - 1u;
  net->mpool[base + (size_t)at] = net->mpool[base + last];
  net->mfail[base + (size_t)at] = net->mfail[base + last];
  net->mcpl[base + (size_t)at] = net->mcpl[base + last];
  if (net->mtimes)
    net->mseen[base + (size_t)at] = net->mseen[base + last];
  net->mlen[s] = (uint16_t)last;
  if (evicted != NULL)
    *evicted = true;
  return DHT_OK;
}

int sim_maint_failed(sim_network *net, uint32_t owner, uint32_t node) { return sim_maint_fail(net, owner, node, NULL); }

void sim_maint_pinging(sim_network *net, uint32_t owner, uint32_t node) {
  uint32_t s = net->mslot[owner];
  long at = s != SIM_NET_NO_SLOT ? find(net, s, node, cpl(&net->ids[owner], &net->ids[node]), NULL) : -1;
  if (at >= 0)
    net->mfail[(size_t)s * net->mcap + (size_t)at] |= SIM_MAINT_PINGING;
}

int sim_maint_idle_buckets(sim_network *net, uint32_t owner, uint32_t now_s, uint8_t *idle, unsigned *n_idle,
                           uint32_t *next_s) {
  uint32_t s, last[DHT_ID_BITS] = {0};
  int rc;
  g_return_val_if_fail(net->mtimes, DHT_EINVAL);
  if ((rc = slot_of(net, owner, &s)) < 0)
    return rc;
  size_t base = (size_t)s * net->mcap;
  unsigned depth = net->mdepth[s];
  /* A bucket's "last changed" (BEP 5) is its latest contact activity: an
   * addition, an answer, a query from it; an empty bucket has none (0). */
  for (uint32_t j = 0; j < net->mlen[s]; j++) {
    unsigned b = bucket_of(net->mcpl[base + j], depth);
    if (net->mseen[base + j] > last[b])
      last[b] = net->mseen[base + j];
  }
  uint64_t next = (uint64_t)now_s + SIM_MAINT_QUESTIONABLE_S; /* a bucket refreshed now: due again then */
  *n_idle = 0;
  for (unsigned b = 0; b <= depth; b++) {
    uint64_t due = (uint64_t)last[b] + SIM_MAINT_QUESTIONABLE_S;
    if (due <= now_s)
      idle[(*n_idle)++] = (uint8_t)b;
    else if (due < next)
      next = due;
  }
  *next_s = next > UINT32_MAX ? UINT32_MAX : (uint32_t)next;
  return DHT_OK;
}

void sim_maint_bucket_id(const sim_network *net, uint32_t owner, unsigned b, dht_rng *rng, dht_id *out) {
  const dht_id *x = &net->ids[owner];
  uint32_t s = net->mslot[owner];
  unsigned depth = s != SIM_NET_NO_SLOT ? net->mdepth[s] : DHT_ID_BITS - 1;
  dht_id_random(out, rng);
  /* The first b bits are the owner's; bit b differs, except in the own
   * bucket (b == depth), which holds every ID sharing at least depth bits. */
  for (unsigned i = 0; i < b; i++) {
    unsigned byte = i / 8, bit = 7 - i % 8;
    out->b[byte] = (uint8_t)((out->b[byte] & ~(1u << bit)) | (x->b[byte] & (1u << bit)));
  }
  if (b < depth && b < DHT_ID_BITS) {
    unsigned byte = b / 8, bit = 7 - b % 8;
    out->b[byte] = (uint8_t)((out->b[byte] & ~(1u << bit)) | (~x->b[byte] & (1u << bit)));
  }
}
