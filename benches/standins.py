#!/usr/bin/env python3
"""DEC on data it was not tuned to: the MNIST-made stand-ins of other digit sets.

Builds the stand-ins (examples/make_standins.rs: 1,000- and 2,000-digit subsets, a
16x16 float .npz, an 8x8 integer CSV with the label last and no header, and the
paper's imbalanced MNIST with r_min = 0.1), runs `decscope train` on each with the
defaults a new user gets, for each seed, and prints one table: n, d, the preprocessing
`auto` chose, k-means on the input, AE + k-means, DEC (mean ACC over the seeds, each
seed in brackets), the warnings of the runs, and the time per run.

Usage (from the repository root, after `cargo build --release --examples`):

    python3 benches/standins.py [--seeds 0,1,2] [--only NAME,...] [--out DIR]
                                [-- extra arguments for decscope train]

Standard library only. The reports are kept under --out (default target/standins).
"""

import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
DECSCOPE = os.environ.get("DECSCOPE", os.path.join(TARGET, "release", "decscope"))
MAKER = os.path.join(TARGET, "release", "examples", "make_standins")

STANDINS = [
    ("mnist-1000", "mnist-1000.csv"),
    ("mnist-2000", "mnist-2000.npz"),
    ("digits8x8", "digits8x8.csv"),
    ("digits16", "digits16.npz"),
    ("imbalanced-0.1", "mnist-imbalanced.npz"),
]


def main():
    args = sys.argv[1:]
    extra = []
    if "--" in args:
        i = args.index("--")
        args, extra = args[:i], args[i + 1 :]
    seeds, only, out = [0, 1, 2], None, os.path.join(TARGET, "standins")
    while args:
        a = args.pop(0)
        if a == "--seeds":
            seeds = [int(s) for s in args.pop(0).split(",")]
        elif a == "--only":
            only = set(args.pop(0).split(","))
        elif a == "--out":
            out = args.pop(0)
        else:
            sys.exit(f"unknown argument {a}; see the docstring")
    for exe in (DECSCOPE, MAKER):
        if not os.path.exists(exe):
            sys.exit(f"{exe} is missing: run `cargo build --release --examples` first")
    data = os.path.join(out, "data")
    subprocess.run([MAKER, "--out", data], check=True, stdout=subprocess.DEVNULL)
    rows = []
    for name, file in STANDINS:
        if only and name not in only:
            continue
        runs = []
        for seed in seeds:
            report = os.path.join(out, f"{name}-seed{seed}.json")
            cmd = [DECSCOPE, "train", "--data", os.path.join(data, file), "--seed", str(seed),
                   "--report", report, "--quiet"] + extra
            t0 = time.time()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wall = time.time() - t0
            with open(report) as f:
                r = json.load(f)
            runs.append((r, wall))
            print(f"  {name} seed {seed}: DEC {r['final']['acc']:.4f} "
                  f"(AE+k-means {r['baselines']['ae_kmeans']['acc']:.4f}, "
                  f"k-means {r['baselines']['kmeans_input']['acc']:.4f}) in {wall:.0f}s",
                  file=sys.stderr, flush=True)
        rows.append((name, runs))
    print_table(rows, extra)


def cell(vals):
    mean = sum(vals) / len(vals)
    return f"{mean:.3f} ({' '.join(f'{v:.3f}' for v in vals)})"


def print_table(rows, extra):
    print()
    if extra:
        print("extra arguments: " + " ".join(extra))
    print("| data | n | d | preprocessing (auto) | k-means on input | AE + k-means | DEC | DEC - AE+km | warnings | time/run |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, runs in rows:
        r0 = runs[0][0]
        ds = r0["dataset"]
        km = [r["baselines"]["kmeans_input"]["acc"] for r, _ in runs]
        ae = [r["baselines"]["ae_kmeans"]["acc"] for r, _ in runs]
        dec = [r["final"]["acc"] for r, _ in runs]
        warns = []
        for r, _ in runs:
            for w in r.get("warnings", []):
                warns.append(w["kind"])
        wtext = ", ".join(f"{k} x{warns.count(k)}" for k in sorted(set(warns))) or "none"
        gap = sum(dec) / len(dec) - sum(ae) / len(ae)
        t = sum(w for _, w in runs) / len(runs)
        print(f"| {name} | {ds['n']} | {ds['d']} | {ds['preprocessing']} | {cell(km)} | "
              f"{cell(ae)} | {cell(dec)} | {gap:+.3f} | {wtext} | {t:.0f} s |")


if __name__ == "__main__":
    main()
