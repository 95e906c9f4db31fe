/* cli_helpers.h: running the dhtsim binary from tests, and small file helpers. */
#ifndef DHTSIM_TESTS_CLI_HELPERS_H
#define DHTSIM_TESTS_CLI_HELPERS_H

#include <stddef.h>

typedef struct cli {
  char *out, *err; /* owned: captured stdout and stderr */
  int status;      /* exit code, or 128 + signal number if killed */
} cli;

/* Runs dhtsim with args (NULL-terminated, at most 30) from the repo root; asserts it started. */
cli run_dhtsim(const char *const *args);
void cli_free(cli *r);

/* Contents of dir/name (g_free); asserts it can be read. */
char *slurp(const char *dir, const char *name);
/* Removes a folder and everything below it. */
void rm_rf(const char *path);
/* Number of '\n' in s. */
size_t count_lines(const char *s);
/* Asserts that no "*.tmp" file is left anywhere below dir. */
void assert_no_tmp_files(const char *dir);

#endif
