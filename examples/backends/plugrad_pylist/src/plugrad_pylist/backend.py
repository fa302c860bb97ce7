"""The ``pylist`` device: every primitive of plugrad's kernel interface in plain Python.

An array is a :class:`PyArray`: a flat ``array.array`` (the storage) read through a
shape, strides and offset counted in elements, so views share memory with their
base. ``array('f')`` rounds each stored value to IEEE float32; values are computed
in Python floats (doubles) or ints and converted when stored (``_STORE``).

Every kernel has the same three steps: read the operands in row-major order of the
output's shape (broadcasting through stride-0 dims), compute a list of Python
values, write them through the output's layout. Reading everything before writing
makes ``out`` being one of the inputs harmless.
"""

from __future__ import annotations

import functools
import itertools
import math
import operator
import struct
from array import array

from plugrad.extend import (ALL_DTYPES, Backend, bool_, broadcast_strides,
                            contiguous_strides, float16, float32, float64, int8, int16, int32, int64, numel,
                            struct_code, uint8)

from . import special

#: ``array`` typecode of each dtype's storage. float16 values live in float32 storage
#: (every half value is exact there) and are rounded to half when stored.
_TYPECODE = {bool_: "B", uint8: "B", int8: "b", int16: "h", int32: "i", int64: "q",
             float16: "f", float32: "f", float64: "d"}
_INF, _NAN = math.inf, math.nan


def _wrapping(bits: int, signed: bool):
    """C-style conversion to an integer type: floats truncate toward zero, integers
    wrap around ``bits`` bits."""
    low = -(1 << (bits - 1)) if signed else 0

    def store(v):
        try:
            v = int(v)
        except (ValueError, OverflowError):  # nan or inf: what x86 gives
            return low
        return (v - low) % (1 << bits) + low
    return store


def _to_half(v):
    """Round to the nearest float16 (ties to even), overflowing to infinity."""
    try:
        return struct.unpack("<e", struct.pack("<e", v))[0]
    except OverflowError:
        return math.copysign(_INF, v)


#: turns a computed Python value into the value each dtype's storage holds
#: (``array('f')`` itself rounds to float32)
_STORE = {bool_: bool, uint8: _wrapping(8, False), int8: _wrapping(8, True), int16: _wrapping(16, True),
          int32: _wrapping(32, True), int64: _wrapping(64, True), float16: _to_half, float32: float,
          float64: float}


class PyArray:
    """A storage (``array.array``) seen through ``shape``, ``strides`` and ``offset``."""

    __slots__ = ("data", "shape", "strides", "offset", "dtype")

    def __init__(self, data, shape, strides, offset, dtype):
        self.data, self.shape, self.strides, self.offset, self.dtype = data, shape, strides, offset, dtype


def _offsets(shape, strides, offset):
    """Storage positions of every element of a layout, in row-major order."""
    offs = [offset]
    for n, s in zip(shape, strides):
        offs = [o + i * s for o in offs for i in range(n)]
    return offs


def _read(x, shape):
    """The values of array or scalar ``x`` broadcast to ``shape``, in row-major order."""
    if not isinstance(x, PyArray):
        return [x] * numel(shape)
    data = x.data
    return [data[o] for o in _offsets(shape, broadcast_strides(x.shape, x.strides, shape), x.offset)]


def _write(out, values):
    """Store ``values`` (row-major) through ``out``'s layout, converting to its dtype."""
    data, store = out.data, _STORE[out.dtype]
    for o, v in zip(_offsets(out.shape, out.strides, out.offset), values):
        data[o] = store(v)


def _lines(x, axes):
    """``x``'s values with ``axes`` moved last, cut into the lines a reduction or a scan
    combines: one list per position of the other dims, in row-major order."""
    keep = [d for d in range(len(x.shape)) if d not in axes]
    order = keep + list(axes)
    values = [x.data[o] for o in _offsets([x.shape[d] for d in order], [x.strides[d] for d in order], x.offset)]
    size = numel([x.shape[d] for d in axes])
    return [values[i * size:(i + 1) * size] for i in range(numel([x.shape[d] for d in keep]))]


# ---- elementwise math with IEEE results where Python's math module raises -------------
def _ieee(f, on_overflow=lambda x: _INF):
    """``f`` giving NaN for a domain error and ``on_overflow(x)`` for an overflow, as
    IEEE arithmetic does, where Python's ``math`` raises."""
    def g(x):
        try:
            return f(x)
        except ValueError:
            return _NAN
        except OverflowError:
            return on_overflow(x)
    return g


