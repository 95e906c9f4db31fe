/* test_sweep.c: sweeps with replicas: confidence intervals, byte-identical
 * output for any -j, sharding + merge, interruption + resume, dry run. */
#include <criterion/criterion.h>
#include "criterion_assert.h"
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_helpers.h"
#include "stats.h"

/* ---- statistics ---- */

Test(stats, t975_matches_published_quantiles) {
  /* Published two-sided 95 % quantiles of Student's t. */
  static const struct {
    unsigned df;
    double t;
  } cases[] = {{1, 12.706}, {2, 4.303}, {4, 2.776}, {9, 2.262}, {29, 2.045}, {30, 2.042},
               {40, 2.021}, {60, 2.000}, {120, 1.980}, {1000, 1.962}};
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
    cr_assert(lt(dbl, fabs(sim_t975(cases[i].df) - cases[i].t), 0.0006), "df %u: %.5f", cases[i].df,
              sim_t975(cases[i].df));
}

Test(stats, aggregate_mean_and_ci_of_known_replicas) {
  sim_figures runs[4], pooled;
  sim_agg agg[SIM_FIG_COUNT];
  const double v[4] = {10, 12, 14, 16}; /* mean 13, sd sqrt(20/3) */
  const int fp = SIM_FIG_FIRST_PEER_MS_MEAN, sr = SIM_FIG_SUCCESS_RATE;
  memset(runs, 0, sizeof runs);
  memset(&pooled, 0, sizeof pooled);
  for (int r = 0; r < 4; r++)
    for (int i = 0; i < SIM_FIG_COUNT; i++) {
      runs[r].v[i] = v[r] * (i + 1);
      runs[r].present[i] = true;
    }
  for (int i = 0; i < SIM_FIG_COUNT; i++) {
    pooled.v[i] = 1000.0 + i;
    pooled.present[i] = true;
  }
  runs[2].present[fp] = false; /* no lookup of replica 2 got a peer: skipped, not a 0 */
  for (int r = 0; r < 4; r++)
    runs[r].present[sr] = false;
  sim_aggregate(runs, 4, &pooled, agg);
  cr_assert(eq(dbl, agg[0].mean, 13.0));
  cr_assert(agg[0].has_ci);
  /* 3.18244631 * sqrt(20/3) / 2 */
  cr_assert(lt(dbl, fabs(agg[0].ci95 - 3.18244631 * sqrt(20.0 / 3.0) / 2.0), 1e-9));
  cr_assert(lt(dbl, fabs(agg[SIM_FIG_QUERIES_MEAN].ci95 - agg[0].ci95), 1e-9));
  /* (10 + 12 + 16) / 3, with the t of 2 degrees of freedom. */
  cr_assert(lt(dbl, fabs(agg[fp].mean - (38.0 / 3.0) * (fp + 1)), 1e-9));
  cr_assert(agg[fp].present && agg[fp].has_ci);
  cr_assert(lt(dbl, fabs(agg[fp].ci95 - 4.30265273 * sqrt(28.0 / 3.0) / sqrt(3.0) * (fp + 1)), 1e-6));
  cr_assert(eq(int, agg[sr].present, false));
  cr_assert(eq(int, agg[sr].has_ci, false));
  /* The percentiles are the pooled ones, with no interval. */
  cr_assert(eq(dbl, agg[SIM_FIG_QUERIES_P95].mean, 1000.0 + SIM_FIG_QUERIES_P95));
  cr_assert(eq(int, agg[SIM_FIG_QUERIES_P95].has_ci, false));
  cr_assert(eq(dbl, agg[SIM_FIG_TIME_MS_MAX].mean, 1000.0 + SIM_FIG_TIME_MS_MAX));
  pooled.present[SIM_FIG_FIRST_PEER_MS_P50] = false;
  sim_aggregate(runs, 1, &pooled, agg);
  cr_assert(eq(dbl, agg[0].mean, 10.0));
  cr_assert(eq(int, agg[0].has_ci, false));
  cr_assert(eq(int, agg[SIM_FIG_FIRST_PEER_MS_P50].present, false));
}

/* Nearest-rank percentiles: the p-th of n values is the ceil(n * p / 100)-th
 * smallest. Values 1..n given in a shuffled order, so the k-th smallest is
 * k; n = 99 makes n * p / 100 fall just past an integer (98.01 for p99). */
Test(stats, percentiles_are_nearest_rank) {
  static const size_t sizes[] = {1, 2, 10, 20, 99, 100, 101};
  for (size_t c = 0; c < G_N_ELEMENTS(sizes); c++) {
    size_t n = sizes[c];
    sim_lookup_result *l = g_new0(sim_lookup_result, n);
    sim_results res = {.lookups = l, .n_lookups = n};
    sim_scenario sc;
    sim_summary s;
    sim_scenario_defaults(&sc);
    sc.name = (char *)"p";
    for (size_t i = 0; i < n; i++) {
      l[i].queries = (uint64_t)((i * 37) % n) + 1; /* 37 is prime to every n here: a permutation */
      l[i].first_peer_us = UINT64_MAX;
    }
    cr_assert(eq(int, sim_summary_compute(&s, &sc, 1, &res), 0));
    const struct {
      uint64_t got;
      unsigned p;
    } pcs[] = {{s.queries.p50, 50}, {s.queries.p95, 95}, {s.queries.p99, 99}};
    for (size_t i = 0; i < G_N_ELEMENTS(pcs); i++) {
      uint64_t want = (n * pcs[i].p) / 100 + ((n * pcs[i].p) % 100 != 0);
      cr_assert(eq(u64, pcs[i].got, want), "n %zu: p%u", n, pcs[i].p);
    }
    cr_assert(eq(u64, s.queries.max, n));
    g_free(l);
  }
}

