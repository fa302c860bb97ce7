"""Helpers of the OpenCL device tests: the same array layout on the cpu and opencl
backends, random values per dtype, and comparisons of whole storages.

A case is built from a flat storage of random values and a view layout over it
(permuted, sliced with steps, offset, or expanded with stride 0), so the kernels see
the layouts the core hands them. Outputs are compared storage against storage:
elements a kernel must not touch have to stay equal too.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from plugrad.extend import dtype_from_name

ALL_DTYPES = ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64")
FLOATS = ("float16", "float32", "float64")
TOL = {"float16": (2e-3, 2e-3), "float32": (2e-5, 1e-6), "float64": (1e-12, 1e-13)}


def shapes(max_dims=4, max_side=5, min_dims=0):
    return st.lists(st.integers(0, max_side), min_size=min_dims, max_size=max_dims).map(tuple)


def nonempty_shapes(max_dims=4, max_side=5, min_dims=0):
    return st.lists(st.integers(1, max_side), min_size=min_dims, max_size=max_dims).map(tuple)


@st.composite
def layouts(draw, shape, expand=True):
    """``(storage size, strides, offset)`` of a view of exactly ``shape``."""
    nd = len(shape)
    perm = draw(st.permutations(range(nd)))
    steps = [draw(st.sampled_from((1, 1, 2))) for _ in range(nd)]
    starts = [draw(st.integers(0, 1)) for _ in range(nd)]
    expanded = [expand and n > 1 and draw(st.integers(0, 3)) == 0 for n in shape]
    extents = [1 if e else (s + (n - 1) * k + 1 if n > 0 else s + 1)
               for n, k, s, e in zip(shape, steps, starts, expanded)]
    base, acc = [0] * nd, 1
    for d in reversed(perm):
        base[d] = acc
        acc *= extents[d]
    strides = tuple(0 if e else b * k for b, k, e in zip(base, steps, expanded))
    offset = sum(0 if e else s * b for s, b, e in zip(starts, base, expanded))
    return acc, strides, offset


@st.composite
def broadcast_shape(draw, shape):
    """A shape that broadcasts to ``shape``: leading dims dropped, some dims set to 1."""
    drop = draw(st.integers(0, len(shape)))
    return tuple(1 if draw(st.integers(0, 2)) == 0 else n for n in shape[drop:])


def random_values(rng, name: str, n: int, *, low=-3.0, high=3.0, specials=True):
    """``n`` values of dtype ``name``: floats in [low, high) with some 0, -0, +-inf and
    NaN when ``specials``; small integers; random bools."""
    if name == "bool":
        return rng.random(n) < 0.5
    if name in FLOATS:
        v = rng.uniform(low, high, n)
        if specials and n:
            pick = rng.random(n)
            v[pick < 0.04] = 0.0
            v[(pick >= 0.04) & (pick < 0.06)] = -0.0
            v[(pick >= 0.06) & (pick < 0.07)] = np.inf
            v[(pick >= 0.07) & (pick < 0.08)] = -np.inf
            v[(pick >= 0.08) & (pick < 0.1)] = np.nan
        return v.astype(name)
    info = np.iinfo(name)
    return rng.integers(max(info.min, -100), min(info.max, 100) + 1, n).astype(name)


class Pair:
    """The same storage on both backends, and views over it."""

    def __init__(self, ocl, cpu, values: np.ndarray, name: str):
        self.ocl, self.cpu, self.name = ocl, cpu, name
        self.dtype = dtype_from_name(name)
        data = values.astype(name).tobytes()
        n = values.size
        self.cb = cpu.from_bytes(data, (n,), self.dtype)
        self.ob = ocl.from_bytes(data, (n,), self.dtype)

    def view(self, shape, strides, offset):
        return self.cpu.view(self.cb, shape, strides, offset), self.ocl.view(self.ob, shape, strides, offset)

    def storages(self):
        npd = np.dtype(self.name)
        return (np.frombuffer(self.cpu.to_bytes(self.cb), npd), np.frombuffer(self.ocl.to_bytes(self.ob), npd))


def make(ocl, cpu, rng, name, shape, layout, **value_kw):
    """(pair, cpu view, opencl view) of random values with ``layout``."""
    size, strides, offset = layout
    pair = Pair(ocl, cpu, random_values(rng, name, size, **value_kw), name)
    c, o = pair.view(shape, strides, offset)
    return pair, c, o


def assert_close(expected, actual, name, rtol=None, atol=None, context=""):
    if name in FLOATS:
        r, a = TOL[name]
        np.testing.assert_allclose(actual.astype(np.float64), expected.astype(np.float64),
                                   rtol=rtol if rtol is not None else r, atol=atol if atol is not None else a,
                                   equal_nan=True, err_msg=context)
    else:
        np.testing.assert_array_equal(actual, expected, err_msg=context)


def assert_same_storage(pair: Pair, context="", **tol):
    expected, actual = pair.storages()
    assert_close(expected, actual, pair.name, context=context, **tol)


def pd(name):
    return dtype_from_name(name)


def seeded(draw):
    return np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))

