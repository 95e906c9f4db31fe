/* test_scenario.c: the scenario YAML parser (sim/scenario.c) and the lookups
 * file reader (sim/workload.c).
 *
 * The bad-input corpus lives in tests/scenarios/bad/: NAME.yaml and
 * NAME.expected, whose first line is the exact message and second line the
 * error code name (DHT_EINVAL, ...). Paths in messages are relative to the repo
 * root, so every test chdirs to DHTSIM_SOURCE_DIR first. */
#include <criterion/criterion.h>
#include "criterion_assert.h"
#include <criterion/parameterized.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "scenario.h"
#include "workload.h"

#define ERRLEN 1024
#define BIG_LIMIT "1099511627776" /* 1 TiB: memory checks never trip */

static void to_root(void) {
  cr_assert(eq(int, chdir(DHTSIM_SOURCE_DIR), 0));
  unsetenv("DHTSIM_MEMORY_LIMIT");
}

/* ---- the corpus -------------------------------------------------------------- */

typedef struct corpus_case {
  char name[48];
} corpus_case;

static corpus_case corpus[] = {
  {"alias"},
  {"alpha_65"},
  {"alpha_negative"},
  {"complex_key"},
  {"control_in_name"},
  {"dead_fraction_one"},
  {"deep_nesting"},
  {"drop_above_one"},
  {"drop_negative"},
  {"duplicate_key"},
  {"empty"},
  {"empty_value"},
  {"float_for_integer"},
  {"hex_number"},
  {"huge_nodes"},
  {"k_zero"},
  {"lookups_and_file"},
  {"median_zero"},
  {"multiple_documents"},
  {"name_empty"},
  {"nan"},
  {"nodes_one"},
  {"non_numeric"},
  {"non_utf8"},
  {"matrix_without_file"},
  {"nul_byte"},
  {"only_comments"},
  {"partition_nodes_above_one"},
  {"quoted_number"},
  {"rate_zero"},
  {"replicas_too_big"},
  {"replicas_zero"},
  {"scalar_mapping"},
  {"section_scalar"},
  {"section_sequence"},
  {"seed_overflow"},
  {"slow_multiplier_below_one"},
  {"sweep_also_in_section"},
  {"sweep_duplicate_value"},
  {"sweep_empty_list"},
  {"sweep_key_twice"},
  {"sweep_nested_list"},
  {"sweep_nodes_with_topology"},
  {"sweep_not_list"},
  {"sweep_not_mapping"},
  {"sweep_not_sweepable"},
  {"sweep_quoted_number"},
  {"sweep_too_many_points"},
  {"sweep_unknown_parameter"},
  {"sweep_value_invalid"},
  {"sweep_value_mapping"},
  {"syntax_error"},
  {"tab_indent"},
  {"tag"},
  {"top_level_scalar"},
  {"top_level_sequence"},
  {"topology_and_nodes"},
  {"typo_key"},
  {"unclosed_flow_before_a_key"},
  {"uniform_min_gt_max"},
  {"unknown_enum"},
  {"unknown_nested_key"},
  {"unknown_top_key"},
  {"unterminated_flow"},
};

static int code_from_name(const char *s) {
  static const struct {
    const char *name;
    int code;
  } codes[] = {
    {"DHT_ENOMEM", DHT_ENOMEM}, {"DHT_EINVAL", DHT_EINVAL}, {"DHT_ENOENT", DHT_ENOENT},
    {"DHT_ERANGE", DHT_ERANGE}, {"DHT_EIO", DHT_EIO},       {"DHT_ETOOBIG", DHT_ETOOBIG},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(codes); i++)
    if (strcmp(s, codes[i].name) == 0)
      return codes[i].code;
  cr_fail("unknown error code name '%s'", s);
  return 0;
}

static void assert_cleared(const sim_scenario *sc) {
  cr_assert(eq(ptr, sc->path, NULL));
  cr_assert(eq(ptr, sc->name, NULL));
  cr_assert(eq(ptr, sc->network.topology, NULL));
  cr_assert(eq(ptr, sc->workload.lookups_file, NULL));
  cr_assert(eq(ptr, sc->sweep, NULL));
  cr_assert(eq(sz, sc->n_sweep, 0));
}

ParameterizedTestParameters(corpus, bad) {
  return cr_make_param_array(corpus_case, corpus, G_N_ELEMENTS(corpus));
}

ParameterizedTest(corpus_case *c, corpus, bad) {
  to_root();
  char *path = g_strdup_printf("tests/scenarios/bad/%s.yaml", c->name);
  char *exp_path = g_strdup_printf("tests/scenarios/bad/%s.expected", c->name);
  char *contents = NULL;
  cr_assert(g_file_get_contents(exp_path, &contents, NULL, NULL), "cannot read %s", exp_path);
  char **lines = g_strsplit(contents, "\n", -1);
  cr_assert(ne(ptr, lines[0], NULL));
  cr_assert(ne(ptr, lines[1], NULL), "%s: expected two lines", exp_path);

  sim_scenario sc;
  char err[ERRLEN];
  int rc = sim_scenario_load(&sc, path, err, sizeof err);
  cr_expect(eq(str, err, lines[0]));
  cr_expect(eq(int, rc, code_from_name(lines[1])));
  cr_expect(eq(ptr, strchr(err, '\n'), NULL));
  assert_cleared(&sc);

  g_strfreev(lines);
  g_free(contents);
  g_free(exp_path);
  g_free(path);
}

/* Every corpus file is listed above and has its .expected, and vice versa. */
Test(corpus, complete) {
  to_root();
  GDir *d = g_dir_open("tests/scenarios/bad", 0, NULL);
  cr_assert(ne(ptr, d, NULL));
  size_t yaml = 0, expected = 0;
  const char *f;
  while ((f = g_dir_read_name(d)) != NULL) {
    bool is_yaml = g_str_has_suffix(f, ".yaml"), is_exp = g_str_has_suffix(f, ".expected");
    cr_expect(is_yaml || is_exp, "stray file %s in tests/scenarios/bad", f);
    char *base = g_strndup(f, strlen(f) - (is_yaml ? 5 : is_exp ? 9 : 0));
    bool listed = false;
    for (size_t i = 0; i < G_N_ELEMENTS(corpus); i++)
      listed = listed || strcmp(corpus[i].name, base) == 0;
    cr_expect(listed, "%s is not in the corpus list of test_scenario.c", f);
    yaml += is_yaml;
    expected += is_exp;
    g_free(base);
  }
  g_dir_close(d);
  cr_expect(eq(sz, yaml, G_N_ELEMENTS(corpus)));
  cr_expect(eq(sz, expected, G_N_ELEMENTS(corpus)));
  cr_expect(ge(sz, G_N_ELEMENTS(corpus), 20));
}

Test(corpus, missing_file) {
  to_root();
  sim_scenario sc;
  char err[ERRLEN];
  int rc = sim_scenario_load(&sc, "tests/scenarios/bad/no_such_file.yaml", err, sizeof err);
  cr_assert(eq(int, rc, DHT_ENOENT));
  cr_assert(eq(str, err, "tests/scenarios/bad/no_such_file.yaml: cannot open: No such file or directory"));
  assert_cleared(&sc);
}

Test(corpus, directory) {
  to_root();
  sim_scenario sc;
  char err[ERRLEN];
  int rc = sim_scenario_load(&sc, "tests/scenarios/bad", err, sizeof err);
  cr_assert(eq(int, rc, DHT_EIO));
  cr_assert(eq(str, err, "tests/scenarios/bad: cannot read: Is a directory"));
}

/* ---- good files ------------------------------------------------------------------ */

static void assert_defaults(const sim_scenario *sc) {
  cr_assert(eq(u64, sc->seed, 1));
  cr_assert(eq(u64, sc->network.nodes, 100));
  cr_assert(eq(int, (int)sc->network.tables, (int)SIM_TABLES_RANDOM));
  cr_assert(eq(ptr, sc->network.topology, NULL));
  cr_assert(eq(int, (int)sc->latency.model, (int)SIM_LATENCY_CONSTANT));
  cr_assert(eq(u64, sc->latency.delay_us, 50000));
  cr_assert(eq(u64, sc->latency.min_us, 10000));
  cr_assert(eq(u64, sc->latency.max_us, 100000));
  cr_assert(eq(u64, sc->latency.median_us, 50000));
  cr_assert(eq(dbl, sc->latency.sigma, 0.5));
  cr_assert(eq(dbl, sc->latency.slow_fraction, 0.0));
  cr_assert(eq(dbl, sc->latency.slow_multiplier, 10.0));
  cr_assert(eq(dbl, sc->loss.request_drop, 0.0));
  cr_assert(eq(dbl, sc->loss.response_drop, 0.0));
  cr_assert(eq(dbl, sc->loss.dead_fraction, 0.0));
  cr_assert(eq(int, (int)sc->lookup.strategy, (int)DHT_LOOKUP_ROUNDS));
  cr_assert(eq(uint, sc->lookup.alpha, 3));
  cr_assert(eq(uint, sc->lookup.k, 8));
  cr_assert(eq(u64, sc->lookup.timeout_us, 2000000));
  cr_assert(eq(u64, sc->workload.lookups, 100));
  cr_assert(eq(u32, sc->workload.planted_peers, 5));
  cr_assert(eq(u32, sc->workload.plant_at, 8));
  cr_assert(eq(int, (int)sc->workload.arrival, (int)SIM_ARRIVAL_SEQUENTIAL));
  cr_assert(eq(dbl, sc->workload.rate_per_s, 10.0));
  cr_assert(eq(ptr, sc->workload.lookups_file, NULL));
  cr_assert(eq(u32, sc->replicas, 1));
  cr_assert(eq(ptr, sc->sweep, NULL));
  cr_assert(eq(sz, sc->n_sweep, 0));
}

Test(good, defaults_function) {
  sim_scenario sc;
  memset(&sc, 0xa5, sizeof sc);
  sim_scenario_defaults(&sc);
  assert_defaults(&sc);
  cr_assert(eq(ptr, sc.path, NULL));
  cr_assert(eq(ptr, sc.name, NULL));
}

