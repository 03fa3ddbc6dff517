#!/usr/bin/env python3
"""The coro checks over every corpora TU, side by side in one run.

For each TU that the corpora's run-checks.sh analyses (a compile database
entry whose text has co_await, co_yield or co_return), interleaved per TU:
  parse     clang-tidy --checks=-*,objc-forbidden-subclassing
            (parse only: that check is off for C++; `-*` alone is refused)
  upstream  clang-tidy --checks=-*,misc-coroutine-hostile-raii
  coro      clang-tidy --checks=-*,coro-*   (all the coro checks together)
All three are the same binary, clang-tidy-N -load libcoroscope-tidy.so, so
they differ only in the checks they run. Each run's CPU time (user + sys,
from wait4) is summed over the TUs; two TUs run at a time. The TU where the
coro checks add the most is then profiled with --enable-check-profile.

usage: bench/tidy_corpora.py BUILD_DIR CORPORA_WORKDIR [JOBS]
"""
import json
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

build = os.path.abspath(sys.argv[1])
workdir = os.path.abspath(sys.argv[2])
jobs = int(sys.argv[3]) if len(sys.argv) > 3 else 2
version = open(os.path.join(build, "CMakeCache.txt")).read().split(
    "COROSCOPE_LLVM_VERSION:STRING=")[1].split()[0]
tidy = "/usr/lib/llvm-%s/bin/clang-tidy" % version
plugin = os.path.join(build, "lib", "libcoroscope-tidy.so")
variants = {"parse": "objc-forbidden-subclassing",
            "upstream": "misc-coroutine-hostile-raii",
            "coro": "coro-*"}
keyword = re.compile(r"\bco_(await|yield|return)\b")


def pick(db_dir):
    seen, out = set(), []
    for entry in json.load(open(os.path.join(db_dir, "compile_commands.json"))):
        path = os.path.normpath(os.path.join(entry["directory"], entry["file"]))
        if path in seen or not path.endswith((".cpp", ".cc", ".cxx")):
            continue
        seen.add(path)
        try:
            if keyword.search(open(path, errors="ignore").read()):
                out.append(path)
        except OSError:
            pass
    return out


def command(db_dir, tu, checks, extra=()):
    return [tidy, "-load=" + plugin, "-p", db_dir, "--checks=-*," + checks,
            "--header-filter=.*", *extra, tu]


def cpu_seconds(cmd):
    with open(os.devnull, "w") as null:
        proc = subprocess.Popen(cmd, stdout=null, stderr=null)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        sys.exit("error: %s exited %d" % (" ".join(cmd), proc.returncode))
    return usage.ru_utime + usage.ru_stime


def measure(job):
    db_dir, tu = job
    return job, {name: cpu_seconds(command(db_dir, tu, checks))
                 for name, checks in variants.items()}


builds = sorted(path for path in (os.path.join(workdir, "build", name)
                                  for name in os.listdir(
                                      os.path.join(workdir, "build")))
                if os.path.isfile(os.path.join(path, "compile_commands.json")))
work = [(b, tu) for b in builds for tu in pick(b)]
with ThreadPoolExecutor(jobs) as pool:
    results = list(pool.map(measure, work))

total = {name: sum(r[name] for _, r in results) for name in variants}
print("TUs: %d in %d builds under %s" % (len(results), len(builds), workdir))
print("| variant | CPU time over all TUs (s) | / parse only |")
print("|---|---|---|")
labels = {"parse": "clang-tidy parse only",
          "upstream": "misc-coroutine-hostile-raii",
          "coro": "the coro checks together"}
for name in variants:
    print("| %s | %.1f | %.3f |" % (labels[name], total[name],
                                    total[name] / total["parse"]))
(slow_db, slow_tu), slow = max(results,
                               key=lambda r: r[1]["coro"] - r[1]["parse"])
print()
print("slowest TU for the coro checks: %s (parse %.2f s, coro %.2f s, +%.2f s)"
      % (os.path.relpath(slow_tu, workdir), slow["parse"], slow["coro"],
         slow["coro"] - slow["parse"]))
with tempfile.TemporaryDirectory() as profile_dir:
    subprocess.run(command(slow_db, slow_tu, "coro-*",
                           ["--enable-check-profile",
                            "--store-check-profile=" + profile_dir]),
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for name in os.listdir(profile_dir):
        profile = json.load(open(os.path.join(profile_dir, name)))
        times = {key.split(".", 1)[1]: value
                 for key, value in profile.get("profile", {}).items()
                 if key.endswith(".wall")}
        for key, seconds in sorted(times.items(), key=lambda kv: -kv[1]):
            print("  %s: %.3f s (wall)" % (key, seconds))
