"""Products and matrix builders written with the matrix product and the view ops:
``einsum``, ``tensordot``, ``kron``, ``cdist``, ``cross``, the ``add*`` family
(``baddbmm``, ``addbmm``, ``addmv``, ``addr``), ``trace``, ``diag``, ``diag_embed``,
``diagflat``, ``block_diag`` and ``cartesian_prod``.

Every op here runs on the backend's one ``matmul`` kernel and the elementwise and view
ops, so every device (the pure-Python one included) has them without a kernel of their
own. Where PyTorch records a node of its own (``CdistBackward0``, ``LinalgCrossBackward0``,
``BaddbmmBackward0``...), the op computes untracked and records that node, whose backward
is written with plugrad ops; otherwise the composition records itself, as PyTorch's does
(``einsum`` ends in the ``bmm``'s view or a ``mul``).
"""

from __future__ import annotations

import math
import warnings

from ..autograd.grad_mode import STATE, no_grad
from ..autograd.graph import Node, record
from ..creation import eye, zeros
from ..dtypes import bool_, float64, opmath, promote_types
from ..layout import broadcast_shapes, normalize_dim, numel
from ..tensor import Tensor
from .checks import check_device, check_int, check_tensor, check_tensors, type_name
from .declare import declare, names_declared_in
from .dispatch import write_out
from .join import cat, stack
from .linalg import _unsafe_view, bmm, matmul, mm, mv, outer
from .reduction import sum as _sum
from .shaping import meshgrid
from . import views as _views
from .views import diagonal, expand, permute, reshape, slice_dim

# ---- einsum ---------------------------------------------------------------------------------------

_ELLIPSIS = "..."


def _parse_subscripts(text, where, operand_index=None):
    """The labels of one operand (or of the output): letters, and ``None`` for ``...``."""
    labels, i = [], 0
    while i < len(text):
        c = text[i]
        if c == ".":
            if text[i:i + 3] != _ELLIPSIS or None in labels:
                who = f"operand {operand_index}" if operand_index is not None else "the output"
                raise RuntimeError(f"einsum(): found '.' for {who} that is not part of any ellipsis")
            labels.append(None)
            i += 3
            continue
        if not c.isascii() or not c.isalpha():
            raise RuntimeError(f"einsum(): invalid subscript given at index {where + i} in the equation string, "
                               f"subscripts must be in [a-zA-Z]")
        labels.append(c)
        i += 1
    return labels


def _sublist_equation(args):
    """The equation of the sublist form ``einsum(op0, [0, 1], op1, [1, 2], [0, 2])``."""
    def letters(sub):
        out = []
        for s in sub:
            if s is Ellipsis:
                out.append(_ELLIPSIS)
                continue
            s = check_int(s, "einsum", "sublist")
            if not 0 <= s < 52:
                raise RuntimeError(f"einsum(): subscript in subscript list is not within the valid range [0, 52), "
                                   f"got {s}")
            out.append(chr(ord("A") + s) if s < 26 else chr(ord("a") + s - 26))
        return "".join(out)
    operands, subs = list(args[0::2]), list(args[1::2])
    output = None
    if len(operands) > len(subs):
        output = operands.pop()
        if isinstance(output, Tensor):
            raise TypeError("einsum(): the sublist form takes (operand, sublist) pairs and an optional output "
                            "sublist")
    eq = ",".join(letters(s) for s in subs)
    if output is not None:
        eq += "->" + letters(output)
    return eq, operands


