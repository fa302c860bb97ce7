"""Index-driven copies built on the indexing ops: ``take_along_dim``,
``repeat_interleave``, ``index_copy``, ``index_fill``, ``masked_scatter`` and
``scatter_reduce``.

Each one is a composition of ``gather``/``index_select``/indexed assignment and the
elementwise ops, so every device runs it without a kernel of its own. Where PyTorch
records a node of its own (``IndexCopyBackward0``, ``IndexFillBackward0``,
``MaskedScatterBackward0``, ``ScatterReduceBackward0``), the op computes untracked and
records that node, whose backward is written with plugrad ops.
"""

from __future__ import annotations

from ..autograd.grad_mode import STATE, no_grad
from ..autograd.graph import Node, record
from ..creation import full, ones, tensor, zeros
from ..dtypes import bool_, int64
from ..layout import broadcast_shapes, check_size, contiguous_strides, normalize_dim, numel
from ..tensor import Tensor
from .checks import check_bool, check_device, check_dim, check_int, check_tensor, check_tensors, type_name
from .declare import declare, names_declared_in
from .dispatch import as_operand, write_out
from .elementwise import maximum, minimum, where
from .indexing import _dim_positions, gather, getitem, index_select, masked_fill, masked_select, put, setitem, take
from .reduction import cumprod
from .join import cat
from .views import contiguous, expand, reshape, unsqueeze

# ---- take_along_dim -----------------------------------------------------------------------------


@declare(method=True)
def take_along_dim(input, indices, dim=None, *, out=None) -> Tensor:
    """``input`` gathered at ``indices`` along ``dim``, the other dims broadcast between
    the two (NumPy's ``take_along_axis``); without ``dim``, from the flattened input."""
    check_tensors("take_along_dim", input=input, indices=indices)
    if indices._dtype is not int64:
        raise RuntimeError(f"torch.take_along_dim(): dtype of indices should be Long but got "
                           f"{type_name(indices._dtype)}")
    check_device(input, indices, "take_along_dim")
    if dim is None:
        r = gather(reshape(input, (-1,)), 0, reshape(indices, (-1,)))
        return r if out is None else write_out(out, r, "take_along_dim")
    d = check_dim(dim, input)
    if input.dim() != indices.dim():
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same number of dimensions, "
                           f"but got {input.dim()} dimensions for input, and {indices.dim()} dimensions for indices")
    if input.dim():
        rest = broadcast_shapes(input._shape[:d] + (1,) + input._shape[d + 1:],
                                indices._shape[:d] + (1,) + indices._shape[d + 1:])
        input = expand(input, rest[:d] + (input._shape[d],) + rest[d + 1:])
        indices = expand(indices, rest[:d] + (indices._shape[d],) + rest[d + 1:])
    r = gather(input, d, indices)
    return r if out is None else write_out(out, r, "take_along_dim")


# ---- repeat_interleave --------------------------------------------------------------------------


def _repeat_counts(repeats, fname):
    """A repeats tensor as a list of non-negative ints (a 1-d integer tensor)."""
    if repeats._dtype.is_floating_point or repeats._dtype is bool_:
        raise NotImplementedError(f"\"repeat_interleave_cpu\" not implemented for '{type_name(repeats._dtype)}'")
    if repeats.dim() > 1:
        raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
    counts = repeats.reshape(-1).tolist()
    if any(c < 0 for c in counts):
        raise RuntimeError("repeats can not be negative")
    check_size((sum(counts),), 8)    # the index of the repeated slices must be describable
    return counts


_COUNTS_ONLY = object()   # repeat_interleave(counts): no repeats argument at all (an explicit None is refused)


