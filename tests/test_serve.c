/* test_serve.c: `dhtsim serve` over real loopback UDP: the answer model
 * (ping, find_node, get_peers with nodes or planted values, tokens,
 * announce_peer stored, errors 203 and 204), replies from the node's own
 * address, the address mapping, and a flood of 10^5 random datagrams after
 * which well-formed queries are still answered and the memory has not grown;
 * and `lookup --live` against it. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include "criterion_assert.h"
#include <glib.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_helpers.h"
#include "error.h"
#include "krpc.h"
#include "rng.h"
#include "serve.h"

typedef struct srv {
  GPid pid;
  int out_fd;
  uint16_t port;
  char *dir;
  dht_id bootstrap_id; /* node 0's */
} srv;

static const char scenario[] = "name: serve-test\nseed: 7\nnetwork: {nodes: 300, tables: full}\n"
                               "latency: {model: constant, delay_ms: 1}\nlookup: {strategy: libtorrent, k: 8}\n"
                               "workload: {lookups: 1, planted_peers: 3, plant_at: 8}\n";

static srv start_with(const char *text) {
  srv s = {0};
  GError *e = NULL;
  char *scen, line[256] = "";
  s.dir = g_dir_make_tmp("dhtsim-serve-XXXXXX", NULL);
  cr_assert(s.dir != NULL);
  scen = g_build_filename(s.dir, "s.yaml", NULL);
  cr_assert(g_file_set_contents(scen, text, -1, NULL));
  char *out = g_build_filename(s.dir, "out", NULL);
  const char *argv[] = {DHTSIM_BINARY, "serve", scen, "--port", "0", "--out", out, "--duration", "120", NULL};
  cr_assert(g_spawn_async_with_pipes(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &s.pid, NULL,
                                     &s.out_fd, NULL, &e),
            "%s", e ? e->message : "");
  /* "serving N nodes on port P" once it listens. */
  for (size_t n = 0; n < sizeof line - 1;) {
    ssize_t r = read(s.out_fd, line + n, 1);
    cr_assert(r == 1, "serve printed no ready line");
    if (line[n] == '\n')
      break;
    n++;
  }
  unsigned port = 0;
  cr_assert(sscanf(line, "serving 300 nodes on port %u", &port) == 1, "%s", line);
  s.port = (uint16_t)port;
  char *boot = slurp(out, "bootstrap.txt");
  cr_assert(eq(int, dht_id_from_hex(&s.bootstrap_id, boot, 40), 0));
  g_free(boot);
  g_free(out);
  g_free(scen);
  return s;
}

static srv start(void) { return start_with(scenario); }

static int stop(srv *s) {
  int st;
  kill(s->pid, SIGTERM);
  cr_assert(waitpid(s->pid, &st, 0) == s->pid);
  close(s->out_fd);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static long rss_kb(GPid pid) {
  char path[64], *text = NULL, *p;
  long kb = -1;
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  cr_assert(g_file_get_contents(path, &text, NULL, NULL));
  p = strstr(text, "VmRSS:");
  cr_assert(p != NULL);
  kb = strtol(p + 6, NULL, 10);
  g_free(text);
  return kb;
}

/* The counter key of the server's serve.json (after stop). */
static unsigned long long served_count(const srv *s, const char *key) {
  char *out = g_build_filename(s->dir, "out", NULL), *json = slurp(out, "serve.json"), pat[64];
  snprintf(pat, sizeof pat, "\"%s\":", key);
  const char *p = strstr(json, pat);
  cr_assert(p != NULL, "%s", json);
  unsigned long long v = strtoull(p + strlen(pat), NULL, 10);
  g_free(json);
  g_free(out);
  return v;
}

static int client(void) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  cr_assert(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
  return fd;
}

static void send_to(int fd, uint32_t ip, uint16_t port, const void *buf, size_t n) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(ip)};
  (void)sendto(fd, buf, n, 0, (struct sockaddr *)&a, sizeof a);
}

static void send_msg(int fd, uint32_t ip, uint16_t port, const dht_krpc_msg *m) {
  uint8_t buf[DHT_KRPC_LEN_MAX];
  int n = dht_krpc_encode(m, buf, sizeof buf);
  cr_assert(gt(int, n, 0));
  send_to(fd, ip, port, buf, (size_t)n);
}

