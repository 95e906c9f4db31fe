/* param.c: the parameter table built from param.def, and the operations that
 * every key shares: defaults, lookup, the checked setter, canonical and display
 * text, the output fingerprint and the `dhtsim keys` listing. */
#include "param.h"

#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "scenario.h"
#include "text.h"

/* The one copy of every enum's names, indexed by the enum's value. */
static const char *const sim_tables_names[] = {[SIM_TABLES_RANDOM] = "random", [SIM_TABLES_FULL] = "full", NULL};
static const char *const sim_latency_names[] = {
    [SIM_LATENCY_CONSTANT] = "constant", [SIM_LATENCY_UNIFORM] = "uniform", [SIM_LATENCY_LOGNORMAL] = "lognormal",
    [SIM_LATENCY_COORDINATES] = "coordinates", [SIM_LATENCY_MATRIX] = "matrix", NULL};
static const char *const sim_strategy_names[] = {
    [DHT_LOOKUP_ROUNDS] = "rounds", [DHT_LOOKUP_PIPELINED] = "pipelined", [DHT_LOOKUP_LIBTORRENT] = "libtorrent",
    [DHT_LOOKUP_JECH] = "jech", [DHT_LOOKUP_BITTORRENT_DHT] = "bittorrent-dht", [DHT_LOOKUP_ARIA2] = "aria2",
    [DHT_LOOKUP_LIBP2P] = "libp2p", [DHT_LOOKUP_MLDHT] = "mldht", NULL};
static const char *const sim_arrival_names[] = {
    [SIM_ARRIVAL_SEQUENTIAL] = "sequential", [SIM_ARRIVAL_POISSON] = "poisson", NULL};

static const char *const sim_maintenance_names[] = {[SIM_MAINTENANCE_NONE] = "none",
                                                    [SIM_MAINTENANCE_PASSIVE] = "passive",
                                                    [SIM_MAINTENANCE_BEP5] = "bep5", NULL};
static const char *const sim_churn_model_names[] = {[SIM_CHURN_NONE] = "none",           [SIM_CHURN_EXPONENTIAL] = "exponential",
                                                    [SIM_CHURN_WEIBULL] = "weibull",     [SIM_CHURN_LOGNORMAL] = "lognormal",
                                                    [SIM_CHURN_PARETO] = "pareto",       NULL};
static const char *const sim_initial_names[] = {[SIM_INITIAL_STATIONARY] = "stationary", [SIM_INITIAL_ALL] = "all", NULL};
static const char *const sim_rejoin_names[] = {[SIM_REJOIN_SAME] = "same", [SIM_REJOIN_NEW] = "new", NULL};

#define P_SWEEP SIM_PARAM_SWEEP
#define P_LIVING SIM_PARAM_LIVING
#define P_MIN_OPEN SIM_PARAM_MIN_OPEN
#define P_MAX_OPEN SIM_PARAM_MAX_OPEN
#define P_QUIET SIM_PARAM_QUIET
#define FIELD_SIZE_(field) sizeof(((sim_scenario *)0)->field)

#define SIM_PARAM_ENTRY_(id, key, field, type, def, lo, hi, flags, unit, names, deftext, doc)                       \
  [SIM_P_##id] = {key,          SIM_PT_##type,   offsetof(sim_scenario, field), FIELD_SIZE_(field),               \
                  (uint64_t)(def), (uint64_t)(lo), (uint64_t)(hi),               (double)(def),                    \
                  (double)(lo),  (double)(hi),   flags,                          unit,                             \
                  names,         deftext,        doc},

const sim_param sim_params[SIM_PARAM_COUNT] = {SIM_PARAM_MAP(SIM_PARAM_ENTRY_)};

const char *sim_param_name(sim_param_id id) {
  const char *dot = strchr(sim_params[id].key, '.');
  return dot ? dot + 1 : sim_params[id].key;
}

size_t sim_param_section_len(sim_param_id id) {
  const char *dot = strchr(sim_params[id].key, '.');
  return dot ? (size_t)(dot - sim_params[id].key) : 0;
}

