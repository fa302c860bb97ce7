"""Pooling over 1, 2 or 3 spatial dims: max, average, adaptive average, adaptive max
and power-average (``lp_pool``), and ``max_unpool`` (the max pools' partial inverse).

The 2-d and 3-d pools read the same sliding windows as the convolution (``im2col_raw``
in the ``"nc" + out + kernel`` order puts each window's elements last), then reduce
them with the backend's ``reduce``/``arg_reduce`` kernels. Gradients go back through
differentiable ops: ``scatter_add`` at the recorded argmax positions for the max
pools, ``col2im`` of the spread gradient for the average pools. The 1-d pools are the
2-d ones over a height of one, as in PyTorch (their ``grad_fn`` is the final
``SqueezeBackward1``). Adaptive pools split each dim into bands (``_Bands``).
"""

from __future__ import annotations

from collections import namedtuple

from ..autograd.grad_mode import STATE, no_grad
from ..autograd.graph import Node, record
from ..creation import arange, ones, zeros
from ..dtypes import int64
from ..hostchecks import validating
from ..layout import check_size, numel
from ..optable import ops
from ..tensor import Tensor
from .checks import check_bool, check_floating, check_int, check_tensor
from .convolution import Windows, as_batched, col2im, im2col_raw, kernel_letters, ntuple, out_letters, reshape_fresh
from .reduction import _arg, run_reduce
from .declare import declare

__all__ = ["max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices", "max_pool2d_with_indices",
           "max_pool3d_with_indices", "avg_pool1d", "avg_pool2d", "avg_pool3d", "adaptive_avg_pool1d",
           "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d", "adaptive_max_pool2d",
           "adaptive_max_pool3d", "lp_pool1d", "lp_pool2d", "lp_pool3d", "max_unpool1d", "max_unpool2d",
           "max_unpool3d"]


def pool_order(nd: int) -> str:
    """Pooled windows: (N, C, *out, *kernel)."""
    return "nc" + out_letters(nd) + kernel_letters(nd)


_with_indices = {nd: namedtuple(f"max_pool{nd}d_with_indices", ["values", "indices"]) for nd in (1, 2, 3)}


def _pool_input(input, nd, fname):
    """``input`` batched (and whether it was not): only the batch dim of a batched input
    may be empty, as in PyTorch (an empty channel or spatial dim is refused)."""
    x, squeeze = as_batched(input, nd, fname)
    if not all(x._shape[1:]):
        raise RuntimeError(f"{fname}(): expected an input whose dims are non-zero (the batch dim of a batched input "
                           f"may be 0), but got shape {list(input._shape)}")
    return x, squeeze


def _geometry(x, kernel_size, stride, padding, dilation, ceil_mode, fname, nd=2):
    if type(ceil_mode) is not bool:
        check_bool(ceil_mode, fname, "ceil_mode")
    kernel = ntuple(kernel_size, nd, "kernel_size", fname)
    stride_ = kernel if stride is None or stride == [] or stride == () else ntuple(stride, nd, "stride", fname)
    padding_ = ntuple(padding, nd, "padding", fname)
    dilation_ = ntuple(dilation, nd, "dilation", fname)
    for v in kernel + stride_ + padding_ + dilation_:
        if not _INT_MIN <= v <= _INT_MAX:   # PyTorch's pooling kernels take these as C ints
            raise RuntimeError("value cannot be converted to type int without overflow")
    for k, p in zip(kernel, padding_):
        if p > k // 2:   # half the kernel itself, whatever the dilation (PyTorch's bound)
            raise RuntimeError(f"{fname}(): pad should be at most half of the kernel size, but got pad={p} and "
                               f"kernel_size={k}")
    return Windows(x._shape[2:], kernel, stride_, padding_, dilation_, ceil_mode=ceil_mode, fname=fname)


_INT_MIN, _INT_MAX = -(1 << 31), (1 << 31) - 1


def _lowest(dtype):
    """The padding value that never wins a max."""
    if dtype.is_floating_point:
        return float("-inf")
    if not dtype.is_signed:
        return 0
    return -(1 << (dtype.itemsize * 8 - 1))


def _as_1d_pool(input, fname):
    """A 1-d pool's (C, L) or (N, C, L) input as the 2-d pool's (.., C, 1, L)."""
    check_tensor(input, fname, "input")
    if input.dim() not in (2, 3):
        raise RuntimeError(f"{fname}(): expected a 2-d (C, L) or 3-d (N, C, L) input, but got a {input.dim()}-d "
                           f"input of shape {list(input._shape)}")
    return input.unsqueeze(-2)


