/* scenario.c: reads a scenario YAML file with libyaml's event API into a
 * validated sim_scenario. The keys, their types, defaults and ranges come from
 * the parameter table (param.def); this file only walks the document, reports
 * positions and runs the checks between keys.
 *
 * Parsing is single-pass and stops at the first problem: the message names the
 * file, the 1-based line and column of the offending key (key errors) or value
 * (value errors), and what was expected. Nothing deeper than a section (or the
 * sweep's lists) is ever descended into, anchors are ignored, aliases and tags
 * are refused, so no input can make the parser recurse, expand or allocate more
 * than libyaml itself.
 *
 * Sweeps: `sweep:` values are validated with the same setter as section values
 * (sim_param_set) on a scratch scenario and stored as written; points.c
 * applies them through it again, then runs sim__scenario_check for that point.
 * In the base scenario a swept key keeps its default, and workload.plant_at is
 * 0 when it follows a swept lookup.k (resolved per point). */
#include "scenario.h"

#include <errno.h>
#include <glib.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "budget.h"
#include "error.h"
#include "message.h"
#include "rejoin.h"
#include "result.h"
#include "text.h"
#include "workload.h"

/* Scenario files are small; anything bigger is not one (and would otherwise be
 * read into memory whole). */
#define SCENARIO_FILE_MAX (16u * 1024u * 1024u)
/* Bytes kept per lookup of the workload: its result record and one slot of the statistics scratch. */
#define SCENARIO_BYTES_PER_LOOKUP ((uint64_t)sizeof(sim_lookup_result) + sizeof(uint64_t))
/* A "got ..." description: a shown value and its wording. */
#define GOT_SIZE (SIM_SHOW_SIZE + 48)

/* ---- defaults ------------------------------------------------------------ */

/* lookup.alpha, timeout_ms and candidate_cap: 0 stands for "the strategy's
 * default" (core's dht_lookup_config_defaults, the one table of them). */
static void resolve_strategy_defaults(sim_scenario *sc) {
  dht_lookup_config d;
  if (dht_lookup_config_defaults(&d, sc->lookup.strategy) != DHT_OK)
    return;
  if (sc->lookup.alpha == 0)
    sc->lookup.alpha = d.alpha;
  if (sc->lookup.timeout_us == 0)
    sc->lookup.timeout_us = d.timeout_us;
  if (sc->lookup.candidate_cap == 0)
    sc->lookup.candidate_cap = d.candidate_cap;
  if (sc->lookup.retries == 0)
    sc->lookup.retries = d.retries;
  if (sc->lookup.beta == 0)
    sc->lookup.beta = d.beta;
}

void sim_scenario_defaults(sim_scenario *sc) {
  if (sc == NULL)
    return;
  sim_param_defaults(sc); /* also path NULL, no sweep */
  resolve_strategy_defaults(sc);
}

void sim_scenario_clear(sim_scenario *sc) {
  if (sc == NULL)
    return;
  g_free(sc->path);
  for (int i = 0; i < SIM_PARAM_COUNT; i++)
    if (sim_params[i].type == SIM_PT_NAME || sim_params[i].type == SIM_PT_PATH)
      g_free(*(char **)((char *)sc + sim_params[i].offset));
  for (size_t i = 0; sc->sweep != NULL && i < sc->n_sweep; i++) {
    for (size_t j = 0; j < sc->sweep[i].n; j++)
      g_free(sc->sweep[i].values[j]);
    g_free(sc->sweep[i].values);
    g_free(sc->sweep[i].key);
  }
  g_free(sc->sweep);
  for (size_t i = 0; sc->events != NULL && i < sc->n_events; i++)
    g_free(sc->events[i].value);
  g_free(sc->events);
  sim_scenario_defaults(sc);
}

bool sim_event_settable(int id) {
  switch (id) {
  case SIM_P_LOSS_REQUEST_DROP:
  case SIM_P_LOSS_RESPONSE_DROP:
  case SIM_P_LATENCY_MODEL:
  case SIM_P_LATENCY_DELAY_MS:
  case SIM_P_LATENCY_MEDIAN_MS:
  case SIM_P_LATENCY_SIGMA:
  case SIM_P_WORKLOAD_RATE_PER_S: return true;
  default: return false;
  }
}

/* ---- messages ---------------------------------------------------------------- */

/* "path:line:col: " + message, or "path: point N (...): " + message for a point. Returns rc. */
static int fail_at(sim__check *ck, int rc, sim__mark m, const char *fmt, ...) G_GNUC_PRINTF(4, 5);
static int fail_at(sim__check *ck, int rc, sim__mark m, const char *fmt, ...) {
  if (ck->err == NULL || ck->errlen == 0)
    return rc;
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (ck->point != NULL)
    sim_fail(ck->err, ck->errlen, 0, "%s: %s: %s", ck->path, ck->point, msg);
  else
    sim_fail(ck->err, ck->errlen, 0, "%s:%zu:%zu: %s", ck->path, m.line + 1, m.column + 1, msg);
  return rc;
}

