"""Elementwise math with broadcasting, operators and their reflected forms, unary
functions, clamp/where/maximum, products (mm, matmul, bmm, dot), cat/stack and the
comparisons. NumPy computing in the same dtype is the reference."""

from __future__ import annotations

import operator

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import plugrad
from tensor_api_support import assert_tensor_close, assert_tensor_equal, broadcastable_pairs, device_settings, \
    float_arrays, int_arrays, shapes

F32 = plugrad.float32

BINARY = [
    ("add", operator.add, plugrad.add, np.add),
    ("sub", operator.sub, plugrad.sub, np.subtract),
    ("mul", operator.mul, plugrad.mul, np.multiply),
    ("div", operator.truediv, plugrad.div, np.true_divide),
    ("maximum", None, plugrad.maximum, np.maximum),
    ("minimum", None, plugrad.minimum, np.minimum),
]
COMPARISONS = [
    ("eq", operator.eq, plugrad.eq, np.equal), ("ne", operator.ne, plugrad.ne, np.not_equal),
    ("lt", operator.lt, plugrad.lt, np.less), ("le", operator.le, plugrad.le, np.less_equal),
    ("gt", operator.gt, plugrad.gt, np.greater), ("ge", operator.ge, plugrad.ge, np.greater_equal),
]


def tensors(device, *arrays):
    return [plugrad.tensor(a, device=device) for a in arrays]


# ---- binary ops with broadcasting -----------------------------------------------------------------------

@pytest.mark.parametrize("name, op, fn, ref", BINARY, ids=[b[0] for b in BINARY])
@given(pair=broadcastable_pairs(), data=st.data())
@device_settings
def test_float_binary_ops_broadcast_like_numpy(device, name, op, fn, ref, pair, data):
    x = data.draw(float_arrays(pair[0]))
    y = data.draw(float_arrays(pair[1]).filter(lambda a: name != "div" or (a != 0).all()))
    tx, ty = tensors(device, x, y)
    expected = ref(x, y)
    assert_tensor_close(fn(tx, ty), expected, F32)
    if op is not None:
        assert_tensor_close(op(tx, ty), expected, F32)
        assert_tensor_close(getattr(tx, name)(ty), expected, F32)


@pytest.mark.parametrize("name, op, fn, ref", COMPARISONS, ids=[c[0] for c in COMPARISONS])
@given(pair=broadcastable_pairs(), data=st.data())
@device_settings
def test_comparisons_broadcast_and_give_bool(device, name, op, fn, ref, pair, data):
    x = data.draw(int_arrays(pair[0], lo=-3, hi=3))
    y = data.draw(float_arrays(pair[1], lo=-3, hi=3).map(np.round))
    tx, ty = tensors(device, x, y)
    expected = ref(x, y)
    for r in (op(tx, ty), fn(tx, ty), getattr(tx, name)(ty)):
        assert_tensor_equal(r, expected, plugrad.bool)
    assert_tensor_equal(op(tx, 1), ref(x, 1), plugrad.bool)


