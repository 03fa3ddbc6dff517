#!/usr/bin/env python3
"""Checks the runtime report of examples/echo/echo.cpp run as
`echo CONNECTIONS MESSAGES` (instrumented by the plugin or the rewriter).

usage: check_echo_report.py REPORT SOURCE CONNECTIONS MESSAGES

SOURCE is the original echo.cpp: its `// echo:read`, `// echo:write` and
`// echo:slow` markers give the lines the report must point at (a rewritten
copy reports the original's lines). With C connections of N messages each:

  - C sessions start; C - 1 finish (their client closed the connection) and
    one fails (the last connection's "boom"), with that exception's message.
  - the session's read site (`echo:read`) waits C*N + C + 1 times:
        C*N    the messages,
        + 1    "slow", on connection 0,
        + 1    "boom", on the last connection (its session then throws),
        + C-1  the read that sees EOF, on every other connection.
  - the session's write site (`echo:write`) echoes C*N + 1 lines (the
    messages and "slow").
  - a slow step in the session runs over the `echo:slow` line: from a site at
    or before it to a site at or after it. Durations are never asserted.

Prints one line and exits 1 on the first group of failures.
"""
import json
import os
import sys

import jsonschema

SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                      "docs", "runtime", "report-schema.json")


def fail(reason):
    print(f"echo report: FAIL: {reason}")
    sys.exit(1)


if len(sys.argv) != 5:
    fail("usage: check_echo_report.py REPORT SOURCE CONNECTIONS MESSAGES")
report_path, source_path = sys.argv[1:3]
C, N = int(sys.argv[3]), int(sys.argv[4])
with open(report_path) as f:
    report = json.load(f)
with open(SCHEMA) as f:
    try:
        jsonschema.validate(report, json.load(f))
    except jsonschema.ValidationError as e:
        fail(f"report does not match the schema: {e.message}")

source_name = os.path.basename(source_path)
markers = {}
with open(source_path) as f:
    for number, text in enumerate(f, start=1):
        for marker in ("echo:read", "echo:write", "echo:slow"):
            if f"// {marker}" in text:
                if marker in markers:
                    fail(f"marker {marker} on lines {markers[marker]} and {number}")
                markers[marker] = number
for marker in ("echo:read", "echo:write", "echo:slow"):
    if marker not in markers:
        fail(f"no `// {marker}` marker in {source_path}")

problems = []


def expect(what, actual, wanted):
    if actual != wanted:
        problems.append(f"{what} is {actual!r}, expected {wanted!r}")


def in_source(location):
    return os.path.basename(location["file"]) == source_name


def is_session(location):
    return location["function"] == "session" and in_source(location)


expect("report written at exit", report["at_exit"], True)

# --- Sessions: C - 1 finished, one failed with the injected exception --------
sessions = [f for f in report["functions"] if is_session(f["body"])]
expect("functions named session", len(sessions), 1)
session = sessions[0] if sessions else {}
expect("sessions started", session.get("started"), C)
expect("sessions finished", session.get("finished"), C - 1)
expect("sessions failed", session.get("failed"), 1)
expect("sessions cancelled", session.get("cancelled"), 0)
failures = [c for c in report["failures"] if is_session(c["body"])]
whats = [c.get("exception", {}).get("what", "") for c in failures]
expect("session failures listed", len(failures), 1)
if not any("boom: injected failure" in w for w in whats):
    problems.append(f"no session failure with 'boom: injected failure': {whats}")
leftover = [c for c in report["live"] + report["cancelled"] if is_session(c["body"])]
expect("sessions live or cancelled at exit", len(leftover), 0)

# --- Per-site counts at the marked lines --------------------------------------
def site_at(marker):
    found = [s for s in report["sites"]
             if is_session(s["at"]) and s["at"]["line"] == markers[marker]]
    if len(found) != 1:
        problems.append(f"{len(found)} session sites at line {markers[marker]} "
                        f"({marker}), expected 1")
        return None
    expect(f"kind of the {marker} site", found[0]["kind"], "await")
    return found[0]


read = site_at("echo:read")
if read:
    expect(f"waits at the read site (line {markers['echo:read']})", read["count"],
           C * N + C + 1)
write = site_at("echo:write")
if write:
    expect(f"waits at the write site (line {markers['echo:write']})",
           write["count"], C * N + 1)

# --- The slow step over the sleep -------------------------------------------
slow_line = markers["echo:slow"]
regions = [(s["from"]["line"], s["to"]["line"]) for s in report["slow_steps"]
           if is_session(s["from"]) and is_session(s["to"])]
if not any(start <= slow_line <= end for start, end in regions):
    problems.append(f"no slow step of session over line {slow_line} "
                    f"(session slow steps: {regions})")
if session.get("slow_steps", 0) < 1:
    problems.append(f"session counts {session.get('slow_steps')} slow steps")

if problems:
    fail("; ".join(problems))
print(f"echo report: ok: sessions {session['finished']} finished, "
      f"{session['failed']} failed; read site {read['count']} waits, "
      f"write site {write['count']}; slow step over line {slow_line}")