/* "path: " + message (no position applies); "path: point N (...): " when checking a point. */
static int fail_nopos(sim__check *ck, int rc, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static int fail_nopos(sim__check *ck, int rc, const char *fmt, ...) {
  if (ck->err == NULL || ck->errlen == 0)
    return rc;
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (ck->point != NULL)
    sim_fail(ck->err, ck->errlen, 0, "%s: %s: %s", ck->path, ck->point, msg);
  else
    sim_fail(ck->err, ck->errlen, 0, "%s: %s", ck->path, msg);
  return rc;
}

/* ---- parser state ---------------------------------------------------------- */

typedef struct pctx {
  yaml_parser_t parser;
  yaml_event_t ev;
  bool have_ev;
  const char *data;
  size_t len;
  char *dir;        /* the scenario's folder, for relative paths */
  sim_scenario sc;  /* being filled */
  sim__check ck;    /* what the file gave, and where */
  /* Sections and the sweep, by the id of the section's first parameter
   * (SIM_PARAM_COUNT for the sweep): given already, and where. */
  /* [0]: the sections of the top level; [1]: the sub-sections of a section
   * (churn.session), whose first parameter may also be its section's. Keys
   * have at most three parts (test_param checks). */
  bool seen_group[2][SIM_PARAM_COUNT + 2]; /* + 1: the sweep; + 2: events */
  sim__mark group_mark[2][SIM_PARAM_COUNT + 2];
  /* The open collections, innermost last (the walker never goes deeper than
   * a section's value or a sweep list; deeper ones are counted in depth
   * only): whether each is a flow
   * ('{' or '['), and where it opened, for naming an unclosed one. */
  size_t depth;
  bool open_flow[8];
  bool open_mapping[8];
  yaml_mark_t open_mark[8];
} pctx;

static sim__mark mark_of(yaml_mark_t m) { return (sim__mark){m.index, m.line, m.column}; }

static int fail_ev(pctx *c, int rc, yaml_mark_t m, const char *fmt, ...) G_GNUC_PRINTF(4, 5);
static int fail_ev(pctx *c, int rc, yaml_mark_t m, const char *fmt, ...) {
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return fail_at(&c->ck, rc, mark_of(m), "%s", msg);
}

/* What a value event is, for "got ..." in messages. */
static void describe(const yaml_event_t *ev, char *out, size_t outlen) {
  char v[SIM_SHOW_SIZE];
  switch (ev->type) {
  case YAML_MAPPING_START_EVENT: snprintf(out, outlen, "a mapping"); return;
  case YAML_SEQUENCE_START_EVENT: snprintf(out, outlen, "a sequence"); return;
  case YAML_ALIAS_EVENT: snprintf(out, outlen, "an alias"); return;
  case YAML_SCALAR_EVENT:
    sim_show(v, sizeof v, (const char *)ev->data.scalar.value, ev->data.scalar.length);
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
  const char *path = c->ck.path;
  if (p->error == YAML_MEMORY_ERROR) {
    sim_fail(c->ck.err, c->ck.errlen, 0, "%s: out of memory while reading YAML", path);
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
      sim_fail(c->ck.err, c->ck.errlen, 0, "%s:%zu:%zu: YAML syntax error: %s (byte 0x%02x)", path, line, col,
               problem, (unsigned)p->problem_value & 0xffu);
    else
      sim_fail(c->ck.err, c->ck.errlen, 0, "%s:%zu:%zu: YAML syntax error: %s", path, line, col, problem);
    return DHT_EINVAL;
  }
  if (p->context != NULL)
    return fail_ev(c, DHT_EINVAL, p->problem_mark, "YAML syntax error: %s (%s at line %zu, column %zu)", problem,
                   p->context, p->context_mark.line + 1, p->context_mark.column + 1);
  return fail_ev(c, DHT_EINVAL, p->problem_mark, "YAML syntax error: %s", problem);
}

/* Tracks the open collections through ev; refuses a plain scalar that runs
 * over lines inside a flow collection. In a flow, libyaml folds the lines of
 * a plain scalar into one: `{nodes: 100` followed by `lookup:` on the next
 * line reads as the value "100 lookup", and the missing '}' would surface as
 * a baffling "got '100 lookup'". No value of any key spans lines, so such a
 * scalar always means an unclosed flow: say so, naming where it opened. */
static int track_collections(pctx *c, const yaml_event_t *ev) {
  size_t top = c->depth < G_N_ELEMENTS(c->open_flow) ? c->depth : G_N_ELEMENTS(c->open_flow);
  switch (ev->type) {
  case YAML_MAPPING_START_EVENT:
  case YAML_SEQUENCE_START_EVENT:
    if (top < G_N_ELEMENTS(c->open_flow)) {
      bool map = ev->type == YAML_MAPPING_START_EVENT;
      c->open_mapping[top] = map;
      c->open_flow[top] = map ? ev->data.mapping_start.style == YAML_FLOW_MAPPING_STYLE
                              : ev->data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE;
      c->open_mark[top] = ev->start_mark;
    }
    c->depth++;
    return DHT_OK;
  case YAML_MAPPING_END_EVENT:
  case YAML_SEQUENCE_END_EVENT:
    if (c->depth > 0)
      c->depth--;
    return DHT_OK;
  case YAML_SCALAR_EVENT:
    if (top > 0 && top == c->depth && c->open_flow[top - 1] && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
        ev->end_mark.line > ev->start_mark.line) {
      char v[SIM_SHOW_SIZE];
      bool map = c->open_mapping[top - 1];
      sim_show(v, sizeof v, (const char *)ev->data.scalar.value, ev->data.scalar.length);
      return fail_ev(c, DHT_EINVAL, ev->start_mark,
                     "YAML: a plain value in the flow %s opened at line %zu, column %zu runs onto line %zu ('%s'): "
                     "is the %s's '%c' missing?",
                     map ? "mapping" : "sequence", c->open_mark[top - 1].line + 1, c->open_mark[top - 1].column + 1,
                     ev->end_mark.line + 1, v, map ? "mapping" : "sequence", map ? '}' : ']');
    }
    return DHT_OK;
  default:
    return DHT_OK;
  }
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
  return track_collections(c, &c->ev);
}

/* Refuses aliases and explicit tags on any node. */
static int check_node_props(pctx *c, const yaml_event_t *ev, const char *label) {
  const yaml_char_t *tag = NULL;
  char v[SIM_SHOW_SIZE];
  if (ev->type == YAML_ALIAS_EVENT) {
    const char *a = (const char *)ev->data.alias.anchor;
    sim_show(v, sizeof v, a, strlen(a));
    return fail_ev(c, DHT_EINVAL, ev->start_mark, "%s%sYAML aliases are not supported (found '*%s')",
                   label ? label : "", label ? ": " : "", v);
  }
  if (ev->type == YAML_SCALAR_EVENT)
    tag = ev->data.scalar.tag;
  else if (ev->type == YAML_MAPPING_START_EVENT)
    tag = ev->data.mapping_start.tag;
  else if (ev->type == YAML_SEQUENCE_START_EVENT)
    tag = ev->data.sequence_start.tag;
  if (tag != NULL) {
    sim_show(v, sizeof v, (const char *)tag, strlen((const char *)tag));
    return fail_ev(c, DHT_EINVAL, ev->start_mark, "%s%sYAML tags are not supported (found '%s')",
                   label ? label : "", label ? ": " : "", v);
  }
  return DHT_OK;
}

/* Validates the value event ev of parameter id and stores it into *dst: the
 * one place a value is read (the sweep validates its values through it too). */
static int set_value(pctx *c, sim_param_id id, const yaml_event_t *ev, sim_scenario *dst) {
  const char *label = sim_params[id].key;
  char got[GOT_SIZE], want[256];
  int rc = check_node_props(c, ev, label);
  if (rc != DHT_OK)
    return rc;
  if (ev->type == YAML_SCALAR_EVENT) {
    rc = sim_param_set(id, (const char *)ev->data.scalar.value, ev->data.scalar.length,
                       ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE, c->dir, dst, want, sizeof want);
    if (rc == DHT_ENOMEM)
      return fail_nopos(&c->ck, rc, "out of memory");
    if (rc == DHT_OK)
      return rc;
  } else {
    sim_param_expected(id, want, sizeof want);
  }
  describe(ev, got, sizeof got);
  return fail_ev(c, DHT_EINVAL, ev->start_mark, "%s: expected %s, got %s", label, want, got);
}

/* ---- sweep ------------------------------------------------------------------ */

static uint64_t sat_add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }
static uint64_t sat_mul(uint64_t a, uint64_t b) { return b != 0 && a > UINT64_MAX / b ? UINT64_MAX : a * b; }

static bool is_sweepable(int id) { return id >= 0 && (sim_params[id].flags & SIM_PARAM_SWEEP) != 0; }

/* The sweepable keys, in table order: "network.nodes, network.tables, ...". */
static void sweepable_list(char *out, size_t outlen) {
  size_t o = 0;
  out[0] = '\0';
  for (int i = 0; i < SIM_PARAM_COUNT; i++) {
    if (!is_sweepable(i))
      continue;
    int w = snprintf(out + o, outlen - o, "%s%s", o ? ", " : "", sim_params[i].key);
    if (w > 0 && (size_t)w < outlen - o)
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

/* The values of one sweep list seen so far, by canonical text, to refuse
 * duplicates as they come: an open-addressing set of value indices (load <=
 * 1/2), allocated with g_try_ so that a huge list fails cleanly. Expected
 * O(1) per value; the full canonical texts are kept for the comparisons. */
typedef struct canon_set {
  char (*canon)[64];  /* [n]: canonical text of value i */
  yaml_mark_t *marks; /* [n]: where value i was */
  size_t n, cap;      /* values kept, room */
  uint32_t *slot;     /* [nslots]: value index + 1, 0 = empty */
  size_t nslots;      /* power of two, >= 2 * n */
} canon_set;

static void canon_set_clear(canon_set *cs) {
  g_free(cs->canon);
  g_free(cs->marks);
  g_free(cs->slot);
  memset(cs, 0, sizeof *cs);
}

/* The index of the value with this canonical text, or -1. */
static long canon_set_find(const canon_set *cs, const char *canon, uint64_t h) {
  if (cs->nslots == 0)
    return -1;
  for (size_t i = (size_t)h & (cs->nslots - 1);; i = (i + 1) & (cs->nslots - 1)) {
    if (cs->slot[i] == 0)
      return -1;
    if (strcmp(cs->canon[cs->slot[i] - 1], canon) == 0)
      return (long)(cs->slot[i] - 1);
  }
}

static void canon_set_place(canon_set *cs, uint32_t v, uint64_t h) {
  size_t i = (size_t)h & (cs->nslots - 1);
  while (cs->slot[i] != 0)
    i = (i + 1) & (cs->nslots - 1);
  cs->slot[i] = v + 1;
}

/* Adds value n (its text and mark); DHT_ENOMEM leaves the set as it was. */
static int canon_set_add(canon_set *cs, const char *canon, uint64_t h, yaml_mark_t m) {
  if (cs->n == cs->cap) {
    size_t ncap = cs->cap ? cs->cap * 2 : 8;
    char(*nc)[64] = g_try_realloc_n(cs->canon, ncap, sizeof *cs->canon);
    if (nc == NULL)
      return DHT_ENOMEM;
    cs->canon = nc;
    yaml_mark_t *nm = g_try_realloc_n(cs->marks, ncap, sizeof *cs->marks);
    if (nm == NULL)
      return DHT_ENOMEM;
    cs->marks = nm;
    cs->cap = ncap;
  }
  if (2 * (cs->n + 1) > cs->nslots) {
    size_t ns = cs->nslots ? cs->nslots * 2 : 16;
    uint32_t *old = cs->slot;
    size_t olds = cs->nslots;
    cs->slot = g_try_new0(uint32_t, ns);
    if (cs->slot == NULL) {
      cs->slot = old;
      return DHT_ENOMEM;
    }
    cs->nslots = ns;
    for (size_t i = 0; i < olds; i++)
      if (old[i] != 0)
        canon_set_place(cs, old[i] - 1, sim_fnv1a64(SIM_FNV1A64_INIT, cs->canon[old[i] - 1],
                                                    strlen(cs->canon[old[i] - 1])));
    g_free(old);
  }
  g_strlcpy(cs->canon[cs->n], canon, sizeof cs->canon[cs->n]);
  cs->marks[cs->n] = m;
  canon_set_place(cs, (uint32_t)cs->n, h);
  cs->n++;
  return DHT_OK;
}

/* Parses the value of `sweep:` (the current event): a mapping of sweepable
 * dotted keys to non-empty lists of distinct valid values, into c->sc.sweep.
 * Each axis is stored as soon as it starts, so an error frees what was read. */
static int parse_sweep(pctx *c) {
  char got[GOT_SIZE];
  sim__check *ck = &c->ck;
  int rc = check_node_props(c, &c->ev, "sweep");
  if (rc != DHT_OK)
    return rc;
  if (c->ev.type != YAML_MAPPING_START_EVENT) {
    describe(&c->ev, got, sizeof got);
    return fail_ev(c, DHT_EINVAL, c->ev.start_mark,
                   "sweep: expected a mapping of parameters to lists of values (like lookup.alpha: [1, 2, 4]), got %s",
                   got);
  }
  uint64_t points = 1;
  char factors[512] = ""; /* "8 x 4", for the too-many-points message; one factor per sweepable key */
  size_t flen = 0;
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
      rc = fail_ev(c, DHT_EINVAL, km, "sweep: expected a parameter name like lookup.alpha, got %s", got);
      break;
    }
    const char *kname = (const char *)c->ev.data.scalar.value;
    size_t klen = c->ev.data.scalar.length;
    int f = sim_param_find(kname, klen);
    if (!is_sweepable(f)) {
      char shown[SIM_SHOW_SIZE], expected[768];
      sim_show(shown, sizeof shown, kname, klen);
      sweepable_list(expected, sizeof expected);
      if (f < 0)
        rc = fail_ev(c, DHT_EINVAL, km, "sweep: unknown parameter '%s' (expected one of: %s)", shown, expected);
      else
        rc = fail_ev(c, DHT_EINVAL, km, "sweep: '%s' cannot be swept (expected one of: %s)", shown, expected);
      break;
    }
    sim_param_id id = (sim_param_id)f;
    char slabel[80];
    snprintf(slabel, sizeof slabel, "sweep: %s", sim_params[id].key);
    if (ck->swept[id]) {
      rc = fail_ev(c, DHT_EINVAL, km, "%s: duplicate key (first given at line %zu, column %zu)", slabel,
                   ck->sweep_mark[id].line + 1, ck->sweep_mark[id].column + 1);
      break;
    }
    ck->swept[id] = true;
    ck->sweep_mark[id] = mark_of(km);
    sim_sweep_axis *axes = g_try_renew(sim_sweep_axis, c->sc.sweep, c->sc.n_sweep + 1);
    if (axes == NULL) {
      rc = fail_nopos(ck, DHT_ENOMEM, "out of memory");
      break;
    }
    c->sc.sweep = axes;
    sim_sweep_axis *axis = &axes[c->sc.n_sweep];
    memset(axis, 0, sizeof *axis);
    axis->key = try_strndup(sim_params[id].key, strlen(sim_params[id].key));
    if (axis->key == NULL) {
      rc = fail_nopos(ck, DHT_ENOMEM, "out of memory");
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
      rc = fail_ev(c, DHT_EINVAL, c->ev.start_mark, "%s: expected a list of values (like [1, 2, 4]), got %s",
                   slabel, got);
      break;
    }
    yaml_mark_t list_mark = c->ev.start_mark;
    canon_set seen = {0};
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
        rc = fail_ev(c, DHT_EINVAL, c->ev.start_mark, "%s: expected a single value in the list, got %s", slabel,
                     got);
        break;
      }
      count++;
      if (sat_mul(points, count) > SIM_POINTS_MAX)
        continue; /* refused below, with the whole count */
      sim_scenario scratch; /* sweepable keys own no strings */
      sim_scenario_defaults(&scratch);
      rc = set_value(c, id, &c->ev, &scratch);
      if (rc != DHT_OK)
        break;
      char canon[64];
      sim_param_canon(id, &scratch, canon, sizeof canon);
      uint64_t h = sim_fnv1a64(SIM_FNV1A64_INIT, canon, strlen(canon));
      long first = canon_set_find(&seen, canon, h);
      if (first >= 0) {
        size_t i = (size_t)first;
        yaml_mark_t fm = seen.marks[i];
        char now[SIM_SHOW_SIZE], was[SIM_SHOW_SIZE];
        sim_show(now, sizeof now, (const char *)c->ev.data.scalar.value, c->ev.data.scalar.length);
        sim_show(was, sizeof was, axis->values[i], strlen(axis->values[i]));
        rc = fail_ev(c, DHT_EINVAL, c->ev.start_mark,
                     "%s: duplicate value '%s' (the same value as '%s' at line %zu, column %zu)", slabel, now, was,
                     fm.line + 1, fm.column + 1);
        break;
      }
      if (axis->n == cap) {
        size_t ncap = cap ? cap * 2 : 8;
        char **nv = g_try_renew(char *, axis->values, ncap);
        if (nv == NULL) {
          rc = fail_nopos(ck, DHT_ENOMEM, "out of memory");
          break;
        }
        axis->values = nv;
        cap = ncap;
      }
      char *text = try_strndup((const char *)c->ev.data.scalar.value, c->ev.data.scalar.length);
      if (text == NULL) {
        rc = fail_nopos(ck, DHT_ENOMEM, "out of memory");
        break;
      }
      if (canon_set_add(&seen, canon, h, c->ev.start_mark) < 0) {
        g_free(text);
        rc = fail_nopos(ck, DHT_ENOMEM, "out of memory");
        break;
      }
      axis->values[axis->n] = text;
      axis->n++;
    }
    canon_set_clear(&seen);
    if (rc != DHT_OK)
      break;
    if (count == 0) {
      rc = fail_ev(c, DHT_EINVAL, list_mark, "%s: expected a non-empty list of values, got an empty list", slabel);
      break;
    }
    int w = snprintf(factors + flen, sizeof factors - flen, "%s%" G_GUINT64_FORMAT, flen ? " x " : "", count);
    if (w > 0 && (size_t)w < sizeof factors - flen)
      flen += (size_t)w;
    uint64_t total = sat_mul(points, count);
    if (total > SIM_POINTS_MAX) {
      if (c->sc.n_sweep > 1)
        rc = fail_ev(c, DHT_EINVAL, km,
                     "sweep: too many points: %s = %" G_GUINT64_FORMAT ", more than the maximum of %u", factors,
                     total, SIM_POINTS_MAX);
      else
        rc = fail_ev(c, DHT_EINVAL, km, "sweep: too many points: %" G_GUINT64_FORMAT ", more than the maximum of %u",
                     total, SIM_POINTS_MAX);
      break;
    }
    points = total;
  }
  return rc;
}

