/* krpc.c: bencode + KRPC (BEP 5) codec. The decoder walks the bytes once,
 * recursively (depth capped), filling the known keys straight into the
 * message and skipping the others: no tree, no allocation. */
#include "krpc.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

typedef struct parser {
  const uint8_t *p;
  size_t len, pos;
  unsigned depth;
  unsigned elems;
  const char *why;
} parser;

static const char WHY_STRING[] = "expected a string", WHY_INT[] = "expected an integer";

/* The innermost reason wins (it is the most precise), except the two generic
 * ones, which the caller that knows what the value was for replaces. */
static int fail(parser *ps, const char *why) {
  if (ps->why == NULL || ps->why == WHY_STRING || ps->why == WHY_INT)
    ps->why = why;
  return DHT_EINVAL;
}

/* Every value counts against the element cap: bounds the work on a message
 * of many tiny values as the length cap bounds its bytes. */
static int count(parser *ps) {
  if (++ps->elems > DHT_KRPC_ELEMENTS_MAX)
    return fail(ps, "too many values in one message");
  return 0;
}

static bool at_end(const parser *ps) { return ps->pos >= ps->len; }
static uint8_t peek(const parser *ps) { return ps->p[ps->pos]; }

/* "<len>:<bytes>", len without leading zeros. */
static int parse_str(parser *ps, const uint8_t **s, size_t *n) {
  size_t v = 0, digits = 0;
  if (count(ps) < 0)
    return DHT_EINVAL;
  while (!at_end(ps) && peek(ps) >= '0' && peek(ps) <= '9') {
    if (digits == 1 && v == 0)
      return fail(ps, "string length has a leading zero");
    v = v * 10 + (size_t)(peek(ps) - '0');
    if (v > DHT_KRPC_LEN_MAX)
      return fail(ps, "string length runs past the end");
    digits++;
    ps->pos++;
  }
  if (digits == 0)
    return fail(ps, WHY_STRING);
  if (at_end(ps) || peek(ps) != ':')
    return fail(ps, "string length not followed by ':'");
  ps->pos++;
  if (v > ps->len - ps->pos)
    return fail(ps, "string length runs past the end");
  *s = ps->p + ps->pos;
  *n = v;
  ps->pos += v;
  return 0;
}

/* "i<digits>e": no leading zeros, no "-0", within int64. */
static int parse_int(parser *ps, int64_t *out) {
  bool neg = false;
  uint64_t v = 0;
  size_t digits = 0;
  if (count(ps) < 0)
    return DHT_EINVAL;
  if (at_end(ps) || peek(ps) != 'i')
    return fail(ps, WHY_INT);
  ps->pos++;
  if (!at_end(ps) && peek(ps) == '-') {
    neg = true;
    ps->pos++;
  }
  while (!at_end(ps) && peek(ps) >= '0' && peek(ps) <= '9') {
    unsigned d = (unsigned)(peek(ps) - '0');
    if (digits == 1 && v == 0)
      return fail(ps, "integer has a leading zero");
    if (v > (UINT64_C(9223372036854775808) - d) / 10)
      return fail(ps, "integer out of the 64-bit range");
    v = v * 10 + d;
    digits++;
    ps->pos++;
  }
  if (digits == 0)
    return fail(ps, "integer without digits");
  if (at_end(ps) || peek(ps) != 'e')
    return fail(ps, "integer not terminated by 'e'");
  ps->pos++;
  if (neg && v == 0)
    return fail(ps, "integer is -0");
  if (!neg && v > (uint64_t)INT64_MAX)
    return fail(ps, "integer out of the 64-bit range");
  *out = neg ? (v == UINT64_C(9223372036854775808) ? INT64_MIN : -(int64_t)v) : (int64_t)v;
  return 0;
}

