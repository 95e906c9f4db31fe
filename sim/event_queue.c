/* event_queue.c: two 4-ary min-heaps and a few FIFO lanes of sim_event, one
 * (time_us, seq) order. Invariants: in each heap, for every i > 0,
 * key(ev[(i-1)/4]) < key(ev[i]); in each lane, keys increase from head to
 * tail; keys are unique because seq is (next_seq at push), shared by all.
 * Heap push and pop are O(log4 n) moves of 32-byte events, a lane's O(1);
 * a pop compares the heads of at most 2 + SIM_EQ_LANES. */
#include "event_queue.h"

#include <glib.h>
#include <string.h>

#include "error.h"

#define EQ_ARITY 4

/* Strict (time_us, seq) order; seq is unique, so the order is total. As one
 * 128-bit compare: branch-free (a compare and a subtract with borrow), where
 * the two-step test mispredicted on the random times of the heap's events. */
static inline bool ev_before(const sim_event *a, const sim_event *b) {
#ifdef __SIZEOF_INT128__
  unsigned __int128 ka = (unsigned __int128)a->time_us << 64 | a->seq, kb = (unsigned __int128)b->time_us << 64 | b->seq;
  return ka < kb;
#else
  return a->time_us < b->time_us || (a->time_us == b->time_us && a->seq < b->seq);
#endif
}

/* Reallocates to new_cap events; DHT_ENOMEM (heap unchanged) on overflow
 * (g_try_realloc_n checks the product) or failure. */
static int heap_reserve(sim_eq_heap *h, size_t new_cap) {
  sim_event *ev = g_try_realloc_n(h->ev, new_cap, sizeof *ev);
  if (ev == NULL)
    return DHT_ENOMEM;
  h->ev = ev;
  h->cap = new_cap;
  return DHT_OK;
}

int sim_eq_init(sim_event_queue *q, size_t initial_cap) {
  g_return_val_if_fail(q != NULL, DHT_EINVAL);
  memset(q, 0, sizeof *q);
  if (initial_cap > 0)
    return heap_reserve(&q->near, initial_cap); /* on failure q stays empty and valid */
  return DHT_OK;
}

void sim_eq_clear(sim_event_queue *q) {
  if (q == NULL)
    return;
  g_free(q->near.ev);
  g_free(q->far.ev);
  for (unsigned i = 0; i < SIM_EQ_LANES; i++)
    g_free(q->lane[i].ev);
  memset(q, 0, sizeof *q);
}

static int heap_push(sim_eq_heap *h, const sim_event *ev) {
  size_t i;
  if (h->len == h->cap) {
    size_t nc;
    if (h->cap > SIZE_MAX / 2)
      return DHT_ENOMEM;
    nc = h->cap < 16 ? 16 : h->cap * 2;
    if (heap_reserve(h, nc) != DHT_OK)
      return DHT_ENOMEM;
  }
  /* Sift up: move the hole from the end toward the root while the parent is later. */
  i = h->len++;
  while (i > 0) {
    size_t p = (i - 1) / EQ_ARITY;
    if (!ev_before(ev, &h->ev[p]))
      break;
    h->ev[i] = h->ev[p];
    i = p;
  }
  h->ev[i] = *ev;
  return DHT_OK;
}

static int push(sim_event_queue *q, sim_eq_heap *h, uint64_t time_us, uint32_t kind, uint32_t a, uint64_t b) {
  sim_event ev = {.time_us = time_us, .seq = q->next_seq, .kind = kind, .a = a, .b = b};
  int rc = heap_push(h, &ev);
  if (rc == DHT_OK)
    q->next_seq++;
  return rc;
}

int sim_eq_push(sim_event_queue *q, uint64_t time_us, uint32_t kind, uint32_t a, uint64_t b) {
  g_return_val_if_fail(q != NULL, DHT_EINVAL);
  return push(q, &q->near, time_us, kind, a, b);
}

int sim_eq_push_far(sim_event_queue *q, uint64_t time_us, uint32_t kind, uint32_t a, uint64_t b) {
  g_return_val_if_fail(q != NULL, DHT_EINVAL);
  return push(q, &q->far, time_us, kind, a, b);
}

/* Appends ev to lane l, growing its ring (unwrapped into the new buffer). */
static int lane_push(sim_eq_lane *l, const sim_event *ev) {
  if (l->len == l->cap) {
    size_t nc = l->cap < 16 ? 16 : l->cap * 2;
    if (l->cap > SIZE_MAX / 2)
      return DHT_ENOMEM;
    sim_event *nev = g_try_new(sim_event, nc);
    if (nev == NULL)
      return DHT_ENOMEM;
    for (size_t i = 0; i < l->len; i++)
      nev[i] = l->ev[(l->head + i) & (l->cap - 1)];
    g_free(l->ev);
    l->ev = nev;
    l->head = 0;
    l->cap = nc;
  }
  l->ev[(l->head + l->len) & (l->cap - 1)] = *ev;
  l->len++;
  return DHT_OK;
}

