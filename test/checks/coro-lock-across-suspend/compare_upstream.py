"""Runs coro-lock-across-suspend and the two upstream checks it replaces on
one source and prints, per top-level function, which of them warn inside it:

  <function>: ours=<y|n> misc-coroutine-hostile-raii=<y|n> cppcoreguidelines-no-suspend-with-lock=<y|n>

Only the location and the check name of each warning are read, never the
upstream message text. A function starts at a column-0 line that names it
before '(' and ends with '{', and ends at the next line that is exactly '}'.

usage: compare_upstream.py TIDY SOURCE -- COMPILE_ARGS...
"""
import re
import subprocess
import sys

CHECKS = ["coro-lock-across-suspend", "misc-coroutine-hostile-raii",
          "cppcoreguidelines-no-suspend-with-lock"]
tidy, source = sys.argv[1], sys.argv[2]
compile_args = sys.argv[sys.argv.index("--") + 1:]

functions = []  # (name, first line, last line)
with open(source) as f:
    lines = f.read().splitlines()
start = None
for number, line in enumerate(lines, 1):
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
    result = subprocess.run([tidy, source, "--checks=-*," + check, "--"] + compile_args,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        sys.exit("error: %s failed:\n%s" % (check, result.stdout))
    for out in result.stdout.splitlines():
        m = warning.match(out)
        if m and m.group(3) == check and m.group(1).endswith(source.split("/")[-1]):
            fired[check].add(int(m.group(2)))

for name, first, last in functions:
    marks = ["%s=%s" % ("ours" if check == CHECKS[0] else check,
                        "y" if any(first <= l <= last for l in fired[check]) else "n")
             for check in CHECKS]
    print("%s: %s" % (name, " ".join(marks)))