static int enter(parser *ps) {
  if (++ps->depth > DHT_KRPC_DEPTH_MAX)
    return fail(ps, "nested too deeply");
  if (count(ps) < 0)
    return DHT_EINVAL;
  ps->pos++; /* the 'l' or 'd' */
  return 0;
}

/* Any value, checked and thrown away (an unknown key's). */
static int skip_value(parser *ps) {
  const uint8_t *s;
  size_t n;
  int64_t iv;
  if (at_end(ps))
    return fail(ps, "message ends inside a value");
  switch (peek(ps)) {
  case 'i':
    return parse_int(ps, &iv);
  case 'l':
  case 'd': {
    bool dict = peek(ps) == 'd';
    if (enter(ps) < 0)
      return DHT_EINVAL;
    for (;;) {
      if (at_end(ps))
        return fail(ps, dict ? "dictionary not terminated" : "list not terminated");
      if (peek(ps) == 'e')
        break;
      if (dict && parse_str(ps, &s, &n) < 0)
        return fail(ps, "dictionary key is not a string");
      if (dict && at_end(ps))
        return fail(ps, "dictionary key without a value");
      if (skip_value(ps) < 0)
        return DHT_EINVAL;
    }
    ps->pos++;
    ps->depth--;
    return 0;
  }
  default:
    if (peek(ps) >= '0' && peek(ps) <= '9')
      return parse_str(ps, &s, &n);
    return fail(ps, "not a bencode value");
  }
}

static bool key_is(const uint8_t *k, size_t n, const char *name) {
  return n == strlen(name) && memcmp(k, name, n) == 0;
}

static int parse_id(parser *ps, dht_id *out, bool *has, const char *why_len) {
  const uint8_t *s;
  size_t n;
  if (*has)
    return fail(ps, "duplicate key");
  if (parse_str(ps, &s, &n) < 0)
    return DHT_EINVAL;
  if (n != DHT_ID_LEN)
    return fail(ps, why_len);
  memcpy(out->b, s, DHT_ID_LEN);
  *has = true;
  return 0;
}

static void compact_v4(dht_addr *a, const uint8_t *s) {
  uint32_t ip = (uint32_t)s[0] << 24 | (uint32_t)s[1] << 16 | (uint32_t)s[2] << 8 | s[3];
  dht_addr_set_v4(a, ip, (uint16_t)(s[4] << 8 | s[5]));
}

static int parse_values(parser *ps, dht_krpc_msg *m) {
  if (m->has_values)
    return fail(ps, "duplicate key");
  if (at_end(ps) || peek(ps) != 'l')
    return fail(ps, "values is not a list");
  if (enter(ps) < 0)
    return DHT_EINVAL;
  for (;;) {
    const uint8_t *s;
    size_t n;
    if (at_end(ps))
      return fail(ps, "list not terminated");
    if (peek(ps) == 'e')
      break;
    if (parse_str(ps, &s, &n) < 0)
      return fail(ps, "a value is not a string");
    if (m->n_values == DHT_KRPC_VALUES_MAX)
      return fail(ps, "too many values (peers)");
    if (n == 6) {
      compact_v4(&m->values[m->n_values], s);
    } else if (n == 18) {
      dht_addr_set_v6(&m->values[m->n_values], s, (uint16_t)(s[16] << 8 | s[17]));
    } else {
      return fail(ps, "a value is not a 6- or 18-byte compact peer");
    }
    m->n_values++;
  }
  ps->pos++;
  ps->depth--;
  m->has_values = true;
  return 0;
}

