"""Special functions: ``erfc``, ``erfinv``, ``lgamma``, ``digamma`` (kernels of interface
1.2), ``polygamma``, ``mvlgamma``, ``logit``, ``sinc``, and the functions only
``plugrad.special`` names (``entr``, ``ndtr``, ``ndtri``, ``log_ndtr``, ``erfcx``).

The four kernels are table lines (``pointwise.unary``). The rest are compositions of
existing ops (every device has them without a kernel of its own); each runs untracked
and records a node with PyTorch's ``grad_fn`` name, whose backward is a formula in
plugrad ops (so it is differentiable again). The binary special functions are in
``special_binary``, the Bessel functions in ``bessel``, ``frexp``/``nextafter`` in
``floatbits``."""

from __future__ import annotations

import math

from ...autograd.grad_mode import STATE, no_grad
from ...autograd.graph import Node, record
from ...layout import check_size
from ...optable import ops
from ...tensor import Tensor
from ..declare import declare, names_declared_in
from ..dispatch import check_int, write_out
from ..forms import general_inplace
from ..pointwise import unary
from .unary import F
from .special_common import _LN2, _SQRT_PI, _float, _result, _unary_composite

erfc = unary("erfc", result=F, grad=lambda g, x: g * (-2 / _SQRT_PI) * ops.exp(-x * x))
erfinv = unary("erfinv", result=F, grad=lambda g, result: g * (_SQRT_PI / 2) * ops.exp(result * result))
lgamma = unary("lgamma", result=F, grad=lambda g, x: g * digamma(x))
digamma = unary("digamma", result=F, grad=lambda g, x: g * polygamma(1, x))


# ---- polygamma ------------------------------------------------------------------------------------

#: terms summed before the asymptotic series, which is then evaluated at z = x + shift with
#: z >= _SHIFT (more terms for negative x, up to _MAX_SHIFT)
_SHIFT = 12
_MAX_SHIFT = 512
#: Bernoulli numbers B_2, B_4, ..., B_16
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510)


def _factorial(k: int) -> float:
    """``k!`` as a float: exact up to 170!, inf beyond (where a double overflows), so that a
    huge order costs nothing instead of computing a number of billions of digits."""
    return float(math.factorial(k)) if k <= 170 else math.inf


def _polygamma_positive_order(n: int, x: Tensor) -> Tensor:
    """``psi^(n)(x)`` for n >= 1: ``(-1)^(n+1) n! sum_k 1/(x+k)^(n+1)``, the first terms
    summed until ``z = x + shift`` is at least ``_SHIFT`` for every element (the series
    holds for every x off the poles) and the rest from the asymptotic series at z:
    ``(n-1)!/z^n + n!/(2 z^(n+1)) + sum_k B_2k (2k+n-1)!/((2k)! z^(2k+n))``. Beyond
    n = 170, where n! overflows a double, the result is PyTorch's: an infinity, or NaN
    where the zeta sum underflows."""
    lowest = float(ops.where(ops.isnan(x), 0.0, x).amin()) if x.numel() else 0.0
    shift = _SHIFT if not lowest < 0 else _SHIFT + math.ceil(min(-lowest, _MAX_SHIFT - _SHIFT))
    total = x * 0
    for k in range(shift):
        total = total + (x + k) ** -(n + 1)
    if n > 170:  # n! overflows a double: PyTorch's n! zeta(n+1, x) is then +-inf, or NaN where zeta underflows
        return ops.where(total > 0, math.inf if n % 2 else -math.inf, math.nan)
    z = x + shift
    inv = 1 / z
    # (n-1)!/z^n times (1 + n/(2z) + sum_k B_2k C(2k+n-1, 2k)/z^2k): no factorial beyond (n-1)!
    series = 1 + (n / 2) * inv
    for k, b in enumerate(_BERNOULLI, start=1):
        series = series + (b * math.comb(2 * k + n - 1, 2 * k)) * inv ** (2 * k)
    tail = _factorial(n - 1) * inv ** n * series
    scale = _factorial(n) * (1 if n % 2 else -1)
    return (total * scale) + tail * (1 if n % 2 else -1)


def _trigamma(x: Tensor) -> Tensor:
    """``psi'(x)``, by reflection below 1/2: ``psi'(x) = pi^2 / sin^2(pi x) - psi'(1 - x)``."""
    low = x < 0.5
    y = ops.where(low, 1 - x, x)
    s = _polygamma_positive_order(1, y)
    r = ops.where(low, (math.pi ** 2) / ops.sin(math.pi * x) ** 2 - s, s)
    return ops.where(x == math.inf, 0.0, r)


class PolygammaBackward0(Node):
    """d polygamma(n, x) = g * polygamma(n + 1, x)"""
    __slots__ = ("n",)

    def backward(self, g):
        (x,) = self.saved_tensors
        return (g * polygamma(self.n + 1, x),)


