#!/usr/bin/env python3
"""How fast `coroscope link` links a large program's facts files.

Writes the facts of a synthetic program of FILES translation units (default
10,000) of FUNCS functions each (default 100) into a temporary directory,
two files per TU as the checks write them with their FactsDirectory
option: `<tu>-<hex>.blockfacts.json` (coro-blocking-call: coroutines,
blocking calls, calls) and `<tu>-<hex>.lockfacts.json`
(coro-lock-order-inversion: acquisitions, calls and the locks held at
them), in format 3 (JSON Lines, one function per line, sorted by USR), as
checks/FactsFile.cpp writes them. Then runs `coroscope link --source-root
EMPTY DIR` ROUNDS times (default 3) and prints the median wall time, the
median CPU time (user + system, all of its threads; steadier than wall
time on a shared machine) and the link process's peak RSS; it does so at
a quarter, half and all of FILES, each a program of its own, to show how
the time grows.

The program (seeded: the same bytes every run):
- Each TU has internal functions (the first three quarters) and API
  functions (the last quarter, in two halves). A function calls 2 to 4
  others, 3 on average. Internal functions call their own TU's functions
  and, one call in three, an API function of a random other TU (a quarter
  of all calls cross TUs); API functions call only their own TU's API
  functions. One local call in ten goes "up" to an earlier function of the
  same part, so calls recurse.
- 5 % of functions are coroutines (a coroutine's calls to coroutines are
  awaited in the lock facts); about 1 % block (sleep, a condition
  variable, a read): internal helpers at 1.25 %, whose chains stay inside
  their TU (coro-blocking-call's own finding), and API functions at 0.2 %,
  whose callers in other TUs are what the link reports.
- 10 % of functions acquire a lock, from a pool of 3,000 named like members
  ("svc17::Session42::state_mu_"): the internal, first-API and second-API
  parts of TU t each have their own lock, ranked by part, then by t; half
  the calls of a function that acquires hold its lock. Every call goes to a
  part of an equal or higher rank, so the orders through calls follow one
  global order, except one planted cross-TU inversion: a function of TU
  FILES/3 holds a ledger lock while calling into TU 2*FILES/3, which holds
  the other ledger lock while calling back. Exactly one lock-order cycle
  exists; the script checks that `coroscope link` reports it (exit status
  1; 2, bad input, fails the benchmark).
- "inputs" name the TU and its service's header; they do not exist under
  --source-root (an empty directory), so the staleness check skips them.

usage: bench/link_merge.py BUILD_DIR [FILES] [FUNCS] [ROUNDS]
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

if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
    sys.exit(__doc__.rstrip().rsplit("\n", 1)[-1])
build = os.path.abspath(sys.argv[1])
files = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
funcs = int(sys.argv[3]) if len(sys.argv) > 3 else 100
rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 3
coroscope = os.path.join(build, "bin", "coroscope")
if files < 4 or funcs < 8 or rounds < 1:
    sys.exit("need FILES >= 4, FUNCS >= 8, ROUNDS >= 1")

SERVICES = 50
LOCKS_PER_RANK = 1000  # three parts: 3,000 lock classes
locks = ["svc%d::Session%d::%s" % (s, c, f)
         for f in ("state_mu_", "io_mu_", "stats_mu_")
         for s in range(SERVICES) for c in range(LOCKS_PER_RANK // SERVICES)]
BLOCKERS = [("'std::this_thread::sleep_for'", "sleeping"),
            ("'std::condition_variable::wait'",
             "waiting on a condition variable"),
            ("'::read'", "blocking I/O")]
MASK = (1 << 64) - 1


def mix(*values):
    """A deterministic 64-bit hash of small integers."""
    h = 0x9E3779B97F4A7C15
    for v in values:
        h = ((h ^ v) * 0xBF58476D1CE4E5B9) & MASK
        h ^= h >> 31
    return h


def is_coroutine(tu, index):
    # Known to every caller, in any TU: whether its call is co_awaited.
    return mix(1, tu, index) % 20 == 0


class Shape:
    def __init__(self, units):
        self.units = units
        self.internal = funcs * 3 // 4       # [0, internal)
        self.api_low = self.internal + (funcs - self.internal) // 2
        # parts: 0 internal, 1 [internal, api_low), 2 [api_low, funcs)

    def part(self, index):
        return 0 if index < self.internal else 1 if index < self.api_low else 2

    def begin(self, part):
        return (0, self.internal, self.api_low)[part]

    def lock(self, tu, part):
        return locks[part * LOCKS_PER_RANK + tu * LOCKS_PER_RANK // self.units]


def usr_name(tu, index, shape):
    svc = tu % SERVICES
    kind = "step" if index < shape.internal else "api"
    return ("c:@N@svc%d@F@%s%d_%d#" % (svc, kind, tu, index),
            "svc%d::%s%d_%d" % (svc, kind, tu, index))


def site(path, line, column):
    return {"file": path, "line": line, "column": column}


def encode(fact, table):
    """A summary as format 3 writes it: an array whose strings are indices
    into the file's string table (a dict, in order of first use)."""
    def s(text):
        return table.setdefault(text, len(table))

    def place(at):
        return [s(at["file"]), at["line"], at["column"]]

    def lock_at(entry):
        return [s(entry["lock"])] + place(entry["at"])

    calls = []
    for call in fact.get("calls", ()):
        entry = [s(call["usr"]), s(call["name"])] + place(call["at"])
        if call.get("awaited") or call.get("held"):
            entry += [1 if call.get("awaited") else 0, [],
                      [lock_at(h) for h in call.get("held", ())]]
        calls.append(entry)
    blocks = fact.get("blocks")
    return ([s(fact["usr"]), s(fact["name"])] + place(fact["at"]) +
            [fact["hash"], 1 if fact.get("coroutine") else 0,
             [s(blocks["subject"]), s(blocks["reason"])] +
             place(blocks["at"]) if blocks else 0,
             [lock_at(a) for a in fact.get("acquires", ())], calls])


