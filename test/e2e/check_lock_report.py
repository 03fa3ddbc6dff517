"""Checks the locks section of lock_workload's report.

check_lock_report.py REPORT SCHEMA

The report must follow the schema, and say what the program did: Store::mu_
held across the hop at line 28 and released on the pool's thread, one
lock-order cycle between Store::mu_ and Store::index_mu_ taken by reindex
and lookup on two threads, no deadlock, and exact acquisition counts.
"""
import json
import sys

import jsonschema

report = json.load(open(sys.argv[1]))
jsonschema.validate(report, json.load(open(sys.argv[2])))
locks = report["locks"]
problems = []


def expect(what, ok):
    if not ok:
        problems.append(what)


classes = {c["name"]: c for c in locks["classes"]}
expect("classes are Store::mu_ and Store::index_mu_",
       sorted(classes) == ["Store::index_mu_", "Store::mu_"])
expect("Store::mu_ taken 3 times", classes.get("Store::mu_", {}).get("acquisitions") == 3)
expect("Store::index_mu_ taken 2 times",
       classes.get("Store::index_mu_", {}).get("acquisitions") == 2)
held = locks["held_across_suspension"]
expect("one lock held across a suspension", len(held) == 1)
if held:
    expect("it is Store::mu_ at line 28 in save, resumed elsewhere",
           held[0]["lock"] == "Store::mu_" and held[0]["suspended_at"]["line"] == 28
           and held[0]["suspended_at"]["function"] == "save" and held[0]["other_thread"] == 1
           and held[0]["check"] == "coro-lock-across-suspend")
released = locks["released_on_other_thread"]
expect("Store::mu_ released on another thread",
       len(released) == 1 and released[0]["lock"] == "Store::mu_"
       and released[0]["acquired_thread"] != released[0]["released_thread"])
cycles = locks["cycles"]
expect("one cycle of two orders", len(cycles) == 1 and len(cycles[0]["orders"]) == 2)
if cycles:
    holders = sorted(o["holder"].split(" ")[0] for o in cycles[0]["orders"])
    expect("taken by lookup and reindex", holders == ["lookup", "reindex"])
    threads = {o["thread"] for o in cycles[0]["orders"]}
    expect("on two threads", len(threads) == 2)
expect("no deadlock", locks["deadlocks"] == [])
expect("no unmatched release", locks["unmatched_releases"] == 0)
if problems:
    print("lock report problems:\n  " + "\n  ".join(problems))
    sys.exit(1)
print("lock report ok")
