/* test_cli.c: the dhtsim command as a user runs it: exit codes, messages,
 * byte-identical outputs, the bad-scenario corpus. */
#include <criterion/criterion.h>
#include "criterion_assert.h"
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/wait.h>

#include "cli_helpers.h"
#include "param.h"

Test(cli, help_and_version_exit_zero) {
  cli r = run_dhtsim((const char *[]){"--help", NULL});
  cr_assert(eq(int, r.status, 0));
  cr_assert(strstr(r.out, "dhtsim run SCENARIO") != NULL);
  cr_assert(strstr(r.out, "--format") != NULL);
  cli_free(&r);
  r = run_dhtsim((const char *[]){"--version", NULL});
  cr_assert(eq(int, r.status, 0));
  cr_assert(eq(str, r.out, "dhtsim 0.1.0\n"));
  cli_free(&r);
}

Test(cli, bad_usage_exits_two_with_usage) {
  const char *const *cases[] = {
      (const char *[]){NULL},
      (const char *[]){"frobnicate", NULL},
      (const char *[]){"run", NULL},
      (const char *[]){"run", "scenarios/baseline.yaml", "--format", "xml", NULL},
      (const char *[]){"run", "scenarios/baseline.yaml", "--seed", "-1", NULL},
      (const char *[]){"run", "scenarios/baseline.yaml", "--lookups", "0", NULL},
      (const char *[]){"run", "scenarios/baseline.yaml", "--bogus", NULL},
      (const char *[]){"validate", NULL},
      (const char *[]){"export-topology", "scenarios/baseline.yaml", NULL},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    cli r = run_dhtsim(cases[i]);
    cr_assert(eq(int, r.status, 2), "case %zu", i);
    cr_assert(strstr(r.err, "Usage:") != NULL, "case %zu: %s", i, r.err);
    cr_assert(eq(str, r.out, ""));
    cli_free(&r);
  }
}

Test(cli, missing_scenario_names_the_file) {
  cli r = run_dhtsim((const char *[]){"run", "no/such/file.yaml", NULL});
  cr_assert(eq(int, r.status, 2));
  cr_assert(eq(str, r.err, "dhtsim: no/such/file.yaml: cannot open: No such file or directory\n"));
  cli_free(&r);
}

/* Every file of the bad-scenario corpus: its exact message on stderr, exit 2, nothing on stdout. */
Test(cli, bad_scenario_corpus_exact_messages) {
  const char *dir_path = DHTSIM_SOURCE_DIR "/tests/scenarios/bad";
  GDir *dir = g_dir_open(dir_path, 0, NULL);
  GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
  const char *name;
  cr_assert(dir != NULL);
  while ((name = g_dir_read_name(dir)) != NULL)
    if (g_str_has_suffix(name, ".yaml"))
      g_ptr_array_add(names, g_strdup(name));
  g_dir_close(dir);
  /* Directory order is file-system order: sort for a stable report. */
  g_ptr_array_sort(names, (GCompareFunc)g_strcmp0);
  cr_assert(ge(u64, names->len, 15));
  for (guint i = 0; i < names->len; i++) {
    const char *yaml = g_ptr_array_index(names, i);
    char *base = g_strndup(yaml, strlen(yaml) - 5);
    char *rel = g_strdup_printf("tests/scenarios/bad/%s", yaml);
    char *exp_path = g_strdup_printf("%s/%s.expected", dir_path, base);
    char *expected = NULL;
    cli r;
    cr_assert(g_file_get_contents(exp_path, &expected, NULL, NULL), "missing %s", exp_path);
    /* Line 1 is the message; line 2 names the error code (checked by test_scenario). */
    if (strchr(expected, '\n') != NULL)
      *strchr(expected, '\n') = '\0';
    r = run_dhtsim((const char *[]){"validate", rel, NULL});
    cr_assert(eq(int, r.status, 2), "%s: exit %d", yaml, r.status);
    g_strchomp(r.err);
    /* Every error line starts with "dhtsim: ", then the library's message. */
    cr_assert(g_str_has_prefix(r.err, "dhtsim: "), "%s: %s", yaml, r.err);
    cr_assert(eq(str, r.err + strlen("dhtsim: "), expected), "%s", yaml);
    cr_assert(eq(str, r.out, ""));
    cli_free(&r);
    r = run_dhtsim((const char *[]){"run", rel, NULL});
    cr_assert(eq(int, r.status, 2), "%s (run): exit %d", yaml, r.status);
    cli_free(&r);
    g_free(expected);
    g_free(exp_path);
    g_free(rel);
    g_free(base);
  }
  g_ptr_array_unref(names);
}

