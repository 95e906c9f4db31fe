/* mock_network.c: see mock_network.h. Test code: allocation failures abort
 * (g_new), costs are brute force where the sizes are small. */
#include "mock_network.h"

#include <criterion/criterion.h>
#include "criterion_assert.h"
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

/* ---- small constructors ------------------------------------------------ */

dht_addr mock_addr(unsigned a, unsigned b, unsigned c, unsigned d, uint16_t port) {
  dht_addr out;
  dht_addr_set_v4(&out, (uint32_t)(a & 255) << 24 | (uint32_t)(b & 255) << 16 |
                            (uint32_t)(c & 255) << 8 | (uint32_t)(d & 255),
                  port);
  return out;
}

dht_node mock_node_random(dht_rng *r, unsigned a, unsigned b, unsigned c, unsigned d,
                          uint16_t port) {
  dht_node n;
  dht_id_random(&n.id, r);
  n.addr = mock_addr(a, b, c, d, port);
  return n;
}

void mock_peers_generate(dht_addr *out, size_t count) {
  for (size_t i = 0; i < count; i++)
    out[i] = mock_addr(192, 168, (unsigned)(i / 256), (unsigned)(i % 256), (uint16_t)(51413 + i));
}

const char *mock_addr_str(const dht_addr *a, char buf[DHT_ADDR_STRLEN]) {
  if (dht_addr_format(a, buf, DHT_ADDR_STRLEN) < 0)
    snprintf(buf, DHT_ADDR_STRLEN, "?");
  return buf;
}

/* ---- scripted answers ---------------------------------------------------- */

typedef struct table_entry {
  dht_addr addr;
  bool fail;
  uint8_t token[DHT_TOKEN_MAX];
  size_t token_len;
  dht_addr *peers;
  size_t n_peers;
  dht_node *nodes;
  size_t n_nodes;
} table_entry;

struct mock_table {
  GArray *entries; /* of table_entry; linear search, tables are tiny */
};

mock_table *mock_table_new(void) {
  mock_table *t = g_new0(mock_table, 1);
  t->entries = g_array_new(FALSE, TRUE, sizeof(table_entry));
  return t;
}

static void entry_clear(table_entry *e) {
  g_free(e->peers);
  g_free(e->nodes);
  e->peers = NULL;
  e->nodes = NULL;
}

void mock_table_free(mock_table *t) {
  if (t == NULL)
    return;
  for (guint i = 0; i < t->entries->len; i++)
    entry_clear(&g_array_index(t->entries, table_entry, i));
  g_array_free(t->entries, TRUE);
  g_free(t);
}

static table_entry *table_find(const mock_table *t, const dht_addr *addr) {
  for (guint i = 0; i < t->entries->len; i++) {
    table_entry *e = &g_array_index(t->entries, table_entry, i);
    if (dht_addr_eq(&e->addr, addr))
      return e;
  }
  return NULL;
}

static table_entry *table_slot(mock_table *t, const dht_addr *addr) {
  table_entry *e = table_find(t, addr);
  if (e != NULL) {
    entry_clear(e);
  } else {
    table_entry blank = {0};
    g_array_append_val(t->entries, blank);
    e = &g_array_index(t->entries, table_entry, t->entries->len - 1);
  }
  memset(e, 0, sizeof *e);
  e->addr = *addr;
  return e;
}

void mock_table_set(mock_table *t, const dht_addr *addr, const uint8_t *token, size_t token_len,
                    const dht_addr *peers, size_t n_peers, const dht_node *nodes, size_t n_nodes) {
  g_assert(token_len <= DHT_TOKEN_MAX);
  table_entry *e = table_slot(t, addr);
  if (token_len > 0)
    memcpy(e->token, token, token_len);
  e->token_len = token_len;
  e->peers = n_peers > 0 ? g_memdup2(peers, n_peers * sizeof *peers) : NULL;
  e->n_peers = n_peers;
  e->nodes = n_nodes > 0 ? g_memdup2(nodes, n_nodes * sizeof *nodes) : NULL;
  e->n_nodes = n_nodes;
}

void mock_table_set_fail(mock_table *t, const dht_addr *addr) { table_slot(t, addr)->fail = true; }

bool mock_table_responder(void *ud, const dht_node *queried, dht_lookup_reply *out) {
  const table_entry *e = table_find(ud, &queried->addr);
  if (e == NULL || e->fail)
    return false;
  *out = (dht_lookup_reply){.token = e->token,
                            .token_len = e->token_len,
                            .peers = e->peers,
                            .n_peers = e->n_peers,
                            .nodes = e->nodes,
                            .n_nodes = e->n_nodes};
  return true;
}

