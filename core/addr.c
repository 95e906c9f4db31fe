/* addr.c: IPv4/IPv6 addresses as values: parse, format, compare, hash. */
#include "addr.h"

#include <arpa/inet.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

void dht_addr_set_v4(dht_addr *out, uint32_t ip, uint16_t port) {
  memset(out, 0, sizeof *out);
  out->family = DHT_AF_INET4;
  out->port = port;
  out->ip[0] = (uint8_t)(ip >> 24);
  out->ip[1] = (uint8_t)(ip >> 16);
  out->ip[2] = (uint8_t)(ip >> 8);
  out->ip[3] = (uint8_t)ip;
}

void dht_addr_set_v6(dht_addr *out, const uint8_t ip[16], uint16_t port) {
  memset(out, 0, sizeof *out);
  out->family = DHT_AF_INET6;
  out->port = port;
  memcpy(out->ip, ip, 16);
}

/* Parses a decimal port "0".."65535" filling the whole string. */
static int parse_port(const char *s, uint16_t *port) {
  unsigned long v = 0;
  if (*s == '\0' || strlen(s) > 5)
    return DHT_EINVAL;
  for (const char *p = s; *p; p++) {
    if (*p < '0' || *p > '9')
      return DHT_EINVAL;
    v = v * 10 + (unsigned long)(*p - '0');
  }
  if (v > 65535)
    return DHT_EINVAL;
  *port = (uint16_t)v;
  return DHT_OK;
}

int dht_addr_parse(dht_addr *out, const char *s) {
  char host[INET6_ADDRSTRLEN];
  const char *colon;
  uint16_t port;
  uint8_t ip[16];
  dht_addr tmp;

  if (out == NULL || s == NULL)
    return DHT_EINVAL;
  if (s[0] == '[') {
    const char *close = strchr(s, ']');
    size_t hl;
    if (close == NULL || close[1] != ':')
      return DHT_EINVAL;
    hl = (size_t)(close - s - 1);
    if (hl == 0 || hl >= sizeof host)
      return DHT_EINVAL;
    memcpy(host, s + 1, hl);
    host[hl] = '\0';
    if (parse_port(close + 2, &port) != DHT_OK || inet_pton(AF_INET6, host, ip) != 1)
      return DHT_EINVAL;
    dht_addr_set_v6(&tmp, ip, port);
  } else {
    size_t hl;
    colon = strchr(s, ':');
    if (colon == NULL || strchr(colon + 1, ':') != NULL)
      return DHT_EINVAL;
    hl = (size_t)(colon - s);
    if (hl == 0 || hl >= sizeof host)
      return DHT_EINVAL;
    memcpy(host, s, hl);
    host[hl] = '\0';
    if (parse_port(colon + 1, &port) != DHT_OK || inet_pton(AF_INET, host, ip) != 1)
      return DHT_EINVAL;
    memset(&tmp, 0, sizeof tmp);
    tmp.family = DHT_AF_INET4;
    tmp.port = port;
    memcpy(tmp.ip, ip, 4);
  }
  *out = tmp;
  return DHT_OK;
}

int dht_addr_format(const dht_addr *a, char *buf, size_t n) {
  char host[INET6_ADDRSTRLEN];
  int len;
  if (a->family == DHT_AF_INET4) {
    len = snprintf(buf, n, "%u.%u.%u.%u:%u", a->ip[0], a->ip[1], a->ip[2], a->ip[3], a->port);
  } else if (a->family == DHT_AF_INET6) {
    if (inet_ntop(AF_INET6, a->ip, host, sizeof host) == NULL)
      return DHT_EINVAL;
    len = snprintf(buf, n, "[%s]:%u", host, a->port);
  } else {
    return DHT_EINVAL;
  }
  if (len < 0 || (size_t)len >= n)
    return DHT_ERANGE;
  return len;
}

int dht_addr_cmp(const dht_addr *a, const dht_addr *b) {
  int c;
  if (a->family != b->family)
    return a->family < b->family ? -1 : 1;
  c = memcmp(a->ip, b->ip, 16);
  if (c != 0)
    return c < 0 ? -1 : 1;
  if (a->port != b->port)
    return a->port < b->port ? -1 : 1;
  return 0;
}

bool dht_addr_eq(const dht_addr *a, const dht_addr *b) {
  /* The whole struct as words: pad_ is always 0, so bytes equal iff values
   * do (family, port, ip), without a libc memcmp call. */
  G_STATIC_ASSERT(sizeof(dht_addr) == 20);
  uint64_t a0, a1, b0, b1;
  uint32_t a2, b2;
  memcpy(&a0, a, 8);
  memcpy(&b0, b, 8);
  memcpy(&a1, (const uint8_t *)a + 8, 8);
  memcpy(&b1, (const uint8_t *)b + 8, 8);
  memcpy(&a2, (const uint8_t *)a + 16, 4);
  memcpy(&b2, (const uint8_t *)b + 16, 4);
  return ((a0 ^ b0) | (a1 ^ b1) | (uint64_t)(a2 ^ b2)) == 0;
}

uint64_t dht_addr_hash(const dht_addr *a) {
  /* The value fields as three words, multiplied independently (no serial
   * chain: this runs for every node of every answer), then a splitmix
   * finaliser for good low bits (the tables index by a mask). */
  uint64_t w0 = (uint64_t)a->family | (uint64_t)a->port << 16 | (uint64_t)dht__be32(a->ip) << 32;
  uint64_t w1 = dht__be64(a->ip + 4), w2 = dht__be32(a->ip + 12); /* big-endian: the same hash on every machine */
  uint64_t h = w0 * 0x9e3779b97f4a7c15ULL + w1 * 0xc2b2ae3d27d4eb4fULL + w2 * 0x165667b19e3779f9ULL;
  h ^= h >> 32;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 29;
  h *= 0x94d049bb133111ebULL;
  return h ^ (h >> 32);
}
