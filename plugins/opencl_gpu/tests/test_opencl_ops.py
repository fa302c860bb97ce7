"""Whole ops through plugrad on the opencl device, against the cpu device: math
with broadcasting and views, in-place ops through views, reductions, indexing,
products, float16, random numbers, and autograd backward of small graphs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, strategies as st

import plugrad as torch

RNG = np.random.default_rng(7)


def both(fn, *arrays, grad=()):
    """``fn`` on cpu tensors and on opencl tensors made from ``arrays``; returns both
    results (and the inputs, whose ``.grad`` tests may compare)."""
    out = {}
    for dev in ("cpu", "opencl"):
        ts = [torch.tensor(a, device=dev, requires_grad=i in grad) for i, a in enumerate(arrays)]
        out[dev] = (fn(*ts), ts)
    return out["cpu"], out["opencl"]


def host(t):
    return None if t is None else t.detach().cpu().numpy()


def assert_match(c, o, rtol=1e-5, atol=1e-6):
    """Same type, dtype, shape, values and grad_fn name; o lives on opencl."""
    if isinstance(c, (tuple, list)):
        assert type(c) is type(o) and len(c) == len(o)
        for a, b in zip(c, o):
            assert_match(a, b, rtol, atol)
        return
    if not isinstance(c, torch.Tensor):
        assert c == o or (c != c and o != o)
        return
    assert o.device == torch.device("opencl:0")
    assert (c.dtype, c.shape) == (o.dtype, o.shape)
    assert type(c.grad_fn).__name__ == type(o.grad_fn).__name__
    if c.dtype.is_floating_point:
        np.testing.assert_allclose(host(o).astype(np.float64), host(c).astype(np.float64), rtol=rtol, atol=atol,
                                   equal_nan=True)
    else:
        np.testing.assert_array_equal(host(o), host(c))


def flatten(result):
    if isinstance(result, (tuple, list)):
        return [t for r in result for t in flatten(r)]
    return [result]


def randn(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


EXPRESSIONS = {
    "broadcast arithmetic": (lambda a, b: (a + b) * (a - b) / (b.abs() + 1), (3, 1, 4), (5, 1)),
    "scalars both sides": (lambda a: 2 ** a - 3 / (a * a + 1) + a ** 2, (4, 3)),
    "math on transposed": (lambda a: a.t().exp().log1p() + a.t().sin() * a.t().tanh(), (3, 5)),
    "expanded operand": (lambda a, b: a.expand(4, 3, 5) * b, (3, 5), (4, 1, 5)),
    "comparisons and where": (lambda a, b: torch.where(a > b, a, b * 2) + (a == a).float(), (6,), (6,)),
    "int promotion": (lambda a: (a * 3).long() // 2 + (a > 0).long() * 7 - (a.long() % 3), (10,)),
    "clamp relu sigmoid": (lambda a: a.clamp(-0.5, 0.7) + a.relu() + a.sigmoid(), (3, 4)),
    "sum mean over dims": (lambda a: (a.sum(), a.sum(1), a.mean((0, 2), keepdim=True)), (3, 4, 5)),
    "max min arg": (lambda a: (a.max(), a.max(0), a.min(-1), a.argmax(), a.argmin(1)), (4, 6)),
    "var std logsumexp": (lambda a: (a.var(), a.std(0), a.logsumexp(1)), (5, 7)),
    "softmax log_softmax": (lambda a: (a.softmax(-1), a.log_softmax(0)), (3, 8)),
    "cumsum cumprod": (lambda a: (a.cumsum(0), (a * 0.1 + 1).cumprod(1)), (4, 5)),
    "any all prod norm": (lambda a: ((a > 0).any(1), (a > -5).all(), (a * 0.1 + 1).prod(0), a.norm()), (3, 4)),
    "reduce permuted view": (lambda a: a.permute(2, 0, 1)[1:, ::2].sum((0, 2)), (4, 5, 6)),
    "matmul family": (lambda a, b: (a @ b, a.t().t() @ b, torch.mm(a, b), a[0] @ b, b.t() @ a[1]), (3, 4), (4, 3)),
    "bmm broadcast": (lambda a, b: (torch.matmul(a, b), torch.bmm(a, b.expand(2, 5, 3))), (2, 4, 5), (5, 3)),
    "outer dot mv addmm": (lambda a, b: (torch.outer(a, b), torch.dot(a, b), torch.mv(a.unsqueeze(0).t() @
                                                                                      b.unsqueeze(0), b),
                                         torch.addmm(b, a.unsqueeze(1), b.unsqueeze(0))), (6,), (6,)),
    "cat stack flip": (lambda a, b: (torch.cat([a, b.t()], 0), torch.stack([a, a * 2], 1), a.flip(0)), (2, 3), (3, 4)),
    "reshape non-contiguous": (lambda a: a.t().reshape(-1) + a.t().contiguous().view(-1), (3, 4)),
    "gather index_select": (lambda a: (a.gather(1, torch.tensor([[0, 2], [1, 1], [3, 0]], device=a.device)),
                                       a.index_select(0, torch.tensor([2, 0], device=a.device))), (3, 4)),
    "getitem advanced": (lambda a: (a[torch.tensor([0, 2, 2], device=a.device)], a[a > 0], a[:, [1, 3]],
                                    a[[0, 1], [2, 3]]), (3, 4)),
    "nonzero masked_select": (lambda a: (torch.nonzero(a > 0), a.masked_select(a < 0)), (4, 5)),
    "scatter_add index_add": (lambda a: (torch.zeros(3, 4, device=a.device).scatter_add(
        1, torch.tensor([[0, 0, 1, 3]] * 3, device=a.device), a),
        torch.zeros(5, 4, device=a.device).index_add(0, torch.tensor([1, 1, 4], device=a.device), a)), (3, 4)),
}


@pytest.mark.parametrize("name", list(EXPRESSIONS))
def test_expression_matches_cpu(name):
    fn, *shapes = EXPRESSIONS[name]
    c, o = both(fn, *(randn(*s) for s in shapes))
    assert_match(c[0], o[0], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", [n for n in EXPRESSIONS if n not in ("int promotion", "nonzero masked_select")])
def test_expression_gradients_match_cpu(name):
    fn, *shapes = EXPRESSIONS[name]

    def loss(*ts):
        total = 0
        for k, r in enumerate(flatten(fn(*ts))):
            if r.dtype.is_floating_point and r.requires_grad:
                total = total + (r * (k + 1)).sin().sum()
        if isinstance(total, int):
            pytest.skip("no differentiable output")
        total.backward()
        return total

    arrays = [randn(*s) for s in shapes]
    c, o = both(loss, *arrays, grad=range(len(arrays)))
    assert_match(c[0], o[0], rtol=1e-4, atol=1e-5)
    for tc, to in zip(c[1], o[1]):
        assert (tc.grad is None) == (to.grad is None)
        if tc.grad is not None:
            assert to.grad.device == to.device
            np.testing.assert_allclose(host(to.grad), host(tc.grad), rtol=1e-4, atol=1e-5)


def test_in_place_through_views_writes_the_base():
    def fn(a):
        b = a.clone()
        b.t()[1:3, ::2] += 5          # strided view of a transposed base
        b[:, 0].mul_(-1)
        b[1].zero_()
        b.diagonal().fill_(7)
        b[b > 6] = 1.5               # boolean setitem
        b[torch.tensor([0, 0, 2], device=b.device), torch.tensor([1, 1, 3], device=b.device)] = 9.0
        return b
    c, o = both(fn, randn(4, 5))
    assert_match(c[0], o[0])


def test_index_put_accumulate_sums_duplicates():
    def fn(a):
        z = torch.zeros(5, device=a.device)
        return z.index_put((torch.tensor([0, 1, 1, 4, 4, 4], device=a.device),), a, accumulate=True)
    c, o = both(fn, randn(6))
    assert_match(c[0], o[0])


def test_autograd_mlp_step_matches_cpu():
    x, y = randn(16, 8), randn(16, 3)
    w1, b1, w2 = randn(8, 12), randn(12), randn(12, 3)

    def step(x, y, w1, b1, w2):
        h = (x @ w1 + b1).relu()
        logits = h @ w2
        loss = ((logits - y) ** 2).mean() + logits.log_softmax(1)[:, 0].mean()
        loss.backward()
        return loss
    c, o = both(step, x, y, w1, b1, w2, grad=(2, 3, 4))
    assert_match(c[0], o[0], rtol=1e-5)
    for tc, to in zip(c[1][2:], o[1][2:]):
        np.testing.assert_allclose(host(to.grad), host(tc.grad), rtol=1e-4, atol=1e-5)


def test_float16_storage_computes_in_float32_and_rounds():
    a = RNG.standard_normal((5, 6)).astype(np.float16)
    c, o = both(lambda t: (t * 3 + 1, t.exp(), t.sum(1), t @ t.t(), t.float(), t.max()), a)
    assert_match(c[0], o[0], rtol=3e-3, atol=3e-3)


@given(st.integers(0, 2 ** 31), st.sampled_from([(7,), (3, 4), (2, 0, 5), ()]))
def test_random_is_reproducible_from_the_seed(seed, shape):
    torch.manual_seed(seed)
    a = torch.rand(*shape, device="opencl")
    b = torch.randn(*shape, device="opencl")
    torch.manual_seed(seed)
    assert np.array_equal(host(torch.rand(*shape, device="opencl")), host(a))
    assert np.array_equal(host(torch.randn(*shape, device="opencl")), host(b))
    assert a.dtype == torch.float32 and tuple(a.shape) == shape


def test_random_distributions():
    torch.manual_seed(0)
    u = host(torch.rand(200000, device="opencl"))
    assert u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.005 and abs(u.var() - 1 / 12) < 0.002
    n = host(torch.randn(200000, device="opencl", dtype=torch.float64))
    assert abs(n.mean()) < 0.01 and abs(n.std() - 1) < 0.01
    r = host(torch.randint(-3, 4, (50000,), device="opencl"))
    assert r.dtype == np.int64 and set(np.unique(r).tolist()) == set(range(-3, 4))
    coins = torch.empty(100000, device="opencl", dtype=torch.uint8).bernoulli_(0.3)
    p = host(coins)
    assert set(np.unique(p).tolist()) == {0, 1} and abs(p.mean() - 0.3) < 0.01
    h = host(torch.rand(1000, device="opencl", dtype=torch.float16))
    assert h.dtype == np.float16 and h.min() >= 0 and h.max() < 1


def test_random_fills_strided_outputs_like_contiguous_ones():
    torch.manual_seed(3)
    a = torch.empty(6, 8, device="opencl")
    torch.nn.init.uniform_(a.t(), -2, 2)          # a non-contiguous target
    vals = host(a)
    assert vals.min() >= -2 and vals.max() < 2 and len(np.unique(vals)) == vals.size


def test_threads_share_the_device_safely(ocl):
    """Kernel objects hold their arguments; concurrent launches from threads must not mix
    them. (The device is started before the threads: the core's registry does not lock
    the creation of a backend.)"""
    import threading
    results, errors = {}, []

    def work(k):
        try:
            x = torch.full((257,), float(k), device="opencl")
            acc = torch.zeros(257, device="opencl")
            for _ in range(200):
                acc = acc + x * 2 - x
            results[k] = acc.cpu().numpy()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
    threads = [threading.Thread(target=work, args=(k,)) for k in range(1, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for k, v in results.items():
        assert np.all(v == 200.0 * k)