/* ---- events ----------------------------------------------------------------- */

/* A plain number in [lo, hi] (hi excluded when hi_open) from the scalar ev,
 * for `label` ("events: at_s"). */
static int event_number(pctx *c, const char *label, double lo, double hi, bool hi_open, double *out) {
  char got[GOT_SIZE], buf[64];
  const yaml_event_t *ev = &c->ev;
  int rc = check_node_props(c, ev, label);
  if (rc != DHT_OK)
    return rc;
  if (ev->type == YAML_SCALAR_EVENT && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
      ev->data.scalar.length > 0 && ev->data.scalar.length < sizeof buf) {
    char *end;
    memcpy(buf, ev->data.scalar.value, ev->data.scalar.length);
    buf[ev->data.scalar.length] = '\0';
    double v = strtod(buf, &end);
    if (*end == '\0' && isfinite(v) && v >= lo && (hi_open ? v < hi : v <= hi)) {
      *out = v;
      return DHT_OK;
    }
  }
  describe(ev, got, sizeof got);
  return fail_ev(c, DHT_EINVAL, ev->start_mark, "%s: expected a number from %g to %g%s, got %s", label, lo, hi,
                 hi_open ? " (excluded)" : "", got);
}

/* Appends one event to c->sc.events (bounded by SIM_EVENTS_MAX). */
static int event_add(pctx *c, yaml_mark_t m, sim_timed_event **out) {
  sim_scenario *sc = &c->sc;
  if (sc->n_events == SIM_EVENTS_MAX)
    return fail_ev(c, DHT_EINVAL, m, "events: more than %u events (each key of a set counts)", SIM_EVENTS_MAX);
  sim_timed_event *ne = g_try_renew(sim_timed_event, sc->events, sc->n_events + 1);
  if (ne == NULL)
    return fail_nopos(&c->ck, DHT_ENOMEM, "out of memory");
  sc->events = ne;
  *out = memset(&ne[sc->n_events++], 0, sizeof *ne);
  return DHT_OK;
}