@declare
def polygamma(n, input, *, out=None) -> Tensor:
    """The ``n``-th derivative of ``digamma`` (``n = 0``: digamma itself)."""
    n = check_int(n, "polygamma", "n")
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    x = _float(input, "polygamma")
    with no_grad():
        if n == 0:
            r = digamma(x)
        elif n == 1:
            r = _trigamma(x)
        else:   # at -inf PyTorch gives the sign of the series' terms times inf
            r = ops.where(x == -math.inf, (-1) ** (n + 1) * math.inf, _polygamma_positive_order(n, x))
    node = PolygammaBackward0()
    node.n = n
    return _unary_composite(node, input, r, out, "polygamma", input)


def _polygamma_method(input, n) -> Tensor:
    """``Tensor.polygamma(n)``: the tensor is the function's second argument."""
    return polygamma(n, input)


declare(_polygamma_method, name="_polygamma_method", public=False, methods=("polygamma",))
declare(general_inplace(_polygamma_method, "polygamma_"), name="polygamma_", public=False, methods=("polygamma_",))


def _mvlgamma_arguments(x: Tensor, p: int) -> Tensor:
    """``x[..., None] - j/2`` for j = p-1, ..., 0, as PyTorch forms them (one more dim of
    size p, so an order too large for memory is a storage-size RuntimeError, not a loop)."""
    check_size(tuple(x._shape) + (p,), x._dtype.itemsize)
    return x.unsqueeze(-1) + ops.arange(-p * 0.5 + 0.5, 0.5, 0.5, dtype=x._dtype, device=x.device)


class MvlgammaBackward0(Node):
    """d mvlgamma(x, p) = g * sum_j digamma(x - j/2)"""
    __slots__ = ("p",)

    def backward(self, g):
        (x,) = self.saved_tensors
        return (g * digamma(_mvlgamma_arguments(x, self.p)).sum(-1),)


@declare(method=True, inplace=True)
def mvlgamma(input, p, *, out=None) -> Tensor:
    """The log of the multivariate gamma function of dimension ``p``:
    ``p (p - 1) / 4 log(pi) + sum_{j<p} lgamma(x - j/2)``; every element must be above
    ``(p - 1) / 2`` for a finite result (below, as in PyTorch, the lgamma terms give
    what they give: inf at their poles)."""
    p = check_int(p, "mvlgamma", "p")
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    x = _float(input, "mvlgamma")
    with no_grad():
        r = lgamma(_mvlgamma_arguments(x, p)).sum(-1) + p * (p - 1) / 4 * math.log(math.pi)
    node = MvlgammaBackward0()
    node.p = p
    return _unary_composite(node, input, r, out, "mvlgamma", input)


# ---- logit and sinc ---------------------------------------------------------------------------------

class LogitBackward0(Node):
    """d logit(x) = g / (x (1 - x)), 0 outside [eps, 1 - eps] when eps is given"""
    __slots__ = ("eps",)

    def backward(self, g):
        (x,) = self.saved_tensors
        grad = g / (x * (1 - x))
        if self.eps is None:
            return (grad,)
        return (ops.where((x < self.eps) | (x > 1 - self.eps), 0.0, grad),)


@declare(method=True, inplace=True)
def logit(input, eps=None, *, out=None) -> Tensor:
    """``log(x / (1 - x))``, with ``x`` clamped to ``[eps, 1 - eps]`` when ``eps`` is given."""
    if eps is not None and not isinstance(eps, (int, float)):
        raise TypeError(f"logit(): argument 'eps' must be float, not {type(eps).__name__}")
    x = _float(input, "logit")
    with no_grad():
        z = x if eps is None else ops.clamp(x, eps, 1 - eps)
        r = ops.log(z / (1 - z))
    node = LogitBackward0()
    node.eps = eps
    return _unary_composite(node, input, r, out, "logit", input)


def _sinc_forward(x: Tensor) -> Tensor:
    px = x * math.pi
    return ops.where(x == 0, 1.0, ops.sin(px) / px)


class SincBackward0(Node):
    """d sinc(x) = g (cos(pi x) - sinc(x)) / x, 0 at x = 0"""

    def backward(self, g):
        (x,) = self.saved_tensors
        safe = ops.where(x == 0, 1.0, x)
        return (ops.where(x == 0, 0.0, g * (ops.cos(safe * math.pi) - _sinc_forward(safe)) / safe),)


@declare(method=True, inplace=True)
def sinc(input, *, out=None) -> Tensor:
    """The normalized sinc, ``sin(pi x) / (pi x)``, 1 at 0."""
    x = _float(input, "sinc")
    with no_grad():
        r = _sinc_forward(x)
    return _unary_composite(SincBackward0(), input, r, out, "sinc", input)


# ---- plugrad.special's own functions -------------------------------------------------------------

class SpecialEntrBackward0(Node):
    """d (-x log x) = -g (1 + log x)"""

    def backward(self, g):
        (x,) = self.saved_tensors
        return (g * -(1 + ops.log(x)),)


def entr(input, *, out=None) -> Tensor:
    """Elementwise entropy ``-x log(x)``: 0 at 0, -inf below 0."""
    x = _float(input, "entr")
    with no_grad():
        r = ops.where(x > 0, -x * ops.log(ops.where(x > 0, x, 1.0)), ops.where(x == 0, 0.0, -math.inf))
        r = ops.where(ops.isnan(x), x, r)
    return _unary_composite(SpecialEntrBackward0(), input, r, out, "entr", input)


