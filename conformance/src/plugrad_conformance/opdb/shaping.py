"""Entries for ``plugrad.ops.shaping``: broadcasting, the NumPy-style stacks and splits,
``meshgrid`` and ``diff``."""

from __future__ import annotations

import numpy as np

from ..opinfo import ALL, ErrorInput, OpInfo, Sample

FAMILY = "plugrad.ops.shaping"


def _s(name, ref, sample, **kw):
    kw.setdefault("dtypes", ALL)
    return OpInfo(name, FAMILY, ref, sample, **kw)


def _broadcast_to_sample(g):
    shape = g.shape(max_ndim=2, max_size=3)
    target = tuple(g.integers(1, 3) if n == 1 else n for n in shape)
    return Sample(g.array(shape), g.choice([(), (2,)]) + target)


def _broadcast_tensors_sample(g):
    return Sample(*[g.array(s) for s in g.shapes(g.integers(1, 3))])


def _meshgrid_sample(g):
    parts = [g.array(g.choice([(g.integers(1 if g.purpose != "forward" else 0, 3),), ()]))
             for _ in range(g.integers(1, 3))]
    return Sample(*parts, indexing=g.choice(["ij", "xy"]))


def _meshgrid_ref(*tensors, indexing):
    return np.meshgrid(*[np.reshape(t, -1) for t in tensors], indexing=indexing)


def _parts_sample(max_ndim):
    def sample(g):
        shape = g.shape(max_ndim=max_ndim, max_size=3, min_size=1)
        return Sample([g.array(shape) for _ in range(g.integers(1, 3))])
    return sample


def _column_stack_sample(g):
    rows = g.integers(1, 3)
    return Sample([g.array(g.choice([(rows,), (rows, g.integers(1, 2))])) for _ in range(g.integers(1, 3))])


def _atleast_sample(g):
    shape = g.shape(max_ndim=3, max_size=3)
    if g.purpose == "forward" and g.boolean():
        return Sample(g.array(shape), g.array(g.shape(max_ndim=3, max_size=3)))
    return Sample(g.array(shape))


def _atleast(numpy_fn):
    def ref(*tensors):
        out = numpy_fn(*tensors)
        return tuple(out) if isinstance(out, list) else out
    return ref


def _tensor_split_sample(g):
    x = g.array(g.shape(min_ndim=1, max_ndim=3, max_size=4))
    d = g.integers(0, x.ndim - 1)
    if g.boolean():
        return Sample(x, g.integers(1, 4), d)
    return Sample(x, [g.integers(-2, 5) for _ in range(g.integers(0, 3))], d)


def _tensor_split_ref(x, indices_or_sections, dim=0):
    return tuple(np.array_split(x, indices_or_sections, axis=dim)) if isinstance(indices_or_sections, int) \
        else _split_at(x, indices_or_sections, dim)


def _split_at(x, indices, dim):
    n = x.shape[dim]
    bounds = [0, *indices, n]
    out = []
    for a, b in zip(bounds, bounds[1:]):
        a, b, _ = slice(a, b).indices(n)
        out.append(np.take(x, np.arange(a, max(a, b)), axis=dim))
    return tuple(out)


def _dsplit_sample(min_ndim, dim_of):
    def sample(g):
        x = g.array(g.shape(min_ndim=min_ndim, max_ndim=3, max_size=4, min_size=1))
        n = x.shape[dim_of(x.ndim)]
        if g.boolean():
            return Sample(x, g.choice([k for k in range(1, n + 1) if n % k == 0]))
        return Sample(x, [g.integers(0, n) for _ in range(g.integers(1, 2))])
    return sample


def _numpy_split(fn, dim_of):
    def ref(x, indices_or_sections):
        if isinstance(indices_or_sections, int):
            return tuple(fn(x, indices_or_sections))
        return _split_at(x, indices_or_sections, dim_of(x.ndim))
    return ref


def _diff_sample(g):
    x = g.array(g.shape(min_ndim=1, max_ndim=3, max_size=4))
    d = g.integers(0, x.ndim - 1)
    s = Sample(x, g.integers(0, 3), d - x.ndim if g.boolean() else d)
    if g.boolean():
        shape = list(x.shape)
        shape[d] = g.integers(1, 2)
        s.kwargs["prepend" if g.boolean() else "append"] = g.array(tuple(shape))
    return s


