"""The elementwise ops added for PyTorch's names (``acosh``... ``clamp_max``, the shift
operators) and the top-level in-place functions (``plugrad.exp_``) against PyTorch:
the same expression in both libraries, on every installed device, must give the same
values (edges included: infinities, NaN, signed zeros, subnormals), dtypes, ``grad_fn``
names, first and second derivatives, in-place and ``out=`` forms, and exceptions."""

from __future__ import annotations

import math

import numpy as np
import plugrad
import pytest
from hypothesis import given, settings, strategies as st

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch_oracle

EDGES = [0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 2.5, -3.0, 1e-310, -1e-310, math.inf, -math.inf, math.nan]


def _pair(values, device, dtype="float64", requires_grad=False):
    ours = plugrad.tensor(values, dtype=getattr(plugrad, dtype), device=device, requires_grad=requires_grad)
    theirs = torch.tensor(values, dtype=getattr(torch, dtype), requires_grad=requires_grad)
    return ours, theirs


def _same(ours, theirs, rtol=1e-12, atol=0.0, zero_signs=True):
    assert str(ours.dtype) == str(theirs.dtype)
    assert tuple(ours.shape) == tuple(theirs.shape)
    a = np.array(ours.tolist(), dtype=np.float64)
    b = theirs.detach().double().numpy()
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True)
    if zero_signs:   # values' signed zeros too (not gradients': PyTorch's formulas differ there)
        np.testing.assert_array_equal(np.signbit(a[(a == 0) & (b == 0)]), np.signbit(b[(a == 0) & (b == 0)]))


UNARY = ["acosh", "asinh", "atanh", "log10", "deg2rad", "rad2deg", "arccosh", "arcsinh", "arctanh", "fix",
         "signbit", "isposinf", "isneginf", "positive"]


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_unary_edges_match_torch(name, dtype, device):
    values = EDGES + [1.5, 7.0, 0.999, -0.999]
    if dtype == "float32":
        values = [v for v in values if v == 0 or not abs(v) < 1e-300]
    ours, theirs = _pair(values, device, dtype)
    rtol = 1e-6 if dtype == "float32" else 1e-12
    _same(getattr(plugrad, name)(ours), getattr(torch, name)(theirs), rtol=rtol)


@pytest.mark.parametrize("name", ["frac", "fix"])
def test_frac_and_fix(name, device):
    ours, theirs = _pair([2.75, -2.75, 0.5, -0.0, 3.0, math.inf, math.nan], device)
    _same(getattr(plugrad, name)(ours), getattr(torch, name)(theirs))


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
def test_integer_inputs(dtype, device):
    values = [0, 1, 3, 5] if dtype != "bool" else [True, False, True, True]
    ours, theirs = _pair(values, device, dtype)
    for name in ["asinh", "log10", "deg2rad", "rad2deg", "signbit", "isposinf", "isneginf"]:
        _same(getattr(plugrad, name)(ours), getattr(torch, name)(theirs), rtol=1e-6)
    if dtype != "bool":
        _same(plugrad.fix(ours), torch.fix(theirs))
        _same(plugrad.copysign(ours, -1), torch.copysign(theirs, -1), rtol=1e-6)


BINARY = [
    ("copysign", lambda m, a, b: m.copysign(a, b)),
    ("copysign number", lambda m, a, b: m.copysign(a, -2.0)),
    ("fmax", lambda m, a, b: m.fmax(a, b)),
    ("fmin", lambda m, a, b: m.fmin(a, b)),
    ("heaviside", lambda m, a, b: m.heaviside(a, b)),
    ("arctan2", lambda m, a, b: m.arctan2(a, b)),
    ("float_power", lambda m, a, b: m.float_power(a, b)),
    ("float_power number", lambda m, a, b: m.float_power(a, 2)),
    ("clamp_min", lambda m, a, b: m.clamp_min(a, b)),
    ("clamp_max number", lambda m, a, b: m.clamp_max(a, 0.5)),
]


