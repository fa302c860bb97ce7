"""Ops of three operands: ``where``, ``clamp``, ``lerp``, ``addcmul``, ``addcdiv``."""

from __future__ import annotations

from ...autograd.grad_mode import STATE
from ...autograd.graph import Node, record
from ...dtypes import bool_, promote_types, uint8
from ...layout import broadcast_shapes
from ...optable import ops
from ...tensor import Tensor, make
from ..declare import declare, names_declared_in
from ..dispatch import as_operand, cast, check_same_device, check_tensor, write_out
from ..pointwise import compute_binary, result_dtype
from .arithmetic import add, div, mul, rsub, sub
from .unary import abs



# ---- where, clamp, lerp, addcmul ---------------------------------------------------------

class WhereBackward0(Node):
    """d where(c, a, b) = (g where c, g where not c)"""

    def backward(self, g):
        (cond,) = self.saved_tensors
        ga = where(cond, g, 0.0) if self.next_functions[0][0] is not None else None
        gb = where(cond, 0.0, g) if self.next_functions[1][0] is not None else None
        return ga, gb


@declare
def where(condition, input=None, other=None, *, out=None):
    """``input`` where ``condition`` holds, else ``other`` (numbers allowed); with one
    argument, the indices of the true elements (like ``nonzero(as_tuple=True)``)."""
    if input is None and other is None:
        return ops.nonzero(condition, as_tuple=True)
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
        ref = ops.tensor(as_operand(input, "where", "input"), device=condition.device)
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
        cd = result_dtype(input, other)
    elif isinstance(input, Tensor):
        cd = result_dtype(input, as_operand(other, "where"))
    else:
        cd = result_dtype(other, as_operand(input, "where", "input"))
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
    return r if out is None else write_out(out, r, "where")


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


@declare(method=True, inplace=True, aliases=("clip",))
def clamp(input, min=None, max=None, *, out=None) -> Tensor:
    """Limit values to ``[min, max]`` (either bound may be omitted; bounds may be
    numbers or tensors, and tensor bounds get gradients too)."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    lo = None if min is None else as_operand(min, "clamp", "min")
    hi = None if max is None else as_operand(max, "clamp", "max")
    for bound in (lo, hi):
        if type(bound) is float or type(bound) is int:  # PyTorch converts a number bound to the result's dtype
            result_dtype(input, bound).checked_scalar(bound)
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
    return r if out is None else write_out(out, r, "clamp")


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


@declare(method=True, inplace=True)
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
    if STATE.enabled and (input._requires_grad or end._requires_grad or (w_t is not None and w_t._requires_grad)):
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
        result_dtype(input, value).checked_scalar(value)
    prev = STATE.enabled
    STATE.enabled = False
    try:
        part = mul(tensor1, tensor2) if kind == "addcmul" else div(tensor1, tensor2)
        r = add(input, part if value == 1 else mul(part, value))
    finally:
        STATE.enabled = prev
    if STATE.enabled and any(isinstance(t, Tensor) and t._requires_grad for t in (input, tensor1, tensor2)):
        node = node_cls()
        node.value = value
        node.save(tensor1, tensor2)
        record(node, (input, tensor1, tensor2), r)
    return r


@declare(method=True, inplace=True)
def addcmul(input, tensor1, tensor2, *, value=1) -> Tensor:
    """``input + value * tensor1 * tensor2``."""
    return _addc("addcmul", AddcmulBackward0, input, tensor1, tensor2, value)


@declare(method=True, inplace=True)
def addcdiv(input, tensor1, tensor2, *, value=1) -> Tensor:
    """``input + value * tensor1 / tensor2``."""
    return _addc("addcdiv", AddcdivBackward0, input, tensor1, tensor2, value)


__all__ = names_declared_in(__name__)   # every op declared above, with its aliases