def _log_with(f):
    return lambda x: f(x) if x > 0 else (-_INF if x == 0 else _NAN)


def _div(a, b):
    if b == 0:
        return _NAN if a == 0 or a != a else math.copysign(_INF, a) * math.copysign(1.0, b)
    return a / b


def _pow(a, b):
    if isinstance(a, int) and isinstance(b, int):
        if b < 0:  # C integer power: only 1 and -1 survive a negative exponent
            return -1 if a == -1 and b % 2 else 1 if a in (1, -1) else 0
        return pow(a, b, 1 << 64)
    try:
        return math.pow(a, b)
    except OverflowError:
        return -_INF if a < 0 and float(b).is_integer() and b % 2 == 1 else _INF
    except ValueError:  # zero to a negative power, or a negative base to a fraction
        if a == 0:
            return math.copysign(_INF, a) if float(b).is_integer() and b % 2 == 1 else _INF
        return _NAN


def _floordiv(a, b):
    if isinstance(b, float) and b == 0:
        return _div(a, b)
    return a // b


def _remainder(a, b):
    if isinstance(b, float) and b == 0:
        return _NAN
    return a % b


def _fmod(a, b):
    if isinstance(a, int) and isinstance(b, int):
        r = abs(a) % abs(b)
        return -r if a < 0 else r
    return _NAN if b == 0 or math.isinf(a) else math.fmod(a, b)


def _nan_max(a, b):
    return a if a != a else b if b != b else max(a, b)


def _nan_min(a, b):
    return a if a != a else b if b != b else min(a, b)


def _rounding(f):
    return lambda x: x if isinstance(x, int) or not math.isfinite(x) else math.copysign(f(x), x)  # keeps -0.0


_exp = _ieee(math.exp)


def _sign(x):
    return 0.0 if x != x else type(x)((x > 0) - (x < 0))


def _atanh(x):
    if x == 1 or x == -1:
        return math.copysign(_INF, x)
    return math.atanh(x) if -1 < x < 1 else _NAN


_UNARY = {
    "neg": operator.neg, "abs": abs, "exp": _exp,
    "log": _log_with(math.log), "log2": _log_with(math.log2),
    "sqrt": lambda x: math.sqrt(x) if x >= 0 else _NAN,
    "rsqrt": lambda x: _div(1.0, math.sqrt(x)) if x >= 0 else _NAN,
    "sin": _ieee(math.sin), "cos": _ieee(math.cos), "tan": _ieee(math.tan),
    "tanh": math.tanh, "sigmoid": lambda x: 1.0 / (1.0 + _exp(-x)),
    "sign": _sign, "floor": _rounding(math.floor), "ceil": _rounding(math.ceil),
    "round": _rounding(round), "trunc": _rounding(math.trunc), "reciprocal": lambda x: _div(1.0, x),
    "log1p": lambda x: math.log1p(x) if x > -1 else (-_INF if x == -1 else _NAN),
    "expm1": _ieee(math.expm1), "erf": math.erf, "erfc": math.erfc, "erfinv": special.erfinv,
    "lgamma": special.lgamma, "digamma": special.digamma,
    "acosh": lambda x: math.acosh(x) if x >= 1 else _NAN, "asinh": math.asinh, "atanh": _atanh,
    "log10": _log_with(math.log10),
    "asin": _ieee(math.asin), "acos": _ieee(math.acos), "atan": math.atan,
    "sinh": _ieee(math.sinh, lambda x: math.copysign(_INF, x)),
    "cosh": _ieee(math.cosh), "exp2": _ieee(lambda x: 2.0 ** x),
    "logical_not": operator.not_, "isnan": math.isnan, "isinf": math.isinf, "isfinite": math.isfinite,
}

_BINARY = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": _div, "floordiv": _floordiv,
    "remainder": _remainder, "fmod": _fmod, "pow": _pow, "maximum": _nan_max, "minimum": _nan_min,
    "atan2": math.atan2, "copysign": math.copysign, "bitwise_and": operator.and_, "bitwise_or": operator.or_,
    "bitwise_xor": operator.xor,
    "eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "le": operator.le, "gt": operator.gt,
    "ge": operator.ge, "logical_and": lambda a, b: bool(a) and bool(b),
    "logical_or": lambda a, b: bool(a) or bool(b), "logical_xor": lambda a, b: bool(a) != bool(b),
}

_REDUCE = {
    "sum": sum, "prod": math.prod, "any": any, "all": all,
    "max": lambda line: functools.reduce(_nan_max, line), "min": lambda line: functools.reduce(_nan_min, line),
}