def _first(v, fname, name):
    """A 1-d pool's size argument (an int or a one-int sequence) as the width of the 2-d one."""
    return ntuple(v, 1, name, fname)[0]


# ---- max pooling --------------------------------------------------------------------------

class _MaxPoolBackward(Node):
    """d max_pool(a) = g added at the position of each window's max"""
    __slots__ = ("in_shape", "input_shape")

    def backward(self, g):
        (indices,) = self.saved_tensors
        n, c = self.in_shape[:2]
        flat = zeros((n, c, numel(self.in_shape[2:])), dtype=g._dtype, device=g.device)
        grad = ops.scatter_add(flat, 2, indices.reshape(n, c, -1), g.reshape(n, c, -1))
        return (grad.reshape(self.input_shape),)


class MaxPool2DWithIndicesBackward0(_MaxPoolBackward):
    """2-d max pooling"""
    __slots__ = ()


class MaxPool3DWithIndicesBackward0(_MaxPoolBackward):
    """3-d max pooling"""
    __slots__ = ()


class AdaptiveMaxPool2DBackward0(_MaxPoolBackward):
    """2-d adaptive max pooling"""
    __slots__ = ()


class AdaptiveMaxPool3DBackward0(_MaxPoolBackward):
    """3-d adaptive max pooling"""
    __slots__ = ()


def _window_argmax(win: Tensor) -> Tensor:
    """Where each window's max is (the windows along the last dim): the first maximum,
    or the last NaN when there is one, as PyTorch's pooling kernels choose (they take a
    value when it is greater or NaN)."""
    k = _arg("argmax", win, win.dim() - 1, False)
    if not win._dtype.is_floating_point:
        return k
    with no_grad():
        nan = win.isnan()
        if not validating.capturing and not bool(nan.any()):   # a shortcut; plugrad.compile records the
            return k                                              # general path, right with or without NaN
        width = win._shape[-1]
        last = (width - 1) - nan.flip(-1).to(int64).argmax(-1)
        return ops.where(nan.any(-1), last, k)


def _record_max(node_cls, input, x, values, indices, squeeze):
    """Shape the results of a max pool of the batched ``x`` and record its node on ``input``."""
    if squeeze:  # an unbatched input: the op is still one node on it
        reshape_fresh(values, values._shape[1:])
        reshape_fresh(indices, indices._shape[1:])
    if STATE.enabled and input._requires_grad:
        node = node_cls()
        node.in_shape, node.input_shape = x._shape, input._shape
        node.save(indices)
        record(node, (input,), values)


