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
facts=$build/demo/lockfacts
rm -rf "$facts"
"$build/bin/coroscope-tidy" -p "$build" examples/jobqueue/server.cpp \
  examples/jobqueue/job_store.cpp \
  --config="{Checks: '-*,coro-*', HeaderFilterRegex: 'examples/',
    CheckOptions: {coro-lock-order-inversion.FactsDirectory: '$facts',
                   coro-lock-order-inversion.FactsRoot: '$root'}}"

echo
echo "== coroscope lockgraph: lock orders across the two files (facts in $facts)"
"$build/bin/coroscope" lockgraph "$facts" || true

echo
echo "== the same server, instrumented by the compiler plugin (coroscope_instrument in"
echo "   examples/CMakeLists.txt, no source change), running 25 jobs"
out=$build/demo
mkdir -p "$out"
COROSCOPE_SUMMARY=1 COROSCOPE_REPORT="$out/jobqueue-report.json" \
  COROSCOPE_TRACE="$out/jobqueue-trace.json" \
  "$build/examples/jobqueue-instrumented" --self-test 25
echo
echo "== where the data went"
echo "   JSON report:      $out/jobqueue-report.json  (coroscope report --html -o report.html it)"
echo "   Perfetto trace:   $out/jobqueue-trace.json   (open in https://ui.perfetto.dev)"
