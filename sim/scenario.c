/* scenario.c: reads a scenario YAML file with libyaml's event API into a
 * validated sim_scenario. The accepted format (every key, its default, unit and
 * range) is documented in docs/scenario-format.md; keep the two in sync.
 *
 * Parsing is single-pass and stops at the first problem: the message names the
 * file, the 1-based line and column of the offending key (key errors) or value
 * (value errors), and what was expected. Nothing deeper than a section (or the
 * sweep's lists) is ever descended into, anchors are ignored, aliases and tags
 * are refused, so no input can make the parser recurse, expand or allocate more
 * than libyaml itself.
 *
 * Sweeps: `sweep:` values are validated with the same setter as section values
 * (set_value) on a scratch scenario and stored as written; sim_scenario_point
 * applies them through it again, then runs the cross-checks and the memory
 * check for that point. In the base scenario a swept key keeps its default, and
 * workload.plant_at is 0 when it follows a swept lookup.k (resolved per point).
 * The point functions only read the base: they may run concurrently. */
#include "scenario.h"

#include <errno.h>
#include <glib.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "budget.h"
#include "error.h"
#include "message.h"
#include "rng.h"
#include "routing_table.h"
#include "sim.h"

/* Scenario files are small; anything bigger is not one (and would otherwise be
 * read into memory whole). */
#define SCENARIO_FILE_MAX (16u * 1024u * 1024u)
/* Bytes kept per lookup of the workload: its result record and one slot of the statistics scratch. */
#define SCENARIO_BYTES_PER_LOOKUP ((uint64_t)sizeof(sim_lookup_result) + sizeof(uint64_t))
/* Shown values are cut to this many bytes in messages. */
#define SHOW_MAX 40
#define MS_MAX 3600000.0 /* one hour */
#define SCENARIO_REPLICAS_MAX 10000u

/* ---- defaults ------------------------------------------------------------ */

void sim_scenario_defaults(sim_scenario *sc) {
  if (sc == NULL)
    return;
  memset(sc, 0, sizeof *sc);
  sc->path = NULL;
  sc->name = NULL;
  sc->seed = 1;
  sc->network.nodes = 100;
  sc->network.tables = SIM_TABLES_RANDOM;
  sc->network.topology = NULL;
  sc->latency.model = SIM_LATENCY_CONSTANT;
  sc->latency.delay_us = 50000;
  sc->latency.min_us = 10000;
  sc->latency.max_us = 100000;
  sc->latency.median_us = 50000;
  sc->latency.sigma = 0.5;
  sc->latency.slow_fraction = 0.0;
  sc->latency.slow_multiplier = 10.0;
  sc->loss.request_drop = 0.0;
  sc->loss.response_drop = 0.0;
  sc->loss.dead_fraction = 0.0;
  sc->lookup.strategy = DHT_LOOKUP_ROUNDS;
  sc->lookup.alpha = DHT_ALPHA_DEFAULT;
  sc->lookup.k = DHT_K_DEFAULT;
  sc->lookup.timeout_us = 2000000;
  sc->workload.lookups = 100;
  sc->workload.planted_peers = 5;
  sc->workload.plant_at = DHT_K_DEFAULT;
  sc->workload.arrival = SIM_ARRIVAL_SEQUENTIAL;
  sc->workload.rate_per_s = 10.0;
  sc->workload.lookups_file = NULL;
  sc->replicas = 1;
  sc->sweep = NULL;
  sc->n_sweep = 0;
}

void sim_scenario_clear(sim_scenario *sc) {
  if (sc == NULL)
    return;
  g_free(sc->path);
  g_free(sc->name);
  g_free(sc->network.topology);
  g_free(sc->workload.lookups_file);
  for (size_t i = 0; sc->sweep != NULL && i < sc->n_sweep; i++) {
    for (size_t j = 0; j < sc->sweep[i].n; j++)
      g_free(sc->sweep[i].values[j]);
    g_free(sc->sweep[i].values);
    g_free(sc->sweep[i].key);
  }
  g_free(sc->sweep);
  sim_scenario_defaults(sc);
}

/* ---- the key table --------------------------------------------------------- */

typedef enum key_kind {
  KK_SECTION, /* a mapping of further keys */
  KK_SWEEP,   /* the sweep mapping: dotted key -> list of values */
  KK_UINT,    /* plain decimal integer in [imin, imax] */
  KK_MS,      /* milliseconds (decimal number) in [fmin, fmax], stored as rounded microseconds */
  KK_FLOAT,   /* decimal number in [fmin, fmax] (fmax exclusive if fmax_open, fmin if fmin_open) */
  KK_ENUM,    /* one of enum_names */
  KK_NAME,    /* non-empty one-line string */
  KK_PATH,    /* non-empty file path, resolved against the scenario's folder */
} key_kind;

typedef enum field {
  /* top level */
  F_NAME, F_SEED, F_NETWORK, F_LATENCY, F_LOSS, F_LOOKUP, F_WORKLOAD, F_REPLICAS, F_SWEEP,
  /* network */
  F_NODES, F_TABLES, F_TOPOLOGY,
  /* latency */
  F_MODEL, F_DELAY, F_MIN, F_MAX, F_MEDIAN, F_SIGMA, F_SLOW_FRACTION, F_SLOW_MULTIPLIER,
  /* loss */
  F_REQUEST_DROP, F_RESPONSE_DROP, F_DEAD_FRACTION,
  /* lookup */
  F_STRATEGY, F_ALPHA, F_K, F_TIMEOUT,
  /* workload */
  F_LOOKUPS, F_PLANTED_PEERS, F_PLANT_AT, F_ARRIVAL, F_RATE, F_LOOKUPS_FILE,
  F_COUNT
} field;

typedef enum section {
  S_TOP, S_NETWORK, S_LATENCY, S_LOSS, S_LOOKUP, S_WORKLOAD, S_COUNT
} section;

static const char *const section_names[S_COUNT] = {
  [S_TOP] = NULL, [S_NETWORK] = "network", [S_LATENCY] = "latency",
  [S_LOSS] = "loss", [S_LOOKUP] = "lookup", [S_WORKLOAD] = "workload",
};

static const char *const tables_names[] = {"random", "full", NULL};
static const char *const model_names[] = {"constant", "uniform", "lognormal", NULL};
static const char *const strategy_names[] = {"rounds", "pipelined", NULL};
static const char *const arrival_names[] = {"sequential", "poisson", NULL};

typedef struct key_desc {
  const char *name;
  section in;        /* the section the key belongs to */
  key_kind kind;
  section opens;     /* KK_SECTION: which section */
  uint64_t imin, imax;
  double fmin, fmax;
  bool fmin_open, fmax_open;
  const char *const *enum_names;
} key_desc;