/* Waits up to ms for one datagram; returns 1 with it decoded and its source, 0 on timeout. */
static int recv_msg(int fd, int ms, dht_krpc_msg *m, uint32_t *from_ip) {
  uint8_t buf[DHT_KRPC_LEN_MAX];
  struct pollfd p = {.fd = fd, .events = POLLIN};
  struct sockaddr_in a;
  socklen_t al = sizeof a;
  if (poll(&p, 1, ms) <= 0)
    return 0;
  ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&a, &al);
  cr_assert(n > 0);
  cr_assert(eq(int, dht_krpc_decode(m, buf, (size_t)n, NULL), 0));
  *from_ip = ntohl(a.sin_addr.s_addr);
  return 1;
}

static dht_krpc_msg query(dht_krpc_method me, uint16_t tid) {
  dht_krpc_msg m;
  memset(&m, 0, sizeof m);
  m.type = DHT_KRPC_QUERY;
  m.method = me;
  m.tid_len = 2;
  m.tid[0] = (uint8_t)(tid >> 8);
  m.tid[1] = (uint8_t)tid;
  m.has_id = true;
  memset(m.id.b, 0x42, DHT_ID_LEN);
  return m;
}

Test(serve, address_mapping) {
  uint32_t node;
  cr_assert(eq(u32, sim_serve_node_ip(300, 0), 0x7f010001u));
  cr_assert(eq(u32, sim_serve_node_ip(300, 257), 0x7f020101u));
  cr_assert(eq(int, sim_serve_ip_node(300, 0x7f020101u, &node), 0));
  cr_assert(eq(u32, node, 257));
  cr_assert(eq(int, sim_serve_ip_node(300, 0x7f000001u, &node), -1)); /* 127.0.0.1: the client's */
  cr_assert(eq(int, sim_serve_ip_node(300, 0x7f010002u, &node), -1)); /* .2 while one node per /24 */
  cr_assert(eq(int, sim_serve_ip_node(300, 0x0a010001u, &node), -1));
  cr_assert(eq(int, sim_serve_ip_node(300, sim_serve_node_ip(300, 300), &node), -1));
  /* Beyond 65,024 nodes, several per /24; every address maps back to its node. */
  uint32_t n = 3 * SIM_SERVE_PREFIXES + 5, per = 4;
  for (uint32_t i = 0; i < n; i += 997) {
    uint32_t ip = sim_serve_node_ip(n, i);
    cr_assert(eq(u32, (ip & 255u), 1 + i % per));
    cr_assert(eq(int, sim_serve_ip_node(n, ip, &node), 0));
    cr_assert(eq(u32, node, i));
  }
  cr_assert(eq(u32, sim_serve_node_ip(n, n - 1) >> 24, 127));
}

