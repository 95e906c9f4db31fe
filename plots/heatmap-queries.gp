# heatmap-queries.gp: heat map of the mean get_peers queries per lookup over
# α × K, each cell labelled with its value (± 95 % CI half-width when the grid
# is small), one panel per value of the other swept parameters (e.g. per N).
# Data: summary.csv (lookup.alpha, lookup.k, queries_mean, queries_mean_ci95).
#   gnuplot -e "dir='OUT'; term='png'" plots/heatmap-queries.gp   # writes OUT/heatmap-queries.png
# A single α or K gives a single column or row of cells.

NAME = 'heatmap-queries'
here = ARG0; i_ = strlen(here); while (i_ > 0 && here[i_:i_] ne '/') { i_ = i_ - 1 }
here = (i_ > 0) ? here[1:i_] : './'
load here.'common.gpi'

VAL = 'queries_mean'
WHAT = 'Mean queries per lookup'
CBLABEL = 'get_peers queries per lookup (mean)'
UNIT = ''
load here.'heatmap.gpi'
