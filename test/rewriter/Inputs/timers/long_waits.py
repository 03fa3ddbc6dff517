"""Prints a report's long waits, one a line: `<kind> <function>:<line> waits_for=<w> count=<n>`,
then each await site's `waits_for`."""
import json
import sys

report = json.load(open(sys.argv[1]))
for kind in ("hangs", "queued"):
    for w in report[kind]:
        print(f'{kind} {w["site"]["function"]}:{w["site"]["line"]} waits_for={w["waits_for"]} count={w["count"]}')
for s in sorted(report["sites"], key=lambda s: s["at"]["line"]):
    print(f'site {s["at"]["function"]}:{s["at"]["line"]} waits_for={s["waits_for"]}')
