"""Indexing: ``x[key]``, ``x[key] = v``, gather/scatter, take/put, masks, nonzero.

Basic indexing (ints, slices, None, Ellipsis) gives views. Advanced indexing (int or
bool tensors and lists) copies: the core turns the indices into element positions
and the backend's ``take``/``put`` kernels move the data. Two position systems
are used: *storage* positions for kernels, and *logical* positions (row-major
index into the flattened tensor) for the differentiable ``take``/``put`` pair that
every indexing gradient is written with.
"""

from __future__ import annotations

from math import prod
from numbers import Number

from ..autograd.grad_mode import STATE, no_grad
from ..autograd.graph import Node, record
from ..autograd.inplace import snapshot
from ..creation import arange, empty, full, tensor, zeros
from ..dtypes import bool_, int32, int64, uint8
from ..hostchecks import validating
from ..layout import broadcast_shapes, contiguous_strides
from ..optable import ops
from ..tensor import Tensor, make
from .checks import check_bool, check_device, check_dim, check_int, check_tensor, type_name
from .dispatch import as_operand, cast, check_inplace_target, inplace, write_out
from .views import select, slice_dim, unsqueeze
from .declare import declare

__all__ = ["getitem", "setitem", "index_select", "gather", "scatter", "scatter_add", "take", "put",
           "index_put", "masked_fill", "masked_select", "nonzero", "index_add", "tril", "triu", "argwhere"]


# ---- key parsing -----------------------------------------------------------------------

def _as_index_tensor(obj, device):
    """A sequence index (list, tuple, range, string, array) as PyTorch reads it: a bool
    tensor (a mask) when it holds only bools, else int64 (fractions truncated)."""
    t = tensor(list(obj) if isinstance(obj, range) else obj, device=device)
    if t._dtype.is_floating_point:
        # PyTorch reads a list or array index as int64: fractions are truncated, NaN and
        # values beyond int64 refused
        if t.numel() and not bool((t.abs() < 2.0 ** 63).all()):
            raise RuntimeError("value cannot be converted to type int64 without overflow")
        t = cast(t, int64)
    return t


_SEQUENCES = (list, tuple, str, bytes, range)


def _is_sequence(obj) -> bool:
    """Whether Python's sequence protocol covers ``obj`` (what PyTorch turns into an index
    tensor): lists, tuples, strings, ranges, NumPy arrays; not numbers or dicts."""
    return isinstance(obj, _SEQUENCES) or (hasattr(obj, "__array_interface__") and hasattr(obj, "__len__"))


def _key_items(key) -> tuple:
    """The items of an index key, read as PyTorch reads them: a tuple is its items, and so
    is a short list (or other sequence) that holds a tensor, a sequence, a slice, None or
    Ellipsis (``x[[0, None]]`` is ``x[0, None]``, ``x[[[0, 1], [1, 0]]]`` is
    ``x[[0, 1], [1, 0]]``); anything else, a list of numbers included, is one item."""
    if isinstance(key, tuple):
        return key
    if isinstance(key, Tensor) or not _is_sequence(key) or hasattr(key, "__array_interface__") or len(key) >= 32:
        return (key,)
    for item in key:
        if isinstance(item, (Tensor, slice)) or item is None or item is Ellipsis or _is_sequence(item):
            return tuple(key)
    return (key,)


def _dims_named(item) -> int:
    """How many of the input's dims ``item`` names, counted before any item is read (so a
    list counts one whatever it holds): none for None, Ellipsis and Python bools, a bool or
    byte tensor's dims, one otherwise."""
    if item is None or item is Ellipsis or item is True or item is False:
        return 0
    if isinstance(item, Tensor) and item._dtype in (bool_, uint8):
        return item.dim()
    return 1


