/* bench.c: performance figures of the scheduler (hold model), the network
 * build (full BEP 5 tables) and the per-message queries. Human table plus one
 * JSON line per row. Wall clock here only; never in simulation logic. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "event_queue.h"
#include "network.h"
#include "rng.h"

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
  printf("{\"bench\":\"hold\",\"pending\":%zu,\"ops\":%" PRIu64 ",\"seconds\":%.6f,\"cpu_seconds\":%.6f,"
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
  res->rc = sim_network_generate(&net, n, k, kind, 12345);
  res->build_s = now_s() - t0;
  res->build_cpu_s = cpu_s() - c0;
  if (res->rc < 0)
    return;
  res->contacts = net.contact_off[n];
  res->bytes = (uint64_t)n * (sizeof(dht_id) + sizeof(dht_addr) + 4 + 4 + 1) + ((uint64_t)n + 1) * 8 +
               res->contacts * 4;
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

static void usage(FILE *f) {
  fprintf(f, "usage: bench [--quick] [--max-nodes N] [--random]\n"
             "  --quick        smaller sizes (seconds instead of a minute)\n"
             "  --max-nodes N  largest network built (default 1000000, at most %u)\n"
             "  --random       also build random (4K-contact) tables\n",
          SIM_NODES_MAX);
}

int main(int argc, char **argv) {
  int quick = 0, random_too = 0;
  uint64_t max_nodes = 1000000;
  static const uint64_t sizes[] = {1000, 10000, 100000, 1000000, 10000000, SIM_NODES_MAX};
  const unsigned k = 8;

  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--quick") == 0) {
      quick = 1;
    } else if (strcmp(argv[i], "--random") == 0) {
      random_too = 1;
    } else if (strcmp(argv[i], "--max-nodes") == 0 && i + 1 < argc) {
      char *end;
      errno = 0;
      max_nodes = strtoull(argv[++i], &end, 10);
      if (errno != 0 || *end != '\0' || max_nodes == 0 || max_nodes > SIM_NODES_MAX) {
        fprintf(stderr, "bench: --max-nodes wants 1..%u\n", SIM_NODES_MAX);
        return 2;
      }
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

  printf("scheduler hold model (4-ary heap, pop + push per op)\n");
  printf("  %10s %12s %9s %12s %9s %12s\n", "pending", "ops", "wall_s", "Mevents/s", "cpu_s", "Mevents/cpu_s");
  {
    const size_t pend[] = {quick ? 10000 : 100000, quick ? 100000 : 1000000};
    const uint64_t ops = quick ? 1000000 : 10000000;
    for (int i = 0; i < 2; i++)
      if (bench_hold(pend[i], ops) < 0) {
        fprintf(stderr, "bench: out of memory\n");
        return 1;
      }
  }

  for (int kind = SIM_TABLES_FULL; kind >= (random_too ? SIM_TABLES_RANDOM : SIM_TABLES_FULL); kind--) {
    const char *kname = kind == SIM_TABLES_FULL ? "full" : "random";
    printf("\nnetwork build (%s tables, K = %u), each in its own process\n", kname, k);
    printf("  %9s %8s %8s %9s %9s %10s %10s %8s %11s %11s\n", "nodes", "build_s", "cpu_s", "contacts", "bytes",
           "peak_rss", "estimate", "est/rss", "closest/s", "true_cl/s");
    printf("  %9s %8s %8s %9s %9s %10s %10s %8s %11s %11s\n", "", "wall", "", "per node", "per node", "MiB", "MiB", "",
           "", "");
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0] && sizes[i] <= max_nodes; i++) {
      uint32_t n = (uint32_t)sizes[i];
      build_result res;
      uint64_t est = sim_network_estimate_bytes(n, k, (sim_tables_kind)kind);
      build_args ba = {n, k, (sim_tables_kind)kind};
      run_isolated(build_thunk, &ba, &res, sizeof res);
      if (res.rc < 0) {
        printf("  %9u failed: %s\n", n, dht_strerror(res.rc));
        continue;
      }
      printf("  %9u %8.3f %8.3f %9.1f %9.1f %10.1f %10.1f %8.2f %11.0f %11.0f\n", n, res.build_s, res.build_cpu_s,
             (double)res.contacts / n, (double)res.bytes / n, (double)res.peak_rss / 1048576.0,
             (double)est / 1048576.0, (double)est / (double)res.peak_rss, res.closest_per_s,
             res.true_closest_per_s);
      printf("{\"bench\":\"network\",\"tables\":\"%s\",\"k\":%u,\"nodes\":%u,\"build_seconds\":%.4f,"
             "\"build_cpu_seconds\":%.4f,\"contacts_per_node\":%.2f,\"bytes_per_node\":%.1f,\"peak_rss_bytes\":%" PRIu64
             ",\"estimate_bytes\":%" PRIu64 ",\"closest_per_s\":%.0f,\"true_closest_per_s\":%.0f}\n",
             kname, k, n, res.build_s, res.build_cpu_s, (double)res.contacts / n, (double)res.bytes / n, res.peak_rss, est,
             res.closest_per_s, res.true_closest_per_s);
      fflush(stdout);
    }
  }
  return 0;
}
