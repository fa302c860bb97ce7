"""The special functions (``plugrad.special``, ``erfc``, ``lgamma``, ``xlogy``, ``hypot``...)
against PyTorch: the same expression in both libraries, on every installed device,
must give the same values (edge values included: poles, infinities, NaN), the same
``grad_fn`` name, the same first and second derivatives, and the same exceptions."""

from __future__ import annotations

import math

import numpy as np
import plugrad
import pytest
from hypothesis import given, strategies as st

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch_oracle

#: edges of the gamma family and the error functions
EDGES = [0.0, -0.0, -1.0, -2.5, 0.5, 1.0, 3.0, 12.5, math.inf, -math.inf, math.nan]
PROBABILITIES = [0.0, 1.0, -0.0, 0.5, 0.999, -0.999, 0.25, 1.5, math.nan]


def _both(expr, arrays, device, dtype="float64", requires_grad=False):
    """``expr(lib, *tensors)`` in plugrad (on ``device``) and torch."""
    ours = [plugrad.tensor(a, dtype=getattr(plugrad, dtype), device=device, requires_grad=requires_grad)
            for a in arrays]
    theirs = [torch.tensor(a, dtype=getattr(torch, dtype), requires_grad=requires_grad) for a in arrays]
    return (expr(plugrad, *ours), ours), (expr(torch, *theirs), theirs)


def _close(ours, theirs, rtol=1e-9, atol=1e-12):
    assert str(ours.dtype) == str(theirs.dtype)
    np.testing.assert_allclose(np.array(ours.tolist(), dtype=float), theirs.detach().double().numpy(), rtol=rtol,
                               atol=atol, equal_nan=True)


UNARY_EDGE_CASES = [
    ("erfc", lambda m, x: m.erfc(x), EDGES),
    ("erfinv", lambda m, x: m.erfinv(x), PROBABILITIES),
    ("lgamma", lambda m, x: m.lgamma(x), EDGES),
    ("digamma", lambda m, x: m.digamma(x), EDGES),
    ("special.psi", lambda m, x: m.special.psi(x), EDGES),
    ("special.gammaln", lambda m, x: m.special.gammaln(x), EDGES),
    ("sinc", lambda m, x: m.sinc(x), EDGES),
    ("logit", lambda m, x: m.logit(x), PROBABILITIES),
    ("logit eps", lambda m, x: m.logit(x, eps=0.1), PROBABILITIES),
    ("special.entr", lambda m, x: m.special.entr(x), EDGES),
    ("special.ndtr", lambda m, x: m.special.ndtr(x), EDGES + [-20.0, 9.0]),
    ("special.ndtri", lambda m, x: m.special.ndtri(x), PROBABILITIES + [1e-10]),
    ("special.log_ndtr", lambda m, x: m.special.log_ndtr(x), EDGES + [-40.0, -15.0, 9.0]),
    ("special.erfcx", lambda m, x: m.special.erfcx(x), EDGES + [-30.0, 7.99, 8.01, 30.0, 1e10]),
    ("special.expit", lambda m, x: m.special.expit(x), EDGES),
    ("polygamma 1", lambda m, x: m.polygamma(1, x), [0.5, 1.0, 3.0, 12.5, -2.5, -0.25]),
    ("polygamma 2", lambda m, x: m.polygamma(2, x), [0.5, 1.0, 3.0, 12.5, 100.0, -2.5, -9.5, -40.25]),
    ("polygamma 3", lambda m, x: m.polygamma(3, x), [0.5, 3.0, -9.5, -20.25, -math.inf, math.nan]),
    ("polygamma 1 inf", lambda m, x: m.polygamma(1, x), [math.inf, -math.inf, math.nan, 2.0]),
    ("special.multigammaln", lambda m, x: m.special.multigammaln(x, 3), [1.5, 2.0, 7.25, 0.5, -0.75]),
    ("i0", lambda m, x: m.i0(x), EDGES + [19.5, 20.5, -35.0, 700.0, 800.0]),
    ("special.i0e", lambda m, x: m.special.i0e(x), EDGES + [19.5, 20.5, -35.0, 800.0]),
    ("special.i1", lambda m, x: m.special.i1(x), EDGES + [19.5, 20.5, -35.0, 700.0, -800.0]),
    ("special.i1e", lambda m, x: m.special.i1e(x), EDGES + [19.5, 20.5, -35.0, -800.0]),
]


