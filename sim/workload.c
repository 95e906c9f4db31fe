/* workload.c: strict reader for fixed lookup lists (`workload.lookups_file`).
 *
 * One lookup per line: "<start node index> <target: 40 hex digits>", fields
 * separated by spaces or tabs. Blank lines and comments (a '#' where a field
 * would start, to the end of the line) are ignored; "\r\n" line ends are
 * accepted. Anything else is an error "file:line: message". Only regular
 * files are read (sim_infile_open), and the stop flag is polled on every
 * line and every 64 KiB of a long comment. The array grows as
 * lines are read and never beyond the memory budget (DHTSIM_MEMORY_LIMIT or the
 * machine's physical memory). */
#include "workload.h"

#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "budget.h"
#include "error.h"
#include "infile.h"
#include "message.h"
#include "param.h"
#include "text.h"

#define LINE_BYTES 512 /* longest line kept (comments may run longer) */

typedef struct field_ref {
  char *s;
  size_t n;
} field_ref;

/* CR separates fields as well: it ends the target of a "\r\n" line, and
 * elsewhere it is taken as a blank. */
static bool is_sep(char ch) { return sim_is_blank(ch) || ch == '\r'; }

/* Parses one line (buf[0..n), writable, buf[n] available). Returns 1 with *spec
 * filled, 0 for a blank/comment line, or a negative code with err set. */
static int parse_line(const char *path, uint64_t lineno, char *buf, size_t n, bool truncated, uint32_t n_nodes,
                      sim_lookup_spec *spec, char *err, size_t errlen) {
  field_ref f[3];
  size_t nf = 0, i = 0;
  bool comment = false;
  char shown[SIM_SHOW_SIZE];
  while (i < n && nf < 3) {
    while (i < n && is_sep(buf[i]))
      i++;
    if (i == n)
      break;
    if (buf[i] == '#') {
      comment = true;
      break;
    }
    size_t start = i;
    while (i < n && !is_sep(buf[i]))
      i++;
    f[nf].s = buf + start;
    f[nf].n = i - start;
    nf++;
  }
  if (truncated && !comment) {
    sim_fail(err, errlen, 0, "%s:%" G_GUINT64_FORMAT ": line too long (more than %d bytes)", path, lineno,
            LINE_BYTES);
    return DHT_EINVAL;
  }
  if (nf == 0)
    return 0;
  if (nf == 1) {
    sim_fail(err, errlen, 0,
            "%s:%" G_GUINT64_FORMAT ": expected 2 fields '<start node index> <target: 40 hex digits>', got 1",
            path, lineno);
    return DHT_EINVAL;
  }
  if (nf == 3) {
    sim_show(shown, sizeof shown, f[2].s, f[2].n);
    sim_fail(err, errlen, 0, "%s:%" G_GUINT64_FORMAT ": unexpected text '%s' after the target", path, lineno, shown);
    return DHT_EINVAL;
  }

  /* The start node index: decimal digits only, no overflow, below n_nodes. */
  sim_show(shown, sizeof shown, f[0].s, f[0].n);
  if (!sim_is_digits(f[0].s, f[0].n)) {
    sim_fail(err, errlen, 0, "%s:%" G_GUINT64_FORMAT ": bad start node index '%s' (expected a decimal integer)", path,
            lineno, shown);
    return DHT_EINVAL;
  }
  char saved = f[0].s[f[0].n];
  uint64_t idx = 0;
  f[0].s[f[0].n] = '\0';
  bool fits = sim_parse_u64(f[0].s, &idx); /* digits already: false means overflow */
  f[0].s[f[0].n] = saved;
  if (!fits || idx >= n_nodes) {
    if (n_nodes == 0)
      sim_fail(err, errlen, 0, "%s:%" G_GUINT64_FORMAT ": start node index %s is out of range (the network has no nodes)",
              path, lineno, shown);
    else
      sim_fail(err, errlen, 0,
              "%s:%" G_GUINT64_FORMAT ": start node index %s is out of range (the network has %" PRIu32
              " nodes: 0 to %" PRIu32 ")",
              path, lineno, shown, n_nodes, n_nodes - 1);
    return DHT_EINVAL;
  }

  if (dht_id_from_hex(&spec->target, f[1].s, f[1].n) != DHT_OK) {
    sim_show(shown, sizeof shown, f[1].s, f[1].n);
    sim_fail(err, errlen, 0, "%s:%" G_GUINT64_FORMAT ": bad target '%s' (expected 40 hex digits)", path, lineno,
            shown);
    return DHT_EINVAL;
  }
  spec->start = (uint32_t)idx;
  return 1;
}

