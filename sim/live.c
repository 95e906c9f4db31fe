/* live.c: `dhtsim lookup --live`: see live.h. The driver's loop is sim.c's,
 * with the monotonic clock for virtual time and a socket for the network:
 * dht_lookup_next -> send get_peers, each answer -> dht_lookup_reply_from,
 * each timer at its time -> dht_lookup_tick. */
#define _GNU_SOURCE
#include "live.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "krpc.h"
#include "lookup.h"
#include "param.h"
#include "routing_table.h"
#include "text.h"

enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2 };
#define SEEDS_MAX 4096         /* ADDRs on the command line */
#define PENDING_MAX 256        /* queries awaiting an answer: > DHT_IN_FLIGHT_MAX plus the pings */
#define TIMERS_MAX 4096        /* timers armed and not yet due */
#define PING_WAIT_US 2000000u  /* how long the pings of ID-less ADDRs are awaited */
#define HARD_LIMIT_US 120000000u /* a lookup that has not ended after 2 minutes is stopped */

static const char live_usage[] =
    "Usage: dhtsim lookup --live [--strategy S] [--alpha N] [--k N] [--timeout-ms N] [--json] ADDR... TARGET\n";
static const char live_help[] =
    "dhtsim lookup --live ADDR... TARGET: run core's iterative get_peers lookup for TARGET (40 hex digits)\n"
    "over real UDP, starting from the nodes ADDR (ID@a.b.c.d:port, or a.b.c.d:port: pinged first for its\n"
    "ID), and print the peers and closest nodes it found and its statistics. Loopback (127.0.0.0/8) only.\n"
    "\n"
    "Options:\n"
    "  --strategy S    rounds, pipelined, libtorrent (default), jech, bittorrent-dht, aria2 or libp2p\n"
    "  --alpha N       parallel queries (default: the strategy's)\n"
    "  --k N           closest nodes tracked (default 8)\n"
    "  --timeout-ms N  per-query timeout (default: the strategy's)\n"
    "  --short-timeout-ms N  libtorrent's slow-query mark (default 1000; 0: never)\n"
    "  --json          print one JSON object instead of text\n"
    "\n"
    "The seeds the lookup starts from are the k (the strategy's `seeds`) given nodes closest to TARGET,\n"
    "as a client starts from its routing table. Exit status: 0 the lookup ran, 1 runtime failure, 2 bad usage.\n";

typedef struct pending {
  bool used, ping;
  uint16_t tid;
  dht_addr to;
  uint64_t sent_us;
} pending;

typedef struct live {
  int fd;
  uint16_t next_tid;
  pending p[PENDING_MAX];
  dht_lookup_timer timers[TIMERS_MAX];
  size_t n_timers;
  uint64_t t0;
  dht_id self;
  dht_id target;
  uint64_t sent, received, ignored, refused_nonloopback;
} live;

static uint64_t now_us(const live *lv) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u - lv->t0;
}

static uint32_t v4(const dht_addr *a) {
  return (uint32_t)a->ip[0] << 24 | (uint32_t)a->ip[1] << 16 | (uint32_t)a->ip[2] << 8 | a->ip[3];
}
static bool loopback(const dht_addr *a) { return a->family == DHT_AF_INET4 && a->ip[0] == 127; }

static int usage(const char *msg, const char *arg) {
  fprintf(stderr, "dhtsim lookup: %s%s%s\n%s", msg, arg ? " " : "", arg ? arg : "", live_usage);
  return EXIT_USAGE;
}

/* Sends one query; 0, or DHT_ERANGE when PENDING_MAX are awaited, DHT_EIO. */
static int send_query(live *lv, const dht_addr *to, dht_krpc_method method, const dht_id *target) {
  dht_krpc_msg m;
  uint8_t buf[256];
  size_t slot;
  int n;
  for (slot = 0; slot < PENDING_MAX && lv->p[slot].used; slot++)
    ;
  if (slot == PENDING_MAX)
    return DHT_ERANGE;
  memset(&m, 0, sizeof m);
  m.type = DHT_KRPC_QUERY;
  m.method = method;
  m.has_id = true;
  m.id = lv->self;
  m.has_info_hash = method == DHT_KRPC_GET_PEERS;
  if (target != NULL)
    m.info_hash = *target;
  else
    m.info_hash = lv->target;
  lv->next_tid++;
  m.tid_len = 2;
  m.tid[0] = (uint8_t)(lv->next_tid >> 8);
  m.tid[1] = (uint8_t)lv->next_tid;
  n = dht_krpc_encode(&m, buf, sizeof buf);
  if (n < 0)
    return n;
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(to->port), .sin_addr.s_addr = htonl(v4(to))};
  if (sendto(lv->fd, buf, (size_t)n, 0, (struct sockaddr *)&sa, sizeof sa) < 0)
    return DHT_EIO;
  lv->sent++;
  lv->p[slot] = (pending){.used = true, .ping = method == DHT_KRPC_PING, .tid = lv->next_tid, .to = *to};
  return 0;
}

