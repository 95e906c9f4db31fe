/* test_latency.c: the pair latency models (coordinates, matrix), the RTT
 * matrix reader and its errors, and unreachable nodes (loss.unreachable_fraction). */
#include <criterion/criterion.h>
#include "criterion_assert.h"
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_helpers.h"
#include "error.h"
#include "latency.h"
#include "network.h"
#include "scenario.h"
#include "sim.h"
#include "text.h"

/* sim.c's stream numbers (STREAM_UNREACHABLE, STREAM_LATENCY): the tests
 * redraw what a run draws. */
#define STREAM_UNREACHABLE 8
#define STREAM_LATENCY 9

/* docs/latency.md's figures of the defaults. */
#define DOC_P50 109.1
#define DOC_P90 170.8
#define DOC_P99 209.4

#define MATRIX_3X3 DHTSIM_SOURCE_DIR "/tests/data/matrix-3x3.txt"
static const float entries_3x3[3][3] = {{0, 100, 40}, {100, 0, 70}, {40, 70, 0}};

static void base_scenario(sim_scenario *sc) {
  sim_scenario_defaults(sc);
  sc->path = (char *)"test.yaml"; /* not owned: never sim_scenario_clear */
  sc->name = (char *)"test";
}

/* ---- the matrix reader ---- */

static char *tmp_dir;

static void setup(void) { tmp_dir = g_dir_make_tmp("dhtsim-latency-XXXXXX", NULL); }

static void teardown(void) {
  GDir *d = g_dir_open(tmp_dir, 0, NULL);
  const char *name;
  while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
    char *p = g_build_filename(tmp_dir, name, NULL);
    g_remove(p);
    g_free(p);
  }
  if (d != NULL)
    g_dir_close(d);
  g_rmdir(tmp_dir);
  g_free(tmp_dir);
}

/* Writes text to TMP/m.txt and loads it: the return code, the message in err. */
static int load_text(sim_matrix *mx, const char *text, char *err, size_t errlen, char **path) {
  *path = g_build_filename(tmp_dir, "m.txt", NULL);
  cr_assert(g_file_set_contents(*path, text, -1, NULL));
  return sim_matrix_load(mx, *path, err, errlen);
}

/* The load fails with rc and the message "TMP/m.txt<want>". */
static void load_fails(const char *text, int rc, const char *want) {
  sim_matrix mx;
  char err[1024] = "", *path, *full;
  cr_assert(eq(int, load_text(&mx, text, err, sizeof err, &path), rc), "%s", err);
  full = g_strconcat(path, want, NULL);
  cr_assert(eq(str, err, full));
  cr_assert(mx.rtt_ms == NULL && mx.near_ms == NULL && mx.m == 0);
  g_free(full);
  g_free(path);
}

Test(matrix, reads_the_3x3_file_with_comments_and_blank_lines) {
  sim_matrix mx;
  char err[512] = "";
  cr_assert(eq(int, sim_matrix_load(&mx, MATRIX_3X3, err, sizeof err), 0), "%s", err);
  cr_assert(eq(u32, mx.m, 3));
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      cr_assert(eq(flt, mx.rtt_ms[i * 3 + j], entries_3x3[i][j]), "%d %d", i, j);
  /* Each host's nearest other host. */
  cr_assert(eq(flt, mx.near_ms[0], 40.0f));
  cr_assert(eq(flt, mx.near_ms[1], 70.0f));
  cr_assert(eq(flt, mx.near_ms[2], 40.0f));
  cr_assert(eq(u64, mx.filled, 0));
  sim_matrix_clear(&mx);
}

