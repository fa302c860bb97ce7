"""The samplers: multinomial, bernoulli and the in-place ``Tensor`` samplers.

Draws cannot be compared with PyTorch's value for value (the streams differ), so each
distribution is checked statistically on every installed device, from a fixed seed and
a fixed sample size (the tests are deterministic): means and variances within a few
standard errors, supports, frequencies. Shapes, dtypes, ``grad_fn`` names, gradients and
the exception classes of bad arguments are compared with PyTorch.
"""

from __future__ import annotations

import math

import numpy as np
import plugrad
import pytest

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch_oracle

N = 20000


def _draws(device, fill, dtype=plugrad.float32, n=N):
    plugrad.manual_seed(1234)
    x = plugrad.zeros(n, dtype=dtype, device=device)
    r = fill(x)
    assert r is x
    return np.asarray(x.tolist(), dtype=np.float64)


def _assert_moments(values, mean, var, sigmas=6.0):
    """Sample mean and variance within ``sigmas`` standard errors of the distribution's."""
    n = len(values)
    assert abs(values.mean() - mean) < sigmas * math.sqrt(var / n), (values.mean(), mean)
    assert abs(values.var() - var) < sigmas * var * math.sqrt(2.0 / n) * 3, (values.var(), var)


def test_normal_(device):
    v = _draws(device, lambda x: x.normal_(2.0, 3.0))
    _assert_moments(v, 2.0, 9.0)


def test_uniform_(device):
    v = _draws(device, lambda x: x.uniform_(-1.0, 3.0))
    assert v.min() >= -1.0 and v.max() < 3.0
    _assert_moments(v, 1.0, 16.0 / 12)
    w = _draws(device, lambda x: x.uniform_(**{"from": 2.0, "to": 2.5}))
    assert w.min() >= 2.0 and w.max() < 2.5


def test_exponential_(device):
    v = _draws(device, lambda x: x.exponential_(4.0), dtype=plugrad.float64)
    assert v.min() >= 0
    _assert_moments(v, 0.25, 1 / 16)


def test_geometric_(device):
    v = _draws(device, lambda x: x.geometric_(0.25))
    assert v.min() >= 1 and np.all(v == np.round(v))
    _assert_moments(v, 4.0, 0.75 / 0.0625)
    ints = _draws(device, lambda x: x.geometric_(0.5), dtype=plugrad.int32, n=2000)
    assert ints.min() >= 1


def test_log_normal_(device):
    v = _draws(device, lambda x: x.log_normal_(0.5, 0.25))
    _assert_moments(np.log(v), 0.5, 0.0625)


def test_cauchy_(device):
    v = _draws(device, lambda x: x.cauchy_(1.0, 2.0))
    # heavy tails: check the quartiles, median -+ sigma
    q1, q2, q3 = np.quantile(v, [0.25, 0.5, 0.75])
    assert abs(q2 - 1.0) < 0.1 and abs(q1 - -1.0) < 0.15 and abs(q3 - 3.0) < 0.15