/* Reads one datagram if there is one: 1 and the answer in *m, *from, *was_ping; 0 none; <0 error. */
static int recv_answer(live *lv, dht_krpc_msg *m, dht_addr *from, bool *was_ping) {
  uint8_t buf[DHT_KRPC_LEN_MAX + 1];
  struct sockaddr_in sa;
  socklen_t sl = sizeof sa;
  ssize_t n = recvfrom(lv->fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&sa, &sl);
  /* Any other error (ECONNREFUSED: an ICMP port unreachable for an earlier
   * query) concerns one datagram: skip it. */
  if (n < 0)
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1000;
  lv->received++;
  dht_addr_set_v4(from, ntohl(sa.sin_addr.s_addr), ntohs(sa.sin_port));
  if (!loopback(from) || (size_t)n > DHT_KRPC_LEN_MAX || dht_krpc_decode(m, buf, (size_t)n, NULL) < 0 ||
      m->type == DHT_KRPC_QUERY || m->tid_len != 2) {
    lv->ignored++;
    return -1000; /* not for us: the caller reads on */
  }
  uint16_t tid = (uint16_t)(m->tid[0] << 8 | m->tid[1]);
  for (size_t i = 0; i < PENDING_MAX; i++)
    if (lv->p[i].used && lv->p[i].tid == tid && dht_addr_eq(&lv->p[i].to, from)) {
      lv->p[i].used = false;
      *was_ping = lv->p[i].ping;
      return 1;
    }
  lv->ignored++; /* late (its query was given up) or unsolicited */
  return -1000;
}

static void forget(live *lv, const dht_addr *to) {
  for (size_t i = 0; i < PENDING_MAX; i++)
    if (lv->p[i].used && dht_addr_eq(&lv->p[i].to, to))
      lv->p[i].used = false;
}

static int parse_strategy(const char *s, dht_lookup_strategy *out) {
  int p = sim_param_find("lookup.strategy", strlen("lookup.strategy"));
  if (p < 0)
    return -1;
  for (int i = 0; sim_params[p].names[i] != NULL; i++)
    if (strcmp(sim_params[p].names[i], s) == 0) {
      *out = (dht_lookup_strategy)i;
      return 0;
    }
  return -1;
}

static int drain_timers(live *lv, dht_lookup *l) {
  for (;;) {
    size_t room = TIMERS_MAX - lv->n_timers;
    size_t got = dht_lookup_timers(l, lv->timers + lv->n_timers, room < 64 ? room : 64);
    lv->n_timers += got;
    if (got < 64)
      return lv->n_timers == TIMERS_MAX ? DHT_ERANGE : 0;
  }
}

/* Sends what the lookup wants sent; a node outside loopback fails at once. */
static int pump(live *lv, dht_lookup *l) {
  dht_node out[DHT_IN_FLIGHT_MAX];
  size_t n, failed_now;
  int rc;
  do {
    failed_now = 0;
    dht_lookup_clock(l, now_us(lv));
    n = dht_lookup_next(l, out, DHT_IN_FLIGHT_MAX);
    if ((rc = drain_timers(lv, l)) < 0)
      return rc;
    for (size_t i = 0; i < n; i++) {
      if (!loopback(&out[i].addr)) {
        lv->refused_nonloopback++;
        dht_lookup_failed(l, &out[i].addr);
        failed_now++;
        continue;
      }
      if ((rc = send_query(lv, &out[i].addr, DHT_KRPC_GET_PEERS, NULL)) == DHT_ERANGE || rc == DHT_EIO) {
        dht_lookup_failed(l, &out[i].addr); /* cannot be sent: a failure, as a lost query would be */
        failed_now++;
        continue;
      }
    }
    /* Failures reported here may let the lookup send to others. */
  } while (failed_now > 0 && !dht_lookup_done(l));
  return 0;
}

