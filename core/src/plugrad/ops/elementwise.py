"""Elementwise ops: arithmetic, comparisons, math functions, ``where``, ``clamp``.

Each op is here once: its dtype rule, its kernel call and its backward formula.
Gradients are written with plugrad ops (so they are differentiable again) and are
never un-broadcast here: the engine sums them to each input's shape.
"""

from __future__ import annotations

import math

from ..autograd.grad_mode import STATE
from ..autograd.graph import Node, record
from ..dtypes import bool_, float16, float32, float64, get_default_dtype, promote_types, uint8
from ..layout import broadcast_shapes
from ..tensor import Tensor, make
from .dispatch import (as_operand, binary_dtype, cast, check_bool, check_int, check_same_device, check_tensor,
                       write_out)

__all__ = [
    "add", "sub", "mul", "div", "true_divide", "floor_divide", "remainder", "fmod", "pow", "neg", "abs",
    "exp", "log", "sqrt", "rsqrt", "sin", "cos", "tan", "tanh", "sigmoid", "relu", "sign", "floor", "ceil",
    "round", "trunc", "reciprocal", "log1p", "expm1", "asin", "acos", "atan", "sinh", "cosh", "log2", "exp2",
    "square", "maximum", "minimum", "atan2", "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or",
    "logical_xor", "logical_not", "bitwise_not", "bitwise_and", "bitwise_or", "bitwise_xor", "isnan", "isinf",
    "isfinite", "where", "clamp", "clip", "rsub", "negative", "subtract", "multiply", "divide", "absolute",
    "arcsin", "arccos", "arctan", "greater", "greater_equal", "less", "less_equal", "not_equal", "lerp",
    "addcmul", "addcdiv", "isclose", "allclose", "equal",
]


# ---- kernels without autograd ---------------------------------------------------

def _lift(x, like: Tensor):
    """A Python number in the first position becomes a 0-d tensor on like's device."""
    from ..creation import tensor
    return tensor(x, device=like.device)


def compute_binary(op: str, a, b, fname: str, *, bool_out: bool = False, dtype=None) -> Tensor:
    """``a op b`` as a new tensor (one of a/b may be a Python number), untracked."""
    if isinstance(a, Tensor):
        t = a
        if isinstance(b, Tensor):
            if b._backend is not a._backend:
                b = check_same_device(a, b, fname)
    else:
        t = b
    backend = t._backend
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        cd = dtype or binary_dtype(a, b)
        sa, sb = a._shape, b._shape
        shape = sa if sa == sb else broadcast_shapes(sa, sb)
        aa = a._a if a._dtype is cd else cast(a, cd)._a
        bb = b._a if b._dtype is cd else cast(b, cd)._a
    elif t is a:
        cd = dtype or binary_dtype(a, b)
        shape = a._shape
        aa = a._a if a._dtype is cd else cast(a, cd)._a
        bb = cd._py(b)
    else:
        cd = dtype or binary_dtype(b, a)
        shape = b._shape
        aa = cd._py(a)
        bb = b._a if b._dtype is cd else cast(b, cd)._a
    od = bool_ if bool_out else cd
    out = backend.empty(shape, od)
    backend.binary(op, aa, bb, out)
    return make(backend, out, shape, od)


def _plain_pair(a, b) -> bool:
    """True for the common case the fast paths serve: two plain tensors of one dtype on
    one device (no promotion, no device check, no scalar conversion needed)."""
    return a.__class__ is Tensor and b.__class__ is Tensor and a._dtype is b._dtype and a._backend is b._backend


def _float_and_number(a, b) -> bool:
    """True for the other common case: a floating tensor and a Python number (the result
    keeps the tensor's dtype; no promotion or device check is needed)."""
    return a.__class__ is Tensor and (b.__class__ is float or b.__class__ is int) and a._dtype.is_floating_point


def _with_number(op: str, a: Tensor, b) -> Tensor:
    """``a op b`` for a floating tensor and a Python number (see ``_float_and_number``), untracked."""
    backend = a._backend
    dt = a._dtype
    arr = backend.empty(a._shape, dt)
    backend.binary(op, a._a, dt._py(b), arr)
    return make(backend, arr, a._shape, dt)


def _same_dtype_binary(op: str, a: Tensor, b: Tensor) -> Tensor:
    """``a op b`` for a plain pair (see ``_plain_pair``), untracked."""
    backend = a._backend
    dt = a._dtype
    sa, sb = a._shape, b._shape
    shape = sa if sa == sb else broadcast_shapes(sa, sb)
    arr = backend.empty(shape, dt)
    backend.binary(op, a._a, b._a, arr)
    return make(backend, arr, shape, dt)


def compute_unary(op: str, x: Tensor, *, dtype=None, bool_out: bool = False) -> Tensor:
    """``op(x)`` as a new tensor, computed in ``dtype`` (default x's), untracked."""
    cd = dtype or x._dtype
    xa = x._a if x._dtype is cd else cast(x, cd)._a
    backend = x._backend
    od = bool_ if bool_out else cd
    out = backend.empty(x._shape, od)
    backend.unary(op, xa, out)
    return make(backend, out, x._shape, od)


def _tracked(a, b=None) -> bool:
    if not STATE.enabled:
        return False
    return (isinstance(a, Tensor) and a._requires_grad) or (isinstance(b, Tensor) and b._requires_grad)


def _inputs(a, b):
    """The tensor operands, in order (Python numbers are not graph inputs)."""
    if isinstance(a, Tensor):
        return (a, b) if isinstance(b, Tensor) else (a,)
    return (b,)