Test(cli, same_scenario_and_seed_give_byte_identical_outputs) {
  char *tmp = g_dir_make_tmp("dhtsim-cli-XXXXXX", NULL);
  char *d1 = g_build_filename(tmp, "a", NULL), *d2 = g_build_filename(tmp, "b", NULL),
       *d3 = g_build_filename(tmp, "c", NULL);
  const char *files[] = {"summary.json", "summary.csv", "runs.csv", "lookups.csv"};
  cli r1 = run_dhtsim((const char *[]){"run", "scenarios/lossy.yaml", "--lookups", "200", "--out", d1, NULL});
  cli r2 = run_dhtsim((const char *[]){"run", "scenarios/lossy.yaml", "--lookups", "200", "--out", d2, NULL});
  cli r3 = run_dhtsim(
      (const char *[]){"run", "scenarios/lossy.yaml", "--lookups", "200", "--seed", "99", "--out", d3, NULL});
  cr_assert(eq(int, r1.status, 0), "%s", r1.err);
  cr_assert(eq(int, r2.status, 0));
  cr_assert(eq(int, r3.status, 0));
  cr_assert(eq(str, r1.out, r2.out));
  cr_assert(ne(str, r1.out, r3.out));
  cr_assert(strstr(r1.out, "queries") != NULL);
  for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
    char *a = slurp(d1, files[i]), *b = slurp(d2, files[i]), *c = slurp(d3, files[i]);
    cr_assert(eq(str, a, b), "%s differs between identical runs", files[i]);
    cr_assert(ne(str, a, c), "%s identical for a different seed", files[i]);
    g_free(a);
    g_free(b);
    g_free(c);
  }
  {
    char *lookups = slurp(d1, "lookups.csv");
    char **lines = g_strsplit(lookups, "\n", -1);
    /* header + 200 rows + the empty string after the final newline */
    cr_assert(eq(u32, g_strv_length(lines), 202));
    /* No sweep: no parameter columns, only the lookup's own. */
    cr_assert(eq(str, lines[0],
                 "point,replica,id,start_node,target,start_ms,queries,rounds,hops,result_ms,time_ms,first_peer_ms,peers_found,"
                 "timeouts,accuracy"));
    g_strfreev(lines);
    g_free(lookups);
  }
  cli_free(&r1);
  cli_free(&r2);
  cli_free(&r3);
  rm_rf(d1);
  rm_rf(d2);
  rm_rf(d3);
  g_rmdir(tmp);
  g_free(d1);
  g_free(d2);
  g_free(d3);
  g_free(tmp);
}

Test(cli, formats_csv_and_json) {
  cli r = run_dhtsim((const char *[]){"run", "scenarios/baseline.yaml", "--lookups", "20", "--format", "csv", NULL});
  char **lines;
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  lines = g_strsplit(r.out, "\n", -1);
  cr_assert(eq(u32, g_strv_length(lines), 3));
  /* Every parameter of the table, named by its key, in table order, whether
   * swept or not, but the quiet ones the scenario leaves alone (param.h);
   * workload.lookups is the real count (--lookups). */
  GString *want = g_string_new("point,label");
  for (int i = 0; i < SIM_PARAM_COUNT; i++)
    if (!(sim_params[i].flags & SIM_PARAM_QUIET))
      g_string_append_printf(want, ",%s", sim_params[i].key);
  g_string_append(want, ",queries_mean,queries_mean_ci95,");
  cr_assert(g_str_has_prefix(lines[0], want->str), "%s\nwanted %s", lines[0], want->str);
  g_string_free(want, TRUE);
  cr_assert(g_str_has_prefix(lines[1], "0,,baseline,1,100,random,,constant,50,"), "%s", lines[1]);
  cr_assert(strstr(lines[1], ",rounds,3,8,2000,") != NULL, "%s", lines[1]);
  cr_assert(strstr(lines[1], ",20,5,8,false,sequential,10,,1,") != NULL, "%s", lines[1]);
  g_strfreev(lines);
  cli_free(&r);
  r = run_dhtsim((const char *[]){"run", "scenarios/baseline.yaml", "--lookups", "20", "--format=json", NULL});
  cr_assert(eq(int, r.status, 0));
  cr_assert(g_str_has_prefix(r.out, "{\n  \"scenario\": \"baseline\",\n  \"seed\": 1,\n  \"replicas\": 1,\n"));
  cr_assert(strstr(r.out, "\"params\": {\"name\": \"baseline\", \"seed\": 1, \"network.nodes\": 100, "
                         "\"network.tables\": \"random\", \"network.topology\": null, ") != NULL,
            "%s", r.out);
  cr_assert(strstr(r.out, "\"workload.lookups\": 20, ") != NULL, "%s", r.out);
  cr_assert(strstr(r.out, "\"timeouts_total\": {\"mean\": ") != NULL, "%s", r.out);
  cli_free(&r);
}