def _diff_ref(x, n=1, dim=-1, prepend=None, append=None):
    if n == 0:      # nothing is joined either
        return x
    kwargs = {k: v for k, v in (("prepend", prepend), ("append", append)) if v is not None}
    if x.dtype == bool:
        y = np.concatenate([p for p in (prepend, x, append) if p is not None], axis=dim)
        for _ in range(n):
            y = np.take(y, np.arange(1, y.shape[dim]), dim) != np.take(y, np.arange(0, y.shape[dim] - 1), dim)
        return y
    return np.diff(x, n, axis=dim, **kwargs)


ENTRIES = [
    _s("broadcast_to", lambda x, size: np.broadcast_to(x, size), _broadcast_to_sample, view=True, method=False,
       errors=[ErrorInput(lambda g: Sample(g.array((3,)), (2,)), RuntimeError, "size 3 to 2")]),
    _s("broadcast_tensors", lambda *ts: tuple(np.broadcast_arrays(*ts)), _broadcast_tensors_sample, method=False,
       errors=[ErrorInput(lambda g: Sample(g.array((3,)), g.array((2,))), RuntimeError, "sizes 3 and 2")]),
    _s("meshgrid", _meshgrid_ref, _meshgrid_sample, method=False,
       errors=[ErrorInput(lambda g: Sample(g.array((2, 2)), indexing="ij"), RuntimeError, "a 2-d tensor"),
               ErrorInput(lambda g: Sample(g.array((2,)), indexing="yx"), RuntimeError, "an unknown indexing")]),
    _s("atleast_1d", _atleast(np.atleast_1d), _atleast_sample, method=False),
    _s("atleast_2d", _atleast(np.atleast_2d), _atleast_sample, method=False),
    _s("atleast_3d", _atleast(np.atleast_3d), _atleast_sample, method=False),
    _s("dstack", lambda ts: np.dstack(ts), _parts_sample(3), method=False,
       errors=[ErrorInput(lambda g: Sample([]), RuntimeError, "no tensors")]),
    _s("column_stack", lambda ts: np.column_stack(ts), _column_stack_sample, method=False,
       errors=[ErrorInput(lambda g: Sample([g.array((2,)), g.array((3,))]), RuntimeError, "2 and 3 rows")]),
    _s("row_stack", lambda ts: np.vstack(ts), _parts_sample(2), method=False),
    _s("tensor_split", _tensor_split_ref, _tensor_split_sample, view=True,
       errors=[ErrorInput(lambda g: Sample(g.array(()), 2), RuntimeError, "a 0-d input"),
               ErrorInput(lambda g: Sample(g.array((3,)), 0), RuntimeError, "0 sections")]),
    _s("hsplit", _numpy_split(np.hsplit, lambda nd: 0 if nd == 1 else 1), _dsplit_sample(1, lambda nd: 0 if nd == 1
                                                                                         else 1), view=True,
       errors=[ErrorInput(lambda g: Sample(g.array((3,)), 2), RuntimeError, "3 in 2 sections")]),
    _s("vsplit", _numpy_split(np.vsplit, lambda nd: 0), _dsplit_sample(2, lambda nd: 0), view=True,
       errors=[ErrorInput(lambda g: Sample(g.array((3,)), 1), RuntimeError, "a 1-d input")]),
    _s("dsplit", _numpy_split(np.dsplit, lambda nd: 2), _dsplit_sample(3, lambda nd: 2), view=True,
       errors=[ErrorInput(lambda g: Sample(g.array((3, 3)), 1), RuntimeError, "a 2-d input")]),
    _s("diff", _diff_ref, _diff_sample, dtypes=ALL - {"uint8"},
       errors=[ErrorInput(lambda g: Sample(g.array(())), RuntimeError, "a 0-d input"),
               ErrorInput(lambda g: Sample(g.array((3,)), -1), RuntimeError, "a negative order")]),
]

__all__ = ["ENTRIES"]
