/* live.h: `dhtsim lookup --live ADDR... TARGET`: core's own lookup (any
 * strategy, unchanged) driven over real UDP instead of the simulated network,
 * seeded from the given nodes; prints what it found and its statistics.
 *
 * Like `serve`, it talks to loopback only: every ADDR must be in
 * 127.0.0.0/8, nodes that answers name outside it are reported to the lookup
 * as failed at once (never sent to), and datagrams from outside are dropped.
 * An ADDR given without its ID (ID@host:port) is pinged first to learn it. */
#ifndef SIM_LIVE_H
#define SIM_LIVE_H

/* argv[0] is the first argument after "lookup". Returns the exit status:
 * 0 the lookup ran, 1 runtime failure, 2 bad usage. */
int sim_live_main(int argc, char **argv);

#endif
