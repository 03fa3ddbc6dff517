"""Runs every command the documentation prints, exactly as printed.

run_doc_commands.py SOURCE-ROOT PREFIX WORK-DIR BUILD-DIR

Every fenced ```sh block of README.md and docs/**/*.md is run with bash
(-e -u -o pipefail), with coroscope installed in PREFIX (its bin/ first on
PATH, CMAKE_PREFIX_PATH=PREFIX). An HTML comment on the line before a block
says where and what to expect:

  <!-- doc-test: fixture=NAME copy=NAME status=N output="REGEX" check="COMMAND" -->
  <!-- doc-test: in-source -->               run in the source tree, with
                                             COROSCOPE_BUILD_DIR=BUILD-DIR
  <!-- doc-test: not-run="REASON" -->        the one way out, reported

- fixture=NAME (default: project) runs the block in a fresh copy of
  test/docs/fixtures/NAME; the blocks of one page with the same copy name
  (default: the fixture's) share that copy, in page order, so a page can
  configure and then build.
- A fenced block of another language with file=PATH in its comment is
  written to PATH in the fixture copy first (a .clang-tidy, a CMakeLists.txt).
- status=N is the expected exit status (default 0); output=REGEX must match
  the block's stdout+stderr; check=COMMAND runs after it in the same
  directory and must succeed.
Exits 1 when any block fails, printing what it ran and what it got.
"""
import os
import re
import shlex
import shutil
import subprocess
import sys

SOURCE, PREFIX, WORK, BUILD = (os.path.abspath(p) for p in sys.argv[1:5])
FIXTURES = os.path.join(SOURCE, "test", "docs", "fixtures")
DIRECTIVE = re.compile(r"^<!--\s*doc-test:(.*?)-->\s*$")
FENCE = re.compile(r"^```(\S*)\s*$")


def pages():
    yield os.path.join(SOURCE, "README.md")
    for directory, _, files in sorted(os.walk(os.path.join(SOURCE, "docs"))):
        for name in sorted(files):
            if name.endswith(".md"):
                yield os.path.join(directory, name)


def blocks(path):
    """(line, language, text, directives) for each fenced block."""
    lines = open(path).read().split("\n")
    i = 0
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if not fence or not fence.group(1):
            i += 1
            continue
        directives = {}
        if i > 0 and DIRECTIVE.match(lines[i - 1]):
            for item in shlex.split(DIRECTIVE.match(lines[i - 1]).group(1)):
                key, _, value = item.partition("=")
                directives[key] = value
        start = i + 1
        i = start
        while i < len(lines) and lines[i] != "```":
            i += 1
        yield start, fence.group(1), "\n".join(lines[start:i]) + "\n", directives
        i += 1


def environment(in_source=False):
    env = dict(os.environ)
    env["PATH"] = os.path.join(PREFIX, "bin") + os.pathsep + env.get("PATH", "")
    env["CMAKE_PREFIX_PATH"] = PREFIX
    for name in list(env):
        if name.startswith("COROSCOPE"):
            del env[name]
    if in_source:
        env["COROSCOPE_BUILD_DIR"] = BUILD
    return env


failures, ran, not_run = [], 0, []
shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)
for page in pages():
    relative = os.path.relpath(page, SOURCE)
    copies = {}
    for line, language, text, directives in blocks(page):
        where = "%s:%d" % (relative, line)
        if "not-run" in directives:
            not_run.append("%s: %s" % (where, directives["not-run"]))
            continue
        if language != "sh" and "file" not in directives:
            continue
        if "in-source" in directives:
            cwd = SOURCE
        else:
            fixture = directives.get("fixture", "project")
            copy = directives.get("copy", fixture)
            if copy not in copies:
                copies[copy] = os.path.join(
                    WORK, re.sub(r"[^A-Za-z0-9]+", "-", relative) + "-" + copy)
                shutil.copytree(os.path.join(FIXTURES, fixture), copies[copy])
            cwd = copies[copy]
        if language != "sh":
            with open(os.path.join(cwd, directives["file"]), "w") as out:
                out.write(text)
            continue
        ran += 1
        result = subprocess.run(["bash", "-euo", "pipefail", "-c", text], cwd=cwd,
                                env=environment("in-source" in directives),
                                capture_output=True, text=True,
                                timeout=1800)
        output = result.stdout + result.stderr
        problems = []
        expected = int(directives.get("status", "0"))
        if result.returncode != expected:
            problems.append("exit status %d, expected %d" % (result.returncode, expected))
        if "output" in directives and not re.search(directives["output"], output):
            problems.append("output does not match /%s/" % directives["output"])
        if "Traceback (most recent call last)" in output or "LLVM ERROR" in output:
            problems.append("a crash in the output")
        if "check" in directives and re.search(r"\|\s*grep\s+-q", directives["check"]):
            # Under pipefail the writer dies of SIGPIPE when grep -q stops
            # reading early: a check that fails by timing.
            problems.append("a check pipes into grep -q; write the output to a file first")
        if "check" in directives and not problems:
            check = subprocess.run(["bash", "-euo", "pipefail", "-c", directives["check"]],
                                   cwd=cwd, env=environment(), capture_output=True, text=True)
            if check.returncode != 0:
                problems.append("check failed (exit %d): %s\n%s" % (
                    check.returncode, directives["check"], check.stdout + check.stderr))
        status = "ok" if not problems else "FAILED"
        print("%s %s (in %s)" % (status, where, os.path.relpath(cwd, WORK)))
        if problems:
            failures.append(where)
            print("  " + "\n  ".join(problems))
            print("  ran:\n    " + text.rstrip().replace("\n", "\n    "))
            print("  output:\n    " + output.rstrip()[-4000:].replace("\n", "\n    "))

for item in not_run:
    print("not run:", item)
print("%d documented command blocks run, %d failed, %d not run" %
      (ran, len(failures), len(not_run)))
sys.exit(1 if failures else 0)
