"""More elementwise math with PyTorch's names: inverse hyperbolic functions, ``log10``,
angle conversions, IEEE helpers (``copysign``, ``signbit``, ``ldexp``), NaN-ignoring
``fmax``/``fmin``, integer ``gcd``/``lcm`` and bit shifts, ``float_power`` and one-sided
clamps.

Ops with a kernel (``acosh``, ``asinh``, ``atanh``, ``log10``, ``copysign``: kernel
interface 1.2) are one table line each, like ``unary.py``. The
rest are compositions of existing ops, so every device gets them without a kernel;
they run untracked and record their own node (PyTorch's ``grad_fn`` name), whose
backward is a formula in plugrad ops.
"""

from __future__ import annotations

import math

from ...autograd.grad_mode import STATE, no_grad
from ...dtypes import bool_, float64, get_default_dtype, int64
from ...optable import ops
from ...tensor import Tensor
from ..declare import declare, names_declared_in
from ..dispatch import as_operand, cast, check_same_device, check_tensor, write_out
from ..forms import general_inplace
from ..pointwise import binary, node_class, record_pointwise, result_dtype, unary

F = "float"


# ---- kernels of interface 1.2 ----------------------------------------------------------------

acosh = unary("acosh", result=F, grad=lambda g, x: g / ops.sqrt(x * x - 1), aliases=("arccosh",))
asinh = unary("asinh", result=F, grad=lambda g, x: g / ops.sqrt(x * x + 1), aliases=("arcsinh",))
atanh = unary("atanh", result=F, grad=lambda g, x: g / (1 - x * x), aliases=("arctanh",))
log10 = unary("log10", result=F, grad=lambda g, x: g / (x * math.log(10)))
arccosh, arcsinh, arctanh = acosh, asinh, atanh


def _copysign_grad(g, a, result):
    """d copysign(a, b)/da = result / a (+-1), 0 where a is 0 (as PyTorch)."""
    return g * ops.where(a == 0, 0.0, result / ops.where(a == 0, 1.0, a))


copysign = binary("copysign", result="float", grads=(_copysign_grad, lambda g, b: g * 0),
                  scalar_node="CopysignBackward1", number_input=False,
                  doc="``|input|`` with the sign (bit) of ``other``; integers compute in the default float dtype.")


def _dtype_name(d):
    return {"bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int", "int64": "Long",
            "float16": "Half", "float32": "Float", "float64": "Double"}.get(d.name, d.name)


# ---- composite unary ops ----------------------------------------------------------------------

def _record_unary(node_cls, r, input):
    if node_cls is not None and STATE.enabled and input._requires_grad:
        record_pointwise(node_cls, r, {"x": input}, (input,))
    return r


def _float_input(input, fname):
    """``input`` in the dtype a float function computes it in (integers and bools in the
    default float dtype)."""
    check_tensor(input, fname, "input")
    return input if input._dtype.is_floating_point else cast(input, get_default_dtype())


_Deg2RadBackward0 = node_class("Deg2RadBackward0", (lambda g: g * (math.pi / 180),), ("x",))
_Rad2DegBackward0 = node_class("Rad2DegBackward0", (lambda g: g * (180 / math.pi),), ("x",))
_FracBackward0 = node_class("FracBackward0", (lambda g: g * 1,), ("x",))


@declare(method=True, inplace=True)
def deg2rad(input, *, out=None) -> Tensor:
    """Degrees to radians (``input * pi / 180``)."""
    with no_grad():
        r = _float_input(input, "deg2rad") * (math.pi / 180)
    return write_out(out, r, "deg2rad") if out is not None else _record_unary(_Deg2RadBackward0, r, input)


@declare(method=True, inplace=True)
def rad2deg(input, *, out=None) -> Tensor:
    """Radians to degrees (``input * 180 / pi``)."""
    with no_grad():
        r = _float_input(input, "rad2deg") * (180 / math.pi)
    return write_out(out, r, "rad2deg") if out is not None else _record_unary(_Rad2DegBackward0, r, input)


@declare(method=True, inplace=True)
def frac(input, *, out=None) -> Tensor:
    """The fractional part, ``input - trunc(input)``, with input's sign (floats only)."""
    check_tensor(input, "frac", "input")
    if not input._dtype.is_floating_point:
        raise NotImplementedError(f"\"frac_cpu\" not implemented for '{_dtype_name(input._dtype)}'")
    with no_grad():
        r = input - ops.trunc(input)
    return write_out(out, r, "frac") if out is not None else _record_unary(_FracBackward0, r, input)


