/* serve.c: `dhtsim serve`: see serve.h. One thread, one socket, poll(2). */
#define _GNU_SOURCE /* struct in_pktinfo, IP_PKTINFO */
#include "serve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "krpc.h"
#include "latency.h"
#include "network.h"
#include "rng.h"
#include "latency.h"
#include "scenario.h"
#include "sim.h"
#include "text.h"
#include "workload.h"

enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

/* Bounds on what clients can make the server keep. */
#define QUEUE_MAX 16384u        /* replies waiting for their delay */
#define STORE_KEYS_MAX 65536u   /* (node, infohash) pairs with announced peers */
#define STORE_PEERS_MAX 32u     /* peers kept per pair (the oldest replaced) */
#define TRACK_MAX 200000u       /* (source, target) pairs followed in lookups.csv */
#define LOG_BYTES_MAX (UINT64_C(1) << 30) /* queries.jsonl stops growing here */
#define RECV_BATCH 512          /* datagrams read per wake-up before due replies go out */

/* The seed streams of sim/sim.c, so that the served network has the
 * simulation's dead, slow and unreachable nodes and its pair latencies. */
enum { STREAM_FLAGS = 2, STREAM_WORKLOAD = 3, STREAM_MESSAGES = 4, STREAM_UNREACHABLE = 8, STREAM_LATENCY = 9 };

static const char serve_usage[] =
    "Usage: dhtsim serve SCENARIO [--port P] [--duration S] [--out DIR] [--planted N] [--seed N]\n";
static const char serve_help[] =
    "dhtsim serve SCENARIO: build the scenario's network and serve it in real time over UDP on\n"
    "loopback. Node i answers at 127.A.B.Z:PORT (one /24 per node up to 65,024 nodes, several beyond),\n"
    "by the simulation's rules: the K closest of its table, values where peers are planted or announced,\n"
    "tokens, the scenario's latency as real delay, its losses and dead nodes. Only loopback traffic is\n"
    "ever read or sent.\n"
    "\n"
    "Options:\n"
    "  --port P       UDP port of every node (default 6881; 0: any free port, printed on stdout)\n"
    "  --duration S   stop after S seconds (default: run until SIGINT or SIGTERM)\n"
    "  --out DIR      write queries.jsonl, lookups.csv, planted.txt, bootstrap.txt and serve.json into DIR\n"
    "  --planted N    infohashes with planted peers when the scenario has no lookups_file (default 16;\n"
    "                 needs workload.planted_peers > 0)\n"
    "  --seed N       use seed N instead of the scenario's\n"
    "\n"
    "stdout: one line \"serving N nodes on port P\" once ready. Exit status: 0 stopped by the\n"
    "duration or a signal, 1 runtime failure, 2 bad usage or bad scenario.\n";

static volatile sig_atomic_t serve_stop;
static void on_stop(int sig) { serve_stop = sig; }

uint32_t sim_serve_node_ip(uint32_t n, uint32_t i) {
  uint32_t per = (n + SIM_SERVE_PREFIXES - 1) / SIM_SERVE_PREFIXES, s = i / per;
  return 0x7f000000u | (1u + s / 256u) << 16 | (s % 256u) << 8 | (1u + i % per);
}

int sim_serve_ip_node(uint32_t n, uint32_t ip, uint32_t *node) {
  uint32_t per = (n + SIM_SERVE_PREFIXES - 1) / SIM_SERVE_PREFIXES;
  uint32_t a = ip >> 16 & 255u, b = ip >> 8 & 255u, z = ip & 255u, i;
  if (ip >> 24 != 127u || a < 1 || a > 254 || z < 1 || z > per)
    return -1;
  i = ((a - 1) * 256u + b) * per + (z - 1);
  if (i >= n)
    return -1;
  *node = i;
  return 0;
}

static bool is_loopback(uint32_t ip) { return ip >> 24 == 127u; }

/* ---- the reply queue: a binary min-heap on the due time ---- */

typedef struct reply {
  uint64_t due_us;
  uint32_t from_ip, to_ip; /* host order */
  uint16_t to_port;
  uint16_t len;
  uint8_t *data; /* owned */
} reply;

typedef struct heap {
  reply *a;
  size_t n, cap;
} heap;

static void heap_push(heap *h, reply r) {
  size_t i = h->n++;
  h->a[i] = r;
  while (i > 0 && h->a[(i - 1) / 2].due_us > h->a[i].due_us) {
    reply t = h->a[i];
    h->a[i] = h->a[(i - 1) / 2];
    h->a[(i - 1) / 2] = t;
    i = (i - 1) / 2;
  }
}

static reply heap_pop(heap *h) {
  reply top = h->a[0];
  size_t i = 0;
  h->a[0] = h->a[--h->n];
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < h->n && h->a[l].due_us < h->a[m].due_us)
      m = l;
    if (r < h->n && h->a[r].due_us < h->a[m].due_us)
      m = r;
    if (m == i)
      break;
    reply t = h->a[i];
    h->a[i] = h->a[m];
    h->a[m] = t;
    i = m;
  }
  return top;
}

/* ---- state ---- */

typedef struct store_key {
  dht_id ih;
  uint32_t node;
} store_key;

typedef struct store_val {
  dht_addr peers[STORE_PEERS_MAX];
  uint32_t n, next;
} store_val;