def _basic_and_advanced(x: Tensor, key, python_key=True):
    """Apply the basic part of ``key`` to ``x``; return the view, the advanced indices as
    ``[(dim in the view, int64 index tensor), ...]`` and whether they all come from one
    bool mask (what lets an assignment of one value of another dtype through).

    ``python_key``: ``key`` is what ``x[key]`` received (read with :func:`_key_items`; a
    0-d integer tensor selects like an int); otherwise it is index_put's tuple of tensors."""
    key = _key_items(key) if python_key else key
    used = sum(_dims_named(k) for k in key)
    if used > x.dim():
        raise IndexError(f"too many indices for tensor of dimension {x.dim()}")
    v = x
    d = 0
    selected = 0  # ints seen so far: error messages count dims as if they were not removed
    adv = []
    masks = others = 0
    for item in key:
        # several ellipses each expand over every dim the key leaves unnamed (PyTorch's rule)
        if item is not Ellipsis and d + _dims_named(item) > v.dim():
            raise IndexError(f"too many indices for tensor of dimension {x.dim()}: after the key's ellipses "
                             f"expand, an index lands on dimension {d + selected}")
        if item is Ellipsis:
            d += x.dim() - used
        elif item is None:
            v = unsqueeze(v, d)
            d += 1
        elif isinstance(item, bool):  # a new dim of size 1, indexed by [0] (True) or nothing
            v = unsqueeze(v, d)
            adv.append((d, arange(int(item), device=x.device)))
            others += 1
            d += 1
        elif isinstance(item, slice):
            step = 1 if item.step is None else _int(item.step)
            if step <= 0:
                raise ValueError("step must be greater than zero")
            start = None if item.start is None else _int(item.start)
            stop = None if item.stop is None else _int(item.stop)
            v = slice_dim(v, d, start, stop, step)
            d += 1
        else:
            if not isinstance(item, Tensor) and _is_sequence(item):
                item = _as_index_tensor(item, x.device)
            if isinstance(item, Tensor) and python_key and not item._shape and not item._dtype.is_floating_point \
                    and item._dtype not in (bool_, uint8):
                item = item.item()  # a 0-d integer tensor selects, as an int does
            if not isinstance(item, Tensor):
                i = _int(item)
                n = v._shape[d]
                if not -n <= i < n:
                    raise IndexError(f"index {i} is out of bounds for dimension {d + selected} with size {n}")
                v = select(v, d, i)
                selected += 1
                continue
            if item._backend is not x._backend and item._backend.device.type != "cpu":
                raise RuntimeError(f"indices should be either on cpu or on the same device as the indexed tensor "
                                   f"({x.device}), not on {item.device}")
            if item._backend is not x._backend:
                item = item.to(x.device)
            if item._dtype in (bool_, uint8):
                k = item.dim()
                if k == 0:
                    v = unsqueeze(v, d)
                    mask = item.reshape(1)
                    k = 1
                    others += 1
                else:
                    mask = item
                    masks += 1
                for j in range(k):
                    if mask._shape[j] != v._shape[d + j]:
                        raise IndexError(f"The shape of the mask {list(mask._shape)} at index {j} does not match "
                                         f"the shape of the indexed tensor {list(v._shape)} at index {d + j}")
                nz = nonzero(mask)
                for j in range(k):
                    adv.append((d + j, select(nz, 1, j)))
                d += k
            elif item._dtype.is_floating_point:
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            else:
                adv.append((d, item))
                others += 1
                d += 1
    return v, adv, masks == 1 and not others


def _int(i):
    if isinstance(i, Tensor):
        return i.__index__()
    if isinstance(i, bool) or not hasattr(i, "__index__"):
        raise IndexError(f"only integers, slices (`:`), ellipsis (`...`), None and long or byte tensors are valid "
                        f"indices (got {type(i).__name__})")
    return i.__index__()


def _layout(v: Tensor, adv):
    """How ``v[adv]`` is laid out, read from the shapes alone (no index value is looked at):
    the result shape, the axis where the broadcast index shape starts in it, and
    ``[(dim of v, result axis)]`` for each dim that no index names. PyTorch checks an
    assigned value against the result shape before it checks the index values."""
    idx_shape = ()
    try:
        for _, t in adv:
            idx_shape = broadcast_shapes(idx_shape, t._shape)
    except RuntimeError:
        shapes = ", ".join(str(list(t._shape)) for _, t in adv)
        raise IndexError(f"shape mismatch: indexing tensors could not be broadcast together with shapes "
                         f"{shapes}") from None
    if prod(idx_shape):
        for d, _ in adv:
            if not v._shape[d]:
                raise IndexError(f"index is out of bounds for dimension {d}, which has size 0 (an index into it "
                                 f"can only be empty)")
    dims = [d for d, _ in adv]
    rest = [d for d in range(v.dim()) if d not in dims]
    if dims == list(range(dims[0], dims[0] + len(dims))):  # adjacent indices: their dims are replaced in place
        before, after = [d for d in rest if d < dims[0]], [d for d in rest if d > dims[-1]]
        at = len(before)
        placed = [(d, i) for i, d in enumerate(before)] + [(d, at + len(idx_shape) + i) for i, d in enumerate(after)]
    else:  # indices apart: the index shape leads
        at = 0
        placed = [(d, len(idx_shape) + i) for i, d in enumerate(rest)]
    shape = [0] * (len(idx_shape) + len(rest))
    shape[at:at + len(idx_shape)] = idx_shape
    for d, i in placed:
        shape[i] = v._shape[d]
    return tuple(shape), at, placed


def _positions(v: Tensor, adv, strides, offset, layout=None):
    """Element positions (in the given layout system) of ``v[adv]`` and the result shape;
    ``layout``: :func:`_layout`'s answer when the caller already has it. As in PyTorch, the
    index values are checked only when the result has elements (else none is read)."""
    out_shape, at, placed = layout or _layout(v, adv)
    pos = full((), offset, dtype=int64, device=v.device)
    check = prod(out_shape) > 0
    for d, t in adv:
        n = v._shape[d]
        t = cast(t, int64)
        if check:
            t = _wrapped(t, n, lambda bad, d=d, n=n: IndexError(
                f"index {bad} is out of bounds for dimension {d} with size {n}"))
        pos = pos + t * strides[d]
    nd = len(out_shape)
    shape = (1,) * at + tuple(pos._shape) + (1,) * (nd - at - len(pos._shape))
    if pos._shape != shape:
        pos = pos.reshape(shape)
    for d, i in placed:
        shape = [1] * nd
        shape[i] = v._shape[d]
        pos = pos + arange(v._shape[d], device=v.device).reshape(shape) * strides[d]
    return pos.expand(out_shape) if pos._shape != out_shape else pos, out_shape


def _take_storage(v: Tensor, positions: Tensor) -> Tensor:
    backend = v._backend
    out = backend.empty(positions._shape, v._dtype)
    if positions.numel():
        backend.take(v._storage.base, positions._a, out)
    return make(backend, out, positions._shape, v._dtype)


