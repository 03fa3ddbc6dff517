"""Running things: progress on stderr, commands with their output to a log, a timeout and a kill of
their whole process group (SIGTERM, then SIGKILL), the network namespace of the test runs, the WORK
directory (Work, the only way anything gets deleted), atomic writes and the commands' environment."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from .model import KILL_GRACE_S, LOOPBACK_UP, NETNS_WRAPPERS, NINJA_STATUS, Config, Step


def log(msg: str) -> None:
    print(time.strftime("[%H:%M:%S] ") + msg, file=sys.stderr, flush=True)


def is_under(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


class Work:
    """WORK and the only way this script deletes anything: inside WORK."""

    def __init__(self, root: Path):
        self.root = root.resolve()

    def path(self, *parts: str) -> Path:
        return self.root.joinpath(*parts)

    def remove(self, path: Path) -> None:
        path = Path(os.path.abspath(path))
        if not is_under(path, self.root) or path == self.root:
            raise RuntimeError(f"refusing to delete {path}: not inside {self.root}")
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()

    def fresh_dir(self, path: Path) -> Path:
        self.remove(path)
        path.mkdir(parents=True)
        return path


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def base_env(cfg: Config) -> dict[str, str]:
    """The environment of every command: no COROSCOPE_* of the caller's (a build runs instrumented
    programs, cppcoro's test discovery, which must not write reports), C locale for the messages, and
    no git repository above WORK for libcoro's `git describe`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COROSCOPE")}
    env.update(LC_ALL="C", NINJA_STATUS=NINJA_STATUS, GIT_CEILING_DIRECTORIES=str(cfg.work))
    return env


def kill_group(proc: subprocess.Popen) -> None:
    """Stop a command started in its own session, with everything it started."""
    for sig, grace in ((signal.SIGTERM, KILL_GRACE_S), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            pass
    proc.wait()


def run(name: str, cmd: list, out: Path, *, cwd: Path, env: dict[str, str], timeout: float | None,
        err: Path | None = None) -> Step:
    """Run cmd with stdout to `out` (stderr too, unless `err`), killing it after `timeout` seconds."""
    step = Step(name, [str(c) for c in cmd], log=str(out))
    out.parent.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    with open(out, "wb") as fout, open(err or os.devnull, "wb") as ferr:
        try:
            proc = subprocess.Popen(step.cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=fout,
                                    stderr=ferr if err else subprocess.STDOUT, start_new_session=True)
        except OSError as e:
            fout.write(f"cannot run {step.cmd[0]}: {e}\n".encode())
            step.rc = 127
            return step
        try:
            step.rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            step.timed_out = True
            kill_group(proc)
            step.rc = proc.returncode
        except BaseException:
            kill_group(proc)
            raise
    step.seconds = time.monotonic() - start
    return step


def read_text(path: Path | str) -> str:
    try:
        return Path(path).read_text(errors="replace")
    except OSError:
        return ""


def netns_prefix() -> list[str]:
    for wrapper in NETNS_WRAPPERS:
        prefix = [*wrapper, "--", *LOOPBACK_UP]
        try:
            if subprocess.run([*prefix, "true"], capture_output=True, timeout=60, check=False).returncode == 0:
                return prefix
        except (OSError, subprocess.TimeoutExpired):
            pass
    log("no network namespace available (unshare); the tests share the host's network")
    return []