typedef struct track_key {
  dht_addr src;
  dht_id target;
} track_key;

typedef struct track {
  uint64_t queries, answered;
  double first_s, last_s;
  uint64_t hit_mask;          /* bit j: truth[j] answered this source for this target */
  uint32_t truth[DHT_KRPC_NODES_MAX];
  uint32_t n_truth;
  uint64_t order;             /* first-seen order, for the output */
  const track_key *key;       /* transfer none: the table's key of this entry */
} track;

typedef struct counters {
  uint64_t received, not_loopback, no_node, malformed, not_query, dead, request_lost, response_lost, queue_full,
      answered, errors_sent, announced, store_full, send_failed, log_truncated, untracked;
} counters;

typedef struct server {
  const sim_scenario *sc;
  sim_network net;
  dht_lookup_config cfg;
  uint64_t seed, secret;
  dht_rng msg_rng;
  sim_latency lat; /* the scenario's delay model; the client is placed as node net.n */
  int fd;
  uint16_t port;
  heap q;
  dht_id *planted;        /* [n_planted] */
  uint32_t n_planted;
  uint32_t *holders;      /* [n_planted * plant_at] */
  uint32_t plant_at;
  GHashTable *planted_ix; /* dht_id* -> index + 1 */
  dht_addr *peers;        /* [planted_peers] */
  GHashTable *store;      /* store_key* -> store_val* */
  GHashTable *tracks;     /* track_key* -> track* */
  uint64_t n_tracks;
  FILE *log;
  uint64_t log_bytes;
  counters c;
  uint32_t *idx;          /* [k + 1] */
} server;

static uint64_t mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static double wall_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static guint id_hash(gconstpointer p) {
  guint h;
  memcpy(&h, p, sizeof h); /* IDs are uniform: any 4 bytes hash well */
  return h;
}
static gboolean id_equal(gconstpointer a, gconstpointer b) { return memcmp(a, b, DHT_ID_LEN) == 0; }
static guint store_hash(gconstpointer p) {
  const store_key *k = p;
  return id_hash(&k->ih) ^ k->node;
}
static gboolean store_equal(gconstpointer a, gconstpointer b) { return memcmp(a, b, sizeof(store_key)) == 0; }
static guint track_hash(gconstpointer p) {
  const track_key *k = p;
  return id_hash(&k->target) ^ (guint)dht_addr_hash(&k->src);
}
static gboolean track_equal(gconstpointer a, gconstpointer b) { return memcmp(a, b, sizeof(track_key)) == 0; }

/* ---- the scenario's latency, as sim/sim.c draws it ---- */

/* One-way delay (µs) of a message from node `from` to node `to`, one of them
 * the client (node net.n for the pair models; never slow). */
static uint64_t one_way_us(server *s, uint32_t from, uint32_t to) {
  uint32_t node = from < s->net.n ? from : to;
  double us = sim_latency_draw_us(&s->lat, &s->msg_rng, from, to, (s->net.flags[node] & SIM_NODE_SLOW) != 0);
  if (!(us > 0.0))
    return 0;
  return us > 3.6e9 ? UINT64_C(3600000000) : (uint64_t)llround(us); /* an hour: no reply waits longer */
}

static bool lost(server *s, double p) { return p > 0.0 && dht_rng_chance(&s->msg_rng, p); }

/* ---- answers ---- */

static void token_for(const server *s, uint32_t node, uint32_t ip, uint8_t out[8]) {
  uint64_t st = s->secret ^ ((uint64_t)node << 32 | ip);
  uint64_t t = dht_splitmix64(&st);
  for (int i = 0; i < 8; i++)
    out[i] = (uint8_t)(t >> (8 * i));
}

static void node_contact(const server *s, uint32_t i, dht_node *out) {
  out->id = s->net.ids[i];
  dht_addr_set_v4(&out->addr, sim_serve_node_ip(s->net.n, i), s->port);
}

/* The K closest of node's table to target, minus the querier (by ID or address). */
static void closest_nodes(server *s, uint32_t node, const dht_id *target, const dht_krpc_msg *q,
                          const dht_addr *src, dht_krpc_msg *r) {
  size_t n = sim_network_closest(&s->net, node, target, s->idx, s->cfg.k + 1u);
  r->has_nodes = true;
  r->n_nodes = 0;
  for (size_t i = 0; i < n && r->n_nodes < s->cfg.k; i++) {
    dht_node c;
    node_contact(s, s->idx[i], &c);
    if (dht_id_eq(&c.id, &q->id) || dht_addr_eq(&c.addr, src))
      continue;
    r->nodes[r->n_nodes++] = c;
  }
}

static bool planted_values(server *s, uint32_t node, const dht_id *ih, dht_krpc_msg *r) {
  gpointer v = s->planted_ix != NULL ? g_hash_table_lookup(s->planted_ix, ih) : NULL;
  if (v != NULL) {
    uint32_t j = (uint32_t)GPOINTER_TO_UINT(v) - 1;
    for (uint32_t h = 0; h < s->plant_at; h++)
      if (s->holders[(size_t)j * s->plant_at + h] == node) {
        for (uint32_t p = 0; p < s->sc->workload.planted_peers; p++)
          r->values[r->n_values++] = s->peers[p];
        break;
      }
  }
  store_key key = {.ih = *ih, .node = node};
  store_val *sv = g_hash_table_lookup(s->store, &key);
  if (sv != NULL)
    for (uint32_t p = 0; p < sv->n && r->n_values < DHT_KRPC_VALUES_MAX; p++)
      r->values[r->n_values++] = sv->peers[p];
  r->has_values = r->n_values > 0;
  return r->has_values;
}

