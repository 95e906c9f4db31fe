/* plot.c: `dhtsim plot` (see plot.h). The data work is done here, in C, and
 * not in gnuplot: which rows belong to which curve or panel, whether a request
 * would pool differing points, the fits, the CDF steps and histogram bins. The
 * gnuplot side (plots/common.gpi) only gives every plot the same look, so a
 * plot is exactly as trustworthy as this file's grouping. */
#include "plot.h"

#include <errno.h>
#include <limits.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "param.h"
#include "stats.h"
#include "text.h"
#include "timeline.h"

#ifndef DHTSIM_PLOTS_DIR
#define DHTSIM_PLOTS_DIR "plots"
#endif

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

/* What a reader can tell apart: 8 colours × 2 dash types for curves, 3
 * overlaid histograms (more become small multiples), 16 panels per file. */
enum { MAX_SERIES = 16, MAX_OVERLAID_HIST = 3, MAX_PANELS = 16, N_COLOURS = 8 };

/* Pixels a legend row takes at the fonts of common.gpi (gnuplot drops the
 * entries that do not fit the legend's panel, so this errs on the large side). */
enum { KEY_ROW = 24 };

static const char plot_usage[] =
    "Usage: dhtsim plot OUT [--x KEY --y FIGURE] [--group KEY]... [--where KEY=VALUE]...\n"
    "                       [--kind line|heatmap|cdf|histogram] [--format png|svg|pdf|all]\n"
    "                       [--name NAME] [--scripts DIR]\n"
    "       dhtsim plot OUT --kind anatomy [--lookup ID] [--point P] [--replica R] [--name NAME]\n";

static const char plot_help[] =
    "Usage: dhtsim plot OUT [--x KEY --y FIGURE] [--group KEY]... [--where KEY=VALUE]...\n"
    "                       [--kind line|heatmap|cdf|histogram] [--format png|svg|pdf|all]\n"
    "                       [--name NAME] [--scripts DIR]\n"
    "       dhtsim plot OUT --kind anatomy [--lookup ID] [--point P] [--replica R] [--name NAME]\n"
    "\n"
    "Draws plots of a `dhtsim run --out OUT` output with gnuplot into OUT/plots/.\n"
    "\n"
    "Without --x and --y: the presets that fit what the sweep varies (summary.json's\n"
    "\"sweep\"): queries, rounds and hops vs N with an a + b*log2(N) fit (N swept); heat maps\n"
    "of mean queries and mean time over alpha x K (both swept); success rate and\n"
    "accuracy vs the drop rate (a drop rate swept); mean time and queries vs every\n"
    "other swept number; the lookup-time CDF and the rounds and hops histograms (always).\n"
    "OUT/plots/ is emptied first, so no plot of an earlier run stays.\n"
    "\n"
    "With --x and --y: one plot. Every swept key that --x and --where leave free\n"
    "becomes a group (a curve, a line style or a panel): nothing is pooled.\n"
    "  --x KEY          the x axis: a dotted parameter key (lookup.alpha); for cdf and\n"
    "                   histogram optional: the key whose values are the first group\n"
    "  --y FIGURE       line, heatmap: a figure of summary.csv (time_ms_mean);\n"
    "                   cdf, histogram: a per-lookup column of lookups.csv (time_ms, rounds, hops)\n"
    "  --group KEY      one curve (or panel) per value of KEY, in the order given;\n"
    "                   heatmap: the first --group is the heat map's rows\n"
    "  --where KEY=VALUE  only the points with this value of KEY\n"
    "  --kind KIND      line (default), heatmap, cdf or histogram\n"
    "  --name NAME      file name without extension (default from y, x and kind)\n"
    "\n"
    "--kind anatomy: one lookup of OUT/trace.jsonl (`dhtsim run --trace IDS`): the log2\n"
    "XOR distance to the target of each queried node against the time since the\n"
    "lookup's start, each query a segment from its send to its answer (solid, a dot)\n"
    "or timeout (dashed, a cross), grey dotted while unanswered to the end; late\n"
    "answers, losses on the wire and decisions marked. The presets draw it for the\n"
    "first traced lookup (lookup-anatomy) when OUT has a trace.jsonl.\n"
    "  --lookup ID, --point P, --replica R  the lookup (default: the trace's first)\n"
    "\n"
    "  --format FMT     png, svg, pdf, all, or a comma list (default png,svg)\n"
    "  --scripts DIR    the folder of common.gpi (default: $DHTSIM_PLOTS_DIR, else\n"
    "                   ../share/dhtsim/plots next to the executable, else\n"
    "                   " DHTSIM_PLOTS_DIR ")\n"
    "\n"
    "Each plot is also written as OUT/plots/NAME.gp (data inline): gnuplot -e\n"
    "\"term='pdf'\" OUT/plots/NAME.gp redraws it. Prints the pictures written.\n"
    "Exit status: 0 success, 1 gnuplot missing or failed, 2 bad usage, OUT not a\n"
    "dhtsim output, or a request that cannot be drawn without pooling points.\n";

