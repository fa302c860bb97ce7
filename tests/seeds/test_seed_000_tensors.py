"""The tensor chapter of seed 000 (shared/seeds/000_*.txt), run with ``import plugrad as
torch``: creation, indexing and views, arithmetic with ``out=`` and ``add_``, NumPy
interop, and the device block.

Every snippet runs with plugrad and, where PyTorch is installed, with PyTorch; the
printed lines must be identical. Independently of PyTorch, each printed line is
checked against values computed with NumPy (the numbers it shows, its dtype suffix),
and the tensors the snippet leaves behind are checked too.

The snippets run in order in one namespace, as a reader runs the tutorial: the
device block uses the ``x`` of the arithmetic snippet.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import plugrad

CREATION = """
t = torch.tensor([[5, 6], [7, 8]])
t1 = torch.empty(5, 3)
t2 = torch.rand(5, 3)
t3 = torch.zeros(5, 3, dtype=torch.float16)
t4 = torch.ones(5, 3)
t5 = torch.ones_like(t3)
print(t5.size())
"""

VIEWS = """
t = torch.tensor([[1, 2, 3], [4, 5, 6]])
print(t[0, :2])
print(t.view(-1, 2))
t = torch.unsqueeze(t, dim=0)
print(t)
print(t.permute(2, 1, 0))
print(t.expand(2, 2, 3))
"""

ARITHMETIC = """
x = torch.tensor([[1, 2, 3], [4, 5, 6]])
y = torch.tensor([[7, 8, 9], [10, 11, 12]])
print(x + y)
print(torch.add(x, y))
z = torch.empty(2, 3)
torch.add(x, y, out=z)
print(z)
y.add_(x)
print(y)
"""

NUMPY = """
t = torch.ones(5)
print(t)
n1 = t.numpy()
n2 = t.clone().numpy()
t.add_(1)
print(n1)
print(n2)
n = np.ones(5)
t2 = torch.from_numpy(n)
"""

DEVICE = """
if torch.cuda.is_available():
    device = torch.device("cuda")
    y = torch.ones_like(x, device=device)
    x = x.to(device)
    z = x + y
    print(z)
    print(z.to("cpu", torch.double))
