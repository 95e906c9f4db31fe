/* bench.c: performance figures of dhtsim: real simulation runs of a
 * million.yaml-like scenario at N = 10^3 .. 10^6 (10^7, 2.7 x 10^7, 10^8 with
 * --max-nodes), the scheduler (hold model), the network build (full BEP 5
 * tables, drawn on demand as runs use them) with the per-message queries, the
 * alpha x K sweep at 10^7 nodes (--sweep), and the targets of
 * docs/performance.md checked against the rows measured. Human tables plus one
 * JSON line per row; every row runs in its own process (own peak RSS). Wall
 * clock here only; never in simulation logic. Build and run: cmake --build
 * build --target bench && ./build/bench/bench (or cmake --build build --target
 * run-bench). Figures: docs/performance.md. */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "error.h"
#include "event_queue.h"
#include "network.h"
#include "rng.h"
#include "scenario.h"
#include "sim.h"
#include "sweep.h"

/* The JSON lines, printed together after the human tables (which stay
 * contiguous, ready to paste). */
static GString *json_lines;

static void G_GNUC_PRINTF(1, 2) json(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_string_append_vprintf(json_lines, fmt, ap);
  va_end(ap);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time of this process: unlike wall time, not inflated when other
 * processes share the cores (both are reported). */
static double cpu_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t peak_rss_bytes(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0)
    return 0;
  return (uint64_t)ru.ru_maxrss * 1024; /* Linux: KiB */
}

typedef struct hold_result {
  int rc;
  double seconds, cpu_seconds;
  uint64_t checksum;
} hold_result;

/* Hold model: `pending` events queued; each operation pops the earliest and
 * pushes one at its time + a random increment (uniform 0..2 ms). */
static void hold_one(size_t pending, uint64_t ops, hold_result *res) {
  sim_event_queue q;
  sim_event ev;
  dht_rng r;
  double t0, c0;
  memset(res, 0, sizeof *res);
  res->rc = DHT_ENOMEM;
  if (sim_eq_init(&q, pending + 1) < 0)
    return;
  dht_rng_init(&r, 1);
  for (size_t i = 0; i < pending; i++)
    if (sim_eq_push(&q, dht_rng_below(&r, 2000), 0, (uint32_t)i, 0) < 0)
      goto out;
  t0 = now_s();
  c0 = cpu_s();
  for (uint64_t i = 0; i < ops; i++) {
    sim_eq_pop(&q, &ev);
    res->checksum += ev.a;
    if (sim_eq_push(&q, ev.time_us + dht_rng_below(&r, 2000), 0, ev.a, 0) < 0)
      goto out;
  }
  res->seconds = now_s() - t0;
  res->cpu_seconds = cpu_s() - c0;
  res->rc = 0;
out:
  sim_eq_clear(&q);
}

/* Runs fn(arg, result) in a child process (own ru_maxrss, and the parent stays
 * small so that later children do not inherit its high-water mark). */
static void run_isolated(void (*fn)(const void *arg, void *res), const void *arg, void *res, size_t size) {
  int fd[2];
  pid_t pid;
  if (pipe(fd) != 0 || (pid = fork()) < 0) {
    fn(arg, res); /* fall back: peak RSS is then the process's so far */
    return;
  }
  if (pid == 0) {
    void *mine = calloc(1, size);
    close(fd[0]);
    if (mine == NULL)
      _exit(1);
    fn(arg, mine);
    _exit(write(fd[1], mine, size) == (ssize_t)size ? 0 : 1);
  }
  close(fd[1]);
  memset(res, 0, size);
  if (read(fd[0], res, size) != (ssize_t)size)
    *(int *)res = DHT_EIO; /* every result struct starts with its int rc */
  close(fd[0]);
  waitpid(pid, NULL, 0);
}

typedef struct hold_args {
  size_t pending;
  uint64_t ops;
} hold_args;

static void hold_thunk(const void *arg, void *res) {
  const hold_args *a = arg;
  hold_one(a->pending, a->ops, res);
}