/* A printf format: the compiler checks every call's arguments against it. */
static int usage_error(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static int request_error(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

/* "dhtsim: plot: MESSAGE", then the usage text for bad usage; a request that
 * names existing things but cannot be drawn gets no usage text (the message
 * says what to change). Both are exit status 2. */
static int report(bool usage, const char *fmt, va_list ap) G_GNUC_PRINTF(2, 0);

static int report(bool usage, const char *fmt, va_list ap) {
  fprintf(stderr, "dhtsim: plot: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n%s", usage ? plot_usage : "");
  return EXIT_USAGE;
}

static int usage_error(const char *fmt, ...) {
  va_list ap;
  int rc;
  va_start(ap, fmt);
  rc = report(true, fmt, ap);
  va_end(ap);
  return rc;
}

static int request_error(const char *fmt, ...) {
  va_list ap;
  int rc;
  va_start(ap, fmt);
  rc = report(false, fmt, ap);
  va_end(ap);
  return rc;
}

/* ---- CSV ---- */

/* One record of RFC 4180 CSV on one line (dhtsim never writes line breaks
 * inside a field). Fields are appended to `out` (owned strings). */
static void csv_split(const char *line, GPtrArray *out) {
  GString *cur = g_string_new(NULL);
  bool inq = false;
  for (const char *p = line;; p++) {
    char ch = *p;
    if (ch == '\0' || ch == '\n' || ch == '\r') {
      g_ptr_array_add(out, g_string_free(cur, FALSE));
      return;
    }
    if (inq) {
      if (ch == '"' && p[1] == '"') {
        g_string_append_c(cur, '"');
        p++;
      } else if (ch == '"') {
        inq = false;
      } else {
        g_string_append_c(cur, ch);
      }
    } else if (ch == '"') {
      inq = true;
    } else if (ch == ',') {
      g_ptr_array_add(out, g_string_free(cur, FALSE));
      cur = g_string_new(NULL);
    } else {
      g_string_append_c(cur, ch);
    }
  }
}

typedef struct table {
  GPtrArray *head; /* char * */
  GPtrArray *rows; /* GPtrArray * of char *, each as long as head */
} table;

static void table_free(table *t) {
  if (t->head != NULL)
    g_ptr_array_unref(t->head);
  if (t->rows != NULL)
    g_ptr_array_unref(t->rows);
  t->head = t->rows = NULL;
}

static int table_col(const table *t, const char *name) {
  for (guint i = 0; i < t->head->len; i++)
    if (strcmp(g_ptr_array_index(t->head, i), name) == 0)
      return (int)i;
  return -1;
}

static const char *cell(GPtrArray *row, int col) {
  return col >= 0 && (guint)col < row->len ? g_ptr_array_index(row, (guint)col) : "";
}

/* Reads a whole CSV file (summary.csv: one row per point, small). */
static int table_read(const char *path, table *t) {
  FILE *f = fopen(path, "r");
  char *line = NULL;
  size_t cap = 0;
  if (f == NULL) {
    fprintf(stderr, "dhtsim: plot: %s: %s (not a dhtsim output directory? write one with dhtsim run SCENARIO --out DIR)\n",
            path, strerror(errno));
    return EXIT_USAGE;
  }
  t->head = g_ptr_array_new_with_free_func(g_free);
  t->rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref);
  if (getline(&line, &cap, f) < 0) {
    fprintf(stderr, "dhtsim: plot: %s: empty file, expected a CSV header\n", path);
    free(line);
    fclose(f);
    table_free(t);
    return EXIT_USAGE;
  }
  csv_split(line, t->head);
  while (getline(&line, &cap, f) >= 0) {
    GPtrArray *row;
    if (line[0] == '\n' || line[0] == '\0')
      continue;
    row = g_ptr_array_new_with_free_func(g_free);
    csv_split(line, row);
    while (row->len < t->head->len)
      g_ptr_array_add(row, g_strdup(""));
    g_ptr_array_add(t->rows, row);
  }
  free(line);
  fclose(f);
  return EXIT_OK;
}

/* ---- values of parameters ---- */

/* Two values of parameter id, as written in the files or given with --where:
 * numbers compare by value (0.10 is 0.1), text exactly. */
static bool same_value(int id, const char *a, const char *b) {
  char *ea, *eb;
  double x, y;
  if (sim_param_is_text((sim_param_id)id))
    return strcmp(a, b) == 0;
  x = g_ascii_strtod(a, &ea);
  y = g_ascii_strtod(b, &eb);
  if (ea == a || eb == b || *ea != '\0' || *eb != '\0')
    return strcmp(a, b) == 0;
  return x == y;
}

/* Numbers in numeric order; text keeps the order of first appearance (the
 * sweep's order), hence the stable sort. */
static int value_cmp(int id, const char *a, const char *b) {
  double x, y;
  if (sim_param_is_text((sim_param_id)id))
    return 0;
  x = g_ascii_strtod(a, NULL);
  y = g_ascii_strtod(b, NULL);
  return x < y ? -1 : x > y ? 1 : 0;
}

/* Legend texts and axis labels. The symbols are the ones of the papers on
 * Kademlia; every other key is named by its own name in the tables. */
static const struct {
  sim_param_id id;
  const char *sym, *axis;
} key_names[] = {
    {SIM_P_NETWORK_NODES, "N", "network size N (nodes)"},
    {SIM_P_LOOKUP_ALPHA, "α", "α: parallel queries (lookup.alpha)"},
    {SIM_P_LOOKUP_K, "K", "K: bucket size (lookup.k)"},
    {SIM_P_LATENCY_SIGMA, "σ", "σ: log-delay spread (latency.sigma)"},
};

static const char *key_sym(int id) {
  for (size_t i = 0; i < G_N_ELEMENTS(key_names); i++)
    if ((int)key_names[i].id == id)
      return key_names[i].sym;
  return NULL;
}

/* "α = 3", "rounds" (the strategy's values name themselves), "slow_fraction = 0.1"
 * (a key's own name within its section; timeout_ms carries its unit). */
static void append_pretty(GString *g, int id, const char *value) {
  const char *sym = key_sym(id);
  if (id == SIM_P_LOOKUP_STRATEGY)
    g_string_append(g, value);
  else
    g_string_append_printf(g, "%s = %s", sym != NULL ? sym : sim_param_name((sim_param_id)id), value);
}

static char *axis_label(int id) {
  const sim_param *p = &sim_params[id];
  for (size_t i = 0; i < G_N_ELEMENTS(key_names); i++)
    if ((int)key_names[i].id == id)
      return g_strdup(key_names[i].axis);
  if (p->unit[0] != '\0')
    return g_strdup_printf("%s (%s)", p->key, p->unit);
  return g_strdup(p->key);
}

static const sim_figure *figure_find(const char *name) {
  for (size_t i = 0; i < SIM_FIG_COUNT; i++)
    if (strcmp(sim_figure_table[i].name, name) == 0)
      return &sim_figure_table[i];
  return NULL;
}

/* "time_ms_mean (ms)": a figure as an axis label. */
static char *figure_label(const sim_figure *f) {
  return f->unit[0] ? g_strdup_printf("%s (%s)", f->name, f->unit) : g_strdup(f->name);
}

/* The unit of a per-lookup column of lookups.csv: that of its figure of the
 * same name (accuracy) or of its mean (time_ms: time_ms_mean). */
static const char *column_unit(const char *col) {
  const sim_figure *f = figure_find(col);
  char *mean;
  if (f == NULL) {
    mean = g_strdup_printf("%s_mean", col);
    f = figure_find(mean);
    g_free(mean);
  }
  return f != NULL ? f->unit : "";
}

/* s inside gnuplot single quotes: ' doubled. */
static void gp_sq(GString *g, const char *s) {
  g_string_append_c(g, '\'');
  for (; *s; s++) {
    if (*s == '\'')
      g_string_append_c(g, '\'');
    g_string_append_c(g, *s);
  }
  g_string_append_c(g, '\'');
}

/* s inside gnuplot double quotes ("\n" breaks lines there). */
static void gp_dq(GString *g, const char *s) {
  g_string_append_c(g, '"');
  for (; *s; s++) {
    if (*s == '"' || *s == '\\')
      g_string_append_c(g, '\\');
    if (*s == '\n')
      g_string_append(g, "\\n");
    else
      g_string_append_c(g, *s);
  }
  g_string_append_c(g, '"');
}

/* ---- the run's output ---- */

typedef struct ctx {
  const char *outdir;
  char *plotdir;     /* OUT/plots */
  char *scripts;     /* the folder of common.gpi */
  char *gnuplot;     /* its path */
  const char *formats[3];
  size_t n_formats;
  table sum;         /* summary.csv */
  int sweep[SIM_PARAM_COUNT];
  size_t n_sweep;
  const char *scenario, *seed;
  unsigned replicas;
  int point_col;
} ctx;

static bool is_swept(const ctx *c, int id) {
  for (size_t i = 0; i < c->n_sweep; i++)
    if (c->sweep[i] == id)
      return true;
  return false;
}

/* summary.json's "sweep": ["lookup.alpha", "lookup.k"] — the only JSON read
 * here, written by dhtsim itself on one line, so a scan suffices. */
static int read_sweep(ctx *c) {
  char *path = g_build_filename(c->outdir, "summary.json", NULL);
  char *text = NULL, *p, *end;
  GError *error = NULL;
  int rc = EXIT_OK;
  if (!g_file_get_contents(path, &text, NULL, &error)) {
    fprintf(stderr, "dhtsim: plot: %s (not a dhtsim output directory? write one with dhtsim run SCENARIO --out DIR)\n",
            error->message);
    g_error_free(error);
    g_free(path);
    return EXIT_USAGE;
  }
  p = strstr(text, "\"sweep\"");
  if (p != NULL) {
    p += strlen("\"sweep\"");
    p += strspn(p, " \t\r\n");
    p = *p == ':' ? p + 1 + strspn(p + 1, " \t\r\n") : NULL;
    p = p != NULL && *p == '[' ? p : NULL;
  }
  end = p != NULL ? strchr(p, ']') : NULL;
  if (end == NULL) {
    fprintf(stderr, "dhtsim: plot: %s: no \"sweep\" array: not the format of docs/output-format.md\n", path);
    rc = EXIT_USAGE;
  } else {
    p++;
    while (p < end && rc == EXIT_OK) {
      char *q0 = strchr(p, '"'), *q1;
      int id;
      if (q0 == NULL || q0 > end)
        break;
      q1 = strchr(q0 + 1, '"');
      id = q1 != NULL ? sim_param_find(q0 + 1, (size_t)(q1 - q0 - 1)) : -1;
      if (id < 0) {
        fprintf(stderr, "dhtsim: plot: %s: unknown swept key in \"sweep\" (an other dhtsim version?)\n", path);
        rc = EXIT_USAGE;
      } else {
        c->sweep[c->n_sweep++] = id;
        p = q1 + 1;
      }
    }
  }
  g_free(text);
  g_free(path);
  return rc;
}

static int read_output(ctx *c) {
  char *path;
  int rc, rcol;
  if (!g_file_test(c->outdir, G_FILE_TEST_IS_DIR)) {
    fprintf(stderr, "dhtsim: plot: %s: %s\n", c->outdir,
            g_file_test(c->outdir, G_FILE_TEST_EXISTS) ? "not a directory" : "no such directory");
    return EXIT_USAGE;
  }
  path = g_build_filename(c->outdir, "summary.csv", NULL);
  rc = table_read(path, &c->sum);
  if (rc == EXIT_OK) {
    /* Columns every output has: their absence means another format. */
    static const sim_param_id need[] = {SIM_P_NAME, SIM_P_SEED, SIM_P_REPLICAS};
    if (table_col(&c->sum, "point") < 0) {
      fprintf(stderr, "dhtsim: plot: %s: no column \"point\": not the format of docs/output-format.md (an older dhtsim?)\n",
              path);
      rc = EXIT_USAGE;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(need) && rc == EXIT_OK; i++) {
      if (table_col(&c->sum, sim_params[need[i]].key) < 0) {
        fprintf(stderr, "dhtsim: plot: %s: no column \"%s\": not the format of docs/output-format.md\n", path,
                sim_params[need[i]].key);
        rc = EXIT_USAGE;
      }
    }
  }
  g_free(path);
  if (rc == EXIT_OK) {
    path = g_build_filename(c->outdir, "lookups.csv", NULL);
    if (!g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
      fprintf(stderr, "dhtsim: plot: %s: no such file (not a dhtsim output directory?)\n", path);
      rc = EXIT_USAGE;
    }
    g_free(path);
  }
  if (rc == EXIT_OK)
    rc = read_sweep(c);
  if (rc != EXIT_OK)
    return rc;
  for (size_t i = 0; i < c->n_sweep; i++) {
    if (table_col(&c->sum, sim_params[c->sweep[i]].key) < 0) {
      fprintf(stderr, "dhtsim: plot: %s/summary.csv: no column for the swept key %s\n", c->outdir,
              sim_params[c->sweep[i]].key);
      return EXIT_USAGE;
    }
  }
  c->point_col = table_col(&c->sum, "point");
  rcol = table_col(&c->sum, sim_params[SIM_P_REPLICAS].key);
  c->scenario = c->sum.rows->len ? cell(g_ptr_array_index(c->sum.rows, 0), table_col(&c->sum, "name")) : "";
  c->seed = c->sum.rows->len ? cell(g_ptr_array_index(c->sum.rows, 0), table_col(&c->sum, "seed")) : "";
  c->replicas = c->sum.rows->len ? (unsigned)strtoul(cell(g_ptr_array_index(c->sum.rows, 0), rcol), NULL, 10) : 0;
  return EXIT_OK;
}

/* ---- requests and their plan ---- */

typedef enum plot_kind { KIND_LINE, KIND_HEATMAP, KIND_CDF, KIND_HIST, KIND_ANATOMY } plot_kind;
static const char *const kind_names[] = {"line", "heatmap", "cdf", "histogram", "anatomy"};

typedef struct request {
  plot_kind kind;
  int x; /* parameter id, -1: none (cdf, histogram) */
  const char *y;
  int groups[SIM_PARAM_COUNT];
  size_t n_groups;
  int wkey[SIM_PARAM_COUNT];
  const char *wval[SIM_PARAM_COUNT];
  size_t n_where;
  char name[256];
  bool fit;    /* a least-squares a + b·log2(x) per curve */
  bool preset; /* too many panels: one file per value of a key, not an error */
} request;

/* A grouping key and its values among the selected points, in order. */
typedef struct gkey {
  int id, col;
  GPtrArray *vals; /* borrowed from the table */
} gkey;

typedef struct plan {
  GPtrArray *rows; /* the selected summary rows (borrowed) */
  gkey x, rowkey;  /* rowkey: heat map rows */
  gkey keys[SIM_PARAM_COUNT];
  size_t n_keys, n_series_keys; /* keys[0..n_series_keys) make series, the rest panels */
  size_t ns, np;
  guint *series_of, *panel_of;   /* per selected row */
  int strategy_key;              /* index into keys of lookup.strategy among series keys, or -1 */
  GString *fixed;                /* "K = 8, rounds": what --where fixed */
} plan;

static void plan_free(plan *pl) {
  if (pl->rows)
    g_ptr_array_unref(pl->rows);
  if (pl->x.vals)
    g_ptr_array_unref(pl->x.vals);
  if (pl->rowkey.vals)
    g_ptr_array_unref(pl->rowkey.vals);
  for (size_t i = 0; i < pl->n_keys; i++)
    g_ptr_array_unref(pl->keys[i].vals);
  g_free(pl->series_of);
  g_free(pl->panel_of);
  if (pl->fixed)
    g_string_free(pl->fixed, TRUE);
  memset(pl, 0, sizeof *pl);
}

/* The distinct values of column `col` (parameter id) among rows, ordered. */
static GPtrArray *distinct(GPtrArray *rows, int id, int col) {
  GPtrArray *v = g_ptr_array_new();
  for (guint r = 0; r < rows->len; r++) {
    const char *s = cell(g_ptr_array_index(rows, r), col);
    bool seen = false;
    for (guint i = 0; i < v->len && !seen; i++)
      seen = same_value(id, g_ptr_array_index(v, i), s);
    if (!seen) {
      /* Insertion keeps first-appearance order among equal (text) values. */
      guint at = v->len;
      while (at > 0 && value_cmp(id, g_ptr_array_index(v, at - 1), s) > 0)
        at--;
      g_ptr_array_insert(v, (gint)at, (gpointer)s);
    }
  }
  return v;
}

static guint value_index(const gkey *k, const char *s) {
  for (guint i = 0; i < k->vals->len; i++)
    if (same_value(k->id, g_ptr_array_index(k->vals, i), s))
      return i;
  return 0;
}

static void append_values(GString *g, const GPtrArray *vals) {
  for (guint i = 0; i < vals->len && i < 12; i++)
    g_string_append_printf(g, "%s%s", i ? ", " : "", (const char *)g_ptr_array_index(vals, i));
  if (vals->len > 12)
    g_string_append(g, ", ...");
}

static bool in_list(const int *ids, size_t n, int id) {
  for (size_t i = 0; i < n; i++)
    if (ids[i] == id)
      return true;
  return false;
}

/* The label of series s or panel p: the values of its keys. */
static char *combo_label(const plan *pl, size_t from, size_t to, size_t index) {
  GString *g = g_string_new(NULL);
  size_t rest = index;
  guint digits[SIM_PARAM_COUNT];
  for (size_t i = to; i-- > from;) {
    digits[i] = (guint)(rest % pl->keys[i].vals->len);
    rest /= pl->keys[i].vals->len;
  }
  for (size_t i = from; i < to; i++) {
    if (g->len)
      g_string_append(g, ", ");
    append_pretty(g, pl->keys[i].id, g_ptr_array_index(pl->keys[i].vals, digits[i]));
  }
  return g_string_free(g, FALSE);
}

typedef enum plan_rc { PLAN_OK, PLAN_TOO_MANY_PANELS, PLAN_ERROR, PLAN_SKIP } plan_rc;

/* Selects the points, checks the request, and decides the series and panels.
 * PLAN_SKIP: a preset that has nothing to show (message printed as a note). */
static plan_rc make_plan(const ctx *c, const request *rq, plan *pl) {
  int cand[SIM_PARAM_COUNT];
  size_t n_cand = 0, limit;
  const char *x_name = rq->x >= 0 ? sim_params[rq->x].key : NULL;

  memset(pl, 0, sizeof *pl);
  pl->strategy_key = -1;
  pl->fixed = g_string_new(NULL);
  pl->rows = g_ptr_array_new();
  for (size_t w = 0; w < rq->n_where; w++) {
    int col = table_col(&c->sum, sim_params[rq->wkey[w]].key);
    if (col < 0) {
      request_error("--where %s: no column %s in summary.csv", sim_params[rq->wkey[w]].key, sim_params[rq->wkey[w]].key);
      return PLAN_ERROR;
    }
  }
  for (guint r = 0; r < c->sum.rows->len; r++) {
    GPtrArray *row = g_ptr_array_index(c->sum.rows, r);
    bool ok = true;
    for (size_t w = 0; w < rq->n_where && ok; w++)
      ok = same_value(rq->wkey[w], cell(row, table_col(&c->sum, sim_params[rq->wkey[w]].key)), rq->wval[w]);
    if (ok)
      g_ptr_array_add(pl->rows, row);
  }
  if (pl->rows->len == 0) {
    if (c->sum.rows->len == 0) {
      fprintf(stderr, "dhtsim: plot: %s: skipped: summary.csv has no rows\n", rq->name);
      return PLAN_SKIP;
    }
    /* Name the values that exist, for the first --where that matches nothing. */
    for (size_t w = 0; w < rq->n_where; w++) {
      int col = table_col(&c->sum, sim_params[rq->wkey[w]].key);
      GPtrArray *all = distinct(c->sum.rows, rq->wkey[w], col);
      bool found = false;
      for (guint i = 0; i < all->len && !found; i++)
        found = same_value(rq->wkey[w], g_ptr_array_index(all, i), rq->wval[w]);
      if (!found) {
        GString *g = g_string_new(NULL);
        append_values(g, all);
        request_error("--where %s=%s: no point has that value (%s: %s)", sim_params[rq->wkey[w]].key, rq->wval[w],
                      sim_params[rq->wkey[w]].key, g->str);
        g_string_free(g, TRUE);
        g_ptr_array_unref(all);
        return PLAN_ERROR;
      }
      g_ptr_array_unref(all);
    }
    request_error("%s", "--where: no point has all these values together");
    return PLAN_ERROR;
  }
  for (size_t w = 0; w < rq->n_where; w++) {
    if (pl->fixed->len)
      g_string_append(pl->fixed, ", ");
    append_pretty(pl->fixed, rq->wkey[w], cell(g_ptr_array_index(pl->rows, 0),
                                               table_col(&c->sum, sim_params[rq->wkey[w]].key)));
  }

  if (rq->x >= 0) {
    pl->x.id = rq->x;
    pl->x.col = table_col(&c->sum, x_name);
    pl->x.vals = distinct(pl->rows, rq->x, pl->x.col);
    if (rq->kind == KIND_LINE || rq->kind == KIND_HEATMAP) {
      if (pl->x.vals->len < 2) {
        if (rq->preset) {
          fprintf(stderr, "dhtsim: plot: %s: skipped: %s takes one value\n", rq->name, x_name);
          return PLAN_SKIP;
        }
        request_error("--x %s takes one value (%s) in the selected points: nothing to draw along x; "
                      "choose a swept key (%s)",
                      x_name, (const char *)g_ptr_array_index(pl->x.vals, 0), c->n_sweep ? "see summary.json" : "none");
        return PLAN_ERROR;
      }
    }
  }
  /* The candidates: for cdf and histogram --x is the first group; then the
   * --group keys as given; then every other swept key (never pooled). */
  if (rq->x >= 0 && (rq->kind == KIND_CDF || rq->kind == KIND_HIST))
    cand[n_cand++] = rq->x;
  for (size_t i = 0; i < rq->n_groups; i++)
    if (!in_list(cand, n_cand, rq->groups[i]) && !(rq->x == rq->groups[i] && rq->kind != KIND_CDF && rq->kind != KIND_HIST))
      cand[n_cand++] = rq->groups[i];
  for (size_t i = 0; i < c->n_sweep; i++)
    if (!in_list(cand, n_cand, c->sweep[i]) && c->sweep[i] != rq->x && !in_list(rq->wkey, rq->n_where, c->sweep[i]))
      cand[n_cand++] = c->sweep[i];

  if (rq->kind == KIND_HEATMAP) {
    if (n_cand == 0 || rq->n_groups == 0) {
      request_error("%s", "--kind heatmap needs --group KEY for its rows (e.g. --x lookup.alpha --group lookup.k)");
      return PLAN_ERROR;
    }
    pl->rowkey.id = cand[0];
    pl->rowkey.col = table_col(&c->sum, sim_params[cand[0]].key);
    pl->rowkey.vals = distinct(pl->rows, cand[0], pl->rowkey.col);
    memmove(cand, cand + 1, (n_cand - 1) * sizeof cand[0]);
    n_cand--;
  }
  for (size_t i = 0; i < n_cand; i++) {
    int col = table_col(&c->sum, sim_params[cand[i]].key);
    GPtrArray *v;
    if (col < 0) {
      request_error("--group %s: no column %s in summary.csv", sim_params[cand[i]].key, sim_params[cand[i]].key);
      return PLAN_ERROR;
    }
    v = distinct(pl->rows, cand[i], col);
    if (v->len < 2) {
      g_ptr_array_unref(v);
      continue;
    }
    pl->keys[pl->n_keys++] = (gkey){cand[i], col, v};
  }
  /* workload.plant_at is not swept but follows lookup.k: it never varies on
   * its own, so it needs no group (the same holds for every derived key). */

  limit = rq->kind == KIND_HIST ? MAX_OVERLAID_HIST : rq->kind == KIND_HEATMAP ? 1 : MAX_SERIES;
  pl->ns = 1;
  if (rq->kind == KIND_HIST) {
    size_t all = 1;
    for (size_t i = 0; i < pl->n_keys; i++)
      all *= pl->keys[i].vals->len;
    /* A few histograms overlay; more become small multiples, one per panel. */
    pl->n_series_keys = all <= limit ? pl->n_keys : 0;
    pl->ns = all <= limit ? all : 1;
  } else if (rq->kind != KIND_HEATMAP) {
    while (pl->n_series_keys < pl->n_keys && pl->ns * pl->keys[pl->n_series_keys].vals->len <= limit)
      pl->ns *= pl->keys[pl->n_series_keys++].vals->len;
  }
  pl->np = 1;
  for (size_t i = pl->n_series_keys; i < pl->n_keys; i++)
    pl->np *= pl->keys[i].vals->len;
  if (pl->np > MAX_PANELS) {
    if (rq->preset)
      return PLAN_TOO_MANY_PANELS;
    {
      /* Suggest the panel key with the most values: fixing it helps most. */
      const gkey *k = &pl->keys[pl->n_series_keys];
      GString *g = g_string_new(NULL), *keys = g_string_new(NULL);
      for (size_t i = pl->n_series_keys; i < pl->n_keys; i++) {
        if (pl->keys[i].vals->len > k->vals->len)
          k = &pl->keys[i];
        g_string_append_printf(keys, "%s%s", keys->len ? " × " : "", sim_params[pl->keys[i].id].key);
      }
      append_values(g, k->vals);
      request_error("%s would need %zu panels (at most %d; one per %s) or pool points that differ: "
                    "fix keys with --where, e.g. --where %s=VALUE (one of %s)",
                    rq->name, pl->np, MAX_PANELS, keys->str, sim_params[k->id].key, g->str);
      g_string_free(g, TRUE);
      g_string_free(keys, TRUE);
    }
    return PLAN_ERROR;
  }
  for (size_t i = 0; i < pl->n_series_keys; i++)
    if (pl->keys[i].id == SIM_P_LOOKUP_STRATEGY)
      pl->strategy_key = (int)i;

  pl->series_of = g_new0(guint, pl->rows->len);
  pl->panel_of = g_new0(guint, pl->rows->len);
  for (guint r = 0; r < pl->rows->len; r++) {
    GPtrArray *row = g_ptr_array_index(pl->rows, r);
    size_t s = 0, p = 0;
    for (size_t i = 0; i < pl->n_series_keys; i++)
      s = s * pl->keys[i].vals->len + value_index(&pl->keys[i], cell(row, pl->keys[i].col));
    for (size_t i = pl->n_series_keys; i < pl->n_keys; i++)
      p = p * pl->keys[i].vals->len + value_index(&pl->keys[i], cell(row, pl->keys[i].col));
    pl->series_of[r] = (guint)s;
    pl->panel_of[r] = (guint)p;
  }
  return PLAN_OK;
}

/* Colour (1-based linetype of common.gpi) and dash type of series s: the
 * strategy by dash type and the other keys by colour when the strategy is
 * one of several series keys; else colour first, then a second dash type. */
static void series_style(const plan *pl, size_t s, unsigned *lt, unsigned *dt) {
  if (pl->strategy_key >= 0) {
    size_t other = 0, mul = 1, rest = s, strat = 0;
    for (size_t i = pl->n_series_keys; i-- > 0;) {
      size_t d = rest % pl->keys[i].vals->len;
      rest /= pl->keys[i].vals->len;
      if ((int)i == pl->strategy_key) {
        strat = d;
      } else {
        other += d * mul;
        mul *= pl->keys[i].vals->len;
      }
    }
    /* The strategy alone: colour and dash both follow it (grey print). */
    *lt = (unsigned)((pl->n_series_keys > 1 ? other : strat) % N_COLOURS) + 1;
    *dt = (unsigned)(strat % 4) + 1;
  } else {
    *lt = (unsigned)(s % N_COLOURS) + 1;
    *dt = (unsigned)((s / N_COLOURS) % 4) + 1;
  }
}

/* ---- layout: every plot is a grid of panels with margins in pixels, a title
 * above and the legend below, so that neither ever covers data or labels. ---- */

typedef struct layout {
  int W, H, pc, pr, pw, ph, ml, mr, mt, mb, gx, gy, key_cols, key_rows;
} layout;

static layout make_layout(size_t np, int pw, int ph, size_t n_entries, size_t longest, int mr, size_t title_chars) {
  layout L;
  int entry_w, need;
  L.pc = np <= 3 ? (int)np : np == 4 ? 2 : np <= 9 ? 3 : 4;
  L.pr = (int)((np + (size_t)L.pc - 1) / (size_t)L.pc);
  L.pw = pw;
  L.ph = ph;
  L.ml = 90;
  L.mr = mr;
  L.mt = np > 1 ? 100 : 75;
  L.gx = 85;
  L.gy = np > 1 ? 95 : 0;
  L.W = L.ml + L.pc * L.pw + (L.pc - 1) * L.gx + L.mr;
  /* Wide enough for the title (≈ 9 px a character at 13 pt): wider panels. */
  need = (int)title_chars * 9 + 40;
  if (L.W < need) {
    L.pw += (need - L.W + L.pc - 1) / L.pc;
    L.W = L.ml + L.pc * L.pw + (L.pc - 1) * L.gx + L.mr;
  }
  /* A legend entry: the sample (≈ 45 px) and its text at ≈ 7.5 px a character. */
  entry_w = 60 + (int)longest * 15 / 2;
  L.key_cols = n_entries == 0 ? 0 : (int)MAX(1, MIN((int)n_entries, (L.W - 40) / entry_w));
  L.key_rows = n_entries == 0 ? 0 : (int)((n_entries + (size_t)L.key_cols - 1) / (size_t)L.key_cols);
  L.mb = 62 + (L.key_rows > 0 ? 22 + KEY_ROW * L.key_rows : 0);
  L.H = L.mt + L.pr * L.ph + (L.pr - 1) * L.gy + L.mb;
  return L;
}

static void emit_panel_margins(GString *g, const layout *L, size_t p) {
  int col = (int)p % L->pc, row = (int)p / L->pc;
  int left = L->ml + col * (L->pw + L->gx), top = L->mt + row * (L->ph + L->gy);
  g_string_append_printf(g, "set lmargin at screen %.5f; set rmargin at screen %.5f\n", (double)left / L->W,
                         (double)(left + L->pw) / L->W);
  g_string_append_printf(g, "set tmargin at screen %.5f; set bmargin at screen %.5f\n", 1.0 - (double)top / L->H,
                         1.0 - (double)(top + L->ph) / L->H);
}

/* The legend: a panel of its own across the bottom band (a key inside a
 * panel is as narrow as that panel, and one inside the data covers it).
 * `entries`: "NaN with ... title '...'" items, comma-separated. */
static void emit_key_panel(GString *g, const layout *L, const GString *entries) {
  if (entries->len == 0)
    return;
  g_string_append_printf(g,
                         "# the legend\n"
                         "set lmargin at screen %.5f; set rmargin at screen %.5f\n"
                         "set tmargin at screen %.5f; set bmargin at screen %.5f\n"
                         "unset border; unset tics; unset xlabel; unset ylabel; unset title; unset grid\n"
                         "unset logscale; unset colorbox; set xrange [0:1]; set yrange [0:1]\n"
                         "set key inside center center horizontal reverse Left maxcols %d maxrows %d\n"
                         "plot %s\n",
                         10.0 / L->W, 1.0 - 10.0 / L->W, (double)(L->key_rows * KEY_ROW + 18) / L->H, 2.0 / L->H,
                         L->key_cols, L->key_rows, entries->str);
}

static void emit_header(GString *g, const ctx *c, const char *name, const layout *L) {
  char *out = g_build_filename(c->plotdir, name, NULL);
  char *common = g_build_filename(c->scripts, "common.gpi", NULL);
  g_string_append_printf(g, "# %s.gp: written by `dhtsim plot`; the data is inline. Redraw by hand with\n", name);
  g_string_append(g, "#   gnuplot -e \"term='pdf'\" THIS.gp   (term: png, svg or pdf; out: the file)\n");
  g_string_append(g, "if (!exists(\"term\")) term = 'png'\nif (!exists(\"out\")) out = ");
  gp_sq(g, out);
  g_string_append(g, ".'.'.term\n");
  g_string_append_printf(g, "W = %d; H = %d\nload ", L->W, L->H);
  gp_sq(g, common);
  g_string_append(g, "\n");
  g_free(out);
  g_free(common);
}

/* The second title line: where the numbers come from and what the bars are. */
static char *subtitle(const ctx *c, const plan *pl, const char *what) {
  GString *g = g_string_new(NULL);
  g_string_append_printf(g, "scenario %s, seed %s; %s", c->scenario, c->seed, what);
  if (pl->fixed->len)
    g_string_append_printf(g, "; %s", pl->fixed->str);
  return g_string_free(g, FALSE);
}

static void emit_title(GString *g, const char *title, const char *sub) {
  char *t = g_strdup_printf("%s\n%s", title, sub);
  g_string_append(g, "set multiplot title ");
  gp_dq(g, t);
  g_string_append(g, " font ',13'\n");
  g_free(t);
}

/* `set WHAT 'TEXT'`: titles and axis labels. */
static void emit_set(GString *g, const char *what, const char *text) {
  g_string_append_printf(g, "set %s ", what);
  gp_sq(g, text);
  g_string_append_c(g, '\n');
}

/* Panel p's margins, and its title when there are several: the values of its
 * panel keys, with its lookup count when `lookups` is not 0. */
static void emit_panel_head(GString *g, const layout *L, const plan *pl, size_t p, size_t lookups) {
  emit_panel_margins(g, L, p);
  if (pl->np > 1) {
    char *pt = combo_label(pl, pl->n_series_keys, pl->n_keys, p);
    char *t = lookups ? g_strdup_printf("%s (%zu lookups)", pt, lookups) : g_strdup(pt);
    emit_set(g, "title", t);
    g_free(t);
    g_free(pt);
  }
}

/* A figure's doc line as a title: capitalised, without its parenthesised
 * details (they are for the reference table, too long for a title). */
static char *capitalised(const char *s) {
  const char *paren = strstr(s, " (");
  char *t = paren != NULL ? g_strndup(s, (size_t)(paren - s)) : g_strdup(s);
  t[0] = g_ascii_toupper(t[0]);
  return t;
}

static double num(const char *s) {
  return s[0] ? g_ascii_strtod(s, NULL) : NAN;
}

/* Tics 1, 2, 5, 10, 20, ... on a log axis: a decade alone is too coarse to read values off. */
static const char log_tics[] =
    "set format x '%g'; set xtics 1e-3, 10; set for [e_=-3:9] xtics add (2 * 10.0**e_, 5 * 10.0**e_)\n"
    "set mxtics 10\n";

/* x axis of a line plot: log for positive numbers spanning 100× or more,
 * tics at the values themselves when there are few. Returns true if log. */
static bool emit_x_axis(GString *g, const plan *pl) {
  const GPtrArray *v = pl->x.vals;
  bool text = sim_param_is_text((sim_param_id)pl->x.id);
  double lo = text ? 0 : num(g_ptr_array_index(v, 0)), hi = text ? 0 : num(g_ptr_array_index(v, v->len - 1));
  /* N always: the lookup's cost is expected to grow with log N. */
  bool logx = !text && lo > 0 && (hi / lo >= 100 || pl->x.id == SIM_P_NETWORK_NODES);
  char *xl = axis_label(pl->x.id);
  if (logx) {
    char *t = g_strconcat(xl, ", log scale", NULL);
    g_free(xl);
    xl = t;
  }
  emit_set(g, "xlabel", xl);
  if (text) {
    g_string_append_printf(g, "set xrange [-0.5:%u.5]\nset xtics (", v->len - 1);
    for (guint i = 0; i < v->len; i++) {
      g_string_append(g, i ? ", " : "");
      gp_sq(g, g_ptr_array_index(v, i));
      g_string_append_printf(g, " %u", i);
    }
    g_string_append(g, ")\n");
  } else {
    if (logx)
      g_string_append_printf(g, "set logscale x\nset xrange [%.6g:%.6g]\n", lo / 1.5, hi * 1.5);
    else
      g_string_append_printf(g, "set xrange [%.6g:%.6g]\n", lo - 0.08 * (hi - lo), hi + 0.08 * (hi - lo));
    if (v->len > 12 && logx)
      g_string_append(g, log_tics);
    if (v->len <= 12) {
      g_string_append(g, "set xtics (");
      for (guint i = 0; i < v->len; i++)
        g_string_append_printf(g, "%s'%s' %s", i ? ", " : "", (const char *)g_ptr_array_index(v, i),
                               (const char *)g_ptr_array_index(v, i));
      g_string_append(g, ")\n");
    }
  }
  g_free(xl);
  return logx;
}

/* One curve of a panel: its data block into the plot command g (none when
 * the panel lacks that series), its legend entry into keys (label NULL: no
 * entry). The legend has entries of its own so that every series is named
 * even where the first panel lacks it. */
static void emit_curve(GString *g, GString *keys, bool *first, int block, const char *using, const char *with,
                       unsigned lt, unsigned dt, const char *key_with, const char *label) {
  if (block >= 0) {
    g_string_append_printf(g, "%s$D index %d using %s with %s lt %u dt %u notitle", *first ? "" : ", \\\n  ", block,
                           using, with, lt, dt);
    *first = false;
  }
  if (label != NULL) {
    g_string_append_printf(keys, "%sNaN with %s lt %u dt %u title ", keys->len ? ", \\\n  " : "", key_with, lt, dt);
    gp_sq(keys, label);
  }
}

/* Least squares y = a + b·log2(x) over the points with x > 0. */
static bool fit_log2(const double *x, const double *y, size_t n, double *a, double *b) {
  double sx = 0, sy = 0, sxx = 0, sxy = 0, d;
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    double lx;
    if (!(x[i] > 0) || isnan(y[i]))
      continue;
    lx = log2(x[i]);
    sx += lx;
    sy += y[i];
    sxx += lx * lx;
    sxy += lx * y[i];
    m++;
  }
  d = (double)m * sxx - sx * sx;
  if (m < 2 || fabs(d) < 1e-12)
    return false;
  *b = ((double)m * sxy - sx * sy) / d;
  *a = (sy - *b * sx) / (double)m;
  return true;
}