void mock_node_chain(mock_table *t, dht_rng *r, size_t depth, size_t per_level, dht_node *levels) {
  for (size_t d = 0; d < depth; d++)
    for (size_t i = 0; i < per_level; i++)
      levels[d * per_level + i] = mock_node_random(r, 10, (unsigned)d, 0, (unsigned)i, 6881);
  for (size_t d = 0; d < depth; d++) {
    uint8_t token[8];
    dht_rng_fill(r, token, sizeof token);
    const dht_node *next = d + 1 < depth ? &levels[(d + 1) * per_level] : NULL;
    size_t n_next = d + 1 < depth ? per_level : 0;
    for (size_t i = 0; i < per_level; i++)
      mock_table_set(t, &levels[d * per_level + i].addr, token, sizeof token, NULL, 0, next, n_next);
  }
}

/* ---- synchronous driver ---------------------------------------------------- */

static void log_push(mock_sync_log *log, const dht_node *n) {
  if (log->n_queried == log->cap_queried) {
    log->cap_queried = log->cap_queried ? 2 * log->cap_queried : 16;
    log->queried = g_renew(dht_node, log->queried, log->cap_queried);
  }
  log->queried[log->n_queried++] = *n;
}

void mock_run_sync(dht_lookup *l, mock_responder fn, void *ud, mock_sync_log *log) {
  mock_sync_log local = {0};
  GQueue fifo = G_QUEUE_INIT;
  dht_node out[DHT_ALPHA_MAX];
  bool first = true;

  if (log == NULL)
    log = &local;
  for (;;) {
    size_t n = dht_lookup_next(l, out, DHT_ALPHA_MAX);
    unsigned inf = dht_lookup_in_flight(l);
    if (first)
      log->first_batch = n;
    first = false;
    if (inf > log->max_in_flight)
      log->max_in_flight = inf;
    for (size_t i = 0; i < n; i++) {
      log_push(log, &out[i]);
      g_queue_push_tail(&fifo, g_memdup2(&out[i], sizeof out[i]));
    }
    dht_node *q = g_queue_pop_head(&fifo);
    if (q == NULL)
      break;
    dht_lookup_reply r;
    int rc;
    if (fn(ud, q, &r)) {
      rc = dht_lookup_reply_from(l, &q->addr, &r);
      log->answers++;
    } else {
      rc = dht_lookup_failed(l, &q->addr);
      log->failures++;
    }
    g_free(q);
    cr_assert(eq(int, rc, DHT_OK), "report rejected: %s", dht_strerror(rc));
  }
  cr_assert(dht_lookup_done(l), "driver ran out of queries but the lookup is not done");
  cr_assert(eq(uint, dht_lookup_in_flight(l), 0));
  mock_sync_log_clear(&local);
}

void mock_sync_log_clear(mock_sync_log *log) {
  g_free(log->queried);
  memset(log, 0, sizeof *log);
}

bool mock_sync_log_queried(const mock_sync_log *log, const dht_addr *addr) {
  for (size_t i = 0; i < log->n_queried; i++)
    if (dht_addr_eq(&log->queried[i].addr, addr))
      return true;
  return false;
}

/* ---- the seeded network ------------------------------------------------------ */

#define MOCK_BASE_PORT 6881

mock_net *mock_net_new(size_t n_nodes, uint64_t seed) {
  g_assert(n_nodes >= 1 && n_nodes <= 65535 - MOCK_BASE_PORT);
  mock_net *net = g_new0(mock_net, 1);
  dht_rng_init(&net->rng, seed);
  net->n_nodes = n_nodes;
  net->nodes = g_new0(mock_node, n_nodes);
  for (size_t i = 0; i < n_nodes; i++)
    net->nodes[i].node = mock_node_random(&net->rng, 10, 0, (unsigned)(i / 256),
                                          (unsigned)(i % 256), (uint16_t)(MOCK_BASE_PORT + i));

  /* Each node learns K*4 others picked uniformly: an unbiased Fisher-Yates
   * shuffle of the other indices (the seed's sort(() => random - 0.5) is
   * biased towards the original order). O(N) per node, O(N^2) total: fine
   * for test sizes. */
  uint32_t *others = g_new(uint32_t, n_nodes);
  for (size_t i = 0; i < n_nodes; i++) {
    mock_node *m = &net->nodes[i];
    size_t n_others = 0;
    for (size_t j = 0; j < n_nodes; j++)
      if (j != i)
        others[n_others++] = (uint32_t)j;
    dht_rng_shuffle_u32(&net->rng, others, n_others);
    size_t take = n_others < MOCK_K * 4 ? n_others : MOCK_K * 4;
    m->rt = dht_rt_new(&m->node.id, MOCK_K);
    g_assert(m->rt != NULL);
    for (size_t j = 0; j < take; j++) {
      int rc = dht_rt_add(m->rt, &net->nodes[others[j]].node);
      g_assert(rc >= 0);
    }
  }
  g_free(others);
  return net;
}