/* In documentation order: "expected one of" lists follow it. */
static const key_desc keys[F_COUNT] = {
  [F_NAME] = {"name", S_TOP, KK_NAME, 0, 0, 0, 0, 0, false, false, NULL},
  [F_SEED] = {"seed", S_TOP, KK_UINT, 0, 0, UINT64_MAX, 0, 0, false, false, NULL},
  [F_NETWORK] = {"network", S_TOP, KK_SECTION, S_NETWORK, 0, 0, 0, 0, false, false, NULL},
  [F_LATENCY] = {"latency", S_TOP, KK_SECTION, S_LATENCY, 0, 0, 0, 0, false, false, NULL},
  [F_LOSS] = {"loss", S_TOP, KK_SECTION, S_LOSS, 0, 0, 0, 0, false, false, NULL},
  [F_LOOKUP] = {"lookup", S_TOP, KK_SECTION, S_LOOKUP, 0, 0, 0, 0, false, false, NULL},
  [F_WORKLOAD] = {"workload", S_TOP, KK_SECTION, S_WORKLOAD, 0, 0, 0, 0, false, false, NULL},
  [F_REPLICAS] = {"replicas", S_TOP, KK_UINT, 0, 1, SCENARIO_REPLICAS_MAX, 0, 0, false, false, NULL},
  [F_SWEEP] = {"sweep", S_TOP, KK_SWEEP, 0, 0, 0, 0, 0, false, false, NULL},

  [F_NODES] = {"nodes", S_NETWORK, KK_UINT, 0, 2, SIM_NODES_MAX, 0, 0, false, false, NULL},
  [F_TABLES] = {"tables", S_NETWORK, KK_ENUM, 0, 0, 0, 0, 0, false, false, tables_names},
  [F_TOPOLOGY] = {"topology", S_NETWORK, KK_PATH, 0, 0, 0, 0, 0, false, false, NULL},

  [F_MODEL] = {"model", S_LATENCY, KK_ENUM, 0, 0, 0, 0, 0, false, false, model_names},
  [F_DELAY] = {"delay_ms", S_LATENCY, KK_MS, 0, 0, 0, 0, MS_MAX, false, false, NULL},
  [F_MIN] = {"min_ms", S_LATENCY, KK_MS, 0, 0, 0, 0, MS_MAX, false, false, NULL},
  [F_MAX] = {"max_ms", S_LATENCY, KK_MS, 0, 0, 0, 0, MS_MAX, false, false, NULL},
  [F_MEDIAN] = {"median_ms", S_LATENCY, KK_MS, 0, 0, 0, 0.001, MS_MAX, false, false, NULL},
  [F_SIGMA] = {"sigma", S_LATENCY, KK_FLOAT, 0, 0, 0, 0, 5, false, false, NULL},
  [F_SLOW_FRACTION] = {"slow_fraction", S_LATENCY, KK_FLOAT, 0, 0, 0, 0, 1, false, false, NULL},
  [F_SLOW_MULTIPLIER] = {"slow_multiplier", S_LATENCY, KK_FLOAT, 0, 0, 0, 1, 1000, false, false, NULL},

  [F_REQUEST_DROP] = {"request_drop", S_LOSS, KK_FLOAT, 0, 0, 0, 0, 1, false, false, NULL},
  [F_RESPONSE_DROP] = {"response_drop", S_LOSS, KK_FLOAT, 0, 0, 0, 0, 1, false, false, NULL},
  [F_DEAD_FRACTION] = {"dead_fraction", S_LOSS, KK_FLOAT, 0, 0, 0, 0, 1, false, true, NULL},

  [F_STRATEGY] = {"strategy", S_LOOKUP, KK_ENUM, 0, 0, 0, 0, 0, false, false, strategy_names},
  [F_ALPHA] = {"alpha", S_LOOKUP, KK_UINT, 0, 1, DHT_ALPHA_MAX, 0, 0, false, false, NULL},
  [F_K] = {"k", S_LOOKUP, KK_UINT, 0, 1, DHT_K_MAX, 0, 0, false, false, NULL},
  [F_TIMEOUT] = {"timeout_ms", S_LOOKUP, KK_MS, 0, 0, 0, 0.001, MS_MAX, false, false, NULL},

  [F_LOOKUPS] = {"lookups", S_WORKLOAD, KK_UINT, 0, 1, 1000000000u, 0, 0, false, false, NULL},
  [F_PLANTED_PEERS] = {"planted_peers", S_WORKLOAD, KK_UINT, 0, 0, 1000, 0, 0, false, false, NULL},
  [F_PLANT_AT] = {"plant_at", S_WORKLOAD, KK_UINT, 0, 1, 1000, 0, 0, false, false, NULL},
  [F_ARRIVAL] = {"arrival", S_WORKLOAD, KK_ENUM, 0, 0, 0, 0, 0, false, false, arrival_names},
  [F_RATE] = {"rate_per_s", S_WORKLOAD, KK_FLOAT, 0, 0, 0, 0, 1000000, true, false, NULL},
  [F_LOOKUPS_FILE] = {"lookups_file", S_WORKLOAD, KK_PATH, 0, 0, 0, 0, 0, false, false, NULL},
};

/* ---- parser state ---------------------------------------------------------- */

typedef struct pctx {
  yaml_parser_t parser;
  yaml_event_t ev;
  bool have_ev;
  const char *path; /* for messages */
  const char *data;
  size_t len;
  char *dir;        /* the scenario's folder, for relative paths */
  char *err;
  size_t errlen;
  sim_scenario sc;  /* being filled */
  bool seen[F_COUNT];
  yaml_mark_t key_mark[F_COUNT], val_mark[F_COUNT];
  bool swept[F_COUNT];            /* keys under sweep: */
  yaml_mark_t sweep_mark[F_COUNT]; /* ... and where */
  const char *point;              /* set when checking a sweep point: "point 3 (lookup.alpha=4)";
                                     messages then carry no position */
} pctx;

/* "path:line:col: " + message. Returns rc. */
static int fail_at(pctx *c, int rc, yaml_mark_t m, const char *fmt, ...) G_GNUC_PRINTF(4, 5);
static int fail_at(pctx *c, int rc, yaml_mark_t m, const char *fmt, ...) {
  if (c->err == NULL || c->errlen == 0)
    return rc;
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (c->point != NULL)
    sim_fail(c->err, c->errlen, 0, "%s: %s: %s", c->path, c->point, msg);
  else
    sim_fail(c->err, c->errlen, 0, "%s:%zu:%zu: %s", c->path, m.line + 1, m.column + 1, msg);
  return rc;
}

/* "path: " + message (no position applies); "path: point N (...): " when checking a point. */
static int fail_nopos(pctx *c, int rc, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static int fail_nopos(pctx *c, int rc, const char *fmt, ...) {
  if (c->err == NULL || c->errlen == 0)
    return rc;
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (c->point != NULL)
    sim_fail(c->err, c->errlen, 0, "%s: %s: %s", c->path, c->point, msg);
  else
    sim_fail(c->err, c->errlen, 0, "%s: %s", c->path, msg);
  return rc;
}

/* Appends a one-line, length-bounded rendering of s[0..n) to out (size outlen,
 * NUL-terminated): control characters escaped, cut after SHOW_MAX bytes at a
 * UTF-8 character boundary with "...". */
static void show(char *out, size_t outlen, const char *s, size_t n) {
  size_t o = 0;
  if (outlen == 0)
    return;
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)s[i];
    if (i >= SHOW_MAX && (ch & 0xC0) != 0x80) {
      if (o + 4 <= outlen) {
        memcpy(out + o, "...", 3);
        o += 3;
      }
      break;
    }
    char tmp[8];
    size_t tl;
    if (ch == '\n')
      tl = (size_t)snprintf(tmp, sizeof tmp, "\\n");
    else if (ch == '\t')
      tl = (size_t)snprintf(tmp, sizeof tmp, "\\t");
    else if (ch == '\r')
      tl = (size_t)snprintf(tmp, sizeof tmp, "\\r");
    else if (ch < 0x20 || ch == 0x7f)
      tl = (size_t)snprintf(tmp, sizeof tmp, "\\x%02x", ch);
    else {
      tmp[0] = (char)ch;
      tl = 1;
    }
    if (o + tl + 1 > outlen)
      break;
    memcpy(out + o, tmp, tl);
    o += tl;
  }
  out[o] = '\0';
}

/* What a value event is, for "got ..." in messages. */
static void describe(const yaml_event_t *ev, char *out, size_t outlen) {
  char v[SHOW_MAX * 4 + 8];
  switch (ev->type) {
  case YAML_MAPPING_START_EVENT: snprintf(out, outlen, "a mapping"); return;
  case YAML_SEQUENCE_START_EVENT: snprintf(out, outlen, "a sequence"); return;
  case YAML_ALIAS_EVENT: snprintf(out, outlen, "an alias"); return;
  case YAML_SCALAR_EVENT:
    show(v, sizeof v, (const char *)ev->data.scalar.value, ev->data.scalar.length);
    if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && ev->data.scalar.length == 0)
      snprintf(out, outlen, "an empty value");
    else if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
      snprintf(out, outlen, "'%s'", v);
    else
      snprintf(out, outlen, "the quoted string \"%s\"", v);
    return;
  default: snprintf(out, outlen, "something else"); return;
  }
}

/* Fills the message for a failed yaml_parser_parse. */
static int syntax_error(pctx *c) {
  yaml_parser_t *p = &c->parser;
  if (p->error == YAML_MEMORY_ERROR) {
    sim_fail(c->err, c->errlen, 0, "%s: out of memory while reading YAML", c->path);
    return DHT_ENOMEM;
  }
  const char *problem = p->problem ? p->problem : "invalid YAML";
  if (p->error == YAML_READER_ERROR) {
    /* libyaml gives a byte offset only: count lines up to it. */
    size_t off = p->problem_offset <= c->len ? p->problem_offset : c->len;
    size_t line = 1, col = 1;
    for (size_t i = 0; i < off; i++) {
      if (c->data[i] == '\n') {
        line++;
        col = 1;
      } else if (((unsigned char)c->data[i] & 0xC0) != 0x80) {
        col++;
      }
    }
    if (p->problem_value >= 0)
      sim_fail(c->err, c->errlen, 0, "%s:%zu:%zu: YAML syntax error: %s (byte 0x%02x)", c->path, line, col, problem,
              (unsigned)p->problem_value & 0xffu);
    else
      sim_fail(c->err, c->errlen, 0, "%s:%zu:%zu: YAML syntax error: %s", c->path, line, col, problem);
    return DHT_EINVAL;
  }
  if (p->context != NULL)
    return fail_at(c, DHT_EINVAL, p->problem_mark, "YAML syntax error: %s (%s at line %zu, column %zu)", problem,
                   p->context, p->context_mark.line + 1, p->context_mark.column + 1);
  return fail_at(c, DHT_EINVAL, p->problem_mark, "YAML syntax error: %s", problem);
}