def _finish(r, out, fname):
    return r if out is None else write_out(out, r, fname)


# ---- binary arithmetic ------------------------------------------------------------

class AddBackward0(Node):
    """d(a + alpha*b) = (g, alpha*g)  (b a number: no second edge, as in PyTorch)"""
    __slots__ = ("alpha",)

    def backward(self, g):
        if self.next_functions[1][0] is None:
            return g, None
        return g, (g if self.alpha == 1 else g * self.alpha)


class SubBackward0(Node):
    """d(a - alpha*b) = (g, -alpha*g)"""
    __slots__ = ("alpha",)

    def backward(self, g):
        if self.next_functions[1][0] is None:
            return g, None
        return g, (-g if self.alpha == 1 else g * -self.alpha)


class RsubBackward1(Node):
    """d(s - a) = -g"""

    def backward(self, g):
        return (-g,)


class MulBackward0(Node):
    """d(a*b) = (g*b, g*a)"""
    __slots__ = ("scalar",)

    def backward(self, g):
        if self.scalar is not None:
            return g * self.scalar, None
        a, b = self.saved_tensors
        return (None if b is None else g * b, None if a is None else g * a)


class DivBackward0(Node):
    """d(a/b) = (g/b, -g*a/b^2)"""
    __slots__ = ("scalar",)

    def backward(self, g):
        if self.scalar is not None:
            return g / self.scalar, None
        a, b = self.saved_tensors
        ga = g / b if self.next_functions[0][0] is not None else None
        gb = -g * a / (b * b) if self.next_functions[1][0] is not None else None
        return ga, gb


def _alpha(alpha, fname, a, b):
    """``alpha`` checked against the result dtype of ``a op b`` (``a`` a tensor): PyTorch
    refuses a float alpha for an integer result, a bool alpha for a non-bool one, and an
    alpha the result's dtype cannot hold (an int32 result with alpha 2**40)."""
    if not isinstance(alpha, (int, float)):
        raise TypeError(f"{fname}(): argument 'alpha' must be a number, not {type(alpha).__name__}")
    result = binary_dtype(a, b)
    if isinstance(alpha, float) and not result.is_floating_point:
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")
    if isinstance(alpha, bool) and result is not bool_:
        raise RuntimeError("Boolean alpha only supported for Boolean results.")
    result.checked_scalar(alpha)  # PyTorch converts alpha to the result's dtype
    return alpha


def _scaled_number(other, alpha, input):
    """``alpha * other`` for a Python number ``other``. With an integer tensor ``input``
    two ints multiply as int64 does, wrapping, as in PyTorch's integer kernels
    (``x - 2**62 * 4`` subtracts 0 from an int64 tensor); otherwise as Python numbers."""
    v = other * alpha
    if v.__class__ is int and not -(1 << 63) <= v < (1 << 63) and not input._dtype.is_floating_point:
        v = (v + (1 << 63)) % (1 << 64) - (1 << 63)
    return v


def _scaled_tensor(other: Tensor, alpha, input, fname):
    """``alpha * other`` for a tensor ``other``, computed in the dtype of ``input op other``
    (an int32 ``other`` scaled by 2**40 for a float result must not wrap first), untracked."""
    return compute_binary("mul", other, alpha, fname, dtype=binary_dtype(other, input))


def _unit_alpha_fast_path(op: str, node_cls, input, other, alpha):
    """``input op other`` (op "add" or "sub") with the default alpha, for the common cases:
    a plain pair (see ``_plain_pair``; no bool subtraction) or a floating tensor and a
    Python number. None when the general path must run (and do its checks)."""
    if alpha.__class__ is not int or alpha != 1:
        return None
    if _plain_pair(input, other) and (op == "add" or input._dtype is not bool_):
        r = _same_dtype_binary(op, input, other)
        tracked = input._requires_grad or other._requires_grad
    elif _float_and_number(input, other):
        r = _with_number(op, input, other)
        tracked, other = input._requires_grad, None
    else:
        return None
    if tracked and STATE.enabled:
        node = node_cls()
        node.alpha = 1
        record(node, (input, other), r)
    return r


def add(input, other, *, alpha=1, out=None) -> Tensor:
    """``input + alpha * other`` with broadcasting and type promotion."""
    r = _unit_alpha_fast_path("add", AddBackward0, input, other, alpha)
    if r is not None:
        return _finish(r, out, "add")
    if not isinstance(input, Tensor):
        input = _lift(as_operand(input, "add", "input"), other)
    other = as_operand(other, "add")
    alpha = _alpha(alpha, "add", input, other)
    cd = binary_dtype(input, other)
    b = other if alpha == 1 else (_scaled_tensor(other, alpha, input, "add") if isinstance(other, Tensor)
                                  else _scaled_number(other, alpha, input))
    r = compute_binary("add", input, b, "add", dtype=cd)
    if _tracked(input, other):
        node = AddBackward0()
        node.alpha = alpha
        record(node, (input, other if isinstance(other, Tensor) else None), r)
    return _finish(r, out, "add")


def sub(input, other, *, alpha=1, out=None) -> Tensor:
    """``input - alpha * other``."""
    r = _unit_alpha_fast_path("sub", SubBackward0, input, other, alpha)
    if r is not None:
        return _finish(r, out, "sub")
    first_is_tensor = isinstance(input, Tensor)
    other = as_operand(other, "sub")
    alpha = _alpha(alpha, "sub", input, other) if first_is_tensor else _alpha(alpha, "sub", other, input)
    _check_sub_operands(input, other)
    b = other if alpha == 1 else (_scaled_tensor(other, alpha, input, "sub") if isinstance(other, Tensor)
                                  else _scaled_number(other, alpha, input))
    r = compute_binary("sub", input, b, "sub")
    if _tracked(input, other):
        if not first_is_tensor:
            node = RsubBackward1()
            record(node, (other,), r)
        else:
            node = SubBackward0()
            node.alpha = alpha
            record(node, (input, other if isinstance(other, Tensor) else None), r)
    return _finish(r, out, "sub")


