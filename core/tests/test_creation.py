"""Creating tensors: from data, from NumPy, the factories, their dtype/device/requires_grad
arguments and seeded randomness. Expected values come from NumPy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

import plugrad
from tensor_api_support import ALL_DTYPES, FLOAT_DTYPES, INT_DTYPES, assert_tensor_close, assert_tensor_equal, \
    device_settings, np_dtype, shapes, to_np


# ---- tensor() from Python data ----------------------------------------------------------------

def nested(shape, leaf):
    """Nested lists of ``shape`` whose leaves are drawn from ``leaf``."""
    if not shape:
        return leaf
    inner = nested(shape[1:], leaf)
    return st.lists(inner, min_size=shape[0], max_size=shape[0])


@given(shapes(max_dims=3, max_side=4).flatmap(lambda s: nested(s, st.integers(-2 ** 40, 2 ** 40))))
@device_settings
def test_nested_int_lists_give_int64(device, data):
    t = plugrad.tensor(data, device=device)
    expected = np.array(data, dtype=np.int64)
    # without a single number there is nothing to infer from: the default float dtype
    assert_tensor_equal(t, expected, plugrad.int64 if expected.size else plugrad.float32)
    assert t.device.type == device


@given(shapes(min_dims=1, max_dims=3, min_side=1, max_side=4).flatmap(
    lambda s: nested(s, st.floats(-1e6, 1e6, allow_nan=False))))
@device_settings
def test_nested_float_lists_give_float32(device, data):
    t = plugrad.tensor(data, device=device)
    assert_tensor_equal(t, np.array(data, dtype=np.float32), plugrad.float32)


@given(shapes(max_dims=3, max_side=4).flatmap(lambda s: nested(s, st.booleans())))
@device_settings
def test_nested_bool_lists_give_bool(device, data):
    expected = np.array(data, dtype=bool)
    assert_tensor_equal(plugrad.tensor(data, device=device), expected, plugrad.bool if expected.size else
                        plugrad.float32)


@pytest.mark.parametrize("data, expected", [
    ([1, 2.5], plugrad.float32), ([True, 2], plugrad.int64), ([True, 2.0], plugrad.float32),
    ([[1], [2]], plugrad.int64), (3, plugrad.int64), (3.0, plugrad.float32), (False, plugrad.bool),
    ([], plugrad.float32), ([[], []], plugrad.float32),
])
def test_mixed_python_data_promotes(data, expected):
    t = plugrad.tensor(data)
    assert t.dtype is expected
    assert_tensor_equal(t, np.array(data, dtype=np_dtype(expected)))


@pytest.mark.parametrize("value", [0, -7, 2.5, True, -0.0, math.inf])
def test_python_scalars_give_zero_dim_tensors(value):
    t = plugrad.tensor(value)
    assert t.shape == () and t.dim() == 0 and t.numel() == 1
    assert t.item() == value and type(t.item()) is type(value)


def test_numpy_scalars_inside_lists_keep_their_dtype():
    assert plugrad.tensor([np.float64(2.5), 1]).dtype is plugrad.float64
    assert plugrad.tensor([np.int8(3), np.uint8(2)]).dtype is plugrad.int16
    assert plugrad.tensor([np.float16(1.5), 1]).dtype is plugrad.float16
    assert plugrad.tensor(np.float32(2.5)).dtype is plugrad.float32


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_explicit_dtype_converts_the_data(device, dtype):
    data = [[0, 1, 2], [3, 1, 0]]
    t = plugrad.tensor(data, dtype=dtype, device=device)
    assert_tensor_equal(t, np.array(data).astype(np_dtype(dtype)), dtype)


def test_float_data_into_int_dtype_truncates_toward_zero():
    data = [2.7, -2.7, 0.5]
    assert_tensor_equal(plugrad.tensor(data, dtype=plugrad.int32), np.trunc(data).astype(np.int32))


@pytest.mark.parametrize("dtype, value", [(plugrad.uint8, 256), (plugrad.int8, 128), (plugrad.int8, -129),
                                          (plugrad.int32, 2 ** 31), (plugrad.int32, 2.5e9),
                                          (plugrad.int64, math.inf), (plugrad.int16, math.nan)])
def test_data_out_of_an_int_dtype_range_is_refused(dtype, value):
    with pytest.raises(RuntimeError, match=f"cannot be converted to type {dtype.name}"):
        plugrad.tensor([value], dtype=dtype)


def test_floats_too_large_for_the_dtype_become_infinity():
    for dtype, big in ((plugrad.float16, 1e5), (plugrad.float32, 1e39)):
        t = plugrad.tensor([big, -big, 1.0], dtype=dtype)
        with np.errstate(over="ignore"):
            expected = np.array([big, -big, 1.0]).astype(np_dtype(dtype))
        assert_tensor_equal(t, expected)


def test_ragged_and_non_numeric_data_are_refused():
    with pytest.raises(ValueError, match="length"):
        plugrad.tensor([[1, 2], [3]])
    with pytest.raises(TypeError, match="inconsistent depth"):
        plugrad.tensor([[1, 2], 3])
    with pytest.raises(TypeError, match="str"):
        plugrad.tensor("abc")


def test_tensors_inside_lists_keep_their_dtype_and_values():
    t = plugrad.tensor([plugrad.tensor([1.5, 2.0], dtype=plugrad.float64), [3, 4]])
    assert_tensor_equal(t, np.array([[1.5, 2.0], [3, 4]]), plugrad.float64)
    assert plugrad.tensor([plugrad.tensor(3, dtype=plugrad.int8)]).dtype is plugrad.int8
    assert plugrad.tensor([plugrad.tensor(3, dtype=plugrad.int8), 1]).dtype is plugrad.int64


def test_tensor_of_a_tensor_copies():
    src = plugrad.tensor([1.0, 2.0])
    t = plugrad.tensor(src)
    t[0] = 5
    assert src[0].item() == 1.0
    assert plugrad.tensor(src, dtype=plugrad.int64).dtype is plugrad.int64


# ---- NumPy interop ------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_tensor_from_numpy_array_copies_and_keeps_dtype(dtype):
    arr = np.arange(6).reshape(2, 3).astype(np_dtype(dtype))
    t = plugrad.tensor(arr)
    assert_tensor_equal(t, arr, dtype)
    arr[0, 0] = 1
    t[1, 1] = 0
    assert to_np(t)[0, 0] == 0 and arr[1, 1] == arr.flat[4]


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_from_numpy_shares_memory_both_ways(dtype):
    arr = np.zeros((2, 3), dtype=np_dtype(dtype))
    t = plugrad.from_numpy(arr)
    assert t.dtype is dtype and t.shape == (2, 3)
    arr[0, 1] = 1
    assert to_np(t)[0, 1] == 1
    t[1, 2] = 1
    assert arr[1, 2] == 1
    t.add_(1) if dtype is not plugrad.bool else t.fill_(True)
    np.testing.assert_array_equal(arr, to_np(t))


def test_from_numpy_of_a_strided_array_shares_its_layout():
    base = np.arange(12, dtype=np.float64).reshape(3, 4)
    arr = base[:, ::2]
    t = plugrad.from_numpy(arr)
    assert t.stride() == tuple(s // arr.itemsize for s in arr.strides)
    t[2, 1] = -1.0
    assert base[2, 2] == -1.0


def test_from_numpy_refuses_what_it_cannot_share():
    with pytest.raises(TypeError, match="ndarray"):
        plugrad.from_numpy([1, 2, 3])
    with pytest.raises(ValueError, match="negative"):
        plugrad.from_numpy(np.arange(4)[::-1])
    with pytest.raises(TypeError, match="complex128"):
        plugrad.from_numpy(np.zeros(2, dtype=np.complex128))


def test_as_tensor_shares_when_it_can_and_copies_when_it_must():
    arr = np.arange(4, dtype=np.int32)
    shared = plugrad.as_tensor(arr)
    shared[0] = 9
    assert arr[0] == 9
    converted = plugrad.as_tensor(arr, dtype=plugrad.float32)
    converted[1] = 7
    assert arr[1] == 1 and converted.dtype is plugrad.float32
    t = plugrad.tensor([1.0])
    assert plugrad.as_tensor(t) is t
    assert plugrad.as_tensor([1, 2]).dtype is plugrad.int64


# ---- factories ----------------------------------------------------------------------------------

@pytest.mark.parametrize("factory, np_factory", [(plugrad.zeros, np.zeros), (plugrad.ones, np.ones)])
@given(shape=shapes(max_dims=3))
@device_settings
def test_zeros_and_ones_accept_every_shape_spelling(device, factory, np_factory, shape):
    expected = np_factory(shape, dtype=np.float32)
    for t in (factory(*shape, device=device), factory(shape, device=device), factory(list(shape), device=device),
              factory(plugrad.Size(shape), device=device)):
        assert_tensor_equal(t, expected, plugrad.float32)


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_factories_honour_dtype(device, dtype):
    nd = np_dtype(dtype)
    assert_tensor_equal(plugrad.zeros(2, 3, dtype=dtype, device=device), np.zeros((2, 3), nd), dtype)
    assert_tensor_equal(plugrad.ones(4, dtype=dtype, device=device), np.ones(4, nd), dtype)
    assert_tensor_equal(plugrad.full((2,), 1, dtype=dtype, device=device), np.full(2, 1, nd), dtype)
    assert_tensor_equal(plugrad.eye(3, dtype=dtype, device=device), np.eye(3, dtype=nd), dtype)
    assert plugrad.empty(2, 2, dtype=dtype, device=device).dtype is dtype


@pytest.mark.parametrize("fill, dtype", [(7, plugrad.int64), (7.0, plugrad.float32), (True, plugrad.bool),
                                         (-2.5, plugrad.float32)])
def test_full_infers_dtype_from_the_value(fill, dtype):
    assert_tensor_equal(plugrad.full((2, 2), fill), np.full((2, 2), fill, dtype=np_dtype(dtype)), dtype)


def test_full_refuses_a_value_the_dtype_cannot_hold():
    with pytest.raises(RuntimeError, match="uint8"):
        plugrad.full((2,), 300, dtype=plugrad.uint8)


def test_empty_has_the_requested_layout(device):
    t = plugrad.empty(2, 3, 4, device=device)
    assert t.shape == (2, 3, 4) and t.stride() == (12, 4, 1) and t.is_contiguous()
    assert t.dtype is plugrad.float32 and t.device.type == device


@given(st.integers(-20, 20), st.integers(-20, 20), st.integers(1, 5), st.booleans())
def test_arange_matches_numpy(start, end, step, negative_step):
    if negative_step:
        step = -step
    if (end - start) * step < 0:
        with pytest.raises(RuntimeError, match="bound"):
            plugrad.arange(start, end, step)
        return
    assert_tensor_equal(plugrad.arange(start, end, step), np.arange(start, end, step, dtype=np.int64),
                        plugrad.int64)


@pytest.mark.parametrize("args", [(0, 1, 0.1), (1, 4, 0.5), (-1.0, 1.0, 0.25), (5.0,), (0.5, 3)])
def test_float_arange_gives_default_float(args):
    t = plugrad.arange(*args)
    assert t.dtype is plugrad.float32
    assert_tensor_close(t, np.arange(*args).astype(np.float32))


def test_arange_single_argument_and_dtype(device):
    assert_tensor_equal(plugrad.arange(5, device=device), np.arange(5), plugrad.int64)
    assert_tensor_equal(plugrad.arange(5, dtype=plugrad.float64, device=device), np.arange(5.0), plugrad.float64)
    with pytest.raises(RuntimeError, match="step"):
        plugrad.arange(0, 5, 0)


@given(st.floats(-100, 100), st.floats(-100, 100), st.integers(0, 40))
def test_linspace_matches_numpy(start, end, steps):
    t = plugrad.linspace(start, end, steps)
    assert t.dtype is plugrad.float32
    assert_tensor_close(t, np.linspace(start, end, steps).astype(np.float32), rtol=1e-5, atol=1e-4)


@given(st.integers(0, 6), st.none() | st.integers(0, 6))
def test_eye_matches_numpy(n, m):
    assert_tensor_equal(plugrad.eye(n, m), np.eye(n, m, dtype=np.float32), plugrad.float32)


_LIKE = [("zeros_like", lambda t, **k: plugrad.zeros_like(t, **k), lambda a: np.zeros_like(a)),
         ("ones_like", lambda t, **k: plugrad.ones_like(t, **k), lambda a: np.ones_like(a)),
         ("full_like", lambda t, **k: plugrad.full_like(t, 3, **k), lambda a: np.full_like(a, 3)),
         ("empty_like", lambda t, **k: plugrad.empty_like(t, **k), None),
         ("rand_like", lambda t, **k: plugrad.rand_like(t, **k), None),
         ("randn_like", lambda t, **k: plugrad.randn_like(t, **k), None)]


@pytest.mark.parametrize("name, make, np_make", _LIKE, ids=[x[0] for x in _LIKE])
def test_like_factories_copy_shape_dtype_and_device(device, name, make, np_make):
    src = plugrad.zeros(2, 3, dtype=plugrad.float64, device=device).t()
    t = make(src)
    assert t.shape == src.shape and t.dtype is plugrad.float64 and t.device == src.device
    if np_make is not None:
        assert_tensor_equal(t, np_make(to_np(src)))
    t16 = make(src, dtype=plugrad.float16, requires_grad=True)
    assert t16.dtype is plugrad.float16 and t16.requires_grad and t16.is_leaf


def test_randint_like_and_int_like():
    src = plugrad.zeros(3, 4, dtype=plugrad.int32)
    r = plugrad.randint_like(src, 5, 9)
    assert r.dtype is plugrad.int32 and r.shape == (3, 4)
    vals = to_np(r)
    assert vals.min() >= 5 and vals.max() < 9
    assert_tensor_equal(plugrad.ones_like(src), np.ones((3, 4), np.int32), plugrad.int32)


@pytest.mark.parametrize("factory", [
    lambda **k: plugrad.tensor([1.0, 2.0], **k), lambda **k: plugrad.zeros(2, **k), lambda **k: plugrad.ones(2, **k),
    lambda **k: plugrad.full((2,), 1.5, **k), lambda **k: plugrad.empty(2, **k), lambda **k: plugrad.rand(2, **k),
    lambda **k: plugrad.randn(2, **k), lambda **k: plugrad.arange(0.0, 2.0, **k),
    lambda **k: plugrad.linspace(0, 1, 2, **k), lambda **k: plugrad.eye(2, **k)])
def test_every_factory_takes_dtype_device_and_requires_grad(device, factory):
    t = factory(dtype=plugrad.float64, device=device, requires_grad=True)
    assert t.dtype is plugrad.float64 and t.device.type == device
    assert t.requires_grad and t.is_leaf and t.grad_fn is None


def test_requires_grad_needs_a_floating_dtype():
    with pytest.raises(RuntimeError, match="floating point"):
        plugrad.ones(2, dtype=plugrad.int64, requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        plugrad.tensor([1, 2], requires_grad=True)


def test_negative_and_non_int_sizes_are_refused():
    with pytest.raises(RuntimeError, match="negative dimension -1"):
        plugrad.zeros(2, -1)
    with pytest.raises(TypeError, match="float"):
        plugrad.ones(2.5)
    with pytest.raises(TypeError, match="dtype"):
        plugrad.zeros(2, dtype="float32")


# ---- random ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [lambda: plugrad.rand(3, 4), lambda: plugrad.randn(3, 4),
                                  lambda: plugrad.randint(0, 100, (3, 4)), lambda: plugrad.randperm(10),
                                  lambda: plugrad.rand(2, dtype=plugrad.float64)])
def test_manual_seed_makes_random_ops_reproducible(make):
    plugrad.manual_seed(1234)
    a = to_np(make())
    plugrad.manual_seed(1234)
    b = to_np(make())
    np.testing.assert_array_equal(a, b)
    plugrad.manual_seed(4321)
    assert not np.array_equal(a, to_np(make()))


def test_seeded_sequence_is_reproducible_across_ops(device):
    def draw():
        plugrad.manual_seed(7)
        return [to_np(plugrad.rand(5, device=device)), to_np(plugrad.randn(5, device=device)),
                to_np(plugrad.randint(10, (5,), device=device))]
    for a, b in zip(draw(), draw()):
        np.testing.assert_array_equal(a, b)


def test_rand_is_uniform_in_unit_interval(device):
    plugrad.manual_seed(0)
    vals = to_np(plugrad.rand(20000, device=device))
    assert vals.dtype == np.float32 and vals.min() >= 0.0 and vals.max() < 1.0
    assert abs(vals.mean() - 0.5) < 0.02 and abs(vals.std() - math.sqrt(1 / 12)) < 0.02


def test_randn_is_standard_normal(device):
    plugrad.manual_seed(0)
    vals = to_np(plugrad.randn(20000, device=device))
    assert abs(vals.mean()) < 0.05 and abs(vals.std() - 1.0) < 0.05


@pytest.mark.parametrize("dtype", INT_DTYPES + FLOAT_DTYPES, ids=str)
def test_randint_bounds_and_dtype(dtype):
    plugrad.manual_seed(3)
    r = plugrad.randint(3, 10, (1000,), dtype=dtype)
    vals = to_np(r)
    assert r.dtype is dtype and vals.min() >= 3 and vals.max() <= 9
    assert set(np.unique(vals)) == set(range(3, 10))
    assert plugrad.randint(5, (4,)).dtype is plugrad.int64


def test_randperm_is_a_permutation():
    plugrad.manual_seed(5)
    assert sorted(plugrad.randperm(50).tolist()) == list(range(50))


def test_random_floats_need_a_floating_dtype():
    with pytest.raises((RuntimeError, NotImplementedError)):
        plugrad.rand(2, dtype=plugrad.int64)
    with pytest.raises(RuntimeError, match="from"):
        plugrad.randint(5, 5, (2,))
