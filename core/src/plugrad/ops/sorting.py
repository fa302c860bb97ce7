"""Sorting and the ops built on it: sort, argsort, msort, topk, kthvalue, median,
nanmedian, mode, quantile, nanquantile, unique, unique_consecutive; and the ops that
place values among sorted ones or count them: searchsorted, bucketize, bincount, histc.

Sorting itself is the device's optional kernel ``Backend.sort`` (a sort on the host by
default, NumPy's on cpu); every other op here composes it with the primitives, so
every device has them. The sort is stable in both directions, as PyTorch's CPU sort:
equal elements keep their order, which fixes which index ``topk``, ``kthvalue`` and
``median`` report among ties, and NaN is larger than every number. A value picked out
of the input carries its gradient back to the element it came from.
"""

from __future__ import annotations

import math

from ..autograd.grad_mode import STATE, no_grad
from ..autograd.graph import Node, record
from ..creation import arange, full, zeros
from ..dtypes import bool_, float32, float64, get_default_dtype, int32, int64, promote_types
from ..layout import numel
from ..optable import ops
from ..tensor import Tensor, make
from .checks import check_bool, check_dim, check_int, check_tensor, type_name
from .declare import declare, names_declared_in
from .dispatch import ALL_DIMS, cast, write_out
from .reduction import _values_indices_type

__all__ = names_declared_in(__name__)

_RESULTS = {name: _values_indices_type(name)
            for name in ("sort", "topk", "kthvalue", "median", "nanmedian", "mode")}


# ---- the kernel call ------------------------------------------------------------------

def sort_raw(x: Tensor, d: int, descending: bool, stable: bool = True):
    """``(values, indices)`` of ``x`` sorted along ``d`` (negative counts from the end),
    untracked (new contiguous tensors)."""
    backend = x._backend
    shape = x._shape
    values = make(backend, backend.empty(shape, x._dtype), shape, x._dtype)
    indices = make(backend, backend.empty(shape, int64), shape, int64)
    if not shape:
        backend.copy(x._a, values._a)
        backend.fill(indices._a, 0)
    elif numel(shape):
        backend.sort(x._a, shape, x._dtype, d % len(shape), descending, stable, values._a, indices._a)
    return values, indices


def _result(name, values, indices, out):
    """The ``(values, indices)`` named tuple, written into ``out`` when given."""
    if out is not None:
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise TypeError(f"{name}(): argument 'out' must be a tuple of two tensors (values, indices)")
        write_out(out[0], values, name)
        write_out(out[1], indices, name)
        return _RESULTS[name](out[0], out[1])
    return _RESULTS[name](values, indices)


# ---- gradients ------------------------------------------------------------------------------

class SortBackward0(Node):
    """d sort(a) = g scattered back to the position each value came from"""
    __slots__ = ("shape", "dim", "keepdim")

    def backward(self, g):
        (indices,) = self.saved_tensors
        if not self.shape:
            return (g.reshape(()),)
        if not self.keepdim:
            g = g.unsqueeze(self.dim)
            indices = indices.unsqueeze(self.dim)
        return (ops.scatter(zeros(self.shape, dtype=g._dtype, device=g.device), self.dim, indices, g),)


class SortBackward1(SortBackward0):
    """d sort(a, stable=...) = g scattered back to the position each value came from"""


class TopkBackward0(SortBackward0):
    """d topk(a) = g at the positions of the k values, 0 elsewhere"""


class KthvalueBackward0(SortBackward0):
    """d kthvalue(a) = g at the position of the k-th value, 0 elsewhere"""


class MedianBackward1(SortBackward0):
    """d median(a, dim) = g at the position of the median, 0 elsewhere"""


class NanmedianBackward1(SortBackward0):
    """d nanmedian(a, dim) = g at the position of the median, 0 elsewhere"""


class ModeBackward0(SortBackward0):
    """d mode(a, dim) = g at the reported position of the mode, 0 elsewhere"""


class MedianBackward0(Node):
    """d median(a) = g shared equally among the elements equal to the median (the NaNs when it is NaN)"""

    def backward(self, g):
        x, result = self.saved_tensors
        mask = ops.isnan(x) if bool(ops.isnan(result)) else x == result
        return (ops.where(mask, g / ops.sum(mask), 0.0),)


class NanmedianBackward0(MedianBackward0):
    """d nanmedian(a) = g shared equally among the elements equal to the median"""


