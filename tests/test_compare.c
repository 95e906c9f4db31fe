/* test_compare.c: `dhtsim compare` and `dhtsim check` (sim/compare.c,
 * sim/expect.c): the statistics against reference values (mpmath), and the
 * commands on small scenarios: no false regression between seeds, the
 * regressions of alpha 1 and of more loss found, points matched by their
 * parameters, JUnit XML, the recorded expectation. */
#include <criterion/criterion.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli_helpers.h"
#include "compare.h"
#include "stats.h"

/* ---- statistics ---- */

Test(compare_stats, t_distribution_matches_reference) {
  /* References from mpmath's regularised incomplete beta, 30 digits. */
  cr_assert_float_eq(sim_t_p2(1.74607573942394558, 4.201947112222076), 0.152275074413210938, 1e-10);
  cr_assert_float_eq(sim_t_p2(3.0, 1.5), 0.133547754254913260, 1e-10);
  cr_assert_float_eq(sim_t_p2(0.0, 7.0), 1.0, 1e-12);
  cr_assert_float_eq(sim_t_p2(-3.0, 1.5), 0.133547754254913260, 1e-10);
  for (unsigned df = 1; df <= 40; df++)
    cr_assert_float_eq(sim_t_quantile(0.975, df), sim_t975(df), 2e-5, "df %u", df);
  cr_assert_float_eq(sim_t_quantile(0.025, 10), -sim_t975(10), 1e-7);
}

Test(compare_stats, welch_matches_reference) {
  sim_cmp_test t;
  /* Unequal sizes and variances: df = 4.2019 (Welch-Satterthwaite); mpmath. */
  sim_welch(5, 10.0, 10.0, 20, 12.5, 1.0, 0.05, &t);
  cr_assert(t.tested);
  cr_assert_float_eq(t.diff, 2.5, 1e-12);
  cr_assert_float_eq(t.p, 0.152275074413210938, 1e-9);
  cr_assert_float_eq(t.lo, -1.40103888295548240, 1e-6);
  cr_assert_float_eq(t.hi, 6.40103888295548240, 1e-6);
  /* No spread: the difference is exact. */
  sim_welch(10, 3.0, 0.0, 10, 3.0, 0.0, 0.05, &t);
  cr_assert(t.tested && t.p == 1.0 && t.lo == 0.0 && t.hi == 0.0);
  sim_welch(10, 3.0, 0.0, 10, 4.0, 0.0, 0.05, &t);
  cr_assert(t.tested && t.p == 0.0 && t.lo == 1.0);
  /* Fewer than 2 values on a side: no test. */
  sim_welch(1, 3.0, 0.0, 10, 4.0, 1.0, 0.05, &t);
  cr_assert(!t.tested && t.p == 1.0);
}

Test(compare_stats, replicas_error) {
  /* Replica means 1, 2, 3 of 10 lookups each: mean 2, (1/3)^2 (1 + 0 + 1) = 2/9, x 3/2 = 1/3. */
  const uint64_t m[] = {10, 10, 10, 0};
  const double sum[] = {10.0, 20.0, 30.0, 0.0};
  const uint64_t uneven[] = {10, 30};
  const double usum[] = {10.0, 90.0};
  sim_cmp_test t;
  cr_assert_float_eq(sim_cluster_se2(m, sum, 3), 1.0 / 3.0, 1e-12);
  cr_assert_float_eq(sim_cluster_se2(m, sum, 4), 1.0 / 3.0, 1e-12, "an empty replica counts for nothing");
  cr_assert_eq(sim_cluster_se2(m, sum, 1), 0.0);
  /* Weights m_r / M: means 1 and 3, pooled 2.5; (1/4)^2 1.5^2 + (3/4)^2 0.5^2 = 0.28125, x 2. */
  cr_assert_float_eq(sim_cluster_se2(uneven, usum, 2), 0.5625, 1e-12);
  /* With R - 1 = 2 df on each side: t = 2 / sqrt(2/3) = 2.449, df 4 (Welch-Satterthwaite); mpmath. */
  sim_welch_se2(0.0, 1.0 / 3.0, 2.0, 2.0, 1.0 / 3.0, 2.0, 0.05, &t);
  cr_assert_float_eq(t.p, 0.0704839969102200, 1e-9);
}