Test(matrix, unknown_entries_take_the_symmetric_one_else_the_median, .init = setup, .fini = teardown) {
  sim_matrix mx;
  char err[512] = "", *path;
  /* (0,1) unknown, (1,0) known: 10. (2,3) and (3,2) unknown: the median of
   * the 9 known off-diagonal entries 10 20 30 40 50 60 70 80 90 -> 50.
   * The diagonal's -1 and 100 are ignored. */
  cr_assert(eq(int,
               load_text(&mx,
                         "-1 -1 20 30\n"
                         "10 0 40 50\n"
                         "60 70 0 -1\n"
                         "80 90 -1 100\n",
                         err, sizeof err, &path),
               0),
            "%s", err);
  cr_assert(eq(flt, mx.rtt_ms[0 * 4 + 1], 10.0f));
  cr_assert(eq(flt, mx.rtt_ms[2 * 4 + 3], 50.0f));
  cr_assert(eq(flt, mx.rtt_ms[3 * 4 + 2], 50.0f));
  cr_assert(eq(flt, mx.rtt_ms[0], 0.0f));
  cr_assert(eq(flt, mx.rtt_ms[3 * 4 + 3], 0.0f));
  cr_assert(eq(u64, mx.filled, 3));
  cr_assert(eq(flt, mx.near_ms[0], 10.0f));
  cr_assert(eq(flt, mx.near_ms[3], 50.0f));
  sim_matrix_clear(&mx);
  g_free(path);
  /* An even count of known entries: the mean of the middle two (20, 30 -> 25). */
  cr_assert(eq(int, load_text(&mx, "0 20 -1\n30 0 -1\n-1 -1 0\n", err, sizeof err, &path), 0), "%s", err);
  cr_assert(eq(flt, mx.rtt_ms[2], 25.0f));
  cr_assert(eq(flt, mx.rtt_ms[2 * 3 + 1], 25.0f));
  sim_matrix_clear(&mx);
  g_free(path);
}

Test(matrix, errors_name_line_column_and_what_was_expected, .init = setup, .fini = teardown) {
  load_fails("0 1 2\n1 0 x3\n2 3 0\n", DHT_EINVAL,
             ":2:5: expected an RTT in ms (a number from 0 to 3600000) or -1 (unknown), got 'x3'");
  load_fails("0 1\n-2 0\n", DHT_EINVAL,
             ":2:1: expected an RTT in ms (a number from 0 to 3600000) or -1 (unknown), got '-2'");
  load_fails("0 1\n1 nan\n", DHT_EINVAL,
             ":2:3: expected an RTT in ms (a number from 0 to 3600000) or -1 (unknown), got 'nan'");
  load_fails("0 1\n1 3600001\n", DHT_EINVAL,
             ":2:3: expected an RTT in ms (a number from 0 to 3600000) or -1 (unknown), got '3600001'");
  load_fails("0 1 2\n1 0\n2 3 0\n", DHT_EINVAL, ":2:4: row 2 has 2 entries: expected 3, as the first row (a square matrix)");
  load_fails("0 1 2\n1 0 4 5\n2 3 0\n", DHT_EINVAL,
             ":2:7: row 2 has more than 3 entries: expected 3, as the first row (a square matrix)");
  load_fails("0 1\n1 0\n# more\n5 5\n", DHT_EINVAL,
             ":4:1: expected the end of the matrix after 2 rows (the first row has 2 entries: a square matrix), got "
             "another row");
  load_fails("0 1 2\n1 0 3\n", DHT_EINVAL, ":3:1: expected 3 rows (the first row has 3 entries: a square matrix), got 2");
  load_fails("  7\n", DHT_EINVAL, ":1:1: expected a row of at least 2 RTTs (a matrix of 2 hosts or more), got 1");
  load_fails("0 -1\n-1 0\n", DHT_EINVAL,
             ": every off-diagonal entry is -1 (unknown): expected at least one known RTT");
  load_fails("# nothing\n\n", DHT_EINVAL, ": expected a square matrix of RTTs in ms, got no rows");
}

Test(matrix, too_many_hosts_is_refused_at_the_first_row, .init = setup, .fini = teardown) {
  GString *row = g_string_new(NULL);
  for (unsigned i = 0; i <= SIM_MATRIX_HOSTS_MAX; i++)
    g_string_append(row, "1 ");
  /* One row only: refused at its 4097th number, before any M x M allocation. */
  char *want = g_strdup_printf(":1:%u: the first row has more than 4096 entries: at most 4096 hosts (a 4096 x 4096 "
                               "matrix of floats takes 64 MiB)",
                               2 * SIM_MATRIX_HOSTS_MAX + 1);
  load_fails(row->str, DHT_ETOOBIG, want);
  g_free(want);
  g_string_free(row, TRUE);
}

Test(matrix, missing_file_and_folder_are_refused, .init = setup, .fini = teardown) {
  sim_matrix mx;
  char err[1024] = "";
  char *missing = g_build_filename(tmp_dir, "none.txt", NULL);
  cr_assert(eq(int, sim_matrix_load(&mx, missing, err, sizeof err), DHT_ENOENT));
  cr_assert(strstr(err, "none.txt: cannot open: ") != NULL, "%s", err);
  cr_assert(eq(int, sim_matrix_load(&mx, tmp_dir, err, sizeof err), DHT_EINVAL));
  cr_assert(g_str_has_suffix(err, ": is a directory"), "%s", err);
  g_free(missing);
}

