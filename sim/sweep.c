/* sweep.c: points x replicas on a thread pool; each finished point goes to
 * DIR/parts/ (its runs.csv and lookups.csv rows as text, its numbers as a
 * record), and the output files are assembled from those parts in point
 * order, so the bytes never depend on threads, shards or resumes. */
#include "sweep.h"

#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "infile.h"
#include "inputs.h"
#include "message.h"
#include "outfile.h"
#include "param.h"
#include "sim.h"
#include "trace.h"
#include "text.h"
#include "timeline.h"

/* v2: parameter columns named by their scenario keys, figures from figure.def, point records.
 * v3: "part NAME SIZE SHA256" lines after the header, one per finished part,
 * appended as points finish: a part is trusted only if it matches its line. */
#define MANIFEST_MAGIC "dhtsim-output v3"
#define MANIFEST_HEADER_LINES 8

/* What the manifest says of one part file. */
typedef struct part_entry {
  uint64_t size;
  char sha256[SIM_SHA256_HEX];
} part_entry;

/* The parts of a point, the record last (it is written last). */
static const char *const part_exts[] = {"runs.csv", "lookups.csv", "timeline.csv", "rec"};

/* What identifies a run's output, kept in DIR/parts/manifest. */
typedef struct meta {
  char *name;        /* owned */
  uint64_t seed;
  uint64_t points;
  uint32_t replicas;
  char *sweep_keys;  /* owned: keys separated by single spaces ("" without sweep) */
  char fingerprint[17];
  uint32_t shard_index, shard_count;
  sim_columns shown; /* the outputs' columns (the manifest's optional "columns" line: the quiet keys shown) */
  GHashTable *parts; /* read from a manifest: part file name -> part_entry (owned); NULL otherwise */
} meta;

static void meta_clear(meta *m) {
  g_free(m->name);
  g_free(m->sweep_keys);
  if (m->parts != NULL)
    g_hash_table_destroy(m->parts);
  memset(m, 0, sizeof *m);
}

static void meta_from_scenario(meta *m, const sim_scenario *sc, const sim_sweep_options *opt,
                               const sim_file_digests *digests) {
  GString *keys = g_string_new(NULL);
  memset(m, 0, sizeof *m);
  m->name = g_strdup(sc->name);
  m->seed = sc->seed;
  m->points = sim_scenario_point_count(sc);
  m->replicas = sc->replicas;
  for (size_t i = 0; i < sc->n_sweep; i++)
    g_string_append_printf(keys, "%s%s", i ? " " : "", sc->sweep[i].key);
  m->sweep_keys = g_string_free(keys, FALSE);
  uint64_t fp = sim_param_fingerprint(sc, opt->lookups, digests);
  /* A bin width other than the default gives another timeline.csv: another
   * output (the default keeps the fingerprints of before --bin-s). */
  if (opt->bin_us > 0 && opt->bin_us != (uint64_t)(SIM_BIN_S_DEFAULT * 1e6)) {
    char b[40];
    snprintf(b, sizeof b, "bin_us=%" PRIu64 "\n", opt->bin_us);
    fp = sim_fnv1a64(fp, b, strlen(b));
  }
  snprintf(m->fingerprint, sizeof m->fingerprint, "%016" PRIx64, fp);
  m->shard_index = opt->shard_count > 1 ? opt->shard_index : 0;
  m->shard_count = opt->shard_count > 1 ? opt->shard_count : 1;
  sim_columns_of(&m->shown, sc);
}

/* The swept keys of m, in axis order (a NULL-terminated vector; g_strfreev). */
static char **meta_keys(const meta *m) {
  return m->sweep_keys[0] != '\0' ? g_strsplit(m->sweep_keys, " ", -1) : g_new0(char *, 1);
}

/* ---- files ---- */

static void part_name(char name[64], uint64_t point, const char *ext) {
  snprintf(name, 64, "point-%08" PRIu64 ".%s", point, ext);
}

static char *part_path(const char *dir, uint64_t point, const char *ext) {
  char name[64];
  part_name(name, point, ext);
  return g_build_filename(dir, "parts", name, NULL);
}

/* The manifest line of part ext of point p, whose contents are data[0..len). */
static char *entry_line(uint64_t p, const char *ext, const char *data, size_t len) {
  char name[64], *sha = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)data, len), *line;
  part_name(name, p, ext);
  line = g_strdup_printf("part %s %zu %s\n", name, len, sha);
  g_free(sha);
  return line;
}

static char *manifest_text(const meta *m) {
  GString *g = g_string_new(NULL);
  bool quiet = false;
  g_string_printf(g,
                  MANIFEST_MAGIC "\nscenario %s\nseed %" PRIu64 "\nfingerprint %s\npoints %" PRIu64
                                 "\nreplicas %" PRIu32 "\nsweep %s\nshard %" PRIu32 "/%" PRIu32 "\n",
                  m->name, m->seed, m->fingerprint, m->points, m->replicas, m->sweep_keys, m->shard_index,
                  m->shard_count);
  /* Only when a quiet key is shown: other manifests keep their bytes. */
  for (int i = 0; i < SIM_PARAM_COUNT; i++)
    if ((sim_params[i].flags & SIM_PARAM_QUIET) && m->shown.param[i]) {
      g_string_append(g, quiet ? " " : "columns ");
      g_string_append(g, sim_params[i].key);
      quiet = true;
    }
  if (quiet)
    g_string_append_c(g, '\n');
  return g_string_free(g, FALSE);
}

/* "columns KEY KEY": the quiet keys an output shows, into m->shown. */
static void parse_columns(meta *m, const char *line) {
  char **keys = g_strsplit(line + strlen("columns "), " ", -1);
  for (size_t i = 0; keys[i] != NULL; i++) {
    int id = sim_param_find(keys[i], strlen(keys[i]));
    if (id >= 0)
      m->shown.param[id] = true;
  }
  g_strfreev(keys);
  sim_columns_complete(&m->shown);
}

/* Writes the manifest: the header of m, then entries ("part ..." lines; NULL: none). */
static int write_manifest(const char *dir, const meta *m, const GString *entries, char *err, size_t errlen) {
  char *path = g_build_filename(dir, "parts", "manifest", NULL);
  char *text = manifest_text(m);
  GString *all = g_string_new(text);
  int rc;
  if (entries != NULL)
    g_string_append_len(all, entries->str, (gssize)entries->len);
  rc = sim_outfile_write(path, all->str, all->len, err, errlen);
  g_string_free(all, TRUE);
  g_free(text);
  g_free(path);
  return rc;
}

