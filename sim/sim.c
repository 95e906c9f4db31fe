/* sim.c: the simulation driver: one virtual clock, many concurrent lookups of
 * core/ over a sim_network, with latency, loss, dead and slow nodes. */
#include "sim.h"

#include <glib.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "churn.h"
#include "error.h"
#include "message.h"
#include "rejoin.h"
#include "event_queue.h"
#include "latency.h"
#include "lookup.h"
#include "maintain.h"
#include "rng.h"
#include "routing_table.h"
#include "trace.h"
#include "timeline.h"
#include "workload.h"

/* Independent random streams derived from the run seed: adding draws to one
 * never shifts another. */
enum {
  STREAM_NETWORK = 1,  /* node IDs and routing tables */
  STREAM_FLAGS = 2,    /* dead and slow nodes */
  STREAM_WORKLOAD = 3, /* start nodes, targets, arrival times */
  STREAM_MESSAGES = 4, /* drops and latencies, drawn in event order */
  /* 5..7 left for other features; these are 8 and 9 so that they never meet another's new number */
  STREAM_UNREACHABLE = 8, /* unreachable nodes (loss.unreachable_fraction), one draw per node */
  STREAM_LATENCY = 9,     /* the pair models' placement: node i's point or host from (stream, i) */
  /* Churn (sim/churn.h): only drawn when churn is on, so no run without it changes. */
  STREAM_CHURN = SIM_CHURN_STREAM,
  STREAM_CHURN_SAMPLE = SIM_CHURN_SAMPLE_STREAM,
  STREAM_EVENTS = 22, /* timed events: the nodes a fail_fraction or revive_fraction picks, in event order */
  /* Maintenance (passive bootstrap, bep5): its choices (timer phases, refresh
   * targets, bootstrap contacts) and its messages' drops and delays, in event
   * order; drawn only with maintenance, never from the workload's or the
   * messages' streams. */
  STREAM_MAINT = 23,
  STREAM_MAINT_MESSAGES = 24,
  /* A timed partition of the node set (partition_nodes): node i's side is a
   * hash of (the event's seed from this stream, i), no draw and no state. */
  STREAM_PARTITION = 25,
};

/* EV_TIMER: a timer the lookup armed (core/ decides what it means); a = slot,
 * b = TIMER_EV(lookup id, the core's timer id). */
/* EV_CHURN: node a's next transition (churn; rejoin new: b is its population
 * member, whose next identity a return brings). EV_START_RETRY: lookup b
 * could not start, no node being online; tried again a virtual second later. */
/* EV_SCENARIO: timed event a of the scenario (events:). */
/* EV_BIN: the network sample of timeline bin b (churn runs only; not counted in events_total). */
/* EV_MAINT: node a's maintenance pass due at b (virtual µs; bep5), unless mdue[a] moved. */
enum { EV_START = 1, EV_REQUEST, EV_RESPONSE, EV_TIMER, EV_CHURN, EV_START_RETRY, EV_SCENARIO, EV_BIN, EV_MAINT };

enum { Q_FREE = 0, Q_PENDING };
/* What a query is for: a workload lookup's, a maintenance lookup's (bootstrap,
 * refresh), a bep5 ping, or the ping's one retry (BEP 5: "try once more"). */
enum { Q_WORK = 0, Q_MLOOKUP, Q_PING, Q_PING_AGAIN };
/* Maintenance lookups' ids: from SIM_LOOKUPS_MAX up (below 2^30, as a timer
 * event needs), wrapping after 2^26; never a workload lookup's id. */
#define MAINT_ID_BASE ((uint64_t)SIM_LOOKUPS_MAX)
#define MAINT_ID_SPAN ((uint64_t)1 << 26) /* SIM_LOOKUPS_MAX + 2^26 < 2^30 */
/* bep5: an online node's maintenance passes come every 5 virtual minutes,
 * from a random phase: a bucket is refreshed 15 to 20 minutes after its
 * last change. A pass at the moment a bucket becomes due would put every
 * node's refreshes at 900 s, when the tables built at t = 0 all go idle
 * together: 10^5 nodes would run 1.4 million lookups at once. */
#define MAINT_PASS_US ((uint64_t)300 * 1000000u)

/* A timer event carries its lookup's id, so that one outliving its lookup (a
 * strategy may stop with queries outstanding) is recognised when the slot has
 * been reused: lookup ids are < SIM_LOOKUPS_MAX < 2^30 and the core's timer
 * ids < 2^34 (candidate index << 2 | kind). */
#define TIMER_ID_BITS 34
#define TIMER_EV(lookup, id) ((uint64_t)(lookup) << TIMER_ID_BITS | (id))

#define NO_SLOT UINT32_MAX
#define TIMERBUF (2 * DHT_IN_FLIGHT_MAX) /* what a lookup keeps undrained at most */

/* One query on the wire. Freed when no event refers to it any more, so a late
 * event can never reach a reused record. */
typedef struct query {
  uint32_t slot;   /* active lookup that sent it */
  uint64_t lookup; /* its id: the slot may have been reused when the answer comes */
  uint32_t from;   /* the querying node */
  uint32_t node;   /* node queried */
  uint8_t state;  /* Q_* */
  uint8_t refs;   /* events still queued that carry this query's id */
  uint8_t kind;   /* Q_WORK, ... */
  uint8_t cpl;    /* the bits from and node share (SIM_MAINT_CPL_UNKNOWN: not known), for the offers */
  uint32_t cand;  /* a ping's: the node offered to the full bucket (SIM_MAINT_NONE: none) */
  uint32_t next_free;
} query;

/* One lookup in progress. */
typedef struct active {
  dht_lookup *l;          /* NULL when the slot is free */
  uint64_t id;
  uint32_t start;
  uint64_t start_us;
  dht_id target;
  uint64_t first_peer_us; /* absolute; UINT64_MAX until a peer arrives */
  uint64_t result_us;     /* absolute: the last answer (rounds: or timeout) that changed the result; start_us until one does */
  uint64_t timeouts;      /* its queries that timed out */
  uint32_t n_planted;     /* nodes holding peers for target: planted_of(runner, slot) */
  uint32_t next_free;
  sim_trace_lookup *tr;   /* its trace (--trace), or NULL */
  bool maint;             /* a maintenance lookup: not recorded, not a workload lookup */
} active;

typedef struct runner {
  const sim_scenario *sc; /* &live */
  sim_scenario live;      /* the run's scenario, shallow copy: timed events set its keys */
  sim_network net;
  sim_event_queue q;
  dht_rng msg_rng;
  dht_rng work_rng;
  sim_latency lat; /* the delay model and its matrix */
  dht_lookup_config cfg;
  dht_rtt_filter rtt; /* mldht's, shared by the run's lookups */
  uint64_t now;

  active *slots;
  uint32_t n_slots, free_slot;
  uint32_t *planted_pool; /* n_slots * plant_at; grows, so slots keep no pointer into it */

  query *queries;
  uint32_t n_queries, free_query;

  sim_lookup_spec *specs; /* lookups file, or NULL */
  uint64_t total, started, finished;
  dht_addr *peers;        /* planted peer addresses [planted_peers] */
  dht_node *nodebuf;      /* [max(k, DHT_IN_FLIGHT_MAX) + 1]: scratch for answers, seeds and the queries to send */
  dht_lookup_timer *timerbuf; /* [TIMERBUF]: the timers armed by one dht_lookup_next */
  uint32_t *idxbuf;       /* [max(k, cfg.seeds) + 1] */
  sim_results *res;
  const sim_options *opt;
  bool churn_on;      /* churn.session.model is not none */
  bool measured;      /* online_fraction and stale_fraction taken (at the first lookup's start) */
  uint64_t seed;      /* the run's seed */
  sim_churn churn;
  uint32_t startable; /* nodes neither dead nor offline: a lookup can start from one */
  bool passive;       /* network.maintenance passive or bep5: tables learn (sim/maintain.h) */
  bool bep5;          /* network.maintenance bep5: pings and bucket refresh too */
  dht_rng maint_rng;  /* STREAM_MAINT */
  dht_rng mmsg_rng;   /* STREAM_MAINT_MESSAGES */
  dht_lookup_config mcfg; /* maintenance lookups: pipelined, alpha 3, the run's K */
  uint64_t maint_seq; /* maintenance lookups started */
  uint64_t *mdue;     /* bep5: [n] node i's next maintenance pass (virtual µs), UINT64_MAX: none (offline) */
  bool parted;        /* a timed partition is on: no message crosses cut */
  bool parted_nodes;  /* it splits the node set (partition_nodes), not the ID space */
  uint64_t cut;       /* the partition's place: IDs whose first 64 bits are below it are one side
                       * (parted_nodes: the nodes whose hash under pseed is below it) */
  uint64_t pseed;     /* parted_nodes: the event's seed (STREAM_PARTITION, event index) */
  dht_rng event_rng;  /* STREAM_EVENTS */
  /* churn.rejoin new (sim/rejoin.h): the population is n_pop members; member
   * j is node pop[j] now (pop NULL: node j, always so with rejoin same); the
   * nodes from next_spare to net.n - 1 are the unclaimed spares. */
  bool rejoin_new;
  uint32_t n_pop;
  uint32_t *pop;
  uint32_t next_spare;
  bool spares_out; /* the run stopped: no spare left for a return */
} runner;

