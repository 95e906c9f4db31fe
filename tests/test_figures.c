/* test_figures.c: the statistics of issue #10 as the output files show
 * them, checked against their definitions in docs/output-format.md from the
 * rows of lookups.csv and runs.csv: pooled nearest-rank percentiles, rounds
 * and hops with alpha = 1, first_peer_ms when no answer carried peers, the
 * virtual time, and the identities between the loss counters. */
#include <criterion/criterion.h>
#include "criterion_assert.h"
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_helpers.h"

/* Criterion 2.4.1's gt(T, a, b) tests a >= b (checked: gt(u64, 0, 0) passes), so
 * strict "greater than" checks here are plain comparisons. */

static char *tmp;

static void setup(void) { tmp = g_dir_make_tmp("dhtsim-figures-XXXXXX", NULL); }
static void teardown(void) {
  rm_rf(tmp);
  g_free(tmp);
}

/* Runs scenario into tmp/name and parses the file `file` of it. */
static csv run_and_read(const char *scenario, const char *name, const char *file) {
  char *d = g_build_filename(tmp, name, NULL);
  cli r = run_dhtsim((const char *[]){"run", scenario, "-j", "2", "--out", d, NULL});
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  char *text = slurp(d, file);
  csv c = csv_parse(text);
  g_free(text);
  cli_free(&r);
  g_free(d);
  return c;
}

static csv read_out(const char *name, const char *file) {
  char *d = g_build_filename(tmp, name, NULL);
  char *text = slurp(d, file);
  csv c = csv_parse(text);
  g_free(text);
  g_free(d);
  return c;
}

static uint64_t u(const csv *c, size_t row, const char *col) { return g_ascii_strtoull(csv_get(c, row, col), NULL, 10); }
static double d(const csv *c, size_t row, const char *col) { return g_ascii_strtod(csv_get(c, row, col), NULL); }

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The nearest-rank p-th percentile of v[n] (sorts v): the ceil(n p / 100)-th smallest. */
static double nearest_rank(double *v, size_t n, unsigned p) {
  size_t rank = (n * p + 99) / 100;
  qsort(v, n, sizeof *v, cmp_double);
  return v[rank == 0 ? 0 : rank - 1];
}

/* summary.csv's percentiles of a point are those of the point's rows of
 * lookups.csv, both replicas pooled; runs.csv keeps each replica's own. */
Test(figures, percentiles_are_nearest_rank_over_the_pooled_replicas, .init = setup, .fini = teardown) {
  static const struct {
    const char *fig, *col;
    unsigned p;
  } cases[] = {{"queries_p95", "queries", 95}, {"queries_p50", "queries", 50}, {"time_ms_p99", "time_ms", 99},
               {"rounds_max", "rounds", 100}, {"hops_p95", "hops", 95},         {"result_ms_p50", "result_ms", 50}};
  csv sum = run_and_read("tests/data/figures-lossy.yaml", "lossy", "summary.csv");
  csv lk = read_out("lossy", "lookups.csv"), runs = read_out("lossy", "runs.csv");
  bool some_differs = false;
  cr_assert(eq(sz, sum.n_rows, 7));
  for (size_t p = 0; p < sum.n_rows; p++)
    for (size_t c = 0; c < G_N_ELEMENTS(cases); c++) {
      double *v = g_new(double, lk.n_rows), *r0 = g_new(double, lk.n_rows);
      size_t n = 0, n0 = 0;
      for (size_t i = 0; i < lk.n_rows; i++)
        if (u(&lk, i, "point") == p) {
          v[n++] = d(&lk, i, cases[c].col);
          if (u(&lk, i, "replica") == 0)
            r0[n0++] = d(&lk, i, cases[c].col);
        }
      cr_assert(eq(sz, n, 198));
      double want = nearest_rank(v, n, cases[c].p), want0 = nearest_rank(r0, n0, cases[c].p);
      cr_assert(eq(dbl, d(&sum, p, cases[c].fig), want), "point %zu %s", p, cases[c].fig);
      char ci[64];
      snprintf(ci, sizeof ci, "%s_ci95", cases[c].fig);
      cr_assert(eq(str, (char *)csv_get(&sum, p, ci), ""), "point %zu %s: no interval", p, ci);
      /* runs.csv: replica 0 of point p is row 2 p. */
      cr_assert(eq(dbl, d(&runs, 2 * p, cases[c].fig), want0), "point %zu %s", p, cases[c].fig);
      some_differs |= want != (d(&runs, 2 * p, cases[c].fig) + d(&runs, 2 * p + 1, cases[c].fig)) / 2;
      g_free(v);
      g_free(r0);
    }
  /* Not a test that cannot fail: the mean of the replicas' would differ. */
  cr_assert(some_differs);
  csv_free(&sum);
  csv_free(&lk);
  csv_free(&runs);
}

