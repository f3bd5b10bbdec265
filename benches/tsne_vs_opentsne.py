"""t-SNE speed and quality against openTSNE on the same data, in one run.

Usage (after `decscope train ... --save MODEL`):

    decscope project --data datasets/mnist-test --model MODEL --method tsne \
        --dump-input /tmp/z.csv --out /tmp/decscope_layout.csv
    python3 benches/tsne_vs_opentsne.py /tmp/z.csv

openTSNE 1.0.4 with its defaults (perplexity 30, 750 iterations, PCA init,
n_jobs=2): prints wall time and KL divergence, to compare with decscope's line
"t-SNE of N points x D dims: T s, KL K". Requires `pip install openTSNE==1.0.4`.
"""
import sys
import time

import numpy as np
from openTSNE import TSNE

x = np.loadtxt(sys.argv[1], delimiter=",", dtype=np.float32)
t = time.perf_counter()
emb = TSNE(n_jobs=2, random_state=0).fit(x)
dt = time.perf_counter() - t
print(f"openTSNE 1.0.4: {x.shape[0]} points x {x.shape[1]} dims: {dt:.2f}s, KL {emb.kl_divergence:.4f}")
