/* addr.h: IPv4/IPv6 host + port, compared by value. The address is a node's key
 * for deduplication in a lookup (BEP 5 nodes may change ID; host:port is stable). */
#ifndef DHT_ADDR_H
#define DHT_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "id.h"

enum { DHT_AF_INET4 = 4, DHT_AF_INET6 = 6 };

/* "[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535" plus NUL fits. */
#define DHT_ADDR_STRLEN 56

typedef struct dht_addr {
  uint8_t family; /* DHT_AF_INET4 or DHT_AF_INET6 */
  uint8_t pad_;   /* always 0, so that whole-struct memcmp/hash is value equality */
  uint16_t port;  /* host byte order */
  uint8_t ip[16]; /* network order; v4 uses ip[0..3], the rest stays 0 */
} dht_addr;

/* ip in host byte order (0x0a000001 == 10.0.0.1). */
void dht_addr_set_v4(dht_addr *out, uint32_t ip, uint16_t port);
void dht_addr_set_v6(dht_addr *out, const uint8_t ip[16], uint16_t port);
/* Parses "a.b.c.d:port" or "[v6]:port" (port 0..65535). DHT_EINVAL on anything else; *out untouched on error. */
int dht_addr_parse(dht_addr *out, const char *s);
/* Writes "host:port" / "[v6]:port" with a NUL; returns the length, or DHT_ERANGE if n is too small. */
int dht_addr_format(const dht_addr *a, char *buf, size_t n);
int dht_addr_cmp(const dht_addr *a, const dht_addr *b); /* total order: family, ip, port */
bool dht_addr_eq(const dht_addr *a, const dht_addr *b);
uint64_t dht_addr_hash(const dht_addr *a); /* deterministic; never reaches output order */

/* A contact: node ID and where to reach it. */
typedef struct dht_node {
  dht_id id;
  dht_addr addr;
} dht_node;

#endif
