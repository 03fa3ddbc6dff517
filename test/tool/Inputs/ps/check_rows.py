"""Prints the rows of `coroscope ps --format json|csv` in a stable form.

check_rows.py FILE

JSON: a line of the snapshot's completeness, then one line per coroutine
in id order (the spinning coroutine, on its own thread's id block, without
its id), then whether it runs on a thread of its own. CSV: the row count
and the header.
"""
import csv
import json
import os
import sys

path = sys.argv[1]
if path.endswith(".csv"):
    rows = list(csv.reader(open(path)))
    print("%d rows, columns %s" % (len(rows) - 1, ",".join(rows[0])))
    sys.exit(0)


def short(site):
    if not site:
        return "-"
    return "%s:%d:%d" % (os.path.basename(site["file"]), site["line"], site["column"])


snapshot = json.load(open(path))
print("complete=%s torn=%d malformed=%d" % (snapshot["complete"], snapshot["torn_shards"],
                                           snapshot["malformed_records"]))
threads = {}
for row in sorted(snapshot["coroutines"], key=lambda r: r["id"]):
    ident = "" if row["function"] == "spin" else "%d " % row["id"]
    line = "%s%s %s at %s waits_for=%s awaiter=%d creator=%d created_at=%s hang=%s slow=%s" % (
        ident, row["function"], row["state"], short(row["site"]), row["waits_for"] or "-",
        row["awaiter"], row["creator"], short(row["creation_site"]), row["hang"],
        row["slow_step"])
    if row["waits_on"]:
        line += " waits_on=%d" % row["waits_on"]
    print(line)
    threads.setdefault(row["function"] == "spin", set()).add(row["thread"])
apart = len(threads.get(True, ())) == 1 and len(threads.get(False, ())) == 1 and \
    threads[True].isdisjoint(threads[False]) and 0 not in threads[True] | threads[False]
print("threads: spin runs on another thread than the rest" if apart else "threads: %r" % threads)
