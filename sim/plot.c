/* plot.c: `dhtsim plot`: runs the gnuplot scripts of plots/ on a run's output
 * directory (see plot.h). gnuplot is started with an argument vector, never
 * through a shell; the scripts themselves read the CSV files with awk. */
#include "plot.h"

#include <errno.h>
#include <stdarg.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "param.h"
#include "stats.h"

#ifndef DHTSIM_PLOTS_DIR
#define DHTSIM_PLOTS_DIR "plots"
#endif

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

static const char plot_usage[] = "Usage: dhtsim plot OUTDIR [--scripts DIR] [--format png|svg|both]\n";

static const char plot_help[] =
    "Usage: dhtsim plot OUTDIR [--scripts DIR] [--format png|svg|both]\n"
    "\n"
    "Draws the plots of a `dhtsim run --out OUTDIR` output with gnuplot and writes\n"
    "them into OUTDIR, one file per plot script and format (NAME.png, NAME.svg).\n"
    "\n"
    "  --scripts DIR   the folder of *.gp scripts (default: $DHTSIM_PLOTS_DIR, else\n"
    "                  " DHTSIM_PLOTS_DIR ")\n"
    "  --format FMT    png, svg or both (default both)\n"
    "\n"
    "Prints the files written. Exit status: 0 success, 1 gnuplot missing or failed,\n"
    "2 bad usage or OUTDIR not a dhtsim output.\n";

/* Columns that every output has and the shipped scripts read: their absence
 * means another format. Named from the tables (param.def, figure.def), so a
 * rename there cannot leave a stale name here. */
static const sim_param_id summary_params[] = {
    SIM_P_NAME,         SIM_P_SEED,   SIM_P_NETWORK_NODES,     SIM_P_LOOKUP_STRATEGY,
    SIM_P_LOOKUP_ALPHA, SIM_P_LOOKUP_K, SIM_P_LOSS_REQUEST_DROP, SIM_P_REPLICAS,
};
static const sim_figure_id summary_figures[] = {SIM_FIG_QUERIES_MEAN, SIM_FIG_TIME_MS_MEAN, SIM_FIG_SUCCESS_RATE,
                                                SIM_FIG_ACCURACY};
/* lookups.csv has the swept keys only: the scripts need none of them. */
static const char *const lookups_columns[] = {"point", "rounds", "time_ms"};

/* A printf format: the compiler checks every call's arguments against it. */
static int usage_error(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

static int usage_error(const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "dhtsim plot: ");
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\n%s", plot_usage);
  return EXIT_USAGE;
}

/* The first line of a file without its line end, or NULL (errno set) if unreadable. */
static char *first_line(const char *path) {
  FILE *f = fopen(path, "r");
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  if (f == NULL)
    return NULL;
  n = getline(&line, &cap, f);
  fclose(f);
  if (n < 0) {
    free(line);
    errno = 0;
    return NULL;
  }
  while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
    line[--n] = '\0';
  return line;
}

/* 0 if `path` is a CSV file whose header names every column of `cols`; else
 * prints why and returns EXIT_USAGE. */
static int check_header(const char *path, const char *const *cols, size_t n_cols) {
  char *line = first_line(path);
  char **names;
  int rc = 0;
  if (line == NULL) {
    if (errno != 0)
      fprintf(stderr, "dhtsim plot: %s: %s (not a dhtsim output directory? write one with dhtsim run SCENARIO --out DIR)\n",
              path, strerror(errno));
    else
      fprintf(stderr, "dhtsim plot: %s: empty file, expected a CSV header\n", path);
    return EXIT_USAGE;
  }
  names = g_strsplit(line, ",", -1);
  for (size_t i = 0; i < n_cols && rc == 0; i++) {
    if (!g_strv_contains((const char *const *)names, cols[i])) {
      fprintf(stderr,
              "dhtsim plot: %s: no column \"%s\": not the format of docs/output-format.md (an older dhtsim?)\n",
              path, cols[i]);
      rc = EXIT_USAGE;
    }
  }
  g_strfreev(names);
  free(line);
  return rc;
}

