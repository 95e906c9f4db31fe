/* main.c: the dhtsim command: run / validate / export-topology / merge / plot.
 * Exit codes: 0 success, 1 runtime failure, 2 bad usage or bad scenario,
 * 128 + signal number when stopped by SIGINT, SIGTERM or SIGHUP. */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "compare.h"
#include "error.h"
#include "infile.h"
#include "inputs.h"
#include "live.h"
#include "plot.h"
#include "scenario.h"
#include "serve.h"
#include "sim.h"
#include "stats.h"
#include "sweep.h"
#include "text.h"
#include "trace.h"
#include "timeline.h"

enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

static const char usage_text[] =
    "Usage:\n"
    "  dhtsim run SCENARIO [--seed N] [--lookups N] [--out DIR] [--force] [--format table|csv|json]\n"
    "                      [-j N] [--shard I/N] [--resume] [--dry-run] [--perf] [--trace IDS]\n"
    "  dhtsim validate SCENARIO\n"
    "  dhtsim keys [--markdown]\n"
    "  dhtsim export-topology SCENARIO FILE\n"
    "  dhtsim merge --out DIR SHARD_DIR...\n"
    "  dhtsim plot OUT [--x KEY --y FIGURE] [--group KEY]... [--where KEY=VALUE]...\n"
    "                  [--kind line|heatmap|cdf|histogram] [--format png|svg|pdf|all] [--name NAME]\n"
    "  dhtsim compare BASE_OUT NEW_OUT [--figure NAME]... [--tolerance PCT] [--alpha A]\n"
    "                 [--junit FILE] [--format table|csv|json]\n"
    "  dhtsim check SCENARIO --expect FILE [--record] [--seed N] [-j N] [compare's options]\n"
    "  dhtsim serve SCENARIO [--port P] [--duration S] [--out DIR] [--planted N] [--seed N]\n"
    "  dhtsim lookup --live [--strategy S] [--alpha N] [--k N] [--timeout-ms N] [--json] ADDR... TARGET\n"
    "  dhtsim --help | --version\n";

static const char help_text[] =
    "dhtsim: a deterministic discrete-event simulator of the BitTorrent Mainline DHT\n"
    "(BEP 5) iterative get_peers lookup. The same scenario and seed give byte-identical output.\n"
    "\n"
    "Commands:\n"
    "  run SCENARIO          simulate the scenario (a YAML file): every point of its sweep,\n"
    "                        `replicas` times each, and print the statistics\n"
    "  validate SCENARIO     check a scenario and the files it reads, as run does, and exit (0 valid, 2 invalid)\n"
    "  keys [--markdown]     list every scenario key: type, default, sweepable, unit, range, meaning\n"
    "  export-topology SCENARIO FILE\n"
    "                        build the scenario's network and write it as a dhtsim-topology v1 file\n"
    "  merge --out DIR SHARD_DIR...\n"
    "                        join the outputs of `run --shard` into DIR, as one unsharded run writes them\n"
    "  plot OUT              draw the plots of a run's output with gnuplot into OUT/plots/\n"
    "                        (`dhtsim plot --help`: the presets and the general form)\n"
    "  compare BASE_OUT NEW_OUT\n"
    "                        per point and figure: better / same / worse, with confidence intervals;\n"
    "                        exit 1 when something is worse (`dhtsim compare --help`)\n"
    "  check SCENARIO --expect FILE\n"
    "                        run the scenario and compare it with a recorded expectation\n"
    "                        (--record writes it; `dhtsim check --help`)\n"
    "  serve SCENARIO        serve the scenario's network over real UDP on loopback (`dhtsim serve --help`)\n"
    "  lookup --live ADDR... TARGET\n"
    "                        core's lookup over real UDP from the given nodes (`dhtsim lookup --help`)\n"
    "\n"
    "Every command takes --help.\n";