"""

# the device block as it runs where the device exists, with the CPU standing in for CUDA
DEVICE_ON_CPU = DEVICE.replace("torch.cuda.is_available()", "True").replace('"cuda"', '"cpu"')

SNIPPETS = [CREATION, VIEWS, ARITHMETIC, NUMPY, DEVICE]


def run_snippets(lib, snippets):
    """Run the snippets in one namespace with ``torch`` bound to ``lib``; returns the
    printed lines (one entry per ``print`` call) and the namespace."""
    printed = []

    def record(*args):
        printed.append(" ".join(str(a) for a in args))

    namespace = {"torch": lib, "np": np, "print": record, "__name__": "__seed__"}
    for source in snippets:
        exec(compile(source, "<seed 000>", "exec"), namespace)
    return printed, namespace


def numbers(text):
    """The numbers a printed tensor/array/Size shows (suffixes such as dtype= removed)."""
    body = re.sub(r", (?:dtype|device)=.*?(?=[,)])", "", text)
    body = body.replace("torch.Size", "")
    return [float(v) for v in re.findall(r"-?\d+\.?\d*(?:e[+-]\d+)?", body)]


def assert_shows(line, expected, dtype_suffix=None):
    """``line`` prints exactly the values of ``expected`` (NumPy), with the dtype suffix
    PyTorch adds for a non-default dtype."""
    assert numbers(line) == np.asarray(expected, dtype=np.float64).reshape(-1).tolist(), line
    if dtype_suffix is None:
        assert "dtype=" not in line, line
    else:
        assert line.rstrip().endswith(f"dtype={dtype_suffix})"), line


# ---- against PyTorch ---------------------------------------------------------------------------------------

@pytest.mark.torch_oracle
@pytest.mark.parametrize("snippets", [SNIPPETS, SNIPPETS[:-1] + [DEVICE_ON_CPU]], ids=["as-written", "device-cpu"])
def test_seed_000_prints_what_torch_prints(snippets):
    torch = pytest.importorskip("torch")
    ours, _ = run_snippets(plugrad, snippets)
    theirs, _ = run_snippets(torch, snippets)
    assert ours == theirs


# ---- against NumPy ------------------------------------------------------------------------------------------

def test_creation_snippet():
    printed, ns = run_snippets(plugrad, [CREATION])
    assert printed == ["torch.Size([5, 3])"]
    assert_shows(printed[0], [5, 3])
    t = ns["t"]
    assert t.dtype is plugrad.int64 and t.tolist() == np.array([[5, 6], [7, 8]]).tolist()
    assert ns["t1"].shape == (5, 3) and ns["t1"].dtype is plugrad.float32
    r = ns["t2"].numpy()
    assert r.shape == (5, 3) and r.dtype == np.float32 and (r >= 0).all() and (r < 1).all()
    np.testing.assert_array_equal(ns["t3"].numpy(), np.zeros((5, 3), np.float16))
    np.testing.assert_array_equal(ns["t4"].numpy(), np.ones((5, 3), np.float32))
    assert ns["t5"].dtype is plugrad.float16
    np.testing.assert_array_equal(ns["t5"].numpy(), np.ones((5, 3), np.float16))


def test_views_snippet():
    printed, ns = run_snippets(plugrad, [VIEWS])
    a = np.array([[1, 2, 3], [4, 5, 6]])
    u = a[None]
    expected = [a[0, :2], a.reshape(-1, 2), u, u.transpose(2, 1, 0), np.broadcast_to(u, (2, 2, 3))]
    assert len(printed) == len(expected)
    for line, values in zip(printed, expected):
        assert_shows(line, values)
    t = ns["t"]
    assert t.shape == (1, 2, 3)
    assert t.expand(2, 2, 3).untyped_storage() is t.untyped_storage()  # expand allocates nothing


def test_arithmetic_snippet():
    printed, ns = run_snippets(plugrad, [ARITHMETIC])
    x, y = np.array([[1, 2, 3], [4, 5, 6]]), np.array([[7, 8, 9], [10, 11, 12]])
    for line, values in zip(printed, [x + y, x + y, x + y, y + x]):
        assert_shows(line, values)
    assert printed[0] == printed[1] == printed[3]
    assert "." in printed[2]  # z is float32: whole numbers print with a dot
    assert ns["z"].dtype is plugrad.float32 and ns["y"].dtype is plugrad.int64
    np.testing.assert_array_equal(ns["y"].numpy(), x + y)


def test_numpy_snippet():
    printed, ns = run_snippets(plugrad, [NUMPY])
    assert len(printed) == 3
    assert_shows(printed[0], np.ones(5))
    assert printed[1] == str(np.ones(5, np.float32) + 1)  # n1 shares memory with t: it sees add_
    assert printed[2] == str(np.ones(5, np.float32))      # n2 came from a clone: it does not
    t2, n = ns["t2"], ns["n"]
    assert t2.dtype is plugrad.float64
    n[0] = 7.0
    assert t2[0].item() == 7.0  # from_numpy shares memory too


def test_device_block_is_skipped_without_cuda():
    assert plugrad.cuda.is_available() is False
    printed, ns = run_snippets(plugrad, [ARITHMETIC, DEVICE])
    assert len(printed) == 4  # only the arithmetic snippet printed
    assert "device" not in ns


def test_device_block_with_the_cpu_standing_in():
    printed, ns = run_snippets(plugrad, [ARITHMETIC, DEVICE_ON_CPU])
    x = np.array([[1, 2, 3], [4, 5, 6]])
    z_line, double_line = printed[-2:]
    assert_shows(z_line, x + 1)
    assert_shows(double_line, (x + 1).astype(np.float64), dtype_suffix="torch.float64")
    assert ns["z"].dtype is plugrad.int64 and ns["z"].device == plugrad.device("cpu")
    assert ns["z"].to("cpu", plugrad.double).dtype is plugrad.float64
