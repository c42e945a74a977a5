#!/bin/sh
# Measures this tree against another smtpp source tree (an earlier release, a branch): builds
# both benchmark suites with the same compiler and flags, runs every benchmark they share in
# interleaved rounds (bench/compare.py: ratio = new / old of the median CPU time per
# iteration; above 1 is slower), then prints the memory one session holds on each side
# (smtpp_footprint; bench/footprint.cpp is built against the other tree's headers too).
#
#   bench/compare.sh --base DIR [--build-dir DIR] [--rounds N] [--min-time S]
#                    [--filter REGEX] [--cpu N] [--json OUT] [--opt N]
#
#   --base       the other source tree (e.g. a git worktree of the last release); never
#                written to
#   --build-dir  where both builds go (default: /tmp/smtpp-bench-compare); never inside
#                either source tree
#   --rounds, --min-time, --filter (Python regex), --cpu, --json: passed to compare.py
#   --opt N      optimisation level (default 2, as run_benchmarks.sh)
#
# Needs what run_benchmarks.sh needs, plus taskset for --cpu. The compiler is CMake's choice
# (set CXX to pick another); both sides use the same one.
set -eu
set -f # --filter is a regex, not a pattern for file names

here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(dirname "$here")
base=
build_dir=/tmp/smtpp-bench-compare
opt=2
compare_args=

while [ $# -gt 0 ]; do
    case "$1" in
    --base) base=$(cd "$2" && pwd); shift ;;
    --build-dir) build_dir=$2; shift ;;
    --rounds|--min-time|--filter|--cpu|--json) compare_args="$compare_args $1 $2"; shift ;;
    --opt) opt=$2; shift ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "compare.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
[ -n "$base" ] || { echo "compare.sh: --base DIR is required" >&2; exit 2; }
mkdir -p "$build_dir"
build_dir=$(cd "$build_dir" && pwd)
for tree in "$source_dir" "$base"; do
    case "$build_dir" in
    "$tree"|"$tree"/*)
        echo "compare.sh: refusing to build inside a source tree ($build_dir)" >&2
        exit 2 ;;
    esac
done

build() { # SOURCE DIR
    cmake -S "$1" -B "$2" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O$opt -DNDEBUG" \
        -DSMTPP_BUILD_BENCH=ON -DSMTPP_BUILD_TESTS=OFF -DSMTPP_BUILD_EXAMPLES=OFF \
        -DSMTPP_BUILD_FUZZ=OFF -DSMTPP_INSTALL=OFF -DSMTPP_SANITIZE=OFF >/dev/null
    cmake --build "$2" --target smtpp_bench -j 2 >/dev/null
}
build "$base" "$build_dir/base"
build "$source_dir" "$build_dir/new"
cmake --build "$build_dir/new" --target smtpp_footprint -j 2 >/dev/null
compiler=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$build_dir/new/CMakeCache.txt")
"$compiler" -std=c++17 -O"$opt" -DNDEBUG -I"$base/include" "$here/footprint.cpp" \
    -o "$build_dir/base/smtpp_footprint"

echo "old: $base ($(git -C "$base" describe --always --dirty 2>/dev/null || echo '?'))"
echo "new: $source_dir ($(git -C "$source_dir" describe --always --dirty 2>/dev/null || echo '?'))"
echo "compiler: $("$compiler" --version | head -n 1), -O$opt"
# shellcheck disable=SC2086 # the options are words on purpose
python3 "$here/compare.py" "$build_dir/base/bench/smtpp_bench" "$build_dir/new/bench/smtpp_bench" \
    $compare_args
echo
echo "== old"
"$build_dir/base/smtpp_footprint"
echo
echo "== new"
"$build_dir/new/bench/smtpp_footprint"
