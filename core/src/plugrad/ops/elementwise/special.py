"""Special functions: ``erfc``, ``erfinv``, ``lgamma``, ``digamma`` (kernels of interface
1.2), ``polygamma``, ``mvlgamma``, ``logit``, ``sinc``, ``xlogy``, ``logaddexp``,
``logaddexp2``, ``hypot``, and the functions only ``plugrad.special`` names
(``xlog1py``, ``entr``, ``ndtr``, ``ndtri``, ``log_ndtr``).

The four kernels are table lines (``pointwise.unary``). The rest are compositions of
existing ops (every device has them without a kernel of its own); each runs untracked
and records a node with PyTorch's ``grad_fn`` name, whose backward is a formula in
plugrad ops (so it is differentiable again).
"""

from __future__ import annotations

import math

from ...autograd.grad_mode import STATE, no_grad
from ...autograd.graph import Node, record
from ...dtypes import get_default_dtype, opmath
from ...optable import ops
from ...tensor import Tensor
from ..declare import declare, names_declared_in
from ..dispatch import as_operand, cast, check_int, check_same_device, check_tensor, write_out
from ..forms import general_inplace
from ..pointwise import result_dtype, unary
from .unary import F

_SQRT_PI = math.sqrt(math.pi)
_LN2 = math.log(2.0)

erfc = unary("erfc", result=F, grad=lambda g, x: g * (-2 / _SQRT_PI) * ops.exp(-x * x))
erfinv = unary("erfinv", result=F, grad=lambda g, result: g * (_SQRT_PI / 2) * ops.exp(result * result))
lgamma = unary("lgamma", result=F, grad=lambda g, x: g * digamma(x))
digamma = unary("digamma", result=F, grad=lambda g, x: g * polygamma(1, x))


def _wide(d):
    """The dtype a composition computes in: float16 and bfloat16 in float32, as PyTorch's
    kernels do."""
    return opmath(d)


def _math_dtype(input: Tensor):
    """The result dtype of a math function: integers and bools give the default float dtype."""
    return input._dtype if input._dtype.is_floating_point else get_default_dtype()


def _float(input: Tensor, fname: str) -> Tensor:
    """``input`` detached, in the dtype its result is computed in."""
    check_tensor(input, fname, "input")
    x = input.detach()
    wide = _wide(_math_dtype(x))
    return x if x._dtype is wide else cast(x, wide)


def _result(r: Tensor, input: Tensor) -> Tensor:
    """A composition's result in the op's result dtype (float16 back from float32)."""
    d = _math_dtype(input)
    return r if r._dtype is d else cast(r, d)


def _unary_composite(node, input: Tensor, r: Tensor, out, fname: str, *saved) -> Tensor:
    r = _result(r, input)
    if STATE.enabled and input._requires_grad:
        node.save(*saved)
        record(node, (input,), r)
    return r if out is None else write_out(out, r, fname)


# ---- polygamma ------------------------------------------------------------------------------------

#: terms summed before the asymptotic series, which is then evaluated at x + _SHIFT
_SHIFT = 12
#: Bernoulli numbers B_2, B_4, ..., B_16
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510)


def _polygamma_positive_order(n: int, x: Tensor) -> Tensor:
    """``psi^(n)(x)`` for n >= 1: ``(-1)^(n+1) n! sum_k 1/(x+k)^(n+1)``, the first
    ``_SHIFT`` terms summed and the rest from the asymptotic series at ``z = x + _SHIFT``:
    ``(n-1)!/z^n + n!/(2 z^(n+1)) + sum_k B_2k (2k+n-1)!/((2k)! z^(2k+n))``."""
    total = x * 0
    for k in range(_SHIFT):
        total = total + (x + k) ** -(n + 1)
    z = x + _SHIFT
    inv = 1 / z
    tail = math.factorial(n - 1) * inv ** n + math.factorial(n) / 2 * inv ** (n + 1)
    for k, b in enumerate(_BERNOULLI, start=1):
        tail = tail + (b * math.factorial(2 * k + n - 1) / math.factorial(2 * k)) * inv ** (2 * k + n)
    scale = math.factorial(n) * (1 if n % 2 else -1)
    return (total * scale) + tail * (1 if n % 2 else -1)


def _trigamma(x: Tensor) -> Tensor:
    """``psi'(x)``, by reflection below 1/2: ``psi'(x) = pi^2 / sin^2(pi x) - psi'(1 - x)``."""
    low = x < 0.5
    y = ops.where(low, 1 - x, x)
    s = _polygamma_positive_order(1, y)
    return ops.where(low, (math.pi ** 2) / ops.sin(math.pi * x) ** 2 - s, s)


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
        else:
            r = _polygamma_positive_order(n, x)
    node = PolygammaBackward0()
    node.n = n
    return _unary_composite(node, input, r, out, "polygamma", input)


