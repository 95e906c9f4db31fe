/* test_param.c: the parameter table (sim/param.def, sim/param.c): its shape,
 * the defaults, the setter's bounds, canonical and display text, the
 * fingerprint (every parameter must move it) and the generated key table of
 * docs/scenario-format.md. After changing param.def:
 *   DHTSIM_REGENERATE_DOCS=1 ./build/tests/test_param   (and ./build/tests/test_outputs)
 * rewrites the generated blocks of docs/; review `git diff docs/`. */
#include <criterion/criterion.h>
#include "criterion_assert.h"
#include <criterion/parameterized.h>
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "param.h"
#include "scenario.h"

/* ---- the table's shape ---- */

Test(param, keys_are_unique_and_found) {
  for (int i = 0; i < SIM_PARAM_COUNT; i++) {
    const char *k = sim_params[i].key;
    cr_assert(eq(int, sim_param_find(k, strlen(k)), i), "%s", k);
    for (int j = 0; j < i; j++)
      cr_assert(ne(str, (char *)k, (char *)sim_params[j].key));
    {
      /* At most a section and a sub-section (churn.session.model): the parser's
       * duplicate tracking has two levels. */
      const char *dot = strchr(sim_param_name((sim_param_id)i), '.');
      cr_assert(dot == NULL || strchr(dot + 1, '.') == NULL, "%s: at most two levels of sections", k);
      /* A LIVING key is never sweepable: every point of a sweep has the same columns. */
      bool living_swept = (sim_params[i].flags & SIM_PARAM_LIVING) && (sim_params[i].flags & SIM_PARAM_SWEEP);
      cr_assert(not(living_swept), "%s", k);
    }
    cr_assert(sim_params[i].doc[0] != '\0', "%s has no doc", k);
  }
  cr_assert(eq(int, sim_param_find("lookup", 6), -1));
  cr_assert(eq(int, sim_param_find("lookup.alph", 11), -1));
  cr_assert(eq(int, sim_param_find("lookup.alpha", 11), -1), "a prefix is not a key");
  cr_assert(eq(int, sim_param_find("lookup.alphas", 13), -1));
  cr_assert(eq(int, sim_param_find("lookup.alpha", 12), SIM_P_LOOKUP_ALPHA));
  cr_assert(eq(str, (char *)sim_param_name(SIM_P_LATENCY_SIGMA), "sigma"));
  cr_assert(eq(sz, sim_param_section_len(SIM_P_LATENCY_SIGMA), 7));
  cr_assert(eq(sz, sim_param_section_len(SIM_P_SEED), 0));
}

Test(param, fields_match_their_types) {
  for (int i = 0; i < SIM_PARAM_COUNT; i++) {
    const sim_param *p = &sim_params[i];
    switch (p->type) {
    case SIM_PT_UINT: {
      cr_assert(p->size == 1 || p->size == 4 || p->size == 8, "%s", p->key);
      uint64_t fmax = p->size == 8 ? UINT64_MAX : (UINT64_C(1) << (8 * p->size)) - 1;
      cr_assert(le(u64, p->imax, fmax), "%s: the range must fit the field", p->key);
      cr_assert(le(u64, p->imin, p->idef), "%s default below range", p->key);
      cr_assert(le(u64, p->idef, p->imax), "%s default above range", p->key);
      break;
    }
    case SIM_PT_DURATION: cr_assert(eq(sz, p->size, sizeof(uint64_t)), "%s", p->key); /* fall through */
    case SIM_PT_REAL:
      if (p->type == SIM_PT_REAL)
        cr_assert(eq(sz, p->size, sizeof(double)), "%s", p->key);
      cr_assert(p->fdef >= p->fmin && p->fdef <= p->fmax, "%s default out of range", p->key);
      break;
    case SIM_PT_ENUM: {
      size_t n = 0;
      cr_assert(eq(sz, p->size, sizeof(int)), "%s: enums are int-sized", p->key);
      cr_assert(p->names != NULL, "%s", p->key);
      while (p->names[n] != NULL)
        n++;
      /* An enum may have one value (none has, so far). */
      cr_assert(ge(sz, n, 1), "%s", p->key);
      cr_assert(lt(u64, p->idef, n), "%s", p->key);
      break;
    }
    case SIM_PT_NAME:
    case SIM_PT_PATH:
      cr_assert(eq(sz, p->size, sizeof(char *)), "%s", p->key);
      cr_assert(eq(uint, p->flags & SIM_PARAM_SWEEP, 0), "%s: a point shares strings with its base, so they are not sweepable",
                p->key);
      break;
    case SIM_PT_BOOL: cr_assert(eq(sz, p->size, sizeof(bool)), "%s", p->key); break;
    }
  }
}

