#!/usr/bin/env python3
"""Build the test suites of real coroutine code bases plain and instrumented by coroscope, run them
and compare: the instrumentation must not break a build nor a test that passes without it.

  suites.py --coroscope BUILD --work DIR [--libs ...] [--modes ...] [--jobs N] [--timeout S]
            [--keep-going] [--tests-only] [--no-baseline] [--retries N] [--skip-case NAME]
            [--json OUT.json]

stdout: a table per library and mode, the failures, a table of the coroscope reports and, last, one line
`suites: libs=N configure_failed=A tu_failed=B regressions=C`. Progress goes to stderr, logs to
WORK/logs/<lib>-<mode>/. Exit status: 0 clean, 1 failures (see README.md), 2 usage or environment error.

This file is the command line; the work is done by the package corpus_suites/ beside it.
"""
from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import sys
import traceback
from pathlib import Path

SCRIPT_DIR = Path(__file__).resolve().parent
REPO_DIR = SCRIPT_DIR.parents[1]
if str(SCRIPT_DIR) not in sys.path:  # run from anywhere, or imported: the package lies beside this file
    sys.path.insert(0, str(SCRIPT_DIR))

from corpus_suites.model import (BASELINE, CLANG_RUNTIME_LINK, COMPILERS, GXX_RUNTIME_LINK, INTERNAL_ECHO,  # noqa: E402
                                 LIBS, MODES, Config, Result, UsageError)
from corpus_suites.output import print_report, totals, write_json  # noqa: E402
from corpus_suites.pipeline import run_lib_mode  # noqa: E402
from corpus_suites.process import Work, netns_prefix, read_text  # noqa: E402
from corpus_suites.sources import extract_sources, write_asio_project  # noqa: E402
from corpus_suites.tests import echo_main  # noqa: E402


def split_list(text: str, allowed: tuple[str, ...], what: str) -> list[str]:
    items = list(dict.fromkeys(x.strip() for x in text.split(",") if x.strip()))
    bad = [x for x in items if x not in allowed]
    if bad or not items:
        raise UsageError(f"bad {what} {','.join(bad) or repr(text)}; choose from {','.join(allowed)}")
    return items


class Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise UsageError(message)


def default_sources() -> Path:
    shared = REPO_DIR.parent / "shared" / "corpora" / "src"
    return shared if shared.is_dir() else SCRIPT_DIR / "src"


def runtime_include_of(build: Path) -> Path:
    """<coroscope source>/runtime/include, the source being the one `build` was configured from."""
    found = re.search(r"^CMAKE_HOME_DIRECTORY:INTERNAL=(.*)$", read_text(build / "CMakeCache.txt"), re.M)
    return Path(found.group(1) if found else REPO_DIR) / "runtime" / "include"


def check_link_args(option: str, args: str) -> None:
    """A runtime library given as one path must exist; link options (-L, -l) are taken as they are."""
    words = shlex.split(args)
    if not words:
        raise UsageError(f"{option} is empty")
    for word in words:
        if not word.startswith("-") and not Path(word).is_file():
            raise UsageError(f"{option}: {word} does not exist")