static const char run_options[] =
    "Options of run:\n"
    "  --seed N              use seed N instead of the scenario's seed\n"
    "  --lookups N           run N lookups per run instead of workload.lookups\n"
    "  --out DIR             write summary.csv, summary.json, runs.csv, lookups.csv, timeline.csv\n"
    "                        (and parts/) into DIR\n"
    "  --bin-s S             timeline.csv's bins: S virtual seconds each (default 60)\n"
    "  --format FMT          stdout format: table (default), csv or json\n"
    "  -j, --jobs N          run points and replicas on N threads (default: number of processors);\n"
    "                        the output is the same for every N\n"
    "  --shard I/N           run only the points whose index is I modulo N (0 <= I < N); join with merge\n"
    "  --resume              with --out: skip the points already finished in DIR\n"
    "  --dry-run             print the expanded sweep and its memory estimate, simulate nothing\n"
    "  --perf                print wall-clock figures (run time, events/s, peak memory) to stderr\n"
    "  --force               with --out: write into DIR even when it holds other files than an\n"
    "                        earlier output of the same scenario (those files are left alone)\n"
    "  --trace IDS           with --out: write DIR/trace.jsonl, every event (query, answer, timeout,\n"
    "                        late, failed, decision) of the lookups IDS of every run: ids and ranges\n"
    "                        (0,5,10-20) or all; at most 10000 lookups over all runs and 256 MiB,\n"
    "                        else exit 2; not with --shard or --resume. The other outputs stay\n"
    "                        byte-identical (docs/output-format.md)\n";

static const char exit_text[] =
    "Exit status: 0 success, 1 runtime failure, 2 bad usage or bad scenario,\n"
    "129/130/143 stopped by SIGHUP/SIGINT/SIGTERM (finished points are kept in --out DIR; rerun with --resume).\n"
    "The scenario format, the statistics and the output files are documented in README.md.\n";

/* `dhtsim CMD --help`: what the command does, its usage line, exit 0. */
static const struct {
  const char *cmd, *usage, *what;
} command_help[] = {
    {"run", "dhtsim run SCENARIO [--seed N] [--lookups N] [--out DIR] [--force] [--format table|csv|json]\n"
            "                  [-j N] [--shard I/N] [--resume] [--dry-run] [--perf] [--trace IDS] [--bin-s S]",
     "Simulates the scenario (a YAML file, docs/scenario-format.md): every point of its sweep,\n"
     "`replicas` times each, and prints the statistics (docs/output-format.md).\n"},
    {"validate", "dhtsim validate SCENARIO",
     "Checks a scenario and the files it reads, as run does, and exits: 0 valid, 2 invalid.\n"},
    {"export-topology", "dhtsim export-topology SCENARIO FILE",
     "Builds the scenario's network (it must have no sweep) and writes it to FILE as a\n"
     "dhtsim-topology v1 file, which network.topology reads back.\n"},
    {"merge", "dhtsim merge --out DIR SHARD_DIR...",
     "Joins the output folders of `dhtsim run --shard I/N --out SHARD_DIR` into DIR, byte for\n"
     "byte as one unsharded run writes them.\n"},
};

static bool is_help(const char *a) { return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0; }

static int print_command_help(size_t i) {
  printf("Usage: %s\n\n%s", command_help[i].usage, command_help[i].what);
  if (strcmp(command_help[i].cmd, "run") == 0)
    printf("\n%s\n%s", run_options, exit_text);
  return 0;
}

static int usage_error(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static int usage_error(const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "dhtsim: ");
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\n%s", usage_text);
  return EXIT_USAGE;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- signals: the first SIGINT/SIGTERM/SIGHUP asks the run to stop cleanly ---- */

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig) {
  if (stop_signal != 0) {
    /* A second signal: the user insists. */
    signal(sig, SIG_DFL);
    raise(sig);
  }
  stop_signal = sig;
}

