/* test_plot.c: `dhtsim plot` as a user runs it. The presets follow what the
 * sweep varies and never pool differing points (read back from the SVGs'
 * legends and panel titles); the general --x/--y/--group/--where command; PNG,
 * SVG and PDF; OUT/plots/ cleared for a new run; the redraw scripts; the
 * installed dhtsim finding its scripts; exit statuses and messages for bad
 * requests, a missing gnuplot, bad OUT folders and bad usage. Fixtures: the
 * hand-made outputs of tests/data/plot/ and real runs of its scenarios. */
#include <criterion/criterion.h>
#include "criterion_assert.h"
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define FIXTURES DHTSIM_SOURCE_DIR "/tests/data/plot"

typedef struct cli {
  char *out, *err;
  int status; /* exit code, or -1 if killed by a signal */
} cli;

/* The environment without DHTSIM_PLOTS_DIR (so that the compiled-in plots/ is used). */
static char **clean_env(void) {
  return g_environ_unsetenv(g_get_environ(), "DHTSIM_PLOTS_DIR");
}

/* Runs argv (NULL-terminated; argv[0] a path) in cwd with envp (NULL: clean_env()). */
static cli run_prog(const char *cwd, const char *const *argv, char **envp) {
  cli r = {0};
  int wait_status = 0;
  GError *error = NULL;
  char **env = envp ? envp : clean_env();
  cr_assert(g_spawn_sync(cwd, (char **)argv, env, G_SPAWN_STDIN_FROM_DEV_NULL, NULL, NULL, &r.out, &r.err,
                         &wait_status, &error),
            "spawn failed: %s", error ? error->message : "?");
  if (envp == NULL)
    g_strfreev(env);
  r.status = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1;
  return r;
}

/* dhtsim plot ARGS... (NULL-terminated), from the repository root. */
static cli run_plot(const char *const *args, char **envp) {
  const char *argv[32] = {DHTSIM_BINARY, "plot"};
  size_t i = 0;
  while (args[i] != NULL && i < 29) {
    argv[i + 2] = args[i];
    i++;
  }
  argv[i + 2] = NULL;
  return run_prog(DHTSIM_SOURCE_DIR, argv, envp);
}

static void cli_free(cli *r) {
  g_free(r->out);
  g_free(r->err);
}

static void rm_rf(const char *path) {
  if (g_file_test(path, G_FILE_TEST_IS_DIR) && !g_file_test(path, G_FILE_TEST_IS_SYMLINK)) {
    GDir *d = g_dir_open(path, 0, NULL);
    const char *name;
    while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
      char *p = g_build_filename(path, name, NULL);
      rm_rf(p);
      g_free(p);
    }
    if (d != NULL)
      g_dir_close(d);
    g_rmdir(path);
  } else {
    g_remove(path);
  }
}

static char *make_tmpdir(void) {
  GError *error = NULL;
  char *d = g_dir_make_tmp("dhtsim-plot-XXXXXX", &error);
  cr_assert(d != NULL, "mkdtemp: %s", error ? error->message : "?");
  return d;
}

static void write_file(const char *path, const char *text) {
  GError *error = NULL;
  cr_assert(g_file_set_contents(path, text, -1, &error), "%s: %s", path, error ? error->message : "?");
}

static char *read_file(const char *path, gsize *len) {
  char *text = NULL;
  GError *error = NULL;
  cr_assert(g_file_get_contents(path, &text, len, &error), "%s: %s", path, error ? error->message : "?");
  return text;
}

/* Copies the output files of fixture `name` into parent/sub (created). Returns that path. */
static char *copy_fixture(const char *name, const char *parent, const char *sub) {
  static const char *const files[] = {"summary.csv", "runs.csv", "lookups.csv", "summary.json"};
  char *dst = g_build_filename(parent, sub, NULL);
  cr_assert(g_mkdir_with_parents(dst, 0755) == 0);
  for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
    char *src = g_build_filename(FIXTURES, name, files[i], NULL);
    char *to = g_build_filename(dst, files[i], NULL);
    gsize len;
    char *text = read_file(src, &len);
    GError *error = NULL;
    cr_assert(g_file_set_contents(to, text, (gssize)len, &error));
    g_free(text);
    g_free(src);
    g_free(to);
  }
  return dst;
}

/* The SVG's text (checked to be a whole SVG document); g_free it. */
static char *read_svg(const char *dir, const char *name) {
  char *file = g_strdup_printf("%s.svg", name);
  char *path = g_build_filename(dir, "plots", file, NULL);
  gsize len;
  char *data = read_file(path, &len);
  cr_assert(len > 2000, "%s: only %zu bytes", path, (size_t)len);
  cr_assert(strstr(data, "<svg") != NULL, "%s: no <svg", path);
  cr_assert(strstr(data, "</svg>") != NULL, "%s: not closed", path);
  g_free(path);
  g_free(file);
  return data;
}

static void assert_svg_has(const char *dir, const char *name, const char *text) {
  char *svg = read_svg(dir, name);
  cr_assert(strstr(svg, text) != NULL, "%s.svg: no \"%s\"", name, text);
  g_free(svg);
}

static void assert_svg_lacks(const char *dir, const char *name, const char *text) {
  char *svg = read_svg(dir, name);
  cr_assert(strstr(svg, text) == NULL, "%s.svg: \"%s\"", name, text);
  g_free(svg);
}

/* The legend of an SVG written by gnuplot: the text of each titled plot, in
 * order (gnuplot puts a plot's key entry in its <g id="gnuplot_plot_...">). */
