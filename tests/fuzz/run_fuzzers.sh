#!/bin/sh
# Builds smtpp's fuzz targets with libFuzzer + ASan + UBSan and runs each for a bounded time.
#
#   tests/fuzz/run_fuzzers.sh <build-dir> [seconds-per-target] [target ...]
#
#   build-dir            created if needed; everything (build, corpus copies, artifacts, logs)
#                        goes there. The source tree is never written to.
#   seconds-per-target   default 30
#   target ...           e.g. fuzz_command; default: every target the build produced
#
# Environment: CXX (default clang++, must be clang with libFuzzer: Debian clang +
# libclang-rt-<ver>-dev), SMTPP_FUZZ_JOBS (parallel build jobs), SMTPP_FUZZ_ARGS (extra
# libFuzzer flags, e.g. "-max_len=4096"), SMTPP_FUZZ_TOLERATE (finding ids from
# tests/fuzz/findings/ to step over while hunting for new ones; unset in CI).
#
# Each target fuzzes a COPY of tests/fuzz/corpus/<unit>/ with tests/fuzz/smtp.dict and
# -print_final_stats=1. Any crash, sanitizer report, leak, timeout (-timeout=10) or
# out-of-memory (-rss_limit_mb=2048) makes the script exit non-zero after the remaining targets
# ran; the reproducer is left in <build-dir>/fuzz-artifacts/<target>/ (copy it to
# tests/fuzz/findings/ and replay with `<build-dir>/tests/fuzz/<target> <file>`).
# At the end it prints one line per target: executions (stat::number_of_executed_units),
# executions per second, corpus size, result.
set -eu

if [ $# -lt 1 ]; then
    echo "usage: $0 <build-dir> [seconds-per-target] [target ...]" >&2
    exit 2
fi
build_dir=$1
seconds=${2:-30}
[ $# -ge 2 ] && shift 2 || shift 1

script_dir=$(cd "$(dirname "$0")" && pwd)
source_dir=$(cd "$script_dir/../.." && pwd)
mkdir -p "$build_dir"
build_dir=$(cd "$build_dir" && pwd)
case "$build_dir/" in
"$source_dir"/tests/*) echo "run_fuzzers: pick a build dir outside tests/" >&2; exit 2 ;;
esac

: "${CXX:=clang++}"
export CXX
cmake -S "$source_dir" -B "$build_dir" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSMTPP_BUILD_FUZZ=ON -DSMTPP_FUZZ_ENGINE=libfuzzer \
    -DSMTPP_BUILD_TESTS=OFF -DSMTPP_BUILD_EXAMPLES=OFF -DSMTPP_BUILD_BENCH=OFF \
    -DSMTPP_INSTALL=OFF -DSMTPP_SANITIZE=OFF >"$build_dir/configure.log" 2>&1 || {
    cat "$build_dir/configure.log" >&2
    exit 1
}
if [ $# -gt 0 ]; then
    targets=$*
    # shellcheck disable=SC2086
    cmake --build "$build_dir" --parallel "${SMTPP_FUZZ_JOBS:-2}" --target $targets
else
    cmake --build "$build_dir" --parallel "${SMTPP_FUZZ_JOBS:-2}"
    targets=$(cat "$build_dir/tests/fuzz/fuzz_targets.txt")
fi
[ -n "$(echo $targets)" ] || { echo "run_fuzzers: no fuzz targets were built" >&2; exit 1; }

failed=""
summary=""
for target in $targets; do
    unit=${target#fuzz_}
    exe="$build_dir/tests/fuzz/$target"
    work="$build_dir/fuzz-corpus/$unit"
    artifacts="$build_dir/fuzz-artifacts/$target"
    log="$build_dir/fuzz-logs/$target.log"
    rm -rf "$work" "$artifacts"
    mkdir -p "$work" "$artifacts" "$(dirname "$log")"
    cp -R "$source_dir/tests/fuzz/corpus/$unit/." "$work/"
    echo "== $target: ${seconds}s"
    status=0
    # shellcheck disable=SC2086
    "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -dict="$source_dir/tests/fuzz/smtp.dict" -artifact_prefix="$artifacts/" \
        ${SMTPP_FUZZ_ARGS:-} "$work" >"$log" 2>&1 || status=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    files=$(find "$work" -type f | wc -l | tr -d ' ')
    found=$(find "$artifacts" -type f | wc -l | tr -d ' ')
    if [ "$status" -ne 0 ] || [ "$found" -ne 0 ] || [ -z "$execs" ]; then
        result="FAILED (exit $status, $found artifact(s) in $artifacts, log $log)"
        failed="$failed $target"
        tail -n 40 "$log" >&2
    else
        result="ok"
    fi
    summary="$summary$(printf '%-24s executions=%-12s exec/s=%-8s corpus=%-6s %s' \
        "$target" "${execs:-?}" "${speed:-?}" "$files" "$result")
"
done

echo "== summary (${seconds}s per target, CXX=$CXX)"
printf '%s' "$summary"
if [ -n "$failed" ]; then
    echo "run_fuzzers: findings in:$failed" >&2
    exit 1
fi
