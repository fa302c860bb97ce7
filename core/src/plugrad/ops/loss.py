"""Loss functions, each with PyTorch's checks, reductions and ``grad_fn`` names.

``mse_loss``, ``smooth_l1_loss``, ``huber_loss``, ``nll_loss``, ``binary_cross_entropy``
and ``binary_cross_entropy_with_logits`` are ops of their own (``MseLossBackward0``...)
with one-line gradient formulas; ``l1_loss`` and ``cross_entropy`` are compositions,
as they are in PyTorch (``cross_entropy`` = ``log_softmax`` + ``nll_loss``).
Every loss takes ``reduction`` = ``'mean'`` | ``'sum'`` | ``'none'``.
"""

from __future__ import annotations

import warnings

from ..autograd.grad_mode import STATE, no_grad
from ..autograd.graph import Node, record
from ..creation import zeros
from ..dtypes import can_cast, int64, promote_types, uint8
from ..layout import broadcast_shapes
from ..optable import ops
from ..tensor import Tensor
from .checks import check_int, check_tensor, check_tensors, type_name
from .elementwise import log, log1p, exp, where, sigmoid
from .reduction import log_softmax
from .declare import declare

__all__ = ["mse_loss", "l1_loss", "nll_loss", "cross_entropy", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "smooth_l1_loss", "huber_loss", "legacy_reduction"]

_REDUCTIONS = ("mean", "sum", "none")


def legacy_reduction(size_average, reduce, reduction="mean") -> str:
    """The ``reduction`` meant by the deprecated ``size_average``/``reduce`` flags."""
    if size_average is None and reduce is None:
        return reduction
    warnings.warn("size_average and reduce args will be deprecated, please use reduction='{}' instead.".format(
        "none" if reduce is False else "mean" if size_average in (None, True) else "sum"), UserWarning, stacklevel=3)
    if reduce is False:
        return "none"
    return "mean" if size_average in (None, True) else "sum"


def _check_reduction(reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


def _spread(g: Tensor, reduction: str, n: int):
    """The upstream gradient of a reduced loss as the per-element factor."""
    if reduction == "mean":
        return g / n
    return g


def _common_dtype(input, target):
    """Both operands in their promoted dtype (PyTorch's pointwise losses broadcast the
    operands first, so the promotion ignores which one is 0-d): a bool target of a
    float input is read as 0 and 1."""
    if input._dtype is target._dtype:
        return input, target
    dt = promote_types(input._dtype, target._dtype)
    return input.to(dt), target.to(dt)


def _warn_broadcast(input, target):
    if input._shape != target._shape:
        warnings.warn(f"Using a target size ({target.shape!r}) that is different to the input size "
                      f"({input.shape!r}). This will likely lead to incorrect results due to broadcasting. "
                      f"Please ensure they have the same size.", UserWarning, stacklevel=3)


# ---- regression --------------------------------------------------------------------------

class MseLossBackward0(Node):
    """d mean((x - y)^2) = (2 (x - y) g / n, -2 (x - y) g / n)"""
    __slots__ = ("reduction", "n")

    def backward(self, g):
        x, y = self.saved_tensors
        gx = 2 * (x - y) * _spread(g, self.reduction, self.n)
        return gx, -gx


def _record_pointwise(node_cls, input, target, r, reduction, n, **params) -> Tensor:
    """``r``, with the pointwise loss's one node (PyTorch's name) recorded when a gradient
    is needed; the node keeps the reduction, the element count and ``params``."""
    if STATE.enabled and (input._requires_grad or target._requires_grad):
        node = node_cls()
        node.reduction, node.n = reduction, n
        for name, value in params.items():
            setattr(node, name, value)
        node.save(input, target)
        record(node, (input, target), r)
    return r


@declare(public=False)
def mse_loss(input, target, size_average=None, reduce=None, reduction="mean") -> Tensor:
    """Mean (or sum, or elementwise) squared error."""
    check_tensors("mse_loss", input=input, target=target)
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    _warn_broadcast(input, target)
    input, target = _common_dtype(input, target)
    with no_grad():
        d = input - target
        sq = d * d
        r = _reduce(sq, reduction)
    return _record_pointwise(MseLossBackward0, input, target, r, reduction, sq.numel())


@declare(public=False)
def l1_loss(input, target, size_average=None, reduce=None, reduction="mean") -> Tensor:
    """Mean (or sum, or elementwise) absolute error."""
    check_tensors("l1_loss", input=input, target=target)
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    _warn_broadcast(input, target)
    return _reduce((input - target).abs(), reduction)


def _smooth_grads(node, g, width, scale):
    """The gradients of a loss quadratic within ``width`` of the target and linear beyond:
    ``scale`` times (d / width inside, sign(d) outside), for input and target."""
    x, y = node.saved_tensors
    d = x - y
    gx = where(d.abs() < width, d * (scale / width), d.sign() * scale) * _spread(g, node.reduction, node.n)
    return gx, -gx


class SmoothL1LossBackward0(Node):
    """d smooth_l1(x - y) = (d / beta g, -d / beta g) where |d| < beta, (sign(d) g, -sign(d) g) elsewhere"""
    __slots__ = ("reduction", "n", "beta")

    def backward(self, g):
        return _smooth_grads(self, g, self.beta, 1.0)


@declare(public=False)
def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0) -> Tensor:
    """Squared error below ``beta`` (halved, over beta), absolute error minus beta/2 above it
    (``l1_loss`` for ``beta == 0``, as in PyTorch)."""
    check_tensors("smooth_l1_loss", input=input, target=target)
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if not beta >= 0:   # NaN too
        raise RuntimeError(f"smooth_l1_loss does not support negative or NaN values for beta, got {beta}")
    _warn_broadcast(input, target)
    input, target = _common_dtype(input, target)
    if beta == 0:
        return _reduce((input - target).abs(), reduction)
    with no_grad():
        d = (input - target).abs()
        loss = where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta)
        r = _reduce(loss, reduction)
    return _record_pointwise(SmoothL1LossBackward0, input, target, r, reduction, loss.numel(), beta=beta)


