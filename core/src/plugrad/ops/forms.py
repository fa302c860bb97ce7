"""The in-place forms that op declarations produce (``x.add_(y)``, ``x.exp_()``...).

One rule for every op: compute the result first, then write it, so a refused op
never leaves its target half-written. When autograd records, ``x.op_(...)`` is
``op(snapshot of x, ...)`` written into ``x``, with ``x``'s history rebased onto the
result (``plugrad.ops.dispatch.inplace``): every backward formula stays out of place.

Elementwise ops (declared through ``plugrad.ops.pointwise``) also get a direct path:
when nothing is recorded and the op's cached plan gives ``x``'s dtype and shape,
the kernel writes straight into ``x`` (no temporary).
"""

from __future__ import annotations

from ..autograd.grad_mode import STATE
from ..autograd.inplace import snapshot
from ..dtypes import can_cast
from ..layout import broadcast_shapes
from ..tensor import Tensor
from .dispatch import as_operand, check_inplace_target, check_same_device, inplace
from .pointwise import BinarySpec, UnarySpec

__all__ = ["inplace_method", "check_writable"]


def check_writable(self: Tensor, fname: str) -> None:
    """Refuse to write into a tensor whose elements share memory (an expanded tensor)."""
    for n, s in zip(self._shape, self._strides):
        if s == 0 and n > 1:
            raise RuntimeError(f"{fname}: unsupported operation: more than one element of the written-to tensor "
                               f"refers to a single memory location. Please clone() the tensor before performing "
                               f"the operation.")


def inplace_method(decl):
    """The in-place method of a declared op (``decl.inplace`` names it)."""
    fname = decl.inplace[0]
    spec = getattr(decl.fn, "spec", None)
    if isinstance(spec, BinarySpec):
        return _binary_inplace(decl.fn, spec, fname)
    if isinstance(spec, UnarySpec):
        return _unary_inplace(decl.fn, spec, fname)
    return general_inplace(decl.fn, fname)


def _write_through_general_path(self, fn, fname, args, kwargs, tracked, number_from=None):
    """``fn(self, *args)`` computed out of place (from a snapshot when recording), then
    written into ``self``."""
    check_inplace_target(self, tracked, fname)
    r = fn(snapshot(self) if tracked else self, *args, **kwargs)
    if not can_cast(r._dtype, self._dtype):
        where = "" if number_from is None else (f" of self (on {self.device}; the other operand, a 0-d tensor on "
                                                f"{number_from}, counted as a number)")
        raise RuntimeError(f"{fname}: result type {r._dtype.name.capitalize()} can't be cast to the desired "
                           f"output type {self._dtype.name.capitalize()}{where}")
    return inplace(self, r, fname)


def general_inplace(fn, fname):
    """The in-place form of an op whose only tensor written is ``self`` (its other
    arguments are read only): ``fn`` out of place, then written into ``self``."""
    def method(self, *args, **kwargs):
        check_writable(self, fname)
        return _write_through_general_path(self, fn, fname, args, kwargs, STATE.enabled and self._requires_grad)
    method.__name__ = method.__qualname__ = fname
    method.__doc__ = f"In-place form of ``{fn.__name__}``: writes the result into ``self``."
    return method


def _unary_inplace(fn, spec, fname):
    def method(self, *args, **kwargs):
        tracked = STATE.enabled and self._requires_grad
        check_writable(self, fname)
        if not tracked and not args and not kwargs:
            cd, od = spec.plan(self)
            if cd is self._dtype and od is self._dtype:
                self._backend.unary(spec.kernel, self._a, self._a)
                self._storage.version += 1
                return self
        return _write_through_general_path(self, fn, fname, args, kwargs, tracked)
    method.__name__ = method.__qualname__ = fname
    method.__doc__ = f"In-place form of ``{fn.__name__}``: writes the result into ``self``."
    return method


def _binary_inplace(fn, spec, fname):
    def method(self, other, *args, **kwargs):
        other = as_operand(other, fname)
        other_is_tensor = isinstance(other, Tensor)
        number_from = None
        if other_is_tensor and other._backend is not self._backend:
            # devices first: only a 0-d cpu tensor may meet another device, as a number
            number = check_same_device(self, other, fname)
            number_from = other.device
        tracked = STATE.enabled and (self._requires_grad or (other_is_tensor and other._requires_grad))
        check_writable(self, fname)
        if not tracked and not args and not kwargs:
            operand = number if number_from is not None else other
            cd, od, _ = spec.plan(self, operand)
            if od is self._dtype and (not isinstance(operand, Tensor) or operand._shape == self._shape or
                                      broadcast_shapes(operand._shape, self._shape) == self._shape):
                spec.compute(self, operand, dest=self._a)
                self._storage.version += 1
                return self
        return _write_through_general_path(self, fn, fname, (other, *args), kwargs, tracked, number_from)
    method.__name__ = method.__qualname__ = fname
    method.__doc__ = f"In-place form of ``{fn.__name__}``: writes the result into ``self``."
    return method
