/* latency.h: the scenario's one-way message delay, drawn the one way that
 * both the simulation (sim.c) and the live server (serve.c) use, and the
 * per-run state of the pair models (coordinates, matrix; docs/latency.md). */
#ifndef SIM_LATENCY_H
#define SIM_LATENCY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rng.h"
#include "scenario.h"

/* Most hosts a latency.matrix may have: its M x M floats then take at most
 * 64 MiB (the public King-style matrices have 1740 to 2500 hosts). */
#define SIM_MATRIX_HOSTS_MAX 4096u
/* Longest number in a matrix file (characters). */
#define SIM_MATRIX_NUMBER_MAX 64u

/* An RTT matrix as loaded: unknown entries filled (see sim_matrix_load). */
typedef struct sim_matrix {
  uint32_t m;        /* hosts, 2..SIM_MATRIX_HOSTS_MAX */
  float *rtt_ms;     /* [m*m] row-major RTT from host i to host j, ms; the diagonal is unused (0) */
  float *near_ms;    /* [m] each host's smallest RTT to another host: the RTT of two nodes on one host */
  uint64_t filled;   /* off-diagonal entries that were -1 (unknown) and got filled */
} sim_matrix;

/* Reads a square RTT matrix in ms (docs/latency.md): whitespace-separated
 * numbers, one row per line, blank lines and '#' comments ignored. -1 marks
 * an unknown entry: it takes the symmetric entry when that is known, else the
 * median of the known off-diagonal entries. Diagonal entries are read but
 * ignored. Errors "PATH:LINE:COLUMN: expected ..., got '...'" (DHT_EINVAL),
 * DHT_ETOOBIG beyond SIM_MATRIX_HOSTS_MAX hosts (refused when the first row
 * is read, before the matrix is allocated), DHT_ENOENT / DHT_EIO
 * (sim_infile_open), DHT_ENOMEM, DHT_ECANCELED (stop flag). On error *mx is
 * zeroed with nothing allocated. O(M^2) time, 4 M^2 + 4 M bytes. */
int sim_matrix_load(sim_matrix *mx, const char *path, char *err, size_t errlen);
void sim_matrix_clear(sim_matrix *mx);

/* The latency of one run: the scenario, the seed the pair models place the
 * nodes from, and the matrix. Nothing per node is stored: node i's point,
 * access delay or host is a pure function of (seed, i), drawn when needed. */
typedef struct sim_latency {
  const sim_scenario *sc;
  uint64_t seed;    /* placement seed (the caller's own stream) */
  sim_matrix mx;    /* latency.model matrix: loaded; else zeroed */
} sim_latency;

/* For sc (the point's scenario; borrowed, must outlive lat): loads the matrix
 * when the model is matrix. 0, or sim_matrix_load's error. */
int sim_latency_init(sim_latency *lat, const sim_scenario *sc, uint64_t seed, char *err, size_t errlen);
void sim_latency_clear(sim_latency *lat);

/* A delay in µs of a message from node `from` to node `to`, not yet rounded
 * or clamped: constant: none drawn; uniform: one draw from r; lognormal:
 * Marsaglia polar pairs; coordinates, matrix: the pair's RTT / 2, plus one
 * draw in [0, jitter] when latency.jitter_ms > 0 (none otherwise). Times the
 * slow nodes' multiplier when slow (a slow node sends or receives). Any
 * node index works: serve.c places its client as node n. */
double sim_latency_draw_us(const sim_latency *lat, dht_rng *r, uint32_t from, uint32_t to, bool slow);

/* The pair models' RTT (µs) of a message from `from` to `to`, without jitter
 * or slowness: coordinates: symmetric, |p_a - p_b| + h_a + h_b; matrix: the
 * entry of their hosts (near_ms of the host when both share it). 0 for the
 * other models. */
double sim_latency_rtt_us(const sim_latency *lat, uint32_t from, uint32_t to);
/* Matrix: the host of node i (uniform over the m hosts). */
uint32_t sim_latency_host(const sim_latency *lat, uint32_t i);
/* Coordinates: node i's point (RTT µs from the disk's centre) and access delay (µs). */
void sim_latency_point(const sim_latency *lat, uint32_t i, double *x, double *y, double *h);

#endif
