/* lookup.c: the iterative get_peers lookup as a sans-I/O state machine.
 *
 * Data layout (one lookup; c = candidates, p = peers, k = config k):
 *  - cands[]: every node ever seen, in insertion order; the index is the
 *    candidate's identity and the tie-break of every ordering (it reproduces
 *    the stable sort over the seed's insertion-ordered Map).
 *  - ctab: open-addressing hash table (linear probing, load <= 1/2) of
 *    candidate indices keyed by address. It is only ever probed, never
 *    iterated, so the hash order cannot reach any output.
 *  - heap: binary min-heap of the unqueried candidates keyed by
 *    (XOR distance to target, index). Each candidate enters once, leaves once.
 *  - closest: the k closest responded candidates, sorted by the same key.
 *  - tokens: indices of responded candidates in the order answers were applied
 *    (the token bytes live in tokb[], beside cands: a candidate is 80 bytes,
 *    not 144, so the lookups of a busy run take half the cache).
 *  - peers[] + ptab: peers deduplicated by address, first-seen order.
 * Cost: adding a node O(1) expected + O(log c); issuing O(log c); applying an
 * answer with n nodes and m peers O(k + n log c + m). Nothing is quadratic.
 *
 * Memory rule: every operation first reserves (grows) all the storage it can
 * need, then mutates. Growth is not observable, so on DHT_ENOMEM the lookup is
 * exactly as before the call. */
#include "lookup.h"

#include <glib.h>
#include <string.h>

#include "error.h"
#include "routing_table.h" /* DHT_K_MAX */

enum {
  C_QUERIED = 1u << 0,   /* handed out by dht_lookup_next (never again) */
  C_IN_FLIGHT = 1u << 1, /* queried, no answer/failure reported yet */
  C_RESPONDED = 1u << 2, /* its answer has been applied */
  C_SLOW = 1u << 3,      /* LIBTORRENT: short timeout passed, still awaited (widens the branch factor) */
  C_OUT = 1u << 4,       /* windowed: not (or no longer) among the candidate_cap closest */
  C_WIN = 1u << 5,       /* windowed: in win[] now */
  C_FOLLOW = 1u << 6,    /* LIBP2P: queried (again) by the follow-up */
};

/* Timer kinds, the low bits of a timer id (the rest is the candidate index). */
/* T_STEP: the rest is the step number. T_FOLLOW: LIBP2P's follow-up query
 * timeout (its main-phase T_HARD, if any, no longer counts). */
enum { T_HARD = 0, T_SHORT = 1, T_STEP = 2, T_FOLLOW = 3 };
#define T_KIND_BITS 2
#define TIMERS_CAP (2 * DHT_IN_FLIGHT_MAX)

/* States of one member of the pending ROUNDS batch. */
enum { SLOT_WAIT = 0, SLOT_ANSWERED = 1, SLOT_FAILED = 2 };

#define NO_IDX UINT32_MAX
/* Candidate indices are uint32 with NO_IDX as the empty marker. */
#define MAX_ITEMS ((size_t)UINT32_MAX - 1)
#define INITIAL_CANDS 16

typedef struct cand {
  dht_node node;
  dht_id dist;  /* node.id ^ target: distances compare as big-endian numbers (dht_id_cmp) */
  uint32_t hop; /* 1 for seeds; h+1 when learned from the answer of a hop-h query */
  uint8_t flags;
  uint8_t tries;     /* JECH: queries sent (jech's pinged); dead at cfg.retries */
  uint8_t token_len; /* valid once C_RESPONDED (ROUNDS writes it when buffering); its bytes: tokb[index] */
  uint64_t sent_us; /* JECH: when the last query went (jech's request_time) */
} cand;

/* MLDHT: a node's calls (at most ML_CALLS_MAX; mldht's log2 rule lets a
 * node have c calls only with 2^(c-1) sources) and its place in the lookup
 * graph (IterativeLookupCandidates' LookupGraphNode): its sources (the
 * responders that returned it, a list of edges through `next`) and its
 * children (the nodes its accepted answer returned: edges kid_off..+n_kids). */
#define ML_CALLS_MAX 8
typedef struct mlc {
  uint64_t sent_us[ML_CALLS_MAX];
  uint32_t src_head; /* first edge whose child is this node, NO_IDX: none */
  uint32_t n_src;
  uint32_t kid_off, n_kids;
  uint8_t n_calls; /* calls sent, numbered 0.. in send order */
  uint8_t open;    /* bit t: call t neither answered nor timed out */
  uint8_t stalled; /* bit t: call t open and past its stall timeout */
  bool root;       /* a seed: from the routing table, verified */
} mlc;

typedef struct edge {
  uint32_t source, child;
  uint32_t next; /* next edge with the same child */
} edge;

/* LIBTORRENT restrict_search_ips: an IPv4 /24 or IPv6 /64 (family first). */
typedef struct prefix {
  uint8_t b[9];
} prefix;

/* A batch member of DHT_LOOKUP_ROUNDS and its buffered answer (offsets into
 * bpeers/bnodes), applied only when the whole batch has completed. */
typedef struct slot {
  uint32_t cand;
  uint8_t state;
  size_t peer_off, n_peers;
  size_t node_off, n_nodes;
} slot;

struct dht_lookup {
  dht_id target;
  dht_id local;
  bool has_local;
  dht_lookup_config cfg;

  cand *cands;
  size_t n_cands;
  size_t cap_cands; /* capacity of cands, heap and tokens alike */
  uint8_t (*tokb)[DHT_TOKEN_MAX]; /* [cap_cands]: candidate i's token bytes (token_len of them) */
  uint32_t *ctab;   /* mask+1 entries, NO_IDX = empty; n_cands <= (mask+1)/2 */
  size_t ctab_mask;

  uint32_t *heap; /* unqueried candidates */
  size_t heap_len;

  uint32_t *closest; /* k entries; the closest responded, sorted */
  size_t closest_len;

  uint32_t *tokens; /* responded candidates in application order */
  size_t n_tokens;

  dht_addr *peers;
  size_t n_peers, cap_peers;
  uint32_t *ptab; /* NULL until the first peer; n_peers <= (mask+1)/2 */
  size_t ptab_mask;

  size_t queried;
  size_t rounds; /* decisions that issued at least one query (ROUNDS: its batches) */
  size_t hops;   /* the deepest hop queried (cand.hop) */
  uint64_t result_version; /* bumped whenever the k closest or the peers change */
  unsigned in_flight;

  uint64_t now; /* virtual µs, from dht_lookup_clock / dht_lookup_tick */
  dht_lookup_timer *timers; /* armed, not yet drained; TIMERS_CAP entries (NULL without timeout_us) */
  size_t n_timers;

  /* Windowed strategies (LIBTORRENT): the candidate_cap closest candidates
   * ever seen, sorted; they replace the heap. */
  uint32_t *win;
  size_t win_len;
  unsigned branch; /* LIBTORRENT: branch factor, alpha + slow queries */
  bool tick_armed; /* LIBTORRENT (tick_us > 0): an rpc tick timer numbered `steps` is pending */

  /* JECH */
  uint64_t steps;        /* steps taken; the armed step timer carries this number */
  bool step_due;         /* the next dht_lookup_next takes a step */
  unsigned answer_sends; /* answers applied since the last dht_lookup_next: one query each */
  bool finished;         /* a step found the k closest live nodes answered */

  size_t win_cap;        /* candidate_cap; LIBP2P: DHT_CANDIDATE_CAP_MAX */
  bool followup;         /* LIBP2P: the walk has ended, the follow-up is running */

  /* LIBTORRENT restrict_search_ips: the prefixes of the nodes learned, sorted. */
  prefix *pfx;
  size_t n_pfx, cap_pfx;

  /* MLDHT: per-candidate state (cap_cands entries), the lookup graph's edges,
   * the rtt filter (cfg.rtt or own_rtt) and the task's call counters. */
  mlc *ml;
  edge *edges;
  size_t n_edges, cap_edges;
  dht_rtt_filter *rtt;
  dht_rtt_filter *own_rtt;
  unsigned ml_sent, ml_received, ml_stalled;
  unsigned ml_tail_misses; /* ClosestSet's insertAttemptsSinceTailModification */

  /* DHT_LOOKUP_ROUNDS only: the pending batch and its buffered answers. */
  slot *batch; /* alpha entries */
  size_t batch_len;
  dht_addr *bpeers;
  size_t n_bpeers, cap_bpeers;
  dht_node *bnodes;
  size_t n_bnodes, cap_bnodes;

  dht_lookup_observer obs; /* NULL: no notes (dht_lookup_set_observer) */
  void *obs_user;
};

/* ---- notes to an observer ------------------------------------------------ */

/* Tells the observer, if any, about candidate ci (NO_IDX: no node). Reads
 * the lookup only: no result can depend on whether one is set. */
static void note(const dht_lookup *l, dht_lookup_note n, uint32_t ci) {
  if (l->obs == NULL)
    return;
  dht_lookup_event ev = {.note = n, .node = ci == NO_IDX ? NULL : &l->cands[ci].node, .in_flight = l->in_flight,
                         .now_us = l->now};
  l->obs(l->obs_user, &ev);
}

/* ---- ordering ---------------------------------------------------------- */

/* The one order of the lookup: XOR distance to target, then insertion index
 * (equal distances mean equal IDs at different addresses; first seen first). */
