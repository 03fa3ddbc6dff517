#!/usr/bin/env python3
"""Per-await and per-coroutine cost of revisions of the runtime, in one run.

Builds bench/layout_cost.cpp (with bench/layout_cost_workload.cpp) once
against each revision's runtime headers, library and instrumentation
plugin, and runs the binaries in interleaved rounds (A B C, B C A, ...), each
pinned to the same processor, so that load drifts hit all alike. Prints, for
each variant (uninstrumented, hand-instrumented, plugin-instrumented) of each
workload (await, coroutine), the median and the range over the rounds of
each revision, and the median and range of the per-round ratios to the
first revision, as a markdown table; then the commands it ran.

Each revision comes from `git archive REV` (the work tree is never touched):
its runtime is configured on its own (runtime/CMakeLists.txt), Release,
with clang++-19; its instrumentation plugin is built from the whole project
(only the plugin target). The benchmark sources are copied into each
revision's tree, so each one includes its own test/runtime/support.hpp.
All binaries are compiled by the same compiler with the same flags.

Then, unless --no-instructions, each variant's instructions per await or per
coroutine under valgrind (callgrind's Ir): a count that does not depend on
what else the machine runs.

usage: bench/layout_cost.py [BASELINE-REV REV...] [--rounds R]
           [--min-time S] [--cpu N] [--work DIR] [--no-instructions]
       (default revisions: 93cd136 HEAD)
"""
import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CXX = "clang++-19"
FLAGS = ["-std=c++20", "-O3", "-DNDEBUG"]  # CMake's Release flags
SOURCES = ["layout_cost.cpp", "layout_cost.hpp", "layout_cost_workload.cpp"]
VARIANTS = ["await/uninstrumented", "await/hand", "await/plugin",
            "coroutine/uninstrumented", "coroutine/hand", "coroutine/plugin"]
COUNTER = {"await": "per_await", "coroutine": "per_coroutine"}


def fail(message, cmd=None, proc=None):
    print(f"layout_cost.py: error: {message}", file=sys.stderr)
    if cmd:
        print(f"  command:\n    {shlex.join(cmd)}", file=sys.stderr)
    if proc is not None:
        print(f"  exit status: {proc.returncode}", file=sys.stderr)
        print("  output:\n" + (proc.stdout or "")[-4000:] +
              (proc.stderr or "")[-4000:], file=sys.stderr)
    sys.exit(1)


def run(cmd, **kwargs):
    proc = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if proc.returncode != 0:
        fail("a command failed", cmd, proc)
    return proc


