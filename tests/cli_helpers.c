/* cli_helpers.c: running the dhtsim binary from tests, and small file helpers. */
#include "cli_helpers.h"

#include <criterion/criterion.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <sys/wait.h>
#include <stdbool.h>
#include <string.h>

cli run_dhtsim(const char *const *args) {
  const char *argv[32] = {DHTSIM_BINARY};
  cli r = {0};
  int ws = 0;
  size_t i = 0;
  GError *e = NULL;
  while (args[i] != NULL && i < 30) {
    argv[i + 1] = args[i];
    i++;
  }
  argv[i + 1] = NULL;
  cr_assert(g_spawn_sync(DHTSIM_SOURCE_DIR, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &r.out, &r.err, &ws,
                         &e),
            "spawn failed: %s", e ? e->message : "?");
  r.status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
  return r;
}

void cli_free(cli *r) {
  g_free(r->out);
  g_free(r->err);
}

char *slurp(const char *dir, const char *name) {
  char *p = g_build_filename(dir, name, NULL), *d = NULL;
  cr_assert(g_file_get_contents(p, &d, NULL, NULL), "cannot read %s", p);
  g_free(p);
  return d;
}

void rm_rf(const char *path) {
  GDir *d = g_dir_open(path, 0, NULL);
  const char *n;
  while (d != NULL && (n = g_dir_read_name(d)) != NULL) {
    char *p = g_build_filename(path, n, NULL);
    if (g_file_test(p, G_FILE_TEST_IS_DIR) && !g_file_test(p, G_FILE_TEST_IS_SYMLINK))
      rm_rf(p);
    else
      g_remove(p);
    g_free(p);
  }
  if (d != NULL)
    g_dir_close(d);
  g_remove(path);
}

size_t count_lines(const char *s) {
  size_t n = 0;
  for (; *s; s++)
    n += *s == '\n';
  return n;
}

void assert_no_tmp_files(const char *dir) {
  GDir *d = g_dir_open(dir, 0, NULL);
  const char *n;
  while (d != NULL && (n = g_dir_read_name(d)) != NULL) {
    char *p = g_build_filename(dir, n, NULL);
    cr_assert(g_str_has_suffix(n, ".tmp") == FALSE, "temporary file left behind: %s", p);
    if (g_file_test(p, G_FILE_TEST_IS_DIR))
      assert_no_tmp_files(p);
    g_free(p);
  }
  if (d != NULL)
    g_dir_close(d);
}

/* One RFC 4180 record of s, from *pos to its line end (moved past it). */
static char **csv_record(const char *s, size_t *pos) {
  GPtrArray *a = g_ptr_array_new();
  GString *cur = g_string_new(NULL);
  bool quoted = false;
  size_t i = *pos;
  for (;; i++) {
    char c = s[i];
    if (quoted) {
      cr_assert(c != '\0', "CSV: unterminated quote");
      if (c == '"' && s[i + 1] == '"') {
        g_string_append_c(cur, '"');
        i++;
      } else if (c == '"') {
        quoted = false;
      } else {
        g_string_append_c(cur, c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',' || c == '\n' || c == '\0') {
      g_ptr_array_add(a, g_strdup(cur->str));
      g_string_truncate(cur, 0);
      if (c != ',')
        break;
    } else {
      g_string_append_c(cur, c);
    }
  }
  *pos = s[i] == '\0' ? i : i + 1;
  g_string_free(cur, TRUE);
  g_ptr_array_add(a, NULL);
  return (char **)g_ptr_array_free(a, FALSE);
}

csv csv_parse(const char *text) {
  csv c = {0};
  GPtrArray *rows = g_ptr_array_new();
  size_t pos = 0;
  cr_assert(text[0] != '\0', "CSV: empty");
  c.header = csv_record(text, &pos);
  c.n_cols = g_strv_length(c.header);
  while (text[pos] != '\0') {
    char **r = csv_record(text, &pos);
    cr_assert(g_strv_length(r) == c.n_cols, "CSV row %u: %u fields, header has %zu", rows->len + 1,
              g_strv_length(r), c.n_cols);
    g_ptr_array_add(rows, r);
  }
  c.n_rows = rows->len;
  c.rows = (char ***)g_ptr_array_free(rows, FALSE);
  return c;
}

size_t csv_col(const csv *c, const char *name) {
  for (size_t i = 0; i < c->n_cols; i++)
    if (strcmp(c->header[i], name) == 0)
      return i;
  cr_assert_fail("CSV: no column \"%s\"", name);
  return 0;
}

const char *csv_get(const csv *c, size_t row, const char *name) {
  cr_assert(row < c->n_rows, "CSV: no row %zu", row);
  return c->rows[row][csv_col(c, name)];
}

void csv_free(csv *c) {
  for (size_t i = 0; i < c->n_rows; i++)
    g_strfreev(c->rows[i]);
  g_free(c->rows);
  g_strfreev(c->header);
  memset(c, 0, sizeof *c);
}
