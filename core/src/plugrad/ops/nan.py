"""Ops that treat NaN as missing data: ``nan_to_num`` (replace NaN and infinities),
``nansum`` and ``nanmean`` (reduce as if the NaNs were absent).

Compositions of ``isnan``/``masked_fill``/``sum`` and division, so every device runs them
without a kernel; ``nan_to_num`` and ``nansum`` record PyTorch's nodes
(``NanToNumBackward0``, ``NansumBackward0``: the gradient is zero where the input was
not a finite number, or was NaN), ``nanmean`` ends in a division as PyTorch's does.
"""

from __future__ import annotations

import math
import sys

from ..autograd.grad_mode import STATE, no_grad
from ..autograd.graph import Node, record
from ..dtypes import bfloat16, float16, float32, int64
from ..tensor import Tensor
from .checks import check_bool, check_tensor, type_name
from .declare import declare, names_declared_in
from .dispatch import write_out
from .indexing import masked_fill
from .reduction import _expand_back, reduce_axes, sum as _sum

#: the largest finite value of each floating dtype: where nan_to_num puts +-inf by default
_LARGEST = {float16: 65504.0, bfloat16: (2 - 2 ** -7) * 2.0 ** 127, float32: (2 - 2 ** -23) * 2.0 ** 127}


def _float_arg(value, fname, name):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{fname}(): argument '{name}' must be float, not {type(value).__name__}")
    return float(value)


class NanToNumBackward0(Node):
    """d nan_to_num(a) = g * isfinite(a) (a NaN or infinite g stays NaN there, as in PyTorch)"""

    def backward(self, g):
        (x,) = self.saved_tensors
        return (g * x.isfinite(),)


@declare(method=True, inplace=True)
def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None) -> Tensor:
    """``input`` with NaN replaced by ``nan``, +inf by ``posinf`` and -inf by ``neginf``
    (by default the largest and the lowest finite value of the dtype). Integer and bool
    tensors have neither and come back as a copy."""
    check_tensor(input, "nan_to_num", "input")
    nan = _float_arg(nan, "nan_to_num", "nan")
    posinf = _float_arg(posinf, "nan_to_num", "posinf")
    neginf = _float_arg(neginf, "nan_to_num", "neginf")
    if not input._dtype.is_floating_point:
        r = input.clone()
        return r if out is None else write_out(out, r, "nan_to_num")
    largest = _LARGEST.get(input._dtype, sys.float_info.max)

    def held(v):    # a value past the dtype's range rounds to an infinity, as a cast does
        return math.copysign(math.inf, v) if abs(v) > largest else v
    x = input.detach()
    with no_grad():
        r = masked_fill(x, x.isnan(), 0.0 if nan is None else held(nan))
        r = masked_fill(r, x == math.inf, largest if posinf is None else held(posinf))
        r = masked_fill(r, x == -math.inf, -largest if neginf is None else held(neginf))
    if STATE.enabled and input._requires_grad:
        node = NanToNumBackward0()
        node.save(input)
        record(node, (input,), r)
    return r if out is None else write_out(out, r, "nan_to_num")


class NansumBackward0(Node):
    """d nansum(a) = g broadcast back, times 0 where a was NaN (so that an infinite g, as
    nanmean's of an all-NaN slice, gives NaN there, as in PyTorch)"""
    __slots__ = ("axes", "keepdim")

    def backward(self, g):
        (x,) = self.saved_tensors
        return (_expand_back(g, x._shape, self.axes, self.keepdim) * ~x.isnan(),)


@declare(method=True)
def nansum(input, dim=None, keepdim=False, *, dtype=None, out=None) -> Tensor:
    """``sum`` with NaNs counted as zero (integers and bools sum in int64)."""
    check_tensor(input, "nansum", "input")
    if type(keepdim) is not bool:
        check_bool(keepdim, "nansum", "keepdim")
    if not input._dtype.is_floating_point:
        return _sum(input, dim, keepdim, dtype=dtype, out=out)
    axes = reduce_axes(dim, input.dim(), "nansum")
    x = input.detach()
    with no_grad():
        r = _sum(masked_fill(x, x.isnan(), 0), axes, keepdim, dtype=dtype)
    if STATE.enabled and input._requires_grad and r._dtype.is_floating_point:
        node = NansumBackward0()
        node.axes, node.keepdim = axes, keepdim
        node.save(input)
        record(node, (input,), r)
    return r if out is None else write_out(out, r, "nansum")


@declare(method=True)
def nanmean(input, dim=None, keepdim=False, *, dtype=None, out=None) -> Tensor:
    """``mean`` of the elements that are not NaN (NaN where every element is)."""
    check_tensor(input, "nanmean", "input")
    if not input._dtype.is_floating_point:
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex dtype but got "
                           f"{type_name(input._dtype)}")
    count = _sum(~input.detach().isnan(), dim, keepdim, dtype=int64)
    r = nansum(input, dim, keepdim, dtype=dtype) / count
    return r if out is None else write_out(out, r, "nanmean")


__all__ = names_declared_in(__name__)
