"""Tensors over shared storages, on both sides of a file.

Saving groups the tensors of an object by the storage they view, so that each
storage is written once and every tensor is recorded as (storage, shape, strides,
offset): views and tensors saved together come back sharing memory, as in
PyTorch. Loading checks each recorded layout against its storage before a byte is
read through it, so a file can neither read outside a storage nor make a backend
allocate what the file does not hold, then builds the tensors over one storage
each.
"""

from __future__ import annotations

from .. import dtypes as _dt
from ..device import device as _device
from ..layout import contiguous_strides
from ..nn.parameter import Parameter
from ..plugins.registry import backend_for
from ..tensor import Tensor, make
from .errors import LoadError, brief

__all__ = ["StorageTable", "check_shape", "check_layout", "storage_tensor", "view_of", "finish", "place", "DTYPES"]

#: plugrad's dtypes by name (the names files use)
DTYPES = {d.name: d for d in _dt.ALL_DTYPES}
#: no dim, stride, offset or byte count a file gives may reach this (PyTorch's int64 sizes, with
#: room so that sums of a few never overflow a backend's 64-bit index arithmetic)
LIMIT = 1 << 62
MAX_DIMS = 64


class StorageTable:
    """The distinct storages under a set of tensors, in first-seen order.

    ``key(t)`` gives the index of the storage ``t`` views; ``data(i)`` its bytes (the
    whole storage, as PyTorch saves it, even when only a slice is viewed)."""

    def __init__(self):
        self.index = {}       # id(backend base array) -> storage number
        self.roots = []       # one tensor per storage, kept alive so that ids stay unique

    def key(self, t: Tensor) -> int:
        base = t._storage.base
        k = self.index.get(id(base))
        if k is None:
            k = self.index[id(base)] = len(self.roots)
            self.roots.append(t)
        return k

    def dtype(self, k: int):
        return self.roots[k]._dtype

    def data(self, k: int) -> bytes:
        t = self.roots[k]
        return t._backend.to_bytes(t._storage.base)

    def device(self, k: int) -> str:
        return str(self.roots[k].device)


def _int(value, what, name, low=0, high=LIMIT):
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value < high:
        raise LoadError(f"{name}: {what} must be an integer in [{low}, {high}), got {brief(value)}")
    return value


def check_shape(shape, itemsize, name, what) -> tuple:
    """``shape`` as a tuple after checking that it is one (at most 64 dims, none
    negative) of a tensor whose bytes could exist, empty or not (LoadError otherwise)."""
    if not isinstance(shape, (list, tuple)) or len(shape) > MAX_DIMS:
        raise LoadError(f"{name}: {what} has an invalid shape {brief(shape)} (at most {MAX_DIMS} dims)")
    shape = tuple(_int(n, f"a dimension of {what}", name) for n in shape)
    size = 1
    for n in shape:
        size *= n or 1      # a zero-element tensor's other dims still size NumPy's arrays
    if size * itemsize >= LIMIT:
        raise LoadError(f"{name}: {what} of shape {shape} is larger than any tensor can be")
    return shape


def check_layout(shape, strides, offset, dtype, storage_numel, name, what="a tensor"):
    """``(shape, strides, offset)`` as tuples/int after checking that every element they
    address lies inside a storage of ``storage_numel`` elements (LoadError otherwise).
    ``strides=None`` means contiguous."""
    shape = check_shape(shape, dtype.itemsize, name, what)
    if strides is None:
        strides = contiguous_strides(shape)
    if not isinstance(strides, (list, tuple)) or len(strides) != len(shape):
        raise LoadError(f"{name}: {what} has strides {brief(strides)} for shape {shape}")
    strides = tuple(_int(s, f"a stride of {what}", name) for s in strides)
    offset = _int(offset, f"the storage offset of {what}", name)
    if 0 not in shape:
        last = offset + sum((n - 1) * s for n, s in zip(shape, strides))
        if last >= storage_numel:
            raise LoadError(f"{name}: {what} of shape {shape}, strides {strides} and offset {offset} reads element "
                            f"{last} of a storage of {storage_numel} elements")
    return shape, strides, offset


def storage_tensor(data, dtype, name) -> Tensor:
    """A 1-d cpu tensor holding ``data`` (a bytes-like whose length the caller checked)."""
    cpu = backend_for("cpu")
    n = len(data) // dtype.itemsize
    try:
        return make(cpu, cpu.from_bytes(data, (n,), dtype), (n,), dtype)
    except (ValueError, TypeError, OverflowError, MemoryError) as exc:
        raise LoadError(f"{name}: cannot build a storage of {n} {dtype.name} elements ({exc})") from None


def place(root: Tensor, saved: str, map_location, name) -> Tensor:
    """The storage tensor ``root`` (on cpu) moved where ``map_location`` puts storages
    saved on device ``saved``: a device or its name, a dict from saved to wanted
    device names, or ``fn(storage_tensor, saved)`` returning the tensor to use (None:
    keep it on cpu). With none, tensors go back to the device they were saved on."""
    loc = map_location
    if callable(loc) and not isinstance(loc, (str, _device)):
        moved = loc(root, saved)
        if moved is None:
            return root
        if not isinstance(moved, Tensor) or moved.numel() != root.numel() or moved.dtype is not root.dtype:
            raise TypeError(f"map_location must return the storage it was given (a 1-d {root.dtype} tensor of "
                            f"{root.numel()} elements), moved or changed, or None; it returned "
                            f"{moved!r:.80}")
        return moved.contiguous().reshape(-1)
    if isinstance(loc, dict):
        target = loc.get(saved, saved)
    else:
        target = saved if loc is None else loc
    if str(target) == "cpu":
        return root
    try:
        dev = _device(target) if not isinstance(target, _device) else target
        return root.to(dev)
    except (RuntimeError, ValueError, TypeError) as exc:
        where = f"device '{target}'" + (", where it was saved" if loc is None else " (map_location)")
        raise LoadError(f"{name}: a {root._dtype.name} storage cannot be put on {where}: {exc}. Pass "
                        f"map_location='cpu' (or another device) to load it elsewhere.") from None


def view_of(root: Tensor, shape: tuple, strides: tuple, offset: int) -> Tensor:
    """A leaf tensor over ``root``'s storage with the given layout (no autograd link to
    ``root``: tensors loaded together share memory but each is a leaf, as in PyTorch)."""
    backend = root._backend
    base = root._storage.base
    try:
        t = make(backend, backend.view(base, shape, strides, offset), shape, root._dtype)
    except (ValueError, TypeError, OverflowError, MemoryError) as exc:
        raise LoadError(f"cannot view a storage with shape {shape}, strides {strides}, offset {offset} ({exc})") \
            from None
    t._strides, t._offset, t._storage = strides, offset, root._storage
    return t


def finish(t: Tensor, requires_grad, parameter: bool, name) -> Tensor:
    """``t`` as a Parameter or with ``requires_grad`` set, as saved."""
    if not isinstance(requires_grad, bool):
        raise LoadError(f"{name}: requires_grad must be a bool, got {brief(requires_grad)}")
    if requires_grad and not t._dtype.is_floating_point:
        raise LoadError(f"{name}: a tensor of dtype {t._dtype.name} cannot require grad")
    if parameter:
        return Parameter(t, requires_grad)
    if requires_grad:
        t.requires_grad_(True)
    return t