Test(good, empty_mapping_is_all_defaults) {
  to_root();
  sim_scenario sc;
  char err[ERRLEN];
  int rc = sim_scenario_load(&sc, "tests/scenarios/good/defaults.yaml", err, sizeof err);
  cr_assert(eq(int, rc, 0), "%s", err);
  cr_assert(eq(str, err, ""));
  cr_assert(eq(str, sc.path, "tests/scenarios/good/defaults.yaml"));
  cr_assert(eq(str, sc.name, "defaults"));
  assert_defaults(&sc);
  sim_scenario_clear(&sc);
  assert_cleared(&sc);
  assert_defaults(&sc);
}

Test(good, every_key) {
  to_root();
  sim_scenario sc;
  char err[ERRLEN];
  int rc = sim_scenario_load(&sc, "tests/scenarios/good/every_key.yaml", err, sizeof err);
  cr_assert(eq(int, rc, 0), "%s", err);
  cr_assert(eq(str, sc.name, "every-key"));
  cr_assert(eq(u64, sc.seed, UINT64_MAX));
  cr_assert(eq(u64, sc.network.nodes, 1000));
  cr_assert(eq(int, (int)sc.network.tables, (int)SIM_TABLES_FULL));
  cr_assert(eq(ptr, sc.network.topology, NULL));
  cr_assert(eq(int, (int)sc.latency.model, (int)SIM_LATENCY_LOGNORMAL));
  cr_assert(eq(u64, sc.latency.delay_us, 12346));
  cr_assert(eq(u64, sc.latency.min_us, 500));
  cr_assert(eq(u64, sc.latency.max_us, 250000));
  cr_assert(eq(u64, sc.latency.median_us, 40000));
  cr_assert(eq(dbl, sc.latency.sigma, 0.8));
  cr_assert(eq(dbl, sc.latency.slow_fraction, 0.25));
  cr_assert(eq(dbl, sc.latency.slow_multiplier, 4.5));
  cr_assert(eq(dbl, sc.loss.request_drop, 0.1));
  cr_assert(eq(dbl, sc.loss.response_drop, 0.2));
  cr_assert(eq(dbl, sc.loss.dead_fraction, 0.05));
  cr_assert(eq(int, (int)sc.lookup.strategy, (int)DHT_LOOKUP_PIPELINED));
  cr_assert(eq(uint, sc.lookup.alpha, 64));
  cr_assert(eq(uint, sc.lookup.k, 20));
  cr_assert(eq(u64, sc.lookup.timeout_us, 1500500));
  cr_assert(eq(u64, sc.lookup.short_timeout_us, 250500));
  cr_assert(eq(uint, sc.lookup.candidate_cap, 50));
  cr_assert(eq(uint, sc.lookup.retries, 5));
  cr_assert(eq(uint, sc.lookup.beta, 2));
  cr_assert(eq(u64, sc.workload.lookups, 1000));
  cr_assert(eq(u32, sc.workload.planted_peers, 0));
  cr_assert(eq(u32, sc.workload.plant_at, 3));
  cr_assert(eq(int, (int)sc.workload.arrival, (int)SIM_ARRIVAL_POISSON));
  cr_assert(eq(dbl, sc.workload.rate_per_s, 2.5));
  cr_assert(eq(ptr, sc.workload.lookups_file, NULL));
  sim_scenario_clear(&sc);
}

/* Flow style, quotes, BOM, explicit document markers, range edges. */
Test(good, edges) {
  to_root();
  setenv("DHTSIM_MEMORY_LIMIT", BIG_LIMIT, 1);
  sim_scenario sc;
  char err[ERRLEN];
  int rc = sim_scenario_load(&sc, "tests/scenarios/good/edges.yaml", err, sizeof err);
  cr_assert(eq(int, rc, 0), "%s", err);
  cr_assert(eq(str, sc.name, "caf\xc3\xa9 \xe2\x9c\x93"));
  cr_assert(eq(u64, sc.seed, 0));
  cr_assert(eq(u64, sc.network.nodes, 2));
  cr_assert(eq(int, (int)sc.latency.model, (int)SIM_LATENCY_UNIFORM));
  cr_assert(eq(u64, sc.latency.min_us, 0));
  cr_assert(eq(u64, sc.latency.max_us, 1)); /* 0.5 us rounds to 1 */
  cr_assert(eq(dbl, sc.latency.sigma, 5.0));
  cr_assert(eq(dbl, sc.latency.slow_fraction, 1.0));
  cr_assert(eq(dbl, sc.latency.slow_multiplier, 1000.0));
  cr_assert(eq(dbl, sc.loss.request_drop, 1.0));
  cr_assert(eq(dbl, sc.loss.response_drop, 0.001));
  cr_assert(eq(dbl, sc.loss.dead_fraction, 0.999));
  cr_assert(eq(uint, sc.lookup.alpha, 1));
  cr_assert(eq(uint, sc.lookup.k, 256));
  cr_assert(eq(u64, sc.lookup.timeout_us, 3600000000ull));
  cr_assert(eq(u64, sc.workload.lookups, 1000000000));
  cr_assert(eq(u32, sc.workload.planted_peers, 1000));
  cr_assert(eq(u32, sc.workload.plant_at, 256)); /* defaults to lookup.k */
  cr_assert(eq(dbl, sc.workload.rate_per_s, 1000000.0));
  sim_scenario_clear(&sc);
}

Test(good, repo_scenarios) {
  to_root();
  setenv("DHTSIM_MEMORY_LIMIT", BIG_LIMIT, 1);
  static const char *const files[] = {"baseline", "lossy", "large", "million", "alpha-k-sweep", "scaling",
                                      "loss-sweep"};
  for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
    char *path = g_strdup_printf("scenarios/%s.yaml", files[i]);
    sim_scenario sc;
    char err[ERRLEN];
    int rc = sim_scenario_load(&sc, path, err, sizeof err);
    cr_assert(eq(int, rc, 0), "%s", err);
    cr_assert(eq(str, sc.name, (char *)files[i]));
    sim_scenario_clear(&sc);
    g_free(path);
  }
}

/* The seed's setting, exactly. */
Test(good, baseline) {
  to_root();
  sim_scenario sc;
  char err[ERRLEN];
  int rc = sim_scenario_load(&sc, "scenarios/baseline.yaml", err, sizeof err);
  cr_assert(eq(int, rc, 0), "%s", err);
  cr_assert(eq(u64, sc.network.nodes, 100));
  cr_assert(eq(int, (int)sc.network.tables, (int)SIM_TABLES_RANDOM));
  cr_assert(eq(int, (int)sc.latency.model, (int)SIM_LATENCY_CONSTANT));
  cr_assert(eq(dbl, sc.loss.request_drop, 0.0));
  cr_assert(eq(dbl, sc.loss.response_drop, 0.0));
  cr_assert(eq(dbl, sc.loss.dead_fraction, 0.0));
  cr_assert(eq(int, (int)sc.lookup.strategy, (int)DHT_LOOKUP_ROUNDS));
  cr_assert(eq(uint, sc.lookup.alpha, 3));
  cr_assert(eq(uint, sc.lookup.k, 8));
  cr_assert(eq(u64, sc.workload.lookups, 100));
  cr_assert(eq(u32, sc.workload.planted_peers, 5));
  cr_assert(eq(u32, sc.workload.plant_at, 8));
  sim_scenario_clear(&sc);
}

static int parse_str(sim_scenario *sc, const char *path, const char *yaml, char *err) {
  return sim_scenario_parse(sc, path, yaml, strlen(yaml), err, ERRLEN);
}

Test(good, milliseconds_round_to_nearest_microsecond) {
  sim_scenario sc;
  char err[ERRLEN];
  cr_assert(eq(int, parse_str(&sc, "m.yaml", "latency: {delay_ms: 0.0004}", err), 0), "%s", err);
  cr_assert(eq(u64, sc.latency.delay_us, 0));
  sim_scenario_clear(&sc);
  cr_assert(eq(int, parse_str(&sc, "m.yaml", "latency: {delay_ms: 0.0015}", err), 0), "%s", err);
  cr_assert(eq(u64, sc.latency.delay_us, 2));
  sim_scenario_clear(&sc);
  cr_assert(eq(int, parse_str(&sc, "m.yaml", "latency: {delay_ms: 1e3}", err), 0), "%s", err);
  cr_assert(eq(u64, sc.latency.delay_us, 1000000));
  sim_scenario_clear(&sc);
  cr_assert(eq(int, parse_str(&sc, "m.yaml", "latency: {delay_ms: 3600000}", err), 0), "%s", err);
  cr_assert(eq(u64, sc.latency.delay_us, 3600000000ull));
  sim_scenario_clear(&sc);
}

Test(good, name_from_path) {
  sim_scenario sc;
  char err[ERRLEN];
  cr_assert(eq(int, parse_str(&sc, "a/b/x.yml", "{}", err), 0), "%s", err);
  cr_assert(eq(str, sc.name, "x"));
  sim_scenario_clear(&sc);
  cr_assert(eq(int, parse_str(&sc, "plain", "{}", err), 0), "%s", err);
  cr_assert(eq(str, sc.name, "plain"));
  sim_scenario_clear(&sc);
  cr_assert(eq(int, parse_str(&sc, "dir/s.yaml", "name: 123", err), 0), "%s", err);
  cr_assert(eq(str, sc.name, "123"));
  cr_assert(eq(str, sc.path, "dir/s.yaml"));
  sim_scenario_clear(&sc);
}

/* ---- relative paths ------------------------------------------------------------- */

Test(paths, relative_to_the_scenario_folder) {
  to_root();
  sim_scenario sc;
  char err[ERRLEN];
  int rc = sim_scenario_load(&sc, "tests/scenarios/good/files.yaml", err, sizeof err);
  cr_assert(eq(int, rc, 0), "%s", err);
  cr_assert(eq(str, sc.network.topology, "tests/scenarios/good/topo.txt"));
  cr_assert(eq(str, sc.workload.lookups_file, "tests/scenarios/good/../lookups/good.txt"));
  cr_assert(eq(u64, sc.network.nodes, 100)); /* unused with a topology */
  sim_scenario_clear(&sc);

  /* The resolved lookups file is readable from here. */
  cr_assert(eq(int, sim_scenario_load(&sc, "tests/scenarios/good/files.yaml", err, sizeof err), 0));
  sim_lookup_spec *specs = NULL;
  size_t n = 0;
  cr_assert(eq(int, sim_lookups_load(sc.workload.lookups_file, 100, &specs, &n, err, sizeof err), 0), "%s", err);
  cr_assert(eq(sz, n, 5));
  g_free(specs);
  sim_scenario_clear(&sc);
}

