#!/usr/bin/env python3
"""The instrumentation's cost per operation, by engine, in one run.

Builds bench/engine_cost.cpp three ways with the same compiler and flags:
plain, with the plugin's source engine (-fplugin-arg-coroscope-engine=source),
and with its IR engine (-fplugin=..., the default); then runs five variants (plain;
each engine with tracking on; each with COROSCOPE=off) in interleaved
rounds, each pinned to one processor, and prints the median over the rounds
of each workload's nanoseconds per operation as a markdown table, with the
commands it ran.

usage: bench/engine_cost.py [--build DIR] [--rounds R] [--cpu N] [--work DIR]
"""
import argparse
import os
import shlex
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CXX = "clang++-19"
FLAGS = ["-std=c++20", "-O3", "-DNDEBUG"]
WORKLOADS = [
    ("clock_read", "the floor: one read of the TSC clock the runtime uses (x86-64)"),
    ("ready_await", "await on a ready awaiter (no suspension), per await"),
    ("suspend_resume", "real suspension + resume by hand, per suspension"),
    ("child_await", "child-task await incl. the child's start and end, per level"),
    ("generator_yield", "generator `co_yield` loop, per yield"),
]


def run(cmd, env=None):
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.exit(f"engine_cost.py: error: {shlex.join(cmd)} failed:\n{proc.stderr}")
    return proc.stdout


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default=os.path.join(ROOT, "build-llvm19"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cpu", type=int, default=1)
    parser.add_argument("--work", default="/tmp/coroscope-engine-cost")
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    plugin = os.path.join(args.build, "lib", "libcoroscope-instrument.so")
    runtime = [os.path.join(args.build, "runtime", "libcoroscope-runtime.so"), "-pthread"]
    source = os.path.join(ROOT, "bench", "engine_cost.cpp")
    base = [CXX, *FLAGS, "-I" + os.path.join(ROOT, "test", "include"), source]
    builds = {
        "plain": base,
        "source": base + [f"-fplugin={plugin}", "-fplugin-arg-coroscope-engine=source", *runtime],
        "ir": base + [f"-fplugin={plugin}", *runtime],
    }
    commands = []
    for name, cmd in builds.items():
        cmd = cmd + ["-o", os.path.join(args.work, name)]
        commands.append(shlex.join(cmd))
        run(cmd)
    env_on = dict(os.environ, COROSCOPE_SUMMARY="0")
    env_off = dict(os.environ, COROSCOPE="off")
    variants = [("plain", "plain", env_on), ("source engine", "source", env_on),
                ("IR engine", "ir", env_on), ("source, runtime off", "source", env_off),
                ("IR, runtime off", "ir", env_off)]
    results = {label: {w: [] for w, _ in WORKLOADS} for label, _, _ in variants}
    for round_ in range(args.rounds):
        order = variants[round_ % len(variants):] + variants[:round_ % len(variants)]
        for label, binary, env in order:
            out = run(["taskset", "-c", str(args.cpu), os.path.join(args.work, binary)], env)
            for line in out.splitlines():
                name, ns = line.split()
                results[label][name].append(float(ns))
    labels = [label for label, _, _ in variants]
    print("| workload | " + " | ".join(labels) + " |")
    print("|---|" + "---|" * len(labels))
    for name, what in WORKLOADS:
        if not results[labels[0]][name]:
            continue  # clock_read: x86-64 only
        cells = [f"{statistics.median(results[label][name]):.2f} ns" for label in labels]
        print(f"| {what} | " + " | ".join(cells) + " |")
    print(f"\n{args.rounds} rounds, interleaved, each binary pinned to CPU {args.cpu}; "
          "medians. Builds:")
    for command in commands:
        print(f"    {command}")


if __name__ == "__main__":
    main()
