"""What an instrumented mode is judged by: the totals of the coroscope reports its test runs wrote, and
its test results and times against its baseline's (regressions, tests that fail in both or in the
baseline only, build and test time ratios)."""
from __future__ import annotations

import json

from .model import FAILING, Result, TestResult
from .process import Work


def summarize_reports(work: Work, lib: str, mode: str) -> dict:
    """Totals over the coroscope reports of one lib/mode; a field no report has stays None. Read
    defensively: the report format is about to change."""
    def add(key: str, value) -> None:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            totals[key] = (totals[key] or 0) + value

    keys = ("started", "failed", "cancelled", "hang_total", "failures_with_parents", "drops")
    totals: dict = {"files": 0, "unreadable": 0, **dict.fromkeys(keys)}
    for path in sorted(work.path("reports").glob(f"{lib}-{mode}-*.json")):
        totals["files"] += 1
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError):
            totals["unreadable"] += 1
            continue
        if not isinstance(doc, dict):
            totals["unreadable"] += 1
            continue
        for function in doc.get("functions") or []:
            if isinstance(function, dict):
                for key in ("started", "failed", "cancelled"):
                    add(key, function.get(key))
        summary = doc.get("summary") if isinstance(doc.get("summary"), dict) else {}
        add("hang_total", doc.get("hang_total", summary.get("hangs")))
        failures = doc.get("failures")
        if isinstance(failures, list):
            add("failures_with_parents", sum(1 for f in failures if isinstance(f, dict) and f.get("parents")))
        drops = doc.get("drops")
        if isinstance(drops, dict):
            add("drops", sum(v for v in drops.values() if isinstance(v, int)))
    return totals


def compare(base: Result, inst: Result) -> dict:
    """Tests that pass in the baseline and fail instrumented, those that fail in both, and the time
    ratios. The test lists are None when either side has no test results to compare."""
    def ratio(key: str) -> float | None:
        b, i = base.seconds.get(key), inst.seconds.get(key)
        return i / b if b and i is not None else None

    out = {"baseline": base.mode, "build_ratio": ratio("build"), "test_ratio": ratio("test"),
           "regressions": None, "fail_in_baseline_too": None, "fail_in_baseline_only": None}
    if base.tests_not_run or inst.tests_not_run or not base.tests:
        return out
    regressions, both, only_baseline = [], [], []
    for name in sorted(base.tests):
        was, now = base.tests[name], inst.tests.get(name, TestResult("missing", 0, "no result"))
        entry = {"test": name, "baseline": was.status, "status": now.status, "message": now.message or was.message}
        if was.status == "pass" and now.status in FAILING:
            regressions.append(entry)
        elif was.status in FAILING and now.status in FAILING:
            both.append(entry)
        elif was.status in FAILING and now.status == "pass":
            only_baseline.append(entry)
    out.update(regressions=regressions, fail_in_baseline_too=both, fail_in_baseline_only=only_baseline)
    return out
