"""Entries for the spatial transformer ops (``plugrad.ops.sampling_grid``:
``affine_grid``, ``grid_sample``) and ``gumbel_softmax`` (``plugrad.ops.gumbel``).

``grid_sample``'s reference reads the input point by point with PyTorch's source-index
arithmetic (unnormalise, pad by clipping or reflecting, then taps and weights) in
NumPy loops: slow, and obviously right. ``gumbel_softmax`` is random; its samples give
one class a lead of 1000, so the relaxed sample (and the hard one) is that class's
one-hot whatever the Gumbel noise: the values are certain, and the gradient (the soft
sample's, through the straight-through estimator) is 0 on both sides."""

from __future__ import annotations

import itertools

import numpy as np

from ..gen import Domain
from ..opinfo import FLOATS, ErrorInput, OpInfo, Sample

_TOL = {"float16": (5e-3, 2e-2)}
_GRID = "plugrad.ops.sampling_grid"


def _op(family, name, ref, sample, **kw):
    kw.setdefault("tol", _TOL)
    kw.setdefault("method", False)
    kw.setdefault("inplace", False)
    kw.setdefault("dtypes", FLOATS)
    return OpInfo(name, family, ref, sample, **kw)


# ---- affine_grid ------------------------------------------------------------------------------

def _steps(n, align_corners):
    if n <= 1:
        return np.zeros(1)
    r = np.linspace(-1, 1, n)
    return r if align_corners else r * (n - 1) / n


def _affine_grid_ref(theta, size, align_corners=None):
    spatial = list(size[2:])
    axes = np.meshgrid(*[_steps(n, bool(align_corners)) for n in spatial], indexing="ij")
    base = np.stack(list(axes)[::-1] + [np.ones(spatial)], -1)            # (*spatial, nd + 1): x first
    return np.einsum("...k,njk->n...j", base, theta)


def _affine_grid_sample(g):
    nd = g.choice([2, 3])
    n = g.integers(1, 2)
    spatial = [g.integers(1, 3) for _ in range(nd)]
    align = g.boolean()
    if align and min(spatial) == 1:
        spatial = [max(s, 2) for s in spatial]
    return Sample(g.array((n, nd, nd + 1), Domain(-1.5, 1.5)), [n, g.integers(1, 3)] + spatial, align)


# ---- grid_sample --------------------------------------------------------------------------------

def _reflect(x, twice_low, twice_high):
    if twice_low == twice_high:
        return 0.0
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    x = abs(x - low)
    extra = np.fmod(x, span)
    flips = int(np.floor(x / span))
    return extra + low if flips % 2 == 0 else span - extra + low


def _pad(x, size, padding_mode, align_corners):
    if padding_mode == "border":
        return min(max(x, 0.0), size - 1.0)
    if padding_mode == "reflection":
        x = _reflect(x, 0, 2 * (size - 1)) if align_corners else _reflect(x, -1, 2 * size - 1)
        return min(max(x, 0.0), size - 1.0)
    return x


def _cubic(t):
    a = -0.75

    def near(x):
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _point_taps(coord, size, mode, padding_mode, align_corners):
    """[(integer position, weight)] for one coordinate along one dim."""
    x = (coord + 1) / 2 * (size - 1) if align_corners else ((coord + 1) * size - 1) / 2
    if mode == "bicubic":
        f = np.floor(x)
        return [(_pad(f + k - 1, size, padding_mode, align_corners), w) for k, w in enumerate(_cubic(x - f))]
    x = _pad(x, size, padding_mode, align_corners)
    if mode == "nearest":
        return [(np.rint(x), 1.0)]
    f = np.floor(x)
    return [(f, 1 - (x - f)), (f + 1, x - f)]