def _check_sub_operands(input, other):
    """PyTorch refuses subtraction when either operand is bool (a tensor or True/False)."""
    for x in (input, other):
        if x is True or x is False or (isinstance(x, Tensor) and x._dtype is bool_):
            raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
                               "trying to invert a mask, use the `~` or `logical_not()` operator instead.")


def rsub(input, other, *, alpha=1) -> Tensor:
    """``other - alpha * input``."""
    if isinstance(input, Tensor):
        other = as_operand(other, "rsub")
        _check_sub_operands(input, other)
        alpha = _alpha(alpha, "rsub", input, other)
        if alpha != 1:  # scaled in the result's dtype, as sub scales its second operand
            result = binary_dtype(input, other)
            input = (input if input._dtype is result else input.to(result)) * alpha
            alpha = 1
    return sub(other, input * alpha if alpha != 1 else input)


def mul(input, other, *, out=None) -> Tensor:
    """Elementwise product with broadcasting."""
    if _plain_pair(input, other):
        r = _same_dtype_binary("mul", input, other)
    elif _float_and_number(input, other):
        r = _with_number("mul", input, other)
    else:
        if not isinstance(input, Tensor):
            input, other = other, input
        other = as_operand(other, "mul")
        r = compute_binary("mul", input, other, "mul")
    if STATE.enabled and (input._requires_grad or (isinstance(other, Tensor) and other._requires_grad)):
        node = MulBackward0()
        if isinstance(other, Tensor):
            # save only what a gradient needs: a for d/db, b for d/da
            node.scalar = None
            node.save(input if other._requires_grad else None, other if input._requires_grad else None)
            record(node, (input, other), r)
        else:
            node.scalar = other
            record(node, (input, None), r)
    return _finish(r, out, "mul")


def div(input, other, *, rounding_mode=None, out=None) -> Tensor:
    """True division (ints give floats); ``rounding_mode`` "floor" or "trunc" rounds."""
    if rounding_mode is None and _float_and_number(input, other):
        r = _with_number("div", input, other)
        if STATE.enabled and input._requires_grad:
            node = DivBackward0()
            node.scalar = other
            record(node, (input, None), r)
        return _finish(r, out, "div")
    if not isinstance(input, Tensor):
        input = _lift(as_operand(input, "div", "input"), other)
    other = as_operand(other, "div")
    if rounding_mode is not None:
        if rounding_mode.__class__ is not str:
            raise TypeError(f"div(): argument 'rounding_mode' must be None or a str ('trunc' or 'floor'), not "
                            f"{type(rounding_mode).__name__}")
        if rounding_mode == "floor":
            return floor_divide(input, other, out=out)
        if rounding_mode == "trunc":
            return _finish(_trunc_divide(input, other), out, "div")
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                           f"'{rounding_mode}'")
    cd = binary_dtype(input, other)
    if not cd.is_floating_point:
        cd = get_default_dtype()
    r = compute_binary("div", input, other, "div", dtype=cd)
    if _tracked(input, other):
        node = DivBackward0()
        if isinstance(other, Tensor):
            node.scalar = None
            node.save(input, other)
            record(node, (input, other), r)
        else:
            node.scalar = other
            record(node, (input, None), r)
    return _finish(r, out, "div")


def _check_int_zero_division(input, other, fname):
    cd = binary_dtype(input, other) if isinstance(input, Tensor) else binary_dtype(other, input)
    if cd.is_floating_point:
        return
    shapes = [x._shape for x in (input, other) if isinstance(x, Tensor)]
    if 0 in (shapes[0] if len(shapes) == 1 else broadcast_shapes(*shapes)):
        return  # nothing is divided
    if isinstance(other, Tensor):
        if bool((other == 0).any()):
            raise RuntimeError(f"ZeroDivisionError: integer division by zero in {fname}")
    elif cd._py(other) == 0:  # the divisor as the dtype holds it: 2**32 wraps to 0 in int32
        raise RuntimeError(f"ZeroDivisionError: integer division by zero in {fname}")


class FloorDivideBackward0(Node):
    """floor division is piecewise constant: zero gradient"""

    def backward(self, g):
        return tuple(g * 0 for _ in self.next_functions)


def floor_divide(input, other, *, out=None) -> Tensor:
    """Division rounded toward minus infinity (Python's ``//``)."""
    if not isinstance(input, Tensor):
        input = _lift(as_operand(input, "floor_divide", "input"), other)
    other = as_operand(other, "floor_divide")
    _check_int_zero_division(input, other, "floor_divide")
    r = compute_binary("floordiv", input, other, "floor_divide")
    if _tracked(input, other):
        record(FloorDivideBackward0(), _inputs(input, other), r)
    return _finish(r, out, "floor_divide")


def _trunc_divide(input, other):
    cd = binary_dtype(input, other)
    if cd.is_floating_point:
        return trunc(div(input, other))
    _check_int_zero_division(input, other, "div")
    rem = compute_binary("fmod", input, other, "div")
    return compute_binary("floordiv", compute_binary("sub", input, rem, "div"), other, "div")


