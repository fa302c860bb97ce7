"""Ops PyTorch programs reach for beside the big families: ``ravel``, the sliding-window
view ``Tensor.unfold``, ``type_as``, ``isin``, ``combinations``, the trapezoid rule
(``trapezoid``/``trapz``/``cumulative_trapezoid``), and the function forms of
``detach``/``detach_``/``fill``. Each is a composition of existing ops (every device
gets it without a kernel); the sliding window is a strided view with its own node.
"""

from __future__ import annotations

import itertools

from ..autograd.grad_mode import STATE, no_grad
from ..autograd.graph import Node, record
from ..creation import arange, full, tensor, zeros
from ..dtypes import bool_, int64
from ..layout import normalize_dim
from ..optable import ops
from ..tensor import Tensor, make_view
from .checks import check_int, check_tensor
from .declare import declare, names_declared_in
from .pointwise import node_class, record_pointwise
from .dispatch import check_bool

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
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    rows = list(pick(range(input._shape[0]), r))
    if not rows:
        return input.new_empty((0, r))
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


__all__ = names_declared_in(__name__)   # every op declared above, with its aliases
