/* topology.c: the dhtsim-topology v1 reader (strict, bounded by the memory
 * budget before it allocates) and writer. */
#include "topology.h"

#include <errno.h>
#include <glib.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "budget.h"
#include "error.h"
#include "infile.h"
#include "message.h"
#include "network.h"
#include "outfile.h"
#include "text.h"
#include "routing_table.h"

/* dhtsim-topology v1: text, one record per line. Lines whose first non-blank
 * character is '#' and blank lines are ignored anywhere; tokens are separated
 * by spaces or tabs.
 *
 *   dhtsim-topology v1
 *   nodes <N>                                     1 <= N <= SIM_NODES_MAX
 *   <index> <id: 40 hex digits> <host> <port>     N lines, index 0..N-1 in order
 *   contacts
 *   <index>: <contact index> <contact index> ...  N lines, index 0..N-1 in order
 *
 * host is an IPv4 or IPv6 literal (IPv6 with or without [brackets]), port
 * 0..65535. Node IDs and addresses are unique. A contacts line lists that
 * node's routing-table contacts: at most 160*K distinct other nodes, possibly
 * none; they are kept in file order if it is bucket order (every exported
 * table), else stably sorted into it (sim_network_bucket_order). Nothing may
 * follow the last contacts line.
 * Errors: "file:line: message" (DHT_EINVAL for malformed content, DHT_ERANGE
 * for N out of range, DHT_ETOOBIG for an N whose arrays exceed the memory
 * budget, both checked before anything is allocated; "line too long" past
 * TOPO_LINE_MAX bytes), sim_infile_open's (not a regular file, cannot
 * open), DHT_EIO on read errors, DHT_ECANCELED when stopped, DHT_ENOMEM. */

/* The longest line read: more than the longest valid one (a contacts line
 * of 160 * DHT_K_MAX = 40960 contacts of up to 8 digits with single blanks,
 * about 369 KB), with room for comments and extra blanks; anything longer is
 * refused, so a line never costs more than 1 MiB of memory. */
#define TOPO_LINE_MAX ((size_t)1 << 20)

typedef struct topo_reader {
  FILE *f;
  const char *path;
  char *line; /* the current line: at most TOPO_LINE_MAX bytes + NUL */
  size_t cap;
  uint64_t lineno;
  char *err;
  size_t errlen;
} topo_reader;

static int G_GNUC_PRINTF(4, 5) topo_fail(const topo_reader *rd, uint64_t line, int code, const char *fmt, ...) {
  va_list ap;
  int off;
  if (rd->err == NULL || rd->errlen == 0)
    return code;
  off = snprintf(rd->err, rd->errlen, "%s:%llu: ", rd->path, (unsigned long long)line);
  if (off >= 0 && (size_t)off < rd->errlen) {
    va_start(ap, fmt);
    vsnprintf(rd->err + off, rd->errlen - (size_t)off, fmt, ap);
    va_end(ap);
  }
  return code;
}

/* One line into rd->line (its '\n' dropped, NUL-terminated) and *len. At
 * most TOPO_LINE_MAX bytes are kept: a longer line is refused when its
 * TOPO_LINE_MAX + 1st byte arrives, so no input grows the buffer beyond
 * that. The stop flag is polled every 64 KiB. 1, 0 at the end of the file
 * (nothing read), or a negative code with err set. */
