# heatmap-time.gp: heat map of the mean lookup time to converge (ms) over
# α × K, each cell labelled with its value (± 95 % CI half-width when the grid
# is small), one panel per value of the other swept parameters (e.g. per N).
# Data: summary.csv (lookup.alpha, lookup.k, time_ms_mean, time_ms_mean_ci95).
#   gnuplot -e "dir='OUT'; term='png'" plots/heatmap-time.gp   # writes OUT/heatmap-time.png
# A single α or K gives a single column or row of cells.

NAME = 'heatmap-time'
here = ARG0; i_ = strlen(here); while (i_ > 0 && here[i_:i_] ne '/') { i_ = i_ - 1 }
here = (i_ > 0) ? here[1:i_] : './'
load here.'common.gpi'

VAL = 'time_ms_mean'
WHAT = 'Mean lookup time'
CBLABEL = 'lookup time to converge (ms, mean)'
UNIT = ' ms'
load here.'heatmap.gpi'
