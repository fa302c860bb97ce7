"""Reductions with dim/keepdim (sum, mean, prod, max, min, amax, amin, argmax, argmin,
var, std, all, any), scans (cumsum, cumprod), softmax/log_softmax, and their dtype
rules. NumPy is the reference (float64 math, compared with a float32 tolerance)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import plugrad
from tensor_api_support import ALL_DTYPES, assert_tensor_close, assert_tensor_equal, device_settings, dims_of, \
    float_arrays, int_arrays, np_dtype, shapes

F32 = plugrad.float32


def quiet(fn, *args, **kwargs):
    """NumPy's result, without its warnings about empty slices or ddof >= n."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def axis_of(dim, ndim=1):
    """A dim argument as NumPy's axis (a 0-d tensor accepts dim 0 or -1; NumPy wants None)."""
    if ndim == 0:
        return None
    return tuple(dim) if isinstance(dim, (tuple, list)) else dim


def reduces_something_empty(shape, dim) -> bool:
    if dim is None:
        return 0 in shape
    dims = dim if isinstance(dim, tuple) else (dim,)
    return any(shape[d] == 0 for d in dims) if shape else False


@st.composite
def reduction_case(draw, max_dims=4):
    shape = draw(shapes(max_dims=max_dims, max_side=4))
    return shape, draw(dims_of(len(shape))), draw(st.booleans())


# ---- sum / mean / prod / var / std ------------------------------------------------------------------

@pytest.mark.parametrize("name, ref", [("sum", np.sum), ("mean", np.mean), ("prod", np.prod)])
@given(case=reduction_case(), data=st.data())
@device_settings
def test_float_reductions_match_numpy(device, name, ref, case, data):
    shape, dim, keepdim = case
    if name == "prod" and isinstance(dim, tuple):
        dim = dim[0]  # prod takes one dim
    x = data.draw(float_arrays(shape, lo=-2, hi=2))
    t = plugrad.tensor(x, device=device)
    expected = quiet(ref, x.astype(np.float64), axis=axis_of(dim, len(shape)), keepdims=keepdim).astype(np.float32)
    kwargs = {} if dim is None else {"dim": dim, "keepdim": keepdim}
    if dim is None and keepdim:
        expected = quiet(ref, x.astype(np.float64)).astype(np.float32)  # PyTorch has no keepdim without dim
    assert_tensor_close(getattr(t, name)(**kwargs), expected, F32, rtol=1e-5, atol=1e-5)
    assert_tensor_close(getattr(plugrad, name)(t, **kwargs), expected, F32, rtol=1e-5, atol=1e-5)


@given(case=reduction_case(), data=st.data())
@device_settings
def test_integer_sums_are_exact_int64(device, case, data):
    shape, dim, keepdim = case
    x = data.draw(int_arrays(shape, dtype=np.int32, lo=-1000, hi=1000))
    t = plugrad.tensor(x, device=device)
    r = t.sum() if dim is None else t.sum(dim, keepdim=keepdim)
    expected = np.sum(x.astype(np.int64), axis=axis_of(dim, len(shape)), keepdims=keepdim and dim is not None)
    assert_tensor_equal(r, expected, plugrad.int64)


@pytest.mark.parametrize("name, ref", [("var", np.var), ("std", np.std)])
@given(case=reduction_case(), correction=st.sampled_from([None, 0, 1, 2, "unbiased", "biased"]), data=st.data())
@device_settings
def test_var_and_std_match_numpy(device, name, ref, case, correction, data):
    shape, dim, keepdim = case
    x = data.draw(float_arrays(shape, lo=-10, hi=10))
    t = plugrad.tensor(x, device=device)
    kwargs = {"keepdim": keepdim} if dim is not None else {}
    if dim is not None:
        kwargs["dim"] = dim
    if correction == "unbiased":
        kwargs["unbiased"], ddof = True, 1
    elif correction == "biased":
        kwargs["unbiased"], ddof = False, 0
    elif correction is None:
        ddof = 1
    else:
        kwargs["correction"], ddof = correction, correction
    expected = quiet(ref, x.astype(np.float64), axis=axis_of(dim, len(shape)), ddof=ddof,
                     keepdims=keepdim and dim is not None)
    # n <= correction divides by zero: inf, or nan for 0/0, in both libraries
    assert_tensor_close(getattr(t, name)(**kwargs), np.asarray(expected), F32, rtol=1e-4, atol=1e-4)


