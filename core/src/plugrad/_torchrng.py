"""PyTorch's CPU random streams in pure Python: the state, the engine and the transforms.

PyTorch's CPU generator is a Mersenne Twister (mt19937) seeded as the reference
implementation seeds it (``init_genrand`` with the seed's low 32 bits). Each sampler
turns its 32-bit words (``random()``) or pairs of them (``random64()``: first word high)
into values with a transform fixed in ATen's source (``DistributionsHelper.h``,
``TransformationHelper.h``, ``cpu/DistributionTemplates.h``...). This module
reproduces both, bit for bit, in the standard library only: it is the default of the
optional kernel ``Backend.random_stream`` (the reference every faster engine, such as
the cpu device's NumPy one, must equal) and what a device without its own engine
draws through.

:class:`MTState` is the whole generator state: the 624 words, the position, and the
two cached normal samples PyTorch keeps for its scalar normal path. ``stream(kind,
state, n, dtype, args)`` draws ``n`` values of one kind and returns them packed as
little-endian bytes of ``dtype``; every kind is listed in :data:`STREAM_KINDS`.

Where PyTorch's algorithm depends on the processor, this module follows the x86 build
with AVX2 or AVX512 kernels (every x86 CPU of the last decade): float32
``normal_``/``randn`` of 16 or more contiguous elements uses ATen's ``avx_mathfun``
Box-Muller, whose float32 polynomials (and the multiply-adds GCC fuses in them) are
emulated exactly. docs/randomness.md lists the paths that differ elsewhere.
"""

from __future__ import annotations

import math
import struct
from array import array
from fractions import Fraction

from .dtypes import bfloat16_from_words, bfloat16_words

__all__ = ["MTState", "seed_key", "words", "stream", "STREAM_KINDS", "fma32", "fma64", "log_ps", "sincos_ps",
           "round_to", "FLOAT_DIGITS"]

_N, _M = 624, 397
_F = struct.Struct("<f")
_I = struct.Struct("<I")
_D = struct.Struct("<d")
_Q = struct.Struct("<Q")


class MTState:
    """One mt19937 stream: ``key`` (624 words, any sequence of ints), ``pos`` (words of
    ``key`` already used, 624 = twist before the next word), ``fresh`` (seeded and not
    drawn from yet: PyTorch then reports ``next = 0``), and the cached second samples of
    PyTorch's scalar normal path (``normal_double``, ``normal_float``: a float or None)."""

    __slots__ = ("key", "pos", "fresh", "normal_double", "normal_float")

    def __init__(self, seed: int = 67280421310721):
        self.reseed(seed)

    def reseed(self, seed: int) -> None:
        """``mt19937(seed)``: ``init_genrand`` with the low 32 bits; the caches are emptied."""
        self.key, self.pos, self.fresh = seed_key(seed), _N, True
        self.normal_double = self.normal_float = None


def seed_key(seed: int) -> list:
    """The 624 state words of ``init_genrand(seed & 0xffffffff)``."""
    s = int(seed) & 0xFFFFFFFF
    key = [s]
    for j in range(1, _N):
        s = (1812433253 * (s ^ (s >> 30)) + j) & 0xFFFFFFFF
        key.append(s)
    return key


def _twist(key: list) -> None:
    for i in range(_N):
        y = (key[i] & 0x80000000) | (key[(i + 1) % _N] & 0x7FFFFFFF)
        key[i] = key[(i + _M) % _N] ^ (y >> 1) ^ (0x9908B0DF if y & 1 else 0)


def words(state: MTState, n: int) -> list:
    """The next ``n`` 32-bit words of ``state`` (tempered), advancing it."""
    key = state.key if isinstance(state.key, list) else [int(k) for k in state.key]
    out, pos = [], state.pos
    while len(out) < n:
        if pos >= _N:
            _twist(key)
            pos = 0
        take = min(_N - pos, n - len(out))
        for y in key[pos:pos + take]:
            y ^= y >> 11
            y ^= (y << 7) & 0x9D2C5680
            y ^= (y << 15) & 0xEFC60000
            out.append(y ^ (y >> 18))
        pos += take
    state.key, state.pos = key, pos
    if n:
        state.fresh = False
    return out


