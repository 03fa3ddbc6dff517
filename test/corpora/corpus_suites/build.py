"""Configuring and building one library in one mode: cmake with the mode's compiler and flags, ninja
(`-k 0`, so that every failing translation unit counts; with --tests-only just the test run's
targets), the failed steps of ninja's log sorted into translation units and other steps, and for the
rewriter mode the copy of the sources instrumented by `coroscope instrument`."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

from .model import CLANG, COMPILE_RULE_RE, COMPILERS, NINJA_STATUS_RE, TEST_TARGETS, Config, Failure, Result, Step
from .process import Work, base_env, is_under, read_text, run
from .sources import lib_cmake_defs, project_dir


def first_error(lines: list[str]) -> str:
    for pattern in (re.compile(r"\berror:"), re.compile(r"\berror\b|undefined reference", re.I)):
        for line in lines:
            if pattern.search(line):
                return line.strip()
    return next((line.strip() for line in lines if line.strip()), "(no output)")


def configure(cfg: Config, res: Result, name: str, src: Path, build: Path, defs: dict[str, str],
              logs: Path) -> Step:
    defs = {"CMAKE_BUILD_TYPE": "RelWithDebInfo", "CMAKE_EXPORT_COMPILE_COMMANDS": "ON", **defs}
    cmd = ["cmake", "-S", src, "-B", build, "-G", "Ninja", *(f"-D{k}={v}" for k, v in defs.items())]
    step = run(name, cmd, logs / f"{name}.log", cwd=build, env=base_env(cfg), timeout=cfg.build_timeout)
    res.steps.append(step)
    return step


def configure_error(step: Step) -> str:
    """The first CMake error of a configure log with the first line of its message."""
    lines = read_text(step.log).splitlines()
    for i, line in enumerate(lines):
        if line.startswith("CMake Error"):
            message = next((m.strip() for m in lines[i + 1:] if m.strip()), "")
            return f"{line.strip()} {message}".strip()
    return f"cmake: {step.outcome()}: {first_error(lines)}"


def build_targets(cfg: Config, lib: str) -> list[str]:
    """The ninja targets to build: none (everything), or with --tests-only those of TEST_TARGETS."""
    return list(TEST_TARGETS.get(lib, ())) if cfg.tests_only else []


def compile_outputs(cfg: Config, build: Path, targets: list[str]) -> set[str]:
    """The outputs of the build's compile steps (one per translation unit); with `targets`, those the
    targets need (all of them if this ninja cannot tell)."""
    out = subprocess.run(["ninja", "-C", str(build), "-t", "targets", "all"], capture_output=True, text=True,
                         env=base_env(cfg), check=False).stdout
    compiles = {target for target, _, rule in (line.rpartition(": ") for line in out.splitlines())
                if COMPILE_RULE_RE.match(rule)}
    if targets:
        inputs = subprocess.run(["ninja", "-C", str(build), "-t", "inputs", *targets], capture_output=True,
                                text=True, env=base_env(cfg), check=False)
        if inputs.returncode == 0:
            compiles &= set(inputs.stdout.splitlines())
    return compiles


def ninja_failures(log_text: str) -> list[tuple[list[str], str]]:
    """(outputs, first error line) of each `FAILED:` step of a ninja log; the line after `FAILED:` is the
    command, the lines up to the next status line are its output."""
    failures: list[tuple[list[str], list[str]]] = []
    current: list[str] | None = None
    for line in log_text.splitlines():
        if line.startswith("FAILED: "):
            current = []
            failures.append((line[len("FAILED: "):].split(), current))
        elif NINJA_STATUS_RE.match(line) or line.startswith("ninja: "):
            current = None
        elif current is not None:
            current.append(line)
    return [(outputs, first_error(lines[1:])) for outputs, lines in failures]


def plugin_left_unchanged(log_text: str) -> list[Failure]:
    """The files the plugin compiled unchanged: it never fails a build, it warns
    `<file>: warning: coroscope: ...; compiling the file unchanged` instead."""
    found = {}
    for line in log_text.splitlines():
        if "warning: coroscope:" in line and line.rstrip().endswith("unchanged"):
            where, _, why = line.partition(": warning: coroscope: ")
            found.setdefault(where.strip(), why.strip())
    return [Failure(where, why) for where, why in sorted(found.items())]


def build(cfg: Config, res: Result, build_dir: Path, logs: Path) -> None:
    targets = build_targets(cfg, res.lib)
    compiles = compile_outputs(cfg, build_dir, targets)
    res.tus = len(compiles)
    step = run("build", ["ninja", "-C", build_dir, "-k", "0", f"-j{cfg.jobs}", *targets], logs / "build.log",
               cwd=build_dir, env=base_env(cfg), timeout=cfg.build_timeout)
    res.steps.append(step)
    res.seconds["build"] = step.seconds
    for outputs, error in ninja_failures(read_text(step.log)):
        is_tu = any(o in compiles for o in outputs)
        (res.failed_tus if is_tu else res.failed_other_steps).append(Failure(" ".join(outputs), error))
    res.tus_failed = len(res.failed_tus)
    res.left_unchanged = plugin_left_unchanged(read_text(step.log))
    if not step.ok and not res.failed_tus and not res.failed_other_steps:
        res.failed_other_steps.append(Failure("ninja", f"{step.outcome()}: {first_error(read_text(step.log).splitlines())}"))


def database_tus(db: Path, tree: Path) -> list[Path]:
    """The .cpp/.cc translation units of db/compile_commands.json that lie under `tree`."""
    entries = json.loads((db / "compile_commands.json").read_text())
    tus = set()
    for entry in entries:
        path = Path(os.path.normpath(Path(entry["directory"]) / entry["file"]))
        if path.suffix in (".cpp", ".cc") and is_under(path, tree):
            tus.add(path)
    return sorted(tus)


def rewrite(cfg: Config, work: Work, res: Result, logs: Path) -> Path | None:
    """WORK/rewritten/<lib>: a fresh copy of the sources, instrumented in place by `coroscope instrument`
    from a clang compile database. None when that database cannot be configured."""
    tree = work.path("rewritten", res.lib)
    work.remove(tree)
    shutil.copytree(work.path("src", res.lib), tree, symlinks=True)
    db = work.fresh_dir(work.path("build", f"{res.lib}-rewriter-db"))
    step = configure(cfg, res, "configure-db", project_dir(work, res.lib, tree), db,
                     {**CLANG, **lib_cmake_defs(work, res.lib, tree)}, logs)
    res.seconds["configure-db"] = step.seconds
    if not step.ok:
        res.configure_ok = False
        res.configure_error = "compile database: " + configure_error(step)
        return None
    tus = database_tus(db, tree)
    step = run("instrument", [cfg.coroscope, "instrument", "-p", db, "--in-place", "--root", tree, *tus],
               logs / "instrument.log", cwd=tree, env=base_env(cfg), timeout=cfg.build_timeout)
    res.steps.append(step)
    res.seconds["instrument"] = step.seconds
    lines = [line for line in read_text(step.log).splitlines() if line.startswith("coroscope: ")]
    summary = next((line for line in reversed(lines) if re.match(r"coroscope: \d+ of \d+ files", line)),
                   lines[-1] if lines else "")
    res.instrument = {"rc": step.rc, "timed_out": step.timed_out, "tus": len(tus), "summary": summary,
                      "errors": [line for line in lines if line.startswith("coroscope: error:")]}
    return tree


def configure_and_build(cfg: Config, work: Work, res: Result, logs: Path) -> Path | None:
    """Configure and build one library in one mode; the build directory, or None when configure fails."""
    tree = work.path("src", res.lib)
    defs = dict(COMPILERS[res.mode])
    if res.mode in ("plugin", "plugin-source"):
        flags = f"-fplugin={cfg.plugin}"
        if res.mode == "plugin-source":
            flags += " -fplugin-arg-coroscope-engine=source"
        defs.update(CMAKE_CXX_FLAGS=flags, CMAKE_CXX_STANDARD_LIBRARIES=cfg.clang_runtime_link)
    elif res.mode == "rewriter":
        tree = rewrite(cfg, work, res, logs)
        if tree is None:
            return None
        defs.update(CMAKE_CXX_FLAGS=f"-I{cfg.runtime_include}", CMAKE_CXX_STANDARD_LIBRARIES=cfg.gxx_runtime_link)
    build_dir = work.fresh_dir(work.path("build", f"{res.lib}-{res.mode}"))
    step = configure(cfg, res, "configure", project_dir(work, res.lib, tree), build_dir,
                     {**defs, **lib_cmake_defs(work, res.lib, tree)}, logs)
    res.seconds["configure"] = step.seconds
    res.configure_ok = step.ok
    if not step.ok:
        res.configure_error = configure_error(step)
        return None
    build(cfg, res, build_dir, logs)
    return build_dir