@given(pair=broadcastable_pairs(), data=st.data())
@device_settings
def test_integer_floor_division_and_remainder_follow_python(device, pair, data):
    x = data.draw(int_arrays(pair[0], lo=-20, hi=20))
    y = data.draw(int_arrays(pair[1], lo=-5, hi=5).filter(lambda a: (a != 0).all()))
    tx, ty = tensors(device, x, y)
    assert_tensor_equal(tx // ty, np.floor_divide(x, y), plugrad.int64)
    assert_tensor_equal(tx % ty, np.remainder(x, y), plugrad.int64)
    assert_tensor_equal(plugrad.fmod(tx, ty), np.fmod(x, y), plugrad.int64)
    assert_tensor_equal(tx / ty, (x / y).astype(np.float32), F32)


@given(pair=broadcastable_pairs(), data=st.data())
@device_settings
def test_float_floor_division_and_remainder(device, pair, data):
    x = data.draw(float_arrays(pair[0]))
    y = data.draw(float_arrays(pair[1]).filter(lambda a: (np.abs(a) > 0.1).all()))
    tx, ty = tensors(device, x, y)
    assert_tensor_close(tx // ty, np.floor_divide(x, y))
    assert_tensor_close(tx % ty, np.remainder(x, y), atol=1e-4)


def test_integer_division_by_zero_raises_and_float_gives_inf(device):
    t = plugrad.tensor([2, -4, 0], device=device)
    for op in (operator.floordiv, operator.mod):
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            op(t, 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = np.array([2.0, -4.0, 0.0], np.float32) / np.float32(0)
    assert_tensor_equal(t / 0, expected, F32)
    assert_tensor_equal(t.float() / 0.0, expected, F32)


@pytest.mark.parametrize("scalar", [3, -2, 2.5, True])
@pytest.mark.parametrize("name", ["add", "sub", "mul", "truediv", "floordiv", "mod", "pow"])
def test_reflected_operators_with_python_scalars(device, scalar, name):
    if name == "sub" and scalar is True:
        return  # subtracting a bool is refused (tested in test_errors)
    x = np.array([[1.0, 2.0, 4.0], [0.5, 3.0, 8.0]], np.float32)
    t = plugrad.tensor(x, device=device)
    op = getattr(operator, name)
    s_np = np.float32(scalar)
    with np.errstate(invalid="ignore"):   # (-2) ** 0.5 is NaN, in NumPy's reference as in plugrad
        reflected, plain = op(s_np, x).astype(np.float32), op(x, s_np).astype(np.float32)
    assert_tensor_close(op(scalar, t), reflected, F32, rtol=1e-5, atol=1e-5)
    assert_tensor_close(op(t, scalar), plain, F32, rtol=1e-5, atol=1e-5)


def test_reflected_operators_on_int_tensors(device):
    x = np.array([1, 2, 3, 4])
    t = plugrad.tensor(x, device=device)
    assert_tensor_equal(10 - t, 10 - x, plugrad.int64)
    assert_tensor_equal(10 // t, 10 // x, plugrad.int64)
    assert_tensor_equal(10 % t, 10 % x, plugrad.int64)
    assert_tensor_equal(2 ** t, 2 ** x, plugrad.int64)
    assert_tensor_equal(2.0 ** t, (2.0 ** x).astype(np.float32), F32)
    assert_tensor_equal(1 / t, (1 / x).astype(np.float32), F32)
    assert_tensor_equal(t ** 2, x ** 2, plugrad.int64)
    assert_tensor_close(t ** 0.5, np.sqrt(x).astype(np.float32), F32)
    assert_tensor_equal(-t, -x, plugrad.int64)
    assert_tensor_equal(abs(-t), x, plugrad.int64)
    assert_tensor_equal(+t, x, plugrad.int64)
    assert_tensor_equal(~(t > 2), ~(x > 2), plugrad.bool)


@given(pair=broadcastable_pairs(), data=st.data())
@device_settings
def test_pow_with_tensor_exponent(device, pair, data):
    x = data.draw(hnp.arrays(np.float32, pair[0], elements=st.sampled_from([0.5, 1.0, 1.5, 2.0, 3.0])))
    y = data.draw(hnp.arrays(np.float32, pair[1], elements=st.sampled_from([-2.0, -0.5, 0.0, 1.0, 2.5])))
    tx, ty = tensors(device, x, y)
    assert_tensor_close(tx ** ty, np.power(x, y))
    assert_tensor_close(plugrad.pow(tx, ty), np.power(x, y))
    assert_tensor_close(tx.pow(2), np.power(x, 2))


@pytest.mark.parametrize("name", ["logical_and", "logical_or", "logical_xor"])
@given(pair=broadcastable_pairs(), data=st.data())
@device_settings
def test_logical_ops_on_any_dtype(device, name, pair, data):
    x = data.draw(int_arrays(pair[0], lo=-1, hi=1))
    y = data.draw(float_arrays(pair[1], lo=-1, hi=1).map(np.round))
    tx, ty = tensors(device, x, y)
    expected = getattr(np, name)(x, y)
    assert_tensor_equal(getattr(plugrad, name)(tx, ty), expected, plugrad.bool)
    assert_tensor_equal(getattr(tx, name)(ty), expected, plugrad.bool)
    assert_tensor_equal(plugrad.logical_not(tx), np.logical_not(x), plugrad.bool)


# ---- unary -------------------------------------------------------------------------------------------------

def np_sigmoid(x):
    return (1 / (1 + np.exp(-x.astype(np.float64)))).astype(np.float32)


UNARY = [
    ("neg", lambda x: -x, None), ("abs", np.abs, None), ("exp", np.exp, (-10, 10)), ("log", np.log, (0.015625, 100)),
    ("sqrt", np.sqrt, (0, 100)), ("sin", np.sin, None), ("cos", np.cos, None), ("tanh", np.tanh, None),
    ("sigmoid", np_sigmoid, None), ("relu", lambda x: np.maximum(x, 0), None),
]


@pytest.mark.parametrize("name, ref, domain", UNARY, ids=[u[0] for u in UNARY])
@given(shape=shapes(max_dims=3), data=st.data())
@device_settings
def test_unary_functions_match_numpy(device, name, ref, domain, shape, data):
    lo, hi = domain or (-50, 50)
    x = data.draw(float_arrays(shape, lo=lo, hi=hi))
    t = plugrad.tensor(x, device=device)
    expected = ref(x).astype(np.float32)
    assert_tensor_close(getattr(plugrad, name)(t), expected, F32, rtol=2e-6, atol=1e-6)
    assert_tensor_close(getattr(t, name)(), expected, F32, rtol=2e-6, atol=1e-6)


def test_unary_float_functions_promote_ints(device):
    x = np.array([0, 1, 2])
    t = plugrad.tensor(x, device=device)
    for name, ref in (("exp", np.exp), ("sqrt", np.sqrt), ("sin", np.sin), ("sigmoid", np_sigmoid)):
        assert_tensor_close(getattr(t, name)(), ref(x).astype(np.float32), F32)
    assert_tensor_equal(t.neg(), -x, plugrad.int64)
    assert_tensor_equal(t.abs(), x, plugrad.int64)
    assert_tensor_equal(t.relu(), x, plugrad.int64)


def test_special_values(device):
    with np.errstate(all="ignore"):
        x = np.array([-1.0, 0.0, np.inf, -np.inf, np.nan], np.float32)
        t = plugrad.tensor(x, device=device)
        assert_tensor_close(t.log(), np.log(x))
        assert_tensor_close(t.sqrt(), np.sqrt(x))
        assert_tensor_close(t.exp(), np.exp(x))
        assert_tensor_close(t.sigmoid(), np_sigmoid(x))
        assert_tensor_close(t.tanh(), np.tanh(x))


# ---- clamp / where / maximum ------------------------------------------------------------------------------

@given(shape=shapes(max_dims=3), lo=st.none() | st.floats(-5, 5), hi=st.none() | st.floats(-5, 5), data=st.data())
@device_settings
def test_clamp_matches_numpy(device, shape, lo, hi, data):
    x = data.draw(float_arrays(shape, lo=-10, hi=10))
    t = plugrad.tensor(x, device=device)
    if lo is None and hi is None:
        with pytest.raises(RuntimeError, match="At least one of 'min' or 'max' must not be None"):
            t.clamp()
        return
    expected = x
    if lo is not None:
        expected = np.maximum(expected, np.float32(lo))
    if hi is not None:
        expected = np.minimum(expected, np.float32(hi))  # min wins when min > max, as in PyTorch
    assert_tensor_close(t.clamp(lo, hi), expected, F32)
    assert_tensor_close(plugrad.clamp(t, min=lo, max=hi), expected, F32)


def test_clamp_with_tensor_bounds_and_int_tensors(device):
    x = np.array([[1, 5, 9], [-3, 4, 12]])
    t = plugrad.tensor(x, device=device)
    lo, hi = np.array([2, 2, 2]), np.array([[4], [10]])
    assert_tensor_equal(t.clamp(plugrad.tensor(lo, device=device), plugrad.tensor(hi, device=device)),
                        np.minimum(np.maximum(x, lo), hi), plugrad.int64)
    assert_tensor_equal(t.clamp(max=4), np.minimum(x, 4), plugrad.int64)
    assert_tensor_close(t.clamp(1.5, 4.5), np.clip(x, 1.5, 4.5).astype(np.float32), F32)


@given(shapes3=hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3), data=st.data())
@device_settings
def test_where_broadcasts_three_ways(device, shapes3, data):
    cs, xs, ys = shapes3.input_shapes
    c = data.draw(hnp.arrays(bool, cs))
    x = data.draw(float_arrays(xs))
    y = data.draw(int_arrays(ys))
    tc, tx, ty = tensors(device, c, x, y)
    expected = np.where(c, x, y.astype(np.float32))
    assert_tensor_equal(plugrad.where(tc, tx, ty), expected, F32)
    assert_tensor_equal(tx.where(tc, ty), expected, F32)
    assert_tensor_equal(plugrad.where(tc, tx, 0.5), np.where(c, x, np.float32(0.5)), F32)
    assert_tensor_equal(plugrad.where(tc, 1.0, 0), np.where(c, 1.0, 0.0).astype(np.float32), F32)


def test_where_with_only_a_condition_gives_indices(device):
    x = np.array([[0, 3], [2, 0]])
    got = plugrad.where(plugrad.tensor(x, device=device))
    for g, e in zip(got, np.nonzero(x)):
        assert_tensor_equal(g, e, plugrad.int64)


# ---- products ----------------------------------------------------------------------------------------------

@st.composite
def matmul_shapes(draw):
    """Operand shapes of every matmul case: 1-d/1-d, 2-d/1-d, batched with broadcasting."""
    m, k, n = draw(st.integers(0, 4)), draw(st.integers(1, 4)), draw(st.integers(0, 4))
    batch = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=3))
    a_kind, b_kind = draw(st.sampled_from(["vec", "mat", "batch"])), draw(st.sampled_from(["vec", "mat", "batch"]))
    a = (k,) if a_kind == "vec" else ((m, k) if a_kind == "mat" else batch.input_shapes[0] + (m, k))
    b = (k,) if b_kind == "vec" else ((k, n) if b_kind == "mat" else batch.input_shapes[1] + (k, n))
    return a, b


@given(matmul_shapes(), st.data())
@device_settings
def test_matmul_matches_numpy(device, ab, data):
    a_shape, b_shape = ab
    a = data.draw(float_arrays(a_shape, lo=-4, hi=4))
    b = data.draw(float_arrays(b_shape, lo=-4, hi=4))
    ta, tb = tensors(device, a, b)
    expected = np.matmul(a, b)
    assert_tensor_close(ta @ tb, expected, F32, rtol=1e-5, atol=1e-4)
    assert_tensor_close(plugrad.matmul(ta, tb), expected, F32, rtol=1e-5, atol=1e-4)


def test_mm_bmm_dot(device):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal((4, 5)).astype(np.float32)
    ta, tb = tensors(device, a, b)
    assert_tensor_close(plugrad.mm(ta, tb), a @ b, F32, atol=1e-5)
    assert_tensor_close(ta.mm(tb), a @ b, F32, atol=1e-5)
    ba, bb = rng.standard_normal((2, 3, 4)).astype(np.float32), rng.standard_normal((2, 4, 2)).astype(np.float32)
    assert_tensor_close(plugrad.bmm(*tensors(device, ba, bb)), ba @ bb, F32, atol=1e-5)
    v, w = rng.standard_normal(6).astype(np.float32), rng.standard_normal(6).astype(np.float32)
    tv, tw = tensors(device, v, w)
    assert_tensor_close(plugrad.dot(tv, tw), np.dot(v, w), F32, atol=1e-5)
    assert plugrad.dot(tv, tw).shape == ()
    iv = np.array([1, 2, 3])
    assert_tensor_equal(plugrad.dot(*tensors(device, iv, iv)), np.dot(iv, iv), plugrad.int64)
    assert_tensor_equal(plugrad.mm(*tensors(device, np.ones((2, 0), np.float32), np.ones((0, 3), np.float32))),
                        np.zeros((2, 3), np.float32))


def test_matmul_of_non_contiguous_operands(device):
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    t = plugrad.tensor(a, device=device)
    assert_tensor_close(t.t() @ t, a.T @ a, F32)
    assert_tensor_close(t[:, ::2].t() @ t[:, 1::2], a[:, ::2].T @ a[:, 1::2], F32)
    assert_tensor_close(t.unsqueeze(0).expand(2, 3, 4) @ t.t(), np.broadcast_to(a, (2, 3, 4)) @ a.T, F32)


# ---- cat / stack -----------------------------------------------------------------------------------------------

@given(shape=shapes(min_dims=1, max_dims=3), n=st.integers(1, 3), data=st.data())
@device_settings
def test_cat_matches_numpy_concatenate(device, shape, n, data):
    d = data.draw(st.integers(-len(shape), len(shape) - 1))
    arrays = []
    for _ in range(n):
        s = list(shape)
        s[d] = data.draw(st.integers(0, 3))
        arrays.append(data.draw(float_arrays(tuple(s))))
    ts = tensors(device, *arrays)
    expected = np.concatenate(arrays, axis=d)
    assert_tensor_equal(plugrad.cat(ts, d), expected, F32)
    assert_tensor_equal(plugrad.cat(tuple(ts), dim=d), expected, F32)


@given(shape=shapes(max_dims=3), n=st.integers(1, 3), data=st.data())
@device_settings
def test_stack_matches_numpy(device, shape, n, data):
    d = data.draw(st.integers(-len(shape) - 1, len(shape)))
    arrays = [data.draw(float_arrays(shape)) for _ in range(n)]
    assert_tensor_equal(plugrad.stack(tensors(device, *arrays), d), np.stack(arrays, axis=d), F32)


def test_cat_promotes_and_skips_legacy_empty_vectors(device):
    a, b = np.array([[1, 2]]), np.array([[0.5, 1.5]], np.float32)
    r = plugrad.cat(tensors(device, a, b))
    assert_tensor_equal(r, np.concatenate([a, b]).astype(np.float32), F32)
    assert_tensor_equal(plugrad.cat([plugrad.tensor(a, device=device), plugrad.zeros(0, device=device)]),
                        a.astype(np.float32), F32)


# ---- comparisons of whole tensors ----------------------------------------------------------------------------

@given(shape=shapes(max_dims=3), rtol=st.sampled_from([1e-5, 1e-3]), atol=st.sampled_from([1e-8, 1e-2]),
       data=st.data())
@device_settings
def test_allclose_and_isclose_match_numpy(device, shape, rtol, atol, data):
    x = data.draw(float_arrays(shape, lo=-10, hi=10))
    noise = data.draw(hnp.arrays(np.float32, shape, elements=st.sampled_from([0.0, 1e-6, 1e-3, 0.1])))
    y = x + noise
    tx, ty = tensors(device, x, y)
    assert plugrad.allclose(tx, ty, rtol=rtol, atol=atol) == np.allclose(x, y, rtol=rtol, atol=atol)
    assert tx.allclose(ty, rtol, atol) == np.allclose(x, y, rtol=rtol, atol=atol)
    assert_tensor_equal(plugrad.isclose(tx, ty, rtol=rtol, atol=atol), np.isclose(x, y, rtol=rtol, atol=atol))


def test_allclose_nan_handling_and_equal(device):
    x = plugrad.tensor([1.0, float("nan")], device=device)
    assert not plugrad.allclose(x, x)
    assert plugrad.allclose(x, x, equal_nan=True)
    a = plugrad.tensor([1, 2], device=device)
    assert plugrad.equal(a, plugrad.tensor([1, 2], device=device)) is True
    assert plugrad.equal(a, plugrad.tensor([1, 3], device=device)) is False
    assert plugrad.equal(a, plugrad.tensor([1, 2, 3], device=device)) is False
    assert a.equal(a.clone())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sign_of_nan_is_zero_and_of_signed_zero_is_zero(device, dtype):
    dt = getattr(plugrad, dtype)
    if dt not in plugrad.zeros(1, device=device)._backend.dtypes:
        pytest.skip(f"{device} has no {dtype}")
    values = [float("nan"), -0.0, 0.0, 2.5, -3.0, float("inf"), float("-inf")]
    expected = [0.0 if (v != v or v == 0) else (1.0 if v > 0 else -1.0) for v in values]
    got = plugrad.tensor(values, dtype=dt, device=device).sign().tolist()
    assert got == expected
