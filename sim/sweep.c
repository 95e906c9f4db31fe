/* sweep.c: points x replicas on a thread pool; each finished point goes to
 * DIR/parts/ as final text, and the output files are assembled from those
 * parts in point order, so the bytes never depend on threads, shards or resumes. */
#include "sweep.h"

#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "message.h"
#include "outfile.h"
#include "sim.h"

#define MANIFEST_MAGIC "dhtsim-output v1"

/* What identifies a run's output, kept in DIR/parts/manifest. */
typedef struct meta {
  char *name;        /* owned */
  uint64_t seed;
  uint64_t points;
  uint32_t replicas;
  char *sweep_keys;  /* owned: keys separated by single spaces ("" without sweep) */
  char fingerprint[17];
  uint32_t shard_index, shard_count;
} meta;

static void meta_clear(meta *m) {
  g_free(m->name);
  g_free(m->sweep_keys);
  memset(m, 0, sizeof *m);
}

static uint64_t fnv1a(uint64_t h, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    h = (h ^ (uint8_t)s[i]) * 0x100000001b3ULL;
  return h;
}

/* Everything that changes the numbers of a run, as text: two scenarios with the
 * same fingerprint produce the same parts. */
static void fingerprint(const sim_scenario *sc, uint64_t lookups, char out[17]) {
  GString *s = g_string_new(NULL);
  uint64_t h = 0xcbf29ce484222325ULL;
  g_string_append_printf(s, "name=%s\nseed=%" PRIu64 "\nnodes=%" PRIu64 "\ntables=%d\ntopology=%s\n", sc->name,
                         sc->seed, sc->network.nodes, (int)sc->network.tables,
                         sc->network.topology ? sc->network.topology : "");
  g_string_append_printf(s, "latency=%d %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %.17g %.17g %.17g\n",
                         (int)sc->latency.model, sc->latency.delay_us, sc->latency.min_us, sc->latency.max_us,
                         sc->latency.median_us, sc->latency.sigma, sc->latency.slow_fraction,
                         sc->latency.slow_multiplier);
  g_string_append_printf(s, "loss=%.17g %.17g %.17g\n", sc->loss.request_drop, sc->loss.response_drop,
                         sc->loss.dead_fraction);
  g_string_append_printf(s, "lookup=%d %u %u %" PRIu64 "\n", (int)sc->lookup.strategy, sc->lookup.alpha,
                         sc->lookup.k, sc->lookup.timeout_us);
  g_string_append_printf(s, "workload=%" PRIu64 " %u %u %d %.17g %s\n", lookups ? lookups : sc->workload.lookups,
                         sc->workload.planted_peers, sc->workload.plant_at, (int)sc->workload.arrival,
                         sc->workload.rate_per_s, sc->workload.lookups_file ? sc->workload.lookups_file : "");
  g_string_append_printf(s, "replicas=%u\n", sc->replicas);
  for (size_t i = 0; i < sc->n_sweep; i++) {
    g_string_append_printf(s, "sweep=%s", sc->sweep[i].key);
    for (size_t j = 0; j < sc->sweep[i].n; j++)
      g_string_append_printf(s, " %s", sc->sweep[i].values[j]);
    g_string_append_c(s, '\n');
  }
  h = fnv1a(h, s->str, s->len);
  snprintf(out, 17, "%016" PRIx64, h);
  g_string_free(s, TRUE);
}

static void meta_from_scenario(meta *m, const sim_scenario *sc, const sim_sweep_options *opt) {
  GString *keys = g_string_new(NULL);
  memset(m, 0, sizeof *m);
  m->name = g_strdup(sc->name);
  m->seed = sc->seed;
  m->points = sim_scenario_point_count(sc);
  m->replicas = sc->replicas;
  for (size_t i = 0; i < sc->n_sweep; i++)
    g_string_append_printf(keys, "%s%s", i ? " " : "", sc->sweep[i].key);
  m->sweep_keys = g_string_free(keys, FALSE);
  fingerprint(sc, opt->lookups, m->fingerprint);
  m->shard_index = opt->shard_count > 1 ? opt->shard_index : 0;
  m->shard_count = opt->shard_count > 1 ? opt->shard_count : 1;
}

/* ---- files ---- */

