"""Entries for ``plugrad.ops.gather``: take_along_dim, repeat_interleave, index_copy,
index_fill, masked_scatter and scatter_reduce."""

from __future__ import annotations

import numpy as np

from ..opinfo import ALL, Arr, ErrorInput, OpInfo, Sample

FAMILY = "plugrad.ops.gather"


def _g(name, ref, sample, **kw):
    kw.setdefault("dtypes", ALL)
    return OpInfo(name, FAMILY, ref, sample, **kw)


def _int(values):
    return Arr(np.asarray(values, dtype=np.int64), "int64")


def _take_along_dim_sample(g):
    x = g.array(g.shape(min_ndim=1, max_ndim=3, max_size=3, min_size=1))
    if g.integers(0, 3) == 0:
        return Sample(x, g.index((g.integers(0, 4),), x.size, negative=False))
    d = g.integers(0, x.ndim - 1)
    ishape = tuple(g.integers(0, 3) if k == d else g.choice([1, n]) for k, n in enumerate(x.shape))
    return Sample(x, g.index(ishape, x.shape[d], negative=False), d - x.ndim if g.boolean() else d)


def _take_along_dim_ref(x, indices, dim=None):
    if dim is None:
        return x.reshape(-1)[indices.reshape(-1)]
    d = dim % x.ndim
    shape = np.broadcast_shapes(x.shape[:d] + (1,) + x.shape[d + 1:], indices.shape[:d] + (1,) + indices.shape[d + 1:])
    x = np.broadcast_to(x, shape[:d] + (x.shape[d],) + shape[d + 1:])
    indices = np.broadcast_to(indices, shape[:d] + (indices.shape[d],) + shape[d + 1:])
    return np.take_along_axis(x, indices, d)


def _repeat_sample(g):
    x = g.array(g.shape(max_ndim=2, max_size=3))
    dim = None if not x.ndim or g.boolean() else g.integers(-x.ndim, x.ndim - 1)
    n = x.size if dim is None else x.shape[dim]
    if g.boolean():
        return Sample(x, g.integers(0, 2), dim)
    return Sample(x, _int([g.integers(0, 2) for _ in range(n)]), dim)


def _repeat_ref(x, repeats, dim=None):
    if dim is None:
        x, dim = x.reshape(-1), 0
    return np.repeat(x, repeats, axis=dim)


def _slice_sample(kind):
    def sample(g):
        x = g.array(g.shape(min_ndim=1, max_ndim=3, max_size=3, min_size=1))
        d = g.integers(0, x.ndim - 1)
        n = x.shape[d]
        count = g.integers(0, n)
        index = list(g.choice([list(p) for p in _orders(n, count)]))
        if kind == "fill":
            if g.boolean():
                index = [i - n if g.boolean() else i for i in index]
            return Sample(x, d, _int(index), g.scalar(kind=g.kind) if g.boolean() else g.array(()))
        shape = x.shape[:d] + (count,) + x.shape[d + 1:]
        return Sample(x, d, _int(index), g.array(shape))
    return sample


def _orders(n, k):
    """The ways to pick ``k`` distinct slices out of ``n``, in some order (a few of them)."""
    rng = np.random.default_rng(n * 10 + k)
    return [tuple(rng.permutation(n)[:k]) for _ in range(4)]


def _index_copy_ref(x, dim, index, source):
    y = x.copy()
    sl = [slice(None)] * x.ndim
    sl[dim] = index
    y[tuple(sl)] = source
    return y


def _index_fill_ref(x, dim, index, value):
    y = x.copy()
    sl = [slice(None)] * x.ndim
    sl[dim] = index
    y[tuple(sl)] = np.asarray(value).astype(x.dtype) if x.dtype != np.float64 else value
    return y


def _masked_scatter_sample(g):
    x = g.array(g.shape(max_ndim=2, max_size=3))
    mshape = x.shape[g.integers(0, x.ndim):] if x.ndim else ()
    mask = g.mask(mshape)
    count = int(np.broadcast_to(mask.value, x.shape).sum())
    return Sample(x, mask, g.array((count + g.integers(0, 2),)))


def _masked_scatter_ref(x, mask, source):
    m = np.broadcast_to(mask, x.shape)
    y = x.copy()
    y[m] = source[:int(m.sum())]
    return y


