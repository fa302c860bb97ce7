"""Ops PyTorch programs reach for beside the big families: ``ravel``, the sliding-window
view ``Tensor.unfold``, ``type_as``, ``isin``, ``combinations``, the trapezoid rule
(``trapezoid``/``trapz``/``cumulative_trapezoid``), and the function forms of
``detach``/``detach_``/``fill``. Each is a composition of existing ops (every device
gets it without a kernel); the sliding window is a strided view with its own node.
"""

from __future__ import annotations

import itertools
import math
from collections import namedtuple
import warnings

from ..autograd.grad_mode import STATE, no_grad
from ..autograd.graph import Node, record
from ..creation import arange, full, tensor, zeros
from ..dtypes import bool_, float16, float32, get_default_dtype, int64, promote_types
from ..layout import check_size, normalize_dim
from ..optable import ops
from ..tensor import Tensor, make_view
from ..typeinfo import contiguous_format, iinfo
from .checks import check_int, check_tensor
from .declare import declare, names_declared_in
from .pointwise import node_class, record_pointwise
from .dispatch import check_bool, check_same_device

# ---- views -----------------------------------------------------------------------------------


@declare(method=True)
def ravel(input) -> Tensor:
    """The elements as a 1-d tensor: a view when the layout allows, a copy otherwise."""
    check_tensor(input, "ravel", "input")
    return input.contiguous().view(-1)


class UnfoldBackward0(Node):
    """d unfold(a, dim, size, step): each window's gradient added back at its place
    (windows overlap when ``step < size``), as one ``index_add`` over ``dim``."""
    __slots__ = ("input_shape", "dim", "size", "step")

    def backward(self, g):
        if not self.input_shape:   # a 0-d input: its one element is the one window
            return (g.reshape(()),)
        dim, size, step = self.dim, self.size, self.step
        n = g.shape[dim]
        positions = (arange(n, device=g.device) * step).unsqueeze(1) + arange(size, device=g.device)
        # (..., n, ..., size) -> (..., n, size, ...) -> (..., n*size, ...)
        flat = g.movedim(-1, dim + 1).flatten(dim, dim + 1)
        return (zeros(self.input_shape, dtype=g.dtype, device=g.device).index_add(dim, positions.reshape(-1), flat),)


@declare(name="unfold_windows", methods=("unfold",), public=False)
def unfold_windows(input, dimension, size, step) -> Tensor:
    """``Tensor.unfold``: every window of ``size`` elements along ``dimension``, ``step``
    apart, as a new last dimension of a view (no copy)."""
    check_tensor(input, "unfold", "input")
    dimension, size, step = (check_int(v, "unfold", n) for v, n in ((dimension, "dimension"), (size, "size"),
                                                                     (step, "step")))
    ndim = input.dim()
    dim = normalize_dim(dimension, max(ndim, 1))
    length = input._shape[dim] if ndim else 1
    if size > length:
        raise RuntimeError(f"maximum size for tensor at dimension {dim} is {length} but size is {size}")
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    stride = input._strides[dim] if ndim else 1
    windows = (length - size) // step + 1
    shape = list(input._shape) + [size] if ndim else [size]
    strides = list(input._strides) + [stride] if ndim else [1]
    if ndim:
        shape[dim], strides[dim] = windows, stride * step
    v = make_view(input, tuple(shape), tuple(strides), input._offset)
    if STATE.enabled and input._requires_grad:
        node = UnfoldBackward0()
        node.input_shape, node.dim, node.size, node.step = input._shape, dim, size, step
        record(node, (input,), v)
    return v


@declare(public=False, methods=("type_as",))
def type_as(input, other) -> Tensor:
    """``input`` converted to ``other``'s dtype (``input`` itself when it has it)."""
    check_tensor(other, "type_as", "other")
    return input.to(other._dtype)


# ---- membership and combinations ----------------------------------------------------------------

@declare()
def isin(elements, test_elements, *, assume_unique=False, invert=False) -> Tensor:
    """True where an element of ``elements`` is among ``test_elements`` (either may be a
    number; ``invert`` negates)."""
    check_bool(assume_unique, "isin", "assume_unique")
    check_bool(invert, "isin", "invert")
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError("isin() received an invalid combination of arguments: elements or test_elements must be "
                        "a Tensor")
    device = (elements if isinstance(elements, Tensor) else test_elements).device
    with no_grad():
        x = elements if isinstance(elements, Tensor) else tensor(elements, device=device)
        t = test_elements if isinstance(test_elements, Tensor) else tensor(test_elements, device=device)
        found = (x.unsqueeze(-1) == t.reshape(-1)).any(-1) if t.numel() else zeros(x._shape, dtype=bool_,
                                                                                   device=device)
    return ~found if invert else found


#: the most elements ``combinations`` enumerates (as Python tuples, ~100 bytes each): beyond,
#: the enumeration alone would exhaust memory, so it is refused at once, as a failed allocation
_MAX_COMBINATION_ELEMENTS = 2 ** 28


@declare()
def combinations(input, r=2, with_replacement=False) -> Tensor:
    """The length-``r`` combinations of a 1-d tensor's elements, one per row, in
    ``itertools.combinations`` order (``with_replacement``: elements may repeat)."""
    check_tensor(input, "combinations", "input")
    r = check_int(r, "combinations", "r")
    check_bool(with_replacement, "combinations", "with_replacement")
    if input.dim() != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input._shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return input.new_empty((0,))
    n = input._shape[0]
    count = math.comb(n + r - 1, r) if with_replacement else math.comb(n, r)
    check_size((count, r), input._dtype.itemsize)
    if count * r > _MAX_COMBINATION_ELEMENTS:
        raise RuntimeError(f"combinations(): {count} combinations of {r} elements would not fit in memory (at "
                           f"most {_MAX_COMBINATION_ELEMENTS} elements are enumerated)")
    if not count:
        return input.new_empty((0, r))
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    rows = list(pick(range(n), r))
    index = tensor(rows, dtype=int64, device=input.device)
    return ops.stack([input.index_select(0, index[:, k]) for k in range(r)], 1)