static int topo_getline(topo_reader *rd, size_t *len) {
  size_t n = 0;
  int ch;
  while ((ch = getc_unlocked(rd->f)) != EOF && ch != '\n') {
    if (n == TOPO_LINE_MAX)
      return topo_fail(rd, rd->lineno + 1, DHT_EINVAL, "line too long (more than %zu bytes)", TOPO_LINE_MAX);
    if ((n & 0xffff) == 0xffff && sim_infile_stopped())
      return sim_infile_stopped_fail(rd->path, rd->err, rd->errlen);
    if (n + 1 >= rd->cap) {
      size_t ncap = rd->cap < 4096 ? 4096 : rd->cap * 2;
      char *nl;
      if (ncap > TOPO_LINE_MAX + 1)
        ncap = TOPO_LINE_MAX + 1;
      if ((nl = g_try_realloc(rd->line, ncap)) == NULL)
        return sim_fail(rd->err, rd->errlen, DHT_ENOMEM, "%s: out of memory", rd->path);
      rd->line = nl;
      rd->cap = ncap;
    }
    rd->line[n++] = (char)ch;
  }
  if (ch == EOF) {
    if (ferror(rd->f))
      return sim_fail(rd->err, rd->errlen, DHT_EIO, "%s: read error: %s", rd->path, g_strerror(errno));
    if (n == 0)
      return 0;
  }
  if (rd->line == NULL && (rd->line = g_try_malloc(rd->cap = 1)) == NULL)
    return sim_fail(rd->err, rd->errlen, DHT_ENOMEM, "%s: out of memory", rd->path);
  rd->line[n] = '\0';
  *len = n;
  return 1;
}

/* Next content line (comments and blank lines skipped), trimmed. Returns 1 and
 * *out, 0 at end of file, or a negative code with err set. */
static int topo_next(topo_reader *rd, char **out) {
  for (;;) {
    size_t len = 0;
    char *s, *e;
    int rc;
    if (sim_infile_stopped())
      return sim_infile_stopped_fail(rd->path, rd->err, rd->errlen);
    if ((rc = topo_getline(rd, &len)) <= 0)
      return rc;
    rd->lineno++;
    if (memchr(rd->line, '\0', len) != NULL)
      return topo_fail(rd, rd->lineno, DHT_EINVAL, "NUL byte in line");
    s = rd->line;
    e = s + len;
    while (s < e && sim_is_space(*s))
      s++;
    while (e > s && sim_is_space(e[-1]))
      e--;
    *e = '\0';
    if (s == e || *s == '#')
      continue;
    *out = s;
    return 1;
  }
}

/* tok (NULL: "") as sim_show renders untrusted bytes in a message, in buf. */
static const char *shown(char buf[SIM_SHOW_SIZE], const char *tok) {
  sim_show(buf, SIM_SHOW_SIZE, tok ? tok : "", tok ? strlen(tok) : 0);
  return buf;
}

/* Splits off the next token of *p (NUL-terminating it), or NULL if none. */
static char *next_tok(char **p) {
  char *s = *p, *t;
  while (sim_is_blank(*s))
    s++;
  if (*s == '\0') {
    *p = s;
    return NULL;
  }
  t = s;
  while (*s != '\0' && !sim_is_blank(*s))
    s++;
  if (*s != '\0')
    *s++ = '\0';
  *p = s;
  return t;
}

/* Parses one node line into ids[i], addrs[i]. */
static int topo_node_line(topo_reader *rd, sim_network *net, uint32_t i, char *s) {
  char *idx_tok = next_tok(&s), *id_tok = next_tok(&s), *host = next_tok(&s), *port = next_tok(&s), *extra;
  char buf[128], sh[SIM_SHOW_SIZE], sh2[SIM_SHOW_SIZE];
  size_t hl, pl, len;
  bool bracket;
  uint64_t idx;
  if (!sim_parse_u64(idx_tok, &idx))
    return topo_fail(rd, rd->lineno, DHT_EINVAL, "bad node index '%s' (expected '<index> <id> <host> <port>')",
                     shown(sh, idx_tok));
  if (idx >= net->n)
    return topo_fail(rd, rd->lineno, DHT_EINVAL, "node index %llu out of range (nodes %u)",
                     (unsigned long long)idx, net->n);
  if (idx != i)
    return topo_fail(rd, rd->lineno, DHT_EINVAL, "node index %llu out of order (expected %u)",
                     (unsigned long long)idx, i);
  if (id_tok == NULL || dht_id_from_hex(&net->ids[i], id_tok, strlen(id_tok)) < 0)
    return topo_fail(rd, rd->lineno, DHT_EINVAL, "bad node id '%s' (expected 40 hex digits)",
                     shown(sh, id_tok));
  if (host == NULL || port == NULL)
    return topo_fail(rd, rd->lineno, DHT_EINVAL, "missing address (expected '<host> <port>' after the id)");
  hl = strlen(host);
  pl = strlen(port);
  if (hl + pl + 4 > sizeof buf)
    return topo_fail(rd, rd->lineno, DHT_EINVAL, "bad address '%s %s'", shown(sh, host), shown(sh2, port));
  bracket = strchr(host, ':') != NULL && host[0] != '['; /* bare IPv6 */
  len = 0;
  if (bracket)
    buf[len++] = '[';
  memcpy(buf + len, host, hl);
  len += hl;
  if (bracket)
    buf[len++] = ']';
  buf[len++] = ':';
  memcpy(buf + len, port, pl + 1);
  if (dht_addr_parse(&net->addrs[i], buf) < 0)
    return topo_fail(rd, rd->lineno, DHT_EINVAL, "bad address '%s %s' (expected an IPv4 or IPv6 host and a port 0..65535)",
                     shown(sh, host), shown(sh2, port));
  if ((extra = next_tok(&s)) != NULL)
    return topo_fail(rd, rd->lineno, DHT_EINVAL, "trailing garbage '%s'", shown(sh, extra));
  return DHT_OK;
}

