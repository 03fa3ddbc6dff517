"""Checks the plugin-instrumented task_styles program's report: lifecycle
per task style, cancellation, and parent/child links."""
import json
import os
import sys

report = json.load(open(sys.argv[1]))
functions = {f["body"]["function"]: f for f in report["functions"]}
failed = []


def expect(what, actual, wanted):
    if actual != wanted:
        failed.append(f"{what}: {actual!r}, expected {wanted!r}")


def stats(name):
    f = functions.get(name)
    if f is None:
        failed.append(f"no function {name!r} in the report")
        return (None,) * 5
    return (f["started"], f["finished"], f["failed"], f["cancelled"], f["abandoned"])


# started, finished, failed, cancelled, abandoned
expect("lazy_child", stats("lazy_child"), (2, 2, 0, 0, 0))
expect("lazy_parent", stats("lazy_parent"), (1, 1, 0, 0, 0))
expect("failing_child", stats("failing_child"), (1, 0, 1, 0, 0))
expect("catching_parent", stats("catching_parent"), (1, 1, 0, 0, 0))
expect("folly_child", stats("folly_child"), (1, 1, 0, 0, 0))
expect("folly_parent", stats("folly_parent"), (1, 1, 0, 0, 0))
expect("fire_and_forget", stats("fire_and_forget"), (1, 1, 0, 0, 0))
expect("numbers", stats("numbers"), (1, 0, 0, 0, 1))
expect("waits_forever", stats("waits_forever"), (1, 0, 0, 0, 0))

# The failure names its exception and the parent that awaited it.
failures = [c for c in report["failures"] if c["body"]["function"] == "failing_child"]
expect("failures of failing_child", len(failures), 1)
if failures:
    expect("exception", failures[0]["exception"]["what"], "child gave up")
    expect("failure parents", any("catching_parent" in p for p in failures[0]["parents"]), True)

# The generator destroyed at co_yield is abandoned, at its yield site.
cancelled = [c for c in report["cancelled"] if c["body"]["function"] == "numbers"]
expect("abandoned numbers", len(cancelled), 1)
if cancelled:
    source = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                          "Inputs", "task_styles.cpp")
    with open(source) as f:
        yield_line = 1 + [i for i, l in enumerate(f) if "co_yield i;" in l][0]
    expect("abandoned at", cancelled[0]["site"]["line"], yield_line)
    expect("abandoned state", cancelled[0]["state"], "abandoned")

# The eager coroutine still suspended at exit is live, at its await.
live = [c for c in report["live"] if c["body"]["function"] == "waits_forever"]
expect("live waits_forever", len(live), 1)
if live:
    expect("live state", live[0]["state"], "suspended")

if failed:
    print("task styles report: " + "; ".join(failed))
    sys.exit(1)
print("task styles report: ok")