static inline bool cand_less(const dht_lookup *l, uint32_t a, uint32_t b) {
  int c = dht_id_cmp(&l->cands[a].dist, &l->cands[b].dist);
  return c < 0 || (c == 0 && a < b);
}

static void heap_push(dht_lookup *l, uint32_t ci) {
  size_t i = l->heap_len++;
  g_assert(l->heap_len <= l->cap_cands);
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (!cand_less(l, ci, l->heap[parent]))
      break;
    l->heap[i] = l->heap[parent];
    i = parent;
  }
  l->heap[i] = ci;
}

static uint32_t heap_pop(dht_lookup *l) {
  g_assert(l->heap_len > 0);
  uint32_t top = l->heap[0];
  uint32_t last = l->heap[--l->heap_len];
  size_t n = l->heap_len, i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= n)
      break;
    if (c + 1 < n && cand_less(l, l->heap[c + 1], l->heap[c]))
      c++;
    if (!cand_less(l, l->heap[c], last))
      break;
    l->heap[i] = l->heap[c];
    i = c;
  }
  if (n > 0)
    l->heap[i] = last;
  return top;
}

/* Keeps closest[] = the k smallest responded candidates, sorted. O(k). */
static void closest_insert(dht_lookup *l, uint32_t ci) {
  size_t k = l->cfg.k, n = l->closest_len, i;
  if (n == k && !cand_less(l, ci, l->closest[k - 1]))
    return;
  i = n == k ? k - 1 : n; /* when full, the k-th is dropped */
  while (i > 0 && cand_less(l, ci, l->closest[i - 1])) {
    l->closest[i] = l->closest[i - 1];
    i--;
  }
  l->closest[i] = ci;
  if (n < k)
    l->closest_len++;
  l->result_version++;
}

/* The seed's test: stop when no candidate is unqueried, or when k nodes have
 * responded and the closest unqueried one is no closer than the k-th closest
 * responded one. In-flight candidates are neither unqueried nor responded. */
static bool converged(const dht_lookup *l) {
  if (l->heap_len == 0)
    return true;
  if (l->closest_len < l->cfg.k)
    return false; /* fewer than k responded */
  const cand *top = &l->cands[l->heap[0]];
  const cand *kth = &l->cands[l->closest[l->cfg.k - 1]];
  return dht_id_cmp(&top->dist, &kth->dist) >= 0;
}

/* ---- hash tables --------------------------------------------------------- */

/* Returns the candidate at addr or NO_IDX; *pos is its slot or the empty slot
 * where it would go. */
static uint32_t ctab_find(const dht_lookup *l, const dht_addr *a, size_t *pos) {
  size_t i = (size_t)dht_addr_hash(a) & l->ctab_mask;
  for (;;) {
    uint32_t v = l->ctab[i];
    if (v == NO_IDX || dht_addr_eq(&l->cands[v].node.addr, a)) {
      if (pos != NULL)
        *pos = i;
      return v;
    }
    i = (i + 1) & l->ctab_mask;
  }
}

static uint32_t ptab_find(const dht_lookup *l, const dht_addr *a, size_t *pos) {
  size_t i = (size_t)dht_addr_hash(a) & l->ptab_mask;
  for (;;) {
    uint32_t v = l->ptab[i];
    if (v == NO_IDX || dht_addr_eq(&l->peers[v], a)) {
      if (pos != NULL)
        *pos = i;
      return v;
    }
    i = (i + 1) & l->ptab_mask;
  }
}

/* A table of 2^m entries for at least 2*n items (load <= 1/2). */
static size_t table_size_for(size_t n) {
  size_t size = 32;
  while (size < 2 * n)
    size *= 2;
  return size;
}

static uint32_t *table_new(size_t size) {
  uint32_t *t = g_try_new(uint32_t, size);
  if (t != NULL)
    memset(t, 0xff, size * sizeof *t); /* every entry NO_IDX */
  return t;
}

/* ---- reservation (no observable change) -------------------------------- */

static size_t grow_cap(size_t cap, size_t need) {
  if (cap == 0)
    cap = 8;
  while (cap < need)
    cap = cap > MAX_ITEMS / 2 ? MAX_ITEMS : cap * 2;
  return cap;
}

/* *p resized to n elements of size bytes; *p unchanged on failure. */
static int renew_n(void **p, size_t n, size_t size) {
  void *q = g_try_realloc_n(*p, n, size);
  if (q == NULL)
    return DHT_ENOMEM;
  *p = q;
  return DHT_OK;
}

/* Room for `need` elements in the array *p of capacity *cap (doubling). */
static int grow_array(void **p, size_t *cap, size_t need, size_t size) {
  if (need <= *cap)
    return DHT_OK;
  size_t c = grow_cap(*cap, need);
  if (renew_n(p, c, size) < 0)
    return DHT_ENOMEM;
  *cap = c;
  return DHT_OK;
}
#define GROW_ARRAY(arr, cap, need) grow_array((void **)&(arr), &(cap), (need), sizeof *(arr))
#define RENEW_N(arr, n) renew_n((void **)&(arr), (n), sizeof *(arr))

/* Room for `extra` more candidates in cands, heap, tokens and ctab. */
static int reserve_cands(dht_lookup *l, size_t extra) {
  if (extra > MAX_ITEMS - l->n_cands)
    return DHT_ENOMEM;
  size_t need = l->n_cands + extra;
  if (need > l->cap_cands) {
    size_t cap = grow_cap(l->cap_cands, need);
    /* Each realloc that succeeds is kept even if a later one fails: a
     * larger buffer is harmless and cap_cands only moves when all did. */
    if (RENEW_N(l->cands, cap) < 0 || RENEW_N(l->heap, cap) < 0 || RENEW_N(l->tokens, cap) < 0 ||
        RENEW_N(l->tokb, cap) < 0)
      return DHT_ENOMEM;
    if (l->cfg.strategy == DHT_LOOKUP_MLDHT && (RENEW_N(l->win, cap) < 0 || RENEW_N(l->ml, cap) < 0))
      return DHT_ENOMEM;
    l->cap_cands = cap;
  }
  if (2 * need > l->ctab_mask + 1) {
    size_t size = table_size_for(need);
    uint32_t *tab = table_new(size);
    if (tab == NULL)
      return DHT_ENOMEM;
    g_free(l->ctab);
    l->ctab = tab;
    l->ctab_mask = size - 1;
    for (uint32_t i = 0; i < l->n_cands; i++) {
      size_t pos;
      uint32_t v = ctab_find(l, &l->cands[i].node.addr, &pos);
      g_assert(v == NO_IDX); /* addresses are unique among candidates */
      l->ctab[pos] = i;
    }
  }
  return DHT_OK;
}

static int reserve_peers(dht_lookup *l, size_t extra) {
  if (extra == 0)
    return DHT_OK;
  if (extra > MAX_ITEMS - l->n_peers)
    return DHT_ENOMEM;
  size_t need = l->n_peers + extra;
  if (GROW_ARRAY(l->peers, l->cap_peers, need) < 0)
    return DHT_ENOMEM;
  if (l->ptab == NULL || 2 * need > l->ptab_mask + 1) {
    size_t size = table_size_for(need);
    uint32_t *tab = table_new(size);
    if (tab == NULL)
      return DHT_ENOMEM;
    g_free(l->ptab);
    l->ptab = tab;
    l->ptab_mask = size - 1;
    for (uint32_t i = 0; i < l->n_peers; i++) {
      size_t pos;
      uint32_t v = ptab_find(l, &l->peers[i], &pos);
      g_assert(v == NO_IDX);
      l->ptab[pos] = i;
    }
  }
  return DHT_OK;
}

/* Room for `extra` more lookup-graph edges (MLDHT) and prefixes (LIBTORRENT
 * restrict_search_ips). */
static int reserve_graph(dht_lookup *l, size_t extra) {
  if (extra > MAX_ITEMS - l->n_edges || extra > MAX_ITEMS - l->n_pfx)
    return DHT_ENOMEM;
  if (l->cfg.strategy == DHT_LOOKUP_MLDHT && GROW_ARRAY(l->edges, l->cap_edges, l->n_edges + extra) < 0)
    return DHT_ENOMEM;
  if (l->cfg.restrict_search_ips && l->cfg.strategy == DHT_LOOKUP_LIBTORRENT &&
      GROW_ARRAY(l->pfx, l->cap_pfx, l->n_pfx + extra) < 0)
    return DHT_ENOMEM;
  return DHT_OK;
}

/* Room to buffer one more ROUNDS answer with np peers and nn nodes. */
static int reserve_buffers(dht_lookup *l, size_t np, size_t nn) {
  if (np > MAX_ITEMS - l->n_bpeers || nn > MAX_ITEMS - l->n_bnodes)
    return DHT_ENOMEM;
  if (GROW_ARRAY(l->bpeers, l->cap_bpeers, l->n_bpeers + np) < 0 ||
      GROW_ARRAY(l->bnodes, l->cap_bnodes, l->n_bnodes + nn) < 0)
    return DHT_ENOMEM;
  return DHT_OK;
}

/* ---- mutation (storage already reserved) --------------------------------- */

static bool strategy_windowed(dht_lookup_strategy s) { return s >= DHT_LOOKUP_LIBTORRENT && s <= DHT_LOOKUP_MLDHT; }
static bool windowed(const dht_lookup *l) { return strategy_windowed(l->cfg.strategy); }