/* The "a" or "r" dictionary. */
static int parse_args(parser *ps, dht_krpc_msg *m) {
  if (enter(ps) < 0)
    return DHT_EINVAL;
  for (;;) {
    const uint8_t *k, *s;
    size_t kn, n;
    int64_t iv;
    int rc = 0;
    if (at_end(ps))
      return fail(ps, "dictionary not terminated");
    if (peek(ps) == 'e')
      break;
    if (parse_str(ps, &k, &kn) < 0)
      return fail(ps, "dictionary key is not a string");
    if (at_end(ps))
      return fail(ps, "dictionary key without a value");
    if (key_is(k, kn, "id")) {
      rc = parse_id(ps, &m->id, &m->has_id, "id is not 20 bytes");
    } else if (key_is(k, kn, "target")) {
      rc = parse_id(ps, &m->target, &m->has_target, "target is not 20 bytes");
    } else if (key_is(k, kn, "info_hash")) {
      rc = parse_id(ps, &m->info_hash, &m->has_info_hash, "info_hash is not 20 bytes");
    } else if (key_is(k, kn, "port")) {
      if (m->has_port)
        return fail(ps, "duplicate key");
      if (parse_int(ps, &iv) < 0)
        return fail(ps, "port is not an integer");
      if (iv < 0 || iv > 65535)
        return fail(ps, "port out of 0..65535");
      m->port = (uint16_t)iv;
      m->has_port = true;
    } else if (key_is(k, kn, "implied_port")) {
      if (parse_int(ps, &iv) < 0)
        return fail(ps, "implied_port is not an integer");
      if (iv != 0 && iv != 1)
        return fail(ps, "implied_port is neither 0 nor 1");
      m->implied_port = iv == 1;
    } else if (key_is(k, kn, "token")) {
      if (m->has_token)
        return fail(ps, "duplicate key");
      if (parse_str(ps, &s, &n) < 0)
        return fail(ps, "token is not a string");
      if (n > DHT_TOKEN_MAX)
        return fail(ps, "token longer than 64 bytes");
      memcpy(m->token, s, n);
      m->token_len = n;
      m->has_token = true;
    } else if (key_is(k, kn, "nodes")) {
      if (m->has_nodes)
        return fail(ps, "duplicate key");
      if (parse_str(ps, &s, &n) < 0)
        return fail(ps, "nodes is not a string");
      if (n % DHT_KRPC_COMPACT_NODE != 0)
        return fail(ps, "nodes is not a multiple of 26 bytes");
      if (n / DHT_KRPC_COMPACT_NODE > DHT_KRPC_NODES_MAX)
        return fail(ps, "too many nodes");
      m->n_nodes = n / DHT_KRPC_COMPACT_NODE;
      for (size_t i = 0; i < m->n_nodes; i++) {
        memcpy(m->nodes[i].id.b, s + i * DHT_KRPC_COMPACT_NODE, DHT_ID_LEN);
        compact_v4(&m->nodes[i].addr, s + i * DHT_KRPC_COMPACT_NODE + DHT_ID_LEN);
      }
      m->has_nodes = true;
    } else if (key_is(k, kn, "values")) {
      rc = parse_values(ps, m);
    } else {
      rc = skip_value(ps);
    }
    if (rc < 0)
      return DHT_EINVAL;
  }
  ps->pos++;
  ps->depth--;
  return 0;
}

static int parse_error(parser *ps, dht_krpc_msg *m) {
  const uint8_t *s;
  size_t n;
  if (at_end(ps) || peek(ps) != 'l')
    return fail(ps, "e is not a list");
  if (enter(ps) < 0)
    return DHT_EINVAL;
  if (parse_int(ps, &m->error_code) < 0)
    return fail(ps, "error code is not an integer");
  if (parse_str(ps, &s, &n) < 0)
    return fail(ps, "error message is not a string");
  if (n > DHT_KRPC_ERRMSG_MAX)
    return fail(ps, "error message longer than 256 bytes");
  memcpy(m->error_msg, s, n);
  m->error_len = n;
  if (at_end(ps) || peek(ps) != 'e')
    return fail(ps, "e is not a [code, message] list");
  ps->pos++;
  ps->depth--;
  return 0;
}

static const struct {
  const char *name;
  dht_krpc_method m;
} methods[] = {
    {"ping", DHT_KRPC_PING},
    {"find_node", DHT_KRPC_FIND_NODE},
    {"get_peers", DHT_KRPC_GET_PEERS},
    {"announce_peer", DHT_KRPC_ANNOUNCE_PEER},
};

