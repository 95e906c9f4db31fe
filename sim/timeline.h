/* timeline.h: statistics over virtual time (issue #14): timeline.csv, one row
 * per bin of --bin-s virtual seconds of every run, its columns declared once
 * (sim_timeline_columns). Formats in docs/output-format.md. */
#ifndef SIM_TIMELINE_H
#define SIM_TIMELINE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "param.h"
#include "scenario.h"
#include "sim.h"

/* Default and bounds of --bin-s (virtual seconds). */
#define SIM_BIN_S_DEFAULT 60.0
#define SIM_BIN_S_MIN 0.001
#define SIM_BIN_S_MAX 1e9
/* Most samples of the network (online_fraction, stale_fraction) a run takes:
 * one per bin while lookups remain; later bins have no sample. */
#define SIM_TIMELINE_SAMPLES_MAX 100000u

/* One column of timeline.csv after the point, replica and swept keys. */
typedef struct sim_timeline_column {
  const char *name;
  const char *unit; /* "" when none */
  const char *doc;  /* one line, for docs/output-format.md */
} sim_timeline_column;

/* [sim_timeline_column_count] in output order. */
extern const sim_timeline_column sim_timeline_columns[];
extern const size_t sim_timeline_column_count;

/* timeline.csv's header: `point,replica`, the swept keys, the columns. 0 or DHT_EIO. */
int sim_write_timeline_header(FILE *f, const char *const *keys, size_t n);
/* The rows of one run: for each bin [i bin_us, (i+1) bin_us) that holds a
 * lookup's start or a network sample, in time order (a bin with neither has
 * no row). O(lookups + samples), no allocation beyond the row prefix. 0,
 * DHT_EIO or DHT_ENOMEM. */
int sim_write_timeline_rows(FILE *f, uint64_t point, uint32_t replica, const sim_scenario *pt,
                            const sim_param_id *swept, size_t n, const sim_results *res);

#endif
