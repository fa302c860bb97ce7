"""Entries for ``plugrad.ops.nan``: nan_to_num, nansum, nanmean."""

from __future__ import annotations

import numpy as np

from ..opinfo import ALL, FLOATS, INT_TO_INT64, ErrorInput, OpInfo, Sample
from .common import reduction_dims

FAMILY = "plugrad.ops.nan"


def _with_specials(g, x, specials):
    """``x`` with some elements made NaN or infinite (forward samples only: the
    gradient checks difference finite inputs)."""
    if g.kind == "float" and g.purpose == "forward" and x.size:
        x = x.copy()
        flat = x.reshape(-1)
        for _ in range(g.integers(0, 3)):
            flat[g.integers(0, x.size - 1)] = g.choice(specials)
    return x


def _nan_to_num_sample(g):
    # NaN only in 0-d samples: the in-place check compares a strided view's untouched
    # neighbours exactly, and NaN != NaN (tests/test_nan_ops.py has NaN in every shape)
    shape = g.shape()
    x = _with_specials(g, g.array(shape), [np.inf, -np.inf] + ([np.nan] if not shape else []))
    return Sample(x, *g.choice([(), (1.5,), (0.0, 2.0, -3.0)]))


def _nan_to_num_ref(x, nan=0.0, posinf=None, neginf=None):
    return np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)


def _reduction_sample(g):
    x = _with_specials(g, g.array(g.shape()), [np.nan])
    s = Sample(x)
    dim = reduction_dims(g, x.ndim)
    if dim is not None:
        s.kwargs.update(dim=dim, keepdim=g.boolean())
    return s


def _axis(dim):
    return tuple(dim) if isinstance(dim, (tuple, list)) else dim


def _nansum_ref(x, dim=None, keepdim=False):
    return np.nansum(x, axis=_axis(dim), keepdims=keepdim)


def _nanmean_ref(x, dim=None, keepdim=False):
    with np.errstate(invalid="ignore", divide="ignore"):
        count = np.sum(~np.isnan(x), axis=_axis(dim), keepdims=keepdim)
        return np.nansum(x, axis=_axis(dim), keepdims=keepdim) / count


ENTRIES = [
    OpInfo("nan_to_num", FAMILY, _nan_to_num_ref, _nan_to_num_sample, dtypes=ALL),
    OpInfo("nansum", FAMILY, _nansum_ref, _reduction_sample, dtypes=ALL, result_dtype=INT_TO_INT64,
           tol={"float16": (5e-3, 1e-2)},
           errors=[ErrorInput(lambda g: Sample(g.array((2,)), 2), IndexError, "dim 2 of a 1-d input")]),
    OpInfo("nanmean", FAMILY, _nanmean_ref, _reduction_sample, dtypes=FLOATS, tol={"float16": (5e-3, 1e-2)},
           errors=[ErrorInput(lambda g: Sample(g.array((2,))), RuntimeError, "an int64 input", "int64")]),
]

__all__ = ["ENTRIES"]