def unit_functions(tu, shape, rng):
    """The TU's functions, as (index, coroutine, blocks, lock, calls), with
    calls as ((callee's TU, callee's index), whether it holds the lock)."""
    out = []
    for i in range(funcs):
        part = shape.part(i)
        coroutine = is_coroutine(tu, i)
        blocks = None
        if not coroutine and rng.random() < (0.0125 if part == 0 else 0.002):
            blocks = BLOCKERS[rng.randrange(len(BLOCKERS))]
        lock = shape.lock(tu, part) if rng.random() < 0.10 else None
        calls = []
        for _ in range(rng.choice((2, 3, 3, 4))):
            if part == 0 and rng.random() < 1 / 3:
                other = rng.randrange(shape.units - 1)
                other += other >= tu
                target = (other, rng.randrange(shape.internal, funcs))
            elif rng.random() < 0.1 and i > shape.begin(part):
                target = (tu, rng.randrange(shape.begin(part), i))  # up
            elif i + 1 < funcs:
                target = (tu, rng.randrange(i + 1, funcs))  # down
            else:
                continue
            calls.append((target, lock is not None and rng.random() < 0.5))
        out.append((i, coroutine, blocks, lock, calls))
    return out


def render(tu, shape, rng, planted):
    """The TU's two facts files' text."""
    svc = tu % SERVICES
    path = "src/svc%d/unit%d.cpp" % (svc, tu)
    header = "src/svc%d/svc%d.h" % (svc, svc)
    inputs = [{"file": header, "hash": "%016x" % mix(2, svc)},
              {"file": path, "hash": "%016x" % mix(3, tu)}]
    block_entries, lock_entries, unit_locks = [], [], set()
    for i, coroutine, blocks, lock, calls in unit_functions(tu, shape, rng):
        usr, name = usr_name(tu, i, shape)
        line = 10 + 12 * i
        head = {"usr": usr, "name": name, "at": site(path, line, 6),
                "hash": "%016x" % rng.getrandbits(64)}
        block_calls, lock_calls = [], []
        for n, ((callee_tu, j), held) in enumerate(calls):
            callee_usr, callee_name = usr_name(callee_tu, j, shape)
            at = site(path, line + 2 + n, 5)
            block_calls.append({"usr": callee_usr, "name": callee_name,
                                "at": at})
            call = {"usr": callee_usr, "name": callee_name, "at": at}
            if coroutine and is_coroutine(callee_tu, j):
                call["awaited"] = True
            if held:
                call["held"] = [{"lock": lock, "at": site(path, line + 1, 5)}]
            lock_calls.append(call)
        if coroutine or blocks or block_calls:
            fact = dict(head)
            if coroutine:
                fact["coroutine"] = True
            if blocks:
                fact["blocks"] = {"subject": blocks[0], "reason": blocks[1],
                                  "at": site(path, line + 7, 5)}
            if block_calls:
                fact["calls"] = block_calls
            block_entries.append((usr, fact))
        if lock or lock_calls:
            fact = dict(head)
            if coroutine:
                fact["coroutine"] = True
            if lock:
                fact["acquires"] = [{"lock": lock,
                                     "at": site(path, line + 1, 5)}]
                unit_locks.add(lock)
            if lock_calls:
                fact["calls"] = lock_calls
            lock_entries.append((usr, fact))
    for usr, name, line, lock, callee in planted.get(tu, ()):
        # acquires `lock`, and, when it has a callee, calls it holding it
        head = {"usr": usr, "name": name, "at": site(path, line, 6),
                "hash": "%016x" % mix(4, line)}
        fact = dict(head, acquires=[{"lock": lock,
                                     "at": site(path, line + 1, 5)}])
        unit_locks.add(lock)
        if callee:
            call = {"usr": callee[0], "name": callee[1],
                    "at": site(path, line + 2, 5)}
            fact["calls"] = [dict(call, held=[{
                "lock": lock, "at": site(path, line + 1, 5)}])]
            block_entries.append((usr, dict(head, calls=[call])))
        lock_entries.append((usr, fact))

    def document(check, entries, unit_locks):
        """JSON Lines: the header, then each summary after the strings it
        is the first to use."""
        entries.sort(key=lambda e: e[0])
        header = {"format": "coroscope-facts", "version": 3, "check": check,
                  "translation_unit": path, "inputs": inputs,
                  "locks": sorted(unit_locks), "edges": []}
        lines = [json.dumps(header, separators=(",", ":"))]
        table = {}
        for _, fact in entries:
            known = len(table)
            entry = json.dumps(encode(fact, table), separators=(",", ":"))
            lines.extend(json.dumps(t) for t in list(table)[known:])
            lines.append(entry)
        return "\n".join(lines) + "\n"

    # The block check's files list no locks; the lock check's list its own.
    return (document("coro-blocking-call", block_entries, set()),
            document("coro-lock-order-inversion", lock_entries, unit_locks))


