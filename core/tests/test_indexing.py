"""``x[key]`` and ``x[key] = value``: basic indexing (ints, slices with steps, None,
Ellipsis, negative indices) gives views; advanced indexing (integer lists/tensors,
boolean masks) copies. NumPy, indexed with the same key, is the reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import plugrad
from tensor_api_support import assert_tensor_equal, basic_keys, device_settings, shapes, to_np


def values_broadcasting_to(shape):
    """Shapes of values that broadcast to ``shape`` (not beyond it)."""
    return hnp.broadcastable_shapes(shape, min_side=0, max_dims=len(shape)).filter(
        lambda s: np.broadcast_shapes(s, shape) == shape)


def arange_like(shape, device="cpu", dtype=plugrad.float32):
    n = math.prod(shape)
    return (plugrad.arange(n, dtype=dtype, device=device).reshape(shape),
            np.arange(n).astype(np.dtype(dtype.name)).reshape(shape))


@st.composite
def advanced_keys(draw, shape):
    """A key with at least one advanced part: integer arrays (as lists or tensors, with
    negative values) sharing one broadcast shape, or a boolean mask over some leading
    dims, mixed with slices and ints.

    Returns ``(key, numpy_view, numpy_key)``. PyTorch applies plain ints as basic
    indexing (NumPy counts them as advanced indices when arrays are present, which moves
    dims), so the NumPy reference applies the ints first, ``numpy_view(a)``, then the
    rest of the key."""
    idx_shape = draw(shapes(min_dims=1, max_dims=2, min_side=1, max_side=3))
    ours, first, rest = [], [], []
    d = 0
    if shape and draw(st.booleans()):
        k = draw(st.integers(1, len(shape)))
        mask = draw(hnp.arrays(bool, shape[:k]))
        ours.append(plugrad.tensor(mask))
        first += [slice(None)] * k
        rest.append(mask)
        d = k
    while d < len(shape):
        n = shape[d]
        kind = draw(st.sampled_from(["slice", "int", "array"] if n else ["slice"]))
        if kind == "array" or (not rest and n and d == len(shape) - 1):
            values = draw(hnp.arrays(np.int64, idx_shape, elements=st.integers(-n, n - 1)))
            as_list = len(idx_shape) == 1 and draw(st.booleans())
            ours.append(values.tolist() if as_list else plugrad.tensor(values))
            first.append(slice(None))
            rest.append(values)
        elif kind == "int":
            i = draw(st.integers(-n, n - 1))
            ours.append(i)
            first.append(i)
        else:
            step = draw(st.integers(1, 2))
            ours.append(slice(None, None, step))
            first.append(slice(None))
            rest.append(slice(None, None, step))
        d += 1
    advanced = any(isinstance(p, np.ndarray) for p in rest)
    return tuple(ours), (lambda a: a[tuple(first)]), tuple(rest), advanced


def numpy_get(a, numpy_view, numpy_key):
    """NumPy's result for the key, or the IndexError NumPy raises."""
    try:
        return numpy_view(a)[numpy_key]
    except IndexError as exc:
        return exc


# ---- reading ---------------------------------------------------------------------------------------------

@given(shapes(max_dims=4), st.data())
@device_settings
def test_basic_indexing_matches_numpy_and_is_a_view(device, shape, data):
    t, a = arange_like(shape, device)
    key = data.draw(basic_keys(shape))
    r = t[key]
    expected = a[key]
    assert_tensor_equal(r, expected)
    assert r.untyped_storage() is t.untyped_storage()
    if r.numel():
        r[(0,) * r.dim()] = -1.0  # a write through the view reaches the base
        assert (to_np(t) == -1.0).sum() == 1


@given(shapes(min_dims=1, max_dims=3, max_side=4), st.data())
@device_settings
def test_advanced_indexing_matches_numpy_and_copies(device, shape, data):
    t, a = arange_like(shape, device)
    ours, numpy_view, numpy_key, advanced = data.draw(advanced_keys(shape))
    expected = numpy_get(a, numpy_view, numpy_key)
    if isinstance(expected, IndexError):  # index shapes that do not broadcast together
        with pytest.raises(IndexError, match="shape mismatch"):
            t[ours]
        return
    r = t[ours]
    assert_tensor_equal(r, expected)
    if not advanced:
        return
    assert r.untyped_storage() is not t.untyped_storage()
    if r.numel():
        r.fill_(-1.0)
        assert_tensor_equal(t, a)


