/* test_event_queue.c: the virtual-clock heap pops in (time, push order) order,
 * including events scheduled "now" by a handler, and matches a sorted reference. */
#include <criterion/criterion.h>
#include "criterion_assert.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "event_queue.h"
#include "rng.h"

Test(event_queue, empty_pop_and_peek) {
  sim_event_queue q;
  sim_event ev;
  cr_assert(eq(int, sim_eq_init(&q, 0), 0));
  cr_assert(not(sim_eq_pop(&q, &ev)));
  cr_assert(eq(ptr, (void *)sim_eq_peek(&q), NULL));
  cr_assert(eq(sz, sim_eq_len(&q), 0));
  sim_eq_clear(&q);
  /* A cleared queue is empty and usable again. */
  cr_assert(eq(int, sim_eq_push(&q, 5, 1, 2, 3), 0));
  cr_assert(sim_eq_pop(&q, &ev));
  cr_assert(eq(u64, ev.time_us, 5));
  sim_eq_clear(&q);
  sim_eq_clear(&q);
}

Test(event_queue, peek_is_the_next_pop) {
  sim_event_queue q;
  sim_event ev;
  const sim_event *p;
  cr_assert(eq(int, sim_eq_init(&q, 4), 0));
  cr_assert(eq(int, sim_eq_push(&q, 30, 3, 0, 0), 0));
  cr_assert(eq(int, sim_eq_push(&q, 10, 1, 7, 99), 0));
  cr_assert(eq(int, sim_eq_push(&q, 20, 2, 0, 0), 0));
  p = sim_eq_peek(&q);
  cr_assert(ne(ptr, (void *)p, NULL));
  cr_assert(eq(u64, p->time_us, 10));
  cr_assert(eq(u32, p->kind, 1));
  cr_assert(eq(u32, p->a, 7));
  cr_assert(eq(u64, p->b, 99));
  cr_assert(eq(u64, p->seq, 1));
  cr_assert(eq(sz, sim_eq_len(&q), 3)); /* peek does not remove */
  cr_assert(sim_eq_pop(&q, &ev));
  cr_assert(eq(u64, ev.time_us, 10));
  cr_assert(eq(u64, ev.b, 99));
  cr_assert(eq(u64, sim_eq_peek(&q)->time_us, 20));
  sim_eq_clear(&q);
}

Test(event_queue, orders_by_time) {
  static const uint64_t times[] = {50, 10, 40, 0, 30, 20, 70, 60, 5, 1000000, 1};
  const size_t n = sizeof times / sizeof times[0];
  sim_event_queue q;
  sim_event ev;
  uint64_t prev = 0;
  cr_assert(eq(int, sim_eq_init(&q, 0), 0));
  for (size_t i = 0; i < n; i++)
    cr_assert(eq(int, sim_eq_push(&q, times[i], (uint32_t)i, 0, 0), 0));
  cr_assert(eq(sz, sim_eq_len(&q), n));
  for (size_t i = 0; i < n; i++) {
    cr_assert(sim_eq_pop(&q, &ev));
    cr_assert(ge(u64, ev.time_us, prev));
    cr_assert(eq(u64, ev.time_us, times[ev.kind]));
    prev = ev.time_us;
  }
  cr_assert(not(sim_eq_pop(&q, &ev)));
  sim_eq_clear(&q);
}

Test(event_queue, equal_times_pop_in_push_order) {
  sim_event_queue q;
  sim_event ev;
  cr_assert(eq(int, sim_eq_init(&q, 0), 0));
  /* Interleave two times so that FIFO order is not just insertion position. */
  for (uint32_t i = 0; i < 1000; i++)
    cr_assert(eq(int, sim_eq_push(&q, (i % 2) ? 7 : 3, 0, i, 0), 0));
  for (uint32_t i = 0; i < 1000; i += 2) {
    cr_assert(sim_eq_pop(&q, &ev));
    cr_assert(eq(u64, ev.time_us, 3));
    cr_assert(eq(u32, ev.a, i));
  }
  for (uint32_t i = 1; i < 1000; i += 2) {
    cr_assert(sim_eq_pop(&q, &ev));
    cr_assert(eq(u64, ev.time_us, 7));
    cr_assert(eq(u32, ev.a, i));
  }
  sim_eq_clear(&q);
}

