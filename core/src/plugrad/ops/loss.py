"""Loss functions, each with PyTorch's checks, reductions and ``grad_fn`` names.

``mse_loss``, ``smooth_l1_loss``, ``huber_loss``, ``nll_loss``, ``binary_cross_entropy``
and ``binary_cross_entropy_with_logits`` are ops of their own (``MseLossBackward0``...)
with one-line gradient formulas; ``l1_loss`` and ``cross_entropy`` are compositions,
as they are in PyTorch (``cross_entropy`` = ``log_softmax`` + ``nll_loss``).
Every loss takes ``reduction`` = ``'mean'`` | ``'sum'`` | ``'none'``.
"""

from __future__ import annotations

import math
import warnings

from ..autograd.grad_mode import STATE, no_grad
from ..autograd.graph import Node, record
from ..creation import zeros
from ..dtypes import bool_, can_cast, get_default_dtype, int64, promote_types, uint8
from ..hostchecks import validating
from ..layout import broadcast_shapes
from ..optable import ops
from ..tensor import Tensor
from .checks import check_device, check_floating, check_int, check_tensor, check_tensors, type_name
from .dispatch import check_bool
from .elementwise import log, log1p, exp, where, sigmoid
from .reduction import log_softmax, norm
from .declare import declare

__all__ = ["mse_loss", "l1_loss", "nll_loss", "cross_entropy", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "smooth_l1_loss", "huber_loss", "legacy_reduction", "kl_div",
           "poisson_nll_loss", "gaussian_nll_loss", "margin_ranking_loss", "hinge_embedding_loss", "soft_margin_loss",
           "multilabel_soft_margin_loss", "multilabel_margin_loss", "multi_margin_loss", "pairwise_distance",
           "cosine_similarity", "cosine_embedding_loss", "triplet_margin_loss", "triplet_margin_with_distance_loss",
           "ctc_loss", "pdist"]

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
            with validating:   # a bounds check only: plugrad.compile's replays skip it (plugrad.hostchecks)
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
            with validating:
                bad = t.numel() and not bool(((t >= 0) & (t <= 1)).all())
            if bad:
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


# ---- more losses: divergence, count and Gaussian likelihoods, margins, embeddings ----------------

class _Named(Node):
    """A node that passes the gradient unchanged to a composition's own graph, so that the
    result's ``grad_fn`` has PyTorch's name for an op whose derivative is the composition's
    (``CtcLossBackward0``, ``NormBackward1``...); subclasses only name it."""
    __slots__ = ()

    def backward(self, g):
        return (g,)


def _named(node_cls, r: Tensor) -> Tensor:
    """``r``'s values with a ``node_cls`` node over ``r``'s graph (when it has one)."""
    if not (STATE.enabled and r._requires_grad):
        return r
    out = r.detach()
    record(node_cls(), (r,), out)
    return out


@declare(public=False)
def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False) -> Tensor:
    """Kullback-Leibler divergence ``target * (log(target) - input)`` for log-probabilities
    ``input`` (``log_target``: the target is given as log-probabilities too).
    ``'batchmean'`` divides the sum by the batch size (the divergence's definition);
    ``'mean'`` averages over every element, with PyTorch's warning."""
    check_tensors("kl_div", input=input, target=target)
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      UserWarning, stacklevel=3)
    if reduction != "batchmean":
        _check_reduction(reduction)
    if not (input._dtype.is_floating_point and target._dtype.is_floating_point):
        raise RuntimeError("kl_div: Integral inputs not supported.")
    if log_target:
        loss = exp(target) * (target - input)
    else:
        safe = where(target == 0, 1.0, target)   # xlogy: 0 log 0 = 0
        loss = target * log(safe) - target * input
    if reduction == "batchmean":
        total = loss.sum()
        return total / input._shape[0] if input.dim() else total
    return _reduce(loss, reduction)


_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


