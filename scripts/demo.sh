#!/usr/bin/env bash
# Installs what is missing, builds, and runs coroscope-tidy over examples/.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
version=${COROSCOPE_LLVM_VERSION:-19}
build=${COROSCOPE_BUILD_DIR:-$root/build-llvm$version}
"$root/scripts/build.sh"
echo
echo "== coroscope-tidy on examples/jobqueue (checks and options: examples/.clang-tidy)"
cd "$root"
# Both whole-program checks write what each file shows (blocking calls and
# calls, lock orders) for `coroscope link`.
facts=$build/demo/facts
rm -rf "$facts"
"$build/bin/coroscope-tidy" -p "$build" examples/jobqueue/server.cpp \
  examples/jobqueue/job_store.cpp \
  --config="{Checks: '-*,coro-*', HeaderFilterRegex: 'examples/',
    CheckOptions: {coro-blocking-call.FactsDirectory: '$facts',
                   coro-blocking-call.FactsRoot: '$root',
                   coro-lock-order-inversion.FactsDirectory: '$facts',
                   coro-lock-order-inversion.FactsRoot: '$root'}}"

echo
echo "== coroscope link: what only the two files together show (facts in $facts):"
echo "   a coroutine that blocks through calls into the other file, and lock orders"
"$build/bin/coroscope" link "$facts" || true

echo
echo "== the same server, instrumented by the compiler plugin (coroscope_instrument in"
echo "   examples/CMakeLists.txt, no source change), running 25 jobs"
out=$build/demo
mkdir -p "$out"
COROSCOPE_SUMMARY=1 COROSCOPE_REPORT="$out/jobqueue-report.json" \
  COROSCOPE_TRACE="$out/jobqueue-trace.json" COROSCOPE_LOCK_FACTS="$facts/run.lockfacts.json" \
  "$build/examples/jobqueue-instrumented" --self-test 25
echo
echo "== coroscope link again, with the lock orders the run observed"
echo "   (COROSCOPE_LOCK_FACTS): each cycle proven statically and seen at run time"
"$build/bin/coroscope" link "$facts" || true
echo
echo "== coroscope pstree: the same server, serving, read from outside while a client"
echo "   is connected (nothing in the server stops or changes)"
"$build/examples/jobqueue-instrumented" --serve > "$out/serve.txt" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q listening "$out/serve.txt" && break; sleep 0.1; done
port=$(sed -n 's/^listening on 127.0.0.1://p' "$out/serve.txt")
exec 3<>"/dev/tcp/127.0.0.1/$port"          # a client that sends nothing yet
sleep 0.2
"$build/bin/coroscope" pstree "$server" || true
exec 3>&-
kill "$server"
wait "$server" 2>/dev/null || true
trap - EXIT
"$build/bin/coroscope" report --html -o "$out/jobqueue-report.html" "$out/jobqueue-report.json"
echo
echo "== where the data went"
echo "   HTML report:      $out/jobqueue-report.html  (one file, no network: open it in a browser)"
echo "   JSON report:      $out/jobqueue-report.json  (coroscope report it for the summary)"
echo "   Perfetto trace:   $out/jobqueue-trace.json   (open in https://ui.perfetto.dev)"
