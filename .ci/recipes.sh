#!/usr/bin/env bash
# .ci/recipes.sh [DHTSIM]: tests the recipes of docs/cluster.md for running a
# sweep beyond one process, on this machine, with tests/data/recipes/tiny-sweep.yaml:
#   1. GNU parallel on local cores: the documented one-liner and tools/parallel-sweep.sh;
#   2. GNU parallel with --sshlogin: the documented command with the local
#      sshlogin ':' (same command line, no ssh);
#   3. Slurm: a real single-node Slurm (slurmctld + slurmd + munged started
#      here, private config, ports and state in a temp folder) runs the job
#      array tools/slurm-sweep.sbatch and tools/slurm-merge.sbatch as documented,
#      then a rerun of one task with --resume; the same scripts also run
#      without Slurm (variables set by hand).
# Every merged output must equal an unsharded run byte for byte (summary.csv,
# summary.json, runs.csv, lookups.csv). DHTSIM defaults to ./build/sim/dhtsim.
# Installs parallel, munge and Slurm with apt-get when missing (root or sudo).
# The real Slurm test needs root; DHTSIM_RECIPES_SLURM=direct skips it (and
# only runs the scripts by hand). Temp folders and daemons are removed on exit.
set -euo pipefail
start=$SECONDS
dhtsim=
[ -z "${1:-}" ] || dhtsim=$(realpath -m -- "$1")  # relative to the caller's folder
cd "$(dirname "$0")/.."
root=$PWD
dhtsim=${dhtsim:-$root/build/sim/dhtsim}
[ -x "$dhtsim" ] || { echo "recipes: no dhtsim binary at $dhtsim (build first, or pass its path)" >&2; exit 2; }
scenario=$root/tests/data/recipes/tiny-sweep.yaml
slurm_mode=${DHTSIM_RECIPES_SLURM:-real}
case $slurm_mode in real | direct) ;; *) echo "recipes: DHTSIM_RECIPES_SLURM must be real or direct" >&2; exit 2 ;; esac

echo "== recipes: install"
need=()
command -v parallel >/dev/null || need+=(parallel)
if [ "$slurm_mode" = real ]; then
  command -v munged >/dev/null || need+=(munge)
  command -v slurmctld >/dev/null || need+=(slurmctld)
  command -v slurmd >/dev/null || need+=(slurmd)
  command -v sbatch >/dev/null || need+=(slurm-client)