static void install_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  /* A closed terminal or a logout: keep the finished points as for SIGTERM. */
  sigaction(SIGHUP, &sa, NULL);
  sim_infile_set_stop(&stop_signal);
}

/* ---- progress on stderr: only on a terminal, only once a run lasted a second ---- */

typedef struct progress {
  double t0, last;
  bool tty, shown;
  GMutex lock;
  /* The network build: no callback comes from inside it, so a thread ticks
   * while it lasts. */
  GThread *ticker;
  gint building; /* atomic: 1 while the network is built */
  uint64_t nodes;
  double build_t0;
} progress;

static bool progress_due(progress *p, bool final, double *t) {
  if (!p->tty)
    return false;
  *t = now_s();
  if (*t - p->t0 < 1.0 || (*t - p->last < 0.2 && !final))
    return false;
  p->last = *t;
  p->shown = true;
  return true;
}

static void on_lookups(void *user, uint64_t done, uint64_t total) {
  progress *p = user;
  double t;
  if ((done % 64 != 0 && done != total) || !progress_due(p, done == total, &t))
    return;
  fprintf(stderr, "\r  %" PRIu64 " / %" PRIu64 " lookups (%.0f%%), %.1f s elapsed", done, total,
          total ? 100.0 * (double)done / (double)total : 100.0, t - p->t0);
  if (done == total)
    fputc('\n', stderr);
}

/* The build's progress line: the elapsed time, every 0.2 s once the run is
 * a second old (like the others), on a terminal only. */
static gpointer build_ticker(gpointer user) {
  progress *p = user;
  while (g_atomic_int_get(&p->building)) {
    double t;
    g_usleep(50000);
    g_mutex_lock(&p->lock);
    if (g_atomic_int_get(&p->building) && progress_due(p, false, &t))
      fprintf(stderr, "\r  building the network of %" PRIu64 " nodes, %.1f s elapsed", p->nodes, t - p->build_t0);
    g_mutex_unlock(&p->lock);
  }
  return NULL;
}

static void on_build(void *user, bool building, uint64_t nodes) {
  progress *p = user;
  if (!p->tty)
    return;
  if (building) {
    p->nodes = nodes;
    p->build_t0 = now_s();
    g_atomic_int_set(&p->building, 1);
    p->ticker = g_thread_try_new("build-progress", build_ticker, p, NULL);
    return;
  }
  g_atomic_int_set(&p->building, 0);
  if (p->ticker != NULL)
    g_thread_join(p->ticker);
  p->ticker = NULL;
  g_mutex_lock(&p->lock);
  if (p->shown)
    fprintf(stderr, "\r  built the network of %" PRIu64 " nodes in %.1f s%20s\n", nodes, now_s() - p->build_t0, "");
  g_mutex_unlock(&p->lock);
}

static void on_runs(void *user, uint64_t done, uint64_t total) {
  progress *p = user;
  double t, el;
  char bar[31];
  size_t fill;
  if (!progress_due(p, done == total, &t))
    return;
  el = t - p->t0;
  fill = total ? (size_t)(30.0 * (double)done / (double)total) : 30;
  memset(bar, '#', fill);
  memset(bar + fill, '.', 30 - fill);
  bar[30] = '\0';
  fprintf(stderr, "\r  [%s] %" PRIu64 "/%" PRIu64 " runs, %.0f s elapsed", bar, done, total, el);
  if (done > 0 && done < total)
    fprintf(stderr, ", ~%.0f s left ", el / (double)done * (double)(total - done));
  else
    fputs("            ", stderr);
  if (done == total)
    fputc('\n', stderr);
}

/* An error message of the library ("FILE:LINE:COL: ...") on stderr: every
 * error line of dhtsim starts with "dhtsim: ", so that it can be told from
 * the output of whatever else runs alongside. */
static void print_error(const char *err) { fprintf(stderr, "dhtsim: %s\n", err); }

