/* test_trace.c: `dhtsim run --trace IDS` (sim/trace.c): the IDS parser and
 * its bounds, the line format, and trace.jsonl against lookups.csv (query,
 * timeout counts, result_ms, time_ms) in every strategy, byte-identical
 * other outputs, the decisions, the sweep's keys and the caps. */
#include <criterion/criterion.h>
#include "criterion_assert.h"
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

#include "cli_helpers.h"
#include "error.h"
#include "scenario.h"
#include "sim.h"
#include "trace.h"

static char *tmp;

static void setup(void) { tmp = g_dir_make_tmp("dhtsim-trace-XXXXXX", NULL); }
static void teardown(void) {
  rm_rf(tmp);
  g_free(tmp);
}

static char *sub(const char *name) { return g_build_filename(tmp, name, NULL); }

/* ---- IDS ---- */

static void parse_ok(const char *text, sim_trace_sel *sel) {
  char err[256] = "";
  int rc = sim_trace_sel_parse(sel, text, err, sizeof err);
  cr_assert(eq(int, rc, 0), "%s: %s", text, err);
}

static void parse_bad(const char *text, const char *want) {
  sim_trace_sel sel;
  char err[256] = "";
  int rc = sim_trace_sel_parse(&sel, text, err, sizeof err);
  cr_assert(eq(int, rc, DHT_EINVAL), "%s was accepted", text);
  cr_assert(eq(str, err, (char *)want), "%s", text);
  cr_assert(sel.r == NULL && sel.n == 0 && sel.all == false);
}

Test(trace, ids_ranges_and_all) {
  sim_trace_sel s;
  parse_ok("0,5,10-20", &s);
  cr_assert(eq(sz, s.n, 3));
  cr_assert(eq(u64, sim_trace_sel_count(&s, 100), 13));
  cr_assert(eq(u64, sim_trace_sel_count(&s, 15), 7)); /* 0, 5, 10..14 */
  cr_assert(eq(u64, sim_trace_sel_count(&s, 10), 2));
  cr_assert(eq(u64, sim_trace_sel_count(&s, 0), 0));
  static const uint64_t in[] = {0, 5, 10, 11, 19, 20}, out[] = {1, 4, 6, 9, 21, 1000};
  for (size_t i = 0; i < G_N_ELEMENTS(in); i++)
    cr_assert(sim_trace_sel_has(&s, in[i]), "%lu", (unsigned long)in[i]);
  for (size_t i = 0; i < G_N_ELEMENTS(out); i++)
    cr_assert(sim_trace_sel_has(&s, out[i]) == false, "%lu", (unsigned long)out[i]);
  sim_trace_sel_clear(&s);

  /* Unsorted, overlapping and adjacent pieces merge into one range. */
  parse_ok("9-12,3-7,5-8,13", &s);
  cr_assert(eq(sz, s.n, 1));
  cr_assert(eq(u64, s.r[0].lo, 3));
  cr_assert(eq(u64, s.r[0].hi, 13));
  cr_assert(eq(u64, sim_trace_sel_count(&s, 100), 11));
  sim_trace_sel_clear(&s);
  parse_ok("4,2", &s);
  cr_assert(eq(sz, s.n, 2));
  cr_assert(eq(u64, s.r[0].lo, 2));
  cr_assert(sim_trace_sel_has(&s, 3) == false);
  sim_trace_sel_clear(&s);

  parse_ok("all", &s);
  cr_assert(s.all);
  cr_assert(eq(u64, sim_trace_sel_count(&s, 300), 300));
  cr_assert(sim_trace_sel_has(&s, 999999999));
  sim_trace_sel_clear(&s);

  parse_ok("999999999", &s); /* the largest id there can be */
  cr_assert(eq(u64, s.r[0].lo, 999999999));
  sim_trace_sel_clear(&s);
}

Test(trace, ids_bad_input_exact_errors) {
  parse_bad("", "--trace IDS: empty; expected lookup ids like 0,5,10-20 or all");
  parse_bad("x", "--trace IDS: column 1: expected a lookup id (0 to 999999999) or all, got 'x'");
  parse_bad("ALL", "--trace IDS: column 1: expected a lookup id (0 to 999999999) or all, got 'ALL'");
  parse_bad("1,,2", "--trace IDS: column 3: expected a lookup id (0 to 999999999) or all, got ',2'");
  parse_bad("1,", "--trace IDS: column 3: expected a lookup id (0 to 999999999) or all, got ''");
  parse_bad("-1", "--trace IDS: column 1: expected a lookup id (0 to 999999999) or all, got '-1'");
  parse_bad("+1", "--trace IDS: column 1: expected a lookup id (0 to 999999999) or all, got '+1'");
  parse_bad("5-", "--trace IDS: column 3: expected the end of a range (0 to 999999999), got ''");
  parse_bad("5-x", "--trace IDS: column 3: expected the end of a range (0 to 999999999), got 'x'");
  parse_bad("7-3", "--trace IDS: range 7-3 ends before it starts");
  parse_bad("1 2", "--trace IDS: column 2: expected ',' or the end, got ' 2'");
  parse_bad("3-4-5", "--trace IDS: column 4: expected ',' or the end, got '-5'");
  parse_bad("1000000000", "--trace IDS: column 1: expected a lookup id (0 to 999999999) or all, got '1000000000'");
  parse_bad("0-99999999999999999999999", "--trace IDS: column 3: expected the end of a range (0 to 999999999), got "
                                          "'99999999999999999999999'");
  char *too_long = g_strnfill(SIM_TRACE_IDS_MAX + 1, '1');
  parse_bad(too_long, "--trace IDS: longer than 4096 characters");
  g_free(too_long);
  /* At the bound: 4096 characters are taken ("0,0,...,00"). */
  GString *longest = g_string_new(NULL);
  for (int i = 0; i < 2047; i++)
    g_string_append(longest, "0,");
  g_string_append(longest, "00");
  cr_assert(eq(sz, longest->len, SIM_TRACE_IDS_MAX));
  sim_trace_sel s;
  parse_ok(longest->str, &s);
  cr_assert(eq(sz, s.n, 1));
  cr_assert(eq(u64, sim_trace_sel_count(&s, 10), 1));
  sim_trace_sel_clear(&s);
  g_string_free(longest, TRUE);
}

Test(trace, lookups_cap_is_inclusive) {
  sim_scenario sc;
  sim_trace_sel all;
  char err[512] = "";
  cr_assert(eq(int, sim_scenario_load(&sc, DHTSIM_SOURCE_DIR "/tests/data/regression.yaml", err, sizeof err), 0), "%s",
            err);
  parse_ok("all", &all);
  cr_assert(eq(int, sim_trace_sel_plan(&all, &sc, SIM_TRACE_MAX_LOOKUPS, 0, err, sizeof err), 0), "%s", err);
  cr_assert(eq(int, sim_trace_sel_plan(&all, &sc, SIM_TRACE_MAX_LOOKUPS + 1, 0, err, sizeof err), DHT_EINVAL));
  cr_assert(eq(str, err, "--trace: all selects more than 10000 lookups over the runs (1 points x 1 replicas): select "
                         "fewer"));
  /* Without --lookups: the scenario's 300. */
  cr_assert(eq(int, sim_trace_sel_plan(&all, &sc, 0, 0, err, sizeof err), 0), "%s", err);
  sim_trace_sel_clear(&all);
  sim_scenario_clear(&sc);
}

