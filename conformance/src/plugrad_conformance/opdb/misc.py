"""Entries for ``plugrad.ops.elementwise.numeric`` (inverse hyperbolics, ``log10``,
``copysign``/``signbit``/``ldexp``, ``fmax``/``fmin``, integer ``gcd``/``lcm``/shifts, one-sided clamps...)
and ``plugrad.ops.misc`` (``ravel``, ``Tensor.unfold``, ``isin``, ``combinations``,
the trapezoid rule, ``detach``/``fill`` functions)."""

from __future__ import annotations

import itertools

import numpy as np
import plugrad

from ..gen import Domain
from ..opinfo import ALL, FLOATS, INTS, NUMERIC, TO_BOOL, TO_FLOAT, Arr, ErrorInput, OpInfo, Sample
from .common import AWAY_FROM_INTEGERS, EVEN, NONZERO, ODD, D, binary, f64, shape_mismatch, unary

ELEMENTWISE = "plugrad.ops.elementwise"
MISC = "plugrad.ops.misc"


def _e(family, name, ref, sample, **kw):
    return OpInfo(name, family, ref, sample, **kw)


def _math(name, ref, domain, **kw):
    kw.setdefault("dtypes", ALL)
    kw.setdefault("result_dtype", TO_FLOAT)
    return _e(ELEMENTWISE, name, f64(ref), unary(domain), **kw)


def _tensors_only(name, ref, da=D, db=D, **kw):
    """A binary op whose operands are both tensors (PyTorch refuses a number)."""
    return _e(ELEMENTWISE, name, ref, binary(da, db, scalar=False), broadcasts=True, **kw)


def _not_a_tensor(name):
    return ErrorInput(lambda g: Sample(g.array((3,)), 2.0), TypeError, f"{name} with a Python number")


# ---- references ----------------------------------------------------------------------------------

def _frac_ref(x):
    return x - np.trunc(x)


def _signbit_ref(x):
    return np.signbit(x) if x.dtype.kind == "f" else (x < 0) if x.dtype != bool else np.zeros(x.shape, bool)


def _fmax_sample(g):
    sa, sb = g.shapes(2)
    if g.purpose == "forward" and g.kind == "float":
        dom = Domain(-2, 2, grid=(-1.0, 0.0, 1.0, float("nan")))
        return Sample(g.array(sa, dom), g.array(sb, dom))
    return Sample(g.array(sa, EVEN), g.array(sb, ODD))


def _heaviside_sample(g):
    sa = g.shape()
    return Sample(g.array(sa, Domain(-2, 2, grid=(-1.0, 0.0, 1.0))), g.array(sa))


def _heaviside_ref(x, values):
    return np.heaviside(x, values).astype(np.result_type(x, values))


def _ldexp_sample(g):
    sa, sb = g.shapes(2)
    return Sample(g.array(sa), g.array(sb, Domain(-3, 3, grid=(-3.0, -1.0, 0.0, 2.0, 3.0)), kind="int"))


def _ldexp_ref(x, e):
    return x * np.exp2(np.asarray(e, dtype=np.float64))


def _float_power_sample(g):
    if g.purpose == "forward" and g.integers(0, 2) == 0:
        return Sample(g.array(g.shape(), Domain(0.25, 3)), g.choice([2, 0.5, -1.5]))
    sa, sb = g.shapes(2)
    return Sample(g.array(sa, Domain(0.25, 3)), g.array(sb, Domain(-2, 2)))


def _float_power_ref(a, b):
    return np.power(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))


def _integer_pair(g):
    sa, sb = g.shapes(2)
    dom = Domain(-30, 30)
    return Sample(g.array(sa, dom), g.array(sb, dom))


def _lcm_ref(a, b):
    """|a / gcd * b| in int64, then wrapped to the operands' dtype (PyTorch's C++ promotion)."""
    wide = np.lcm(np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64))
    return wide.astype(np.result_type(a, b))


_SHIFT = Domain(-100, 100)


