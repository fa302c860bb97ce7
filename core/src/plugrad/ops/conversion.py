"""Moving and converting data: ``to``, ``copy_``, ``fill_``, ``zero_``."""

from __future__ import annotations

from ..autograd.grad_mode import STATE
from ..autograd.graph import Node, record
from ..autograd.inplace import snapshot
from ..backend import UnsupportedOperation
from ..creation import full, tensor, zeros_like
from ..device import device as _device
from ..dtypes import dtype as _dtype_cls
from ..layout import broadcast_shapes
from ..optable import ops
from ..plugins.registry import backend_for
from ..tensor import Tensor, make
from .dispatch import as_operand, check_bool, check_inplace_target, inplace
from .forms import check_writable
from .declare import declare

__all__ = ["to", "copy_", "fill_", "zero_", "transfer"]


# ---- device and dtype conversion -----------------------------------------------------------

class ToCopyBackward0(Node):
    """d a.to(device, dtype) = g moved back to a's device and dtype"""
    __slots__ = ("device", "dtype")

    def backward(self, g):
        return (to(g, self.device, self.dtype),)


def transfer(src: Tensor, backend, dtype) -> Tensor:
    """A contiguous copy of ``src`` on ``backend`` with ``dtype`` (untracked)."""
    if dtype not in backend.dtypes:
        raise UnsupportedOperation("to", backend.device, dtype, "the device does not support this dtype")
    if src._backend is backend:
        out = make(backend, backend.empty(src._shape, dtype), src._shape, dtype)
        backend.copy(src._a, out._a)
        return out
    data = src._backend.to_bytes(src._a)
    moved = make(backend, backend.from_bytes(data, src._shape, src._dtype), src._shape, src._dtype)
    if dtype is not src._dtype:
        return transfer(moved, backend, dtype)
    return moved