def _grid_sample_ref(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    align_corners = bool(align_corners)
    n, c = input.shape[:2]
    sizes = input.shape[2:]
    nd = len(sizes)
    out_spatial = grid.shape[1:-1]
    out = np.zeros((n, c) + out_spatial)
    for b in range(n):
        for pos in itertools.product(*(range(s) for s in out_spatial)):
            coords = grid[(b,) + pos]
            per_dim = [_point_taps(coords[nd - 1 - i], sizes[i], mode, padding_mode, align_corners)
                       for i in range(nd)]
            for combo in itertools.product(*per_dim):
                idx = tuple(int(p) for p, _ in combo)
                if any(p < 0 or p > s - 1 for p, s in zip(idx, sizes)):
                    continue
                out[(b, slice(None)) + pos] += np.prod([w for _, w in combo]) * input[(b, slice(None)) + idx]
    return out


def _grid_sample_sample(g):
    mode = g.choice(["bilinear", "nearest", "bicubic"])
    nd = 2 if mode == "bicubic" else g.choice([2, 3])
    n, c = g.integers(1, 2), g.integers(1, 2)
    sizes = tuple(g.integers(1, 3) for _ in range(nd))
    out = tuple(g.integers(1, 2) for _ in range(nd))
    # an offset off the generator's grid of values keeps every coordinate off the kinks
    # (integer source positions, padding bounds), where the derivatives jump
    grid = g.array((n,) + out + (nd,), Domain(-1.3, 1.3)) + 9 / 1024   # exact in float16, as every sample
    s = Sample(g.array((n, c) + sizes), grid, mode,
               g.choice(["zeros", "border", "reflection"]), g.boolean())
    if mode == "nearest":
        s.nograd = (1,)   # piecewise constant in the grid: no gradient, as in PyTorch
    return s


# ---- gumbel_softmax -----------------------------------------------------------------------------

def _gumbel_sample(g):
    shape = g.shape(min_ndim=1, max_ndim=3, min_size=1)
    dim = g.integers(-len(shape), len(shape) - 1)
    x = g.array(shape, Domain(-1, 1))
    winners = g.array(tuple(s if i != dim % len(shape) else 1 for i, s in enumerate(shape)), Domain(0, 1))
    chosen = (winners * shape[dim] - 1e-9).astype(np.int64).clip(0, shape[dim] - 1)
    lead = (np.arange(shape[dim]).reshape([-1 if i == dim % len(shape) else 1 for i in range(len(shape))])
            == chosen)
    return Sample(x + 1000.0 * lead, g.choice([0.5, 1.0, 2.0]), g.boolean(), dim=dim)


def _gumbel_ref(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
    winner = np.argmax(logits, axis=dim)
    return (np.expand_dims(winner, dim) == np.arange(logits.shape[dim]).reshape(
        [-1 if i == dim % logits.ndim else 1 for i in range(logits.ndim)])).astype(np.float64)


ENTRIES = [
    _op(_GRID, "affine_grid", _affine_grid_ref, _affine_grid_sample,
        errors=[ErrorInput(lambda g: Sample(g.array((1, 3, 3)), [1, 1, 2, 2], False), ValueError,
                           "a 3x3 theta for a 2-d size"),
                ErrorInput(lambda g: Sample(g.array((1, 2, 3)), [1, 1, 2], False), NotImplementedError,
                           "a 3-element size")]),
    _op(_GRID, "grid_sample", _grid_sample_ref, _grid_sample_sample,
        errors=[ErrorInput(lambda g: Sample(g.array((1, 1, 2, 2)), g.array((1, 1, 1, 2)), "linear"), ValueError,
                           "an unknown mode"),
                ErrorInput(lambda g: Sample(g.array((1, 1, 2, 2)), g.array((1, 1, 1, 3)), align_corners=False),
                           RuntimeError, "a grid whose last dim is not 2")]),
    _op("plugrad.ops.gumbel", "gumbel_softmax", _gumbel_ref, _gumbel_sample,
        errors=[ErrorInput(lambda g: Sample(g.array((2, 3)), dim=2), IndexError, "a dim out of range")]),
]

__all__ = ["ENTRIES"]
