/* latency.c: the scenario's one-way delay models, and the reader of the RTT
 * matrix files of latency.model: matrix (docs/latency.md). */
#include "latency.h"

#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "budget.h"
#include "error.h"
#include "infile.h"
#include "message.h"
#include "text.h"

/* Standard normal deviate by the Marsaglia polar method (log and sqrt only). */
static double normal(dht_rng *r) {
  for (;;) {
    double u = 2.0 * dht_rng_double(r) - 1.0, v = 2.0 * dht_rng_double(r) - 1.0;
    double s = u * u + v * v;
    if (s > 0.0 && s < 1.0)
      return u * sqrt(-2.0 * log(s) / s);
  }
}

/* ---- the pair models ---- */

/* A uniform double in [0, 1) from 53 bits. */
static double unit(uint64_t x) { return (double)(x >> 11) * 0x1p-53; }

void sim_latency_point(const sim_latency *lat, uint32_t i, double *x, double *y, double *h) {
  /* Node i's own sequence, a pure function of (seed, i): no state per node. */
  uint64_t s = dht_seed_derive(lat->seed, i);
  double u, v, radius = (double)lat->sc->latency.coord_scale_us;
  /* Uniform on the disk by rejection from the square (pi/4 accepted; no sin
   * or cos, whose last bit may differ between C libraries). */
  do {
    u = 2.0 * unit(dht_splitmix64(&s)) - 1.0;
    v = 2.0 * unit(dht_splitmix64(&s)) - 1.0;
  } while (u * u + v * v > 1.0);
  *x = u * radius;
  *y = v * radius;
  /* Exponential access delay (the Vivaldi height): 1 - unit is in (0, 1]. */
  *h = -(double)lat->sc->latency.access_us * log(1.0 - unit(dht_splitmix64(&s)));
}

uint32_t sim_latency_host(const sim_latency *lat, uint32_t i) {
  /* Modulo bias at most m / 2^64. */
  return (uint32_t)(dht_seed_derive(lat->seed, i) % lat->mx.m);
}

double sim_latency_rtt_us(const sim_latency *lat, uint32_t from, uint32_t to) {
  switch (lat->sc->latency.model) {
  case SIM_LATENCY_COORDINATES: {
    double xa, ya, ha, xb, yb, hb;
    sim_latency_point(lat, from, &xa, &ya, &ha);
    sim_latency_point(lat, to, &xb, &yb, &hb);
    /* Every operation commutes exactly: the same bits for (a, b) and (b, a). */
    return sqrt((xa - xb) * (xa - xb) + (ya - yb) * (ya - yb)) + (ha + hb);
  }
  case SIM_LATENCY_MATRIX: {
    uint32_t a = sim_latency_host(lat, from), b = sim_latency_host(lat, to);
    float ms = a == b ? lat->mx.near_ms[a] : lat->mx.rtt_ms[(size_t)a * lat->mx.m + b];
    return (double)ms * 1000.0;
  }
  default:
    return 0.0;
  }
}

double sim_latency_draw_us(const sim_latency *lat, dht_rng *r, uint32_t from, uint32_t to, bool slow) {
  const sim_scenario *sc = lat->sc;
  double us;
  switch (sc->latency.model) {
  case SIM_LATENCY_UNIFORM:
    us = (double)(sc->latency.min_us + dht_rng_below(r, sc->latency.max_us - sc->latency.min_us + 1));
    break;
  case SIM_LATENCY_LOGNORMAL:
    us = (double)sc->latency.median_us * exp(sc->latency.sigma * normal(r));
    break;
  case SIM_LATENCY_COORDINATES:
  case SIM_LATENCY_MATRIX:
    us = sim_latency_rtt_us(lat, from, to) / 2.0;
    if (sc->latency.jitter_us > 0) /* no draw otherwise: the message stream stays as it was */
      us += (double)dht_rng_below(r, sc->latency.jitter_us + 1);
    break;
  case SIM_LATENCY_CONSTANT:
  default:
    us = (double)sc->latency.delay_us;
    break;
  }
  if (slow)
    us *= sc->latency.slow_multiplier;
  return us;
}