def build(rev, work, log):
    """(commit, the benchmark binary for it), built under work/COMMIT."""
    full = run(["git", "-C", ROOT, "rev-parse", "--verify", rev + "^{commit}"]).stdout.strip()
    base = os.path.join(work, full[:12])
    src = os.path.join(base, "src")
    stamp = os.path.join(base, "REV")
    if not (os.path.exists(stamp) and open(stamp).read() == full):
        shutil.rmtree(base, ignore_errors=True)
        os.makedirs(src)
        archive = subprocess.Popen(["git", "-C", ROOT, "archive", full],
                                   stdout=subprocess.PIPE)
        run(["tar", "-x", "-C", src], stdin=archive.stdout)
        if archive.wait() != 0:
            fail(f"git archive {full} failed")
        open(stamp, "w").write(full)
    steps = [
        ["cmake", "-S", os.path.join(src, "runtime"), "-B", os.path.join(base, "runtime"),
         "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release", f"-DCMAKE_CXX_COMPILER={CXX}",
         "-DBUILD_TESTING=OFF"],
        ["ninja", "-C", os.path.join(base, "runtime"), "-j2", "coroscope_runtime"],
        ["cmake", "-S", src, "-B", os.path.join(base, "build"), "-G", "Ninja",
         "-DCMAKE_BUILD_TYPE=Release", "-DBUILD_TESTING=OFF", "-DCOROSCOPE_LLVM_VERSION=19"],
        ["ninja", "-C", os.path.join(base, "build"), "-j2", "coroscope-instrument-plugin"],
    ]
    bench = os.path.join(src, "bench")
    for name in SOURCES:
        shutil.copy(os.path.join(ROOT, "bench", name), os.path.join(bench, name))
    include = ["-I", os.path.join(src, "runtime", "include")]
    plugin = os.path.join(base, "build", "lib", "libcoroscope-instrument.so")
    obj = lambda name: os.path.join(base, name)
    workload = os.path.join(bench, "layout_cost_workload.cpp")
    steps += [
        [CXX, *FLAGS, *include, "-DLAYOUT_COST_NS=plain", "-c", workload, "-o", obj("plain.o")],
        [CXX, *FLAGS, *include, "-DLAYOUT_COST_NS=plugin", f"-fplugin={plugin}",
         "-c", workload, "-o", obj("plugin.o")],
        [CXX, *FLAGS, *include, "-c", os.path.join(bench, "layout_cost.cpp"),
         "-o", obj("main.o")],
        [CXX, obj("main.o"), obj("plain.o"), obj("plugin.o"),
         os.path.join(base, "runtime", "libcoroscope-runtime.so"), "-lbenchmark", "-pthread",
         "-o", obj("layout_cost")],
    ]
    for cmd in steps:
        log.append(cmd)
        proc = run(cmd)
        if "warning: coroscope" in proc.stderr:
            fail("the plugin warned", cmd, proc)
    # The plugin must have instrumented the workload, and only that copy.
    undefined = lambda o: run(["nm", "-u", "-C", obj(o)]).stdout
    if "coroscope::" not in undefined("plugin.o") or "coroscope::" in undefined("plain.o"):
        fail(f"{full}: the plugin did not instrument layout_cost_workload.cpp alone")
    return full, obj("layout_cost")


def bench_once(binary, args):
    cmd = args["pin"] + [binary, f"--benchmark_min_time={args['min_time']}",
                         "--benchmark_format=json"]
    out = json.loads(run(cmd).stdout)
    figures = {}
    for b in out["benchmarks"]:
        kind = b["name"].split("/")[0]
        figures[b["name"]] = b[COUNTER[kind]] * 1e9  # seconds per item -> ns
    return figures, out["context"]