def _words64(state: MTState, n: int) -> list:
    """``random64()`` n times: two words, the first one high."""
    w = words(state, 2 * n)
    return [(w[2 * i] << 32) | w[2 * i + 1] for i in range(n)]


# ---- float32 arithmetic in Python floats ---------------------------------------------------------

def _r32(x: float) -> float:
    return _F.unpack(_F.pack(x))[0]


def fma32(a: float, b: float, c: float) -> float:
    """``fmaf(a, b, c)`` for float32 values: one rounding of the exact ``a*b + c``.
    ``a*b`` is exact in a double; the double sum is nudged off a float32 halfway point
    in the direction of its rounding error, so that rounding it to float32 rounds the
    exact value (no double rounding)."""
    p = a * b
    s = p + c
    bv = s - p
    err = (p - (s - bv)) + (c - bv)
    if err and (_Q.unpack(_D.pack(s))[0] & 0x1FFFFFFF) == 0x10000000:
        s = math.nextafter(s, math.inf if err > 0 else -math.inf)
    return _r32(s)


def _bits(x: float) -> int:
    return _I.unpack(_F.pack(x))[0]


def _from_bits(u: int) -> float:
    return _F.unpack(_I.pack(u & 0xFFFFFFFF))[0]


_LOG_P = [_r32(v) for v in (7.0376836292E-2, -1.1514610310E-1, 1.1676998740E-1, -1.2420140846E-1,
                            1.4249322787E-1, -1.6668057665E-1, 2.0000714765E-1, -2.4999993993E-1,
                            3.3333331174E-1)]
_LOG_Q1, _LOG_Q2, _SQRTHF = _r32(-2.12194440e-4), _r32(0.693359375), _r32(0.707106781186547524)
_DP = [_r32(-0.78515625), _r32(-2.4187564849853515625e-4), _r32(-3.77489497744594108e-8)]
_COSC = [_r32(v) for v in (2.443315711809948E-005, -1.388731625493765E-003, 4.166664568298827E-002)]
_SINC = [_r32(v) for v in (-1.9515295891E-4, 8.3321608736E-3, -1.6666654611E-1)]
_FOPI, _TWO_PI = _r32(1.27323954473516), _r32(2.0 * math.pi)
#: the float32 constants of avx_mathfun's log256_ps and sincos256_ps (cephes), by name:
#: every engine that reproduces PyTorch's AVX2 float32 normal path shares these
MATHFUN_F32 = {"log_p": tuple(_LOG_P), "log_q1": _LOG_Q1, "log_q2": _LOG_Q2, "sqrthf": _SQRTHF, "dp": tuple(_DP),
               "cosc": tuple(_COSC), "sinc": tuple(_SINC), "fopi": _FOPI, "two_pi": _TWO_PI}


def log_ps(x: float) -> float:
    """ATen's ``log256_ps`` (avx_mathfun, Cephes' logf) on one positive float32, with
    the multiply-adds GCC fuses into FMAs where it builds ATen's AVX2/AVX512 kernels."""
    u = _bits(max(x, 1.1754943508222875e-38))
    e = _r32(float((u >> 23) - 0x7F) + 1.0)
    x = _from_bits((u & ~0x7F800000) | 0x3F000000)
    mask = x < _SQRTHF
    x = _r32(_r32(x - 1.0) + (x if mask else 0.0))
    if mask:
        e = e - 1.0
    z = _r32(x * x)
    y = _LOG_P[0]
    for p in _LOG_P[1:]:
        y = fma32(y, x, p)
    y = _r32(y * x)
    y = fma32(y, z, _r32(e * _LOG_Q1))
    y = fma32(z, -0.5, y)
    return fma32(e, _LOG_Q2, _r32(x + y))


