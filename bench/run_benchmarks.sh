#!/bin/sh
# Builds smtpp's benchmarks in Release (-O2 by default) in their own build directory, runs them,
# then prints, for every figure, ratio = smtpp throughput / baseline throughput (a memchr or
# memcpy over the same bytes, measured in the same run), plus items/s and allocations/item,
# and last the memory one server and one client session hold (smtpp_footprint).
#
#   bench/run_benchmarks.sh [--quick | --long] [--build-dir DIR] [--filter REGEX] [--opt N]
#
#   --quick      CI smoke run: every benchmark once, briefly (min time 0.01 s); fails when a
#                benchmark reports an error (its result check failed)
#   --long       README figures: min time 2 s, 3 repetitions, medians reported
#   (default)    min time 0.5 s
#   --build-dir  where to configure the Release build (default: /tmp/smtpp-bench-build);
#                never inside the source tree
#   --filter     only benchmarks whose name matches REGEX (Google Benchmark syntax); match
#                the figure prefix, e.g. "data_decode/64KiB", so its baseline_* runs too
#   --opt N      optimisation level: 2 (default, what distributions build with) or 3 (CMake's
#                and Meson's release default)
#
# Needs cmake, a C++17 compiler, Google Benchmark (Debian: libbenchmark-dev) and python3.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(dirname "$here")
build_dir=/tmp/smtpp-bench-build
min_time=0.5
repetitions=1
filter=.
opt=2

while [ $# -gt 0 ]; do
    case "$1" in
    --quick) min_time=0.01 ;;
    --long) min_time=2 repetitions=3 ;;
    --build-dir) build_dir=$2; shift ;;
    --filter) filter=$2; shift ;;
    --opt) opt=$2; shift ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "run_benchmarks.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done

case "$build_dir" in
"$source_dir"|"$source_dir"/*)
    echo "run_benchmarks.sh: refusing to build inside the source tree ($build_dir)" >&2
    exit 2 ;;
esac

cmake -S "$source_dir" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CXX_FLAGS_RELEASE="-O$opt -DNDEBUG" -DSMTPP_BUILD_BENCH=ON -DSMTPP_BUILD_TESTS=OFF \
    -DSMTPP_BUILD_EXAMPLES=OFF -DSMTPP_BUILD_FUZZ=OFF -DSMTPP_INSTALL=OFF -DSMTPP_SANITIZE=OFF >/dev/null
cmake --build "$build_dir" --target smtpp_bench smtpp_footprint -j 2 >/dev/null

json="$build_dir/bench-results.json"
"$build_dir/bench/smtpp_bench" --benchmark_min_time="$min_time" \
    --benchmark_repetitions="$repetitions" --benchmark_filter="$filter" \
    --benchmark_out="$json" --benchmark_out_format=json --benchmark_format=console

python3 "$here/ratios.py" "$json"
echo
"$build_dir/bench/smtpp_footprint"