@pytest.mark.parametrize("case", BINARY, ids=[c[0] for c in BINARY])
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_binary_edges_match_torch(case, dtype, device):
    _, expr = case
    a_values = [v for v in EDGES if dtype == "float64" or v == 0 or not abs(v) < 1e-300]
    rng = np.random.default_rng(0)
    b_values = list(rng.permutation(np.array(a_values, dtype=np.float64)))
    a, ta = _pair(a_values, device, dtype)
    b, tb = _pair(b_values, device, dtype)
    rtol = {"float16": 1e-3, "float32": 1e-6, "float64": 1e-12}[dtype]
    _same(expr(plugrad, a, b), expr(torch, ta, tb), rtol=rtol)


INTEGER_CASES = [
    ("gcd", lambda m, a, b: m.gcd(a, b)),
    ("lcm", lambda m, a, b: m.lcm(a, b)),
    ("<<", lambda m, a, b: a << b),
    (">>", lambda m, a, b: a >> b),
    ("left number", lambda m, a, b: a << 3),
    ("right number", lambda m, a, b: m.bitwise_right_shift(a, 2)),
    ("number first", lambda m, a, b: m.bitwise_left_shift(3, b)),
    ("rlshift", lambda m, a, b: 3 << b),
]


@pytest.mark.parametrize("case", INTEGER_CASES, ids=[c[0] for c in INTEGER_CASES])
@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "int64"])
def test_integer_ops_match_torch(case, dtype, device):
    _, expr = case
    info = np.iinfo(dtype)
    rng = np.random.default_rng(1)
    a_values = [int(v) for v in rng.integers(max(info.min, -120), min(info.max, 120), 12)] + [0, 0, info.min, 7]
    b_values = [int(v) for v in rng.integers(0, 12, 12)] + [0, 5, 3, info.bits + 2]
    if "<<" in case[0] or ">>" in case[0] or "shift" in case[0] or "number" in case[0]:
        b_values[:3] = [info.bits - 1, info.bits, min(info.max, info.bits * 3)]
    a, ta = _pair(a_values, device, dtype)
    b, tb = _pair(b_values, device, dtype)
    ours, theirs = expr(plugrad, a, b), expr(torch, ta, tb)
    assert str(ours.dtype) == str(theirs.dtype)
    assert ours.tolist() == theirs.tolist()


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(-2 ** 31, 2 ** 31 - 1), min_size=1, max_size=8),
       st.lists(st.integers(-2 ** 31, 2 ** 31 - 1), min_size=1, max_size=8))
def test_gcd_lcm_any_int64(xs, ys):
    n = min(len(xs), len(ys))
    a, b = plugrad.tensor(xs[:n]), plugrad.tensor(ys[:n])
    ta, tb = torch.tensor(xs[:n]), torch.tensor(ys[:n])
    assert plugrad.gcd(a, b).tolist() == torch.gcd(ta, tb).tolist()
    assert plugrad.lcm(a, b).tolist() == torch.lcm(ta, tb).tolist()


REFUSED = [
    ("gcd of floats", lambda m: m.gcd(m.tensor([1.0]), m.tensor([2.0]))),
    ("lcm of bools", lambda m: m.lcm(m.tensor([True]), m.tensor([True]))),
    ("shift of floats", lambda m: m.tensor([1.0]) << 1),
    ("shift of bools", lambda m: m.bitwise_right_shift(m.tensor([True]), m.tensor([True]))),
    ("frac of ints", lambda m: m.frac(m.tensor([1]))),
    ("fmax number", lambda m: m.fmax(m.tensor([1.0]), 2.0)),
    ("copysign number first", lambda m: m.copysign(2.0, m.tensor([1.0]))),
    ("ldexp number", lambda m: m.ldexp(m.tensor([1.0]), 2)),
    ("heaviside dtypes", lambda m: m.heaviside(m.tensor([1.0]), m.tensor([1.0], dtype=m.float64))),
    ("positive bool", lambda m: m.positive(m.tensor([True]))),
    ("float_power_ float32", lambda m: m.tensor([1.0]).float_power_(2)),
]


