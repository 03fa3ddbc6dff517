"""Compares the reports of the source engine and the IR engine for one
program: the await/yield sites (function, file, line, column, kind), the
awaits at each (the source engine counts every await; the IR engine counts
real suspensions and, apart, awaits that did not suspend), and each
function's lifecycle outcomes (started, finished, failed, cancelled,
abandoned). Exits 1 on a difference not named on the command line.

engines_agree.py SOURCE.json IR.json [--source-only FUNCTION:LINE]...
                 [--ir-only FUNCTION:LINE]... [--outcomes-differ FUNCTION]...
                 [--by-line]

--by-line compares sites by line, not column: in a macro, the column code
generation gives a suspension depends on the LLVM version.

Where the engines must differ, the test names the place and says why."""
import argparse
import json
import sys

parser = argparse.ArgumentParser()
parser.add_argument("source")
parser.add_argument("ir")
parser.add_argument("--source-only", action="append", default=[])
parser.add_argument("--ir-only", action="append", default=[])
parser.add_argument("--outcomes-differ", action="append", default=[])
parser.add_argument("--by-line", action="store_true")
args = parser.parse_args()


def load(path):
    report = json.load(open(path))
    sites = {}
    for s in report["sites"]:
        column = 0 if args.by_line else s["at"].get("column", 0)
        key = (s["at"].get("function", ""), s["at"]["file"], s["at"]["line"], column, s["kind"])
        sites[key] = sites.get(key, 0) + s["count"] + s.get("ready", 0)
    outcomes = {}
    for f in report["functions"]:
        key = (f["body"]["function"], f["body"]["line"])
        counts = (f["started"], f["finished"], f["failed"], f["cancelled"], f["abandoned"])
        outcomes[key] = tuple(a + b for a, b in zip(outcomes.get(key, (0,) * 5), counts))
    return sites, outcomes


source_sites, source_outcomes = load(args.source)
ir_sites, ir_outcomes = load(args.ir)
problems = []
for site in sorted(source_sites.keys() & ir_sites.keys()):
    if source_sites[site] != ir_sites[site]:
        problems.append(f"{site}: source engine {source_sites[site]} awaits, "
                        f"IR engine {ir_sites[site]}")
for site in sorted(source_sites.keys() - ir_sites.keys()):
    if f"{site[0]}:{site[2]}" not in args.source_only:
        problems.append(f"only the source engine reports {site}")
for site in sorted(ir_sites.keys() - source_sites.keys()):
    if f"{site[0]}:{site[2]}" not in args.ir_only:
        problems.append(f"only the IR engine reports {site}")
for key in sorted(set(source_outcomes) | set(ir_outcomes)):
    if source_outcomes.get(key) != ir_outcomes.get(key) and key[0] not in args.outcomes_differ:
        problems.append(f"{key[0]} (line {key[1]}): source {source_outcomes.get(key)}, "
                        f"IR {ir_outcomes.get(key)}")
for problem in problems:
    print(problem)
if problems:
    sys.exit(1)
print(f"engines agree on {len(source_sites.keys() & ir_sites.keys())} sites, their awaits, and "
      f"{len(set(source_outcomes) & set(ir_outcomes))} functions")