int sim_param_find(const char *s, size_t n) {
  for (int i = 0; i < SIM_PARAM_COUNT; i++)
    if (strlen(sim_params[i].key) == n && memcmp(sim_params[i].key, s, n) == 0)
      return i;
  return -1;
}

const char *sim_param_enum_name(sim_param_id id, int value) {
  const char *const *names = sim_params[id].names;
  if (names == NULL || value < 0)
    return "?";
  for (int i = 0; names[i] != NULL; i++)
    if (i == value)
      return names[i];
  return "?";
}

/* ---- field access: every integer-like field is 1, 4 or 8 bytes ---- */

static void *field_at(sim_scenario *sc, sim_param_id id) { return (char *)sc + sim_params[id].offset; }
static const void *cfield_at(const sim_scenario *sc, sim_param_id id) {
  return (const char *)sc + sim_params[id].offset;
}

static uint64_t get_uint(const sim_scenario *sc, sim_param_id id) {
  const void *p = cfield_at(sc, id);
  switch (sim_params[id].size) {
  case 1: return *(const uint8_t *)p;
  case 4: return *(const uint32_t *)p;
  default: return *(const uint64_t *)p;
  }
}

static void put_uint(sim_scenario *sc, sim_param_id id, uint64_t v) {
  void *p = field_at(sc, id);
  switch (sim_params[id].size) {
  case 1: *(uint8_t *)p = (uint8_t)v; break;
  case 4: *(uint32_t *)p = (uint32_t)v; break;
  default: *(uint64_t *)p = v; break;
  }
}

static int get_enum(const sim_scenario *sc, sim_param_id id) {
  int v;
  memcpy(&v, cfield_at(sc, id), sizeof v); /* enums are int-sized (checked by test_param) */
  return v;
}

static void put_enum(sim_scenario *sc, sim_param_id id, int v) { memcpy(field_at(sc, id), &v, sizeof v); }

static double get_real(const sim_scenario *sc, sim_param_id id) { return *(const double *)cfield_at(sc, id); }

static char *get_str(const sim_scenario *sc, sim_param_id id) { return *(char *const *)cfield_at(sc, id); }

const char *sim_param_text(sim_param_id id, const sim_scenario *sc) {
  sim_param_type t = sim_params[id].type;
  return t == SIM_PT_NAME || t == SIM_PT_PATH ? get_str(sc, id) : NULL;
}

static bool get_bool(const sim_scenario *sc, sim_param_id id) { return *(const bool *)cfield_at(sc, id); }

void sim_param_defaults(sim_scenario *sc) {
  memset(sc, 0, sizeof *sc);
  for (int i = 0; i < SIM_PARAM_COUNT; i++) {
    const sim_param *p = &sim_params[i];
    switch (p->type) {
    case SIM_PT_UINT: put_uint(sc, (sim_param_id)i, p->idef); break;
    case SIM_PT_REAL: *(double *)field_at(sc, (sim_param_id)i) = p->fdef; break;
    case SIM_PT_DURATION: put_uint(sc, (sim_param_id)i, (uint64_t)llround(p->fdef * 1000.0)); break;
    case SIM_PT_ENUM: put_enum(sc, (sim_param_id)i, (int)p->idef); break;
    case SIM_PT_BOOL: *(bool *)field_at(sc, (sim_param_id)i) = p->idef != 0; break;
    case SIM_PT_NAME:
    case SIM_PT_PATH: *(char **)field_at(sc, (sim_param_id)i) = NULL; break;
    }
  }
}

/* ---- reading values ---- */

/* "%g" without an exponent for the ranges we use. */
static void fmt_bound(char *out, size_t outlen, double v) { snprintf(out, outlen, "%.10g", v); }

