"""Entries for the nn ops added for PyTorch parity: the activations (``selu``, ``celu``,
``mish``, ``hardswish``, ``hardsigmoid``, ``prelu``, ``glu``, ``softsign``, ``tanhshrink``,
``softshrink``, ``hardshrink``, ``threshold``, ``rrelu`` and the in-place function forms
``selu_``...), the normalisations, dropouts, distances and losses."""

from __future__ import annotations

import numpy as np
import plugrad

from ..gen import Domain
from ..opinfo import NUMERIC, Arr, ErrorInput, Sample
from .common import AWAY_FROM_HALVES, AWAY_FROM_INTEGERS, EVEN, ODD, D
from .functional import ACTIVATION, _act_sample, _op, _softplus

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _celu_ref(x, alpha=1.0, inplace=False):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0) / alpha))


def _selu_ref(x, inplace=False):
    return _SELU_SCALE * np.where(x > 0, x, _SELU_ALPHA * np.expm1(np.minimum(x, 0)))


def _prelu_sample(g):
    shape = g.shape(min_ndim=2, max_ndim=3, min_size=1)
    c = shape[1]
    w = g.array((c,) if g.boolean() else (1,), Domain(-1, 1))
    return Sample(g.array(shape, D if g.purpose == "forward" else AWAY_FROM_INTEGERS), w)


def _prelu_ref(x, w):
    wb = w.reshape(-1) if w.size == 1 else w.reshape((-1,) + (1,) * (x.ndim - 2))
    return np.where(x > 0, x, wb * x)


def _glu_sample(g):
    shape = list(g.shape(min_ndim=1, max_ndim=3, min_size=1))
    d = g.integers(0, len(shape) - 1)
    shape[d] = 2 * g.integers(1, 2)
    s = Sample(g.array(tuple(shape)))
    if d != len(shape) - 1 or g.boolean():
        s.kwargs["dim"] = d if g.boolean() else d - len(shape)
    return s


def _glu_ref(x, dim=-1):
    a, b = np.split(x, 2, axis=dim)
    return a / (1 + np.exp(-b))


def _shrink_ref(kind):
    def ref(x, lambd=0.5):
        if kind == "hard":
            return np.where(np.abs(x) > lambd, x, 0.0)
        return np.where(x > lambd, x - lambd, np.where(x < -lambd, x + lambd, 0.0))
    return ref


def _threshold_sample(g):
    s = _act_sample()(g)
    if g.kind == "float":   # off the 1/64 grid: no input sits on the threshold
        s.args = s.args + (g.choice([0.0 + 1 / 128, 1.0 + 1 / 128, -1.0 - 1 / 128]), g.choice([-2.0, 0.5, 3.0]))
    else:   # integer inputs take the numbers in their own type (an unsigned one wraps negatives)
        lo = 0 if g.dtype.name.startswith("u") else -1
        s.args = s.args + (g.choice([0, 1, lo]), g.choice([2 * lo, 0, 3]))
    return s


def _threshold_ref(x, threshold, value, inplace=False):
    return np.where(x > threshold, x, value)


def _rrelu_sample(g):
    s = _act_sample()(g)
    if g.boolean():   # training with lower == upper: the drawn slope is certain
        slope = g.choice([0.125, 0.25])
        s.kwargs.update(lower=slope, upper=slope, training=True)
    elif g.boolean():
        s.kwargs.update(lower=0.1, upper=0.3)
    return s


