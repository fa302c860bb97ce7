"""Entries for the nn ops added for PyTorch parity: the activations (``selu``, ``celu``,
``mish``, ``hardswish``, ``hardsigmoid``, ``prelu``, ``glu``, ``softsign``, ``tanhshrink``,
``softshrink``, ``hardshrink``, ``threshold``, ``rrelu`` and the in-place function forms
``selu_``...), the normalisations, dropouts, distances and losses."""

from __future__ import annotations

import numpy as np

from ..gen import Domain
from ..opinfo import NUMERIC, ErrorInput, Sample
from .common import AWAY_FROM_HALVES, AWAY_FROM_INTEGERS, D
from .functional import ACTIVATION, _act_sample, _clone_then, _op, _softplus

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


def _inplace_entry(name, ref, sample, **kw):
    return _op(ACTIVATION, name, ref, sample, call=_clone_then(name), **kw)


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

ENTRIES = ACTIVATIONS + NORMS + DROPOUTS

__all__ = ["ENTRIES"]
