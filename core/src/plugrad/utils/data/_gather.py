"""Batches gathered in one go: the rows of a tensor at a batch's indices.

``default_collate([t[i] for i in indices])`` indexes ``t`` once per sample and stacks
the rows: for a batch of 64 that is 64 views and a 64-way ``stack``, most of an epoch
of a small model. :func:`gather_rows` builds the same tensor (same values, dtype, shape,
device, a fresh contiguous array) with one ``take`` kernel, so datasets made of
tensors (``TensorDataset``, a ``Subset`` of one) can hand the ``DataLoader`` a whole
collated batch. It only serves cases where the result is the same as the per-sample
path's: Python int indices in range, tensors that need no autograd graph.
"""

from __future__ import annotations

from array import array
from functools import lru_cache

from ...creation import arange, full
from ...dtypes import int64
from ...tensor import Tensor, make

__all__ = ["int_indices", "gatherable", "gather_rows"]

_INTS = {int}


def int_indices(indices, n: int):
    """``indices`` as a list of ints in ``0..n-1`` (negative ones counted from the end),
    or None when one is not a Python int or is out of range, or there are none."""
    if not indices or set(map(type, indices)) != _INTS:
        return None
    low, high = min(indices), max(indices)
    if low < -n or high >= n:
        return None
    return list(indices) if low >= 0 else [i + n if i < 0 else i for i in indices]


def gatherable(t) -> bool:
    """Whether ``t``'s rows can be gathered with the result ``stack`` of its rows gives:
    a plain tensor with at least one dim that needs no autograd graph, on a device with
    int64 (the gather's positions are int64; indexing one sample needs none)."""
    return type(t) is Tensor and not t._requires_grad and t._shape != () and int64 in t._backend.dtypes


@lru_cache(maxsize=64)
def _row_positions(backend, shape: tuple, strides: tuple, offset: int) -> Tensor:
    """The storage positions of row 0's elements, shaped ``(1, *shape)``, for rows of
    ``shape`` laid out with ``strides`` from ``offset``; made once per layout."""
    pos = full((1,) + (1,) * len(shape), offset, dtype=int64, device=backend.device)
    for d, (size, stride) in enumerate(zip(shape, strides)):
        view = [1] * (len(shape) + 1)
        view[d + 1] = size
        pos = pos + arange(size, device=backend.device).reshape(view) * stride
    return pos


def gather_rows(t: Tensor, rows: list) -> Tensor:
    """``stack([t[i] for i in rows])`` with one kernel: ``rows`` are ints in range (see
    :func:`int_indices`) and ``t`` is :func:`gatherable`."""
    backend, rest = t._backend, t._shape[1:]
    n = len(rows)
    stride = t._strides[0]
    starts = array("q", [i * stride for i in rows]).tobytes()
    starts_shape = (n,) + (1,) * len(rest)
    positions = make(backend, backend.from_bytes(starts, starts_shape, int64), starts_shape, int64) + \
        _row_positions(backend, rest, t._strides[1:], t._offset)
    shape = (n,) + rest
    out = backend.empty(shape, t._dtype)
    if positions.numel():
        backend.take(t._storage.base, positions._a, out)
    return make(backend, out, shape, t._dtype)