Test(paths, same_folder_and_absolute) {
  to_root();
  cr_assert(eq(int, chdir("tests/scenarios/good"), 0));
  sim_scenario sc;
  char err[ERRLEN];
  int rc = sim_scenario_load(&sc, "files.yaml", err, sizeof err);
  cr_assert(eq(int, rc, 0), "%s", err);
  cr_assert(eq(str, sc.network.topology, "topo.txt"));
  cr_assert(eq(str, sc.workload.lookups_file, "../lookups/good.txt"));
  sim_scenario_clear(&sc);

  rc = parse_str(&sc, "/srv/scen/x.yaml", "network: {topology: t.txt}\nworkload: {lookups_file: /abs/l.txt}", err);
  cr_assert(eq(int, rc, 0), "%s", err);
  cr_assert(eq(str, sc.network.topology, "/srv/scen/t.txt"));
  cr_assert(eq(str, sc.workload.lookups_file, "/abs/l.txt"));
  sim_scenario_clear(&sc);
}

/* ---- memory limit --------------------------------------------------------------- */

Test(memory, limit_from_environment_blames_nodes) {
  setenv("DHTSIM_MEMORY_LIMIT", "1048576", 1);
  sim_scenario sc;
  char err[ERRLEN];
  int rc = parse_str(&sc, "mem.yaml", "network:\n  nodes: 100000\n  tables: full\n", err);
  cr_assert(eq(int, rc, DHT_ETOOBIG));
  cr_assert(g_str_has_prefix(err, "mem.yaml:2:10: network.nodes: 100000 nodes with full tables (K 8) and 100 lookups "
                                  "need an estimated "),
            "%s", err);
  cr_assert(g_str_has_suffix(err, ", more than the DHTSIM_MEMORY_LIMIT of 1.0 MiB"), "%s", err);
  assert_cleared(&sc);

  /* Same scenario, enough memory. */
  setenv("DHTSIM_MEMORY_LIMIT", BIG_LIMIT, 1);
  rc = parse_str(&sc, "mem.yaml", "network:\n  nodes: 100000\n  tables: full\n", err);
  cr_assert(eq(int, rc, 0), "%s", err);
  sim_scenario_clear(&sc);
}

Test(memory, limit_blames_lookups) {
  setenv("DHTSIM_MEMORY_LIMIT", "1073741824", 1);
  sim_scenario sc;
  char err[ERRLEN];
  int rc = parse_str(&sc, "mem.yaml", "network: {nodes: 2}\nworkload: {lookups: 1000000000}\n", err);
  cr_assert(eq(int, rc, DHT_ETOOBIG));
  cr_assert(eq(str, err,
               "mem.yaml:2:21: workload.lookups: 2 nodes with random tables (K 8) and 1000000000 lookups need an "
               "estimated 111.8 GiB, more than the DHTSIM_MEMORY_LIMIT of 1.0 GiB"));
}

Test(memory, limit_without_position) {
  setenv("DHTSIM_MEMORY_LIMIT", "1", 1);
  sim_scenario sc;
  char err[ERRLEN];
  int rc = parse_str(&sc, "mem.yaml", "{}", err);
  cr_assert(eq(int, rc, DHT_ETOOBIG));
  cr_assert(g_str_has_prefix(err, "mem.yaml: network.nodes: 100 nodes with random tables (K 8) and 100 lookups"),
            "%s", err);
  cr_assert(g_str_has_suffix(err, "more than the DHTSIM_MEMORY_LIMIT of 1 bytes"), "%s", err);
}

Test(memory, range_error_before_estimate) {
  setenv("DHTSIM_MEMORY_LIMIT", "1", 1);
  sim_scenario sc;
  char err[ERRLEN];
  int rc = parse_str(&sc, "mem.yaml", "network:\n  nodes: 1000000000000\n", err);
  cr_assert(eq(int, rc, DHT_EINVAL));
  cr_assert(eq(str, err, "mem.yaml:2:10: network.nodes: expected an integer from 2 to 268435456, got '1000000000000'"));
}

Test(memory, bad_variable) {
  setenv("DHTSIM_MEMORY_LIMIT", "12G", 1);
  sim_scenario sc;
  char err[ERRLEN];
  int rc = parse_str(&sc, "mem.yaml", "{}", err);
  cr_assert(eq(int, rc, DHT_EINVAL));
  cr_assert(eq(str, err, "mem.yaml: DHTSIM_MEMORY_LIMIT: expected a positive integer number of bytes, got '12G'"));
  setenv("DHTSIM_MEMORY_LIMIT", "", 1); /* empty: unset */
  cr_assert(eq(int, parse_str(&sc, "mem.yaml", "{}", err), 0), "%s", err);
  sim_scenario_clear(&sc);
}

/* ---- replicas and sweeps ----------------------------------------------------------- */

Test(sweep, replicas_default_and_range) {
  sim_scenario sc;
  char err[ERRLEN];
  cr_assert(eq(int, parse_str(&sc, "r.yaml", "{}", err), 0), "%s", err);
  cr_assert(eq(u32, sc.replicas, 1));
  sim_scenario_clear(&sc);
  cr_assert(eq(int, parse_str(&sc, "r.yaml", "replicas: 1", err), 0), "%s", err);
  cr_assert(eq(u32, sc.replicas, 1));
  sim_scenario_clear(&sc);
  cr_assert(eq(int, parse_str(&sc, "r.yaml", "replicas: 10000", err), 0), "%s", err);
  cr_assert(eq(u32, sc.replicas, 10000));
  cr_assert(eq(u64, sim_scenario_point_count(&sc), 1));
  sim_scenario_clear(&sc);
  cr_assert(eq(int, parse_str(&sc, "r.yaml", "replicas: 0", err), DHT_EINVAL));
  cr_assert(eq(str, err, "r.yaml:1:11: replicas: expected an integer from 1 to 10000, got '0'"));
  cr_assert(eq(int, parse_str(&sc, "r.yaml", "seed: 2\nreplicas: 10001", err), DHT_EINVAL));
  cr_assert(eq(str, err, "r.yaml:2:11: replicas: expected an integer from 1 to 10000, got '10001'"));
  cr_assert(eq(int, parse_str(&sc, "r.yaml", "replicas: 4294967297", err), DHT_EINVAL));
  cr_assert(eq(str, err, "r.yaml:1:11: replicas: expected an integer from 1 to 10000, got '4294967297'"));
  cr_assert(eq(int, parse_str(&sc, "r.yaml", "replicas: 2\nreplicas: 3", err), DHT_EINVAL));
  cr_assert(eq(str, err, "r.yaml:2:1: replicas: duplicate key (first given at line 1, column 1)"));
  assert_cleared(&sc);
}

/* The good sweep file: axes in file order, values as written, base untouched. */
Test(sweep, good_file) {
  to_root();
  sim_scenario sc;
  char err[ERRLEN], label[256];
  int rc = sim_scenario_load(&sc, "tests/scenarios/good/sweep.yaml", err, sizeof err);
  cr_assert(eq(int, rc, 0), "%s", err);
  cr_assert(eq(u64, sc.seed, 7));
  cr_assert(eq(u32, sc.replicas, 5));
  cr_assert(eq(sz, sc.n_sweep, 4));
  static const char *const keys[] = {"lookup.alpha", "latency.max_ms", "loss.request_drop", "lookup.strategy"};
  static const char *const values[4][3] = {
    {"1", "3", "8"}, {"100", "2.5e2", NULL}, {"0", "0.1", NULL}, {"rounds", "pipelined", NULL}};
  static const size_t sizes[] = {3, 2, 2, 2};
  for (size_t i = 0; i < 4; i++) {
    cr_assert(eq(str, sc.sweep[i].key, (char *)keys[i]));
    cr_assert(eq(sz, sc.sweep[i].n, sizes[i]));
    for (size_t j = 0; j < sizes[i]; j++)
      cr_assert(eq(str, sc.sweep[i].values[j], (char *)values[i][j]));
  }
  cr_assert(eq(u64, sim_scenario_point_count(&sc), 24));
  /* The base keeps what the sections say (and defaults for swept keys; alpha
   * stays 0, "the strategy's", as the strategy is swept: points resolve it). */
  cr_assert(eq(uint, sc.lookup.alpha, 0));
  cr_assert(eq(u64, sc.latency.max_us, 100000));
  cr_assert(eq(u64, sc.network.nodes, 1000));
  cr_assert(eq(int, (int)sc.latency.model, (int)SIM_LATENCY_UNIFORM));

  cr_assert(eq(int, sim_scenario_point_label(&sc, 0, label, sizeof label), 76));
  cr_assert(eq(str, label, "lookup.alpha=1 latency.max_ms=100 loss.request_drop=0 lookup.strategy=rounds"));
  cr_assert(gt(int, sim_scenario_point_label(&sc, 23, label, sizeof label), 0));
  cr_assert(eq(str, label, "lookup.alpha=8 latency.max_ms=2.5e2 loss.request_drop=0.1 lookup.strategy=pipelined"));

  sim_scenario pt;
  cr_assert(eq(int, sim_scenario_point(&sc, 23, &pt, err, sizeof err), 0), "%s", err);
  cr_assert(eq(uint, pt.lookup.alpha, 8));
  cr_assert(eq(u64, pt.latency.max_us, 250000));
  cr_assert(eq(dbl, pt.loss.request_drop, 0.1));
  cr_assert(eq(int, (int)pt.lookup.strategy, (int)DHT_LOOKUP_PIPELINED));
  cr_assert(eq(u64, pt.network.nodes, 1000));
  cr_assert(eq(uint, pt.lookup.k, 8));
  cr_assert(eq(u32, pt.workload.plant_at, 8));
  cr_assert(eq(u32, pt.replicas, 5));
  cr_assert(eq(u64, pt.seed, 7));
  cr_assert(eq(ptr, pt.sweep, NULL));
  cr_assert(eq(sz, pt.n_sweep, 0));
  cr_assert(eq(ptr, pt.name, sc.name)); /* shared, transfer none */
  cr_assert(eq(ptr, pt.path, sc.path));
  sim_scenario_clear(&sc);
  assert_cleared(&sc);
  cr_assert(eq(u32, sc.replicas, 1));
}