int sim_lookups_load(const char *path, uint32_t n_nodes, sim_lookup_spec **out, size_t *count, char *err,
                     size_t errlen) {
  if (err != NULL && errlen > 0)
    err[0] = '\0';
  if (out != NULL)
    *out = NULL;
  if (count != NULL)
    *count = 0;
  if (path == NULL || out == NULL || count == NULL) {
    sim_fail(err, errlen, 0, "%s: invalid arguments", path ? path : "<lookups>");
    return DHT_EINVAL;
  }

  uint64_t limit;
  bool from_env;
  char msg[256];
  if (sim_memory_limit(&limit, &from_env, msg, sizeof msg) != DHT_OK) {
    sim_fail(err, errlen, 0, "%s: %s", path, msg);
    return DHT_EINVAL;
  }
  uint64_t max_specs = limit / sizeof(sim_lookup_spec);

  FILE *f;
  int orc = sim_infile_open(path, &f, err, errlen);
  if (orc < 0)
    return orc;

  sim_lookup_spec *specs = NULL;
  size_t n = 0, cap = 0;
  uint64_t lineno = 0;
  char buf[LINE_BYTES + 1];
  int rc = DHT_OK;
  bool eof = false;
  while (rc == DHT_OK && !eof) {
    size_t len = 0;
    bool truncated = false;
    uint64_t skipped = 0;
    int ch;
    if (sim_infile_stopped()) {
      rc = sim_infile_stopped_fail(path, err, errlen);
      break;
    }
    /* A comment may run on (regular files only: it ends), but not unwatched. */
    while ((ch = getc_unlocked(f)) != EOF && ch != '\n') {
      if (len < LINE_BYTES) {
        buf[len++] = (char)ch;
      } else {
        truncated = true;
        if ((++skipped & 0xffff) == 0 && sim_infile_stopped())
          break;
      }
    }
    if (ch != EOF && ch != '\n') {
      rc = sim_infile_stopped_fail(path, err, errlen);
      break;
    }
    if (ch == EOF) {
      if (ferror(f)) {
        sim_fail(err, errlen, 0, "%s: cannot read: %s", path, g_strerror(errno));
        rc = DHT_EIO;
        break;
      }
      eof = true;
      if (len == 0 && !truncated)
        break; /* nothing after the last newline */
    }
    lineno++;
    buf[len] = '\0';
    sim_lookup_spec spec;
    int r = parse_line(path, lineno, buf, len, truncated, n_nodes, &spec, err, errlen);
    if (r < 0) {
      rc = r;
      break;
    }
    if (r == 0)
      continue;
    if (n >= SIM_LOOKUPS_MAX) {
      sim_fail(err, errlen, 0, "%s:%" G_GUINT64_FORMAT ": too many lookups (at most %u)", path, lineno, SIM_LOOKUPS_MAX);
      rc = DHT_EINVAL;
      break;
    }
    if ((uint64_t)n + 1 > max_specs) {
      sim_memory_over(msg, sizeof msg, ((uint64_t)n + 1) * sizeof(sim_lookup_spec), false, limit, from_env);
      sim_fail(err, errlen, 0, "%s:%" G_GUINT64_FORMAT ": %zu lookups %s", path, lineno, n + 1, msg);
      rc = DHT_ETOOBIG;
      break;
    }
    if (n == cap) {
      uint64_t ncap = cap < 1024 ? 1024 : (uint64_t)cap * 2;
      if (ncap > max_specs)
        ncap = max_specs;
      if (ncap > SIM_LOOKUPS_MAX)
        ncap = SIM_LOOKUPS_MAX;
      sim_lookup_spec *ns = g_try_realloc_n(specs, (size_t)ncap, sizeof *specs);
      if (ns == NULL) {
        sim_fail(err, errlen, 0, "%s:%" G_GUINT64_FORMAT ": out of memory", path, lineno);
        rc = DHT_ENOMEM;
        break;
      }
      specs = ns;
      cap = (size_t)ncap;
    }
    specs[n++] = spec;
  }
  fclose(f);

  if (rc == DHT_OK && n == 0) {
    sim_fail(err, errlen, 0, "%s: no lookups in the file (only blank lines and comments)", path);
    rc = DHT_EINVAL;
  }
  if (rc != DHT_OK) {
    g_free(specs);
    return rc;
  }
  if (n < cap) {
    sim_lookup_spec *ns = g_try_realloc_n(specs, n, sizeof *specs);
    if (ns != NULL)
      specs = ns;
  }
  *out = specs;
  *count = n;
  return DHT_OK;
}