class HuberLossBackward0(Node):
    """d huber(x - y) = (d g, -d g) where |d| < delta, (delta sign(d) g, -delta sign(d) g) elsewhere"""
    __slots__ = ("reduction", "n", "delta")

    def backward(self, g):
        return _smooth_grads(self, g, self.delta, self.delta)


@declare(public=False)
def huber_loss(input, target, reduction="mean", delta=1.0) -> Tensor:
    """Squared error (halved) below ``delta``, ``delta * (|d| - delta/2)`` above it."""
    check_tensors("huber_loss", input=input, target=target)
    _check_reduction(reduction)
    if not delta > 0:   # NaN too
        raise RuntimeError(f"huber_loss does not support non-positive or NaN values for delta, got {delta}")
    _warn_broadcast(input, target)
    if target._dtype is not input._dtype:   # the loss has the input's dtype
        common = promote_types(input._dtype, target._dtype)
        if not can_cast(common, input._dtype):
            raise RuntimeError(f"result type {type_name(common)} can't be cast to the desired output type "
                               f"{type_name(input._dtype)}")
        target = target.to(input._dtype)
    with no_grad():
        d = (input - target).abs()
        loss = where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta))
        r = _reduce(loss, reduction)
    return _record_pointwise(HuberLossBackward0, input, target, r, reduction, loss.numel(), delta=delta)


# ---- classification ------------------------------------------------------------------------

class NllLossBackward0(Node):
    """d nll(x, t) = -w[t] g (/ total weight for 'mean') at x[i, t_i], zero elsewhere"""
    __slots__ = ("reduction", "in_shape")

    def backward(self, g):
        safe_t, w_t, total = self.saved_tensors
        coef = -w_t * g if self.reduction != "mean" else -w_t * (g / total)
        z = zeros(self.in_shape, dtype=g._dtype, device=g.device)
        return (ops.scatter(z, 1, safe_t.unsqueeze(1), coef.unsqueeze(1).to(g._dtype)),)


class NllLoss2DBackward0(NllLossBackward0):
    """d nll(x, t) for images (N, C, H, W): as NllLossBackward0"""


