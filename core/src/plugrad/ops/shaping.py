"""Arranging tensors without computing on them: broadcasting (``broadcast_to``,
``broadcast_tensors``, ``broadcast_shapes``, ``meshgrid``), the NumPy-style stacks
(``dstack``, ``column_stack``, ``row_stack``, ``atleast_1d/2d/3d``), splitting into views
(``tensor_split``, ``hsplit``, ``vsplit``, ``dsplit``) and ``diff``.

Each is a composition of the view ops (expand, reshape, unsqueeze, slices) and ``cat``,
so every device runs them without a kernel, and each result's ``grad_fn`` is the one
PyTorch records for the same composition (``ExpandBackward0``, ``SliceBackward0``...).
"""

from __future__ import annotations

import warnings

from ..dtypes import bool_, int64
from ..layout import Size, broadcast_shapes as _broadcast_two, normalize_dim
from ..tensor import Tensor
from .checks import check_int, check_tensor, type_name
from .declare import declare, names_declared_in
from .dispatch import write_out
from .join import _tensor_list, cat, vstack
from .views import expand, reshape, slice_dim, unsqueeze

# ---- broadcasting ---------------------------------------------------------------------------


@declare
def broadcast_shapes(*shapes):
    """The shape that ``shapes`` (each an int or a sequence of ints) broadcast to, as a
    ``Size``; computed without tensors."""
    out = ()
    for i, s in enumerate(shapes):
        dims = (s,) if not isinstance(s, (tuple, list)) else tuple(s)
        for n in dims:
            if isinstance(n, bool) or not hasattr(n, "__index__"):
                raise TypeError(f"broadcast_shapes(): expected ints or sequences of ints, got {type(n).__name__}")
        dims = tuple(n.__index__() for n in dims)
        if any(n < 0 for n in dims):
            raise ValueError("Attempting to broadcast a dimension with negative length!")
        try:
            out = _broadcast_two(out, dims)
        except RuntimeError:
            raise RuntimeError(f"Shape mismatch: objects cannot be broadcast to a single shape: argument {i} has "
                               f"shape {list(dims)}, which does not broadcast with {list(out)}") from None
    return Size(out)


@declare(method=True)
def broadcast_to(input, size) -> Tensor:
    """``input`` expanded to ``size`` (a view; -1 keeps a dim)."""
    check_tensor(input, "broadcast_to", "input")
    return expand(input, tuple(size) if isinstance(size, (tuple, list)) else (size,))


def _tensors_arg(tensors, fname):
    """``f(a, b)`` and ``f([a, b])`` both name the tensors a and b."""
    if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
        tensors = tuple(tensors[0])
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{fname}(): expected Tensor as element {i} in argument 0, but got {type(t).__name__}")
    return tuple(tensors)


@declare
def broadcast_tensors(*tensors):
    """Every tensor expanded to the shape they all broadcast to (views)."""
    tensors = _tensors_arg(tensors, "broadcast_tensors")
    shape = ()
    for t in tensors:
        shape = _broadcast_two(shape, t._shape)
        _same_device(tensors[0], t)
    return tuple(expand(t, shape) for t in tensors)


def _same_device(first, t):
    if t._backend is not first._backend:
        raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two devices, "
                           f"{first.device} and {t.device}!")


@declare
def meshgrid(*tensors, indexing=None):
    """Coordinate grids of 0-d or 1-d tensors: ``indexing="ij"`` gives grids of shape
    ``(len(t0), len(t1), ...)``; ``"xy"`` swaps the first two dims (NumPy's default).
    Without ``indexing`` PyTorch warns and uses ``"ij"``."""
    tensors = _tensors_arg(tensors, "meshgrid")
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.",
                      UserWarning, stacklevel=2)
        indexing = "ij"
    if not isinstance(indexing, str):
        raise TypeError(f"meshgrid(): argument 'indexing' must be str, not {type(indexing).__name__}")
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for t in tensors:
        if t.dim() > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got a tensor of "
                               f"shape {list(t._shape)}")
        if t._dtype is not tensors[0]._dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
        _same_device(tensors[0], t)
    n = len(tensors)
    pos = list(range(n))    # the output dim that each tensor runs along
    if indexing == "xy" and n >= 2:
        pos[0], pos[1] = 1, 0
    sizes = [0] * n
    for t, p in zip(tensors, pos):
        sizes[p] = t.numel()
    sizes = tuple(sizes)
    grids = [expand(reshape(t, tuple(-1 if k == p else 1 for k in range(n))), sizes) for t, p in zip(tensors, pos)]
    return tuple(grids)


