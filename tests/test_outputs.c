/* test_outputs.c: the declared-once tables behind every output column.
 *
 * - figure.def: each figure reads its own sim_summary field with its own
 *   scale, format, scope and presence (a swapped, dropped or mistyped entry
 *   fails here, against values written out independently below);
 * - docs/output-format.md: its figure table, its parameter list and its
 *   file layouts are the ones the tables and writers produce, and every
 *   column-like name it quotes is a real column (no stale name). To rewrite
 *   its generated blocks after changing a table:
 *       DHTSIM_REGENERATE_DOCS=1 ./build/tests/test_outputs
 *   then review `git diff docs/output-format.md`;
 * - point records: written, read back and written again give the same
 *   bytes; any truncation or damaged line is an error, never a crash. */
#include <criterion/criterion.h>
#include "criterion_assert.h"
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "param.h"
#include "record.h"
#include "stats.h"
#include "timeline.h"

/* ---- figures ---- */

/* A summary whose every field holds a value of its own. */
static sim_summary distinct_summary(bool planted) {
  sim_summary s;
  memset(&s, 0, sizeof s);
  s.queries = (sim_dist){.n = 9, .mean = 11.5, .p50 = 12, .p95 = 13, .p99 = 14, .max = 15};
  s.rounds = (sim_dist){.n = 9, .mean = 21.5, .p50 = 22, .p95 = 23, .p99 = 24, .max = 25};
  s.hops = (sim_dist){.n = 9, .mean = 51.5, .p50 = 52, .p95 = 53, .p99 = 54, .max = 55};
  s.result_us = (sim_dist){.n = 9, .mean = 61500.0, .p50 = 62000, .p95 = 63000, .p99 = 64000, .max = 65000};
  s.time_us = (sim_dist){.n = 9, .mean = 31500.0, .p50 = 32000, .p95 = 33000, .p99 = 34000, .max = 35000};
  s.first_peer_us = (sim_dist){.n = 8, .mean = 41500.0, .p50 = 42000, .p95 = 43000, .p99 = 44000, .max = 45000};
  s.planted = planted;
  s.success_rate = 0.51;
  s.accuracy = 0.61;
  s.counters = (sim_counters){.messages_sent = 71,
                              .messages_dropped = 72,
                              .requests_dropped = 81,
                              .responses_dropped = 82,
                              .dead_queries = 73,
                              .timeouts = 74,
                              .late_responses = 75,
                              .events = 76,
                              .end_us = 77000000,
                              .dead_nodes = 78,
                              .slow_nodes = 79,
                              .unreachable_nodes = 83,
                              .unreachable_queries = 84,
                              .offline_queries = 85,
                              .maint_queries = 88,
                              .maint_pings = 89,
                              .maint_lookups = 90,
                              .online_fraction = 0.86,
                              .stale_fraction = 0.87};
  s.living = true;
  return s;
}

