#!/usr/bin/env python3
"""Generated shape test for the instrumentation engine.

Writes many small coroutine programs whose suspensions nest in every shape
the engine handles (inside co_yield and co_return, call arguments,
conditions, loops, lambdas nested in coroutines, initializers, ?:, comma
expressions, extra parentheses, project macros, `co_yield co_await`,
`co_await co_await`), batched a few dozen to a translation unit, some files
with a UTF-8 byte order mark and some written with digraphs. Each program
prints a deterministic result.

Every file is built plain, with the plugin, and rewritten by `coroscope
instrument --out-dir` (built by clang and by g++), all with -Wall -Wextra
-Werror. Each instrumented build must print what the plain build prints,
report (COROSCOPE_REPORT) exactly the sites the generator wrote, and the
engine's summary must count the coroutines and sites written. Stripping the
rewritten files must give the originals back byte for byte.
"""
import argparse
import concurrent.futures
import json
import os
import random
import re
import shlex
import subprocess
import sys

MACROS = {
    # name: (definition, kinds of its suspensions)
    "AWAIT": ("#define AWAIT(x) co_await x", ["await"]),
    "AWAIT_SUM": ("#define AWAIT_SUM(x, y) (co_await x + co_await y)",
                  ["await", "await"]),
    "YIELD_AWAITED": ("#define YIELD_AWAITED(x) co_yield co_await x",
                      ["yield", "await"]),
    "RETURN_AWAITED": ("#define RETURN_AWAITED(x) co_return co_await x",
                       ["await"]),
}

PRELUDE = """\
#include <coro_test/tasks.h>
#include <cstdio>
#include <cstdlib>

using cppcoro::task;

{macros}

struct ready {{
  int v;
  bool await_ready() const noexcept {{ return true; }}
  void await_suspend(std::coroutine_handle<>) noexcept {{}}
  int await_resume() const noexcept {{ return v; }}
}};

inline task<int> value(int v) {{ co_return v; }}
inline task<int> add(int a, int b) {{ co_return a + b; }}
inline task<ready> wrapped(int v) {{ co_return ready{{v}}; }}
inline int plus(int a, int b) {{ return a + b; }}

template <typename T> task<void> store(task<T> &t, T &out) {{
  out = co_await t;
}}

template <typename T> T run(task<T> t) {{
  T result{{}};
  cppcoro::sync_wait(store(t, result));
  return result;
}}
"""
PRELUDE_COROUTINES = 4  # value, add, wrapped, store