/* Network node i as the lookup sees it: its ID and address (computed, not
 * loaded, on generated networks: sim_network_addr). */
static void node_of(const runner *r, uint32_t i, dht_node *out) {
  out->id = r->net.ids[i];
  sim_network_addr(&r->net, i, &out->addr);
}

/* The node that is population member j now. */
static uint32_t node_at(const runner *r, uint32_t j) { return r->pop != NULL ? r->pop[j] : j; }

int sim_build_network(const sim_scenario *sc, uint64_t seed, sim_network *net, char *err, size_t errlen) {
  int rc;
  if (sc->network.topology != NULL)
    return sim_network_load_topology(net, sc->network.topology, sc->lookup.k, err, errlen);
  /* Tables on demand: drawn when a node answers, never stored. */
  rc = sim_network_generate_ondemand(net, (uint32_t)sc->network.nodes, sc->lookup.k, sc->network.tables,
                                     dht_seed_derive(seed, STREAM_NETWORK));
  if (rc < 0)
    return sim_fail(err, errlen, rc, "%s: cannot build a network of %" PRIu64 " nodes: %s", sc->path,
                sc->network.nodes, dht_strerror(rc));
  return 0;
}

static uint64_t clamp_us(double us) {
  if (!(us > 0.0))
    return 0;
  if (us > 1e15) /* 31 years: beyond any timeout, keeps arithmetic in range */
    return (uint64_t)1e15;
  return (uint64_t)llround(us);
}

/* One-way delay of a message between nodes a and b (virtual µs). */
static uint64_t delay_rng(runner *r, dht_rng *rng, uint32_t a, uint32_t b) {
  return clamp_us(sim_latency_draw_us(&r->lat, rng, a, b, ((r->net.flags[a] | r->net.flags[b]) & SIM_NODE_SLOW) != 0));
}


/* A message of a query of this kind: maintenance draws from its own stream. */
static dht_rng *rng_of(runner *r, uint8_t kind) { return kind == Q_WORK ? &r->msg_rng : &r->mmsg_rng; }
static bool drop_rng(dht_rng *rng, double p) { return p > 0.0 && dht_rng_chance(rng, p); }
static uint32_t now_s(const runner *r) { return (uint32_t)(r->now / 1000000u); }

/* Per-node timers (one per node) go to the queue's far heap, the rest to its
 * near one: the same order, a small heap for the events of every message. */
static int push(runner *r, uint64_t at, uint32_t kind, uint32_t a, uint64_t b) {
  bool far = kind == EV_CHURN || kind == EV_MAINT;
  return far ? sim_eq_push_far(&r->q, at, kind, a, b) : sim_eq_push(&r->q, at, kind, a, b);
}

static int query_alloc(runner *r, uint32_t *out) {
  if (r->free_query == UINT32_MAX) {
    uint32_t n = r->n_queries ? r->n_queries * 2 : 1024;
    query *nq;
    if (n <= r->n_queries)
      return DHT_ENOMEM;
    nq = g_try_renew(query, r->queries, n);
    if (nq == NULL)
      return DHT_ENOMEM;
    for (uint32_t i = r->n_queries; i < n; i++) {
      nq[i].state = Q_FREE;
      nq[i].refs = 0;
      nq[i].next_free = i + 1 < n ? i + 1 : UINT32_MAX;
    }
    r->queries = nq;
    r->free_query = r->n_queries;
    r->n_queries = n;
  }
  *out = r->free_query;
  r->free_query = r->queries[*out].next_free;
  return 0;
}

static void query_unref(runner *r, uint32_t qid) {
  query *q = &r->queries[qid];
  g_assert(q->refs > 0);
  if (--q->refs == 0) {
    q->state = Q_FREE;
    q->next_free = r->free_query;
    r->free_query = qid;
  }
}

/* Sends one get_peers from the lookup in `slot` to node. A query lost on the
 * way has no event, so its record is freed at once. */
/* Whether a message between nodes a and b crosses the partition (on one
 * side the IDs whose first 64 bits are below cut; of the node set: the nodes
 * whose hash is below cut, each with probability cut / 2^64, independently). */
static bool across(const runner *r, uint32_t a, uint32_t b) {
  uint64_t ha = 0, hb = 0;
  if (r->parted && r->parted_nodes)
    return (dht_seed_derive(r->pseed, a) < r->cut) != (dht_seed_derive(r->pseed, b) < r->cut);
  for (int i = 0; i < 8; i++) {
    ha = ha << 8 | r->net.ids[a].b[i];
    hb = hb << 8 | r->net.ids[b].b[i];
  }
  return r->parted && (ha < r->cut) != (hb < r->cut);
}

static int maint_failed(runner *r, uint32_t qid);

/* Sends one query from `from` to node: a lookup's (slot, its id) or a ping
 * (slot NO_SLOT). A query lost on the way has no event, so its record is
 * freed at once. Maintenance queries draw from their own stream and count
 * only in maint_queries. */
static int send_msg(runner *r, uint32_t slot, uint64_t lookup, uint32_t from, uint32_t node, uint8_t kind,
                    uint32_t cand, unsigned cpl) {
  sim_trace_lookup *tr = slot != NO_SLOT ? r->slots[slot].tr : NULL;
  dht_rng *rng = rng_of(r, kind);
  bool work = kind == Q_WORK;
  uint32_t qid;
  int rc = query_alloc(r, &qid);
  if (rc < 0)
    return rc;
  r->queries[qid] = (query){.slot = slot,
                            .lookup = lookup,
                            .from = from,
                            .node = node,
                            .state = Q_PENDING,
                            .refs = 1,
                            .kind = kind,
                            .cpl = (uint8_t)cpl,
                            .cand = cand,
                            .next_free = UINT32_MAX};
  if (work)
    r->res->counters.messages_sent++;
  else
    r->res->counters.maint_queries++;
  if (r->parted && across(r, from, node)) {
    if (work)
      r->res->counters.partition_drops++; /* lost on the cut, no draw */
    if (r->passive)
      rc = maint_failed(r, qid);
  } else if (drop_rng(rng, r->sc->loss.request_drop)) {
    if (work) {
      r->res->counters.messages_dropped++;
      r->res->counters.requests_dropped++;
    }
    if (tr != NULL)
      sim_trace_failed(tr, r->now, node, dht_lookup_in_flight(r->slots[slot].l), "request_dropped");
    if (r->passive)
      rc = maint_failed(r, qid);
  } else if ((rc = push(r, r->now + delay_rng(r, rng, from, node), EV_REQUEST, slot, qid)) == 0) {
    r->queries[qid].refs++;
  }
  query_unref(r, qid);
  return rc;
}

