/* trace.c: the --trace selection and the trace.jsonl writer (trace.h).
 * Cost: nothing for an untraced lookup but a NULL test in the driver; a
 * traced event formats one line (O(1)) into the run's buffer. */
#include "trace.h"

#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "message.h"
#include "param.h"
#include "scenario.h"

/* ---- the selection ---- */

static int cmp_range(const void *a, const void *b) {
  const sim_trace_range *x = a, *y = b;
  return x->lo < y->lo ? -1 : x->lo > y->lo ? 1 : 0;
}

/* A decimal id at *p (no sign, no leading '+'), below SIM_LOOKUPS_MAX. */
static bool parse_id(const char **p, uint64_t *out) {
  const char *s = *p;
  uint64_t v = 0;
  if (*s < '0' || *s > '9')
    return false;
  while (*s >= '0' && *s <= '9') {
    v = v * 10 + (uint64_t)(*s - '0');
    if (v >= SIM_LOOKUPS_MAX)
      return false;
    s++;
  }
  *p = s;
  *out = v;
  return true;
}

int sim_trace_sel_parse(sim_trace_sel *sel, const char *text, char *err, size_t errlen) {
  const char *p = text;
  size_t cap = 0;
  memset(sel, 0, sizeof *sel);
  if (text == NULL || text[0] == '\0')
    return sim_fail(err, errlen, DHT_EINVAL, "--trace IDS: empty; expected lookup ids like 0,5,10-20 or all");
  if (strlen(text) > SIM_TRACE_IDS_MAX)
    return sim_fail(err, errlen, DHT_EINVAL, "--trace IDS: longer than %d characters", SIM_TRACE_IDS_MAX);
  if (strcmp(text, "all") == 0) {
    sel->all = true;
    return 0;
  }
  for (;;) {
    sim_trace_range r;
    size_t col = (size_t)(p - text) + 1;
    if (!parse_id(&p, &r.lo)) {
      sim_trace_sel_clear(sel);
      return sim_fail(err, errlen, DHT_EINVAL,
                      "--trace IDS: column %zu: expected a lookup id (0 to %u) or all, got '%s'", col,
                      SIM_LOOKUPS_MAX - 1, text + col - 1);
    }
    r.hi = r.lo;
    if (*p == '-') {
      p++;
      col = (size_t)(p - text) + 1;
      if (!parse_id(&p, &r.hi)) {
        sim_trace_sel_clear(sel);
        return sim_fail(err, errlen, DHT_EINVAL, "--trace IDS: column %zu: expected the end of a range (0 to %u), got '%s'",
                        col, SIM_LOOKUPS_MAX - 1, text + col - 1);
      }
      if (r.hi < r.lo) {
        sim_trace_sel_clear(sel);
        return sim_fail(err, errlen, DHT_EINVAL, "--trace IDS: range %" PRIu64 "-%" PRIu64 " ends before it starts",
                        r.lo, r.hi);
      }
    }
    if (sel->n == cap) {
      size_t ncap = cap ? 2 * cap : 8;
      sim_trace_range *nr = g_try_renew(sim_trace_range, sel->r, ncap);
      if (nr == NULL) {
        sim_trace_sel_clear(sel);
        return sim_fail(err, errlen, DHT_ENOMEM, "out of memory");
      }
      sel->r = nr;
      cap = ncap;
    }
    sel->r[sel->n++] = r;
    if (*p == '\0')
      break;
    if (*p != ',') {
      size_t at = (size_t)(p - text) + 1;
      sim_trace_sel_clear(sel);
      return sim_fail(err, errlen, DHT_EINVAL, "--trace IDS: column %zu: expected ',' or the end, got '%s'", at,
                      text + at - 1);
    }
    p++;
  }
  /* Sorted and merged: membership is a binary search, counts a sum. */
  qsort(sel->r, sel->n, sizeof *sel->r, cmp_range);
  size_t m = 0;
  for (size_t i = 0; i < sel->n; i++) {
    if (m > 0 && sel->r[i].lo <= sel->r[m - 1].hi + 1) {
      if (sel->r[i].hi > sel->r[m - 1].hi)
        sel->r[m - 1].hi = sel->r[i].hi;
    } else {
      sel->r[m++] = sel->r[i];
    }
  }
  sel->n = m;
  if ((sel->before = g_try_new(uint64_t, m)) == NULL) {
    sim_trace_sel_clear(sel);
    return sim_fail(err, errlen, DHT_ENOMEM, "out of memory");
  }
  for (size_t i = 0, c = 0; i < m; i++) {
    sel->before[i] = c;
    c += sel->r[i].hi - sel->r[i].lo + 1;
  }
  return 0;
}

