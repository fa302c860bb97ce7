"""What every op shares: operand checks, result dtypes, casts, ``out=`` and in-place.

In-place ops follow one rule: compute the result first, then write it. A failing
op therefore never leaves its target half-written. When autograd records, the
in-place op becomes "out-of-place op + copy into self + rebase self's history"
(through ``CopySlices`` when self is a view), which keeps every backward formula
out-of-place and simple.
"""

from __future__ import annotations

from ..autograd.grad_mode import STATE
from ..autograd.inplace import rebase_history
from ..dtypes import bool_, can_cast, dtype as _dtype_class
from ..layout import broadcast_shapes
from ..tensor import Tensor, make

__all__ = ["as_operand", "cast", "check_same_device", "write_out", "inplace", "check_bool", "check_int", "check_tensor",
           "ALL_DIMS"]

_SCALAR_TYPES = (bool, int, float)


def as_operand(x, fname: str, argname: str = "other"):
    """A Tensor, a Python number, or a NumPy scalar turned into a Python number."""
    if isinstance(x, Tensor) or type(x) in _SCALAR_TYPES:
        return x
    if isinstance(x, _SCALAR_TYPES):
        return x
    if hasattr(x, "item") and hasattr(x, "dtype") and getattr(x, "ndim", 1) == 0:
        return x.item()
    if isinstance(x, complex):
        raise TypeError(f"{fname}(): complex numbers are not supported (argument '{argname}')")
    raise TypeError(f"{fname}(): argument '{argname}' must be a Tensor or a number, not {type(x).__name__}")


def check_bool(value, fname: str, argname: str) -> bool:
    """``value`` when it is a Python bool; otherwise PyTorch's TypeError. PyTorch's argument
    parser takes only ``True``/``False`` for a bool parameter (not 1, 1.0 or a NumPy bool),
    so a flag given the wrong thing by mistake is refused rather than read as truthy."""
    if type(value) is bool:
        return value
    raise TypeError(f"{fname}(): argument '{argname}' must be bool, not {type(value).__name__}")


def check_int(value, fname: str, argname: str) -> int:
    """``value`` as an int when it is a Python int or an integer NumPy scalar; otherwise
    PyTorch's TypeError (its parser refuses a bool, and a float even with a whole value)."""
    if type(value) is int:
        return value
    if isinstance(value, Tensor) and value._dtype is bool_:
        raise RuntimeError(f"{fname}(): argument '{argname}' must be an integer, not a bool tensor")
    if not isinstance(value, (bool, float, complex, str)) and hasattr(value, "__index__") \
            and type(value).__name__ != "bool_":
        return value.__index__()
    raise TypeError(f"{fname}(): argument '{argname}' must be int, not {type(value).__name__}")


def check_tensor(value, fname: str, argname: str) -> Tensor:
    """``value`` when it is a Tensor; otherwise PyTorch's TypeError naming the argument."""
    if isinstance(value, Tensor):
        return value
    raise TypeError(f"{fname}(): argument '{argname}' must be Tensor, not {type(value).__name__}")


class AllDims:
    """The default ``dim`` of ops whose PyTorch signature has no ``dim=None`` (max, min,
    prod, squeeze): every dim. A sentinel rather than None, because PyTorch refuses an
    explicit None there (TypeError)."""
    __slots__ = ()

    def __repr__(self) -> str:
        return "<every dim>"


ALL_DIMS = AllDims()


def check_same_device(a: Tensor, b: Tensor, fname: str):
    """Operands must share a device; a 0-d CPU tensor counts as a number (as in PyTorch).
    Returns b, possibly turned into a Python scalar."""
    if a._backend is b._backend:
        return b
    if not b._shape and b._backend.device.type == "cpu" and not b._requires_grad:
        return b.item()
    raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two devices, "
                       f"{a.device} and {b.device}! (in {fname})")


def cast(t: Tensor, dtype) -> Tensor:
    """``t`` converted to ``dtype`` (a new contiguous tensor), untracked by autograd."""
    if t._dtype is dtype:
        return t
    if not isinstance(dtype, _dtype_class):   # a user's dtype= argument reaches the backend here
        raise TypeError(f"argument 'dtype' must be a dtype (like plugrad.float32), not {type(dtype).__name__}")
    backend = t._backend
    out = make(backend, backend.empty(t._shape, dtype), t._shape, dtype)
    backend.copy(t._a, out._a)
    return out


