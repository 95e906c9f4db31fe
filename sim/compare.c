/* compare.c: `dhtsim compare` (see compare.h and docs/regression.md).
 *
 * Which test, and why:
 *   means   Welch's t on the per-lookup values. Given the network, the
 *           lookups of a run are independent draws (random start node and
 *           target), and with a few hundred of them the mean is close to
 *           normal even for the skewed time_ms, so t is accurate, exact to
 *           compute and free: no resampling noise in the verdict. Welch and
 *           not Student because a change (alpha, loss) changes the spread too.
 *   p95/p99 a percentile bootstrap over the lookups: a tail quantile has no
 *           usable closed-form standard error (it depends on the density at
 *           the quantile, which is what we do not know), and the bootstrap
 *           handles the integer-valued figures (queries, rounds), whose
 *           quantiles move in steps, without pretending they are normal.
 * What one replica cannot show: the network is one random draw per replica,
 * and the variance between networks is not in a per-lookup interval (nor in
 * the tails' bootstrap, which resamples lookups). The false-alarm
 * rate this leaves is measured (tests/test_compare.c, docs/regression.md).
 * Every comparison's p-value goes through Holm–Bonferroni, so --alpha bounds
 * the chance of any false "better" or "worse" in the whole report, as far as
 * each row's test is valid. */
#include "compare.h"

#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "outfile.h"
#include "rng.h"
#include "stats.h"
#include "text.h"

enum { EXIT_OK = 0, EXIT_REGRESSED = 1, EXIT_USAGE = 2 };

const sim_cmp_figure sim_cmp_figures[SIM_CMP_FIG_COUNT] = {
#define SIM_CMP_ROW_(ID, name, column, worse, kind) {name, column, SIM_CMP_##worse, SIM_CMP_##kind},
    SIM_CMP_FIGURE_MAP(SIM_CMP_ROW_)
#undef SIM_CMP_ROW_
};

static const char *const stat_suffix[SIM_CMP_STAT_COUNT] = {"_mean", "_p95", "_p99"};
static const unsigned stat_pct[SIM_CMP_STAT_COUNT] = {0, 95, 99};

/* Seed of the bootstrap streams; each comparison derives its own from the
 * point's label and the row name, so a row's interval does not depend on
 * which other rows or points are compared. */
#define CMP_BOOTSTRAP_SEED 0x64687473696d4350ULL

/* ---- statistics ---- */

/* Continued fraction of the incomplete beta (modified Lentz), converging
 * for x < (a + 1) / (a + b + 2). */
static double betacf(double a, double b, double x) {
  const double tiny = 1e-300, eps = 1e-15;
  double c = 1.0, d = 1.0 - (a + b) * x / (a + 1.0), h;
  if (fabs(d) < tiny)
    d = tiny;
  d = 1.0 / d;
  h = d;
  for (int m = 1; m <= 1000; m++) {
    double m2 = 2.0 * m, aa = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2)), del;
    d = 1.0 + aa * d;
    d = fabs(d) < tiny ? tiny : d;
    c = 1.0 + aa / c;
    c = fabs(c) < tiny ? tiny : c;
    d = 1.0 / d;
    h *= d * c;
    aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));
    d = 1.0 + aa * d;
    d = fabs(d) < tiny ? tiny : d;
    c = 1.0 + aa / c;
    c = fabs(c) < tiny ? tiny : c;
    d = 1.0 / d;
    del = d * c;
    h *= del;
    if (fabs(del - 1.0) < eps)
      break;
  }
  return h;
}

double sim_ibeta(double a, double b, double x) {
  double front;
  if (x <= 0.0)
    return 0.0;
  if (x >= 1.0)
    return 1.0;
  front = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x));
  if (x < (a + 1.0) / (a + b + 2.0))
    return front * betacf(a, b, x) / a;
  return 1.0 - front * betacf(b, a, 1.0 - x) / b;
}

double sim_t_p2(double t, double df) {
  if (!isfinite(t))
    return 0.0;
  return sim_ibeta(df / 2.0, 0.5, df / (df + t * t));
}

double sim_t_quantile(double p, double df) {
  double lo = 0.0, hi = 1.0, q = p < 0.5 ? 1.0 - p : p;
  /* P(T <= t) = 1 - p2(t) / 2 for t >= 0: find t with p2(t) = 2 (1 - q). */
  double want = 2.0 * (1.0 - q);
  while (sim_t_p2(hi, df) > want && hi < 1e12)
    hi *= 2.0;
  for (int i = 0; i < 200; i++) {
    double mid = 0.5 * (lo + hi);
    if (sim_t_p2(mid, df) > want)
      lo = mid;
    else
      hi = mid;
  }
  return p < 0.5 ? -0.5 * (lo + hi) : 0.5 * (lo + hi);
}

void sim_welch(uint64_t nb, double mb, double vb, uint64_t nn, double mn, double vn, double alpha,
               sim_cmp_test *out) {
  sim_welch_se2(mb, nb ? vb / (double)nb : 0.0, nb ? (double)nb - 1.0 : 0.0, mn, nn ? vn / (double)nn : 0.0,
                nn ? (double)nn - 1.0 : 0.0, alpha, out);
}

void sim_welch_se2(double mb, double sb, double dfb, double mn, double sn, double dfn, double alpha,
                   sim_cmp_test *out) {
  double se, df, t;
  memset(out, 0, sizeof *out);
  out->diff = mn - mb;
  out->lo = out->hi = NAN;
  out->p = 1.0;
  if (!(dfb > 0.0) || !(dfn > 0.0))
    return;
  out->tested = true;
  se = sqrt(sb + sn);
  if (se == 0.0) {
    out->lo = out->hi = out->diff;
    out->p = out->diff == 0.0 ? 1.0 : 0.0;
    return;
  }
  /* Welch–Satterthwaite degrees of freedom. */
  df = (sb + sn) * (sb + sn) / (sb * sb / dfb + sn * sn / dfn);
  t = out->diff / se;
  out->p = sim_t_p2(t, df);
  {
    double h = sim_t_quantile(1.0 - alpha / 2.0, df) * se;
    out->lo = out->diff - h;
    out->hi = out->diff + h;
  }
}

double sim_cluster_se2(const uint64_t *m, const double *sum, uint32_t R) {
  uint64_t M = 0;
  double total = 0.0, mean, acc = 0.0;
  uint32_t used = 0;
  for (uint32_t r = 0; r < R; r++) {
    M += m[r];
    total += sum[r];
    used += m[r] > 0;
  }
  if (used < 2)
    return 0.0;
  mean = total / (double)M;
  for (uint32_t r = 0; r < R; r++)
    if (m[r] > 0) {
      double w = (double)m[r] / (double)M, d = sum[r] / (double)m[r] - mean;
      acc += w * w * d * d;
    }
  return (double)used / (double)(used - 1) * acc;
}

double sim_cmp_quantile(const double *v, uint64_t n, unsigned pct) {
  uint64_t k = ((uint64_t)pct * n + 99) / 100; /* ceil(pct n / 100), the nearest rank */
  return v[k == 0 ? 0 : k - 1];
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y ? 1 : 0;
}

