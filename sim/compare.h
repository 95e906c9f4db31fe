/* compare.h: `dhtsim compare BASE_OUT NEW_OUT` and `dhtsim check SCENARIO
 * --expect FILE` (docs/regression.md): per-lookup distributions of two runs,
 * matched point by point by their parameters, compared figure by figure with a
 * test that says better / same / worse, Holm-corrected over every comparison.
 *
 * The statistics are exposed for tests/test_compare.c. */
#ifndef SIM_COMPARE_H
#define SIM_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "param.h"

/* The per-lookup figures compare knows, declared once: the name a row and
 * --figure use, the lookups.csv column it is read from, the direction that is
 * a regression, and what is compared.
 *   TAILS   the mean, p95 and p99 (rows NAME_mean, NAME_p95, NAME_p99, the
 *           names of figure.def's run figures)
 *   MEAN    the mean only (row NAME): a fraction, whose tails say nothing
 *   HIT     the mean of (column > 0), row NAME: success_rate from peers_found
 * A figure whose column a lookups.csv lacks (hops, result_ms and timeouts
 * before the change that adds them) is skipped by name, so adding a column
 * to lookups.csv needs no change here if its entry already exists.
 * These are lookups.csv's columns, not figure.def's run statistics (which
 * summary.csv aggregates over replicas): compare works on the lookups. */
/* clang-format off */
#define SIM_CMP_FIGURE_MAP(X) \
  X(QUERIES,       "queries",       "queries",       HIGHER, TAILS) \
  X(HOPS,          "hops",          "hops",          HIGHER, TAILS) \
  X(ROUNDS,        "rounds",        "rounds",        HIGHER, TAILS) \
  X(TIME_MS,       "time_ms",       "time_ms",       HIGHER, TAILS) \
  X(RESULT_MS,     "result_ms",     "result_ms",     HIGHER, TAILS) \
  X(FIRST_PEER_MS, "first_peer_ms", "first_peer_ms", HIGHER, TAILS) \
  X(SUCCESS_RATE,  "success_rate",  "peers_found",   LOWER,  HIT)   \
  X(ACCURACY,      "accuracy",      "accuracy",      LOWER,  MEAN)  \
  X(TIMEOUTS,      "timeouts",      "timeouts",      HIGHER, TAILS)
/* clang-format on */

typedef enum sim_cmp_fig_id {
#define SIM_CMP_ID_(ID, ...) SIM_CMP_##ID,
  SIM_CMP_FIGURE_MAP(SIM_CMP_ID_)
#undef SIM_CMP_ID_
  SIM_CMP_FIG_COUNT
} sim_cmp_fig_id;

typedef enum sim_cmp_worse { SIM_CMP_HIGHER, SIM_CMP_LOWER } sim_cmp_worse;
typedef enum sim_cmp_kind { SIM_CMP_TAILS, SIM_CMP_MEAN, SIM_CMP_HIT } sim_cmp_kind;

typedef struct sim_cmp_figure {
  const char *name;   /* row name (with _mean/_p95/_p99 for TAILS) and --figure */
  const char *column; /* of lookups.csv */
  sim_cmp_worse worse;
  sim_cmp_kind kind;
} sim_cmp_figure;

extern const sim_cmp_figure sim_cmp_figures[SIM_CMP_FIG_COUNT];

/* The statistics of a figure: its mean, and for TAILS the nearest-rank p95, p99. */
enum { SIM_CMP_MEAN_STAT, SIM_CMP_P95, SIM_CMP_P99, SIM_CMP_STAT_COUNT };

/* Bounds of the inputs (every input is bounded): points per output, lookups
 * per output (every figure's values of all points together: 8 bytes each, so
 * at most ~40 MB per figure and side), bytes per CSV line. */
#define SIM_CMP_POINTS_MAX 10000u
#define SIM_CMP_LOOKUPS_MAX 5000000u
#define SIM_CMP_LINE_MAX (1u << 20)
/* Bootstrap resamples of a tail comparison: the smallest two-sided p-value
 * is 2 / (B + 1) = 0.0004, small enough for Holm over ~100 comparisons at
 * alpha 0.05. Cost O(B * n) per comparison: ~50 ms for 300 lookups a side (two 64-bit
 * divisions per draw in dht_rng_below dominate). */
#define SIM_CMP_BOOTSTRAP 4999u

/* ---- statistics ---- */

/* Regularised incomplete beta I_x(a, b), a, b > 0 (continued fraction). */
double sim_ibeta(double a, double b, double x);
/* Two-sided p-value of Student's t: P(|T| >= |t|), df > 0. */
double sim_t_p2(double t, double df);
/* The p-quantile of Student's t, 0 < p < 1, df > 0 (bisection on sim_t_p2). */
double sim_t_quantile(double p, double df);

/* Welch's t on two samples' sizes, means and unbiased variances: the
 * difference mean_new - mean_base, its (1 - alpha) confidence interval and the
 * two-sided p-value of "no difference". Needs n >= 2 on each side (else
 * tested = false). With no variance on either side, the difference is exact:
 * p = 1 when it is 0, else 0. */
typedef struct sim_cmp_test {
  bool tested;
  double diff, lo, hi, p;
} sim_cmp_test;
void sim_welch(uint64_t nb, double mb, double vb, uint64_t nn, double mn, double vn, double alpha,
               sim_cmp_test *out);
/* The same from each side's mean, squared standard error of the mean and its
 * degrees of freedom (Welch–Satterthwaite over the two); needs df > 0 on
 * both sides (else tested = false). */
