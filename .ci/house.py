#!/usr/bin/env python3
"""The house rules of src/, checked: no import circles (.ci/layers.py), no source file
over 700 lines, no function over 80 lines, and every path that README.md,
ARCHITECTURE.md, CONTRIBUTING.md and docs/*.md name in backticks exists.

Run `python3 .ci/house.py` from the repository root; it prints each breach and exits
1 if there is one. `.ci/run` runs it before the build.
"""
import glob
import os
import re
import subprocess
import sys

MAX_FILE_LINES = 700
MAX_FN_LINES = 80


def rust_files(*roots):
    for root in roots:
        for dp, _, fs in os.walk(root):
            for f in sorted(fs):
                if f.endswith(".rs"):
                    yield os.path.join(dp, f)


def long_files():
    out = []
    for p in rust_files("src"):
        n = sum(1 for _ in open(p))
        if n > MAX_FILE_LINES:
            out.append(f"{p}: {n} lines (at most {MAX_FILE_LINES}; cut it along its meaning)")
    return out


def long_functions():
    """A `fn` item from its signature to the `}` at its own indentation."""
    out = []
    for p in rust_files("src", "python/src"):
        lines = open(p).read().split("\n")
        i = 0
        while i < len(lines):
            m = re.match(r"^(\s*)(pub(\([a-z]+\))? )?(const )?(async )?(unsafe )?fn (\w+)", lines[i])
            if not m or lines[i].rstrip().endswith(";"):
                i += 1
                continue
            indent, j = m.group(1), i
            while j < len(lines) and not lines[j].rstrip().endswith("{"):
                j += 1
            k = j + 1
            while k < len(lines) and lines[k].rstrip() != indent + "}":
                k += 1
            if k - i + 1 > MAX_FN_LINES:
                out.append(f"{p}:{i + 1}: fn {m.group(7)} is {k - i + 1} lines (at most {MAX_FN_LINES})")
            i = j + 1
    return out


def missing_paths():
    """Backticked repository paths (with a `/` or a known top-level file) that do not
    exist. Paths under ../shared, target/ or made by a command are not the tree's."""
    out = []
    docs = ["README.md", "ARCHITECTURE.md", "CONTRIBUTING.md"] + sorted(glob.glob("docs/*.md"))
    tops = ("src/", "tests/", "benches/", "examples/", "python/", "assets/", "datasets/", "fuzz/", ".ci/", "docs/")
    for d in docs:
        if not os.path.exists(d):
            out.append(f"{d}: missing")
            continue
        for m in re.finditer(r"`([^`\s]+)`", open(d).read()):
            path = m.group(1).rstrip(".,:;")
            if not path.startswith(tops) or any(c in path for c in "*<>{}$"):
                continue
            path = path.split(":")[0]
            if not os.path.exists(path):
                out.append(f"{d}: names `{path}`, which does not exist")
    return out


def main():
    bad = long_files() + long_functions() + missing_paths()
    for b in bad:
        print(b)
    layers = subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "layers.py")])
    print(f"house: {len(bad)} breach(es) of file length, function length and named paths")
    return 1 if bad or layers.returncode else 0


if __name__ == "__main__":
    sys.exit(main())