@declare(public=False)
def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean") -> Tensor:
    """Negative log likelihood of counts ``target`` under a Poisson of rate ``exp(input)``
    (``log_input``) or ``input``; ``full`` adds Stirling's term ``t log t - t + log(2 pi t) / 2``
    for targets above 1."""
    check_tensors("poisson_nll_loss", input=input, target=target)
    if size_average is None and reduce is None and not isinstance(reduction, str):
        raise TypeError(f"poisson_nll_loss(): reduction must be a string, not {type(reduction).__name__}")
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    check_bool(log_input, "poisson_nll_loss", "log_input")
    check_bool(full, "poisson_nll_loss", "full")
    if full and target._dtype is bool_:
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to "
                           "invert a mask, use the `~` or `logical_not()` operator instead.")
    loss = exp(input) - target * input if log_input else input - target * log(input + eps)
    if full:
        with no_grad():
            t = target.detach()
            safe = where(t > 1, t, 1.0)
            stirling = where(t > 1, safe * log(safe) - safe + 0.5 * log(safe * (2 * math.pi)), 0.0)
        loss = loss + stirling
    return _reduce(loss, reduction)


@declare(public=False)
def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean") -> Tensor:
    """Negative log likelihood of ``target`` under a Gaussian of mean ``input`` and variance
    ``var`` (one per element, or one per sample: a var one dim short, or with one dim of
    size 1), clamped at ``eps`` without changing its gradient."""
    check_tensors("gaussian_nll_loss", input=input, target=target)
    if isinstance(var, (int, float)) and not isinstance(var, bool):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = ops.full(input._shape, float(var), dtype=input._dtype, device=input.device)
    else:
        check_tensor(var, "gaussian_nll_loss", "var")
        with validating:
            negative = var.numel() and bool((var.detach() < 0).any())
        if negative:
            raise ValueError("var has negative entry/entries")
        if not var._dtype.is_floating_point:   # PyTorch clamps a copy of var in place with a float eps
            raise RuntimeError(f"result type Float can't be cast to the desired output type {type_name(var._dtype)}")
    if var._shape != input._shape:
        if input._shape[:-1] == var._shape:
            var = var.unsqueeze(-1)
        elif not (input.dim() == var.dim() and
                  sum(v for i, v in zip(input._shape, var._shape) if i != v) == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in _REDUCTIONS:
        raise ValueError(reduction + " is not valid")
    with no_grad():
        shift = var.detach().clamp(min=eps) - var.detach()
    var = var + shift   # the clamped values, with var's gradient (PyTorch clamps a clone in place)
    loss = 0.5 * (log(var) + (input - target) ** 2 / var)
    if full:
        loss = loss + _HALF_LOG_2PI
    return _reduce(loss, reduction)


class ClampMinBackward0(Node):
    """d max(x, m) = g where x >= m, 0 elsewhere (PyTorch's ``clamp_min``, which its margin
    losses use)"""
    __slots__ = ("min",)

    def backward(self, g):
        (x,) = self.saved_tensors
        return (where(x >= self.min, g, 0.0),)


def _clamp_min(x: Tensor, m) -> Tensor:
    """``max(x, m)`` recorded as PyTorch's ``ClampMinBackward0``."""
    with no_grad():
        r = x.clamp(min=m)
    if STATE.enabled and x._requires_grad:
        node = ClampMinBackward0()
        node.min = m
        node.save(x)
        record(node, (x,), r)
    return r


def _param_of(value, input):
    """A number parameter refused as PyTorch refuses it: finite but beyond float32's range
    for an input of another floating dtype than float64."""
    if isinstance(value, (int, float)) and input._dtype.name != "float64" and math.isfinite(value) and \
            abs(value) > 3.4028234663852886e38:
        raise RuntimeError("value cannot be converted to type float without overflow")
    return value


def _same_dims(fname, **tensors):
    dims = {k: t.dim() for k, t in tensors.items()}
    if len(set(dims.values())) > 1:
        sizes = ", ".join(f"{k}: {list(t._shape)}" for k, t in tensors.items())
        raise RuntimeError(f"{fname} : All input tensors should have same dimension but got sizes: {sizes} ")


@declare(public=False)
def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                        reduction="mean") -> Tensor:
    """``max(0, -target * (input1 - input2) + margin)``: ``target`` (1 or -1) says which input
    should rank higher."""
    check_tensors("margin_ranking_loss", input1=input1, input2=input2, target=target)
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    _same_dims("margin_ranking_loss", input1=input1, input2=input2, target=target)
    return _reduce(_clamp_min(-target * (input1 - input2) + margin, 0), reduction)


