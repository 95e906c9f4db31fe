/* maintain.c: materialised routing tables under passive maintenance (maintain.h). */
#include "maintain.h"

#include <glib.h>
#include <string.h>

#include "error.h"
#include "routing_table.h"

/* Bits a and b share (160 if equal). */
static unsigned cpl(const dht_id *a, const dht_id *b) { return dht_id_common_prefix(a, b); }

int sim_maint_init(sim_network *net) {
  g_return_val_if_fail(net->mslot == NULL, DHT_EINVAL);
  net->mslot = g_try_malloc_n(net->n, sizeof *net->mslot);
  net->mbuf = g_try_new(uint32_t, SIM_CONTACTS_MAX(net->k) + 1);
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

/* The own bucket of a table: the smallest b with at most K contacts sharing >= b bits with x. */
static unsigned own_bucket(const sim_network *net, uint32_t x, const uint32_t *cs, size_t c) {
  unsigned at[DHT_ID_BITS + 1] = {0}, b = DHT_ID_BITS;
  size_t suffix = 0;
  for (size_t j = 0; j < c; j++)
    at[cpl(&net->ids[x], &net->ids[cs[j]])]++;
  while (b > 0 && suffix + at[b - 1] <= net->k)
    suffix += at[--b];
  return b < DHT_ID_BITS ? b : DHT_ID_BITS - 1;
}

/* owner's slot, materialised from its generated table on first use. */
static int slot_of(sim_network *net, uint32_t owner, uint32_t *out) {
  uint32_t s = net->mslot[owner];
  if (s != SIM_NET_NO_SLOT) {
    *out = s;
    return DHT_OK;
  }
  if (net->mslots == net->mslots_cap) {
    uint32_t ncap = net->mslots_cap ? net->mslots_cap * 2 : 256;
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
    uint16_t *len = g_try_renew(uint16_t, net->mlen, ncap);
    if (len == NULL)
      return DHT_ENOMEM;
    net->mlen = len;
    uint8_t *depth = g_try_renew(uint8_t, net->mdepth, ncap);
    if (depth == NULL)
      return DHT_ENOMEM;
    net->mdepth = depth;
    net->mslots_cap = ncap; /* only once every array has grown: consistent on failure */
  }
  uint32_t *buf = net->mbuf;
  size_t c = sim_network_table(net, owner, buf);
  s = net->mslots++;
  /* The generated table, its own bucket and, past the slot's room (never
   * for a generated table of a network this size, by the bound above), cut. */
  net->mdepth[s] = (uint8_t)own_bucket(net, owner, buf, c);
  if (c > net->mcap)
    c = net->mcap;
  memcpy(net->mpool + (size_t)s * net->mcap, buf, c * sizeof *buf);
  memset(net->mfail + (size_t)s * net->mcap, 0, c);
  net->mlen[s] = (uint16_t)c;
  net->mslot[owner] = s;
  *out = s;
  return DHT_OK;
}

/* Index of node in slot s, or -1. */
static long find(const sim_network *net, uint32_t s, uint32_t node) {
  const uint32_t *cs = net->mpool + (size_t)s * net->mcap;
  for (uint32_t j = 0; j < net->mlen[s]; j++)
    if (cs[j] == node)
      return (long)j;
  return -1;
}

int sim_maint_seen(sim_network *net, uint32_t owner, uint32_t node) {
  uint32_t s;
  int rc;
  if (owner == node)
    return DHT_OK;
  if ((rc = slot_of(net, owner, &s)) < 0)
    return rc;
  long at = find(net, s, node);
  if (at >= 0) {
    net->mfail[(size_t)s * net->mcap + (size_t)at] = 0;
    return DHT_OK;
  }
  uint32_t *cs = net->mpool + (size_t)s * net->mcap;
  const dht_id *xid = &net->ids[owner];
  unsigned c = cpl(xid, &net->ids[node]);
  for (;;) {
    unsigned depth = net->mdepth[s], b = c < depth ? c : depth, in = 0;
    for (uint32_t j = 0; j < net->mlen[s]; j++) {
      unsigned cj = cpl(xid, &net->ids[cs[j]]);
      in += (cj < depth ? cj : depth) == b;
    }
    if (in < net->k) {
      if (net->mlen[s] == net->mcap)
        return DHT_OK; /* the slot is full: dropped */
      cs[net->mlen[s]] = node;
      net->mfail[(size_t)s * net->mcap + net->mlen[s]] = 0;
      net->mlen[s]++;
      return DHT_OK;
    }
    if (b != depth || depth + 1 >= DHT_ID_BITS)
      return DHT_OK; /* a full bucket that cannot split: dropped (BEP 5) */
    net->mdepth[s] = (uint8_t)(depth + 1); /* the own bucket splits: recount */
  }
}

int sim_maint_failed(sim_network *net, uint32_t owner, uint32_t node) {
  uint32_t s;
  int rc;
  if (net->mslot[owner] == SIM_NET_NO_SLOT) {
    /* Not materialised: only if its generated table lists node. */
    uint32_t *buf = net->mbuf;
    bool listed = false;
    size_t c = sim_network_table(net, owner, buf);
    for (size_t j = 0; j < c && !listed; j++)
      listed = buf[j] == node;
    if (!listed)
      return DHT_OK;
  }
  if ((rc = slot_of(net, owner, &s)) < 0)
    return rc;
  long at = find(net, s, node);
  if (at < 0)
    return DHT_OK;
  size_t base = (size_t)s * net->mcap;
  if (++net->mfail[base + (size_t)at] < DHT_RT_BAD_FAILURES)
    return DHT_OK;
  /* Bad: evicted; the last contact takes its place (the order of a
   * materialised table is its own, closest() sorts by distance). */
  uint32_t last = net->mlen[s] - 1u;
  net->mpool[base + (size_t)at] = net->mpool[base + last];
  net->mfail[base + (size_t)at] = net->mfail[base + last];
  net->mlen[s] = (uint16_t)last;
  return DHT_OK;
}
