"""The cpu device's random engine: PyTorch's CPU streams, vectorised with NumPy.

The core's ``plugrad._torchrng`` defines every stream in pure Python; this module
computes the same bits with arrays. The words come from NumPy's own mt19937
(``np.random.MT19937`` takes the state as ``{'key': 624 words, 'pos': n}`` and
``random_raw`` returns the tempered 32-bit words), the transforms follow ATen's:

* float32 ``normal`` (16+ contiguous elements): ATen's ``avx_mathfun`` Box-Muller in
  float32, each multiply-add GCC fuses computed as one exactly rounded FMA (the product
  is exact in float64; a sum that lands on a float32 halfway point is nudged towards its
  rounding error before the final rounding, so no value is rounded twice);
* with the ``jit`` extra (Numba) installed, the normal fills of :data:`JIT_MIN` or more
  elements run compiled instead (``plugrad_cpu.rng_jit``: true FMAs, the same values,
  about 4x faster in float32 and 6x in float64: bench/results/random.md);
  ``PLUGRAD_CPU_JIT=0`` in the environment, or ``JIT_MIN = None``, keeps them on NumPy;
* transcendental functions of doubles (``log``, ``log1p``, ``sin``, ``cos``, ``tan``)
  call Python's ``math`` (the C library PyTorch calls) element by element through
  ``np.frompyfunc``, because NumPy's own SIMD versions differ in the last bit;
* the serial paths (fewer than 16 normals, non-contiguous normals, ``log_normal``) are
  the core's reference itself.

Every result equals ``plugrad._torchrng.stream`` bit for bit (checked by the
conformance suite's ``random_stream`` case and core/tests/test_random_streams.py).
"""

from __future__ import annotations

import math
import threading

import ml_dtypes
import numpy as np

from plugrad.extend import FLOAT_DIGITS, MATHFUN_F32, fma64, reference_stream

from . import jit

__all__ = ["random_stream", "JIT_MIN"]

_F32, _F64, _U64 = np.float32, np.float64, np.uint64
_LOCK = threading.Lock()
_BITGEN = np.random.MT19937(0)
_CHUNK = 1 << 18           # elements per block of the float32 normal transform (fewer, larger NumPy calls)
#: normal fills of this many elements or more run compiled when Numba is installed (below
#: it NumPy's fill costs less than loading Numba, which the first large fill does); None:
#: never (the environment's ``PLUGRAD_CPU_JIT=0`` sets it so)
JIT_MIN = 1 << 16 if jit.ENABLED else None
_NP_DTYPE = {"float16": np.float16, "bfloat16": ml_dtypes.bfloat16, "float32": np.float32, "float64": np.float64,
             "bool": np.bool_, "uint8": np.uint8, "int8": np.int8, "int16": np.int16, "int32": np.int32,
             "int64": np.int64}


def _words(state, n: int) -> np.ndarray:
    """The next ``n`` words of ``state`` as uint32, advancing it (NumPy's mt19937)."""
    if n == 0:
        return np.empty(0, np.uint32)
    with _LOCK:
        _BITGEN.state = {"bit_generator": "MT19937",
                         "state": {"key": np.asarray(state.key, dtype=np.uint32), "pos": int(state.pos)}}
        w = _BITGEN.random_raw(n).astype(np.uint32)
        st = _BITGEN.state["state"]
    state.key, state.pos, state.fresh = st["key"], int(st["pos"]), False
    return w


def _words64(state, n: int) -> np.ndarray:
    w = _words(state, 2 * n).astype(_U64)
    return (w[0::2] << _U64(32)) | w[1::2]


def _uniform01(state, n: int, double: bool) -> np.ndarray:
    return _to_uniform01(_words(state, 2 * n if double else n), double)


def _to_uniform01(w: np.ndarray, double: bool) -> np.ndarray:
    """Uniforms in [0, 1) from uint32 words: the low 53 bits of each pair (first word
    high) times 2**-53 for double, the low 24 bits of each word times 2**-24 else."""
    if double:
        w = w.astype(_U64)
        return (((w[0::2] << _U64(32)) | w[1::2]) & _U64((1 << 53) - 1)).astype(_F64) * 2.0 ** -53
    return (w & np.uint32(0xFFFFFF)).astype(_F32) * _F32(2.0 ** -24)


