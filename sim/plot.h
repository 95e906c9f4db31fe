/* plot.h: `dhtsim plot OUTDIR [--scripts DIR] [--format png|svg|both]`: runs
 * the gnuplot scripts of plots/ on the output of `dhtsim run --out OUTDIR`
 * (docs/output-format.md) and writes each plot next to the data, as
 * OUTDIR/<script name>.png and/or .svg.
 *
 * Scripts: every *.gp file of --scripts DIR, else of $DHTSIM_PLOTS_DIR, else of
 * the source tree's plots/ (the compile-time DHTSIM_PLOTS_DIR), in name order;
 * each runs as `gnuplot -d -e "dir='OUTDIR'; term='png'; out='FILE.tmp'" SCRIPT`
 * (no shell), and its output is renamed into place once gnuplot succeeded.
 * A script that exits successfully without writing its output has skipped
 * that plot (its note on stderr is passed through; the shipped scripts skip
 * only when the CSV file has no data rows: a single N, α, K or drop rate
 * still gives a plot, with single points or cells).
 *
 * stdout: the path of every file written, one a line. stderr: errors, and
 * whatever gnuplot printed (its error messages when it failed). */
#ifndef SIM_PLOT_H
#define SIM_PLOT_H

/* argc/argv: the arguments after "plot" (argv[0] is the first of them, not a
 * program name). Returns the process exit status: 0 every plot written (or
 * skipped by its script), 1 runtime failure (gnuplot not in PATH, gnuplot
 * failed on a script, the default scripts folder missing), 2 bad usage, OUTDIR
 * missing or not a dhtsim sweep output, or --scripts / $DHTSIM_PLOTS_DIR not
 * a folder of *.gp scripts. */
int sim_plot_main(int argc, char **argv);

#endif