/* What each figure must be, written out by hand (not from figure.def). */
static const struct {
  const char *name;
  double value;
  const char *scope, *format, *unit;
} want_figures[] = {
    {"queries_mean", 11.5, "lookup", "real", "queries"},   {"queries_p50", 12, "lookup", "real", "queries"},
    {"queries_p95", 13, "lookup", "real", "queries"},      {"queries_p99", 14, "lookup", "real", "queries"},
    {"queries_max", 15, "lookup", "real", "queries"},      {"rounds_mean", 21.5, "lookup", "real", "rounds"},
    {"rounds_p50", 22, "lookup", "real", "rounds"},        {"rounds_p95", 23, "lookup", "real", "rounds"},
    {"rounds_p99", 24, "lookup", "real", "rounds"},        {"rounds_max", 25, "lookup", "real", "rounds"},
    {"hops_mean", 51.5, "lookup", "real", "hops"},         {"hops_p50", 52, "lookup", "real", "hops"},
    {"hops_p95", 53, "lookup", "real", "hops"},            {"hops_p99", 54, "lookup", "real", "hops"},
    {"hops_max", 55, "lookup", "real", "hops"},            {"result_ms_mean", 61.5, "lookup", "real", "ms"},
    {"result_ms_p50", 62, "lookup", "real", "ms"},         {"result_ms_p95", 63, "lookup", "real", "ms"},
    {"result_ms_p99", 64, "lookup", "real", "ms"},         {"result_ms_max", 65, "lookup", "real", "ms"},
    {"time_ms_mean", 31.5, "lookup", "real", "ms"},        {"time_ms_p50", 32, "lookup", "real", "ms"},
    {"time_ms_p95", 33, "lookup", "real", "ms"},           {"time_ms_p99", 34, "lookup", "real", "ms"},
    {"time_ms_max", 35, "lookup", "real", "ms"},           {"first_peer_ms_mean", 41.5, "lookup", "real", "ms"},
    {"first_peer_ms_p50", 42, "lookup", "real", "ms"},     {"first_peer_ms_p95", 43, "lookup", "real", "ms"},
    {"first_peer_ms_p99", 44, "lookup", "real", "ms"},     {"first_peer_ms_max", 45, "lookup", "real", "ms"},
    {"first_peer_lookups", 8, "run", "count", "lookups"},
    {"success_rate", 0.51, "lookup", "real", "fraction"},  {"accuracy", 0.61, "lookup", "real", "fraction"},
    {"messages_sent_total", 71, "run", "count", "messages"},
    {"messages_dropped_total", 72, "run", "count", "messages"},
    {"requests_dropped_total", 81, "run", "count", "queries"},
    {"responses_dropped_total", 82, "run", "count", "messages"},
    {"dead_queries_total", 73, "run", "count", "queries"}, {"timeouts_total", 74, "run", "count", "queries"},
    {"late_responses_total", 75, "run", "count", "messages"},
    {"events_total", 76, "run", "count", "events"},        {"virtual_time_s", 77, "run", "real", "s"},
    {"dead_nodes", 78, "run", "count", "nodes"},           {"slow_nodes", 79, "run", "count", "nodes"},
    {"unreachable_nodes", 83, "run", "count", "nodes"},
    {"unreachable_queries_total", 84, "run", "count", "queries"},
    {"offline_queries_total", 85, "run", "count", "queries"},
    {"maintenance_queries_total", 88, "run", "count", "queries"},
    {"maintenance_pings_total", 89, "run", "count", "queries"},
    {"maintenance_lookups_total", 90, "run", "count", "lookups"},
    {"online_fraction", 0.86, "run", "real", "fraction"},  {"stale_fraction", 0.87, "run", "real", "fraction"},
};

/* Not a living network: the LIVING figures are absent, and have no column. */
Test(figures, living_figures_only_in_a_living_network) {
  sim_summary s = distinct_summary(true);
  sim_figures f;
  int n = 0;
  sim_scenario sc;
  sim_columns dead, alive;
  s.living = false;
  sim_summary_figures(&s, &f);
  sim_scenario_defaults(&sc);
  sim_columns_of(&dead, &sc);
  sc.churn.session.model = SIM_CHURN_EXPONENTIAL;
  sim_columns_of(&alive, &sc);
  for (int i = 0; i < SIM_FIG_COUNT; i++) {
    bool living = sim_figure_table[i].presence == SIM_PRESENT_LIVING;
    bool unreachable = sim_figure_table[i].presence == SIM_PRESENT_UNREACHABLE;
    n += living;
    cr_assert(eq(int, f.present[i], !living), "%s", sim_figure_table[i].name);
    cr_assert(eq(int, dead.fig[i], !living && !unreachable), "%s", sim_figure_table[i].name);
    cr_assert(eq(int, alive.fig[i], !unreachable), "%s", sim_figure_table[i].name);
  }
  cr_assert(eq(int, n, 6));
  /* The living keys are shown together, or not at all. */
  for (int i = 0; i < SIM_PARAM_COUNT; i++)
    if (sim_params[i].flags & SIM_PARAM_LIVING) {
      cr_assert(eq(int, dead.param[i], 0), "%s", sim_params[i].key);
      cr_assert(alive.param[i], "%s", sim_params[i].key);
    }
}