@declare
def einsum(*args) -> Tensor:
    """Einstein summation: ``einsum("ij,jk->ik", a, b)`` is ``a @ b``. Labels that are
    repeated within an operand take its diagonal; labels missing from the output are
    summed; ``...`` stands for broadcast dims; without ``->`` the output is the ellipsis
    dims then the labels used once, in alphabetical order. Also the sublist form
    ``einsum(a, [0, 1], b, [1, 2], [0, 2])``. Operands are contracted left to right,
    each pair with one batched matrix product (or a product of broadcast elements when
    nothing is summed). As in PyTorch, a label summed within one operand is summed by
    ``sum``, so integers summed that way come out in int64."""
    if not args:
        raise TypeError("einsum(): missing the equation")
    if isinstance(args[0], Tensor):
        equation, operands = _sublist_equation(args)
    else:
        equation, operands = args[0], list(args[1:])
        if not isinstance(equation, str):
            raise TypeError(f"einsum(): argument 'equation' (position 1) must be str, not {type(equation).__name__}")
        if len(operands) == 1 and isinstance(operands[0], (tuple, list)):
            operands = list(operands[0])
    for i, t in enumerate(operands):
        if not isinstance(t, Tensor):
            raise TypeError(f"einsum(): expected Tensor as element {i} in argument 1, but got {type(t).__name__}")
    equation = equation.replace(" ", "")
    lhs, arrow, rhs = equation.partition("->")
    texts = lhs.split(",")
    if len(texts) > len(operands):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(texts) < len(operands):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    for t in operands[1:]:     # dtypes: a product promotes, a matrix product needs one dtype (as PyTorch)
        check_device(operands[0], t, "einsum")
    where, parsed = 0, []
    for k, text in enumerate(texts):
        parsed.append(_parse_subscripts(text, where, k))
        where += len(text) + 1
    ell_dims = 0
    for k, (labels, t) in enumerate(zip(parsed, operands)):
        named = len([c for c in labels if c is not None])
        if None in labels:
            if named > t.dim():
                raise RuntimeError(f"einsum(): the number of subscripts in the equation ({named}) is more than the "
                                   f"number of dimensions ({t.dim()}) for operand {k}")
            ell_dims = max(ell_dims, t.dim() - named)
        elif named != t.dim():
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({named}) does not match the "
                               f"number of dimensions ({t.dim()}) for operand {k} and no ellipsis was given")
    # ellipsis dims become labels ("...", k), aligned from the right across operands
    ops_labels = []
    for labels, t in zip(parsed, operands):
        out = []
        for c in labels:
            if c is None:
                e = t.dim() - (len(labels) - 1)
                out += [(_ELLIPSIS, ell_dims - e + j) for j in range(e)]
            else:
                out.append(c)
        ops_labels.append(out)
    ell_labels = [(_ELLIPSIS, j) for j in range(ell_dims)]
    if arrow:
        out_labels = []
        for c in _parse_subscripts(rhs, len(lhs) + 2):
            if c is None:
                out_labels += ell_labels
                continue
            if c in out_labels:
                raise RuntimeError(f"einsum(): output subscript {c} appears more than once in the output")
            if not any(c in labels for labels in ops_labels):
                raise RuntimeError(f"einsum(): output subscript {c} does not appear in the equation for any input "
                                   f"operand")
            out_labels.append(c)
    else:
        counts = {}
        for labels in ops_labels:
            for c in labels:
                if not isinstance(c, tuple):
                    counts[c] = counts.get(c, 0) + 1
        out_labels = ell_labels + sorted(c for c, n in counts.items() if n == 1)
    sizes = {}
    for k, (labels, t) in enumerate(zip(ops_labels, operands)):
        for c, n in zip(labels, t._shape):
            seen = sizes.get(c, 1)
            if n != 1 and seen != 1 and n != seen:
                name = "..." if isinstance(c, tuple) else c
                raise RuntimeError(f"einsum(): subscript {name} has size {n} for operand {k} which does not "
                                   f"broadcast with previously seen size {seen}")
            sizes[c] = n if n != 1 else seen
    return _einsum_run(list(zip(operands, ops_labels)), out_labels)


def _take_diagonals(t, labels):
    """``t`` with each label repeated within it reduced to its diagonal (moved last)."""
    labels = list(labels)
    while True:
        for i, c in enumerate(labels):
            if c in labels[i + 1:]:
                j = labels.index(c, i + 1)
                t = diagonal(t, 0, i, j)
                labels = [x for k, x in enumerate(labels) if k not in (i, j)] + [c]
                break
        else:
            return t, labels


def _sum_labels(t, labels, drop):
    """``t`` summed over the dims whose labels are in ``drop``."""
    dims = tuple(i for i, c in enumerate(labels) if c in drop)
    if not dims:
        return t, labels
    return _sum(t, dims), [c for c in labels if c not in drop]


def _einsum_run(items, out_labels):
    items = [_take_diagonals(t, labels) for t, labels in items]
    if len(items) == 1:    # PyTorch's order: permute to (output, summed), then sum the trailing dims
        t, labels = items[0]
        summed = [c for c in labels if c not in out_labels]
        t = permute(t, [labels.index(c) for c in out_labels + summed])
        return _sum(t, tuple(range(len(out_labels), len(labels)))) if summed else t
    # labels used by one operand only, and not by the output, are summed away first
    for k, (t, labels) in enumerate(items):
        elsewhere = set(out_labels).union(*(set(lb) for j, (_, lb) in enumerate(items) if j != k))
        items[k] = _sum_labels(t, labels, {c for c in labels if c not in elsewhere})
    a, la = items[0]
    for k in range(1, len(items)):
        b, lb = items[k]
        last = k == len(items) - 1
        keep = set(out_labels).union(*(set(lbl) for _, lbl in items[k + 1:]))
        a, la = _contract(a, la, b, lb, keep, out_labels if last else None)
    if la != out_labels:
        a = permute(a, [la.index(c) for c in out_labels])
    return a


