/* test_id.c: hex parsing/formatting, XOR, and the bytewise XOR-distance order
 * checked against a brute-force big-endian compare of XOR bytes. */
#include <criterion/criterion.h>
#include "criterion_assert.h"
#include <criterion/parameterized.h>
#include <string.h>

#include "error.h"
#include "id.h"
#include "rng.h"

#define ID_MEM(x) ((struct cr_mem){.data = (x).b, .size = DHT_ID_LEN})

static dht_id parse(const char *hex) {
  dht_id id;
  cr_assert(eq(int, dht_id_from_hex(&id, hex, strlen(hex)), DHT_OK), "%s", hex);
  return id;
}

static dht_id sentinel(void) {
  dht_id s;
  memset(s.b, 0xab, sizeof s.b);
  return s;
}

Test(id, hex_known_value) {
  dht_id id = parse("0123456789abcdef0123456789abcdef01234567");
  const uint8_t want[DHT_ID_LEN] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23,
                                    0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67};
  cr_assert(eq(mem, ID_MEM(id), ((struct cr_mem){.data = want, .size = DHT_ID_LEN})));
  char out[DHT_ID_HEXLEN + 1];
  memset(out, 'x', sizeof out);
  dht_id_to_hex(&id, out);
  cr_assert(eq(str, out, "0123456789abcdef0123456789abcdef01234567"));
}

Test(id, hex_upper_and_lower_case) {
  dht_id lo = parse("abcdefabcdefabcdefabcdefabcdefabcdefabcd");
  dht_id up = parse("ABCDEFABCDEFABCDEFABCDEFABCDEFABCDEFABCD");
  dht_id mix = parse("aBcDeFAbCdEfaBcDeFAbCdEfaBcDeFAbCdEfaBcD");
  cr_assert(eq(mem, ID_MEM(lo), ID_MEM(up)));
  cr_assert(eq(mem, ID_MEM(lo), ID_MEM(mix)));
  cr_assert(eq(u8, lo.b[0], 0xab));
  cr_assert(eq(u8, lo.b[19], 0xcd));
  char out[DHT_ID_HEXLEN + 1];
  dht_id_to_hex(&up, out);
  cr_assert(eq(str, out, "abcdefabcdefabcdefabcdefabcdefabcdefabcd")); /* always lowercase */
}

Test(id, hex_extremes) {
  char out[DHT_ID_HEXLEN + 1];
  dht_id z = parse("0000000000000000000000000000000000000000");
  dht_id f = parse("ffffffffffffffffffffffffffffffffffffffff");
  for (int i = 0; i < DHT_ID_LEN; i++) {
    cr_assert(eq(u8, z.b[i], 0));
    cr_assert(eq(u8, f.b[i], 0xff));
  }
  dht_id_to_hex(&f, out);
  cr_assert(eq(str, out, "ffffffffffffffffffffffffffffffffffffffff"));
}

Test(id, hex_round_trip_random) {
  const uint64_t seed = 0x1d1d;
  dht_rng r;
  cr_log_info("seed %#llx", (unsigned long long)seed);
  dht_rng_init(&r, seed);
  for (int i = 0; i < 2000; i++) {
    dht_id a, b;
    char hex[DHT_ID_HEXLEN + 1];
    dht_id_random(&a, &r);
    dht_id_to_hex(&a, hex);
    cr_assert(eq(sz, strlen(hex), DHT_ID_HEXLEN));
    cr_assert(eq(int, dht_id_from_hex(&b, hex, DHT_ID_HEXLEN), DHT_OK));
    cr_assert(eq(mem, ID_MEM(a), ID_MEM(b)), "%s", hex);
  }
}

Test(id, hex_parses_only_len_chars) {
  /* A longer buffer is fine when len says 40: the rest is not looked at. */
  const char *s = "0123456789abcdef0123456789abcdef01234567zzzz";
  dht_id id;
  cr_assert(eq(int, dht_id_from_hex(&id, s, 40), DHT_OK));
  cr_assert(eq(u8, id.b[19], 0x67));
}

/* Bad inputs: each must return DHT_EINVAL and leave *out untouched. Strings
 * are stored inline because parameters cross into the test's worker process. */
struct bad_hex {
  char s[48];
  size_t len;
};

