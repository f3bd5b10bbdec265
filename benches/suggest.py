#!/usr/bin/env python3
"""How often `decscope edit --suggest` is right, measured on broken clusterings.

For each saved DEC model on the MNIST test set and each pair of classes (a, b) and
class c given, breaks the clustering on purpose: merges the clusters of a and b (two
classes in one cluster) and splits the cluster of c in two (one class in two clusters),
with `decscope edit`. Then asks for suggestions on the broken model and checks whether
the right split (the merged cluster) and the right merge (the two halves of c) are
among the first two, counts the other suggestions (noise), applies the first two, and
prints ACC unbroken / broken / after applying. Prints one markdown table.

Usage (from the repository root, after `cargo build --release`):

    python3 benches/suggest.py --models DIR[,DIR...] [--cases 0+1/6,3+7/2]
                               [--data datasets/mnist-test] [--out DIR]

Standard library only.
"""

import csv
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
DECSCOPE = os.environ.get("DECSCOPE", os.path.join(TARGET, "release", "decscope"))


def run(args):
    return subprocess.run([DECSCOPE] + args, check=True, capture_output=True, text=True).stdout


def cluster_of(model, data, out):
    """The cluster holding most of each class."""
    table = os.path.join(out, "assignments.csv")
    run(["predict", "--model", model, "--data", data, "--out", table])
    counts = defaultdict(Counter)
    with open(table) as f:
        for r in csv.DictReader(f):
            counts[r["label"]][int(r["cluster"])] += 1
    return {label: c.most_common(1)[0][0] for label, c in counts.items()}


def acc(text, which):
    m = re.search(which + r": ACC ([0-9.]+)", text)
    return float(m.group(1)) if m else float("nan")


def main():
    args = sys.argv[1:]
    models, cases = [], ["0+1/6", "3+7/2"]
    data, out = os.path.join(ROOT, "datasets", "mnist-test"), os.path.join(TARGET, "suggest")
    while args:
        a = args.pop(0)
        if a == "--models":
            models = args.pop(0).split(",")
        elif a == "--cases":
            cases = args.pop(0).split(",")
        elif a == "--data":
            data = args.pop(0)
        elif a == "--out":
            out = args.pop(0)
        else:
            sys.exit(f"unknown argument {a}; see the docstring")
    os.makedirs(out, exist_ok=True)
    print("| model | broken: merged, split | suggestions | right split | right merge | noise | ACC unbroken / broken / after the first two |")
    print("|---|---|---|---|---|---|---|")
    for model in models:
        where = cluster_of(model, data, out)
        for case in cases:
            pair, c = case.split("/")
            a, b = pair.split("+")
            ca, cb, cc = where[a], where[b], where[c]
            broken = os.path.join(out, "broken")
            text = run(["edit", "--model", model, "--data", data, "--merge", f"{ca},{cb}",
                        "--split", f"{cc}:2", "--save", broken])
            before, after_break = acc(text, "before"), acc(text, "after")
            # In the broken model: the merged cluster keeps ca's place and cb's is gone
            # (later ones move down one); the halves of c are c's place and the new last.
            down = lambda j: j - (1 if j > cb else 0)
            merged, half, other = down(ca), down(cc), 9
            text = run(["edit", "--model", broken, "--data", data, "--suggest",
                        "--apply-suggested", "2"])
            lines = [l for l in text.splitlines() if re.match(r"\s+\d+\. ", l)]
            top = lines[:2]
            right_split = any(f"cluster {merged} looks like two" in l for l in top)
            right_merge = any(f"clusters {min(half, other)} and {max(half, other)} look like one" in l
                              for l in top)
            noise = len(lines) - int(right_split) - int(right_merge)
            fixed = acc(text, "after")
            print(f"| {os.path.basename(model)} | {a}+{b} ({ca},{cb}), {c} ({cc}) | {len(lines)} "
                  f"| {'yes' if right_split else 'no'} | {'yes' if right_merge else 'no'} | {noise} "
                  f"| {before:.4f} / {after_break:.4f} / {fixed:.4f} |", flush=True)


if __name__ == "__main__":
    main()