const char *dht_krpc_method_str(dht_krpc_method m) {
  for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
    if (methods[i].m == m)
      return methods[i].name;
  return "unknown";
}

/* What each type and method needs, once the whole message is read (the keys
 * may come in any order). */
static int check_complete(parser *ps, dht_krpc_msg *m, bool has_y, bool has_t, bool has_args, bool has_q,
                          bool has_e) {
  if (!has_y)
    return fail(ps, "no y (message type)");
  if (!has_t)
    return fail(ps, "no t (transaction id)");
  switch (m->type) {
  case DHT_KRPC_QUERY:
    if (!has_q)
      return fail(ps, "query without q (method)");
    if (!has_args || !m->has_id)
      return fail(ps, "query without a.id");
    if (m->method == DHT_KRPC_FIND_NODE && !m->has_target)
      return fail(ps, "find_node without target");
    if ((m->method == DHT_KRPC_GET_PEERS || m->method == DHT_KRPC_ANNOUNCE_PEER) && !m->has_info_hash)
      return fail(ps, "get_peers or announce_peer without info_hash");
    if (m->method == DHT_KRPC_ANNOUNCE_PEER && !m->has_token)
      return fail(ps, "announce_peer without token");
    if (m->method == DHT_KRPC_ANNOUNCE_PEER && !m->has_port && !m->implied_port)
      return fail(ps, "announce_peer without port");
    return 0;
  case DHT_KRPC_RESPONSE:
    if (!has_args || !m->has_id)
      return fail(ps, "response without r.id");
    return 0;
  case DHT_KRPC_ERROR:
    if (!has_e)
      return fail(ps, "error without e");
    return 0;
  default:
    return fail(ps, "y is not q, r or e");
  }
}

int dht_krpc_decode(dht_krpc_msg *m, const uint8_t *buf, size_t len, const char **why) {
  parser ps = {.p = buf, .len = len};
  bool has_y = false, has_t = false, has_args = false, has_q = false, has_e = false;
  int rc = DHT_EINVAL;

  memset(m, 0, sizeof *m);
  if (why != NULL)
    *why = NULL;
  if (len > DHT_KRPC_LEN_MAX) {
    fail(&ps, "message longer than 4096 bytes");
    goto out;
  }
  if (len == 0 || buf[0] != 'd') {
    fail(&ps, "message is not a dictionary");
    goto out;
  }
  if (enter(&ps) < 0)
    goto out;
  for (;;) {
    const uint8_t *k, *s;
    size_t kn, n;
    if (at_end(&ps)) {
      fail(&ps, "dictionary not terminated");
      goto out;
    }
    if (peek(&ps) == 'e')
      break;
    if (parse_str(&ps, &k, &kn) < 0) {
      fail(&ps, "dictionary key is not a string");
      goto out;
    }
    if (at_end(&ps)) {
      fail(&ps, "dictionary key without a value");
      goto out;
    }
    if (key_is(k, kn, "t")) {
      if (has_t || parse_str(&ps, &s, &n) < 0) {
        fail(&ps, has_t ? "duplicate key" : "t is not a string");
        goto out;
      }
      if (n > DHT_KRPC_TID_MAX) {
        fail(&ps, "transaction id longer than 16 bytes");
        goto out;
      }
      memcpy(m->tid, s, n);
      m->tid_len = n;
      has_t = true;
    } else if (key_is(k, kn, "y")) {
      if (has_y || parse_str(&ps, &s, &n) < 0) {
        fail(&ps, has_y ? "duplicate key" : "y is not a string");
        goto out;
      }
      if (n != 1 || (s[0] != 'q' && s[0] != 'r' && s[0] != 'e')) {
        fail(&ps, "y is not q, r or e");
        goto out;
      }
      m->type = s[0] == 'q' ? DHT_KRPC_QUERY : s[0] == 'r' ? DHT_KRPC_RESPONSE : DHT_KRPC_ERROR;
      has_y = true;
    } else if (key_is(k, kn, "q")) {
      if (has_q || parse_str(&ps, &s, &n) < 0) {
        fail(&ps, has_q ? "duplicate key" : "q is not a string");
        goto out;
      }
      m->method = DHT_KRPC_UNKNOWN;
      for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (key_is(s, n, methods[i].name))
          m->method = methods[i].m;
      m->method_len = n < DHT_KRPC_METHOD_MAX ? n : DHT_KRPC_METHOD_MAX;
      memcpy(m->method_name, s, m->method_len);
      has_q = true;
    } else if (key_is(k, kn, "a") || key_is(k, kn, "r")) {
      if (has_args) {
        fail(&ps, "more than one of a and r");
        goto out;
      }
      if (peek(&ps) != 'd') {
        fail(&ps, "a or r is not a dictionary");
        goto out;
      }
      if (parse_args(&ps, m) < 0)
        goto out;
      has_args = true;
    } else if (key_is(k, kn, "e")) {
      if (has_e) {
        fail(&ps, "duplicate key");
        goto out;
      }
      if (parse_error(&ps, m) < 0)
        goto out;
      has_e = true;
    } else if (skip_value(&ps) < 0) {
      goto out;
    }
  }
  ps.pos++;
  if (ps.pos != ps.len) {
    fail(&ps, "bytes after the message");
    goto out;
  }
  rc = check_complete(&ps, m, has_y, has_t, has_args, has_q, has_e);
out:
  if (rc < 0 && why != NULL)
    *why = ps.why != NULL ? ps.why : "malformed message";
  return rc;
}