/* "1 point", "2 points": the counts of the messages. */
static const char *plural(uint64_t n, const char *one, const char *many) { return n == 1 ? one : many; }

static int load_scenario(sim_scenario *sc, const char *path) {
  char err[1024];
  int rc = sim_scenario_load(sc, path, err, sizeof err);
  if (rc < 0) {
    print_error(err);
    return rc;
  }
  return 0;
}

/* Exit status for a failed run: problems of the input are usage errors. */
static int exit_for(int rc) {
  return rc == DHT_ENOMEM || rc == DHT_EIO ? EXIT_RUNTIME : EXIT_USAGE;
}

/* Checks everything the runs of sc (after --seed) will read (inputs.h),
 * before anything is written. 0, or the exit status, the message printed. */
static int check_inputs(sim_scenario *sc, uint64_t lookups, sim_inputs *in) {
  char err[1024];
  int rc = sim_inputs_check(sc, lookups, in, err, sizeof err);
  if (rc == 0)
    return 0;
  if (rc == DHT_ECANCELED) {
    fprintf(stderr, "dhtsim: stopped by %s while reading the inputs; nothing written\n", strsignal(stop_signal));
    return 128 + (stop_signal ? stop_signal : SIGINT);
  }
  print_error(err);
  return exit_for(rc);
}

static int dry_run(const sim_scenario *sc, const sim_sweep_options *o, const sim_inputs *in) {
  uint64_t points = sim_scenario_point_count(sc), peak = 0, runs = 0;
  unsigned jobs = o->jobs ? o->jobs : g_get_num_processors();
  uint64_t *big = g_new0(uint64_t, jobs);
  char err[1024], label[1024];
  printf("dhtsim: scenario %s, seed %" PRIu64 ": %" PRIu64 " %s x %" PRIu32 " %s\n", sc->name, sc->seed, points,
         plural(points, "point", "points"), sc->replicas, plural(sc->replicas, "replica", "replicas"));
  printf("  %-6s %-48s %12s %14s\n", "point", "parameters", "nodes", "est. memory");
  for (uint64_t p = 0; p < points; p++) {
    sim_scenario pt;
    uint64_t bytes, est;
    if (!sim_scenario_point_selected(p, o->shard_index, o->shard_count))
      continue;
    if (sim_scenario_point(sc, p, &pt, err, sizeof err) < 0) {
      print_error(err);
      g_free(big);
      return EXIT_USAGE;
    }
    sim_scenario_point_label(sc, p, label, sizeof label);
    est = sim_inputs_estimate(in, &pt, o->lookups);
    runs += sc->replicas;
    /* Peak with `jobs` runs at once: the sum of the `jobs` largest runs; each
     * replica of the point is a run of its own. */
    for (uint32_t r = 0; r < sc->replicas && r < jobs; r++) {
      bytes = est;
      for (unsigned j = 0; j < jobs; j++)
        if (bytes > big[j]) {
          uint64_t t = big[j];
          big[j] = bytes;
          bytes = t;
        }
    }
    printf("  %-6" PRIu64 " %-48s %12" PRIu64 " %11.1f MiB\n", p, label[0] ? label : "(scenario)",
           pt.network.topology ? in->topology_nodes : pt.network.nodes, (double)est / 1048576.0);
  }
  for (unsigned j = 0; j < jobs; j++)
    peak += big[j];
  printf("\n  %" PRIu64 " %s on %u %s; estimated peak memory %.1f MiB\n", runs, plural(runs, "run", "runs"), jobs,
         plural(jobs, "thread", "threads"), (double)peak / 1048576.0);
  g_free(big);
  return 0;
}