/* ---- the matrix model ---- */

static void matrix_latency(sim_latency *lat, sim_scenario *sc, uint64_t seed) {
  char err[512] = "";
  base_scenario(sc);
  sc->latency.model = SIM_LATENCY_MATRIX;
  sc->latency.matrix = (char *)MATRIX_3X3;
  cr_assert(eq(int, sim_latency_init(lat, sc, seed, err, sizeof err), 0), "%s", err);
}

Test(latency_matrix, every_pair_takes_its_entry_and_draws_nothing) {
  sim_scenario sc;
  sim_latency lat;
  dht_rng r, before;
  unsigned per_host[3] = {0};
  float want_ms[3][3];
  matrix_latency(&lat, &sc, 42);
  /* Asymmetric, as a measured matrix may be: a message from a to b takes entry [a][b]. */
  lat.mx.rtt_ms[0 * 3 + 1] = 120.0f;
  memcpy(want_ms, entries_3x3, sizeof want_ms);
  want_ms[0][1] = 120.0f;
  dht_rng_init(&r, 7);
  before = r;
  for (uint32_t a = 0; a < 60; a++) {
    per_host[sim_latency_host(&lat, a)]++;
    for (uint32_t b = 0; b < 60; b++) {
      uint32_t ha = sim_latency_host(&lat, a), hb = sim_latency_host(&lat, b);
      double want = ha == hb ? lat.mx.near_ms[ha] * 1000.0 : want_ms[ha][hb] * 1000.0;
      cr_assert(eq(dbl, sim_latency_rtt_us(&lat, a, b), want), "%u %u", a, b);
      cr_assert(eq(dbl, sim_latency_draw_us(&lat, &r, a, b, false), want / 2), "%u %u", a, b);
      cr_assert(eq(dbl, sim_latency_draw_us(&lat, &r, a, b, true), want / 2 * sc.latency.slow_multiplier));
    }
  }
  /* No jitter: the message stream is untouched. */
  cr_assert(eq(u64, dht_rng_next(&r), dht_rng_next(&before)));
  /* Every host gets nodes (60 nodes on 3 hosts). */
  for (int h = 0; h < 3; h++)
    cr_assert(gt(u32, per_host[h], 0), "host %d", h);
  /* The placement is the seed's: another seed moves some node. */
  sim_latency other;
  sim_scenario sc2;
  matrix_latency(&other, &sc2, 43);
  bool moved = false;
  for (uint32_t a = 0; a < 60; a++)
    moved |= sim_latency_host(&lat, a) != sim_latency_host(&other, a);
  cr_assert(moved);
  sim_latency_clear(&other);
  sim_latency_clear(&lat);
}

Test(latency_matrix, jitter_adds_one_draw_within_its_bound) {
  sim_scenario sc;
  sim_latency lat;
  dht_rng r, twin;
  matrix_latency(&lat, &sc, 42);
  sc.latency.jitter_us = 5000;
  dht_rng_init(&r, 7);
  twin = r;
  for (uint32_t i = 0; i < 1000; i++) {
    uint32_t a = i % 50, b = (i * 7 + 1) % 50;
    double base = sim_latency_rtt_us(&lat, a, b) / 2, d = sim_latency_draw_us(&lat, &r, a, b, false);
    cr_assert(eq(dbl, d, base + (double)dht_rng_below(&twin, 5001)), "%u", i);
    cr_assert(d >= base && d <= base + 5000, "%f %f", d, base);
  }
  sim_latency_clear(&lat);
}

/* 3 nodes, alpha 1, rounds: a lookup queries the two others one after the
 * other, so its time is the sum of its two RTTs, each the matrix entry of
 * the pair's hosts (or their host's nearest when they share one). */
