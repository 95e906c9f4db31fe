/* test_addr.c: host:port parsing and formatting round-trips, rejection of
 * malformed input, and value semantics (eq / cmp / hash / whole-struct memcmp). */
#include <criterion/criterion.h>
#include "criterion_assert.h"
#include <criterion/parameterized.h>
#include <string.h>

#include "addr.h"
#include "error.h"
#include "rng.h"

#define ADDR_MEM(x) ((struct cr_mem){.data = &(x), .size = sizeof(dht_addr)})
/* eq(mem, ...) rather than array tags such as u8[16]: those leak in Criterion 2.4.1. */
#define IP_MEM(x) ((struct cr_mem){.data = (x), .size = 16})

static dht_addr sentinel(void) {
  dht_addr a;
  memset(&a, 0x5a, sizeof a);
  return a;
}

/* Parses s, formats it back and expects exactly s again. */
static dht_addr round_trip(const char *s) {
  dht_addr a;
  char buf[DHT_ADDR_STRLEN];
  cr_assert(eq(int, dht_addr_parse(&a, s), DHT_OK), "%s", s);
  cr_assert(eq(int, dht_addr_format(&a, buf, sizeof buf), (int)strlen(s)), "%s", s);
  cr_assert(eq(str, buf, (char *)s));
  return a;
}

Test(addr, v4_parse_format) {
  dht_addr a = round_trip("10.0.0.1:6881");
  cr_assert(eq(u8, a.family, DHT_AF_INET4));
  cr_assert(eq(u8, a.pad_, 0));
  cr_assert(eq(u16, a.port, 6881));
  const uint8_t ip[16] = {10, 0, 0, 1};
  cr_assert(eq(mem, IP_MEM(a.ip), IP_MEM(ip)));
  round_trip("0.0.0.0:0");
  round_trip("255.255.255.255:65535");
  round_trip("192.168.1.100:80");
}