# ---- the trapezoid rule --------------------------------------------------------------------------
# PyTorch's formulas (and so its grad_fn names): with sample points x, ``dx = diff(x)`` and
# ``sum(dx * (left + right)) / 2``; with a constant dx, ``(sum(y) - (first + last) / 2) * dx``.

def _trapezoid_args(fname, y, x, dx, dim):
    """``(dim, spacing)``: spacing a tensor (differences of ``x``, broadcastable to the
    trapezoids) or a number (``dx``, default 1)."""
    check_tensor(y, fname, "y")
    dim = normalize_dim(check_int(dim, fname, "dim"), max(y.dim(), 1))
    if x is not None and dx is not None:
        raise TypeError(f"{fname}() received an invalid combination of arguments: x and dx cannot both be given")
    if not isinstance(x, Tensor):
        return dim, 1 if x is None and dx is None else (dx if x is None else x)
    if x.dim() == 1:
        if x._shape[0] != y._shape[dim]:
            raise RuntimeError(f"{fname}: There must be one `x` value for each sample point")
        shape = [1] * y.dim()
        shape[dim] = x._shape[0]
        x = x.view(shape)
    n = x._shape[dim]
    return dim, x.narrow(dim, 1, n - 1) - x.narrow(dim, 0, n - 1)


def _without_dim(y, dim):
    return zeros(y._shape[:dim] + y._shape[dim + 1:], dtype=y.dtype, device=y.device)


#: PyTorch's nodes of a tensor times (or divided by) a C++ number, as its trapezoid
#: rule records them (``x * 2.0`` from Python records MulBackward0 instead)
_MulBackward1 = node_class("MulBackward1", (lambda g, factor: g * factor,), ("a",), defaults={"factor": None})
_DivBackward1 = node_class("DivBackward1", (lambda g, factor: g * factor,), ("a",), defaults={"factor": None})


def _by_number(t, factor, node_cls):
    """``t * factor`` (a number), recorded as ``node_cls``."""
    with no_grad():
        r = t * factor
    if STATE.enabled and t._requires_grad:
        record_pointwise(node_cls, r, {"a": t}, (t,), factor=factor)
    return r


def _sides(y, dim):
    n = y._shape[dim]
    return y.narrow(dim, 0, n - 1), y.narrow(dim, 1, n - 1)


@declare()
def trapezoid(y, x=None, *, dx=None, dim=-1) -> Tensor:
    """The trapezoid rule along ``dim``, the spacing from sample points ``x`` or the
    constant ``dx`` (default 1)."""
    dim, spacing = _trapezoid_args("trapezoid", y, x, dx, dim)
    if y._shape[dim] == 0:
        return _without_dim(y, dim)
    if isinstance(spacing, Tensor):
        left, right = _sides(y, dim)
        return _by_number((spacing * (left + right)).sum(dim), 0.5, _DivBackward1)
    return _by_number(y.sum(dim) - (y.select(dim, 0) + y.select(dim, -1)) * 0.5, spacing, _MulBackward1)


@declare()
def trapz(y, x=None, *, dx=None, dim=-1) -> Tensor:
    """``trapezoid`` under NumPy's older name (``trapz(y, x, dim=...)`` or ``trapz(y, dx=...)``)."""
    return trapezoid(y, x, dx=dx, dim=dim)


@declare()
def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1) -> Tensor:
    """The running trapezoid rule along ``dim`` (one element fewer than ``y`` there)."""
    dim, spacing = _trapezoid_args("cumulative_trapezoid", y, x, dx, dim)
    if y._shape[dim] == 0:
        return y.narrow(dim, 0, 0)
    left, right = _sides(y, dim)
    if isinstance(spacing, Tensor):
        return _by_number((spacing * (left + right)).cumsum(dim), 0.5, _DivBackward1)
    return (spacing / 2.0 * (left + right)).cumsum(dim)


# ---- function forms of Tensor methods -------------------------------------------------------------

@declare()
def detach(input) -> Tensor:
    """``input.detach()``: the same data, cut from the graph."""
    check_tensor(input, "detach", "input")
    return input.detach()


@declare()
def detach_(input) -> Tensor:
    """``input.detach_()``: ``input`` cut from the graph, in place."""
    check_tensor(input, "detach_", "input")
    return input.detach_()


class FillBackward0(Node):
    """d fill(a, v) = 0 for a (every element is replaced)"""

    def backward(self, g):
        return (g * 0,)


@declare()
def fill(input, value) -> Tensor:
    """A new tensor of ``input``'s shape and dtype, every element ``value`` (a number or a
    0-d tensor, which gets the gradient's sum)."""
    check_tensor(input, "fill", "input")
    if isinstance(value, Tensor):
        if value.dim():
            raise RuntimeError(f"fill only supports 0-dimension value tensor but got tensor with {value.dim()} "
                               f"dimensions.")
        return value.to(input._dtype).expand(input._shape).clone() if value._requires_grad and STATE.enabled \
            else full(input._shape, value.item(), dtype=input._dtype, device=input.device)
    r = full(input._shape, input._dtype.checked_scalar(value), dtype=input._dtype, device=input.device)
    if STATE.enabled and input._requires_grad:
        record(FillBackward0(), (input,), r)
    return r




# ---- writing a tensor into a view of a copy: the *_scatter ops ------------------------------------

def _slice_view(x, dim, start, end, step):
    return x[(slice(None),) * dim + (slice(start, end, step),)]


_VIEWS = {
    "select": lambda x, a: x.select(a["dim"], a["index"]),
    "slice": lambda x, a: _slice_view(x, a["dim"], a["start"], a["end"], a["step"]),
    "diagonal": lambda x, a: x.diagonal(a["offset"], a["dim1"], a["dim2"]),
    "as_strided": lambda x, a: x.as_strided(a["size"], a["stride"], a["storage_offset"]),
}


