/* stats.h: summary statistics of a run and the writers for its outputs
 * (table, CSV, JSON, per-lookup CSV). Only virtual-time figures: byte-identical
 * for the same scenario and seed. Formats are documented in README.md. */
#ifndef SIM_STATS_H
#define SIM_STATS_H

#include <stdint.h>
#include <stdio.h>

#include "scenario.h"
#include "sim.h"

/* Distribution of a per-lookup figure. Percentiles are nearest-rank. */
typedef struct sim_dist {
  uint64_t n;
  double mean;
  uint64_t p50, p95, p99, max;
} sim_dist;

typedef struct sim_summary {
  const char *scenario; /* transfer none */
  uint64_t seed;
  uint32_t nodes;
  unsigned alpha, k;
  dht_lookup_strategy strategy;
  uint64_t lookups;
  sim_dist queries;
  sim_dist rounds;
  sim_dist time_us;
  sim_dist first_peer_us; /* over lookups that found a peer */
  int planted;            /* success_rate meaningful only if planted */
  double success_rate;    /* lookups that found >= 1 peer / lookups */
  double accuracy;        /* mean over lookups of closest_hits / closest_truth */
  sim_counters counters;
} sim_summary;

/* Returns 0 or DHT_ENOMEM. */
int sim_summary_compute(sim_summary *s, const sim_scenario *sc, uint64_t seed, const sim_results *res);

const char *sim_strategy_name(dht_lookup_strategy s);

/* Writers return 0 or DHT_EIO (errno set). */
int sim_write_table(FILE *f, const sim_summary *s);
int sim_write_summary_csv_header(FILE *f);
int sim_write_summary_csv_row(FILE *f, const sim_summary *s);
int sim_write_summary_json(FILE *f, const sim_summary *s);
int sim_write_lookups_csv(FILE *f, const sim_results *res);

#endif