class RemainderBackward0(Node):
    """d(a mod s) = g  (s a number)"""

    def backward(self, g):
        return (g,)


class RemainderBackward1(Node):
    """d(a mod b) = (g, -g*floor(a/b))"""

    def backward(self, g):
        a, b = self.saved_tensors
        return g, -g * floor_divide(a, b)


class FmodBackward0(RemainderBackward0):
    """d(fmod(a, s)) = g  (s a number)"""


class FmodBackward1(Node):
    """d(fmod(a, b)) = (g, -g*trunc(a/b))"""

    def backward(self, g):
        a, b = self.saved_tensors
        return g, -g * trunc(a / b)


def _record_mod(node_scalar, node_tensor, input, other, r):
    if isinstance(other, Tensor):
        node = node_tensor()
        node.save(input, other)
        record(node, (input, other), r)
    else:
        record(node_scalar(), (input,), r)


def remainder(input, other, *, out=None) -> Tensor:
    """Python's ``%``: the result has the sign of the divisor."""
    if not isinstance(input, Tensor):
        input = _lift(as_operand(input, "remainder", "input"), other)
    other = as_operand(other, "remainder")
    _check_int_zero_division(input, other, "remainder")
    r = compute_binary("remainder", input, other, "remainder")
    if _tracked(input, other):
        _record_mod(RemainderBackward0, RemainderBackward1, input, other, r)
    return _finish(r, out, "remainder")


def fmod(input, other, *, out=None) -> Tensor:
    """C's ``fmod``: the result has the sign of the dividend."""
    other = as_operand(other, "fmod")
    _check_int_zero_division(input, other, "fmod")
    r = compute_binary("fmod", input, other, "fmod")
    if _tracked(input, other):
        _record_mod(FmodBackward0, FmodBackward1, input, other, r)
    return _finish(r, out, "fmod")


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
            gb = where((a == 0) & (b >= 0), 0.0, g * result * log(a))
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
    base = base if isinstance(base, Tensor) else _lift(base, exponent)
    negative = exponent < 0
    positive_part = compute_binary("pow", base, where(negative, 0, exponent), "pow", dtype=dtype)
    odd = compute_binary("remainder", exponent, 2, "pow") == 1
    small = where(base == 1, 1, where(base == -1, where(odd, -1, 1), 0))
    return cast(where(negative, small, positive_part), dtype)


def _check_pow_scalar(cd, exponent) -> None:
    """PyTorch's checks of a number exponent for a result of dtype ``cd``: no negative
    power of integers, and the value must fit the dtype where the kernel computes in it
    (integers and float16; float32 and float64 kernels take any exponent)."""
    if not cd.is_floating_point:
        if exponent < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        cd.checked_scalar(exponent)
    elif cd is float16:
        cd.checked_scalar(exponent)


def pow(input, exponent, *, out=None) -> Tensor:
    """``input ** exponent`` (either may be a number)."""
    if not isinstance(input, Tensor):
        base = as_operand(input, "pow", "input")
        if isinstance(base, int) and not exponent._dtype.is_floating_point and bool((exponent < 0).any()):
            return _finish(_int_pow_negative_exponents(base, exponent, binary_dtype(exponent, base)), out, "pow")
        r = compute_binary("pow", base, exponent, "pow",
                           dtype=binary_dtype(exponent, base) if not isinstance(base, float) or
                           exponent._dtype.is_floating_point else get_default_dtype())
        if _tracked(exponent):
            node = PowBackward2()
            node.base = base
            node.save(r.detach())
            record(node, (exponent,), r)
        return _finish(r, out, "pow")
    exponent = as_operand(exponent, "pow", "exponent")
    cd = binary_dtype(input, exponent)
    if not isinstance(exponent, Tensor):
        _check_pow_scalar(cd, exponent)
    elif not cd.is_floating_point and bool((exponent < 0).any()):
        # PyTorch refuses only a negative Python exponent
        return _finish(_int_pow_negative_exponents(input, exponent, cd), out, "pow")
    r = compute_binary("pow", input, exponent, "pow")
    if _tracked(input, exponent):
        if isinstance(exponent, Tensor):
            node = PowBackward1()
            node.save(input, exponent, r.detach())
            record(node, (input, exponent), r)
        else:
            node = PowBackward0()
            node.exponent = exponent
            node.save(input)
            record(node, (input,), r)
    return _finish(r, out, "pow")


class MaximumBackward0(Node):
    """d max(a, b): the larger side gets g; ties split it in half"""

    def backward(self, g):
        a, b = self.saved_tensors
        half = g * 0.5
        return where(a > b, g, where(a == b, half, 0.0)), where(b > a, g, where(a == b, half, 0.0))


class MinimumBackward0(Node):
    """d min(a, b): the smaller side gets g; ties split it in half"""

    def backward(self, g):
        a, b = self.saved_tensors
        half = g * 0.5
        return where(a < b, g, where(a == b, half, 0.0)), where(b < a, g, where(a == b, half, 0.0))


def _minmax(op, node_cls, input, other, out):
    if not isinstance(other, Tensor):
        raise TypeError(f"{op}(): argument 'other' must be Tensor, not {type(other).__name__}")
    r = compute_binary(op, input, other, op)
    if _tracked(input, other):
        node = node_cls()
        node.save(input, other)
        record(node, (input, other), r)
    return _finish(r, out, op)


def maximum(input, other, *, out=None) -> Tensor:
    """Elementwise maximum (NaN propagates)."""
    return _minmax("maximum", MaximumBackward0, input, other, out)