def _max_pool_nd(input, kernel_size, stride, padding, dilation, ceil_mode, nd, node_cls):
    fname = f"max_pool{nd}d"
    x, squeeze = _pool_input(input, nd, fname)
    x = x.detach()
    geom = _geometry(x, kernel_size, stride, padding, dilation, ceil_mode, fname, nd)
    n, c = x._shape[:2]
    in_size, out_size, kernel = geom.in_size, geom.out_size, geom.kernel
    win = im2col_raw(x, geom, pool_order(nd), (n, c) + out_size + (numel(kernel),), pad_value=_lowest(x._dtype))
    values = run_reduce("max", win, (2 + nd,), False)
    k = _window_argmax(win)
    with no_grad():
        indices = None
        for i in range(nd):   # the flat input position of the max: sum over dims of position * stride
            shape = [1] * nd
            shape[i] = out_size[i]
            start = (arange(out_size[i], device=x.device) * geom.stride[i] - geom.padding[i]).reshape(shape)
            offset = (k // numel(kernel[i + 1:])) % kernel[i]
            pos = (start + offset * geom.dilation[i]) * numel(in_size[i + 1:])
            indices = pos if indices is None else indices + pos
    _record_max(node_cls, input, x, values, indices, squeeze)
    return _with_indices[nd](values, indices)


@declare(public=False)
def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """The max of every window and, for each, the flat ``h * W + w`` index of where it was."""
    return _max_pool_nd(input, kernel_size, stride, padding, dilation, ceil_mode, 2, MaxPool2DWithIndicesBackward0)


@declare(public=False)
def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """The max of every 3-d window and, for each, the flat ``(d * H + h) * W + w`` index of where it was."""
    return _max_pool_nd(input, kernel_size, stride, padding, dilation, ceil_mode, 3, MaxPool3DWithIndicesBackward0)


@declare(public=False)
def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """The max of every window of the last dim and, for each, the index of where it was."""
    x = _as_1d_pool(input, "max_pool1d")
    f = "max_pool1d"
    stride = None if stride is None or stride == [] or stride == () else (1, _first(stride, f, "stride"))
    r = max_pool2d_with_indices(x, (1, _first(kernel_size, f, "kernel_size")), stride,
                                (0, _first(padding, f, "padding")), (1, _first(dilation, f, "dilation")), ceil_mode)
    return _with_indices[1](r.values.squeeze(-2), r.indices.squeeze(-2))


@declare(public=False)
def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """The max of every ``kernel_size`` window of the last dim (stride defaults to the kernel size)."""
    r = max_pool1d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    return (r.values, r.indices) if return_indices else r.values


@declare(public=False)
def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """The max of every ``kernel_size`` window (stride defaults to the kernel size)."""
    r = max_pool2d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    return (r.values, r.indices) if return_indices else r.values


@declare(public=False)
def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """The max of every 3-d ``kernel_size`` window (stride defaults to the kernel size)."""
    r = max_pool3d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    return (r.values, r.indices) if return_indices else r.values


# ---- average pooling -----------------------------------------------------------------------

class _AvgPoolBackward(Node):
    """d avg_pool(a) = col2im(g / divisor spread over each window)"""
    __slots__ = ("geom", "in_shape", "input_shape", "divisor")

    def backward(self, g):
        geom = self.geom
        n, c = self.in_shape[:2]
        d = self.divisor if not isinstance(self.divisor, Tensor) else self.divisor.to(g._dtype)
        g = g.reshape((n, c) + geom.out_size)
        spread = (g / d).unsqueeze(-1).expand((n, c) + geom.out_size + (numel(geom.kernel),))
        grad = col2im(spread, geom, pool_order(geom.nd), self.in_shape, (n, c) + geom.out_size + geom.kernel)
        return (grad.reshape(self.input_shape),)


class AvgPool2DBackward0(_AvgPoolBackward):
    """2-d average pooling"""
    __slots__ = ()


class AvgPool3DBackward0(_AvgPoolBackward):
    """3-d average pooling"""
    __slots__ = ()


def _window_counts(geom: Windows, count_include_pad: bool, backend_like: Tensor):
    """How many elements each window averages: a number when all windows are full,
    else a tensor of the output's spatial shape (windows hanging over the edge, or
    padding excluded)."""
    full = numel(geom.kernel)
    if count_include_pad and not any(geom.extra):
        return full
    if not count_include_pad and not (any(geom.padding) or any(geom.extra)):
        return full
    if count_include_pad:  # padding counts; only the ceil_mode overhang does not
        size = tuple(n + 2 * p for n, p in zip(geom.in_size, geom.padding))
        mask_geom = geom.over_padded()
    else:
        size, mask_geom = geom.in_size, geom
    mask = ones((1, 1) + size, dtype=backend_like._dtype, device=backend_like.device)
    win = im2col_raw(mask, mask_geom, pool_order(geom.nd), (1, 1) + geom.out_size + (full,))
    return run_reduce("sum", win, (2 + geom.nd,), False).reshape(geom.out_size)


def _avg_pool_nd(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, nd,
                 node_cls, fname) -> Tensor:
    if nd == 2 and isinstance(input, Tensor) and input.dim() < 3:   # PyTorch reads dim -3 first
        raise IndexError(f"{fname}(): expected a {nd + 1}-d or {nd + 2}-d input, but got a {input.dim()}-d input of "
                         f"shape {list(input._shape)}")
    x, squeeze = _pool_input(input, nd, fname)
    x = x.detach()
    integral = x._dtype is int64
    if not (x._dtype.is_floating_point or integral):
        raise RuntimeError(f"{fname}(): expected a floating point or int64 input, got {x._dtype!r}")
    geom = _geometry(x, kernel_size, stride, padding, 1, ceil_mode, fname, nd)
    if type(count_include_pad) is not bool:
        check_bool(count_include_pad, fname, "count_include_pad")
    n, c = x._shape[:2]
    if divisor_override is not None:
        divisor = check_int(divisor_override, fname, "divisor_override")
        if divisor == 0:
            raise RuntimeError(f"{fname}(): divisor must be not zero")
    else:
        divisor = _window_counts(geom, count_include_pad, x)
    win = im2col_raw(x, geom, pool_order(nd), (n, c) + geom.out_size + (numel(geom.kernel),))
    with no_grad():
        sums = run_reduce("sum", win, (2 + nd,), False)
        r = sums.div(divisor, rounding_mode="trunc") if integral else sums / divisor
    if squeeze:
        reshape_fresh(r, r._shape[1:])
    if STATE.enabled and input._requires_grad:
        node = node_cls()
        node.geom, node.in_shape, node.input_shape, node.divisor = geom, x._shape, input._shape, divisor
        record(node, (input,), r)
    return r


@declare(public=False)
def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None) -> Tensor:
    """The mean of every window (zero padding counts unless ``count_include_pad=False``).
    An int64 input gives int64 means, rounded toward zero as PyTorch's integer division does."""
    return _avg_pool_nd(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, 2,
                        AvgPool2DBackward0, "avg_pool2d")