/* After sorting: the first (by line) node that repeats an earlier node's ID or
 * address. line_of[i] is node i's line. */
static int topo_check_unique(topo_reader *rd, const sim_network *net, const uint32_t *line_of) {
  uint64_t bad_line = 0, other_line = 0;
  bool bad_is_id = false;
  for (int pass = 0; pass < 2; pass++) {
    const uint32_t *ord = pass == 0 ? net->by_id : net->by_addr;
    for (uint32_t p = 1; p < net->n; p++) {
      uint32_t a = ord[p - 1], b = ord[p];
      bool same = pass == 0 ? dht_id_eq(&net->ids[a], &net->ids[b]) : dht_addr_eq(&net->addrs[a], &net->addrs[b]);
      uint64_t la = line_of[a], lb = line_of[b];
      if (!same)
        continue;
      if (bad_line == 0 || (la > lb ? la : lb) < bad_line) {
        bad_line = la > lb ? la : lb;
        other_line = la < lb ? la : lb;
        bad_is_id = pass == 0;
      }
    }
  }
  if (bad_line == 0)
    return DHT_OK;
  return topo_fail(rd, bad_line, DHT_EINVAL, "duplicate node %s (already on line %llu)",
                   bad_is_id ? "id" : "address", (unsigned long long)other_line);
}

