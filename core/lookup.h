/* lookup.h: the iterative get_peers lookup (BEP 5 / Kademlia) as a sans-I/O
 * state machine. The driver seeds it, asks which nodes to query, and feeds back
 * each answer or failure by address. No I/O, no clock, no randomness. */
#ifndef DHT_LOOKUP_H
#define DHT_LOOKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "id.h"
#include "rtt_filter.h"

#define DHT_ALPHA_DEFAULT 3
#define DHT_ALPHA_MAX 64
#define DHT_TOKEN_MAX 64 /* longest token kept; longer ones are rejected as DHT_EINVAL */
#define DHT_CANDIDATE_CAP_MAX 256 /* longest candidate window of a windowed strategy */
/* Queries in flight at once, whatever the strategy (libtorrent's branch factor
 * grows past alpha by one per slow query): bounds the timer buffer. */
#define DHT_IN_FLIGHT_MAX 128

typedef enum dht_lookup_strategy {
  /* The seed's algorithm exactly: a batch of up to alpha closest unqueried
   * candidates; the next batch only when every query of the batch has answered
   * or failed; the batch's answers applied in batch order; the convergence test
   * before each batch. */
  DHT_LOOKUP_ROUNDS = 0,
  /* Up to alpha queries in flight: each answer is applied on arrival and, unless
   * converged (in-flight queries count as not responded), the next closest
   * unqueried candidate is issued at once. */
  DHT_LOOKUP_PIPELINED = 1,
  /* libtorrent's traversal_algorithm (docs/strategies.md): the candidates are
   * the candidate_cap closest ever seen (farther ones dropped, their queries
   * abandoned); up to alpha (the branch factor) queries outstanding above the
   * k-th responded node; a query silent for short_timeout_us is "slow" and
   * widens the branch factor by one while it is still awaited; its late answer
   * is used and narrows it back; done when the k closest have answered and
   * nothing above them is outstanding, or when nothing at all is in flight. */
  DHT_LOOKUP_LIBTORRENT = 2,
  /* jech/dht's search (dht.c): the candidate_cap (14) closest ever seen; a
   * step sends to up to alpha (4) eligible nodes, closest first, and then
   * comes back every 3/2 timeout_us; each answer sends one query, to the
   * farthest eligible node. Eligible: never answered, fewer than `retries`
   * queries, none in the last timeout_us (10 s). A node queried `retries`
   * times without an answer is dead; answers are taken whenever they come.
   * Done, at a step, when the k closest live nodes have all answered. */
  DHT_LOOKUP_JECH = 3,
  /* bittorrent-dht (k-rpc's closest): up to alpha (16) in flight, to any
   * unqueried node among the candidate_cap (20) closest heard of (responders
   * and the nodes they returned; the routing-table seeds only until the first
   * answer); timed-out nodes stay among them; late answers are dropped; done
   * when nothing is in flight and nothing there is left to query. */
  DHT_LOOKUP_BITTORRENT_DHT = 4,
  /* aria2 (DHTAbstractNodeLookupTask): the candidate_cap (8) closest entries,
   * a timed-out one removed; up to alpha (3) in flight, closest unqueried
   * first; done when nothing is in flight. */
  DHT_LOOKUP_ARIA2 = 5,
  /* go-libp2p-kad-dht (query.go): up to alpha (10) in flight to the closest
   * heard-of peers; a failed one is unreachable (out of the set); the walk
   * stops when the beta (3) closest reachable peers have answered, or nothing
   * is left; the queries still in flight are cancelled and a follow-up queries
   * every peer among the candidate_cap (20) closest reachable that has not
   * answered, all at once; done when every follow-up query has completed. */
  DHT_LOOKUP_LIBP2P = 6,
  /* mldht's PeerLookupTask (docs/strategies.md): every candidate kept, closest
   * first; up to alpha (10) calls unanswered, where a call silent past its
   * stall timeout (from the rtt filter) frees its slot (unless fewer than a
   * third of the calls sent were answered); only the closest eligible
   * candidate may go, and only while RequestCandidateEvaluator allows it;
   * stalled or timed-out nodes may be sent again when enough nodes returned
   * them; done when no call is unanswered and no candidate is left or the
   * termination precondition (nothing closer than the k-th answered, and
   * stabilised) holds. Hard timeout timeout_us (10 s). */
  DHT_LOOKUP_MLDHT = 7,
} dht_lookup_strategy;