/* A query given up without an answer: no longer in flight; a slow one gives
 * its extra branch slot back (libtorrent never lets the factor drop below 1). */
static void drop_in_flight(dht_lookup *l, cand *c) {
  c->flags &= (uint8_t) ~C_IN_FLIGHT;
  l->in_flight--;
  if (c->flags & C_SLOW) {
    c->flags &= (uint8_t) ~C_SLOW;
    if (l->branch > 1)
      l->branch--;
  }
}

/* Keeps win[] = the candidate_cap closest candidates ever seen, sorted. A
 * candidate pushed out never comes back (libtorrent's m_results.resize(100),
 * jech's insert_search_node). A query in flight to it is abandoned by
 * libtorrent; jech still takes its answer (the reply's nodes are inserted,
 * found by transaction id) but never queries it again. O(cap). */
static void win_insert(dht_lookup *l, uint32_t ci) {
  size_t cap = l->win_cap, lo = 0, hi = l->win_len;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (cand_less(l, l->win[mid], ci))
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == cap) {
    l->cands[ci].flags |= C_OUT;
    return;
  }
  if (l->win_len == cap) {
    cand *out = &l->cands[l->win[cap - 1]];
    out->flags = (uint8_t)((out->flags | C_OUT) & ~C_WIN);
    if ((out->flags & C_IN_FLIGHT) &&
        (l->cfg.strategy == DHT_LOOKUP_LIBTORRENT || l->cfg.strategy == DHT_LOOKUP_LIBP2P)) {
      drop_in_flight(l, out);
      note(l, DHT_NOTE_ABANDON, l->win[cap - 1]);
    }
    l->win_len--;
  }
  memmove(l->win + lo + 1, l->win + lo, (l->win_len - lo) * sizeof *l->win);
  l->win[lo] = ci;
  l->win_len++;
  l->cands[ci].flags |= C_WIN;
}

/* LIBTORRENT restrict_search_ips (traversal_algorithm.cpp add_entry): a
 * learned node is kept only if no node learned before it in this search had
 * its IPv4 /24 (IPv6 /64); the prefix is remembered either way it goes. */
static bool restrict_admits(dht_lookup *l, const dht_addr *a) {
  prefix key;
  memset(&key, 0, sizeof key);
  key.b[0] = a->family;
  memcpy(key.b + 1, a->ip, a->family == DHT_AF_INET6 ? 8 : 3);
  size_t lo = 0, hi = l->n_pfx;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    int c = memcmp(l->pfx[mid].b, key.b, sizeof key.b);
    if (c == 0)
      return false;
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  g_assert(l->n_pfx < l->cap_pfx);
  memmove(l->pfx + lo + 1, l->pfx + lo, (l->n_pfx - lo) * sizeof *l->pfx);
  l->pfx[lo] = key;
  l->n_pfx++;
  return true;
}

/* First-seen wins: a node at a known address is ignored even if its ID
 * differs (the seed's Map keyed by host:port); our own ID is never added.
 * Returns the node's candidate index, or NO_IDX when it is not one. */
static uint32_t add_candidate(dht_lookup *l, const dht_node *node, uint32_t hop) {
  size_t pos;
  if (l->has_local && dht_id_eq(&node->id, &l->local))
    return NO_IDX;
  uint32_t known = ctab_find(l, &node->addr, &pos);
  if (known != NO_IDX) {
    /* bittorrent-dht: a seed heard of from an answer joins the lookup's table. */
    if (l->cfg.strategy == DHT_LOOKUP_BITTORRENT_DHT && !(l->cands[known].flags & (C_WIN | C_OUT)))
      win_insert(l, known);
    return known;
  }
  if (l->cfg.strategy == DHT_LOOKUP_LIBTORRENT && l->cfg.restrict_search_ips && hop > 1 &&
      !restrict_admits(l, &node->addr))
    return NO_IDX;
  g_assert(l->n_cands < l->cap_cands);
  uint32_t ci = (uint32_t)l->n_cands++;
  cand *c = &l->cands[ci];
  memset(c, 0, sizeof *c);
  c->node = *node;
  dht_id_xor(&c->dist, &node->id, &l->target);
  c->hop = hop;
  l->ctab[pos] = ci;
  if (l->ml != NULL)
    l->ml[ci] = (mlc){.src_head = NO_IDX, .root = hop == 1};
  /* bittorrent-dht: the routing-table seeds are not in the lookup's own
   * table (k-rpc adds responders and the nodes they return); they wait in
   * the heap, used only while that table is empty. */
  if (windowed(l) && !(l->cfg.strategy == DHT_LOOKUP_BITTORRENT_DHT && hop == 1))
    win_insert(l, ci);
  else
    heap_push(l, ci);
  return ci;
}

static void add_peer(dht_lookup *l, const dht_addr *a) {
  size_t pos;
  if (ptab_find(l, a, &pos) != NO_IDX)
    return;
  g_assert(l->n_peers < l->cap_peers);
  l->peers[l->n_peers] = *a;
  l->ptab[pos] = (uint32_t)l->n_peers++;
  l->result_version++;
}

/* The seed's per-result step: responded, token kept, peers collected, nodes
 * added. The token bytes are already in tokb. */
static void apply_answer(dht_lookup *l, uint32_t ci, const dht_addr *peers, size_t n_peers,
                         const dht_node *nodes, size_t n_nodes) {
  cand *c = &l->cands[ci];
  g_assert((c->flags & (C_QUERIED | C_IN_FLIGHT | C_RESPONDED)) == C_QUERIED);
  c->flags |= C_RESPONDED;
  uint32_t hop = c->hop + 1;
  closest_insert(l, ci);
  g_assert(l->n_tokens < l->cap_cands);
  l->tokens[l->n_tokens++] = ci;
  for (size_t i = 0; i < n_peers; i++)
    add_peer(l, &peers[i]);
  for (size_t i = 0; i < n_nodes; i++)
    add_candidate(l, &nodes[i], hop);
}

/* ROUNDS: the whole batch has completed; apply answers in batch order
 * (the seed's for-loop over Promise.all results). */
static void flush_batch(dht_lookup *l) {
  g_assert(l->in_flight == 0);
  for (size_t i = 0; i < l->batch_len; i++) {
    const slot *s = &l->batch[i];
    g_assert(s->state != SLOT_WAIT);
    if (s->state == SLOT_ANSWERED)
      apply_answer(l, s->cand, l->bpeers + s->peer_off, s->n_peers, l->bnodes + s->node_off,
                   s->n_nodes);
  }
  l->batch_len = 0;
  l->n_bpeers = 0;
  l->n_bnodes = 0;
}

/* Reserves what flush_batch will need once the last member completes, with
 * (np, nn) more peers/nodes from the member completing now. */
static int reserve_flush(dht_lookup *l, size_t np, size_t nn) {
  int rc;
  if (np > SIZE_MAX - l->n_bpeers || nn > SIZE_MAX - l->n_bnodes)
    return DHT_ENOMEM;
  if ((rc = reserve_cands(l, l->n_bnodes + nn)) != DHT_OK)
    return rc;
  return reserve_peers(l, l->n_bpeers + np);
}

/* Index of the in-flight batch member for ci. O(alpha). */
static size_t batch_slot(const dht_lookup *l, uint32_t ci) {
  for (size_t i = 0; i < l->batch_len; i++)
    if (l->batch[i].cand == ci)
      return i;
  g_assert_not_reached();
  return 0;
}

/* ARIA2: a timed-out entry leaves the window (onTimeout's entries_.erase),
 * letting the next closest in. It never comes back (dedup is by address). */
static void win_remove(dht_lookup *l, uint32_t ci) {
  for (size_t i = 0; i < l->win_len; i++)
    if (l->win[i] == ci) {
      memmove(l->win + i, l->win + i + 1, (l->win_len - i - 1) * sizeof *l->win);
      l->win_len--;
      l->cands[ci].flags = (uint8_t)((l->cands[ci].flags | C_OUT) & ~C_WIN);
      return;
    }
}

/* ---- issuing and timers ------------------------------------------------------ */

/* Room for the timers of one more query (the buffer is drained by the driver
 * after every call, so this only binds a caller that never drains). */
static bool timer_room(const dht_lookup *l) {
  return l->in_flight < DHT_IN_FLIGHT_MAX && (l->timers == NULL || l->n_timers + 2 <= TIMERS_CAP);
}

/* id: what the timer is for (its subject << T_KIND_BITS | its kind). */
static void timer_push_at(dht_lookup *l, uint64_t at_us, uint64_t id, size_t query) {
  g_assert(l->n_timers < TIMERS_CAP);
  l->timers[l->n_timers++] = (dht_lookup_timer){.at_us = at_us, .id = id, .query = (uint32_t)query};
}

static void timer_push(dht_lookup *l, uint64_t after_us, uint64_t id, size_t query) {
  timer_push_at(l, l->now + after_us, id, query);
}

/* LIBTORRENT: whether short timeouts are noticed at all (and must be below the
 * hard one to matter). */
static bool lt_short(const dht_lookup *l) {
  return l->cfg.strategy == DHT_LOOKUP_LIBTORRENT && l->cfg.short_timeout_us > 0 &&
         l->cfg.short_timeout_us < l->cfg.timeout_us;
}

/* rpc_manager::tick never comes sooner than this after the previous one
 * (its std::max(ret, milliseconds(200))). */
#define LT_TICK_MIN_US 200000u