Test(param, enum_names_follow_the_enums) {
  cr_assert(eq(str, (char *)sim_param_enum_name(SIM_P_LOOKUP_STRATEGY, DHT_LOOKUP_ROUNDS), "rounds"));
  cr_assert(eq(str, (char *)sim_param_enum_name(SIM_P_LOOKUP_STRATEGY, DHT_LOOKUP_PIPELINED), "pipelined"));
  cr_assert(eq(str, (char *)sim_param_enum_name(SIM_P_NETWORK_TABLES, SIM_TABLES_FULL), "full"));
  cr_assert(eq(str, (char *)sim_param_enum_name(SIM_P_LATENCY_MODEL, SIM_LATENCY_LOGNORMAL), "lognormal"));
  cr_assert(eq(str, (char *)sim_param_enum_name(SIM_P_WORKLOAD_ARRIVAL, SIM_ARRIVAL_POISSON), "poisson"));
  cr_assert(eq(str, (char *)sim_param_enum_name(SIM_P_LOOKUP_STRATEGY, DHT_LOOKUP_LIBTORRENT), "libtorrent"));
  cr_assert(eq(str, (char *)sim_param_enum_name(SIM_P_LOOKUP_STRATEGY, DHT_LOOKUP_JECH), "jech"));
  cr_assert(eq(str, (char *)sim_param_enum_name(SIM_P_LOOKUP_STRATEGY, DHT_LOOKUP_BITTORRENT_DHT), "bittorrent-dht"));
  cr_assert(eq(str, (char *)sim_param_enum_name(SIM_P_LOOKUP_STRATEGY, DHT_LOOKUP_ARIA2), "aria2"));
  cr_assert(eq(str, (char *)sim_param_enum_name(SIM_P_LOOKUP_STRATEGY, DHT_LOOKUP_LIBP2P), "libp2p"));
  cr_assert(eq(str, (char *)sim_param_enum_name(SIM_P_LOOKUP_STRATEGY, DHT_LOOKUP_MLDHT + 1), "?"));
  cr_assert(eq(str, (char *)sim_param_enum_name(SIM_P_LOOKUP_STRATEGY, -1), "?"));
  cr_assert(eq(str, (char *)sim_param_enum_name(SIM_P_LOOKUP_ALPHA, 0), "?"), "not an enum");
}

/* Every default, written out: a flipped default must fail here. */
Test(param, defaults) {
  sim_scenario sc;
  sim_scenario_defaults(&sc);
  cr_assert(sc.name == NULL && sc.path == NULL && sc.network.topology == NULL && sc.workload.lookups_file == NULL);
  cr_assert(eq(u64, sc.seed, 1));
  cr_assert(eq(u64, sc.network.nodes, 100));
  cr_assert(eq(int, (int)sc.network.tables, SIM_TABLES_RANDOM));
  cr_assert(eq(int, (int)sc.latency.model, SIM_LATENCY_CONSTANT));
  cr_assert(eq(u64, sc.latency.delay_us, 50000));
  cr_assert(eq(u64, sc.latency.min_us, 10000));
  cr_assert(eq(u64, sc.latency.max_us, 100000));
  cr_assert(eq(u64, sc.latency.median_us, 50000));
  cr_assert(eq(dbl, sc.latency.sigma, 0.5));
  cr_assert(eq(dbl, sc.latency.slow_fraction, 0.0));
  cr_assert(eq(dbl, sc.latency.slow_multiplier, 10.0));
  cr_assert(eq(dbl, sc.loss.request_drop, 0.0));
  cr_assert(eq(dbl, sc.loss.response_drop, 0.0));
  cr_assert(eq(dbl, sc.loss.dead_fraction, 0.0));
  cr_assert(eq(int, (int)sc.lookup.strategy, DHT_LOOKUP_ROUNDS));
  cr_assert(eq(uint, sc.lookup.alpha, 3));
  cr_assert(eq(uint, sc.lookup.k, 8));
  cr_assert(eq(u64, sc.lookup.timeout_us, 2000000));
  cr_assert(eq(u64, sc.lookup.short_timeout_us, 1000000));
  cr_assert(eq(uint, sc.lookup.candidate_cap, 0)); /* rounds has no candidate cap */
  cr_assert(eq(u64, sc.workload.lookups, 100));
  cr_assert(eq(u32, sc.workload.planted_peers, 5));
  cr_assert(eq(u32, sc.workload.plant_at, 8));
  cr_assert(eq(int, (int)sc.workload.arrival, SIM_ARRIVAL_SEQUENTIAL));
  cr_assert(eq(dbl, sc.workload.rate_per_s, 10.0));
  cr_assert(eq(u32, sc.replicas, 1));
  cr_assert(sc.sweep == NULL && sc.n_sweep == 0);
}

