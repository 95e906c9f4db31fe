#!/usr/bin/env bash
# parallel-sweep.sh: run a dhtsim sweep as SHARDS processes with GNU parallel
# (on this machine, or on other hosts with --sshlogin), then merge the shards.
#
#   tools/parallel-sweep.sh SCENARIO OUTDIR [SHARDS] [GNU parallel options...]
#
# Runs, for I = 0 .. SHARDS-1 (SHARDS defaults to the number of processors),
#   dhtsim run SCENARIO -j $DHTSIM_JOBS --shard I/SHARDS --resume --out OUTDIR/shard-I
# through GNU parallel with --halt now,fail=1, then
#   dhtsim merge --out OUTDIR OUTDIR/shard-0 ... OUTDIR/shard-(SHARDS-1)
# so that OUTDIR ends up with exactly the files `dhtsim run SCENARIO --out OUTDIR`
# writes. Everything after SHARDS goes to GNU parallel, e.g.
#   tools/parallel-sweep.sh scen.yaml out 8 -j 2                      # 2 shards at a time
#   tools/parallel-sweep.sh scen.yaml out 16 --sshlogin 4/host1,4/host2 --workdir "$PWD"
# With --sshlogin, OUTDIR and SCENARIO must be on a filesystem shared by all
# hosts at the same path (both are made absolute here), and DHTSIM must name
# a dhtsim that runs on every host. See docs/cluster.md.
#
# Environment:
#   DHTSIM       the dhtsim binary (default: dhtsim from PATH)
#   DHTSIM_JOBS  threads per shard, dhtsim -j (default 1)
#   DHTSIM_RESUME=0  do not pass --resume (then each shard folder is cleared first)
#
# Interrupted or failed? Run the same command again: with --resume every shard
# skips the points it already finished.
set -euo pipefail

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2
  exit 2
}

[ $# -ge 2 ] || usage
case $1 in -h | --help) usage ;; esac
scenario=$1
outdir=$2
shift 2
shards=$(nproc 2>/dev/null || echo 1)
if [ $# -gt 0 ] && [[ $1 =~ ^[0-9]+$ ]]; then
  shards=$1
  shift
fi
if ! [[ $shards =~ ^[0-9]+$ ]] || [ "$shards" -lt 1 ]; then
  echo "parallel-sweep.sh: SHARDS must be a positive integer, got '$shards'" >&2
  exit 2
fi
jobs=${DHTSIM_JOBS:-1}

command -v parallel >/dev/null || {
  echo "parallel-sweep.sh: GNU parallel is not installed (Debian: apt-get install parallel)" >&2
  exit 1
}
dhtsim=${DHTSIM:-dhtsim}
case $dhtsim in
  */*) dhtsim=$(realpath -- "$dhtsim") ;;  # a path: absolute, so it holds in any --workdir
  *) command -v "$dhtsim" >/dev/null || {
       echo "parallel-sweep.sh: '$dhtsim' is not in PATH (set DHTSIM=/path/to/dhtsim)" >&2
       exit 1
     } ;;
esac
[ -f "$scenario" ] || { echo "parallel-sweep.sh: no scenario file '$scenario'" >&2; exit 2; }
scenario=$(realpath -- "$scenario")
outdir=$(realpath -m -- "$outdir")
resume=(--resume)
[ "${DHTSIM_RESUME:-1}" = 0 ] && resume=()

mkdir -p -- "$outdir"
# -q: the command's words are passed as they are (paths with spaces or quotes
# survive the shell, local or remote); {} is the shard index.
parallel --halt now,fail=1 "$@" -q \
  "$dhtsim" run "$scenario" -j "$jobs" --shard "{}/$shards" "${resume[@]}" --out "$outdir/shard-{}" \
  ::: $(seq 0 $((shards - 1)))

dirs=()
for ((i = 0; i < shards; i++)); do dirs+=("$outdir/shard-$i"); done
"$dhtsim" merge --out "$outdir" "${dirs[@]}"
