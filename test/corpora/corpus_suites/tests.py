"""Running one build's tests, a result per test: ctest and its JUnit file (cppcoro, concurrencpp),
libcoro's Catch2 binary run directly (the test cases after a crash run again in a run of their own),
asio's echo server driven by a small client in a process of its own (echo_main, which suites.py runs
for --internal-echo-test), all in the environment that makes instrumented programs write reports."""
from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import asdict
from pathlib import Path

from .model import (BASELINE, ECHO_CONNECTIONS, ECHO_PORT, ECHO_SERVER, FAILING, INTERNAL_ECHO, SEVERITY, Config,
                    Result, Step, TestResult, describe_exit)
from .process import Work, base_env, read_text, run, write_atomic

SUITES_PY = Path(__file__).resolve().parents[1] / "suites.py"  # the entry point: INTERNAL_ECHO runs echo_main


def test_env(cfg: Config, work: Work, lib: str, mode: str) -> dict[str, str]:
    env = base_env(cfg)
    if mode in BASELINE:  # an instrumented mode
        env.update(COROSCOPE_REPORT=str(work.path("reports", f"{lib}-{mode}-%p.json")), COROSCOPE_SUMMARY="1")
        if cfg.hang_ms is not None:
            env["COROSCOPE_HANG_MS"] = cfg.hang_ms
    return env


CATCH2_SIGNAL_RE = re.compile(r"^SIG[A-Z]+ - ", re.M)  # what Catch2 writes for a test that a signal ended


def parse_junit(path: Path) -> list[tuple[str, TestResult]] | None:
    """(name, result) per <testcase> of a JUnit file (ctest's or Catch2's); None when there is no
    readable file."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return None
    results = []
    for case in root.iter("testcase"):
        failure = case.find("failure")
        if failure is None:
            failure = case.find("error")
        seconds = float(case.get("time") or 0)
        if failure is not None:
            text = failure.text or ""
            lines = [line.strip() for line in text.splitlines() if line.strip() not in ("", "FAILED:")]
            message = failure.get("message") or (lines[0] if lines else "")
            status = "crash" if CATCH2_SIGNAL_RE.search(text) else "fail"
            result = TestResult(status, seconds, message[:200])
        elif case.get("status") == "notrun":
            result = TestResult("notrun", seconds, "not run")
        elif case.find("skipped") is not None or case.get("status") == "disabled":
            result = TestResult("skip", seconds)
        else:
            result = TestResult("pass", seconds)
        results.append((case.get("name", ""), result))
    return results


def merge_into(tests: dict[str, TestResult], name: str, result: TestResult, part: str = "") -> None:
    """Add `result` to test `name`: the most severe status wins, with its message."""
    old = tests.get(name)
    if old is None:
        tests[name] = TestResult(result.status, result.seconds, result.message)
        return
    old.seconds += result.seconds
    if SEVERITY.index(result.status) > SEVERITY.index(old.status):
        old.status = result.status
        old.message = f"{part}: {result.message}" if part and result.message else result.message


def process_result(step: Step) -> TestResult:
    """A direct test run's own end: 'pass' when it exited (whatever its status), not when it crashed or
    was killed at the timeout, so that a crash after the last test is not lost."""
    if step.timed_out:
        return TestResult("timeout", step.seconds, step.outcome())
    if step.rc is not None and step.rc < 0:
        return TestResult("crash", step.seconds, step.outcome())
    return TestResult("pass", step.seconds)


CTEST_STATUS = {"Timeout": "timeout", "Not Run": "notrun", "Failed": "fail"}  # anything else: a signal


def ctest_reasons(output: str) -> dict[str, str]:
    """{test: reason} from the list that ends ctest's output ("  3 - name (SEGFAULT)"): its JUnit file
    says only that a test failed, not whether it timed out or crashed."""
    _, found, tail = output.rpartition("The following tests FAILED:")
    reasons = {}
    for line in tail.splitlines() if found else []:
        m = re.match(r"\s*\d+ - (.*) \(([^()]*)\)", line)
        if m:
            reasons[m.group(1)] = m.group(2)
    return reasons


def run_ctest(cfg: Config, work: Work, res: Result, build_dir: Path, env: dict[str, str], logs: Path) -> None:
    listing = subprocess.run(["ctest", "-N"], cwd=build_dir, env=env, capture_output=True, text=True, check=False)
    found = re.search(r"Total Tests: (\d+)", listing.stdout)
    count = int(found.group(1)) if found else 1
    junit = work.path("results", f"{res.lib}-{res.mode}-ctest.xml")
    work.remove(junit)
    # ctest kills each test at --timeout; the outer limit only guards against ctest itself hanging
    step = run("ctest", [*cfg.netns, "ctest", "--output-junit", junit, "--timeout", f"{cfg.timeout:g}", "-j1", "--output-on-failure"],
               logs / "ctest.log", cwd=build_dir, env=env, timeout=cfg.timeout * max(count, 1) + 60)
    res.steps.append(step)
    res.seconds["test"] = step.seconds
    results = parse_junit(junit)
    if results is None:
        res.run_problems.append(f"ctest: {step.outcome()}, no JUnit results ({junit})")
        return
    if step.timed_out:
        res.run_problems.append(f"ctest: {step.outcome()}")
    reasons = ctest_reasons(read_text(step.log))
    for name, result in results:
        if result.status in ("fail", "notrun") and name in reasons:
            result = TestResult(CTEST_STATUS.get(reasons[name], "crash"), result.seconds, reasons[name])
        merge_into(res.tests, name, result)


def catch2_spec(name: str) -> str:
    """A Catch2 test spec matching exactly the test case `name` (a backslash escapes any character)."""
    return "".join(c if c.isalnum() else "\\" + c for c in name)


def catch2_cases(cfg: Config, binary: Path, cwd: Path, env: dict[str, str]) -> list[str]:
    """The binary's test cases, in the order a run with CATCH2_ORDER takes them."""
    try:
        out = subprocess.run([*cfg.netns, str(binary), "--list-tests", *CATCH2_ORDER, "--reporter", "xml"], cwd=cwd,
                             env=env, capture_output=True, timeout=cfg.timeout, check=False).stdout
        root = ET.fromstring(out[out.find(b"<?xml"):] if b"<?xml" in out else out)
    except (subprocess.TimeoutExpired, ET.ParseError, OSError):
        return []
    return [name.text.strip() for name in root.iter("Name") if name.text]