@declare(method=True)
def positive(input) -> Tensor:
    """``+input``: the input itself (refused for bool, as PyTorch's ``+``)."""
    check_tensor(input, "positive", "input")
    if input._dtype is bool_:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


@declare(method=True)
def signbit(input, *, out=None) -> Tensor:
    """True where the sign bit is set: negative numbers, -0.0 and NaNs with a sign."""
    check_tensor(input, "signbit", "input")
    with no_grad():
        if input._dtype.is_floating_point:
            r = copysign(ops.ones_like(input), input) < 0
        elif input._dtype is bool_:
            r = ops.zeros_like(input)
        else:
            r = input < 0
    return r if out is None else write_out(out, r, "signbit")


def _infinity_test(name, value):
    def test(input, *, out=None) -> Tensor:
        check_tensor(input, name, "input")
        with no_grad():
            r = input == value if input._dtype.is_floating_point else ops.zeros_like(input, dtype=bool_)
        return r if out is None else write_out(out, r, name)
    test.__name__ = test.__qualname__ = name
    test.__doc__ = f"True where ``input`` is {'+' if value > 0 else '-'}inf (never for integers)."
    return declare(test, method=True)


isposinf = _infinity_test("isposinf", math.inf)
isneginf = _infinity_test("isneginf", -math.inf)


# ---- composite binary ops ---------------------------------------------------------------------

def _tensors(input, other, fname, argname="other"):
    check_tensor(input, fname, "input")
    check_tensor(other, fname, argname)
    if other._backend is not input._backend:
        other = check_same_device(input, other, fname)
    return input, other


def _record_binary(node_cls, r, a, b):
    if STATE.enabled and ((isinstance(a, Tensor) and a._requires_grad) or (isinstance(b, Tensor) and b._requires_grad)):
        record_pointwise(node_cls, r, {"a": a, "b": b}, (a if isinstance(a, Tensor) else None,
                                                         b if isinstance(b, Tensor) else None))
    return r


def _fmax_grads(keep_self):
    def ga(g, a, b):
        return ops.where(keep_self(a, b) | ops.isnan(b), g, 0.0)

    def gb(g, a, b):
        return ops.where(keep_self(a, b) | ops.isnan(b), 0.0, g)
    return ga, gb


_FmaxBackward0 = node_class("FmaxBackward0", _fmax_grads(lambda a, b: a >= b))
_FminBackward0 = node_class("FminBackward0", _fmax_grads(lambda a, b: a <= b))


def _nan_ignoring(name, extreme, node_cls):
    def op(input, other, *, out=None) -> Tensor:
        a, b = _tensors(input, other, name)
        with no_grad():
            r = ops.where(ops.isnan(b), a, ops.where(ops.isnan(a), b, extreme(a, b)))
            cd = result_dtype(a, b)
            r = r if r._dtype is cd else cast(r, cd)
        if out is not None:
            return write_out(out, r, name)
        return _record_binary(node_cls, r, a, b)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise {name[1:]}imum that ignores NaN (NaN only where both are NaN)."
    return declare(op, method=True)


fmax = _nan_ignoring("fmax", ops.maximum, _FmaxBackward0)
fmin = _nan_ignoring("fmin", ops.minimum, _FminBackward0)


@declare(method=True, inplace=True)
def heaviside(input, values, *, out=None) -> Tensor:
    """The Heaviside step: 0 where ``input < 0``, ``values`` where it is 0, 1 where
    ``input > 0`` (input and values of one dtype; not differentiable, as in PyTorch)."""
    a, v = _tensors(input, values, "heaviside", "values")
    if a._dtype is not v._dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    with no_grad():
        r = ops.where(a == 0, v, (a > 0).to(a._dtype))
        r = r if r._dtype is a._dtype else cast(r, a._dtype)
    if out is not None:
        return write_out(out, r, "heaviside")
    if STATE.enabled and (a._requires_grad or v._requires_grad):
        record_pointwise(_HeavisideNotImplemented, r, {}, (a, v))
    return r


def _not_differentiable(g):
    raise RuntimeError("derivative for aten::heaviside is not implemented")


