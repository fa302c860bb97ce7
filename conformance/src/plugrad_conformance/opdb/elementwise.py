"""Entries for ``plugrad.ops.elementwise``: arithmetic, math functions, comparisons,
logic, ``where``, ``clamp`` and friends."""

from __future__ import annotations

import math

import numpy as np
import plugrad

from ..checks.base import NotApplicable
from ..gen import Domain
from ..opinfo import ALL, INTS_AND_BOOL, NUMERIC, TO_BOOL, TO_FLOAT, Arr, ErrorInput, OpInfo, Sample
from .common import (AWAY_FROM_HALVES, AWAY_FROM_INTEGERS, EVEN, NONZERO, ODD, TIES, D, binary, bool_refused,
                     f64, float_refused, not_a_number, scalar_kind, shape_mismatch, unary)

FAMILY = "plugrad.ops.elementwise"

#: divisors that keep floor/remainder/fmod exact: a/b is then exact in every float
#: dtype, and with a off the multiples of 1/2, never an integer (no discontinuity)
POW2 = Domain(-4, 4, grid=(-4.0, -2.0, -1.0, -0.5, 0.5, 1.0, 2.0, 4.0))


def _e(name, ref, sample, **kw):
    return OpInfo(name, FAMILY, ref, sample, **kw)


# ---- arithmetic ----------------------------------------------------------------------------

def _add_sample(g):
    s = binary()(g)
    if g.purpose == "forward" and g.kind != "bool" and g.integers(0, 2) == 0:
        s.kwargs["alpha"] = g.choice([2, -1] if g.kind == "int" else [2, 0.5, -1.5])
    return s


def _sub_sample(g):
    s = binary()(g)
    if g.purpose == "forward" and g.integers(0, 2) == 0:
        s.kwargs["alpha"] = g.choice([2, -1] if g.kind == "int" else [2, 0.5])
    return s


def _div_sample(g):
    mode = g.choice([None, None, "trunc", "floor"]) if g.purpose == "forward" else None
    if g.kind == "float" and mode is not None:
        s = binary(AWAY_FROM_HALVES, POW2)(g)
    elif g.kind == "float":
        s = binary(D, NONZERO)(g)
    else:
        s = binary(D, POW2)(g)
    if mode is not None:
        s.kwargs["rounding_mode"] = mode
    return s


def _div_ref(a, b, rounding_mode=None):
    if rounding_mode == "floor":
        return np.floor_divide(a, b)
    q = np.true_divide(a, b)
    return np.trunc(q) if rounding_mode == "trunc" else q


def _div_dtype(d, s):
    return TO_FLOAT(d, s) if s.kwargs.get("rounding_mode") is None else d


_floor_sample = binary(AWAY_FROM_HALVES, POW2)


def _int_zero_divisor(name, **kw):
    return ErrorInput(lambda g: Sample(g.array((3,)), np.zeros(3, dtype=np.int64), **kw), RuntimeError,
                      f"integer {name} by zero", "int64")


def _pow_sample(g):
    variant = g.integers(0, 2) if g.purpose in ("forward", "grad") else 0
    positive = Domain(0.25, 3)
    if g.kind == "float":
        base_dom, exp_dom = positive, Domain(-2, 2)
    elif g.kind == "int":
        base_dom, exp_dom = Domain(-3, 3), Domain(0, 3)
    else:
        base_dom = exp_dom = D
    if variant == 0:
        sa, sb = g.shapes(2)
        return Sample(g.array(sa, base_dom), g.array(sb, exp_dom))
    if variant == 1:
        if g.kind == "float":
            e = g.choice([2, 3, 0, 1, 0.5, -1, 1.5, -2.5])
            return Sample(g.array(g.shape(), positive if not float(e).is_integer() or e < 0 else D), e)
        return Sample(g.array(g.shape(), base_dom), g.choice([0, 1, 2, 3]))
    base = g.choice([2.0, 0.5, 3]) if g.kind == "float" else g.choice([2, 3])
    return Sample(base, g.array(g.shape(), exp_dom))


def _neg_int_power():
    return ErrorInput(lambda g: Sample(g.array((3,), Domain(1, 3)), -2), RuntimeError,
                      "an integer tensor to a negative integer power", "int64")