def _polygamma_method(input, n) -> Tensor:
    """``Tensor.polygamma(n)``: the tensor is the function's second argument."""
    return polygamma(n, input)


declare(_polygamma_method, name="_polygamma_method", public=False, methods=("polygamma",))
declare(general_inplace(_polygamma_method, "polygamma_"), name="polygamma_", public=False, methods=("polygamma_",))


class MvlgammaBackward0(Node):
    """d mvlgamma(x, p) = g * sum_j digamma(x - j/2)"""
    __slots__ = ("p",)

    def backward(self, g):
        (x,) = self.saved_tensors
        total = digamma(x)
        for j in range(1, self.p):
            total = total + digamma(x - j / 2)
        return (g * total,)


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
        r = lgamma(x)
        for j in range(1, p):
            r = r + lgamma(x - j / 2)
        r = r + p * (p - 1) / 4 * math.log(math.pi)
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


# ---- binary compositions ---------------------------------------------------------------------------

def _binary_operands(input, other, fname, numbers=True, integers=True):
    """``(a, b, compute dtype)``: tensors of the promoted float dtype on one device (a
    number operand as a 0-d tensor), detached; ``numbers``/``integers``: whether PyTorch
    takes a number operand / integer tensors."""
    tensors = [t for t in (input, other) if isinstance(t, Tensor)]
    if not tensors or (not numbers and len(tensors) < 2):
        bad, name, pos = (other, "other", 2) if isinstance(input, Tensor) else (input, "input", 1)
        raise TypeError(f"{fname}(): argument '{name}' (position {pos}) must be Tensor, not {type(bad).__name__}")
    input = input if isinstance(input, Tensor) else as_operand(input, fname, "input")
    other = other if isinstance(other, Tensor) else as_operand(other, fname)
    if isinstance(input, Tensor) and isinstance(other, Tensor) and other._backend is not input._backend:
        other = check_same_device(input, other, fname)
    cd = result_dtype(input, other)
    if not cd.is_floating_point:
        if not integers:
            raise NotImplementedError(f"\"{fname}\" not implemented for '{cd.name.capitalize()}': {fname} needs "
                                      f"floating tensors")
        cd = get_default_dtype()
    device, wide = tensors[0].device, _wide(cd)

    def operand(v):
        if isinstance(v, Tensor):
            v = v.detach()
            return v if v._dtype is wide else cast(v, wide)
        return ops.tensor(v, dtype=wide, device=device)
    return operand(input), operand(other), cd


def _narrow(cd, *tensors):
    """Tensors computed in the wide dtype, back in the result dtype ``cd``."""
    return tuple(t if t._dtype is cd else cast(t, cd) for t in tensors)


def _record_binary(nodes, input, other, r, a, b, out, fname):
    """Record ``r = op(input, other)`` with ``nodes[0]`` for two tensors, ``nodes[1]``
    when ``input`` is a number, ``nodes[2]`` when ``other`` is (one edge then)."""
    if STATE.enabled:
        a_t, b_t = isinstance(input, Tensor), isinstance(other, Tensor)
        if (a_t and input._requires_grad) or (b_t and other._requires_grad):
            if a_t and b_t:
                node, edges = nodes[0](), (input, other)
            elif b_t:
                node, edges = nodes[1](), (other,)
            else:
                node, edges = nodes[2](), (input,)
            # the tensors themselves (so a double backward reaches them), numbers as 0-d tensors
            node.save(input if a_t else a, other if b_t else b)
            record(node, edges, r)
    return r if out is None else write_out(out, r, fname)


def _xlogy_forward(a, b, log):
    """``a * log(b)`` with 0 where ``a == 0`` (unless ``b`` is NaN)."""
    return ops.where((a == 0) & ~ops.isnan(b), 0.0, a * log(b))


def _log1p_xlog(a, b):
    return _xlogy_forward(a, b, ops.log1p)


def _xlog_grads(log, shift):
    """The two partial derivatives of ``a log(b + shift)``, as PyTorch takes them:
    ``xlog(g, b)``, 0 where ``a == 0`` and ``b + shift <= 0``; and ``g a / (b + shift)``."""
    def grad_a(g, a, b):
        return ops.where((a == 0) & (b <= -shift), 0.0, _xlogy_forward(g, b, log))

    def grad_b(g, a, b):
        return g * a / (b + shift)
    return grad_a, grad_b