def _shift_sample(g):
    sa, sb = g.shapes(2)
    counts = Domain(0, 9, grid=tuple(float(v) for v in range(0, 10)))
    if g.purpose == "forward" and g.integers(0, 3) == 0:
        return Sample(g.array(sa, _SHIFT), g.choice([1, 3]))
    return Sample(g.array(sa, Domain(0, 100)), g.array(sb, counts))


def _bits(dtype):
    return np.dtype(dtype).itemsize * 8


def _left_ref(a, b):
    a, b = np.broadcast_arrays(a, b)
    valid = (b >= 0) & (b < _bits(a.dtype))
    return np.where(valid, np.left_shift(a, np.where(valid, b, 0).astype(a.dtype)), 0).astype(a.dtype)


def _right_ref(a, b):
    a, b = np.broadcast_arrays(a, b)
    valid = (b >= 0) & (b < _bits(a.dtype))
    return np.where(valid, np.right_shift(a, np.where(valid, b, 0).astype(a.dtype)),
                    np.where(a < 0, -1, 0)).astype(a.dtype)


def _clamp_sample(g):
    if g.purpose == "forward" and g.integers(0, 2) == 0:
        return Sample(g.array(g.shape(), EVEN), g.choice([0.5, -1.0, 1]) if g.kind == "float" else 1)
    sa, sb = g.shapes(2)
    return Sample(g.array(sa, EVEN), g.array(sb, ODD))


# ---- misc ----------------------------------------------------------------------------------------

def _unfold_sample(g):
    shape = g.shape(min_ndim=1, min_size=1)
    dim = g.integers(0, len(shape) - 1)
    size = g.integers(0, shape[dim])
    return Sample(g.array(shape), dim - len(shape) if g.boolean() else dim, size, g.integers(1, 3))


def _unfold_ref(x, dim, size, step):
    dim = dim % x.ndim
    n = (x.shape[dim] - size) // step + 1
    windows = [np.take(x, np.arange(i * step, i * step + size), axis=dim) for i in range(n)]
    return np.moveaxis(np.stack(windows, axis=dim), dim + 1, -1)


def _isin_sample(g):
    dom = Domain(-3, 3, grid=(-2.0, -1.0, 0.0, 1.0, 2.0))
    if g.purpose == "forward" and g.integers(0, 3) == 0:
        return Sample(g.array(g.shape(), dom), 1 if g.kind != "float" else 1.0)
    return Sample(g.array(g.shape(), dom), g.array(g.shape(), dom), invert=g.boolean())


def _isin_ref(x, t, invert=False):
    return np.isin(x, t, invert=invert)


def _combinations_sample(g):
    n = g.integers(0, 4)
    r = g.integers(0, 3)
    return Sample(g.array((n,)), r, with_replacement=g.boolean())


def _combinations_ref(x, r=2, with_replacement=False):
    if r == 0:
        return np.zeros((0,), x.dtype)
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    rows = list(pick(range(x.shape[0]), r))
    return x[np.array(rows, dtype=np.int64)] if rows else np.zeros((0, r), x.dtype)


def _trapezoid_sample(g):
    shape = g.shape(min_ndim=1, min_size=1)
    dim = g.integers(0, len(shape) - 1)
    variant = g.integers(0, 2)
    if variant == 0:
        return Sample(g.array(shape), dim=dim)
    if variant == 1:
        return Sample(g.array(shape), dx=g.choice([0.5, 2.0]), dim=dim)
    return Sample(g.array(shape), np.cumsum(g.array((shape[dim],), Domain(0.25, 1))), dim=dim)


def _spacing_ref(y, x, dx, dim):
    if x is None:
        return 1.0 if dx is None else dx
    shape = [1] * y.ndim
    shape[dim] = -1
    return np.diff(np.asarray(x, dtype=np.float64)).reshape(shape)


