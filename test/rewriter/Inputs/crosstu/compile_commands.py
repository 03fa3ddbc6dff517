"""Writes compile_commands.json for first.cpp (-DEXTRA) and second.cpp, in
the order given. Usage: compile_commands.py SRC INCLUDE OUT NAME..."""
import json
import sys

src, include, out = sys.argv[1:4]
flags = {"first.cpp": ["-DEXTRA"], "second.cpp": []}
json.dump([{"directory": src, "file": f"{src}/{name}",
            "arguments": ["clang++", "-std=c++20", f"-I{include}"] +
            flags[name] + ["-c", name]} for name in sys.argv[4:]],
          open(out, "w"), indent=1)