Test(sweep, without_sweep_one_point) {
  sim_scenario sc, pt;
  char err[ERRLEN], label[8];
  cr_assert(eq(int, parse_str(&sc, "n.yaml", "seed: 42\nlookup: {alpha: 5}", err), 0), "%s", err);
  cr_assert(eq(u64, sim_scenario_point_count(&sc), 1));
  memset(label, 'x', sizeof label);
  cr_assert(eq(int, sim_scenario_point_label(&sc, 0, label, sizeof label), 0));
  cr_assert(eq(str, label, ""));
  cr_assert(eq(int, sim_scenario_point_label(&sc, 1, label, sizeof label), DHT_ERANGE));
  cr_assert(eq(int, sim_scenario_point(&sc, 0, &pt, err, sizeof err), 0), "%s", err);
  cr_assert(eq(uint, pt.lookup.alpha, 5));
  cr_assert(eq(u32, pt.workload.plant_at, 8));
  cr_assert(eq(int, memcmp(&pt.network, &sc.network, sizeof sc.network), 0));
  cr_assert(eq(int, memcmp(&pt.latency, &sc.latency, sizeof sc.latency), 0));
  cr_assert(eq(int, memcmp(&pt.lookup, &sc.lookup, sizeof sc.lookup), 0));
  cr_assert(eq(int, memcmp(&pt.workload, &sc.workload, sizeof sc.workload), 0));
  cr_assert(eq(int, sim_scenario_point(&sc, 1, &pt, err, sizeof err), DHT_ERANGE));
  cr_assert(eq(str, err, "n.yaml: point 1: out of range (the scenario has 1 point)"));
  /* Replica 0 runs with the seed itself; further replicas get their own. */
  cr_assert(eq(u64, sim_scenario_run_seed(&sc, 0, 0), 42));
  uint64_t r1 = sim_scenario_run_seed(&sc, 0, 1), r2 = sim_scenario_run_seed(&sc, 0, 2);
  cr_assert(ne(u64, r1, 42));
  cr_assert(ne(u64, r2, 42));
  cr_assert(ne(u64, r1, r2));
  cr_assert(eq(u64, sim_scenario_run_seed(&sc, 0, 1), r1)); /* a function of its arguments */
  sim_scenario_clear(&sc);

  /* An empty sweep mapping is no sweep. */
  cr_assert(eq(int, parse_str(&sc, "n.yaml", "sweep: {}", err), 0), "%s", err);
  cr_assert(eq(sz, sc.n_sweep, 0));
  cr_assert(eq(u64, sim_scenario_point_count(&sc), 1));
  cr_assert(eq(u64, sim_scenario_run_seed(&sc, 0, 0), 1));
  sim_scenario_clear(&sc);
}

/* Mixed radix, first axis slowest. */
Test(sweep, point_order_and_labels) {
  sim_scenario sc, pt;
  char err[ERRLEN], label[128];
  const char *yaml = "sweep:\n"
                     "  lookup.alpha: [1, 2, 3]\n"
                     "  lookup.k: [4, 8]\n"
                     "  lookup.strategy: [rounds, pipelined]\n";
  cr_assert(eq(int, parse_str(&sc, "o.yaml", yaml, err), 0), "%s", err);
  cr_assert(eq(u64, sim_scenario_point_count(&sc), 12));
  static const unsigned alphas[] = {1, 2, 3}, ks[] = {4, 8};
  static const char *const strategies[] = {"rounds", "pipelined"};
  for (uint64_t i = 0; i < 12; i++) {
    size_t ia = (size_t)(i / 4), ik = (size_t)(i / 2 % 2), is = (size_t)(i % 2);
    char *want = g_strdup_printf("lookup.alpha=%u lookup.k=%u lookup.strategy=%s", alphas[ia], ks[ik],
                                 strategies[is]);
    int n = sim_scenario_point_label(&sc, i, label, sizeof label);
    cr_assert(eq(int, n, (int)strlen(want)));
    cr_assert(eq(str, label, want));
    cr_assert(eq(int, sim_scenario_point(&sc, i, &pt, err, sizeof err), 0), "%s", err);
    cr_assert(eq(uint, pt.lookup.alpha, alphas[ia]));
    cr_assert(eq(uint, pt.lookup.k, ks[ik]));
    cr_assert(eq(int, (int)pt.lookup.strategy, is ? (int)DHT_LOOKUP_PIPELINED : (int)DHT_LOOKUP_ROUNDS));
    cr_assert(eq(u32, pt.workload.plant_at, ks[ik])); /* plant_at follows each point's K */
    g_free(want);
  }
  /* Buffer sizes: exactly enough, one short, none. */
  int n = sim_scenario_point_label(&sc, 11, label, sizeof label);
  cr_assert(eq(int, n, 51));
  cr_assert(eq(int, sim_scenario_point_label(&sc, 11, label, 52), 51));
  memset(label, 'x', sizeof label);
  cr_assert(eq(int, sim_scenario_point_label(&sc, 11, label, 51), DHT_ERANGE));
  cr_assert(eq(str, label, ""));
  cr_assert(eq(int, sim_scenario_point_label(&sc, 11, NULL, 0), DHT_ERANGE));
  cr_assert(eq(int, sim_scenario_point_label(&sc, 12, label, sizeof label), DHT_ERANGE));
  cr_assert(eq(int, sim_scenario_point(&sc, 12, &pt, err, sizeof err), DHT_ERANGE));
  cr_assert(eq(str, err, "o.yaml: point 12: out of range (the scenario has 12 points)"));
  sim_scenario_clear(&sc);
}

Test(sweep, plant_at_with_swept_k) {
  sim_scenario sc, pt;
  char err[ERRLEN];
  /* Given: fixed for every point. */
  cr_assert(eq(int, parse_str(&sc, "p.yaml", "workload: {plant_at: 3}\nsweep: {lookup.k: [4, 16]}", err), 0), "%s",
            err);
  for (uint64_t i = 0; i < 2; i++) {
    cr_assert(eq(int, sim_scenario_point(&sc, i, &pt, err, sizeof err), 0), "%s", err);
    cr_assert(eq(u32, pt.workload.plant_at, 3));
  }
  sim_scenario_clear(&sc);
  /* Swept with K. */
  cr_assert(eq(int, parse_str(&sc, "p.yaml", "sweep: {lookup.k: [4, 16], workload.plant_at: [1, 20]}", err), 0),
            "%s", err);
  static const unsigned want_k[] = {4, 4, 16, 16}, want_p[] = {1, 20, 1, 20};
  for (uint64_t i = 0; i < 4; i++) {
    cr_assert(eq(int, sim_scenario_point(&sc, i, &pt, err, sizeof err), 0), "%s", err);
    cr_assert(eq(uint, pt.lookup.k, want_k[i]));
    cr_assert(eq(u32, pt.workload.plant_at, want_p[i]));
  }
  sim_scenario_clear(&sc);
  /* Default K, plant_at swept. */
  cr_assert(eq(int, parse_str(&sc, "p.yaml", "sweep: {workload.plant_at: [2]}", err), 0), "%s", err);
  cr_assert(eq(int, sim_scenario_point(&sc, 0, &pt, err, sizeof err), 0), "%s", err);
  cr_assert(eq(u32, pt.workload.plant_at, 2));
  sim_scenario_clear(&sc);
}

/* Cross-checks run per point: a file may hold points that are refused. */
Test(sweep, point_cross_checks) {
  sim_scenario sc, pt;
  char err[ERRLEN];
  const char *yaml = "latency: {model: uniform, max_ms: 100}\nsweep: {latency.min_ms: [10, 200]}";
  cr_assert(eq(int, parse_str(&sc, "u.yaml", yaml, err), 0), "%s", err);
  cr_assert(eq(int, sim_scenario_point(&sc, 0, &pt, err, sizeof err), 0), "%s", err);
  cr_assert(eq(u64, pt.latency.min_us, 10000));
  cr_assert(eq(int, sim_scenario_point(&sc, 1, &pt, err, sizeof err), DHT_EINVAL));
  cr_assert(eq(str, err,
               "u.yaml: point 1 (latency.min_ms=200): latency.min_ms: expected a number of milliseconds at most "
               "latency.max_ms (100), got '200'"));
  sim_scenario_clear(&sc);

  cr_assert(eq(int, parse_str(&sc, "u.yaml", "latency: {min_ms: 50}\nsweep: {latency.max_ms: [100, 2e1]}", err), 0),
            "%s", err);
  cr_assert(eq(int, sim_scenario_point(&sc, 1, &pt, err, sizeof err), DHT_EINVAL));
  cr_assert(eq(str, err,
               "u.yaml: point 1 (latency.max_ms=2e1): latency.max_ms: expected a number of milliseconds at least "
               "latency.min_ms (50), got '20'"));
  sim_scenario_clear(&sc);

  /* Both swept: only the crossing combination fails. Section max_ms below the
   * default min_ms does not matter when min_ms is swept. */
  cr_assert(eq(int, parse_str(&sc, "u.yaml", "sweep:\n  latency.min_ms: [1, 50]\n  latency.max_ms: [20, 100]", err),
               0),
            "%s", err);
  static const int want[] = {0, 0, DHT_EINVAL, 0};
  for (uint64_t i = 0; i < 4; i++)
    cr_assert(eq(int, sim_scenario_point(&sc, i, &pt, err, sizeof err), want[i]), "point %d: %s", (int)i, err);
  cr_assert(eq(int, sim_scenario_point(&sc, 2, &pt, err, sizeof err), DHT_EINVAL));
  cr_assert(eq(str, err,
               "u.yaml: point 2 (latency.min_ms=50 latency.max_ms=20): latency.max_ms: expected a number of "
               "milliseconds at least latency.min_ms (50), got '20'"));
  sim_scenario_clear(&sc);
  cr_assert(eq(int, parse_str(&sc, "u.yaml", "latency: {max_ms: 5}\nsweep: {latency.min_ms: [1, 2]}", err), 0), "%s",
            err);
  cr_assert(eq(int, sim_scenario_point(&sc, 1, &pt, err, sizeof err), 0), "%s", err);
  cr_assert(eq(u64, pt.latency.min_us, 2000));
  cr_assert(eq(u64, pt.latency.max_us, 5000));
  sim_scenario_clear(&sc);
}