@declare(public=False)
def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean") -> Tensor:
    """``input`` where ``target`` is 1, ``max(0, margin - input)`` where it is -1."""
    check_tensors("hinge_embedding_loss", input=input, target=target)
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if input._dtype.is_floating_point:
        margin = _param_of(margin, input)
        margin_clamp = _clamp_min(margin - input, 0)
    else:   # PyTorch computes an integer input's hinge in its own dtype (and cannot average it)
        margin_clamp = _clamp_min(ops.full(input._shape, margin, dtype=input._dtype, device=input.device) - input, 0)
    loss = where(target != 1, margin_clamp, 0) + where(target != -1, input, 0)   # (an integer input stays integer)
    return _reduce(loss, reduction)


class SoftMarginLossBackward0(Node):
    """d mean(log(1 + exp(-y x))) = -y sigmoid(-y x) g / n"""
    __slots__ = ("reduction", "n")

    def backward(self, g):
        x, y = self.saved_tensors
        return (-y * sigmoid(-y * x) * _spread(g, self.reduction, self.n),)


@declare(public=False)
def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean") -> Tensor:
    """Two-class logistic loss ``log(1 + exp(-target * input))``, targets 1 or -1."""
    check_tensors("soft_margin_loss", input=input, target=target)
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    _check_broadcasts_to(target, input._shape, "target")
    if input._dtype is bool_:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you are trying to "
                           "invert a mask, use the `~` or `logical_not()` operator instead.")
    if not input._dtype.is_floating_point:
        raise RuntimeError(f"result type Float can't be cast to the desired output type {type_name(input._dtype)}")
    if not target._dtype.is_floating_point:
        target = target.to(input._dtype)
    with no_grad():
        z = -target.detach() * input.detach()
        r = _reduce(log1p(exp(-z.abs())) + z.clamp(min=0), reduction)
    if STATE.enabled and input._requires_grad:
        node = SoftMarginLossBackward0()
        node.reduction, node.n = reduction, input.numel()
        node.save(input, target.detach())
        record(node, (input,), r)
    return r


