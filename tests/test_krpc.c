/* test_krpc.c: the KRPC codec: every message type round-trips field for field
 * and byte for byte (against hand-written bencode of BEP 5's examples), unknown
 * keys are skipped, and every malformed or over-cap input is refused with its
 * reason. */
#include <criterion/criterion.h>
#include "criterion_assert.h"
#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "krpc.h"

static dht_krpc_msg m, m2;
static uint8_t buf[2 * DHT_KRPC_LEN_MAX];

static int dec(const char *s, size_t n, const char **why) { return dht_krpc_decode(&m, (const uint8_t *)s, n, why); }
#define DEC(lit, why) dec(lit, sizeof(lit) - 1, why)

/* Encodes m, expects exactly want, and decodes it back into m2. */
static void encode_is(const char *want, size_t n) {
  int len = dht_krpc_encode(&m, buf, sizeof buf);
  cr_assert(eq(int, len, (int)n), "encoded %d bytes: %.*s", len, len > 0 ? len : 0, (const char *)buf);
  cr_assert(eq(int, memcmp(buf, want, n), 0), "encoded %.*s", len, (const char *)buf);
  cr_assert(eq(int, dht_krpc_decode(&m2, buf, (size_t)len, NULL), 0));
}
#define ENCODE_IS(lit) encode_is(lit, sizeof(lit) - 1)

static void id_fill(dht_id *id, char c) { memset(id->b, c, DHT_ID_LEN); }

/* BEP 5's examples, with 20-byte ids. */
#define ID_A "abcdefghij0123456789"
#define ID_M "mnopqrstuvwxyz123456"

Test(krpc, ping_query_and_response) {
  cr_assert(eq(int, DEC("d1:ad2:id20:" ID_A "e1:q4:ping1:t2:aa1:y1:qe", NULL), 0));
  cr_assert(eq(int, m.type, DHT_KRPC_QUERY));
  cr_assert(eq(int, m.method, DHT_KRPC_PING));
  cr_assert(eq(sz, m.tid_len, 2));
  cr_assert(eq(int, memcmp(m.tid, "aa", 2), 0));
  cr_assert(m.has_id && memcmp(m.id.b, ID_A, 20) == 0);
  ENCODE_IS("d1:ad2:id20:" ID_A "e1:q4:ping1:t2:aa1:y1:qe");
  cr_assert(eq(int, DEC("d1:rd2:id20:" ID_M "e1:t2:aa1:y1:re", NULL), 0));
  cr_assert(eq(int, m.type, DHT_KRPC_RESPONSE));
  cr_assert(m.has_id && memcmp(m.id.b, ID_M, 20) == 0);
  ENCODE_IS("d1:rd2:id20:" ID_M "e1:t2:aa1:y1:re");
}

Test(krpc, find_node) {
  cr_assert(eq(int, DEC("d1:ad2:id20:" ID_A "6:target20:" ID_M "e1:q9:find_node1:t2:aa1:y1:qe", NULL), 0));
  cr_assert(eq(int, m.method, DHT_KRPC_FIND_NODE));
  cr_assert(m.has_target && memcmp(m.target.b, ID_M, 20) == 0);
  ENCODE_IS("d1:ad2:id20:" ID_A "6:target20:" ID_M "e1:q9:find_node1:t2:aa1:y1:qe");
  cr_assert(eq(int, memcmp(&m2.target, &m.target, sizeof m.target), 0));
  /* Response: two compact nodes, 127.1.2.1:6881 and 10.0.0.9:1. */
  memset(&m, 0, sizeof m);
  m.type = DHT_KRPC_RESPONSE;
  m.tid_len = 1;
  m.tid[0] = 'x';
  m.has_id = true;
  id_fill(&m.id, 'i');
  m.has_nodes = true;
  m.n_nodes = 2;
  id_fill(&m.nodes[0].id, 'n');
  dht_addr_set_v4(&m.nodes[0].addr, 0x7f010201u, 6881);
  id_fill(&m.nodes[1].id, 'o');
  dht_addr_set_v4(&m.nodes[1].addr, 0x0a000009u, 1);
  ENCODE_IS("d1:rd2:id20:iiiiiiiiiiiiiiiiiiii5:nodes52:nnnnnnnnnnnnnnnnnnnn\x7f\x01\x02\x01\x1a\xe1"
            "oooooooooooooooooooo\x0a\x00\x00\x09\x00\x01" "e1:t1:x1:y1:re");
  cr_assert(eq(sz, m2.n_nodes, 2));
  cr_assert(dht_addr_eq(&m2.nodes[0].addr, &m.nodes[0].addr) && dht_addr_eq(&m2.nodes[1].addr, &m.nodes[1].addr));
  cr_assert(dht_id_eq(&m2.nodes[1].id, &m.nodes[1].id));
}

