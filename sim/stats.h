/* stats.h: statistics of runs and points, and the text of every output row
 * (formats in docs/output-format.md). Only virtual-time figures, printed with
 * fixed precision from exactly computed values: byte-identical for the same
 * scenario and seed. */
#ifndef SIM_STATS_H
#define SIM_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "param.h"
#include "scenario.h"
#include "sim.h"
#include "figure.def"

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
  sim_dist hops;
  sim_dist result_us;
  sim_dist time_us;
  sim_dist first_peer_us; /* over lookups that found a peer */
  bool planted;           /* success_rate meaningful only if planted */
  double success_rate;    /* lookups that found >= 1 peer / lookups */
  double accuracy;        /* mean over lookups of closest_hits / closest_truth */
  sim_counters counters;
  bool living;            /* sim_param_living of the run's scenario: LIVING figures and columns apply */
} sim_summary;

/* Returns 0 or DHT_ENOMEM. */
int sim_summary_compute(sim_summary *s, const sim_scenario *sc, uint64_t seed, const sim_results *res);
/* The same statistics over the lookups of res[0..n) pooled (a point's
 * replicas, in replica order): what the POOLED figures of a point are.
 * s->counters is left zero. Returns 0 or DHT_ENOMEM. */
int sim_summary_compute_pooled(sim_summary *s, const sim_scenario *sc, const sim_results *res, size_t n);

/* ---- figures (figure.def) ---- */

typedef enum sim_figure_id {
#define SIM_FIG_ID_(ID, ...) SIM_FIG_##ID,
  SIM_FIGURE_MAP(SIM_FIG_ID_)
#undef SIM_FIG_ID_
  SIM_FIG_COUNT
} sim_figure_id;

typedef enum sim_figure_scope {
  SIM_SCOPE_LOOKUP, /* a statistic over the run's lookups */
  SIM_SCOPE_RUN,    /* one number of the whole run */
} sim_figure_scope;

typedef enum sim_figure_format {
  SIM_FORMAT_REAL,  /* %.6f in runs.csv */
  SIM_FORMAT_COUNT, /* a whole number in runs.csv */
} sim_figure_format;

typedef enum sim_figure_presence {
  SIM_PRESENT_ALWAYS,
  SIM_PRESENT_PLANTED, /* only when peers were planted */
  SIM_PRESENT_PEERS,   /* only when some lookup got an answer carrying peers */
  SIM_PRESENT_UNREACHABLE, /* a column only in outputs whose scenario uses loss.unreachable_fraction
                              (a quiet key, param.h), always present there */
  SIM_PRESENT_LIVING,  /* only in a living network (sim_param_living): no column otherwise */
} sim_figure_presence;

typedef enum sim_figure_aggregation {
  SIM_AGG_MEAN_T95, /* mean over the replicas having it and its 95 % Student-t half-width */
  SIM_AGG_POOLED,   /* over the lookups of all replicas pooled (sim_summary_compute_pooled); no interval */
} sim_figure_aggregation;

typedef struct sim_figure {
  const char *name; /* the column name */
  const char *unit; /* "" when none */
  sim_figure_scope scope;
  sim_figure_format format;
  sim_figure_presence presence;
  sim_figure_aggregation aggregation;
  double (*read)(const sim_summary *s); /* the value in one run */
  const char *doc;                      /* one line */
} sim_figure;

/* [SIM_FIG_COUNT], in figure.def order, which is the output order. */
extern const sim_figure sim_figure_table[SIM_FIG_COUNT];

/* The columns an output shows: every parameter and figure, but the quiet
 * parameters (SIM_PARAM_QUIET) and their figures only when the scenario uses
 * them, so that an older scenario's output keeps its bytes. Decided once per
 * output from its base scenario (sweep included), so that every row, point,
 * shard and resumed part agrees. */
typedef struct sim_columns {
  bool param[SIM_PARAM_COUNT];
  bool fig[SIM_FIG_COUNT];
} sim_columns;

/* The columns of sc's outputs. */
void sim_columns_of(sim_columns *c, const sim_scenario *sc);
/* The figures' columns of c from its parameters' (what a manifest records). */
void sim_columns_complete(sim_columns *c);

/* "lookup" / "run", "real" / "count", "always" / "planted" / "peers" / "unreachable" / "living",
 * "mean, t95" / "pooled":
 * the words of docs/output-format.md's figure table. */
const char *sim_figure_scope_name(sim_figure_scope v);
const char *sim_figure_format_name(sim_figure_format v);
const char *sim_figure_presence_name(sim_figure_presence v);
const char *sim_figure_aggregation_name(sim_figure_aggregation v);

typedef struct sim_figures {
  double v[SIM_FIG_COUNT];     /* by sim_figure_id */
  bool present[SIM_FIG_COUNT]; /* false: empty (success_rate without planted peers) */
} sim_figures;

void sim_summary_figures(const sim_summary *s, sim_figures *f);

/* A figure over a point's replicas: mean and 95 % Student-t half-width. */
typedef struct sim_agg {
  double mean;
  double ci95;
  bool present; /* some replica had the figure (the mean is over those) */
  bool has_ci;  /* MEAN_T95 over at least 2 replicas */
} sim_agg;

/* pooled: the figures of sim_summary_compute_pooled over the same runs, for
 * the POOLED figures. */
void sim_aggregate(const sim_figures *runs, size_t n, const sim_figures *pooled, sim_agg out[SIM_FIG_COUNT]);
/* Two-sided 95 % quantile of Student's t with df >= 1 degrees of freedom. */
double sim_t975(unsigned df);

/* Human-readable report of one run (stdout of a single-point run). */
int sim_write_table(FILE *f, const sim_summary *s);

/* ---- rows of the output files (docs/output-format.md) ---- */

/* Room for any sim_param_format text: a name (at most 4096 bytes) or a path. */
#define SIM_PARAM_TEXT_SIZE 8192

/* The scenario whose values a row's parameter columns show: the point `pt`
 * (shallow copy, strings shared) with network.nodes the network's real size
 * and workload.lookups the real number of lookups (a topology file, a
 * lookups file and --lookups decide them). */
void sim_output_params(sim_scenario *out, const sim_scenario *pt, uint32_t nodes, uint64_t lookups);

/* s as a CSV field: quoted (RFC 4180) only when it holds a comma, quote or line break. */
void sim_write_csv_text(FILE *f, const char *s);
/* ",KEY" for every parameter shown, in param.def order. */
void sim_write_params_header(FILE *f, const sim_columns *shown);
/* ",value" for every parameter of cols shown (empty when unset). */
void sim_write_params_row(FILE *f, const sim_scenario *cols, const sim_columns *shown);
/* JSON string literal with escapes. */
void sim_write_json_string(FILE *f, const char *s);

/* runs.csv. Each returns 0 or DHT_EIO. `pt` is the point's scenario
 * (sim_scenario_point). */
int sim_write_runs_header(FILE *f, const sim_columns *shown);
int sim_write_runs_row(FILE *f, uint64_t point, uint32_t replica, const char *label, const sim_scenario *pt,
                       const sim_summary *s, const sim_columns *shown);

/* lookups.csv: `point,replica`, the swept keys keys[0..n) in axis order,
 * then the lookup's own columns. */
int sim_write_lookups_header(FILE *f, const char *const *keys, size_t n);
/* The rows of one run; swept[0..n) are the parameters of the header's keys. */
int sim_write_lookups_rows(FILE *f, uint64_t point, uint32_t replica, const sim_scenario *pt,
                           const sim_param_id *swept, size_t n, const sim_results *res);

#endif