/* Arms rpc tick number `steps` at at_us (one at a time; not tied to a query). */
static void lt_arm_tick(dht_lookup *l, uint64_t at_us) {
  l->tick_armed = true;
  timer_push_at(l, at_us, l->steps << T_KIND_BITS | T_STEP, UINT32_MAX);
}

/* rpc_manager::tick for this lookup's transactions: every query awaited for
 * at least short_timeout_us and not yet slow becomes slow (one more may go
 * out); the next tick comes tick_us later, or when the hard timeout of a
 * query that was already slow is due (tick()'s min(timeout - diff, ret) over
 * the transactions it did not just short-time-out), but not before 200 ms.
 * In-flight queries are all in the window (the 100 cut abandons the others).
 * O(window). Returns DHT_LOOKUP_SLOW if a query became slow. */
static int lt_rpc_tick(dht_lookup *l) {
  uint64_t next = l->cfg.tick_us;
  bool slowed = false;
  l->tick_armed = false;
  l->steps++;
  for (size_t i = 0; i < l->win_len; i++) {
    cand *c = &l->cands[l->win[i]];
    if (!(c->flags & C_IN_FLIGHT))
      continue;
    uint64_t age = l->now - c->sent_us;
    if (age >= l->cfg.timeout_us)
      continue; /* its exact hard timer fails it at this instant */
    if (age >= l->cfg.short_timeout_us && !(c->flags & C_SLOW)) {
      c->flags |= C_SLOW;
      l->branch++;
      slowed = true;
      note(l, DHT_NOTE_SLOW, l->win[i]);
      continue;
    }
    if (l->cfg.timeout_us - age < next)
      next = l->cfg.timeout_us - age;
  }
  if (l->in_flight > 0)
    lt_arm_tick(l, l->now + MAX(next, (uint64_t)LT_TICK_MIN_US));
  return slowed ? DHT_LOOKUP_SLOW : DHT_LOOKUP_STEP;
}

/* The depth of the chain a query to ci ends: every strategy's sends come
 * through here, so hops means the same thing for all of them. */
static void note_hop(dht_lookup *l, uint32_t ci) {
  if (l->cands[ci].hop > l->hops)
    l->hops = l->cands[ci].hop;
}

/* Marks ci queried and in flight, writes it to out[n] and arms its timers:
 * the hard timeout, then (LIBTORRENT) the short one. The caller updates
 * in_flight/queried/rounds (ROUNDS counts them per batch). */
static void issue(dht_lookup *l, uint32_t ci, dht_node *out, size_t n) {
  cand *c = &l->cands[ci];
  c->flags |= C_QUERIED | C_IN_FLIGHT;
  out[n] = c->node;
  note_hop(l, ci);
  if (l->timers == NULL)
    return;
  timer_push(l, l->cfg.timeout_us, (uint64_t)ci << T_KIND_BITS | T_HARD, n);
  if (!lt_short(l))
    return;
  if (l->cfg.tick_us == 0) {
    timer_push(l, l->cfg.short_timeout_us, (uint64_t)ci << T_KIND_BITS | T_SHORT, n);
    return;
  }
  c->sent_us = l->now;
  if (!l->tick_armed) /* the node's tick, at whole multiples of tick_us until a hard timeout shifts it */
    lt_arm_tick(l, (l->now / l->cfg.tick_us + 1) * l->cfg.tick_us);
}

/* issue() plus the counters, for the strategies that send one query per node. */
static void send_one(dht_lookup *l, uint32_t ci, dht_node *out, size_t n) {
  issue(l, ci, out, n);
  l->in_flight++;
  l->queried++;
}

/* LIBTORRENT's add_requests (traversal_algorithm.cpp), as one walk over the
 * window from the closest: a responded node counts towards the k wanted (the
 * walk ends at the k-th); a queried node still awaited is outstanding (a slow
 * one too: the branch factor it raised is what lets one more go); an
 * unqueried one is sent while fewer than branch are outstanding. With out ==
 * NULL nothing is sent and an unqueried node that would be counts as
 * outstanding. Returns how many were sent; *done is the source's test
 * (k responded and nothing outstanding above them, or nothing in flight). */
static size_t lt_walk(dht_lookup *l, dht_node *out, size_t max, bool *done) {
  unsigned wanted = l->cfg.k, outstanding = 0;
  bool would_send = false;
  size_t n = 0;
  for (size_t i = 0; i < l->win_len && wanted > 0 && outstanding < l->branch; i++) {
    uint32_t ci = l->win[i];
    cand *c = &l->cands[ci];
    if (c->flags & C_RESPONDED) {
      wanted--;
      continue;
    }
    if (c->flags & C_QUERIED) {
      if (c->flags & C_IN_FLIGHT)
        outstanding++;
      continue;
    }
    outstanding++;
    if (out == NULL || n == max || !timer_room(l)) {
      would_send = true;
      continue;
    }
    send_one(l, ci, out, n++);
  }
  if (done != NULL)
    *done = !would_send && ((wanted == 0 && outstanding == 0) || l->in_flight == 0);
  return n;
}

/* BITTORRENT_DHT and ARIA2: up to alpha in flight, to the closest unqueried
 * nodes of the window (k-rpc's kick, aria2's sendMessage); bittorrent-dht
 * takes the routing-table seeds while its own table is still empty. With
 * out == NULL nothing is sent; returns how many were (or would be). */
static size_t window_next(dht_lookup *l, dht_node *out, size_t max) {
  size_t n = 0;
  bool seeds = l->win_len == 0;
  if (seeds && out == NULL) /* every seed sent so far has been popped: the heap holds unqueried ones only */
    return l->heap_len > 0 && l->in_flight < l->cfg.alpha ? 1 : 0;
  for (size_t i = 0; seeds ? l->heap_len > 0 : i < l->win_len; i++) {
    if (l->in_flight + (out == NULL ? n : 0) >= l->cfg.alpha || n == max || !timer_room(l))
      break;
    uint32_t ci = seeds ? l->heap[0] : l->win[i];
    cand *c = &l->cands[ci];
    if (c->flags & C_QUERIED) {
      if (seeds)
        (void)heap_pop(l);
      continue;
    }
    if (out == NULL) {
      n++;
      continue;
    }
    if (seeds)
      (void)heap_pop(l);
    send_one(l, ci, out, n++);
  }
  return n;
}

/* LIBP2P: isReadyToTerminate's tests over the reachable set (win[]):
 * starvation (nothing heard of, nothing awaited) or the beta closest all
 * answered. O(window). */
static bool lp_walk_over(const dht_lookup *l) {
  bool pending = false, all = true;
  for (size_t i = 0; i < l->win_len; i++) {
    uint8_t f = l->cands[l->win[i]].flags;
    if (!(f & C_QUERIED) || (f & C_IN_FLIGHT))
      pending = true;
    if (i < l->cfg.beta && !(f & C_RESPONDED))
      all = false;
  }
  return !pending || all;
}

/* LIBP2P: the walk (alpha - waiting closest heard-of peers), then at its end
 * the follow-up: the queries in flight cancelled, every peer among the
 * candidate_cap closest reachable that has not answered queried at once. */
static size_t lp_next(dht_lookup *l, dht_node *out, size_t max) {
  size_t n = 0;
  if (l->followup)
    return 0;
  if (!lp_walk_over(l)) {
    for (size_t i = 0; i < l->win_len && l->in_flight < l->cfg.alpha && n < max && timer_room(l); i++) {
      uint32_t ci = l->win[i];
      cand *c = &l->cands[ci];
      if (!(c->flags & C_QUERIED))
        send_one(l, ci, out, n++);
    }
    return n;
  }
  l->followup = true;
  for (size_t i = 0; i < l->win_len; i++) {
    cand *c = &l->cands[l->win[i]];
    if (c->flags & C_IN_FLIGHT) {
      drop_in_flight(l, c); /* cancelled with the walk's context */
      note(l, DHT_NOTE_CANCEL, l->win[i]);
    }
  }
  g_assert(l->in_flight == 0);
  note(l, DHT_NOTE_FOLLOWUP, NO_IDX);
  for (size_t i = 0; i < l->win_len && i < l->cfg.candidate_cap && n < max; i++) {
    uint32_t ci = l->win[i];
    cand *c = &l->cands[ci];
    if (c->flags & C_RESPONDED)
      continue;
    c->flags |= C_QUERIED | C_IN_FLIGHT | C_FOLLOW;
    out[n] = c->node;
    timer_push(l, l->cfg.timeout_us, (uint64_t)ci << T_KIND_BITS | T_FOLLOW, n);
    n++;
    l->in_flight++;
    l->queried++;
  }
  return n;
}

/* ---- MLDHT (PeerLookupTask, IterativeLookupCandidates, RequestCandidateEvaluator) ---- */

/* An MLDHT timer id: the call number under the candidate index. */
#define ML_CALL_BITS 3
static uint64_t ml_timer_id(uint32_t ci, unsigned t, unsigned kind) {
  return ((uint64_t)ci << ML_CALL_BITS | t) << T_KIND_BITS | kind;
}

/* nonSuccessfulDescendantCalls(s) < 3: the children of s that were called and
 * have not answered, each weighing 1 / its number of sources, rounded up. */