static int store_peer(server *s, uint32_t node, const dht_id *ih, const dht_addr *peer) {
  store_key key = {.ih = *ih, .node = node};
  store_val *sv = g_hash_table_lookup(s->store, &key);
  if (sv == NULL) {
    store_key *k;
    if (g_hash_table_size(s->store) >= STORE_KEYS_MAX) {
      s->c.store_full++;
      return DHT_ERANGE;
    }
    k = g_try_new(store_key, 1);
    sv = g_try_new0(store_val, 1);
    if (k == NULL || sv == NULL) {
      g_free(k);
      g_free(sv);
      return DHT_ENOMEM;
    }
    *k = key;
    g_hash_table_insert(s->store, k, sv);
  }
  for (uint32_t p = 0; p < sv->n; p++)
    if (dht_addr_eq(&sv->peers[p], peer))
      return 0;
  if (sv->n < STORE_PEERS_MAX) {
    sv->peers[sv->n++] = *peer;
  } else {
    sv->peers[sv->next] = *peer;
    sv->next = (sv->next + 1) % STORE_PEERS_MAX;
  }
  s->c.announced++;
  return 0;
}

static void error_reply(dht_krpc_msg *r, const dht_krpc_msg *q, int64_t code, const char *msg) {
  memset(r, 0, sizeof *r);
  r->type = DHT_KRPC_ERROR;
  memcpy(r->tid, q->tid, q->tid_len);
  r->tid_len = q->tid_len;
  r->error_code = code;
  r->error_len = strlen(msg);
  memcpy(r->error_msg, msg, r->error_len);
}

/* Builds node's answer to q into r. */
static void answer(server *s, uint32_t node, const dht_krpc_msg *q, const dht_addr *src, dht_krpc_msg *r) {
  uint32_t src_ip = (uint32_t)src->ip[0] << 24 | (uint32_t)src->ip[1] << 16 | (uint32_t)src->ip[2] << 8 | src->ip[3];
  uint8_t tok[8];
  memset(r, 0, sizeof *r);
  r->type = DHT_KRPC_RESPONSE;
  memcpy(r->tid, q->tid, q->tid_len);
  r->tid_len = q->tid_len;
  r->has_id = true;
  r->id = s->net.ids[node];
  switch (q->method) {
  case DHT_KRPC_PING:
    break;
  case DHT_KRPC_FIND_NODE:
    closest_nodes(s, node, &q->target, q, src, r);
    break;
  case DHT_KRPC_GET_PEERS:
    token_for(s, node, src_ip, tok);
    r->has_token = true;
    memcpy(r->token, tok, sizeof tok);
    r->token_len = sizeof tok;
    /* The simulation's rule (sim/sim.c deliver): a holder answers with its
     * peers and no nodes. */
    if (!planted_values(s, node, &q->info_hash, r))
      closest_nodes(s, node, &q->info_hash, q, src, r);
    break;
  case DHT_KRPC_ANNOUNCE_PEER: {
    dht_addr peer;
    token_for(s, node, src_ip, tok);
    if (q->token_len != sizeof tok || memcmp(q->token, tok, sizeof tok) != 0) {
      error_reply(r, q, DHT_KRPC_E_PROTOCOL, "bad token");
      return;
    }
    dht_addr_set_v4(&peer, src_ip, q->implied_port ? src->port : q->port);
    if (store_peer(s, node, &q->info_hash, &peer) < 0) {
      error_reply(r, q, DHT_KRPC_E_SERVER, "peer store full");
      return;
    }
    break;
  }
  case DHT_KRPC_UNKNOWN:
  default:
    error_reply(r, q, DHT_KRPC_E_METHOD, "Method Unknown");
    break;
  }
}

/* ---- per-lookup statistics: what each client did for each target ---- */

static void track_query(server *s, const dht_addr *src, const dht_id *target, uint32_t node, bool answered) {
  track_key key = {.src = *src, .target = *target};
  track *t = g_hash_table_lookup(s->tracks, &key);
  double now = wall_s();
  if (t == NULL) {
    track_key *k;
    if (g_hash_table_size(s->tracks) >= TRACK_MAX) {
      s->c.untracked++;
      return;
    }
    k = g_try_new(track_key, 1);
    t = g_try_new0(track, 1);
    if (k == NULL || t == NULL) {
      g_free(k);
      g_free(t);
      s->c.untracked++;
      return;
    }
    *k = key;
    t->first_s = now;
    t->order = s->n_tracks++;
    t->key = k;
    t->n_truth = (uint32_t)sim_network_true_closest(&s->net, target, SIM_NODE_DEAD | SIM_NODE_UNREACHABLE, t->truth, s->cfg.k);
    g_hash_table_insert(s->tracks, k, t);
  }
  t->queries++;
  t->last_s = now;
  if (!answered)
    return;
  t->answered++;
  for (uint32_t j = 0; j < t->n_truth; j++)
    if (t->truth[j] == node)
      t->hit_mask |= UINT64_C(1) << j;
}