def parse_to_arguments(args, kwargs):
    """``(device, dtype, copy)`` from the arguments of ``Tensor.to`` / ``Module.to``
    (a device, a dtype, a tensor to match, or keywords)."""
    dev = kwargs.pop("device", None)
    dt = kwargs.pop("dtype", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    for i, a in enumerate(args):
        if isinstance(a, _dtype_cls):
            dt = a
        elif a is None and i == 0:
            pass  # PyTorch reads a leading None as the device: "keep the device"
        elif isinstance(a, Tensor):
            dev, dt = a.device, a._dtype
        elif isinstance(a, (str, _device)):
            dev = a
        elif isinstance(a, bool):
            pass  # legacy non_blocking positional flag
        else:
            raise TypeError(f"to() received an invalid combination of arguments: {type(a).__name__} is not a device, "
                            f"a dtype or a Tensor")
    if dt is not None and not isinstance(dt, _dtype_cls):
        raise TypeError(f"to(): argument 'dtype' must be a dtype (like plugrad.float32), not {type(dt).__name__}")
    return dev, dt, copy


@declare(public=False, method=True)
def to(input, *args, **kwargs) -> Tensor:
    """This tensor on another device and/or with another dtype (itself when nothing
    changes, unless ``copy=True``)."""
    dev, dt, copy = parse_to_arguments(args, dict(kwargs))
    backend = input._backend if dev is None else backend_for(dev)
    dt = dt or input._dtype
    if backend is input._backend and dt is input._dtype and not copy:
        return input
    r = transfer(input, backend, dt)
    if STATE.enabled and input._requires_grad and dt.is_floating_point:
        node = ToCopyBackward0()
        node.device, node.dtype = input.device, input._dtype
        record(node, (input,), r)
    return r


# ---- copy / fill ------------------------------------------------------------------------------

class CopyBackwards(Node):
    """d self.copy_(src) = (zeros for the overwritten self, g moved back to src)"""
    __slots__ = ("src_device", "src_dtype")

    def backward(self, g):
        needs = [e[0] is not None for e in self.next_functions]
        return (zeros_like(g) if needs[0] else None,
                to(g, self.src_device, self.src_dtype) if needs[1] else None)


@declare(public=False, method=True)
def copy_(self, src, non_blocking=False) -> Tensor:
    """Overwrite ``self`` with ``src`` (broadcast, converted to self's dtype and device;
    a number counts as a 0-d tensor, as PyTorch's argument parser reads it)."""
    if not isinstance(src, Tensor):
        src = tensor(as_operand(src, "copy_", "src"), dtype=self._dtype, device=self.device)
    if type(non_blocking) is not bool:
        check_bool(non_blocking, "copy_", "non_blocking")
    check_writable(self, "copy_")
    if broadcast_shapes(src._shape, self._shape) != self._shape:
        raise RuntimeError(f"output with shape {list(self._shape)} doesn't match the broadcast shape "
                           f"{list(broadcast_shapes(src._shape, self._shape))}")
    tracked = STATE.enabled and (self._requires_grad or src._requires_grad)
    check_inplace_target(self, tracked, "copy_")
    moved = src if src._backend is self._backend else transfer(src, self._backend, src._dtype)
    if not tracked:
        self._backend.copy(moved._a, self._a)
        self._storage.version += 1
        return self
    result = transfer(ops.expand(moved.detach(), self._shape), self._backend, self._dtype)
    node = CopyBackwards()
    node.src_device, node.src_dtype = src.device, src._dtype
    record(node, (snapshot(self) if self._requires_grad else None, src), result)
    return inplace(self, result, "copy_")


class FillBackward2(Node):
    """d fill_(a, v) = zeros (every element is overwritten by the number v: PyTorch's
    ``zeros_like(grad)``, so that the input's leaves get a zero gradient, not none)"""

    def backward(self, g):
        return (zeros_like(g),)


class FillBackward3(Node):
    """d fill_(a, v) = (nothing, sum(g))  (v a 0-d tensor: every element is a copy of it)"""

    def backward(self, g):
        return None, g.sum()


class ZeroBackward0(FillBackward2):
    """d zero_(a) = zeros (every element is overwritten)"""


@declare(public=False, method=True)
def fill_(self, value) -> Tensor:
    """Set every element to ``value`` (a number or a 0-d tensor, which then gets the
    sum of the gradient)."""
    if isinstance(value, Tensor):
        if value.dim():
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with {value.dim()} "
                               f"dimensions.")
        if STATE.enabled and value._requires_grad:
            return _fill_from_tensor(self, value)
        value = value.item()
    return _fill(self, value, FillBackward2, "fill_")


def _fill_from_tensor(self, value):
    check_writable(self, "fill_")
    check_inplace_target(self, True, "fill_")
    result = full(self._shape, self._dtype.checked_scalar(value.item()), dtype=self._dtype, device=self.device)
    record(FillBackward3(), (snapshot(self) if self._requires_grad else None, value), result)
    return inplace(self, result, "fill_")


#: the zero of each dtype kind, as the Python scalar ``Backend.fill`` takes
_ZERO = {"b": False, "u": 0, "i": 0, "f": 0.0}


@declare(public=False, method=True)
def zero_(self) -> Tensor:
    """Set every element to zero. Untracked (``W.grad.zero_()`` in a training loop), it
    skips the value conversion and checks ``fill_`` needs: zero fits every dtype."""
    if STATE.enabled and self._requires_grad:
        return _fill(self, 0, ZeroBackward0, "zero_")
    check_writable(self, "zero_")
    check_inplace_target(self, False, "zero_")
    self._backend.fill(self._a, _ZERO[self._dtype.kind])
    self._storage.version += 1
    return self


def _fill(self, value, node_cls, fname):
    value = as_operand(value, fname, "value")
    check_writable(self, fname)
    tracked = STATE.enabled and self._requires_grad
    check_inplace_target(self, tracked, fname)
    if not tracked:
        self._backend.fill(self._a, self._dtype.checked_scalar(value))
        self._storage.version += 1
        return self
    result = full(self._shape, self._dtype.checked_scalar(value), dtype=self._dtype, device=self.device)
    record(node_cls(), (snapshot(self),), result)
    return inplace(self, result, fname)