@declare(method=True)
def repeat_interleave(input, repeats=_COUNTS_ONLY, dim=None, *, output_size=None) -> Tensor:
    """Each element (each slice along ``dim``) repeated ``repeats`` times in place:
    ``[a, b]`` with 2 is ``[a, a, b, b]``; ``repeats`` may be a tensor of one count per
    slice. Without ``dim`` the input is flattened first. With only a tensor of counts,
    the indices ``0, 1, ...`` repeated by them."""
    check_tensor(input, "repeat_interleave", "input")
    if repeats is _COUNTS_ONLY:     # repeat_interleave(counts): the indices repeated
        if input.dim() != 1:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        counts = _repeat_counts(input, "repeat_interleave")
        index = [i for i, c in enumerate(counts) for _ in range(c)]
        _check_output_size(output_size, len(index))
        return tensor(index, dtype=input._dtype, device=input.device)
    if dim is None:
        input, d = reshape(input, (-1,)), 0
    else:
        if repeats is None:
            raise TypeError("repeat_interleave(): argument 'repeats' must be Tensor or int, not NoneType")
        if input.dim() == 0:    # PyTorch reads the dim of the 0-d input itself: none exists
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        d = normalize_dim(check_int(dim, "repeat_interleave", "dim"), input.dim())
    n = input._shape[d]
    if isinstance(repeats, Tensor):
        check_device(input, repeats, "repeat_interleave")
        counts = _repeat_counts(repeats, "repeat_interleave")
        if len(counts) == 1:
            counts = counts * n
        elif len(counts) != n:
            raise RuntimeError(f"repeats must have the same size as input along dim, but got repeats.size(0) = "
                               f"{len(counts)} and input.size({d}) = {n}")
        index = [i for i, c in enumerate(counts) for _ in range(c)]
        _check_output_size(output_size, len(index))
        return index_select(input, d, tensor(index, dtype=int64, device=input.device))
    if isinstance(repeats, (bool, float)) or not hasattr(repeats, "__index__"):
        raise TypeError(f"repeat_interleave(): argument 'repeats' must be Tensor or int, not {type(repeats).__name__}")
    k = repeats.__index__()
    if k < 0:
        raise RuntimeError("Repeats must be non-negative")
    _check_output_size(output_size, n * k)
    shape = input._shape
    spread = expand(unsqueeze(input, d + 1), shape[:d + 1] + (k,) + shape[d + 1:])
    return reshape(contiguous(spread), shape[:d] + (n * k,) + shape[d + 1:])


def _check_output_size(output_size, size):
    if output_size is not None and check_int(output_size, "repeat_interleave", "output_size") != size:
        raise RuntimeError(f"repeat_interleave: Invalid output_size, expected {size} but got {output_size}")


# ---- index_copy / index_fill ------------------------------------------------------------------------


def _slice_index(input, dim, index, fname, dtype_error, negative_ok):
    """``(d, idx)``: the dim and the 1-d int64 index of index_copy and index_fill, each value
    checked to name a slice (index_fill counts negative values from the end, index_copy
    refuses them, as PyTorch)."""
    check_tensor(index, fname, "index")
    d = check_dim(dim, input)
    if index._dtype is not int64:
        raise dtype_error(index)
    check_device(input, index, fname)
    if index.dim() > 1:
        raise IndexError(f"{fname}(): Index should have dimension 1 or 0 (got {index.dim()})")
    idx = reshape(index, (-1,))
    n = input._shape[d] if input.dim() else 1
    if idx.numel():
        lo, hi = int(idx.min()), int(idx.max())
        if lo < (-n if negative_ok else 0) or hi >= n:
            if not input.numel():   # PyTorch fails on the empty storage first
                raise RuntimeError(f"{fname}(): cannot write slices of dimension {d} of an empty tensor (shape "
                                   f"{list(input._shape)}): the storage holds no element")
            raise IndexError(f"{fname}(): index {lo if lo < 0 else hi} is out of bounds for dimension {d} with size "
                             f"{n}")
        if lo < 0:
            idx = idx + (idx < 0) * n
    return d, idx


