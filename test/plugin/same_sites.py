"""Exits 1 unless two runtime reports hold the same await/yield sites
(function, file, line, column, kind): the plugin and the source rewriter
must instrument the same places."""
import json
import sys


def sites(path):
    report = json.load(open(path))
    return {(s["at"].get("function", ""), s["at"]["file"], s["at"]["line"],
             s["at"].get("column", 0), s["kind"]) for s in report["sites"]}


a, b = sites(sys.argv[1]), sites(sys.argv[2])
if a != b:
    for site in sorted(a - b):
        print("only in", sys.argv[1], site)
    for site in sorted(b - a):
        print("only in", sys.argv[2], site)
    sys.exit(1)
print(f"same {len(a)} sites")
