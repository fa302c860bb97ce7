"""Convolution: sliding windows (im2col / col2im) and the convolutions built on them.

A convolution is one matrix product once the input's sliding windows are laid out
as columns ("im2col"). The windows are a strided view of the (padded) input, so
building the columns is one strided ``copy``, a primitive every backend has; the
product is the backend's ``matmul``. The adjoint of im2col, "col2im", adds the
columns of each kernel offset back into place: one strided in-place ``add`` per
kernel offset. Both are differentiable ops (``Im2ColBackward0`` /
``Col2ImBackward0``), each the other's gradient, so the convolution's backward,
written with them and ``bmm``, is differentiable again (double backward). The same
code serves 1, 2 and 3 spatial dims.

Window layouts are named by letters: ``n`` batch, ``c`` channel, ``h``/``i``/``j`` the
kernel offset (depth/row/column), ``z``/``y``/``x`` the output position; a 2-d
geometry uses ``i``, ``j``, ``y``, ``x``, a 1-d one ``j`` and ``x``. ``"cijnyx"`` puts
the columns of a 2-d convolution in GEMM order: ``(C*kh*kw, N*oh*ow)``.
"""

from __future__ import annotations

import itertools

from ..autograd.grad_mode import STATE, no_grad
from ..autograd.graph import Node, record
from ..layout import contiguous_strides, is_contiguous, numel
from ..optable import ops
from ..tensor import Tensor, make
from .checks import check_floating, check_int, check_same_device, check_tensor
from .declare import declare

__all__ = ["Windows", "pair", "ntuple", "im2col_raw", "col2im_raw", "im2col", "col2im", "unfold", "fold", "conv2d",
           "conv1d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"]

_KERNEL_LETTERS, _OUT_LETTERS = "hij", "zyx"


def kernel_letters(nd: int) -> str:
    """The letters of the kernel offsets of an ``nd``-d geometry (``"ij"`` for 2-d)."""
    return _KERNEL_LETTERS[3 - nd:]


def out_letters(nd: int) -> str:
    """The letters of the output positions of an ``nd``-d geometry (``"yx"`` for 2-d)."""
    return _OUT_LETTERS[3 - nd:]


def gemm_order(nd: int) -> str:
    """The GEMM layout of a convolution's columns: (C, kernel..., N, out...)."""
    return "c" + kernel_letters(nd) + "n" + out_letters(nd)


#: the GEMM layout of a 2-d convolution's columns: (C, kh, kw, N, oh, ow)
GEMM_ORDER = gemm_order(2)


def ntuple(value, n: int, name: str, fname: str) -> tuple:
    """An int or a sequence of ``n`` ints (or of one) as ``n`` ints (``kernel_size=3`` means
    ``(3, 3)`` for a 2-d op)."""
    if isinstance(value, Tensor):
        value = value.tolist()
    out = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    for v in out:   # the types first, as PyTorch's argument parser checks them
        if isinstance(v, bool) or not isinstance(v, int):
            raise TypeError(f"{fname}(): {name} must be an int or a tuple of ints, got {value!r}")
    if len(out) == 1:
        return out * n
    if len(out) != n:
        raise RuntimeError(f"{fname}(): {name} must be an int or a tuple of {n} ints, got {out}")
    return out


def pair(value, name: str, fname: str) -> tuple:
    """An int or a pair of ints as a pair (``kernel_size=3`` means ``(3, 3)``)."""
    return ntuple(value, 2, name, fname)


