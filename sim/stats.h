/* stats.h: statistics of runs and points, and the text of every output row
 * (formats in docs/output-format.md). Only virtual-time figures, printed with
 * fixed precision from exactly computed values: byte-identical for the same
 * scenario and seed. */
#ifndef SIM_STATS_H
#define SIM_STATS_H

#include <stdbool.h>
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

/* The statistics of one run. */
typedef struct sim_summary {
  const char *scenario; /* transfer none */
  uint64_t seed;        /* the run's seed */
  uint32_t nodes;
  unsigned alpha, k;
  dht_lookup_strategy strategy;
  uint64_t lookups;
  sim_dist queries;
  sim_dist rounds;
  sim_dist time_us;
  sim_dist first_peer_us; /* over lookups that found a peer */
  bool planted;           /* success_rate meaningful only if planted */
  double success_rate;    /* lookups that found >= 1 peer / lookups */
  double accuracy;        /* mean over lookups of closest_hits / closest_truth */
  sim_counters counters;
} sim_summary;

/* Returns 0 or DHT_ENOMEM. */
int sim_summary_compute(sim_summary *s, const sim_scenario *sc, uint64_t seed, const sim_results *res);

const char *sim_strategy_name(dht_lookup_strategy s);
const char *sim_tables_name(sim_tables_kind t);
const char *sim_latency_name(sim_latency_model m);

/* The per-run figures, in output order (docs/output-format.md). */
enum { SIM_FIG_COUNT = 29 };
extern const char *const sim_figure_names[SIM_FIG_COUNT];

typedef struct sim_figures {
  double v[SIM_FIG_COUNT];
  bool present[SIM_FIG_COUNT]; /* false: empty (success_rate without planted peers) */
} sim_figures;

void sim_summary_figures(const sim_summary *s, sim_figures *f);

/* A figure over a point's replicas: mean and 95 % Student-t half-width. */
typedef struct sim_agg {
  double mean;
  double ci95;
  bool present; /* every replica had the figure */
  bool has_ci;  /* present and at least 2 replicas */
} sim_agg;

void sim_aggregate(const sim_figures *runs, size_t n, sim_agg out[SIM_FIG_COUNT]);
/* Two-sided 95 % quantile of Student's t with df >= 1 degrees of freedom. */
double sim_t975(unsigned df);

/* Human-readable report of one run (stdout of a single-point run). */
int sim_write_table(FILE *f, const sim_summary *s);

/* Rows of the output files. `point` is the point's scenario (sim_scenario_point),
 * `nodes` the network's real size. Each returns 0 or DHT_EIO. */
int sim_write_summary_header(FILE *f);
int sim_write_summary_row(FILE *f, uint64_t point, const char *label, const sim_scenario *pt, uint64_t scenario_seed,
                          uint32_t nodes, uint64_t lookups, uint32_t replicas, const sim_agg agg[SIM_FIG_COUNT]);
int sim_write_runs_header(FILE *f);
int sim_write_runs_row(FILE *f, uint64_t point, uint32_t replica, const char *label, const sim_scenario *pt,
                       const sim_summary *s);
int sim_write_lookups_header(FILE *f);
int sim_write_lookups_rows(FILE *f, uint64_t point, uint32_t replica, const sim_scenario *pt,
                           const sim_results *res);
/* One element of summary.json's "points" array (no trailing comma or newline). */
int sim_write_point_json(FILE *f, uint64_t point, const char *label, const sim_scenario *pt, uint32_t nodes,
                         uint64_t lookups, const sim_agg agg[SIM_FIG_COUNT]);
/* JSON string literal with escapes. */
void sim_write_json_string(FILE *f, const char *s);

#endif