class Generator:
    def __init__(self, rng):
        self.rng = rng
        self.coroutines = PRELUDE_COROUTINES
        self.names = 0

    def fresh(self, stem):
        self.names += 1
        return f"{stem}{self.names}"

    def leaf(self, env):
        if env and self.rng.random() < 0.5:
            return f"co_await value({self.rng.choice(env)})"
        return f"co_await value({self.rng.randint(1, 3)})"

    def suspension(self, depth, env, lambdas=True):
        """A co_await expression: as the left operand of a comma, anything
        else would draw -Wunused-value."""
        d = max(depth - 1, 0)
        return self.rng.choice([
            lambda: self.leaf(env),
            lambda: f"co_await add({self.expr(d, env, lambdas)}, 1)",
            lambda: f"co_await co_await wrapped({self.expr(d, env, lambdas)})",
        ])()

    def expr(self, depth, env, lambdas=True):
        """An int expression that suspends at least once; every suspension
        in it runs whenever it is evaluated. A coroutine lambda written in a
        macro argument is left alone by the engine, so none is generated
        there."""
        if depth <= 0:
            return self.leaf(env)
        d = depth - 1
        e = lambda: self.expr(d, env, lambdas)
        no_lambda = lambda: self.expr(d, env, False)
        k = lambda: self.rng.randint(1, 3)
        shapes = [
            lambda: self.leaf(env),
            lambda: f"co_await add({e()}, {e()})",
            lambda: f"(co_await value({e()}))",
            lambda: f"co_await co_await wrapped({e()})",
            lambda: f"AWAIT(value({no_lambda()}))",
            lambda: f"AWAIT_SUM(value({k()}), add({no_lambda()}, 1))",
            lambda: f"plus({e()}, {k()})",
            lambda: f"{self.leaf(env)} + {e()}",
            lambda: f"(({e()}))",
            lambda: f"({self.suspension(d, env, lambdas)}, {e()})",
        ]
        if lambdas:
            shapes.append(lambda: self.lambda_expr(d, env))
        return self.rng.choice(shapes)()

    def lambda_expr(self, depth, env):
        """A coroutine lambda, called and awaited where it is written."""
        self.coroutines += 1
        p = self.fresh("p")
        body = self.expr(depth, env + [p], lambdas=depth > 0)
        return (f"co_await [&](int {p}) -> task<int> {{ co_return {body} + {p}; }}"
                f"({self.rng.randint(1, 3)})")

    def statement(self, env):
        e = lambda: self.expr(self.rng.randint(0, 2), env)
        x = self.fresh("x")
        shapes = [
            lambda: [f"int {x} = {e()};", f"r += {x};"],
            lambda: [f"r += {e()};"],
            lambda: [f"r += plus({e()}, {e()});"],
            lambda: [f"r += co_await add({e()}, {e()});"],
            lambda: [f"if ({e()} > 0)", f"  r += {e()};"],
            lambda: [f"if (int {x} = {e()}; {x} > 0)", f"  r += {x};"],
            lambda: [f"for (int {x} = 0; {x} < 2 && {e()} > 0; ++{x})",
                     f"  r += {x};"],
            lambda: [f"for (int {x} = 0; {x} < 3; {x} += {e()})",
                     f"  r += {x};"],
            lambda: [f"for (int {x} = 0; {x} < 2; ++{x})",
                     f"  r += {x} ? {e()} : {e()};"],
            lambda: [f"r += ({self.suspension(1, env)}, {e()});"],
            lambda: [f"r += (({e()}));"],
            # g++ 12 miscompiles a coroutine lambda temporary in a braced
            # initializer.
            lambda: [f"int {x}[] = {{{self.expr(1, env, False)}, "
                     f"{self.expr(1, env, False)}}};",
                     f"r += {x}[0] + {x}[1];"],
            lambda: [f"switch ({e()}) {{", f"default:",
                     f"  r += {e()};", "  break;", "}"],
            lambda: [f"r += co_await co_await wrapped({e()});"],
            lambda: [f"r += AWAIT(add({self.expr(1, env, False)}, "
                     f"{self.expr(1, env, False)}));"],
        ]
        return self.rng.choice(shapes)()

    def task_program(self, name):
        self.coroutines += 1
        lines = [f"task<int> {name}() {{", "  int r = 0;"]
        for _ in range(self.rng.randint(2, 5)):
            lines += ["  " + l for l in self.statement([])]
        ending = self.rng.choice(["plain", "await", "macro"])
        if ending == "plain":
            lines.append("  co_return r;")
        elif ending == "await":
            lines.append(f"  co_return r + {self.expr(2, [])};")
        else:
            lines.append("  RETURN_AWAITED(value(r));")
        return lines + ["}"]

    def nested_program(self, name):
        """Coroutine lambdas nested in coroutine lambdas in a coroutine."""
        self.coroutines += 3
        a, b = self.fresh("a"), self.fresh("b")
        inner = self.expr(1, [b, "r"], lambdas=False)
        outer = self.expr(1, [a, "r"], lambdas=False)
        return [
            f"task<int> {name}() {{",
            f"  int r = {self.expr(1, [], lambdas=False)};",
            f"  auto outer = [&](int {a}) -> task<int> {{",
            f"    auto inner = [&](int {b}) -> task<int> {{ co_return {inner} + {b}; }};",
            f"    co_return co_await inner({a}) + {outer} + {a};",
            "  };",
            f"  co_return co_await outer({self.rng.randint(1, 3)}) + r + {self.expr(1, [])};",
            "}",
        ]

    def generator_program(self, name):
        self.coroutines += 2
        gen = name + "_values"
        e = lambda: self.expr(self.rng.randint(0, 2), [], lambdas=False)
        lines = [f"cppcoro::generator<int> {gen}() {{",
                 "  co_yield co_await value(1);",
                 f"  co_yield co_await co_await wrapped({e()});"]
        shapes = [
            lambda: [f"co_yield {e()};"],
            lambda: [f"YIELD_AWAITED(value({e()}));"],
            lambda: [f"co_yield AWAIT(value({e()}));"],
            lambda: ["for (int i = 0; i < 2; ++i)",
                     f"  co_yield i ? {e()} : {e()};"],
            lambda: [f"co_yield ({self.suspension(1, [])}, {e()});"],
        ]
        for _ in range(self.rng.randint(1, 4)):
            lines += ["  " + l for l in self.rng.choice(shapes)()]
        lines += ["}", f"task<int> {name}() {{", "  int r = 0;",
                  f"  for (auto g = {gen}(); g.next();)", "    r += g.value();",
                  "  co_return r;", "}"]
        return lines

    def program(self, name):
        kind = self.rng.choices(["task", "nested", "generator"], [6, 2, 2])[0]
        return getattr(self, kind + "_program")(name)