def _contract(a, la, b, lb, keep, order):
    """``a`` and ``b`` multiplied, summed over their shared labels outside ``keep``. The
    result's labels are the batch labels, then one operand's own, then the other's; for
    the last product (``order``: the output's labels) the batch labels are the shortest
    prefix of the output after which the rest splits that way, so the result needs no
    permutation when one exists (a label of the prefix missing from an operand is a
    size-1 dim there)."""
    # a label left in one operand only that is no longer needed: summed before the product
    a, la = _sum_labels(a, la, {c for c in la if c not in lb and c not in keep})
    b, lb = _sum_labels(b, lb, {c for c in lb if c not in la and c not in keep})
    shared = [c for c in la if c in lb]
    summed = [c for c in shared if c not in keep]
    if order is None:
        batch = [c for c in shared if c in keep]
        first, second = [c for c in la if c not in lb], [c for c in lb if c not in la]
    else:
        batch, first, second = _split_output(order, la, lb)
        if first and first[0] not in la:
            a, la, b, lb = b, lb, a, la
    for c in batch:     # a batch label one side lacks: a size-1 dim there
        if c not in la:
            a, la = reshape(a, a._shape + (1,)), la + [c]
        if c not in lb:
            b, lb = reshape(b, b._shape + (1,)), lb + [c]
    if not summed:     # nothing to sum: a product of broadcast elements, as PyTorch computes it
        labels = batch + first + second
        return _aligned(a, la, labels) * _aligned(b, lb, labels), labels
    # a shared label of size 1 on one side broadcasts: sum the other side over it first
    for c in summed:
        na, nb = a._shape[la.index(c)], b._shape[lb.index(c)]
        if na != nb:
            if na == 1:
                b = _sum(b, lb.index(c), keepdim=True)
            else:
                a = _sum(a, la.index(c), keepdim=True)
    bsizes = tuple(max(a._shape[la.index(c)], b._shape[lb.index(c)]) for c in batch)
    ms = tuple(a._shape[la.index(c)] for c in first)
    ns = tuple(b._shape[lb.index(c)] for c in second)
    ks = tuple(a._shape[la.index(c)] for c in summed)
    a3 = permute(a, [la.index(c) for c in batch + first + summed])
    b3 = permute(b, [lb.index(c) for c in batch + summed + second])
    a3 = reshape(expand(a3, bsizes + ms + ks), (numel(bsizes), numel(ms), numel(ks)))
    b3 = reshape(expand(b3, bsizes + ks + ns), (numel(bsizes), numel(ks), numel(ns)))
    r = reshape(bmm(a3, b3), bsizes + ms + ns)
    return r, batch + first + second


def _split_output(order, la, lb):
    """``(batch, first, second)``: the shortest prefix of the output labels ``order``
    after which the labels are those of one operand, then those of the other."""
    for p in range(len(order) + 1):
        rest = order[p:]
        if any(c in la and c in lb for c in rest):
            continue
        owners = [c in la for c in rest]
        cut = next((i for i in range(1, len(owners)) if owners[i] != owners[0]), len(owners))
        if all(o == owners[cut] for o in owners[cut:]) if cut < len(owners) else True:
            return list(order[:p]), list(rest[:cut]), list(rest[cut:])
    return list(order), [], []


def _aligned(t, labels, target):
    """``t`` permuted to ``target``'s order, with size-1 dims for the labels it lacks."""
    present = [c for c in target if c in labels]
    t = permute(t, [labels.index(c) for c in present])
    return reshape(t, tuple(t._shape[present.index(c)] if c in present else 1 for c in target))


# ---- tensordot / kron ---------------------------------------------------------------------------------------


def _dims_list(dims, nd, fname):
    return [normalize_dim(check_int(d, fname, "dims"), nd) for d in dims]


@declare
def tensordot(a, b, dims=2, out=None) -> Tensor:
    """Sum of products over the last ``dims`` dims of ``a`` and the first ``dims`` of
    ``b`` (an int), or over the dims listed in ``dims = (dims_a, dims_b)``."""
    check_tensors("tensordot", a=a, b=b)
    if isinstance(dims, Tensor):
        dims = dims.item() if dims.dim() == 0 else dims.tolist()
    if isinstance(dims, (tuple, list)):
        if len(dims) != 2:
            raise RuntimeError("tensordot expects dims to be a pair of lists of dims (one for each operand)")
        da, db = (d if isinstance(d, (tuple, list)) else [d] for d in dims)
        da, db = _dims_list(da, a.dim(), "tensordot"), _dims_list(db, b.dim(), "tensordot")
        if len(da) != len(db):
            raise RuntimeError("both dimension lists should have same length")
    else:
        if isinstance(dims, (bool, float, str)) or not hasattr(dims, "__index__"):
            raise RuntimeError(f"tensordot expects dims to be int or tuple[list[int], list[int]] or list[list[int]] "
                               f"containing two lists, but got {type(dims).__name__}")
        n = check_int(dims, "tensordot", "dims")
        if n < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={n}")
        if n > a.dim() or n > b.dim():
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={n}")
        da, db = list(range(a.dim() - n, a.dim())), list(range(n))
    if a._dtype is not b._dtype:
        raise RuntimeError("both inputs should have same dtype")
    check_device(a, b, "tensordot")
    for i, j in zip(da, db):
        if a._shape[i] != b._shape[j]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {a._shape[i]} in dim {i} "
                               f"and second has size {b._shape[j]} in dim {j}")
    free_a = [i for i in range(a.dim()) if i not in da]
    free_b = [j for j in range(b.dim()) if j not in db]
    k = numel(a._shape[i] for i in da)
    sa, sb = tuple(a._shape[i] for i in free_a), tuple(b._shape[j] for j in free_b)
    a2 = reshape(permute(a, free_a + da), (numel(sa), k))
    b2 = reshape(permute(b, db + free_b), (k, numel(sb)))
    r = reshape(mm(a2, b2), sa + sb)
    return r if out is None else write_out(out, r, "tensordot")


