/* test_cli_edges.c: the rough edges of the command found by trying it
 * (issue #10): --help of every command, -j2, grammatical counts, an aligned
 * sweep table, the shard and --resume reports, and an --out folder that
 * holds something else. */
#include <criterion/criterion.h>
#include "criterion_assert.h"
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "cli_helpers.h"

static char *tmp;

static void setup(void) { tmp = g_dir_make_tmp("dhtsim-edges-XXXXXX", NULL); }
static void teardown(void) {
  rm_rf(tmp);
  g_free(tmp);
}

static char *sub(const char *name) { return g_build_filename(tmp, name, NULL); }

static char *write_yaml(const char *name, const char *text) {
  char *p = sub(name);
  cr_assert(g_file_set_contents(p, text, -1, NULL));
  return p;
}

Test(edges, every_command_has_help_that_exits_zero) {
  static const char *const cmds[][3] = {{"run", "--help", "dhtsim run SCENARIO"},
                                        {"run", "-h", "--resume"},
                                        {"validate", "--help", "dhtsim validate SCENARIO"},
                                        {"keys", "--help", "dhtsim keys"},
                                        {"export-topology", "--help", "dhtsim export-topology SCENARIO FILE"},
                                        {"merge", "--help", "dhtsim merge --out DIR"},
                                        {"plot", "--help", "dhtsim plot"}};
  for (size_t i = 0; i < G_N_ELEMENTS(cmds); i++) {
    cli r = run_dhtsim((const char *[]){cmds[i][0], cmds[i][1], NULL});
    cr_assert(eq(int, r.status, 0), "%s %s: exit %d: %s", cmds[i][0], cmds[i][1], r.status, r.err);
    cr_assert(strstr(r.out, cmds[i][2]) != NULL, "%s %s: %s", cmds[i][0], cmds[i][1], r.out);
    cr_assert(eq(str, r.err, ""), "%s", cmds[i][0]);
    cli_free(&r);
  }
  /* After other arguments too. */
  cli r = run_dhtsim((const char *[]){"run", "scenarios/baseline.yaml", "--help", NULL});
  cr_assert(eq(int, r.status, 0));
  cr_assert(strstr(r.out, "Usage: dhtsim run") != NULL);
  cli_free(&r);
}

Test(edges, j2_is_j_2) {
  cli a = run_dhtsim((const char *[]){"run", "tests/data/sweep-small.yaml", "-j2", NULL});
  cli b = run_dhtsim((const char *[]){"run", "tests/data/sweep-small.yaml", "-j", "2", NULL});
  cr_assert(eq(int, a.status, 0), "%s", a.err);
  cr_assert(eq(str, a.out, b.out));
  cli_free(&a);
  cli_free(&b);
  a = run_dhtsim((const char *[]){"run", "tests/data/sweep-small.yaml", "-jx", NULL});
  cr_assert(eq(int, a.status, 2));
  cr_assert(strstr(a.err, "dhtsim: -j expects a number of threads from 1 to 1024, got 'x'") != NULL, "%s", a.err);
  cli_free(&a);
}

Test(edges, counts_are_grammatical, .init = setup, .fini = teardown) {
  char *one = write_yaml("one.yaml", "name: one\nnetwork: {nodes: 50}\nworkload: {lookups: 3}\n");
  char *two = write_yaml("two.yaml", "name: two\nnetwork: {nodes: 50}\nworkload: {lookups: 3}\nreplicas: 2\n");
  cli r = run_dhtsim((const char *[]){"run", one, "--dry-run", "-j", "1", NULL});
  cr_assert(strstr(r.out, ": 1 point x 1 replica\n") != NULL, "%s", r.out);
  cr_assert(strstr(r.out, "1 run on 1 thread;") != NULL, "%s", r.out);
  cli_free(&r);
  r = run_dhtsim((const char *[]){"validate", one, NULL});
  cr_assert(strstr(r.out, "ok (1 point x 1 replica)") != NULL, "%s", r.out);
  cli_free(&r);
  r = run_dhtsim((const char *[]){"run", two, NULL});
  cr_assert(strstr(r.out, ", 1 point x 2 replicas\n") != NULL, "%s", r.out);
  cli_free(&r);
  r = run_dhtsim((const char *[]){"run", two, "--dry-run", "-j", "2", NULL});
  cr_assert(strstr(r.out, "2 runs on 2 threads;") != NULL, "%s", r.out);
  cli_free(&r);
  g_free(one);
  g_free(two);
}

/* The column of each figure starts at the same offset on every row, header
 * included, however long the labels. */