/* ---- the four kinds; each fills g with the script body after the header ---- */

static plan_rc script_line(const ctx *c, const request *rq, const plan *pl, GString *g) {
  const sim_figure *fig = figure_find(rq->y);
  int ycol = table_col(&c->sum, rq->y), cicol;
  char *cicn = g_strdup_printf("%s_ci95", rq->y);
  bool text_x = sim_param_is_text((sim_param_id)pl->x.id), any_ci = false, any_y = false, all_pos = true;
  size_t longest = 0;
  GString *data = g_string_new("$D << EOD\n"), *keys = g_string_new(NULL);
  int *block = g_new(int, pl->np * pl->ns);
  double *fa = g_new0(double, pl->ns), *fb = g_new0(double, pl->ns);
  bool *fok = g_new0(bool, pl->ns);
  int nblocks = 0;
  char **labels = g_new0(char *, pl->ns);
  layout L;
  char *sub, *title;

  cicol = table_col(&c->sum, cicn);
  g_free(cicn);
  /* Error bars side by side around each x, so that they do not hide each other. */
  for (guint r = 0; r < pl->rows->len; r++) {
    const char *ci = cell(g_ptr_array_index(pl->rows, r), cicol), *y = cell(g_ptr_array_index(pl->rows, r), ycol);
    any_ci |= ci[0] != '\0';
    any_y |= y[0] != '\0';
    all_pos &= !(num(y) < 0);
  }
  if (!any_y) {
    g_free(block); g_free(fa); g_free(fb); g_free(fok); g_free(labels);
    g_string_free(data, TRUE);
    if (rq->preset) {
      fprintf(stderr, "dhtsim: plot: %s: skipped: %s is empty in every point%s\n", rq->name, rq->y,
              fig->presence == SIM_PRESENT_PLANTED ? " (no planted peers)" : "");
      return PLAN_SKIP;
    }
    request_error("--y %s is empty in every selected point%s", rq->y,
                  fig->presence == SIM_PRESENT_PLANTED ? " (it needs workload.planted_peers > 0)" : "");
    return PLAN_ERROR;
  }
  for (size_t p = 0; p < pl->np; p++) {
    for (size_t s = 0; s < pl->ns; s++) {
      double xs[4096], ys[4096];
      size_t n = 0;
      block[p * pl->ns + s] = -1;
      for (guint i = 0; i < pl->x.vals->len; i++) {
        for (guint r = 0; r < pl->rows->len; r++) {
          GPtrArray *row = g_ptr_array_index(pl->rows, r);
          const char *xv = cell(row, pl->x.col), *yv = cell(row, ycol), *cv = cell(row, cicol);
          double xp, lo, step;
          if (pl->series_of[r] != s || pl->panel_of[r] != p || !same_value(pl->x.id, xv, g_ptr_array_index(pl->x.vals, i)))
            continue;
          if (yv[0] == '\0')
            continue;
          if (n == 0)
            g_string_append_printf(data, "# %s\n", labels[s] ? labels[s] : "");
          xp = text_x ? (double)i : num(xv);
          if (n < 4096) {
            xs[n] = xp;
            ys[n] = num(yv);
          }
          if (any_ci && pl->ns > 1) {
            double off = 0.08 * ((double)s / (double)(pl->ns - 1) - 0.5);
            lo = text_x ? 1.0 : num(g_ptr_array_index(pl->x.vals, 0));
            step = text_x ? 1.0
                          : (num(g_ptr_array_index(pl->x.vals, pl->x.vals->len - 1)) - lo) / (double)(pl->x.vals->len - 1);
            if (!text_x && lo > 0 && num(g_ptr_array_index(pl->x.vals, pl->x.vals->len - 1)) / lo >= 100)
              xp *= pow(num(g_ptr_array_index(pl->x.vals, pl->x.vals->len - 1)) / lo,
                        off / (double)(pl->x.vals->len - 1));
            else
              xp += off * step;
          }
          g_string_append_printf(data, "%.10g %s %s\n", xp, yv, cv[0] ? cv : "0");
          n++;
        }
      }
      if (n > 0) {
        g_string_append(data, "\n\n");
        block[p * pl->ns + s] = nblocks++;
        if (rq->fit && !fok[s])
          fok[s] = fit_log2(xs, ys, MIN(n, (size_t)4096), &fa[s], &fb[s]);
      }
    }
  }
  g_string_append(data, "EOD\n");
  for (size_t s = 0; s < pl->ns; s++) {
    char *base = pl->n_series_keys ? combo_label(pl, 0, pl->n_series_keys, s) : g_strdup(rq->y);
    if (rq->fit && fok[s])
      labels[s] = g_strdup_printf("%s: fit a = %.3g, b = %.3g", base, fa[s], fb[s]);
    else
      labels[s] = g_strdup(base);
    g_free(base);
    longest = MAX(longest, (size_t)g_utf8_strlen(labels[s], -1));
  }
  {
    char *doc = capitalised(fig->doc), *what;
    title = g_strdup_printf("%s, vs %s", doc, key_sym(pl->x.id) ? key_sym(pl->x.id) : sim_params[pl->x.id].key);
    what = any_ci ? g_strdup_printf("mean ± 95 %% CI (bars) of %u replicas", c->replicas)
           : c->replicas == 1 ? g_strdup("1 replica per point: no CI")
                              : g_strdup_printf("mean of %u replicas", c->replicas);
    sub = subtitle(c, pl, what);
    g_free(what);
    g_free(doc);
  }
  L = make_layout(pl->np, pl->np == 1 ? 700 : 360, pl->np == 1 ? 420 : 250, pl->ns > 1 || rq->fit ? pl->ns + (rq->fit ? 1 : 0) : 0, longest, 40,
                  (size_t)MAX(g_utf8_strlen(title, -1), g_utf8_strlen(sub, -1)));
  emit_header(g, c, rq->name, &L);
  g_string_append(g, data->str);
  emit_title(g, title, sub);
  emit_x_axis(g, pl);
  {
    char *yl = figure_label(fig);
    emit_set(g, "ylabel", yl);
    g_free(yl);
  }
  if (strcmp(fig->unit, "fraction") == 0)
    g_string_append(g, "set yrange [0:1.02]\n");
  else if (all_pos)
    g_string_append(g, "set yrange [0:*]\n");
  g_string_append(g, "set bars 1.5\n");
  for (size_t p = 0; p < pl->np; p++) {
    bool first = true;
    emit_panel_head(g, &L, pl, p, 0);
    g_string_append(g, "unset key\nplot ");
    for (size_t s = 0; s < pl->ns; s++) {
      unsigned lt, dt;
      int b = block[p * pl->ns + s];
      series_style(pl, s, &lt, &dt);
      emit_curve(g, keys, &first, b, "1:2:3", any_ci ? "yerrorlines" : "linespoints", lt, dt, "linespoints",
                 p == 0 && (pl->ns > 1 || rq->fit) ? labels[s] : NULL);
      if (rq->fit && fok[s]) {
        g_string_append_printf(g, "%s%.10g + %.10g * log(x) / log(2) with lines lt %u dt 3 lw 1.2 notitle",
                               first ? "" : ", \\\n  ", fa[s], fb[s], lt);
        first = false;
      }
    }
    if (p == 0 && rq->fit) {
      char *ft = g_strdup_printf("dotted: least-squares fit a + b·log₂ %s", key_sym(pl->x.id) ? key_sym(pl->x.id) : "x");
      g_string_append(keys, ", \\\n  NaN with lines lc rgb '#555555' dt 3 lw 1.2 title ");
      gp_sq(keys, ft);
      g_free(ft);
    }
    g_string_append(g, first ? "NaN notitle\n" : "\n");
  }
  emit_key_panel(g, &L, keys);
  g_string_append(g, "unset multiplot\n");
  g_string_free(keys, TRUE);
  for (size_t s = 0; s < pl->ns; s++)
    g_free(labels[s]);
  g_free(labels);
  g_free(title);
  g_free(sub);
  g_free(block);
  g_free(fa);
  g_free(fb);
  g_free(fok);
  g_string_free(data, TRUE);
  return PLAN_OK;
}