static dht_id *sort_target; /* for the qsort below only (single-threaded command) */
static int by_distance(const void *a, const void *b) {
  return dht_id_distance_cmp(sort_target, &((const dht_node *)a)->id, &((const dht_node *)b)->id);
}

int sim_live_main(int argc, char **argv) {
  static live lv;
  static dht_node seeds[SEEDS_MAX];
  static bool known[SEEDS_MAX];
  static const char *pos[SEEDS_MAX + 1];
  size_t n_pos = 0, n_seeds = 0;
  bool json = false, is_live = false;
  dht_lookup_strategy strategy = DHT_LOOKUP_LIBTORRENT;
  uint64_t alpha = 0, k = 8, timeout_ms = 0, short_ms = 1000;
  bool short_set = false;
  dht_lookup_config cfg;
  dht_id target;
  dht_lookup *l = NULL;
  int status = EXIT_RUNTIME;
  uint64_t t_start, t_first_peer = UINT64_MAX;

  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    uint64_t *dst = NULL;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      fputs(live_help, stdout);
      return 0;
    }
    if (strcmp(a, "--live") == 0) {
      is_live = true;
      continue;
    }
    if (strcmp(a, "--json") == 0) {
      json = true;
      continue;
    }
    if (strcmp(a, "--alpha") == 0)
      dst = &alpha;
    else if (strcmp(a, "--k") == 0)
      dst = &k;
    else if (strcmp(a, "--timeout-ms") == 0)
      dst = &timeout_ms;
    else if (strcmp(a, "--short-timeout-ms") == 0)
      dst = &short_ms, short_set = true;
    if (dst != NULL || strcmp(a, "--strategy") == 0) {
      if (i + 1 >= argc)
        return usage("option needs a value:", a);
      i++;
      if (dst == NULL && parse_strategy(argv[i], &strategy) < 0)
        return usage("unknown strategy", argv[i]);
      if (dst != NULL && !sim_parse_u64(argv[i], dst))
        return usage("expects an unsigned integer:", a);
      continue;
    }
    if (a[0] == '-')
      return usage("unknown option", a);
    if (n_pos > SEEDS_MAX)
      return usage("too many ADDRs (at most 4096)", NULL);
    pos[n_pos++] = a;
  }
  if (!is_live)
    return usage("only --live lookups exist (the simulated ones are `dhtsim run`)", NULL);
  if (n_pos < 2)
    return usage("needs at least one ADDR and a TARGET", NULL);
  if (dht_id_from_hex(&target, pos[n_pos - 1], strlen(pos[n_pos - 1])) < 0)
    return usage("TARGET is not 40 hex digits:", pos[n_pos - 1]);
  if (dht_lookup_config_defaults(&cfg, strategy) < 0)
    return usage("unknown strategy", NULL);
  if (k < 1 || k > DHT_KRPC_NODES_MAX || alpha > DHT_ALPHA_MAX || timeout_ms > 3600000 || short_ms > 3600000)
    return usage("--k expects 1..64, --alpha 0..64, --timeout-ms and --short-timeout-ms at most 3600000", NULL);
  cfg.k = (unsigned)k;
  if (alpha > 0)
    cfg.alpha = (unsigned)alpha;
  if (timeout_ms > 0)
    cfg.timeout_us = timeout_ms * 1000u;
  if (strategy == DHT_LOOKUP_LIBTORRENT || short_set)
    cfg.short_timeout_us = short_ms * 1000u;
  for (size_t i = 0; i + 1 < n_pos; i++) {
    const char *s = pos[i], *at = strchr(s, '@');
    dht_node *nd = &seeds[n_seeds];
    if (at != NULL && dht_id_from_hex(&nd->id, s, (size_t)(at - s)) < 0)
      return usage("ADDR's ID is not 40 hex digits:", s);
    if (dht_addr_parse(&nd->addr, at != NULL ? at + 1 : s) < 0)
      return usage("ADDR is not a.b.c.d:port:", s);
    if (!loopback(&nd->addr))
      return usage("lookup --live talks to loopback (127.0.0.0/8) only, not", s);
    known[n_seeds++] = at != NULL;
  }

  memset(&lv, 0, sizeof lv);
  lv.target = target;
  {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    lv.t0 = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
    dht_rng r;
    dht_rng_init(&r, lv.t0 ^ (uint64_t)getpid() << 40);
    dht_id_random(&lv.self, &r);
  }
  lv.fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in la = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (lv.fd < 0 || bind(lv.fd, (struct sockaddr *)&la, sizeof la) < 0) {
    fprintf(stderr, "dhtsim lookup: cannot open a UDP socket on 127.0.0.1: %s\n", strerror(errno));
    goto done;
  }

  /* Learn the IDs of the seeds given without one. */
  {
    size_t unknown = 0;
    for (size_t i = 0; i < n_seeds; i++)
      if (!known[i] && send_query(&lv, &seeds[i].addr, DHT_KRPC_PING, NULL) == 0)
        unknown++;
    uint64_t until = now_us(&lv) + PING_WAIT_US;
    while (unknown > 0 && now_us(&lv) < until) {
      struct pollfd pfd = {.fd = lv.fd, .events = POLLIN};
      static dht_krpc_msg m;
      dht_addr from;
      bool was_ping;
      if (poll(&pfd, 1, 50) <= 0)
        continue;
      for (int rd = 0; rd < 1024; rd++) {
        int rc = recv_answer(&lv, &m, &from, &was_ping);
        if (rc == 0)
          break;
        if (rc != 1 || m.type != DHT_KRPC_RESPONSE || !was_ping)
          continue;
        for (size_t i = 0; i < n_seeds; i++)
          if (!known[i] && dht_addr_eq(&seeds[i].addr, &from)) {
            seeds[i].id = m.id;
            known[i] = true;
            unknown--;
          }
      }
    }
    size_t w = 0;
    for (size_t i = 0; i < n_seeds; i++)
      if (known[i])
        seeds[w++] = seeds[i];
    n_seeds = w;
    memset(lv.p, 0, sizeof lv.p);
  }
  if (n_seeds == 0) {
    fprintf(stderr, "dhtsim lookup: no ADDR answered a ping: nothing to start from\n");
    goto done;
  }
  /* A client starts from its table's closest to the target. */
  sort_target = &target;
  qsort(seeds, n_seeds, sizeof seeds[0], by_distance);
  if (n_seeds > (cfg.seeds > 0 ? cfg.seeds : cfg.k))
    n_seeds = cfg.seeds > 0 ? cfg.seeds : cfg.k;

  l = dht_lookup_new(&target, &lv.self, &cfg);
  if (l == NULL || dht_lookup_seed(l, seeds, n_seeds) < 0) {
    fprintf(stderr, "dhtsim lookup: out of memory\n");
    goto done;
  }
  t_start = now_us(&lv);
  if (pump(&lv, l) < 0)
    goto fail;
  while (!dht_lookup_done(l)) {
    uint64_t now = now_us(&lv), wake = now + 1000000u;
    struct pollfd pfd = {.fd = lv.fd, .events = POLLIN};
    int rc;
    if (now - t_start > HARD_LIMIT_US) {
      fprintf(stderr, "dhtsim lookup: stopped after %u s without an end\n", HARD_LIMIT_US / 1000000u);
      break;
    }
    for (size_t i = 0; i < lv.n_timers; i++)
      if (lv.timers[i].at_us < wake)
        wake = lv.timers[i].at_us;
    if (wake > now && poll(&pfd, 1, (int)((wake - now + 999) / 1000)) > 0) {
      static dht_krpc_msg m;
      dht_addr from;
      bool was_ping;
      for (int rd = 0; rd < 1024 && (rc = recv_answer(&lv, &m, &from, &was_ping)) != 0; rd++) {
        if (rc < 0 || was_ping || !dht_lookup_awaiting(l, &from))
          continue;
        dht_lookup_clock(l, now_us(&lv));
        if (m.type == DHT_KRPC_ERROR) {
          dht_lookup_failed(l, &from);
        } else {
          dht_lookup_reply r = {.token = m.token, .token_len = m.token_len, .peers = m.values,
                                .n_peers = m.n_values, .nodes = m.nodes, .n_nodes = m.n_nodes};
          if (dht_lookup_reply_from(l, &from, &r) < 0)
            dht_lookup_failed(l, &from);
          else if (m.n_values > 0 && t_first_peer == UINT64_MAX)
            t_first_peer = now_us(&lv) - t_start;
        }
        if (pump(&lv, l) < 0)
          goto fail;
        if (dht_lookup_done(l))
          break;
      }
    }
    /* Timers due now, earliest first (order among equal times: as armed). */
    now = now_us(&lv);
    for (;;) {
      size_t best = SIZE_MAX;
      for (size_t i = 0; i < lv.n_timers; i++)
        if (lv.timers[i].at_us <= now && (best == SIZE_MAX || lv.timers[i].at_us < lv.timers[best].at_us))
          best = i;
      if (best == SIZE_MAX || dht_lookup_done(l))
        break;
      dht_lookup_timer t = lv.timers[best];
      memmove(lv.timers + best, lv.timers + best + 1, (lv.n_timers - best - 1) * sizeof t);
      lv.n_timers--;
      rc = dht_lookup_tick(l, now, t.id);
      if (rc < 0)
        goto fail;
      if (rc > 0 && pump(&lv, l) < 0)
        goto fail;
    }
    for (size_t i = 0; i < PENDING_MAX; i++) /* queries the lookup gave up: their answers are late now */
      if (lv.p[i].used && !lv.p[i].ping && !dht_lookup_awaiting(l, &lv.p[i].to))
        forget(&lv, &lv.p[i].to);
  }
  {
    uint64_t t = now_us(&lv) - t_start;
    size_t n_peers;
    const dht_addr *peers = dht_lookup_peers(l, &n_peers);
    dht_node closest[DHT_K_MAX];
    size_t n_closest = dht_lookup_closest(l, closest, cfg.k);
    char a[DHT_ADDR_STRLEN], hex[DHT_ID_HEXLEN + 1];
    if (json) {
      dht_id_to_hex(&target, hex);
      printf("{\"target\":\"%s\",\"queries\":%zu,\"rounds\":%zu,\"time_s\":%.6f,\"first_peer_s\":", hex,
             dht_lookup_queried_count(l), dht_lookup_rounds(l), (double)t / 1e6);
      if (t_first_peer == UINT64_MAX)
        printf("null");
      else
        printf("%.6f", (double)t_first_peer / 1e6);
      printf(",\"sent\":%" PRIu64 ",\"received\":%" PRIu64 ",\"ignored\":%" PRIu64 ",\"done\":%s,\"peers\":[",
             lv.sent, lv.received, lv.ignored, dht_lookup_done(l) ? "true" : "false");
      for (size_t i = 0; i < n_peers; i++) {
        dht_addr_format(&peers[i], a, sizeof a);
        printf("%s\"%s\"", i ? "," : "", a);
      }
      printf("],\"closest\":[");
      for (size_t i = 0; i < n_closest; i++) {
        dht_id_to_hex(&closest[i].id, hex);
        dht_addr_format(&closest[i].addr, a, sizeof a);
        printf("%s\"%s@%s\"", i ? "," : "", hex, a);
      }
      printf("]}\n");
    } else {
      printf("queries %zu, rounds %zu, time %.3f s, peers %zu, closest %zu, datagrams sent %" PRIu64
             ", received %" PRIu64 "\n",
             dht_lookup_queried_count(l), dht_lookup_rounds(l), (double)t / 1e6, n_peers, n_closest, lv.sent,
             lv.received);
      for (size_t i = 0; i < n_peers; i++) {
        dht_addr_format(&peers[i], a, sizeof a);
        printf("peer %s\n", a);
      }
      for (size_t i = 0; i < n_closest; i++) {
        dht_id_to_hex(&closest[i].id, hex);
        dht_addr_format(&closest[i].addr, a, sizeof a);
        printf("closest %s %s\n", hex, a);
      }
    }
  }
  status = 0;
  goto done;
fail:
  fprintf(stderr, "dhtsim lookup: the lookup failed (socket error or timer buffer full)\n");
done:
  dht_lookup_free(l);
  if (lv.fd > 0)
    close(lv.fd);
  return status;
}
