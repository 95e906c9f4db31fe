/* stats.c: summary statistics and the output writers. Numbers are formatted
 * with fixed precision from exactly computed values, so outputs are byte-identical. */
#include "stats.h"

#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted v[n]: the smallest value with >= p% at or below it. */
static uint64_t pct(const uint64_t *v, size_t n, unsigned p) {
  size_t rank = (size_t)(((uint64_t)n * p + 99) / 100);
  return v[rank == 0 ? 0 : rank - 1];
}

/* Fills d from v[n] (sorts v). The mean is an exact integer sum divided once. */
static void dist(sim_dist *d, uint64_t *v, size_t n) {
  unsigned __int128 sum = 0;
  memset(d, 0, sizeof *d);
  d->n = n;
  if (n == 0)
    return;
  qsort(v, n, sizeof *v, cmp_u64);
  for (size_t i = 0; i < n; i++)
    sum += v[i];
  d->mean = (double)sum / (double)n;
  d->p50 = pct(v, n, 50);
  d->p95 = pct(v, n, 95);
  d->p99 = pct(v, n, 99);
  d->max = v[n - 1];
}

/* A per-lookup value of sim_lookup_result. */
typedef uint64_t (*lookup_value)(const sim_lookup_result *l);
static uint64_t v_queries(const sim_lookup_result *l) { return l->queries; }
static uint64_t v_rounds(const sim_lookup_result *l) { return l->rounds; }
static uint64_t v_hops(const sim_lookup_result *l) { return l->hops; }
static uint64_t v_result(const sim_lookup_result *l) { return l->result_us; }
static uint64_t v_time(const sim_lookup_result *l) { return l->time_us; }
static uint64_t v_first_peer(const sim_lookup_result *l) { return l->first_peer_us; }

/* Fills d from one value of every lookup of res[0..nres) in replica then
 * lookup order, skipping UINT64_MAX (no value: first_peer_us); v is scratch
 * for all of them. */
static void dist_of(sim_dist *d, uint64_t *v, const sim_results *res, size_t nres, lookup_value get) {
  size_t m = 0;
  for (size_t r = 0; r < nres; r++)
    for (size_t i = 0; i < res[r].n_lookups; i++) {
      uint64_t x = get(&res[r].lookups[i]);
      if (x != UINT64_MAX)
        v[m++] = x;
    }
  dist(d, v, m);
}

/* The per-lookup statistics of s over the lookups of res[0..nres). */
static int lookup_stats(sim_summary *s, const sim_results *res, size_t nres) {
  size_t n = 0, ok = 0;
  uint64_t *v;
  double acc = 0.0;

  for (size_t r = 0; r < nres; r++)
    n += res[r].n_lookups;
  if ((v = g_try_new(uint64_t, n + 1)) == NULL)
    return DHT_ENOMEM;
  s->lookups = n;
  dist_of(&s->queries, v, res, nres, v_queries);
  dist_of(&s->rounds, v, res, nres, v_rounds);
  dist_of(&s->hops, v, res, nres, v_hops);
  dist_of(&s->result_us, v, res, nres, v_result);
  dist_of(&s->time_us, v, res, nres, v_time);
  dist_of(&s->first_peer_us, v, res, nres, v_first_peer);
  for (size_t r = 0; r < nres; r++)
    for (size_t i = 0; i < res[r].n_lookups; i++) {
      const sim_lookup_result *l = &res[r].lookups[i];
      ok += l->peers_found > 0;
      /* Summed in lookup order: the same doubles in the same order every run. */
      acc += l->closest_truth ? (double)l->closest_hits / (double)l->closest_truth : 1.0;
    }
  s->success_rate = n ? (double)ok / (double)n : 0.0;
  s->accuracy = n ? acc / (double)n : 0.0;
  g_free(v);
  return 0;
}

static void summary_head(sim_summary *s, const sim_scenario *sc, uint64_t seed, const sim_results *res) {
  memset(s, 0, sizeof *s);
  s->scenario = sc->name;
  s->seed = seed;
  s->nodes = res->nodes;
  s->alpha = sc->lookup.alpha;
  s->k = sc->lookup.k;
  s->strategy = sc->lookup.strategy;
  s->planted = res->planted;
  s->living = sim_param_living(sc);
}

