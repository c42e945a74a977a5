#!/usr/bin/env python3
"""Prints ratio = smtpp / baseline for every figure of a smtpp_bench JSON result file.

A benchmark named "<figure>/<variant>" is compared with "<figure>/baseline_*" from the same
run (throughput: bytes per second). With repetitions, the medians are used. Exits 1 when a
benchmark reported an error (its own result check failed).
"""
import json
import sys


def main(path):
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    runs = {}
    errors = []
    repeated = any(b.get("run_type") == "aggregate" for b in data["benchmarks"])
    for b in data["benchmarks"]:
        if b.get("error_occurred"):
            errors.append("%s: %s" % (b["name"], b.get("error_message", "error")))
            continue
        if repeated:
            if b.get("aggregate_name") != "median":
                continue
            name = b["run_name"]
        else:
            name = b["name"]
        runs[name] = b

    figures = {}
    for name, b in runs.items():
        figure, _, variant = name.rpartition("/")
        figures.setdefault(figure, {})[variant] = b

    status = 0
    for figure in sorted(figures):
        variants = figures[figure]
        baselines = sorted(v for v in variants if v.startswith("baseline_"))
        if not baselines:
            print("%s: no baseline in this run (a --filter must let baseline_* through)" % figure)
            continue
        base_name = baselines[0]
        base = variants[base_name]["bytes_per_second"]
        print("%s/%s: %.1f MB/s, %.4g items/s" % (figure, base_name, base / 1e6,
                                                 variants[base_name].get("items_per_second", 0.0)))
        for variant in sorted(v for v in variants if not v.startswith("baseline_")):
            b = variants[variant]
            ratio = b["bytes_per_second"] / base if base else 0.0
            allocs = b.get("allocs_per_item")
            print("  %s/%s: ratio = smtpp / %s = %.3f  (%.1f MB/s, %.4g items/s, allocs/item %s)" % (
                figure, variant, base_name, ratio, b["bytes_per_second"] / 1e6,
                b.get("items_per_second", 0.0), "-" if allocs is None else "%.3g" % allocs))
    for e in errors:
        print("ERROR " + e)
        status = 1
    return status


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: ratios.py RESULT.json")
    sys.exit(main(sys.argv[1]))