def test_mean_and_var_need_floating_input():
    with pytest.raises(RuntimeError, match="mean"):
        plugrad.tensor([1, 2, 3]).mean()
    with pytest.raises(RuntimeError):
        plugrad.tensor([1, 2, 3]).var()
    assert_tensor_close(plugrad.tensor([1, 2, 4]).mean(dtype=plugrad.float64), np.mean([1, 2, 4]), plugrad.float64)


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_sum_and_prod_dtype_rules(dtype):
    x = np.array([[1, 0, 1], [1, 1, 0]]).astype(np_dtype(dtype))
    t = plugrad.tensor(x)
    acc = dtype if dtype.is_floating_point else plugrad.int64  # integers and bools accumulate in int64
    assert_tensor_equal(t.sum(), np.sum(x.astype(np_dtype(acc))), acc)
    assert_tensor_equal(t.sum(0), np.sum(x.astype(np_dtype(acc)), axis=0), acc)
    assert_tensor_equal(t.prod(1), np.prod(x.astype(np_dtype(acc)), axis=1), acc)
    assert t.sum(dtype=plugrad.float64).dtype is plugrad.float64


def test_reductions_of_empty_tensors():
    e = plugrad.zeros(0, 3)
    assert_tensor_equal(e.sum(), np.float32(0), F32)
    assert_tensor_equal(e.prod(), np.float32(1), F32)
    assert_tensor_equal(e.sum(0), np.zeros(3, np.float32), F32)
    assert np.isnan(e.mean().item())
    assert_tensor_equal(e.amax(1), np.zeros((0,), np.float32))
    for f in (lambda: e.max(), lambda: e.amax(0), lambda: e.argmax(), lambda: e.max(0)):
        with pytest.raises((RuntimeError, IndexError)):
            f()


# ---- max / min / argmax / argmin -----------------------------------------------------------------------

@st.composite
def distinct_values(draw, max_dims=4):
    """Arrays without ties, so that the index of the extreme is unique."""
    shape = draw(shapes(max_dims=max_dims, max_side=4))
    n = int(np.prod(shape))
    perm = draw(st.permutations(range(n)))
    return np.array(perm, dtype=np.float32).reshape(shape) - n / 2


@given(x=distinct_values(), data=st.data())
@device_settings
def test_max_min_with_dim_give_values_and_indices(device, x, data):
    t = plugrad.tensor(x, device=device)
    if x.ndim == 0:
        assert t.max(0).values.item() == x and t.max(0).indices.item() == 0
        return
    d = data.draw(st.integers(-x.ndim, x.ndim - 1))
    keepdim = data.draw(st.booleans())
    if x.shape[d] == 0:
        with pytest.raises((RuntimeError, IndexError)):
            t.max(d)
        return
    for name, vals, idxs in (("max", np.max, np.argmax), ("min", np.min, np.argmin)):
        r = getattr(t, name)(d, keepdim=keepdim)
        values, indices = r
        assert r.values is values and r.indices is indices
        assert_tensor_equal(values, vals(x, axis=d, keepdims=keepdim), F32)
        assert_tensor_equal(indices, idxs(x, axis=d, keepdims=keepdim), plugrad.int64)
        assert_tensor_equal(getattr(t, "arg" + name)(d, keepdim=keepdim), idxs(x, axis=d, keepdims=keepdim),
                            plugrad.int64)
        assert_tensor_equal(getattr(t, "a" + name)(d, keepdim=keepdim), vals(x, axis=d, keepdims=keepdim), F32)


@given(x=distinct_values())
@device_settings
def test_max_min_argmax_of_the_whole_tensor(device, x):
    t = plugrad.tensor(x, device=device)
    if x.size == 0:
        return
    assert_tensor_equal(t.max(), np.max(x), F32)
    assert_tensor_equal(t.min(), np.min(x), F32)
    assert_tensor_equal(t.argmax(), np.argmax(x), plugrad.int64)
    assert_tensor_equal(t.argmin(), np.argmin(x), plugrad.int64)
    assert_tensor_equal(plugrad.max(t), np.max(x), F32)


@given(case=reduction_case(), data=st.data())
@device_settings
def test_amax_amin_over_several_dims(device, case, data):
    shape, dim, keepdim = case
    x = data.draw(float_arrays(shape))
    t = plugrad.tensor(x, device=device)
    if reduces_something_empty(shape, dim) or (dim is None and x.size == 0):
        return
    kwargs = {"keepdim": keepdim} if dim is None else {"dim": dim, "keepdim": keepdim}
    assert_tensor_equal(t.amax(**kwargs), np.amax(x, axis=axis_of(dim, len(shape)), keepdims=keepdim), F32)
    assert_tensor_equal(t.amin(**kwargs), np.amin(x, axis=axis_of(dim, len(shape)), keepdims=keepdim), F32)


def test_max_keeps_the_dtype_and_propagates_nan():
    t = plugrad.tensor([[3, 1], [2, 7]], dtype=plugrad.int16)
    assert_tensor_equal(t.max(), np.int16(7), plugrad.int16)
    assert_tensor_equal(t.max(1).values, np.array([3, 7], np.int16), plugrad.int16)
    assert np.isnan(plugrad.tensor([1.0, float("nan"), 2.0]).max().item())
    with pytest.raises(RuntimeError, match="bool"):
        plugrad.tensor([True, False]).argmax()


