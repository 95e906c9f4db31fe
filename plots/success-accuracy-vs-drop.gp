# success-accuracy-vs-drop.gp: success rate (lookups that found a planted peer)
# and accuracy (mean fraction of the true K closest live nodes returned)
# against the request drop probability, with 95 % CI error bars; one colour
# per combination of the other parameters that vary (e.g. per α or strategy),
# success rate solid with filled marks, accuracy thinner, dashed, with open squares.
# Data: summary.csv (loss.request_drop, success_rate, accuracy and their _ci95).
#   gnuplot -e "dir='OUT'; term='png'" plots/success-accuracy-vs-drop.gp
#   # writes OUT/success-accuracy-vs-drop.png
# With a single drop rate, single points. Without planted peers (empty
# success_rate), accuracy only, and the title says so.

NAME = 'success-accuracy-vs-drop'
here = ARG0; i_ = strlen(here); while (i_ > 0 && here[i_:i_] ne '/') { i_ = i_ - 1 }
here = (i_ > 0) ? here[1:i_] : './'
load here.'common.gpi'

if (POINTS == 0) { print NAME.': skipped: summary.csv has no rows'; exit }

groups = csv('groups', SUMMARY, PARAMS.' -v exclude=loss.request_drop')
ng = words(groups)
glabel(g) = label(g)
has_success = (csv('range', SUMMARY, '-v cols=success_rate') ne '')
r = csv('range', SUMMARY, '-v cols=loss.request_drop')
dmin = real(word(r, 1)); dmax = real(word(r, 2))
nd = words(csv('distinct', SUMMARY, '-v cols=loss.request_drop'))
step = (nd > 1) ? (dmax - dmin) / (nd - 1) : 0.1
# Success (m = 0) and accuracy (m = 1) of each group side by side around each
# drop rate, within a third of the step between rates, so that error bars do
# not overlap.
dodge(i, m) = 0.3 * step * ((2.0 * (i - 1) + m) / (2 * ng - 1) - 0.5)
# Accuracy alone (no planted peers): one slot per group.
dodge1(i) = (ng > 1) ? 0.3 * step * ((i - 1.0) / (ng - 1) - 0.5) : 0.0
D = '-v cols=loss.request_drop,success_rate,success_rate_ci95,accuracy,accuracy_ci95 -v sort=loss.request_drop '

eval termcmd(900, 600)
set output out
set title sprintf("Success rate and accuracy vs request loss\n%s; %s%s", subtitle, ci_note, \
  has_success ? '' : '; no planted peers: no success rate')
set xlabel 'request drop probability (loss.request_drop)'
set ylabel 'fraction (success: of lookups; accuracy: of the K closest)'
set xrange [dmin - 0.6 * step : dmax + 0.6 * step]
set format x '%g'
if (nd <= 12) { eval 'set xtics ('.csv('tics', SUMMARY, '-v cols=loss.request_drop -v at=value').')' }
set yrange [0:1.05]
set ytics 0.1
set bars 1.5
# Legend: one colour per group, then what solid and dashed lines are; under
# the plot (the curves may span the whole height) when short, else at the right.
nentries = (ng == 1) ? 2 : ng + (has_success ? 2 : 0)
if (nentries <= 6) {
  kcols = (nentries <= 3) ? nentries : (nentries == 4) ? 2 : 3
  krows = int((nentries + kcols - 1) / kcols)
  set bmargin 5.5 + 1.4 * krows
  set key at screen 0.5, screen 0.015 center bottom horizontal maxcols kcols maxrows krows
} else {
  eval keycmd(nentries, '')
}

# One group: coloured "success rate" and "accuracy" entries; several: one entry
# per group (its colour) and two black entries for the line styles.
if (!has_success) {
  plot for [i=1:ng] src(SUMMARY, D.where(word(groups, i))) \
         using ($1 + dodge1(i)):4:5 with yerrorlines lt i lw 1.5 dt 2 pt 4 ps 1.2 \
         title (ng == 1 ? 'accuracy' : 'accuracy, '.glabel(word(groups, i)))
} else {
  if (ng == 1) {
    plot src(SUMMARY, D) using ($1 + dodge(1, 0)):2:3 with yerrorlines lt 1 title 'success rate', \
         src(SUMMARY, D) using ($1 + dodge(1, 1)):4:5 with yerrorlines lt 2 dt 2 pt 4 title 'accuracy'
  } else {
    plot for [i=1:ng] src(SUMMARY, D.where(word(groups, i))) \
           using ($1 + dodge(i, 0)):2:3 with yerrorlines lt i dt 1 title glabel(word(groups, i)), \
         for [i=1:ng] src(SUMMARY, D.where(word(groups, i))) \
           using ($1 + dodge(i, 1)):4:5 with yerrorlines lt i lw 1.5 dt 2 pt 4 ps 1.2 notitle, \
         NaN with linespoints lc rgb '#333333' lw 2 dt 1 pt 7 title 'success rate (solid, filled marks)', \
         NaN with linespoints lc rgb '#333333' lw 1.5 dt 2 pt 4 ps 1.2 title 'accuracy (dashed, open squares)'
  }
}
