"""Ops that move elements to other positions without changing them: roll, rot90,
fliplr, flipud. Each is a copy built from slices, ``cat``, ``flip`` and ``transpose``, so
every device has them; roll and rot90 record one node whose backward is the inverse
move, as PyTorch's ``RollBackward0`` and ``Rot90Backward0``."""

from __future__ import annotations

from ..autograd.grad_mode import STATE, no_grad
from ..autograd.graph import Node, record
from ..layout import normalize_dim
from ..optable import ops
from ..tensor import Tensor
from .checks import check_int, check_tensor
from .declare import declare, names_declared_in

__all__ = names_declared_in(__name__)


def _int_tuple(value, fname, argname):
    """An int or a sequence of ints, as a tuple."""
    if isinstance(value, (tuple, list)):
        return tuple(check_int(v, fname, argname) for v in value)
    if type(value) is not int and not (hasattr(value, "__index__") and not isinstance(value, (bool, float))):
        raise TypeError(f"{fname}(): argument '{argname}' must be tuple of ints, not {type(value).__name__}")
    return (check_int(value, fname, argname),)


class RollBackward0(Node):
    """d roll(a, shifts, dims) = roll(g, -shifts, dims)"""
    __slots__ = ("shifts", "dims")

    def backward(self, g):
        return (roll(g, tuple(-s for s in self.shifts), self.dims),)


def _roll_dim(x, shift, d):
    n = x._shape[d]
    if n == 0:
        return x
    shift %= n
    if shift == 0:
        return x
    return ops.cat([x.narrow(d, n - shift, shift), x.narrow(d, 0, n - shift)], d)


@declare(method=True)
def roll(input, shifts, dims=None) -> Tensor:
    """Shift the elements along ``dims`` by ``shifts`` places, wrapping around the end;
    with no ``dims``, along the flattened tensor (then reshaped back)."""
    check_tensor(input, "roll", "input")
    shifts = _int_tuple(shifts, "roll", "shifts")
    dims = () if dims is None else _int_tuple(dims, "roll", "dims")
    if not shifts:
        raise RuntimeError("`shifts` required")
    if dims and len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    if not dims and len(shifts) != 1:
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    nd = input.dim()
    if dims and not nd:
        raise IndexError(f"Dimension specified as {dims[0]} but tensor has no dimensions")
    axes = tuple(normalize_dim(d, nd) for d in dims)
    with no_grad():
        x = input.detach()
        if not axes:
            r = _roll_dim(x.reshape(-1), shifts[0], 0).reshape(x._shape)
        else:
            r = x
            for shift, d in zip(shifts, axes):
                r = _roll_dim(r, shift, d)
        r = r.clone() if r._storage is x._storage else r
    if STATE.enabled and input._requires_grad:
        node = RollBackward0()
        node.shifts, node.dims = shifts, dims
        record(node, (input,), r)
    return r


class Rot90Backward0(Node):
    """d rot90(a, k, dims) = rot90(g, -k, dims)"""
    __slots__ = ("k", "dims")

    def backward(self, g):
        return (rot90(g, -self.k, self.dims),)


@declare(method=True)
def rot90(input, k=1, dims=(0, 1)) -> Tensor:
    """Rotate by 90 degrees ``k`` times in the plane of ``dims``, from the first dim
    towards the second (a copy)."""
    check_tensor(input, "rot90", "input")
    k = check_int(k, "rot90", "k")
    dims = _int_tuple(dims, "rot90", "dims")
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    nd = input.dim()
    if nd < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {nd}")
    d0, d1 = normalize_dim(dims[0], nd), normalize_dim(dims[1], nd)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}")
    turns = k % 4
    with no_grad():
        x = input.detach()
        if turns == 1:
            r = x.flip(d1).transpose(d0, d1).contiguous()
        elif turns == 2:
            r = x.flip((d0, d1))
        elif turns == 3:
            r = x.flip(d0).transpose(d0, d1).contiguous()
        else:
            r = x.clone()
    if STATE.enabled and input._requires_grad:
        node = Rot90Backward0()
        node.k, node.dims = k, (d0, d1)
        record(node, (input,), r)
    return r


@declare(method=True)
def fliplr(input) -> Tensor:
    """Reverse the columns (dim 1) of an at least 2-d tensor."""
    check_tensor(input, "fliplr", "input")
    if input.dim() < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return ops.flip(input, (1,))


@declare(method=True)
def flipud(input) -> Tensor:
    """Reverse the rows (dim 0) of an at least 1-d tensor."""
    check_tensor(input, "flipud", "input")
    if input.dim() < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return ops.flip(input, (0,))