@declare(public=False)
def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None) -> Tensor:
    """The mean of every 3-d window, as ``avg_pool2d``."""
    return _avg_pool_nd(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, 3,
                        AvgPool3DBackward0, "avg_pool3d")


@declare(public=False)
def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True) -> Tensor:
    """The mean of every window of the last dim, as ``avg_pool2d`` over a height of one."""
    x = _as_1d_pool(input, "avg_pool1d")
    f = "avg_pool1d"
    stride = None if stride is None or stride == [] or stride == () else (1, _first(stride, f, "stride"))
    return avg_pool2d(x, (1, _first(kernel_size, f, "kernel_size")), stride, (0, _first(padding, f, "padding")),
                      ceil_mode, count_include_pad).squeeze(-2)


# ---- power-average pooling -------------------------------------------------------------------

def _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, nd, avg) -> Tensor:
    """PyTorch's formula: ``(sign(a) * relu(|a|) * prod(kernel)) ** (1 / p)`` of the average
    ``a`` of ``input ** p`` over each window (no padding); for ``p = +-inf`` the max (min)
    of ``|input|``."""
    kernel = ntuple(kernel_size, nd, "kernel_size", f"lp_pool{nd}d")
    if isinstance(norm_type, (int, float)) and abs(norm_type) == float("inf"):   # the max (min) of |x|
        pool = {1: max_pool1d, 2: max_pool2d, 3: max_pool3d}[nd]
        if norm_type > 0:
            return pool(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
        return -pool(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    out = avg(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return (ops.sign(out) * ops.relu(ops.abs(out))).mul(numel(kernel)).pow(1.0 / norm_type)


@declare(public=False)
def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False) -> Tensor:
    """The ``norm_type``-norm of every window of the last dim."""
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 1, avg_pool1d)


@declare(public=False)
def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False) -> Tensor:
    """The ``norm_type``-norm of every 2-d window."""
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 2, avg_pool2d)


@declare(public=False)
def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False) -> Tensor:
    """The ``norm_type``-norm of every 3-d window."""
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 3, avg_pool3d)


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


class _AdaptiveAvgPoolBackward(Node):
    """d adaptive_avg_pool(a) = g / band length added over each band, the last dim's bands
    first (the forward's means, transposed)"""
    __slots__ = ("bands", "in_shape")

    def backward(self, g):
        if self.bands is None:   # an empty input or output: nothing to spread
            return (g.new_zeros(self.in_shape),)
        nd = len(self.bands)
        squeeze = len(self.in_shape) == nd + 1
        if squeeze:
            g = g.unsqueeze(0)
        for i in reversed(range(nd)):
            g = self.bands[i].spread(g, 2 + i)
        return (g.squeeze(0) if squeeze else g,)


class AdaptiveAvgPool2DBackward0(_AdaptiveAvgPoolBackward):
    """2-d adaptive average pooling"""
    __slots__ = ()


class AdaptiveAvgPool3DBackward0(_AdaptiveAvgPoolBackward):
    """3-d adaptive average pooling"""
    __slots__ = ()


