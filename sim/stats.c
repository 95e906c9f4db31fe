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

/* param.c holds the one list of strategy names. */
const char *sim_strategy_name(dht_lookup_strategy s) { return sim_param_enum_name(SIM_P_LOOKUP_STRATEGY, (int)s); }

const char *sim_tables_name(sim_tables_kind t) { return t == SIM_TABLES_FULL ? "full" : "random"; }

const char *sim_latency_name(sim_latency_model m) {
  return m == SIM_LATENCY_UNIFORM ? "uniform" : m == SIM_LATENCY_LOGNORMAL ? "lognormal" : "constant";
}

int sim_summary_compute(sim_summary *s, const sim_scenario *sc, uint64_t seed, const sim_results *res) {
  size_t n = res->n_lookups, m = 0, ok = 0;
  uint64_t *v = g_try_new(uint64_t, n + 1);
  double acc = 0.0;

  if (v == NULL)
    return DHT_ENOMEM;
  memset(s, 0, sizeof *s);
  s->scenario = sc->name;
  s->seed = seed;
  s->nodes = res->nodes;
  s->alpha = sc->lookup.alpha;
  s->k = sc->lookup.k;
  s->strategy = sc->lookup.strategy;
  s->lookups = n;
  s->planted = res->planted;
  s->counters = res->counters;
  for (size_t i = 0; i < n; i++)
    v[i] = res->lookups[i].queries;
  dist(&s->queries, v, n);
  for (size_t i = 0; i < n; i++)
    v[i] = res->lookups[i].rounds;
  dist(&s->rounds, v, n);
  for (size_t i = 0; i < n; i++)
    v[i] = res->lookups[i].time_us;
  dist(&s->time_us, v, n);
  for (size_t i = 0; i < n; i++) {
    const sim_lookup_result *l = &res->lookups[i];
    if (l->first_peer_us != UINT64_MAX)
      v[m++] = l->first_peer_us;
    ok += l->peers_found > 0;
    /* Summed in lookup order: the same doubles in the same order every run. */
    acc += l->closest_truth ? (double)l->closest_hits / (double)l->closest_truth : 1.0;
  }
  dist(&s->first_peer_us, v, m);
  s->success_rate = n ? (double)ok / (double)n : 0.0;
  s->accuracy = n ? acc / (double)n : 0.0;
  g_free(v);
  return 0;
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
          sim_strategy_name(s->strategy), s->alpha, s->k, s->lookups);
  fprintf(f, "  dead nodes %" PRIu32 ", slow nodes %" PRIu32 "\n\n", c->dead_nodes, c->slow_nodes);
  fprintf(f, "  %-22s %10s %10s %10s %10s %10s\n", "per lookup", "mean", "p50", "p95", "p99", "max");
  table_row(f, "queries", "", &s->queries, 1.0);
  table_row(f, "rounds", "", &s->rounds, 1.0);
  table_row(f, "time to converge", "ms", &s->time_us, 1e-3);
  if (s->planted)
    table_row(f, "time to first peer", "ms", &s->first_peer_us, 1e-3);
  fprintf(f, "\n");
  if (s->planted)
    fprintf(f, "  success rate           %10.4f  (lookups that found a planted peer)\n", s->success_rate);
  fprintf(f, "  accuracy               %10.4f  (mean fraction of the true K closest live nodes returned)\n",
          s->accuracy);
  fprintf(f, "  messages sent          %10" PRIu64 "\n", c->messages_sent);
  fprintf(f, "  messages dropped       %10" PRIu64 "\n", c->messages_dropped);
  fprintf(f, "  queries to dead nodes  %10" PRIu64 "\n", c->dead_queries);
  fprintf(f, "  timeouts               %10" PRIu64 "\n", c->timeouts);
  fprintf(f, "  late responses         %10" PRIu64 "\n", c->late_responses);
  fprintf(f, "  events                 %10" PRIu64 "\n", c->events);
  fprintf(f, "  virtual time           %10.3f  s\n", (double)c->end_us / 1e6);
  return io(f);
}

const char *const sim_figure_names[SIM_FIG_COUNT] = {
    "queries_mean",       "queries_p50",       "queries_p95",       "queries_p99",       "queries_max",
    "rounds_mean",        "rounds_p50",        "rounds_p95",        "rounds_p99",        "rounds_max",
    "time_ms_mean",       "time_ms_p50",       "time_ms_p95",       "time_ms_p99",       "time_ms_max",
    "first_peer_ms_mean", "first_peer_ms_p50", "first_peer_ms_p95", "first_peer_ms_p99", "first_peer_ms_max",
    "success_rate",       "accuracy",          "messages_sent",     "messages_dropped",  "dead_queries",
    "timeouts",           "late_responses",    "events",            "virtual_time_s",
};

