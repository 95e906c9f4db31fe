# rounds-histogram.gp: distribution of rounds per lookup (batches for the
# rounds strategy, hop depth for pipelined) as the fraction of lookups, one
# bar series per strategy and per α when several, side by side, pooled over
# the other swept parameters (replicas, N, K, request drop, ...), as the title
# says.
# Data: lookups.csv (rounds, and lookup.strategy, lookup.alpha when swept).
#   gnuplot -e "dir='OUT'; term='png'" plots/rounds-histogram.gp   # writes OUT/rounds-histogram.png
# With a single strategy and α, a single series.

NAME = 'rounds-histogram'
here = ARG0; i_ = strlen(here); while (i_ > 0 && here[i_:i_] ne '/') { i_ = i_ - 1 }
here = (i_ > 0) ? here[1:i_] : './'
load here.'common.gpi'

nl = int(csv('count', LOOKUPS, ''))
if (nl == 0) { print NAME.': skipped: lookups.csv has no rows'; exit }

groups = csv('groups', LOOKUPS, '-v params=lookup.strategy,lookup.alpha')
ng = words(groups)
glabel(g) = (g eq 'all') ? label(ALPHA) : label(g)
gcount(g) = int(csv('count', LOOKUPS, where(g)))
pooled = csv('varying', LOOKUPS, PARAMS.' -v exclude=lookup.strategy,lookup.alpha')
note = (pooled eq '') ? sprintf('%d lookups', nl) : sprintf('%d lookups, pooled over %s and replicas', nl, pnames(pooled))

r = csv('range', LOOKUPS, '-v cols=rounds')
rmin = real(word(r, 1)); rmax = real(word(r, 2))
bw = 0.8 / ng
off(i) = (i - (ng + 1) / 2.0) * bw

eval termcmd(900, 600)
set output out
set title sprintf("Rounds per lookup\n%s; %s", subtitle, note)
set xlabel 'rounds per lookup (batches of α queries; hop depth when pipelined)'
set ylabel 'fraction of lookups'
set xrange [rmin - 0.6 : rmax + 0.6]
set yrange [0:*]
if (rmax - rmin <= 25) { set xtics 1 }
set grid noxtics ytics
set boxwidth bw absolute
set style fill solid 0.85 border lc rgb '#333333'
eval keycmd(ng, 'top right')

plot for [i=1:ng] src(LOOKUPS, '-v cols=rounds '.where(word(groups, i))) \
       using ($1 + off(i)):(1) smooth fnormal with boxes lt i \
       title sprintf('%s (%d lookups)', glabel(word(groups, i)), gcount(word(groups, i)))
