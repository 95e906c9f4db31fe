/* test_rng.c: the PRNG is bit-exact (known vectors), deterministic per seed,
 * and its derived draws (below, double, chance, shuffle) are in range and unbiased. */
#include <criterion/criterion.h>
#include "criterion_assert.h"
#include <string.h>

#include "rng.h"

/* Reference vectors. splitmix64 from state 0 is the published sequence of
 * Vigna's splitmix64.c. xoshiro256** from state {1,2,3,4} and the seeded
 * streams below were computed once with an independent Python transcription of
 * the reference algorithms (splitmix64.c / xoshiro256starstar.c from prng.di.unimi.it). */
Test(rng, splitmix64_reference_vector) {
  uint64_t st = 0;
  cr_assert(eq(u64, dht_splitmix64(&st), 0xe220a8397b1dcdafULL));
  cr_assert(eq(u64, dht_splitmix64(&st), 0x6e789e6aa1b965f4ULL));
  cr_assert(eq(u64, dht_splitmix64(&st), 0x06c45d188009454fULL));
  cr_assert(eq(u64, st, 3 * 0x9e3779b97f4a7c15ULL));
}

Test(rng, xoshiro256ss_reference_vector) {
  dht_rng r = {.s = {1, 2, 3, 4}};
  cr_assert(eq(u64, dht_rng_next(&r), 11520));
  cr_assert(eq(u64, dht_rng_next(&r), 0));
  cr_assert(eq(u64, dht_rng_next(&r), 1509978240));
  cr_assert(eq(u64, dht_rng_next(&r), 1215971899390074240ULL));
}

Test(rng, seeded_stream_regression) {
  /* Seeding is four splitmix64 outputs; these pin the whole pipeline. */
  dht_rng r;
  dht_rng_init(&r, 0);
  cr_assert(eq(u64, r.s[0], 0xe220a8397b1dcdafULL));
  cr_assert(eq(u64, r.s[1], 0x6e789e6aa1b965f4ULL));
  cr_assert(eq(u64, r.s[2], 0x06c45d188009454fULL));
  cr_assert(eq(u64, dht_rng_next(&r), 0x99ec5f36cb75f2b4ULL));
  cr_assert(eq(u64, dht_rng_next(&r), 0xbf6e1f784956452aULL));
  cr_assert(eq(u64, dht_rng_next(&r), 0x1a5f849d4933e6e0ULL));
  cr_assert(eq(u64, dht_rng_next(&r), 0x6aa594f1262d2d2cULL));
  dht_rng_init(&r, 42);
  cr_assert(eq(u64, dht_rng_next(&r), 0x15780b2e0c2ec716ULL));
  cr_assert(eq(u64, dht_rng_next(&r), 0x6104d9866d113a7eULL));
  cr_assert(eq(u64, dht_rng_next(&r), 0xae17533239e499a1ULL));
  cr_assert(eq(u64, dht_rng_next(&r), 0xecb8ad4703b360a1ULL));
}

Test(rng, same_seed_same_stream) {
  dht_rng a, b, c;
  int differ = 0;
  dht_rng_init(&a, 123456789);
  dht_rng_init(&b, 123456789);
  dht_rng_init(&c, 123456790);
  for (int i = 0; i < 10000; i++) {
    uint64_t x = dht_rng_next(&a);
    cr_assert(eq(u64, x, dht_rng_next(&b)), "draw %d", i);
    differ += x != dht_rng_next(&c);
  }
  cr_assert(eq(int, differ, 10000));
}

Test(rng, below_stays_in_range) {
  const uint64_t seed = 7;
  const uint64_t ns[] = {1, 2, 3, 7, 10, 1000, (1ULL << 32) + 1, (1ULL << 63) + 1, UINT64_MAX};
  dht_rng r;
  cr_log_info("seed %llu", (unsigned long long)seed);
  dht_rng_init(&r, seed);
  for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++)
    for (int j = 0; j < 20000; j++)
      cr_assert(lt(u64, dht_rng_below(&r, ns[i]), ns[i]), "n=%llu", (unsigned long long)ns[i]);
}

Test(rng, below_consumes_one_draw_when_not_rejected) {
  /* n a power of two never rejects: below(n) == next() % n. */
  dht_rng a, b;
  dht_rng_init(&a, 99);
  dht_rng_init(&b, 99);
  for (int i = 0; i < 1000; i++)
    cr_assert(eq(u64, dht_rng_below(&a, 1024), dht_rng_next(&b) % 1024));
}

/* Pearson chi-square statistic of counts against equal expectation. */
static double chi2(const uint64_t *counts, size_t bins, uint64_t draws) {
  double e = (double)draws / (double)bins, x = 0;
  for (size_t i = 0; i < bins; i++)
    x += ((double)counts[i] - e) * ((double)counts[i] - e) / e;
  return x;
}