/* ---- the setter's bounds ---- */

typedef struct set_case {
  char key[32];
  char text[48];
  bool plain;
  bool ok;
  char want[160]; /* the "expected" text when refused ("" to skip) */
} set_case;

ParameterizedTestParameters(param, setter_bounds) {
  static set_case cases[] = {
      {"lookup.alpha", "0", true, true, ""}, /* the strategy's default */
      {"lookup.alpha", "-1", true, false, "an integer from 0 to 64"},
      {"lookup.candidate_cap", "256", true, true, ""},
      {"lookup.candidate_cap", "257", true, false, "an integer from 0 to 256"},
      {"lookup.alpha", "1", true, true, ""},
      {"lookup.alpha", "64", true, true, ""},
      {"lookup.alpha", "65", true, false, ""},
      {"lookup.alpha", "3", false, false, ""}, /* quoted number */
      {"lookup.alpha", "+3", true, false, ""},
      {"lookup.alpha", "3.0", true, false, ""},
      {"lookup.alpha", "", true, false, ""},
      {"lookup.k", "256", true, true, ""},
      {"lookup.k", "257", true, false, "an integer from 1 to 256"},
      {"seed", "0", true, true, ""},
      {"seed", "18446744073709551615", true, true, ""},
      {"seed", "18446744073709551616", true, false, ""},
      {"seed", "000000000000000000000000000000000000007", true, true, ""},
      {"network.nodes", "1", true, false, "an integer from 2 to 268435456"},
      {"network.nodes", "2", true, true, ""},
      {"network.nodes", "268435456", true, true, ""},
      {"network.nodes", "268435457", true, false, ""},
      {"replicas", "10000", true, true, ""},
      {"replicas", "10001", true, false, ""},
      {"workload.lookups", "1000000000", true, true, ""},
      {"workload.lookups", "1000000001", true, false, "an integer from 1 to 1000000000"},
      {"workload.planted_peers", "0", true, true, ""},
      {"loss.dead_fraction", "0", true, true, ""},
      {"loss.dead_fraction", "0.999", true, true, ""},
      {"loss.dead_fraction", "1", true, false, "a number at least 0 and less than 1"},
      {"loss.request_drop", "1", true, true, ""},
      {"loss.request_drop", "1.0000001", true, false, "a number from 0 to 1"},
      {"loss.request_drop", "-0.0", true, true, ""},
      {"loss.request_drop", "-0.1", true, false, ""},
      {"loss.request_drop", "nan", true, false, ""},
      {"loss.request_drop", "0x1", true, false, ""},
      {"loss.request_drop", "1e400", true, false, ""},
      {"loss.request_drop", "0.5", false, false, ""},
      {"workload.rate_per_s", "0", true, false, "a number greater than 0 and at most 1000000"},
      {"workload.rate_per_s", "1e-9", true, true, ""},
      {"workload.rate_per_s", "1000000", true, true, ""},
      {"workload.rate_per_s", "1000000.5", true, false, ""},
      {"latency.median_ms", "0.001", true, true, ""},
      {"latency.median_ms", "0.0009", true, false, "a number of milliseconds from 0.001 to 3600000"},
      {"latency.delay_ms", "3600000", true, true, ""},
      {"latency.delay_ms", "3600000.001", true, false, ""},
      {"latency.slow_multiplier", "0.99", true, false, "a number from 1 to 1000"},
      {"latency.sigma", "5", true, true, ""},
      {"lookup.strategy", "pipelined", true, true, ""},
      {"lookup.strategy", "pipelined", false, true, ""}, /* quoted words are the same word */
      {"lookup.strategy", "Pipelined", true, false, "rounds, pipelined, libtorrent, jech, bittorrent-dht, aria2, libp2p or mldht"},
      {"latency.model", "x", true, false, "constant, uniform, lognormal, coordinates or matrix"},
      {"name", "~", true, false, "a non-empty one-line string (at most 4096 bytes, no control characters)"},
      {"name", "~", false, true, ""},
      {"name", "a\tb", false, false, ""},
      {"network.topology", "null", true, false, "a file path (at most 4096 bytes, no control characters)"},
  };
  return cr_make_param_array(set_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(set_case *c, param, setter_bounds) {
  sim_scenario sc;
  char want[256] = "";
  int id = sim_param_find(c->key, strlen(c->key));
  cr_assert(ge(int, id, 0), "%s", c->key);
  sim_scenario_defaults(&sc);
  int rc = sim_param_set((sim_param_id)id, c->text, strlen(c->text), c->plain, NULL, &sc, want, sizeof want);
  cr_assert(eq(int, rc, c->ok ? DHT_OK : DHT_EINVAL), "%s = '%s' (plain %d): %s", c->key, c->text, c->plain, want);
  if (!c->ok && c->want[0] != '\0')
    cr_assert(eq(str, want, c->want));
  sim_scenario_clear(&sc);
}

Test(param, setter_stores_converted_values) {
  sim_scenario sc;
  sim_scenario_defaults(&sc);
  cr_assert(eq(int, sim_param_set(SIM_P_LOOKUP_TIMEOUT_MS, "1.0004", 6, true, NULL, &sc, NULL, 0), DHT_OK));
  cr_assert(eq(u64, sc.lookup.timeout_us, 1000));
  cr_assert(eq(int, sim_param_set(SIM_P_LATENCY_DELAY_MS, "12.3456", 7, true, NULL, &sc, NULL, 0), DHT_OK));
  cr_assert(eq(u64, sc.latency.delay_us, 12346));
  cr_assert(eq(int, sim_param_set(SIM_P_LATENCY_DELAY_MS, "0.0005", 6, true, NULL, &sc, NULL, 0), DHT_OK));
  cr_assert(eq(u64, sc.latency.delay_us, 1), "rounded to the nearest µs, half away from zero");
  cr_assert(eq(int, sim_param_set(SIM_P_WORKLOAD_PLANT_AT, "1000", 4, true, NULL, &sc, NULL, 0), DHT_OK));
  cr_assert(eq(u32, sc.workload.plant_at, 1000));
  cr_assert(eq(u32, sc.workload.planted_peers, 5), "the neighbouring field is untouched");
  cr_assert(eq(int, sim_param_set(SIM_P_SEED, "18446744073709551615", 20, true, NULL, &sc, NULL, 0), DHT_OK));
  cr_assert(eq(u64, sc.seed, UINT64_MAX));
  cr_assert(eq(int, sim_param_set(SIM_P_LOOKUP_K, "20", 2, true, NULL, &sc, NULL, 0), DHT_OK));
  cr_assert(eq(uint, sc.lookup.k, 20));
  cr_assert(eq(uint, sc.lookup.alpha, 3));
  cr_assert(eq(int, sim_param_set(SIM_P_LOOKUP_STRATEGY, "pipelined", 9, true, NULL, &sc, NULL, 0), DHT_OK));
  cr_assert(eq(int, (int)sc.lookup.strategy, DHT_LOOKUP_PIPELINED));
  /* Only the given bytes count: "5" of "50". */
  cr_assert(eq(int, sim_param_set(SIM_P_LOOKUP_ALPHA, "50", 1, true, NULL, &sc, NULL, 0), DHT_OK));
  cr_assert(eq(uint, sc.lookup.alpha, 5));
  cr_assert(eq(int, sim_param_set(SIM_P_LOOKUP_ALPHA, "5\0" "0", 3, true, NULL, &sc, NULL, 0), DHT_EINVAL),
            "an embedded NUL is not a number");
  sim_scenario_clear(&sc);
}

Test(param, paths_resolve_against_the_folder) {
  sim_scenario sc;
  sim_scenario_defaults(&sc);
  cr_assert(eq(int, sim_param_set(SIM_P_NETWORK_TOPOLOGY, "t.txt", 5, true, "a/b", &sc, NULL, 0), DHT_OK));
  cr_assert(eq(str, sc.network.topology, "a/b/t.txt"));
  cr_assert(eq(int, sim_param_set(SIM_P_NETWORK_TOPOLOGY, "/abs/t.txt", 10, true, "a/b", &sc, NULL, 0), DHT_OK));
  cr_assert(eq(str, sc.network.topology, "/abs/t.txt"));
  cr_assert(eq(int, sim_param_set(SIM_P_NETWORK_TOPOLOGY, "t.txt", 5, true, ".", &sc, NULL, 0), DHT_OK));
  cr_assert(eq(str, sc.network.topology, "t.txt"));
  cr_assert(eq(int, sim_param_set(SIM_P_NETWORK_TOPOLOGY, "t.txt", 5, true, "/", &sc, NULL, 0), DHT_OK));
  cr_assert(eq(str, sc.network.topology, "/t.txt"));
  cr_assert(eq(int, sim_param_set(SIM_P_NAME, "x y", 3, true, "a/b", &sc, NULL, 0), DHT_OK));
  cr_assert(eq(str, sc.name, "x y"), "names are not paths");
  sim_scenario_clear(&sc);
}

/* ---- canonical and display text ---- */

typedef struct text_case {
  char key[32];
  char in[32];
  char canon[40];
  char shown[40];
} text_case;

ParameterizedTestParameters(param, canon_and_format) {
  static text_case cases[] = {
      {"loss.request_drop", "0.1", "0.10000000000000001", "0.1"},
      {"loss.request_drop", "1e-1", "0.10000000000000001", "0.1"},
      {"loss.request_drop", "-0", "0", "0"},
      {"loss.request_drop", "0.3333333333333333", "0.33333333333333331", "0.3333333333333333"},
      {"loss.request_drop", "1e-7", "9.9999999999999995e-08", "1e-07"},
      {"latency.sigma", "2", "2", "2"},
      {"latency.slow_multiplier", "10", "10", "10"},
      {"latency.slow_multiplier", "1000", "1000", "1000"},
      {"latency.slow_multiplier", "12.5", "12.5", "12.5"},
      {"workload.rate_per_s", "1e6", "1000000", "1000000"},
      {"workload.rate_per_s", "1e-5", "1.0000000000000001e-05", "1e-05"},
      {"workload.rate_per_s", "0.0001", "0.0001", "0.0001"},
      {"loss.request_drop", "0.00001", "1.0000000000000001e-05", "1e-05"},
      {"latency.delay_ms", "1.5", "1500", "1.5"},
      {"latency.delay_ms", "2000", "2000000", "2000"},
      {"latency.delay_ms", "0.001", "1", "0.001"},
      {"latency.delay_ms", "12.3456", "12346", "12.346"},
      {"latency.delay_ms", "0.01", "10", "0.01"},
      {"latency.delay_ms", "1.0004", "1000", "1"},
      {"lookup.alpha", "07", "7", "7"},
      {"network.tables", "full", "full", "full"},
      {"seed", "18446744073709551615", "18446744073709551615", "18446744073709551615"},
  };
  return cr_make_param_array(text_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(text_case *c, param, canon_and_format) {
  sim_scenario sc;
  char out[64];
  int id = sim_param_find(c->key, strlen(c->key));
  sim_scenario_defaults(&sc);
  cr_assert(eq(int, sim_param_set((sim_param_id)id, c->in, strlen(c->in), true, NULL, &sc, NULL, 0), DHT_OK));
  sim_param_canon((sim_param_id)id, &sc, out, sizeof out);
  cr_assert(eq(str, out, c->canon), "canon of %s = %s", c->key, c->in);
  sim_param_format((sim_param_id)id, &sc, out, sizeof out);
  cr_assert(eq(str, out, c->shown), "format of %s = %s", c->key, c->in);
}

Test(param, text_and_set) {
  sim_scenario sc;
  sim_scenario_defaults(&sc);
  cr_assert(sim_param_is_text(SIM_P_LOOKUP_STRATEGY) && sim_param_is_text(SIM_P_NAME) &&
            sim_param_is_text(SIM_P_NETWORK_TOPOLOGY));
  cr_assert(not(sim_param_is_text(SIM_P_LOOKUP_ALPHA)));
  cr_assert(not(sim_param_is_text(SIM_P_LATENCY_SIGMA)));
  cr_assert(not(sim_param_is_text(SIM_P_LOOKUP_TIMEOUT_MS)));
  cr_assert(not(sim_param_is_set(SIM_P_NETWORK_TOPOLOGY, &sc)));
  cr_assert(sim_param_is_set(SIM_P_LOOKUP_ALPHA, &sc));
  char out[8] = "x";
  sim_param_format(SIM_P_NETWORK_TOPOLOGY, &sc, out, sizeof out);
  cr_assert(eq(str, out, ""));
}

/* ---- the fingerprint ---- */

/* A valid value of parameter i other than its default, written into sc. */
static void change(sim_scenario *sc, int i) {
  const sim_param *p = &sim_params[i];
  char text[64];
  switch (p->type) {
  case SIM_PT_UINT: snprintf(text, sizeof text, "%" G_GUINT64_FORMAT, p->idef == p->imax ? p->imin : p->imax); break;
  case SIM_PT_REAL:
  case SIM_PT_DURATION: snprintf(text, sizeof text, "%.17g", (p->fmin + p->fmax) / 2 == p->fdef ? p->fmax : (p->fmin + p->fmax) / 2); break;
  case SIM_PT_ENUM: snprintf(text, sizeof text, "%s", p->names[p->idef == 0 ? 1 : 0]); break;
  case SIM_PT_BOOL: snprintf(text, sizeof text, "%s", p->idef ? "false" : "true"); break;
  case SIM_PT_NAME:
  case SIM_PT_PATH: snprintf(text, sizeof text, "changed"); break;
  }
  cr_assert(eq(int, sim_param_set((sim_param_id)i, text, strlen(text), true, NULL, sc, NULL, 0), DHT_OK), "%s = %s",
            p->key, text);
}

/* A digest of 64 hex digits, all `c`. */
static void fake_digest(char out[SIM_SHA256_HEX], char c) {
  memset(out, c, SIM_SHA256_HEX - 1);
  out[SIM_SHA256_HEX - 1] = '\0';
}

Test(param, every_parameter_moves_the_fingerprint) {
  static const sim_file_digests none;
  sim_scenario base;
  sim_scenario_defaults(&base);
  uint64_t h0 = sim_param_fingerprint(&base, 0, &none);
  cr_assert(eq(u64, sim_param_fingerprint(&base, 0, &none), h0), "deterministic");
  for (int i = 0; i < SIM_PARAM_COUNT; i++) {
    sim_scenario sc;
    sim_file_digests d = none;
    if (sim_params[i].type == SIM_PT_ENUM && sim_params[i].names[1] == NULL)
      continue; /* one value (no enum so far): nothing to change */
    sim_scenario_defaults(&sc);
    change(&sc, i);
    /* A file parameter counts by its file's contents, as its digest says. */
    if (sim_params[i].type == SIM_PT_PATH)
      fake_digest(d.sha256[i], 'a');
    cr_assert(ne(u64, sim_param_fingerprint(&sc, 0, &d), h0), "%s does not reach the fingerprint", sim_params[i].key);
    sim_scenario_clear(&sc);
  }
  cr_assert(ne(u64, sim_param_fingerprint(&base, 5, &none), h0), "the --lookups override counts");
}

/* The topology and lookups files count by their contents (SHA-256), not by
 * their paths: the same file named from another folder gives the same
 * fingerprint, an edited file (same path) another one. */
Test(param, files_count_by_contents_not_paths) {
  static const sim_param_id files[] = {SIM_P_NETWORK_TOPOLOGY, SIM_P_WORKLOAD_LOOKUPS_FILE};
  for (size_t f = 0; f < G_N_ELEMENTS(files); f++) {
    sim_param_id id = files[f];
    sim_scenario a, b;
    sim_file_digests da = {0}, db = {0};
    sim_scenario_defaults(&a);
    sim_scenario_defaults(&b);
    cr_assert(eq(int, sim_param_set(id, "t.txt", 5, true, "dir", &a, NULL, 0), DHT_OK));
    cr_assert(eq(int, sim_param_set(id, "t.txt", 5, true, NULL, &b, NULL, 0), DHT_OK));
    cr_assert(strcmp(sim_param_text(id, &a), sim_param_text(id, &b)) != 0, "the paths differ");
    fake_digest(da.sha256[id], '1');
    fake_digest(db.sha256[id], '1');
    cr_assert(eq(u64, sim_param_fingerprint(&a, 0, &da), sim_param_fingerprint(&b, 0, &db)), "%s: the path counts",
              sim_params[id].key);
    db.sha256[id][63] = '2'; /* the last digit: all 64 count */
    cr_assert(ne(u64, sim_param_fingerprint(&a, 0, &da), sim_param_fingerprint(&b, 0, &db)), "%s: the contents do not count",
              sim_params[id].key);
    /* Another parameter's digest slot is not this file's. */
    db = da;
    fake_digest(db.sha256[SIM_P_SEED], '9');
    cr_assert(eq(u64, sim_param_fingerprint(&a, 0, &da), sim_param_fingerprint(&b, 0, &db)));
    sim_scenario_clear(&a);
    sim_scenario_clear(&b);
  }
}

Test(param, sweep_moves_the_fingerprint) {
  static const sim_file_digests none;
  char *vals1[] = {"1", "2"}, *vals2[] = {"1", "3"};
  sim_sweep_axis ax1 = {"lookup.alpha", vals1, 2}, ax2 = {"lookup.alpha", vals2, 2}, ax3 = {"lookup.k", vals1, 2};
  sim_scenario a, b, c;
  sim_scenario_defaults(&a);
  sim_scenario_defaults(&b);
  sim_scenario_defaults(&c);
  a.sweep = &ax1;
  b.sweep = &ax2;
  c.sweep = &ax3;
  a.n_sweep = b.n_sweep = c.n_sweep = 1;
  cr_assert(ne(u64, sim_param_fingerprint(&a, 0, &none), sim_param_fingerprint(&b, 0, &none)));
  cr_assert(ne(u64, sim_param_fingerprint(&a, 0, &none), sim_param_fingerprint(&c, 0, &none)));
  a.n_sweep = 0;
  sim_scenario d;
  sim_scenario_defaults(&d);
  cr_assert(eq(u64, sim_param_fingerprint(&a, 0, &none), sim_param_fingerprint(&d, 0, &none)));
}

/* ---- dhtsim keys and the docs ---- */

Test(param, docs_key_table_is_the_generated_one) {
  char *doc = NULL, *gen = NULL;
  size_t glen = 0;
  char *path = g_build_filename(DHTSIM_SOURCE_DIR, "docs", "scenario-format.md", NULL);
  cr_assert(g_file_get_contents(path, &doc, NULL, NULL), "%s", path);
  FILE *f = open_memstream(&gen, &glen);
  cr_assert(f != NULL);
  cr_assert(eq(int, sim_param_write_keys(f, true), 0));
  fclose(f);
  const char *open = "<!-- keys: generated by `dhtsim keys --markdown`; checked by tests/test_param.c -->\n";
  char *a = strstr(doc, open), *b = a ? strstr(a, "<!-- /keys -->") : NULL;
  cr_assert(a != NULL && b != NULL, "docs/scenario-format.md lost its key table markers");
  a += strlen(open);
  const char *env = g_getenv("DHTSIM_REGENERATE_DOCS");
  if (env != NULL && strcmp(env, "1") == 0) {
    /* Rewrites the block in place (review `git diff docs/` afterwards). */
    GString *t = g_string_new_len(doc, a - doc);
    g_string_append(t, gen);
    g_string_append(t, b);
    cr_assert(g_file_set_contents(path, t->str, (gssize)t->len, NULL));
    g_string_free(t, TRUE);
  } else {
    char *have = g_strndup(a, (size_t)(b - a));
    cr_assert(eq(str, have, gen),
              "docs/scenario-format.md's key table differs from `dhtsim keys --markdown` "
              "(DHTSIM_REGENERATE_DOCS=1 ./build/tests/test_param rewrites it)");
    g_free(have);
  }
  /* Each key has one row, in table order. */
  const char *at = gen;
  for (int i = 0; i < SIM_PARAM_COUNT; i++) {
    char cell[64];
    snprintf(cell, sizeof cell, "| `%s` |", sim_params[i].key);
    const char *hit = strstr(at, cell);
    cr_assert(hit != NULL, "%s", cell);
    at = hit + 1;
  }
  g_free(path);
  g_free(doc);
  free(gen);
}

/* fuzz/scenario.dict names every key of param.def (each level of it bare
 * and as 'level: ', the dotted key bare and as a sweep line) and every enum
 * word, so fuzz_scenario reaches each key's rules. DHTSIM_REGENERATE_DOCS=1
 * appends the missing entries. */
static bool dict_has(const char *dict, const char *value) {
  char *q = g_strdup_printf("=\"%s\"\n", value);
  bool in = strstr(dict, q) != NULL;
  g_free(q);
  return in;
}

Test(param, fuzz_dictionary_names_every_key) {
  char *path = g_build_filename(DHTSIM_SOURCE_DIR, "fuzz", "scenario.dict", NULL), *dict = NULL;
  cr_assert(g_file_get_contents(path, &dict, NULL, NULL), "%s", path);
  GPtrArray *want = g_ptr_array_new_with_free_func(g_free);
  for (int i = 0; i < SIM_PARAM_COUNT; i++) {
    const char *key = sim_params[i].key;
    char **parts = g_strsplit(key, ".", -1);
    for (char **c = parts; *c != NULL; c++) { /* each level: section, subsection, leaf */
      g_ptr_array_add(want, g_strdup(*c));
      g_ptr_array_add(want, g_strdup_printf("%s: ", *c));
    }
    if (parts[1] != NULL) {
      g_ptr_array_add(want, g_strdup(key));
      g_ptr_array_add(want, g_strdup_printf("  %s: ", key));
    }
    g_strfreev(parts);
    for (const char *const *n = sim_params[i].names; n != NULL && *n != NULL; n++)
      g_ptr_array_add(want, g_strdup(*n));
  }
  GString *missing = g_string_new(NULL);
  unsigned next = 0;
  for (const char *at = dict; (at = strstr(at, "\nkw")) != NULL; at++)
    next = (unsigned)strtoul(at + 3, NULL, 10) + 1;
  for (guint i = 0; i < want->len; i++) {
    const char *v = g_ptr_array_index(want, i);
    if (dict_has(dict, v))
      continue;
    char *q = g_strdup_printf("=\"%s\"\n", v);
    bool again = strstr(missing->str, q) != NULL;
    g_free(q);
    if (!again)
      g_string_append_printf(missing, "kw%u=\"%s\"\n", next++, v);
  }
  const char *env = g_getenv("DHTSIM_REGENERATE_DOCS");
  if (missing->len > 0 && env != NULL && strcmp(env, "1") == 0) {
    GString *t = g_string_new(dict);
    g_string_append(t, missing->str);
    cr_assert(g_file_set_contents(path, t->str, (gssize)t->len, NULL));
    g_string_free(t, TRUE);
  } else {
    cr_assert(eq(sz, missing->len, 0), "fuzz/scenario.dict lacks (DHTSIM_REGENERATE_DOCS=1 ./build/tests/test_param "
              "appends them):\n%s", missing->str);
  }
  g_string_free(missing, TRUE);
  g_ptr_array_free(want, TRUE);
  g_free(dict);
  g_free(path);
}

Test(param, keys_listing_names_every_key) {
  char *gen = NULL;
  size_t glen = 0;
  FILE *f = open_memstream(&gen, &glen);
  cr_assert(eq(int, sim_param_write_keys(f, false), 0));
  fclose(f);
  for (int i = 0; i < SIM_PARAM_COUNT; i++) {
    char line[64];
    snprintf(line, sizeof line, "\n%-24s ", sim_params[i].key);
    cr_assert(strstr(gen, line) != NULL, "%s", sim_params[i].key);
  }
  cr_assert(strstr(gen, "workload.plant_at        integer  lookup.k") != NULL);
  cr_assert(strstr(gen, "loss.dead_fraction       number   0                    yes") != NULL);
  free(gen);
}

/* tests/criterion_assert.h fixes Criterion 2.4's gt(), which passed on equal
 * values: every `gt(` of the suite could not fail on a tie before. */
Test(criterion, gt_is_strict) {
  cr_assert(not(gt(u64, (uint64_t)3, (uint64_t)3)));
  cr_assert(gt(u64, (uint64_t)4, (uint64_t)3));
  cr_assert(not(gt(int, -1, 0)));
  cr_assert(ge(u64, (uint64_t)3, (uint64_t)3));
}