Test(krpc, get_peers_values_and_nodes) {
  cr_assert(eq(int, DEC("d1:ad2:id20:" ID_A "9:info_hash20:" ID_M "e1:q9:get_peers1:t2:aa1:y1:qe", NULL), 0));
  cr_assert(eq(int, m.method, DHT_KRPC_GET_PEERS));
  cr_assert(m.has_info_hash && memcmp(m.info_hash.b, ID_M, 20) == 0);
  ENCODE_IS("d1:ad2:id20:" ID_A "9:info_hash20:" ID_M "e1:q9:get_peers1:t2:aa1:y1:qe");
  /* Values (one IPv4, one IPv6) and nodes together, and a token. */
  cr_assert(eq(int,
               DEC("d1:rd2:id20:" ID_M "5:nodes26:" ID_A "\x7f\x00\x00\x01\x00\x50" "5:token8:aoeusnth6:valuesl6:"
                   "\xc0\xa8\x00\x01\xc8\xd5" "18:\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01\x1a\xe1" "ee1:t2:aa1:y1:re",
                   NULL),
               0));
  cr_assert(m.has_values && m.has_nodes && m.has_token);
  cr_assert(eq(sz, m.n_values, 2));
  cr_assert(eq(sz, m.n_nodes, 1));
  cr_assert(eq(sz, m.token_len, 8));
  dht_addr want;
  dht_addr_set_v4(&want, 0xc0a80001u, 51413);
  cr_assert(dht_addr_eq(&m.values[0], &want));
  cr_assert(eq(int, m.values[1].family, DHT_AF_INET6));
  cr_assert(eq(u16, m.values[1].port, 6881));
  dht_addr_set_v4(&want, 0x7f000001u, 80);
  cr_assert(dht_addr_eq(&m.nodes[0].addr, &want));
  ENCODE_IS("d1:rd2:id20:" ID_M "5:nodes26:" ID_A "\x7f\x00\x00\x01\x00\x50" "5:token8:aoeusnth6:valuesl6:"
            "\xc0\xa8\x00\x01\xc8\xd5" "18:\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01\x1a\xe1" "ee1:t2:aa1:y1:re");
  cr_assert(dht_addr_eq(&m2.values[1], &m.values[1]));
}

Test(krpc, announce_peer) {
  cr_assert(eq(int,
               DEC("d1:ad2:id20:" ID_A "12:implied_porti1e9:info_hash20:" ID_M "4:porti6881e5:token8:aoeusnthe"
                   "1:q13:announce_peer1:t2:aa1:y1:qe",
                   NULL),
               0));
  cr_assert(eq(int, m.method, DHT_KRPC_ANNOUNCE_PEER));
  cr_assert(m.implied_port && m.has_port && m.port == 6881);
  cr_assert(eq(int, memcmp(m.token, "aoeusnth", 8), 0));
  ENCODE_IS("d1:ad2:id20:" ID_A "12:implied_porti1e9:info_hash20:" ID_M "4:porti6881e5:token8:aoeusnthe"
            "1:q13:announce_peer1:t2:aa1:y1:qe");
  /* implied_port 0 is not written back. */
  cr_assert(eq(int,
               DEC("d1:ad2:id20:" ID_A "12:implied_porti0e9:info_hash20:" ID_M "4:porti1e5:token0:e"
                   "1:q13:announce_peer1:t1:b1:y1:qe",
                   NULL),
               0));
  cr_assert(m.implied_port == false && m.port == 1 && m.has_token && m.token_len == 0);
  ENCODE_IS("d1:ad2:id20:" ID_A "9:info_hash20:" ID_M "4:porti1e5:token0:e1:q13:announce_peer1:t1:b1:y1:qe");
}

Test(krpc, error_message) {
  cr_assert(eq(int, DEC("d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee", NULL), 0));
  cr_assert(eq(int, m.type, DHT_KRPC_ERROR));
  cr_assert(eq(i64, m.error_code, 201));
  cr_assert(eq(sz, m.error_len, 23));
  ENCODE_IS("d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee");
  cr_assert(eq(int, DEC("d1:eli-9223372036854775808e0:e1:t0:1:y1:ee", NULL), 0));
  cr_assert(eq(i64, m.error_code, INT64_MIN));
}