int sim_summary_compute(sim_summary *s, const sim_scenario *sc, uint64_t seed, const sim_results *res) {
  summary_head(s, sc, seed, res);
  s->counters = res->counters;
  return lookup_stats(s, res, 1);
}

int sim_summary_compute_pooled(sim_summary *s, const sim_scenario *sc, const sim_results *res, size_t n) {
  g_return_val_if_fail(n > 0, DHT_EINVAL);
  summary_head(s, sc, 0, &res[0]);
  return lookup_stats(s, res, n);
}

static int io(FILE *f) { return ferror(f) ? DHT_EIO : 0; }

static void table_row(FILE *f, const char *name, const char *unit, const sim_dist *d, double scale) {
  fprintf(f, "  %-22s %10.3f %10.3f %10.3f %10.3f %10.3f%s%s\n", name, d->mean * scale, (double)d->p50 * scale,
          (double)d->p95 * scale, (double)d->p99 * scale, (double)d->max * scale, *unit ? "  " : "", unit);
}

int sim_write_table(FILE *f, const sim_summary *s) {
  const sim_counters *c = &s->counters;
  fprintf(f, "dhtsim: scenario %s, seed %" PRIu64 "\n", s->scenario, s->seed);
  fprintf(f, "  nodes %" PRIu32 ", strategy %s, alpha %u, K %u, lookups %" PRIu64 "\n", s->nodes,
          sim_param_enum_name(SIM_P_LOOKUP_STRATEGY, (int)s->strategy), s->alpha, s->k, s->lookups);
  fprintf(f, "  dead nodes %" PRIu32 ", slow nodes %" PRIu32 "\n", c->dead_nodes, c->slow_nodes);
  if (s->living)
    fprintf(f, "  online fraction %.4f, stale contacts %.4f (when the first lookup started)\n", c->online_fraction,
            c->stale_fraction);
  fprintf(f, "\n");
  fprintf(f, "  %-22s %10s %10s %10s %10s %10s\n", "per lookup", "mean", "p50", "p95", "p99", "max");
  table_row(f, "queries", "", &s->queries, 1.0);
  table_row(f, "rounds", "", &s->rounds, 1.0);
  table_row(f, "hops", "", &s->hops, 1.0);
  table_row(f, "time to result", "ms", &s->result_us, 1e-3);
  table_row(f, "time to converge", "ms", &s->time_us, 1e-3);
  /* Only over the lookups that got a peer, and only when one did: a 0 there
   * would read as "instantly". */
  if (s->first_peer_us.n > 0)
    table_row(f, "time to first peer", "ms", &s->first_peer_us, 1e-3);
  if (s->planted)
    fprintf(f, "  %-22s %10" PRIu64 "  of %" PRIu64 "\n", "lookups with a peer", s->first_peer_us.n, s->lookups);
  fprintf(f, "\n");
  if (s->planted)
    fprintf(f, "  success rate           %10.4f  (lookups that found a planted peer)\n", s->success_rate);
  fprintf(f, "  accuracy               %10.4f  (mean fraction of the true K closest live nodes returned)\n",
          s->accuracy);
  fprintf(f, "  messages sent          %10" PRIu64 "\n", c->messages_sent);
  fprintf(f, "  requests dropped       %10" PRIu64 "\n", c->requests_dropped);
  fprintf(f, "  responses dropped      %10" PRIu64 "\n", c->responses_dropped);
  fprintf(f, "  queries to dead nodes  %10" PRIu64 "\n", c->dead_queries);
  if (c->unreachable_nodes > 0) /* only then: older outputs keep their lines */
    fprintf(f, "  unreachable nodes      %10" PRIu32 "  (queries to them %" PRIu64 ")\n", c->unreachable_nodes,
            c->unreachable_queries);
  if (s->living)
    fprintf(f, "  queries to offline     %10" PRIu64 "\n", c->offline_queries);
  fprintf(f, "  timeouts               %10" PRIu64 "\n", c->timeouts);
  fprintf(f, "  late responses         %10" PRIu64 "\n", c->late_responses);
  fprintf(f, "  events                 %10" PRIu64 "\n", c->events);
  fprintf(f, "  virtual time           %10.3f  s  (when the last lookup ended)\n", (double)c->end_us / 1e6);
  return io(f);
}