def _trapezoid_ref(y, x=None, dx=None, dim=-1):
    y = np.asarray(y, dtype=np.float64)
    dim = dim % y.ndim
    n = y.shape[dim]
    mids = (np.take(y, np.arange(1, n), axis=dim) + np.take(y, np.arange(0, n - 1), axis=dim)) / 2
    return (mids * _spacing_ref(y, x, dx, dim)).sum(axis=dim)


def _cumulative_ref(y, x=None, dx=None, dim=-1):
    y = np.asarray(y, dtype=np.float64)
    dim = dim % y.ndim
    n = y.shape[dim]
    mids = (np.take(y, np.arange(1, n), axis=dim) + np.take(y, np.arange(0, n - 1), axis=dim)) / 2
    return np.cumsum(mids * _spacing_ref(y, x, dx, dim), axis=dim)


def _fill_sample(g):
    return Sample(g.array(g.shape()), g.scalar(kind="int" if g.kind == "int" else g.kind))


ENTRIES = [
    _math("acosh", np.arccosh, Domain(1.25, 5)),
    _math("asinh", np.arcsinh, D),
    _math("atanh", np.arctanh, Domain(-0.875, 0.875)),
    _math("log10", np.log10, Domain(1 / 8, 8)),
    _math("deg2rad", np.deg2rad, D),
    _math("rad2deg", np.rad2deg, D),
    _e(ELEMENTWISE, "frac", _frac_ref, unary(D, AWAY_FROM_INTEGERS),
       errors=[ErrorInput(lambda g: Sample(g.array((3,))), RuntimeError, "frac of an integer tensor", "int64")]),
    _e(ELEMENTWISE, "positive", lambda x: x, unary(), dtypes=NUMERIC, inplace=False,
       errors=[ErrorInput(lambda g: Sample(g.array((3,))), RuntimeError, "+ of a bool tensor", "bool")]),
    _e(ELEMENTWISE, "signbit", _signbit_ref, unary(), dtypes=ALL, result_dtype=TO_BOOL, differentiable=False),
    _e(ELEMENTWISE, "isposinf", np.isposinf, unary(Domain(grid=(float("inf"), -float("inf"), 0.0, 1.5))),
       dtypes=ALL, result_dtype=TO_BOOL, differentiable=False),
    _e(ELEMENTWISE, "isneginf", np.isneginf, unary(Domain(grid=(float("inf"), -float("inf"), 0.0, 1.5))),
       dtypes=ALL, result_dtype=TO_BOOL, differentiable=False),
    _e(ELEMENTWISE, "copysign", f64(np.copysign), binary(D, NONZERO, grad_da=NONZERO), dtypes=ALL,
       result_dtype=TO_FLOAT, broadcasts=True, promotes=True, errors=[shape_mismatch()]),
    _e(ELEMENTWISE, "fmax", np.fmax, _fmax_sample, dtypes=NUMERIC, broadcasts=True, promotes=True,
       errors=[_not_a_tensor("fmax")]),
    _e(ELEMENTWISE, "fmin", np.fmin, _fmax_sample, dtypes=NUMERIC, broadcasts=True, promotes=True,
       errors=[_not_a_tensor("fmin")]),
    _e(ELEMENTWISE, "heaviside", _heaviside_ref, _heaviside_sample, dtypes=NUMERIC, differentiable=False,
       errors=[_not_a_tensor("heaviside")]),
    _e(ELEMENTWISE, "ldexp", _ldexp_ref, _ldexp_sample, dtypes=FLOATS, broadcasts=True,
       errors=[_not_a_tensor("ldexp")]),
    _e(ELEMENTWISE, "float_power", _float_power_ref, _float_power_sample, dtypes=NUMERIC,
       result_dtype=lambda d, s: plugrad.float64, inplace=False),
    _e(ELEMENTWISE, "gcd", np.gcd, _integer_pair, dtypes=INTS - {"uint8"}, differentiable=False, broadcasts=True,
       errors=[ErrorInput(lambda g: Sample(g.array((3,)), g.array((3,))), RuntimeError, "gcd of floats")]),
    _e(ELEMENTWISE, "lcm", _lcm_ref, _integer_pair, dtypes=INTS - {"uint8"}, differentiable=False, broadcasts=True,
       errors=[ErrorInput(lambda g: Sample(g.array((3,)), g.array((3,))), RuntimeError, "lcm of floats")]),
    _e(ELEMENTWISE, "bitwise_left_shift", _left_ref, _shift_sample, dtypes=INTS, differentiable=False,
       broadcasts=True, operator=lambda a, b: a << b,
       errors=[ErrorInput(lambda g: Sample(g.array((3,)), g.array((3,))), RuntimeError, "a shift of floats")]),
    _e(ELEMENTWISE, "bitwise_right_shift", _right_ref, _shift_sample, dtypes=INTS, differentiable=False,
       broadcasts=True, operator=lambda a, b: a >> b,
       errors=[ErrorInput(lambda g: Sample(g.array((3,)), g.array((3,))), RuntimeError, "a shift of floats")]),
    _e(ELEMENTWISE, "clamp_min", lambda x, m: np.maximum(x, m), _clamp_sample, dtypes=NUMERIC),
    _e(ELEMENTWISE, "clamp_max", lambda x, m: np.minimum(x, m), _clamp_sample, dtypes=NUMERIC),
    _e(MISC, "ravel", lambda x: x.reshape(-1), unary(), dtypes=ALL, inplace=False),
    _e(MISC, "unfold_windows", _unfold_ref, _unfold_sample, dtypes=ALL, method="unfold", inplace=False, view=True,
       errors=[ErrorInput(lambda g: Sample(g.array((3,)), 0, 4, 1), RuntimeError, "a window longer than the dim"),
               ErrorInput(lambda g: Sample(g.array((3,)), 0, 2, 0), RuntimeError, "step 0")]),
    _e(MISC, "isin", _isin_ref, _isin_sample, dtypes=NUMERIC, result_dtype=TO_BOOL, differentiable=False,
       method=False),
    _e(MISC, "combinations", _combinations_ref, _combinations_sample, dtypes=ALL, method=False,
       errors=[ErrorInput(lambda g: Sample(g.array((2, 2))), RuntimeError, "a 2-d input")]),
    _e(MISC, "trapezoid", _trapezoid_ref, _trapezoid_sample, method=False),
    _e(MISC, "trapz", _trapezoid_ref, _trapezoid_sample, method=False),
    _e(MISC, "cumulative_trapezoid", _cumulative_ref, _trapezoid_sample, method=False),
    _e(MISC, "detach", lambda x: x, unary(), dtypes=ALL, differentiable=False, method=False),
    _e(MISC, "detach_", lambda x: x, unary(), dtypes=ALL, differentiable=False, method=False, inplace=False),
    _e(MISC, "fill", lambda x, v: np.full(x.shape, v, dtype=x.dtype), _fill_sample, dtypes=NUMERIC, method=False,
       differentiable=False),
]