def _adaptive_size(input, output_size, nd, fname) -> tuple:
    """``output_size`` (an int, or ``nd`` ints where None keeps the input's size) as a
    tuple, checked as PyTorch checks it: a sequence longer than the input's rank is a
    ValueError, anything else but ints a TypeError, a size below 0 a RuntimeError."""
    check_tensor(input, fname, "input")
    if isinstance(output_size, (tuple, list)):
        if input.dim() <= len(output_size):
            raise ValueError(f"Input dimension should be at least {len(output_size) + 1}")
        size = tuple(input._shape[i - len(output_size)] if s is None else s for i, s in enumerate(output_size))
    elif type(output_size) is int:
        size = (output_size,) * nd
    else:
        size = None
    if size is None or not all(type(s) is int for s in size):
        raise TypeError(f"{fname}(): argument 'output_size' must be an int or a sequence of ints (None "
                        f"keeping the input's size), got {output_size!r}")
    if len(size) != nd:
        raise RuntimeError(f"{fname}(): output_size must hold {nd} sizes, got {list(size)}")
    if min(size) < 0:
        raise RuntimeError(f"{fname}(): the sizes of output_size must be at least 0, got {list(size)}")
    return size


def _check_nonempty(input, first: int, fname: str) -> None:
    """PyTorch's error for an adaptive pool's input with an empty dim from ``first`` on."""
    empty = [d for d in range(first, input.dim()) if input._shape[d] == 0]
    if empty:
        raise RuntimeError(f"{fname}(): Expected input to have non-zero size for non-batch dimensions, but input has "
                           f"sizes {list(input._shape)} with dimension {empty[0]} being empty")


def _adaptive_input(input, size, nd, fname, first_nonempty=None):
    """The batched, detached input of an adaptive pool, checked. The input's dims from
    ``first_nonempty`` on (its spatial dims by default) must be non-empty, as in PyTorch,
    whose kernels differ: ``adaptive_avg_pool2d`` (and 1d, built on it) refuses an empty
    spatial dim only, the 3d average and every max an empty channel dim too."""
    x, squeeze = as_batched(input, nd, fname)
    _check_nonempty(input, input.dim() - nd if first_nonempty is None else first_nonempty, fname)
    check_floating(x, fname)
    check_size(x._shape[:2] + size, x._dtype.itemsize)
    return x.detach(), squeeze