static char *part_path(const char *dir, uint64_t point, const char *ext) {
  char name[64];
  snprintf(name, sizeof name, "point-%08" PRIu64 ".%s", point, ext);
  return g_build_filename(dir, "parts", name, NULL);
}

static char *manifest_text(const meta *m) {
  return g_strdup_printf(MANIFEST_MAGIC "\nscenario %s\nseed %" PRIu64 "\nfingerprint %s\npoints %" PRIu64
                                       "\nreplicas %" PRIu32 "\nsweep %s\nshard %" PRIu32 "/%" PRIu32 "\n",
                         m->name, m->seed, m->fingerprint, m->points, m->replicas, m->sweep_keys, m->shard_index,
                         m->shard_count);
}

static int write_manifest(const char *dir, const meta *m, char *err, size_t errlen) {
  char *path = g_build_filename(dir, "parts", "manifest", NULL);
  char *text = manifest_text(m);
  int rc = sim_outfile_write(path, text, strlen(text), err, errlen);
  g_free(text);
  g_free(path);
  return rc;
}

/* Reads DIR/parts/manifest. DHT_ENOENT if absent, DHT_EINVAL if malformed. */
static int read_manifest(const char *dir, meta *m, char *err, size_t errlen) {
  char *path = g_build_filename(dir, "parts", "manifest", NULL);
  char *text = NULL;
  char **lines = NULL;
  int rc = 0;
  memset(m, 0, sizeof *m);
  if (!g_file_get_contents(path, &text, NULL, NULL)) {
    rc = sim_fail(err, errlen, DHT_ENOENT, "%s: not a dhtsim output folder (no parts/manifest)", dir);
    goto out;
  }
  lines = g_strsplit(text, "\n", -1);
  if (g_strv_length(lines) < 8 || strcmp(lines[0], MANIFEST_MAGIC) != 0 ||
      !g_str_has_prefix(lines[1], "scenario ") || !g_str_has_prefix(lines[5], "replicas ") ||
      !g_str_has_prefix(lines[6], "sweep") ||
      sscanf(lines[2], "seed %" SCNu64, &m->seed) != 1 || sscanf(lines[3], "fingerprint %16s", m->fingerprint) != 1 ||
      sscanf(lines[4], "points %" SCNu64, &m->points) != 1 || sscanf(lines[5], "replicas %" SCNu32, &m->replicas) != 1 ||
      sscanf(lines[7], "shard %" SCNu32 "/%" SCNu32, &m->shard_index, &m->shard_count) != 2 || m->points == 0 ||
      m->points > SIM_POINTS_MAX || m->shard_count == 0) {
    rc = sim_fail(err, errlen, DHT_EINVAL, "%s: malformed manifest", path);
    goto out;
  }
  m->name = g_strdup(lines[1] + strlen("scenario "));
  m->sweep_keys = g_strdup(lines[6][5] == ' ' ? lines[6] + 6 : "");
out:
  if (rc < 0)
    meta_clear(m);
  g_strfreev(lines);
  g_free(text);
  g_free(path);
  return rc;
}

static bool same_run(const meta *a, const meta *b) {
  return strcmp(a->fingerprint, b->fingerprint) == 0 && a->points == b->points && a->replicas == b->replicas &&
         a->seed == b->seed && strcmp(a->name, b->name) == 0 && strcmp(a->sweep_keys, b->sweep_keys) == 0;
}

/* Loads a finished point's summary row and JSON element. false if not finished. */
static bool load_point(const char *dir, uint64_t p, char **row, char **json) {
  char *jp = part_path(dir, p, "json"), *sp = part_path(dir, p, "summary.csv");
  bool ok = g_file_get_contents(jp, json, NULL, NULL);
  if (ok && !g_file_get_contents(sp, row, NULL, NULL)) {
    g_free(*json);
    *json = NULL;
    ok = false;
  }
  g_free(jp);
  g_free(sp);
  return ok;
}

/* ---- output text ---- */

static int summary_csv(FILE *f, char *const *rows, uint64_t points) {
  int rc = sim_write_summary_header(f);
  for (uint64_t p = 0; p < points && rc == 0; p++)
    if (rows[p] != NULL && fputs(rows[p], f) == EOF)
      rc = DHT_EIO;
  return rc;
}