static GPtrArray *svg_legend(const char *dir, const char *name) {
  char *svg = read_svg(dir, name);
  GPtrArray *v = g_ptr_array_new_with_free_func(g_free);
  const char *p = svg;
  while ((p = strstr(p, "<g id=\"gnuplot_plot_")) != NULL) {
    const char *next = strstr(p + 1, "<g id=\"gnuplot_plot_"), *t = strstr(p, "<text>");
    p++;
    if (t != NULL && (next == NULL || t < next)) {
      const char *e = strstr(t, "</text>");
      g_ptr_array_add(v, g_strndup(t + 6, (gsize)(e - t - 6)));
    }
  }
  g_free(svg);
  return v;
}

/* The legend as one string "a|b|c", for comparing with what it must be. */
static char *legend_str(const char *dir, const char *name) {
  GPtrArray *v = svg_legend(dir, name);
  GString *g = g_string_new(NULL);
  for (guint i = 0; i < v->len; i++)
    g_string_append_printf(g, "%s%s", i ? "|" : "", (const char *)g_ptr_array_index(v, i));
  g_ptr_array_unref(v);
  return g_string_free(g, FALSE);
}

/* How often `text` occurs in the SVG (panel titles: one a panel). */
static unsigned svg_count(const char *dir, const char *name, const char *text) {
  char *svg = read_svg(dir, name);
  unsigned n = 0;
  for (const char *p = svg; (p = strstr(p, text)) != NULL; p++)
    n++;
  g_free(svg);
  return n;
}

/* A real PNG (signature, IHDR) of a real picture (not a blank canvas). */
static void assert_png(const char *dir, const char *name) {
  static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  char *file = g_strdup_printf("%s.png", name);
  char *path = g_build_filename(dir, "plots", file, NULL);
  gsize len;
  char *data = read_file(path, &len);
  cr_assert(len > 5000, "%s: only %zu bytes", path, (size_t)len);
  cr_assert(memcmp(data, sig, sizeof sig) == 0, "%s: no PNG signature", path);
  cr_assert(memcmp(data + 12, "IHDR", 4) == 0, "%s: no IHDR chunk", path);
  g_free(data);
  g_free(path);
  g_free(file);
}

static void assert_pdf(const char *dir, const char *name) {
  char *file = g_strdup_printf("%s.pdf", name);
  char *path = g_build_filename(dir, "plots", file, NULL);
  gsize len;
  char *data = read_file(path, &len);
  cr_assert(len > 3000, "%s: only %zu bytes", path, (size_t)len);
  cr_assert(memcmp(data, "%PDF-", 5) == 0, "%s: no %%PDF- header", path);
  {
    /* The end of the file (the streams before it hold NUL bytes). */
    char tail[64] = {0};
    memcpy(tail, data + len - 32, 32);
    cr_assert(strstr(tail, "%%EOF") != NULL, "%s: no %%%%EOF", path);
  }
  g_free(data);
  g_free(path);
  g_free(file);
}

static bool plot_exists(const char *dir, const char *file) {
  char *p = g_build_filename(dir, "plots", file, NULL);
  bool e = g_file_test(p, G_FILE_TEST_EXISTS);
  g_free(p);
  return e;
}

/* The stdout of a successful run: DIR/plots/NAME.EXT per name, per extension. */
static char *listing(const char *dir, const char *const *names, const char *const *exts) {
  GString *s = g_string_new(NULL);
  for (size_t i = 0; names[i] != NULL; i++)
    for (size_t e = 0; exts[e] != NULL; e++)
      g_string_append_printf(s, "%s/plots/%s.%s\n", dir, names[i], exts[e]);
  return g_string_free(s, FALSE);
}

static const char *const png_svg[] = {"png", "svg", NULL};

static void assert_legend(const char *dir, const char *name, const char *want) {
  char *l = legend_str(dir, name);
  cr_assert(eq(str, l, (char *)want), "%s.svg", name);
  g_free(l);
}

/* `dhtsim run SCENARIO --force --out tmp/out` (a test may run another
 * scenario into the same folder); returns that folder. */
static char *real_run(const char *tmp, const char *scenario) {
  char *dir = g_build_filename(tmp, "out", NULL);
  cli r = run_prog(DHTSIM_SOURCE_DIR, (const char *[]){DHTSIM_BINARY, "run", scenario, "--force", "--out", dir, NULL},
                   NULL);
  cr_assert(eq(int, r.status, 0), "dhtsim run %s: %s", scenario, r.err);
  cli_free(&r);
  return dir;
}

/* dhtsim plot DIR with the presets, both default formats; checks stdout, a
 * silent stderr and every picture. */
static void plot_presets(const char *dir, const char *const *names) {
  char *want = listing(dir, names, png_svg);
  cli r = run_plot((const char *[]){dir, NULL}, NULL);
  cr_assert(eq(int, r.status, 0), "exit %d: %s", r.status, r.err);
  cr_assert(eq(str, r.err, ""));
  cr_assert(eq(str, r.out, want));
  for (size_t i = 0; names[i] != NULL; i++) {
    assert_png(dir, names[i]);
    g_free(read_svg(dir, names[i]));
  }
  g_free(want);
  cli_free(&r);
}

/* ---- presets ---- */

/* α × K × N (3 values): N varies → queries and rounds vs N with fits; α and K
 * → heat maps per N; the CDF has one curve per (α, K, N), nothing pooled. */
