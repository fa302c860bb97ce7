"""Binary arithmetic: ``+ - * / // % **``, ``maximum``/``minimum``, ``atan2``.

Most ops are one declaration (``plugrad.ops.pointwise.binary``): kernel, dtype rule,
checks, and one derivative formula per operand. ``add``/``sub`` (``alpha``), ``div``
(``rounding_mode``) and ``pow`` (three signatures, integer rules) are written by hand
around such a declaration's spec, which still gives them the shared fast path and
node.
"""

from __future__ import annotations

import math

from ...autograd.grad_mode import STATE
from ...autograd.graph import Node, record
from ...dtypes import bool_, float16, get_default_dtype
from ...layout import broadcast_shapes
from ...optable import ops
from ...tensor import Tensor
from ..declare import declare, names_declared_in
from ..dispatch import as_operand, cast, check_same_device, write_out
from ..pointwise import UNCHANGED, binary, compute_binary, over, result_dtype, times



# ---- checks shared by several ops --------------------------------------------------------------

def _refuse_bool_subtraction(a, b, cd):
    """PyTorch refuses subtraction when either operand is bool (a tensor or True/False)."""
    for x in (a, b):
        if x is True or x is False or (isinstance(x, Tensor) and x._dtype is bool_):
            raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
                               "trying to invert a mask, use the `~` or `logical_not()` operator instead.")


def _integer_division_by_zero(a, b, cd, fname):
    """Integer division by zero raises (PyTorch's ZeroDivisionError, as a RuntimeError);
    nothing is checked when the result is empty."""
    shapes = [x._shape for x in (a, b) if isinstance(x, Tensor)]
    if 0 in (shapes[0] if len(shapes) == 1 else broadcast_shapes(*shapes)):
        return
    if isinstance(b, Tensor):
        if bool((b == 0).any()):
            raise RuntimeError(f"ZeroDivisionError: integer division by zero in {fname}")
    elif cd._py(b) == 0:  # the divisor as the dtype holds it: 2**32 wraps to 0 in int32
        raise RuntimeError(f"ZeroDivisionError: integer division by zero in {fname}")


def _zero_division_check(fname):
    def check(a, b, cd):
        _integer_division_by_zero(a, b, cd, fname)
    return check


# ---- the plain binary ops ----------------------------------------------------------------------

mul = binary("mul", grads=(times("b"), times("a")), aliases=("multiply",),
             doc="Elementwise product with broadcasting.")
floor_divide = binary("floor_divide", "floordiv", grads=(lambda g: g * 0, lambda g: g * 0), node="FloorDivideBackward0",
                      int_value_check=_zero_division_check("floor_divide"),
                      doc="Division rounded toward minus infinity (Python's ``//``).")
remainder = binary("remainder", grads=(UNCHANGED, lambda g, a, b: -g * floor_divide(a, b)),
                   node="RemainderBackward1", scalar_node="RemainderBackward0",
                   int_value_check=_zero_division_check("remainder"),
                   doc="Python's ``%``: the result has the sign of the divisor.")
fmod = binary("fmod", grads=(UNCHANGED, lambda g, a, b: -g * ops.trunc(a / b)), node="FmodBackward1",
              scalar_node="FmodBackward0", int_value_check=_zero_division_check("fmod"), number_input=False,
              doc="C's ``fmod``: the result has the sign of the dividend.")


def _half_where_tied(g, win, tie):
    """g where ``win``, g/2 where ``tie``, 0 elsewhere (the gradient of max/min)."""
    return ops.where(win, g, ops.where(tie, g * 0.5, 0.0))


maximum = binary("maximum", grads=(lambda g, a, b: _half_where_tied(g, a > b, a == b),
                                   lambda g, a, b: _half_where_tied(g, b > a, a == b)),
                 number_input=False, number_other=False, doc="Elementwise maximum (NaN propagates).")
minimum = binary("minimum", grads=(lambda g, a, b: _half_where_tied(g, a < b, a == b),
                                   lambda g, a, b: _half_where_tied(g, b < a, a == b)),
                 number_input=False, number_other=False, doc="Elementwise minimum (NaN propagates).")
atan2 = binary("atan2", result="float", grads=(lambda g, a, b: g * b / (a * a + b * b),
                                               lambda g, a, b: -g * a / (a * a + b * b)),
               number_input=False, number_other=False, aliases=("arctan2",),
               doc="Angle of the point (other, input), in radians.")
arctan2 = atan2


# ---- add and sub: alpha --------------------------------------------------------------------------

_ADD = binary("add", grads=(UNCHANGED, lambda g, alpha: g if alpha == 1 else g * alpha), defaults={"alpha": 1},
              declared=False)
_SUB = binary("sub", grads=(UNCHANGED, lambda g, alpha: -g if alpha == 1 else g * -alpha),
              defaults={"alpha": 1}, check=_refuse_bool_subtraction, declared=False)


class RsubBackward1(Node):
    """d(s - a) = -g"""

    def backward(self, g):
        return (-g,)