static int summary_json(FILE *f, const meta *m, char *const *json, uint64_t points) {
  char **keys = g_strsplit(m->sweep_keys, " ", -1);
  bool first = true;
  fprintf(f, "{\n  \"scenario\": ");
  sim_write_json_string(f, m->name);
  fprintf(f, ",\n  \"seed\": %" PRIu64 ",\n  \"replicas\": %" PRIu32 ",\n  \"sweep\": [", m->seed, m->replicas);
  for (size_t i = 0; keys[i] != NULL && keys[i][0] != '\0'; i++) {
    fprintf(f, "%s", i ? ", " : "");
    sim_write_json_string(f, keys[i]);
  }
  g_strfreev(keys);
  fprintf(f, "],\n  \"points\": [\n");
  for (uint64_t p = 0; p < points; p++) {
    if (json[p] == NULL)
      continue;
    fprintf(f, "%s%s", first ? "" : ",\n", json[p]);
    first = false;
  }
  fprintf(f, "%s  ]\n}\n", first ? "" : "\n");
  return ferror(f) ? DHT_EIO : 0;
}

typedef int (*text_fn)(FILE *f, const void *a, const void *b, uint64_t n);

static int w_summary_csv(FILE *f, const void *a, const void *b, uint64_t n) {
  (void)b;
  return summary_csv(f, a, n);
}

static int w_summary_json(FILE *f, const void *a, const void *b, uint64_t n) { return summary_json(f, b, a, n); }

/* Renders text through fn into memory and writes it atomically. */
static int write_rendered(const char *path, text_fn fn, const void *a, const void *b, uint64_t n, char *err,
                          size_t errlen) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  int rc;
  if (f == NULL)
    return sim_fail(err, errlen, DHT_ENOMEM, "out of memory");
  rc = fn(f, a, b, n);
  if (fclose(f) != 0 || rc < 0) {
    free(buf);
    return sim_fail(err, errlen, DHT_ENOMEM, "out of memory rendering %s", path);
  }
  rc = sim_outfile_write(path, buf, len, err, errlen);
  free(buf);
  return rc;
}

/* Concatenates the parts `ext` of the finished points under a header into path. */
static int concat_parts(const char *dir, const char *path, const char *header, char *const *rows, uint64_t points,
                        char *err, size_t errlen) {
  sim_outfile out;
  const char *ext = strstr(path, "runs.csv") ? "runs.csv" : "lookups.csv";
  char buf[1 << 16];
  int rc = sim_outfile_open(&out, path, err, errlen);
  if (rc < 0)
    return rc;
  fputs(header, out.f);
  for (uint64_t p = 0; p < points && rc == 0; p++) {
    char *pp;
    FILE *in;
    size_t n;
    if (rows[p] == NULL)
      continue;
    pp = part_path(dir, p, ext);
    in = fopen(pp, "rb");
    if (in == NULL) {
      rc = sim_fail(err, errlen, DHT_EIO, "cannot read %s: %s", pp, g_strerror(errno));
      g_free(pp);
      break;
    }
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
      if (fwrite(buf, 1, n, out.f) != n)
        break;
    if (ferror(in))
      rc = sim_fail(err, errlen, DHT_EIO, "cannot read %s: %s", pp, g_strerror(errno));
    fclose(in);
    g_free(pp);
  }
  if (rc < 0) {
    sim_outfile_abort(&out);
    return rc;
  }
  return sim_outfile_commit(&out, err, errlen);
}

static char *header_text(int (*fn)(FILE *)) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (f == NULL)
    return NULL;
  fn(f);
  fclose(f);
  return buf;
}

/* Writes summary.csv, summary.json, runs.csv and lookups.csv of the finished points. */
static int assemble(const char *dir, const meta *m, char *const *rows, char *const *json, char *err,
                    size_t errlen) {
  char *p1 = g_build_filename(dir, "summary.csv", NULL), *p2 = g_build_filename(dir, "summary.json", NULL);
  char *p3 = g_build_filename(dir, "runs.csv", NULL), *p4 = g_build_filename(dir, "lookups.csv", NULL);
  char *h3 = header_text(sim_write_runs_header), *h4 = header_text(sim_write_lookups_header);
  int rc;
  if (h3 == NULL || h4 == NULL)
    rc = sim_fail(err, errlen, DHT_ENOMEM, "out of memory");
  else if ((rc = write_rendered(p1, w_summary_csv, rows, NULL, m->points, err, errlen)) == 0 &&
           (rc = write_rendered(p2, w_summary_json, json, m, m->points, err, errlen)) == 0 &&
           (rc = concat_parts(dir, p3, h3, rows, m->points, err, errlen)) == 0)
    rc = concat_parts(dir, p4, h4, rows, m->points, err, errlen);
  free(h3);
  free(h4);
  g_free(p1);
  g_free(p2);
  g_free(p3);
  g_free(p4);
  return rc;
}

