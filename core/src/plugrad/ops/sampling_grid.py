"""Spatial transformers: ``affine_grid`` (the sampling grid of a batch of affine maps)
and ``grid_sample`` (read an input at a grid of normalised coordinates).

``grid_sample`` is a composition of gather-style indexing ops, so every device runs it
without a kernel: per spatial dim, each output point reads a few input positions (its
taps: 1 for ``nearest``, 2 for ``bilinear``, 4 for ``bicubic``) with weights from the
fractional part of its coordinate; the padding mode maps the coordinate (or, for
bicubic, each tap) back into the input, or (``zeros``) drops taps that fall outside.
The index arithmetic is PyTorch's (``grid_sampler_compute_source_index``), so values
and gradients (with respect to input and grid, through the weights) agree with it.
The result's ``grad_fn`` is PyTorch's name (``GridSampler2DBackward0``): a node that
passes the gradient on to the composition's own graph, so backward (and double
backward) is the composition's.
"""

from __future__ import annotations

import itertools
import warnings

from ..autograd.grad_mode import STATE, no_grad
from ..autograd.graph import Node, record
from ..creation import linspace, ones, zeros
from ..dtypes import int64
from ..layout import check_size
from ..tensor import Tensor
from .checks import check_bool, check_int, check_tensor
from .join import stack

__all__ = ["affine_grid", "grid_sample"]

_ALIGN_WARNING = ("Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. "
                  "Please specify align_corners=True if the old behavior is desired. See the documentation of "
                  "grid_sample for details.")


def _neg_one_to_one(steps, align_corners, dtype, device):
    """The normalised coordinates of ``steps`` pixel centres (corners if aligned)."""
    if steps <= 1:
        return zeros(1, dtype=dtype, device=device)
    r = linspace(-1, 1, steps, dtype=dtype, device=device)
    return r if align_corners else r * ((steps - 1) / steps)


class AffineGridGeneratorBackward0(Node):
    """d grid = base @ theta^T, so d theta = g^T @ base per batch element."""
    __slots__ = ("base",)

    def backward(self, g):
        n = g.shape[0]
        return (g.reshape(n, -1, g.shape[-1]).transpose(1, 2).matmul(self.base),)


def affine_grid(theta: Tensor, size, align_corners=None) -> Tensor:
    """The (N, H, W, 2) (or (N, D, H, W, 3)) sampling grid of the affine maps ``theta``
    ((N, 2, 3) or (N, 3, 4)) for an output of ``size`` (N, C, H, W) (or 5 sizes), in
    ``grid_sample``'s normalised coordinates."""
    check_tensor(theta, "affine_grid", "theta")
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    check_bool(align_corners, "affine_grid_generator", "align_corners")
    size = list(size)
    if len(size) == 4:
        if theta.dim() != 3 or theta.shape[-2] != 2 or theta.shape[-1] != 3:
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size {size}. "
                             f"Got {theta.shape}.")
    elif len(size) == 5:
        if theta.dim() != 3 or theta.shape[-2] != 3 or theta.shape[-1] != 4:
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size {size}. "
                             f"Got {theta.shape}.")
    else:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
                                  f"respectively. Got size {size}.")
    size = [check_int(n, "affine_grid_generator", "size") for n in size]
    spatial = size[2:]
    if align_corners and min(spatial) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
                      "align_corners=True. This is not an intended use case of affine_grid. See the documentation "
                      "of affine_grid for details.", stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    check_size((size[0], *spatial, len(spatial) + 1), theta.dtype.itemsize)
    if theta.shape[0] != size[0]:
        raise RuntimeError(f"affine_grid: theta has {theta.shape[0]} matrices but size asks for a batch of "
                           f"{size[0]}")
    nd = len(spatial)
    dtype, device = theta.dtype, theta.device
    axes = []
    for i, n in enumerate(spatial):  # axis i of the grid holds spatial dim i; the coordinates run x (last) first
        shape = [1] * nd
        shape[i] = n
        axes.append(_neg_one_to_one(n, align_corners, dtype, device).reshape(shape).expand(*spatial))
    columns = axes[::-1] + [ones(*spatial, dtype=dtype, device=device)]
    with no_grad():
        base = stack(columns, -1).reshape(-1, nd + 1)                  # (points, nd + 1)
        grid = base.matmul(theta.transpose(1, 2)).reshape(size[0], *spatial, nd)
    if STATE.enabled and theta._requires_grad:
        node = AffineGridGeneratorBackward0()
        node.base = base
        record(node, (theta,), grid)
    return grid


def _reflect(x, twice_low, twice_high):
    """PyTorch's ``reflect_coordinates``: fold ``x`` into [low, high] by mirroring."""
    if twice_low == twice_high:
        return x * 0
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    x = (x - low).abs()
    extra = x.fmod(span)
    flips = (x / span).floor()
    return (extra + low).where(flips.fmod(2) == 0, span - extra + low)


def _pad_coordinate(x, size, padding_mode, align_corners):
    """PyTorch's ``compute_coordinates``: the source coordinate after border or
    reflection padding (zeros padding leaves it; out-of-range taps are dropped)."""
    if padding_mode == "border":
        return x.clamp(0, size - 1)
    if padding_mode == "reflection":
        x = _reflect(x, 0, 2 * (size - 1)) if align_corners else _reflect(x, -1, 2 * size - 1)
        return x.clamp(0, size - 1)
    return x