class MulBackward1(Node):
    """d ndtr(x) = g exp(-x^2 / 2) / sqrt(2 pi) (PyTorch's ndtr ends in a product by the
    number 1/2, whose node this is)"""

    def backward(self, g):
        (x,) = self.saved_tensors
        return (g * ops.exp(x * x * -0.5) * (1 / math.sqrt(2 * math.pi)),)


def ndtr(input, *, out=None) -> Tensor:
    """The standard normal distribution function, ``(1 + erf(x / sqrt(2))) / 2``, from
    ``erfc`` on the left so that small values keep their precision."""
    x = _float(input, "ndtr")
    with no_grad():
        t = x * (1 / math.sqrt(2))
        r = ops.where(t < 0, erfc(-t) * 0.5, 1 - erfc(t) * 0.5)
    return _unary_composite(MulBackward1(), input, r, out, "ndtr", input)


class SpecialNdtriBackward0(Node):
    """d ndtri(p) = g sqrt(2 pi) exp(ndtri(p)^2 / 2)"""

    def backward(self, g):
        (result,) = self.saved_tensors
        result = self.output_alias(result)
        return (g * math.sqrt(2 * math.pi) * ops.exp(result * result * 0.5),)


def ndtri(input, *, out=None) -> Tensor:
    """The inverse of ``ndtr``: ``sqrt(2) erfinv(2p - 1)``."""
    x = _float(input, "ndtri")
    with no_grad():
        r = _result(erfinv(2 * x - 1) * math.sqrt(2), input)
    if STATE.enabled and input._requires_grad:
        node = SpecialNdtriBackward0()
        node.save(r.detach())
        record(node, (input,), r)
    return r if out is None else write_out(out, r, "ndtri")


#: above this x, erfcx from its asymptotic series (exp(x^2) overflows float32 past 9.4), with
#: enough terms for double precision there
_ERFCX_SPLIT = 8.0
_ERFCX_TERMS = 24


class SpecialErfcxBackward0(Node):
    """d erfcx(x) = g (2 x erfcx(x) - 2 / sqrt(pi))"""

    def backward(self, g):
        x, result = self.saved_tensors
        return (g * (2 * x * self.output_alias(result) - 2 / _SQRT_PI),)


def erfcx(input, *, out=None) -> Tensor:
    """The scaled complementary error function ``exp(x^2) erfc(x)``: from ``erfc`` up to
    x = 8, from the asymptotic series ``1/(x sqrt(pi)) sum_k (-1)^k (2k-1)!! / (2x^2)^k``
    beyond (where erfc underflows and exp(x^2) overflows)."""
    x = _float(input, "erfcx")
    with no_grad():
        far = x > _ERFCX_SPLIT
        xn = ops.where(far, 0.0, x)
        near = ops.exp(xn * xn) * erfc(xn)
        xf = ops.where(far, x, _ERFCX_SPLIT + 1)
        q = 1 / (2 * xf * xf)
        term = ops.ones_like(xf)
        total = term
        for k in range(1, _ERFCX_TERMS):
            term = term * q * -(2 * k - 1)
            total = total + term
        r = _result(ops.where(far, total / (xf * _SQRT_PI), near), input)
    if STATE.enabled and input._requires_grad:
        node = SpecialErfcxBackward0()
        node.save(input, r.detach())
        record(node, (input,), r)
    return r if out is None else write_out(out, r, "erfcx")


class SpecialLogNdtrBackward0(Node):
    """d log(ndtr(x)) = g exp(-x^2/2 - log_ndtr(x)) / sqrt(2 pi)"""

    def backward(self, g):
        x, result = self.saved_tensors
        result = self.output_alias(result)
        return (g * ops.exp(-x * x * 0.5 - result) / math.sqrt(2 * math.pi),)


def log_ndtr(input, *, out=None) -> Tensor:
    """``log(ndtr(x))``, from ``erfc`` so that it keeps its precision far left (where
    ``ndtr`` rounds to 0) and right (where it rounds to 1: ``log1p(-ndtr(-x))``)."""
    x = _float(input, "log_ndtr")
    with no_grad():
        t = x * (1 / math.sqrt(2))
        left = ops.log(erfc(-t) * 0.5)
        right = ops.log1p(erfc(t) * -0.5)
        # far left, erfc(-t) underflows: log(erfc(u)) ~ -u^2 - log(u sqrt(pi)) + log(1 - 1/(2u^2) + 3/(4u^4))
        u = ops.where(t < -20, -t, 20.0)
        u2 = u * u
        asym = -u2 - ops.log(u * _SQRT_PI) + ops.log1p(-1 / (2 * u2) + 3 / (4 * u2 * u2)) - _LN2
        r = _result(ops.where(t < -20, asym, ops.where(x < 0, left, right)), input)
    if STATE.enabled and input._requires_grad:
        node = SpecialLogNdtrBackward0()
        node.save(input, r.detach())
        record(node, (input,), r)
    return r if out is None else write_out(out, r, "log_ndtr")


__all__ = names_declared_in(__name__)   # every op declared above, with its aliases