def _arg_extreme(line, better):
    """Index of the first best value of ``line`` (``better`` is ``>`` or ``<``)."""
    best = 0
    for i, v in enumerate(line):
        if v != v:  # NaN counts as the extreme; the first one wins
            return i
        if better(v, line[best]):
            best = i
    return best


class PyListBackend(Backend):
    """Plain-Python implementation of the kernel interface (see ``plugrad.extend.Backend``)."""

    #: every dtype but bfloat16: the device computes in Python floats, and bfloat16 would
    #: need every result rounded through float32 to match PyTorch; tensors of it are
    #: refused by name (``'to' for dtype torch.bfloat16 is not supported on device 'pylist'``)
    dtypes = frozenset(d for d in ALL_DTYPES if d.name != "bfloat16")
    deterministic = True

    # ---- memory ----------------------------------------------------------------
    def empty(self, shape, dtype):
        return PyArray(array(_TYPECODE[dtype], [0]) * numel(shape), shape, contiguous_strides(shape), 0, dtype)

    def from_bytes(self, data, shape, dtype):
        values = struct.unpack(f"<{numel(shape)}{struct_code(dtype)}", data)
        return PyArray(array(_TYPECODE[dtype], values), shape, contiguous_strides(shape), 0, dtype)

    def to_bytes(self, x):
        return struct.pack(f"<{numel(x.shape)}{struct_code(x.dtype)}", *_read(x, x.shape))

    def view(self, base, shape, strides, offset):
        return PyArray(base.data, shape, strides, offset, base.dtype)

    # ---- compute ---------------------------------------------------------------
    def copy(self, src, out):
        _write(out, _read(src, out.shape))

    def fill(self, out, value):
        _write(out, [value] * numel(out.shape))

    def unary(self, op, x, out):
        if op == "bitwise_not":
            f = operator.not_ if x.dtype is bool_ else operator.invert
        else:
            f = _UNARY[op]
        _write(out, [f(v) for v in _read(x, out.shape)])

    def binary(self, op, a, b, out):
        f = _BINARY[op]
        _write(out, [f(u, v) for u, v in zip(_read(a, out.shape), _read(b, out.shape))])

    def where(self, cond, a, b, out):
        shape = out.shape
        _write(out, [u if c else v for c, u, v in zip(_read(cond, shape), _read(a, shape), _read(b, shape))])

    def reduce(self, op, x, axes, out):
        _write(out, [_REDUCE[op](line) for line in _lines(x, axes)])

    def arg_reduce(self, op, x, axis, out):
        better = operator.gt if op == "argmax" else operator.lt
        _write(out, [_arg_extreme(line, better) for line in _lines(x, (axis,))])

    def scan(self, op, x, axis, out):
        step = operator.add if op == "cumsum" else operator.mul
        lines = [list(itertools.accumulate(line, step)) for line in _lines(x, (axis,))]
        # the lines run along ``axis``; write them through ``out`` with that axis moved last too
        keep = [d for d in range(len(out.shape)) if d != axis] + [axis]
        moved = PyArray(out.data, [out.shape[d] for d in keep], [out.strides[d] for d in keep], out.offset, out.dtype)
        _write(moved, [v for line in lines for v in line])

    def matmul(self, a, b, out):
        batched = len(out.shape) == 3
        nb, m, n = out.shape if batched else (1, *out.shape)
        k = a.shape[-1]
        av = _read(a, (nb, m, k) if batched else (m, k))
        bv = _read(b, (nb, k, n) if batched else (k, n))
        values = []
        for p in range(nb):
            rows = [av[(p * m + i) * k:(p * m + i + 1) * k] for i in range(m)]
            cols = [bv[p * k * n + j::n][:k] for j in range(n)]
            values += [sum(map(operator.mul, r, c)) for r in rows for c in cols]
        _write(out, values)

    def take(self, base, index, out):
        data = base.data
        _write(out, [data[i] for i in _read(index, index.shape)])

    def put(self, base, index, values, accumulate):
        data, store = base.data, _STORE[base.dtype]
        for i, v in zip(_read(index, index.shape), _read(values, index.shape)):
            data[i] = store(data[i] + v if accumulate else v)

    def nonzero(self, x):
        found = [idx for idx, v in zip(itertools.product(*map(range, x.shape)), _read(x, x.shape)) if v]
        out = self.empty((len(found), len(x.shape)), int64)
        _write(out, [i for idx in found for i in idx])
        return out, len(found)

