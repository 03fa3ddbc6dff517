"""One library in one mode from start to end: configure and build, the tests (not after a failed build
without --keep-going), the coroscope reports and the comparison with the baseline, watching
coroscope's own files meanwhile for a rebuild that would mix versions into the results."""
from __future__ import annotations

import shlex
from pathlib import Path

from .build import configure_and_build
from .compare import compare, summarize_reports
from .model import BASELINE, FAILING, Config, Result
from .output import fmt
from .process import Work, log
from .tests import run_tests


def coroscope_files(cfg: Config) -> list[Path]:
    """What an instrumented build uses of coroscope: the tool, the plugin, the runtime's headers and
    the runtime libraries named by the link arguments, with their siblings (an ld script's archive)."""
    libs = [Path(w) for link in (cfg.clang_runtime_link, cfg.gxx_runtime_link) for w in shlex.split(link)
            if not w.startswith("-") and Path(w).is_file()]
    siblings = [f for d in sorted({lib.parent for lib in libs}) for f in sorted(d.glob("libcoroscope*"))]
    return [cfg.coroscope, cfg.plugin, *sorted(f for f in cfg.runtime_include.rglob("*") if f.is_file()), *siblings]


def fingerprint(files: list[Path]) -> dict[str, tuple[int, int] | None]:
    def stat(f: Path):
        try:
            st = f.stat()
            return st.st_size, st.st_mtime_ns
        except OSError:
            return None
    return {str(f): stat(f) for f in files}


def run_lib_mode(cfg: Config, work: Work, lib: str, mode: str, done: dict[tuple[str, str], Result]) -> Result:
    res = Result(lib, mode, BASELINE.get(mode))
    watched = coroscope_files(cfg) if mode in BASELINE else []
    before = fingerprint(watched)
    logs = work.fresh_dir(work.path("logs", f"{lib}-{mode}"))
    log(f"{lib}-{mode}: configure and build")
    build_dir = configure_and_build(cfg, work, res, logs)
    if build_dir is None:
        res.tests_not_run = "configure failed"
    elif (res.failed_tus or res.failed_other_steps) and not cfg.keep_going:
        res.tests_not_run = "build failed (--keep-going runs the tests that were built)"
    else:
        log(f"{lib}-{mode}: tests (built in {res.seconds['build']:.0f} s)")
        run_tests(cfg, work, res, build_dir, logs)
    if mode in BASELINE:
        res.reports = summarize_reports(work, lib, mode)
        if not res.tests_not_run and res.reports["files"] == 0:
            res.run_problems.append("the instrumented test runs wrote no coroscope report: "
                                    "tracking was off (is the runtime linked?)")
        base = done.get((lib, BASELINE[mode]))
        res.comparison = compare(base, res) if base else None
    # Someone rebuilding coroscope meanwhile would make this mode's results mix versions
    after = fingerprint(watched)
    res.coroscope_changed = [f for f in before if before[f] != after.get(f)]
    log(f"{lib}-{mode}: configure {fmt(res.configure_ok)}, {res.tus_failed} TUs failed, "
        f"{res.count(*FAILING)} tests failed, {res.regressions} regressions")
    return res