def _record_selection(node_cls, input, values, indices, d, keepdim):
    if STATE.enabled and input._requires_grad:
        node = node_cls()
        node.shape, node.dim, node.keepdim = input._shape, d, keepdim
        node.save(indices)
        record(node, (input,), values)


# ---- sort, argsort, msort ------------------------------------------------------------------

def _sort_args(fname, input, dim, descending):
    check_tensor(input, fname, "input")
    d = check_dim(check_int(dim, fname, "dim"), input)
    check_bool(descending, fname, "descending")
    return d


class _NotGiven:
    """The default of ``sort``'s ``stable``: PyTorch records ``SortBackward1`` when it is given,
    even as None."""

    def __repr__(self):
        return "<not given>"


_NOT_GIVEN = _NotGiven()


@declare(method=True)
def sort(input, dim=-1, descending=False, *, stable=_NOT_GIVEN, out=None):
    """``(values, indices)``: ``input`` sorted along ``dim``; equal elements keep their order
    (the sort is always stable)."""
    d = _sort_args("sort", input, dim, descending)
    given = stable is not _NOT_GIVEN
    if given and stable is not None:
        check_bool(stable, "sort", "stable")
    values, indices = sort_raw(input, d, descending, True)
    _record_selection(SortBackward1 if given else SortBackward0, input, values, indices, d, True)
    return _result("sort", values, indices, out)


@declare(method=True)
def argsort(input, dim=-1, descending=False, stable=False) -> Tensor:
    """The indices that sort ``input`` along ``dim`` (``sort(...).indices``)."""
    d = _sort_args("argsort", input, dim, descending)
    check_bool(stable, "argsort", "stable")
    return sort_raw(input, d, descending, True)[1]


@declare(method=True)
def msort(input, *, out=None) -> Tensor:
    """``input`` sorted along its first dim (``sort(input, 0).values``)."""
    values = sort(input, 0).values
    return values if out is None else write_out(out, values, "msort")


# ---- topk, kthvalue -----------------------------------------------------------------------------

def _pick(values, indices, d, start, length, keepdim=True):
    """Positions ``start..start+length`` of sorted ``values``/``indices`` along ``d``, as new tensors."""
    if not values._shape:
        return values, indices
    v = values.narrow(d, start, length)
    i = indices.narrow(d, start, length)
    if not keepdim:
        v, i = v.squeeze(d), i.squeeze(d)
    return v.clone(), i.clone()


@declare(method=True)
def topk(input, k, dim=-1, largest=True, sorted=True, *, out=None):
    """``(values, indices)`` of the ``k`` largest (``largest=False``: smallest) elements along
    ``dim``, in sorted order; among equal elements, the first ones."""
    check_tensor(input, "topk", "input")
    k = check_int(k, "topk", "k")
    d = check_dim(check_int(dim, "topk", "dim"), input)
    check_bool(largest, "topk", "largest")
    check_bool(sorted, "topk", "sorted")
    if input._dtype is bool_:
        raise RuntimeError("topk does not support bool dtypes on CPU")
    n = input._shape[d] if input._shape else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"selected index k out of range: k={k} for a dim of size {n}")
    values, indices = sort_raw(input, d, largest)
    values, indices = _pick(values, indices, d, 0, k)
    _record_selection(TopkBackward0, input, values, indices, d, True)
    return _result("topk", values, indices, out)


@declare(method=True)
def kthvalue(input, k, dim=-1, keepdim=False, *, out=None):
    """``(values, indices)`` of the ``k``-th smallest element along ``dim`` (1-based)."""
    check_tensor(input, "kthvalue", "input")
    k = check_int(k, "kthvalue", "k")
    d = check_dim(check_int(dim, "kthvalue", "dim"), input)
    check_bool(keepdim, "kthvalue", "keepdim")
    _refuse_bool(input, "kthvalue_cpu")
    n = input._shape[d] if input._shape else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    values, indices = sort_raw(input, d, False)
    values, indices = _pick(values, indices, d, k - 1, 1, keepdim)
    _record_selection(KthvalueBackward0, input, values, indices, d, keepdim)
    return _result("kthvalue", values, indices, out)


# ---- median, nanmedian, mode -----------------------------------------------------------------

