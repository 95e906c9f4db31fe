# queries-vs-n.gp: mean get_peers queries per lookup against the network size
# N (log scale), with 95 % CI error bars and the log2(N) reference curve; one
# line per combination of the other point parameters that vary (e.g. per (α, K)).
# Data: summary.csv (network.nodes, queries_mean, queries_mean_ci95).
#   gnuplot -e "dir='OUT'; term='png'" plots/queries-vs-n.gp   # writes OUT/queries-vs-n.png
# With a single N, each line is a single point.

NAME = 'queries-vs-n'
here = ARG0; i_ = strlen(here); while (i_ > 0 && here[i_:i_] ne '/') { i_ = i_ - 1 }
here = (i_ > 0) ? here[1:i_] : './'
load here.'common.gpi'

if (POINTS == 0) { print NAME.': skipped: summary.csv has no rows'; exit }

groups = csv('groups', SUMMARY, PARAMS.' -v exclude=network.nodes')
ng = words(groups)
# A single line is labelled with the point's α and K.
glabel(g) = (g eq 'all') ? label(ALPHA_K) : label(g)
# Lines side by side around each N (×0.94 .. ×1.06), so that error bars do not overlap.
dodge(i) = (ng > 1) ? 1.0 + 0.12 * ((i - 1.0) / (ng - 1) - 0.5) : 1.0

r = csv('range', SUMMARY, '-v cols=network.nodes')
nmin = real(word(r, 1)); nmax = real(word(r, 2))
nvals = words(csv('distinct', SUMMARY, '-v cols=network.nodes'))

eval termcmd(900, 600)
set output out
set title sprintf("Queries per lookup vs network size\n%s; %s", subtitle, ci_note)
set xlabel 'network size N (nodes, log scale)'
set ylabel 'get_peers queries per lookup (mean)'
set logscale x
set xrange [nmin / 1.6 : nmax * 1.6]
if (nvals <= 10) { eval 'set xtics ('.csv('tics', SUMMARY, '-v cols=network.nodes -v at=value').')' }
set yrange [0:*]
eval keycmd(ng + 1, 'top left')
set bars 1.5

plot for [i=1:ng] src(SUMMARY, '-v cols=network.nodes,queries_mean,queries_mean_ci95 -v sort=network.nodes '.where(word(groups, i))) \
       using ($1 * dodge(i)):2:3 with yerrorlines lt i title glabel(word(groups, i)), \
     log(x) / log(2) with lines lc rgb '#555555' lw 1.5 dt 2 title 'log₂ N (reference)'