Test(compare_stats, nearest_rank_quantile) {
  double v[100];
  for (int i = 0; i < 100; i++)
    v[i] = i + 1;
  cr_assert_eq(sim_cmp_quantile(v, 100, 95), 95.0);
  cr_assert_eq(sim_cmp_quantile(v, 100, 99), 99.0);
  cr_assert_eq(sim_cmp_quantile(v, 20, 95), 19.0);
  cr_assert_eq(sim_cmp_quantile(v, 10, 95), 10.0); /* ceil(9.5) */
  cr_assert_eq(sim_cmp_quantile(v, 1, 99), 1.0);
}

Test(compare_stats, holm_step_down) {
  const double p[] = {0.01, 0.04, 0.03, 0.005};
  double adj[4];
  cr_assert_eq(sim_holm(p, 4, adj), 0);
  /* sorted 0.005 x4 = 0.02, 0.01 x3 = 0.03, 0.03 x2 = 0.06, 0.04 x1 = 0.04 -> 0.06 (monotone) */
  cr_assert_float_eq(adj[3], 0.02, 1e-12);
  cr_assert_float_eq(adj[0], 0.03, 1e-12);
  cr_assert_float_eq(adj[2], 0.06, 1e-12);
  cr_assert_float_eq(adj[1], 0.06, 1e-12);
  {
    const double q[] = {0.5, 0.6};
    cr_assert_eq(sim_holm(q, 2, adj), 0);
    cr_assert_eq(adj[0], 1.0); /* 0.5 x 2, cut at 1 */
    cr_assert_eq(adj[1], 1.0);
  }
}

Test(compare_stats, bootstrap_quantile) {
  static double b[300], w[300];
  sim_cmp_test t1, t2, t3;
  for (int i = 0; i < 300; i++) {
    b[i] = exp(i / 50.0); /* distinct, skewed: a time-like tail */
    w[i] = b[i] + 1000.0;
  }
  cr_assert_eq(sim_bootstrap_quantile(b, 300, b, 300, 95, 1, 0.05, &t1), 0);
  cr_assert(t1.tested && t1.diff == 0.0 && t1.p == 1.0);
  cr_assert_eq(sim_bootstrap_quantile(b, 300, w, 300, 95, 1, 0.05, &t1), 0);
  cr_assert_float_eq(t1.diff, 1000.0, 1e-9);
  cr_assert_float_eq(t1.p, 2.0 / (SIM_CMP_BOOTSTRAP + 1), 1e-12);
  cr_assert(t1.lo < 1000.0 && t1.hi > 1000.0, "CI [%g, %g]", t1.lo, t1.hi);
  /* Deterministic: the same seed gives the same interval, another seed another one. */
  cr_assert_eq(sim_bootstrap_quantile(b, 300, w, 300, 95, 1, 0.05, &t2), 0);
  cr_assert(t1.lo == t2.lo && t1.hi == t2.hi);
  cr_assert_eq(sim_bootstrap_quantile(b, 300, w, 300, 95, 2, 0.05, &t3), 0);
  cr_assert(t1.lo != t3.lo || t1.hi != t3.hi);
  /* A narrower interval at a larger alpha. */
  cr_assert_eq(sim_bootstrap_quantile(b, 300, w, 300, 95, 1, 0.5, &t3), 0);
  cr_assert(t3.lo > t1.lo && t3.hi < t1.hi);
}

Test(compare_stats, bootstrap_interval_is_symmetric) {
  size_t lo, hi;
  sim_bootstrap_ci_index(0.05, 4999, &lo, &hi);
  cr_assert_eq(lo, 124); /* floor(124.975) */
  cr_assert_eq(hi, 4874);
  sim_bootstrap_ci_index(0.1, 1000, &lo, &hi);
  cr_assert_eq(lo, 50);
  cr_assert_eq(hi, 949); /* 50 values below, 50 above */
}

Test(compare_stats, xml_escape) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  sim_xml_escape(f, "a&b<c>\"d'e\x01" "f\xff" "g\xc3\xa9\t");
  fclose(f);
  cr_assert_str_eq(buf, "a&amp;b&lt;c&gt;&quot;d&apos;e\xef\xbf\xbd" "f\xef\xbf\xbd" "g\xc3\xa9\t");
  free(buf);
}