def _cubic_weights(t):
    """The 4 cubic-convolution weights (A = -0.75) of a fractional offset ``t``."""
    a = -0.75

    def near(x):
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _safe(x):
    """PyTorch's ``safe_downgrade_to_int_range``: a coordinate that is not finite, or
    past int32's range, reads nothing (it becomes -100, outside every input)."""
    return x.where(x.isfinite() & (x.abs() < 2.0 ** 31 - 1), -100.0)


def _taps(coord, size, mode, padding_mode, align_corners):
    """[(float index, weight)] of one spatial dim: where each output point reads and
    how much (weights None for nearest)."""
    x = ((coord + 1) / 2) * (size - 1) if align_corners else ((coord + 1) * size - 1) / 2
    if mode == "bicubic":
        floor = x.floor()
        weights = _cubic_weights(x - floor)
        return [(_safe(_pad_coordinate(floor + (k - 1), size, padding_mode, align_corners)), w)
                for k, w in enumerate(weights)]
    x = _safe(_pad_coordinate(x, size, padding_mode, align_corners))
    if mode == "nearest":
        return [(x.round(), None)]
    floor = x.floor()
    frac = x - floor
    return [(floor, 1 - frac), (floor + 1, frac)]


def _check_grid_sample(input, grid, mode, padding_mode):
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', but "
                         f"got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
                         f"'reflection', but got: '{padding_mode}'")
    check_tensor(input, "grid_sample", "input")
    check_tensor(grid, "grid_sample", "grid")
    if input.dim() == 0 or grid.dim() == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    if input.device != grid.device:
        raise RuntimeError(f"grid_sampler(): expected input and grid to be on same device, but input is on "
                           f"{input.device} and grid is on {grid.device}")
    if input.dtype != grid.dtype:
        raise RuntimeError(f"grid_sampler(): expected input and grid to have same dtype, but input has "
                           f"{input.dtype} and grid has {grid.dtype}")
    if input.dim() not in (4, 5) or input.dim() != grid.dim():
        raise RuntimeError(f"grid_sampler(): expected 4D or 5D input and grid with same number of dimensions, but "
                           f"got input with sizes {list(input.shape)} and grid with sizes {list(grid.shape)}")
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, but got input with "
                           f"sizes {list(input.shape)} and grid with sizes {list(grid.shape)}")
    if grid.shape[-1] != input.dim() - 2:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {input.dim() - 2} in last dimension, but got "
                           f"grid with sizes {list(grid.shape)}")
    if any(n == 0 for n in input.shape[2:]):
        raise RuntimeError(f"grid_sampler(): expected input to have non-empty spatial dimensions, but input has "
                           f"sizes {list(input.shape)} with dimension {2 + list(input.shape[2:]).index(0)} being "
                           f"empty")
    if mode == "bicubic" and input.dim() != 4:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear", padding_mode: str = "zeros",
                align_corners=None) -> Tensor:
    """Sample ``input`` (N, C, H, W) (or (N, C, D, H, W)) at ``grid`` (N, H', W', 2)
    (or (N, D', H', W', 3)), whose last dim holds (x, y[, z]) in [-1, 1] (-1 the first
    pixel's left edge, or its centre with ``align_corners``). Result (N, C, H', W').

    A NaN, infinite or out-of-int-range coordinate reads nothing (PyTorch's
    ``safe_downgrade_to_int_range``); PyTorch's vectorised bilinear CPU kernel returns
    NaN for such a point instead, its nearest and bicubic kernels agree with this."""
    _check_grid_sample(input, grid, mode, padding_mode)
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    check_bool(align_corners, "grid_sampler", "align_corners")
    n, c = input.shape[:2]
    sizes = list(input.shape[2:])
    out_spatial = list(grid.shape[1:-1])
    nd = len(sizes)
    points = 1
    for s in out_spatial:
        points *= s
    flat_input = input.reshape(n, c, -1)
    coords = grid.reshape(n, points, nd)
    per_dim = [_taps(coords[..., nd - 1 - i], sizes[i], mode, padding_mode, align_corners) for i in range(nd)]
    strides = [1] * nd
    for i in range(nd - 2, -1, -1):
        strides[i] = strides[i + 1] * sizes[i + 1]
    out = None
    for combo in itertools.product(*per_dim):
        flat, weight, inside = None, None, None
        for i, (index, w) in enumerate(combo):
            if padding_mode == "zeros" or mode == "bicubic":
                ok = (index >= 0) & (index <= sizes[i] - 1)
                inside = ok if inside is None else inside & ok
            term = index.clamp(0, sizes[i] - 1).to(int64) * strides[i]
            flat = term if flat is None else flat + term
            if w is not None:
                weight = w if weight is None else weight * w
        values = flat_input.gather(2, flat.unsqueeze(1).expand(n, c, points))
        if inside is not None:  # a tap outside the input reads 0 (even where the clamped index holds an inf)
            values = values.where(inside.unsqueeze(1), 0.0)
        if weight is not None:
            values = values * weight.unsqueeze(1)
        out = values if out is None else out + values
    out = out.reshape(n, c, *out_spatial)
    if not out._requires_grad:
        return out
    result = out.detach()
    record((GridSampler2DBackward0 if nd == 2 else GridSampler3DBackward0)(), (out,), result)
    return result


class GridSampler2DBackward0(Node):
    """The gradient goes on unchanged to the composition that computed the sample."""
    __slots__ = ()

    def backward(self, g):
        return (g,)


class GridSampler3DBackward0(GridSampler2DBackward0):
    __slots__ = ()