# ---- take / put: the differentiable pair -----------------------------------------------------

class TakeBackward0(Node):
    """d take(a, idx) = zeros with g added at idx"""
    __slots__ = ("shape",)

    def backward(self, g):
        (index,) = self.saved_tensors
        return (put(zeros(self.shape, dtype=g._dtype, device=g.device), index, g, accumulate=True),)


@declare(method=True)
def take(input, index) -> Tensor:
    """Elements of the flattened ``input`` at ``index`` (result has index's shape)."""
    check_tensor(index, "take", "index")
    if index._dtype is not int64:
        raise RuntimeError(f"take(): Expected a long tensor for index, but got {type_name(index._dtype)}")
    _check_index(input, index, "take")
    n = input.numel()
    flat = input.reshape(-1).detach()
    idx = _wrapped(cast(index, int64), n, lambda bad: _flat_out_of_range(bad, n))
    positions = idx * flat._strides[0] + flat._offset if flat._shape else idx * 0 + flat._offset
    r = _take_storage(flat, positions)
    if STATE.enabled and input._requires_grad:
        node = TakeBackward0()
        node.shape = input._shape
        node.save(idx)
        record(node, (input,), r)
    return r


class PutBackward0(Node):
    """d put(a, idx, v) = (g with idx cleared unless accumulating, g taken at idx)"""
    __slots__ = ("accumulate",)

    def backward(self, g):
        (index,) = self.saved_tensors
        ga = gv = None
        if self.next_functions[0][0] is not None:
            ga = g if self.accumulate else put(g, index, 0.0 * take(g, index), accumulate=False)
        if self.next_functions[1][0] is not None:
            gv = take(g, index)
        return ga, gv


@declare(public=False, method=True, inplace=True)
def put(input, index, source, accumulate=False) -> Tensor:
    """A copy of ``input`` with ``source`` written (or added) at flat positions ``index``."""
    check_tensor(source, "put", "source")
    if type(accumulate) is not bool:
        check_bool(accumulate, "put", "accumulate")
    _check_index(input, index, "put")
    _check_same_dtype(input, source, "put")
    if isinstance(source, Tensor) and source.numel() != index.numel():
        raise IndexError(f"put_(): Expected source and index to have the same number of elements, but got "
                         f"source.numel() = {source.numel()}, index.numel() = {index.numel()}")
    r = input.detach().clone()
    n = r.numel()
    idx = _wrapped(cast(index, int64), n, lambda bad: _flat_out_of_range(bad, n))
    src = source if isinstance(source, Tensor) else None
    _put_storage(r, idx, source, accumulate)
    if STATE.enabled and (input._requires_grad or (src is not None and src._requires_grad)):
        node = PutBackward0()
        node.accumulate = accumulate
        node.save(idx)
        record(node, (input, src), r)
    return r


def _put_storage(r: Tensor, logical_idx: Tensor, values, accumulate):
    """Write ``values`` at logical positions of the contiguous tensor ``r``."""
    backend = r._backend
    if not logical_idx.numel():
        return
    if isinstance(values, Tensor):
        if values._backend is not backend:
            values = values.to(r.device)
        vals = cast(values.detach(), r._dtype)
        if vals._shape != logical_idx._shape:
            vals = vals.expand(broadcast_shapes(vals._shape, logical_idx._shape)) \
                if broadcast_shapes(vals._shape, logical_idx._shape) == logical_idx._shape \
                else vals.reshape(logical_idx._shape)
        va = vals._a
    else:
        va = r._dtype.checked_scalar(values)
    backend.put(r._storage.base, logical_idx._a, va, accumulate)
    r._storage.version += 1


# ---- getitem / setitem --------------------------------------------------------------------

class IndexBackward0(Node):
    """d a[idx] = zeros with g added at the indexed positions"""
    __slots__ = ("shape",)

    def backward(self, g):
        (positions,) = self.saved_tensors
        return (put(zeros(self.shape, dtype=g._dtype, device=g.device), positions, g, accumulate=True),)


def getitem(x: Tensor, key) -> Tensor:
    """``x[key]`` with PyTorch's semantics (views for basic indexing, copies otherwise)."""
    v, adv, _ = _basic_and_advanced(x, key)
    if not adv:
        return v
    positions, _ = _positions(v, adv, v._strides, v._offset)
    r = _take_storage(v, positions)
    if STATE.enabled and v._requires_grad:
        logical, _ = _positions(v, adv, contiguous_strides(v._shape), 0)
        node = IndexBackward0()
        node.shape = v._shape
        node.save(logical)
        record(node, (v,), r)
    return r


def _without_leading_ones(value: Tensor) -> Tensor:
    """``value`` with its leading size-1 dims dropped: an assigned value may carry more of
    them than the target has dims (``x[0] = ones(1, 1, 3)`` for a row of 3)."""
    k = 0
    while k < len(value._shape) and value._shape[k] == 1:
        k += 1
    return value.reshape(value._shape[k:]) if k else value