/* ---- the commands ---- */

static char *tmpdir(void) {
  char *d = g_dir_make_tmp("dhtsim-test-compare-XXXXXX", NULL);
  cr_assert(d != NULL);
  return d;
}

/* Removes the test's folder d and frees it and the two paths a and b. */
static void drop(char *d, char *a, char *b) {
  rm_rf(d);
  g_free(d);
  g_free(a);
  g_free(b);
}

static char *run_to(const char *dir, const char *name, const char *scenario, const char *seed) {
  char *out = g_build_filename(dir, name, NULL);
  const char *args[] = {"run", scenario, "--out", out, seed ? "--seed" : NULL, seed, NULL};
  cli r = run_dhtsim(args);
  cr_assert_eq(r.status, 0, "run %s: %s", scenario, r.err);
  cli_free(&r);
  return out;
}

/* The row of figure `fig` at point `point` of a --format csv report, or -1. */
static long csv_row(const csv *c, const char *point, const char *fig) {
  for (size_t i = 0; i < c->n_rows; i++)
    if (strcmp(csv_get(c, i, "point"), point) == 0 && strcmp(csv_get(c, i, "figure"), fig) == 0)
      return (long)i;
  return -1;
}

static const char *verdict(const csv *c, const char *point, const char *fig) {
  long i = csv_row(c, point, fig);
  cr_assert(i >= 0, "no row %s %s", point, fig);
  return csv_get(c, (size_t)i, "verdict");
}

static cli compare_csv(const char *a, const char *b) {
  const char *args[] = {"compare", a, b, "--format", "csv", NULL};
  return run_dhtsim(args);
}

static cli compare_mean(const char *a, const char *b) {
  const char *args[] = {"compare", a, b, "--format", "csv", "--figure", "time_ms_mean", NULL};
  return run_dhtsim(args);
}

/* A run of tests/data/compare-base.yaml (*a) and of `scenario` (*b) in a new
 * folder (*d), compared: the report parsed into *c; asserts exit status 1. */
static cli base_vs(const char *scenario, char **d, char **a, char **b, csv *c) {
  cli r;
  *d = tmpdir();
  *a = run_to(*d, "base", "tests/data/compare-base.yaml", NULL);
  *b = run_to(*d, "new", scenario, NULL);
  r = compare_csv(*a, *b);
  *c = csv_parse(r.out);
  cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
  return r;
}

Test(compare_cli, no_false_regression_between_seeds, .timeout = 300) {
  char *d = tmpdir();
  int clean = 0;
  for (int i = 0; i < 20; i++) {
    char s1[16], s2[16], n1[16], n2[16];
    char *a, *b;
    cli r;
    snprintf(s1, sizeof s1, "%d", 100 + i);
    snprintf(s2, sizeof s2, "%d", 200 + i);
    snprintf(n1, sizeof n1, "a%d", i);
    snprintf(n2, sizeof n2, "b%d", i);
    a = run_to(d, n1, "tests/data/compare-base.yaml", s1);
    b = run_to(d, n2, "tests/data/compare-base.yaml", s2);
    r = compare_csv(a, b);
    cr_assert(r.status == 0 || r.status == 1, "status %d: %s", r.status, r.err);
    clean += r.status == 0;
    if (r.status != 0)
      fprintf(stderr, "seed %s vs %s: false regression:\n%s", s1, s2, r.out);
    cli_free(&r);
    g_free(a);
    g_free(b);
  }
  fprintf(stderr, "test_compare: %d of 20 seed pairs without a false regression\n", clean);
  cr_assert_geq(clean, 19, "only %d of 20 seed pairs clean", clean);
  rm_rf(d);
  g_free(d);
}

