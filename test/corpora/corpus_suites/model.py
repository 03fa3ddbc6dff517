"""Shared definitions: the libraries and modes, their compilers, the runtime's link templates, the test
statuses and their severity, the fixed names, ports and patterns the other modules use, and the
records of a run (Config, Step, TestResult, Failure, Result) with UsageError, the error that ends a
run with one line on stderr and exit status 2. No behaviour beyond describing an exit status."""
from __future__ import annotations

import re
import signal
from dataclasses import dataclass, field
from pathlib import Path

LIBS = ("libcoro", "cppcoro", "concurrencpp", "asio")
MODES = ("plain", "plugin", "plugin-source", "gxx", "rewriter")  # each baseline before the mode compared with it
BASELINE = {"plugin": "plain", "plugin-source": "plain", "rewriter": "gxx"}  # instrumented mode -> the mode it is compared with
CLANG = {"CMAKE_C_COMPILER": "clang-19", "CMAKE_CXX_COMPILER": "clang++-19"}
GCC = {"CMAKE_C_COMPILER": "gcc", "CMAKE_CXX_COMPILER": "g++"}
COMPILERS = {"plain": CLANG, "plugin": CLANG, "plugin-source": CLANG, "gxx": GCC, "rewriter": GCC}

# What the link of an instrumented program needs, one template per compiler: "<runtime library
# argument(s)> -pthread". {runtime_lib} and {gxx_runtime_lib} are --runtime-lib and --gxx-runtime-lib
# (default: -L<dir> -l<name> of the runtime's linker script, as a user links it). Change these if the runtime comes to be linked differently.
CLANG_RUNTIME_LINK = "{runtime_lib} -pthread"
GXX_RUNTIME_LINK = "{gxx_runtime_lib} -pthread"

# Test statuses, least to most severe; a test "fails" when its status is in FAILING. "missing": the
# baseline has the test, this mode has no result for it (binary not built, run crashed before writing).
# "flaky": failed, then passed when run again alone (--retries); it does not fail.
SEVERITY = ("skip", "pass", "flaky", "fail", "notrun", "missing", "timeout", "crash")
FAILING = frozenset(("fail", "notrun", "missing", "timeout", "crash"))

ECHO_SERVER = "coroutines-echo_server"  # asio example target name (see write_asio_project)
# --tests-only: the ninja targets a lib's test run needs (libcoro: its Catch2 binary, asio: the echo
# server); a lib not named here builds everything, as ctest runs all of its test executables.
TEST_TARGETS = {"libcoro": ("libcoro_test",), "asio": (ECHO_SERVER,)}
ECHO_PORT = 55555  # hard-coded in asio's src/examples/cpp20/coroutines/echo_server.cpp
ECHO_CONNECTIONS = 20
COROUTINE_RE = re.compile(rb"\bco_(await|yield|return)\b")
MAIN_RE = re.compile(rb"\bint\s+main\s*\(")
NINJA_STATUS = "[%f/%t] "
NINJA_STATUS_RE = re.compile(r"^\[\d+/\d+\] ")
COMPILE_RULE_RE = re.compile(r"^(C|CXX)_COMPILER__")
KILL_GRACE_S = 10  # SIGTERM first, so an instrumented program still writes its report
INTERNAL_ECHO = "--internal-echo-test"
# Each test run gets a network namespace of its own with only loopback up: the suites listen on fixed
# ports (libcoro 8080, asio 55555) that another test run on the host may hold. The first wrapper that
# works is used (--map-root-user: without root); none works: the tests share the host's network.
NETNS_WRAPPERS = (["unshare", "--net"], ["unshare", "--net", "--map-root-user"])
LOOPBACK_UP = ["sh", "-c", 'ip link set lo up && exec "$0" "$@"']


class UsageError(Exception):
    """Bad command line or environment: one line on stderr, exit status 2."""


@dataclass
class Config:
    sources: Path
    work: Path
    coroscope: Path
    plugin: Path
    runtime_include: Path
    clang_runtime_link: str
    gxx_runtime_link: str
    jobs: int
    timeout: float
    build_timeout: float
    keep_going: bool
    tests_only: bool  # build only TEST_TARGETS
    retries: int  # Catch2 suites: runs of a failed test case alone before it counts as failed
    skip_cases: frozenset[str]  # Catch2 suites: test cases left out, reported "skip"
    hang_ms: str | None
    netns: list[str]  # prefix of every test command; empty: the host's network


@dataclass
class Step:
    name: str
    cmd: list[str]
    rc: int | None = None  # negative: killed by that signal
    seconds: float = 0.0
    timed_out: bool = False
    log: str = ""

    @property
    def ok(self) -> bool:
        return self.rc == 0 and not self.timed_out

    def outcome(self) -> str:
        return f"timed out after {self.seconds:.0f} s" if self.timed_out else describe_exit(self.rc)


@dataclass
class TestResult:
    status: str
    seconds: float = 0.0
    message: str = ""


@dataclass
class Failure:
    what: str
    first_error: str


@dataclass
class Result:
    lib: str
    mode: str
    baseline: str | None
    configure_ok: bool | None = None  # None: not reached
    configure_error: str = ""
    tus: int | None = None
    tus_failed: int = 0
    failed_tus: list[Failure] = field(default_factory=list)
    failed_other_steps: list[Failure] = field(default_factory=list)
    # plugin: files it compiled unchanged, with its warning (the build still passes)
    left_unchanged: list[Failure] = field(default_factory=list)
    instrument: dict | None = None
    tests_not_run: str = ""
    tests: dict[str, TestResult] = field(default_factory=dict)
    run_problems: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    comparison: dict | None = None
    reports: dict | None = None
    coroscope_changed: list[str] = field(default_factory=list)

    def count(self, *statuses: str) -> int:
        return sum(1 for t in self.tests.values() if t.status in statuses)

    @property
    def instrument_failed(self) -> bool:
        return self.instrument is not None and self.instrument.get("rc") != 0

    @property
    def regressions(self) -> int:
        return len(self.comparison["regressions"] or []) if self.comparison else 0


def describe_exit(rc: int | None) -> str:
    if rc is not None and rc < 0:
        try:
            return f"killed by {signal.Signals(-rc).name}"
        except ValueError:
            return f"killed by signal {-rc}"
    return f"exit status {rc}"