static void log_query(server *s, const dht_addr *src, uint32_t node, const dht_krpc_msg *q, const char *fate) {
  char a[DHT_ADDR_STRLEN], hex[DHT_ID_HEXLEN + 1] = "";
  int n;
  if (s->log == NULL)
    return;
  if (s->log_bytes >= LOG_BYTES_MAX) {
    s->c.log_truncated++;
    return;
  }
  dht_addr_format(src, a, sizeof a);
  if (q->method == DHT_KRPC_FIND_NODE)
    dht_id_to_hex(&q->target, hex);
  else if (q->has_info_hash)
    dht_id_to_hex(&q->info_hash, hex);
  n = fprintf(s->log, "{\"t\":%.6f,\"src\":\"%s\",\"node\":%" PRIu32 ",\"method\":\"%s\",\"target\":\"%s\",\"fate\":\"%s\"}\n",
              wall_s(), a, node, dht_krpc_method_str(q->method), hex, fate);
  if (n > 0)
    s->log_bytes += (uint64_t)n;
}

/* ---- the datagram path ---- */

static void enqueue(server *s, uint32_t node, const dht_addr *src, const uint8_t *data, size_t len, uint64_t due) {
  reply r = {.due_us = due, .from_ip = sim_serve_node_ip(s->net.n, node), .to_port = src->port, .len = (uint16_t)len};
  r.to_ip = (uint32_t)src->ip[0] << 24 | (uint32_t)src->ip[1] << 16 | (uint32_t)src->ip[2] << 8 | src->ip[3];
  r.data = g_try_malloc(len);
  if (r.data == NULL) {
    s->c.queue_full++; /* no memory for it now: as if the queue were full */
    return;
  }
  memcpy(r.data, data, len);
  heap_push(&s->q, r);
}

/* A well-formed query that gets no answer: counted, logged with its fate, and
 * tracked as a query of its lookup that reached nobody. */
static void unanswered(server *s, uint64_t *counter, const dht_addr *src, uint32_t node, const dht_krpc_msg *q,
                       const dht_id *target, const char *fate) {
  (*counter)++;
  log_query(s, src, node, q, fate);
  if (target != NULL)
    track_query(s, src, target, node, false);
}

static void handle_datagram(server *s, const uint8_t *buf, size_t len, uint32_t src_ip, uint16_t src_port,
                            uint32_t dst_ip) {
  static dht_krpc_msg q, r;
  uint8_t out[DHT_KRPC_LEN_MAX];
  dht_addr src;
  uint32_t node;
  const char *why;
  int n;
  uint64_t delay;

  s->c.received++;
  /* The guard: nothing that comes from or was sent to outside loopback is read. */
  if (!is_loopback(src_ip) || !is_loopback(dst_ip)) {
    s->c.not_loopback++;
    return;
  }
  if (sim_serve_ip_node(s->net.n, dst_ip, &node) < 0) {
    s->c.no_node++;
    return;
  }
  if (dht_krpc_decode(&q, buf, len, &why) < 0) {
    s->c.malformed++;
    return;
  }
  if (q.type != DHT_KRPC_QUERY) {
    s->c.not_query++;
    return;
  }
  dht_addr_set_v4(&src, src_ip, src_port);
  const dht_id *target = q.method == DHT_KRPC_FIND_NODE ? &q.target : q.has_info_hash ? &q.info_hash : NULL;
  if (s->net.flags[node] & SIM_NODE_DEAD) {
    unanswered(s, &s->c.dead, &src, node, &q, target, "dead");
    return;
  }
  if (s->net.flags[node] & SIM_NODE_UNREACHABLE) { /* counted with the dead: neither answers */
    unanswered(s, &s->c.dead, &src, node, &q, target, "unreachable");
    return;
  }
  if (s->q.n >= s->q.cap) {
    unanswered(s, &s->c.queue_full, &src, node, &q, target, "queue_full");
    return;
  }
  if (lost(s, s->sc->loss.request_drop)) {
    unanswered(s, &s->c.request_lost, &src, node, &q, target, "request_lost");
    return;
  }
  delay = one_way_us(s, s->net.n, node);
  answer(s, node, &q, &src, &r);
  if (lost(s, s->sc->loss.response_drop)) {
    unanswered(s, &s->c.response_lost, &src, node, &q, target, "response_lost");
    return;
  }
  delay += one_way_us(s, node, s->net.n);
  n = dht_krpc_encode(&r, out, sizeof out);
  if (n < 0) { /* cannot happen within the caps checked at start: count it, answer nothing */
    s->c.send_failed++;
    return;
  }
  if (r.type == DHT_KRPC_ERROR)
    s->c.errors_sent++;
  else
    s->c.answered++;
  log_query(s, &src, node, &q, r.type == DHT_KRPC_ERROR ? "error" : "answered");
  if (target != NULL)
    track_query(s, &src, target, node, r.type != DHT_KRPC_ERROR);
  enqueue(s, node, &src, out, (size_t)n, mono_us() + delay);
}