Test(figures, every_figure_reads_its_own_field_scale_and_format_in_output_order) {
  sim_summary s = distinct_summary(true);
  sim_figures f;
  cr_assert(eq(sz, G_N_ELEMENTS(want_figures), (size_t)SIM_FIG_COUNT), "figure.def has %d figures", SIM_FIG_COUNT);
  sim_summary_figures(&s, &f);
  for (int i = 0; i < SIM_FIG_COUNT; i++) {
    const sim_figure *fig = &sim_figure_table[i];
    cr_assert(eq(str, (char *)fig->name, (char *)want_figures[i].name), "figure %d", i);
    cr_assert(eq(dbl, fig->read(&s), want_figures[i].value), "%s", fig->name);
    cr_assert(eq(dbl, f.v[i], want_figures[i].value), "%s", fig->name);
    cr_assert(f.present[i], "%s", fig->name);
    cr_assert(eq(str, (char *)sim_figure_scope_name(fig->scope), (char *)want_figures[i].scope), "%s", fig->name);
    cr_assert(eq(str, (char *)sim_figure_format_name(fig->format), (char *)want_figures[i].format), "%s",
              fig->name);
    cr_assert(eq(str, (char *)fig->unit, (char *)want_figures[i].unit), "%s", fig->name);
    cr_assert(fig->doc[0] != '\0' && strchr(fig->doc, '\n') == NULL, "%s", fig->name);
    /* A per-run total is named so: never mistaken for a per-lookup mean. */
    if (g_str_has_suffix(fig->name, "_total"))
      cr_assert(fig->scope == SIM_SCOPE_RUN && fig->format == SIM_FORMAT_COUNT, "%s", fig->name);
  }
}

Test(figures, success_rate_only_with_planted_peers) {
  sim_summary s = distinct_summary(false);
  sim_figures f;
  sim_summary_figures(&s, &f);
  for (int i = 0; i < SIM_FIG_COUNT; i++)
    cr_assert(eq(int, f.present[i], i != SIM_FIG_SUCCESS_RATE), "%s", sim_figure_table[i].name);
  cr_assert(eq(int, sim_figure_table[SIM_FIG_SUCCESS_RATE].presence, SIM_PRESENT_PLANTED));
}

/* No lookup got a peer: the first_peer_ms figures are empty, never 0, and
 * first_peer_lookups says 0. */
Test(figures, first_peer_only_when_some_lookup_got_a_peer) {
  sim_summary s = distinct_summary(true);
  sim_figures f;
  s.first_peer_us = (sim_dist){0};
  sim_summary_figures(&s, &f);
  for (int i = 0; i < SIM_FIG_COUNT; i++) {
    bool fp = g_str_has_prefix(sim_figure_table[i].name, "first_peer_ms_");
    cr_assert(eq(int, f.present[i], !fp), "%s", sim_figure_table[i].name);
  }
  cr_assert(eq(dbl, f.v[SIM_FIG_FIRST_PEER_LOOKUPS], 0.0));
  cr_assert(eq(int, sim_figure_table[SIM_FIG_FIRST_PEER_MS_P95].presence, SIM_PRESENT_PEERS));
}

/* The runs.csv text of one run: counts as whole numbers, the rest %.6f, success_rate empty without peers. */
Test(figures, runs_row_formats_each_figure_by_its_format) {
  sim_scenario sc;
  sim_summary s = distinct_summary(false);
  s.living = false; /* the defaults: no churn */
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  const char *tail;
  sim_scenario_defaults(&sc);
  sc.name = (char *)"x";
  s.nodes = 100;
  s.lookups = 9;
  s.seed = 5;
  cr_assert(f != NULL);
  sim_columns shown;
  sim_columns_of(&shown, &sc);
  cr_assert(eq(int, sim_write_runs_row(f, 0, 0, "", &sc, &s, &shown), 0));
  fclose(f);
  tail = strstr(buf, ",11.500000,12.000000,13.000000,14.000000,15.000000,21.500000,");
  cr_assert(tail != NULL, "%s", buf);
  cr_assert(strstr(tail, ",45.000000,8,,0.610000,71,72,81,82,73,74,75,76,77.000000,78,79\n") != NULL, "%s", buf);
  free(buf);
  /* A scenario that uses loss.unreachable_fraction shows its column and figures. */
  buf = NULL;
  f = open_memstream(&buf, &len);
  cr_assert(f != NULL);
  sc.loss.unreachable_fraction = 0.25;
  sim_columns_of(&shown, &sc);
  cr_assert(eq(int, sim_write_runs_row(f, 0, 0, "", &sc, &s, &shown), 0));
  fclose(f);
  cr_assert(strstr(buf, ",0.05,0.25,rounds,") != NULL || strstr(buf, ",0,0.25,rounds,") != NULL, "%s", buf);
  cr_assert(g_str_has_suffix(buf, ",77.000000,78,79,83,84\n"), "%s", buf);
  free(buf);
}

