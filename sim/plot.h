/* plot.h: `dhtsim plot OUT [--x KEY --y FIGURE ...]`: draws the plots of the
 * output of `dhtsim run --out OUT` (docs/output-format.md) with gnuplot into
 * OUT/plots/.
 *
 * Without --x / --y it draws the presets that fit what the sweep varies (read
 * from summary.json's "sweep"); with them, one plot of the request. Every
 * swept key that neither --x nor --where fixes becomes a group (a curve, a
 * line style or a panel of its own): no plot pools differing points.
 *
 * plot.c reads the CSV files itself, decides the series and panels, and
 * writes for each plot a self-contained gnuplot script OUT/plots/NAME.gp (its
 * data inline, the look from plots/common.gpi) that gnuplot then runs once per
 * format: `gnuplot -e "term='pdf'" OUT/plots/NAME.gp` redraws it by hand.
 * gnuplot is started with an argument vector, never through a shell.
 *
 * The folder of common.gpi: --scripts DIR, else $DHTSIM_PLOTS_DIR, else
 * ../share/dhtsim/plots next to the running executable (an installed dhtsim),
 * else the source tree's plots/ (the compile-time DHTSIM_PLOTS_DIR).
 *
 * stdout: the path of every picture written, one a line. stderr: errors, notes
 * on presets not drawn, and gnuplot's messages when it failed. */
#ifndef SIM_PLOT_H
#define SIM_PLOT_H

/* argc/argv: the arguments after "plot" (argv[0] is the first of them, not a
 * program name). Returns the process exit status: 0 every plot written, 1
 * runtime failure (gnuplot missing or failed, no plot scripts found, a file
 * not writable), 2 bad usage, OUT missing or not a dhtsim output, a request
 * that names an unknown key or figure or cannot be drawn without pooling. */
int sim_plot_main(int argc, char **argv);

#endif