/* Parses "part NAME SIZE SHA256" into m->parts; false if the line is not one
 * (a torn last line after a crash: its part is then not trusted). */
static bool parse_entry(meta *m, const char *line) {
  char name[64], sha[SIM_SHA256_HEX], tail;
  uint64_t size;
  part_entry *e;
  if (sscanf(line, "part %63s %" SCNu64 " %64s%c", name, &size, sha, &tail) != 3 || strlen(sha) != 64 ||
      strspn(sha, "0123456789abcdef") != 64)
    return false;
  e = g_new(part_entry, 1);
  e->size = size;
  memcpy(e->sha256, sha, sizeof e->sha256);
  g_hash_table_replace(m->parts, g_strdup(name), e);
  return true;
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
  m->parts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  for (int i = 0; i < SIM_PARAM_COUNT; i++)
    m->shown.param[i] = !(sim_params[i].flags & SIM_PARAM_QUIET);
  sim_columns_complete(&m->shown);
  for (size_t i = MANIFEST_HEADER_LINES; lines[i] != NULL; i++)
    if (g_str_has_prefix(lines[i], "columns "))
      parse_columns(m, lines[i]);
    else if (lines[i][0] != '\0')
      parse_entry(m, lines[i]);
out:
  if (rc < 0)
    meta_clear(m);
  g_strfreev(lines);
  g_free(text);
  g_free(path);
  return rc;
}

static bool same_run(const meta *a, const meta *b) {
  return strcmp(a->fingerprint, b->fingerprint) == 0 && memcmp(&a->shown, &b->shown, sizeof a->shown) == 0 &&
         a->points == b->points && a->replicas == b->replicas &&
         a->seed == b->seed && strcmp(a->name, b->name) == 0 && strcmp(a->sweep_keys, b->sweep_keys) == 0;
}

/* Reads DIR/parts/point-N.rec into *rec: 1 when read, 0 when the point is
 * not finished there (no record), or a negative code with the reason in err
 * (a record that exists but cannot be read or is malformed). */
static int load_record(const char *dir, uint64_t p, sim_record **rec, char *err, size_t errlen) {
  char *path = part_path(dir, p, "rec"), *text = NULL, why[256];
  gsize len = 0;
  GError *e = NULL;
  int rc = 1;
  *rec = NULL;
  if (!g_file_get_contents(path, &text, &len, &e)) {
    if (g_error_matches(e, G_FILE_ERROR, G_FILE_ERROR_NOENT))
      rc = 0;
    else
      rc = sim_fail(err, errlen, DHT_EIO, "cannot read %s: %s", path, e->message);
    g_clear_error(&e);
  } else if ((*rec = sim_record_parse(text, len, p, &rc, why, sizeof why)) == NULL) {
    rc = sim_fail(err, errlen, rc, "%s: malformed point record (%s): remove it to run the point again", path, why);
  } else {
    rc = 1;
  }
  g_free(text);
  g_free(path);
  return rc;
}

/* Whether part ext of point p in dir matches its manifest entry in m (size,
 * then SHA-256). 0, or DHT_EINVAL with "DIR/parts/point-N.ext: why" in err.
 * data != NULL: the part is read whole and its verified bytes returned there
 * (g_free), so what is copied is what was checked. */
static int verify_part(const char *dir, const meta *m, uint64_t p, const char *ext, char **data, gsize *len,
                       char *err, size_t errlen) {
  char name[64], *path = part_path(dir, p, ext), sha[SIM_SHA256_HEX], why[256];
  const part_entry *e;
  GStatBuf st;
  int rc = 0;
  part_name(name, p, ext);
  e = m->parts != NULL ? g_hash_table_lookup(m->parts, name) : NULL;
  if (data != NULL)
    *data = NULL;
  if (e == NULL) {
    rc = sim_fail(err, errlen, DHT_EINVAL, "%s: not in the manifest (the point did not finish)", path);
  } else if (g_lstat(path, &st) != 0) {
    rc = sim_fail(err, errlen, DHT_EINVAL, "%s: %s", path, g_strerror(errno));
  } else if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != e->size) {
    rc = sim_fail(err, errlen, DHT_EINVAL, "%s: %" PRIu64 " bytes, the manifest says %" PRIu64, path,
                  (uint64_t)st.st_size, e->size);
  } else {
    if (data == NULL) {
      if ((rc = sim_infile_sha256(path, sha, why, sizeof why)) < 0)
        rc = sim_fail(err, errlen, rc, "%s", why);
    } else if (!g_file_get_contents(path, data, len, NULL)) {
      rc = sim_fail(err, errlen, DHT_EIO, "cannot read %s", path);
    } else {
      gchar *sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)*data, *len);
      g_strlcpy(sha, sum, sizeof sha);
      g_free(sum);
    }
    if (rc == 0 && strcmp(sha, e->sha256) != 0)
      rc = sim_fail(err, errlen, DHT_EINVAL, "%s: its SHA-256 is not the manifest's (the file was changed)", path);
  }
  if (rc < 0 && data != NULL) {
    g_free(*data);
    *data = NULL;
  }
  g_free(path);
  return rc;
}

/* Appends point p's manifest lines (verified against m) to entries. */
static void copy_entries(GString *entries, const meta *m, uint64_t p) {
  for (size_t i = 0; i < G_N_ELEMENTS(part_exts); i++) {
    char name[64];
    const part_entry *e;
    part_name(name, p, part_exts[i]);
    e = g_hash_table_lookup(m->parts, name);
    g_string_append_printf(entries, "part %s %" PRIu64 " %s\n", name, e->size, e->sha256);
  }
}