/* Reads the next event into c->ev (freeing the previous one). */
static int next_event(pctx *c) {
  if (c->have_ev) {
    yaml_event_delete(&c->ev);
    c->have_ev = false;
  }
  if (!yaml_parser_parse(&c->parser, &c->ev))
    return syntax_error(c);
  c->have_ev = true;
  return DHT_OK;
}

/* The dotted name of a key for messages: "lookup.alpha" or "seed". */
static void key_label(field f, char *out, size_t outlen) {
  section s = keys[f].in;
  if (s == S_TOP)
    snprintf(out, outlen, "%s", keys[f].name);
  else
    snprintf(out, outlen, "%s.%s", section_names[s], keys[f].name);
}

/* Refuses aliases and explicit tags on any node. */
static int check_node_props(pctx *c, const yaml_event_t *ev, const char *label) {
  const yaml_char_t *tag = NULL;
  char v[SHOW_MAX * 4 + 8];
  if (ev->type == YAML_ALIAS_EVENT) {
    const char *a = (const char *)ev->data.alias.anchor;
    show(v, sizeof v, a, strlen(a));
    return fail_at(c, DHT_EINVAL, ev->start_mark, "%s%sYAML aliases are not supported (found '*%s')",
                   label ? label : "", label ? ": " : "", v);
  }
  if (ev->type == YAML_SCALAR_EVENT)
    tag = ev->data.scalar.tag;
  else if (ev->type == YAML_MAPPING_START_EVENT)
    tag = ev->data.mapping_start.tag;
  else if (ev->type == YAML_SEQUENCE_START_EVENT)
    tag = ev->data.sequence_start.tag;
  if (tag != NULL) {
    show(v, sizeof v, (const char *)tag, strlen((const char *)tag));
    return fail_at(c, DHT_EINVAL, ev->start_mark, "%s%sYAML tags are not supported (found '%s')",
                   label ? label : "", label ? ": " : "", v);
  }
  return DHT_OK;
}

/* ---- scalar conversions ---------------------------------------------------- */

