"""Entries for the losses (``plugrad.ops.loss``), the activations, ``normalize``,
``dropout`` and ``one_hot`` (``plugrad.ops.activation``) and the functions defined in
``plugrad.nn.functional`` itself: the nn.functional forms of ``relu``, ``sigmoid``,
``tanh``, ``softmax`` and ``log_softmax``. (What nn.functional re-exports from
``plugrad.ops`` is the very same function, covered by its entry there.)"""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import plugrad

from ..gen import Domain
from ..opinfo import NUMERIC, TO_INT64, Arr, ErrorInput, OpInfo, Sample
from .common import AWAY_FROM_INTEGERS, EVEN, ODD, D, unary

LOSS = "plugrad.ops.loss"
FUNCTIONAL = "plugrad.nn.functional"
#: plugrad versions before plugrad.ops.activation defined these ops in nn.functional
ACTIVATION = "plugrad.ops.activation" if importlib.util.find_spec("plugrad.ops.activation") else FUNCTIONAL
_TOL = {"float16": (5e-3, 2e-2)}


def _op(family, name, ref, sample, **kw):
    kw.setdefault("tol", _TOL)
    kw.setdefault("method", False)
    kw.setdefault("inplace", False)
    return OpInfo(name, family, ref, sample, **kw)


def _weights_not_differentiated(s, first):
    """Class and element weights get no gradient (as in PyTorch): every data array
    from position ``first`` on is left out of the gradient checks."""
    from ..opinfo import data_arrays
    s.nograd = tuple(sorted(set(s.nograd) | set(range(first, len(data_arrays(s))))))
    return s


def _reduce(loss, reduction="mean"):
    if reduction == "none":
        return loss
    return np.sum(loss) if reduction == "sum" else np.mean(loss)


def _reduction(g, s):
    r = g.choice([None, "mean", "sum", "none"])
    if r is not None:
        s.kwargs["reduction"] = r
    return s


# ---- regression losses ----------------------------------------------------------------------

def _pair_sample(extra=None):
    def sample(g):
        shape = g.shape()
        grad = g.purpose != "forward"
        s = Sample(g.array(shape, EVEN if grad else D), g.array(shape, ODD if grad else D))
        if extra is not None:
            extra(g, s)
        return _reduction(g, s)
    return sample


def _beta(name):
    def extra(g, s):
        # off the 1/64 grid, so |x - y| never sits exactly on the switch of the formula
        if g.boolean() or g.purpose != "forward":
            s.kwargs[name] = g.choice([1 + 1 / 128, 0.5 + 1 / 128, 2 + 1 / 128])
    return extra


def _smooth_l1_ref(x, y, reduction="mean", beta=1.0):
    d = np.abs(x - y)
    loss = d if beta == 0 else np.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta)
    return _reduce(loss, reduction)


def _huber_ref(x, y, reduction="mean", delta=1.0):
    d = np.abs(x - y)
    return _reduce(np.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta)), reduction)


# ---- classification losses ---------------------------------------------------------------------

def _class_problem(g, probabilities=False):
    """(logits shape, target) for N samples of C classes, sometimes with extra dims or unbatched."""
    c = g.integers(2, 3)
    variant = g.integers(0, 2)
    if variant == 0:
        shape, tshape = (c,), ()
    elif variant == 1:
        n = g.integers(1, 3)
        shape, tshape = (n, c), (n,)
    else:
        n, d = g.integers(1, 2), g.integers(1, 2)
        shape, tshape = (n, c, d), (n, d)
    if probabilities:
        # every class but the last gets a grid value, the last takes the rest: the rows sum to
        # exactly 1 and stay on the grid, so they are exact in every floating dtype
        axis = 0 if len(shape) == 1 else 1
        probs = np.array(g.array(shape, Domain(0.125, 0.375)), dtype=np.float64)
        rest = np.take(probs, range(c - 1), axis=axis).sum(axis=axis)
        index = [slice(None)] * len(shape)
        index[axis] = c - 1
        probs[tuple(index)] = 1 - rest
        return shape, probs
    return shape, g.index(tshape, c, negative=False)


def _nll_sample(g):
    shape, target = _class_problem(g)
    c = shape[0] if len(shape) == 1 else shape[1]
    s = Sample(g.array(shape, Domain(-3, 0)), target)
    if g.boolean():
        s.kwargs["weight"] = g.array((c,), Domain(0.25, 2))
    _maybe_ignore(g, s, target)
    return _reduction(g, _weights_not_differentiated(s, 1))


