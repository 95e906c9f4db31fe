/* main.c: the dhtsim command: run / validate / export-topology a scenario.
 * Exit codes: 0 success, 1 runtime failure, 2 bad usage or bad scenario. */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "scenario.h"
#include "sim.h"
#include "stats.h"

enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

static const char usage_text[] =
    "Usage:\n"
    "  dhtsim run SCENARIO [--seed N] [--lookups N] [--out DIR] [--format table|csv|json] [--perf]\n"
    "  dhtsim validate SCENARIO\n"
    "  dhtsim export-topology SCENARIO FILE\n"
    "  dhtsim --help | --version\n";

static const char help_text[] =
    "dhtsim: a deterministic discrete-event simulator of the BitTorrent Mainline DHT\n"
    "(BEP 5) iterative get_peers lookup. The same scenario and seed give byte-identical output.\n"
    "\n"
    "Commands:\n"
    "  run SCENARIO          simulate the scenario (a YAML file) and print its statistics\n"
    "  validate SCENARIO     check a scenario file and exit (0 valid, 2 invalid)\n"
    "  export-topology SCENARIO FILE\n"
    "                        build the scenario's network and write it as a dhtsim-topology v1 file\n"
    "\n"
    "Options of run:\n"
    "  --seed N              use seed N instead of the scenario's seed\n"
    "  --lookups N           run N lookups instead of workload.lookups\n"
    "  --out DIR             also write DIR/summary.json, DIR/summary.csv and DIR/lookups.csv\n"
    "  --format FMT          stdout format: table (default), csv or json\n"
    "  --perf                print wall-clock figures (run time, events/s, peak memory) to stderr\n"
    "\n"
    "Exit status: 0 success, 1 runtime failure, 2 bad usage or bad scenario.\n"
    "The scenario format, the statistics and the output files are documented in README.md.\n";

static int usage_error(const char *fmt, const char *arg) {
  fprintf(stderr, "dhtsim: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\n%s", usage_text);
  return EXIT_USAGE;
}