/* A SET event of parameter id, its value the current scalar, validated as
 * the key's own value would be (bounds, file:line:column). */
static int event_set(pctx *c, yaml_mark_t km, sim_param_id id) {
  sim_scenario scratch;
  sim_timed_event *e;
  sim_param_defaults(&scratch);
  int rc = set_value(c, id, &c->ev, &scratch);
  sim_scenario_clear(&scratch);
  if (rc != DHT_OK)
    return rc;
  if ((rc = event_add(c, km, &e)) != DHT_OK)
    return rc;
  e->action = SIM_EVENT_SET;
  e->param = (int)id;
  e->plain = c->ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
  e->value = try_strndup((const char *)c->ev.data.scalar.value, c->ev.data.scalar.length);
  return e->value == NULL ? fail_nopos(&c->ck, DHT_ENOMEM, "out of memory") : DHT_OK;
}

/* The keys an event's set: takes, for messages. */
static void settable_list(char *out, size_t outlen) {
  size_t o = 0;
  out[0] = '\0';
  for (int i = 0; i < SIM_PARAM_COUNT; i++) {
    if (!sim_event_settable(i))
      continue;
    int w = snprintf(out + o, outlen - o, "%s%s", o ? ", " : "", sim_params[i].key);
    if (w > 0 && (size_t)w < outlen - o)
      o += (size_t)w;
  }
}

/* `set:`'s mapping (the current event): settable keys to values. */
static int parse_event_set(pctx *c) {
  char got[GOT_SIZE];
  int rc = check_node_props(c, &c->ev, "events: set");
  if (rc != DHT_OK)
    return rc;
  if (c->ev.type != YAML_MAPPING_START_EVENT) {
    describe(&c->ev, got, sizeof got);
    return fail_ev(c, DHT_EINVAL, c->ev.start_mark,
                   "events: set: expected a mapping of parameters to values (like loss.request_drop: 0.3), got %s", got);
  }
  for (;;) {
    if ((rc = next_event(c)) != DHT_OK)
      return rc;
    if (c->ev.type == YAML_MAPPING_END_EVENT)
      return DHT_OK;
    yaml_mark_t km = c->ev.start_mark;
    if ((rc = check_node_props(c, &c->ev, "events: set")) != DHT_OK)
      return rc;
    if (c->ev.type != YAML_SCALAR_EVENT) {
      describe(&c->ev, got, sizeof got);
      return fail_ev(c, DHT_EINVAL, km, "events: set: expected a parameter name like loss.request_drop, got %s", got);
    }
    int f = sim_param_find((const char *)c->ev.data.scalar.value, c->ev.data.scalar.length);
    if (!sim_event_settable(f)) {
      char shown[SIM_SHOW_SIZE], expected[512];
      sim_show(shown, sizeof shown, (const char *)c->ev.data.scalar.value, c->ev.data.scalar.length);
      settable_list(expected, sizeof expected);
      return fail_ev(c, DHT_EINVAL, km, "events: set: %s '%s' (expected one of: %s)",
                     f < 0 ? "unknown parameter" : "cannot change mid-run:", shown, expected);
    }
    if ((rc = next_event(c)) != DHT_OK)
      return rc;
    if ((rc = event_set(c, km, (sim_param_id)f)) != DHT_OK)
      return rc;
  }
}

/* Parses the value of `events:` (the current event): a list of mappings,
 * each with at_s and exactly one action (set, fail_fraction,
 * revive_fraction, rate_per_s), into c->sc.events. */