Test(compare_cli, alpha_one_is_slower) {
  char *d, *a, *b;
  csv c;
  cli r = base_vs("tests/data/compare-alpha1.yaml", &d, &a, &b, &c);
  cr_assert_str_eq(verdict(&c, "(no sweep)", "time_ms_mean"), "worse");
  cr_assert_str_eq(verdict(&c, "(no sweep)", "rounds_mean"), "worse");
  /* One query at a time: fewer queries, which is better. */
  cr_assert_str_eq(verdict(&c, "(no sweep)", "queries_mean"), "better");
  csv_free(&c);
  cli_free(&r);
  {
    /* The table says the same, and names what differs. */
    const char *args[] = {"compare", a, b, NULL};
    r = run_dhtsim(args);
    cr_assert_eq(r.status, 1);
    cr_assert(strstr(r.out, "differs: lookup.alpha 3 -> 1") != NULL, "%s", r.out);
    cr_assert(strstr(r.out, "REGRESSION") != NULL);
    cli_free(&r);
  }
  /* The reverse direction: alpha 3 is not worse than alpha 1 in time. */
  r = compare_csv(b, a);
  c = csv_parse(r.out);
  cr_assert_str_eq(verdict(&c, "(no sweep)", "time_ms_mean"), "better");
  csv_free(&c);
  cli_free(&r);
  drop(d, a, b);
}

/* Copies OUT's summary.csv and lookups.csv to DEST, lookups.csv changed by
 * edit(header fields, row fields, row number, extra) -> the row's new text
 * (g_free'd), or the header's when row is -1. */
typedef char *(*row_edit)(const csv *c, long row, int extra);

static void copy_output(const char *out, const char *dest, row_edit edit, int extra) {
  char *sum = slurp(out, "summary.csv"), *lk = slurp(out, "lookups.csv"), **lines = g_strsplit(lk, "\n", -1);
  GString *g = g_string_new(NULL);
  csv c = csv_parse(lk);
  char *p, *t;
  cr_assert_eq(g_mkdir_with_parents(dest, 0755), 0);
  p = g_build_filename(dest, "summary.csv", NULL);
  cr_assert(g_file_set_contents(p, sum, -1, NULL));
  g_free(p);
  t = edit(&c, -1, extra);
  /* A column the edit appends replaces one of that name (lookups.csv has
   * "timeouts" now): its field is dropped from every line first. The rows
   * of these outputs hold no quoted commas. */
  int drop_at = -1;
  {
    char **h = g_strsplit(lines[0], ",", -1);
    for (int k = 0; h[k] != NULL; k++)
      if (strcmp(h[k], t + 1) == 0)
        drop_at = k;
    g_strfreev(h);
  }
  /* An edit whose header text is "-NAME" only drops the column. */
  bool drop_only = t[0] == '-';
  for (size_t i = 0; i <= c.n_rows; i++) {
    char *row = (i == 0) ? t : edit(&c, (long)i - 1, extra);
    if (drop_only)
      row[0] = '\0';
    char **f = g_strsplit(lines[i], ",", -1);
    for (int k = 0; f[k] != NULL; k++)
      if (k != drop_at)
        g_string_append_printf(g, "%s%s", g->len == 0 || g->str[g->len - 1] == '\n' ? "" : ",", f[k]);
    g_string_append_printf(g, "%s\n", row);
    g_strfreev(f);
    g_free(row);
  }
  p = g_build_filename(dest, "lookups.csv", NULL);
  cr_assert(g_file_set_contents(p, g->str, -1, NULL));
  g_free(p);
  g_string_free(g, TRUE);
  csv_free(&c);
  g_strfreev(lines);
  g_free(sum);
  g_free(lk);
}

/* A "timeouts" column (a later lookups.csv has one): the lookup's rounds + extra. */
static char *add_timeouts(const csv *c, long row, int extra) {
  if (row < 0)
    return g_strdup(",timeouts");
  return g_strdup_printf(",%d", atoi(csv_get(c, (size_t)row, "rounds")) + extra);
}

/* Drops the "timeouts" column: an output from before lookups.csv had it. */
static char *drop_timeouts(const csv *c, long row, int extra) {
  (void)c;
  (void)extra;
  return g_strdup(row < 0 ? "-timeouts" : "");
}

/* The header's "peers_found" moved to the end, 0 in every extra-th row: lookups that found no peer. */
static char *lose_peers(const csv *c, long row, int extra) {
  if (row < 0)
    return g_strdup(",peers_found");
  return g_strdup_printf(",%s", row % extra == 0 ? "0" : csv_get(c, (size_t)row, "peers_found"));
}

