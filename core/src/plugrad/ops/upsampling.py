"""Resampling: ``interpolate`` (nearest, nearest-exact, linear, bilinear, bicubic,
trilinear, area), and the rearrangements ``pixel_shuffle`` / ``pixel_unshuffle``
(``channel_shuffle`` is in ``plugrad.ops.activation``).

Every interpolation mode is separable: along each spatial dim, an output position reads
a few input positions (its *taps*) with weights that depend on the position alone. The
taps come from PyTorch's index arithmetic, reproduced exactly (the source index of
``nearest`` is ``floor(dst * scale)`` in float32, with ``scale`` = 1 / scale_factor or
in / out; the linear modes use ``scale * (dst + 0.5) - 0.5`` unless ``align_corners``)
and computed once per dim on the host; the resampling itself is ``index_select`` and
weighted sums per dim, on the device. The op records its own node
(``UpsampleBilinear2DBackward0``...), whose backward is the transpose, ``index_add`` of
the weighted gradient per dim, itself differentiable.
"""

from __future__ import annotations

import math
import struct

from ..autograd.grad_mode import STATE, no_grad
from ..autograd.graph import Node, record
from ..creation import arange
from ..dtypes import float32, float64, int64
from ..layout import check_size
from ..optable import ops
from ..tensor import Tensor
from .checks import check_tensor
from .declare import declare

__all__ = ["interpolate", "pixel_shuffle", "pixel_unshuffle"]

_LINEAR = {"linear": 1, "bilinear": 2, "trilinear": 3, "bicubic": 2}
_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")


def _f32(v: float) -> float:
    """``v`` rounded to float32, as PyTorch's float index arithmetic rounds it."""
    return struct.unpack("<f", struct.pack("<f", v))[0]


# ---- the taps of one dim ----------------------------------------------------------------------
# Positions and weights are computed on the device, in the dtype PyTorch computes them in
# (float32 for every input but float64: each op rounds as its C++ does), so a huge size
# fails at allocation, never in a Python loop.

def _scale(n_in, n_out, align_corners, scale, rnd):
    """PyTorch's ``area_pixel_compute_scale``: source positions per output position."""
    if align_corners:
        return rnd((n_in - 1) / (n_out - 1)) if n_out > 1 else 0.0
    return rnd(1.0 / scale) if scale is not None and scale > 0 else rnd(n_in / n_out)


def _positions(n_out, dtype, device):
    return arange(n_out, dtype=dtype, device=device)


def _nearest_taps(n_in, n_out, scale, exact, device):
    """``min(floor(dst * s), n_in - 1)`` (``(dst + 0.5) * s`` for nearest-exact), in float32."""
    s = _scale(n_in, n_out, False, scale, _f32)
    i = _positions(n_out, float32, device)
    src = ((i + 0.5) if exact else i) * s
    return [src.floor().to(int64).clamp(max=n_in - 1)], None


def _source(n_out, align_corners, s, dtype, device, clamp_low):
    """PyTorch's ``area_pixel_compute_source_index``: ``s * dst`` with aligned corners,
    else ``s * (dst + 0.5) - 0.5`` (clamped at 0 for the linear modes)."""
    i = _positions(n_out, dtype, device)
    if align_corners:
        return i * s
    src = (i + 0.5) * s - 0.5
    return src.clamp(min=0.0) if clamp_low else src


def _linear_taps(n_in, n_out, align_corners, scale, dtype, device):
    """Two taps: ``floor(src)`` and the next one (clamped), weighted ``1 - l`` and ``l``."""
    rnd = float if dtype is float64 else _f32
    src = _source(n_out, align_corners, _scale(n_in, n_out, align_corners, scale, rnd), dtype, device, True)
    lo = src.floor().to(int64).clamp(max=n_in - 1)
    lam = (src - lo.to(dtype)).clamp(0.0, 1.0)
    hi = lo + (lo < n_in - 1).to(int64)
    return [lo, hi], [1.0 - lam, lam]


def _cubic_taps(n_in, n_out, align_corners, scale, dtype, device):
    """Four taps around ``floor(src)`` (clamped to the input), with the cubic convolution
    weights of A = -0.75, as PyTorch's bicubic."""
    rnd = float if dtype is float64 else _f32
    src = _source(n_out, align_corners, _scale(n_in, n_out, align_corners, scale, rnd), dtype, device, False)
    floor = src.floor()
    t = src - floor
    first = floor.to(int64) - 1
    weights = (_far(t + 1.0, -0.75), _near(t, -0.75), _near(1.0 - t, -0.75), _far((1.0 - t) + 1.0, -0.75))
    return [(first + k).clamp(0, n_in - 1) for k in range(4)], list(weights)


