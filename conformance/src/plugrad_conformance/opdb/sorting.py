"""Entries for the sorting family (``plugrad.ops.sorting``: sort and what is built on it,
searching and counting), the running extremes (``plugrad.ops.scan``), the element moves
(``plugrad.ops.rearrange``) and the samplers (``plugrad.ops.sampling``).

Forward samples of the sorting ops draw from few values, so that ties are common: the
sort is stable, and the reported indices among equal elements are part of the contract.
Gradient samples draw distinct values (a tie is a kink). The samplers are checked on
the parameters whose draws are certain (probabilities 0 and 1, one category of weight);
their distributions are tested statistically in the test suite.
"""

from __future__ import annotations

import numpy as np
import plugrad

from ..gen import Domain
from ..opinfo import ALL, INTS, NUMERIC, TO_INT64, Arr, ErrorInput, OpInfo, Sample
from .common import TIES, D

SORTING = "plugrad.ops.sorting"
SCAN = "plugrad.ops.scan"
REARRANGE = "plugrad.ops.rearrange"
SAMPLING = "plugrad.ops.sampling"

_F32_F64 = frozenset({"float32", "float64"})


def _e(family, name, ref, sample, **kw):
    kw.setdefault("inplace", False)
    return OpInfo(name, family, ref, sample, **kw)


def _values_and_indices(d, s):
    return (d, plugrad.int64)


def _data(g, min_ndim=0, min_size=None, nan=False):
    """The input: few values in forward samples (ties), distinct ones for gradients; with
    ``nan``, sometimes a NaN in a float forward sample."""
    forward = g.purpose == "forward"
    x = g.array(g.shape(min_ndim=min_ndim, min_size=min_size), TIES if forward else D, unique=not forward)
    if nan and forward and g.kind == "float" and x.size and g.boolean():
        x.reshape(-1)[g.integers(0, x.size - 1)] = np.nan
    return x


def _stable_order(x, axis, descending=False):
    """NumPy's stable argsort; descending keeps equal elements in order (NaN first)."""
    if not descending:
        return np.argsort(x, axis=axis, kind="stable")
    n = x.shape[axis]
    return (n - 1) - np.flip(np.argsort(np.flip(x, axis), axis=axis, kind="stable"), axis)


def _lanes(fn):
    """A reference on the lanes along ``dim``: ``fn(x, axis)`` for a tensor with dims, the
    0-d case as one lane of one element."""
    def ref(x, dim=-1, *args, **kwargs):
        if x.ndim == 0:
            values, indices = fn(x.reshape(1), 0, *args, **kwargs)
            return values.reshape(values.shape[1:] if values.ndim > 1 else ()), indices.reshape(())
        return fn(x, dim % x.ndim, *args, **kwargs)
    return ref


# ---- sort, argsort, msort -------------------------------------------------------------------------

def _sort_sample(g):
    x = _data(g, nan=True)
    s = Sample(x)
    variant = g.integers(0, 3)
    if variant >= 1:
        s.args += (g.dim(x.ndim),)
    if variant >= 2:
        s.args += (g.boolean(),)
    if variant == 3:
        s.kwargs["stable"] = True
    return s


def _sort_ref(x, dim=-1, descending=False, stable=None):
    if x.ndim == 0:
        return x.copy(), np.asarray(0, dtype=np.int64)
    order = _stable_order(x, dim, descending)
    return np.take_along_axis(x, order, dim), order.astype(np.int64)


def _argsort_ref(x, dim=-1, descending=False, stable=False):
    return _sort_ref(x, dim, descending)[1]


def _msort_sample(g):
    return Sample(_data(g, nan=True))


# ---- topk, kthvalue --------------------------------------------------------------------------------

def _topk_sample(g):
    x = _data(g, nan=False)
    explicit = g.boolean()
    d = g.dim(x.ndim) if explicit else -1
    n = x.shape[d] if x.ndim else 1
    s = Sample(x, g.integers(0, n))
    if explicit:
        s.args += (d,)
        if g.boolean():
            s.args += (g.boolean(),)
    return s


