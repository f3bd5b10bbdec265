"""PyTorch reference for `decscope bench`: the same operations, shapes and threads.

Run right after `decscope bench` on the same machine, so both figures share one
machine state:

    ./target/release/decscope bench && python3 benches/pytorch_reference.py

Needs `pip install torch` (CPU). Prints median ms per step for: the autoencoder
784-500-500-2000-10-2000-500-500-784 (ReLU except embedding and output, MSE, batch
256) with SGD + momentum and with Adam; one DEC step (encoder forward and backward,
Student-t soft assignment, KL(P||Q) against a fixed P); the encoder pass over 70,000
samples. The autoencoder (Adam) and DEC steps are timed in f32 and under bf16 autocast
(`torch.autocast("cpu", dtype=torch.bfloat16)`: the Linear layers' products in bf16,
oneDNN's AMX or AVX512-BF16 kernels where the CPU has them), in alternating blocks, so
that `decscope bench`'s bf16 rows compare with PyTorch's on the same machine state.
"""
import contextlib
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


def autocast(bf16):
    if bf16:
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def paired(f32_step, bf16_step, steps=40):
    """Median ms of each, timed in 4 alternating blocks after warm-up (as decscope's
    `paired`), so drifting machine speed affects both alike."""
    for _ in range(5):
        f32_step()
        bf16_step()
    times = ([], [])
    block = max(steps // 4, 2)
    for _ in range(4):
        for which, f in enumerate((f32_step, bf16_step)):
            for _ in range(block):
                t = time.perf_counter()
                f()
                times[which].append(time.perf_counter() - t)
    return [statistics.median(v) * 1e3 for v in times]


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


def ae_step_maker(bf16):
    enc, dec = mlp(DIMS), mlp(DIMS[::-1])
    model = torch.nn.Sequential(enc, dec)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad(set_to_none=True)
        with autocast(bf16):
            loss = torch.nn.functional.mse_loss(model(x).float(), x)
        loss.backward()
        opt.step()

    return step


f32_ms, bf16_ms = paired(ae_step_maker(False), ae_step_maker(True))
print(f"pytorch autoencoder step, Adam, f32 (paired)   {f32_ms:8.2f} ms")
print(f"pytorch autoencoder step, Adam, bf16 autocast (paired) {bf16_ms:8.2f} ms")
print(f"  bf16 autocast takes {bf16_ms / f32_ms:.2f}x the f32 time")

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


def dec_step_maker(bf16):
    enc_b = mlp(DIMS)
    enc_b.load_state_dict(enc.state_dict())
    mu_b = torch.nn.Parameter(mu.detach().clone())
    opt_b = torch.optim.SGD(list(enc_b.parameters()) + [mu_b], lr=0.01, momentum=0.9)

    def step():
        opt_b.zero_grad(set_to_none=True)
        with autocast(bf16):
            z = enc_b(x)
        z = z.float()
        q = 1.0 / (1.0 + ((z.unsqueeze(1) - mu_b) ** 2).sum(2))
        q = q / q.sum(1, keepdim=True)
        loss = torch.nn.functional.kl_div(q.log(), p, reduction="batchmean")
        loss.backward()
        opt_b.step()

    return step


f32_ms, bf16_ms = paired(dec_step_maker(False), dec_step_maker(True))
print(f"pytorch DEC clustering step, f32 (paired)      {f32_ms:8.2f} ms")
print(f"pytorch DEC clustering step, bf16 autocast (paired) {bf16_ms:8.2f} ms")
print(f"  bf16 autocast takes {bf16_ms / f32_ms:.2f}x the f32 time")
big = torch.rand(70_000, 784)


def encode():
    with torch.no_grad():
        for i in range(0, 70_000, 1024):
            enc(big[i : i + 1024])


print(f"pytorch encoder pass, 70000 rows   {timed(encode, steps=5, warm=1):8.2f} ms")