/* The nearest-rank quantile of a resample of v[0..n) with replacement: the
 * resample's values are v[index], so counting how often each index is drawn
 * and walking the counts finds its k-th smallest in O(n), without sorting. */
static double resample_quantile(dht_rng *r, const double *v, uint64_t n, unsigned pct, uint32_t *count) {
  uint64_t k = ((uint64_t)pct * n + 99) / 100, seen = 0;
  memset(count, 0, (size_t)n * sizeof *count);
  for (uint64_t i = 0; i < n; i++)
    count[dht_rng_below(r, n)]++;
  if (k == 0)
    k = 1;
  for (uint64_t j = 0; j < n; j++) {
    seen += count[j];
    if (seen >= k)
      return v[j];
  }
  return v[n - 1];
}

void sim_bootstrap_ci_index(double alpha, size_t B, size_t *lo, size_t *hi) {
  size_t l = (size_t)floor(alpha / 2.0 * (double)B), h = (size_t)ceil((1.0 - alpha / 2.0) * (double)B);
  h = h == 0 ? 0 : h - 1;
  *lo = l >= B ? B - 1 : l;
  *hi = h >= B ? B - 1 : h;
}

int sim_bootstrap_quantile(const double *b, uint64_t nb, const double *w, uint64_t nw, unsigned pct,
                           uint64_t seed, double alpha, sim_cmp_test *out) {
  const unsigned B = SIM_CMP_BOOTSTRAP;
  uint64_t most = nb > nw ? nb : nw, le = 0, ge = 0;
  uint32_t *count;
  double *d;
  dht_rng r;
  size_t ilo, ihi;
  memset(out, 0, sizeof *out);
  out->lo = out->hi = NAN;
  out->p = 1.0;
  if (nb == 0 || nw == 0)
    return 0;
  out->diff = sim_cmp_quantile(w, nw, pct) - sim_cmp_quantile(b, nb, pct);
  if (nb < 2 || nw < 2)
    return 0;
  count = g_try_new(uint32_t, most);
  d = g_try_new(double, B);
  if (count == NULL || d == NULL) {
    g_free(count);
    g_free(d);
    return DHT_ENOMEM;
  }
  dht_rng_init(&r, seed);
  for (unsigned i = 0; i < B; i++) {
    double qb = resample_quantile(&r, b, nb, pct, count);
    d[i] = resample_quantile(&r, w, nw, pct, count) - qb;
    le += d[i] <= 0.0;
    ge += d[i] >= 0.0;
  }
  qsort(d, B, sizeof *d, cmp_double);
  sim_bootstrap_ci_index(alpha, B, &ilo, &ihi);
  out->tested = true;
  out->lo = d[ilo];
  out->hi = d[ihi];
  out->p = 2.0 * (double)((le < ge ? le : ge) + 1) / (double)(B + 1);
  if (out->p > 1.0)
    out->p = 1.0;
  g_free(count);
  g_free(d);
  return 0;
}

typedef struct holm_item {
  double p;
  size_t i;
} holm_item;

static int holm_cmp(const void *a, const void *b) {
  const holm_item *x = a, *y = b;
  if (x->p != y->p)
    return x->p < y->p ? -1 : 1;
  return x->i < y->i ? -1 : x->i > y->i ? 1 : 0;
}

int sim_holm(const double *p, size_t m, double *adj) {
  holm_item *it;
  double run = 0.0;
  if (m == 0)
    return 0;
  it = g_try_new(holm_item, m);
  if (it == NULL)
    return DHT_ENOMEM;
  for (size_t i = 0; i < m; i++)
    it[i] = (holm_item){p[i], i};
  qsort(it, m, sizeof *it, holm_cmp);
  for (size_t r = 0; r < m; r++) {
    double a = (double)(m - r) * it[r].p;
    if (a > run)
      run = a; /* step-down: never smaller than an earlier (smaller-p) one */
    adj[it[r].i] = run > 1.0 ? 1.0 : run;
  }
  g_free(it);
  return 0;
}

void sim_xml_escape(FILE *f, const char *s) {
  const char *p = s;
  while (*p != '\0') {
    gunichar c = g_utf8_get_char_validated(p, -1);
    const char *next;
    if (c == (gunichar)-1 || c == (gunichar)-2) {
      fputs("\xef\xbf\xbd", f); /* not UTF-8: U+FFFD, one byte at a time */
      p++;
      continue;
    }
    next = g_utf8_next_char(p);
    if (c == '&')
      fputs("&amp;", f);
    else if (c == '<')
      fputs("&lt;", f);
    else if (c == '>')
      fputs("&gt;", f);
    else if (c == '"')
      fputs("&quot;", f);
    else if (c == '\'')
      fputs("&apos;", f);
    else if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0xFFFE || c == 0xFFFF)
      fputs("\xef\xbf\xbd", f);
    else
      fwrite(p, 1, (size_t)(next - p), f);
    p = next;
  }
}

/* ---- reading an output folder ---- */