static int parse_events(pctx *c) {
  char got[GOT_SIZE];
  int rc = check_node_props(c, &c->ev, "events");
  if (rc != DHT_OK)
    return rc;
  if (c->ev.type != YAML_SEQUENCE_START_EVENT) {
    describe(&c->ev, got, sizeof got);
    return fail_ev(c, DHT_EINVAL, c->ev.start_mark,
                   "events: expected a list of events (like - {at_s: 600, fail_fraction: 0.5}), got %s", got);
  }
  for (;;) {
    if ((rc = next_event(c)) != DHT_OK)
      return rc;
    if (c->ev.type == YAML_SEQUENCE_END_EVENT)
      return DHT_OK;
    yaml_mark_t em = c->ev.start_mark;
    if ((rc = check_node_props(c, &c->ev, "events")) != DHT_OK)
      return rc;
    if (c->ev.type != YAML_MAPPING_START_EVENT) {
      describe(&c->ev, got, sizeof got);
      return fail_ev(c, DHT_EINVAL, em,
                     "events: expected an event mapping with at_s and one of set, fail_fraction, revive_fraction, "
                     "rate_per_s, partition_fraction, partition_nodes, heal, got %s",
                     got);
    }
    size_t first = c->sc.n_events;
    bool have_at = false, have_action = false;
    double at_s = 0;
    yaml_mark_t action_mark = em;
    for (;;) {
      if ((rc = next_event(c)) != DHT_OK)
        return rc;
      if (c->ev.type == YAML_MAPPING_END_EVENT)
        break;
      yaml_mark_t km = c->ev.start_mark;
      if ((rc = check_node_props(c, &c->ev, "events")) != DHT_OK)
        return rc;
      const char *k = c->ev.type == YAML_SCALAR_EVENT ? (const char *)c->ev.data.scalar.value : "";
      size_t kn = c->ev.type == YAML_SCALAR_EVENT ? c->ev.data.scalar.length : 0;
      int kind = kn == 4 && memcmp(k, "at_s", 4) == 0                   ? 0
                 : kn == 3 && memcmp(k, "set", 3) == 0                  ? 1
                 : kn == 13 && memcmp(k, "fail_fraction", 13) == 0      ? 2
                 : kn == 15 && memcmp(k, "revive_fraction", 15) == 0    ? 3
                 : kn == 10 && memcmp(k, "rate_per_s", 10) == 0         ? 4
                 : kn == 18 && memcmp(k, "partition_fraction", 18) == 0 ? 5
                 : kn == 4 && memcmp(k, "heal", 4) == 0                 ? 6
                 : kn == 15 && memcmp(k, "partition_nodes", 15) == 0    ? 7
                                                                        : -1;
      if (kind < 0) {
        char shown[SIM_SHOW_SIZE];
        if (c->ev.type == YAML_SCALAR_EVENT)
          sim_show(shown, sizeof shown, k, kn);
        else
          describe(&c->ev, shown, sizeof shown);
        return fail_ev(c, DHT_EINVAL, km,
                       "events: unknown key '%s' (expected one of: at_s, set, fail_fraction, revive_fraction, "
                       "rate_per_s, partition_fraction, partition_nodes, heal)",
                       shown);
      }
      if (kind == 0 ? have_at : have_action)
        return fail_ev(
            c, DHT_EINVAL, km, "events: %s",
            kind == 0 ? "at_s given twice"
                      : "one action per event (set, fail_fraction, revive_fraction, rate_per_s, partition_fraction, "
                        "partition_nodes or heal); "
                        "give another event");
      if ((rc = next_event(c)) != DHT_OK)
        return rc;
      if (kind == 0) {
        have_at = true;
        if ((rc = event_number(c, "events: at_s", 0, 1e9, false, &at_s)) != DHT_OK)
          return rc;
        continue;
      }
      have_action = true;
      action_mark = km;
      if (kind == 1) {
        rc = parse_event_set(c);
      } else if (kind == 4) {
        rc = event_set(c, km, SIM_P_WORKLOAD_RATE_PER_S);
      } else if (kind == 5 || kind == 7) {
        /* partition_fraction: the ID space's split; partition_nodes: the node set's. */
        const char *name = kind == 5 ? "events: partition_fraction" : "events: partition_nodes";
        double f;
        sim_timed_event *e;
        rc = event_number(c, name, 0, 1, true, &f);
        if (rc == DHT_OK && !(f > 0.0)) {
          describe(&c->ev, got, sizeof got);
          rc = fail_ev(c, DHT_EINVAL, c->ev.start_mark, "%s: expected a number between 0 and 1 (both excluded), got %s",
                       name, got);
        }
        if (rc == DHT_OK && (rc = event_add(c, km, &e)) == DHT_OK) {
          e->action = kind == 5 ? SIM_EVENT_PARTITION : SIM_EVENT_PARTITION_NODES;
          e->fraction = f;
        }
      } else if (kind == 6) {
        sim_timed_event *e;
        if ((rc = check_node_props(c, &c->ev, "events: heal")) == DHT_OK &&
            !(c->ev.type == YAML_SCALAR_EVENT && c->ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
              c->ev.data.scalar.length == 4 && memcmp(c->ev.data.scalar.value, "true", 4) == 0)) {
          describe(&c->ev, got, sizeof got);
          rc = fail_ev(c, DHT_EINVAL, c->ev.start_mark, "events: heal: expected true, got %s", got);
        }
        if (rc == DHT_OK && (rc = event_add(c, km, &e)) == DHT_OK)
          e->action = SIM_EVENT_HEAL;
      } else {
        double f;
        sim_timed_event *e;
        rc = event_number(c, kind == 2 ? "events: fail_fraction" : "events: revive_fraction", 0, 1, kind == 2, &f);
        if (rc == DHT_OK && (rc = event_add(c, km, &e)) == DHT_OK) {
          e->action = kind == 2 ? SIM_EVENT_FAIL : SIM_EVENT_REVIVE;
          e->fraction = f;
        }
      }
      if (rc != DHT_OK)
        return rc;
    }
    if (!have_at)
      return fail_ev(c, DHT_EINVAL, em, "events: expected at_s (the event's virtual time in seconds)");
    if (!have_action)
      return fail_ev(c, DHT_EINVAL, em,
                     "events: expected an action: set, fail_fraction, revive_fraction, rate_per_s, partition_fraction, "
                     "partition_nodes or heal");
    (void)action_mark;
    for (size_t i = first; i < c->sc.n_events; i++)
      c->sc.events[i].at_us = (uint64_t)llround(at_s * 1e6);
  }
}

/* ---- sections ---------------------------------------------------------------- */

/* A mapping's level: the top (name NULL), a section ("latency", its length)
 * or a sub-section ("churn.session"): the key prefix of its parameters. */
typedef struct level {
  const char *name; /* NULL at the top */
  size_t len;
} level;

/* Where parameter id stands relative to level lv: 0 not under it; 1 a key of
 * lv itself (*off: where its name starts in the dotted key); 2 under a
 * sub-level of lv, whose prefix is the key's first *sub bytes. */
static int under(sim_param_id id, level lv, size_t *off, size_t *sub) {
  const char *key = sim_params[id].key, *dot;
  *off = 0;
  if (lv.name != NULL) {
    if (strncmp(key, lv.name, lv.len) != 0 || key[lv.len] != '.')
      return 0;
    *off = lv.len + 1;
  }
  dot = strchr(key + *off, '.');
  if (dot == NULL)
    return 1;
  *sub = (size_t)(dot - key);
  return 2;
}

static bool in_level(sim_param_id id, level lv) {
  size_t off, sub;
  return under(id, lv, &off, &sub) == 1;
}

/* Whether id is the first parameter of a sub-level of lv (the sub-level's own
 * key in lv); *off, *sub as under(). */
static bool opens_section(sim_param_id id, level lv, size_t *off, size_t *sub) {
  if (under(id, lv, off, sub) != 2)
    return false;
  for (int j = 0; j < (int)id; j++) {
    size_t o2, s2;
    if (under((sim_param_id)j, lv, &o2, &s2) == 2 && s2 == *sub && memcmp(sim_params[j].key, sim_params[id].key, *sub) == 0)
      return false;
  }
  return true;
}

/* "strategy, alpha, k, timeout_ms": the keys of a level in table order; a
 * sub-level stands where its first key is, and at the top `sweep` comes last. */