/* id: node's, as the lookup holds it (the network's own ID of node). */
static int send_query(runner *r, uint32_t slot, uint32_t node, const dht_id *id) {
  active *a = &r->slots[slot];
  unsigned c = r->passive ? dht_id_common_prefix(&r->net.ids[a->start], id) : SIM_MAINT_CPL_UNKNOWN;
  return send_msg(r, slot, a->id, a->start, node, a->maint ? Q_MLOOKUP : Q_WORK, SIM_MAINT_NONE, c);
}

/* bep5: owner pings node, its contact, for the node cand offered to node's full bucket. */
static int send_ping(runner *r, uint32_t owner, uint32_t node, uint32_t cand, uint8_t kind) {
  r->res->counters.maint_pings++;
  return send_msg(r, NO_SLOT, 0, owner, node, kind, cand, SIM_MAINT_CPL_UNKNOWN);
}

/* owner saw node (a query from it, an answer): sim_maint_offer, and with
 * bep5 the ping it asks for. */
static int maint_seen(runner *r, uint32_t owner, uint32_t node, unsigned cpl) {
  uint32_t ping;
  int rc = sim_maint_offer_cpl(&r->net, owner, node, cpl, now_s(r), r->bep5 ? &ping : NULL);
  if (rc < 0 || !r->bep5 || ping == SIM_MAINT_NONE)
    return rc;
  return send_ping(r, owner, ping, node, Q_PING);
}

/* Query qid failed: a failure of its contact in the querier's table. A
 * failed ping is tried once more (BEP 5: "it is suggested to try once more
 * before discarding the node"); when the contact is evicted, the node
 * offered takes its place. */
static int maint_failed(runner *r, uint32_t qid) {
  query q = r->queries[qid]; /* a copy: a retry may move the records */
  bool evicted;
  int rc = sim_maint_fail_cpl(&r->net, q.from, q.node, q.cpl, &evicted);
  if (rc < 0 || (q.kind != Q_PING && q.kind != Q_PING_AGAIN))
    return rc;
  if (evicted)
    return q.cand != SIM_MAINT_NONE ? maint_seen(r, q.from, q.cand, SIM_MAINT_CPL_UNKNOWN) : 0;
  if (q.kind != Q_PING)
    return 0;
  sim_maint_pinging(&r->net, q.from, q.node); /* still the bucket's one ping */
  return send_ping(r, q.from, q.node, q.cand, Q_PING_AGAIN);
}

/* The lookup of an event that names (slot, lookup id), or NULL once that
 * lookup has finished. */
static active *live(runner *r, uint32_t slot, uint64_t lookup) {
  active *a = &r->slots[slot];
  return a->l != NULL && a->id == lookup ? a : NULL;
}

/* The trace of the lookup that sent q, if traced (it may have finished), and
 * its in-flight count now (0 once finished). */
static sim_trace_lookup *trace_of(runner *r, const query *q, unsigned *in_flight) {
  sim_trace_lookup *tl = sim_trace_find(r->opt->trace, q->lookup);
  active *a = tl != NULL ? live(r, q->slot, q->lookup) : NULL;
  *in_flight = a != NULL ? dht_lookup_in_flight(a->l) : 0;
  return tl;
}

/* A traced query that the network lost (or a dead node ignored). */
static void trace_wire(runner *r, const query *q, const char *cause) {
  unsigned in_flight;
  sim_trace_lookup *tl = r->opt->trace != NULL ? trace_of(r, q, &in_flight) : NULL;
  if (tl != NULL)
    sim_trace_failed(tl, r->now, q->node, in_flight, cause);
}

/* A lookup's timer: most are one of its few fixed timeouts after now, so
 * they go to the queue's lane of that delay (a FIFO, sim/event_queue.h). */
static int push_timer(runner *r, uint32_t slot, const dht_lookup_timer *t) {
  uint64_t ev = TIMER_EV(r->slots[slot].id, t->id);
  if (t->at_us < r->now)
    return push(r, t->at_us, EV_TIMER, slot, ev);
  return sim_eq_push_after(&r->q, r->now, t->at_us - r->now, EV_TIMER, slot, ev);
}

static void record(runner *r, active *a) {
  sim_lookup_result *out = &r->res->lookups[a->id];
  dht_node closest[DHT_K_MAX];
  uint32_t truth[DHT_K_MAX + 1];
  size_t n_truth, n_closest, hits = 0, t = 0;
  size_t n_peers;
  unsigned k = r->cfg.k;

  /* The true K closest live nodes (alive, reachable and, with churn, online
   * when the lookup ends), the start node excluded (a lookup never returns
   * itself); unreachable nodes are not live to anyone else: no query gets an
   * answer from them (docs/latency.md). */
  n_truth = sim_network_true_closest(&r->net, &a->target, SIM_NODE_DEAD | SIM_NODE_UNREACHABLE | SIM_NODE_OFFLINE,
                                     truth, k + 1);
  for (size_t i = 0; i < n_truth; i++)
    if (truth[i] != a->start && t < k)
      truth[t++] = truth[i];
  n_truth = t;
  n_closest = dht_lookup_closest(a->l, closest, k);
  for (size_t i = 0; i < n_closest; i++) /* O(k^2), k <= 256 */
    for (size_t j = 0; j < n_truth; j++)
      if (dht_id_eq(&closest[i].id, &r->net.ids[truth[j]])) {
        hits++;
        break;
      }
  (void)dht_lookup_peers(a->l, &n_peers);
  out->id = a->id;
  out->start_node = a->start;
  out->start_us = a->start_us;
  out->queries = dht_lookup_queried_count(a->l);
  out->rounds = dht_lookup_rounds(a->l);
  out->hops = dht_lookup_hops(a->l);
  out->result_us = a->result_us - a->start_us;
  out->time_us = r->now - a->start_us;
  out->timeouts = a->timeouts;
  out->first_peer_us = a->first_peer_us == UINT64_MAX ? UINT64_MAX : a->first_peer_us - a->start_us;
  out->peers_found = (uint32_t)n_peers;
  out->closest_hits = (uint32_t)hits;
  out->closest_truth = (uint32_t)n_truth;
  out->target = a->target;
  /* Only lookups end the run's time: a timer outliving its lookup does not. */
  r->res->counters.end_us = r->now;
}

/* Issues what the lookup wants sent now; finishes it when done. */
static int pump(runner *r, uint32_t slot) {
  active *a = &r->slots[slot];
  dht_node *buf = r->nodebuf;
  size_t n, n_timers, t = 0;
  int rc;
  dht_lookup_clock(a->l, r->now);
  n = dht_lookup_next(a->l, buf, DHT_IN_FLIGHT_MAX);
  n_timers = dht_lookup_timers(a->l, r->timerbuf, TIMERBUF);
  /* Each query's timers go right after its request, as they always have: equal
   * times pop in push order, so this order is part of the results. */
  for (size_t i = 0; i < n; i++) {
    uint32_t node;
    /* Candidates come from the network's own answers, so the address is known. */
    rc = sim_network_find_addr(&r->net, &buf[i].addr, &node);
    g_assert(rc == 0);
    if (a->tr != NULL)
      sim_trace_query(a->tr, r->now, node, dht_lookup_in_flight(a->l), dht_lookup_rounds(a->l));
    if ((rc = send_query(r, slot, node, &buf[i].id)) < 0)
      return rc;
    for (; t < n_timers && r->timerbuf[t].query == i; t++)
      if ((rc = push_timer(r, slot, &r->timerbuf[t])) < 0)
        return rc;
  }
  for (; t < n_timers; t++)
    if ((rc = push_timer(r, slot, &r->timerbuf[t])) < 0)
      return rc;
  if (!dht_lookup_done(a->l))
    return 0;
  if (a->maint) { /* not a workload lookup: nothing recorded */
    dht_lookup_free(a->l);
    a->l = NULL;
    a->next_free = r->free_slot;
    r->free_slot = slot;
    return 0;
  }
  if (a->tr != NULL)
    sim_trace_done(a->tr, r->now, dht_lookup_in_flight(a->l));
  record(r, a);
  dht_lookup_free(a->l);
  a->l = NULL;
  a->next_free = r->free_slot;
  r->free_slot = slot;
  r->finished++;
  if (r->opt->progress != NULL)
    r->opt->progress(r->opt->progress_user, r->finished, r->total);
  if (r->sc->workload.arrival == SIM_ARRIVAL_SEQUENTIAL && r->started < r->total)
    return push(r, r->now, EV_START, 0, r->started++);
  return 0;
}