@declare(public=False)
def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean") -> Tensor:
    """Binary logistic loss per class, averaged over the classes (the last dim)."""
    check_tensors("multilabel_soft_margin_loss", input=input, target=target)
    reduction = legacy_reduction(size_average, reduce, reduction)
    loss = -(target * ops.logsigmoid(input) + (1 - target) * ops.logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.dim() - 1
    loss = loss.sum(class_dim) / input._shape[class_dim]
    if reduction == "none":
        return loss
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    raise ValueError(reduction + " is not valid")


def _class_rows(input, fname):
    """``input`` as (N, C) rows (a 1-d input is one row), refusing other ranks."""
    if input.dim() > 2 or (input.dim() == 2 and not input._shape[1]) or (input.dim() <= 1 and not input.numel()):
        raise RuntimeError(f"Expected non-empty vector or matrix with optional 0-dim batch size, but got: "
                           f"{list(input._shape)}")
    return input.reshape(1, -1) if input.dim() < 2 else input


class MultilabelMarginLossBackward0(Node):
    """d sum_j sum_i max(0, 1 - x[t_j] + x[i]) / C over target classes t_j and the other
    classes i: -1/C at x[t_j] and +1/C at x[i] for each active pair, times g"""
    __slots__ = ("reduction", "rows", "shape")

    def backward(self, g):
        active, c = self.saved_tensors[0], self.shape[-1]
        gs = g.reshape(-1, 1) if self.reduction == "none" else _spread(g, self.reduction, self.rows)
        per = active.to(g._dtype)
        gx = (per.sum(1) - per.sum(2)) * (gs / c)
        return (gx.reshape(self.shape),)


@declare(public=False)
def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean") -> Tensor:
    """Hinge loss between each target class (``target`` lists them, ended by -1) and each
    other class: ``sum max(0, 1 - (x[target] - x[other])) / C``."""
    check_tensors("multilabel_margin_loss", input=input, target=target)
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    x = _class_rows(input, "multilabel_margin_loss")
    if target._shape != input._shape:
        raise RuntimeError(f"inconsistent target size: {list(target._shape)} for input of size: "
                           f"{list(input._shape)}")
    if target._dtype is not int64:
        raise RuntimeError(f"expected scalar type Long but found {type_name(target._dtype)}")
    n, c = x._shape
    t = target.reshape(n, c)
    with no_grad():
        if t.numel() and (int(t.min()) < -1 or int(t.max()) >= c):
            raise RuntimeError(f"multilabel_margin_loss: target values must lie in [-1, {c}), got "
                               f"[{int(t.min())}, {int(t.max())}]")
        # the targets of a row are its entries before the first -1
        valid = (t >= 0).to(int64).cumprod(1) > 0
        counts = zeros((n, c), dtype=int64, device=x.device).scatter_add(1, where(valid, t, 0), valid.to(int64))
        is_target = counts > 0
        xd = x.detach()
        z = 1 - xd.unsqueeze(2) + xd.unsqueeze(1)   # z[n, j, i] = 1 - x[j] + x[i]
        active = (z > 0) & ~is_target.unsqueeze(1)
        pairs = where(active, z, 0.0) * counts.unsqueeze(2).to(x._dtype)
        active = active.to(x._dtype) * counts.unsqueeze(2).to(x._dtype)
        loss = pairs.sum((1, 2)) / c
        r = loss.reshape(input._shape[:-1]) if reduction == "none" else _reduce(loss, reduction)
    if STATE.enabled and input._requires_grad:
        node = MultilabelMarginLossBackward0()
        node.reduction, node.rows, node.shape = reduction, n, input._shape
        node.save(active)
        record(node, (input,), r)
    return r


class MultiMarginLossBackward0(Node):
    """d sum_{i != y} w[y] max(0, margin - x[y] + x[i])^p / C: at x[i] the hinge's slope
    (1, or 2 z for p = 2) times w[y] / C, at x[y] minus their sum; times g"""
    __slots__ = ("reduction", "rows", "shape", "p", "margin")

    def backward(self, g):
        x, onehot, wy = self.saved_tensors
        x = x.reshape(onehot._shape)
        c = onehot._shape[1]
        gs = g.reshape(-1, 1) if self.reduction == "none" else _spread(g, self.reduction, self.rows)
        xy = (x * onehot).sum(1, keepdim=True)
        z = self.margin - xy + x
        on = (z > 0) & (onehot == 0)
        slope = where(on, (1.0 if self.p == 1 else 2 * z) * (wy.unsqueeze(1) / c), 0.0)
        gx = (slope - onehot * slope.sum(1, keepdim=True)) * gs
        return (gx.reshape(self.shape),)


@declare(public=False)
def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                      reduction="mean") -> Tensor:
    """Multi-class hinge loss: ``sum over i != y of w[y] max(0, margin - x[y] + x[i])^p / C``
    (``p`` 1 or 2)."""
    check_tensors("multi_margin_loss", input=input, target=target)
    reduction = legacy_reduction(size_average, reduce, reduction)
    if p != 1 and p != 2:
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None:
        check_tensor(weight, "multi_margin_loss", "weight")
        if weight.dim() != 1:
            raise ValueError("weight must be one-dimensional")
    _check_reduction(reduction)
    x = _class_rows(input, "multi_margin_loss")
    n, c = x._shape
    if target.numel() != n or target.dim() > 1:
        raise RuntimeError(f"inconsistent target size, expected {n} but got {list(target._shape)}")
    if target._dtype is not int64:
        raise RuntimeError(f"expected scalar type Long but found {type_name(target._dtype)}")
    if weight is not None:
        if weight.numel() != c:
            raise RuntimeError(f"inconsistent weight size, expected {c} but got {list(weight._shape)}")
        if weight._dtype is not input._dtype:
            raise RuntimeError(f"expected scalar type {type_name(input._dtype)} but found {type_name(weight._dtype)}")
    t = target.reshape(n)
    with no_grad():
        if n and (int(t.min()) < 0 or int(t.max()) >= c):
            raise IndexError("target out of range")
        onehot = zeros((n, c), dtype=x._dtype, device=x.device).scatter(1, t.unsqueeze(1), 1.0)
        wy = ops.ones((n,), dtype=x._dtype, device=x.device) if weight is None else weight.detach().to(x._dtype)[t]
        xd = x.detach()
        z = margin - (xd * onehot).sum(1, keepdim=True) + xd
        on = (z > 0) & (onehot == 0)
        loss = where(on, (z if p == 1 else z * z) * wy.unsqueeze(1), 0.0).sum(1) / c   # (an idle weight adds 0)
        r = loss.reshape(input._shape[:-1]) if reduction == "none" else _reduce(loss, reduction)
    if STATE.enabled and input._requires_grad:
        node = MultiMarginLossBackward0()
        node.reduction, node.rows, node.shape, node.p, node.margin = reduction, n, input._shape, p, margin
        node.save(input, onehot, wy)
        record(node, (input,), r)
    return r