def setitem(x: Tensor, key, value) -> None:
    """``x[key] = value``: writes through to ``x`` (and every view of its storage)."""
    if isinstance(key, Tensor) and key._dtype is bool_ and key._shape == x._shape and \
            not isinstance(value, Tensor) and not (STATE.enabled and x._requires_grad):
        masked_fill_(x, key, value)
        return
    if not isinstance(value, Tensor):
        _check_value(value)
    if type(key) is bool:  # a bare bool: a new leading dim holding x (True) or nothing at all (False)
        if not key:
            return
        key = None
    v, adv, sole_mask = _basic_and_advanced(x, key)
    if not adv:
        if isinstance(value, Tensor):
            v.copy_(value if value._shape == v._shape else _without_leading_ones(value))
        else:
            v.fill_(value)
        return
    layout = _layout(v, adv)
    if isinstance(value, Tensor):
        value = _checked_put_value(v, _without_leading_ones(value), layout[0], sole_mask)
    positions, _ = _positions(v, adv, contiguous_strides(v._shape), 0, layout)
    tracked = STATE.enabled and (v._requires_grad or (isinstance(value, Tensor) and value._requires_grad))
    if not tracked and v.is_contiguous() and v._storage is x._storage:
        storage_pos = positions + v._offset
        _put_storage_at(v, storage_pos, value)
        return
    check_inplace_target(v, tracked, "index_put_")
    src = snapshot(v) if tracked else v
    r = index_put(src, None, value, positions=positions)
    inplace(v, r, "index_put_")


def _checked_put_value(x: Tensor, value: Tensor, out_shape, sole_mask: bool, accumulate=False) -> Tensor:
    """The value tensor of an advanced assignment, checked: it must broadcast to the indexed
    shape and have ``x``'s dtype. PyTorch turns one value written through one bool mask (not
    accumulating) into a masked fill: any dtype and any shape of one element go, as a 0-d
    value. (PyTorch asks the value to be on the cpu, where a cpu tensor is; plugrad waives it
    on every device, so that every device gives the cpu's outcome.)"""
    if sole_mask and not accumulate and value.numel() == 1:
        return value.reshape(())
    try:
        fits = broadcast_shapes(value._shape, out_shape) == out_shape
    except RuntimeError:
        fits = False
    if not fits:
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(value._shape)} cannot be broadcast to "
                           f"indexing result of shape {list(out_shape)}")
    if value._dtype is not x._dtype:
        raise RuntimeError(f"an indexed assignment needs a value of the target's dtype: the target is "
                           f"{x._dtype.name}, the value {value._dtype.name} (only one value written through a bool "
                           f"mask may differ)")
    return value


def _put_storage_at(v: Tensor, storage_pos: Tensor, values):
    backend = v._backend
    if not storage_pos.numel():
        return
    if isinstance(values, Tensor):
        vals = cast(values.detach().to(v.device), v._dtype).expand(storage_pos._shape)
        va = vals._a
    else:
        va = v._dtype.checked_scalar(values)
    backend.put(v._storage.base, storage_pos._a, va, False)
    v._storage.version += 1


def _check_value(value):
    if not isinstance(value, (bool, int, float)):
        raise TypeError(f"can't assign a {type(value).__name__} to a tensor; expected a number or a Tensor")
    if type(value) is int and not -2 ** 63 <= value < 2 ** 63:  # PyTorch reads an assigned int as int64
        raise ValueError(f"Overflow when unpacking long long: {value} does not fit in 64 bits")


class IndexPutBackward0(Node):
    """d index_put(a, idx, v) = (g with idx cleared unless accumulating, g at idx)"""
    __slots__ = ("accumulate",)

    def backward(self, g):
        (positions,) = self.saved_tensors
        ga = gv = None
        if self.next_functions[0][0] is not None:
            ga = g if self.accumulate else put(g, positions, 0.0 * take(g, positions), accumulate=False)
        if self.next_functions[1][0] is not None:
            gv = take(g, positions)
        return ga, gv


@declare(method=True, inplace=True)
def index_put(input, indices, values, accumulate=False, *, positions=None) -> Tensor:
    """A copy of ``input`` with ``input[indices] = values`` (or ``+=`` when accumulating)."""
    if type(accumulate) is not bool:
        check_bool(accumulate, "index_put", "accumulate")
    if positions is None:
        check_tensor(values, "index_put", "values")
    r = input.detach().clone()
    if positions is None:
        if not isinstance(indices, (tuple, list)):
            raise TypeError("index_put(): indices must be a tuple of tensors")
        if not indices:
            raise RuntimeError("index_put(): indices is empty; expected at least one index tensor")
        for k, t in enumerate(indices):
            if not isinstance(t, Tensor):
                raise TypeError(f"expected Tensor as element {k} in argument 1, but got {type(t).__name__}")
        # positions in the contiguous copy, through the view the key selects (a 0-d bool mask
        # adds a dim, so the key's dims are the view's, not the input's)
        v, adv, sole_mask = _basic_and_advanced(r, tuple(indices), python_key=False)
        layout = _layout(v, adv)
        values = _checked_put_value(r, values, layout[0], sole_mask, accumulate)
        check_device(input, values, "index_put", cpu_scalar_ok=True)
        positions, _ = _positions(v, adv, v._strides, v._offset, layout)
    if not isinstance(values, Tensor):
        values = tensor(values, dtype=input._dtype, device=input.device)
    _put_storage(r, positions, values.expand(positions._shape) if values._shape != positions._shape and
                 broadcast_shapes(values._shape, positions._shape) == positions._shape else values, accumulate)
    if STATE.enabled and (input._requires_grad or values._requires_grad):
        node = IndexPutBackward0()
        node.accumulate = accumulate
        node.save(positions)
        record(node, (input, values), r)
    return r