def _out_size(n, k, s, p, d, ceil_mode):
    span = d * (k - 1) + 1
    room = n + 2 * p - span
    if not ceil_mode:
        return room // s + 1 if room >= 0 else 0
    # rounding up, a window wider than the padded input still counts when it starts in it
    out = -(-room // s) + 1
    if (out - 1) * s >= n + p:  # the last window must start inside the input or its left padding
        out -= 1
    return max(out, 0)


#: the largest padded extent a window geometry accepts (its strides stay within int64)
_MAX_EXTENT = 1 << 62


class Windows:
    """Where the sliding windows of an op over 1, 2 or 3 spatial dims lie on an input
    of spatial size ``in_size``.

    ``padding`` pads both sides; ``extra`` pads the end of each dim once more (the
    windows that ``ceil_mode`` or an even 'same' kernel add)."""

    __slots__ = ("in_size", "kernel", "stride", "padding", "dilation", "extra", "out_size")

    def __init__(self, in_size, kernel, stride, padding, dilation, *, ceil_mode=False, extra=None, fname="conv2d"):
        for name, v, lo in (("kernel_size", kernel, 1), ("stride", stride, 1), ("dilation", dilation, 1),
                            ("padding", padding, 0)):
            if min(v) < lo:
                raise RuntimeError(f"{fname}(): {name} should be {'non-negative' if lo == 0 else 'positive'}, "
                                   f"but got {name}={tuple(v)}")
        self.in_size, self.kernel, self.stride = tuple(in_size), tuple(kernel), tuple(stride)
        self.padding, self.dilation = tuple(padding), tuple(dilation)
        if extra is not None and any(extra):  # 'same' padding: the extra padding at the end is given
            out = tuple(_out_size(n + e, k, s, p, d, False) for n, k, s, p, d, e in
                        zip(in_size, kernel, stride, padding, dilation, extra))
        else:
            out = tuple(_out_size(n, k, s, p, d, ceil_mode)
                        for n, k, s, p, d in zip(in_size, kernel, stride, padding, dilation))
            # windows that ceil_mode lets hang over the end of a dim read extra padding
            extra = tuple(max(0, (o - 1) * s + d * (k - 1) + 1 - (n + 2 * p)) if o > 0 else 0
                          for n, k, s, p, d, o in zip(in_size, kernel, stride, padding, dilation, out))
        self.extra = tuple(extra)
        self.out_size = out
        for n, p, e in zip(in_size, padding, extra):
            if n + 2 * p + e > _MAX_EXTENT:
                raise RuntimeError(f"{fname}(): padding={tuple(padding)} makes the padded input ({tuple(in_size)} "
                                   f"before padding) too large: a dim may hold at most {_MAX_EXTENT} elements")
        # a dim with one window never steps, a kernel of one never spreads: that stride or
        # dilation is irrelevant (and may be huge)
        self.stride = tuple(s if o > 1 else 1 for s, o in zip(stride, out))
        self.dilation = tuple(d if k > 1 else 1 for d, k in zip(dilation, kernel))
        if min(out) <= 0:
            span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
            padded = tuple(n + 2 * p for n, p in zip(in_size, padding))
            raise RuntimeError(f"{fname}(): calculated padded input size per channel: "
                               f"({' x '.join(map(str, padded))}). Kernel size: ({' x '.join(map(str, span))}). "
                               f"Kernel size can't be greater than actual input size")

    @property
    def nd(self) -> int:
        return len(self.kernel)

    def over_padded(self) -> "Windows":
        """The same windows read from the input once ``padding`` is part of it (a copy
        with no padding; the ceil_mode overhang stays)."""
        g = object.__new__(Windows)
        for name in Windows.__slots__:
            setattr(g, name, getattr(self, name))
        g.in_size = tuple(n + 2 * p for n, p in zip(self.in_size, self.padding))
        g.padding = (0,) * self.nd
        return g

    @property
    def padded_size(self) -> tuple:
        return tuple(n + 2 * p + e for n, p, e in zip(self.in_size, self.padding, self.extra))

    def window_shape(self, batch: int, channels: int, order: str) -> tuple:
        sizes = {"n": batch, "c": channels}
        sizes.update(zip(kernel_letters(self.nd), self.kernel))
        sizes.update(zip(out_letters(self.nd), self.out_size))
        return tuple(sizes[k] for k in order)

    def window_strides(self, strides: tuple, order: str) -> tuple:
        """Strides that read the windows out of an (N, C, *padded_size) layout with ``strides``."""
        sn, sc, *spatial = strides
        steps = {"n": sn, "c": sc}
        steps.update(zip(kernel_letters(self.nd), (d * s for d, s in zip(self.dilation, spatial))))
        steps.update(zip(out_letters(self.nd), (t * s for t, s in zip(self.stride, spatial))))
        return tuple(steps[k] for k in order)


# ---- the kernels, without autograd --------------------------------------------------

def _padded(x: Tensor, geom: Windows, value) -> Tensor:
    """``x`` (N, C, *spatial) inside a border of ``value`` (``x`` itself when there is none)."""
    if not (any(geom.padding) or any(geom.extra)):
        return x
    backend = x._backend
    shape = x._shape[:2] + geom.padded_size
    out = make(backend, backend.empty(shape, x._dtype), shape, x._dtype)
    backend.fill(out._a, x._dtype._py(value))
    st = out._strides
    if numel(x._shape):
        offset = sum(p * s for p, s in zip(geom.padding, st[2:]))
        backend.copy(x._a, backend.view(out._a, x._shape, st, offset))
    return out


def im2col_raw(x: Tensor, geom: Windows, order: str, final_shape=None, pad_value=0) -> Tensor:
    """The sliding windows of ``x`` (N, C, *spatial) as a new contiguous tensor whose dims
    follow ``order`` (then reshaped to ``final_shape``), untracked."""
    xp = _padded(x, geom, pad_value)
    backend = x._backend
    shape = geom.window_shape(x._shape[0], x._shape[1], order)
    final_shape = shape if final_shape is None else tuple(final_shape)
    arr = backend.empty(final_shape, x._dtype)
    if numel(shape):
        src = backend.view(xp._storage.base, shape, geom.window_strides(xp._strides, order), xp._offset)
        dst = arr if final_shape == shape else backend.view(arr, shape, contiguous_strides(shape), 0)
        backend.copy(src, dst)
    return make(backend, arr, final_shape, x._dtype)


def col2im_raw(cols: Tensor, geom: Windows, order: str, out_shape: tuple) -> Tensor:
    """The adjoint of ``im2col_raw``: every window element of ``cols`` (dims in
    ``order``, any strides) added back at its input position; untracked."""
    backend = cols._backend
    n, c = out_shape[0], out_shape[1]
    nd = geom.nd
    padded_shape = (n, c) + geom.padded_size
    acc = make(backend, backend.empty(padded_shape, cols._dtype), padded_shape, cols._dtype)
    backend.fill(acc._a, cols._dtype._py(0))
    sn, sc, *spatial = acc._strides
    region_shape = (n, c) + geom.out_size
    region_strides = (sn, sc) + tuple(t * s for t, s in zip(geom.stride, spatial))
    cs = dict(zip(order, cols._strides))
    src_strides = (cs["n"], cs["c"]) + tuple(cs[k] for k in out_letters(nd))
    kernel_strides = [cs[k] for k in kernel_letters(nd)]
    if numel(region_shape):
        base = cols._storage.base
        for offsets in itertools.product(*(range(k) for k in geom.kernel)):
            dst_off = sum(o * d * s for o, d, s in zip(offsets, geom.dilation, spatial))
            src_off = cols._offset + sum(o * s for o, s in zip(offsets, kernel_strides))
            region = backend.view(acc._a, region_shape, region_strides, dst_off)
            src = backend.view(base, region_shape, src_strides, src_off)
            backend.binary("add", region, src, region)
    if geom.padded_size == tuple(out_shape[2:]):
        return acc
    out = make(backend, backend.empty(tuple(out_shape), cols._dtype), tuple(out_shape), cols._dtype)
    if numel(out_shape):
        offset = sum(p * s for p, s in zip(geom.padding, spatial))
        backend.copy(backend.view(acc._a, tuple(out_shape), acc._strides, offset), out._a)
    return out


# ---- differentiable im2col / col2im ----------------------------------------------------

class Im2ColBackward0(Node):
    """d im2col(a) = col2im(g): each window element's gradient goes back to where it was read"""
    __slots__ = ("geom", "order", "in_shape", "window_shape")

    def backward(self, g):
        return (col2im(g, self.geom, self.order, self.in_shape, self.window_shape),)


class Col2ImBackward0(Node):
    """d col2im(c) = im2col(g): each column element receives the gradient of where it was added"""
    __slots__ = ("geom", "order", "cols_shape")

    def backward(self, g):
        return (im2col(g, self.geom, self.order, self.cols_shape),)


def im2col(x: Tensor, geom: Windows, order: str, final_shape=None, source=None) -> Tensor:
    """Differentiable ``im2col_raw`` (zero padding). ``x`` is 4-d; ``source``, when given,
    is the tensor the graph records instead (an unbatched (C, H, W) view of it)."""
    source = x if source is None else source
    r = im2col_raw(x.detach(), geom, order, final_shape)
    if STATE.enabled and source._requires_grad:
        node = Im2ColBackward0()
        node.geom, node.order, node.in_shape = geom, order, x._shape
        node.window_shape = geom.window_shape(x._shape[0], x._shape[1], order)
        record(node, (source,), r)
    return r


def col2im(cols: Tensor, geom: Windows, order: str, out_shape: tuple, window_shape=None) -> Tensor:
    """Differentiable ``col2im_raw``; ``cols`` may have any shape holding the windows
    (``window_shape`` in ``order``) in row-major order, such as unfold's (N, C*kh*kw, L)."""
    window_shape = window_shape or geom.window_shape(out_shape[0], out_shape[1], order)
    w = cols.detach()
    if w._shape != window_shape:
        w = w.reshape(window_shape)
    r = col2im_raw(w, geom, order, tuple(out_shape))
    if STATE.enabled and cols._requires_grad:
        node = Col2ImBackward0()
        node.geom, node.order, node.cols_shape = geom, order, cols._shape
        record(node, (cols,), r)
    return r


def _check_spatial(x: Tensor, fname: str) -> None:
    """A convolution's input may have an empty batch or channel dim, not an empty spatial one."""
    if not all(x._shape[2:]):
        raise RuntimeError(f"{fname}(): only an empty batch or channel dim is supported, but got an input of shape "
                           f"{list(x._shape)}")


_SPATIAL_NAMES = {1: "L", 2: "H, W", 3: "D, H, W"}


def as_batched(input: Tensor, nd: int, fname: str, what: str = "input"):
    """``input`` with a batch dim (and whether it had none): an op over ``nd`` spatial dims
    takes (C, *spatial) or (N, C, *spatial)."""
    check_tensor(input, fname, what)
    if input.dim() == nd + 2:
        return input, False
    if input.dim() == nd + 1:
        return input.unsqueeze(0), True
    names = _SPATIAL_NAMES[nd]
    raise RuntimeError(f"{fname}(): expected a {nd + 1}-d (C, {names}) or {nd + 2}-d (N, C, {names}) {what}, but "
                       f"got a {input.dim()}-d {what} of shape {list(input._shape)}")



@declare(public=False)
def unfold(input, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """The sliding blocks of a 4-d (N, C, H, W) input as columns: (N, C*kh*kw, L)."""
    check_tensor(input, "unfold", "input")
    if input.dim() not in (3, 4):   # PyTorch reads dim 1 first: IndexError when there is none
        raise (IndexError if input.dim() < 2 else RuntimeError)(
            f"unfold(): expected a 3-d or 4-d input tensor, got shape {list(input._shape)}")
    x, squeeze = as_batched(input, 2, "unfold")
    if not all(x._shape[1:]):
        raise RuntimeError(f"unfold(): expected an input whose dims are non-zero (the batch dim of a 4-d input may be "
                           f"0), but got shape {list(input._shape)}")
    geom = Windows(x._shape[2:], pair(kernel_size, "kernel_size", "unfold"), pair(stride, "stride", "unfold"),
                    pair(padding, "padding", "unfold"), pair(dilation, "dilation", "unfold"), fname="unfold")
    n, c = x._shape[:2]
    kh, kw = geom.kernel
    length = geom.out_size[0] * geom.out_size[1]
    return im2col(x, geom, "ncijyx", (c * kh * kw, length) if squeeze else (n, c * kh * kw, length), input)


@declare(public=False)
def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """The adjoint of ``unfold``: columns (N, C*kh*kw, L) summed back into (N, C, H, W)."""
    check_tensor(input, "fold", "input")
    squeeze = input.dim() == 2
    cols = input.unsqueeze(0) if squeeze else input
    if cols.dim() != 3 or not (cols._shape[1] and cols._shape[2]):
        raise RuntimeError(f"fold(): expected a 2-d or 3-d (batch mode) input with possibly 0 batch size and "
                           f"non-zero other dims, got shape {list(input._shape)}")
    hw = pair(output_size, "output_size", "fold")
    geom = Windows(hw, pair(kernel_size, "kernel_size", "fold"), pair(stride, "stride", "fold"),
                    pair(padding, "padding", "fold"), pair(dilation, "dilation", "fold"), fname="fold")
    kh, kw = geom.kernel
    n, ckk, length = cols._shape
    if ckk % (kh * kw):
        raise RuntimeError(f"fold(): expected size of input's dimension 1 to be divisible by the product of "
                           f"kernel_size, but got input.size(1)={ckk} and kernel_size={geom.kernel}")
    if length != geom.out_size[0] * geom.out_size[1]:
        raise RuntimeError(f"fold(): expected input's dimension 2 to match the calculated number of sliding blocks "
                           f"{geom.out_size[0]} * {geom.out_size[1]} = {geom.out_size[0] * geom.out_size[1]}, but got "
                           f"input.size(2)={length}")
    r = col2im(cols, geom, "ncijyx", (n, ckk // (kh * kw)) + hw)
    return r.squeeze(0) if squeeze else r


# ---- convolution -------------------------------------------------------------------------

class ConvolutionBackward0(Node):
    """d conv(x, w, b) = (col2im(w^T g), g im2col(x)^T, sum of g over N and the spatial dims),
    per group; of a transposed convolution, (w im2col(g), x im2col(g)^T, the same sum)"""
    __slots__ = ("geom", "groups", "x4_shape", "w4_shape", "out4_shape", "transposed")

    def backward(self, g):
        x, w = self.saved_tensors
        x4, w4 = x.reshape(self.x4_shape), w.reshape(self.w4_shape)  # conv1d works on a height of one
        g = g.reshape(self.out4_shape)
        if self.transposed:
            return self._transposed(x, w, x4, g)
        n = x4._shape[0]
        o, cg = w4._shape[:2]
        k = numel(w4._shape[2:])
        nd = self.geom.nd
        order = gemm_order(nd)
        groups = self.groups
        og = o // groups
        length = n * numel(self.geom.out_size)
        # (N, O, *out) -> (G, O/G, N*L): the GEMM layout of the forward product
        gm = g.transpose(0, 1).reshape(groups, og, length)
        need = [f is not None for f, _ in self.next_functions]
        gx = gw = gb = None
        if need[0]:
            cols = ops.bmm(w4.reshape(groups, og, cg * k).transpose(1, 2), gm)
            gx = col2im(cols, self.geom, order, x4._shape,
                        self.geom.window_shape(n, cg * groups, order)).reshape(x._shape)
        if need[1]:
            cols = im2col(x4, self.geom, order, (groups, cg * k, length))
            gw = ops.bmm(gm, cols.transpose(1, 2)).reshape(w._shape)
        if len(need) > 2 and need[2]:
            gb = g.sum((0,) + tuple(range(2, 2 + nd)))
        return (gx, gw, gb) if len(need) > 2 else (gx, gw)

    def _transposed(self, x, w, x4, g):
        """The forward was col2im(w^T x) over the geometry whose input is the output: the
        gradient's windows ``im2col(g)`` meet ``w`` (for x) and ``x`` (for w)."""
        n, cin = x4._shape[:2]
        in_size = x4._shape[2:]
        nd = self.geom.nd
        groups = self.groups
        cin_g, k_all = cin // groups, numel(w._shape[1:])
        length = n * numel(in_size)
        cols = im2col(g, self.geom, gemm_order(nd), (groups, k_all, length))
        need = [f is not None for f, _ in self.next_functions]
        gx = gw = gb = None
        if need[0]:
            gm = ops.bmm(w.reshape(groups, cin_g, k_all), cols)     # (G, C_in/G, N*L)
            gx = gm.reshape((cin, n) + in_size).transpose(0, 1).reshape(x._shape)
        if need[1]:
            xm = x4.transpose(0, 1).reshape(groups, cin_g, length)
            gw = ops.bmm(xm, cols.transpose(1, 2)).reshape(w._shape)
        if len(need) > 2 and need[2]:
            gb = g.sum((0,) + tuple(range(2, 2 + nd)))
        return (gx, gw, gb) if len(need) > 2 else (gx, gw)


def reshape_fresh(t: Tensor, shape: tuple) -> Tensor:
    """Give a just-computed contiguous result another shape in place (no view, no graph)."""
    shape = tuple(shape)
    if shape != t._shape:
        t._shape, t._strides = shape, contiguous_strides(shape)
        t._a = t._backend.view(t._storage.base, shape, t._strides, 0)
    return t


def _same_padding(kernel, dilation, fname, stride):
    if any(s != 1 for s in stride):
        raise RuntimeError(f"{fname}(): padding='same' is not supported for strided convolutions")
    pads, extra = [], []
    for k, d in zip(kernel, dilation):
        total = d * (k - 1)
        pads.append(total // 2)
        extra.append(total - 2 * (total // 2))
    return tuple(pads), tuple(extra)


@declare(public=False)
def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """2-d cross-correlation of ``input`` (N, C, H, W) or (C, H, W) with ``weight``
    (O, C/groups, kh, kw), plus ``bias`` (O,)."""
    return _conv_nd(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


@declare(public=False)
def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """3-d cross-correlation of ``input`` (N, C, D, H, W) or (C, D, H, W) with ``weight``
    (O, C/groups, kd, kh, kw), plus ``bias`` (O,)."""
    return _conv_nd(input, weight, bias, stride, padding, dilation, groups, 3, "conv3d")


def _conv_nd(input, weight, bias, stride, padding, dilation, groups, nd, fname) -> Tensor:
    x, squeeze = as_batched(input, nd, fname)
    geom = _conv_geometry(x, weight, bias, stride, padding, dilation, groups, fname, nd)
    out = _convolution(x, weight, bias, x, weight, geom, groups)
    return out.squeeze(0) if squeeze else out


def _conv_geometry(x, weight, bias, stride, padding, dilation, groups, fname, nd=2) -> Windows:
    """Check the operands of a convolution over ``nd`` spatial dims (``x`` batched) and
    return its window geometry."""
    check_tensor(weight, fname, "weight")
    if weight.dim() != nd + 2:
        kernel = ", ".join("k" + c for c in _SPATIAL_NAMES[nd].replace(", ", ""))
        raise RuntimeError(f"{fname}(): expected a {nd + 2}-d weight (out_channels, in_channels/groups, {kernel}), "
                           f"got {list(weight._shape)}")
    if not weight._shape[0]:
        raise RuntimeError(f"{fname}(): expected a weight with at least one output channel, got a weight of shape "
                           f"{list(weight._shape)}")
    _check_spatial(x, fname)
    if isinstance(groups, bool) or not isinstance(groups, int):
        raise TypeError(f"{fname}(): argument 'groups' must be int, not {type(groups).__name__}")
    if groups < 1:
        raise RuntimeError(f"{fname}(): non-positive groups is not supported (got groups={groups!r})")
    check_same_device(x, weight, fname)
    if x._dtype is not weight._dtype:
        raise RuntimeError(f"{fname}(): input type ({x._dtype!r}) and weight type ({weight._dtype!r}) should be the "
                           f"same")
    check_floating(x, fname)
    c = x._shape[1]
    o, cg = weight._shape[:2]
    if o % groups:
        raise RuntimeError(f"{fname}(): out_channels ({o}) must be divisible by groups ({groups})")
    if c != cg * groups:
        raise RuntimeError(f"{fname}(): given groups={groups}, weight of size {list(weight._shape)}, expected "
                           f"input{list(x._shape)} to have {cg * groups} channels, but got {c} channels instead")
    if bias is not None:
        check_tensor(bias, fname, "bias")
        if bias._shape != (o,):
            raise RuntimeError(f"{fname}(): expected bias of shape [{o}], got {list(bias._shape)}")
        check_same_device(x, bias, fname)
        if bias._dtype is not x._dtype:
            raise RuntimeError(f"{fname}(): bias type ({bias._dtype!r}) should be the same as the input type "
                               f"({x._dtype!r})")
    kernel = weight._shape[2:]
    stride_ = ntuple(stride, nd, "stride", fname)
    dilation_ = ntuple(dilation, nd, "dilation", fname)
    extra = None
    if isinstance(padding, str):
        if padding == "valid":
            padding_ = (0,) * nd
        elif padding == "same":
            padding_, extra = _same_padding(kernel, dilation_, fname, stride_)
        else:
            raise RuntimeError(f"{fname}(): invalid padding string {padding!r}, expected 'valid' or 'same'")
    else:
        padding_ = ntuple(padding, nd, "padding", fname)
    return Windows(x._shape[2:], kernel, stride_, padding_, dilation_, extra=extra, fname=fname)


def _convolution(input, weight, bias, x4, w4, geom, groups, out_shape=None) -> Tensor:
    """The convolution of the batched ``x4`` and ``w4``, recorded as one
    ``ConvolutionBackward0`` on ``input``/``weight`` (which may be their 3-d originals,
    for conv1d)."""
    out = _conv_forward(x4.detach(), w4.detach(), bias, geom, groups)
    out4_shape = out._shape
    if out_shape is not None:
        reshape_fresh(out, out_shape)
    if STATE.enabled and (input._requires_grad or weight._requires_grad or (bias is not None and bias._requires_grad)):
        node = ConvolutionBackward0()
        node.geom, node.groups, node.transposed = geom, groups, False
        node.x4_shape, node.w4_shape, node.out4_shape = x4._shape, w4._shape, out4_shape
        node.save(input, weight)
        record(node, (input, weight) if bias is None else (input, weight, bias), out)
    return out


def _conv_forward(x: Tensor, weight: Tensor, bias, geom: Windows, groups: int) -> Tensor:
    """The device's fused ``conv2d`` kernel when it has one (2-d); else one GEMM per group,
    (O/G, C/G*prod(kernel)) @ (C/G*prod(kernel), N*L), then (O, N, ...) -> (N, O, ...)."""
    backend = x._backend
    dt = x._dtype
    n = x._shape[0]
    o, cg = weight._shape[:2]
    og, k = o // groups, cg * numel(weight._shape[2:])
    spatial = numel(geom.out_size)
    out_shape = (n, o) + geom.out_size
    out = backend.empty(out_shape, dt)
    padding = tuple((p, p + e) for p, e in zip(geom.padding, geom.extra))
    if geom.nd == 2 and backend.conv2d(x._a, weight._a, None if bias is None else bias._a, out, geom.stride,
                                       padding, geom.dilation, groups):
        return make(backend, out, out_shape, dt)
    length = n * spatial
    cols = im2col_raw(x, geom, gemm_order(geom.nd), (groups, k, length))
    w = weight if is_contiguous(weight._shape, weight._strides) else weight.detach().contiguous()
    w3 = backend.view(w._storage.base, (groups, og, k), (og * k, k, 1), w._offset)
    prod = backend.empty((groups, og, length), dt)
    if groups and og and length:
        backend.matmul(w3, cols._a, prod)
    if numel(out_shape):
        # prod is (O, N, *out) in memory; read it in (N, O, *out) order
        backend.copy(backend.view(prod, out_shape, (spatial, length) + contiguous_strides(geom.out_size), 0), out)
        if bias is not None:
            b = backend.view(bias._storage.base, (o,) + (1,) * geom.nd, (bias._strides[0],) + (0,) * geom.nd,
                             bias._offset)
            backend.binary("add", out, b, out)
    return make(backend, out, out_shape, dt)


@declare(public=False)
def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """1-d cross-correlation of ``input`` (N, C, L) or (C, L) with ``weight`` (O, C/groups, k):
    a 2-d convolution over a height of one."""
    check_tensor(input, "conv1d", "input")
    check_tensor(weight, "conv1d", "weight")
    if input.dim() not in (2, 3):
        raise RuntimeError(f"conv1d(): expected a 2-d (C, L) or 3-d (N, C, L) input, got {list(input._shape)}")
    if weight.dim() != 3:
        raise RuntimeError(f"conv1d(): expected a 3-d weight (out_channels, in_channels/groups, k), got "
                           f"{list(weight._shape)}")
    if input.dim() == 2:
        return conv1d(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(0)
    n, c, length = input._shape
    pad = padding if isinstance(padding, str) else (0, _height_one(padding)[1])
    # the checks and the geometry of the height-1 2-d problem, on cheap views
    x4 = input.detach().unsqueeze(2)
    w4 = weight.detach().unsqueeze(2)
    geom = _conv_geometry(x4, w4, bias, _height_one(stride), pad, _height_one(dilation), groups, "conv1d")
    o = weight._shape[0]
    return _convolution(input, weight, bias, x4, w4, geom, groups, (n, o, geom.out_size[1]))


def _height_one(v) -> tuple:
    """A 1-d size as the 2-d one of a height-1 convolution."""
    return (1, v[0] if isinstance(v, (tuple, list)) else v)


@declare(public=False)
def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> Tensor:
    """The adjoint of ``conv1d``: ``input`` (N, C_in, L) or (C_in, L) with ``weight``
    (C_in, C_out/groups, k) gives (N, C_out, Lo),
    ``Lo = (L - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1``."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 1,
                           "conv_transpose1d")


@declare(public=False)
def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> Tensor:
    """The adjoint of ``conv2d`` (a "deconvolution"): ``input`` (N, C_in, H, W) or
    (C_in, H, W) with ``weight`` (C_in, C_out/groups, kh, kw) gives (N, C_out, Ho, Wo),
    ``Ho = (H - 1) * stride - 2 * padding + dilation * (kh - 1) + output_padding + 1``."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 2,
                           "conv_transpose2d")


@declare(public=False)
def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> Tensor:
    """The adjoint of ``conv3d``: ``input`` (N, C_in, D, H, W) or (C_in, D, H, W) with
    ``weight`` (C_in, C_out/groups, kd, kh, kw) gives (N, C_out, Do, Ho, Wo), each size
    as ``conv_transpose2d``'s."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 3,
                           "conv_transpose3d")


def _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, nd, fname) -> Tensor:
    """Each input pixel scatters ``weight``-scaled copies into the output: one ``bmm``
    makes the columns and ``col2im`` adds them up, both differentiable."""
    x, squeeze = as_batched(input, nd, fname)
    check_tensor(weight, fname, "weight")
    if weight.dim() != nd + 2 or not weight.numel():
        raise RuntimeError(f"{fname}(): expected a non-empty {nd + 2}-d weight (in_channels, out_channels/groups, "
                           f"*kernel_size), got {list(weight._shape)}")
    _check_spatial(x, fname)
    check_same_device(x, weight, fname)
    if x._dtype is not weight._dtype:
        raise RuntimeError(f"{fname}(): input type ({x._dtype!r}) and weight type ({weight._dtype!r}) "
                           f"should be the same")
    n, c = x._shape[:2]
    in_size = x._shape[2:]
    cin, cg_out = weight._shape[:2]
    kernel = weight._shape[2:]
    if bias is not None:
        check_tensor(bias, fname, "bias")
        check_same_device(x, bias, fname)
        if bias._dtype is not x._dtype:
            raise RuntimeError(f"{fname}(): bias type ({bias._dtype!r}) should be the same as the input "
                               f"type ({x._dtype!r})")
    if type(groups) is not int:
        groups = check_int(groups, fname, "groups")
    if groups < 1 or cin % groups:
        raise RuntimeError(f"{fname}(): groups={groups!r} must be a positive divisor of the weight's "
                           f"in_channels ({cin})")
    if c != cin:
        raise RuntimeError(f"{fname}(): given weight of size {list(weight._shape)}, expected input"
                           f"{list(x._shape)} to have {cin} channels, but got {c} channels instead")
    cin_g, cout = cin // groups, cg_out * groups
    if bias is not None and bias._shape != (cout,):
        raise RuntimeError(f"{fname}(): expected a 1-d bias of {cout} elements (one per output channel "
                           f"of weight {list(weight._shape)} with groups={groups}), got shape {list(bias._shape)}")
    stride_, padding_ = ntuple(stride, nd, "stride", fname), ntuple(padding, nd, "padding", fname)
    dilation_ = ntuple(dilation, nd, "dilation", fname)
    out_pad = ntuple(output_padding, nd, "output_padding", fname)
    for op, st, d in zip(out_pad, stride_, dilation_):
        if not 0 <= op < max(st, d):
            raise RuntimeError(f"{fname}(): output padding must be smaller than either stride or "
                               f"dilation, but got output_padding={out_pad}, stride={stride_}, dilation={dilation_}")
    out_size = tuple((n_in - 1) * st - 2 * p + d * (k - 1) + op + 1
                     for n_in, st, p, d, k, op in zip(in_size, stride_, padding_, dilation_, kernel, out_pad))
    if min(out_size) <= 0:
        raise RuntimeError(f"{fname}(): the output size {out_size} is too small (input {list(x._shape)}, "
                           f"kernel {kernel}, stride {stride_}, padding {padding_})")
    # the output is the input of a convolution with this geometry, whose output is x
    geom = Windows(out_size, kernel, stride_, padding_, dilation_, fname=fname)
    geom.out_size = tuple(in_size)   # output_padding adds room that no window of x reaches
    with no_grad():
        wt = weight.reshape(groups, cin_g, cg_out * numel(kernel)).transpose(1, 2)
        xm = x.transpose(0, 1).reshape(groups, cin_g, n * numel(in_size))
        cols = ops.bmm(wt, xm)  # (G, C_out/G*prod(kernel), N*L): the windows in GEMM order
        out = col2im(cols, geom, gemm_order(nd), (n, cout) + out_size, (cout,) + kernel + (n,) + in_size)
        if bias is not None:
            out = out.add_(bias.reshape((1, cout) + (1,) * nd))
    if STATE.enabled and (x._requires_grad or weight._requires_grad or (bias is not None and bias._requires_grad)):
        node = ConvolutionBackward0()
        node.geom, node.groups, node.transposed = geom, groups, True
        node.x4_shape, node.w4_shape, node.out4_shape = x._shape, weight._shape, out._shape
        node.save(x, weight)
        record(node, (x, weight) if bias is None else (x, weight, bias), out)
    return out.squeeze(0) if squeeze else out   # unbatched: PyTorch's result is a SqueezeBackward1 too