def _nan_count(sorted_values, d):
    """NaNs per lane along ``d`` (keepdim), or None for a dtype without NaN."""
    if not sorted_values._dtype.is_floating_point:
        return None
    return ops.sum(ops.isnan(sorted_values), d, keepdim=True)


def _median_position(sorted_values, d, n, ignore_nan):
    """The position along ``d`` of the (lower) median in each sorted lane (keepdim, int64).
    A lane with NaN: median's result is its first NaN; nanmedian's the median of the rest."""
    shape = list(sorted_values._shape)
    shape[d] = 1
    nans = _nan_count(sorted_values, d)
    middle = full(shape, (n - 1) // 2, dtype=int64, device=sorted_values.device)
    if nans is None:
        return middle
    if ignore_nan:
        valid = n - nans
        return ops.where(valid > 0, ops.floor_divide(valid - 1, 2), 0)
    return ops.where(nans > 0, n - nans, middle)


def _refuse_bool(input, kernel):
    """PyTorch has no selection kernel for bool tensors."""
    if input._dtype is bool_:
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")


def _median_all(fname, node_cls, input):
    _refuse_bool(input, "median_cpu")
    flat = input.reshape(-1)
    n = numel(input._shape)
    with no_grad():
        if n == 0:
            r = full((), float("nan"), dtype=input._dtype, device=input.device)
        else:
            values, _ = sort_raw(flat, 0, False)
            r = ops.gather(values, 0, _median_position(values, 0, n, fname == "nanmedian")).reshape(())
    if STATE.enabled and input._requires_grad:
        node = node_cls()
        node.save(input, r.detach())
        record(node, (input,), r)
    return r


def _median_dim(fname, node_cls, input, dim, keepdim, out):
    _refuse_bool(input, "median_out")
    d = check_dim(check_int(dim, fname, "dim"), input)
    check_bool(keepdim, fname, "keepdim")
    if not input._shape:
        values, indices = sort_raw(input, 0, False)
    else:
        n = input._shape[d]
        if n == 0:
            raise IndexError(f"{fname}(): Expected reduction dim {d} to have non-zero size.")
        with no_grad():
            s, p = sort_raw(input, d, False)
            pos = _median_position(s, d, n, fname == "nanmedian")
            values, indices = ops.gather(s, d, pos), ops.gather(p, d, pos)
            if not keepdim:
                values, indices = values.squeeze(d), indices.squeeze(d)
    _record_selection(node_cls, input, values, indices, d, keepdim)
    return _result(fname, values, indices, out)


@declare(method=True)
def median(input, dim=ALL_DIMS, keepdim=False, *, out=None):
    """The lower median (of every element; with ``dim``, ``(values, indices)`` along it).
    NaN when there is a NaN."""
    check_tensor(input, "median", "input")
    if dim is ALL_DIMS:
        r = _median_all("median", MedianBackward0, input)
        return r if out is None else write_out(out, r, "median")
    return _median_dim("median", MedianBackward1, input, dim, keepdim, out)


@declare(method=True)
def nanmedian(input, dim=ALL_DIMS, keepdim=False, *, out=None):
    """``median`` ignoring NaN (NaN only where every element is NaN)."""
    check_tensor(input, "nanmedian", "input")
    if dim is ALL_DIMS:
        r = _median_all("nanmedian", NanmedianBackward0, input)
        return r if out is None else write_out(out, r, "nanmedian")
    return _median_dim("nanmedian", NanmedianBackward1, input, dim, keepdim, out)


@declare(method=True)
def mode(input, dim=-1, keepdim=False, *, out=None):
    """``(values, indices)``: the most frequent value along ``dim`` (the smallest among equally
    frequent ones) and the index of its last occurrence, as PyTorch reports it."""
    check_tensor(input, "mode", "input")
    d = check_dim(check_int(dim, "mode", "dim"), input)
    check_bool(keepdim, "mode", "keepdim")
    if not input._shape:
        values, indices = sort_raw(input, 0, False)
    else:
        n = input._shape[d]
        if n == 0:
            raise IndexError(f"mode(): Expected reduction dim {d} to have non-zero size.")
        with no_grad():
            s, p = sort_raw(input, d, False)
            first = ops.ones_like(s.narrow(d, 0, 1), dtype=bool_)
            starts = ops.cat([first, s.narrow(d, 1, n - 1) != s.narrow(d, 0, n - 1)], d)
            run = ops.cumsum(starts, d) - 1                                # each element's run of equal values
            run_length = ops.scatter_add(zeros(s._shape, dtype=int64, device=s.device), d, run,
                                         ops.ones_like(run))
            count = ops.gather(run_length, d, run)                        # the length of each element's run
            begin = ops.argmax(count, d, keepdim=True)                    # first element of the smallest mode
            last = begin + ops.gather(count, d, begin) - 1
            values, indices = ops.gather(s, d, begin), ops.gather(p, d, last)
            if not keepdim:
                values, indices = values.squeeze(d), indices.squeeze(d)
    _record_selection(ModeBackward0, input, values, indices, d, keepdim)
    return _result("mode", values, indices, out)


# ---- quantile ------------------------------------------------------------------------------------

_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(fname, input, q, dim, keepdim, interpolation, out):
    check_tensor(input, fname, "input")
    check_bool(keepdim, fname, "keepdim")
    if not input._dtype.is_floating_point or input._dtype.itemsize < 4:
        raise RuntimeError(f"{fname}() input tensor must be either float or double dtype")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"{fname}() interpolation must be one of linear, lower, higher, midpoint or nearest. "
                           f"Got {interpolation}")
    scalar_q = not isinstance(q, Tensor)
    if scalar_q:
        if isinstance(q, bool) or not isinstance(q, (int, float)):
            raise TypeError(f"{fname}(): argument 'q' must be a float or a Tensor, not {type(q).__name__}")
        if not 0 <= q <= 1:
            raise RuntimeError(f"{fname}() q must be in the range [0, 1] but got {q}")
        qs = full((1,), float(q), dtype=input._dtype, device=input.device)
    else:
        if q.dim() > 1:
            raise RuntimeError(f"{fname}() q must be a scalar or 1D tensor")
        if q._dtype is not input._dtype:
            raise RuntimeError(f"{fname}() q tensor must be same dtype as the input tensor")
        if q.device != input.device:
            raise RuntimeError(f"{fname}() q tensor must be on the same device as the input tensor")
        qs = q.detach().reshape(-1)
        if numel(qs._shape) and not bool(ops.logical_and(qs >= 0, qs <= 1).all()):
            raise RuntimeError(f"{fname}() q values must be in the range [0, 1]")
    # the lanes: every element (dim None) or the lanes along dim, moved last
    if dim is None:
        lanes = input.reshape(-1)
        kept = [1] * input.dim() if keepdim else []
    else:
        d = check_dim(check_int(dim, fname, "dim"), input)
        lanes = input.movedim(d, -1) if input._shape else input.reshape(1)
        kept = list(input._shape)
        if kept:
            if keepdim:
                kept[d] = 1
            else:
                del kept[d]
    if numel(input._shape) == 0:
        raise RuntimeError(f"{fname}() input tensor must be non-empty")
    n = lanes._shape[-1]
    nq = qs._shape[0]
    values = sort(lanes, -1).values                         # tracked: the gradient goes through the sort
    with no_grad():
        nans = _nan_count(values.detach(), -1)          # (..., 1)
        count = n - nans if fname == "nanquantile" else full(nans._shape, n, dtype=int64, device=nans.device)
        last = (count - 1).clamp(min=0).to(input._dtype)
        ranks = qs * last                               # (..., nq)
        if fname == "quantile":
            ranks = ops.where(nans > 0, float(n - 1), ranks)
        if interpolation == "lower":
            ranks = ops.floor(ranks)
        elif interpolation == "higher":
            ranks = ops.ceil(ranks)
        elif interpolation == "nearest":
            ranks = ops.round(ranks)
        below = ops.floor(ranks).to(int64)
        above = ops.ceil(ranks).to(int64)
        weights = ranks - below.to(input._dtype)
        if interpolation == "midpoint":
            weights = ops.full_like(weights, 0.5)
    if interpolation in ("linear", "midpoint"):
        r = ops.lerp(ops.gather(values, -1, below), ops.gather(values, -1, above), weights)
    else:
        r = ops.gather(values, -1, below)
    r = r.movedim(-1, 0).reshape([nq, *kept])           # (nq, reduced shape...)
    if scalar_q or not q._shape:
        r = r.squeeze(0)
    if r._requires_grad:
        r = r.unsqueeze(-1)
        r.squeeze_(-1)     # PyTorch's quantile ends with an in-place squeeze: its grad_fn is SqueezeBackward4
    return r if out is None else write_out(out, r, fname)


