/* test_regression.c: determinism regression test. Runs three fixed small
 * scenarios through the dhtsim binary with --out and compares stdout,
 * summary.csv, summary.json, runs.csv and lookups.csv byte for byte with the
 * files checked in under tests/expected/<name>/:
 *
 *   regression            tests/data/regression.yaml: 3,000 nodes, full tables,
 *                         log-normal latency, 10 % loss, 5 % dead, 300 lookups
 *   regression-pipelined  tests/data/regression-pipelined.yaml: pipelined,
 *                         random tables, Poisson arrivals, uniform latency with
 *                         slow nodes, 300 lookups
 *   regression-sweep      tests/data/regression-sweep.yaml: alpha x K = 2 x 2
 *                         points, 2 replicas, run on 2 threads
 *
 * The expected files were generated once, from the code before the
 * performance work of the "performance at scale" issue, and every change
 * meant to be behaviour-neutral (optimisations, refactoring) must keep this
 * test green without touching them.
 *
 * Regenerating them is a deliberate BEHAVIOUR CHANGE: do it only when the
 * simulated results are meant to change (a model fix, a new random draw, a
 * new output column), and justify it in the commit message (what changed,
 * why, and that the new figures were checked). To regenerate:
 *
 *   cmake --build build --target dhtsim test_regression
 *   DHTSIM_REGENERATE_EXPECTED=1 ./build/tests/test_regression
 *   git diff --stat tests/expected/      # review, then commit with the reason
 *
 * Before committing regenerated files, check that only what was meant to
 * change did: for a change of columns only (the v1 -> v2 renames of
 * figure.def and param.def), tests/expected/compare-v1-v2.py OLD NEW
 * compares every figure column value for value, byte for byte.
 *
 * (equivalently, by hand, from the source directory, for each NAME:
 *  ./build/sim/dhtsim run tests/data/NAME.yaml -j 2 --out /tmp/NAME \
 *      > tests/expected/NAME/stdout
 *  and copy the four files of /tmp/NAME into tests/expected/NAME/). */
#include <criterion/criterion.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/wait.h>

#include "cli_helpers.h"

static const char *const files[] = {"summary.csv", "summary.json", "runs.csv", "lookups.csv"};

/* 1-based line of the first difference, and a short excerpt of each side. */
static void first_difference(const char *want, gsize wn, const char *got, gsize gn, char *msg, size_t msglen) {
  gsize i = 0, line = 1, bol = 0;
  while (i < wn && i < gn && want[i] == got[i]) {
    if (want[i] == '\n') {
      line++;
      bol = i + 1;
    }
    i++;
  }
  {
    const char *we = memchr(want + bol, '\n', wn - bol), *ge = memchr(got + bol, '\n', gn - bol);
    int wl = (int)((we ? (gsize)(we - want) : wn) - bol), gl = (int)((ge ? (gsize)(ge - got) : gn) - bol);
    snprintf(msg, msglen, "first difference on line %zu (sizes: expected %zu, got %zu)\n  expected: %.*s\n  got:      %.*s",
             (size_t)line, (size_t)wn, (size_t)gn, wl > 300 ? 300 : wl, want + bol, gl > 300 ? 300 : gl, got + bol);
  }
}

static void write_or_compare(const char *name, const char *file, const char *got, gsize gn, bool regen) {
  char *path = g_build_filename(DHTSIM_SOURCE_DIR, "tests", "expected", name, file, NULL);
  char *want = NULL;
  gsize wn = 0;
  GError *e = NULL;
  if (regen) {
    char *dir = g_path_get_dirname(path);
    cr_assert(g_mkdir_with_parents(dir, 0755) == 0, "cannot create %s", dir);
    cr_assert(g_file_set_contents(path, got, (gssize)gn, &e), "cannot write %s: %s", path, e ? e->message : "?");
    g_free(dir);
  } else {
    cr_assert(g_file_get_contents(path, &want, &wn, &e), "cannot read %s: %s", path, e ? e->message : "?");
    if (wn != gn || memcmp(want, got, gn) != 0) {
      char msg[1024];
      first_difference(want, wn, got, gn, msg, sizeof msg);
      cr_assert_fail("%s/%s differs from the checked-in file (a behaviour change? see the comment at the top of "
                     "tests/test_regression.c)\n%s",
                     name, file, msg);
    }
    g_free(want);
  }
  g_free(path);
}

/* Runs `dhtsim run tests/data/<name>.yaml -j 2 --out TMP` from the source
 * directory and checks stdout and the four output files. */
static void check_scenario(const char *name) {
  char *tmp = g_dir_make_tmp("dhtsim-regression-XXXXXX", NULL);
  char *out = g_build_filename(tmp, "out", NULL);
  char *scenario = g_strdup_printf("tests/data/%s.yaml", name);
  const char *argv[] = {DHTSIM_BINARY, "run", scenario, "-j", "2", "--out", out, NULL};
  const char *env = g_getenv("DHTSIM_REGENERATE_EXPECTED");
  bool regen = env != NULL && strcmp(env, "1") == 0;
  char *sout = NULL, *serr = NULL;
  int ws = 0;
  GError *e = NULL;

  cr_assert(tmp != NULL, "cannot create a temporary folder");
  cr_assert(g_spawn_sync(DHTSIM_SOURCE_DIR, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &sout, &serr, &ws, &e),
            "spawn %s: %s", DHTSIM_BINARY, e ? e->message : "?");
  cr_assert(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "dhtsim run %s failed (status %d): %s", scenario, ws, serr);
  write_or_compare(name, "stdout", sout, strlen(sout), regen);
  for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
    char *p = g_build_filename(out, files[i], NULL), *got = NULL;
    gsize gn = 0;
    cr_assert(g_file_get_contents(p, &got, &gn, NULL), "dhtsim wrote no %s", p);
    write_or_compare(name, files[i], got, gn, regen);
    g_free(got);
    g_free(p);
  }
  rm_rf(tmp);
  g_free(sout);
  g_free(serr);
  g_free(scenario);
  g_free(out);
  g_free(tmp);
}

Test(regression, full_tables_lognormal_loss_dead) { check_scenario("regression"); }

Test(regression, pipelined_random_tables_poisson) { check_scenario("regression-pipelined"); }

Test(regression, tiny_sweep_two_replicas) { check_scenario("regression-sweep"); }