# ---- the *_scatter ops, statistics, vander, unravel_index ------------------------------------------

def _select_scatter_sample(g):
    shape = g.shape(min_ndim=1, min_size=1)
    dim = g.integers(0, len(shape) - 1)
    index = g.integers(0, shape[dim] - 1)
    return Sample(g.array(shape), g.array(shape[:dim] + shape[dim + 1:]), dim, index)


def _select_scatter_ref(x, src, dim, index):
    r = x.copy()
    np.moveaxis(r, dim, 0)[index] = src
    return r


def _slice_scatter_sample(g):
    shape = g.shape(min_ndim=1, min_size=1)
    dim = g.integers(0, len(shape) - 1)
    start = g.integers(0, shape[dim] - 1)
    step = g.integers(1, 2)
    n = len(range(start, shape[dim], step))
    src_shape = shape[:dim] + (n,) + shape[dim + 1:]
    return Sample(g.array(shape), g.array(src_shape), dim, start, None, step)


def _slice_scatter_ref(x, src, dim=0, start=None, end=None, step=1):
    r = x.copy()
    np.moveaxis(r, dim, 0)[start:end:step] = np.moveaxis(src, dim, 0)
    return r


def _diagonal_scatter_sample(g):
    rows, cols = g.integers(1, 4), g.integers(1, 4)
    offset = g.integers(-rows + 1, cols - 1)
    n = len(np.diagonal(np.zeros((rows, cols)), offset))
    return Sample(g.array((rows, cols)), g.array((n,)), offset)