Test(serve, answer_model, .timeout = 60) {
  srv s = start();
  int fd = client();
  dht_krpc_msg q, r;
  uint32_t from, node0 = sim_serve_node_ip(300, 0), node5 = sim_serve_node_ip(300, 5);

  q = query(DHT_KRPC_PING, 1);
  send_msg(fd, node0, s.port, &q);
  cr_assert(eq(int, recv_msg(fd, 2000, &r, &from), 1));
  cr_assert(eq(u32, from, node0)); /* from the node's own address */
  cr_assert(eq(int, r.type, DHT_KRPC_RESPONSE));
  cr_assert(r.tid_len == 2 && r.tid[1] == 1);
  cr_assert(dht_id_eq(&r.id, &s.bootstrap_id));

  q = query(DHT_KRPC_FIND_NODE, 2);
  q.has_target = true;
  memset(q.target.b, 0x17, DHT_ID_LEN);
  send_msg(fd, node5, s.port, &q);
  cr_assert(eq(int, recv_msg(fd, 2000, &r, &from), 1));
  cr_assert(eq(u32, from, node5));
  cr_assert(eq(sz, r.n_nodes, 8));
  for (size_t i = 1; i < r.n_nodes; i++) /* sorted by distance to the target */
    cr_assert(lt(int, dht_id_distance_cmp(&q.target, &r.nodes[i - 1].id, &r.nodes[i].id), 0));
  for (size_t i = 0; i < r.n_nodes; i++)
    cr_assert(eq(u32, r.nodes[i].addr.ip[0], 127));

  /* get_peers for an unplanted infohash: nodes and a token; announce with it; then values. */
  q = query(DHT_KRPC_GET_PEERS, 3);
  q.has_info_hash = true;
  memset(q.info_hash.b, 0x99, DHT_ID_LEN);
  send_msg(fd, node5, s.port, &q);
  cr_assert(eq(int, recv_msg(fd, 2000, &r, &from), 1));
  cr_assert(r.has_token && r.has_nodes && !r.has_values);
  cr_assert(eq(sz, r.token_len, 8));
  dht_krpc_msg a = query(DHT_KRPC_ANNOUNCE_PEER, 4);
  a.info_hash = q.info_hash;
  a.port = 51000;
  a.has_port = true;
  a.has_token = true;
  memcpy(a.token, r.token, r.token_len);
  a.token_len = r.token_len;
  a.token[0] ^= 1; /* a bad token first: 203 */
  send_msg(fd, node5, s.port, &a);
  cr_assert(eq(int, recv_msg(fd, 2000, &r, &from), 1));
  cr_assert(eq(int, r.type, DHT_KRPC_ERROR));
  cr_assert(eq(i64, r.error_code, 203));
  a.token[0] ^= 1;
  a.tid[1] = 5;
  send_msg(fd, node5, s.port, &a);
  cr_assert(eq(int, recv_msg(fd, 2000, &r, &from), 1));
  cr_assert(eq(int, r.type, DHT_KRPC_RESPONSE));
  q.tid[1] = 6;
  send_msg(fd, node5, s.port, &q);
  cr_assert(eq(int, recv_msg(fd, 2000, &r, &from), 1));
  cr_assert(r.has_values && r.n_values == 1 && r.values[0].port == 51000 && r.values[0].ip[0] == 127);
  cr_assert(eq(int, r.has_nodes, 0)); /* the simulation's rule: values, no nodes */
  /* Another node knows nothing of it. */
  q.tid[1] = 7;
  send_msg(fd, node0, s.port, &q);
  cr_assert(eq(int, recv_msg(fd, 2000, &r, &from), 1));
  cr_assert(eq(int, r.has_values, 0));

  /* An unknown method: 204. */
  q = query(DHT_KRPC_UNKNOWN, 8);
  memcpy(q.method_name, "vote", 4);
  q.method_len = 4;
  send_msg(fd, node0, s.port, &q);
  cr_assert(eq(int, recv_msg(fd, 2000, &r, &from), 1));
  cr_assert(eq(int, r.type, DHT_KRPC_ERROR));
  cr_assert(eq(i64, r.error_code, 204));

  /* A planted infohash: its closest nodes answer with the 3 planted peers. */
  char *out = g_build_filename(s.dir, "out", NULL);
  char *planted = slurp(out, "planted.txt");
  q = query(DHT_KRPC_GET_PEERS, 9);
  q.has_info_hash = true;
  cr_assert(eq(int, dht_id_from_hex(&q.info_hash, planted, 40), 0));
  size_t with_values = 0;
  for (uint32_t i = 0; i < 300; i++) {
    q.tid[1] = (uint8_t)i;
    send_msg(fd, sim_serve_node_ip(300, i), s.port, &q);
    cr_assert(eq(int, recv_msg(fd, 2000, &r, &from), 1));
    if (r.has_values) {
      cr_assert(eq(sz, r.n_values, 3));
      with_values++;
    }
  }
  cr_assert(eq(sz, with_values, 8)); /* plant_at */
  cr_assert(eq(int, stop(&s), 0));
  char *lookups = slurp(out, "lookups.csv");
  cr_assert(strstr(lookups, "source,target,queries,answered,closest_hits") == lookups);
  char hex[41];
  memcpy(hex, planted, 40);
  hex[40] = '\0';
  char *row = strstr(lookups, hex);
  cr_assert(row != NULL);
  unsigned queries, answered, hits, truth;
  cr_assert(eq(int, sscanf(row + 41, "%u,%u,%u,%u", &queries, &answered, &hits, &truth), 4));
  cr_assert(queries == 300 && answered == 300 && hits == 8 && truth == 8);
  char *log = slurp(out, "queries.jsonl");
  cr_assert(gt(sz, count_lines(log), 300));
  cr_assert(strstr(log, "\"method\":\"announce_peer\"") != NULL);
  g_free(log);
  g_free(lookups);
  g_free(planted);
  g_free(out);
  close(fd);
  rm_rf(s.dir);
  g_free(s.dir);
}