def sincos_ps(x: float) -> tuple:
    """ATen's ``sincos256_ps`` (Cephes' sinf/cosf) on one float32: ``(sin x, cos x)``."""
    negative = x < 0
    x = abs(x)
    j = int(_r32(x * _FOPI))
    j = (j + 1) & ~1
    y = float(j)
    swap_sin = bool(j & 4)
    poly = (j & 2) == 0
    for dp in _DP:
        x = fma32(y, dp, x)
    sign_cos = bool(~(j - 2) & 4)
    z = _r32(x * x)
    yc = fma32(fma32(_COSC[0], z, _COSC[1]), z, _COSC[2])
    yc = fma32(_r32(yc * z), z, -_r32(z * 0.5))
    yc = _r32(yc + 1.0)
    ys = fma32(fma32(_SINC[0], z, _SINC[1]), z, _SINC[2])
    ys = fma32(_r32(ys * z), x, x)
    s, c = (ys, yc) if poly else (yc, ys)
    return (-s if negative != swap_sin else s), (-c if sign_cos else c)


# ---- the transforms ----------------------------------------------------------------------------

FLOAT_DIGITS = {"float16": 11, "bfloat16": 8, "float32": 24, "float64": 53}


def _uniform01(state: MTState, n: int, name: str) -> list:
    """``uniform_real_distribution<T>(0, 1)``: the low 53 bits of ``random64()`` times
    2**-53 for double; the low 24 bits of ``random()`` times 2**-24 otherwise (float16
    and bfloat16 compute in float32 and round the result)."""
    if name == "float64":
        return [(w & ((1 << 53) - 1)) * 2.0 ** -53 for w in _words64(state, n)]
    return [(w & 0xFFFFFF) * 2.0 ** -24 for w in words(state, n)]


def round_to(values: list, name: str) -> list:
    """Python floats as ``name`` rounds them (float16 and bfloat16 through float32)."""
    if name == "float64":
        return values
    values = array("f", values).tolist()
    if name == "float16":
        return [struct.unpack("<e", struct.pack("<e", v))[0] for v in values]
    if name == "bfloat16":
        return bfloat16_from_words(bfloat16_words(values))
    return values


def fma64(a: float, b: float, c: float) -> float:
    """``fma(a, b, c)`` for doubles: the exact ``a*b + c`` (as a fraction), rounded once."""
    return float(Fraction(a) * Fraction(b) + Fraction(c))


def _uniform(state, n, name, low, high):
    """``uniform_real_distribution<T>(from, to)``: ``x * (to - from) + from`` with the
    multiply-add fused (as GCC builds ATen's kernels), in double for float64 and in
    float32 for the others; float16 and bfloat16 round the result, and a result that
    rounds up to ``to`` becomes ``from`` (PyTorch keeps the interval half-open)."""
    x = _uniform01(state, n, name)
    if name == "float64":
        span = high - low
        return [fma64(v, span, low) for v in x]
    lo32, hi32 = _r32(low), _r32(high)
    span = _r32(hi32 - lo32)
    values = [fma32(v, span, lo32) for v in x]
    if name == "float32":
        return values
    values = round_to(values, name)
    top, bottom = round_to([high, low], name)
    return [bottom if v == top else v for v in values]


def _normal_pair(state: MTState) -> tuple:
    """``normal_distribution<double>``'s Box-Muller: ``(r cos, r sin)`` of two doubles."""
    u1, u2 = _uniform01(state, 2, "float64")
    r = math.sqrt(-2.0 * math.log1p(-u2))
    theta = 2.0 * math.pi * u1
    return r * math.cos(theta), r * math.sin(theta)