# ---- masks ----------------------------------------------------------------------------------

class MaskedFillBackward0(Node):
    """d masked_fill(a, m, v) = g where not m"""

    def backward(self, g):
        (mask,) = self.saved_tensors
        return (ops.where(mask, 0.0, g),)


class MaskedFillBackward1(Node):
    """d masked_fill(a, m, v) for a 0-d tensor ``v``: g where not m for a, the sum of g where
    m for v (the engine sums the broadcast gradient down to v's shape)"""

    def backward(self, g):
        (mask,) = self.saved_tensors
        return ops.where(mask, 0.0, g), ops.where(mask, g, 0.0)


def _check_mask(mask, fname, input, *value):
    """masked_fill's and masked_select's mask: a bool tensor on ``input``'s device; the
    fill ``value`` (masked_fill's only) a number or a tensor."""
    if value and not isinstance(value[0], (Number, Tensor)):
        raise TypeError(f"{fname}(): argument 'value' must be Number or Tensor, not {type(value[0]).__name__}")
    check_tensor(mask, fname, "mask")
    if mask._dtype is not bool_:
        raise RuntimeError(f"{fname} only supports boolean masks, but got mask with dtype "
                           f"{getattr(mask, 'dtype', type(mask).__name__)}")
    check_device(input, mask, fname)


@declare(method=True, inplace=True, inplace_form="masked_fill_")
def masked_fill(input, mask, value) -> Tensor:
    """A copy of ``input`` with ``value`` where ``mask`` is true."""
    _check_mask(mask, "masked_fill_", input, value)
    if isinstance(value, Tensor):
        if value.dim():
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value.dim()} dimension(s).")
        value_tensor, value = value, value.item()
    else:
        value_tensor = None
    shape = broadcast_shapes(input._shape, mask._shape)  # the result takes the mask's extra dims too
    backend = input._backend
    out = backend.empty(shape, input._dtype)
    backend.where(mask._a, input._dtype.checked_scalar(value), input._a, out)
    r = make(backend, out, shape, input._dtype)
    if STATE.enabled:
        if value_tensor is not None and value_tensor._requires_grad:
            node = MaskedFillBackward1()
            node.save(mask)
            record(node, (input, value_tensor), r)
        elif input._requires_grad:
            node = MaskedFillBackward0()
            node.save(mask)
            record(node, (input,), r)
    return r


def masked_fill_(input, mask, value) -> Tensor:
    """Set ``input`` to ``value`` where ``mask`` is true, in place."""
    _check_mask(mask, "masked_fill_", input, value)
    if broadcast_shapes(input._shape, mask._shape) != input._shape:
        raise RuntimeError(f"masked_fill_: the mask of shape {list(mask._shape)} must broadcast to the input's shape "
                           f"{list(input._shape)} (an in-place fill cannot grow the input)")
    if not (STATE.enabled and input._requires_grad) and not isinstance(value, Tensor):
        input._backend.where(mask._a, input._dtype.checked_scalar(value), input._a, input._a)
        input._storage.version += 1
        return input
    return inplace(input, masked_fill(input, mask, value), "masked_fill_")


class TrilBackward0(Node):
    """d tril(a, k) = tril(g, k)"""
    __slots__ = ("diagonal",)

    def backward(self, g):
        return (tril(g, self.diagonal),)


class TriuBackward0(Node):
    """d triu(a, k) = triu(g, k)"""
    __slots__ = ("diagonal",)

    def backward(self, g):
        return (triu(g, self.diagonal),)


def _triangle(kind, node_cls, input, diagonal, out):
    """``input`` with the elements on the other side of the ``diagonal``-th diagonal of
    its last two dims set to zero: a composition (``masked_fill`` with a mask built by
    ``arange``), so every device has it without a kernel of its own."""
    check_tensor(input, kind, "input")
    diagonal = check_int(diagonal, kind, "diagonal")
    if input.dim() < 2:
        raise RuntimeError(f"{kind}: input tensor must have at least 2 dimensions")
    rows, cols = input._shape[-2:]
    offsets = arange(cols, device=input.device) - arange(rows, device=input.device).unsqueeze(1)  # j - i
    dropped = offsets > diagonal if kind == "tril" else offsets < diagonal
    with no_grad():
        r = masked_fill(input, dropped, 0)
    if STATE.enabled and input._requires_grad:
        node = node_cls()
        node.diagonal = diagonal
        record(node, (input,), r)
    return r if out is None else write_out(out, r, kind)


@declare(method=True, inplace=True)
def tril(input, diagonal=0, *, out=None) -> Tensor:
    """The lower triangle of the last two dims: elements above the ``diagonal``-th
    diagonal (0 the main one, positive above it) become zero."""
    return _triangle("tril", TrilBackward0, input, diagonal, out)


@declare(method=True, inplace=True)
def triu(input, diagonal=0, *, out=None) -> Tensor:
    """The upper triangle of the last two dims: elements below the ``diagonal``-th
    diagonal become zero."""
    return _triangle("triu", TriuBackward0, input, diagonal, out)


class MaskedSelectBackward0(Node):
    """d masked_select(a, m) = zeros with g placed where m is true"""
    __slots__ = ("shape",)

    def backward(self, g):
        (mask,) = self.saved_tensors
        return (index_put(_zeros(self.shape, g), (mask,), g),)