# ---- math functions --------------------------------------------------------------------------

def _math(name, ref, domain, **kw):
    """A float math function: integer and bool inputs compute in the default float dtype."""
    kw.setdefault("dtypes", ALL)
    kw.setdefault("result_dtype", TO_FLOAT)
    return _e(name, f64(ref), unary(domain), **kw)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _sign_ref(x):
    return x.copy() if x.dtype == bool else np.sign(x)


def _round_sample(g):
    s = unary(D, AWAY_FROM_HALVES)(g)
    if g.kind == "float" and g.purpose == "forward" and g.integers(0, 2) == 0:
        s.kwargs["decimals"] = g.choice([1, 2, -1])
    return s


def _round_ref(x, decimals=0):
    if decimals == 0:
        return np.round(x)
    scale = 10.0 ** decimals
    return np.round(x * scale) / scale


def _rounding(name, ref, grad_domain, sample=None):
    """floor/ceil/trunc/round/sign: integer results stay integers; gradient zero
    away from the jumps."""
    return _e(name, ref, sample or unary(D, grad_domain), dtypes=NUMERIC)


# ---- maximum / minimum / atan2 ----------------------------------------------------------------

def _minmax_sample(g):
    if g.purpose == "forward":
        return binary(TIES, TIES, scalar=False)(g)
    return binary(EVEN, ODD, scalar=False)(g)


def _atan2_sample(g):
    if g.purpose == "forward":
        return binary(D, NONZERO, scalar=False)(g)
    # y = 0 with x < 0 is atan2's branch cut: finite differences jump by 2*pi there
    return binary(NONZERO, NONZERO, scalar=False)(g)


# ---- comparisons and logic ----------------------------------------------------------------------

def _compare(name, ref, operator=None):
    return _e(name, ref, binary(TIES, TIES), dtypes=ALL, result_dtype=TO_BOOL, differentiable=False,
              broadcasts=True, promotes=True, operator=operator, errors=[shape_mismatch(), not_a_number()])


_BITWISE_DOMAIN = Domain(-100, 100)


def _bitwise(name, ref, operator):
    return _e(name, ref, binary(_BITWISE_DOMAIN, _BITWISE_DOMAIN, float_scalars=False), dtypes=INTS_AND_BOOL,
              differentiable=False, broadcasts=True, promotes=True, operator=operator,
              errors=[float_refused(2, f"{name} of float tensors"), shape_mismatch("int64"),
                      ErrorInput(lambda g: Sample(g.array((3,)), 2.5), RuntimeError, f"{name} with a float number",
                                 "int64")])


_SPECIAL = Domain(grid=(float("nan"), float("inf"), -float("inf"), 0.0, 1.5, -2.0, 3.0))


# ---- where / clamp / lerp / addc* -----------------------------------------------------------------

def _where_sample(g):
    if g.purpose == "forward" and g.integers(0, 5) == 0:
        return Sample(g.mask(g.shape()))
    sc, sa, sb = g.shapes(3)
    a = g.array(sa)
    if g.purpose == "forward" and g.integers(0, 3) == 0:
        b = g.scalar(kind=scalar_kind(g))
        return Sample(g.mask(sc), b, a) if g.boolean() else Sample(g.mask(sc), a, b)
    return Sample(g.mask(sc), a, g.array(sb))


def _where_ref(cond, a=None, b=None):
    if a is None and b is None:
        if cond.ndim == 0:
            return (np.zeros(int(cond), dtype=np.int64),)
        return tuple(np.asarray(i, dtype=np.int64) for i in np.nonzero(cond))
    return np.where(cond, a, b)


def _where_dtype(d, s):
    return plugrad.int64 if len(s.args) == 1 else d


def _where_method(cond, a=None, b=None):
    if not isinstance(a, plugrad.Tensor):
        raise NotApplicable()
    return a.where(cond, b)


_CLAMP_LO, _CLAMP_HI = -1 + 1 / 128, 1.5 + 1 / 128   # off the 1/64 grid: never a tie with an input