/* trace: the --trace selection, owned by cmd_run (freed on every return). */
static int run_command(int argc, char **argv, sim_trace_sel *trace) {
  const char *path = NULL, *format = "table";
  sim_sweep_options o = {0};
  bool perf = false, dry = false, seed_set = false, trace_set = false;
  uint64_t seed = 0;
  sim_scenario sc;
  sim_sweep_report rep;
  sim_inputs in;
  progress prog = {0};
  char err[1024];
  double t0, run_s;
  int rc, status = 0;

  g_mutex_init(&prog.lock); /* the build's ticker thread takes it */

  for (int i = 0; i < argc; i++) {
    const char *a = argv[i], *val = NULL;
    char name[64];
    if (strncmp(a, "-j", 2) == 0 && a[2] != '\0') {
      /* -j2, as getopt would take it */
      val = a + 2;
      a = "-j";
    } else if (strncmp(a, "--", 2) == 0 && strchr(a, '=') != NULL) {
      size_t n = (size_t)(strchr(a, '=') - a);
      if (n >= sizeof name)
        return usage_error("unknown option %s", a);
      memcpy(name, a, n);
      name[n] = '\0';
      val = a + n + 1;
      a = name;
    } else if (strcmp(a, "--seed") == 0 || strcmp(a, "--lookups") == 0 || strcmp(a, "--out") == 0 ||
               strcmp(a, "--format") == 0 || strcmp(a, "-j") == 0 || strcmp(a, "--jobs") == 0 ||
               strcmp(a, "--shard") == 0 || strcmp(a, "--trace") == 0 || strcmp(a, "--bin-s") == 0) {
      if (i + 1 >= argc)
        return usage_error("option %s needs a value", a);
      val = argv[++i];
    }
    if (strcmp(a, "--seed") == 0) {
      if (!sim_parse_u64(val, &seed))
        return usage_error("--seed expects an unsigned integer, got '%s'", val);
      seed_set = true;
    } else if (strcmp(a, "--lookups") == 0) {
      if (!sim_parse_u64(val, &o.lookups) || o.lookups == 0 || o.lookups > SIM_LOOKUPS_MAX)
        return usage_error("--lookups expects an integer from 1 to %u, got '%s'", SIM_LOOKUPS_MAX, val);
    } else if (strcmp(a, "--out") == 0) {
      o.out_dir = val;
    } else if (strcmp(a, "--bin-s") == 0) {
      char *end = NULL;
      double b = val[0] != '\0' ? strtod(val, &end) : 0.0;
      if (end == NULL || *end != '\0' || !(b >= SIM_BIN_S_MIN && b <= SIM_BIN_S_MAX))
        return usage_error("--bin-s expects a number of seconds from %g to %g, got '%s'", SIM_BIN_S_MIN, SIM_BIN_S_MAX,
                           val);
      o.bin_us = (uint64_t)llround(b * 1e6);
    } else if (strcmp(a, "--format") == 0) {
      if (strcmp(val, "table") != 0 && strcmp(val, "csv") != 0 && strcmp(val, "json") != 0)
        return usage_error("--format expects table, csv or json, got '%s'", val);
      format = val;
    } else if (strcmp(a, "-j") == 0 || strcmp(a, "--jobs") == 0) {
      uint64_t j;
      if (!sim_parse_u64(val, &j) || j == 0 || j > 1024)
        return usage_error("-j expects a number of threads from 1 to 1024, got '%s'", val);
      o.jobs = (unsigned)j;
    } else if (strcmp(a, "--shard") == 0) {
      char *slash = strchr(val, '/');
      uint64_t si, sn;
      char *left = slash ? g_strndup(val, (size_t)(slash - val)) : NULL;
      bool ok = slash && sim_parse_u64(left, &si) && sim_parse_u64(slash + 1, &sn) && sn >= 1 && sn <= 1000000 && si < sn;
      g_free(left);
      if (!ok)
        return usage_error("--shard expects I/N with 0 <= I < N, got '%s'", val);
      o.shard_index = (uint32_t)si;
      o.shard_count = (uint32_t)sn;
    } else if (strcmp(a, "--trace") == 0) {
      if (trace_set)
        return usage_error("%s", "--trace given twice");
      if (sim_trace_sel_parse(trace, val, err, sizeof err) < 0)
        return usage_error("%s", err);
      trace_set = true;
    } else if (strcmp(a, "--force") == 0 && val == NULL) {
      o.force = true;
    } else if (strcmp(a, "--resume") == 0 && val == NULL) {
      o.resume = true;
    } else if (strcmp(a, "--dry-run") == 0 && val == NULL) {
      dry = true;
    } else if (strcmp(a, "--perf") == 0 && val == NULL) {
      perf = true;
    } else if (a[0] == '-' && a[1] != '\0') {
      return usage_error("unknown option %s", a);
    } else if (path == NULL) {
      path = a;
    } else {
      return usage_error("unexpected argument '%s'", a);
    }
  }
  if (path == NULL)
    return usage_error("%s", "run needs a SCENARIO file");
  if (o.resume && o.out_dir == NULL)
    return usage_error("%s", "--resume needs --out DIR");
  if (o.force && o.out_dir == NULL)
    return usage_error("%s", "--force needs --out DIR");
  if (trace_set && o.out_dir == NULL)
    return usage_error("%s", "--trace needs --out DIR (trace.jsonl is written there)");
  if (trace_set && (o.resume || o.shard_count > 1))
    return usage_error("--trace cannot be combined with %s: the trace is of every run this command makes",
                       o.resume ? "--resume" : "--shard");
  install_signals(); /* before the inputs are read: a signal stops the reading too */
  if (load_scenario(&sc, path) < 0)
    return EXIT_USAGE;
  if (seed_set)
    sc.seed = seed;
  if ((status = check_inputs(&sc, o.lookups, &in)) != 0 || dry) {
    if (status == 0)
      status = dry_run(&sc, &o, &in);
    sim_scenario_clear(&sc);
    return status;
  }
  /* Before anything is written: every named lookup exists, and the cap. */
  if (trace_set && sim_trace_sel_plan(trace, &sc, o.lookups, in.file_lookups, err, sizeof err) < 0) {
    print_error(err);
    sim_scenario_clear(&sc);
    return EXIT_USAGE;
  }
  if (trace_set)
    o.trace = trace;

  prog.tty = isatty(STDERR_FILENO);
  prog.t0 = prog.last = t0 = now_s();
  o.stop = &stop_signal;
  o.runs_progress = on_runs;
  o.lookups_progress = on_lookups;
  o.build_progress = on_build;
  o.progress_user = &prog;
  o.digests = &in.digests;
  rc = sim_sweep_run(&sc, &o, &rep, err, sizeof err);
  run_s = now_s() - t0;
  if (prog.shown && rep.done < rep.selected)
    fputc('\n', stderr);
  if (rep.notes != NULL)
    fputs(rep.notes, stderr);
  if (o.resume)
    fprintf(stderr, "dhtsim: --resume: kept %" PRIu64 " finished %s of %s, ran %" PRIu64 "\n", rep.resumed,
            rep.resumed == 1 ? "point" : "points", o.out_dir, rep.done - rep.resumed);
  if (rc < 0) {
    print_error(err);
    status = exit_for(rc);
    goto out;
  }
  if (strcmp(format, "csv") == 0)
    rc = sim_sweep_write_summary_csv(stdout, &sc, &rep);
  else if (strcmp(format, "json") == 0)
    rc = sim_sweep_write_summary_json(stdout, &sc, &rep);
  else if (rep.have_single)
    rc = sim_write_table(stdout, &rep.single);
  else
    rc = sim_sweep_write_table(stdout, &sc, &rep);
  if (rc < 0 || fflush(stdout) != 0) {
    fprintf(stderr, "dhtsim: cannot write to standard output: %s\n", g_strerror(errno));
    status = EXIT_RUNTIME;
  }
  if (perf) {
    /* After stdout is flushed, so that the two streams do not interleave on a terminal. */
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    fprintf(stderr, "perf: wall %.3f s, %" PRIu64 " of %" PRIu64 " points, peak RSS %.1f MiB", run_s, rep.done,
            rep.selected, (double)ru.ru_maxrss / 1024.0);
    if (rep.have_single)
      fprintf(stderr, ", %" PRIu64 " events (%.0f events/s), %" PRIu64 " lookups (%.0f lookups/s)",
              rep.single.counters.events, run_s > 0 ? (double)rep.single.counters.events / run_s : 0.0,
              rep.single.lookups, run_s > 0 ? (double)rep.single.lookups / run_s : 0.0);
    fputc('\n', stderr);
  }
out:
  if (rep.interrupted || stop_signal != 0) {
    fprintf(stderr, "dhtsim: stopped by %s: %" PRIu64 " of %" PRIu64 " points finished", strsignal(stop_signal),
            rep.done, rep.selected);
    if (o.out_dir != NULL)
      fprintf(stderr, " and kept in %s (rerun with --resume to continue)", o.out_dir);
    fputc('\n', stderr);
    status = 128 + (stop_signal ? stop_signal : SIGINT);
  }
  sim_sweep_report_clear(&rep);
  sim_scenario_clear(&sc);
  return status;
}

