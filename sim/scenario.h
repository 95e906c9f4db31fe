/* scenario.h: a validated simulation scenario, read from YAML with libyaml.
 * Every key, its default, range and unit is declared once, in param.def
 * (`dhtsim keys`, docs/scenario-format.md).
 * Errors name file:line:column and what was expected, before any simulation work. */
#ifndef SIM_SCENARIO_H
#define SIM_SCENARIO_H

#include <stdbool.h>
#include <stdint.h>

#include "lookup.h"
#include "network.h"
#include "param.h"

typedef enum sim_latency_model {
  SIM_LATENCY_CONSTANT = 0,
  SIM_LATENCY_UNIFORM = 1,
  SIM_LATENCY_LOGNORMAL = 2,
  SIM_LATENCY_COORDINATES = 3, /* per-node point and access delay: stable per pair (latency.c) */
  SIM_LATENCY_MATRIX = 4,      /* per-node host of an RTT matrix file (latency.c) */
} sim_latency_model;

typedef enum sim_arrival {
  SIM_ARRIVAL_SEQUENTIAL = 0, /* next lookup starts when the previous one finishes */
  SIM_ARRIVAL_POISSON = 1,    /* exponential inter-arrival times at rate_per_s */
} sim_arrival;

typedef enum sim_maintenance {
  SIM_MAINTENANCE_NONE = 0,    /* tables as built at t = 0, never updated */
  SIM_MAINTENANCE_PASSIVE = 1, /* nodes learn from the queries and answers they see (sim/maintain.h) */
  SIM_MAINTENANCE_BEP5 = 2,    /* passive, plus pings of questionable contacts and bucket refresh (BEP 5) */
} sim_maintenance;

typedef enum sim_churn_model {
  SIM_CHURN_NONE = 0,
  SIM_CHURN_EXPONENTIAL = 1,
  SIM_CHURN_WEIBULL = 2,
  SIM_CHURN_LOGNORMAL = 3,
  SIM_CHURN_PARETO = 4,
} sim_churn_model;

typedef enum sim_initial_online {
  SIM_INITIAL_STATIONARY = 0, /* the alternating renewal process in equilibrium at t = 0 */
  SIM_INITIAL_ALL = 1,        /* every node starts a fresh session at t = 0 */
} sim_initial_online;

typedef enum sim_rejoin {
  SIM_REJOIN_SAME = 0, /* a returning node keeps its ID, address and table */
  SIM_REJOIN_NEW = 1,  /* it comes back as a new identity, the old one offline forever (sim/rejoin.h) */
} sim_rejoin;

/* A distribution of churn periods (virtual seconds); the model picks which
 * fields apply (docs/churn.md). */
typedef struct sim_churn_dist {
  sim_churn_model model;
  double mean_s;   /* exponential: mean, s */
  double shape;    /* weibull k; pareto alpha (> 1) */
  double scale_s;  /* weibull lambda, s */
  double median_s; /* lognormal e^mu, s */
  double sigma;    /* lognormal sigma */
  double min_s;    /* pareto x_m, s */
} sim_churn_dist;

/* One timed event of `events:` (docs/churn.md): at at_us of virtual time a
 * parameter changes (SET: one of sim_event_settable's keys) or a fraction of
 * the nodes fails or comes back. A `set:` of several keys is several SET
 * events of the same time, in file order. */
typedef enum sim_event_action {
  SIM_EVENT_SET = 0,    /* param takes value */
  SIM_EVENT_FAIL = 1,   /* each alive node dies with probability fraction (one always survives) */
  SIM_EVENT_REVIVE = 2, /* each dead node comes back with probability fraction */
  SIM_EVENT_PARTITION = 3, /* the ID space splits at fraction: no message crosses (sim.c) */
  SIM_EVENT_HEAL = 4,      /* the partition ends */
  SIM_EVENT_PARTITION_NODES = 5, /* the node set splits: each node on one side with probability fraction (sim.c) */
} sim_event_action;

typedef struct sim_timed_event {
  uint64_t at_us;          /* virtual µs */
  sim_event_action action;
  double fraction;         /* FAIL, REVIVE: in [0, 1]; PARTITION, PARTITION_NODES: in (0, 1) */
  int param;               /* SET: the sim_param_id */
  char *value;             /* SET: owned, the value as written (validated at parse time) */
  bool plain;              /* SET: the value was a plain scalar */
} sim_timed_event;