int sim_latency_init(sim_latency *lat, const sim_scenario *sc, uint64_t seed, char *err, size_t errlen) {
  memset(lat, 0, sizeof *lat);
  lat->sc = sc;
  lat->seed = seed;
  if (sc->latency.model != SIM_LATENCY_MATRIX)
    return 0;
  if (sc->latency.matrix == NULL) /* the scenario's check refuses it; a scenario built in code may not */
    return sim_fail(err, errlen, DHT_EINVAL, "%s: latency.model: matrix needs latency.matrix", sc->path);
  return sim_matrix_load(&lat->mx, sc->latency.matrix, err, errlen);
}

void sim_latency_clear(sim_latency *lat) {
  sim_matrix_clear(&lat->mx);
  memset(lat, 0, sizeof *lat);
}

/* ---- the matrix file ---- */

void sim_matrix_clear(sim_matrix *mx) {
  g_free(mx->rtt_ms);
  g_free(mx->near_ms);
  memset(mx, 0, sizeof *mx);
}

#define UNKNOWN (-1.0f)

/* The reader: a byte at a time, counting lines and columns (1-based). */
typedef struct mreader {
  FILE *f;
  const char *path;
  uint64_t line, col; /* of the next byte */
  char *err;
  size_t errlen;
} mreader;

static int mgetc(mreader *rd) {
  int c = getc(rd->f);
  if (c == '\n') {
    rd->line++;
    rd->col = 1;
  } else if (c != EOF) {
    rd->col++;
  }
  return c;
}

static int fail_at(mreader *rd, int rc, uint64_t line, uint64_t col, const char *fmt, ...) G_GNUC_PRINTF(5, 6);
static int fail_at(mreader *rd, int rc, uint64_t line, uint64_t col, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  g_vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return sim_fail(rd->err, rd->errlen, rc, "%s:%" PRIu64 ":%" PRIu64 ": %s", rd->path, line, col, msg);
}

/* One token's value: a plain decimal number >= 0 (no sign, hex, inf or nan;
 * an exponent is allowed), at most an hour of ms, or exactly -1. */
static bool token_value(const char *t, size_t n, float *out) {
  char *end = NULL;
  double v;
  bool digit = false;
  if (n == 2 && t[0] == '-' && t[1] == '1') {
    *out = UNKNOWN;
    return true;
  }
  for (size_t i = 0; i < n; i++) {
    if (t[i] >= '0' && t[i] <= '9')
      digit = true;
    else if (t[i] != '.' && t[i] != 'e' && t[i] != 'E' && !(i > 0 && (t[i] == '+' || t[i] == '-')))
      return false;
  }
  if (!digit)
    return false;
  errno = 0;
  v = strtod(t, &end);
  if (end != t + n || !isfinite(v) || v < 0.0 || v > SIM_MS_MAX)
    return false;
  *out = (float)v;
  return true;
}

/* Reads the next token of the current row into tok (NUL-terminated).
 * Returns 1 with the token and its position, 0 at the end of the row (a line
 * end, a comment's line end, or EOF: *eof), or a negative code. */
