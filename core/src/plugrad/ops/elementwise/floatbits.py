"""``frexp`` and ``nextafter``: the binary layout of floats, from exact arithmetic on
powers of two (no bit reinterpretation, so every device has them)."""

from __future__ import annotations

import math
from collections import namedtuple

from ...autograd.grad_mode import STATE, no_grad
from ...autograd.graph import Node, record
from ...dtypes import int32, opmath
from ...optable import ops
from ...tensor import Tensor
from ..declare import declare, names_declared_in
from ..dispatch import cast, check_tensor, write_out
from .special_common import _binary_operands

# ---- frexp and nextafter: the binary layout of floats, from exact arithmetic on powers of two --------

_FrexpResult = namedtuple("frexp", ["mantissa", "exponent"])
_FrexpResult.__repr__ = lambda self: (f"torch.return_types.frexp(\nmantissa={self.mantissa!r},\n"
                                      f"exponent={self.exponent!r})")
#: (mantissa bits, smallest subnormal, largest finite) of each float dtype
_FLOAT_LAYOUT = {"float16": (11, 2.0 ** -24, 65504.0), "bfloat16": (8, 2.0 ** -133, (2 - 2 ** -7) * 2.0 ** 127),
                 "float32": (24, 2.0 ** -149, 3.4028234663852886e38),
                 "float64": (53, 2.0 ** -1074, 1.7976931348623157e308)}


def _frexp_parts(x: Tensor):
    """``(mantissa, exponent)`` of ``x`` (computed in its own float dtype, exponent as a
    float): ``x = m 2^e`` with ``0.5 <= |m| < 1``; zeros, infinities and NaN keep
    themselves as mantissa with exponent 0. ``log2`` guesses the exponent; the scaling
    by two powers of two (each in range, so exact even for subnormals and the largest
    floats) and one correction step make it exact."""
    ax = ops.abs(x)
    regular = (ax > 0) & ops.isfinite(x)
    e = ops.floor(ops.log2(ops.where(regular, ax, 1.0))) + 1
    half = ops.trunc(e * 0.5)
    m = x * ops.exp2(-half) * ops.exp2(half - e)
    big, small = ops.abs(m) >= 1, ops.abs(m) < 0.5
    m = ops.where(big, m * 0.5, ops.where(small, m * 2, m))
    e = ops.where(big, e + 1, ops.where(small, e - 1, e))
    return ops.where(regular, m, x), ops.where(regular, e, 0.0)


class FrexpBackward0(Node):
    """d mantissa = g / 2^exponent (the exponent has no gradient)"""
    n_outputs = 2

    def backward(self, g, g_exponent=None):
        (exponent,) = self.saved_tensors
        return (g / ops.exp2(exponent.to(g.dtype)),)


@declare(method=True)
def frexp(input, *, out=None):
    """``(mantissa, exponent)`` with ``input = mantissa * 2**exponent``, ``0.5 <= |mantissa|
    < 1`` (exponent int32; zeros, infinities and NaN give themselves and 0)."""
    check_tensor(input, "frexp", "input")
    if not input._dtype.is_floating_point:
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    with no_grad():
        x = input.detach()
        m, e = _frexp_parts(x if opmath(x._dtype) is x._dtype else cast(x, opmath(x._dtype)))
        m, e = cast(m, input._dtype), cast(e, int32)
    if STATE.enabled and input._requires_grad:
        node = FrexpBackward0()
        node.save(e)
        record(node, (input,), (m, e))
    r = _FrexpResult(m, e)
    return r if out is None else _FrexpResult(*(write_out(o, t, "frexp") for o, t in zip(out, r)))


class NextafterBackward0(Node):
    """d nextafter(a, b) = (g, 0), as PyTorch takes it (the step is below any perturbation)"""

    def backward(self, g):
        return g, g * 0


def _nextafter(a: Tensor, b: Tensor, layout) -> Tensor:
    """The float after ``a`` toward ``b``, in the dtype whose ``layout`` is given (the
    operands may be held wider): a step of one unit in the last place, half of it toward
    zero from a power of two, the smallest subnormal from zero."""
    bits, tiny, largest = layout
    m, e = _frexp_parts(a)
    ulp = ops.clamp(ops.exp2(e - bits), min=tiny)
    toward_zero = (b > a) == (a < 0)
    step = ops.where(toward_zero & (ops.abs(m) == 0.5), ops.clamp(ulp * 0.5, min=tiny), ulp)
    r = ops.where(b > a, a + step, a - step)
    r = ops.where(a == 0, ops.sign(b - a) * tiny, r)          # (signs in a's dtype: a number pair would
    r = ops.where(ops.isinf(a), ops.sign(a) * largest, r)     # be the default dtype's)
    r = ops.where(a == b, b, r)
    return ops.where(ops.isnan(a) | ops.isnan(b), math.nan, r)


@declare(method=True, inplace=True)
def nextafter(input, other, *, out=None) -> Tensor:
    """The next float after ``input`` toward ``other``, elementwise (``other`` itself where
    they are equal)."""
    a, b, cd = _binary_operands(input, other, "nextafter", numbers=False, integers=False)
    with no_grad():
        r = cast(_nextafter(a, b, _FLOAT_LAYOUT[cd.name]), cd)
    if STATE.enabled and (input._requires_grad or other._requires_grad):
        record(NextafterBackward0(), (input, other), r)
    return r if out is None else write_out(out, r, "nextafter")


__all__ = names_declared_in(__name__)   # every op declared above, with its aliases