/* Most events of a scenario (each key of a `set:` counts). */
#define SIM_EVENTS_MAX 1000u
/* Whether parameter id may change mid-run (an event's `set:`): the losses,
 * the latency model's delay, median and sigma, and the Poisson rate; every
 * other key is read once, when the run or a lookup starts. */
bool sim_event_settable(int id);

/* One swept parameter: a scenario key and the values it takes, in file order. */
typedef struct sim_sweep_axis {
  char *key;      /* owned: dotted key as written, e.g. "lookup.alpha" */
  char **values;  /* owned: [n] scalar texts as written, each valid for the key */
  size_t n;       /* >= 1 */
} sim_sweep_axis;

/* The fields of every parameter; their keys, defaults, ranges and docs are in
 * param.def (`dhtsim keys` prints them), nowhere else. */
typedef struct sim_scenario {
  char *path;     /* owned; as given */
  char *name;     /* owned; `name:` or the file's base name without .yaml */
  uint64_t seed;

  struct {
    uint64_t nodes;          /* 2..SIM_NODES_MAX */
    sim_tables_kind tables;
    char *topology;          /* owned, NULL if none; relative paths resolve against the scenario's folder */
    sim_maintenance maintenance;
  } network;

  struct {
    sim_latency_model model;
    uint64_t delay_us;       /* constant: one-way delay, µs */
    uint64_t min_us, max_us; /* uniform bounds, µs */
    uint64_t median_us;      /* lognormal median, µs */
    double sigma;            /* lognormal shape */
    double slow_fraction;    /* fraction of slow nodes */
    double slow_multiplier;  /* their delay factor */
    uint64_t coord_scale_us; /* coordinates: disk radius, RTT µs */
    uint64_t access_us;      /* coordinates: mean access delay (height), RTT µs */
    char *matrix;            /* owned, NULL if none: the RTT matrix file, resolved like topology */
    uint64_t jitter_us;      /* coordinates, matrix: one-way extra drawn in [0, jitter_us]; 0: no draw */
  } latency;

  struct {
    double request_drop;  /* P(request lost) */
    double response_drop; /* P(response lost) */
    double dead_fraction; /* fraction of nodes that never answer (< 1) */
    double unreachable_fraction; /* fraction of nodes no query reaches (NAT); they still run lookups */
  } loss;

  struct {
    dht_lookup_strategy strategy;
    unsigned alpha;               /* 1..DHT_ALPHA_MAX; 0 until resolved to the strategy's default */
    unsigned k;                   /* 1..DHT_K_MAX */
    uint64_t timeout_us;          /* per query, µs; > 0 (0 until resolved, like alpha) */
    uint64_t short_timeout_us;    /* libtorrent's slow-query mark, µs; 0: never */
    uint64_t tick_us;             /* libtorrent's rpc tick period, µs; 0: exact short timeouts */
    unsigned candidate_cap;       /* libtorrent's / jech's candidate list cap (0 until resolved, like alpha) */
    unsigned retries;             /* jech: queries to a silent node before it is dead (0 until resolved) */
    unsigned beta;                /* libp2p: closest peers whose answers end the walk (0 until resolved) */
    bool restrict_search_ips;     /* libtorrent: one learned node per /24 (/64) */
  } lookup;

  struct {
    uint64_t lookups;        /* giving it with lookups_file is an error */
    uint32_t planted_peers;  /* peers planted per target; 0 = random targets, no peers */
    uint32_t plant_at;       /* closest nodes holding them; lookup.k when not given (0 in a base
                                scenario whose sweep varies lookup.k: each point then uses its own K) */
    bool values_with_nodes;  /* a node holding peers also returns its closest nodes */
    sim_arrival arrival;
    double rate_per_s;       /* poisson arrivals per virtual second */
    char *lookups_file;      /* owned, NULL if none; resolved like topology */
  } workload;

  struct {
    sim_churn_dist session;  /* online periods; model NONE: no churn */
    sim_churn_dist downtime; /* offline periods */
    sim_initial_online initial_online;
    double warmup_s;         /* virtual s before the first lookup starts */
    sim_rejoin rejoin;
    uint64_t spares;         /* rejoin new: new identities built (0: sim_rejoin_spares sizes them) */
  } churn;

  uint32_t replicas;         /* runs per point */
  sim_timed_event *events;   /* owned, [n_events] in file order (shared by points, like the strings) */
  size_t n_events;
  sim_sweep_axis *sweep;     /* owned, [n_sweep] in file order: the first varies slowest */
  size_t n_sweep;            /* 0: a single point, the scenario itself */
} sim_scenario;