XML_FORBIDDEN = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")

# Declaration order, so that a run cut short without a word about its last test case (a kill, a hang)
# points at the first listed case that has no result. Catch2 3 picks a random order otherwise.
CATCH2_ORDER = ("--order", "decl")


def catch2_failure(case: ET.Element) -> str:
    """The first thing that failed a test case, from Catch2's XML: an expression, an exception, a signal."""
    for node in case.iter():
        if node.tag == "Expression" and node.get("success") == "false":
            original = (node.findtext("Original") or "").strip()
            return f"{Path(node.get('filename', '')).name}:{node.get('line', '')}: {original}"
        if node.tag in ("FatalErrorCondition", "Exception", "Failure"):
            return (node.text or node.tag).strip()
    return "failed"


def parse_catch2_xml(path: Path) -> list[tuple[str, TestResult]]:
    """(name, result) per <TestCase> of Catch2's XML report. The XML reporter writes each test case when
    it ends, so a file cut short by a crash still holds every test case that ended before it."""
    parser = ET.XMLPullParser(events=("end",))
    results = []
    try:
        # A test's captured output may hold control characters, which XML 1.0 forbids.
        parser.feed(XML_FORBIDDEN.sub(b"?", path.read_bytes()))
        parser.close()
    except (OSError, ET.ParseError):
        pass  # keep the test cases read before the end of the file
    ended = []
    try:
        for _, element in parser.read_events():
            ended.append(element)
    except ET.ParseError:
        pass  # the parser queues its error after the events before it
    for case in ended:
        if case.tag != "TestCase":
            continue
        overall = case.find("OverallResult")
        if overall is None:
            continue
        seconds = float(overall.get("durationInSeconds") or 0)
        if overall.get("success") != "true":
            status = "crash" if case.find(".//FatalErrorCondition") is not None else "fail"
            results.append((case.get("name", ""), TestResult(status, seconds, catch2_failure(case)[:200])))
        else:
            skipped = int(overall.get("skips") or 0) > 0
            results.append((case.get("name", ""), TestResult("skip" if skipped else "pass", seconds)))
    return results


def run_catch2_cases(cfg: Config, binary: Path, cwd: Path, env: dict[str, str], cases: list[str] | None,
                     xml: Path, log: Path, label: str) -> tuple[Step, list[tuple[str, TestResult]]]:
    """One run of the binary: all its test cases (None) or the listed ones, with Catch2's XML report."""
    spec = [] if cases is None else [",".join(catch2_spec(c) for c in cases)]
    step = run(label, [*cfg.netns, binary, *spec, *CATCH2_ORDER, "--durations", "yes", "--reporter", f"xml::out={xml}"],
               log, cwd=cwd, env=env, timeout=cfg.timeout, err=log.with_suffix(".err"))
    return step, parse_catch2_xml(xml)