def to_digraphs(text):
    """The same program spelled with `<%` `%>` `<:` `:>` `%:`; the generated
    code has no braces, brackets or `#` in its literals."""
    lines = []
    for line in text.split("\n"):
        if line.startswith("#"):
            line = "%:" + line[1:]
        lines.append(line.replace("{", "<%").replace("}", "%>")
                     .replace("[", "<:").replace("]", ":>"))
    return "\n".join(lines)


def write_file(gen, path, index, programs, bom, digraphs):
    """Writes one translation unit; returns its bytes and each program's
    span of lines. `exe N` runs program N alone, so a program g++ 12
    itself gets wrong costs only that program."""
    names = [f"p{index}_{i}" for i in range(programs)]
    macros = "\n".join(d for d, _ in MACROS.values())
    lines = ([f"// Generated by gen_shapes.py: {programs} programs."] +
             PRELUDE.format(macros=macros).split("\n"))
    spans = []
    for name in names:
        lines.append("")
        first = len(lines) + 1
        lines += gen.program(name)
        spans.append((first, len(lines)))
    lines += ["", "int main(int argc, char **argv) {",
              "  task<int> (*const programs[])() = {" + ", ".join(names) + "};",
              "  int i = argc > 1 ? std::atoi(argv[1]) : 0;",
              '  std::printf("%d %d\\n", i, run(programs[i]()));', "}", ""]
    text = "\n".join(lines)
    if digraphs:
        text = to_digraphs(text)
    data = text.encode()
    if bom:
        data = b"\xef\xbb\xbf" + data
    with open(path, "wb") as f:
        f.write(data)
    return data, spans


def expected_sites(data):
    """Sites as the runtime reports them, by line: (line, column, kind) for
    each suspension written in the file, (line, 0, kind) for a macro's; and
    the count the engine's summary gives (a macro's sites once)."""
    by_line, file_sites, used = {}, 0, set()
    for number, line in enumerate(data.decode("utf-8-sig").split("\n"), 1):
        if re.match(r"\s*(#|%:)\s*define\b", line):
            continue
        offset = 3 if number == 1 and data.startswith(b"\xef\xbb\xbf") else 0
        sites = by_line.setdefault(number, set())
        for m in re.finditer(r"\bco_(await|yield)\b", line):
            sites.add((number, offset + m.start() + 1, m.group(1)))
            file_sites += 1
        for m in re.finditer(r"\b([A-Z_]+)\(", line):
            if m.group(1) in MACROS:
                used.add(m.group(1))
                sites.update((number, 0, k) for k in MACROS[m.group(1)][1])
    return by_line, file_sites + sum(len(MACROS[n][1]) for n in used)