/* Estimated peak bytes of a run of this (point) scenario: its network plus
 * the per-lookup results (lookups overrides workload.lookups when > 0).
 * Parts given by a topology or lookups file count 0: their loaders check
 * themselves. Saturates at UINT64_MAX. */
uint64_t sim_scenario_estimate_bytes(const sim_scenario *sc, uint64_t lookups);
/* The same with what the files hold, once read (sim/inputs.c): the loaded
 * topology's bytes and the lookups file's count (each 0: not known). */
uint64_t sim_scenario_estimate_known(const sim_scenario *sc, uint64_t lookups, uint64_t topology_bytes,
                                     uint64_t file_lookups);

/* Fills every field with its default (param.def; no allocation). */
void sim_scenario_defaults(sim_scenario *sc);

/* Parses and validates the YAML file at path into *sc (defaults for absent keys).
 * On failure returns DHT_EINVAL / DHT_ENOENT / DHT_ETOOBIG / DHT_ENOMEM, writes a
 * one-line message "path:line:column: what was expected" (or "path: ..." when no
 * position applies) into err, and leaves nothing allocated in *sc. */
int sim_scenario_load(sim_scenario *sc, const char *path, char *err, size_t errlen);
/* Same, from a memory buffer; `path` is used only in messages and to resolve relative files. */
int sim_scenario_parse(sim_scenario *sc, const char *path, const char *data, size_t len, char *err, size_t errlen);
/* Frees the owned strings; *sc is then defaults-initialised. */
void sim_scenario_clear(sim_scenario *sc);

/* Number of points of the sweep: the product of the axes' sizes (1 without
 * sweep). Never 0; bounded at parse time (<= SIM_POINTS_MAX). */
#define SIM_POINTS_MAX 1000000u
uint64_t sim_scenario_point_count(const sim_scenario *sc);

/* Point `index` (< point_count) as a scenario: *out is base with the point's
 * values applied, validated like a parsed file (cross-checks such as
 * min_ms <= max_ms, and the memory estimate). out->sweep is NULL/0; all other
 * strings are shared with base (transfer none: never sim_scenario_clear *out,
 * and do not let it outlive base). Errors: negative code and
 * "path: point N (lookup.alpha=3 lookup.k=8): message" in err. */
int sim_scenario_point(const sim_scenario *base, uint64_t index, sim_scenario *out, char *err, size_t errlen);

/* "lookup.alpha=3 lookup.k=8": the point's assignments in axis order, values
 * as written; "" without sweep. Returns the length, or DHT_ERANGE if n is too small. */
int sim_scenario_point_label(const sim_scenario *sc, uint64_t index, char *buf, size_t n);

/* The seed of one run. Without a sweep, replica 0 runs with sc->seed itself.
 * Otherwise it is derived from sc->seed, the point's canonical assignments
 * (sorted by key, values in canonical form: "0.05" and "5e-2" are the same
 * point) and the replica number, never from the point's index: adding a point
 * or a replica never changes the others' numbers. */
uint64_t sim_scenario_run_seed(const sim_scenario *sc, uint64_t index, uint32_t replica);

/* Whether point p belongs to shard index of count (count 0 or 1: every point). */
bool sim_scenario_point_selected(uint64_t p, uint32_t shard_index, uint32_t shard_count);

/* ---- internal: the checks between keys, shared by the parser (scenario.c)
 * and the sweep expansion (points.c) ---- */

typedef struct sim__mark {
  size_t index, line, column; /* 0-based, as libyaml counts */
} sim__mark;

typedef struct sim__check {
  const char *path;                      /* for messages */
  const char *point;                     /* NULL at parse time; "point 3 (lookup.alpha=4)" for a point:
                                            messages then carry no position */
  char *err;
  size_t errlen;
  bool seen[SIM_PARAM_COUNT];            /* given in a section (parse time) */
  bool swept[SIM_PARAM_COUNT];           /* under sweep */
  sim__mark key_mark[SIM_PARAM_COUNT], val_mark[SIM_PARAM_COUNT], sweep_mark[SIM_PARAM_COUNT];
} sim__check;

/* The cross-checks (min_ms <= max_ms, exclusive keys, swept and given) and
 * the memory check of *sc, which they may complete (plant_at). 0 or a
 * negative code with the message in ck->err. */
int sim__scenario_check(sim__check *ck, sim_scenario *sc);

#endif
