/* sweep.h: runs every point x replica of a scenario on a thread pool, writes
 * each finished point to DIR/parts/ (so an interrupted or sharded run keeps
 * what it finished), and assembles the output files from the parts in point
 * order: byte-identical whatever the number of threads or shards. */
#ifndef SIM_SWEEP_H
#define SIM_SWEEP_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "scenario.h"
#include "record.h"
#include "stats.h"

typedef void (*sim_sweep_progress_fn)(void *user, uint64_t done, uint64_t total);

typedef struct sim_sweep_options {
  unsigned jobs;              /* worker threads; 0: one per processor */
  uint64_t lookups;           /* overrides workload.lookups when > 0 */
  uint64_t bin_us;            /* timeline.csv bin width, virtual µs; 0: SIM_BIN_S_DEFAULT */
  uint32_t shard_index;       /* run the points whose index % shard_count == shard_index */
  uint32_t shard_count;       /* 0 or 1: every point */
  const char *out_dir;        /* NULL: no files, stdout only */
  bool resume;                /* skip the points already finished in out_dir */
  bool force;                 /* write into an out_dir holding other things than an output of this scenario */
  volatile sig_atomic_t *stop; /* set asynchronously to stop early; may be NULL */
  sim_sweep_progress_fn runs_progress; /* runs finished / runs to do (multi-run sweeps) */
  sim_progress_fn lookups_progress;    /* lookups finished / total (single-run sweeps) */
  sim_build_fn build_progress;         /* the network being built (single-run sweeps) */
  void *progress_user;
  /* SHA-256 of the files the scenario reads (sim_inputs_check's): the
   * fingerprint's. NULL: the sweep reads the files for them. */
  const sim_file_digests *digests;
  /* --trace: the lookups of every run to trace into out_dir/trace.jsonl
   * (trace.h; needs out_dir, no shard, no resume); NULL: none. */
  const struct sim_trace_sel *trace;
} sim_sweep_options;

/* What a sweep produced, for stdout. */
typedef struct sim_sweep_report {
  uint64_t points;          /* points of the scenario */
  uint64_t selected;        /* points of this shard */
  uint64_t done;            /* points finished (including resumed ones) */
  uint64_t resumed;         /* points found finished in out_dir and skipped */
  bool interrupted;         /* stopped by *stop before every selected point finished */
  sim_record **records;     /* [points]: the numbers of each finished point, else NULL (owned) */
  bool have_single;         /* single point, single replica: `single` holds its run's statistics */
  sim_summary single;
  char *notes;              /* owned, NULL if none: lines for stderr (parts of out_dir that did not
                               match the manifest, whose points ran again) */
} sim_sweep_report;

/* Runs the sweep. out_dir is locked for the whole run (outfile.h: a second
 * dhtsim there gets DHT_EEXIST before anything is written); its old final
 * files are removed before the new manifest is written, so the folder holds
 * either the old complete output or the new (partial) one. The manifest
 * lists each finished part's size and SHA-256; --resume runs a point again
 * when any of its parts does not match (notes says which). Errors: negative dht_ code and a one-line message in err
 * (the report then says how far it got; it must still be cleared). */
int sim_sweep_run(const sim_scenario *sc, const sim_sweep_options *opt, sim_sweep_report *rep, char *err,
                  size_t errlen);
void sim_sweep_report_clear(sim_sweep_report *rep);

/* Writes summary.csv / summary.json content for the finished points to f,
 * rendered from their records. */
int sim_sweep_write_summary_csv(FILE *f, const sim_scenario *sc, const sim_sweep_report *rep);
int sim_sweep_write_summary_json(FILE *f, const sim_scenario *sc, const sim_sweep_report *rep);
/* Compact table: one line per finished point, from its record. */
int sim_sweep_write_table(FILE *f, const sim_scenario *sc, const sim_sweep_report *rep);

/* Joins the parts of shard output folders into out_dir (which may be one of
 * them): the same files an unsharded run writes. Every point must be present
 * in some folder, every part must match its manifest entry (a damaged one is
 * refused, named), and all folders must come from the same scenario. */
int sim_sweep_merge(const char *out_dir, const char *const *dirs, size_t n_dirs, char *err, size_t errlen);

#endif
