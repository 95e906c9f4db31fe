# lookup-time-cdf.gp: empirical CDF of the lookup time to converge, one curve
# per α (and per strategy when several), pooled over the other swept
# parameters (replicas, N, K, request drop, ...), as the title says.
# Data: lookups.csv (time_ms, and lookup.alpha, lookup.strategy when swept;
# a single α or strategy is named from summary.csv).
#   gnuplot -e "dir='OUT'; term='png'" plots/lookup-time-cdf.gp   # writes OUT/lookup-time-cdf.png
# With a single α, a single curve.

NAME = 'lookup-time-cdf'
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

r = csv('range', LOOKUPS, '-v cols=time_ms')
tmin = real(word(r, 1)); tmax = real(word(r, 2))
logx = (tmin > 0 && tmax / tmin > 20)

eval termcmd(900, 600)
set output out
set title sprintf("Lookup time: empirical CDF\n%s; %s", subtitle, note)
set xlabel logx ? 'lookup time to converge (ms, log scale)' : 'lookup time to converge (ms)'
set ylabel 'fraction of lookups finished within time'
if (logx) { set logscale x; eval LOGXTICS; set xrange [tmin / 1.2 : tmax * 1.2] } else { set xrange [0 : (tmax > 0 ? tmax * 1.05 : 1)] }
set yrange [0:1.02]
set ytics 0.1
eval keycmd(ng, 'bottom right')

plot for [i=1:ng] src(LOOKUPS, '-v cols=time_ms '.where(word(groups, i))) \
       using 1:(1) smooth cnormal with steps lt i \
       title sprintf('%s (%d lookups)', glabel(word(groups, i)), gcount(word(groups, i)))
