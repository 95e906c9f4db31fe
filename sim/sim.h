/* sim.h: one simulation run: builds the network a scenario describes, drives
 * the core lookup over it on one virtual clock, and collects per-lookup results.
 * Deterministic: the same scenario and seed give the same results, bit for bit. */
#ifndef SIM_SIM_H
#define SIM_SIM_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "network.h"
#include "result.h"
#include "scenario.h"

typedef struct sim_counters {
  uint64_t messages_sent;    /* requests + responses put on the wire */
  uint64_t messages_dropped; /* lost to request_drop / response_drop: the next two together */
  uint64_t requests_dropped;
  uint64_t responses_dropped;
  uint64_t dead_queries;     /* requests that reached a dead node */
  uint64_t unreachable_queries; /* requests sent to an unreachable node (not dead), which never got there */
  uint64_t timeouts;         /* queries reported failed to the core */
  uint64_t late_responses;   /* answers their lookup no longer awaited (timed out, abandoned, finished) */
  uint64_t events;           /* events processed */
  uint64_t end_us;           /* virtual time at which the last lookup ended (timers outliving it do not count) */
  uint32_t dead_nodes;
  uint32_t slow_nodes;
  uint32_t unreachable_nodes; /* SIM_NODE_UNREACHABLE (loss.unreachable_fraction) */
  uint64_t offline_queries;  /* churn: requests that reached an offline node (lost) */
  uint64_t partition_drops;  /* timed partition: messages lost crossing it (no output column) */
  uint64_t returns;          /* churn: transitions from offline to online (no output column) */
  uint64_t rejoins;          /* churn.rejoin new: spare identities brought online (no output column) */
  uint64_t retired_answers;  /* rejoin new: queries answered by an identity retired before (0 unless a bug) */
  /* Maintenance traffic (network.maintenance passive, bep5; docs/churn.md),
   * counted apart: none of it is in the counters above. */
  uint64_t maint_queries;    /* pings + queries of bootstrap and refresh lookups sent */
  uint64_t maint_pings;      /* bep5: pings of questionable contacts sent (retries included) */
  uint64_t maint_lookups;    /* bootstrap (passive, bep5) and bucket refresh (bep5) lookups started */
  uint64_t maint_timeouts;   /* their lookups' queries reported failed to the core */
  double online_fraction;    /* churn: nodes online when measurement starts / nodes */
  double stale_fraction;     /* churn: sampled tables' contacts offline then / contacts (docs/churn.md) */
} sim_counters;

/* The network at the start of one timeline bin (churn runs only). */
typedef struct sim_bin_sample {
  double online_fraction; /* nodes neither offline nor dead / nodes */
  double stale_fraction;  /* as sim_counters' */
} sim_bin_sample;

typedef struct sim_results {
  sim_lookup_result *lookups; /* owned, [n_lookups] in lookup-id order */
  size_t n_lookups;
  sim_counters counters;
  uint32_t nodes;
  bool planted;               /* targets had planted peers: success rate applies */
  uint64_t bin_us;            /* the timeline's bin width, virtual µs */
  sim_bin_sample *samples;    /* owned, [n_samples]: sample i at i bin_us (churn runs only; NULL otherwise) */
  size_t n_samples;
  uint32_t tables_changed;    /* network.maintenance passive: nodes whose table was materialised */
  uint64_t contacts_added;    /* passive, bep5: contacts the tables took during the run (no output column) */
  uint32_t spares;            /* churn.rejoin new: spare identities built, nodes .. nodes + spares - 1 */
  uint32_t retired;           /* churn.rejoin new: identities retired by the end (offline for good) */
} sim_results;

/* Called now and then with the lookups finished so far (for a progress line). */
typedef void (*sim_progress_fn)(void *user, uint64_t done, uint64_t total);
/* Called when the run starts building its network of `nodes` nodes
 * (building true) and when the network is built (false): a 10^7-node build
 * takes many seconds before the first lookup, which a progress line must
 * account for. */
typedef void (*sim_build_fn)(void *user, bool building, uint64_t nodes);

typedef struct sim_options {
  bool seed_set;
  uint64_t seed;          /* overrides the scenario's seed when seed_set */
  uint64_t lookups;       /* overrides workload.lookups when > 0 */
  sim_progress_fn progress;
  sim_build_fn build_progress;
  void *progress_user;
  /* When non-NULL and set (e.g. by a signal handler), the run stops within a
   * few thousand events and returns DHT_ECANCELED. */
  volatile sig_atomic_t *stop;
  /* --trace: the selected lookups' events go there (trace.h); NULL: none.
   * Tracing changes no result. */
  struct sim_trace *trace;
  uint64_t bin_us;        /* timeline bin width, virtual µs; 0: SIM_BIN_S_DEFAULT (timeline.h) */
} sim_options;

/* Builds the scenario's network (generated or from its topology file) with the
 * given seed. transfer full into *net (sim_network_clear). Errors with a message in err. */
int sim_build_network(const sim_scenario *sc, uint64_t seed, sim_network *net, char *err, size_t errlen);

/* Whether a run of sc with this seed on n nodes has a live node, as the run
 * draws them: 0, or DHT_EINVAL with the run's own "every node is dead"
 * message. Cheap (it stops at the first live node), for checking every run
 * of a sweep before any starts. */
int sim_check_live(const sim_scenario *sc, uint64_t seed, uint32_t n, char *err, size_t errlen);
/* false when no run of sc on n nodes can ever have every node dead
 * (dead_fraction 0, or a probability below 2^-128): no need to ask
 * sim_check_live for each run. */
bool sim_all_dead_possible(const sim_scenario *sc, uint32_t n);

/* Runs the scenario. On success *res holds the results (sim_results_clear).
 * Returns 0 or a negative dht_ error with a one-line message in err. */
int sim_run(const sim_scenario *sc, const sim_options *opt, sim_results *res, char *err, size_t errlen);
void sim_results_clear(sim_results *res);

#endif