class _ScatterBackward(Node):
    """d <view>_scatter(a, src) = (g with the view's elements zeroed, g's view)"""
    __slots__ = ("view", "args")

    def backward(self, g):
        view = _VIEWS[self.view]
        if self.view == "as_strided" and (g._offset or not g.is_contiguous()):
            g = g.clone(memory_format=contiguous_format)   # positions count from a dense layout, as in the forward
        ga = _scatter(self.view, g, ops.zeros_like(view(g, self.args)), self.args) \
            if self.next_functions[0][0] is not None else None
        gs = view(g, self.args) if self.next_functions[1][0] is not None else None
        return ga, gs


_SCATTER_NODES = {v: type(f"{''.join(p.capitalize() for p in v.split('_'))}ScatterBackward0", (_ScatterBackward,),
                          {"__slots__": (), "__doc__": _ScatterBackward.__doc__.replace("<view>", v)})
                  for v in _VIEWS}


def _scatter(kind, input, src, args):
    """A copy of ``input`` with ``src`` written into its ``kind`` view (``args``)."""
    fname = f"{kind}_scatter"
    check_tensor(input, fname, "input")
    check_tensor(src, fname, "src")
    check_same_device(input, src, fname)
    with no_grad():
        r = input.clone()
        target = _VIEWS[kind](r, args)
        if tuple(target.shape) != tuple(src.shape):
            raise RuntimeError(f"{fname}: expected src to have a size equal to the slice of self. src size = "
                               f"{list(src.shape)}, slice size = {list(target.shape)}")
        target.copy_(src)
    if STATE.enabled and (input._requires_grad or src._requires_grad):
        node = _SCATTER_NODES[kind]()
        node.view, node.args = kind, args
        record(node, (input, src), r)
    return r


@declare(method=True)
def select_scatter(input, src, dim, index) -> Tensor:
    """A copy of ``input`` with ``src`` written at ``index`` of ``dim``."""
    return _scatter("select", input, src, {"dim": check_int(dim, "select_scatter", "dim"),
                                          "index": check_int(index, "select_scatter", "index")})


@declare(method=True)
def slice_scatter(input, src, dim=0, start=None, end=None, step=1) -> Tensor:
    """A copy of ``input`` with ``src`` written into ``input[..., start:end:step, ...]`` (on ``dim``)."""
    dim = normalize_dim(check_int(dim, "slice_scatter", "dim"), max(input.dim(), 1))
    return _scatter("slice", input, src, {"dim": dim, "start": start, "end": end, "step": step})


@declare(method=True)
def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1) -> Tensor:
    """A copy of ``input`` with ``src`` written on its diagonal (``offset``, ``dim1``, ``dim2``)."""
    return _scatter("diagonal", input, src, {"offset": offset, "dim1": dim1, "dim2": dim2})


@declare(method=True)
def as_strided_scatter(input, src, size, stride, storage_offset=None) -> Tensor:
    """A copy of ``input`` (contiguous) with ``src`` written at the strided positions."""
    return _scatter("as_strided", input.contiguous() if isinstance(input, Tensor) else input, src,
                    {"size": tuple(size), "stride": tuple(stride), "storage_offset": storage_offset})


# ---- statistics and small constructions ------------------------------------------------------------

@declare(method=True)
def cov(input, *, correction=1, fweights=None, aweights=None) -> Tensor:
    """The covariance matrix of the variables in ``input``'s rows (observations in
    columns), with frequency and observation weights; PyTorch's formula, step by step."""
    check_tensor(input, "cov", "input")
    if input.dim() > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an input with "
                           f"{input.dim()} dimensions")
    if input._dtype is bool_:
        raise RuntimeError("cov(): bool dtype is not supported for input")
    x = input.view(1, -1) if input.dim() < 2 else input
    n = x._shape[1]
    w = None
    for name, weights in (("fweights", fweights), ("aweights", aweights)):
        if weights is None:
            continue
        check_tensor(weights, "cov", name)
        if weights.dim() > 1 or weights.numel() != n:
            raise RuntimeError(f"cov(): expected {name} to have one dimension and {n} elements, got shape "
                               f"{list(weights.shape)}")
        if name == "fweights" and weights.is_floating_point():
            raise RuntimeError("cov(): expected fweights to have integral dtype")
        if bool((weights < 0).any()):
            raise RuntimeError(f"cov(): {name} cannot be negative")
        w = weights if w is None else w * weights
    w_sum = w.sum() if w is not None else tensor(n, device=input.device)
    if w is not None and not bool(w_sum != 0):
        raise RuntimeError("cov(): weights sum to zero, can't be normalized")
    avg = (x * w if w is not None else x).sum(1) / w_sum
    if w is not None and correction != 0 and aweights is not None:
        norm_factor = w_sum - correction * (w * aweights).sum() / w_sum
    else:
        norm_factor = w_sum - correction
    if bool(norm_factor <= 0):
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less than the number of "
                      "observations.", UserWarning, stacklevel=2)
        norm_factor = norm_factor * 0
    x = x - avg.unsqueeze(1)
    c = ops.mm(x, (x * w if w is not None else x).t())
    return ops.true_divide(c, norm_factor).squeeze()


@declare(method=True)
def corrcoef(input) -> Tensor:
    """Pearson's correlation coefficients of the variables in ``input``'s rows."""
    check_tensor(input, "corrcoef", "input")
    if input.dim() > 2:
        raise RuntimeError(f"corrcoef(): expected input to have two or fewer dimensions but got an input with "
                           f"{input.dim()} dimensions")
    c = cov(input)
    if c.dim() == 0:
        return c / c
    stddev = c.diagonal().sqrt()
    c = c / stddev.view(-1, 1)
    c = c / stddev.view(1, -1)
    return c.clip(-1, 1)