ParameterizedTestParameters(id, bad_hex_rejected) {
  static struct bad_hex cases[] = {
      {"", 0},
      {"0123456789abcdef0123456789abcdef0123456", 39},   /* too short */
      {"0123456789abcdef0123456789abcdef012345678", 41}, /* too long */
      {"0123456789abcdef0123456789abcdef01234567", 39},  /* len short of the string */
      {"0x23456789abcdef0123456789abcdef01234567", 40},  /* 'x' */
      {"g123456789abcdef0123456789abcdef01234567", 40},  /* first char */
      {"0123456789abcdef0123456789abcdef0123456G", 40},  /* last char */
      {"0123456789abcdef 123456789abcdef01234567", 40},  /* space */
      {"0123456789abcdef-123456789abcdef01234567", 40},  /* sign */
      {"0123456789abcdef0123456789abcdef0123456", 40},   /* NUL inside len */
      {"0123456789abcdef0123456789abcdef012345:7", 40},  /* ':' is just above '9' */
      {"0123456789abcdef0123456789abcdef012345/7", 40},  /* '/' is just below '0' */
      {"0123456789abcdef0123456789abcdef012345@7", 40},  /* '@' is just below 'A' */
      {"0123456789abcdef0123456789abcdef012345`7", 40},  /* '`' is just below 'a' */
  };
  return cr_make_param_array(struct bad_hex, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct bad_hex *c, id, bad_hex_rejected) {
  dht_id out = sentinel(), want = sentinel();
  cr_assert(eq(int, dht_id_from_hex(&out, c->s, c->len), DHT_EINVAL), "\"%s\" len %zu", c->s, c->len);
  cr_assert(eq(mem, ID_MEM(out), ID_MEM(want)));
}

Test(id, bad_char_at_every_position) {
  const char bad[] = {'g', 'G', 'z', ' ', '\n', '\0', '.', (char)0xff, (char)0xb0};
  for (size_t pos = 0; pos < DHT_ID_HEXLEN; pos++)
    for (size_t b = 0; b < sizeof bad; b++) {
      char s[DHT_ID_HEXLEN + 1];
      memset(s, 'a', DHT_ID_HEXLEN);
      s[DHT_ID_HEXLEN] = '\0';
      s[pos] = bad[b];
      dht_id out = sentinel(), want = sentinel();
      cr_assert(eq(int, dht_id_from_hex(&out, s, DHT_ID_HEXLEN), DHT_EINVAL), "pos %zu char %d", pos,
                bad[b]);
      cr_assert(eq(mem, ID_MEM(out), ID_MEM(want)));
    }
}

Test(id, null_hex_rejected) {
  dht_id out = sentinel(), want = sentinel();
  cr_assert(eq(int, dht_id_from_hex(&out, NULL, 40), DHT_EINVAL));
  cr_assert(eq(mem, ID_MEM(out), ID_MEM(want)));
  cr_assert(eq(int, dht_id_from_hex(NULL, "0123456789abcdef0123456789abcdef01234567", 40), DHT_EINVAL));
}

Test(id, xor_known_and_properties) {
  dht_id a = parse("ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00");
  dht_id b = parse("0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f");
  dht_id x, y, want = parse("f00ff00ff00ff00ff00ff00ff00ff00ff00ff00f");
  dht_id zero = parse("0000000000000000000000000000000000000000");
  dht_id_xor(&x, &a, &b);
  cr_assert(eq(mem, ID_MEM(x), ID_MEM(want)));
  dht_id_xor(&y, &b, &a);
  cr_assert(eq(mem, ID_MEM(y), ID_MEM(want)));
  dht_id_xor(&y, &a, &a);
  cr_assert(eq(mem, ID_MEM(y), ID_MEM(zero)));
  dht_id_xor(&y, &a, &zero);
  cr_assert(eq(mem, ID_MEM(y), ID_MEM(a)));
  /* out may alias an input. */
  y = a;
  dht_id_xor(&y, &y, &b);
  cr_assert(eq(mem, ID_MEM(y), ID_MEM(want)));
}

Test(id, cmp_and_eq) {
  dht_id a = parse("0000000000000000000000000000000000000001");
  dht_id b = parse("0000000000000000000000000000000000000002");
  dht_id c = parse("8000000000000000000000000000000000000000");
  cr_assert(lt(int, dht_id_cmp(&a, &b), 0));
  cr_assert(gt(int, dht_id_cmp(&c, &b), 0));
  cr_assert(eq(int, dht_id_cmp(&a, &a), 0));
  cr_assert(dht_id_eq(&a, &a));
  cr_assert(not(dht_id_eq(&a, &b)));
  /* memcmp's order whichever byte differs (each of the three words), and
   * by how much (the high bit of a byte decides over the low ones). */
  for (unsigned i = 0; i < DHT_ID_LEN; i++) {
    dht_id x = parse("0123456789abcdef0123456789abcdef01234567"), y = x;
    y.b[i] ^= 0x80;
    int want = memcmp(x.b, y.b, DHT_ID_LEN) < 0 ? -1 : 1;
    cr_assert(eq(int, dht_id_cmp(&x, &y) < 0 ? -1 : 1, want), "byte %u", i);
    cr_assert(eq(int, dht_id_cmp(&y, &x) < 0 ? -1 : 1, -want), "byte %u", i);
    cr_assert(ne(int, dht_id_cmp(&x, &y), 0), "byte %u", i);
    y = x;
    y.b[i] ^= 0x01;
    want = memcmp(x.b, y.b, DHT_ID_LEN) < 0 ? -1 : 1;
    cr_assert(eq(int, dht_id_cmp(&x, &y) < 0 ? -1 : 1, want), "byte %u low bit", i);
  }
}

/* Brute force: compute both XORs and compare them as big-endian numbers. */
static int brute_distance_cmp(const dht_id *t, const dht_id *a, const dht_id *b) {
  uint8_t da[DHT_ID_LEN], db[DHT_ID_LEN];
  for (int i = 0; i < DHT_ID_LEN; i++) {
    da[i] = a->b[i] ^ t->b[i];
    db[i] = b->b[i] ^ t->b[i];
  }
  int c = memcmp(da, db, DHT_ID_LEN);
  return (c > 0) - (c < 0);
}

static int sign(int x) { return (x > 0) - (x < 0); }

Test(id, distance_cmp_matches_brute_force) {
  const uint64_t seed = 0xd157;
  dht_rng r;
  cr_log_info("seed %#llx", (unsigned long long)seed);
  dht_rng_init(&r, seed);
  for (int i = 0; i < 20000; i++) {
    dht_id t, a, b;
    dht_id_random(&t, &r);
    dht_id_random(&a, &r);
    /* Mostly make b close to a (a few bits flipped deep inside), so the
     * deciding byte is spread over all 20 positions, not just byte 0. */
    if (i % 4 == 0) {
      dht_id_random(&b, &r);
    } else {
      b = a;
      unsigned from = (unsigned)dht_rng_below(&r, DHT_ID_BITS);
      for (unsigned j = from; j < DHT_ID_BITS; j++)
        if (j == from || dht_rng_chance(&r, 0.5))
          b.b[j / 8] ^= (uint8_t)(0x80u >> (j % 8));
    }
    if (i % 7 == 0)
      t = a; /* target equal to one side */
    if (i % 11 == 0)
      b = a; /* equal distance */
    int want = brute_distance_cmp(&t, &a, &b);
    cr_assert(eq(int, sign(dht_id_distance_cmp(&t, &a, &b)), want), "triple %d", i);
    cr_assert(eq(int, sign(dht_id_distance_cmp(&t, &b, &a)), -want), "triple %d", i);
  }
}

Test(id, distance_cmp_crafted) {
  dht_id t = parse("0000000000000000000000000000000000000000");
  dht_id a = parse("0000000000000000000000000000000000000001");
  dht_id b = parse("8000000000000000000000000000000000000000");
  cr_assert(lt(int, dht_id_distance_cmp(&t, &a, &b), 0));
  cr_assert(gt(int, dht_id_distance_cmp(&t, &b, &a), 0));
  cr_assert(eq(int, dht_id_distance_cmp(&t, &a, &a), 0));
  /* Relative to an all-ones target the order flips. */
  dht_id f = parse("ffffffffffffffffffffffffffffffffffffffff");
  cr_assert(gt(int, dht_id_distance_cmp(&f, &a, &b), 0));
  /* The target itself is closest to itself. */
  cr_assert(lt(int, dht_id_distance_cmp(&a, &a, &t), 0));
}

Test(id, bit_crafted) {
  dht_id a = parse("8000000000000000000000000000000000000001");
  cr_assert(eq(int, dht_id_bit(&a, 0), 1));
  cr_assert(eq(int, dht_id_bit(&a, 1), 0));
  cr_assert(eq(int, dht_id_bit(&a, 7), 0));
  cr_assert(eq(int, dht_id_bit(&a, 158), 0));
  cr_assert(eq(int, dht_id_bit(&a, 159), 1));
  dht_id b = parse("0100000000000000000000000000000000000080");
  cr_assert(eq(int, dht_id_bit(&b, 7), 1));
  cr_assert(eq(int, dht_id_bit(&b, 8), 0));
  cr_assert(eq(int, dht_id_bit(&b, 152), 1));
  /* Every single-bit ID has exactly its bit set. */
  for (unsigned i = 0; i < DHT_ID_BITS; i++) {
    dht_id x;
    memset(&x, 0, sizeof x);
    x.b[i / 8] = (uint8_t)(0x80u >> (i % 8));
    for (unsigned j = 0; j < DHT_ID_BITS; j++)
      cr_assert(eq(int, dht_id_bit(&x, j), i == j), "bit %u of id %u", j, i);
  }
}

struct cp_case {
  char a[DHT_ID_HEXLEN + 1];
  char b[DHT_ID_HEXLEN + 1];
  unsigned cp;
};

ParameterizedTestParameters(id, common_prefix_table) {
  static struct cp_case cases[] = {
      {"0000000000000000000000000000000000000000", "0000000000000000000000000000000000000000", 160},
      {"0000000000000000000000000000000000000000", "8000000000000000000000000000000000000000", 0},
      {"ffffffffffffffffffffffffffffffffffffffff", "7fffffffffffffffffffffffffffffffffffffff", 0},
      {"0000000000000000000000000000000000000000", "4000000000000000000000000000000000000000", 1},
      {"0000000000000000000000000000000000000000", "0100000000000000000000000000000000000000", 7},
      {"0000000000000000000000000000000000000000", "0080000000000000000000000000000000000000", 8},
      {"abcdef0000000000000000000000000000000000", "abcdef8000000000000000000000000000000000", 24},
      {"abcdef0000000000000000000000000000000000", "abcdee0000000000000000000000000000000000", 23},
      {"0000000000000000000000000000000000000000", "0000000000000000000000000000000000000001", 159},
      {"0000000000000000000000000000000000000000", "0000000000000000000000000000000000000002", 158},
      {"0000000000000000000000000000000000000000", "0000000000000000000000000000000000000100", 151},
      {"ffffffffffffffffffffffffffffffffffffffff", "ffffffffffffffffffffffffffffffffffffffff", 160},
      {"5555555555555555555555555555555555555555", "5555555555555555555555555555555555555554", 159},
      {"5555555555555555555555555555555555555555", "5555555555555555555555d55555555555555555", 88},
      /* the word boundaries of dht_id_common_prefix (bytes 0-7, 8-15, 16-19) */
      {"0000000000000000000000000000000000000000", "0000000000000001000000000000000000000000", 63},
      {"0000000000000000000000000000000000000000", "0000000000000000800000000000000000000000", 64},
      {"0000000000000000000000000000000000000000", "0000000000000000000000000000000100000000", 127},
      {"0000000000000000000000000000000000000000", "0000000000000000000000000000000080000000", 128},
  };
  return cr_make_param_array(struct cp_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct cp_case *c, id, common_prefix_table) {
  dht_id a = parse(c->a), b = parse(c->b);
  cr_assert(eq(uint, dht_id_common_prefix(&a, &b), c->cp), "%s %s", c->a, c->b);
  cr_assert(eq(uint, dht_id_common_prefix(&b, &a), c->cp));
}

Test(id, common_prefix_matches_bits) {
  const uint64_t seed = 0xc0de;
  dht_rng r;
  cr_log_info("seed %#llx", (unsigned long long)seed);
  dht_rng_init(&r, seed);
  for (int i = 0; i < 5000; i++) {
    dht_id a, b;
    dht_id_random(&a, &r);
    b = a;
    unsigned flip = (unsigned)dht_rng_below(&r, DHT_ID_BITS + 1); /* 160: no flip */
    if (flip < DHT_ID_BITS)
      b.b[flip / 8] ^= (uint8_t)(0x80u >> (flip % 8));
    for (unsigned j = flip + 1; j < DHT_ID_BITS; j++)
      if (dht_rng_chance(&r, 0.5))
        b.b[j / 8] ^= (uint8_t)(0x80u >> (j % 8));
    unsigned want = 0;
    while (want < DHT_ID_BITS && dht_id_bit(&a, want) == dht_id_bit(&b, want))
      want++;
    cr_assert(eq(uint, want, flip));
    cr_assert(eq(uint, dht_id_common_prefix(&a, &b), want));
  }
}

Test(id, random_uses_rng_fill) {
  dht_rng r1, r2;
  dht_id a;
  uint8_t buf[DHT_ID_LEN];
  dht_rng_init(&r1, 11);
  dht_rng_init(&r2, 11);
  dht_id_random(&a, &r1);
  dht_rng_fill(&r2, buf, sizeof buf);
  cr_assert(eq(mem, ID_MEM(a), ((struct cr_mem){.data = buf, .size = DHT_ID_LEN})));
}