Test(latency_matrix, a_lookup_takes_the_sum_of_its_pairs_rtts) {
  sim_scenario sc;
  sim_latency lat;
  sim_results res;
  char err[512] = "";
  matrix_latency(&lat, &sc, 0);
  sc.network.nodes = 3;
  sc.lookup.alpha = 1;
  sc.workload.lookups = 30;
  sc.workload.planted_peers = 0;
  sc.seed = 11;
  sim_latency_clear(&lat);
  cr_assert(eq(int, sim_latency_init(&lat, &sc, dht_seed_derive(sc.seed, STREAM_LATENCY), err, sizeof err), 0));
  cr_assert(eq(int, sim_run(&sc, NULL, &res, err, sizeof err), 0), "%s", err);
  cr_assert(eq(sz, res.n_lookups, 30));
  for (size_t i = 0; i < res.n_lookups; i++) {
    const sim_lookup_result *l = &res.lookups[i];
    uint32_t s = l->start_node;
    double want = 0;
    for (uint32_t o = 0; o < 3; o++)
      if (o != s)
        want += sim_latency_rtt_us(&lat, s, o);
    cr_assert(eq(u32, l->queries, 2), "lookup %zu", i);
    cr_assert(eq(u64, l->time_us, (uint64_t)want), "lookup %zu from %u", i, s);
  }
  cr_assert(eq(u64, res.counters.timeouts, 0));
  sim_results_clear(&res);
  sim_latency_clear(&lat);
}

/* ---- the coordinates model ---- */

static void coord_latency(sim_latency *lat, sim_scenario *sc, uint64_t seed) {
  char err[512] = "";
  base_scenario(sc);
  sc->latency.model = SIM_LATENCY_COORDINATES;
  cr_assert(eq(int, sim_latency_init(lat, sc, seed, err, sizeof err), 0), "%s", err);
}

Test(latency_coordinates, a_pair_is_stable_symmetric_and_draws_nothing) {
  sim_scenario sc;
  sim_latency lat;
  dht_rng r, before;
  coord_latency(&lat, &sc, 5);
  dht_rng_init(&r, 3);
  before = r;
  for (uint32_t a = 0; a < 100; a++)
    for (uint32_t b = a + 1; b < 100; b++) {
      double d1 = sim_latency_draw_us(&lat, &r, a, b, false), d2 = sim_latency_draw_us(&lat, &r, a, b, false);
      double back = sim_latency_draw_us(&lat, &r, b, a, false);
      cr_assert(eq(dbl, d1, d2));
      cr_assert(eq(dbl, d1, back));
      cr_assert(eq(dbl, d1, sim_latency_rtt_us(&lat, a, b) / 2));
      cr_assert(gt(dbl, d1, 0.0));
    }
  cr_assert(eq(u64, dht_rng_next(&r), dht_rng_next(&before)));
  /* Node 10^7 and node 2^32-1 are as cheap as node 0: nothing stored per node. */
  cr_assert(gt(dbl, sim_latency_rtt_us(&lat, 10000000u, UINT32_MAX), 0.0));
  sim_latency_clear(&lat);
}