_MID_MASK, _MID = _U64(0x1FFFFFFF), _U64(0x10000000)


def _fma(a, b, c) -> np.ndarray:
    """``fmaf(a, b, c)`` elementwise for float32 operands (arrays or scalars): the exact
    product in float64 plus ``c``, rounded to float32 once. A double sum that lands
    exactly on a float32 half-way point (rare) is nudged towards its rounding error
    first, so that the final rounding rounds the exact value."""
    s = np.multiply(a, b, dtype=_F64)
    s += c
    mid = (s.view(_U64) & _MID_MASK) == _MID
    if mid.any():
        idx = np.nonzero(mid)[0]
        ps = np.multiply(_at(a, idx, s.shape), _at(b, idx, s.shape), dtype=_F64)
        ss, cs = s[idx], _at(c, idx, s.shape)
        bv = ss - ps
        err = (ps - (ss - bv)) + (cs - bv)
        s[idx] = np.where(err == 0, ss, np.nextafter(ss, np.where(err > 0, np.inf, -np.inf)))
    return s.astype(_F32)


def _at(v, idx, shape) -> np.ndarray:
    """The elements ``idx`` of ``v`` (an array of ``shape``, or a scalar) as float64."""
    return np.broadcast_to(np.asarray(v, _F64), shape)[idx]


_LOG_P, _DP, _COSC, _SINC = ([_F32(v) for v in MATHFUN_F32[k]] for k in ("log_p", "dp", "cosc", "sinc"))
_LOG_Q1, _LOG_Q2, _SQRTHF, _FOPI, _TWO_PI = (_F32(MATHFUN_F32[k]) for k in ("log_q1", "log_q2", "sqrthf", "fopi",
                                                                          "two_pi"))


def _log_ps(x: np.ndarray) -> np.ndarray:
    """``plugrad._torchrng.log_ps`` on a float32 array of values in (0, 1] (``1 - u``:
    never below float32's smallest normal, so no clamping)."""
    u = x.view(np.int32)
    e = ((u >> 23) - 0x7E).astype(_F32)
    x = ((u & ~0x7F800000) | 0x3F000000).view(_F32)
    mask = x < _SQRTHF
    x = (x - _F32(1)) + np.where(mask, x, _F32(0))
    e -= mask
    z = x * x
    y = _fma(x, _LOG_P[0], _LOG_P[1])
    for p in _LOG_P[2:]:
        y = _fma(y, x, p)
    y = _fma(y * x, z, e * _LOG_Q1)
    y = _fma(z, _F32(-0.5), y)
    return _fma(e, _LOG_Q2, x + y)


def _sincos_ps(x: np.ndarray) -> tuple:
    """``plugrad._torchrng.sincos_ps`` on a float32 array of angles in [0, 2 pi)."""
    j = (x * _FOPI).astype(np.int32)
    j += 1
    j &= ~1
    y = j.astype(_F32)
    for dp in _DP:
        x = _fma(y, dp, x)
    z = x * x
    yc = _fma(_fma(z, _COSC[0], _COSC[1]), z, _COSC[2])
    yc = _fma(yc * z, z, -(z * _F32(0.5))) + _F32(1)
    ys = _fma(_fma(z, _SINC[0], _SINC[1]), z, _SINC[2])
    ys = _fma(ys * z, x, x)
    poly = (j & 2) == 0
    s, c = np.where(poly, ys, yc), np.where(poly, yc, ys)
    np.negative(s, out=s, where=(j & 4) != 0)
    np.negative(c, out=c, where=((j - 2) & 4) == 0)
    return s, c


def _fill16_float(u: np.ndarray, mean, std) -> np.ndarray:
    """``normal_fill_16_AVX2`` over the 16-blocks of ``u`` (float32, length a multiple of
    16), a chunk at a time."""
    out = np.empty_like(u)
    blocks_in, blocks_out = u.reshape(-1, 16), out.reshape(-1, 16)
    identity = mean == 0 and std == 1
    rows = _CHUNK // 16
    for start in range(0, blocks_in.shape[0], rows):
        b = blocks_in[start:start + rows]
        radius = np.sqrt(_F32(-2) * _log_ps((_F32(1) - b[:, :8]).ravel()))
        s, c = _sincos_ps(_TWO_PI * b[:, 8:].ravel())
        n1, n2 = radius * c, radius * s
        if identity:        # fma(v, 1, mean) = v + mean: -0.0 + 0.0 is +0.0, as ATen's fmadd gives
            n1, n2 = n1 + mean, n2 + mean
        else:
            n1, n2 = _fma(n1, std, mean), _fma(n2, std, mean)
        o = blocks_out[start:start + rows]
        o[:, :8] = n1.reshape(-1, 8)
        o[:, 8:] = n2.reshape(-1, 8)
    return out


