/* serve.h: `dhtsim serve SCENARIO`: the scenario's network served in real
 * time over real UDP on loopback, to real DHT clients.
 *
 * Node i answers at its own address: 127.A.B.Z:PORT with A = 1 + s / 256,
 * B = s % 256 for s = i / per and Z = 1 + i % per, where per = 1 while the
 * network has at most 65,024 nodes (one /24 per node, as clients that keep
 * one node per /24 in their tables need) and ceil(n / 65,024) beyond (several
 * nodes per /24: clients must then be told not to restrict routing by IP).
 * One socket bound to 0.0.0.0:PORT receives for every 127.x.y.z; IP_PKTINFO
 * gives the address a packet was sent to (the node), and each reply is sent
 * from that address.
 *
 * Answers follow the simulation's model (sim/sim.c): get_peers and find_node
 * get the K closest contacts of the node's table minus the querier; a node
 * holding peers for the infohash (a planted one: the plant_at closest nodes of
 * the network hold workload.planted_peers peers for it; or one announced to
 * it) answers with the values and no nodes. Tokens are tied to the querier's
 * IP and the node; announce_peer with a valid token is stored (bounded). The
 * scenario's latency is applied as a real delay (request + response one-way
 * delays before the reply leaves), its request and response losses and its
 * dead nodes (silent) too.
 *
 * Only loopback: a datagram whose source or destination is outside
 * 127.0.0.0/8 is dropped unread, and replies only ever go to 127.0.0.0/8.
 * Malformed datagrams are dropped without an answer (a flood of garbage costs
 * one decode each, nothing kept). Replies wait in a bounded queue: when it is
 * full, new queries are refused (not answered) until it drains.
 *
 * --out DIR gets queries.jsonl (one line per well-formed query: wall time,
 * source, node index, method, target, fate), lookups.csv (per source and
 * target: queries, answers, which of the true K closest live nodes it reached),
 * planted.txt (the planted infohashes), bootstrap.txt (live nodes as
 * ID@ADDR) and serve.json (the counters). */
#ifndef SIM_SERVE_H
#define SIM_SERVE_H

#include <stdint.h>

#define SIM_SERVE_NODES_PER_PREFIX_MAX 254u
#define SIM_SERVE_PREFIXES 65024u /* 127.1.0.0/24 .. 127.254.255.0/24 */
#define SIM_SERVE_NODES_MAX (SIM_SERVE_PREFIXES * SIM_SERVE_NODES_PER_PREFIX_MAX)

/* The served IPv4 address (host order) of node i of an n-node network, and
 * back: 0 and *node, or -1 for an address that is no node. */
uint32_t sim_serve_node_ip(uint32_t n, uint32_t i);
int sim_serve_ip_node(uint32_t n, uint32_t ip, uint32_t *node);

/* argv[0] is the first argument after "serve". Returns the exit status: 0,
 * 1 runtime failure, 2 bad usage or bad scenario. */
int sim_serve_main(int argc, char **argv);

#endif
