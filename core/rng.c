/* rng.c: splitmix64 seeding + xoshiro256** (Blackman & Vigna), our only source of randomness. */
#include "rng.h"

#include <string.h>

uint64_t dht_splitmix64(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t dht_seed_derive(uint64_t seed, uint64_t stream) {
  uint64_t s = seed;
  uint64_t a = dht_splitmix64(&s);
  s = a ^ (stream * 0xd1b54a32d192ed03ULL);
  return dht_splitmix64(&s);
}

void dht_rng_init(dht_rng *r, uint64_t seed) {
  uint64_t s = seed;
  for (int i = 0; i < 4; i++)
    r->s[i] = dht_splitmix64(&s);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t dht_rng_next(dht_rng *r) {
  uint64_t *s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

uint64_t dht_rng_below(dht_rng *r, uint64_t n) {
  /* Reject x < 2^64 mod n: the remaining range is a whole multiple of n, so
   * every residue is equally likely. */
  uint64_t threshold = (0 - n) % n;
  for (;;) {
    uint64_t x = dht_rng_next(r);
    if (x >= threshold)
      return x % n;
  }
}

double dht_rng_double(dht_rng *r) {
  return (double)(dht_rng_next(r) >> 11) * 0x1.0p-53;
}

int dht_rng_chance(dht_rng *r, double p) {
  double u = dht_rng_double(r);
  return u < p;
}

void dht_rng_fill(dht_rng *r, void *buf, size_t len) {
  uint8_t *p = buf;
  while (len > 0) {
    uint64_t x = dht_rng_next(r);
    size_t n = len < 8 ? len : 8;
    for (size_t i = 0; i < n; i++)
      p[i] = (uint8_t)(x >> (8 * i));
    p += n;
    len -= n;
  }
}

void dht_rng_shuffle_u32(dht_rng *r, uint32_t *a, size_t n) {
  for (size_t i = n; i > 1; i--) {
    size_t j = (size_t)dht_rng_below(r, i);
    uint32_t t = a[i - 1];
    a[i - 1] = a[j];
    a[j] = t;
  }
}