_LOG, _LOG1P = np.frompyfunc(math.log, 1, 1), np.frompyfunc(math.log1p, 1, 1)
_COS, _SIN, _TAN = np.frompyfunc(math.cos, 1, 1), np.frompyfunc(math.sin, 1, 1), np.frompyfunc(math.tan, 1, 1)


def _libm(fn, x: np.ndarray) -> np.ndarray:
    """``fn`` of Python's math module over a float64 array."""
    return fn(x).astype(_F64) if x.size else x.copy()


def _fill16_double(u: np.ndarray, mean, std) -> np.ndarray:
    b = u.reshape(-1, 16)
    radius = np.sqrt(-2.0 * _libm(_LOG, 1.0 - b[:, :8]))
    theta = 2.0 * math.pi * b[:, 8:]
    out = np.empty_like(b)
    out[:, :8] = radius * _libm(_COS, theta)
    out[:, 8:] = radius * _libm(_SIN, theta)
    out = out.ravel()
    return out + mean if std == 1 else _fma64(out, std, mean)      # fma(v, 1, mean) is v + mean


def _jit_engine():
    """``plugrad_cpu.rng_jit`` (imported on first need: loading Numba takes a while), or
    None where Numba is not installed (or cannot be imported with this NumPy)."""
    return jit.load("rng_jit")


def _filler(n: int, double: bool):
    """``fill(words, out)`` for normal fills of ``n`` elements: compiled from
    :data:`JIT_MIN` elements on where Numba is there (and, for float64, reproduces the
    C library), else NumPy's."""
    jit = _jit_engine() if JIT_MIN is not None and n >= JIT_MIN else None
    if jit is not None and not double:
        return jit.fill16_float
    if jit is not None and jit.FLOAT64:
        return jit.fill16_double
    numpy_fill = _fill16_double if double else _fill16_float

    def fill(words, mean, std, out):
        out[:] = numpy_fill(_to_uniform01(words, double), mean, std)
    return fill


def _normal(state, n, name, mean, std, contiguous):
    if n < 16 or not contiguous:
        return None
    double = name == "float64"
    mean, std = (float(mean), float(std)) if double else (_F32(mean), _F32(std))
    per = 2 if double else 1        # words per element
    fill = _filler(n, double)
    words = _words(state, per * n)
    full = n // 16 * 16
    out = np.empty(n, _F64 if double else _F32)
    fill(words[:per * full], mean, std, out[:full])
    if n % 16:
        fill(_words(state, per * 16), mean, std, out[n - 16:])
    return out


_SPLIT = 134217729.0      # 2**27 + 1: Veltkamp's split of a double into two 26-bit halves


def _fma64(a: np.ndarray, b: float, c: float) -> np.ndarray:
    """``fma(a, b, c)`` for a float64 array and two doubles: the product and sum as exact
    double-double pairs (Dekker, Knuth); the few results whose last rounding is a
    near-tie the pair cannot settle are recomputed exactly (``plugrad._torchrng.fma64``)."""
    ta = _SPLIT * a
    ah = ta - (ta - a)
    al = a - ah
    tb = _SPLIT * b
    bh = tb - (tb - b)
    bl = b - bh
    p = a * b
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    s = p + c
    bv = s - p
    t = (p - (s - bv)) + (c - bv)
    u = t + e
    r = s + u
    delta = (t - (u - (u - t))) + (e - (u - t))          # rounding error of t + e
    res = (s - r) + u                                   # what r left out of s + u
    hard = (delta != 0) & (np.abs(res) * 2 >= np.spacing(r) * 0.999)
    if hard.any():
        for i in np.nonzero(hard)[0]:
            r[i] = fma64(float(a[i]), b, c)
    return r


