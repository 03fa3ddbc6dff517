"""Reads a churning target 1,000 times and checks every row it was shown.

churn_check.py COROSCOPE OUT-DIR TARGET STOP-FILE

Every row of every snapshot must be one coroutine's, consistent in itself:
a churn_one coroutine, running or suspended, at a site of churn.cpp, on
one of the target's threads, with a unique id, and named after its own id
when named at all (a record read while it ended, was renamed or was reused
would mix two coroutines). Prints what it saw; nothing printed depends on
timing but the target's own rate line, which the test does not check.
"""
import json
import os
import re
import subprocess
import sys
import time

coroscope, out, target, stop_file = sys.argv[1:5]
os.makedirs(out, exist_ok=True)
if os.path.exists(stop_file):
    os.remove(stop_file)
proc = subprocess.Popen([target, stop_file], stdout=subprocess.PIPE, text=True)
if proc.stdout.readline().strip() != "ready":
    sys.exit("the target did not start")
pid = proc.pid
threads = {int(t) for t in os.listdir("/proc/%d/task" % pid)}
result = subprocess.run([coroscope, "ps", "--format", "json", "--snapshots", "1000", str(pid)],
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
open(stop_file, "w").close()
target_out, _ = proc.communicate(timeout=300)
print("ps exit status %d" % result.returncode)
print("target exit status %d" % proc.returncode)

bad = []
rows = torn = malformed = 0
first_max = last_min = None
snapshots = [json.loads(line) for line in result.stdout.splitlines()]
for number, snapshot in enumerate(snapshots):
    torn += snapshot["torn_shards"]
    malformed += snapshot["malformed_records"]
    ids = set()
    for row in snapshot["coroutines"]:
        rows += 1
        problems = []
        if row["id"] in ids:
            problems.append("duplicate id")
        ids.add(row["id"])
        if row["function"] != "churn_one":
            problems.append("function")
        if row["state"] not in ("running", "suspended"):
            problems.append("state")
        if not row["site"] or not row["site"]["file"].endswith("churn.cpp"):
            problems.append("site")
        if row["thread"] not in threads:
            problems.append("thread")
        if row["name"] not in ("", "task-%d" % row["id"]):
            problems.append("name %r" % row["name"])
        if problems:
            bad.append((number, row["id"], problems))
    # Both threads may be between rounds, with nothing alive: the first and
    # the last snapshots that showed coroutines are compared.
    if ids:
        if first_max is None:
            first_max = max(ids)
        last_min = min(ids)

print("%d snapshots" % len(snapshots))
print("rows failing their checks: %d" % len(bad))
for entry in bad[:10]:
    print("  snapshot %d, coroutine %d: %s" % entry)
print("malformed records in stable shards: %d" % malformed)
print("coroutines were made during the reads: %s" %
      (first_max is not None and last_min is not None and last_min > first_max))
# Not checked: how often a shard changed on every read, and the rate.
with open(os.path.join(out, "churn-stats.txt"), "w") as stats:
    stats.write("rows %d, shard reads that kept changing %d, first max id %s, last min id %s\n%s" %
                (rows, torn, first_max, last_min, target_out))