def _key(d, idx):
    return (slice(None),) * d + (idx,)


class IndexCopyBackward0(Node):
    """d index_copy(a, dim, idx, s) = (g with the copied slices cleared, g at idx)"""
    __slots__ = ("dim",)

    def backward(self, g):
        (idx,) = self.saved_tensors
        needs = [e[0] is not None for e in self.next_functions]
        return (index_fill(g, self.dim, idx, 0) if needs[0] else None,
                index_select(g, self.dim, idx) if needs[1] else None)


@declare(method=True, inplace=True)
def index_copy(input, dim, index, source, *, out=None) -> Tensor:
    """A copy of ``input`` whose slices at ``index`` along ``dim`` are ``source``'s slices,
    in order."""
    check_tensors("index_copy", input=input, index=index, source=source)
    if index._dtype is not int64:
        raise RuntimeError(f"index_copy_(): Expected a long tensor for index, but got {type_name(index._dtype)}")
    if index.dim() > 1:
        raise IndexError(f"index_copy_(): Index should have dimension 1 or 0 (got {index.dim()})")
    d = check_dim(dim, input)
    if input.dim() and source.dim() and input.dim() != source.dim():
        raise IndexError(f"index_copy_(): When source and destination are not scalars, their dimensionality must "
                         f"match. Source dimensionality ({source.dim()}), destination dimensionality "
                         f"({input.dim()})")
    if source._dtype is not input._dtype:
        raise RuntimeError(f"index_copy_(): self and source expected to have the same dtype, but got (self) "
                           f"{type_name(input._dtype)} and (source) {type_name(source._dtype)}")
    check_device(input, source, "index_copy")
    count = source._shape[d] if source.dim() else 1
    if index.numel() != count:
        raise IndexError(f"index_copy_(): Number of indices ({index.numel()}) should be equal to source.size(dim) "
                         f"({count})")
    expected = input._shape[:d] + (count,) + input._shape[d + 1:] if input.dim() else ()
    if source.dim() and source._shape != expected:
        raise RuntimeError(f"index_copy_(): Source/destination tensor must have same slice shapes. Destination "
                           f"slice shape: {list(expected)} at dimension {d} and source slice shape: "
                           f"{list(source._shape)} at dimension {d}.")
    d, idx = _slice_index(input, dim, index, "index_copy_", None, False)
    with no_grad():
        r = input.detach().clone()
        if input.dim():
            setitem(r, _key(d, idx), source.detach())
        elif idx.numel():
            r.copy_(source.detach().reshape(()))
    if STATE.enabled and (input._requires_grad or source._requires_grad):
        node = IndexCopyBackward0()
        node.dim = d
        node.save(idx)
        record(node, (input, source), r)
    return r if out is None else write_out(out, r, "index_copy")


class IndexFillBackward0(Node):
    """d index_fill(a, dim, idx, number) = g with the filled slices cleared"""
    __slots__ = ("dim",)

    def backward(self, g):
        (idx,) = self.saved_tensors
        return (index_fill(g, self.dim, idx, 0),)


class IndexFillBackward1(Node):
    """d index_fill(a, dim, idx, v) for a 0-d tensor v = (g with the slices cleared, their sum)"""
    __slots__ = ("dim",)

    def backward(self, g):
        (idx,) = self.saved_tensors
        needs = [e[0] is not None for e in self.next_functions]
        gv = None
        if needs[1]:
            gv = (index_select(g, self.dim, idx) if g.dim() else g * (idx.numel() > 0)).sum()
        return (index_fill(g, self.dim, idx, 0) if needs[0] else None, gv)


