/* fuzz_lookups: the lookups file reader (sim_lookups_load).
 *
 * The input is the file (an in-memory file named /proc/self/fd/N). The node
 * count (0, 1, 100 or 2^24) and the memory budget (256 MiB, or 480 bytes:
 * 20 lookups) are picked by the input's length, so that every range and the
 * DHTSIM_MEMORY_LIMIT refusal are reachable. A load either fails with
 * "path:..." and nothing returned, or gives specs with in-range start nodes,
 * which are written back in the canonical form and must reload identically. */
#include <glib.h>
#include <inttypes.h>
#include <string.h>

#include "error.h"
#include "fuzz_common.h"
#include "workload.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static fuzz_memfile in, out;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  fuzz_setup();
  fuzz_memfile_open(&in, "lookups-in");
  fuzz_memfile_open(&out, "lookups-out");
  return 0;
}

static void round_trip(const sim_lookup_spec *specs, size_t count, uint32_t n_nodes) {
  GString *text = g_string_new("# canonical\n");
  sim_lookup_spec *again = NULL;
  size_t n2 = 0;
  char err[512];
  for (size_t i = 0; i < count; i++) {
    char hex[DHT_ID_HEXLEN + 1];
    dht_id_to_hex(&specs[i].target, hex);
    g_string_append_printf(text, "%" PRIu32 " %s\n", specs[i].start, hex);
  }
  fuzz_memfile_set(&out, (const uint8_t *)text->str, text->len);
  if (sim_lookups_load(out.path, n_nodes, &again, &n2, err, sizeof err) != 0) {
    fprintf(stderr, "reload of the canonical lookups failed: %s\n", err);
    abort();
  }
  FUZZ_CHECK(n2 == count && memcmp(again, specs, count * sizeof *specs) == 0);
  g_free(again);
  g_string_free(text, TRUE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const uint32_t node_counts[] = {0, 1, 100, 16777216};
  const char *path = fuzz_memfile_set(&in, data, size);
  uint32_t n_nodes = node_counts[size % 4];
  bool tiny = size % 5 == 4;
  sim_lookup_spec *specs = (sim_lookup_spec *)&specs; /* must be reset to NULL on error */
  size_t count = 12345;
  char err[512];
  int rc;

  setenv("DHTSIM_MEMORY_LIMIT", tiny ? "480" : FUZZ_MEMORY_LIMIT, 1);
  memset(err, 0, sizeof err);
  rc = sim_lookups_load(path, n_nodes, &specs, &count, err, sizeof err);
  if (rc < 0) {
    FUZZ_CHECK(rc == DHT_EINVAL || rc == DHT_ETOOBIG || rc == DHT_ENOMEM);
    FUZZ_CHECK(strncmp(err, path, strlen(path)) == 0 && strchr(err, '\n') == NULL);
    FUZZ_CHECK(specs == NULL && count == 0);
    return 0;
  }
  FUZZ_CHECK(rc == 0 && specs != NULL && count >= 1);
  FUZZ_CHECK(!tiny || count <= 20);
  for (size_t i = 0; i < count; i++)
    FUZZ_CHECK(specs[i].start < n_nodes);
  round_trip(specs, count, n_nodes);
  g_free(specs);
  return 0;
}