/* ---- encoding ---- */

typedef struct writer {
  uint8_t *p;
  size_t cap, pos;
  bool overflow;
} writer;

static void put(writer *w, const void *s, size_t n) {
  if (w->overflow || n > w->cap - w->pos) {
    w->overflow = true;
    return;
  }
  memcpy(w->p + w->pos, s, n);
  w->pos += n;
}

static void put_c(writer *w, char c) { put(w, &c, 1); }

static void put_str(writer *w, const void *s, size_t n) {
  char len[24];
  int l = snprintf(len, sizeof len, "%zu:", n);
  put(w, len, (size_t)l);
  put(w, s, n);
}

static void put_cstr(writer *w, const char *s) { put_str(w, s, strlen(s)); }

static void put_int(writer *w, int64_t v) {
  char s[32];
  int l = snprintf(s, sizeof s, "i%" PRId64 "e", v);
  put(w, s, (size_t)l);
}

static void put_compact_v4(uint8_t *out, const dht_addr *a) {
  memcpy(out, a->ip, 4);
  out[4] = (uint8_t)(a->port >> 8);
  out[5] = (uint8_t)a->port;
}

static int put_args(writer *w, const dht_krpc_msg *m) {
  dht_krpc_method me = m->method;
  bool q = m->type == DHT_KRPC_QUERY;
  /* Keys in bencode (byte) order: id implied_port info_hash nodes port target token values. */
  put_c(w, 'd');
  put_cstr(w, "id");
  put_str(w, m->id.b, DHT_ID_LEN);
  if (q && me == DHT_KRPC_ANNOUNCE_PEER && m->implied_port) {
    put_cstr(w, "implied_port");
    put_int(w, 1);
  }
  if (q && (me == DHT_KRPC_GET_PEERS || me == DHT_KRPC_ANNOUNCE_PEER)) {
    put_cstr(w, "info_hash");
    put_str(w, m->info_hash.b, DHT_ID_LEN);
  }
  if (!q && m->has_nodes) {
    uint8_t buf[DHT_KRPC_NODES_MAX * DHT_KRPC_COMPACT_NODE];
    if (m->n_nodes > DHT_KRPC_NODES_MAX)
      return DHT_EINVAL;
    for (size_t i = 0; i < m->n_nodes; i++) {
      if (m->nodes[i].addr.family != DHT_AF_INET4)
        return DHT_EINVAL;
      memcpy(buf + i * DHT_KRPC_COMPACT_NODE, m->nodes[i].id.b, DHT_ID_LEN);
      put_compact_v4(buf + i * DHT_KRPC_COMPACT_NODE + DHT_ID_LEN, &m->nodes[i].addr);
    }
    put_cstr(w, "nodes");
    put_str(w, buf, m->n_nodes * DHT_KRPC_COMPACT_NODE);
  }
  if (q && me == DHT_KRPC_ANNOUNCE_PEER) {
    put_cstr(w, "port");
    put_int(w, m->port);
  }
  if (q && me == DHT_KRPC_FIND_NODE) {
    put_cstr(w, "target");
    put_str(w, m->target.b, DHT_ID_LEN);
  }
  if ((q && me == DHT_KRPC_ANNOUNCE_PEER) || (!q && m->has_token)) {
    if (m->token_len > DHT_TOKEN_MAX)
      return DHT_EINVAL;
    put_cstr(w, "token");
    put_str(w, m->token, m->token_len);
  }
  if (!q && m->has_values) {
    if (m->n_values > DHT_KRPC_VALUES_MAX)
      return DHT_EINVAL;
    put_cstr(w, "values");
    put_c(w, 'l');
    for (size_t i = 0; i < m->n_values; i++) {
      const dht_addr *a = &m->values[i];
      uint8_t b[18];
      if (a->family == DHT_AF_INET4) {
        put_compact_v4(b, a);
        put_str(w, b, 6);
      } else if (a->family == DHT_AF_INET6) {
        memcpy(b, a->ip, 16);
        b[16] = (uint8_t)(a->port >> 8);
        b[17] = (uint8_t)a->port;
        put_str(w, b, 18);
      } else {
        return DHT_EINVAL;
      }
    }
    put_c(w, 'e');
  }
  put_c(w, 'e');
  return 0;
}