static void seterr(char *err, size_t errlen, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static void seterr(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

void sim_cmp_side_clear(sim_cmp_side *s) {
  for (size_t i = 0; i < s->n; i++) {
    for (int p = 0; p < SIM_PARAM_COUNT; p++)
      g_free(s->pts[i].param[p]);
    for (int f = 0; f < SIM_CMP_FIG_COUNT; f++) {
      g_free(s->pts[i].fig[f].v);
      g_free(s->pts[i].fig[f].rep_n);
      g_free(s->pts[i].fig[f].rep_sum);
    }
  }
  g_free(s->pts);
  g_free(s->name);
  memset(s, 0, sizeof *s);
}

/* Splits one CSV record (RFC 4180, on one line: dhtsim writes no line break
 * in a field) in place: fields are unquoted into `line` itself. Returns the
 * number of fields, or SIZE_MAX when more than max or a quote is unclosed. */
static size_t csv_fields(char *line, char **field, size_t max) {
  size_t n = 0;
  char *r = line, *w = line;
  for (;;) {
    bool quoted = *r == '"';
    if (n == max)
      return SIZE_MAX;
    field[n++] = w;
    if (quoted) {
      r++;
      for (;;) {
        if (*r == '\0' || *r == '\n' || *r == '\r')
          return SIZE_MAX;
        if (*r == '"' && r[1] == '"') {
          *w++ = '"';
          r += 2;
        } else if (*r == '"') {
          r++;
          break;
        } else {
          *w++ = *r++;
        }
      }
    }
    while (*r != ',' && *r != '\0' && *r != '\n' && *r != '\r')
      *w++ = *r++;
    if (*r != ',') {
      *w = '\0';
      return n;
    }
    r++;
    *w++ = '\0';
  }
}

/* Fields per record: summary.csv has ~100 today; room for growth. */
#define CMP_FIELDS_MAX 4096

typedef struct csv_reader {
  FILE *f;
  char *path;
  char *line;
  size_t cap;
  uint64_t lineno;
  char *field[CMP_FIELDS_MAX];
  size_t n;
} csv_reader;

static int csv_open(csv_reader *c, const char *dir, const char *file, const char *cmd, char *err, size_t errlen) {
  memset(c, 0, sizeof *c);
  c->path = g_try_malloc(strlen(dir) + strlen(file) + 2);
  if (c->path == NULL)
    return DHT_ENOMEM;
  sprintf(c->path, "%s/%s", dir, file);
  c->f = fopen(c->path, "r");
  if (c->f == NULL) {
    seterr(err, errlen, "dhtsim %s: %s: %s (not a dhtsim output folder? write one with dhtsim run SCENARIO --out DIR)",
           cmd, c->path, strerror(errno));
    g_free(c->path);
    c->path = NULL;
    return DHT_EINVAL;
  }
  return 0;
}

static void csv_close(csv_reader *c) {
  if (c->f != NULL)
    fclose(c->f);
  free(c->line);
  g_free(c->path);
  memset(c, 0, sizeof *c);
}

/* The next record: 1, 0 at the end, or a negative dht_ code with err set. */
static int csv_next(csv_reader *c, const char *cmd, char *err, size_t errlen) {
  ssize_t len;
  errno = 0;
  len = getline(&c->line, &c->cap, c->f);
  if (len < 0) {
    if (errno == ENOMEM)
      return DHT_ENOMEM;
    return 0;
  }
  c->lineno++;
  if ((size_t)len > SIM_CMP_LINE_MAX) {
    seterr(err, errlen, "dhtsim %s: %s line %" PRIu64 ": longer than %u bytes: not a dhtsim output", cmd, c->path,
           c->lineno, SIM_CMP_LINE_MAX);
    return DHT_EINVAL;
  }
  c->n = csv_fields(c->line, c->field, CMP_FIELDS_MAX);
  if (c->n == SIZE_MAX) {
    seterr(err, errlen, "dhtsim %s: %s line %" PRIu64 ": unclosed quote or more than %d fields", cmd, c->path,
           c->lineno, CMP_FIELDS_MAX);
    return DHT_EINVAL;
  }
  return 1;
}

static int csv_col(const csv_reader *c, const char *name) {
  for (size_t i = 0; i < c->n; i++)
    if (strcmp(c->field[i], name) == 0)
      return (int)i;
  return -1;
}

/* Opens DIR/FILE and reads its header, which must have a "point" column:
 * its index in *pcol and the header's width in *n_head. 0, or a negative
 * dht_ code with err set (nothing to close then). */
static int csv_open_header(csv_reader *c, const char *dir, const char *file, const char *cmd, int *pcol,
                           size_t *n_head, char *err, size_t errlen) {
  int rc;
  if ((rc = csv_open(c, dir, file, cmd, err, errlen)) < 0)
    return rc;
  rc = csv_next(c, cmd, err, errlen);
  if (rc == 0)
    seterr(err, errlen, "dhtsim %s: %s: empty file, expected a CSV header", cmd, c->path);
  else if (rc > 0 && (*pcol = csv_col(c, "point")) < 0)
    seterr(err, errlen, "dhtsim %s: %s: no column \"point\": not the format of docs/output-format.md", cmd, c->path);
  if (rc <= 0 || *pcol < 0) {
    csv_close(c);
    return rc < 0 ? rc : DHT_EINVAL;
  }
  *n_head = c->n;
  return 0;
}

/* The next row that is not blank, as wide as the header, with its point
 * index in *idx: 1, 0 at the end, or a negative dht_ code with err set. */
static int csv_next_row(csv_reader *c, size_t n_head, int pcol, uint64_t *idx, const char *cmd, char *err,
                        size_t errlen) {
  int rc;
  do
    rc = csv_next(c, cmd, err, errlen);
  while (rc > 0 && c->n == 1 && c->field[0][0] == '\0');
  if (rc > 0 && (c->n != n_head || !sim_parse_u64(c->field[pcol], idx))) {
    seterr(err, errlen, "dhtsim %s: %s line %" PRIu64 ": %zu fields for %zu columns, or a point that is not a number",
           cmd, c->path, c->lineno, c->n, n_head);
    rc = DHT_EINVAL;
  }
  return rc;
}

static int read_summary(sim_cmp_side *s, const char *dir, const char *cmd, char *err, size_t errlen) {
  csv_reader c;
  int pcol = -1, col[SIM_PARAM_COUNT], rc;
  size_t n_head = 0, cap = 0;
  uint64_t idx = 0;
  if ((rc = csv_open_header(&c, dir, "summary.csv", cmd, &pcol, &n_head, err, errlen)) < 0)
    return rc;
  for (int p = 0; p < SIM_PARAM_COUNT; p++)
    col[p] = csv_col(&c, sim_params[p].key);
  while ((rc = csv_next_row(&c, n_head, pcol, &idx, cmd, err, errlen)) > 0) {
    sim_cmp_point *pt;
    if (s->n > 0 && idx <= s->pts[s->n - 1].index) {
      seterr(err, errlen, "dhtsim %s: %s line %" PRIu64 ": point %" PRIu64 " out of order", cmd, c.path, c.lineno, idx);
      rc = DHT_EINVAL;
      break;
    }
    if (s->n == SIM_CMP_POINTS_MAX) {
      seterr(err, errlen, "dhtsim %s: %s: more than %u points (the most compare takes)", cmd, c.path,
             SIM_CMP_POINTS_MAX);
      rc = DHT_EINVAL;
      break;
    }
    if (s->n == cap) {
      size_t ncap = cap ? cap * 2 : 16;
      sim_cmp_point *np = g_try_realloc(s->pts, ncap * sizeof *np);
      if (np == NULL) {
        rc = DHT_ENOMEM;
        break;
      }
      s->pts = np;
      cap = ncap;
    }
    pt = &s->pts[s->n++];
    memset(pt, 0, sizeof *pt);
    pt->index = idx;
    for (int p = 0; p < SIM_PARAM_COUNT; p++) {
      if (col[p] < 0 || c.field[col[p]][0] == '\0')
        continue;
      pt->param[p] = g_try_malloc(strlen(c.field[col[p]]) + 1);
      if (pt->param[p] == NULL) {
        rc = DHT_ENOMEM;
        break;
      }
      strcpy(pt->param[p], c.field[col[p]]);
    }
    if (rc < 0)
      break;
  }
  if (rc == 0 && s->n == 0) {
    seterr(err, errlen, "dhtsim %s: %s: no points (an interrupted run? finish it with --resume)", cmd, c.path);
    rc = DHT_EINVAL;
  }
  csv_close(&c);
  return rc < 0 ? rc : 0;
}

static sim_cmp_point *find_point(sim_cmp_side *s, uint64_t idx) {
  size_t lo = 0, hi = s->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (s->pts[mid].index < idx)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < s->n && s->pts[lo].index == idx ? &s->pts[lo] : NULL;
}

static int sample_push(sim_cmp_sample *m, double v, uint32_t replica) {
  if (replica >= m->n_rep) {
    uint32_t nr = replica + 1;
    uint64_t *rn = g_try_realloc(m->rep_n, nr * sizeof *rn);
    double *rs;
    if (rn == NULL)
      return DHT_ENOMEM;
    m->rep_n = rn;
    rs = g_try_realloc(m->rep_sum, nr * sizeof *rs);
    if (rs == NULL)
      return DHT_ENOMEM;
    m->rep_sum = rs;
    for (uint32_t r = m->n_rep; r < nr; r++) {
      m->rep_n[r] = 0;
      m->rep_sum[r] = 0.0;
    }
    m->n_rep = nr;
  }
  m->rep_n[replica]++;
  m->rep_sum[replica] += v;
  if (m->n == m->cap) {
    uint64_t ncap = m->cap ? m->cap * 2 : 64;
    double *nv = g_try_realloc(m->v, (size_t)ncap * sizeof *nv);
    if (nv == NULL)
      return DHT_ENOMEM;
    m->v = nv;
    m->cap = ncap;
  }
  m->v[m->n++] = v;
  return 0;
}

static int read_lookups(sim_cmp_side *s, const char *dir, const char *cmd, char *err, size_t errlen) {
  csv_reader c;
  int pcol = -1, rcol, fcol[SIM_CMP_FIG_COUNT], rc;
  size_t n_head = 0;
  uint64_t rows = 0, idx = 0;
  if ((rc = csv_open_header(&c, dir, "lookups.csv", cmd, &pcol, &n_head, err, errlen)) < 0)
    return rc;
  rcol = csv_col(&c, "replica");
  /* The swept keys are the dotted columns (docs/output-format.md). */
  for (size_t i = 0; i < c.n; i++) {
    int id = strchr(c.field[i], '.') ? sim_param_find(c.field[i], strlen(c.field[i])) : -1;
    if (id >= 0)
      s->swept[id] = true;
  }
  for (int f = 0; f < SIM_CMP_FIG_COUNT; f++) {
    fcol[f] = csv_col(&c, sim_cmp_figures[f].column);
    s->column[f] = fcol[f] >= 0;
  }
  while ((rc = csv_next_row(&c, n_head, pcol, &idx, cmd, err, errlen)) > 0) {
    sim_cmp_point *pt;
    uint64_t replica = 0;
    if (rcol >= 0 && (!sim_parse_u64(c.field[rcol], &replica) || replica >= SIM_REPLICAS_MAX)) {
      seterr(err, errlen, "dhtsim %s: %s line %" PRIu64 ": replica: expected an integer below %u", cmd, c.path,
             c.lineno, SIM_REPLICAS_MAX);
      rc = DHT_EINVAL;
      break;
    }
    if (++rows > SIM_CMP_LOOKUPS_MAX) {
      seterr(err, errlen, "dhtsim %s: %s: more than %u lookups (the most compare takes)", cmd, c.path,
             SIM_CMP_LOOKUPS_MAX);
      rc = DHT_EINVAL;
      break;
    }
    pt = find_point(s, idx);
    if (pt == NULL) {
      seterr(err, errlen, "dhtsim %s: %s line %" PRIu64 ": point %" PRIu64 " is not in summary.csv", cmd, c.path,
             c.lineno, idx);
      rc = DHT_EINVAL;
      break;
    }
    for (int f = 0; f < SIM_CMP_FIG_COUNT && rc > 0; f++) {
      const char *t;
      char *end;
      double v;
      if (fcol[f] < 0)
        continue;
      t = c.field[fcol[f]];
      if (t[0] == '\0') /* first_peer_ms of a lookup that got no peer: not one of its values */
        continue;
      errno = 0;
      v = strtod(t, &end);
      if (*end != '\0' || errno != 0 || !isfinite(v) || sim_is_space(t[0])) {
        char shown[SIM_SHOW_SIZE];
        sim_show(shown, sizeof shown, t, strlen(t));
        seterr(err, errlen, "dhtsim %s: %s line %" PRIu64 ": column %s: expected a number, got \"%s\"", cmd,
               c.path, c.lineno, sim_cmp_figures[f].column, shown);
        rc = DHT_EINVAL;
        break;
      }
      if (sim_cmp_figures[f].kind == SIM_CMP_HIT)
        v = v > 0.0 ? 1.0 : 0.0;
      if (sample_push(&pt->fig[f], v, (uint32_t)replica) < 0)
        rc = DHT_ENOMEM;
    }
    if (rc < 0)
      break;
  }
  csv_close(&c);
  return rc < 0 ? rc : 0;
}

int sim_cmp_side_finish(sim_cmp_side *s) {
  for (size_t i = 0; i < s->n; i++)
    for (int f = 0; f < SIM_CMP_FIG_COUNT; f++) {
      sim_cmp_sample *m = &s->pts[i].fig[f];
      double sum = 0.0, ss = 0.0;
      if (m->n == 0)
        continue;
      qsort(m->v, (size_t)m->n, sizeof *m->v, cmp_double);
      /* Two passes over the sorted values: the same bits on every machine. */
      for (uint64_t j = 0; j < m->n; j++)
        sum += m->v[j];
      m->mean = sum / (double)m->n;
      for (uint64_t j = 0; j < m->n; j++)
        ss += (m->v[j] - m->mean) * (m->v[j] - m->mean);
      m->var = m->n > 1 ? ss / (double)(m->n - 1) : 0.0;
      m->clusters = 0;
      for (uint32_t r = 0; r < m->n_rep; r++)
        m->clusters += m->rep_n[r] > 0;
      m->cluster_se2 = sim_cluster_se2(m->rep_n, m->rep_sum, m->n_rep);
    }
  return 0;
}

int sim_cmp_side_read(sim_cmp_side *s, const char *out_dir, const char *cmd, char *err, size_t errlen) {
  int rc;
  memset(s, 0, sizeof *s);
  s->name = g_try_malloc(strlen(out_dir) + 1);
  if (s->name == NULL)
    return DHT_ENOMEM;
  strcpy(s->name, out_dir);
  if ((rc = read_summary(s, out_dir, cmd, err, errlen)) < 0 || (rc = read_lookups(s, out_dir, cmd, err, errlen)) < 0 ||
      (rc = sim_cmp_side_finish(s)) < 0) {
    if (rc == DHT_ENOMEM)
      seterr(err, errlen, "dhtsim %s: out of memory reading %s", cmd, out_dir);
    return rc;
  }
  return 0;
}

/* ---- options ---- */

const char sim_cmp_options_help[] =
    "  --figure NAME     compare only this figure (repeatable): a per-lookup column\n"
    "                    (queries, hops, rounds, time_ms, result_ms, first_peer_ms,\n"
    "                    success_rate, accuracy, timeouts: its mean and, for the first six\n"
    "                    and timeouts, p95 and p99), or one row (time_ms_p99). Default:\n"
    "                    every one of them whose column lookups.csv has\n"
    "  --tolerance PCT   a change smaller than PCT % of the base value is `same` (default 2)\n"
    "  --alpha A         family-wise significance level, after Holm-Bonferroni over every\n"
    "                    comparison (default 0.05; 0 < A < 1)\n"
    "  --junit FILE      also write JUnit XML: one testcase per point x figure\n"
    "  --format FMT      table (default), csv or json\n";

void sim_cmp_options_init(sim_cmp_options *o) {
  memset(o, 0, sizeof *o);
  o->tolerance_pct = 2.0;
  o->alpha = 0.05;
  o->format = "table";
}

static bool parse_real(const char *s, double lo, double hi, bool open, double *out) {
  char *end;
  double v;
  errno = 0;
  if (s[0] == '\0' || sim_is_space(s[0]))
    return false;
  v = strtod(s, &end);
  if (*end != '\0' || errno != 0 || !isfinite(v) || v < lo || v > hi || (open && (v <= lo || v >= hi)))
    return false;
  *out = v;
  return true;
}

/* The figure and statistic of a --figure NAME: every statistic of a figure
 * (stat -1) or one row. false when no figure has that name. */
static bool figure_by_name(const char *name, int *fig, int *stat) {
  for (int f = 0; f < SIM_CMP_FIG_COUNT; f++) {
    const sim_cmp_figure *d = &sim_cmp_figures[f];
    size_t n = strlen(d->name);
    if (strcmp(name, d->name) == 0) {
      *fig = f;
      *stat = -1;
      return true;
    }
    if (d->kind == SIM_CMP_TAILS && strncmp(name, d->name, n) == 0)
      for (int st = 0; st < SIM_CMP_STAT_COUNT; st++)
        if (strcmp(name + n, stat_suffix[st]) == 0) {
          *fig = f;
          *stat = st;
          return true;
        }
  }
  return false;
}

int sim_cmp_option(sim_cmp_options *o, int argc, char **argv, int *i, const char *cmd) {
  static const char *const with_value[] = {"--figure", "--tolerance", "--alpha", "--junit", "--format"};
  const char *a = argv[*i], *val = NULL;
  size_t which = G_N_ELEMENTS(with_value);
  for (size_t k = 0; k < G_N_ELEMENTS(with_value); k++) {
    size_t n = strlen(with_value[k]);
    if (strncmp(a, with_value[k], n) == 0 && (a[n] == '\0' || a[n] == '=')) {
      which = k;
      if (a[n] == '=')
        val = a + n + 1;
    }
  }
  if (which == G_N_ELEMENTS(with_value))
    return 0;
  if (val == NULL) {
    if (*i + 1 >= argc) {
      fprintf(stderr, "dhtsim %s: option %s needs a value\n", cmd, with_value[which]);
      return -1;
    }
    val = argv[++*i];
  }
  switch (which) {
  case 0: {
    int fig, st;
    if (!figure_by_name(val, &fig, &st)) {
      fprintf(stderr, "dhtsim %s: --figure %s: not a figure; expected one of", cmd, val);
      for (int f = 0; f < SIM_CMP_FIG_COUNT; f++)
        fprintf(stderr, " %s", sim_cmp_figures[f].name);
      fprintf(stderr, " (or NAME_mean, NAME_p95, NAME_p99 of the ones with tails)\n");
      return -1;
    }
    o->explicit_figures = true;
    for (int s = 0; s < SIM_CMP_STAT_COUNT; s++)
      if (st < 0 || st == s)
        o->want[fig][s] = true;
    return 1;
  }
  case 1:
    if (!parse_real(val, 0.0, 1e6, false, &o->tolerance_pct)) {
      fprintf(stderr, "dhtsim %s: --tolerance expects a percentage from 0 to 1000000, got '%s'\n", cmd, val);
      return -1;
    }
    return 1;
  case 2:
    if (!parse_real(val, 0.0, 1.0, true, &o->alpha)) {
      fprintf(stderr, "dhtsim %s: --alpha expects a number between 0 and 1 (exclusive), got '%s'\n", cmd, val);
      return -1;
    }
    return 1;
  case 3:
    o->junit = val;
    return 1;
  default:
    if (strcmp(val, "table") != 0 && strcmp(val, "csv") != 0 && strcmp(val, "json") != 0) {
      fprintf(stderr, "dhtsim %s: --format expects table, csv or json, got '%s'\n", cmd, val);
      return -1;
    }
    o->format = val;
    return 1;
  }
}

/* ---- matching and comparing ---- */

static bool numeric_param(int id) {
  sim_param_type t = sim_params[id].type;
  return t == SIM_PT_UINT || t == SIM_PT_REAL || t == SIM_PT_DURATION;
}

/* Two values of parameter id as the files show them: numbers by value
 * ("0.10" is "0.1"), text exactly, unset only equal to unset. */
static bool same_value(int id, const char *a, const char *b) {
  if (a == NULL || b == NULL)
    return a == b;
  if (numeric_param(id)) {
    char *ea, *eb;
    double x = strtod(a, &ea), y = strtod(b, &eb);
    if (*ea == '\0' && *eb == '\0')
      return x == y;
  }
  return strcmp(a, b) == 0;
}

/* The keys that identify a point: every key either side sweeps. A key one
 * side does not sweep still has its value there, in summary.csv. */
static void identity_keys(const sim_cmp_side *b, const sim_cmp_side *n, bool key[SIM_PARAM_COUNT]) {
  for (int p = 0; p < SIM_PARAM_COUNT; p++)
    key[p] = b->swept[p] || n->swept[p];
}

static bool same_point(const bool key[SIM_PARAM_COUNT], const sim_cmp_point *a, const sim_cmp_point *b) {
  for (int p = 0; p < SIM_PARAM_COUNT; p++)
    if (key[p] && !same_value(p, a->param[p], b->param[p]))
      return false;
  return true;
}

/* "lookup.alpha=3 lookup.k=8", or "(no sweep)" when no key identifies points. */
static void point_label(const bool key[SIM_PARAM_COUNT], const sim_cmp_point *pt, char *out, size_t outlen) {
  size_t used = 0;
  out[0] = '\0';
  for (int p = 0; p < SIM_PARAM_COUNT && used < outlen; p++)
    if (key[p]) {
      int w = snprintf(out + used, outlen - used, "%s%s=%s", used ? " " : "", sim_params[p].key,
                       pt->param[p] ? pt->param[p] : "");
      used += w > 0 ? (size_t)w : 0;
    }
  if (out[0] == '\0')
    snprintf(out, outlen, "(no sweep)");
}

typedef enum verdict { V_SAME, V_BETTER, V_WORSE } verdict;
static const char *const verdict_name[] = {"same", "better", "worse"};

typedef struct row {
  size_t bp, np;
  int fig, stat;
  char label[512];
  double base, nw, change_pct;
  sim_cmp_test t;
  double p_holm;
  verdict v;
} row;

static void row_name(const row *r, char *out, size_t outlen) {
  const sim_cmp_figure *d = &sim_cmp_figures[r->fig];
  snprintf(out, outlen, "%s%s", d->name, d->kind == SIM_CMP_TAILS ? stat_suffix[r->stat] : "");
}

/* The change in % of the base value; ±inf from a base of 0. */
static double change_pct(double base, double nw) {
  if (base == nw)
    return 0.0;
  if (base == 0.0)
    return nw > 0 ? INFINITY : -INFINITY;
  return (nw - base) / fabs(base) * 100.0;
}

static bool planted(const sim_cmp_point *pt) {
  const char *v = pt->param[SIM_P_WORKLOAD_PLANTED_PEERS];
  return v != NULL && strcmp(v, "0") != 0;
}

/* The squared standard error of a side's mean and its degrees of freedom:
 * the per-lookup var / n (n - 1 df), unless the side has 2 or more replicas
 * whose means spread more than that says (the networks differ more than the
 * lookups suggest): then the between-replica estimate (R - 1 df). The larger
 * of the two, so that a single network never looks more certain than it is;
 * the cost is power with few replicas (t at 2 df is 4.3). */
static void mean_error(const sim_cmp_sample *m, double *se2, double *df) {
  *se2 = m->n ? m->var / (double)m->n : 0.0;
  *df = m->n ? (double)m->n - 1.0 : 0.0;
  if (m->clusters >= 2 && m->cluster_se2 > *se2) {
    *se2 = m->cluster_se2;
    *df = (double)m->clusters - 1.0;
  }
}

static int compute_row(row *r, const sim_cmp_point *b, const sim_cmp_point *n, double alpha) {
  const sim_cmp_sample *sb = &b->fig[r->fig], *sn = &n->fig[r->fig];
  if (r->stat == SIM_CMP_MEAN_STAT) {
    double se2b, dfb, se2n, dfn;
    mean_error(sb, &se2b, &dfb);
    mean_error(sn, &se2n, &dfn);
    sim_welch_se2(sb->mean, se2b, dfb, sn->mean, se2n, dfn, alpha, &r->t);
    r->base = sb->mean;
    r->nw = sn->mean;
  } else {
    char name[64];
    uint64_t h;
    int rc;
    row_name(r, name, sizeof name);
    h = sim_fnv1a64(SIM_FNV1A64_INIT, r->label, strlen(r->label) + 1);
    h = sim_fnv1a64(h, name, strlen(name));
    if ((rc = sim_bootstrap_quantile(sb->v, sb->n, sn->v, sn->n, stat_pct[r->stat],
                                     dht_seed_derive(CMP_BOOTSTRAP_SEED, h), alpha, &r->t)) < 0)
      return rc;
    r->base = sb->n ? sim_cmp_quantile(sb->v, sb->n, stat_pct[r->stat]) : NAN;
    r->nw = sn->n ? sim_cmp_quantile(sn->v, sn->n, stat_pct[r->stat]) : NAN;
  }
  r->change_pct = sb->n && sn->n ? change_pct(r->base, r->nw) : NAN;
  return 0;
}

/* A regression needs both: worse by more than the tolerance, and a
 * difference that Holm still calls significant. */
static verdict decide(const row *r, const sim_cmp_options *o) {
  double bad;
  if (!r->t.tested || !(r->p_holm < o->alpha) || isnan(r->change_pct))
    return V_SAME;
  bad = sim_cmp_figures[r->fig].worse == SIM_CMP_HIGHER ? r->change_pct : -r->change_pct;
  if (bad > o->tolerance_pct)
    return V_WORSE;
  if (-bad > o->tolerance_pct)
    return V_BETTER;
  return V_SAME;
}

static void fmt_num(char *buf, size_t n, double v) {
  if (isnan(v))
    snprintf(buf, n, "n/a");
  else
    snprintf(buf, n, "%.6f", v);
}

static void fmt_pct(char *buf, size_t n, double v) {
  if (isnan(v))
    snprintf(buf, n, "n/a");
  else if (isinf(v))
    snprintf(buf, n, "%s", v > 0 ? "+inf" : "-inf");
  else
    snprintf(buf, n, "%+.2f", v);
}

static void json_num(FILE *f, double v) {
  if (!isfinite(v))
    fputs("null", f);
  else
    fprintf(f, "%.6f", v);
}

/* A row's numbers as every format writes them. */
typedef struct row_text {
  char name[64], base[32], nw[32], change[32], lo[32], hi[32];
} row_text;

static void row_texts(const row *r, row_text *t) {
  row_name(r, t->name, sizeof t->name);
  fmt_num(t->base, sizeof t->base, r->base);
  fmt_num(t->nw, sizeof t->nw, r->nw);
  fmt_pct(t->change, sizeof t->change, r->change_pct);
  fmt_num(t->lo, sizeof t->lo, r->t.lo);
  fmt_num(t->hi, sizeof t->hi, r->t.hi);
}

typedef struct report {
  const sim_cmp_side *b, *n;
  row *rows;
  size_t n_rows;
  char (*only_b)[512], (*only_n)[512];
  size_t n_only_b, n_only_n;
  size_t worse, better;
  bool key[SIM_PARAM_COUNT];
} report;

static void write_table(FILE *f, const report *R, const sim_cmp_options *o, const char *cmd) {
  fprintf(f, "dhtsim %s: %s (%zu point%s) vs %s (%zu point%s)\n", cmd, R->b->name, R->b->n, R->b->n == 1 ? "" : "s",
          R->n->name, R->n->n, R->n->n == 1 ? "" : "s");
  /* Parameters that differ although they do not identify points: what the comparison is about. */
  if (R->n_rows > 0) {
    const sim_cmp_point *pb = &R->b->pts[R->rows[0].bp], *pn = &R->n->pts[R->rows[0].np];
    for (int p = 0; p < SIM_PARAM_COUNT; p++)
      if (!R->key[p] && p != SIM_P_NAME && !same_value(p, pb->param[p], pn->param[p]))
        fprintf(f, "  differs: %s %s -> %s\n", sim_params[p].key, pb->param[p] ? pb->param[p] : "(unset)",
                pn->param[p] ? pn->param[p] : "(unset)");
  }
  fprintf(f,
          "  means: Welch's t; p95/p99: percentile bootstrap (%u resamples); %zu comparisons, Holm-Bonferroni at "
          "alpha %g; tolerance %g %%\n\n",
          SIM_CMP_BOOTSTRAP, R->n_rows, o->alpha, o->tolerance_pct);
  fprintf(f, "%-28s %-20s %14s %14s %9s  %-34s %8s  %s\n", "point", "figure", "base", "new", "change%",
          "CI of new - base", "p(Holm)", "verdict");
  for (size_t i = 0; i < R->n_rows; i++) {
    const row *r = &R->rows[i];
    row_text t;
    char ci[80];
    row_texts(r, &t);
    snprintf(ci, sizeof ci, "[%s, %s]", t.lo, t.hi);
    fprintf(f, "%-28s %-20s %14s %14s %9s  %-34s %8.4f  %s\n", r->label, t.name, t.base, t.nw, t.change, ci,
            r->p_holm, r->t.tested ? verdict_name[r->v] : "untested");
  }
  for (size_t i = 0; i < R->n_only_b; i++)
    fprintf(f, "only in %s (not compared): %s\n", R->b->name, R->only_b[i]);
  for (size_t i = 0; i < R->n_only_n; i++)
    fprintf(f, "only in %s (not compared): %s\n", R->n->name, R->only_n[i]);
  fprintf(f, "\n%zu worse, %zu better, %zu same: %s\n", R->worse, R->better, R->n_rows - R->worse - R->better,
          R->worse ? "REGRESSION" : "no regression");
}

static void write_csv(FILE *f, const report *R) {
  fputs("point,figure,base,new,change_pct,ci_low,ci_high,p,p_holm,verdict\n", f);
  for (size_t i = 0; i < R->n_rows; i++) {
    const row *r = &R->rows[i];
    row_text t;
    row_texts(r, &t);
    sim_write_csv_text(f, r->label);
    fprintf(f, ",%s,%s,%s,%s,%s,%s,%.6f,%.6f,%s\n", t.name, t.base, t.nw, t.change, t.lo, t.hi, r->t.p, r->p_holm,
            r->t.tested ? verdict_name[r->v] : "untested");
  }
  for (size_t i = 0; i < R->n_only_b; i++) {
    sim_write_csv_text(f, R->only_b[i]);
    fputs(",,,,,,,,,only_base\n", f);
  }
  for (size_t i = 0; i < R->n_only_n; i++) {
    sim_write_csv_text(f, R->only_n[i]);
    fputs(",,,,,,,,,only_new\n", f);
  }
}

static void write_json(FILE *f, const report *R, const sim_cmp_options *o) {
  fputs("{\n  \"base\": ", f);
  sim_write_json_string(f, R->b->name);
  fputs(", \"new\": ", f);
  sim_write_json_string(f, R->n->name);
  fprintf(f, ", \"alpha\": %g, \"tolerance_pct\": %g, \"bootstrap\": %u,\n  \"comparisons\": [", o->alpha,
          o->tolerance_pct, SIM_CMP_BOOTSTRAP);
  for (size_t i = 0; i < R->n_rows; i++) {
    const row *r = &R->rows[i];
    char name[64];
    row_name(r, name, sizeof name);
    fputs(i ? ",\n    {\"point\": " : "\n    {\"point\": ", f);
    sim_write_json_string(f, r->label);
    fprintf(f, ", \"figure\": \"%s\", \"base\": ", name);
    json_num(f, r->base);
    fputs(", \"new\": ", f);
    json_num(f, r->nw);
    fputs(", \"change_pct\": ", f);
    json_num(f, r->change_pct);
    fputs(", \"ci\": [", f);
    json_num(f, r->t.lo);
    fputs(", ", f);
    json_num(f, r->t.hi);
    fprintf(f, "], \"p\": %.6f, \"p_holm\": %.6f, \"verdict\": \"%s\"}", r->t.p, r->p_holm,
            r->t.tested ? verdict_name[r->v] : "untested");
  }
  fputs("\n  ],\n  \"only_base\": [", f);
  for (size_t i = 0; i < R->n_only_b; i++) {
    fputs(i ? ", " : "", f);
    sim_write_json_string(f, R->only_b[i]);
  }
  fputs("],\n  \"only_new\": [", f);
  for (size_t i = 0; i < R->n_only_n; i++) {
    fputs(i ? ", " : "", f);
    sim_write_json_string(f, R->only_n[i]);
  }
  fprintf(f, "],\n  \"worse\": %zu, \"better\": %zu, \"regressed\": %s\n}\n", R->worse, R->better,
          R->worse ? "true" : "false");
}

/* JUnit XML, the shape CI systems read: <testsuites><testsuite><testcase
 * classname=POINT name=FIGURE>, a <failure> for each regression, <skipped>
 * for the points only one side has. */
static void write_junit(FILE *f, const report *R, const sim_cmp_options *o, const char *cmd) {
  size_t tests = R->n_rows + R->n_only_b + R->n_only_n, skipped = R->n_only_b + R->n_only_n;
  fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"dhtsim %s\" tests=\"%zu\" "
             "failures=\"%zu\" errors=\"0\" skipped=\"%zu\">\n", cmd, tests, R->worse, skipped);
  fputs("  <testsuite name=\"", f);
  sim_xml_escape(f, R->b->name);
  fputs(" vs ", f);
  sim_xml_escape(f, R->n->name);
  fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\">\n", tests, R->worse, skipped);
  for (size_t i = 0; i < R->n_rows; i++) {
    const row *r = &R->rows[i];
    row_text t;
    row_texts(r, &t);
    fputs("    <testcase classname=\"", f);
    sim_xml_escape(f, r->label);
    fprintf(f, "\" name=\"%s\"", t.name);
    if (r->v != V_WORSE) {
      fputs("/>\n", f);
      continue;
    }
    fprintf(f, ">\n      <failure type=\"regression\" message=\"%s worse: %s -&gt; %s (%s %%), CI of new - base [%s, "
               "%s], p(Holm) %.6f &lt; %g, tolerance %g %%\"/>\n    </testcase>\n",
            t.name, t.base, t.nw, t.change, t.lo, t.hi, r->p_holm, o->alpha, o->tolerance_pct);
  }
  for (int side = 0; side < 2; side++)
    for (size_t i = 0; i < (side ? R->n_only_n : R->n_only_b); i++) {
      fputs("    <testcase classname=\"", f);
      sim_xml_escape(f, side ? R->only_n[i] : R->only_b[i]);
      fputs("\" name=\"point\">\n      <skipped message=\"only in ", f);
      sim_xml_escape(f, side ? R->n->name : R->b->name);
      fputs("\"/>\n    </testcase>\n", f);
    }
  fputs("  </testsuite>\n</testsuites>\n", f);
}

