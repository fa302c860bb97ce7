"""Numeric facts about dtypes (``finfo``, ``iinfo``) and PyTorch's layout and memory
format constants (``plugrad.strided``, ``plugrad.contiguous_format``...).

``finfo``/``iinfo`` are derived from each dtype's format (mantissa bits and exponent
range, or bit width and signedness), as PyTorch reports them: ``finfo(float32).eps``
is ``2**-23``. plugrad tensors are always strided and dense, so the layout and memory
format constants exist for programs that pass them (``clone(memory_format=
plugrad.contiguous_format)``) or compare ``x.layout == plugrad.strided``.
"""

from __future__ import annotations

import math

from .dtypes import dtype, get_default_dtype

__all__ = ["finfo", "iinfo", "layout", "strided", "memory_format", "contiguous_format", "preserve_format",
           "channels_last", "channels_last_3d"]

#: (bits, mantissa bits, smallest normal exponent, largest exponent) of each float dtype, by name
_FLOAT_FORMATS = {"float16": (16, 10, -14, 15), "bfloat16": (16, 7, -126, 127), "float32": (32, 23, -126, 127),
                  "float64": (64, 52, -1022, 1023)}


class finfo:
    """Machine limits of a floating dtype (default: the default float dtype):
    ``bits``, ``eps`` (1 to the next float), ``max``, ``min`` (= -max), ``tiny`` and
    ``smallest_normal`` (the smallest normal), ``resolution`` (10 to the minus the
    decimal digits the dtype holds) and ``dtype`` (its name)."""

    def __init__(self, type=None):
        type = get_default_dtype() if type is None else type
        if not isinstance(type, dtype):
            raise TypeError(f"finfo(): argument 'type' (position 1) must be torch.dtype, not "
                            f"{type.__class__.__name__}")
        if type.name not in _FLOAT_FORMATS:
            raise TypeError("torch.finfo() requires a floating point input type. Use torch.iinfo to handle "
                            "'torch.finfo'")
        self.bits, mantissa, min_exp, max_exp = _FLOAT_FORMATS[type.name]
        self.eps = math.ldexp(1.0, -mantissa)
        self.max = math.ldexp(2.0 - self.eps, max_exp)
        self.min = -self.max
        self.tiny = self.smallest_normal = math.ldexp(1.0, min_exp)
        self.resolution = 10.0 ** -math.floor(mantissa * math.log10(2))
        self.dtype = type.name

    def __eq__(self, other):
        return isinstance(other, finfo) and other.dtype == self.dtype

    def __hash__(self):
        return hash(("finfo", self.dtype))

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """Limits of an integer dtype: ``bits``, ``min``, ``max`` and ``dtype`` (its name)."""

    def __init__(self, type):
        if not isinstance(type, dtype):
            raise TypeError(f"iinfo(): argument 'type' (position 1) must be torch.dtype, not "
                            f"{type.__class__.__name__}")
        if type.name == "bool":
            raise TypeError("torch.bool is not supported by torch.iinfo")
        if type.is_floating_point:
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo to handle 'torch.iinfo'")
        self.bits = type.itemsize * 8
        signed = type.kind == "i"
        self.min = -(1 << (self.bits - 1)) if signed else 0
        self.max = (1 << (self.bits - 1)) - 1 if signed else (1 << self.bits) - 1
        self.dtype = type.name

    def __eq__(self, other):
        return isinstance(other, iinfo) and other.dtype == self.dtype

    def __hash__(self):
        return hash(("iinfo", self.dtype))

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"


class _Constant:
    """A named constant printed as ``torch.<name>``."""
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self) -> str:
        return f"torch.{self.name}"

    def __reduce__(self):
        return self.name


class layout(_Constant):
    """How a tensor's elements are stored; plugrad has one layout, ``strided``."""
    __slots__ = ()


class memory_format(_Constant):
    """The order in which a dense tensor's elements are laid out in memory."""
    __slots__ = ()


strided = layout("strided")
contiguous_format = memory_format("contiguous_format")
preserve_format = memory_format("preserve_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