def _rrelu_ref(x, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    return np.where(x > 0, x, x * (lower + upper) / 2)


def _on_a_copy(name):
    """The in-place function ``name`` called on a copy of its tensor argument (anything else
    goes as it is, for the function to refuse)."""
    def call(x, *args, **kwargs):
        y = x.clone() if isinstance(x, plugrad.Tensor) else x
        getattr(plugrad.nn.functional, name)(y, *args, **kwargs)
        return y
    return call


def _inplace_entry(name, ref, sample, **kw):
    return _op(ACTIVATION, name, ref, sample, call=_on_a_copy(name), **kw)


_SHRINK = _act_sample({"lambd": [0.25, 1.0, 2.0]}, grad_domain=AWAY_FROM_HALVES)

ACTIVATIONS = [
    _op(ACTIVATION, "selu", _selu_ref, _act_sample()),
    _op(ACTIVATION, "celu", _celu_ref, _act_sample({"alpha": [0.5, 1.0, 2.0]}),
        errors=[ErrorInput(lambda g: Sample(g.array((3,)), 0.0), RuntimeError, "alpha 0")]),
    _op(ACTIVATION, "mish", lambda x, inplace=False: x * np.tanh(_softplus(x)), _act_sample()),
    _op(ACTIVATION, "hardswish", lambda x, inplace=False: x * np.clip(x + 3, 0, 6) / 6, _act_sample()),
    _op(ACTIVATION, "hardsigmoid", lambda x, inplace=False: np.clip(x + 3, 0, 6) / 6, _act_sample(), gradgrad=False),
    _op(ACTIVATION, "prelu", _prelu_ref, _prelu_sample, method=True,
        errors=[ErrorInput(lambda g: Sample(g.array((2, 3)), g.array((2,))), RuntimeError,
                           "2 slopes for 3 channels")]),
    _op(ACTIVATION, "glu", _glu_ref, _glu_sample,
        errors=[ErrorInput(lambda g: Sample(g.array((2, 3))), RuntimeError, "an odd halved dim")]),
    _op(ACTIVATION, "softsign", lambda x: x / (1 + np.abs(x)), _act_sample()),
    _op(ACTIVATION, "tanhshrink", lambda x: x - np.tanh(x), _act_sample()),
    _op(ACTIVATION, "softshrink", _shrink_ref("soft"), _SHRINK,
        errors=[ErrorInput(lambda g: Sample(g.array((3,)), -1.0), RuntimeError, "a negative lambda")]),
    _op(ACTIVATION, "hardshrink", _shrink_ref("hard"), _SHRINK, method=True),
    _op(ACTIVATION, "threshold", _threshold_ref, _threshold_sample, dtypes=NUMERIC - {"bool"}),
    _op(ACTIVATION, "rrelu", _rrelu_ref, _rrelu_sample,
        errors=[ErrorInput(lambda g: Sample(g.array((3,)), 0.5, 0.1), RuntimeError, "lower above upper")]),
    _inplace_entry("selu_", _selu_ref, _act_sample()),
    _inplace_entry("celu_", _celu_ref, _act_sample({"alpha": [0.5, 2.0]})),
    _inplace_entry("threshold_", _threshold_ref, _threshold_sample),
    _inplace_entry("rrelu_", _rrelu_ref, _rrelu_sample),
    _inplace_entry("elu_", lambda x, alpha=1.0: np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))),
                   _act_sample({"alpha": [0.5, 2.0]})),
    _inplace_entry("leaky_relu_", lambda x, negative_slope=0.01: np.where(x > 0, x, x * negative_slope),
                   _act_sample({"negative_slope": [0.2, 1.5]})),
    _inplace_entry("hardtanh_", lambda x, min_val=-1.0, max_val=1.0: np.clip(x, min_val, max_val),
                   _act_sample({"min_val": [-2.0, -0.5 + 1 / 128], "max_val": [2.0, 0.5 + 1 / 128]},
                               grad_domain=AWAY_FROM_INTEGERS)),
]

# ---- normalisation ------------------------------------------------------------------------------

NORMALIZATION = "plugrad.ops.normalization"
_NORM_TOL = {"float16": (1e-2, 2e-2)}