/* ---- the command ---- */

static const char *const outputs[] = {"summary.csv", "summary.json", "runs.csv", "lookups.csv"};

static void assert_same_outputs(const char *a, const char *b) {
  for (size_t i = 0; i < G_N_ELEMENTS(outputs); i++) {
    char *x = slurp(a, outputs[i]), *y = slurp(b, outputs[i]);
    cr_assert(eq(str, x, y), "%s differs between %s and %s", outputs[i], a, b);
    g_free(x);
    g_free(y);
  }
}

static char *tmp;

static void setup(void) { tmp = g_dir_make_tmp("dhtsim-sweep-XXXXXX", NULL); }
static void teardown(void) {
  rm_rf(tmp);
  g_free(tmp);
}

static char *sub(const char *name) { return g_build_filename(tmp, name, NULL); }

Test(sweep, one_row_per_point_and_per_run_with_ci, .init = setup, .fini = teardown) {
  char *d = sub("out");
  cli r = run_dhtsim((const char *[]){"run", "tests/data/sweep-small.yaml", "-j", "2", "--out", d, NULL});
  char *summary, *runs, *lookups, *json;
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  summary = slurp(d, "summary.csv");
  runs = slurp(d, "runs.csv");
  lookups = slurp(d, "lookups.csv");
  json = slurp(d, "summary.json");
  cr_assert(eq(u64, count_lines(summary), 1 + 6));
  cr_assert(eq(u64, count_lines(runs), 1 + 6 * 3));
  cr_assert(eq(u64, count_lines(lookups), 1 + 6 * 3 * 30));
  {
    /* Point order: the first axis (alpha) varies slowest. */
    static const char *const alpha[] = {"1", "1", "2", "2", "3", "3"}, *const k[] = {"4", "8", "4", "8", "4", "8"};
    csv c = csv_parse(summary);
    for (size_t p = 0; p < 6; p++) {
      char *label = g_strdup_printf("lookup.alpha=%s lookup.k=%s", alpha[p], k[p]);
      cr_assert(eq(str, (char *)csv_get(&c, p, "label"), label));
      cr_assert(eq(str, (char *)csv_get(&c, p, "lookup.alpha"), (char *)alpha[p]));
      cr_assert(eq(str, (char *)csv_get(&c, p, "lookup.k"), (char *)k[p]));
      cr_assert(eq(str, (char *)csv_get(&c, p, "name"), "sweep-small"));
      cr_assert(eq(str, (char *)csv_get(&c, p, "seed"), "7"));
      cr_assert(eq(str, (char *)csv_get(&c, p, "network.nodes"), "200"));
      cr_assert(eq(str, (char *)csv_get(&c, p, "replicas"), "3"));
      /* Three replicas: every present figure has a CI. */
      cr_assert(ne(str, (char *)csv_get(&c, p, "queries_mean_ci95"), ""));
      g_free(label);
    }
    csv_free(&c);
  }
  cr_assert(strstr(json, "\"sweep\": [\"lookup.alpha\", \"lookup.k\"]") != NULL);
  cr_assert(strstr(json, "\"queries_mean\": {\"mean\": ") != NULL);
  {
    /* Means have an interval over the replicas; pooled percentiles none. */
    const char *qm = strstr(json, "\"queries_mean\": {"), *qp = strstr(json, "\"queries_p95\": {");
    cr_assert(qm != NULL && qp != NULL);
    cr_assert(strncmp(strchr(strstr(qm, "\"ci95\": "), ' ') + 1, "null", 4) != 0, "%.80s", qm);
    cr_assert(strncmp(strchr(strstr(qp, "\"ci95\": "), ' ') + 1, "null}", 5) == 0, "%.80s", qp);
  }
  /* The table on stdout has a row per point with mean ± CI. */
  cr_assert(strstr(r.out, "lookup.alpha=2 lookup.k=8") != NULL);
  cr_assert(strstr(r.out, "±") != NULL);
  g_free(summary);
  g_free(runs);
  g_free(lookups);
  g_free(json);
  cli_free(&r);
  g_free(d);
}

Test(sweep, output_is_byte_identical_for_any_number_of_threads, .init = setup, .fini = teardown) {
  char *d1 = sub("j1"), *d2 = sub("j2"), *d4 = sub("j4");
  cli a = run_dhtsim((const char *[]){"run", "tests/data/sweep-small.yaml", "-j", "1", "--out", d1, NULL});
  cli b = run_dhtsim((const char *[]){"run", "tests/data/sweep-small.yaml", "-j", "2", "--out", d2, NULL});
  cli c = run_dhtsim((const char *[]){"run", "tests/data/sweep-small.yaml", "--jobs=4", "--out", d4, NULL});
  cr_assert(eq(int, a.status, 0), "%s", a.err);
  cr_assert(eq(int, b.status, 0), "%s", b.err);
  cr_assert(eq(int, c.status, 0), "%s", c.err);
  cr_assert(eq(str, a.out, b.out));
  cr_assert(eq(str, a.out, c.out));
  assert_same_outputs(d1, d2);
  assert_same_outputs(d1, d4);
  cli_free(&a);
  cli_free(&b);
  cli_free(&c);
  g_free(d1);
  g_free(d2);
  g_free(d4);
}