static int slot_alloc(runner *r, uint32_t *out) {
  uint32_t plant_at = r->sc->workload.planted_peers > 0 ? r->sc->workload.plant_at : 0;
  if (r->free_slot == NO_SLOT) {
    uint32_t n = r->n_slots ? r->n_slots * 2 : 16;
    active *ns;
    uint32_t *np;
    if (n <= r->n_slots)
      return DHT_ENOMEM;
    ns = g_try_renew(active, r->slots, n);
    if (ns == NULL)
      return DHT_ENOMEM;
    r->slots = ns;
    if (plant_at > 0) {
      np = g_try_renew(uint32_t, r->planted_pool, (size_t)n * plant_at);
      if (np == NULL)
        return DHT_ENOMEM; /* slots grew but n_slots did not: consistent */
      r->planted_pool = np;
    }
    for (uint32_t i = r->n_slots; i < n; i++) {
      ns[i].l = NULL;
      ns[i].next_free = i + 1 < n ? i + 1 : NO_SLOT;
    }
    r->free_slot = r->n_slots;
    r->n_slots = n;
  }
  *out = r->free_slot;
  r->free_slot = r->slots[*out].next_free;
  return 0;
}

static uint32_t *planted_of(runner *r, uint32_t slot) {
  return r->planted_pool + (size_t)slot * r->sc->workload.plant_at;
}

static int start_lookup(runner *r, uint64_t id) {
  const sim_scenario *sc = r->sc;
  uint32_t slot, start;
  dht_id target;
  dht_node *seed = r->nodebuf;
  uint32_t *idx = r->idxbuf;
  size_t n;
  active *a;
  int rc;

  if (r->churn_on && !r->measured) {
    r->measured = true;
    if ((rc = sim_churn_measure(&r->net, r->n_pop, dht_seed_derive(r->seed, STREAM_CHURN_SAMPLE),
                                &r->res->counters.online_fraction, &r->res->counters.stale_fraction)) < 0)
      return rc;
  }
  if (r->specs != NULL) {
    start = r->specs[id].start;
    target = r->specs[id].target;
  } else {
    /* With churn only from an online node; none online (nothing alive is):
     * the lookup waits a virtual second, the workload's draws untouched. */
    if (r->churn_on && r->startable == 0)
      return push(r, r->now + 1000000, EV_START_RETRY, 0, id);
    do
      start = node_at(r, (uint32_t)dht_rng_below(&r->work_rng, r->n_pop));
    while (r->net.flags[start] & (SIM_NODE_DEAD | SIM_NODE_OFFLINE));
    dht_id_random(&target, &r->work_rng);
  }
  if ((rc = slot_alloc(r, &slot)) < 0)
    return rc;
  a = &r->slots[slot];
  a->l = dht_lookup_new(&target, &r->net.ids[start], &r->cfg);
  if (a->l == NULL) {
    a->next_free = r->free_slot;
    r->free_slot = slot;
    return DHT_ENOMEM;
  }
  a->id = id;
  a->start = start;
  a->start_us = r->now;
  a->target = target;
  a->first_peer_us = UINT64_MAX;
  a->result_us = r->now;
  a->timeouts = 0;
  a->n_planted = 0;
  a->maint = false;
  a->tr = sim_trace_begin(r->opt->trace, id, r->now, &target);
  if (a->tr != NULL)
    dht_lookup_set_observer(a->l, sim_trace_observe, a->tr);
  if (sc->workload.planted_peers > 0)
    /* (rejoin new: an offline node never answers again, nor an unclaimed spare before its time) */
    a->n_planted = (uint32_t)sim_network_true_closest(&r->net, &target, r->rejoin_new ? SIM_NODE_OFFLINE : 0,
                                                      planted_of(r, slot), sc->workload.plant_at);

  n = sim_network_closest(&r->net, start, &target, idx, r->cfg.seeds > 0 ? r->cfg.seeds : r->cfg.k);
  for (size_t i = 0; i < n; i++) {
    node_of(r, idx[i], &seed[i]);
  }
  if ((rc = dht_lookup_seed(a->l, seed, n)) < 0)
    return rc;
  return pump(r, slot);
}

/* A maintenance lookup (find_node; docs/churn.md) of owner for target
 * (bootstrap: its own ID; refresh: a random ID of an idle bucket): seeded
 * with `via` first (SIM_MAINT_NONE: none), then owner's contacts closest to
 * target; its answers feed the tables as every answer does. Not recorded,
 * no peers planted. */
static int start_maint_lookup(runner *r, uint32_t owner, const dht_id *target, uint32_t via) {
  dht_node *seed = r->nodebuf;
  uint32_t *idx = r->idxbuf, slot;
  size_t n, m = 0;
  active *a;
  int rc;
  if ((rc = slot_alloc(r, &slot)) < 0)
    return rc;
  a = &r->slots[slot];
  a->l = dht_lookup_new(target, &r->net.ids[owner], &r->mcfg);
  if (a->l == NULL) {
    a->next_free = r->free_slot;
    r->free_slot = slot;
    return DHT_ENOMEM;
  }
  a->id = MAINT_ID_BASE + r->maint_seq++ % MAINT_ID_SPAN;
  a->start = owner;
  a->start_us = r->now;
  a->target = *target;
  a->first_peer_us = UINT64_MAX;
  a->result_us = r->now;
  a->timeouts = 0;
  a->n_planted = 0;
  a->tr = NULL;
  a->maint = true;
  r->res->counters.maint_lookups++;
  if (via != SIM_MAINT_NONE) {
    node_of(r, via, &seed[m++]);
  }
  n = sim_network_closest(&r->net, owner, target, idx, r->mcfg.k);
  for (size_t i = 0; i < n; i++) {
    if (idx[i] == via)
      continue;
    node_of(r, idx[i], &seed[m++]);
  }
  if ((rc = dht_lookup_seed(a->l, seed, m)) < 0)
    return rc;
  return pump(r, slot);
}

/* bep5: node's next maintenance pass at `at` (virtual µs); an earlier one
 * still queued is superseded. */
static int maint_arm(runner *r, uint32_t node, uint64_t at) {
  r->mdue[node] = at;
  return push(r, at, EV_MAINT, node, at);
}

/* A node come online (passive, bep5): BEP 5's joining, a find_node of its
 * own ID through a random online node (up to 64 draws; none found: its old
 * contacts only) and its old contacts; bep5: its next pass a period later. */
static int bootstrap(runner *r, uint32_t node) {
  uint32_t via = SIM_MAINT_NONE;
  int rc;
  for (int i = 0; i < 64 && via == SIM_MAINT_NONE; i++) {
    uint32_t y = node_at(r, (uint32_t)dht_rng_below(&r->maint_rng, r->n_pop));
    if (y != node && !(r->net.flags[y] & (SIM_NODE_DEAD | SIM_NODE_OFFLINE | SIM_NODE_UNREACHABLE)))
      via = y;
  }
  if ((rc = start_maint_lookup(r, node, &r->net.ids[node], via)) < 0 || !r->bep5)
    return rc;
  return maint_arm(r, node, r->now + MAINT_PASS_US);
}

/* rejoin new: population member `member` returns as the next spare, *node:
 * still offline (the caller's flip brings it online), with the member's
 * DEAD bit (a member killed by an event stays dead until revived) and its
 * own slow and unreachable bits; the node that left is retired, offline
 * forever (no event names it again). With maintenance the new identity's
 * table is empty until its bootstrap. O(1) (plus the emptied table's
 * materialisation). No spare left: DHT_ETOOBIG, the run stops (spares_out). */