@declare(method=True)
def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None) -> Tensor:
    """The ``q``-th quantiles along ``dim`` (of every element when None); a 1-d ``q`` adds a
    leading dim. Between two elements, ``interpolation`` says which value to take. NaN
    where a lane has a NaN."""
    return _quantile("quantile", input, q, dim, keepdim, interpolation, out)


@declare(method=True)
def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None) -> Tensor:
    """``quantile`` ignoring NaN (NaN only where a lane is all NaN)."""
    return _quantile("nanquantile", input, q, dim, keepdim, interpolation, out)


# ---- unique ---------------------------------------------------------------------------------------

def _lexsort_rows(rows: Tensor) -> Tensor:
    """The stable order of the rows of a 2-d tensor in lexicographic order: one stable
    sort per column, from the last column to the first."""
    order = arange(rows._shape[0], device=rows.device)
    for col in range(rows._shape[1] - 1, -1, -1):
        key = ops.index_select(rows.select(1, col), 0, order)
        order = ops.index_select(order, 0, sort_raw(key, 0, False)[1])
    return order


def _runs(fname, input, order, return_inverse, return_counts, dim):
    """Collapse runs of equal elements (slices along ``dim``) of ``input`` read in ``order``
    (None: as it is) into one each: ``(values, inverse, counts)`` as PyTorch returns them."""
    if dim is None:
        rows = input.reshape(-1, 1)
    else:
        d = check_dim(check_int(dim, fname, "dim"), input)
        if not input._shape:
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        empty_dims = sum(1 for size in input._shape if size == 0)
        if empty_dims > 1:
            raise RuntimeError(f"Number of zero sized dimensions is more than one, so {fname} cannot be applied ")
        if empty_dims and input._shape[d]:
            raise RuntimeError(f"There are 0 sized dimensions, and they aren't selected, so {fname} cannot be "
                               f"applied")
        moved = input.movedim(d, 0)
        rows = moved.reshape(moved._shape[0], numel(moved._shape[1:]))
    n = rows._shape[0]
    if order is not None:
        rows = ops.index_select(rows, 0, order)
    if n:
        differ = (rows.narrow(0, 1, n - 1) != rows.narrow(0, 0, n - 1))
        differ = differ.any(1) if differ._shape[1] else ops.zeros_like(differ.narrow(1, 0, 1)).any(1)
        starts = ops.cat([full((1,), True, dtype=bool_, device=input.device), differ])
    else:
        starts = zeros((0,), dtype=bool_, device=input.device)
    group = ops.cumsum(starts, 0) - 1                           # each row's run, in reading order
    first = ops.nonzero(starts).reshape(-1)
    if dim is None:
        values = ops.index_select(rows.reshape(-1), 0, first)
    else:
        picked = ops.index_select(rows, 0, first)
        values = picked.reshape([first._shape[0], *moved._shape[1:]]).movedim(0, d)
    out = [values]
    if return_inverse:
        inverse = group if order is None else ops.scatter(ops.zeros_like(group), 0, order, group)
        out.append(inverse.reshape(input._shape if dim is None else (n,)))
    if return_counts:
        out.append(ops.scatter_add(zeros((first._shape[0],), dtype=int64, device=input.device), 0, group,
                                   ops.ones_like(group)))
    return values if len(out) == 1 else tuple(out)