/* A living network (churn): its LIVING parameter columns and figures are
 * written, after the others of their section and the figure list. */
Test(figures, runs_row_of_a_living_network_has_its_columns) {
  sim_scenario sc;
  sim_summary s = distinct_summary(false);
  char *buf = NULL, *head = NULL;
  size_t len = 0, hlen = 0;
  FILE *f = open_memstream(&buf, &len), *h = open_memstream(&head, &hlen);
  sim_scenario_defaults(&sc);
  sc.name = (char *)"x";
  sc.churn.session.model = SIM_CHURN_EXPONENTIAL;
  cr_assert(sim_param_living(&sc));
  s.living = true;
  s.nodes = 100;
  s.lookups = 9;
  cr_assert(f != NULL && h != NULL);
  sim_columns shown;
  sim_columns_of(&shown, &sc);
  cr_assert(eq(int, sim_write_runs_row(f, 0, 0, "", &sc, &s, &shown), 0));
  cr_assert(eq(int, sim_write_runs_header(h, &shown), 0));
  fclose(f);
  fclose(h);
  cr_assert(strstr(buf, ",random,,none,constant,") != NULL, "%s", buf);
  cr_assert(strstr(buf, ",,exponential,3600,0.5,3600,3600,1,600,none,") != NULL, "%s", buf);
  /* no unreachable figures: loss.unreachable_fraction is not used */
  cr_assert(g_str_has_suffix(buf, ",78,79,85,88,89,90,0.860000,0.870000\n"), "%s", buf);
  cr_assert(strstr(head, ",network.topology,network.maintenance,latency.model,") != NULL, "%s", head);
  cr_assert(g_str_has_suffix(head, ",slow_nodes,offline_queries_total,maintenance_queries_total,maintenance_pings_total,"
                                  "maintenance_lookups_total,online_fraction,stale_fraction\n"), "%s", head);
  free(buf);
  free(head);
}

/* ---- docs/output-format.md ---- */

static char *doc_path(void) { return g_build_filename(DHTSIM_SOURCE_DIR, "docs", "output-format.md", NULL); }

/* The generated block `name` of the doc: its text between "<!-- name -->\n" and "<!-- /name -->". */
typedef struct block {
  const char *name;
  char *(*render)(void);
} block;

static char *render_params(void) {
  GString *s = g_string_new("| column | type | unit | what |\n|--------|------|------|------|\n");
  static const char *const types[] = {[SIM_PT_UINT] = "integer", [SIM_PT_REAL] = "number",
                                      [SIM_PT_DURATION] = "ms",   [SIM_PT_ENUM] = "name",
                                      [SIM_PT_NAME] = "text",     [SIM_PT_PATH] = "path",
                                      [SIM_PT_BOOL] = "bool"};
  for (int i = 0; i < SIM_PARAM_COUNT; i++)
    g_string_append_printf(s, "| `%s` | %s | %s | %s |\n", sim_params[i].key, types[sim_params[i].type],
                           sim_params[i].unit, sim_params[i].doc);
  return g_string_free(s, FALSE);
}