Test(cli, unwritable_out_is_a_runtime_error_naming_the_path) {
  cli r = run_dhtsim((const char *[]){"run", "scenarios/baseline.yaml", "--lookups", "5", "--out",
                                      "/proc/dhtsim-no-such/dir", NULL});
  cr_assert(eq(int, r.status, 1));
  cr_assert(strstr(r.err, "/proc/dhtsim-no-such/dir") != NULL, "%s", r.err);
  cli_free(&r);
}

Test(cli, export_topology_round_trips_through_run) {
  char *tmp = g_dir_make_tmp("dhtsim-cli-XXXXXX", NULL);
  char *topo = g_build_filename(tmp, "baseline.topo", NULL);
  char *yaml = g_build_filename(tmp, "from-topo.yaml", NULL);
  char *text = g_strdup_printf("name: baseline\nnetwork:\n  topology: baseline.topo\n");
  cli a, b, e;
  e = run_dhtsim((const char *[]){"export-topology", "scenarios/baseline.yaml", topo, NULL});
  cr_assert(eq(int, e.status, 0), "%s", e.err);
  cr_assert(g_file_set_contents(yaml, text, -1, NULL));
  /* The exported network, loaded back, runs the same lookups as the generated one. */
  a = run_dhtsim((const char *[]){"run", "scenarios/baseline.yaml", "--lookups", "30", "--format", "csv", NULL});
  b = run_dhtsim((const char *[]){"run", yaml, "--lookups", "30", "--format", "csv", NULL});
  cr_assert(eq(int, a.status, 0));
  cr_assert(eq(int, b.status, 0), "%s", b.err);
  {
    /* The same rows but for network.topology, which names the file. */
    char **la = g_strsplit(a.out, "\n", -1), **lb = g_strsplit(b.out, "\n", -1);
    char **h = g_strsplit(la[0], ",", -1), **ra = g_strsplit(la[1], ",", -1), **rb = g_strsplit(lb[1], ",", -1);
    guint n = g_strv_length(h), col = 0;
    cr_assert(eq(str, la[0], lb[0]));
    while (col < n && strcmp(h[col], "network.topology") != 0)
      col++;
    cr_assert(lt(u32, col, n));
    cr_assert(eq(u32, g_strv_length(ra), n));
    cr_assert(eq(u32, g_strv_length(rb), n));
    cr_assert(eq(str, ra[col], ""));
    cr_assert(g_str_has_suffix(rb[col], "baseline.topo"), "%s", rb[col]);
    for (guint i = 0; i < n; i++)
      cr_assert(i == col || strcmp(ra[i], rb[i]) == 0, "%s: %s vs %s", h[i], ra[i], rb[i]);
    g_strfreev(la);
    g_strfreev(lb);
    g_strfreev(h);
    g_strfreev(ra);
    g_strfreev(rb);
  }
  cli_free(&a);
  cli_free(&b);
  cli_free(&e);
  g_remove(topo);
  g_remove(yaml);
  g_rmdir(tmp);
  g_free(topo);
  g_free(yaml);
  g_free(text);
  g_free(tmp);
}