static bool ml_trusted_source(const dht_lookup *l, uint32_t s) {
  const mlc *m = &l->ml[s];
  double bad = 0.0;
  for (uint32_t e = m->kid_off; e < m->kid_off + m->n_kids; e++) {
    const mlc *k = &l->ml[l->edges[e].child];
    if (k->n_calls > 0 && !(l->cands[l->edges[e].child].flags & C_RESPONDED))
      bad += 1.0 / (k->n_src > 0 ? k->n_src : 1);
  }
  return bad <= 2.0; /* ceil(bad) < 3 */
}

/* lookupFilter: not answered; some source trusted (or none: a seed); no call
 * in flight that has not stalled; and floor(log2(max(1, sources + root))) at
 * least the calls already made to it (stalled or timed out). */
static bool ml_eligible(const dht_lookup *l, uint32_t ci) {
  const mlc *m = &l->ml[ci];
  if (l->cands[ci].flags & C_RESPONDED)
    return false;
  if (m->open & ~m->stalled)
    return false;
  if (m->n_src > 0) {
    bool trusted = false;
    for (uint32_t e = m->src_head; e != NO_IDX && !trusted; e = l->edges[e].next)
      trusted = ml_trusted_source(l, l->edges[e].source);
    if (!trusted)
      return false;
  }
  if (m->n_calls >= ML_CALLS_MAX)
    return false;
  unsigned sources = m->n_src + (m->root ? 1u : 0u), scaled = 0;
  while (sources >>= 1)
    scaled++;
  return scaled >= m->n_calls;
}

static bool ml_closer(const dht_lookup *l, uint32_t a, uint32_t b) {
  return dht_id_cmp(&l->cands[a].dist, &l->cands[b].dist) < 0;
}

/* candidateAheadOfClosestSet / ...Tail: the closest set (the k closest that
 * answered with a token) is not full, or ci is closer than its head / tail. */
static bool ml_ahead_of_head(const dht_lookup *l, uint32_t ci) {
  return l->closest_len < l->cfg.k || ml_closer(l, ci, l->closest[0]);
}
static bool ml_ahead_of_tail(const dht_lookup *l, uint32_t ci) {
  return l->closest_len < l->cfg.k || ml_closer(l, ci, l->closest[l->cfg.k - 1]);
}

/* inStabilization: a member of the closest set returned by >= 5 nodes, or two by >= 4. */
static bool ml_stabilising(const dht_lookup *l) {
  unsigned four = 0;
  for (size_t i = 0; i < l->closest_len; i++) {
    uint32_t n = l->ml[l->closest[i]].n_src;
    if (n >= 5)
      return true;
    four += n >= 4;
  }
  return four >= 2;
}

static bool ml_termination(const dht_lookup *l, uint32_t ci) {
  return !ml_ahead_of_tail(l, ci) && (ml_stabilising(l) || l->ml_tail_misses > l->cfg.k);
}

/* goodForRequest (the permit is checked by the caller). */
static bool ml_good(const dht_lookup *l, uint32_t ci) {
  if (ml_ahead_of_head(l, ci))
    return true;
  if (ml_ahead_of_tail(l, ci) && ml_stabilising(l))
    return true;
  return !ml_termination(l, ci) && l->in_flight == l->ml_stalled; /* no active (unstalled) call */
}

/* checkFreeSlot != NONE_ALLOWED: fewer than alpha calls unanswered, or fewer
 * than alpha active (the stalled ones freed their slots) unless fewer than a
 * third of the calls sent were answered. */
static bool ml_permit(const dht_lookup *l) {
  unsigned unanswered = l->in_flight, active = l->in_flight - l->ml_stalled;
  if (unanswered >= l->cfg.alpha && l->ml_received * 3 < l->ml_sent)
    return false;
  return unanswered < l->cfg.alpha || active < l->cfg.alpha;
}

/* The closest eligible candidate (next()); fresh_only: never called. */
static uint32_t ml_first(const dht_lookup *l, bool fresh_only) {
  for (size_t i = 0; i < l->win_len; i++) {
    uint32_t ci = l->win[i];
    if (fresh_only && l->ml[ci].n_calls > 0)
      continue;
    if (ml_eligible(l, ci))
      return ci;
  }
  return NO_IDX;
}

/* next2(goodForRequest): the closest never-called eligible candidate if it is
 * good for a request, else the closest eligible one (a retransmit) if it is. */
static uint32_t ml_pick(const dht_lookup *l) {
  uint32_t ci = ml_first(l, true);
  if (ci != NO_IDX && ml_good(l, ci))
    return ci;
  ci = ml_first(l, false);
  return ci != NO_IDX && ml_good(l, ci) ? ci : NO_IDX;
}

/* isDone: nothing unanswered (stalled calls included), and no eligible
 * candidate or the termination precondition on the closest one. */
static bool ml_done(const dht_lookup *l) {
  if (l->in_flight > 0)
    return false;
  uint32_t ci = ml_first(l, false);
  return ci == NO_IDX || ml_termination(l, ci);
}

/* One call to ci: the hard timer, then the stall timer (the filter's stall
 * timeout now; none when it is not below the hard one). */
static void ml_send(dht_lookup *l, uint32_t ci, dht_node *out, size_t n) {
  cand *c = &l->cands[ci];
  mlc *m = &l->ml[ci];
  unsigned t = m->n_calls++;
  if (t > 0)
    note(l, DHT_NOTE_RETRY, ci);
  m->open |= (uint8_t)(1u << t);
  m->sent_us[t] = l->now;
  c->flags |= C_QUERIED | C_IN_FLIGHT;
  out[n] = c->node;
  l->in_flight++;
  l->queried++;
  l->ml_sent++;
  note_hop(l, ci);
  timer_push(l, l->cfg.timeout_us, ml_timer_id(ci, t, T_HARD), n);
  uint64_t stall = dht_rtt_filter_stall_us(l->rtt);
  if (stall < l->cfg.timeout_us)
    timer_push(l, stall, ml_timer_id(ci, t, T_SHORT), n);
}

/* update(): nothing once done; else while a slot is free, the picked candidate. */
static size_t ml_next(dht_lookup *l, dht_node *out, size_t max) {
  size_t n = 0;
  if (ml_done(l))
    return 0;
  while (n < max && timer_room(l) && ml_permit(l)) {
    uint32_t ci = ml_pick(l);
    if (ci == NO_IDX)
      break;
    ml_send(l, ci, out, n++);
  }
  return n;
}

/* Call t of ci is over (answered or timed out). */
static void ml_close(dht_lookup *l, uint32_t ci, unsigned t) {
  mlc *m = &l->ml[ci];
  uint8_t bit = (uint8_t)(1u << t);
  m->open &= (uint8_t)~bit;
  if (m->stalled & bit) {
    m->stalled &= (uint8_t)~bit;
    l->ml_stalled--;
  }
  l->in_flight--;
  if (m->open == 0)
    l->cands[ci].flags &= (uint8_t)~C_IN_FLIGHT;
}

/* The driver matches answers by address: an answer goes to the oldest open call. */
static unsigned ml_oldest(const mlc *m) {
  unsigned t = 0;
  while (!(m->open & (1u << t)))
    t++;
  return t;
}

/* ClosestSet.insert: a full set counts the inserts that fall off its tail
 * (reset when another member falls off). */
static void ml_closest_insert(dht_lookup *l, uint32_t ci) {
  bool full = l->closest_len == l->cfg.k;
  bool falls_off = full && !cand_less(l, ci, l->closest[l->cfg.k - 1]);
  closest_insert(l, ci);
  if (full)
    l->ml_tail_misses = falls_off ? l->ml_tail_misses + 1 : 0;
}

/* acceptResponse + callFinished: the first answer of a node is used: its
 * nodes become candidates with it as a source, its peers are kept, and with a
 * token it enters the closest set. Storage reserved by the caller. */
static void ml_accept(dht_lookup *l, uint32_t ci, const dht_lookup_reply *r) {
  cand *c = &l->cands[ci];
  c->flags |= C_RESPONDED;
  c->token_len = (uint8_t)r->token_len;
  if (r->token_len > 0) {
    memcpy(l->tokb[ci], r->token, r->token_len);
    ml_closest_insert(l, ci);
  }
  g_assert(l->n_tokens < l->cap_cands);
  l->tokens[l->n_tokens++] = ci;
  for (size_t i = 0; i < r->n_peers; i++)
    add_peer(l, &r->peers[i]);
  l->ml[ci].kid_off = (uint32_t)l->n_edges;
  l->ml[ci].n_kids = 0;
  for (size_t i = 0; i < r->n_nodes; i++) {
    uint32_t k = add_candidate(l, &r->nodes[i], l->cands[ci].hop + 1);
    bool dup = k == NO_IDX;
    for (uint32_t e = l->ml[ci].kid_off; !dup && e < l->n_edges; e++)
      dup = l->edges[e].child == k;
    if (dup)
      continue;
    g_assert(l->n_edges < l->cap_edges);
    l->edges[l->n_edges] = (edge){.source = ci, .child = k, .next = l->ml[k].src_head};
    l->ml[k].src_head = (uint32_t)l->n_edges++;
    l->ml[k].n_src++;
    l->ml[ci].n_kids++;
  }
}

/* An answer from ci (validated, storage reserved): closes its oldest call,
 * feeds the filter (not for seeds: mldht keeps routing-table nodes out of
 * it), and is used if it is the node's first. */
static void ml_reply(dht_lookup *l, uint32_t ci, const dht_lookup_reply *r) {
  unsigned t = ml_oldest(&l->ml[ci]);
  uint64_t rtt = l->now - l->ml[ci].sent_us[t];
  ml_close(l, ci, t);
  l->ml_received++;
  if (!l->ml[ci].root)
    dht_rtt_filter_update(l->rtt, rtt);
  if (!(l->cands[ci].flags & C_RESPONDED))
    ml_accept(l, ci, r);
}