static int bench_hold(size_t pending, uint64_t ops) {
  hold_args a = {pending, ops};
  hold_result res;
  run_isolated(hold_thunk, &a, &res, sizeof res);
  if (res.rc < 0)
    return res.rc;
  printf("  %10zu %12" PRIu64 " %9.3f %12.2f %9.3f %12.2f\n", pending, ops, res.seconds,
         (double)ops / res.seconds / 1e6, res.cpu_seconds, (double)ops / res.cpu_seconds / 1e6);
  json("{\"bench\":\"hold\",\"pending\":%zu,\"ops\":%" PRIu64 ",\"seconds\":%.6f,\"cpu_seconds\":%.6f,"
         "\"events_per_s\":%.0f,\"events_per_cpu_s\":%.0f,\"checksum\":%" PRIu64 "}\n",
         pending, ops, res.seconds, res.cpu_seconds, (double)ops / res.seconds, (double)ops / res.cpu_seconds,
         res.checksum);
  fflush(stdout);
  return 0;
}

typedef struct build_result {
  int rc;
  double build_s, build_cpu_s;
  uint64_t contacts;
  uint64_t bytes;    /* sum of the network's array sizes */
  uint64_t peak_rss; /* the build process's ru_maxrss */
  double closest_per_s, true_closest_per_s;
} build_result;

/* Builds one network and times the two queries the simulator calls per message. */
static void build_one(uint32_t n, unsigned k, sim_tables_kind kind, build_result *res) {
  sim_network net;
  double t0 = now_s(), c0 = cpu_s(), t1;
  uint32_t out[64];
  dht_rng r;
  uint64_t sink = 0;
  const unsigned q_closest = 2000000, q_true = 200000;
  memset(res, 0, sizeof *res);
  res->rc = sim_network_generate_ondemand(&net, n, k, kind, 12345); /* as sim_run builds it */
  res->build_s = now_s() - t0;
  res->build_cpu_s = cpu_s() - c0;
  if (res->rc < 0)
    return;
  /* Stored contacts (0 for full tables: drawn on demand) and the arrays' bytes. */
  res->contacts = net.contacts != NULL ? net.contact_off[n] : 0;
  res->bytes = (uint64_t)n * (sizeof(dht_id) + sizeof(dht_addr) + 4 + 8 + 1) +
               (((uint64_t)1 << net.dir_bits) + 1) * 4 + (net.by_addr != NULL ? (uint64_t)n * 4 : 0) +
               (net.contacts != NULL ? ((uint64_t)n + 1) * 8 + res->contacts * 4 : 0);
  res->peak_rss = peak_rss_bytes();
  dht_rng_init(&r, 7);
  t0 = now_s();
  for (unsigned i = 0; i < q_closest; i++) {
    dht_id t;
    dht_id_random(&t, &r);
    sink += sim_network_closest(&net, (uint32_t)dht_rng_below(&r, n), &t, out, k);
  }
  t1 = now_s();
  res->closest_per_s = q_closest / (t1 - t0);
  for (unsigned i = 0; i < q_true; i++) {
    dht_id t;
    dht_id_random(&t, &r);
    sink += sim_network_true_closest(&net, &t, SIM_NODE_DEAD, out, k + 1);
  }
  res->true_closest_per_s = q_true / (now_s() - t1);
  if (sink == 0)
    res->rc = DHT_EINVAL; /* keeps the queries from being optimised away */
  sim_network_clear(&net);
}

typedef struct build_args {
  uint32_t n;
  unsigned k;
  sim_tables_kind kind;
} build_args;

static void build_thunk(const void *arg, void *res) {
  const build_args *a = arg;
  build_one(a->n, a->k, a->kind, res);
}

/* ------------------------------------------------- simulation runs */

typedef struct run_result {
  int rc;
  double total_s, total_cpu_s; /* the whole sim_run */
  double setup_s, setup_cpu_s; /* sim_run's start to its first finished lookup */
  uint64_t lookups, events, queries, timeouts, messages;
  uint64_t peak_rss;
  char err[160];
} run_result;

