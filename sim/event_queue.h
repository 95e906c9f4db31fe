/* event_queue.h: the virtual-clock priority queue of small event structs
 * ordered by (time_us, seq). seq is the scheduling order, so equal times pop
 * in the order they were pushed (an event pushed by a handler at `now` runs
 * after every event already queued for `now`). Behind one order:
 * - the near 4-ary min-heap: messages (random delays), what is left;
 * - the far one: per-node timers (churn, maintenance: up to one per node,
 *   10^6 and more, each popped rarely);
 * - up to SIM_EQ_LANES lanes, FIFOs of events pushed at a fixed delay after
 *   a nondecreasing now (a lookup's timeouts): such events arrive in order,
 *   so a lane is a ring buffer, O(1) push and pop, read sequentially.
 * So the near heap, popped at almost every event, stays small and in cache
 * (at 10^6 nodes the timers it held made it miss at every level). Where an
 * event goes changes nothing of the order. O(log n) push and pop. */
#ifndef SIM_EVENT_QUEUE_H
#define SIM_EVENT_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sim_event {
  uint64_t time_us; /* virtual µs */
  uint64_t seq;     /* insertion counter: tie-break for equal times */
  uint32_t kind;    /* driver-defined event type */
  uint32_t a;       /* driver-defined payload (e.g. lookup slot) */
  uint64_t b;       /* driver-defined payload (e.g. query id) */
} sim_event;

typedef struct sim_eq_heap {
  sim_event *ev; /* owned */
  size_t len;
  size_t cap;
} sim_eq_heap;

/* A FIFO of events in (time, seq) order: ev[(head + i) % cap], i < len; cap a power of two. */
typedef struct sim_eq_lane {
  sim_event *ev; /* owned */
  size_t head, len, cap;
  uint64_t delay_us; /* its events' delay after their push (virtual µs); any while empty */
} sim_eq_lane;

#define SIM_EQ_LANES 8

typedef struct sim_event_queue {
  sim_eq_heap near, far;
  sim_eq_lane lane[SIM_EQ_LANES];
  size_t lanes_len;  /* events in the lanes */
  uint64_t next_seq; /* every event's */
} sim_event_queue;

/* initial_cap may be 0. Returns 0 or DHT_ENOMEM. */
int sim_eq_init(sim_event_queue *q, size_t initial_cap);
void sim_eq_clear(sim_event_queue *q);
/* Returns 0 or DHT_ENOMEM (queue unchanged). */
int sim_eq_push(sim_event_queue *q, uint64_t time_us, uint32_t kind, uint32_t a, uint64_t b);
/* The same, into the far heap (a per-node timer): the same order. */
int sim_eq_push_far(sim_event_queue *q, uint64_t time_us, uint32_t kind, uint32_t a, uint64_t b);
/* An event at now_us + delay_us where now_us never decreases from one call
 * to the next (the virtual clock): into the lane of that delay (one is
 * claimed when none has it and one is empty), else the near heap. The same
 * order. Returns 0 or DHT_ENOMEM (queue unchanged). */
int sim_eq_push_after(sim_event_queue *q, uint64_t now_us, uint64_t delay_us, uint32_t kind, uint32_t a,
                      uint64_t b);
/* Removes the earliest event into *out; false when empty. */
bool sim_eq_pop(sim_event_queue *q, sim_event *out);
/* The earliest event without removing it, or NULL. transfer none. */
const sim_event *sim_eq_peek(const sim_event_queue *q);
static inline size_t sim_eq_len(const sim_event_queue *q) { return q->near.len + q->far.len + q->lanes_len; }

#endif