def parse_args(argv: list[str]) -> tuple[Config, list[str], list[str], Path | None]:
    p = Parser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sources", type=Path, default=None, help="directory of <lib>.tar.gz (default: ../shared/corpora/src beside the repository if it exists, else src/ beside this script)")
    p.add_argument("--coroscope", type=Path, required=True, help="coroscope build directory")
    p.add_argument("--work", type=Path, required=True, help="work directory (sources, builds, logs, reports)")
    p.add_argument("--libs", default=",".join(LIBS))
    p.add_argument("--modes", default=",".join(MODES), help="baselines of the instrumented modes are added")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--timeout", type=float, default=900, help="seconds per test run (default %(default)g)")
    p.add_argument("--build-timeout", type=float, default=4 * 3600, help="seconds per configure/instrument/build step")
    p.add_argument("--keep-going", action="store_true", help="also run the tests of a mode whose build failed")
    p.add_argument("--tests-only", action="store_true", help="build only the targets the tests need "
                   "(libcoro: libcoro_test, asio: the echo server; cppcoro, concurrencpp: everything, as ctest runs "
                   "all of their test executables)")
    p.add_argument("--retries", type=int, default=0, help="Catch2 suites (libcoro): run a failed test case "
                   "alone up to this many times; one that then passes is 'flaky', not failed (default 0)")
    p.add_argument("--skip-case", action="append", default=[], metavar="NAME", help="Catch2 suites (libcoro): "
                   "leave out the test case of this exact name, reported 'skip' (repeatable)")
    p.add_argument("--no-baseline", action="store_true", help="run only the modes asked for; without a "
                   "baseline, every failing test of an instrumented mode counts (CI, on suites that pass whole)")
    p.add_argument("--shared-network", action="store_true", help="run the tests in the host's network namespace "
                   "(default: a namespace of their own per test run, when unshare allows it)")
    p.add_argument("--json", type=Path, help="write every figure, per-test results included, to this file")
    p.add_argument("--runtime-lib", help="link argument(s) of the runtime for clang "
                   "(default -LBUILD/runtime -lcoroscope-runtime, as a user links it)")
    p.add_argument("--gxx-runtime-lib", help="link argument(s) of the runtime for g++ "
                   "(default -LBUILD/test -lcoroscope-runtime-gxx)")
    p.add_argument("--runtime-include", type=Path, help="the runtime's headers, for the rewritten sources "
                   "(default: runtime/include of the source BUILD was configured from)")
    a = p.parse_args(argv)
    libs = split_list(a.libs, LIBS, "--libs")
    wanted = split_list(a.modes, MODES, "--modes")
    modes = [m for m in MODES if m in wanted or (not a.no_baseline and any(BASELINE.get(w) == m for w in wanted))]
    if a.jobs < 1 or a.timeout <= 0 or a.build_timeout <= 0 or a.retries < 0:
        raise UsageError("--jobs, --timeout and --build-timeout must be positive, --retries not negative")
    build = a.coroscope.resolve()
    sources = (a.sources or default_sources()).resolve()
    for lib in libs:
        if not (sources / f"{lib}.tar.gz").is_file():
            raise UsageError(f"{sources / (lib + '.tar.gz')} does not exist (--sources)")
    runtime_lib = a.runtime_lib or f"-L{build / 'runtime'} -lcoroscope-runtime"
    gxx_runtime_lib = a.gxx_runtime_lib or f"-L{build / 'test'} -lcoroscope-runtime-gxx"
    cfg = Config(sources=sources, work=a.work.resolve(), coroscope=build / "bin" / "coroscope",
                 plugin=build / "lib" / "libcoroscope-instrument.so",
                 runtime_include=(a.runtime_include or runtime_include_of(build)).resolve(),
                 clang_runtime_link=CLANG_RUNTIME_LINK.format(runtime_lib=runtime_lib),
                 gxx_runtime_link=GXX_RUNTIME_LINK.format(gxx_runtime_lib=gxx_runtime_lib),
                 jobs=a.jobs, timeout=a.timeout, build_timeout=a.build_timeout, keep_going=a.keep_going,
                 tests_only=a.tests_only, retries=a.retries, skip_cases=frozenset(a.skip_case),
                 hang_ms=os.environ.get("COROSCOPE_HANG_MS"),
                 netns=[] if a.shared_network else netns_prefix())
    check_environment(cfg, modes, runtime_lib, gxx_runtime_lib)
    return cfg, libs, modes, a.json


def check_environment(cfg: Config, modes: list[str], runtime_lib: str, gxx_runtime_lib: str) -> None:
    tools = {"cmake", "ninja", "ctest"} | {c for m in modes for c in COMPILERS[m].values()}
    if "rewriter" in modes:
        tools.add("clang++-19")
    missing = sorted(t for t in tools if shutil.which(t) is None)
    if missing:
        raise UsageError(f"not found on PATH: {' '.join(missing)}")
    if "plugin" in modes or "plugin-source" in modes:
        if not cfg.plugin.is_file():
            raise UsageError(f"{cfg.plugin} does not exist (--coroscope)")
        check_link_args("--runtime-lib", runtime_lib)
    if "rewriter" in modes:
        if not os.access(cfg.coroscope, os.X_OK):
            raise UsageError(f"{cfg.coroscope} does not exist (--coroscope)")
        if not (cfg.runtime_include / "coroscope" / "coroscope.hpp").is_file():
            raise UsageError(f"{cfg.runtime_include}/coroscope/coroscope.hpp does not exist (--runtime-include)")
        check_link_args("--gxx-runtime-lib", gxx_runtime_lib)


_work_dir: Path | None = None  # where an internal error's traceback goes, once known


def main(argv: list[str]) -> int:
    global _work_dir
    cfg, libs, modes, json_out = parse_args(argv)
    work = Work(cfg.work)
    _work_dir = work.root
    work.root.mkdir(parents=True, exist_ok=True)
    extract_sources(cfg, work, libs)
    if "asio" in libs:
        write_asio_project(work)
    done: dict[tuple[str, str], Result] = {}
    for lib in libs:
        for mode in modes:
            done[lib, mode] = run_lib_mode(cfg, work, lib, mode, done)
    results = list(done.values())
    print_report(results)
    counts = totals(results)
    if json_out:
        write_json(json_out, cfg, counts, results)
    print(f"\nsuites: libs={counts['libs']} configure_failed={counts['configure_failed']} "
          f"tu_failed={counts['tu_failed']} regressions={counts['regressions']}"
          + "".join(f" {key}={counts[key]}" for key in ("failed_without_baseline", "left_unchanged") if counts[key]),
          flush=True)
    return 1 if any(counts[k] for k in counts if k != "libs") else 0


def entry(argv: list[str]) -> int:
    try:
        if argv[:1] == [INTERNAL_ECHO]:
            return echo_main(argv[1:])
        return main(argv)
    except UsageError as e:
        print(f"suites.py: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("suites.py: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # never a traceback on the console: one line, the traceback in WORK
        detail = ""
        if _work_dir is not None:
            try:
                (_work_dir / "suites-error.txt").write_text(traceback.format_exc())
                detail = f" (traceback in {_work_dir / 'suites-error.txt'})"
            except OSError:
                pass
        print(f"suites.py: internal error: {type(e).__name__}: {e}{detail}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(entry(sys.argv[1:]))