@declare()
def vander(x, N=None, increasing=False) -> Tensor:
    """The Vandermonde matrix of a 1-d ``x``: columns ``x**(N-1), ..., x, 1`` (reversed
    when ``increasing``); integers compute in int64, as PyTorch's cumulative product."""
    check_tensor(x, "vander", "x")
    if x.dim() != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x._shape[0] if N is None else check_int(N, "vander", "N")
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    dtype = promote_types(x._dtype, int64)
    result = ops.ones((x._shape[0], n), dtype=dtype, device=x.device)
    if n > 1:
        result[:, 1:] = x.unsqueeze(1).expand(x._shape[0], n - 1).cumprod(1)
    return result if increasing else result.flip([1])


@declare()
def unravel_index(indices, shape) -> tuple:
    """The coordinates, one tensor per dim of ``shape``, of flat ``indices`` into a
    row-major tensor of that shape; like PyTorch, an index out of range wraps around
    (each coordinate is taken modulo its dim's size)."""
    if not isinstance(indices, Tensor):
        raise TypeError(f"unravel_index(): argument 'indices' must be Tensor, not {type(indices).__name__}")
    if indices._dtype.is_floating_point or indices._dtype is bool_:
        raise TypeError(f"expected 'indices' to be integer dtype, but got {indices._dtype}")
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if any(n < 0 for n in shape):
        raise ValueError("'shape' cannot have negative values, but got " + str(shape))
    with no_grad():
        flat = indices.to(int64)
        coords = []
        for n in reversed(shape):
            coords.append(ops.remainder(flat, n))
            flat = ops.floor_divide(flat, n)
    return tuple(reversed(coords))

# ---- norms of differences and of slices: dist, renorm -------------------------------------------------

def _sum_keep(t, dims):
    """``t`` summed over ``dims`` with keepdim (no dims: ``t`` itself, where ``sum(())``
    would sum everything)."""
    return t.sum(dims, keepdim=True) if dims else t


def _p_norm(x, p, dims):
    """The ``p``-norm of ``x`` over ``dims`` (keepdim; differentiable, for the backward
    formulas): 0 counts the nonzero elements, inf takes the largest magnitude."""
    if p == 0:
        return _sum_keep((x != 0).to(x._dtype), dims)
    if p in (float("inf"), float("-inf")):
        if not dims:
            return x.abs()
        return x.abs().amax(dims, keepdim=True) if p > 0 else x.abs().amin(dims, keepdim=True)
    if p == 1:
        return _sum_keep(x.abs(), dims)
    if p == 2:
        return _sum_keep(x * x, dims).sqrt()
    return _sum_keep(x.abs() ** p, dims) ** (1.0 / p)


def _norm_backward(g, x, p, norm, dims):
    """``g * d norm_p(x)/dx`` (``norm`` over ``dims``, kept), PyTorch's rule: 0 for p = 0,
    ``sign(x)`` for p = 1, the gradient split evenly among the largest magnitudes for
    p = +-inf, ``x |x|**(p-2) / norm**(p-1)`` otherwise (0 where the norm is 0)."""
    if p == 0:
        return x * 0 * g
    if p == 1:
        return g * x.sign()
    if p in (float("inf"), float("-inf")):
        hit = (x.abs() == norm).to(x.dtype)
        return g * x.sign() * hit / _sum_keep(hit, dims)
    zero = norm == 0
    safe = ops.where(zero, 1.0, norm)
    if p == 2:
        return ops.where(zero, 0.0, g * x / safe)
    return ops.where(zero, 0.0, g * x * x.abs() ** (p - 2) / safe ** (p - 1))


class DistBackward0(Node):
    """d ||a - b||_p = (dn, -dn), each summed to its operand's shape"""
    __slots__ = ("p",)

    def backward(self, g):
        a, b = self.saved_tensors
        diff = a - b
        dims = tuple(range(diff.dim()))
        grad = _norm_backward(g, diff, self.p, _p_norm(diff, self.p, dims), dims)
        ga = ops.sum_to(grad, a.shape) if self.next_functions[0][0] is not None else None
        gb = -ops.sum_to(grad, b.shape) if self.next_functions[1][0] is not None else None
        return ga, gb


@declare(method=True)
def dist(input, other, p=2) -> Tensor:
    """``norm(input - other, p)`` over every element (the operands broadcast)."""
    check_tensor(input, "dist", "input")
    check_tensor(other, "dist", "other")
    if not input.is_floating_point() or not other.is_floating_point():
        bad = input if not input.is_floating_point() else other
        raise RuntimeError(f"norm(): input dtype should be either floating point or complex. Got "
                           f"{bad._dtype.name.capitalize()} instead.")
    p = float(p)
    with no_grad():
        diff = input - other
        r = _p_norm(diff, p, tuple(range(diff.dim()))).reshape(()) if diff.dim() else _p_norm(diff, p, ())
    if STATE.enabled and (input._requires_grad or other._requires_grad):
        node = DistBackward0()
        node.p = p
        node.save(input, other)
        record(node, (input, other), r)
    return r


class RenormBackward0(Node):
    """d renorm(a, p, dim, maxnorm): PyTorch's renorm_backward (the scale's own
    derivative where a slice was scaled down, g elsewhere)"""
    __slots__ = ("p", "dim", "maxnorm")

    def backward(self, g):
        (x,) = self.saved_tensors
        dims = tuple(d for d in range(x.dim()) if d != self.dim)
        norm = _p_norm(x, self.p, dims)
        nb = _norm_backward(_sum_keep(x * g, dims), x, self.p, norm, dims)
        invnorm = (norm + 1e-7).reciprocal()
        factor = invnorm * self.maxnorm
        return (ops.where(norm > self.maxnorm, factor * g - (factor * invnorm) * nb, g),)


