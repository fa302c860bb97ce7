"""Binary special functions, composed: ``xlogy`` (and ``plugrad.special.xlog1py``),
``logaddexp``, ``logaddexp2`` and ``hypot``, with PyTorch's nodes (``XlogyBackward0/1/2``
by which operand is a number)."""

from __future__ import annotations

import math

from ...autograd.grad_mode import STATE, no_grad
from ...autograd.graph import Node, record
from ...optable import ops
from ...tensor import Tensor
from ..declare import declare, names_declared_in
from ..dispatch import write_out
from .special_common import _LN2, _binary_operands, _narrow

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


__all__ = names_declared_in(__name__)   # every op declared above, with its aliases
