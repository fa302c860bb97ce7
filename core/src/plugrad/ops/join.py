"""Joining tensors: ``cat`` and ``stack``."""

from __future__ import annotations

from ..autograd.grad_mode import STATE
from ..autograd.graph import Node, record
from ..dtypes import promote_types
from ..layout import normalize_dim
from ..tensor import Tensor, make
from .checks import check_int
from .dispatch import write_out
from .views import select, slice_dim, unsqueeze
from .declare import declare

__all__ = ["cat", "concat", "concatenate", "stack", "hstack", "vstack"]


class CatBackward0(Node):
    """d cat(a, b, ...) = the matching slices of g"""
    __slots__ = ("dim", "sizes")

    def backward(self, g):
        out, start = [], 0
        for n in self.sizes:
            out.append(slice_dim(g, self.dim, start, start + n))
            start += n
        return tuple(out)


def _tensor_list(tensors, fname):
    """``tensors`` checked as PyTorch's argument parser checks a sequence of Tensors
    (TypeError), and non-empty (cat's ValueError, the others' RuntimeError)."""
    if isinstance(tensors, Tensor) or not isinstance(tensors, (tuple, list)):
        raise TypeError(f"{fname}(): argument 'tensors' must be a tuple or list of Tensors, not "
                        f"{type(tensors).__name__}")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{fname}(): expected Tensor as element {i} in argument 0, but got {type(t).__name__}")
    if not tensors:
        if fname == "cat":
            raise ValueError("cat(): expected a non-empty list of Tensors")
        raise RuntimeError(f"{fname} expects a non-empty TensorList")
    return tensors


@declare(aliases=("concat", "concatenate"))
def cat(tensors, dim=0, *, out=None) -> Tensor:
    """Join tensors along an existing dim (they must match in every other dim)."""
    _tensor_list(tensors, "cat")
    # legacy rule: 1-d empty tensors are skipped, in the dim check too
    parts = [t for t in tensors if not (t.dim() == 1 and t._shape[0] == 0)]
    if parts:
        ref = parts[0]
        if ref.dim() == 0:
            raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
        d = normalize_dim(dim, ref.dim())
    else:   # only empty vectors: any int dim gives an empty vector
        check_int(dim, "cat", "dim")
        parts, ref, d = list(tensors), tensors[0], 0
    dtype = ref._dtype
    for t in tensors:  # skipped empty vectors still take part in type promotion and the device check
        dtype = promote_types(dtype, t._dtype)
        if t._backend is not ref._backend:
            raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two devices, "
                               f"{ref.device} and {t.device}!")
    for i, t in enumerate(parts):
        if t.dim() != ref.dim():
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ref.dim()} and {t.dim()}")
        for k in range(ref.dim()):
            if k != d and t._shape[k] != ref._shape[k]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. Expected size "
                                   f"{ref._shape[k]} but got size {t._shape[k]} for tensor number {i} in the list.")
    backend = ref._backend
    sizes = [t._shape[d] for t in parts]
    shape = ref._shape[:d] + (sum(sizes),) + ref._shape[d + 1:]
    r = make(backend, backend.empty(shape, dtype), shape, dtype)
    start = 0
    for t, n in zip(parts, sizes):
        if n:
            backend.copy(t._a, slice_dim(r, d, start, start + n)._a)
        start += n
    if STATE.enabled and any(t._requires_grad for t in parts):
        node = CatBackward0()
        node.dim, node.sizes = d, sizes
        record(node, tuple(parts), r)
    if out is not None:
        return write_out(out, r, "cat")
    return r


concat = concatenate = cat


@declare
def stack(tensors, dim=0, *, out=None) -> Tensor:
    """Join same-shaped tensors along a new dim."""
    ref = _tensor_list(tensors, "stack")[0]
    d = normalize_dim(dim, ref.dim(), allow_end=True)   # checked against the first tensor, before the shapes
    for i, t in enumerate(tensors):
        if t._shape != ref._shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(ref._shape)} at entry 0 "
                               f"and {list(t._shape)} at entry {i}")
    r = cat([unsqueeze(t.detach(), d) for t in tensors], d)
    if STATE.enabled and any(t._requires_grad for t in tensors):
        node = StackBackward0()
        node.dim, node.n = d, len(tensors)
        record(node, tuple(tensors), r)
    if out is not None:
        return write_out(out, r, "stack")
    return r


class StackBackward0(Node):
    """d stack(a, b, ...) = the slices of g along the new dim"""
    __slots__ = ("dim", "n")

    def backward(self, g):
        return tuple(select(g, self.dim, i) for i in range(self.n))


@declare
def hstack(tensors) -> Tensor:
    # 0-d tensors count as 1-d, as in PyTorch
    tensors = [t.reshape(1) if t.dim() == 0 else t for t in _tensor_list(tensors, "hstack")]
    return cat(tensors, 0 if tensors[0].dim() == 1 else 1)


@declare
def vstack(tensors) -> Tensor:
    return cat([t.reshape(1, -1) if t.dim() < 2 else t for t in _tensor_list(tensors, "vstack")], 0)