static int cmd_run(int argc, char **argv) {
  sim_trace_sel trace = {0};
  int status = run_command(argc, argv, &trace);
  sim_trace_sel_clear(&trace);
  return status;
}

static int cmd_validate(int argc, char **argv) {
  sim_scenario sc;
  sim_inputs in;
  int status;
  if (argc != 1 || argv[0][0] == '-')
    return usage_error("%s", "validate needs exactly one SCENARIO file");
  install_signals();
  if (load_scenario(&sc, argv[0]) < 0)
    return EXIT_USAGE;
  if ((status = check_inputs(&sc, 0, &in)) != 0) {
    sim_scenario_clear(&sc);
    return status;
  }
  printf("%s: ok (%" PRIu64 " %s x %" PRIu32 " %s)\n", argv[0], sim_scenario_point_count(&sc),
         plural(sim_scenario_point_count(&sc), "point", "points"), sc.replicas,
         plural(sc.replicas, "replica", "replicas"));
  sim_scenario_clear(&sc);
  return 0;
}

static int cmd_keys(int argc, char **argv) {
  bool markdown = false;
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--markdown") == 0)
      markdown = true;
    else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      printf("Usage: dhtsim keys [--markdown]\n\nLists every scenario key (docs/scenario-format.md): its type,\n"
             "default, whether a sweep may vary it, unit, range and meaning. --markdown prints the\n"
             "table of docs/scenario-format.md.\n");
      return 0;
    } else
      return usage_error("keys: unexpected argument '%s'", argv[i]);
  }
  if (sim_param_write_keys(stdout, markdown) < 0 || fflush(stdout) != 0) {
    fprintf(stderr, "dhtsim: cannot write to standard output: %s\n", g_strerror(errno));
    return EXIT_RUNTIME;
  }
  return 0;
}