/* Errors inside the sweep, each at its position; nothing leaks (sanitizer build). */
Test(sweep, errors) {
  static const struct {
    const char *yaml, *msg;
  } cases[] = {
    {"sweep:\n  loss.request_drop:\n    - 0\n    - 1.5\n",
     "s.yaml:4:7: loss.request_drop: expected a number from 0 to 1, got '1.5'"},
    {"sweep: {network.tables: [full, sparse]}", "s.yaml:1:32: network.tables: expected random or full, got 'sparse'"},
    {"sweep: {lookup.k: [8, 16]}\nsweep: {lookup.k: [4]}",
     "s.yaml:2:1: sweep: duplicate key (first given at line 1, column 1)"},
    {"sweep:\n  lookup.k: [8, 16]\n  lookup.alpha: [1, 65]\n",
     "s.yaml:3:21: lookup.alpha: expected an integer from 0 to 64, got '65'"},
    {"sweep:\n  lookup.alpha: [1, 2]\n  lookup.k: ~\n",
     "s.yaml:3:13: sweep: lookup.k: expected a list of values (like [1, 2, 4]), got '~'"},
    {"sweep:\n",
     "s.yaml:1:7: sweep: expected a mapping of parameters to lists of values (like lookup.alpha: [1, 2, 4]), got an "
     "empty value"},
    {"sweep: {[a]: [1]}", "s.yaml:1:9: sweep: expected a parameter name like lookup.alpha, got a sequence"},
    {"sweep: {seed: [1, 2]}", "s.yaml:1:9: sweep: 'seed' cannot be swept (expected one of: network.nodes, "
                              "network.tables, latency.model, latency.delay_ms, latency.min_ms, latency.max_ms, "
                              "latency.median_ms, latency.sigma, latency.coord_scale_ms, latency.access_ms, latency.jitter_ms, latency.slow_fraction, latency.slow_multiplier, "
                              "loss.request_drop, loss.response_drop, loss.dead_fraction, loss.unreachable_fraction, lookup.strategy, "
                              "lookup.alpha, lookup.k, lookup.timeout_ms, lookup.short_timeout_ms, lookup.tick_ms, lookup.candidate_cap, "
                              "lookup.retries, lookup.beta, lookup.restrict_search_ips, workload.planted_peers, workload.plant_at, workload.values_with_nodes)"},
    {"sweep: {lookup: [1]}", "s.yaml:1:9: sweep: unknown parameter 'lookup' (expected one of: network.nodes, "
                             "network.tables, latency.model, latency.delay_ms, latency.min_ms, latency.max_ms, "
                             "latency.median_ms, latency.sigma, latency.coord_scale_ms, latency.access_ms, latency.jitter_ms, latency.slow_fraction, latency.slow_multiplier, "
                             "loss.request_drop, loss.response_drop, loss.dead_fraction, loss.unreachable_fraction, lookup.strategy, "
                             "lookup.alpha, lookup.k, lookup.timeout_ms, lookup.short_timeout_ms, lookup.tick_ms, lookup.candidate_cap, "
                              "lookup.retries, lookup.beta, lookup.restrict_search_ips, workload.planted_peers, workload.plant_at, workload.values_with_nodes)"},
    {"sweep: {lookup.alpha: [1, *x]}", "s.yaml:1:27: sweep: lookup.alpha: YAML aliases are not supported (found '*x')"},
    {"sweep: {lookup.alpha: !!seq [1]}", "s.yaml:1:23: sweep: lookup.alpha: YAML tags are not supported (found "
                                         "'tag:yaml.org,2002:seq')"},
    {"sweep: {lookup.alpha: [1, !!int 2]}", "s.yaml:1:27: sweep: lookup.alpha: YAML tags are not supported (found "
                                            "'tag:yaml.org,2002:int')"},
    {"sweep: {lookup.alpha: [1, 2}", NULL},
    /* Canonical duplicates: same microseconds, -0 is 0, quoting an enum word changes nothing. */
    {"sweep: {latency.delay_ms: [1, 2, 1.0004]}",
     "s.yaml:1:34: sweep: latency.delay_ms: duplicate value '1.0004' (the same value as '1' at line 1, column 28)"},
    {"sweep: {loss.dead_fraction: [0, 0.5, -0]}",
     "s.yaml:1:38: sweep: loss.dead_fraction: duplicate value '-0' (the same value as '0' at line 1, column 30)"},
    {"sweep: {network.tables: [full, \"full\"]}",
     "s.yaml:1:32: sweep: network.tables: duplicate value 'full' (the same value as 'full' at line 1, column 26)"},
    {"sweep: {lookup.alpha: [3, 03]}",
     "s.yaml:1:27: sweep: lookup.alpha: duplicate value '03' (the same value as '3' at line 1, column 24)"},
    {"network: {topology: t.txt}\nsweep:\n  lookup.k: [4, 8]\n  network.nodes: [10]\n",
     "s.yaml:4:3: sweep: network.nodes: cannot be swept with network.topology (the topology file gives the nodes)"},
    {"sweep: {network.nodes: [10]}\nnetwork: {topology: t.txt}\n",
     "s.yaml:1:9: sweep: network.nodes: cannot be swept with network.topology (the topology file gives the nodes)"},
    {"sweep: {loss.request_drop: [0.1]}\nloss: {request_drop: 0.2}\n",
     "s.yaml:1:9: sweep: loss.request_drop: also given in section 'loss' at line 2, column 8 (a swept parameter takes "
     "its values from the sweep only)"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    sim_scenario sc;
    char err[ERRLEN];
    int rc = parse_str(&sc, "s.yaml", cases[i].yaml, err);
    cr_assert(eq(int, rc, DHT_EINVAL), "case %zu", i);
    if (cases[i].msg != NULL)
      cr_expect(eq(str, err, (char *)cases[i].msg), "case %zu", i);
    assert_cleared(&sc);
  }
}

/* The product of the axes is bounded; a product that would overflow is refused too. */
Test(sweep, too_many_points) {
  setenv("DHTSIM_MEMORY_LIMIT", BIG_LIMIT, 1);
  sim_scenario sc;
  char err[ERRLEN];
  /* All 19 sweepable keys, two values each: 2^19 = 524288 points, allowed. */
  const char *all = "sweep:\n"
                    "  network.nodes: [2, 3]\n"
                    "  network.tables: [random, full]\n"
                    "  latency.model: [constant, uniform]\n"
                    "  latency.delay_ms: [1, 2]\n"
                    "  latency.min_ms: [1, 2]\n"
                    "  latency.max_ms: [3, 4]\n"
                    "  latency.median_ms: [1, 2]\n"
                    "  latency.sigma: [0, 1]\n"
                    "  latency.slow_fraction: [0, 0.5]\n"
                    "  latency.slow_multiplier: [1, 2]\n"
                    "  loss.request_drop: [0, 0.5]\n"
                    "  loss.response_drop: [0, 0.5]\n"
                    "  loss.dead_fraction: [0, 0.5]\n"
                    "  lookup.strategy: [rounds, pipelined]\n"
                    "  lookup.alpha: [1, 2]\n"
                    "  lookup.k: [1, 2]\n"
                    "  lookup.timeout_ms: [1, 2]\n"
                    "  workload.planted_peers: [0, 1]\n"
                    "  workload.plant_at: [1, 2]\n";
  cr_assert(eq(int, parse_str(&sc, "m.yaml", all, err), 0), "%s", err);
  cr_assert(eq(u64, sim_scenario_point_count(&sc), 524288));
  sim_scenario pt;
  cr_assert(eq(int, sim_scenario_point(&sc, 524287, &pt, err, sizeof err), 0), "%s", err);
  cr_assert(eq(u64, pt.network.nodes, 3));
  cr_assert(eq(int, (int)pt.network.tables, (int)SIM_TABLES_FULL));
  cr_assert(eq(u64, pt.lookup.timeout_us, 2000));
  cr_assert(eq(u32, pt.workload.plant_at, 2));
  sim_scenario_clear(&sc);

  /* 1000 x 1000 = SIM_POINTS_MAX: allowed; one more node count: refused at the key that crosses. */
  for (int extra = 0; extra < 2; extra++) {
    GString *s = g_string_new("sweep:\n  network.nodes: [");
    for (int i = 0; i < 1000 + extra; i++)
      g_string_append_printf(s, "%s%d", i ? ", " : "", 2 + i);
    g_string_append(s, "]\n  workload.planted_peers: [");
    for (int i = 0; i < 1000; i++)
      g_string_append_printf(s, "%s%d", i ? ", " : "", i);
    g_string_append(s, "]\n");
    int rc = parse_str(&sc, "m.yaml", s->str, err);
    if (extra == 0) {
      cr_assert(eq(int, rc, 0), "%s", err);
      cr_assert(eq(u64, sim_scenario_point_count(&sc), SIM_POINTS_MAX));
      char label[128];
      cr_assert(gt(int, sim_scenario_point_label(&sc, SIM_POINTS_MAX - 1, label, sizeof label), 0));
      cr_assert(eq(str, label, "network.nodes=1001 workload.planted_peers=999"));
      sim_scenario_clear(&sc);
    } else {
      cr_assert(eq(int, rc, DHT_EINVAL));
      cr_assert(eq(str, err, "m.yaml:3:3: sweep: too many points: 1001 x 1000 = 1001000, more than the maximum of "
                             "1000000"));
      assert_cleared(&sc);
    }
    g_string_free(s, TRUE);
  }
  /* One list alone. */
  GString *s = g_string_new("sweep: {network.nodes: [");
  for (int i = 0; i < 1000001; i++)
    g_string_append_printf(s, "%s%d", i ? "," : "", 2 + i);
  g_string_append(s, "]}");
  cr_assert(eq(int, parse_str(&sc, "m.yaml", s->str, err), DHT_EINVAL));
  cr_assert(eq(str, err, "m.yaml:1:9: sweep: too many points: 1000001, more than the maximum of 1000000"));
  assert_cleared(&sc);
  g_string_free(s, TRUE);
}

static uint64_t fnv1a64(const char *s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 0x100000001b3ULL;
  }
  return h;
}

/* The seed of a run depends on the base seed, the point's assignments and the
 * replica only. */