/* Removes the point-* files of parts/ (all, or point p's only). */
static void remove_parts(const char *dir, bool all, uint64_t p) {
  if (!all) {
    for (size_t i = 0; i < G_N_ELEMENTS(part_exts); i++) {
      char *path = part_path(dir, p, part_exts[i]);
      g_remove(path);
      g_free(path);
    }
    return;
  }
  char *parts = g_build_filename(dir, "parts", NULL);
  GDir *d = g_dir_open(parts, 0, NULL);
  const char *name;
  while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
    if (g_str_has_prefix(name, "point-")) {
      char *path = g_build_filename(parts, name, NULL);
      g_remove(path);
      g_free(path);
    }
  }
  if (d != NULL)
    g_dir_close(d);
  g_free(parts);
}

/* The four output files, assembled from the parts. */
static const char *const final_files[] = {"summary.csv", "summary.json", "runs.csv", "lookups.csv", "timeline.csv"};

/* OUT/events.csv: the scenario's timed events (`dhtsim plot` marks them),
 * written when it has some, removed otherwise. Columns: at_s, action (set,
 * fail_fraction, revive_fraction, partition_fraction, partition_nodes, heal), key (set) and value. */
static int write_events(const char *dir, const sim_scenario *sc, char *err, size_t errlen) {
  char *path = g_build_filename(dir, "events.csv", NULL), *buf = NULL;
  size_t len = 0;
  int rc;
  if (sc->n_events == 0) {
    rc = g_remove(path) == 0 || errno == ENOENT ? 0
                                                : sim_fail(err, errlen, DHT_EIO, "cannot remove %s: %s", path,
                                                           g_strerror(errno));
    g_free(path);
    return rc;
  }
  FILE *f = open_memstream(&buf, &len);
  if (f == NULL) {
    g_free(path);
    return sim_fail(err, errlen, DHT_ENOMEM, "out of memory");
  }
  fputs("at_s,action,key,value\n", f);
  for (size_t i = 0; i < sc->n_events; i++) {
    const sim_timed_event *e = &sc->events[i];
    fprintf(f, "%.6f,", (double)e->at_us / 1e6);
    if (e->action == SIM_EVENT_SET) {
      fprintf(f, "set,%s,", sim_params[e->param].key);
      sim_write_csv_text(f, e->value);
      fputc('\n', f);
    } else {
      static const char *const names[] = {[SIM_EVENT_FAIL] = "fail_fraction", [SIM_EVENT_REVIVE] = "revive_fraction",
                                          [SIM_EVENT_PARTITION] = "partition_fraction", [SIM_EVENT_HEAL] = "heal",
                                          [SIM_EVENT_PARTITION_NODES] = "partition_nodes"};
      if (e->action == SIM_EVENT_HEAL)
        fprintf(f, "heal,,true\n");
      else
        fprintf(f, "%s,,%.10g\n", names[e->action], e->fraction);
    }
  }
  if (fclose(f) != 0 || buf == NULL) {
    free(buf);
    g_free(path);
    return sim_fail(err, errlen, DHT_ENOMEM, "out of memory");
  }
  rc = sim_outfile_write(path, buf, len, err, errlen);
  free(buf);
  g_free(path);
  return rc;
}

/* trace.jsonl: written by a run with --trace only, and never from parts (a
 * resume or a merge has none): removed with the finals, so that an old
 * trace never stands next to another run's output. */
#define TRACE_FILE "trace.jsonl"

/* Removes dir's final files: done before a new manifest is written, so that
 * old finals never stand next to another run's manifest and parts. */
static int remove_finals(const char *dir, char *err, size_t errlen) {
  for (size_t i = 0; i <= G_N_ELEMENTS(final_files); i++) {
    char *path = g_build_filename(dir, i < G_N_ELEMENTS(final_files) ? final_files[i] : TRACE_FILE, NULL);
    int rc = g_remove(path) == 0 || errno == ENOENT
                 ? 0
                 : sim_fail(err, errlen, DHT_EIO, "cannot remove %s: %s", path, g_strerror(errno));
    g_free(path);
    if (rc < 0)
      return rc;
  }
  return 0;
}

/* ---- output text ---- */

static int summary_csv(FILE *f, const sim_columns *shown, sim_record *const *recs, uint64_t points) {
  int rc = sim_record_write_summary_header(f, shown);
  for (uint64_t p = 0; p < points && rc == 0; p++)
    if (recs[p] != NULL)
      rc = sim_record_write_summary_row(f, recs[p], shown);
  return rc;
}

static int summary_json(FILE *f, const meta *m, sim_record *const *recs, uint64_t points) {
  char **keys = meta_keys(m);
  bool first = true;
  fprintf(f, "{\n  \"scenario\": ");
  sim_write_json_string(f, m->name);
  fprintf(f, ",\n  \"seed\": %" PRIu64 ",\n  \"replicas\": %" PRIu32 ",\n  \"sweep\": [", m->seed, m->replicas);
  for (size_t i = 0; keys[i] != NULL; i++) {
    fprintf(f, "%s", i ? ", " : "");
    sim_write_json_string(f, keys[i]);
  }
  g_strfreev(keys);
  fprintf(f, "],\n  \"points\": [\n");
  for (uint64_t p = 0; p < points; p++) {
    if (recs[p] == NULL)
      continue;
    fputs(first ? "" : ",\n", f);
    sim_record_write_json(f, recs[p], &m->shown);
    first = false;
  }
  fprintf(f, "%s  ]\n}\n", first ? "" : "\n");
  return ferror(f) ? DHT_EIO : 0;
}

/* The text of one output file, rendered into memory (written atomically after). */
typedef struct rendering {
  const meta *m;
  sim_record *const *recs;
} rendering;

typedef int (*text_fn)(FILE *f, const rendering *r);

static int w_summary_csv(FILE *f, const rendering *r) {
  return summary_csv(f, &r->m->shown, r->recs, r->m->points);
}
static int w_summary_json(FILE *f, const rendering *r) { return summary_json(f, r->m, r->recs, r->m->points); }

static int w_runs_header(FILE *f, const rendering *r) {
  return sim_write_runs_header(f, &r->m->shown);
}

static int w_lookups_header(FILE *f, const rendering *r) {
  char **keys = meta_keys(r->m);
  int rc = sim_write_lookups_header(f, (const char *const *)keys, g_strv_length(keys));
  g_strfreev(keys);
  return rc;
}

static int w_timeline_header(FILE *f, const rendering *r) {
  char **keys = meta_keys(r->m);
  int rc = sim_write_timeline_header(f, (const char *const *)keys, g_strv_length(keys));
  g_strfreev(keys);
  return rc;
}