def planted_cycle(units):
    """Two TUs that take the two ledger locks in opposite orders, each
    through a call into the other."""
    a, b = units // 3, 2 * units // 3
    sa, sb = a % SERVICES, b % SERVICES
    debit = "svc%d::Ledger::debit_mu_" % sa
    credit = "svc%d::Ledger::credit_mu_" % sb

    def fn(svc, what):
        return ("c:@N@svc%d@S@Ledger@F@%s#" % (svc, what),
                "svc%d::Ledger::%s" % (svc, what))

    line = 10 + 12 * funcs
    post_debit, apply_debit = fn(sa, "post_debit"), fn(sa, "apply_debit")
    post_credit, apply_credit = fn(sb, "post_credit"), fn(sb, "apply_credit")
    return {a: [post_debit + (line, debit, apply_credit),
                apply_debit + (line + 12, debit, None)],
            b: [post_credit + (line, credit, apply_debit),
                apply_credit + (line + 12, credit, None)]}, (debit, credit)


def generate(directory, units):
    rng = random.Random(7)  # the same program every run
    shape = Shape(units)
    planted, ledger = planted_cycle(units)
    total = 0
    for tu in range(units):
        block_text, lock_text = render(tu, shape, rng, planted)
        stem = "unit%d.cpp-%016x" % (tu, mix(5, tu))
        for suffix, text in ((".blockfacts.json", block_text),
                             (".lockfacts.json", lock_text)):
            with open(os.path.join(directory, stem + suffix), "w") as f:
                f.write(text)
            total += len(text)
    return total, ledger


