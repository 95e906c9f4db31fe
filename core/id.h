/* id.h: 160-bit node IDs / infohashes and XOR-distance ordering,
 * done bytewise (no big integers): a is closer to t than b iff (a^t) < (b^t) as big-endian bytes. */
#ifndef DHT_ID_H
#define DHT_ID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rng.h"

#define DHT_ID_LEN 20
#define DHT_ID_BITS 160
#define DHT_ID_HEXLEN 40

typedef struct dht_id {
  uint8_t b[DHT_ID_LEN]; /* big-endian: b[0] holds bits 0..7, bit 0 most significant */
} dht_id;

/* Parses exactly 40 hex digits (either case) from hex[0..len). DHT_EINVAL otherwise; *out untouched on error. */
int dht_id_from_hex(dht_id *out, const char *hex, size_t len);
/* Writes 40 lowercase hex digits and a NUL into out (41 bytes). */
void dht_id_to_hex(const dht_id *id, char out[DHT_ID_HEXLEN + 1]);

/* 8 bytes as a big-endian number (compilers make it one load and a swap). */
static inline uint64_t dht__be64(const uint8_t *p) {
  return (uint64_t)p[0] << 56 | (uint64_t)p[1] << 48 | (uint64_t)p[2] << 40 | (uint64_t)p[3] << 32 |
         (uint64_t)p[4] << 24 | (uint64_t)p[5] << 16 | (uint64_t)p[6] << 8 | p[7];
}
static inline uint32_t dht__be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
/* memcmp order: <0, 0, >0. Inline, as three word compares: the lookup's
 * heaps compare distances with it at every move, where a call (libc's
 * memcmp or an out-of-line one) cost more than the compare itself. */
static inline int dht_id_cmp(const dht_id *a, const dht_id *b) {
  for (size_t i = 0; i < 16; i += 8) {
    uint64_t x = dht__be64(a->b + i), y = dht__be64(b->b + i);
    if (x != y)
      return x < y ? -1 : 1;
  }
  uint32_t u = dht__be32(a->b + 16), v = dht__be32(b->b + 16);
  return u < v ? -1 : u > v;
}
bool dht_id_eq(const dht_id *a, const dht_id *b);
void dht_id_xor(dht_id *out, const dht_id *a, const dht_id *b);
/* <0 if a is closer to target than b, 0 if equally close (a == b), >0 otherwise. */
int dht_id_distance_cmp(const dht_id *target, const dht_id *a, const dht_id *b);
/* Bit i (0 = most significant) of id; i < 160. */
int dht_id_bit(const dht_id *id, unsigned i);
/* Number of leading bits a and b share (0..160). */
unsigned dht_id_common_prefix(const dht_id *a, const dht_id *b);
void dht_id_random(dht_id *out, dht_rng *r);

#endif
