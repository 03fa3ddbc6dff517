"""The tracker meets process events: exit, SIGTERM/SIGINT, fork, a second
writer of the same report, and outputs that are symlinks, FIFOs or devices.

process_events_test.py PROBE SCRATCH-DIR runs process_probe in each mode and
checks the files it leaves and its exit status. Timeouts only guard against
hangs; nothing here asserts how long anything takes.
"""
import glob
import json
import os
import signal
import stat
import subprocess
import sys
import time

PROBE, SCRATCH = sys.argv[1], sys.argv[2]
failures = []


def check(condition, what):
    if not condition:
        failures.append(what)
        print("FAIL:", what)


def fresh(name):
    path = os.path.join(SCRATCH, name)
    subprocess.run(["rm", "-rf", path], check=True)
    os.makedirs(path)
    return path


def environment(**outputs):
    env = {k: v for k, v in os.environ.items() if not k.startswith("COROSCOPE")}
    env.update({k: str(v) for k, v in outputs.items()})
    return env


def run(mode, *args, env, stdin=None, timeout=120):
    return subprocess.run([PROBE, mode, *args], env=env, input=stdin, capture_output=True,
                          text=True, timeout=timeout)


def load(path):
    with open(path) as f:
        return json.load(f)


def leftovers(directory):
    return [p for p in os.listdir(directory) if ".tmp." in p]


def started(report):
    return report["summary"]["started"]


def scenario(function):
    """Runs one scenario; an exception (a missing file, a timeout) fails it
    and the others still run."""
    try:
        function()
    except Exception as error:  # noqa: BLE001 - any failure is the test's
        check(False, "%s: %s: %s" % (function.__name__, type(error).__name__, error))
    return function


# --- exit -----------------------------------------------------------------------

@scenario
def exit_in_coroutine():
    d = fresh("exit-in-coroutine")
    r = run("exit-in-coroutine", env=environment(COROSCOPE_REPORT=d + "/r.json"))
    check(r.returncode == 3, "exit() in a coroutine keeps its status: %d %s" % (r.returncode, r.stderr))
    report = load(d + "/r.json")
    check(len(report["processes"]) == 1 and report["at_exit"], "exit(): one report, at exit")
    check(any(c["body"]["function"].startswith("main::") or "lambda" in c["body"]["function"]
              or c["state"] == "running" for c in report["live"]),
          "exit(): the exiting coroutine is live (running) in the report")


@scenario
def thread_outlives_main():
    d = fresh("thread-outlives-main")


    for attempt in range(3):
        r = run("thread-outlives-main", env=environment(COROSCOPE_REPORT=d + "/r.json",
                                                        COROSCOPE_TRACE=d + "/t.json"))
        check(r.returncode == 0, "a thread outliving main: no crash (%d) %s" % (r.returncode, r.stderr))
        check(started(load(d + "/r.json")) >= 40, "a thread outliving main: the report is written")
        load(d + "/t.json")
    check(not leftovers(d), "a thread outliving main: no temporaries")

    # --- signals --------------------------------------------------------------------