static char *render_figures(void) {
  GString *s = g_string_new("| column | unit | scope | runs.csv | present | over replicas | what |\n"
                            "|--------|------|-------|----------|---------|---------------|------|\n");
  for (int i = 0; i < SIM_FIG_COUNT; i++) {
    const sim_figure *f = &sim_figure_table[i];
    g_string_append_printf(s, "| `%s` | %s | %s | %s | %s | %s | %s |\n", f->name, f->unit,
                           sim_figure_scope_name(f->scope), sim_figure_format_name(f->format),
                           sim_figure_presence_name(f->presence), sim_figure_aggregation_name(f->aggregation),
                           f->doc);
  }
  return g_string_free(s, FALSE);
}

/* The header a writer produces, with the parameter and figure lists shortened to
 * placeholders, in a code line. */
static char *header_of(int (*fn)(FILE *)) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  cr_assert(f != NULL);
  cr_assert(eq(int, fn(f), 0));
  fclose(f);
  return buf;
}

/* Replaces the first occurrence of `what` in s by `by` (asserting it is there). */
static void replace_once(GString *s, const char *what, const char *by) {
  const char *at = strstr(s->str, what);
  cr_assert(at != NULL, "no %s in %s", what, s->str);
  size_t pos = (size_t)(at - s->str);
  g_string_erase(s, (gssize)pos, (gssize)strlen(what));
  g_string_insert(s, (gssize)pos, by);
}

static GString *placeholders(const char *header, bool ci) {
  GString *s = g_string_new(header), *p = g_string_new(NULL), *f = g_string_new(NULL);
  for (int i = 0; i < SIM_PARAM_COUNT; i++)
    g_string_append_printf(p, ",%s", sim_params[i].key);
  for (int i = 0; i < SIM_FIG_COUNT; i++) {
    g_string_append_printf(f, ",%s", sim_figure_table[i].name);
    if (ci)
      g_string_append_printf(f, ",%s_ci95", sim_figure_table[i].name);
  }
  replace_once(s, p->str, ",<parameters>");
  replace_once(s, f->str, ci ? ",<each figure F: F,F_ci95>" : ",<figures>");
  g_string_free(p, TRUE);
  g_string_free(f, TRUE);
  g_string_truncate(s, s->len - 1); /* the '\n' */
  return s;
}

/* Every column, the quiet ones too: the layouts docs/output-format.md shows. */
static const sim_columns *every_column(void) {
  static sim_columns c;
  memset(&c, 1, sizeof c);
  return &c;
}
static int summary_header(FILE *f) { return sim_record_write_summary_header(f, every_column()); }
static int runs_header(FILE *f) { return sim_write_runs_header(f, every_column()); }

static int lookups_header(FILE *f) {
  static const char *const keys[] = {"<swept keys>"};
  return sim_write_lookups_header(f, keys, 1);
}

static char *render_layouts(void) {
  char *sum = header_of(summary_header), *runs = header_of(runs_header);
  char *lks = header_of(lookups_header);
  GString *a = placeholders(sum, true), *b = placeholders(runs, false);
  char *out = g_strdup_printf("- summary.csv: `%s`\n- runs.csv: `%s`\n- lookups.csv: `%.*s`\n", a->str, b->str,
                              (int)strlen(lks) - 1, lks);
  g_string_free(a, TRUE);
  g_string_free(b, TRUE);
  free(sum);
  free(runs);
  free(lks);
  return out;
}

static char *render_timeline(void) {
  GString *s = g_string_new("| column | unit | what |\n|--------|------|------|\n");
  for (size_t i = 0; i < sim_timeline_column_count; i++)
    g_string_append_printf(s, "| `%s` | %s | %s |\n", sim_timeline_columns[i].name, sim_timeline_columns[i].unit,
                           sim_timeline_columns[i].doc);
  return g_string_free(s, FALSE);
}

static const block blocks[] = {
    {"layouts", render_layouts},
    {"timeline", render_timeline},
    {"parameters", render_params},
    {"figures", render_figures},
};