static int claim(runner *r, uint32_t member, uint32_t *node) {
  uint32_t old = r->pop[member], s = r->next_spare;
  uint8_t *flags = r->net.flags;
  if (s >= r->net.n) {
    r->spares_out = true;
    return DHT_ETOOBIG;
  }
  r->next_spare++;
  g_assert((flags[old] & SIM_NODE_OFFLINE) && (flags[s] & SIM_NODE_OFFLINE) && !(flags[s] & SIM_NODE_RETIRED));
  flags[old] |= SIM_NODE_RETIRED;
  flags[s] = (uint8_t)((flags[s] & ~SIM_NODE_DEAD) | (flags[old] & SIM_NODE_DEAD));
  r->pop[member] = s;
  r->res->counters.rejoins++;
  *node = s;
  return r->passive ? sim_rejoin_empty_table(&r->net, s, old) : 0;
}

/* bep5: node's maintenance pass due at `due`: one refresh lookup per bucket
 * idle for 15 minutes, then the next pass MAINT_PASS_US later. An
 * offline (or dead) node has none until it comes online again; none once
 * every workload lookup is done (the queue drains). */
static int maint_pass(runner *r, uint32_t node, uint64_t due) {
  uint8_t idle[DHT_ID_BITS];
  unsigned n_idle;
  uint32_t next_s;
  int rc;
  if (r->mdue[node] != due)
    return 0; /* superseded */
  r->mdue[node] = UINT64_MAX;
  if (r->finished >= r->total || (r->net.flags[node] & (SIM_NODE_DEAD | SIM_NODE_OFFLINE)))
    return 0;
  if ((rc = sim_maint_idle_buckets(&r->net, node, now_s(r), idle, &n_idle, &next_s)) < 0)
    return rc;
  for (unsigned i = 0; i < n_idle; i++) {
    dht_id t;
    sim_maint_bucket_id(&r->net, node, idle[i], &r->maint_rng, &t);
    if ((rc = start_maint_lookup(r, node, &t, SIM_MAINT_NONE)) < 0)
      return rc;
  }
  (void)next_s; /* the passes keep their period (MAINT_PASS_US) */
  return maint_arm(r, node, r->now + MAINT_PASS_US);
}

static bool holds_peers(runner *r, uint32_t slot, uint32_t node) {
  const uint32_t *planted = planted_of(r, slot);
  for (uint32_t i = 0; i < r->slots[slot].n_planted; i++) /* O(plant_at) */
    if (planted[i] == node)
      return true;
  return false;
}

/* The answer of `node` to a get_peers for a's target, as the seed's mock gives it:
 * its stored peers if any (no nodes), else its K closest contacts minus the querier. */
static int deliver(runner *r, uint32_t slot, uint32_t node) {
  active *a = &r->slots[slot];
  dht_lookup_reply reply = {0};
  uint64_t tok_state = ((uint64_t)node << 32) ^ a->start ^ 0x746f6b656e000000ULL;
  uint8_t token[8];
  uint64_t t = dht_splitmix64(&tok_state);
  int rc;

  for (int i = 0; i < 8; i++)
    token[i] = (uint8_t)(t >> (8 * i));
  reply.token = token;
  reply.token_len = sizeof token;
  if (holds_peers(r, slot, node)) {
    reply.peers = r->peers;
    reply.n_peers = r->sc->workload.planted_peers;
    if (a->first_peer_us == UINT64_MAX)
      a->first_peer_us = r->now;
  }
  if (reply.n_peers == 0 || r->sc->workload.values_with_nodes) {
    size_t n = sim_network_closest(&r->net, node, &a->target, r->idxbuf, r->cfg.k), m = 0;
    for (size_t i = 0; i < n; i++) {
      if (r->idxbuf[i] == a->start)
        continue;
      node_of(r, r->idxbuf[i], &r->nodebuf[m++]);
    }
    reply.nodes = r->nodebuf;
    reply.n_nodes = m;
  }
  uint64_t version = dht_lookup_result_version(a->l);
  rc = dht_lookup_reply_from(a->l, &r->net.addrs[node], &reply);
  g_assert(rc != DHT_ENOENT && rc != DHT_EINVAL);
  bool changed = dht_lookup_result_version(a->l) != version;
  if (changed)
    a->result_us = r->now;
  if (rc == 0 && a->tr != NULL)
    sim_trace_answer(a->tr, r->now, node, dht_lookup_in_flight(a->l), reply.n_nodes, reply.n_peers > 0, changed);
  return rc < 0 ? rc : 0;
}

/* The network sample of timeline bin `bin` (now = its start): its own seed
 * for the table sample (bin + 1 of STREAM_CHURN_SAMPLE's; the first lookup's
 * measurement keeps the stream itself), so no stream shifts. While lookups
 * remain, the next bin's is scheduled, at most SIM_TIMELINE_SAMPLES_MAX. */
static int sample_bin(runner *r, uint64_t bin) {
  sim_results *res = r->res;
  sim_bin_sample *s;
  int rc;
  if (bin >= SIM_TIMELINE_SAMPLES_MAX)
    return 0;
  s = g_try_renew(sim_bin_sample, res->samples, res->n_samples + 1);
  if (s == NULL)
    return DHT_ENOMEM;
  res->samples = s;
  s = &res->samples[res->n_samples];
  rc = sim_churn_measure(&r->net, r->n_pop, dht_seed_derive(dht_seed_derive(r->seed, STREAM_CHURN_SAMPLE), bin + 1),
                         &s->online_fraction, &s->stale_fraction);
  if (rc < 0)
    return rc;
  res->n_samples++;
  if (r->finished < r->total && bin + 1 < SIM_TIMELINE_SAMPLES_MAX)
    return push(r, (bin + 1) * res->bin_us, EV_BIN, 0, bin + 1);
  return 0;
}

static bool startable(uint8_t f) { return (f & (SIM_NODE_DEAD | SIM_NODE_OFFLINE)) == 0; }

/* A timed event (docs/churn.md). SET: the key takes its value in the run's
 * scenario (validated when parsed). FAIL: every alive node dies with the
 * probability, one draw each in node order, except that the last alive one
 * never does (so a lookup can always start, or will once churn brings it
 * back). REVIVE: every dead node comes back with the probability. PARTITION,
 * PARTITION_NODES, HEAL: the split that across() reads. O(n) per
 * event, a bounded number of events. */
static int apply_event(runner *r, const sim_timed_event *e) {
  uint8_t *flags = r->net.flags;
  int rc = 0;
  if (e->action == SIM_EVENT_PARTITION || e->action == SIM_EVENT_HEAL || e->action == SIM_EVENT_PARTITION_NODES) {
    r->parted = e->action != SIM_EVENT_HEAL;
    r->parted_nodes = e->action == SIM_EVENT_PARTITION_NODES;
    r->cut = (uint64_t)ldexp(e->fraction, 64); /* fraction < 1: below 2^64 */
    /* Each node-set partition its own sides: the event's index picks its seed. */
    r->pseed = dht_seed_derive(dht_seed_derive(r->seed, STREAM_PARTITION), (uint64_t)(e - r->sc->events));
    return 0;
  }
  if (e->action == SIM_EVENT_SET) {
    rc = sim_param_set((sim_param_id)e->param, e->value, strlen(e->value), e->plain, NULL, &r->live, NULL, 0);
    g_assert(rc == DHT_OK);
    return 0;
  }
  /* The population's members (rejoin new: not the retired identities nor the unclaimed spares). */
  uint32_t alive = 0;
  for (uint32_t j = 0; j < r->n_pop; j++)
    alive += (flags[node_at(r, j)] & SIM_NODE_DEAD) == 0;
  for (uint32_t j = 0; j < r->n_pop; j++) {
    uint32_t i = node_at(r, j);
    bool dead = (flags[i] & SIM_NODE_DEAD) != 0, was = startable(flags[i]);
    if (e->action == SIM_EVENT_FAIL && !dead && alive > 1 && dht_rng_chance(&r->event_rng, e->fraction)) {
      flags[i] |= SIM_NODE_DEAD;
      alive--;
    } else if (e->action == SIM_EVENT_REVIVE && dead && dht_rng_chance(&r->event_rng, e->fraction)) {
      flags[i] &= (uint8_t)~SIM_NODE_DEAD;
      /* bep5: a revived online node has maintenance passes again (no draw). */
      if (r->bep5 && rc == 0 && !(flags[i] & SIM_NODE_OFFLINE) && r->mdue[i] == UINT64_MAX &&
          r->finished < r->total)
        rc = maint_arm(r, i, r->now + MAINT_PASS_US);
    }
    r->startable = r->startable - was + startable(flags[i]);
  }
  return rc;
}

