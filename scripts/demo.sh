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
"$build/bin/coroscope-tidy" -p "$build" examples/jobqueue/server.cpp \
  examples/jobqueue/job_store.cpp
