#!/usr/bin/env python3
"""Steering DEC with a user's picks, measured: the 4/9 bar of issue 21.

For a saved DEC model on the MNIST test set (`decscope train --seed S --save DIR`),
stands in for a user who picks the fours and nines DEC is least sure of (lowest
confidence, the largest q of a sample): N picks are N/2 fours and N/2 nines, with a
must-link between every two picks of one digit and a cannot-link between every four
and every nine. For each N it writes that constraints file, resumes DEC from the
model with it (`decscope train --init-from DIR --resume --constraints FILE`), and
prints one table: N, pairs, ACC, NMI, the recall of the 4s and of the 9s, and the
share of pairs the final clusters satisfy. N = 0 is the control: resuming with no
constraints.

Usage (from the repository root, after `cargo build --release`):

    python3 benches/steer.py --model DIR [--picks 0,10,20,50,100] [--seed S]
                             [--data datasets/mnist-test] [--out DIR] [--fix-49 | --ceiling]
                             [-- extra arguments for decscope train]

With --ceiling it prints, from the model's assignments alone, the highest ACC any fix
of the fours and nines can reach: every 4 in one cluster and every 9 in another (the
best such pair of clusters), every other sample where DEC left it. A resume that
changes only the fours and nines cannot end above it.

With --fix-49 it instead merges the two clusters holding the most fours and nines,
splits the result in two by k-means on z (`decscope edit`), resumes DEC, and prints
ACC and every class's recall after.

Standard library only. Files are kept under --out (default target/steer).
"""

import csv
import io
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
DECSCOPE = os.environ.get("DECSCOPE", os.path.join(TARGET, "release", "decscope"))