Test(plot, sweep_fixture_presets_follow_the_sweep) {
  static const char *const names[] = {"queries-vs-n",    "rounds-vs-n",      "heatmap-queries", "heatmap-time",
                                      "lookup-time-cdf", "rounds-histogram", NULL};
  char *tmp = make_tmpdir(), *dir = copy_fixture("sweep", tmp, "out");
  GPtrArray *legend;
  char *l;
  plot_presets(dir, names);
  /* One curve per (α, K) with its fit in the legend, and what the dotted lines are. */
  l = legend_str(dir, "queries-vs-n");
  cr_assert(strstr(l, "α = 1, K = 4: fit a = ") != NULL, "%s", l);
  cr_assert(strstr(l, "α = 3, K = 8: fit a = ") != NULL, "%s", l);
  cr_assert(strstr(l, "dotted: least-squares fit a + b·log₂ N") != NULL, "%s", l);
  /* workload.plant_at follows K (its default): no legend names it. */
  cr_assert(strstr(l, "plant_at") == NULL, "%s", l);
  g_free(l);
  assert_svg_has(dir, "queries-vs-n", "network size N (nodes), log scale");
  assert_svg_has(dir, "queries-vs-n", "mean ± 95 % CI (bars) of 2 replicas");
  /* One panel per N; the cells carry the CI the title announces (α 1, K 8, N 50: 8.60). */
  cr_assert(eq(u32, svg_count(dir, "heatmap-queries", ">N = 1000<"), 1));
  cr_assert(eq(u32, svg_count(dir, "heatmap-queries", ">N = 50<"), 1));
  assert_svg_has(dir, "heatmap-queries", ">8.60<");
  assert_svg_has(dir, "heatmap-queries", "cells: mean and ± 95 % CI half-width");
  assert_svg_has(dir, "heatmap-queries", ">±");
  assert_svg_has(dir, "heatmap-time", "time_ms_mean (ms)");
  /* No unit in the cells: "5409 ms4782 ms" ran together. */
  assert_svg_lacks(dir, "heatmap-time", " ms</text>");
  /* 2 α × 2 K × 3 N = 12 curves, each named by all three. */
  legend = svg_legend(dir, "lookup-time-cdf");
  cr_assert(eq(u32, legend->len, 12));
  cr_assert(eq(str, (char *)g_ptr_array_index(legend, 0), "α = 1, K = 4, N = 50 (40 lookups)"));
  cr_assert(eq(str, (char *)g_ptr_array_index(legend, 11), "α = 3, K = 8, N = 1000 (40 lookups)"));
  g_ptr_array_unref(legend);
  /* 12 series of bars: small multiples, one panel each, no legend. */
  cr_assert(eq(u32, svg_count(dir, "rounds-histogram", "(40 lookups)</text>"), 12));
  g_free(dir);
  rm_rf(tmp);
  g_free(tmp);
}

/* request drop × strategy: success and accuracy vs drop, one curve per
 * strategy (dash type follows the strategy); the scenario name holds a comma. */
Test(plot, drop_fixture_success_and_accuracy_per_strategy) {
  static const char *const names[] = {"success-vs-request_drop", "accuracy-vs-request_drop", "lookup-time-cdf",
                                      "rounds-histogram", NULL};
  char *tmp = make_tmpdir(), *dir = copy_fixture("drop", tmp, "out");
  plot_presets(dir, names);
  assert_legend(dir, "success-vs-request_drop", "rounds|pipelined");
  assert_legend(dir, "accuracy-vs-request_drop", "rounds|pipelined");
  assert_svg_has(dir, "success-vs-request_drop", "scenario loss, strategies, seed 3");
  assert_svg_has(dir, "success-vs-request_drop", "loss.request_drop (probability)");
  assert_svg_has(dir, "success-vs-request_drop", "stroke-dasharray");
  g_free(dir);
  rm_rf(tmp);
  g_free(tmp);
}

/* No sweep: nothing varies, so only the distributions, with a single curve;
 * no plot along an x that does not vary, no legend for one curve. */
Test(plot, single_point_draws_only_distributions) {
  static const char *const names[] = {"lookup-time-cdf", "rounds-histogram", NULL};
  char *tmp = make_tmpdir(), *dir = copy_fixture("single", tmp, "out");
  plot_presets(dir, names);
  assert_legend(dir, "lookup-time-cdf", "");
  assert_svg_has(dir, "lookup-time-cdf", "30 lookups of 1 replica per point");
  cr_assert(plot_exists(dir, "queries-vs-n.png") == false);
  cr_assert(plot_exists(dir, "success-vs-request_drop.png") == false);
  g_free(dir);
  rm_rf(tmp);
  g_free(tmp);
}

/* Issue #10's sweep: latency.slow_fraction × lookup.strategy (3 × 2), run by
 * dhtsim itself. The general command draws one curve per strategy; the presets
 * pool nothing: every curve or panel is one point. */