typedef struct dht_lookup_config {
  unsigned alpha;               /* parallel queries, 1..DHT_ALPHA_MAX */
  unsigned k;                   /* closest nodes tracked / returned, 1..DHT_K_MAX */
  dht_lookup_strategy strategy;
  /* Per-query timeout, armed as a timer (dht_lookup_timers). 0: no timers; the
   * caller reports failures itself with dht_lookup_failed. */
  uint64_t timeout_us;
  /* LIBTORRENT: a query silent this long is slow (0: never; must be below
   * timeout_us to matter). Ignored by the other strategies. */
  uint64_t short_timeout_us;
  /* LIBTORRENT: period of rpc_manager::tick, the only place libtorrent
   * notices short timeouts (rpc_manager.cpp). A query becomes slow at the
   * first tick at least short_timeout_us after it was sent, i.e. 1-2 s after.
   * A lookup's first tick is at the next multiple of tick_us of the driver's
   * clock (every node's tick started at time 0); a tick comes tick_us after
   * the previous one, or sooner (never sooner than 200 ms) when a slow
   * query's hard timeout is due, as tick()'s return value says. Hard timeouts
   * stay exact per-query timers. 0: each query is slow exactly
   * short_timeout_us after it was sent (a timer per query). */
  uint64_t tick_us;
  /* Windowed strategies: how many of the closest candidates ever seen are
   * kept, 1..DHT_CANDIDATE_CAP_MAX; LIBP2P: its K, the top the follow-up
   * completes (1..DHT_IN_FLIGHT_MAX; its set itself keeps the
   * DHT_CANDIDATE_CAP_MAX closest reachable). Ignored by ROUNDS, PIPELINED. */
  unsigned candidate_cap;
  /* JECH: queries to a silent node before it is dead, 1..255. */
  unsigned retries;
  /* LIBP2P: the walk ends when the beta closest reachable peers answered. */
  unsigned beta;
  /* LIBTORRENT: dht_restrict_search_ips, one node per IPv4 /24 (IPv6 /64)
   * among the nodes learned in a search (the seeds are exempt). */
  bool restrict_search_ips;
  /* MLDHT: the querying node's RTT histogram, fed with the round trips of the
   * lookup's answers from learned nodes and read for every call's stall
   * timeout (transfer none: the driver owns it and keeps it alive while the
   * lookup lives; several lookups may share it). NULL: the lookup keeps its
   * own, starting empty. */
  dht_rtt_filter *rtt;
  /* Routing-table nodes a lookup starts from (the driver's business; core
   * takes what dht_lookup_seed gives): the client's own count; 0: k. */
  unsigned seeds;
} dht_lookup_config;

/* The defaults of a strategy's source client (docs/strategies.md): alpha, k,
 * timeout_us and the strategy's own knobs. Returns DHT_EINVAL for an unknown
 * strategy (cfg untouched). */
int dht_lookup_config_defaults(dht_lookup_config *cfg, dht_lookup_strategy s);

/* A timer the lookup wants: call dht_lookup_tick(l, at_us, id) at virtual time
 * at_us. query is the index, in the output of the dht_lookup_next call that
 * armed it, of the query it belongs to (so a driver can schedule it right after
 * sending that query), or UINT32_MAX. */
typedef struct dht_lookup_timer {
  uint64_t at_us;
  uint64_t id;
  uint32_t query;
} dht_lookup_timer;

