#!/usr/bin/env python3
"""Runs one coro-* check test, like upstream's check_clang_tidy.

Usage:
  check_coro_tidy.py [runner options] SOURCE CHECK TEMP [-- TIDY_ARGS [-- COMPILE_ARGS]]

The source's `// CHECK-*` comments are blanked (line numbers stay) and the
result is checked twice: through `clang-tidy -load libcoroscope-tidy.so` and
through `coroscope-tidy`. For each run:
  - CHECK-MESSAGES[-SUFFIX]: FileCheck over the warnings; any other warning
    or error fails the test.
  - CHECK-NOTES[-SUFFIX]: FileCheck over warnings and notes, together with
    the CHECK-MESSAGES lines; any other warning, error or note fails.
  - CHECK-FIXES[-SUFFIX]: FileCheck over the fixed file. Without any
    CHECK-FIXES, the fixed file must equal the input: no unexpected fix-its.
"""

import argparse
import difflib
import os
import re
import subprocess
import sys

CHECK_COMMENT = re.compile(r"//\s*CHECK-[A-Z0-9-]+:[^\r\n]*")


def run(cmd, **kwargs):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, **kwargs)


def filecheck(args, input_file, check_file, prefixes, implicit_not):
    cmd = [args.filecheck, "-input-file=" + input_file, check_file,
           "-check-prefixes=" + ",".join(prefixes), "-strict-whitespace",
           "-allow-unused-prefixes"]
    if implicit_not:
        cmd.append("-implicit-check-not=" + implicit_not)
    result = run(cmd)
    if result.returncode != 0:
        sys.stdout.write(result.stdout)
        with open(input_file) as f:
            sys.stdout.write("------ checked input ------\n" + f.read())
        return False
    return True


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clang-tidy", required=True)
    parser.add_argument("--plugin", required=True)
    parser.add_argument("--coroscope-tidy", required=True)
    parser.add_argument("--filecheck", required=True)
    parser.add_argument("--include", action="append", default=[])
    parser.add_argument("--modes", default="plugin,tool")
    parser.add_argument("-check-suffix", "-check-suffixes", dest="suffixes",
                        default="")
    parser.add_argument("-expect-clang-tidy-error", action="store_true")
    parser.add_argument("source")
    parser.add_argument("check")
    parser.add_argument("temp")
    argv = sys.argv[1:]
    rest = []
    if "--" in argv:
        split = argv.index("--")
        argv, rest = argv[:split], argv[split + 1:]
    args = parser.parse_args(argv)

    tidy_args, compile_args = [], []
    if "--" in rest:
        split = rest.index("--")
        tidy_args, compile_args = rest[:split], rest[split + 1:]
    else:
        tidy_args = rest
    compile_args = ["-std=c++20"] + ["-I" + d for d in args.include] + compile_args

    # An empty entry (",LOCKING") keeps the unsuffixed prefixes too.
    suffixes = [s.strip() for s in args.suffixes.split(",")] or [""]

    def prefixes(kind):
        return ["CHECK-%s%s" % (kind, "-" + s if s else "") for s in suffixes]

    with open(args.source) as f:
        original = f.read()
    has = {kind: any(re.search(re.escape(p) + r"(-DAG|-NEXT|-SAME)?:", original)
                     for p in prefixes(kind))
           for kind in ("MESSAGES", "NOTES", "FIXES")}
    if not (has["MESSAGES"] or has["NOTES"]):
        sys.exit("error: %s has no CHECK-MESSAGES or CHECK-NOTES for %s"
                 % (args.source, ",".join(suffixes)))
    stripped = CHECK_COMMENT.sub("//", original)

    temp_dir = os.path.dirname(os.path.abspath(args.temp))
    os.makedirs(temp_dir, exist_ok=True)
    ok = True
    for mode in args.modes.split(","):
        base = "%s.%s" % (args.temp, mode)
        fixed = base + os.path.splitext(args.source)[1]
        with open(fixed, "w") as f:
            f.write(stripped)
        if mode == "plugin":
            tool = [args.clang_tidy, "-load=" + args.plugin]
        elif mode == "tool":
            tool = [args.coroscope_tidy]
        else:
            sys.exit("error: unknown mode '%s'" % mode)
        cmd = tool + [fixed, "-fix", "--checks=-*," + args.check] + tidy_args
        cmd += ["--"] + compile_args
        print("[%s] %s" % (mode, " ".join(cmd)))
        result = run(cmd)
        output = result.stdout
        if (result.returncode != 0) != args.expect_clang_tidy_error:
            print(output)
            print("[%s] unexpected exit code %d" % (mode, result.returncode))
            ok = False
            continue

        messages = base + ".msg"
        with open(messages, "w") as f:
            f.write(output)
        if has["NOTES"]:
            # Notes are checked together with any CHECK-MESSAGES lines, so
            # a file may mix both; then every note must be listed.
            notes = base + ".notes"
            with open(notes, "w") as f:
                f.write("\n".join(l for l in output.splitlines()
                                  if "note: FIX-IT applied" not in l))
            ok &= filecheck(args, notes, args.source,
                            prefixes("MESSAGES") + prefixes("NOTES"),
                            "{{note|warning|error}}:")
        elif has["MESSAGES"]:
            ok &= filecheck(args, messages, args.source, prefixes("MESSAGES"),
                            "{{warning|error}}:")
        with open(fixed) as f:
            fixed_text = f.read()
        if has["FIXES"]:
            ok &= filecheck(args, fixed, args.source, prefixes("FIXES"), None)
        elif fixed_text != stripped:
            print("[%s] unexpected fix-its changed the file:" % mode)
            sys.stdout.writelines(difflib.unified_diff(
                stripped.splitlines(True), fixed_text.splitlines(True),
                "input", "fixed"))
            ok = False
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