@declare(method=True, inplace=True)
def index_fill(input, dim, index, value) -> Tensor:
    """A copy of ``input`` whose slices at ``index`` along ``dim`` hold ``value`` (a number
    or a 0-d tensor; converted to the input's dtype as PyTorch converts it)."""
    check_tensor(input, "index_fill", "input")
    check_tensor(index, "index_fill", "index")
    if index.dim() > 1:
        raise RuntimeError("Index has to be a vector/scalar")
    d, idx = _slice_index(input, dim, index, "index_fill_",
                          lambda i: IndexError("index_fill_(): Expected dtype int64 for index."), True)
    tensor_value = isinstance(value, Tensor)
    if tensor_value:
        if value.dim():
            raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value.dim()} dimension(s).")
        number = value.item()
    else:
        number = as_operand(value, "index_fill", "value")
    number = _converted(number, input._dtype)
    with no_grad():
        r = input.detach().clone()
        if idx.numel():
            if input.dim():
                setitem(r, _key(d, idx), number)
            else:
                r.fill_(number)
    if STATE.enabled and (input._requires_grad or (tensor_value and value._requires_grad)):
        node = IndexFillBackward1() if tensor_value else IndexFillBackward0()
        node.dim = d
        node.save(idx)
        record(node, (input, value) if tensor_value else (input,), r)
    return r


def _converted(number, dtype):
    """A number as a kernel writes it into ``dtype``: truncated for integers, a truth
    value for bool."""
    if dtype is bool_:
        return bool(number)
    if not dtype.is_floating_point:
        return int(number)
    return float(number)


# ---- masked_scatter -------------------------------------------------------------------------------


class MaskedScatterBackward0(Node):
    """d masked_scatter(a, m, s) = (g where not m, g at m spread over s's first elements)"""
    __slots__ = ("source_shape",)

    def backward(self, g):
        (mask,) = self.saved_tensors
        needs = [e[0] is not None for e in self.next_functions]
        ga = masked_fill(g, mask, 0) if needs[0] else None
        gs = None
        if needs[1]:
            picked = masked_select(g, mask)
            rest = zeros(numel(self.source_shape) - picked.numel(), dtype=g._dtype, device=g.device)
            gs = cat([picked, rest]).reshape(self.source_shape)
        return ga, gs


@declare(method=True, inplace=True)
def masked_scatter(input, mask, source) -> Tensor:
    """A copy of ``input`` whose elements where ``mask`` is True take ``source``'s
    elements, in order (``mask`` broadcasts to ``input``'s shape)."""
    check_tensors("masked_scatter", input=input, mask=mask, source=source)
    if mask._dtype is not bool_:
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with dtype "
                           f"{type_name(mask._dtype)}")
    if source._dtype is not input._dtype:
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes but got "
                           f"{type_name(input._dtype)} and {type_name(source._dtype)}")
    check_device(input, mask, "masked_scatter")
    check_device(input, source, "masked_scatter")
    shape = broadcast_shapes(input._shape, mask._shape)     # both broadcast (in place: to the input's shape)
    m = expand(mask, shape)
    count = int(m.sum()) if m.numel() else 0
    if count > source.numel():
        raise RuntimeError("Number of elements of source < number of ones in mask")
    with no_grad():
        r = expand(input.detach(), shape).clone()
        if count:
            setitem(r, m, getitem(reshape(source.detach(), (-1,)), slice(0, count)))
    if STATE.enabled and (input._requires_grad or source._requires_grad):
        node = MaskedScatterBackward0()
        node.source_shape = source._shape
        node.save(m)
        record(node, (input, source), r)
    return r


# ---- scatter_reduce ---------------------------------------------------------------------------------

_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