/* A cell label: as many decimals as a value of that size deserves; `scale`
 * is the value whose size decides (the mean, also for its CI). */
static void fmt_cell(char *buf, size_t n, double v, double scale) {
  if (fabs(scale) >= 100)
    snprintf(buf, n, "%.0f", v);
  else if (fabs(scale) >= 10)
    snprintf(buf, n, "%.1f", v);
  else
    snprintf(buf, n, "%.2f", v);
}

static plan_rc script_heatmap(const ctx *c, const request *rq, const plan *pl, GString *g) {
  const sim_figure *fig = figure_find(rq->y);
  char *cicn = g_strdup_printf("%s_ci95", rq->y);
  int ycol = table_col(&c->sum, rq->y), cicol = table_col(&c->sum, cicn);
  guint nx = pl->x.vals->len, ny = pl->rowkey.vals->len;
  double vmin = INFINITY, vmax = -INFINITY;
  bool any_ci = false, show_ci;
  size_t chars = 1;
  int cw, chh, font, pw, ph;
  layout L;
  GString *data = g_string_new("$D << EOD\n");
  char *title, *sub, *what, *xl, *yl, *doc;

  g_free(cicn);
  for (guint r = 0; r < pl->rows->len; r++) {
    GPtrArray *row = g_ptr_array_index(pl->rows, r);
    const char *v = cell(row, ycol);
    char buf[64];
    if (v[0] == '\0')
      continue;
    vmin = MIN(vmin, num(v));
    vmax = MAX(vmax, num(v));
    any_ci |= cell(row, cicol)[0] != '\0';
    fmt_cell(buf, sizeof buf, num(v), num(v));
    chars = MAX(chars, strlen(buf));
    if (cell(row, cicol)[0]) {
      fmt_cell(buf, sizeof buf, num(cell(row, cicol)), num(v));
      chars = MAX(chars, strlen(buf) + 1);
    }
  }
  if (!(vmin <= vmax)) {
    g_string_free(data, TRUE);
    if (rq->preset) {
      fprintf(stderr, "dhtsim: plot: %s: skipped: %s is empty in every point\n", rq->name, rq->y);
      return PLAN_SKIP;
    }
    request_error("--y %s is empty in every selected point", rq->y);
    return PLAN_ERROR;
  }
  if (vmax <= vmin) {
    vmax = vmin + (vmin == 0 ? 1 : fabs(vmin) * 0.05);
    vmin -= vmin == 0 ? 0 : fabs(vmin) * 0.05;
  }
  /* Cells wide enough for their labels at a readable size: the label's font
   * follows the cell (≈ 0.62 em a digit), never the other way round. */
  pw = pl->np == 1 ? MAX(560, (int)nx * 70) : MAX(300, (int)nx * 48);
  ph = pl->np == 1 ? MAX(380, (int)ny * 60) : MAX(220, (int)ny * 44);
  cw = pw / (int)nx;
  chh = ph / (int)ny;
  font = (int)MIN(12.0, MIN((double)cw / (0.62 * (double)chars + 0.8), (double)chh / 2.6));
  show_ci = any_ci && font >= 7;
  if (!show_ci)
    font = (int)MIN(12.0, MIN((double)cw / (0.62 * (double)chars + 0.8), (double)chh / 1.6));
  font = MAX(font, 6);
  for (size_t p = 0; p < pl->np; p++) {
    for (guint r = 0; r < pl->rows->len; r++) {
      GPtrArray *row = g_ptr_array_index(pl->rows, r);
      const char *v = cell(row, ycol), *ci = cell(row, cicol);
      char vb[64], cb[64];
      if (pl->panel_of[r] != p || v[0] == '\0')
        continue;
      fmt_cell(vb, sizeof vb, num(v), num(v));
      if (ci[0]) {
        char t[60];
        fmt_cell(t, sizeof t, num(ci), num(v));
        snprintf(cb, sizeof cb, "±%s", t);
      } else {
        snprintf(cb, sizeof cb, "-");
      }
      /* Text colour: white on the dark end of the palette, black on the light end. */
      g_string_append_printf(data, "%u %u %s \"%s\" \"%s\" %d\n", value_index(&pl->x, cell(row, pl->x.col)),
                             value_index(&pl->rowkey, cell(row, pl->rowkey.col)), v, vb, cb,
                             (num(v) - vmin) / (vmax - vmin) < 0.55 ? 0xffffff : 0);
    }
    g_string_append(data, "\n\n");
  }
  g_string_append(data, "EOD\n");
  doc = capitalised(fig->doc);
  title = g_strdup_printf("%s, over %s × %s", doc, key_sym(pl->x.id) ? key_sym(pl->x.id) : sim_params[pl->x.id].key,
                          key_sym(pl->rowkey.id) ? key_sym(pl->rowkey.id) : sim_params[pl->rowkey.id].key);
  what = show_ci ? g_strdup_printf("%u replicas per point; cells: mean and ± 95 %% CI half-width", c->replicas)
         : c->replicas == 1 ? g_strdup("1 replica per point; cells: its value")
                            : g_strdup_printf("%u replicas per point; cells: mean (CI not shown)", c->replicas);
  sub = subtitle(c, pl, what);
  L = make_layout(pl->np, pw, ph, 0, 0, 150, (size_t)MAX(g_utf8_strlen(title, -1), g_utf8_strlen(sub, -1)));
  emit_header(g, c, rq->name, &L);
  g_string_append(g, data->str);
  emit_title(g, title, sub);
  g_string_append(g, "load ");
  {
    char *hm = g_build_filename(c->scripts, "heatmap.gpi", NULL);
    gp_sq(g, hm);
    g_free(hm);
  }
  g_string_append_printf(g, "\nset cbrange [%.10g:%.10g]\n", vmin, vmax);
  {
    char *cb = figure_label(fig);
    emit_set(g, "cblabel", cb);
    g_free(cb);
  }
  g_string_append_printf(g, "set xrange [-0.5:%u.5]\nset yrange [-0.5:%u.5]\nset xtics (", nx - 1, ny - 1);
  for (guint i = 0; i < nx; i++) {
    g_string_append(g, i ? ", " : "");
    gp_sq(g, g_ptr_array_index(pl->x.vals, i));
    g_string_append_printf(g, " %u", i);
  }
  g_string_append(g, ")\nset ytics (");
  for (guint i = 0; i < ny; i++) {
    g_string_append(g, i ? ", " : "");
    gp_sq(g, g_ptr_array_index(pl->rowkey.vals, i));
    g_string_append_printf(g, " %u", i);
  }
  g_string_append(g, ")\n");
  xl = axis_label(pl->x.id);
  yl = axis_label(pl->rowkey.id);
  for (size_t p = 0; p < pl->np; p++) {
    emit_panel_head(g, &L, pl, p, 0);
    g_string_append(g, (int)p % L.pc == 0 ? "set ylabel " : "unset ylabel #");
    gp_sq(g, yl);
    g_string_append(g, (int)p + L.pc >= (int)pl->np ? "\nset xlabel " : "\nunset xlabel #");
    gp_sq(g, xl);
    g_string_append(g, "\n");
    if (p + 1 == pl->np)
      g_string_append_printf(g,
                             "set colorbox user origin screen %.5f, screen %.5f size screen %.5f, screen %.5f\n",
                             1.0 - (double)(L.mr - 30) / L.W, (double)L.mb / L.H, 22.0 / L.W,
                             1.0 - (double)(L.mt + L.mb) / L.H);
    else
      g_string_append(g, "unset colorbox\n");
    g_string_append_printf(g,
                           "plot $D index %zu using 1:2:(0.502):(0.502):3 with boxxyerror fc palette, \\\n"
                           "  '' index %zu using 1:($2 + %.2f):(stringcolumn(4)):6 with labels tc rgb variable "
                           "font ',%d'",
                           p, p, show_ci ? 0.13 : 0.0, font);
    if (show_ci)
      g_string_append_printf(g,
                             ", \\\n  '' index %zu using 1:($2 - 0.17):(stringcolumn(5)):6 with labels tc rgb "
                             "variable font ',%d'",
                             p, MAX(6, font - 2));
    g_string_append(g, "\n");
  }
  g_string_append(g, "unset multiplot\n");
  g_free(xl);
  g_free(yl);
  g_free(doc);
  g_free(title);
  g_free(what);
  g_free(sub);
  g_string_free(data, TRUE);
  return PLAN_OK;
}

