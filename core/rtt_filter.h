/* rtt_filter.h: mldht's adaptive "stall" timeout (ResponseTimeoutFilter,
 * docs/strategies.md): a decaying histogram of the round-trip times a node
 * has measured, 50 ms bins up to 10 s. A plain value: the driver owns it (per
 * querying node, per run or per lookup, as it chooses) and passes it to the
 * lookups that feed and read it (dht_lookup_config.rtt). No allocation. */
#ifndef DHT_RTT_FILTER_H
#define DHT_RTT_FILTER_H

#include <stdint.h>

#define DHT_RTT_BIN_MS 50
#define DHT_RTT_MAX_MS 10000 /* mldht's RPC_CALL_TIMEOUT_MAX: the hard timeout too */
#define DHT_RTT_BINS (DHT_RTT_MAX_MS / DHT_RTT_BIN_MS)

typedef struct dht_rtt_filter {
  double bins[DHT_RTT_BINS];
  uint64_t updates;
  uint64_t baseline_ms; /* p10 of the last snapshot */
  uint64_t ceiling_ms;  /* p90 of the last snapshot */
} dht_rtt_filter;

/* The empty filter (mldht's reset): every bin 1/DHT_RTT_BINS, p10 = p90 =
 * 10 s until the first sample. */
void dht_rtt_filter_init(dht_rtt_filter *f);
/* One measured round trip. Every 16th sample, the first included, takes a
 * new snapshot (p10, p90) and then decays every bin by 0.95. */
void dht_rtt_filter_update(dht_rtt_filter *f, uint64_t rtt_us);
/* max(p10 + 100 ms, p90), at most 10 s; in µs. */
uint64_t dht_rtt_filter_stall_us(const dht_rtt_filter *f);

#endif
