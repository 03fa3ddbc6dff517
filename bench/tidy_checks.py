#!/usr/bin/env python3
"""The coro checks' cost on real Asio coroutine TUs, side by side in one run.

Every clang-tidy variant runs in the same binary, the matching
clang-tidy-N with `-load libcoroscope-tidy.so`, so the columns differ only
in the checks they run. For each TU, interleaved, ROUNDS rounds of:
  compile   clang++ -fsyntax-only                       (parse, no clang-tidy)
  parse     clang-tidy --checks=-*,objc-forbidden-subclassing
            (clang-tidy's parse-only run: that check is off for C++, so
            clang-tidy parses and runs no matcher; `-*` alone is refused)
  upstream  clang-tidy --checks=-*,misc-coroutine-hostile-raii
  <check>   clang-tidy --checks=-*,<check>, for each coro check given
Prints a Markdown table of median wall times, and each check's ratio to the
upstream check and its time over the parse-only run.

usage: bench/tidy_checks.py BUILD_DIR [ROUNDS] [CHECK...]
"""
import os
import statistics
import subprocess
import sys
import time

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
build = os.path.abspath(sys.argv[1])
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
checks = sys.argv[3:] or ["coro-blocking-call", "coro-unawaited-task",
                         "coro-lock-across-suspend",
                         "coro-lock-order-inversion",
                         "coro-dangling-reference"]
version = open(os.path.join(build, "CMakeCache.txt")).read().split(
    "COROSCOPE_LLVM_VERSION:STRING=")[1].split()[0]
llvm_bin = "/usr/lib/llvm-%s/bin" % version
plugin = os.path.join(build, "lib", "libcoroscope-tidy.so")
flags = ["-std=c++20", "-DASIO_HAS_CO_AWAIT", "-DBOOST_ASIO_HAS_CO_AWAIT",
         "-I" + os.path.join(root, "test/include")]
tus = ["examples/jobqueue/server.cpp",
       "test/checks/coro-blocking-call/asio.cpp",
       "test/checks/coro-blocking-call/boost-asio.cpp"]


def tidy(check_list):
    return lambda tu: [llvm_bin + "/clang-tidy", "-load=" + plugin, tu,
                       "--checks=-*," + check_list, "--"] + flags


variants = {"compile": lambda tu: [llvm_bin + "/clang++", "-fsyntax-only", tu] + flags,
            "parse": tidy("objc-forbidden-subclassing"),
            "upstream": tidy("misc-coroutine-hostile-raii")}
for check in checks:
    variants[check] = tidy(check)

# Every command must work before anything is timed.
for tu in tus:
    for name, cmd in variants.items():
        result = subprocess.run(cmd(os.path.join(root, tu)), cwd=root,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)
        if result.returncode != 0 or "error:" in result.stdout:
            sys.exit("error: %s fails:\n%s" % (" ".join(cmd(tu)), result.stdout))

times = {(tu, v): [] for tu in tus for v in variants}
for _ in range(rounds):
    for tu in tus:
        for name, cmd in variants.items():
            start = time.perf_counter()
            subprocess.run(cmd(os.path.join(root, tu)), cwd=root,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           check=False)
            times[(tu, name)].append(time.perf_counter() - start)

header = ["TU", "clang++ -fsyntax-only (s)", "clang-tidy parse only (s)",
          "misc-coroutine-hostile-raii (s)"] + ["%s (s)" % c for c in checks] + \
         ["%s / upstream" % c for c in checks]
print("| " + " | ".join(header) + " |")
print("|" + "---|" * len(header))
total = {v: 0.0 for v in variants}
for tu in tus + [None]:
    if tu is None:
        med = total
        label = "**all**"
    else:
        med = {v: statistics.median(times[(tu, v)]) for v in variants}
        for v in variants:
            total[v] += med[v]
        label = tu
    cells = [label] + ["%.3f" % med[v] for v in variants] + \
            ["%.3f" % (med[c] / med["upstream"]) for c in checks]
    print("| " + " | ".join(cells) + " |")
print()
for c in checks:
    print("- %s over the parse-only run: +%.3f s on %.3f s (%.1f %%)" % (
        c, total[c] - total["parse"], total["parse"],
        100.0 * (total[c] - total["parse"]) / total["parse"]))
print("- misc-coroutine-hostile-raii over the parse-only run: +%.3f s (%.1f %%)" % (
    total["upstream"] - total["parse"],
    100.0 * (total["upstream"] - total["parse"]) / total["parse"]))