/* ---- running ---- */

typedef struct point_state {
  sim_results *res;     /* [replicas], kept until the point is written */
  sim_summary *sum;     /* [replicas] */
  uint32_t finished;    /* replicas finished */
} point_state;

typedef struct sweep {
  const sim_scenario *sc;
  const sim_sweep_options *opt;
  sim_sweep_report *rep;
  meta m;
  GMutex lock;
  point_state *ps;      /* [points] */
  bool single;          /* one point, one replica */
  uint64_t runs_total, runs_done;
  int error;            /* first failure (0 while none) */
  bool canceled;
  char err[1024];
} sweep;

static bool stopping(const sweep *s) { return s->opt->stop != NULL && *s->opt->stop; }

/* Renders the point's texts, writes its parts (json last: it marks the point
 * finished) and stores its summary row and JSON element in the report. Called
 * by the thread that finished the point's last replica, outside the lock. */
static int finish_point(sweep *s, uint64_t p, const sim_scenario *pt, const char *label, char *err, size_t errlen) {
  point_state *ps = &s->ps[p];
  uint32_t R = s->sc->replicas;
  sim_figures *fig = g_new(sim_figures, R);
  sim_agg agg[SIM_FIG_COUNT];
  char *row = NULL, *json = NULL, *runs = NULL, *lks = NULL;
  size_t lrow = 0, ljson = 0, lruns = 0, llks = 0;
  FILE *f;
  int rc = 0;

  for (uint32_t r = 0; r < R; r++)
    sim_summary_figures(&ps->sum[r], &fig[r]);
  sim_aggregate(fig, R, agg);
  g_free(fig);

  f = open_memstream(&row, &lrow);
  sim_write_summary_row(f, p, label, pt, s->sc->seed, ps->res[0].nodes, ps->res[0].n_lookups, R, agg);
  fclose(f);
  f = open_memstream(&json, &ljson);
  sim_write_point_json(f, p, label, pt, ps->res[0].nodes, ps->res[0].n_lookups, agg);
  fclose(f);
  if (row == NULL || json == NULL) {
    rc = sim_fail(err, errlen, DHT_ENOMEM, "out of memory");
    goto out;
  }
  if (s->opt->out_dir != NULL) {
    char *path;
    f = open_memstream(&runs, &lruns);
    for (uint32_t r = 0; r < R; r++)
      sim_write_runs_row(f, p, r, label, pt, &ps->sum[r]);
    fclose(f);
    f = open_memstream(&lks, &llks);
    for (uint32_t r = 0; r < R; r++)
      sim_write_lookups_rows(f, p, r, pt, &ps->res[r]);
    fclose(f);
    if (runs == NULL || lks == NULL) {
      rc = sim_fail(err, errlen, DHT_ENOMEM, "out of memory");
      goto out;
    }
    path = part_path(s->opt->out_dir, p, "runs.csv");
    rc = sim_outfile_write(path, runs, lruns, err, errlen);
    g_free(path);
    if (rc == 0) {
      path = part_path(s->opt->out_dir, p, "lookups.csv");
      rc = sim_outfile_write(path, lks, llks, err, errlen);
      g_free(path);
    }
    if (rc == 0) {
      path = part_path(s->opt->out_dir, p, "summary.csv");
      rc = sim_outfile_write(path, row, lrow, err, errlen);
      g_free(path);
    }
    if (rc == 0) {
      path = part_path(s->opt->out_dir, p, "json");
      rc = sim_outfile_write(path, json, ljson, err, errlen);
      g_free(path);
    }
  }
out:
  if (rc == 0) {
    g_mutex_lock(&s->lock);
    s->rep->summary_rows[p] = row;
    s->rep->point_json[p] = json;
    s->rep->done++;
    if (s->single) {
      s->rep->single = ps->sum[0];
      s->rep->have_single = true;
    }
    g_mutex_unlock(&s->lock);
    row = json = NULL;
  }
  free(row);
  free(json);
  free(runs);
  free(lks);
  for (uint32_t r = 0; r < R; r++)
    sim_results_clear(&ps->res[r]);
  g_free(ps->res);
  g_free(ps->sum);
  ps->res = NULL;
  ps->sum = NULL;
  return rc;
}

