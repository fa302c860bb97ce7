"""The benchmark workloads, each written three ways: plugrad (on a given device), a
hand-written NumPy version with manual gradients, and PyTorch (when installed).

Every function returns a list of per-repetition timings in seconds (warm-ups
excluded), or a dict of figures for the memory workloads. They run in a fresh
interpreter each (see ``run.py``), so imports and caches never leak between them.
"""

from __future__ import annotations

import gc
import os
import resource
import time


def _timed(step, repeats: int, warmup: int) -> list:
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return times


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---- W1: the seeds' 5-element graph, forward + backward ------------------------------------

def w1_plugrad(device, quick):
    import plugrad as torch
    x = torch.ones(5, requires_grad=True, device=device)
    w1 = torch.tensor(2.0, requires_grad=True, device=device)
    w2 = torch.tensor(3.0, requires_grad=True, device=device)
    b = torch.tensor(4.0, device=device)

    def step():
        y = ((x * w1 + b) * w2).mean()
        y.backward()
        x.grad = w1.grad = w2.grad = None
    return _timed(step, 300 if quick else 5000, 50 if quick else 500)


def w1_numpy(quick):
    import numpy as np
    x = np.ones(5, np.float32)
    w1, w2, b = np.float32(2.0), np.float32(3.0), np.float32(4.0)

    def step():
        l1 = x * w1
        l2 = l1 + b
        l3 = l2 * w2
        l3.mean()
        g3 = np.full(5, 1 / 5, np.float32)
        (g3 * l2).sum()
        g2 = g3 * w2
        (g2 * x).sum()
        g2 * w1
    return _timed(step, 300 if quick else 5000, 50 if quick else 500)


def w1_torch(quick):
    import torch
    x = torch.ones(5, requires_grad=True)
    w1 = torch.tensor(2.0, requires_grad=True)
    w2 = torch.tensor(3.0, requires_grad=True)
    b = torch.tensor(4.0)

    def step():
        y = ((x * w1 + b) * w2).mean()
        y.backward()
        x.grad = w1.grad = w2.grad = None
    return _timed(step, 300 if quick else 5000, 50 if quick else 500)


# ---- W2: the seeds' two-layer MLP trained with manual SGD -------------------------------------

N, D_IN, H, D_OUT = 64, 1000, 100, 10


def _w2_data():
    import numpy as np
    rng = np.random.default_rng(0)
    return [rng.standard_normal(s).astype(np.float32) for s in ((N, D_IN), (N, D_OUT), (D_IN, H), (H, D_OUT))]


def w2_plugrad(device, quick):
    import plugrad as torch
    X, y, W1, W2 = (torch.from_numpy(a).to(device) for a in _w2_data())
    W1.requires_grad_()
    W2.requires_grad_()
    lr = 1e-6

    def step():
        nonlocal W1, W2
        loss = (X.mm(W1).clamp(min=0).mm(W2) - y).pow(2).sum()
        loss.backward()
        with torch.no_grad():
            W1 -= lr * W1.grad
            W2 -= lr * W2.grad
            W1.grad.zero_()
            W2.grad.zero_()
    times = _timed(step, 50 if quick else 500, 5 if quick else 20)
    return {"times": times, "peak_rss_mb": _peak_rss_mb()}


def w2_numpy(quick):
    import numpy as np
    X, y, W1, W2 = _w2_data()
    lr = np.float32(1e-6)

    def step():
        h = X.dot(W1)
        h_relu = np.maximum(h, 0)
        y_hat = h_relu.dot(W2)
        np.square(y_hat - y).sum()
        grad_y_hat = 2.0 * (y_hat - y)
        grad_w2 = h_relu.T.dot(grad_y_hat)
        grad_h = grad_y_hat.dot(W2.T)
        grad_h[h < 0] = 0
        grad_w1 = X.T.dot(grad_h)
        W1[...] -= lr * grad_w1
        W2[...] -= lr * grad_w2
    times = _timed(step, 50 if quick else 500, 5 if quick else 20)
    return {"times": times, "peak_rss_mb": _peak_rss_mb()}


def w2_torch(quick):
    import torch
    X, y, W1, W2 = (torch.from_numpy(a) for a in _w2_data())
    W1.requires_grad_()
    W2.requires_grad_()
    lr = 1e-6

    def step():
        nonlocal W1, W2
        loss = (X.mm(W1).clamp(min=0).mm(W2) - y).pow(2).sum()
        loss.backward()
        with torch.no_grad():
            W1 -= lr * W1.grad
            W2 -= lr * W2.grad
            W1.grad.zero_()
            W2.grad.zero_()
    times = _timed(step, 50 if quick else 500, 5 if quick else 20)
    return {"times": times, "peak_rss_mb": _peak_rss_mb()}


# ---- W3: 20 elementwise ops on 1,000,000 float32, forward + backward ------------------------------

M = 1_000_000


