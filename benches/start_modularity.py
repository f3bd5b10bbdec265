#!/usr/bin/env python3
"""The start check's evidence, read independently: the modularity of DEC's outcomes on
the pretrained Z's 10-nearest-neighbour graph, beside their ACC by the labels
(`engine::pipeline::starts`, docs/steering.md, "The start check").

For each run folder: the pretrained Z (`z0.npy`) and the assignments of DEC from each
start (`pred_km.csv`, `pred_sp.csv`, written by `train --out`). The graph is the
symmetric one the engine builds (A_ij = 1 when i is among j's 10 nearest neighbours in
Z or j among i's; scikit-learn's exact neighbours); the modularity is Newman's,
Q = sum_c [L_c / L - (d_c / 2L)^2] (as networkx's `community.modularity` computes it).
It prints both outcomes' ACC and Q, the one the check keeps (the higher Q), and
whether that one is within 0.005 of the better ACC.

Usage (the pretrained Z: one DEC step from a saved autoencoder):

    decscope train --data D --seed S [--preset P] --start spectral --no-self-correct \\
        --save-pretrained DIR/ae --out DIR/pred_sp.csv
    decscope train --data D --seed S [--preset P] --init-from DIR/ae --start kmeans \\
        --no-self-correct --out DIR/pred_km.csv
    decscope train --data D --seed S [--preset P] --init-from DIR/ae --start kmeans \\
        --no-self-correct --max-iter 1 --embedding DIR/z0.npy
    python3 benches/start_modularity.py DIR [DIR ...]

Needs numpy, scipy and scikit-learn; labels only score.
"""

import csv
import os
import sys

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import csr_matrix
from sklearn.neighbors import NearestNeighbors

K = 10


def acc(y, pred):
    k = max(y.max(), pred.max()) + 1
    c = np.zeros((k, k))
    np.add.at(c, (pred, y), 1)
    r, col = linear_sum_assignment(-c)
    return c[r, col].sum() / len(y)


def graph(z):
    n = len(z)
    ind = NearestNeighbors(n_neighbors=K + 1).fit(z).kneighbors(z, return_distance=False)[:, 1:]
    a = csr_matrix((np.ones(n * K), (np.repeat(np.arange(n), K), ind.ravel())), shape=(n, n))
    return ((a + a.T) > 0).astype(float).tocsr()


def modularity(a, labels):
    k = labels.max() + 1
    deg = np.asarray(a.sum(1)).ravel()
    two_l = deg.sum()
    coo = a.tocoo()
    inside = np.zeros(k)
    np.add.at(inside, labels[coo.row], (labels[coo.row] == labels[coo.col]).astype(float))
    vol = np.zeros(k)
    np.add.at(vol, labels, deg)
    return float(np.sum(inside / two_l - (vol / two_l) ** 2))


def read(path):
    rows = list(csv.DictReader(open(path)))
    pred = np.array([int(r["cluster"]) for r in rows])
    y = np.array([int(float(r["label"])) for r in rows])
    return pred, y


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for d in sys.argv[1:]:
        a = graph(np.load(os.path.join(d, "z0.npy")))
        res = {}
        for name in ("sp", "km"):
            pred, y = read(os.path.join(d, f"pred_{name}.csv"))
            res[name] = (acc(y, pred), modularity(a, pred))
        kept = "km" if res["km"][1] > res["sp"][1] else "sp"
        best = max(res["sp"][0], res["km"][0])
        verdict = "right" if res[kept][0] >= best - 0.005 else "wrong"
        print(
            f"{os.path.basename(os.path.normpath(d))}: spectral ACC {res['sp'][0]:.4f} Q {res['sp'][1]:.4f}"
            f" | k-means ACC {res['km'][0]:.4f} Q {res['km'][1]:.4f} | kept {kept} ({verdict})"
        )


if __name__ == "__main__":
    main()