Test(trace, ids_checked_against_the_run) {
  sim_trace_sel s;
  char err[256] = "";
  parse_ok("0,99", &s);
  cr_assert(eq(int, sim_trace_sel_check(&s, 100, err, sizeof err), 0));
  cr_assert(eq(int, sim_trace_sel_check(&s, 99, err, sizeof err), DHT_EINVAL));
  cr_assert(eq(str, err, "--trace: lookup 99 does not exist: a run has 99 lookups (ids 0 to 98)"));
  sim_trace_sel_clear(&s);
  parse_ok("all", &s);
  cr_assert(eq(int, sim_trace_sel_check(&s, 1, err, sizeof err), 0));
  sim_trace_sel_clear(&s);
}

/* ---- lines ---- */

Test(trace, line_format_and_escaping) {
  char line[SIM_TRACE_LINE_MAX];
  size_t n = sim_trace_format(line, 3, 1, 42, 1234567, "query", 17, 155, 2, ",\"batch\":4");
  cr_assert(eq(str, line,
               "{\"point\":3,\"replica\":1,\"lookup\":42,\"t_ms\":1234.567,\"event\":\"query\",\"node\":17,"
               "\"log2_distance\":155,\"in_flight\":2,\"batch\":4}\n"));
  cr_assert(eq(sz, n, strlen(line)));
  /* No node: null, and no distance either. Whole milliseconds keep 3 decimals. */
  sim_trace_format(line, 0, 0, 0, 2000, "decision", -1, 7, 0, ",\"decision\":\"done\"");
  cr_assert(eq(str, line,
               "{\"point\":0,\"replica\":0,\"lookup\":0,\"t_ms\":2.000,\"event\":\"decision\",\"node\":null,"
               "\"log2_distance\":null,\"in_flight\":0,\"decision\":\"done\"}\n"));
  /* A name is a JSON string: quotes, backslashes and control characters escaped. */
  sim_trace_format(line, 0, 0, 1, 1, "a\"b\\c\n\x01\x1f ~", 0, -1, 0, "");
  cr_assert(eq(str, line,
               "{\"point\":0,\"replica\":0,\"lookup\":1,\"t_ms\":0.001,\"event\":\"a\\\"b\\\\c\\u000a\\u0001\\u001f ~\","
               "\"node\":0,\"log2_distance\":-1,\"in_flight\":0}\n"));
}

Test(trace, log2_distance) {
  dht_id a = {{0}}, b = {{0}};
  cr_assert(eq(int, sim_trace_log2_distance(&a, &b), -1));
  b.b[19] = 1;
  cr_assert(eq(int, sim_trace_log2_distance(&a, &b), 0));
  b.b[19] = 0x80;
  cr_assert(eq(int, sim_trace_log2_distance(&a, &b), 7));
  b.b[0] = 0x01;
  cr_assert(eq(int, sim_trace_log2_distance(&a, &b), 152));
  b.b[0] = 0x80;
  cr_assert(eq(int, sim_trace_log2_distance(&a, &b), 159));
}

/* ---- a strict reader of our lines: one flat JSON object each ---- */

/* key -> its value's text (numbers, true, false, null as written; strings unescaped). */
static GHashTable *json_line(const char *s, size_t lineno) {
  GHashTable *h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  size_t i = 0;
  cr_assert(s[i] == '{', "line %zu: not an object: %s", lineno, s);
  i++;
  for (;;) {
    GString *k = g_string_new(NULL), *v = g_string_new(NULL);
    cr_assert(s[i] == '"', "line %zu: column %zu: expected a key: %s", lineno, i + 1, s);
    for (i++; s[i] != '"'; i++) {
      cr_assert(s[i] != '\0' && s[i] != '\\', "line %zu: key", lineno);
      g_string_append_c(k, s[i]);
    }
    i++;
    cr_assert(s[i] == ':', "line %zu: column %zu: expected ':'", lineno, i + 1);
    i++;
    if (s[i] == '"') {
      for (i++; s[i] != '"'; i++) {
        cr_assert(s[i] != '\0' && (unsigned char)s[i] >= 0x20, "line %zu: string", lineno);
        if (s[i] == '\\') {
          i++;
          cr_assert(s[i] == '"' || s[i] == '\\' || s[i] == 'u', "line %zu: escape", lineno);
          if (s[i] == 'u') {
            char hex[5] = {0};
            memcpy(hex, s + i + 1, 4);
            g_string_append_c(v, (char)strtol(hex, NULL, 16));
            i += 4;
            continue;
          }
        }
        g_string_append_c(v, s[i]);
      }
      i++;
    } else {
      size_t st = i;
      while (s[i] != ',' && s[i] != '}' && s[i] != '\0')
        i++;
      g_string_append_len(v, s + st, (gssize)(i - st));
      bool lit = strcmp(v->str, "true") == 0 || strcmp(v->str, "false") == 0 || strcmp(v->str, "null") == 0;
      char *end = NULL;
      if (!lit) {
        cr_assert(v->len > 0 && strspn(v->str, "-0123456789.") == v->len, "line %zu: value %s", lineno, v->str);
        (void)strtod(v->str, &end);
        cr_assert(end[0] == '\0', "line %zu: number %s", lineno, v->str);
      }
    }
    cr_assert(g_hash_table_contains(h, k->str) == FALSE, "line %zu: key %s twice", lineno, k->str);
    g_hash_table_insert(h, g_string_free(k, FALSE), g_string_free(v, FALSE));
    if (s[i] == ',') {
      i++;
      continue;
    }
    cr_assert(s[i] == '}' && s[i + 1] == '\0', "line %zu: column %zu: expected '}' and the end: %s", lineno, i + 1, s);
    return h;
  }
}

static const char *get(GHashTable *h, const char *key) {
  const char *v = g_hash_table_lookup(h, key);
  cr_assert(v != NULL, "no key %s", key);
  return v;
}

/* Every line of trace.jsonl, parsed. */
static GPtrArray *read_trace(const char *dir) {
  char *text = slurp(dir, "trace.jsonl");
  GPtrArray *lines = g_ptr_array_new_with_free_func((GDestroyNotify)g_hash_table_unref);
  char **ls = g_strsplit(text, "\n", -1);
  size_t n = g_strv_length(ls);
  cr_assert(n >= 1 && ls[n - 1][0] == '\0', "trace.jsonl does not end with a line end");
  for (size_t i = 0; i + 1 < n; i++) {
    GHashTable *h = json_line(ls[i], i + 1);
    static const char *const keys[] = {"point", "replica", "lookup", "t_ms", "event", "node", "log2_distance",
                                       "in_flight"};
    for (size_t k = 0; k < G_N_ELEMENTS(keys); k++)
      (void)get(h, keys[k]);
    g_ptr_array_add(lines, h);
  }
  g_strfreev(ls);
  g_free(text);
  return lines;
}