/* --bin-s: timeline.csv's bins; bounded; another width is another output
 * (the manifest's fingerprint), so --resume does not mix two widths. */
Test(cli, bin_s_sets_the_timeline_bins) {
  char *tmp = g_dir_make_tmp("dhtsim-cli-XXXXXX", NULL), *out = g_build_filename(tmp, "out", NULL);
  cli r = run_dhtsim((const char *[]){"run", "scenarios/baseline.yaml", "--lookups", "40", "--bin-s", "0.5", "--out",
                                      out, NULL});
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  char *tl = slurp(out, "timeline.csv"), *man = slurp(out, "parts/manifest");
  csv c = csv_parse(tl);
  cr_assert(eq(str, (char *)csv_get(&c, 0, "bin"), "0"));
  cr_assert(eq(str, (char *)csv_get(&c, 1, "start_s"), "0.500000"));
  cr_assert(eq(str, (char *)csv_get(&c, 0, "online_fraction"), ""));
  cr_assert(g_str_has_prefix(tl, "point,replica,bin,start_s,lookups,queries_mean,"), "%s", tl);
  csv_free(&c);
  cli_free(&r);
  /* The default width is other settings: --resume refuses them, a new run has another fingerprint. */
  r = run_dhtsim((const char *[]){"run", "scenarios/baseline.yaml", "--lookups", "40", "--out", out, "--resume", NULL});
  cr_assert(eq(int, r.status, 2), "%s", r.err);
  cr_assert(strstr(r.err, "holds the output of a different scenario or settings") != NULL, "%s", r.err);
  cli_free(&r);
  r = run_dhtsim((const char *[]){"run", "scenarios/baseline.yaml", "--lookups", "40", "--out", out, NULL});
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  char *man2 = slurp(out, "parts/manifest");
  cr_assert(ne(str, man, man2));
  cli_free(&r);
  r = run_dhtsim((const char *[]){"run", "scenarios/baseline.yaml", "--bin-s", "0", NULL});
  cr_assert(eq(int, r.status, 2));
  cr_assert(strstr(r.err, "--bin-s expects a number of seconds from 0.001 to 1e+09, got '0'") != NULL, "%s", r.err);
  cli_free(&r);
  r = run_dhtsim((const char *[]){"run", "scenarios/baseline.yaml", "--bin-s", "5x", NULL});
  cr_assert(eq(int, r.status, 2));
  cli_free(&r);
  g_free(tl);
  g_free(man);
  g_free(man2);
  rm_rf(tmp);
  g_free(out);
  g_free(tmp);
}

/* A timed fail_fraction 0.5 at 20 s, read back from lookups.csv's start_ms
 * and timeouts: the lookups started after it time out more than those before;
 * events.csv lists it. */
Test(cli, timed_fail_fraction_seen_in_lookups_csv) {
  char *tmp = g_dir_make_tmp("dhtsim-cli-XXXXXX", NULL), *out = g_build_filename(tmp, "out", NULL);
  cli r = run_dhtsim((const char *[]){"run", "tests/data/events-fail.yaml", "--out", out, NULL});
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  char *lk = slurp(out, "lookups.csv"), *ev = slurp(out, "events.csv");
  csv c = csv_parse(lk);
  double n[2] = {0, 0}, to[2] = {0, 0};
  for (size_t i = 0; i < c.n_rows; i++) {
    int after = g_ascii_strtod(csv_get(&c, i, "start_ms"), NULL) >= 20000.0;
    n[after]++;
    to[after] += g_ascii_strtod(csv_get(&c, i, "timeouts"), NULL);
  }
  cr_assert(gt(dbl, n[0], 50));
  cr_assert(gt(dbl, n[1], 50));
  cr_assert(gt(dbl, to[1] / n[1], to[0] / n[0] + 3.0), "before %f, after %f", to[0] / n[0], to[1] / n[1]);
  cr_assert(eq(str, ev, "at_s,action,key,value\n20.000000,fail_fraction,,0.5\n"));
  csv_free(&c);
  g_free(lk);
  g_free(ev);
  cli_free(&r);
  rm_rf(tmp);
  g_free(out);
  g_free(tmp);
}