@declare(method=True)
def masked_select(input, mask) -> Tensor:
    """The elements of ``input`` where ``mask`` is true, as a 1-d tensor."""
    _check_mask(mask, "masked_select", input)
    shape = broadcast_shapes(input._shape, mask._shape)
    full_mask = mask.expand(shape)
    r = getitem(input.detach().expand(shape), full_mask)
    if STATE.enabled and input._requires_grad:
        node = MaskedSelectBackward0()
        node.shape = shape
        node.save(full_mask)
        record(node, (input,), r)
    return r


@declare(method=True)
def nonzero(input, *, as_tuple=False):
    """Indices of the non-zero elements: an ``(n, ndim)`` int64 tensor, or one 1-d tensor
    per dim with ``as_tuple=True``."""
    check_tensor(input, "nonzero", "input")
    if type(as_tuple) is not bool:
        check_bool(as_tuple, "nonzero", "as_tuple")
    backend = input._backend
    arr, n = backend.nonzero(input._a)
    r = make(backend, arr, (n, input.dim()), int64)
    if as_tuple:
        if input.dim() == 0:  # a 0-d input counts as one element at index 0
            return (zeros(n, dtype=int64, device=input.device),)
        return tuple(select(r, 1, j) for j in range(input.dim()))
    return r


@declare(method=True)
def argwhere(input) -> Tensor:
    return nonzero(input)


# ---- dim-wise gather / scatter -------------------------------------------------------------------

def _check_index(x: Tensor, index, fname: str, empty_ok=False) -> None:
    """An index argument must be an integer tensor on ``x``'s device (a float index
    would be truncated, one on another device read by the wrong kernels). ``empty_ok``:
    an empty index of any dtype goes (gather and scatter, as in PyTorch, do nothing with it)."""
    check_tensor(index, fname, "index")
    if (index._dtype.is_floating_point or index._dtype is bool_) and not (empty_ok and not index.numel()):
        raise RuntimeError(f"{fname}(): Expected dtype int32/int64 for index, but got {index._dtype}")
    check_device(x, index, fname)


def _check_same_dtype(x: Tensor, src, fname: str, what: str = "source") -> None:
    """The values written into ``x`` must have its dtype (PyTorch casts none of them here)
    and its device (a 0-d cpu tensor counts as a number)."""
    if not isinstance(src, Tensor):
        return
    if src._dtype is not x._dtype:
        raise RuntimeError(f"{fname}(): self ({x._dtype.name}) and {what} ({src._dtype.name}) must have the same "
                           f"dtype")
    check_device(x, src, fname, cpu_scalar_ok=True)


def _dim_positions(x_shape, strides, offset, dim, index: Tensor, fname, src=None):
    """Positions for gather/scatter: every coordinate from index's position, except
    ``dim``, which comes from index's values. A 0-d input, index or ``src`` counts as
    1-d of size 1 in the checks; the positions have the index's shape (1-d when it is
    0-d). An empty index names no position and is not checked at all (as in PyTorch)."""
    if not index.numel():
        return empty(index._shape, dtype=int64, device=index.device)
    nd = max(len(x_shape), 1)
    if max(index.dim(), 1) != nd:
        raise RuntimeError(f"{fname}(): Index tensor must have the same number of dimensions as input tensor")
    if src is not None and max(src.dim(), 1) != nd:
        raise RuntimeError(f"{fname}(): Index tensor must have the same number of dimensions as src tensor")
    if not x_shape:
        x_shape, strides = (1,), (0,)
    ishape = index._shape or (1,)
    for d in range(nd):
        if (d != dim and ishape[d] > x_shape[d]) or (src is not None and ishape[d] > (src._shape or (1,))[d]):
            raise RuntimeError(f"{fname}(): Size does not match at dimension {d}: expected index {list(index._shape)} "
                               f"to be no larger than the input {list(x_shape)} apart from dimension {dim}"
                               + (f" and no larger than src {list(src._shape)}" if src is not None else ""))
    n = x_shape[dim]
    idx = _wrapped(cast(index, int64).reshape(ishape), n, lambda bad: RuntimeError(
        f"{fname}(): index {bad} is out of bounds for dimension {dim} with size {n}"))
    pos = idx * strides[dim] + offset
    for d in range(nd):
        if d == dim:
            continue
        shape = [1] * nd
        shape[d] = ishape[d]
        pos = pos + arange(ishape[d], device=index.device).reshape(shape) * strides[d]
    return pos


class GatherBackward0(Node):
    """d gather(a, dim, idx) = zeros with g added at idx along dim"""
    __slots__ = ("shape", "dim")

    def backward(self, g):
        (index,) = self.saved_tensors
        return (scatter_add(zeros(self.shape, dtype=g._dtype, device=g.device), self.dim, index, g),)


@declare(method=True)
def gather(input, dim, index, *, sparse_grad=False) -> Tensor:
    """``out[i][j] = input[i][index[i][j]]`` for dim=1 (and likewise for other dims)."""
    d = check_dim(dim, input)
    _check_index(input, index, "gather", empty_ok=True)
    positions = _dim_positions(input._shape, input._strides, input._offset, d, index, "gather")
    r = _take_storage(input, positions.reshape(index._shape) if positions._shape != index._shape else positions)
    if STATE.enabled and input._requires_grad:
        node = GatherBackward0()
        node.shape, node.dim = input._shape, d
        node.save(index)
        record(node, (input,), r)
    return r