Test(sweep, shards_merged_equal_the_unsharded_run, .init = setup, .fini = teardown) {
  char *whole = sub("whole"), *s0 = sub("s0"), *s1 = sub("s1"), *s2 = sub("s2"), *merged = sub("merged");
  cli w = run_dhtsim((const char *[]){"run", "tests/data/sweep-small.yaml", "--out", whole, NULL});
  cli a = run_dhtsim((const char *[]){"run", "tests/data/sweep-small.yaml", "--shard", "0/3", "--out", s0, NULL});
  cli b = run_dhtsim((const char *[]){"run", "tests/data/sweep-small.yaml", "--shard", "1/3", "--out", s1, NULL});
  cli c = run_dhtsim((const char *[]){"run", "tests/data/sweep-small.yaml", "--shard=2/3", "--out", s2, NULL});
  cli m, bad;
  char *part;
  cr_assert(eq(int, w.status, 0));
  cr_assert(eq(int, a.status, 0), "%s", a.err);
  cr_assert(eq(int, b.status, 0));
  cr_assert(eq(int, c.status, 0));
  /* Shard 0 of 3 holds points 0 and 3 only. */
  part = slurp(s0, "summary.csv");
  cr_assert(eq(u64, count_lines(part), 3));
  g_free(part);
  /* A missing shard is refused, naming the point. */
  bad = run_dhtsim((const char *[]){"merge", "--out", merged, s0, s2, NULL});
  cr_assert(eq(int, bad.status, 2));
  cr_assert(strstr(bad.err, "point 1 of 6") != NULL, "%s", bad.err);
  m = run_dhtsim((const char *[]){"merge", "--out", merged, s0, s1, s2, NULL});
  cr_assert(eq(int, m.status, 0), "%s", m.err);
  assert_same_outputs(whole, merged);
  cli_free(&w);
  cli_free(&a);
  cli_free(&b);
  cli_free(&c);
  cli_free(&m);
  cli_free(&bad);
  g_free(whole);
  g_free(s0);
  g_free(s1);
  g_free(s2);
  g_free(merged);
}

Test(sweep, merge_refuses_outputs_of_different_scenarios, .init = setup, .fini = teardown) {
  char *a = sub("a"), *b = sub("b"), *m = sub("m");
  cli x = run_dhtsim((const char *[]){"run", "tests/data/sweep-small.yaml", "--shard", "0/2", "--out", a, NULL});
  cli y = run_dhtsim(
      (const char *[]){"run", "tests/data/sweep-small.yaml", "--seed", "8", "--shard", "1/2", "--out", b, NULL});
  cli z = run_dhtsim((const char *[]){"merge", "--out", m, a, b, NULL});
  cr_assert(eq(int, x.status, 0));
  cr_assert(eq(int, y.status, 0));
  cr_assert(eq(int, z.status, 2));
  cr_assert(strstr(z.err, "different scenarios") != NULL, "%s", z.err);
  cli_free(&x);
  cli_free(&y);
  cli_free(&z);
  g_free(a);
  g_free(b);
  g_free(m);
}

static size_t finished_points(const char *dir) {
  char *parts = g_build_filename(dir, "parts", NULL);
  GDir *d = g_dir_open(parts, 0, NULL);
  const char *n;
  size_t k = 0;
  while (d != NULL && (n = g_dir_read_name(d)) != NULL)
    k += g_str_has_suffix(n, ".rec");
  if (d != NULL)
    g_dir_close(d);
  g_free(parts);
  return k;
}

/* A signal stops the run cleanly: exit 128 + signal, the finished points kept
 * (complete files holding exactly them, nothing temporary left), and --resume
 * finishes the rest with the same bytes as an uninterrupted run. */
static void interrupt_and_resume(int sig) {
  char *d = sub("int"), *full = sub("full");
  const char *argv[] = {DHTSIM_BINARY, "run", "tests/data/sweep-long.yaml", "-j", "1", "--out", d, NULL};
  GPid pid;
  int ws = 0;
  size_t kept;
  char *summary;
  cli r, f;
  cr_assert(g_spawn_async(DHTSIM_SOURCE_DIR, (char **)argv, NULL,
                          G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                          NULL, &pid, NULL),
            "cannot start dhtsim");
  /* Wait for two finished points, then interrupt. */
  for (int i = 0; i < 6000 && finished_points(d) < 2; i++)
    g_usleep(5000);
  kill(pid, sig);
  cr_assert(eq(int, waitpid(pid, &ws, 0), pid));
  g_spawn_close_pid(pid);
  bool exited = WIFEXITED(ws);
  cr_assert(exited, "dhtsim was killed by signal %d", WTERMSIG(ws));
  cr_assert(eq(int, WEXITSTATUS(ws), 128 + sig), "exit %d: the run finished before the signal?", WEXITSTATUS(ws));
  kept = finished_points(d);
  cr_assert(ge(u64, kept, 2));
  cr_assert(lt(u64, kept, 32));
  /* The files hold exactly the kept points, complete. */
  summary = slurp(d, "summary.csv");
  cr_assert(eq(u64, count_lines(summary), 1 + kept));
  g_free(summary);
  assert_no_tmp_files(d);

  r = run_dhtsim((const char *[]){"run", "tests/data/sweep-long.yaml", "-j", "2", "--out", d, "--resume", NULL});
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  f = run_dhtsim((const char *[]){"run", "tests/data/sweep-long.yaml", "-j", "2", "--out", full, NULL});
  cr_assert(eq(int, f.status, 0));
  assert_same_outputs(d, full);
  cr_assert(eq(str, r.out, f.out));
  cli_free(&r);
  cli_free(&f);
  g_free(d);
  g_free(full);
}