def minimum(input, other, *, out=None) -> Tensor:
    """Elementwise minimum (NaN propagates)."""
    return _minmax("minimum", MinimumBackward0, input, other, out)


class Atan2Backward0(Node):
    """d atan2(a, b) = (g*b/(a^2+b^2), -g*a/(a^2+b^2))"""

    def backward(self, g):
        a, b = self.saved_tensors
        denom = a * a + b * b
        return g * b / denom, -g * a / denom


def atan2(input, other, *, out=None) -> Tensor:
    """Angle of the point (other, input), in radians."""
    cd = binary_dtype(input, other)
    r = compute_binary("atan2", input, other, "atan2", dtype=cd if cd.is_floating_point else get_default_dtype())
    if _tracked(input, other):
        node = Atan2Backward0()
        node.save(input, other)
        record(node, (input, other), r)
    return _finish(r, out, "atan2")


# ---- comparisons and logic (never differentiable) ------------------------------------

def _make_compare(op):
    def compare(input, other, *, out=None) -> Tensor:
        if not isinstance(input, Tensor):
            input = _lift(as_operand(input, op, "input"), other)
        other = as_operand(other, op)
        return _finish(compute_binary(op, input, other, op, bool_out=True), out, op)
    compare.__name__ = op
    compare.__doc__ = f"Elementwise ``{op}`` comparison with broadcasting; returns a bool tensor."
    return compare


eq, ne, lt, le, gt, ge = (_make_compare(o) for o in ("eq", "ne", "lt", "le", "gt", "ge"))
logical_and, logical_or, logical_xor = (_make_compare(o) for o in ("logical_and", "logical_or", "logical_xor"))
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def _make_bitwise(op):
    def bitwise(input, other, *, out=None) -> Tensor:
        other = as_operand(other, op)
        cd = binary_dtype(input, other)
        if cd.is_floating_point:
            raise RuntimeError(f"\"{op}_cpu\" not implemented for '{cd.name.capitalize()}': bitwise ops need "
                               f"integer or bool tensors")
        return _finish(compute_binary(op, input, other, op), out, op)
    bitwise.__name__ = op
    bitwise.__doc__ = f"Elementwise ``{op}`` of integer or bool tensors."
    return bitwise


bitwise_and, bitwise_or, bitwise_xor = (_make_bitwise(o) for o in ("bitwise_and", "bitwise_or", "bitwise_xor"))


def logical_not(input, *, out=None) -> Tensor:
    return _finish(compute_unary("logical_not", input, bool_out=True), out, "logical_not")


def bitwise_not(input, *, out=None) -> Tensor:
    if input._dtype.is_floating_point:
        raise RuntimeError("bitwise_not is only supported for integer and bool tensors, got "
                           f"{input._dtype!r}")
    return _finish(compute_unary("bitwise_not", input), out, "bitwise_not")


def isnan(input) -> Tensor:
    return compute_unary("isnan", input, bool_out=True)


def isinf(input) -> Tensor:
    return compute_unary("isinf", input, bool_out=True)


def isfinite(input) -> Tensor:
    return compute_unary("isfinite", input, bool_out=True)


# ---- unary math ---------------------------------------------------------------------

class _UnaryNode(Node):
    """A unary op's node: ``formula(g, x, result)`` gives the input gradient."""
    __slots__ = ()
    formula = None
    uses = "x"  # which tensor the formula needs: "x", "result", or "" (none)

    def backward(self, g):
        if self.uses == "":
            return (type(self).formula(g, None, None),)
        (t,) = self.saved_tensors
        if self.uses == "x":
            return (type(self).formula(g, t, None),)
        return (type(self).formula(g, None, self.output_alias(t)),)


_UNARY_NODES = {}


def _unary(name, kernel, formula, uses="x", float_only=True, node_name=None):
    """Define a unary op from its kernel name and its gradient formula."""
    node_cls = type(node_name or (name.capitalize() + "Backward0"), (_UnaryNode,),
                    {"__slots__": (), "formula": staticmethod(formula) if formula else None, "uses": uses,
                     "__doc__": f"backward of {name}"})
    _UNARY_NODES[name] = node_cls

    def op(input, *, out=None) -> Tensor:
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(input).__name__}")
        dtype = None
        if float_only and not input._dtype.is_floating_point:
            dtype = get_default_dtype()
        r = compute_unary(kernel, input, dtype=dtype)
        if formula is not None and STATE.enabled and input._requires_grad:
            node = node_cls()
            if uses == "x":
                node.save(input)
            elif uses == "result":
                node.save(r.detach())
            record(node, (input,), r)
        return r if out is None else write_out(out, r, name)
    op.__name__ = name
    op.__doc__ = f"Elementwise {name}."
    return op


def _zero_grad(g, x, y):
    return g * 0