static bool wanted(const sim_cmp_options *o, int f, int st) {
  if (sim_cmp_figures[f].kind != SIM_CMP_TAILS && st != SIM_CMP_MEAN_STAT)
    return false;
  return o->explicit_figures ? o->want[f][st] : true;
}

static int build(report *R, const sim_cmp_options *o, const char *cmd) {
  const sim_cmp_side *b = R->b, *n = R->n;
  size_t cap = 0;
  bool *matched_n = g_try_new0(bool, n->n + 1);
  char label[512];
  if (matched_n == NULL)
    return DHT_ENOMEM;
  identity_keys(b, n, R->key);
  for (int f = 0; f < SIM_CMP_FIG_COUNT; f++) {
    bool asked = false;
    for (int st = 0; st < SIM_CMP_STAT_COUNT; st++)
      asked |= o->explicit_figures && o->want[f][st];
    if (asked && (!b->column[f] || !n->column[f])) {
      fprintf(stderr, "dhtsim %s: --figure %s: %s/lookups.csv has no column %s\n", cmd, sim_cmp_figures[f].name,
              !b->column[f] ? b->name : n->name, sim_cmp_figures[f].column);
      g_free(matched_n);
      return EXIT_USAGE;
    }
    if (!asked && !o->explicit_figures && b->column[f] != n->column[f])
      fprintf(stderr, "dhtsim %s: note: only %s has the column %s; %s not compared\n", cmd,
              b->column[f] ? b->name : n->name, sim_cmp_figures[f].column, sim_cmp_figures[f].name);
  }
  for (size_t i = 0; i < b->n; i++) {
    size_t j;
    for (j = 0; j < n->n; j++)
      if (!matched_n[j] && same_point(R->key, &b->pts[i], &n->pts[j]))
        break;
    point_label(R->key, &b->pts[i], label, sizeof label);
    if (j == n->n) {
      char(*nb)[512] = g_try_realloc(R->only_b, (R->n_only_b + 1) * sizeof *nb);
      if (nb == NULL)
        goto nomem;
      R->only_b = nb;
      memcpy(R->only_b[R->n_only_b++], label, sizeof label);
      continue;
    }
    matched_n[j] = true;
    for (int f = 0; f < SIM_CMP_FIG_COUNT; f++) {
      if (!b->column[f] || !n->column[f])
        continue;
      /* success_rate says nothing when no peers were planted on either side. */
      if (sim_cmp_figures[f].kind == SIM_CMP_HIT && !planted(&b->pts[i]) && !planted(&n->pts[j]))
        continue;
      for (int st = 0; st < SIM_CMP_STAT_COUNT; st++) {
        row *r;
        if (!wanted(o, f, st))
          continue;
        if (R->n_rows == cap) {
          size_t ncap = cap ? cap * 2 : 32;
          row *nr = g_try_realloc(R->rows, ncap * sizeof *nr);
          if (nr == NULL)
            goto nomem;
          R->rows = nr;
          cap = ncap;
        }
        r = &R->rows[R->n_rows++];
        memset(r, 0, sizeof *r);
        r->bp = i;
        r->np = j;
        r->fig = f;
        r->stat = st;
        memcpy(r->label, label, sizeof label);
        if (compute_row(r, &b->pts[i], &n->pts[j], o->alpha) < 0)
          goto nomem;
      }
    }
  }
  for (size_t j = 0; j < n->n; j++) {
    char(*nn)[512];
    if (matched_n[j])
      continue;
    nn = g_try_realloc(R->only_n, (R->n_only_n + 1) * sizeof *nn);
    if (nn == NULL)
      goto nomem;
    R->only_n = nn;
    point_label(R->key, &n->pts[j], R->only_n[R->n_only_n++], sizeof label);
  }
  g_free(matched_n);
  {
    double *p = g_try_new(double, R->n_rows + 1), *adj = g_try_new(double, R->n_rows + 1);
    if (p == NULL || adj == NULL) {
      g_free(p);
      g_free(adj);
      return DHT_ENOMEM;
    }
    /* Untested rows (fewer than 2 lookups on a side) take no part in the correction. */
    size_t m = 0;
    for (size_t i = 0; i < R->n_rows; i++)
      if (R->rows[i].t.tested)
        p[m++] = R->rows[i].t.p;
    if (sim_holm(p, m, adj) < 0) {
      g_free(p);
      g_free(adj);
      return DHT_ENOMEM;
    }
    m = 0;
    for (size_t i = 0; i < R->n_rows; i++) {
      row *r = &R->rows[i];
      r->p_holm = r->t.tested ? adj[m++] : 1.0;
      r->v = decide(r, o);
      R->worse += r->v == V_WORSE;
      R->better += r->v == V_BETTER;
    }
    g_free(p);
    g_free(adj);
  }
  return 0;
nomem:
  g_free(matched_n);
  return DHT_ENOMEM;
}