static void keys_of(level lv, char *out, size_t outlen) {
  size_t o = 0;
  out[0] = '\0';
  for (int i = 0; i < SIM_PARAM_COUNT; i++) {
    const char *k = NULL;
    int klen = 0;
    size_t off, sub;
    if (in_level((sim_param_id)i, lv)) {
      k = sim_params[i].key + (lv.name != NULL ? lv.len + 1 : 0);
      klen = (int)strlen(k);
    } else if (opens_section((sim_param_id)i, lv, &off, &sub)) {
      k = sim_params[i].key + off;
      klen = (int)(sub - off);
    }
    if (k == NULL)
      continue;
    int w = snprintf(out + o, outlen - o, "%s%.*s", o ? ", " : "", klen, k);
    if (w > 0 && (size_t)w < outlen - o)
      o += (size_t)w;
  }
  if (lv.name == NULL) {
    int w = snprintf(out + o, outlen - o, "%ssweep, events", o ? ", " : "");
    (void)w;
  }
}

/* What a key of level lv names: a parameter (*id), a sub-level (*section, the
 * id of its first parameter; *sub its prefix length) or the sweep (*section =
 * SIM_PARAM_COUNT). false if none. */
static bool find_key(level lv, const char *k, size_t n, int *id, int *section, size_t *sublen) {
  *id = *section = -1;
  *sublen = 0;
  for (int i = 0; i < SIM_PARAM_COUNT; i++) {
    size_t off, sub;
    if (in_level((sim_param_id)i, lv)) {
      const char *name = sim_params[i].key + (lv.name != NULL ? lv.len + 1 : 0);
      if (strlen(name) == n && memcmp(name, k, n) == 0) {
        *id = i;
        return true;
      }
    } else if (opens_section((sim_param_id)i, lv, &off, &sub) && sub - off == n &&
               memcmp(sim_params[i].key + off, k, n) == 0) {
      *section = i;
      *sublen = sub;
      return true;
    }
  }
  if (lv.name == NULL && n == 5 && memcmp(k, "sweep", 5) == 0) {
    *section = SIM_PARAM_COUNT;
    return true;
  }
  if (lv.name == NULL && n == 6 && memcmp(k, "events", 6) == 0) {
    *section = SIM_PARAM_COUNT + 1;
    return true;
  }
  return false;
}

/* Parses the mapping whose MAPPING_START is the current event. */
static int parse_mapping(pctx *c, level lv) {
  char got[GOT_SIZE], expected[512];
  sim__check *ck = &c->ck;
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
      return fail_ev(c, DHT_EINVAL, km, "expected a key %s%.*s, got %s",
                     lv.name == NULL ? "at the top level" : "in section ", lv.name == NULL ? 0 : (int)lv.len,
                     lv.name == NULL ? "" : lv.name, got);
    }
    const char *kname = (const char *)c->ev.data.scalar.value;
    size_t klen = c->ev.data.scalar.length;
    int id, group;
    size_t sublen;
    if (!find_key(lv, kname, klen, &id, &group, &sublen)) {
      char shown[SIM_SHOW_SIZE];
      keys_of(lv, expected, sizeof expected);
      sim_show(shown, sizeof shown, kname, klen);
      if (lv.name == NULL)
        return fail_ev(c, DHT_EINVAL, km, "unknown key '%s' at the top level (expected one of: %s)", shown, expected);
      return fail_ev(c, DHT_EINVAL, km, "unknown key '%s' in section '%.*s' (expected one of: %s)", shown,
                     (int)lv.len, lv.name, expected);
    }
    /* The key's label in messages: "lookup.alpha", "network", "sweep". */
    char label[64];
    bool *seen;
    sim__mark *first;
    if (id >= 0) {
      snprintf(label, sizeof label, "%s", sim_params[id].key);
      seen = &ck->seen[id];
      first = &ck->key_mark[id];
    } else {
      if (group == SIM_PARAM_COUNT)
        snprintf(label, sizeof label, "sweep");
      else if (group == SIM_PARAM_COUNT + 1)
        snprintf(label, sizeof label, "events");
      else
        snprintf(label, sizeof label, "%.*s", (int)sublen, sim_params[group].key);
      seen = &c->seen_group[lv.name != NULL][group];
      first = &c->group_mark[lv.name != NULL][group];
    }
    if (*seen)
      return fail_ev(c, DHT_EINVAL, km, "%s: duplicate key (first given at line %zu, column %zu)", label,
                     first->line + 1, first->column + 1);
    *seen = true;
    *first = mark_of(km);

    /* The value. */
    rc = next_event(c);
    if (rc != DHT_OK)
      return rc;
    if (id >= 0) {
      ck->val_mark[id] = mark_of(c->ev.start_mark);
      rc = set_value(c, (sim_param_id)id, &c->ev, &c->sc);
    } else if (group == SIM_PARAM_COUNT) {
      rc = parse_sweep(c);
    } else if (group == SIM_PARAM_COUNT + 1) {
      rc = parse_events(c);
    } else {
      level sub = {sim_params[group].key, sublen};
      rc = check_node_props(c, &c->ev, label);
      if (rc != DHT_OK)
        return rc;
      if (c->ev.type != YAML_MAPPING_START_EVENT) {
        describe(&c->ev, got, sizeof got);
        keys_of(sub, expected, sizeof expected);
        return fail_ev(c, DHT_EINVAL, c->ev.start_mark, "%s: expected a mapping with keys %s, got %s", label,
                       expected, got);
      }
      rc = parse_mapping(c, sub);
    }
    if (rc != DHT_OK)
      return rc;
  }
}

/* ---- memory estimate -------------------------------------------------------- */

/* Maintained tables (sim/maintain.c): a slot index per node (4 B; bep5: its
 * pass time, 8 B), and the slots of the nodes whose tables change, each room
 * for K (log2 n + 4) contacts of 4 B (+ 1 B failures, 1 B shared bits, bep5 + 4 B activity
 * time) in a pool that doubles, so up to twice the slots in use but never
 * more than one per node. Which nodes
 * change: with bep5 every online node refreshes, so all of them; with churn
 * every returning node bootstraps, so all of them too; else (passive, static)
 * the lookups' start nodes and the nodes they query, at most 64 a lookup. An
 * upper bound: a run stopping before every node changed holds less
 * (docs/churn.md gives measured peaks). */
static uint64_t maintenance_bytes(const sim_scenario *sc, uint64_t lookups) {
  /* rejoin new: the spares have slots too, and each one claimed changes */
  uint64_t n = sat_add(sc->network.nodes, sim_rejoin_spares(sc, lookups)), changed = n, lg = 1;
  bool bep5 = sc->network.maintenance == SIM_MAINTENANCE_BEP5;
  while (lg < 32 && ((uint64_t)1 << lg) < n)
    lg++;
  uint64_t cap = (uint64_t)sc->lookup.k * (lg + 4), per_contact = bep5 ? 10 : 6;
  if (cap > (uint64_t)DHT_ID_BITS * sc->lookup.k)
    cap = (uint64_t)DHT_ID_BITS * sc->lookup.k;
  if (!bep5 && sc->churn.session.model == SIM_CHURN_NONE && sat_mul(lookups, 65) < n)
    changed = sat_mul(lookups, 65);
  uint64_t slots = sat_mul(changed, 2) < n ? sat_mul(changed, 2) : n;
  /* bep5 per node: the slot index and next pass (12 B) and an allowance of
   * 128 B for the pings and refresh lookups in flight (query records, queue
   * entries): bench/bep5-cost.yaml peaked 4 MiB (40 B a node) above the
   * estimate without it. */
  return sat_add(sat_mul(n, bep5 ? 12 + 128 : 4), sat_mul(slots, sat_add(sat_mul(cap, per_contact), 3)));
}

/* The two parts of the estimate: the network and the per-lookup results. With
 * a topology file the network is topology_bytes (0 while unread: the loader
 * checks); with a lookups file the lookups are file_lookups, each with its
 * spec (0 while unread), and --lookups does not apply. */
