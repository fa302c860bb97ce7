"""Views share storage with their base: view/reshape, permute/transpose, squeeze/unsqueeze,
expand, flatten, narrow/select, chunk/split, contiguous, and the layout attributes
(stride, is_contiguous, storage_offset). NumPy, given the same layout, is the reference
for values, strides and for whether a view without a copy exists."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

import plugrad
from tensor_api_support import assert_tensor_equal, device_settings, shapes, to_np


def arange_like(shape, device="cpu", dtype=plugrad.float32):
    """A tensor and the NumPy array with the same values: 0, 1, 2, ... in row-major order."""
    n = math.prod(shape)
    return (plugrad.arange(n, dtype=dtype, device=device).reshape(shape),
            np.arange(n).astype(np.dtype(dtype.name)).reshape(shape))


def assert_same_layout(t, arr):
    """``t`` has the values, shape and element strides of the NumPy array ``arr``."""
    assert_tensor_equal(t, arr)
    if arr.size > 1:
        for n, ts, ns in zip(arr.shape, t.stride(), arr.strides):
            if n > 1:
                assert ts * arr.itemsize == ns, (t.stride(), arr.strides)


def assert_aliases(view, base):
    """A write through ``view`` shows in ``base`` (and the storage objects are the same)."""
    assert view.untyped_storage() is base.untyped_storage()
    if view.numel():
        before = to_np(base)
        first = tuple(0 for _ in view.shape)
        old = view[first].item()
        view[first] = -123
        assert (to_np(base) == -123).sum() == (before == -123).sum() + 1
        view[first] = old
        np.testing.assert_array_equal(to_np(base), before)


@st.composite
def layouts(draw, max_dims=4):
    """A tensor layout reached by a random chain of views: a shape, then permutes, steps
    and narrowing applied to both a tensor and a NumPy array."""
    shape = draw(shapes(min_dims=1, max_dims=max_dims, min_side=1, max_side=4))
    ops = []
    for _ in range(draw(st.integers(0, 2))):
        kind = draw(st.sampled_from(["permute", "step", "narrow"]))
        ops.append((kind, draw(st.permutations(range(len(shape)))), draw(st.integers(0, len(shape) - 1)),
                    draw(st.integers(1, 2))))
    return shape, ops


def build(layout, device="cpu"):
    shape, ops = layout
    t, a = arange_like(shape, device)
    for kind, perm, dim, k in ops:
        if kind == "permute":
            t, a = t.permute(*perm), a.transpose(perm)
        elif kind == "step":
            key = (slice(None),) * dim + (slice(None, None, k),)
            t, a = t[key], a[key]
        else:
            n = t.shape[dim]
            start = min(k - 1, n - 1)
            t, a = t.narrow(dim, start, n - start), a[(slice(None),) * dim + (slice(start, None),)]
    return t, a


def factorizations(n, max_dims=4):
    """Shapes whose product is ``n`` (``n`` > 0), with size-1 dims sprinkled in."""
    @st.composite
    def strat(draw):
        dims = []
        rest = n
        while rest > 1 and len(dims) < max_dims - 1:
            divisors = [d for d in range(2, rest + 1) if rest % d == 0]
            d = draw(st.sampled_from(divisors))
            dims.append(d)
            rest //= d
        if rest > 1:
            dims.append(rest)
        for _ in range(draw(st.integers(0, 1))):
            dims.insert(draw(st.integers(0, len(dims))), 1)
        return tuple(draw(st.permutations(dims)))
    return strat()


# ---- view / reshape -----------------------------------------------------------------------------------

@given(layouts(), st.data())
@device_settings
def test_view_exists_exactly_when_numpy_can_reshape_without_copy(device, layout, data):
    t, a = build(layout, device)
    assume(a.size > 0)
    target = data.draw(factorizations(a.size))
    try:
        expected = np.reshape(a, target, copy=False)
    except ValueError:
        with pytest.raises(RuntimeError, match=r"reshape\(\.\.\.\)"):
            t.view(target)
        r = t.reshape(target)  # reshape copies instead
        assert_tensor_equal(r, a.reshape(target))
        assert r.untyped_storage() is not t.untyped_storage()
        return
    v = t.view(target)
    assert_same_layout(v, expected)
    assert_aliases(v, t)


@given(shapes(min_dims=1, max_dims=4, min_side=1), st.data())
@device_settings
def test_view_with_minus_one_infers_the_dim(device, shape, data):
    t, a = arange_like(shape, device)
    target = list(data.draw(factorizations(a.size))) or [1]
    i = data.draw(st.integers(0, len(target) - 1))
    target[i] = -1
    v = t.view(*target)
    assert_tensor_equal(v, a.reshape(target))
    assert_aliases(v, t)


def test_view_of_a_transposed_tensor_tells_to_use_reshape(device):
    t = plugrad.arange(6.0, device=device).reshape(2, 3).t()
    with pytest.raises(RuntimeError, match=r"Use \.reshape\(\.\.\.\) instead"):
        t.view(-1)
    assert_tensor_equal(t.reshape(-1), np.arange(6.0).reshape(2, 3).T.reshape(-1))


@pytest.mark.parametrize("shape, message", [((4, -1), "invalid for input of size 6"),
                                            ((-1, -1), "only one dimension can be inferred"),
                                            ((7,), "invalid for input of size 6"),
                                            ((2, -2), "invalid shape dimension -2")])
def test_impossible_view_shapes_name_the_problem(shape, message):
    t = plugrad.zeros(2, 3)
    for method in (t.view, t.reshape):
        with pytest.raises(RuntimeError, match=message):
            method(*shape)


def test_view_and_reshape_of_empty_and_scalar_tensors():
    z = plugrad.zeros(0, 3)
    assert z.view(3, 0).shape == (3, 0) and z.reshape(-1).shape == (0,)
    with pytest.raises(RuntimeError):
        z.view(-1, 0)
    s = plugrad.tensor(5.0)
    assert s.view(1).shape == (1,) and s.reshape(1, 1, 1).shape == (1, 1, 1) and s.view(()).shape == ()


# ---- permute / transpose / t -----------------------------------------------------------------------------

@given(layouts(), st.data())
@device_settings
def test_permute_matches_numpy_transpose(device, layout, data):
    t, a = build(layout, device)
    perm = data.draw(st.permutations(range(t.dim())))
    neg = [p - t.dim() if data.draw(st.booleans()) else p for p in perm]
    v = t.permute(*neg)
    assert_same_layout(v, a.transpose(perm))
    assert_aliases(v, t)
    assert t.permute(neg).shape == v.shape


@given(layouts(), st.data())
@device_settings
def test_transpose_swaps_two_dims(device, layout, data):
    t, a = build(layout, device)
    d0 = data.draw(st.integers(-t.dim(), t.dim() - 1))
    d1 = data.draw(st.integers(-t.dim(), t.dim() - 1))
    v = t.transpose(d0, d1)
    assert_same_layout(v, np.swapaxes(a, d0, d1))
    assert_aliases(v, t)


def test_t_and_T(device):
    t, a = arange_like((2, 3), device)
    assert_same_layout(t.t(), a.T)
    assert_same_layout(t.T, a.T)
    assert_aliases(t.T, t)
    v, av = arange_like((4,), device)
    assert_tensor_equal(v.t(), av)
    assert_tensor_equal(v.T, av)
    c, ac = arange_like((2, 3, 4), device)
    assert_same_layout(c.mT, np.swapaxes(ac, -1, -2))
    with pytest.raises(RuntimeError, match="<= 2 dimensions"):
        c.t()


# ---- squeeze / unsqueeze / expand -------------------------------------------------------------------------

@given(shapes(max_dims=5, min_side=1, max_side=3), st.data())
@device_settings
def test_squeeze_matches_numpy(device, shape, data):
    t, a = arange_like(shape, device)
    assert_tensor_equal(t.squeeze(), a.squeeze())
    if shape:
        d = data.draw(st.integers(-len(shape), len(shape) - 1))
        # a dim whose size is not 1 is left alone, without an error
        expected = a.squeeze(d) if shape[d] == 1 else a
        v = t.squeeze(d)
        assert_tensor_equal(v, expected)
        assert_aliases(v, t)


def test_squeeze_of_several_dims_and_of_0d(device):
    t, a = arange_like((1, 2, 1, 3, 1), device)
    assert_tensor_equal(t.squeeze((0, 2, 3)), a.squeeze((0, 2)))
    assert plugrad.tensor(1.0).squeeze().shape == () and plugrad.tensor(1.0).squeeze(0).shape == ()


@given(shapes(max_dims=4), st.data())
@device_settings
def test_unsqueeze_matches_numpy_expand_dims(device, shape, data):
    t, a = arange_like(shape, device)
    d = data.draw(st.integers(-len(shape) - 1, len(shape)))
    v = t.unsqueeze(d)
    assert_same_layout(v, np.expand_dims(a, d))
    assert_aliases(v, t)
    assert_tensor_equal(plugrad.unsqueeze(t, d), np.expand_dims(a, d))


@given(shapes(max_dims=3, max_side=3), st.data())
@device_settings
def test_expand_is_a_broadcast_view_without_new_memory(device, shape, data):
    t, a = arange_like(shape, device)
    lead = data.draw(st.lists(st.integers(0, 3), max_size=2))
    target = list(lead) + [data.draw(st.integers(0, 3)) if n == 1 else n for n in shape]
    spelled = list(lead) + [-1 if n == old and data.draw(st.booleans()) else n
                            for n, old in zip(target[len(lead):], shape)]
    v = t.expand(*spelled)
    assert_tensor_equal(v, np.broadcast_to(a, target))
    assert v.untyped_storage() is t.untyped_storage()
    for i, (n, s) in enumerate(zip(target, v.stride())):
        src = i - len(lead)
        if src < 0 or (shape[src] == 1 and n != 1):
            assert s == 0
    if t.numel():
        t.view(-1)[0] = 99.0  # a write to the base is seen through every broadcast copy
        assert_tensor_equal(v, np.broadcast_to(np.where(np.arange(a.size).reshape(shape) == 0, 99.0, a), target))
    assert_tensor_equal(t.expand_as(plugrad.empty(target)), np.broadcast_to(to_np(t), target))


def test_expand_refuses_non_singleton_dims_and_fewer_sizes():
    t = plugrad.zeros(2, 3)
    with pytest.raises(RuntimeError, match=r"expanded size of the tensor \(4\) must match the existing size \(3\)"):
        t.expand(2, 4)
    with pytest.raises(RuntimeError, match="number of sizes provided"):
        t.expand(3)


def test_writing_into_an_expanded_tensor_is_refused():
    t = plugrad.zeros(1, 3)
    with pytest.raises(RuntimeError, match="single memory location"):
        t.expand(2, 3).add_(1)
    assert_tensor_equal(t, np.zeros((1, 3), np.float32))


# ---- flatten / narrow / select / chunk / split ---------------------------------------------------------

@given(shapes(max_dims=4), st.data())
@device_settings
def test_flatten_matches_numpy(device, shape, data):
    t, a = arange_like(shape, device)
    if not shape:
        assert_tensor_equal(t.flatten(), a.reshape(1))
        return
    s = data.draw(st.integers(-len(shape), len(shape) - 1))
    e = data.draw(st.integers(-len(shape), len(shape) - 1))
    s_, e_ = s % len(shape), e % len(shape)
    if s_ > e_:
        with pytest.raises(RuntimeError, match="start_dim cannot come after end_dim"):
            t.flatten(s, e)
        return
    expected = a.reshape(shape[:s_] + (math.prod(shape[s_:e_ + 1]),) + shape[e_ + 1:])
    v = t.flatten(s, e)
    assert_tensor_equal(v, expected)
    assert_aliases(v, t)


@given(layouts(), st.data())
@device_settings
def test_narrow_and_select_are_views(device, layout, data):
    t, a = build(layout, device)
    d = data.draw(st.integers(-t.dim(), t.dim() - 1))
    n = t.shape[d]
    start = data.draw(st.integers(0, n))
    length = data.draw(st.integers(0, n - start))
    key = (slice(None),) * (d % t.dim()) + (slice(start, start + length),)
    v = t.narrow(d, start, length)
    assert_same_layout(v, a[key])
    assert_aliases(v, t)
    i = data.draw(st.integers(-n, n - 1))
    s = t.select(d, i)
    assert_same_layout(s, a[(slice(None),) * (d % t.dim()) + (i,)])
    assert_aliases(s, t)


def test_narrow_and_select_bounds():
    t = plugrad.zeros(3, 4)
    with pytest.raises(RuntimeError, match="exceeds dimension size"):
        t.narrow(1, 2, 3)
    with pytest.raises(IndexError, match="index 4 is out of bounds for dimension 1 with size 4"):
        t.select(1, 4)
    with pytest.raises(IndexError, match="Dimension out of range"):
        t.select(2, 0)


def expected_chunks(a, chunks, axis):
    """PyTorch's chunk: pieces of ceil(n / chunks) elements (maybe fewer pieces)."""
    n = a.shape[axis]
    size = max(1, -(-n // chunks))
    return [np.take(a, range(i, min(i + size, n)), axis=axis) for i in range(0, n, size)] or [a]


@given(layouts(max_dims=3), st.integers(1, 6), st.data())
@device_settings
def test_chunk_and_split_are_views_covering_the_tensor(device, layout, chunks, data):
    t, a = build(layout, device)
    d = data.draw(st.integers(-t.dim(), t.dim() - 1))
    pieces = t.chunk(chunks, d)
    expected = expected_chunks(a, chunks, d % t.dim())
    assert len(pieces) == len(expected)
    for p, e in zip(pieces, expected):
        assert_tensor_equal(p, e)
        assert p.untyped_storage() is t.untyped_storage()
    n = t.shape[d]
    size = data.draw(st.integers(1, 4))
    parts = t.split(size, d)
    bounds = list(range(0, n, size))
    assert len(parts) == max(1, len(bounds))
    for p, lo in zip(parts, bounds):
        assert_tensor_equal(p, np.take(a, range(lo, min(lo + size, n)), axis=d))
    sections = data.draw(st.lists(st.integers(0, n), min_size=1, max_size=3).filter(lambda s: sum(s) <= n))
    sections = sections + [n - sum(sections)]
    for p, e in zip(t.split(sections, d), np.split(a, np.cumsum(sections)[:-1], axis=d)):
        assert_tensor_equal(p, e)


def test_split_sizes_must_sum_to_the_dim():
    with pytest.raises(RuntimeError, match="sum exactly to 5"):
        plugrad.zeros(5).split([2, 2])


def test_unbind_and_movedim(device):
    t, a = arange_like((2, 3, 4), device)
    for i, piece in enumerate(t.unbind(1)):
        assert_tensor_equal(piece, a[:, i])
        assert_aliases(piece, t)
    assert_same_layout(t.movedim(0, -1), np.moveaxis(a, 0, -1))


# ---- contiguous and the layout attributes ----------------------------------------------------------------

@given(layouts())
@device_settings
def test_layout_attributes_match_numpy(device, layout):
    t, a = build(layout, device)
    assert t.is_contiguous() == a.flags.c_contiguous
    assert t.shape == a.shape and t.size() == a.shape and t.dim() == a.ndim == t.ndim
    assert t.numel() == a.size
    assert [t.size(d) for d in range(-t.dim(), t.dim())] == [a.shape[d] for d in range(-a.ndim, a.ndim)]
    c = t.contiguous()
    assert c.is_contiguous()
    assert_tensor_equal(c, a)
    if t.is_contiguous():
        assert c is t
    else:
        assert c.untyped_storage() is not t.untyped_storage()
        assert c.stride() == tuple(s // a.itemsize for s in np.ascontiguousarray(a).strides) or a.size <= 1


def test_storage_offset_and_strides_of_slices(device):
    t = plugrad.arange(24, device=device).reshape(2, 3, 4)
    assert t.stride() == (12, 4, 1) and t.stride(-1) == 1 and t.storage_offset() == 0
    v = t[1, 1:, ::2]
    assert v.storage_offset() == 12 + 4 and v.stride() == (4, 2)
    assert not v.is_contiguous()
    assert t.permute(2, 1, 0).stride() == tuple(reversed(t.stride()))


def test_chains_of_views_write_through_to_the_root(device):
    root = plugrad.zeros(4, 6, device=device)
    leaf = root.view(2, 2, 6).permute(2, 0, 1)[1:5:2].transpose(0, 2).unsqueeze(0).squeeze(0).narrow(0, 1, 1)
    leaf.fill_(7.0)
    expected = np.zeros((4, 6), np.float32)
    expected.reshape(2, 2, 6).transpose(2, 0, 1)[1:5:2].transpose(2, 1, 0)[1:2] = 7.0
    assert_tensor_equal(root, expected)


# ---- in-place view ops ----------------------------------------------------------------------------------

@pytest.mark.parametrize("op, numpy_op", [
    (lambda t: t.t_(), lambda a: a.T), (lambda t: t.transpose_(0, -1), lambda a: np.swapaxes(a, 0, -1)),
    (lambda t: t.unsqueeze_(1), lambda a: np.expand_dims(a, 1)), (lambda t: t.squeeze_(), lambda a: a.squeeze()),
    (lambda t: t.squeeze_(0), lambda a: a.squeeze(0)), (lambda t: t.unsqueeze_(0).squeeze_((0, 1)), lambda a: a[0]),
])
def test_in_place_view_ops_change_the_layout_not_the_data(device, op, numpy_op):
    t, a = arange_like((1, 3), device)
    other_view = t.view(-1)
    r = op(t)
    assert r is t
    assert_same_layout(t, numpy_op(a))
    assert t.untyped_storage() is other_view.untyped_storage()
    assert_tensor_equal(other_view, a.reshape(-1))  # other views keep their own layout


def test_in_place_view_ops_are_recorded_by_autograd():
    a = plugrad.arange(6.0, requires_grad=True)
    y = (a * 1).view(2, 3)
    y.t_()
    assert type(y.grad_fn).__name__ == "TBackward1"
    weights = np.arange(1.0, 7.0, dtype=np.float32).reshape(3, 2)
    (y * plugrad.tensor(weights)).sum().backward()
    assert_tensor_equal(a.grad, weights.T.reshape(-1))  # y[i, j] is a[3j + i]
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        plugrad.ones(2, 3, requires_grad=True).t_()


@pytest.mark.parametrize("op", [lambda y: y.t_(), lambda y: y.transpose_(0, 1), lambda y: y.unsqueeze_(1),
                                lambda y: y.unsqueeze_(0).squeeze_(), lambda y: y.unsqueeze_(2).squeeze_(2)])
def test_in_place_view_ops_pass_gradcheck(op):
    from plugrad.autograd import gradcheck, gradgradcheck
    x = plugrad.tensor(np.arange(6.0).reshape(2, 3) / 7, dtype=plugrad.float64, requires_grad=True)

    def f(a):
        y = a * 1.5
        return op(y) * y.sum()
    assert gradcheck(f, (x,))
    assert gradgradcheck(f, (x,))


def test_chunk_of_an_empty_dim_gives_empty_pieces():
    pieces = plugrad.zeros(0, 2).chunk(3)
    assert len(pieces) == 3 and all(p.shape == (0, 2) for p in pieces)