static void send_reply(server *s, const reply *r) {
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(r->to_port), .sin_addr.s_addr = htonl(r->to_ip)};
  struct iovec iov = {.iov_base = r->data, .iov_len = r->len};
  union {
    char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
    struct cmsghdr align;
  } cm;
  struct msghdr mh = {.msg_name = &to, .msg_namelen = sizeof to, .msg_iov = &iov, .msg_iovlen = 1,
                      .msg_control = cm.buf, .msg_controllen = sizeof cm.buf};
  struct cmsghdr *c;
  struct in_pktinfo *pi;
  if (!is_loopback(r->to_ip) || !is_loopback(r->from_ip)) { /* never reached: the guard is on input */
    s->c.not_loopback++;
    return;
  }
  memset(&cm, 0, sizeof cm);
  c = CMSG_FIRSTHDR(&mh);
  c->cmsg_level = IPPROTO_IP;
  c->cmsg_type = IP_PKTINFO;
  c->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
  pi = (struct in_pktinfo *)(void *)CMSG_DATA(c);
  /* The reply must come from the node's own address: clients ignore answers from elsewhere. */
  pi->ipi_spec_dst.s_addr = htonl(r->from_ip);
  if (sendmsg(s->fd, &mh, MSG_DONTWAIT) < 0)
    s->c.send_failed++;
}

/* Reads what is waiting (at most RECV_BATCH datagrams). */
static void receive(server *s) {
  static uint8_t buf[DHT_KRPC_LEN_MAX + 1];
  for (int i = 0; i < RECV_BATCH; i++) {
    struct sockaddr_in from;
    union {
      char buf[CMSG_SPACE(sizeof(struct in_pktinfo)) + 64];
      struct cmsghdr align;
    } cm;
    struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf};
    struct msghdr mh = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1,
                        .msg_control = cm.buf, .msg_controllen = sizeof cm.buf};
    uint32_t dst = 0;
    ssize_t n = recvmsg(s->fd, &mh, MSG_DONTWAIT);
    if (n < 0)
      return; /* EAGAIN, or an error the next poll reports again */
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c))
      if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
        struct in_pktinfo pi;
        memcpy(&pi, CMSG_DATA(c), sizeof pi);
        dst = ntohl(pi.ipi_addr.s_addr);
      }
    if (mh.msg_flags & MSG_TRUNC) { /* longer than any KRPC message: malformed */
      s->c.received++;
      s->c.malformed++;
      continue;
    }
    handle_datagram(s, buf, (size_t)n, ntohl(from.sin_addr.s_addr), ntohs(from.sin_port), dst);
  }
}

/* ---- setup and outputs ---- */

static int open_socket(server *s, uint16_t port, char *err, size_t errlen) {
  int one = 1, rcv = 4 << 20;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_ANY)};
  socklen_t alen = sizeof a;
  s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s->fd < 0) {
    snprintf(err, errlen, "socket: %s", strerror(errno));
    return DHT_EIO;
  }
  setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv); /* best effort: a burst is not lost to a small buffer */
  if (setsockopt(s->fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) < 0 || bind(s->fd, (struct sockaddr *)&a, sizeof a) < 0 ||
      getsockname(s->fd, (struct sockaddr *)&a, &alen) < 0) {
    snprintf(err, errlen, "cannot listen on UDP port %u: %s", port, strerror(errno));
    return DHT_EIO;
  }
  s->port = ntohs(a.sin_port);
  return 0;
}

static void assign_flags(server *s) {
  dht_rng rng;
  memset(s->net.flags, 0, s->net.n);
  if (!(s->sc->loss.dead_fraction > 0.0) && !(s->sc->latency.slow_fraction > 0.0))
    return;
  /* sim/sim.c's draw order (dead, then slow), from the same stream. */
  dht_rng_init(&rng, dht_seed_derive(s->seed, STREAM_FLAGS));
  for (uint32_t i = 0; i < s->net.n; i++) {
    uint8_t f = 0;
    if (dht_rng_chance(&rng, s->sc->loss.dead_fraction))
      f |= SIM_NODE_DEAD;
    if (dht_rng_chance(&rng, s->sc->latency.slow_fraction))
      f |= SIM_NODE_SLOW;
    s->net.flags[i] = f;
  }
}

/* sim/sim.c's unreachable nodes: their own stream, a draw for every node. */
static void assign_unreachable(server *s) {
  dht_rng rng;
  if (!(s->sc->loss.unreachable_fraction > 0.0))
    return;
  dht_rng_init(&rng, dht_seed_derive(s->seed, STREAM_UNREACHABLE));
  for (uint32_t i = 0; i < s->net.n; i++)
    if (dht_rng_chance(&rng, s->sc->loss.unreachable_fraction) && !(s->net.flags[i] & SIM_NODE_DEAD))
      s->net.flags[i] |= SIM_NODE_UNREACHABLE;
}