def _check_class_args(input, weight, ignore_index, fname, same_dtype=True):
    """The parser's and the kernel's checks of ``weight`` and ``ignore_index``: a Tensor
    (TypeError) of the input's dtype (RuntimeError; class probabilities promote instead),
    an int (TypeError)."""
    if type(ignore_index) is not int:
        check_int(ignore_index, fname, "ignore_index")
    if weight is not None:
        check_tensor(weight, fname, "weight")
        if same_dtype and weight._dtype is not input._dtype:
            raise RuntimeError(f"expected scalar type {type_name(input._dtype)} but found "
                               f"{type_name(weight._dtype)}")


def _class_target_checks(input, target):
    """PyTorch's checks of class-index targets, in its order: batch sizes (ValueError),
    then the target's dtype, rank and shape (RuntimeError)."""
    n_dim = input.dim()
    if n_dim < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {n_dim})")
    t_shape = target._shape
    if n_dim != 1 and input._shape[0] != (t_shape[0] if t_shape else 0):
        raise ValueError(f"Expected input batch_size ({input._shape[0]}) to match target batch_size "
                         f"({t_shape[0] if t_shape else 0}).")
    if target._dtype not in (int64, uint8):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {type_name(target._dtype)}")
    if n_dim <= 2:
        if len(t_shape) > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        if n_dim == 1 and t_shape and t_shape[0] != 1:
            raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: {t_shape[0]}")
        return
    if n_dim == 4 and len(t_shape) != 3:
        raise RuntimeError(f"only batches of spatial targets supported (3D tensors) but got targets of "
                           f"dimension: {len(t_shape)}")
    if tuple(t_shape[1:]) != tuple(input._shape[2:]):
        raise RuntimeError(f"size mismatch (got input: {list(input._shape)} , target: {list(t_shape)})")
    if n_dim != 4 and not input._shape[1] and target.numel():
        # PyTorch folds a 3-d or 5-d+ input to 4-d, which fails for an input without classes
        raise RuntimeError(f"input of shape {list(input._shape)} has no classes (dim 1 is empty) for a target of "
                           f"{target.numel()} elements: expected at least one class")


_INT64_MAX = (1 << 63) - 1


@declare(public=False)
def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean") -> Tensor:
    """Negative log likelihood of class indices ``target`` under log-probabilities ``input``
    (N, C, ...) or (C,), with per-class ``weight`` and an ``ignore_index``."""
    check_tensors("nll_loss", input=input, target=target)
    _check_class_args(input, weight, ignore_index, "nll_loss")
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    _class_target_checks(input, target)
    batched = input.dim() > 1
    x = input if batched else input.unsqueeze(0)
    t = (target if batched else target.reshape(1)).long()   # a 1-d input takes a target of shape () or (1,)
    c = x._shape[1]
    if weight is not None and weight._shape != (c,):
        raise RuntimeError(f"weight tensor should be defined either for all {c} classes or no classes but got "
                           f"weight tensor of shape: {list(weight._shape)}")
    with no_grad():
        keep = t != ignore_index
        safe_t = where(keep, t, 0)   # an ignored target may be any number: it reads class 0 instead
        if t.numel():
            if c:
                lo, hi = int(safe_t.min()), int(safe_t.max())
            else:   # no class at all: any target not ignored is out of bounds
                lo, hi = int(where(keep, t, _INT64_MAX).min()), int(where(keep, t, -1).max())
            if lo < 0 or hi >= c:
                raise IndexError(f"Target {lo if lo < 0 else hi} is out of bounds.")
        if c:
            w_t = keep.to(x._dtype) if weight is None else where(keep, weight.to(x._dtype)[safe_t], 0.0)
            picked = x.detach().gather(1, safe_t.unsqueeze(1)).squeeze(1)
        else:   # no classes: every target was ignored, nothing is picked
            w_t = picked = t.new_zeros(t._shape, dtype=x._dtype)
        loss = where(keep, -picked * w_t, 0.0)   # an ignored target adds 0 even where its input is NaN
        total = w_t.sum()
        if reduction == "none":
            r = loss if batched else loss.reshape(()).clone()
        elif reduction == "sum":
            r = loss.sum()
        else:
            r = loss.sum() / total
    if STATE.enabled and input._requires_grad:
        node = NllLoss2DBackward0() if x.dim() == 4 else NllLossBackward0()
        node.reduction, node.in_shape = reduction, x._shape
        node.save(safe_t, w_t, total)
        record(node, (input,), r)
    return r


