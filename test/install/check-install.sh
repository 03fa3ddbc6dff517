#!/bin/sh
# Installs the build into a scratch prefix and checks what a user gets:
# binaries, plugin, docs, and a CMake package that find_package() accepts.
set -eu
build_dir=$1 source_dir=$2 clang_tidy=$3
prefix=$build_dir/install-test
rm -rf "$prefix" "$build_dir/install-consumer"
cmake --install "$build_dir" --prefix "$prefix" > /dev/null
for f in bin/coroscope-tidy lib/libcoroscope-tidy.so \
         share/doc/coroscope/checks/coro-blocking-call.md \
         lib/cmake/coroscope/coroscopeConfig.cmake; do
  test -e "$prefix/$f" || { echo "missing after install: $f"; exit 1; }
done
"$prefix/bin/coroscope-tidy" -checks='-*,coro-*' -list-checks | grep -q coro-blocking-call
"$clang_tidy" -load="$prefix/lib/libcoroscope-tidy.so" -checks='-*,coro-*' -list-checks | grep -q coro-blocking-call
cmake -S "$source_dir/test/install/consumer" -B "$build_dir/install-consumer" \
  -DCMAKE_PREFIX_PATH="$prefix" | grep -E 'coroscope-tidy:|tidy plugin:|LLVM:'
echo "install test passed"
