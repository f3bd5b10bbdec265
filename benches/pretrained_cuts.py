#!/usr/bin/env python3
"""How cleanly each of DEC's clusters falls apart in the pretrained Z, beside what its
members are by the labels: the evidence behind self-correction's corroboration
(`engine::pipeline::correct::acted_on`, docs/steering.md, "Corroboration in the
pretrained Z").

For each cluster of a labelled run's assignments: its size over the median cluster's,
the share of its members' 10-nearest-neighbour links in the pretrained Z that cross
the spectral split of their neighbour graph (the Fiedler vector of the normalised
Laplacian, cut by 2-means: scikit-learn and SciPy, an independent reading of
`spectral::split_cut`), that share over the median cluster's, and its two largest
classes. The four largest clusters are printed, with the failures by the labels (a
cluster of two classes above 30% each; a class over two clusters above 30% each).

Usage (the pretrained Z: one DEC step from a saved autoencoder, which moves Z by one
step's learning rate):

    decscope train --data D --seed S --save-pretrained AE --out pred.csv
    decscope train --data D --seed S --init-from AE --start kmeans \\
        --no-self-correct --max-iter 1 --embedding z0.npy
    python3 benches/pretrained_cuts.py z0.npy pred.csv [more z0.npy pred.csv pairs]

Needs numpy, scipy and scikit-learn; labels only score.
"""

import csv
import sys

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import laplacian
from scipy.sparse.linalg import eigsh
from sklearn.cluster import KMeans
from sklearn.neighbors import NearestNeighbors

K = 10


def knn(x):
    return NearestNeighbors(n_neighbors=K + 1).fit(x).kneighbors(x, return_distance=False)[:, 1:]


def cut_share(x):
    """Share of directed kNN links across the spectral split of the rows of x."""
    n = len(x)
    ind = knn(x)
    a = csr_matrix((np.ones(n * K), (np.repeat(np.arange(n), K), ind.ravel())), shape=(n, n))
    a = ((a + a.T) > 0).astype(float)
    vals, vecs = eigsh(laplacian(a, normed=True), k=3, sigma=-1e-3, which="LM")
    fiedler = vecs[:, np.argsort(vals)[1]] / np.sqrt(np.asarray(a.sum(1)).ravel())
    halves = KMeans(2, n_init=10, random_state=0).fit_predict(fiedler.reshape(-1, 1))
    return (halves[ind] != halves[:, None]).mean()


def report(z0_path, pred_path):
    z0 = np.load(z0_path)
    rows = list(csv.DictReader(open(pred_path)))
    lab = np.array([int(r["cluster"]) for r in rows])
    y = np.array([int(float(r["label"])) for r in rows])
    k, classes = lab.max() + 1, y.max() + 1
    sizes = np.bincount(lab, minlength=k)
    counts = np.zeros((k, classes), int)
    np.add.at(counts, (lab, y), 1)
    cuts = np.array([cut_share(z0[lab == c]) for c in range(k)])
    med_size, med_cut = np.median(sizes), np.median(cuts)
    mixed = [c for c in range(k) if np.sort(counts[c] / sizes[c])[-2] > 0.3]
    spread = [t for t in range(classes) if np.sort(counts[:, t] / counts[:, t].sum())[-2] > 0.3]
    print(f"== {pred_path}: median cut {100 * med_cut:.2f}%, mixed clusters {mixed}, classes over two clusters {spread}")
    for c in np.argsort(-sizes)[:4]:
        share = counts[c] / sizes[c]
        t1, t2 = np.argsort(-share)[:2]
        print(
            f"  cluster {c}: {sizes[c] / med_size:.2f}x the median size, cut {100 * cuts[c]:.2f}% "
            f"({cuts[c] / med_cut:.2f}x the median), classes {t1} {share[t1]:.2f}, {t2} {share[t2]:.2f}"
        )


def main():
    args = sys.argv[1:]
    if not args or len(args) % 2:
        sys.exit(__doc__)
    for z0_path, pred_path in zip(args[::2], args[1::2]):
        report(z0_path, pred_path)


if __name__ == "__main__":
    main()
