#!/usr/bin/env python3
"""Compile time with and without the instrumentation plugin, side by side.

For each translation unit, compiles it (-c, to a temporary .o) with and
without -fplugin=libcoroscope-instrument.so, at -O0 and -O2. Every command is
first run once, untimed: it must succeed both ways, and the plugin must print
no "warning: coroscope" (the run fails loudly otherwise). Then R rounds, each
running every TU at both levels, plain then plugin, so the two variants
alternate (A B A B ...) and load drifts hit both alike. Prints the median wall
time of each variant and their ratio as a markdown table, then the
source-to-source step (`coroscope instrument --quiet --diff`) on the
coroutine TUs, the machine and the exact command lines.

Run from anywhere; commands run in the repository root, paths relative to it.

usage: bench/instrument_compile.py [--repeat R] [--clangxx CLANGXX]
           [--plugin PLUGIN] [--plugin-arg ARG]... [--coroscope CORO]
           [--rewrite-repeat N]
"""
import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ASIO = ["-std=c++20", "-DASIO_HAS_CO_AWAIT"]
# (what the TU holds, path relative to ROOT, flags). The flags are the ones
# the project's own build uses.
UNITS = [
    ("coroutines (Asio)", "examples/jobqueue/server.cpp",
     ASIO + ["-Iexamples/jobqueue"]),
    ("coroutines (Asio), already instrumented", "test/e2e/asio_tracked.cpp",
     ASIO + ["-Iruntime/include"]),
    ("coroutines (Asio)", "examples/echo/echo.cpp", ASIO),  # if present
    ("none", "examples/jobqueue/job_store.cpp",
     ASIO + ["-Iexamples/jobqueue"]),
    ("none (Asio, synchronous)", "bench/inputs/asio_sync.cpp", ["-std=c++20"]),
]
OPTS = ["-O0", "-O2"]


def fail(message, cmd=None, proc=None):
    print(f"instrument_compile.py: error: {message}", file=sys.stderr)
    if cmd:
        print(f"  command (in {ROOT}):\n    {shlex.join(cmd)}", file=sys.stderr)
    if proc is not None:
        print(f"  exit status: {proc.returncode}", file=sys.stderr)
        print("  output:\n" + (proc.stdout or "") + (proc.stderr or ""),
              file=sys.stderr)
    sys.exit(1)


def run(cmd):
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)


def timed(cmd):
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        fail("a timed run failed (it passed the check run)", cmd, run(cmd))
    return elapsed