/* A stall or hard timer of one call. */
static int ml_tick(dht_lookup *l, uint64_t id) {
  unsigned kind = (unsigned)(id & ((1u << T_KIND_BITS) - 1));
  uint64_t ci = id >> T_KIND_BITS >> ML_CALL_BITS;
  unsigned t = (unsigned)(id >> T_KIND_BITS & ((1u << ML_CALL_BITS) - 1));
  if (ci >= l->n_cands || (kind != T_HARD && kind != T_SHORT))
    return DHT_EINVAL;
  mlc *m = &l->ml[ci];
  uint8_t bit = (uint8_t)(1u << t);
  if (!(m->open & bit))
    return 0; /* answered since */
  if (kind == T_SHORT) {
    m->stalled |= bit; /* armed once per call */
    l->ml_stalled++;
    note(l, DHT_NOTE_STALL, (uint32_t)ci);
    return DHT_LOOKUP_SLOW;
  }
  ml_close(l, (uint32_t)ci, t);
  note(l, DHT_NOTE_FAILED, (uint32_t)ci);
  return DHT_LOOKUP_TIMED_OUT;
}

/* JECH: search_send_get_peers' test (dht.c): never answered, still in the
 * search, fewer than `retries` queries, none in the last timeout_us. */
static bool jech_eligible(const dht_lookup *l, const cand *c) {
  if ((c->flags & (C_RESPONDED | C_OUT)) || c->tries >= l->cfg.retries)
    return false;
  return c->tries == 0 || c->sent_us + l->cfg.timeout_us < l->now;
}

/* JECH: one get_peers to ci (a first query or a retry). Every send counts as
 * a query; the node stays awaited until it answers, whatever its tries. */
static void jech_send(dht_lookup *l, uint32_t ci, dht_node *out, size_t n) {
  cand *c = &l->cands[ci];
  if (c->tries > 0)
    note(l, DHT_NOTE_RETRY, ci);
  if (!(c->flags & C_IN_FLIGHT)) {
    c->flags |= C_QUERIED | C_IN_FLIGHT;
    l->in_flight++;
  }
  c->tries++;
  c->sent_us = l->now;
  out[n] = c->node;
  l->queried++;
  note_hop(l, ci);
}

/* JECH's sends: a step (search_step: up to alpha eligible nodes, closest
 * first; the next step armed) and one query per answer applied since the
 * last call (the reply handler's search_send_get_peers(sr, NULL), whose loop
 * keeps the last eligible node it meets: the farthest). */
static size_t jech_next(dht_lookup *l, dht_node *out, size_t max) {
  size_t n = 0;
  if (l->finished)
    return 0;
  if ((l->step_due || l->steps == 0) && l->n_timers < TIMERS_CAP) {
    unsigned sent = 0;
    l->step_due = false;
    note(l, DHT_NOTE_STEP, NO_IDX);
    for (size_t i = 0; i < l->win_len && sent < l->cfg.alpha && n < max; i++)
      if (jech_eligible(l, &l->cands[l->win[i]])) {
        jech_send(l, l->win[i], out, n++);
        sent++;
      }
    l->steps++;
    /* jech steps at step_time + 10 s + random() % 10 s; core has no
     * randomness: the mean, 15 s (docs/strategies.md). */
    timer_push(l, l->cfg.timeout_us + l->cfg.timeout_us / 2, l->steps << T_KIND_BITS | T_STEP, UINT32_MAX);
  }
  for (; l->answer_sends > 0 && n < max; l->answer_sends--)
    for (size_t i = l->win_len; i-- > 0;)
      if (jech_eligible(l, &l->cands[l->win[i]])) {
        jech_send(l, l->win[i], out, n++);
        break;
      }
  l->answer_sends = 0;
  return n;
}

/* JECH's end test (search_step): the k closest live nodes (dead: `retries`
 * queries, no answer) have all answered. */
static bool jech_all_answered(const dht_lookup *l) {
  unsigned live = 0;
  for (size_t i = 0; i < l->win_len && live < l->cfg.k; i++) {
    const cand *c = &l->cands[l->win[i]];
    if (c->flags & C_RESPONDED)
      live++;
    else if (c->tries < l->cfg.retries)
      return false;
  }
  return true;
}

/* ---- public API ---------------------------------------------------------- */

dht_lookup *dht_lookup_new(const dht_id *target, const dht_id *local_id,
                           const dht_lookup_config *cfg) {
  dht_lookup *l = NULL;
  g_return_val_if_fail(target != NULL, NULL);
  g_return_val_if_fail(cfg != NULL, NULL);
  if (cfg->alpha < 1 || cfg->alpha > DHT_ALPHA_MAX || cfg->k < 1 || cfg->k > DHT_K_MAX ||
      cfg->strategy < DHT_LOOKUP_ROUNDS || cfg->strategy > DHT_LOOKUP_MLDHT)
    return NULL;
  if (cfg->strategy == DHT_LOOKUP_LIBP2P &&
      (cfg->beta < 1 || cfg->candidate_cap > DHT_IN_FLIGHT_MAX || cfg->timeout_us == 0))
    return NULL;
  bool win = strategy_windowed(cfg->strategy);
  bool ml = cfg->strategy == DHT_LOOKUP_MLDHT;
  if (ml && cfg->timeout_us == 0)
    return NULL; /* its calls need their timers */
  if (win && !ml && (cfg->candidate_cap < 1 || cfg->candidate_cap > DHT_CANDIDATE_CAP_MAX))
    return NULL;
  /* jech's search is driven by its step timer: it needs the clock. */
  if (cfg->strategy == DHT_LOOKUP_JECH && (cfg->timeout_us == 0 || cfg->retries < 1 || cfg->retries > 255))
    return NULL;

  l = g_try_new0(dht_lookup, 1);
  if (l == NULL)
    goto err;
  l->target = *target;
  if (local_id != NULL) {
    l->local = *local_id;
    l->has_local = true;
  }
  l->cfg = *cfg;
  l->cap_cands = INITIAL_CANDS;
  l->cands = g_try_new(cand, l->cap_cands);
  l->tokb = g_try_malloc_n(l->cap_cands, sizeof *l->tokb);
  l->heap = g_try_new(uint32_t, l->cap_cands);
  l->tokens = g_try_new(uint32_t, l->cap_cands);
  l->ctab = table_new(table_size_for(l->cap_cands));
  l->ctab_mask = table_size_for(l->cap_cands) - 1;
  l->closest = g_try_new(uint32_t, cfg->k);
  if (l->cands == NULL || l->tokb == NULL || l->heap == NULL || l->tokens == NULL || l->ctab == NULL ||
      l->closest == NULL)
    goto err;
  if (cfg->strategy == DHT_LOOKUP_ROUNDS) {
    l->batch = g_try_new0(slot, cfg->alpha);
    if (l->batch == NULL)
      goto err;
  }
  if (cfg->timeout_us > 0 && (l->timers = g_try_new(dht_lookup_timer, TIMERS_CAP)) == NULL)
    goto err;
  /* MLDHT keeps every candidate: its window grows with cands. */
  l->win_cap = cfg->strategy == DHT_LOOKUP_LIBP2P ? DHT_CANDIDATE_CAP_MAX : ml ? SIZE_MAX : cfg->candidate_cap;
  if (win && (l->win = g_try_new(uint32_t, ml ? l->cap_cands : l->win_cap)) == NULL)
    goto err;
  if (ml) {
    l->ml = g_try_new(mlc, l->cap_cands);
    l->rtt = cfg->rtt;
    if (l->rtt == NULL && (l->rtt = l->own_rtt = g_try_new(dht_rtt_filter, 1)) != NULL)
      dht_rtt_filter_init(l->rtt);
    if (l->ml == NULL || l->rtt == NULL)
      goto err;
  }
  l->branch = cfg->alpha;
  return l;

err:
  dht_lookup_free(l);
  return NULL;
}

void dht_lookup_free(dht_lookup *l) {
  if (l == NULL)
    return;
  g_free(l->cands);
  g_free(l->tokb);
  g_free(l->ctab);
  g_free(l->heap);
  g_free(l->closest);
  g_free(l->tokens);
  g_free(l->peers);
  g_free(l->ptab);
  g_free(l->batch);
  g_free(l->bpeers);
  g_free(l->bnodes);
  g_free(l->timers);
  g_free(l->win);
  g_free(l->pfx);
  g_free(l->ml);
  g_free(l->edges);
  g_free(l->own_rtt);
  g_free(l);
}

/* The clients' defaults, indexed by strategy (docs/strategies.md cites each
 * figure's source file and commit). seeds 0: k. */
