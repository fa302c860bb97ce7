"""Shapes and strides: the arithmetic every view and every broadcast is built on.

Strides and offsets are counted in elements, as in PyTorch. Everything here is
pure and cached where the same shapes recur on every iteration of a training loop.
"""

from __future__ import annotations

from functools import lru_cache

__all__ = [
    "contiguous_strides", "is_contiguous", "broadcast_shapes", "broadcast_strides",
    "normalize_dim", "numel", "view_strides", "reduced_shape", "Size",
]


class Size(tuple):
    """A tensor shape: a tuple of ints that prints as ``torch.Size([2, 3])``."""

    __slots__ = ()

    def __repr__(self):
        return f"torch.Size({list(self)})"

    def numel(self) -> int:
        return numel(self)

    def __getitem__(self, item):
        r = tuple.__getitem__(self, item)
        return Size(r) if isinstance(item, slice) else r

    def __add__(self, other):
        return Size(tuple.__add__(self, tuple(other)))


@lru_cache(maxsize=4096)
def contiguous_strides(shape: tuple) -> tuple:
    """Row-major strides of ``shape`` (size-1 and size-0 dims get stride 1 like PyTorch)."""
    strides = []
    acc = 1
    for n in reversed(shape):
        strides.append(acc)
        acc *= n if n > 1 else 1
    return tuple(reversed(strides))


def numel(shape) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


#: the most bytes one tensor may span: a byte count must fit a signed 64-bit integer (PyTorch's
#: limit too, and NumPy's, whose arrays hold the cpu device's data)
MAX_TENSOR_BYTES = 2 ** 63 - 1


def check_size(shape, itemsize: int) -> None:
    """Refuse, with PyTorch's RuntimeError, a shape whose byte count overflows 64 bits
    (before a backend is asked to allocate or describe it), or a size beyond int64's range
    (which a size-0 tensor could otherwise carry), or, for a size-0 tensor, a row-major stride
    beyond int64's range (sizes 0 count as 1 in strides)."""
    total = numel(shape)
    if total * itemsize > MAX_TENSOR_BYTES or any(n >= 1 << 63 for n in shape):
        raise RuntimeError(f"Storage size calculation overflowed with sizes={list(shape)}: a tensor may span at "
                           f"most 2**63 - 1 bytes")
    if not total and numel(max(n, 1) for n in shape[1:]) > MAX_TENSOR_BYTES:
        raise RuntimeError(f"Stride calculation overflowed with sizes={list(shape)}: the row-major strides of a "
                           f"tensor must fit in int64")


def is_contiguous(shape: tuple, strides: tuple) -> bool:
    """True when the layout is row-major with no gaps (dims of size 1 may have any stride)."""
    expected = 1
    for n, s in zip(reversed(shape), reversed(strides)):
        if n == 1:
            continue
        if n == 0:
            return True
        if s != expected:
            return False
        expected *= n
    return True


@lru_cache(maxsize=4096)
def broadcast_shapes(a: tuple, b: tuple) -> tuple:
    """NumPy/PyTorch broadcasting of two shapes; RuntimeError naming both if impossible
    (the mismatch reported is the trailing one, as in PyTorch)."""
    if a == b:
        return a
    na, nb = len(a), len(b)
    n = max(na, nb)
    out = [0] * n
    for i in range(n - 1, -1, -1):
        da = a[i - n + na] if i >= n - na else 1
        db = b[i - n + nb] if i >= n - nb else 1
        if da == db or db == 1:
            out[i] = da
        elif da == 1:
            out[i] = db
        else:
            raise RuntimeError(
                f"The size of tensor a ({da}) must match the size of tensor b ({db}) at non-singleton "
                f"dimension {i} "
                f"(shapes {list(a)} and {list(b)} cannot be broadcast together)"
            )
    return tuple(out)


def broadcast_strides(shape: tuple, strides: tuple, out_shape: tuple) -> tuple:
    """Strides that read an operand of ``shape``/``strides`` as if it had ``out_shape``:
    broadcast dimensions get stride 0. A kernel helper for backends."""
    pad = len(out_shape) - len(shape)
    res = [0] * pad
    for n, s, o in zip(shape, strides, out_shape[pad:]):
        res.append(s if n == o else 0)
    return tuple(res)


def normalize_dim(dim, ndim: int, *, allow_end: bool = False) -> int:
    """A dim in ``[-ndim, ndim)`` turned non-negative; IndexError naming the range otherwise.

    0-d tensors accept dims -1 and 0, as in PyTorch. ``allow_end`` admits ``ndim``
    itself (for ``unsqueeze`` and ``stack``)."""
    if not isinstance(dim, int) or isinstance(dim, bool):
        if hasattr(dim, "__index__") and not isinstance(dim, bool):
            dim = dim.__index__()
        else:
            raise TypeError(f"dim must be an int, got {type(dim).__name__}")
    n = ndim + 1 if allow_end else ndim
    lo, hi = (-1, 0) if n == 0 else (-n, n - 1)
    if not lo <= dim <= hi:
        raise IndexError(f"Dimension out of range (expected to be in range of [{lo}, {hi}], but got {dim})")
    return dim + n if dim < 0 else dim


def view_strides(old_shape: tuple, old_strides: tuple, new_shape: tuple):
    """Strides that let ``new_shape`` view memory laid out as ``old_shape``/``old_strides``,
    or None when no such view exists (then a copy is needed, as in ``reshape``).

    Old dims are grouped into chunks that are contiguous with each other; a view
    exists when the new dims split exactly along those chunks."""
    if old_shape == new_shape:
        return old_strides
    if numel(old_shape) == 0:
        return contiguous_strides(new_shape)
    if not old_shape:
        old_shape, old_strides = (1,), (1,)
    new_strides = [0] * len(new_shape)
    view_d = len(new_shape) - 1
    chunk_base = old_strides[-1]
    tensor_numel = 1
    view_numel = 1
    for d in range(len(old_shape) - 1, -1, -1):
        tensor_numel *= old_shape[d]
        if d == 0 or (old_shape[d - 1] != 1 and old_strides[d - 1] != tensor_numel * chunk_base):
            while view_d >= 0 and (view_numel < tensor_numel or new_shape[view_d] == 1):
                new_strides[view_d] = view_numel * chunk_base
                view_numel *= new_shape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if d > 0:
                chunk_base = old_strides[d - 1]
                tensor_numel = 1
                view_numel = 1
    if view_d != -1:
        return None
    return tuple(new_strides)


@lru_cache(maxsize=4096)
def reduced_shape(shape: tuple, axes: tuple, keepdim: bool) -> tuple:
    """Shape after reducing ``axes`` (already normalised)."""
    if keepdim:
        return tuple(1 if i in axes else n for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape) if i not in axes)