Test(krpc, unknown_keys_and_methods) {
  /* "v", "ip", "ro" and nested unknown values are skipped; keys in any order. */
  cr_assert(eq(int,
               DEC("d1:y1:q1:t2:aa2:ip6:\x7f\0\0\x01\x1a\xe1" "1:ad4:wantl2:n42:n6e2:id20:" ID_A
                   "6:nestedd1:xli1eld1:ai-3eeeeee1:q4:ping2:roi1e1:v4:LT\x02\x00" "e",
                   NULL),
               0));
  cr_assert(eq(int, m.method, DHT_KRPC_PING));
  ENCODE_IS("d1:ad2:id20:" ID_A "e1:q4:ping1:t2:aa1:y1:qe");
  /* An unknown method keeps its name (the server answers 204). */
  cr_assert(eq(int, DEC("d1:ad2:id20:" ID_A "e1:q17:sample_infohashes1:t2:aa1:y1:qe", NULL), 0));
  cr_assert(eq(int, m.method, DHT_KRPC_UNKNOWN));
  cr_assert(eq(sz, m.method_len, 17));
  ENCODE_IS("d1:ad2:id20:" ID_A "e1:q17:sample_infohashes1:t2:aa1:y1:qe");
  cr_assert(eq(str, (char *)dht_krpc_method_str(DHT_KRPC_ANNOUNCE_PEER), "announce_peer"));
}

/* Each malformed input is refused with DHT_EINVAL and exactly this reason. */
static void refused(const char *s, size_t n, const char *reason) {
  const char *why = NULL;
  cr_assert(eq(int, dec(s, n, &why), DHT_EINVAL), "accepted: %.*s", (int)n, s);
  cr_assert(why != NULL);
  cr_assert(eq(str, (char *)why, (char *)reason), "input %.*s", (int)n, s);
}
#define REFUSED(lit, reason) refused(lit, sizeof(lit) - 1, reason)

Test(krpc, malformed) {
  REFUSED("", "message is not a dictionary");
  REFUSED("le", "message is not a dictionary");
  REFUSED("d", "dictionary not terminated");
  REFUSED("d1:t2:aa1:y1:qe", "query without q (method)");
  REFUSED("d1:q4:ping1:t2:aa1:y1:qe", "query without a.id");
  REFUSED("d1:ad2:id19:abcdefghij012345678e1:q4:ping1:t2:aa1:y1:qe", "id is not 20 bytes");
  REFUSED("d1:ad2:id20:" ID_A "e1:q9:find_node1:t2:aa1:y1:qe", "find_node without target");
  REFUSED("d1:ad2:id20:" ID_A "e1:q9:get_peers1:t2:aa1:y1:qe", "get_peers or announce_peer without info_hash");
  REFUSED("d1:ad2:id20:" ID_A "9:info_hash20:" ID_M "4:porti1ee1:q13:announce_peer1:t2:aa1:y1:qe",
          "announce_peer without token");
  REFUSED("d1:ad2:id20:" ID_A "9:info_hash20:" ID_M "5:token1:xe1:q13:announce_peer1:t2:aa1:y1:qe",
          "announce_peer without port");
  REFUSED("d1:ad2:id20:" ID_A "4:porti65536ee1:q4:ping1:t2:aa1:y1:qe", "port out of 0..65535");
  REFUSED("d1:ad2:id20:" ID_A "e1:q4:ping1:y1:qe", "no t (transaction id)");
  REFUSED("d1:ad2:id20:" ID_A "e1:q4:ping1:t2:aae", "no y (message type)");
  REFUSED("d1:y1:xe", "y is not q, r or e");
  REFUSED("d1:t2:aa1:y1:re", "response without r.id");
  REFUSED("d1:t2:aa1:y1:ee", "error without e");
  REFUSED("d1:eli201ee1:t2:aa1:y1:ee", "error message is not a string");
  REFUSED("d1:eli201e1:x1:ye1:t2:aa1:y1:ee", "e is not a [code, message] list");
  REFUSED("d1:t2:aa1:y1:qee", "bytes after the message");
  REFUSED("d1:t9:aae", "string length runs past the end");
  REFUSED("d1:t02:aa1:y1:qe", "string length has a leading zero");
  REFUSED("d1:t17:aaaaaaaaaaaaaaaaa1:y1:qe", "transaction id longer than 16 bytes");
  REFUSED("d1:xi01ee", "integer has a leading zero");
  REFUSED("d1:xi-0ee", "integer is -0");
  REFUSED("d1:xie", "integer without digits");
  REFUSED("d1:xi9223372036854775808ee", "integer out of the 64-bit range");
  REFUSED("d1:xi1", "integer not terminated by 'e'");
  REFUSED("di1ei2ee", "dictionary key is not a string");
  REFUSED("d1:x", "dictionary key without a value");
  REFUSED("d1:xxe", "not a bencode value");
  REFUSED("d1:xlllllllleeeeeeeee", "nested too deeply");
  REFUSED("d1:t1:a1:t1:b1:y1:qe", "duplicate key");
  REFUSED("d1:ad2:id20:" ID_A "e1:rd2:id20:" ID_A "e1:t1:a1:y1:re", "more than one of a and r");
  REFUSED("d1:rd2:id20:" ID_A "5:nodes25:aaaaaaaaaaaaaaaaaaaaaaaaae1:t1:a1:y1:re", "nodes is not a multiple of 26 bytes");
  REFUSED("d1:rd2:id20:" ID_A "6:valuesl5:aaaaaee1:t1:a1:y1:re", "a value is not a 6- or 18-byte compact peer");
  REFUSED("d1:rd2:id20:" ID_A "6:values3:abce1:t1:a1:y1:re", "values is not a list");
}

