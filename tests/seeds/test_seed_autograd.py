"""The autograd code of the user's tutorials (shared/seeds 000-004), run with
``import plugrad as torch`` and compared with PyTorch running the same code.

Printing programs are compared on their whole printed output (object addresses
masked). Where a program draws random numbers (``torch.randn``), both libraries
get the same numbers from one NumPy generator, so the outputs can be compared.
The training loops of seed 001 run 25 of their 500 iterations, from identical
NumPy-made initial weights, and their loss sequences are compared.

Each program is the tutorial's code with its ``import torch`` line replaced by the
library under test (bound as ``torch``)."""

from __future__ import annotations

import contextlib
import io
import re
import warnings

import numpy as np
import pytest

import plugrad

torch_oracle = pytest.mark.torch_oracle


def run_program(source: str, lib, monkeypatch, seed: int = 0) -> str:
    """Run ``source`` with ``torch`` bound to ``lib``; returns what it printed.
    ``lib.randn`` draws from a NumPy generator seeded with ``seed``."""
    rng = np.random.default_rng(seed)

    def randn(*size, **kwargs):
        shape = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else size
        return lib.tensor(rng.standard_normal(shape).astype(np.float32), **kwargs)

    monkeypatch.setattr(lib, "randn", randn)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the non-leaf .grad warning both libraries give
        exec(compile(source, "<seed program>", "exec"), {"torch": lib, "__name__": "__seed__"})
    monkeypatch.undo()
    return re.sub(r"0x[0-9a-fA-F]+", "0xADDR", out.getvalue())


def compare_with_torch(source, monkeypatch):
    torch = pytest.importorskip("torch")
    ours = run_program(source, plugrad, monkeypatch)
    theirs = run_program(source, torch, monkeypatch)
    assert ours == theirs
    return ours


# ---- seed 000: the second half (autograd) ----------------------------------------------------

SEED_000 = """
x = torch.ones(5, requires_grad=True)
w1 = torch.tensor(2.0, requires_grad=True)
w2 = torch.tensor(3.0, requires_grad=True)
b = torch.tensor(4.0, requires_grad=False)
l1 = x * w1
l2 = l1 + b
l3 = l2 * w2
y = l3.mean()
y.backward()
print(l1.data, l1.grad, l1.grad_fn)
print(l2.data, l2.grad, l2.grad_fn)
print(y)
print(w1.grad, w2.grad)
print(x.grad)
"""

SEED_000_RETAIN = """
x = torch.ones(5, requires_grad=True)
w1 = torch.tensor(2.0, requires_grad=True)
w2 = torch.tensor(3.0, requires_grad=True)
b = torch.tensor(4.0, requires_grad=False)
l1 = x * w1
l2 = l1 + b
l3 = l2 * w2
y = l3.mean()
l1.retain_grad()
l2.retain_grad()
y.backward()
print(l1.data, l1.grad, l1.grad_fn)
print(l2.data, l2.grad, l2.grad_fn)
"""

SEED_000_NO_GRAD = """
x = torch.ones(5, requires_grad=True)
print((x ** 2).requires_grad)
with torch.no_grad():
    print((x ** 2).requires_grad)
"""


def test_seed_000_values_without_oracle(monkeypatch):
    out = run_program(SEED_000, plugrad, monkeypatch)
    lines = out.splitlines()
    assert lines[0] == "tensor([2., 2., 2., 2., 2.]) None <MulBackward0 object at 0xADDR>"
    assert lines[2] == "tensor(18., grad_fn=<MeanBackward0>)"
    assert lines[3] == "tensor(3.) tensor(6.)"
    assert lines[4] == "tensor([1.2000, 1.2000, 1.2000, 1.2000, 1.2000])"


@torch_oracle
@pytest.mark.parametrize("source", [SEED_000, SEED_000_RETAIN, SEED_000_NO_GRAD], ids=["main", "retain", "no_grad"])
def test_seed_000(source, monkeypatch):
    compare_with_torch(source, monkeypatch)


# ---- seed 001 --------------------------------------------------------------------------------

SEED_001_LEAF = """
x = torch.tensor(2.0, requires_grad=True)
y = torch.pow(x, 2)
z = torch.add(y, 3)
z.backward()
print(x.grad)
print(y.grad)
"""

