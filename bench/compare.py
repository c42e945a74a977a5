#!/usr/bin/env python3
"""Compares two builds of smtpp_bench, benchmark by benchmark: ratio = new / old of the median
CPU time per iteration (above 1: the new build is slower), over interleaved rounds.

  compare.py OLD_BENCH NEW_BENCH [--rounds N] [--min-time S] [--filter REGEX] [--cpu N]
             [--flag X] [--json OUT]
  compare.py --report RUN.json [RUN.json ...] [--filter REGEX] [--flag X]

Every benchmark both binaries have runs once per round in each, one right after the other
(the old one first in odd rounds, the new one first in even rounds), so that load from
elsewhere on the machine hits both alike; each run is a process of its own. Both builds must
use the same inputs (bench_inputs.hpp) so that an iteration is the same work on both sides.
A benchmark only the new build has whose name ends in "copy_<feed>" or "/copy" is compared
with the old build's "framer_<feed>", "<feed>" or "/whole" (the first that exists): the
copying receive() against the old in-place one.

Per benchmark: the medians, the ratio of the medians, the lowest and highest ratio of one
round, and allocations per item on each side. A ratio above --flag (default 1.05) is marked
SLOWER when every round was slower, "slower?" when some round was not (on a busy machine,
often noise). Exits 1 when a benchmark reported an error.

  --rounds N    runs of each benchmark on each side (default 5)
  --min-time S  --benchmark_min_time of each run (default 0.2)
  --filter R    only benchmarks whose name matches the Python regex R (search)
  --cpu N       pin every run to CPU N (taskset)
  --flag X      mark ratios above X (default 1.05)
  --json OUT    also write every measurement to OUT
  --report      measure nothing: print the table of runs saved with --json, their rounds
                put together
"""
import argparse
import json
import re
import statistics
import subprocess
import sys

ERE_SPECIAL = set(".[]()*+?{}|^$\\")


def exact_filter(name):
    """A --benchmark_filter matching exactly `name` (POSIX extended regex)."""
    return "^" + "".join("\\" + c if c in ERE_SPECIAL else c for c in name) + "$"


def list_benchmarks(binary):
    out = subprocess.run([binary, "--benchmark_list_tests=true"], check=True, capture_output=True,
                         text=True).stdout
    return [line.strip() for line in out.splitlines() if line.strip()]


NS_PER_UNIT = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def run_one(binary, name, min_time, cpu):
    """Runs one benchmark once; returns (cpu ns per iteration, allocs per item) or an error."""
    cmd = [binary, "--benchmark_filter=" + exact_filter(name),
           "--benchmark_min_time=%s" % min_time, "--benchmark_format=json"]
    if cpu is not None:
        cmd = ["taskset", "-c", str(cpu)] + cmd
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    runs = [b for b in json.loads(out)["benchmarks"] if b["name"] == name]
    if len(runs) != 1:
        return None, None, "%s: %d results" % (name, len(runs))
    b = runs[0]
    if b.get("error_occurred"):
        return None, None, "%s: %s" % (name, b.get("error_message", "error"))
    ns = b["cpu_time"] * NS_PER_UNIT[b.get("time_unit", "ns")]
    return ns, b.get("allocs_per_item"), None


def counterpart(name, old_names):
    """The old benchmark a new-only one is compared with, or None."""
    figure, _, variant = name.rpartition("/")
    if variant.startswith("copy_"):
        for candidate in ("framer_" + variant[5:], variant[5:]):  # command_parse: framer_<feed>
            if figure + "/" + candidate in old_names:
                return figure + "/" + candidate
    if variant == "copy" and figure + "/whole" in old_names:
        return figure + "/whole"
    return None


def fmt_ns(ns):
    if ns >= 1e6:
        return "%.3g ms" % (ns / 1e6)
    if ns >= 1e3:
        return "%.3g us" % (ns / 1e3)
    return "%.3g ns" % ns


def fmt_allocs(values):
    values = [v for v in values if v is not None]
    return "-" if not values else "%.3g" % max(values)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("old", nargs="?")
    p.add_argument("new", nargs="?")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--min-time", default="0.2")
    p.add_argument("--filter", default="")
    p.add_argument("--cpu", type=int)
    p.add_argument("--flag", type=float, default=1.05)
    p.add_argument("--json")
    p.add_argument("--report", nargs="+", metavar="RUN.json")
    a = p.parse_args()
    if a.report:
        return report(load_runs(a.report, a.filter), a.flag, [])
    if not a.old or not a.new:
        p.error("OLD_BENCH and NEW_BENCH are needed (or --report)")

    old_names = set(list_benchmarks(a.old))
    pairs = []  # (new name, old name)
    for name in list_benchmarks(a.new):
        if a.filter and not re.search(a.filter, name):
            continue
        if "/baseline_" in name:
            continue  # memchr/memcpy: the same code on both sides
        if name in old_names:
            pairs.append((name, name))
        elif counterpart(name, old_names):
            pairs.append((name, counterpart(name, old_names)))

    results = {pair: ([], [], [], []) for pair in pairs}  # old ns, new ns, old allocs, new allocs
    errors = []
    for r in range(a.rounds):
        for pair in pairs:
            new_name, old_name = pair
            order = [("old", a.old, old_name), ("new", a.new, new_name)]
            if r % 2 == 1:
                order.reverse()
            for side, binary, name in order:
                ns, allocs, error = run_one(binary, name, a.min_time, a.cpu)
                if error:
                    errors.append("%s build: %s" % (side, error))
                    continue
                i = 0 if side == "old" else 1
                results[pair][i].append(ns)
                results[pair][i + 2].append(allocs)
        print("round %d of %d done" % (r + 1, a.rounds), file=sys.stderr, flush=True)

    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump([{"new": n, "old": o, "old_ns": r[0], "new_ns": r[1], "old_allocs": r[2],
                        "new_allocs": r[3]} for (n, o), r in results.items()], f, indent=1)
    return report(results, a.flag, errors)


def load_runs(paths, name_filter):
    """The measurements of runs saved with --json, the rounds of each benchmark put together."""
    results = {}
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for b in json.load(f):
                if name_filter and not re.search(name_filter, b["new"]):
                    continue
                r = results.setdefault((b["new"], b["old"]), ([], [], [], []))
                for i, key in enumerate(("old_ns", "new_ns", "old_allocs", "new_allocs")):
                    r[i].extend(b[key])
    return results


def report(results, flag, errors):
    print("%-56s %10s %10s %7s %15s %13s" % ("benchmark (new; old if other)", "old", "new", "new/old",
                                             "rounds min-max", "allocs o->n"))
    for pair in results:
        new_name, old_name = pair
        old_ns, new_ns, old_allocs, new_allocs = results[pair]
        if not old_ns or not new_ns:
            continue
        old_med = statistics.median(old_ns)
        new_med = statistics.median(new_ns)
        ratio = new_med / old_med
        per_round = [n / o for o, n in zip(old_ns, new_ns)]
        label = new_name if new_name == old_name else "%s (old: %s)" % (new_name, old_name.rpartition("/")[2])
        mark = ""
        if ratio > flag:
            mark = "  SLOWER" if min(per_round) > 1.0 else "  slower?"
        print("%-56s %10s %10s %7.3f %7.2f-%-7.2f %6s->%-6s%s" % (
            label, fmt_ns(old_med), fmt_ns(new_med), ratio, min(per_round), max(per_round),
            fmt_allocs(old_allocs), fmt_allocs(new_allocs), mark))
    for e in errors:
        print("ERROR " + e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