/* What the events of one lookup (point, replica, id) add up to. */
typedef struct tally {
  uint64_t queries, timeouts, answers, dones, decisions;
  double last_changed_ms, done_ms, max_ms;
  char done_text[32], changed_text[32];
} tally;

static void tally_lookup(GPtrArray *lines, const char *point, const char *replica, const char *id, tally *t) {
  memset(t, 0, sizeof *t);
  snprintf(t->changed_text, sizeof t->changed_text, "0.000");
  for (guint i = 0; i < lines->len; i++) {
    GHashTable *h = g_ptr_array_index(lines, i);
    if (strcmp(get(h, "point"), point) != 0 || strcmp(get(h, "replica"), replica) != 0 ||
        strcmp(get(h, "lookup"), id) != 0)
      continue;
    const char *ev = get(h, "event");
    double ms = g_ascii_strtod(get(h, "t_ms"), NULL);
    cr_assert(ms >= t->max_ms || strcmp(ev, "late") == 0 || strcmp(ev, "failed") == 0 || t->dones == 0,
              "lookup %s: time goes back", id);
    if (ms > t->max_ms)
      t->max_ms = ms;
    int d = atoi(get(h, "log2_distance"));
    if (strcmp(get(h, "node"), "null") != 0)
      cr_assert(d >= -1 && d <= 159, "lookup %s: log2_distance %d", id, d);
    if (strcmp(ev, "query") == 0) {
      t->queries++;
      (void)get(h, "batch");
    } else if (strcmp(ev, "timeout") == 0) {
      t->timeouts++;
      /* rounds applies a batch at its last completion, a timeout too */
      if (strcmp(get(h, "changed"), "true") == 0 && ms >= t->last_changed_ms) {
        t->last_changed_ms = ms;
        g_strlcpy(t->changed_text, get(h, "t_ms"), sizeof t->changed_text);
      }
    } else if (strcmp(ev, "answer") == 0) {
      t->answers++;
      (void)get(h, "nodes");
      cr_assert(strcmp(get(h, "peers"), "true") == 0 || strcmp(get(h, "peers"), "false") == 0);
      if (strcmp(get(h, "changed"), "true") == 0 && ms >= t->last_changed_ms) {
        t->last_changed_ms = ms;
        g_strlcpy(t->changed_text, get(h, "t_ms"), sizeof t->changed_text);
      }
    } else if (strcmp(ev, "decision") == 0) {
      t->decisions++;
      if (strcmp(get(h, "decision"), "done") == 0) {
        t->dones++;
        t->done_ms = ms;
        g_strlcpy(t->done_text, get(h, "t_ms"), sizeof t->done_text);
      }
    } else if (strcmp(ev, "failed") == 0) {
      const char *c = get(h, "cause");
      cr_assert(strcmp(c, "request_dropped") == 0 || strcmp(c, "dead_node") == 0 ||
                    strcmp(c, "unreachable_node") == 0 || strcmp(c, "offline_node") == 0 ||
                    strcmp(c, "response_dropped") == 0,
                "cause %s", c);
    } else {
      cr_assert(strcmp(ev, "late") == 0, "unknown event %s", ev);
    }
  }
}

/* The identities between trace.jsonl and lookups.csv, for every row of
 * lookups.csv whose lookup is traced; returns how many were. */
static size_t check_against_csv(const char *dir, GPtrArray *lines) {
  char *lk = slurp(dir, "lookups.csv");
  csv c = csv_parse(lk);
  size_t traced = 0;
  for (size_t r = 0; r < c.n_rows; r++) {
    tally t;
    const char *id = csv_get(&c, r, "id");
    tally_lookup(lines, csv_get(&c, r, "point"), csv_get(&c, r, "replica"), id, &t);
    if (t.queries == 0 && t.dones == 0)
      continue;
    traced++;
    cr_assert(eq(u64, t.queries, strtoull(csv_get(&c, r, "queries"), NULL, 10)), "lookup %s: queries", id);
    cr_assert(eq(u64, t.timeouts, strtoull(csv_get(&c, r, "timeouts"), NULL, 10)), "lookup %s: timeouts", id);
    /* result_ms is the time of the last answer or timeout that changed the result (0: none did). */
    cr_assert(eq(str, t.changed_text, (char *)csv_get(&c, r, "result_ms")), "lookup %s: result_ms", id);
    cr_assert(eq(u64, t.dones, 1), "lookup %s: one done", id);
    cr_assert(eq(str, t.done_text, (char *)csv_get(&c, r, "time_ms")), "lookup %s: time_ms", id);
  }
  csv_free(&c);
  g_free(lk);
  return traced;
}

/* Line i's decision (or ""). */
static const char *dec_of(GPtrArray *lines, guint i) {
  GHashTable *h = g_ptr_array_index(lines, i);
  return strcmp(get(h, "event"), "decision") == 0 ? get(h, "decision") : "";
}
static int in_flight_of(GPtrArray *lines, guint i) { return atoi(get(g_ptr_array_index(lines, i), "in_flight")); }

/* libp2p: one follow-up a lookup; just before it, a cancel for every query
 * the walk had in flight (the count on the line before them), each one
 * fewer in flight, down to 0 at the follow-up. Lookups run one after the
 * other (sequential arrival): no other lookup's line comes between. */
static void check_libp2p_followup(GPtrArray *lines) {
  size_t followups = 0, dones = 0;
  for (guint i = 0; i < lines->len; i++) {
    dones += strcmp(dec_of(lines, i), "done") == 0;
    if (strcmp(dec_of(lines, i), "followup") != 0)
      continue;
    followups++;
    cr_assert(eq(int, in_flight_of(lines, i), 0));
    guint j = i, cancels = 0;
    while (j > 0 && strcmp(dec_of(lines, j - 1), "cancel") == 0) {
      j--;
      cancels++;
      cr_assert(eq(int, in_flight_of(lines, j), (int)(i - j - 1)), "line %u: a cancel's in_flight", j + 1);
    }
    cr_assert(j > 0);
    cr_assert(eq(int, in_flight_of(lines, j - 1), (int)cancels), "line %u: %u cancels after %d in flight", j, cancels,
              in_flight_of(lines, j - 1));
  }
  cr_assert(eq(sz, followups, dones), "one follow-up a lookup");
  /* A walk query that times out makes its peer unreachable: an `evict`
   * right after each walk timeout, none in the follow-up. */
  bool walk = true;
  size_t walk_timeouts = 0, evicts = 0;
  for (guint i = 0; i < lines->len; i++) {
    GHashTable *h = g_ptr_array_index(lines, i);
    const char *d = dec_of(lines, i);
    if (strcmp(d, "followup") == 0)
      walk = false;
    else if (strcmp(d, "done") == 0)
      walk = true;
    else if (strcmp(d, "evict") == 0) {
      evicts++;
      cr_assert(walk, "line %u: an evict in the follow-up", i + 1);
      GHashTable *p = g_ptr_array_index(lines, i - 1);
      cr_assert(strcmp(get(p, "event"), "timeout") == 0 && strcmp(get(p, "node"), get(h, "node")) == 0,
                "line %u: an evict not right after its node's timeout", i + 1);
    } else if (walk && strcmp(get(h, "event"), "timeout") == 0)
      walk_timeouts++;
  }
  cr_assert(eq(sz, evicts, walk_timeouts));
  cr_assert(gt(sz, evicts, 0));
}