/* The values of one lookups.csv column per (panel, series), through each
 * lookup's point (its row in summary.csv). */
static plan_rc read_lookup_values(const ctx *c, const request *rq, const plan *pl, GArray **vals) {
  char *path = g_build_filename(c->outdir, "lookups.csv", NULL);
  FILE *f = fopen(path, "r");
  char *line = NULL;
  size_t cap = 0;
  int pcol = -1, vcol = -1;
  GHashTable *where_of = g_hash_table_new(g_direct_hash, g_direct_equal);
  GPtrArray *fields = g_ptr_array_new_with_free_func(g_free);
  plan_rc rc = PLAN_OK;

  for (guint r = 0; r < pl->rows->len; r++) {
    unsigned long point = strtoul(cell(g_ptr_array_index(pl->rows, r), c->point_col), NULL, 10);
    g_hash_table_insert(where_of, GSIZE_TO_POINTER(point + 1),
                        GSIZE_TO_POINTER((size_t)pl->panel_of[r] * pl->ns + pl->series_of[r] + 1));
  }
  if (f == NULL || getline(&line, &cap, f) < 0) {
    fprintf(stderr, "dhtsim: plot: %s: %s\n", path, f == NULL ? strerror(errno) : "empty file, expected a CSV header");
    rc = PLAN_ERROR;
  } else {
    static const char *const not_values[] = {"point", "replica", "id", "start_node", "target", "start_ms"};
    csv_split(line, fields);
    for (guint i = 0; i < fields->len; i++) {
      if (strcmp(g_ptr_array_index(fields, i), "point") == 0)
        pcol = (int)i;
      if (strcmp(g_ptr_array_index(fields, i), rq->y) == 0)
        vcol = (int)i;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(not_values); i++)
      if (strcmp(rq->y, not_values[i]) == 0)
        vcol = -1;
    if (strchr(rq->y, '.') != NULL)
      vcol = -1;
    if (pcol < 0) {
      fprintf(stderr, "dhtsim: plot: %s: no column \"point\": not the format of docs/output-format.md\n", path);
      rc = PLAN_ERROR;
    } else if (vcol < 0) {
      GString *g = g_string_new(NULL);
      for (guint i = 0; i < fields->len; i++) {
        const char *h = g_ptr_array_index(fields, i);
        bool skip = strchr(h, '.') != NULL;
        for (size_t j = 0; j < G_N_ELEMENTS(not_values); j++)
          skip |= strcmp(h, not_values[j]) == 0;
        if (!skip)
          g_string_append_printf(g, "%s%s", g->len ? ", " : "", h);
      }
      request_error("--y %s: --kind %s draws a per-lookup column of lookups.csv: one of %s", rq->y,
                    kind_names[rq->kind], g->str);
      g_string_free(g, TRUE);
      rc = PLAN_ERROR;
    }
  }
  while (rc == PLAN_OK && getline(&line, &cap, f) >= 0) {
    const char *v;
    gpointer at;
    g_ptr_array_set_size(fields, 0);
    if (line[0] == '\n')
      continue;
    csv_split(line, fields);
    at = g_hash_table_lookup(where_of, GSIZE_TO_POINTER(strtoul(cell(fields, pcol), NULL, 10) + 1));
    v = cell(fields, vcol);
    if (at == NULL || v[0] == '\0')
      continue;
    {
      double d = num(v);
      g_array_append_val(vals[GPOINTER_TO_SIZE(at) - 1], d);
    }
  }
  if (f != NULL)
    fclose(f);
  free(line);
  g_ptr_array_unref(fields);
  g_hash_table_unref(where_of);
  g_free(path);
  return rc;
}

static gint cmp_double(gconstpointer a, gconstpointer b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y ? 1 : 0;
}

/* cdf and histogram: the distribution of a per-lookup column. */
static plan_rc script_dist(const ctx *c, const request *rq, const plan *pl, GString *g) {
  size_t nb = pl->np * pl->ns, longest = 0, total = 0;
  GArray **vals = g_new0(GArray *, nb);
  GString *data = g_string_new("$D << EOD\n"), *keys = g_string_new(NULL);
  int *block = g_new(int, nb);
  int nblocks = 0;
  double lo = INFINITY, hi = -INFINITY, width = 1, ymax = 0;
  bool integer = true, logx = false, hist = rq->kind == KIND_HIST;
  const char *unit = column_unit(rq->y);
  char **labels = g_new0(char *, pl->ns);
  char *xl, *title, *sub, *what;
  size_t bins = 0;
  plan_rc rc;
  layout L;

  for (size_t i = 0; i < nb; i++)
    vals[i] = g_array_new(FALSE, FALSE, sizeof(double));
  rc = read_lookup_values(c, rq, pl, vals);
  for (size_t i = 0; i < nb && rc == PLAN_OK; i++) {
    g_array_sort(vals[i], cmp_double);
    total += vals[i]->len;
    for (guint j = 0; j < vals[i]->len; j++) {
      double v = g_array_index(vals[i], double, j);
      lo = MIN(lo, v);
      hi = MAX(hi, v);
      integer &= v == floor(v);
    }
  }
  if (rc == PLAN_OK && total == 0) {
    if (rq->preset)
      fprintf(stderr, "dhtsim: plot: %s: skipped: lookups.csv has no %s values\n", rq->name, rq->y);
    else
      request_error("--y %s: lookups.csv has no values of it in the selected points", rq->y);
    rc = rq->preset ? PLAN_SKIP : PLAN_ERROR;
  }
  if (rc != PLAN_OK)
    goto done;
  if (hist) {
    /* One bin per whole number while there are few; else about 30 bins. */
    if (integer && hi - lo <= 50) {
      width = 1;
    } else {
      double raw = (hi - lo) / 30.0, mag = pow(10, floor(log10(raw > 0 ? raw : 1)));
      width = raw <= mag ? mag : raw <= 2 * mag ? 2 * mag : raw <= 5 * mag ? 5 * mag : 10 * mag;
      if (integer)
        width = MAX(1.0, ceil(width));
    }
    lo = integer && width == 1 ? lo : floor(lo / width) * width;
    bins = (size_t)floor((hi - lo) / width) + 1;
  } else {
    logx = lo > 0 && hi / lo > 20;
  }
  for (size_t p = 0; p < pl->np; p++) {
    for (size_t s = 0; s < pl->ns; s++) {
      GArray *v = vals[p * pl->ns + s];
      guint n = v->len;
      block[p * pl->ns + s] = -1;
      if (n == 0)
        continue;
      block[p * pl->ns + s] = nblocks++;
      if (hist) {
        size_t *count = g_new0(size_t, bins);
        for (guint j = 0; j < n; j++) {
          size_t b = (size_t)floor((g_array_index(v, double, j) - lo) / width);
          count[MIN(b, bins - 1)]++;
        }
        double centre = width == 1 && integer ? 0 : 0.5;
        /* Overlaid outlines (histeps) close on empty bins at both ends. */
        if (pl->ns > 1)
          g_string_append_printf(data, "%.10g 0\n", lo + (centre - 1) * width);
        for (size_t b = 0; b < bins; b++) {
          double fr = (double)count[b] / n;
          ymax = MAX(ymax, fr);
          g_string_append_printf(data, "%.10g %.6f\n", lo + ((double)b + centre) * width, fr);
        }
        if (pl->ns > 1)
          g_string_append_printf(data, "%.10g 0\n", lo + ((double)bins + centre) * width);
        g_free(count);
      } else {
        /* The steps of the empirical CDF at its distinct values; at most
         * about 2000 of them (evenly by rank), which no picture resolves. */
        guint stride = n > 2000 ? (n + 1999) / 2000 : 1;
        g_string_append_printf(data, "%.10g 0\n", g_array_index(v, double, 0));
        for (guint j = 0; j < n; j++) {
          bool last_of_value = j + 1 == n || g_array_index(v, double, j + 1) != g_array_index(v, double, j);
          if (last_of_value && (j % stride == 0 || j + 1 == n || stride == 1))
            g_string_append_printf(data, "%.10g %.6f\n", g_array_index(v, double, j), (double)(j + 1) / n);
        }
      }
      g_string_append(data, "\n\n");
    }
  }
  g_string_append(data, "EOD\n");
  for (size_t s = 0; s < pl->ns; s++) {
    size_t n = 0;
    char *base = pl->n_series_keys ? combo_label(pl, 0, pl->n_series_keys, s) : g_strdup("all lookups");
    for (size_t p = 0; p < pl->np; p++)
      n += vals[p * pl->ns + s]->len;
    labels[s] = pl->np == 1 ? g_strdup_printf("%s (%zu lookups)", base, n) : g_strdup(base);
    g_free(base);
    longest = MAX(longest, (size_t)g_utf8_strlen(labels[s], -1));
  }
  title = hist ? g_strdup_printf("Distribution of %s per lookup", rq->y)
               : g_strdup_printf("Empirical CDF of %s per lookup", rq->y);
  what = g_strdup_printf("%zu lookups of %u replica%s per point", total, c->replicas, c->replicas == 1 ? "" : "s");
  sub = subtitle(c, pl, what);
  L = make_layout(pl->np, pl->np == 1 ? 700 : 340, pl->np == 1 ? 420 : 230, pl->ns > 1 ? pl->ns : 0, longest, 40,
                  (size_t)MAX(g_utf8_strlen(title, -1), g_utf8_strlen(sub, -1)));
  emit_header(g, c, rq->name, &L);
  g_string_append(g, data->str);
  emit_title(g, title, sub);
  /* "rounds per lookup", not "rounds per lookup (rounds)". */
  xl = unit[0] && strcmp(unit, rq->y) != 0 ? g_strdup_printf("%s per lookup (%s%s)", rq->y, unit, logx ? ", log scale" : "")
               : g_strdup_printf("%s per lookup%s", rq->y, logx ? " (log scale)" : "");
  emit_set(g, "xlabel", xl);
  emit_set(g, "ylabel", hist ? "fraction of lookups" : "fraction of lookups ≤ x");
  if (hist) {
    g_string_append_printf(g, "set xrange [%.10g:%.10g]\nset yrange [0:%.6f]\nset boxwidth %.10g absolute\n",
                           lo - width, lo + (double)bins * width + (integer && width == 1 ? 0 : width), ymax * 1.08,
                           width * 0.9);
    g_string_append(g, "set style fill solid 0.8 border lc rgb '#333333'\nset grid noxtics ytics\n");
  } else {
    if (logx)
      g_string_append_printf(g, "set logscale x\nset xrange [%.10g:%.10g]\n%s", lo / 1.2, hi * 1.2, log_tics);
    else
      g_string_append_printf(g, "set xrange [%.10g:%.10g]\n", MIN(0.0, lo), hi > 0 ? hi * 1.05 : 1);
    g_string_append(g, "set yrange [0:1.02]\nset ytics 0.1\n");
  }
  for (size_t p = 0; p < pl->np; p++) {
    bool first = true;
    size_t in_panel = 0;
    for (size_t s = 0; s < pl->ns; s++)
      in_panel += vals[p * pl->ns + s]->len;
    emit_panel_head(g, &L, pl, p, in_panel);
    g_string_append(g, "unset key\nplot ");
    for (size_t s = 0; s < pl->ns; s++) {
      unsigned lt, dt;
      int b = block[p * pl->ns + s];
      series_style(pl, s, &lt, &dt);
      emit_curve(g, keys, &first, b, "1:2", !hist ? "steps" : pl->ns == 1 ? "boxes" : "histeps", lt, dt, "lines",
                 p == 0 && pl->ns > 1 ? labels[s] : NULL);
    }
    g_string_append(g, first ? "NaN notitle\n" : "\n");
  }
  emit_key_panel(g, &L, keys);
  g_string_append(g, "unset multiplot\n");
  g_free(xl);
  g_free(title);
  g_free(what);
  g_free(sub);
done:
  for (size_t i = 0; i < nb; i++)
    g_array_unref(vals[i]);
  for (size_t s = 0; s < pl->ns; s++)
    g_free(labels[s]);
  g_free(labels);
  g_free(vals);
  g_free(block);
  g_string_free(data, TRUE);
  g_string_free(keys, TRUE);
  return rc;
}

/* ---- lookup anatomy: one traced lookup of trace.jsonl ---- */

/* Which lookup of trace.jsonl; -1: the first line's. */
typedef struct anatomy_req {
  long long point, replica, lookup;
  char name[256];
  bool preset;
} anatomy_req;

/* The text of "key"'s value in one line of trace.jsonl (written by dhtsim
 * itself: flat, no spaces, names without quotes or commas), into buf. */
static bool jfield(const char *line, const char *key, char *buf, size_t n) {
  char pat[64];
  const char *p;
  size_t len;
  snprintf(pat, sizeof pat, "\"%s\":", key);
  p = strstr(line, pat);
  if (p == NULL)
    return false;
  p += strlen(pat);
  if (*p == '"')
    p++;
  len = strcspn(p, "\",}");
  if (len >= n)
    return false;
  memcpy(buf, p, len);
  buf[len] = '\0';
  return true;
}

static long long jint(const char *line, const char *key) {
  char b[64];
  return jfield(line, key, b, sizeof b) && strcmp(b, "null") != 0 ? strtoll(b, NULL, 10) : LLONG_MIN;
}

/* A query of the lookup: sent at t0 to a node at distance d (y: d spread
 * a little so that queries at one distance do not hide each other). */
enum { AQ_OPEN, AQ_ANSWERED, AQ_TIMEOUT, AQ_UNANSWERED };
typedef struct aquery {
  double t0, t1, y;
  long long node;
  int state;
} aquery;

static const char *const anatomy_block_titles[] = {
    "query answered", "query timed out", "no answer while the lookup ran", "late answer (not used)",
    "lost on the wire (request or answer dropped, dead node)", "decision on a node"};

