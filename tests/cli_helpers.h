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

/* A CSV file (RFC 4180), header and rows of fields. */
typedef struct csv {
  char **header;  /* owned */
  char ***rows;   /* owned: [n_rows], each n_cols fields */
  size_t n_cols, n_rows;
} csv;

/* Parses text; asserts every row has the header's number of fields. */
csv csv_parse(const char *text);
/* The index of column name; asserts it exists. */
size_t csv_col(const csv *c, const char *name);
/* Row `row` (0-based, after the header), column name. */
const char *csv_get(const csv *c, size_t row, const char *name);
void csv_free(csv *c);

#endif
