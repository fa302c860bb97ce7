"""How each plugrad dtype is stored and computed in OpenCL C.

Every dtype has a *storage* type (what a buffer holds) and a *compute* type (what a
kernel does arithmetic in). They differ for two dtypes: ``bool`` is stored and
computed as ``uchar`` holding 0 or 1, and ``float16`` is stored as ``half`` and
computed in ``float`` through ``vload_half``/``vstore_half_rte`` (core OpenCL, so it
works without ``cl_khr_fp16``). Signed integer arithmetic that may overflow goes
through the unsigned companion type so that it wraps like NumPy and PyTorch instead
of being undefined behaviour in C.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CType:
    name: str         # plugrad dtype name
    storage: str      # C element type of buffers
    compute: str      # C type arithmetic happens in
    kind: str         # "f" float, "i" signed int, "u" unsigned int, "b" bool
    itemsize: int
    unsigned: str     # unsigned companion (wrapping arithmetic); "" for floats
    scalar_np: str    # NumPy dtype of a scalar kernel argument of the compute type
    lowest: str       # C literal of the smallest value (max's identity)
    highest: str      # C literal of the largest value (min's identity)

    @property
    def is_float(self) -> bool:
        return self.kind == "f"

    @property
    def is_half(self) -> bool:
        return self.storage == "half"

    def load(self, ptr: str, idx: str) -> str:
        """An expression reading element ``idx`` of ``ptr`` as the compute type."""
        return f"vload_half({idx}, {ptr})" if self.is_half else f"{ptr}[{idx}]"

    def store(self, ptr: str, idx: str, value: str) -> str:
        """A statement writing ``value`` (of the compute type) to element ``idx``."""
        if self.is_half:
            return f"vstore_half_rte({value}, {idx}, {ptr});"
        return f"{ptr}[{idx}] = {value};"

    def lit(self, text: str) -> str:
        """A constant of the compute type."""
        return f"(({self.compute}){text})"


CTYPES = {c.name: c for c in (
    CType("bool", "uchar", "uchar", "b", 1, "uchar", "uint8", "0", "1"),
    CType("uint8", "uchar", "uchar", "u", 1, "uchar", "uint8", "0", "255"),
    CType("int8", "char", "char", "i", 1, "uchar", "int8", "(-128)", "127"),
    CType("int16", "short", "short", "i", 2, "ushort", "int16", "(-32768)", "32767"),
    CType("int32", "int", "int", "i", 4, "uint", "int32", "(-2147483647-1)", "2147483647"),
    CType("int64", "long", "long", "i", 8, "ulong", "int64", "(-9223372036854775807L-1L)", "9223372036854775807L"),
    CType("float16", "half", "float", "f", 2, "", "float32", "(-INFINITY)", "INFINITY"),
    CType("float32", "float", "float", "f", 4, "", "float32", "(-INFINITY)", "INFINITY"),
    CType("float64", "double", "double", "f", 8, "", "float64", "(-INFINITY)", "INFINITY"),
)}


def convert(value: str, src: CType, dst: CType) -> str:
    """An expression turning ``value`` (src's compute type) into dst's compute type with
    PyTorch's casting rules: anything to bool is ``!= 0``; floats to integers truncate
    toward zero (to narrow integers through ``long``, so negative values wrap like NumPy)."""
    if dst.kind == "b":
        return f"(uchar)({value} != 0)"
    if src.compute == dst.compute:
        return value
    if src.is_float and not dst.is_float and dst.itemsize < 4:
        return f"({dst.compute})(long)({value})"
    return f"({dst.compute})({value})"