void sim_param_expected(sim_param_id id, char *out, size_t outlen) {
  const sim_param *p = &sim_params[id];
  char lo[32], hi[32];
  switch (p->type) {
  case SIM_PT_UINT:
    snprintf(out, outlen, "an integer from %" PRIu64 " to %" PRIu64, p->imin, p->imax);
    return;
  case SIM_PT_REAL:
  case SIM_PT_DURATION: {
    const char *what = p->type == SIM_PT_DURATION ? "a number of milliseconds" : "a number";
    bool lo_open = (p->flags & SIM_PARAM_MIN_OPEN) != 0, hi_open = (p->flags & SIM_PARAM_MAX_OPEN) != 0;
    fmt_bound(lo, sizeof lo, p->fmin);
    fmt_bound(hi, sizeof hi, p->fmax);
    if (lo_open && !hi_open)
      snprintf(out, outlen, "%s greater than %s and at most %s", what, lo, hi);
    else if (!lo_open && hi_open)
      snprintf(out, outlen, "%s at least %s and less than %s", what, lo, hi);
    else if (lo_open && hi_open)
      snprintf(out, outlen, "%s greater than %s and less than %s", what, lo, hi);
    else
      snprintf(out, outlen, "%s from %s to %s", what, lo, hi);
    return;
  }
  case SIM_PT_ENUM: {
    size_t n = 0, o = 0;
    while (p->names[n] != NULL)
      n++;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
      const char *sep = i == 0 ? "" : (i + 1 == n ? " or " : ", ");
      int w = snprintf(out + o, outlen - o, "%s%s", sep, p->names[i]);
      if (w < 0 || (size_t)w >= outlen - o)
        return;
      o += (size_t)w;
    }
    return;
  }
  case SIM_PT_BOOL: snprintf(out, outlen, "true or false"); return;
  case SIM_PT_NAME:
    snprintf(out, outlen, "a non-empty one-line string (at most 4096 bytes, no control characters)");
    return;
  case SIM_PT_PATH: snprintf(out, outlen, "a file path (at most 4096 bytes, no control characters)"); return;
  }
}

/* Plain decimal integer: digits only (no sign, no underscores, no exponent). */
static bool read_uint(const char *s, size_t n, uint64_t *out) {
  if (n == 0 || memchr(s, '\0', n) != NULL)
    return false;
  char *buf = g_try_malloc(n + 1);
  if (buf == NULL)
    return false;
  memcpy(buf, s, n);
  buf[n] = '\0';
  bool ok = sim_parse_u64(buf, out);
  g_free(buf);
  return ok;
}

/* Plain decimal number ("50", "0.5", "1e-3", "-2"): no hex, nan or inf. */
static bool read_real(const char *s, size_t n, double *out) {
  bool digit = false;
  if (n == 0 || memchr(s, '\0', n) != NULL)
    return false;
  for (size_t i = 0; i < n; i++) {
    char ch = s[i];
    if (ch >= '0' && ch <= '9')
      digit = true;
    else if (ch != '.' && ch != 'e' && ch != 'E' && ch != '+' && ch != '-')
      return false;
  }
  if (!digit)
    return false;
  char *buf = g_try_malloc(n + 1), *end = NULL;
  if (buf == NULL)
    return false;
  memcpy(buf, s, n);
  buf[n] = '\0';
  errno = 0;
  double v = strtod(buf, &end);
  bool ok = end == buf + n && isfinite(v);
  g_free(buf);
  if (ok)
    *out = v;
  return ok;
}

static bool in_range(const sim_param *p, double v) {
  if ((p->flags & SIM_PARAM_MIN_OPEN) ? !(v > p->fmin) : !(v >= p->fmin))
    return false;
  if ((p->flags & SIM_PARAM_MAX_OPEN) ? !(v < p->fmax) : !(v <= p->fmax))
    return false;
  return true;
}

/* YAML's plain null: empty, ~, null, Null, NULL. */
static bool is_null_plain(const char *s, size_t n, bool plain) {
  if (!plain)
    return false;
  static const char *const nulls[] = {"~", "null", "Null", "NULL"};
  if (n == 0)
    return true;
  for (size_t i = 0; i < G_N_ELEMENTS(nulls); i++)
    if (strlen(nulls[i]) == n && memcmp(nulls[i], s, n) == 0)
      return true;
  return false;
}

