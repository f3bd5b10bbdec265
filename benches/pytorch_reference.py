"""PyTorch reference for `decscope bench`: the same operations, shapes and threads.

Run right after `decscope bench` on the same machine, so both figures share one
machine state:

    ./target/release/decscope bench && python3 benches/pytorch_reference.py

Needs `pip install torch` (CPU). Prints median ms per step for: the autoencoder
784-500-500-2000-10-2000-500-500-784 (ReLU except embedding and output, MSE, batch
256, f32) with SGD + momentum and with Adam; one DEC step (encoder forward and
backward, Student-t soft assignment, KL(P||Q) against a fixed P); the encoder pass
over 70,000 samples.
"""
import statistics
import sys
import time

import torch

torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
torch.manual_seed(0)
B, DIMS = 256, [784, 500, 500, 2000, 10]


def mlp(dims):
    layers = []
    for i in range(len(dims) - 1):
        layers.append(torch.nn.Linear(dims[i], dims[i + 1]))
        if i < len(dims) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def timed(f, steps=40, warm=5):
    for _ in range(warm):
        f()
    out = []
    for _ in range(steps):
        t = time.perf_counter()
        f()
        out.append(time.perf_counter() - t)
    return statistics.median(out) * 1e3


x = torch.rand(B, 784)
for name, make in [
    ("SGD+momentum", lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9)),
    ("Adam", lambda p: torch.optim.Adam(p, lr=1e-3)),
]:
    enc, dec = mlp(DIMS), mlp(DIMS[::-1])
    model = torch.nn.Sequential(enc, dec)
    opt = make(model.parameters())

    def step():
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.mse_loss(model(x), x)
        loss.backward()
        opt.step()

    print(f"pytorch autoencoder step, {name:14s} {timed(step):8.2f} ms")

enc = mlp(DIMS)
mu = torch.nn.Parameter(torch.randn(10, 10))
opt = torch.optim.SGD(list(enc.parameters()) + [mu], lr=0.01, momentum=0.9)
with torch.no_grad():
    q0 = 1.0 / (1.0 + torch.cdist(enc(x), mu) ** 2)
    q0 = q0 / q0.sum(1, keepdim=True)
    p = q0**2 / q0.sum(0)
    p = p / p.sum(1, keepdim=True)


def dec_step():
    opt.zero_grad(set_to_none=True)
    z = enc(x)
    q = 1.0 / (1.0 + ((z.unsqueeze(1) - mu) ** 2).sum(2))
    q = q / q.sum(1, keepdim=True)
    loss = torch.nn.functional.kl_div(q.log(), p, reduction="batchmean")
    loss.backward()
    opt.step()


print(f"pytorch DEC clustering step        {timed(dec_step):8.2f} ms")
big = torch.rand(70_000, 784)


def encode():
    with torch.no_grad():
        for i in range(0, 70_000, 1024):
            enc(big[i : i + 1024])


print(f"pytorch encoder pass, 70000 rows   {timed(encode, steps=5, warm=1):8.2f} ms")