exp = _unary("exp", "exp", lambda g, x, y: g * y, "result")
log = _unary("log", "log", lambda g, x, y: g / x)
sqrt = _unary("sqrt", "sqrt", lambda g, x, y: g / (2 * y), "result")
rsqrt = _unary("rsqrt", "rsqrt", lambda g, x, y: -0.5 * g * y * y * y, "result")
sin = _unary("sin", "sin", lambda g, x, y: g * cos(x))
cos = _unary("cos", "cos", lambda g, x, y: -g * sin(x))
tan = _unary("tan", "tan", lambda g, x, y: g * (1 + y * y), "result")
tanh = _unary("tanh", "tanh", lambda g, x, y: g * (1 - y * y), "result")
sigmoid = _unary("sigmoid", "sigmoid", lambda g, x, y: g * y * (1 - y), "result")
reciprocal = _unary("reciprocal", "reciprocal", lambda g, x, y: -g * y * y, "result")
log1p = _unary("log1p", "log1p", lambda g, x, y: g / (1 + x), node_name="Log1PBackward0")
expm1 = _unary("expm1", "expm1", lambda g, x, y: g * (y + 1), "result")
asin = _unary("asin", "asin", lambda g, x, y: g / sqrt(1 - x * x))
acos = _unary("acos", "acos", lambda g, x, y: -g / sqrt(1 - x * x))
atan = _unary("atan", "atan", lambda g, x, y: g / (1 + x * x))
sinh = _unary("sinh", "sinh", lambda g, x, y: g * cosh(x))
cosh = _unary("cosh", "cosh", lambda g, x, y: g * sinh(x))
log2 = _unary("log2", "log2", lambda g, x, y: g / (x * math.log(2)))
exp2 = _unary("exp2", "exp2", lambda g, x, y: g * y * math.log(2), "result")
floor = _unary("floor", "floor", _zero_grad, "", float_only=False)
ceil = _unary("ceil", "ceil", _zero_grad, "", float_only=False)
trunc = _unary("trunc", "trunc", _zero_grad, "", float_only=False)
sign = _unary("sign", "sign", _zero_grad, "", float_only=False)
_round = _unary("round", "round", _zero_grad, "", float_only=False)
arcsin, arccos, arctan = asin, acos, atan


class RoundBackward1(Node):
    """d round(a, decimals) = 0"""

    def backward(self, g):
        return (g * 0,)


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
        return _finish(input.clone(), out, "round")  # no kernel call
    if decimals == 0:
        return _round(input, out=out)
    places = decimals if decimals > 0 else -decimals
    scale = 10.0 ** places if places <= 308 else math.inf
    x = cast(input, float32) if input._dtype is float16 else input.detach()
    if decimals > 0:
        r = compute_binary("div", compute_unary("round", compute_binary("mul", x, scale, "round")), scale, "round")
    else:
        r = compute_binary("mul", compute_unary("round", compute_binary("div", x, scale, "round")), scale, "round")
    r = cast(r, input._dtype)
    if STATE.enabled and input._requires_grad:
        record(RoundBackward1(), (input,), r)
    return _finish(r, out, "round")


class NegBackward0(Node):
    """d(-a) = -g"""

    def backward(self, g):
        return (-g,)


def neg(input, *, out=None) -> Tensor:
    """``-input``."""
    if input._dtype is bool_:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you are trying to "
                           "invert a mask, use the `~` or `logical_not()` operator instead.")
    r = compute_unary("neg", input)
    if STATE.enabled and input._requires_grad:
        record(NegBackward0(), (input,), r)
    return _finish(r, out, "neg")


negative = neg


class AbsBackward0(Node):
    """d|a| = g*sign(a)"""

    def backward(self, g):
        (x,) = self.saved_tensors
        return (g * sign(x),)


def abs(input, *, out=None) -> Tensor:
    """Absolute value."""
    if input._dtype is bool_:
        raise RuntimeError("abs is not supported for bool tensors")
    r = compute_unary("abs", input)
    if STATE.enabled and input._requires_grad:
        node = AbsBackward0()
        node.save(input)
        record(node, (input,), r)
    return _finish(r, out, "abs")


absolute = abs


class ReluBackward0(Node):
    """d relu(a) = g except where the result is 0 or below (a NaN result passes g, as in
    PyTorch, whose threshold test is ``result <= 0``)"""

    def backward(self, g):
        (result,) = self.saved_tensors
        return (where(result <= 0, 0.0, g),)


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


def square(input) -> Tensor:
    return pow(input, 2)


# ---- where, clamp, lerp, addcmul ---------------------------------------------------------

class WhereBackward0(Node):
    """d where(c, a, b) = (g where c, g where not c)"""

    def backward(self, g):
        (cond,) = self.saved_tensors
        ga = where(cond, g, 0.0) if self.next_functions[0][0] is not None else None
        gb = where(cond, 0.0, g) if self.next_functions[1][0] is not None else None
        return ga, gb


def where(condition, input=None, other=None, *, out=None):
    """``input`` where ``condition`` holds, else ``other`` (numbers allowed); with one
    argument, the indices of the true elements (like ``nonzero(as_tuple=True)``)."""
    if input is None and other is None:
        from .indexing import nonzero
        return nonzero(condition, as_tuple=True)
    if not isinstance(condition, Tensor):
        raise TypeError(f"where(): argument 'condition' must be Tensor, not {type(condition).__name__}")
    if condition._dtype is not bool_:
        if condition._dtype is uint8:
            condition = cast(condition, bool_)
        else:
            raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype "
                               f"{condition._dtype.name.capitalize()}")
    ref = input if isinstance(input, Tensor) else other
    if not isinstance(ref, Tensor):
        from ..creation import tensor
        ref = tensor(as_operand(input, "where", "input"), device=condition.device)
        ref._dtype.checked_scalar(input)
        input = ref
    # the device is the first operand's that is not a 0-d cpu tensor: another device's tensor
    # is refused, except a 0-d cpu one, which counts as a number and is moved to the kernel
    for t in (input, other, condition):
        if isinstance(t, Tensor) and (t._shape or t._backend.device.type != "cpu"):
            ref = t
            break
    backend = ref._backend
    if condition._backend is not backend:
        check_same_device(ref, condition, "where")
        condition = condition.to(ref.device)
    if isinstance(input, Tensor) and input._backend is not backend:
        check_same_device(ref, input, "where")
        input = input.to(ref.device)
    if isinstance(other, Tensor) and other._backend is not backend:
        check_same_device(ref, other, "where")
        other = other.to(ref.device)
    if isinstance(input, Tensor) and isinstance(other, Tensor):
        cd = binary_dtype(input, other)
    elif isinstance(input, Tensor):
        cd = binary_dtype(input, as_operand(other, "where"))
    else:
        cd = binary_dtype(other, as_operand(input, "where", "input"))
    shape = condition._shape
    for t in (input, other):
        if isinstance(t, Tensor):
            shape = broadcast_shapes(shape, t._shape)
    a = cast(input, cd)._a if isinstance(input, Tensor) else cd.checked_scalar(input)
    b = cast(other, cd)._a if isinstance(other, Tensor) else cd.checked_scalar(other)
    o = backend.empty(shape, cd)
    backend.where(condition._a, a, b, o)
    r = make(backend, o, shape, cd)
    if STATE.enabled and ((isinstance(input, Tensor) and input._requires_grad) or
                          (isinstance(other, Tensor) and other._requires_grad)):
        node = WhereBackward0()
        node.save(condition)
        record(node, (input if isinstance(input, Tensor) else None, other if isinstance(other, Tensor) else None), r)
    return _finish(r, out, "where")