void sim_trace_sel_clear(sim_trace_sel *sel) {
  g_free(sel->r);
  g_free(sel->before);
  memset(sel, 0, sizeof *sel);
}

/* The index of the range holding id, or SIZE_MAX. O(log ranges). */
static size_t range_of(const sim_trace_sel *sel, uint64_t id) {
  size_t lo = 0, hi = sel->n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (sel->r[mid].hi < id)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < sel->n && sel->r[lo].lo <= id ? lo : SIZE_MAX;
}

bool sim_trace_sel_has(const sim_trace_sel *sel, uint64_t id) {
  return sel->all || range_of(sel, id) != SIZE_MAX;
}

uint64_t sim_trace_sel_count(const sim_trace_sel *sel, uint64_t n) {
  uint64_t c = 0;
  if (sel->all)
    return n;
  for (size_t i = 0; i < sel->n && sel->r[i].lo < n; i++)
    c += (sel->r[i].hi < n ? sel->r[i].hi : n - 1) - sel->r[i].lo + 1;
  return c;
}

int sim_trace_sel_check(const sim_trace_sel *sel, uint64_t n, char *err, size_t errlen) {
  if (sel->all || sel->n == 0 || sel->r[sel->n - 1].hi < n)
    return 0;
  return sim_fail(err, errlen, DHT_EINVAL, "--trace: lookup %" PRIu64 " does not exist: a run has %" PRIu64
                  " lookups (ids 0 to %" PRIu64 ")", sel->r[sel->n - 1].hi, n, n ? n - 1 : 0);
}

int sim_trace_sel_plan(const sim_trace_sel *sel, const sim_scenario *sc, uint64_t lookups, uint64_t file_lookups,
                       char *err, size_t errlen) {
  uint64_t points = sim_scenario_point_count(sc), total = 0;
  for (uint64_t p = 0; p < points; p++) {
    sim_scenario pt;
    int rc = sim_scenario_point(sc, p, &pt, err, errlen);
    if (rc < 0)
      return rc;
    /* As sim_run counts them: the file's, else --lookups, else the point's. */
    uint64_t n = pt.workload.lookups_file != NULL ? file_lookups : lookups > 0 ? lookups : pt.workload.lookups;
    if ((rc = sim_trace_sel_check(sel, n, err, errlen)) < 0)
      return rc;
    total += sim_trace_sel_count(sel, n) * sc->replicas;
    if (total > SIM_TRACE_MAX_LOOKUPS)
      return sim_fail(err, errlen, DHT_EINVAL,
                      "--trace: %s selects more than %u lookups over the runs (%" PRIu64 " points x %" PRIu32
                      " replicas): select fewer",
                      sel->all ? "all" : "IDS", SIM_TRACE_MAX_LOOKUPS, points, sc->replicas);
  }
  return 0;
}

/* The rank of a selected id among the selected ids (its record's index). O(1). */
static uint64_t rank_of(const sim_trace_sel *sel, uint64_t id, size_t range) {
  return sel->all ? id : sel->before[range] + id - sel->r[range].lo;
}

/* ---- lines ---- */

int sim_trace_log2_distance(const dht_id *a, const dht_id *b) {
  return DHT_ID_BITS - 1 - (int)dht_id_common_prefix(a, b);
}

/* s as a JSON string into out (room: 6 bytes a character + 3). */
static size_t json_string(char *out, const char *s) {
  size_t n = 0;
  out[n++] = '"';
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\') {
      out[n++] = '\\';
      out[n++] = (char)*p;
    } else if (*p < 0x20) {
      n += (size_t)snprintf(out + n, 7, "\\u%04x", *p);
    } else {
      out[n++] = (char)*p;
    }
  }
  out[n++] = '"';
  out[n] = '\0';
  return n;
}

