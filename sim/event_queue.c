/* event_queue.c: two 4-ary min-heaps of sim_event ordered by (time_us, seq).
 * Invariant, in each heap: for every i > 0, key(ev[(i-1)/4]) < key(ev[i]); keys
 * are unique because seq is (next_seq at push), shared by both heaps. Push and
 * pop are O(log4 n) moves of 32-byte events in the heap concerned. */
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

/* The heap holding the earliest event, or NULL when both are empty. */
static sim_eq_heap *first(const sim_event_queue *q) {
  sim_eq_heap *n = (sim_eq_heap *)&q->near, *f = (sim_eq_heap *)&q->far;
  if (f->len == 0)
    return n->len > 0 ? n : NULL;
  if (n->len == 0)
    return f;
  return ev_before(&f->ev[0], &n->ev[0]) ? f : n;
}

bool sim_eq_pop(sim_event_queue *q, sim_event *out) {
  g_return_val_if_fail(q != NULL, false);
  sim_eq_heap *h = first(q);
  if (h == NULL)
    return false;
  heap_pop(h, out);
  return true;
}

const sim_event *sim_eq_peek(const sim_event_queue *q) {
  g_return_val_if_fail(q != NULL, NULL);
  const sim_eq_heap *h = first(q);
  return h != NULL ? &h->ev[0] : NULL;
}