/* Renders fn's text into memory: a NUL-terminated buffer (free) with its
 * length in *len, or NULL (message in err). */
static char *render(text_fn fn, const rendering *r, size_t *len, char *err, size_t errlen) {
  char *buf = NULL;
  FILE *f = open_memstream(&buf, len);
  int rc;
  if (f == NULL) {
    sim_fail(err, errlen, DHT_ENOMEM, "out of memory");
    return NULL;
  }
  rc = fn(f, r);
  if (fclose(f) != 0 || rc < 0 || buf == NULL) {
    free(buf);
    sim_fail(err, errlen, DHT_ENOMEM, "out of memory rendering the output");
    return NULL;
  }
  return buf;
}

static int write_rendered(const char *path, text_fn fn, const rendering *r, char *err, size_t errlen) {
  size_t len = 0;
  char *buf = render(fn, r, &len, err, errlen);
  int rc;
  if (buf == NULL)
    return DHT_ENOMEM;
  rc = sim_outfile_write(path, buf, len, err, errlen);
  free(buf);
  return rc;
}

/* Writes path: the header, then the parts `ext` of the finished points. */
static int concat_parts(const char *dir, const char *path, const char *ext, text_fn header, const rendering *r,
                        char *err, size_t errlen) {
  sim_outfile out;
  size_t hlen = 0;
  char *htext = render(header, r, &hlen, err, errlen);
  char buf[1 << 16];
  int rc;
  if (htext == NULL)
    return DHT_ENOMEM;
  rc = sim_outfile_open(&out, path, err, errlen);
  if (rc < 0) {
    free(htext);
    return rc;
  }
  fwrite(htext, 1, hlen, out.f);
  free(htext);
  for (uint64_t p = 0; p < r->m->points && rc == 0; p++) {
    char *pp;
    FILE *in;
    size_t n;
    if (r->recs[p] == NULL)
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

/* Writes summary.csv, summary.json, runs.csv and lookups.csv of the finished points. */
static int assemble(const char *dir, const meta *m, sim_record *const *recs, char *err, size_t errlen) {
  char *p1 = g_build_filename(dir, final_files[0], NULL), *p2 = g_build_filename(dir, final_files[1], NULL);
  char *p3 = g_build_filename(dir, final_files[2], NULL), *p4 = g_build_filename(dir, final_files[3], NULL);
  char *p5 = g_build_filename(dir, final_files[4], NULL);
  rendering r = {m, recs};
  int rc;
  if ((rc = write_rendered(p1, w_summary_csv, &r, err, errlen)) == 0 &&
      (rc = write_rendered(p2, w_summary_json, &r, err, errlen)) == 0 &&
      (rc = concat_parts(dir, p3, "runs.csv", w_runs_header, &r, err, errlen)) == 0)
    if ((rc = concat_parts(dir, p4, "lookups.csv", w_lookups_header, &r, err, errlen)) == 0)
      rc = concat_parts(dir, p5, "timeline.csv", w_timeline_header, &r, err, errlen);
  g_free(p5);
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
  sim_param_id swept[SIM_PARAM_COUNT]; /* the parameters of the sweep's axes, in axis order */
  size_t n_swept;
  GMutex lock;
  point_state *ps;      /* [points] */
  bool single;          /* one point, one replica */
  uint64_t runs_total, runs_done;
  int error;            /* first failure (0 while none) */
  bool canceled;
  char err[1024];
  GMutex manifest_lock; /* one appender of part entries at a time */
  bool *verified;       /* [points] with --resume: the point's parts match the old manifest */
  GString *notes;       /* for rep->notes */
  uint64_t trace_bytes; /* --trace: bytes of every run's trace so far (atomic) */
  sim_trace *traces;    /* --trace: [points * replicas], each run's, by task number */
} sweep;

static bool stopping(const sweep *s) { return s->opt->stop != NULL && *s->opt->stop; }

/* Writes buf[0..len) atomically as part `ext` of point p. */
static int write_part(const char *dir, uint64_t p, const char *ext, const char *buf, size_t len, char *err,
                      size_t errlen) {
  char *path = part_path(dir, p, ext);
  int rc = sim_outfile_write(path, buf, len, err, errlen);
  g_free(path);
  return rc;
}

/* The point's runs.csv, lookups.csv and timeline.csv rows and record as text. */
static int point_texts(const sweep *s, uint64_t p, const sim_scenario *pt, const char *label,
                       const sim_record *rec, char **runs, size_t *lruns, char **lks, size_t *llks, char **tls,
                       size_t *ltls, char **rtext, size_t *lrec) {
  const point_state *ps = &s->ps[p];
  uint32_t R = s->sc->replicas;
  FILE *f1 = open_memstream(runs, lruns), *f2 = open_memstream(lks, llks), *f3 = open_memstream(rtext, lrec);
  FILE *f4 = open_memstream(tls, ltls);
  int rc = f1 != NULL && f2 != NULL && f3 != NULL && f4 != NULL ? 0 : DHT_ENOMEM;
  for (uint32_t r = 0; r < R && rc == 0; r++) {
    if ((rc = sim_write_runs_row(f1, p, r, label, pt, &ps->sum[r], &s->m.shown)) == 0 &&
        (rc = sim_write_lookups_rows(f2, p, r, pt, s->swept, s->n_swept, &ps->res[r])) == 0)
      rc = sim_write_timeline_rows(f4, p, r, pt, s->swept, s->n_swept, &ps->res[r]);
  }
  if (rc == 0)
    rc = sim_record_write(f3, rec);
  /* fclose flushes: a memory stream that cannot grow fails here. */
  if (f1 != NULL && fclose(f1) != 0)
    rc = DHT_ENOMEM;
  if (f2 != NULL && fclose(f2) != 0)
    rc = DHT_ENOMEM;
  if (f3 != NULL && fclose(f3) != 0)
    rc = DHT_ENOMEM;
  if (f4 != NULL && fclose(f4) != 0)
    rc = DHT_ENOMEM;
  return rc < 0 || *runs == NULL || *lks == NULL || *tls == NULL || *rtext == NULL ? DHT_ENOMEM : 0;
}

/* Aggregates the point's replicas into its record, writes its parts (the
 * record last: it marks the point finished) and stores the record in the
 * report. Called by the thread that finished the point's last replica,
 * outside the lock. */
static int finish_point(sweep *s, uint64_t p, const sim_scenario *pt, const char *label, char *err, size_t errlen) {
  point_state *ps = &s->ps[p];
  uint32_t R = s->sc->replicas;
  sim_figures *fig = g_try_new(sim_figures, R);
  sim_agg agg[SIM_FIG_COUNT];
  sim_scenario cols;
  sim_record *rec = NULL;
  char *runs = NULL, *lks = NULL, *tls = NULL, *rtext = NULL;
  size_t lruns = 0, llks = 0, ltls = 0, lrec = 0;
  int rc = 0;

  if (fig == NULL) {
    rc = sim_fail(err, errlen, DHT_ENOMEM, "out of memory");
    goto out;
  }
  for (uint32_t r = 0; r < R; r++)
    sim_summary_figures(&ps->sum[r], &fig[r]);
  {
    /* The percentiles of the point: over all its lookups, not a mean of
     * each replica's. */
    sim_summary pooled;
    sim_figures pf;
    if ((rc = sim_summary_compute_pooled(&pooled, pt, ps->res, R)) < 0) {
      g_free(fig);
      rc = sim_fail(err, errlen, rc, "out of memory");
      goto out;
    }
    sim_summary_figures(&pooled, &pf);
    sim_aggregate(fig, R, &pf, agg);
  }
  g_free(fig);
  /* Every replica runs on the same network size and lookup count: replica 0's are the point's. */
  sim_output_params(&cols, pt, ps->res[0].nodes, ps->res[0].n_lookups);
  rec = sim_record_new(p, label, &cols, agg);
  if (rec == NULL) {
    rc = sim_fail(err, errlen, DHT_ENOMEM, "out of memory");
    goto out;
  }
  if (s->opt->out_dir != NULL) {
    const char *dir = s->opt->out_dir;
    if (point_texts(s, p, pt, label, rec, &runs, &lruns, &lks, &llks, &tls, &ltls, &rtext, &lrec) < 0) {
      rc = sim_fail(err, errlen, DHT_ENOMEM, "out of memory");
      goto out;
    }
    if ((rc = write_part(dir, p, "runs.csv", runs, lruns, err, errlen)) == 0 &&
        (rc = write_part(dir, p, "lookups.csv", lks, llks, err, errlen)) == 0 &&
        (rc = write_part(dir, p, "timeline.csv", tls, ltls, err, errlen)) == 0 &&
        (rc = write_part(dir, p, "rec", rtext, lrec, err, errlen)) == 0) {
      /* The entries, once every part is in place, mark the point finished:
       * after a crash before them, the point runs again. */
      char *l1 = entry_line(p, "runs.csv", runs, lruns), *l2 = entry_line(p, "lookups.csv", lks, llks);
      char *l4 = entry_line(p, "timeline.csv", tls, ltls);
      char *l3 = entry_line(p, "rec", rtext, lrec), *lines = g_strconcat(l1, l2, l4, l3, NULL);
      char *mpath = g_build_filename(dir, "parts", "manifest", NULL);
      g_mutex_lock(&s->manifest_lock);
      rc = sim_outfile_append(mpath, lines, strlen(lines), err, errlen);
      g_mutex_unlock(&s->manifest_lock);
      g_free(mpath);
      g_free(lines);
      g_free(l1);
      g_free(l2);
      g_free(l3);
      g_free(l4);
    }
  }
out:
  if (rc == 0) {
    g_mutex_lock(&s->lock);
    s->rep->records[p] = rec;
    s->rep->done++;
    if (s->single) {
      s->rep->single = ps->sum[0];
      s->rep->have_single = true;
    }
    g_mutex_unlock(&s->lock);
    rec = NULL;
  }
  sim_record_free(rec);
  free(runs);
  free(lks);
  free(tls);
  free(rtext);
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
  o.bin_us = s->opt->bin_us;
  o.stop = s->opt->stop;
  if (s->traces != NULL) {
    sim_trace_init(&s->traces[task], s->opt->trace, p, r, &s->trace_bytes, SIM_TRACE_MAX_BYTES);
    o.trace = &s->traces[task];
  }
  if (s->single) {
    o.progress = s->opt->lookups_progress;
    o.build_progress = s->opt->build_progress;
    o.progress_user = s->opt->progress_user;
  }
  if ((rc = sim_run(&pt, &o, &res, err, sizeof err)) < 0) {
    record_error(s, rc, err);
    return;
  }
  if (o.trace != NULL && o.trace->error != 0) {
    sim_results_clear(&res);
    record_error(s, sim_trace_error(o.trace, err, sizeof err), err);
    return;
  }
  if ((rc = sim_summary_compute(&sum, &pt, o.seed, &res)) < 0) {
    sim_results_clear(&res);
    record_error(s, rc, "out of memory computing statistics");
    return;
  }
  g_mutex_lock(&s->lock);
  if (s->ps[p].res == NULL) {
    s->ps[p].res = g_try_new0(sim_results, R);
    s->ps[p].sum = g_try_new0(sim_summary, R);
    if (s->ps[p].res == NULL || s->ps[p].sum == NULL) {
      g_free(s->ps[p].res);
      g_free(s->ps[p].sum);
      s->ps[p].res = NULL;
      s->ps[p].sum = NULL;
      g_mutex_unlock(&s->lock);
      sim_results_clear(&res);
      record_error(s, DHT_ENOMEM, "out of memory for a point's replicas");
      return;
    }
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

/* Writes out_dir/trace.jsonl: every run's trace in task order (point, then
 * replica), so the bytes do not depend on the threads. */
static int write_trace(const sweep *s, uint64_t tasks, char *err, size_t errlen) {
  char *path = g_build_filename(s->opt->out_dir, TRACE_FILE, NULL);
  sim_outfile out;
  int rc = sim_outfile_open(&out, path, err, errlen);
  g_free(path);
  if (rc < 0)
    return rc;
  for (uint64_t t = 0; t < tasks; t++)
    if (s->traces[t].len > 0 && fwrite(s->traces[t].buf, 1, s->traces[t].len, out.f) != s->traces[t].len)
      break; /* commit reports the stream's error */
  return sim_outfile_commit(&out, err, errlen);
}

/* Whether point p was (or was being) finished in dir: its record exists, or
 * the manifest lists any of its parts. */
static bool point_present(const char *dir, const meta *m, uint64_t p) {
  char *rec = part_path(dir, p, "rec");
  bool any = g_file_test(rec, G_FILE_TEST_EXISTS);
  g_free(rec);
  for (size_t i = 0; !any && i < G_N_ELEMENTS(part_exts); i++) {
    char name[64];
    part_name(name, p, part_exts[i]);
    any = m->parts != NULL && g_hash_table_contains(m->parts, name);
  }
  return any;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* An output folder is only ever written over by the same scenario: a folder
 * that holds anything else (a typo'd --out pointing at one's home, the output
 * of another scenario) is refused before anything in it is touched, naming
 * what is there, unless force. Missing, empty (or holding only the lock of an
 * interrupted run) and earlier outputs of this scenario are fine. */
static int check_outdir(const char *dir, const char *scenario, bool force, char *err, size_t errlen) {
  GDir *d = g_dir_open(dir, 0, NULL);
  GPtrArray *names;
  const char *name;
  meta old = {0};
  char why[512];
  int rc = 0;
  if (d == NULL || force) {
    if (d != NULL)
      g_dir_close(d);
    return 0; /* missing (created later) or not a folder: sim_outdir_lock says so */
  }
  names = g_ptr_array_new_with_free_func(g_free);
  while ((name = g_dir_read_name(d)) != NULL)
    if (strcmp(name, SIM_OUTDIR_LOCK) != 0)
      g_ptr_array_add(names, g_strdup(name));
  g_dir_close(d);
  if (names->len > 0) {
    if (read_manifest(dir, &old, why, sizeof why) == 0) {
      if (strcmp(old.name, scenario) != 0)
        rc = sim_fail(err, errlen, DHT_EEXIST,
                      "%s holds the output of scenario '%s', not '%s': nothing written (another --out, or --force)",
                      dir, old.name, scenario);
      meta_clear(&old);
    } else {
      GString *list = g_string_new(NULL);
      /* Directory order is the file system's: sorted, the message is stable. */
      qsort(names->pdata, names->len, sizeof(char *), cmp_str);
      for (guint i = 0; i < names->len && i < 3; i++)
        g_string_append_printf(list, "%s%s", i ? ", " : "", (const char *)names->pdata[i]);
      if (names->len > 3)
        g_string_append_printf(list, " and %u more", names->len - 3);
      rc = sim_fail(err, errlen, DHT_EEXIST,
                    "%s is not empty and not an output of dhtsim (it holds %s): nothing written (another --out, or "
                    "--force)",
                    dir, list->str);
      g_string_free(list, TRUE);
    }
  }
  g_ptr_array_free(names, TRUE);
  return rc;
}

/* Prepares out_dir/parts. With --resume, a previous manifest of the same run
 * says which points finished: those whose parts all match their entries
 * (s->verified); the others' parts are removed and noted. Without, every
 * point-* file goes. Either way the old final files are removed before the
 * new manifest (header, and the verified points' entries) is written. */
static int prepare_dir(sweep *s, char *err, size_t errlen) {
  const char *dir = s->opt->out_dir;
  char *parts = g_build_filename(dir, "parts", NULL);
  GString *entries = g_string_new(NULL);
  meta old = {0};
  char tmp[512];
  bool have_old = false;
  int rc = 0;
  if (g_mkdir_with_parents(parts, 0777) != 0) {
    rc = sim_fail(err, errlen, DHT_EIO, "cannot create output folder %s: %s", parts, g_strerror(errno));
    goto out;
  }
  if (s->opt->resume && read_manifest(dir, &old, tmp, sizeof tmp) == 0) {
    have_old = true;
    if (!same_run(&old, &s->m)) {
      rc = sim_fail(err, errlen, DHT_EINVAL,
                    "%s: --resume: this folder holds the output of a different scenario or settings", dir);
      goto out;
    }
  }
  for (uint64_t p = 0; have_old && p < s->m.points; p++) {
    if (!sim_scenario_point_selected(p, s->opt->shard_index, s->opt->shard_count) || !point_present(dir, &old, p))
      continue; /* never finished: nothing to say */
    rc = 0;
    for (size_t i = 0; i < G_N_ELEMENTS(part_exts) && rc == 0; i++)
      rc = verify_part(dir, &old, p, part_exts[i], NULL, NULL, tmp, sizeof tmp);
    if (rc == 0) {
      s->verified[p] = true;
      copy_entries(entries, &old, p);
    } else {
      g_string_append_printf(s->notes, "dhtsim: %s: point %" PRIu64 " runs again\n", tmp, p);
      remove_parts(dir, false, p);
    }
  }
  rc = remove_finals(dir, err, errlen);
  if (rc == 0)
    rc = write_manifest(dir, &s->m, entries, err, errlen);
  /* Stale parts of another run are no one's: the new manifest does not list them. */
  if (rc == 0 && !have_old)
    remove_parts(dir, true, 0);
out:
  meta_clear(&old);
  g_string_free(entries, TRUE);
  g_free(parts);
  return rc;
}

int sim_sweep_run(const sim_scenario *sc, const sim_sweep_options *opt, sim_sweep_report *rep, char *err,
                  size_t errlen) {
  sweep s;
  GThreadPool *pool = NULL;
  sim_file_digests own;
  const sim_file_digests *digests = opt->digests;
  uint64_t points;
  unsigned jobs;
  int lock_fd = -1, rc = 0;

  g_return_val_if_fail(sc != NULL && opt != NULL && rep != NULL, DHT_EINVAL);
  memset(rep, 0, sizeof *rep);
  memset(&s, 0, sizeof s);
  points = sim_scenario_point_count(sc);
  if (opt->shard_count > 1 && opt->shard_index >= opt->shard_count)
    return sim_fail(err, errlen, DHT_EINVAL, "shard %u/%u: the index must be below the count", opt->shard_index,
                opt->shard_count);
  if (digests == NULL) {
    if ((rc = sim_inputs_digests(sc, &own, err, errlen)) < 0)
      return rc;
    digests = &own;
  }
  s.sc = sc;
  s.opt = opt;
  s.rep = rep;
  g_mutex_init(&s.lock);
  g_mutex_init(&s.manifest_lock);
  s.notes = g_string_new(NULL);
  meta_from_scenario(&s.m, sc, opt, digests);
  for (size_t i = 0; i < sc->n_sweep; i++) {
    int id = sim_param_find(sc->sweep[i].key, strlen(sc->sweep[i].key));
    if (id < 0) {
      rc = sim_fail(err, errlen, DHT_EINVAL, "sweep: unknown parameter '%s'", sc->sweep[i].key);
      goto out;
    }
    s.swept[s.n_swept++] = (sim_param_id)id;
  }
  s.single = points == 1 && sc->replicas == 1;
  rep->points = points;
  if (opt->trace != NULL && (opt->out_dir == NULL || opt->resume || opt->shard_count > 1 ||
                             points * sc->replicas > SIM_TRACE_MAX_LOOKUPS)) {
    rc = sim_fail(err, errlen, DHT_EINVAL, "--trace needs --out DIR, no --shard or --resume, and at most %u runs",
                  SIM_TRACE_MAX_LOOKUPS);
    goto out;
  }
  if (opt->trace != NULL && (s.traces = g_try_new0(sim_trace, points * sc->replicas)) == NULL) {
    rc = sim_fail(err, errlen, DHT_ENOMEM, "out of memory for the traces");
    goto out;
  }
  rep->records = g_try_new0(sim_record *, points);
  s.ps = g_try_new0(point_state, points);
  s.verified = g_try_new0(bool, points);
  if (rep->records == NULL || s.ps == NULL || s.verified == NULL) {
    rc = sim_fail(err, errlen, DHT_ENOMEM, "out of memory for %" PRIu64 " points", points);
    goto out;
  }
  /* The lock first: a second dhtsim must not touch a folder in use. */
  if (opt->out_dir != NULL && ((rc = check_outdir(opt->out_dir, sc->name, opt->force, err, errlen)) < 0 ||
                               (rc = sim_outdir_lock(opt->out_dir, &lock_fd, err, errlen)) < 0 ||
                               (rc = prepare_dir(&s, err, errlen)) < 0))
    goto out;

  for (uint64_t p = 0; p < points; p++) {
    if (!sim_scenario_point_selected(p, opt->shard_index, opt->shard_count))
      continue;
    rep->selected++;
    if (opt->resume && opt->out_dir != NULL && s.verified[p]) {
      int found = load_record(opt->out_dir, p, &rep->records[p], err, errlen);
      if (found < 0) {
        rc = found;
        goto out;
      }
      if (found > 0) {
        rep->resumed++;
        rep->done++;
        continue;
      }
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
      if (!sim_scenario_point_selected(p, opt->shard_index, opt->shard_count) || rep->records[p] != NULL)
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
    int arc = assemble(opt->out_dir, &s.m, rep->records, rc == 0 ? err : s.err,
                       rc == 0 ? errlen : sizeof s.err);
    if (arc == 0)
      arc = write_events(opt->out_dir, sc, rc == 0 ? err : s.err, rc == 0 ? errlen : sizeof s.err);
    if (rc == 0 && arc < 0)
      rc = arc;
  }
  /* The trace only of a sweep that finished every run: never a partial one. */
  if (rc == 0 && s.traces != NULL && !rep->interrupted && rep->done == rep->selected)
    rc = write_trace(&s, points * sc->replicas, err, errlen);
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
  g_free(s.verified);
  if (s.traces != NULL) {
    for (uint64_t t = 0; t < points * sc->replicas; t++)
      sim_trace_clear(&s.traces[t]);
    g_free(s.traces);
  }
  if (s.notes->len > 0)
    rep->notes = g_strdup(s.notes->str);
  g_string_free(s.notes, TRUE);
  sim_outdir_unlock(lock_fd);
  meta_clear(&s.m);
  g_mutex_clear(&s.manifest_lock);
  g_mutex_clear(&s.lock);
  return rc;
}

void sim_sweep_report_clear(sim_sweep_report *rep) {
  if (rep->records != NULL)
    for (uint64_t p = 0; p < rep->points; p++)
      sim_record_free(rep->records[p]);
  g_free(rep->records);
  g_free(rep->notes);
  memset(rep, 0, sizeof *rep);
}

int sim_sweep_write_summary_csv(FILE *f, const sim_scenario *sc, const sim_sweep_report *rep) {
  sim_columns shown;
  sim_columns_of(&shown, sc);
  return summary_csv(f, &shown, rep->records, rep->points);
}

int sim_sweep_write_summary_json(FILE *f, const sim_scenario *sc, const sim_sweep_report *rep) {
  /* Only the name, seed and keys are shown: the fingerprint's digests do not matter. */
  static const sim_file_digests no_digests;
  sim_sweep_options none = {0};
  meta m;
  int rc;
  meta_from_scenario(&m, sc, &none, &no_digests);
  rc = summary_json(f, &m, rep->records, rep->points);
  meta_clear(&m);
  return rc;
}

/* x as summary.csv shows it (%.6f) and read back: the table rounds that to 3
 * decimals, so that it never disagrees with the file (rounding the exact
 * value to 3 decimals directly may differ in the last digit). */
static double as_in_csv(double x) {
  char text[64];
  snprintf(text, sizeof text, "%.6f", x);
  return strtod(text, NULL);
}

int sim_sweep_write_table(FILE *f, const sim_scenario *sc, const sim_sweep_report *rep) {
  static const struct {
    sim_figure_id fig;
    int width;
  } cols[] = {{SIM_FIG_QUERIES_MEAN, 20}, {SIM_FIG_TIME_MS_MEAN, 24}, {SIM_FIG_SUCCESS_RATE, 16}, {SIM_FIG_ACCURACY, 16}};
  int lw = 40; /* the label column: as wide as the longest label, so that the figures stay aligned */
  for (uint64_t p = 0; p < rep->points; p++)
    if (rep->records[p] != NULL && strlen(rep->records[p]->label) > (size_t)lw)
      lw = (int)MIN(strlen(rep->records[p]->label), 4096);
  fprintf(f, "dhtsim: scenario %s, seed %" PRIu64 ", %" PRIu64 " %s x %" PRIu32 " %s", sc->name, sc->seed,
          rep->points, rep->points == 1 ? "point" : "points", sc->replicas, sc->replicas == 1 ? "replica" : "replicas");
  if (rep->selected != rep->points)
    fprintf(f, ", this shard runs %" PRIu64 " of the points", rep->selected);
  fputs("\n\n", f);
  fprintf(f, "  %-6s %-*s %20s %24s %16s %16s\n", "point", lw, "parameters", "queries", "time to converge (ms)",
          "success rate", "accuracy");
  for (uint64_t p = 0; p < rep->points; p++) {
    const sim_record *r = rep->records[p];
    if (r == NULL)
      continue;
    fprintf(f, "  %-6" PRIu64 " %-*s", p, lw, r->label[0] ? r->label : "(scenario)");
    for (size_t i = 0; i < G_N_ELEMENTS(cols); i++) {
      const sim_agg *a = &r->agg[cols[i].fig];
      char cell[64];
      if (!a->present)
        snprintf(cell, sizeof cell, "-");
      else if (!a->has_ci)
        snprintf(cell, sizeof cell, "%.3f", as_in_csv(a->mean));
      else
        snprintf(cell, sizeof cell, "%.3f ± %.3f", as_in_csv(a->mean), as_in_csv(a->ci95));
      fprintf(f, " %*s", cols[i].width, cell);
    }
    fputc('\n', f);
  }
  if (sc->replicas > 1)
    fprintf(f, "\n  mean over replicas ± half-width of the 95 %% confidence interval (Student t)\n");
  return ferror(f) ? DHT_EIO : 0;
}

int sim_sweep_merge(const char *out_dir, const char *const *dirs, size_t n_dirs, char *err, size_t errlen) {
  meta *ms = NULL;
  sim_record **recs = NULL;
  size_t *from = NULL;
  GString *entries = NULL;
  int lock_fd = -1, rc = 0;

  if (n_dirs == 0)
    return sim_fail(err, errlen, DHT_EINVAL, "merge needs at least one output folder");
  ms = g_try_new0(meta, n_dirs);
  if (ms == NULL)
    return sim_fail(err, errlen, DHT_ENOMEM, "out of memory");
  /* The lock first: out_dir may be a folder a run is still writing. */
  if ((rc = sim_outdir_lock(out_dir, &lock_fd, err, errlen)) < 0)
    goto out;
  for (size_t i = 0; i < n_dirs; i++) {
    if ((rc = read_manifest(dirs[i], &ms[i], err, errlen)) < 0)
      goto out;
    if (i > 0 && !same_run(&ms[0], &ms[i])) {
      rc = sim_fail(err, errlen, DHT_EINVAL, "%s and %s hold outputs of different scenarios or settings", dirs[0],
                    dirs[i]);
      goto out;
    }
  }
  recs = g_try_new0(sim_record *, ms[0].points);
  from = g_try_new0(size_t, ms[0].points);
  if (recs == NULL || from == NULL) {
    rc = sim_fail(err, errlen, DHT_ENOMEM, "out of memory for %" PRIu64 " points", ms[0].points);
    goto out;
  }
  /* Every point from the first folder that has it, each part checked
   * against that folder's manifest before anything is written. */
  for (uint64_t p = 0; p < ms[0].points; p++) {
    for (size_t i = 0; i < n_dirs && recs[p] == NULL; i++) {
      int found;
      if (!point_present(dirs[i], &ms[i], p))
        continue;
      for (size_t e = 0; e < G_N_ELEMENTS(part_exts) && rc == 0; e++)
        rc = verify_part(dirs[i], &ms[i], p, part_exts[e], NULL, NULL, err, errlen);
      if (rc < 0) {
        size_t n = strlen(err);
        if (n < errlen)
          snprintf(err + n, errlen - n, ": run that folder again with --resume");
        goto out;
      }
      found = load_record(dirs[i], p, &recs[p], err, errlen);
      if (found < 0) {
        rc = found;
        goto out;
      }
      from[p] = i;
    }
    if (recs[p] == NULL) {
      rc = sim_fail(err, errlen, DHT_EINVAL, "point %" PRIu64 " of %" PRIu64 " is in none of the folders (missing shard?)",
                    p, ms[0].points);
      goto out;
    }
  }
  {
    char *parts = g_build_filename(out_dir, "parts", NULL);
    if (g_mkdir_with_parents(parts, 0777) != 0)
      rc = sim_fail(err, errlen, DHT_EIO, "cannot create output folder %s: %s", parts, g_strerror(errno));
    g_free(parts);
    if (rc < 0 || (rc = remove_finals(out_dir, err, errlen)) < 0)
      goto out;
  }
  /* Copy every part into out_dir (unless it is already there), the bytes
   * checked once more as they are copied. */
  entries = g_string_new(NULL);
  for (uint64_t p = 0; p < ms[0].points && rc == 0; p++) {
    const char *src_dir = dirs[from[p]];
    for (size_t e = 0; e < G_N_ELEMENTS(part_exts) && rc == 0; e++) {
      char *src = part_path(src_dir, p, part_exts[e]), *dst = part_path(out_dir, p, part_exts[e]);
      char *data = NULL;
      gsize len = 0;
      if (strcmp(src, dst) != 0 &&
          (rc = verify_part(src_dir, &ms[from[p]], p, part_exts[e], &data, &len, err, errlen)) == 0)
        rc = sim_outfile_write(dst, data, len, err, errlen);
      g_free(data);
      g_free(src);
      g_free(dst);
    }
    if (rc == 0)
      copy_entries(entries, &ms[from[p]], p);
  }
  ms[0].shard_index = 0;
  ms[0].shard_count = 1;
  if (rc == 0)
    rc = write_manifest(out_dir, &ms[0], entries, err, errlen);
  if (rc == 0)
    rc = assemble(out_dir, &ms[0], recs, err, errlen);
out:
  if (recs != NULL)
    for (uint64_t p = 0; p < ms[0].points; p++)
      sim_record_free(recs[p]);
  g_free(recs);
  g_free(from);
  if (entries != NULL)
    g_string_free(entries, TRUE);
  for (size_t i = 0; i < n_dirs; i++)
    meta_clear(&ms[i]);
  g_free(ms);
  sim_outdir_unlock(lock_fd);
  return rc;
}
