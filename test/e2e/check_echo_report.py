"""Checks the runtime report of examples/echo/echo.cpp run as
`echo C M`: finished and failed sessions, per-site wait counts from C and M,
the injected slow step at its lines, and the injected failure's message.
Durations are never asserted, only that a slow step was seen."""
import json
import sys

report_path, source_path, connections, messages = sys.argv[1:5]
C, M = int(connections), int(messages)
report = json.load(open(report_path))
source = open(source_path).read().splitlines()
line_of = {marker: n + 1 for n, text in enumerate(source)
           for marker in ("echo:read", "echo:slow") if f"// {marker}" in text}
failed = []


def expect(what, actual, wanted):
    if actual != wanted:
        failed.append(f"{what}: {actual!r}, expected {wanted!r}")


functions = {f["body"]["function"]: f for f in report["functions"]}
session = functions.get("session", {})
# C sessions: every one but the last ends with "quit"; the last throws.
expect("sessions started", session.get("started"), C)
expect("sessions finished", session.get("finished"), C - 1)
expect("sessions failed", session.get("failed"), 1)

# The session's read, on the line after its marker: M messages per connection, "slow" once, and the final
# "quit"/"boom" on each connection.
reads = [s for s in report["sites"]
         if s["at"]["function"] == "session" and s["at"]["line"] == line_of["echo:read"] + 1]
expect("read sites", len(reads), 1)
if reads:
    expect("reads", reads[0]["count"], C * M + 1 + C)
    expect("read site file", reads[0]["at"]["file"].endswith("examples/echo/echo.cpp"), True)
# Every echoed message is one round trip.
expect("round trips finished", functions.get("round_trip", {}).get("finished"), C * M + 1)

slow = [s for s in report["slow_steps"] if s["from"]["function"] == "session"]
expect("slow steps in session", len(slow), 1)
if slow:
    region = (slow[0]["from"]["line"], slow[0]["to"]["line"])
    inside = region[0] < line_of["echo:slow"] < region[1]
    expect(f"slow step region {region} around line {line_of['echo:slow']}", inside, True)

whats = [c["exception"]["what"] for c in report["failures"]
         if c["body"]["function"] == "session"]
expect("failures", whats, ["boom: injected failure"])

if failed:
    print("echo report: " + "; ".join(failed))
    sys.exit(1)
print("echo report: ok")