def run_link(directory, empty, output):
    """(wall seconds, CPU seconds, peak RSS in bytes, exit status) of one
    link; CPU is user + system time over both of its threads."""
    with open(output, "w") as out, open(output + ".err", "w") as err:
        start = time.perf_counter()
        process = subprocess.Popen(
            [coroscope, "link", "--source-root", empty, directory],
            stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
    return (wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024,
            process.returncode)


def measure(root, units):
    directory = os.path.join(root, "facts-%d" % units)
    os.mkdir(directory)
    start = time.perf_counter()
    total, ledger = generate(directory, units)
    generation = time.perf_counter() - start
    output = os.path.join(root, "link-%d.txt" % units)
    times, cpus, peaks = [], [], []
    for _ in range(rounds):
        wall, cpu, peak, status = run_link(
            directory, os.path.join(root, "empty"), output)
        times.append(wall)
        cpus.append(cpu)
        peaks.append(peak)
        with open(output) as f:
            stdout = f.read()
        with open(output + ".err") as f:
            stderr = f.read()
        cycles = stdout.count("[coro-lock-order-inversion]")
        if (status != 1 or cycles != 1 or
                " 1 lock-order cycle " not in stderr or
                any(lock not in stdout for lock in ledger)):
            sys.exit("unexpected link result for %d TUs (exit %d, %d lock "
                     "findings):\n%s\n%s" % (units, status, cycles,
                                             stdout[-3000:], stderr))
    blocking = stdout.count("[coro-blocking-call]")
    shutil.rmtree(directory)
    return {"units": units, "mb": total / 1e6, "times": times,
            "median": statistics.median(times),
            "cpu": statistics.median(cpus), "rss": max(peaks),
            "summary": next((line for line in stderr.splitlines()
                             if "lock-order cycle" in line), ""),
            "blocking": blocking,
            "output": len(stdout), "generation": generation}


def main():
    sizes = sorted({max(4, files // 4), max(4, files // 2), files})
    root = tempfile.mkdtemp(prefix="link-bench-")
    try:
        os.mkdir(os.path.join(root, "empty"))
        results = []
        for units in sizes:
            results.append(measure(root, units))
            r = results[-1]
            print("%d TUs: generated %.1f MB in %.0f s; link %s s; load "
                  "average %.1f; %s" % (
                      units, r["mb"], r["generation"],
                      ", ".join("%.2f" % t for t in r["times"]),
                      os.getloadavg()[0], r["summary"]),
                  file=sys.stderr, flush=True)
        print("| TUs | facts files | functions | total MB | link median (s) "
              "| runs (s) | s per 1,000 TUs | CPU median (s) "
              "| CPU s per 1,000 TUs | peak RSS (MB) |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for r in results:
            print("| %d | %d | %d | %.1f | %.2f | %s | %.2f | %.2f | %.2f "
                  "| %.0f |" % (
                      r["units"], 2 * r["units"], r["units"] * funcs + 4,
                      r["mb"], r["median"],
                      ", ".join("%.2f" % t for t in r["times"]),
                      r["median"] * 1000 / r["units"], r["cpu"],
                      r["cpu"] * 1000 / r["units"], r["rss"] / 2 ** 20))
        for r in results:
            print("%d TUs: %s; %d cross-TU blocking findings, %.1f MB of "
                  "report" % (r["units"], r["summary"], r["blocking"],
                              r["output"] / 1e6))
    finally:
        shutil.rmtree(root)


main()