@declare(method=True)
def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct elements (``dim``: distinct slices along it) in ascending order; with
    ``return_inverse``, where each element went; with ``return_counts``, how often each
    occurs. Not differentiable."""
    check_tensor(input, "unique", "input")
    for flag, name in ((sorted, "sorted"), (return_inverse, "return_inverse"), (return_counts, "return_counts")):
        check_bool(flag, "unique", name)
    with no_grad():
        x = input.detach()
        if dim is None:
            order = sort_raw(x.reshape(-1), 0, False)[1]
        else:
            d = check_dim(check_int(dim, "unique", "dim"), x)
            moved = x.movedim(d, 0)
            order = _lexsort_rows(moved.reshape(moved._shape[0], numel(moved._shape[1:]))) if x._shape else None
        return _runs("unique", x, order, return_inverse, return_counts, dim)


@declare(method=True)
def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Each run of equal consecutive elements (``dim``: slices) collapsed into one, with
    optional inverse indices and run lengths. Not differentiable."""
    check_tensor(input, "unique_consecutive", "input")
    check_bool(return_inverse, "unique_consecutive", "return_inverse")
    check_bool(return_counts, "unique_consecutive", "return_counts")
    with no_grad():
        return _runs("unique_consecutive", input.detach(), None, return_inverse, return_counts, dim)



