/* record.c: a finished point's numbers (record.h): built from the point,
 * written to and read back from its part file, and rendered as its
 * summary.csv row and summary.json element. */
#include "record.h"

#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "message.h"
#include "text.h"

#define RECORD_MAGIC "dhtsim-point v1"

void sim_record_free(sim_record *r) {
  if (r == NULL)
    return;
  g_free(r->text);
  g_free(r);
}

/* Lays out label and the parameter texts (NULL: unset) in one allocation. */
static sim_record *record_alloc(uint64_t point, const char *label, const char *const param[SIM_PARAM_COUNT]) {
  sim_record *r = g_try_new0(sim_record, 1);
  size_t size = strlen(label) + 1;
  char *p;
  if (r == NULL)
    return NULL;
  for (int i = 0; i < SIM_PARAM_COUNT; i++)
    size += param[i] != NULL ? strlen(param[i]) + 1 : 0;
  r->text = p = g_try_malloc(size);
  if (p == NULL) {
    g_free(r);
    return NULL;
  }
  r->point = point;
  r->label = p;
  p = stpcpy(p, label) + 1;
  for (int i = 0; i < SIM_PARAM_COUNT; i++) {
    if (param[i] == NULL)
      continue;
    r->param[i] = p;
    p = stpcpy(p, param[i]) + 1;
  }
  return r;
}

sim_record *sim_record_new(uint64_t point, const char *label, const sim_scenario *cols,
                           const sim_agg agg[SIM_FIG_COUNT]) {
  /* Formatted into one buffer first: a name or a path may be long. */
  char *buf = g_try_malloc((size_t)SIM_PARAM_COUNT * SIM_PARAM_TEXT_SIZE);
  const char *param[SIM_PARAM_COUNT];
  sim_record *r;
  if (buf == NULL)
    return NULL;
  for (int i = 0; i < SIM_PARAM_COUNT; i++) {
    char *t = buf + (size_t)i * SIM_PARAM_TEXT_SIZE;
    param[i] = NULL;
    if (sim_param_is_set((sim_param_id)i, cols)) {
      sim_param_format((sim_param_id)i, cols, t, SIM_PARAM_TEXT_SIZE);
      param[i] = t;
    }
  }
  r = record_alloc(point, label, param);
  g_free(buf);
  if (r != NULL)
    memcpy(r->agg, agg, sizeof r->agg);
  return r;
}

/* ---- the part file ----
 *
 *   dhtsim-point v1
 *   point 3
 *   label lookup.alpha=1 lookup.k=8
 *   param name = sweep-small          ("param KEY -" when unset)
 *   fig queries_mean 1 1 0x1.b555555555555p+3 0x1.4f2d7c1a1b2c3p-2
 *   ...                               (present, has_ci, mean and ci95 as %a)
 *   end
 *
 * Parameters and figures in table order, one each. Texts are escaped so that
 * a line stays a line: backslash as \\, control bytes and DEL as \xNN. */

static void put_escaped(FILE *f, const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '\\')
      fputs("\\\\", f);
    else if (*p < 0x20 || *p == 0x7f)
      fprintf(f, "\\x%02x", *p);
    else
      fputc(*p, f);
  }
}

int sim_record_write(FILE *f, const sim_record *r) {
  fprintf(f, RECORD_MAGIC "\npoint %" PRIu64 "\nlabel ", r->point);
  put_escaped(f, r->label);
  fputc('\n', f);
  for (int i = 0; i < SIM_PARAM_COUNT; i++) {
    fprintf(f, "param %s ", sim_params[i].key);
    if (r->param[i] == NULL) {
      fputs("-\n", f);
      continue;
    }
    fputs("= ", f);
    put_escaped(f, r->param[i]);
    fputc('\n', f);
  }
  for (int i = 0; i < SIM_FIG_COUNT; i++) {
    const sim_agg *a = &r->agg[i];
    /* %a: exact, so that a read-back record renders the same %.6f text. */
    fprintf(f, "fig %s %d %d %a %a\n", sim_figure_table[i].name, a->present, a->has_ci, a->mean, a->ci95);
  }
  fputs("end\n", f);
  return ferror(f) ? DHT_EIO : 0;
}

/* A line reader over the record text. */
typedef struct reader {
  const char *p, *end;
  unsigned line;
  char *err;
  size_t errlen;
} reader;

/* The next line without its '\n' as [*s, *s + *n); false at the end or when the last line has no '\n'. */
static bool next_line(reader *rd, const char **s, size_t *n) {
  const char *nl;
  if (rd->p >= rd->end)
    return false;
  nl = memchr(rd->p, '\n', (size_t)(rd->end - rd->p));
  if (nl == NULL)
    return false;
  *s = rd->p;
  *n = (size_t)(nl - rd->p);
  rd->p = nl + 1;
  return true;
}