typedef struct run_args {
  const sim_scenario *base;
  uint64_t nodes, lookups;
} run_args;

typedef struct run_clock {
  double t0, c0, setup_s, setup_cpu_s;
  bool seen;
} run_clock;

/* sim_run calls this after every finished lookup: the first call marks the end
 * of the setup (network build, node flags, buffers; plus the first lookup's
 * ~60 events, negligible). */
static void on_progress(void *user, uint64_t done, uint64_t total) {
  run_clock *c = user;
  (void)done;
  (void)total;
  if (!c->seen) {
    c->seen = true;
    c->setup_s = now_s() - c->t0;
    c->setup_cpu_s = cpu_s() - c->c0;
  }
}

/* One sim_run of the base scenario with network.nodes = nodes. */
static void run_thunk(const void *arg, void *out) {
  const run_args *a = arg;
  run_result *res = out;
  sim_scenario sc = *a->base; /* shares the base's strings: never cleared here */
  sim_options opt = {0};
  sim_results r;
  run_clock clk = {0};
  memset(res, 0, sizeof *res);
  sc.network.nodes = a->nodes;
  opt.lookups = a->lookups;
  opt.progress = on_progress;
  opt.progress_user = &clk;
  clk.t0 = now_s();
  clk.c0 = cpu_s();
  res->rc = sim_run(&sc, &opt, &r, res->err, sizeof res->err);
  res->total_s = now_s() - clk.t0;
  res->total_cpu_s = cpu_s() - clk.c0;
  res->peak_rss = peak_rss_bytes();
  if (res->rc < 0)
    return;
  res->setup_s = clk.setup_s;
  res->setup_cpu_s = clk.setup_cpu_s;
  res->lookups = r.n_lookups;
  res->events = r.counters.events;
  res->timeouts = r.counters.timeouts;
  res->messages = r.counters.messages_sent;
  for (size_t i = 0; i < r.n_lookups; i++)
    res->queries += r.lookups[i].queries;
  sim_results_clear(&r);
}

static double per(double x, double s) { return s > 0.0 ? x / s : 0.0; }

/* The rows the targets are checked against (docs/performance.md). */
typedef struct target_row {
  uint64_t nodes;
  bool done;
  double total_s, total_cpu_s, run_s, run_cpu_s, peak_mib;
  uint64_t lookups;
} target_row;
static target_row measured[8];
static size_t n_measured;

/* The living-network row (--living), apart from the size rows. */
static target_row living_row;

