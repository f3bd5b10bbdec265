#!/usr/bin/env python3
"""USPS handwritten digits as one `.npz` that decscope reads (x: 9,298 x 16 x 16 in
[0, 1], y: the digit), from the widely copied `usps.h5` (groups train/ and test/, each
with `data`, 256 floats a row, and `target`).

Why: USPS is the public 16x16 digit set on which deep-clustering papers report
(DEC-DA 0.987, N2D 0.948), and where DEC-DA from a k-means start splits the 0s and
merges the 7s and 9s; docs/steering.md measures decscope on it. The data is not ours to
ship, so this script converts a copy the user already has.

Usage:

    python3 benches/usps_npz.py usps.h5 usps.npz
    decscope train --data usps.npz --preset augmented --seed 0 --self-correct

Needs numpy and h5py.
"""

import sys

import h5py
import numpy as np


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: usps_npz.py USPS.h5 OUT.npz")
    src, out = sys.argv[1], sys.argv[2]
    with h5py.File(src, "r") as f:
        missing = [
            f"{g}/{k}" for g in ("train", "test") for k in ("data", "target") if f"{g}/{k}" not in f
        ]
        if missing:
            sys.exit(f"{src}: no {', '.join(missing)}: expected USPS's train/ and test/ groups")
        x = np.concatenate([f["train/data"][:], f["test/data"][:]]).astype(np.float32)
        y = np.concatenate([f["train/target"][:], f["test/target"][:]]).astype(np.int64)
    if x.shape[1] != 256:
        sys.exit(f"{src}: rows of {x.shape[1]} values, expected 256 (16x16)")
    np.savez(out, x=x.reshape(-1, 16, 16), y=y)
    print(f"{out}: {len(y)} images of 16x16, classes {np.bincount(y).tolist()}")


if __name__ == "__main__":
    main()