def _group_norm_sample(g):
    groups = g.integers(1, 2)
    c = groups * g.integers(1, 2)
    spatial = tuple(g.integers(1, 3) for _ in range(g.integers(0, 2)))
    g.assume(c // groups * int(np.prod(spatial)) >= 2)
    s = Sample(g.array((g.integers(1, 2), c) + spatial, D, unique=True), groups)
    if g.boolean():
        s.args = s.args + (g.array((c,), Domain(0.5, 2)), g.array((c,)))
    if g.boolean():
        s.kwargs["eps"] = g.choice([1e-3, 0.25])
    return s


def _group_norm_ref(x, num_groups, weight=None, bias=None, eps=1e-5):
    n, c = x.shape[:2]
    xg = x.reshape(n, num_groups, -1)
    y = ((xg - xg.mean(2, keepdims=True)) / np.sqrt(xg.var(2, keepdims=True) + eps)).reshape(x.shape)
    shape = (1, c) + (1,) * (x.ndim - 2)
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def _instance_norm_sample(g):
    n, c, length = g.integers(1, 2), g.integers(1, 3), g.integers(2, 4)
    s = Sample(g.array((n, c, length), D, unique=True))
    affine = g.boolean()
    if affine:
        s.kwargs.update(weight=g.array((c,), Domain(0.5, 2)), bias=g.array((c,)))
    if g.boolean():   # the running statistics get no gradient
        s.kwargs.update(running_mean=g.array((c,)), running_var=g.array((c,), Domain(0.5, 2)), use_input_stats=False)
        s.nograd = (3, 4) if affine else (1, 2)
    if g.boolean():
        s.kwargs["eps"] = g.choice([1e-3, 0.25])
    return s


def _instance_norm_ref(x, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                       momentum=0.1, eps=1e-5):
    shape = (1, -1, 1)
    if use_input_stats:
        y = (x - x.mean(2, keepdims=True)) / np.sqrt(x.var(2, keepdims=True) + eps)
    else:
        y = (x - running_mean.reshape(shape)) / np.sqrt(running_var.reshape(shape) + eps)
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def _rms_norm_sample(g):
    shape = g.shape(min_ndim=1, min_size=1)
    k = g.integers(1, len(shape))
    norm_shape = tuple(shape[len(shape) - k:])
    s = Sample(g.array(shape, Domain(0.25, 4)) * (1 if g.boolean() else -1), norm_shape)
    if g.boolean():
        s.args = s.args + (g.array(norm_shape, Domain(0.5, 2)),)
    # always an eps: the default (None) is the dtype's epsilon, which a float64 reference
    # cannot know (tests/test_nn_norms.py checks it against PyTorch)
    s.kwargs["eps"] = g.choice([1e-6, 1e-3, 0.25])
    return s


def _rms_norm_ref(x, normalized_shape, weight=None, eps=None):
    axes = tuple(range(x.ndim - len(normalized_shape), x.ndim))
    y = x / np.sqrt(np.mean(x * x, axis=axes, keepdims=True) + eps)
    return y if weight is None else y * weight


def _lrn_sample(g):
    shape = (g.integers(1, 2), g.integers(1, 4)) + tuple(g.integers(1, 3) for _ in range(g.integers(1, 2)))
    s = Sample(g.array(shape), g.integers(1, 3))
    if g.boolean():
        s.kwargs.update(alpha=g.choice([0.1, 1.0]), beta=g.choice([0.5, 0.75]), k=g.choice([1.0, 2.0]))
    return s


def _lrn_ref(x, size, alpha=1e-4, beta=0.75, k=1.0):
    c = x.shape[1]
    sq = np.pad(x * x, [(0, 0), (size // 2, (size - 1) // 2)] + [(0, 0)] * (x.ndim - 2))
    window = sum(sq[:, i:i + c] for i in range(size))
    return x / (k + alpha * window / size) ** beta


NORMS = [
    _op(NORMALIZATION, "group_norm", _group_norm_ref, _group_norm_sample, tol=_NORM_TOL,
        errors=[ErrorInput(lambda g: Sample(g.array((2, 3, 4)), 2), RuntimeError, "3 channels in 2 groups")]),
    _op(NORMALIZATION, "instance_norm", _instance_norm_ref, _instance_norm_sample, tol=_NORM_TOL,
        errors=[ErrorInput(lambda g: Sample(g.array((2, 3, 1))), ValueError, "one spatial element")]),
    _op(NORMALIZATION, "rms_norm", _rms_norm_ref, _rms_norm_sample, tol=_NORM_TOL,
        errors=[ErrorInput(lambda g: Sample(g.array((2, 3)), (2,)), RuntimeError, "a shape that does not end "
                                                                                    "the input's")]),
    _op(NORMALIZATION, "local_response_norm", _lrn_ref, _lrn_sample, tol=_NORM_TOL,
        errors=[ErrorInput(lambda g: Sample(g.array((2, 3)), 2), ValueError, "a 2-d input")]),
]

# ---- dropout: only the certain cases (evaluation, p = 0, p = 1) have a reference ----------------

def _feature_dropout_sample(ndims):
    def sample(g):
        shape = (g.integers(1, 2), g.integers(1, 3)) + tuple(g.integers(1, 2) for _ in range(ndims - 2))
        x = g.array(shape)
        variant = g.integers(0, 2)
        if variant == 0:
            return Sample(x, g.choice([0.0, 0.5, 1.0]), False)
        if variant == 1:
            return Sample(x, p=0.0, training=True)
        return Sample(x, p=1.0, training=True)
    return sample


def _dropout_ref(x, p=0.5, training=True, inplace=False):
    return x.copy() if not training or p == 0.0 else np.zeros_like(x)


def _alpha_dropout_ref(x, p=0.5, training=False, inplace=False):
    return _dropout_ref(x, p, training)


_P_ABOVE_ONE = ErrorInput(lambda g: Sample(g.array((2, 3, 4)), 1.5), ValueError, "a probability above 1")

DROPOUTS = [
    _op(ACTIVATION, "dropout1d", _dropout_ref, _feature_dropout_sample(3),
        errors=[_P_ABOVE_ONE, ErrorInput(lambda g: Sample(g.array((2, 3, 4, 5))), RuntimeError, "a 4-d input")]),
    _op(ACTIVATION, "dropout2d", _dropout_ref, _feature_dropout_sample(4), errors=[_P_ABOVE_ONE]),
    _op(ACTIVATION, "dropout3d", _dropout_ref, _feature_dropout_sample(5), errors=[_P_ABOVE_ONE]),
    _op(ACTIVATION, "alpha_dropout", _alpha_dropout_ref, _feature_dropout_sample(2), errors=[_P_ABOVE_ONE]),
    _op(ACTIVATION, "feature_alpha_dropout", _alpha_dropout_ref, _feature_dropout_sample(3),
        errors=[_P_ABOVE_ONE, ErrorInput(lambda g: Sample(g.array((3,)), 0.5, True), RuntimeError, "a 1-d input")]),
]

# ---- losses and distances ------------------------------------------------------------------------

LOSS = "plugrad.ops.loss"
#: margins off the 1/64 grid: no hinge sits exactly on its kink
_MARGINS = [0.0 + 1 / 128, 0.5 + 1 / 128, 1.0 + 1 / 128]


def _reduce(loss, reduction="mean"):
    if reduction == "none":
        return loss
    return np.sum(loss) if reduction == "sum" else np.mean(loss)


def _with_reduction(g, s, choices=("mean", "sum", "none")):
    r = g.choice([None, *choices])
    if r is not None:
        s.kwargs["reduction"] = r
    return s


def _signs(g, shape):
    return np.where(g.array(shape, Domain(-1, 1)) >= 0, 1.0, -1.0)


def _kl_sample(g):
    shape = g.shape(min_ndim=1)
    log_target = g.boolean()
    target = g.array(shape, Domain(-3, 0)) if log_target else g.array(shape, Domain(0.125, 1))
    s = Sample(g.array(shape, Domain(-3, 0)), target)
    if log_target:
        s.kwargs["log_target"] = True
    return _with_reduction(g, s, ("mean", "sum", "none", "batchmean"))


def _kl_ref(x, y, reduction="mean", log_target=False):
    loss = np.exp(y) * (y - x) if log_target else y * np.log(y) - y * x
    if reduction == "batchmean":
        return np.sum(loss) / (x.shape[0] if x.ndim else 1)
    return _reduce(loss, reduction)


def _poisson_sample(g):
    shape = g.shape()
    log_input = g.boolean()
    x = g.array(shape) if log_input else g.array(shape, Domain(0.25, 4))
    s = Sample(x, g.array(shape, Domain(0, 4)), nograd=(1,))
    if not log_input:
        s.kwargs["log_input"] = False
    if g.boolean():
        s.kwargs["full"] = True
    return _with_reduction(g, s)


def _poisson_ref(x, t, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None, reduction="mean"):
    loss = np.exp(x) - t * x if log_input else x - t * np.log(x + eps)
    if full:
        safe = np.where(t > 1, t, 1.0)
        loss = loss + np.where(t > 1, safe * np.log(safe) - safe + 0.5 * np.log(2 * np.pi * safe), 0.0)
    return _reduce(loss, reduction)


def _gaussian_sample(g):
    shape = g.shape(min_ndim=1, min_size=1)
    var_shape = shape if g.boolean() else shape[:-1]
    s = Sample(g.array(shape), g.array(shape), g.array(var_shape, Domain(0.25, 2)))
    if g.boolean():
        s.kwargs["full"] = True
    if g.purpose == "forward" and g.boolean():
        # clamps some variances (a clamped variance keeps its gradient, as in PyTorch: not
        # the finite differences' zero, so only the forward checks clamp)
        s.kwargs["eps"] = 0.5 + 1 / 128
    return _with_reduction(g, s)


def _gaussian_ref(x, t, var, full=False, eps=1e-6, reduction="mean"):
    if var.shape != x.shape:
        var = var[..., None]
    var = np.maximum(var, eps)
    loss = 0.5 * (np.log(var) + (x - t) ** 2 / var) + (0.5 * np.log(2 * np.pi) if full else 0.0)
    return _reduce(loss, reduction)


def _ranking_sample(g):
    shape = g.shape(max_ndim=2)
    s = Sample(g.array(shape, EVEN), g.array(shape, ODD), _signs(g, shape), nograd=(2,))
    if g.boolean():
        s.kwargs["margin"] = g.choice(_MARGINS)
    return _with_reduction(g, s)


def _ranking_ref(a, b, y, margin=0.0, reduction="mean"):
    return _reduce(np.maximum(-y * (a - b) + margin, 0), reduction)


def _hinge_sample(g):
    shape = g.shape()
    s = Sample(g.array(shape), _signs(g, shape), nograd=(1,))
    s.kwargs["margin"] = g.choice(_MARGINS)
    return _with_reduction(g, s)


def _hinge_ref(x, y, margin=1.0, reduction="mean"):
    return _reduce(np.where(y != 1, np.maximum(margin - x, 0), 0) + np.where(y != -1, x, 0), reduction)


def _soft_margin_sample(g):
    shape = g.shape()
    return _with_reduction(g, Sample(g.array(shape), _signs(g, shape), nograd=(1,)))


def _soft_margin_ref(x, y, reduction="mean"):
    return _reduce(np.log1p(np.exp(-y * x)), reduction)


def _mlsm_sample(g):
    shape = g.shape(min_ndim=1, max_ndim=2, min_size=1)
    s = Sample(g.array(shape), np.where(g.array(shape, Domain(-1, 1)) >= 0, 1.0, 0.0), nograd=(1,))
    if g.boolean():
        s.args = s.args + (g.array(shape[-1:], Domain(0.5, 2)),)
        s.nograd = (1, 2)
    return _with_reduction(g, s)


def _mlsm_ref(x, y, weight=None, reduction="mean"):
    loss = y * _softplus(-x) + (1 - y) * _softplus(x)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss.sum(-1) / x.shape[-1], reduction)


def _class_rows(g):
    n, c = g.integers(1, 3), g.integers(1, 4)
    return ((c,) if g.boolean() else (n, c)), c


def _mlm_sample(g):
    shape, c = _class_rows(g)
    target = np.array([g.integers(-1, c - 1) for _ in range(int(np.prod(shape)))]).reshape(shape)
    return _with_reduction(g, Sample(g.array(shape, D, unique=True), Arr(target, "int64")))


def _mlm_ref(x, target, reduction="mean"):
    xs, ts = np.atleast_2d(x), np.atleast_2d(target)
    c = xs.shape[1]
    losses = []
    for row, t in zip(xs, ts):
        labels = []
        for v in t:
            if v < 0:
                break
            labels.append(v)
        is_t = np.zeros(c, bool)
        is_t[labels] = True
        losses.append(sum(max(0.0, 1 - row[j] + row[i]) for j in labels for i in range(c) if not is_t[i]) / c)
    loss = np.array(losses)
    return loss.reshape(x.shape[:-1]) if reduction == "none" else _reduce(loss, reduction)


def _mm_sample(g):
    shape, c = _class_rows(g)
    n = 1 if len(shape) == 1 else shape[0]
    target = np.array([g.integers(0, c - 1) for _ in range(n)]).reshape(() if len(shape) == 1 else (n,))
    s = Sample(g.array(shape, D, unique=True), Arr(target, "int64"))
    if g.boolean():
        s.kwargs["p"] = 2
    if g.boolean():
        s.kwargs["margin"] = g.choice(_MARGINS)
    if g.boolean():
        s.kwargs["weight"] = g.array((c,), Domain(0.5, 2))
        s.nograd = (1,)
    return _with_reduction(g, s)


def _mm_ref(x, target, p=1, margin=1.0, weight=None, reduction="mean"):
    xs, ts = np.atleast_2d(x), np.atleast_1d(target)
    c = xs.shape[1]
    w = np.ones(c) if weight is None else weight
    loss = np.array([sum(max(0.0, margin - row[y] + row[i]) ** p for i in range(c) if i != y) * w[y] / c
                     for row, y in zip(xs, ts)])
    return loss.reshape(x.shape[:-1]) if reduction == "none" else _reduce(loss, reduction)


def _pairwise_sample(g):
    sa, sb = g.shapes(2, min_ndim=1)
    s = Sample(g.array(sa, EVEN), g.array(sb, ODD))
    if g.boolean():
        s.kwargs["p"] = g.choice([1.0, 3.0])
    if g.boolean():
        s.kwargs["keepdim"] = True
    return s


def _pnorm(d, p, axis, keepdims=False):
    return np.sum(np.abs(d) ** p, axis=axis, keepdims=keepdims) ** (1 / p)


def _pairwise_ref(a, b, p=2.0, eps=1e-6, keepdim=False):
    return _pnorm(a - b + eps, p, -1, keepdim)


def _cos_sample(g):
    sa, sb = g.shapes(2, min_ndim=1, min_size=1)
    ndim = max(len(sa), len(sb))
    s = Sample(g.array(sa, Domain(0.25, 4)) * (1 if g.boolean() else -1), g.array(sb, Domain(0.25, 4)))
    s.kwargs["dim"] = g.dim(ndim) if ndim > 1 or g.boolean() else 0
    return s


def _cos_ref(a, b, dim=1, eps=1e-8):
    a, b = np.broadcast_arrays(a, b)
    na = np.maximum(np.sqrt(np.sum(a * a, axis=dim, keepdims=True)), eps)
    nb = np.maximum(np.sqrt(np.sum(b * b, axis=dim, keepdims=True)), eps)
    return np.sum(a / na * b / nb, axis=dim)


def _cos_emb_sample(g):
    n, d = g.integers(1, 3), g.integers(1, 3)
    batched = g.boolean()
    shape, tshape = ((n, d), (n,)) if batched else ((d,), ())
    s = Sample(g.array(shape, Domain(0.25, 4)), g.array(shape, Domain(-4, -0.25)) * (1 if g.boolean() else -1),
               _signs(g, tshape), nograd=(2,))
    if g.boolean():
        s.kwargs["margin"] = g.choice([-0.5 + 1 / 128, 0.25 + 1 / 128])
    return _with_reduction(g, s)


def _cos_emb_ref(a, b, y, margin=0.0, reduction="mean"):
    cos = np.sum(a * b, -1) / np.sqrt((np.sum(a * a, -1) + 1e-12) * (np.sum(b * b, -1) + 1e-12))
    return _reduce(np.where(y == 1, 1 - cos, 0) + np.where(y == -1, np.maximum(cos - margin, 0), 0), reduction)


def _triplet_sample(g):
    shape = g.shape(min_ndim=1, max_ndim=2, min_size=1)
    s = Sample(g.array(shape, EVEN), g.array(shape, ODD), g.array(shape, ODD) + 1 / 256)
    s.kwargs["margin"] = g.choice([0.5 + 1 / 512, 1.0 + 1 / 512])
    if g.boolean():
        s.kwargs["swap"] = True
    return _with_reduction(g, s)


def _triplet_ref(a, pos, neg, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction="mean", distance_function=None):
    d_pos, d_neg = _pnorm(a - pos + eps, p, -1), _pnorm(a - neg + eps, p, -1)
    if swap:
        d_neg = np.minimum(d_neg, _pnorm(pos - neg + eps, p, -1))
    return _reduce(np.maximum(margin + d_pos - d_neg, 0), reduction)


def _triplet_p_sample(g):
    s = _triplet_sample(g)
    if g.boolean():
        s.kwargs["p"] = 1.0
    return s


_BAD_REDUCTION = ErrorInput(lambda g: Sample(g.array((2, 3)), g.array((2, 3)), reduction="avg"), ValueError,
                            "an unknown reduction")

LOSSES = [
    _op(LOSS, "kl_div", _kl_ref, _kl_sample, errors=[_BAD_REDUCTION]),
    _op(LOSS, "poisson_nll_loss", _poisson_ref, _poisson_sample, errors=[_BAD_REDUCTION]),
    _op(LOSS, "gaussian_nll_loss", _gaussian_ref, _gaussian_sample,
        errors=[ErrorInput(lambda g: Sample(g.array((2, 3)), g.array((2, 3)), g.array((3, 2), Domain(1, 2))),
                           ValueError, "a var of another size"),
                ErrorInput(lambda g: Sample(g.array((2,)), g.array((2,)), g.array((2,), Domain(-2, -1))),
                           ValueError, "a negative var")]),
    _op(LOSS, "margin_ranking_loss", _ranking_ref, _ranking_sample,
        errors=[ErrorInput(lambda g: Sample(g.array((2,)), g.array((2,)), g.array((1, 2))), RuntimeError,
                           "inputs of different ranks")]),
    _op(LOSS, "hinge_embedding_loss", _hinge_ref, _hinge_sample, errors=[_BAD_REDUCTION]),
    _op(LOSS, "soft_margin_loss", _soft_margin_ref, _soft_margin_sample, errors=[_BAD_REDUCTION]),
    _op(LOSS, "multilabel_soft_margin_loss", _mlsm_ref, _mlsm_sample, errors=[_BAD_REDUCTION]),
    _op(LOSS, "multilabel_margin_loss", _mlm_ref, _mlm_sample,
        errors=[ErrorInput(lambda g: Sample(g.array((2, 3)), g.array((2,))), RuntimeError, "a target of another "
                                                                                             "size")]),
    _op(LOSS, "multi_margin_loss", _mm_ref, _mm_sample,
        errors=[ErrorInput(lambda g: Sample(g.array((2, 3)), np.array([0, 1]), p=3), ValueError, "p = 3")]),
    _op(LOSS, "pairwise_distance", _pairwise_ref, _pairwise_sample,
        errors=[ErrorInput(lambda g: Sample(g.array((2, 3)), g.array((2, 4))), RuntimeError,
                           "shapes that do not broadcast")]),
    _op(LOSS, "cosine_similarity", _cos_ref, _cos_sample,
        errors=[ErrorInput(lambda g: Sample(g.array((2, 3)), g.array((2, 3)), 2), IndexError, "dim 2 of 2-d inputs")]),
    _op(LOSS, "cosine_embedding_loss", _cos_emb_ref, _cos_emb_sample,
        errors=[ErrorInput(lambda g: Sample(g.array((2, 3)), g.array((2, 4)), g.array((2,))), RuntimeError,
                           "inputs of different shapes")]),
    _op(LOSS, "triplet_margin_loss", _triplet_ref, _triplet_p_sample,
        errors=[ErrorInput(lambda g: Sample(g.array((2, 3)), g.array((2, 3)), g.array((3,))), RuntimeError,
                           "inputs of different ranks")]),
    _op(LOSS, "triplet_margin_with_distance_loss", _triplet_ref, _triplet_sample,
        errors=[ErrorInput(lambda g: Sample(g.array((2, 3)), g.array((2, 3)), g.array((2, 3)), margin=0.0),
                           ValueError, "margin 0")]),
]

# ---- embedding bags and the bilinear map ----------------------------------------------------------

def _bag_sample(g):
    num, dim = g.integers(1, 4), g.integers(1, 3)
    n = g.integers(0, 5)
    idx = np.array([g.integers(0, num - 1) for _ in range(n)], dtype=np.int64)
    mode = g.choice(["sum", "mean", "max"])
    weight = g.array((num, dim), D, unique=True)
    if g.boolean():   # a 2-d input: one bag per row
        rows = g.integers(1, 2)
        idx = np.array([g.integers(0, num - 1) for _ in range(rows * 2)], dtype=np.int64).reshape(rows, 2)
        s = Sample(Arr(idx, "int64"), weight, mode=mode)
    else:
        cuts = sorted(g.integers(0, n) for _ in range(g.integers(0, 2)))
        s = Sample(Arr(idx, "int64"), weight, Arr(np.array([0] + cuts, dtype=np.int64), "int64"), mode=mode)
    if g.boolean():
        s.kwargs["padding_idx"] = g.integers(0, num - 1)
    return s


def _bag_ref(input, weight, offsets=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False, mode="mean",
             sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    if input.ndim == 2:
        bags = list(input)
    else:
        starts = list(offsets) + [input.size]
        bags = [input[starts[b]:starts[b + 1]] for b in range(len(offsets))]
    out = np.zeros((len(bags), weight.shape[1]))
    for b, bag in enumerate(bags):
        rows = np.array([weight[i] for i in bag if i != padding_idx]).reshape(-1, weight.shape[1])
        if len(rows):
            out[b] = rows.sum(0) if mode == "sum" else rows.mean(0) if mode == "mean" else rows.max(0)
    return out


def _bilinear_sample(g):
    lead = g.shape(max_ndim=2)
    n1, n2, out = g.integers(1, 3), g.integers(1, 3), g.integers(1, 3)
    s = Sample(g.array(lead + (n1,)), g.array(lead + (n2,)), g.array((out, n1, n2)))
    if g.boolean():
        s.args = s.args + (g.array((out,)),)
    return s


def _bilinear_ref(a, b, w, bias=None):
    y = np.einsum("...i,oij,...j->...o", a, w, b)
    return y if bias is None else y + bias


BAGS = [
    _op(ACTIVATION, "embedding_bag", _bag_ref, _bag_sample, gradgrad=False,
        errors=[ErrorInput(lambda g: Sample(Arr(np.array([0, 1]), "int64"), g.array((3, 2))), ValueError,
                           "a 1-d input without offsets"),
                ErrorInput(lambda g: Sample(Arr(np.array([[3]]), "int64"), g.array((3, 2))), RuntimeError,
                           "index 3 of 3 rows")]),
    _op(ACTIVATION, "bilinear", _bilinear_ref, _bilinear_sample,
        errors=[ErrorInput(lambda g: Sample(g.array((2, 3)), g.array((2, 3)), g.array((1, 2, 3))), RuntimeError,
                           "input1 of 3 features for a weight of 2")]),
]

# ---- CTC: values only. PyTorch's gradient with respect to log_probs is the one through a
# log_softmax (it adds exp(log_probs), which a log_softmax before it cancels), not the partial
# derivative finite differences measure; tests/test_nn_extra_losses.py checks it against
# PyTorch's, with and without a log_softmax before it ----------------------------------------------

def _ctc_sample(g):
    t_max, n, c = g.integers(1, 4), g.integers(1, 2), g.integers(2, 3)
    in_lens = tuple(g.integers(1, t_max) for _ in range(n))
    tgt_lens = tuple(g.integers(0, 2) for _ in range(n))
    targets = np.array([[g.integers(1, c - 1) for _ in range(max(tgt_lens) + 1)] for _ in range(n)], np.int64)
    s = Sample(g.array((t_max, n, c)), Arr(targets, "int64"), in_lens, tgt_lens)
    s.kwargs["zero_infinity"] = True   # an impossible alignment: 0 (the default, inf, has NaN gradients)
    return _with_reduction(g, s)


def _ctc_ref(lp, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    losses = []
    for b, (length, tl) in enumerate(zip(input_lengths, target_lengths)):
        ext = [blank]
        for v in targets[b][:tl]:
            ext += [int(v), blank]
        alpha = np.full(len(ext), -np.inf)
        alpha[0] = lp[0, b, ext[0]]
        if len(ext) > 1:
            alpha[1] = lp[0, b, ext[1]]
        for t in range(1, length):
            new = np.full(len(ext), -np.inf)
            for s_ in range(len(ext)):
                terms = [alpha[s_]] + ([alpha[s_ - 1]] if s_ else [])
                if s_ >= 2 and ext[s_] != blank and ext[s_] != ext[s_ - 2]:
                    terms.append(alpha[s_ - 2])
                new[s_] = np.logaddexp.reduce(terms) + lp[t, b, ext[s_]]
            alpha = new
        ll = np.logaddexp.reduce(alpha[-2:]) if len(ext) > 1 else alpha[0]
        losses.append(0.0 if zero_infinity and ll == -np.inf else -ll)
    losses = np.array(losses)
    if reduction == "mean":
        return np.mean(losses / np.maximum(target_lengths, 1))
    return _reduce(losses, reduction)


CTC = [
    _op(LOSS, "ctc_loss", _ctc_ref, _ctc_sample, differentiable=False, tol={"float16": (2e-2, 5e-2)},
        errors=[ErrorInput(lambda g: Sample(g.array((3, 1, 2)), Arr(np.array([[1]]), "int64"), (4,), (1,)),
                           RuntimeError, "an input length past the input")]),
]

# ---- pdist, channel_shuffle ------------------------------------------------------------------------

def _pdist_sample(g):
    s = Sample(g.array((g.integers(0, 4), g.integers(1, 3)), D, unique=True))
    if g.boolean():
        s.args = s.args + (g.choice([1.0, 3.0]),)
    return s


def _pdist_ref(x, p=2.0):
    n = x.shape[0]
    return np.array([_pnorm(x[i] - x[j], p, -1) for i in range(n) for j in range(i + 1, n)]).reshape(-1)


def _shuffle_sample(g):
    groups = g.integers(1, 3)
    shape = (g.integers(1, 2), groups * g.integers(1, 2)) + tuple(g.integers(1, 2) for _ in range(g.integers(1, 2)))
    return Sample(g.array(shape), groups)


def _shuffle_ref(x, groups):
    n, c = x.shape[:2]
    return x.reshape((n, groups, c // groups) + x.shape[2:]).swapaxes(1, 2).reshape(x.shape)


LAST = [
    _op(LOSS, "pdist", _pdist_ref, _pdist_sample,
        errors=[ErrorInput(lambda g: Sample(g.array((3,))), RuntimeError, "a 1-d input")]),
    _op(ACTIVATION, "channel_shuffle", _shuffle_ref, _shuffle_sample, dtypes=NUMERIC,
        errors=[ErrorInput(lambda g: Sample(g.array((2, 3, 2)), 2), RuntimeError, "3 channels in 2 groups")]),
]

ENTRIES = ACTIVATIONS + NORMS + DROPOUTS + LOSSES + BAGS + CTC + LAST

__all__ = ["ENTRIES"]