Test(latency_coordinates, the_points_fill_the_disk_and_heights_average_access_ms) {
  sim_scenario sc;
  sim_latency lat;
  double hsum = 0, x, y, h, rmax = 0;
  unsigned quadrant[4] = {0};
  coord_latency(&lat, &sc, 9);
  for (uint32_t i = 0; i < 100000; i++) {
    sim_latency_point(&lat, i, &x, &y, &h);
    double r = sqrt(x * x + y * y);
    rmax = fmax(rmax, r);
    hsum += h;
    quadrant[(x >= 0) + 2 * (y >= 0)]++;
    cr_assert(le(dbl, r, (double)sc.latency.coord_scale_us));
    cr_assert(ge(dbl, h, 0.0));
  }
  cr_assert(gt(dbl, rmax, 0.99 * (double)sc.latency.coord_scale_us));
  /* Mean height within 2 % of latency.access_ms (standard error 0.3 %). */
  cr_assert(lt(dbl, fabs(hsum / 100000 - (double)sc.latency.access_us), 0.02 * (double)sc.latency.access_us));
  for (int q = 0; q < 4; q++)
    cr_assert(quadrant[q] > 24000u && quadrant[q] < 26000u, "quadrant %d: %u", q, quadrant[q]);
  sim_latency_clear(&lat);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The figures docs/latency.md states for the defaults (seed 1, 200,000
 * pairs of nodes 2i, 2i+1): median, p90 and p99 of the RTT, in ms. */
Test(latency_coordinates, the_default_rtt_distribution_is_the_documented_one) {
  enum { PAIRS = 200000 };
  sim_scenario sc;
  sim_latency lat;
  double *rtt = g_new(double, PAIRS);
  coord_latency(&lat, &sc, 1);
  for (uint32_t i = 0; i < PAIRS; i++)
    rtt[i] = sim_latency_rtt_us(&lat, 2 * i, 2 * i + 1) / 1000.0;
  qsort(rtt, PAIRS, sizeof *rtt, cmp_double);
  double p50 = rtt[PAIRS / 2], p90 = rtt[PAIRS * 9 / 10], p99 = rtt[PAIRS * 99 / 100];
  cr_log_info("coordinates defaults: RTT p50 %.1f p90 %.1f p99 %.1f ms, min %.1f max %.1f", p50, p90, p99, rtt[0],
              rtt[PAIRS - 1]);
  cr_assert(p50 > DOC_P50 - 1 && p50 < DOC_P50 + 1, "p50 %.2f", p50);
  cr_assert(p90 > DOC_P90 - 1 && p90 < DOC_P90 + 1, "p90 %.2f", p90);
  cr_assert(p99 > DOC_P99 - 2 && p99 < DOC_P99 + 2, "p99 %.2f", p99);
  g_free(rtt);
  sim_latency_clear(&lat);
}

/* The triangle inequality RTT(a,c) <= RTT(a,b) + RTT(b,c): Euclidean
 * distances obey it and the heights add 2 h_b >= 0 to the right side, so it
 * holds for every triple (up to rounding); the measured share is 100 %. */
Test(latency_coordinates, the_triangle_inequality_holds) {
  sim_scenario sc;
  sim_latency lat;
  unsigned violations = 0, triples = 0;
  coord_latency(&lat, &sc, 2);
  for (uint32_t a = 0; a < 40; a++)
    for (uint32_t b = 0; b < 40; b++)
      for (uint32_t c = 0; c < 40; c++) {
        if (a == b || b == c || a == c)
          continue;
        triples++;
        violations += sim_latency_rtt_us(&lat, a, c) >
                      sim_latency_rtt_us(&lat, a, b) + sim_latency_rtt_us(&lat, b, c) + 1e-6;
      }
  cr_assert(eq(u32, triples, 40 * 39 * 38));
  cr_assert(eq(u32, violations, 0));
  sim_latency_clear(&lat);
}

/* ---- unreachable nodes ---- */

/* Which nodes a run of seed makes unreachable (as sim.c draws them; no dead nodes). */
static bool *unreachable_of(uint64_t seed, uint32_t n, double fraction) {
  bool *u = g_new0(bool, n);
  dht_rng rng;
  dht_rng_init(&rng, dht_seed_derive(seed, STREAM_UNREACHABLE));
  for (uint32_t i = 0; i < n; i++)
    u[i] = dht_rng_chance(&rng, fraction);
  return u;
}

Test(unreachable, they_run_lookups_but_never_answer_and_are_counted) {
  sim_scenario sc;
  sim_results res;
  char err[512] = "";
  uint64_t queries = 0, from_unreachable = 0, n_unreachable = 0;
  base_scenario(&sc);
  sc.network.nodes = 400;
  sc.workload.lookups = 300;
  sc.loss.unreachable_fraction = 0.3;
  sc.workload.planted_peers = 0; /* lookups run to the end: accuracy is the K closest's */
  sc.seed = 4;
  bool *u = unreachable_of(sc.seed, 400, 0.3);
  cr_assert(eq(int, sim_run(&sc, NULL, &res, err, sizeof err), 0), "%s", err);
  for (uint32_t i = 0; i < 400; i++)
    n_unreachable += u[i];
  cr_assert(eq(u64, res.counters.unreachable_nodes, n_unreachable));
  cr_assert(n_unreachable > 80 && n_unreachable < 160, "%lu", (unsigned long)n_unreachable);
  for (size_t i = 0; i < res.n_lookups; i++) {
    queries += res.lookups[i].queries;
    from_unreachable += u[res.lookups[i].start_node];
  }
  /* Unreachable nodes start lookups like any other (about 30 % of them). */
  cr_assert(gt(u64, from_unreachable, 50));
  /* Every query reached its node but those to unreachable ones, which all timed out unanswered. */
  cr_assert(gt(u64, res.counters.unreachable_queries, 0));
  cr_assert(eq(u64, res.counters.timeouts, res.counters.unreachable_queries));
  cr_assert(eq(u64, res.counters.messages_sent, 2 * queries - res.counters.unreachable_queries));
  cr_assert(eq(u64, res.counters.dead_queries, 0));
  /* They are not in the ground truth (no one gets an answer from them): the
   * accuracy is 0.715 (with them in the truth it would be 0.481, every
   * unreachable node of the true K closest a miss no lookup can avoid). */
  double acc = 0;
  for (size_t i = 0; i < res.n_lookups; i++) {
    cr_assert(le(u32, res.lookups[i].closest_hits, res.lookups[i].closest_truth));
    acc += (double)res.lookups[i].closest_hits / res.lookups[i].closest_truth;
  }
  cr_assert(gt(dbl, acc / (double)res.n_lookups, 0.65), "accuracy %.3f", acc / (double)res.n_lookups);
  sim_results_clear(&res);
  g_free(u);
}

/* Without the key nothing is drawn from its stream and no node is flagged. */
Test(unreachable, absent_means_none) {
  sim_scenario sc;
  sim_results res;
  char err[512] = "";
  base_scenario(&sc);
  sc.network.nodes = 200;
  sc.workload.lookups = 50;
  cr_assert(eq(int, sim_run(&sc, NULL, &res, err, sizeof err), 0), "%s", err);
  cr_assert(eq(u32, res.counters.unreachable_nodes, 0));
  cr_assert(eq(u64, res.counters.unreachable_queries, 0));
  cr_assert(eq(u64, res.counters.timeouts, 0));
  sim_results_clear(&res);
}

/* ---- through the command line ---- */

static char *write_tmp(const char *dir, const char *name, const char *text) {
  char *p = g_build_filename(dir, name, NULL);
  cr_assert(g_file_set_contents(p, text, -1, NULL));
  return p;
}

Test(latency_cli, a_bad_matrix_is_refused_with_its_position_before_any_run, .init = setup, .fini = teardown) {
  char *m = write_tmp(tmp_dir, "bad.txt", "0 1 2\n1 0 x3\n2 3 0\n");
  char *yaml = g_strdup_printf("latency: {model: matrix, matrix: %s}\n", m);
  char *sc = write_tmp(tmp_dir, "s.yaml", yaml), *out = g_build_filename(tmp_dir, "out", NULL);
  char *want = g_strdup_printf("dhtsim: %s:2:5: expected an RTT in ms (a number from 0 to 3600000) or -1 (unknown), "
                               "got 'x3'\n",
                               m);
  cli v = run_dhtsim((const char *[]){"validate", sc, NULL});
  cr_assert(eq(int, v.status, 2));
  cr_assert(eq(str, v.err, want));
  cli r = run_dhtsim((const char *[]){"run", sc, "--out", out, NULL});
  cr_assert(eq(int, r.status, 2));
  cr_assert(eq(str, r.err, want));
  cr_assert(g_file_test(out, G_FILE_TEST_EXISTS) == FALSE, "nothing written");
  cli_free(&v);
  cli_free(&r);
  g_remove(m);
  cli n = run_dhtsim((const char *[]){"validate", sc, NULL});
  cr_assert(eq(int, n.status, 2));
  cr_assert(strstr(n.err, "bad.txt: cannot open: ") != NULL, "%s", n.err);
  cli_free(&n);
  g_free(want);
  g_free(yaml);
  g_free(m);
  g_free(sc);
  g_free(out);
}

/* The quiet keys the scenario uses are columns (its matrix, its jitter, the
 * swept unreachable fraction and its figures), the others are not; a
 * resumed run and two merged shards give the same bytes. */
Test(latency_cli, quiet_columns_survive_resume_and_merge, .init = setup, .fini = teardown) {
  char *full = g_build_filename(tmp_dir, "full", NULL), *s0 = g_build_filename(tmp_dir, "s0", NULL);
  char *s1 = g_build_filename(tmp_dir, "s1", NULL), *merged = g_build_filename(tmp_dir, "merged", NULL);
  static const char *const files[] = {"summary.csv", "summary.json", "runs.csv", "lookups.csv"};
  cli a = run_dhtsim((const char *[]){"run", "tests/data/latency-quiet.yaml", "--out", full, NULL});
  cr_assert(eq(int, a.status, 0), "%s", a.err);
  char *sum = slurp(full, "summary.csv");
  csv c = csv_parse(sum);
  cr_assert(eq(sz, c.n_rows, 2));
  cr_assert(eq(str, (char *)csv_get(&c, 1, "loss.unreachable_fraction"), "0.2"));
  cr_assert(eq(str, (char *)csv_get(&c, 0, "latency.jitter_ms"), "2"));
  cr_assert(g_str_has_suffix(csv_get(&c, 0, "latency.matrix"), "tests/data/matrix-3x3.txt"));
  cr_assert(eq(str, (char *)csv_get(&c, 0, "unreachable_nodes"), "0.000000"));
  cr_assert(strcmp(csv_get(&c, 1, "unreachable_nodes"), "0.000000") != 0);
  for (size_t i = 0; i < c.n_cols; i++)
    cr_assert(strstr(c.header[i], "coord_scale") == NULL && strstr(c.header[i], "access_ms") == NULL, "%s",
              c.header[i]);
  csv_free(&c);
  cli b = run_dhtsim((const char *[]){"run", "tests/data/latency-quiet.yaml", "--out", full, "--resume", NULL});
  cr_assert(eq(int, b.status, 0), "%s", b.err);
  cli x = run_dhtsim((const char *[]){"run", "tests/data/latency-quiet.yaml", "--shard", "0/2", "--out", s0, NULL});
  cli y = run_dhtsim((const char *[]){"run", "tests/data/latency-quiet.yaml", "--shard", "1/2", "--out", s1, NULL});
  cr_assert(eq(int, x.status, 0), "%s", x.err);
  cr_assert(eq(int, y.status, 0), "%s", y.err);
  cli m = run_dhtsim((const char *[]){"merge", "--out", merged, s0, s1, NULL});
  cr_assert(eq(int, m.status, 0), "%s", m.err);
  for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
    char *f = slurp(full, files[i]), *g = slurp(merged, files[i]);
    cr_assert(eq(str, f, g), "%s", files[i]);
    if (i == 0)
      cr_assert(eq(str, f, sum), "resumed %s", files[i]);
    g_free(f);
    g_free(g);
  }
  cli_free(&a);
  cli_free(&b);
  cli_free(&x);
  cli_free(&y);
  cli_free(&m);
  g_free(sum);
  rm_rf(full);
  rm_rf(s0);
  rm_rf(s1);
  rm_rf(merged);
  g_free(full);
  g_free(s0);
  g_free(s1);
  g_free(merged);
}

