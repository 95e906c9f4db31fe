/* inputs.h: everything a run will read and check, done once before any run
 * starts (validate, run --dry-run, and run before --out is touched): every
 * point of the sweep, the topology and lookups files (read whole by the
 * run's own loaders, so with the run's messages), each point's memory
 * estimate with the command-line overrides and what the files hold, and
 * whether every run has a live node. A scenario that passes cannot fail a
 * run for its input. */
#ifndef SIM_INPUTS_H
#define SIM_INPUTS_H

#include <stddef.h>
#include <stdint.h>

#include "param.h"
#include "scenario.h"

typedef struct sim_inputs {
  uint32_t topology_nodes; /* nodes of the topology file; 0 without one */
  uint64_t topology_bytes; /* its network as loaded (the estimate's network part) */
  uint64_t file_lookups;   /* lookups in the lookups file; 0 without one */
  uint64_t matrix_bytes;   /* the latency.matrix as loaded (each run of a matrix point holds one); 0 without */
  sim_file_digests digests; /* SHA-256 of each file the scenario reads (the fingerprint's) */
} sim_inputs;

/* Checks sc (after any --seed override) with --lookups `lookups` (0: none)
 * and fills *in. 0, or a negative code with the one-line message in err:
 * the run's message for the same problem; DHT_ECANCELED when the stop flag
 * of infile.h was raised meanwhile. */
int sim_inputs_check(const sim_scenario *sc, uint64_t lookups, sim_inputs *in, char *err, size_t errlen);

/* The SHA-256 of every file sc names (its PATH parameters), into *d: what the
 * output fingerprint hashes. 0, or sim_infile_sha256's error. */
int sim_inputs_digests(const sim_scenario *sc, sim_file_digests *d, char *err, size_t errlen);

/* Estimated peak bytes of one run of point pt, with what the files hold. */
uint64_t sim_inputs_estimate(const sim_inputs *in, const sim_scenario *pt, uint64_t lookups);

#endif
