/* rtt_filter.c: mldht's ResponseTimeoutFilter as behaviour (see the header). */
#include "rtt_filter.h"

#include <stddef.h>

#define BASELINE_MIN_MS 100 /* mldht's RPC_CALL_TIMEOUT_BASELINE_MIN */
#define SNAPSHOT_EVERY 16
#define DECAY 0.95

void dht_rtt_filter_init(dht_rtt_filter *f) {
  for (size_t i = 0; i < DHT_RTT_BINS; i++)
    f->bins[i] = 1.0 / DHT_RTT_BINS;
  f->updates = 0;
  f->baseline_ms = DHT_RTT_MAX_MS;
  f->ceiling_ms = DHT_RTT_MAX_MS;
}

/* The centre of the first bin where the normalised cumulative mass reaches q;
 * 10 s when rounding leaves it short. */
static uint64_t quantile_ms(const double *norm, double q) {
  for (size_t i = 0; i < DHT_RTT_BINS; i++) {
    q -= norm[i];
    if (q <= 0.0)
      return (uint64_t)(i * DHT_RTT_BIN_MS + DHT_RTT_BIN_MS / 2);
  }
  return DHT_RTT_MAX_MS;
}

void dht_rtt_filter_update(dht_rtt_filter *f, uint64_t rtt_us) {
  uint64_t bin = rtt_us / 1000 / DHT_RTT_BIN_MS; /* whole ms, as a millisecond clock measures */
  f->bins[bin < DHT_RTT_BINS ? bin : DHT_RTT_BINS - 1] += 1.0;
  if ((f->updates++ % SNAPSHOT_EVERY) != 0)
    return;
  double norm[DHT_RTT_BINS], total = 0.0;
  for (size_t i = 0; i < DHT_RTT_BINS; i++)
    total += f->bins[i];
  for (size_t i = 0; i < DHT_RTT_BINS; i++)
    norm[i] = f->bins[i] / total;
  f->baseline_ms = quantile_ms(norm, 0.1);
  f->ceiling_ms = quantile_ms(norm, 0.9);
  for (size_t i = 0; i < DHT_RTT_BINS; i++)
    f->bins[i] *= DECAY;
}

uint64_t dht_rtt_filter_stall_us(const dht_rtt_filter *f) {
  uint64_t ms = f->baseline_ms + BASELINE_MIN_MS;
  if (f->ceiling_ms > ms)
    ms = f->ceiling_ms;
  if (ms > DHT_RTT_MAX_MS)
    ms = DHT_RTT_MAX_MS;
  return ms * 1000;
}
