#!/usr/bin/env python3
"""Fewer pretraining steps for the same accuracy? Pretraining schedules against a preset.

Runs `decscope train` on one dataset for each schedule variant and seed, and prints one
table: the variant, its pretraining steps, the final reconstruction MSE, AE + k-means,
DEC (mean ACC over the seeds, each seed in brackets), the pretraining time and the time
to ACC 0.95 (seconds since the run started, where reached). Times from one table share
the machine state of one sitting; compare them within a table only.

Usage (from the repository root, after `cargo build --release`):

    python3 benches/schedules.py [--data PATH] [--seeds 0,1] [--only NAME,...]
                                 [--out DIR] [-- extra arguments for every run]

e.g. `python3 benches/schedules.py --seeds 0,1 -- --precision bf16`. The `fast half`
variants take half the steps of "fast constant", which runs in the same call or ran
earlier with the same --out (its report is then read, not run again). Standard library
only; the reports are kept under --out (default target/schedules).
"""

import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
DECSCOPE = os.environ.get("DECSCOPE", os.path.join(TARGET, "release", "decscope"))

COSINE = ["--lr-schedule", "cosine", "--lr-warmup", "0.02"]
# (name, arguments): the augmented preset's 16,000 steps at Adam's constant 1e-3,
# against cosine decay (peak 1e-3) after a 2% warm-up in 3/4 and 1/2 of the steps.
# The fast preset (its derived schedule at Adam's constant 1e-3) against cosine decay in
# half its steps, at its peak rate and at a 3x larger one, and against batches twice as large.
FAST = ["--preset", "fast"]
VARIANTS = [
    ("augmented 16k constant", ["--preset", "augmented"]),
    ("augmented 12k cosine", ["--preset", "augmented", "--finetune-iters", "12000"] + COSINE),
    ("augmented 8k cosine", ["--preset", "augmented", "--finetune-iters", "8000"] + COSINE),
    ("augmented 8k cosine floor 0.1", ["--preset", "augmented", "--finetune-iters", "8000"]
     + COSINE + ["--lr-floor", "0.1"]),
    ("fast constant", FAST),
    ("fast half cosine", FAST + ["--finetune-iters", "HALF"] + COSINE),
    ("fast half cosine peak 3e-3", FAST + ["--finetune-iters", "HALF", "--pretrain-lr", "0.003"]
     + COSINE),
    # The same epochs in half the steps: batches of 512 (pretraining and DEC) where the
    # preset takes 256.
    ("fast half batch 512", FAST + ["--finetune-iters", "HALF", "--batch-size", "512"]),
    # Cosine decay that ends at a tenth of the peak instead of 0, and a one-cycle shape
    # (a 30% linear warm-up to a 3x peak, then cosine decay), both in half the steps.
    ("fast half cosine floor 0.1", FAST + ["--finetune-iters", "HALF"] + COSINE
     + ["--lr-floor", "0.1"]),
    ("fast half one-cycle 3e-3", FAST + ["--finetune-iters", "HALF", "--pretrain-lr", "0.003",
                                         "--lr-schedule", "cosine", "--lr-warmup", "0.3"]),
]


def summary(report):
    r = json.load(open(report))
    pre = [h for h in r["history"] if h["phase"] != "dec"]
    t95 = next(
        (h["elapsed_s"] for h in r["history"] if h["phase"] == "dec" and (h["acc"] or 0) >= 0.95),
        None,
    )
    return {
        "steps": r["config"]["pretrain"]["finetune_iters"],
        "mse": pre[-1]["loss"] if pre else float("nan"),
        "ae": r["baselines"]["ae_kmeans"]["acc"],
        "dec": r["final"]["acc"],
        "pretrain_s": r["timing"]["finetune_s"] + r["timing"]["pretrain_s"],
        "t95": t95,
    }


def report_path(out, name, seed):
    return os.path.join(out, f"{name.replace(' ', '_').replace(',', '')}-{seed}.json")


def earlier_steps(out, name, seed):
    """The pretraining steps of a variant's report from an earlier call into --out."""
    path = report_path(out, name, seed)
    if not os.path.exists(path):
        sys.exit(f'"{name}" sets the half variants\' steps: run it first, or with them ({path} is missing)')
    return summary(path)["steps"]


def main():
    args = sys.argv[1:]
    extra = []
    if "--" in args:
        i = args.index("--")
        args, extra = args[:i], args[i + 1 :]
    data, seeds, only = "datasets/mnist-test", [0, 1], None
    out = os.path.join(TARGET, "schedules")
    while args:
        a = args.pop(0)
        if a == "--data":
            data = args.pop(0)
        elif a == "--seeds":
            seeds = [int(s) for s in args.pop(0).split(",")]
        elif a == "--only":
            only = set(args.pop(0).split(","))
        elif a == "--out":
            out = args.pop(0)
        else:
            sys.exit(f"unknown argument {a}; see the docstring")
    if not os.path.exists(DECSCOPE):
        sys.exit(f"{DECSCOPE} is missing: run `cargo build --release` first")
    os.makedirs(out, exist_ok=True)
    print("| variant | steps | rec. MSE | AE + k-means | DEC (seeds) | pretraining s | to ACC 0.95 s |")
    print("|---|---|---|---|---|---|---|")
    steps = {}
    for name, variant in VARIANTS:
        if only and name not in only:
            continue
        if "HALF" in variant:
            # Half the fast preset's own steps on this data.
            if "fast constant" not in steps:
                steps["fast constant"] = earlier_steps(out, "fast constant", seeds[0])
            half = str(steps["fast constant"] // 2)
            variant = [half if v == "HALF" else v for v in variant]
        rows = []
        for s in seeds:
            report = report_path(out, name, s)
            cmd = [DECSCOPE, "train", "--data", data, "--seed", str(s), "--quiet"]
            subprocess.run(cmd + variant + extra + ["--report", report], check=True,
                           stdout=subprocess.DEVNULL)
            rows.append(summary(report))
        steps[name] = rows[0]["steps"]

        def mean(k):
            return statistics.mean(r[k] for r in rows)

        decs = ", ".join("%.4f" % r["dec"] for r in rows)
        t95 = ", ".join("-" if r["t95"] is None else "%.0f" % r["t95"] for r in rows)
        print(
            "| %s | %d | %.5f | %.3f | %.4f (%s) | %.0f | %s |"
            % (name, rows[0]["steps"], mean("mse"), mean("ae"), mean("dec"), decs,
               mean("pretrain_s"), t95),
            flush=True,
        )


if __name__ == "__main__":
    main()
