"""Memory semantics: in-place forms (result, aliasing through views, autograd's
version counter and leaf rules) and view ops (shared storage both ways, shared
version counter)."""

from __future__ import annotations

import numpy as np
import plugrad

from ..compare import Mismatch, assert_array_close, assert_close, expected_as, flatten_result
from ..device import to_numpy
from ..opinfo import data_arrays
from .base import Check, NotApplicable, assert_unchanged, expected_dtypes, fixed, main_dtype, reference, samples

__all__ = ["INPLACE", "VIEW", "SEMANTIC_CHECKS"]


def _cases(op, device):
    d = main_dtype(op, device)
    if d is None:
        return [("-", f"the device supports none of the op's dtypes ({', '.join(sorted(op.dtypes))})")]
    return [(d, None)]


def _expect_raise(fn, exc, what):
    try:
        fn()
    except exc:
        return
    except Exception as other:  # noqa: BLE001 - a wrong exception class is the failure reported
        raise Mismatch(f"{what}: expected {exc.__name__}, got {type(other).__name__}: {other}") from other
    raise Mismatch(f"{what}: expected {exc.__name__}, nothing was raised")


# ---- in-place --------------------------------------------------------------------------------

def run_inplace(ctx, op, dtype, sample):
    dev = ctx.device
    name = op.inplace_name()
    first = sample.args[0] if sample.args else None
    if not isinstance(first, np.ndarray):
        raise NotApplicable()
    names = [dtype.name] * len(data_arrays(sample))
    expected = reference(op, sample, names)
    want = expected_dtypes(op, sample, names)
    if np.shape(expected) != first.shape or not isinstance(want, plugrad.dtype) or \
            not plugrad.dtypes.can_cast(want, dtype):
        raise NotApplicable()

    # 1. the result is written into self, which is returned
    args, kwargs, tensors = dev.materialize(sample, dtype)
    others = tensors[1:]
    before = [to_numpy(t) for t in others]
    ctx.calling(op, sample, names, "inplace")
    r = getattr(args[0], name)(*args[1:], **kwargs)
    if r is not args[0]:
        raise Mismatch(f"{name}() returned a new tensor instead of self")
    if args[0].dtype != dtype:
        raise Mismatch(f"{name}() changed self's dtype to {args[0].dtype}")
    assert_close(args[0], expected, op.tolerance, f"self after {name}()")
    assert_unchanged(others, before, f"{name}() (its other arguments)")

    # 2. through a view: the viewed elements change, the rest of the storage does not
    if first.ndim:
        wide = np.repeat(first, 2, axis=-1)
        base = dev.tensor(wide, dtype)
        args, kwargs, _ = dev.materialize(sample, dtype)
        getattr(base[..., ::2], name)(*args[1:], **kwargs)
        got = to_numpy(base)
        if not np.array_equal(got[..., 1::2], to_numpy(dev.tensor(first, dtype))):
            raise Mismatch(f"{name}() on a strided view wrote outside the view: storage now {got.tolist()}")
        assert_array_close(got[..., ::2].astype(np.float64), expected_as(expected, dtype.name),
                           *op.tolerance(dtype.name), f"the viewed elements after {name}() on a strided view")

    if not (op.differentiable and dtype.is_floating_point):
        return
    # 3. autograd: a leaf that requires grad refuses; a saved tensor changed in place
    #    makes backward fail; the in-place op on a non-leaf has the function's gradient
    leaf = dev.tensor(first, dtype).requires_grad_(True)
    args, kwargs, _ = dev.materialize(sample, dtype)
    _expect_raise(lambda: getattr(leaf, name)(*args[1:], **kwargs), RuntimeError,
                  f"{name}() on a leaf that requires grad")
    h = leaf * 1.0
    w = h * h
    getattr(h, name)(*args[1:], **kwargs)
    _expect_raise(lambda: w.sum().backward(), RuntimeError,
                  f"backward through a tensor saved for backward and then changed by {name}() "
                  f"(the version counter)")
    h = leaf * 1.0
    getattr(h, name)(*args[1:], **kwargs)
    (g_inplace,) = plugrad.autograd.grad([h.sum()], [leaf])
    leaf2 = dev.tensor(first, dtype).requires_grad_(True)
    (g_function,) = plugrad.autograd.grad([op.function(leaf2, *args[1:], **kwargs).sum()], [leaf2])
    assert_array_close(to_numpy(g_inplace), to_numpy(g_function), *op.tolerance(dtype.name),
                       f"gradient through {name}() on a non-leaf (against the function form)")