def _diagonal_scatter_ref(x, src, offset=0):
    r = x.copy()
    rows, cols = r.shape
    for k in range(len(src)):
        i, j = (k, k + offset) if offset >= 0 else (k - offset, k)
        r[i, j] = src[k]
    return r


def _as_strided_scatter_sample(g):
    n = g.integers(3, 6)
    return Sample(g.array((n,)), g.array((2,)), (2,), (2,), g.integers(0, n - 3))


def _as_strided_scatter_ref(x, src, size, stride, storage_offset=0):
    r = x.copy()
    r[storage_offset:storage_offset + stride[0] * size[0]:stride[0]] = src
    return r


def _cov_sample(g):
    rows, cols = g.integers(1, 3), g.integers(2, 5)
    variant = g.integers(0, 2) if g.purpose == "forward" else 0
    x = g.array((rows, cols) if g.boolean() else (cols,))
    if variant == 1:
        return Sample(x, correction=0)
    if variant == 2:
        return Sample(x, fweights=Arr(np.arange(1, cols + 1), "int64"), aweights=np.linspace(0.5, 1.5, cols),
                      nograd=(1,))
    return Sample(x)


def _cov_ref(x, correction=1, fweights=None, aweights=None):
    x = np.asarray(x, dtype=np.float64)
    return np.asarray(np.cov(x, ddof=correction, fweights=fweights, aweights=aweights))


def _corrcoef_sample(g):
    return Sample(g.array((g.integers(2, 3), g.integers(3, 5)), Domain(-4, 4), unique=True))


def _vander_sample(g):
    n = g.integers(1, 4)
    return Sample(g.array((n,), Domain(-2, 2)), g.choice([None, 3, 1]), g.boolean())


def _vander_ref(x, N=None, increasing=False):
    r = np.vander(x, N, increasing=increasing)
    return r.astype(np.int64) if x.dtype.kind in "biu" else r


def _unravel_sample(g):
    shape = tuple(g.integers(1, 4) for _ in range(g.integers(1, 3)))
    total = int(np.prod(shape))
    return Sample(g.array((g.integers(1, 4),), Domain(0, total - 1, grid=tuple(float(v) for v in range(total)))),
                  shape)


def _unravel_ref(indices, shape):
    return tuple(np.asarray(c, dtype=np.int64) for c in np.unravel_index(indices.astype(np.int64), shape))


ENTRIES += [
    _e(MISC, "select_scatter", _select_scatter_ref, _select_scatter_sample, dtypes=ALL),
    _e(MISC, "slice_scatter", _slice_scatter_ref, _slice_scatter_sample, dtypes=ALL),
    _e(MISC, "diagonal_scatter", _diagonal_scatter_ref, _diagonal_scatter_sample, dtypes=ALL,
       errors=[ErrorInput(lambda g: Sample(g.array((3, 3)), g.array((2,))), RuntimeError, "a src of the wrong size")]),
    _e(MISC, "as_strided_scatter", _as_strided_scatter_ref, _as_strided_scatter_sample, dtypes=ALL, layouts=False),
    _e(MISC, "cov", _cov_ref, _cov_sample, dtypes=FLOATS,
       errors=[ErrorInput(lambda g: Sample(g.array((2, 2, 2))), RuntimeError, "a 3-d input")]),
    _e(MISC, "corrcoef", lambda x: np.corrcoef(np.asarray(x, dtype=np.float64)), _corrcoef_sample,
       tol={"float16": (2e-2, 2e-2)}),
    _e(MISC, "vander", _vander_ref, _vander_sample, dtypes=NUMERIC,
       result_dtype=lambda d, s: d if d.is_floating_point else plugrad.int64, method=False),
    _e(MISC, "unravel_index", _unravel_ref, _unravel_sample, dtypes=INTS - {"uint8", "int8"},
       result_dtype=lambda d, s: (plugrad.int64,) * len(s.args[1]), differentiable=False, method=False),
]


