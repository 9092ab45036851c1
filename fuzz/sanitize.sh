#!/usr/bin/env bash
# The sanitizer pass over the `fuzz` preset's build (clang, ASan + UBSan; docs/fuzzing.md).
# Usage: fuzz/sanitize.sh BUILD_DIR test|soak
#   test (in `make test`): the unit tests, the scenario library at seed 1, and each fuzz target
#        over its corpus plus 10 s of fresh inputs.
#   soak (in `make soak`): the property tests under the sanitizers, and each fuzz target for
#        60 s.
# Any sanitizer report fails the run (halt_on_error), as does any failing test.
set -euo pipefail

build_dir=${1:?build dir}
mode=${2:?test or soak}
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
jobs=$(nproc)
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}

scenario_library() {
  local failed=0
  mkdir -p "$build_dir/sanitize-reports"
  for f in "$root"/scenarios/*.textproto; do
    local name
    name=$(basename "$f" .textproto)
    if ! "$build_dir/bin/replsim" run "$f" --seed 1 --report "$build_dir/sanitize-reports/$name" \
        >"$build_dir/sanitize-reports/$name.log" 2>&1; then
      echo "sanitize: scenario $name at seed 1 failed, log $build_dir/sanitize-reports/$name.log" >&2
      tail -20 "$build_dir/sanitize-reports/$name.log" >&2
      failed=1
    fi
  done
  return $failed
}

case "$mode" in
  test)
    echo "sanitize: unit tests under ASan + UBSan"
    ctest --test-dir "$build_dir" -L unit --output-on-failure -j "$jobs"
    echo "sanitize: the scenario library at seed 1 under ASan + UBSan"
    scenario_library
    echo "sanitize: fuzz targets, corpus + 10 s each"
    "$here/run_fuzzers.sh" "$build_dir" 10
    ;;
  soak)
    RC_PARAMS="${RC_PARAMS:-max_success=200 seed=1}" \
      ctest --test-dir "$build_dir" -L property --output-on-failure -j "$jobs"
    "$here/run_fuzzers.sh" "$build_dir" 60
    ;;
  *)
    echo "usage: fuzz/sanitize.sh BUILD_DIR test|soak" >&2
    exit 2
    ;;
esac