/* Strict unsigned decimal: the whole string, no sign, no overflow. */
static bool parse_u64(const char *s, uint64_t *out) {
  char *end;
  unsigned long long v;
  if (s == NULL || *s < '0' || *s > '9')
    return false;
  errno = 0;
  v = strtoull(s, &end, 10);
  if (errno != 0 || *end != '\0')
    return false;
  *out = v;
  return true;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Progress on stderr: only on a terminal, and only once the run has lasted a second. */
typedef struct progress {
  double t0, last;
  bool tty, shown;
} progress;

static void on_progress(void *user, uint64_t done, uint64_t total) {
  progress *p = user;
  double t;
  if (!p->tty || (done % 64 != 0 && done != total))
    return;
  t = now_s();
  if (t - p->t0 < 1.0 || (t - p->last < 0.2 && done != total))
    return;
  p->last = t;
  p->shown = true;
  fprintf(stderr, "\r  %" PRIu64 " / %" PRIu64 " lookups (%.0f%%), %.1f s", done, total,
          total ? 100.0 * (double)done / (double)total : 100.0, t - p->t0);
  if (done == total)
    fputc('\n', stderr);
}

static int load_scenario(sim_scenario *sc, const char *path) {
  char err[1024];
  int rc = sim_scenario_load(sc, path, err, sizeof err);
  if (rc < 0) {
    fprintf(stderr, "%s\n", err);
    return rc;
  }
  return 0;
}

/* Writes one output file via a temporary name and rename, so that a reader never sees half a file. */
typedef int (*writer_fn)(FILE *f, const void *data);

static int write_file(const char *dir, const char *name, writer_fn fn, const void *data) {
  char *path = g_build_filename(dir, name, NULL);
  char *tmp = g_strdup_printf("%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  int rc = 0;
  if (f == NULL) {
    fprintf(stderr, "dhtsim: cannot write %s: %s\n", tmp, strerror(errno));
    rc = -1;
    goto out;
  }
  rc = fn(f, data);
  if (fflush(f) != 0 || rc < 0)
    rc = -1;
  if (fclose(f) != 0)
    rc = -1;
  if (rc < 0) {
    fprintf(stderr, "dhtsim: cannot write %s: %s\n", tmp, strerror(errno));
    g_remove(tmp);
  } else if (g_rename(tmp, path) != 0) {
    fprintf(stderr, "dhtsim: cannot rename %s to %s: %s\n", tmp, path, strerror(errno));
    g_remove(tmp);
    rc = -1;
  }
out:
  g_free(tmp);
  g_free(path);
  return rc;
}

static int w_summary_json(FILE *f, const void *s) { return sim_write_summary_json(f, s); }
static int w_summary_csv(FILE *f, const void *s) {
  int rc = sim_write_summary_csv_header(f);
  return rc < 0 ? rc : sim_write_summary_csv_row(f, s);
}
static int w_lookups_csv(FILE *f, const void *r) { return sim_write_lookups_csv(f, r); }

static int cmd_run(int argc, char **argv) {
  const char *path = NULL, *out_dir = NULL, *format = "table";
  sim_options opt = {0};
  bool perf = false;
  sim_scenario sc;
  sim_results res;
  sim_summary sum;
  progress prog = {0};
  char err[1024];
  double t0, run_s;
  int rc, status = 0;

  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    const char *val = NULL;
    if (strcmp(a, "--seed") == 0 || strcmp(a, "--lookups") == 0 || strcmp(a, "--out") == 0 ||
        strcmp(a, "--format") == 0) {
      if (i + 1 >= argc)
        return usage_error("option %s needs a value", a);
      val = argv[++i];
    } else if (strncmp(a, "--", 2) == 0 && strchr(a, '=') != NULL) {
      static char name[64];
      size_t n = (size_t)(strchr(a, '=') - a);
      if (n >= sizeof name)
        return usage_error("unknown option %s", a);
      memcpy(name, a, n);
      name[n] = '\0';
      val = a + n + 1;
      a = name;
    }
    if (strcmp(a, "--seed") == 0) {
      if (!parse_u64(val, &opt.seed))
        return usage_error("--seed expects an unsigned integer, got '%s'", val);
      opt.seed_set = true;
    } else if (strcmp(a, "--lookups") == 0) {
      if (!parse_u64(val, &opt.lookups) || opt.lookups == 0 || opt.lookups > 1000000000)
        return usage_error("--lookups expects an integer from 1 to 1000000000, got '%s'", val);
    } else if (strcmp(a, "--out") == 0) {
      out_dir = val;
    } else if (strcmp(a, "--format") == 0) {
      if (strcmp(val, "table") != 0 && strcmp(val, "csv") != 0 && strcmp(val, "json") != 0)
        return usage_error("--format expects table, csv or json, got '%s'", val);
      format = val;
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
  if (load_scenario(&sc, path) < 0)
    return EXIT_USAGE;
  if (out_dir != NULL && g_mkdir_with_parents(out_dir, 0777) != 0) {
    fprintf(stderr, "dhtsim: cannot create output folder %s: %s\n", out_dir, strerror(errno));
    sim_scenario_clear(&sc);
    return EXIT_RUNTIME;
  }

  prog.tty = isatty(STDERR_FILENO);
  prog.t0 = prog.last = t0 = now_s();
  opt.progress = on_progress;
  opt.progress_user = &prog;
  rc = sim_run(&sc, &opt, &res, err, sizeof err);
  run_s = now_s() - t0;
  if (rc < 0) {
    fprintf(stderr, "%s\n", err);
    sim_scenario_clear(&sc);
    /* Input files named by the scenario are part of the scenario. */
    return rc == DHT_ENOMEM || rc == DHT_EIO ? EXIT_RUNTIME : EXIT_USAGE;
  }
  if (sim_summary_compute(&sum, &sc, opt.seed_set ? opt.seed : sc.seed, &res) < 0) {
    fprintf(stderr, "dhtsim: out of memory computing the summary\n");
    status = EXIT_RUNTIME;
    goto out;
  }
  if (strcmp(format, "csv") == 0)
    rc = sim_write_summary_csv_header(stdout) < 0 ? -1 : sim_write_summary_csv_row(stdout, &sum);
  else if (strcmp(format, "json") == 0)
    rc = sim_write_summary_json(stdout, &sum);
  else
    rc = sim_write_table(stdout, &sum);
  if (rc < 0 || fflush(stdout) != 0) {
    fprintf(stderr, "dhtsim: cannot write to standard output: %s\n", strerror(errno));
    status = EXIT_RUNTIME;
  }
  if (perf) {
    /* After stdout is flushed, so that the two streams do not interleave on a terminal. */
    struct rusage ru;
    double dt = run_s;
    getrusage(RUSAGE_SELF, &ru);
    fprintf(stderr, "perf: wall %.3f s, %" PRIu64 " events (%.0f events/s), %zu lookups (%.0f lookups/s), "
                    "peak RSS %.1f MiB\n",
            dt, res.counters.events, dt > 0 ? (double)res.counters.events / dt : 0.0, res.n_lookups,
            dt > 0 ? (double)res.n_lookups / dt : 0.0, (double)ru.ru_maxrss / 1024.0);
  }
  if (out_dir != NULL && (write_file(out_dir, "summary.json", w_summary_json, &sum) < 0 ||
                          write_file(out_dir, "summary.csv", w_summary_csv, &sum) < 0 ||
                          write_file(out_dir, "lookups.csv", w_lookups_csv, &res) < 0))
    status = EXIT_RUNTIME;
out:
  sim_results_clear(&res);
  sim_scenario_clear(&sc);
  return status;
}

static int cmd_validate(int argc, char **argv) {
  sim_scenario sc;
  if (argc != 1 || argv[0][0] == '-')
    return usage_error("%s", "validate needs exactly one SCENARIO file");
  if (load_scenario(&sc, argv[0]) < 0)
    return EXIT_USAGE;
  printf("%s: ok\n", argv[0]);
  sim_scenario_clear(&sc);
  return 0;
}

static int cmd_export(int argc, char **argv) {
  sim_scenario sc;
  sim_network net;
  char err[1024];
  int status = 0;
  if (argc != 2)
    return usage_error("%s", "export-topology needs a SCENARIO and an output FILE");
  if (load_scenario(&sc, argv[0]) < 0)
    return EXIT_USAGE;
  if (sim_build_network(&sc, sc.seed, &net, err, sizeof err) < 0) {
    fprintf(stderr, "%s\n", err);
    sim_scenario_clear(&sc);
    return EXIT_USAGE;
  }
  if (sim_network_export_topology(&net, argv[1], err, sizeof err) < 0) {
    fprintf(stderr, "%s\n", err);
    status = EXIT_RUNTIME;
  }
  sim_network_clear(&net);
  sim_scenario_clear(&sc);
  return status;
}

int main(int argc, char **argv) {
  if (argc < 2)
    return usage_error("%s", "no command given");
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
    fputs(help_text, stdout);
    fputs("\n", stdout);
    fputs(usage_text, stdout);
    return 0;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("dhtsim %s\n", DHTSIM_VERSION);
    return 0;
  }
  if (strcmp(argv[1], "run") == 0)
    return cmd_run(argc - 2, argv + 2);
  if (strcmp(argv[1], "validate") == 0)
    return cmd_validate(argc - 2, argv + 2);
  if (strcmp(argv[1], "export-topology") == 0)
    return cmd_export(argc - 2, argv + 2);
  return usage_error("unknown command '%s'", argv[1]);
}