def _clamp_sample(g):
    variant = g.integers(0, 3)
    if g.kind == "int":
        lo, hi = g.integers(-2 if g.dtype.is_signed else 0, 0), g.integers(1, 3)
    else:
        lo, hi = _CLAMP_LO, _CLAMP_HI
    if variant == 3:
        sx, slo, shi = g.shapes(3)
        x = g.array(sx, EVEN)
        return Sample(x, g.array(slo, Domain(-4, 0, exclude=ODD.exclude)),
                      g.array(shi, Domain(0, 4, exclude=ODD.exclude)))
    x = g.array(g.shape())
    if variant == 0:
        return Sample(x, lo, hi)
    if variant == 1:
        return Sample(x, min=lo)
    return Sample(x, max=hi)


def _clamp_ref(x, min=None, max=None):
    if min is not None:
        x = np.maximum(x, min)
    if max is not None:
        x = np.minimum(x, max)
    return x


def _lerp_sample(g):
    sa, sb, sw = g.shapes(3)
    a, b = g.array(sa), g.array(sb)
    if g.purpose == "forward" and g.boolean():
        return Sample(a, b, g.choice([0.25, 0.5, 1.5]))
    return Sample(a, b, g.array(sw, Domain(0, 1)))


def _addc_sample(divisor):
    def sample(g):
        s0, s1, s2 = g.shapes(3)
        s = Sample(g.array(s0), g.array(s1), g.array(s2, NONZERO if divisor else D))
        if g.purpose == "forward" and g.boolean():
            s.kwargs["value"] = g.choice([2, -0.5])
        return s
    return sample


# ---- closeness --------------------------------------------------------------------------------------

_CLOSE = Domain(-2, 2, grid=(-2.0, -1.0, 0.0, 0.5, 1.0, 1.0 + 2 ** -10, 2.0, float("nan")))


def _isclose_sample(g):
    shape = g.shape()
    s = Sample(g.array(shape, _CLOSE), g.array(shape, _CLOSE))
    if g.boolean():
        s.kwargs.update(rtol=g.choice([1e-5, 1e-3, 0.1]), atol=g.choice([1e-8, 1e-3, 0.5]))
    if g.kind == "float" and g.boolean():
        s.kwargs["equal_nan"] = True
    return s


def _isclose_ref(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    if a.dtype != np.float64:
        return a == b if (rtol, atol) == (1e-05, 1e-08) else np.isclose(a, b, rtol, atol)
    return np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)


