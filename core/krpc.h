/* krpc.h: a sans-I/O codec for the KRPC messages of BEP 5 (bencoded
 * dictionaries over UDP): ping, find_node, get_peers and announce_peer
 * queries, their responses, and errors. Compact IPv4 node info ("nodes") and
 * compact peers ("values", IPv4 or IPv6) both ways; a response may carry
 * values and nodes together. Keys the codec does not know are skipped
 * (BEP 5 clients add "v", "ip", "ro", "want", "nodes6", ...).
 *
 * Decoding is the one entry point for untrusted bytes: every length, nesting
 * level and list is capped below (a message within the caps never allocates:
 * dht_krpc_msg holds everything), and every rejection names its reason. */
#ifndef DHT_KRPC_H
#define DHT_KRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "id.h"
#include "lookup.h"

/* A BEP 5 datagram is one UDP packet: anything longer is refused unread. */
#define DHT_KRPC_LEN_MAX 4096
/* Deepest nesting of lists and dictionaries, the top dictionary counting 1
 * (KRPC itself needs 3: top, "r", "values"). */
#define DHT_KRPC_DEPTH_MAX 8
/* Values of all kinds in one message (each string, integer, list, dict). */
#define DHT_KRPC_ELEMENTS_MAX 1024
#define DHT_KRPC_TID_MAX 16       /* transaction id bytes (clients send 2 to 4) */
#define DHT_KRPC_NODES_MAX 64     /* compact nodes in one "nodes" (26 bytes each) */
#define DHT_KRPC_VALUES_MAX 128   /* peers in one "values" list */
#define DHT_KRPC_ERRMSG_MAX 256   /* error message bytes */
#define DHT_KRPC_METHOD_MAX 32    /* method name bytes kept (longer ones are unknown methods) */
#define DHT_KRPC_COMPACT_NODE 26  /* 20-byte id, 4-byte IPv4, 2-byte port */

typedef enum dht_krpc_type {
  DHT_KRPC_QUERY = 1,    /* "y": "q" */
  DHT_KRPC_RESPONSE = 2, /* "y": "r" */
  DHT_KRPC_ERROR = 3,    /* "y": "e" */
} dht_krpc_type;

typedef enum dht_krpc_method {
  DHT_KRPC_UNKNOWN = 0, /* a query whose method is none of the four: answer with error 204 */
  DHT_KRPC_PING = 1,
  DHT_KRPC_FIND_NODE = 2,
  DHT_KRPC_GET_PEERS = 3,
  DHT_KRPC_ANNOUNCE_PEER = 4,
} dht_krpc_method;

/* BEP 5 error codes. */
enum {
  DHT_KRPC_E_GENERIC = 201,
  DHT_KRPC_E_SERVER = 202,
  DHT_KRPC_E_PROTOCOL = 203,
  DHT_KRPC_E_METHOD = 204,
};

/* One message. A response does not say which query it answers: every field
 * it carried is filled in, the caller matches it by tid. */
typedef struct dht_krpc_msg {
  dht_krpc_type type;
  uint8_t tid[DHT_KRPC_TID_MAX];
  size_t tid_len;
  /* Queries. */
  dht_krpc_method method;
  char method_name[DHT_KRPC_METHOD_MAX]; /* as received, not NUL-terminated */
  size_t method_len;
  /* Queries and responses ("a" / "r"). */
  bool has_id, has_target, has_info_hash, has_port, has_token;
  dht_id id;
  dht_id target;    /* find_node */
  dht_id info_hash; /* get_peers, announce_peer */
  uint16_t port;    /* announce_peer */
  bool implied_port; /* announce_peer: use the UDP source port */
  uint8_t token[DHT_TOKEN_MAX];
  size_t token_len;
  dht_node nodes[DHT_KRPC_NODES_MAX]; /* IPv4 only ("nodes") */
  size_t n_nodes;
  bool has_nodes, has_values;
  dht_addr values[DHT_KRPC_VALUES_MAX];
  size_t n_values;
  /* Errors. */
  int64_t error_code;
  char error_msg[DHT_KRPC_ERRMSG_MAX]; /* not NUL-terminated */
  size_t error_len;
} dht_krpc_msg;

/* Parses one datagram into *m (zeroed first). Returns 0, or DHT_EINVAL with
 * *why (may be NULL) set to a static one-line reason, e.g. "string length
 * runs past the end"; *m is then unspecified. A query must carry what its
 * method needs (ping: id; find_node: id, target; get_peers: id, info_hash;
 * announce_peer: id, info_hash, token, port or implied_port); a response an
 * id; an error a [code, message] list. */
int dht_krpc_decode(dht_krpc_msg *m, const uint8_t *buf, size_t len, const char **why);

/* Writes m as bencode (keys sorted, only the fields its type and method use:
 * a query of an unknown method gets its name and id) into out. Returns the
 * length, DHT_ERANGE if cap is too small, DHT_EINVAL if m breaks a cap or
 * holds something KRPC cannot say (an IPv6 node in "nodes", a bad type). */
int dht_krpc_encode(const dht_krpc_msg *m, uint8_t *out, size_t cap);

/* "ping", "find_node", "get_peers", "announce_peer", or "unknown". */
const char *dht_krpc_method_str(dht_krpc_method m);

#endif