def _near(x, a):
    """The cubic convolution kernel on ``|x| <= 1``: ``((a + 2) x - (a + 3)) x x + 1``."""
    return ((x * (a + 2)) - (a + 3)) * x * x + 1.0


def _far(x, a):
    """The cubic convolution kernel on ``1 < |x| < 2``: ``((a x - 5a) x + 8a) x - 4a``."""
    return ((x * a - 5 * a) * x + 8 * a) * x - 4 * a


def _antialias_taps(n_in, n_out, align_corners, scale, dtype, device, cubic):
    """PyTorch's antialiased taps: when downsampling, the filter (triangle, or the cubic of
    A = -0.5) is stretched by the scale, so each output averages every input under it;
    the weights of an output are normalized to sum to one."""
    rnd = float if dtype is float64 else _f32
    s = _scale(n_in, n_out, align_corners, scale, rnd)
    half = 2.0 if cubic else 1.0   # interp_size / 2
    support = rnd(half * s) if s >= 1.0 else half
    width = int(math.ceil(support)) * 2 + 1
    invscale = rnd(1.0 / s) if s >= 1.0 else 1.0
    center = (_positions(n_out, dtype, device) + 0.5) * s
    lo = (center - support + 0.5).trunc().to(int64).clamp(min=0)
    hi = (center + support + 0.5).trunc().to(int64).clamp(max=n_in)
    size = (hi - lo).clamp(0, width).unsqueeze(1)
    j = arange(width, device=device)
    x = (((j + lo.unsqueeze(1)).to(dtype) - center.unsqueeze(1)) + 0.5) * invscale
    if cubic:
        ax = x.abs()
        w = ops.where(ax < 1.0, _near(ax, -0.5), ops.where(ax < 2.0, _far(ax, -0.5), 0.0))
    else:
        w = (1.0 - x.abs()).clamp(min=0.0)
    w = ops.where(j < size, w, 0.0)
    total = w.sum(1, keepdim=True)
    w = ops.where(total != 0.0, w / ops.where(total != 0.0, total, 1.0), w)
    idx = (j + lo.unsqueeze(1)).clamp(max=n_in - 1)
    return [idx[:, k].contiguous() for k in range(width)], [w[:, k].contiguous() for k in range(width)]


# ---- the op -----------------------------------------------------------------------------------

class _ResampleBackward(Node):
    """d resample(a) = per dim, the last first: the gradient times each tap's weight,
    ``index_add``-ed back at the tap's input positions"""
    __slots__ = ("taps", "in_shape")   # taps: [(dim, input size, [(index, weight or None), ...]), ...]

    def backward(self, g):
        for d, n, taps in reversed(self.taps):
            shape = list(g._shape)
            shape[d] = n
            acc = g.new_zeros(shape)
            for index, weight in taps:
                acc = ops.index_add(acc, d, index, g if weight is None else g * weight)
            g = acc
        return (g,)


def _node(name):
    return type(name, (_ResampleBackward,), {"__slots__": (), "__doc__": f"the gradient of {name[:-9]}"})


_NODES = {(mode, nd): _node(f"Upsample{label}{nd}DBackward0")
          for mode, label, dims in (("nearest", "Nearest", (1, 2, 3)), ("nearest-exact", "NearestExact", (1, 2, 3)),
                                    ("linear", "Linear", (1,)), ("bilinear", "Bilinear", (2,)),
                                    ("trilinear", "Trilinear", (3,)), ("bicubic", "Bicubic", (2,)))
          for nd in dims}
_AA_NODES = {mode: _node(f"Upsample{label}2DAaBackward0") for mode, label in (("bilinear", "Bilinear"),
                                                                               ("bicubic", "Bicubic"))}
globals().update({cls.__name__: cls for cls in list(_NODES.values()) + list(_AA_NODES.values())})


def _resample(x: Tensor, taps) -> Tensor:
    """Untracked: along each dim, the weighted sum of the slices at each tap."""
    with no_grad():
        for d, _, dim_taps in taps:
            out = None
            for index, weight in dim_taps:
                picked = x.index_select(d, index)
                term = picked if weight is None else picked * weight
                out = term if out is None else out + term
            x = out
    return x