def _alpha(alpha, fname, a, b):
    """``alpha`` checked against the result dtype of ``a op b``: PyTorch refuses a float
    alpha for an integer result, a bool alpha for a non-bool one, and an alpha the
    result's dtype cannot hold (an int32 result with alpha 2**40)."""
    if not isinstance(alpha, (int, float)):
        raise TypeError(f"{fname}(): argument 'alpha' must be a number, not {type(alpha).__name__}")
    result = result_dtype(a, b)
    if isinstance(alpha, float) and not result.is_floating_point:
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")
    if isinstance(alpha, bool) and result is not bool_:
        raise RuntimeError("Boolean alpha only supported for Boolean results.")
    result.checked_scalar(alpha)  # PyTorch converts alpha to the result's dtype
    return alpha


def _scaled(other, alpha, input, fname):
    """``alpha * other``, computed as PyTorch does: a tensor in the dtype of ``input op
    other`` (an int32 ``other`` scaled by 2**40 for a float result must not wrap first),
    untracked; a number as Python numbers, wrapping like int64 for an integer ``input``
    (``x - 2**62 * 4`` subtracts 0 from an int64 tensor)."""
    if isinstance(other, Tensor):
        return compute_binary("mul", other, alpha, fname, dtype=result_dtype(other, input))
    v = other * alpha
    if v.__class__ is int and not -(1 << 63) <= v < (1 << 63) and not input._dtype.is_floating_point:
        v = (v + (1 << 63)) % (1 << 64) - (1 << 63)
    return v


def _with_alpha(spec, input, other, alpha):
    """``input op alpha * other`` (op add or sub), recorded with ``alpha`` on its node."""
    input, other = spec.operands(input, other)
    alpha = _alpha(alpha, spec.name, *((input, other) if isinstance(input, Tensor) else (other, input)))
    r = spec.compute_general(input, other if alpha == 1 else _scaled(other, alpha, input, spec.name))
    if STATE.enabled and ((isinstance(input, Tensor) and input._requires_grad) or
                          (isinstance(other, Tensor) and other._requires_grad)):
        if isinstance(input, Tensor):
            spec.record(r, input, other, alpha=alpha)
        else:
            record(RsubBackward1(), (other,), r)   # a number minus a tensor: PyTorch's rsub
    return r


@declare(method=True, inplace=True)
def add(input, other, *, alpha=1, out=None) -> Tensor:
    """``input + alpha * other`` with broadcasting and type promotion."""
    r = _ADD(input, other) if alpha.__class__ is int and alpha == 1 else _with_alpha(_ADD.spec, input, other, alpha)
    return r if out is None else write_out(out, r, "add")


@declare(method=True, inplace=True, aliases=("subtract",))
def sub(input, other, *, alpha=1, out=None) -> Tensor:
    """``input - alpha * other``."""
    if alpha.__class__ is int and alpha == 1 and isinstance(input, Tensor):
        r = _SUB(input, other)
    else:
        _refuse_bool_subtraction(input, other, None)   # before alpha scales a bool operand into a number
        r = _with_alpha(_SUB.spec, input, other, alpha)
    return r if out is None else write_out(out, r, "sub")


# the in-place forms' direct path (plugrad.ops.forms) and the operators x + y, x - y (alpha 1)
add.spec, sub.spec, add.operator, sub.operator = _ADD.spec, _SUB.spec, _ADD.operator, _SUB.operator
subtract, multiply = sub, mul


@declare(method=True)
def rsub(input, other, *, alpha=1) -> Tensor:
    """``other - alpha * input``."""
    if isinstance(input, Tensor):
        other = as_operand(other, "rsub")
        _refuse_bool_subtraction(input, other, None)
        alpha = _alpha(alpha, "rsub", input, other)
        if alpha != 1:  # scaled in the result's dtype, as sub scales its second operand
            result = result_dtype(input, other)
            input = (input if input._dtype is result else input.to(result)) * alpha
            alpha = 1
    return sub(other, input * alpha if alpha != 1 else input)


# ---- div: rounding modes ---------------------------------------------------------------------------

_DIV = binary("div", result="float", grads=(over("b"), lambda g, a, b: -g * a / (b * b)),
              declared=False)


@declare(method=True, inplace=True, aliases=("divide",))
def div(input, other, *, rounding_mode=None, out=None) -> Tensor:
    """True division (ints give floats); ``rounding_mode`` "floor" or "trunc" rounds."""
    if rounding_mode is None:
        r = _DIV(input, other)
    elif rounding_mode.__class__ is not str:
        raise TypeError(f"div(): argument 'rounding_mode' must be None or a str ('trunc' or 'floor'), not "
                        f"{type(rounding_mode).__name__}")
    elif rounding_mode == "floor":
        return floor_divide(input, other, out=out)
    elif rounding_mode == "trunc":
        r = _trunc_divide(*_DIV.spec.operands(input, other))
    else:
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                           f"'{rounding_mode}'")
    return r if out is None else write_out(out, r, "div")


div.spec, div.operator = _DIV.spec, _DIV.operator   # x / y: no rounding mode
divide = div


@declare(method=True, inplace=True)
def true_divide(input, other, *, out=None) -> Tensor:
    """``div`` without rounding modes (PyTorch's signature has none)."""
    return div(input, other, out=out)