@pytest.mark.parametrize("case", UNARY_EDGE_CASES, ids=[c[0] for c in UNARY_EDGE_CASES])
def test_edge_values_match_torch(case, device):
    _, expr, values = case
    (ours, _), (theirs, _) = _both(expr, [values], device)
    # ndtri's tails and digamma's reflection are ill-conditioned: a few ulps apart
    _close(ours, theirs, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("dtype", ["float32", "float16"])
@pytest.mark.parametrize("name", ["erfc", "erfinv", "lgamma", "digamma", "sinc", "logit"])
def test_narrow_floats_match_torch(name, dtype, device):
    values = [0.125, 0.5, 0.875, -0.375] if name in ("erfinv", "logit") else [0.25, 1.5, 3.0, -2.5, 7.0]
    (ours, _), (theirs, _) = _both(lambda m, x: getattr(m, name)(x), [values], device, dtype)
    _close(ours, theirs, rtol=3e-3 if dtype == "float16" else 3e-6, atol=1e-3 if dtype == "float16" else 1e-6)


@pytest.mark.parametrize("name", ["erfc", "erfinv", "lgamma", "digamma", "sinc", "logit"])
def test_integers_compute_in_the_default_float_dtype(name, device):
    (ours, _), (theirs, _) = _both(lambda m, x: getattr(m, name)(x), [[0, 1, 2]], device, "int64")
    _close(ours, theirs, rtol=1e-6, atol=1e-7)


BINARY_CASES = [
    ("xlogy", lambda m, a, b: m.xlogy(a, b)),
    ("special.xlogy", lambda m, a, b: m.special.xlogy(a, b)),
    ("xlog1py", lambda m, a, b: m.special.xlog1py(a, b)),
    ("logaddexp", lambda m, a, b: m.logaddexp(a, b)),
    ("logaddexp2", lambda m, a, b: m.logaddexp2(a, b)),
    ("hypot", lambda m, a, b: m.hypot(a, b)),
]


@pytest.mark.parametrize("case", BINARY_CASES, ids=[c[0] for c in BINARY_CASES])
def test_binary_edges_match_torch(case, device):
    _, expr = case
    a = [0.0, 0.0, 1.0, -2.0, math.inf, -math.inf, math.nan, 3.0, 1e300]
    b = [math.nan, 0.0, 0.0, 0.5, math.inf, -math.inf, 1.0, -1.0, 1e300]
    (ours, _), (theirs, _) = _both(expr, [a, b], device)
    _close(ours, theirs)


def _grads(lib, out, inputs, second):
    """First derivatives under a non-uniform upstream gradient; with ``second``, the
    derivatives of their weighted sum too."""
    weights = lib.linspace(0.5, 1.5, out.numel(), dtype=out.dtype).reshape(out.shape)
    if lib is plugrad:
        weights = weights.to(out.device)
    first = lib.autograd.grad((out * weights).sum(), inputs, create_graph=second)
    if not second:
        return first
    total = sum((g * (k + 1)).sum() for k, g in enumerate(first))
    if not total.requires_grad:   # the first derivatives do not depend on the inputs
        return first + (None,) * len(inputs)
    return first + lib.autograd.grad(total, inputs, allow_unused=True)


GRAD_CASES = [
    ("ErfcBackward0", lambda m, x: m.erfc(x), [[-1.5, 0.25, 2.0]]),
    ("ErfinvBackward0", lambda m, x: m.erfinv(x), [[-0.75, 0.125, 0.5]]),
    ("LgammaBackward0", lambda m, x: m.lgamma(x), [[-2.5, 0.25, 4.0]]),
    ("DigammaBackward0", lambda m, x: m.digamma(x), [[-2.5, 0.25, 4.0]]),
    ("PolygammaBackward0", lambda m, x: m.polygamma(2, x), [[0.75, 2.0, 9.0]]),
    ("PolygammaBackward0", lambda m, x: x.polygamma(1), [[-0.5, 2.0, 9.0]]),
    ("MvlgammaBackward0", lambda m, x: m.mvlgamma(x, 2), [[1.25, 3.0]]),
    ("LogitBackward0", lambda m, x: m.logit(x), [[0.125, 0.5, 0.75]]),
    ("LogitBackward0", lambda m, x: m.logit(x, 0.2), [[0.125, 0.5, 0.875]]),
    ("SincBackward0", lambda m, x: m.sinc(x), [[-1.25, 0.5, 2.5]]),
    ("XlogyBackward0", lambda m, a, b: m.xlogy(a, b), [[0.0, 1.5, -2.0], [0.5, 2.0, 3.0]]),
    ("XlogyBackward2", lambda m, a: m.xlogy(a, 2.5), [[0.0, 1.5, -2.0]]),
    ("XlogyBackward1", lambda m, b: m.xlogy(3, b), [[0.5, 2.0, 3.0]]),
    ("SpecialXlog1PyBackward0", lambda m, a, b: m.special.xlog1py(a, b), [[0.0, 1.5, -2.0], [-0.5, 2.0, 3.0]]),
    ("LogaddexpBackward0", lambda m, a, b: m.logaddexp(a, b), [[[0.0], [1.5]], [-0.5, 2.0, 3.0]]),
    ("Logaddexp2Backward0", lambda m, a, b: m.logaddexp2(a, b), [[0.0, 1.5, -2.0], [-0.5, 2.0, 3.0]]),
    ("HypotBackward0", lambda m, a, b: m.hypot(a, b), [[1.0, 1.5, -2.0], [-0.5, 2.0, 3.0]]),
    ("SpecialEntrBackward0", lambda m, x: m.special.entr(x), [[0.25, 1.0, 3.0]]),
    ("MulBackward1", lambda m, x: m.special.ndtr(x), [[-1.5, 0.25, 2.0]]),
    ("SpecialNdtriBackward0", lambda m, x: m.special.ndtri(x), [[0.125, 0.5, 0.75]]),
    ("SpecialLogNdtrBackward0", lambda m, x: m.special.log_ndtr(x), [[-8.0, 0.25, 2.0]]),
    ("SpecialErfcxBackward0", lambda m, x: m.special.erfcx(x), [[-2.0, 0.25, 9.0, 40.0]]),
    ("I0Backward0", lambda m, x: m.i0(x), [[-25.0, 0.0, 3.0]]),
    ("I0Backward0", lambda m, x: x.i0(), [[-2.0, 0.5, 30.0]]),
    ("SpecialI0EBackward0", lambda m, x: m.special.i0e(x), [[-25.0, 0.5, 3.0]]),
    ("SpecialI1Backward0", lambda m, x: m.special.i1(x), [[-25.0, 0.0, 3.0]]),
    ("SpecialI1EBackward0", lambda m, x: m.special.i1e(x), [[-25.0, 0.5, 30.0]]),
]


@pytest.mark.parametrize("case", GRAD_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(GRAD_CASES)])
def test_grad_fn_and_derivatives_match_torch(case, device):
    name, expr, arrays = case
    (ours, xs), (theirs, ts) = _both(expr, arrays, device, requires_grad=True)
    assert type(ours.grad_fn).__name__ == type(theirs.grad_fn).__name__ == name
    _close(ours, theirs)
    for g_ours, g_theirs in zip(_grads(plugrad, ours, xs, True), _grads(torch, theirs, ts, True)):
        if g_theirs is None or g_ours is None:   # no dependence: zero
            assert all(g is None or not bool((g != 0).any()) for g in (g_ours, g_theirs))
        else:
            _close(g_ours, g_theirs, rtol=1e-7, atol=1e-9)