class ScatterBackward0(Node):
    """d scatter(a, dim, idx, src) = (g with idx cleared, g gathered at idx)"""
    __slots__ = ("dim", "accumulate")

    def backward(self, g):
        (index,) = self.saved_tensors
        ga = gs = None
        if self.next_functions[0][0] is not None:
            if self.accumulate:
                ga = g
            else:
                positions = _dim_positions(g._shape, contiguous_strides(g._shape), 0, self.dim, index, "scatter")
                ga = put(g, positions, 0.0 * take(g, positions), accumulate=False)
        if len(self.next_functions) > 1 and self.next_functions[1][0] is not None:
            gs = gather(g, self.dim, index)
        return (ga, gs) if len(self.next_functions) > 1 else (ga,)


class ScatterBackward1(ScatterBackward0):
    """d scatter(a, dim, idx, value) = g with idx cleared (value a number)"""


class ScatterAddBackward0(ScatterBackward0):
    """d scatter_add(a, dim, idx, src) = (g, g gathered at idx)"""


def _scatter(input, dim, index, src, accumulate, fname, node_cls):
    d = check_dim(dim, input)
    _check_same_dtype(input, src, fname, "src")
    _check_index(input, index, fname, empty_ok=True)
    r = input.detach().clone()
    tensor_src = isinstance(src, Tensor)
    positions = _dim_positions(r._shape, r._strides, 0, d, index, fname, src if tensor_src else None)
    values = src
    if tensor_src and positions.numel():
        values = src if src._shape else src.reshape(1)
        if values._shape != positions._shape:
            values = values[tuple(slice(0, n) for n in positions._shape)]
    _put_storage(r, positions, values, accumulate)
    if STATE.enabled and (input._requires_grad or (tensor_src and src._requires_grad)):
        node = node_cls()
        node.dim, node.accumulate = d, accumulate
        node.save(index)
        record(node, (input, src) if tensor_src else (input,), r)
    return r


@declare(method=True, inplace=True)
def scatter(input, dim, index, src=None, *, value=None, reduce=None) -> Tensor:
    """A copy of ``input`` with ``src`` (or ``value``) written at ``index`` along ``dim``."""
    if src is None:
        if value is None:
            raise TypeError("scatter(): expected a Tensor 'src' or a number 'value' to write, got neither")
        src = value
    if not isinstance(src, Tensor):
        src = as_operand(src, "scatter", "src")
    if reduce == "add":
        if not isinstance(src, Tensor):
            return _scatter(input, dim, index, src, True, "scatter", ScatterBackward1)
        return scatter_add(input, dim, index, src)
    if reduce is not None:
        raise RuntimeError(f"scatter(): reduce argument must be either add or multiply, got {reduce!r}; only "
                           f"'add' is supported here")
    return _scatter(input, dim, index, src, False, "scatter",
                    ScatterBackward0 if isinstance(src, Tensor) else ScatterBackward1)


@declare(method=True, inplace=True)
def scatter_add(input, dim, index, src) -> Tensor:
    """A copy of ``input`` with ``src`` added at ``index`` along ``dim`` (duplicates sum)."""
    check_tensor(src, "scatter_add", "src")
    return _scatter(input, dim, index, src, True, "scatter_add", ScatterAddBackward0)


class IndexSelectBackward0(Node):
    """d index_select(a, dim, idx) = zeros with g added at idx along dim"""
    __slots__ = ("shape", "dim")

    def backward(self, g):
        (index,) = self.saved_tensors
        return (index_add(_zeros(self.shape, g), self.dim, index, g),)


def _zeros(shape, like):
    return zeros(shape, dtype=like._dtype, device=like.device)


def _check_vector_index(index, fname: str, dtype_message: str) -> None:
    """index_select's and index_add's index: a 0-d or 1-d int32/int64 tensor."""
    check_tensor(index, fname, "index")
    if index.dim() > 1:
        raise IndexError(f"{fname}(): Index is supposed to be a vector, but got an index of {index.dim()} dims "
                         f"(shape {list(index._shape)})")
    if index._dtype is not int64 and index._dtype is not int32:
        raise RuntimeError(f"{fname}(): {dtype_message}, but got {type_name(index._dtype)}")


def _wrapped(idx: Tensor, n: int, refuse) -> Tensor:
    """int64 ``idx`` with negative values counted from the end of a size-``n`` dim, after
    raising ``refuse(value)`` for a value outside ``[-n, n)`` (each op words its own error)."""
    if idx.numel():
        with validating:   # a bounds check: plugrad.compile's replays skip it (plugrad.hostchecks)
            lo, hi = int(idx.min()), int(idx.max())
        if lo < -n or hi >= n:
            raise refuse(lo if lo < -n else hi)
        if lo < 0 or validating.capturing:   # a replay cannot know the sign: it always wraps
            idx = idx + (idx < 0) * n
    return idx


def _flat_out_of_range(bad: int, n: int) -> IndexError:
    """take's and put's error: an index past a tensor of ``n`` elements read as flat"""
    return IndexError(f"out of range: tried to access index {bad} on a tensor of {n} elements.")


