"""Unary elementwise math: one line per op where the derivative is a formula.

Each line gives the kernel, the dtype rule and ``d/dx`` as a formula in plugrad ops
(so it is differentiable again); ``plugrad.ops.pointwise`` makes the function, the
``grad_fn`` class, the method and the in-place method from it. ``result="float"``:
integer inputs compute in the default float dtype (``sin(int tensor)``).
"""

from __future__ import annotations

import math

from ...dtypes import bool_, float32, opmath
from ...optable import ops
from ...autograd.grad_mode import STATE
from ...autograd.graph import Node, record
from ...tensor import Tensor
from ..dispatch import cast, check_int, write_out
from ..declare import declare, names_declared_in
from ..pointwise import compute_binary, compute_unary, unary


F = "float"  # integers compute in the default float dtype


def _refuse_bool(what):
    """A check refusing bool tensors with PyTorch's message ``what``."""
    def check(x, cd):
        if x._dtype is bool_:
            raise RuntimeError(what)
    return check


exp = unary("exp", result=F, grad=lambda g, result: g * result)
log = unary("log", result=F, grad=lambda g, x: g / x)
sqrt = unary("sqrt", result=F, grad=lambda g, result: g / (2 * result))
rsqrt = unary("rsqrt", result=F, grad=lambda g, result: -0.5 * g * result * result * result)
sin = unary("sin", result=F, grad=lambda g, x: g * cos(x))
cos = unary("cos", result=F, grad=lambda g, x: -g * sin(x))
tan = unary("tan", result=F, grad=lambda g, result: g * (1 + result * result))
tanh = unary("tanh", result=F, grad=lambda g, result: g * (1 - result * result))
sigmoid = unary("sigmoid", result=F, grad=lambda g, result: g * result * (1 - result))
reciprocal = unary("reciprocal", result=F, grad=lambda g, result: -g * result * result)
log1p = unary("log1p", result=F, grad=lambda g, x: g / (1 + x), node="Log1PBackward0")
expm1 = unary("expm1", result=F, grad=lambda g, result: g * (result + 1))
erf = unary("erf", result=F, grad=lambda g, x: g * (2 / math.sqrt(math.pi)) * exp(-x * x))
asin = unary("asin", result=F, grad=lambda g, x: g / sqrt(1 - x * x), aliases=("arcsin",))
acos = unary("acos", result=F, grad=lambda g, x: -g / sqrt(1 - x * x), aliases=("arccos",))
atan = unary("atan", result=F, grad=lambda g, x: g / (1 + x * x), aliases=("arctan",))
sinh = unary("sinh", result=F, grad=lambda g, x: g * cosh(x))
cosh = unary("cosh", result=F, grad=lambda g, x: g * sinh(x))
log2 = unary("log2", result=F, grad=lambda g, x: g / (x * math.log(2)))
exp2 = unary("exp2", result=F, grad=lambda g, result: g * result * math.log(2))
floor = unary("floor", grad=lambda g: g * 0)
ceil = unary("ceil", grad=lambda g: g * 0)
trunc = unary("trunc", grad=lambda g: g * 0, aliases=("fix",))
sign = unary("sign", grad=lambda g: g * 0)
neg = unary("neg", grad=lambda g: -g, aliases=("negative",), doc="``-input``.",
            check=_refuse_bool("Negation, the `-` operator, on a bool tensor is not supported. If you are trying "
                               "to invert a mask, use the `~` or `logical_not()` operator instead."))
abs = unary("abs", grad=lambda g, x: g * sign(x), aliases=("absolute",), doc="Absolute value.",
            check=_refuse_bool("abs is not supported for bool tensors"))
logical_not = unary("logical_not", result="bool")
isnan = unary("isnan", result="bool", inplace=False)
isinf = unary("isinf", result="bool", inplace=False)
isfinite = unary("isfinite", result="bool", inplace=False)


def _integers_only(x, cd):
    if x._dtype.is_floating_point:
        raise RuntimeError(f"bitwise_not is only supported for integer and bool tensors, got {x._dtype!r}")


bitwise_not = unary("bitwise_not", check=_integers_only)
negative, absolute, arcsin, arccos, arctan, fix = neg, abs, asin, acos, atan, trunc
_round_half_even = unary("round", grad=lambda g: g * 0, declared=False)  # the kernel; round() is below


class RoundBackward1(Node):
    """d round(a, decimals) = 0"""

    def backward(self, g):
        return (g * 0,)


@declare(method=True, inplace=True)
def round(input, decimals: int = 0, *, out=None) -> Tensor:
    """Round half to even (to ``decimals`` places).

    As in PyTorch, ``x`` is scaled by ``10**|decimals|`` (multiplied for positive
    ``decimals``, divided for negative ones; float16 in float32) and scaled back after
    rounding, so a power of ten the dtype cannot hold gives NaN rather than an error.
    Integers and bools are already whole (returned as a copy); as in PyTorch, there is no
    rounding them to other places."""
    if decimals.__class__ is not int:
        decimals = check_int(decimals, "round", "decimals")
    if not input._dtype.is_floating_point:
        if decimals != 0:
            raise RuntimeError(f"round(): rounding {input._dtype.name} tensors to decimals={decimals} places is not "
                               f"supported; only floating tensors round to places")
        r = input.clone()  # no kernel call
    elif decimals == 0:
        r = _round_half_even(input)
    else:
        places = decimals if decimals > 0 else -decimals
        scale = 10.0 ** places if places <= 308 else math.inf
        x = cast(input, float32) if opmath(input._dtype) is not input._dtype else input.detach()
        if decimals > 0:
            r = compute_binary("div", compute_unary("round", compute_binary("mul", x, scale, "round")), scale,
                               "round")
        else:
            r = compute_binary("mul", compute_unary("round", compute_binary("div", x, scale, "round")), scale,
                               "round")
        r = cast(r, input._dtype)
        if STATE.enabled and input._requires_grad:
            record(RoundBackward1(), (input,), r)
    return r if out is None else write_out(out, r, "round")


class ReluBackward0(Node):
    """d relu(a) = g except where the result is 0 or below (a NaN result passes g, as in
    PyTorch, whose threshold test is ``result <= 0``)"""

    def backward(self, g):
        (result,) = self.saved_tensors
        return (ops.where(result <= 0, 0.0, g),)


@declare(method=True, inplace=True)
def relu(input) -> Tensor:
    """``max(input, 0)``."""
    if input._dtype is bool_:
        raise RuntimeError("relu is not supported for bool tensors")
    r = compute_binary("maximum", input, input._dtype._py(0), "relu")
    if STATE.enabled and input._requires_grad:
        node = ReluBackward0()
        node.save(r.detach())
        record(node, (input,), r)
    return r


@declare(method=True, inplace=True)
def square(input) -> Tensor:
    """``input ** 2``."""
    return ops.pow(input, 2)


__all__ = names_declared_in(__name__)   # every op declared above, with its aliases