Test(docs, generated_blocks_are_the_tables) {
  char *path = doc_path(), *doc = NULL;
  const char *env = g_getenv("DHTSIM_REGENERATE_DOCS");
  bool regen = env != NULL && strcmp(env, "1") == 0;
  GString *text;
  cr_assert(g_file_get_contents(path, &doc, NULL, NULL), "cannot read %s", path);
  text = g_string_new(doc);
  for (size_t i = 0; i < G_N_ELEMENTS(blocks); i++) {
    char *open = g_strdup_printf("<!-- %s -->\n", blocks[i].name), *close = g_strdup_printf("<!-- /%s -->", blocks[i].name);
    char *want = blocks[i].render();
    const char *a = strstr(text->str, open), *b = a != NULL ? strstr(a, close) : NULL;
    cr_assert(a != NULL && b != NULL, "%s: no %s ... %s block", path, open, close);
    size_t from = (size_t)(a - text->str) + strlen(open), n = (size_t)(b - text->str) - from;
    if (regen) {
      g_string_erase(text, (gssize)from, (gssize)n);
      g_string_insert(text, (gssize)from, want);
    } else {
      cr_assert(n == strlen(want) && memcmp(text->str + from, want, n) == 0,
                "%s: the %s block is not the table's (DHTSIM_REGENERATE_DOCS=1 rewrites it); expected:\n%s", path,
                blocks[i].name, want);
    }
    g_free(want);
    g_free(open);
    g_free(close);
  }
  if (regen)
    cr_assert(g_file_set_contents(path, text->str, (gssize)text->len, NULL));
  g_string_free(text, TRUE);
  g_free(doc);
  g_free(path);
}

/* Every `name` the doc quotes that looks like a column (lower case, digits,
 * '_', '.') is a column of some output or a key of summary.json. */
Test(docs, no_stale_column_name) {
  static const char *const others[] = {
      /* fixed columns */
      "point", "label", "replica", "run_seed", "id", "start_node", "target", "start_ms", "queries", "rounds",
      "hops", "result_ms", "time_ms", "first_peer_ms", "peers_found", "timeouts", "accuracy",
      /* strategies (lookup.strategy's values) */
      "pipelined", "libtorrent", "jech", "aria2", "libp2p",
      /* summary.json */
      "scenario", "seed", "replicas", "sweep", "points", "params", "stats", "mean", "ci95", "null",
      /* the figure table's words, and others of the text that are not columns */
      "lookup", "run", "real", "count", "always", "planted", "peers", "pooled", "parts", "manifest", "end", "param", "fig",
      /* trace.jsonl (sim/trace.c): its keys, events, causes and decisions, and --trace's `all` */
      "t_ms", "event", "node", "log2_distance", "in_flight", "batch", "nodes", "changed", "cause", "decision", "query",
      "answer", "timeout", "late", "failed", "request_dropped", "dead_node", "unreachable_node", "offline_node", "response_dropped", "done", "slow", "abandon",
      "retry", "step", "finish", "cancel", "followup", "stall", "evict", "all"};
  char *path = doc_path(), *doc = NULL;
  GRegex *re = g_regex_new("`([a-z][a-z0-9_.]*)`", 0, 0, NULL);
  GMatchInfo *m = NULL;
  size_t n = 0;
  cr_assert(g_file_get_contents(path, &doc, NULL, NULL));
  g_regex_match(re, doc, 0, &m);
  for (; g_match_info_matches(m); g_match_info_next(m, NULL), n++) {
    char *w = g_match_info_fetch(m, 1);
    bool known = false;
    for (int i = 0; i < SIM_PARAM_COUNT && !known; i++)
      known = strcmp(w, sim_params[i].key) == 0;
    for (int i = 0; i < SIM_FIG_COUNT && !known; i++) {
      const char *f = sim_figure_table[i].name;
      known = strcmp(w, f) == 0 || (g_str_has_prefix(w, f) && strcmp(w + strlen(f), "_ci95") == 0);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(others) && !known; i++)
      known = strcmp(w, others[i]) == 0;
    for (size_t i = 0; i < sim_timeline_column_count && !known; i++)
      known = strcmp(w, sim_timeline_columns[i].name) == 0;
    /* events.csv's columns, the figure table's presence word, the timed events' actions */
    static const char *const living[] = {"at_s", "action", "key", "value", "living", "set", "fail_fraction",
                                         "revive_fraction"};
    for (size_t i = 0; i < G_N_ELEMENTS(living) && !known; i++)
      known = strcmp(w, living[i]) == 0;
    cr_assert(known, "%s quotes `%s`: not a column of any output (a stale name?)", path, w);
    g_free(w);
  }
  cr_assert(gt(sz, n, (size_t)SIM_FIG_COUNT + SIM_PARAM_COUNT));
  g_match_info_free(m);
  g_regex_unref(re);
  g_free(doc);
  g_free(path);
}