/* ---- figures ---- */

/* One reader per figure: (double)field * mul / div, the operations the
 * values were always computed with (see figure.def). */
#define SIM_FIG_READER_(ID, name, unit, scope, field, mul, div, ...) \
  static double read_##ID(const sim_summary *s) { return (double)s->field * (mul) / (div); }
SIM_FIGURE_MAP(SIM_FIG_READER_)
#undef SIM_FIG_READER_

const sim_figure sim_figure_table[SIM_FIG_COUNT] = {
#define SIM_FIG_ENTRY_(ID, name_, unit_, scope_, field, mul, div, format_, presence_, aggregation_, doc_) \
  [SIM_FIG_##ID] = {.name = name_,                                                                   \
                    .unit = unit_,                                                                   \
                    .scope = SIM_SCOPE_##scope_,                                                     \
                    .format = SIM_FORMAT_##format_,                                                  \
                    .presence = SIM_PRESENT_##presence_,                                             \
                    .aggregation = SIM_AGG_##aggregation_,                                           \
                    .read = read_##ID,                                                               \
                    .doc = doc_},
    SIM_FIGURE_MAP(SIM_FIG_ENTRY_)
#undef SIM_FIG_ENTRY_
};

const char *sim_figure_scope_name(sim_figure_scope v) { return v == SIM_SCOPE_RUN ? "run" : "lookup"; }
const char *sim_figure_format_name(sim_figure_format v) { return v == SIM_FORMAT_COUNT ? "count" : "real"; }
const char *sim_figure_presence_name(sim_figure_presence v) {
  return v == SIM_PRESENT_PLANTED       ? "planted"
         : v == SIM_PRESENT_PEERS       ? "peers"
         : v == SIM_PRESENT_UNREACHABLE ? "unreachable"
         : v == SIM_PRESENT_LIVING      ? "living"
                                        : "always";
}

/* Whether c shows the living keys (they are in use together, or not at all). */
static bool columns_living(const sim_columns *c) {
  for (int i = 0; i < SIM_PARAM_COUNT; i++)
    if (sim_params[i].flags & SIM_PARAM_LIVING)
      return c->param[i];
  return false;
}

void sim_columns_complete(sim_columns *c) {
  bool living = columns_living(c);
  for (int i = 0; i < SIM_FIG_COUNT; i++) {
    sim_figure_presence p = sim_figure_table[i].presence;
    c->fig[i] = p == SIM_PRESENT_UNREACHABLE ? c->param[SIM_P_LOSS_UNREACHABLE_FRACTION]
                : p == SIM_PRESENT_LIVING    ? living
                                             : true;
  }
}

void sim_columns_of(sim_columns *c, const sim_scenario *sc) {
  for (int i = 0; i < SIM_PARAM_COUNT; i++)
    c->param[i] = sim_param_in_use((sim_param_id)i, sc);
  sim_columns_complete(c);
}
const char *sim_figure_aggregation_name(sim_figure_aggregation v) {
  return v == SIM_AGG_POOLED ? "pooled" : "mean, t95";
}

void sim_summary_figures(const sim_summary *s, sim_figures *f) {
  for (int i = 0; i < SIM_FIG_COUNT; i++) {
    const sim_figure *fig = &sim_figure_table[i];
    f->v[i] = fig->read(s);
    f->present[i] = fig->presence == SIM_PRESENT_ALWAYS || fig->presence == SIM_PRESENT_UNREACHABLE ||
                    (fig->presence == SIM_PRESENT_LIVING && s->living) ||
                    (fig->presence == SIM_PRESENT_PLANTED && s->planted) ||
                    (fig->presence == SIM_PRESENT_PEERS && s->first_peer_us.n > 0);
  }
}