static bool is_null_plain(const yaml_event_t *ev) {
  if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
    return false;
  const char *s = (const char *)ev->data.scalar.value;
  return ev->data.scalar.length == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
         strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

/* Plain decimal integer: digits only (no sign, no underscores, no exponent). */
static bool parse_uint(const yaml_event_t *ev, uint64_t *out, bool *overflow) {
  *overflow = false;
  if (ev->type != YAML_SCALAR_EVENT || ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
    return false;
  const char *s = (const char *)ev->data.scalar.value;
  size_t n = ev->data.scalar.length;
  if (n == 0 || strlen(s) != n)
    return false;
  for (size_t i = 0; i < n; i++)
    if (s[i] < '0' || s[i] > '9')
      return false;
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (end != s + n)
    return false;
  if (errno == ERANGE) {
    *overflow = true;
    return false;
  }
  *out = (uint64_t)v;
  return true;
}

/* Plain decimal number ("50", "0.5", "1e-3", "-2"): no hex, nan or inf. */
static bool parse_double(const yaml_event_t *ev, double *out) {
  if (ev->type != YAML_SCALAR_EVENT || ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
    return false;
  const char *s = (const char *)ev->data.scalar.value;
  size_t n = ev->data.scalar.length;
  bool digit = false;
  if (n == 0 || strlen(s) != n)
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
  char *end = NULL;
  errno = 0;
  double v = strtod(s, &end);
  if (end != s + n || !isfinite(v))
    return false;
  *out = v;
  return true;
}

/* "%g" without an exponent for the ranges we use. */
static void fmt_num(char *out, size_t outlen, double v) { snprintf(out, outlen, "%.10g", v); }

static void float_range_text(const key_desc *d, char *out, size_t outlen) {
  char lo[32], hi[32];
  fmt_num(lo, sizeof lo, d->fmin);
  fmt_num(hi, sizeof hi, d->fmax);
  const char *what = d->kind == KK_MS ? "a number of milliseconds" : "a number";
  if (d->fmin_open && !d->fmax_open)
    snprintf(out, outlen, "%s greater than %s and at most %s", what, lo, hi);
  else if (!d->fmin_open && d->fmax_open)
    snprintf(out, outlen, "%s at least %s and less than %s", what, lo, hi);
  else if (d->fmin_open && d->fmax_open)
    snprintf(out, outlen, "%s greater than %s and less than %s", what, lo, hi);
  else
    snprintf(out, outlen, "%s from %s to %s", what, lo, hi);
}

static void enum_text(const char *const *names, char *out, size_t outlen) {
  size_t n = 0, o = 0;
  while (names[n] != NULL)
    n++;
  out[0] = '\0';
  for (size_t i = 0; i < n; i++) {
    const char *sep = i == 0 ? "" : (i + 1 == n ? " or " : ", ");
    int w = snprintf(out + o, outlen - o, "%s%s", sep, names[i]);
    if (w < 0 || (size_t)w >= outlen - o)
      return;
    o += (size_t)w;
  }
}

static char *try_strndup(const char *s, size_t n) {
  char *p = g_try_malloc(n + 1);
  if (p == NULL)
    return NULL;
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

/* Validates the value event ev of scalar key f and stores it into *dst. The one
 * place a value is read: the sweep validates its values and applies them to a
 * point through it too. */
static int set_value(pctx *c, field f, const yaml_event_t *ev, sim_scenario *dst) {
  const key_desc *d = &keys[f];
  char label[64], got[SHOW_MAX * 4 + 48], want[128];
  key_label(f, label, sizeof label);
  describe(ev, got, sizeof got);

  int rc = check_node_props(c, ev, label);
  if (rc != DHT_OK)
    return rc;

  switch (d->kind) {
  case KK_UINT: {
    uint64_t v = 0;
    bool overflow = false;
    bool ok = parse_uint(ev, &v, &overflow);
    if (!ok || v < d->imin || v > d->imax)
      return fail_at(c, DHT_EINVAL, ev->start_mark, "%s: expected an integer from %" G_GUINT64_FORMAT
                     " to %" G_GUINT64_FORMAT ", got %s", label, d->imin, d->imax, got);
    switch (f) {
    case F_SEED: dst->seed = v; break;
    case F_REPLICAS: dst->replicas = (uint32_t)v; break;
    case F_NODES: dst->network.nodes = v; break;
    case F_ALPHA: dst->lookup.alpha = (unsigned)v; break;
    case F_K: dst->lookup.k = (unsigned)v; break;
    case F_LOOKUPS: dst->workload.lookups = v; break;
    case F_PLANTED_PEERS: dst->workload.planted_peers = (uint32_t)v; break;
    case F_PLANT_AT: dst->workload.plant_at = (uint32_t)v; break;
    default: g_assert_not_reached();
    }
    return DHT_OK;
  }
  case KK_MS:
  case KK_FLOAT: {
    double v = 0;
    bool ok = parse_double(ev, &v);
    if (ok) {
      if (d->fmin_open ? !(v > d->fmin) : !(v >= d->fmin))
        ok = false;
      if (d->fmax_open ? !(v < d->fmax) : !(v <= d->fmax))
        ok = false;
    }
    if (!ok) {
      float_range_text(d, want, sizeof want);
      return fail_at(c, DHT_EINVAL, ev->start_mark, "%s: expected %s, got %s", label, want, got);
    }
    if (d->kind == KK_MS) {
      uint64_t us = (uint64_t)llround(v * 1000.0);
      switch (f) {
      case F_DELAY: dst->latency.delay_us = us; break;
      case F_MIN: dst->latency.min_us = us; break;
      case F_MAX: dst->latency.max_us = us; break;
      case F_MEDIAN: dst->latency.median_us = us; break;
      case F_TIMEOUT: dst->lookup.timeout_us = us; break;
      default: g_assert_not_reached();
      }
      return DHT_OK;
    }
    switch (f) {
    case F_SIGMA: dst->latency.sigma = v; break;
    case F_SLOW_FRACTION: dst->latency.slow_fraction = v; break;
    case F_SLOW_MULTIPLIER: dst->latency.slow_multiplier = v; break;
    case F_REQUEST_DROP: dst->loss.request_drop = v; break;
    case F_RESPONSE_DROP: dst->loss.response_drop = v; break;
    case F_DEAD_FRACTION: dst->loss.dead_fraction = v; break;
    case F_RATE: dst->workload.rate_per_s = v; break;
    default: g_assert_not_reached();
    }
    return DHT_OK;
  }
  case KK_ENUM: {
    int idx = -1;
    if (ev->type == YAML_SCALAR_EVENT) {
      const char *s = (const char *)ev->data.scalar.value;
      for (int i = 0; d->enum_names[i] != NULL; i++)
        if (strlen(s) == ev->data.scalar.length && strcmp(s, d->enum_names[i]) == 0)
          idx = i;
    }
    if (idx < 0) {
      enum_text(d->enum_names, want, sizeof want);
      return fail_at(c, DHT_EINVAL, ev->start_mark, "%s: expected %s, got %s", label, want, got);
    }
    switch (f) {
    case F_TABLES: dst->network.tables = idx == 0 ? SIM_TABLES_RANDOM : SIM_TABLES_FULL; break;
    case F_MODEL:
      dst->latency.model = idx == 0 ? SIM_LATENCY_CONSTANT : idx == 1 ? SIM_LATENCY_UNIFORM : SIM_LATENCY_LOGNORMAL;
      break;
    case F_STRATEGY: dst->lookup.strategy = idx == 0 ? DHT_LOOKUP_ROUNDS : DHT_LOOKUP_PIPELINED; break;
    case F_ARRIVAL: dst->workload.arrival = idx == 0 ? SIM_ARRIVAL_SEQUENTIAL : SIM_ARRIVAL_POISSON; break;
    default: g_assert_not_reached();
    }
    return DHT_OK;
  }
  case KK_NAME:
  case KK_PATH: {
    const char *what = d->kind == KK_NAME ? "a non-empty one-line string" : "a file path";
    bool ok = ev->type == YAML_SCALAR_EVENT && !is_null_plain(ev);
    if (ok) {
      const char *s = (const char *)ev->data.scalar.value;
      size_t n = ev->data.scalar.length;
      if (n == 0 || n > 4096)
        ok = false;
      for (size_t i = 0; ok && i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
          ok = false;
    }
    if (!ok)
      return fail_at(c, DHT_EINVAL, ev->start_mark, "%s: expected %s (at most 4096 bytes, no control characters), got %s",
                     label, what, got);
    const char *s = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    char *val;
    if (d->kind == KK_PATH && !g_path_is_absolute(s) && strcmp(c->dir, ".") != 0)
      val = g_build_filename(c->dir, s, NULL);
    else
      val = try_strndup(s, n);
    if (val == NULL) {
      sim_fail(c->err, c->errlen, 0, "%s: out of memory", c->path);
      return DHT_ENOMEM;
    }
    char **slot = f == F_NAME ? &dst->name : f == F_TOPOLOGY ? &dst->network.topology : &dst->workload.lookups_file;
    g_free(*slot);
    *slot = val;
    return DHT_OK;
  }
  default: g_assert_not_reached();
  }
  return DHT_EINVAL;
}

/* ---- sweep ------------------------------------------------------------------ */

static uint64_t sat_add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }
static uint64_t sat_mul(uint64_t a, uint64_t b) { return b != 0 && a > UINT64_MAX / b ? UINT64_MAX : a * b; }

/* The keys a sweep may vary, in documentation order ("expected one of" lists follow it). */
static const field sweepable[] = {
  F_NODES, F_TABLES, F_MODEL, F_DELAY, F_MIN, F_MAX, F_MEDIAN, F_SIGMA, F_SLOW_FRACTION, F_SLOW_MULTIPLIER,
  F_REQUEST_DROP, F_RESPONSE_DROP, F_DEAD_FRACTION, F_STRATEGY, F_ALPHA, F_K, F_TIMEOUT, F_PLANTED_PEERS,
  F_PLANT_AT,
};

/* The field of a dotted key ("lookup.alpha"), any kind but sections and the
 * sweep itself; -1 if none. */
static int field_of_label(const char *s, size_t n) {
  char label[64];
  for (int i = 0; i < F_COUNT; i++) {
    if (keys[i].kind == KK_SECTION || keys[i].kind == KK_SWEEP)
      continue;
    key_label((field)i, label, sizeof label);
    if (strlen(label) == n && memcmp(label, s, n) == 0)
      return i;
  }
  return -1;
}

static bool is_sweepable(int f) {
  for (size_t i = 0; i < G_N_ELEMENTS(sweepable); i++)
    if ((int)sweepable[i] == f)
      return true;
  return false;
}

static void sweepable_list(char *out, size_t outlen) {
  size_t o = 0;
  char label[64];
  out[0] = '\0';
  for (size_t i = 0; i < G_N_ELEMENTS(sweepable); i++) {
    key_label(sweepable[i], label, sizeof label);
    int w = snprintf(out + o, outlen - o, "%s%s", o ? ", " : "", label);
    if (w > 0 && (size_t)w < outlen - o)
      o += (size_t)w;
  }
}

/* The canonical text of the value of sweepable key f in s: what identifies a
 * value whatever its spelling ("0.1" and "1e-1"; "1" and "1.0004" ms, both
 * 1000 us). Integers in decimal, _ms keys as integer microseconds, other
 * numbers with %.17g (-0 as 0), enums by name. */
static void canon_value(field f, const sim_scenario *s, char *out, size_t outlen) {
  double d;
  switch (f) {
  case F_NODES: snprintf(out, outlen, "%" G_GUINT64_FORMAT, s->network.nodes); return;
  case F_TABLES: snprintf(out, outlen, "%s", s->network.tables == SIM_TABLES_FULL ? "full" : "random"); return;
  case F_MODEL:
    snprintf(out, outlen, "%s", model_names[s->latency.model == SIM_LATENCY_UNIFORM     ? 1
                                            : s->latency.model == SIM_LATENCY_LOGNORMAL ? 2
                                                                                        : 0]);
    return;
  case F_DELAY: snprintf(out, outlen, "%" G_GUINT64_FORMAT, s->latency.delay_us); return;
  case F_MIN: snprintf(out, outlen, "%" G_GUINT64_FORMAT, s->latency.min_us); return;
  case F_MAX: snprintf(out, outlen, "%" G_GUINT64_FORMAT, s->latency.max_us); return;
  case F_MEDIAN: snprintf(out, outlen, "%" G_GUINT64_FORMAT, s->latency.median_us); return;
  case F_TIMEOUT: snprintf(out, outlen, "%" G_GUINT64_FORMAT, s->lookup.timeout_us); return;
  case F_SIGMA: d = s->latency.sigma; break;
  case F_SLOW_FRACTION: d = s->latency.slow_fraction; break;
  case F_SLOW_MULTIPLIER: d = s->latency.slow_multiplier; break;
  case F_REQUEST_DROP: d = s->loss.request_drop; break;
  case F_RESPONSE_DROP: d = s->loss.response_drop; break;
  case F_DEAD_FRACTION: d = s->loss.dead_fraction; break;
  case F_STRATEGY:
    snprintf(out, outlen, "%s", s->lookup.strategy == DHT_LOOKUP_PIPELINED ? "pipelined" : "rounds");
    return;
  case F_ALPHA: snprintf(out, outlen, "%u", s->lookup.alpha); return;
  case F_K: snprintf(out, outlen, "%u", s->lookup.k); return;
  case F_PLANTED_PEERS: snprintf(out, outlen, "%u", (unsigned)s->workload.planted_peers); return;
  case F_PLANT_AT: snprintf(out, outlen, "%u", (unsigned)s->workload.plant_at); return;
  default: snprintf(out, outlen, "?"); return;
  }
  if (d == 0.0)
    d = 0.0; /* -0 */
  snprintf(out, outlen, "%.17g", d);
}

/* Applies a stored sweep value (its scalar text as written) to *dst through
 * set_value, as the plain scalar it was: every stored value was accepted as
 * one (quoted numbers are refused; quoted enum words mean the same unquoted). */
static int apply_text(pctx *c, field f, const char *text, sim_scenario *dst) {
  yaml_event_t ev;
  memset(&ev, 0, sizeof ev);
  ev.type = YAML_SCALAR_EVENT;
  ev.data.scalar.value = (yaml_char_t *)(uintptr_t)text;
  ev.data.scalar.length = strlen(text);
  ev.data.scalar.plain_implicit = 1;
  ev.data.scalar.style = YAML_PLAIN_SCALAR_STYLE;
  return set_value(c, f, &ev, dst);
}

/* Parses the value of `sweep:` (the current event): a mapping of sweepable
 * dotted keys to non-empty lists of distinct valid values, into c->sc.sweep.
 * Each axis is stored as soon as it starts, so an error frees what was read. */
static int parse_sweep(pctx *c) {
  char got[SHOW_MAX * 4 + 48];
  int rc = check_node_props(c, &c->ev, "sweep");
  if (rc != DHT_OK)
    return rc;
  if (c->ev.type != YAML_MAPPING_START_EVENT) {
    describe(&c->ev, got, sizeof got);
    return fail_at(c, DHT_EINVAL, c->ev.start_mark,
                   "sweep: expected a mapping of parameters to lists of values (like lookup.alpha: [1, 2, 4]), got %s",
                   got);
  }
  uint64_t points = 1;
  GString *factors = g_string_new(NULL); /* "8 x 4", for the too-many-points message */
  for (;;) {
    rc = next_event(c);
    if (rc != DHT_OK || c->ev.type == YAML_MAPPING_END_EVENT)
      break;

    /* The parameter. */
    yaml_mark_t km = c->ev.start_mark;
    rc = check_node_props(c, &c->ev, "sweep");
    if (rc != DHT_OK)
      break;
    if (c->ev.type != YAML_SCALAR_EVENT) {
      describe(&c->ev, got, sizeof got);
      rc = fail_at(c, DHT_EINVAL, km, "sweep: expected a parameter name like lookup.alpha, got %s", got);
      break;
    }
    const char *kname = (const char *)c->ev.data.scalar.value;
    size_t klen = c->ev.data.scalar.length;
    int f = field_of_label(kname, klen);
    if (f < 0 || !is_sweepable(f)) {
      char shown[SHOW_MAX * 4 + 8], expected[512];
      show(shown, sizeof shown, kname, klen);
      sweepable_list(expected, sizeof expected);
      if (f < 0)
        rc = fail_at(c, DHT_EINVAL, km, "sweep: unknown parameter '%s' (expected one of: %s)", shown, expected);
      else
        rc = fail_at(c, DHT_EINVAL, km, "sweep: '%s' cannot be swept (expected one of: %s)", shown, expected);
      break;
    }
    char label[64], slabel[80];
    key_label((field)f, label, sizeof label);
    snprintf(slabel, sizeof slabel, "sweep: %s", label);
    if (c->swept[f]) {
      rc = fail_at(c, DHT_EINVAL, km, "%s: duplicate key (first given at line %zu, column %zu)", slabel,
                   c->sweep_mark[f].line + 1, c->sweep_mark[f].column + 1);
      break;
    }
    c->swept[f] = true;
    c->sweep_mark[f] = km;
    sim_sweep_axis *axes = g_try_renew(sim_sweep_axis, c->sc.sweep, c->sc.n_sweep + 1);
    if (axes == NULL) {
      rc = fail_nopos(c, DHT_ENOMEM, "out of memory");
      break;
    }
    c->sc.sweep = axes;
    sim_sweep_axis *axis = &axes[c->sc.n_sweep];
    memset(axis, 0, sizeof *axis);
    axis->key = try_strndup(label, strlen(label));
    if (axis->key == NULL) {
      rc = fail_nopos(c, DHT_ENOMEM, "out of memory");
      break;
    }
    c->sc.n_sweep++;

    /* Its list. */
    rc = next_event(c);
    if (rc != DHT_OK)
      break;
    rc = check_node_props(c, &c->ev, slabel);
    if (rc != DHT_OK)
      break;
    if (c->ev.type != YAML_SEQUENCE_START_EVENT) {
      describe(&c->ev, got, sizeof got);
      rc = fail_at(c, DHT_EINVAL, c->ev.start_mark, "%s: expected a list of values (like [1, 2, 4]), got %s",
                   slabel, got);
      break;
    }
    yaml_mark_t list_mark = c->ev.start_mark;
    /* Canonical value -> index of its first occurrence, and where each value was. */
    GHashTable *canon_seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    GArray *marks = g_array_new(FALSE, FALSE, sizeof(yaml_mark_t));
    size_t cap = 0;
    uint64_t count = 0; /* values in the list; only the first ones are kept once there are too many points */
    for (;;) {
      rc = next_event(c);
      if (rc != DHT_OK || c->ev.type == YAML_SEQUENCE_END_EVENT)
        break;
      rc = check_node_props(c, &c->ev, slabel);
      if (rc != DHT_OK)
        break;
      if (c->ev.type != YAML_SCALAR_EVENT) {
        describe(&c->ev, got, sizeof got);
        rc = fail_at(c, DHT_EINVAL, c->ev.start_mark, "%s: expected a single value in the list, got %s", slabel, got);
        break;
      }
      count++;
      if (sat_mul(points, count) > SIM_POINTS_MAX)
        continue; /* refused below, with the whole count */
      sim_scenario scratch; /* sweepable keys own no strings */
      sim_scenario_defaults(&scratch);
      rc = set_value(c, (field)f, &c->ev, &scratch);
      if (rc != DHT_OK)
        break;
      char canon[64];
      canon_value((field)f, &scratch, canon, sizeof canon);
      gpointer first;
      if (g_hash_table_lookup_extended(canon_seen, canon, NULL, &first)) {
        size_t i = GPOINTER_TO_SIZE(first);
        yaml_mark_t fm = g_array_index(marks, yaml_mark_t, i);
        char now[SHOW_MAX * 4 + 8], was[SHOW_MAX * 4 + 8];
        show(now, sizeof now, (const char *)c->ev.data.scalar.value, c->ev.data.scalar.length);
        show(was, sizeof was, axis->values[i], strlen(axis->values[i]));
        rc = fail_at(c, DHT_EINVAL, c->ev.start_mark,
                     "%s: duplicate value '%s' (the same value as '%s' at line %zu, column %zu)", slabel, now, was,
                     fm.line + 1, fm.column + 1);
        break;
      }
      if (axis->n == cap) {
        size_t ncap = cap ? cap * 2 : 8;
        char **nv = g_try_renew(char *, axis->values, ncap);
        if (nv == NULL) {
          rc = fail_nopos(c, DHT_ENOMEM, "out of memory");
          break;
        }
        axis->values = nv;
        cap = ncap;
      }
      char *text = try_strndup((const char *)c->ev.data.scalar.value, c->ev.data.scalar.length);
      if (text == NULL) {
        rc = fail_nopos(c, DHT_ENOMEM, "out of memory");
        break;
      }
      axis->values[axis->n] = text;
      g_hash_table_insert(canon_seen, g_strdup(canon), GSIZE_TO_POINTER(axis->n));
      g_array_append_val(marks, c->ev.start_mark);
      axis->n++;
    }
    g_hash_table_destroy(canon_seen);
    g_array_free(marks, TRUE);
    if (rc != DHT_OK)
      break;
    if (count == 0) {
      rc = fail_at(c, DHT_EINVAL, list_mark, "%s: expected a non-empty list of values, got an empty list", slabel);
      break;
    }
    g_string_append_printf(factors, "%s%" G_GUINT64_FORMAT, factors->len ? " x " : "", count);
    uint64_t total = sat_mul(points, count);
    if (total > SIM_POINTS_MAX) {
      if (c->sc.n_sweep > 1)
        rc = fail_at(c, DHT_EINVAL, km,
                     "sweep: too many points: %s = %" G_GUINT64_FORMAT ", more than the maximum of %u", factors->str,
                     total, SIM_POINTS_MAX);
      else
        rc = fail_at(c, DHT_EINVAL, km, "sweep: too many points: %" G_GUINT64_FORMAT ", more than the maximum of %u",
                     total, SIM_POINTS_MAX);
      break;
    }
    points = total;
  }
  g_string_free(factors, TRUE);
  return rc;
}

/* "strategy, alpha, k, timeout_ms": the keys of a section, reserved ones left out. */
static void keys_of(section s, char *out, size_t outlen) {
  size_t o = 0;
  out[0] = '\0';
  for (int i = 0; i < F_COUNT; i++) {
    if (keys[i].in != s)
      continue;
    int w = snprintf(out + o, outlen - o, "%s%s", o ? ", " : "", keys[i].name);
    if (w > 0 && (size_t)w < outlen - o)
      o += (size_t)w;
  }
}

/* Parses the mapping whose MAPPING_START is the current event. */
static int parse_mapping(pctx *c, section s) {
  char label[64], got[SHOW_MAX * 4 + 48], expected[256];
  for (;;) {
    int rc = next_event(c);
    if (rc != DHT_OK)
      return rc;
    if (c->ev.type == YAML_MAPPING_END_EVENT)
      return DHT_OK;

    /* The key. */
    yaml_mark_t km = c->ev.start_mark;
    rc = check_node_props(c, &c->ev, NULL);
    if (rc != DHT_OK)
      return rc;
    if (c->ev.type != YAML_SCALAR_EVENT) {
      describe(&c->ev, got, sizeof got);
      return fail_at(c, DHT_EINVAL, km, "expected a key %s%s, got %s", s == S_TOP ? "at the top level" : "in section ",
                     s == S_TOP ? "" : section_names[s], got);
    }
    const char *kname = (const char *)c->ev.data.scalar.value;
    size_t klen = c->ev.data.scalar.length;
    int f = -1;
    for (int i = 0; i < F_COUNT; i++)
      if (keys[i].in == s && strlen(keys[i].name) == klen && memcmp(keys[i].name, kname, klen) == 0)
        f = i;
    if (f < 0) {
      char shown[SHOW_MAX * 4 + 8];
      keys_of(s, expected, sizeof expected);
      show(shown, sizeof shown, kname, klen);
      if (s == S_TOP)
        return fail_at(c, DHT_EINVAL, km, "unknown key '%s' at the top level (expected one of: %s)", shown, expected);
      return fail_at(c, DHT_EINVAL, km, "unknown key '%s' in section '%s' (expected one of: %s)", shown,
                     section_names[s], expected);
    }
    key_label((field)f, label, sizeof label);
    if (c->seen[f])
      return fail_at(c, DHT_EINVAL, km, "%s: duplicate key (first given at line %zu, column %zu)", label,
                     c->key_mark[f].line + 1, c->key_mark[f].column + 1);
    c->seen[f] = true;
    c->key_mark[f] = km;

    /* The value. */
    rc = next_event(c);
    if (rc != DHT_OK)
      return rc;
    c->val_mark[f] = c->ev.start_mark;
    if (keys[f].kind == KK_SECTION) {
      rc = check_node_props(c, &c->ev, label);
      if (rc != DHT_OK)
        return rc;
      if (c->ev.type != YAML_MAPPING_START_EVENT) {
        describe(&c->ev, got, sizeof got);
        keys_of(keys[f].opens, expected, sizeof expected);
        return fail_at(c, DHT_EINVAL, c->ev.start_mark, "%s: expected a mapping with keys %s, got %s", label,
                       expected, got);
      }
      rc = parse_mapping(c, keys[f].opens);
    } else if (keys[f].kind == KK_SWEEP) {
      rc = parse_sweep(c);
    } else {
      rc = set_value(c, (field)f, &c->ev, &c->sc);
    }
    if (rc != DHT_OK)
      return rc;
  }
}

/* ---- memory estimate -------------------------------------------------------- */

/* The two parts of the estimate: the network and the per-lookup results. With
 * a topology file the node count is unknown here (the loader checks); with a
 * lookups file, so is the lookup count. */
static void estimate_parts(const sim_scenario *sc, uint64_t lookups, uint64_t *net, uint64_t *work) {
  bool topo = sc->network.topology != NULL, file = sc->workload.lookups_file != NULL;
  *net = topo ? 0 : sim_network_estimate_bytes(sc->network.nodes, sc->lookup.k, sc->network.tables);
  *work = file ? 0 : sat_mul(lookups ? lookups : sc->workload.lookups, SCENARIO_BYTES_PER_LOOKUP);
}

uint64_t sim_scenario_estimate_bytes(const sim_scenario *sc, uint64_t lookups) {
  uint64_t net, work;
  estimate_parts(sc, lookups, &net, &work);
  return sat_add(net, work);
}

static int check_memory(pctx *c) {
  uint64_t limit;
  bool from_env;
  const char *bad;
  char bshow[SHOW_MAX * 4 + 8];
  if (sim_memory_budget(&limit, &from_env, &bad) != DHT_OK) {
    show(bshow, sizeof bshow, bad, strlen(bad));
    return fail_nopos(c, DHT_EINVAL, "DHTSIM_MEMORY_LIMIT: expected a positive integer number of bytes, got '%s'",
                      bshow);
  }
  /* With a sweep, check the largest point: the most nodes, the largest K, full
   * tables if any point has them (no other sweepable key changes the estimate).
   * Every combination is a point, so these maxima are one. */
  sim_scenario largest = c->sc;
  for (size_t i = 0; i < c->sc.n_sweep; i++) {
    const sim_sweep_axis *a = &c->sc.sweep[i];
    int f = field_of_label(a->key, strlen(a->key));
    if (f != F_NODES && f != F_K && f != F_TABLES)
      continue;
    for (size_t j = 0; j < a->n; j++) {
      sim_scenario v;
      sim_scenario_defaults(&v);
      if (apply_text(c, (field)f, a->values[j], &v) != DHT_OK)
        return DHT_EINVAL; /* cannot happen: every value was validated */
      if (f == F_NODES && (j == 0 || v.network.nodes > largest.network.nodes))
        largest.network.nodes = v.network.nodes;
      if (f == F_K && (j == 0 || v.lookup.k > largest.lookup.k))
        largest.lookup.k = v.lookup.k;
      if (f == F_TABLES && (j == 0 || v.network.tables == SIM_TABLES_FULL))
        largest.network.tables = v.network.tables;
    }
  }
  const sim_scenario *sc = &largest;
  bool topo = sc->network.topology != NULL, file = sc->workload.lookups_file != NULL;
  uint64_t net, work;
  estimate_parts(sc, 0, &net, &work);
  uint64_t total = sat_add(net, work);
  if (total <= limit)
    return DHT_OK;

  char need[32], have[64], lim[32];
  sim_format_bytes(need, sizeof need, total);
  sim_format_bytes(lim, sizeof lim, limit);
  if (from_env)
    snprintf(have, sizeof have, "the DHTSIM_MEMORY_LIMIT of %s", lim);
  else
    snprintf(have, sizeof have, "this machine's %s", lim);
  const char *tables = sc->network.tables == SIM_TABLES_FULL ? "full" : "random";
  char what[200];
  if (topo)
    snprintf(what, sizeof what, "%" G_GUINT64_FORMAT " lookups", sc->workload.lookups);
  else if (file)
    snprintf(what, sizeof what, "%" G_GUINT64_FORMAT " nodes with %s tables (K %u)", sc->network.nodes, tables,
             sc->lookup.k);
  else
    snprintf(what, sizeof what, "%" G_GUINT64_FORMAT " nodes with %s tables (K %u) and %" G_GUINT64_FORMAT " lookups",
             sc->network.nodes, tables, sc->lookup.k, sc->workload.lookups);

  /* Blame the bigger part, at its value if it was given; a swept network part
   * at the sweep's key (nodes first, then k, then tables). */
  field f = net >= work ? F_NODES : F_LOOKUPS;
  char label[64];
  if (f == F_NODES && c->point == NULL) {
    static const field net_keys[] = {F_NODES, F_K, F_TABLES};
    for (size_t i = 0; i < G_N_ELEMENTS(net_keys); i++) {
      if (!c->swept[net_keys[i]])
        continue;
      key_label(net_keys[i], label, sizeof label);
      return fail_at(c, DHT_ETOOBIG, c->sweep_mark[net_keys[i]],
                     "sweep: %s: %s (the sweep's largest point) need an estimated %s, more than %s", label, what, need,
                     have);
    }
  }
  key_label(f, label, sizeof label);
  if (c->seen[f])
    return fail_at(c, DHT_ETOOBIG, c->val_mark[f], "%s: %s need an estimated %s, more than %s", label, what, need,
                   have);
  return fail_nopos(c, DHT_ETOOBIG, "%s: %s need an estimated %s, more than %s", label, what, need, have);
}

/* ---- whole document ----------------------------------------------------------- */

/* The checks between keys. At parse time (c->point NULL) c->seen / c->swept
 * tell what the file gave; checks involving a swept key are left to each point.
 * For a point, c->swept marks the keys the sweep set. */
static int cross_checks(pctx *c) {
  sim_scenario *sc = &c->sc;
  if (c->point == NULL) {
    if (c->seen[F_TOPOLOGY] && c->seen[F_NODES]) {
      if (c->key_mark[F_TOPOLOGY].index > c->key_mark[F_NODES].index)
        return fail_at(c, DHT_EINVAL, c->key_mark[F_TOPOLOGY],
                       "network.topology: cannot be combined with network.nodes (the topology file gives the nodes)");
      return fail_at(c, DHT_EINVAL, c->key_mark[F_NODES],
                     "network.nodes: cannot be combined with network.topology (the topology file gives the nodes)");
    }
    if (c->seen[F_LOOKUPS_FILE] && c->seen[F_LOOKUPS]) {
      if (c->key_mark[F_LOOKUPS_FILE].index > c->key_mark[F_LOOKUPS].index)
        return fail_at(c, DHT_EINVAL, c->key_mark[F_LOOKUPS_FILE],
                       "workload.lookups_file: cannot be combined with workload.lookups (the file gives the lookups)");
      return fail_at(c, DHT_EINVAL, c->key_mark[F_LOOKUPS],
                     "workload.lookups: cannot be combined with workload.lookups_file (the file gives the lookups)");
    }
    if (c->seen[F_TOPOLOGY] && c->swept[F_NODES])
      return fail_at(c, DHT_EINVAL, c->sweep_mark[F_NODES],
                     "sweep: network.nodes: cannot be swept with network.topology (the topology file gives the nodes)");
    for (int f = 0; f < F_COUNT; f++) {
      if (!c->swept[f] || !c->seen[f])
        continue;
      char label[64];
      key_label((field)f, label, sizeof label);
      return fail_at(c, DHT_EINVAL, c->sweep_mark[f],
                     "sweep: %s: also given in section '%s' at line %zu, column %zu (a swept parameter takes its "
                     "values from the sweep only)",
                     label, section_names[keys[f].in], c->key_mark[f].line + 1, c->key_mark[f].column + 1);
    }
  }
  bool point_level = c->swept[F_MIN] || c->swept[F_MAX];
  if ((c->point != NULL || !point_level) && sc->latency.min_us > sc->latency.max_us) {
    char mn[32], mx[32];
    fmt_num(mn, sizeof mn, (double)sc->latency.min_us / 1000.0);
    fmt_num(mx, sizeof mx, (double)sc->latency.max_us / 1000.0);
    if (c->point != NULL && !c->swept[F_MAX])
      return fail_nopos(c, DHT_EINVAL,
                        "latency.min_ms: expected a number of milliseconds at most latency.max_ms (%s), got '%s'", mx,
                        mn);
    if (c->point != NULL || c->seen[F_MAX])
      return fail_at(c, DHT_EINVAL, c->val_mark[F_MAX],
                     "latency.max_ms: expected a number of milliseconds at least latency.min_ms (%s), got '%s'", mn,
                     mx);
    return fail_at(c, DHT_EINVAL, c->val_mark[F_MIN],
                   "latency.min_ms: expected a number of milliseconds at most latency.max_ms (default %s), got '%s'",
                   mx, mn);
  }
  /* plant_at defaults to K. When K is swept, 0 in the base stands for "each
   * point's K" (sim_scenario_point resolves it). */
  if (c->point == NULL && !c->seen[F_PLANT_AT] && !c->swept[F_PLANT_AT])
    sc->workload.plant_at = c->swept[F_K] ? 0 : sc->lookup.k;
  if (c->point != NULL && sc->workload.plant_at == 0)
    sc->workload.plant_at = sc->lookup.k;
  return DHT_OK;
}

static int parse_document(pctx *c) {
  int rc = next_event(c);
  if (rc != DHT_OK)
    return rc;
  if (c->ev.type != YAML_STREAM_START_EVENT)
    return fail_at(c, DHT_EINVAL, c->ev.start_mark, "expected the start of a YAML stream");
  rc = next_event(c);
  if (rc != DHT_OK)
    return rc;
  if (c->ev.type == YAML_STREAM_END_EVENT) {
    sim_fail(c->err, c->errlen, 0, "%s: empty scenario, expected a mapping", c->path);
    return DHT_EINVAL;
  }
  /* DOCUMENT_START, then the root node. */
  rc = next_event(c);
  if (rc != DHT_OK)
    return rc;
  rc = check_node_props(c, &c->ev, NULL);
  if (rc != DHT_OK)
    return rc;
  if (c->ev.type == YAML_SCALAR_EVENT && c->ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
      c->ev.data.scalar.length == 0) {
    sim_fail(c->err, c->errlen, 0, "%s: empty scenario, expected a mapping", c->path);
    return DHT_EINVAL;
  }
  if (c->ev.type != YAML_MAPPING_START_EVENT) {
    char got[SHOW_MAX * 4 + 48];
    describe(&c->ev, got, sizeof got);
    return fail_at(c, DHT_EINVAL, c->ev.start_mark, "expected a mapping of scenario keys at the top level, got %s",
                   got);
  }
  rc = parse_mapping(c, S_TOP);
  if (rc != DHT_OK)
    return rc;
  rc = next_event(c); /* DOCUMENT_END */
  if (rc != DHT_OK)
    return rc;
  rc = next_event(c);
  if (rc != DHT_OK)
    return rc;
  if (c->ev.type != YAML_STREAM_END_EVENT)
    return fail_at(c, DHT_EINVAL, c->ev.start_mark,
                   "expected a single YAML document, found another one (a second '---'?)");
  rc = cross_checks(c);
  if (rc != DHT_OK)
    return rc;
  return check_memory(c);
}

/* Base name without .yaml / .yml. */
static char *default_name(const char *path) {
  char *base = g_path_get_basename(path);
  size_t n = strlen(base);
  if (n > 5 && strcmp(base + n - 5, ".yaml") == 0)
    base[n - 5] = '\0';
  else if (n > 4 && strcmp(base + n - 4, ".yml") == 0)
    base[n - 4] = '\0';
  return base;
}

int sim_scenario_parse(sim_scenario *sc, const char *path, const char *data, size_t len, char *err, size_t errlen) {
  if (err != NULL && errlen > 0)
    err[0] = '\0';
  if (sc == NULL || (data == NULL && len > 0)) {
    sim_fail(err, errlen, 0, "%s: invalid arguments", path ? path : "<scenario>");
    if (sc != NULL)
      sim_scenario_defaults(sc);
    return DHT_EINVAL;
  }
  if (path == NULL)
    path = "<scenario>";
  pctx *c = g_try_new0(pctx, 1);
  if (c == NULL) {
    sim_fail(err, errlen, 0, "%s: out of memory", path);
    sim_scenario_defaults(sc);
    return DHT_ENOMEM;
  }
  c->path = path;
  c->data = data ? data : "";
  c->len = len;
  c->err = err;
  c->errlen = errlen;
  c->dir = g_path_get_dirname(path);
  sim_scenario_defaults(&c->sc);

  int rc;
  if (!yaml_parser_initialize(&c->parser)) {
    sim_fail(err, errlen, 0, "%s: out of memory", path);
    rc = DHT_ENOMEM;
  } else {
    yaml_parser_set_input_string(&c->parser, (const unsigned char *)c->data, len);
    rc = parse_document(c);
    if (c->have_ev)
      yaml_event_delete(&c->ev);
    yaml_parser_delete(&c->parser);
  }
  if (rc == DHT_OK) {
    c->sc.path = g_strdup(path);
    if (c->sc.name == NULL)
      c->sc.name = default_name(path);
    *sc = c->sc;
  } else {
    sim_scenario_clear(&c->sc);
    sim_scenario_defaults(sc);
  }
  g_free(c->dir);
  g_free(c);
  return rc;
}

int sim_scenario_load(sim_scenario *sc, const char *path, char *err, size_t errlen) {
  if (err != NULL && errlen > 0)
    err[0] = '\0';
  if (sc == NULL || path == NULL) {
    sim_fail(err, errlen, 0, "%s: invalid arguments", path ? path : "<scenario>");
    if (sc != NULL)
      sim_scenario_defaults(sc);
    return DHT_EINVAL;
  }
  sim_scenario_defaults(sc);
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    int e = errno;
    sim_fail(err, errlen, 0, "%s: cannot open: %s", path, g_strerror(e));
    return e == ENOENT || e == ENOTDIR ? DHT_ENOENT : DHT_EIO;
  }
  size_t cap = 4096, len = 0;
  char *buf = g_try_malloc(cap);
  int rc = DHT_OK;
  if (buf == NULL) {
    sim_fail(err, errlen, 0, "%s: out of memory", path);
    rc = DHT_ENOMEM;
  }
  while (rc == DHT_OK) {
    if (len > SCENARIO_FILE_MAX) {
      sim_fail(err, errlen, 0, "%s: too large for a scenario file (more than %u MiB)", path,
              SCENARIO_FILE_MAX / (1024u * 1024u));
      rc = DHT_EINVAL;
      break;
    }
    if (len == cap) {
      char *nb = g_try_realloc(buf, cap * 2);
      if (nb == NULL) {
        sim_fail(err, errlen, 0, "%s: out of memory", path);
        rc = DHT_ENOMEM;
        break;
      }
      buf = nb;
      cap *= 2;
    }
    size_t got = fread(buf + len, 1, cap - len, f);
    len += got;
    if (got == 0) {
      if (ferror(f)) {
        sim_fail(err, errlen, 0, "%s: cannot read: %s", path, g_strerror(errno));
        rc = DHT_EIO;
      }
      break;
    }
  }
  fclose(f);
  if (rc == DHT_OK)
    rc = sim_scenario_parse(sc, path, buf, len, err, errlen);
  g_free(buf);
  return rc;
}

/* ---- sweep points ---------------------------------------------------------------- */

uint64_t sim_scenario_point_count(const sim_scenario *sc) {
  if (sc == NULL)
    return 1;
  uint64_t n = 1;
  for (size_t i = 0; sc->sweep != NULL && i < sc->n_sweep; i++)
    n = sat_mul(n, sc->sweep[i].n);
  return n == 0 ? 1 : n;
}

/* The value index of every axis for point `index`: mixed radix, the first axis
 * the most significant digit (varies slowest). */
static void point_digits(const sim_scenario *sc, uint64_t index, size_t *digit) {
  for (size_t i = sc->n_sweep; i-- > 0;) {
    uint64_t n = sc->sweep[i].n ? sc->sweep[i].n : 1;
    digit[i] = (size_t)(index % n);
    index /= n;
  }
}

/* "lookup.alpha=3 lookup.k=8" (values as written), newly allocated; NULL when out of memory. */
static char *point_label_dup(const sim_scenario *sc, uint64_t index) {
  size_t *digit = g_try_new0(size_t, sc->n_sweep ? sc->n_sweep : 1);
  if (digit == NULL)
    return NULL;
  point_digits(sc, index, digit);
  size_t len = 1;
  for (size_t i = 0; i < sc->n_sweep; i++)
    len += strlen(sc->sweep[i].key) + 2 + strlen(sc->sweep[i].values[digit[i]]);
  char *out = g_try_malloc(len);
  if (out != NULL) {
    size_t o = 0;
    for (size_t i = 0; i < sc->n_sweep; i++) {
      const char *k = sc->sweep[i].key, *v = sc->sweep[i].values[digit[i]];
      size_t kl = strlen(k), vl = strlen(v);
      if (i > 0)
        out[o++] = ' ';
      memcpy(out + o, k, kl);
      o += kl;
      out[o++] = '=';
      memcpy(out + o, v, vl);
      o += vl;
    }
    out[o] = '\0';
  }
  g_free(digit);
  return out;
}

int sim_scenario_point_label(const sim_scenario *sc, uint64_t index, char *buf, size_t n) {
  if (buf != NULL && n > 0)
    buf[0] = '\0';
  if (sc == NULL || index >= sim_scenario_point_count(sc))
    return DHT_ERANGE;
  char *label = point_label_dup(sc, index);
  if (label == NULL)
    return DHT_ENOMEM;
  size_t len = strlen(label);
  int rc;
  if (buf == NULL || len + 1 > n || len > INT_MAX) {
    rc = DHT_ERANGE;
  } else {
    memcpy(buf, label, len + 1);
    rc = (int)len;
  }
  g_free(label);
  return rc;
}

int sim_scenario_point(const sim_scenario *base, uint64_t index, sim_scenario *out, char *err, size_t errlen) {
  if (err != NULL && errlen > 0)
    err[0] = '\0';
  if (base == NULL || out == NULL) {
    sim_fail(err, errlen, 0, "%s: invalid arguments", base && base->path ? base->path : "<scenario>");
    return DHT_EINVAL;
  }
  const char *path = base->path ? base->path : "<scenario>";
  uint64_t count = sim_scenario_point_count(base);
  if (index >= count) {
    sim_fail(err, errlen, 0, "%s: point %" G_GUINT64_FORMAT ": out of range (the scenario has %" G_GUINT64_FORMAT
            " point%s)", path, index, count, count == 1 ? "" : "s");
    return DHT_ERANGE;
  }
  char *label = point_label_dup(base, index);
  size_t *digit = g_try_new0(size_t, base->n_sweep ? base->n_sweep : 1);
  pctx *c = g_try_new0(pctx, 1);
  char *prefix = label ? g_strdup_printf("point %" G_GUINT64_FORMAT "%s%s%s", index, label[0] ? " (" : "", label,
                                         label[0] ? ")" : "")
                       : NULL;
  int rc = DHT_OK;
  if (label == NULL || digit == NULL || c == NULL || prefix == NULL) {
    sim_fail(err, errlen, 0, "%s: out of memory", path);
    rc = DHT_ENOMEM;
    goto done;
  }
  c->path = path;
  c->err = err;
  c->errlen = errlen;
  c->point = prefix;
  c->sc = *base;
  c->sc.sweep = NULL;
  c->sc.n_sweep = 0;
  point_digits(base, index, digit);
  for (size_t i = 0; i < base->n_sweep && rc == DHT_OK; i++) {
    const sim_sweep_axis *a = &base->sweep[i];
    int f = field_of_label(a->key, strlen(a->key));
    if (f < 0 || !is_sweepable(f)) {
      rc = fail_nopos(c, DHT_EINVAL, "sweep: unknown parameter '%s'", a->key);
      break;
    }
    c->swept[f] = true;
    rc = apply_text(c, (field)f, a->values[digit[i]], &c->sc);
  }
  if (rc == DHT_OK)
    rc = cross_checks(c);
  if (rc == DHT_OK)
    rc = check_memory(c);
  if (rc == DHT_OK)
    *out = c->sc;

done:
  g_free(c);
  g_free(prefix);
  g_free(digit);
  g_free(label);
  return rc;
}

/* FNV-1a, 64 bits. */
static uint64_t fnv1a64(const char *s, size_t n, uint64_t h) {
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)s[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

static int axis_cmp(const void *a, const void *b) {
  const sim_sweep_axis *x = *(const sim_sweep_axis *const *)a, *y = *(const sim_sweep_axis *const *)b;
  return strcmp(x->key, y->key);
}

/* The seed of run (point, replica): sc->seed itself for the only point of a
 * scenario without sweep, replica 0. Otherwise
 *   dht_seed_derive(dht_seed_derive(sc->seed, FNV-1a-64(assignments)), replica)
 * where assignments is "key=value" per axis sorted by key, joined by "\n", each
 * value in canonical form (canon_value). Nothing depends on the point's index,
 * the axes' order or the other points and replicas. */
uint64_t sim_scenario_run_seed(const sim_scenario *sc, uint64_t index, uint32_t replica) {
  if (sc == NULL)
    return 0;
  if (sc->n_sweep == 0 || sc->sweep == NULL) {
    if (replica == 0)
      return sc->seed;
    return dht_seed_derive(dht_seed_derive(sc->seed, fnv1a64("", 0, 0xcbf29ce484222325ULL)), replica);
  }
  const sim_sweep_axis **sorted = g_new(const sim_sweep_axis *, sc->n_sweep);
  size_t *digit = g_new0(size_t, sc->n_sweep);
  for (size_t i = 0; i < sc->n_sweep; i++)
    sorted[i] = &sc->sweep[i];
  qsort(sorted, sc->n_sweep, sizeof *sorted, axis_cmp);
  point_digits(sc, index % sim_scenario_point_count(sc), digit);

  pctx c; /* no err buffer: set_value reports nothing */
  memset(&c, 0, sizeof c);
  c.path = sc->path ? sc->path : "<scenario>";
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < sc->n_sweep; i++) {
    const sim_sweep_axis *a = sorted[i];
    size_t ai = (size_t)(a - sc->sweep);
    const char *text = a->values[digit[ai]];
    char canon[64];
    int f = field_of_label(a->key, strlen(a->key));
    sim_scenario v;
    sim_scenario_defaults(&v);
    if (f >= 0 && is_sweepable(f) && apply_text(&c, (field)f, text, &v) == DHT_OK)
      canon_value((field)f, &v, canon, sizeof canon);
    else
      snprintf(canon, sizeof canon, "?"); /* not a parsed sweep: hash the text below */
    if (i > 0)
      h = fnv1a64("\n", 1, h);
    h = fnv1a64(a->key, strlen(a->key), h);
    h = fnv1a64("=", 1, h);
    if (strcmp(canon, "?") == 0)
      h = fnv1a64(text, strlen(text), h);
    else
      h = fnv1a64(canon, strlen(canon), h);
  }
  g_free(digit);
  g_free(sorted);
  return dht_seed_derive(dht_seed_derive(sc->seed, h), replica);
}
