/* rng.h: the seeded PRNG every random choice in dhtsim comes from
 * (xoshiro256** seeded through splitmix64). Same seed, same stream, on every machine. */
#ifndef DHT_RNG_H
#define DHT_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct dht_rng {
  uint64_t s[4];
} dht_rng;

/* One splitmix64 step: advances *state and returns the next output.
 * Also used to derive independent seeds (seed, stream) -> seed. */
uint64_t dht_splitmix64(uint64_t *state);

/* Derives a child seed from a parent seed and a stream number, so that
 * adding streams never changes existing ones. */
uint64_t dht_seed_derive(uint64_t seed, uint64_t stream);

void dht_rng_init(dht_rng *r, uint64_t seed);
uint64_t dht_rng_next(dht_rng *r);
/* Uniform in [0, n); n > 0. Unbiased (rejection). */
uint64_t dht_rng_below(dht_rng *r, uint64_t n);
/* Uniform in [0, 1) with 53 random bits; exact and machine-independent. */
double dht_rng_double(dht_rng *r);
/* True with probability p (p <= 0: never, p >= 1: always). Draws one value either way. */
int dht_rng_chance(dht_rng *r, double p);
void dht_rng_fill(dht_rng *r, void *buf, size_t len);
/* Unbiased Fisher-Yates shuffle of n uint32 values. */
void dht_rng_shuffle_u32(dht_rng *r, uint32_t *a, size_t n);

#endif
