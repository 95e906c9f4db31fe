/* event_queue.c: 4-ary min-heap of sim_event ordered by (time_us, seq).
 * Invariant: for every i > 0, key(heap[(i-1)/4]) < key(heap[i]); keys are unique
 * because seq is (next_seq at push). Push and pop are O(log4 n) moves of 32-byte events. */
#include "event_queue.h"

#include <glib.h>
#include <string.h>

#include "error.h"

#define EQ_ARITY 4

/* Strict (time_us, seq) order; seq is unique, so the order is total. */
static inline bool ev_before(const sim_event *a, const sim_event *b) {
  return a->time_us < b->time_us || (a->time_us == b->time_us && a->seq < b->seq);
}

/* Reallocates to new_cap events; DHT_ENOMEM (queue unchanged) on overflow
 * (g_try_realloc_n checks the product) or failure. */
static int eq_reserve(sim_event_queue *q, size_t new_cap) {
  sim_event *h = g_try_realloc_n(q->heap, new_cap, sizeof *h);
  if (h == NULL)
    return DHT_ENOMEM;
  q->heap = h;
  q->cap = new_cap;
  return DHT_OK;
}

int sim_eq_init(sim_event_queue *q, size_t initial_cap) {
  g_return_val_if_fail(q != NULL, DHT_EINVAL);
  memset(q, 0, sizeof *q);
  if (initial_cap > 0)
    return eq_reserve(q, initial_cap); /* on failure q stays empty and valid */
  return DHT_OK;
}

void sim_eq_clear(sim_event_queue *q) {
  if (q == NULL)
    return;
  g_free(q->heap);
  memset(q, 0, sizeof *q);
}

int sim_eq_push(sim_event_queue *q, uint64_t time_us, uint32_t kind, uint32_t a, uint64_t b) {
  sim_event ev;
  size_t i;
  g_return_val_if_fail(q != NULL, DHT_EINVAL);
  if (q->len == q->cap) {
    size_t nc;
    if (q->cap > SIZE_MAX / 2)
      return DHT_ENOMEM;
    nc = q->cap < 16 ? 16 : q->cap * 2;
    if (eq_reserve(q, nc) != DHT_OK)
      return DHT_ENOMEM;
  }
  ev.time_us = time_us;
  ev.seq = q->next_seq++;
  ev.kind = kind;
  ev.a = a;
  ev.b = b;
  /* Sift up: move the hole from the end toward the root while the parent is later. */
  i = q->len++;
  while (i > 0) {
    size_t p = (i - 1) / EQ_ARITY;
    if (!ev_before(&ev, &q->heap[p]))
      break;
    q->heap[i] = q->heap[p];
    i = p;
  }
  q->heap[i] = ev;
  return DHT_OK;
}

bool sim_eq_pop(sim_event_queue *q, sim_event *out) {
  sim_event last;
  size_t n, i;
  g_return_val_if_fail(q != NULL, false);
  if (q->len == 0)
    return false;
  if (out != NULL)
    *out = q->heap[0];
  n = --q->len;
  if (n == 0)
    return true;
  /* Sift the former last event down from the root: at each level the hole
   * takes the earliest of up to 4 children, until `last` precedes them all. */
  last = q->heap[n];
  i = 0;
  for (;;) {
    size_t c = EQ_ARITY * i + 1, best, end;
    if (c >= n)
      break;
    best = c;
    end = c + EQ_ARITY < n ? c + EQ_ARITY : n;
    for (size_t j = c + 1; j < end; j++)
      if (ev_before(&q->heap[j], &q->heap[best]))
        best = j;
    if (!ev_before(&q->heap[best], &last))
      break;
    q->heap[i] = q->heap[best];
    i = best;
  }
  q->heap[i] = last;
  return true;
}

const sim_event *sim_eq_peek(const sim_event_queue *q) {
  g_return_val_if_fail(q != NULL, NULL);
  return q->len > 0 ? &q->heap[0] : NULL;
}
