/* stats.c: summary statistics and the output writers. Numbers are formatted
 * with fixed precision from exactly computed values, so outputs are byte-identical. */
#include "stats.h"

#include <errno.h>
#include <glib.h>
#include <inttypes.h>
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

const char *sim_strategy_name(dht_lookup_strategy s) {
  return s == DHT_LOOKUP_PIPELINED ? "pipelined" : "rounds";
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

static double ms(double us) { return us / 1000.0; }

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

/* Column names of the dist figures, in output order. */
static const char *const dist_names[] = {"queries", "rounds", "time_ms", "first_peer_ms"};

int sim_write_summary_csv_header(FILE *f) {
  fprintf(f, "scenario,seed,nodes,strategy,alpha,k,lookups");
  for (size_t i = 0; i < G_N_ELEMENTS(dist_names); i++)
    fprintf(f, ",%s_mean,%s_p50,%s_p95,%s_p99,%s_max", dist_names[i], dist_names[i], dist_names[i], dist_names[i],
            dist_names[i]);
  fprintf(f, ",success_rate,accuracy,messages_sent,messages_dropped,dead_queries,timeouts,late_responses,"
             "events,virtual_time_s,dead_nodes,slow_nodes\n");
  return io(f);
}

static void csv_dist(FILE *f, const sim_dist *d, double scale) {
  fprintf(f, ",%.6f,%.6f,%.6f,%.6f,%.6f", d->mean * scale, (double)d->p50 * scale, (double)d->p95 * scale,
          (double)d->p99 * scale, (double)d->max * scale);
}

int sim_write_summary_csv_row(FILE *f, const sim_summary *s) {
  const sim_counters *c = &s->counters;
  fprintf(f, "%s,%" PRIu64 ",%" PRIu32 ",%s,%u,%u,%" PRIu64, s->scenario, s->seed, s->nodes,
          sim_strategy_name(s->strategy), s->alpha, s->k, s->lookups);
  csv_dist(f, &s->queries, 1.0);
  csv_dist(f, &s->rounds, 1.0);
  csv_dist(f, &s->time_us, 1e-3);
  csv_dist(f, &s->first_peer_us, 1e-3);
  if (s->planted)
    fprintf(f, ",%.6f", s->success_rate);
  else
    fprintf(f, ",");
  fprintf(f, ",%.6f,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%.6f,%" PRIu32
             ",%" PRIu32 "\n",
          s->accuracy, c->messages_sent, c->messages_dropped, c->dead_queries, c->timeouts, c->late_responses,
          c->events, (double)c->end_us / 1e6, c->dead_nodes, c->slow_nodes);
  return io(f);
}

static void json_dist(FILE *f, const char *name, const sim_dist *d, double scale, const char *sep) {
  fprintf(f,
          "  \"%s\": {\"n\": %" PRIu64 ", \"mean\": %.6f, \"p50\": %.6f, \"p95\": %.6f, \"p99\": %.6f, "
          "\"max\": %.6f}%s\n",
          name, d->n, d->mean * scale, (double)d->p50 * scale, (double)d->p95 * scale, (double)d->p99 * scale,
          (double)d->max * scale, sep);
}

/* Scenario names come from YAML: escape them for JSON. */
static void json_str(FILE *f, const char *s) {
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

int sim_write_summary_json(FILE *f, const sim_summary *s) {
  const sim_counters *c = &s->counters;
  fprintf(f, "{\n  \"scenario\": ");
  json_str(f, s->scenario);
  fprintf(f, ",\n  \"seed\": %" PRIu64 ",\n  \"nodes\": %" PRIu32 ",\n  \"strategy\": \"%s\",\n", s->seed, s->nodes,
          sim_strategy_name(s->strategy));
  fprintf(f, "  \"alpha\": %u,\n  \"k\": %u,\n  \"lookups\": %" PRIu64 ",\n", s->alpha, s->k, s->lookups);
  json_dist(f, "queries", &s->queries, 1.0, ",");
  json_dist(f, "rounds", &s->rounds, 1.0, ",");
  json_dist(f, "time_ms", &s->time_us, 1e-3, ",");
  json_dist(f, "first_peer_ms", &s->first_peer_us, 1e-3, ",");
  if (s->planted)
    fprintf(f, "  \"success_rate\": %.6f,\n", s->success_rate);
  else
    fprintf(f, "  \"success_rate\": null,\n");
  fprintf(f, "  \"accuracy\": %.6f,\n", s->accuracy);
  fprintf(f,
          "  \"messages_sent\": %" PRIu64 ",\n  \"messages_dropped\": %" PRIu64 ",\n  \"dead_queries\": %" PRIu64
          ",\n  \"timeouts\": %" PRIu64 ",\n  \"late_responses\": %" PRIu64 ",\n  \"events\": %" PRIu64
          ",\n  \"virtual_time_s\": %.6f,\n  \"dead_nodes\": %" PRIu32 ",\n  \"slow_nodes\": %" PRIu32 "\n}\n",
          c->messages_sent, c->messages_dropped, c->dead_queries, c->timeouts, c->late_responses, c->events,
          (double)c->end_us / 1e6, c->dead_nodes, c->slow_nodes);
  return io(f);
}

int sim_write_lookups_csv(FILE *f, const sim_results *res) {
  char hex[DHT_ID_HEXLEN + 1];
  fprintf(f, "id,start_node,target,start_ms,queries,rounds,time_ms,first_peer_ms,peers_found,accuracy\n");
  for (size_t i = 0; i < res->n_lookups; i++) {
    const sim_lookup_result *l = &res->lookups[i];
    dht_id_to_hex(&l->target, hex);
    fprintf(f, "%" PRIu64 ",%" PRIu32 ",%s,%.3f,%" PRIu64 ",%" PRIu64 ",%.3f,", l->id, l->start_node, hex,
            ms((double)l->start_us), l->queries, l->rounds, ms((double)l->time_us));
    if (l->first_peer_us != UINT64_MAX)
      fprintf(f, "%.3f", ms((double)l->first_peer_us));
    fprintf(f, ",%" PRIu32 ",%.6f\n", l->peers_found,
            l->closest_truth ? (double)l->closest_hits / (double)l->closest_truth : 1.0);
  }
  return io(f);
}