def instructions(binary, variant, repeat):
    """Instructions (valgrind's Ir) of `binary --repeat variant repeat`."""
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
           binary, "--repeat", variant, str(repeat)]
    proc = run(cmd)
    for line in proc.stderr.splitlines():
        if "Collected :" in line:
            return int(line.split(":")[-1])
    fail("no instruction count from valgrind", cmd, proc)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("revs", nargs="*", default=["93cd136", "HEAD"],
                        help="revisions, the first the baseline (default: 93cd136 HEAD)")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--min-time", type=float, default=0.5,
                        help="Google Benchmark's --benchmark_min_time per variant")
    parser.add_argument("--cpu", default="1", help="processor to pin to ('' for none)")
    parser.add_argument("--work", default="/tmp/coroscope-layout-cost")
    parser.add_argument("--no-instructions", action="store_true",
                        help="skip the instruction counts under valgrind")
    opts = parser.parse_args()
    if len(opts.revs) < 2:
        parser.error("give at least two revisions")

    log = []
    sides = []  # (short hash, binary), the baseline first
    for rev in opts.revs:
        full, binary = build(rev, opts.work, log)
        sides.append((full[:7], binary))
    names = [name for name, _ in sides]
    if len(set(names)) != len(names):
        parser.error("the revisions name the same commit twice")
    pin = ["taskset", "-c", opts.cpu] if opts.cpu and shutil.which("taskset") else []
    args = {"pin": pin, "min_time": opts.min_time}

    results = {name: {v: [] for v in VARIANTS} for name in names}
    ratios = {name: {v: [] for v in VARIANTS} for name in names[1:]}
    context = {}
    for r in range(opts.rounds):
        # Each round runs every revision once, in an order that rotates.
        order = sides[r % len(sides):] + sides[:r % len(sides)]
        this_round = {}
        for name, binary in order:
            figures, context[name] = bench_once(binary, args)
            this_round[name] = figures
            for v in VARIANTS:
                results[name][v].append(figures[v])
        for name in names[1:]:
            for v in VARIANTS:
                ratios[name][v].append(this_round[name][v] / this_round[names[0]][v])
        print(f"round {r + 1}/{opts.rounds} done", file=sys.stderr)

    def cell(values):
        return (f"{statistics.median(values):.2f} "
                f"({min(values):.2f}-{max(values):.2f})")

    base = names[0]
    print(f"\n{opts.rounds} interleaved rounds, {opts.min_time} s per variant a round; "
          f"ns per await (await) or per child coroutine (coroutine); "
          f"median (min-max) over the rounds; ratios to {base} taken per round\n")
    print("| variant | " + " | ".join(f"{n} (ns)" for n in names) + " | " +
          " | ".join(f"{n} / {base}" for n in names[1:]) + " |")
    print("|---" * (2 * len(names)) + "|")
    for v in VARIANTS:
        cells = [cell(results[n][v]) for n in names]
        cells += [f"{statistics.median(ratios[n][v]):.3f} "
                  f"({min(ratios[n][v]):.3f}-{max(ratios[n][v]):.3f})" for n in names[1:]]
        print(f"| {v} | " + " | ".join(cells) + " |")
    print()
    if not opts.no_instructions and shutil.which("valgrind"):
        # 100 runs of the workload more, so start-up and exit cancel out.
        low, high = 20, 120
        per = (high - low) * 1000
        print("Instructions (valgrind --tool=callgrind, Ir) per await or per child "
              f"coroutine: (Ir at --repeat {high} - Ir at --repeat {low}) / {per}\n")
        print("| variant | " + " | ".join(names) + " | " +
              " | ".join(f"{n} - {base}" for n in names[1:]) + " |")
        print("|---" * (2 * len(names)) + "|")
        for v in VARIANTS:
            counts = {n: (instructions(b, v, high) - instructions(b, v, low)) / per
                      for n, b in sides}
            print(f"| {v} | " + " | ".join(f"{counts[n]:.1f}" for n in names) + " | " +
                  " | ".join(f"{counts[n] - counts[base]:+.1f}" for n in names[1:]) + " |")
        print()
    for name in names:
        plain = {k: statistics.median(results[name][f"{k}/uninstrumented"])
                 for k in ("await", "coroutine")}
        over = ", ".join(
            f"{v}: {statistics.median(results[name][v]) - plain[v.split('/')[0]]:+.2f} ns"
            for v in VARIANTS if not v.endswith("uninstrumented"))
        print(f"- {name}: sizeof(coroscope::frame) = "
              f"{context[name].get('coroscope_frame_bytes', '?')} bytes; "
              f"time over uninstrumented: {over}")
    ctx = context[base]
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    compiler = run([CXX, "--version"]).stdout.splitlines()[0]
    print(f"\nMachine: {os.cpu_count()} cores ({cpu}), {ctx.get('mhz_per_cpu', '?')} MHz; "
          f"{compiler}; pinned: {shlex.join(pin) or 'no'}; "
          f"load average at the end: {os.getloadavg()[0]:.2f}; {time.strftime('%Y-%m-%d')}")
    print("\nCommands (build, per revision):")
    for cmd in log:
        print("  " + shlex.join(cmd))
    if not opts.no_instructions:
        print("Instructions, per revision and variant, N = 20 and 120:")
        print("  valgrind --tool=callgrind --callgrind-out-file=/dev/null "
              "WORK/COMMIT/layout_cost --repeat VARIANT N")
    print("Each round, per revision:")
    for _, binary in sides:
        print("  " + shlex.join(pin + [binary, f"--benchmark_min_time={opts.min_time}",
                                       "--benchmark_format=json"]))


if __name__ == "__main__":
    main()
