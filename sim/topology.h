/* topology.h: the dhtsim-topology v1 file: a network's node IDs, addresses and
 * routing tables as text, read strictly (file:line messages) and written
 * through outfile.h. Included by network.h. */
#ifndef SIM_TOPOLOGY_H
#define SIM_TOPOLOGY_H

#include <stddef.h>

/* network.h includes this header, so the type is only declared here. */
struct sim_network;

/* Loads a dhtsim-topology v1 file into *net (zeroed first) with bucket size k.
 * On error returns a negative code, leaves *net cleared and writes
 * "file:line: message" into err (errlen bytes). */
int sim_network_load_topology(struct sim_network *net, const char *path, unsigned k, char *err, size_t errlen);
/* Writes the network as dhtsim-topology v1 (PATH.tmp renamed over PATH when
 * complete). 0, DHT_EIO or DHT_ENOMEM (err says why). */
int sim_network_export_topology(const struct sim_network *net, const char *path, char *err, size_t errlen);

#endif