Test(event_queue, pushed_at_now_runs_after_queued_now_events) {
  sim_event_queue q;
  sim_event ev;
  uint32_t order[8];
  size_t n = 0;
  cr_assert(eq(int, sim_eq_init(&q, 0), 0));
  cr_assert(eq(int, sim_eq_push(&q, 100, 0, 1, 0), 0));
  cr_assert(eq(int, sim_eq_push(&q, 100, 0, 2, 0), 0));
  cr_assert(eq(int, sim_eq_push(&q, 100, 0, 3, 0), 0));
  cr_assert(eq(int, sim_eq_push(&q, 101, 0, 9, 0), 0));
  /* Handling event 1 at now = 100 schedules event 4 at now. */
  while (sim_eq_pop(&q, &ev)) {
    order[n++] = ev.a;
    if (ev.a == 1)
      cr_assert(eq(int, sim_eq_push(&q, ev.time_us, 0, 4, 0), 0));
  }
  cr_assert(eq(sz, n, 5));
  cr_assert(eq(u32, order[0], 1));
  cr_assert(eq(u32, order[1], 2));
  cr_assert(eq(u32, order[2], 3));
  cr_assert(eq(u32, order[3], 4));
  cr_assert(eq(u32, order[4], 9));
  sim_eq_clear(&q);
}

static int ref_cmp(const void *pa, const void *pb) {
  const sim_event *a = pa, *b = pb;
  if (a->time_us != b->time_us)
    return a->time_us < b->time_us ? -1 : 1;
  if (a->seq != b->seq)
    return a->seq < b->seq ? -1 : 1;
  return 0;
}

Test(event_queue, random_interleaving_matches_sorted_reference) {
  const uint64_t seed = 0x5eed2024u;
  const size_t ops = 40000;
  sim_event_queue q;
  sim_event ev;
  sim_event *ref = malloc(ops * sizeof *ref);
  size_t ref_len = 0;
  uint64_t now = 0, pushes = 0;
  dht_rng r;

  printf("event_queue random test seed: 0x%llx\n", (unsigned long long)seed);
  cr_assert(ne(ptr, ref, NULL));
  dht_rng_init(&r, seed);
  cr_assert(eq(int, sim_eq_init(&q, 0), 0));
  for (size_t op = 0; op < ops; op++) {
    /* Push-biased in the first half, pop-biased in the second, so the heap grows and drains. */
    bool push = dht_rng_below(&r, 100) < (op < ops / 2 ? 65u : 35u);
    if (push) {
      /* Small time range: many equal times, exercising the seq tie-break. */
      uint64_t t = now + dht_rng_below(&r, 50);
      uint32_t tag = (uint32_t)dht_rng_next(&r);
      cr_assert(eq(int, sim_eq_push(&q, t, tag, tag ^ 1u, pushes), 0));
      sim_event e = {.time_us = t, .seq = pushes, .kind = tag, .a = tag ^ 1u, .b = pushes};
      /* The reference stays sorted: insert after every element ordered before e. */
      size_t at = ref_len;
      while (at > 0 && ref_cmp(&ref[at - 1], &e) > 0)
        at--;
      memmove(ref + at + 1, ref + at, (ref_len - at) * sizeof *ref);
      ref[at] = e;
      ref_len++;
      pushes++;
    } else {
      bool got = sim_eq_pop(&q, &ev);
      cr_assert(eq(int, got, ref_len > 0));
      if (!got)
        continue;
      cr_assert(eq(u64, ev.time_us, ref[0].time_us));
      cr_assert(eq(u64, ev.seq, ref[0].seq));
      cr_assert(eq(u32, ev.kind, ref[0].kind));
      cr_assert(eq(u32, ev.a, ref[0].a));
      cr_assert(eq(u64, ev.b, ref[0].b));
      memmove(ref, ref + 1, (ref_len - 1) * sizeof *ref);
      ref_len--;
      now = ev.time_us; /* virtual clock: later pushes are never in the past */
    }
    cr_assert(eq(sz, sim_eq_len(&q), ref_len));
  }
  /* Drain; the reference was kept sorted, check it really is. */
  {
    sim_event *copy = malloc((ref_len + 1) * sizeof *copy);
    cr_assert(ne(ptr, copy, NULL));
    memcpy(copy, ref, ref_len * sizeof *copy);
    qsort(copy, ref_len, sizeof *copy, ref_cmp);
    cr_assert(eq(int, memcmp(copy, ref, ref_len * sizeof *copy), 0));
    free(copy);
  }
  for (size_t i = 0; i < ref_len; i++) {
    cr_assert(sim_eq_pop(&q, &ev));
    cr_assert(eq(u64, ev.seq, ref[i].seq));
  }
  cr_assert(not(sim_eq_pop(&q, &ev)));
  sim_eq_clear(&q);
  free(ref);
}