/* dir/s, or s when it is absolute or dir is "." or NULL. NULL when out of memory. */
static char *resolve_path(const char *dir, const char *s, size_t n) {
  bool join = dir != NULL && strcmp(dir, ".") != 0 && !(n > 0 && s[0] == '/');
  size_t dl = join ? strlen(dir) : 0;
  bool sep = join && dl > 0 && dir[dl - 1] != '/';
  char *out = g_try_malloc(dl + (sep ? 1 : 0) + n + 1);
  if (out == NULL)
    return NULL;
  if (join)
    memcpy(out, dir, dl);
  if (sep)
    out[dl++] = '/';
  memcpy(out + dl, s, n);
  out[dl + n] = '\0';
  return out;
}

int sim_param_set(sim_param_id id, const char *s, size_t n, bool plain, const char *dir, sim_scenario *dst,
                  char *want, size_t wantlen) {
  const sim_param *p = &sim_params[id];
  bool ok = false;
  switch (p->type) {
  case SIM_PT_UINT: {
    uint64_t v = 0;
    ok = plain && read_uint(s, n, &v) && v >= p->imin && v <= p->imax;
    if (ok)
      put_uint(dst, id, v);
    break;
  }
  case SIM_PT_REAL:
  case SIM_PT_DURATION: {
    double v = 0;
    ok = plain && read_real(s, n, &v) && in_range(p, v);
    if (ok && p->type == SIM_PT_REAL)
      *(double *)field_at(dst, id) = v;
    else if (ok)
      put_uint(dst, id, (uint64_t)llround(v * 1000.0));
    break;
  }
  case SIM_PT_ENUM:
    for (int i = 0; p->names[i] != NULL && !ok; i++) {
      if (strlen(p->names[i]) == n && memcmp(p->names[i], s, n) == 0) {
        put_enum(dst, id, i);
        ok = true;
      }
    }
    break;
  case SIM_PT_BOOL:
    if (n == 4 && memcmp(s, "true", 4) == 0)
      ok = true, *(bool *)field_at(dst, id) = true;
    else if (n == 5 && memcmp(s, "false", 5) == 0)
      ok = true, *(bool *)field_at(dst, id) = false;
    break;
  case SIM_PT_NAME:
  case SIM_PT_PATH: {
    ok = !is_null_plain(s, n, plain) && n > 0 && n <= 4096;
    for (size_t i = 0; ok && i < n; i++)
      if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
        ok = false;
    if (!ok)
      break;
    char *val = resolve_path(p->type == SIM_PT_PATH ? dir : NULL, s, n);
    if (val == NULL)
      return DHT_ENOMEM;
    char **slot = (char **)field_at(dst, id);
    g_free(*slot);
    *slot = val;
    break;
  }
  }
  if (ok)
    return DHT_OK;
  if (want != NULL && wantlen > 0)
    sim_param_expected(id, want, wantlen);
  return DHT_EINVAL;
}

/* ---- writing values ---- */

void sim_param_canon(sim_param_id id, const sim_scenario *sc, char *out, size_t outlen) {
  const sim_param *p = &sim_params[id];
  switch (p->type) {
  case SIM_PT_UINT:
  case SIM_PT_DURATION: snprintf(out, outlen, "%" PRIu64, get_uint(sc, id)); return;
  case SIM_PT_REAL: {
    double d = get_real(sc, id);
    if (d == 0.0)
      d = 0.0; /* -0 */
    snprintf(out, outlen, "%.17g", d);
    return;
  }
  case SIM_PT_ENUM: snprintf(out, outlen, "%s", sim_param_enum_name(id, get_enum(sc, id))); return;
  case SIM_PT_BOOL: snprintf(out, outlen, "%s", get_bool(sc, id) ? "true" : "false"); return;
  case SIM_PT_NAME:
  case SIM_PT_PATH: {
    const char *v = get_str(sc, id);
    snprintf(out, outlen, "%s", v ? v : "");
    return;
  }
  }
}

/* The fewest significant digits that read back as d, written without an
 * exponent when d's decimal exponent is in [-5, 17) ("10", "0.0001", not
 * "1e+01"), with one otherwise ("1e-07"). */