static int handle(runner *r, const sim_event *ev) {
  uint32_t qid = (uint32_t)ev->b;
  query *q;
  int rc = 0;

  switch (ev->kind) {
  case EV_START:
  case EV_START_RETRY:
    return start_lookup(r, ev->b);
  case EV_SCENARIO:
    return apply_event(r, &r->sc->events[ev->a]);
  case EV_BIN:
    return sample_bin(r, ev->b);
  case EV_CHURN: {
    /* a: the node; b: its population member (rejoin new; 0 otherwise). */
    uint32_t x = ev->a;
    bool off = (r->net.flags[x] & SIM_NODE_OFFLINE) != 0;
    /* rejoin new: a return is a new identity's arrival; it takes over the
     * member's schedule (the same churn draw as the node's own return). None
     * once every lookup is done: the queue drains without claiming spares. */
    if (off && r->rejoin_new && r->finished >= r->total)
      return 0;
    if (off && r->rejoin_new && (rc = claim(r, (uint32_t)ev->b, &x)) < 0)
      return rc;
    bool was = startable(r->net.flags[x]);
    uint64_t next = sim_churn_flip(&r->churn, &r->net.flags[x], r->now);
    r->startable = r->startable - was + startable(r->net.flags[x]);
    r->res->counters.returns += off;
    /* Once every lookup is done the churn stops, so that the queue drains. */
    if (r->finished >= r->total)
      return 0;
    if ((rc = push(r, next, EV_CHURN, x, ev->b)) < 0)
      return rc;
    /* Come back online: it bootstraps (passive, bep5); a new identity from
     * an empty table (sim/rejoin.h), seeded only by the node it goes through. */
    if (r->passive && off && !(r->net.flags[x] & (SIM_NODE_OFFLINE | SIM_NODE_DEAD)))
      rc = bootstrap(r, x);
    return rc;
  }
  case EV_MAINT:
    return maint_pass(r, ev->a, ev->b);
  case EV_REQUEST: {
    q = &r->queries[qid];
    bool work = q->kind == Q_WORK;
    uint8_t f = r->net.flags[q->node];
    if (f & (SIM_NODE_DEAD | SIM_NODE_UNREACHABLE | SIM_NODE_OFFLINE)) {
      if (!work) {
        /* a maintenance query lost: no workload counter, no trace */
      } else if (f & SIM_NODE_DEAD) {
        r->res->counters.dead_queries++;
        trace_wire(r, q, "dead_node");
      } else if (f & SIM_NODE_UNREACHABLE) {
        r->res->counters.unreachable_queries++;
        trace_wire(r, q, "unreachable_node");
      } else {
        r->res->counters.offline_queries++; /* lost: an offline node answers nothing */
        trace_wire(r, q, "offline_node");
      }
      if (r->passive)
        rc = maint_failed(r, qid);
    } else {
      if (work)
        r->res->counters.messages_sent++;
      r->res->counters.retired_answers += (f & SIM_NODE_RETIRED) != 0;
      if (r->parted && across(r, q->node, q->from)) { /* the answer would cross a partition begun meanwhile */
        if (work)
          r->res->counters.partition_drops++;
        if (r->passive)
          rc = maint_failed(r, qid);
        query_unref(r, qid);
        return rc;
      }
      /* The queried node sees the querier (passive maintenance). */
      if (r->passive && (rc = maint_seen(r, q->node, q->from, q->cpl)) < 0) {
        query_unref(r, qid);
        return rc;
      }
      q = &r->queries[qid]; /* a ping sent meanwhile may have moved the records */
      dht_rng *rng = rng_of(r, q->kind);
      if (drop_rng(rng, r->sc->loss.response_drop)) {
        if (work) {
          r->res->counters.messages_dropped++;
          r->res->counters.responses_dropped++;
          trace_wire(r, q, "response_dropped");
        }
        if (r->passive)
          rc = maint_failed(r, qid);
      } else {
        rc = push(r, r->now + delay_rng(r, rng, q->node, q->from), EV_RESPONSE, q->slot, qid);
        if (rc == 0)
          r->queries[qid].refs++;
      }
    }
    query_unref(r, qid);
    return rc;
  }
  case EV_RESPONSE: {
    q = &r->queries[qid];
    uint32_t from = q->from, node = q->node, cand = q->cand;
    uint8_t kind = q->kind, qcpl = q->cpl;
    /* The querier sees the answering node, late or not (passive maintenance). */
    if (r->passive && (rc = maint_seen(r, from, node, qcpl)) < 0) {
      query_unref(r, qid);
      return rc;
    }
    if (kind == Q_PING || kind == Q_PING_AGAIN) {
      /* Answered: good. BEP 5: the next least recently seen questionable
       * contact is pinged, "until one fails to respond or all of the nodes
       * in the bucket are known to be good": the node is offered again. */
      if (cand != SIM_MAINT_NONE)
        rc = maint_seen(r, from, cand, SIM_MAINT_CPL_UNKNOWN);
      query_unref(r, qid);
      return rc;
    }
    q = &r->queries[qid];
    /* Late: the lookup has given up on the query (timed out, abandoned) or finished. */
    active *a = live(r, q->slot, q->lookup);
    if (a != NULL && dht_lookup_awaiting(a->l, &r->net.addrs[q->node])) {
      rc = deliver(r, q->slot, q->node);
      if (rc == 0)
        rc = pump(r, q->slot);
    } else if (kind == Q_WORK) {
      r->res->counters.late_responses++;
      if (r->opt->trace != NULL) {
        unsigned in_flight;
        sim_trace_lookup *tl = trace_of(r, q, &in_flight);
        if (tl != NULL)
          sim_trace_late(tl, r->now, q->node, in_flight);
      }
    }
    query_unref(r, qid);
    return rc;
  }
  case EV_TIMER: {
    active *a = live(r, ev->a, ev->b >> TIMER_ID_BITS);
    if (a == NULL)
      return 0;
    uint64_t version = dht_lookup_result_version(a->l);
    rc = dht_lookup_tick(a->l, r->now, ev->b & ((UINT64_C(1) << TIMER_ID_BITS) - 1));
    if (rc < 0)
      return rc;
    /* rounds applies a batch when its last query completes, which may be
     * this timeout: the result changes now, not at an answer. */
    bool changed = dht_lookup_result_version(a->l) != version;
    if (changed)
      a->result_us = r->now;
    if (rc == DHT_LOOKUP_TIMED_OUT && a->maint) {
      r->res->counters.maint_timeouts++;
    } else if (rc == DHT_LOOKUP_TIMED_OUT) {
      r->res->counters.timeouts++;
      a->timeouts++;
      if (a->tr != NULL)
        sim_trace_timeout(a->tr, r->now, dht_lookup_in_flight(a->l), changed);
    }
    return rc > 0 ? pump(r, ev->a) : 0;
  }
  default:
    g_assert_not_reached();
  }
  return 0;
}

/* The flags of the next node from the flags stream: the one definition of
 * the draw order (dead, then slow), shared by the run and sim_check_live. */
static uint8_t draw_flags(dht_rng *rng, const sim_scenario *sc) {
  uint8_t f = 0;
  if (dht_rng_chance(rng, sc->loss.dead_fraction))
    f |= SIM_NODE_DEAD;
  if (dht_rng_chance(rng, sc->latency.slow_fraction))
    f |= SIM_NODE_SLOW;
  return f;
}

static int all_dead(const sim_scenario *sc, char *err, size_t errlen) {
  return sim_fail(err, errlen, DHT_EINVAL, "%s: every node is dead (loss.dead_fraction %.3f): nothing can run a lookup",
                  sc->path, sc->loss.dead_fraction);
}

