/* id.c: node ID parsing, formatting and XOR-distance ordering. */
#include "id.h"

#include <string.h>

#include "error.h"

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int dht_id_from_hex(dht_id *out, const char *hex, size_t len) {
  dht_id tmp;
  if (out == NULL || hex == NULL || len != DHT_ID_HEXLEN)
    return DHT_EINVAL;
  for (size_t i = 0; i < DHT_ID_LEN; i++) {
    int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return DHT_EINVAL;
    tmp.b[i] = (uint8_t)(hi << 4 | lo);
  }
  *out = tmp;
  return DHT_OK;
}

void dht_id_to_hex(const dht_id *id, char out[DHT_ID_HEXLEN + 1]) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < DHT_ID_LEN; i++) {
    out[2 * i] = digits[id->b[i] >> 4];
    out[2 * i + 1] = digits[id->b[i] & 15];
  }
  out[DHT_ID_HEXLEN] = '\0';
}

bool dht_id_eq(const dht_id *a, const dht_id *b) { return memcmp(a->b, b->b, DHT_ID_LEN) == 0; }

void dht_id_xor(dht_id *out, const dht_id *a, const dht_id *b) {
  for (size_t i = 0; i < DHT_ID_LEN; i++)
    out->b[i] = a->b[i] ^ b->b[i];
}

int dht_id_distance_cmp(const dht_id *target, const dht_id *a, const dht_id *b) {
  /* The first byte where a and b differ decides: the one agreeing with target there is closer. */
  for (size_t i = 0; i < DHT_ID_LEN; i++) {
    uint8_t da = a->b[i] ^ target->b[i], db = b->b[i] ^ target->b[i];
    if (da != db)
      return da < db ? -1 : 1;
  }
  return 0;
}

int dht_id_bit(const dht_id *id, unsigned i) { return (id->b[i >> 3] >> (7 - (i & 7))) & 1; }

unsigned dht_id_common_prefix(const dht_id *a, const dht_id *b) {
  for (unsigned i = 0; i < DHT_ID_LEN; i++) {
    uint8_t x = a->b[i] ^ b->b[i];
    if (x != 0)
      return i * 8 + (unsigned)__builtin_clz((unsigned)x) - 24;
  }
  return DHT_ID_BITS;
}

void dht_id_random(dht_id *out, dht_rng *r) { dht_rng_fill(r, out->b, DHT_ID_LEN); }
