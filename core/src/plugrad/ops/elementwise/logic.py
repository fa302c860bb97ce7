"""Comparisons, logic and bitwise ops (never differentiable), and closeness tests."""

from __future__ import annotations

from ...autograd.grad_mode import no_grad
from ...dtypes import float64, get_default_dtype
from ..declare import declare, names_declared_in
from ..dispatch import cast, check_bool, check_tensor
from ..pointwise import binary
from .unary import abs, isfinite, isnan



def _compare(name, aliases=()):
    return binary(name, result="bool", number_input=False, aliases=aliases,
                  doc=f"Elementwise ``{name}`` comparison with broadcasting; returns a bool tensor.")


eq = _compare("eq")
ne = _compare("ne", ("not_equal",))
lt = _compare("lt", ("less",))
le = _compare("le", ("less_equal",))
gt = _compare("gt", ("greater",))
ge = _compare("ge", ("greater_equal",))
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne
logical_and = _compare("logical_and")
logical_or = _compare("logical_or")
logical_xor = _compare("logical_xor")


def _bitwise(name):
    def check(a, b, cd):
        if cd.is_floating_point:
            raise RuntimeError(f"\"{name}_cpu\" not implemented for '{cd.name.capitalize()}': bitwise ops need "
                               f"integer or bool tensors")
    return binary(name, check=check, doc=f"Elementwise ``{name}`` of integer or bool tensors.")


bitwise_and = _bitwise("bitwise_and")
bitwise_or = _bitwise("bitwise_or")
bitwise_xor = _bitwise("bitwise_xor")


@declare(method=True)
def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
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
    with no_grad():
        if not input._dtype.is_floating_point:   # integers are close within the tolerances too, as in PyTorch
            wide = float64 if float64 in input._backend.dtypes else get_default_dtype()
            input, other = cast(input, wide), cast(other, wide)
        diff = abs(input - other)
        close = eq(input, other) | (isfinite(diff) & (diff <= atol + rtol * abs(other)))
        if equal_nan:
            close = close | (isnan(input) & isnan(other))
    return close


@declare(method=True)
def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    """True when every element is close (see ``isclose``)."""
    check_tensor(input, "allclose", "input")
    check_tensor(other, "allclose", "other")
    if type(equal_nan) is not bool:
        check_bool(equal_nan, "allclose", "equal_nan")
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


@declare(method=True)
def equal(input, other) -> bool:
    """True when both tensors have the same shape and the same values."""
    check_tensor(input, "equal", "input")
    check_tensor(other, "equal", "other")
    if input._backend is not other._backend:
        raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two devices, "
                           f"{input.device} and {other.device}! (in equal)")
    if input._shape != other._shape:
        return False
    return bool(eq(input, other).all())


__all__ = names_declared_in(__name__)   # every op declared above, with its aliases