class ClampBackward1(Node):
    """d clamp(a, lo, hi) = g inside [lo, hi], 0 outside  (lo, hi numbers or None)"""
    __slots__ = ("lo", "hi")

    def backward(self, g):
        (x,) = self.saved_tensors
        lo, hi = self.lo, self.hi
        mask = None
        if lo is not None:
            mask = x >= lo
        if hi is not None:
            m2 = x <= hi
            mask = m2 if mask is None else mask & m2
        return (where(mask, g, 0.0),)


class ClampBackward0(Node):
    """d clamp(a, lo, hi) with tensor bounds = (g where lo <= a <= hi, g where a < lo, g where a > hi);
    when lo > hi the result is hi, so hi gets all of g"""

    def backward(self, g):
        x, lo, hi = self.saved_tensors
        lo = lo if lo is not None else self.lo_value
        hi = hi if hi is not None else self.hi_value
        inside = None
        below = above = None
        if lo is not None:
            inside = x >= lo
            below = x < lo
        if hi is not None:
            le = x <= hi
            inside = le if inside is None else inside & le
            above = x > hi
            if lo is not None:
                crossed = lo > hi
                below = below & ~crossed
                above = above | crossed
                inside = inside & ~crossed
        needs = [e[0] is not None for e in self.next_functions]
        return (where(inside, g, 0.0) if needs[0] else None,
                where(below, g, 0.0) if needs[1] else None,
                where(above, g, 0.0) if needs[2] else None)