def _sizes(input, size, scale_factor, mode, recompute_scale_factor):
    """PyTorch's rules: the output size and the scales the kernel sees (None: in / out)."""
    nd = input.dim() - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != nd:
                raise ValueError(f"Input and output must have the same number of spatial dimensions, but got input "
                                 f"with spatial dimensions of {list(input._shape[2:])} and output size of {size}. "
                                 f"Please provide input tensor in (N, C, d1, d2, ...,dK) format and output size in "
                                 f"(o1, o2, ...,oK) format.")
            if not all(type(s) is int for s in size):
                raise TypeError(f"expected size to be one of int or Tuple[int] or Tuple[int, int] or "
                                f"Tuple[int, int, int], but got size with types {[type(s) for s in size]}")
            out = list(size)
        else:
            if type(size) is not int:
                raise TypeError(f"interpolate(): size must be an int or a sequence of ints, got {size!r}")
            out = [size] * nd
        scales = [None] * nd
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    elif scale_factor is not None:
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != nd:
                raise ValueError(f"Input and scale_factor must have the same number of spatial dimensions, but got "
                                 f"input with spatial dimensions of {list(input._shape[2:])} and scale_factor of shape "
                                 f"{scale_factor}. Please provide input tensor in (N, C, d1, d2, ...,dK) format and "
                                 f"scale_factor in (s1, s2, ...,sK) format.")
            scales = [float(s) for s in scale_factor]
        else:
            scales = [float(scale_factor)] * nd
        if mode == "area" or recompute_scale_factor:
            out = [math.floor(float(n) * s) for n, s in zip(input._shape[2:], scales)]
            scales = [None] * nd
        else:   # (the branch above is Python arithmetic in PyTorch too: its errors are Python's)
            if not all(math.isfinite(s) for s in scales):
                raise RuntimeError("value cannot be converted to type int64_t without overflow")
            out = [int(n * s) for n, s in zip(input._shape[2:], scales)]
    else:
        raise ValueError("either size or scale_factor should be defined")
    if min(input._shape[2:] + tuple(out)) <= 0:
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input (spatial sizes "
                           f"{list(input._shape[2:])}) and output (spatial sizes {out})")
    return out, scales


def _check_mode(input, mode, align_corners):
    nd = input.dim() - 2
    if mode not in _MODES:
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.dim()}D) for "
                                  f"the modes: nearest | linear | bilinear | bicubic | trilinear | area | "
                                  f"nearest-exact (got {mode})")
    if mode in ("nearest", "nearest-exact", "area"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
    if not 1 <= nd <= 3:
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.dim()}D) for "
                                  f"the modes: nearest | linear | bilinear | bicubic | trilinear | area | "
                                  f"nearest-exact (got {mode})")
    if mode in _LINEAR and _LINEAR[mode] != nd:
        raise NotImplementedError(f"Got {input.dim()}D input, but {mode} mode needs {_LINEAR[mode] + 2}D input")


