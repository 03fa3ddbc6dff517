#!/usr/bin/env python3
"""Compile time with and without the instrumentation plugin, side by side.

For each translation unit, compiles it with and without
-fplugin=libcoroscope-instrument.so at -O0 and -O2, alternating the two
variants, and prints the median wall times and their ratio as a markdown
table, with the machine and the commands.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ASIO = ["-std=c++20", "-DASIO_HAS_CO_AWAIT"]
UNITS = [
    ("coroutines", "examples/jobqueue/server.cpp", ASIO),
    ("coroutines", "test/e2e/asio_tracked.cpp", ASIO + ["-Iruntime/include"]),
    ("coroutines", "examples/echo/echo.cpp", ASIO),
    ("none", "examples/jobqueue/job_store.cpp", ["-std=c++20"]),
    ("none", "bench/inputs/asio_sync.cpp", ["-std=c++20"]),
]


def timed(cmd):
    start = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clangxx", default="/usr/lib/llvm-19/bin/clang++")
    parser.add_argument("--plugin", default=os.path.join(
        ROOT, "build-llvm19", "lib", "libcoroscope-instrument.so"))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                  if l.startswith("model name")), "unknown CPU")
    print(f"machine: {model}, {os.cpu_count()} cores; {args.repeat} runs each, median\n")
    print("| TU | coroutines | opt | plain (s) | plugin (s) | ratio |")
    print("|---|---|---|---|---|---|")
    out = os.path.join(tempfile.mkdtemp(), "tu.o")
    commands = []
    for kind, path, flags in UNITS:
        if not os.path.exists(os.path.join(ROOT, path)):
            continue
        for opt in ("-O0", "-O2"):
            plain = [args.clangxx, opt, *flags, "-c", path, "-o", out]
            plugin = plain[:1] + [f"-fplugin={args.plugin}"] + plain[1:]
            commands.append(" ".join(plugin))
            times = {"plain": [], "plugin": []}
            for _ in range(args.repeat):
                times["plain"].append(timed(plain))
                times["plugin"].append(timed(plugin))
            a = statistics.median(times["plain"])
            b = statistics.median(times["plugin"])
            print(f"| {path} | {kind} | {opt} | {a:.2f} | {b:.2f} | {b / a:.2f} |",
                  flush=True)
    print("\ncommands (plain = the same without -fplugin):")
    for c in commands:
        print("    " + c)


if __name__ == "__main__":
    sys.exit(main())