/* jech: a step at the start and every 15 s (3/2 of the 10 s timeout), and
 * the step that finds the K closest answered is a `finish`, the line right
 * before `done`; no step after it. */
static void check_jech_steps(GPtrArray *lines) {
  long long next_step_ms = 0;
  size_t finishes = 0, dones = 0;
  for (guint i = 0; i < lines->len; i++) {
    GHashTable *h = g_ptr_array_index(lines, i);
    const char *d = dec_of(lines, i);
    long long ms = (long long)g_ascii_strtod(get(h, "t_ms"), NULL);
    if (strcmp(d, "step") == 0) {
      cr_assert(eq(i64, ms, next_step_ms), "line %u: a step at %lld ms, expected %lld", i + 1, ms, next_step_ms);
      cr_assert(eq(str, (char *)get(h, "t_ms") + strlen(get(h, "t_ms")) - 4, ".000"));
      next_step_ms += 15000;
    } else if (strcmp(d, "finish") == 0) {
      finishes++;
      cr_assert(eq(i64, ms, next_step_ms), "line %u: finish off the step times", i + 1);
      cr_assert(i + 1 < lines->len && strcmp(dec_of(lines, i + 1), "done") == 0, "line %u: finish, not then done", i + 1);
    } else if (strcmp(d, "done") == 0) {
      dones++;
      cr_assert(eq(sz, finishes, dones), "line %u: done without a finish", i + 1);
      next_step_ms = 0; /* the next lookup's steps count from its start */
    }
  }
  cr_assert(eq(sz, finishes, dones));
}

static char *write_yaml(const char *name, const char *text) {
  char *p = sub(name);
  cr_assert(g_file_set_contents(p, text, -1, NULL));
  return p;
}

static const char *const outputs[] = {"summary.csv", "summary.json", "runs.csv", "lookups.csv", "parts/manifest"};

