#!/usr/bin/env python3
"""Does a saved model predict a subset of the rows exactly as it predicts all of them?

For each data set it trains a model (`decscope train --save`), predicts all rows
(`predict --proba q.npy`), then predicts three subsets written as files of their own:
one row, ten rows, and a shuffled half. It counts the rows whose cluster or soft
assignment q differs, bit for bit, from the same row among all rows. With `--old BIN`
it also runs an earlier decscope binary's `predict` on the same model and files,
counting the rows whose cluster or confidence differs (earlier binaries write no q).

Data sets (each skipped when its source is missing):
- wine: scikit-learn's copy of the UCI wine table (178 x 13), label last, no header
  (`standardize`);
- mnist: the bundled MNIST test set (`unit-range`), from the bundled autoencoder
  (`--init-from assets/pretrained-mnist-test`), subsets as uint8 .npy files;
- hog: the same images with `--features hog` (pretrained from scratch);
- reuters: ../shared's Reuters-21578 R8 articles (tf-idf; research-only licence, read
  from ../shared and never copied into the repository).

Usage (from the repository root, after `cargo build --release`; needs numpy, and
scikit-learn for wine):

    python3 benches/subsets.py [--only wine,mnist,hog,reuters] [--old BIN] [--out DIR]
                               [--reuse]

`--reuse` predicts with a model an earlier run left under --out instead of training.
"""

import csv
import gzip
import io
import os
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
DECSCOPE = os.environ.get("DECSCOPE", os.path.join(TARGET, "release", "decscope"))
REUTERS = os.path.join(ROOT, "..", "shared", "datasets", "reuters21578", "reuters21578-r8.csv.gz")
MNIST = os.path.join(ROOT, "datasets", "mnist-test")


def subsets(n):
    half = np.random.default_rng(1).permutation(n)[: n // 2]
    return [("one row", np.array([7])), ("ten rows", np.arange(20, 30)), ("shuffled half", half)]


class Failed(Exception):
    pass


def run(args):
    t = time.time()
    out = subprocess.run(args, capture_output=True, text=True)
    if out.returncode != 0:
        raise Failed(out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}")
    return out.stdout + out.stderr, time.time() - t


def read_idx_images(path):
    with gzip.open(path) if path.endswith(".gz") else open(path, "rb") as f:
        raw = f.read()
    n, h, w = (int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(3))
    return np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(n, h, w)


def wine(out):
    try:
        from sklearn.datasets import load_wine
    except ImportError:
        return None
    X, y = load_wine(return_X_y=True)
    rows = [",".join(f"{v:.6g}" for v in x) + f",{c}" for x, c in zip(X, y)]

    def write(idx, path):
        with open(path, "w") as f:
            f.write("".join(rows[i] + "\n" for i in idx))

    return dict(n=len(rows), ext="csv", write=write, load=["--label-col", "last"],
                train=["--clusters", "3"])


def images(out, hog):
    names = [f for f in os.listdir(MNIST) if "images" in f] if os.path.isdir(MNIST) else []
    if not names:
        return None
    imgs = read_idx_images(os.path.join(MNIST, names[0]))

    def write(idx, path):
        np.save(path, imgs[idx])

    if hog:
        return dict(n=len(imgs), ext="npy", write=write, load=["--features", "hog"],
                    train=["--clusters", "10"])
    return dict(n=len(imgs), ext="npy", write=write, load=[],
                train=["--clusters", "10", "--init-from",
                       os.path.join(ROOT, "assets", "pretrained-mnist-test")])


def reuters(out):
    if not os.path.exists(REUTERS):
        return None
    with gzip.open(REUTERS, "rt", newline="") as f:
        table = list(csv.reader(f))
    header, body = table[0], table[1:]

    def write(idx, path):
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(header)
        w.writerows(body[i] for i in idx)
        with open(path, "w", newline="") as f:
            f.write(buf.getvalue())

    return dict(n=len(body), ext="csv", write=write, load=[], train=[])


def predict(exe, model, path, load, q=None):
    table = path + ".pred.csv"
    args = [exe, "predict", "--model", model, "--data", path, "--out", table] + load
    if q is not None:
        args += ["--proba", q]
    run(args)
    with open(table) as f:
        rows = [line.rstrip("\n").split(",") for line in f][1:]
    clusters = [r[1] for r in rows]
    conf = [r[2] for r in rows]
    return clusters, conf, (np.load(q) if q is not None else None)


def measure(name, spec, out, old, reuse):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    everything = os.path.join(d, "all." + spec["ext"])
    spec["write"](np.arange(spec["n"]), everything)
    model = os.path.join(d, "model")
    if reuse and os.path.exists(os.path.join(model, "model.json")):
        log, secs = run([DECSCOPE, "inspect", "--model", model])
        pre, acc = log.splitlines()[1].strip(), "model reused"
    else:
        log, secs = run([DECSCOPE, "train", "--quiet", "--data", everything, "--seed", "0",
                         "--save", model] + spec["load"] + spec["train"])
        pre = next((l.split(":")[0].strip() for l in log.splitlines() if "preprocessing" in l), "?")
        acc = next((l.strip() for l in log.splitlines() if l.split()[:1] == ["DEC"] and len(l.split()) == 4), "")
    c_all, f_all, q_all = predict(DECSCOPE, model, everything, spec["load"], os.path.join(d, "q-all.npy"))
    if old:
        o_all = predict(old, model, everything, spec["load"])
    print(f"\n{name}: n = {spec['n']}, {pre}, trained in {secs:.0f} s; {acc}")
    for label, idx in subsets(spec["n"]):
        part = os.path.join(d, f"part-{len(idx)}.{spec['ext']}")
        spec["write"](idx, part)
        c, f, q = predict(DECSCOPE, model, part, spec["load"], os.path.join(d, f"q-{len(idx)}.npy"))
        wrong = sum(c[r] != c_all[i] for r, i in enumerate(idx))
        q_wrong = int(np.sum(np.any(q.view(np.uint32) != q_all[idx].view(np.uint32), axis=1)))
        line = f"  {label:>13} ({len(idx):>5} rows): cluster differs {wrong}, q differs (bits) {q_wrong}"
        if old:
            try:
                oc, of, _ = predict(old, model, part, spec["load"])
                o_wrong = sum(oc[r] != o_all[0][i] or of[r] != o_all[1][i] for r, i in enumerate(idx))
                o_moved = sum(oc[r] != o_all[0][i] for r, i in enumerate(idx))
                line += f"; old binary: cluster or confidence differs {o_wrong}, cluster {o_moved}"
            except Failed as e:
                line += f"; old binary: fails ({e})"
        print(line, flush=True)


def main():
    args = sys.argv[1:]
    only, old, out, reuse = None, None, os.path.join(TARGET, "subsets"), False
    while args:
        a = args.pop(0)
        if a == "--only":
            only = set(args.pop(0).split(","))
        elif a == "--old":
            old = args.pop(0)
        elif a == "--out":
            out = args.pop(0)
        elif a == "--reuse":
            reuse = True
        else:
            sys.exit(f"unknown argument {a}; see the docstring")
    makers = {"wine": wine, "mnist": lambda o: images(o, False),
              "hog": lambda o: images(o, True), "reuters": reuters}
    for name, make in makers.items():
        if only and name not in only:
            continue
        spec = make(out)
        if spec is None:
            print(f"\n{name}: skipped (source missing)")
            continue
        try:
            measure(name, spec, out, old, reuse)
        except Failed as e:
            print(f"\n{name}: failed: {e}")


if __name__ == "__main__":
    main()