static const sim_event *lane_tail(const sim_eq_lane *l) { return &l->ev[(l->head + l->len - 1) & (l->cap - 1)]; }

int sim_eq_push_after(sim_event_queue *q, uint64_t now_us, uint64_t delay_us, uint32_t kind, uint32_t a,
                      uint64_t b) {
  g_return_val_if_fail(q != NULL, DHT_EINVAL);
  sim_event ev = {.time_us = now_us + delay_us, .seq = q->next_seq, .kind = kind, .a = a, .b = b};
  sim_eq_lane *use = NULL, *empty = NULL;
  for (unsigned i = 0; i < SIM_EQ_LANES && use == NULL; i++) {
    sim_eq_lane *l = &q->lane[i];
    if (l->len == 0)
      empty = empty != NULL ? empty : l;
    else if (l->delay_us == delay_us)
      use = l;
  }
  if (use == NULL && empty != NULL) {
    use = empty;
    use->delay_us = delay_us;
  }
  /* The order a lane needs; a clock that went back (a caller's error) costs
   * only the heap. */
  if (use == NULL || (use->len > 0 && !ev_before(lane_tail(use), &ev)))
    return push(q, &q->near, ev.time_us, kind, a, b);
  int rc = lane_push(use, &ev);
  if (rc == DHT_OK) {
    q->next_seq++;
    q->lanes_len++;
  }
  return rc;
}

/* Removes the root of a non-empty heap into *out (if not NULL). */
static void heap_pop(sim_eq_heap *h, sim_event *out) {
  sim_event last;
  size_t n, i;
  if (out != NULL)
    *out = h->ev[0];
  n = --h->len;
  if (n == 0)
    return;
  /* Sift the former last event down from the root: at each level the hole
   * takes the earliest of up to 4 children, until `last` precedes them all. */
  last = h->ev[n];
  i = 0;
  for (;;) {
    size_t c = EQ_ARITY * i + 1, best, end;
    if (c >= n)
      break;
    if (c + EQ_ARITY <= n) { /* all four children: a tournament, selects not branches */
      size_t b01 = ev_before(&h->ev[c + 1], &h->ev[c]) ? c + 1 : c;
      size_t b23 = ev_before(&h->ev[c + 3], &h->ev[c + 2]) ? c + 3 : c + 2;
      best = ev_before(&h->ev[b23], &h->ev[b01]) ? b23 : b01;
    } else {
      best = c;
      end = n;
      for (size_t j = c + 1; j < end; j++)
        if (ev_before(&h->ev[j], &h->ev[best]))
          best = j;
    }
    if (!ev_before(&h->ev[best], &last))
      break;
    h->ev[i] = h->ev[best];
    i = best;
  }
  h->ev[i] = last;
}

/* The earliest event of the queue: in the near heap (*lane = -1, *far =
 * false), the far heap (-1, true) or lane *lane; NULL when empty. */
static const sim_event *first(const sim_event_queue *q, int *lane, bool *far) {
  const sim_event *best = q->near.len > 0 ? &q->near.ev[0] : NULL;
  *lane = -1;
  *far = false;
  if (q->far.len > 0 && (best == NULL || ev_before(&q->far.ev[0], best))) {
    best = &q->far.ev[0];
    *far = true;
  }
  if (q->lanes_len == 0)
    return best;
  for (int i = 0; i < SIM_EQ_LANES; i++) {
    const sim_eq_lane *l = &q->lane[i];
    if (l->len > 0 && (best == NULL || ev_before(&l->ev[l->head], best))) {
      best = &l->ev[l->head];
      *lane = i;
      *far = false;
    }
  }
  return best;
}

bool sim_eq_pop(sim_event_queue *q, sim_event *out) {
  g_return_val_if_fail(q != NULL, false);
  int lane;
  bool far;
  const sim_event *e = first(q, &lane, &far);
  if (e == NULL)
    return false;
  if (lane >= 0) {
    sim_eq_lane *l = &q->lane[lane];
    if (out != NULL)
      *out = *e;
    l->head = (l->head + 1) & (l->cap - 1);
    l->len--;
    q->lanes_len--;
  } else {
    heap_pop(far ? &q->far : &q->near, out);
  }
  return true;
}

const sim_event *sim_eq_peek(const sim_event_queue *q) {
  g_return_val_if_fail(q != NULL, NULL);
  int lane;
  bool far;
  return first(q, &lane, &far);
}