Test(plot, slow_fraction_by_strategy_one_curve_each) {
  static const char *const names[] = {"time-vs-latency.slow_fraction", "queries-vs-latency.slow_fraction",
                                      "lookup-time-cdf", "rounds-histogram", "hops-histogram", "timeline-timeouts",
                                      "timeline-accuracy", NULL};
  static const char *const fractions[] = {"0", "0.2", "0.5"}, *const strategies[] = {"rounds", "pipelined"};
  char *tmp = make_tmpdir(), *dir = real_run(tmp, "tests/data/plot/slow-strategy.yaml"), *want;
  GPtrArray *legend;
  cli r = run_plot((const char *[]){dir, "--x", "latency.slow_fraction", "--y", "time_ms_mean", "--group",
                                    "lookup.strategy", "--format", "svg", NULL},
                   NULL);
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  want = g_strdup_printf("%s/plots/time_ms_mean-vs-latency.slow_fraction.svg\n", dir);
  cr_assert(eq(str, r.out, want));
  g_free(want);
  cli_free(&r);
  assert_legend(dir, "time_ms_mean-vs-latency.slow_fraction", "rounds|pipelined");
  assert_svg_has(dir, "time_ms_mean-vs-latency.slow_fraction", "latency.slow_fraction");
  assert_svg_has(dir, "time_ms_mean-vs-latency.slow_fraction", "time_ms_mean (ms)");

  plot_presets(dir, names);
  /* The general plot was of the earlier run's plots only if the data changed:
   * it did not, but the presets empty OUT/plots/ anyway. */
  cr_assert(plot_exists(dir, "time_ms_mean-vs-latency.slow_fraction.svg") == false);
  assert_legend(dir, "time-vs-latency.slow_fraction", "rounds|pipelined");
  assert_legend(dir, "queries-vs-latency.slow_fraction", "rounds|pipelined");
  /* 6 CDF curves, one per (slow fraction, strategy), each of one point's lookups. */
  legend = svg_legend(dir, "lookup-time-cdf");
  cr_assert(eq(u32, legend->len, 6));
  for (size_t f = 0; f < 3; f++) {
    for (size_t s = 0; s < 2; s++) {
      char *e = g_strdup_printf("slow_fraction = %s, %s (60 lookups)", fractions[f], strategies[s]);
      cr_assert(eq(str, (char *)g_ptr_array_index(legend, f * 2 + s), e));
      g_free(e);
    }
  }
  g_ptr_array_unref(legend);
  /* 6 histograms: small multiples titled by their point. */
  for (size_t f = 0; f < 3; f++) {
    for (size_t s = 0; s < 2; s++) {
      char *e = g_strdup_printf(">%s, slow_fraction = %s (60 lookups)<", strategies[s], fractions[f]);
      cr_assert(eq(u32, svg_count(dir, "rounds-histogram", e), 1), "%s", e);
      g_free(e);
    }
  }
  /* --where fixes a key: one curve, the title says what was fixed. */
  r = run_plot((const char *[]){dir, "--x", "latency.slow_fraction", "--y", "queries_mean", "--where",
                                "lookup.strategy=pipelined", "--format", "svg", "--name", "pipelined", NULL},
               NULL);
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  cli_free(&r);
  assert_legend(dir, "pipelined", "");
  assert_svg_has(dir, "pipelined", "of 2 replicas; pipelined</text>");
  g_free(dir);
  rm_rf(tmp);
  g_free(tmp);
}

/* A sweep of 18 points: the presets split what does not fit a picture (one
 * file per value), the general command refuses to pool and says what to fix. */
Test(plot, too_many_panels_split_or_refused) {
  char *tmp = make_tmpdir(), *scenario = g_build_filename(tmp, "s.yaml", NULL), *dir;
  cli r;
  write_file(scenario, "name: big\nseed: 2\nnetwork:\n  nodes: 60\nworkload:\n  lookups: 4\n"
                       "sweep:\n  lookup.alpha: [1, 2, 3]\n  lookup.k: [4, 8, 16]\n  latency.delay_ms: [10, 20]\n");
  dir = real_run(tmp, scenario);
  r = run_plot((const char *[]){dir, "--x", "lookup.alpha", "--y", "rounds", "--kind", "histogram", NULL}, NULL);
  cr_assert(eq(int, r.status, 2));
  cr_assert(strstr(r.err, "18 panels (at most 16; one per lookup.alpha × lookup.k × latency.delay_ms)") != NULL, "%s", r.err);
  cr_assert(strstr(r.err, "--where lookup.alpha=VALUE (one of 1, 2, 3)") != NULL, "%s", r.err);
  cr_assert(eq(str, r.out, ""));
  cli_free(&r);
  r = run_plot((const char *[]){dir, "--format", "png", NULL}, NULL);
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  cr_assert(strstr(r.out, "/plots/rounds-histogram-latency.delay_ms=10.png\n") != NULL, "%s", r.out);
  cr_assert(strstr(r.out, "/plots/rounds-histogram-latency.delay_ms=20.png\n") != NULL, "%s", r.out);
  cr_assert(strstr(r.out, "/plots/heatmap-queries.png\n") != NULL, "%s", r.out);
  cr_assert(strstr(r.out, "/plots/time-vs-latency.delay_ms.png\n") != NULL, "%s", r.out);
  cli_free(&r);
  g_free(dir);
  g_free(scenario);
  rm_rf(tmp);
  g_free(tmp);
}

/* ---- formats, OUT/plots/, redrawing ---- */

