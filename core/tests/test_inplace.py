"""In-place ops (``add_``, ``+=``, ``copy_``, ``fill_`` ...) write through every view of
a storage; ``out=`` fills a given tensor; a refused in-place op changes nothing.
NumPy, doing the same writes on the same layout, is the reference."""

from __future__ import annotations

import math
import operator

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import plugrad
from tensor_api_support import assert_tensor_close, assert_tensor_equal, device_settings, shapes, to_np

F32 = plugrad.float32


@st.composite
def view_of_base(draw):
    """A base shape and a chain of view ops, as functions for plugrad and for NumPy."""
    shape = draw(shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    kind = draw(st.sampled_from(["self", "transpose", "slice", "select", "view", "expand_free"]))
    nd = len(shape)
    if kind == "transpose":
        perm = draw(st.permutations(range(nd)))
        return shape, (lambda t: t.permute(*perm)), (lambda a: a.transpose(perm))
    if kind == "slice":
        d = draw(st.integers(0, nd - 1))
        step = draw(st.integers(1, 2))
        key = (slice(None),) * d + (slice(None, None, step),)
        return shape, (lambda t: t[key]), (lambda a: a[key])
    if kind == "select":
        d = draw(st.integers(0, nd - 1))
        i = draw(st.integers(0, shape[d] - 1))
        key = (slice(None),) * d + (i,)
        # NumPy gives a scalar for a full integer key; the Ellipsis keeps it a 0-d view
        return shape, (lambda t: t[key]), (lambda a: a[key + (Ellipsis,)])
    if kind == "view":
        return shape, (lambda t: t.view(-1)), (lambda a: a.reshape(-1))
    if kind == "expand_free":
        return shape, (lambda t: t.unsqueeze(0)), (lambda a: a[None])
    return shape, (lambda t: t), (lambda a: a)


def arange_pair(shape, device):
    n = math.prod(shape)
    return (plugrad.arange(n, dtype=F32, device=device).reshape(shape) / 4,
            (np.arange(n, dtype=np.float32).reshape(shape) / 4).astype(np.float32))


INPLACE = [
    ("add_", lambda v, o: v.add_(o), np.add),
    ("sub_", lambda v, o: v.sub_(o), np.subtract),
    ("mul_", lambda v, o: v.mul_(o), np.multiply),
    ("div_", lambda v, o: v.div_(o), np.true_divide),
    ("iadd", lambda v, o: operator.iadd(v, o), np.add),
    ("isub", lambda v, o: operator.isub(v, o), np.subtract),
    ("imul", lambda v, o: operator.imul(v, o), np.multiply),
    ("itruediv", lambda v, o: operator.itruediv(v, o), np.true_divide),
    ("pow_", lambda v, o: v.pow_(o), lambda a, b: np.power(np.abs(a), b)),
]


@pytest.mark.parametrize("name, apply, ref", INPLACE, ids=[x[0] for x in INPLACE])
@given(case=view_of_base(), data=st.data())
@device_settings
def test_in_place_binary_ops_write_through_views(device, name, apply, ref, case, data):
    shape, make_view, numpy_view = case
    base, a = arange_pair(shape, device)
    if name == "pow_":
        base, a = base.abs(), np.abs(a)
    view, va = make_view(base), numpy_view(a)
    other_shape = data.draw(hnp.broadcastable_shapes(va.shape, min_side=1, max_dims=va.ndim).filter(
        lambda s: np.broadcast_shapes(s, va.shape) == va.shape))
    other = data.draw(hnp.arrays(np.float32, other_shape, elements=st.sampled_from([0.5, 1.0, 2.0, -1.5])))
    if name == "pow_":
        other = np.abs(other)
    scalar = data.draw(st.booleans())
    operand = float(other.reshape(-1)[0]) if scalar and other.size else plugrad.tensor(other, device=device)
    np_operand = np.float32(operand) if isinstance(operand, float) else other
    version = base._version
    out = apply(view, operand)
    assert out is view  # in-place ops return the very tensor they modified
    va[...] = ref(va, np_operand)
    assert_tensor_close(base, a, F32, rtol=1e-6, atol=1e-6)
    assert_tensor_close(view, va, F32, rtol=1e-6, atol=1e-6)
    assert base._version > version


@given(case=view_of_base(), data=st.data())
@device_settings
def test_fill_zero_clamp_copy_write_through_views(device, case, data):
    shape, make_view, numpy_view = case
    base, a = arange_pair(shape, device)
    view, va = make_view(base), numpy_view(a)
    op = data.draw(st.sampled_from(["fill_", "zero_", "clamp_", "copy_", "neg_", "exp_"]))
    if op == "fill_":
        value = data.draw(st.sampled_from([-1.0, 2.5, 7]))
        view.fill_(value)
        va[...] = value
    elif op == "zero_":
        view.zero_()
        va[...] = 0
    elif op == "clamp_":
        view.clamp_(0.5, 1.5)
        va[...] = np.clip(va, 0.5, 1.5)
    elif op == "copy_":
        src = data.draw(hnp.arrays(np.int64, va.shape[-1:] if va.ndim else (), elements=st.integers(-3, 3)))
        view.copy_(plugrad.tensor(src, device=device))  # broadcast, converted from int64
        va[...] = src
    elif op == "neg_":
        view.neg_()
        va[...] = -va
    else:
        view.exp_()
        va[...] = np.exp(va)
    assert_tensor_close(base, a, F32)


def test_every_view_of_a_storage_sees_the_write(device):
    base = plugrad.zeros(3, 4, device=device)
    row, col, flat, tr = base[1], base[:, 2], base.view(-1), base.t()
    row += 1
    col.mul_(3).add_(0.5)
    flat[0] = 9
    expected = np.zeros((3, 4), np.float32)
    expected[1] += 1
    expected[:, 2] = expected[:, 2] * 3 + 0.5
    expected.reshape(-1)[0] = 9
    for view, ev in ((base, expected), (row, expected[1]), (col, expected[:, 2]), (flat, expected.reshape(-1)),
                     (tr, expected.T)):
        assert_tensor_equal(view, ev)


def test_augmented_assignment_keeps_the_object(device):
    t = plugrad.ones(3, device=device)
    ident = id(t)
    t += 1
    t *= 3
    t -= plugrad.ones(3, device=device)
    t /= 2
    t **= 2
    assert id(t) == ident
    assert_tensor_equal(t, np.full(3, ((1 + 1) * 3 - 1) / 2, np.float32) ** 2)
    i = plugrad.arange(5, device=device)
    i //= 2
    i %= 2
    assert_tensor_equal(i, (np.arange(5) // 2) % 2, plugrad.int64)


def test_in_place_ops_convert_to_the_target_dtype(device):
    t = plugrad.zeros(3, dtype=plugrad.float64, device=device)
    t.add_(plugrad.tensor([1, 2, 3], device=device))
    assert_tensor_equal(t, np.array([1.0, 2.0, 3.0]), plugrad.float64)
    h = plugrad.ones(2, dtype=plugrad.float16, device=device)
    h.mul_(plugrad.tensor([0.1, 3.0], dtype=plugrad.float64, device=device))
    assert_tensor_equal(h, (np.ones(2, np.float16) * np.array([0.1, 3.0])).astype(np.float16), plugrad.float16)
    i = plugrad.zeros(2, dtype=plugrad.int32, device=device)
    i.copy_(plugrad.tensor([2.7, -2.7], device=device))
    assert_tensor_equal(i, np.array([2, -2], np.int32), plugrad.int32)


# ---- out= ------------------------------------------------------------------------------------------------

OUT_OPS = [
    ("add", lambda x, y, out: plugrad.add(x, y, out=out), np.add),
    ("sub", lambda x, y, out: plugrad.sub(x, y, out=out), np.subtract),
    ("mul", lambda x, y, out: plugrad.mul(x, y, out=out), np.multiply),
    ("div", lambda x, y, out: plugrad.div(x, y, out=out), np.true_divide),
    ("maximum", lambda x, y, out: plugrad.maximum(x, y, out=out), np.maximum),
    ("matmul", lambda x, y, out: plugrad.matmul(x, y.t(), out=out), lambda a, b: a @ b.T),
    ("cat", lambda x, y, out: plugrad.cat([x, y], out=out), lambda a, b: np.concatenate([a, b])),
    ("exp", lambda x, y, out: plugrad.exp(x, out=out), lambda a, b: np.exp(a)),
    ("sum", lambda x, y, out: plugrad.sum(x, 0, out=out), lambda a, b: a.sum(0)),
]


@pytest.mark.parametrize("name, call, ref", OUT_OPS, ids=[o[0] for o in OUT_OPS])
def test_out_argument_receives_the_result(device, name, call, ref):
    x = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    y = np.array([[0.5, -1.0], [2.0, 8.0]], np.float32)
    expected = ref(x, y).astype(np.float32)
    out = plugrad.empty(expected.shape, device=device)
    r = call(plugrad.tensor(x, device=device), plugrad.tensor(y, device=device), out)
    assert r is out
    assert_tensor_close(out, expected, F32)
    # an out of another shape is resized to the result's
    other = plugrad.empty(0, device=device)
    assert call(plugrad.tensor(x, device=device), plugrad.tensor(y, device=device), other) is other
    assert_tensor_close(other, expected, F32)


def test_seed_style_out_with_int_inputs_and_float_out(device):
    x = plugrad.tensor([[1, 2, 3], [4, 5, 6]], device=device)
    y = plugrad.tensor([[7, 8, 9], [10, 11, 12]], device=device)
    z = plugrad.empty(2, 3, device=device)
    plugrad.add(x, y, out=z)
    assert_tensor_equal(z, (np.array([[1, 2, 3], [4, 5, 6]]) + np.array([[7, 8, 9], [10, 11, 12]])).astype(
        np.float32), F32)


def test_out_writes_through_to_a_views_base(device):
    base = plugrad.zeros(2, 3, device=device)
    plugrad.mul(plugrad.ones(3, device=device), 2, out=base[1])
    expected = np.zeros((2, 3), np.float32)
    expected[1] = 2
    assert_tensor_equal(base, expected)
    with pytest.raises(RuntimeError, match="resize"):
        plugrad.add(plugrad.ones(4, device=device), 1, out=base[0])


# ---- refused in-place ops change nothing ----------------------------------------------------------------

REFUSED = [
    ("broadcast to a larger shape", F32, lambda t: t.add_(plugrad.ones(2, 2, 3)), "doesn't match the broadcast"),
    ("incompatible shapes", F32, lambda t: t.mul_(plugrad.ones(4)), "must match the size"),
    ("float into int", plugrad.int64, lambda t: t.add_(1.5), "can't be cast"),
    ("float tensor into int", plugrad.int32, lambda t: t.mul_(plugrad.ones(3)), "can't be cast"),
    ("true division of ints", plugrad.int32, lambda t: t.div_(2), "can't be cast"),
    ("int division by zero", plugrad.int64, lambda t: t.floor_divide_(0), "ZeroDivisionError"),
    ("int remainder by zero", plugrad.int64, lambda t: t.remainder_(plugrad.zeros(3, dtype=plugrad.int64)),
     "ZeroDivisionError"),
    ("copy_ of a wrong shape", F32, lambda t: t.copy_(plugrad.ones(4)), "must match the size"),
    ("fill_ overflow", plugrad.int8, lambda t: t.fill_(1000), "without overflow"),
    ("write into an expanded view", F32, lambda t: t[:1].expand(2, 3).add_(1), "single memory location"),
    ("setitem of a wrong shape", F32, lambda t: t.__setitem__(slice(None), plugrad.ones(5)), "size"),
    ("bool subtraction", plugrad.int64, lambda t: t.sub_(True), "Subtraction"),
    ("bool subtraction scaled by alpha", F32, lambda t: t.sub_(plugrad.ones(3, dtype=plugrad.bool), alpha=2),
     "Subtraction"),
    ("int into bool", plugrad.bool, lambda t: t.add_(1), "can't be cast"),
]


@pytest.mark.parametrize("what, dtype, op, message", REFUSED, ids=[r[0] for r in REFUSED])
def test_a_refused_in_place_op_leaves_the_tensor_unchanged(what, dtype, op, message):
    t = plugrad.tensor([[1, 2, 3], [4, 5, 6]], dtype=dtype)
    before, version = to_np(t), t._version
    with pytest.raises(RuntimeError, match=message):
        op(t)
    assert_tensor_equal(t, before, dtype)
    assert t._version == version
