#!/usr/bin/env bash
# Runs every libFuzzer target for a set time and prints one table: target, execs/s, total
# execs, corpus size, crashes. Usage: fuzz/run_fuzzers.sh BUILD_DIR SECONDS [TARGET...]
#
# Each target starts from its seed corpus (fuzz/corpus/<target>/, replayed first) and keeps the
# new inputs it finds in BUILD_DIR/fuzz-corpus/<target>/ (the seed corpus is not modified);
# a crash is written to BUILD_DIR/fuzz-crashes/<target>-crash-* and fails the run.
# `make fuzz` runs FUZZ_S seconds per target; `make test` 10 s (corpus plus fresh inputs).
set -uo pipefail

build_dir=${1:?build dir}
seconds=${2:?seconds per target}
shift 2
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(frame wal_entry store_record store_recovery aries_record aries_restart scenario
           node_message)
fi
here=$(cd "$(dirname "$0")" && pwd)
crashes="$build_dir/fuzz-crashes"
mkdir -p "$crashes"
# A UBSan report must fail like an ASan one; leaks are reported at exit.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

# FUZZ_JOBS targets run at once (default 1: `make fuzz` gives each target a core to itself).
jobs=${FUZZ_JOBS:-1}
run_one() {
  local t=$1
  local work="$build_dir/fuzz-corpus/$t"
  mkdir -p "$work" "$build_dir/fuzz-logs"
  nice -n 10 "$build_dir/bin/${t}_fuzz" -max_total_time="$seconds" -print_final_stats=1 \
    -timeout=25 -rss_limit_mb=2048 -artifact_prefix="$crashes/$t-" "$work" "$here/corpus/$t" \
    >"$build_dir/fuzz-logs/$t.log" 2>&1
  echo $? >"$build_dir/fuzz-logs/$t.rc"
}
for t in "${targets[@]}"; do
  rm -f "$build_dir/fuzz-logs/$t.rc"
  ls "$crashes" | grep -c "^$t-" >"$build_dir/fuzz-logs/$t.crashes-before" || true
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
  run_one "$t" &
done
wait

failed=0
rows=()
for t in "${targets[@]}"; do
  log="$build_dir/fuzz-logs/$t.log"
  rc=$(cat "$build_dir/fuzz-logs/$t.rc" 2>/dev/null || echo 1)
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$')
  corpus=$(( $(ls "$build_dir/fuzz-corpus/$t" | wc -l) + $(ls "$here/corpus/$t" | wc -l) ))
  before=$(cat "$build_dir/fuzz-logs/$t.crashes-before")
  found=$(( $(ls "$crashes" | grep -c "^$t-" || true) - before ))
  if [ "$rc" -ne 0 ]; then
    failed=1
    echo "fuzz: $t FAILED (exit $rc), log $log:" >&2
    grep -E 'ERROR|FUZZ_CHECK|runtime error|assertion' "$log" | head -5 >&2
  fi
  rows+=("$(printf '%-16s %10s %14s %8s %8s' "$t" "${rate:-?}" "${execs:-?}" "$corpus" "$found")")
done
printf '%-16s %10s %14s %8s %8s\n' target execs/s "total execs" corpus crashes
printf '%s\n' "${rows[@]}"
exit $failed
