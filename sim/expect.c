/* expect.c: `dhtsim check SCENARIO --expect FILE [--record]` (see compare.h).
 *
 * The run goes into a temporary --out folder, which is read back with the
 * reader of `dhtsim compare`, so that check and compare apply the very same
 * statistics to the very same numbers; the cost is writing and reading the
 * run's files once (small next to simulating them).
 *
 * The expectation keeps, per point and figure, what the tests need and no
 * more: n, the mean and standard deviation, the replicas and the
 * between-replica error of the mean (Welch's t needs nothing else) and
 * the nearest-rank quantiles at a grid of 191 probabilities, 1 % apart below
 * 0.9 and 0.1 % apart from 0.9 to 1, from which the lookups are rebuilt for the
 * bootstrap of p95 and p99. The rebuilt values are exact from 0.9 up for up
 * to 1,000 lookups a point (every order statistic there is a grid point), and
 * below 0.9 for up to 100; p95 and p99 of the rebuilt sample are the recorded
 * ones. The file is ~12 KB per point (9 figures, 191 quantiles each at %.17g). */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "compare.h"
#include "error.h"
#include "outfile.h"
#include "scenario.h"
#include "stats.h"
#include "sweep.h"
#include "text.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

#define EXPECT_FORMAT "dhtsim-expect 1"
/* The largest expectation file read: ~12 KB a point, SIM_CMP_POINTS_MAX points. */
#define EXPECT_BYTES_MAX (160u << 20)
enum { GRID = 191 };

/* The grid's probabilities, in thousandths: 0, 10, ..., 890, then 900, 901, ..., 1000. */
static unsigned grid_permille(int i) {
  return i < 90 ? (unsigned)i * 10u : 900u + (unsigned)(i - 90);
}

/* The nearest rank (1-based) of probability g/1000 among n values. */
static uint64_t grid_rank(unsigned g, uint64_t n) {
  uint64_t r = ((uint64_t)g * n + 999) / 1000;
  return r == 0 ? 1 : r;
}

/* ---- writing ---- */

static void write_expect(FILE *f, const sim_cmp_side *s, const char *scenario) {
  bool first = true;
  fputs("{\n  \"format\": \"" EXPECT_FORMAT "\",\n  \"scenario\": ", f);
  sim_write_json_string(f, scenario);
  fputs(",\n  \"sweep\": [", f);
  for (int p = 0; p < SIM_PARAM_COUNT; p++)
    if (s->swept[p]) {
      fprintf(f, "%s\"%s\"", first ? "" : ", ", sim_params[p].key);
      first = false;
    }
  fputs("],\n  \"grid_permille\": [", f);
  for (int i = 0; i < GRID; i++)
    fprintf(f, "%s%u", i ? ", " : "", grid_permille(i));
  fputs("],\n  \"points\": [", f);
  for (size_t i = 0; i < s->n; i++) {
    const sim_cmp_point *pt = &s->pts[i];
    fprintf(f, "%s\n    {\"point\": %" PRIu64 ",\n     \"params\": {", i ? "," : "", pt->index);
    bool first_param = true;
    for (int p = 0; p < SIM_PARAM_COUNT; p++) {
      /* A quiet key the outputs did not show: not written, so that an older
       * scenario's expectations keep their bytes (param.h). */
      if (pt->param[p] == NULL && (sim_params[p].flags & SIM_PARAM_QUIET))
        continue;
      fprintf(f, "%s\"%s\": ", first_param ? "" : ", ", sim_params[p].key);
      first_param = false;
      if (pt->param[p] == NULL)
        fputs("null", f);
      else
        sim_write_json_string(f, pt->param[p]);
    }
    fputs("},\n     \"figures\": {", f);
    first = true;
    for (int fg = 0; fg < SIM_CMP_FIG_COUNT; fg++) {
      const sim_cmp_sample *m = &pt->fig[fg];
      if (!s->column[fg])
        continue;
      /* %.17g: the doubles read back bit for bit. */
      fprintf(f,
              "%s\n       \"%s\": {\"n\": %" PRIu64 ", \"mean\": %.17g, \"sd\": %.17g, \"replicas\": %" PRIu32
              ", \"replica_se2\": %.17g, \"q\": [",
              first ? "" : ",", sim_cmp_figures[fg].name, m->n, m->mean, sqrt(m->var), m->clusters, m->cluster_se2);
      first = false;
      for (int g = 0; g < GRID && m->n > 0; g++)
        fprintf(f, "%s%.17g", g ? ", " : "", m->v[grid_rank(grid_permille(g), m->n) - 1]);
      fputs("]}", f);
    }
    fputs("}}", f);
  }
  fputs("\n  ]\n}\n", f);
}