Test(sweep, sigint_keeps_finished_points_and_resumes, .init = setup, .fini = teardown, .timeout = 300) {
  interrupt_and_resume(SIGINT);
}

Test(sweep, sigterm_keeps_finished_points_and_resumes, .init = setup, .fini = teardown, .timeout = 300) {
  interrupt_and_resume(SIGTERM);
}

/* A closed terminal (SIGHUP) is a stop like SIGTERM, not a kill that loses the finished points. */
Test(sweep, sighup_keeps_finished_points_and_resumes, .init = setup, .fini = teardown, .timeout = 300) {
  interrupt_and_resume(SIGHUP);
}

Test(sweep, resume_refuses_a_folder_of_another_scenario, .init = setup, .fini = teardown) {
  char *d = sub("o");
  cli a = run_dhtsim((const char *[]){"run", "tests/data/sweep-small.yaml", "--out", d, NULL});
  cli b = run_dhtsim((const char *[]){"run", "tests/data/sweep-small.yaml", "--seed", "99", "--out", d, "--resume", NULL});
  cr_assert(eq(int, a.status, 0));
  cr_assert(eq(int, b.status, 2));
  cr_assert(strstr(b.err, "different scenario") != NULL, "%s", b.err);
  cli_free(&a);
  cli_free(&b);
  g_free(d);
}

Test(sweep, dry_run_lists_points_and_memory_without_simulating, .init = setup, .fini = teardown) {
  char *d = sub("never");
  cli r = run_dhtsim((const char *[]){"run", "tests/data/sweep-small.yaml", "--dry-run", "-j", "2", "--out", d, NULL});
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  cr_assert(strstr(r.out, "6 points x 3 replicas") != NULL, "%s", r.out);
  cr_assert(strstr(r.out, "lookup.alpha=3 lookup.k=8") != NULL);
  cr_assert(strstr(r.out, "18 runs on 2 threads; estimated peak memory") != NULL, "%s", r.out);
  cr_assert(eq(int, g_file_test(d, G_FILE_TEST_EXISTS), FALSE), "--dry-run created %s", d);
  cli_free(&r);
  g_free(d);
}

Test(sweep, bad_shard_and_resume_usage_exit_two) {
  const char *const *cases[] = {
      (const char *[]){"run", "tests/data/sweep-small.yaml", "--shard", "3/3", NULL},
      (const char *[]){"run", "tests/data/sweep-small.yaml", "--shard", "1", NULL},
      (const char *[]){"run", "tests/data/sweep-small.yaml", "--shard", "a/b", NULL},
      (const char *[]){"run", "tests/data/sweep-small.yaml", "--resume", NULL},
      (const char *[]){"run", "tests/data/sweep-small.yaml", "-j", "0", NULL},
      (const char *[]){"merge", "x", NULL},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    cli r = run_dhtsim(cases[i]);
    cr_assert(eq(int, r.status, 2), "case %zu: %s", i, r.err);
    cli_free(&r);
  }
}

/* A point that breaks a cross-check is refused before any simulation work. */
Test(sweep, invalid_point_refused_before_running, .init = setup, .fini = teardown) {
  char *d = sub("never");
  char want[] = "dhtsim: tests/data/sweep-bad-point.yaml: point 1 (latency.min_ms=200): latency.min_ms: expected a "
                     "number of milliseconds at most latency.max_ms (100), got '200'\n";
  cli v = run_dhtsim((const char *[]){"validate", "tests/data/sweep-bad-point.yaml", NULL});
  cli r = run_dhtsim((const char *[]){"run", "tests/data/sweep-bad-point.yaml", "--out", d, NULL});
  cr_assert(eq(int, v.status, 2));
  cr_assert(eq(str, v.err, want));
  cr_assert(eq(int, r.status, 2));
  cr_assert(eq(str, r.err, want));
  cr_assert(eq(int, g_file_test(d, G_FILE_TEST_EXISTS), FALSE), "run created %s", d);
  cli_free(&v);
  cli_free(&r);
  g_free(d);
}

/* The dry run's peak counts every replica as a run of its own: one point with
 * three replicas on two threads needs two networks at once. */