true_divide.spec = _DIV.spec


def _trunc_divide(input, other):
    cd = result_dtype(input, other)
    if cd.is_floating_point:
        return ops.trunc(_DIV(input, other))
    _integer_division_by_zero(input, other, cd, "div")
    rem = compute_binary("fmod", input, other, "div")
    return compute_binary("floordiv", compute_binary("sub", input, rem, "div"), other, "div")


# ---- pow: three signatures ---------------------------------------------------------------------------

class PowBackward0(Node):
    """d(a^e) = g*e*a^(e-1)  (e a number)"""
    __slots__ = ("exponent",)

    def backward(self, g):
        (a,) = self.saved_tensors
        e = self.exponent
        if e == 0:
            return (g * 0,)
        return (g * e * (a ** (e - 1)) if e != 2 else g * 2 * a,)


class PowBackward1(Node):
    """d(a^b) = (g*b*a^(b-1), g*a^b*log(a)), the second taken as 0 where a == 0 and b >= 0"""

    def backward(self, g):
        a, b, result = self.saved_tensors
        result = self.output_alias(result)
        ga = g * b * a ** (b - 1) if self.next_functions[0][0] is not None else None
        gb = None
        if self.next_functions[1][0] is not None:
            gb = ops.where((a == 0) & (b >= 0), 0.0, g * result * ops.log(a))
        return ga, gb


class PowBackward2(Node):
    """d(s^b) = g*s^b*log(s)  (s a number)"""
    __slots__ = ("base",)

    def backward(self, g):
        (result,) = self.saved_tensors
        result = self.output_alias(result)
        if self.base == 0:
            return (g * 0,)
        return (g * result * math.log(self.base),)


def _int_pow_negative_exponents(base, exponent: Tensor, dtype) -> Tensor:
    """Integer ``base ** exponent`` where some exponents (a tensor) are negative, the way
    PyTorch computes it: 1 for base 1, +-1 for base -1 (by parity), 0 otherwise."""
    where = ops.where
    base = base if isinstance(base, Tensor) else ops.tensor(base, device=exponent.device)
    negative = exponent < 0
    positive_part = compute_binary("pow", base, where(negative, 0, exponent), "pow", dtype=dtype)
    odd = compute_binary("remainder", exponent, 2, "pow") == 1
    small = where(base == 1, 1, where(base == -1, where(odd, -1, 1), 0))
    return cast(where(negative, small, positive_part), dtype)


def check_pow_scalar(cd, exponent) -> None:
    """PyTorch's checks of a number exponent for a result of dtype ``cd``: no negative
    power of integers, and the value must fit the dtype where the kernel computes in it
    (integers and float16; float32 and float64 kernels take any exponent)."""
    if not cd.is_floating_point:
        if exponent < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        cd.checked_scalar(exponent)
    elif cd is float16:
        cd.checked_scalar(exponent)


@declare(method=True, inplace=True)
def pow(input, exponent, *, out=None) -> Tensor:
    """``input ** exponent`` (either may be a number)."""
    if not isinstance(input, Tensor):
        r = _number_to_tensor_power(as_operand(input, "pow", "input"), exponent)
    else:
        r = _tensor_power(input, as_operand(exponent, "pow", "exponent"))
    return r if out is None else write_out(out, r, "pow")


def _number_to_tensor_power(base, exponent: Tensor) -> Tensor:
    if isinstance(base, int) and not exponent._dtype.is_floating_point and bool((exponent < 0).any()):
        return _int_pow_negative_exponents(base, exponent, result_dtype(exponent, base))
    float_base_int_exponent = isinstance(base, float) and not exponent._dtype.is_floating_point
    r = compute_binary("pow", base, exponent, "pow",
                       dtype=get_default_dtype() if float_base_int_exponent else result_dtype(exponent, base))
    if STATE.enabled and exponent._requires_grad:
        node = PowBackward2()
        node.base = base
        node.save(r.detach())
        record(node, (exponent,), r)
    return r


def _tensor_power(input: Tensor, exponent) -> Tensor:
    cd = result_dtype(input, exponent)   # a 0-d cpu exponent promotes as a tensor, then counts as a number
    if isinstance(exponent, Tensor) and exponent._backend is not input._backend:
        exponent = check_same_device(input, exponent, "pow")
    if not isinstance(exponent, Tensor):
        check_pow_scalar(cd, exponent)
    elif not cd.is_floating_point and bool((exponent < 0).any()):
        return _int_pow_negative_exponents(input, exponent, cd)   # PyTorch refuses only a negative number
    r = compute_binary("pow", input, exponent, "pow", dtype=cd)
    if STATE.enabled and (input._requires_grad or (isinstance(exponent, Tensor) and exponent._requires_grad)):
        if isinstance(exponent, Tensor):
            node = PowBackward1()
            node.save(input, exponent, r.detach())
            record(node, (input, exponent), r)
        else:
            node = PowBackward0()
            node.exponent = exponent
            node.save(input)
            record(node, (input,), r)
    return r


__all__ = names_declared_in(__name__)   # every op declared above, with its aliases