@pytest.mark.parametrize("key", [
    [0, 2], [-1, 0, -1], (slice(None), [1, 3]), ([0, 2], slice(1, 3)), ([[0, 1], [2, 0]], [1, 3]),
    (Ellipsis, [0, 1]), (None, [2, 0]), (1, [3, 0, 3]), ([0, 1], [1, 2]),
])
def test_integer_list_indices(device, key):
    t, a = arange_like((3, 4), device, plugrad.int64)
    assert_tensor_equal(t[key], a[key], plugrad.int64)


def test_advanced_indices_separated_by_a_slice_go_first():
    t, a = arange_like((2, 3, 4, 5))
    key = ([0, 1], slice(None), [1, 3])
    assert_tensor_equal(t[key], a[key])
    key2 = (slice(None), [0, 2], [1, 0], slice(1, 3))
    assert_tensor_equal(t[key2], a[key2])


def test_boolean_masks(device):
    t, a = arange_like((2, 3, 4), device)
    for mask in (a > 10, a.sum(-1) > 20, np.array([True, False]), a[:, :, 0] % 2 == 0):
        ours = t[plugrad.tensor(mask, device=device)]
        assert_tensor_equal(ours, a[mask])
    assert_tensor_equal(t[0, plugrad.tensor(a[0, :, 0] > 1, device=device)], a[0, a[0, :, 0] > 1])
    assert_tensor_equal(t[t > 20], a[a > 20])


def test_scalar_bool_and_tensor_indices():
    t, a = arange_like((3,))
    assert_tensor_equal(t[True], a[None])
    assert_tensor_equal(t[False], a[None][:0])
    assert_tensor_equal(t[plugrad.tensor(True)], a[None])
    assert_tensor_equal(t[plugrad.tensor(2)], a[2])
    assert t[plugrad.tensor(2)].dim() == 0
    assert_tensor_equal(t[plugrad.tensor([2, 0], dtype=plugrad.int32)], a[[2, 0]])
    assert_tensor_equal(t[[]], a[np.array([], dtype=np.int64)])
    assert t[[]].dtype is plugrad.float32


def test_ellipsis_none_and_empty_slices():
    t, a = arange_like((2, 3, 4))
    for key in [(Ellipsis,), (None, Ellipsis, None), (Ellipsis, 1), (1, Ellipsis, 2), (slice(5, 9),),
                (slice(-9, 1),), (slice(None), slice(2, 1)), (None,), (-1, -1, -1)]:
        assert_tensor_equal(t[key], a[key])


def test_negative_steps_are_refused():
    with pytest.raises(ValueError, match="step must be greater than zero"):
        plugrad.arange(5)[::-1]


# ---- writing ---------------------------------------------------------------------------------------------

@given(shapes(max_dims=4), st.data())
@device_settings
def test_setitem_with_basic_keys_matches_numpy(device, shape, data):
    t, a = arange_like(shape, device)
    key = data.draw(basic_keys(shape))
    target_shape = a[key].shape
    if data.draw(st.booleans()):
        value = data.draw(st.integers(-5, 5))
        t[key] = value
    else:
        vshape = data.draw(values_broadcasting_to(target_shape))
        value_np = data.draw(hnp.arrays(np.float32, vshape, elements=st.integers(-5, 5).map(float)))
        value = value_np
        t[key] = plugrad.tensor(value_np, device=device)
    a[key] = value
    assert_tensor_equal(t, a)


