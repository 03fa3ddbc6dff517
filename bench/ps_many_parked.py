#!/usr/bin/env python3
"""How long `coroscope ps` and `coroscope pstree` take on many live coroutines.

Builds bench/many_parked.cpp with the instrumentation plugin, starts it with
COUNT parked coroutines (plus the 100 spawners that made them), and times,
in R interleaved rounds, `coroscope ps PID --format json`, `coroscope ps PID`
and `coroscope pstree PID`, each writing to /dev/null. Each run's wall time
is a monotonic clock around the child; its CPU time (user + sys) is the
kernel's accounting of the child (wait4). Prints the median and range of
each as a markdown table, the size of each output, and the commands. The
target is stopped (through its stop file) and must exit 0.

With --also COROSCOPE (repeatable), the same three commands of another
coroscope binary run in the same rounds against the same target.

usage: bench/ps_many_parked.py [BUILD-DIR] [--count N] [--rounds R]
           [--clangxx CLANGXX] [--work DIR] [--also COROSCOPE]...
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


def fail(message, cmd=None, proc=None):
    print(f"ps_many_parked.py: error: {message}", file=sys.stderr)
    if cmd:
        print(f"  command:\n    {shlex.join(cmd)}", file=sys.stderr)
    if proc is not None:
        print(f"  exit status: {proc.returncode}\n  output:\n{proc.stdout}{proc.stderr}",
              file=sys.stderr)
    sys.exit(1)


def timed(cmd):
    """(wall s, cpu s, bytes written) of one run of cmd, its output counted."""
    errors = tempfile.TemporaryFile()  # a file: a full pipe would stall the child
    start = time.monotonic()
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errors)
    size = 0
    while chunk := child.stdout.read(1 << 20):
        size += len(chunk)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.monotonic() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode not in (0, 1):  # pstree exits 1 on a deadlock cycle
        errors.seek(0)
        fail(f"exit status {child.returncode}: {errors.read().decode(errors='replace')}", cmd)
    return wall, usage.ru_utime + usage.ru_stime, size


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("build", nargs="?", default=os.path.join(ROOT, "build-llvm19"))
    parser.add_argument("--count", type=int, default=100000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--clangxx", default="clang++-19")
    parser.add_argument("--work", default="/tmp/coroscope-ps-many")
    parser.add_argument("--also", metavar="COROSCOPE", action="append", default=[],
                        help="another coroscope binary to time in the same rounds, "
                             "on the same target (a change to the reader against the build)")
    opts = parser.parse_args()

    build = os.path.abspath(opts.build)
    coroscope = os.path.join(build, "bin", "coroscope")
    os.makedirs(opts.work, exist_ok=True)
    target = os.path.join(opts.work, "many_parked")
    stop = os.path.join(opts.work, "stop")
    compile_cmd = [opts.clangxx, "-std=c++20", "-O2",
                   f"-fplugin={build}/lib/libcoroscope-instrument.so",
                   os.path.join(ROOT, "bench", "many_parked.cpp"),
                   f"{build}/runtime/libcoroscope-runtime.so", "-pthread", "-o", target]
    proc = subprocess.run(compile_cmd, capture_output=True, text=True)
    if proc.returncode != 0 or "warning: coroscope" in proc.stderr:
        fail("the target did not build cleanly", compile_cmd, proc)

    if os.path.exists(stop):
        os.remove(stop)
    env = dict(os.environ, COROSCOPE_SUMMARY="0")
    # What the target's runtime prints (its hang reports) goes to a file.
    target_log = open(os.path.join(opts.work, "target.log"), "w")
    program = subprocess.Popen([target, str(opts.count), stop], stdout=subprocess.PIPE,
                               stderr=target_log, text=True, env=env)
    ready = program.stdout.readline().split()
    if len(ready) != 2 or ready[0] != "ready":
        fail(f"the target said {ready!r}, not 'ready PID'")
    pid = ready[1]
    rss_kb = next(int(line.split()[1]) for line in open(f"/proc/{pid}/status")
                  if line.startswith("VmRSS:"))

    commands = {}
    for n, tool in enumerate([coroscope] + [os.path.abspath(a) for a in opts.also]):
        label = "coroscope" if n == 0 else f"[{n}] coroscope"
        commands[f"{label} ps PID --format json"] = [tool, "ps", pid, "--format", "json"]
        commands[f"{label} ps PID"] = [tool, "ps", pid]
        commands[f"{label} pstree PID"] = [tool, "pstree", pid]
    results = {name: [] for name in commands}
    load = os.getloadavg()[0]
    try:
        for name, cmd in commands.items():  # one warm-up each
            timed(cmd)
        for r in range(opts.rounds):
            for name, cmd in commands.items():
                results[name].append(timed(cmd))
            print(f"round {r + 1}/{opts.rounds} done", file=sys.stderr)
    finally:
        open(stop, "w").close()
        status = program.wait(timeout=120)
        os.remove(stop)
    if status != 0:
        fail(f"the target exited {status}")

    def cell(values, digits=2):
        return (f"{statistics.median(values):.{digits}f} "
                f"({min(values):.{digits}f}-{max(values):.{digits}f})")

    print(f"\n{opts.count} parked coroutines + 100 spawners, one thread; target RSS "
          f"{rss_kb / 1024:.0f} MiB; {opts.rounds} interleaved rounds after a warm-up; "
          f"median (min-max)\n")
    print("| command | wall (s) | CPU, user + sys (s) | output (MB) |")
    print("|---|---|---|---|")
    for name, runs in results.items():
        print(f"| `{name}` | {cell([w for w, _, _ in runs])} | "
              f"{cell([c for _, c, _ in runs])} | {runs[0][2] / 1e6:.1f} |")
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), "?")
    print(f"\nMachine: {os.cpu_count()} cores ({cpu}); "
          f"load average before the runs: {load:.2f}; "
          f"{time.strftime('%Y-%m-%d')}")
    for n, tool in enumerate(opts.also, 1):
        print(f"- [{n}] is {os.path.abspath(tool)}")
    print("\nCommands:\n  " + shlex.join(compile_cmd))
    print("  " + shlex.join([target, str(opts.count), stop]) + "   # prints 'ready PID'")
    for cmd in commands.values():
        print("  " + shlex.join(cmd).replace(pid, "PID") + " > /dev/null")


if __name__ == "__main__":
    main()