class _Rows:
    """Where each scattered element sits when the elements are grouped by target: the
    distinct target positions (flat, in ``input``'s row-major order), and for each
    element its slot in a ``(targets, longest group)`` matrix. Built on the host from the
    positions (one pass), so that each reduction is a reduction along one dim of that
    matrix: no scatter kernel of its own is needed."""

    def __init__(self, positions, device):
        slot_of, counts, order, first = {}, [], [], []
        for i, p in enumerate(positions.reshape(-1).tolist()):
            s = slot_of.setdefault(p, len(slot_of))
            if s == len(counts):
                counts.append(0)
                first.append(i)
            order.append((s, counts[s]))
            counts[s] += 1
        self.n, self.width = len(slot_of), max(counts, default=0)
        self.targets = tensor(list(slot_of), dtype=int64, device=device)
        self.first = tensor(first, dtype=int64, device=device)
        self.slots = tensor([s * self.width + k for s, k in order], dtype=int64, device=device)

    def matrix(self, values, pad):
        """``values`` (1-d, one per scattered element) laid out by target; the rest of each
        row is ``pad``, or (``pad=None``, neutral for max and min) the row's first value."""
        if pad is None:
            first = take(values, self.first).reshape(self.n, 1)
            base = expand(first, (self.n, self.width)).reshape(-1)
        else:
            base = full((self.n * self.width,), pad, dtype=values._dtype, device=values.device)
        return put(base, self.slots, values).reshape(self.n, self.width)


def _reduce_rows(kind, m):
    if kind in ("sum", "mean"):
        return m.sum(1, dtype=m._dtype)
    if kind == "prod":
        return m.prod(1, dtype=m._dtype)
    return m.amax(1) if kind == "amax" else m.amin(1)


def _combine(kind, a, b):
    if kind in ("sum", "mean"):
        return a + b
    if kind == "prod":
        return a * b
    return maximum(a, b) if kind == "amax" else minimum(a, b)


def _pads(kind):
    return {"sum": 0, "mean": 0, "prod": 1}.get(kind)


class ScatterReduceBackward0(Node):
    """d scatter_reduce(a, dim, idx, s, reduce), PyTorch's formulas: sum passes g through
    (minus the replaced part without include_self); mean divides it by the counts;
    amax/amin share it evenly among the elements equal to the result; prod multiplies it
    by the product of the other elements of each group (exclusive running products, so
    zeros are exact)."""
    __slots__ = ("reduce", "include_self", "rows", "shape", "src_shape")

    def backward(self, g):
        x, src, result, positions, touched, counts = self.saved_tensors
        kind, keep = self.reduce, self.include_self
        src = src.reshape(-1)
        gf = g.reshape(-1)
        xf, rf = x.reshape(-1), result.reshape(-1)
        pos = positions.reshape(-1)
        if kind == "sum":
            g_self = gf if keep else gf * ~touched
            g_src = take(gf, pos)
        elif kind == "mean":
            scaled = gf / counts
            g_self = scaled if keep else gf * ~touched
            g_src = take(scaled, pos)
        elif kind in ("amax", "amin"):
            # as PyTorch: the input's element counts among the ties even when it is not
            # included (its share is then dropped)
            src_eq = src == take(rf, pos)
            self_eq = xf == rf
            n_eq = put(self_eq.to(g._dtype), pos, src_eq.to(g._dtype), accumulate=True)
            share = gf / n_eq
            g_self = share * (self_eq if keep else self_eq & ~touched)
            g_src = take(share, pos) * src_eq
        else:
            rows = self.rows
            m = rows.matrix(src, 1)
            ones_col = ones((rows.n, 1), dtype=m._dtype, device=m.device)
            left = cat([ones_col, cumprod(m, 1)[:, :-1]], 1)
            right = cat([ones_col, cumprod(m.flip(1), 1)[:, :-1]], 1).flip(1)
            others = take((left * right).reshape(-1), rows.slots)
            if keep:
                others = others * take(xf, pos)
            group = put(ones(xf._shape, dtype=m._dtype, device=m.device), rows.targets, m.prod(1))
            g_self = where(touched, gf * group * keep, gf)
            g_src = take(gf, pos) * others
        needs = [e[0] is not None for e in self.next_functions]
        return (g_self.reshape(self.shape) if needs[0] else None,
                _padded(g_src.reshape(positions._shape), self.src_shape) if needs[1] else None)