Test(plot, formats_png_svg_pdf) {
  static const char *const names[] = {"success-vs-request_drop", "accuracy-vs-request_drop", "lookup-time-cdf",
                                      "rounds-histogram", NULL};
  static const char *const pdf[] = {"pdf", NULL}, *const all[] = {"png", "svg", "pdf", NULL};
  char *tmp = make_tmpdir(), *dir = copy_fixture("drop", tmp, "out"), *want;
  cli r = run_plot((const char *[]){dir, "--format", "pdf", NULL}, NULL);
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  want = listing(dir, names, pdf);
  cr_assert(eq(str, r.out, want));
  g_free(want);
  for (size_t i = 0; names[i] != NULL; i++) {
    char *png = g_strdup_printf("%s.png", names[i]);
    assert_pdf(dir, names[i]);
    cr_assert(plot_exists(dir, png) == false);
    g_free(png);
  }
  cli_free(&r);
  r = run_plot((const char *[]){"--format", "all", dir, NULL}, NULL);
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  want = listing(dir, names, all);
  cr_assert(eq(str, r.out, want));
  g_free(want);
  cli_free(&r);
  r = run_plot((const char *[]){dir, "--format", "svg,png", NULL}, NULL);
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  want = g_strdup_printf("%s/plots/success-vs-request_drop.svg\n%s/plots/success-vs-request_drop.png\n", dir, dir);
  cr_assert(strncmp(r.out, want, strlen(want)) == 0, "%s", r.out);
  g_free(want);
  /* The presets empty OUT/plots/ first: no PDF of the run before is left. */
  cr_assert(plot_exists(dir, "lookup-time-cdf.pdf") == false);
  cli_free(&r);
  g_free(dir);
  rm_rf(tmp);
  g_free(tmp);
}

/* A new run into the same OUT: the next plot removes the plots of the old one,
 * even a general plot (OUT/plots/.source names the data they were drawn from). */
Test(plot, new_run_removes_old_plots) {
  char *tmp = make_tmpdir(), *dir = real_run(tmp, "tests/data/plot/slow-strategy.yaml"), *d2;
  cli r = run_plot((const char *[]){dir, "--format", "png", NULL}, NULL);
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  cli_free(&r);
  cr_assert(plot_exists(dir, "time-vs-latency.slow_fraction.png"));
  /* The same data again: a general plot keeps the presets. */
  r = run_plot((const char *[]){dir, "--x", "latency.slow_fraction", "--y", "accuracy", "--format", "png", NULL}, NULL);
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  cli_free(&r);
  cr_assert(plot_exists(dir, "time-vs-latency.slow_fraction.png"));
  cr_assert(plot_exists(dir, "accuracy-vs-latency.slow_fraction.png"));
  d2 = real_run(tmp, "tests/data/plot/small-sweep.yaml");
  cr_assert(eq(str, d2, dir));
  r = run_plot((const char *[]){dir, "--x", "network.nodes", "--y", "queries_mean", "--format", "png", NULL}, NULL);
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  cli_free(&r);
  cr_assert(plot_exists(dir, "time-vs-latency.slow_fraction.png") == false);
  cr_assert(plot_exists(dir, "time-vs-latency.slow_fraction.gp") == false);
  cr_assert(plot_exists(dir, "accuracy-vs-latency.slow_fraction.png") == false);
  assert_png(dir, "queries_mean-vs-network.nodes");
  g_free(d2);
  g_free(dir);
  rm_rf(tmp);
  g_free(tmp);
}

/* OUT/plots/NAME.gp redraws its plot by hand, in any format, from anywhere;
 * paths with a space and a quote reach gnuplot intact. */
Test(plot, redraw_by_hand_from_the_written_script) {
  char *tmp = make_tmpdir(), *dir = copy_fixture("sweep", tmp, "it's a dir");
  char *gnuplot = g_find_program_in_path("gnuplot"), *script, *pdf;
  cli r = run_plot((const char *[]){dir, "--format", "png", NULL}, NULL);
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  cr_assert(eq(str, r.err, ""));
  cli_free(&r);
  cr_assert(gnuplot != NULL, "gnuplot not in PATH");
  script = g_build_filename(dir, "plots", "heatmap-time.gp", NULL);
  r = run_prog("/", (const char *[]){gnuplot, "-e", "term='pdf'", script, NULL}, NULL);
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  cr_assert(eq(str, r.err, ""));
  assert_pdf(dir, "heatmap-time");
  cli_free(&r);
  pdf = g_build_filename(tmp, "x.svg", NULL);
  {
    char *setup = g_strdup_printf("term='svg'; out='%s'", pdf);
    r = run_prog("/", (const char *[]){gnuplot, "-e", setup, script, NULL}, NULL);
    cr_assert(eq(int, r.status, 0), "%s", r.err);
    cr_assert(g_file_test(pdf, G_FILE_TEST_IS_REGULAR));
    cli_free(&r);
    g_free(setup);
  }
  g_free(pdf);
  g_free(script);
  g_free(gnuplot);
  g_free(dir);
  rm_rf(tmp);
  g_free(tmp);
}

/* `cmake --install` into a temporary prefix: the installed dhtsim finds its
 * scripts in PREFIX/share/dhtsim/plots (through /proc/self/exe), not in the
 * source tree; $DHTSIM_PLOTS_DIR overrides it. */