/* ---- reading (libyaml: JSON is YAML's flow style) ---- */

typedef struct jreader {
  yaml_document_t doc;
  const char *file;
  char *err;
  size_t errlen;
} jreader;

static yaml_node_t *jget(jreader *j, yaml_node_t *map, const char *key) {
  if (map == NULL || map->type != YAML_MAPPING_NODE)
    return NULL;
  for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
    yaml_node_t *k = yaml_document_get_node(&j->doc, p->key);
    if (k != NULL && k->type == YAML_SCALAR_NODE && strcmp((const char *)k->data.scalar.value, key) == 0)
      return yaml_document_get_node(&j->doc, p->value);
  }
  return NULL;
}

static const char *jscalar(yaml_node_t *n) {
  return n != NULL && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int jfail(jreader *j, const char *where, const char *what) {
  snprintf(j->err, j->errlen, "dhtsim check: %s: %s: expected %s (a file written by dhtsim check --record)", j->file,
           where, what);
  return DHT_EINVAL;
}

static bool jnumber(yaml_node_t *n, double *out) {
  const char *s = jscalar(n);
  char *end;
  if (s == NULL || s[0] == '\0' || sim_is_space(s[0]))
    return false;
  errno = 0;
  *out = strtod(s, &end);
  return *end == '\0' && errno == 0 && isfinite(*out);
}

/* Rebuilds the n lookups of a sample from its grid quantiles q[GRID]: the
 * j-th smallest is the quantile of the first grid point whose nearest rank is
 * at least j (the step inverse of the quantiles). */
static int rebuild(sim_cmp_sample *m, const double *q) {
  int g = 0;
  m->v = g_try_new(double, m->n ? m->n : 1);
  if (m->v == NULL)
    return DHT_ENOMEM;
  m->cap = m->n;
  for (uint64_t j = 1; j <= m->n; j++) {
    while (g < GRID - 1 && grid_rank(grid_permille(g), m->n) < j)
      g++;
    m->v[j - 1] = q[g];
  }
  return 0;
}

static int read_figure(jreader *j, yaml_node_t *node, const char *where, sim_cmp_sample *m, uint64_t *total) {
  double n, mean, sd, q[GRID];
  yaml_node_t *qn = jget(j, node, "q");
  if (!jnumber(jget(j, node, "n"), &n) || n < 0 || n != floor(n) || n > SIM_CMP_LOOKUPS_MAX)
    return jfail(j, where, "\"n\": a number of lookups");
  if (!jnumber(jget(j, node, "mean"), &mean) || !jnumber(jget(j, node, "sd"), &sd) || sd < 0)
    return jfail(j, where, "\"mean\" and \"sd\" (>= 0) numbers");
  m->n = (uint64_t)n;
  m->mean = mean;
  m->var = sd * sd;
  {
    /* The between-replica error of the mean (compare.c's mean_error). */
    double reps, se2;
    if (!jnumber(jget(j, node, "replicas"), &reps) || reps < 0 || reps != floor(reps) || reps > SIM_REPLICAS_MAX ||
        !jnumber(jget(j, node, "replica_se2"), &se2) || se2 < 0)
      return jfail(j, where, "\"replicas\" (a count) and \"replica_se2\" (>= 0)");
    m->clusters = (uint32_t)reps;
    m->cluster_se2 = se2;
  }
  *total += m->n;
  if (*total > SIM_CMP_LOOKUPS_MAX)
    return jfail(j, where, "at most " G_STRINGIFY(SIM_CMP_LOOKUPS_MAX) " lookups in all");
  if (qn == NULL || qn->type != YAML_SEQUENCE_NODE ||
      (qn->data.sequence.items.top - qn->data.sequence.items.start) != (m->n ? GRID : 0))
    return jfail(j, where, "\"q\": 191 ascending quantiles (none when n is 0)");
  if (m->n == 0)
    return 0;
  for (int g = 0; g < GRID; g++)
    if (!jnumber(yaml_document_get_node(&j->doc, qn->data.sequence.items.start[g]), &q[g]) || (g && q[g] < q[g - 1]))
      return jfail(j, where, "\"q\": 191 ascending quantiles");
  return rebuild(m, q);
}

static int read_point(jreader *j, yaml_node_t *node, size_t i, sim_cmp_side *s, uint64_t *total) {
  sim_cmp_point *pt = &s->pts[i];
  yaml_node_t *params = jget(j, node, "params"), *figs = jget(j, node, "figures");
  char where[96];
  double idx;
  snprintf(where, sizeof where, "points[%zu]", i);
  if (!jnumber(jget(j, node, "point"), &idx) || idx < 0 || idx != floor(idx) || idx > 1e15)
    return jfail(j, where, "\"point\": the point's index");
  pt->index = (uint64_t)idx;
  if (params == NULL || params->type != YAML_MAPPING_NODE || figs == NULL || figs->type != YAML_MAPPING_NODE)
    return jfail(j, where, "\"params\" and \"figures\" objects");
  for (int p = 0; p < SIM_PARAM_COUNT; p++) {
    yaml_node_t *v = jget(j, params, sim_params[p].key);
    const char *t = jscalar(v);
    if (t == NULL || (strcmp(t, "null") == 0 && v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE))
      continue;
    if (strlen(t) > SIM_PARAM_TEXT_SIZE)
      return jfail(j, where, "parameter values of at most 8192 bytes");
    pt->param[p] = g_try_malloc(strlen(t) + 1);
    if (pt->param[p] == NULL)
      return DHT_ENOMEM;
    strcpy(pt->param[p], t);
  }
  for (int f = 0; f < SIM_CMP_FIG_COUNT; f++) {
    yaml_node_t *fn = jget(j, figs, sim_cmp_figures[f].name);
    int rc;
    if (fn == NULL) {
      if (s->column[f] && i > 0)
        return jfail(j, where, "the same figures in every point");
      continue;
    }
    if (i == 0)
      s->column[f] = true;
    else if (!s->column[f])
      return jfail(j, where, "the same figures in every point");
    snprintf(where, sizeof where, "points[%zu].figures.%s", i, sim_cmp_figures[f].name);
    if ((rc = read_figure(j, fn, where, &pt->fig[f], total)) < 0)
      return rc;
  }
  return 0;
}

static int read_expect(sim_cmp_side *s, const char *file, char *err, size_t errlen) {
  FILE *f = fopen(file, "rb");
  unsigned char *data = NULL;
  size_t len = 0;
  yaml_parser_t parser;
  jreader j = {.file = file, .err = err, .errlen = errlen};
  yaml_node_t *root, *pts, *grid, *sweep;
  uint64_t total = 0;
  int rc = 0;
  memset(s, 0, sizeof *s);
  if (f == NULL) {
    snprintf(err, errlen, "dhtsim check: %s: %s (record one with dhtsim check SCENARIO --expect %s --record)", file,
             strerror(errno), file);
    return DHT_EINVAL;
  }
  {
    /* The file's size, bounded, is what is allocated (not the bound). */
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 0 ||
        (uint64_t)st.st_size > EXPECT_BYTES_MAX) {
      fclose(f);
      snprintf(err, errlen, "dhtsim check: %s: not a regular file of at most %u bytes: not an expectation file", file,
               EXPECT_BYTES_MAX);
      return DHT_EINVAL;
    }
    data = g_try_malloc((size_t)st.st_size + 1);
    if (data == NULL) {
      fclose(f);
      return DHT_ENOMEM;
    }
    len = fread(data, 1, (size_t)st.st_size + 1, f);
    fclose(f);
    if (len != (size_t)st.st_size) {
      g_free(data);
      snprintf(err, errlen, "dhtsim check: %s: changed while it was read", file);
      return DHT_EINVAL;
    }
  }
  s->name = g_try_malloc(strlen(file) + 1);
  if (s->name == NULL || !yaml_parser_initialize(&parser)) {
    g_free(data);
    return DHT_ENOMEM;
  }
  strcpy(s->name, file);
  yaml_parser_set_input_string(&parser, data, len);
  if (!yaml_parser_load(&parser, &j.doc)) {
    snprintf(err, errlen, "dhtsim check: %s line %zu: not JSON: %s", file, parser.problem_mark.line + 1,
             parser.problem ? parser.problem : "syntax error");
    yaml_parser_delete(&parser);
    g_free(data);
    return DHT_EINVAL;
  }
  yaml_parser_delete(&parser);
  g_free(data);
  root = yaml_document_get_root_node(&j.doc);
  pts = jget(&j, root, "points");
  grid = jget(&j, root, "grid_permille");
  sweep = jget(&j, root, "sweep");
  if (jscalar(jget(&j, root, "format")) == NULL || strcmp(jscalar(jget(&j, root, "format")), EXPECT_FORMAT) != 0) {
    rc = jfail(&j, "format", "\"" EXPECT_FORMAT "\"");
    goto out;
  }
  if (grid == NULL || grid->type != YAML_SEQUENCE_NODE || grid->data.sequence.items.top - grid->data.sequence.items.start != GRID) {
    rc = jfail(&j, "grid_permille", "the 191 grid points of this version");
    goto out;
  }
  for (int g = 0; g < GRID; g++) {
    double v;
    if (!jnumber(yaml_document_get_node(&j.doc, grid->data.sequence.items.start[g]), &v) || v != grid_permille(g)) {
      rc = jfail(&j, "grid_permille", "the 191 grid points of this version");
      goto out;
    }
  }
  if (sweep == NULL || sweep->type != YAML_SEQUENCE_NODE) {
    rc = jfail(&j, "sweep", "a list of keys");
    goto out;
  }
  for (yaml_node_item_t *it = sweep->data.sequence.items.start; it < sweep->data.sequence.items.top; it++) {
    const char *k = jscalar(yaml_document_get_node(&j.doc, *it));
    int id = k ? sim_param_find(k, strlen(k)) : -1;
    if (id < 0) {
      rc = jfail(&j, "sweep", "scenario keys");
      goto out;
    }
    s->swept[id] = true;
  }
  if (pts == NULL || pts->type != YAML_SEQUENCE_NODE || pts->data.sequence.items.top == pts->data.sequence.items.start ||
      pts->data.sequence.items.top - pts->data.sequence.items.start > SIM_CMP_POINTS_MAX) {
    rc = jfail(&j, "points", "a list of 1 to 10000 points");
    goto out;
  }
  s->n = (size_t)(pts->data.sequence.items.top - pts->data.sequence.items.start);
  s->pts = g_try_new0(sim_cmp_point, s->n);
  if (s->pts == NULL) {
    s->n = 0;
    rc = DHT_ENOMEM;
    goto out;
  }
  for (size_t i = 0; i < s->n && rc == 0; i++)
    rc = read_point(&j, yaml_document_get_node(&j.doc, pts->data.sequence.items.start[i]), i, s, &total);
out:
  yaml_document_delete(&j.doc);
  if (rc == DHT_ENOMEM)
    snprintf(err, errlen, "dhtsim check: out of memory reading %s", file);
  return rc;
}