fi
if [ ${#need[@]} -gt 0 ]; then
  as_root=()
  [ "$(id -u)" -eq 0 ] || as_root=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" apt-get install -y -qq "${need[@]}" >/dev/null
  echo "recipes: installed ${need[*]}"
else
  echo "recipes: nothing to install"
fi

tmp=$(mktemp -d /tmp/dhtsim-recipes.XXXXXX)
chmod 755 "$tmp"
daemons=()  # pids of the daemons started here, stopped in reverse order
slurm_jobs=()

cleanup() {
  local rc=$? i pid
  trap - EXIT INT TERM
  if [ ${#slurm_jobs[@]} -gt 0 ] && [ -n "${SLURM_CONF:-}" ]; then
    scancel "${slurm_jobs[@]}" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      [ -z "$(squeue -h 2>/dev/null)" ] && break
      sleep 0.2
    done
  fi
  for ((i = ${#daemons[@]} - 1; i >= 0; i--)); do
    pid=${daemons[i]}
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$tmp"
  if [ $rc -eq 0 ]; then
    echo "== recipes passed in $((SECONDS - start)) s"
  else
    echo "== recipes FAILED (exit $rc) after $((SECONDS - start)) s" >&2
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
  echo "recipes: FAIL: $*" >&2
  exit 1
}

# same_as_ref DIR WHAT: DIR's output files equal the unsharded reference.
same_as_ref() {
  local f
  for f in summary.csv summary.json runs.csv lookups.csv; do
    cmp -- "$tmp/ref/$f" "$1/$f" || fail "$2: $1/$f differs from the unsharded run"
  done
  echo "recipes: ok: $2 (4 files identical to the unsharded run)"
}

echo "== recipes: unsharded reference run"
"$dhtsim" run "$scenario" -j 2 --out "$tmp/ref" >/dev/null
mkdir -p "$tmp/bin"
ln -s "$dhtsim" "$tmp/bin/dhtsim"
export PATH="$tmp/bin:$PATH"  # the recipes call plain `dhtsim`, as documented

echo "== recipes: 1. GNU parallel on local cores"
(
  cd "$tmp" && mkdir w1 && cd w1 || exit 1
  # The one-liner of docs/cluster.md, verbatim with SCENARIO, OUT and N filled in.
  N=4
  parallel --halt now,fail=1 dhtsim run "$scenario" -j 1 --shard {}/$N --out out/shard-{} ::: $(seq 0 $((N - 1))) >/dev/null &&
    dhtsim merge --out out out/shard-*
) || fail "local one-liner"
same_as_ref "$tmp/w1/out" "local one-liner, 4 shards"

tools/parallel-sweep.sh "$scenario" "$tmp/w1/wrapper out" 3 >/dev/null || fail "tools/parallel-sweep.sh"
same_as_ref "$tmp/w1/wrapper out" "tools/parallel-sweep.sh, 3 shards, a path with a space"
# Rerun into the same folder: --resume finds every point done, the output is unchanged.
tools/parallel-sweep.sh "$scenario" "$tmp/w1/wrapper out" 3 -j 1 >/dev/null || fail "tools/parallel-sweep.sh rerun"
same_as_ref "$tmp/w1/wrapper out" "tools/parallel-sweep.sh rerun (--resume)"
# A failing shard makes the whole command fail.
printf 'lookup:\n  alpha: 65\n' > "$tmp/bad.yaml"
if tools/parallel-sweep.sh "$tmp/bad.yaml" "$tmp/w1/bad" 2 >/dev/null 2>"$tmp/w1/bad.err"; then
  fail "tools/parallel-sweep.sh succeeded on an invalid scenario"
fi
echo "recipes: ok: tools/parallel-sweep.sh fails when a shard fails"

echo "== recipes: 2. GNU parallel with --sshlogin (local sshlogin ':', no ssh)"
mkdir -p "$tmp/w2/shared"
cp "$scenario" "$tmp/w2/shared/sweep.yaml"
(
  # The multi-host command of docs/cluster.md with host1,host2 replaced by 2/:
  # (two job slots on the local "host"). Launched from another folder: relative
  # paths must resolve in --workdir, as on a remote host.
  cd / || exit 1
  N=4
  parallel --halt now,fail=1 --sshlogin 2/: --workdir "$tmp/w2/shared" \
    dhtsim run sweep.yaml -j 1 --shard {}/$N --out out/shard-{} ::: $(seq 0 $((N - 1))) >/dev/null &&
    cd "$tmp/w2/shared" && dhtsim merge --out out out/shard-*
) || fail "--sshlogin command"
same_as_ref "$tmp/w2/shared/out" "--sshlogin 2/: --workdir, 4 shards"
(cd / && "$root/tools/parallel-sweep.sh" "$tmp/w2/shared/sweep.yaml" "$tmp/w2/wrapper" 5 \
  --sshlogin 1/:,2/: --workdir / >/dev/null) || fail "tools/parallel-sweep.sh --sshlogin"
same_as_ref "$tmp/w2/wrapper" "tools/parallel-sweep.sh --sshlogin 1/:,2/:, 5 shards"

echo "== recipes: 3a. Slurm scripts run by hand (SLURM_* set, no Slurm)"
(
  cd "$tmp" && mkdir w3 && cd w3 || exit 1
  for i in 0 1 2; do
    SLURM_ARRAY_TASK_ID=$i SLURM_ARRAY_TASK_COUNT=3 SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_MAX=2 SLURM_CPUS_PER_TASK=1 \
      bash "$root/tools/slurm-sweep.sbatch" "$scenario" out >/dev/null || exit 1
  done
  bash "$root/tools/slurm-merge.sbatch" out 3
) || fail "slurm scripts by hand"
same_as_ref "$tmp/w3/out" "slurm-sweep.sbatch x3 + slurm-merge.sbatch by hand"

if [ "$slurm_mode" = direct ]; then
  echo "recipes: DHTSIM_RECIPES_SLURM=direct: real Slurm not tested"
  exit 0
fi

echo "== recipes: 3b. real Slurm (single node, private config)"
[ "$(id -u)" -eq 0 ] || fail "the real Slurm test starts slurmd and needs root (or DHTSIM_RECIPES_SLURM=direct)"
s=$tmp/slurm
mkdir -p "$s/state" "$s/spool" "$s/log" "$s/munge" "$tmp/w4"
chmod 755 "$s" "$s/munge"

# munged with its own key and socket (the system's munge, if any, is not used).
dd if=/dev/urandom of="$s/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$s/munge/munge.key"
munged -F -f --key-file="$s/munge/munge.key" --socket="$s/munge/munge.sock" --pid-file="$s/munge/munged.pid" \
  --log-file="$s/log/munged.log" --seed-file="$s/munge/munged.seed" >"$s/log/munged.out" 2>&1 &
daemons+=($!)

# Two free TCP ports for slurmctld and slurmd.
ports=()
used=$(ss -Htln 2>/dev/null | awk '{print $4}' | sed 's/.*://' || true)
while [ ${#ports[@]} -lt 2 ]; do
  p=$((20000 + RANDOM % 30000))
  grep -qx "$p" <<<"$used" || [[ " ${ports[*]} " == *" $p "* ]] || ports+=("$p")
done

# One node "localhost" declared with 8 CPUs and 32 GB (config_overrides: not
# checked against the hardware), so that the scripts' #SBATCH defaults
# (4 CPUs x 2 GB per task) are schedulable as they are. No cgroups, no accounting.
cat >"$s/slurm.conf" <<EOF
ClusterName=dhtsimrecipes
SlurmctldHost=localhost
SlurmctldPort=${ports[0]}
SlurmdPort=${ports[1]}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$s/munge/munge.sock
CredType=cred/munge
StateSaveLocation=$s/state
SlurmdSpoolDir=$s/spool
SlurmctldPidFile=$s/slurmctld.pid
SlurmdPidFile=$s/slurmd.pid
SlurmctldLogFile=$s/log/slurmctld.log
SlurmdLogFile=$s/log/slurmd.log
MailProg=/bin/true
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
ReturnToService=2
EnforcePartLimits=ALL
NodeName=localhost CPUs=8 RealMemory=32768 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$s/slurm.conf

slurm_logs() {
  local f
  for f in "$s"/log/* "$tmp"/w4/slurm-*.out; do
    [ -f "$f" ] && { echo "--- $f"; tail -n 25 "$f"; }
  done >&2
}

for ((i = 0; i < 50; i++)); do
  [ -S "$s/munge/munge.sock" ] && break
  sleep 0.1
done
[ -S "$s/munge/munge.sock" ] || { slurm_logs; fail "munged did not start"; }
slurmctld -D >"$s/log/slurmctld.out" 2>&1 &
daemons+=($!)
slurmd -D -N localhost >"$s/log/slurmd.out" 2>&1 &
daemons+=($!)
state=
for ((i = 0; i < 150; i++)); do
  state=$(sinfo -h -n localhost -o %t 2>/dev/null || true)
  [ "$state" = idle ] && break
  sleep 0.2
done
[ "$state" = idle ] || { slurm_logs; fail "the Slurm node did not become idle (state '$state')"; }
echo "recipes: slurmctld, slurmd and munged up (ports ${ports[*]}), node idle after $((SECONDS - start)) s"

# wait_jobs ID...: waits until the queue is empty, then checks that every job
# (every task of an array) COMPLETED with exit code 0.
wait_jobs() {
  local i q j line bad=0
  for ((i = 0; i < 600; i++)); do
    q=$(squeue -h -o '%i %T %r')
    [ -z "$q" ] && break
    if grep -q DependencyNeverSatisfied <<<"$q"; then
      echo "$q" >&2
      slurm_logs
      fail "a Slurm job failed: the merge can never start"
    fi
    sleep 0.2
  done
  [ -z "$q" ] || { echo "$q" >&2; slurm_logs; fail "Slurm jobs still queued after 120 s"; }
  for j in "$@"; do
    while read -r line; do
      [[ $line == *JobState=COMPLETED* && $line == *" ExitCode=0:0 "* ]] && continue
      echo "$line" | grep -oE '(JobId|ArrayTaskId|JobState|ExitCode)=[^ ]*' | tr '\n' ' ' >&2
      echo >&2
      bad=1
    done < <(scontrol -o show job "$j")
  done
  [ $bad -eq 0 ] || { slurm_logs; fail "a Slurm job did not complete successfully"; }
}

cd "$tmp/w4"
# The documented one-liner, verbatim (the scripts' #SBATCH defaults unchanged).
jid=$(sbatch --parsable --array=0-3 "$root/tools/slurm-sweep.sbatch" "$scenario" out) &&
  mid=$(sbatch --parsable --dependency=afterok:${jid%%;*} "$root/tools/slurm-merge.sbatch" out 4) ||
  { slurm_logs; fail "sbatch"; }
jid=${jid%%;*}
mid=${mid%%;*}
slurm_jobs+=("$jid" "$mid")
echo "recipes: submitted array job $jid (4 tasks) and merge job $mid (afterok:$jid)"
wait_jobs "$jid" "$mid"
same_as_ref "$tmp/w4/out" "Slurm job array 0-3 + merge job with afterok"
grep -q "shard 2/4 of $scenario into out/shard-2, -j 4" "slurm-dhtsim-sweep-${jid}_2.out" ||
  { slurm_logs; fail "task 2's log does not show shard 2/4 with -j 4 (SLURM_CPUS_PER_TASK)"; }

# A "failed" task: its shard folder lost its last point; rerun that task alone
# (explicit shard count, resources overridden on the command line), with --resume.
rm -f out/shard-1/parts/point-00000005.*
jid2=$(sbatch --parsable --array=1 --cpus-per-task=1 --mem-per-cpu=100M --time=00:05:00 \
  "$root/tools/slurm-sweep.sbatch" "$scenario" out 4) &&
  mid2=$(sbatch --parsable --dependency=afterok:${jid2%%;*} "$root/tools/slurm-merge.sbatch" out 4) ||
  { slurm_logs; fail "sbatch (rerun)"; }
jid2=${jid2%%;*}
mid2=${mid2%%;*}
slurm_jobs+=("$jid2" "$mid2")
wait_jobs "$jid2" "$mid2"
grep -q "shard 1/4 .* -j 1," "slurm-dhtsim-sweep-${jid2}_1.out" || { slurm_logs; fail "rerun task log"; }
same_as_ref "$tmp/w4/out" "Slurm rerun of task 1 of 4 (--resume) + merge"