/* A well-formed ping to node i; true if answered within ms. */
static bool pings(int fd, uint16_t port, uint32_t i, uint16_t tid, int ms) {
  dht_krpc_msg q = query(DHT_KRPC_PING, tid), r;
  uint32_t from;
  send_msg(fd, sim_serve_node_ip(300, i), port, &q);
  while (recv_msg(fd, ms, &r, &from) == 1)
    if (r.tid_len == 2 && (uint16_t)(r.tid[0] << 8 | r.tid[1]) == tid)
      return true;
  return false;
}

Test(serve, flood, .timeout = 120) {
  srv s = start();
  int fd = client(), flood = client();
  dht_rng rng;
  uint8_t buf[1500];
  size_t answered = 0, asked = 0;
  long before, after;

  cr_assert(pings(fd, s.port, 1, 1, 2000));
  before = rss_kb(s.pid);
  dht_rng_init(&rng, 16);
  for (uint32_t i = 0; i < 100000; i++) {
    size_t n = 1 + (size_t)dht_rng_below(&rng, sizeof buf);
    uint32_t dst = (uint32_t)dht_rng_below(&rng, 4) == 0 ? 0x7f000000u | (uint32_t)dht_rng_below(&rng, 1u << 24)
                                                         : sim_serve_node_ip(300, (uint32_t)dht_rng_below(&rng, 300));
    dht_rng_fill(&rng, buf, n);
    if (i % 3 == 0) /* some look like bencode, to go deeper into the decoder */
      memcpy(buf, "d1:ad2:id20:", n < 12 ? n : 12);
    send_to(flood, dst, s.port, buf, n);
    if (i % 1000 == 0) {
      asked++;
      answered += pings(fd, s.port, i % 300, (uint16_t)(2 + i / 1000), 200);
    }
  }
  /* During the flood the kernel's socket buffer may overflow: most pings get through. */
  cr_assert(ge(sz, answered, asked / 2), "%zu of %zu pings answered during the flood", answered, asked);
  /* After it, every ping is answered. */
  for (uint16_t t = 0; t < 50; t++)
    cr_assert(pings(fd, s.port, t, (uint16_t)(1000 + t), 2000), "ping %u after the flood unanswered", t);
  after = rss_kb(s.pid);
  cr_assert(lt(long, after - before, 8192L), "RSS grew from %ld to %ld kB", before, after);
  cr_assert(eq(int, stop(&s), 0));
  cr_assert(gt(ullong, served_count(&s, "malformed"), 10000ull));
  close(fd);
  close(flood);
  rm_rf(s.dir);
  g_free(s.dir);
}

/* Datagrams sent to this host's own non-loopback address are dropped unread. */
Test(serve, loopback_guard, .timeout = 60) {
  srv s = start();
  struct ifaddrs *ifs, *it;
  uint32_t ext = 0;
  cr_assert(getifaddrs(&ifs) == 0);
  for (it = ifs; it != NULL; it = it->ifa_next)
    if (it->ifa_addr != NULL && it->ifa_addr->sa_family == AF_INET) {
      uint32_t ip = ntohl(((struct sockaddr_in *)(void *)it->ifa_addr)->sin_addr.s_addr);
      if (ip >> 24 != 127)
        ext = ip;
    }
  freeifaddrs(ifs);
  if (ext != 0) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(ext)};
    dht_krpc_msg q = query(DHT_KRPC_PING, 1), r;
    uint32_t from;
    cr_assert(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
    send_msg(fd, ext, s.port, &q);
    cr_assert(eq(int, recv_msg(fd, 500, &r, &from), 0));
    close(fd);
  }
  cr_assert(eq(int, stop(&s), 0));
  if (ext != 0)
    cr_assert(eq(ullong, served_count(&s, "not_loopback"), 1ull));
  rm_rf(s.dir);
  g_free(s.dir);
}