/* record: keep the row for the size targets (the living row is kept apart). */
static int bench_run(const sim_scenario *base, uint64_t nodes, uint64_t lookups, bool record) {
  run_args a = {base, nodes, lookups};
  run_result res;
  double run_s, run_cpu_s;
  uint64_t rpcs;
  run_isolated(run_thunk, &a, &res, sizeof res);
  if (res.rc < 0) {
    res.err[sizeof res.err - 1] = '\0';
    printf("  %9" PRIu64 " failed: %s\n", nodes, res.err[0] ? res.err : dht_strerror(res.rc));
    fflush(stdout);
    return res.rc;
  }
  run_s = res.total_s - res.setup_s;
  run_cpu_s = res.total_cpu_s - res.setup_cpu_s;
  target_row row = {nodes, true, res.total_s, res.total_cpu_s, run_s, run_cpu_s, (double)res.peak_rss / 1048576.0,
                    res.lookups};
  if (!record)
    living_row = row;
  else if (n_measured < sizeof measured / sizeof measured[0])
    measured[n_measured++] = row;
  /* get_peers queries answered: every query either times out or is answered. */
  rpcs = res.queries - res.timeouts;
  printf("  %9" PRIu64 " %7.3f %7.3f %7.3f %7.3f %10.0f %10.0f %10.0f %8.0f %9.1f\n", nodes, res.setup_s,
         res.setup_cpu_s, run_s, run_cpu_s, per((double)res.lookups, run_s), per((double)res.events, run_s),
         per((double)rpcs, run_s), (double)res.peak_rss / (double)nodes, (double)res.peak_rss / 1048576.0);
  json("{\"bench\":\"sim\",\"scenario\":\"%s\",\"nodes\":%" PRIu64 ",\"lookups\":%" PRIu64 ",\"events\":%" PRIu64
         ",\"queries\":%" PRIu64 ",\"rpcs_answered\":%" PRIu64 ",\"messages\":%" PRIu64 ",\"build_seconds\":%.4f,"
         "\"build_cpu_seconds\":%.4f,\"run_seconds\":%.4f,\"run_cpu_seconds\":%.4f,\"total_seconds\":%.4f,"
         "\"total_cpu_seconds\":%.4f,\"lookups_per_s\":%.1f,\"events_per_s\":%.0f,\"rpcs_per_s\":%.0f,"
         "\"lookups_per_cpu_s\":%.1f,\"events_per_cpu_s\":%.0f,\"rpcs_per_cpu_s\":%.0f,\"peak_rss_bytes\":%" PRIu64
         ",\"bytes_per_node\":%.1f}\n",
         base->name ? base->name : "", nodes, res.lookups, res.events, res.queries, rpcs, res.messages, res.setup_s,
         res.setup_cpu_s, run_s, run_cpu_s, res.total_s, res.total_cpu_s, per((double)res.lookups, run_s),
         per((double)res.events, run_s), per((double)rpcs, run_s), per((double)res.lookups, run_cpu_s),
         per((double)res.events, run_cpu_s), per((double)rpcs, run_cpu_s), res.peak_rss,
         (double)res.peak_rss / (double)nodes);
  fflush(stdout);
  return 0;
}

static int bench_network(sim_tables_kind kind, unsigned k, uint32_t n) {
  const char *kname = kind == SIM_TABLES_FULL ? "full" : "random";
  build_result res;
  uint64_t est = sim_network_estimate_bytes(n, k, kind);
  build_args ba = {n, k, kind};
  run_isolated(build_thunk, &ba, &res, sizeof res);
  if (res.rc < 0) {
    printf("  %9u failed: %s\n", n, dht_strerror(res.rc));
    return res.rc;
  }
  printf("  %9u %8.3f %8.3f %9.1f %9.1f %10.1f %10.1f %8.2f %11.0f %11.0f\n", n, res.build_s, res.build_cpu_s,
         (double)res.contacts / n, (double)res.bytes / n, (double)res.peak_rss / 1048576.0, (double)est / 1048576.0,
         (double)est / (double)res.peak_rss, res.closest_per_s, res.true_closest_per_s);
  json("{\"bench\":\"network\",\"tables\":\"%s\",\"k\":%u,\"nodes\":%u,\"build_seconds\":%.4f,"
         "\"build_cpu_seconds\":%.4f,\"contacts_per_node\":%.2f,\"bytes_per_node\":%.1f,\"peak_rss_bytes\":%" PRIu64
         ",\"estimate_bytes\":%" PRIu64 ",\"closest_per_s\":%.0f,\"true_closest_per_s\":%.0f}\n",
         kname, k, n, res.build_s, res.build_cpu_s, (double)res.contacts / n, (double)res.bytes / n, res.peak_rss, est,
         res.closest_per_s, res.true_closest_per_s);
  fflush(stdout);
  return 0;
}

typedef struct sweep_result {
  int rc;
  double seconds, cpu_seconds;
  uint64_t points, peak_rss;
  char err[160];
} sweep_result;

typedef struct sweep_args {
  const char *path;
  unsigned jobs;
} sweep_args;

static void sweep_thunk(const void *arg, void *out) {
  const sweep_args *a = arg;
  sweep_result *res = out;
  sim_scenario sc;
  sim_sweep_options o = {0};
  sim_sweep_report rep;
  double t0 = now_s(), c0 = cpu_s();
  memset(res, 0, sizeof *res);
  if ((res->rc = sim_scenario_load(&sc, a->path, res->err, sizeof res->err)) < 0)
    return;
  o.jobs = a->jobs;
  res->rc = sim_sweep_run(&sc, &o, &rep, res->err, sizeof res->err);
  res->seconds = now_s() - t0;
  res->cpu_seconds = cpu_s() - c0;
  res->points = rep.done;
  res->peak_rss = peak_rss_bytes();
  sim_sweep_report_clear(&rep);
  sim_scenario_clear(&sc);
}