Test(edges, sweep_table_stays_aligned_for_long_labels, .init = setup, .fini = teardown) {
  char *y = write_yaml("long.yaml", "name: long\nnetwork: {nodes: 50}\nworkload: {lookups: 3}\n"
                                    "sweep:\n  latency.slow_multiplier: [10, 200]\n  loss.request_drop: [0.125]\n"
                                    "  latency.slow_fraction: [0.0625]\n");
  cli r = run_dhtsim((const char *[]){"run", y, NULL});
  char **lines = g_strsplit(r.out, "\n", -1);
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  /* lines[2]: the header; lines[3], lines[4]: the points, labels over 45 bytes. */
  const char *h = strstr(lines[2], "queries");
  cr_assert(h != NULL);
  size_t end = (size_t)(h - lines[2]) + strlen("queries");
  for (int i = 3; i <= 4; i++) {
    cr_assert(strlen(lines[i]) > 45 + 20, "%s", lines[i]);
    /* the queries cell ends where the header's does, then a space */
    cr_assert(lines[i][end - 1] != ' ' && lines[i][end] == ' ', "row %d: %s\nheader: %s", i, lines[i], lines[2]);
    cr_assert(lines[i][end - 21] == ' ', "row %d: label runs into the queries cell: %s", i, lines[i]);
  }
  g_strfreev(lines);
  cli_free(&r);
  g_free(y);
}

Test(edges, shard_header_and_resume_say_how_many_points, .init = setup, .fini = teardown) {
  char *d = sub("out");
  cli r = run_dhtsim((const char *[]){"run", "tests/data/sweep-small.yaml", "--shard", "1/4", NULL});
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  cr_assert(strstr(r.out, "6 points x 3 replicas, this shard runs 2 of the points\n") != NULL, "%s", r.out);
  cli_free(&r);
  r = run_dhtsim((const char *[]){"run", "tests/data/sweep-small.yaml", "--out", d, NULL});
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  cr_assert(strstr(r.out, "this shard") == NULL);
  cli_free(&r);
  r = run_dhtsim((const char *[]){"run", "tests/data/sweep-small.yaml", "--out", d, "--resume", NULL});
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  cr_assert(strstr(r.err, "dhtsim: --resume: kept 6 finished points of ") != NULL, "%s", r.err);
  cr_assert(strstr(r.err, ", ran 0\n") != NULL, "%s", r.err);
  cli_free(&r);
  g_free(d);
}

static gint cmp_names(gconstpointer a, gconstpointer b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The names below dir, sorted, as one string. */
static char *listing(const char *dir) {
  GString *s = g_string_new(NULL);
  GDir *d = g_dir_open(dir, 0, NULL);
  GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
  const char *n;
  cr_assert(d != NULL);
  while ((n = g_dir_read_name(d)) != NULL)
    g_ptr_array_add(a, g_strdup(n));
  g_dir_close(d);
  g_ptr_array_sort(a, cmp_names);
  for (guint i = 0; i < a->len; i++)
    g_string_append_printf(s, "%s\n", (char *)g_ptr_array_index(a, i));
  g_ptr_array_free(a, TRUE);
  return g_string_free(s, FALSE);
}

Test(edges, out_into_a_foreign_folder_is_refused_unless_forced, .init = setup, .fini = teardown) {
  char *d = sub("home"), *f = g_build_filename(d, "thesis.tex", NULL), *before, *after;
  cr_assert(eq(int, g_mkdir(d, 0777), 0));
  cr_assert(g_file_set_contents(f, "do not lose me", -1, NULL));
  before = listing(d);
  cli r = run_dhtsim((const char *[]){"run", "tests/data/sweep-small.yaml", "--out", d, NULL});
  cr_assert(eq(int, r.status, 2), "%s", r.err);
  cr_assert(g_str_has_prefix(r.err, "dhtsim: "), "%s", r.err);
  cr_assert(strstr(r.err, "thesis.tex") != NULL, "%s", r.err);
  cr_assert(strstr(r.err, "--force") != NULL, "%s", r.err);
  cr_assert(eq(str, r.out, ""));
  after = listing(d);
  cr_assert(eq(str, after, before), "nothing in the folder is touched");
  cli_free(&r);
  g_free(after);

  /* An earlier output of the same scenario is written over, of another refused. */
  char *o = sub("out");
  r = run_dhtsim((const char *[]){"run", "tests/data/sweep-small.yaml", "--out", o, NULL});
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  cli_free(&r);
  r = run_dhtsim((const char *[]){"run", "tests/data/sweep-small.yaml", "--seed", "3", "--out", o, NULL});
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  cli_free(&r);
  r = run_dhtsim((const char *[]){"run", "tests/data/sweep-long.yaml", "--out", o, NULL});
  cr_assert(eq(int, r.status, 2), "%s", r.err);
  cr_assert(strstr(r.err, "holds the output of scenario 'sweep-small', not 'sweep-long'") != NULL, "%s", r.err);
  cli_free(&r);

  /* --force writes and leaves the other file alone. */
  r = run_dhtsim((const char *[]){"run", "tests/data/sweep-small.yaml", "--force", "--out", d, NULL});
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  char *kept = NULL;
  cr_assert(g_file_get_contents(f, &kept, NULL, NULL));
  cr_assert(eq(str, kept, "do not lose me"));
  char *sum = g_build_filename(d, "summary.csv", NULL);
  cr_assert(g_file_test(sum, G_FILE_TEST_EXISTS));
  cli_free(&r);
  g_free(sum);
  g_free(kept);
  g_free(o);
  g_free(before);
  g_free(f);
  g_free(d);
}
