/* latency.h: the scenario's one-way message delay, drawn the one way that
 * both the simulation (sim.c) and the live server (serve.c) use. */
#ifndef SIM_LATENCY_H
#define SIM_LATENCY_H

#include <stdbool.h>

#include "rng.h"
#include "scenario.h"

/* A delay in µs, not yet rounded or clamped: the latency model's draw from r
 * (uniform: one draw; lognormal: Marsaglia polar pairs; constant: none),
 * times the slow nodes' multiplier when a slow node sends or receives. */
double sim_latency_draw_us(const sim_scenario *sc, dht_rng *r, bool slow);

#endif