/* ---- the run ---- */

/* Removes the temporary output folder: its files and parts/ (one level
 * of folders is all a run writes). */
static void remove_tree(const char *path) {
  GDir *d = g_dir_open(path, 0, NULL);
  const char *n;
  while (d != NULL && (n = g_dir_read_name(d)) != NULL) {
    char *p = g_build_filename(path, n, NULL);
    if (g_file_test(p, G_FILE_TEST_IS_DIR) && !g_file_test(p, G_FILE_TEST_IS_SYMLINK))
      remove_tree(p);
    else
      g_remove(p);
    g_free(p);
  }
  if (d != NULL)
    g_dir_close(d);
  g_rmdir(path);
}

static int run_scenario(const char *path, bool seed_set, uint64_t seed, unsigned jobs, sim_cmp_side *out) {
  sim_scenario sc;
  sim_sweep_options o = {0};
  sim_sweep_report rep;
  char err[1024];
  GError *ge = NULL;
  char *tmp;
  int rc, status = EXIT_OK;
  if (sim_scenario_load(&sc, path, err, sizeof err) < 0) {
    fprintf(stderr, "%s\n", err);
    return EXIT_USAGE;
  }
  if (seed_set)
    sc.seed = seed;
  for (uint64_t p = 0; p < sim_scenario_point_count(&sc); p++) {
    sim_scenario pt;
    if (sim_scenario_point(&sc, p, &pt, err, sizeof err) < 0) {
      fprintf(stderr, "%s\n", err);
      sim_scenario_clear(&sc);
      return EXIT_USAGE;
    }
  }
  tmp = g_dir_make_tmp("dhtsim-check-XXXXXX", &ge);
  if (tmp == NULL) {
    fprintf(stderr, "dhtsim check: cannot create a temporary folder: %s\n", ge ? ge->message : "?");
    g_clear_error(&ge);
    sim_scenario_clear(&sc);
    return EXIT_FAIL;
  }
  o.out_dir = tmp;
  o.jobs = jobs;
  rc = sim_sweep_run(&sc, &o, &rep, err, sizeof err);
  sim_sweep_report_clear(&rep);
  sim_scenario_clear(&sc);
  if (rc < 0) {
    fprintf(stderr, "%s\n", err);
    status = rc == DHT_ENOMEM || rc == DHT_EIO ? EXIT_FAIL : EXIT_USAGE;
  } else if ((rc = sim_cmp_side_read(out, tmp, "check", err, sizeof err)) < 0) {
    fprintf(stderr, "%s\n", err);
    status = EXIT_FAIL;
  } else {
    /* Name the side by the scenario, not by the folder that is gone. */
    char *name = g_try_malloc(strlen(path) + 1);
    if (name == NULL) {
      status = EXIT_FAIL;
    } else {
      strcpy(name, path);
      g_free(out->name);
      out->name = name;
    }
  }
  remove_tree(tmp);
  g_free(tmp);
  return status;
}