int dht_krpc_encode(const dht_krpc_msg *m, uint8_t *out, size_t cap) {
  writer w = {.p = out, .cap = cap};
  int rc;
  if (m->tid_len > DHT_KRPC_TID_MAX || m->method_len > DHT_KRPC_METHOD_MAX || m->error_len > DHT_KRPC_ERRMSG_MAX)
    return DHT_EINVAL;
  put_c(&w, 'd');
  switch (m->type) {
  case DHT_KRPC_QUERY:
    put_cstr(&w, "a");
    if ((rc = put_args(&w, m)) < 0)
      return rc;
    put_cstr(&w, "q");
    if (m->method == DHT_KRPC_UNKNOWN)
      put_str(&w, m->method_name, m->method_len);
    else
      put_cstr(&w, dht_krpc_method_str(m->method));
    break;
  case DHT_KRPC_RESPONSE:
    put_cstr(&w, "r");
    if ((rc = put_args(&w, m)) < 0)
      return rc;
    break;
  case DHT_KRPC_ERROR:
    put_cstr(&w, "e");
    put_c(&w, 'l');
    put_int(&w, m->error_code);
    put_str(&w, m->error_msg, m->error_len);
    put_c(&w, 'e');
    break;
  default:
    return DHT_EINVAL;
  }
  put_cstr(&w, "t");
  put_str(&w, m->tid, m->tid_len);
  put_cstr(&w, "y");
  put_cstr(&w, m->type == DHT_KRPC_QUERY ? "q" : m->type == DHT_KRPC_RESPONSE ? "r" : "e");
  put_c(&w, 'e');
  if (w.overflow)
    return DHT_ERANGE;
  if (w.pos > (size_t)INT32_MAX)
    return DHT_ERANGE;
  return (int)w.pos;
}