static int plant(server *s, uint64_t n_planted, char *err, size_t errlen) {
  const sim_scenario *sc = s->sc;
  sim_lookup_spec *specs = NULL;
  size_t n_specs = 0;
  if (sc->workload.planted_peers == 0)
    return 0;
  if (sc->workload.lookups_file != NULL) {
    int rc = sim_lookups_load(sc->workload.lookups_file, s->net.n, &specs, &n_specs, err, errlen);
    if (rc < 0)
      return rc;
    n_planted = n_specs;
  }
  s->plant_at = sc->workload.plant_at > 0 ? sc->workload.plant_at : sc->lookup.k;
  s->planted = g_try_new(dht_id, n_planted + 1);
  s->holders = g_try_new(uint32_t, n_planted * s->plant_at + 1);
  s->peers = g_try_new(dht_addr, sc->workload.planted_peers);
  s->planted_ix = g_hash_table_new(id_hash, id_equal);
  if (s->planted == NULL || s->holders == NULL || s->peers == NULL) {
    g_free(specs);
    snprintf(err, errlen, "out of memory planting peers");
    return DHT_ENOMEM;
  }
  for (uint32_t i = 0; i < sc->workload.planted_peers; i++)
    dht_addr_set_v4(&s->peers[i], 0xc0a80000u | i, (uint16_t)(51413 + i)); /* sim/sim.c's planted peers */
  dht_rng wr;
  dht_rng_init(&wr, dht_seed_derive(s->seed, STREAM_WORKLOAD));
  for (uint64_t j = 0; j < n_planted; j++) {
    if (specs != NULL)
      s->planted[s->n_planted] = specs[j].target;
    else
      dht_id_random(&s->planted[s->n_planted], &wr);
    if (g_hash_table_contains(s->planted_ix, &s->planted[s->n_planted]))
      continue;
    size_t got = sim_network_true_closest(&s->net, &s->planted[s->n_planted], 0,
                                          s->holders + (size_t)s->n_planted * s->plant_at, s->plant_at);
    for (size_t h = got; h < s->plant_at; h++)
      s->holders[(size_t)s->n_planted * s->plant_at + h] = UINT32_MAX;
    g_hash_table_insert(s->planted_ix, &s->planted[s->n_planted], GUINT_TO_POINTER(s->n_planted + 1));
    s->n_planted++;
  }
  g_free(specs);
  return 0;
}

static FILE *out_file(const char *dir, const char *name, char *err, size_t errlen) {
  char *path = g_build_filename(dir, name, NULL);
  FILE *f = fopen(path, "w");
  if (f == NULL)
    snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
  g_free(path);
  return f;
}

static int write_setup(server *s, const char *dir, char *err, size_t errlen) {
  FILE *f = out_file(dir, "planted.txt", err, errlen);
  char hex[DHT_ID_HEXLEN + 1], a[DHT_ADDR_STRLEN];
  uint32_t written = 0;
  if (f == NULL)
    return DHT_EIO;
  for (uint32_t j = 0; j < s->n_planted; j++) {
    dht_id_to_hex(&s->planted[j], hex);
    fprintf(f, "%s\n", hex);
  }
  if (fclose(f) != 0)
    return DHT_EIO;
  if ((f = out_file(dir, "bootstrap.txt", err, errlen)) == NULL)
    return DHT_EIO;
  /* A few live nodes spread over the network, for clients to start from. */
  for (uint32_t i = 0; i < s->net.n && written < 16; i += 1 + s->net.n / 64) {
    dht_node c;
    if (s->net.flags[i] & SIM_NODE_DEAD)
      continue;
    node_contact(s, i, &c);
    dht_id_to_hex(&c.id, hex);
    dht_addr_format(&c.addr, a, sizeof a);
    fprintf(f, "%s@%s %" PRIu32 "\n", hex, a, i);
    written++;
  }
  return fclose(f) == 0 ? 0 : DHT_EIO;
}

static gint track_order(gconstpointer a, gconstpointer b) {
  const track *x = *(track *const *)a, *y = *(track *const *)b;
  return x->order < y->order ? -1 : x->order > y->order;
}

static int write_results(server *s, const char *dir, char *err, size_t errlen) {
  FILE *f = out_file(dir, "lookups.csv", err, errlen);
  GHashTableIter it;
  gpointer k, v;
  GPtrArray *rows;
  if (f == NULL)
    return DHT_EIO;
  fprintf(f, "source,target,queries,answered,closest_hits,closest_truth,closest_nodes,first_s,last_s,duration_s\n");
  /* Rows in the order of each pair's first query. */
  rows = g_ptr_array_sized_new(g_hash_table_size(s->tracks));
  g_hash_table_iter_init(&it, s->tracks);
  while (g_hash_table_iter_next(&it, &k, &v))
    g_ptr_array_add(rows, v);
  g_ptr_array_sort(rows, track_order);
  for (guint i = 0; i < rows->len; i++) {
    const track *t = rows->pdata[i];
    const track_key *tk = t->key;
    char a[DHT_ADDR_STRLEN], hex[DHT_ID_HEXLEN + 1];
    unsigned hits = 0;
    dht_addr_format(&tk->src, a, sizeof a);
    dht_id_to_hex(&tk->target, hex);
    for (uint32_t j = 0; j < t->n_truth; j++)
      hits += (unsigned)((t->hit_mask >> j) & 1u);
    fprintf(f, "%s,%s,%" PRIu64 ",%" PRIu64 ",%u,%" PRIu32 ",", a, hex, t->queries, t->answered, hits, t->n_truth);
    for (uint32_t j = 0, first = 1; j < t->n_truth; j++)
      if ((t->hit_mask >> j) & 1u) {
        fprintf(f, "%s%" PRIu32, first ? "" : ";", t->truth[j]);
        first = 0;
      }
    fprintf(f, ",%.6f,%.6f,%.6f\n", t->first_s, t->last_s, t->last_s - t->first_s);
  }
  g_ptr_array_free(rows, TRUE);
  if (fclose(f) != 0)
    return DHT_EIO;
  if ((f = out_file(dir, "serve.json", err, errlen)) == NULL)
    return DHT_EIO;
  const counters *c = &s->c;
  fprintf(f,
          "{\"nodes\":%" PRIu32 ",\"port\":%u,\"received\":%" PRIu64 ",\"not_loopback\":%" PRIu64 ",\"no_node\":%" PRIu64
          ",\"malformed\":%" PRIu64 ",\"not_query\":%" PRIu64 ",\"dead\":%" PRIu64 ",\"request_lost\":%" PRIu64
          ",\"response_lost\":%" PRIu64 ",\"queue_full\":%" PRIu64 ",\"answered\":%" PRIu64 ",\"errors_sent\":%" PRIu64
          ",\"announced\":%" PRIu64 ",\"store_full\":%" PRIu64 ",\"send_failed\":%" PRIu64 ",\"log_truncated\":%" PRIu64
          ",\"untracked\":%" PRIu64 "}\n",
          s->net.n, s->port, c->received, c->not_loopback, c->no_node, c->malformed, c->not_query, c->dead,
          c->request_lost, c->response_lost, c->queue_full, c->answered, c->errors_sent, c->announced, c->store_full,
          c->send_failed, c->log_truncated, c->untracked);
  return fclose(f) == 0 ? 0 : DHT_EIO;
}