@declare(method=True)
def kron(input, other, *, out=None) -> Tensor:
    """Kronecker product: blocks ``input[i] * other`` laid out in ``input``'s pattern."""
    check_tensors("kron", input=input, other=other)
    nd = max(input.dim(), other.dim())
    sa = (1,) * (nd - input.dim()) + input._shape
    sb = (1,) * (nd - other.dim()) + other._shape
    a = reshape(input, tuple(x for n in sa for x in (n, 1)))
    b = reshape(other, tuple(x for n in sb for x in (1, n)))
    p = a * b
    shape = tuple(m * n for m, n in zip(sa, sb))
    r = _unsafe_view(p.contiguous(), shape) if p._requires_grad else reshape(p, shape)
    return r if out is None else write_out(out, r, "kron")


# ---- cdist ------------------------------------------------------------------------------------------------

#: the largest finite float32: a larger p is read as infinite for float32 and float16 inputs
_FLOAT32_MAX = (2 - 2 ** -23) * 2.0 ** 127

_COMPUTE_MODES = (None, "use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                  "donot_use_mm_for_euclid_dist")


class CdistBackward0(Node):
    """d ||x1_i - x2_j||_p: the gradient of the distance for each pair of rows, spread to both"""
    __slots__ = ("p",)

    def backward(self, g):
        x1, x2, dist = self.saved_tensors
        d = x1.unsqueeze(-2) - x2.unsqueeze(-3)          # (..., P, R, M)
        p = self.p
        gd = g.unsqueeze(-1)
        dist = dist.unsqueeze(-1)
        if p == 0:
            w = d * 0
        elif p == 1:
            w = d.sign()
        elif p == float("inf"):
            w = d.sign() * (d.abs() == dist)
        elif p == 2:
            w = (d / dist).masked_fill(dist == 0, 0)
        else:   # the ratio first: |d| ** (p - 1) alone overflows for a large p
            w = (d.sign() * (d.abs() / dist) ** (p - 1)).masked_fill(dist == 0, 0)
        gw = gd * w
        needs = [e[0] is not None for e in self.next_functions]
        return (gw.sum(-2) if needs[0] else None, -gw.sum(-3) if needs[1] else None)


def _pair_distances(x1, x2, p):
    d = (x1.unsqueeze(-2) - x2.unsqueeze(-3)).abs()
    if p == 0:      # the count of differing coordinates; NaN where a coordinate is NaN (as PyTorch)
        return (d != 0).to(x1._dtype).sum(-1).masked_fill(d.isnan().any(-1), float("nan"))
    if p == 1:
        return d.sum(-1)
    if p == 2:
        return (d * d).sum(-1).sqrt()
    if p == float("inf"):   # PyTorch's maximum passes over NaN coordinates
        d = d.masked_fill(d.isnan(), 0)
        return d.amax(-1) if d._shape[-1] else d.sum(-1)
    # PyTorch's formula, overflow included: a huge p gives inf as soon as a difference exceeds 1
    return (d ** p).sum(-1) ** (1 / p)


@declare
def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """The p-norm distance between each row of ``x1`` ``(..., P, M)`` and each row of
    ``x2`` ``(..., R, M)``: a ``(..., P, R)`` tensor (batch dims broadcast). Distances are
    computed from the differences, exactly, whatever ``compute_mode`` says."""
    check_tensors("cdist", x1=x1, x2=x2)
    if compute_mode not in _COMPUTE_MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    if not isinstance(p, (int, float)) or isinstance(p, bool):
        raise TypeError(f"cdist(): argument 'p' must be float, not {type(p).__name__}")
    for name, x in (("X1", x1), ("X2", x2)):
        if x.dim() < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: {x.dim()}D")
    for name, x in (("X1", x1), ("X2", x2)):
        if not x._dtype.is_floating_point:
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: {type_name(x._dtype)}")
    if x1._shape[-1] != x2._shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1._shape[-1]} X2: "
                           f"{x2._shape[-1]}")
    if not float(p) >= 0:     # a negative p, or NaN
        raise RuntimeError("cdist only supports non-negative p values")
    if x1._dtype is not x2._dtype:
        raise RuntimeError(f"cdist: X1 and X2 must have the same dtype, but got {x1._dtype.name} and "
                           f"{x2._dtype.name}")
    check_device(x1, x2, "cdist")
    batch = broadcast_shapes(x1._shape[:-2], x2._shape[:-2])
    a = expand(x1.detach(), batch + x1._shape[-2:])
    b = expand(x2.detach(), batch + x2._shape[-2:])
    p = float(p)
    if x1._dtype is not float64 and p > _FLOAT32_MAX:    # PyTorch reads p in float32 there: an infinite p
        p = math.inf
    with no_grad():
        r = _pair_distances(a, b, p)
    if STATE.enabled and (x1._requires_grad or x2._requires_grad):
        node = CdistBackward0()
        node.p = p
        node.save(x1, x2, r)
        record(node, (x1, x2), r)
    return r


