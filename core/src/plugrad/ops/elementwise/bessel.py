"""The modified Bessel functions of the first kind of orders 0 and 1: ``i0`` and
``plugrad.special``'s ``i0e``, ``i1``, ``i1e``, composed from their power and
asymptotic series."""

from __future__ import annotations

import math

from ...autograd.grad_mode import STATE, no_grad
from ...autograd.graph import Node, record
from ...optable import ops
from ...tensor import Tensor
from ..declare import declare, names_declared_in
from ..dispatch import write_out
from .special_common import _float, _result

# ---- modified Bessel functions of the first kind, orders 0 and 1 ------------------------------------

#: below this |x| the power series (terms all positive: no cancellation), above it the
#: asymptotic series, each accurate to double precision with the term counts below
_BESSEL_SPLIT = 20.0
_SERIES_TERMS = 48
_ASYMPTOTIC_TERMS = 24


def _bessel_series(x: Tensor, order: int) -> Tensor:
    """``I_order(x) = (x/2)^order sum_k (x^2/4)^k / (k! (k + order)!)``."""
    q = x * x * 0.25
    term = ops.ones_like(x) if order == 0 else x * 0.5
    total = term
    for k in range(1, _SERIES_TERMS):
        term = term * q * (1.0 / (k * (k + order)))
        total = total + term
    return total


def _bessel_asymptotic_scaled(ax: Tensor, order: int) -> Tensor:
    """``e^-x I_order(x)`` for large positive x: ``sum_k (-1)^k a_k / x^k / sqrt(2 pi x)``,
    ``a_k = prod_{j<=k} (4 order^2 - (2j - 1)^2) / (k! 8^k)``."""
    mu = 4 * order * order
    inv = 1 / ax
    term = ops.ones_like(ax)
    total = term
    for k in range(1, _ASYMPTOTIC_TERMS):
        term = term * inv * (-(mu - (2 * k - 1) ** 2) / (8.0 * k))
        total = total + term
    return total / ops.sqrt(ax * (2 * math.pi))


def _bessel(x: Tensor, order: int, scaled: bool) -> Tensor:
    """``I_order(x)``, or ``e^-|x| I_order(x)`` when ``scaled``, for every x (I_1 is odd)."""
    ax = ops.abs(x)
    small = ax <= _BESSEL_SPLIT
    xs = ops.where(small, x, 0.0)
    near = _bessel_series(xs, order)
    if scaled:
        near = near * ops.exp(-ops.abs(xs))
    al = ops.where(small, _BESSEL_SPLIT + 1, ax)
    far = _bessel_asymptotic_scaled(al, order)
    if not scaled:
        far = far * ops.exp(al)
    if order == 1:
        far = far * ops.sign(x)
    return ops.where(small, near, far)


def _bessel_op(input, out, fname, node, order, scaled):
    x = _float(input, fname)
    with no_grad():
        r = _bessel(x, order, scaled)
    r = _result(r, input)
    if STATE.enabled and input._requires_grad:
        node.save(input, r.detach())
        record(node, (input,), r)
    return r if out is None else write_out(out, r, fname)


def _over_x_at_zero_half(g, x, value):
    """``g * value``, with value's ``I_1(x)/x`` term taken as its limit 1/2 at x = 0."""
    return ops.where(x == 0, g * 0.5, g * value)


class I0Backward0(Node):
    """d i0(x) = g i1(x)"""

    def backward(self, g):
        x, _ = self.saved_tensors
        return (g * i1(x),)


class SpecialI0EBackward0(Node):
    """d i0e(x) = g (i1e(x) - sign(x) i0e(x))"""

    def backward(self, g):
        x, result = self.saved_tensors
        return (g * (i1e(x) - ops.sign(x) * self.output_alias(result)),)


class SpecialI1Backward0(Node):
    """d i1(x) = g (i0(x) - i1(x) / x), 1/2 at 0"""

    def backward(self, g):
        x, result = self.saved_tensors
        safe = ops.where(x == 0, 1.0, x)
        return (_over_x_at_zero_half(g, x, i0(x) - self.output_alias(result) / safe),)


class SpecialI1EBackward0(Node):
    """d i1e(x) = g (i0e(x) - i1e(x) (sign(x) + 1/x)), 1/2 at 0"""

    def backward(self, g):
        x, result = self.saved_tensors
        safe = ops.where(x == 0, 1.0, x)
        return (_over_x_at_zero_half(g, x, i0e(x) - self.output_alias(result) * (ops.sign(x) + 1 / safe)),)


@declare(method=True, inplace=True)
def i0(input, *, out=None) -> Tensor:
    """The modified Bessel function of the first kind of order 0."""
    return _bessel_op(input, out, "i0", I0Backward0(), 0, False)


def i0e(input, *, out=None) -> Tensor:
    """``exp(-|x|) i0(x)``, finite for every x."""
    return _bessel_op(input, out, "i0e", SpecialI0EBackward0(), 0, True)


def i1(input, *, out=None) -> Tensor:
    """The modified Bessel function of the first kind of order 1."""
    return _bessel_op(input, out, "i1", SpecialI1Backward0(), 1, False)


def i1e(input, *, out=None) -> Tensor:
    """``exp(-|x|) i1(x)``, finite for every x."""
    return _bessel_op(input, out, "i1e", SpecialI1EBackward0(), 1, True)


__all__ = names_declared_in(__name__)   # every op declared above, with its aliases