@declare(public=False)
def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None,
                antialias=False) -> Tensor:
    """Resize the spatial dims of an (N, C, *spatial) input to ``size`` (or by
    ``scale_factor``), with PyTorch's index arithmetic for every mode."""
    check_tensor(input, "interpolate", "input")
    _check_mode(input, mode, align_corners)
    if antialias and not (mode in ("bilinear", "bicubic") and input.dim() == 4):
        raise ValueError("Anti-alias option is restricted to bilinear and bicubic modes and requires a 4-D tensor "
                         "as input")
    out, scales = _sizes(input, size, scale_factor, mode, recompute_scale_factor)
    check_size(input._shape[:2] + tuple(out), input._dtype.itemsize)
    nd = input.dim() - 2
    if mode == "area":
        return ops.adaptive_avg_pool1d(input, out) if nd == 1 else \
            (ops.adaptive_avg_pool2d if nd == 2 else ops.adaptive_avg_pool3d)(input, tuple(out))
    nearest = mode in ("nearest", "nearest-exact")
    if not (input._dtype.is_floating_point or (nearest and input._dtype.name == "uint8")):
        raise NotImplementedError(f"\"upsample_{mode}\" not implemented for '{input._dtype.name}' (it takes floating "
                                  f"point inputs{', or uint8' if nearest else ''})")
    align = bool(align_corners)
    dtype = float64 if input._dtype is float64 else float32   # PyTorch's opmath type
    dev = input.device
    taps = []
    with no_grad():
        for i, (n_in, n_out, s) in enumerate(zip(input._shape[2:], out, scales)):
            if nearest:
                idx, wts = _nearest_taps(n_in, n_out, s, mode == "nearest-exact", dev)
            elif antialias:
                idx, wts = _antialias_taps(n_in, n_out, align, s, dtype, dev, mode == "bicubic")
            elif mode == "bicubic":
                idx, wts = _cubic_taps(n_in, n_out, align, s, dtype, dev)
            else:
                idx, wts = _linear_taps(n_in, n_out, align, s, dtype, dev)
            shape = (n_out,) + (1,) * (nd - 1 - i)
            weights = [None] * len(idx) if wts is None else [w.to(input._dtype).reshape(shape) for w in wts]
            taps.append((2 + i, n_in, list(zip(idx, weights))))
    r = _resample(input.detach(), taps)
    if STATE.enabled and input._requires_grad:
        node = (_AA_NODES[mode] if antialias else _NODES[mode, nd])()
        node.taps, node.in_shape = taps, input._shape
        record(node, (input,), r)
    return r


# ---- pixel shuffle -------------------------------------------------------------------------------

class PixelShuffleBackward0(Node):
    """d pixel_shuffle(a, r) = pixel_unshuffle(g, r)"""
    __slots__ = ("factor",)

    def backward(self, g):
        return (pixel_unshuffle(g, self.factor),)


class PixelUnshuffleBackward0(Node):
    """d pixel_unshuffle(a, r) = pixel_shuffle(g, r)"""
    __slots__ = ("factor",)

    def backward(self, g):
        return (pixel_shuffle(g, self.factor),)


def _check_shuffle(input, factor, fname, what):
    check_tensor(input, fname, "input")
    if isinstance(factor, bool) or not isinstance(factor, int):
        raise TypeError(f"{fname}(): argument '{what}' must be int, not {type(factor).__name__}")
    if input.dim() < 3:
        raise RuntimeError(f"{fname} expects input to have at least 3 dimensions, but got input with {input.dim()} "
                           f"dimension(s)")
    if factor <= 0:
        raise RuntimeError(f"{fname} expects a positive {what}, but got {factor}")


@declare(public=False)
def pixel_shuffle(input, upscale_factor) -> Tensor:
    """(*, C*r*r, H, W) -> (*, C, H*r, W*r): each channel group of r*r becomes an r x r block."""
    r = upscale_factor
    _check_shuffle(input, r, "pixel_shuffle", "upscale_factor")
    *lead, c, h, w = input._shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                           f"upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    k = len(lead)
    with no_grad():
        out = input.detach().reshape(*lead, c // (r * r), r, r, h, w)
        out = out.permute(*range(k), k, k + 3, k + 1, k + 4, k + 2).reshape(*lead, c // (r * r), h * r, w * r)
        out = out.contiguous() if out._storage is input._storage else out
    if STATE.enabled and input._requires_grad:
        node = PixelShuffleBackward0()
        node.factor = r
        record(node, (input,), out)
    return out


@declare(public=False)
def pixel_unshuffle(input, downscale_factor) -> Tensor:
    """(*, C, H*r, W*r) -> (*, C*r*r, H, W): the inverse of ``pixel_shuffle``."""
    r = downscale_factor
    _check_shuffle(input, r, "pixel_unshuffle", "downscale_factor")
    *lead, c, h, w = input._shape
    for name, n, i in (("height", h, -2), ("width", w, -1)):
        if n % r:
            raise RuntimeError(f"pixel_unshuffle expects {name} to be divisible by downscale_factor, but "
                               f"input.size({i})={n} is not divisible by {r}")
    k = len(lead)
    with no_grad():
        out = input.detach().reshape(*lead, c, h // r, r, w // r, r)
        out = out.permute(*range(k), k, k + 2, k + 4, k + 1, k + 3).reshape(*lead, c * r * r, h // r, w // r)
        out = out.contiguous() if out._storage is input._storage else out
    if STATE.enabled and input._requires_grad:
        node = PixelUnshuffleBackward0()
        node.factor = r
        record(node, (input,), out)
    return out

