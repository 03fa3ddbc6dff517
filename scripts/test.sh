#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test through ctest.
# LLVM 19 by default; COROSCOPE_LLVM_VERSION=22 selects LLVM 22.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
version=${COROSCOPE_LLVM_VERSION:-19}
build=${COROSCOPE_BUILD_DIR:-$root/build-llvm$version}
"$root/scripts/build.sh"
ctest --test-dir "$build" -j2 --output-on-failure