def _adaptive_avg(input, output_size, nd, node_cls) -> Tensor:
    """Average over the windows that split the spatial dims into ``output_size`` nearly equal
    parts: a window is a product of bands, so the pool is a mean over the bands of each dim
    in turn. An output of all ones is the mean over the spatial dims, as in PyTorch
    (``MeanBackward1``)."""
    fname = f"adaptive_avg_pool{nd}d"
    size = _adaptive_size(input, output_size, nd, fname)
    if all(s == 1 for s in size):   # before the rank checks, as in PyTorch
        return input.mean(tuple(range(-nd, 0)), keepdim=True)
    x, squeeze = _adaptive_input(input, size, nd, fname, None if nd < 3 else 1)
    in_size = x._shape[2:]
    tracked = STATE.enabled and input._requires_grad
    bands = None
    with no_grad():
        empty = not (all(size) and x.numel())   # no output, or an empty batch or channel dim
        if empty:
            r = x.new_empty(x._shape[:2] + size)
        elif all(n % s == 0 for n, s in zip(in_size, size)):
            kernel = tuple(n // s for n, s in zip(in_size, size))
            r = (avg_pool2d if nd == 2 else avg_pool3d)(x, kernel)
        else:
            bands = tuple(_Bands(n, s, x.device) for n, s in zip(in_size, size))
            r = x
            for i, b in enumerate(bands):
                r = b.means(r, 2 + i)
    if squeeze:
        reshape_fresh(r, r._shape[1:])
    if tracked:
        node = node_cls()
        node.bands = None if empty else bands or tuple(_Bands(n, s, x.device) for n, s in zip(in_size, size))
        node.in_shape = input._shape
        record(node, (input,), r)
    return r


@declare(public=False)
def adaptive_avg_pool2d(input, output_size) -> Tensor:
    """Average over the windows that split (H, W) into ``output_size`` nearly equal parts."""
    return _adaptive_avg(input, output_size, 2, AdaptiveAvgPool2DBackward0)


@declare(public=False)
def adaptive_avg_pool3d(input, output_size) -> Tensor:
    """Average over the windows that split (D, H, W) into ``output_size`` nearly equal parts."""
    return _adaptive_avg(input, output_size, 3, AdaptiveAvgPool3DBackward0)


@declare(public=False)
def adaptive_avg_pool1d(input, output_size) -> Tensor:
    """Average over the windows that split the last dim into ``output_size`` nearly equal
    parts: ``adaptive_avg_pool2d`` over a height of one."""
    size = ntuple(output_size, 1, "output_size", "adaptive_avg_pool1d")
    x = _as_1d_pool(input, "adaptive_avg_pool1d")
    return adaptive_avg_pool2d(x, (1,) + size).squeeze(-2)


def _adaptive_max(input, output_size, return_indices, nd, node_cls):
    """The max over each window of the adaptive split and its flat input position: every
    window's positions (each dim's band positions combined) are gathered from the
    flattened input, then reduced."""
    fname = f"adaptive_max_pool{nd}d"
    size = _adaptive_size(input, output_size, nd, fname)
    x, squeeze = _adaptive_input(input, size, nd, fname, 1)
    n, c = x._shape[:2]
    in_size = x._shape[2:]
    with no_grad():
        if not (all(size) and x.numel()):
            values = x.new_empty((n, c) + size)
            indices = values.to(int64)
        else:
            bands = [_Bands(m, s, x.device) for m, s in zip(in_size, size)]
            flat = None   # (*size, *band widths) flat input positions
            for i, b in enumerate(bands):
                shape = [1] * (2 * nd)
                shape[i], shape[nd + i] = b.n_out, b.k
                pos = b.positions.reshape(shape) * numel(in_size[i + 1:])
                flat = pos if flat is None else flat + pos
            flat = flat.reshape(size + (-1,))
            width = flat._shape[-1]
            picked = x.reshape(n, c, -1).index_select(2, flat.reshape(-1)).reshape((n, c) + size + (width,))
            values = run_reduce("max", picked, (2 + nd,), False)
            k = _window_argmax(picked)
            indices = flat.expand((n, c) + size + (width,)).gather(2 + nd, k.unsqueeze(-1)).squeeze(-1)
            values, indices = values.contiguous(), indices.contiguous()
    _record_max(node_cls, input, x, values, indices, squeeze)
    return (values, indices) if return_indices else values


@declare(public=False)
def adaptive_max_pool2d(input, output_size, return_indices=False):
    """The max over the windows that split (H, W) into ``output_size`` nearly equal parts
    (and, with ``return_indices``, the flat ``h * W + w`` index of each)."""
    return _adaptive_max(input, output_size, return_indices, 2, AdaptiveMaxPool2DBackward0)


@declare(public=False)
def adaptive_max_pool3d(input, output_size, return_indices=False):
    """The max over the windows that split (D, H, W) into ``output_size`` nearly equal parts."""
    return _adaptive_max(input, output_size, return_indices, 3, AdaptiveMaxPool3DBackward0)


@declare(public=False)
def adaptive_max_pool1d(input, output_size, return_indices=False):
    """The max over the windows that split the last dim into ``output_size`` nearly equal
    parts: ``adaptive_max_pool2d`` over a height of one."""
    size = ntuple(output_size, 1, "output_size", "adaptive_max_pool1d")
    x = _as_1d_pool(input, "adaptive_max_pool1d")
    _check_nonempty(input, 1, "adaptive_max_pool1d")
    values, indices = adaptive_max_pool2d(x, (1,) + size, True)
    values, indices = values.squeeze(-2), indices.squeeze(-2)
    return (values, indices) if return_indices else values


# ---- max unpooling ---------------------------------------------------------------------------

class _MaxUnpoolBackward(Node):
    """d max_unpool(a) = the gradient read back at each value's index (a gather)"""
    __slots__ = ("in_shape",)

    def backward(self, g):
        (indices,) = self.saved_tensors
        n, c = indices._shape[:2]
        return (g.reshape(n, c, -1).gather(2, indices.reshape(n, c, -1)).reshape(self.in_shape),)


class MaxUnpool2DBackward0(_MaxUnpoolBackward):
    """2-d max unpooling"""
    __slots__ = ()


class MaxUnpool3DBackward0(_MaxUnpoolBackward):
    """3-d max unpooling"""
    __slots__ = ()


def _unpool_size(input, kernel, stride, padding, output_size, nd):
    """PyTorch's ``_unpool_output_size``: the size the pool came from, or ``output_size``
    when it is one the pool could have come from."""
    default = [(input._shape[-nd + d] - 1) * stride[d] + kernel[d] - 2 * padding[d] for d in range(nd)]
    if output_size is None:
        size = default
    else:
        size = list(output_size)
        if len(size) == nd + 2:
            size = size[2:]
        if len(size) != nd:
            raise ValueError(f"output_size should be a sequence containing {nd} or {nd + 2} elements, but it has a "
                             f"length of '{len(size)}'")
        if not all(type(v) is int for v in size):
            raise TypeError(f"max_unpool{nd}d(): argument 'output_size' must be a sequence of ints, got "
                            f"{output_size!r}")
        for d in range(nd):
            lo, hi = default[d] - stride[d], default[d] + stride[d]
            if not lo < size[d] < hi:
                raise ValueError(f'invalid output_size "{list(output_size)}" (dim {d} must be between {lo} and {hi})')
    for d in range(nd):
        if size[d] < 0:
            raise ValueError(f"max_unpooling: output_size must contain non-negative spatial dimensions, but got "
                             f"output_size[{d}]={size[d]}")
    return tuple(size)


def _max_unpool(input, indices, kernel_size, stride, padding, output_size, nd, node_cls):
    fname = f"max_unpool{nd}d"
    check_tensor(input, fname, "input")
    check_tensor(indices, fname, "indices")
    kernel = ntuple(kernel_size, nd, "kernel_size", fname)
    stride_ = kernel if stride is None else ntuple(stride, nd, "stride", fname)
    padding_ = ntuple(padding, nd, "padding", fname)
    size = _unpool_size(input, kernel, stride_, padding_, output_size, nd)
    if indices._dtype is not int64:
        raise RuntimeError(f"{fname}(): elements in indices should be type int64 but got: {indices._dtype!r}")
    if indices._shape != input._shape:
        raise RuntimeError(f"{fname}(): Expected shape of indices to be same as that of the input tensor "
                           f"({list(input._shape)}) but got indices tensor with shape: {list(indices._shape)}")
    x, squeeze = as_batched(input, nd, fname)
    idx = indices.unsqueeze(0) if squeeze else indices
    if not all(x._shape[1:]):
        raise RuntimeError(f"{fname}(): expected an input whose dims are non-zero (the batch dim of a batched input "
                           f"may be 0), but got shape {list(input._shape)}")
    n, c = x._shape[:2]
    total = numel(size)
    flat_idx = idx.reshape(n, c, -1)
    with no_grad():
        if flat_idx.numel() and (bool((flat_idx < 0).any()) or bool((flat_idx >= total).any())):
            bad = int(flat_idx.max()) if bool((flat_idx >= total).any()) else int(flat_idx.min())
            raise RuntimeError(f"{fname}(): Found an invalid max index: {bad} (output volumes are of size "
                               f"{' x '.join(map(str, size))})")
        out = zeros((n, c, total), dtype=x._dtype, device=x.device)
        out = out.scatter(2, flat_idx, x.detach().reshape(n, c, -1)).reshape((n, c) + size)
    if squeeze:
        reshape_fresh(out, out._shape[1:])
    if STATE.enabled and input._requires_grad:
        node = node_cls()
        node.in_shape = input._shape
        node.save(idx)
        record(node, (input,), out)
    return out


@declare(public=False)
def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None) -> Tensor:
    """Put each value of a 2-d max pool back at its index (from ``return_indices``), zeros
    elsewhere."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 2, MaxUnpool2DBackward0)


@declare(public=False)
def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None) -> Tensor:
    """Put each value of a 3-d max pool back at its index, zeros elsewhere."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 3, MaxUnpool3DBackward0)


@declare(public=False)
def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None) -> Tensor:
    """Put each value of a 1-d max pool back at its index: ``max_unpool2d`` over a height of one."""
    f = "max_unpool1d"
    check_tensor(input, f, "input")
    check_tensor(indices, f, "indices")
    kernel = ntuple(kernel_size, 1, "kernel_size", f)
    stride = kernel if stride is None else ntuple(stride, 1, "stride", f)
    padding = ntuple(padding, 1, "padding", f)
    size = _unpool_size(input, kernel, stride, padding, output_size, 1)
    return max_unpool2d(input.unsqueeze(-1), indices.unsqueeze(-1), kernel + (1,), stride + (1,), padding + (0,),
                        size + (1,)).squeeze(-1)
