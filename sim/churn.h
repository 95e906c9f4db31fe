/* churn.h: nodes that come and go (issue #14): each node alternates online
 * sessions and offline downtimes drawn from the scenario's distributions
 * (docs/churn.md). State is one flag bit per node (SIM_NODE_OFFLINE) and one
 * next-transition event per node in the driver's queue: O(1) work and one
 * draw per transition, no per-node object. */
#ifndef SIM_CHURN_H
#define SIM_CHURN_H

#include <stdbool.h>
#include <stdint.h>

#include "network.h"
#include "rng.h"
#include "scenario.h"

/* The run's churn streams (dht_seed_derive of the run seed), numbered apart
 * from sim.c's others: the initial states then one period per transition in
 * event order; the nodes whose tables stale_fraction reads. */
#define SIM_CHURN_STREAM 20u
#define SIM_CHURN_SAMPLE_STREAM 21u

/* Whether the scenario has churn (churn.session.model is not none). */
bool sim_churn_enabled(const sim_scenario *sc);

/* The mean of a period distribution, in seconds (pareto: shape > 1). */
double sim_churn_mean_s(const sim_churn_dist *d);
/* One period, in seconds (> 0): exponential -mean ln U; weibull
 * scale (-ln U)^(1/shape); lognormal median e^(sigma Z); pareto min U^(-1/shape). */
double sim_churn_draw_s(const sim_churn_dist *d, dht_rng *rng);
/* The remaining part of the period in progress at a random time of the
 * stationary process (its forward-recurrence time, density (1 - F(x)) / mean):
 * U times a length-biased draw (exponential: the same exponential; weibull:
 * ((X/scale)^shape ~ Gamma(1 + 1/shape)); lognormal: mu + sigma^2; pareto:
 * shape - 1). In seconds. */
double sim_churn_draw_residual_s(const sim_churn_dist *d, dht_rng *rng);

/* Seconds to virtual µs, at least 1 (a transition always moves the clock)
 * and at most 10^15 (31 years). */
uint64_t sim_churn_us(double s);

/* The churn of one run: its stream and how many nodes are online and alive. */
typedef struct sim_churn {
  const sim_scenario *sc;
  dht_rng rng;     /* the churn stream: initial states, then one draw per transition in event order */
  uint32_t online; /* nodes online and not dead */
} sim_churn;

void sim_churn_init(sim_churn *c, const sim_scenario *sc, uint64_t stream_seed);
/* Node i's state at t = 0 (churn.initial_online): sets or clears
 * SIM_NODE_OFFLINE in *flags and returns the time of its first transition
 * (virtual µs). Called for nodes 0, 1, ... in order. */
uint64_t sim_churn_initial(sim_churn *c, uint8_t *flags);
/* The node whose transition is due at now_us changes state (a dead node's
 * flag flips too, but it never counts as online); returns its next
 * transition time. */
uint64_t sim_churn_flip(sim_churn *c, uint8_t *flags, uint64_t now_us);

/* Tables sampled for stale_fraction: this many online nodes' (all of them
 * in a network of at most this many nodes). */
#define SIM_CHURN_SAMPLE 1000u

/* The figures of the start of measurement: the fraction of the population
 * (`population` nodes: net->n, or with churn.rejoin new net->n less the
 * spares, whose unclaimed and retired identities are offline) online now
 * (neither offline nor dead), and of the contacts in the tables of up to
 * SIM_CHURN_SAMPLE online nodes (all of them when population is at most that;
 * else drawn from stream_seed, with replacement) that would not answer now
 * (offline or dead). O(net->n) flag reads plus the sampled tables' draws. 0
 * or DHT_ENOMEM. */
int sim_churn_measure(const sim_network *net, uint32_t population, uint64_t stream_seed, double *online_fraction,
                      double *stale_fraction);

#endif