static void shortest_real(char *out, size_t outlen, double d) {
  int prec = 17;
  if (d == 0.0)
    d = 0.0; /* -0 */
  for (int p = 1; p <= 17; p++) {
    snprintf(out, outlen, "%.*e", p - 1, d);
    if (strtod(out, NULL) == d) {
      prec = p;
      break;
    }
  }
  int exp10 = d == 0.0 ? 0 : atoi(strchr(out, 'e') + 1);
  if (exp10 >= -5 && exp10 < 17 && exp10 + 1 > prec)
    prec = exp10 + 1;
  snprintf(out, outlen, "%.*g", prec, d);
}

void sim_param_format(sim_param_id id, const sim_scenario *sc, char *out, size_t outlen) {
  const sim_param *p = &sim_params[id];
  if (p->type == SIM_PT_REAL) {
    shortest_real(out, outlen, get_real(sc, id));
  } else if (p->type == SIM_PT_DURATION) {
    uint64_t us = get_uint(sc, id);
    if (us % 1000 == 0) {
      snprintf(out, outlen, "%" PRIu64, us / 1000);
    } else {
      char frac[8];
      snprintf(frac, sizeof frac, "%03u", (unsigned)(us % 1000));
      for (size_t l = strlen(frac); l > 0 && frac[l - 1] == '0'; l--)
        frac[l - 1] = '\0';
      snprintf(out, outlen, "%" PRIu64 ".%s", us / 1000, frac);
    }
  } else {
    sim_param_canon(id, sc, out, outlen);
  }
}

bool sim_param_is_text(sim_param_id id) {
  sim_param_type t = sim_params[id].type;
  return t == SIM_PT_ENUM || t == SIM_PT_NAME || t == SIM_PT_PATH;
}

bool sim_param_is_set(sim_param_id id, const sim_scenario *sc) {
  sim_param_type t = sim_params[id].type;
  return (t != SIM_PT_NAME && t != SIM_PT_PATH) || get_str(sc, id) != NULL;
}

bool sim_param_living(const sim_scenario *sc) {
  sim_scenario d;
  char a[64], b[64];
  sim_param_defaults(&d);
  for (int i = 0; i < SIM_PARAM_COUNT; i++) {
    if (!(sim_params[i].flags & SIM_PARAM_LIVING))
      continue;
    sim_param_canon((sim_param_id)i, sc, a, sizeof a);
    sim_param_canon((sim_param_id)i, &d, b, sizeof b);
    if (strcmp(a, b) != 0)
      return true;
  }
  return false;
}

bool sim_param_in_use(sim_param_id id, const sim_scenario *sc) {
  char v[64], d[64]; /* numbers and enum names: what the fingerprint formats in 64 bytes too */
  sim_scenario def;
  if (!(sim_params[id].flags & SIM_PARAM_QUIET))
    return true;
  if (sim_params[id].flags & SIM_PARAM_LIVING)
    return sim_param_living(sc); /* the living keys go together */
  for (size_t i = 0; sc->sweep != NULL && i < sc->n_sweep; i++)
    if (strcmp(sc->sweep[i].key, sim_params[id].key) == 0)
      return true;
  if (sim_params[id].type == SIM_PT_NAME || sim_params[id].type == SIM_PT_PATH)
    return get_str(sc, id) != NULL;
  sim_param_defaults(&def);
  sim_param_canon(id, sc, v, sizeof v);
  sim_param_canon(id, &def, d, sizeof d);
  return strcmp(v, d) != 0;
}

/* ---- fingerprint ---- */

static uint64_t hash_str(uint64_t h, const char *s) { return sim_fnv1a64(h, s, strlen(s)); }