SEED_001_GRAD_FN = """
x = torch.tensor([1.0, 2.0], requires_grad=True)
y = x * 2
z = y.mean()
print(x.grad_fn)
print(y.grad_fn)
print(z.grad_fn)
"""


@torch_oracle
@pytest.mark.parametrize("source", [SEED_001_LEAF, SEED_001_GRAD_FN], ids=["leaf", "grad_fn"])
def test_seed_001_programs(source, monkeypatch):
    out = compare_with_torch(source, monkeypatch)
    assert "tensor(4.)" in out or "MeanBackward0" in out


N, D_IN, H, D_OUT = 64, 1000, 100, 10
ITERATIONS = 25


def initial_data():
    rng = np.random.default_rng(1)
    return tuple(rng.standard_normal(s).astype(np.float32) for s in ((N, D_IN), (N, D_OUT), (D_IN, H), (H, D_OUT)))


def autograd_loop(torch, iterations=ITERATIONS):
    """Seed 001, "pytorch自动实现": autograd computes the gradients."""
    X, y, W1, W2 = (torch.tensor(a) for a in initial_data())
    W1.requires_grad_(True)
    W2.requires_grad_(True)
    learning_rate = 1e-6
    losses = []
    for _ in range(iterations):  # the tutorial's `for t in range(500)`
        y_hat = X.mm(W1).clamp(min=0).mm(W2)
        loss = (y_hat - y).pow(2).sum()
        losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            W1 -= learning_rate * W1.grad
            W2 -= learning_rate * W2.grad
            W1.grad.zero_()
            W2.grad.zero_()
    return losses, type(loss.grad_fn).__name__, W1.is_leaf and W1.requires_grad


def manual_loop(torch, iterations=ITERATIONS):
    """Seed 001, "pytorch手动实现": gradients written by hand, no autograd."""
    X, y, W1, W2 = (torch.tensor(a) for a in initial_data())
    learning_rate = 1e-6
    losses = []
    for _ in range(iterations):  # the tutorial's `for t in range(500)`
        h = X.mm(W1)
        h_relu = h.clamp(min=0)
        y_hat = h_relu.mm(W2)
        loss = (y_hat - y).pow(2).sum().item()
        losses.append(loss)
        grad_y_hat = 2.0 * (y_hat - y)
        grad_W2 = h_relu.t().mm(grad_y_hat)
        grad_h_relu = grad_y_hat.mm(W2.t())
        grad_h = grad_h_relu.clone()
        grad_h[h < 0] = 0
        grad_W1 = X.t().mm(grad_h)
        W1 -= learning_rate * grad_W1
        W2 -= learning_rate * grad_W2
    return losses


def test_seed_001_autograd_loop_equals_the_hand_written_gradients():
    auto, name, leaf = autograd_loop(plugrad, iterations=8)
    manual = manual_loop(plugrad, iterations=8)
    assert name == "SumBackward0" and leaf
    np.testing.assert_allclose(auto, manual, rtol=1e-5)
    assert auto[-1] < auto[0]  # it learns


@torch_oracle
@pytest.mark.parametrize("loop", [autograd_loop, manual_loop], ids=["autograd", "manual"])
def test_seed_001_training_loss_matches_pytorch(loop):
    torch = pytest.importorskip("torch")
    ours, theirs = loop(plugrad), loop(torch)
    if isinstance(ours, tuple):
        assert ours[1:] == theirs[1:]
        ours, theirs = ours[0], theirs[0]
    np.testing.assert_allclose(ours, theirs, rtol=1e-4)


# ---- seed 002: the Variable program ---------------------------------------------------------------

SEED_002_HEAD = """
Variable = torch.autograd.Variable
a = torch.autograd.Variable()
print(a)
b = torch.autograd.Variable(torch.Tensor([[1, 2], [3, 4],[5, 6], [7, 8]]))
print(b)
print(b.data)
print(b.grad)
print(b.grad_fn)
x = Variable(torch.Tensor([2]),requires_grad = True)
print(x)
w = Variable(torch.Tensor([3]),requires_grad = True)
print(w)
b = Variable(torch.Tensor([4]),requires_grad = True)
print(b)
y1 = w * x + b
print(y1)
y2 = w * x + b * x
print(y2)
"""

SEED_002_Y1 = SEED_002_HEAD + """
y1.backward()
print(x.grad)
print(w.grad)
print(b.grad)
"""