static uint64_t seed_of(const char *yaml, const char *label, uint32_t replica) {
  sim_scenario sc;
  char err[ERRLEN], l[256];
  cr_assert(eq(int, parse_str(&sc, "seed.yaml", yaml, err), 0), "%s", err);
  uint64_t n = sim_scenario_point_count(&sc);
  for (uint64_t i = 0; i < n; i++) {
    cr_assert(ge(int, sim_scenario_point_label(&sc, i, l, sizeof l), 0));
    if (strcmp(l, label) == 0) {
      uint64_t seed = sim_scenario_run_seed(&sc, i, replica);
      sim_scenario_clear(&sc);
      return seed;
    }
  }
  cr_fail("no point '%s' in %s", label, yaml);
  return 0;
}

Test(sweep, run_seeds) {
  /* Every run of a sweep has its own seed. */
  to_root();
  sim_scenario sc;
  char err[ERRLEN];
  cr_assert(eq(int, sim_scenario_load(&sc, "tests/scenarios/good/sweep.yaml", err, sizeof err), 0), "%s", err);
  GHashTable *seen = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
  for (uint64_t i = 0; i < 24; i++)
    for (uint32_t r = 0; r < 5; r++) {
      uint64_t *s = g_new(uint64_t, 1);
      *s = sim_scenario_run_seed(&sc, i, r);
      cr_assert(ne(u64, *s, 7));
      cr_assert(eq(int, g_hash_table_contains(seen, s), 0), "point %d replica %u: seed repeated", (int)i, r);
      g_hash_table_add(seen, s);
    }
  g_hash_table_destroy(seen);
  sim_scenario_clear(&sc);

  const char *base = "sweep:\n  lookup.alpha: [1, 2]\n  lookup.k: [4, 8]\n";
  /* Adding a value to an axis, or replicas, changes no other run's seed. */
  const char *more = "replicas: 9\nsweep:\n  lookup.alpha: [3, 1, 2]\n  lookup.k: [4, 8, 16]\n";
  /* The axes' order in the file does not matter. */
  const char *swapped = "sweep:\n  lookup.k: [8, 4]\n  lookup.alpha: [2, 1]\n";
  /* Nor the spelling of a value. */
  const char *spelt = "sweep:\n  lookup.k: [04, 8]\n  lookup.alpha: [1, 2]\n";
  static const char *const labels[] = {"lookup.alpha=1 lookup.k=4", "lookup.alpha=1 lookup.k=8",
                                       "lookup.alpha=2 lookup.k=4", "lookup.alpha=2 lookup.k=8"};
  static const char *const swapped_labels[] = {"lookup.k=4 lookup.alpha=1", "lookup.k=8 lookup.alpha=1",
                                               "lookup.k=4 lookup.alpha=2", "lookup.k=8 lookup.alpha=2"};
  static const char *const spelt_labels[] = {"lookup.k=04 lookup.alpha=1", "lookup.k=8 lookup.alpha=1",
                                             "lookup.k=04 lookup.alpha=2", "lookup.k=8 lookup.alpha=2"};
  for (size_t i = 0; i < 4; i++)
    for (uint32_t r = 0; r < 3; r++) {
      uint64_t s = seed_of(base, labels[i], r);
      cr_assert(eq(u64, seed_of(more, labels[i], r), s), "%s replica %u", labels[i], r);
      cr_assert(eq(u64, seed_of(swapped, swapped_labels[i], r), s), "%s replica %u", labels[i], r);
      cr_assert(eq(u64, seed_of(spelt, spelt_labels[i], r), s), "%s replica %u", labels[i], r);
      for (size_t j = 0; j < 4; j++)
        if (j != i)
          cr_assert(ne(u64, seed_of(base, labels[j], r), s));
      cr_assert(ne(u64, seed_of(base, labels[i], r + 1), s));
    }

  /* Numbers: 0.1 and 1e-1, 250 and 2.5e2 ms, quoted and plain enum words. */
  cr_assert(eq(u64, seed_of("sweep: {loss.request_drop: [0, 0.1]}", "loss.request_drop=0.1", 2),
               seed_of("sweep: {loss.request_drop: [1e-1]}", "loss.request_drop=1e-1", 2)));
  cr_assert(eq(u64, seed_of("sweep: {latency.delay_ms: [250]}", "latency.delay_ms=250", 0),
               seed_of("sweep: {latency.delay_ms: [2.5e2, 1]}", "latency.delay_ms=2.5e2", 0)));
  cr_assert(eq(u64, seed_of("sweep: {lookup.strategy: [pipelined]}", "lookup.strategy=pipelined", 0),
               seed_of("sweep: {lookup.strategy: ['pipelined']}", "lookup.strategy=pipelined", 0)));
  cr_assert(ne(u64, seed_of("sweep: {loss.request_drop: [0.1]}", "loss.request_drop=0.1", 0),
               seed_of("sweep: {loss.response_drop: [0.1]}", "loss.response_drop=0.1", 0)));
  /* The base seed matters; other keys do not. */
  cr_assert(ne(u64, seed_of("seed: 2\nsweep: {lookup.k: [4]}", "lookup.k=4", 0),
               seed_of("seed: 1\nsweep: {lookup.k: [4]}", "lookup.k=4", 0)));
  cr_assert(eq(u64, seed_of("lookup: {alpha: 5}\nsweep: {lookup.k: [4]}", "lookup.k=4", 0),
               seed_of("sweep: {lookup.k: [4]}", "lookup.k=4", 0)));
  /* A sweep's point 0, replica 0 does not reuse the seed. */
  cr_assert(ne(u64, seed_of("seed: 5\nsweep: {lookup.k: [4]}", "lookup.k=4", 0), 5));

  /* The documented derivation: dht_seed_derive(dht_seed_derive(seed, FNV-1a-64(assignments)), replica),
   * assignments sorted by key, "\n"-separated, canonical values. */
  cr_assert(eq(u64, seed_of("sweep: {lookup.k: [16], latency.delay_ms: [0.25], loss.request_drop: [.5]}",
                            "lookup.k=16 latency.delay_ms=0.25 loss.request_drop=.5", 3),
               dht_seed_derive(dht_seed_derive(1, fnv1a64("latency.delay_ms=250\nlookup.k=16\nloss.request_drop=0.5")),
                               3)));
  cr_assert(eq(u64, seed_of("seed: 9\nsweep: {network.tables: [\"full\"], loss.response_drop: [0.1]}",
                            "network.tables=full loss.response_drop=0.1", 0),
               dht_seed_derive(
                 dht_seed_derive(9, fnv1a64("loss.response_drop=0.10000000000000001\nnetwork.tables=full")), 0)));
  cr_assert(eq(u64, seed_of("seed: 9", "", 4), dht_seed_derive(dht_seed_derive(9, fnv1a64("")), 4)));
}

/* The memory check at parse time uses the sweep's largest point. */
Test(sweep, memory_largest_point) {
  setenv("DHTSIM_MEMORY_LIMIT", "1048576", 1);
  sim_scenario sc, pt;
  char err[ERRLEN];
  int rc = parse_str(&sc, "mem.yaml", "network: {tables: full}\nsweep:\n  network.nodes: [100, 100000, 1000]\n", err);
  cr_assert(eq(int, rc, DHT_ETOOBIG));
  cr_assert(g_str_has_prefix(err, "mem.yaml:3:3: sweep: network.nodes: 100000 nodes with full tables (K 8) and 100 "
                                  "lookups (the sweep's largest point) need an estimated "),
            "%s", err);
  cr_assert(g_str_has_suffix(err, ", more than the DHTSIM_MEMORY_LIMIT of 1.0 MiB"), "%s", err);
  assert_cleared(&sc);

  /* K and tables together, nodes fixed: blamed at K; full tables from the sweep. */
  rc = parse_str(&sc, "mem.yaml",
                 "network: {nodes: 20000}\nsweep:\n  network.tables: [random, full]\n  lookup.k: [256, 2]\n", err);
  cr_assert(eq(int, rc, DHT_ETOOBIG));
  cr_assert(g_str_has_prefix(err, "mem.yaml:4:3: sweep: lookup.k: 20000 nodes with full tables (K 256) and 100 "
                                  "lookups (the sweep's largest point) need an estimated "),
            "%s", err);
  assert_cleared(&sc);

  /* Lookups still blamed at their key. */
  setenv("DHTSIM_MEMORY_LIMIT", "1073741824", 1);
  rc = parse_str(&sc, "mem.yaml", "network: {nodes: 2}\nworkload: {lookups: 1000000000}\nsweep: {lookup.k: [1, 2]}\n",
                 err);
  cr_assert(eq(int, rc, DHT_ETOOBIG));
  cr_assert(g_str_has_prefix(err, "mem.yaml:2:21: workload.lookups: 2 nodes with random tables (K 2) and 1000000000 "
                                  "lookups need an estimated"),
            "%s", err);

  /* Fits: every point is checked again when taken (here under a lower limit). */
  setenv("DHTSIM_MEMORY_LIMIT", BIG_LIMIT, 1);
  rc = parse_str(&sc, "mem.yaml", "network: {tables: full}\nsweep:\n  network.nodes: [100, 1000000]\n", err);
  cr_assert(eq(int, rc, 0), "%s", err);
  setenv("DHTSIM_MEMORY_LIMIT", "16777216", 1);
  cr_assert(eq(int, sim_scenario_point(&sc, 0, &pt, err, sizeof err), 0), "%s", err);
  cr_assert(eq(int, sim_scenario_point(&sc, 1, &pt, err, sizeof err), DHT_ETOOBIG));
  cr_assert(g_str_has_prefix(err, "mem.yaml: point 1 (network.nodes=1000000): network.nodes: 1000000 nodes with full "
                                  "tables (K 8) and 100 lookups need an estimated "),
            "%s", err);
  cr_assert(g_str_has_suffix(err, ", more than the DHTSIM_MEMORY_LIMIT of 16.0 MiB"), "%s", err);
  setenv("DHTSIM_MEMORY_LIMIT", "x", 1);
  cr_assert(eq(int, sim_scenario_point(&sc, 0, &pt, err, sizeof err), DHT_EINVAL));
  cr_assert(eq(str, err, "mem.yaml: point 0 (network.nodes=100): DHTSIM_MEMORY_LIMIT: expected a positive integer "
                         "number of bytes, got 'x'"));
  sim_scenario_clear(&sc);
}