Test(plot, installed_dhtsim_finds_its_scripts) {
  char *tmp = make_tmpdir(), *prefix = g_build_filename(tmp, "prefix", NULL);
  char *build = g_path_get_dirname(DHTSIM_BINARY), *builddir = g_path_get_dirname(build);
  char *cmake = g_find_program_in_path("cmake"), *exe, *dir, *gp, *text, *want, *copy, *common;
  cli r;
  cr_assert(cmake != NULL, "cmake not in PATH");
  r = run_prog(tmp, (const char *[]){cmake, "--install", builddir, "--prefix", prefix, NULL}, NULL);
  cr_assert(eq(int, r.status, 0), "cmake --install: %s%s", r.out, r.err);
  cli_free(&r);
  exe = g_build_filename(prefix, "bin", "dhtsim", NULL);
  cr_assert(g_file_test(exe, G_FILE_TEST_IS_EXECUTABLE));
  common = g_build_filename(prefix, "share", "dhtsim", "plots", "common.gpi", NULL);
  cr_assert(g_file_test(common, G_FILE_TEST_IS_REGULAR));
  g_free(common);
  common = g_build_filename(prefix, "share", "doc", "dhtsim", "output-format.md", NULL);
  cr_assert(g_file_test(common, G_FILE_TEST_IS_REGULAR));
  g_free(common);
  dir = copy_fixture("single", tmp, "out");
  r = run_prog(tmp, (const char *[]){exe, "plot", dir, "--format", "png", NULL}, NULL);
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  cli_free(&r);
  gp = g_build_filename(dir, "plots", "lookup-time-cdf.gp", NULL);
  text = read_file(gp, NULL);
  want = g_strdup_printf("load '%s/share/dhtsim/plots/common.gpi'", prefix);
  cr_assert(strstr(text, want) != NULL, "%s", text);
  g_free(text);
  g_free(want);
  /* $DHTSIM_PLOTS_DIR wins over the installed folder. */
  copy = g_build_filename(tmp, "my-plots", NULL);
  cr_assert(g_mkdir(copy, 0755) == 0);
  {
    char *src = g_build_filename(DHTSIM_SOURCE_DIR, "plots", "common.gpi", NULL), *dst = g_build_filename(copy, "common.gpi", NULL);
    char *t = read_file(src, NULL);
    char **env = g_environ_setenv(clean_env(), "DHTSIM_PLOTS_DIR", copy, TRUE);
    write_file(dst, t);
    r = run_prog(tmp, (const char *[]){exe, "plot", dir, "--format", "png", NULL}, env);
    cr_assert(eq(int, r.status, 0), "%s", r.err);
    cli_free(&r);
    text = read_file(gp, NULL);
    want = g_strdup_printf("load '%s'", dst);
    cr_assert(strstr(text, want) != NULL, "%s", text);
    g_free(want);
    g_free(text);
    g_strfreev(env);
    g_free(t);
    g_free(src);
    g_free(dst);
  }
  g_free(copy);
  g_free(gp);
  g_free(dir);
  g_free(exe);
  g_free(cmake);
  g_free(builddir);
  g_free(build);
  g_free(prefix);
  rm_rf(tmp);
  g_free(tmp);
}

/* ---- errors ---- */

/* Requests that name unknown things, or cannot be drawn without pooling or
 * without anything along x: exit 2, a message naming what to change, no file. */
Test(plot, bad_requests_exit_two_with_what_to_change) {
  static const struct {
    const char *args[12];
    const char *msg;
  } cases[] = {
      {{"--x", "lookup.alfa", "--y", "queries_mean"}, "--x lookup.alfa: no such parameter"},
      {{"--x", "lookup.alpha", "--y", "querys_mean"}, "--y querys_mean: no such figure (one of queries_mean,"},
      {{"--x", "network.nodes", "--y", "queries_mean"}, "--x network.nodes takes one value (200)"},
      {{"--x", "latency.slow_fraction", "--y", "queries_mean", "--where", "lookup.strategy=fast"},
       "--where lookup.strategy=fast: no point has that value (lookup.strategy: rounds, pipelined)"},
      {{"--x", "latency.slow_fraction", "--y", "queries_mean", "--where", "lookup.k=9"},
       "--where lookup.k=9: no point has that value (lookup.k: 8)"},
      {{"--x", "latency.slow_fraction", "--y", "queries_mean", "--kind", "heatmap"}, "needs --group KEY for its rows"},
      {{"--y", "time_ms_mean", "--kind", "cdf"}, "--y time_ms_mean: --kind cdf draws a per-lookup column of lookups.csv: one of queries, rounds, hops, result_ms, time_ms"},
      {{"--x", "latency.slow_fraction", "--y", "success_rate", "--where", "workload.planted_peers=0"},
       "no point has that value"},
  };
  char *tmp = make_tmpdir(), *dir = real_run(tmp, "tests/data/plot/slow-strategy.yaml");
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    const char *argv[16] = {dir};
    size_t n = 1;
    cli r;
    for (size_t j = 0; cases[i].args[j] != NULL; j++)
      argv[n++] = cases[i].args[j];
    argv[n] = NULL;
    r = run_plot(argv, NULL);
    cr_assert(eq(int, r.status, 2), "case %zu: exit %d: %s", i, r.status, r.err);
    cr_assert(strstr(r.err, cases[i].msg) != NULL, "case %zu: %s", i, r.err);
    cr_assert(eq(str, r.out, ""), "case %zu", i);
    cli_free(&r);
  }
  g_free(dir);
  rm_rf(tmp);
  g_free(tmp);
}

Test(plot, missing_gnuplot_is_a_clear_error) {
  char *tmp = make_tmpdir();
  char *dir = copy_fixture("single", tmp, "out");
  char *empty = g_build_filename(tmp, "empty-path", NULL);
  char **env = g_environ_setenv(clean_env(), "PATH", empty, TRUE);
  cli r;
  cr_assert(g_mkdir(empty, 0755) == 0);
  r = run_plot((const char *[]){dir, NULL}, env);
  cr_assert(eq(int, r.status, 1));
  cr_assert(eq(str, r.err, "dhtsim: plot: gnuplot not found in PATH (Debian: apt-get install gnuplot-nox)\n"));
  cr_assert(eq(str, r.out, ""));
  cr_assert(plot_exists(dir, "lookup-time-cdf.png") == false);
  cli_free(&r);
  g_strfreev(env);
  g_free(empty);
  g_free(dir);
  rm_rf(tmp);
  g_free(tmp);
}

