/* fuzz_matrix: the RTT matrix reader of latency.model: matrix (sim_matrix_load).
 *
 * The input is the file (an in-memory file named /proc/self/fd/N). The
 * memory budget (256 MiB, or 64 bytes: a 3 x 3 matrix at most) is picked by
 * the input's length, so that the budget refusal is reachable. A load either
 * fails with "path..." on one line and leaves the matrix zeroed, or gives a
 * complete matrix (every entry known, in range, a zero diagonal, near_ms the
 * row minimum), which is written back in full precision and must reload
 * identically. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "error.h"
#include "fuzz_common.h"
#include "latency.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static fuzz_memfile in, out;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  fuzz_setup();
  fuzz_memfile_open(&in, "matrix-in");
  fuzz_memfile_open(&out, "matrix-out");
  return 0;
}

static void check_matrix(const sim_matrix *mx) {
  uint32_t m = mx->m;
  FUZZ_CHECK(m >= 2 && m <= SIM_MATRIX_HOSTS_MAX && mx->rtt_ms != NULL && mx->near_ms != NULL);
  FUZZ_CHECK(mx->filled <= (uint64_t)m * (m - 1));
  for (uint32_t i = 0; i < m; i++) {
    float best = INFINITY;
    FUZZ_CHECK(mx->rtt_ms[(size_t)i * m + i] == 0.0f);
    for (uint32_t j = 0; j < m; j++) {
      float v = mx->rtt_ms[(size_t)i * m + j];
      FUZZ_CHECK(isfinite(v) && v >= 0.0f && v <= 3600000.0f);
      if (j != i && v < best)
        best = v;
    }
    FUZZ_CHECK(mx->near_ms[i] == best);
  }
}

/* The matrix written back (%.9g: a float reads back as itself) reloads as it is. */
static void round_trip(const sim_matrix *mx) {
  GString *text = g_string_new("# canonical\n");
  sim_matrix again;
  char err[512];
  for (uint32_t i = 0; i < mx->m; i++) {
    for (uint32_t j = 0; j < mx->m; j++)
      g_string_append_printf(text, "%s%.9g", j ? " " : "", (double)mx->rtt_ms[(size_t)i * mx->m + j]);
    g_string_append_c(text, '\n');
  }
  fuzz_memfile_set(&out, (const uint8_t *)text->str, text->len);
  if (sim_matrix_load(&again, out.path, err, sizeof err) != 0) {
    fprintf(stderr, "reload of the canonical matrix failed: %s\n", err);
    abort();
  }
  FUZZ_CHECK(again.m == mx->m && again.filled == 0);
  FUZZ_CHECK(memcmp(again.rtt_ms, mx->rtt_ms, (size_t)mx->m * mx->m * sizeof(float)) == 0);
  FUZZ_CHECK(memcmp(again.near_ms, mx->near_ms, mx->m * sizeof(float)) == 0);
  sim_matrix_clear(&again);
  g_string_free(text, TRUE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_memfile_set(&in, data, size);
  bool tiny = size % 7 == 6;
  sim_matrix mx;
  char err[512];
  int rc;

  setenv("DHTSIM_MEMORY_LIMIT", tiny ? "64" : FUZZ_MEMORY_LIMIT, 1);
  memset(err, 0, sizeof err);
  memset(&mx, 0xa5, sizeof mx); /* must be zeroed on error */
  rc = sim_matrix_load(&mx, path, err, sizeof err);
  setenv("DHTSIM_MEMORY_LIMIT", FUZZ_MEMORY_LIMIT, 1);
  if (rc < 0) {
    FUZZ_CHECK(rc == DHT_EINVAL || rc == DHT_ETOOBIG || rc == DHT_ENOMEM);
    FUZZ_CHECK(strncmp(err, path, strlen(path)) == 0 && strchr(err, '\n') == NULL);
    FUZZ_CHECK(mx.m == 0 && mx.rtt_ms == NULL && mx.near_ms == NULL && mx.filled == 0);
    return 0;
  }
  FUZZ_CHECK(rc == 0);
  FUZZ_CHECK(!tiny || (uint64_t)mx.m * mx.m * 4 + mx.m * 4 <= 64);
  check_matrix(&mx);
  round_trip(&mx);
  sim_matrix_clear(&mx);
  return 0;
}