def run_catch2(cfg: Config, work: Work, res: Result, build_dir: Path, env: dict[str, str], logs: Path) -> None:
    """libcoro: its Catch2 binary, run directly for per-TEST_CASE results. When a run is cut short (a
    crash, the timeout), the test case it was in gets the run's end as its result, and the test cases
    after it run again, in one more run."""
    binary, cwd = build_dir / "test" / "libcoro_test", build_dir / "test"
    if not binary.is_file():
        res.run_problems.append(f"{binary.name}: not built")
        return
    cases = catch2_cases(cfg, binary, cwd, env)
    results_dir = work.fresh_dir(work.path("results", f"{res.lib}-{res.mode}"))
    process = f"{binary.name} (process)"
    res.seconds["test"] = 0.0
    problems = []
    pending: list[str] | None = None  # None: every test case
    if cfg.skip_cases & set(cases):
        for case in cases:
            if case in cfg.skip_cases:
                res.tests[case] = TestResult("skip", 0.0, "left out by --skip-case")
        pending = [c for c in cases if c not in cfg.skip_cases]
    for attempt in range(len(cases) + 1):
        step, results = run_catch2_cases(cfg, binary, cwd, env, pending, results_dir / f"run-{attempt}.xml",
                                         logs / f"catch2-{attempt}.out", f"catch2 run {attempt}")
        res.steps.append(step)
        res.seconds["test"] += step.seconds
        for name, result in results:
            merge_into(res.tests, name, result)
        end = process_result(step)
        merge_into(res.tests, process, end)
        left = [c for c in (cases if pending is None else pending) if c not in res.tests]
        if end.status == "pass":
            for case in left:  # the run ended on its own without them
                res.tests[case] = TestResult("missing", 0.0, "no result in Catch2's report")
            break
        if left and not any(r.status == "crash" for _, r in results):  # Catch2 names a signal's test case
            merge_into(res.tests, left.pop(0), end)  # the test case the run was in, in declaration order
        problems.append(f"{binary.name}: {step.outcome()}" + (f"; {len(left)} test cases run again" if left else ""))
        if not left:
            break
        pending = left
    retry_failed(cfg, res, binary, cwd, env, logs, results_dir)
    if res.tests[process].status in FAILING:
        res.run_problems.extend(problems)


def retry_failed(cfg: Config, res: Result, binary: Path, cwd: Path, env: dict[str, str], logs: Path,
                 results_dir: Path) -> None:
    """--retries: each failed test case runs alone again; passing once makes it 'flaky'. When every test
    case ends up passing or flaky, so does the binary's own process result. Retries add no test time."""
    process = f"{binary.name} (process)"
    failed = [name for name, t in res.tests.items() if name != process and t.status in FAILING]
    for i, case in enumerate(failed if cfg.retries else []):
        first = res.tests[case]
        for attempt in range(1, cfg.retries + 1):
            one, results = run_catch2_cases(cfg, binary, cwd, env, [case], results_dir / f"retry-{i:04d}-{attempt}.xml",
                                            logs / "retries" / f"{i:04d}-{attempt}.out", f"catch2 retry #{i}.{attempt}")
            if process_result(one).status == "pass" and results and all(r.status == "pass" for _, r in results):
                res.tests[case] = TestResult("flaky", first.seconds, f"{first.status} ({first.message}), then passed "
                                             f"alone on retry {attempt}")
                break
    ended = res.tests.get(process)
    if cfg.retries and ended and ended.status in FAILING and not any(
            t.status in FAILING for name, t in res.tests.items() if name != process):
        res.tests[process] = TestResult("flaky", ended.seconds, f"{ended.status} ({ended.message}); every test case "
                                        "passed alone")


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def echo_round_trips(deadline: float) -> tuple[int, str]:
    """Connect ECHO_CONNECTIONS times, send a line, expect it back; (successes, first problem)."""
    ok, problem = 0, ""
    for i in range(ECHO_CONNECTIONS):
        line = f"coroscope echo {i}\n".encode()
        try:
            with socket.create_connection(("127.0.0.1", ECHO_PORT), timeout=max(1.0, min(5.0, deadline - time.monotonic()))) as sock:
                sock.sendall(line)
                got = b""
                while len(got) < len(line):
                    chunk = sock.recv(len(line) - len(got))
                    if not chunk:
                        break
                    got += chunk
            if got == line:
                ok += 1
            elif not problem:
                problem = f"connection {i}: sent {line!r}, got {got!r}"
        except OSError as e:
            problem = problem or f"connection {i}: {e}"
    return ok, problem


