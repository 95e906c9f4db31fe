/* workload.h: fixed lookup lists (`workload: {lookups_file: FILE}`): one lookup
 * per line, "<start node index> <target: 40 hex digits>"; '#' comments and blank lines ignored. */
#ifndef SIM_WORKLOAD_H
#define SIM_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "id.h"

typedef struct sim_lookup_spec {
  uint32_t start; /* index of the node that runs the lookup */
  dht_id target;
} sim_lookup_spec;

/* Loads the file; start indices must be < n_nodes. On success *out (transfer
 * full, g_free) holds *count specs. On error returns DHT_EINVAL / DHT_ENOENT /
 * DHT_ETOOBIG / DHT_ENOMEM with "file:line: message" in err, *out NULL. */
int sim_lookups_load(const char *path, uint32_t n_nodes, sim_lookup_spec **out, size_t *count, char *err,
                     size_t errlen);

#endif