/* Events pushed to the far heap (per-node timers), the near one and the
 * lanes (fixed delays after the clock: 12 delays for 8 lanes, so some fall
 * back to the near heap and lanes are reclaimed once empty) pop in one
 * (time, push order) order, as from one heap, whichever holds the earliest,
 * whatever their sizes (rings that grow while wrapped). */
Test(event_queue, far_and_near_events_pop_in_one_order) {
  const uint64_t seed = 0xfa4u;
  sim_event_queue q, one;
  sim_event a, b;
  dht_rng r;
  printf("event_queue far/near test seed: 0x%llx\n", (unsigned long long)seed);
  dht_rng_init(&r, seed);
  cr_assert(eq(int, sim_eq_init(&q, 0), 0));
  cr_assert(eq(int, sim_eq_init(&one, 0), 0));
  uint64_t now = 0;
  size_t far = 0, lanes = 0, popped = 0, max_lanes = 0;
  for (unsigned op = 0; op < 30000; op++) {
    if (dht_rng_below(&r, 100) < (op < 15000 ? 60u : 40u)) {
      uint64_t t = now + dht_rng_below(&r, 20); /* equal times across heaps: the order is push order */
      uint32_t tag = (uint32_t)dht_rng_next(&r);
      unsigned where = (unsigned)dht_rng_below(&r, 4);
      if (where == 3) { /* a lane: one of 12 delays, 0 included */
        static const uint64_t delays[12] = {0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144};
        uint64_t d = delays[dht_rng_below(&r, 12)];
        t = now + d;
        lanes++;
        cr_assert(eq(int, sim_eq_push_after(&q, now, d, tag, op, 0), 0));
      } else {
        far += where == 0;
        cr_assert(eq(int, (where == 0 ? sim_eq_push_far : sim_eq_push)(&q, t, tag, op, 0), 0));
      }
      cr_assert(eq(int, sim_eq_push(&one, t, tag, op, 0), 0));
    } else {
      bool got = sim_eq_pop(&q, &a);
      cr_assert(eq(int, got, sim_eq_pop(&one, &b)));
      if (!got)
        continue;
      cr_assert(eq(u64, a.time_us, b.time_us));
      cr_assert(eq(u64, a.seq, b.seq));
      cr_assert(eq(u32, a.a, b.a));
      now = a.time_us;
      popped++;
    }
    cr_assert(eq(sz, sim_eq_len(&q), sim_eq_len(&one)));
    max_lanes = q.lanes_len > max_lanes ? q.lanes_len : max_lanes;
    const sim_event *pq = sim_eq_peek(&q), *po = sim_eq_peek(&one);
    cr_assert(eq(int, pq == NULL, po == NULL));
    if (pq != NULL)
      cr_assert(eq(u64, pq->seq, po->seq));
  }
  while (sim_eq_pop(&q, &a)) {
    cr_assert(sim_eq_pop(&one, &b));
    cr_assert(eq(u64, a.seq, b.seq));
  }
  cr_assert(not(sim_eq_pop(&one, &b)));
  cr_assert(gt(sz, far, 3000));
  cr_assert(gt(sz, lanes, 3000));
  cr_assert(gt(sz, max_lanes, 64), "the lanes held %zu at most", max_lanes); /* rings grew */
  cr_assert(gt(sz, popped, 10000));
  sim_eq_clear(&q);
  sim_eq_clear(&one);
}