/* ---- point records ---- */

static sim_record *sample_record(void) {
  sim_scenario sc;
  sim_agg agg[SIM_FIG_COUNT];
  sim_record *r;
  sim_scenario_defaults(&sc);
  sc.name = (char *)"odd, \"name\"\\ é";
  sc.network.topology = (char *)"/tmp/a b/topo\n.txt";
  sc.latency.sigma = 1.0 / 3.0;
  for (int i = 0; i < SIM_FIG_COUNT; i++) {
    agg[i].mean = (i + 1) / 7.0;
    agg[i].ci95 = i % 3 == 0 ? 0.0 : -1e-300 * i;
    agg[i].present = i % 5 != 4;
    agg[i].has_ci = agg[i].present && i % 2 == 0;
  }
  r = sim_record_new(42, "lookup.alpha=1 latency.sigma=1e-1", &sc, agg);
  cr_assert(r != NULL);
  return r;
}

static char *record_text(const sim_record *r, size_t *len) {
  char *buf = NULL;
  FILE *f = open_memstream(&buf, len);
  cr_assert(f != NULL);
  cr_assert(eq(int, sim_record_write(f, r), 0));
  fclose(f);
  return buf;
}

Test(records, write_read_write_is_byte_identical_and_exact) {
  sim_record *r = sample_record(), *back;
  size_t len = 0, len2 = 0;
  char *a = record_text(r, &len), *b, err[256];
  int rc = 0;
  back = sim_record_parse(a, len, 42, &rc, err, sizeof err);
  cr_assert(back != NULL, "%s", err);
  cr_assert(eq(int, rc, 0));
  b = record_text(back, &len2);
  cr_assert(eq(str, a, b));
  cr_assert(eq(str, (char *)back->label, (char *)r->label));
  for (int i = 0; i < SIM_PARAM_COUNT; i++) {
    bool same = (r->param[i] == NULL && back->param[i] == NULL) ||
                (r->param[i] != NULL && back->param[i] != NULL && strcmp(r->param[i], back->param[i]) == 0);
    cr_assert(same, "%s", sim_params[i].key);
  }
  cr_assert(back->param[SIM_P_WORKLOAD_LOOKUPS_FILE] == NULL);
  cr_assert(eq(str, (char *)back->param[SIM_P_NETWORK_TOPOLOGY], "/tmp/a b/topo\n.txt"));
  /* Exact: the same bits, not merely the same %.6f text. */
  for (int i = 0; i < SIM_FIG_COUNT; i++) {
    const sim_agg *x = &r->agg[i], *y = &back->agg[i];
    cr_assert(memcmp(&x->mean, &y->mean, sizeof x->mean) == 0 && memcmp(&x->ci95, &y->ci95, sizeof x->ci95) == 0 &&
                  x->present == y->present && x->has_ci == y->has_ci,
              "%s", sim_figure_table[i].name);
  }
  /* A record of another point is refused. */
  cr_assert(sim_record_parse(a, len, 41, &rc, err, sizeof err) == NULL);
  cr_assert(eq(int, rc, DHT_EINVAL));
  free(a);
  free(b);
  sim_record_free(r);
  sim_record_free(back);
}

/* Whether a record line is a quiet key's ("param KEY ...") or its figure's ("fig NAME ..."). */
static bool quiet_line(const char *line) {
  for (int i = 0; i < SIM_PARAM_COUNT; i++) {
    char p[128];
    snprintf(p, sizeof p, "param %s ", sim_params[i].key);
    if (g_str_has_prefix(line, p))
      return (sim_params[i].flags & SIM_PARAM_QUIET) != 0;
  }
  for (int i = 0; i < SIM_FIG_COUNT; i++) {
    char p[128];
    snprintf(p, sizeof p, "fig %s ", sim_figure_table[i].name);
    if (g_str_has_prefix(line, p))
      return sim_figure_table[i].presence == SIM_PRESENT_UNREACHABLE;
  }
  return false;
}

