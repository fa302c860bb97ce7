"""Padding: ``pad`` with a constant or by reflecting, replicating or wrapping the edges.

As in PyTorch, constant padding is one op (``ConstantPadNdBackward0``), reflecting
and replicating are ops named by how many dims they pad (``ReflectionPad2DBackward0``,
``ReplicationPad1DBackward0``...; an index lookup per padded dim forward, the matching
index-add backward), and circular padding is built from slice copies into a new tensor
(its history is ``CopySlices``, PyTorch's too)."""

from __future__ import annotations

from ..autograd.grad_mode import STATE
from ..autograd.graph import Node, record
from ..creation import arange, empty
from ..layout import check_size, numel
from ..optable import ops
from ..tensor import Tensor, make
from .checks import check_tensor
from .declare import declare

__all__ = ["pad"]

_MODES = ("constant", "reflect", "replicate", "circular")


class ConstantPadNdBackward0(Node):
    """d pad(a, p) = pad(g, -p): the padded border is cut off again"""
    __slots__ = ("pads",)

    def backward(self, g):
        return (pad(g, [-p for p in self.pads]),)


def _pairs(input, pads):
    """``[(dim, before, after), ...]`` from PyTorch's last-dim-first pad list."""
    if len(pads) % 2:
        raise RuntimeError(f"Padding length must be divisible by 2, got {len(pads)}")
    if len(pads) // 2 > input.dim():
        raise RuntimeError(f"Padding length should be less than or equal to two times the input dimension but got "
                           f"padding length {len(pads)} and input of dimension {input.dim()}")
    return [(input.dim() - 1 - i, pads[2 * i], pads[2 * i + 1]) for i in range(len(pads) // 2)]


def _fill_value(dtype, value):
    """``value`` for a border of ``dtype``: RuntimeError where it does not fit (a float
    beyond the dtype's largest finite value, an integer past its range, a negative for an
    unsigned type)."""
    if dtype.kind == "u" and value < 0:
        raise RuntimeError(f"value cannot be converted to type {dtype.name} without overflow")
    return dtype.checked_scalar(value)


def _constant_pad(input: Tensor, pairs, value) -> Tensor:
    shape = list(input._shape)
    for d, lo, hi in pairs:
        shape[d] += lo + hi
        if shape[d] < 0:
            raise RuntimeError(f"The input size {input._shape[d]}, plus negative padding {lo} and {hi} resulted in a "
                               f"negative output size, which is invalid. Check dimension {d} of your input.")
        if input._shape[d] + min(lo, 0) + min(hi, 0) < 0:   # cropping comes before padding
            raise RuntimeError(f"padding ({lo}, {hi}) of dim {d} crops more than its {input._shape[d]} elements: "
                               f"the negative sizes may remove at most the whole dim")
    shape = tuple(shape)
    check_size(shape, input._dtype.itemsize)
    backend = input._backend
    out = make(backend, backend.empty(shape, input._dtype), shape, input._dtype)
    backend.fill(out._a, _fill_value(input._dtype, value))
    # the part of the input that survives (negative padding crops) and where it goes
    src_shape, src_off, dst_off = list(input._shape), input._offset, 0
    for d, lo, hi in pairs:
        keep = input._shape[d] - max(0, -lo) - max(0, -hi)
        src_shape[d] = keep
        src_off += max(0, -lo) * input._strides[d]
        dst_off += max(0, lo) * out._strides[d]
    src_shape = tuple(src_shape)
    if numel(src_shape):
        src = backend.view(input._storage.base, src_shape, input._strides, src_off)
        backend.copy(src, backend.view(out._a, src_shape, out._strides, dst_off))
    return out


def _source_positions(lo: int, hi: int, n: int, mode: str, device) -> Tensor:
    """For each position of a padded dim, the input position it copies (computed on the
    device: a padded dim may be long)."""
    i = arange(-lo, n + hi, device=device)
    if mode == "replicate":
        return i.clamp(0, n - 1)
    period = 2 * (n - 1)   # reflect
    if not period:
        return i * 0
    i = i.abs().remainder(period)
    return (period - i).where(i >= n, i)


def _crop(input: Tensor, pairs):
    """Negative sizes of circular padding crop first (a view); the remaining positive sizes
    then wrap around what is left, as PyTorch does. Returns the view and those sizes."""
    out_pairs = []
    for d, lo, hi in pairs:
        n = input._shape[d]
        keep = n - max(0, -lo) - max(0, -hi)
        if n + lo + hi == 0:   # the sizes cancel: an empty dim, whatever was cropped
            lo = hi = keep = 0
        elif keep < 0 or n + lo + hi < 0:
            raise RuntimeError(f"Negative padding value is resulting in an empty dimension: padding ({lo}, {hi}) at "
                               f"dimension {d} of size {n}")
        if lo < 0 or hi < 0 or not keep:
            input = input.narrow(d, max(0, -lo), keep)
        out_pairs.append((d, max(0, lo), max(0, hi)))
    return input, out_pairs


def _check_edge_sizes(input: Tensor, pairs, mode: str) -> list:
    """The padded shape, once every size is one the mode can fill. Reflect and replicate
    take an input whose dims are all non-zero but a batch dim (the first of an input with
    two more dims than padded); a negative size crops, as long as something is left."""
    shape = list(input._shape)
    if mode != "circular":
        batched = input.dim() == len(pairs) + 2
        if not all(input._shape[1 if batched else 0:]):
            raise RuntimeError(f"{mode} padding: expected an input whose dims are non-zero (a batch dim may be 0), "
                               f"but got shape {list(input._shape)}")
    for d, lo, hi in pairs:
        n = input._shape[d]
        if mode == "reflect" and (lo >= n or hi >= n):
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input dimension, "
                               f"but got: padding ({lo}, {hi}) at dimension {d} of input {list(input._shape)}")
        if mode == "circular" and (lo > n or hi > n):
            raise RuntimeError(f"Padding value causes wrapping around more than once (padding ({lo}, {hi}) at "
                               f"dimension {d} of size {n})")
        if n == 0 and (lo or hi):
            raise RuntimeError(f"{mode} padding of an empty dimension {d} is not possible")
        shape[d] = n + lo + hi
    if mode != "circular":
        padded = [shape[d] for d, _, _ in pairs]
        if min(padded) < 0 or max(padded) < 1:   # PyTorch lets all but one padded dim end empty
            raise RuntimeError(f"{mode} padding {[(lo, hi) for _, lo, hi in pairs]} of an input of shape "
                               f"{list(input._shape)} leaves padded dims of sizes {padded}: none may be negative, "
                               f"and one must keep an element")
    check_size(shape, input._dtype.itemsize)
    return shape


class _EdgePadBackward(Node):
    """d pad(a) = each padded position's gradient added back at the input position it
    copies (an ``index_add`` per padded dim, the last padded dim first)"""
    __slots__ = ("lookups",)   # [(dim, positions, input size along dim), ...] in forward order

    def backward(self, g):
        for d, positions, n in reversed(self.lookups):
            shape = list(g._shape)
            shape[d] = n
            g = ops.index_add(g.new_zeros(shape), d, positions, g)
        return (g,)


class ReflectionPad1DBackward0(_EdgePadBackward):
    """reflect padding of the last dim"""
    __slots__ = ()


class ReflectionPad2DBackward0(_EdgePadBackward):
    """reflect padding of the last 2 dims"""
    __slots__ = ()


class ReflectionPad3DBackward0(_EdgePadBackward):
    """reflect padding of the last 3 dims"""
    __slots__ = ()


class ReplicationPad1DBackward0(_EdgePadBackward):
    """replicate padding of the last dim"""
    __slots__ = ()


class ReplicationPad2DBackward0(_EdgePadBackward):
    """replicate padding of the last 2 dims"""
    __slots__ = ()


class ReplicationPad3DBackward0(_EdgePadBackward):
    """replicate padding of the last 3 dims"""
    __slots__ = ()


_EDGE_NODES = {"reflect": (ReflectionPad1DBackward0, ReflectionPad2DBackward0, ReflectionPad3DBackward0),
               "replicate": (ReplicationPad1DBackward0, ReplicationPad2DBackward0, ReplicationPad3DBackward0)}


def _edge_pad(input: Tensor, pairs, mode: str) -> Tensor:
    """Reflect or replicate: an ``index_select`` per padded dim, recorded as one node."""
    _check_edge_sizes(input, pairs, mode)
    x = input.detach()
    lookups = []
    for d, lo, hi in pairs:
        n = input._shape[d]
        positions = _source_positions(lo, hi, n, mode, x.device)
        x = x.index_select(d, positions)
        lookups.append((d, positions, n))
    if STATE.enabled and input._requires_grad:
        node = _EDGE_NODES[mode][len(pairs) - 1]()
        node.lookups = lookups
        record(node, (input,), x)
    return x


def _circular_pad(input: Tensor, pairs) -> Tensor:
    """Wrap around: the input is copied into the middle of a new tensor, then, one dim at a
    time (the last first), each border copies the slab at the opposite end. Corners are
    filled by the later dims' copies, which carry the earlier dims' borders along."""
    shape = _check_edge_sizes(input, pairs, "circular")
    out = empty(shape, dtype=input._dtype, device=input.device)
    middle = out
    for d, lo, _ in pairs:
        middle = middle.narrow(d, lo, input._shape[d])
    middle.copy_(input)
    for d, lo, hi in pairs:
        n = shape[d]
        if lo:
            out.narrow(d, 0, lo).copy_(out.narrow(d, n - hi - lo, lo))
        if hi:
            out.narrow(d, n - hi, hi).copy_(out.narrow(d, lo, hi))
    return out


def _check_edge_dims(input: Tensor, pads) -> None:
    """PyTorch pads 1, 2 or 3 dims by reflecting, replicating or wrapping, of an input with
    one more dim (unbatched) or two more (batched)."""
    k = len(pads) // 2
    if not (1 <= k <= 3 and input.dim() in (k + 1, k + 2)):
        raise NotImplementedError(
            f"Padding size {len(pads)} is not supported for {input.dim()}D input tensor.\n"
            f"Supported combinations for non-constant padding:\n"
            f"  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            f"  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            f"  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")


def _number(value):
    """A pad ``value`` other than a float: a bool, an int or a one-element tensor, as a
    Python number; PyTorch's TypeError for anything else (a string, a list, a complex)."""
    if isinstance(value, Tensor) and value.numel() == 1 and not value._dtype.is_complex:
        return value.item()
    if isinstance(value, (bool, int, float)):
        return value
    raise TypeError(f"pad(): argument 'value' must be float, not {type(value).__name__}")


@declare(public=False)
def pad(input, pad, mode: str = "constant", value=None) -> Tensor:
    """Pad the last ``len(pad) // 2`` dims: ``pad = (left, right, top, bottom, ...)``
    starting from the last dim. ``mode`` is 'constant' (with ``value``, default 0;
    negative sizes crop), 'reflect', 'replicate' or 'circular' (negative sizes crop, the
    positive ones then wrap around the cropped dim, at most once); the last three pad 1
    to 3 dims of an input with one or two dims more."""
    check_tensor(input, "pad", "input")
    if not isinstance(pad, (tuple, list)) or not all(isinstance(p, int) and not isinstance(p, bool) for p in pad):
        raise TypeError(f"pad(): argument 'pad' must be a tuple of ints, got {pad!r}")
    pads = list(pad)
    pairs = _pairs(input, pads)
    if type(mode) is not str:
        raise TypeError(f"pad(): argument 'mode' must be str, not {type(mode).__name__}")
    if mode not in _MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and type(value) is not float:
        value = _number(value)
    if mode != "constant":
        if value not in (None, 0):
            raise RuntimeError(f"Padding mode \"{mode}\" doesn't take in value argument")
        _check_edge_dims(input, pads)
        if mode == "circular":
            if any(p < 0 for p in pads):
                input, pairs = _crop(input, pairs)
            return _circular_pad(input, pairs)
        return _edge_pad(input, pairs, mode)
    r = _constant_pad(input, pairs, 0 if value is None else value)
    if STATE.enabled and input._requires_grad:
        node = ConstantPadNdBackward0()
        node.pads = pads
        record(node, (input,), r)
    return r
