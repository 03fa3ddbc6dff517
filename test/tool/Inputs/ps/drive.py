"""Runs a target program and reads it from outside while it runs.

drive.py COROSCOPE OUT-DIR TARGET [ARG...]

Starts TARGET (its stdout to OUT-DIR/target.out), waits for its "ready"
line, then writes what `coroscope ps` and `pstree` say of it into OUT-DIR
(ps.txt, ps.json, ps.csv, ps-hal.txt, pstree.txt, core-tree.txt), each
with its stderr in NAME.err and its exit status in NAME.status. A core dump taken with gcore is read
too. Then it checks that the target kept running (its ticks went on),
stops it by creating the file its first argument names, and prints what
the target did and whether the core's tree is the live one.
"""
import os
import re
import subprocess
import sys
import time

coroscope, out, target = sys.argv[1], sys.argv[2], sys.argv[3:]
os.makedirs(out, exist_ok=True)
stop_file = target[1]
if os.path.exists(stop_file):
    os.remove(stop_file)


def ticks():
    text = open(os.path.join(out, "target.out")).read()
    found = re.findall(r"^tick (\d+)$", text, re.M)
    return int(found[-1]) if found else 0


def wait_for(condition, what):
    for _ in range(3000):  # up to about 5 minutes on a loaded machine
        if condition():
            return
        if proc.poll() is not None:
            sys.exit("target exited early (%d) waiting for %s" % (proc.returncode, what))
        time.sleep(0.1)
    proc.kill()
    sys.exit("timed out waiting for " + what)


def run(name, args):
    result = subprocess.run([coroscope] + args, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    open(os.path.join(out, name), "w").write(result.stdout)
    open(os.path.join(out, name + ".err"), "w").write(result.stderr)
    open(os.path.join(out, name + ".status"), "w").write("%d\n" % result.returncode)
    return result.stdout


with open(os.path.join(out, "target.out"), "w") as stdout:
    proc = subprocess.Popen(target, stdout=stdout, stderr=subprocess.PIPE, text=True)
wait_for(lambda: "ready" in open(os.path.join(out, "target.out")).read(), "ready")
pid = str(proc.pid)
before = ticks()
run("ps.txt", ["ps", pid])
run("ps.json", ["ps", "--format", "json", pid])
run("ps.csv", ["ps", "--format=csv", pid])
run("ps-hal.txt", ["ps", "--sort", "function", "--filter", "h*", pid])
live = run("pstree.txt", ["pstree", pid])
core_prefix = os.path.join(out, "core")
subprocess.run(["gcore", "-o", core_prefix, pid], stdout=subprocess.DEVNULL,
               stderr=subprocess.DEVNULL, check=True)
core = run("core-tree.txt", ["pstree", "--core", core_prefix + "." + pid, "--exe", target[0]])
os.remove(core_prefix + "." + pid)
# The target runs on: its ticker keeps printing after being read.
wait_for(lambda: ticks() >= before + 3, "ticks after the reads")
open(stop_file, "w").close()
try:
    _, err = proc.communicate(timeout=300)
except subprocess.TimeoutExpired:
    proc.kill()
    sys.exit("the target did not stop")
open(os.path.join(out, "target.err"), "w").write(err)
print("target exit status %d" % proc.returncode)
print("ticks went on after the reads: %s" % (ticks() >= before + 3))
print(open(os.path.join(out, "target.out")).read().strip().splitlines()[-1])


def shape(tree):
    """The tree without times and without the ticker, whose state flips."""
    lines = tree.splitlines()[1:]
    lines = [l for l in lines if "ticker" not in l]
    return [re.sub(r"\b\d+(\.\d+)?(us|ms|s)\b|\b\d+m\d+s\b|\b\d+h\d+m\b", "T", l)
            for l in lines]


print("core tree is the live tree: %s" % (shape(live) == shape(core)))
if shape(live) != shape(core):
    print("\n".join(shape(live)) + "\n---\n" + "\n".join(shape(core)))