static int check_outdir(const char *dir) {
  char *summary, *lookups;
  int rc;
  if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
    fprintf(stderr, "dhtsim plot: %s: %s\n", dir,
            g_file_test(dir, G_FILE_TEST_EXISTS) ? "not a directory" : "no such directory");
    return EXIT_USAGE;
  }
  summary = g_build_filename(dir, "summary.csv", NULL);
  lookups = g_build_filename(dir, "lookups.csv", NULL);
  {
    const char *cols[1 + G_N_ELEMENTS(summary_params) + 2 * G_N_ELEMENTS(summary_figures)];
    char ci[G_N_ELEMENTS(summary_figures)][64];
    size_t n = 0;
    cols[n++] = "point";
    for (size_t i = 0; i < G_N_ELEMENTS(summary_params); i++)
      cols[n++] = sim_params[summary_params[i]].key;
    for (size_t i = 0; i < G_N_ELEMENTS(summary_figures); i++) {
      snprintf(ci[i], sizeof ci[i], "%s_ci95", sim_figure_table[summary_figures[i]].name);
      cols[n++] = sim_figure_table[summary_figures[i]].name;
      cols[n++] = ci[i];
    }
    rc = check_header(summary, cols, n);
  }
  if (rc == 0)
    rc = check_header(lookups, lookups_columns, G_N_ELEMENTS(lookups_columns));
  g_free(summary);
  g_free(lookups);
  return rc;
}

static gint compare_names(gconstpointer a, gconstpointer b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The *.gp file names of `dir`, sorted; NULL (message printed) if `dir` is not
 * a readable folder holding at least one. */
static GPtrArray *list_scripts(const char *dir, const char *origin) {
  GError *error = NULL;
  GDir *d = g_dir_open(dir, 0, &error);
  GPtrArray *names;
  const char *name;
  if (d == NULL) {
    fprintf(stderr, "dhtsim plot: %s %s: %s\n", origin, dir, error->message);
    g_error_free(error);
    return NULL;
  }
  names = g_ptr_array_new_with_free_func(g_free);
  while ((name = g_dir_read_name(d)) != NULL) {
    if (g_str_has_suffix(name, ".gp") && strlen(name) > 3)
      g_ptr_array_add(names, g_strdup(name));
  }
  g_dir_close(d);
  if (names->len == 0) {
    fprintf(stderr, "dhtsim plot: %s %s: no *.gp plot scripts there\n", origin, dir);
    g_ptr_array_unref(names);
    return NULL;
  }
  g_ptr_array_sort(names, compare_names);
  return names;
}

/* s as the body of a gnuplot single-quoted string: each ' doubled. */
static char *gp_quote(const char *s) {
  GString *g = g_string_new(NULL);
  for (; *s; s++) {
    if (*s == '\'')
      g_string_append_c(g, '\'');
    g_string_append_c(g, *s);
  }
  return g_string_free(g, FALSE);
}

static void pass_through(const char *text) {
  size_t n = text ? strlen(text) : 0;
  if (n == 0)
    return;
  fputs(text, stderr);
  if (text[n - 1] != '\n')
    fputc('\n', stderr);
}

/* Runs one script for one format. Returns 0 (written or skipped) or EXIT_RUNTIME. */
static int run_script(const char *gnuplot, const char *scripts_dir, const char *script, const char *outdir,
                      const char *fmt) {
  char *base = g_strndup(script, strlen(script) - 3);
  char *file = g_strdup_printf("%s.%s", base, fmt);
  char *final = g_build_filename(outdir, file, NULL);
  char *tmp = g_strdup_printf("%s.tmp", final);
  char *script_path = g_build_filename(scripts_dir, script, NULL);
  char *q_dir = gp_quote(outdir), *q_tmp = gp_quote(tmp);
  char *setup = g_strdup_printf("dir='%s'; term='%s'; out='%s'", q_dir, fmt, q_tmp);
  char *argv[] = {(char *)gnuplot, "-d", "-e", setup, script_path, NULL};
  char *out = NULL, *err = NULL;
  GError *error = NULL;
  int wait_status = 0, rc = 0;
  GStatBuf st;

  g_remove(tmp);
  fflush(stdout);
  if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_STDIN_FROM_DEV_NULL, NULL, NULL, &out, &err, &wait_status, &error)) {
    fprintf(stderr, "dhtsim plot: cannot run %s: %s\n", gnuplot, error->message);
    g_error_free(error);
    rc = EXIT_RUNTIME;
  } else if (!WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0) {
    if (WIFEXITED(wait_status))
      fprintf(stderr, "dhtsim plot: gnuplot failed on %s (%s), exit status %d:\n", script_path, fmt,
              WEXITSTATUS(wait_status));
    else
      fprintf(stderr, "dhtsim plot: gnuplot failed on %s (%s), killed by signal %d:\n", script_path, fmt,
              WIFSIGNALED(wait_status) ? WTERMSIG(wait_status) : 0);
    pass_through(out);
    pass_through(err);
    g_remove(tmp);
    rc = EXIT_RUNTIME;
  } else if (g_stat(tmp, &st) != 0 || st.st_size == 0) {
    /* The script decided not to draw: its note says why. */
    fprintf(stderr, "dhtsim plot: %s (%s): no plot written\n", script_path, fmt);
    pass_through(err);
    g_remove(tmp);
  } else if (g_rename(tmp, final) != 0) {
    fprintf(stderr, "dhtsim plot: cannot rename %s to %s: %s\n", tmp, final, strerror(errno));
    g_remove(tmp);
    rc = EXIT_RUNTIME;
  } else {
    if (err != NULL && err[0] != '\0') {
      fprintf(stderr, "dhtsim plot: gnuplot said on %s (%s):\n", script_path, fmt);
      pass_through(err);
    }
    printf("%s\n", final);
    fflush(stdout);
  }
  g_free(out);
  g_free(err);
  g_free(setup);
  g_free(q_dir);
  g_free(q_tmp);
  g_free(script_path);
  g_free(tmp);
  g_free(final);
  g_free(file);
  g_free(base);
  return rc;
}