static int cmd_export(int argc, char **argv) {
  sim_scenario sc;
  sim_network net;
  char err[1024];
  int rc, status = 0;
  if (argc != 2)
    return usage_error("%s", "export-topology needs a SCENARIO and an output FILE");
  if (load_scenario(&sc, argv[0]) < 0)
    return EXIT_USAGE;
  if (sc.n_sweep > 0) {
    fprintf(stderr, "dhtsim: %s has a sweep: export-topology needs a single network\n", argv[0]);
    sim_scenario_clear(&sc);
    return EXIT_USAGE;
  }
  if (sim_build_network(&sc, sc.seed, &net, err, sizeof err) < 0) {
    print_error(err);
    sim_scenario_clear(&sc);
    return EXIT_USAGE;
  }
  if ((rc = sim_network_export_topology(&net, argv[1], err, sizeof err)) < 0) {
    print_error(err);
    status = exit_for(rc); /* a refused FILE (a symbolic link, a folder) is a usage error */
  }
  sim_network_clear(&net);
  sim_scenario_clear(&sc);
  return status;
}

static int cmd_merge(int argc, char **argv) {
  const char *out = NULL;
  GPtrArray *dirs = g_ptr_array_new();
  char err[1024];
  int rc;
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
      out = argv[++i];
    } else if (strncmp(argv[i], "--out=", 6) == 0) {
      out = argv[i] + 6;
    } else if (argv[i][0] == '-') {
      g_ptr_array_free(dirs, TRUE);
      return usage_error("merge: unknown option %s", argv[i]);
    } else {
      g_ptr_array_add(dirs, argv[i]);
    }
  }
  if (out == NULL || dirs->len == 0) {
    g_ptr_array_free(dirs, TRUE);
    return usage_error("%s", "merge needs --out DIR and at least one SHARD_DIR");
  }
  rc = sim_sweep_merge(out, (const char *const *)dirs->pdata, dirs->len, err, sizeof err);
  g_ptr_array_free(dirs, TRUE);
  if (rc < 0) {
    fprintf(stderr, "dhtsim: merge: %s\n", err);
    return rc == DHT_EIO || rc == DHT_ENOMEM ? EXIT_RUNTIME : EXIT_USAGE;
  }
  printf("dhtsim merge: wrote %s/summary.csv, summary.json, runs.csv, lookups.csv\n", out);
  return 0;
}

