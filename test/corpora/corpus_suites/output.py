"""What a run hands back: the tables and lists on stdout, the totals behind the last line and the exit
status, and the file of every figure (--json)."""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from .model import FAILING, Config, Result
from .process import write_atomic


def fmt(value, spec: str = "") -> str:
    return "-" if value is None else format(value, spec)


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    line = lambda r: "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])


def results_row(res: Result) -> list[str]:
    cfg = {None: "-", True: "ok", False: "FAILED"}[res.configure_ok]
    ran = res.configure_ok and res.tus is not None and not res.tests_not_run
    c = res.comparison
    return [res.lib, res.mode, cfg, fmt(res.tus), fmt(res.tus_failed if res.tus is not None else None),
            fmt(len(res.failed_other_steps) if res.tus is not None else None),
            fmt(res.count("pass", *FAILING) if ran else None), fmt(res.count("pass") if ran else None),
            fmt(res.count(*FAILING) if ran else None), fmt(res.count("skip") if ran else None),
            fmt(res.regressions if c and c["regressions"] is not None else None),
            fmt(res.seconds.get("instrument"), ".1f"), fmt(res.seconds.get("build"), ".1f"),
            fmt(res.seconds.get("test"), ".1f"),
            fmt(c and c["build_ratio"], ".2f"), fmt(c and c["test_ratio"], ".2f")]


def print_report(results: list[Result]) -> None:
    print(table(["lib", "mode", "configure", "TUs", "TUs failed", "other failed", "tests run", "passed", "failed",
                 "skipped", "regressions", "instrument s", "build s", "test s", "build x", "test x"],
                [results_row(r) for r in results]))
    sections: list[tuple[str, list[str]]] = [
        ("configure failures", [f"{r.lib}-{r.mode}: {r.configure_error}" for r in results if r.configure_ok is False]),
        ("instrument steps (rewriter)", [f"{r.lib}: exit status {r.instrument['rc']}"
                                         f"{' (timed out)' if r.instrument['timed_out'] else ''}, {r.instrument['tus']} TUs: "
                                         f"{r.instrument['summary'] or '(no summary)'}"
                                         + "".join(f"\n    {e}" for e in r.instrument["errors"])
                                         for r in results if r.instrument]),
        ("failed compile steps (TUs)", [f"{r.lib}-{r.mode}: {f.what}: {f.first_error}" for r in results for f in r.failed_tus]),
        ("failed other build steps", [f"{r.lib}-{r.mode}: {f.what}: {f.first_error}" for r in results for f in r.failed_other_steps]),
        ("tests not run", [f"{r.lib}-{r.mode}: {r.tests_not_run}" for r in results if r.tests_not_run]),
        ("test run problems", [f"{r.lib}-{r.mode}: {p}" for r in results for p in r.run_problems]),
        ("files the plugin compiled unchanged (not instrumented)",
         [f"{r.lib}-{r.mode}: {f.what}: {f.first_error}" for r in results for f in r.left_unchanged]),
        ("flaky tests (failed, then passed alone; --retries)",
         [f"{r.lib}-{r.mode}: {name}: {t.message}" for r in results for name, t in r.tests.items()
          if t.status == "flaky"]),
        ("coroscope files changed during the mode's build and tests (its results mix versions)",
         [f"{r.lib}-{r.mode}: {f}" for r in results for f in r.coroscope_changed]),
    ]
    for key, title in (("regressions", "regressions (pass in the baseline, fail instrumented)"),
                       ("fail_in_baseline_too", "fail in baseline too"),
                       ("fail_in_baseline_only", "fail in the baseline only")):
        sections.append((title, [f"{r.lib}-{r.mode} vs {r.comparison['baseline']}: {e['test']}: {e['baseline']} -> "
                                 f"{e['status']}{': ' + e['message'] if e['message'] else ''}"
                                 for r in results if r.comparison for e in r.comparison[key] or []]))
    for title, lines in sections:
        print(f"\n{title}: {len(lines) if lines else 'none'}")
        for line in lines:
            print(f"  {line}")
    instrumented = [r for r in results if r.reports is not None]
    if instrumented:
        keys = ("files", "unreadable", "started", "failed", "cancelled", "hang_total", "failures_with_parents", "drops")
        print("\ncoroscope reports (instrumented test runs):")
        print(table(["lib", "mode", "report files", "unreadable", "started", "failed", "cancelled", "hang_total",
                     "failures with parents", "drops"],
                    [[r.lib, r.mode, *(fmt(r.reports.get(k)) for k in keys)] for r in instrumented]))


def totals(results: list[Result]) -> dict[str, int]:
    return {"libs": len({r.lib for r in results}),
            "configure_failed": sum(1 for r in results if r.configure_ok is False),
            "tu_failed": sum(r.tus_failed for r in results),
            "regressions": sum(r.regressions for r in results),
            # --no-baseline: an instrumented mode's failures have nothing to be compared with
            "failed_without_baseline": sum(r.count(*FAILING) for r in results
                                           if r.baseline and r.comparison is None),
            "other_failed_steps": sum(len(r.failed_other_steps) for r in results),
            "instrument_failed": sum(1 for r in results if r.instrument_failed),
            "left_unchanged": sum(len(r.left_unchanged) for r in results),
            "run_problems": sum(len(r.run_problems) for r in results)}


def write_json(path: Path, cfg: Config, counts: dict[str, int], results: list[Result]) -> None:
    """--json: the configuration, the totals and every result, per-test results included."""
    doc = {"config": {k: str(v) for k, v in asdict(cfg).items()}, "totals": counts,
           "results": [asdict(r) for r in results]}
    write_atomic(path.resolve(), json.dumps(doc, indent=1, sort_keys=True) + "\n")
