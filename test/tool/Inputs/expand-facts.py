#!/usr/bin/env python3
"""expand-facts.py FILE: a coroscope-facts version-3 file's summaries, one
per line, with the string indices resolved and every item named, as JSON
objects (usr, name, at, hash, coroutine, blocks, acquires, calls): what
the tests read instead of the indices. It decodes the format on its own,
from docs/tools/link.md, so it also checks that the writer follows it."""
import json
import sys


def main(path):
    with open(path) as f:
        lines = f.read().splitlines()
    header = json.loads(lines[0])
    assert header["format"] == "coroscope-facts" and header["version"] == 3
    strings = []

    def place(items):
        return {"file": strings[items[0]], "line": items[1],
                "column": items[2]}

    def lock_at(entry):
        return {"lock": strings[entry[0]], "at": place(entry[1:4])}

    for line in lines[1:]:
        value = json.loads(line)
        if isinstance(value, str):
            strings.append(value)
            continue
        usr, name = value[0], value[1]
        fact = {"usr": strings[usr], "name": strings[name],
                "at": place(value[2:5]), "hash": value[5]}
        if value[6]:
            fact["coroutine"] = True
        blocks = value[7]
        if blocks:
            fact["blocks"] = {"subject": strings[blocks[0]],
                              "reason": strings[blocks[1]],
                              "at": place(blocks[2:5])}
            if len(blocks) == 7:
                fact["blocks"]["when"] = {"parameter": blocks[5],
                                          "value": bool(blocks[6])}
        if value[8]:
            fact["acquires"] = [lock_at(a) for a in value[8]]
        calls = []
        for c in value[9]:
            call = {"usr": strings[c[0]], "name": strings[c[1]],
                    "at": place(c[2:5])}
            if len(c) == 8:
                if c[5]:
                    call["awaited"] = True
                if c[6]:
                    call["arguments"] = [
                        {"index": a[0], "value": a[1]}
                        if isinstance(a[1], bool) else
                        {"index": a[0], "parameter": a[1]} for a in c[6]]
                if c[7]:
                    call["held"] = [lock_at(h) for h in c[7]]
            calls.append(call)
        if calls:
            fact["calls"] = calls
        print(json.dumps(fact, separators=(",", ":")))


main(sys.argv[1])
