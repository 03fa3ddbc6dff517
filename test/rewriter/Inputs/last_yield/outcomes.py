"""Prints each function's outcomes from a report, sorted:
`<function> finished=N abandoned=N cancelled=N`."""
import json
import sys

report = json.load(open(sys.argv[1]))
for f in sorted(report["functions"], key=lambda f: f["body"]["function"]):
    print(f'{f["body"]["function"]} finished={f["finished"]} '
          f'abandoned={f["abandoned"]} cancelled={f["cancelled"]}')
