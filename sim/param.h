/* param.h: the table of scenario parameters (generated from param.def) and
 * the generic operations on it: defaults, key lookup, the checked setter,
 * canonical and display text, the output fingerprint and the `keys` listing.
 * Adding a parameter is one param.def entry, its sim_scenario field and the
 * code that uses it; nothing here or in the readers and writers changes. */
#ifndef SIM_PARAM_H
#define SIM_PARAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "infile.h"
#include "lookup.h"
#include "network.h"
#include "param.def"
#include "routing_table.h"

#define SIM_MS_MAX 3600000.0          /* one hour: the bound of every _ms key */
#define SIM_LOOKUPS_MAX 1000000000u   /* workload.lookups, --lookups and lookups files */
#define SIM_REPLICAS_MAX 10000u

struct sim_scenario;

typedef enum sim_param_type {
  SIM_PT_UINT,     /* plain decimal integer in [imin, imax] */
  SIM_PT_REAL,     /* plain decimal number in [fmin, fmax] */
  SIM_PT_DURATION, /* milliseconds in the file (number in [fmin, fmax]); rounded µs in the uint64_t field */
  SIM_PT_ENUM,     /* one of names[]; the field is an enum whose value indexes names[] */
  SIM_PT_NAME,     /* a one-line string, owned char * (NULL: unset) */
  SIM_PT_PATH,     /* a file path, owned char * (NULL: none), resolved against the scenario's folder */
  SIM_PT_BOOL,     /* true or false; bool field */
} sim_param_type;

enum {
  SIM_PARAM_SWEEP = 1u,    /* may be swept */
  SIM_PARAM_MIN_OPEN = 2u, /* fmin itself is out of range */
  SIM_PARAM_MAX_OPEN = 4u, /* fmax itself is out of range */
  /* Quiet: an output column (runs.csv, summary.csv, summary.json) and a
   * fingerprint line only in scenarios that use the key (sim_param_in_use),
   * so that adding it keeps every older scenario's output bytes and
   * fingerprint. For keys added after the output format settled. */
  SIM_PARAM_QUIET = 8u,
  /* Living (always with QUIET): a key of the living network (churn,
   * maintenance). They are in use together, in every scenario that is
   * living (sim_param_living: one of them differs from its default), so
   * that a living output records every one of them. Not sweepable. */
  SIM_PARAM_LIVING = 16u,
};

typedef enum sim_param_id {
#define SIM_PARAM_ID_(id, ...) SIM_P_##id,
  SIM_PARAM_MAP(SIM_PARAM_ID_)
#undef SIM_PARAM_ID_
  SIM_PARAM_COUNT
} sim_param_id;

typedef struct sim_param {
  const char *key;     /* dotted, as in the file's sweep and the output columns: "latency.sigma" */
  sim_param_type type;
  size_t offset, size; /* of the field in sim_scenario */
  uint64_t idef, imin, imax; /* UINT, ENUM (idef only), BOOL (idef only) */
  double fdef, fmin, fmax;   /* REAL, DURATION (ms) */
  unsigned flags;            /* SIM_PARAM_* */
  const char *unit;          /* "ms", "nodes", ... or "" */
  const char *const *names;  /* ENUM: NULL-terminated, indexed by the field's value */
  const char *default_text;  /* "" or what the default is when not a constant ("lookup.k") */
  const char *doc;           /* one line */
} sim_param;

/* [SIM_PARAM_COUNT], in param.def order. */
extern const sim_param sim_params[SIM_PARAM_COUNT];

/* The key within its section ("sigma" of "latency.sigma"; "seed" of "seed"),
 * and the length of the section's name (0 at the top level). */
const char *sim_param_name(sim_param_id id);
size_t sim_param_section_len(sim_param_id id);

/* The parameter of a dotted key s[0..n) ("lookup.alpha"), or -1. */
int sim_param_find(const char *s, size_t n);