static void server_clear(server *s) {
  while (s->q.n > 0) {
    reply r = heap_pop(&s->q);
    g_free(r.data);
  }
  g_free(s->q.a);
  sim_latency_clear(&s->lat);
  if (s->fd >= 0)
    close(s->fd);
  if (s->log != NULL)
    fclose(s->log);
  if (s->store != NULL)
    g_hash_table_destroy(s->store);
  if (s->tracks != NULL)
    g_hash_table_destroy(s->tracks);
  if (s->planted_ix != NULL)
    g_hash_table_destroy(s->planted_ix);
  g_free(s->planted);
  g_free(s->holders);
  g_free(s->peers);
  g_free(s->idx);
  sim_network_clear(&s->net);
}

static int serve_usage_error(const char *msg, const char *arg) {
  fprintf(stderr, "dhtsim serve: %s%s%s\n%s", msg, arg ? " " : "", arg ? arg : "", serve_usage);
  return EXIT_USAGE;
}

int sim_serve_main(int argc, char **argv) {
  const char *path = NULL, *out = NULL;
  uint64_t port = 6881, duration = 0, n_planted = 16, seed = 0;
  bool seed_set = false;
  sim_scenario sc;
  server s;
  char err[1024] = "";
  int rc, status = EXIT_RUNTIME;
  uint64_t t_end;

  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    uint64_t *dst = NULL;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      fputs(serve_help, stdout);
      return 0;
    }
    if (strcmp(a, "--port") == 0)
      dst = &port;
    else if (strcmp(a, "--duration") == 0)
      dst = &duration;
    else if (strcmp(a, "--planted") == 0)
      dst = &n_planted;
    else if (strcmp(a, "--seed") == 0)
      dst = &seed, seed_set = true;
    if (dst != NULL || strcmp(a, "--out") == 0) {
      if (i + 1 >= argc)
        return serve_usage_error("option needs a value:", a);
      if (dst == NULL)
        out = argv[++i];
      else if (!sim_parse_u64(argv[++i], dst))
        return serve_usage_error("expects an unsigned integer:", a);
      continue;
    }
    if (a[0] == '-')
      return serve_usage_error("unknown option", a);
    if (path != NULL)
      return serve_usage_error("unexpected argument", a);
    path = a;
  }
  if (path == NULL)
    return serve_usage_error("needs a SCENARIO file", NULL);
  if (port > 65535)
    return serve_usage_error("--port expects 0..65535", NULL);
  if (duration > UINT64_C(315360000))
    return serve_usage_error("--duration expects at most 10 years of seconds", NULL);
  if (n_planted > 1000000)
    return serve_usage_error("--planted expects at most 1000000", NULL);

  if ((rc = sim_scenario_load(&sc, path, err, sizeof err)) < 0) {
    fprintf(stderr, "%s\n", err);
    return EXIT_USAGE;
  }
  memset(&s, 0, sizeof s);
  s.fd = -1;
  s.sc = &sc;
  /* What a KRPC answer can carry, and the addresses there are. */
  if (sc.n_sweep > 0 || sc.lookup.k > DHT_KRPC_NODES_MAX || sc.workload.planted_peers > DHT_KRPC_VALUES_MAX ||
      sc.network.nodes > SIM_SERVE_NODES_MAX) {
    fprintf(stderr, "dhtsim serve: %s: serve needs one point (no sweep), lookup.k <= %d, workload.planted_peers <= %d "
                    "and at most %u nodes\n",
            path, DHT_KRPC_NODES_MAX, DHT_KRPC_VALUES_MAX, SIM_SERVE_NODES_MAX);
    sim_scenario_clear(&sc);
    return EXIT_USAGE;
  }
  if (sim_param_living(&sc) || sc.n_events > 0) {
    fprintf(stderr, "dhtsim serve: %s: serve answers from a static network: it does not simulate churn, table "
                    "maintenance or timed events (docs/churn.md)\n",
            path);
    sim_scenario_clear(&sc);
    return EXIT_USAGE;
  }
  s.seed = seed_set ? seed : sc.seed;
  dht_lookup_config_defaults(&s.cfg, sc.lookup.strategy);
  s.cfg.k = sc.lookup.k;
  if ((rc = sim_build_network(&sc, s.seed, &s.net, err, sizeof err)) < 0) {
    fprintf(stderr, "%s\n", err);
    status = rc == DHT_ENOMEM ? EXIT_RUNTIME : EXIT_USAGE;
    goto done;
  }
  if (s.net.n > SIM_SERVE_NODES_MAX) {
    fprintf(stderr, "dhtsim serve: %s: %u nodes, more than the %u loopback addresses\n", path, s.net.n, SIM_SERVE_NODES_MAX);
    status = EXIT_USAGE;
    goto done;
  }
  assign_flags(&s);
  assign_unreachable(&s);
  if ((rc = sim_latency_init(&s.lat, &sc, dht_seed_derive(s.seed, STREAM_LATENCY), err, sizeof err)) < 0) {
    fprintf(stderr, "dhtsim serve: %s\n", err);
    status = rc == DHT_ENOMEM ? EXIT_RUNTIME : EXIT_USAGE;
    goto done;
  }
  {
    uint64_t sec = s.seed ^ (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    s.secret = dht_splitmix64(&sec); /* tokens need not repeat across runs */
  }
  dht_rng_init(&s.msg_rng, dht_seed_derive(s.seed, STREAM_MESSAGES));
  s.q.cap = QUEUE_MAX;
  s.q.a = g_try_new(reply, QUEUE_MAX);
  s.idx = g_try_new(uint32_t, (size_t)sc.lookup.k + 2);
  s.store = g_hash_table_new_full(store_hash, store_equal, g_free, g_free);
  s.tracks = g_hash_table_new_full(track_hash, track_equal, g_free, g_free);
  if (s.q.a == NULL || s.idx == NULL) {
    fprintf(stderr, "dhtsim serve: out of memory\n");
    goto done;
  }
  if ((rc = plant(&s, n_planted, err, sizeof err)) < 0) {
    fprintf(stderr, "dhtsim serve: %s\n", err);
    status = rc == DHT_ENOMEM ? EXIT_RUNTIME : EXIT_USAGE;
    goto done;
  }
  if ((rc = open_socket(&s, (uint16_t)port, err, sizeof err)) < 0) {
    fprintf(stderr, "dhtsim serve: %s\n", err);
    goto done;
  }
  if (out != NULL) {
    if (g_mkdir_with_parents(out, 0777) != 0) {
      fprintf(stderr, "dhtsim serve: cannot create %s: %s\n", out, strerror(errno));
      goto done;
    }
    if (write_setup(&s, out, err, sizeof err) < 0 || (s.log = out_file(out, "queries.jsonl", err, sizeof err)) == NULL) {
      fprintf(stderr, "dhtsim serve: %s\n", err[0] ? err : "cannot write the output folder");
      goto done;
    }
  }
  {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
  }
  printf("serving %" PRIu32 " nodes on port %u\n", s.net.n, s.port);
  fflush(stdout);

  t_end = duration > 0 ? mono_us() + duration * 1000000u : UINT64_MAX;
  while (!serve_stop) {
    uint64_t now = mono_us(), wake = t_end;
    struct pollfd pfd = {.fd = s.fd, .events = POLLIN};
    int timeout_ms;
    if (now >= t_end)
      break;
    while (s.q.n > 0 && s.q.a[0].due_us <= now) {
      reply r = heap_pop(&s.q);
      send_reply(&s, &r);
      g_free(r.data);
    }
    if (s.q.n > 0 && s.q.a[0].due_us < wake)
      wake = s.q.a[0].due_us;
    timeout_ms = wake == UINT64_MAX ? 1000 : (int)MIN((wake - now + 999) / 1000, 1000);
    if (poll(&pfd, 1, timeout_ms) > 0 && (pfd.revents & POLLIN))
      receive(&s);
    if (s.log != NULL && (s.c.received & 1023) == 0)
      fflush(s.log);
  }
  if (s.log != NULL) {
    fclose(s.log);
    s.log = NULL;
  }
  status = 0;
  if (out != NULL && write_results(&s, out, err, sizeof err) < 0) {
    fprintf(stderr, "dhtsim serve: %s\n", err[0] ? err : "cannot write the results");
    status = EXIT_RUNTIME;
  }
  fprintf(stderr,
          "dhtsim serve: %" PRIu64 " datagrams: %" PRIu64 " answered, %" PRIu64 " errors sent, %" PRIu64
          " malformed, %" PRIu64 " not loopback, %" PRIu64 " to no node, %" PRIu64 " to dead nodes, %" PRIu64
          " lost, %" PRIu64 " refused (queue full)\n",
          s.c.received, s.c.answered, s.c.errors_sent, s.c.malformed, s.c.not_loopback, s.c.no_node, s.c.dead,
          s.c.request_lost + s.c.response_lost, s.c.queue_full);
done:
  server_clear(&s);
  sim_scenario_clear(&sc);
  return status;
}