static int cmp_lines(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The manifest's part lines come in the order the points finished (threads): sorted. */
static char *sorted_lines(char *text) {
  char **ls = g_strsplit(text, "\n", -1);
  qsort(ls, g_strv_length(ls), sizeof *ls, cmp_lines);
  char *j = g_strjoinv("\n", ls);
  g_strfreev(ls);
  g_free(text);
  return j;
}

static void assert_same_outputs(const char *a, const char *b) {
  for (size_t i = 0; i < G_N_ELEMENTS(outputs); i++) {
    char *x = slurp(a, outputs[i]), *y = slurp(b, outputs[i]);
    if (strcmp(outputs[i], "parts/manifest") == 0) {
      x = sorted_lines(x);
      y = sorted_lines(y);
    }
    cr_assert(eq(str, x, y), "%s differs with --trace", outputs[i]);
    g_free(x);
    g_free(y);
  }
}

/* A lossy, slow network for every strategy: timeouts, late answers, dead nodes. */
static const char lossy[] =
    "name: trace-%s\nseed: 11\nnetwork:\n  nodes: 1500\n  tables: full\nlatency:\n  model: lognormal\n"
    "  median_ms: 50\n  sigma: 0.7\n  slow_fraction: 0.2\n  slow_multiplier: 30\nloss:\n  request_drop: 0.05\n"
    "  response_drop: 0.05\n  dead_fraction: 0.05\nlookup:\n  strategy: %s\nworkload:\n  lookups: 25\n"
    "  planted_peers: 4\n";

Test(trace, matches_lookups_csv_in_every_strategy_and_changes_nothing, .init = setup, .fini = teardown) {
  static const char *const strategies[] = {"rounds", "pipelined", "libtorrent", "jech",
                                           "bittorrent-dht", "aria2", "libp2p", "mldht"};
  /* The decisions each strategy must show on this network. */
  static const char *const must[] = {NULL, NULL, "slow", "retry", NULL, "evict", "followup", "stall"};
  for (size_t s = 0; s < G_N_ELEMENTS(strategies); s++) {
    char *text = g_strdup_printf(lossy, strategies[s], strategies[s]);
    char *name = g_strdup_printf("%s.yaml", strategies[s]);
    char *yaml = write_yaml(name, text);
    char *plain = sub("plain"), *traced = sub("traced");
    cli a = run_dhtsim((const char *[]){"run", yaml, "--out", plain, NULL});
    cli b = run_dhtsim((const char *[]){"run", yaml, "--out", traced, "--trace", "all", NULL});
    cr_assert(eq(int, a.status, 0), "%s", a.err);
    cr_assert(eq(int, b.status, 0), "%s: %s", strategies[s], b.err);
    cr_assert(eq(str, a.out, b.out), "%s: stdout differs with --trace", strategies[s]);
    assert_same_outputs(plain, traced);
    GPtrArray *lines = read_trace(traced);
    cr_assert(eq(sz, check_against_csv(traced, lines), 25), "%s: every lookup traced", strategies[s]);
    size_t timeouts = 0, lates = 0, failed = 0, found_must = 0, cause[3] = {0}, repeats = 0, retries = 0,
           changed_at_timeout = 0;
    GHashTable *queried = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (guint i = 0; i < lines->len; i++) {
      GHashTable *h = g_ptr_array_index(lines, i);
      const char *ev = get(h, "event");
      if (strcmp(ev, "query") == 0) {
        char *key = g_strdup_printf("%s:%s", get(h, "lookup"), get(h, "node"));
        if (g_hash_table_contains(queried, key)) {
          repeats++;
          g_free(key);
        } else {
          g_hash_table_add(queried, key);
        }
      }
      if (strcmp(ev, "decision") == 0 && strcmp(get(h, "decision"), "retry") == 0) {
        /* A retry comes before the query lines of its batch (the decisions
         * of one dht_lookup_next, then its sends): same lookup, node and time. */
        bool found = false;
        retries++;
        for (guint j = i + 1; j < lines->len && !found; j++) {
          GHashTable *q = g_ptr_array_index(lines, j);
          const char *qe = get(q, "event");
          if ((strcmp(qe, "query") != 0 && strcmp(qe, "decision") != 0) || strcmp(get(q, "t_ms"), get(h, "t_ms")) != 0 ||
              strcmp(get(q, "lookup"), get(h, "lookup")) != 0)
            break;
          found = strcmp(qe, "query") == 0 && strcmp(get(q, "node"), get(h, "node")) == 0;
        }
        cr_assert(found, "%s: line %u: a retry without its query", strategies[s], i + 1);
      }
      timeouts += strcmp(ev, "timeout") == 0;
      if (strcmp(ev, "timeout") == 0) {
        const char *ch = get(h, "changed");
        cr_assert(strcmp(ch, "true") == 0 || strcmp(ch, "false") == 0);
        changed_at_timeout += strcmp(ch, "true") == 0;
      }
      lates += strcmp(ev, "late") == 0;
      failed += strcmp(ev, "failed") == 0;
      if (strcmp(ev, "failed") == 0) {
        const char *c = get(h, "cause");
        cause[strcmp(c, "request_dropped") == 0 ? 0 : strcmp(c, "response_dropped") == 0 ? 1 : 2]++;
      }
      if (must[s] != NULL && strcmp(ev, "decision") == 0 && strcmp(get(h, "decision"), must[s]) == 0)
        found_must++;
    }
    cr_assert(gt(sz, failed, 0), "%s: no failed event", strategies[s]);
    if (strcmp(strategies[s], "jech") != 0) /* jech has no timeouts: it sends again */
      cr_assert(gt(sz, timeouts, 0), "%s: no timeout", strategies[s]);
    if (must[s] != NULL)
      cr_assert(gt(sz, found_must, 0), "%s: no %s decision", strategies[s], must[s]);
    /* Only rounds changes its result at a timeout: the batch is applied when
     * its last query completes, answer or timeout; the others apply answers
     * as they come. */
    if (strcmp(strategies[s], "rounds") == 0)
      cr_assert(gt(sz, changed_at_timeout, 0), "rounds: no batch applied at a timeout");
    else
      cr_assert(eq(sz, changed_at_timeout, 0), "%s: a timeout changed the result", strategies[s]);
    /* A query to a node already queried by the lookup is a retry (jech,
     * mldht), or libp2p's follow-up asking a cancelled node again; the
     * others query a node once. */
    if (strcmp(strategies[s], "libp2p") != 0)
      cr_assert(eq(sz, retries, repeats), "%s: %zu retries, %zu repeated queries", strategies[s], retries, repeats);
    if (strcmp(strategies[s], "jech") == 0 || strcmp(strategies[s], "mldht") == 0)
      cr_assert(gt(sz, retries, 0), "%s: no retry", strategies[s]);
    else
      cr_assert(eq(sz, retries, 0), "%s", strategies[s]);
    g_hash_table_unref(queried);
    if (strcmp(strategies[s], "libp2p") == 0)
      check_libp2p_followup(lines);
    if (strcmp(strategies[s], "jech") == 0)
      check_jech_steps(lines);
    /* Every lookup of the run is traced: the run's counters are the trace's lines. */
    char *runs = slurp(traced, "runs.csv");
    csv rc = csv_parse(runs);
    cr_assert(eq(u64, lates, strtoull(csv_get(&rc, 0, "late_responses_total"), NULL, 10)), "%s: late", strategies[s]);
    cr_assert(eq(u64, timeouts, strtoull(csv_get(&rc, 0, "timeouts_total"), NULL, 10)), "%s", strategies[s]);
    cr_assert(eq(u64, cause[0], strtoull(csv_get(&rc, 0, "requests_dropped_total"), NULL, 10)), "%s", strategies[s]);
    cr_assert(eq(u64, cause[1], strtoull(csv_get(&rc, 0, "responses_dropped_total"), NULL, 10)), "%s", strategies[s]);
    cr_assert(eq(u64, cause[2], strtoull(csv_get(&rc, 0, "dead_queries_total"), NULL, 10)), "%s", strategies[s]);
    if (strcmp(strategies[s], "rounds") != 0) /* rounds waits for every answer of a batch: none is late */
      cr_assert(gt(sz, lates, 0), "%s: no late answer", strategies[s]);
    csv_free(&rc);
    g_free(runs);
    g_ptr_array_unref(lines);
    rm_rf(plain);
    rm_rf(traced);
    cli_free(&a);
    cli_free(&b);
    g_free(plain);
    g_free(traced);
    g_free(yaml);
    g_free(name);
    g_free(text);
  }
}

/* Slow nodes (30 x a 50 ms median) outlast the 1 s short timeout: each such
 * query is a `slow` decision on that node, in flight, before its answer or
 * timeout: exactly 1 s after the query with tick_ms 0, else at the first rpc
 * tick a second or more after it, i.e. 1 to 2 s after. */
static void libtorrent_slow(unsigned tick_ms) {
  char *text = g_strdup_printf(lossy, tick_ms == 0 ? "libtorrent-tick0" : "libtorrent",
                               tick_ms == 0 ? "libtorrent\n  tick_ms: 0" : "libtorrent");
  char *unesc = g_strcompress(text);
  g_free(text);
  text = unesc;
  char *yaml = write_yaml(tick_ms == 0 ? "lt0.yaml" : "lt.yaml", text), *out = sub(tick_ms == 0 ? "lt0" : "lt");
  cli r = run_dhtsim((const char *[]){"run", yaml, "--out", out, "--trace", "0-4", NULL});
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  GPtrArray *lines = read_trace(out);
  cr_assert(eq(sz, check_against_csv(out, lines), 5));
  size_t slow = 0;
  for (guint i = 0; i < lines->len; i++) {
    GHashTable *h = g_ptr_array_index(lines, i);
    if (strcmp(get(h, "event"), "decision") != 0 || strcmp(get(h, "decision"), "slow") != 0)
      continue;
    slow++;
    /* The query it is about went out to the same node 1000 ms before (tick
     * 0), or 1000 to 2000 ms before (the last query to it before this). */
    double at = g_ascii_strtod(get(h, "t_ms"), NULL), sent_at = -1.0;
    for (guint j = 0; j < i; j++) {
      GHashTable *q = g_ptr_array_index(lines, j);
      if (strcmp(get(q, "event"), "query") == 0 && strcmp(get(q, "node"), get(h, "node")) == 0 &&
          strcmp(get(q, "lookup"), get(h, "lookup")) == 0)
        sent_at = g_ascii_strtod(get(q, "t_ms"), NULL);
    }
    cr_assert(ge(dbl, sent_at, 0.0), "slow decision without its query (line %u)", i + 1);
    if (tick_ms == 0)
      cr_assert(eq(i64, llround((at - sent_at) * 1000.0), 1000000), "line %u", i + 1); /* t_ms has µs digits */
    else
      cr_assert(llround((at - sent_at) * 1000.0) >= 1000000 && llround((at - sent_at) * 1000.0) <= 2000000,
                "line %u: slow %.3f ms after its query", i + 1, at - sent_at);
    cr_assert(gt(int, atoi(get(h, "in_flight")), 0));
  }
  cr_assert(gt(sz, slow, 0));
  g_ptr_array_unref(lines);
  cli_free(&r);
  if (tick_ms == 0) {
    g_free(out);
    g_free(yaml);
    g_free(text);
    return;
  }

  /* A window of 10: closer nodes push awaited ones out, whose queries are
   * abandoned: each `abandon` is of a node with a query outstanding (its
   * last line a query or its slow decision, losses aside), never answered
   * or timed out after (its answer, if any, is late). */
  GString *small = g_string_new(text);
  const char *at = strstr(small->str, "  strategy: libtorrent\n");
  cr_assert(at != NULL);
  g_string_insert(small, at - small->str + (gssize)strlen("  strategy: libtorrent\n"), "  candidate_cap: 10\n");
  char *yaml2 = write_yaml("lt10.yaml", small->str), *out2 = sub("lt10");
  g_string_free(small, TRUE);
  r = run_dhtsim((const char *[]){"run", yaml2, "--out", out2, "--trace", "all", NULL});
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  lines = read_trace(out2);
  cr_assert(eq(sz, check_against_csv(out2, lines), 25));
  size_t abandons = 0;
  for (guint i = 0; i < lines->len; i++) {
    GHashTable *h = g_ptr_array_index(lines, i);
    if (strcmp(dec_of(lines, i), "abandon") != 0)
      continue;
    abandons++;
    const char *node = get(h, "node"), *lk = get(h, "lookup");
    guint j = i;
    while (j-- > 0) {
      GHashTable *p = g_ptr_array_index(lines, j);
      if (strcmp(get(p, "node"), node) != 0 || strcmp(get(p, "lookup"), lk) != 0 || strcmp(get(p, "event"), "failed") == 0)
        continue;
      cr_assert(strcmp(get(p, "event"), "query") == 0 || strcmp(dec_of(lines, j), "slow") == 0,
                "line %u: abandon after %s", i + 1, get(p, "event"));
      break;
    }
    for (guint k = i + 1; k < lines->len; k++) {
      GHashTable *n = g_ptr_array_index(lines, k);
      if (strcmp(get(n, "node"), node) == 0 && strcmp(get(n, "lookup"), lk) == 0)
        cr_assert(strcmp(get(n, "event"), "answer") != 0 && strcmp(get(n, "event"), "timeout") != 0,
                  "line %u: %s after the abandon of line %u", k + 1, get(n, "event"), i + 1);
    }
  }
  cr_assert(gt(sz, abandons, 0));
  g_ptr_array_unref(lines);
  cli_free(&r);
  g_free(out2);
  g_free(yaml2);
  g_free(out);
  g_free(yaml);
  g_free(text);
}

Test(trace, libtorrent_widens_at_the_short_timeout, .init = setup, .fini = teardown) { libtorrent_slow(1000); }

/* A query that reaches an unreachable node (loss.unreachable_fraction) or
 * an offline one (churn) is a `failed` line of cause unreachable_node or
 * offline_node: as many as the run counts. */
static void unreachable_or_offline(bool churn) {
  char *text = g_strdup_printf(lossy, churn ? "offline" : "unreachable", "pipelined");
  GString *g = g_string_new(text);
  const char *at = strstr(g->str, "loss:\n");
  cr_assert(at != NULL);
  if (churn)
    g_string_append(g, "churn:\n  session: {model: exponential, mean_s: 30}\n"
                       "  downtime: {model: exponential, mean_s: 30}\n");
  else
    g_string_insert(g, at - g->str + 6, "  unreachable_fraction: 0.2\n");
  char *yaml = write_yaml(churn ? "o.yaml" : "u.yaml", g->str), *out = sub(churn ? "o" : "u");
  const char *cause = churn ? "offline_node" : "unreachable_node";
  const char *col = churn ? "offline_queries_total" : "unreachable_queries_total";
  g_string_free(g, TRUE);
  cli r = run_dhtsim((const char *[]){"run", yaml, "--out", out, "--trace", "all", NULL});
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  GPtrArray *lines = read_trace(out);
  size_t unreachable = 0, dead = 0;
  for (guint i = 0; i < lines->len; i++) {
    GHashTable *h = g_ptr_array_index(lines, i);
    if (strcmp(get(h, "event"), "failed") != 0)
      continue;
    unreachable += strcmp(get(h, "cause"), cause) == 0;
    dead += strcmp(get(h, "cause"), "dead_node") == 0;
  }
  char *runs = slurp(out, "runs.csv");
  csv rc = csv_parse(runs);
  cr_assert(gt(sz, unreachable, 0));
  cr_assert(eq(u64, unreachable, strtoull(csv_get(&rc, 0, col), NULL, 10)));
  cr_assert(eq(u64, dead, strtoull(csv_get(&rc, 0, "dead_queries_total"), NULL, 10)));
  csv_free(&rc);
  g_free(runs);
  g_ptr_array_unref(lines);
  cli_free(&r);
  g_free(out);
  g_free(yaml);
  g_free(text);
}

Test(trace, unreachable_nodes_fail_their_queries, .init = setup, .fini = teardown) { unreachable_or_offline(false); }

Test(trace, offline_nodes_fail_their_queries, .init = setup, .fini = teardown) { unreachable_or_offline(true); }

Test(trace, libtorrent_widens_exactly_at_the_short_timeout_without_its_tick, .init = setup, .fini = teardown) {
  libtorrent_slow(0);
}

Test(trace, sweep_keys_every_line_by_point_and_replica, .init = setup, .fini = teardown) {
  char *o1 = sub("j1"), *o2 = sub("j2"), *plain = sub("plain");
  cli a = run_dhtsim((const char *[]){"run", "tests/data/sweep-small.yaml", "--out", o1, "--trace", "3,7-8", "-j", "1",
                                      NULL});
  cli b = run_dhtsim((const char *[]){"run", "tests/data/sweep-small.yaml", "--out", o2, "--trace", "3,7-8", "-j", "2",
                                      NULL});
  cli c = run_dhtsim((const char *[]){"run", "tests/data/sweep-small.yaml", "--out", plain, NULL});
  cr_assert(eq(int, a.status, 0), "%s", a.err);
  cr_assert(eq(int, b.status, 0), "%s", b.err);
  cr_assert(eq(int, c.status, 0), "%s", c.err);
  char *t1 = slurp(o1, "trace.jsonl"), *t2 = slurp(o2, "trace.jsonl");
  cr_assert(eq(str, t1, t2), "the trace depends on -j");
  assert_same_outputs(plain, o1);
  GPtrArray *lines = read_trace(o1);
  /* 6 points x 3 replicas x 3 lookups. */
  cr_assert(eq(sz, check_against_csv(o1, lines), 6 * 3 * 3));
  /* In point, replica, lookup order: the runs' traces one after the other. */
  long last = -1;
  for (guint i = 0; i < lines->len; i++) {
    GHashTable *h = g_ptr_array_index(lines, i);
    long run = atol(get(h, "point")) * 3 + atol(get(h, "replica"));
    long id = atol(get(h, "lookup"));
    cr_assert(id == 3 || id == 7 || id == 8, "lookup %ld is not selected", id);
    cr_assert(ge(long, run, last), "line %u: run order", i + 1);
    last = run;
  }
  g_ptr_array_unref(lines);
  /* The anatomy of a run of the sweep: its first traced lookup by default. */
  cli p = run_dhtsim((const char *[]){"plot", o1, "--kind", "anatomy", "--point", "5", "--replica", "2", "--format", "svg",
                                      NULL});
  cr_assert(eq(int, p.status, 0), "%s", p.err);
  cr_assert(strstr(p.out, "plots/lookup-anatomy-5-2-3.svg") != NULL, "%s", p.out);
  cli_free(&p);
  g_free(t1);
  g_free(t2);
  cli_free(&a);
  cli_free(&b);
  cli_free(&c);
  g_free(o1);
  g_free(o2);
  g_free(plain);
}

/* Lookups that overlap in time (poisson arrivals): their lines interleave,
 * each traced lookup keeps its own record (several ranges), and the
 * identities hold for each. */
Test(trace, overlapping_lookups_keep_their_own_events, .init = setup, .fini = teardown) {
  char *text = g_strdup_printf(lossy, "poisson", "pipelined");
  GString *g = g_string_new(text);
  g_string_append(g, "  arrival: poisson\n  rate_per_s: 40\n");
  char *yaml = write_yaml("poisson.yaml", g->str), *out = sub("poisson");
  cli r = run_dhtsim((const char *[]){"run", yaml, "--out", out, "--trace", "1,3-4,9,20-22", NULL});
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  GPtrArray *lines = read_trace(out);
  cr_assert(eq(sz, check_against_csv(out, lines), 7));
  size_t switches = 0;
  for (guint i = 0; i < lines->len; i++) {
    const char *id = get(g_ptr_array_index(lines, i), "lookup");
    cr_assert(strcmp(id, "1") == 0 || strcmp(id, "3") == 0 || strcmp(id, "4") == 0 || strcmp(id, "9") == 0 ||
                  strcmp(id, "20") == 0 || strcmp(id, "21") == 0 || strcmp(id, "22") == 0,
              "lookup %s was not selected", id);
    if (i > 0 && strcmp(id, get(g_ptr_array_index(lines, i - 1), "lookup")) != 0)
      switches++;
  }
  cr_assert(gt(sz, switches, 7), "the lookups do not overlap (%zu switches)", switches);
  g_ptr_array_unref(lines);
  cli_free(&r);
  g_string_free(g, TRUE);
  g_free(text);
  g_free(yaml);
  g_free(out);
}

Test(trace, usage_errors_and_caps_write_nothing, .init = setup, .fini = teardown) {
  char *out = sub("out");
  static const struct {
    const char *args[10];
    const char *msg;
  } cases[] = {
      {{"run", "tests/data/regression.yaml", "--trace", "0", NULL},
       "dhtsim: --trace needs --out DIR (trace.jsonl is written there)"},
      {{"run", "tests/data/regression.yaml", "--out", "@", "--trace", "0", "--resume", NULL},
       "dhtsim: --trace cannot be combined with --resume"},
      {{"run", "tests/data/regression.yaml", "--out", "@", "--trace", "0", "--shard", "0/2", NULL},
       "dhtsim: --trace cannot be combined with --shard"},
      {{"run", "tests/data/regression.yaml", "--out", "@", "--trace", "1-x", NULL},
       "dhtsim: --trace IDS: column 3: expected the end of a range (0 to 999999999), got 'x'"},
      {{"run", "tests/data/regression.yaml", "--out", "@", "--trace", "0", "--trace", "1", NULL},
       "dhtsim: --trace given twice"},
      {{"run", "tests/data/regression.yaml", "--out", "@", "--trace", "300", NULL},
       "dhtsim: --trace: lookup 300 does not exist: a run has 300 lookups (ids 0 to 299)"},
      {{"run", "tests/data/regression.yaml", "--out", "@", "--trace", "5", "--lookups", "5", NULL},
       "dhtsim: --trace: lookup 5 does not exist: a run has 5 lookups (ids 0 to 4)"},
      {{"run", "tests/data/regression.yaml", "--out", "@", "--trace", "all", "--lookups", "10001", NULL},
       "dhtsim: --trace: all selects more than 10000 lookups over the runs (1 points x 1 replicas): select fewer"},
      /* 18 runs x 600 ids: 10800. */
      {{"run", "tests/data/sweep-small.yaml", "--out", "@", "--trace", "0-599", "--lookups", "600", NULL},
       "dhtsim: --trace: IDS selects more than 10000 lookups over the runs (6 points x 3 replicas): select fewer"},
  };
  cli h = run_dhtsim((const char *[]){"run", "--help", NULL});
  cr_assert(eq(int, h.status, 0));
  cr_assert(strstr(h.out, "[--trace IDS]") != NULL && strstr(h.out, "  --trace IDS           with --out: write DIR/trace.jsonl") != NULL,
            "%s", h.out);
  cli_free(&h);
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    const char *args[10];
    for (size_t j = 0; j < 10; j++)
      args[j] = cases[i].args[j] != NULL && strcmp(cases[i].args[j], "@") == 0 ? out : cases[i].args[j];
    cli r = run_dhtsim(args);
    cr_assert(eq(int, r.status, 2), "case %zu: exit %d: %s", i, r.status, r.err);
    cr_assert(strstr(r.err, cases[i].msg) != NULL, "case %zu: %s", i, r.err);
    cr_assert(g_file_test(out, G_FILE_TEST_EXISTS) == FALSE, "case %zu: %s was written", i, out);
    cli_free(&r);
  }
  g_free(out);
}