@pytest.mark.parametrize("case", REFUSED, ids=[c[0] for c in REFUSED])
def test_refusals_match_torch(case):
    _, expr = case
    with pytest.raises(Exception) as theirs:
        expr(torch)
    with pytest.raises(Exception) as ours:
        expr(plugrad)
    assert isinstance(ours.value, type(theirs.value)) or type(theirs.value) in type(ours.value).__mro__


GRADS = [
    ("acosh", lambda m, a, b: m.acosh(a * a + 1.5)),
    ("asinh", lambda m, a, b: m.asinh(a)),
    ("atanh", lambda m, a, b: m.atanh(a / 4)),
    ("log10", lambda m, a, b: m.log10(a * a + 0.5)),
    ("deg2rad", lambda m, a, b: m.deg2rad(a)),
    ("rad2deg", lambda m, a, b: m.rad2deg(a)),
    ("frac", lambda m, a, b: m.frac(a)),
    ("copysign", lambda m, a, b: m.copysign(a, b)),
    ("copysign number", lambda m, a, b: m.copysign(a, -1.0)),
    ("fmax", lambda m, a, b: m.fmax(a, b)),
    ("fmin", lambda m, a, b: m.fmin(a, b)),
    ("ldexp", lambda m, a, b: m.ldexp(a, b.round())),
    ("float_power", lambda m, a, b: m.float_power(a * a + 0.5, b)),
    ("float_power number", lambda m, a, b: m.float_power(a, 3)),
    ("clamp_min", lambda m, a, b: m.clamp_min(a, b)),
    ("clamp_max", lambda m, a, b: m.clamp_max(a, b)),
    ("clamp_min number", lambda m, a, b: m.clamp_min(a, 0.25)),
    ("clamp_max number", lambda m, a, b: m.clamp_max(a, 0.25)),
]


@pytest.mark.parametrize("case", GRADS, ids=[c[0] for c in GRADS])
def test_grad_fn_and_derivatives_match_torch(case, device):
    _, expr = case
    a_values, b_values = [0.3, -1.7, 2.2, -0.4, 1.1], [1.2, -0.6, -2.5, 0.9, 1.1]
    a, ta = _pair(a_values, device, requires_grad=True)
    b, tb = _pair(b_values, device, requires_grad=True)
    ours, theirs = expr(plugrad, a, b), expr(torch, ta, tb)
    assert type(ours.grad_fn).__name__ == type(theirs.grad_fn).__name__
    _same(ours, theirs)
    inputs = [x for x in (a, b) if x.requires_grad]
    weights = [0.5, -1.0, 2.0, 1.5, -0.25]
    g_ours = plugrad.autograd.grad((ours * plugrad.tensor(weights, dtype=plugrad.float64, device=device)).sum(),
                                   inputs, create_graph=True, allow_unused=True)
    g_theirs = torch.autograd.grad((theirs * torch.tensor(weights, dtype=torch.float64)).sum(), [ta, tb],
                                   create_graph=True, allow_unused=True)
    for go, gt in zip(g_ours, g_theirs):
        if gt is None:
            assert go is None or not bool(go.any())
            continue
        _same(go, gt, rtol=1e-10, atol=1e-12, zero_signs=False)
        if gt.requires_grad and go is not None and go.requires_grad:
            (gg_ours,) = plugrad.autograd.grad(go.sum(), [a], allow_unused=True, retain_graph=True)
            (gg_theirs,) = torch.autograd.grad(gt.sum(), [ta], allow_unused=True, retain_graph=True)
            if gg_theirs is not None and gg_ours is not None:
                _same(gg_ours, gg_theirs, rtol=1e-9, atol=1e-12, zero_signs=False)


def test_heaviside_records_like_torch():
    x = plugrad.tensor([1.0, 0.0], requires_grad=True)
    tx = torch.tensor([1.0, 0.0], requires_grad=True)
    ours, theirs = plugrad.heaviside(x, x), torch.heaviside(tx, tx)
    assert type(ours.grad_fn).__name__ == type(theirs.grad_fn).__name__ == "NotImplemented"
    with pytest.raises(RuntimeError):
        theirs.sum().backward()
    with pytest.raises(RuntimeError):
        ours.sum().backward()