void mock_net_free(mock_net *net) {
  if (net == NULL)
    return;
  for (size_t i = 0; i < net->n_nodes; i++) {
    mock_node *m = &net->nodes[i];
    dht_rt_free(m->rt);
    for (size_t p = 0; p < m->n_plants; p++)
      g_free(m->plants[p].peers);
    g_free(m->plants);
  }
  g_free(net->nodes);
  g_free(net);
}

void mock_net_set_drop_rate(mock_net *net, double rate) {
  net->drop_rate = rate < 0 ? 0 : rate > 1 ? 1 : rate;
}

void mock_net_set_delays(mock_net *net, unsigned lo, unsigned hi) {
  g_assert(lo <= hi);
  for (size_t i = 0; i < net->n_nodes; i++)
    net->nodes[i].delay = lo + (unsigned)dht_rng_below(&net->rng, (uint64_t)(hi - lo) + 1);
}

size_t mock_net_random_node(mock_net *net) {
  return (size_t)dht_rng_below(&net->rng, net->n_nodes);
}

long mock_net_find(const mock_net *net, const dht_addr *addr) {
  if (addr->family != DHT_AF_INET4 || addr->port < MOCK_BASE_PORT)
    return -1;
  size_t i = (size_t)(addr->port - MOCK_BASE_PORT);
  if (i >= net->n_nodes || !dht_addr_eq(&net->nodes[i].node.addr, addr))
    return -1;
  return (long)i;
}

/* qsort has no context argument: sort (distance, index) records instead. */
typedef struct dist_rec {
  dht_id dist;
  size_t idx;
} dist_rec;

static int dist_rec_cmp(const void *a, const void *b) {
  const dist_rec *x = a, *y = b;
  int c = memcmp(x->dist.b, y->dist.b, DHT_ID_LEN);
  if (c != 0)
    return c;
  return x->idx < y->idx ? -1 : x->idx > y->idx;
}

size_t mock_net_closest(const mock_net *net, const dht_id *target, size_t count,
                        const dht_id *exclude, size_t *out) {
  dist_rec *recs = g_new(dist_rec, net->n_nodes);
  size_t n = 0, w = 0;
  for (size_t i = 0; i < net->n_nodes; i++) {
    if (exclude != NULL && dht_id_eq(&net->nodes[i].node.id, exclude))
      continue;
    dht_id_xor(&recs[n].dist, &net->nodes[i].node.id, target);
    recs[n++].idx = i;
  }
  qsort(recs, n, sizeof *recs, dist_rec_cmp);
  for (; w < count && w < n; w++)
    out[w] = recs[w].idx;
  g_free(recs);
  return w;
}

void mock_net_plant_peers(mock_net *net, const dht_id *infohash, const dht_addr *peers,
                          size_t n_peers, size_t count) {
  size_t *idx = g_new(size_t, count > 0 ? count : 1);
  size_t n = mock_net_closest(net, infohash, count, NULL, idx);
  for (size_t i = 0; i < n; i++) {
    mock_node *m = &net->nodes[idx[i]];
    mock_plant *p = NULL;
    for (size_t j = 0; j < m->n_plants; j++)
      if (dht_id_eq(&m->plants[j].infohash, infohash))
        p = &m->plants[j];
    if (p == NULL) {
      m->plants = g_renew(mock_plant, m->plants, m->n_plants + 1);
      p = &m->plants[m->n_plants++];
      p->infohash = *infohash;
    } else {
      g_free(p->peers);
    }
    p->peers = n_peers > 0 ? g_memdup2(peers, n_peers * sizeof *peers) : NULL;
    p->n_peers = n_peers;
  }
  g_free(idx);
}