static int bad(reader *rd, const char *what) {
  return sim_fail(rd->err, rd->errlen, DHT_EINVAL, "line %u: expected %s", rd->line, what);
}

/* Reads the next line, which must be "PREFIX rest", and points *rest at what
 * follows the prefix. rd->line is then that line's number, read or not. */
static bool take(reader *rd, const char *prefix, const char **rest, size_t *n) {
  const char *s;
  size_t len, plen = strlen(prefix);
  rd->line++;
  if (!next_line(rd, &s, &len) || len < plen || memcmp(s, prefix, plen) != 0)
    return false;
  *rest = s + plen;
  *n = len - plen;
  return true;
}

/* take() for a line a record of an older dhtsim may lack: a quiet key's
 * (param.h) or its figure's. When the next line is not it, nothing is
 * consumed and *missing is set. */
static bool take_optional(reader *rd, const char *prefix, bool optional, const char **rest, size_t *n,
                          bool *missing) {
  reader saved = *rd;
  *missing = false;
  if (take(rd, prefix, rest, n))
    return true;
  if (!optional)
    return false;
  *rd = saved;
  *missing = true;
  return true;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

/* Unescapes s[0..n) into out (room for n + 1 bytes); false if malformed or holding a NUL. */
static bool unescape(const char *s, size_t n, char *out) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] != '\\') {
      out[o++] = s[i];
      continue;
    }
    if (i + 1 < n && s[i + 1] == '\\') {
      out[o++] = '\\';
      i++;
    } else if (i + 3 < n && s[i + 1] == 'x' && hexval(s[i + 2]) >= 0 && hexval(s[i + 3]) >= 0 &&
               hexval(s[i + 2]) * 16 + hexval(s[i + 3]) != 0) {
      out[o++] = (char)(hexval(s[i + 2]) * 16 + hexval(s[i + 3]));
      i += 3;
    } else {
      return false;
    }
  }
  out[o] = '\0';
  return true;
}

/* A strtod number filling exactly s[0..n) (no blanks). */
static bool parse_double(const char *s, size_t n, double *out) {
  char buf[64], *end;
  if (n == 0 || n >= sizeof buf)
    return false;
  memcpy(buf, s, n);
  buf[n] = '\0';
  errno = 0;
  *out = strtod(buf, &end);
  return end == buf + n && errno == 0;
}

/* "P C MEAN CI" after "fig NAME ". */
static bool parse_fig(const char *s, size_t n, sim_agg *a) {
  const char *sp;
  if (n < 4 || (s[0] != '0' && s[0] != '1') || s[1] != ' ' || (s[2] != '0' && s[2] != '1') || s[3] != ' ')
    return false;
  a->present = s[0] == '1';
  a->has_ci = s[2] == '1';
  s += 4;
  n -= 4;
  sp = memchr(s, ' ', n);
  return sp != NULL && parse_double(s, (size_t)(sp - s), &a->mean) &&
         parse_double(sp + 1, n - (size_t)(sp - s) - 1, &a->ci95) && (a->present || !a->has_ci);
}