/* Index of the first counter figure: from here on, whole numbers except the last. */
enum { FIG_SUCCESS = 20, FIG_FIRST_COUNT = 22, FIG_VIRTUAL_TIME = 28 };

static void put_dist(double *v, const sim_dist *d, double scale) {
  v[0] = d->mean * scale;
  v[1] = (double)d->p50 * scale;
  v[2] = (double)d->p95 * scale;
  v[3] = (double)d->p99 * scale;
  v[4] = (double)d->max * scale;
}

void sim_summary_figures(const sim_summary *s, sim_figures *f) {
  const sim_counters *c = &s->counters;
  for (int i = 0; i < SIM_FIG_COUNT; i++)
    f->present[i] = true;
  put_dist(f->v + 0, &s->queries, 1.0);
  put_dist(f->v + 5, &s->rounds, 1.0);
  put_dist(f->v + 10, &s->time_us, 1e-3);
  put_dist(f->v + 15, &s->first_peer_us, 1e-3);
  f->v[FIG_SUCCESS] = s->success_rate;
  f->present[FIG_SUCCESS] = s->planted;
  f->v[21] = s->accuracy;
  f->v[22] = (double)c->messages_sent;
  f->v[23] = (double)c->messages_dropped;
  f->v[24] = (double)c->dead_queries;
  f->v[25] = (double)c->timeouts;
  f->v[26] = (double)c->late_responses;
  f->v[27] = (double)c->events;
  f->v[FIG_VIRTUAL_TIME] = (double)c->end_us / 1e6;
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

void sim_aggregate(const sim_figures *runs, size_t n, sim_agg out[SIM_FIG_COUNT]) {
  for (int i = 0; i < SIM_FIG_COUNT; i++) {
    double sum = 0.0, ss = 0.0, mean;
    bool present = n > 0;
    for (size_t r = 0; r < n; r++) {
      present &= runs[r].present[i];
      sum += runs[r].v[i];
    }
    mean = n ? sum / (double)n : 0.0;
    /* Two-pass variance: replicas are summed in replica order, so the same bits every run. */
    for (size_t r = 0; r < n; r++)
      ss += (runs[r].v[i] - mean) * (runs[r].v[i] - mean);
    out[i].mean = mean;
    out[i].present = present;
    out[i].has_ci = present && n >= 2;
    out[i].ci95 = out[i].has_ci ? sim_t975((unsigned)(n - 1)) * sqrt(ss / (double)(n - 1)) / sqrt((double)n) : 0.0;
  }
}

/* Figures print as whole numbers when they are counts, else with 6 decimals. */
static void put_fig(FILE *f, int i, double v) {
  if (i >= FIG_FIRST_COUNT && i != FIG_VIRTUAL_TIME)
    fprintf(f, "%.0f", v);
  else
    fprintf(f, "%.6f", v);
}

static const char params_header[] =
    "nodes,tables,strategy,alpha,k,latency_model,request_drop,response_drop,dead_fraction,timeout_ms,lookups";

static void put_params(FILE *f, const sim_scenario *pt, uint32_t nodes, uint64_t lookups) {
  fprintf(f, "%" PRIu32 ",%s,%s,%u,%u,%s,%.6f,%.6f,%.6f,%.3f,%" PRIu64, nodes, sim_tables_name(pt->network.tables),
          sim_strategy_name(pt->lookup.strategy), pt->lookup.alpha, pt->lookup.k,
          sim_latency_name(pt->latency.model), pt->loss.request_drop, pt->loss.response_drop,
          pt->loss.dead_fraction, (double)pt->lookup.timeout_us / 1e3, lookups);
}

/* CSV text field: quoted (RFC 4180) only when it holds a comma, quote or line break. */
static void put_csv_text(FILE *f, const char *s) {
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

int sim_write_summary_header(FILE *f) {
  fprintf(f, "point,label,scenario,seed,%s,replicas", params_header);
  for (int i = 0; i < SIM_FIG_COUNT; i++)
    fprintf(f, ",%s,%s_ci95", sim_figure_names[i], sim_figure_names[i]);
  fputc('\n', f);
  return io(f);
}

int sim_write_summary_row(FILE *f, uint64_t point, const char *label, const sim_scenario *pt, uint64_t scenario_seed,
                          uint32_t nodes, uint64_t lookups, uint32_t replicas, const sim_agg agg[SIM_FIG_COUNT]) {
  fprintf(f, "%" PRIu64 ",", point);
  put_csv_text(f, label);
  fputc(',', f);
  put_csv_text(f, pt->name);
  fprintf(f, ",%" PRIu64 ",", scenario_seed);
  put_params(f, pt, nodes, lookups);
  fprintf(f, ",%" PRIu32, replicas);
  for (int i = 0; i < SIM_FIG_COUNT; i++) {
    fputc(',', f);
    if (agg[i].present)
      fprintf(f, "%.6f", agg[i].mean);
    fputc(',', f);
    if (agg[i].has_ci)
      fprintf(f, "%.6f", agg[i].ci95);
  }
  fputc('\n', f);
  return io(f);
}

int sim_write_runs_header(FILE *f) {
  fprintf(f, "point,replica,seed,label,scenario,%s", params_header);
  for (int i = 0; i < SIM_FIG_COUNT; i++)
    fprintf(f, ",%s", sim_figure_names[i]);
  fprintf(f, ",dead_nodes,slow_nodes\n");
  return io(f);
}

int sim_write_runs_row(FILE *f, uint64_t point, uint32_t replica, const char *label, const sim_scenario *pt,
                       const sim_summary *s) {
  sim_figures fig;
  sim_summary_figures(s, &fig);
  fprintf(f, "%" PRIu64 ",%" PRIu32 ",%" PRIu64 ",", point, replica, s->seed);
  put_csv_text(f, label);
  fputc(',', f);
  put_csv_text(f, pt->name);
  fputc(',', f);
  put_params(f, pt, s->nodes, s->lookups);
  for (int i = 0; i < SIM_FIG_COUNT; i++) {
    fputc(',', f);
    if (fig.present[i])
      put_fig(f, i, fig.v[i]);
  }
  fprintf(f, ",%" PRIu32 ",%" PRIu32 "\n", s->counters.dead_nodes, s->counters.slow_nodes);
  return io(f);
}

int sim_write_lookups_header(FILE *f) {
  fprintf(f, "point,replica,nodes,alpha,k,strategy,request_drop,id,start_node,target,start_ms,queries,rounds,"
             "time_ms,first_peer_ms,peers_found,accuracy\n");
  return io(f);
}

int sim_write_lookups_rows(FILE *f, uint64_t point, uint32_t replica, const sim_scenario *pt,
                           const sim_results *res) {
  char hex[DHT_ID_HEXLEN + 1];
  for (size_t i = 0; i < res->n_lookups; i++) {
    const sim_lookup_result *l = &res->lookups[i];
    dht_id_to_hex(&l->target, hex);
    fprintf(f, "%" PRIu64 ",%" PRIu32 ",%" PRIu32 ",%u,%u,%s,%.6f,", point, replica, res->nodes, pt->lookup.alpha,
            pt->lookup.k, sim_strategy_name(pt->lookup.strategy), pt->loss.request_drop);
    fprintf(f, "%" PRIu64 ",%" PRIu32 ",%s,%.3f,%" PRIu64 ",%" PRIu64 ",%.3f,", l->id, l->start_node, hex,
            (double)l->start_us / 1e3, l->queries, l->rounds, (double)l->time_us / 1e3);
    if (l->first_peer_us != UINT64_MAX)
      fprintf(f, "%.3f", (double)l->first_peer_us / 1e3);
    fprintf(f, ",%" PRIu32 ",%.6f\n", l->peers_found,
            l->closest_truth ? (double)l->closest_hits / (double)l->closest_truth : 1.0);
  }
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

int sim_write_point_json(FILE *f, uint64_t point, const char *label, const sim_scenario *pt, uint32_t nodes,
                         uint64_t lookups, const sim_agg agg[SIM_FIG_COUNT]) {
  fprintf(f, "    {\"point\": %" PRIu64 ", \"label\": ", point);
  sim_write_json_string(f, label);
  fprintf(f,
          ",\n     \"params\": {\"nodes\": %" PRIu32 ", \"tables\": \"%s\", \"strategy\": \"%s\", \"alpha\": %u, "
          "\"k\": %u, \"latency_model\": \"%s\", \"request_drop\": %.6f, \"response_drop\": %.6f, "
          "\"dead_fraction\": %.6f, \"timeout_ms\": %.3f, \"lookups\": %" PRIu64 "},\n     \"stats\": {",
          nodes, sim_tables_name(pt->network.tables), sim_strategy_name(pt->lookup.strategy), pt->lookup.alpha,
          pt->lookup.k, sim_latency_name(pt->latency.model), pt->loss.request_drop, pt->loss.response_drop,
          pt->loss.dead_fraction, (double)pt->lookup.timeout_us / 1e3, lookups);
  for (int i = 0; i < SIM_FIG_COUNT; i++) {
    fprintf(f, "%s\"%s\": {\"mean\": ", i ? ", " : "", sim_figure_names[i]);
    if (agg[i].present)
      fprintf(f, "%.6f", agg[i].mean);
    else
      fputs("null", f);
    fputs(", \"ci95\": ", f);
    if (agg[i].has_ci)
      fprintf(f, "%.6f}", agg[i].ci95);
    else
      fputs("null}", f);
  }
  fputs("}}", f);
  return io(f);
}