def _check_out(out, result, fname):
    if not isinstance(out, Tensor):
        raise TypeError(f"{fname}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if out._backend is not result._backend:
        raise RuntimeError(f"{fname}(): Expected out tensor to be on device {result.device}, but got {out.device}")
    if not can_cast(result._dtype, out._dtype):
        raise RuntimeError(f"{fname}(): result type {_name(result._dtype)} can't be cast to the desired output "
                           f"type {_name(out._dtype)}")


def _name(d):
    return d.name.capitalize() if d is not bool_ else "Bool"


def write_out(out: Tensor, result: Tensor, fname: str) -> Tensor:
    """Store ``result`` into a user's ``out=`` tensor, resizing it when its shape differs
    (PyTorch resizes ``out``; a tensor that autograd tracks cannot be an ``out``)."""
    _check_out(out, result, fname)
    if STATE.enabled and (out._requires_grad or result._requires_grad):
        raise RuntimeError(f"{fname}(): functions with out=... arguments don't support automatic "
                           f"differentiation, but one of the arguments requires grad.")
    if out._shape != result._shape:
        if out._base is not None:
            raise RuntimeError(f"{fname}(): cannot resize a view used as out= (shape {list(out._shape)}, "
                               f"result shape {list(result._shape)})")
        out.data = make(out._backend, out._backend.empty(result._shape, out._dtype), result._shape, out._dtype)
    out._backend.copy(result._a, out._a)
    out._storage.version += 1
    return out


def check_inplace_target(self: Tensor, result_requires_grad: bool, fname: str) -> None:
    """The autograd rules for modifying ``self`` in place."""
    if not STATE.enabled:
        return
    fn = self._grad_fn
    if self._base is not None and fn is not None and fn.n_outputs > 1 and self._requires_grad:
        name = fn.name()
        name = name[:-len("Backward0")] if name.endswith("Backward0") else name
        raise RuntimeError(f"Output {self._output_nr} of {name} is a view and is being modified inplace. This view "
                           f"is the output of a function that returns multiple views. Such functions do not allow "
                           f"the output views to be modified inplace. You should replace the inplace operation by "
                           f"an out-of-place one.")
    if self._requires_grad and fn is None:
        if self._base is not None:
            raise RuntimeError(f"{fname}: a view of a leaf Variable that requires grad is being used in an "
                               f"in-place operation.")
        raise RuntimeError(f"{fname}: a leaf Variable that requires grad is being used in an in-place "
                           f"operation.")
    if self._base is not None and self._base._requires_grad and self._base._grad_fn is None \
            and result_requires_grad:
        raise RuntimeError(f"{fname}: a view of a leaf Variable that requires grad is being used in an "
                           f"in-place operation.")


def inplace(self: Tensor, result: Tensor, fname: str) -> Tensor:
    """Write ``result`` (computed out of place, possibly with a graph) into ``self``.

    Checks come first, so that a refused op leaves ``self`` unchanged: the result
    must broadcast to self's shape without changing it, and its dtype must cast
    to self's category (no float results into an int tensor)."""
    if result._shape != self._shape and broadcast_shapes(result._shape, self._shape) != self._shape:
        raise RuntimeError(f"{fname}: output with shape {list(self._shape)} doesn't match the broadcast shape "
                           f"{list(broadcast_shapes(result._shape, self._shape))}")
    if not can_cast(result._dtype, self._dtype):
        raise RuntimeError(f"{fname}: result type {_name(result._dtype)} can't be cast to the desired output "
                           f"type {_name(self._dtype)}")
    if result._backend is not self._backend:   # self a 0-d cpu tensor, the operands on another device
        raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two devices, "
                           f"{self.device} and {result.device}! (in {fname})")
    tracked = STATE.enabled and result._requires_grad
    check_inplace_target(self, tracked, fname)
    self._backend.copy(result._a, self._a)
    self._storage.version += 1
    if tracked:
        rebase_history(self, result)
    return self