Test(addr, v6_parse_format) {
  dht_addr a = round_trip("[::1]:6881");
  const uint8_t lo[16] = {[15] = 1};
  cr_assert(eq(u8, a.family, DHT_AF_INET6));
  cr_assert(eq(u8, a.pad_, 0));
  cr_assert(eq(u16, a.port, 6881));
  cr_assert(eq(mem, IP_MEM(a.ip), IP_MEM(lo)));

  dht_addr b = round_trip("[2001:db8::1]:65535");
  const uint8_t doc[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
  cr_assert(eq(u16, b.port, 65535));
  cr_assert(eq(mem, IP_MEM(b.ip), IP_MEM(doc)));

  round_trip("[::]:0");
  round_trip("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
  round_trip("[::ffff:1.2.3.4]:80"); /* v4-mapped stays v6 */
}

Test(addr, v6_parse_normalises) {
  /* Non-canonical spellings parse; formatting is canonical (RFC 5952 via inet_ntop). */
  dht_addr a;
  char buf[DHT_ADDR_STRLEN];
  cr_assert(eq(int, dht_addr_parse(&a, "[2001:0DB8:0000:0000:0000:0000:0000:0001]:1"), DHT_OK));
  cr_assert(eq(int, dht_addr_format(&a, buf, sizeof buf), 15));
  cr_assert(eq(str, buf, "[2001:db8::1]:1"));
}

Test(addr, set_matches_parse) {
  dht_addr p, s;
  cr_assert(eq(int, dht_addr_parse(&p, "10.0.0.1:6881"), DHT_OK));
  memset(&s, 0xff, sizeof s); /* set_* must clear padding and unused bytes */
  dht_addr_set_v4(&s, 0x0a000001u, 6881);
  cr_assert(eq(mem, ADDR_MEM(p), ADDR_MEM(s)));

  const uint8_t ip6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
  cr_assert(eq(int, dht_addr_parse(&p, "[2001:db8::1]:65535"), DHT_OK));
  memset(&s, 0xff, sizeof s);
  dht_addr_set_v6(&s, ip6, 65535);
  cr_assert(eq(mem, ADDR_MEM(p), ADDR_MEM(s)));
}

struct bad_addr {
  char s[64];
};

ParameterizedTestParameters(addr, bad_input_rejected) {
  static struct bad_addr cases[] = {
      {""},
      {"10.0.0.1"},          /* no port */
      {"10.0.0.1:"},         /* empty port */
      {"10.0.0.1:65536"},    /* port too large */
      {"10.0.0.1:99999"},
      {"10.0.0.1:123456"},
      {"10.0.0.1:-1"},
      {"10.0.0.1:+80"},
      {"10.0.0.1: 80"},
      {"10.0.0.1:80 "},
      {"10.0.0.1:0x50"},
      {"1.2.3:80"},          /* three octets */
      {"1.2.3.4.5:80"},
      {"256.1.1.1:80"},
      {" 1.2.3.4:80"},
      {"abc:1"},
      {":80"},
      {"1.2.3.4:80:90"},     /* extra colon */
      {"::1:80"},            /* v6 without brackets */
      {"[::1]6881"},         /* no colon after ] */
      {"[::1]:"},            /* empty port */
      {"[::1]:65536"},
      {"[::1]:8a"},
      {"[::1]:80:1"},
      {"[::1:80"},           /* no ] */
      {"[]:80"},
      {"[1.2.3.4]:80"},      /* v4 in brackets */
      {"[::g]:80"},
      {"[1:2:3:4:5:6:7:8:9]:80"},
      {"[::1]]:80"},
  };
  return cr_make_param_array(struct bad_addr, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct bad_addr *c, addr, bad_input_rejected) {
  dht_addr out = sentinel(), want = sentinel();
  cr_assert(eq(int, dht_addr_parse(&out, c->s), DHT_EINVAL), "\"%s\"", c->s);
  cr_assert(eq(mem, ADDR_MEM(out), ADDR_MEM(want)), "\"%s\" touched the output", c->s);
}

Test(addr, null_rejected) {
  dht_addr out = sentinel(), want = sentinel();
  cr_assert(eq(int, dht_addr_parse(&out, NULL), DHT_EINVAL));
  cr_assert(eq(mem, ADDR_MEM(out), ADDR_MEM(want)));
  cr_assert(eq(int, dht_addr_parse(NULL, "10.0.0.1:1"), DHT_EINVAL));
}

Test(addr, equal_values_equal_everywhere) {
  dht_addr a, b;
  cr_assert(eq(int, dht_addr_parse(&a, "[2001:db8::1]:6881"), DHT_OK));
  cr_assert(eq(int, dht_addr_parse(&b, "[2001:db8:0::1]:6881"), DHT_OK));
  cr_assert(dht_addr_eq(&a, &b));
  cr_assert(eq(int, dht_addr_cmp(&a, &b), 0));
  cr_assert(eq(u64, dht_addr_hash(&a), dht_addr_hash(&b)));
  cr_assert(eq(mem, ADDR_MEM(a), ADDR_MEM(b)));

  cr_assert(eq(int, dht_addr_parse(&a, "10.0.0.1:6881"), DHT_OK));
  dht_addr_set_v4(&b, 0x0a000001u, 6881);
  cr_assert(dht_addr_eq(&a, &b));
  cr_assert(eq(int, dht_addr_cmp(&a, &b), 0));
  cr_assert(eq(u64, dht_addr_hash(&a), dht_addr_hash(&b)));
}

/* dht_addr_eq compares the whole struct as words: two addresses differing
 * in any one ip byte, either port byte or the family are unequal. */
Test(addr, eq_sees_every_byte) {
  uint8_t ip[16];
  for (unsigned i = 0; i < 16; i++)
    ip[i] = (uint8_t)(0x20 + i);
  dht_addr a, b;
  dht_addr_set_v6(&a, ip, 0x1a2b);
  for (unsigned i = 0; i < 16; i++) {
    uint8_t ip2[16];
    memcpy(ip2, ip, sizeof ip2);
    ip2[i] ^= 0x01;
    dht_addr_set_v6(&b, ip2, 0x1a2b);
    cr_assert(not(dht_addr_eq(&a, &b)), "ip byte %u", i);
    cr_assert(not(dht_addr_eq(&b, &a)), "ip byte %u", i);
  }
  dht_addr_set_v6(&b, ip, 0x1a2a);
  cr_assert(not(dht_addr_eq(&a, &b)), "port low byte");
  dht_addr_set_v6(&b, ip, 0x1b2b);
  cr_assert(not(dht_addr_eq(&a, &b)), "port high byte");
  dht_addr_set_v6(&b, ip, 0x1a2b);
  cr_assert(dht_addr_eq(&a, &b));
}

Test(addr, v4_and_v6_differ) {
  /* Same 16 ip bytes and port, different family. */
  dht_addr v4, v6;
  const uint8_t ip[16] = {10, 0, 0, 1};
  dht_addr_set_v4(&v4, 0x0a000001u, 6881);
  dht_addr_set_v6(&v6, ip, 6881);
  cr_assert(eq(mem, IP_MEM(v4.ip), IP_MEM(v6.ip)));
  cr_assert(not(dht_addr_eq(&v4, &v6)));
  cr_assert(lt(int, dht_addr_cmp(&v4, &v6), 0)); /* family first: 4 < 6 */
  cr_assert(gt(int, dht_addr_cmp(&v6, &v4), 0));
  cr_assert(ne(u64, dht_addr_hash(&v4), dht_addr_hash(&v6)));
  /* A v4-mapped v6 address is not the v4 address either. */
  dht_addr m;
  cr_assert(eq(int, dht_addr_parse(&m, "[::ffff:10.0.0.1]:6881"), DHT_OK));
  cr_assert(not(dht_addr_eq(&v4, &m)));
}

Test(addr, cmp_order_family_ip_port) {
  dht_addr a, b;
  cr_assert(eq(int, dht_addr_parse(&a, "1.2.3.4:9"), DHT_OK));
  cr_assert(eq(int, dht_addr_parse(&b, "1.2.3.5:1"), DHT_OK));
  cr_assert(lt(int, dht_addr_cmp(&a, &b), 0)); /* ip before port */
  cr_assert(gt(int, dht_addr_cmp(&b, &a), 0));
  cr_assert(eq(int, dht_addr_parse(&b, "1.2.3.4:10"), DHT_OK));
  cr_assert(lt(int, dht_addr_cmp(&a, &b), 0));
  cr_assert(not(dht_addr_eq(&a, &b)));
  cr_assert(eq(int, dht_addr_parse(&a, "255.255.255.255:65535"), DHT_OK));
  cr_assert(eq(int, dht_addr_parse(&b, "[::]:0"), DHT_OK));
  cr_assert(lt(int, dht_addr_cmp(&a, &b), 0)); /* any v4 < any v6 */
  /* port is compared as a number, not by its bytes */
  cr_assert(eq(int, dht_addr_parse(&a, "1.2.3.4:256"), DHT_OK));
  cr_assert(eq(int, dht_addr_parse(&b, "1.2.3.4:1"), DHT_OK));
  cr_assert(gt(int, dht_addr_cmp(&a, &b), 0));
}

Test(addr, random_round_trip_and_hash) {
  const uint64_t seed = 0xadd7;
  dht_rng r;
  cr_log_info("seed %#llx", (unsigned long long)seed);
  dht_rng_init(&r, seed);
  enum { N = 4000 };
  static uint64_t hashes[N];
  for (int i = 0; i < N; i++) {
    dht_addr a, b;
    char buf[DHT_ADDR_STRLEN];
    uint16_t port = (uint16_t)dht_rng_below(&r, 65536);
    if (i % 2 == 0) {
      dht_addr_set_v4(&a, (uint32_t)dht_rng_next(&r), port);
    } else {
      uint8_t ip[16];
      dht_rng_fill(&r, ip, sizeof ip);
      if (i % 6 == 1) /* runs of zeros exercise "::" compression */
        memset(ip + 2 + dht_rng_below(&r, 6), 0, 6);
      dht_addr_set_v6(&a, ip, port);
    }
    int len = dht_addr_format(&a, buf, sizeof buf);
    cr_assert(gt(int, len, 0));
    cr_assert(eq(sz, strlen(buf), (size_t)len));
    cr_assert(eq(int, dht_addr_parse(&b, buf), DHT_OK), "%s", buf);
    cr_assert(eq(mem, ADDR_MEM(a), ADDR_MEM(b)), "%s", buf);
    cr_assert(eq(u64, dht_addr_hash(&a), dht_addr_hash(&b)));
    hashes[i] = dht_addr_hash(&a);
  }
  /* Distinct random addresses: no 64-bit hash collisions expected. */
  for (int i = 0; i < N; i++)
    for (int j = i + 1; j < N; j++)
      cr_assert(ne(u64, hashes[i], hashes[j]), "%d %d", i, j);
}

Test(addr, format_buffer_too_small) {
  dht_addr a;
  char buf[DHT_ADDR_STRLEN];
  cr_assert(eq(int, dht_addr_parse(&a, "10.0.0.1:6881"), DHT_OK));
  cr_assert(eq(int, dht_addr_format(&a, buf, 13), DHT_ERANGE)); /* needs 13 + NUL */
  cr_assert(eq(int, dht_addr_format(&a, buf, 1), DHT_ERANGE));
  cr_assert(eq(int, dht_addr_format(&a, NULL, 0), DHT_ERANGE));
  cr_assert(eq(int, dht_addr_format(&a, buf, 14), 13));
  cr_assert(eq(str, buf, "10.0.0.1:6881"));

  cr_assert(eq(int, dht_addr_parse(&a, "[::1]:6881"), DHT_OK));
  cr_assert(eq(int, dht_addr_format(&a, buf, 10), DHT_ERANGE));
  cr_assert(eq(int, dht_addr_format(&a, buf, 11), 10));
  cr_assert(eq(str, buf, "[::1]:6881"));
}

Test(addr, longest_forms_fit_strlen) {
  const char *longest[] = {"[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535",
                           "[::ffff:255.255.255.255]:65535", "255.255.255.255:65535"};
  for (size_t i = 0; i < 3; i++) {
    dht_addr a;
    char buf[DHT_ADDR_STRLEN];
    cr_assert(eq(int, dht_addr_parse(&a, longest[i]), DHT_OK));
    cr_assert(eq(int, dht_addr_format(&a, buf, sizeof buf), (int)strlen(longest[i])));
    cr_assert(lt(sz, strlen(longest[i]), (size_t)DHT_ADDR_STRLEN));
  }
}

Test(addr, format_bad_family) {
  dht_addr a;
  char buf[DHT_ADDR_STRLEN];
  memset(&a, 0, sizeof a);
  a.family = 5;
  cr_assert(eq(int, dht_addr_format(&a, buf, sizeof buf), DHT_EINVAL));
}

/* The lookup's tables index by the hash's low bits: the addresses of
 * simulated nodes (10.x.y.z:6881, consecutive) and of one host's ports must
 * fill a table of as many cells about as a random hash does (1 - 1/e = 63 %
 * of the cells hit, +-0.5 %; a hash that ignored a byte or the port would hit
 * few). */
Test(addr, hash_low_bits_spread_over_consecutive_addresses) {
  enum { N = 4096 };
  static bool hit[N];
  for (int pass = 0; pass < 3; pass++) {
    unsigned cells = 0;
    memset(hit, 0, sizeof hit);
    for (uint32_t i = 0; i < N; i++) {
      dht_addr a;
      if (pass == 0)
        dht_addr_set_v4(&a, 0x0a000000u | i, 6881); /* node i */
      else if (pass == 1)
        dht_addr_set_v4(&a, 0x0a000001u, (uint16_t)(1024 + i)); /* one host, its ports */
      else {
        uint8_t ip[16] = {0x20, 0x01, 0x0d, 0xb8};
        ip[14] = (uint8_t)(i >> 8);
        ip[15] = (uint8_t)i;
        dht_addr_set_v6(&a, ip, 6881);
      }
      size_t c = (size_t)dht_addr_hash(&a) & (N - 1);
      cells += !hit[c];
      hit[c] = true;
    }
    cr_assert(gt(uint, cells, N * 6 / 10), "pass %d: %u of %d cells", pass, cells, N);
  }
}