Test(sweep, dry_run_peak_counts_concurrent_replicas, .init = setup, .fini = teardown) {
  char *yaml = sub("replicas.yaml");
  double point_mib = 0, peak_mib = 0;
  const char *row, *tail;
  cli r;
  cr_assert(g_file_set_contents(yaml, "network: {nodes: 5000, tables: full}\nreplicas: 3\n", -1, NULL));
  r = run_dhtsim((const char *[]){"run", yaml, "--dry-run", "-j", "2", NULL});
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  row = strstr(r.out, "(scenario)");
  tail = strstr(r.out, "estimated peak memory ");
  cr_assert(row != NULL && tail != NULL, "%s", r.out);
  cr_assert(eq(int, sscanf(row, "(scenario) %*u %lf MiB", &point_mib), 1), "%s", r.out);
  cr_assert(eq(int, sscanf(tail, "estimated peak memory %lf MiB", &peak_mib), 1), "%s", r.out);
  cr_assert(gt(dbl, point_mib, 0.5));
  cr_assert(le(dbl, fabs(peak_mib - 2 * point_mib), 0.1), "point %.1f MiB, peak %.1f MiB", point_mib, peak_mib);
  cli_free(&r);
  g_free(yaml);
}

/* ---- parameter columns ---- */

/* A sweep over latency.sigma x latency.slow_fraction: both keys are columns
 * of summary.csv, runs.csv and lookups.csv and keys of summary.json "params",
 * with each row's own values; the values reached the runs (slow nodes). */
Test(sweep, swept_keys_are_columns_with_each_rows_values, .init = setup, .fini = teardown) {
  static const char *const sigma[] = {"0.2", "1.5"}, *const slow[] = {"0", "0.25", "0.5"};
  char *yaml = sub("sigma-slow.yaml"), *d = sub("out");
  char *summary, *runs, *lookups, *json;
  csv cs, cr, cl;
  cli r;
  cr_assert(g_file_set_contents(yaml,
                                "name: sigma-slow\nseed: 3\nnetwork: {nodes: 60}\n"
                                "latency: {model: lognormal, median_ms: 30}\nworkload: {lookups: 4}\nreplicas: 2\n"
                                "sweep:\n  latency.sigma: [0.2, 1.5]\n  latency.slow_fraction: [0, 0.25, 5e-1]\n",
                                -1, NULL));
  r = run_dhtsim((const char *[]){"run", yaml, "-j", "2", "--out", d, NULL});
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  summary = slurp(d, "summary.csv");
  runs = slurp(d, "runs.csv");
  lookups = slurp(d, "lookups.csv");
  json = slurp(d, "summary.json");
  cs = csv_parse(summary);
  cr = csv_parse(runs);
  cl = csv_parse(lookups);
  cr_assert(eq(u64, cs.n_rows, 6));
  cr_assert(eq(u64, cr.n_rows, 12));
  cr_assert(eq(u64, cl.n_rows, 12 * 4));
  /* lookups.csv: point, replica, the swept keys in axis order, the lookup's columns. */
  cr_assert(g_str_has_prefix(lookups, "point,replica,latency.sigma,latency.slow_fraction,id,start_node,target,"));
  for (size_t p = 0; p < 6; p++) {
    const char *sg = sigma[p / 3], *sf = slow[p % 3];
    /* The label keeps the value as written (5e-1); the column is the value's own text. */
    char *label = g_strdup_printf("latency.sigma=%s latency.slow_fraction=%s", sg, p % 3 == 2 ? "5e-1" : sf);
    char *want = g_strdup_printf("\"latency.sigma\": %s, \"latency.slow_fraction\": %s, ", sg, sf);
    char *head = g_strdup_printf("{\"point\": %zu, ", p), *next = g_strdup_printf("{\"point\": %zu, ", p + 1);
    char *el = strstr(json, head), *end = el != NULL ? strstr(el, next) : NULL;
    cr_assert(eq(u64, strtoull(csv_get(&cs, p, "point"), NULL, 10), p));
    cr_assert(eq(str, (char *)csv_get(&cs, p, "label"), label));
    cr_assert(eq(str, (char *)csv_get(&cs, p, "latency.sigma"), (char *)sg));
    cr_assert(eq(str, (char *)csv_get(&cs, p, "latency.slow_fraction"), (char *)sf));
    cr_assert(eq(str, (char *)csv_get(&cs, p, "latency.median_ms"), "30"));
    cr_assert(eq(str, (char *)csv_get(&cs, p, "network.nodes"), "60"));
    /* No slow node without slow_fraction, some with it: the value reached the runs. */
    cr_assert(eq(int, strcmp(csv_get(&cs, p, "slow_nodes"), "0.000000") == 0, p % 3 == 0), "point %zu: %s", p,
              csv_get(&cs, p, "slow_nodes"));
    for (size_t rep = 0; rep < 2; rep++) {
      size_t row = p * 2 + rep;
      cr_assert(eq(u64, strtoull(csv_get(&cr, row, "point"), NULL, 10), p));
      cr_assert(eq(u64, strtoull(csv_get(&cr, row, "replica"), NULL, 10), rep));
      cr_assert(eq(str, (char *)csv_get(&cr, row, "latency.sigma"), (char *)sg));
      cr_assert(eq(str, (char *)csv_get(&cr, row, "latency.slow_fraction"), (char *)sf));
      cr_assert(eq(str, (char *)csv_get(&cr, row, "seed"), "3"));
      cr_assert(ne(str, (char *)csv_get(&cr, row, "run_seed"), "3"));
      cr_assert(eq(int, strcmp(csv_get(&cr, row, "slow_nodes"), "0") == 0, p % 3 == 0));
      for (size_t l = 0; l < 4; l++) {
        size_t lrow = row * 4 + l;
        cr_assert(eq(u64, strtoull(csv_get(&cl, lrow, "point"), NULL, 10), p));
        cr_assert(eq(u64, strtoull(csv_get(&cl, lrow, "replica"), NULL, 10), rep));
        cr_assert(eq(str, (char *)csv_get(&cl, lrow, "latency.sigma"), (char *)sg));
        cr_assert(eq(str, (char *)csv_get(&cl, lrow, "latency.slow_fraction"), (char *)sf));
      }
    }
    cr_assert(el != NULL, "summary.json: no point %zu", p);
    if (end != NULL)
      *end = '\0';
    cr_assert(strstr(el, want) != NULL, "point %zu: no %s in %s", p, want, el);
    cr_assert(strstr(el, "\"latency.median_ms\": 30, ") != NULL, "%s", el);
    if (end != NULL)
      *end = '{';
    g_free(head);
    g_free(next);
    g_free(want);
    g_free(label);
  }
  csv_free(&cs);
  csv_free(&cr);
  csv_free(&cl);
  g_free(summary);
  g_free(runs);
  g_free(lookups);
  g_free(json);
  cli_free(&r);
  g_free(yaml);
  g_free(d);
}

