"""Writes a copy of a report with one edit applied: edit_report.py IN OUT STATEMENT.

The statement sees the parsed report as `r`, e.g. 'del r["functions"]'.
"""
import json
import sys

with open(sys.argv[1]) as source:
    r = json.load(source)
exec(sys.argv[3])
with open(sys.argv[2], "w") as out:
    json.dump(r, out)