# ---- searching and counting -------------------------------------------------------------------

def _count_before(boundaries: Tensor, values: Tensor, right: bool) -> Tensor:
    """For each value (in ``values``' last dim), how many boundaries of its row (sorted along
    the last dim) come before it: those ``< value`` (``<=`` when ``right``), NaN counting as
    larger than every number. One stable sort of each row of values and boundaries together:
    a value's position there, less the values before it, counts the boundaries before it.
    Placed first, the values precede equal boundaries (``<``); placed last, they follow (``<=``)."""
    dtype = promote_types(boundaries._dtype, values._dtype)
    k, m = values._shape[-1], boundaries._shape[-1]
    lead = values._shape[:-1]
    boundaries = cast(boundaries, dtype).expand(*lead, m)
    parts = [boundaries, cast(values, dtype)] if right else [cast(values, dtype), boundaries]
    flags = [zeros((m,), dtype=int64, device=values.device), ops.ones_like(values.new_empty((k,), dtype=int64))]
    if not right:
        flags.reverse()
    is_value = ops.cat(flags).expand(*lead, k + m)
    order = sort_raw(ops.cat(parts, -1), -1, False)[1]
    value_flags = ops.gather(is_value, -1, order)
    boundaries_before = arange(k + m, device=values.device) - (ops.cumsum(value_flags, -1) - value_flags)
    counts = ops.scatter(ops.zeros_like(order), -1, order, boundaries_before)
    return counts.narrow(-1, m if right else 0, k)


@declare
def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None, out=None):
    """Where each element of ``input`` would go in ``sorted_sequence`` (sorted along its last
    dim; ``sorter`` gives the order when it is not) to keep it sorted: the first such
    position, or the last one with ``right=True`` / ``side="right"``."""
    check_tensor(sorted_sequence, "searchsorted", "sorted_sequence")
    check_bool(out_int32, "searchsorted", "out_int32")
    check_bool(right, "searchsorted", "right")
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if side == "left" and right:
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got side of left "
                               "while right was True")
        right = side == "right"
    scalar = not isinstance(input, Tensor)
    if scalar:
        if isinstance(input, bool) or not isinstance(input, (int, float)):
            raise TypeError(f"searchsorted(): argument 'input' must be Tensor or Number, not {type(input).__name__}")
        if sorted_sequence.dim() != 1:
            raise RuntimeError(f"torch.searchsorted(): input value can be a scalar only when boundaries tensor "
                               f"dimension is 1, but we got boundaries tensor dim({sorted_sequence.dim()})")
        kind = sorted_sequence._dtype if sorted_sequence._dtype.is_floating_point or isinstance(input, int) \
            else get_default_dtype()
        values = full((1,), input, dtype=kind, device=sorted_sequence.device)
    else:
        values = input
        if sorted_sequence.dim() == 0:
            raise RuntimeError("torch.searchsorted(): boundaries tensor should have positive dimension, but got 0 "
                               "dimension")
        if sorted_sequence.dim() != 1 and (sorted_sequence._shape[:-1] != values._shape[:-1]
                                           or sorted_sequence.dim() != values.dim()):
            raise RuntimeError(f"torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                               f"dimensions of boundaries tensor and input value tensor must match, but we got "
                               f"boundaries tensor {list(sorted_sequence._shape)} and input value tensor "
                               f"{list(values._shape)}")
        if values.device != sorted_sequence.device:
            raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two devices, "
                               f"{sorted_sequence.device} and {values.device}! (in searchsorted)")
    with no_grad():
        boundaries = sorted_sequence.detach()
        if sorter is not None:
            check_tensor(sorter, "searchsorted", "sorter")
            if sorter._dtype is not int64:
                raise RuntimeError(f"torch.searchsorted(): sorter must be a tensor of long dtype but got "
                                   f"{sorter._dtype!r}")
            if sorter._shape != boundaries._shape:
                raise RuntimeError(f"torch.searchsorted(): boundary and sorter must have the same size, but got "
                                   f"boundary tensor {list(boundaries._shape)} and got sorter tensor "
                                   f"{list(sorter._shape)}")
            boundaries = ops.gather(boundaries, -1, sorter)
        v = values.detach()
        if boundaries._dtype is bool_ or v._dtype is bool_:
            raise NotImplementedError("\"searchsorted_out_cpu\" not implemented for 'Bool'")
        rows = v.reshape(1, -1) if boundaries.dim() == 1 else v
        r = _count_before(boundaries, rows, right).reshape(v._shape)
        if out_int32:
            r = r.to(int32)
        if scalar:
            r = r.reshape(())
    return r if out is None else write_out(out, r, "searchsorted")


