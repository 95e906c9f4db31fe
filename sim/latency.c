/* latency.c: the scenario's one-way delay model. */
#include "latency.h"

#include <math.h>

/* Standard normal deviate by the Marsaglia polar method (log and sqrt only). */
static double normal(dht_rng *r) {
  for (;;) {
    double u = 2.0 * dht_rng_double(r) - 1.0, v = 2.0 * dht_rng_double(r) - 1.0;
    double s = u * u + v * v;
    if (s > 0.0 && s < 1.0)
      return u * sqrt(-2.0 * log(s) / s);
  }
}

double sim_latency_draw_us(const sim_scenario *sc, dht_rng *r, bool slow) {
  double us;
  switch (sc->latency.model) {
  case SIM_LATENCY_UNIFORM:
    us = (double)(sc->latency.min_us + dht_rng_below(r, sc->latency.max_us - sc->latency.min_us + 1));
    break;
  case SIM_LATENCY_LOGNORMAL:
    us = (double)sc->latency.median_us * exp(sc->latency.sigma * normal(r));
    break;
  case SIM_LATENCY_CONSTANT:
  default:
    us = (double)sc->latency.delay_us;
    break;
  }
  if (slow)
    us *= sc->latency.slow_multiplier;
  return us;
}
