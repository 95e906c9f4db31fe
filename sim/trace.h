/* trace.h: per-lookup traces (`dhtsim run --trace IDS`): which lookups are
 * traced, and the writer of their events as trace.jsonl lines
 * (docs/output-format.md). The driver (sim.c) calls the sim_trace_* event
 * functions; core's decisions arrive through sim_trace_observe. */
#ifndef SIM_TRACE_H
#define SIM_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "id.h"
#include "lookup.h"
#include "network.h"

/* Bounds (docs/output-format.md): lookups traced over all the runs of one
 * `dhtsim run`, the bytes of trace.jsonl, and the IDS text. */
#define SIM_TRACE_MAX_LOOKUPS 10000u
#define SIM_TRACE_MAX_BYTES ((uint64_t)256 << 20) /* 256 MiB */
#define SIM_TRACE_IDS_MAX 4096                    /* characters of IDS */

/* A selection of lookup ids: `all`, or sorted disjoint inclusive ranges. */
typedef struct sim_trace_range {
  uint64_t lo, hi;
} sim_trace_range;

typedef struct sim_trace_sel {
  bool all;
  sim_trace_range *r; /* owned, [n], sorted, disjoint and not adjacent */
  uint64_t *before;   /* owned, [n]: the ids in r[0..i): a selected id's rank in O(log n) */
  size_t n;
} sim_trace_sel;

/* Parses IDS: `all`, or a comma list of ids (`5`) and ranges (`10-20`,
 * both ends included), decimal, each below SIM_LOOKUPS_MAX; overlaps are
 * merged. 0, or DHT_EINVAL with "--trace IDS: ..." in err (*sel empty). */
int sim_trace_sel_parse(sim_trace_sel *sel, const char *text, char *err, size_t errlen);
void sim_trace_sel_clear(sim_trace_sel *sel);
bool sim_trace_sel_has(const sim_trace_sel *sel, uint64_t id);
/* How many ids of sel are below n. */
uint64_t sim_trace_sel_count(const sim_trace_sel *sel, uint64_t n);
/* Checks sel against a run of n lookups: an id it names explicitly must be
 * below n. 0, or DHT_EINVAL with the message in err. */
int sim_trace_sel_check(const sim_trace_sel *sel, uint64_t n, char *err, size_t errlen);

/* Checks sel against every run of sc (after --seed) before anything runs:
 * each named id exists in every point (lookups: --lookups or 0;
 * file_lookups: the lookups file's count, sim_inputs), and the traced
 * lookups of all runs together are at most SIM_TRACE_MAX_LOOKUPS. 0, or
 * DHT_EINVAL with the message in err. */
struct sim_scenario;
int sim_trace_sel_plan(const sim_trace_sel *sel, const struct sim_scenario *sc, uint64_t lookups,
                       uint64_t file_lookups, char *err, size_t errlen);

typedef struct sim_trace sim_trace;

/* One traced lookup of a run. */
typedef struct sim_trace_lookup {
  sim_trace *t;
  uint64_t id;
  uint64_t start_us; /* virtual µs */
  dht_id target;
  bool begun;
  int64_t failed_node; /* the node of core's last FAILED note, for sim_trace_timeout; -1: none */
  bool evict_pending;  /* its EVICT note came in the same tick: written after the timeout */
} sim_trace_lookup;

/* The trace of one run: its lines in memory, in event order. */
struct sim_trace {
  const sim_trace_sel *sel;
  uint64_t point;
  uint32_t replica;
  uint64_t *shared_bytes; /* bytes of every run's trace so far (atomic), checked against max_bytes */
  uint64_t max_bytes;
  const sim_network *net; /* sim_trace_bind */
  sim_trace_lookup *lk;   /* [n_lk]: the run's traced lookups by rank in sel */
  size_t n_lk;
  char *buf; /* owned: the lines */
  size_t len, cap;
  int error; /* 0, DHT_ENOMEM, or DHT_ETOOBIG once max_bytes was passed (no line added since) */
};

/* A trace for run (point, replica) of the lookups in sel, adding its bytes
 * to *shared_bytes (may be shared by runs on other threads). */
void sim_trace_init(sim_trace *t, const sim_trace_sel *sel, uint64_t point, uint32_t replica, uint64_t *shared_bytes,
                    uint64_t max_bytes);
void sim_trace_clear(sim_trace *t);
/* The run's network and lookup count, once known. 0 or DHT_ENOMEM. */
int sim_trace_bind(sim_trace *t, const sim_network *net, uint64_t n_lookups);
/* A one-line message for t->error into err; returns t->error. */
int sim_trace_error(const sim_trace *t, char *err, size_t errlen);

/* Lookup id starts at now_us (absolute virtual µs): its trace record, or
 * NULL when t is NULL or the lookup is not traced. */
sim_trace_lookup *sim_trace_begin(sim_trace *t, uint64_t id, uint64_t now_us, const dht_id *target);
/* The record of a traced lookup that has begun, or NULL. */
sim_trace_lookup *sim_trace_find(sim_trace *t, uint64_t id);
/* A dht_lookup_observer: user is the lookup's sim_trace_lookup. Decisions
 * are written as `decision` events; a FAILED note only names the node of the
 * `timeout` that the driver writes after the tick (sim_trace_timeout). */
void sim_trace_observe(void *user, const dht_lookup_event *ev);

/* The driver's events; times are absolute virtual µs; node indexes the network. */
void sim_trace_query(sim_trace_lookup *tl, uint64_t now_us, uint32_t node, unsigned in_flight, uint64_t batch);
void sim_trace_answer(sim_trace_lookup *tl, uint64_t now_us, uint32_t node, unsigned in_flight, size_t n_nodes,
                      bool peers, bool changed);
/* The tick that made the FAILED note returned DHT_LOOKUP_TIMED_OUT: a
 * `timeout` of that node; changed: the result changed in that tick
 * (ROUNDS: the batch is applied when its last query times out). */
void sim_trace_timeout(sim_trace_lookup *tl, uint64_t now_us, unsigned in_flight, bool changed);
void sim_trace_late(sim_trace_lookup *tl, uint64_t now_us, uint32_t node, unsigned in_flight);
/* The simulator knows the query will never be answered (cause: request_dropped, dead_node, response_dropped). */
void sim_trace_failed(sim_trace_lookup *tl, uint64_t now_us, uint32_t node, unsigned in_flight, const char *cause);
/* The lookup is done: a `decision` event "done". */
void sim_trace_done(sim_trace_lookup *tl, uint64_t now_us, unsigned in_flight);

/* One line as trace.jsonl has it, into out (NUL-terminated; at most
 * SIM_TRACE_LINE_MAX bytes with the '\n'): the fixed keys, then the extra
 * text (already JSON, starting with ',', or ""). node < 0: null (and
 * log2_distance null); log2_distance -1: distance 0. Returns the length. */
#define SIM_TRACE_LINE_MAX 512
size_t sim_trace_format(char *out, uint64_t point, uint32_t replica, uint64_t lookup, uint64_t t_us, const char *event,
                        int64_t node, int log2_distance, unsigned in_flight, const char *extra);
/* floor(log2(a XOR b)) = 159 - the leading bits they share; -1 when a == b. */
int sim_trace_log2_distance(const dht_id *a, const dht_id *b);

#endif