/* In process: a byte cap passed fails the trace (DHT_ETOOBIG, exit 2 from
 * the command), keeps nothing past it, and the results are those of an
 * untraced run. */
Test(trace, byte_cap_and_results_untouched) {
  sim_scenario sc;
  char err[512];
  cr_assert(eq(int, sim_scenario_load(&sc, DHTSIM_SOURCE_DIR "/tests/data/regression.yaml", err, sizeof err), 0), "%s",
            err);
  sim_options plain = {.lookups = 30}, traced = plain;
  sim_results a, b;
  sim_trace_sel all;
  sim_trace t;
  uint64_t bytes = 0;
  parse_ok("all", &all);
  sim_trace_init(&t, &all, 0, 0, &bytes, 5000);
  traced.trace = &t;
  cr_assert(eq(int, sim_run(&sc, &plain, &a, err, sizeof err), 0), "%s", err);
  cr_assert(eq(int, sim_run(&sc, &traced, &b, err, sizeof err), 0), "%s", err);
  cr_assert(eq(sz, a.n_lookups, b.n_lookups));
  cr_assert(memcmp(a.lookups, b.lookups, a.n_lookups * sizeof *a.lookups) == 0, "results differ with a trace");
  cr_assert(memcmp(&a.counters, &b.counters, sizeof a.counters) == 0, "counters differ with a trace");
  cr_assert(eq(int, t.error, DHT_ETOOBIG));
  cr_assert(le(sz, t.len, 5000));
  cr_assert(gt(sz, t.len, 4000)); /* lines of ~120 bytes were kept up to the cap */
  cr_assert(t.buf[t.len - 1] == '\n', "a line was cut");
  cr_assert(eq(int, sim_trace_error(&t, err, sizeof err), DHT_ETOOBIG));
  cr_assert(strstr(err, "--trace: the trace would exceed 5000 bytes") != NULL, "%s", err);
  sim_trace_clear(&t);

  /* Without a cap reached: the same run keeps every line, no error. */
  bytes = 0;
  sim_trace_init(&t, &all, 0, 0, &bytes, SIM_TRACE_MAX_BYTES);
  sim_results_clear(&b);
  cr_assert(eq(int, sim_run(&sc, &traced, &b, err, sizeof err), 0), "%s", err);
  cr_assert(eq(int, t.error, 0));
  cr_assert(eq(u64, bytes, t.len));
  cr_assert(memcmp(a.lookups, b.lookups, a.n_lookups * sizeof *a.lookups) == 0);
  sim_trace_clear(&t);
  sim_results_clear(&a);
  sim_results_clear(&b);
  sim_trace_sel_clear(&all);
  sim_scenario_clear(&sc);
}

