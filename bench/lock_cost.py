#!/usr/bin/env python3
"""The cost of lock tracking, and of the await path before and after it.

lock_cost.py RUNTIME_BENCH [BASELINE_RUNTIME_BENCH] [ROUNDS]

Runs runtime_bench's lock workloads (an uncontended std::lock_guard, alone
and nested in another) uninstrumented, tracked with the runtime on, and
tracked with it off; and, when a baseline runtime_bench built from an older
commit is given, the await workloads of both binaries, interleaved round by
round so that the machine's drift falls on both. Prints the median of the
rounds for each row, and the ratios the goals name.
"""
import statistics
import subprocess
import sys


def run(binary, pattern):
    out = subprocess.run([binary, "--benchmark_filter=" + pattern,
                          "--benchmark_min_time=0.5", "--benchmark_format=csv"],
                         capture_output=True, text=True, check=True).stdout
    rows = {}
    header = None
    for line in out.splitlines():
        cells = line.split(",")
        if cells[0] == "name":
            header = [c.strip('"') for c in cells]
            continue
        if header is None or len(cells) != len(header):
            continue
        row = dict(zip(header, cells))
        counter = row.get("per_lock") or row.get("per_await")
        if counter:
            rows[row["name"].strip('"')] = float(counter) * 1e9
    return rows


def main():
    bench = sys.argv[1]
    baseline = sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] != "-" else None
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    samples = {}
    awaits = "^(ready_loop|child_chain)/(uninstrumented|tracking|runtime_off)$"
    for _ in range(rounds):
        for name, ns in run(bench, "lock").items():
            samples.setdefault(name, []).append(ns)
        if baseline:
            for name, ns in run(baseline, awaits).items():
                samples.setdefault("baseline " + name, []).append(ns)
            for name, ns in run(bench, awaits).items():
                samples.setdefault("this " + name, []).append(ns)
    median = {name: statistics.median(values) for name, values in samples.items()}
    for name in sorted(median):
        print(f"{name:48} {median[name]:9.2f} ns  (rounds: "
              + " ".join(f"{v:.1f}" for v in samples[name]) + ")")
    for workload in ("lock_guard", "nested_lock_guards"):
        plain = median.get(workload + "/uninstrumented")
        if plain:
            print(f"{workload}: tracking / uninstrumented = "
                  f"{median[workload + '/tracking'] / plain:.2f}, runtime off / uninstrumented = "
                  f"{median[workload + '/runtime_off'] / plain:.2f}")
    if baseline:
        for workload in ("ready_loop/tracking", "child_chain/tracking"):
            print(f"{workload}: this / baseline = "
                  f"{median['this ' + workload] / median['baseline ' + workload]:.3f}")


if __name__ == "__main__":
    main()
