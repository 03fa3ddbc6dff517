"""Prints a report's lock classes with their acquisitions, and its counts
of cycles, holds across suspensions and unmatched releases, on one line."""
import json
import sys

locks = json.load(open(sys.argv[1]))["locks"]
classes = ", ".join("%s %d" % (c["name"], c["acquisitions"])
                    for c in sorted(locks["classes"], key=lambda c: c["name"]))
print("%s; cycles %d, held across suspension %d, unmatched releases %d" % (
    classes, len(locks["cycles"]), len(locks["held_across_suspension"]),
    locks["unmatched_releases"]))
