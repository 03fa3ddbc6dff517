#!/usr/bin/env python3
"""Runs the hand-instrumented Asio program with the report, the trace and the
summary on, and checks all three.

usage: check_asio_tracked.py PROGRAM SCHEMA SCRATCH_DIR [COROSCOPE_TOOL]
"""
import json
import os
import subprocess
import sys

import jsonschema

program, schema_path, scratch = sys.argv[1:4]
tool = sys.argv[4] if len(sys.argv) > 4 else None
os.makedirs(scratch, exist_ok=True)
report_path = os.path.join(scratch, "report.json")
trace_path = os.path.join(scratch, "trace.json")
for path in (report_path, trace_path):
    if os.path.exists(path):
        os.remove(path)

env = dict(os.environ, COROSCOPE_REPORT=report_path, COROSCOPE_TRACE=trace_path,
           COROSCOPE_SUMMARY="1", COROSCOPE_SLOW_MS="50", COROSCOPE_HANG_MS="100",
           COROSCOPE_WATCHDOG="1")
run = subprocess.run([program], env=env, capture_output=True, text=True, timeout=120)
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


check(run.returncode == 0, f"exit status {run.returncode}")
stderr = run.stderr

# --- The report --------------------------------------------------------------
with open(report_path) as f:
    report = json.load(f)
with open(schema_path) as f:
    jsonschema.validate(report, json.load(f))

functions = {f["body"]["function"]: f for f in report["functions"]}
for name in ("handler", "fetch", "slow_handler", "long_wait", "parked", "forgotten"):
    check(name in functions, f"no statistics for {name}")
check(functions["handler"]["started"] == 5, "handler started != 5")
check(functions["handler"]["failed"] == 1, "handler failed != 1")
check(functions["fetch"]["failed"] == 1, "fetch failed != 1")
check(functions["fetch"]["finished"] == 4, "fetch finished != 4")
check(functions["parked"]["cancelled"] == 1, "parked was not cancelled")
check(functions["slow_handler"]["slow_steps"] >= 1, "slow_handler has no slow step")
check(report["at_exit"] is True, "report not written at exit")

fetch_failures = [c for c in report["failures"] if c["body"]["function"] == "fetch"]
check(len(fetch_failures) == 1, "fetch failure not listed")
if fetch_failures:
    failure = fetch_failures[0]
    check(failure["exception"]["type"] == "std::runtime_error", failure["exception"]["type"])
    check(failure["exception"]["what"] == "fetch 3 failed", failure["exception"]["what"])
    check(any(p.startswith("handler [suspended]") for p in failure["parents"]),
          f"fetch failure parents: {failure['parents']}")
    # The handler failed with the same exception: one failure, not two.
    check([p.split(" at ")[0] for p in failure["propagated_to"]] == ["handler"],
          f"fetch failure propagated to: {failure['propagated_to']}")
check(len(report["failures"]) == 1 and report["summary"]["failures"] == 1,
      f"failures: {len(report['failures'])} records, {report['summary']['failures']} counted")

slow = [s for s in report["slow_steps"] if s["from"]["function"] == "slow_handler"]
check(len(slow) == 1, f"slow steps of slow_handler: {slow}")
if slow:
    check(slow[0]["to"]["line"] > slow[0]["from"]["line"], "slow region goes backwards")
    check(slow[0]["duration_ns"] >= 50_000_000, "slow step under the threshold")

hangs = [h for h in report["hangs"] if h["worst"]["body"]["function"] == "long_wait"]
check(len(hangs) == 1, f"long_wait hangs: {hangs}")
if hangs:
    check(hangs[0]["count"] == 1 and hangs[0]["resolved"] == 1, "long_wait hang not resolved")
    check(hangs[0]["worst_ns"] >= 100_000_000, "hang under the threshold")

leaks = [c for c in report["live"] if c["body"]["function"] == "forgotten"]
check(len(leaks) == 1 and leaks[0]["state"] == "suspended", f"forgotten: {leaks}")
cancelled = [c for c in report["cancelled"] if c["body"]["function"] == "parked"]
check(len(cancelled) == 1, "parked not in the cancelled list")
check(all(v == 0 for v in report["drops"].values()), f"drops: {report['drops']}")

# --- The summary and the live reports on stderr ----------------------------
check("coroscope: slow step: 'slow_handler' (coroutine #" in stderr, "no slow-step log")
check("coroscope: hang: 'long_wait' (coroutine #" in stderr, "no watchdog hang report")
check("coroscope: 1 failure (2 coroutines failed)" in stderr and
      "  fetch: std::runtime_error: fetch 3 failed (at " in stderr, "summary lacks the failure")
check("coroscope: leaked: forgotten suspended at " in stderr, "summary lacks the leak")
started = report["summary"]["started"]
check(f"coroscope: {started} coroutines in " in stderr, "summary lacks the totals")

# --- The trace ---------------------------------------------------------------
with open(trace_path) as f:
    trace = json.load(f)
events = trace["traceEvents"]
check(isinstance(events, list) and events, "empty trace")
phases = {"X", "M", "s", "f"}
starts, finishes, step_names, tids, named = set(), set(), set(), set(), set()
for e in events:
    check(e.get("ph") in phases, f"unexpected phase in {e}")
    check(isinstance(e.get("pid"), int), f"no pid in {e}")
    if e["ph"] == "M":
        if e["name"] == "thread_name":
            named.add(e["tid"])
        continue
    check(isinstance(e.get("ts"), (int, float)) and e["ts"] >= 0, f"bad ts in {e}")
    check(isinstance(e.get("tid"), int), f"no tid in {e}")
    if e["ph"] == "X":
        check(isinstance(e.get("dur"), (int, float)) and e["dur"] >= 0, f"bad dur in {e}")
        step_names.add(e["name"])
        tids.add(e["tid"])
    elif e["ph"] == "s":
        starts.add(e["id"])
    else:
        check(e.get("bp") == "e", f"flow end without bp=e: {e}")
        finishes.add(e["id"])
check({"handler", "fetch", "slow_handler", "long_wait"} <= step_names,
      f"trace steps: {sorted(step_names)}")
check(tids <= named, "a thread track has no name")
check(finishes <= starts, "a flow ends without a start")
check(len(finishes) >= 10, "too few suspend->resume flows")

# --- The report tool ---------------------------------------------------------
if tool:
    text = subprocess.run([tool, "report", report_path], capture_output=True, text=True)
    check(text.returncode == 0 and "  fetch: std::runtime_error" in text.stdout, "tool summary")
    html = subprocess.run([tool, "report", "--html", report_path], capture_output=True, text=True)
    check(html.returncode == 0 and "<svg" in html.stdout and "slow_handler" in html.stdout,
          "tool html")
    merged_path = os.path.join(scratch, "merged.json")
    merge = subprocess.run([tool, "report", "merge", "-o", merged_path, report_path, report_path],
                           capture_output=True, text=True)
    check(merge.returncode == 0, f"merge failed: {merge.stderr}")
    if merge.returncode == 0:
        with open(merged_path) as f:
            merged = json.load(f)
        with open(schema_path) as f:
            jsonschema.validate(merged, json.load(f))
        check(merged["summary"]["started"] == 2 * started, "merge did not add the counts")

if failures:
    print("FAIL:\n  " + "\n  ".join(failures))
    print("--- stderr ---\n" + stderr)
    sys.exit(1)
print(f"asio e2e: report, summary and trace checked ({started} coroutines)")
