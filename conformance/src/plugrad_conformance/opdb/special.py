"""Entries for the special functions: the elementwise ops of
``plugrad.ops.elementwise.special`` (``erfc``, ``lgamma``, ``polygamma``, ``xlogy``,
``hypot``...) and the functions only ``plugrad.special`` has (``entr``, ``ndtr``...).
References are SciPy's, in float64."""

from __future__ import annotations

import numpy as np
import scipy.special as sp

from ..gen import Domain
from ..opinfo import ALL, FLOATS, NUMERIC, TO_FLOAT, ErrorInput, OpInfo, Sample
from .common import NONZERO, binary, f64, unary

ELEMENTWISE = "plugrad.ops.elementwise"
SPECIAL = "plugrad.special"

#: float16 rounds the inputs of steep functions (digamma near 0, lgamma's poles)
STEEP_TOL = {"float16": (6e-3, 6e-3), "float32": (2e-5, 2e-5)}

#: float16 holds i0(24) (~3e9) only as inf; its scaled forms keep 3 digits
BESSEL_TOL = {"float16": (4e-3, 4e-3), "float32": (4e-5, 1e-5)}

#: x off 0 and the powers of two (frexp's mantissa jumps there)
OFF_POWERS_OF_TWO = Domain(-8, 8, exclude=lambda x: x == 0 or float(np.log2(abs(x))).is_integer())

#: poles of the gamma family at 0 and the negative integers: kept 1/4 away
GAMMA_DOMAIN = Domain(-3, 6, exclude=lambda x: x <= 0 and abs(x - round(x)) < 0.25, ilo=1)
POSITIVE = Domain(0.25, 6)
#: probabilities, off 0 and 1
UNIT = Domain(1 / 16, 15 / 16, ilo=0, ihi=1)


def _math(name, ref, domain, family=ELEMENTWISE, **kw):
    """A float function: integer and bool inputs compute in the default float dtype."""
    kw.setdefault("dtypes", ALL)
    kw.setdefault("result_dtype", TO_FLOAT)
    return OpInfo(name, family, f64(ref), unary(domain), **kw)


def _polygamma_sample(g):
    return Sample(g.choice([0, 1, 2, 3]), g.array(g.shape(), POSITIVE))


def _polygamma_ref(n, x):
    return sp.polygamma(n, np.asarray(x, dtype=np.float64))


def _mvlgamma_sample(g):
    p = g.choice([1, 2, 3])
    return Sample(g.array(g.shape(), Domain(1.25, 6)), p)


def _mvlgamma_ref(x, p):
    x = np.asarray(x, dtype=np.float64)
    return sum(sp.gammaln(x - j / 2) for j in range(p)) + p * (p - 1) / 4 * np.log(np.pi)


def _logit_sample(g):
    s = unary(UNIT)(g)
    if g.boolean():
        s.args = (*s.args, 0.2)   # 0.2 is off the 1/64 grid: no input sits on a clamp bound
    return s


def _logit_ref(x, eps=None):
    x = np.asarray(x, dtype=np.float64)
    if eps is not None:
        x = np.clip(x, eps, 1 - eps)
    return np.log(x / (1 - x))