class DivBackward1(Node):
    """d(a / n) = g / n for a Python number n (PyTorch's ``div(Tensor, Scalar)``, which its
    losses use to average: the name ``cross_entropy`` with class probabilities records)"""
    __slots__ = ("n",)

    def backward(self, g):
        return (g / self.n,)


def _mean_over(total: Tensor, n) -> Tensor:
    """``total / n`` recorded as ``DivBackward1``."""
    with no_grad():
        r = total / n
    if STATE.enabled and total._requires_grad:
        node = DivBackward1()
        node.n = n
        record(node, (total,), r)
    return r


def _probability_target_loss(logp, target, weight, reduction, label_smoothing, cdim):
    c = logp._shape[cdim]
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + label_smoothing / c
    prod = logp * target
    if weight is not None:
        prod = prod * weight.reshape((c,) + (1,) * (logp.dim() - cdim - 1))
    if reduction == "none":
        return -prod.sum(cdim)
    if reduction == "sum":
        return -prod.sum()
    return _mean_over(-prod.sum(), logp.numel() // c if c else 0)


@declare(public=False)
def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0) -> Tensor:
    """``nll_loss(log_softmax(input, 1), target)`` for class indices; for class
    probabilities (``target`` shaped like ``input``), ``-sum(target * log_softmax)``.
    A 1-d input is one sample, its classes along dim 0."""
    check_tensors("cross_entropy", input=input, target=target)
    _check_class_args(input, weight, ignore_index, "cross_entropy", same_dtype=False)   # nll_loss checks it
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    cdim = 0 if input.dim() == 1 else 1
    if target._shape == input._shape:   # class probabilities
        if not target._dtype.is_floating_point:
            raise RuntimeError(f"Expected floating point type for target with class probabilities, got "
                               f"{type_name(target._dtype)}")
        return _probability_target_loss(log_softmax(input, cdim), target, weight, reduction, label_smoothing, cdim)
    if not input._shape:   # PyTorch's log_softmax over dim 1 of a 0-d input
        raise IndexError("cross_entropy(): expected an input with a class dim (1-d or more), got a 0-d input")
    _class_target_checks(input, target)
    logp = log_softmax(input, cdim)
    nll = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    if label_smoothing > 0:
        c = input._shape[cdim]
        keep = (target != ignore_index)
        per_class = logp if weight is None else logp * weight.reshape((c,) + (1,) * (input.dim() - cdim - 1))
        smooth = where(keep, -per_class.sum(cdim), 0.0)
        if reduction == "sum":
            smooth = smooth.sum()
        elif reduction == "mean":
            with no_grad():
                safe = where(keep, target, 0)
                denom = keep.sum() if weight is None else where(keep, weight[safe], 0.0).sum()
            smooth = smooth.sum() / denom
        nll = (1 - label_smoothing) * nll + (label_smoothing / c) * smooth
    return nll


# ---- binary --------------------------------------------------------------------------------

def _check_same_size(input, target, message):
    if input._shape != target._shape:
        raise ValueError(message)


def _check_broadcasts_to(t: Tensor, shape: tuple, name: str) -> None:
    """``t`` must broadcast to the loss's ``shape`` without growing it (PyTorch scales the
    loss by it in place)."""
    if t._shape != shape and broadcast_shapes(t._shape, shape) != shape:
        raise RuntimeError(f"{name} of shape {list(t._shape)} does not broadcast to the loss's shape {list(shape)}")


def _check_float_target(input, target):
    if target._dtype is not input._dtype:
        raise RuntimeError(f"Found dtype {target._dtype.name.capitalize()} but expected "
                           f"{input._dtype.name.capitalize()}")


class BinaryCrossEntropyBackward0(Node):
    """d bce(x, y) = (w (x - y) / max(x (1 - x), 1e-12) g, w (log(1 - x) - log(x)) g)"""
    __slots__ = ("reduction", "n")

    def backward(self, g):
        x, y, w = self.saved_tensors
        gs = _spread(g, self.reduction, self.n)
        if w is not None:
            gs = gs * w
        need = [f is not None for f, _ in self.next_functions]
        gx = gs * (x - y) / ((1 - x) * x).clamp(min=1e-12) if need[0] else None
        gy = gs * (log(1 - x).clamp(min=-100) - log(x).clamp(min=-100)) if need[1] else None
        return gx, gy