static void assign_flags(runner *r, uint64_t seed) {
  dht_rng rng;
  /* Nothing dead, nothing slow: every flag is 0 and the stream (private to
   * this function) is not needed; skips 2 draws per node. */
  if (!(r->sc->loss.dead_fraction > 0.0) && !(r->sc->latency.slow_fraction > 0.0)) {
    memset(r->net.flags, 0, r->net.n);
    return;
  }
  dht_rng_init(&rng, dht_seed_derive(seed, STREAM_FLAGS));
  for (uint32_t i = 0; i < r->net.n; i++) {
    uint8_t f = draw_flags(&rng, r->sc);
    r->net.flags[i] = f;
    /* rejoin new: the spares' draws follow the population's; they count as they join */
    r->res->counters.dead_nodes += (f & SIM_NODE_DEAD) != 0 && i < r->n_pop;
    r->res->counters.slow_nodes += (f & SIM_NODE_SLOW) != 0 && i < r->n_pop;
  }
}

/* Unreachable nodes from their own stream, after the dead and slow ones: the
 * flags stream keeps its draws. No draw when the fraction is 0. */
static void assign_unreachable(runner *r, uint64_t seed) {
  dht_rng rng;
  if (!(r->sc->loss.unreachable_fraction > 0.0))
    return;
  dht_rng_init(&rng, dht_seed_derive(seed, STREAM_UNREACHABLE));
  for (uint32_t i = 0; i < r->net.n; i++)
    /* Drawn for every node; a dead node stays dead only (rejoin new: a
     * spare's drawn death is not used, claim() gives it its member's). */
    if (dht_rng_chance(&rng, r->sc->loss.unreachable_fraction) &&
        (!(r->net.flags[i] & SIM_NODE_DEAD) || i >= r->n_pop)) {
      r->net.flags[i] |= SIM_NODE_UNREACHABLE;
      r->res->counters.unreachable_nodes += i < r->n_pop;
    }
}

bool sim_all_dead_possible(const sim_scenario *sc, uint32_t n) {
  /* P(all n dead) = d^n. Below 2^-128 no run of any sweep will ever see it
   * (a sweep has at most 10^10 runs): checking a large network costs nothing. */
  return sc->loss.dead_fraction > 0.0 && (double)n * -log2(sc->loss.dead_fraction) <= 128.0;
}

int sim_check_live(const sim_scenario *sc, uint64_t seed, uint32_t n, char *err, size_t errlen) {
  dht_rng rng;
  if (!sim_all_dead_possible(sc, n))
    return 0;
  /* Drawn as the run draws, up to the first live node (1 / (1 - d) draws on average). */
  dht_rng_init(&rng, dht_seed_derive(seed, STREAM_FLAGS));
  for (uint32_t i = 0; i < n; i++)
    if (!(draw_flags(&rng, sc) & SIM_NODE_DEAD))
      return 0;
  return all_dead(sc, err, errlen);
}

/* Churn at t = 0: every node's initial state and first transition event
 * (node order, one stream), then the tables restricted to the nodes online
 * now (docs/churn.md: with network.maintenance none they only go stale). */
static int churn_start(runner *r) {
  int rc;
  sim_churn_init(&r->churn, r->sc, dht_seed_derive(r->seed, STREAM_CHURN));
  for (uint32_t i = 0; i < r->n_pop; i++)
    if ((rc = push(r, sim_churn_initial(&r->churn, &r->net.flags[i]), EV_CHURN, i, r->rejoin_new ? i : 0)) < 0)
      return rc;
  /* rejoin new: the spares are offline from t = 0 (no draw, no event), so
   * no restricted table lists them; the population's tables are those of
   * the same network without spares. */
  for (uint32_t i = r->n_pop; i < r->net.n; i++)
    r->net.flags[i] |= SIM_NODE_OFFLINE;
  if (r->rejoin_new) {
    if ((r->pop = g_try_new(uint32_t, r->n_pop)) == NULL)
      return DHT_ENOMEM;
    for (uint32_t j = 0; j < r->n_pop; j++)
      r->pop[j] = j;
    r->next_spare = r->n_pop;
  }
  return sim_network_restrict_tables(&r->net, SIM_NODE_OFFLINE);
}

/* Poisson inter-arrival gap (virtual µs). */
static uint64_t arrival_gap(runner *r) {
  double u = 1.0 - dht_rng_double(&r->work_rng); /* (0, 1] */
  return clamp_us(-log(u) / r->sc->workload.rate_per_s * 1e6);
}

static void runner_clear(runner *r) {
  for (uint32_t i = 0; i < r->n_slots; i++)
    dht_lookup_free(r->slots[i].l);
  g_free(r->slots);
  g_free(r->planted_pool);
  g_free(r->queries);
  g_free(r->specs);
  g_free(r->peers);
  g_free(r->nodebuf);
  g_free(r->timerbuf);
  g_free(r->idxbuf);
  g_free(r->mdue);
  g_free(r->pop);
  sim_latency_clear(&r->lat);
  sim_eq_clear(&r->q);
  sim_network_clear(&r->net);
}

void sim_results_clear(sim_results *res) {
  g_free(res->lookups);
  g_free(res->samples);
  memset(res, 0, sizeof *res);
}