static double sweep_wall = -1.0;

/* The whole sweep of path (every point, no files) on `jobs` threads. */
static int bench_sweep(const char *path, unsigned jobs) {
  sweep_args a = {path, jobs};
  sweep_result res;
  run_isolated(sweep_thunk, &a, &res, sizeof res);
  if (res.rc < 0) {
    res.err[sizeof res.err - 1] = '\0';
    printf("  failed: %s\n", res.err[0] ? res.err : dht_strerror(res.rc));
    return res.rc;
  }
  sweep_wall = res.seconds;
  printf("  %s: %" PRIu64 " points on %u threads: %.1f s wall, %.1f s CPU, peak RSS %.1f MiB\n", path, res.points,
         jobs, res.seconds, res.cpu_seconds, (double)res.peak_rss / 1048576.0);
  json("{\"bench\":\"sweep\",\"scenario\":\"%s\",\"points\":%" PRIu64 ",\"jobs\":%u,\"seconds\":%.3f,"
       "\"cpu_seconds\":%.3f,\"peak_rss_bytes\":%" PRIu64 "}\n",
       path, res.points, jobs, res.seconds, res.cpu_seconds, res.peak_rss);
  fflush(stdout);
  return 0;
}

static const target_row *row_of(uint64_t nodes) {
  for (size_t i = 0; i < n_measured; i++)
    if (measured[i].nodes == nodes && measured[i].done)
      return &measured[i];
  return NULL;
}

/* The targets of docs/performance.md against the rows of this run (a row not
 * measured is "not run": raise --max-nodes, add --sweep). */
static void print_targets(void) {
  const target_row *m6 = row_of(1000000), *m7 = row_of(10000000), *m27 = row_of(27000000), *m8 = row_of(100000000);
  printf("\ntargets (docs/performance.md; wall seconds of the whole sim_run, peak RSS of its process)\n");
#define TARGET(name, row, cond, fmt, ...)                                                                             \
  do {                                                                                                               \
    if ((row) == NULL)                                                                                               \
      printf("  %-58s not run\n", name);                                                                             \
    else                                                                                                             \
      printf("  %-58s " fmt "  %s\n", name, __VA_ARGS__, (cond) ? "met" : "NOT MET");                                \
  } while (0)
  TARGET("10^6 nodes (million.yaml): < 1 s", m6, m6->total_s < 1.0, "%.2f s", m6->total_s);
  TARGET("10^6 nodes: lookup phase >= 30,000 lookups/s (one core)", m6, per((double)m6->lookups, m6->run_s) >= 30000,
         "%.0f lookups/s (%.0f per CPU s)", per((double)m6->lookups, m6->run_s),
         per((double)m6->lookups, m6->run_cpu_s));
  TARGET("10^7 nodes (mainline.yaml): < 3 s, < 1.5 GiB", m7, m7->total_s < 3.0 && m7->peak_mib < 1536.0,
         "%.2f s, %.0f MiB", m7->total_s, m7->peak_mib);
  TARGET("2.7 x 10^7 nodes: < 5 s, < 3 GiB", m27, m27->total_s < 5.0 && m27->peak_mib < 3072.0, "%.2f s, %.0f MiB",
         m27->total_s, m27->peak_mib);
  TARGET("10^8 nodes: runs (24 GiB machine)", m8, true, "%.2f s, %.0f MiB", m8->total_s, m8->peak_mib);
  {
    const target_row *lv = living_row.done ? &living_row : NULL;
    TARGET("living 10^6 nodes, 1 h warm-up, 10^5 lookups: < 60 s, < 4 GiB", lv,
           lv->total_s < 60.0 && lv->peak_mib < 4096.0, "%.1f s (%.1f CPU s), %.0f MiB", lv->total_s,
           lv->total_cpu_s, lv->peak_mib);
  }
  if (sweep_wall < 0.0)
    printf("  %-58s not run\n", "32-point alpha x K sweep at 10^7 (2 cores): < 120 s");
  else
    printf("  %-58s %.1f s  %s\n", "32-point alpha x K sweep at 10^7 (2 cores): < 120 s", sweep_wall,
           sweep_wall < 120.0 ? "met" : "NOT MET");
#undef TARGET
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: bench [--quick] [--max-nodes N] [--lookups N] [--scenario FILE] [--no-network] [--random]\n"
          "             [--sweep] [--living]\n"
          "  --quick          smaller sizes and fewer operations (seconds instead of a minute)\n"
          "  --max-nodes N    largest network (default 1000000; 10000000 adds the mainline-size row, 27000000 and\n"
          "                   100000000 the larger ones; at most %u)\n"
          "  --lookups N      lookups per simulation run (default 10000; --quick 1000)\n"
          "  --scenario FILE  the scenario run at each size (default %s)\n"
          "  --no-network     skip the network build / query table\n"
          "  --random         also build random (4K-contact) tables\n"
          "  --sweep          also run %s on 2 threads (the sweep target)\n"
          "  --living         also run %s once (the living-network target: churn, passive maintenance)\n",
          SIM_NODES_MAX, DEFAULT_SCENARIO, DEFAULT_SWEEP, DEFAULT_LIVING);
}