def least_sure(model, data, out):
    """Rows of the fours and of the nines, least confident first."""
    table = os.path.join(out, "assignments.csv")
    subprocess.run(
        [DECSCOPE, "predict", "--model", model, "--data", data, "--out", table],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    with open(table) as f:
        rows = list(csv.DictReader(f))
    by = {"4": [], "9": []}
    for r in rows:
        if r["label"] in by:
            by[r["label"]].append((float(r["confidence"]), int(r["index"])))
    return {d: [i for _, i in sorted(v)] for d, v in by.items()}


def mixed_pair(table):
    """The two clusters that hold the most fours and nines together."""
    with open(table) as f:
        rows = list(csv.DictReader(f))
    count = {}
    for r in rows:
        if r["label"] in ("4", "9"):
            count[r["cluster"]] = count.get(r["cluster"], 0) + 1
    top = sorted(count, key=lambda c: -count[c])[:2]
    return [int(c) for c in top]


def best_match(counts):
    """The most samples a one-to-one map of clusters to classes puts right (the
    Hungarian ACC's numerator), by dynamic programming over the subsets of classes:
    best[mask] is the most the first popcount(mask) clusters can put right using the
    classes in mask. Exact, and quick for the dozen or so classes of a table."""
    clusters = sorted(counts)
    classes = sorted({c for row in counts.values() for c in row})
    n = max(len(clusters), len(classes))
    best = {0: 0}
    for i in range(n):
        row = counts[clusters[i]] if i < len(clusters) else {}
        nxt = {}
        for mask, v in best.items():
            for j in range(n):
                if not mask >> j & 1:
                    gain = row.get(classes[j], 0) if j < len(classes) else 0
                    m = mask | 1 << j
                    if nxt.get(m, -1) < v + gain:
                        nxt[m] = v + gain
        best = nxt
    return max(best.values())


def ceiling(table):
    """ACC before, and the best ACC with every 4 in one cluster and every 9 in
    another, all else as DEC left it: (before, ceiling, cluster of the 4s, of the 9s)."""
    with open(table) as f:
        rows = [(r["label"], r["cluster"]) for r in csv.DictReader(f)]
    clusters = sorted({c for _, c in rows}, key=int)

    def acc(move):
        counts = {}
        for label, c in rows:
            c = move.get(label, c)
            counts.setdefault(c, {})
            counts[c][label] = counts[c].get(label, 0) + 1
        return best_match(counts) / len(rows)

    top = max((acc({"4": a, "9": b}), a, b) for a in clusters for b in clusters if a != b)
    return (acc({}),) + top


def recalls(report):
    r = json.load(open(report))
    fin = r["final"]
    rec = {c["name"]: c["recall"] for c in r["per_class"]}
    return fin, rec


def fix_49(model, data, seed, out, extra):
    """Merge the two clusters that mix the fours and nines, split the result in two
    (k-means on its members' z), resume DEC; ACC and per-class recall before/after."""
    pair = mixed_pair(os.path.join(out, "assignments.csv"))
    edited = os.path.join(out, "merged-split")
    subprocess.run(
        [DECSCOPE, "edit", "--model", model, "--data", data, "--merge", f"{pair[0]},{pair[1]}",
         "--split", f"{pair[0]}:2", "--save", edited],
        check=True, stdout=subprocess.DEVNULL,
    )
    report = os.path.join(out, "merged-split.json")
    subprocess.run(
        [DECSCOPE, "train", "--data", data, "--seed", seed, "--init-from", edited, "--resume",
         "--no-baseline", "--quiet", "--report", report] + extra,
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    return pair, report


def constraints(fours, nines):
    """must-link within each digit, cannot-link across, as decscope's CSV."""
    out = io.StringIO()
    out.write("i,j,link\n")
    for group in (fours, nines):
        for a in range(len(group)):
            for b in range(a + 1, len(group)):
                out.write(f"{group[a]},{group[b]},must\n")
    for a in fours:
        for b in nines:
            out.write(f"{a},{b},cannot\n")
    return out.getvalue()


def main():
    args = sys.argv[1:]
    extra = []
    if "--" in args:
        i = args.index("--")
        args, extra = args[:i], args[i + 1 :]
    model, picks, seed, fix = None, [0, 10, 20, 50, 100], "0", False
    data, out = os.path.join(ROOT, "datasets", "mnist-test"), os.path.join(TARGET, "steer")
    while args:
        a = args.pop(0)
        if a == "--model":
            model = args.pop(0)
        elif a == "--picks":
            picks = [int(p) for p in args.pop(0).split(",")]
        elif a == "--seed":
            seed = args.pop(0)
        elif a == "--data":
            data = args.pop(0)
        elif a == "--out":
            out = args.pop(0)
        elif a == "--fix-49":
            fix = True
        elif a == "--ceiling":
            fix = "ceiling"
        else:
            sys.exit(f"unknown argument {a}; see the docstring")
    if model is None:
        sys.exit("--model DIR is needed (a folder written by `decscope train --save`)")
    os.makedirs(out, exist_ok=True)
    sure = least_sure(model, data, out)
    if fix == "ceiling":
        before, top, a, b = ceiling(os.path.join(out, "assignments.csv"))
        print(f"ACC {before:.4f} as DEC left it; at most {top:.4f} with every 4 in cluster {a} "
              f"and every 9 in cluster {b}, all else unchanged")
        return
    if fix:
        pair, report = fix_49(model, data, seed, out, extra)
        fin, rec = recalls(report)
        line = ", ".join(f"{d} {rec[d]:.3f}" for d in sorted(rec))
        print(f"merge {pair[0]},{pair[1]} then split {pair[0]}:2, resumed: ACC {fin['acc']:.4f}, "
              f"NMI {fin['nmi']:.4f}, {fin['iterations']} DEC steps; recall {line}")
        return
    print("| picks | pairs | ACC | NMI | recall 4s | recall 9s | pairs satisfied | DEC steps |")
    print("|---|---|---|---|---|---|---|---|")
    for n in picks:
        report = os.path.join(out, f"resume-{n}.json")
        cmd = [DECSCOPE, "train", "--data", data, "--seed", seed, "--init-from", model,
               "--resume", "--no-baseline", "--quiet", "--report", report] + extra
        pairs = 0
        if n > 0:
            text = constraints(sure["4"][: n // 2], sure["9"][: n - n // 2])
            pairs = text.count("\n") - 1
            path = os.path.join(out, f"picks-{n}.csv")
            with open(path, "w") as f:
                f.write(text)
            cmd += ["--constraints", path]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(report) as f:
            r = json.load(f)
        fin = r["final"]
        recall = {c["name"]: c["recall"] for c in r["per_class"]}
        sat = fin.get("constraints_satisfied")
        print(
            f"| {n} | {pairs} | {fin['acc']:.4f} | {fin['nmi']:.4f} | {recall.get('4', 0):.3f} "
            f"| {recall.get('9', 0):.3f} | {'-' if sat is None else f'{sat:.3f}'} | {fin['iterations']} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