/* x lacks what the quiet line held. */
static void quiet_line_gone(const sim_record *x, const char *line) {
  for (int i = 0; i < SIM_PARAM_COUNT; i++) {
    char p[128];
    snprintf(p, sizeof p, "param %s ", sim_params[i].key);
    if (g_str_has_prefix(line, p))
      cr_assert(x->param[i] == NULL, "%s", line);
  }
  for (int i = 0; i < SIM_FIG_COUNT; i++) {
    char p[128];
    snprintf(p, sizeof p, "fig %s ", sim_figure_table[i].name);
    if (g_str_has_prefix(line, p))
      cr_assert(x->agg[i].present == false && x->agg[i].mean == 0.0, "%s", line);
  }
}

Test(records, every_truncation_and_damaged_line_is_an_error) {
  sim_record *r = sample_record();
  size_t len = 0;
  char *a = record_text(r, &len), err[256];
  char **lines = g_strsplit(a, "\n", -1);
  guint n = g_strv_length(lines) - 1; /* the empty string after the last '\n' */
  int rc;
  for (size_t cut = 0; cut < len; cut++) {
    sim_record *x = sim_record_parse(a, cut, 42, &rc, err, sizeof err);
    cr_assert(x == NULL && rc == DHT_EINVAL, "a record cut at byte %zu was accepted", cut);
  }
  for (guint drop = 0; drop < n; drop++) {
    /* Without line `drop`; then with lines drop and drop + 1 swapped. */
    for (int swap = 0; swap < 2; swap++) {
      GString *s = g_string_new(NULL);
      for (guint i = 0; i < n; i++) {
        guint j = swap && i == drop && i + 1 < n ? i + 1 : swap && i == drop + 1 ? drop : i;
        if (!swap && i == drop)
          continue;
        g_string_append_printf(s, "%s\n", lines[j]);
      }
      if (swap && (drop + 1 >= n || strcmp(lines[drop], lines[drop + 1]) == 0)) {
        g_string_free(s, TRUE);
        continue;
      }
      sim_record *x = sim_record_parse(s->str, s->len, 42, &rc, err, sizeof err);
      if (!swap && quiet_line(lines[drop])) {
        /* A record written before that quiet key existed: read, the key unset, its figure absent. */
        cr_assert(x != NULL, "line %u dropped: %s", drop + 1, err);
        quiet_line_gone(x, lines[drop]);
        sim_record_free(x);
        g_string_free(s, TRUE);
        continue;
      }
      cr_assert(x == NULL && rc == DHT_EINVAL, "line %u %s: accepted", drop + 1, swap ? "swapped" : "dropped");
      cr_assert(strstr(err, "line ") != NULL, "%s", err);
      g_string_free(s, TRUE);
    }
  }
  /* Trailing bytes, a bad number, a bad escape, a ci without a mean. */
  {
    static const char *const edits[][2] = {
        {"end\n", "end\nx\n"}, {"fig success_rate 1 0 ", "fig success_rate 1 0 x"}, {"label ", "label \\q"},
        {"fig queries_mean 1 1 ", "fig queries_mean 0 1 "}, {"point 42", "point 042x"}};
    for (size_t i = 0; i < G_N_ELEMENTS(edits); i++) {
      GString *s = g_string_new(a);
      const char *at = strstr(s->str, edits[i][0]);
      cr_assert(at != NULL, "%s", edits[i][0]);
      size_t pos = (size_t)(at - s->str);
      g_string_erase(s, (gssize)pos, (gssize)strlen(edits[i][0]));
      g_string_insert(s, (gssize)pos, edits[i][1]);
      cr_assert(sim_record_parse(s->str, s->len, 42, &rc, err, sizeof err) == NULL, "edit %zu accepted", i);
      g_string_free(s, TRUE);
    }
  }
  g_strfreev(lines);
  free(a);
  sim_record_free(r);
}