Test(rng, below_is_uniform_small_n) {
  const uint64_t seed = 0xabc, draws = 200000;
  uint64_t counts[10] = {0};
  dht_rng r;
  cr_log_info("seed %#llx", (unsigned long long)seed);
  dht_rng_init(&r, seed);
  for (uint64_t i = 0; i < draws; i++)
    counts[dht_rng_below(&r, 10)]++;
  /* df = 9: P(chi2 > 40) < 1e-5. */
  double x = chi2(counts, 10, draws);
  cr_log_info("chi2 = %f", x);
  cr_assert(lt(dbl, x, 40.0));
}

Test(rng, below_is_unbiased_large_n) {
  /* n = 3 * 2^62: plain x % n would put half of all draws in [0, 2^62)
   * instead of a third. Rejection must keep the three quarters equal. */
  const uint64_t seed = 0xdef, draws = 90000, n = 3ULL << 62;
  uint64_t counts[3] = {0};
  dht_rng r;
  cr_log_info("seed %#llx", (unsigned long long)seed);
  dht_rng_init(&r, seed);
  for (uint64_t i = 0; i < draws; i++) {
    uint64_t v = dht_rng_below(&r, n);
    cr_assert(lt(u64, v, n));
    counts[v >> 62]++;
  }
  double x = chi2(counts, 3, draws);
  cr_log_info("chi2 = %f (%llu %llu %llu)", x, (unsigned long long)counts[0],
              (unsigned long long)counts[1], (unsigned long long)counts[2]);
  cr_assert(lt(dbl, x, 30.0)); /* df = 2; biased modulo would give ~7500 */
}

Test(rng, double_in_unit_interval) {
  const uint64_t seed = 2024;
  dht_rng r, ref;
  double sum = 0;
  cr_log_info("seed %llu", (unsigned long long)seed);
  dht_rng_init(&r, seed);
  dht_rng_init(&ref, seed);
  for (int i = 0; i < 100000; i++) {
    double d = dht_rng_double(&r);
    cr_assert(ge(dbl, d, 0.0));
    cr_assert(lt(dbl, d, 1.0));
    /* Exactly the top 53 bits of one draw. */
    cr_assert(eq(dbl, d * 0x1.0p53, (double)(dht_rng_next(&ref) >> 11)));
    sum += d;
  }
  cr_assert(lt(dbl, sum / 100000 - 0.5, 0.005));
  cr_assert(gt(dbl, sum / 100000 - 0.5, -0.005));
  /* Regression: first double of seed 0 is (0x99ec5f36cb75f2b4 >> 11) * 2^-53 ~ 0.60126. */
  dht_rng_init(&r, 0);
  cr_assert(eq(dbl, dht_rng_double(&r), 0x133d8be6d96ebe * 0x1.0p-53));
  /* The all-zero draw maps to exactly 0. */
  dht_rng z = {.s = {0, 0, 0, 0}};
  cr_assert(eq(dbl, dht_rng_double(&z), 0.0));
}

Test(rng, chance_extremes_and_one_draw) {
  dht_rng r, ref;
  dht_rng_init(&r, 5);
  dht_rng_init(&ref, 5);
  const double ps[] = {0.0, -1.0, 1.0, 2.0};
  const int want[] = {0, 0, 1, 1};
  for (int i = 0; i < 4000; i++) {
    cr_assert(eq(int, dht_rng_chance(&r, ps[i % 4]), want[i % 4]), "p=%f", ps[i % 4]);
    dht_rng_next(&ref); /* one draw either way */
    /* eq(mem, ...): array tags (u64[4]) leak in Criterion 2.4.1. */
    cr_assert(eq(mem, ((struct cr_mem){r.s, sizeof r.s}), ((struct cr_mem){ref.s, sizeof ref.s})));
  }
  /* The all-zero state is a fixed point drawing u == 0 exactly: p = 0 must still say no. */
  dht_rng z = {.s = {0, 0, 0, 0}};
  cr_assert(eq(int, dht_rng_chance(&z, 0.0), 0));
  cr_assert(eq(int, dht_rng_chance(&z, 0x1.0p-60), 1));
}

Test(rng, chance_frequency) {
  const uint64_t seed = 77;
  dht_rng r;
  int hits = 0;
  cr_log_info("seed %llu", (unsigned long long)seed);
  dht_rng_init(&r, seed);
  for (int i = 0; i < 100000; i++)
    hits += dht_rng_chance(&r, 0.25);
  /* sd = sqrt(1e5 * .25 * .75) ~ 137; allow ~5 sd. */
  cr_assert(gt(int, hits, 25000 - 700));
  cr_assert(lt(int, hits, 25000 + 700));
}