@given(shapes(min_dims=1, max_dims=3, max_side=4), st.data())
@device_settings
def test_setitem_with_advanced_keys_matches_numpy(device, shape, data):
    t, a = arange_like(shape, device)
    ours, numpy_view, numpy_key, advanced = data.draw(advanced_keys(shape))
    target = numpy_get(np.arange(a.size).reshape(shape), numpy_view, numpy_key)
    if isinstance(target, IndexError):
        with pytest.raises(IndexError, match="shape mismatch"):
            t[ours] = 1.0
        return
    unique = len(np.unique(target)) == target.size
    if unique and data.draw(st.booleans()):
        vshape = data.draw(values_broadcasting_to(target.shape))
        value = data.draw(hnp.arrays(np.float32, vshape, elements=st.integers(-5, 5).map(float)))
        t[ours] = plugrad.tensor(value, device=device)
    else:  # duplicate positions: only a single value has a defined result
        value = float(data.draw(st.integers(-5, 5)))
        t[ours] = value
    numpy_view(a)[numpy_key] = value  # the basic part is a NumPy view: the write reaches a
    assert_tensor_equal(t, a)


def test_relu_by_mask_assignment(device):
    h = plugrad.tensor([[-1.5, 2.0], [0.5, -3.0]], device=device)
    expected = to_np(h)
    h[h < 0] = 0
    expected[expected < 0] = 0
    assert_tensor_equal(h, expected)


_VIEWS = [("row", lambda t: t[1], lambda a: a[1]), ("t", lambda t: t.t(), lambda a: a.T),
          ("step", lambda t: t[:, ::2], lambda a: a[:, ::2]), ("flat", lambda t: t.view(-1), lambda a: a.reshape(-1))]


@pytest.mark.parametrize("name, make_view, numpy_view", _VIEWS, ids=[v[0] for v in _VIEWS])
def test_setitem_on_a_view_writes_to_the_base(device, name, make_view, numpy_view):
    t, a = arange_like((3, 4), device)
    v = make_view(t)
    v[v > 4] = -1.0
    v[0] = 100.0
    va = numpy_view(a)  # the same writes through NumPy's spelling of the view
    va[va > 4] = -1.0
    va[0] = 100.0
    assert_tensor_equal(t, a)


def test_setitem_converts_values_to_the_tensor_dtype():
    t = plugrad.zeros(3, dtype=plugrad.int32)
    t[0] = 2.7
    t[1] = True
    t[2:] = plugrad.tensor([9.9])
    assert_tensor_equal(t, np.array([2, 1, 9], np.int32), plugrad.int32)


def test_setitem_with_accumulating_index_syntax():
    t, a = arange_like((4,))
    t[[0, 2]] += 1
    a[[0, 2]] += 1
    assert_tensor_equal(t, a)


# ---- errors ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("key, error, message", [
    (3, IndexError, "index 3 is out of bounds for dimension 0 with size 3"),
    (-4, IndexError, "index -4 is out of bounds for dimension 0 with size 3"),
    ((0, 4), IndexError, "index 4 is out of bounds for dimension 1 with size 4"),
    ((0, 0, 0), IndexError, "too many indices for tensor of dimension 2"),
    ([0, 3], IndexError, "index 3 is out of bounds for dimension 0 with size 3"),
    ((slice(None), [4]), IndexError, "index 4 is out of bounds"),
    (1.5, IndexError, "only integers"),
    ("a", TypeError, "could not infer dtype of str"),  # a string is a sequence, read as an index tensor
])
def test_bad_indices(key, error, message):
    t = plugrad.zeros(3, 4)
    with pytest.raises(error, match=message):
        t[key]
    with pytest.raises(error, match=message):
        t[key] = 1.0


def test_bad_masks_and_index_dtypes():
    t = plugrad.zeros(3, 4)
    with pytest.raises(IndexError, match=r"shape of the mask \[2\] at index 0 does not match the shape of the "
                                         r"indexed tensor \[3, 4\] at index 0"):
        t[plugrad.tensor([True, False])]
    with pytest.raises(IndexError, match="long, int, byte or bool"):
        t[plugrad.tensor([0.0, 1.0])]


def test_value_that_does_not_broadcast_leaves_the_tensor_unchanged():
    t, a = arange_like((3, 4))
    with pytest.raises(RuntimeError, match=r"shape mismatch: value tensor of shape \[3\] cannot be broadcast to "
                                           r"indexing result of shape \[2, 4\]"):
        t[[0, 1]] = plugrad.ones(3)
    with pytest.raises(RuntimeError):
        t[0] = plugrad.ones(3)
    assert_tensor_equal(t, a)
