"""Padding: ``pad`` with a constant (an op of its own, ``ConstantPadNdBackward0``) or by
reflecting, replicating or wrapping the edges (an index lookup per padded dim)."""

from __future__ import annotations

from ..autograd.grad_mode import STATE
from ..autograd.graph import Node, record
from ..layout import check_size, numel
from ..tensor import Tensor, make

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


def _constant_pad(input: Tensor, pairs, value) -> Tensor:
    shape = list(input._shape)
    for d, lo, hi in pairs:
        shape[d] += lo + hi
        if shape[d] < 0:
            raise RuntimeError(f"The input size {input._shape[d]}, plus negative padding {lo} and {hi} resulted in a "
                               f"negative output size, which is invalid. Check dimension {d} of your input.")
    shape = tuple(shape)
    check_size(shape, input._dtype.itemsize)
    backend = input._backend
    out = make(backend, backend.empty(shape, input._dtype), shape, input._dtype)
    backend.fill(out._a, input._dtype._py(value))
    # the part of the input that survives (negative padding crops) and where it goes
    src_shape, src_off, dst_off = list(input._shape), input._offset, 0
    for d, lo, hi in pairs:
        keep = input._shape[d] - max(0, -lo) - max(0, -hi)
        src_shape[d] = max(0, keep)
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
    from ..creation import arange
    i = arange(-lo, n + hi, device=device)
    if mode == "replicate":
        return i.clamp(0, n - 1)
    if mode == "circular":
        return i.remainder(n)
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


def _index_pad(input: Tensor, pairs, mode: str) -> Tensor:
    shape = list(input._shape)
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
    check_size(shape, input._dtype.itemsize)
    x = input
    for d, lo, hi in pairs:
        x = x.index_select(d, _source_positions(lo, hi, input._shape[d], mode, x.device))
    return x


def pad(input, pad, mode: str = "constant", value=None) -> Tensor:
    """Pad the last ``len(pad) // 2`` dims: ``pad = (left, right, top, bottom, ...)``
    starting from the last dim. ``mode`` is 'constant' (with ``value``, default 0;
    negative sizes crop), 'reflect', 'replicate' or 'circular' (negative sizes crop, the
    positive ones then wrap around the cropped dim, at most once)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"pad(): argument 'input' must be Tensor, not {type(input).__name__}")
    if not isinstance(pad, (tuple, list)) or not all(isinstance(p, int) and not isinstance(p, bool) for p in pad):
        raise TypeError(f"pad(): argument 'pad' must be a tuple of ints, got {pad!r}")
    pads = list(pad)
    pairs = _pairs(input, pads)
    if mode not in _MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if mode != "constant":
        if value not in (None, 0):
            raise RuntimeError(f"Padding mode \"{mode}\" doesn't take in value argument")
        if any(p < 0 for p in pads):
            if mode != "circular":
                raise RuntimeError(f"{mode} padding does not support negative padding sizes, got {pads}")
            input, pairs = _crop(input, pairs)
        return _index_pad(input, pairs, mode)
    r = _constant_pad(input, pairs, 0 if value is None else value)
    if STATE.enabled and input._requires_grad:
        node = ConstantPadNdBackward0()
        node.pads = pads
        record(node, (input,), r)
    return r