# ---- NumPy-style stacking -----------------------------------------------------------------------------


def _at_least(tensors, fname, make):
    """The ``atleast_*`` rule: one tensor gives one tensor, several (or a sequence) a tuple."""
    if len(tensors) == 1 and isinstance(tensors[0], Tensor):
        return make(tensors[0])
    return tuple(make(t) for t in _tensors_arg(tensors, fname))


def _one_d(t):
    return reshape(t, (1,)) if t.dim() == 0 else t


def _two_d(t):
    if t.dim() == 0:
        return reshape(t, (1, 1))
    return unsqueeze(t, 0) if t.dim() == 1 else t


def _three_d(t):
    if t.dim() == 0:
        return reshape(t, (1, 1, 1))
    if t.dim() == 1:
        return unsqueeze(unsqueeze(t, 0), -1)
    return unsqueeze(t, -1) if t.dim() == 2 else t


@declare
def atleast_1d(*tensors):
    """0-d tensors as 1-d of one element; others unchanged."""
    return _at_least(tensors, "atleast_1d", _one_d)


@declare
def atleast_2d(*tensors):
    """Tensors of fewer than 2 dims with leading size-1 dims added."""
    return _at_least(tensors, "atleast_2d", _two_d)


@declare
def atleast_3d(*tensors):
    """Tensors of fewer than 3 dims as 3-d (a vector ``(n,)`` becomes ``(1, n, 1)``, a
    matrix ``(m, n)`` becomes ``(m, n, 1)``, as NumPy's ``atleast_3d``)."""
    return _at_least(tensors, "atleast_3d", _three_d)


@declare
def dstack(tensors, *, out=None) -> Tensor:
    """Join along the third dim, after making every tensor 3-d."""
    return cat([_three_d(t) for t in _tensor_list(tensors, "dstack")], 2, out=out)


@declare
def column_stack(tensors, *, out=None) -> Tensor:
    """Join as columns: 0-d and 1-d tensors become columns ``(n, 1)``, then ``cat`` along dim 1."""
    parts = [reshape(t, (t.numel(), 1)) if t.dim() <= 1 else t for t in _tensor_list(tensors, "column_stack")]
    return cat(parts, 1, out=out)


@declare
def row_stack(tensors, *, out=None) -> Tensor:
    """``vstack`` under NumPy's other name."""
    r = vstack(tensors)
    return r if out is None else cat([r], 0, out=out)


# ---- splitting ------------------------------------------------------------------------------------------


#: more sections than this many views cannot be held (PyTorch fails to allocate the list)
_MAX_SECTIONS = 2 ** 31


def _split_points(input, indices_or_sections, d, fname):
    """The slice bounds of tensor_split: ``k`` sections (the first ``n % k`` one longer)
    or the given indices (Python slice bounds, so negative ones count from the end)."""
    arg = indices_or_sections
    if isinstance(arg, Tensor):
        if arg._dtype is not int64:
            raise RuntimeError(f"tensor_split expected tensor_indices_or_sections to have dtype of long, but got "
                               f"{type_name(arg._dtype)}")
        if arg.dim() > 1:
            raise RuntimeError(f"tensor_split expected tensor_indices_or_sections to be a zero-dimensional or "
                               f"one-dimensional tensor, but got a tensor with {arg.dim()} dims")
        arg = arg.item() if arg.dim() == 0 else arg.tolist()
    n = input._shape[d]
    if isinstance(arg, (tuple, list)):
        bounds = [check_int(i, fname, "indices") for i in arg]
        return [0, *bounds], [*bounds, n]
    k = check_int(arg, fname, "sections")
    if k <= 0:
        raise RuntimeError(f"number of sections must be larger than 0, got {k}")
    if k > _MAX_SECTIONS:
        raise RuntimeError(f"cannot create std::vector larger than max_size(): {k} sections requested")
    small, extra = divmod(n, k)
    starts, stops, at = [], [], 0
    for i in range(k):
        size = small + (1 if i < extra else 0)
        starts.append(at)
        stops.append(at + size)
        at += size
    return starts, stops


