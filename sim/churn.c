/* churn.c: session and downtime distributions, the stationary initial state
 * and the per-node transitions (docs/churn.md). */
#include "churn.h"

#include <glib.h>
#include <math.h>

#include "error.h"
#include "network.h"

bool sim_churn_enabled(const sim_scenario *sc) { return sc->churn.session.model != SIM_CHURN_NONE; }

double sim_churn_mean_s(const sim_churn_dist *d) {
  switch (d->model) {
  case SIM_CHURN_EXPONENTIAL: return d->mean_s;
  case SIM_CHURN_WEIBULL: return d->scale_s * tgamma(1.0 + 1.0 / d->shape);
  case SIM_CHURN_LOGNORMAL: return d->median_s * exp(d->sigma * d->sigma / 2.0);
  case SIM_CHURN_PARETO: return d->shape * d->min_s / (d->shape - 1.0);
  case SIM_CHURN_NONE: break;
  }
  return 0.0;
}

/* U in (0, 1]: never 0, so that logarithms and negative powers stay finite. */
static double unit_open0(dht_rng *rng) { return 1.0 - dht_rng_double(rng); }

/* A standard normal: Box-Muller, one of the pair (two draws). */
static double normal(dht_rng *rng) {
  double u1 = unit_open0(rng), u2 = dht_rng_double(rng);
  return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

/* Gamma(a, 1) for a >= 1: Marsaglia and Tsang, ACM TOMS 26(3), 2000. */
static double gamma_ge1(double a, dht_rng *rng) {
  double d = a - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
  for (;;) {
    double x, v, u;
    do {
      x = normal(rng);
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    u = unit_open0(rng);
    if (log(u) < 0.5 * x * x + d - d * v + d * log(v))
      return d * v;
  }
}

double sim_churn_draw_s(const sim_churn_dist *d, dht_rng *rng) {
  switch (d->model) {
  case SIM_CHURN_EXPONENTIAL: return -d->mean_s * log(unit_open0(rng));
  case SIM_CHURN_WEIBULL: return d->scale_s * pow(-log(unit_open0(rng)), 1.0 / d->shape);
  case SIM_CHURN_LOGNORMAL: return d->median_s * exp(d->sigma * normal(rng));
  case SIM_CHURN_PARETO: return d->min_s * pow(unit_open0(rng), -1.0 / d->shape);
  case SIM_CHURN_NONE: break;
  }
  return 0.0;
}

double sim_churn_draw_residual_s(const sim_churn_dist *d, dht_rng *rng) {
  double lb = 0.0; /* a length-biased draw: density x f(x) / mean */
  switch (d->model) {
  case SIM_CHURN_EXPONENTIAL: return sim_churn_draw_s(d, rng); /* memoryless */
  case SIM_CHURN_WEIBULL: lb = d->scale_s * pow(gamma_ge1(1.0 + 1.0 / d->shape, rng), 1.0 / d->shape); break;
  case SIM_CHURN_LOGNORMAL: lb = d->median_s * exp(d->sigma * d->sigma) * exp(d->sigma * normal(rng)); break;
  case SIM_CHURN_PARETO: lb = d->min_s * pow(unit_open0(rng), -1.0 / (d->shape - 1.0)); break;
  case SIM_CHURN_NONE: return 0.0;
  }
  return unit_open0(rng) * lb;
}

uint64_t sim_churn_us(double s) {
  double us = s * 1e6;
  if (!(us >= 1.0))
    return 1;
  if (us > 1e15)
    return (uint64_t)1e15;
  return (uint64_t)llround(us);
}

void sim_churn_init(sim_churn *c, const sim_scenario *sc, uint64_t stream_seed) {
  c->sc = sc;
  dht_rng_init(&c->rng, stream_seed);
  c->online = 0;
}

uint64_t sim_churn_initial(sim_churn *c, uint8_t *flags) {
  const sim_churn_dist *s = &c->sc->churn.session, *d = &c->sc->churn.downtime;
  bool on;
  double t;
  if (c->sc->churn.initial_online == SIM_INITIAL_ALL) {
    on = true;
    t = sim_churn_draw_s(s, &c->rng);
  } else {
    /* The alternating renewal process in equilibrium: online with probability
     * E[S] / (E[S] + E[D]), then the residual of the period in progress. */
    double ms = sim_churn_mean_s(s), md = sim_churn_mean_s(d);
    on = dht_rng_chance(&c->rng, ms / (ms + md)) != 0;
    t = sim_churn_draw_residual_s(on ? s : d, &c->rng);
  }
  if (on) {
    *flags &= (uint8_t)~SIM_NODE_OFFLINE;
    c->online += (*flags & SIM_NODE_DEAD) == 0;
  } else {
    *flags |= SIM_NODE_OFFLINE;
  }
  return sim_churn_us(t);
}

uint64_t sim_churn_flip(sim_churn *c, uint8_t *flags, uint64_t now_us) {
  bool was_on = (*flags & SIM_NODE_OFFLINE) == 0, alive = (*flags & SIM_NODE_DEAD) == 0;
  double t;
  if (was_on) {
    *flags |= SIM_NODE_OFFLINE;
    c->online -= alive;
    t = sim_churn_draw_s(&c->sc->churn.downtime, &c->rng);
  } else {
    *flags &= (uint8_t)~SIM_NODE_OFFLINE;
    c->online += alive;
    t = sim_churn_draw_s(&c->sc->churn.session, &c->rng);
  }
  uint64_t dt = sim_churn_us(t);
  return now_us > UINT64_MAX - dt ? UINT64_MAX : now_us + dt;
}

int sim_churn_measure(const sim_network *net, uint32_t population, uint64_t stream_seed, double *online_fraction,
                      double *stale_fraction) {
  uint32_t *tab = g_try_new(uint32_t, SIM_CONTACTS_MAX(net->k) + 1);
  uint64_t on = 0, contacts = 0, stale = 0;
  uint32_t sampled = 0;
  dht_rng rng;
  if (tab == NULL)
    return DHT_ENOMEM;
  for (uint32_t i = 0; i < net->n; i++) /* O(n), once per run */
    on += (net->flags[i] & (SIM_NODE_OFFLINE | SIM_NODE_DEAD)) == 0;
  *online_fraction = (double)on / (double)population;
  /* The tables of online nodes (only they answer): every one in a small
   * network, else SIM_CHURN_SAMPLE drawn with replacement (at most 100 draws
   * per sample, so a network almost all offline still ends). */
  dht_rng_init(&rng, stream_seed);
  bool all = population <= SIM_CHURN_SAMPLE; /* then every node is read, spares (offline) skipped */
  uint64_t draws = all ? net->n : (uint64_t)SIM_CHURN_SAMPLE * 100;
  for (uint64_t d = 0; d < draws && sampled < SIM_CHURN_SAMPLE; d++) {
    uint32_t x = all ? (uint32_t)d : (uint32_t)dht_rng_below(&rng, net->n);
    if (net->flags[x] & (SIM_NODE_OFFLINE | SIM_NODE_DEAD))
      continue;
    size_t c = sim_network_table(net, x, tab);
    for (size_t j = 0; j < c; j++)
      stale += (net->flags[tab[j]] & (SIM_NODE_OFFLINE | SIM_NODE_DEAD)) != 0;
    contacts += c;
    sampled++;
  }
  *stale_fraction = contacts > 0 ? (double)stale / (double)contacts : 0.0;
  g_free(tab);
  return 0;
}