# ---- distances and the losses built on them -------------------------------------------------------

class NormBackward1(_Named):
    """PyTorch's ``grad_fn`` of ``pairwise_distance`` (a norm over the last dim)"""
    __slots__ = ()


@declare
def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False) -> Tensor:
    """``||x1 - x2 + eps||_p`` over the last dim (the inputs broadcast)."""
    check_tensors("pairwise_distance", x1=x1, x2=x2)
    for name, v in (("p", p), ("eps", eps)):
        if isinstance(v, (bool, str)) or not isinstance(v, (int, float)):
            raise TypeError(f"pairwise_distance(): argument '{name}' must be float, not {type(v).__name__}")
    check_bool(keepdim, "pairwise_distance", "keepdim")
    out_dim = max(x1.dim(), x2.dim())
    inner = out_dim - 1 if out_dim else 0
    return _named(NormBackward1, norm(x1 - x2 + eps, p, inner, keepdim=keepdim))


class PdistBackward0(_Named):
    """PyTorch's ``grad_fn`` of ``pdist``"""
    __slots__ = ()


@declare
def pdist(input, p=2.0) -> Tensor:
    """The p-norm distances between each pair of rows ``i < j`` of a 2-d ``input``, in
    row-major order of the pairs (the upper triangle of the distance matrix)."""
    check_tensor(input, "pdist", "input")
    if input.dim() != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.dim()}D")
    check_floating(input, "pdist")
    if not p >= 0:   # (NaN too)
        raise RuntimeError("pdist only supports non-negative p values")
    n = input._shape[0]
    first = [i for i in range(n) for _ in range(i + 1, n)]
    second = [j for i in range(n) for j in range(i + 1, n)]
    i = ops.tensor(first, dtype=int64, device=input.device)
    j = ops.tensor(second, dtype=int64, device=input.device)
    diff = input[i] - input[j]
    if p == 0:   # a count of differing coordinates: its gradient is zero (and defined), as in PyTorch
        return _named(PdistBackward0, (diff != 0).to(input._dtype).sum(1) + diff.sum(1) * 0)
    if p in (1, 2) or p == float("inf"):
        return _named(PdistBackward0, norm(diff, p, 1))
    # any other p: scaled by the largest coordinate, so that a huge p gives (as in PyTorch) the
    # largest coordinate rather than overflowing; the scale is a constant of the gradient
    scale = diff.detach().abs().amax(1, keepdim=True)
    scale = where((scale > 0) & (scale < float("inf")), scale, 1.0)   # (infinities and NaNs go unscaled)
    return _named(PdistBackward0, norm(diff / scale, p, 1) * scale.squeeze(1))