/* ---- quiet keys and the fingerprint ---- */

static uint64_t hash_str(uint64_t h, const char *s) { return sim_fnv1a64(h, s, strlen(s)); }

/* The fingerprint as it was before the quiet keys existed: every key but
 * them, no files, no sweep (param.c's v3 layout). */
static uint64_t fingerprint_without_quiet(const sim_scenario *sc, uint64_t lookups) {
  char buf[64];
  uint64_t h = hash_str(SIM_FNV1A64_INIT, "dhtsim-fingerprint v3\n");
  for (int i = 0; i < SIM_PARAM_COUNT; i++) {
    if (sim_params[i].flags & SIM_PARAM_QUIET)
      continue;
    h = hash_str(h, sim_params[i].key);
    h = hash_str(h, "=");
    if (sim_params[i].type == SIM_PT_PATH)
      h = hash_str(h, "-");
    else if (sim_params[i].type == SIM_PT_NAME)
      h = hash_str(h, sim_param_text((sim_param_id)i, sc));
    else {
      sim_param_canon((sim_param_id)i, sc, buf, sizeof buf);
      h = hash_str(h, buf);
    }
    h = hash_str(h, "\n");
  }
  snprintf(buf, sizeof buf, "lookups=%llu\n", (unsigned long long)lookups);
  return hash_str(h, buf);
}