# ---- cross --------------------------------------------------------------------------------------------------


class LinalgCrossBackward0(Node):
    """d (a x b) = (b x g, g x a)"""
    __slots__ = ("dim",)

    def backward(self, g):
        a, b = self.saved_tensors
        needs = [e[0] is not None for e in self.next_functions]
        return (_cross3(b, g, self.dim) if needs[0] else None, _cross3(g, a, self.dim) if needs[1] else None)


def _cross3(a, b, d):
    """The cross product of the 3-vectors along dim ``d`` (a and b broadcast)."""
    def part(x, i):
        return slice_dim(x, d, i, i + 1)
    return cat([part(a, 1) * part(b, 2) - part(a, 2) * part(b, 1),
                part(a, 2) * part(b, 0) - part(a, 0) * part(b, 2),
                part(a, 0) * part(b, 1) - part(a, 1) * part(b, 0)], d)


@declare(method=True)
def cross(input, other, dim=None, *, out=None) -> Tensor:
    """The cross product of the 3-vectors along ``dim`` (operands broadcast). Without
    ``dim``, PyTorch's deprecated rule: the first dim of size 3 (with a warning)."""
    check_tensors("cross", input=input, other=other)
    if input._dtype is not other._dtype:
        raise RuntimeError(f"expected scalar type {type_name(input._dtype)} but found {type_name(other._dtype)}")
    check_device(input, other, "cross")
    if input.dim() != other.dim():
        raise RuntimeError(f"linalg.cross: inputs must have the same number of dimensions. Got {input.dim()} and "
                           f"{other.dim()}")
    shape = broadcast_shapes(input._shape, other._shape)
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the dim "
                      "explicitly or simply use torch.linalg.cross.", UserWarning, stacklevel=2)
        found = [i for i, n in enumerate(shape) if n == 3]
        if not found:
            raise RuntimeError("no dimension of size 3 in input")
        d = found[0]
    else:
        d = normalize_dim(check_int(dim, "cross", "dim"), max(input.dim(), 1))
    if input.dim() == 0 or input._shape[d] != 3 or other._shape[d] != 3:
        got = (input._shape[d], other._shape[d]) if input.dim() else (1, 1)
        raise RuntimeError(f"linalg.cross: inputs dimension {d} must have length 3. Got {got[0]} and {got[1]}")
    with no_grad():
        r = _cross3(input, other, d)
    if STATE.enabled and (input._requires_grad or other._requires_grad):
        node = LinalgCrossBackward0()
        node.dim = d
        node.save(input, other)
        record(node, (input, other), r)
    return r if out is None else write_out(out, r, "cross")


# ---- the add* products: beta * input + alpha * product ----------------------------------------------------


def _scalars(input, beta, alpha, fname):
    for name, value in (("beta", beta), ("alpha", alpha)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"{fname}(): argument '{name}' must be Number, not {type(value).__name__}")
    dt = opmath(input._dtype)
    return dt.checked_scalar(beta), dt.checked_scalar(alpha)


def _add_product(input, product, beta, alpha, fname):
    """``beta * input + alpha * product`` (untracked); ``beta == 0`` ignores ``input``,
    NaNs included, as PyTorch does."""
    if broadcast_shapes(input._shape, product._shape) != product._shape:
        raise RuntimeError(f"{fname}: input of shape {list(input._shape)} does not broadcast to the product's "
                           f"shape {list(product._shape)}")
    with no_grad():
        if alpha != 1:
            product = product * alpha
        if beta == 0:
            return product.contiguous() if product._shape else product
        return product + (input if beta == 1 else input * beta)


def _same_dtype(fname, input, *others):
    for t in others:
        if t._dtype is not input._dtype:
            raise RuntimeError(f"{fname}: expected all operands to have the same dtype, but got "
                               f"{input._dtype.name} and {t._dtype.name}")
        check_device(input, t, fname)