def machine():
    model = "unknown CPU"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    cores = subprocess.run(["nproc"], capture_output=True,
                           text=True).stdout.strip()
    return model, cores


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clangxx", default="/usr/lib/llvm-19/bin/clang++")
    parser.add_argument("--plugin", default=os.path.join(
        ROOT, "build-llvm19", "lib", "libcoroscope-instrument.so"))
    parser.add_argument("--coroscope", default=os.path.join(
        ROOT, "build-llvm19", "bin", "coroscope"),
        help="the coroscope binary, for the source-to-source step")
    parser.add_argument("--plugin-arg", action="append", default=[],
                        help="an argument for the plugin, as "
                             "-fplugin-arg-coroscope-ARG (engine=source)")
    parser.add_argument("--repeat", type=int, default=5,
                        help="timed runs of each compile (default 5)")
    parser.add_argument("--rewrite-repeat", type=int, default=3,
                        help="timed runs of `coroscope instrument` "
                             "(default 3; 0 to skip)")
    args = parser.parse_args()
    for path in (args.clangxx, args.plugin):
        if not os.path.exists(path):
            fail(f"{path} not found")

    units = [u for u in UNITS if os.path.exists(os.path.join(ROOT, u[1]))]
    skipped = [u[1] for u in UNITS if u not in units]
    tmp = tempfile.mkdtemp(prefix="instrument_compile.")
    out = os.path.join(tmp, "tu.o")

    # Every (TU, level): the plain command and the plugin one.
    jobs = []
    for kind, path, flags in units:
        for opt in OPTS:
            plain = [args.clangxx, opt, *flags, "-c", path, "-o", out]
            plugin = [args.clangxx, f"-fplugin={args.plugin}",
                      *(f"-fplugin-arg-coroscope-{a}" for a in args.plugin_arg),
                      *plain[1:]]
            jobs.append((kind, path, opt, plain, plugin))

    # Check run: both variants compile; the plugin warns about nothing; what
    # it did, from a verbose run (untimed).
    did = {}
    for kind, path, opt, plain, plugin in jobs:
        print(f"checking {path} {opt}", file=sys.stderr, flush=True)
        for cmd in (plain, plugin):
            proc = run(cmd)
            if proc.returncode != 0:
                fail("compile failed", cmd, proc)
            if "warning: coroscope" in proc.stderr:
                fail("the plugin warned", cmd, proc)
        verbose = plugin[:2] + ["-fplugin-arg-coroscope-verbose"] + plugin[2:]
        proc = run(verbose)
        if proc.returncode != 0 or "warning: coroscope" in proc.stderr:
            fail("the plugin failed or warned (verbose run)", verbose, proc)
        summary = [l[len("coroscope: " + path + ": "):]
                   for l in proc.stderr.splitlines()
                   if l.startswith("coroscope: " + path + ": ")]
        ir = [l.rsplit(": ", 1)[1].split()[0] for l in proc.stderr.splitlines()
              if l.startswith("coroscope: ir: ")]
        if ir:
            summary = [f"{len(ir)} coroutines, "
                       f"{sum(int(n) for n in ir)} suspension points (IR engine)"]
        did[path] = summary[0] if summary else "nothing"

    times = {(path, opt): {"plain": [], "plugin": []}
             for _, path, opt, _, _ in jobs}
    for round_ in range(args.repeat):
        print(f"round {round_ + 1}/{args.repeat}", file=sys.stderr, flush=True)
        for kind, path, opt, plain, plugin in jobs:
            times[(path, opt)]["plain"].append(timed(plain))
            times[(path, opt)]["plugin"].append(timed(plugin))

    # Source-to-source step on the coroutine TUs.
    rewrites = []
    if args.rewrite_repeat > 0:
        for kind, path, flags in units:
            if not kind.startswith("coroutines"):
                continue
            cmd = [args.coroscope, "instrument", "--quiet", "--diff", path,
                   "--", *flags]
            proc = run(cmd)
            if proc.returncode != 0 or proc.stderr.strip():
                fail("coroscope instrument failed or printed a diagnostic",
                     cmd, proc)
            samples = [timed(cmd) for _ in range(args.rewrite_repeat)]
            rewrites.append((path, cmd, statistics.median(samples)))

    model, cores = machine()
    version = run([args.clangxx, "--version"]).stdout.splitlines()[0]
    print(f"Machine: {model}, {cores} cores (nproc); {version}.")
    print(f"Compile: median of {args.repeat} runs of each variant, "
          f"alternating plain and plugin.\n")
    print("| TU | coroutines | plugin's edits | opt | plain (s) | plugin (s) "
          "| ratio | per-round ratios |")
    print("|---|---|---|---|---|---|---|---|")
    medians = {}
    for kind, path, opt, plain, plugin in jobs:
        t = times[(path, opt)]
        a, b = statistics.median(t["plain"]), statistics.median(t["plugin"])
        medians[(path, opt)] = a
        pairs = [y / x for x, y in zip(t["plain"], t["plugin"])]
        print(f"| {path} | {kind} | {did[path]} | {opt} | {a:.2f} | {b:.2f} "
              f"| {b / a:.2f} | {min(pairs):.2f}-{max(pairs):.2f} |")
    if skipped:
        print(f"\n(absent, skipped: {', '.join(skipped)})")

    if rewrites:
        print(f"\nSource to source: median of {args.rewrite_repeat} runs.\n")
        print("| TU | coroscope instrument --diff (s) | plain -O0 compile (s) |")
        print("|---|---|---|")
        for path, cmd, median in rewrites:
            print(f"| {path} | {median:.2f} | {medians[(path, '-O0')]:.2f} |")

    print(f"\nCommands, run in {ROOT} (plain = the same without -fplugin; "
          f"-O2 the same with -O2):\n")
    for kind, path, opt, plain, plugin in jobs:
        if opt == "-O0":
            print("    " + shlex.join(plugin))
    for path, cmd, median in rewrites:
        print("    " + shlex.join(cmd) + " >/dev/null")

    for name in os.listdir(tmp):
        os.remove(os.path.join(tmp, name))
    os.rmdir(tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
