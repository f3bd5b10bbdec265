"""t-SNE speed and quality against openTSNE on the same data, in one run.

Usage (after `decscope train ... --save MODEL`):

    decscope project --data datasets/mnist-test --model MODEL --method tsne \\
        --dump-input /tmp/z.csv --out /tmp/decscope_layout.csv
    python3 benches/tsne_vs_opentsne.py /tmp/z.csv /tmp/decscope_layout.csv

Runs openTSNE 1.0.4 with its defaults (perplexity 30, 750 iterations, PCA init,
n_jobs=2) and prints its wall time. Then scores both layouts with one yardstick: the
KL divergence between openTSNE's affinities P (perplexity 30) and the exact Student-t
Q of each layout, so the two KL figures are comparable (each library's own KL uses its
own approximations). Requires `pip install openTSNE==1.0.4`.
"""
import sys
import time

import numpy as np
from openTSNE import TSNE
from openTSNE.affinity import PerplexityBasedNN

x = np.loadtxt(sys.argv[1], delimiter=",", dtype=np.float32)
t = time.perf_counter()
emb = TSNE(n_jobs=2, random_state=0).fit(x)
dt = time.perf_counter() - t
print(f"openTSNE 1.0.4: {x.shape[0]} points x {x.shape[1]} dims: {dt:.2f}s (its own KL {emb.kl_divergence:.4f})")


def exact_kl(P, y):
    """KL(P||Q) with Q the exact normalised Student-t kernel of layout y."""
    y = np.asarray(y, dtype=np.float64)
    n = len(y)
    z = 0.0
    for s in range(0, n, 1000):
        d2 = ((y[s:s + 1000, None, :] - y[None, :, :]) ** 2).sum(-1)
        w = 1.0 / (1.0 + d2)
        w[np.arange(min(1000, n - s)), np.arange(s, min(s + 1000, n))] = 0.0
        z += w.sum()
    P = P.tocoo()
    pij = P.data / P.data.sum()
    d2 = ((y[P.row] - y[P.col]) ** 2).sum(-1)
    qij = 1.0 / (1.0 + d2) / z
    return float((pij * np.log(pij / qij)).sum())


P = PerplexityBasedNN(x, perplexity=30, n_jobs=2, random_state=0).P
print(f"exact KL, openTSNE layout: {exact_kl(P, np.asarray(emb)):.4f}")
if len(sys.argv) > 2:
    ours = np.loadtxt(sys.argv[2], delimiter=",", skiprows=1, usecols=(1, 2))
    print(f"exact KL, decscope layout: {exact_kl(P, ours):.4f}")
