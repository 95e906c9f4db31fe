/* test_plot.c: `dhtsim plot` as a user runs it: every shipped plot is drawn
 * (PNG and SVG) from the fixture outputs of tests/data/plot/ (written per
 * docs/output-format.md), with the scenario, seed and legend in the picture;
 * the scripts work by hand with gnuplot; exit statuses and messages for a
 * missing gnuplot, a failing or skipping script, bad OUTDIRs and bad usage. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/wait.h>

#define FIXTURES DHTSIM_SOURCE_DIR "/tests/data/plot"

typedef struct cli {
  char *out, *err;
  int status; /* exit code, or -1 if killed by a signal */
} cli;

/* The shipped scripts, in the order dhtsim runs them (file name order). */
static const char *const plot_names[] = {
    "heatmap-queries", "heatmap-time", "lookup-time-cdf", "queries-vs-n", "rounds-histogram", "success-accuracy-vs-drop",
};
enum { N_PLOTS = G_N_ELEMENTS(plot_names) };

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

static bool exists(const char *dir, const char *name) {
  char *p = g_build_filename(dir, name, NULL);
  bool e = g_file_test(p, G_FILE_TEST_EXISTS);
  g_free(p);
  return e;
}

/* A real PNG (signature, IHDR) of a real picture (not a blank canvas). */
static void assert_png(const char *dir, const char *name) {
  static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  char *file = g_strdup_printf("%s.png", name);
  char *path = g_build_filename(dir, file, NULL);
  gsize len;
  char *data = read_file(path, &len);
  cr_assert(len > 5000, "%s: only %zu bytes", path, (size_t)len);
  cr_assert(memcmp(data, sig, sizeof sig) == 0, "%s: no PNG signature", path);
  cr_assert(memcmp(data + 12, "IHDR", 4) == 0, "%s: no IHDR chunk", path);
  g_free(data);
  g_free(path);
  g_free(file);
}