@given(st.lists(st.floats(-30, 30, allow_nan=False, allow_subnormal=False), min_size=1, max_size=8))
def test_digamma_and_lgamma_match_torch_anywhere(values):
    for name in ("digamma", "lgamma", "erfc"):
        (ours, _), (theirs, _) = _both(lambda m, x, name=name: getattr(m, name)(x), [values], "cpu")
        _close(ours, theirs, rtol=1e-9, atol=1e-9)


@given(st.integers(1, 4), st.lists(st.floats(-30, 30, allow_nan=False, allow_subnormal=False), min_size=1,
                                   max_size=8))
def test_polygamma_matches_torch_anywhere(n, values):
    values = [v for v in values if abs(v - round(v)) > 1e-3] or [0.5]   # off the poles
    (ours, _), (theirs, _) = _both(lambda m, x: m.polygamma(n, x), [values], "cpu")
    _close(ours, theirs, rtol=1e-8, atol=1e-9)


@given(st.lists(st.floats(-60, 60, allow_nan=False, allow_subnormal=False), min_size=1, max_size=8),
       st.lists(st.floats(-60, 60, allow_nan=False, allow_subnormal=False), min_size=1, max_size=8))
def test_bessel_and_binary_functions_match_torch_anywhere(a, b):
    n = min(len(a), len(b))
    a, b = a[:n], b[:n]
    for name in ("i0", "i0e", "i1", "i1e"):
        (ours, _), (theirs, _) = _both(lambda m, x, name=name: getattr(m.special, name)(x), [a], "cpu")
        _close(ours, theirs, rtol=1e-11, atol=1e-300)
    for name in ("logaddexp", "logaddexp2", "hypot", "xlogy"):
        (ours, _), (theirs, _) = _both(lambda m, x, y, name=name: getattr(m, name)(x, y), [a, b], "cpu")
        _close(ours, theirs, rtol=1e-12, atol=1e-12)