def _maybe_ignore(g, s, target):
    """Sometimes ignore the first target's class. A mean over only ignored targets is
    0/0 (NaN, as in PyTorch): forward samples keep that case, gradient samples do not."""
    t = target.value.reshape(-1)
    if t.size and g.boolean():
        s.kwargs["ignore_index"] = int(t[0])
        g.assume(g.purpose == "forward" or bool(np.any(t != t[0])))


def _pick(logp, target, weight, ignore_index):
    """Per-sample ``-w[t] logp[t]`` and the weights it used (0 where ignored)."""
    cdim = 0 if logp.ndim == 1 else 1
    c = logp.shape[cdim]
    w = np.ones(c) if weight is None else weight
    t = np.asarray(target)
    valid = t != ignore_index
    safe = np.where(valid, t, 0)
    chosen = np.take_along_axis(logp, np.expand_dims(safe, cdim), axis=cdim).squeeze(cdim) if logp.ndim > 1 \
        else logp[safe]
    wt = np.where(valid, w[safe], 0.0)
    return -chosen * wt, wt


def _nll_ref(x, target, weight=None, ignore_index=-100, reduction="mean"):
    loss, wt = _pick(x, target, weight, ignore_index)
    if reduction == "mean":
        return np.sum(loss) / np.sum(wt)
    return _reduce(loss, reduction)


def _log_softmax(x, axis):
    m = np.max(x, axis=axis, keepdims=True)
    return x - m - np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))


def _cross_entropy_sample(g):
    probabilities = g.integers(0, 3) == 0
    shape, target = _class_problem(g, probabilities)
    c = shape[0] if len(shape) == 1 else shape[1]
    s = Sample(g.array(shape), target, nograd=(1,) if probabilities else ())
    smoothing = g.boolean()
    if smoothing:
        s.kwargs["label_smoothing"] = g.choice([0.1, 0.25])
    elif g.boolean():
        s.kwargs["weight"] = g.array((c,), Domain(0.25, 2))
    if not probabilities and not smoothing:
        _maybe_ignore(g, s, target)
    return _reduction(g, _weights_not_differentiated(s, 2 if probabilities else 1))


def _cross_entropy_ref(x, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    cdim = 0 if x.ndim == 1 else 1
    c = x.shape[cdim]
    logp = _log_softmax(x, cdim)
    w = np.ones(c) if weight is None else weight
    wshape = (c,) + (1,) * (x.ndim - 1 - cdim)
    if isinstance(target, np.ndarray) and target.dtype.kind == "f":
        t = target * (1 - label_smoothing) + label_smoothing / c
        loss = -np.sum(t * logp * w.reshape(wshape), axis=cdim)
        if reduction == "mean":
            return np.sum(loss) / (loss.size if x.ndim > 1 else 1)
        return _reduce(loss, reduction)
    nll, wt = _pick(logp, target, weight, ignore_index)
    if label_smoothing:
        valid = np.asarray(target) != ignore_index
        smooth = -np.sum(logp * w.reshape(wshape), axis=cdim) * valid
        nll = (1 - label_smoothing) * nll + label_smoothing / c * smooth
    if reduction == "mean":
        return np.sum(nll) / np.sum(wt)
    return _reduce(nll, reduction)


def _bce_sample(g):
    shape = g.shape()
    s = Sample(g.array(shape, Domain(1 / 16, 15 / 16)), g.array(shape, Domain(0, 1)), nograd=(1,))
    if g.boolean():
        s.kwargs["weight"] = g.array(shape, Domain(0.25, 2))
    return _reduction(g, _weights_not_differentiated(s, 1))


def _bce_ref(x, y, weight=None, reduction="mean"):
    loss = -(y * np.maximum(np.log(x), -100) + (1 - y) * np.maximum(np.log(1 - x), -100))
    return _reduce(loss * (1 if weight is None else weight), reduction)


def _bce_logits_sample(g):
    shape = g.shape(min_ndim=1)
    s = Sample(g.array(shape), g.array(shape, Domain(0, 1)))
    if g.boolean():
        s.kwargs["weight"] = g.array(shape, Domain(0.25, 2))
    if g.boolean():
        s.kwargs["pos_weight"] = g.array(shape[-1:], Domain(0.25, 3))
    return _reduction(g, _weights_not_differentiated(s, 2))


def _softplus(x):
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def _bce_logits_ref(x, y, weight=None, reduction="mean", pos_weight=None):
    pw = 1.0 if pos_weight is None else pos_weight
    loss = pw * y * _softplus(-x) + (1 - y) * _softplus(x)
    return _reduce(loss * (1 if weight is None else weight), reduction)


# ---- activations -------------------------------------------------------------------------------

def _act_sample(kwargs=None, domain=D, grad_domain=AWAY_FROM_INTEGERS):
    def sample(g):
        s = unary(domain, grad_domain)(g)
        for name, values in (kwargs or {}).items():
            if g.boolean():
                s.kwargs[name] = g.choice(values)
        return s
    return sample


def _relu(x, inplace=False):
    return np.maximum(x, 0)


def _clone_then(fn_name):
    def call(x, *args, **kwargs):
        y = x.clone()
        getattr(plugrad.nn.functional, fn_name)(y, *args, **kwargs)
        return y
    return call


def _gelu_ref(x, approximate="none"):
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))
    return 0.5 * x * (1 + np.vectorize(math.erf)(x / np.sqrt(2)))