@declare(method=True, inplace=True)
def renorm(input, p, dim, maxnorm) -> Tensor:
    """``input`` with each slice along ``dim`` whose ``p``-norm exceeds ``maxnorm``
    scaled down to norm ``maxnorm`` (by ``maxnorm / (norm + 1e-7)``)."""
    check_tensor(input, "renorm", "input")
    if not input.is_floating_point():
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
                           f"{input._dtype.name.capitalize()}")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    if p <= 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    dim = normalize_dim(check_int(dim, "renorm", "dim"), max(input.dim(), 1))
    dims = tuple(d for d in range(input.dim()) if d != dim)
    with no_grad():
        norm = _p_norm(input, float(p), dims)
        factor = ops.where(norm > maxnorm, maxnorm / (norm + 1e-7), 1.0).to(input._dtype)
        r = input * factor
    if STATE.enabled and input._requires_grad:
        node = RenormBackward0()
        node.p, node.dim, node.maxnorm = float(p), dim, maxnorm
        node.save(input)
        record(node, (input,), r)
    return r


def _fill_diagonal_(self, fill_value, wrap=False):
    """Write ``fill_value`` on the main diagonal of ``self`` (2-d, or every dim the same
    size), in place; ``wrap``: a tall matrix's diagonal starts again every cols + 1 rows."""
    check_tensor(self, "fill_diagonal_", "self")
    if self.dim() < 2:
        raise RuntimeError("dimensions must larger than 1")
    if self.dim() > 2 and len(set(self._shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    n = min(self._shape)
    if self.dim() == 2 and wrap and self._shape[0] > self._shape[1] + 1:
        rows, cols = self._shape
        positions = range(0, rows * cols, cols + 1)
        index = (tensor([q // cols for q in positions], device=self.device),
                 tensor([q % cols for q in positions], device=self.device))
    else:
        diagonal = arange(n, device=self.device)
        index = (diagonal,) * self.dim()
    return self.index_put_(index, tensor(fill_value, dtype=self._dtype, device=self.device))


Tensor.fill_diagonal_ = _fill_diagonal_

# ---- histogram -------------------------------------------------------------------------------------

histogram_result = namedtuple("histogram", ["hist", "bin_edges"])
histogram_result.__repr__ = lambda self: (f"torch.return_types.histogram(\nhist={self.hist!r},\n"
                                          f"bin_edges={self.bin_edges!r})")


class _HistogramNotImplemented(Node):
    """PyTorch records histogram's outputs with a node that has no derivative."""

    def backward(self, g):
        raise RuntimeError("the derivative for 'histogram' is not implemented.")


_HistogramNotImplemented.__name__ = _HistogramNotImplemented.__qualname__ = "NotImplemented"


@declare(method=True)
def histogram(input, bins, *, range=None, weight=None, density=False):
    """``(hist, bin_edges)``: the (weighted) count of ``input``'s elements in each bin;
    ``bins`` a count of equal bins over ``range`` (default: the data's min to max) or a
    1-d tensor of increasing edges. A bin holds [left, right), the last one [left,
    right]; elements outside the edges are not counted; ``density`` normalizes to a
    probability density."""
    check_tensor(input, "histogram", "input")
    if not input.is_floating_point():
        raise NotImplementedError(f"\"histogramdd\" not implemented for '{input._dtype.name.capitalize()}'")
    x = input.detach().reshape(-1)
    with no_grad():
        if isinstance(bins, Tensor):
            if bins.dim() != 1 or bins.numel() < 1:
                raise RuntimeError("histogram(): bins must be a 1D tensor with at least one element")
            edges = bins.detach().to(input._dtype)
        else:
            count = check_int(bins, "histogram", "bins")
            if count <= 0:
                raise RuntimeError(f"histogram(): bins must be > 0, but got {count}")
            if range is not None:
                left, right = float(range[0]), float(range[1])
            elif x.numel():
                left, right = float(x.min()), float(x.max())
            else:
                left, right = 0.0, 1.0
            if left > right:
                raise RuntimeError(f"histogram(): min should not exceed max, but got min {left} max {right}")
            if left == right:
                left, right = left - 0.5, right + 0.5
            edges = ops.linspace(left, right, count + 1, dtype=input._dtype, device=input.device)
        n_bins = edges.numel() - 1
        inside = (x >= edges[0]) & (x <= edges[-1])
        position = (x.unsqueeze(1) >= edges[1:-1]).sum(1) if n_bins > 1 else zeros(x._shape, dtype=int64,
                                                                                     device=x.device)
        one_hot = (position.unsqueeze(1) == arange(n_bins, device=x.device)) & inside.unsqueeze(1)
        counted = one_hot.to(input._dtype)
        if weight is not None:
            check_tensor(weight, "histogram", "weight")
            counted = counted * weight.detach().reshape(-1, 1).to(input._dtype)
        hist = counted.sum(0)
        if density:
            hist = hist / (hist.sum() * (edges[1:] - edges[:-1]))
    if STATE.enabled and (input._requires_grad or (weight is not None and weight._requires_grad)):
        record(_HistogramNotImplemented(), (input,), hist)
    return histogram_result(hist, edges)

# ---- numerical derivatives: gradient ---------------------------------------------------------------

def _along(t, dim, start, stop):
    return t.narrow(dim, start, stop - start)


def _coordinate_weights(x, dim, ndim):
    """``x`` (1-d coordinates) shaped to broadcast along ``dim`` of an ``ndim``-d tensor."""
    shape = [1] * ndim
    shape[dim] = -1
    return x.reshape(shape)


def _gradient_1d(f, dim, h, edge_order):
    """The derivative of ``f`` along ``dim``: central differences inside, one-sided ones
    of ``edge_order`` at the ends; ``h`` a number (uniform spacing) or the coordinates
    along ``dim`` (NumPy's and PyTorch's second-order formulas for uneven spacing)."""
    n = f.shape[dim]
    first, second, third = (_along(f, dim, i, i + 1) for i in range(3)) if n > 2 else (None,) * 3
    lo, mid, hi = _along(f, dim, 0, n - 2), _along(f, dim, 1, n - 1), _along(f, dim, 2, n)
    if not isinstance(h, Tensor):
        inner = (hi - lo) / (2 * h)
        if edge_order == 1:
            start = (_along(f, dim, 1, 2) - _along(f, dim, 0, 1)) / h
            end = (_along(f, dim, n - 1, n) - _along(f, dim, n - 2, n - 1)) / h
        else:
            start = (-1.5 * first + 2 * second - 0.5 * third) / h
            end = (0.5 * _along(f, dim, n - 3, n - 2) - 2 * _along(f, dim, n - 2, n - 1)
                   + 1.5 * _along(f, dim, n - 1, n)) / h
        return ops.cat([start, inner, end], dim)
    x = _coordinate_weights(h, dim, f.dim())
    dx = _along(x, dim, 1, n) - _along(x, dim, 0, n - 1)
    dx1, dx2 = _along(dx, dim, 0, n - 2), _along(dx, dim, 1, n - 1)
    a = -dx2 / (dx1 * (dx1 + dx2))
    b = (dx2 - dx1) / (dx1 * dx2)
    c = dx1 / (dx2 * (dx1 + dx2))
    inner = a * lo + b * mid + c * hi
    if edge_order == 1:
        start = (_along(f, dim, 1, 2) - _along(f, dim, 0, 1)) / _along(dx, dim, 0, 1)
        end = (_along(f, dim, n - 1, n) - _along(f, dim, n - 2, n - 1)) / _along(dx, dim, n - 2, n - 1)
    else:
        d1, d2 = _along(dx, dim, 0, 1), _along(dx, dim, 1, 2)
        start = (-(2 * d1 + d2) / (d1 * (d1 + d2)) * first + (d1 + d2) / (d1 * d2) * second
                 - d1 / (d2 * (d1 + d2)) * third)
        d1, d2 = _along(dx, dim, n - 3, n - 2), _along(dx, dim, n - 2, n - 1)
        end = (d2 / (d1 * (d1 + d2)) * _along(f, dim, n - 3, n - 2)
               - (d2 + d1) / (d1 * d2) * _along(f, dim, n - 2, n - 1)
               + (2 * d2 + d1) / (d2 * (d1 + d2)) * _along(f, dim, n - 1, n))
    return ops.cat([start, inner, end], dim)


@declare()
def gradient(input, *, spacing=1, dim=None, edge_order=1) -> tuple:
    """The derivative of ``input`` along each of ``dim`` (default: every dim), by central
    differences inside and one-sided differences of ``edge_order`` (1 or 2) at the ends.
    ``spacing``: one number for every dim, one number per dim, or one 1-d tensor of
    coordinates per dim."""
    check_tensor(input, "gradient", "input")
    if edge_order not in (1, 2):
        raise RuntimeError(f"torch.gradient only supports edge_order=1 and edge_order=2, but got {edge_order}")
    dims = list(range(input.dim())) if dim is None else ([dim] if isinstance(dim, int) else list(dim))
    dims = [normalize_dim(d, input.dim()) for d in dims]
    if isinstance(spacing, (list, tuple)):
        if len(spacing) != len(dims):
            raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar or it's spacing and "
                               f"dim arguments to have the same length, but got a spacing argument of length "
                               f"{len(spacing)} and a dim argument of length {len(dims)}.")
        steps = list(spacing)
    else:
        steps = [spacing] * len(dims)
    f = input if input.is_floating_point() else input.to(get_default_dtype())
    results = []
    for d, h in zip(dims, steps):
        if f.shape[d] < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least edge_order+1")
        if isinstance(h, Tensor) and (h.dim() != 1 or h.shape[0] != f.shape[d]):
            raise RuntimeError(f"torch.gradient expected each tensor to be on the same device and to have "
                               f"{f.shape[d]} coordinates along dim {d}, got shape {list(h.shape)}")
        results.append(_gradient_1d(f, d, h if isinstance(h, Tensor) else float(h), edge_order))
    return tuple(results)

# ---- index_reduce ----------------------------------------------------------------------------------

_INDEX_REDUCTIONS = ("prod", "mean", "amax", "amin")


def _index_reduce_values(input, dim, index, source, reduce, include_self):
    """The forward, untracked: ``source``'s slices combined into ``input``'s slices at
    ``index`` along ``dim`` through a (len(index), size) one-hot of the positions."""
    n = input.shape[dim]
    hits = index.unsqueeze(1) == arange(n, device=input.device)             # (k, n)
    src = source.movedim(dim, 0).unsqueeze(1)                               # (k, 1, *rest)
    mask = hits.reshape(hits.shape + (1,) * (input.dim() - 1))              # (k, n, 1...)
    base = input.movedim(dim, 0)                                            # (n, *rest)
    count = mask.sum(0)                                                     # (n, 1...)
    touched = count > 0
    if reduce == "prod":
        r = ops.where(mask, src, 1).prod(0).to(input.dtype)
        r = r * base if include_self else r
    elif reduce == "mean":
        total = ops.where(mask, src, 0).sum(0).to(input.dtype)
        total = total + base if include_self else total
        divisor = (count + 1 if include_self else count).clamp(min=1)
        r = total / divisor if input.is_floating_point() else ops.floor_divide(total, divisor)
    else:
        if input.is_floating_point():
            extreme = float("-inf") if reduce == "amax" else float("inf")
        elif input.dtype is bool_:
            extreme = reduce == "amin"
        else:
            extreme = iinfo(input.dtype).min if reduce == "amax" else iinfo(input.dtype).max
        picked = ops.where(mask, src, extreme)
        r = picked.amax(0) if reduce == "amax" else picked.amin(0)
        if include_self:
            r = ops.maximum(r, base) if reduce == "amax" else ops.minimum(r, base)
    return ops.where(touched, r, base).to(input.dtype).movedim(0, dim).contiguous()


class IndexReduceBackward0(Node):
    """d index_reduce(self, dim, index, source, reduce): PyTorch's index_reduce_backward"""
    __slots__ = ("dim", "reduce", "include_self")

    def backward(self, g):
        x, index, source, result = self.saved_tensors
        result = self.output_alias(result)
        dim, reduce = self.dim, self.reduce
        if reduce == "prod":
            masked_self = x.masked_fill(x == 0, 1)
            masked_self_result = index_reduce(masked_self, dim, index, source, reduce,
                                              include_self=self.include_self)
            grad_self = g * masked_self_result / masked_self
            src_zero = source == 0
            src_num_zeros = ops.zeros_like(x).index_add(dim, index, src_zero.to(x.dtype)).index_select(dim, index)
            src_single_zero = src_zero & (src_num_zeros == 1)
            masked_src = source.masked_fill(src_single_zero, 1)
            masked_src_result = index_reduce(x, dim, index, masked_src, reduce, include_self=self.include_self)
            grad_src = ops.where(src_single_zero, (g * masked_src_result).index_select(dim, index),
                                 (g * result).index_select(dim, index) / source.masked_fill(src_zero, 1))
        elif reduce == "mean":
            counts = (ops.ones_like(g) if self.include_self else ops.zeros_like(g)).index_add(
                dim, index, ops.ones_like(source))
            counts = counts.masked_fill(counts == 0, 1)
            grad_self = g / counts
            grad_src = g.index_select(dim, index) / counts.index_select(dim, index)
        else:
            value = result.index_select(dim, index)
            self_is_result = (x == result).to(x.dtype)
            if not self.include_self:
                self_is_result = self_is_result.index_fill(dim, index, 0)
            source_is_result = (source == value).to(x.dtype)
            shares = self_is_result.index_add(dim, index, source_is_result)
            spread = g / shares.masked_fill(shares == 0, 1)
            grad_self = self_is_result * spread
            grad_src = source_is_result * spread.index_select(dim, index)
        if not self.include_self:
            grad_self = grad_self.index_fill(dim, index, 0)
        return (grad_self if self.next_functions[0][0] is not None else None,
                grad_src if self.next_functions[1][0] is not None else None)


@declare(method=True, inplace=True)
def index_reduce(input, dim, index, source, reduce, *, include_self=True) -> Tensor:
    """``input`` with the slices of ``source`` combined into its slices at ``index``
    along ``dim`` by ``reduce`` ("prod", "mean", "amax" or "amin"); ``include_self``:
    ``input``'s own values take part (otherwise they are only kept where no index points)."""
    check_tensor(input, "index_reduce", "input")
    check_tensor(index, "index_reduce", "index")
    check_tensor(source, "index_reduce", "source")
    if reduce not in _INDEX_REDUCTIONS:
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got "
                           f"{reduce}.")
    check_bool(include_self, "index_reduce", "include_self")
    dim = normalize_dim(check_int(dim, "index_reduce", "dim"), max(input.dim(), 1))
    if index.dim() > 1 or index._dtype.is_floating_point or index._dtype is bool_:
        raise RuntimeError("index_reduce_(): Index is supposed to be a vector of integers")
    if source.dim() != input.dim() or source.shape[dim] != index.numel() or any(
            a != b for i, (a, b) in enumerate(zip(source.shape, input.shape)) if i != dim):
        raise RuntimeError(f"index_reduce_(): Source/destination tensor must have same slice shapes and "
                           f"the source must have index.numel() = {index.numel()} slices along dim {dim}; got "
                           f"source {list(source.shape)} and self {list(input.shape)}")
    if source._dtype is not input._dtype:
        raise RuntimeError(f"index_reduce_(): self ({input._dtype}) and source ({source._dtype}) must have the "
                           f"same scalar type")
    index = index.reshape(-1)
    if index.numel() and bool(((index < 0) | (index >= input.shape[dim])).any()):
        raise IndexError(f"index out of range in self (index_reduce along dim {dim} of size {input.shape[dim]})")
    with no_grad():
        r = _index_reduce_values(input, dim, index, source, reduce, include_self)
    if STATE.enabled and (input._requires_grad or source._requires_grad):
        node = IndexReduceBackward0()
        node.dim, node.reduce, node.include_self = dim, reduce, include_self
        node.save(input, index, source, r.detach())
        record(node, (input, source), r)
    return r

# ---- Poisson and binomial samples ---------------------------------------------------------------------
# Exact samplers written with plugrad ops, so every device draws them from its own uniform
# stream: inversion of the CDF where the mean is small, and Hörmann's transformed
# rejection (PTRS for Poisson, BTRS for binomial, as NumPy and PyTorch use) where it is
# large; each loop runs until every element has been accepted.

def _uniform(like, generator):
    return ops.rand(like.shape, dtype=like.dtype, device=like.device, generator=generator)


def _compute_dtype(x):
    return float32 if x.dtype is float16 else x.dtype


def _poisson_by_inversion(lam, generator):
    """k with CDF(k - 1) < u <= CDF(k): the first index where the running CDF passes u."""
    u = _uniform(lam, generator)
    p = ops.exp(-lam)
    cdf = p
    k = ops.zeros_like(lam)
    active = u > cdf
    step = 0
    while bool(active.any()) and step < 1000:   # the rates here are < 10: tails end well before
        step += 1
        p = p * lam / step
        cdf = cdf + p
        k = k + active.to(k.dtype)
        active = active & (u > cdf)
    return k


def _poisson_by_ptrs(lam, generator):
    """Hörmann's PTRS for rates of 10 and more."""
    slam, loglam = lam.sqrt(), lam.log()
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    log_inv_alpha = (1.1239 + 1.1328 / (b - 3.4)).log()
    vr = 0.9277 - 3.6224 / (b - 2)
    result = ops.zeros_like(lam)
    pending = ops.ones_like(lam, dtype=bool_)
    while bool(pending.any()):
        u = _uniform(lam, generator) - 0.5
        v = _uniform(lam, generator)
        us = 0.5 - u.abs()
        k = ((2 * a / us + b) * u + lam + 0.43).floor()
        quick = (us >= 0.07) & (v <= vr)
        possible = (k >= 0) & ~((us < 0.013) & (v > us))
        log_ratio = v.log() + log_inv_alpha - (a / (us * us) + b).log()
        accepted = quick | (possible & (log_ratio <= -lam + k * loglam - ops.lgamma(k + 1)))
        take = pending & accepted
        result = ops.where(take, k, result)
        pending = pending & ~take
    return result


class PoissonBackward0(Node):
    """d poisson(rate) = 0 (a sample does not move with its rate)"""

    def backward(self, g):
        return (g * 0,)


@declare()
def poisson(input, generator=None) -> Tensor:
    """A Poisson sample for each element of ``input`` (its rate, >= 0)."""
    check_tensor(input, "poisson", "input")
    if not input.is_floating_point():
        raise NotImplementedError(f"\"poisson_cpu\" not implemented for '{input._dtype.name.capitalize()}'")
    with no_grad():
        if input.numel() and bool((input < 0).any()):
            raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
        lam = input.to(_compute_dtype(input))
        large = lam >= 10
        k = _poisson_by_inversion(ops.where(large, 0.0, lam), generator)
        if bool(large.any()):
            k = ops.where(large, _poisson_by_ptrs(ops.where(large, lam, 10.0), generator), k)
        r = k.to(input._dtype)
    if STATE.enabled and input._requires_grad:
        record(PoissonBackward0(), (input,), r)
    return r


def _binomial_by_inversion(n, p, generator):
    """The number of successes by inverting the CDF (for n * p below 10)."""
    u = _uniform(p, generator)
    q = 1 - p
    pmf = q ** n
    cdf = pmf
    k = ops.zeros_like(p)
    active = (u > cdf) & (n > 0)
    while bool(active.any()):
        pmf = pmf * (n - k) / (k + 1) * p / q
        k = k + active.to(k.dtype)
        cdf = cdf + pmf
        active = active & (u > cdf) & (k < n)
    return k


def _binomial_by_btrs(n, p, generator):
    """Hörmann's BTRS for n * p of 10 and more (p <= 1/2)."""
    spq = (n * p * (1 - p)).sqrt()
    b = 1.15 + 2.53 * spq
    a = -0.0873 + 0.0248 * b + 0.01 * p
    c = n * p + 0.5
    v_r = 0.92 - 4.2 / b
    r = p / (1 - p)
    alpha = (2.83 + 5.1 / b) * spq
    m = ((n + 1) * p).floor()
    result = ops.zeros_like(p)
    pending = ops.ones_like(p, dtype=bool_)
    while bool(pending.any()):
        u = _uniform(p, generator) - 0.5
        v = _uniform(p, generator)
        us = 0.5 - u.abs()
        k = ((2 * a / us + b) * u + c).floor()
        valid = (k >= 0) & (k <= n)
        quick = (us >= 0.07) & (v <= v_r)
        v2 = (v * alpha / (a / (us * us) + b)).log()
        upper = (m + 0.5) * ((m + 1) / (r * (n - m + 1))).log() + (n + 1) * ((n - m + 1) / (n - k + 1)).log() \
            + (k + 0.5) * (r * (n - k + 1) / (k + 1)).log() + _stirling_tail(m) + _stirling_tail(n - m) \
            - _stirling_tail(k) - _stirling_tail(n - k)
        accepted = valid & (quick | (v2 <= upper))
        take = pending & accepted
        result = ops.where(take, k, result)
        pending = pending & ~take
    return result


def _stirling_tail(k):
    """``lgamma(k + 1) - (k + 1/2) log(k + 1) + (k + 1) - log(sqrt(2 pi))``, the
    correction BTRS's bound uses, computed from lgamma."""
    return ops.lgamma(k + 1) - (k + 0.5) * (k + 1).log() + (k + 1) - 0.5 * math.log(2 * math.pi)


class _BinomialNotImplemented(Node):
    """PyTorch records binomial's output with a node that has no derivative."""

    def backward(self, g):
        raise RuntimeError("the derivative for 'binomial' is not implemented.")


_BinomialNotImplemented.__name__ = _BinomialNotImplemented.__qualname__ = "NotImplemented"


@declare()
def binomial(count, prob, generator=None) -> Tensor:
    """A binomial sample (successes in ``count`` trials of probability ``prob``) per
    element; a probability beyond [0, 1] is clamped, a negative count gives 0."""
    check_tensor(count, "binomial", "count")
    check_tensor(prob, "binomial", "prob")
    for name, t in (("count", count), ("prob", prob)):
        if not t.is_floating_point():
            raise ValueError(f"binomial only supports floating-point dtypes for {name}, got: "
                             f"{t._dtype.name.capitalize()}")
    with no_grad():
        dtype = _compute_dtype(count)
        n, p = ops.broadcast_tensors(count.to(dtype).clamp(min=0).floor(), prob.to(dtype).clamp(0, 1))
        flip = p > 0.5
        q = ops.where(flip, 1 - p, p)
        large = n * q >= 10
        k = _binomial_by_inversion(ops.where(large, 0.0, n), ops.where(large | (q == 0), 0.25, q), generator)
        k = ops.where(q == 0, 0.0, k)
        if bool(large.any()):
            k = ops.where(large, _binomial_by_btrs(ops.where(large, n, 40.0), ops.where(large, q, 0.25), generator), k)
        r = ops.where(flip, n - k, k).to(count._dtype)
    if STATE.enabled and (count._requires_grad or prob._requires_grad):
        record(_BinomialNotImplemented(), (count, prob), r)
    return r


__all__ = names_declared_in(__name__)   # every op declared above, with its aliases
