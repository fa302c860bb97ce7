"""Pooling: ``max_pool2d``, ``avg_pool2d`` and ``adaptive_avg_pool2d``.

The pools read the same sliding windows as the convolution (``im2col_raw`` in the
``"ncyxij"`` order puts each window's elements last), then reduce them with the
backend's ``reduce``/``arg_reduce`` kernels. Gradients go back through
differentiable ops: ``scatter_add`` at the recorded argmax positions for the max
pool, ``col2im`` of the spread gradient for the average pool.
"""

from __future__ import annotations

from collections import namedtuple

from ..autograd.grad_mode import STATE, no_grad
from ..autograd.graph import Node, record
from ..creation import arange, ones, zeros
from ..dtypes import int64
from ..layout import check_size
from ..optable import ops
from ..tensor import Tensor
from .checks import check_bool, check_floating, check_int, check_tensor
from .convolution import Window2d, _as_4d, col2im, im2col_raw, pair, reshape_fresh
from .reduction import _arg, run_reduce
from .declare import declare

__all__ = ["max_pool2d", "max_pool2d_with_indices", "avg_pool2d", "adaptive_avg_pool2d"]

#: pooled windows: (N, C, oh, ow, kh, kw)
POOL_ORDER = "ncyxij"

_with_indices = namedtuple("max_pool2d_with_indices", ["values", "indices"])


def _pool_input(input, fname):
    """``input`` as 4-d (and whether it was unbatched): only the batch dim of a 4-d
    input may be empty, as in PyTorch (an empty channel or spatial dim is refused)."""
    x, squeeze = _as_4d(input, fname)
    if not all(x._shape[1:]):
        raise RuntimeError(f"{fname}(): expected a 3-d (C, H, W) or 4-d (N, C, H, W) input whose dims are non-zero "
                           f"(the batch dim of a 4-d input may be 0), but got shape {list(input._shape)}")
    return x, squeeze


def _geometry(x, kernel_size, stride, padding, dilation, ceil_mode, fname):
    if type(ceil_mode) is not bool:
        check_bool(ceil_mode, fname, "ceil_mode")
    kernel = pair(kernel_size, "kernel_size", fname)
    stride_ = kernel if stride is None or stride == [] or stride == () else pair(stride, "stride", fname)
    padding_ = pair(padding, "padding", fname)
    dilation_ = pair(dilation, "dilation", fname)
    for v in kernel + stride_ + padding_ + dilation_:
        if not _INT_MIN <= v <= _INT_MAX:   # PyTorch's pooling kernels take these as C ints
            raise RuntimeError("value cannot be converted to type int without overflow")
    for k, p in zip(kernel, padding_):
        if p > k // 2:   # half the kernel itself, whatever the dilation (PyTorch's bound)
            raise RuntimeError(f"{fname}(): pad should be at most half of the kernel size, but got pad={p} and "
                               f"kernel_size={k}")
    return Window2d(x._shape[2:], kernel, stride_, padding_, dilation_, ceil_mode=ceil_mode, fname=fname)


_INT_MIN, _INT_MAX = -(1 << 31), (1 << 31) - 1


def _lowest(dtype):
    """The padding value that never wins a max."""
    if dtype.is_floating_point:
        return float("-inf")
    if not dtype.is_signed:
        return 0
    return -(1 << (dtype.itemsize * 8 - 1))


# ---- max pooling --------------------------------------------------------------------------

class MaxPool2DWithIndicesBackward0(Node):
    """d max_pool2d(a) = g added at the position of each window's max"""
    __slots__ = ("in_shape",)

    def backward(self, g):
        (indices,) = self.saved_tensors
        n, c, h, w = self.in_shape
        flat = zeros((n, c, h * w), dtype=g._dtype, device=g.device)
        return (ops.scatter_add(flat, 2, indices.reshape(n, c, -1), g.reshape(n, c, -1)).reshape(self.in_shape),)