size_t sim_trace_format(char *out, uint64_t point, uint32_t replica, uint64_t lookup, uint64_t t_us, const char *event,
                        int64_t node, int log2_distance, unsigned in_flight, const char *extra) {
  char ev[64 * 6 + 3], nd[48];
  char evname[64];
  g_strlcpy(evname, event, sizeof evname); /* names are short identifiers */
  json_string(ev, evname);
  if (node < 0)
    snprintf(nd, sizeof nd, "null,\"log2_distance\":null");
  else
    snprintf(nd, sizeof nd, "%" PRId64 ",\"log2_distance\":%d", node, log2_distance);
  /* t_ms as lookups.csv writes its times (%.3f of µs / 1000): equal text for equal times. */
  int n = snprintf(out, SIM_TRACE_LINE_MAX,
                   "{\"point\":%" PRIu64 ",\"replica\":%" PRIu32 ",\"lookup\":%" PRIu64 ",\"t_ms\":%.3f,\"event\":%s,"
                   "\"node\":%s,\"in_flight\":%u%s}\n",
                   point, replica, lookup, (double)t_us / 1e3, ev, nd, in_flight, extra);
  g_assert(n > 0 && n < SIM_TRACE_LINE_MAX);
  return (size_t)n;
}

void sim_trace_init(sim_trace *t, const sim_trace_sel *sel, uint64_t point, uint32_t replica, uint64_t *shared_bytes,
                    uint64_t max_bytes) {
  memset(t, 0, sizeof *t);
  t->sel = sel;
  t->point = point;
  t->replica = replica;
  t->shared_bytes = shared_bytes;
  t->max_bytes = max_bytes;
}

void sim_trace_clear(sim_trace *t) {
  g_free(t->lk);
  g_free(t->buf);
  memset(t, 0, sizeof *t);
}

int sim_trace_bind(sim_trace *t, const sim_network *net, uint64_t n_lookups) {
  uint64_t n = sim_trace_sel_count(t->sel, n_lookups);
  t->net = net;
  g_free(t->lk);
  t->n_lk = 0;
  /* At most SIM_TRACE_MAX_LOOKUPS (checked before the run, main.c); a bound here too. */
  if (n > SIM_TRACE_MAX_LOOKUPS) {
    t->error = DHT_ETOOBIG;
    t->lk = NULL;
    return DHT_ETOOBIG;
  }
  t->lk = g_try_new0(sim_trace_lookup, n + 1);
  if (t->lk == NULL)
    return t->error = DHT_ENOMEM;
  t->n_lk = (size_t)n;
  return 0;
}

int sim_trace_error(const sim_trace *t, char *err, size_t errlen) {
  if (t->error == DHT_ETOOBIG)
    return sim_fail(err, errlen, DHT_ETOOBIG,
                    "--trace: the trace would exceed %" PRIu64 " bytes (trace.jsonl's cap) or %u lookups: trace fewer "
                    "lookups; nothing written as trace.jsonl",
                    t->max_bytes, SIM_TRACE_MAX_LOOKUPS);
  if (t->error < 0)
    return sim_fail(err, errlen, t->error, "--trace: out of memory for the trace");
  return 0;
}

/* Appends one line; past the cap (all runs together) nothing more is kept
 * and the trace has failed. */
static void emit(sim_trace *t, const char *line, size_t n) {
  if (t->error != 0)
    return;
  if (t->shared_bytes != NULL && __atomic_add_fetch(t->shared_bytes, (uint64_t)n, __ATOMIC_RELAXED) > t->max_bytes) {
    t->error = DHT_ETOOBIG;
    return;
  }
  if (t->len + n > t->cap) {
    size_t cap = t->cap ? t->cap : 4096;
    while (cap < t->len + n)
      cap *= 2;
    char *nb = g_try_realloc(t->buf, cap);
    if (nb == NULL) {
      t->error = DHT_ENOMEM;
      return;
    }
    t->buf = nb;
    t->cap = cap;
  }
  memcpy(t->buf + t->len, line, n);
  t->len += n;
}

/* A line of tl's lookup at now_us about node (< 0: none). */
static void line(sim_trace_lookup *tl, uint64_t now_us, const char *event, int64_t node, unsigned in_flight,
                 const char *extra) {
  sim_trace *t = tl->t;
  char buf[SIM_TRACE_LINE_MAX];
  int d = node >= 0 ? sim_trace_log2_distance(&t->net->ids[node], &tl->target) : 0;
  size_t n = sim_trace_format(buf, t->point, t->replica, tl->id, now_us - tl->start_us, event, node, d, in_flight,
                              extra);
  emit(t, buf, n);
}