/* The shipped sweep scenarios. */
Test(sweep, repo_scenarios) {
  to_root();
  setenv("DHTSIM_MEMORY_LIMIT", BIG_LIMIT, 1);
  static const struct {
    const char *file;
    uint64_t points;
    uint32_t replicas;
  } want[] = {{"alpha-k-sweep", 32, 5}, {"scaling", 5, 3}, {"loss-sweep", 6, 5}};
  for (size_t i = 0; i < G_N_ELEMENTS(want); i++) {
    char *path = g_strdup_printf("scenarios/%s.yaml", want[i].file);
    sim_scenario sc, pt;
    char err[ERRLEN];
    cr_assert(eq(int, sim_scenario_load(&sc, path, err, sizeof err), 0), "%s", err);
    cr_assert(eq(u64, sim_scenario_point_count(&sc), want[i].points));
    cr_assert(eq(u32, sc.replicas, want[i].replicas));
    for (uint64_t p = 0; p < want[i].points; p++)
      cr_assert(eq(int, sim_scenario_point(&sc, p, &pt, err, sizeof err), 0), "%s", err);
    sim_scenario_clear(&sc);
    g_free(path);
  }
}

/* ---- robustness ------------------------------------------------------------------ */

/* Any input: a return code from the list, a one-line message naming the path on
 * failure, nothing allocated on failure (the sanitizer build checks leaks). */
static void check_any(const char *data, size_t len) {
  sim_scenario sc;
  char err[ERRLEN];
  int rc = sim_scenario_parse(&sc, "fuzz.yaml", data, len, err, sizeof err);
  if (rc == 0) {
    cr_assert(eq(str, err, ""));
    cr_assert(ne(ptr, sc.name, NULL));
    cr_assert(ge(u64, sc.network.nodes, 2));
    cr_assert(le(u64, sc.network.nodes, SIM_NODES_MAX));
    cr_assert(ge(u32, sc.replicas, 1));
    cr_assert(le(u32, sc.replicas, 10000));
    uint64_t points = sim_scenario_point_count(&sc);
    cr_assert(ge(u64, points, 1));
    cr_assert(le(u64, points, SIM_POINTS_MAX));
    if (sc.n_sweep == 0)
      cr_assert(le(u64, sc.latency.min_us, sc.latency.max_us));
    /* A few points (first and last): valid, or refused with a one-line message. */
    for (uint64_t i = 0; i < points && i < 4; i++) {
      uint64_t p = i % 2 == 0 ? i / 2 : points - 1 - i / 2;
      sim_scenario pt;
      int prc = sim_scenario_point(&sc, p, &pt, err, sizeof err);
      if (prc == 0) {
        cr_assert(le(u64, pt.latency.min_us, pt.latency.max_us));
        cr_assert(ge(u32, pt.workload.plant_at, 1));
        cr_assert(eq(ptr, pt.sweep, NULL));
      } else {
        cr_assert(prc == DHT_EINVAL || prc == DHT_ETOOBIG, "rc %d", prc);
        cr_assert(g_str_has_prefix(err, "fuzz.yaml: point "), "%s", err);
        cr_assert(eq(ptr, strchr(err, '\n'), NULL), "%s", err);
      }
      (void)sim_scenario_run_seed(&sc, p, 0);
    }
    sim_scenario_clear(&sc);
    assert_cleared(&sc);
    return;
  }
  cr_assert(rc == DHT_EINVAL || rc == DHT_ETOOBIG || rc == DHT_ENOMEM, "rc %d", rc);
  cr_assert(g_str_has_prefix(err, "fuzz.yaml"), "%s", err);
  cr_assert(eq(ptr, strchr(err, '\n'), NULL), "%s", err);
  assert_cleared(&sc);
}

Test(robust, huge_scalars) {
  setenv("DHTSIM_MEMORY_LIMIT", BIG_LIMIT, 1);
  size_t n = 4u << 20;
  GString *s = g_string_new("name: ");
  for (size_t i = 0; i < n; i++)
    g_string_append_c(s, 'x');
  check_any(s->str, s->len);
  g_string_assign(s, "");
  for (size_t i = 0; i < n; i++)
    g_string_append_c(s, 'k');
  g_string_append(s, ": 1\n");
  check_any(s->str, s->len);
  /* libyaml allows implicit keys of up to 1024 characters. */
  g_string_assign(s, "");
  for (size_t i = 0; i < 1000; i++)
    g_string_append_c(s, 'k');
  g_string_append(s, ": 1\n");
  sim_scenario sc;
  char err[ERRLEN];
  int rc = sim_scenario_parse(&sc, "fuzz.yaml", s->str, s->len, err, sizeof err);
  cr_assert(eq(int, rc, DHT_EINVAL));
  cr_assert(eq(str, err, "fuzz.yaml:1:1: unknown key 'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk...' at the top "
                         "level (expected one of: name, seed, network, latency, loss, lookup, workload, churn, "
                         "replicas, sweep, events)"));
  g_string_assign(s, "seed: ");
  for (size_t i = 0; i < 100000; i++)
    g_string_append_c(s, '9');
  check_any(s->str, s->len);
  g_string_free(s, TRUE);
}

Test(robust, deep_nesting) {
  size_t depth = 200000;
  GString *s = g_string_new("");
  for (size_t i = 0; i < depth; i++)
    g_string_append_c(s, '[');
  check_any(s->str, s->len);
  g_string_assign(s, "network:\n  nodes: ");
  for (size_t i = 0; i < depth; i++)
    g_string_append(s, "{a: ");
  check_any(s->str, s->len);
  g_string_assign(s, "");
  for (size_t i = 0; i < 1000; i++)
    g_string_append_printf(s, "%*sa:\n", (int)(2 * i), "");
  check_any(s->str, s->len);
  g_string_free(s, TRUE);
}

Test(robust, anchors_aliases_tags) {
  static const char *const inputs[] = {
    "&top {seed: 1}",
    "network: &n {nodes: 10}\nlookup: *n\n",
    "a: &a [*a]\n",
    "<<: {seed: 1}\n",
    "lookup: {<<: *x}\n",
    "!!map {seed: 1}",
    "network: !custom {nodes: 10}",
    "seed: !!str 1",
    "!!str seed: 1",
    "*a : 1",
    "%YAML 1.1\n---\nseed: 2\n",
    "%TAG ! tag:example.com,2000:\n---\nseed: !foo 2\n",
    "seed: 1\n...\n---\n",
    "? seed\n: 3\n",
    "seed: |\n  12\n",
    "seed: >\n  12\n",
    "name: 'it''s'\n",
    "name: \"\\u0000\"\n",
    "name: \"\\x80\"\n",
    /* Parenthesised: the concatenations keep hex escapes apart, they are not missing commas. */
    ("\xff\xfe" "s\0e\0e\0d\0:\0 \0" "1\0"),
    ("\xfe\xff\0s\0e\0e\0d\0:\0 \0" "1"),
    "seed: 1 # comment\n# end",
    "{seed: 1, seed: 1}",
    "[{seed: 1}]",
    "- - - -",
    "seed: [1, 2",
    "\t",
    "'",
    "\"",
    "{",
    "}",
    "? ? ? ?",
    "&a &b seed: 1",
  };
  for (size_t i = 0; i < G_N_ELEMENTS(inputs); i++) {
    size_t len = strlen(inputs[i]);
    if (inputs[i][0] == '\xff' || inputs[i][0] == '\xfe')
      len = 16;
    check_any(inputs[i], len);
  }
}

/* Deterministic mutation fuzzing of the good files and the corpus. */
Test(robust, mutations) {
  to_root();
  setenv("DHTSIM_MEMORY_LIMIT", BIG_LIMIT, 1);
  static const char *const seeds[] = {
    "tests/scenarios/good/every_key.yaml", "tests/scenarios/good/edges.yaml", "tests/scenarios/good/files.yaml",
    "tests/scenarios/bad/syntax_error.yaml", "tests/scenarios/bad/alias.yaml", "scenarios/lossy.yaml",
    "tests/scenarios/good/sweep.yaml", "scenarios/alpha-k-sweep.yaml",
  };
  static const char alphabet[] = "{}[]:,-?&*!|>'\"#%@` \n\t0123456789.eE+-_xyz\xc3\xa9\xff\x00~";
  uint64_t state = 42;
  for (size_t si = 0; si < G_N_ELEMENTS(seeds); si++) {
    char *orig = NULL;
    size_t olen = 0;
    cr_assert(g_file_get_contents(seeds[si], &orig, &olen, NULL));
    for (int round = 0; round < 400; round++) {
      char *buf = g_malloc(olen + 16);
      memcpy(buf, orig, olen);
      size_t len = olen;
      int edits = 1 + (int)(dht_splitmix64(&state) % 4);
      for (int e = 0; e < edits && len > 0; e++) {
        uint64_t r = dht_splitmix64(&state);
        size_t pos = (size_t)(r % len);
        char ch = alphabet[(r >> 32) % (sizeof alphabet - 1)];
        switch ((r >> 48) % 4) {
        case 0: buf[pos] = ch; break;                                            /* replace */
        case 1: memmove(buf + pos, buf + pos + 1, len - pos - 1); len--; break;  /* delete */
        case 2: memmove(buf + pos + 1, buf + pos, len - pos); buf[pos] = ch; len++; break; /* insert */
        default: len = pos; break;                                               /* truncate */
        }
      }
      check_any(buf, len);
      g_free(buf);
    }
    g_free(orig);
  }
}

/* ---- lookups files ----------------------------------------------------------------- */

static int load_lookups(const char *name, uint32_t n_nodes, sim_lookup_spec **specs, size_t *n, char *err) {
  char *path = g_strdup_printf("tests/scenarios/lookups/%s.txt", name);
  int rc = sim_lookups_load(path, n_nodes, specs, n, err, ERRLEN);
  g_free(path);
  return rc;
}

