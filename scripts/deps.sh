#!/usr/bin/env bash
# Installs what coroscope needs on Debian 12, for one LLVM major version.
# Idempotent: it asks apt only for packages that are missing.
set -euo pipefail
version=${1:-${COROSCOPE_LLVM_VERSION:-19}}
packages=(
  cmake ninja-build g++ python3 git
  "clang-$version" "clang-tidy-$version" "clang-tools-$version"
  "libclang-$version-dev" "llvm-$version-dev" "llvm-$version-tools"
  "libclang-rt-$version-dev"
  libasio-dev libboost-dev libgtest-dev libbenchmark-dev nlohmann-json3-dev
  python3-jsonschema
  meson autoconf automake
  libc-ares-dev libssl-dev iproute2
  gdb tmux util-linux
)
missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$package")
  fi
done
if ((${#missing[@]})); then
  echo "coroscope: installing ${missing[*]}"
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
fi