/* A get_peers answer as the driver received it (all transfer none; copied). */
typedef struct dht_lookup_reply {
  const uint8_t *token;   /* may be NULL when token_len == 0 */
  size_t token_len;       /* <= DHT_TOKEN_MAX */
  const dht_addr *peers;  /* values */
  size_t n_peers;
  const dht_node *nodes;  /* closer nodes */
  size_t n_nodes;
} dht_lookup_reply;

typedef struct dht_lookup dht_lookup;

/* What a lookup tells an observer (dht_lookup_set_observer): a query given
 * up as failed, or one of its strategy's decisions. For a trace; no result
 * depends on it. */
typedef enum dht_lookup_note {
  DHT_NOTE_FAILED = 1, /* a query failed: its timer expired or the driver called dht_lookup_failed */
  DHT_NOTE_SLOW,       /* LIBTORRENT: a query passed short_timeout_us; the branch factor widens by one */
  DHT_NOTE_ABANDON,    /* LIBTORRENT, LIBP2P: an awaited node fell out of the window; its query no longer counts */
  DHT_NOTE_RETRY,      /* JECH, MLDHT: a query to a node already queried without an answer */
  DHT_NOTE_STEP,       /* JECH: a search step (up to alpha sends) */
  DHT_NOTE_FINISH,     /* JECH: a step found the k closest live nodes answered: the search ends */
  DHT_NOTE_CANCEL,     /* LIBP2P: a walk query cancelled as the follow-up starts */
  DHT_NOTE_FOLLOWUP,   /* LIBP2P: the walk is over; the follow-up starts */
  DHT_NOTE_STALL,      /* MLDHT: a call passed its stall timeout and frees its slot */
  DHT_NOTE_EVICT,      /* ARIA2, LIBP2P: a failed node leaves the window */
} dht_lookup_note;
#define DHT_NOTE_COUNT 11 /* one past the last */

/* One note. node: the node it is about (transfer none, valid during the
 * call), or NULL (STEP, FINISH, FOLLOWUP). in_flight: the lookup's count
 * right after it. now_us: the lookup's clock. */
typedef struct dht_lookup_event {
  dht_lookup_note note;
  const dht_node *node;
  unsigned in_flight;
  uint64_t now_us;
} dht_lookup_event;

/* Called synchronously from inside the call that made the note; it must not
 * call back into the lookup. */
typedef void (*dht_lookup_observer)(void *user, const dht_lookup_event *ev);

/* Sets (fn != NULL) or clears the lookup's observer. Unset, a note costs one
 * test of a pointer. */
void dht_lookup_set_observer(dht_lookup *l, dht_lookup_observer fn, void *user);
/* The note's name as a trace writes it ("slow", "retry"...), or NULL. */
const char *dht_lookup_note_name(dht_lookup_note n);

/* target: the infohash. local_id: our own ID (nodes with it are never
 * candidates), or NULL. Returns NULL on bad config or allocation failure.
 * transfer full: free with dht_lookup_free. */
dht_lookup *dht_lookup_new(const dht_id *target, const dht_id *local_id,
                           const dht_lookup_config *cfg);
void dht_lookup_free(dht_lookup *l);

/* Tells the lookup the current virtual time (µs, never decreasing): the
 * timers armed by the calls that follow count from it. Without it time is 0. */
void dht_lookup_clock(dht_lookup *l, uint64_t now_us);

/* Drains the timers armed since the last call (in the order they were armed)
 * into out; returns how many (at most max; call again while it returns max).
 * A driver drains after every call that can arm one (next, tick). At most
 * 2 * DHT_IN_FLIGHT_MAX are kept undrained: dht_lookup_next sends nothing that
 * would not fit. */
size_t dht_lookup_timers(dht_lookup *l, dht_lookup_timer *out, size_t max);

/* Timer id is due at now_us (sets the clock). Returns 0 when the timer no
 * longer matters (its query answered or already failed), DHT_LOOKUP_TIMED_OUT
 * when a query has now failed, DHT_LOOKUP_SLOW when a query became slow (still
 * awaited), or DHT_ENOMEM (state unchanged: call again). After a positive
 * return, call dht_lookup_next. */