int main(int argc, char **argv) {
  /* Over RLIMIT_FSIZE (ulimit -f) the kernel sends SIGXFSZ, whose default
   * action kills the process with no message and leaves FILE.tmp behind.
   * Ignored, the write fails with EFBIG instead, and every writer reports it
   * like a full disk (the file named, the temporary file removed, exit 1). */
  signal(SIGXFSZ, SIG_IGN);
  if (argc < 2)
    return usage_error("%s", "no command given");
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
    fputs(help_text, stdout);
    fputs("\n", stdout);
    fputs(run_options, stdout);
    fputs("\n", stdout);
    fputs(exit_text, stdout);
    fputs("\n", stdout);
    fputs(usage_text, stdout);
    return 0;
  }
  for (size_t i = 0; i < G_N_ELEMENTS(command_help); i++) {
    if (strcmp(argv[1], command_help[i].cmd) != 0)
      continue;
    for (int j = 2; j < argc; j++)
      if (is_help(argv[j]))
        return print_command_help(i);
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("dhtsim %s\n", DHTSIM_VERSION);
    return 0;
  }
  if (strcmp(argv[1], "run") == 0)
    return cmd_run(argc - 2, argv + 2);
  if (strcmp(argv[1], "validate") == 0)
    return cmd_validate(argc - 2, argv + 2);
  if (strcmp(argv[1], "keys") == 0)
    return cmd_keys(argc - 2, argv + 2);
  if (strcmp(argv[1], "export-topology") == 0)
    return cmd_export(argc - 2, argv + 2);
  if (strcmp(argv[1], "merge") == 0)
    return cmd_merge(argc - 2, argv + 2);
  if (strcmp(argv[1], "plot") == 0)
    return sim_plot_main(argc - 2, argv + 2);
  if (strcmp(argv[1], "compare") == 0)
    return sim_compare_main(argc - 2, argv + 2);
  if (strcmp(argv[1], "check") == 0)
    return sim_check_main(argc - 2, argv + 2);
  if (strcmp(argv[1], "serve") == 0)
    return sim_serve_main(argc - 2, argv + 2);
  if (strcmp(argv[1], "lookup") == 0)
    return sim_live_main(argc - 2, argv + 2);
  return usage_error("unknown command '%s'", argv[1]);
}