/* A point record that is damaged (truncated, edited) is refused by merge
 * with a message naming it, and run again by --resume, which names it too:
 * never a crash or a silent rerun. */
Test(sweep, malformed_point_record_is_a_clear_error, .init = setup, .fini = teardown) {
  static const char *const damage[] = {"", "dhtsim-point v1\npoint 1\n", "dhtsim-point v1\npoint 2\nlabel x\n",
                                       "garbage\n"};
  char *d = sub("o"), *m = sub("m");
  char *rec = g_build_filename(d, "parts", "point-00000001.rec", NULL);
  char *text;
  gsize len = 0;
  cli a = run_dhtsim((const char *[]){"run", "tests/data/sweep-small.yaml", "--out", d, NULL});
  cr_assert(eq(int, a.status, 0), "%s", a.err);
  cr_assert(g_file_get_contents(rec, &text, &len, NULL));
  for (size_t i = 0; i < G_N_ELEMENTS(damage) + 2; i++) {
    cli b, c;
    if (i < G_N_ELEMENTS(damage)) {
      cr_assert(g_file_set_contents(rec, damage[i], -1, NULL));
    } else {
      /* Cut in the middle of the figures; or one figure's mean not a number. */
      char *t = g_strdup(text), *fig = strstr(t, "fig accuracy ");
      cr_assert(fig != NULL);
      if (i == G_N_ELEMENTS(damage))
        fig[0] = '\0';
      else
        memcpy(fig + strlen("fig accuracy 1 1 "), "zz", 2);
      cr_assert(g_file_set_contents(rec, t, -1, NULL));
      g_free(t);
    }
    c = run_dhtsim((const char *[]){"merge", "--out", m, d, NULL});
    b = run_dhtsim((const char *[]){"run", "tests/data/sweep-small.yaml", "--out", d, "--resume", NULL});
    cr_assert(eq(int, c.status, 2), "case %zu: exit %d: %s", i, c.status, c.err);
    cr_assert(strstr(c.err, "point-00000001.rec: ") != NULL, "case %zu: %s", i, c.err);
    /* The record no longer matches the manifest: the point runs again, and says so. */
    cr_assert(eq(int, b.status, 0), "case %zu: exit %d: %s", i, b.status, b.err);
    cr_assert(strstr(b.err, "point-00000001.rec: ") != NULL && strstr(b.err, "runs again") != NULL, "case %zu: %s",
              i, b.err);
    cli_free(&b);
    cli_free(&c);
  }
  /* Repaired, the resume runs nothing and writes the same files. */
  cr_assert(g_file_set_contents(rec, text, (gssize)len, NULL));
  {
    char *before = slurp(d, "summary.csv");
    cli b = run_dhtsim((const char *[]){"run", "tests/data/sweep-small.yaml", "--out", d, "--resume", NULL});
    char *after = slurp(d, "summary.csv");
    cr_assert(eq(int, b.status, 0), "%s", b.err);
    cr_assert(eq(str, before, after));
    cli_free(&b);
    g_free(before);
    g_free(after);
  }
  g_free(text);
  g_free(rec);
  cli_free(&a);
  g_free(d);
  g_free(m);
}

/* ---- damaged parts, concurrent and killed runs, input files (issue #11, items 6-9) ---- */

static char *part_of(const char *dir, int point, const char *ext) {
  char name[64];
  snprintf(name, sizeof name, "point-%08d.%s", point, ext);
  return g_build_filename(dir, "parts", name, NULL);
}

/* Cuts the file to half its size (a torn row), or rewrites it as garbage. */
static void damage_file(const char *path, bool garbage) {
  char *text = NULL;
  gsize len = 0;
  cr_assert(g_file_get_contents(path, &text, &len, NULL), "%s", path);
  if (garbage)
    cr_assert(g_file_set_contents(path, "garbage\n", -1, NULL));
  else
    cr_assert(g_file_set_contents(path, text, (gssize)(len / 2), NULL));
  g_free(text);
}

/* A part that no longer matches the manifest's size and SHA-256 (a torn
 * lookups part, a garbage record, a deleted runs part) is run again by
 * --resume, which says so on stderr, and the outputs are byte-identical to
 * an undamaged run's; merge refuses it, naming the part (exit 2). */
