"""Prints a report's deadlocks on one line: each member's function and what
it waits for (a lock's class, or a coroutine's function)."""
import json
import sys

deadlocks = json.load(open(sys.argv[1]))["locks"]["deadlocks"]
parts = []
for d in deadlocks:
    members = []
    for m in d["members"]:
        waits = ("lock " + m["lock"]) if m["lock"] else m["waits_for"].split(" (")[0]
        members.append("%s waits for %s" % (m["at"]["function"], waits))
    parts.append("; ".join(members))
print("%d deadlock%s: %s" % (len(deadlocks), "" if len(deadlocks) == 1 else "s",
                             " | ".join(parts)))