/* core's lookup over the real socket finds the planted peers and the true closest. */
Test(serve, live_lookup, .timeout = 60) {
  srv s = start();
  char *out = g_build_filename(s.dir, "out", NULL);
  char *planted = slurp(out, "planted.txt"), *boot = slurp(out, "bootstrap.txt");
  char target[41], first[128];
  memcpy(target, planted, 40);
  target[40] = '\0';
  cr_assert(sscanf(boot, "%127s", first) == 1);
  const char *args[] = {"lookup", "--live", "--json", first, target, NULL};
  cli c = run_dhtsim(args);
  cr_assert(eq(int, c.status, 0), "%s", c.err);
  cr_assert(strstr(c.out, "\"peers\":[\"192.168.0.0:51413\",\"192.168.0.1:51414\",\"192.168.0.2:51415\"]") != NULL, "%s",
            c.out);
  cr_assert(strstr(c.out, "\"done\":true") != NULL, "%s", c.out);
  cli_free(&c);
  /* Only loopback; bad usage is exit 2. */
  const char *bad[] = {"lookup", "--live", "10.0.0.1:6881", target, NULL};
  c = run_dhtsim(bad);
  cr_assert(eq(int, c.status, 2));
  cr_assert(strstr(c.err, "loopback") != NULL);
  cli_free(&c);
  const char *help[] = {"lookup", "--help", NULL};
  c = run_dhtsim(help);
  cr_assert(eq(int, c.status, 0));
  cli_free(&c);
  cr_assert(eq(int, stop(&s), 0));
  char *lookups = slurp(out, "lookups.csv");
  char *row = strstr(lookups, target);
  unsigned queries, answered, hits, truth;
  cr_assert(row != NULL);
  cr_assert(eq(int, sscanf(row + 41, "%u,%u,%u,%u", &queries, &answered, &hits, &truth), 4));
  cr_assert(eq(u32, hits, 8), "%s", lookups);
  g_free(lookups);
  g_free(planted);
  g_free(boot);
  g_free(out);
  rm_rf(s.dir);
  g_free(s.dir);
}

Test(serve, usage) {
  const char *help[] = {"serve", "--help", NULL};
  cli c = run_dhtsim(help);
  cr_assert(eq(int, c.status, 0));
  cr_assert(strstr(c.out, "--duration") != NULL);
  cli_free(&c);
  const char *none[] = {"serve", NULL};
  c = run_dhtsim(none);
  cr_assert(eq(int, c.status, 2));
  cli_free(&c);
  const char *bad[] = {"serve", "x.yaml", "--port", "70000", NULL};
  c = run_dhtsim(bad);
  cr_assert(eq(int, c.status, 2));
  cli_free(&c);
}

/* Unreachable nodes (sim.c's stream 8, the same draw) never answer; every
 * other node does, after its pair delay (coordinates, the client placed as node 300). */
Test(serve, unreachable_nodes_never_answer, .timeout = 120) {
  static const char text[] = "name: serve-nat\nseed: 7\nnetwork: {nodes: 300, tables: full}\n"
                             "latency: {model: coordinates, coord_scale_ms: 1, access_ms: 1}\n"
                             "loss: {unreachable_fraction: 0.3}\nlookup: {strategy: libtorrent, k: 8}\n"
                             "workload: {lookups: 1, planted_peers: 3, plant_at: 8}\n";
  srv s = start_with(text);
  int fd = client();
  dht_rng rng;
  unsigned unreachable = 0, silent = 0, wrong = 0;
  dht_rng_init(&rng, dht_seed_derive(7, 8));
  for (uint32_t i = 0; i < 300; i++) {
    bool u = dht_rng_chance(&rng, 0.3) != 0;
    bool answered = pings(fd, s.port, i, (uint16_t)(1000 + i), u ? 40 : 2000);
    unreachable += u;
    silent += !answered;
    wrong += u == answered;
  }
  cr_assert(eq(u32, wrong, 0));
  cr_assert(gt(u32, unreachable, 60));
  cr_assert(eq(u32, silent, unreachable));
  cr_assert(eq(int, stop(&s), 0));
  cr_assert(eq(ullong, served_count(&s, "dead"), (unsigned long long)unreachable));
  close(fd);
  rm_rf(s.dir);
  g_free(s.dir);
}