Test(quiet, keys_at_their_default_leave_the_fingerprint_as_it_was) {
  static const sim_file_digests none;
  sim_scenario sc;
  base_scenario(&sc);
  cr_assert(eq(u64, sim_param_fingerprint(&sc, 0, &none), fingerprint_without_quiet(&sc, 0)));
  cr_assert(sim_param_in_use(SIM_P_LOSS_UNREACHABLE_FRACTION, &sc) == false);
  cr_assert(sim_param_in_use(SIM_P_LOSS_DEAD_FRACTION, &sc)); /* not quiet: always */
  /* Each quiet key, once used, counts. */
  static const sim_param_id quiet[] = {SIM_P_LATENCY_COORD_SCALE_MS, SIM_P_LATENCY_ACCESS_MS, SIM_P_LATENCY_JITTER_MS,
                                       SIM_P_LOSS_UNREACHABLE_FRACTION};
  uint64_t seen[G_N_ELEMENTS(quiet)];
  for (size_t i = 0; i < G_N_ELEMENTS(quiet); i++) {
    char want[128];
    base_scenario(&sc);
    cr_assert(ne(u32, sim_params[quiet[i]].flags & SIM_PARAM_QUIET, 0));
    cr_assert(eq(int, sim_param_set(quiet[i], "0.5", 3, true, NULL, &sc, want, sizeof want), 0), "%s", want);
    cr_assert(sim_param_in_use(quiet[i], &sc));
    seen[i] = sim_param_fingerprint(&sc, 0, &none);
    cr_assert(ne(u64, seen[i], fingerprint_without_quiet(&sc, 0)), "%s", sim_params[quiet[i]].key);
    for (size_t j = 0; j < i; j++)
      cr_assert(ne(u64, seen[i], seen[j]));
  }
  /* A swept quiet key is in use even at its default. */
  base_scenario(&sc);
  sim_sweep_axis axis = {.key = (char *)"loss.unreachable_fraction", .values = NULL, .n = 0};
  sc.sweep = &axis;
  sc.n_sweep = 1;
  cr_assert(sim_param_in_use(SIM_P_LOSS_UNREACHABLE_FRACTION, &sc));
  cr_assert(sim_param_in_use(SIM_P_LATENCY_JITTER_MS, &sc) == false);
}