def _normal_scalar(state: MTState, n: int, mean: float, std: float) -> list:
    """PyTorch's serial normal path (fewer than 16 or non-contiguous elements): one
    ``normal_distribution<double>`` draw per element, the second sample of each pair
    cached in the generator for the next draw."""
    out = []
    for _ in range(n):
        if state.normal_double is not None:
            v, state.normal_double = state.normal_double, None
        else:
            v, state.normal_double = _normal_pair(state)
        out.append(fma64(v, std, mean))     # val * std + mean, fused as GCC builds ATen
    return out


def _normal_fill_avx2(data: list, mean: float, std: float) -> list:
    """``normal_fill_16_AVX2`` over every 16-block of float32 uniforms."""
    out = list(data)
    for b in range(0, len(data) - 15, 16):
        for j in range(8):
            u1 = _r32(1.0 - data[b + j])
            radius = _r32(math.sqrt(_r32(-2.0 * log_ps(u1))))
            s, c = sincos_ps(_r32(_TWO_PI * data[b + j + 8]))
            out[b + j] = fma32(_r32(radius * c), std, mean)
            out[b + j + 8] = fma32(_r32(radius * s), std, mean)
    return out


def _normal_fill_double(data: list, mean: float, std: float) -> list:
    """``normal_fill_16<double>`` (glibc's ``log``/``cos``/``sin``, as Python's math)."""
    out = list(data)
    for b in range(0, len(data) - 15, 16):
        for j in range(8):
            radius = math.sqrt(-2.0 * math.log(1.0 - data[b + j]))
            theta = 2.0 * math.pi * data[b + j + 8]
            out[b + j] = fma64(radius * math.cos(theta), std, mean)
            out[b + j + 8] = fma64(radius * math.sin(theta), std, mean)
    return out


def _normal(state, n, name, mean, std, contiguous):
    """``normal_kernel``: 16 or more contiguous elements fill blocks of 16 from uniforms
    drawn all at once (the last, partial block recomputed from 16 fresh uniforms);
    otherwise the serial path."""
    if n < 16 or not contiguous:
        return _normal_scalar(state, n, mean, std)
    fill = _normal_fill_double if name == "float64" else _normal_fill_avx2
    if name != "float64":
        mean, std = _r32(mean), _r32(std)
    data = fill(_uniform01(state, n, "float64" if name == "float64" else "float32"), mean, std)
    if n % 16:
        data[n - 16:] = fill(_uniform01(state, 16, "float64" if name == "float64" else "float32"), mean, std)
    return data


def _integers(state, n, name, span, base):
    """``uniform_int_from_to_distribution``: ``word % span + base``, with ``random64()``
    words for a span of 2**32 or more (int64 and the float types) and ``random()`` words
    otherwise."""
    wide = span >= 1 << 32 and name in ("int64", "float64", "float32", "bfloat16")
    ws = _words64(state, n) if wide else words(state, n)
    return [_signed64(w % span + base) for w in ws]


def _signed64(v: int) -> int:
    v &= (1 << 64) - 1
    return v - (1 << 64) if v >> 63 else v


def _random_int(state, n, name):
    """``uniform_int_distribution<T>`` (``random_()`` with no bounds): a word modulo
    ``max + 1`` (floats: ``2**digits + 1``), 64-bit words for int64 and double."""
    if name == "bool":
        return [bool(w & 1) for w in words(state, n)]
    wide = name in ("int64", "float64")
    ws = _words64(state, n) if wide else words(state, n)
    if name in FLOAT_DIGITS:
        mod = (1 << FLOAT_DIGITS[name]) + 1
    else:
        mod = {"uint8": 256, "int8": 128, "int16": 1 << 15, "int32": 1 << 31, "int64": 1 << 63}[name]
    return [w % mod for w in ws]


def _full64(state, n, name):
    return [_signed64(w) for w in _words64(state, n)]


def _exponential(state, n, name, lambd):
    """``exponential_distribution<double>``: ``-1/lambda * log1p(-u)``."""
    return [-1.0 / lambd * math.log1p(-u) for u in _uniform01(state, n, "float64")]