@declare
def cosine_similarity(x1, x2, dim=1, eps=1e-8) -> Tensor:
    """``sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps))`` along ``dim`` (the inputs
    broadcast); each norm is clamped at ``eps`` with its gradient kept, as in PyTorch."""
    check_tensors("cosine_similarity", x1=x1, x2=x2)
    dim = check_int(dim, "cosine_similarity", "dim")
    shape = broadcast_shapes(x1._shape, x2._shape)
    a, b = x1.expand(shape), x2.expand(shape)
    # integer and bool inputs count as the default float dtype, then the two promote
    dt = promote_types(*(t._dtype if t._dtype.is_floating_point else get_default_dtype() for t in (a, b)))
    a, b = a.to(dt), b.to(dt)

    def unit(v):
        n = norm(v, 2, dim, keepdim=True)
        with no_grad():
            shift = n.detach().clamp(min=eps) - n.detach()
        return v / (n + shift)
    return (unit(a) * unit(b)).sum(dim)


@declare(public=False)
def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                          reduction="mean") -> Tensor:
    """``1 - cos(x1, x2)`` where ``target`` is 1, ``max(0, cos(x1, x2) - margin)`` where it is -1."""
    check_tensors("cosine_embedding_loss", input1=input1, input2=input2, target=target)
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if input1._shape != input2._shape:
        raise RuntimeError(f"cosine_embedding_loss: Input1 and Input2 must have the same shape, but got "
                           f"Input1: {list(input1._shape)}, Input2: {list(input2._shape)}")
    t_dim = target.dim()
    if t_dim > 1:
        raise RuntimeError(f"0D or 1D target tensor expected, multi-target not supported, but got target of "
                           f"size: {list(target._shape)}")
    if input1.dim() != t_dim + 1:
        raise RuntimeError(f"{t_dim}D target tensor expects {t_dim + 1}D input tensors, but found inputs with "
                           f"sizes {list(input1._shape)} and {list(input2._shape)}.")
    eps = 1e-12
    prod = (input1 * input2).sum(t_dim)
    mag1 = (input1 * input1).sum(t_dim) + eps
    mag2 = (input2 * input2).sum(t_dim) + eps
    cos = prod / (mag1 * mag2).sqrt()
    loss = where(target == 1, 1 - cos, 0.0) + where(target == -1, _clamp_min(cos - margin, 0), 0.0)
    return _reduce(loss, reduction)


def _triplet_dims(anchor, positive, negative):
    dims = (anchor.dim(), positive.dim(), negative.dim())
    if len(set(dims)) > 1:
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {dims[0]}D, positive {dims[1]}D, and negative {dims[2]}D "
                           f"inputs")


@declare(public=False)
def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean") -> Tensor:
    """``max(0, margin + d(anchor, positive) - d(anchor, negative))`` with the p-norm
    ``pairwise_distance``; ``swap`` takes the smaller of the negative's two distances."""
    check_tensors("triplet_margin_loss", anchor=anchor, positive=positive, negative=negative)
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    check_bool(swap, "triplet_margin_loss", "swap")
    _triplet_dims(anchor, positive, negative)
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = ops.minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _reduce(_clamp_min(margin + d_pos - d_neg, 0), reduction)


@declare(public=False)
def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0, swap=False,
                                      reduction="mean") -> Tensor:
    """The triplet margin loss for any ``distance_function`` (``pairwise_distance`` by default)."""
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    check_tensors("triplet_margin_with_distance_loss", anchor=anchor, positive=positive, negative=negative)
    _triplet_dims(anchor, positive, negative)
    dist = pairwise_distance if distance_function is None else distance_function
    d_pos, d_neg = dist(anchor, positive), dist(anchor, negative)
    if swap:
        d_neg = ops.minimum(d_neg, dist(positive, negative))
    return _reduce(_clamp_min(margin + d_pos - d_neg, 0), reduction)


# ---- connectionist temporal classification ------------------------------------------------------

class CtcLossBackward0(Node):
    """PyTorch's ``grad_fn`` of the per-sample CTC losses. The gradient goes on through the
    forward recursion (its first input, a composition of plugrad ops, so autograd
    differentiates it), and this node adds to ``log_probs`` (its second input) what
    PyTorch's kernel adds: ``exp(log_probs) * g`` at each sample's input steps (PyTorch's
    gradient is the one through a ``log_softmax``, which this term leaves unchanged:
    it is invisible for log-probabilities computed by ``log_softmax``), and NaN there for
    an impossible alignment (an infinite loss) unless ``zero_infinity``."""
    __slots__ = ()

    def backward(self, g):
        lp, steps, nan_steps = self.saved_tensors
        extra = where(steps, exp(lp) * g.reshape(1, -1, 1), 0.0)
        if nan_steps is not None:
            extra = where(nan_steps, float("nan"), extra)
        return g, extra


