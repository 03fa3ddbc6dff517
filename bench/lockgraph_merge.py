#!/usr/bin/env python3
"""How fast `coroscope lockgraph` merges a large program's facts files.

Writes FILES synthetic facts files (default 10,000) of EDGES edges each
(default 100) into a temporary directory, in the format the
coro-lock-order-inversion check writes: lock classes named like real
members ("svc17::Session42::state_mu_"), real-looking sites, and one call
step on every third edge. The edges follow one global lock order, except
one planted inversion split over two files, so exactly one cycle exists.
Then runs `coroscope lockgraph DIR` ROUNDS times (default 3), checks that it
finds that one cycle (exit status 1), and prints the median wall time.

usage: bench/lockgraph_merge.py BUILD_DIR [FILES] [EDGES] [ROUNDS]
"""
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

build = os.path.abspath(sys.argv[1])
files = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
edges = int(sys.argv[3]) if len(sys.argv) > 3 else 100
rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 3
coroscope = os.path.join(build, "bin", "coroscope")

rng = random.Random(7)  # the same program every run
locks = ["svc%d::Session%d::%s" % (s, c, f) for s in range(50)
         for c in range(20) for f in ("state_mu_", "io_mu_", "stats_mu_")]


def site(tu):
    return {"file": tu, "line": rng.randint(1, 4000),
            "column": rng.randint(1, 80)}


def facts(tu, pairs):
    out = []
    for a, b in pairs:
        edge = {"from": locks[a], "to": locks[b],
                "function": "svc::Handler::step%d" % rng.randint(0, 500),
                "at": site(tu), "held_at": site(tu), "via": []}
        if rng.random() < 1 / 3:
            edge["via"].append({"function": "svc::flush%d" % rng.randint(0, 99),
                                "at": site(tu)})
        out.append(edge)
    tu_locks = sorted({locks[i] for p in pairs for i in p})
    return {"format": "coroscope-lockfacts", "version": 1,
            "translation_unit": tu, "locks": tu_locks, "edges": out}


def main():
    directory = tempfile.mkdtemp(prefix="lockgraph-bench-")
    try:
        total_bytes = 0
        for n in range(files):
            tu = "src/svc%d/unit%d.cpp" % (n % 50, n)
            pairs = set()
            while len(pairs) < edges:
                a, b = sorted(rng.sample(range(len(locks)), 2))
                pairs.add((a, b))
            pairs = sorted(pairs)
            if n == files // 3:
                pairs[0] = (1, 0)  # with file 0's or another's (0, 1): a cycle
            if n == 0:
                pairs[0] = (0, 1)
            path = os.path.join(directory, "unit%d.cpp-%08x.lockfacts.json" % (n, n))
            with open(path, "w") as f:
                text = json.dumps(facts(tu, pairs), separators=(",", ":"))
                f.write(text)
                total_bytes += len(text)
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            result = subprocess.run([coroscope, "lockgraph", directory],
                                    stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
            times.append(time.perf_counter() - start)
            if result.returncode != 1 or result.stdout.count("warning:") != 1:
                sys.exit("unexpected lockgraph result (exit %d):\n%s%s" %
                         (result.returncode, result.stdout, result.stderr))
        print("| facts files | edges each | total MB | merge median (s) | runs |")
        print("|---|---|---|---|---|")
        print("| %d | %d | %.1f | %.2f | %s |" % (
            files, edges, total_bytes / 1e6, statistics.median(times),
            ", ".join("%.2f" % t for t in times)))
        print(result.stderr.strip())
    finally:
        shutil.rmtree(directory)


main()