def _cauchy(state, n, name, median, sigma):
    return [fma64(sigma, math.tan(math.pi * (u - 0.5)), median) for u in _uniform01(state, n, "float64")]


def _log_normal(state, n, name, mean, std):
    return [math.exp(v) for v in _normal_scalar(state, n, mean, std)]


def _geometric(state, n, name, p):
    return [math.ceil(math.log(u) / math.log1p(-p)) for u in _uniform01(state, n, "float64")]


def _bernoulli(state, n, name, p):
    """``bernoulli_distribution<double>(p)``: ``u < p`` with a double uniform."""
    return [u < p for u in _uniform01(state, n, "float64")]


def _bernoulli_tensor(state, n, name, probs, double):
    """One draw per element with its own probability: a double uniform for float64
    probabilities, a float one (one word) otherwise."""
    out = []
    for p in probs:
        u = _uniform01(state, 1, "float64" if double else "float32")[0]
        out.append(u < p)
    return out


def _randperm(state, n, name):
    """``randperm_cpu``: the swaps of Fisher-Yates from the front with ``random() % (n - i)``
    (``random64() % (i + 1)`` for the inside-out variant once n reaches 2**32 / 20)."""
    if n >= 0xFFFFFFFF // 20:
        perm = list(range(n))
        for i, w in enumerate(_words64(state, n)):
            z = w % (i + 1)
            perm[i] = perm[z]
            perm[z] = i
        return perm
    perm = list(range(n))
    for i, w in enumerate(words(state, max(n - 1, 0))):
        z = w % (n - i) + i
        perm[i], perm[z] = perm[z], perm[i]
    return perm


def _multinomial(state, n, name, probs, categories, p_name):
    """``multinomial_with_replacement`` on the CPU: per row, the running sum of the
    weights in their own precision, divided by the total, its last entry set to 1; each
    sample is the first category whose cumulative weight is not below a double uniform."""
    rows = len(probs) // categories
    samples = n // max(rows, 1)
    out = []
    for r in range(rows):
        cum, total = [], 0.0
        for v in probs[r * categories:(r + 1) * categories]:
            total = round_to([total + v], p_name)[0]
            cum.append(total)
        if total > 0:
            cum = round_to([c / total for c in cum], p_name)
        cum[-1] = 1.0
        for u in _uniform01(state, samples, "float64"):
            lo, hi = 0, categories
            while hi - lo > 0:
                mid = lo + (hi - lo) // 2
                if cum[mid] < u:
                    lo = mid + 1
                else:
                    hi = mid
            out.append(lo)
    return out


#: ``kind: (transform, parameter names)``; a transform takes ``(state, n, dtype name, *args)``
STREAM_KINDS = {
    "uniform": (_uniform, ("low", "high")),
    "normal": (_normal, ("mean", "std", "contiguous")),
    "integers": (_integers, ("span", "base")),
    "random_int": (_random_int, ()),
    "full64": (_full64, ()),
    "exponential": (_exponential, ("lambd",)),
    "cauchy": (_cauchy, ("median", "sigma")),
    "log_normal": (_log_normal, ("mean", "std")),
    "geometric": (_geometric, ("p",)),
    "bernoulli": (_bernoulli, ("p",)),
    "bernoulli_tensor": (_bernoulli_tensor, ("probs", "double")),
    "randperm": (_randperm, ()),
    "multinomial": (_multinomial, ("probs", "categories", "p_dtype")),
}


def stream(kind: str, state: MTState, n: int, name: str, args: tuple) -> list:
    """``n`` values of ``kind`` (see :data:`STREAM_KINDS`) for a tensor of dtype ``name``
    as Python scalars, advancing ``state`` exactly as PyTorch's CPU kernel does."""
    values = STREAM_KINDS[kind][0](state, n, name, *args)
    if name in FLOAT_DIGITS:
        return round_to([float(v) for v in values], name)
    if name == "bool":
        return [bool(v) for v in values]
    return [int(v) for v in values]