Test(rng, fill_is_little_endian_draws) {
  const uint8_t want[13] = {0xb4, 0xf2, 0x75, 0xcb, 0x36, 0x5f, 0xec, 0x99, 0x2a, 0x45, 0x56, 0x49, 0x78};
  uint8_t buf[16];
  dht_rng r;
  memset(buf, 0xee, sizeof buf);
  dht_rng_init(&r, 0);
  dht_rng_fill(&r, buf, 13);
  cr_assert(eq(mem, ((struct cr_mem){buf, 13}), ((struct cr_mem){want, 13})));
  cr_assert(eq(u8, buf[13], 0xee)); /* no overrun */
  /* Two draws used: the next value is the third of the stream. */
  cr_assert(eq(u64, dht_rng_next(&r), 0x1a5f849d4933e6e0ULL));
  dht_rng_fill(&r, buf, 0);
  cr_assert(eq(u64, dht_rng_next(&r), 0x6aa594f1262d2d2cULL));
}

Test(rng, shuffle_is_permutation) {
  const uint64_t seed = 31337;
  dht_rng r;
  uint32_t a[257];
  cr_log_info("seed %llu", (unsigned long long)seed);
  dht_rng_init(&r, seed);
  dht_rng_shuffle_u32(&r, NULL, 0);
  a[0] = 42;
  dht_rng_shuffle_u32(&r, a, 1);
  cr_assert(eq(u32, a[0], 42));
  for (size_t n = 2; n <= 257; n += 15) {
    int seen[257] = {0}, moved = 0;
    for (size_t i = 0; i < n; i++)
      a[i] = (uint32_t)i * 3 + 1;
    dht_rng_shuffle_u32(&r, a, n);
    for (size_t i = 0; i < n; i++) {
      cr_assert(eq(u32, (a[i] - 1) % 3, 0));
      uint32_t v = (a[i] - 1) / 3;
      cr_assert(lt(u32, v, (uint32_t)n));
      cr_assert(eq(int, seen[v], 0), "duplicate %u", v);
      seen[v] = 1;
      moved += v != i;
    }
    if (n >= 17)
      cr_assert(gt(int, moved, 0));
  }
}

Test(rng, shuffle_unbiased_n3) {
  const uint64_t seed = 0x5a5a, trials = 60000;
  /* Index of a permutation of {0,1,2} by its first two elements. */
  static const int idx[3][3] = {{-1, 0, 1}, {2, -1, 3}, {4, 5, -1}};
  uint64_t counts[6] = {0};
  dht_rng r;
  cr_log_info("seed %#llx", (unsigned long long)seed);
  dht_rng_init(&r, seed);
  for (uint64_t t = 0; t < trials; t++) {
    uint32_t a[3] = {0, 1, 2};
    dht_rng_shuffle_u32(&r, a, 3);
    cr_assert(eq(u32, a[0] + a[1] + a[2], 3));
    cr_assert(ne(u32, a[0], a[1]));
    counts[idx[a[0]][a[1]]]++;
  }
  for (int i = 0; i < 6; i++) {
    /* 10000 expected, sd ~ 91: +-500 is > 5 sd yet far below any real bias. */
    cr_assert(gt(u64, counts[i], 9500), "order %d: %llu", i, (unsigned long long)counts[i]);
    cr_assert(lt(u64, counts[i], 10500), "order %d: %llu", i, (unsigned long long)counts[i]);
  }
  double x = chi2(counts, 6, trials);
  cr_log_info("chi2 = %f", x);
  cr_assert(lt(dbl, x, 30.0)); /* df = 5 */
}

Test(rng, seed_derive_by_stream) {
  /* Regression (Python transcription of the same derivation). */
  cr_assert(eq(u64, dht_seed_derive(42, 0), 0x57e1faba65107204ULL));
  cr_assert(eq(u64, dht_seed_derive(42, 1), 0x79c32cd79ccd877eULL));
  /* Deterministic, and distinct across streams and from the parent. */
  uint64_t seen[1000];
  for (uint64_t s = 0; s < 1000; s++) {
    seen[s] = dht_seed_derive(42, s);
    cr_assert(eq(u64, seen[s], dht_seed_derive(42, s)));
    cr_assert(ne(u64, seen[s], 42));
    cr_assert(ne(u64, seen[s], dht_seed_derive(43, s)));
    for (uint64_t t = 0; t < s; t++)
      cr_assert(ne(u64, seen[s], seen[t]), "streams %llu and %llu", (unsigned long long)s,
                (unsigned long long)t);
  }
  /* Child streams are different generators. */
  dht_rng a, b;
  dht_rng_init(&a, dht_seed_derive(7, 0));
  dht_rng_init(&b, dht_seed_derive(7, 1));
  cr_assert(ne(u64, dht_rng_next(&a), dht_rng_next(&b)));
}
