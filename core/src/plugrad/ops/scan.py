"""Running extremes and running log-sum-exp along a dim: cummax, cummin, logcumsumexp.

The kernel interface's scans are sums and products only, so these are compositions:
a Hillis-Steele scan, ``log2(n)`` rounds in which each element combines with the one
``2**k`` before it, each round a handful of elementwise primitives on every device.
"""

from __future__ import annotations

from ..autograd.grad_mode import STATE, no_grad
from ..autograd.graph import Node, record
from ..creation import arange, zeros
from ..dtypes import bool_, int64
from ..layout import numel
from ..optable import ops
from ..tensor import Tensor
from .checks import check_dim, check_int, check_tensor, type_name
from .declare import declare, names_declared_in
from .dispatch import write_out
from .reduction import _values_indices_type

__all__ = names_declared_in(__name__)

_RESULTS = {name: _values_indices_type(name) for name in ("cummax", "cummin")}


def _hillis_steele(state, d, n, combine):
    """Inclusive scan along ``d`` of a tuple of tensors: ``combine(earlier, later)`` gives
    the combined tuple of an earlier prefix and the later elements."""
    shift = 1
    while shift < n:
        head = tuple(t.narrow(d, 0, shift) for t in state)
        earlier = tuple(t.narrow(d, 0, n - shift) for t in state)
        later = tuple(t.narrow(d, shift, n - shift) for t in state)
        state = tuple(ops.cat([h, c], d) for h, c in zip(head, combine(earlier, later)))
        shift *= 2
    return state


class CummaxBackward0(Node):
    """d cummax(a) = g summed into the positions the running maxima came from"""
    __slots__ = ("shape", "dim")

    def backward(self, g):
        (indices,) = self.saved_tensors
        if not self.shape:
            return (g,)
        return (ops.scatter_add(zeros(self.shape, dtype=g._dtype, device=g.device), self.dim, indices, g),)


class CumminBackward0(CummaxBackward0):
    """d cummin(a) = g summed into the positions the running minima came from"""


def _cumextreme(kind, node_cls, input, dim, out):
    check_tensor(input, kind, "input")
    d = check_dim(check_int(dim, kind, "dim"), input)
    with no_grad():
        x = input.detach()
        if not x._shape or numel(x._shape) == 0:
            values, indices = x.clone(), zeros(x._shape, dtype=int64, device=x.device)
        else:
            n = x._shape[d]
            shape = [1] * x.dim()
            shape[d] = n
            positions = arange(n, device=x.device).reshape(shape).expand(x._shape)
            floating = x._dtype.is_floating_point

            def combine(earlier, later):
                (va, ia), (vb, ib) = earlier, later
                # the later element wins ties (PyTorch reports the last index) and NaN; an
                # earlier NaN stays, since no comparison with it is true
                wins = vb >= va if kind == "cummax" else vb <= va
                if x._dtype is bool_:
                    wins = ops.logical_or(vb, ops.logical_not(va)) if kind == "cummax" else \
                        ops.logical_or(ops.logical_not(vb), va)
                if floating:
                    wins = ops.logical_or(ops.logical_and(wins, ops.logical_not(ops.isnan(va))), ops.isnan(vb))
                return ops.where(wins, vb, va), ops.where(wins, ib, ia)
            values, indices = _hillis_steele((x, positions), d, n, combine)
            values, indices = values.contiguous(), indices.contiguous()
    if STATE.enabled and input._requires_grad:
        node = node_cls()
        node.shape, node.dim = input._shape, d
        node.save(indices)
        record(node, (input,), values)
    result = _RESULTS[kind](values, indices)
    if out is not None:
        write_out(out[0], values, kind)
        write_out(out[1], indices, kind)
        return _RESULTS[kind](out[0], out[1])
    return result


@declare(method=True)
def cummax(input, dim, *, out=None):
    """``(values, indices)``: the running maximum along ``dim`` and where it was (the last
    position among equal maxima); NaN, once met, stays."""
    return _cumextreme("cummax", CummaxBackward0, input, dim, out)


@declare(method=True)
def cummin(input, dim, *, out=None):
    """``(values, indices)``: the running minimum along ``dim`` and where it was (the last
    position among equal minima); NaN, once met, stays."""
    return _cumextreme("cummin", CumminBackward0, input, dim, out)


def _logaddexp(a, b):
    """``log(exp(a) + exp(b))`` without overflow; -inf with -inf gives -inf, +inf with +inf +inf."""
    hi = ops.maximum(a, b)
    lo = ops.minimum(a, b)
    same_inf = ops.logical_and(ops.isinf(hi), hi == lo)
    return ops.where(same_inf, hi, hi + ops.log1p(ops.exp(lo - hi)))


#: the lowest finite value of each float dtype: the log of a zero weight in logcumsumexp's backward
_LOWEST = {"float16": -65504.0, "bfloat16": -(2 - 2 ** -7) * 2.0 ** 127,
           "float32": -3.4028234663852886e38, "float64": -1.7976931348623157e308}


class LogcumsumexpBackward0(Node):
    """d logcumsumexp(a)_i = sum over j >= i of g_j exp(a_i - r_j), computed in log space for the
    positive and the negative parts of g (PyTorch's formula: itself logcumsumexps, so twice
    differentiable)"""
    __slots__ = ("dim",)

    def backward(self, g):
        x, result = self.saved_tensors
        result = self.output_alias(result)
        if not x._shape or numel(x._shape) == 0:
            return (g,)
        d = self.dim
        lowest = _LOWEST[g._dtype.name]
        log_abs = ops.log(ops.abs(g))

        def part(log_weights):
            # exp(a_i + log of sum_{j >= i} weights_j exp(-r_j)): a reversed running log-sum-exp
            return ops.exp(logcumsumexp((log_weights - result).flip(d), d).flip(d) + x)
        return (part(ops.where(g > 0, log_abs, lowest)) - part(ops.where(g < 0, log_abs, lowest)),)


@declare(method=True)
def logcumsumexp(input, dim, *, out=None) -> Tensor:
    """``log(cumsum(exp(input)))`` along ``dim``, without overflow or underflow."""
    check_tensor(input, "logcumsumexp", "input")
    d = check_dim(check_int(dim, "logcumsumexp", "dim"), input)
    if not input._dtype.is_floating_point:
        raise NotImplementedError(f'"logcumsumexp_out_cpu" not implemented for \'{type_name(input._dtype)}\'')
    with no_grad():
        x = input.detach()
        if not x._shape or numel(x._shape) == 0:
            r = x.clone()
        else:
            (r,) = _hillis_steele((x,), d, x._shape[d], lambda a, b: (_logaddexp(a[0], b[0]),))
            r = r.contiguous()
    if STATE.enabled and input._requires_grad:
        node = LogcumsumexpBackward0()
        node.dim = d
        node.save(input, r.detach())
        record(node, (input,), r)
    return r if out is None else write_out(out, r, "logcumsumexp")
