#!/bin/sh
# Installs the build into a scratch prefix and checks what a user gets:
# binaries, plugin, docs, and a CMake package that find_package() accepts.
set -eu
build_dir=$1 source_dir=$2 clang_tidy=$3
prefix=$build_dir/install-test
rm -rf "$prefix" "$build_dir/install-consumer"
cmake --install "$build_dir" --prefix "$prefix" > /dev/null
for f in bin/coroscope-tidy lib/libcoroscope-tidy.so bin/coroscope \
         lib/libcoroscope-instrument.so include/coroscope/coroscope.hpp \
         lib/cmake/coroscope/coroscopeInstrument.cmake \
         share/doc/coroscope/checks/coro-blocking-call.md \
         lib/cmake/coroscope/coroscopeConfig.cmake; do
  test -e "$prefix/$f" || { echo "missing after install: $f"; exit 1; }
done
"$prefix/bin/coroscope-tidy" -checks='-*,coro-*' -list-checks | grep -q coro-blocking-call
"$clang_tidy" -load="$prefix/lib/libcoroscope-tidy.so" -checks='-*,coro-*' -list-checks | grep -q coro-blocking-call
clangxx=$(dirname "$clang_tidy")/clang++
cmake -S "$source_dir/test/install/consumer" -B "$build_dir/install-consumer" \
  -DCMAKE_CXX_COMPILER="$clangxx" -DCMAKE_PREFIX_PATH="$prefix" \
  | grep -E 'coroscope-tidy:|tidy plugin:|LLVM:'
# The installed plugin finds the installed runtime header by itself.
cmake --build "$build_dir/install-consumer" > /dev/null
COROSCOPE_SUMMARY=1 "$build_dir/install-consumer/app" > "$build_dir/install-consumer/out.txt" 2>&1
grep -q "ticked 3 times" "$build_dir/install-consumer/out.txt"
grep -q "tick" "$build_dir/install-consumer/out.txt" || { cat "$build_dir/install-consumer/out.txt"; exit 1; }
grep -q "app.cpp:10" "$build_dir/install-consumer/out.txt" || {
  echo "the summary does not show the instrumented await at app.cpp:10"
  cat "$build_dir/install-consumer/out.txt"; exit 1; }
echo "install test passed"