def _binary_nodes(prefix, grad_a, grad_b):
    """PyTorch's three node classes of a binary op taking numbers: both tensors (0), a
    number input (1), a number other (2). Each saves (a, b) with the number as a 0-d tensor."""
    def backward0(self, g):
        a, b = self.saved_tensors
        needs = [e[0] is not None for e in self.next_functions]
        return (grad_a(g, a, b) if needs[0] else None, grad_b(g, a, b) if needs[1] else None)

    def backward1(self, g):
        a, b = self.saved_tensors
        return (grad_b(g, a, b),)

    def backward2(self, g):
        a, b = self.saved_tensors
        return (grad_a(g, a, b),)

    return tuple(type(f"{prefix}Backward{i}", (Node,), {"backward": fn, "__doc__": f"d {prefix.lower()} (variant {i})"})
                 for i, fn in enumerate((backward0, backward1, backward2)))


_XLOGY_NODES = _binary_nodes("Xlogy", *_xlog_grads(ops.log, 0))
_XLOG1PY_NODES = _binary_nodes("SpecialXlog1Py", *_xlog_grads(ops.log1p, 1))


@declare(method=True, inplace=True)
def xlogy(input, other, *, out=None) -> Tensor:
    """``input * log(other)``, 0 where ``input`` is 0 (unless ``other`` is NaN); either
    may be a number."""
    a, b, cd = _binary_operands(input, other, "xlogy")
    with no_grad():
        r = _xlogy_forward(a, b, ops.log)
    return _record_binary(_XLOGY_NODES, input, other, *_narrow(cd, r, a, b), out, "xlogy")


def xlog1py(input, other, *, out=None) -> Tensor:
    """``input * log1p(other)``, 0 where ``input`` is 0 (unless ``other`` is NaN)."""
    a, b, cd = _binary_operands(input, other, "xlog1py")
    with no_grad():
        r = _log1p_xlog(a, b)
    return _record_binary(_XLOG1PY_NODES, input, other, *_narrow(cd, r, a, b), out, "xlog1py")


def _logaddexp_forward(a, b, exp, log1p, scale):
    m = ops.maximum(a, b)
    r = m + log1p(exp(-ops.abs(a - b))) / scale
    return ops.where(ops.isinf(a) & (a == b), a, r)


class LogaddexpBackward0(Node):
    """d log(e^a + e^b) = (g / (1 + e^(b - a)), g / (1 + e^(a - b)))"""

    def backward(self, g):
        a, b = self.saved_tensors
        return g / (1 + ops.exp(b - a)), g / (1 + ops.exp(a - b))


class Logaddexp2Backward0(Node):
    """d log2(2^a + 2^b) = (g / (1 + 2^(b - a)), g / (1 + 2^(a - b)))"""

    def backward(self, g):
        a, b = self.saved_tensors
        return g / (1 + ops.exp2(b - a)), g / (1 + ops.exp2(a - b))


class HypotBackward0(Node):
    """d sqrt(a^2 + b^2) = (g a / result, g b / result)"""

    def backward(self, g):
        a, b, result = self.saved_tensors
        result = self.output_alias(result)
        return g * a / result, g * b / result


def _tensor_pair(input, other, fname, node_cls, forward, out, save_result=False):
    a, b, cd = _binary_operands(input, other, fname, numbers=False, integers=False)
    with no_grad():
        r, a, b = _narrow(cd, forward(a, b), a, b)
    if STATE.enabled and (input._requires_grad or other._requires_grad):
        node = node_cls()
        saved = (input, other, r.detach()) if save_result else (input, other)
        node.save(*saved)
        record(node, (input, other), r)
    return r if out is None else write_out(out, r, fname)


@declare(method=True)
def logaddexp(input, other, *, out=None) -> Tensor:
    """``log(exp(input) + exp(other))`` without overflow."""
    return _tensor_pair(input, other, "logaddexp", LogaddexpBackward0,
                        lambda a, b: _logaddexp_forward(a, b, ops.exp, ops.log1p, 1.0), out)


@declare(method=True)
def logaddexp2(input, other, *, out=None) -> Tensor:
    """``log2(2**input + 2**other)`` without overflow."""
    return _tensor_pair(input, other, "logaddexp2", Logaddexp2Backward0,
                        lambda a, b: _logaddexp_forward(a, b, ops.exp2, ops.log1p, _LN2), out)


def _hypot_forward(a, b):
    aa, bb = ops.abs(a), ops.abs(b)
    big, small = ops.maximum(aa, bb), ops.minimum(aa, bb)
    ratio = small / ops.where(big == 0, 1.0, big)
    r = big * ops.sqrt(1 + ratio * ratio)
    return ops.where(ops.isinf(aa) | ops.isinf(bb), math.inf, r)


@declare(method=True, inplace=True)
def hypot(input, other, *, out=None) -> Tensor:
    """``sqrt(input**2 + other**2)`` without overflow (inf when either is infinite)."""
    return _tensor_pair(input, other, "hypot", HypotBackward0, _hypot_forward, out, save_result=True)


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