void mock_net_answer(const mock_net *net, size_t idx, const dht_id *infohash,
                     const dht_id *querier, mock_answer_buf *buf, dht_lookup_reply *out) {
  const mock_node *m = &net->nodes[idx];
  /* Deterministic, non-empty, distinct per (node, querier). */
  uint64_t st = (uint64_t)idx * 0x9e3779b97f4a7c15ULL;
  for (size_t i = 0; i < DHT_ID_LEN; i++)
    st = (st ^ querier->b[i]) * 0x100000001b3ULL;
  uint64_t v = dht_splitmix64(&st);
  for (size_t i = 0; i < MOCK_TOKEN_LEN; i++)
    buf->token[i] = (uint8_t)(v >> (8 * i));
  *out = (dht_lookup_reply){.token = buf->token, .token_len = MOCK_TOKEN_LEN};

  for (size_t j = 0; j < m->n_plants; j++) {
    if (dht_id_eq(&m->plants[j].infohash, infohash) && m->plants[j].n_peers > 0) {
      out->peers = m->plants[j].peers;
      out->n_peers = m->plants[j].n_peers;
      return; /* peers and no nodes */
    }
  }
  dht_node closest[MOCK_K];
  size_t n = dht_rt_closest(m->rt, infohash, closest, MOCK_K), w = 0;
  for (size_t i = 0; i < n; i++)
    if (!dht_id_eq(&closest[i].id, querier))
      buf->nodes[w++] = closest[i];
  out->nodes = buf->nodes;
  out->n_nodes = w;
}

/* ---- the virtual-step driver ------------------------------------------------- */

typedef struct pending {
  uint64_t due;
  uint64_t seq; /* issue order: ties at a step go in issue order */
  dht_addr addr;
  long idx; /* node index, -1 if unknown */
  bool ok;  /* false: reported failed at due */
} pending;

dht_lookup *mock_run_lookup(mock_net *net, size_t start, const dht_id *target,
                            const dht_lookup_config *cfg, unsigned timeout_steps,
                            mock_run_stats *st) {
  mock_run_stats local = {0};
  const mock_node *self = &net->nodes[start];
  dht_node seeds[DHT_K_MAX];
  dht_node out[DHT_ALPHA_MAX];
  pending pend[DHT_ALPHA_MAX];
  size_t n_pend = 0;
  uint64_t step = 0, seq = 0;
  bool first = true;
  bool *queried = g_new0(bool, net->n_nodes);

  if (st == NULL)
    st = &local;
  memset(st, 0, sizeof *st);
  dht_lookup *l = dht_lookup_new(target, &self->node.id, cfg);
  cr_assert(ne(ptr, l, NULL));
  size_t n_seeds = dht_rt_closest(self->rt, target, seeds, cfg->k);
  cr_assert(eq(int, dht_lookup_seed(l, seeds, n_seeds), DHT_OK));

  for (;;) {
    size_t n = dht_lookup_next(l, out, DHT_ALPHA_MAX);
    if (first)
      st->first_batch = n;
    first = false;
    for (size_t i = 0; i < n; i++) {
      long idx = mock_net_find(net, &out[i].addr);
      bool ok = idx >= 0;
      st->queries++;
      if (dht_id_eq(&out[i].id, &self->node.id))
        st->self_queries++;
      if (idx >= 0) {
        if (queried[idx])
          st->dup_queries++;
        queried[idx] = true;
        /* The seed's order: dead node, then the random drop. */
        ok = !net->nodes[idx].drop_requests && !dht_rng_chance(&net->rng, net->drop_rate);
      }
      cr_assert(lt(sz, n_pend, (size_t)DHT_ALPHA_MAX));
      pend[n_pend++] = (pending){.due = step + (ok ? net->nodes[idx].delay : timeout_steps),
                                 .seq = seq++,
                                 .addr = out[i].addr,
                                 .idx = idx,
                                 .ok = ok};
    }
    unsigned inf = dht_lookup_in_flight(l);
    cr_assert(eq(uint, inf, (unsigned)n_pend));
    if (inf > st->max_in_flight)
      st->max_in_flight = inf;
    if (n_pend == 0)
      break;

    /* Deliver the earliest event (in-flight is at most alpha: linear scan). */
    size_t best = 0;
    for (size_t i = 1; i < n_pend; i++)
      if (pend[i].due < pend[best].due || (pend[i].due == pend[best].due && pend[i].seq < pend[best].seq))
        best = i;
    pending ev = pend[best];
    pend[best] = pend[--n_pend];
    step = ev.due;
    int rc;
    if (ev.ok) {
      mock_answer_buf buf;
      dht_lookup_reply r;
      mock_net_answer(net, (size_t)ev.idx, target, &self->node.id, &buf, &r);
      rc = dht_lookup_reply_from(l, &ev.addr, &r);
      st->answers++;
    } else {
      rc = dht_lookup_failed(l, &ev.addr);
      st->failures++;
    }
    cr_assert(eq(int, rc, DHT_OK), "report rejected: %s", dht_strerror(rc));
  }
  cr_assert(dht_lookup_done(l));
  st->steps = step;
  g_free(queried);
  return l;
}
