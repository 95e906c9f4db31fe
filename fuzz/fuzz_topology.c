/* fuzz_topology: the dhtsim-topology v1 loader (sim_network_load_topology).
 *
 * The input is the file (an in-memory file named /proc/self/fd/N); K is 1..8,
 * picked by the input's length, so that the per-node contact cap (160 * K) is
 * reachable by small inputs. A load either fails with "path:..." and leaves
 * the network zeroed, or gives a consistent network, which is then queried
 * (closest, true_closest, find_addr), exported, reloaded, and must come back
 * identical. */
#include <string.h>

#include "error.h"
#include "fuzz_common.h"
#include "network.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static fuzz_memfile in;
/* The export target: a real file in a private folder (in RAM when /dev/shm
 * exists), because export writes FILE.tmp and renames it, which a memfd's
 * /proc/self/fd path cannot do. Removed at exit. */
static char out_dir[64], out_path[96];

static void remove_out(void) {
  char tmp[128];
  snprintf(tmp, sizeof tmp, "%s.tmp", out_path);
  unlink(tmp);
  unlink(out_path);
  rmdir(out_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  fuzz_setup();
  fuzz_memfile_open(&in, "topology-in");
  snprintf(out_dir, sizeof out_dir, "/dev/shm/dhtsim-fuzz-XXXXXX");
  if (mkdtemp(out_dir) == NULL) {
    snprintf(out_dir, sizeof out_dir, "/tmp/dhtsim-fuzz-XXXXXX");
    if (mkdtemp(out_dir) == NULL) {
      perror("mkdtemp");
      abort();
    }
  }
  snprintf(out_path, sizeof out_path, "%s/out.topo", out_dir);
  atexit(remove_out);
  return 0;
}

static void check_network(const sim_network *net, unsigned k) {
  FUZZ_CHECK(net->n >= 1 && net->n <= SIM_NODES_MAX && net->k == k);
  FUZZ_CHECK(net->contact_off[0] == 0);
  for (uint32_t i = 0; i < net->n; i++) {
    uint64_t a = net->contact_off[i], b = net->contact_off[i + 1];
    FUZZ_CHECK(a <= b && b - a <= 160u * k);
    for (uint64_t j = a; j < b; j++)
      FUZZ_CHECK(net->contacts[j] < net->n && net->contacts[j] != i);
  }
  for (uint32_t p = 1; p < net->n; p++) {
    FUZZ_CHECK(dht_id_cmp(&net->ids[net->by_id[p - 1]], &net->ids[net->by_id[p]]) < 0);
    FUZZ_CHECK(dht_addr_cmp(&net->addrs[net->by_addr[p - 1]], &net->addrs[net->by_addr[p]]) < 0);
  }
}

static void query_network(const sim_network *net, unsigned k) {
  uint32_t res[16], idx;
  size_t want = k < 16 ? k : 16, got;
  dht_id target;
  /* Targets: node 0's ID flipped in its last bit, and the last node's ID. */
  target = net->ids[0];
  target.b[DHT_ID_LEN - 1] ^= 1;
  for (uint32_t i = 0; i < net->n && i < 64; i++) {
    got = sim_network_closest(net, i, &target, res, want);
    FUZZ_CHECK(got <= want && got <= net->contact_off[i + 1] - net->contact_off[i]);
    for (size_t j = 1; j < got; j++)
      FUZZ_CHECK(dht_id_distance_cmp(&target, &net->ids[res[j - 1]], &net->ids[res[j]]) < 0);
    FUZZ_CHECK(sim_network_find_addr(net, &net->addrs[i], &idx) == 0 && idx == i);
  }
  got = sim_network_true_closest(net, &net->ids[net->n - 1], 0, res, want);
  FUZZ_CHECK(got == (net->n < want ? net->n : want));
  FUZZ_CHECK(res[0] == net->n - 1);
  for (size_t j = 1; j < got; j++)
    FUZZ_CHECK(dht_id_distance_cmp(&net->ids[net->n - 1], &net->ids[res[j - 1]], &net->ids[res[j]]) < 0);
}

static void round_trip(const sim_network *net, unsigned k) {
  sim_network again;
  char err[512];
  FUZZ_CHECK(sim_network_export_topology(net, out_path, err, sizeof err) == 0);
  if (sim_network_load_topology(&again, out_path, k, err, sizeof err) != 0) {
    fprintf(stderr, "reload of the exported network failed: %s\n", err);
    abort();
  }
  FUZZ_CHECK(again.n == net->n);
  FUZZ_CHECK(memcmp(again.ids, net->ids, (size_t)net->n * sizeof *net->ids) == 0);
  FUZZ_CHECK(memcmp(again.addrs, net->addrs, (size_t)net->n * sizeof *net->addrs) == 0);
  FUZZ_CHECK(memcmp(again.contact_off, net->contact_off, ((size_t)net->n + 1) * sizeof *net->contact_off) == 0);
  FUZZ_CHECK(memcmp(again.contacts, net->contacts, net->contact_off[net->n] * sizeof *net->contacts) == 0);
  sim_network_clear(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_memfile_set(&in, data, size);
  unsigned k = 1 + (unsigned)(size % 8);
  sim_network net;
  char err[512];
  int rc;

  memset(err, 0, sizeof err);
  rc = sim_network_load_topology(&net, path, k, err, sizeof err);
  if (rc < 0) {
    FUZZ_CHECK(rc == DHT_EINVAL || rc == DHT_ERANGE || rc == DHT_ENOMEM || rc == DHT_ETOOBIG);
    FUZZ_CHECK(strncmp(err, path, strlen(path)) == 0 && strchr(err, '\n') == NULL);
    FUZZ_CHECK(net.n == 0 && net.ids == NULL && net.contacts == NULL);
    return 0;
  }
  FUZZ_CHECK(rc == 0);
  check_network(&net, k);
  query_network(&net, k);
  round_trip(&net, k);
  sim_network_clear(&net);
  return 0;
}