def _topk_ref(x, k, dim=-1, largest=True, sorted=True):
    values, indices = _sort_ref(x, dim, largest)
    if x.ndim == 0:
        return values, indices
    return np.take(values, range(k), dim), np.take(indices, range(k), dim)


def _kth_sample(g):
    x = _data(g, min_size=1)
    d = g.dim(x.ndim)
    n = x.shape[d] if x.ndim else 1
    s = Sample(x, g.integers(1, n), d)
    if g.boolean():
        s.kwargs["keepdim"] = True
    return s


def _pick_ref(x, dim, position, keepdim):
    """The element at sorted ``position`` (per lane: an array of the lanes' positions) along ``dim``."""
    if x.ndim == 0:
        return x.copy(), np.asarray(0, dtype=np.int64)
    order = _stable_order(x, dim)
    values = np.take_along_axis(x, order, dim)
    pos = np.expand_dims(np.broadcast_to(position, np.delete(np.array(x.shape), dim)), dim)
    v, i = np.take_along_axis(values, pos, dim), np.take_along_axis(order, pos, dim).astype(np.int64)
    return (v, i) if keepdim else (np.squeeze(v, dim), np.squeeze(i, dim))


def _kth_ref(x, k, dim=-1, keepdim=False):
    return _pick_ref(x, dim, k - 1, keepdim)


# ---- median, nanmedian, mode ----------------------------------------------------------------------

def _median_sample(g):
    x = _data(g, min_size=1, nan=True)
    if g.boolean():
        return Sample(x)
    s = Sample(x, g.dim(x.ndim))
    if g.boolean():
        s.kwargs["keepdim"] = True
    return s


