"""Data types and PyTorch's type-promotion rules.

A dtype is a plain object with a name and a few properties; devices map it to
their own representation. Promotion is computed here, once, so every device
returns the same result dtype for the same expression.
"""

from __future__ import annotations

import math as _math
import struct as _struct

__all__ = [
    "dtype", "bool_", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
    "float64", "promote_types", "result_type_of", "get_default_dtype", "set_default_dtype", "can_cast",
    "ALL_DTYPES", "dtype_from_name",
]


#: largest value data may give for each float dtype (``full``, ``fill_``): the largest finite
#: one, except bfloat16, which PyTorch never checks (too large a value becomes an infinity)
_FLOAT_MAX = {"float16": 65504.0, "bfloat16": _math.inf, "float32": 3.4028234663852886e38,
              "float64": 1.7976931348623157e308}
#: values at or beyond these round to infinity when stored as float16/float32; a Python
#: scalar meets a bfloat16 tensor as a float32 (PyTorch computes bfloat16 in float32)
_FLOAT_OVERFLOW = {"float16": 65520.0, "bfloat16": 3.4028235677973366e38, "float32": 3.4028235677973366e38}
_F32 = _struct.Struct("<f")
_INT64_MIN, _UINT64_MAX = -(1 << 63), (1 << 64) - 1


def _scalar_converter(name: str, kind: str, itemsize: int):
    """The function that turns a Python number into the scalar a kernel gets for a dtype.

    Arithmetic with a Python scalar follows PyTorch, which converts the scalar the way
    C casts do: integers wrap around (``int8_tensor + 200`` adds -56), floats too large
    for float16/float32 become infinities. Integers beyond 64 bits are an OverflowError.
    A scalar for bfloat16 is rounded to float32 first: PyTorch converts a double to
    bfloat16 through float32 (two roundings), and computes bfloat16 ops in float32.
    """
    if kind == "b":
        return bool
    if kind == "f":
        if itemsize == 8:
            return float
        limit = _FLOAT_OVERFLOW[name]

        def to_float(v):
            v = float(v)
            return v if -limit < v < limit or v != v else _math.copysign(_math.inf, v)
        if name != "bfloat16":
            return to_float
        return lambda v: _F32.unpack(_F32.pack(to_float(v)))[0]
    bits = itemsize * 8
    mask = (1 << bits) - 1
    lo = -(1 << (bits - 1)) if kind == "i" else 0
    hi = lo + mask

    def to_int(v):
        v = int(v)
        if lo <= v <= hi:
            return v
        if not _INT64_MIN <= v <= _UINT64_MAX:
            raise OverflowError(f"Python int {v} too big to convert to a 64-bit integer")
        return ((v - lo) & mask) + lo
    return to_int


class dtype:
    """A tensor element type (``plugrad.float32`` and friends).

    ``repr`` prints ``torch.float32`` on purpose: tutorial code written for PyTorch
    prints dtypes, and plugrad promises to print what PyTorch prints.
    """

    __slots__ = ("name", "itemsize", "kind", "rank", "is_floating_point", "is_signed", "_py")

    def __init__(self, name: str, itemsize: int, kind: str, rank: int):
        self.name = name          # canonical name, also the NumPy name ("bool" for bool)
        self.itemsize = itemsize  # bytes per element
        self.kind = kind          # "b" bool, "u" unsigned int, "i" signed int, "f" float
        self.rank = rank          # order used by promotion within a category
        self.is_floating_point = kind == "f"
        self.is_signed = kind in "if"
        # ``_py(v)``: v as the Python scalar a kernel receives for this dtype (see _scalar_converter)
        self._py = _scalar_converter(name, kind, itemsize)

    @property
    def is_complex(self) -> bool:
        return False

    @property
    def python_type(self):
        """The Python type of ``item()`` for this dtype (bool, int or float)."""
        return {"b": bool, "u": int, "i": int, "f": float}[self.kind]

    def checked_scalar(self, value):
        """``value`` converted for this dtype, or RuntimeError when it does not fit.

        PyTorch's rule for values written as they are (``fill_``, ``full``, data given to
        ``tensor``): integers accept whole or fractional values within the type's range
        (unsigned types also accept negatives down to minus their maximum, which wrap);
        floats accept everything but a finite value beyond the largest finite one."""
        if self.kind == "b":
            return bool(value)
        if self.kind == "f":
            v = value if isinstance(value, float) else float(value)   # a float subclass stays itself: a
            # symbolic number of plugrad.compile keeps its expression through this check
            if _math.isfinite(v) and abs(v) > _FLOAT_MAX[self.name]:
                raise RuntimeError(f"value cannot be converted to type {self.name} without overflow")
            return self._py(v)
        if isinstance(value, float) and not _math.isfinite(value):
            raise RuntimeError(f"value cannot be converted to type {self.name} without overflow")
        v = int(value)
        bits = self.itemsize * 8
        hi = (1 << bits) - 1 if self.kind == "u" else (1 << (bits - 1)) - 1
        lo = -hi if self.kind == "u" else -hi - 1
        if not lo <= v <= hi:
            raise RuntimeError(f"value cannot be converted to type {self.name} without overflow")
        return self._py(v)

    def __repr__(self) -> str:
        return f"torch.{self.name}"

    def __reduce__(self):
        return (dtype_from_name, (self.name,))


bool_ = dtype("bool", 1, "b", 0)
uint8 = dtype("uint8", 1, "u", 1)
int8 = dtype("int8", 1, "i", 2)
int16 = dtype("int16", 2, "i", 3)
int32 = dtype("int32", 4, "i", 4)
int64 = dtype("int64", 8, "i", 5)
float16 = dtype("float16", 2, "f", 6)
#: Google's brain float: float32's sign and 8-bit exponent with 7 mantissa bits (the
#: upper half of a float32). Same rank as float16: neither holds the other, so mixing
#: them promotes to float32, as in PyTorch.
bfloat16 = dtype("bfloat16", 2, "f", 6)
float32 = dtype("float32", 4, "f", 7)
float64 = dtype("float64", 8, "f", 8)