def _elu_ref(x, alpha=1.0, inplace=False):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


def _softplus_ref(x, beta=1.0, threshold=20.0):
    bx = x * beta
    return np.where(bx > threshold, x, np.log1p(np.exp(np.minimum(bx, threshold))) / beta)


def _softmax_sample(g):
    shape = g.shape()
    return Sample(g.array(shape), g.dim(len(shape)))


def _softmax_ref(kind):
    def ref(x, dim=None, _stacklevel=3, dtype=None):
        if x.ndim == 0:
            return np.zeros_like(x) if kind == "log_softmax" else np.ones_like(x)
        if x.size == 0:
            return x.copy()
        z = -x if kind == "softmin" else x
        logp = _log_softmax(z, dim)
        return logp if kind == "log_softmax" else np.exp(logp)
    return ref


def _normalize_sample(g):
    shape = g.shape(min_ndim=1, min_size=1)
    mags = g.array(shape, Domain(0.25, 4), unique=True)
    x = np.asarray(mags * np.array([1.0 if g.boolean() else -1.0 for _ in range(mags.size)]).reshape(shape))
    s = Sample(x)
    if g.boolean():
        s.kwargs["p"] = g.choice([1.0, 3.0])
    if len(shape) < 2 or g.boolean():
        s.kwargs["dim"] = g.dim(len(shape))
    if g.purpose == "forward" and g.boolean():
        s.kwargs["eps"] = 10.0     # larger than some norms: the clamp is used
    return s


def _normalize_ref(x, p=2.0, dim=1, eps=1e-12):
    norm = np.sum(np.abs(x) ** p, axis=dim, keepdims=True) ** (1.0 / p)
    return x / np.maximum(norm, eps)


def _dropout_sample(g):
    x = g.array(g.shape())
    variant = g.integers(0, 2)
    if variant == 0:
        return Sample(x, g.choice([0.0, 0.5, 1.0]), False)
    if variant == 1:
        return Sample(x, p=0.0)
    return Sample(x, p=1.0, training=True)


def _dropout_ref(x, p=0.5, training=True, inplace=False):
    if not training or p == 0.0:
        return x.copy()
    return np.zeros_like(x)


def _one_hot_sample(g):
    x = g.array(g.shape(), Domain(0, 3))
    if x.size == 0 or g.boolean():
        return Sample(x, int(x.max()) + 1 + g.integers(0, 2) if x.size else 3)
    return Sample(x)


def _one_hot_ref(x, num_classes=-1):
    c = int(x.max()) + 1 if num_classes == -1 else num_classes
    return (x[..., None] == np.arange(c)).astype(np.int64)


_BAD_REDUCTION = [ErrorInput(lambda g: Sample(g.array((2, 3)), g.array((2, 3)), reduction="avg"), ValueError,
                             "an unknown reduction")]
#: relu6 has kinks at 0 and 6
_RELU6 = Domain(-3, 8)
_RELU6_KINKS = Domain(-3, 8, exclude=AWAY_FROM_INTEGERS.exclude)