SEED_002_FULL = SEED_002_HEAD + """
a = Variable(torch.Tensor([5]),requires_grad = True)
y2.backward(a)
print(x.grad)
print(w.grad)
print(b.grad)
c = torch.randn(3)
print(c)
c = Variable(c,requires_grad = True)
print(c)
y3 = c * 2
print(y3)
y3.backward(torch.FloatTensor([1, 0.1, 0.01]))
print(c.grad)
if torch.cuda.is_available():
    d = c.cuda()
    print(d)
e = Variable(torch.Tensor([4]),requires_grad = True)
f = e.detach().numpy()
print(f)
g = torch.from_numpy(f)
print(g)
g = Variable(g,requires_grad = True)
print(g)
"""


def test_seed_002_gradients_without_oracle(monkeypatch):
    lines = run_program(SEED_002_Y1, plugrad, monkeypatch).splitlines()
    assert lines[-3:] == ["tensor([3.])", "tensor([2.])", "tensor([1.])"]
    out = run_program(SEED_002_FULL, plugrad, monkeypatch)
    assert "\ntensor([35.])\ntensor([10.])\ntensor([10.])\n" in out  # 5 * (dy2/dx, dy2/dw, dy2/db) = 5 * (7, 2, 2)


@torch_oracle
@pytest.mark.parametrize("source", [SEED_002_Y1, SEED_002_FULL], ids=["y1", "full"])
def test_seed_002_variable_program(source, monkeypatch):
    compare_with_torch(source, monkeypatch)


def test_seed_002_numpy_of_a_tensor_that_requires_grad():
    e = plugrad.autograd.Variable(plugrad.Tensor([4]), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Can't call numpy\(\) on Tensor that requires grad"):
        e.numpy()


# ---- seed 003: sum() versus backward(v) ----------------------------------------------------------

SEED_003_SUM = """
x = torch.tensor(3.0,requires_grad = True)
p = torch.ones(2,2,requires_grad=True)
z = 2*x+p
z = z.sum()
z.backward()
print(p.grad.data)
print(x.grad)
"""

SEED_003_VECTOR = """
devices = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
print(devices)
x = torch.tensor(3.0,requires_grad = True)
p = torch.ones(2,2,requires_grad=True)
z = 2*x+p
v = torch.ones(p.shape, dtype=torch.float)
z.backward(v)
print(p.grad.data)
print(x.grad)
"""


@pytest.mark.parametrize("source", [SEED_003_SUM, SEED_003_VECTOR], ids=["sum", "vector"])
def test_seed_003_values(source, monkeypatch):
    lines = run_program(source, plugrad, monkeypatch).splitlines()
    assert lines[-3:] == ["tensor([[1., 1.],", "        [1., 1.]])", "tensor(8.)"]


@torch_oracle
@pytest.mark.parametrize("source", [SEED_003_SUM, SEED_003_VECTOR], ids=["sum", "vector"])
def test_seed_003(source, monkeypatch):
    compare_with_torch(source, monkeypatch)


# ---- seed 004: the whole program -------------------------------------------------------------------

SEED_004 = """
x = torch.ones(2, 2, requires_grad=True)
print(x)
y = x + 2
print(y)
print(y.grad_fn)
z = y * y * 3
out = z.mean()
print(z, out)
a = torch.randn(2, 2)
a = ((a * 3) / (a - 1))
print(a.requires_grad)
a.requires_grad_(True)
print(a.requires_grad)
b = (a * a).sum()
print(b.grad_fn)
out.backward()
print(x.grad)
y.backward(x)
print(x)
print(x.requires_grad)
print((x ** 2).requires_grad)
with torch.no_grad():
    print((x ** 2).requires_grad)
print(x.requires_grad)
y = x.detach()
print(y.requires_grad)
print(x.eq(y).all())
"""


def test_seed_004_values(monkeypatch):
    out = run_program(SEED_004, plugrad, monkeypatch)
    assert "tensor([[4.5000, 4.5000],\n        [4.5000, 4.5000]])" in out
    assert "tensor(27., grad_fn=<MeanBackward0>)" in out
    assert out.rstrip().endswith("tensor(True)")


@torch_oracle
def test_seed_004(monkeypatch):
    compare_with_torch(SEED_004, monkeypatch)