/* The SVG's text (checked to be a whole SVG document); g_free it. */
static char *read_svg(const char *dir, const char *name) {
  char *file = g_strdup_printf("%s.svg", name);
  char *path = g_build_filename(dir, file, NULL);
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

/* The stdout of a successful plot run: one path per file, scripts in order, png then svg. */
static char *expected_listing(const char *dir, bool png, bool svg) {
  GString *s = g_string_new(NULL);
  for (size_t i = 0; i < N_PLOTS; i++) {
    if (png)
      g_string_append_printf(s, "%s/%s.png\n", dir, plot_names[i]);
    if (svg)
      g_string_append_printf(s, "%s/%s.svg\n", dir, plot_names[i]);
  }
  return g_string_free(s, FALSE);
}

/* Plots fixture `name` in both formats; checks every file and that gnuplot was
 * silent (no warnings), and that every title names the scenario and seed.
 * Returns the output directory (inside *tmp, to be removed by the caller). */
static char *plot_fixture(const char *name, const char *title, char **tmp) {
  char *dir, *want;
  cli r;
  *tmp = make_tmpdir();
  dir = copy_fixture(name, *tmp, name);
  r = run_plot((const char *[]){dir, NULL}, NULL);
  cr_assert(eq(int, r.status, 0), "%s: exit %d: %s", name, r.status, r.err);
  cr_assert(eq(str, r.err, ""), "%s: stderr: %s", name, r.err);
  want = expected_listing(dir, true, true);
  cr_assert(eq(str, r.out, want));
  for (size_t i = 0; i < N_PLOTS; i++) {
    assert_png(dir, plot_names[i]);
    assert_svg_has(dir, plot_names[i], title);
  }
  g_free(want);
  cli_free(&r);
  return dir;
}

Test(plot, sweep_fixture_every_plot_with_titles_and_legends) {
  char *tmp, *dir = plot_fixture("sweep", "scenario alpha-k-sweep, seed 7", &tmp);
  /* One line per (α, K), the reference curve, N tics. */
  assert_svg_has(dir, "queries-vs-n", "α = 1, K = 4");
  assert_svg_has(dir, "queries-vs-n", "α = 3, K = 8");
  /* workload.plant_at varies with K (its default): it follows from K, so no legend names it. */
  assert_svg_lacks(dir, "queries-vs-n", "plant_at");
  assert_svg_lacks(dir, "heatmap-queries", "plant_at");
  assert_svg_has(dir, "queries-vs-n", "log₂ N (reference)");
  assert_svg_has(dir, "queries-vs-n", "network size N (nodes, log scale)");
  assert_svg_has(dir, "queries-vs-n", "2 replicas per point, mean ± 95 % CI");
  /* One panel per N, cells labelled with their values (α 1, K 8, N 50: 8.600000). */
  assert_svg_has(dir, "heatmap-queries", "N = 1000");
  assert_svg_has(dir, "heatmap-queries", "8.60");
  assert_svg_has(dir, "heatmap-queries", "get_peers queries per lookup (mean)");
  assert_svg_has(dir, "heatmap-time", " ms");
  assert_svg_has(dir, "heatmap-time", "lookup time to converge (ms, mean)");
  /* One curve / bar series per α, with the lookup counts; pooled over N and K. */
  assert_svg_has(dir, "lookup-time-cdf", "α = 1 (240 lookups)");
  assert_svg_has(dir, "lookup-time-cdf", "pooled over K, N and replicas");
  assert_svg_has(dir, "rounds-histogram", "α = 3 (240 lookups)");
  assert_svg_has(dir, "success-accuracy-vs-drop", "success rate (solid, filled marks)");
  g_free(dir);
  rm_rf(tmp);
  g_free(tmp);
}

Test(plot, drop_fixture_quoted_scenario_and_strategies) {
  /* The scenario name holds a comma: summary.csv quotes it. */
  char *tmp, *dir = plot_fixture("drop", "scenario loss, strategies, seed 3", &tmp);
  assert_svg_has(dir, "success-accuracy-vs-drop", "rounds");
  assert_svg_has(dir, "success-accuracy-vs-drop", "pipelined");
  assert_svg_has(dir, "success-accuracy-vs-drop", "accuracy (dashed, open squares)");
  assert_svg_has(dir, "success-accuracy-vs-drop", "request drop probability (loss.request_drop)");
  assert_svg_has(dir, "success-accuracy-vs-drop", " 0.3</text>");
  assert_svg_has(dir, "rounds-histogram", "pipelined (160 lookups)");
  assert_svg_has(dir, "lookup-time-cdf", "rounds (160 lookups)");
  assert_svg_has(dir, "heatmap-time", "request drop 0.3, pipelined");
  g_free(dir);
  rm_rf(tmp);
  g_free(tmp);
}

Test(plot, single_point_one_replica_no_peers_still_plots) {
  char *tmp, *dir = plot_fixture("single", "scenario baseline, seed 1", &tmp);
  assert_svg_has(dir, "queries-vs-n", "1 replica, no CI");
  assert_svg_has(dir, "queries-vs-n", "α = 3, K = 8");
  assert_svg_has(dir, "success-accuracy-vs-drop", "no planted peers: no success rate");
  assert_svg_has(dir, "lookup-time-cdf", "α = 3 (30 lookups)");
  g_free(dir);
  rm_rf(tmp);
  g_free(tmp);
}

Test(plot, format_png_or_svg_only) {
  char *tmp = make_tmpdir();
  char *dir = copy_fixture("single", tmp, "out");
  char *want = expected_listing(dir, true, false);
  cli r = run_plot((const char *[]){"--format", "png", dir, NULL}, NULL);
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  cr_assert(eq(str, r.out, want));
  for (size_t i = 0; i < N_PLOTS; i++) {
    char *svg = g_strdup_printf("%s.svg", plot_names[i]);
    assert_png(dir, plot_names[i]);
    cr_assert(exists(dir, svg) == false);
    g_free(svg);
  }
  cli_free(&r);
  g_free(want);
  want = expected_listing(dir, false, true);
  r = run_plot((const char *[]){dir, "--format", "svg", NULL}, NULL);
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  cr_assert(eq(str, r.out, want));
  cli_free(&r);
  g_free(want);
  g_free(dir);
  rm_rf(tmp);
  g_free(tmp);
}

/* Paths with a space and a quote reach gnuplot and the awk pipes intact. */
Test(plot, outdir_with_space_and_quote) {
  char *tmp = make_tmpdir();
  char *dir = copy_fixture("sweep", tmp, "it's a dir");
  cli r = run_plot((const char *[]){dir, "--format", "png", NULL}, NULL);
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  cr_assert(eq(str, r.err, ""));
  for (size_t i = 0; i < N_PLOTS; i++)
    assert_png(dir, plot_names[i]);
  cli_free(&r);
  g_free(dir);
  rm_rf(tmp);
  g_free(tmp);
}

/* The scripts work by hand: gnuplot -e "dir='OUT'; term='svg'" plots/NAME.gp, from anywhere. */
Test(plot, scripts_run_by_hand_with_gnuplot) {
  char *tmp = make_tmpdir();
  char *dir = copy_fixture("sweep", tmp, "out");
  for (size_t i = 0; i < N_PLOTS; i++) {
    for (int f = 0; f < 2; f++) {
      const char *term = f == 0 ? "png" : "svg";
      char *setup = g_strdup_printf("dir='%s'; term='%s'", dir, term);
      char *script = g_strdup_printf("%s/plots/%s.gp", DHTSIM_SOURCE_DIR, plot_names[i]);
      char *gnuplot = g_find_program_in_path("gnuplot");
      cli r;
      cr_assert(gnuplot != NULL, "gnuplot not in PATH");
      r = run_prog(tmp, (const char *[]){gnuplot, "-e", setup, script, NULL}, NULL);
      cr_assert(eq(int, r.status, 0), "%s: %s", script, r.err);
      cr_assert(eq(str, r.err, ""), "%s: %s", script, r.err);
      if (f == 0)
        assert_png(dir, plot_names[i]);
      else
        g_free(read_svg(dir, plot_names[i]));
      cli_free(&r);
      g_free(gnuplot);
      g_free(script);
      g_free(setup);
    }
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
  cr_assert(eq(str, r.err, "dhtsim plot: gnuplot not found in PATH (Debian: apt-get install gnuplot-nox)\n"));
  cr_assert(eq(str, r.out, ""));
  for (size_t i = 0; i < N_PLOTS; i++) {
    char *png = g_strdup_printf("%s.png", plot_names[i]);
    cr_assert(exists(dir, png) == false);
    g_free(png);
  }
  cli_free(&r);
  g_strfreev(env);
  g_free(empty);
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
      (const char *[]){FIXTURES "/single", "--format", "pdf", NULL},
      (const char *[]){FIXTURES "/single", "--format", NULL},
      (const char *[]){FIXTURES "/single", "--scripts", NULL},
      (const char *[]){FIXTURES "/single", FIXTURES "/sweep", NULL},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    cli r = run_plot(cases[i], NULL);
    cr_assert(eq(int, r.status, 2), "case %zu", i);
    cr_assert(strstr(r.err, "Usage: dhtsim plot OUTDIR") != NULL, "case %zu: %s", i, r.err);
    cr_assert(eq(str, r.out, ""));
    cli_free(&r);
  }
  {
    cli r = run_plot((const char *[]){"--help", NULL}, NULL);
    cr_assert(eq(int, r.status, 0));
    cr_assert(strstr(r.out, "Usage: dhtsim plot OUTDIR") != NULL);
    cli_free(&r);
  }
}

/* A script of our own: draws y = x in the requested format. */
static const char good_script[] = "eval 'set terminal '.term\nset output out\nplot x title 'x'\n";

Test(plot, failing_script_exit_one_with_gnuplot_stderr) {
  char *tmp = make_tmpdir();
  char *dir = copy_fixture("single", tmp, "out");
  char *scripts = g_build_filename(tmp, "scripts", NULL);
  char *p;
  cli r;
  cr_assert(g_mkdir(scripts, 0755) == 0);
  p = g_build_filename(scripts, "a-good.gp", NULL);
  write_file(p, good_script);
  g_free(p);
  p = g_build_filename(scripts, "b-bad.gp", NULL);
  write_file(p, "eval 'set terminal '.term\nset output out\nplot no_such_function(x)\n");
  g_free(p);

  r = run_plot((const char *[]){dir, "--scripts", scripts, "--format", "png", NULL}, NULL);
  cr_assert(eq(int, r.status, 1));
  cr_assert(strstr(r.err, "dhtsim plot: gnuplot failed on") != NULL, "%s", r.err);
  cr_assert(strstr(r.err, "b-bad.gp") != NULL, "%s", r.err);
  cr_assert(strstr(r.err, "undefined function: no_such_function") != NULL, "%s", r.err);
  /* The other script's plot is written; nothing is left of the failed one. */
  p = g_strdup_printf("%s/a-good.png\n", dir);
  cr_assert(eq(str, r.out, p));
  g_free(p);
  cr_assert(exists(dir, "a-good.png"));
  cr_assert(exists(dir, "b-bad.png") == false);
  cr_assert(exists(dir, "b-bad.png.tmp") == false);
  cli_free(&r);
  g_free(scripts);
  g_free(dir);
  rm_rf(tmp);
  g_free(tmp);
}

Test(plot, scripts_dir_from_option_then_environment) {
  char *tmp = make_tmpdir();
  char *dir = copy_fixture("single", tmp, "out");
  char *env_scripts = g_build_filename(tmp, "env-scripts", NULL);
  char *opt_scripts = g_build_filename(tmp, "opt-scripts", NULL);
  char *missing = g_build_filename(tmp, "missing", NULL);
  char **env = g_environ_setenv(g_get_environ(), "DHTSIM_PLOTS_DIR", env_scripts, TRUE);
  char *p, *want;
  cli r;
  cr_assert(g_mkdir(env_scripts, 0755) == 0 && g_mkdir(opt_scripts, 0755) == 0);
  p = g_build_filename(env_scripts, "from-env.gp", NULL);
  write_file(p, good_script);
  g_free(p);
  p = g_build_filename(opt_scripts, "from-option.gp", NULL);
  write_file(p, good_script);
  g_free(p);

  r = run_plot((const char *[]){dir, NULL}, env);
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  want = g_strdup_printf("%s/from-env.png\n%s/from-env.svg\n", dir, dir);
  cr_assert(eq(str, r.out, want));
  g_free(want);
  cli_free(&r);

  r = run_plot((const char *[]){dir, "--scripts", opt_scripts, "--format", "svg", NULL}, env);
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  want = g_strdup_printf("%s/from-option.svg\n", dir);
  cr_assert(eq(str, r.out, want));
  g_free(want);
  cli_free(&r);

  /* A scripts folder that does not exist, or holds no *.gp: bad usage. */
  r = run_plot((const char *[]){dir, "--scripts", missing, NULL}, env);
  cr_assert(eq(int, r.status, 2));
  cr_assert(strstr(r.err, "--scripts") != NULL, "%s", r.err);
  cli_free(&r);
  r = run_plot((const char *[]){dir, "--scripts", dir, NULL}, env);
  cr_assert(eq(int, r.status, 2));
  cr_assert(strstr(r.err, "no *.gp plot scripts") != NULL, "%s", r.err);
  cli_free(&r);
  g_strfreev(env);
  env = g_environ_setenv(g_get_environ(), "DHTSIM_PLOTS_DIR", missing, TRUE);
  r = run_plot((const char *[]){dir, NULL}, env);
  cr_assert(eq(int, r.status, 2));
  cr_assert(strstr(r.err, "$DHTSIM_PLOTS_DIR") != NULL, "%s", r.err);
  cli_free(&r);

  g_strfreev(env);
  g_free(missing);
  g_free(opt_scripts);
  g_free(env_scripts);
  g_free(dir);
  rm_rf(tmp);
  g_free(tmp);
}

/* Header-only files: every shipped script skips with a note, exit 0, no files. */
Test(plot, no_data_rows_skips_with_notes) {
  char *tmp = make_tmpdir();
  char *dir = copy_fixture("single", tmp, "out");
  static const char *const files[] = {"summary.csv", "lookups.csv"};
  cli r;
  for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
    char *p = g_build_filename(dir, files[i], NULL);
    char *text = read_file(p, NULL);
    *strchr(text, '\n') = '\0';
    char *header = g_strconcat(text, "\n", NULL);
    write_file(p, header);
    g_free(header);
    g_free(text);
    g_free(p);
  }
  r = run_plot((const char *[]){dir, "--format", "png", NULL}, NULL);
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  cr_assert(eq(str, r.out, ""));
  for (size_t i = 0; i < N_PLOTS; i++) {
    char *note = g_strdup_printf("%s: skipped: ", plot_names[i]);
    char *png = g_strdup_printf("%s.png", plot_names[i]);
    cr_assert(strstr(r.err, note) != NULL, "%s", r.err);
    cr_assert(exists(dir, png) == false);
    cr_assert(exists(dir, "queries-vs-n.png.tmp") == false);
    g_free(png);
    g_free(note);
  }
  cli_free(&r);
  g_free(dir);
  rm_rf(tmp);
  g_free(tmp);
}