static void record_error(sweep *s, int rc, const char *msg) {
  g_mutex_lock(&s->lock);
  if (rc == DHT_ECANCELED) {
    s->canceled = true;
  } else if (s->error == 0) {
    s->error = rc;
    g_strlcpy(s->err, msg, sizeof s->err);
  }
  g_mutex_unlock(&s->lock);
}

/* Thread-pool task: one replica of one point. data = task number + 1. */
static void run_task(gpointer data, gpointer user) {
  sweep *s = user;
  uint64_t task = GPOINTER_TO_SIZE(data) - 1;
  uint32_t R = s->sc->replicas;
  uint64_t p = task / R;
  uint32_t r = (uint32_t)(task % R);
  sim_scenario pt;
  sim_options o = {0};
  sim_results res;
  sim_summary sum;
  char label[1024], err[1024];
  bool last;
  int rc;

  g_mutex_lock(&s->lock);
  rc = s->error;
  g_mutex_unlock(&s->lock);
  if (rc != 0 || stopping(s)) {
    if (stopping(s))
      record_error(s, DHT_ECANCELED, "");
    return;
  }
  if ((rc = sim_scenario_point(s->sc, p, &pt, err, sizeof err)) < 0) {
    record_error(s, rc, err);
    return;
  }
  sim_scenario_point_label(s->sc, p, label, sizeof label);
  o.seed_set = true;
  o.seed = sim_scenario_run_seed(s->sc, p, r);
  o.lookups = s->opt->lookups;
  o.stop = s->opt->stop;
  if (s->single) {
    o.progress = s->opt->lookups_progress;
    o.progress_user = s->opt->progress_user;
  }
  if ((rc = sim_run(&pt, &o, &res, err, sizeof err)) < 0) {
    record_error(s, rc, err);
    return;
  }
  if ((rc = sim_summary_compute(&sum, &pt, o.seed, &res)) < 0) {
    sim_results_clear(&res);
    record_error(s, rc, "out of memory computing statistics");
    return;
  }
  g_mutex_lock(&s->lock);
  if (s->ps[p].res == NULL) {
    s->ps[p].res = g_new0(sim_results, R);
    s->ps[p].sum = g_new0(sim_summary, R);
  }
  s->ps[p].res[r] = res;
  s->ps[p].sum[r] = sum;
  last = ++s->ps[p].finished == R;
  g_mutex_unlock(&s->lock);
  if (last && (rc = finish_point(s, p, &pt, label, err, sizeof err)) < 0)
    record_error(s, rc, err);
  g_mutex_lock(&s->lock);
  s->runs_done++;
  if (!s->single && s->opt->runs_progress != NULL)
    s->opt->runs_progress(s->opt->progress_user, s->runs_done, s->runs_total);
  g_mutex_unlock(&s->lock);
}

static bool selected(const sim_sweep_options *opt, uint64_t p) {
  return opt->shard_count <= 1 || p % opt->shard_count == opt->shard_index;
}

/* Prepares out_dir/parts: checks a previous run's manifest on --resume, else clears stale parts. */
static int prepare_dir(sweep *s, char *err, size_t errlen) {
  const char *dir = s->opt->out_dir;
  char *parts = g_build_filename(dir, "parts", NULL);
  meta old;
  int rc = 0;
  if (g_mkdir_with_parents(parts, 0777) != 0) {
    rc = sim_fail(err, errlen, DHT_EIO, "cannot create output folder %s: %s", parts, g_strerror(errno));
    goto out;
  }
  if (s->opt->resume) {
    char tmp[512];
    if (read_manifest(dir, &old, tmp, sizeof tmp) == 0) {
      bool same = same_run(&old, &s->m);
      meta_clear(&old);
      if (!same) {
        rc = sim_fail(err, errlen, DHT_EINVAL,
                  "%s: --resume: this folder holds the output of a different scenario or settings", dir);
        goto out;
      }
    }
  } else {
    GDir *d = g_dir_open(parts, 0, NULL);
    const char *name;
    while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
      if (g_str_has_prefix(name, "point-")) {
        char *p = g_build_filename(parts, name, NULL);
        g_remove(p);
        g_free(p);
      }
    }
    if (d != NULL)
      g_dir_close(d);
  }
  rc = write_manifest(dir, &s->m, err, errlen);