def test_bernoulli_(device):
    v = _draws(device, lambda x: x.bernoulli_(0.3))
    assert set(np.unique(v)) <= {0.0, 1.0}
    _assert_moments(v, 0.3, 0.21)
    p = plugrad.tensor([0.0, 1.0, 0.5, 0.9], device=device).repeat(N // 4)
    w = _draws(device, lambda x: x.bernoulli_(p))
    w = w.reshape(-1, 4)
    assert np.all(w[:, 0] == 0) and np.all(w[:, 1] == 1)
    assert abs(w[:, 2].mean() - 0.5) < 0.04 and abs(w[:, 3].mean() - 0.9) < 0.03


def test_random_(device):
    v = _draws(device, lambda x: x.random_(-3, 4))
    assert set(np.unique(v)) == set(range(-3, 4))
    _assert_moments(v, 0.0, (7 ** 2 - 1) / 12)
    assert set(np.unique(_draws(device, lambda x: x.random_(5), n=2000))) == set(range(5))
    assert set(np.unique(_draws(device, lambda x: x.random_(), dtype=plugrad.bool, n=200))) == {0.0, 1.0}
    i8 = _draws(device, lambda x: x.random_(), dtype=plugrad.int8, n=5000)
    assert i8.min() >= 0 and i8.max() <= 127 and i8.max() > 120
    f32 = _draws(device, lambda x: x.random_(), n=2000)
    assert f32.min() >= 0 and f32.max() <= 2 ** 24 and f32.max() > 2 ** 23
    high = _draws(device, lambda x: x.random_(10, None), n=2000)
    assert high.min() >= 10 and high.max() > 2 ** 23


def test_bernoulli_function(device):
    plugrad.manual_seed(5)
    p = plugrad.tensor([0.0, 1.0, 0.25], dtype=plugrad.float64, device=device).repeat(N // 3)
    r = plugrad.bernoulli(p)
    assert r.dtype == plugrad.float64 and tuple(r.shape) == tuple(p.shape)
    v = np.asarray(r.tolist()).reshape(-1, 3)
    assert np.all(v[:, 0] == 0) and np.all(v[:, 1] == 1) and abs(v[:, 2].mean() - 0.25) < 0.03
    fixed = np.asarray(plugrad.bernoulli(p, 0.75).tolist())
    assert abs(fixed.mean() - 0.75) < 0.03


def test_multinomial_with_replacement_follows_the_weights(device):
    plugrad.manual_seed(7)
    weights = plugrad.tensor([[1.0, 0.0, 3.0, 4.0], [0.0, 0.0, 5.0, 0.0]], device=device)
    r = plugrad.multinomial(weights, N, replacement=True)
    assert r.dtype == plugrad.int64 and tuple(r.shape) == (2, N)
    counts = np.bincount(np.asarray(r[0].tolist()), minlength=4) / N
    np.testing.assert_allclose(counts, [0.125, 0.0, 0.375, 0.5], atol=0.02)
    assert set(r[1].tolist()) == {2}


def test_multinomial_without_replacement(device):
    plugrad.manual_seed(8)
    weights = plugrad.tensor([1.0, 0.0, 2.0, 7.0, 0.0], device=device)
    firsts = []
    for _ in range(300):
        r = plugrad.multinomial(weights, 5).tolist()
        assert sorted(r) == [0, 1, 2, 3, 4]
        assert set(r[:3]) == {0, 2, 3}      # the weightless categories come last, as in PyTorch
        firsts.append(r[0])
    freq = np.bincount(firsts, minlength=5) / len(firsts)
    np.testing.assert_allclose(freq, [0.1, 0.0, 0.2, 0.7, 0.0], atol=0.08)


def test_seeded_draws_repeat_and_generators_are_independent(device):
    def draw(**kwargs):
        x = plugrad.empty(50, device=device)
        return (x.normal_(**kwargs).tolist() + x.uniform_(**kwargs).tolist() + x.exponential_(**kwargs).tolist()
                + plugrad.multinomial(plugrad.ones(6, device=device), 3, **kwargs).tolist())
    plugrad.manual_seed(3)
    a = draw()
    plugrad.manual_seed(3)
    assert draw() == a
    g = plugrad.Generator().manual_seed(11)
    b = draw(generator=g)
    g.manual_seed(11)
    assert draw(generator=g) == b


# ---- against PyTorch: dtypes, shapes, autograd, errors ---------------------------------------------

SAMPLERS = [
    ("normal_", ()), ("uniform_", ()), ("exponential_", ()), ("geometric_", (0.3,)), ("log_normal_", ()),
    ("cauchy_", ()), ("random_", ()), ("random_", (5,)), ("random_", (1, 5)), ("bernoulli_", ()),
    ("bernoulli_", ("p tensor",)),
]


@pytest.mark.parametrize("name,args", SAMPLERS, ids=[f"{n}{a}" for n, a in SAMPLERS])
def test_in_place_samplers_record_pytorchs_node_with_a_zero_gradient(name, args):
    results = {}
    for lib in (torch, plugrad):
        x = lib.ones(2, 3, dtype=lib.float64, requires_grad=True)
        y = x * 2
        a = tuple(lib.full((2, 3), 0.5, dtype=lib.float64) if v == "p tensor" else v for v in args)
        assert getattr(y, name)(*a) is y
        (grad,) = lib.autograd.grad(y.sum(), x)
        results[lib] = (type(y.grad_fn).__name__, str(y.dtype).split(".")[-1], tuple(y.shape), grad.tolist())
        with pytest.raises(RuntimeError):   # a leaf that requires grad cannot be overwritten
            getattr(x, name)(*a)
    assert results[plugrad] == results[torch]


def _outcome(lib, dtype, name, args):
    """``(dtype, shape)`` after the sampler, or the class of the exception it raised."""
    x = lib.zeros(3, 2, dtype=getattr(lib, dtype))
    a = tuple(lib.full((3, 2), 0.5) if v == "p tensor" else v for v in args)
    try:
        getattr(x, name)(*a)
    except Exception as exc:   # the class is what is compared
        return type(exc)
    return str(x.dtype).split(".")[-1], tuple(x.shape)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "int8", "uint8", "bool"])