ALL_DTYPES = (bool_, uint8, int8, int16, int32, int64, float16, bfloat16, float32, float64)

_BY_NAME = {d.name: d for d in ALL_DTYPES}
_BY_NAME.update({
    "half": float16, "float": float32, "double": float64, "short": int16, "int": int32,
    "long": int64, "bool_": bool_,
})


def dtype_from_name(name: str) -> dtype:
    """Look a dtype up by its name or alias (``"float"``, ``"long"``...)."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise TypeError(f"unknown dtype name {name!r}; expected one of {sorted(_BY_NAME)}") from None


def opmath(d: dtype) -> dtype:
    """The dtype PyTorch's kernels compute ``d`` in: float32 for the 16-bit floats
    (float16, bfloat16), ``d`` itself otherwise."""
    return float32 if d.kind == "f" and d.itemsize == 2 else d


def _category(d: dtype) -> int:
    return 0 if d.kind == "b" else (2 if d.kind == "f" else 1)


def _promote_uncached(a: dtype, b: dtype) -> dtype:
    if a is b:
        return a
    ca, cb = _category(a), _category(b)
    if ca != cb:
        return a if ca > cb else b
    if ca == 2:
        if a.rank == b.rank:      # float16 and bfloat16
            return float32
        return a if a.rank > b.rank else b
    # integers: uint8 only mixes with signed types by widening to the next signed type
    if a.kind == b.kind:
        return a if a.rank > b.rank else b
    signed, unsigned = (a, b) if a.kind == "i" else (b, a)
    if signed.itemsize > unsigned.itemsize:
        return signed
    return int16 if unsigned.itemsize == 1 else int64


_PROMOTE = {(a, b): _promote_uncached(a, b) for a in ALL_DTYPES for b in ALL_DTYPES}


def promote_types(a: dtype, b: dtype) -> dtype:
    """The smallest dtype both ``a`` and ``b`` convert to without losing their category."""
    return _PROMOTE[a, b]


_default_float = float32


def get_default_dtype() -> dtype:
    """The dtype of Python floats turned into tensors (float32 unless changed)."""
    return _default_float


def set_default_dtype(d: dtype) -> None:
    """Change the default floating dtype (float16, bfloat16, float32 or float64)."""
    global _default_float
    if not isinstance(d, dtype) or not d.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type, got {d!r}")
    _default_float = d
    for callback in _DEFAULT_DTYPE_LISTENERS:
        callback(d)


#: callables told about a new default dtype: caches in higher layers that depend on it
_DEFAULT_DTYPE_LISTENERS = []


def on_default_dtype_change(callback) -> None:
    """Call ``callback(new_default)`` whenever ``set_default_dtype`` runs (the elementwise
    ops' cached plans depend on the default, and the ops live a layer above dtypes)."""
    _DEFAULT_DTYPE_LISTENERS.append(callback)


def scalar_dtype(value) -> dtype:
    """The dtype PyTorch gives a Python scalar: bool, int64, or the default float."""
    if value is True or value is False:
        return bool_
    if isinstance(value, int):
        return int64
    if isinstance(value, float):
        return _default_float
    raise TypeError(f"expected a number, got {type(value).__name__}")


def combine_tiers(higher: dtype | None, lower: dtype | None) -> dtype | None:
    """PyTorch's rule for merging the three priority tiers of operands."""
    if higher is None:
        return lower
    if lower is None or higher.is_floating_point:
        return higher
    if higher is bool_ or lower.is_floating_point:
        return _PROMOTE[higher, lower]
    return higher


def result_type_of(dim_dtypes, zero_dim_dtypes, scalar_dtypes) -> dtype:
    """Result dtype of an op given the dtypes of its operands by tier.

    Tensors with dimensions win over 0-d tensors, which win over Python scalars,
    unless the lower tier is of a higher category (bool < integer < float): then
    its dtype joins the promotion. ``int_tensor + 2.5`` is float32; ``uint8_tensor
    + 300`` stays uint8.
    """
    tiers = []
    for group in (dim_dtypes, zero_dim_dtypes, scalar_dtypes):
        r = None
        for d in group:
            r = d if r is None else _PROMOTE[r, d]
        tiers.append(r)
    result = combine_tiers(tiers[0], combine_tiers(tiers[1], tiers[2]))
    if result is None:
        raise ValueError("result_type needs at least one operand")
    return result


def can_cast(src: dtype, dst: dtype) -> bool:
    """True when ``src`` converts to ``dst`` without going down a category (PyTorch's rule
    for in-place ops and ``out=``: float results cannot be written to an int tensor)."""
    return _category(src) <= _category(dst)


def bfloat16_words(values) -> list:
    """Python floats to the 16-bit words of their bfloat16 values, as PyTorch rounds:
    to float32, then to nearest even on the upper 16 bits; every NaN becomes 0x7FC0
    (c10's ``round_to_nearest_even``). Pure Python, so that the core packs bfloat16 data without NumPy."""
    words = []
    for v in values:
        (u,) = _struct.unpack("<I", _F32.pack(v))
        if u & 0x7FFFFFFF > 0x7F800000:
            words.append(0x7FC0)
        else:
            words.append((u + 0x7FFF + ((u >> 16) & 1)) >> 16)
    return words


def bfloat16_from_words(words) -> list:
    """The Python floats of bfloat16 words (exact: each is a float32 with a zero low half)."""
    return [_F32.unpack(_struct.pack("<I", w << 16))[0] for w in words]