@declare
def bucketize(input, boundaries, *, out_int32=False, right=False, out=None):
    """The bucket of each element of ``input`` among the sorted 1-d ``boundaries``: ``i``
    with ``boundaries[i-1] < x <= boundaries[i]`` (``right=True``: ``<= x <``)."""
    check_tensor(boundaries, "bucketize", "boundaries")
    if boundaries.dim() != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries.dim()})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right, out=out)


@declare(method=True)
def bincount(input, weights=None, minlength=0) -> Tensor:
    """How often each value ``0..max(input)`` occurs in the 1-d non-negative integer ``input``
    (the sum of ``weights`` at its occurrences, when given); at least ``minlength`` bins."""
    check_tensor(input, "bincount", "input")
    minlength = check_int(minlength, "bincount", "minlength")
    if input._dtype.is_floating_point or input._dtype is bool_:
        raise NotImplementedError(f'"bincount_cpu" not implemented for \'{type_name(input._dtype)}\'')
    if input.dim() != 1:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    n = input._shape[0]
    if weights is not None:
        check_tensor(weights, "bincount", "weights")
        if weights.dim() != 1 or weights._shape[0] != n:
            raise RuntimeError("weights should be 1-d and have the same length as input")
    with no_grad():
        x = input.detach().to(int64)
        if n and bool(ops.lt(x, 0).any()):
            raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
        bins = max(int(ops.amax(x)) + 1 if n else 0, minlength)
        if weights is None:
            return ops.scatter_add(zeros((bins,), dtype=int64, device=input.device), 0, x, ops.ones_like(x))
        od = float32 if weights._dtype is float32 else float64
        return ops.scatter_add(zeros((bins,), dtype=od, device=input.device), 0, x, weights.detach().to(od))


@declare(method=True)
def histc(input, bins=100, min=0, max=0, *, out=None) -> Tensor:
    """A histogram of ``input``: ``bins`` equal-width bins over ``[min, max]`` (the data's own
    range when both are equal); elements outside the range, and NaN, are not counted."""
    check_tensor(input, "histc", "input")
    bins = check_int(bins, "histc", "bins")
    if not input._dtype.is_floating_point:
        raise NotImplementedError(f'"histogram_cpu" not implemented for \'{type_name(input._dtype)}\'')
    if bins <= 0:
        raise RuntimeError(f"torch.histc(): bins must be > 0, but got {bins} for dimension 0")
    for name, bound in (("min", min), ("max", max)):
        if isinstance(bound, (str, bytes)) or not isinstance(bound, (int, float, Tensor)):
            raise TypeError(f"histc(): argument '{name}' must be Number, not {type(bound).__name__}")
    lo, hi = float(min), float(max)
    if lo > hi:
        raise RuntimeError("max must be larger than min")
    if lo != lo or hi != hi:
        raise RuntimeError(f"torch.histc(): range of [{lo}, {hi}] is not finite")
    with no_grad():
        x = input.detach().reshape(-1)
        finite = ops.logical_not(ops.isnan(x))
        if lo == hi and numel(x._shape):
            kept = ops.masked_select(x, finite)
            if numel(kept._shape):
                lo, hi = float(ops.amin(kept)), float(ops.amax(kept))
        if lo == hi:
            lo, hi = lo - 1, hi + 1
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise RuntimeError(f"torch.histc(): range of [{lo}, {hi}] is not finite")
        inside = ops.logical_and(finite, ops.logical_and(x >= lo, x <= hi))
        position = ops.floor((x - lo) * bins / (hi - lo)).clamp(0, bins - 1)
        position = ops.where(inside, position, 0).to(int64)
        r = ops.scatter_add(zeros((bins,), dtype=input._dtype, device=input.device), 0, position,
                            inside.to(input._dtype))
    return r if out is None else write_out(out, r, "histc")
