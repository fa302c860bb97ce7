"""What the compositions of special functions share: their dtype rule (integers in the
default float dtype, float16 computed in float32, as PyTorch's kernels do), operand
conversion, and the recording of a one-input node."""

from __future__ import annotations

import math

from ...autograd.grad_mode import STATE
from ...autograd.graph import record
from ...dtypes import get_default_dtype, opmath
from ...optable import ops
from ...tensor import Tensor
from ..dispatch import as_operand, cast, check_same_device, check_tensor, write_out
from ..pointwise import result_dtype

_SQRT_PI = math.sqrt(math.pi)
_LN2 = math.log(2.0)

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