int sim_plot_main(int argc, char **argv) {
  const char *outdir = NULL, *scripts = NULL, *format = "both", *origin = "--scripts";
  const char *formats[2];
  size_t n_formats = 0;
  GPtrArray *names;
  char *gnuplot;
  int rc;

  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      fputs(plot_help, stdout);
      return EXIT_OK;
    } else if (strcmp(a, "--scripts") == 0 || strcmp(a, "--format") == 0) {
      if (i + 1 >= argc)
        return usage_error("%s needs a value", a);
      if (strcmp(a, "--scripts") == 0)
        scripts = argv[++i];
      else
        format = argv[++i];
    } else if (a[0] == '-' && a[1] != '\0') {
      return usage_error("unknown option %s", a);
    } else if (outdir == NULL) {
      outdir = a;
    } else {
      return usage_error("unexpected argument %s", a);
    }
  }
  if (outdir == NULL)
    return usage_error("%s", "missing OUTDIR");
  if (strcmp(format, "png") == 0 || strcmp(format, "both") == 0)
    formats[n_formats++] = "png";
  if (strcmp(format, "svg") == 0 || strcmp(format, "both") == 0)
    formats[n_formats++] = "svg";
  if (n_formats == 0)
    return usage_error("--format must be png, svg or both, not %s", format);
  if (scripts != NULL && scripts[0] == '\0')
    return usage_error("%s", "--scripts needs a folder");

  rc = check_outdir(outdir);
  if (rc != 0)
    return rc;

  if (scripts == NULL) {
    const char *env = g_getenv("DHTSIM_PLOTS_DIR");
    if (env != NULL && env[0] != '\0') {
      scripts = env;
      origin = "$DHTSIM_PLOTS_DIR";
    } else {
      scripts = DHTSIM_PLOTS_DIR;
      origin = "plot scripts folder";
    }
  }
  names = list_scripts(scripts, origin);
  if (names == NULL) {
    if (strcmp(origin, "plot scripts folder") == 0) {
      fprintf(stderr, "dhtsim plot: give the folder of the plots/*.gp scripts with --scripts DIR or $DHTSIM_PLOTS_DIR\n");
      return EXIT_RUNTIME;
    }
    return EXIT_USAGE;
  }

  gnuplot = g_find_program_in_path("gnuplot");
  if (gnuplot == NULL) {
    fprintf(stderr, "dhtsim plot: gnuplot not found in PATH (Debian: apt-get install gnuplot-nox)\n");
    g_ptr_array_unref(names);
    return EXIT_RUNTIME;
  }

  rc = EXIT_OK;
  for (guint i = 0; i < names->len; i++) {
    for (size_t f = 0; f < n_formats; f++) {
      if (run_script(gnuplot, scripts, g_ptr_array_index(names, i), outdir, formats[f]) != 0)
        rc = EXIT_RUNTIME;
    }
  }
  g_free(gnuplot);
  g_ptr_array_unref(names);
  return rc;
}