def _xlogy_ref(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return sp.xlogy(a, b)


def _xlog1py_ref(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return sp.xlog1py(a, b)


def _int_refused(name):
    return ErrorInput(lambda g: Sample(g.array((3,)), g.array((3,))), NotImplementedError,
                      f"{name} of integer tensors", "int64")


def _pair(name, ref, da=None, **kw):
    """A binary op of two float tensors (PyTorch refuses numbers and integers)."""
    return OpInfo(name, ELEMENTWISE, ref, binary(da or NONZERO, da or NONZERO, scalar=False), dtypes=FLOATS,
                  broadcasts=True, promotes=True, errors=[_int_refused(name)], **kw)


ENTRIES = [
    _math("erfc", sp.erfc, Domain(-3, 3)),
    _math("erfinv", sp.erfinv, Domain(-0.875, 0.875), tol=STEEP_TOL),
    _math("lgamma", sp.gammaln, GAMMA_DOMAIN, tol=STEEP_TOL),
    _math("digamma", sp.psi, GAMMA_DOMAIN, tol=STEEP_TOL),
    OpInfo("polygamma", ELEMENTWISE, _polygamma_ref, _polygamma_sample, dtypes=ALL, result_dtype=TO_FLOAT,
           method=False, inplace=False, tol={"float16": (1e-2, 1e-2), "float32": (1e-4, 1e-4)},
           errors=[ErrorInput(lambda g: Sample(-1, g.array((3,))), RuntimeError, "a negative order")]),
    OpInfo("mvlgamma", ELEMENTWISE, _mvlgamma_ref, _mvlgamma_sample, dtypes=NUMERIC, result_dtype=TO_FLOAT,
           tol=STEEP_TOL, errors=[ErrorInput(lambda g: Sample(g.array((3,)), 0), RuntimeError, "p below 1")]),
    OpInfo("logit", ELEMENTWISE, _logit_ref, _logit_sample, dtypes=ALL, result_dtype=TO_FLOAT, tol=STEEP_TOL),
    # at 0 the gradient is 0 by definition (as PyTorch masks it): finite differences of it disagree
    OpInfo("sinc", ELEMENTWISE, f64(np.sinc), unary(Domain(-3, 3), Domain(-3, 3, exclude=lambda x: x == 0)),
           dtypes=ALL, result_dtype=TO_FLOAT),
    OpInfo("xlogy", ELEMENTWISE, _xlogy_ref, binary(Domain(-4, 4), Domain(1 / 8, 8)), dtypes=ALL,
           result_dtype=TO_FLOAT, broadcasts=True, promotes=True),
    _pair("logaddexp", np.logaddexp, Domain(-4, 4)),
    _pair("logaddexp2", np.logaddexp2, Domain(-4, 4)),
    _pair("hypot", np.hypot),
    OpInfo("xlog1py", SPECIAL, _xlog1py_ref, binary(Domain(-4, 4), Domain(-0.5, 6)), dtypes=ALL,
           result_dtype=TO_FLOAT, broadcasts=True, promotes=True),
    _math("entr", sp.entr, Domain(1 / 16, 4), family=SPECIAL),
    _math("ndtr", sp.ndtr, Domain(-4, 4), family=SPECIAL),
    _math("ndtri", sp.ndtri, UNIT, family=SPECIAL, tol=STEEP_TOL),
    _math("log_ndtr", sp.log_ndtr, Domain(-6, 6), family=SPECIAL),
    # both sides of 8, where erfc hands over to the asymptotic series
    _math("erfcx", sp.erfcx, Domain(-3, 12), family=SPECIAL, tol=BESSEL_TOL),
    # the mantissa is x / 2^e: linear between the powers of two, where it jumps
    OpInfo("frexp", ELEMENTWISE, lambda x: np.frexp(x), unary(Domain(-8, 8), OFF_POWERS_OF_TWO), dtypes=FLOATS,
           errors=[ErrorInput(lambda g: Sample(g.array((3,))), RuntimeError, "frexp of an integer tensor", "int64")]),
    OpInfo("nextafter", ELEMENTWISE, np.nextafter, binary(scalar=False), dtypes=FLOATS, broadcasts=True,
           promotes=True, errors=[_int_refused("nextafter")]),
    # both sides of 20, where the power series hands over to the asymptotic one
    _math("i0", sp.i0, Domain(-24, 24), tol=BESSEL_TOL),
    # the scaled forms have exp(-|x|)'s kink at 0
    OpInfo("i0e", SPECIAL, f64(sp.i0e), unary(Domain(-24, 24), Domain(-24, 24, exclude=lambda x: x == 0)),
           dtypes=ALL, result_dtype=TO_FLOAT, tol=BESSEL_TOL),
    _math("i1", sp.i1, Domain(-24, 24), family=SPECIAL, tol=BESSEL_TOL),
    OpInfo("i1e", SPECIAL, f64(sp.i1e), unary(Domain(-24, 24), Domain(-24, 24, exclude=lambda x: x == 0)),
           dtypes=ALL, result_dtype=TO_FLOAT, tol=BESSEL_TOL),
]

__all__ = ["ENTRIES"]