def reported_sites(report, name):
    with open(report) as f:
        data = json.load(f)
    return {(s["at"]["line"], s["at"].get("column", 0), s["kind"])
            for s in data["sites"]
            if os.path.basename(s["at"]["file"]) == name and
            s["kind"] in ("await", "yield")}


def summaries(text):
    """(coroutines, sites) by file; the generator writes nothing the engine
    has to skip, so a summary that skips something does not match."""
    found = {}
    for m in re.finditer(r"coroscope: (\S+): (\d+) coroutines?, (\d+) "
                         r"sites?(.*)", text):
        found[os.path.basename(m.group(1))] = (
            (int(m.group(2)), int(m.group(3))) if not m.group(4) else
            m.group(0))
    return found


class Failure(Exception):
    pass


def run(cmd, **kw):
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if proc.returncode != 0:
        raise Failure(f"{' '.join(cmd)} failed ({proc.returncode}):\n"
                      f"{proc.stdout}{proc.stderr}")
    return proc


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", required=True)
    ap.add_argument("--seed", type=int, default=20240)
    ap.add_argument("--files", type=int, default=4)
    ap.add_argument("--programs", type=int, default=40)
    ap.add_argument("--jobs", type=int, default=2)
    for tool in ["clangxx", "gxx", "coroscope", "plugin", "runtime-include",
                 "test-include", "runtime-libs", "gxx-runtime-libs"]:
        ap.add_argument("--" + tool, required=True)
    args = ap.parse_args()

    src, out, back, bins, reports = (
        os.path.join(args.work, d) for d in ("src", "out", "back", "bin",
                                             "reports"))
    for d in (src, bins, reports):
        os.makedirs(d, exist_ok=True)
    gen = Generator(random.Random(args.seed))
    files = {}
    for i in range(args.files):
        name = f"gen_{i}.cpp"
        gen.coroutines = PRELUDE_COROUTINES
        data, spans = write_file(gen, os.path.join(src, name), i,
                                 args.programs, bom=i % 2 == 1,
                                 digraphs=i % 4 >= 2)
        by_line, count = expected_sites(data)
        # Every run goes through the prelude's sites (store's co_await).
        prelude = set().union(*(by_line.get(l, set())
                                for l in range(1, spans[0][0])))
        expect = [prelude.union(*(by_line.get(l, set())
                                  for l in range(a, b + 1)))
                  for a, b in spans]
        files[name] = {"data": data, "expect": expect,
                       "summary": (gen.coroutines, count)}

    flags = ["-std=c++20", "-Wall", "-Wextra", "-Werror",
             "-I" + args.test_include]
    runtime = shlex.split(args.runtime_libs)
    gxx_runtime = shlex.split(args.gxx_runtime_libs)
    failures = []
    instrument = run([args.coroscope, "instrument", "--out-dir", out,
                      "--root", src] +
                     [os.path.join(src, n) for n in files] + ["--"] + flags)
    written = summaries(instrument.stderr)
    for name, info in files.items():
        if written.get(name) != info["summary"]:
            failures.append(f"{name}: coroscope instrument counted "
                            f"{written.get(name)} (coroutines, sites), the "
                            f"generator wrote {info['summary']}")

    # plain-gxx: the original built by g++, to tell a g++ 12 bug from ours.
    variants = ["plain", "plain-gxx", "plugin", "clang", "gxx"]

    def build(name, variant):
        exe = os.path.join(bins, f"{name[:-4]}-{variant}")
        rewritten = ["-I" + args.runtime_include, os.path.join(out, name)]
        cmd = {
            "plain": [args.clangxx] + flags + [os.path.join(src, name)],
            "plain-gxx": [args.gxx] + flags + [os.path.join(src, name)],
            "plugin": [args.clangxx] + flags +
                      ["-fplugin=" + args.plugin,
                       "-fplugin-arg-coroscope-engine=source",
                       "-fplugin-arg-coroscope-verbose",
                       os.path.join(src, name)] + runtime,
            "clang": [args.clangxx] + flags + rewritten + runtime,
            "gxx": [args.gxx] + flags + rewritten + gxx_runtime,
        }[variant]
        return name, variant, exe, run(cmd + ["-o", exe]).stderr

    def execute(name, variant, exe, index):
        report = os.path.join(reports, f"{name[:-4]}-{variant}-{index}.json")
        env = dict(os.environ, COROSCOPE_REPORT=report)
        proc = subprocess.run([exe, str(index)], capture_output=True,
                              text=True, env=env)
        sites = None
        if proc.returncode == 0 and variant not in ("plain", "plain-gxx"):
            sites = reported_sites(report, name)
        return name, variant, index, proc.returncode, proc.stdout, sites

    built, ran = {}, {}
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        for job in [pool.submit(build, n, v) for n in files for v in variants]:
            try:
                name, variant, exe, stderr = job.result()
                built[name, variant] = (exe, stderr)
            except Failure as e:
                failures.append(str(e))
        runs = [pool.submit(execute, n, v, built[n, v][0], i)
                for (n, v) in built for i in range(args.programs)]
        for job in runs:
            name, variant, index, status, stdout, sites = job.result()
            ran[name, variant, index] = (status, stdout, sites)

    compared = {v: 0 for v in variants[2:]}
    gxx_bugs = 0
    for name, info in files.items():
        if (name, "plugin") in built:
            counted = summaries(built[name, "plugin"][1]).get(name)
            if counted != info["summary"]:
                failures.append(f"{name}: the plugin counted {counted} "
                                f"(coroutines, sites), the generator wrote "
                                f"{info['summary']}")
        for index in range(args.programs):
            plain = ran.get((name, "plain", index))
            if not plain or plain[0] != 0:
                failures.append(f"{name}: program {index} fails plain")
                continue
            gxx_ok = ran.get((name, "plain-gxx", index), (1,))[:2] == plain[:2]
            gxx_bugs += not gxx_ok
            for variant in variants[2:]:
                if variant == "gxx" and not gxx_ok:
                    continue
                got = ran.get((name, variant, index))
                if not got:
                    continue  # the build failed, reported above
                status, stdout, sites = got
                compared[variant] += 1
                if (status, stdout) != plain[:2]:
                    failures.append(
                        f"{name}: program {index}, {variant} build: exit "
                        f"{status}, printed {stdout!r}; plain: {plain[1]!r}")
                elif sites != info["expect"][index]:
                    want = info["expect"][index]
                    failures.append(
                        f"{name}: program {index}, {variant} build tracked "
                        f"{len(sites)} sites, {len(want)} written; missing "
                        f"{sorted(want - sites)[:4]}, unexpected "
                        f"{sorted(sites - want)[:4]}")

    run([args.coroscope, "instrument", "--strip", "--out-dir", back, "--root",
         out] + [os.path.join(out, n) for n in files])
    for name, info in files.items():
        with open(os.path.join(back, name), "rb") as f:
            if f.read() != info["data"]:
                failures.append(f"{name}: strip does not give the original")

    if failures:
        print("\n".join(failures[:40]))
        return 1
    total = len(files) * args.programs
    coroutines = sum(i["summary"][0] for i in files.values())
    sites = sum(i["summary"][1] for i in files.values())
    print(f"{len(files)} files, {total} programs: {coroutines} coroutines, "
          f"{sites} sites written")
    print(f"same output and sites tracked as written: plugin "
          f"{compared['plugin']}, rewritten/clang {compared['clang']}, "
          f"rewritten/g++ {compared['gxx']} programs")
    print(f"g++ 12 itself gets {gxx_bugs} originals wrong; not compared")
    print("strip gives every file back")
    return 0


if __name__ == "__main__":
    sys.exit(main())