Test(sweep, damaged_parts_are_rerun_by_resume_and_refused_by_merge, .init = setup, .fini = teardown) {
  static const struct {
    int point;
    const char *ext;
    int how; /* 0 torn, 1 garbage, 2 deleted */
  } cases[] = {{1, "lookups.csv", 0}, {2, "rec", 1}, {0, "runs.csv", 2}, {5, "rec", 0}};
  char *ref = sub("ref");
  cli f = run_dhtsim((const char *[]){"run", "tests/data/sweep-small.yaml", "--out", ref, NULL});
  cr_assert(eq(int, f.status, 0), "%s", f.err);
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    char name[16], *d, *m, *part;
    snprintf(name, sizeof name, "d%zu", i);
    d = sub(name);
    m = g_strconcat(d, "-merged", NULL);
    cli a = run_dhtsim((const char *[]){"run", "tests/data/sweep-small.yaml", "--out", d, NULL});
    cr_assert(eq(int, a.status, 0), "%s", a.err);
    part = part_of(d, cases[i].point, cases[i].ext);
    if (cases[i].how == 2)
      cr_assert(eq(int, g_remove(part), 0));
    else
      damage_file(part, cases[i].how == 1);
    cli c = run_dhtsim((const char *[]){"merge", "--out", m, d, NULL});
    cr_assert(eq(int, c.status, 2), "case %zu: merge exit %d: %s", i, c.status, c.err);
    cr_assert(strstr(c.err, part) != NULL, "case %zu: merge does not name %s: %s", i, part, c.err);
    cli b = run_dhtsim((const char *[]){"run", "tests/data/sweep-small.yaml", "--out", d, "--resume", NULL});
    cr_assert(eq(int, b.status, 0), "case %zu: resume exit %d: %s", i, b.status, b.err);
    cr_assert(strstr(b.err, part) != NULL, "case %zu: resume does not say it reran %s: %s", i, part, b.err);
    assert_same_outputs(d, ref);
    cr_assert(eq(str, b.out, f.out), "case %zu", i);
    cli_free(&a);
    cli_free(&b);
    cli_free(&c);
    g_free(part);
    g_free(m);
    g_free(d);
  }
  cli_free(&f);
  g_free(ref);
}

/* A second run into a folder another dhtsim is writing exits 2 at once,
 * naming the folder as in use, and writes nothing there; so does a merge. */
Test(sweep, a_folder_in_use_is_refused, .init = setup, .fini = teardown, .timeout = 300) {
  char *d = sub("busy"), *m = sub("m"), *s0 = sub("s0"), *before, *after;
  const char *argv[] = {DHTSIM_BINARY, "run", "tests/data/sweep-long.yaml", "-j", "1", "--out", d, NULL};
  GPid pid;
  int ws = 0;
  cli x = run_dhtsim((const char *[]){"run", "tests/data/sweep-small.yaml", "--shard", "0/1", "--out", s0, NULL});
  cr_assert(eq(int, x.status, 0));
  cr_assert(g_spawn_async(DHTSIM_SOURCE_DIR, (char **)argv, NULL,
                          G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                          NULL, &pid, NULL));
  for (int i = 0; i < 6000 && finished_points(d) < 1; i++)
    g_usleep(5000);
  before = slurp(d, "parts/manifest");
  /* --force: past the check that d holds another scenario's output, to the lock. */
  cli r = run_dhtsim((const char *[]){"run", "tests/data/sweep-small.yaml", "--force", "--out", d, NULL});
  cli g = run_dhtsim((const char *[]){"merge", "--out", d, s0, NULL});
  after = slurp(d, "parts/manifest");
  kill(pid, SIGTERM);
  cr_assert(eq(int, waitpid(pid, &ws, 0), pid));
  g_spawn_close_pid(pid);
  cr_assert(eq(int, r.status, 2), "run exit %d: %s", r.status, r.err);
  cr_assert(strstr(r.err, "in use") != NULL && strstr(r.err, d) != NULL, "%s", r.err);
  cr_assert(eq(int, g.status, 2), "merge exit %d: %s", g.status, g.err);
  cr_assert(strstr(g.err, "in use") != NULL, "%s", g.err);
  cr_assert(g_str_has_prefix(after, before), "the refused run wrote the manifest");
  cr_assert(strstr(after, "sweep-small") == NULL);
  cli_free(&x);
  cli_free(&r);
  cli_free(&g);
  g_free(before);
  g_free(after);
  g_free(s0);
  g_free(m);
  g_free(d);
}

/* A run killed (SIGKILL) in a folder holding another scenario's complete
 * output leaves either that output or its own partial one, never the old
 * final files next to the new manifest and parts. */
