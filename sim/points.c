/* points.c: the sweep's expansion: how many points a scenario has, each
 * point as a checked scenario, its label, its runs' seeds and its shard. The
 * point functions only read the base scenario: they may run concurrently. */
#include <glib.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "message.h"
#include "rng.h"
#include "scenario.h"
#include "text.h"

static uint64_t sat_mul(uint64_t a, uint64_t b) { return b != 0 && a > UINT64_MAX / b ? UINT64_MAX : a * b; }

uint64_t sim_scenario_point_count(const sim_scenario *sc) {
  if (sc == NULL)
    return 1;
  uint64_t n = 1;
  for (size_t i = 0; sc->sweep != NULL && i < sc->n_sweep; i++)
    n = sat_mul(n, sc->sweep[i].n);
  return n == 0 ? 1 : n;
}

bool sim_scenario_point_selected(uint64_t p, uint32_t shard_index, uint32_t shard_count) {
  return shard_count <= 1 || p % shard_count == shard_index;
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
    sim_fail(err, errlen, 0,
             "%s: point %" G_GUINT64_FORMAT ": out of range (the scenario has %" G_GUINT64_FORMAT " point%s)", path,
             index, count, count == 1 ? "" : "s");
    return DHT_ERANGE;
  }
  char *label = point_label_dup(base, index);
  size_t *digit = g_try_new0(size_t, base->n_sweep ? base->n_sweep : 1);
  sim__check *ck = g_try_new0(sim__check, 1);
  char *prefix = label ? g_strdup_printf("point %" G_GUINT64_FORMAT "%s%s%s", index, label[0] ? " (" : "", label,
                                         label[0] ? ")" : "")
                       : NULL;
  sim_scenario pt;
  int rc = DHT_OK;
  if (label == NULL || digit == NULL || ck == NULL || prefix == NULL) {
    sim_fail(err, errlen, 0, "%s: out of memory", path);
    rc = DHT_ENOMEM;
    goto done;
  }
  ck->path = path;
  ck->err = err;
  ck->errlen = errlen;
  ck->point = prefix;
  pt = *base;
  pt.sweep = NULL;
  pt.n_sweep = 0;
  point_digits(base, index, digit);
  for (size_t i = 0; i < base->n_sweep && rc == DHT_OK; i++) {
    const sim_sweep_axis *a = &base->sweep[i];
    const char *v = a->values[digit[i]];
    int f = sim_param_find(a->key, strlen(a->key));
    char want[256];
    if (f < 0 || !(sim_params[f].flags & SIM_PARAM_SWEEP)) {
      rc = sim_fail(err, errlen, DHT_EINVAL, "%s: %s: sweep: unknown parameter '%s'", path, prefix, a->key);
      break;
    }
    ck->swept[f] = true;
    /* Sweepable parameters own no strings: pt shares none with base through them. */
    rc = sim_param_set((sim_param_id)f, v, strlen(v), true, NULL, &pt, want, sizeof want);
    if (rc == DHT_EINVAL) {
      char shown[SIM_SHOW_SIZE];
      sim_show(shown, sizeof shown, v, strlen(v));
      sim_fail(err, errlen, 0, "%s: %s: %s: expected %s, got '%s'", path, prefix, a->key, want, shown);
    } else if (rc < 0) {
      sim_fail(err, errlen, 0, "%s: out of memory", path);
    }
  }
  if (rc == DHT_OK)
    rc = sim__scenario_check(ck, &pt);
  if (rc == DHT_OK)
    *out = pt;

done:
  g_free(ck);
  g_free(prefix);
  g_free(digit);
  g_free(label);
  return rc;
}

static int axis_cmp(const void *a, const void *b) {
  const sim_sweep_axis *x = *(const sim_sweep_axis *const *)a, *y = *(const sim_sweep_axis *const *)b;
  return strcmp(x->key, y->key);
}

/* The seed of run (point, replica): sc->seed itself for the only point of a
 * scenario without sweep, replica 0. Otherwise
 *   dht_seed_derive(dht_seed_derive(sc->seed, FNV-1a-64(assignments)), replica)
 * where assignments is "key=value" per axis sorted by key, joined by "\n", each
 * value in canonical form (sim_param_canon). Nothing depends on the point's
 * index, the axes' order or the other points and replicas. */
uint64_t sim_scenario_run_seed(const sim_scenario *sc, uint64_t index, uint32_t replica) {
  if (sc == NULL)
    return 0;
  if (sc->n_sweep == 0 || sc->sweep == NULL) {
    if (replica == 0)
      return sc->seed;
    return dht_seed_derive(dht_seed_derive(sc->seed, SIM_FNV1A64_INIT), replica);
  }
  const sim_sweep_axis *stack_sorted[16];
  size_t stack_digit[16];
  bool small = sc->n_sweep <= 16;
  const sim_sweep_axis **sorted = small ? stack_sorted : g_try_new(const sim_sweep_axis *, sc->n_sweep);
  size_t *digit = small ? stack_digit : g_try_new0(size_t, sc->n_sweep);
  uint64_t h = SIM_FNV1A64_INIT;
  if (sorted == NULL || digit == NULL) {
    /* Out of memory with more than 16 axes: the seed cannot be derived. A
     * fixed value keeps the call total; sim_sweep_run fails on the same
     * shortage before it asks. */
    if (!small) {
      g_free(sorted);
      g_free(digit);
    }
    return dht_seed_derive(sc->seed, UINT64_MAX);
  }
  for (size_t i = 0; i < sc->n_sweep; i++)
    sorted[i] = &sc->sweep[i];
  qsort(sorted, sc->n_sweep, sizeof *sorted, axis_cmp);
  point_digits(sc, index % sim_scenario_point_count(sc), digit);
  for (size_t i = 0; i < sc->n_sweep; i++) {
    const sim_sweep_axis *a = sorted[i];
    size_t ai = (size_t)(a - sc->sweep);
    const char *text = a->values[digit[ai]];
    char canon[64];
    int f = sim_param_find(a->key, strlen(a->key));
    sim_scenario v;
    sim_scenario_defaults(&v);
    bool parsed = f >= 0 && (sim_params[f].flags & SIM_PARAM_SWEEP) &&
                  sim_param_set((sim_param_id)f, text, strlen(text), true, NULL, &v, NULL, 0) == DHT_OK;
    if (parsed)
      sim_param_canon((sim_param_id)f, &v, canon, sizeof canon);
    if (i > 0)
      h = sim_fnv1a64(h, "\n", 1);
    h = sim_fnv1a64(h, a->key, strlen(a->key));
    h = sim_fnv1a64(h, "=", 1);
    /* Not a parsed sweep: hash the text as written. */
    h = parsed ? sim_fnv1a64(h, canon, strlen(canon)) : sim_fnv1a64(h, text, strlen(text));
  }
  if (!small) {
    g_free(digit);
    g_free(sorted);
  }
  return dht_seed_derive(dht_seed_derive(sc->seed, h), replica);
}
