/* test_churn.c: churn (issue #14): the period samplers, the stationary online
 * fraction, stale tables under network.maintenance none, and the keys' errors. */
#include <criterion/criterion.h>
#include "criterion_assert.h"
#include <glib.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "churn.h"
#include "error.h"
#include "network.h"
#include "scenario.h"
#include "sim.h"

#include "churn_helpers.h"
#include "stats.h"
#include "timeline.h"

static size_t count_newlines(const char *s) {
  size_t n = 0;
  for (; *s; s++)
    n += *s == '\n';
  return n;
}

static double mean_of(const sim_churn_dist *d, bool residual, size_t n, uint64_t seed) {
  dht_rng r;
  double sum = 0.0;
  dht_rng_init(&r, seed);
  for (size_t i = 0; i < n; i++)
    sum += residual ? sim_churn_draw_residual_s(d, &r) : sim_churn_draw_s(d, &r);
  return sum / (double)n;
}

static int cmp_dbl(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

Test(churn, exponential_mean) {
  sim_churn_dist d = {.model = SIM_CHURN_EXPONENTIAL, .mean_s = 3600};
  cr_assert(eq(dbl, sim_churn_mean_s(&d), 3600.0));
  double m = mean_of(&d, false, 200000, 1);
  cr_assert(fabs(m / 3600.0 - 1.0) < 0.01, "mean %f", m);
  /* Memoryless: the residual has the same mean. */
  m = mean_of(&d, true, 200000, 2);
  cr_assert(fabs(m / 3600.0 - 1.0) < 0.01, "residual mean %f", m);
}

Test(churn, weibull_mean_and_residual) {
  /* shape 0.5: mean lambda Gamma(3) = 2 lambda; residual mean E[X^2] / (2 E[X]) = 24 lambda^2 / (4 lambda) = 6 lambda. */
  sim_churn_dist d = {.model = SIM_CHURN_WEIBULL, .shape = 0.5, .scale_s = 100};
  cr_assert(fabs(sim_churn_mean_s(&d) - 200.0) < 1e-9);
  double m = mean_of(&d, false, 1000000, 3);
  cr_assert(fabs(m / 200.0 - 1.0) < 0.02, "mean %f", m);
  m = mean_of(&d, true, 1000000, 4);
  cr_assert(fabs(m / 600.0 - 1.0) < 0.03, "residual mean %f", m);
  /* shape 2: mean lambda sqrt(pi)/2; residual mean E[X^2]/(2E[X]) = lambda^2 / (lambda sqrt(pi)) . */
  d.shape = 2.0;
  m = mean_of(&d, true, 400000, 5);
  cr_assert(fabs(m / (100.0 / sqrt(M_PI)) - 1.0) < 0.01, "residual mean %f", m);
}

Test(churn, lognormal_median_and_mean) {
  sim_churn_dist d = {.model = SIM_CHURN_LOGNORMAL, .median_s = 500, .sigma = 1.0};
  enum { N = 100001 };
  double *v = g_new(double, N);
  dht_rng r;
  dht_rng_init(&r, 6);
  for (size_t i = 0; i < N; i++)
    v[i] = sim_churn_draw_s(&d, &r);
  qsort(v, N, sizeof *v, cmp_dbl);
  cr_assert(fabs(v[N / 2] / 500.0 - 1.0) < 0.02, "median %f", v[N / 2]);
  g_free(v);
  cr_assert(fabs(sim_churn_mean_s(&d) - 500.0 * exp(0.5)) < 1e-9);
  double m = mean_of(&d, false, 400000, 7);
  cr_assert(fabs(m / (500.0 * exp(0.5)) - 1.0) < 0.02, "mean %f", m);
  /* residual mean: E[X^2] / (2 E[X]) = median e^(1.5 sigma^2) / 2. */
  m = mean_of(&d, true, 400000, 8);
  cr_assert(fabs(m / (250.0 * exp(1.5)) - 1.0) < 0.03, "residual mean %f", m);
}

Test(churn, pareto_minimum_and_mean) {
  sim_churn_dist d = {.model = SIM_CHURN_PARETO, .shape = 3.0, .min_s = 600};
  dht_rng r;
  double lo = INFINITY;
  dht_rng_init(&r, 9);
  for (size_t i = 0; i < 100000; i++) {
    double x = sim_churn_draw_s(&d, &r);
    cr_assert(x >= 600.0, "%f below the minimum", x);
    lo = x < lo ? x : lo;
  }
  cr_assert(lt(dbl, lo, 600.0 * 1.001), "smallest of 10^5 draws %f", lo);
  cr_assert(fabs(sim_churn_mean_s(&d) - 900.0) < 1e-9);
  double m = mean_of(&d, false, 400000, 10);
  cr_assert(fabs(m / 900.0 - 1.0) < 0.02, "mean %f", m);
  /* residual mean E[X^2]/(2E[X]) = (3 * 600^2 / 1) / (2 * 900) = 600. */
  m = mean_of(&d, true, 400000, 11);
  cr_assert(fabs(m / 600.0 - 1.0) < 0.03, "residual mean %f", m);
}

static void churn_scenario(sim_scenario *sc, uint32_t nodes, double warmup_s) {
  churn_test_scenario(sc, "churn.yaml", nodes, warmup_s);
}

static void run_ok(const sim_scenario *sc, sim_results *res) { churn_test_run_ok(sc, res); }

static double accuracy(const sim_results *res) {
  double a = 0.0;
  for (size_t i = 0; i < res->n_lookups; i++)
    a += res->lookups[i].closest_truth ? (double)res->lookups[i].closest_hits / res->lookups[i].closest_truth : 1.0;
  return a / (double)res->n_lookups;
}

/* Exponential sessions of mean S and downtimes of mean D: S / (S + D) online,
 * from t = 0 (stationary start) and after a warm-up, within 2 % at 10^4 nodes. */
Test(churn, online_fraction_is_stationary) {
  sim_scenario sc;
  sim_results res;
  for (int w = 0; w < 2; w++) {
    churn_scenario(&sc, 10000, w ? 7200 : 0);
    run_ok(&sc, &res);
    cr_assert(fabs(res.counters.online_fraction - 2.0 / 3.0) < 0.02, "warm-up %d: %f", w,
              res.counters.online_fraction);
    sim_results_clear(&res);
  }
  /* Heavy-tailed Weibull sessions (mean 2000 s) and exponential downtimes of
   * mean 2000 s: 1/2 from t = 0 only if the first periods are residual draws. */
  churn_scenario(&sc, 10000, 0);
  sc.churn.session = (sim_churn_dist){.model = SIM_CHURN_WEIBULL, .shape = 0.5, .scale_s = 1000};
  sc.churn.downtime.mean_s = 2000;
  for (int w = 0; w < 2; w++) {
    sc.churn.warmup_s = w ? 3000 : 0;
    run_ok(&sc, &res);
    cr_assert(fabs(res.counters.online_fraction - 0.5) < 0.02, "warm-up %d: %f", w, res.counters.online_fraction);
    sim_results_clear(&res);
  }
  /* All online at t = 0: far above the stationary half soon after. */
  sc.churn.initial_online = SIM_INITIAL_ALL;
  sc.churn.warmup_s = 100;
  run_ok(&sc, &res);
  cr_assert(gt(dbl, res.counters.online_fraction, 0.65), "%f", res.counters.online_fraction);
  sim_results_clear(&res);
}

/* Tables of the nodes online at t = 0, never maintained: the offline share of
 * their contacts after a warm-up W is that of a two-state chain started
 * online, a/(a+b) (1 - e^-(a+b) W) with a = 1/S, b = 1/D; it grows with W,
 * and so do the queries lost to offline nodes. Zero loss, yet accuracy < 1. */
Test(churn, staleness_grows_with_time_without_maintenance) {
  sim_scenario sc;
  sim_results res[2];
  const double w[2] = {600, 3600}, a = 1.0 / 3600, b = 1.0 / 1800;
  for (int i = 0; i < 2; i++) {
    churn_scenario(&sc, 10000, w[i]);
    run_ok(&sc, &res[i]);
    double want = a / (a + b) * (1.0 - exp(-(a + b) * w[i]));
    cr_assert(fabs(res[i].counters.stale_fraction - want) < 0.03, "W %f: stale %f, want %f", w[i],
              res[i].counters.stale_fraction, want);
    cr_assert(lt(dbl, accuracy(&res[i]), 0.99), "W %f: accuracy %f", w[i], accuracy(&res[i]));
    cr_assert(gt(u64, res[i].counters.offline_queries, 0));
    cr_assert(eq(u64, res[i].counters.requests_dropped + res[i].counters.responses_dropped, 0));
  }
  cr_assert(gt(dbl, res[1].counters.stale_fraction, res[0].counters.stale_fraction + 0.1));
  cr_assert(gt(u64, res[1].counters.offline_queries, res[0].counters.offline_queries));
  cr_assert(gt(dbl, accuracy(&res[0]), accuracy(&res[1])));
  /* Lookups start only after the warm-up, and only from online nodes (no
   * query of the start node's own table is lost at once: tested by the start times here). */
  for (size_t j = 0; j < res[1].n_lookups; j++)
    cr_assert(ge(u64, res[1].lookups[j].start_us, (uint64_t)3600e6));
  sim_results_clear(&res[0]);
  sim_results_clear(&res[1]);
}

/* At t = 0 (no warm-up) every table holds only online nodes: nothing stale. */
Test(churn, tables_at_t0_hold_only_online_nodes) {
  sim_scenario sc;
  sim_results res;
  churn_scenario(&sc, 3000, 0);
  sc.network.tables = SIM_TABLES_RANDOM;
  run_ok(&sc, &res);
  cr_assert(eq(dbl, res.counters.stale_fraction, 0.0));
  sim_results_clear(&res);
  churn_scenario(&sc, 3000, 0);
  run_ok(&sc, &res);
  cr_assert(eq(dbl, res.counters.stale_fraction, 0.0));
  sim_results_clear(&res);
}

/* The restricted tables are the full tables of the present nodes: every
 * bucket range holds min(K, present nodes of that range), none absent. */
Test(churn, restricted_full_tables_are_the_present_networks) {
  sim_network net;
  const unsigned k = 4;
  cr_assert(eq(int, sim_network_generate_ondemand(&net, 2000, k, SIM_TABLES_FULL, 77), 0));
  for (uint32_t i = 0; i < net.n; i++)
    net.flags[i] = (i % 3 == 0) ? SIM_NODE_OFFLINE : 0;
  cr_assert(eq(int, sim_network_restrict_tables(&net, SIM_NODE_OFFLINE), 0));
  uint32_t *tab = g_new(uint32_t, SIM_CONTACTS_MAX(k));
  for (uint32_t x = 0; x < net.n; x += 37) {
    size_t c = sim_network_table(&net, x, tab);
    unsigned per[DHT_ID_BITS + 1] = {0}, avail[DHT_ID_BITS + 1] = {0};
    for (size_t j = 0; j < c; j++) {
      cr_assert(eq(u8, net.flags[tab[j]] & SIM_NODE_OFFLINE, 0), "node %u lists offline %u", x, tab[j]);
      cr_assert(ne(u32, tab[j], x));
      per[dht_id_common_prefix(&net.ids[x], &net.ids[tab[j]])]++;
    }
    for (uint32_t y = 0; y < net.n; y++)
      if (y != x && !(net.flags[y] & SIM_NODE_OFFLINE))
        avail[dht_id_common_prefix(&net.ids[x], &net.ids[y])]++;
    /* Buckets above the own one hold min(K, available); the own (last) one
     * holds every deeper present node, at most K. */
    unsigned deeper = 0, depth = 0;
    while (depth < DHT_ID_BITS) {
      deeper = 0;
      for (unsigned b = depth; b <= DHT_ID_BITS; b++)
        deeper += avail[b];
      if (deeper <= k)
        break;
      cr_assert(eq(u32, per[depth], avail[depth] < k ? avail[depth] : k), "node %u bucket %u", x, depth);
      depth++;
    }
    unsigned got = 0;
    for (unsigned b = depth; b <= DHT_ID_BITS; b++)
      got += per[b];
    cr_assert(eq(u32, got, deeper), "node %u own bucket", x);
  }
  g_free(tab);
  sim_network_clear(&net);
}

static void parse_fails(const char *yaml, const char *want) {
  sim_scenario sc;
  char err[512];
  int rc = sim_scenario_parse(&sc, "c.yaml", yaml, strlen(yaml), err, sizeof err);
  cr_assert(eq(int, rc, DHT_EINVAL), "%s", yaml);
  cr_assert(eq(str, err, (char *)want));
}

Test(churn, keys_errors_name_file_line_column) {
  parse_fails("churn:\n  session: {model: expo}\n",
              "c.yaml:2:20: churn.session.model: expected none, exponential, weibull, lognormal or pareto, got 'expo'");
  parse_fails("churn:\n  session: {mode: x}\n",
              "c.yaml:2:13: unknown key 'mode' in section 'churn.session' (expected one of: model, mean_s, shape, "
              "scale_s, median_s, sigma, min_s)");
  parse_fails("churn:\n  session: {model: weibull}\n  session: {}\n",
              "c.yaml:3:3: churn.session: duplicate key (first given at line 2, column 3)");
  parse_fails("churn:\n  session: {model: pareto, shape: 0.9}\n  downtime: {model: exponential}\n",
              "c.yaml:2:35: churn.session.shape: expected a shape above 1 for pareto (a finite mean)");
  parse_fails("churn:\n  downtime: {model: exponential}\n",
              "c.yaml:2:21: churn.downtime.model: expected churn.session.model too (a downtime needs sessions)");
  parse_fails("churn:\n  session: {model: weibull}\n",
              "c.yaml:2:20: churn.session.model: expected churn.downtime.model too (none given)");
  parse_fails("churn: {warmup_s: -1}\n",
              "c.yaml:1:19: churn.warmup_s: expected a number from 0 to 10000000, got '-1'");
  parse_fails("churn:\n  session: 5\n",
              "c.yaml:2:12: churn.session: expected a mapping with keys model, mean_s, shape, scale_s, median_s, sigma, "
              "min_s, got '5'");
  /* LIVING keys are not sweepable (every point of a sweep has the same columns). */
  sim_scenario sc;
  char err[1024];
  static const char sw[] = "sweep:\n  churn.warmup_s: [1, 2]\n";
  cr_assert(eq(int, sim_scenario_parse(&sc, "c.yaml", sw, strlen(sw), err, sizeof err), DHT_EINVAL));
  cr_assert(g_str_has_prefix(err, "c.yaml:2:3: sweep: 'churn.warmup_s' cannot be swept (expected one of: "), "%s", err);
}

/* The nested form and the living columns' switch. */
Test(churn, nested_keys_parse_and_make_a_living_network) {
  static const char yaml[] = "churn:\n  session: {model: weibull, shape: 0.4, scale_s: 1200}\n"
                             "  downtime: {model: lognormal, median_s: 900, sigma: 1.5}\n  warmup_s: 60\n";
  sim_scenario sc;
  char err[512];
  cr_assert(eq(int, sim_scenario_parse(&sc, "c.yaml", yaml, strlen(yaml), err, sizeof err), 0), "%s", err);
  cr_assert(eq(int, sc.churn.session.model, SIM_CHURN_WEIBULL));
  cr_assert(eq(dbl, sc.churn.session.shape, 0.4));
  cr_assert(eq(dbl, sc.churn.session.scale_s, 1200.0));
  cr_assert(eq(int, sc.churn.downtime.model, SIM_CHURN_LOGNORMAL));
  cr_assert(eq(dbl, sc.churn.downtime.sigma, 1.5));
  cr_assert(eq(dbl, sc.churn.warmup_s, 60.0));
  cr_assert(sim_param_living(&sc));
  sim_scenario_clear(&sc);
  sim_scenario_defaults(&sc);
  cr_assert(not(sim_param_living(&sc)));
}

/* Periods far longer than the run: the nodes online at t = 0 stay so, and
 * the network is a static one of those nodes. Every lookup starts from one
 * of them (the initial states redrawn here from the run's churn stream), and
 * the accuracy against the online nodes' truth is that of a static network
 * (an offline node in the truth, never in any table, would cost a third). */
Test(churn, frozen_churn_is_a_static_network_of_the_online_nodes) {
  sim_scenario sc;
  sim_results res;
  sim_churn ch;
  churn_scenario(&sc, 5000, 0);
  sc.churn.session.mean_s = 2e8;
  sc.churn.downtime.mean_s = 1e8;
  run_ok(&sc, &res);
  uint8_t *flags = g_new0(uint8_t, 5000);
  sim_churn_init(&ch, &sc, dht_seed_derive(sc.seed, SIM_CHURN_STREAM));
  for (uint32_t i = 0; i < 5000; i++)
    (void)sim_churn_initial(&ch, &flags[i]);
  cr_assert(fabs(res.counters.online_fraction - ch.online / 5000.0) < 1e-12);
  for (size_t j = 0; j < res.n_lookups; j++)
    cr_assert(eq(u8, flags[res.lookups[j].start_node] & SIM_NODE_OFFLINE, 0), "lookup %zu from offline node %u", j,
              res.lookups[j].start_node);
  cr_assert(eq(u64, res.counters.offline_queries, 0));
  cr_assert(gt(dbl, accuracy(&res), 0.95), "%f", accuracy(&res));
  g_free(flags);
  sim_results_clear(&res);
}

/* timeline.csv's rows of one run: a row per bin holding a lookup's start or
 * a network sample, in time order, the lookups of each bin counted once;
 * the network sampled each bin while lookups remain, staleness growing. */
Test(churn, timeline_rows_bin_the_lookups_and_samples) {
  sim_scenario sc;
  sim_results res;
  sim_options opt = {.bin_us = 300000000}; /* 300 s */
  char err[512] = "", *buf = NULL;
  size_t len = 0;
  churn_scenario(&sc, 3000, 1800);
  sc.workload.arrival = SIM_ARRIVAL_POISSON;
  sc.workload.rate_per_s = 0.2;
  sc.workload.lookups = 150;
  cr_assert(eq(int, sim_run(&sc, &opt, &res, err, sizeof err), 0), "%s", err);
  cr_assert(eq(u64, res.bin_us, 300000000));
  uint64_t last = res.lookups[res.n_lookups - 1].start_us / res.bin_us;
  /* A sample at every bin start up to the last lookup's end. */
  cr_assert(ge(sz, res.n_samples, (size_t)last + 1));
  cr_assert(le(sz, res.n_samples, (size_t)last + 3));
  cr_assert(eq(dbl, res.samples[0].stale_fraction, 0.0));
  cr_assert(gt(dbl, res.samples[6].stale_fraction, res.samples[1].stale_fraction + 0.05));
  cr_assert(eq(dbl, res.samples[6].online_fraction, res.counters.online_fraction), "bin 6 starts at the warm-up's end");
  FILE *f = open_memstream(&buf, &len);
  cr_assert(eq(int, sim_write_timeline_rows(f, 4, 1, &sc, NULL, 0, &res), 0));
  fclose(f);
  char **lines = g_strsplit(buf, "\n", -1);
  uint64_t total = 0, prev = 0;
  size_t rows = 0;
  for (size_t i = 0; lines[i] != NULL && lines[i][0] != '\0'; i++, rows++) {
    char **c = g_strsplit(lines[i], ",", -1);
    cr_assert(eq(u32, g_strv_length(c), 2 + (guint)sim_timeline_column_count), "%s", lines[i]);
    cr_assert(eq(str, c[0], "4"));
    cr_assert(eq(str, c[1], "1"));
    uint64_t bin = g_ascii_strtoull(c[2], NULL, 10), n = g_ascii_strtoull(c[4], NULL, 10);
    cr_assert(i == 0 || bin > prev, "bins ascend: %s", lines[i]);
    cr_assert(eq(dbl, g_ascii_strtod(c[3], NULL), 300.0 * (double)bin));
    uint64_t want = 0;
    for (size_t j = 0; j < res.n_lookups; j++)
      want += res.lookups[j].start_us / res.bin_us == bin;
    cr_assert(eq(u64, n, want), "bin %" PRIu64, bin);
    cr_assert(eq(int, c[5][0] == '\0', n == 0), "%s", lines[i]);
    cr_assert(bin < res.n_samples ? c[9][0] != '\0' : c[9][0] == '\0', "%s", lines[i]);
    total += n;
    prev = bin;
    g_strfreev(c);
  }
  cr_assert(eq(u64, total, res.n_lookups));
  cr_assert(eq(sz, rows, MAX(res.n_samples, (size_t)last + 1)));
  g_strfreev(lines);
  free(buf);
  sim_results_clear(&res);
}

/* Without churn: no samples, the fraction columns empty, the lookups binned. */
Test(churn, timeline_without_churn_has_no_samples) {
  sim_scenario sc;
  sim_results res;
  char err[512] = "", *buf = NULL;
  size_t len = 0;
  sim_scenario_defaults(&sc);
  sc.path = (char *)"t.yaml";
  sc.name = (char *)"t";
  sc.workload.lookups = 50;
  cr_assert(eq(int, sim_run(&sc, NULL, &res, err, sizeof err), 0), "%s", err);
  cr_assert(eq(sz, res.n_samples, 0));
  cr_assert(eq(u64, res.bin_us, 60000000));
  FILE *f = open_memstream(&buf, &len);
  cr_assert(eq(int, sim_write_timeline_rows(f, 0, 0, &sc, NULL, 0, &res), 0));
  fclose(f);
  cr_assert(g_str_has_prefix(buf, "0,0,0,0.000000,50,"), "%s", buf);
  cr_assert(g_str_has_suffix(buf, ",,\n"), "%s", buf);
  cr_assert(eq(sz, count_newlines(buf), 1));
  free(buf);
  sim_results_clear(&res);
}

/* Passive maintenance on the same seed as none: nodes that start lookups
 * again and again evict the contacts that failed them twice and take the
 * nodes they hear from, so fewer queries time out, fewer contacts are stale
 * later in the run, and accuracy is higher. 500 nodes, 5000 lookups. */
Test(churn, passive_maintenance_lowers_staleness_and_timeouts) {
  sim_scenario sc;
  sim_results res[2];
  sim_options opt = {.bin_us = 300000000};
  char err[512] = "";
  for (int m = 0; m < 2; m++) {
    churn_scenario(&sc, 500, 600);
    sc.churn.session.mean_s = sc.churn.downtime.mean_s = 1200;
    sc.workload.lookups = 5000;
    sc.workload.arrival = SIM_ARRIVAL_POISSON;
    sc.workload.rate_per_s = 5;
    sc.network.maintenance = m ? SIM_MAINTENANCE_PASSIVE : SIM_MAINTENANCE_NONE;
    cr_assert(eq(int, sim_run(&sc, &opt, &res[m], err, sizeof err), 0), "%s", err);
  }
  /* Before the first lookup only the bootstraps of the nodes come online
   * during the warm-up have changed tables: fewer stale contacts already. */
  cr_assert(lt(dbl, res[1].counters.stale_fraction, res[0].counters.stale_fraction));
  cr_assert(gt(u64, res[1].counters.maint_lookups, 0));
  cr_assert(eq(u64, res[0].counters.maint_lookups, 0));
  double to[2];
  for (int m = 0; m < 2; m++)
    to[m] = (double)res[m].counters.timeouts / (double)res[m].n_lookups;
  cr_assert(lt(dbl, to[1], 0.92 * to[0]), "timeouts per lookup: none %f, passive %f", to[0], to[1]);
  cr_assert(gt(dbl, accuracy(&res[1]), accuracy(&res[0]) + 0.03), "accuracy: none %f, passive %f", accuracy(&res[0]),
            accuracy(&res[1]));
  /* Staleness at the start of bin 5 (1500 s, lookups running since 600 s). */
  cr_assert(ge(sz, res[1].n_samples, 6));
  cr_assert(lt(dbl, res[1].samples[5].stale_fraction, res[0].samples[5].stale_fraction - 0.03), "none %f, passive %f",
            res[0].samples[5].stale_fraction, res[1].samples[5].stale_fraction);
  sim_results_clear(&res[0]);
  sim_results_clear(&res[1]);
}

/* Starts that had to wait for an online node come out of start order: the
 * timeline still bins every lookup once, bins ascending. Three nodes online
 * a tenth of the time. */
Test(churn, timeline_of_waiting_starts) {
  sim_scenario sc;
  sim_results res;
  sim_options opt = {.bin_us = 2000000};
  char err[512] = "", *buf = NULL;
  size_t len = 0;
  churn_scenario(&sc, 3, 0);
  sc.churn.session.mean_s = 1;
  sc.churn.downtime.mean_s = 9;
  sc.workload.lookups = 60;
  sc.workload.planted_peers = 0;
  sc.workload.arrival = SIM_ARRIVAL_POISSON;
  sc.workload.rate_per_s = 5;
  cr_assert(eq(int, sim_run(&sc, &opt, &res, err, sizeof err), 0), "%s", err);
  bool out_of_order = false;
  for (size_t j = 1; j < res.n_lookups; j++)
    out_of_order |= res.lookups[j].start_us < res.lookups[j - 1].start_us;
  cr_assert(out_of_order, "the scenario should make some start wait");
  FILE *f = open_memstream(&buf, &len);
  cr_assert(eq(int, sim_write_timeline_rows(f, 0, 0, &sc, NULL, 0, &res), 0));
  fclose(f);
  char **lines = g_strsplit(buf, "\n", -1);
  uint64_t total = 0;
  long prev = -1;
  for (size_t i = 0; lines[i] != NULL && lines[i][0] != '\0'; i++) {
    char **c = g_strsplit(lines[i], ",", -1);
    long bin = strtol(c[2], NULL, 10);
    cr_assert(gt(long, bin, prev), "%s", lines[i]);
    prev = bin;
    total += g_ascii_strtoull(c[4], NULL, 10);
    g_strfreev(c);
  }
  cr_assert(eq(u64, total, 60));
  g_strfreev(lines);
  free(buf);
  sim_results_clear(&res);
}

/* bep5 against passive and none on the same seed (1000 nodes, sessions and
 * downtimes of 1 hour, a one-hour warm-up, 2000 lookups at 0.5/s: about 2.1
 * virtual hours): pings of questionable contacts and refreshes of idle
 * buckets keep the tables fresher than the traffic alone, so fewer contacts
 * are stale and fewer queries time out per lookup. The maintenance traffic
 * is counted, none of it in the workload's timeouts. */
Test(churn, bep5_maintenance_lowers_staleness_and_timeouts_below_passive) {
  sim_scenario sc;
  sim_results res[3];
  sim_options opt = {.bin_us = 1800000000};
  char err[512] = "";
  const sim_maintenance ms[3] = {SIM_MAINTENANCE_NONE, SIM_MAINTENANCE_PASSIVE, SIM_MAINTENANCE_BEP5};
  double to[3];
  for (int m = 0; m < 3; m++) {
    churn_scenario(&sc, 1000, 3600);
    sc.churn.downtime.mean_s = 3600;
    sc.workload.lookups = 2000;
    sc.workload.arrival = SIM_ARRIVAL_POISSON;
    sc.workload.rate_per_s = 0.5;
    sc.network.maintenance = ms[m];
    cr_assert(eq(int, sim_run(&sc, &opt, &res[m], err, sizeof err), 0), "%s", err);
    to[m] = (double)res[m].counters.timeouts / (double)res[m].n_lookups;
    cr_assert(ge(sz, res[m].n_samples, 4));
  }
  cr_assert(lt(dbl, to[2], 0.8 * to[1]), "timeouts per lookup: passive %f, bep5 %f", to[1], to[2]);
  cr_assert(lt(dbl, to[1], to[0]), "none %f, passive %f", to[0], to[1]);
  /* At the warm-up's end, and at 3 virtual hours (bin 3 of 30 min is 1.5 h: bin 6 would be 3 h). */
  cr_assert(lt(dbl, res[2].counters.stale_fraction, res[1].counters.stale_fraction - 0.05), "passive %f, bep5 %f",
            res[1].counters.stale_fraction, res[2].counters.stale_fraction);
  for (size_t b = 2; b < 4; b++)
    cr_assert(lt(dbl, res[2].samples[b].stale_fraction, res[1].samples[b].stale_fraction - 0.05),
              "bin %zu: passive %f, bep5 %f", b, res[1].samples[b].stale_fraction, res[2].samples[b].stale_fraction);
  cr_assert(gt(dbl, accuracy(&res[2]), accuracy(&res[1])));
  cr_assert(gt(u64, res[2].counters.maint_pings, 0));
  cr_assert(gt(u64, res[2].counters.maint_lookups, res[1].counters.maint_lookups));
  cr_assert(gt(u64, res[2].counters.maint_queries, res[2].counters.maint_pings));
  cr_assert(eq(u64, res[1].counters.maint_pings, 0));
  cr_assert(eq(u64, res[0].counters.maint_queries + res[0].counters.maint_lookups, 0));
  for (int m = 0; m < 3; m++)
    sim_results_clear(&res[m]);
}

/* Bootstrap: a node coming online runs a lookup of its own ID through a
 * random online node, whose answers enter its table (nothing else runs
 * before the first lookup). Under passive its stale contacts get one failure
 * each from it (two evict), so the tables are only a little fresher than
 * with none; under bep5 each answer offered to a full bucket also pings the
 * contacts idle for 15 minutes, which the downtime made all of them, and the
 * offline ones are replaced: far fewer stale contacts. 400 nodes, 1800 s
 * sessions and downtimes, 3000 s of warm-up, one lookup. */
Test(churn, rejoining_nodes_bootstrap_fresh_contacts) {
  sim_scenario sc;
  sim_results res[3];
  const sim_maintenance ms[3] = {SIM_MAINTENANCE_NONE, SIM_MAINTENANCE_PASSIVE, SIM_MAINTENANCE_BEP5};
  for (int m = 0; m < 3; m++) {
    churn_scenario(&sc, 400, 3000);
    sc.churn.session.mean_s = sc.churn.downtime.mean_s = 1800;
    sc.workload.lookups = 1;
    sc.network.maintenance = ms[m];
    run_ok(&sc, &res[m]);
  }
  cr_assert(gt(dbl, res[0].counters.stale_fraction, 0.3));
  cr_assert(lt(dbl, res[1].counters.stale_fraction, res[0].counters.stale_fraction), "none %f, passive %f",
            res[0].counters.stale_fraction, res[1].counters.stale_fraction);
  cr_assert(lt(dbl, res[2].counters.stale_fraction, 0.7 * res[0].counters.stale_fraction),
            "none %f, passive %f, bep5 %f", res[0].counters.stale_fraction, res[1].counters.stale_fraction,
            res[2].counters.stale_fraction);
  /* About 400 nodes * 3000 s / 3600 s per cycle = 333 comebacks. */
  cr_assert(gt(u64, res[1].counters.maint_lookups, 250));
  cr_assert(lt(u64, res[1].counters.maint_lookups, 450));
  cr_assert(gt(u64, res[1].contacts_added, res[1].counters.maint_lookups), "%" PRIu64 " contacts added",
            res[1].contacts_added);
  cr_assert(eq(u64, res[1].counters.maint_pings, 0));
  cr_assert(eq(u64, res[0].counters.maint_lookups, 0));
  for (int m = 0; m < 3; m++)
    sim_results_clear(&res[m]);
}