ENTRIES = [
    _op(LOSS, "mse_loss", lambda x, y, reduction="mean": _reduce((x - y) ** 2, reduction), _pair_sample(),
        errors=_BAD_REDUCTION),
    _op(LOSS, "l1_loss", lambda x, y, reduction="mean": _reduce(np.abs(x - y), reduction), _pair_sample(),
        errors=_BAD_REDUCTION),
    _op(LOSS, "smooth_l1_loss", _smooth_l1_ref, _pair_sample(_beta("beta")),
        errors=[ErrorInput(lambda g: Sample(g.array((2, 3)), g.array((2, 3)), beta=float("nan")), RuntimeError,
                           "a NaN beta")]),
    _op(LOSS, "huber_loss", _huber_ref, _pair_sample(_beta("delta")),
        errors=[ErrorInput(lambda g: Sample(g.array((2, 3)), g.array((2, 3)), delta=float("nan")), RuntimeError,
                           "a NaN delta")]),
    _op(LOSS, "nll_loss", _nll_ref, _nll_sample,
        errors=[ErrorInput(lambda g: Sample(g.array((2, 3)), Arr(np.array([0, 3]), "int64")), IndexError,
                           "a target class past the last class")]),
    _op(LOSS, "cross_entropy", _cross_entropy_ref, _cross_entropy_sample,
        errors=[ErrorInput(lambda g: Sample(g.array((2, 3)), Arr(np.array([0, 1, 1]), "int64")), ValueError,
                           "3 targets for a batch of 2")]),
    _op(LOSS, "binary_cross_entropy", _bce_ref, _bce_sample,
        errors=[ErrorInput(lambda g: Sample(g.array((2,), Domain(2, 3)), g.array((2,), Domain(0, 1))),
                           RuntimeError, "inputs outside [0, 1]"),
                ErrorInput(lambda g: Sample(g.array((2,), Domain(0, 1)), g.array((2,), Domain(2, 3))),
                           RuntimeError, "targets outside [0, 1]")]),
    _op(LOSS, "binary_cross_entropy_with_logits", _bce_logits_ref, _bce_logits_sample,
        errors=[ErrorInput(lambda g: Sample(g.array((2, 3)), g.array((3,))), ValueError,
                           "a target of another size"),
                ErrorInput(lambda g: Sample(g.array((1, 3)), g.array((1, 3)), weight=g.array((3, 3))), RuntimeError,
                           "a weight that grows the loss's shape")]),
    _op(FUNCTIONAL, "relu", _relu, _act_sample(), dtypes=NUMERIC),
    _op(FUNCTIONAL, "relu_", lambda x: np.maximum(x, 0), _act_sample(), call=_clone_then("relu_"),
        dtypes=NUMERIC),
    _op(ACTIVATION, "relu6", lambda x, inplace=False: np.clip(x, 0, 6), _act_sample(domain=_RELU6,
                                                                                     grad_domain=_RELU6_KINKS)),
    _op(ACTIVATION, "leaky_relu", lambda x, negative_slope=0.01, inplace=False: np.where(x > 0, x, x * negative_slope),
        _act_sample({"negative_slope": [0.2, 0.01, 1.5]})),
    _op(ACTIVATION, "elu", _elu_ref, _act_sample({"alpha": [0.5, 1.0, 2.0]})),
    _op(ACTIVATION, "softplus", _softplus_ref,
        _act_sample({"beta": [1.0, 2.0], "threshold": [20.0, 1.0 + 1 / 128, 3.0 + 1 / 128]})),
    _op(ACTIVATION, "silu", lambda x, inplace=False: x / (1 + np.exp(-x)), _act_sample()),
    _op(ACTIVATION, "gelu", _gelu_ref, _act_sample({"approximate": ["none", "tanh"]}),
        errors=[ErrorInput(lambda g: Sample(g.array((3,)), approximate="exact"), RuntimeError,
                           "an approximation that is neither none nor tanh")]),
    _op(ACTIVATION, "hardtanh", lambda x, min_val=-1.0, max_val=1.0, inplace=False: np.clip(x, min_val, max_val),
        _act_sample({"min_val": [-2.0, -0.5 + 1 / 128], "max_val": [2.0, 0.5 + 1 / 128]})),
    _op(ACTIVATION, "logsigmoid", lambda x: -_softplus(-x), _act_sample()),
    _op(FUNCTIONAL, "sigmoid", lambda x: 1 / (1 + np.exp(-x)), _act_sample()),
    _op(FUNCTIONAL, "tanh", np.tanh, _act_sample()),
    _op(FUNCTIONAL, "softmax", _softmax_ref("softmax"), _softmax_sample),
    _op(FUNCTIONAL, "log_softmax", _softmax_ref("log_softmax"), _softmax_sample),
    _op(ACTIVATION, "softmin", _softmax_ref("softmin"), _softmax_sample),
    _op(ACTIVATION, "normalize", _normalize_ref, _normalize_sample),
    _op(ACTIVATION, "dropout", _dropout_ref, _dropout_sample,
        errors=[ErrorInput(lambda g: Sample(g.array((3,)), 1.5), ValueError, "a probability above 1"),
                ErrorInput(lambda g: Sample(g.array((3,)), 0.5, None), TypeError, "a training flag of None")]),
    _op(ACTIVATION, "one_hot", _one_hot_ref, _one_hot_sample, dtypes=frozenset({"int64"}),
        result_dtype=TO_INT64, differentiable=False,
        errors=[ErrorInput(lambda g: Sample(g.array((3,))), RuntimeError, "a float tensor"),
                ErrorInput(lambda g: Sample(np.array([-1, 0])), RuntimeError, "a negative class", "int64")]),
]

__all__ = ["ENTRIES"]