static int script_anatomy(const ctx *c, const anatomy_req *rq, GString *g, char *name, size_t name_len) {
  char *path = g_build_filename(c->outdir, "trace.jsonl", NULL);
  FILE *f = fopen(path, "r");
  char *line = NULL, ev[32], dec[32];
  size_t cap = 0, n_lines = 0;
  long long point = rq->point, replica = rq->replica, lookup = rq->lookup;
  GArray *qs = g_array_new(FALSE, FALSE, sizeof(aquery));
  GString *blk[6], *keys = g_string_new(NULL), *vlines = g_string_new(NULL), *decs = g_string_new(NULL);
  GString *free_decs = g_string_new(NULL); /* decisions about no node: vertical lines */
  size_t count[6] = {0}, per_d[161] = {0};
  double t_done = -1, t_max = 0;
  long long dmin = 160, dmax = -1;
  int rc = EXIT_OK;

  for (size_t i = 0; i < 6; i++)
    blk[i] = g_string_new(NULL);
  if (f == NULL) {
    fprintf(stderr,
            "dhtsim: plot: %s: %s: the lookup anatomy needs a trace (dhtsim run SCENARIO --out %s --trace IDS)\n",
            path, strerror(errno), c->outdir);
    rc = EXIT_USAGE;
    goto out;
  }
  while (getline(&line, &cap, f) >= 0) {
    long long lp = jint(line, "point"), lr = jint(line, "replica"), ll = jint(line, "lookup");
    if (lp == LLONG_MIN || lr == LLONG_MIN || ll == LLONG_MIN || !jfield(line, "event", ev, sizeof ev)) {
      fprintf(stderr, "dhtsim: plot: %s:%zu: not a trace line of docs/output-format.md\n", path, n_lines + 1);
      rc = EXIT_USAGE;
      goto out;
    }
    n_lines++;
    /* What --point, --replica and --lookup leave open: the first line that
     * has what they give. */
    if ((point >= 0 && lp != point) || (replica >= 0 && lr != replica) || (lookup >= 0 && ll != lookup))
      continue;
    point = lp;
    replica = lr;
    lookup = ll;
    char tb[64];
    double t = jfield(line, "t_ms", tb, sizeof tb) ? g_ascii_strtod(tb, NULL) : 0;
    long long node = jint(line, "node"), d = jint(line, "log2_distance");
    t_max = MAX(t_max, t);
    /* 0..159 in our lines (-1: distance 0, drawn at 0); anything else a
     * hand-edited file: clamped, never an index out of range. */
    d = d == LLONG_MIN || d < 0 ? 0 : MIN(d, 159);
    if (node != LLONG_MIN) {
      dmin = MIN(dmin, d);
      dmax = MAX(dmax, d);
    }
    if (strcmp(ev, "query") == 0) {
      aquery q = {.t0 = t, .t1 = t, .node = node, .state = AQ_OPEN};
      size_t k = per_d[d]++;
      q.y = (double)d + 0.1 * (double)((int)(k % 7) - 3);
      g_array_append_val(qs, q);
    } else if (strcmp(ev, "answer") == 0 || strcmp(ev, "timeout") == 0 ||
               (strcmp(ev, "decision") == 0 && jfield(line, "decision", dec, sizeof dec) &&
                (strcmp(dec, "abandon") == 0 || strcmp(dec, "cancel") == 0))) {
      /* Closes the oldest open query to that node (answers are matched by address). */
      for (guint i = 0; i < qs->len; i++) {
        aquery *q = &g_array_index(qs, aquery, i);
        if (q->state == AQ_OPEN && q->node == node) {
          q->t1 = t;
          q->state = ev[0] == 'a' ? AQ_ANSWERED : ev[0] == 't' ? AQ_TIMEOUT : AQ_UNANSWERED;
          break;
        }
      }
      if (ev[0] == 'd') {
        g_string_append_printf(blk[5], "%.3f %lld\n", t, d);
        count[5]++;
        if (strstr(decs->str, dec) == NULL)
          g_string_append_printf(decs, "%s%s", decs->len ? ", " : "", dec);
      }
    } else if (strcmp(ev, "late") == 0) {
      g_string_append_printf(blk[3], "%.3f %lld\n", t, d);
      count[3]++;
    } else if (strcmp(ev, "failed") == 0) {
      g_string_append_printf(blk[4], "%.3f %lld\n", t, d);
      count[4]++;
    } else if (strcmp(ev, "decision") == 0 && jfield(line, "decision", dec, sizeof dec)) {
      if (strcmp(dec, "done") == 0) {
        t_done = t;
      } else if (node != LLONG_MIN) {
        g_string_append_printf(blk[5], "%.3f %lld\n", t, d);
        count[5]++;
        if (strstr(decs->str, dec) == NULL)
          g_string_append_printf(decs, "%s%s", decs->len ? ", " : "", dec);
      } else {
        g_string_append_printf(vlines, "set arrow from %.3f, graph 0 to %.3f, graph 1 nohead lc rgb '#999999' dt 3\n",
                               t, t);
        if (strstr(free_decs->str, dec) == NULL)
          g_string_append_printf(free_decs, "%s%s", free_decs->len ? ", " : "", dec);
      }
    }
  }
  if (n_lines == 0) {
    fprintf(stderr, "dhtsim: plot: %s: empty: no lookup was traced\n", path);
    rc = EXIT_USAGE;
    goto out;
  }
  if (qs->len == 0 && t_done < 0) {
    GString *want = g_string_new(NULL);
    if (rq->lookup >= 0)
      g_string_append_printf(want, " lookup %lld", rq->lookup);
    if (rq->point >= 0)
      g_string_append_printf(want, " point %lld", rq->point);
    if (rq->replica >= 0)
      g_string_append_printf(want, " replica %lld", rq->replica);
    fprintf(stderr, "dhtsim: plot: %s: nothing traced of%s (the trace's lookups: dhtsim run --trace IDS)\n", path,
            want->str);
    g_string_free(want, TRUE);
    rc = EXIT_USAGE;
    goto out;
  }
  for (guint i = 0; i < qs->len; i++) {
    aquery *q = &g_array_index(qs, aquery, i);
    int b = q->state == AQ_ANSWERED ? 0 : q->state == AQ_TIMEOUT ? 1 : 2;
    if (q->state == AQ_OPEN)
      q->t1 = t_done >= 0 ? t_done : t_max;
    g_string_append_printf(blk[b], "%.3f %.2f %.3f\n", q->t0, q->y, q->t1 - q->t0);
    count[b]++;
  }
  if (rq->name[0] != '\0')
    g_strlcpy(name, rq->name, name_len);
  else
    snprintf(name, name_len, "lookup-anatomy-%lld-%lld-%lld", point, replica, lookup);
  {
    static const char *const with[] = {"vectors nohead lt 1 lw 2", "vectors nohead lt 2 lw 2 dt 2",
                                       "vectors nohead lc rgb '#888888' lw 2 dt 3", "points lt 3 pt 6 ps 1.2",
                                       "points lc rgb '#555555' pt 2 ps 1.0", "points lt 4 pt 8 ps 1.3"};
    static const char *const key_with[] = {"lines lt 1 lw 2", "lines lt 2 lw 2 dt 2", "lines lc rgb '#888888' lw 2 dt 3",
                                           "points lt 3 pt 6 ps 1.2", "points lc rgb '#555555' pt 2 ps 1.0",
                                           "points lt 4 pt 8 ps 1.3"};
    char *title = g_strdup_printf("Lookup anatomy: lookup %lld (point %lld, replica %lld)", lookup, point, replica);
    char done_text[64] = "";
    if (t_done >= 0)
      snprintf(done_text, sizeof done_text, "; done at %.3f ms", t_done);
    char *sub = g_strdup_printf("scenario %s, seed %s; %u queries: %zu answered, %zu timed out, %zu unanswered%s",
                                c->scenario, c->seed, qs->len, count[0], count[1], count[2], done_text);
    size_t longest = 0, entries = 0;
    bool first = true;
    layout L;
    for (size_t b = 0; b < 6; b++) {
      char *label;
      if (count[b] == 0)
        continue;
      label = b == 5 ? g_strdup_printf("decision on a node: %s (%zu)", decs->str, count[b])
                     : g_strdup_printf("%s (%zu)", anatomy_block_titles[b], count[b]);
      longest = MAX(longest, (size_t)g_utf8_strlen(label, -1));
      entries++;
      g_string_append_printf(keys, "%sNaN with %s title ", keys->len ? ", \\\n  " : "", key_with[b]);
      gp_sq(keys, label);
      g_free(label);
    }
    if (free_decs->len > 0) {
      char *label = g_strdup_printf("decision on no node: %s", free_decs->str);
      longest = MAX(longest, (size_t)g_utf8_strlen(label, -1));
      entries++;
      g_string_append_printf(keys, "%sNaN with lines lc rgb '#999999' dt 3 title ", keys->len ? ", \\\n  " : "");
      gp_sq(keys, label);
      g_free(label);
    }
    /* The subtitle's digits are wider than the layout's average character: a margin. */
    L = make_layout(1, 760, 440, entries, longest, 40,
                    (size_t)MAX(g_utf8_strlen(title, -1), g_utf8_strlen(sub, -1)) + 10);
    emit_header(g, c, name, &L);
    for (size_t b = 0; b < 6; b++)
      g_string_append_printf(g, "$B%zu << EOD\n%sEOD\n", b, blk[b]->str);
    emit_title(g, title, sub);
    emit_panel_margins(g, &L, 0);
    emit_set(g, "xlabel", "time since the lookup's start (ms)");
    emit_set(g, "ylabel", "log2 XOR distance of the node to the target");
    g_string_append_printf(g, "set xrange [0:%.3f]\nset yrange [%lld:%lld]\nset ytics 1\n",
                           t_max > 0 ? t_max * 1.03 : 1.0, dmin <= dmax ? dmin - 1 : 0, dmin <= dmax ? dmax + 1 : 160);
    if (dmax - dmin > 20)
      g_string_append(g, "set ytics 5\n");
    if (t_done >= 0)
      g_string_append_printf(g, "set arrow from %.3f, graph 0 to %.3f, graph 1 nohead lc rgb '#000000' dt 2\n"
                                "set label 'done' at %.3f, graph 1.02 center\n",
                             t_done, t_done, t_done);
    g_string_append(g, vlines->str);
    g_string_append(g, "unset key\nplot ");
    for (size_t b = 0; b < 6; b++) {
      if (count[b] == 0)
        continue;
      g_string_append_printf(g, "%s$B%zu using 1:2%s with %s notitle", first ? "" : ", \\\n  ", b,
                             b < 3 ? ":3:(0)" : "", with[b]);
      first = false;
      /* The end of an answered or timed-out query: a dot or a cross. */
      if (b == 0)
        g_string_append(g, ", \\\n  $B0 using ($1+$3):2 with points lt 1 pt 7 ps 0.6 notitle");
      if (b == 1)
        g_string_append(g, ", \\\n  $B1 using ($1+$3):2 with points lt 2 pt 2 ps 0.8 notitle");
    }
    g_string_append(g, first ? "NaN notitle\n" : "\n");
    g_string_append(g, "unset arrow\nunset label\n"); /* not over the legend's panel */
    emit_key_panel(g, &L, keys);
    g_string_append(g, "unset multiplot\n");
    g_free(title);
    g_free(sub);
  }
out:
  if (f != NULL)
    fclose(f);
  free(line);
  g_free(path);
  for (size_t i = 0; i < 6; i++)
    g_string_free(blk[i], TRUE);
  g_string_free(keys, TRUE);
  g_string_free(vlines, TRUE);
  g_string_free(decs, TRUE);
  g_string_free(free_decs, TRUE);
  g_array_unref(qs);
  return rc;
}

/* ---- running gnuplot ---- */

static void pass_through(const char *text) {
  size_t n = text ? strlen(text) : 0;
  if (n == 0)
    return;
  fputs(text, stderr);
  if (text[n - 1] != '\n')
    fputc('\n', stderr);
}

/* Draws script `gp` in one format into OUT/plots/NAME.FMT, through a .tmp
 * file renamed into place once gnuplot succeeded. */
static int run_gnuplot(const ctx *c, const char *gp, const char *name, const char *fmt) {
  char *file = g_strdup_printf("%s.%s", name, fmt);
  char *final = g_build_filename(c->plotdir, file, NULL);
  char *tmp = g_strdup_printf("%s.tmp", final);
  GString *setup = g_string_new("term = ");
  char *argv[] = {c->gnuplot, "-d", "-e", NULL, (char *)gp, NULL};
  char *out = NULL, *err = NULL;
  GError *error = NULL;
  int wait_status = 0, rc = EXIT_OK;

  gp_sq(setup, fmt);
  g_string_append(setup, "; out = ");
  gp_sq(setup, tmp);
  argv[3] = setup->str;
  g_remove(tmp);
  fflush(stdout);
  if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_STDIN_FROM_DEV_NULL, NULL, NULL, &out, &err, &wait_status, &error)) {
    fprintf(stderr, "dhtsim: plot: cannot run %s: %s\n", c->gnuplot, error->message);
    g_error_free(error);
    rc = EXIT_RUNTIME;
  } else if (!WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0 || !g_file_test(tmp, G_FILE_TEST_EXISTS)) {
    fprintf(stderr, "dhtsim: plot: gnuplot failed on %s (%s):\n", gp, fmt);
    pass_through(out);
    pass_through(err);
    rc = EXIT_RUNTIME;
  } else if (g_rename(tmp, final) != 0) {
    fprintf(stderr, "dhtsim: plot: cannot rename %s to %s: %s\n", tmp, final, strerror(errno));
    rc = EXIT_RUNTIME;
  } else {
    if (err != NULL && err[0] != '\0') {
      fprintf(stderr, "dhtsim: plot: gnuplot said on %s (%s):\n", gp, fmt);
      pass_through(err);
    }
    printf("%s\n", final);
    fflush(stdout);
  }
  g_remove(tmp);
  g_free(out);
  g_free(err);
  g_string_free(setup, TRUE);
  g_free(tmp);
  g_free(final);
  g_free(file);
  return rc;
}

/* Checks the request's names against the tables; EXIT_OK or EXIT_USAGE. */
static int check_request(const ctx *c, const request *rq) {
  if (rq->kind == KIND_LINE || rq->kind == KIND_HEATMAP) {
    const sim_figure *f = figure_find(rq->y);
    if (f == NULL) {
      GString *g = g_string_new(NULL);
      for (size_t i = 0; i < SIM_FIG_COUNT; i++)
        g_string_append_printf(g, "%s%s", i ? ", " : "", sim_figure_table[i].name);
      request_error("--y %s: no such figure (one of %s; docs/output-format.md)", rq->y, g->str);
      g_string_free(g, TRUE);
      return EXIT_USAGE;
    }
    if (table_col(&c->sum, rq->y) < 0)
      return request_error("--y %s: no such column in %s/summary.csv", rq->y, c->outdir);
  }
  return EXIT_OK;
}

static int draw(const ctx *c, const request *rq);

/* A preset with more panels than a picture holds: one file per value of its
 * last panel key. */
static int draw_split(const ctx *c, const request *rq, const plan *pl) {
  const gkey *k = &pl->keys[pl->n_keys - 1];
  int rc = EXIT_OK;
  for (guint i = 0; i < k->vals->len; i++) {
    request sub = *rq;
    int r;
    sub.wkey[sub.n_where] = k->id;
    sub.wval[sub.n_where++] = g_ptr_array_index(k->vals, i);
    if (snprintf(sub.name, sizeof sub.name, "%s-%s=%s", rq->name, sim_params[k->id].key,
                 (const char *)g_ptr_array_index(k->vals, i)) >= (int)sizeof sub.name)
      continue; /* no such names: keys and values are short */
    r = draw(c, &sub);
    if (r != EXIT_OK)
      rc = r;
  }
  return rc;
}