/* The memory check counts the matrix a run holds: refused one byte below the
 * estimate with it, accepted at it. */
Test(latency_cli, the_memory_estimate_counts_the_matrix, .init = setup, .fini = teardown) {
  enum { M = 600 };
  GString *g = g_string_new(NULL);
  for (int i = 0; i < M; i++) {
    for (int j = 0; j < M; j++)
      g_string_append(g, j ? " 7" : "7");
    g_string_append_c(g, '\n');
  }
  char *m = write_tmp(tmp_dir, "m.txt", g->str);
  char *yaml = g_strdup_printf("network: {nodes: 1000}\nlatency: {model: matrix, matrix: %s}\nworkload: {lookups: 10}\n", m);
  char *path = write_tmp(tmp_dir, "s.yaml", yaml), err[1024] = "";
  sim_scenario sc;
  cr_assert(eq(int, sim_scenario_load(&sc, path, err, sizeof err), 0), "%s", err);
  uint64_t need = sim_scenario_estimate_bytes(&sc, 0) + ((uint64_t)M * M + M) * 4;
  sim_scenario_clear(&sc);
  char *below = g_strdup_printf("%llu", (unsigned long long)need - 1), *at = g_strdup_printf("%llu", (unsigned long long)need);
  g_setenv("DHTSIM_MEMORY_LIMIT", below, TRUE);
  cli r = run_dhtsim((const char *[]){"validate", path, NULL});
  g_setenv("DHTSIM_MEMORY_LIMIT", at, TRUE);
  cli ok = run_dhtsim((const char *[]){"validate", path, NULL});
  g_unsetenv("DHTSIM_MEMORY_LIMIT");
  cr_assert(eq(int, r.status, 2));
  cr_assert(strstr(r.err, "1000 nodes with random tables (K 8), 10 lookups and the latency.matrix (1.4 MiB) need an estimated") !=
                NULL,
            "%s", r.err);
  cr_assert(eq(int, ok.status, 0), "%s", ok.err);
  cli_free(&r);
  cli_free(&ok);
  g_free(below);
  g_free(at);
  g_free(path);
  g_free(yaml);
  g_free(m);
  g_string_free(g, TRUE);
}

/* `dhtsim check --record` of the regression scenario writes tests/expect.json
 * byte for byte: the quiet keys it does not use are not in it. */
Test(quiet, a_recorded_expectation_keeps_its_bytes, .init = setup, .fini = teardown) {
  char *path = g_build_filename(tmp_dir, "expect.json", NULL), *got = NULL, *want = NULL;
  cli r = run_dhtsim((const char *[]){"check", "scenarios/regression.yaml", "--expect", path, "--record", NULL});
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  cr_assert(g_file_get_contents(path, &got, NULL, NULL));
  cr_assert(g_file_get_contents(DHTSIM_SOURCE_DIR "/tests/expect.json", &want, NULL, NULL));
  cr_assert(eq(str, got, want));
  cli_free(&r);
  g_free(got);
  g_free(want);
  g_free(path);
}
