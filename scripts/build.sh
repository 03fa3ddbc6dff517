#!/usr/bin/env bash
# Configures and builds coroscope against Debian's LLVM $COROSCOPE_LLVM_VERSION
# (default 19) in build-llvm<N>/. COROSCOPE_FUZZ_SECONDS (default 60) is how
# long ctest runs each fuzz target; COROSCOPE_RUNTIME_UNIT_TESTS=OFF leaves
# out the runtime's unit tests (scripts/test.sh).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
version=${COROSCOPE_LLVM_VERSION:-19}
build=${COROSCOPE_BUILD_DIR:-$root/build-llvm$version}
"$root/scripts/deps.sh" "$version"
mkdir -p "$build"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCOROSCOPE_LLVM_VERSION="$version" \
  -DCOROSCOPE_FUZZ_SECONDS="${COROSCOPE_FUZZ_SECONDS:-60}" \
  -DCOROSCOPE_RUNTIME_UNIT_TESTS="${COROSCOPE_RUNTIME_UNIT_TESTS:-ON}" > "$build/configure.log" 2>&1 ||
  { cat "$build/configure.log"; exit 1; }
cmake --build "$build" -j2