out:
  g_free(parts);
  return rc;
}

int sim_sweep_run(const sim_scenario *sc, const sim_sweep_options *opt, sim_sweep_report *rep, char *err,
                  size_t errlen) {
  sweep s;
  GThreadPool *pool = NULL;
  uint64_t points;
  unsigned jobs;
  int rc = 0;

  g_return_val_if_fail(sc != NULL && opt != NULL && rep != NULL, DHT_EINVAL);
  memset(rep, 0, sizeof *rep);
  memset(&s, 0, sizeof s);
  points = sim_scenario_point_count(sc);
  if (opt->shard_count > 1 && opt->shard_index >= opt->shard_count)
    return sim_fail(err, errlen, DHT_EINVAL, "shard %u/%u: the index must be below the count", opt->shard_index,
                opt->shard_count);
  s.sc = sc;
  s.opt = opt;
  s.rep = rep;
  g_mutex_init(&s.lock);
  meta_from_scenario(&s.m, sc, opt);
  s.single = points == 1 && sc->replicas == 1;
  rep->points = points;
  rep->summary_rows = g_try_new0(char *, points);
  rep->point_json = g_try_new0(char *, points);
  s.ps = g_try_new0(point_state, points);
  if (rep->summary_rows == NULL || rep->point_json == NULL || s.ps == NULL) {
    rc = sim_fail(err, errlen, DHT_ENOMEM, "out of memory for %" PRIu64 " points", points);
    goto out;
  }
  if (opt->out_dir != NULL && (rc = prepare_dir(&s, err, errlen)) < 0)
    goto out;

  for (uint64_t p = 0; p < points; p++) {
    if (!selected(opt, p))
      continue;
    rep->selected++;
    if (opt->resume && opt->out_dir != NULL && load_point(opt->out_dir, p, &rep->summary_rows[p], &rep->point_json[p])) {
      rep->resumed++;
      rep->done++;
      continue;
    }
    s.runs_total += sc->replicas;
  }

  jobs = opt->jobs ? opt->jobs : g_get_num_processors();
  if (s.runs_total > 0) {
    GError *gerr = NULL;
    pool = g_thread_pool_new(run_task, &s, (gint)jobs, FALSE, &gerr);
    if (pool == NULL) {
      rc = sim_fail(err, errlen, DHT_ENOMEM, "cannot start worker threads: %s", gerr ? gerr->message : "?");
      g_clear_error(&gerr);
      goto out;
    }
    /* Tasks start in push order: point-major, replica-minor. A push whose
     * thread cannot be created still queues its task: fine while another
     * worker runs, but with none the wait below would never end. */
    bool no_worker = false;
    for (uint64_t p = 0; p < points && !no_worker; p++) {
      if (!selected(opt, p) || rep->summary_rows[p] != NULL)
        continue;
      for (uint32_t r = 0; r < sc->replicas && !no_worker; r++) {
        if (!g_thread_pool_push(pool, GSIZE_TO_POINTER((gsize)(p * sc->replicas + r) + 1), &gerr) &&
            g_thread_pool_get_num_threads(pool) == 0) {
          char msg[256];
          snprintf(msg, sizeof msg, "cannot start worker threads: %s", gerr ? gerr->message : "?");
          record_error(&s, DHT_ENOMEM, msg);
          no_worker = true;
        }
        g_clear_error(&gerr);
      }
    }
    g_thread_pool_free(pool, no_worker, TRUE); /* waits for every task (the running ones if no_worker) */
  }
  rep->interrupted = s.canceled || (stopping(&s) && rep->done < rep->selected);
  if (s.error != 0) {
    rc = sim_fail(err, errlen, s.error, "%s", s.err);
  }
  /* Whatever finished is kept: assemble even after an error or a stop. */
  if (opt->out_dir != NULL) {
    int arc = assemble(opt->out_dir, &s.m, rep->summary_rows, rep->point_json, rc == 0 ? err : s.err,
                       rc == 0 ? errlen : sizeof s.err);
    if (rc == 0 && arc < 0)
      rc = arc;
  }
out:
  if (s.ps != NULL) {
    for (uint64_t p = 0; p < points; p++) {
      if (s.ps[p].res != NULL) {
        for (uint32_t r = 0; r < sc->replicas; r++)
          sim_results_clear(&s.ps[p].res[r]);
        g_free(s.ps[p].res);
        g_free(s.ps[p].sum);
      }
    }
    g_free(s.ps);
  }
  meta_clear(&s.m);
  g_mutex_clear(&s.lock);
  return rc;
}