void sim_welch_se2(double mb, double se2b, double dfb, double mn, double se2n, double dfn, double alpha,
                   sim_cmp_test *out);

/* The squared standard error of a pooled mean from its R >= 2 replicas
 * (clusters): m[r] values of sum sum[r] each, M = sum of m, mean = sum / M;
 * R / (R - 1) * sum_r (m_r / M)^2 (mean_r - mean)^2 (the cluster-robust
 * "CR1" estimate). It sees the variance between networks, which the
 * per-lookup var / n does not. 0 when R < 2. */
double sim_cluster_se2(const uint64_t *m, const double *sum, uint32_t R);

/* Nearest-rank quantile (pct in 1..100) of sorted v[0..n), n >= 1. */
double sim_cmp_quantile(const double *v, uint64_t n, unsigned pct);

/* Percentile bootstrap of quantile(new) - quantile(base) over the lookups of
 * each side (sorted b[0..nb), w[0..nw)), SIM_CMP_BOOTSTRAP resamples drawn
 * from `seed` (core/rng.h): the percentile (1 - alpha) interval and the
 * two-sided p-value 2 min(#{d <= 0} + 1, #{d >= 0} + 1) / (B + 1). 0 or DHT_ENOMEM. */
int sim_bootstrap_quantile(const double *b, uint64_t nb, const double *w, uint64_t nw, unsigned pct,
                           uint64_t seed, double alpha, sim_cmp_test *out);

/* The 0-based order statistics of B sorted bootstrap values that bound the
 * percentile (1 - alpha) interval: as many values below lo as above hi. */
void sim_bootstrap_ci_index(double alpha, size_t B, size_t *lo, size_t *hi);

/* Holm–Bonferroni adjusted p-values of p[0..m) into adj[0..m): sorted
 * ascending, the i-th (0-based) is multiplied by m - i, made monotone and cut
 * at 1; a comparison is significant at alpha when adj < alpha. Ties are
 * taken in index order (the adjusted values do not depend on it). 0 or DHT_ENOMEM. */
int sim_holm(const double *p, size_t m, double *adj);

/* s as XML 1.0 character data or attribute value: & < > " ' escaped, the
 * characters XML 1.0 cannot hold (control characters but tab, line feed,
 * carriage return; bytes that are not UTF-8) written as U+FFFD. */
void sim_xml_escape(FILE *f, const char *s);

/* ---- the two sides of a comparison ---- */

/* One figure of one point: its lookups' values. */
typedef struct sim_cmp_sample {
  uint64_t n;
  double mean, var; /* var: unbiased (n - 1) */
  double *v;        /* [n] ascending, owned; from an expectation, rebuilt from its quantiles */
  uint64_t cap;
  /* Per replica (the lookups of one network): count and sum, [n_rep], owned;
   * then cluster_se2 (sim_cluster_se2) and clusters, the replicas with values. */
  uint64_t *rep_n;
  double *rep_sum;
  uint32_t n_rep, clusters;
  double cluster_se2;
} sim_cmp_sample;

typedef struct sim_cmp_point {
  uint64_t index;
  char *param[SIM_PARAM_COUNT]; /* owned: the text summary.csv shows; NULL when empty */
  sim_cmp_sample fig[SIM_CMP_FIG_COUNT];
} sim_cmp_point;

typedef struct sim_cmp_side {
  char *name; /* owned: the folder or file, for messages */
  bool swept[SIM_PARAM_COUNT];
  bool column[SIM_CMP_FIG_COUNT]; /* the figure's column exists */
  sim_cmp_point *pts;             /* [n], in point order */
  size_t n;
} sim_cmp_side;

void sim_cmp_side_clear(sim_cmp_side *s);
/* Reads OUT/summary.csv and OUT/lookups.csv. 0; DHT_EINVAL or DHT_ENOMEM with
 * a message starting with "dhtsim CMD: " in err. */
int sim_cmp_side_read(sim_cmp_side *s, const char *out_dir, const char *cmd, char *err, size_t errlen);
/* Sorts every sample and computes its mean and variance. 0 or DHT_ENOMEM. */
int sim_cmp_side_finish(sim_cmp_side *s);

/* The options both commands share. */
typedef struct sim_cmp_options {
  double tolerance_pct; /* worse by more than this, in % of the base value */
  double alpha;         /* family-wise, after Holm */
  bool want[SIM_CMP_FIG_COUNT][SIM_CMP_STAT_COUNT];
  bool explicit_figures; /* --figure given: a missing column is an error */
  const char *junit;     /* NULL: none */
  const char *format;    /* "table", "csv", "json" */
} sim_cmp_options;

void sim_cmp_options_init(sim_cmp_options *o);
/* Takes argv[*i] (and its value) when it is a shared option: 1 taken, 0 not
 * one of them, -1 bad usage (message printed, "dhtsim CMD: ..."). */
int sim_cmp_option(sim_cmp_options *o, int argc, char **argv, int *i, const char *cmd);
/* Text of the shared options for --help. */
extern const char sim_cmp_options_help[];

/* Compares and prints the report to out: 0 nothing regressed, 1 something
 * did, 2 bad usage (a --figure neither side has), 1 also when a file cannot
 * be written (message on stderr). */
int sim_cmp_report(const sim_cmp_side *base, const sim_cmp_side *nw, const sim_cmp_options *o, const char *cmd,
                   FILE *out);

/* `dhtsim compare ...` and `dhtsim check ...` (argv after the command name). */
int sim_compare_main(int argc, char **argv);
int sim_check_main(int argc, char **argv);

#endif