/* A scenario with alpha = 1 and the given strategy: without a sweep both
 * strategies' runs get the same seeds, hence the same networks, lookups and
 * message draws. Dead nodes and plant_at 1 leave some lookups without a peer. */
static char *alpha_one(const char *strategy) {
  char *path = g_strdup_printf("%s/alpha1-%s.yaml", tmp, strategy);
  char *text = g_strdup_printf("name: alpha1\nseed: 5\nnetwork: {nodes: 500, tables: full}\n"
                               "latency: {model: lognormal, median_ms: 40, sigma: 0.6}\n"
                               "loss: {request_drop: 0.1, dead_fraction: 0.2}\n"
                               "lookup: {strategy: %s, alpha: 1}\n"
                               "workload: {lookups: 50, planted_peers: 2, plant_at: 1}\nreplicas: 2\n",
                               strategy);
  cr_assert(g_file_set_contents(path, text, -1, NULL));
  g_free(text);
  return path;
}

/* With alpha = 1 rounds and pipelined run the same lookups: the same rounds,
 * hops and queries, and rounds = queries (one query per decision). */
Test(figures, alpha_one_rounds_and_pipelined_agree, .init = setup, .fini = teardown) {
  static const char *const figs[] = {"rounds_mean", "hops_mean", "queries_mean", "rounds_p95", "hops_max",
                                     "time_ms_mean", "result_ms_mean", "accuracy", "first_peer_ms_mean"};
  char *ys = alpha_one("rounds"), *yp = alpha_one("pipelined");
  csv s0 = run_and_read(ys, "a1r", "summary.csv"), s1 = run_and_read(yp, "a1p", "summary.csv");
  csv lk = read_out("a1r", "lookups.csv");
  for (size_t i = 0; i < G_N_ELEMENTS(figs); i++)
    cr_assert(eq(str, (char *)csv_get(&s0, 0, figs[i]), (char *)csv_get(&s1, 0, figs[i])), "%s", figs[i]);
  cr_assert(eq(str, (char *)csv_get(&s0, 0, "rounds_mean"), (char *)csv_get(&s0, 0, "queries_mean")));
  /* hops is a depth, not a count: below the queries on most lookups. */
  cr_assert(lt(dbl, d(&s0, 0, "hops_mean"), d(&s0, 0, "rounds_mean")));
  for (size_t i = 0; i < lk.n_rows; i++) {
    cr_assert(eq(u64, u(&lk, i, "rounds"), u(&lk, i, "queries")), "lookup row %zu", i);
    cr_assert(le(u64, u(&lk, i, "hops"), u(&lk, i, "rounds")), "lookup row %zu", i);
  }
  csv_free(&s0);
  csv_free(&s1);
  csv_free(&lk);
  g_free(ys);
  g_free(yp);
}

/* For every strategy: hops <= rounds <= queries, result_ms <= time_ms, the
 * run's timeouts are its lookups' timeouts, and virtual_time_s is when the
 * last lookup ended (no leftover timer counts). */
Test(figures, per_lookup_figures_bound_each_other, .init = setup, .fini = teardown) {
  csv runs = run_and_read("tests/data/figures-lossy.yaml", "lossy", "runs.csv");
  csv lk = read_out("lossy", "lookups.csv");
  bool result_before_end = false;
  for (size_t r = 0; r < runs.n_rows; r++) {
    uint64_t p = u(&runs, r, "point"), rep = u(&runs, r, "replica"), timeouts = 0;
    double end_ms = 0;
    for (size_t i = 0; i < lk.n_rows; i++) {
      if (u(&lk, i, "point") != p || u(&lk, i, "replica") != rep)
        continue;
      cr_assert(le(u64, u(&lk, i, "hops"), u(&lk, i, "rounds")), "row %zu", i);
      cr_assert(le(u64, u(&lk, i, "rounds"), u(&lk, i, "queries")), "row %zu", i);
      cr_assert(le(dbl, d(&lk, i, "result_ms"), d(&lk, i, "time_ms")), "row %zu", i);
      result_before_end |= d(&lk, i, "result_ms") < d(&lk, i, "time_ms");
      timeouts += u(&lk, i, "timeouts");
      if (d(&lk, i, "start_ms") + d(&lk, i, "time_ms") > end_ms)
        end_ms = d(&lk, i, "start_ms") + d(&lk, i, "time_ms");
    }
    cr_assert(eq(u64, timeouts, u(&runs, r, "timeouts_total")), "run %zu", r);
    /* %.3f ms in lookups.csv, %.6f s in runs.csv: the same µs. */
    cr_assert(lt(dbl, fabs(end_ms / 1e3 - d(&runs, r, "virtual_time_s")), 2e-6), "run %zu: %.6f vs %s", r,
              end_ms / 1e3, csv_get(&runs, r, "virtual_time_s"));
  }
  cr_assert(result_before_end);
  csv_free(&runs);
  csv_free(&lk);
}