_HeavisideNotImplemented = node_class("NotImplemented", (_not_differentiable, _not_differentiable), ("a", "b"))


_LdexpBackward0 = node_class("LdexpBackward0", (lambda g, b: g * ops.exp2(b),
                                                lambda g, a, b: g * a * ops.exp2(b) * math.log(2)))


@declare(method=True, inplace=True)
def ldexp(input, other, *, out=None) -> Tensor:
    """``input * 2**other`` (integers compute in the default float dtype)."""
    a, b = _tensors(input, other, "ldexp")
    with no_grad():
        cd = result_dtype(a, b)
        if not cd.is_floating_point:
            cd = get_default_dtype()
        r = cast(a, cd) * ops.exp2(cast(b, cd))
    if out is not None:
        return write_out(out, r, "ldexp")
    return _record_binary(_LdexpBackward0, r, a, b)


@declare(method=True, inplace=True, inplace_form="_float_power_")
def float_power(input, exponent, *, out=None) -> Tensor:
    """``input ** exponent`` computed in float64 (either may be a number)."""
    if not isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        raise TypeError(f"float_power(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    input = as_operand(input, "float_power", "input")
    exponent = as_operand(exponent, "float_power", "exponent")
    if isinstance(input, Tensor) and isinstance(exponent, Tensor) and exponent._backend is not input._backend:
        exponent = check_same_device(input, exponent, "float_power")
    base = input.to(float64) if isinstance(input, Tensor) else float(input)
    power = exponent.to(float64) if isinstance(exponent, Tensor) else float(exponent)
    r = ops.pow(base, power)
    return r if out is None else write_out(out, r, "float_power")


def _float_power_(self, exponent):
    """In-place ``float_power``: ``self`` must be float64 (the result's dtype)."""
    check_tensor(self, "float_power_", "self")
    if self._dtype is not float64:
        raise RuntimeError(f"the base given to float_power_ has dtype {_dtype_name(self._dtype)} but the "
                           f"operation's result requires dtype Double")
    return _FLOAT_POWER_IN_PLACE(self, exponent)


_FLOAT_POWER_IN_PLACE = general_inplace(float_power, "float_power_")


# ---- integers: gcd, lcm, shifts ----------------------------------------------------------------

def _integer_operands(input, other, fname, kernel):
    a, b = _tensors(input, other, fname)
    cd = result_dtype(a, b)
    if cd.is_floating_point or cd is bool_:
        raise NotImplementedError(f"\"{kernel}_cpu\" not implemented for '{_dtype_name(cd)}'")
    return cast(a, cd) if a._dtype is not cd else a, cast(b, cd) if b._dtype is not cd else b


def _gcd(a, b):
    """Euclid's algorithm on whole tensors: as many rounds as the largest pair needs."""
    a, b = ops.abs(a), ops.abs(b)
    a, b = ops.broadcast_tensors(a, b)
    while bool((b != 0).any()):
        nonzero = b != 0
        a, b = ops.where(nonzero, b, a), ops.where(nonzero, ops.remainder(a, ops.where(nonzero, b, 1)), 0)
    return a


@declare(method=True, inplace=True)
def gcd(input, other, *, out=None) -> Tensor:
    """Greatest common divisor (non-negative; ``gcd(0, 0) = 0``) of integer tensors."""
    a, b = _integer_operands(input, other, "gcd", "gcd")
    with no_grad():
        r = _gcd(a, b).contiguous()
    return r if out is None else write_out(out, r, "gcd")


@declare(method=True, inplace=True)
def lcm(input, other, *, out=None) -> Tensor:
    """Least common multiple (non-negative; 0 when either is 0) of integer tensors."""
    a, b = _integer_operands(input, other, "lcm", "lcm")
    with no_grad():
        g = _gcd(a, b)
        # the product in int64 and its absolute value before wrapping to the dtype, as C++'s
        # integer promotion does in PyTorch's kernel (lcm(-28, 25) in int8 is -68)
        wide = ops.floor_divide(a, ops.where(g == 0, 1, g)).to(int64) * b.to(int64)
        r = ops.where(g == 0, 0, ops.abs(wide)).to(a._dtype)
    return r if out is None else write_out(out, r, "lcm")


_BITS = {"uint8": 8, "int8": 8, "int16": 16, "int32": 32, "int64": 64}


def _shift_operands(input, other, fname, kernel):
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(f"{fname}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    input, other = as_operand(input, fname, "input"), as_operand(other, fname)
    if isinstance(input, Tensor) and isinstance(other, Tensor) and other._backend is not input._backend:
        other = check_same_device(input, other, fname)
    cd = result_dtype(input, other)
    if cd.is_floating_point or cd is bool_:
        raise NotImplementedError(f"\"{kernel}_cpu\" not implemented for '{_dtype_name(cd)}'")
    t = input if isinstance(input, Tensor) else other
    a = cast(input, cd) if isinstance(input, Tensor) else ops.full(t._shape, input, dtype=cd, device=t.device)
    b = cast(other, cd) if isinstance(other, Tensor) else ops.full(t._shape, other, dtype=cd, device=t.device)
    return a, b, _BITS[cd.name]


def _bitwise_shift(name, kernel, shift):
    def op(input, other, *, out=None) -> Tensor:
        a, b, bits = _shift_operands(input, other, name, kernel)
        with no_grad():
            r = shift(a, b, bits, a._dtype.name != "uint8")
        return r if out is None else write_out(out, r, name)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = (f"Elementwise ``input {'<<' if 'left' in name else '>>'} other`` of integer tensors "
                  f"(a shift by a negative count or by the bit width or more gives PyTorch's result).")
    return declare(op, method=True, inplace=True)


def _left(a, b, bits, signed):
    """``a << b``: the product with ``2**b`` wraps exactly like the shift; counts outside
    [0, bits) give 0."""
    valid = (b >= 0) & (b < bits)
    power = ops.pow(ops.full_like(a, 2), ops.where(valid, b, 0))
    return ops.where(valid, a * power, 0).to(a._dtype)


def _right(a, b, bits, signed):
    """``a >> b``: arithmetic (floor division by ``2**b``) for signed dtypes; counts past
    the width (or negative) give the sign fill (0 or -1)."""
    top = bits - 1 if signed else bits   # 2**top does not fit a signed dtype
    valid = (b >= 0) & (b < top)
    power = ops.pow(ops.full_like(a, 2), ops.where(valid, b, 0))
    fill = ops.where(a < 0, -1, 0) if signed else ops.zeros_like(a)
    return ops.where(valid, ops.floor_divide(a, power), fill).to(a._dtype)


bitwise_left_shift = _bitwise_shift("bitwise_left_shift", "lshift", _left)
bitwise_right_shift = _bitwise_shift("bitwise_right_shift", "rshift", _right)


# ---- one-sided clamps -------------------------------------------------------------------------

_ClampMinBackward0 = node_class("ClampMinBackward0", (lambda g, a, bound: ops.where(a >= bound, g, 0.0),), ("a",),
                                defaults={"bound": None})
_ClampMaxBackward0 = node_class("ClampMaxBackward0", (lambda g, a, bound: ops.where(a <= bound, g, 0.0),), ("a",),
                                defaults={"bound": None})
_ClampMinBackward1 = node_class("ClampMinBackward1", (lambda g, a, b: ops.where(a >= b, g, 0.0),
                                                     lambda g, a, b: ops.where(a < b, g, 0.0)))
_ClampMaxBackward1 = node_class("ClampMaxBackward1", (lambda g, a, b: ops.where(a <= b, g, 0.0),
                                                     lambda g, a, b: ops.where(a > b, g, 0.0)))


def _one_sided_clamp(name, side, number_node, tensor_node):
    def op(input, bound, *, out=None) -> Tensor:
        check_tensor(input, name, "input")
        bound = as_operand(bound, name, side)
        with no_grad():
            r = ops.clamp(input, **{side: bound})
        if out is not None:
            return write_out(out, r, name)
        if STATE.enabled:
            if isinstance(bound, Tensor):
                _record_binary(tensor_node, r, input, bound)
            elif input._requires_grad:
                record_pointwise(number_node, r, {"a": input}, (input,), bound=bound)
        return r
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"``clamp(input, {side}={side})`` (``{side}`` a number or a tensor)."
    return declare(op, method=True, inplace=True)


clamp_min = _one_sided_clamp("clamp_min", "min", _ClampMinBackward0, _ClampMinBackward1)
clamp_max = _one_sided_clamp("clamp_max", "max", _ClampMaxBackward0, _ClampMaxBackward1)


__all__ = names_declared_in(__name__)   # every op declared above, with its aliases
