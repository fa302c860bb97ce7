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

ENTRIES = ACTIVATIONS

__all__ = ["ENTRIES"]