@declare(public=False)
def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean") -> Tensor:
    """``-w (y log x + (1 - y) log(1 - x))`` for probabilities ``x`` (logs clamped at -100)."""
    check_tensors("binary_cross_entropy", input=input, target=target)
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    _check_same_size(input, target, f"Using a target size ({target.shape!r}) that is different to the input size "
                                    f"({input.shape!r}) is deprecated. Please ensure they have the same size.")
    _check_float_target(input, target)
    with no_grad():
        x, y = input.detach(), target.detach()
        for t, name in ((x, "input"), (y, "target")):   # a NaN is out of range too
            if t.numel() and not bool(((t >= 0) & (t <= 1)).all()):
                raise RuntimeError(f"all elements of {name} should be between 0 and 1")
        loss = -(y * log(x).clamp(min=-100) + (1 - y) * log(1 - x).clamp(min=-100))
        w = None
        if weight is not None:
            w = check_tensor(weight, "binary_cross_entropy", "weight").detach().to(input._dtype)
            w = w.expand(input._shape) if w._shape != input._shape else w
            loss = loss * w
        r = _reduce(loss, reduction)
    if STATE.enabled and (input._requires_grad or target._requires_grad):
        node = BinaryCrossEntropyBackward0()
        node.reduction, node.n = reduction, input.numel()
        node.save(input, target, w)
        record(node, (input, target), r)
    return r


class BinaryCrossEntropyWithLogitsBackward0(Node):
    """d bce(sigmoid(x), y) = (w ((1 + (p - 1) y) sigmoid(x) - p y) g, w (-x + (p - 1) softplus(-x)) g)"""
    __slots__ = ("reduction", "n")

    def backward(self, g):
        x, y, w, pw = self.saved_tensors
        gs = _spread(g, self.reduction, self.n)
        if w is not None:
            gs = gs * w
        need = [f is not None for f, _ in self.next_functions]
        gx = gy = None
        if pw is None:
            if need[0]:
                gx = gs * (sigmoid(x) - y)
            if need[1]:
                gy = -gs * x
        else:
            if need[0]:
                gx = gs * ((1 + (pw - 1) * y) * sigmoid(x) - pw * y)
            if need[1]:
                gy = gs * (-x + (pw - 1) * _softplus_neg(x))
        return gx, gy


def _softplus_neg(x):
    """``log(1 + exp(-x))`` without overflow."""
    return log1p(exp(-x.abs())) + (-x).clamp(min=0)


@declare(public=False)
def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None) -> Tensor:
    """Binary cross entropy of ``sigmoid(input)``, computed stably from the logits;
    ``pos_weight`` weighs the positive term per class."""
    check_tensors("binary_cross_entropy_with_logits", input=input, target=target)
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    _check_same_size(input, target, f"Target size ({target.shape!r}) must be the same as input size "
                                    f"({input.shape!r})")
    if not target._dtype.is_floating_point:
        raise RuntimeError(f"result type Float can't be cast to the desired output type "
                           f"{target._dtype.name.capitalize()}")
    for t, name in ((weight, "weight"), (pos_weight, "pos_weight")):
        if t is not None:
            check_tensor(t, "binary_cross_entropy_with_logits", name)
            _check_broadcasts_to(t, input._shape, name)
    dt = target._dtype   # the loss has the target's dtype (PyTorch computes it into a copy of 1 - target)
    with no_grad():
        x, y = input.detach().to(dt), target.detach()
        sp = _softplus_neg(x)
        if pos_weight is None:
            loss = (1 - y) * x + sp
        else:
            pos_weight = pos_weight.detach()
            loss = (1 - y) * x + (1 + (pos_weight - 1).to(dt) * y) * sp   # a bool pos_weight fails at - 1
            pos_weight = pos_weight.to(dt)
        w = None
        if weight is not None:
            w = weight.detach().to(dt)
            loss = loss * w
        r = _reduce(loss, reduction)
    if STATE.enabled and (input._requires_grad or target._requires_grad):
        node = BinaryCrossEntropyWithLogitsBackward0()
        node.reduction, node.n = reduction, input.numel()
        node.save(input, target, w, pos_weight)
        record(node, (input, target), r)
    return r
