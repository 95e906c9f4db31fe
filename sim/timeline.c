/* timeline.c: timeline.csv, per-bin statistics of each run (docs/output-format.md). */
#include "timeline.h"

#include <inttypes.h>
#include <glib.h>
#include <stdlib.h>

#include "error.h"
#include "stats.h"

/* The columns, declared once: the header, every row's order and the docs
 * (test_outputs checks docs/output-format.md against this table). */
const sim_timeline_column sim_timeline_columns[] = {
    {"bin", "", "the bin's index i: virtual time [i bin_s, (i + 1) bin_s)"},
    {"start_s", "s", "the bin's start, i bin_s"},
    {"lookups", "lookups", "lookups started in the bin"},
    {"queries_mean", "queries", "mean get_peers queries of those lookups (empty without lookups)"},
    {"time_ms_mean", "ms", "their mean time until done (empty without lookups)"},
    {"timeouts_mean", "queries", "their mean timed-out queries (empty without lookups)"},
    {"accuracy", "fraction", "their mean accuracy, as lookups.csv's (empty without lookups)"},
    {"online_fraction", "fraction",
     "churn: fraction of the nodes online at the bin's start (empty without churn, or past the run's last sample)"},
    {"stale_fraction", "fraction",
     "churn: offline share of the contacts of up to 1000 online nodes' tables at the bin's start (as stale_fraction)"},
};
const size_t sim_timeline_column_count = sizeof sim_timeline_columns / sizeof sim_timeline_columns[0];

static int io(FILE *f) { return ferror(f) ? DHT_EIO : 0; }

int sim_write_timeline_header(FILE *f, const char *const *keys, size_t n) {
  fputs("point,replica", f);
  for (size_t i = 0; i < n; i++) {
    fputc(',', f);
    sim_write_csv_text(f, keys[i]);
  }
  for (size_t i = 0; i < sim_timeline_column_count; i++)
    fprintf(f, ",%s", sim_timeline_columns[i].name);
  fputc('\n', f);
  return io(f);
}

/* Sums of the lookups of one bin. */
typedef struct bin_acc {
  uint64_t n, queries, time_us, timeouts;
  double accuracy;
} bin_acc;

static void write_row(FILE *f, const char *prefix, uint64_t bin, uint64_t bin_us, const bin_acc *a,
                      const sim_bin_sample *s) {
  fprintf(f, "%s,%" PRIu64 ",%.6f,%" PRIu64 ",", prefix, bin, (double)bin * (double)bin_us / 1e6, a->n);
  if (a->n > 0)
    fprintf(f, "%.6f,%.3f,%.6f,%.6f", (double)a->queries / (double)a->n, (double)a->time_us / 1e3 / (double)a->n,
            (double)a->timeouts / (double)a->n, a->accuracy / (double)a->n);
  else
    fputs(",,,", f);
  fputc(',', f);
  if (s != NULL)
    fprintf(f, "%.6f,%.6f", s->online_fraction, s->stale_fraction);
  else
    fputc(',', f);
  fputc('\n', f);
}

/* A lookup's start and index, sorted by both: stable by start time. */
typedef struct start_key {
  uint64_t start_us;
  uint32_t idx;
} start_key;

static int cmp_start(const void *a, const void *b) {
  const start_key *x = a, *y = b;
  if (x->start_us != y->start_us)
    return x->start_us < y->start_us ? -1 : 1;
  return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* order[0..n) = the lookups' indices by (start_us, index). 0 or DHT_ENOMEM. */
static int sort_by_start(uint32_t *order, const sim_results *res) {
  start_key *k = g_try_new(start_key, res->n_lookups);
  if (k == NULL)
    return DHT_ENOMEM;
  for (size_t q = 0; q < res->n_lookups; q++)
    k[q] = (start_key){res->lookups[q].start_us, (uint32_t)q};
  qsort(k, res->n_lookups, sizeof *k, cmp_start);
  for (size_t q = 0; q < res->n_lookups; q++)
    order[q] = k[q].idx;
  g_free(k);
  return 0;
}

int sim_write_timeline_rows(FILE *f, uint64_t point, uint32_t replica, const sim_scenario *pt,
                            const sim_param_id *swept, size_t n, const sim_results *res) {
  char *prefix = NULL, text[SIM_PARAM_TEXT_SIZE];
  size_t plen = 0, i = 0;
  sim_scenario cols;
  uint64_t bin_us = res->bin_us > 0 ? res->bin_us : (uint64_t)(SIM_BIN_S_DEFAULT * 1e6);
  FILE *pf = open_memstream(&prefix, &plen);
  if (pf == NULL)
    return DHT_ENOMEM;
  sim_output_params(&cols, pt, res->nodes, res->n_lookups);
  fprintf(pf, "%" PRIu64 ",%" PRIu32, point, replica);
  for (size_t j = 0; j < n; j++) {
    if (sim_param_is_set(swept[j], &cols))
      sim_param_format(swept[j], &cols, text, sizeof text);
    else
      text[0] = '\0';
    fputc(',', pf);
    sim_write_csv_text(pf, text);
  }
  if (fclose(pf) != 0 || prefix == NULL) {
    free(prefix);
    return DHT_ENOMEM;
  }
  /* Lookups are in start order (ids are given as they start), except when a
   * start had to wait for an online node (churn): then an index sorted by
   * start time (stable), else none. Sample s is bin s: the two ascending
   * sequences of bins are merged. */
  uint32_t *order = NULL;
  for (size_t j = 1; j < res->n_lookups && order == NULL; j++) {
    if (res->lookups[j].start_us >= res->lookups[j - 1].start_us)
      continue;
    order = g_try_new(uint32_t, res->n_lookups);
    if (order == NULL) {
      free(prefix);
      return DHT_ENOMEM;
    }
    if (sort_by_start(order, res) < 0) {
      g_free(order);
      free(prefix);
      return DHT_ENOMEM;
    }
  }
#define LK(j) (&res->lookups[order != NULL ? order[j] : (j)])
  for (uint64_t s = 0; i < res->n_lookups || s < res->n_samples;) {
    uint64_t lb = i < res->n_lookups ? LK(i)->start_us / bin_us : UINT64_MAX;
    uint64_t bin = s < res->n_samples && s < lb ? s : lb;
    bin_acc a = {0};
    for (; i < res->n_lookups && LK(i)->start_us / bin_us == bin; i++) {
      const sim_lookup_result *l = LK(i);
      a.n++;
      a.queries += l->queries;
      a.time_us += l->time_us;
      a.timeouts += l->timeouts;
      a.accuracy += l->closest_truth ? (double)l->closest_hits / (double)l->closest_truth : 1.0;
    }
    write_row(f, prefix, bin, bin_us, &a, bin < res->n_samples ? &res->samples[bin] : NULL);
    if (s <= bin)
      s = bin + 1;
  }
#undef LK
  g_free(order);
  free(prefix);
  return io(f);
}