@pytest.mark.parametrize("name,args", SAMPLERS, ids=[f"{n}{a}" for n, a in SAMPLERS])
def test_samplers_keep_the_dtype_or_refuse_it_as_pytorch(name, args, dtype):
    assert _outcome(plugrad, dtype, name, args) == _outcome(torch, dtype, name, args)


def test_bernoulli_and_multinomial_dtypes_and_autograd_match_pytorch():
    for lib in (torch, plugrad):
        p = lib.full((4,), 0.5, dtype=lib.float64, requires_grad=True)
        r = lib.bernoulli(p)
        assert r.dtype == lib.float64 and type(r.grad_fn).__name__ == "BernoulliBackward0"
        (g,) = lib.autograd.grad(r.sum(), p)
        assert g.tolist() == [0.0] * 4
        m = lib.multinomial(p, 2)
        assert m.dtype == lib.int64 and not m.requires_grad and tuple(m.shape) == (2,)
        assert tuple(lib.multinomial(lib.ones(3, 5), 4, True).shape) == (3, 4)


BAD = [
    ("multinomial 3-d", lambda L: L.multinomial(L.ones(2, 2, 2), 1)),
    ("multinomial ints", lambda L: L.multinomial(L.tensor([1, 2]), 1)),
    ("multinomial no samples", lambda L: L.multinomial(L.ones(3), 0)),
    ("multinomial too many", lambda L: L.multinomial(L.ones(3), 4)),
    ("multinomial negative", lambda L: L.multinomial(L.tensor([1.0, -1.0]), 1)),
    ("multinomial nan", lambda L: L.multinomial(L.tensor([1.0, float("nan")]), 1)),
    ("multinomial inf", lambda L: L.multinomial(L.tensor([1.0, float("inf")]), 1)),
    ("multinomial zero sum", lambda L: L.multinomial(L.zeros(2, 3), 1, True)),
    ("multinomial generator", lambda L: L.multinomial(L.ones(3), 1, generator=3)),
    ("bernoulli p above 1", lambda L: L.bernoulli(L.tensor([0.5, 1.5]))),
    ("bernoulli ints", lambda L: L.bernoulli(L.tensor([0, 1]))),
    ("bernoulli float p", lambda L: L.bernoulli(L.ones(2), 2.0)),
    ("normal_ std", lambda L: L.zeros(3).normal_(0.0, -1.0)),
    ("normal_ ints", lambda L: L.zeros(3, dtype=L.int64).normal_()),
    ("uniform_ range", lambda L: L.zeros(3).uniform_(2.0, 1.0)),
    ("uniform_ ints", lambda L: L.zeros(3, dtype=L.int64).uniform_()),
    ("exponential_ lambda", lambda L: L.zeros(3).exponential_(0.0)),
    ("exponential_ ints", lambda L: L.zeros(3, dtype=L.int64).exponential_()),
    ("geometric_ p", lambda L: L.zeros(3).geometric_(1.0)),
    ("log_normal_ std", lambda L: L.zeros(3).log_normal_(1.0, 0.0)),
    ("log_normal_ ints", lambda L: L.zeros(3, dtype=L.int64).log_normal_()),
    ("cauchy_ sigma", lambda L: L.zeros(3).cauchy_(0.0, 0.0)),
    ("cauchy_ ints", lambda L: L.zeros(3, dtype=L.int64).cauchy_()),
    ("random_ range", lambda L: L.zeros(3).random_(3, 1)),
    ("random_ to 0", lambda L: L.zeros(3).random_(0)),
    ("bernoulli_ p", lambda L: L.zeros(3).bernoulli_(2.0)),
    ("bernoulli_ p tensor", lambda L: L.zeros(3).bernoulli_(L.tensor([0.5, 2.0, 0.1]))),
    ("bernoulli_ expanded", lambda L: L.zeros(1).expand(3).bernoulli_(0.5)),
]