sim_trace_lookup *sim_trace_begin(sim_trace *t, uint64_t id, uint64_t now_us, const dht_id *target) {
  size_t range;
  uint64_t rank;
  if (t == NULL || t->lk == NULL)
    return NULL;
  if (!t->sel->all) {
    range = range_of(t->sel, id);
    if (range == SIZE_MAX)
      return NULL;
  } else {
    range = 0;
  }
  rank = rank_of(t->sel, id, range);
  if (rank >= t->n_lk)
    return NULL;
  sim_trace_lookup *tl = &t->lk[rank];
  *tl = (sim_trace_lookup){.t = t, .id = id, .start_us = now_us, .target = *target, .begun = true, .failed_node = -1};
  return tl;
}

sim_trace_lookup *sim_trace_find(sim_trace *t, uint64_t id) {
  size_t range = 0;
  if (t == NULL || t->lk == NULL)
    return NULL;
  if (!t->sel->all && (range = range_of(t->sel, id)) == SIZE_MAX)
    return NULL;
  uint64_t rank = rank_of(t->sel, id, range);
  return rank < t->n_lk && t->lk[rank].begun ? &t->lk[rank] : NULL;
}

void sim_trace_observe(void *user, const dht_lookup_event *ev) {
  sim_trace_lookup *tl = user;
  int64_t node = -1;
  char extra[64];
  if (ev->node != NULL) {
    uint32_t idx;
    /* Every node a lookup hears of is one of the network's. */
    if (sim_network_find_addr(tl->t->net, &ev->node->addr, &idx) == 0)
      node = idx;
  }
  if (ev->note == DHT_NOTE_FAILED) {
    tl->failed_node = node; /* written by sim_trace_timeout once the tick is over */
    return;
  }
  if (ev->note == DHT_NOTE_EVICT && tl->failed_node == node && node >= 0) {
    tl->evict_pending = true; /* the failure's consequence: after its timeout line */
    return;
  }
  snprintf(extra, sizeof extra, ",\"decision\":\"%s\"", dht_lookup_note_name(ev->note));
  line(tl, ev->now_us, "decision", node, ev->in_flight, extra);
}

void sim_trace_query(sim_trace_lookup *tl, uint64_t now_us, uint32_t node, unsigned in_flight, uint64_t batch) {
  char extra[48];
  snprintf(extra, sizeof extra, ",\"batch\":%" PRIu64, batch);
  line(tl, now_us, "query", node, in_flight, extra);
}

void sim_trace_answer(sim_trace_lookup *tl, uint64_t now_us, uint32_t node, unsigned in_flight, size_t n_nodes,
                      bool peers, bool changed) {
  char extra[96];
  snprintf(extra, sizeof extra, ",\"nodes\":%zu,\"peers\":%s,\"changed\":%s", n_nodes, peers ? "true" : "false",
           changed ? "true" : "false");
  line(tl, now_us, "answer", node, in_flight, extra);
}

void sim_trace_timeout(sim_trace_lookup *tl, uint64_t now_us, unsigned in_flight, bool changed) {
  line(tl, now_us, "timeout", tl->failed_node, in_flight, changed ? ",\"changed\":true" : ",\"changed\":false");
  if (tl->evict_pending)
    line(tl, now_us, "decision", tl->failed_node, in_flight, ",\"decision\":\"evict\"");
  tl->failed_node = -1;
  tl->evict_pending = false;
}

void sim_trace_late(sim_trace_lookup *tl, uint64_t now_us, uint32_t node, unsigned in_flight) {
  line(tl, now_us, "late", node, in_flight, "");
}

void sim_trace_failed(sim_trace_lookup *tl, uint64_t now_us, uint32_t node, unsigned in_flight, const char *cause) {
  char extra[64];
  snprintf(extra, sizeof extra, ",\"cause\":\"%s\"", cause);
  line(tl, now_us, "failed", node, in_flight, extra);
}

void sim_trace_done(sim_trace_lookup *tl, uint64_t now_us, unsigned in_flight) {
  line(tl, now_us, "decision", -1, in_flight, ",\"decision\":\"done\"");
}