@declare(public=False)
def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """The max of every window and, for each, the flat ``h * W + w`` index of where it was."""
    x, squeeze = _pool_input(input, "max_pool2d")
    x = x.detach()
    geom = _geometry(x, kernel_size, stride, padding, dilation, ceil_mode, "max_pool2d")
    n, c, h, w = x._shape
    (kh, kw), (oh, ow) = geom.kernel, geom.out_hw
    win = im2col_raw(x, geom, POOL_ORDER, (n, c, oh, ow, kh * kw), pad_value=_lowest(x._dtype))
    values = run_reduce("max", win, (4,), False)
    k = _arg("argmax", win, 4, False)
    with no_grad():
        rows = (arange(oh, device=x.device) * geom.stride[0] - geom.padding[0]).reshape(oh, 1)
        cols = arange(ow, device=x.device) * geom.stride[1] - geom.padding[1]
        indices = (rows + (k // kw) * geom.dilation[0]) * w + cols + (k % kw) * geom.dilation[1]
    if squeeze:  # an unbatched (C, H, W) input: the op is still one node on it
        reshape_fresh(values, values._shape[1:])
        reshape_fresh(indices, indices._shape[1:])
    if STATE.enabled and input._requires_grad:
        node = MaxPool2DWithIndicesBackward0()
        node.in_shape = x._shape
        node.save(indices)
        record(node, (input,), values)
    return _with_indices(values, indices)


@declare(public=False)
def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """The max of every ``kernel_size`` window (stride defaults to the kernel size)."""
    r = max_pool2d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    return (r.values, r.indices) if return_indices else r.values


# ---- average pooling -----------------------------------------------------------------------

class AvgPool2DBackward0(Node):
    """d avg_pool2d(a) = col2im(g / divisor spread over each window)"""
    __slots__ = ("geom", "in_shape", "divisor")

    def backward(self, g):
        n, c = self.in_shape[:2]
        (kh, kw), (oh, ow) = self.geom.kernel, self.geom.out_hw
        d = self.divisor if not isinstance(self.divisor, Tensor) else self.divisor.to(g._dtype)
        spread = (g / d).unsqueeze(-1).expand(n, c, oh, ow, kh * kw)
        return (col2im(spread, self.geom, POOL_ORDER, self.in_shape, (n, c, oh, ow, kh, kw)),)


def _window_counts(geom: Window2d, count_include_pad: bool, backend_like: Tensor):
    """How many elements each window averages: a number when all windows are full,
    else an (oh, ow) tensor (windows hanging over the edge, or padding excluded)."""
    (kh, kw) = geom.kernel
    (ph, pw), (eh, ew) = geom.padding, geom.extra
    if count_include_pad and not (eh or ew):
        return kh * kw
    if not count_include_pad and not (ph or pw or eh or ew):
        return kh * kw
    h, w = geom.in_hw
    if count_include_pad:  # padding counts; only the ceil_mode overhang does not
        mask = ones((1, 1, h + 2 * ph, w + 2 * pw), dtype=backend_like._dtype, device=backend_like.device)
        mask_geom = geom.over_padded()
    else:
        mask = ones((1, 1, h, w), dtype=backend_like._dtype, device=backend_like.device)
        mask_geom = geom
    win = im2col_raw(mask, mask_geom, POOL_ORDER, (1, 1) + geom.out_hw + (kh * kw,))
    return run_reduce("sum", win, (4,), False).reshape(geom.out_hw)


@declare(public=False)
def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None) -> Tensor:
    """The mean of every window (zero padding counts unless ``count_include_pad=False``).
    An int64 input gives int64 means, rounded toward zero as PyTorch's integer division does."""
    if isinstance(input, Tensor) and input.dim() < 3:   # PyTorch reads dim -3 first
        raise IndexError(f"avg_pool2d(): expected a 3-d (C, H, W) or 4-d (N, C, H, W) input, but got a "
                         f"{input.dim()}-d input of shape {list(input._shape)}")
    x, squeeze = _pool_input(input, "avg_pool2d")
    x = x.detach()
    integral = x._dtype is int64
    if not (x._dtype.is_floating_point or integral):
        raise RuntimeError(f"avg_pool2d(): expected a floating point or int64 input, got {x._dtype!r}")
    geom = _geometry(x, kernel_size, stride, padding, 1, ceil_mode, "avg_pool2d")
    if type(count_include_pad) is not bool:
        check_bool(count_include_pad, "avg_pool2d", "count_include_pad")
    n, c = x._shape[:2]
    (kh, kw), (oh, ow) = geom.kernel, geom.out_hw
    if divisor_override is not None:
        divisor = check_int(divisor_override, "avg_pool2d", "divisor_override")
        if divisor == 0:
            raise RuntimeError("avg_pool2d(): divisor must be not zero")
    else:
        divisor = _window_counts(geom, count_include_pad, x)
    win = im2col_raw(x, geom, POOL_ORDER, (n, c, oh, ow, kh * kw))
    with no_grad():
        sums = run_reduce("sum", win, (4,), False)
        r = sums.div(divisor, rounding_mode="trunc") if integral else sums / divisor
    if squeeze:
        reshape_fresh(r, r._shape[1:])
    if STATE.enabled and input._requires_grad:
        node = AvgPool2DBackward0()
        node.geom, node.in_shape, node.divisor = geom, x._shape, divisor
        record(node, (input,), r)
    return r


# ---- adaptive pooling -----------------------------------------------------------------------

class _Bands:
    """The ``n_out`` bands that split a dim of ``n_in`` as PyTorch's adaptive pooling does,
    band ``i`` covering ``[floor(i*n/n_out), ceil((i+1)*n/n_out))``, as a padded
    ``(n_out, k)`` block of input positions (``positions``, the padding repeating a band's
    last position), the mask of the real ones (``inside``) and each band's length.

    The bands are computed with tensor ops on the device, so an impossible ``n_out``
    fails at allocation instead of in a Python loop."""

    __slots__ = ("n_in", "n_out", "k", "positions", "inside", "counts")

    def __init__(self, n_in: int, n_out: int, device):
        i = arange(n_out, device=device)
        starts = (i * n_in) // n_out
        ends = (-((-(i + 1) * n_in) // n_out)).unsqueeze(1)
        self.n_in, self.n_out = n_in, n_out
        self.k = -(-n_in // n_out) + 1                 # the widest band, plus one when bands straddle
        positions = starts.unsqueeze(1) + arange(self.k, device=device)
        self.inside = positions < ends
        self.positions = ops.minimum(positions, ends - 1).reshape(-1)
        self.counts = ends.reshape(-1) - starts

    def means(self, x: Tensor, dim: int) -> Tensor:
        """The mean of every band along ``dim``. The padding is selected away, never
        multiplied by zero: a NaN or an infinity reaches only the outputs whose band holds it."""
        picked = ops.index_select(x, dim, self.positions)
        trailing = (1,) * (x.dim() - dim - 1)
        picked = picked.reshape(x._shape[:dim] + (self.n_out, self.k) + x._shape[dim + 1:])
        sums = ops.where(self.inside.reshape((self.n_out, self.k) + trailing), picked, 0.0).sum(dim + 1)
        return sums / self.counts.to(x._dtype).reshape((self.n_out,) + trailing)

    def spread(self, g: Tensor, dim: int) -> Tensor:
        """The transpose of ``means``: each band's ``g / length`` added at the band's positions."""
        trailing = (1,) * (g.dim() - dim - 1)
        share = (g / self.counts.to(g._dtype).reshape((self.n_out,) + trailing)).unsqueeze(dim + 1)
        block = g._shape[:dim] + (self.n_out, self.k) + g._shape[dim + 1:]
        share = ops.where(self.inside.reshape((self.n_out, self.k) + trailing), share.expand(block), 0.0)
        flat = share.reshape(g._shape[:dim] + (self.n_out * self.k,) + g._shape[dim + 1:])
        return ops.index_add(g.new_zeros(g._shape[:dim] + (self.n_in,) + g._shape[dim + 1:]), dim, self.positions, flat)


class AdaptiveAvgPool2DBackward0(Node):
    """d adaptive_avg_pool2d(a) = g / window size added over each window (row bands, then
    column bands, transposed)"""
    __slots__ = ("rows", "cols", "in_shape")

    def backward(self, g):
        if self.rows is None:   # an empty input or output: nothing to spread
            return (g.new_zeros(self.in_shape),)
        squeeze = len(self.in_shape) == 3
        if squeeze:
            g = g.unsqueeze(0)
        grad = self.rows.spread(self.cols.spread(g, 3), 2)
        return (grad.squeeze(0) if squeeze else grad,)


def _adaptive_size(input, output_size) -> tuple:
    """``output_size`` (an int, or a pair of ints where None keeps the input's size) as
    ``(oh, ow)``, checked as PyTorch checks it: a sequence longer than the input's rank is
    a ValueError, anything else but ints a TypeError, a size below 0 a RuntimeError."""
    check_tensor(input, "adaptive_avg_pool2d", "input")
    if isinstance(output_size, (tuple, list)):
        if input.dim() <= len(output_size):
            raise ValueError(f"Input dimension should be at least {len(output_size) + 1}")
        size = tuple(input._shape[i - len(output_size)] if s is None else s for i, s in enumerate(output_size))
    elif type(output_size) is int:
        size = (output_size, output_size)
    else:
        size = None
    if size is None or not all(type(s) is int for s in size):
        raise TypeError(f"adaptive_avg_pool2d(): argument 'output_size' must be an int or a sequence of ints (None "
                        f"keeping the input's size), got {output_size!r}")
    if len(size) != 2:
        raise RuntimeError(f"adaptive_avg_pool2d(): output_size must hold 2 sizes (H, W), got {list(size)}")
    if min(size) < 0:
        raise RuntimeError(f"adaptive_avg_pool2d(): the sizes of output_size must be at least 0, got {list(size)}")
    return size


@declare(public=False)
def adaptive_avg_pool2d(input, output_size) -> Tensor:
    """Average over the windows that split (H, W) into ``output_size`` nearly equal parts.

    A window is a band of rows times a band of columns, so the pool is a mean over row
    bands followed by a mean over column bands (an ordinary average pool when both divide
    evenly). An output of 1 x 1 is the mean over (H, W), as in PyTorch (``MeanBackward1``)."""
    oh, ow = _adaptive_size(input, output_size)
    if oh == 1 and ow == 1:   # before the rank checks, as in PyTorch: a 2-d input is pooled too
        return input.mean((-1, -2), keepdim=True)
    x, squeeze = _as_4d(input, "adaptive_avg_pool2d")
    h, w = x._shape[2:]
    if not (h and w):
        raise RuntimeError(f"adaptive_avg_pool2d(): expected an input whose last two dims (H, W) are non-zero, but "
                           f"got shape {list(input._shape)}")
    check_floating(x, "adaptive_avg_pool2d")
    check_size(x._shape[:2] + (oh, ow), x._dtype.itemsize)
    x = x.detach()
    tracked = STATE.enabled and input._requires_grad
    bands = None
    with no_grad():
        empty = not (oh and ow and x.numel())   # no output, or an empty batch or channel dim
        if empty:
            r = x.new_empty(x._shape[:2] + (oh, ow))
        elif h % oh == 0 and w % ow == 0:
            r = avg_pool2d(x, (h // oh, w // ow))
        else:
            bands = _Bands(h, oh, x.device), _Bands(w, ow, x.device)
            r = bands[1].means(bands[0].means(x, 2), 3)
    if squeeze:
        reshape_fresh(r, r._shape[1:])
    if tracked:
        node = AdaptiveAvgPool2DBackward0()
        if empty:
            node.rows = node.cols = None
        else:
            node.rows, node.cols = bands or (_Bands(h, oh, x.device), _Bands(w, ow, x.device))
        node.in_shape = input._shape
        record(node, (input,), r)
    return r