class _AddProductBackward(Node):
    """Shared by the add* nodes: ``beta * g`` for the input; the operands' formulas below."""
    __slots__ = ("alpha", "beta")

    def backward(self, g):
        m1, m2 = self.saved_tensors
        needs = [e[0] is not None for e in self.next_functions]
        gi = (g if self.beta == 1 else g * self.beta) if needs[0] else None
        g1 = self.grad_first(g, m2) if needs[1] else None
        g2 = self.grad_second(g, m1) if needs[2] else None
        if self.alpha != 1:
            g1 = g1 * self.alpha if g1 is not None else None
            g2 = g2 * self.alpha if g2 is not None else None
        return gi, g1, g2


class BaddbmmBackward0(_AddProductBackward):
    """d(beta c + alpha A @ B) batched = (beta g, alpha g @ B^T, alpha A^T @ g)"""
    __slots__ = ()

    def grad_first(self, g, b2):
        return bmm(g, b2.transpose(1, 2))

    def grad_second(self, g, b1):
        return bmm(b1.transpose(1, 2), g)


class AddbmmBackward0(_AddProductBackward):
    """d(beta c + alpha sum_b A_b @ B_b) = (beta g, alpha g @ B_b^T, alpha A_b^T @ g)"""
    __slots__ = ()

    def grad_first(self, g, b2):
        return matmul(g, b2.transpose(1, 2))

    def grad_second(self, g, b1):
        return matmul(b1.transpose(1, 2), g)


class AddmvBackward0(_AddProductBackward):
    """d(beta c + alpha M v) = (beta g, alpha outer(g, v), alpha M^T g)"""
    __slots__ = ()

    def grad_first(self, g, vec):
        return outer(g, vec)

    def grad_second(self, g, mat):
        return mv(mat.t(), g)


class AddrBackward0(_AddProductBackward):
    """d(beta c + alpha outer(u, v)) = (beta g, alpha g v, alpha g^T u)"""
    __slots__ = ()

    def grad_first(self, g, v2):
        return mv(g, v2)

    def grad_second(self, g, v1):
        return mv(g.t(), v1)


def _add_product_op(fname, node_cls, input, m1, m2, beta, alpha, out, product):
    with no_grad():
        p = product(m1, m2)
    beta, alpha = _scalars(input, beta, alpha, fname)
    r = _add_product(input, p, beta, alpha, fname)
    if STATE.enabled and (input._requires_grad or m1._requires_grad or m2._requires_grad):
        node = node_cls()
        node.alpha, node.beta = alpha, beta
        node.save(m1, m2)
        record(node, (input, m1, m2), r)
    return r if out is None else write_out(out, r, fname)


@declare(method=True, inplace=True)
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None) -> Tensor:
    """``beta * input + alpha * (batch1 @ batch2)`` for 3-d batches of matrices."""
    check_tensors("baddbmm", input=input, batch1=batch1, batch2=batch2)
    _same_dtype("baddbmm", input, batch1, batch2)
    _check_batches(batch1, batch2)
    return _add_product_op("baddbmm", BaddbmmBackward0, input, batch1, batch2, beta, alpha, out, bmm)


def _check_batches(batch1, batch2):
    """Batches of matrices are 3-d; PyTorch reads dim 2 of both first (an IndexError
    when one has fewer dims)."""
    for t in (batch1, batch2):
        if t.dim() < 3:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-t.dim()}, {t.dim() - 1}], but "
                             f"got 2): batches of matrices are 3-d")
    for name, t in (("batch1", batch1), ("batch2", batch2)):
        if t.dim() != 3:
            raise RuntimeError(f"{name} must be a 3D tensor")


def _batch_sum(b1, b2):
    p = bmm(b1, b2)
    return p.sum(0, dtype=p._dtype) if p._shape[0] else zeros(p._shape[1:], dtype=p._dtype, device=p.device)


@declare(method=True, inplace=True)
def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None) -> Tensor:
    """``beta * input + alpha * sum_b (batch1[b] @ batch2[b])``."""
    check_tensors("addbmm", input=input, batch1=batch1, batch2=batch2)
    _same_dtype("addbmm", input, batch1, batch2)
    _check_batches(batch1, batch2)
    return _add_product_op("addbmm", AddbmmBackward0, input, batch1, batch2, beta, alpha, out, _batch_sum)


@declare(method=True, inplace=True)
def addmv(input, mat, vec, *, beta=1, alpha=1, out=None) -> Tensor:
    """``beta * input + alpha * (mat @ vec)``."""
    check_tensors("addmv", input=input, mat=mat, vec=vec)
    _same_dtype("addmv", input, mat, vec)
    if mat.dim() != 2 or vec.dim() != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input.dim()}, {mat.dim()}, {vec.dim()}")
    if mat._shape[1] != vec._shape[0] and input.dim() == 0:
        # PyTorch reads the input's size for its message first: a 0-d input is an IndexError
        raise IndexError(f"Dimension specified as 0 but tensor has no dimensions (addmv: mat {list(mat._shape)} "
                         f"and vec {list(vec._shape)} do not multiply)")
    return _add_product_op("addmv", AddmvBackward0, input, mat, vec, beta, alpha, out, mv)


