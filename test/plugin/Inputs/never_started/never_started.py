"""Prints each function of a report that has coroutines destroyed before
they started: `<function> never_started=N started=M`, sorted; then the
summary's total."""
import json
import sys

report = json.load(open(sys.argv[1]))
for f in sorted(report["functions"], key=lambda f: f["body"]["function"]):
    if f["never_started"]:
        print(f'{f["body"]["function"]} never_started={f["never_started"]} started={f["started"]}')
print(f'total never_started={report["summary"]["never_started"]}')