def test_max_min_of_two_tensors_are_elementwise():
    a, b = np.array([1.0, 5.0, 3.0], np.float32), np.array([4.0, 2.0, 3.0], np.float32)
    assert_tensor_equal(plugrad.max(plugrad.tensor(a), plugrad.tensor(b)), np.maximum(a, b))
    assert_tensor_equal(plugrad.tensor(a).min(plugrad.tensor(b)), np.minimum(a, b))


# ---- all / any --------------------------------------------------------------------------------------------

@given(case=reduction_case(), data=st.data())
@device_settings
def test_all_any_match_numpy(device, case, data):
    shape, dim, keepdim = case
    if isinstance(dim, tuple):
        dim = dim[0]
    x = data.draw(hnp.arrays(np.float32, shape, elements=st.sampled_from([0.0, 1.0, -2.5])))
    t = plugrad.tensor(x, device=device)
    kwargs = {} if dim is None else {"dim": dim, "keepdim": keepdim}
    np_kwargs = {} if dim is None else {"axis": dim, "keepdims": keepdim}
    assert_tensor_equal(t.all(**kwargs), np.all(x, **np_kwargs), plugrad.bool)
    assert_tensor_equal(t.any(**kwargs), np.any(x, **np_kwargs), plugrad.bool)
    assert_tensor_equal(plugrad.all(t, **kwargs), np.all(x, **np_kwargs), plugrad.bool)


def test_all_any_of_uint8_give_uint8():
    t = plugrad.tensor([[1, 0], [2, 3]], dtype=plugrad.uint8)
    assert_tensor_equal(t.all(1), np.all([[1, 0], [2, 3]], axis=1).astype(np.uint8), plugrad.uint8)
    assert_tensor_equal(t.any(), np.uint8(1), plugrad.uint8)


# ---- cumsum / cumprod -----------------------------------------------------------------------------------

@given(shape=shapes(min_dims=1, max_dims=3), data=st.data())
@device_settings
def test_cumsum_and_cumprod_match_numpy(device, shape, data):
    d = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = data.draw(float_arrays(shape, lo=-2, hi=2))
    t = plugrad.tensor(x, device=device)
    assert_tensor_close(t.cumsum(d), np.cumsum(x.astype(np.float64), axis=d), F32, atol=1e-4)
    assert_tensor_close(plugrad.cumsum(t, dim=d), np.cumsum(x.astype(np.float64), axis=d), F32, atol=1e-4)
    assert_tensor_close(t.cumprod(d), np.cumprod(x.astype(np.float64), axis=d), F32, atol=1e-4)
    xi = data.draw(int_arrays(shape, dtype=np.int8, lo=-5, hi=5))
    assert_tensor_equal(plugrad.tensor(xi, device=device).cumsum(d), np.cumsum(xi.astype(np.int64), axis=d),
                        plugrad.int64)


# ---- softmax / log_softmax --------------------------------------------------------------------------------

def np_log_softmax(x, axis):
    x = x.astype(np.float64)
    m = np.max(x, axis=axis, keepdims=True) if x.size else 0
    with np.errstate(divide="ignore"):  # an empty slice sums to 0: log gives -inf
        return x - m - np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))


@given(shape=shapes(min_dims=1, max_dims=3), data=st.data())
@device_settings
def test_softmax_and_log_softmax_match_numpy(device, shape, data):
    d = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = data.draw(float_arrays(shape, lo=-50, hi=50))
    t = plugrad.tensor(x, device=device)
    expected_log = np_log_softmax(x, d)
    assert_tensor_close(t.log_softmax(d), expected_log, F32, rtol=1e-5, atol=1e-4)
    assert_tensor_close(plugrad.log_softmax(t, dim=d), expected_log, F32, rtol=1e-5, atol=1e-4)
    assert_tensor_close(t.softmax(d), np.exp(expected_log), F32, rtol=1e-5, atol=1e-6)
    assert_tensor_close(plugrad.softmax(t, d), np.exp(expected_log), F32, rtol=1e-5, atol=1e-6)


def test_softmax_is_stable_for_large_inputs():
    x = np.array([1000.0, 1001.0, -1000.0], np.float32)
    assert_tensor_close(plugrad.tensor(x).softmax(0), np.exp(np_log_softmax(x, 0)))
    assert_tensor_close(plugrad.tensor(x).log_softmax(0), np_log_softmax(x, 0), atol=1e-4)


# ---- dims out of range ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("call", [lambda t: t.sum(3), lambda t: t.mean(-4), lambda t: t.max(2), lambda t: t.argmax(5),
                                  lambda t: t.cumsum(2), lambda t: t.softmax(-3), lambda t: t.var(2),
                                  lambda t: t.all(2), lambda t: t.sum((0, 7))])
def test_dim_out_of_range_is_an_index_error(call):
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-2, 1\]"):
        call(plugrad.zeros(2, 3))