uint64_t sim_param_fingerprint(const sim_scenario *sc, uint64_t lookups, const sim_file_digests *files) {
  char buf[64];
  /* v3: a file counts by its contents' SHA-256, not by its path. */
  uint64_t h = hash_str(SIM_FNV1A64_INIT, "dhtsim-fingerprint v3\n");
  for (int i = 0; i < SIM_PARAM_COUNT; i++) {
    const char *v = NULL;
    if (!sim_param_in_use((sim_param_id)i, sc))
      continue; /* a quiet key left alone: the fingerprint it always had */
    h = hash_str(h, sim_params[i].key);
    h = hash_str(h, "=");
    if (sim_params[i].type == SIM_PT_PATH) {
      /* The same file named from another folder is the same input; an edited
       * file under the same name is not. */
      h = hash_str(h, get_str(sc, (sim_param_id)i) == NULL ? "-" : "sha256:");
      if (get_str(sc, (sim_param_id)i) != NULL)
        h = hash_str(h, files->sha256[i]);
    } else if (sim_params[i].type == SIM_PT_NAME) {
      v = get_str(sc, (sim_param_id)i); /* any length: hashed whole, not through buf */
      h = hash_str(h, v ? v : "");
    } else {
      sim_param_canon((sim_param_id)i, sc, buf, sizeof buf);
      h = hash_str(h, buf);
    }
    h = hash_str(h, "\n");
  }
  snprintf(buf, sizeof buf, "lookups=%" PRIu64 "\n", lookups);
  h = hash_str(h, buf);
  /* Timed events (only when there are some: fingerprints without them are unchanged). */
  for (size_t i = 0; sc->events != NULL && i < sc->n_events; i++) {
    const sim_timed_event *e = &sc->events[i];
    snprintf(buf, sizeof buf, "event=%" PRIu64 " %d %.17g ", e->at_us, (int)e->action, e->fraction);
    /* (partition and heal: action and fraction say it all) */
    h = hash_str(h, buf);
    if (e->action == SIM_EVENT_SET) {
      h = hash_str(h, sim_params[e->param].key);
      h = hash_str(h, "=");
      h = hash_str(h, e->value);
    }
    h = hash_str(h, "\n");
  }
  for (size_t i = 0; sc->sweep != NULL && i < sc->n_sweep; i++) {
    h = hash_str(h, "sweep=");
    h = hash_str(h, sc->sweep[i].key);
    for (size_t j = 0; j < sc->sweep[i].n; j++) {
      h = hash_str(h, " ");
      h = hash_str(h, sc->sweep[i].values[j]);
    }
    h = hash_str(h, "\n");
  }
  return h;
}

/* ---- dhtsim keys ---- */

static const char *type_name(sim_param_type t) {
  switch (t) {
  case SIM_PT_UINT: return "integer";
  case SIM_PT_REAL: return "number";
  case SIM_PT_DURATION: return "duration";
  case SIM_PT_ENUM: return "enum";
  case SIM_PT_NAME: return "string";
  case SIM_PT_PATH: return "path";
  case SIM_PT_BOOL: return "bool";
  }
  return "?";
}

static void default_text(sim_param_id id, const sim_scenario *defaults, char *out, size_t outlen) {
  const sim_param *p = &sim_params[id];
  if (p->default_text[0] != '\0')
    snprintf(out, outlen, "%s", p->default_text);
  else
    sim_param_format(id, defaults, out, outlen);
}

int sim_param_write_keys(FILE *f, bool markdown) {
  sim_scenario d;
  char def[64], range[160];
  sim_param_defaults(&d);
  if (markdown) {
    fputs("| Key | Type | Default | Range | Unit | Sweep | Meaning |\n", f);
    fputs("|-----|------|---------|-------|------|-------|---------|\n", f);
  } else {
    fprintf(f, "%-24s %-8s %-20s %-5s %-11s %s\n", "key", "type", "default", "sweep", "unit", "range");
  }
  for (int i = 0; i < SIM_PARAM_COUNT; i++) {
    const sim_param *p = &sim_params[i];
    default_text((sim_param_id)i, &d, def, sizeof def);
    sim_param_expected((sim_param_id)i, range, sizeof range);
    bool sw = (p->flags & SIM_PARAM_SWEEP) != 0;
    if (markdown)
      fprintf(f, "| `%s` | %s | %s | %s | %s | %s | %s |\n", p->key, type_name(p->type), def, range,
              p->unit[0] ? p->unit : "", sw ? "yes" : "no", p->doc);
    else
      fprintf(f, "%-24s %-8s %-20s %-5s %-11s %s\n%24s %s\n", p->key, type_name(p->type), def, sw ? "yes" : "no",
              p->unit[0] ? p->unit : "-", range, "", p->doc);
  }
  return ferror(f) ? DHT_EIO : 0;
}