static const dht_lookup_config client_defaults[] = {
    /* The seed's alpha 3 and K 8; 2 s is dhtsim's historical per-query timeout. */
    [DHT_LOOKUP_ROUNDS] = {.alpha = DHT_ALPHA_DEFAULT, .k = DHT_K_DEFAULT, .timeout_us = 2000000},
    [DHT_LOOKUP_PIPELINED] = {.alpha = DHT_ALPHA_DEFAULT, .k = DHT_K_DEFAULT, .timeout_us = 2000000},
    /* settings_pack.cpp: dht_search_branching 5; bucket size 8; rpc_manager.cpp:
     * short timeout 1 s, timeout 15 s, noticed by tick(), which dht_tracker.cpp's
     * connection_timeout runs every second; traversal_algorithm.cpp: 100 results. */
    [DHT_LOOKUP_LIBTORRENT] = {.alpha = 5, .k = DHT_K_DEFAULT, .timeout_us = 15000000, .short_timeout_us = 1000000,
                               .tick_us = 1000000, .candidate_cap = 100, .restrict_search_ips = true},
    /* dht.c: DHT_INFLIGHT_QUERIES 4 per step, the 8 closest live nodes,
     * SEARCH_NODES 14, DHT_SEARCH_RETRANSMIT 10 s, dead after 3 requests. */
    [DHT_LOOKUP_JECH] = {.alpha = 4, .k = DHT_K_DEFAULT, .timeout_us = 10000000, .candidate_cap = 14, .retries = 3,
                         .seeds = 14},
    /* k-rpc index.js: K 20, MAX_CONCURRENCY 16; k-rpc-socket: timeout 2 s. */
    [DHT_LOOKUP_BITTORRENT_DHT] = {.alpha = 16, .k = DHT_K_DEFAULT, .timeout_us = 2000000, .candidate_cap = 20,
                                   .seeds = 20},
    /* DHTAbstractNodeLookupTask.h: ALPHA 3, entries cut to DHTBucket::K (8);
     * DHTConstants.h: DHT_MESSAGE_TIMEOUT 10 s. */
    [DHT_LOOKUP_ARIA2] = {.alpha = 3, .k = DHT_K_DEFAULT, .timeout_us = 10000000, .candidate_cap = 8},
    /* amino/defaults.go: DefaultBucketSize 20, DefaultConcurrency 10,
     * DefaultResiliency (beta) 3; a 10 s query timeout. */
    [DHT_LOOKUP_LIBP2P] = {.alpha = 10, .k = DHT_K_DEFAULT, .timeout_us = 10000000, .candidate_cap = 20, .beta = 3,
                           .seeds = 20},
    /* DHTConstants.java: MAX_CONCURRENT_REQUESTS 10, MAX_ENTRIES_PER_BUCKET 8
     * (the closest set), RPC_CALL_TIMEOUT_MAX 10 s; PeerLookupTask.start: the
     * 4 * 8 closest routing-table nodes. */
    [DHT_LOOKUP_MLDHT] = {.alpha = 10, .k = DHT_K_DEFAULT, .timeout_us = 10000000, .seeds = 32},
};

int dht_lookup_config_defaults(dht_lookup_config *cfg, dht_lookup_strategy s) {
  g_return_val_if_fail(cfg != NULL, DHT_EINVAL);
  if ((int)s < 0 || (size_t)s >= G_N_ELEMENTS(client_defaults))
    return DHT_EINVAL;
  *cfg = client_defaults[s];
  cfg->strategy = s;
  return DHT_OK;
}

void dht_lookup_clock(dht_lookup *l, uint64_t now_us) {
  g_return_if_fail(l != NULL);
  if (now_us > l->now)
    l->now = now_us;
}

size_t dht_lookup_timers(dht_lookup *l, dht_lookup_timer *out, size_t max) {
  g_return_val_if_fail(l != NULL, 0);
  g_return_val_if_fail(out != NULL || max == 0, 0);
  size_t n = l->n_timers < max ? l->n_timers : max;
  if (n == 0)
    return 0;
  memcpy(out, l->timers, n * sizeof *out);
  memmove(l->timers, l->timers + n, (l->n_timers - n) * sizeof *l->timers);
  l->n_timers -= n;
  return n;
}

bool dht_lookup_awaiting(const dht_lookup *l, const dht_addr *from) {
  g_return_val_if_fail(l != NULL && from != NULL, false);
  uint32_t ci = ctab_find(l, from, NULL);
  return ci != NO_IDX && (l->cands[ci].flags & C_IN_FLIGHT);
}

int dht_lookup_seed(dht_lookup *l, const dht_node *nodes, size_t n) {
  g_return_val_if_fail(l != NULL, DHT_EINVAL);
  g_return_val_if_fail(nodes != NULL || n == 0, DHT_EINVAL);
  int rc = reserve_cands(l, n);
  if (rc != DHT_OK)
    return rc;
  for (size_t i = 0; i < n; i++)
    add_candidate(l, &nodes[i], 1);
  return DHT_OK;
}

/* The strategies' sends; dht_lookup_next does the accounting. */
static size_t next_queries(dht_lookup *l, dht_node *out, size_t max) {
  size_t n = 0;

  if (l->cfg.strategy == DHT_LOOKUP_ROUNDS) {
    /* A new batch only once the previous one has been applied, and only if
     * the convergence test (run once, before the batch) says go on. */
    if (l->in_flight > 0 || max == 0 || converged(l))
      return 0;
    g_assert(l->batch_len == 0);
    while (n < l->cfg.alpha && n < max && l->heap_len > 0 && timer_room(l)) {
      uint32_t ci = heap_pop(l);
      l->batch[n] = (slot){.cand = ci, .state = SLOT_WAIT};
      issue(l, ci, out, n);
      n++;
    }
    l->batch_len = n;
    l->in_flight = (unsigned)n;
    l->queried += n;
    return n;
  }

  if (l->cfg.strategy == DHT_LOOKUP_LIBTORRENT)
    return lt_walk(l, out, max, NULL);
  if (l->cfg.strategy == DHT_LOOKUP_JECH)
    return jech_next(l, out, max);
  if (l->cfg.strategy == DHT_LOOKUP_BITTORRENT_DHT || l->cfg.strategy == DHT_LOOKUP_ARIA2)
    return window_next(l, out, max);
  if (l->cfg.strategy == DHT_LOOKUP_LIBP2P)
    return lp_next(l, out, max);
  if (l->cfg.strategy == DHT_LOOKUP_MLDHT)
    return ml_next(l, out, max);

  /* PIPELINED: top up to alpha in flight while the test says go on. */
  while (l->in_flight < l->cfg.alpha && n < max && !converged(l) && timer_room(l)) {
    send_one(l, heap_pop(l), out, n++);
  }
  g_assert(l->in_flight <= l->cfg.alpha);
  return n;
}

size_t dht_lookup_next(dht_lookup *l, dht_node *out, size_t max) {
  g_return_val_if_fail(l != NULL, 0);
  g_return_val_if_fail(out != NULL || max == 0, 0);
  size_t n = next_queries(l, out, max);
  /* One call is one decision: what it sends together is one batch (the
   * seed's round in ROUNDS), so rounds means the same in every strategy. */
  if (n > 0)
    l->rounds++;
  return n;
}

int dht_lookup_reply_from(dht_lookup *l, const dht_addr *from, const dht_lookup_reply *r) {
  int rc;
  g_return_val_if_fail(l != NULL, DHT_EINVAL);
  g_return_val_if_fail(from != NULL, DHT_EINVAL);
  g_return_val_if_fail(r != NULL, DHT_EINVAL);

  uint32_t ci = ctab_find(l, from, NULL);
  if (ci == NO_IDX || !(l->cands[ci].flags & C_IN_FLIGHT))
    return DHT_ENOENT;
  /* Malformed: rejected, and the query stays in flight (the driver will
   * report it failed on timeout, or a well-formed answer may still come). */
  if (r->token_len > DHT_TOKEN_MAX || (r->token == NULL && r->token_len > 0) ||
      (r->peers == NULL && r->n_peers > 0) || (r->nodes == NULL && r->n_nodes > 0))
    return DHT_EINVAL;

  if (l->cfg.strategy == DHT_LOOKUP_ROUNDS) {
    if ((rc = reserve_buffers(l, r->n_peers, r->n_nodes)) != DHT_OK)
      return rc;
    if (l->in_flight == 1 && (rc = reserve_flush(l, r->n_peers, r->n_nodes)) != DHT_OK)
      return rc;
    /* From here on nothing can fail. */
    slot *s = &l->batch[batch_slot(l, ci)];
    g_assert(s->state == SLOT_WAIT);
    s->state = SLOT_ANSWERED;
    s->peer_off = l->n_bpeers;
    s->n_peers = r->n_peers;
    s->node_off = l->n_bnodes;
    s->n_nodes = r->n_nodes;
    if (r->n_peers > 0)
      memcpy(l->bpeers + l->n_bpeers, r->peers, r->n_peers * sizeof *r->peers);
    if (r->n_nodes > 0)
      memcpy(l->bnodes + l->n_bnodes, r->nodes, r->n_nodes * sizeof *r->nodes);
    l->n_bpeers += r->n_peers;
    l->n_bnodes += r->n_nodes;
  } else {
    if ((rc = reserve_cands(l, r->n_nodes)) != DHT_OK || (rc = reserve_peers(l, r->n_peers)) != DHT_OK ||
        (rc = reserve_graph(l, r->n_nodes)) != DHT_OK)
      return rc;
  }
  if (l->cfg.strategy == DHT_LOOKUP_MLDHT) {
    ml_reply(l, ci, r);
    return DHT_OK;
  }

  cand *c = &l->cands[ci];
  c->token_len = (uint8_t)r->token_len;
  if (r->token_len > 0)
    memcpy(l->tokb[ci], r->token, r->token_len);
  drop_in_flight(l, c); /* LIBTORRENT: a slow query's late answer gives its extra slot back */

  if (l->cfg.strategy == DHT_LOOKUP_ROUNDS) {
    if (l->in_flight == 0)
      flush_batch(l);
  } else {
    /* k-rpc adds the responder to the lookup's table before its nodes. */
    if (l->cfg.strategy == DHT_LOOKUP_BITTORRENT_DHT && !(c->flags & (C_WIN | C_OUT)))
      win_insert(l, ci);
    apply_answer(l, ci, r->peers, r->n_peers, r->nodes, r->n_nodes);
    if (l->cfg.strategy == DHT_LOOKUP_JECH)
      l->answer_sends++;
  }
  return DHT_OK;
}

