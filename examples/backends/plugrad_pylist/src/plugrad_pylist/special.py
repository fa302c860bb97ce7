"""Special functions of the kernel interface (1.2) that Python's ``math`` lacks or
raises on: ``erfinv``, ``digamma`` and an IEEE ``lgamma``, in double precision.

Each gives what PyTorch gives at the edges (infinities, poles, NaN) instead of
raising, as every kernel of this device does.
"""

from __future__ import annotations

import math

__all__ = ["erfinv", "digamma", "lgamma"]

_INF, _NAN = math.inf, math.nan

# Giles' single-precision approximation of erfinv ("Approximating the erfinv function",
# GPU Computing Gems, 2011): ~4e-7 relative error, refined below by Newton steps
_CENTRAL = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
            -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
_TAIL = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
         -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _horner(coefficients, w):
    p = 0.0
    for c in coefficients:
        p = p * w + c
    return p


def erfinv(y):
    """The inverse of ``erf`` on [-1, 1]: +-inf at +-1, NaN outside (and for NaN)."""
    if not -1.0 <= y <= 1.0:
        return _NAN
    if y == 1.0 or y == -1.0:
        return math.copysign(_INF, y)
    if y == 0.0:
        return y    # keeps -0.0
    w = -math.log((1.0 - y) * (1.0 + y))
    x = y * (_horner(_CENTRAL, w - 2.5) if w < 5.0 else _horner(_TAIL, math.sqrt(w) - 3.0))
    # Newton steps on erf(x) = y; for |y| > 1/2 on log(erfc(x)) = log(1 - |y|) instead,
    # which keeps its precision where erf(x) rounds to 1 (1 - |y| is exact there) and is
    # nearly linear in the far tail, where the approximation is coarsest
    a, ax = abs(y), abs(x)
    for _ in range(3):
        slope = _TWO_OVER_SQRT_PI * math.exp(-ax * ax)
        if a > 0.5:
            tail = math.erfc(ax)
            ax += (math.log(tail) - math.log1p(-a)) * tail / slope
        else:
            ax -= (math.erf(ax) - a) / slope
    x = math.copysign(ax, y)
    return x


# coefficients of the asymptotic series of digamma in 1/x^2: B_2k / (2k), highest power first
_DIGAMMA_SERIES = (8.33333333333333333333e-2, -2.10927960927960927961e-2, 7.57575757575757575758e-3,
                   -4.16666666666666666667e-3, 3.96825396825396825397e-3, -8.33333333333333333333e-3,
                   8.33333333333333333333e-2)


def digamma(x):
    """``d/dx log(gamma(x))``: -inf at +0 and +inf at -0 (as C's lgamma poles), NaN at
    negative integers and -inf, by reflection for negative x, recurrence up to 10
    and the asymptotic series beyond."""
    if x != x or x == -_INF:
        return _NAN
    if x == _INF:
        return _INF
    if x == 0.0:
        return math.copysign(_INF, -x)
    result = 0.0
    if x < 0.0:
        if x == math.trunc(x):
            return _NAN
        r = math.fmod(x, 1.0)
        result = -math.pi / math.tan(math.pi * r)
        x = 1.0 - x
    while x < 10.0:
        result -= 1.0 / x
        x += 1.0
    if x < 1e17:
        z = 1.0 / (x * x)
        result -= z * _horner(_DIGAMMA_SERIES, z)
    return result + math.log(x) - 0.5 / x


def lgamma(x):
    """``log|gamma(x)|``, +inf at the poles (0 and the negative integers) and at +-inf."""
    try:
        return math.lgamma(x)
    except (ValueError, OverflowError):
        return _INF
