"""Small top-level functions of PyTorch's namespace: dtype rules (``can_cast``,
``result_type``), ``typename``, and the deterministic-algorithms switch.

Every plugrad device declares whether its kernels are deterministic; the switch is
the program's request, kept here and reported back as PyTorch reports it.
"""

from __future__ import annotations

from .dtypes import can_cast as _can_cast, dtype, result_type_of, scalar_dtype
from .tensor import Tensor

__all__ = ["can_cast", "result_type", "typename", "use_deterministic_algorithms",
           "are_deterministic_algorithms_enabled", "is_deterministic_algorithms_warn_only_enabled"]


def can_cast(from_, to) -> bool:
    """True when PyTorch's casting rule lets a ``from_`` result be written to a ``to``
    tensor (no step down a category: float to int, int to bool)."""
    for name, d in (("from_", from_), ("to", to)):
        if not isinstance(d, dtype):
            raise TypeError(f"can_cast(): argument '{name}' must be torch.dtype, not {type(d).__name__}")
    return _can_cast(from_, to)


def result_type(tensor, other) -> dtype:
    """The dtype of an arithmetic op on ``tensor`` and ``other`` (tensors or numbers):
    dimensioned tensors outrank 0-d tensors, which outrank numbers, within a category."""
    tiers = ([], [], [])
    for x in (tensor, other):
        if isinstance(x, Tensor):
            tiers[0 if x.dim() else 1].append(x.dtype)
        elif isinstance(x, (bool, int, float)):
            tiers[2].append(scalar_dtype(x))
        else:
            raise TypeError(f"result_type(): arguments must be Tensors or numbers, not {type(x).__name__}")
    return result_type_of(*tiers)


def typename(obj) -> str:
    """The type of ``obj`` as PyTorch names it: a tensor's legacy type (``torch.FloatTensor``),
    otherwise the class's module and qualified name (just the name for builtins)."""
    if isinstance(obj, Tensor):
        return obj.type()
    cls = obj if isinstance(obj, type) else type(obj)
    module = cls.__module__
    if module in ("builtins", "__builtin__"):
        return cls.__qualname__
    return f"{module}.{cls.__qualname__}"


_deterministic = {"mode": False, "warn_only": False}


def use_deterministic_algorithms(mode, *, warn_only=False) -> None:
    """Ask for deterministic algorithms (``mode``), or only warnings where none exists
    (``warn_only``)."""
    if type(mode) is not bool:
        raise TypeError(f"use_deterministic_algorithms(): argument 'mode' must be bool, not {type(mode).__name__}")
    if type(warn_only) is not bool:
        raise TypeError(f"use_deterministic_algorithms(): argument 'warn_only' must be bool, not "
                        f"{type(warn_only).__name__}")
    _deterministic["mode"], _deterministic["warn_only"] = mode, warn_only


def are_deterministic_algorithms_enabled() -> bool:
    return _deterministic["mode"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    return _deterministic["warn_only"]


# ---- function forms of Tensor queries (PyTorch has both) ------------------------------------------

def get_device(input) -> int:
    """``input.get_device()``: -1 for a cpu tensor, the device index otherwise."""
    return input.get_device()


def is_nonzero(input) -> bool:
    """``input.is_nonzero()``: the truth of a one-element tensor."""
    return input.is_nonzero()


def is_same_size(input, other) -> bool:
    """``input.is_same_size(other)``."""
    return input.is_same_size(other)


def is_signed(input) -> bool:
    """``input.is_signed()``: True for signed integer and float dtypes."""
    return input.is_signed()


def resize_as_(input, the_template, *, memory_format=None):
    """``input.resize_as_(the_template)``."""
    return input.resize_as_(the_template)


__all__ += ["get_device", "is_nonzero", "is_same_size", "is_signed", "resize_as_"]
