#!/usr/bin/env bash
# fuzz/run.sh: runs the libFuzzer harnesses, one after the other, one process each.
#
#   fuzz/run.sh BUILD_DIR SECONDS [HARNESS...]     (default: every harness)
#
# Each harness fuzz_H starts from a copy of fuzz/corpus/H plus tests/fuzz-regressions/H
# in a temporary folder (fuzz/corpus is never written), with fuzz/H.dict when present,
# -timeout=1 s per input and a 2 GiB RSS limit, for SECONDS seconds. Extra libFuzzer
# flags can be given in FUZZ_FLAGS (e.g. FUZZ_FLAGS=-runs=1000000). Set FUZZ_KEEP=DIR
# to keep the grown corpora, logs and any crash inputs in DIR. Exit status 1 if any
# harness reported a crash, leak, timeout, out-of-memory or sanitizer error.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:?usage: fuzz/run.sh BUILD_DIR SECONDS [HARNESS...]}"
seconds="${2:?usage: fuzz/run.sh BUILD_DIR SECONDS [HARNESS...]}"
shift 2
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(scenario topology lookups matrix id addr krpc)
work="${FUZZ_KEEP:-$(mktemp -d "${TMPDIR:-/tmp}/dhtsim-fuzz-XXXXXX")}"
mkdir -p "$work"
[ -n "${FUZZ_KEEP:-}" ] || trap 'rm -rf "$work"' EXIT
export DHTSIM_MEMORY_LIMIT="${DHTSIM_MEMORY_LIMIT:-268435456}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
failed=0
for h in "${harnesses[@]}"; do
  bin="$build/fuzz/fuzz_$h"
  [ -x "$bin" ] || { echo "fuzz/run.sh: $bin not built (configure with -DDHTSIM_FUZZ=ON)"; exit 2; }
  corpus="$work/corpus-$h"
  mkdir -p "$corpus"
  cp "$root/fuzz/corpus/$h/." "$corpus/" -R
  [ -d "$root/tests/fuzz-regressions/$h" ] && cp -R "$root/tests/fuzz-regressions/$h/." "$corpus/"
  dict=()
  [ -f "$root/fuzz/$h.dict" ] && dict=("-dict=$root/fuzz/$h.dict")
  max_len=()
  [ "$h" = topology ] && max_len=(-max_len=16384)
  log="$work/fuzz_$h.log"
  echo "== fuzz_$h: ${seconds} s on a copy of fuzz/corpus/$h ($(ls "$corpus" | wc -l) inputs)"
  set +e
  # shellcheck disable=SC2086
  "$bin" "$corpus" "${dict[@]}" "${max_len[@]}" -max_total_time="$seconds" -timeout=1 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$work/crash-$h-" ${FUZZ_FLAGS:-} >"$log" 2>&1
  rc=$?
  set -e
  grep -E "^#[0-9]+[[:space:]]+DONE" "$log" | tail -n 1 || true
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$log" || true
  echo "   corpus: $(ls "$corpus" | wc -l) inputs; exit $rc"
  if [ $rc -ne 0 ] || grep -qE "ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|SUMMARY: " "$log"; then
    echo "fuzz_$h FAILED: last lines of $log:"
    tail -n 60 "$log"
    ls "$work"/crash-"$h"-* 2>/dev/null || true
    failed=1
  fi
done
exit $failed