def _w3_chain(x, ops):
    y = x
    for _ in range(5):
        y = ops.mul(y, 1.0001)
        y = ops.add(y, 0.5)
        y = ops.tanh(y)
        y = ops.mul(y, y)
    return y


def w3_plugrad(device, quick):
    import plugrad as torch

    class Ops:
        mul, add, tanh = staticmethod(torch.mul), staticmethod(torch.add), staticmethod(torch.tanh)
    x = torch.rand(M, device=device, requires_grad=True)
    g = torch.ones(M, device=device)

    def step():
        _w3_chain(x, Ops).backward(g)
        x.grad = None
        if device != "cpu":
            getattr(torch, torch.device(device).type).synchronize()
    return _timed(step, 3 if quick else 20, 1 if quick else 3)


def w3_numpy(quick):
    import numpy as np
    x = np.random.default_rng(0).random(M, dtype=np.float32)

    def step():
        # forward, keeping what the backward needs
        saved = []
        y = x
        for _ in range(5):
            a = y * np.float32(1.0001)
            b = a + np.float32(0.5)
            t = np.tanh(b)
            saved.append(t)
            y = t * t
        g = np.ones(M, np.float32)
        for t in reversed(saved):
            g = g * 2 * t           # d(t*t)
            g = g * (1 - t * t)     # d tanh
            g = g * np.float32(1.0001)
        return g
    return _timed(step, 3 if quick else 20, 1 if quick else 3)


def w3_torch(quick):
    import torch
    x = torch.rand(M, requires_grad=True)
    g = torch.ones(M)

    class Ops:
        mul, add, tanh = staticmethod(torch.mul), staticmethod(torch.add), staticmethod(torch.tanh)

    def step():
        _w3_chain(x, Ops).backward(g)
        x.grad = None
    return _timed(step, 3 if quick else 20, 1 if quick else 3)


# ---- W4: 1024x1024 matmul, (A @ B).sum().backward() -------------------------------------------------

K = 1024


def w4_plugrad(device, quick):
    import plugrad as torch
    a = torch.rand(K, K, device=device, requires_grad=True)
    b = torch.rand(K, K, device=device, requires_grad=True)

    def step():
        (a @ b).sum().backward()
        a.grad = b.grad = None
        if device != "cpu":
            getattr(torch, torch.device(device).type).synchronize()
    return _timed(step, 3 if quick else 10, 1 if quick else 2)


def w4_numpy(quick):
    import numpy as np
    rng = np.random.default_rng(0)
    a = rng.random((K, K), dtype=np.float32)
    b = rng.random((K, K), dtype=np.float32)

    def step():
        a @ b
        g = np.ones((K, K), np.float32)
        g @ b.T
        a.T @ g
    return _timed(step, 3 if quick else 10, 1 if quick else 2)


def w4_torch(quick):
    import torch
    a = torch.rand(K, K, requires_grad=True)
    b = torch.rand(K, K, requires_grad=True)

    def step():
        (a @ b).sum().backward()
        a.grad = b.grad = None
    return _timed(step, 3 if quick else 10, 1 if quick else 2)


# ---- memory: no growth over many small-graph iterations ------------------------------------------------

def mem_plugrad(device, quick):
    import plugrad as torch
    x = torch.ones(5, requires_grad=True, device=device)
    w1 = torch.tensor(2.0, requires_grad=True, device=device)
    w2 = torch.tensor(3.0, requires_grad=True, device=device)
    b = torch.tensor(4.0, device=device)

    def steps(n):
        for _ in range(n):
            y = ((x * w1 + b) * w2).mean()
            y.backward()
            x.grad = w1.grad = w2.grad = None
    steps(100)
    gc.collect()
    after_100 = _rss_mb()
    steps(2000 if quick else 10_000)
    gc.collect()
    return {"rss_after_100_mb": after_100, "rss_after_all_mb": _rss_mb(),
            "iterations": 2000 if quick else 10_000}


WORKLOADS = {
    "W1": {"title": "small graph, fwd+bwd", "unit": "us/iter", "plugrad": w1_plugrad, "numpy": w1_numpy,
           "torch": w1_torch, "target": 3.0},
    "W2": {"title": "seeds' MLP, SGD step", "unit": "ms/iter", "plugrad": w2_plugrad, "numpy": w2_numpy,
           "torch": w2_torch, "target": 1.05},
    "W3": {"title": "20 elementwise ops on 1M, fwd+bwd", "unit": "ms/iter", "plugrad": w3_plugrad,
           "numpy": w3_numpy, "torch": w3_torch, "target": 1.1},
    "W4": {"title": "1024^2 matmul, fwd+bwd", "unit": "ms/iter", "plugrad": w4_plugrad, "numpy": w4_numpy,
           "torch": w4_torch, "target": 1.05},
    "MEM": {"title": "RSS growth over the W1 loop", "unit": "MB", "plugrad": mem_plugrad},
}