double sim_t975(unsigned df) {
  /* Exact to 8 digits for df <= 30; beyond, the Cornish-Fisher expansion
   * around z = 1.959963985 is within 1e-5. */
  static const double table[31] = {0,          12.7062047, 4.30265273, 3.18244631, 2.77644511, 2.57058184,
                                   2.44691185, 2.36462425, 2.30600414, 2.26215716, 2.22813885, 2.20098516,
                                   2.17881283, 2.16036866, 2.14478669, 2.13144955, 2.11990530, 2.10981558,
                                   2.10092204, 2.09302405, 2.08596345, 2.07961384, 2.07387307, 2.06865761,
                                   2.06389856, 2.05953855, 2.05552944, 2.05183052, 2.04840714, 2.04522964,
                                   2.04227246};
  const double z = 1.959963985, z3 = z * z * z, z5 = z3 * z * z, z7 = z5 * z * z;
  double n = (double)df;
  if (df == 0)
    return 0.0;
  if (df <= 30)
    return table[df];
  return z + (z3 + z) / (4 * n) + (5 * z5 + 16 * z3 + 3 * z) / (96 * n * n) +
         (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * n * n * n);
}

void sim_aggregate(const sim_figures *runs, size_t n, const sim_figures *pooled, sim_agg out[SIM_FIG_COUNT]) {
  for (int i = 0; i < SIM_FIG_COUNT; i++) {
    double sum = 0.0, ss = 0.0, mean;
    size_t m = 0;
    if (sim_figure_table[i].aggregation == SIM_AGG_POOLED) {
      out[i].present = n > 0 && pooled != NULL && pooled->present[i];
      out[i].mean = out[i].present ? pooled->v[i] : 0.0;
      out[i].has_ci = false;
      out[i].ci95 = 0.0;
      continue;
    }
    /* A replica without the figure (no lookup got a peer) is skipped, not
     * counted as 0. */
    for (size_t r = 0; r < n; r++)
      if (runs[r].present[i]) {
        sum += runs[r].v[i];
        m++;
      }
    mean = m ? sum / (double)m : 0.0;
    /* Two-pass variance: replicas are summed in replica order, so the same bits every run. */
    for (size_t r = 0; r < n; r++)
      if (runs[r].present[i])
        ss += (runs[r].v[i] - mean) * (runs[r].v[i] - mean);
    out[i].mean = mean;
    out[i].present = m > 0;
    out[i].has_ci = m >= 2;
    out[i].ci95 = out[i].has_ci ? sim_t975((unsigned)(m - 1)) * sqrt(ss / (double)(m - 1)) / sqrt((double)m) : 0.0;
  }
}

/* ---- rows ---- */

void sim_output_params(sim_scenario *out, const sim_scenario *pt, uint32_t nodes, uint64_t lookups) {
  *out = *pt;
  out->network.nodes = nodes;
  out->workload.lookups = lookups;
}