static const char check_usage[] =
    "Usage: dhtsim check SCENARIO --expect FILE [--record] [--seed N] [-j N]\n"
    "                    [--figure NAME]... [--tolerance PCT] [--alpha A] [--junit FILE]\n"
    "                    [--format table|csv|json]\n";

static const char check_help[] =
    "\n"
    "Runs SCENARIO and compares its lookups with the expectation FILE, with the\n"
    "statistics of `dhtsim compare` (FILE is the base, the run is new). With --record,\n"
    "writes FILE from the run instead: per point and figure n, mean, standard\n"
    "deviation and 191 quantiles (docs/regression.md).\n"
    "\n"
    "Options:\n"
    "  --expect FILE     the expectation (required)\n"
    "  --record          write FILE from this run and exit 0\n"
    "  --seed N          run with seed N instead of the scenario's\n"
    "  -j, --jobs N      threads (the results are the same for every N)\n";

int sim_check_main(int argc, char **argv) {
  const char *path = NULL, *expect = NULL;
  bool record = false, seed_set = false;
  uint64_t seed = 0, jobs = 0;
  sim_cmp_options o;
  sim_cmp_side run, exp;
  char err[1024];
  int status;
  sim_cmp_options_init(&o);
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    int rc;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      printf("%s%s%s\nExit status: 0 as expected (or recorded), 1 something worse (or a failure), 2 bad usage.\n",
             check_usage, check_help, sim_cmp_options_help);
      return EXIT_OK;
    }
    rc = sim_cmp_option(&o, argc, argv, &i, "check");
    if (rc < 0)
      goto usage;
    if (rc > 0)
      continue;
    if (strcmp(a, "--record") == 0) {
      record = true;
    } else if (strcmp(a, "--expect") == 0 || strcmp(a, "--seed") == 0 || strcmp(a, "-j") == 0 ||
               strcmp(a, "--jobs") == 0) {
      const char *v;
      if (i + 1 >= argc) {
        fprintf(stderr, "dhtsim check: option %s needs a value\n", a);
        goto usage;
      }
      v = argv[++i];
      if (strcmp(a, "--expect") == 0) {
        expect = v;
      } else if (strcmp(a, "--seed") == 0) {
        if (!sim_parse_u64(v, &seed)) {
          fprintf(stderr, "dhtsim check: --seed expects an unsigned integer, got '%s'\n", v);
          goto usage;
        }
        seed_set = true;
      } else if (!sim_parse_u64(v, &jobs) || jobs == 0 || jobs > 1024) {
        fprintf(stderr, "dhtsim check: -j expects a number of threads from 1 to 1024, got '%s'\n", v);
        goto usage;
      }
    } else if (a[0] == '-' && a[1] != '\0') {
      fprintf(stderr, "dhtsim check: unknown option %s\n", a);
      goto usage;
    } else if (path == NULL) {
      path = a;
    } else {
      fprintf(stderr, "dhtsim check: unexpected argument '%s'\n", a);
      goto usage;
    }
  }
  if (path == NULL || expect == NULL) {
    fprintf(stderr, "dhtsim check: needs a SCENARIO and --expect FILE\n");
    goto usage;
  }
  memset(&exp, 0, sizeof exp);
  /* Read the expectation first: a bad file fails before the simulation's cost. */
  if (!record) {
    int rc = read_expect(&exp, expect, err, sizeof err);
    if (rc < 0) {
      fprintf(stderr, "%s\n", err);
      sim_cmp_side_clear(&exp);
      return rc == DHT_ENOMEM ? EXIT_FAIL : EXIT_USAGE;
    }
  }
  memset(&run, 0, sizeof run);
  status = run_scenario(path, seed_set, seed, (unsigned)jobs, &run);
  if (status != EXIT_OK) {
    sim_cmp_side_clear(&run);
    sim_cmp_side_clear(&exp);
    return status;
  }
  if (record) {
    sim_outfile of;
    if (sim_outfile_open(&of, expect, err, sizeof err) < 0 ||
        (write_expect(of.f, &run, path), sim_outfile_commit(&of, err, sizeof err) < 0)) {
      fprintf(stderr, "dhtsim check: %s\n", err);
      status = EXIT_FAIL;
    } else {
      printf("dhtsim check: recorded %zu point%s of %s into %s\n", run.n, run.n == 1 ? "" : "s", path, expect);
    }
  } else {
    status = sim_cmp_report(&exp, &run, &o, "check", stdout);
  }
  sim_cmp_side_clear(&run);
  sim_cmp_side_clear(&exp);
  return status;
usage:
  fputs(check_usage, stderr);
  return EXIT_USAGE;
}
