#!/usr/bin/env bash
# coroscope-facts.sh BUILD CACHE: the whole-program facts of every translation
# unit in BUILD/compile_commands.json, for `coroscope link BUILD/coroscope-facts`.
# CACHE/<key>/ keeps each TU's facts, where <key> hashes what they depend on:
# the TU preprocessed, its compile command, the coroscope-tidy binary, the
# checks and the top-level .clang-tidy. Only the TUs whose key is not in CACHE
# yet are analysed; entries no TU has any more are removed. Run it from the
# source root (the facts' paths are relative to it), after generating any
# generated headers. The TUs' own findings are not shown: the recipes of
# docs/ci.md report them. Needs jq.
set -euo pipefail
build=$(cd "$1" && pwd)
cache=$(mkdir -p "$2" && cd "$2" && pwd)
checks='-*,coro-blocking-call,coro-lock-order-inversion'
salt=$( { sha256sum < "$(command -v coroscope-tidy)"; echo "$checks"; cat .clang-tidy 2> /dev/null || true; } | sha256sum)

declare -A keys=()
todo=()
while IFS=$'\t' read -r dir file command; do
  args=() && eval "args=($command)"
  preprocess=()
  for ((i = 0; i < ${#args[@]}; i++)); do
    case ${args[i]} in
      -o) i=$((i + 1)) ;;   # the object file: preprocessed output to stdout
      -c) ;;
      *) preprocess+=("${args[i]}") ;;
    esac
  done
  key=$( { echo "$salt $command"; cd "$dir" && "${preprocess[@]}" -E; } | sha256sum | cut -c1-32)
  if [[ ! -v keys[$key] && ! -d $cache/$key ]]; then
    todo+=("$key" "$file")
  fi
  keys[$key]=1
done < <(jq -r '.[] | [.directory, .file, .command // (.arguments | map(@sh) | join(" "))] | @tsv' \
           "$build/compile_commands.json")

analyse() { # KEY FILE: the TU's facts in CACHE/KEY, all or nothing
  local facts=$cache/$1.tmp
  rm -rf "$facts" && mkdir -p "$facts"
  coroscope-tidy -p "$build" --quiet --checks="$checks" --warnings-as-errors='-*' \
    --config="{InheritParentConfig: true, CheckOptions: {
      coro-blocking-call.FactsDirectory: '$facts', coro-blocking-call.FactsRoot: '$PWD',
      coro-lock-order-inversion.FactsDirectory: '$facts', coro-lock-order-inversion.FactsRoot: '$PWD'}}" \
    "$2" > "$facts.log" 2>&1 || { cat "$facts.log"; return 1; }
  rm "$facts.log" && mv "$facts" "$cache/$1"
}
export -f analyse
export build cache checks
if ((${#todo[@]})); then
  printf '%s\0' "${todo[@]}" | xargs -0 -n 2 -P "$(nproc)" bash -c 'analyse "$@"' analyse
fi
shopt -s nullglob
for entry in "$cache"/*; do
  [[ -v keys[${entry##*/}] ]] || rm -rf "$entry"
done
rm -rf "$build/coroscope-facts" && mkdir "$build/coroscope-facts"
for facts in "$cache"/*/*; do # a TU without functions has none
  cp "$facts" "$build/coroscope-facts/"
done
analysed=$((${#todo[@]} / 2))
echo "coroscope-facts: ${#keys[@]} translation units: $analysed analysed, $((${#keys[@]} - analysed)) from the cache"