#define DHT_LOOKUP_TIMED_OUT 1
#define DHT_LOOKUP_SLOW 2
/* JECH: a search step is due (or the search has ended); LIBTORRENT (tick_us >
 * 0): an rpc tick passed that made nothing slow. */
#define DHT_LOOKUP_STEP 3
int dht_lookup_tick(dht_lookup *l, uint64_t now_us, uint64_t id);

/* Whether an answer from addr would be taken now (a query to it is awaited). */
bool dht_lookup_awaiting(const dht_lookup *l, const dht_addr *from);

/* Adds initial candidates (e.g. dht_rt_closest(rt, target, k)). Duplicates
 * by address and the local ID are skipped. Returns 0 or DHT_ENOMEM. */
int dht_lookup_seed(dht_lookup *l, const dht_node *nodes, size_t n);

/* The nodes to query now: writes up to max of them into out, marks them
 * queried/in flight and returns how many (0 when nothing is to be sent now).
 * Call after seeding and after every reply/failure. Never returns the local
 * node, never an address twice, never lets more than alpha be in flight. */
size_t dht_lookup_next(dht_lookup *l, dht_node *out, size_t max);

/* An answer from an in-flight query. DHT_ENOENT if no query to that address is
 * in flight (a late, duplicate or unsolicited answer: ignored), DHT_EINVAL for
 * a malformed reply (token too long), DHT_ENOMEM (state unchanged). */
int dht_lookup_reply_from(dht_lookup *l, const dht_addr *from, const dht_lookup_reply *r);
/* The query to that address timed out or errored. DHT_ENOENT if not in flight. */
int dht_lookup_failed(dht_lookup *l, const dht_addr *from);

/* True once nothing more will be sent and the result is final: for ROUNDS and
 * PIPELINED no query is then in flight; LIBTORRENT may stop with queries below
 * its k closest still outstanding (their answers are then ignored). */
bool dht_lookup_done(const dht_lookup *l);
unsigned dht_lookup_in_flight(const dht_lookup *l);

/* Results; valid at any time, final once done. Pointers are transfer none and
 * valid until the next call that changes the lookup. */
size_t dht_lookup_queried_count(const dht_lookup *l);
/* Batches issued, in every strategy: the dht_lookup_next calls that sent at
 * least one query (a batch is what one decision sends together; in ROUNDS,
 * the seed's rounds). With alpha = 1 it is the number of queries. */
size_t dht_lookup_rounds(const dht_lookup *l);
/* The depth of the longest chain of queries each sent to a node first learnt
 * from the answer of the previous one (a routing-table seed is depth 1): the
 * largest hop queried. hops <= rounds <= queries. */
size_t dht_lookup_hops(const dht_lookup *l);
/* A number that changes whenever the result changes (a node enters the k
 * closest that responded, or a new peer is added), and only then: a driver
 * compares it before and after an answer to time the last useful one. ROUNDS
 * applies a batch's answers when its last one arrives, so that is when they
 * count. */
uint64_t dht_lookup_result_version(const dht_lookup *l);
/* Peers, deduplicated by address, in first-seen order. */
const dht_addr *dht_lookup_peers(const dht_lookup *l, size_t *n);
/* Up to k closest nodes that responded, sorted by XOR distance to target. Returns how many. */
size_t dht_lookup_closest(const dht_lookup *l, dht_node *out, size_t max);
/* Tokens keyed by host:port with their node, in the order answers were applied. */
size_t dht_lookup_token_count(const dht_lookup *l);
/* Entry i < token_count: node and token (transfer none). */
int dht_lookup_token_at(const dht_lookup *l, size_t i, dht_node *node,
                        const uint8_t **token, size_t *token_len);
/* Token for an address, or DHT_ENOENT. */
int dht_lookup_token_for(const dht_lookup *l, const dht_addr *addr,
                         const uint8_t **token, size_t *token_len);

#endif