sim_record *sim_record_parse(const char *data, size_t len, uint64_t point, int *rc, char *err, size_t errlen) {
  reader rd = {data, data + len, 0, err, errlen};
  /* Unescaped texts are never longer than the escaped ones: one buffer of len bytes holds them all. */
  char *buf = g_try_malloc(len + 1), *at = buf;
  const char *param[SIM_PARAM_COUNT] = {0}, *label = NULL, *s;
  sim_agg agg[SIM_FIG_COUNT];
  sim_record *r = NULL;
  size_t n;
  uint64_t got;

  *rc = 0;
  memset(agg, 0, sizeof agg); /* a figure an older record lacks: not present */
  if (buf == NULL) {
    *rc = sim_fail(err, errlen, DHT_ENOMEM, "out of memory");
    return NULL;
  }
  if (!take(&rd, RECORD_MAGIC, &s, &n) || n != 0) {
    *rc = bad(&rd, "\"" RECORD_MAGIC "\"");
    goto out;
  }
  {
    char num[32];
    if (!take(&rd, "point ", &s, &n) || n == 0 || n >= sizeof num) {
      *rc = bad(&rd, "point N");
      goto out;
    }
    memcpy(num, s, n);
    num[n] = '\0';
    if (!sim_parse_u64(num, &got) || got != point) {
      *rc = bad(&rd, "the point's own index");
      goto out;
    }
  }
  if (!take(&rd, "label ", &s, &n) || !unescape(s, n, at)) {
    *rc = bad(&rd, "label TEXT");
    goto out;
  }
  label = at;
  at += strlen(at) + 1;
  for (int i = 0; i < SIM_PARAM_COUNT; i++) {
    char prefix[128];
    bool missing;
    snprintf(prefix, sizeof prefix, "param %s ", sim_params[i].key);
    /* A record written before a quiet key existed has no line for it: unset. */
    if (!take_optional(&rd, prefix, (sim_params[i].flags & SIM_PARAM_QUIET) != 0, &s, &n, &missing) ||
        (!missing && !((n == 1 && s[0] == '-') || (n >= 2 && s[0] == '=' && s[1] == ' ')))) {
      *rc = sim_fail(err, errlen, DHT_EINVAL, "line %u: expected \"param %s = VALUE\" or \"param %s -\"", rd.line,
                     sim_params[i].key, sim_params[i].key);
      goto out;
    }
    if (missing || n == 1)
      continue;
    if (!unescape(s + 2, n - 2, at)) {
      *rc = sim_fail(err, errlen, DHT_EINVAL, "line %u: malformed value of %s", rd.line, sim_params[i].key);
      goto out;
    }
    param[i] = at;
    at += strlen(at) + 1;
  }
  for (int i = 0; i < SIM_FIG_COUNT; i++) {
    char prefix[128];
    bool missing;
    snprintf(prefix, sizeof prefix, "fig %s ", sim_figure_table[i].name);
    /* Likewise a figure of a quiet key's (absent: not present). */
    if (!take_optional(&rd, prefix, sim_figure_table[i].presence == SIM_PRESENT_UNREACHABLE, &s, &n, &missing) ||
        (!missing && !parse_fig(s, n, &agg[i]))) {
      *rc = sim_fail(err, errlen, DHT_EINVAL, "line %u: expected \"fig %s PRESENT HAS_CI MEAN CI95\"", rd.line,
                     sim_figure_table[i].name);
      goto out;
    }
  }
  if (!take(&rd, "end", &s, &n) || n != 0 || rd.p != rd.end) {
    *rc = bad(&rd, "\"end\" as the last line");
    goto out;
  }
  r = record_alloc(point, label, param);
  if (r == NULL) {
    *rc = sim_fail(err, errlen, DHT_ENOMEM, "out of memory");
    goto out;
  }
  memcpy(r->agg, agg, sizeof r->agg);
out:
  g_free(buf);
  return r;
}

/* ---- summary.csv and summary.json ---- */

int sim_record_write_summary_header(FILE *f, const sim_columns *shown) {
  fputs("point,label", f);
  sim_write_params_header(f, shown);
  for (int i = 0; i < SIM_FIG_COUNT; i++)
    if (shown->fig[i])
      fprintf(f, ",%s,%s_ci95", sim_figure_table[i].name, sim_figure_table[i].name);
  fputc('\n', f);
  return ferror(f) ? DHT_EIO : 0;
}

int sim_record_write_summary_row(FILE *f, const sim_record *r, const sim_columns *shown) {
  fprintf(f, "%" PRIu64 ",", r->point);
  sim_write_csv_text(f, r->label);
  for (int i = 0; i < SIM_PARAM_COUNT; i++) {
    if (!shown->param[i])
      continue;
    fputc(',', f);
    sim_write_csv_text(f, r->param[i] != NULL ? r->param[i] : "");
  }
  for (int i = 0; i < SIM_FIG_COUNT; i++) {
    if (!shown->fig[i])
      continue;
    fputc(',', f);
    if (r->agg[i].present)
      fprintf(f, "%.6f", r->agg[i].mean);
    fputc(',', f);
    if (r->agg[i].has_ci)
      fprintf(f, "%.6f", r->agg[i].ci95);
  }
  fputc('\n', f);
  return ferror(f) ? DHT_EIO : 0;
}

int sim_record_write_json(FILE *f, const sim_record *r, const sim_columns *shown) {
  bool first = true;
  fprintf(f, "    {\"point\": %" PRIu64 ", \"label\": ", r->point);
  sim_write_json_string(f, r->label);
  fputs(",\n     \"params\": {", f);
  for (int i = 0; i < SIM_PARAM_COUNT; i++) {
    if (!shown->param[i])
      continue;
    fputs(first ? "" : ", ", f);
    first = false;
    sim_write_json_string(f, sim_params[i].key);
    fputs(": ", f);
    if (r->param[i] == NULL)
      fputs("null", f);
    else if (sim_param_is_text((sim_param_id)i))
      sim_write_json_string(f, r->param[i]);
    else
      fputs(r->param[i], f);
  }
  fputs("},\n     \"stats\": {", f);
  first = true;
  for (int i = 0; i < SIM_FIG_COUNT; i++) {
    const sim_agg *a = &r->agg[i];
    if (!shown->fig[i])
      continue;
    fprintf(f, "%s\"%s\": {\"mean\": ", first ? "" : ", ", sim_figure_table[i].name);
    first = false;
    if (a->present)
      fprintf(f, "%.6f", a->mean);
    else
      fputs("null", f);
    fputs(", \"ci95\": ", f);
    if (a->has_ci)
      fprintf(f, "%.6f}", a->ci95);
    else
      fputs("null}", f);
  }
  fputs("}}", f);
  return ferror(f) ? DHT_EIO : 0;
}