void sim_sweep_report_clear(sim_sweep_report *rep) {
  for (uint64_t p = 0; p < rep->points; p++) {
    if (rep->summary_rows != NULL)
      free(rep->summary_rows[p]);
    if (rep->point_json != NULL)
      free(rep->point_json[p]);
  }
  g_free(rep->summary_rows);
  g_free(rep->point_json);
  memset(rep, 0, sizeof *rep);
}

int sim_sweep_write_summary_csv(FILE *f, const sim_sweep_report *rep) {
  return summary_csv(f, rep->summary_rows, rep->points);
}

int sim_sweep_write_summary_json(FILE *f, const sim_scenario *sc, const sim_sweep_report *rep) {
  sim_sweep_options none = {0};
  meta m;
  int rc;
  meta_from_scenario(&m, sc, &none);
  rc = summary_json(f, &m, rep->point_json, rep->points);
  meta_clear(&m);
  return rc;
}

/* Splits one CSV line into fields (RFC 4180 quotes); returns a NULL-terminated vector. */
static char **csv_fields(const char *line) {
  GPtrArray *a = g_ptr_array_new();
  GString *cur = g_string_new(NULL);
  bool quoted = false;
  for (const char *c = line;; c++) {
    if (quoted) {
      if (*c == '\0')
        break;
      if (*c == '"' && c[1] == '"') {
        g_string_append_c(cur, '"');
        c++;
      } else if (*c == '"') {
        quoted = false;
      } else {
        g_string_append_c(cur, *c);
      }
    } else if (*c == '"') {
      quoted = true;
    } else if (*c == ',' || *c == '\n' || *c == '\0') {
      g_ptr_array_add(a, g_strdup(cur->str));
      g_string_truncate(cur, 0);
      if (*c != ',')
        break;
    } else {
      g_string_append_c(cur, *c);
    }
  }
  g_string_free(cur, TRUE);
  g_ptr_array_add(a, NULL);
  return (char **)g_ptr_array_free(a, FALSE);
}

/* Column index of name in the summary header, or -1. */
static int column(char **header, const char *name) {
  for (int i = 0; header[i] != NULL; i++)
    if (strcmp(header[i], name) == 0)
      return i;
  return -1;
}

int sim_sweep_write_table(FILE *f, const sim_scenario *sc, const sim_sweep_report *rep) {
  static const char *const cols[] = {"queries_mean", "time_ms_mean", "success_rate", "accuracy"};
  char *hdr = header_text(sim_write_summary_header);
  char **h;
  int idx[4], lab;
  if (hdr == NULL)
    return DHT_ENOMEM;
  h = csv_fields(hdr);
  lab = column(h, "label");
  for (int i = 0; i < 4; i++)
    idx[i] = column(h, cols[i]);
  fprintf(f, "dhtsim: scenario %s, seed %" PRIu64 ", %" PRIu64 " points x %" PRIu32 " replicas\n\n", sc->name,
          sc->seed, rep->points, sc->replicas);
  fprintf(f, "  %-6s %-40s %20s %24s %16s %16s\n", "point", "parameters", "queries", "time to converge (ms)",
          "success rate", "accuracy");
  for (uint64_t p = 0; p < rep->points; p++) {
    char **v;
    if (rep->summary_rows[p] == NULL)
      continue;
    v = csv_fields(rep->summary_rows[p]);
    fprintf(f, "  %-6" PRIu64 " %-40s", p, v[lab][0] ? v[lab] : "(scenario)");
    for (int i = 0; i < 4; i++) {
      const char *mean = v[idx[i]], *ci = v[idx[i] + 1];
      char cell[64];
      if (mean[0] == '\0')
        snprintf(cell, sizeof cell, "-");
      else if (ci[0] == '\0')
        snprintf(cell, sizeof cell, "%.3f", strtod(mean, NULL));
      else
        snprintf(cell, sizeof cell, "%.3f ± %.3f", strtod(mean, NULL), strtod(ci, NULL));
      fprintf(f, " %*s", i == 0 ? 20 : i == 1 ? 24 : 16, cell);
    }
    fputc('\n', f);
    g_strfreev(v);
  }
  if (sc->replicas > 1)
    fprintf(f, "\n  mean over replicas ± half-width of the 95 %% confidence interval (Student t)\n");
  g_strfreev(h);
  free(hdr);
  return ferror(f) ? DHT_EIO : 0;
}

