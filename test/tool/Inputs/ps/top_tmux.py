"""Drives `coroscope top` in a real terminal (tmux) against a live target.

top_tmux.py COROSCOPE OUT-DIR TARGET STOP-FILE

Starts TARGET, runs `coroscope top PID` in a detached tmux session, and
saves the screen (capture-pane) into OUT-DIR: first.txt once drawn,
sorted.txt after the key 's', filtered.txt after '/half' and Enter; then
sends 'q' and prints whether top quit and the target kept running.
Each wait polls the screen until the expected text appears.
"""
import os
import subprocess
import sys
import time

coroscope, out, target, stop_file = sys.argv[1:5]
os.makedirs(out, exist_ok=True)
if os.path.exists(stop_file):
    os.remove(stop_file)
proc = subprocess.Popen([target, stop_file], stdout=subprocess.PIPE, text=True)
for line in proc.stdout:
    if line.strip() == "ready":
        break
session = "coroscope-top-%d" % os.getpid()
subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "160", "-y", "40",
                "%s top %d; echo top-exited-$?; sleep 30" % (coroscope, proc.pid)], check=True)


def screen():
    return subprocess.run(["tmux", "capture-pane", "-p", "-t", session],
                          stdout=subprocess.PIPE, text=True).stdout


def wait_for(text, name):
    for _ in range(600):
        shown = screen()
        if text in shown:
            open(os.path.join(out, name), "w").write(shown)
            return True
        time.sleep(0.1)
    open(os.path.join(out, name), "w").write(screen())
    print("%s: never showed %r" % (name, text))
    return False


def keys(*sent):
    subprocess.run(["tmux", "send-keys", "-t", session] + list(sent), check=True)


try:
    wait_for("keys: s sort", "first.txt")
    keys("s")
    wait_for("[sort: waiting]", "sorted.txt")
    keys("/", "h", "a", "l", "f", "Enter")
    wait_for("[filter: half]", "filtered.txt")
    keys("q")
    quit_ok = wait_for("top-exited-0", "quit.txt")
    print("top quit on q: %s" % quit_ok)
finally:
    subprocess.run(["tmux", "kill-session", "-t", session], stderr=subprocess.DEVNULL)
    open(stop_file, "w").close()
    rest, _ = proc.communicate(timeout=300)
print("target exit status %d" % proc.returncode)
print(rest.strip().splitlines()[-1])