int sim_run(const sim_scenario *sc, const sim_options *opt, sim_results *res, char *err, size_t errlen) {
  static const sim_options no_options = {0};
  runner r;
  uint64_t seed;
  sim_event ev;
  size_t n_specs = 0;
  int rc;

  g_return_val_if_fail(sc != NULL && res != NULL, DHT_EINVAL);
  if (opt == NULL)
    opt = &no_options;
  memset(&r, 0, sizeof r);
  memset(res, 0, sizeof *res);
  r.live = *sc;
  r.sc = &r.live;
  r.opt = opt;
  r.res = res;
  r.free_slot = NO_SLOT;
  r.free_query = UINT32_MAX;
  seed = opt->seed_set ? opt->seed : sc->seed;
  r.seed = seed;
  r.churn_on = sim_churn_enabled(sc);
  /* The strategy's defaults, then what the scenario gives (a parsed scenario
   * has its 0s resolved already; one built in code may not). */
  if (dht_lookup_config_defaults(&r.cfg, sc->lookup.strategy) != DHT_OK)
    return sim_fail(err, errlen, DHT_EINVAL, "%s: unknown lookup.strategy %d", sc->path, (int)sc->lookup.strategy);
  r.cfg.k = sc->lookup.k;
  r.cfg.short_timeout_us = sc->lookup.short_timeout_us;
  r.cfg.tick_us = sc->lookup.tick_us;
  r.cfg.restrict_search_ips = sc->lookup.restrict_search_ips;
  /* mldht: one RTT histogram per run, shared by its lookups (docs/strategies.md). */
  dht_rtt_filter_init(&r.rtt);
  r.cfg.rtt = &r.rtt;
  if (sc->lookup.alpha > 0)
    r.cfg.alpha = sc->lookup.alpha;
  if (sc->lookup.timeout_us > 0)
    r.cfg.timeout_us = sc->lookup.timeout_us;
  if (sc->lookup.candidate_cap > 0)
    r.cfg.candidate_cap = sc->lookup.candidate_cap;
  if (sc->lookup.retries > 0)
    r.cfg.retries = sc->lookup.retries;
  if (sc->lookup.beta > 0)
    r.cfg.beta = sc->lookup.beta;

  if (opt->build_progress != NULL)
    opt->build_progress(opt->progress_user, true, sc->network.nodes);
  /* rejoin new: the spare identities are built with the network (rejoin.h). */
  uint64_t spares = sim_rejoin_spares(sc, opt->lookups > 0 ? opt->lookups : sc->workload.lookups);
  r.rejoin_new = spares > 0;
  if (spares == 0) {
    rc = sim_build_network(sc, seed, &r.net, err, errlen);
  } else if (sc->network.nodes + spares > SIM_NODES_MAX) {
    rc = sim_fail(err, errlen, DHT_EINVAL,
                  "%s: churn.rejoin: new: %" PRIu64 " nodes and %" PRIu64
                  " spare identities (churn.spares) exceed %u nodes",
                  sc->path, sc->network.nodes, spares, SIM_NODES_MAX);
  } else {
    rc = sim_network_generate_ondemand(&r.net, (uint32_t)(sc->network.nodes + spares), sc->lookup.k, sc->network.tables,
                                       dht_seed_derive(seed, STREAM_NETWORK));
    if (rc < 0)
      sim_fail(err, errlen, rc, "%s: cannot build a network of %" PRIu64 " nodes and %" PRIu64 " spare identities: %s",
               sc->path, sc->network.nodes, spares, dht_strerror(rc));
  }
  if (opt->build_progress != NULL)
    opt->build_progress(opt->progress_user, false, r.net.n);
  if (rc < 0)
    goto err_msg_set;
  r.n_pop = (uint32_t)(r.net.n - spares);
  res->nodes = r.n_pop;
  res->spares = (uint32_t)spares;
  if (sc->workload.lookups_file != NULL) {
    if ((rc = sim_lookups_load(sc->workload.lookups_file, r.n_pop, &r.specs, &n_specs, err, errlen)) < 0)
      goto err_msg_set;
    r.total = n_specs;
  } else {
    r.total = opt->lookups > 0 ? opt->lookups : sc->workload.lookups;
  }
  assign_flags(&r, seed);
  if (res->counters.dead_nodes == r.n_pop) {
    rc = all_dead(sc, err, errlen);
    goto err_msg_set;
  }
  assign_unreachable(&r, seed);
  if ((rc = sim_latency_init(&r.lat, sc, dht_seed_derive(seed, STREAM_LATENCY), err, errlen)) < 0)
    goto err_msg_set;
  dht_rng_init(&r.msg_rng, dht_seed_derive(seed, STREAM_MESSAGES));
  dht_rng_init(&r.work_rng, dht_seed_derive(seed, STREAM_WORKLOAD));

  rc = DHT_ENOMEM;
  res->lookups = g_try_new0(sim_lookup_result, r.total);
  r.nodebuf = g_try_new(dht_node, (size_t)MAX(sc->lookup.k, DHT_IN_FLIGHT_MAX) + 1);
  r.timerbuf = g_try_new(dht_lookup_timer, TIMERBUF);
  r.idxbuf = g_try_new(uint32_t, (size_t)MAX(sc->lookup.k, r.cfg.seeds) + 1);
  r.peers = g_try_new(dht_addr, sc->workload.planted_peers + 1u);
  if (res->lookups == NULL || r.nodebuf == NULL || r.timerbuf == NULL || r.idxbuf == NULL || r.peers == NULL)
    goto err;
  if (opt->trace != NULL && (rc = sim_trace_bind(opt->trace, &r.net, r.total)) < 0)
    goto err;
  res->n_lookups = r.total;
  res->planted = sc->workload.planted_peers > 0;
  /* The seed's generateMockPeers: 192.168.(i/256).(i%256):51413+i. */
  for (uint32_t i = 0; i < sc->workload.planted_peers; i++)
    dht_addr_set_v4(&r.peers[i], 0xc0a80000u | i, (uint16_t)(51413 + i));
  if ((rc = sim_eq_init(&r.q, 1024)) < 0)
    goto err;

  if (r.churn_on && (rc = churn_start(&r)) < 0)
    goto err;
  r.passive = sc->network.maintenance == SIM_MAINTENANCE_PASSIVE || sc->network.maintenance == SIM_MAINTENANCE_BEP5;
  r.bep5 = sc->network.maintenance == SIM_MAINTENANCE_BEP5;
  if (r.passive && (rc = sim_maint_init(&r.net)) < 0)
    goto err;
  if (r.passive) {
    /* Maintenance lookups: find_node walks, pipelined (alpha 3), the run's K
     * and query timeout; their own RTT state. */
    if ((rc = dht_lookup_config_defaults(&r.mcfg, DHT_LOOKUP_PIPELINED)) < 0)
      goto err;
    r.mcfg.k = sc->lookup.k;
    r.mcfg.alpha = 3;
    r.mcfg.timeout_us = r.cfg.timeout_us;
    dht_rng_init(&r.maint_rng, dht_seed_derive(seed, STREAM_MAINT));
    dht_rng_init(&r.mmsg_rng, dht_seed_derive(seed, STREAM_MAINT_MESSAGES));
  }
  if (r.bep5) {
    /* Every node's first pass at a random time of the first period (an
     * offline node's finds it offline; it is re-armed when it comes online). */
    rc = DHT_ENOMEM;
    if ((r.mdue = g_try_new(uint64_t, r.net.n)) == NULL || (rc = sim_maint_init_times(&r.net)) < 0)
      goto err;
    for (uint32_t i = 0; i < r.n_pop; i++)
      if ((rc = maint_arm(&r, i, dht_rng_below(&r.maint_rng, MAINT_PASS_US))) < 0)
        goto err;
    for (uint32_t i = r.n_pop; i < r.net.n; i++) /* rejoin new: a spare's passes start with its bootstrap */
      r.mdue[i] = UINT64_MAX;
  }
  for (uint32_t i = 0; i < r.net.n; i++)
    r.startable += startable(r.net.flags[i]);
  dht_rng_init(&r.event_rng, dht_seed_derive(seed, STREAM_EVENTS));
  res->bin_us = opt->bin_us > 0 ? opt->bin_us : (uint64_t)(SIM_BIN_S_DEFAULT * 1e6);
  if (r.churn_on && (rc = push(&r, 0, EV_BIN, 0, 0)) < 0)
    goto err;
  for (size_t i = 0; i < sc->n_events; i++)
    if ((rc = push(&r, sc->events[i].at_us, EV_SCENARIO, (uint32_t)i, 0)) < 0)
      goto err;
  /* The first lookup starts at 0 (after the warm-up); each start schedules
   * the next (sequential: at the previous one's end; poisson: after an
   * exponential gap). */
  if ((rc = push(&r, (uint64_t)llround(sc->churn.warmup_s * 1e6), EV_START, 0, r.started++)) < 0)
    goto err;
  while (sim_eq_pop(&r.q, &ev)) {
    if ((res->counters.events & 4095) == 0 && opt->stop != NULL && *opt->stop) {
      rc = sim_fail(err, errlen, DHT_ECANCELED, "%s: run stopped before completion", sc->path);
      goto err_msg_set;
    }
    g_assert(ev.time_us >= r.now);
    r.now = ev.time_us;
    res->counters.events += ev.kind != EV_BIN; /* timeline samples depend on --bin-s, the run does not */
    if (ev.kind == EV_START && sc->workload.arrival == SIM_ARRIVAL_POISSON && r.started < r.total) {
      if ((rc = push(&r, r.now + arrival_gap(&r), EV_START, 0, r.started++)) < 0)
        goto err;
    }
    if ((rc = handle(&r, &ev)) < 0)
      goto err;
  }
  g_assert(r.finished == r.total);
  for (uint32_t i = 0; r.rejoin_new && i < r.net.n; i++) /* O(n), once */
    res->retired += (r.net.flags[i] & SIM_NODE_RETIRED) != 0;
  res->tables_changed = r.net.mslots;
  res->contacts_added = r.net.madded;
  runner_clear(&r);
  return 0;

err:
  if (r.spares_out)
    sim_fail(err, errlen, rc,
             "%s: churn.rejoin: new: the %" PRIu32
             " spare identities (churn.spares%s) ran out at virtual %.3f s, after %" PRIu64
             " returns; give churn.spares a larger value (docs/churn.md)",
             sc->path, (uint32_t)(r.net.n - r.n_pop), sc->churn.spares > 0 ? "" : ", sized automatically",
             (double)r.now / 1e6, res->counters.rejoins);
  else
    sim_fail(err, errlen, rc, "%s: simulation failed: %s", sc->path, dht_strerror(rc));
err_msg_set:
  runner_clear(&r);
  sim_results_clear(res);
  return rc;
}