/* The real format from dhtsim itself, without a sweep: one point, one replica. */
Test(plot, real_single_point_run_every_plot) {
  char *tmp = make_tmpdir();
  char *dir = g_build_filename(tmp, "out", NULL);
  char *want;
  cli r = run_prog(DHTSIM_SOURCE_DIR,
                   (const char *[]){DHTSIM_BINARY, "run", "scenarios/baseline.yaml", "--lookups", "40", "--out", dir, NULL},
                   NULL);
  cr_assert(eq(int, r.status, 0), "dhtsim run: %s", r.err);
  cli_free(&r);
  r = run_plot((const char *[]){dir, NULL}, NULL);
  cr_assert(eq(int, r.status, 0), "exit %d: %s", r.status, r.err);
  cr_assert(eq(str, r.err, ""));
  want = expected_listing(dir, true, true);
  cr_assert(eq(str, r.out, want));
  for (size_t i = 0; i < N_PLOTS; i++) {
    assert_png(dir, plot_names[i]);
    assert_svg_has(dir, plot_names[i], "scenario baseline, seed 1");
  }
  assert_svg_has(dir, "queries-vs-n", "1 replica, no CI");
  assert_svg_has(dir, "lookup-time-cdf", "α = 3 (40 lookups)");
  cli_free(&r);
  g_free(want);
  g_free(dir);
  rm_rf(tmp);
  g_free(tmp);
}