/* Writes OUT/plots/NAME.gp and draws it in every format. */
static int write_and_draw(const ctx *c, const char *name, const GString *g) {
  char *gp_file = g_strdup_printf("%s.gp", name);
  char *gp = g_build_filename(c->plotdir, gp_file, NULL);
  GError *error = NULL;
  int rc = EXIT_OK;
  if (!g_file_set_contents(gp, g->str, (gssize)g->len, &error)) {
    fprintf(stderr, "dhtsim: plot: %s\n", error->message);
    g_error_free(error);
    rc = EXIT_RUNTIME;
  }
  for (size_t f = 0; f < c->n_formats && rc == EXIT_OK; f++)
    rc = run_gnuplot(c, gp, name, c->formats[f]);
  g_free(gp);
  g_free(gp_file);
  return rc;
}

static int draw(const ctx *c, const request *rq) {
  plan pl;
  plan_rc prc;
  GString *g;
  int rc = check_request(c, rq);
  if (rc != EXIT_OK)
    return rc;
  prc = make_plan(c, rq, &pl);
  if (prc == PLAN_TOO_MANY_PANELS) {
    rc = draw_split(c, rq, &pl);
    plan_free(&pl);
    return rc;
  }
  if (prc != PLAN_OK) {
    plan_free(&pl);
    return prc == PLAN_SKIP ? EXIT_OK : EXIT_USAGE;
  }
  g = g_string_new(NULL);
  prc = rq->kind == KIND_LINE      ? script_line(c, rq, &pl, g)
        : rq->kind == KIND_HEATMAP ? script_heatmap(c, rq, &pl, g)
                                   : script_dist(c, rq, &pl, g);
  plan_free(&pl);
  if (prc != PLAN_OK) {
    g_string_free(g, TRUE);
    return prc == PLAN_SKIP ? EXIT_OK : EXIT_USAGE;
  }
  rc = write_and_draw(c, rq->name, g);
  g_string_free(g, TRUE);
  return rc;
}

/* The lookup anatomy of one traced lookup (a preset when trace.jsonl is there). */
static int draw_anatomy(const ctx *c, const anatomy_req *rq) {
  GString *g = g_string_new(NULL);
  char name[256];
  int rc = script_anatomy(c, rq, g, name, sizeof name);
  if (rc == EXIT_OK)
    rc = write_and_draw(c, name, g);
  g_string_free(g, TRUE);
  return rc;
}

/* ---- timeline presets (timeline.csv, events.csv) ---- */

/* One column of timeline.csv against virtual time: a curve per point (the
 * swept keys' values its label), each bin's value the mean over the point's
 * replicas that have one, plotted at the bin's start; every timed event of
 * events.csv a dashed vertical line with its action above. Skipped (no
 * file, or the column empty everywhere). Writes OUT/plots/NAME.gp and draws it. */
static int draw_timeline(const ctx *c, const char *col, const char *name) {
  const sim_timeline_column *tc = NULL;
  char *path = g_build_filename(c->outdir, "timeline.csv", NULL), *epath;
  table t = {0}, ev = {0};
  int rc = EXIT_OK, ycol, pcol, bcol, scol;
  for (size_t i = 0; i < sim_timeline_column_count; i++)
    if (strcmp(sim_timeline_columns[i].name, col) == 0)
      tc = &sim_timeline_columns[i];
  g_assert(tc != NULL);
  if (!g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
    g_free(path);
    return EXIT_OK; /* an older dhtsim's output */
  }
  rc = table_read(path, &t);
  g_free(path);
  if (rc != EXIT_OK)
    return rc;
  ycol = table_col(&t, col);
  pcol = table_col(&t, "point");
  bcol = table_col(&t, "bin");
  scol = table_col(&t, "start_s");
  if (ycol < 0 || pcol < 0 || bcol < 0 || scol < 0) {
    fprintf(stderr, "dhtsim: plot: %s/timeline.csv: no column %s: not the format of docs/output-format.md\n",
            c->outdir, ycol < 0 ? col : "point, bin or start_s");
    table_free(&t);
    return EXIT_USAGE;
  }
  /* Rows are in point, replica, bin order: per point, the bins' sums. */
  GString *data = g_string_new("$D << EOD\n"), *keys = g_string_new(NULL), *g = g_string_new(NULL);
  GPtrArray *labels = g_ptr_array_new_with_free_func(g_free);
  guint r = 0;
  bool any = false;
  int blocks = 0;
  unsigned most_bins = 0; /* bins with a value in one point's curve, at most */
  while (r < t.rows->len) {
    const char *pt = cell(g_ptr_array_index(t.rows, r), pcol);
    guint end = r;
    uint64_t maxbin = 0;
    while (end < t.rows->len && strcmp(cell(g_ptr_array_index(t.rows, end), pcol), pt) == 0) {
      uint64_t b = strtoull(cell(g_ptr_array_index(t.rows, end), bcol), NULL, 10);
      maxbin = b > maxbin ? b : maxbin;
      end++;
    }
    if (maxbin > 10000000) { /* not dhtsim's: bins are bounded by the run's time / bin width */
      maxbin = 10000000;
    }
    double *sum = g_new0(double, maxbin + 1), *x = g_new0(double, maxbin + 1);
    guint *n = g_new0(guint, maxbin + 1);
    for (guint q = r; q < end; q++) {
      GPtrArray *row = g_ptr_array_index(t.rows, q);
      uint64_t b = strtoull(cell(row, bcol), NULL, 10);
      const char *y = cell(row, ycol);
      if (b > maxbin || y[0] == '\0')
        continue;
      sum[b] += num(y);
      x[b] = num(cell(row, scol));
      n[b]++;
    }
    if ((guint)blocks < MAX_SERIES) {
      bool open = false;
      unsigned bins = 0;
      for (uint64_t b = 0; b <= maxbin; b++) {
        if (n[b] == 0)
          continue;
        if (!open)
          g_string_append_printf(data, "# point %s\n", pt);
        open = true;
        bins++;
        g_string_append_printf(data, "%.6f %.10g\n", x[b], sum[b] / n[b]);
      }
      most_bins = MAX(most_bins, bins);
      if (open) {
        GString *lab = g_string_new(NULL);
        GPtrArray *row = g_ptr_array_index(t.rows, r);
        for (size_t k = 0; k < c->n_sweep; k++) {
          int kc = table_col(&t, sim_params[c->sweep[k]].key);
          g_string_append_printf(lab, "%s%s = %s", k ? ", " : "", key_sym(c->sweep[k]) ? key_sym(c->sweep[k])
                                                                                         : sim_params[c->sweep[k]].key,
                                 cell(row, kc));
        }
        if (lab->len == 0)
          g_string_append(lab, col);
        g_ptr_array_add(labels, g_string_free(lab, FALSE));
        g_string_append(data, "\n\n");
        blocks++;
        any = true;
      }
    } else {
      fprintf(stderr, "dhtsim: plot: %s: only the first %d points are drawn\n", name, MAX_SERIES);
    }
    g_free(sum);
    g_free(x);
    g_free(n);
    r = end;
  }
  g_string_append(data, "EOD\n");
  table_free(&t);
  if (any && most_bins < 2) /* a curve of one point says nothing over time */
    fprintf(stderr, "dhtsim: plot: %s skipped: timeline.csv has one bin per run (dhtsim run --bin-s S with S below the run's virtual time)\n",
            name);
  if (!any || most_bins < 2) { /* silently: the fractions of a run without churn */
    g_string_free(data, TRUE);
    g_string_free(keys, TRUE);
    g_string_free(g, TRUE);
    g_ptr_array_unref(labels);
    return EXIT_OK;
  }
  size_t longest = 0;
  for (guint i = 0; i < labels->len; i++)
    longest = MAX(longest, (size_t)g_utf8_strlen(g_ptr_array_index(labels, i), -1));
  char *title = g_strdup_printf("%s per bin of virtual time", tc->name);
  char *sub = g_strdup_printf("scenario %s, seed %s; per bin of timeline.csv, mean of %u replicas; dashed: timed events",
                              c->scenario, c->seed, c->replicas);
  layout L = make_layout(1, 760, 420, labels->len > 1 ? labels->len : 0, longest, 40,
                         (size_t)MAX(g_utf8_strlen(title, -1), g_utf8_strlen(sub, -1)));
  emit_header(g, c, name, &L);
  g_string_append(g, data->str);
  emit_title(g, title, sub);
  emit_set(g, "xlabel", "virtual time (s), start of the bin");
  {
    char *yl = tc->unit[0] ? g_strdup_printf("%s (%s)", tc->name, tc->unit) : g_strdup(tc->name);
    emit_set(g, "ylabel", yl);
    g_free(yl);
  }
  g_string_append(g, strcmp(tc->unit, "fraction") == 0 ? "set yrange [0:1.02]\n" : "set yrange [0:*]\n");
  /* The timed events: a line and its action at each. */
  epath = g_build_filename(c->outdir, "events.csv", NULL);
  if (g_file_test(epath, G_FILE_TEST_IS_REGULAR) && table_read(epath, &ev) == EXIT_OK) {
    int ac = table_col(&ev, "at_s"), kc = table_col(&ev, "action"), yc = table_col(&ev, "key"),
        vc = table_col(&ev, "value");
    /* events.csv is in file order; those of one time share a line and a label. */
    for (guint i = 0; ac >= 0 && i < ev.rows->len;) {
      const char *at = cell(g_ptr_array_index(ev.rows, i), ac);
      GString *lab = g_string_new(NULL);
      guint j = i;
      for (; j < ev.rows->len && strcmp(cell(g_ptr_array_index(ev.rows, j), ac), at) == 0; j++) {
        GPtrArray *row = g_ptr_array_index(ev.rows, j);
        const char *act = cell(row, kc), *key = cell(row, yc), *val = cell(row, vc);
        if (strcmp(act, "set") == 0)
          g_string_append_printf(lab, "%s%s = %s", j > i ? "; " : "", key, val);
        else
          g_string_append_printf(lab, "%s%s %s", j > i ? "; " : "", act, val);
      }
      g_string_append_printf(g, "set arrow from %s, graph 0 to %s, graph 1 nohead dt 2 lw 1.2 lc rgb '#777777'\n",
                             at, at);
      g_string_append(g, "set label ");
      gp_sq(g, lab->str);
      g_string_append_printf(g, " at %s, graph 0.98 rotate by 90 right offset -0.6, 0 font ',9' tc rgb '#555555' "
                             "noenhanced\n", at);
      g_string_free(lab, TRUE);
      i = j;
    }
    table_free(&ev);
  }
  g_free(epath);
  emit_panel_margins(g, &L, 0);
  g_string_append(g, "unset key\nplot ");
  bool first = true;
  for (int b = 0; b < blocks; b++)
    emit_curve(g, keys, &first, b, "1:2", "linespoints", (unsigned)(b % N_COLOURS) + 1,
               (unsigned)((b / N_COLOURS) % 4) + 1, "linespoints",
               labels->len > 1 ? (const char *)g_ptr_array_index(labels, (guint)b) : NULL);
  g_string_append(g, "\n");
  emit_key_panel(g, &L, keys);
  g_string_append(g, "unset multiplot\n");
  rc = write_and_draw(c, name, g);
  g_free(title);
  g_free(sub);
  g_string_free(data, TRUE);
  g_string_free(keys, TRUE);
  g_string_free(g, TRUE);
  g_ptr_array_unref(labels);
  return rc;
}

/* ---- presets ---- */

static request preset(plot_kind kind, int x, const char *y, const char *name) {
  request rq;
  memset(&rq, 0, sizeof rq);
  rq.kind = kind;
  rq.x = x;
  rq.y = y;
  rq.preset = true;
  snprintf(rq.name, sizeof rq.name, "%s", name);
  return rq;
}

static int worst(int a, int b) {
  return a == EXIT_OK ? b : b == EXIT_OK ? a : MIN(a, b);
}

static int draw_presets(const ctx *c) {
  int rc = EXIT_OK;
  bool n = is_swept(c, SIM_P_NETWORK_NODES), ak = is_swept(c, SIM_P_LOOKUP_ALPHA) && is_swept(c, SIM_P_LOOKUP_K);
  bool hops = table_col(&c->sum, sim_figure_table[SIM_FIG_HOPS_MEAN].name) >= 0;
  static const int drops[] = {SIM_P_LOSS_REQUEST_DROP, SIM_P_LOSS_RESPONSE_DROP};
  request rq;
  char name[256];

  if (n) {
    rq = preset(KIND_LINE, SIM_P_NETWORK_NODES, sim_figure_table[SIM_FIG_QUERIES_MEAN].name, "queries-vs-n");
    rq.fit = true;
    rc = worst(rc, draw(c, &rq));
    rq = preset(KIND_LINE, SIM_P_NETWORK_NODES, sim_figure_table[SIM_FIG_ROUNDS_MEAN].name, "rounds-vs-n");
    rq.fit = true;
    rc = worst(rc, draw(c, &rq));
    /* Batches and depth differ (pipelined: one batch per answer): both,
     * when the output has hops (an older dhtsim's has not). */
    if (hops) {
      rq = preset(KIND_LINE, SIM_P_NETWORK_NODES, sim_figure_table[SIM_FIG_HOPS_MEAN].name, "hops-vs-n");
      rq.fit = true;
      rc = worst(rc, draw(c, &rq));
    }
  }
  if (ak) {
    rq = preset(KIND_HEATMAP, SIM_P_LOOKUP_ALPHA, sim_figure_table[SIM_FIG_QUERIES_MEAN].name, "heatmap-queries");
    rq.groups[rq.n_groups++] = SIM_P_LOOKUP_K;
    rc = worst(rc, draw(c, &rq));
    rq = preset(KIND_HEATMAP, SIM_P_LOOKUP_ALPHA, sim_figure_table[SIM_FIG_TIME_MS_MEAN].name, "heatmap-time");
    rq.groups[rq.n_groups++] = SIM_P_LOOKUP_K;
    rc = worst(rc, draw(c, &rq));
  }
  for (size_t i = 0; i < G_N_ELEMENTS(drops); i++) {
    if (!is_swept(c, drops[i]))
      continue;
    snprintf(name, sizeof name, "success-vs-%s", sim_param_name((sim_param_id)drops[i]));
    rq = preset(KIND_LINE, drops[i], sim_figure_table[SIM_FIG_SUCCESS_RATE].name, name);
    rc = worst(rc, draw(c, &rq));
    snprintf(name, sizeof name, "accuracy-vs-%s", sim_param_name((sim_param_id)drops[i]));
    rq = preset(KIND_LINE, drops[i], sim_figure_table[SIM_FIG_ACCURACY].name, name);
    rc = worst(rc, draw(c, &rq));
  }
  /* Every other swept number: mean time and queries along it. */
  for (size_t i = 0; i < c->n_sweep; i++) {
    int id = c->sweep[i];
    if (sim_param_is_text((sim_param_id)id) || id == SIM_P_NETWORK_NODES || id == (int)drops[0] || id == (int)drops[1] ||
        (ak && (id == SIM_P_LOOKUP_ALPHA || id == SIM_P_LOOKUP_K)))
      continue;
    snprintf(name, sizeof name, "time-vs-%s", sim_params[id].key);
    rq = preset(KIND_LINE, id, sim_figure_table[SIM_FIG_TIME_MS_MEAN].name, name);
    rc = worst(rc, draw(c, &rq));
    snprintf(name, sizeof name, "queries-vs-%s", sim_params[id].key);
    rq = preset(KIND_LINE, id, sim_figure_table[SIM_FIG_QUERIES_MEAN].name, name);
    rc = worst(rc, draw(c, &rq));
  }
  /* The distributions: per α first when α is swept (the issue's question),
   * then every other swept key. */
  rq = preset(KIND_CDF, is_swept(c, SIM_P_LOOKUP_ALPHA) ? SIM_P_LOOKUP_ALPHA : -1, "time_ms", "lookup-time-cdf");
  rc = worst(rc, draw(c, &rq));
  rq = preset(KIND_HIST, is_swept(c, SIM_P_LOOKUP_STRATEGY) ? SIM_P_LOOKUP_STRATEGY : -1, "rounds", "rounds-histogram");
  rc = worst(rc, draw(c, &rq));
  if (hops) {
    rq = preset(KIND_HIST, is_swept(c, SIM_P_LOOKUP_STRATEGY) ? SIM_P_LOOKUP_STRATEGY : -1, "hops", "hops-histogram");
    rc = worst(rc, draw(c, &rq));
  }
  /* A run with --trace: the anatomy of its first traced lookup. */
  {
    char *trace = g_build_filename(c->outdir, "trace.jsonl", NULL);
    if (g_file_test(trace, G_FILE_TEST_IS_REGULAR)) {
      anatomy_req ar = {.point = -1, .replica = -1, .lookup = -1, .name = "lookup-anatomy", .preset = true};
      rc = worst(rc, draw_anatomy(c, &ar));
    }
    g_free(trace);
  }
  /* Over virtual time (timeline.csv), the timed events marked: what the
   * lookups saw, then the network (churn runs only; skipped when empty). */
  rc = worst(rc, draw_timeline(c, "timeouts_mean", "timeline-timeouts"));
  rc = worst(rc, draw_timeline(c, "accuracy", "timeline-accuracy"));
  rc = worst(rc, draw_timeline(c, "stale_fraction", "timeline-stale"));
  rc = worst(rc, draw_timeline(c, "online_fraction", "timeline-online"));
  return rc;
}