@scenario
def termination_signals():
    for number, name in ((signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "SIGINT")):
        d = fresh("signal-" + name)
        p = subprocess.Popen([PROBE, "wait"], env=environment(
            COROSCOPE_REPORT=d + "/r.json", COROSCOPE_TRACE=d + "/t.json", COROSCOPE_SUMMARY=1),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        check(p.stdout.readline().strip() == "ready", name + ": the probe started")
        p.send_signal(number)
        out, err = p.communicate(timeout=120)
        check(p.returncode == -number, "%s: the process still dies of it (%d)" % (name, p.returncode))
        report = load(d + "/r.json")
        check(report["terminated_by"] == name, name + ": the report says so")
        check(started(report) == 3 and report["summary"]["suspended"] == 1,
              name + ": the report holds the run: %s" % report["summary"])
        check("stopped by " + name in err, name + ": the summary is printed: " + err)
        check(len(load(d + "/t.json")["traceEvents"]) > 3, name + ": the trace is written")
        check(not leftovers(d), name + ": no temporaries")

    # A handler the program had before the tracker, and one it installs after:
    # the program's handler runs and the program shuts down its own way.


@scenario
def program_handlers():
    for mode in ("own-handler", "later-handler"):
        d = fresh(mode)
        r = run(mode, env=environment(COROSCOPE_REPORT=d + "/r.json"))
        check(r.returncode == 0 and "stopped by the program's handler" in r.stdout,
              "%s: the program's handler ran (%d) %s" % (mode, r.returncode, r.stderr))
        report = load(d + "/r.json")
        check("terminated_by" not in report and started(report) == 4,
              mode + ": the report is written at exit: %s" % report["summary"])

    # A second SIGTERM while the outputs are written: death at once, and the
    # temporary being written is removed.


@scenario
def second_signal_during_write():
    d = fresh("double-signal")
    r = run("double-signal", env=environment(COROSCOPE_REPORT=d + "/r.json",
                                              COROSCOPE_TRACE=d + "/t.json"))
    check(r.returncode == -signal.SIGTERM, "double signal: dies of SIGTERM (%d)" % r.returncode)
    check(not leftovers(d), "double signal: no temporaries: %s" % os.listdir(d))

    # SIGTERM while exit() writes: the write completes, nothing is left behind.


@scenario
def signal_during_exit():
    d = fresh("exit-signal")
    r = run("exit-signal", env=environment(COROSCOPE_REPORT=d + "/r.json",
                                            COROSCOPE_TRACE=d + "/t.json"))
    check(r.returncode in (0, -signal.SIGTERM), "exit and signal: %d %s" % (r.returncode, r.stderr))
    check(started(load(d + "/r.json")) == 200, "exit and signal: the report is complete")
    check(len(load(d + "/t.json")["traceEvents"]) > 100000, "exit and signal: the trace is complete")
    check(not leftovers(d), "exit and signal: no temporaries: %s" % os.listdir(d))

    # --- fork -----------------------------------------------------------------------


@scenario
def fork_child():
    d = fresh("fork")
    r = run("fork", env=environment(COROSCOPE_REPORT=d + "/r.json", COROSCOPE_WATCHDOG=1,
                                    COROSCOPE_HANG_MS=20))
    check(r.returncode == 0, "fork: both processes ran (%d) %s" % (r.returncode, r.stderr))
    children = glob.glob(d + "/r.json.*")
    check(len(children) == 1, "fork: the child wrote its own file: %s" % os.listdir(d))
    if children:
        child_pid = children[0].rsplit(".", 1)[1]
        child = load(children[0])
        check(started(child) == 7, "fork: the child counts only its coroutines: %s" % child["summary"])
        check(len(child["live"]) == 1 and child["summary"]["hangs"] >= 1,
              "fork: the child's watchdog ran and sees only its own coroutines")
        check(child["processes"][0].endswith("(pid %s)" % child_pid), "fork: the child names itself")
        check(r.stderr.count("is also the parent process's output") == 1,
              "fork: the child warns once: " + r.stderr)
    parent = load(d + "/r.json")
    check(started(parent) == 11, "fork: the parent's report is its own: %s" % parent["summary"])
    # The parent sampled 9 or more threads before the fork; the child never
    # had more than its main thread and the runtime's two.
    check(parent["system"]["peak_threads"] >= 9,
          "fork: the parent keeps its peak: %s" % parent["system"])
    if children:
        check(child["system"]["peak_threads"] <= 3,
              "fork: the child's thread peak is its own: %s" % child["system"])

    # --- which file each process writes ------------------------------------------


@scenario
def percent_p():
    d = fresh("percent-p")
    r = subprocess.run([PROBE, "work", "2"], env=environment(COROSCOPE_REPORT=d + "/r-%p.json"),
                       capture_output=True, text=True, timeout=120)
    files = os.listdir(d)
    check(len(files) == 1 and files[0].startswith("r-") and files[0][2:-5].isdigit(),
          "%%p expands to the pid: %s" % files)

    # Two processes with one path: the second writer does not replace the first.


@scenario
def second_writer():
    d = fresh("second-writer")
    env = environment(COROSCOPE_REPORT=d + "/r.json")
    holder = subprocess.Popen([PROBE, "hold"], env=env, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    check(holder.stdout.readline().strip() == "ready", "second writer: the first process started")
    first = run("work", "3", env=env)
    check(first.returncode == 0 and first.stderr == "", "second writer: the other process ran")
    out, err = holder.communicate("go\n", timeout=120)
    check(started(load(d + "/r.json")) == 6, "second writer: the first file is kept")
    mine = d + "/r.json.%d" % holder.pid
    check(os.path.exists(mine) and started(load(mine)) == 2,
          "second writer: it writes <path>.<pid>: %s" % os.listdir(d))
    check(err.count("was written by another process while this one ran") == 1,
          "second writer: one warning: " + err)

    # A leftover from an earlier run is simply replaced.


@scenario
def stale_report():
    d = fresh("stale")
    with open(d + "/r.json", "w") as f:
        f.write("from yesterday")
    os.utime(d + "/r.json", (time.time() - 86400, time.time() - 86400))
    r = run("work", "1", env=environment(COROSCOPE_REPORT=d + "/r.json"))
    check(r.stderr == "" and started(load(d + "/r.json")) == 2, "a stale report is replaced")

    # --- outputs that are not regular files ---------------------------------------


@scenario
def symlinked_output():
    d = fresh("symlink")
    os.symlink("real.json", d + "/r.json")
    run("work", "1", env=environment(COROSCOPE_REPORT=d + "/r.json", COROSCOPE_TRACE=d + "/t-link"))
    check(os.path.islink(d + "/r.json") and started(load(d + "/real.json")) == 2,
          "a symlinked report path: the target is written, the link stays")


@scenario
def fifo_without_reader():
    d = fresh("fifo")
    os.mkfifo(d + "/r.json")
    r = run("work", "1", env=environment(COROSCOPE_REPORT=d + "/r.json"), timeout=60)
    check(r.returncode == 0, "a FIFO nobody reads: the program is not stalled")
    check(r.stderr.strip() == "coroscope: error: cannot write the report '%s/r.json': no process "
          "is reading the FIFO" % d, "a FIFO nobody reads: one line: " + r.stderr)
    check(stat.S_ISFIFO(os.stat(d + "/r.json").st_mode), "a FIFO stays a FIFO")


@scenario
def device_output():
    if os.geteuid() == 0:
        d = fresh("device")
        os.mknod(d + "/null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        r = run("work", "1", env=environment(COROSCOPE_REPORT=d + "/null", COROSCOPE_TRACE=d + "/null"))
        check(r.returncode == 0 and r.stderr == "", "a device output: written: " + r.stderr)
        check(stat.S_ISCHR(os.stat(d + "/null").st_mode), "a device stays a device")
        check(os.listdir(d) == ["null"], "a device output: nothing beside it: %s" % os.listdir(d))
    else:
        print("skipped: device nodes need root")


@scenario
def full_disk():
    # As root a regression would replace the machine's /dev/full: use a
    # private node then.
    full = "/dev/full"
    if os.geteuid() == 0:
        full = fresh("full") + "/full"
        os.mknod(full, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    r = run("work", "1", env=environment(COROSCOPE_REPORT=full))
    check(r.returncode == 0 and r.stderr.strip() ==
          "coroscope: error: cannot write the report '%s': No space left on device" % full,
          "a full disk: one line, the program's status kept: " + r.stderr)
    check(stat.S_ISCHR(os.stat(full).st_mode), "a full disk: the device stays a device")


if failures:
    print("%d check(s) failed" % len(failures))
    sys.exit(1)
print("process events: all checks passed")