@pytest.mark.parametrize("case", BAD, ids=[c[0] for c in BAD])
def test_bad_arguments_raise_pytorchs_exception(case):
    _, call = case
    with pytest.raises(Exception) as want:
        call(torch)
    with pytest.raises(Exception) as got:
        call(plugrad)
    assert type(got.value) is type(want.value), (got.value, want.value)


def test_a_refused_sampler_leaves_the_tensor_unchanged(device):
    x = plugrad.arange(6.0, device=device)
    before = x.tolist()
    for call in (lambda: x.normal_(0.0, -1.0), lambda: x.uniform_(1.0, 0.0), lambda: x.random_(4, 2),
                 lambda: x.bernoulli_(plugrad.tensor([0.5, 2.0, 0.1, 0.2, 0.3, 0.4], device=device)),
                 lambda: x.geometric_(0.0)):
        with pytest.raises(RuntimeError):
            call()
        assert x.tolist() == before


def test_samplers_write_through_views(device):
    plugrad.manual_seed(2)
    base = plugrad.zeros(4, 6, device=device)
    column = base[:, 1]
    column.uniform_(5.0, 6.0)
    values = np.asarray(base.tolist())
    assert np.all((values[:, 1] >= 5.0) & (values[:, 1] < 6.0))
    values[:, 1] = 0
    assert np.all(values == 0)
    base.t()[2].random_(3, 4)           # column 2, through a transposed view
    assert base[:, 2].tolist() == [3.0] * 4 and base[:, 3:].abs().sum().item() == 0


def test_out_forms_of_multinomial_and_bernoulli(device):
    weights = plugrad.tensor([[0.0, 2.0, 0.0]], device=device)
    out = plugrad.empty(0, dtype=plugrad.int64, device=device)
    assert plugrad.multinomial(weights, 3, True, out=out) is out and out.tolist() == [[1, 1, 1]]
    target = plugrad.empty(3, device=device)
    assert plugrad.bernoulli(plugrad.tensor([1.0, 0.0, 1.0], device=device), out=target) is target
    assert target.tolist() == [1.0, 0.0, 1.0]


def test_float16_uniform_draws_stay_below_the_upper_bound(device):
    if "float16" not in {d.name for d in plugrad.plugins.backend_for(device).dtypes}:
        pytest.skip(f"{device} has no float16")
    v = _draws(device, lambda x: x.uniform_(), dtype=plugrad.float16, n=50000)
    assert v.min() >= 0 and v.max() < 1 and v.max() > 0.99