@declare(method=True, inplace=True)
def addr(input, vec1, vec2, *, beta=1, alpha=1, out=None) -> Tensor:
    """``beta * input + alpha * outer(vec1, vec2)``; bool tensors use or/and, as PyTorch."""
    check_tensors("addr", input=input, vec1=vec1, vec2=vec2)
    for name, v in (("vec1", vec1), ("vec2", vec2)):
        if v.dim() != 1:
            raise RuntimeError(f"addr: Expected 1-d argument {name}, but got {v.dim()}-d")
    dtype = promote_types(promote_types(input._dtype, vec1._dtype), vec2._dtype)  # addr promotes, unlike addmv
    if not dtype.is_floating_point and dtype is not bool_:
        for name, value in (("beta", beta), ("alpha", alpha)):
            if isinstance(value, float):
                raise RuntimeError(f"For integral input tensors, argument {name} must not be a floating point "
                                   f"number.")
    for t in (vec1, vec2):
        check_device(input, t, "addr")
    input, vec1, vec2 = (t if t._dtype is dtype else t.to(dtype) for t in (input, vec1, vec2))
    if input._dtype is bool_:
        for name, value in (("beta", beta), ("alpha", alpha)):
            if not isinstance(value, (bool, int)):
                raise RuntimeError(f"Boolean {name} only supported for Boolean results.")
        p = outer(vec1, vec2) if alpha else zeros(vec1._shape + vec2._shape, dtype=bool_, device=vec1.device)
        r = p.logical_or(input) if beta else p.expand(broadcast_shapes(input._shape, p._shape)).clone()
        return r if out is None else write_out(out, r, "addr")
    return _add_product_op("addr", AddrBackward0, input, vec1, vec2, beta, alpha, out,
                           lambda a, b: reshape(a, (-1, 1)) * reshape(b, (1, -1)))


# ---- trace and the diagonal builders ----------------------------------------------------------------------


class TraceBackward0(Node):
    """d trace(a) = g on the diagonal"""
    __slots__ = ("shape",)

    def backward(self, g):
        return (g * eye(*self.shape, dtype=g._dtype, device=g.device),)


@declare(method=True)
def trace(input) -> Tensor:
    """The sum of the main diagonal of a matrix (integers sum in int64)."""
    check_tensor(input, "trace", "input")
    if input.dim() != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.dim()}")
    if input._dtype is bool_:
        raise NotImplementedError("\"trace\" not implemented for 'Bool'")
    with no_grad():
        r = _sum(diagonal(input))
    if STATE.enabled and input._requires_grad:
        node = TraceBackward0()
        node.shape = input._shape
        record(node, (input,), r)
    return r


class DiagEmbedBackward0(Node):
    """d diag_embed(a) = the diagonal of g"""
    __slots__ = ("offset", "dim1", "dim2")

    def backward(self, g):
        return (diagonal(g, self.offset, self.dim1, self.dim2),)


class DiagonalBackward0_copy(Node):    # noqa: N801  (PyTorch's name for diag's node)
    """d diag(a) (a copy of a matrix's diagonal) = zeros with g on that diagonal"""
    __slots__ = ("shape", "offset")

    def backward(self, g):
        return (_diag_embed(g, self.offset, -2, -1, self.shape),)


def _diag_embed(input, offset, dim1, dim2, shape=None):
    """Zeros of ``shape`` (by default the square one diag_embed makes) with ``input``'s
    last dim on the diagonal ``offset`` of dims ``(dim1, dim2)``; tracked through its node."""
    nd = input.dim() + 1
    d1, d2 = normalize_dim(dim1, nd), normalize_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    if shape is None:
        n = (input._shape[-1] if input.dim() else 1) + abs(offset)
        rest = list(input._shape[:-1])
        shape = []
        for i in range(nd):
            shape.append(n if i in (d1, d2) else rest.pop(0))
    z = zeros(tuple(shape), dtype=input._dtype, device=input.device)
    with no_grad():
        view = diagonal(z, offset, d1, d2)
        if view.numel():
            view.copy_(input.detach())
    if STATE.enabled and input._requires_grad:
        node = DiagEmbedBackward0()
        node.offset, node.dim1, node.dim2 = offset, d1, d2
        record(node, (input,), z)
    return z


@declare(method=True)
def diag_embed(input, offset=0, dim1=-2, dim2=-1) -> Tensor:
    """A tensor whose ``(dim1, dim2)`` planes hold the last dim of ``input`` on diagonal
    ``offset`` (zeros elsewhere)."""
    check_tensor(input, "diag_embed", "input")
    offset = check_int(offset, "diag_embed", "offset")
    return _diag_embed(input, offset, dim1, dim2)   # a 0-d input: its dims are refused there (IndexError)