static void add_timeouts_to(const char *out, const char *dest, int extra) {
  copy_output(out, dest, add_timeouts, extra);
}

Test(compare_cli, more_loss_is_less_accurate) {
  char *d, *a, *b, *lk;
  csv c;
  cli r = base_vs("tests/data/compare-lossier.yaml", &d, &a, &b, &c);
  lk = slurp(b, "lookups.csv");
  cr_assert_str_eq(verdict(&c, "(no sweep)", "accuracy"), "worse");
  cr_assert_str_eq(verdict(&c, "(no sweep)", "time_ms_mean"), "worse");
  if (strstr(lk, ",timeouts") != NULL)
    cr_assert_str_eq(verdict(&c, "(no sweep)", "timeouts_mean"), "worse");
  else
    cr_assert_eq(csv_row(&c, "(no sweep)", "timeouts_mean"), -1, "no column, no row");
  csv_free(&c);
  cli_free(&r);
  g_free(lk);
  drop(d, a, b);
}

Test(compare_cli, new_columns_are_picked_up_by_name) {
  char *d = tmpdir(), *a = run_to(d, "base", "tests/data/compare-base.yaml", NULL),
       *ta = g_build_filename(d, "ta", NULL), *tb = g_build_filename(d, "tb", NULL), *t0 = g_build_filename(d, "t0", NULL);
  cli r;
  csv c;
  add_timeouts_to(a, ta, 0);
  add_timeouts_to(a, tb, 2);
  add_timeouts_to(a, t0, 0);
  r = compare_csv(ta, tb);
  c = csv_parse(r.out);
  cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
  cr_assert_str_eq(verdict(&c, "(no sweep)", "timeouts_mean"), "worse");
  cr_assert_str_eq(verdict(&c, "(no sweep)", "timeouts_p95"), "worse");
  cr_assert_str_eq(verdict(&c, "(no sweep)", "time_ms_mean"), "same");
  csv_free(&c);
  cli_free(&r);
  /* Identical: every row the same, exit 0. */
  r = compare_csv(ta, t0);
  cr_assert_eq(r.status, 0, "%s", r.out);
  cr_assert(strstr(r.out, "worse") == NULL && strstr(r.out, "better") == NULL);
  cli_free(&r);
  /* Only one side has it: not compared, and said so. */
  char *nt = g_build_filename(d, "nt", NULL);
  copy_output(a, nt, drop_timeouts, 0);
  r = compare_csv(nt, tb);
  cr_assert_eq(r.status, 0, "%s", r.out);
  cr_assert(strstr(r.out, "timeouts") == NULL);
  cr_assert(strstr(r.err, "note: only") != NULL, "%s", r.err);
  cli_free(&r);
  {
    const char *args[] = {"compare", nt, tb, "--figure", "timeouts", NULL};
    r = run_dhtsim(args);
    cr_assert_eq(r.status, 2);
    cr_assert(strncmp(r.err, "dhtsim compare: --figure timeouts:", 34) == 0, "%s", r.err);
    cli_free(&r);
  }
  {
    /* One lookup in ten finds no peer: success_rate (peers_found > 0) worse
     * (copy_output replaces the peers_found column with the edited one). */
    char *tp = g_build_filename(d, "tp", NULL), *lk = NULL;
    copy_output(a, tp, lose_peers, 10);
    r = compare_csv(a, tp);
    c = csv_parse(r.out);
    cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
    cr_assert_str_eq(verdict(&c, "(no sweep)", "success_rate"), "worse");
    cr_assert_str_eq(verdict(&c, "(no sweep)", "accuracy"), "same");
    csv_free(&c);
    cli_free(&r);
    g_free(lk);
    g_free(tp);
  }
  rm_rf(d);
  g_free(d);
  g_free(a);
  g_free(ta);
  g_free(tb);
  g_free(t0);
  g_free(nt);
}

/* A small scenario sweeping lookup.alpha over `values` without planted peers,
 * or with lookup.alpha
 * `values`, no sweep and 5 planted peers when single. */
/* A made-up output: one point, lookups.csv with `per` lookups in each of two
 * replicas whose time_ms are r0 + i % 3 and r1 + i % 3. */
