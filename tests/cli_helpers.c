/* cli_helpers.c: running the dhtsim binary from tests, and small file helpers. */
#include "cli_helpers.h"

#include <criterion/criterion.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <sys/wait.h>

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