INPLACE = Check("inplace", "the in-place form writes the result into self and returns it, writes through "
                "views without touching the rest of the storage, bumps the version counter, refuses leaves "
                "that require grad, and has the function's gradient",
                lambda op, device: _cases(op, device) if op.inplace_name() else [], run_inplace,
                lambda ctx, op, dtype: samples(ctx, op, dtype, "forward"),
                lambda ctx, op, dtype: [s for s in [fixed(ctx, op, dtype, "forward")] if s is not None],
                {"ci": 2, "thorough": 25})


# ---- views ------------------------------------------------------------------------------------

def run_view(ctx, op, dtype, sample):
    dev = ctx.device
    first = sample.args[0] if sample.args else None
    if not isinstance(first, np.ndarray) or first.size == 0:
        raise NotApplicable()
    arrays = data_arrays(sample)
    names = [dtype.name] * len(arrays)
    # which input element each output element reads: the reference applied to element ids
    ids = np.arange(first.size, dtype=np.float64).reshape(first.shape)
    id_names = ["float64"] * len(arrays)
    covered = [np.asarray(c) for c in flatten_result(reference(op, sample.replace_arrays([ids] + arrays[1:]),
                                                              id_names))]
    args, kwargs, _ = dev.materialize(sample, dtype)
    x = args[0]
    ctx.calling(op, sample, names)
    outs = [o for o in flatten_result(op.function(*args, **kwargs)) if isinstance(o, plugrad.Tensor)]

    # 1. writes to the input show through every output
    x.copy_(dev.tensor(ids, dtype))
    for i, (o, c) in enumerate(zip(outs, covered)):
        if not np.array_equal(to_numpy(o).astype(np.float64), c):
            raise Mismatch(f"output {i} does not see a write to the input: it reads {to_numpy(o).tolist()}, "
                           f"expected the input elements {c.tolist()}")

    # 2. writes to an output show in the input (outputs without repeated elements)
    for i, (o, c) in enumerate(zip(outs, covered)):
        if c.size and len(np.unique(c)) == c.size:
            marker = first.size + 1
            o.fill_(marker)
            now = to_numpy(x).astype(np.float64).reshape(-1)
            want = ids.reshape(-1).copy()
            want[c.reshape(-1).astype(np.int64)] = marker
            if not np.array_equal(now, want):
                raise Mismatch(f"a write to output {i} is not seen in the input: it holds {now.tolist()}, "
                               f"expected {want.tolist()}")
            x.copy_(dev.tensor(ids, dtype))
            break

    # 3. the version counter is shared: changing the input in place invalidates a
    #    view that backward saved
    if not (op.differentiable and dtype.is_floating_point):
        return
    leaf = dev.tensor(first, dtype).requires_grad_(True)
    h = leaf * 1.0
    rest, kwargs, _ = dev.materialize(sample, dtype)
    v = [o for o in flatten_result(op.function(h, *rest[1:], **kwargs)) if isinstance(o, plugrad.Tensor)][0]
    u = v * v
    h.mul_(2.0)
    _expect_raise(lambda: u.sum().backward(), RuntimeError,
                  "backward through a view saved for backward after its base was changed in place")


VIEW = Check("view", "the result shares storage with the input (writes show both ways) and its version "
             "counter (an in-place change of the base invalidates a saved view)",
             lambda op, device: _cases(op, device) if op.view else [], run_view,
             lambda ctx, op, dtype: samples(ctx, op, dtype, "forward"),
             lambda ctx, op, dtype: [s for s in [fixed(ctx, op, dtype, "forward")] if s is not None],
             {"ci": 2, "thorough": 20})

SEMANTIC_CHECKS = (INPLACE, VIEW)