def _padded(part, shape):
    """``part`` (the leading corner that the index read) with zeros after it up to ``shape``."""
    if not shape:
        return part.reshape(())
    for k, n in enumerate(shape):
        if part._shape[k] != n:
            rest = part._shape[:k] + (n - part._shape[k],) + part._shape[k + 1:]
            part = cat([part, zeros(rest, dtype=part._dtype, device=part.device)], k)
    return part


@declare(method=True, inplace=True)
def scatter_reduce(input, dim, index, src, reduce, *, include_self=True, out=None) -> Tensor:
    """A copy of ``input`` where the ``src`` elements scattered to each position along
    ``dim`` (by ``index``) are reduced with ``reduce`` ("sum", "prod", "mean", "amax",
    "amin") together with the input's value there (unless ``include_self=False``);
    positions no index names keep the input's value. Integer means round down."""
    check_tensors("scatter_reduce", input=input, index=index, src=src)
    if not isinstance(reduce, str):
        raise TypeError(f"scatter_reduce(): argument 'reduce' (position 5) must be str, not {type(reduce).__name__}")
    if reduce not in _REDUCTIONS:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    check_bool(include_self, "scatter_reduce", "include_self")
    if src._dtype is not input._dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    if index._dtype.is_floating_point or index._dtype is bool_:
        raise RuntimeError(f"scatter(): Expected dtype int64 for index, but got {type_name(index._dtype)}")
    if reduce == "mean" and input._dtype is bool_:
        raise NotImplementedError("\"scatter_gather_tensor_cpu_reduce_mean\" not implemented for 'Bool'")
    check_device(input, index, "scatter_reduce")
    check_device(input, src, "scatter_reduce")
    d = check_dim(dim, input)
    shape = input._shape
    positions = _dim_positions(shape, contiguous_strides(shape), 0, d, index, "scatter_reduce", src)
    vals = _src_part(src.detach(), positions)
    work = int64 if input._dtype is bool_ else input._dtype
    with no_grad():
        xf = input.detach().reshape(-1).to(work)
        vals = vals.reshape(-1).to(work)
        rows = _Rows(positions, input.device)
        touched = put(zeros(xf._shape, dtype=bool_, device=input.device), rows.targets,
                      ones(rows.n, dtype=bool_, device=input.device))
        counts = put(ones(xf._shape, dtype=work, device=input.device) * include_self, positions.reshape(-1),
                     ones(vals._shape, dtype=work, device=input.device), accumulate=True)
        counts = where(touched, counts, ones((), dtype=work, device=input.device))
        r = xf
        if rows.n:
            reduced = _reduce_rows(reduce, rows.matrix(vals, _pads(reduce)))
            if include_self:
                reduced = _combine(reduce, take(xf, rows.targets), reduced)
            r = put(xf, rows.targets, reduced)
            if reduce == "mean":
                r = where(touched, r // counts if not work.is_floating_point else r / counts, r)
        r = (r != 0 if input._dtype is bool_ else r).reshape(shape)
    if STATE.enabled and (input._requires_grad or src._requires_grad):
        node = ScatterReduceBackward0()
        node.reduce, node.include_self, node.rows, node.shape = reduce, include_self, rows, shape
        node.src_shape = src._shape
        node.save(input, vals.reshape(positions._shape) if not src._requires_grad else
                  _src_part(src, positions), r, positions, touched, counts)
        record(node, (input, src), r)
    return r if out is None else write_out(out, r, "scatter_reduce")


def _src_part(src, positions):
    """The part of ``src`` that the index reads (its leading corner), tracked."""
    if not positions.numel():
        return src.reshape(-1)[:0].reshape(positions._shape)
    part = src if src._shape else src.reshape(1)
    if part._shape != positions._shape:
        part = getitem(part, tuple(slice(0, n) for n in positions._shape))
    return part


__all__ = names_declared_in(__name__)
