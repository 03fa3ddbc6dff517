"""Prints a report's awaited-by graph, one edge a line, sorted:
`<function> awaited by <awaiter> xN`."""
import json
import sys

report = json.load(open(sys.argv[1]))
lines = []
for f in report["functions"]:
    for edge in f["awaited_by"]:
        lines.append(f'{f["body"]["function"]} awaited by {edge["function"]["function"]} x{edge["count"]}')
print("\n".join(sorted(lines, key=lambda l: (l.split()[0] != "declared_elsewhere", l))))