def clamp(input, min=None, max=None, *, out=None) -> Tensor:
    """Limit values to ``[min, max]`` (either bound may be omitted; bounds may be
    numbers or tensors, and tensor bounds get gradients too)."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    lo = None if min is None else as_operand(min, "clamp", "min")
    hi = None if max is None else as_operand(max, "clamp", "max")
    for bound in (lo, hi):
        if type(bound) is float or type(bound) is int:  # PyTorch converts a number bound to the result's dtype
            binary_dtype(input, bound).checked_scalar(bound)
    r = input
    if lo is not None:
        r = compute_binary("maximum", r, lo, "clamp")
    if hi is not None:
        r = compute_binary("minimum", r, hi, "clamp")
    lo_t = lo if isinstance(lo, Tensor) else None
    hi_t = hi if isinstance(hi, Tensor) else None
    if lo_t is None and hi_t is None:
        if STATE.enabled and input._requires_grad:
            node = ClampBackward1()
            node.lo, node.hi = lo, hi
            node.save(input)
            record(node, (input,), r)
    elif STATE.enabled and any(t is not None and t._requires_grad for t in (input, lo_t, hi_t)):
        node = ClampBackward0()
        node.lo_value, node.hi_value = (None if lo_t is not None else lo), (None if hi_t is not None else hi)
        node.save(input, lo_t, hi_t)
        record(node, (input, lo_t, hi_t), r)
    return _finish(r, out, "clamp")


clip = clamp


class LerpBackward0(Node):
    """d lerp(a, b, w) = (g (1 - w), g w)  (w a number)"""
    __slots__ = ("weight",)

    def backward(self, g):
        w = self.weight
        return g * (1 - w), g * w


class LerpBackward1(Node):
    """d lerp(a, b, w) = (g (1 - w), g w, g (b - a))  (w a tensor)"""

    def backward(self, g):
        a, b, w = self.saved_tensors
        needs = [e[0] is not None for e in self.next_functions]
        return (g * (1 - w) if needs[0] else None, g * w if needs[1] else None,
                g * (b - a) if needs[2] else None)


def lerp(input, end, weight) -> Tensor:
    """Linear interpolation ``input + weight * (end - input)``; where ``|weight| >= 0.5``
    it is computed from the other end, ``end - (end - input) * (1 - weight)``, as PyTorch
    does (exact at weight 1, and the same infinities and NaNs)."""
    weight = as_operand(weight, "lerp", "weight")
    for name, t in (("end", check_tensor(end, "lerp", "end")), ("weight", weight)):
        # a 0-d weight is exempt (PyTorch promotes it with the others, as a number)
        if isinstance(t, Tensor) and t._dtype is not input._dtype and (t is end or t._shape):
            raise RuntimeError(f"lerp(): expected dtype {input._dtype.name} for `{name}` but got dtype "
                               f"{t._dtype.name}")
    if isinstance(weight, Tensor) and weight._dtype is not input._dtype:
        dt = input._dtype
        if weight._dtype.is_floating_point and not input._shape and not end._shape:
            dt = promote_types(dt, weight._dtype)   # all three 0-d: the widest float
        weight = weight.to(dt)
        if dt is not input._dtype:
            input, end = input.to(dt), end.to(dt)
    if not isinstance(weight, Tensor):
        input._dtype.checked_scalar(weight)  # PyTorch converts a number weight to input's dtype
    prev = STATE.enabled
    STATE.enabled = False
    try:
        diff = sub(end, input)
        if isinstance(weight, Tensor):
            r = where(abs(weight) < 0.5, add(input, mul(diff, weight)), sub(end, mul(diff, rsub(weight, 1))))
        elif -0.5 < weight < 0.5:
            r = add(input, mul(diff, weight))
        else:
            r = sub(end, mul(diff, 1 - weight))
    finally:
        STATE.enabled = prev
    w_t = weight if isinstance(weight, Tensor) else None
    if _tracked(input, end) or (STATE.enabled and w_t is not None and w_t._requires_grad):
        if w_t is None:
            node = LerpBackward0()
            node.weight = weight
            record(node, (input, end), r)
        else:
            node = LerpBackward1()
            node.save(input, end, w_t)
            record(node, (input, end, w_t), r)
    return r


class AddcmulBackward0(Node):
    """d(a + v t1 t2) = (g, g v t2, g v t1)"""
    __slots__ = ("value",)

    def backward(self, g):
        t1, t2 = self.saved_tensors
        needs = [e[0] is not None for e in self.next_functions]
        gv = g * self.value if self.value != 1 else g
        return (g if needs[0] else None, gv * t2 if needs[1] else None, gv * t1 if needs[2] else None)


class AddcdivBackward0(Node):
    """d(a + v t1 / t2) = (g, g v / t2, -g v t1 / t2^2)"""
    __slots__ = ("value",)

    def backward(self, g):
        t1, t2 = self.saved_tensors
        needs = [e[0] is not None for e in self.next_functions]
        gv = g * self.value if self.value != 1 else g
        return (g if needs[0] else None, gv / t2 if needs[1] else None,
                -gv * t1 / (t2 * t2) if needs[2] else None)


def _addc(kind, node_cls, input, tensor1, tensor2, value):
    value = as_operand(value, kind, "value")
    if type(value) is float:
        binary_dtype(input, value).checked_scalar(value)
    prev = STATE.enabled
    STATE.enabled = False
    try:
        part = mul(tensor1, tensor2) if kind == "addcmul" else div(tensor1, tensor2)
        r = add(input, part if value == 1 else mul(part, value))
    finally:
        STATE.enabled = prev
    if _tracked(input, tensor1) or _tracked(tensor2):
        node = node_cls()
        node.value = value
        node.save(tensor1, tensor2)
        record(node, (input, tensor1, tensor2), r)
    return r


def addcmul(input, tensor1, tensor2, *, value=1) -> Tensor:
    """``input + value * tensor1 * tensor2``."""
    return _addc("addcmul", AddcmulBackward0, input, tensor1, tensor2, value)


def addcdiv(input, tensor1, tensor2, *, value=1) -> Tensor:
    """``input + value * tensor1 / tensor2``."""
    return _addc("addcdiv", AddcdivBackward0, input, tensor1, tensor2, value)


def true_divide(input, other, *, out=None) -> Tensor:
    return div(input, other, out=out)


subtract, multiply, divide = sub, mul, div


# ---- closeness -----------------------------------------------------------------------------

def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> Tensor:
    """Elementwise ``|input - other| <= atol + rtol * |other|`` with a finite difference
    (an infinity is close only to itself)."""
    check_tensor(input, "isclose", "input")
    check_tensor(other, "isclose", "other")
    if type(equal_nan) is not bool:
        check_bool(equal_nan, "isclose", "equal_nan")
    if input._dtype is not other._dtype:
        raise RuntimeError(f"isclose(): input ({input._dtype!r}) and other ({other._dtype!r}) must have the same "
                           f"dtype")
    for name, tol in (("rtol", rtol), ("atol", atol)):
        if not tol >= 0:
            raise RuntimeError(f"{name} must be greater than or equal to zero, but got {tol}")
    from ..autograd.grad_mode import no_grad
    with no_grad():
        if not input._dtype.is_floating_point:   # integers are close within the tolerances too, as in PyTorch
            wide = float64 if float64 in input._backend.dtypes else get_default_dtype()
            input, other = cast(input, wide), cast(other, wide)
        diff = abs(input - other)
        close = eq(input, other) | (isfinite(diff) & (diff <= atol + rtol * abs(other)))
        if equal_nan:
            close = close | (isnan(input) & isnan(other))
    return close


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    """True when every element is close (see ``isclose``)."""
    check_tensor(input, "allclose", "input")
    check_tensor(other, "allclose", "other")
    if type(equal_nan) is not bool:
        check_bool(equal_nan, "allclose", "equal_nan")
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


def equal(input, other) -> bool:
    """True when both tensors have the same shape and the same values."""
    for name, t in (("input", input), ("other", other)):
        if not isinstance(t, Tensor):
            raise TypeError(f"equal(): argument '{name}' must be Tensor, not {type(t).__name__}")
    if input._backend is not other._backend:
        raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two devices, "
                           f"{input.device} and {other.device}! (in equal)")
    if input._shape != other._shape:
        return False
    return bool(eq(input, other).all())