Test(sweep, a_killed_run_never_mixes_old_and_new_outputs, .init = setup, .fini = teardown, .timeout = 300) {
  char *d = sub("mixed"), *old[G_N_ELEMENTS(outputs)], *manifest_before, *manifest_after;
  /* --force: another scenario's output is written over only when asked. */
  const char *argv[] = {DHTSIM_BINARY, "run", "tests/data/sweep-long.yaml", "-j", "1", "--force", "--out", d, NULL};
  GPid pid;
  int ws = 0;
  cli a = run_dhtsim((const char *[]){"run", "tests/data/sweep-small.yaml", "--out", d, NULL});
  cr_assert(eq(int, a.status, 0));
  for (size_t i = 0; i < G_N_ELEMENTS(outputs); i++)
    old[i] = slurp(d, outputs[i]);
  manifest_before = slurp(d, "parts/manifest");
  cr_assert(g_spawn_async(DHTSIM_SOURCE_DIR, (char **)argv, NULL,
                          G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                          NULL, &pid, NULL));
  char *mpath = g_build_filename(d, "parts", "manifest", NULL);
  for (int i = 0; i < 6000; i++) {
    char *mf = NULL;
    bool started = g_file_get_contents(mpath, &mf, NULL, NULL) && strstr(mf, "sweep-long") != NULL;
    g_free(mf);
    if (started && finished_points(d) >= 1)
      break;
    g_usleep(5000);
  }
  kill(pid, SIGKILL);
  cr_assert(eq(int, waitpid(pid, &ws, 0), pid));
  g_spawn_close_pid(pid);
  manifest_after = slurp(d, "parts/manifest");
  cr_assert(strstr(manifest_after, "sweep-long") != NULL, "the new run had not started");
  for (size_t i = 0; i < G_N_ELEMENTS(outputs); i++) {
    char *p = g_build_filename(d, outputs[i], NULL), *now = NULL;
    if (g_file_get_contents(p, &now, NULL, NULL))
      cr_assert(strcmp(now, old[i]) != 0, "%s of the earlier run left next to the new manifest", outputs[i]);
    g_free(now);
    g_free(p);
    g_free(old[i]);
  }
  cli_free(&a);
  g_free(mpath);
  g_free(manifest_before);
  g_free(manifest_after);
  g_free(d);
}

/* Runs dhtsim from folder cwd. */
static cli run_in(const char *cwd, const char *const *args) {
  const char *argv[16] = {DHTSIM_BINARY};
  cli r = {0};
  int ws = 0;
  size_t i = 0;
  while (args[i] != NULL && i < 14) {
    argv[i + 1] = args[i];
    i++;
  }
  cr_assert(g_spawn_sync(cwd, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &r.out, &r.err, &ws, NULL));
  r.status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
  return r;
}

/* The fingerprint counts a file's contents, not its path: shards of one
 * scenario run from different folders (`cd dir && dhtsim run s.yaml` and
 * `dhtsim run dir/s.yaml`) merge; a topology edited between two shards makes
 * them different scenarios (exit 2). (The network.topology column shows the
 * path each shard used.) */
Test(sweep, shards_are_the_same_run_by_their_files_contents, .init = setup, .fini = teardown) {
  char *dir = sub("dir"), *yaml = g_build_filename(dir, "s.yaml", NULL), *topo = g_build_filename(dir, "t.txt", NULL);
  char *gen = sub("g.yaml"), *a = sub("a"), *b = sub("b"), *m = sub("m"), *c = sub("c");
  cr_assert(eq(int, g_mkdir(dir, 0777), 0));
  cr_assert(g_file_set_contents(gen, "seed: 5\nnetwork:\n  nodes: 60\n", -1, NULL));
  cr_assert(g_file_set_contents(yaml,
                                "name: files\nnetwork:\n  topology: t.txt\nworkload:\n  lookups: 10\n"
                                "sweep:\n  lookup.alpha: [1, 2, 3]\n",
                                -1, NULL));
  cli e = run_in(tmp, (const char *[]){"export-topology", gen, topo, NULL});
  cr_assert(eq(int, e.status, 0), "%s", e.err);
  cli x = run_in(dir, (const char *[]){"run", "s.yaml", "--shard", "0/2", "--out", a, NULL});
  cli y = run_in(tmp, (const char *[]){"run", "dir/s.yaml", "--shard", "1/2", "--out", b, NULL});
  cli z = run_in(tmp, (const char *[]){"merge", "--out", m, a, b, NULL});
  cr_assert(eq(int, x.status, 0), "%s", x.err);
  cr_assert(eq(int, y.status, 0), "%s", y.err);
  cr_assert(eq(int, z.status, 0), "merge of the same scenario from two folders: %s", z.err);
  /* Another network under the same name, for the second shard. */
  cr_assert(g_file_set_contents(gen, "seed: 6\nnetwork:\n  nodes: 60\n", -1, NULL));
  cli e2 = run_in(tmp, (const char *[]){"export-topology", gen, topo, NULL});
  cr_assert(eq(int, e2.status, 0), "%s", e2.err);
  cli v = run_in(tmp, (const char *[]){"run", yaml, "--shard", "1/2", "--out", c, NULL});
  cli u = run_in(tmp, (const char *[]){"merge", "--out", m, a, c, NULL});
  cr_assert(eq(int, v.status, 0), "%s", v.err);
  cr_assert(eq(int, u.status, 2), "shards of two networks merged: exit %d", u.status);
  cr_assert(strstr(u.err, "different scenarios") != NULL, "%s", u.err);
  cli *all[] = {&e, &x, &y, &z, &e2, &v, &u};
  for (size_t i = 0; i < G_N_ELEMENTS(all); i++)
    cli_free(all[i]);
  g_free(c);
  g_free(m);
  g_free(b);
  g_free(a);
  g_free(gen);
  g_free(topo);
  g_free(yaml);
  g_free(dir);
}