int sim_sweep_merge(const char *out_dir, const char *const *dirs, size_t n_dirs, char *err, size_t errlen) {
  meta m, other;
  char **rows = NULL, **json = NULL;
  const char **from = NULL;
  int rc = 0;

  if (n_dirs == 0)
    return sim_fail(err, errlen, DHT_EINVAL, "merge needs at least one output folder");
  if ((rc = read_manifest(dirs[0], &m, err, errlen)) < 0)
    return rc;
  for (size_t i = 1; i < n_dirs; i++) {
    bool same;
    if ((rc = read_manifest(dirs[i], &other, err, errlen)) < 0)
      goto out;
    same = same_run(&m, &other);
    meta_clear(&other);
    if (!same) {
      rc = sim_fail(err, errlen, DHT_EINVAL, "%s and %s hold outputs of different scenarios or settings", dirs[0],
                dirs[i]);
      goto out;
    }
  }
  rows = g_new0(char *, m.points);
  json = g_new0(char *, m.points);
  from = g_new0(const char *, m.points);
  for (uint64_t p = 0; p < m.points; p++) {
    for (size_t i = 0; i < n_dirs && rows[p] == NULL; i++)
      if (load_point(dirs[i], p, &rows[p], &json[p]))
        from[p] = dirs[i];
    if (rows[p] == NULL) {
      rc = sim_fail(err, errlen, DHT_EINVAL, "point %" PRIu64 " of %" PRIu64 " is in none of the folders (missing shard?)",
                p, m.points);
      goto out;
    }
  }
  {
    char *parts = g_build_filename(out_dir, "parts", NULL);
    if (g_mkdir_with_parents(parts, 0777) != 0)
      rc = sim_fail(err, errlen, DHT_EIO, "cannot create output folder %s: %s", parts, g_strerror(errno));
    g_free(parts);
    if (rc < 0)
      goto out;
  }
  /* Copy every part into out_dir (unless it is already there). */
  for (uint64_t p = 0; p < m.points && rc == 0; p++) {
    static const char *const exts[] = {"runs.csv", "lookups.csv", "summary.csv", "json"};
    for (size_t e = 0; e < G_N_ELEMENTS(exts) && rc == 0; e++) {
      char *src = part_path(from[p], p, exts[e]), *dst = part_path(out_dir, p, exts[e]);
      char *data = NULL;
      gsize len = 0;
      if (strcmp(src, dst) != 0) {
        if (!g_file_get_contents(src, &data, &len, NULL))
          rc = sim_fail(err, errlen, DHT_EIO, "cannot read %s", src);
        else
          rc = sim_outfile_write(dst, data, len, err, errlen);
      }
      g_free(data);
      g_free(src);
      g_free(dst);
    }
  }
  m.shard_index = 0;
  m.shard_count = 1;
  if (rc == 0)
    rc = write_manifest(out_dir, &m, err, errlen);
  if (rc == 0)
    rc = assemble(out_dir, &m, rows, json, err, errlen);
out:
  if (rows != NULL)
    for (uint64_t p = 0; p < m.points; p++) {
      g_free(rows[p]);
      g_free(json[p]);
    }
  g_free(rows);
  g_free(json);
  g_free(from);
  meta_clear(&m);
  return rc;
}
