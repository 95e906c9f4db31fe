/* record.h: the numbers of one finished point, which summary.csv,
 * summary.json and the sweep's stdout table are rendered from: its index and
 * label, the text of every parameter column, and every figure aggregated over
 * its replicas. A sweep keeps one record per finished point and writes it to
 * DIR/parts/point-N.rec, exactly (hex floats), so that a resumed or merged
 * point renders the same bytes as one computed now, without its scenario. */
#ifndef SIM_RECORD_H
#define SIM_RECORD_H

#include <stdint.h>
#include <stdio.h>

#include "param.h"
#include "stats.h"

typedef struct sim_record {
  uint64_t point;
  const char *label;                  /* into text: "lookup.alpha=3 lookup.k=8", "" without sweep */
  const char *param[SIM_PARAM_COUNT]; /* into text: sim_param_format's text, NULL when unset */
  sim_agg agg[SIM_FIG_COUNT];
  char *text; /* owned: the strings above, one allocation */
} sim_record;

/* A new record (g_free'd by sim_record_free) of point `point`: label, the
 * parameter columns of cols (see sim_output_params) and agg. NULL when out of memory. */
sim_record *sim_record_new(uint64_t point, const char *label, const sim_scenario *cols,
                           const sim_agg agg[SIM_FIG_COUNT]);
void sim_record_free(sim_record *r);

/* The DIR/parts/point-N.rec text (docs/output-format.md, "Parts"). 0 or DHT_EIO. */
int sim_record_write(FILE *f, const sim_record *r);
/* Reads that text (data[0..len)) back into a new record; `point` is the index
 * it must hold. NULL with DHT_EINVAL ("line L: expected ...") or DHT_ENOMEM
 * in *rc and a message in err. */
sim_record *sim_record_parse(const char *data, size_t len, uint64_t point, int *rc, char *err, size_t errlen);

/* summary.csv: `point,label,<every parameter shown>,<each figure F shown: F,F_ci95>`. 0 or DHT_EIO. */
int sim_record_write_summary_header(FILE *f, const sim_columns *shown);
int sim_record_write_summary_row(FILE *f, const sim_record *r, const sim_columns *shown);
/* One element of summary.json's "points" array (no trailing comma or newline). */
int sim_record_write_json(FILE *f, const sim_record *r, const sim_columns *shown);

#endif