int sim_cmp_report(const sim_cmp_side *base, const sim_cmp_side *nw, const sim_cmp_options *o, const char *cmd,
                   FILE *out) {
  report R = {.b = base, .n = nw};
  int rc = build(&R, o, cmd), status;
  if (rc == EXIT_USAGE || rc < 0) {
    if (rc < 0)
      fprintf(stderr, "dhtsim %s: out of memory\n", cmd);
    status = rc < 0 ? EXIT_REGRESSED : EXIT_USAGE;
    goto out;
  }
  if (strcmp(o->format, "csv") == 0)
    write_csv(out, &R);
  else if (strcmp(o->format, "json") == 0)
    write_json(out, &R, o);
  else
    write_table(out, &R, o, cmd);
  status = R.worse ? EXIT_REGRESSED : EXIT_OK;
  if (fflush(out) != 0) {
    fprintf(stderr, "dhtsim %s: cannot write to standard output: %s\n", cmd, strerror(errno));
    status = EXIT_REGRESSED;
  }
  if (o->junit != NULL) {
    sim_outfile of;
    char err[1024];
    if (sim_outfile_open(&of, o->junit, err, sizeof err) < 0 ||
        (write_junit(of.f, &R, o, cmd), sim_outfile_commit(&of, err, sizeof err) < 0)) {
      fprintf(stderr, "dhtsim %s: %s\n", cmd, err);
      status = EXIT_REGRESSED;
    }
  }
out:
  g_free(R.rows);
  g_free(R.only_b);
  g_free(R.only_n);
  return status;
}