def _scatter_reduce_sample(g):
    x = g.array(g.shape(min_ndim=1, max_ndim=2, max_size=3, min_size=1))
    d = g.integers(0, x.ndim - 1)
    ishape = tuple(g.integers(1, 3) if k == d else g.integers(1, n) for k, n in enumerate(x.shape))
    reduce = g.choice(["sum", "prod", "amax", "amin"] + (["mean"] if g.kind != "bool" else []))
    if g.purpose == "grad" and reduce in ("amax", "amin"):
        # distinct values: no ties between the elements that meet at one position
        src = g.array(ishape, unique=True)
        x = g.array(x.shape, unique=True)
    else:
        src = g.array(ishape)
    return Sample(x, d - x.ndim if g.boolean() else d, g.index(ishape, x.shape[d], negative=False), src, reduce,
                  include_self=g.boolean())


def _scatter_reduce_ref(x, dim, index, src, reduce, include_self=True):
    dim %= x.ndim
    y = x.copy()
    groups = {}
    for pos in np.ndindex(*index.shape):
        target = list(pos)
        target[dim] = index[pos]
        groups.setdefault(tuple(target), []).append(src[pos])
    ops = {"sum": np.sum, "prod": np.prod, "mean": np.mean, "amax": np.max, "amin": np.min}
    for target, values in groups.items():
        values = ([x[target]] if include_self else []) + values
        v = ops[reduce](np.array(values, dtype=x.dtype))
        if reduce == "mean" and x.dtype != np.float64:
            v = np.floor_divide(np.sum(np.array(values, dtype=np.int64)), len(values))
        y[target] = v
    return y


ENTRIES = [
    _g("take_along_dim", _take_along_dim_ref, _take_along_dim_sample,
       errors=[ErrorInput(lambda g: Sample(g.array((3, 2)), _int([0, 1]), 1), RuntimeError, "a 1-d index, 2-d input"),
               ErrorInput(lambda g: Sample(g.array((3, 2)), Arr(np.zeros((1, 1), np.int32), "int32"), 1),
                          RuntimeError, "an int32 index")]),
    _g("repeat_interleave", _repeat_ref, _repeat_sample, inplace=False,
       errors=[ErrorInput(lambda g: Sample(g.array((3,)), -1), RuntimeError, "a negative count"),
               ErrorInput(lambda g: Sample(g.array((3,)), _int([1, 1]), 0), RuntimeError, "two counts, three slices"),
               ErrorInput(lambda g: Sample(g.array((3,)), 2.0), TypeError, "a float count")]),
    _g("index_copy", _index_copy_ref, _slice_sample("copy"),
       errors=[ErrorInput(lambda g: Sample(g.array((3, 2)), 0, _int([3]), g.array((1, 2))), IndexError,
                          "index 3 of 3 slices"),
               ErrorInput(lambda g: Sample(g.array((3, 2)), 0, _int([1]), g.array((2, 2))), IndexError,
                          "one index, two slices")]),
    _g("index_fill", _index_fill_ref, _slice_sample("fill"),
       errors=[ErrorInput(lambda g: Sample(g.array((3, 2)), 1, _int([2]), 1.0), IndexError, "index 2 of 2 slices"),
               ErrorInput(lambda g: Sample(g.array((3, 2)), 1, _int([1]), g.array((1,))), RuntimeError,
                          "a 1-d value")]),
    _g("scatter_reduce", _scatter_reduce_ref, _scatter_reduce_sample, tol={"float16": (5e-3, 1e-2)},
       errors=[ErrorInput(lambda g: Sample(g.array((3,)), 0, _int([0]), g.array((1,)), "median"), RuntimeError,
                          "an unknown reduction"),
               ErrorInput(lambda g: Sample(g.array((3,)), 0, _int([3]), g.array((1,)), "sum"), RuntimeError,
                          "index 3 of 3")]),
    _g("masked_scatter", _masked_scatter_ref, _masked_scatter_sample,
       errors=[ErrorInput(lambda g: Sample(g.array((3,)), Arr(np.ones(3, bool), "bool"), g.array((2,))), RuntimeError,
                          "two source elements for three")]),
]

__all__ = ["ENTRIES"]