static char *fake_output(const char *dir, const char *name, int r0, int r1, int per) {
  char *out = g_build_filename(dir, name, NULL), *p;
  GString *g = g_string_new("point,replica,id,time_ms\n");
  cr_assert_eq(g_mkdir_with_parents(out, 0755), 0);
  p = g_build_filename(out, "summary.csv", NULL);
  cr_assert(g_file_set_contents(p, "point,label\n0,\n", -1, NULL));
  g_free(p);
  for (int r = 0; r < 2; r++)
    for (int i = 0; i < per; i++)
      g_string_append_printf(g, "0,%d,%d,%d\n", r, r * per + i, (r ? r1 : r0) + i % 3);
  p = g_build_filename(out, "lookups.csv", NULL);
  cr_assert(g_file_set_contents(p, g->str, -1, NULL));
  g_free(p);
  g_string_free(g, TRUE);
  return out;
}

Test(compare_cli, replicas_that_differ_widen_the_interval) {
  char *d = tmpdir(), *a = fake_output(d, "a", 100, 120, 100), *b = fake_output(d, "b", 105, 125, 100),
       *c1 = fake_output(d, "c1", 100, 100, 100), *c2 = fake_output(d, "c2", 105, 105, 100);
  /* (The tails' bootstrap is over lookups: it does not see replicas.) */
  cli r = compare_mean(a, b);
  csv c = csv_parse(r.out);
  long i = csv_row(&c, "(no sweep)", "time_ms_mean");
  /* +4.5 %, but the two networks differ by 20: two replicas cannot tell. */
  cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
  cr_assert(i >= 0 && strcmp(csv_get(&c, (size_t)i, "verdict"), "same") == 0, "%s", r.out);
  cr_assert(atof(csv_get(&c, (size_t)i, "ci_low")) < -20.0, "%s", r.out);
  csv_free(&c);
  cli_free(&r);
  /* Replicas that agree: the per-lookup interval, and +5 % is worse. */
  r = compare_mean(c1, c2);
  c = csv_parse(r.out);
  cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
  cr_assert_str_eq(verdict(&c, "(no sweep)", "time_ms_mean"), "worse");
  csv_free(&c);
  cli_free(&r);
  drop(d, a, b);
  g_free(c1);
  g_free(c2);
}

static char *write_sweep(const char *dir, const char *name, const char *values, bool single) {
  char *p = g_strdup_printf("%s/%s.yaml", dir, name),
       *text = g_strdup_printf("name: %s\nseed: 3\nnetwork:\n  nodes: 200\nlatency:\n  model: lognormal\n"
                               "workload:\n  lookups: 60\n  planted_peers: %d\n%s%s%s\n",
                               name, single ? 5 : 0, single ? "lookup:\n  alpha: " : "sweep:\n  lookup.alpha: [", values,
                               single ? "" : "]");
  cr_assert(g_file_set_contents(p, text, -1, NULL));
  g_free(text);
  return p;
}

Test(compare_cli, points_match_by_parameters_not_index) {
  char *d = tmpdir(), *sa = write_sweep(d, "sa", "1, 3", false), *sb = write_sweep(d, "sb", "3, 2", false),
       *a = run_to(d, "a", sa, NULL), *b = run_to(d, "b", sb, NULL);
  cli r = compare_csv(a, b);
  csv c = csv_parse(r.out);
  long i;
  cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
  /* alpha 3 is point 1 of a, point 0 of b: the same run seed, the same lookups. */
  i = csv_row(&c, "lookup.alpha=3", "time_ms_mean");
  cr_assert(i >= 0, "%s", r.out);
  cr_assert_str_eq(csv_get(&c, (size_t)i, "base"), csv_get(&c, (size_t)i, "new"));
  cr_assert_str_eq(csv_get(&c, (size_t)i, "change_pct"), "+0.00");
  cr_assert_eq(csv_row(&c, "lookup.alpha=1", "time_ms_mean"), -1);
  cr_assert_eq(csv_row(&c, "lookup.alpha=3", "success_rate"), -1, "no peers planted: no success rate");
  cr_assert_eq(csv_row(&c, "lookup.alpha=2", "time_ms_mean"), -1);
  cr_assert_str_eq(verdict(&c, "lookup.alpha=1", ""), "only_base");
  cr_assert_str_eq(verdict(&c, "lookup.alpha=2", ""), "only_new");
  csv_free(&c);
  cli_free(&r);
  {
    /* A side without sweep matches the point with its value of the other's swept key. */
    char *ss = write_sweep(d, "ss", "2", true), *s1 = run_to(d, "s", ss, NULL);
    r = compare_csv(s1, b);
    c = csv_parse(r.out);
    cr_assert(r.status == 0 || r.status == 1, "%s%s", r.out, r.err); /* planted peers differ */
    cr_assert(csv_row(&c, "lookup.alpha=2", "queries_mean") >= 0, "%s", r.out);
    cr_assert(csv_row(&c, "lookup.alpha=2", "success_rate") >= 0, "planted by default");
    cr_assert_str_eq(verdict(&c, "lookup.alpha=3", ""), "only_new");
    csv_free(&c);
    cli_free(&r);
    g_free(ss);
    g_free(s1);
  }
  rm_rf(d);
  g_free(d);
  g_free(sa);
  g_free(sb);
  g_free(a);
  g_free(b);
}