static void estimate_parts(const sim_scenario *sc, uint64_t lookups, uint64_t topology_bytes, uint64_t file_lookups,
                           uint64_t *net, uint64_t *work) {
  bool topo = sc->network.topology != NULL, file = sc->workload.lookups_file != NULL;
  /* rejoin new: the network is built with its spare identities (rejoin.h). */
  uint64_t spares = sim_rejoin_spares(sc, lookups ? lookups : sc->workload.lookups);
  *net = topo ? topology_bytes
              : sim_network_estimate_bytes(sat_add(sc->network.nodes, spares), sc->lookup.k, sc->network.tables);
  /* Churn: one queued event per node (32 B, in a heap that may double: 64),
   * the tables' restriction (urank, upos: 8 B; unode for random tables: 4).
   * Measured with scenarios/mainline-churn.yaml (10^6 nodes): peak RSS
   * 99 MiB against this estimate's 132 MB. Maintained tables: maintenance_bytes. */
  if (sc->churn.session.model != SIM_CHURN_NONE)
    *net =
        sat_add(*net, sat_mul(sat_add(sc->network.nodes, spares), sc->network.tables == SIM_TABLES_RANDOM ? 76 : 72));
  if (spares > 0) /* the population's members' nodes (sim.c's pop) */
    *net = sat_add(*net, sat_mul(sc->network.nodes, 4));
  if (sc->network.maintenance != SIM_MAINTENANCE_NONE)
    *net = sat_add(*net, maintenance_bytes(sc, lookups ? lookups : sc->workload.lookups));
  *work = file ? sat_mul(file_lookups, SCENARIO_BYTES_PER_LOOKUP + sizeof(sim_lookup_spec))
               : sat_mul(lookups ? lookups : sc->workload.lookups, SCENARIO_BYTES_PER_LOOKUP);
}

uint64_t sim_scenario_estimate_bytes(const sim_scenario *sc, uint64_t lookups) {
  return sim_scenario_estimate_known(sc, lookups, 0, 0);
}

uint64_t sim_scenario_estimate_known(const sim_scenario *sc, uint64_t lookups, uint64_t topology_bytes,
                                     uint64_t file_lookups) {
  uint64_t net, work;
  estimate_parts(sc, lookups, topology_bytes, file_lookups, &net, &work);
  return sat_add(net, work);
}

static int check_memory(sim__check *ck, const sim_scenario *base) {
  uint64_t limit;
  bool from_env;
  char over[256];
  if (sim_memory_limit(&limit, &from_env, over, sizeof over) != DHT_OK)
    return fail_nopos(ck, DHT_EINVAL, "%s", over);
  /* With a sweep, check the largest point: the most nodes, the largest K, full
   * tables if any point has them (no other sweepable key changes the estimate).
   * Every combination is a point, so these maxima are one. */
  sim_scenario largest = *base;
  for (size_t i = 0; i < base->n_sweep; i++) {
    const sim_sweep_axis *a = &base->sweep[i];
    int f = sim_param_find(a->key, strlen(a->key));
    if (f != SIM_P_NETWORK_NODES && f != SIM_P_LOOKUP_K && f != SIM_P_NETWORK_TABLES)
      continue;
    for (size_t j = 0; j < a->n; j++) {
      sim_scenario v;
      sim_scenario_defaults(&v);
      if (sim_param_set((sim_param_id)f, a->values[j], strlen(a->values[j]), true, NULL, &v, NULL, 0) != DHT_OK)
        return DHT_EINVAL; /* cannot happen: every value was validated */
      if (f == SIM_P_NETWORK_NODES && (j == 0 || v.network.nodes > largest.network.nodes))
        largest.network.nodes = v.network.nodes;
      if (f == SIM_P_LOOKUP_K && (j == 0 || v.lookup.k > largest.lookup.k))
        largest.lookup.k = v.lookup.k;
      if (f == SIM_P_NETWORK_TABLES && (j == 0 || v.network.tables == SIM_TABLES_FULL))
        largest.network.tables = v.network.tables;
    }
  }
  const sim_scenario *sc = &largest;
  bool topo = sc->network.topology != NULL, file = sc->workload.lookups_file != NULL;
  uint64_t net, work;
  estimate_parts(sc, 0, 0, 0, &net, &work);
  uint64_t total = sat_add(net, work);
  if (total <= limit)
    return DHT_OK;

  sim_memory_over(over, sizeof over, total, true, limit, from_env);
  const char *tables = sim_param_enum_name(SIM_P_NETWORK_TABLES, (int)sc->network.tables);
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
  sim_param_id f = net >= work ? SIM_P_NETWORK_NODES : SIM_P_WORKLOAD_LOOKUPS;
  if (f == SIM_P_NETWORK_NODES && ck->point == NULL) {
    static const sim_param_id net_keys[] = {SIM_P_NETWORK_NODES, SIM_P_LOOKUP_K, SIM_P_NETWORK_TABLES};
    for (size_t i = 0; i < G_N_ELEMENTS(net_keys); i++) {
      if (!ck->swept[net_keys[i]])
        continue;
      return fail_at(ck, DHT_ETOOBIG, ck->sweep_mark[net_keys[i]],
                     "sweep: %s: %s (the sweep's largest point) %s", sim_params[net_keys[i]].key, what, over);
    }
  }
  if (ck->seen[f])
    return fail_at(ck, DHT_ETOOBIG, ck->val_mark[f], "%s: %s %s", sim_params[f].key, what, over);
  return fail_nopos(ck, DHT_ETOOBIG, "%s: %s %s", sim_params[f].key, what, over);
}

/* ---- the checks between keys ----------------------------------------------------- */

/* An exclusive pair given both: blame the one given later. */
static int exclusive(sim__check *ck, sim_param_id a, sim_param_id b, const char *why) {
  if (!ck->seen[a] || !ck->seen[b])
    return DHT_OK;
  if (ck->key_mark[a].index > ck->key_mark[b].index)
    return fail_at(ck, DHT_EINVAL, ck->key_mark[a], "%s: cannot be combined with %s (%s)", sim_params[a].key,
                   sim_params[b].key, why);
  return fail_at(ck, DHT_EINVAL, ck->key_mark[b], "%s: cannot be combined with %s (%s)", sim_params[b].key,
                 sim_params[a].key, why);
}

/* The churn keys together (never swept: checked once, at parse time or for a
 * scenario built in code). A message names the key's value when the file gave
 * it, else the model's. */
static int churn_fail(sim__check *ck, sim_param_id at, sim_param_id model, const char *msg) {
  sim_param_id where = ck->point == NULL && ck->seen[at] ? at : model;
  if (ck->point != NULL || !ck->seen[where])
    return fail_nopos(ck, DHT_EINVAL, "%s: %s", sim_params[where].key, msg);
  return fail_at(ck, DHT_EINVAL, ck->val_mark[where], "%s: %s", sim_params[where].key, msg);
}

static int check_churn(sim__check *ck, const sim_scenario *sc) {
  const sim_churn_dist *d[2] = {&sc->churn.session, &sc->churn.downtime};
  static const sim_param_id model[2] = {SIM_P_CHURN_SESSION_MODEL, SIM_P_CHURN_DOWNTIME_MODEL};
  static const sim_param_id shape[2] = {SIM_P_CHURN_SESSION_SHAPE, SIM_P_CHURN_DOWNTIME_SHAPE};
  bool on = sc->churn.session.model != SIM_CHURN_NONE;
  if (!on && sc->churn.downtime.model == SIM_CHURN_NONE)
    return DHT_OK;
  if (!on)
    return churn_fail(ck, model[0], model[1], "expected churn.session.model too (a downtime needs sessions)");
  if (sc->churn.downtime.model == SIM_CHURN_NONE)
    return churn_fail(ck, model[1], model[0], "expected churn.downtime.model too (none given)");
  for (int i = 0; i < 2; i++)
    if (d[i]->model == SIM_CHURN_PARETO && !(d[i]->shape > 1.0))
      return churn_fail(ck, shape[i], model[i], "expected a shape above 1 for pareto (a finite mean)");
  if (sc->network.topology != NULL)
    return churn_fail(ck, model[0], model[0],
                      "cannot be combined with network.topology (churn restricts generated tables only)");
  return DHT_OK;
}