# ---- dist, renorm ----------------------------------------------------------------------------------

def _dist_sample(g):
    sa, sb = g.shapes(2)
    p = g.choice([2, 1, 3, 1.5]) if g.purpose in ("forward", "grad") else 2
    return Sample(g.array(sa, EVEN), g.array(sb, ODD), p)


def _dist_ref(a, b, p=2):
    d = np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))
    return np.asarray((d ** p).sum() ** (1.0 / p))


def _renorm_sample(g):
    shape = g.shape(min_ndim=1, min_size=1)
    return Sample(g.array(shape, AWAY_FROM_INTEGERS), g.choice([1, 2, 3]), g.integers(0, len(shape) - 1),
                  g.choice([0.5, 1.5, 100.0]))


def _renorm_ref(x, p, dim, maxnorm):
    x = np.asarray(x, dtype=np.float64)
    dims = tuple(d for d in range(x.ndim) if d != dim)
    norm = (np.abs(x) ** p).sum(axis=dims, keepdims=True) ** (1.0 / p)
    return x * np.where(norm > maxnorm, maxnorm / (norm + 1e-7), 1.0)


ENTRIES += [
    _e(MISC, "dist", _dist_ref, _dist_sample, broadcasts=True,
       errors=[ErrorInput(lambda g: Sample(g.array((3,)), g.array((3,))), RuntimeError, "dist of integers",
                          "int64")]),
    _e(MISC, "renorm", _renorm_ref, _renorm_sample, tol={"float16": (1e-2, 1e-2)},
       errors=[ErrorInput(lambda g: Sample(g.array((2, 2)), 0, 0, 1.0), RuntimeError, "p = 0"),
               ErrorInput(lambda g: Sample(g.array((2, 2)), 2, 0, -1.0), RuntimeError, "a negative maxnorm")]),
]


# ---- histogram -------------------------------------------------------------------------------------

def _histogram_sample(g):
    x = g.array(g.shape(min_ndim=1, min_size=1), Domain(-4, 4, exclude=lambda v: float(2 * v).is_integer()))
    variant = g.integers(0, 2)
    if variant == 0:
        return Sample(x, g.integers(1, 5), range=(-4.0, 4.0))
    if variant == 1:
        return Sample(x, g.integers(1, 5), range=(-2.0, 2.0), density=g.boolean())
    return Sample(x, Arr(np.array([-4.0, -1.0, 0.0, 4.0]), "float64"), nograd=(1,))


def _histogram_ref(x, bins, range=None, weight=None, density=False):
    hist, edges = np.histogram(np.asarray(x, dtype=np.float64), np.asarray(bins) if not isinstance(bins, int)
                               else bins, range=range, weights=weight, density=density)
    return hist.astype(np.float64), edges


ENTRIES += [
    _e(MISC, "histogram", _histogram_ref, _histogram_sample, result_dtype=lambda d, s: (d, d), differentiable=False,
       errors=[ErrorInput(lambda g: Sample(g.array((3,)), 2), RuntimeError, "histogram of integers", "int64")]),
]


# ---- gradient --------------------------------------------------------------------------------------

def _gradient_sample(g):
    shape = tuple(g.integers(3, 5) for _ in range(g.integers(1, 2)))
    variant = g.integers(0, 2)
    x = g.array(shape)
    if variant == 0:
        return Sample(x, edge_order=g.choice([1, 2]))
    if variant == 1:
        return Sample(x, spacing=g.choice([0.5, 2.0]), dim=len(shape) - 1)
    coords = [np.cumsum(np.linspace(0.5, 1.5, n)) for n in shape]
    return Sample(x, spacing=coords, edge_order=g.choice([1, 2]))