static size_t count(const char *s, const char *what) {
  size_t n = 0;
  for (const char *p = strstr(s, what); p != NULL; p = strstr(p + 1, what))
    n++;
  return n;
}

Test(compare_cli, junit) {
  char *d = tmpdir(), *a = run_to(d, "b&<\"'>", "tests/data/compare-base.yaml", NULL),
       *b = run_to(d, "alpha1", "tests/data/compare-alpha1.yaml", NULL), *xml,
       *junit = g_build_filename(d, "junit.xml", NULL);
  const char *args[] = {"compare", a, b, "--junit", junit, "--format", "csv", NULL};
  cli r = run_dhtsim(args);
  csv c = csv_parse(r.out);
  size_t worse = 0;
  cr_assert_eq(r.status, 1, "%s", r.err);
  for (size_t i = 0; i < c.n_rows; i++)
    worse += strcmp(csv_get(&c, i, "verdict"), "worse") == 0;
  xml = slurp(d, "junit.xml");
  cr_assert(strncmp(xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites ", 50) == 0, "%s", xml);
  cr_assert_eq(count(xml, "<testsuite "), 1);
  cr_assert_eq(count(xml, "</testsuite>"), 1);
  cr_assert_eq(count(xml, "</testsuites>"), 1);
  cr_assert_eq(count(xml, "<testcase "), c.n_rows, "one testcase per point x figure");
  cr_assert_eq(count(xml, "<failure "), worse);
  cr_assert(worse > 0);
  cr_assert(strstr(xml, "<testcase classname=\"(no sweep)\" name=\"time_ms_mean\">\n      <failure type=\"regression\" "
                        "message=\"time_ms_mean worse: ") != NULL,
            "%s", xml);
  {
    char *tests = g_strdup_printf("tests=\"%zu\" failures=\"%zu\"", c.n_rows, worse);
    cr_assert_eq(count(xml, tests), 2, "%s in testsuites and testsuite", tests);
    g_free(tests);
  }
  /* The base folder's name, escaped; nothing of it raw. */
  cr_assert(strstr(xml, "b&amp;&lt;&quot;&apos;&gt; vs ") != NULL, "%s", xml);
  cr_assert(strstr(xml, "b&<") == NULL);
  csv_free(&c);
  cli_free(&r);
  g_free(xml);
  drop(d, a, b);
  g_free(junit);
}

Test(compare_cli, usage) {
  static const char *const bad[][8] = {
      {"compare", NULL},
      {"compare", "tests", NULL},
      {"compare", "a", "b", "c", NULL},
      {"compare", "a", "b", "--alpha", "1.5", NULL},
      {"compare", "a", "b", "--alpha", "0", NULL},
      {"compare", "a", "b", "--tolerance", "-1", NULL},
      {"compare", "a", "b", "--figure", "nope", NULL},
      {"compare", "a", "b", "--format", "xml", NULL},
      {"compare", "a", "b", "--bogus", NULL},
      {"compare", "a", "b", "--alpha", NULL},
      {"compare", "/nonexistent/x", "/nonexistent/y", NULL},
      {"compare", "tests/data", "tests/data", NULL},
      {"check", NULL},
      {"check", "scenarios/regression.yaml", NULL},
      {"check", "scenarios/regression.yaml", "--expect", "/nonexistent/e.json", NULL},
      {"check", "scenarios/regression.yaml", "--expect", "tests/data/compare-base.yaml", NULL},
      {"check", "scenarios/regression.yaml", "--expect", "tests", NULL},
      {"check", "scenarios/regression.yaml", "--expect", "tests/expect.json", "--seed", "x", NULL},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    cli r = run_dhtsim(bad[i]);
    char prefix[32];
    snprintf(prefix, sizeof prefix, "dhtsim %s", bad[i][0]);
    cr_assert_eq(r.status, 2, "case %zu: status %d: %s", i, r.status, r.err);
    cr_assert(strncmp(r.err, prefix, strlen(prefix)) == 0, "case %zu: %s", i, r.err);
    cli_free(&r);
  }
  for (int k = 0; k < 2; k++) {
    const char *args[] = {k ? "check" : "compare", "--help", NULL};
    cli r = run_dhtsim(args);
    cr_assert_eq(r.status, 0);
    cr_assert(strncmp(r.out, k ? "Usage: dhtsim check" : "Usage: dhtsim compare", k ? 19 : 21) == 0, "%s", r.out);
    cr_assert(strstr(r.out, "--tolerance") != NULL);
    cli_free(&r);
  }
}

Test(check_cli, shipped_expectation_holds) {
  const char *args[] = {"check", "scenarios/regression.yaml", "--expect", "tests/expect.json", NULL};
  const char *other[] = {"check", "scenarios/regression.yaml", "--expect", "tests/expect.json", "--seed", "99",
                         "--format", "csv", NULL};
  cli r = run_dhtsim(args);
  cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
  cr_assert(strstr(r.out, "no regression") != NULL);
  cli_free(&r);
  /* Another seed: a new network and new lookups, still no regression. */
  r = run_dhtsim(other);
  cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
  cli_free(&r);
}

Test(check_cli, record_then_check) {
  char *d = tmpdir(), *e = g_build_filename(d, "e.json", NULL);
  const char *rec[] = {"check", "tests/data/compare-base.yaml", "--expect", e, "--record", NULL};
  const char *chk[] = {"check", "tests/data/compare-base.yaml", "--expect", e, "--format", "csv", NULL};
  const char *alpha1[] = {"check", "tests/data/compare-alpha1.yaml", "--expect", e, "--format", "csv", NULL};
  cli r = run_dhtsim(rec);
  csv c;
  cr_assert_eq(r.status, 0, "%s", r.err);
  cli_free(&r);
  /* The same run: the rebuilt lookups give the recorded mean and the same p95 and p99. */
  r = run_dhtsim(chk);
  cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
  c = csv_parse(r.out);
  cr_assert_geq(c.n_rows, 14);
  for (size_t i = 0; i < c.n_rows; i++) {
    cr_assert_str_eq(csv_get(&c, i, "base"), csv_get(&c, i, "new"), "%s", csv_get(&c, i, "figure"));
    cr_assert_str_eq(csv_get(&c, i, "verdict"), "same");
  }
  csv_free(&c);
  cli_free(&r);
  /* A slower lookup against the expectation: worse, exit 1. */
  r = run_dhtsim(alpha1);
  cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
  c = csv_parse(r.out);
  cr_assert_str_eq(verdict(&c, "(no sweep)", "time_ms_mean"), "worse");
  csv_free(&c);
  cli_free(&r);
  {
    /* A damaged expectation: a clear message, exit 2. */
    char *text = slurp(d, "e.json"), *q = strstr(text, "\"q\": [");
    cr_assert(q != NULL);
    q[6] = 'x';
    cr_assert(g_file_set_contents(e, text, -1, NULL));
    r = run_dhtsim(chk);
    cr_assert_eq(r.status, 2);
    cr_assert(strncmp(r.err, "dhtsim check: ", 14) == 0 && strstr(r.err, "figures.queries") != NULL, "%s", r.err);
    cli_free(&r);
    g_free(text);
  }
  rm_rf(d);
  g_free(d);
  g_free(e);
}