@given(st.lists(st.floats(-1, 1, allow_nan=False), min_size=1, max_size=8))
def test_erfinv_matches_torch_anywhere(values):
    for device in ("cpu", "pylist"):
        if device not in plugrad.plugins.device_types():
            continue
        (ours, _), (theirs, _) = _both(lambda m, x: m.erfinv(x), [values], device)
        _close(ours, theirs, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16"])
def test_frexp_and_nextafter_are_exact(dtype, device):
    rng = np.random.default_rng(5)
    edges = [0.0, -0.0, 1.0, 0.75, -3.0, math.inf, -math.inf, math.nan, 1e-310, 1e-40, 6e-8, 65504.0, 1e308, 3.4e38,
             2.0 ** -1074]
    with np.errstate(over="ignore"):
        values = np.concatenate([edges, rng.standard_normal(60) * 10.0 ** rng.integers(-40, 40, 60)]).astype(dtype)
    x = plugrad.tensor(values, device=device)
    mantissa, exponent = plugrad.frexp(x)
    m_ref, e_ref = np.frexp(values)
    np.testing.assert_array_equal(np.array(mantissa.tolist(), dtype=dtype), m_ref)
    assert exponent.dtype == plugrad.int32 and exponent.tolist() == e_ref.tolist()
    targets = np.roll(values, 3)
    targets[:4] = [1.0, 2.0, math.nan, 0.0]
    ours = plugrad.nextafter(x, plugrad.tensor(targets, device=device))
    np.testing.assert_array_equal(np.array(ours.tolist(), dtype=dtype), np.nextafter(values, targets))
    if dtype != "float16":   # PyTorch has no float16 nextafter on the CPU
        _close(ours, torch.nextafter(torch.tensor(values), torch.tensor(targets)), rtol=0, atol=0)


def test_frexp_and_nextafter_autograd_match_torch():
    for lib in (plugrad, torch):
        x = lib.tensor([0.75, -3.0, 10.0], dtype=lib.float64, requires_grad=True)
        mantissa, exponent = lib.frexp(x)
        assert type(mantissa.grad_fn).__name__ == "FrexpBackward0"
        (grad,) = lib.autograd.grad(mantissa.sum(), x)
        assert grad.tolist() == [1.0, 0.25, 1 / 16]
        other = lib.tensor([1.0, 1.0, 1.0], dtype=lib.float64, requires_grad=True)
        r = lib.nextafter(x, other)
        assert type(r.grad_fn).__name__ == "NextafterBackward0"
        assert [g.tolist() for g in lib.autograd.grad(r.sum(), (x, other))] == [[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]]


def test_special_names_are_the_ops():
    s = plugrad.special
    assert s.expit is plugrad.ops.elementwise.sigmoid and s.gammaln is plugrad.ops.elementwise.lgamma
    assert s.psi is s.digamma and s.multigammaln is plugrad.ops.elementwise.mvlgamma
    for name in s.__all__:
        assert hasattr(torch.special, name), name
    x = plugrad.tensor([[1.0, 2.0], [3.0, 0.5]])
    t = torch.tensor([[1.0, 2.0], [3.0, 0.5]])
    _close(s.softmax(x, 1), torch.special.softmax(t, 1), rtol=1e-6)
    _close(s.log_softmax(x, 0), torch.special.log_softmax(t, 0), rtol=1e-6)
    _close(s.logsumexp(x, 1), torch.special.logsumexp(t, 1), rtol=1e-6)
    _close(s.round(x * 1.25), torch.special.round(t * 1.25))
    for name in ("erf", "erfc", "erfinv", "log1p", "expm1", "exp2", "sinc", "expit", "i0", "i0e", "i1", "i1e",
                 "erfcx"):
        _close(getattr(s, name)(x * 0.25), getattr(torch.special, name)(t * 0.25), rtol=1e-6)


@pytest.mark.parametrize("expr, exc", [
    (lambda m: m.polygamma(-1, m.tensor([1.0])), RuntimeError),
    (lambda m: m.mvlgamma(m.tensor([2.5]), 0), RuntimeError),
    (lambda m: m.hypot(m.tensor([3]), m.tensor([4])), NotImplementedError),
    (lambda m: m.logaddexp(m.tensor([3]), m.tensor([4])), NotImplementedError),
    (lambda m: m.logaddexp(m.tensor([3.0]), 2.0), TypeError),
    (lambda m: m.xlogy(m.tensor([3.0]), "x"), TypeError),
    (lambda m: m.erfc(None), TypeError),
    (lambda m: m.frexp(m.tensor([1, 2])), RuntimeError),
    (lambda m: m.nextafter(m.tensor([1.0]), 2.0), TypeError),
    (lambda m: m.nextafter(m.tensor([1]), m.tensor([2])), NotImplementedError),
])
def test_errors_match_torch(expr, exc):
    with pytest.raises(exc):
        expr(torch)
    with pytest.raises(exc):
        expr(plugrad)


def test_in_place_and_out_forms(device):
    x = plugrad.tensor([0.25, 0.5, 0.75], dtype=plugrad.float64, device=device)
    t = torch.tensor([0.25, 0.5, 0.75], dtype=torch.float64)
    for name in ("erfc_", "erfinv_", "lgamma_", "digamma_", "sinc_", "logit_", "i0_"):
        _close(getattr(x.clone(), name)(), getattr(t.clone(), name)())
    _close(x.clone().polygamma_(1), t.clone().polygamma_(1))
    _close(x.clone().xlogy_(2.0), t.clone().xlogy_(2.0))
    _close(x.clone().hypot_(x), t.clone().hypot_(t))
    out = plugrad.empty(3, dtype=plugrad.float64, device=device)
    assert plugrad.erfc(x, out=out) is out
    _close(out, torch.erfc(t))
    assert plugrad.polygamma(2, x, out=out) is out
    _close(out, torch.polygamma(2, t))
    before = x.clone()
    with pytest.raises(RuntimeError):
        x.to(plugrad.int64).erfc_()   # a float result cannot be written into an int tensor
    assert bool((x == before).all())