int sim_network_load_topology(sim_network *net, const char *path, unsigned k, char *err, size_t errlen) {
  topo_reader rd;
  uint32_t *line_of = NULL; /* [n] line of each node; then reused as contact marks (i+1) */
  uint64_t n64, cap_c, total = 0;
  const size_t max_per_line = SIM_CONTACTS_MAX(k);
  char *s, *t1, *t2, *t3, sh[SIM_SHOW_SIZE];
  uint32_t n;
  int rc;

  g_return_val_if_fail(net != NULL && path != NULL, DHT_EINVAL);
  memset(net, 0, sizeof *net);
  memset(&rd, 0, sizeof rd);
  rd.path = path;
  rd.err = err;
  rd.errlen = errlen;
  if (err != NULL && errlen > 0)
    err[0] = '\0';
  if (k < 1 || k > DHT_K_MAX)
    return sim_fail(err, errlen, DHT_EINVAL, "%s: k %u out of range 1..%d", path, k, DHT_K_MAX);
  if ((rc = sim_infile_open(path, &rd.f, err, errlen)) < 0)
    return rc;

  /* Header and node count: refused before any allocation. */
  if ((rc = topo_next(&rd, &s)) <= 0) {
    if (rc == 0)
      rc = topo_fail(&rd, rd.lineno > 0 ? rd.lineno : 1, DHT_EINVAL, "missing header 'dhtsim-topology v1'");
    goto err;
  }
  t1 = next_tok(&s);
  t2 = next_tok(&s);
  t3 = next_tok(&s);
  if (strcmp(t1, "dhtsim-topology") != 0 || t2 == NULL || t3 != NULL) {
    rc = topo_fail(&rd, rd.lineno, DHT_EINVAL, "expected header 'dhtsim-topology v1'");
    goto err;
  }
  if (strcmp(t2, "v1") != 0) {
    rc = topo_fail(&rd, rd.lineno, DHT_EINVAL, "unsupported version '%s' (expected v1)", shown(sh, t2));
    goto err;
  }
  if ((rc = topo_next(&rd, &s)) <= 0) {
    if (rc == 0)
      rc = topo_fail(&rd, rd.lineno, DHT_EINVAL, "unexpected end of file: expected 'nodes <N>'");
    goto err;
  }
  t1 = next_tok(&s);
  t2 = next_tok(&s);
  t3 = next_tok(&s);
  if (strcmp(t1, "nodes") != 0 || t2 == NULL || t3 != NULL || !sim_is_digits(t2, strlen(t2))) {
    rc = topo_fail(&rd, rd.lineno, DHT_EINVAL, "expected 'nodes <N>'");
    goto err;
  }
  if (!sim_parse_u64(t2, &n64) || n64 > SIM_NODES_MAX) {
    rc = topo_fail(&rd, rd.lineno, DHT_ERANGE, "nodes %s exceeds the maximum %u", shown(sh, t2), SIM_NODES_MAX);
    goto err;
  }
  if (n64 == 0) {
    rc = topo_fail(&rd, rd.lineno, DHT_ERANGE, "nodes must be at least 1");
    goto err;
  }
  {
    /* What the header alone makes the loader allocate (the per-node arrays,
     * line_of, the first contacts block, the sort scratch), checked against
     * the memory budget first: a two-line file cannot claim gigabytes. */
    bool from_env;
    uint64_t limit;
    uint64_t need = ((uint64_t)2 << 20) + (n64 + 1) * (SIM_NETWORK_NODE_BYTES + sizeof *line_of +
                                                       sizeof *net->contacts + SIM_NETWORK_INDEX_BYTES);
    char msg[256];
    if (sim_memory_limit(&limit, &from_env, msg, sizeof msg) < 0) {
      rc = topo_fail(&rd, rd.lineno, DHT_EINVAL, "%s", msg);
      goto err;
    }
    if (need > limit) {
      sim_memory_over(msg, sizeof msg, need, true, limit, from_env);
      rc = topo_fail(&rd, rd.lineno, DHT_ETOOBIG, "nodes %llu %s", (unsigned long long)n64, msg);
      goto err;
    }
  }
  n = (uint32_t)n64;
  net->k = k;
  if ((rc = sim_network_alloc_nodes(net, n)) < 0)
    goto nomem;
  line_of = g_try_malloc_n(n, sizeof *line_of);
  cap_c = n < 1024 ? 1024 : n;
  net->contacts = g_try_malloc_n(cap_c, sizeof *net->contacts);
  if (line_of == NULL || net->contacts == NULL)
    goto nomem;

  for (uint32_t i = 0; i < n; i++) {
    if ((rc = topo_next(&rd, &s)) <= 0) {
      if (rc == 0)
        rc = topo_fail(&rd, rd.lineno, DHT_EINVAL, "unexpected end of file: expected %u node lines, got %u", n, i);
      goto err;
    }
    if ((rc = topo_node_line(&rd, net, i, s)) < 0)
      goto err;
    line_of[i] = (uint32_t)(rd.lineno > UINT32_MAX ? UINT32_MAX : rd.lineno);
  }
  if ((rc = sim_network_index(net)) < 0)
    goto nomem;
  if ((rc = topo_check_unique(&rd, net, line_of)) < 0)
    goto err;

  if ((rc = topo_next(&rd, &s)) <= 0) {
    if (rc == 0)
      rc = topo_fail(&rd, rd.lineno, DHT_EINVAL, "unexpected end of file: expected 'contacts'");
    goto err;
  }
  if (strcmp(s, "contacts") != 0) {
    rc = topo_fail(&rd, rd.lineno, DHT_EINVAL, "expected 'contacts' after %u node lines, got '%s'", n, shown(sh, s));
    goto err;
  }
  memset(line_of, 0, (size_t)n * sizeof *line_of);
  for (uint32_t i = 0; i < n; i++) {
    uint64_t idx;
    size_t len, cnt = 0;
    char *tok;
    if ((rc = topo_next(&rd, &s)) <= 0) {
      if (rc == 0)
        rc = topo_fail(&rd, rd.lineno, DHT_EINVAL, "unexpected end of file: expected %u contacts lines, got %u", n,
                       i);
      goto err;
    }
    tok = next_tok(&s);
    len = strlen(tok);
    if (len < 2 || tok[len - 1] != ':') {
      rc = topo_fail(&rd, rd.lineno, DHT_EINVAL, "expected '<index>:' at the start of a contacts line, got '%s'",
                     shown(sh, tok));
      goto err;
    }
    tok[len - 1] = '\0';
    if (!sim_parse_u64(tok, &idx)) {
      rc = topo_fail(&rd, rd.lineno, DHT_EINVAL, "bad node index '%s' in contacts", shown(sh, tok));
      goto err;
    }
    if (idx >= n) {
      rc = topo_fail(&rd, rd.lineno, DHT_EINVAL, "node index %llu out of range (nodes %u)", (unsigned long long)idx, n);
      goto err;
    }
    if (idx != i) {
      rc = topo_fail(&rd, rd.lineno, DHT_EINVAL, "contacts index %llu out of order (expected %u)",
                     (unsigned long long)idx, i);
      goto err;
    }
    while ((tok = next_tok(&s)) != NULL) {
      uint64_t c;
      if (!sim_parse_u64(tok, &c)) {
        rc = topo_fail(&rd, rd.lineno, DHT_EINVAL, "bad contact '%s' (expected a node index)", shown(sh, tok));
        goto err;
      }
      if (c >= n) {
        rc = topo_fail(&rd, rd.lineno, DHT_EINVAL, "contact %llu out of range (nodes %u)", (unsigned long long)c, n);
        goto err;
      }
      if (c == i) {
        rc = topo_fail(&rd, rd.lineno, DHT_EINVAL, "node %u lists itself as a contact", i);
        goto err;
      }
      if (line_of[c] == i + 1) {
        rc = topo_fail(&rd, rd.lineno, DHT_EINVAL, "duplicate contact %llu", (unsigned long long)c);
        goto err;
      }
      if (++cnt > max_per_line) {
        rc = topo_fail(&rd, rd.lineno, DHT_EINVAL, "more than %zu contacts (160 * K, K = %u)", max_per_line, k);
        goto err;
      }
      line_of[c] = i + 1;
      if (total == cap_c) { /* doubling: large blocks grow in place (mremap) */
        uint32_t *nc = cap_c > UINT64_MAX / 2 ? NULL : g_try_realloc_n(net->contacts, cap_c * 2, sizeof *nc);
        if (nc == NULL)
          goto nomem;
        net->contacts = nc;
        cap_c *= 2;
      }
      net->contacts[total++] = (uint32_t)c;
    }
    net->contact_off[i + 1] = total;
  }
  if ((rc = topo_next(&rd, &s)) != 0) {
    if (rc > 0)
      rc = topo_fail(&rd, rd.lineno, DHT_EINVAL, "trailing garbage after the last contacts line: '%s'", shown(sh, s));
    goto err;
  }
  {
    uint32_t *shrunk = g_try_realloc_n(net->contacts, total + 1, sizeof *shrunk);
    if (shrunk != NULL)
      net->contacts = shrunk;
  }
  if (sim_network_bucket_order(net) < 0) /* for closest(); exported BEP 5 tables keep their order */
    goto nomem;
  g_free(line_of);
  g_free(rd.line);
  fclose(rd.f);
  return DHT_OK;

nomem:
  rc = sim_fail(err, errlen, DHT_ENOMEM, "%s: out of memory loading %u nodes", path, net->n);
err:
  g_free(line_of);
  sim_network_clear(net);
  g_free(rd.line);
  fclose(rd.f);
  return rc;
}

