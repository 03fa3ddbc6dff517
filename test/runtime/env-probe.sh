#!/bin/sh
# Runs the -fno-exceptions probe under the environment variables a user sets
# and checks what reaches stderr and the file system.
# Usage: env-probe.sh <probe> <scratch-dir>
set -u
probe=$1
dir=$2
rm -rf "$dir" && mkdir -p "$dir"
fail() { echo "FAIL: $*"; exit 1; }

# Off: one branch per hook, nothing recorded, no report written.
COROSCOPE=off COROSCOPE_REPORT="$dir/off.json" "$probe" > "$dir/off.out" 2>&1 &&
  fail "COROSCOPE=off should leave add_one untracked"
grep -q "add_one: not tracked" "$dir/off.out" || fail "off: $(cat "$dir/off.out")"
[ ! -e "$dir/off.json" ] || fail "COROSCOPE=off wrote a report"

# A bad value: one warning line, the default, and the program goes on.
COROSCOPE_SLOW_MS=abc COROSCOPE_REPORT="$dir/bad.json" "$probe" > "$dir/bad.out" 2> "$dir/bad.err" ||
  fail "bad value broke the program: $(cat "$dir/bad.err")"
[ "$(wc -l < "$dir/bad.err")" -eq 1 ] || fail "expected one line: $(cat "$dir/bad.err")"
grep -qx "coroscope: warning: COROSCOPE_SLOW_MS='abc' is not a positive number of milliseconds; using 100" "$dir/bad.err" ||
  fail "warning text: $(cat "$dir/bad.err")"
grep -q '"slow_ms":100' "$dir/bad.json" || fail "report lacks the default slow_ms"
grep -q '"schema":"coroscope-report"' "$dir/bad.json" || fail "no report at exit"

# An unwritable report path: one error line, exit status unchanged.
COROSCOPE_REPORT="$dir/no/such/dir/r.json" "$probe" > /dev/null 2> "$dir/unwritable.err" ||
  fail "unwritable path changed the exit status"
[ "$(wc -l < "$dir/unwritable.err")" -eq 1 ] || fail "expected one line: $(cat "$dir/unwritable.err")"
grep -qx "coroscope: error: cannot write the report '$dir/no/such/dir/r.json': No such file or directory" "$dir/unwritable.err" ||
  fail "error text: $(cat "$dir/unwritable.err")"

# The summary at exit.
COROSCOPE_SUMMARY=1 "$probe" > /dev/null 2> "$dir/summary.err" || fail "summary run failed"
grep -q "^coroscope: 1 coroutines in .*: 1 finished, 0 failed, 0 cancelled, 0 live" "$dir/summary.err" ||
  fail "summary: $(cat "$dir/summary.err")"
echo "env probe: all checks passed"