def _allclose_ref(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(np.all(_isclose_ref(a, b, rtol, atol, equal_nan)))


def _equal_sample(g):
    shape = g.shape()
    a = g.array(shape, TIES)
    variant = g.integers(0, 2)
    if variant == 0:
        return Sample(a, a.copy())
    if variant == 1:
        return Sample(a, g.array(shape, TIES))
    return Sample(a, g.array(g.shape(min_ndim=1), TIES))


def _equal_ref(a, b):
    return a.shape == b.shape and bool(np.array_equal(a, b))


def _mixed_sample(g):
    return Sample(g.array((3,)), Arr(np.zeros(3, dtype=np.int64), "int64"))


_ISCLOSE_MIXED = ErrorInput(_mixed_sample, RuntimeError, "input and other of different dtypes")


ENTRIES = [
    _e("add", lambda a, b, alpha=1: a + alpha * b, _add_sample, dtypes=ALL, broadcasts=True, promotes=True,
       operator=lambda a, b: a + b,
       errors=[shape_mismatch(), not_a_number(),
               ErrorInput(lambda g: Sample(g.array((3,)), g.array((3,)), alpha=1.5), RuntimeError,
                          "a float alpha with integer tensors", "int64")]),
    _e("sub", lambda a, b, alpha=1: a - alpha * b, _sub_sample, dtypes=NUMERIC, broadcasts=True, promotes=True,
       operator=lambda a, b: a - b, errors=[shape_mismatch(), not_a_number(), bool_refused(2, "sub of bools")]),
    _e("rsub", lambda a, b, alpha=1: b - alpha * a, _sub_sample, dtypes=NUMERIC, broadcasts=True,
       promotes=True),
    _e("mul", lambda a, b: a * b, binary(), dtypes=ALL, broadcasts=True, promotes=True,
       operator=lambda a, b: a * b, errors=[shape_mismatch(), not_a_number()]),
    _e("div", _div_ref, _div_sample, dtypes=NUMERIC, result_dtype=_div_dtype, broadcasts=True, promotes=True,
       operator=lambda a, b: a / b,
       errors=[shape_mismatch(), not_a_number(), _int_zero_divisor("floor division", rounding_mode="floor"),
               ErrorInput(lambda g: Sample(g.array((3,)), g.array((3,), NONZERO), rounding_mode="round"),
                          RuntimeError, "an unknown rounding_mode"),
               ErrorInput(lambda g: Sample(g.array((3,)), g.array((3,), NONZERO), rounding_mode=["floor"]),
                          TypeError, "a rounding_mode that is not a str")]),
    _e("floor_divide", np.floor_divide, _floor_sample, dtypes=NUMERIC, broadcasts=True, promotes=True,
       operator=lambda a, b: a // b, errors=[shape_mismatch(), _int_zero_divisor("floor division")]),
    _e("remainder", np.remainder, _floor_sample, dtypes=NUMERIC, broadcasts=True, promotes=True,
       operator=lambda a, b: a % b, errors=[shape_mismatch(), _int_zero_divisor("remainder")]),
    _e("fmod", np.fmod, _floor_sample, dtypes=NUMERIC, broadcasts=True, promotes=True,
       errors=[shape_mismatch(), _int_zero_divisor("fmod"),
               ErrorInput(lambda g: Sample(g.array((3,)), 2 ** 32), RuntimeError,
                          "a divisor that wraps to 0 in int32", "int32")]),
    _e("pow", np.power, _pow_sample, dtypes=NUMERIC, broadcasts=True, promotes=True,
       operator=lambda a, b: a ** b, errors=[shape_mismatch(), _neg_int_power()],
       tol={"float16": (4e-3, 4e-3)}),
    _e("neg", np.negative, unary(), dtypes=NUMERIC, operator=lambda a: -a,
       errors=[bool_refused(1, "negation of a bool tensor")]),
    _e("abs", np.abs, unary(D, AWAY_FROM_INTEGERS), dtypes=NUMERIC, operator=lambda a: abs(a),
       errors=[bool_refused(1, "abs of a bool tensor")]),
    _e("relu", lambda x: np.maximum(x, 0), unary(D, AWAY_FROM_INTEGERS), dtypes=NUMERIC,
       errors=[bool_refused(1, "relu of a bool tensor")]),
    _e("square", np.square, unary(), dtypes=NUMERIC),
    _math("exp", np.exp, Domain(-4, 4)),
    _math("log", np.log, Domain(1 / 8, 8)),
    _math("sqrt", np.sqrt, Domain(1 / 16, 8)),
    _math("rsqrt", lambda x: 1 / np.sqrt(x), Domain(1 / 8, 8)),
    _math("sin", np.sin, D),
    _math("cos", np.cos, D),
    _math("tan", np.tan, Domain(-1.25, 1.25), tol={"float16": (4e-3, 4e-3)}),
    _math("tanh", np.tanh, Domain(-3, 3)),
    _math("sigmoid", _sigmoid, Domain(-6, 6)),
    _math("reciprocal", np.reciprocal, NONZERO),
    _math("log1p", np.log1p, Domain(-0.75, 6)),
    _math("expm1", np.expm1, Domain(-3, 3)),
    _math("erf", np.vectorize(math.erf), Domain(-3, 3)),
    _math("asin", np.arcsin, Domain(-0.875, 0.875)),
    _math("acos", np.arccos, Domain(-0.875, 0.875)),
    _math("atan", np.arctan, D),
    _math("sinh", np.sinh, Domain(-3, 3)),
    _math("cosh", np.cosh, Domain(-3, 3)),
    _math("log2", np.log2, Domain(1 / 8, 8)),
    _math("exp2", np.exp2, D),
    _rounding("floor", np.floor, AWAY_FROM_INTEGERS),
    _rounding("ceil", np.ceil, AWAY_FROM_INTEGERS),
    _rounding("trunc", np.trunc, AWAY_FROM_INTEGERS),
    _rounding("round", _round_ref, AWAY_FROM_HALVES, _round_sample),
    _e("sign", _sign_ref, unary(D, AWAY_FROM_INTEGERS), dtypes=ALL),
    _e("maximum", np.maximum, _minmax_sample, dtypes=ALL, broadcasts=True, promotes=True,
       errors=[shape_mismatch(), ErrorInput(lambda g: Sample(g.array((3,)), 2.0), TypeError,
                                            "a Python number as other")]),
    _e("minimum", np.minimum, _minmax_sample, dtypes=ALL, broadcasts=True, promotes=True,
       errors=[shape_mismatch(), ErrorInput(lambda g: Sample(g.array((3,)), 2.0), TypeError,
                                            "a Python number as other")]),
    _e("atan2", np.arctan2, _atan2_sample, dtypes=NUMERIC, result_dtype=TO_FLOAT, broadcasts=True,
       promotes=True, errors=[shape_mismatch()]),
    _compare("eq", np.equal, lambda a, b: a == b),
    _compare("ne", np.not_equal, lambda a, b: a != b),
    _compare("lt", np.less, lambda a, b: a < b),
    _compare("le", np.less_equal, lambda a, b: a <= b),
    _compare("gt", np.greater, lambda a, b: a > b),
    _compare("ge", np.greater_equal, lambda a, b: a >= b),
    _compare("logical_and", np.logical_and),
    _compare("logical_or", np.logical_or),
    _compare("logical_xor", np.logical_xor),
    _e("logical_not", np.logical_not, unary(TIES), dtypes=ALL, result_dtype=TO_BOOL, differentiable=False),
    _e("bitwise_not", np.invert, unary(_BITWISE_DOMAIN), dtypes=INTS_AND_BOOL, differentiable=False,
       operator=lambda a: ~a, errors=[float_refused(1, "bitwise_not of a float tensor")]),
    _bitwise("bitwise_and", np.bitwise_and, lambda a, b: a & b),
    _bitwise("bitwise_or", np.bitwise_or, lambda a, b: a | b),
    _bitwise("bitwise_xor", np.bitwise_xor, lambda a, b: a ^ b),
    _e("isnan", np.isnan, unary(_SPECIAL), dtypes=ALL, result_dtype=TO_BOOL, differentiable=False),
    _e("isinf", np.isinf, unary(_SPECIAL), dtypes=ALL, result_dtype=TO_BOOL, differentiable=False),
    _e("isfinite", np.isfinite, unary(_SPECIAL), dtypes=ALL, result_dtype=TO_BOOL, differentiable=False),
    _e("where", _where_ref, _where_sample, dtypes=ALL, result_dtype=_where_dtype, broadcasts=True,
       promotes=True, method_call=_where_method, out_when=lambda s: len(s.args) == 3,
       errors=[ErrorInput(lambda g: Sample(g.array((3,)), g.array((3,)), g.array((3,))), RuntimeError,
                          "a float condition")]),
    _e("clamp", _clamp_ref, _clamp_sample, dtypes=NUMERIC, promotes=True,
       errors=[ErrorInput(lambda g: Sample(g.array((3,))), RuntimeError, "neither min nor max"),
               ErrorInput(lambda g: Sample(g.array((3,)), 2 ** 40), RuntimeError, "a bound int32 cannot hold",
                          "int32")]),
    _e("lerp", lambda a, b, w: a + w * (b - a), _lerp_sample, broadcasts=True),
    _e("addcmul", lambda a, t1, t2, value=1: a + value * t1 * t2, _addc_sample(False), broadcasts=True),
    _e("addcdiv", lambda a, t1, t2, value=1: a + value * t1 / t2, _addc_sample(True), broadcasts=True),
    _e("isclose", _isclose_ref, _isclose_sample, dtypes=NUMERIC, result_dtype=TO_BOOL, differentiable=False,
       errors=[_ISCLOSE_MIXED]),
    _e("allclose", _allclose_ref, _isclose_sample, dtypes=NUMERIC, result_dtype=lambda d, s: None,
       differentiable=False, errors=[_ISCLOSE_MIXED]),
    _e("equal", _equal_ref, _equal_sample, dtypes=ALL, result_dtype=lambda d, s: None, differentiable=False),
]

__all__ = ["ENTRIES"]