_NEG_INF = float("-inf")


def _log_add(*terms: Tensor) -> Tensor:
    """``log(sum(exp(terms)))`` elementwise, exact where every term is -inf (the result is
    -inf and the gradient 0, never NaN): the shift is a constant (detached), and the log
    never sees a zero sum."""
    m = terms[0].detach()
    for t in terms[1:]:
        m = ops.maximum(m, t.detach())
    m = where(m == _NEG_INF, 0.0, m)
    total = exp(terms[0] - m)
    for t in terms[1:]:
        total = total + exp(t - m)
    none = total == 0   # (a NaN term gives a NaN total, which stays NaN)
    return where(none, _NEG_INF, log(where(none, 1.0, total)) + m)


def _int_list(v, name: str) -> list:
    """Lengths given as a tensor, a list or a tuple of ints, as a list."""
    if isinstance(v, Tensor):
        if v._dtype.is_floating_point:
            raise RuntimeError(f"ctc_loss(): {name} must be integral, got {v._dtype.name}")
        return [int(x) for x in v.reshape(-1).tolist()]
    if isinstance(v, (list, tuple)):
        return [check_int(x, "ctc_loss", name) for x in v]
    return [check_int(v, "ctc_loss", name)]


@declare(public=False)
def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False) -> Tensor:
    """The connectionist temporal classification loss: ``-log`` of the total probability of
    all the alignments of each target with its input (``log_probs`` (T, N, C) or (T, C)),
    by the forward (alpha) recursion in log space. ``'mean'`` divides each loss by its
    target length before averaging; ``zero_infinity`` zeroes impossible alignments' losses
    (and their gradients)."""
    check_tensors("ctc_loss", log_probs=log_probs, targets=targets)
    _check_reduction(reduction)
    check_bool(zero_infinity, "ctc_loss", "zero_infinity")
    check_device(log_probs, targets, "ctc_loss")
    if log_probs.dim() < 2:   # PyTorch reads its size(1) first
        d = max(log_probs.dim(), 1)
        raise IndexError(f"Dimension out of range (expected to be in range of [{-d}, {d - 1}], but got 1): "
                         f"ctc_loss() needs log_probs of shape (T, N, C) or (T, C)")
    unbatched = log_probs.dim() == 2
    lp = log_probs.unsqueeze(1) if unbatched else log_probs
    if lp.dim() != 3:
        raise RuntimeError(f"Expected 3-dimensional tensor, but got {lp.dim()}-dimensional tensor for argument #1 "
                           f"'log_probs' (while checking arguments for ctc_loss_allocate_outputs)")
    check_floating(log_probs, "ctc_loss", "log_probs")
    tg = targets.unsqueeze(0) if unbatched and targets.dim() == 1 else targets
    if tg.dim() not in (1, 2):
        raise RuntimeError(f"Expected 1 to 2 dimensions, but got {tg.dim()}-dimensional tensor for argument #2 "
                           f"'targets' (while checking arguments for ctc_loss_allocate_outputs)")
    tg = tg.long()   # PyTorch reads targets of any dtype as class indices
    t_max, n, c = lp._shape
    in_lens, tgt_lens = _int_list(input_lengths, "input_lengths"), _int_list(target_lengths, "target_lengths")
    if len(in_lens) != n:
        raise RuntimeError("input_lengths must be of size batch_size")
    if len(tgt_lens) != n:
        raise RuntimeError("target_lengths must be of size batch_size")
    if not 0 <= blank < c:
        raise RuntimeError("blank must be in label range")
    for v in in_lens:
        if not 0 <= v <= t_max:
            raise RuntimeError(f"Expected input_lengths to have value at most {t_max}, but got value {v} (while "
                               f"checking arguments for ctc_loss_cpu)")
    flat = tg.tolist()
    if tg.dim() == 1:   # all the targets, one after the other
        if sum(tgt_lens) != len(flat):
            raise RuntimeError(f"Expected tensor to have size {sum(tgt_lens)} at dimension 0, but got size "
                               f"{len(flat)} for argument #2 'targets' (while checking arguments for "
                               f"ctc_loss_allocate_outputs)")
        starts = [sum(tgt_lens[:b]) for b in range(n)]
        labels = [flat[s:s + length] for s, length in zip(starts, tgt_lens)]
    else:
        max_len = max(tgt_lens, default=0)
        if tg._shape[0] != n:
            raise RuntimeError(f"Expected tensor to have size {n} at dimension 0, but got size {tg._shape[0]} for "
                               f"argument #2 'targets' (while checking arguments for ctc_loss_allocate_outputs)")
        if tg._shape[1] < max_len:
            raise RuntimeError(f"Expected tensor to have size at least {max_len} at dimension 1, but got size "
                               f"{tg._shape[1]} for argument #2 'targets' (while checking arguments for ctc_loss_cpu)")
        labels = [flat[b][:length] for b, length in zip(range(n), tgt_lens)]
    for row in labels:
        for v in row:
            if not 0 <= v < c:
                raise RuntimeError(f"ctc_loss(): target {v} is out of the label range [0, {c})")
    # the extended labels: blank, l1, blank, l2, ..., blank (padded with blanks)
    states = 2 * max(tgt_lens, default=0) + 1
    ext = [[blank] * states for _ in range(n)]
    skip = [[False] * states for _ in range(n)]
    for b, row in enumerate(labels):
        for i, v in enumerate(row):
            ext[b][2 * i + 1] = v
            skip[b][2 * i + 1] = i > 0 and v != row[i - 1]
    dev = lp.device
    ext_t = ops.tensor(ext, dtype=int64, device=dev)
    skip_t = ops.tensor(skip, dtype=bool_, device=dev)
    in_t = ops.tensor(in_lens, dtype=int64, device=dev).unsqueeze(1)
    lp_ext = lp.gather(2, ext_t.unsqueeze(0).expand((t_max, n, states)))     # (T, N, S)
    s_index = ops.arange(states, device=dev).unsqueeze(0)
    ends = ops.tensor([2 * length for length in tgt_lens], dtype=int64, device=dev).unsqueeze(1)
    alpha = where((s_index <= 1) & (s_index <= ends) & (in_t > 0), lp_ext[0], _NEG_INF)
    pad1 = ops.full((n, 1), _NEG_INF, dtype=lp._dtype, device=dev)
    pad2 = ops.full((n, 2), _NEG_INF, dtype=lp._dtype, device=dev)
    for t in range(1, max(in_lens, default=0)):
        prev1 = ops.cat((pad1, alpha[:, :-1]), 1)
        prev2 = where(skip_t, ops.cat((pad2, alpha[:, :-2]), 1), _NEG_INF) if states > 2 else None
        terms = (alpha, prev1) if prev2 is None else (alpha, prev1, prev2)
        alpha = where(t < in_t, _log_add(*terms) + lp_ext[t], alpha)
    last = alpha.gather(1, ends)
    before = where(ends > 0, alpha.gather(1, (ends - 1).clamp(min=0)), _NEG_INF)
    losses = -_log_add(last, before).squeeze(1)
    if STATE.enabled and losses._requires_grad:
        node = CtcLossBackward0()
        steps = ops.arange(t_max, device=dev).reshape(t_max, 1, 1) < in_t.reshape(1, n, 1)
        infinite = (losses.detach() == float("inf")).reshape(1, n, 1)
        if zero_infinity:
            node.save(lp, (steps & ~infinite).expand(lp._shape), None)
        else:
            node.save(lp, steps.expand(lp._shape), (steps & infinite).expand(lp._shape))
        inner, losses = losses, losses.detach()
        record(node, (inner, lp), losses)
    if zero_infinity:
        losses = where(losses == float("inf"), 0.0, losses)
    if reduction == "none":
        return losses.squeeze(0) if unbatched else losses
    if reduction == "sum":
        return losses.sum()
    lengths = ops.tensor(tgt_lens, dtype=int64, device=dev).clamp(min=1)
    return (losses / lengths).mean()