/* A common.gpi that makes gnuplot fail: exit 1 with gnuplot's own message, no
 * picture and no .tmp left. */
Test(plot, failing_gnuplot_exit_one_with_its_stderr) {
  char *tmp = make_tmpdir(), *dir = copy_fixture("single", tmp, "out");
  char *scripts = g_build_filename(tmp, "scripts", NULL), *p;
  cli r;
  cr_assert(g_mkdir(scripts, 0755) == 0);
  p = g_build_filename(scripts, "common.gpi", NULL);
  write_file(p, "eval 'set terminal '.term\nset output out\nplot no_such_function(x)\n");
  g_free(p);
  r = run_plot((const char *[]){dir, "--scripts", scripts, "--format", "png", NULL}, NULL);
  cr_assert(eq(int, r.status, 1));
  cr_assert(strstr(r.err, "dhtsim: plot: gnuplot failed on") != NULL, "%s", r.err);
  cr_assert(strstr(r.err, "undefined function: no_such_function") != NULL, "%s", r.err);
  cr_assert(plot_exists(dir, "lookup-time-cdf.png") == false);
  cr_assert(plot_exists(dir, "lookup-time-cdf.png.tmp") == false);
  cli_free(&r);
  g_free(scripts);
  g_free(dir);
  rm_rf(tmp);
  g_free(tmp);
}

Test(plot, scripts_folder_from_option_or_environment_must_hold_common_gpi) {
  char *tmp = make_tmpdir(), *dir = copy_fixture("single", tmp, "out");
  char *missing = g_build_filename(tmp, "missing", NULL);
  char **env = g_environ_setenv(g_get_environ(), "DHTSIM_PLOTS_DIR", missing, TRUE);
  cli r = run_plot((const char *[]){dir, "--scripts", missing, NULL}, NULL);
  cr_assert(eq(int, r.status, 2));
  cr_assert(strstr(r.err, "--scripts") != NULL && strstr(r.err, "no common.gpi there") != NULL, "%s", r.err);
  cli_free(&r);
  r = run_plot((const char *[]){dir, NULL}, env);
  cr_assert(eq(int, r.status, 2));
  cr_assert(strstr(r.err, "$DHTSIM_PLOTS_DIR") != NULL, "%s", r.err);
  cli_free(&r);
  /* --scripts wins over the environment. */
  r = run_plot((const char *[]){dir, "--scripts", DHTSIM_SOURCE_DIR "/plots", "--format", "png", NULL}, env);
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  cli_free(&r);
  g_strfreev(env);
  g_free(missing);
  g_free(dir);
  rm_rf(tmp);
  g_free(tmp);
}

Test(plot, bad_outdir_exits_two) {
  char *tmp = make_tmpdir();
  char *missing = g_build_filename(tmp, "no-such-dir", NULL);
  char *empty = g_build_filename(tmp, "empty", NULL);
  char *old = g_build_filename(tmp, "old", NULL);
  char *file = g_build_filename(tmp, "file", NULL);
  char *p;
  cli r;
  cr_assert(g_mkdir(empty, 0755) == 0 && g_mkdir(old, 0755) == 0);
  write_file(file, "x\n");
  /* The single-run files of earlier versions: no point/replicas/_ci95 columns. */
  p = g_build_filename(old, "summary.csv", NULL);
  write_file(p, "scenario,seed,nodes,strategy,alpha,k,lookups,queries_mean\nbaseline,1,100,rounds,3,8,100,13.670000\n");
  g_free(p);
  p = g_build_filename(old, "lookups.csv", NULL);
  write_file(p, "id,start_node,target,start_ms,queries,rounds,time_ms,first_peer_ms,peers_found,accuracy\n");
  g_free(p);

  r = run_plot((const char *[]){missing, NULL}, NULL);
  cr_assert(eq(int, r.status, 2));
  cr_assert(strstr(r.err, "no such directory") != NULL, "%s", r.err);
  cr_assert(eq(str, r.out, ""));
  cli_free(&r);
  r = run_plot((const char *[]){file, NULL}, NULL);
  cr_assert(eq(int, r.status, 2));
  cr_assert(strstr(r.err, "not a directory") != NULL, "%s", r.err);
  cli_free(&r);
  r = run_plot((const char *[]){empty, NULL}, NULL);
  cr_assert(eq(int, r.status, 2));
  cr_assert(strstr(r.err, "summary.csv: No such file or directory") != NULL, "%s", r.err);
  cli_free(&r);
  r = run_plot((const char *[]){old, NULL}, NULL);
  cr_assert(eq(int, r.status, 2));
  cr_assert(strstr(r.err, "summary.csv: no column \"point\"") != NULL, "%s", r.err);
  cr_assert(eq(str, r.out, ""));
  cli_free(&r);
  g_free(missing);
  g_free(empty);
  g_free(old);
  g_free(file);
  rm_rf(tmp);
  g_free(tmp);
}