def _gradient_ref(x, spacing=1, dim=None, edge_order=1):
    x = np.asarray(x, dtype=np.float64)
    axes = list(range(x.ndim)) if dim is None else [dim]
    steps = [np.asarray(s, dtype=np.float64) for s in spacing] if isinstance(spacing, (list, tuple)) \
        else [spacing] * len(axes)
    return tuple(np.asarray(np.gradient(x, h, axis=a, edge_order=edge_order)) for a, h in zip(axes, steps))


def _gradient_dtype(d, s):
    n = 1 if "dim" in s.kwargs else s.args[0].ndim
    return (d if d.is_floating_point else plugrad.get_default_dtype(),) * n


ENTRIES += [
    _e(MISC, "gradient", _gradient_ref, _gradient_sample, result_dtype=_gradient_dtype, method=False,
       tol={"float16": (1e-2, 1e-2)},
       errors=[ErrorInput(lambda g: Sample(g.array((2,)), edge_order=2), RuntimeError, "too few points")]),
]


# ---- index_reduce ----------------------------------------------------------------------------------

def _index_reduce_sample(g):
    shape = g.shape(min_ndim=1, min_size=1)
    dim = g.integers(0, len(shape) - 1)
    k = g.integers(1, 4)
    src_shape = shape[:dim] + (k,) + shape[dim + 1:]
    x = g.array(shape, Domain(0.5, 2), unique=True)
    src = g.array(src_shape, Domain(-2, 2, exclude=lambda v: abs(v) < 0.25), unique=True)
    index = Arr(np.array([g.integers(0, shape[dim] - 1) for _ in range(k)], dtype=np.int64), "int64")
    return Sample(x, dim, index, src, g.choice(["prod", "mean", "amax", "amin"]), include_self=g.boolean())


def _index_reduce_ref(x, dim, index, src, reduce, include_self=True):
    out = np.moveaxis(np.array(x, copy=True), dim, 0)
    s = np.moveaxis(np.asarray(src), dim, 0)
    groups = {}
    for k, i in enumerate(np.asarray(index)):
        groups.setdefault(int(i), []).append(s[k])
    for i, rows in groups.items():
        values = ([out[i]] if include_self else []) + rows
        if reduce == "prod":
            out[i] = np.prod(values, axis=0)
        elif reduce == "mean":
            total = np.sum(values, axis=0)
            out[i] = total / len(values) if out.dtype.kind == "f" else np.floor_divide(total, len(values))
        else:
            out[i] = (np.max if reduce == "amax" else np.min)(values, axis=0)
    return np.moveaxis(out, 0, dim)


ENTRIES += [
    _e(MISC, "index_reduce", _index_reduce_ref, _index_reduce_sample, dtypes=NUMERIC - {"uint8"},
       tol={"float16": (1e-2, 1e-2)},
       errors=[ErrorInput(lambda g: Sample(g.array((3,)), 0, Arr(np.array([0]), "int64"), g.array((1,)), "sum"),
                          RuntimeError, "an unknown reduction")]),
]


# ---- poisson, binomial: the degenerate cases are deterministic ---------------------------------------
# (their distributions are checked statistically against SciPy in tests/test_gaps_misc.py)

def _poisson_sample(g):
    return Sample(g.array(g.shape(), Domain(0, 0, grid=(0.0,))))


def _binomial_sample(g):
    shape = g.shape()
    count = g.array(shape, Domain(0, 6, grid=(0.0, 1.0, 3.0, 6.0)))
    return Sample(count, g.array(shape, Domain(0, 1, grid=(0.0, 1.0))))


ENTRIES += [
    _e(MISC, "poisson", lambda x: np.zeros_like(x), _poisson_sample, differentiable=False, method=False,
       errors=[ErrorInput(lambda g: Sample(g.array((3,))), RuntimeError, "poisson of integers", "int64")]),
    _e(MISC, "binomial", lambda n, p: n * p, _binomial_sample, differentiable=False, method=False),
]

__all__ = ["ENTRIES"]
