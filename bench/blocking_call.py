#!/usr/bin/env python3
"""coro-blocking-call cost on real Asio coroutine TUs, side by side in one run.

For each TU, interleaved, N rounds of:
  parse    clang++ -fsyntax-only
  upstream clang-tidy --checks=-*,misc-coroutine-hostile-raii
  coro     coroscope-tidy --checks=-*,coro-blocking-call
Prints the median wall time of each and the ratio coro/upstream.

usage: bench/blocking_call.py BUILD_DIR [ROUNDS]
"""
import os
import statistics
import subprocess
import sys
import time

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
build = os.path.abspath(sys.argv[1])
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
version = open(os.path.join(build, "CMakeCache.txt")).read().split(
    "COROSCOPE_LLVM_VERSION:STRING=")[1].split()[0]
llvm_bin = "/usr/lib/llvm-%s/bin" % version
flags = ["-std=c++20", "-DASIO_HAS_CO_AWAIT", "-DBOOST_ASIO_HAS_CO_AWAIT",
         "-I" + os.path.join(root, "test/include")]
tus = ["examples/jobqueue/server.cpp",
       "test/checks/coro-blocking-call/asio.cpp",
       "test/checks/coro-blocking-call/boost-asio.cpp"]
variants = {
    "parse": lambda tu: [llvm_bin + "/clang++", "-fsyntax-only", tu] + flags,
    "upstream": lambda tu: [llvm_bin + "/clang-tidy", tu,
                            "--checks=-*,misc-coroutine-hostile-raii", "--"] + flags,
    "coro": lambda tu: [build + "/bin/coroscope-tidy", tu,
                        "--checks=-*,coro-blocking-call", "--"] + flags,
}
times = {(tu, v): [] for tu in tus for v in variants}
for _ in range(rounds):
    for tu in tus:
        for name, cmd in variants.items():
            start = time.perf_counter()
            subprocess.run(cmd(os.path.join(root, tu)), cwd=root,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           check=False)
            times[(tu, name)].append(time.perf_counter() - start)
print("| TU | parse (s) | misc-coroutine-hostile-raii (s) | coro-blocking-call (s) | coro / upstream |")
print("|---|---|---|---|---|")
total = {v: 0.0 for v in variants}
for tu in tus:
    med = {v: statistics.median(times[(tu, v)]) for v in variants}
    for v in variants:
        total[v] += med[v]
    print("| %s | %.3f | %.3f | %.3f | %.3f |" % (
        tu, med["parse"], med["upstream"], med["coro"], med["coro"] / med["upstream"]))
print("| **all** | %.3f | %.3f | %.3f | %.3f |" % (
    total["parse"], total["upstream"], total["coro"], total["coro"] / total["upstream"]))