/* ---- dhtsim compare ---- */

static const char compare_usage[] =
    "Usage: dhtsim compare BASE_OUT NEW_OUT [--figure NAME]... [--tolerance PCT] [--alpha A]\n"
    "                      [--junit FILE] [--format table|csv|json]\n";

static const char compare_help[] =
    "\n"
    "Compares two outputs of `dhtsim run --out`, point by point and figure by figure,\n"
    "from their lookups.csv. Points are matched by the values of the keys either side\n"
    "sweeps (a point only one side has is listed, not compared). For each point and\n"
    "figure: base and new value, change in %, the confidence interval of new - base\n"
    "(Welch's t for means, a percentile bootstrap over the lookups for p95 and p99,\n"
    "at level 1 - A, not corrected) and the Holm-Bonferroni adjusted p-value. A row is\n"
    "`worse` when it moved in its bad direction by more than the tolerance and the\n"
    "adjusted p-value is below A; `better` likewise the other way; else `same`.\n"
    "docs/regression.md has a worked example and CI recipes.\n"
    "\n"
    "Options:\n";

static int compare_usage_error(void) {
  fputs(compare_usage, stderr);
  return EXIT_USAGE;
}

int sim_compare_main(int argc, char **argv) {
  const char *dir[2] = {NULL, NULL};
  sim_cmp_options o;
  sim_cmp_side side[2];
  char err[1024];
  int status;
  sim_cmp_options_init(&o);
  for (int i = 0; i < argc; i++) {
    int rc;
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      printf("%s%s%s\nExit status: 0 nothing worse, 1 something worse (or a file could not be written), 2 bad usage.\n",
             compare_usage, compare_help, sim_cmp_options_help);
      return EXIT_OK;
    }
    rc = sim_cmp_option(&o, argc, argv, &i, "compare");
    if (rc < 0)
      return compare_usage_error();
    if (rc > 0)
      continue;
    if (argv[i][0] == '-' && argv[i][1] != '\0') {
      fprintf(stderr, "dhtsim compare: unknown option %s\n", argv[i]);
      return compare_usage_error();
    }
    if (dir[1] != NULL) {
      fprintf(stderr, "dhtsim compare: unexpected argument '%s'\n", argv[i]);
      return compare_usage_error();
    }
    dir[dir[0] == NULL ? 0 : 1] = argv[i];
  }
  if (dir[1] == NULL) {
    fprintf(stderr, "dhtsim compare: needs BASE_OUT and NEW_OUT, two folders written by dhtsim run --out\n");
    return compare_usage_error();
  }
  memset(side, 0, sizeof side);
  for (int s = 0; s < 2; s++) {
    int rc = sim_cmp_side_read(&side[s], dir[s], "compare", err, sizeof err);
    if (rc < 0) {
      fprintf(stderr, "%s\n", err);
      sim_cmp_side_clear(&side[0]);
      sim_cmp_side_clear(&side[1]);
      return rc == DHT_ENOMEM ? EXIT_REGRESSED : EXIT_USAGE;
    }
  }
  status = sim_cmp_report(&side[0], &side[1], &o, "compare", stdout);
  sim_cmp_side_clear(&side[0]);
  sim_cmp_side_clear(&side[1]);
  return status;
}