static int next_token(mreader *rd, char tok[SIM_MATRIX_NUMBER_MAX + 1], size_t *n, uint64_t *line, uint64_t *col,
                      bool *eof) {
  int c;
  *eof = false;
  for (;;) {
    c = mgetc(rd);
    if (c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f')
      continue;
    if (c == '#') {
      while ((c = mgetc(rd)) != '\n' && c != EOF) {
      }
    }
    if (c == '\n')
      return 0;
    if (c == EOF) {
      *eof = true;
      return ferror(rd->f) ? sim_fail(rd->err, rd->errlen, DHT_EIO, "%s: cannot read: %s", rd->path, g_strerror(errno))
                           : 0;
    }
    break;
  }
  *line = rd->line;
  *col = rd->col - 1;
  *n = 0;
  for (;;) {
    if (*n == SIM_MATRIX_NUMBER_MAX) {
      char shown[SIM_SHOW_SIZE];
      sim_show(shown, sizeof shown, tok, *n);
      return fail_at(rd, DHT_EINVAL, *line, *col, "expected an RTT in ms of at most %u characters, got '%s...'",
                     SIM_MATRIX_NUMBER_MAX, shown);
    }
    tok[(*n)++] = (char)c;
    c = getc(rd->f);
    if (c == EOF || c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' || c == '\n' || c == '#') {
      if (c != EOF)
        ungetc(c, rd->f);
      break;
    }
    rd->col++;
  }
  tok[*n] = '\0';
  return 1;
}

static int cmp_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

/* Fills the unknown off-diagonal entries (the symmetric entry when the file
 * knows it, else the median of the entries the file knows), zeroes the
 * diagonal and computes near_ms. */
static int fill_unknown(mreader *rd, sim_matrix *mx) {
  uint32_t m = mx->m;
  float *rtt = mx->rtt_ms, median = 0.0f;
  uint64_t known = 0, unknown = 0;
  for (uint32_t i = 0; i < m; i++)
    for (uint32_t j = 0; j < m; j++)
      if (i != j) {
        known += rtt[(size_t)i * m + j] != UNKNOWN;
        unknown += rtt[(size_t)i * m + j] == UNKNOWN;
      }
  if (unknown > 0) {
    float *all;
    size_t k = 0;
    if (known == 0)
      return sim_fail(rd->err, rd->errlen, DHT_EINVAL,
                      "%s: every off-diagonal entry is -1 (unknown): expected at least one known RTT", rd->path);
    all = g_try_new(float, known);
    if (all == NULL)
      return sim_fail(rd->err, rd->errlen, DHT_ENOMEM, "%s: out of memory filling the unknown entries", rd->path);
    for (uint32_t i = 0; i < m; i++)
      for (uint32_t j = 0; j < m; j++)
        if (i != j && rtt[(size_t)i * m + j] != UNKNOWN)
          all[k++] = rtt[(size_t)i * m + j];
    qsort(all, k, sizeof *all, cmp_float);
    median = k % 2 ? all[k / 2] : (all[k / 2 - 1] + all[k / 2]) / 2.0f;
    g_free(all);
    /* In place: an entry (i, j) filled before (j, i) is read was unknown, so
     * (j, i) was unknown too and both take the median either way. */
    for (uint32_t i = 0; i < m; i++)
      for (uint32_t j = 0; j < m; j++) {
        float *e = &rtt[(size_t)i * m + j], sym = rtt[(size_t)j * m + i];
        if (i != j && *e == UNKNOWN)
          *e = sym != UNKNOWN ? sym : median;
      }
  }
  mx->filled = unknown;
  for (uint32_t i = 0; i < m; i++) {
    float best = INFINITY;
    rtt[(size_t)i * m + i] = 0.0f;
    for (uint32_t j = 0; j < m; j++)
      if (j != i && rtt[(size_t)i * m + j] < best)
        best = rtt[(size_t)i * m + j];
    mx->near_ms[i] = best;
  }
  return 0;
}

int sim_matrix_load(sim_matrix *mx, const char *path, char *err, size_t errlen) {
  mreader rd = {NULL, path, 1, 1, err, errlen};
  char tok[SIM_MATRIX_NUMBER_MAX + 1], shown[SIM_SHOW_SIZE];
  float *first = NULL;
  uint32_t m = 0, row = 0, n_row = 0;
  uint64_t tl = 0, tc = 0, limit;
  size_t n = 0;
  bool eof = false, from_env;
  int rc;

  memset(mx, 0, sizeof *mx);
  if ((rc = sim_memory_limit(&limit, &from_env, shown, sizeof shown)) < 0)
    return sim_fail(err, errlen, rc, "%s: %s", path, shown);
  if ((rc = sim_infile_open(path, &rd.f, err, errlen)) < 0)
    return rc;
  first = g_try_new(float, SIM_MATRIX_HOSTS_MAX);
  if (first == NULL) {
    rc = sim_fail(err, errlen, DHT_ENOMEM, "%s: out of memory", path);
    goto out;
  }
  while (!eof) {
    uint64_t row_line = rd.line;
    if (sim_infile_stopped()) {
      rc = sim_infile_stopped_fail(path, err, errlen);
      goto out;
    }
    n_row = 0;
    while ((rc = next_token(&rd, tok, &n, &tl, &tc, &eof)) > 0) {
      float v;
      if (!token_value(tok, n, &v)) {
        sim_show(shown, sizeof shown, tok, n);
        rc = fail_at(&rd, DHT_EINVAL, tl, tc, "expected an RTT in ms (a number from 0 to 3600000) or -1 (unknown), got '%s'",
                     shown);
        goto out;
      }
      if (m == 0) { /* the first row: its length is M */
        if (n_row == SIM_MATRIX_HOSTS_MAX) {
          rc = fail_at(&rd, DHT_ETOOBIG, tl, tc,
                       "the first row has more than %u entries: at most %u hosts (a %u x %u matrix of floats takes 64 MiB)",
                       SIM_MATRIX_HOSTS_MAX, SIM_MATRIX_HOSTS_MAX, SIM_MATRIX_HOSTS_MAX, SIM_MATRIX_HOSTS_MAX);
          goto out;
        }
        first[n_row++] = v;
        continue;
      }
      if (n_row == m) {
        rc = fail_at(&rd, DHT_EINVAL, tl, tc, "row %" PRIu32 " has more than %" PRIu32
                     " entries: expected %" PRIu32 ", as the first row (a square matrix)", row + 1, m, m);
        goto out;
      }
      if (row == m) {
        rc = fail_at(&rd, DHT_EINVAL, tl, tc,
                     "expected the end of the matrix after %" PRIu32 " rows (the first row has %" PRIu32
                     " entries: a square matrix), got another row",
                     m, m);
        goto out;
      }
      mx->rtt_ms[(size_t)row * m + n_row++] = v;
    }
    if (rc < 0)
      goto out;
    if (n_row == 0) /* a blank or comment line */
      continue;
    if (m == 0) {
      uint64_t bytes = (uint64_t)n_row * n_row * sizeof(float) + (uint64_t)n_row * sizeof(float);
      if (n_row < 2) {
        rc = fail_at(&rd, DHT_EINVAL, row_line, 1, "expected a row of at least 2 RTTs (a matrix of 2 hosts or more), got 1");
        goto out;
      }
      if (bytes > limit) {
        char over[256];
        sim_memory_over(over, sizeof over, bytes, false, limit, from_env);
        rc = sim_fail(err, errlen, DHT_ETOOBIG, "%s: a matrix of %" PRIu32 " hosts would %s", path, n_row, over);
        goto out;
      }
      m = mx->m = n_row;
      mx->rtt_ms = g_try_new(float, (size_t)m * m);
      mx->near_ms = g_try_new(float, m);
      if (mx->rtt_ms == NULL || mx->near_ms == NULL) {
        rc = sim_fail(err, errlen, DHT_ENOMEM, "%s: out of memory for a matrix of %" PRIu32 " hosts", path, m);
        goto out;
      }
      memcpy(mx->rtt_ms, first, m * sizeof *first);
      row = 1;
      continue;
    }
    if (n_row < m) {
      rc = fail_at(&rd, DHT_EINVAL, tl, tc + n, "row %" PRIu32 " has %" PRIu32 " entries: expected %" PRIu32
                   ", as the first row (a square matrix)", row + 1, n_row, m);
      goto out;
    }
    row++;
  }
  if (m == 0) {
    rc = sim_fail(err, errlen, DHT_EINVAL, "%s: expected a square matrix of RTTs in ms, got no rows", path);
    goto out;
  }
  if (row < m) {
    rc = fail_at(&rd, DHT_EINVAL, rd.line, rd.col, "expected %" PRIu32 " rows (the first row has %" PRIu32
                 " entries: a square matrix), got %" PRIu32, m, m, row);
    goto out;
  }
  rc = fill_unknown(&rd, mx);
out:
  g_free(first);
  fclose(rd.f);
  if (rc < 0)
    sim_matrix_clear(mx);
  return rc < 0 ? rc : 0;
}