Test(lookups, good_file) {
  to_root();
  sim_lookup_spec *specs = NULL;
  size_t n = 0;
  char err[ERRLEN], hex[DHT_ID_HEXLEN + 1];
  int rc = load_lookups("good", 100, &specs, &n, err);
  cr_assert(eq(int, rc, 0), "%s", err);
  cr_assert(eq(sz, n, 5));
  static const struct {
    uint32_t start;
    const char *hex;
  } want[] = {
    {0, "0000000000000000000000000000000000000000"},
    {99, "ffffffffffffffffffffffffffffffffffffffff"},
    {42, "0123456789abcdefabcdef0123456789abcdef01"},
    {7, "00112233445566778899aabbccddeeff00112233"},
    {8, "00112233445566778899aabbccddeeff00112234"}, /* no final newline */
  };
  for (size_t i = 0; i < n; i++) {
    cr_assert(eq(u32, specs[i].start, want[i].start));
    dht_id_to_hex(&specs[i].target, hex);
    cr_assert(eq(str, hex, (char *)want[i].hex));
  }
  g_free(specs);

  rc = load_lookups("many", 100, &specs, &n, err);
  cr_assert(eq(int, rc, 0), "%s", err);
  cr_assert(eq(sz, n, 100));
  cr_assert(eq(u32, specs[99].start, 99));
  g_free(specs);

  rc = load_lookups("long_comment", 2, &specs, &n, err);
  cr_assert(eq(int, rc, 0), "%s", err);
  cr_assert(eq(sz, n, 1));
  g_free(specs);
}

typedef struct lookups_case {
  char name[32];
  uint32_t n_nodes;
  int rc;
  char msg[200];
} lookups_case;

static lookups_case lookups_cases[] = {
  {"bad_index", 100, DHT_EINVAL,
   "tests/scenarios/lookups/bad_index.txt:2: bad start node index 'x1' (expected a decimal integer)"},
  {"negative_index", 100, DHT_EINVAL,
   "tests/scenarios/lookups/negative_index.txt:1: bad start node index '-1' (expected a decimal integer)"},
  {"plus_index", 100, DHT_EINVAL,
   "tests/scenarios/lookups/plus_index.txt:1: bad start node index '+1' (expected a decimal integer)"},
  {"index_overflow", 100, DHT_EINVAL,
   "tests/scenarios/lookups/index_overflow.txt:1: start node index 18446744073709551616 is out of range (the "
   "network has 100 nodes: 0 to 99)"},
  {"index_range", 100, DHT_EINVAL,
   "tests/scenarios/lookups/index_range.txt:2: start node index 100 is out of range (the network has 100 nodes: 0 "
   "to 99)"},
  {"index_range", 0, DHT_EINVAL,
   "tests/scenarios/lookups/index_range.txt:1: start node index 1 is out of range (the network has no nodes)"},
  {"bad_hex", 100, DHT_EINVAL,
   "tests/scenarios/lookups/bad_hex.txt:1: bad target '000000000000000000000000000000000000000g' (expected 40 hex "
   "digits)"},
  {"short_hex", 100, DHT_EINVAL,
   "tests/scenarios/lookups/short_hex.txt:1: bad target '000000000000000000000000000000000000000' (expected 40 hex "
   "digits)"},
  {"one_field", 100, DHT_EINVAL,
   "tests/scenarios/lookups/one_field.txt:2: expected 2 fields '<start node index> <target: 40 hex digits>', got 1"},
  {"trailing", 100, DHT_EINVAL, "tests/scenarios/lookups/trailing.txt:1: unexpected text 'extra' after the target"},
  {"comments_only", 100, DHT_EINVAL,
   "tests/scenarios/lookups/comments_only.txt: no lookups in the file (only blank lines and comments)"},
  {"empty", 100, DHT_EINVAL, "tests/scenarios/lookups/empty.txt: no lookups in the file (only blank lines and comments)"},
  {"long_line", 100, DHT_EINVAL, "tests/scenarios/lookups/long_line.txt:1: line too long (more than 512 bytes)"},
  {"no_such_file", 100, DHT_ENOENT, "tests/scenarios/lookups/no_such_file.txt: cannot open: No such file or directory"},
};

ParameterizedTestParameters(lookups, bad) {
  return cr_make_param_array(lookups_case, lookups_cases, G_N_ELEMENTS(lookups_cases));
}

ParameterizedTest(lookups_case *c, lookups, bad) {
  to_root();
  sim_lookup_spec *specs = (sim_lookup_spec *)&specs; /* must be reset */
  size_t n = 77;
  char err[ERRLEN];
  int rc = load_lookups(c->name, c->n_nodes, &specs, &n, err);
  cr_assert(eq(int, rc, c->rc));
  cr_assert(eq(str, err, c->msg));
  cr_assert(eq(ptr, specs, NULL));
  cr_assert(eq(sz, n, 0));
}

Test(lookups, memory_limit) {
  to_root();
  /* 24-byte specs: 1000 bytes hold 41 of them; many.txt has 100. */
  cr_assert(eq(sz, sizeof(sim_lookup_spec), 24));
  setenv("DHTSIM_MEMORY_LIMIT", "1000", 1);
  sim_lookup_spec *specs = NULL;
  size_t n = 0;
  char err[ERRLEN];
  int rc = load_lookups("many", 100, &specs, &n, err);
  cr_assert(eq(int, rc, DHT_ETOOBIG));
  cr_assert(eq(str, err,
               "tests/scenarios/lookups/many.txt:42: 42 lookups need 1008 bytes, more than the DHTSIM_MEMORY_LIMIT "
               "of 1000 bytes"));
  cr_assert(eq(ptr, specs, NULL));
  setenv("DHTSIM_MEMORY_LIMIT", "2400", 1); /* exactly 100 */
  rc = load_lookups("many", 100, &specs, &n, err);
  cr_assert(eq(int, rc, 0), "%s", err);
  cr_assert(eq(sz, n, 100));
  g_free(specs);
}

Test(lookups, directory) {
  to_root();
  sim_lookup_spec *specs = NULL;
  size_t n = 0;
  char err[ERRLEN];
  int rc = sim_lookups_load("tests/scenarios/lookups", 100, &specs, &n, err, sizeof err);
  /* Refused on opening, as bad input (exit 2), not a read error (exit 1). */
  cr_assert(eq(int, rc, DHT_EINVAL));
  cr_assert(eq(str, err, "tests/scenarios/lookups: is a directory"));
}

/* The duplicate check keeps working past its first growths (8 values, 16 slots):
 * 64 distinct values, then a spelling of the 33rd. */
Test(scenario, sweep_duplicate_found_among_many_values) {
  GString *y = g_string_new("sweep:\n  lookup.alpha: [");
  sim_scenario sc;
  char err[ERRLEN];
  for (int v = 1; v <= 64; v++)
    g_string_append_printf(y, "%d, ", v);
  g_string_append(y, "033]\n");
  to_root();
  setenv("DHTSIM_MEMORY_LIMIT", BIG_LIMIT, 1);
  int rc = sim_scenario_parse(&sc, "many.yaml", y->str, y->len, err, sizeof err);
  cr_assert(eq(int, rc, DHT_EINVAL));
  /* 1-based columns on line 2: after "  lookup.alpha: [" and the "v, " before. */
  size_t col33 = strlen("  lookup.alpha: [") + 1, col_dup = col33;
  for (int v = 1; v <= 64; v++) {
    size_t w = (size_t)snprintf(NULL, 0, "%d, ", v);
    col33 += v < 33 ? w : 0;
    col_dup += w;
  }
  char want[256];
  snprintf(want, sizeof want,
           "many.yaml:2:%zu: sweep: lookup.alpha: duplicate value '033' (the same value as '33' at line 2, column %zu)",
           col_dup, col33);
  cr_assert(eq(str, err, want));
  /* Without the duplicate, all 64 are kept in order. */
  g_string_truncate(y, y->len - strlen("033]\n") - 2);
  g_string_append(y, "]\n");
  rc = sim_scenario_parse(&sc, "many.yaml", y->str, y->len, err, sizeof err);
  cr_assert(eq(int, rc, 0), "%s", err);
  cr_assert(eq(sz, sc.sweep[0].n, 64));
  cr_assert(eq(str, sc.sweep[0].values[63], "64"));
  sim_scenario_clear(&sc);
  g_string_free(y, TRUE);
  unsetenv("DHTSIM_MEMORY_LIMIT");
}

/* lookup.alpha, timeout_ms and candidate_cap left out (or 0) take the
 * strategy's defaults; given, they override them; swept strategies resolve
 * per point. */
Test(good, strategy_defaults_fill_what_is_not_given) {
  static const struct {
    const char *yaml;
    unsigned alpha, cap;
    uint64_t timeout_us;
  } cases[] = {
      {"lookup:\n  strategy: rounds\n", 3, 0, 2000000},
      {"lookup:\n  strategy: libtorrent\n", 5, 100, 15000000},
      {"lookup:\n  strategy: libtorrent\n  alpha: 0\n  timeout_ms: 0\n", 5, 100, 15000000},
      {"lookup:\n  strategy: libtorrent\n  alpha: 2\n  timeout_ms: 700\n  candidate_cap: 9\n", 2, 9, 700000},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    sim_scenario sc;
    char err[ERRLEN];
    int rc = sim_scenario_parse(&sc, "t.yaml", cases[i].yaml, strlen(cases[i].yaml), err, sizeof err);
    cr_assert(eq(int, rc, 0), "%s", err);
    cr_assert(eq(uint, sc.lookup.alpha, cases[i].alpha), "case %zu", i);
    cr_assert(eq(uint, sc.lookup.candidate_cap, cases[i].cap), "case %zu", i);
    cr_assert(eq(u64, sc.lookup.timeout_us, cases[i].timeout_us), "case %zu", i);
    sim_scenario_clear(&sc);
  }
  const char *swept = "sweep:\n  lookup.strategy: [rounds, libtorrent]\n";
  sim_scenario base, pt;
  char err[ERRLEN];
  cr_assert(eq(int, sim_scenario_parse(&base, "t.yaml", swept, strlen(swept), err, sizeof err), 0), "%s", err);
  cr_assert(eq(uint, base.lookup.alpha, 0), "unresolved in the base");
  cr_assert(eq(int, sim_scenario_point(&base, 0, &pt, err, sizeof err), 0), "%s", err);
  cr_assert(eq(uint, pt.lookup.alpha, 3));
  cr_assert(eq(int, sim_scenario_point(&base, 1, &pt, err, sizeof err), 0), "%s", err);
  cr_assert(eq(uint, pt.lookup.alpha, 5));
  cr_assert(eq(u64, pt.lookup.timeout_us, 15000000));
  sim_scenario_clear(&base);
}