@declare(method=True)
def diag(input, diagonal=0, *, out=None) -> Tensor:
    """A vector's square matrix with it on diagonal ``diagonal``, or a copy of a
    matrix's diagonal ``diagonal``."""
    check_tensor(input, "diag", "input")
    offset = check_int(diagonal, "diag", "diagonal")
    if input.dim() not in (1, 2):
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.dim()}D")
    if input.dim() == 1:
        r = _diag_embed(input, offset, 0, 1)
    else:
        with no_grad():
            r = _views.diagonal(input, offset, 0, 1).clone()
        if STATE.enabled and input._requires_grad:
            node = DiagonalBackward0_copy()
            node.shape, node.offset = input._shape, offset
            record(node, (input,), r)
    return r if out is None else write_out(out, r, "diag")


@declare(method=True)
def diagflat(input, offset=0) -> Tensor:
    """The flattened ``input`` on diagonal ``offset`` of a square matrix."""
    check_tensor(input, "diagflat", "input")
    offset = check_int(offset, "diagflat", "offset")
    return _diag_embed(reshape(input, (-1,)), offset, 0, 1)


class BlockDiagBackward0(Node):
    """d block_diag(a, b, ...) = the diagonal blocks of g"""
    __slots__ = ("blocks",)

    def backward(self, g):
        out = []
        for (r0, c0, rows, cols), shape, dtype in self.blocks:
            part = slice_dim(slice_dim(g, 0, r0, r0 + rows), 1, c0, c0 + cols)
            out.append(part.reshape(shape).to(dtype))
        return tuple(out)


@declare
def block_diag(*tensors) -> Tensor:
    """The tensors (0-d, 1-d as one row, or 2-d) as blocks along the diagonal of one
    matrix, zeros elsewhere; the dtype is their promoted one."""
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"block_diag(): expected Tensor as element {i} in argument 0, but got "
                            f"{type(t).__name__}")
        if t.dim() > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} has "
                               f"{t.dim()} dimensions")
    mats = [reshape(t.detach(), (1, 1)) if t.dim() == 0 else reshape(t.detach(), (1, -1)) if t.dim() == 1
            else t.detach() for t in tensors]
    if not mats:
        return zeros((1, 0))
    dtype = mats[0]._dtype
    for m in mats[1:]:
        dtype = promote_types(dtype, m._dtype)
        check_device(mats[0], m, "block_diag")
    rows, cols = sum(m._shape[0] for m in mats), sum(m._shape[1] for m in mats)
    r = zeros((rows, cols), dtype=dtype, device=mats[0].device)
    blocks, r0, c0 = [], 0, 0
    for t, m in zip(tensors, mats):
        n, k = m._shape
        if n and k:
            with no_grad():
                slice_dim(slice_dim(r, 0, r0, r0 + n), 1, c0, c0 + k).copy_(m)
        blocks.append(((r0, c0, n, k), t._shape, t._dtype))
        r0, c0 = r0 + n, c0 + k
    if STATE.enabled and any(t._requires_grad for t in tensors):
        node = BlockDiagBackward0()
        node.blocks = blocks
        record(node, tuple(tensors), r)
    return r


@declare
def cartesian_prod(*tensors) -> Tensor:
    """Every combination of one element of each 1-d tensor, one row each (like
    ``itertools.product``); one tensor comes back as it is."""
    for i, t in enumerate(tensors):
        check_tensor(t, "cartesian_prod", f"tensors[{i}]")
        if t.dim() != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t._shape)}")
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([reshape(g, (-1,)) for g in grids], 1)


@declare
def chain_matmul(*matrices, out=None) -> Tensor:
    """The product of the 2-d ``matrices`` left to right (deprecated in PyTorch, which
    warns; ``linalg.multi_dot`` replaces it)."""
    warnings.warn("torch.chain_matmul is deprecated and will be removed in a future PyTorch release. Use "
                  "torch.linalg.multi_dot instead, which accepts a list of two or more tensors rather than "
                  "multiple parameters.", UserWarning, stacklevel=2)
    if len(matrices) == 1 and isinstance(matrices[0], (tuple, list)):
        matrices = tuple(matrices[0])
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    for i, m in enumerate(matrices):
        check_tensor(m, "chain_matmul", f"matrices[{i}]")
        if m.dim() != 2:
            raise RuntimeError(f"Tensor dimension is {m.dim()}, expected 2 instead.")
    if len(matrices) == 1:
        r = matrices[0].clone()
    else:
        r = matrices[0]
        for m in matrices[1:]:
            r = mm(r, m)
    return r if out is None else write_out(out, r, "chain_matmul")


__all__ = names_declared_in(__name__)