/* The name of an ENUM parameter's value ("pipelined"); "?" when out of range. */
const char *sim_param_enum_name(sim_param_id id, int value);

/* Every field of *sc from its default (strings NULL, no sweep). No allocation. */
void sim_param_defaults(struct sim_scenario *sc);

/* Reads the value text s[0..n) into parameter id of *dst. `plain` says the
 * text was a plain (unquoted) YAML scalar: numbers must be; `dir` resolves a
 * relative PATH (NULL or "." leaves it as written). Returns 0; DHT_EINVAL with
 * "expected ..." (what the key takes, no key, no value) in want; or
 * DHT_ENOMEM. A string field's previous value is freed. */
int sim_param_set(sim_param_id id, const char *s, size_t n, bool plain, const char *dir, struct sim_scenario *dst,
                  char *want, size_t wantlen);

/* What the key takes, as in "expected ..." messages: "an integer from 1 to 64",
 * "a number of milliseconds from 0 to 3600000", "random or full". */
void sim_param_expected(sim_param_id id, char *out, size_t outlen);

/* The canonical text of the value: what identifies it whatever its spelling
 * ("0.1" and "1e-1"; "1" and "1.0004" ms, both 1000 µs). UINT in decimal,
 * DURATION as integer µs, REAL with %.17g (-0 as 0), ENUM by name, BOOL as
 * true/false, strings as they are ("" when unset). Run seeds hash it. */
void sim_param_canon(sim_param_id id, const struct sim_scenario *sc, char *out, size_t outlen);

/* The value as an output column shows it, in the file's unit: UINT decimal,
 * DURATION in ms (as many decimals as needed, at most 3), REAL the shortest
 * text that reads back as the same double, ENUM by name, BOOL true/false,
 * strings as they are ("" when unset). */
void sim_param_format(sim_param_id id, const struct sim_scenario *sc, char *out, size_t outlen);

/* The string of a NAME or PATH parameter (NULL when unset, or for another type). */
const char *sim_param_text(sim_param_id id, const struct sim_scenario *sc);

/* true for ENUM, NAME and PATH: JSON writes the value as a string. */
bool sim_param_is_text(sim_param_id id);
/* false for a NAME or PATH that is unset (JSON null, empty CSV field). */
bool sim_param_is_set(sim_param_id id, const struct sim_scenario *sc);
/* Whether the scenario uses parameter id: always for a key not
 * SIM_PARAM_QUIET; for a quiet one, when its value is not the default (a
 * PATH: when given) or the sweep varies it. */
bool sim_param_in_use(sim_param_id id, const struct sim_scenario *sc);

/* SHA-256 (hex, sim_infile_sha256) of the file each PATH parameter names,
 * indexed by parameter; "" where none. */
typedef struct sim_file_digests {
  char sha256[SIM_PARAM_COUNT][SIM_SHA256_HEX];
} sim_file_digests;

/* Hash of everything that changes the numbers a scenario's runs produce:
 * every parameter's canonical value (a file parameter's: its file's SHA-256
 * from files, never its path), the sweep's axes (keys and values as written)
 * and the --lookups override (0: none). Two scenarios with the same
 * fingerprint produce the same output files. files: sim_inputs_check's. */
uint64_t sim_param_fingerprint(const struct sim_scenario *sc, uint64_t lookups, const sim_file_digests *files);

/* Whether sc is a living network: some SIM_PARAM_LIVING key differs from
 * its default. Only then are those keys' output columns (and the figures of
 * presence LIVING) written: a scenario without them keeps its outputs byte
 * for byte. LIVING keys are not sweepable, so every point of a scenario
 * answers the same. O(keys). */
bool sim_param_living(const struct sim_scenario *sc);

/* `dhtsim keys`: the table of every key (key, type, default, range, unit,
 * sweepable, doc); markdown: the table of docs/scenario-format.md. 0 or DHT_EIO. */
int sim_param_write_keys(FILE *f, bool markdown);

#endif