/* ---- OUT/plots/ ---- */

/* Removes the pictures and scripts an earlier `dhtsim plot` left there. */
static void clear_plots(const char *plotdir) {
  static const char *const ours[] = {".png", ".svg", ".pdf", ".gp", ".tmp"};
  GDir *d = g_dir_open(plotdir, 0, NULL);
  const char *name;
  if (d == NULL)
    return;
  while ((name = g_dir_read_name(d)) != NULL) {
    for (size_t i = 0; i < G_N_ELEMENTS(ours); i++) {
      if (g_str_has_suffix(name, ours[i])) {
        char *p = g_build_filename(plotdir, name, NULL);
        g_remove(p);
        g_free(p);
        break;
      }
    }
  }
  g_dir_close(d);
}

/* OUT/plots/.source holds the checksum of the summary.json the plots were
 * drawn from: a new run into OUT changes it, and the old plots go. */
static int prepare_plotdir(const ctx *c, bool clear) {
  char *json = g_build_filename(c->outdir, "summary.json", NULL);
  char *stamp = g_build_filename(c->plotdir, ".source", NULL);
  char *text = NULL, *old = NULL, *sum;
  gsize len = 0;
  int rc = EXIT_OK;
  g_file_get_contents(json, &text, &len, NULL);
  sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)(text ? text : ""), len);
  if (g_mkdir_with_parents(c->plotdir, 0755) != 0) {
    fprintf(stderr, "dhtsim: plot: cannot create %s: %s\n", c->plotdir, strerror(errno));
    rc = EXIT_RUNTIME;
  } else {
    g_file_get_contents(stamp, &old, NULL, NULL);
    if (clear || old == NULL || strcmp(old, sum) != 0)
      clear_plots(c->plotdir);
    if (!g_file_set_contents(stamp, sum, -1, NULL)) {
      fprintf(stderr, "dhtsim: plot: cannot write %s\n", stamp);
      rc = EXIT_RUNTIME;
    }
  }
  g_free(old);
  g_free(sum);
  g_free(text);
  g_free(stamp);
  g_free(json);
  return rc;
}

/* The folder of common.gpi when neither --scripts nor $DHTSIM_PLOTS_DIR says:
 * ../share/dhtsim/plots from the executable (an installed dhtsim), else the
 * source tree's plots/ (a build tree). */
static char *default_scripts(void) {
  char *exe = g_file_read_link("/proc/self/exe", NULL);
  if (exe != NULL) {
    char *bin = g_path_get_dirname(exe);
    char *rel = g_build_filename("..", "share", "dhtsim", "plots", NULL);
    char *dir = g_canonicalize_filename(rel, bin);
    char *common = g_build_filename(dir, "common.gpi", NULL);
    bool ok = g_file_test(common, G_FILE_TEST_IS_REGULAR);
    g_free(common);
    g_free(rel);
    g_free(bin);
    g_free(exe);
    if (ok)
      return dir;
    g_free(dir);
  }
  return g_strdup(DHTSIM_PLOTS_DIR);
}

static int set_formats(ctx *c, const char *spec) {
  char **parts = g_strsplit(spec, ",", -1);
  static const char *const known[] = {"png", "svg", "pdf"};
  int rc = EXIT_OK;
  c->n_formats = 0;
  for (size_t i = 0; parts[i] != NULL && rc == EXIT_OK; i++) {
    bool all = strcmp(parts[i], "all") == 0, found = all;
    for (size_t k = 0; k < G_N_ELEMENTS(known); k++) {
      if (all || strcmp(parts[i], known[k]) == 0) {
        bool dup = false;
        for (size_t j = 0; j < c->n_formats; j++)
          dup |= strcmp(c->formats[j], known[k]) == 0;
        if (!dup)
          c->formats[c->n_formats++] = known[k];
        found = true;
      }
    }
    if (!found)
      rc = usage_error("--format must be png, svg, pdf, all or a comma list of them, not %s", spec);
  }
  if (rc == EXIT_OK && c->n_formats == 0)
    rc = usage_error("--format must be png, svg, pdf, all or a comma list of them, not %s", spec);
  g_strfreev(parts);
  return rc;
}

static int param_arg(const char *opt, const char *key, size_t n, int *id) {
  *id = sim_param_find(key, n);
  if (*id < 0)
    return usage_error("%s %.*s: no such parameter (the keys: dhtsim keys)", opt, (int)n, key);
  return EXIT_OK;
}

int sim_plot_main(int argc, char **argv) {
  ctx c;
  request rq;
  const char *x = NULL, *scripts = NULL, *format = "png,svg", *kind = NULL, *name = NULL;
  anatomy_req ar = {.point = -1, .replica = -1, .lookup = -1};
  bool anatomy_opt = false;
  char *gnuplot;
  int rc;

  memset(&c, 0, sizeof c);
  memset(&rq, 0, sizeof rq);
  rq.x = -1;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      fputs(plot_help, stdout);
      return EXIT_OK;
    } else if (strcmp(a, "--scripts") == 0 || strcmp(a, "--format") == 0 || strcmp(a, "--x") == 0 ||
               strcmp(a, "--y") == 0 || strcmp(a, "--group") == 0 || strcmp(a, "--where") == 0 ||
               strcmp(a, "--kind") == 0 || strcmp(a, "--name") == 0 || strcmp(a, "--lookup") == 0 ||
               strcmp(a, "--point") == 0 || strcmp(a, "--replica") == 0) {
      const char *v;
      if (i + 1 >= argc || argv[i + 1][0] == '\0')
        return usage_error("%s needs a value", a);
      v = argv[++i];
      if (strcmp(a, "--lookup") == 0 || strcmp(a, "--point") == 0 || strcmp(a, "--replica") == 0) {
        uint64_t id;
        if (!sim_parse_u64(v, &id) || id >= SIM_LOOKUPS_MAX)
          return usage_error("%s expects a number from 0 to %u, not %s", a, SIM_LOOKUPS_MAX - 1, v);
        *(strcmp(a, "--lookup") == 0 ? &ar.lookup : strcmp(a, "--point") == 0 ? &ar.point : &ar.replica) =
            (long long)id;
        anatomy_opt = true;
      } else if (strcmp(a, "--scripts") == 0) {
        scripts = v;
      } else if (strcmp(a, "--format") == 0) {
        format = v;
      } else if (strcmp(a, "--x") == 0) {
        x = v;
      } else if (strcmp(a, "--y") == 0) {
        rq.y = v;
      } else if (strcmp(a, "--kind") == 0) {
        kind = v;
      } else if (strcmp(a, "--name") == 0) {
        name = v;
      } else if (strcmp(a, "--group") == 0) {
        int id;
        if ((rc = param_arg(a, v, strlen(v), &id)) != EXIT_OK)
          return rc;
        if (!in_list(rq.groups, rq.n_groups, id))
          rq.groups[rq.n_groups++] = id;
      } else {
        const char *eq = strchr(v, '=');
        int id;
        if (eq == NULL || eq == v || eq[1] == '\0')
          return usage_error("--where takes KEY=VALUE, not %s", v);
        if ((rc = param_arg(a, v, (size_t)(eq - v), &id)) != EXIT_OK)
          return rc;
        if (in_list(rq.wkey, rq.n_where, id))
          return usage_error("--where %.*s given twice", (int)(eq - v), v);
        rq.wkey[rq.n_where] = id;
        rq.wval[rq.n_where++] = eq + 1;
      }
    } else if (a[0] == '-' && a[1] != '\0') {
      return usage_error("unknown option %s", a);
    } else if (c.outdir == NULL) {
      c.outdir = a;
    } else {
      return usage_error("unexpected argument %s", a);
    }
  }
  if (c.outdir == NULL)
    return usage_error("%s", "missing OUT");
  if ((rc = set_formats(&c, format)) != EXIT_OK)
    return rc;
  if (kind != NULL) {
    size_t k = 0;
    while (k < G_N_ELEMENTS(kind_names) && strcmp(kind, kind_names[k]) != 0)
      k++;
    if (k == G_N_ELEMENTS(kind_names))
      return usage_error("--kind must be line, heatmap, cdf, histogram or anatomy, not %s", kind);
    rq.kind = (plot_kind)k;
  }
  if (anatomy_opt && rq.kind != KIND_ANATOMY)
    return usage_error("%s", "--lookup, --point and --replica choose the lookup of --kind anatomy");
  if (rq.kind == KIND_ANATOMY) {
    if (x != NULL || rq.y != NULL || rq.n_groups || rq.n_where)
      return usage_error("%s", "--kind anatomy draws one traced lookup (trace.jsonl): no --x, --y, --group or --where; "
                               "--lookup, --point and --replica choose it");
    if (name != NULL && (strchr(name, '/') != NULL || name[0] == '.' || strlen(name) >= sizeof ar.name))
      return usage_error("--name %s: a file name without '/', not starting with '.'", name);
    if (name != NULL)
      g_strlcpy(ar.name, name, sizeof ar.name);
  }
  if (x != NULL && (rc = param_arg("--x", x, strlen(x), &rq.x)) != EXIT_OK)
    return rc;
  if (rq.kind != KIND_ANATOMY && rq.y == NULL && (x != NULL || kind != NULL || rq.n_groups || rq.n_where || name != NULL))
    return usage_error("%s", "--y FIGURE is needed with --x, --group, --where, --kind and --name");
  if (rq.y != NULL && x == NULL && (rq.kind == KIND_LINE || rq.kind == KIND_HEATMAP))
    return usage_error("--kind %s needs --x KEY", kind_names[rq.kind]);
  for (size_t w = 0; w < rq.n_where; w++)
    if (rq.wkey[w] == rq.x)
      return usage_error("--where %s fixes the x axis --x %s", sim_params[rq.x].key, x);
  if (name != NULL && (strchr(name, '/') != NULL || name[0] == '.' || strlen(name) >= sizeof rq.name))
    return usage_error("--name %s: a file name without '/', not starting with '.'", name);

  if ((rc = read_output(&c)) != EXIT_OK) {
    table_free(&c.sum);
    return rc;
  }
  if (rq.y != NULL && (rc = check_request(&c, &rq)) != EXIT_OK) {
    table_free(&c.sum);
    return rc;
  }
  if (rq.y != NULL) {
    if (name != NULL)
      snprintf(rq.name, sizeof rq.name, "%s", name);
    else if (rq.kind == KIND_LINE)
      snprintf(rq.name, sizeof rq.name, "%s-vs-%s", rq.y, x);
    else
      snprintf(rq.name, sizeof rq.name, "%s-%s", kind_names[rq.kind], rq.y);
  }

  if (scripts == NULL) {
    const char *env = g_getenv("DHTSIM_PLOTS_DIR");
    c.scripts = env != NULL && env[0] != '\0' ? g_strdup(env) : default_scripts();
    scripts = env != NULL && env[0] != '\0' ? "$DHTSIM_PLOTS_DIR" : NULL;
  } else {
    c.scripts = g_strdup(scripts);
    scripts = "--scripts";
  }
  {
    char *common = g_build_filename(c.scripts, "common.gpi", NULL);
    bool ok = g_file_test(common, G_FILE_TEST_IS_REGULAR);
    g_free(common);
    if (!ok) {
      fprintf(stderr, "dhtsim: plot: %s %s: no common.gpi there%s\n", scripts ? scripts : "plot scripts folder",
              c.scripts, scripts ? "" : " (give the folder of plots/ with --scripts DIR or $DHTSIM_PLOTS_DIR)");
      g_free(c.scripts);
      table_free(&c.sum);
      return scripts ? EXIT_USAGE : EXIT_RUNTIME;
    }
  }
  gnuplot = g_find_program_in_path("gnuplot");
  if (gnuplot == NULL) {
    fprintf(stderr, "dhtsim: plot: gnuplot not found in PATH (Debian: apt-get install gnuplot-nox)\n");
    g_free(c.scripts);
    table_free(&c.sum);
    return EXIT_RUNTIME;
  }
  c.gnuplot = gnuplot;
  c.plotdir = g_build_filename(c.outdir, "plots", NULL);
  rc = prepare_plotdir(&c, rq.y == NULL && rq.kind != KIND_ANATOMY);
  if (rc == EXIT_OK)
    rc = rq.kind == KIND_ANATOMY ? draw_anatomy(&c, &ar) : rq.y == NULL ? draw_presets(&c) : draw(&c, &rq);
  g_free(c.plotdir);
  g_free(c.gnuplot);
  g_free(c.scripts);
  table_free(&c.sum);
  return rc;
}