/* At parse time (ck->point NULL) ck->seen / ck->swept tell what the file gave;
 * checks involving a swept key are left to each point. For a point, ck->swept
 * marks the keys the sweep set. */
int sim__scenario_check(sim__check *ck, sim_scenario *sc) {
  int rc;
  if (ck->point == NULL) {
    if ((rc = exclusive(ck, SIM_P_NETWORK_TOPOLOGY, SIM_P_NETWORK_NODES, "the topology file gives the nodes")) ||
        (rc = exclusive(ck, SIM_P_WORKLOAD_LOOKUPS_FILE, SIM_P_WORKLOAD_LOOKUPS, "the file gives the lookups")))
      return rc;
    if (ck->seen[SIM_P_NETWORK_TOPOLOGY] && ck->swept[SIM_P_NETWORK_NODES])
      return fail_at(ck, DHT_EINVAL, ck->sweep_mark[SIM_P_NETWORK_NODES],
                     "sweep: network.nodes: cannot be swept with network.topology (the topology file gives the nodes)");
    for (int f = 0; f < SIM_PARAM_COUNT; f++) {
      if (!ck->swept[f] || !ck->seen[f])
        continue;
      return fail_at(ck, DHT_EINVAL, ck->sweep_mark[f],
                     "sweep: %s: also given in section '%.*s' at line %zu, column %zu (a swept parameter takes its "
                     "values from the sweep only)",
                     sim_params[f].key, (int)sim_param_section_len((sim_param_id)f), sim_params[f].key,
                     ck->key_mark[f].line + 1, ck->key_mark[f].column + 1);
    }
  }
  bool point_level = ck->swept[SIM_P_LATENCY_MIN_MS] || ck->swept[SIM_P_LATENCY_MAX_MS];
  if ((ck->point != NULL || !point_level) && sc->latency.min_us > sc->latency.max_us) {
    char mn[32], mx[32];
    sim_param_format(SIM_P_LATENCY_MIN_MS, sc, mn, sizeof mn);
    sim_param_format(SIM_P_LATENCY_MAX_MS, sc, mx, sizeof mx);
    if (ck->point != NULL && !ck->swept[SIM_P_LATENCY_MAX_MS])
      return fail_nopos(ck, DHT_EINVAL,
                        "latency.min_ms: expected a number of milliseconds at most latency.max_ms (%s), got '%s'", mx,
                        mn);
    if (ck->point != NULL || ck->seen[SIM_P_LATENCY_MAX_MS])
      return fail_at(ck, DHT_EINVAL, ck->val_mark[SIM_P_LATENCY_MAX_MS],
                     "latency.max_ms: expected a number of milliseconds at least latency.min_ms (%s), got '%s'", mn,
                     mx);
    return fail_at(ck, DHT_EINVAL, ck->val_mark[SIM_P_LATENCY_MIN_MS],
                   "latency.min_ms: expected a number of milliseconds at most latency.max_ms (default %s), got '%s'",
                   mx, mn);
  }
  /* A matrix model needs its file; checked where the model is known (the
   * file's own errors come when it is read: sim_inputs_check, sim_run). */
  if ((ck->point != NULL || !ck->swept[SIM_P_LATENCY_MODEL]) && sc->latency.model == SIM_LATENCY_MATRIX &&
      sc->latency.matrix == NULL) {
    if (ck->point == NULL && ck->seen[SIM_P_LATENCY_MODEL])
      return fail_at(ck, DHT_EINVAL, ck->val_mark[SIM_P_LATENCY_MODEL],
                     "latency.model: matrix: expected latency.matrix too (the file of the RTT matrix, docs/latency.md)");
    return fail_nopos(ck, DHT_EINVAL, "latency.model: matrix: expected latency.matrix too (the file of the RTT matrix, docs/latency.md)");
  }
  if ((rc = check_churn(ck, sc)) < 0)
    return rc;
  /* plant_at defaults to K. When K is swept, 0 in the base stands for "each
   * point's K" (sim_scenario_point resolves it). */
  if (ck->point == NULL && !ck->seen[SIM_P_WORKLOAD_PLANT_AT] && !ck->swept[SIM_P_WORKLOAD_PLANT_AT])
    sc->workload.plant_at = ck->swept[SIM_P_LOOKUP_K] ? 0 : sc->lookup.k;
  if (ck->point != NULL && sc->workload.plant_at == 0)
    sc->workload.plant_at = sc->lookup.k;
  /* The strategy's defaults for what was not given. When the strategy is
   * swept the base keeps its 0s and each point resolves its own. */
  if (ck->point != NULL || !ck->swept[SIM_P_LOOKUP_STRATEGY])
    resolve_strategy_defaults(sc);
  return check_memory(ck, sc);
}

/* ---- whole document ----------------------------------------------------------- */

static int parse_document(pctx *c) {
  const char *path = c->ck.path;
  int rc = next_event(c);
  if (rc != DHT_OK)
    return rc;
  if (c->ev.type != YAML_STREAM_START_EVENT)
    return fail_ev(c, DHT_EINVAL, c->ev.start_mark, "expected the start of a YAML stream");
  rc = next_event(c);
  if (rc != DHT_OK)
    return rc;
  if (c->ev.type == YAML_STREAM_END_EVENT) {
    sim_fail(c->ck.err, c->ck.errlen, 0, "%s: empty scenario, expected a mapping", path);
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
    sim_fail(c->ck.err, c->ck.errlen, 0, "%s: empty scenario, expected a mapping", path);
    return DHT_EINVAL;
  }
  if (c->ev.type != YAML_MAPPING_START_EVENT) {
    char got[GOT_SIZE];
    describe(&c->ev, got, sizeof got);
    return fail_ev(c, DHT_EINVAL, c->ev.start_mark, "expected a mapping of scenario keys at the top level, got %s",
                   got);
  }
  rc = parse_mapping(c, (level){NULL, 0});
  if (rc != DHT_OK)
    return rc;
  rc = next_event(c); /* DOCUMENT_END */
  if (rc != DHT_OK)
    return rc;
  rc = next_event(c);
  if (rc != DHT_OK)
    return rc;
  if (c->ev.type != YAML_STREAM_END_EVENT)
    return fail_ev(c, DHT_EINVAL, c->ev.start_mark,
                   "expected a single YAML document, found another one (a second '---'?)");
  return sim__scenario_check(&c->ck, &c->sc);
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
  c->ck.path = path;
  c->ck.err = err;
  c->ck.errlen = errlen;
  c->data = data ? data : "";
  c->len = len;
  c->dir = g_path_get_dirname(path);
  sim_param_defaults(&c->sc); /* unresolved: the check resolves the strategy's defaults */

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
    c->sc.path = try_strndup(path, strlen(path));
    if (c->sc.name == NULL)
      c->sc.name = default_name(path);
    if (c->sc.path == NULL || c->sc.name == NULL) {
      sim_fail(err, errlen, 0, "%s: out of memory", path);
      rc = DHT_ENOMEM;
    }
  }
  if (rc == DHT_OK) {
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