def echo_session(binary: Path, timeout: float) -> tuple[dict[str, TestResult], list[str]]:
    """Start the echo server, wait for its port, run the client, stop the server with SIGTERM: a test
    for the echoes and one for the exit. Runs in the test run's own process (see run_echo_server)."""
    echo, stop = "echo_server: 20 round trips", "echo_server: exits on SIGTERM"
    if port_open(ECHO_PORT):
        return ({echo: TestResult("notrun", 0, "port in use"), stop: TestResult("notrun", 0, "port in use")},
                [f"port {ECHO_PORT} is already in use; {binary.name} not run"])
    tests: dict[str, TestResult] = {}
    deadline = time.monotonic() + timeout
    proc = subprocess.Popen([binary], cwd=binary.parent, stdin=subprocess.DEVNULL)
    try:
        listen_by = min(deadline, time.monotonic() + 30)
        while proc.poll() is None and not port_open(ECHO_PORT) and time.monotonic() < listen_by:
            time.sleep(0.1)
        if proc.poll() is not None:
            tests[echo] = TestResult("crash" if proc.returncode < 0 else "fail", 0,
                                     f"the server ended before listening, exit status {proc.returncode}")
        elif not port_open(ECHO_PORT):
            tests[echo] = TestResult("timeout", 0, f"port {ECHO_PORT} not open after 30 s")
        else:
            t0 = time.monotonic()
            ok, problem = echo_round_trips(deadline)
            tests[echo] = TestResult("pass" if ok == ECHO_CONNECTIONS else "fail", time.monotonic() - t0,
                                     "" if ok == ECHO_CONNECTIONS else f"{ok}/{ECHO_CONNECTIONS} echoed; {problem}")
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        t0 = time.monotonic()
        try:
            rc = proc.wait(timeout=max(1.0, min(30.0, deadline - time.monotonic())))
            tests[stop] = TestResult("pass" if rc == 0 else "crash" if rc < 0 else "fail", time.monotonic() - t0,
                                     "" if rc == 0 else describe_exit(rc))
        except subprocess.TimeoutExpired:
            tests[stop] = TestResult("timeout", time.monotonic() - t0, "still running 30 s after SIGTERM")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return tests, []


def echo_main(args: list[str]) -> int:
    """suites.py --internal-echo-test BINARY RESULTS.json TIMEOUT: echo_session in a process of its own,
    so that it runs in the network namespace of the test run."""
    binary, out, timeout = Path(args[0]), Path(args[1]), float(args[2])
    tests, problems = echo_session(binary, timeout)
    write_atomic(out, json.dumps({"tests": {k: asdict(v) for k, v in tests.items()}, "problems": problems}))
    return 0


def run_echo_server(cfg: Config, work: Work, res: Result, build_dir: Path, env: dict[str, str], logs: Path) -> None:
    """asio: its echo_server example, driven by a small client, then stopped with SIGTERM."""
    binary = build_dir / ECHO_SERVER
    if not binary.is_file():
        res.run_problems.append(f"{ECHO_SERVER}: not built")
        return
    out = work.path("results", f"{res.lib}-{res.mode}-echo.json")
    work.remove(out)
    cmd = [*cfg.netns, sys.executable, SUITES_PY, INTERNAL_ECHO, binary, out, f"{cfg.timeout:g}"]
    step = run("echo_server", cmd, logs / "echo_server.out", cwd=build_dir, env=env, timeout=cfg.timeout + 60,
               err=logs / "echo_server.err")
    res.steps.append(step)
    res.seconds["test"] = step.seconds
    try:
        doc = json.loads(out.read_text())
    except (OSError, ValueError):
        res.run_problems.append(f"{ECHO_SERVER}: the echo test ended with {step.outcome()} and no results")
        return
    res.tests.update({name: TestResult(**r) for name, r in doc["tests"].items()})
    res.run_problems.extend(doc["problems"])


TEST_RUNNERS = {"libcoro": run_catch2, "asio": run_echo_server}


def run_tests(cfg: Config, work: Work, res: Result, build_dir: Path, logs: Path) -> None:
    for old in work.path("reports").glob(f"{res.lib}-{res.mode}-*.json"):
        work.remove(old)
    work.path("reports").mkdir(parents=True, exist_ok=True)
    runner = TEST_RUNNERS.get(res.lib, run_ctest)
    runner(cfg, work, res, build_dir, test_env(cfg, work, res.lib, res.mode), logs)
