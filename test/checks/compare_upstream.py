"""Runs one of our checks and the upstream checks (or clang warnings) it
replaces on one source and prints, per top-level function, which of them
warn inside it:

  <function>: ours=<y|n> <upstream-check>=<y|n> ...

A clang warning is named as clang-tidy names it (clang-diagnostic-dangling)
and enabled with -W<name> for its run.

Only the location and the check name of each warning are read, never the
upstream message text. A CHECK name ending in '*' stands for every check
or warning with that prefix. When the source marks cases with lines
`// case: NAME`, each case runs to the next such line; otherwise a function
starts at a column-0 line that names it
before '(' and ends with '{', and ends at the next line that is exactly '}'.

usage: compare_upstream.py TIDY SOURCE OURS UPSTREAM[,UPSTREAM...] -- COMPILE_ARGS...
"""
import re
import subprocess
import sys

tidy, source = sys.argv[1], sys.argv[2]
CHECKS = [sys.argv[3]] + sys.argv[4].split(",")
compile_args = sys.argv[sys.argv.index("--") + 1:]

functions = []  # (name, first line, last line)
with open(source) as f:
    lines = f.read().splitlines()
start = None
marked = [(n, l.split("// case:", 1)[1].strip())
          for n, l in enumerate(lines, 1) if l.startswith("// case:")]
for i, (number, name) in enumerate(marked):
    end = marked[i + 1][0] - 1 if i + 1 < len(marked) else len(lines)
    functions.append((name, number, end))
for number, line in enumerate(lines if not marked else [], 1):
    m = re.match(r"^[A-Za-z_][\w:<>, ]*?\b(\w+)\(", line)
    if (start is None and m and line.rstrip().endswith("{")
            and not line.startswith(("namespace", "struct", "class"))):
        start = (m.group(1), number)
    elif start is not None and line == "}":
        functions.append((start[0], start[1], number))
        start = None

warning = re.compile(r"^(.*?):(\d+):\d+: warning: .*\[([\w.-]+)\]$")
fired = {check: set() for check in CHECKS}
for check in CHECKS:
    before, extra = [], []
    if check.startswith("clang-diagnostic-"):
        before = ["--allow-no-checks"]
        extra = ["-W" + check[len("clang-diagnostic-"):].rstrip("*")]
    result = subprocess.run([tidy, source, "--checks=-*," + check] + before + ["--"] +
                            compile_args + extra,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        sys.exit("error: %s failed:\n%s" % (check, result.stdout))
    for out in result.stdout.splitlines():
        m = warning.match(out)
        named = (m.group(3).startswith(check[:-1]) if check.endswith("*")
                 else m.group(3) == check) if m else False
        if named and m.group(1).endswith(source.split("/")[-1]):
            fired[check].add(int(m.group(2)))

for name, first, last in functions:
    marks = ["%s=%s" % ("ours" if check == CHECKS[0] else check,
                        "y" if any(first <= l <= last for l in fired[check]) else "n")
             for check in CHECKS]
    print("%s: %s" % (name, " ".join(marks)))