int dht_lookup_failed(dht_lookup *l, const dht_addr *from) {
  g_return_val_if_fail(l != NULL, DHT_EINVAL);
  g_return_val_if_fail(from != NULL, DHT_EINVAL);

  uint32_t ci = ctab_find(l, from, NULL);
  if (ci == NO_IDX || !(l->cands[ci].flags & C_IN_FLIGHT))
    return DHT_ENOENT;
  if (l->cfg.strategy == DHT_LOOKUP_MLDHT) {
    ml_close(l, ci, ml_oldest(&l->ml[ci])); /* as a timeout of its oldest call */
    note(l, DHT_NOTE_FAILED, ci);
    return DHT_OK;
  }
  if (l->cfg.strategy == DHT_LOOKUP_ROUNDS) {
    int rc;
    if (l->in_flight == 1 && (rc = reserve_flush(l, 0, 0)) != DHT_OK)
      return rc;
    slot *s = &l->batch[batch_slot(l, ci)];
    g_assert(s->state == SLOT_WAIT);
    s->state = SLOT_FAILED;
  }
  /* A failed node stays queried and never responded: never retried. */
  drop_in_flight(l, &l->cands[ci]);
  note(l, DHT_NOTE_FAILED, ci);
  /* aria2 drops a timed-out entry; for libp2p the peer is unreachable, out
   * of the set (a follow-up failure changes nothing). */
  if ((l->cfg.strategy == DHT_LOOKUP_ARIA2 || (l->cfg.strategy == DHT_LOOKUP_LIBP2P && !l->followup)) &&
      (l->cands[ci].flags & C_WIN)) {
    win_remove(l, ci);
    note(l, DHT_NOTE_EVICT, ci);
  }
  if (l->cfg.strategy == DHT_LOOKUP_ROUNDS && l->in_flight == 0)
    flush_batch(l);
  return DHT_OK;
}

int dht_lookup_tick(dht_lookup *l, uint64_t now_us, uint64_t id) {
  g_return_val_if_fail(l != NULL, DHT_EINVAL);
  dht_lookup_clock(l, now_us);
  if (l->cfg.strategy == DHT_LOOKUP_MLDHT)
    return ml_tick(l, id);
  uint64_t ci = id >> T_KIND_BITS;
  if ((id & ((1u << T_KIND_BITS) - 1)) == T_STEP) {
    if (l->cfg.strategy == DHT_LOOKUP_LIBTORRENT)
      return l->tick_armed && ci == l->steps ? lt_rpc_tick(l) : 0;
    if (l->cfg.strategy != DHT_LOOKUP_JECH || ci != l->steps || l->finished)
      return 0; /* not the armed step */
    if (jech_all_answered(l)) {
      l->finished = true;
      note(l, DHT_NOTE_FINISH, NO_IDX);
    } else
      l->step_due = true;
    return DHT_LOOKUP_STEP;
  }
  if (ci >= l->n_cands)
    return DHT_EINVAL;
  cand *c = &l->cands[ci];
  if (!(c->flags & C_IN_FLIGHT))
    return 0; /* answered, failed or abandoned since: each node is queried once */
  switch (id & ((1u << T_KIND_BITS) - 1)) {
  case T_FOLLOW:
  case T_HARD: {
    /* A walk query cancelled and sent again by the follow-up: only the
     * follow-up's timer counts. */
    if (((id & ((1u << T_KIND_BITS) - 1)) == T_FOLLOW) != ((c->flags & C_FOLLOW) != 0))
      return 0;
    int rc = dht_lookup_failed(l, &c->node.addr);
    return rc < 0 ? rc : DHT_LOOKUP_TIMED_OUT;
  }
  case T_SHORT:
    /* rpc_manager::tick's short timeout: still awaited, but one more query may
     * go out in its place (traversal_algorithm::failed with short_timeout). */
    if (c->flags & C_SLOW)
      return 0;
    c->flags |= C_SLOW;
    l->branch++;
    note(l, DHT_NOTE_SLOW, (uint32_t)ci);
    return DHT_LOOKUP_SLOW;
  default:
    return DHT_EINVAL;
  }
}

bool dht_lookup_done(const dht_lookup *l) {
  g_return_val_if_fail(l != NULL, true);
  if (l->cfg.strategy == DHT_LOOKUP_LIBTORRENT) {
    bool done;
    (void)lt_walk((dht_lookup *)l, NULL, 0, &done); /* sends nothing with out == NULL: no mutation */
    return done;
  }
  if (l->cfg.strategy == DHT_LOOKUP_JECH)
    return l->finished;
  if (l->cfg.strategy == DHT_LOOKUP_BITTORRENT_DHT || l->cfg.strategy == DHT_LOOKUP_ARIA2)
    return l->in_flight == 0 && window_next((dht_lookup *)l, NULL, SIZE_MAX) == 0; /* out == NULL: no mutation */
  if (l->cfg.strategy == DHT_LOOKUP_LIBP2P)
    return l->followup && l->in_flight == 0;
  if (l->cfg.strategy == DHT_LOOKUP_MLDHT)
    return ml_done(l);
  return l->in_flight == 0 && converged(l);
}

void dht_lookup_set_observer(dht_lookup *l, dht_lookup_observer fn, void *user) {
  g_return_if_fail(l != NULL);
  l->obs = fn;
  l->obs_user = fn != NULL ? user : NULL;
}

const char *dht_lookup_note_name(dht_lookup_note n) {
  static const char *const names[DHT_NOTE_COUNT] = {
      [DHT_NOTE_FAILED] = "failed", [DHT_NOTE_SLOW] = "slow",       [DHT_NOTE_ABANDON] = "abandon",
      [DHT_NOTE_RETRY] = "retry",   [DHT_NOTE_STEP] = "step",       [DHT_NOTE_FINISH] = "finish",
      [DHT_NOTE_CANCEL] = "cancel", [DHT_NOTE_FOLLOWUP] = "followup", [DHT_NOTE_STALL] = "stall",
      [DHT_NOTE_EVICT] = "evict",
  };
  return (unsigned)n < DHT_NOTE_COUNT ? names[n] : NULL;
}

unsigned dht_lookup_in_flight(const dht_lookup *l) {
  g_return_val_if_fail(l != NULL, 0);
  return l->in_flight;
}

size_t dht_lookup_queried_count(const dht_lookup *l) {
  g_return_val_if_fail(l != NULL, 0);
  return l->queried;
}

size_t dht_lookup_rounds(const dht_lookup *l) {
  g_return_val_if_fail(l != NULL, 0);
  return l->rounds;
}

size_t dht_lookup_hops(const dht_lookup *l) {
  g_return_val_if_fail(l != NULL, 0);
  return l->hops;
}

uint64_t dht_lookup_result_version(const dht_lookup *l) {
  g_return_val_if_fail(l != NULL, 0);
  return l->result_version;
}

const dht_addr *dht_lookup_peers(const dht_lookup *l, size_t *n) {
  g_return_val_if_fail(l != NULL, NULL);
  g_return_val_if_fail(n != NULL, NULL);
  *n = l->n_peers;
  return l->peers;
}

size_t dht_lookup_closest(const dht_lookup *l, dht_node *out, size_t max) {
  g_return_val_if_fail(l != NULL, 0);
  g_return_val_if_fail(out != NULL || max == 0, 0);
  size_t n = l->closest_len < max ? l->closest_len : max;
  for (size_t i = 0; i < n; i++)
    out[i] = l->cands[l->closest[i]].node;
  return n;
}

size_t dht_lookup_token_count(const dht_lookup *l) {
  g_return_val_if_fail(l != NULL, 0);
  return l->n_tokens;
}

int dht_lookup_token_at(const dht_lookup *l, size_t i, dht_node *node, const uint8_t **token,
                        size_t *token_len) {
  g_return_val_if_fail(l != NULL, DHT_EINVAL);
  if (i >= l->n_tokens)
    return DHT_ERANGE;
  const cand *c = &l->cands[l->tokens[i]];
  if (node != NULL)
    *node = c->node;
  if (token != NULL)
    *token = l->tokb[l->tokens[i]];
  if (token_len != NULL)
    *token_len = c->token_len;
  return DHT_OK;
}

int dht_lookup_token_for(const dht_lookup *l, const dht_addr *addr, const uint8_t **token,
                         size_t *token_len) {
  g_return_val_if_fail(l != NULL, DHT_EINVAL);
  g_return_val_if_fail(addr != NULL, DHT_EINVAL);
  uint32_t ci = ctab_find(l, addr, NULL);
  if (ci == NO_IDX || !(l->cands[ci].flags & C_RESPONDED))
    return DHT_ENOENT;
  if (token != NULL)
    *token = l->tokb[ci];
  if (token_len != NULL)
    *token_len = l->cands[ci].token_len;
  return DHT_OK;
}