def _uniform(state, n, name, low, high):
    if name == "float64":
        return _fma64(_uniform01(state, n, True), high - low, low)
    lo32, hi32 = _F32(low), _F32(high)
    values = _fma(_uniform01(state, n, False), hi32 - lo32, lo32)
    if name == "float32":
        return values
    values = values.astype(_NP_DTYPE[name])
    top, bottom = np.asarray([high, low], _F32).astype(_NP_DTYPE[name])
    values[values == top] = bottom
    return values


def _integers(state, n, name, span, base):
    wide = span >= 1 << 32 and name in ("int64", "float64", "float32", "bfloat16")
    w = _words64(state, n) if wide else _words(state, n).astype(_U64)
    return ((w % _U64(span)) + _U64(base & ((1 << 64) - 1))).view(np.int64)


def _random_int(state, n, name):
    if name == "bool":
        return (_words(state, n) & 1).astype(np.bool_)
    w = _words64(state, n) if name in ("int64", "float64") else _words(state, n).astype(_U64)
    if name in FLOAT_DIGITS:
        mod = (1 << FLOAT_DIGITS[name]) + 1
    else:
        mod = {"uint8": 256, "int8": 128, "int16": 1 << 15, "int32": 1 << 31, "int64": 1 << 63}[name]
    return (w % _U64(mod)).view(np.int64)


def _full64(state, n, name):
    return _words64(state, n).view(np.int64)


def _exponential(state, n, name, lambd):
    return -1.0 / lambd * _libm(_LOG1P, -_uniform01(state, n, True))


def _cauchy(state, n, name, median, sigma):
    return _fma64(_libm(_TAN, math.pi * (_uniform01(state, n, True) - 0.5)), sigma, median)


def _geometric(state, n, name, p):
    return np.ceil(_libm(_LOG, _uniform01(state, n, True)) / math.log1p(-p))


def _bernoulli(state, n, name, p):
    return _uniform01(state, n, True) < p


def _bernoulli_tensor(state, n, name, probs, double):
    return _uniform01(state, n, double) < np.asarray(probs, _F64 if double else _F32)


def _randperm(state, n, name):
    perm = list(range(n))
    if n >= 0xFFFFFFFF // 20:
        zs = (_words64(state, n) % np.arange(1, n + 1, dtype=_U64)).tolist()
        for i, z in enumerate(zs):
            perm[i] = perm[z]
            perm[z] = i
        return np.asarray(perm, np.int64)
    if n > 1:
        zs = (_words(state, n - 1).astype(np.int64) % np.arange(n, 1, -1, dtype=np.int64)
              + np.arange(n - 1, dtype=np.int64)).tolist()
        for i, z in enumerate(zs):
            perm[i], perm[z] = perm[z], perm[i]
    return np.asarray(perm, np.int64)


def _multinomial(state, n, name, probs, categories, p_dtype):
    p = np.asarray(probs, _NP_DTYPE[p_dtype] if p_dtype in ("float32", "float64") else _F32)
    rows = p.size // categories
    samples = n // max(rows, 1)
    out = np.empty((rows, samples), np.int64)
    for r in range(rows):
        cum = np.cumsum(p[r * categories:(r + 1) * categories], dtype=p.dtype)
        total = cum[-1]
        if total > 0:
            cum = cum / total
        cum[-1] = 1
        out[r] = np.searchsorted(cum.astype(_F64), _uniform01(state, samples, True), side="left")
    return out.ravel()


_KINDS = {"uniform": _uniform, "normal": _normal, "integers": _integers, "random_int": _random_int,
          "full64": _full64, "exponential": _exponential, "cauchy": _cauchy, "geometric": _geometric,
          "bernoulli": _bernoulli, "bernoulli_tensor": _bernoulli_tensor, "randperm": _randperm,
          "multinomial": _multinomial}


def random_stream(kind: str, state, n: int, dtype_name: str, args: tuple):
    """``Backend.random_stream`` with arrays: the values of ``plugrad._torchrng.stream`` as
    a NumPy array of ``dtype_name`` (a buffer the core reads as bytes)."""
    fn = _KINDS.get(kind)
    values = fn(state, n, dtype_name, *args) if fn is not None else None
    if values is None:      # a serial path: the reference, element by element
        values = reference_stream(kind, state, n, dtype_name, args)
    return np.ascontiguousarray(np.asarray(values).astype(_NP_DTYPE[dtype_name], copy=False))