Test(plot, bad_usage_exits_two_with_usage) {
  const char *const *cases[] = {
      (const char *[]){NULL},
      (const char *[]){"--bogus", FIXTURES "/single", NULL},
      (const char *[]){FIXTURES "/single", "--format", "jpeg", NULL},
      (const char *[]){FIXTURES "/single", "--format", "png,gif", NULL},
      (const char *[]){FIXTURES "/single", "--format", NULL},
      (const char *[]){FIXTURES "/single", "--scripts", NULL},
      (const char *[]){FIXTURES "/single", FIXTURES "/sweep", NULL},
      (const char *[]){FIXTURES "/single", "--x", "lookup.alpha", NULL},
      (const char *[]){FIXTURES "/single", "--y", "queries_mean", NULL},
      (const char *[]){FIXTURES "/single", "--x", "lookup.alpha", "--y", "queries_mean", "--kind", "pie", NULL},
      (const char *[]){FIXTURES "/single", "--x", "lookup.alpha", "--y", "queries_mean", "--where", "lookup.k", NULL},
      (const char *[]){FIXTURES "/single", "--x", "lookup.alpha", "--y", "queries_mean", "--where", "lookup.alpha=3",
                       NULL},
      (const char *[]){FIXTURES "/single", "--x", "lookup.alpha", "--y", "queries_mean", "--group", "lookup.kk", NULL},
      (const char *[]){FIXTURES "/single", "--x", "lookup.alpha", "--y", "queries_mean", "--name", "../x", NULL},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    cli r = run_plot(cases[i], NULL);
    cr_assert(eq(int, r.status, 2), "case %zu", i);
    cr_assert(strstr(r.err, "Usage: dhtsim plot OUT") != NULL, "case %zu: %s", i, r.err);
    cr_assert(eq(str, r.out, ""));
    cli_free(&r);
  }
  {
    cli r = run_plot((const char *[]){"--help", NULL}, NULL);
    cr_assert(eq(int, r.status, 0));
    cr_assert(strstr(r.out, "Usage: dhtsim plot OUT") != NULL);
    cr_assert(strstr(r.out, "--format FMT") != NULL);
    cli_free(&r);
  }
}

/* A churn run with timed events: the timeline presets, over virtual time,
 * each event a dashed line with its action (two keys of one time in one label). */
Test(plot, timeline_presets_mark_the_events) {
  static const char *const names[] = {"lookup-time-cdf",   "rounds-histogram", "hops-histogram", "timeline-timeouts",
                                      "timeline-accuracy", "timeline-stale",   "timeline-online", NULL};
  char *tmp = make_tmpdir(), *dir = real_run(tmp, "tests/data/plot/churn-events.yaml");
  plot_presets(dir, names);
  char *gp_path = g_build_filename(dir, "plots", "timeline-stale.gp", NULL);
  char *gp = read_file(gp_path, NULL);
  cr_assert(strstr(gp, "set arrow from 150.000000, graph 0 to 150.000000, graph 1 nohead") != NULL, "%s", gp);
  cr_assert(strstr(gp, "set label 'fail_fraction 0.5' at 150.000000") != NULL, "%s", gp);
  cr_assert(strstr(gp, "set label 'loss.request_drop = 0.2; loss.response_drop = 0.1' at 200.000000") != NULL, "%s",
            gp);
  /* One sample per 60 s bin from 0: the first at 0 with nothing stale yet. */
  cr_assert(strstr(gp, "\n0.000000 0\n") != NULL, "%s", gp);
  cr_assert(strstr(gp, "\n60.000000 ") != NULL, "%s", gp);
  cr_assert(strstr(gp, "set xlabel 'virtual time (s), start of the bin'") != NULL);
  g_free(gp);
  g_free(gp_path);
  g_free(dir);
  rm_rf(tmp);
  g_free(tmp);
}

/* A run shorter than one bin (tests/data/events-fail.yaml: 40 s, 60 s bins):
 * a curve of one point says nothing over time, so the timeline presets are
 * skipped, with a line saying why and how to get them; with 5 s bins they are
 * drawn. */
Test(plot, timeline_presets_skip_a_run_of_one_bin) {
  char *tmp = make_tmpdir(), *dir = real_run(tmp, "tests/data/events-fail.yaml");
  cli r = run_plot((const char *[]){dir, "--format", "svg", NULL}, NULL);
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  cr_assert(strstr(r.err, "dhtsim: plot: timeline-timeouts skipped: timeline.csv has one bin per run (dhtsim run "
                          "--bin-s S with S below the run's virtual time)\n") != NULL,
            "%s", r.err);
  cr_assert(strstr(r.err, "timeline-accuracy skipped") != NULL, "%s", r.err);
  cr_assert(strstr(r.err, "Warning") == NULL, "%s", r.err);
  cr_assert(plot_exists(dir, "timeline-timeouts.svg") == false);
  cr_assert(plot_exists(dir, "lookup-time-cdf.svg"));
  cli_free(&r);
  char *dir5 = g_build_filename(tmp, "out5", NULL);
  r = run_prog(DHTSIM_SOURCE_DIR,
               (const char *[]){DHTSIM_BINARY, "run", "tests/data/events-fail.yaml", "--bin-s", "5", "--out", dir5, NULL},
               NULL);
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  cli_free(&r);
  r = run_plot((const char *[]){dir5, "--format", "svg", NULL}, NULL);
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  cr_assert(eq(str, r.err, ""));
  cr_assert(plot_exists(dir5, "timeline-timeouts.svg"));
  cli_free(&r);
  g_free(dir5);
  g_free(dir);
  rm_rf(tmp);
  g_free(tmp);
}