INPLACE = ["acosh_", "asinh_", "atanh_", "log10_", "arccosh_", "arcsinh_", "arctanh_", "deg2rad_", "rad2deg_",
           "fix_", "frac_", "copysign_", "ldexp_", "clamp_min_", "clamp_max_", "arctan2_", "heaviside_",
           "float_power_", "gcd_", "lcm_", "bitwise_left_shift_", "bitwise_right_shift_"]


@pytest.mark.parametrize("name", INPLACE)
def test_inplace_methods_match_torch(name, device):
    integer = name in ("gcd_", "lcm_", "bitwise_left_shift_", "bitwise_right_shift_")
    dtype = "int64" if integer else "float64"
    a_values = [12, 5, 0, 9] if integer else [1.5, 0.25, -0.5, 3.0]
    b_values = [8, 3, 4, 2] if integer else [2.0, -1.0, 1.0, 2.0]
    if name in ("acosh_", "arccosh_"):
        a_values = [1.5, 2.0, 4.0, 1.0]
    if name in ("atanh_", "arctanh_"):
        a_values = [0.5, -0.25, 0.0, 0.75]
    a, ta = _pair(a_values, device, dtype)
    b, tb = _pair(b_values, device, dtype)
    takes_other = name not in ("acosh_", "asinh_", "atanh_", "log10_", "arccosh_", "arcsinh_", "arctanh_",
                               "deg2rad_", "rad2deg_", "fix_", "frac_")
    r = getattr(a, name)(*((b,) if takes_other else ()))
    getattr(ta, name)(*((tb,) if takes_other else ()))
    assert r is a
    _same(a, ta)


def test_out_and_operators(device):
    a, ta = _pair([1.5, -2.0, 0.0], device)
    out = plugrad.empty(0, dtype=plugrad.float64, device=device)
    assert plugrad.log10(a.abs() + 1, out=out) is out
    _same(out, torch.log10(ta.abs() + 1))
    for name in ["copysign", "fmax", "ldexp", "clamp_min", "heaviside"]:
        out = plugrad.empty(3, dtype=plugrad.float64, device=device)
        b, tb = _pair([1.0, -1.0, 2.0], device)
        assert getattr(plugrad, name)(a, b, out=out) is out
        _same(out, getattr(torch, name)(ta, tb))
    x, tx = _pair([1, 2, 3], device, "int64")
    x <<= 2
    tx <<= 2
    assert x.tolist() == tx.tolist()
    x >>= 1
    tx >>= 1
    assert x.tolist() == tx.tolist()
    assert plugrad.positive(a) is a


PUBLIC_INPLACE = ["abs_", "exp_", "relu_", "sigmoid_", "arccos_", "clamp_", "fix_", "deg2rad_", "gcd_", "ldexp_"]


@pytest.mark.parametrize("name", PUBLIC_INPLACE)
def test_top_level_inplace_functions(name, device):
    assert hasattr(torch, name) and hasattr(plugrad, name)
    integer = name == "gcd_"
    a, ta = _pair([4, 6, 9] if integer else [0.25, -0.5, 0.75], device, "int64" if integer else "float64")
    extra = {"clamp_": (0.0, 0.5), "gcd_": "other", "ldexp_": "other"}.get(name, ())
    if extra == "other":
        b, tb = _pair([6, 4, 3] if integer else [1.0, 2.0, -1.0], device, "int64" if integer else "float64")
        r, tr = getattr(plugrad, name)(a, b), getattr(torch, name)(ta, tb)
    else:
        r, tr = getattr(plugrad, name)(a, *extra), getattr(torch, name)(ta, *extra)
    assert r is a and tr is ta
    _same(a, ta)


def test_only_torchs_inplace_functions_are_exported():
    """Every ``plugrad.<name>_`` function of a declared op exists in torch, and none of
    add_/mul_ (which torch lacks) is exported."""
    from plugrad.ops.declare import DECLARATIONS
    for d in DECLARATIONS.values():
        for n in d.public_inplace:
            assert hasattr(torch, n), n
    assert not hasattr(plugrad, "add_") and not hasattr(plugrad, "mul_")