def _check_in_range(idx: Tensor, n: int, d: int, fname: str) -> None:
    """Every value of ``idx`` must name one of the ``n`` slices along dim ``d``; unlike
    ``x[idx]``, index_select and index_add take no negative index (as PyTorch)."""
    if idx.numel():
        with validating:
            lo, hi = int(idx.min()), int(idx.max())
        if lo < 0 or hi >= n:
            raise IndexError(f"{fname}(): index {lo if lo < 0 else hi} is out of range for dimension {d} with size "
                             f"{n} (expected 0 <= index < {n})")


@declare(method=True)
def index_select(input, dim, index) -> Tensor:
    """The slices of ``input`` at ``index`` along ``dim``."""
    check_tensor(input, "index_select", "input")
    d = check_dim(dim, input)
    _check_vector_index(index, "index_select", "Expected dtype int32 or int64 for index")
    check_device(input, index, "index_select")
    idx = index.reshape(-1)
    if not input._shape:
        if idx.numel() != 1:
            raise RuntimeError(f"index_select(): a 0-d input has one element, so the index must hold one value; "
                               f"got {idx.numel()}")
        _check_in_range(idx, 1, d, "index_select")
    elif input._shape[d] == 0 and idx.numel() and input.dim() > 1:
        raise RuntimeError(f"index_select(): cannot select slices along dimension {d}, which has size 0")
    else:
        _check_in_range(idx, input._shape[d], d, "index_select")
    key = (slice(None),) * d + (idx,)
    with no_grad():
        r = getitem(input.detach(), key) if input.dim() else getitem(input.detach().reshape(1), key).reshape(())
    if STATE.enabled and input._requires_grad:
        node = IndexSelectBackward0()
        node.shape, node.dim = input._shape, d
        node.save(idx)
        record(node, (input,), r)
    return r


class IndexAddBackward0(Node):
    """d index_add(a, dim, idx, s) = (g, g selected at idx along dim)"""
    __slots__ = ("dim", "alpha")

    def backward(self, g):
        (index,) = self.saved_tensors
        gs = None
        if self.next_functions[1][0] is not None:
            gs = index_select(g, self.dim, index) * self.alpha
        return g, gs


@declare(method=True, inplace=True)
def index_add(input, dim, index, source, *, alpha=1) -> Tensor:
    """A copy of ``input`` with ``alpha * source`` added at ``index`` along ``dim``.

    ``alpha`` is first converted to ``input``'s dtype, as PyTorch does (1.5 adds
    ``source`` once to an integer tensor); like PyTorch, an input of 2+ dims converts it
    after checking the index values, and not at all when it or the index is empty.
    ``source`` has ``input``'s shape except along ``dim``, where it has one slice per
    index; a 0-d ``source`` goes with a 0-d ``input`` and one index."""
    check_tensor(input, "index_add", "input")
    d = check_dim(dim, input)
    _check_vector_index(index, "index_add", "Expected dtype int32/int64 for index")
    check_tensor(source, "index_add", "source")
    _check_same_dtype(input, source, "index_add")
    check_device(input, index, "index_add")
    if not isinstance(alpha, (int, float)):
        raise TypeError(f"index_add(): argument 'alpha' must be Number, not {type(alpha).__name__}")
    count = index.numel()
    if d >= max(source.dim(), 1):  # a 0-d source counts as one slice along dim 0, and only there
        raise RuntimeError(f"index_add(): dimension {d} is out of range for a source of {source.dim()} dims")
    if not source._shape:
        if count != 1:
            raise IndexError(f"index_add(): a 0-d source is one slice, so the index must hold one value; got "
                             f"{count}")
    elif source._shape[d] != count:
        raise RuntimeError(f"index_add(): the source has {source._shape[d]} slices along dimension {d}, but the "
                           f"index holds {count} values (one per slice)")
    rest_in, rest_src = input._shape, source._shape
    if input._shape and source._shape:
        rest_in, rest_src = rest_in[:d] + rest_in[d + 1:], rest_src[:d] + rest_src[d + 1:]
    if rest_in != rest_src:
        raise RuntimeError(f"index_add(): source shape {list(source._shape)} must match the input's shape "
                           f"{list(input._shape)} apart from dimension {d}")
    idx = cast(index.reshape(-1), int64)
    r = input.detach().clone()
    if input.dim() <= 1:
        alpha = input._dtype.checked_scalar(alpha)
        _check_in_range(idx, r._shape[d] if r._shape else 1, d, "index_add")
    elif input.numel() and count:  # else there is nothing to add: PyTorch reads neither index nor alpha
        _check_in_range(idx, r._shape[d], d, "index_add")
        alpha = input._dtype.checked_scalar(alpha)
    if input.dim() <= 1 or (input.numel() and count):
        src = source.detach() * alpha if alpha != 1 else source.detach()
        if r._shape:
            _, adv, _ = _basic_and_advanced(r, (slice(None),) * d + (idx,), python_key=False)
            positions, _ = _positions(r, adv, contiguous_strides(r._shape), 0)
        else:  # a 0-d input is its one element, named by index 0
            positions = idx * 0
            src = src.reshape(1)
        _put_storage(r, positions, src, True)
    if STATE.enabled and (input._requires_grad or source._requires_grad):
        node = IndexAddBackward0()
        node.dim, node.alpha = d, alpha
        node.save(idx)
        record(node, (input, source), r)
    return r
