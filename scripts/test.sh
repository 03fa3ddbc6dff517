#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test through ctest:
#   1. the whole project with LLVM's clang (checks, tools, runtime, e2e);
#   2. the runtime alone with g++, with its unit tests.
# LLVM 19 by default; COROSCOPE_LLVM_VERSION=22 selects LLVM 22.
# COROSCOPE_RUNTIME_UNIT_TESTS=OFF leaves out what does not depend on LLVM
# (the runtime's unit tests, in both builds), for a second LLVM's pass.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
version=${COROSCOPE_LLVM_VERSION:-19}
build=${COROSCOPE_BUILD_DIR:-$root/build-llvm$version}
"$root/scripts/build.sh"
ctest --test-dir "$build" -j2 --output-on-failure

[ "${COROSCOPE_RUNTIME_UNIT_TESTS:-ON}" = OFF ] && exit 0
runtime_build=$build/runtime-gxx
CXX=g++ cmake -S "$root/runtime" -B "$runtime_build" -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build "$runtime_build" -j2
ctest --test-dir "$runtime_build" -j2 --output-on-failure