/* docs/output-format.md, "Loss counters": the identities, strategy by strategy. */
Test(figures, loss_counters_obey_the_documented_identities, .init = setup, .fini = teardown) {
  csv runs = run_and_read("tests/data/figures-lossy.yaml", "lossy", "runs.csv");
  csv lk = read_out("lossy", "lookups.csv");
  cr_assert(eq(sz, runs.n_rows, 14));
  for (size_t r = 0; r < runs.n_rows; r++) {
    const char *s = csv_get(&runs, r, "lookup.strategy");
    uint64_t p = u(&runs, r, "point"), rep = u(&runs, r, "replica"), queries = 0;
    uint64_t req = u(&runs, r, "requests_dropped_total"), resp = u(&runs, r, "responses_dropped_total");
    uint64_t dead = u(&runs, r, "dead_queries_total"), late = u(&runs, r, "late_responses_total");
    uint64_t to = u(&runs, r, "timeouts_total");
    for (size_t i = 0; i < lk.n_rows; i++)
      if (u(&lk, i, "point") == p && u(&lk, i, "replica") == rep)
        queries += u(&lk, i, "queries");
    /* Every counter is exercised. */
    cr_assert(req > 0 && resp > 0 && dead > 0 && late > 0, "%s", s);
    cr_assert(eq(u64, u(&runs, r, "messages_dropped_total"), req + resp), "%s", s);
    /* Each query is a request; each one neither dropped nor to a dead node is answered. */
    cr_assert(eq(u64, u(&runs, r, "messages_sent_total"), 2 * queries - req - dead), "%s", s);
    if (strcmp(s, "jech") == 0)
      cr_assert(eq(u64, to, 0), "jech has no per-query timeout"); /* a silent node waits for its step's retry */
    else if (strcmp(s, "libtorrent") == 0 || strcmp(s, "libp2p") == 0)
      cr_assert(lt(u64, to, req + resp + dead + late), "%s: queries abandoned or cancelled never time out", s);
    else
      cr_assert(eq(u64, to, req + resp + dead + late), "%s", s);
  }
  csv_free(&runs);
  csv_free(&lk);
}

/* planted_peers: 0: no answer carries peers; first_peer_ms is empty (CSV)
 * and null (JSON), never 0, and first_peer_lookups is 0. With peers planted
 * it is there, over the lookups that got one. */
Test(figures, first_peer_is_empty_when_no_answer_carried_peers, .init = setup, .fini = teardown) {
  csv sum = run_and_read("tests/data/figures-lossy.yaml", "lossy", "summary.csv");
  csv lk = read_out("lossy", "lookups.csv");
  char *dir = g_build_filename(tmp, "lossy", NULL), *json = slurp(dir, "summary.json");
  for (size_t p = 0; p < sum.n_rows; p++) {
    cr_assert(eq(str, (char *)csv_get(&sum, p, "first_peer_ms_mean"), ""));
    cr_assert(eq(str, (char *)csv_get(&sum, p, "first_peer_ms_p95"), ""));
    cr_assert(eq(dbl, d(&sum, p, "first_peer_lookups"), 0.0));
  }
  for (size_t i = 0; i < lk.n_rows; i++)
    cr_assert(eq(str, (char *)csv_get(&lk, i, "first_peer_ms"), ""));
  cr_assert(strstr(json, "\"first_peer_ms_mean\": {\"mean\": null, \"ci95\": null}") != NULL);
  cr_assert(strstr(json, "\"first_peer_ms_max\": {\"mean\": null, \"ci95\": null}") != NULL);
  g_free(json);
  g_free(dir);
  csv_free(&sum);
  csv_free(&lk);

  {
    char *y = alpha_one("rounds");
    sum = run_and_read(y, "a1", "summary.csv");
    lk = read_out("a1", "lookups.csv");
    g_free(y);
  }
  size_t with = 0;
  double total = 0;
  for (size_t i = 0; i < lk.n_rows; i++)
    if (csv_get(&lk, i, "first_peer_ms")[0] != '\0') {
      with++;
      total += d(&lk, i, "first_peer_ms");
    }
  cr_assert(with > 0);
  cr_assert(lt(sz, with, lk.n_rows), "some lookups found no peer: the figure is over the others");
  cr_assert(eq(dbl, d(&sum, 0, "first_peer_lookups"), (double)with / 2), "mean over the 2 replicas");
  /* Over the lookups with a value: an empty one counted as 0 would pull it down. */
  cr_assert(lt(dbl, fabs(d(&sum, 0, "first_peer_ms_mean") - total / (double)with), 5.0), "%s vs %f",
            csv_get(&sum, 0, "first_peer_ms_mean"), total / (double)with);
  csv_free(&sum);
  csv_free(&lk);
}