def _median_positions(x, dim, ignore_nan):
    nans = np.isnan(x).sum(axis=dim) if x.dtype.kind == "f" else np.zeros(np.delete(np.array(x.shape), dim), int)
    n = x.shape[dim]
    if ignore_nan:
        valid = n - nans
        return np.where(valid > 0, (valid - 1) // 2, 0)
    return np.where(nans > 0, n - nans, (n - 1) // 2)


def _median_ref(ignore_nan):
    def ref(x, dim=None, keepdim=False):
        if dim is None:
            flat = x.reshape(-1)
            return _pick_ref(flat, 0, _median_positions(flat, 0, ignore_nan), False)[0]
        if x.ndim == 0:
            return x.copy(), np.asarray(0, dtype=np.int64)
        return _pick_ref(x, dim % x.ndim, _median_positions(x, dim % x.ndim, ignore_nan), keepdim)
    return ref


def _median_dtype(d, s):
    return (d, plugrad.int64) if len(s.args) == 2 else d


def _mode_sample(g):
    x = _data(g, min_size=1)
    s = Sample(x, g.dim(x.ndim))
    if g.boolean():
        s.kwargs["keepdim"] = True
    return s


def _mode_ref(x, dim=-1, keepdim=False):
    if x.ndim == 0:
        return x.copy(), np.asarray(0, dtype=np.int64)
    d = dim % x.ndim
    moved = np.moveaxis(x, d, -1)
    values = np.empty(moved.shape[:-1], dtype=x.dtype)
    indices = np.empty(moved.shape[:-1], dtype=np.int64)
    for idx in np.ndindex(*moved.shape[:-1]):
        lane = moved[idx]
        uniq, counts = np.unique(lane, return_counts=True)
        best = uniq[np.argmax(counts)]                      # the smallest of the most frequent
        values[idx] = best
        indices[idx] = np.nonzero(lane == best)[0][-1]      # its last occurrence
    if keepdim:
        values, indices = np.expand_dims(values, d), np.expand_dims(indices, d)
    return values, indices


# ---- quantile ------------------------------------------------------------------------------------

_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile_sample(nan):
    def sample(g):
        x = _data(g, min_size=1, nan=nan)
        if g.boolean():
            q = g.choice([0.0, 0.25, 0.5, 0.7, 1.0])
            s = Sample(x, q)
        else:
            s = Sample(x, g.array((g.integers(1, 3),), Domain(0, 1)), nograd=(1,))
        if x.ndim and g.boolean():
            s.kwargs["dim"] = g.dim(x.ndim)
        if g.boolean():
            s.kwargs["keepdim"] = True
        if g.boolean():
            s.kwargs["interpolation"] = g.choice(_INTERPOLATIONS)
        return s
    return sample


def _quantile_ref(ignore_nan):
    def ref(x, q, dim=None, keepdim=False, interpolation="linear"):
        qs = np.atleast_1d(np.asarray(q, dtype=np.float64))
        if dim is None:
            lanes = x.reshape(-1)
            kept = [1] * x.ndim if keepdim else []
        else:
            d = dim % x.ndim
            lanes = np.moveaxis(x, d, -1)
            kept = list(x.shape)
            if keepdim:
                kept[d] = 1
            else:
                del kept[d]
        lanes = np.sort(lanes, axis=-1)
        n = lanes.shape[-1]
        nans = np.isnan(lanes).sum(axis=-1, keepdims=True)
        count = n - nans if ignore_nan else np.full(nans.shape, n)
        ranks = qs * np.maximum(count - 1, 0)
        if not ignore_nan:
            ranks = np.where(nans > 0, n - 1, ranks)
        if interpolation == "lower":
            ranks = np.floor(ranks)
        elif interpolation == "higher":
            ranks = np.ceil(ranks)
        elif interpolation == "nearest":
            ranks = np.round(ranks)
        below = np.take_along_axis(lanes, np.floor(ranks).astype(np.int64), -1)
        above = np.take_along_axis(lanes, np.ceil(ranks).astype(np.int64), -1)
        weight = 0.5 if interpolation == "midpoint" else ranks - np.floor(ranks)
        r = below + weight * (above - below) if interpolation in ("linear", "midpoint") else below
        r = np.moveaxis(r, -1, 0).reshape([len(qs), *kept])
        return r[0] if np.ndim(q) == 0 else r
    return ref


def _quantile_errors(name):
    return [ErrorInput(lambda g: Sample(g.array((3,)), 1.5), RuntimeError, "q above 1"),
            ErrorInput(lambda g: Sample(g.array((3,)), 0.5, interpolation="cubic"), RuntimeError,
                       "an unknown interpolation"),
            ErrorInput(lambda g: Sample(g.array((3,)), 0.5), RuntimeError, f"{name} of an integer tensor", "int64"),
            ErrorInput(lambda g: Sample(g.array((0, 3)), 0.5, dim=1), RuntimeError, f"{name} of an empty tensor")]


# ---- unique ---------------------------------------------------------------------------------------

def _unique_sample(consecutive):
    def sample(g):
        x = g.array(g.shape(), TIES)
        s = Sample(x)
        if not consecutive and g.boolean():
            s.kwargs["sorted"] = True
        for flag in ("return_inverse", "return_counts"):
            if g.boolean():
                s.kwargs[flag] = True
        if x.ndim and 0 not in x.shape and g.boolean():
            s.kwargs["dim"] = g.dim(x.ndim)
        return s
    return sample


def _unique_result(values, inverse, counts, return_inverse, return_counts):
    out = [values]
    if return_inverse:
        out.append(inverse.astype(np.int64))
    if return_counts:
        out.append(counts.astype(np.int64))
    return out[0] if len(out) == 1 else tuple(out)


def _unique_ref(x, sorted=True, return_inverse=False, return_counts=False, dim=None):
    axis = None if dim is None else dim % x.ndim
    values, inverse, counts = np.unique(x, return_inverse=True, return_counts=True, axis=axis)
    inverse = inverse.reshape(x.shape if dim is None else -1)
    return _unique_result(values, inverse, counts, return_inverse, return_counts)


def _unique_consecutive_ref(x, return_inverse=False, return_counts=False, dim=None):
    axis = 0 if dim is None else dim % x.ndim
    rows = x.reshape(-1, 1) if dim is None else np.moveaxis(x, axis, 0).reshape(x.shape[axis], -1)
    n = rows.shape[0]
    starts = np.ones(n, dtype=bool)
    if n:
        starts[1:] = np.any(rows[1:] != rows[:-1], axis=1)
    group = np.cumsum(starts) - 1
    firsts = np.nonzero(starts)[0]
    if dim is None:
        values = rows[firsts, 0]
    else:
        moved = np.moveaxis(x, axis, 0)
        values = np.moveaxis(moved[firsts], 0, axis)
    counts = np.diff(np.append(firsts, n))
    inverse = group.reshape(x.shape if dim is None else -1)
    return _unique_result(values, inverse, counts, return_inverse, return_counts)


def _unique_dtype(d, s):
    extra = int(bool(s.kwargs.get("return_inverse"))) + int(bool(s.kwargs.get("return_counts")))
    return d if not extra else (d,) + (plugrad.int64,) * extra


# ---- searching and counting -------------------------------------------------------------------------

def _searchsorted_sample(g):
    m = g.integers(1, 5)
    batch = g.shape(max_ndim=1) if g.boolean() else None
    k = g.integers(0, 4)
    if batch is None:
        boundaries = np.sort(g.array((m,), TIES))
        values = g.array(g.shape(), TIES)
    else:
        boundaries = np.sort(g.array(batch + (m,), TIES), axis=-1)
        values = g.array(batch + (k,), TIES)
    s = Sample(boundaries, values)
    if g.boolean():
        # one shuffle for every row, so that the sorter (its inverse) still sorts the rows of an
        # expanded copy of the boundaries (the layout check)
        perm = np.array(sorted(range(m), key=lambda _: g.integers(0, 99)), dtype=np.int64)
        shuffled = boundaries[..., perm]
        sorter = np.broadcast_to(np.argsort(perm), boundaries.shape).copy()
        s = Sample(shuffled, values, sorter=Arr(sorter, "int64"))
    variant = g.integers(0, 2)
    if variant == 1:
        s.kwargs["right"] = True
    elif variant == 2:
        s.kwargs["side"] = g.choice(["left", "right"])
    if g.boolean():
        s.kwargs["out_int32"] = True
    return s


def _searchsorted_ref(boundaries, values, out_int32=False, right=False, side=None, sorter=None):
    side = side or ("right" if right else "left")
    if sorter is not None:
        boundaries = np.take_along_axis(boundaries, np.asarray(sorter), -1)
    if boundaries.ndim == 1:
        r = np.searchsorted(boundaries, values, side=side)
    else:
        r = np.empty(values.shape, dtype=np.int64)
        for idx in np.ndindex(*values.shape[:-1]):
            r[idx] = np.searchsorted(boundaries[idx], values[idx], side=side)
    return np.asarray(r, dtype=np.int32 if out_int32 else np.int64)


def _search_dtype(d, s):
    return plugrad.int32 if s.kwargs.get("out_int32") else plugrad.int64


def _bucketize_sample(g):
    s = Sample(g.array(g.shape(), TIES), np.sort(g.array((g.integers(1, 5),), TIES)))
    if g.boolean():
        s.kwargs["right"] = True
    if g.boolean():
        s.kwargs["out_int32"] = True
    return s


def _bucketize_ref(x, boundaries, out_int32=False, right=False):
    return _searchsorted_ref(boundaries, x, out_int32, right)


def _bincount_sample(g):
    x = g.array((g.integers(0, 8),), Domain(0, 6))
    s = Sample(x)
    if g.boolean():
        s.kwargs["weights"] = Arr(g.array(x.shape, D, kind="float"), "float64")
    if g.boolean():
        s.kwargs["minlength"] = g.integers(0, 9)
    return s


def _bincount_ref(x, weights=None, minlength=0):
    w = None if weights is None else np.asarray(weights)
    r = np.bincount(x.astype(np.int64), w, minlength)
    return r.astype(np.int64 if weights is None else np.float64)


def _bincount_dtype(d, s):
    return plugrad.int64 if s.kwargs.get("weights") is None else plugrad.float64


def _histc_sample(g):
    x = g.array(g.shape(), Domain(-3, 3))
    s = Sample(x, g.choice([1, 2, 4, 8]))
    if g.boolean():
        lo = g.choice([-2.0, -1.0, 0.0])
        s.args += (lo, lo + g.choice([1.0, 2.0, 4.0]))
    return s


def _histc_ref(x, bins=100, min=0, max=0):
    lo, hi = float(min), float(max)
    flat = x.reshape(-1)
    if lo == hi and flat.size:
        lo, hi = float(flat.min()), float(flat.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    inside = flat[(flat >= lo) & (flat <= hi)]
    position = np.clip(np.floor((inside - lo) * bins / (hi - lo)), 0, bins - 1).astype(np.int64)
    return np.bincount(position, minlength=bins).astype(x.dtype)


# ---- cummax, cummin, logcumsumexp -------------------------------------------------------------------

def _cum_sample(g):
    x = _data(g)
    return Sample(x, g.dim(x.ndim))


def _cum_ref(kind):
    def lane(x, axis):
        moved = np.moveaxis(x, axis, -1)
        values, indices = moved.copy(), np.zeros(moved.shape, dtype=np.int64)
        for idx in np.ndindex(*moved.shape[:-1]):
            best = 0
            for k in range(moved.shape[-1]):
                v, b = moved[idx + (k,)], moved[idx + (best,)]
                if (v >= b) if kind == "max" else (v <= b):
                    best = k
                values[idx + (k,)], indices[idx + (k,)] = moved[idx + (best,)], best
        return np.moveaxis(values, -1, axis), np.moveaxis(indices, -1, axis)

    def ref(x, dim):
        if x.ndim == 0:
            return x.copy(), np.asarray(0, dtype=np.int64)
        return lane(x, dim % x.ndim)
    return ref


def _logcumsumexp_ref(x, dim):
    if x.ndim == 0:
        return x.copy()
    return np.logaddexp.accumulate(x, axis=dim % x.ndim)


# ---- roll, rot90, fliplr, flipud ---------------------------------------------------------------------

def _roll_sample(g):
    x = g.array(g.shape())
    if x.ndim == 0 or g.boolean():
        return Sample(x, g.integers(-5, 5))
    dims = sorted({g.dim(x.ndim) % x.ndim for _ in range(g.integers(1, 2))})
    shifts = tuple(g.integers(-5, 5) for _ in dims)
    if len(dims) == 1 and g.boolean():
        return Sample(x, shifts[0], dims[0])
    return Sample(x, shifts, tuple(dims))


def _roll_ref(x, shifts, dims=None):
    return np.roll(x, shifts, axis=dims)


def _rot90_sample(g):
    x = g.array(g.shape(min_ndim=2))
    s = Sample(x)
    if g.boolean():
        s.args += (g.integers(-5, 5),)
        if g.boolean():
            d0 = g.dim(x.ndim)
            d1 = g.dim(x.ndim)
            g.assume(d0 % x.ndim != d1 % x.ndim)
            s.args += ((d0, d1),)
    return s


def _rot90_ref(x, k=1, dims=(0, 1)):
    return np.rot90(x, k, axes=tuple(d % x.ndim for d in dims)).copy()


# ---- multinomial, bernoulli ---------------------------------------------------------------------------

def _multinomial_sample(g):
    rows = g.integers(1, 3)
    categories = g.integers(1, 4)
    weights = np.zeros((rows, categories))
    for r in range(rows):
        weights[r, g.integers(0, categories - 1)] = g.choice([0.25, 1.0, 3.5])
    x = weights if g.boolean() else weights[0]
    if g.boolean():
        return Sample(x, g.integers(1, 5), True)
    return Sample(x, 1)


def _multinomial_ref(x, num_samples, replacement=False):
    return np.repeat(np.argmax(x, axis=-1)[..., None], num_samples, axis=-1).astype(np.int64)


def _bernoulli_sample(g):
    shape = g.shape()
    if g.boolean():
        return Sample(g.array(shape, Domain(0, 1, grid=(0.0, 1.0))))
    return Sample(g.array(shape), p=g.choice([0.0, 1.0]))


def _bernoulli_ref(x, p=None):
    return (x if p is None else np.full(x.shape, p)).astype(x.dtype)




def _dim_error():
    return [ErrorInput(lambda g: Sample(g.array((2, 3)), 2), IndexError, "dim 2 of a 2-d tensor")]


ENTRIES = [
    _e(SORTING, "sort", _sort_ref, _sort_sample, dtypes=ALL, result_dtype=_values_and_indices, errors=_dim_error()),
    _e(SORTING, "argsort", _argsort_ref, _sort_sample, dtypes=ALL, result_dtype=TO_INT64, differentiable=False),
    _e(SORTING, "msort", lambda x: _sort_ref(x, 0)[0], _msort_sample, dtypes=ALL),
    _e(SORTING, "topk", _topk_ref, _topk_sample, dtypes=NUMERIC, result_dtype=_values_and_indices,
       errors=[ErrorInput(lambda g: Sample(g.array((3,)), 4), RuntimeError, "k larger than the dim")]),
    _e(SORTING, "kthvalue", _kth_ref, _kth_sample, dtypes=NUMERIC, result_dtype=_values_and_indices,
       errors=[ErrorInput(lambda g: Sample(g.array((3,)), 0), RuntimeError, "k = 0"),
               ErrorInput(lambda g: Sample(g.array((3,)), 4), RuntimeError, "k larger than the dim")]),
    _e(SORTING, "median", _median_ref(False), _median_sample, dtypes=NUMERIC, result_dtype=_median_dtype,
       out_when=lambda s: len(s.args) == 2,
       errors=[ErrorInput(lambda g: Sample(g.array((0, 3)), 0), IndexError, "median over a size-0 dim")]),
    _e(SORTING, "nanmedian", _median_ref(True), _median_sample, dtypes=NUMERIC, result_dtype=_median_dtype,
       out_when=lambda s: len(s.args) == 2,
       errors=[ErrorInput(lambda g: Sample(g.array((0, 3)), 0), IndexError, "nanmedian over a size-0 dim")]),
    _e(SORTING, "mode", _mode_ref, _mode_sample, dtypes=NUMERIC, result_dtype=_values_and_indices,
       errors=[ErrorInput(lambda g: Sample(g.array((0, 3)), 0), IndexError, "mode over a size-0 dim")]),
    _e(SORTING, "quantile", _quantile_ref(False), _quantile_sample(False), dtypes=_F32_F64,
       errors=_quantile_errors("quantile")),
    _e(SORTING, "nanquantile", _quantile_ref(True), _quantile_sample(True), dtypes=_F32_F64,
       errors=_quantile_errors("nanquantile")),
    _e(SORTING, "unique", _unique_ref, _unique_sample(False), dtypes=ALL, result_dtype=_unique_dtype,
       differentiable=False),
    _e(SORTING, "unique_consecutive", _unique_consecutive_ref, _unique_sample(True), dtypes=ALL,
       result_dtype=_unique_dtype, differentiable=False),
    _e(SORTING, "searchsorted", _searchsorted_ref, _searchsorted_sample, dtypes=NUMERIC, result_dtype=_search_dtype,
       differentiable=False, method=False,
       errors=[ErrorInput(lambda g: Sample(g.array((2, 3)), g.array((3, 1))), RuntimeError,
                          "boundaries whose leading dims differ from the values'"),
               ErrorInput(lambda g: Sample(g.array((3,)), g.array((2,)), side="middle"), RuntimeError,
                          "an unknown side")]),
    _e(SORTING, "bucketize", _bucketize_ref, _bucketize_sample, dtypes=NUMERIC, result_dtype=_search_dtype,
       differentiable=False, method=False,
       errors=[ErrorInput(lambda g: Sample(g.array((3,)), g.array((2, 2))), RuntimeError, "2-d boundaries")]),
    _e(SORTING, "bincount", _bincount_ref, _bincount_sample, dtypes=INTS, result_dtype=_bincount_dtype,
       differentiable=False,
       errors=[ErrorInput(lambda g: Sample(np.array([1, -1])), RuntimeError, "a negative value", "int64"),
               ErrorInput(lambda g: Sample(g.array((3,))), RuntimeError, "a float input"),
               ErrorInput(lambda g: Sample(np.array([[1]])), RuntimeError, "a 2-d input", "int64")]),
    _e(SORTING, "histc", _histc_ref, _histc_sample, dtypes=_F32_F64, differentiable=False,
       errors=[ErrorInput(lambda g: Sample(g.array((3,)), 0), RuntimeError, "no bins"),
               ErrorInput(lambda g: Sample(g.array((3,)), 4, 2.0, 1.0), RuntimeError, "min above max")]),
    _e(SCAN, "cummax", _cum_ref("max"), _cum_sample, dtypes=ALL, result_dtype=_values_and_indices,
       errors=_dim_error()),
    _e(SCAN, "cummin", _cum_ref("min"), _cum_sample, dtypes=ALL, result_dtype=_values_and_indices,
       errors=_dim_error()),
    _e(SCAN, "logcumsumexp", _logcumsumexp_ref, _cum_sample, tol={"float16": (1e-2, 1e-2)},
       errors=[ErrorInput(lambda g: Sample(g.array((3,)), 0), RuntimeError, "an integer input", "int64")]),
    _e(REARRANGE, "roll", _roll_ref, _roll_sample, dtypes=ALL,
       errors=[ErrorInput(lambda g: Sample(g.array((2, 3)), (1, 2), (0,)), RuntimeError, "2 shifts for 1 dim")]),
    _e(REARRANGE, "rot90", _rot90_ref, _rot90_sample, dtypes=ALL,
       errors=[ErrorInput(lambda g: Sample(g.array((3,))), RuntimeError, "a 1-d input"),
               ErrorInput(lambda g: Sample(g.array((2, 3)), 1, (0, 0)), RuntimeError, "the same dim twice")]),
    _e(REARRANGE, "fliplr", lambda x: np.fliplr(x).copy(), lambda g: Sample(g.array(g.shape(min_ndim=2))),
       dtypes=ALL, errors=[ErrorInput(lambda g: Sample(g.array((3,))), RuntimeError, "a 1-d input")]),
    _e(REARRANGE, "flipud", lambda x: np.flipud(x).copy(), lambda g: Sample(g.array(g.shape(min_ndim=1))),
       dtypes=ALL, errors=[ErrorInput(lambda g: Sample(g.array(())), RuntimeError, "a 0-d input")]),
    _e(SAMPLING, "multinomial", _multinomial_ref, _multinomial_sample, result_dtype=TO_INT64, differentiable=False,
       layouts=False,
       errors=[ErrorInput(lambda g: Sample(g.array((2, 2, 2), Domain(0.25, 1)), 1), RuntimeError, "a 3-d input"),
               ErrorInput(lambda g: Sample(g.array((3,), Domain(0.25, 1)), 4), RuntimeError,
                          "4 samples of 3 categories without replacement"),
               ErrorInput(lambda g: Sample(np.array([0.5, -0.5]), 1), RuntimeError, "a negative weight"),
               ErrorInput(lambda g: Sample(np.array([0.0, 0.0]), 1), RuntimeError, "weights that sum to 0"),
               ErrorInput(lambda g: Sample(np.array([1, 2]), 1), RuntimeError, "an integer input", "int64")]),
    _e(SAMPLING, "bernoulli", _bernoulli_ref, _bernoulli_sample, differentiable=False,
       errors=[ErrorInput(lambda g: Sample(np.array([0.5, 1.5])), RuntimeError, "a probability above 1"),
               ErrorInput(lambda g: Sample(g.array((3,)), p=2.0), RuntimeError, "p above 1")]),
]

__all__ = ["ENTRIES"]