void sim_write_csv_text(FILE *f, const char *s) {
  if (strpbrk(s, ",\"\n\r") == NULL) {
    fputs(s, f);
    return;
  }
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"')
      fputc('"', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

void sim_write_params_header(FILE *f, const sim_columns *shown) {
  for (int i = 0; i < SIM_PARAM_COUNT; i++) {
    if (!shown->param[i])
      continue;
    fputc(',', f);
    sim_write_csv_text(f, sim_params[i].key);
  }
}

/* The column text of parameter id: cols' value, or "" when unset. */
static void param_text(sim_param_id id, const sim_scenario *cols, char out[SIM_PARAM_TEXT_SIZE]) {
  if (sim_param_is_set(id, cols))
    sim_param_format(id, cols, out, SIM_PARAM_TEXT_SIZE);
  else
    out[0] = '\0';
}

void sim_write_params_row(FILE *f, const sim_scenario *cols, const sim_columns *shown) {
  char text[SIM_PARAM_TEXT_SIZE];
  for (int i = 0; i < SIM_PARAM_COUNT; i++) {
    if (!shown->param[i])
      continue;
    param_text((sim_param_id)i, cols, text);
    fputc(',', f);
    sim_write_csv_text(f, text);
  }
}

int sim_write_runs_header(FILE *f, const sim_columns *shown) {
  fputs("point,replica,run_seed,label", f);
  sim_write_params_header(f, shown);
  for (int i = 0; i < SIM_FIG_COUNT; i++)
    if (shown->fig[i])
      fprintf(f, ",%s", sim_figure_table[i].name);
  fputc('\n', f);
  return io(f);
}

int sim_write_runs_row(FILE *f, uint64_t point, uint32_t replica, const char *label, const sim_scenario *pt,
                       const sim_summary *s, const sim_columns *shown) {
  sim_figures fig;
  sim_scenario cols;
  sim_summary_figures(s, &fig);
  sim_output_params(&cols, pt, s->nodes, s->lookups);
  fprintf(f, "%" PRIu64 ",%" PRIu32 ",%" PRIu64 ",", point, replica, s->seed);
  sim_write_csv_text(f, label);
  sim_write_params_row(f, &cols, shown);
  for (int i = 0; i < SIM_FIG_COUNT; i++) {
    if (!shown->fig[i])
      continue;
    fputc(',', f);
    if (!fig.present[i])
      continue;
    if (sim_figure_table[i].format == SIM_FORMAT_COUNT)
      fprintf(f, "%.0f", fig.v[i]);
    else
      fprintf(f, "%.6f", fig.v[i]);
  }
  fputc('\n', f);
  return io(f);
}

int sim_write_lookups_header(FILE *f, const char *const *keys, size_t n) {
  fputs("point,replica", f);
  for (size_t i = 0; i < n; i++) {
    fputc(',', f);
    sim_write_csv_text(f, keys[i]);
  }
  fputs(",id,start_node,target,start_ms,queries,rounds,hops,result_ms,time_ms,first_peer_ms,peers_found,timeouts,"
        "accuracy\n",
        f);
  return io(f);
}

int sim_write_lookups_rows(FILE *f, uint64_t point, uint32_t replica, const sim_scenario *pt,
                           const sim_param_id *swept, size_t n, const sim_results *res) {
  char hex[DHT_ID_HEXLEN + 1];
  char *prefix = NULL;
  size_t plen = 0;
  sim_scenario cols;
  FILE *pf;
  /* The point's columns are the same on every row: rendered once. */
  sim_output_params(&cols, pt, res->nodes, res->n_lookups);
  pf = open_memstream(&prefix, &plen);
  if (pf == NULL)
    return DHT_ENOMEM;
  {
    char text[SIM_PARAM_TEXT_SIZE];
    fprintf(pf, "%" PRIu64 ",%" PRIu32, point, replica);
    for (size_t j = 0; j < n; j++) {
      param_text(swept[j], &cols, text);
      fputc(',', pf);
      sim_write_csv_text(pf, text);
    }
  }
  if (fclose(pf) != 0 || prefix == NULL) {
    free(prefix);
    return DHT_ENOMEM;
  }
  for (size_t i = 0; i < res->n_lookups; i++) {
    const sim_lookup_result *l = &res->lookups[i];
    dht_id_to_hex(&l->target, hex);
    fprintf(f, "%s,%" PRIu64 ",%" PRIu32 ",%s,%.3f,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%.3f,%.3f,", prefix, l->id,
            l->start_node, hex, (double)l->start_us / 1e3, l->queries, l->rounds, l->hops, (double)l->result_us / 1e3,
            (double)l->time_us / 1e3);
    if (l->first_peer_us != UINT64_MAX)
      fprintf(f, "%.3f", (double)l->first_peer_us / 1e3);
    fprintf(f, ",%" PRIu32 ",%" PRIu64 ",%.6f\n", l->peers_found, l->timeouts,
            l->closest_truth ? (double)l->closest_hits / (double)l->closest_truth : 1.0);
  }
  free(prefix);
  return io(f);
}

void sim_write_json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\')
      fprintf(f, "\\%c", *p);
    else if (*p < 0x20)
      fprintf(f, "\\u%04x", *p);
    else
      fputc(*p, f);
  }
  fputc('"', f);
}