int main(int argc, char **argv) {
  int quick = 0, random_too = 0, network_too = 1, sweep_too = 0, living_too = 0;
  uint64_t max_nodes = 1000000, lookups = 0;
  const char *scenario_path = DEFAULT_SCENARIO;
  static const uint64_t sizes[] = {1000, 10000, 100000, 1000000, 10000000, 27000000, 100000000, SIM_NODES_MAX};
  const unsigned k = 8;
  sim_scenario base;
  char err[512];
  int rc;

  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--quick") == 0) {
      quick = 1;
    } else if (strcmp(argv[i], "--random") == 0) {
      random_too = 1;
    } else if (strcmp(argv[i], "--sweep") == 0) {
      sweep_too = 1;
    } else if (strcmp(argv[i], "--living") == 0) {
      living_too = 1;
    } else if (strcmp(argv[i], "--no-network") == 0) {
      network_too = 0;
    } else if (strcmp(argv[i], "--scenario") == 0 && i + 1 < argc) {
      scenario_path = argv[++i];
    } else if ((strcmp(argv[i], "--max-nodes") == 0 || strcmp(argv[i], "--lookups") == 0) && i + 1 < argc) {
      int is_nodes = strcmp(argv[i], "--max-nodes") == 0;
      uint64_t max = is_nodes ? SIM_NODES_MAX : 1000000000u, v;
      char *end;
      errno = 0;
      v = strtoull(argv[++i], &end, 10);
      if (errno != 0 || *end != '\0' || v == 0 || v > max) {
        fprintf(stderr, "bench: %s wants 1..%" PRIu64 "\n", argv[i - 1], max);
        return 2;
      }
      *(is_nodes ? &max_nodes : &lookups) = v;
    } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      usage(stdout);
      return 0;
    } else {
      usage(stderr);
      return 2;
    }
  }
  if (quick && max_nodes > 100000)
    max_nodes = 100000;
  json_lines = g_string_new(NULL);
  if (lookups == 0)
    lookups = quick ? 1000 : 10000;
  if ((rc = sim_scenario_load(&base, scenario_path, err, sizeof err)) < 0) {
    fprintf(stderr, "bench: %s\n", err);
    return 2;
  }
  if (base.n_sweep > 0 || base.network.topology != NULL || base.workload.lookups_file != NULL) {
    fprintf(stderr, "bench: %s: a scenario without sweep, topology or lookups file is needed\n", scenario_path);
    sim_scenario_clear(&base);
    return 2;
  }

  printf("simulation runs: %s at N nodes (%s tables, alpha %u, K %u, request/response drop %.3f/%.3f, "
         "%s latency), %" PRIu64 " lookups, seed %" PRIu64 ", each in its own process\n",
         scenario_path, base.network.tables == SIM_TABLES_FULL ? "full" : "random", base.lookup.alpha, base.lookup.k,
         base.loss.request_drop, base.loss.response_drop,
         base.latency.model == SIM_LATENCY_LOGNORMAL ? "lognormal"
         : base.latency.model == SIM_LATENCY_UNIFORM ? "uniform"
                                                     : "constant",
         lookups, base.seed);
  printf("  %9s %7s %7s %7s %7s %10s %10s %10s %8s %9s\n", "nodes", "build_s", "cpu_s", "run_s", "cpu_s",
         "lookups/s", "events/s", "RPCs/s", "B/node", "peak_rss");
  printf("  %9s %7s %7s %7s %7s %10s %10s %10s %8s %9s\n", "", "wall", "", "wall", "", "(run wall)", "(run wall)",
         "(run wall)", "(RSS/N)", "MiB");
  fflush(stdout);
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0] && sizes[i] <= max_nodes; i++)
    (void)bench_run(&base, sizes[i], lookups, true);

  printf("\nscheduler hold model (4-ary heap, pop + push per op)\n");
  printf("  %10s %12s %9s %12s %9s %12s\n", "pending", "ops", "wall_s", "Mevents/s", "cpu_s", "Mevents/cpu_s");
  {
    const size_t pend[] = {quick ? 10000 : 100000, quick ? 100000 : 1000000};
    const uint64_t ops = quick ? 1000000 : 10000000;
    for (int i = 0; i < 2; i++)
      if (bench_hold(pend[i], ops) < 0) {
        fprintf(stderr, "bench: out of memory\n");
        sim_scenario_clear(&base);
        return 1;
      }
  }

  for (int kind = SIM_TABLES_FULL; network_too && kind >= (random_too ? SIM_TABLES_RANDOM : SIM_TABLES_FULL);
       kind--) {
    printf("\nnetwork build (%s tables, K = %u, as runs build it: full tables drawn on demand) and queries, each in "
           "its own process\n",
           kind == SIM_TABLES_FULL ? "full" : "random", k);
    printf("  %9s %8s %8s %9s %9s %10s %10s %8s %11s %11s\n", "nodes", "build_s", "cpu_s", "stored", "bytes",
           "peak_rss", "estimate", "est/rss", "closest/s", "true_cl/s");
    printf("  %9s %8s %8s %9s %9s %10s %10s %8s %11s %11s\n", "", "wall", "", "contacts", "per node", "MiB", "MiB", "",
           "", "");
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0] && sizes[i] <= max_nodes; i++)
      (void)bench_network((sim_tables_kind)kind, k, (uint32_t)sizes[i]);
  }
  if (living_too) {
    sim_scenario lv;
    if ((rc = sim_scenario_load(&lv, DEFAULT_LIVING, err, sizeof err)) < 0) {
      fprintf(stderr, "bench: %s\n", err);
      sim_scenario_clear(&base);
      return 2;
    }
    printf("\nliving network: %s (%" PRIu64 " nodes, churn, passive maintenance, %.0f s warm-up, %" PRIu64
           " lookups), in its own process\n",
           DEFAULT_LIVING, lv.network.nodes, lv.churn.warmup_s, lv.workload.lookups);
    (void)bench_run(&lv, lv.network.nodes, lv.workload.lookups, false);
    sim_scenario_clear(&lv);
  }
  if (sweep_too) {
    printf("\nsweep (every point in this process, no output files)\n");
    (void)bench_sweep(DEFAULT_SWEEP, 2);
  }
  print_targets();
  sim_scenario_clear(&base);
  printf("\njson (one line per row)\n%s", json_lines->str);
  g_string_free(json_lines, TRUE);
  return 0;
}