@declare(method=True)
def tensor_split(input, indices_or_sections, dim=0):
    """Views of ``input`` split along ``dim`` into ``k`` nearly equal sections (the first
    ``n % k`` one longer), or at the given indices."""
    check_tensor(input, "tensor_split", "input")
    if input.dim() == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    d = normalize_dim(dim, input.dim())
    starts, stops = _split_points(input, indices_or_sections, d, "tensor_split")
    return tuple(slice_dim(input, d, a, b) for a, b in zip(starts, stops))


def _dim_split(input, indices_or_sections, d, fname):
    """hsplit/vsplit/dsplit: tensor_split along ``d``, except that a number of sections
    must divide the dim exactly."""
    if not isinstance(indices_or_sections, (tuple, list)):
        k = check_int(indices_or_sections, fname, "sections")
        n = input._shape[d]
        if k == 0 or n % k:
            raise RuntimeError(f"torch.{fname} attempted to split along dimension {d}, but the size of the "
                               f"dimension {n} is not divisible by the split_size {k}!")
    return tensor_split(input, indices_or_sections, d)


@declare(method=True)
def hsplit(input, indices_or_sections):
    """Split along dim 1 (dim 0 for a 1-d tensor)."""
    check_tensor(input, "hsplit", "input")
    if input.dim() < 1:
        raise RuntimeError(f"torch.hsplit requires a tensor with at least 1 dimension, but got a tensor with "
                           f"{input.dim()} dimensions!")
    return _dim_split(input, indices_or_sections, 0 if input.dim() == 1 else 1, "hsplit")


@declare(method=True)
def vsplit(input, indices_or_sections):
    """Split along dim 0 of a tensor of 2 or more dims."""
    check_tensor(input, "vsplit", "input")
    if input.dim() < 2:
        raise RuntimeError(f"torch.vsplit requires a tensor with at least 2 dimension, but got a tensor with "
                           f"{input.dim()} dimensions!")
    return _dim_split(input, indices_or_sections, 0, "vsplit")


@declare(method=True)
def dsplit(input, indices_or_sections):
    """Split along dim 2 of a tensor of 3 or more dims."""
    check_tensor(input, "dsplit", "input")
    if input.dim() < 3:
        raise RuntimeError(f"torch.dsplit requires a tensor with at least 3 dimension, but got a tensor with "
                           f"{input.dim()} dimensions!")
    return _dim_split(input, indices_or_sections, 2, "dsplit")


# ---- differences --------------------------------------------------------------------------------------


@declare(method=True)
def diff(input, n=1, dim=-1, prepend=None, append=None, *, out=None) -> Tensor:
    """The ``n``-th forward difference along ``dim``, after joining ``prepend`` and
    ``append`` to ``input`` there (bool tensors: ``!=`` of neighbours, as PyTorch)."""
    check_tensor(input, "diff", "input")
    n = check_int(n, "diff", "n")
    if input.dim() == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    d = normalize_dim(dim, input.dim())
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    for name, extra in (("prepend", prepend), ("append", append)):
        if extra is not None:
            check_tensor(extra, "diff", name)
            if extra.dim() != input.dim():
                raise RuntimeError("diff expects prepend or append to be the same dimension as input")
    if n == 0:     # nothing is joined either, as in PyTorch
        return input.clone() if out is None else write_out(out, input, "diff")
    x = input
    if prepend is not None or append is not None:
        x = cat([p for p in (prepend, input, append) if p is not None], d)
    for _ in range(min(n, max(x._shape[d], 1))):     # past the dim's length every difference is empty
        m = x._shape[d]
        hi, lo = slice_dim(x, d, 1, m), slice_dim(x, d, 0, m - 1)
        x = (hi != lo) if x._dtype is bool_ else hi - lo
    return x if out is None else write_out(out, x, "diff")


__all__ = names_declared_in(__name__)