/* The real format: a small sweep run by dhtsim itself (α × K × N × drop,
 * 2 replicas, tests/data/plot/small-sweep.yaml), then plotted. */
Test(plot, real_small_sweep_run_every_plot) {
  char *tmp = make_tmpdir();
  char *dir = g_build_filename(tmp, "out", NULL);
  char *want;
  cli r = run_prog(DHTSIM_SOURCE_DIR,
                   (const char *[]){DHTSIM_BINARY, "run", "tests/data/plot/small-sweep.yaml", "--out", dir, NULL}, NULL);
  cr_assert(eq(int, r.status, 0), "dhtsim run: %s", r.err);
  cli_free(&r);
  r = run_plot((const char *[]){dir, NULL}, NULL);
  cr_assert(eq(int, r.status, 0), "exit %d: %s", r.status, r.err);
  cr_assert(eq(str, r.err, ""));
  want = expected_listing(dir, true, true);
  cr_assert(eq(str, r.out, want));
  for (size_t i = 0; i < N_PLOTS; i++) {
    assert_png(dir, plot_names[i]);
    assert_svg_has(dir, plot_names[i], "scenario small-sweep, seed 11");
  }
  assert_svg_has(dir, "queries-vs-n", "request drop 0.2, α = 3, K = 8");
  assert_svg_has(dir, "queries-vs-n", "2 replicas per point, mean ± 95 % CI");
  assert_svg_has(dir, "heatmap-queries", "N = 200, request drop 0.2");
  assert_svg_has(dir, "heatmap-time", "N = 50, request drop 0");
  assert_svg_has(dir, "lookup-time-cdf", "α = 1 (320 lookups)");
  assert_svg_has(dir, "lookup-time-cdf", "pooled over K, N, request drop and replicas");
  assert_svg_has(dir, "rounds-histogram", "α = 3 (320 lookups)");
  assert_svg_has(dir, "success-accuracy-vs-drop", "N = 200, α = 3, K = 8");
  assert_svg_has(dir, "success-accuracy-vs-drop", " 0.2</text>");
  cli_free(&r);
  g_free(want);
  g_free(dir);
  rm_rf(tmp);
  g_free(tmp);
}