/* Counts over the caps: each refused with its own reason, before it is stored. */
Test(krpc, caps) {
  static char big[3 * DHT_KRPC_LEN_MAX];
  size_t n;
  memset(big, 'x', sizeof big);
  big[0] = 'd';
  refused(big, DHT_KRPC_LEN_MAX + 1, "message longer than 4096 bytes");
  /* 65 compact nodes. */
  n = (size_t)snprintf(big, sizeof big, "d1:rd2:id20:" ID_A "5:nodes%d:", 65 * 26);
  memset(big + n, 'n', 65 * 26);
  n += 65 * 26;
  n += (size_t)snprintf(big + n, sizeof big - n, "e1:t1:a1:y1:re");
  refused(big, n, "too many nodes");
  /* 129 values. */
  n = (size_t)snprintf(big, sizeof big, "d1:rd2:id20:" ID_A "6:valuesl");
  for (int i = 0; i < 129; i++)
    n += (size_t)snprintf(big + n, sizeof big - n, "6:pppppp");
  n += (size_t)snprintf(big + n, sizeof big - n, "ee1:t1:a1:y1:re");
  refused(big, n, "too many values (peers)");
  /* 1100 tiny integers under an unknown key. */
  n = (size_t)snprintf(big, sizeof big, "d1:xl");
  for (int i = 0; i < 1100; i++)
    n += (size_t)snprintf(big + n, sizeof big - n, "i1e");
  n += (size_t)snprintf(big + n, sizeof big - n, "ee");
  refused(big, n, "too many values in one message");
  /* A token of 65 bytes. */
  n = (size_t)snprintf(big, sizeof big, "d1:rd2:id20:" ID_A "5:token65:");
  memset(big + n, 't', 65);
  n += 65;
  n += (size_t)snprintf(big + n, sizeof big - n, "e1:t1:a1:y1:re");
  refused(big, n, "token longer than 64 bytes");
}

Test(krpc, encode_limits) {
  int len;
  cr_assert(eq(int, DEC("d1:ad2:id20:" ID_A "e1:q4:ping1:t2:aa1:y1:qe", NULL), 0));
  len = dht_krpc_encode(&m, buf, sizeof buf);
  cr_assert(gt(int, len, 0));
  /* Every shorter buffer is refused, never a short write. */
  for (int cap = 0; cap < len; cap++)
    cr_assert(eq(int, dht_krpc_encode(&m, buf, (size_t)cap), DHT_ERANGE), "cap %d", cap);
  memset(&m, 0, sizeof m);
  m.type = DHT_KRPC_RESPONSE;
  m.has_nodes = true;
  m.n_nodes = 1;
  dht_addr_set_v6(&m.nodes[0].addr, (const uint8_t[16]){1}, 1);
  cr_assert(eq(int, dht_krpc_encode(&m, buf, sizeof buf), DHT_EINVAL));
  m.n_nodes = DHT_KRPC_NODES_MAX + 1;
  cr_assert(eq(int, dht_krpc_encode(&m, buf, sizeof buf), DHT_EINVAL));
  memset(&m, 0, sizeof m);
  cr_assert(eq(int, dht_krpc_encode(&m, buf, sizeof buf), DHT_EINVAL)); /* no type */
}

/* The fuzzer's regression inputs: decoded without a crash, and what is
 * accepted re-encodes to a fixed point. */
Test(krpc, fuzz_regressions) {
  const char *dir = DHTSIM_SOURCE_DIR "/tests/fuzz-regressions/krpc";
  DIR *d = opendir(dir);
  struct dirent *e;
  size_t files = 0;
  cr_assert(d != NULL);
  while ((e = readdir(d)) != NULL) {
    char path[1024];
    static uint8_t data[3 * DHT_KRPC_LEN_MAX];
    FILE *f;
    size_t n;
    if (e->d_name[0] == '.')
      continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    f = fopen(path, "rb");
    cr_assert(f != NULL, "%s", path);
    n = fread(data, 1, sizeof data, f);
    fclose(f);
    if (dht_krpc_decode(&m, data, n, NULL) == 0) {
      int len = dht_krpc_encode(&m, buf, sizeof buf);
      cr_assert(gt(int, len, 0), "%s", path);
      cr_assert(eq(int, dht_krpc_decode(&m2, buf, (size_t)len, NULL), 0), "%s", path);
    }
    files++;
  }
  closedir(d);
  cr_assert(gt(sz, files, 0));
}