/* `dhtsim plot OUT --kind anatomy`: from a traced run, one SVG whose
 * subtitle counts the lookup's queries as trace.jsonl and lookups.csv do;
 * the presets add lookup-anatomy; without a trace, exit 2 naming it. */
Test(trace, plot_lookup_anatomy, .init = setup, .fini = teardown) {
  char *out = sub("out"), *plain = sub("plain");
  cli r = run_dhtsim((const char *[]){"run", "tests/data/regression.yaml", "--lookups", "10", "--out", out, "--trace",
                                      "2,4", NULL});
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  cli_free(&r);
  char *lk = slurp(out, "lookups.csv");
  csv c = csv_parse(lk);
  const char *queries = csv_get(&c, 4, "queries"), *time_ms = csv_get(&c, 4, "time_ms");
  cr_assert(eq(str, (char *)csv_get(&c, 4, "id"), "4"));

  r = run_dhtsim((const char *[]){"plot", out, "--kind", "anatomy", "--lookup", "4", "--format", "svg", NULL});
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  cr_assert(eq(str, r.err, ""), "gnuplot said: %s", r.err);
  char *svg_name = g_build_filename(out, "plots", "lookup-anatomy-0-0-4.svg", NULL);
  cr_assert(strstr(r.out, svg_name) != NULL, "%s", r.out);
  cli_free(&r);
  char *svg = NULL, *gp = slurp(out, "plots/lookup-anatomy-0-0-4.gp");
  cr_assert(g_file_get_contents(svg_name, &svg, NULL, NULL));
  char *want = g_strdup_printf("; %s queries: ", queries), *done = g_strdup_printf("done at %s ms", time_ms);
  cr_assert(strstr(gp, want) != NULL, "%s not in the script", want);
  cr_assert(strstr(gp, done) != NULL, "%s not in the script", done);
  cr_assert(strstr(svg, "<svg") != NULL);
  cr_assert(strstr(svg, "query answered (") != NULL, "no legend in the SVG");
  /* One segment per query: the three blocks of segments hold `queries`
   * lines, the answered ones (block 0) one per answer of the lookup, the
   * timed-out ones (block 1) one per timeout. */
  size_t segs = 0, in_block[3] = {0}, answers = 0, timeouts = 0;
  for (int b = 0; b < 3; b++) {
    char *start = g_strdup_printf("$B%d << EOD\n", b), *p = strstr(gp, start);
    cr_assert(p != NULL);
    p += strlen(start);
    for (; strncmp(p, "EOD\n", 4) != 0; p = strchr(p, '\n') + 1)
      in_block[b]++;
    segs += in_block[b];
    g_free(start);
  }
  cr_assert(eq(sz, segs, strtoull(queries, NULL, 10)));
  GPtrArray *lines = read_trace(out);
  for (guint i = 0; i < lines->len; i++) {
    GHashTable *h = g_ptr_array_index(lines, i);
    if (strcmp(get(h, "lookup"), "4") != 0)
      continue;
    answers += strcmp(get(h, "event"), "answer") == 0;
    timeouts += strcmp(get(h, "event"), "timeout") == 0;
  }
  g_ptr_array_unref(lines);
  cr_assert(eq(sz, in_block[0], answers));
  cr_assert(eq(sz, in_block[1], timeouts));
  cr_assert(gt(sz, timeouts, 0)); /* lookup 4 of regression.yaml has some */
  g_free(want);
  g_free(done);
  g_free(svg);
  g_free(gp);

  /* The first traced lookup by default; a lookup not traced is refused. */
  r = run_dhtsim((const char *[]){"plot", out, "--kind", "anatomy", "--format", "svg", NULL});
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  cr_assert(strstr(r.out, "lookup-anatomy-0-0-2.svg") != NULL, "%s", r.out);
  cli_free(&r);
  r = run_dhtsim((const char *[]){"plot", out, "--kind", "anatomy", "--lookup", "3", "--format", "svg", NULL});
  cr_assert(eq(int, r.status, 2));
  cr_assert(strstr(r.err, "trace.jsonl: nothing traced of lookup 3 (the trace's lookups: dhtsim run --trace IDS)") != NULL,
            "%s", r.err);
  cli_free(&r);
  r = run_dhtsim((const char *[]){"plot", out, "--kind", "anatomy", "--replica", "1", "--format", "svg", NULL});
  cr_assert(eq(int, r.status, 2));
  cr_assert(strstr(r.err, "trace.jsonl: nothing traced of replica 1 (") != NULL, "%s", r.err);
  cli_free(&r);
  r = run_dhtsim((const char *[]){"plot", out, "--lookup", "3", NULL});
  cr_assert(eq(int, r.status, 2));
  cr_assert(strstr(r.err, "--lookup, --point and --replica choose the lookup of --kind anatomy") != NULL, "%s", r.err);
  cli_free(&r);
  r = run_dhtsim((const char *[]){"plot", out, "--format", "svg", NULL});
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  cr_assert(strstr(r.out, "plots/lookup-anatomy.svg") != NULL, "presets: %s", r.out);
  cli_free(&r);

  /* No trace: a clear error. */
  r = run_dhtsim((const char *[]){"run", "tests/data/regression.yaml", "--lookups", "3", "--out", plain, NULL});
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  cli_free(&r);
  r = run_dhtsim((const char *[]){"plot", plain, "--kind", "anatomy", "--format", "svg", NULL});
  cr_assert(eq(int, r.status, 2));
  cr_assert(strstr(r.err, "trace.jsonl: No such file or directory: the lookup anatomy needs a trace (dhtsim run "
                          "SCENARIO --out ") != NULL,
            "%s", r.err);
  cli_free(&r);
  r = run_dhtsim((const char *[]){"plot", plain, "--format", "svg", NULL});
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  cr_assert(strstr(r.out, "lookup-anatomy") == NULL, "presets drew an anatomy without a trace");
  cli_free(&r);
  csv_free(&c);
  g_free(lk);
  g_free(svg_name);
  g_free(out);
  g_free(plain);
}

/* Core's note names: one per note, distinct, NULL outside. */
Test(trace, core_note_names) {
  static const char *const want[] = {NULL,     "failed", "slow",   "abandon",  "retry", "step",
                                     "finish", "cancel", "followup", "stall", "evict"};
  cr_assert(eq(int, DHT_NOTE_COUNT, (int)G_N_ELEMENTS(want)));
  for (int i = 0; i < DHT_NOTE_COUNT; i++) {
    const char *n = dht_lookup_note_name((dht_lookup_note)i);
    if (want[i] == NULL)
      cr_assert(n == NULL);
    else
      cr_assert(eq(str, (char *)n, (char *)want[i]), "note %d", i);
  }
  cr_assert(dht_lookup_note_name((dht_lookup_note)DHT_NOTE_COUNT) == NULL);
  cr_assert(dht_lookup_note_name((dht_lookup_note)-1) == NULL);
}
