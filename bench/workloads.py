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


def _timed(step, repeats: int, warmup: int, sync=None, block: int = 1) -> list:
    """Seconds per step, ``repeats`` samples after ``warmup`` steps. With ``sync`` (an
    asynchronous device's wait), each sample runs ``block`` steps and then waits for the
    device, so a sample counts the device's time too, not only the host's queueing
    (a host that queues launches ahead of the device would otherwise time itself)."""
    for _ in range(warmup):
        step()
    if sync is not None:
        sync()
    times = []
    for _ in range(repeats if sync is None else max(1, repeats // block)):
        t0 = time.perf_counter()
        for _ in range(1 if sync is None else block):
            step()
        if sync is not None:
            sync()
        times.append((time.perf_counter() - t0) / (1 if sync is None else block))
    return times


def _device_sync(torch, device):
    """The wait of an asynchronous device (``None`` for cpu, whose kernels run in the call)."""
    kind = torch.device(device).type
    return None if kind == "cpu" else getattr(torch, kind).synchronize


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---- W1: the seeds' 5-element graph, forward + backward ------------------------------------

def w1_plugrad(device, quick):
    import plugrad as torch
    return _timed(_w1_step(torch, device, False), 300 if quick else 5000, 50 if quick else 500,
                  _device_sync(torch, device), 25)


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
    step, _ = _w2_step(torch, device)
    times = _timed(step, 50 if quick else 500, 5 if quick else 20, _device_sync(torch, device), 5)
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


def _w3_step(torch, device, returns: bool):
    class Ops:
        mul, add, tanh = staticmethod(torch.mul), staticmethod(torch.add), staticmethod(torch.tanh)
    torch.manual_seed(0)
    x = torch.rand(M, device=device, requires_grad=True)
    g = torch.ones(M, device=device)

    def step():
        _w3_chain(x, Ops).backward(g)
        grad = x.grad
        x.grad = None
        return grad if returns else None
    return step


def w3_plugrad_compiled(device, quick):
    import plugrad as torch
    eager, checked = _w3_step(torch, device, True), torch.compile(_w3_step(torch, device, True))
    equal = all(_equal([eager()], [checked()]) for _ in range(2))
    compiled = torch.compile(_w3_step(torch, device, False))

    def step():
        compiled()
        if device != "cpu":   # the replay queues its kernels: wait for them, as w3_plugrad does
            getattr(torch, torch.device(device).type).synchronize()
    return {"times": _timed(step, 3 if quick else 20, 1 if quick else 3), "equal": equal}


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


# ---- W5: the digits MLP of examples/digits.py, one epoch of Adam ---------------------------------

W5_BATCH, W5_LR = 64, 2e-3
W5_SIZES = (64, 128, 64, 10)


def _w5_data():
    """The 1,437 training digits of the example's split, flattened to 64 features, and
    a fixed batch order shared by every implementation."""
    import numpy as np
    from sklearn.datasets import load_digits
    digits = load_digits()
    x = (digits.images.reshape(-1, 64) / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(0).permutation(len(x))[: int(len(x) * 0.8)]
    return x[order], y[order]


def _w5_epochs(run_epoch, quick):
    times = []
    for _ in range(1 if quick else 2):
        run_epoch()                      # warm-up epochs
    for _ in range(2 if quick else 7):
        t0 = time.perf_counter()
        run_epoch()
        times.append(time.perf_counter() - t0)
    return times


def _w5_framework(torch, device, quick):
    """The same program for plugrad and PyTorch: nn.Sequential, DataLoader, Adam."""
    import importlib
    nn = torch.nn
    data = importlib.import_module(torch.__name__ + ".utils.data")
    DataLoader, TensorDataset = data.DataLoader, data.TensorDataset
    x, y = _w5_data()
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=W5_LR)
    loss_fn = nn.CrossEntropyLoss()
    loader = DataLoader(TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=W5_BATCH,
                        shuffle=True, generator=torch.Generator().manual_seed(0))

    def run_epoch():
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            loss = loss_fn(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        loss.item()                      # waits for queued work on asynchronous devices
    return _w5_epochs(run_epoch, quick)


def w5_plugrad(device, quick):
    import plugrad
    return _w5_framework(plugrad, device, quick)


def w5_torch(quick):
    import torch
    return _w5_framework(torch, "cpu", quick)


def w5_numpy(quick):
    import numpy as np
    x, y = _w5_data()
    rng = np.random.default_rng(0)
    params = []
    for fan_in, fan_out in zip(W5_SIZES, W5_SIZES[1:]):
        bound = 1 / np.sqrt(fan_in)
        params += [rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32),
                   rng.uniform(-bound, bound, fan_out).astype(np.float32)]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    step_count = [0]

    def train_step(xb, yb):
        w1, b1, w2, b2, w3, b3 = params
        h1 = np.maximum(xb @ w1 + b1, 0)
        h2 = np.maximum(h1 @ w2 + b2, 0)
        logits = h2 @ w3 + b3
        shifted = logits - logits.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        probs = exp / exp.sum(axis=1, keepdims=True)
        n = len(yb)
        loss = -np.log(probs[np.arange(n), yb]).mean()
        g = probs
        g[np.arange(n), yb] -= 1
        g /= n
        grads = [None] * 6
        grads[4], grads[5] = h2.T @ g, g.sum(axis=0)
        g = (g @ w3.T) * (h2 > 0)
        grads[2], grads[3] = h1.T @ g, g.sum(axis=0)
        g = (g @ w2.T) * (h1 > 0)
        grads[0], grads[1] = xb.T @ g, g.sum(axis=0)
        step_count[0] += 1
        t = step_count[0]
        for p, gr, mi, vi in zip(params, grads, m, v):
            mi *= beta1
            mi += (1 - beta1) * gr
            vi *= beta2
            vi += (1 - beta2) * gr * gr
            p -= W5_LR / (1 - beta1 ** t) * mi / (np.sqrt(vi / (1 - beta2 ** t)) + eps)
        return loss

    def run_epoch():
        order = rng.permutation(len(x))
        for start in range(0, len(x), W5_BATCH):
            idx = order[start:start + W5_BATCH]
            train_step(x[idx], y[idx])
    return _w5_epochs(run_epoch, quick)


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



# ---- compiled: plugrad.compile (and torch.compile) of W1, W2 and W5 -----------------------------
# Each compiled plugrad workload first proves that compiling changes nothing: the same steps
# from the same start, eager and compiled, must give equal results bit for bit ("equal").

def _equal(a, b) -> bool:
    return all(x.shape == y.shape and bool((x.cpu() == y.cpu()).all()) for x, y in zip(a, b))


def _w1_step(torch, device, returns: bool):
    """W1's step; with ``returns``, it also returns the loss and the gradients (to compare
    compiled with eager), else it is exactly what ``w1_plugrad`` times."""
    x = torch.ones(5, requires_grad=True, device=device)
    w1 = torch.tensor(2.0, requires_grad=True, device=device)
    w2 = torch.tensor(3.0, requires_grad=True, device=device)
    b = torch.tensor(4.0, device=device)

    def step():
        y = ((x * w1 + b) * w2).mean()
        y.backward()
        grads = (x.grad, w1.grad, w2.grad)
        x.grad = w1.grad = w2.grad = None
        return (y,) + grads if returns else None
    return step


def w1_plugrad_compiled(device, quick):
    import plugrad as torch
    eager, checked = _w1_step(torch, device, True), torch.compile(_w1_step(torch, device, True))
    equal = all(_equal(eager(), checked()) for _ in range(3))
    compiled = torch.compile(_w1_step(torch, device, False))
    times = _timed(compiled, 300 if quick else 5000, 50 if quick else 500, _device_sync(torch, device), 25)
    return {"times": times, "equal": equal, "replays": compiled.stats.replays}


def w1_torch_compile(quick):
    import torch
    step = torch.compile(_w1_step(torch, "cpu", False))
    return _timed(step, 300 if quick else 5000, 50 if quick else 500)


def _w2_step(torch, device):
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
        return loss
    return step, (W1, W2)


def w2_plugrad_compiled(device, quick):
    import plugrad as torch
    (eager, we), (step, wc) = _w2_step(torch, device), _w2_step(torch, device)
    compiled = torch.compile(step)
    equal = all(_equal([eager()], [compiled()]) for _ in range(3)) and _equal(we, wc)
    times = _timed(compiled, 50 if quick else 500, 5 if quick else 20, _device_sync(torch, device), 5)
    return {"times": times, "peak_rss_mb": _peak_rss_mb(), "equal": equal, "replays": compiled.stats.replays}


def w2_torch_compile(quick):
    import torch
    step, _ = _w2_step(torch, "cpu")
    times = _timed(torch.compile(step), 50 if quick else 500, 5 if quick else 20)
    return {"times": times, "peak_rss_mb": _peak_rss_mb()}


def _w5_compiled_framework(torch, device, compile_fn):
    """W5's program with its training step compiled (``compile_fn`` None: eager)."""
    import importlib
    nn = torch.nn
    data = importlib.import_module(torch.__name__ + ".utils.data")
    x, y = _w5_data()
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=W5_LR)
    loss_fn = nn.CrossEntropyLoss()
    loader = data.DataLoader(data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=W5_BATCH,
                             shuffle=True, generator=torch.Generator().manual_seed(0))

    def train_step(xb, yb):
        loss = loss_fn(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss
    step = compile_fn(train_step) if compile_fn is not None else train_step

    def run_epoch():
        for xb, yb in loader:
            loss = step(xb.to(device), yb.to(device))
        loss.item()                      # waits for queued work on asynchronous devices
    return run_epoch, model


def w5_plugrad_compiled(device, quick):
    import plugrad as torch
    eager_epoch, eager_model = _w5_compiled_framework(torch, device, None)
    run_epoch, model = _w5_compiled_framework(torch, device, torch.compile)
    eager_epoch()
    run_epoch()
    equal = _equal(list(eager_model.parameters()), list(model.parameters()))
    return {"times": _w5_epochs(run_epoch, quick), "equal": equal}


def w5_torch_compile(quick):
    import torch
    run_epoch, _ = _w5_compiled_framework(torch, "cpu", torch.compile)
    return _w5_epochs(run_epoch, quick)


WORKLOADS = {
    "W1": {"title": "small graph, fwd+bwd", "unit": "us/iter", "plugrad": w1_plugrad, "numpy": w1_numpy,
           "torch": w1_torch, "target": 3.0, "plugrad_compiled": w1_plugrad_compiled,
           "torch_compile": w1_torch_compile},
    "W2": {"title": "seeds' MLP, SGD step", "unit": "ms/iter", "plugrad": w2_plugrad, "numpy": w2_numpy,
           "torch": w2_torch, "target": 1.05, "plugrad_compiled": w2_plugrad_compiled,
           "torch_compile": w2_torch_compile},
    "W3": {"title": "20 elementwise ops on 1M, fwd+bwd", "unit": "ms/iter", "plugrad": w3_plugrad,
           "numpy": w3_numpy, "torch": w3_torch, "target": 1.1, "plugrad_compiled": w3_plugrad_compiled},
    "W4": {"title": "1024^2 matmul, fwd+bwd", "unit": "ms/iter", "plugrad": w4_plugrad, "numpy": w4_numpy,
           "torch": w4_torch, "target": 1.05},
    "W5": {"title": "digits MLP, one epoch of Adam", "unit": "ms/epoch", "plugrad": w5_plugrad,
           "numpy": w5_numpy, "torch": w5_torch, "plugrad_compiled": w5_plugrad_compiled,
           "torch_compile": w5_torch_compile},
    "MEM": {"title": "RSS growth over the W1 loop", "unit": "MB", "plugrad": mem_plugrad},
}