/* Buffered writer for the exporter: 64 KiB chunks, sticky error. */
typedef struct topo_writer {
  FILE *f;
  size_t len;
  bool failed;
  int err; /* errno of the first failure */
  char buf[1 << 16];
} topo_writer;

static void w_flush(topo_writer *w) {
  if (!w->failed && w->len > 0 && fwrite(w->buf, 1, w->len, w->f) != w->len) {
    w->failed = true;
    w->err = errno;
  }
  w->len = 0;
}

static void w_bytes(topo_writer *w, const char *s, size_t n) {
  if (w->len + n > sizeof w->buf)
    w_flush(w);
  g_assert(n <= sizeof w->buf);
  memcpy(w->buf + w->len, s, n);
  w->len += n;
}

static void w_str(topo_writer *w, const char *s) { w_bytes(w, s, strlen(s)); }

static void w_u64(topo_writer *w, uint64_t v) {
  char tmp[24];
  size_t i = sizeof tmp;
  do {
    tmp[--i] = (char)('0' + v % 10);
    v /= 10;
  } while (v > 0);
  w_bytes(w, tmp + i, sizeof tmp - i);
}

int sim_network_export_topology(const sim_network *net, const char *path, char *err, size_t errlen) {
  sim_outfile out;
  topo_writer *w;
  uint32_t *tab;
  int rc;
  g_return_val_if_fail(net != NULL && path != NULL, DHT_EINVAL);
  w = g_try_new0(topo_writer, 1);
  tab = g_try_new(uint32_t, SIM_CONTACTS_MAX(net->k) + 1);
  if (w == NULL || tab == NULL) {
    g_free(w);
    g_free(tab);
    return sim_fail(err, errlen, DHT_ENOMEM, "%s: out of memory", path);
  }
  /* Through outfile: an interrupted export never leaves a truncated topology at path. */
  if ((rc = sim_outfile_open(&out, path, err, errlen)) < 0) {
    g_free(w);
    g_free(tab);
    return rc;
  }
  w->f = out.f;
  w_str(w, "dhtsim-topology v1\nnodes ");
  w_u64(w, net->n);
  w_str(w, "\n");
  for (uint32_t i = 0; i < net->n; i++) {
    char hex[DHT_ID_HEXLEN + 1], a[DHT_ADDR_STRLEN];
    int len = dht_addr_format(&net->addrs[i], a, sizeof a);
    char *host = a, *colon;
    g_assert(len > 0);
    colon = strrchr(a, ':'); /* "host:port" or "[v6]:port" */
    *colon = '\0';
    if (host[0] == '[') {
      host++;
      colon[-1] = '\0';
    }
    dht_id_to_hex(&net->ids[i], hex);
    w_u64(w, i);
    w_str(w, " ");
    w_str(w, hex);
    w_str(w, " ");
    w_str(w, host);
    w_str(w, " ");
    w_u64(w, net->addrs[i].port);
    w_str(w, "\n");
  }
  w_str(w, "contacts\n");
  for (uint32_t i = 0; i < net->n; i++) {
    size_t c = sim_network_table(net, i, tab); /* on-demand tables are drawn here, one at a time */
    w_u64(w, i);
    w_str(w, ":");
    for (size_t j = 0; j < c; j++) {
      w_str(w, " ");
      w_u64(w, tab[j]);
    }
    w_str(w, "\n");
  }
  w_flush(w);
  if (w->failed) {
    rc = sim_fail(err, errlen, DHT_EIO, "cannot write %s: %s", out.tmp, g_strerror(w->err));
    sim_outfile_abort(&out);
  } else {
    rc = sim_outfile_commit(&out, err, errlen);
  }
  g_free(w);
  g_free(tab);
  return rc;
}
