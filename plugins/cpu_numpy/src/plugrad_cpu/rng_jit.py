"""Compiled Box-Muller fills for the cpu device's normal streams (the ``jit`` extra, Numba).

``plugrad_cpu.rng`` computes PyTorch's CPU streams with NumPy; its slowest part is the
normal transform of 16+ contiguous elements, where every multiply-add GCC fuses in
ATen's float32 ``avx_mathfun`` kernels must be emulated as one exactly rounded FMA over
whole arrays. With Numba installed (``pip install plugrad-cpu[jit]``) this module does
that transform in one compiled loop over the pairs, with the same operations as the
pure-Python reference ``plugrad._torchrng`` in the same order:

* each fused multiply-add is a true fused multiply-add: LLVM's ``llvm.fma`` intrinsic
  (one instruction where the processor has FMA, else the C library's exactly rounded
  ``fmaf``/``fma``), emitted through :func:`numba.extending.intrinsic`;
* nothing is compiled with ``fastmath``, so LLVM neither reassociates nor contracts a
  multiply and an add on its own;
* float32 arithmetic stays in float32 (every constant is a ``np.float32``);
* float64 ``log``/``cos``/``sin`` are the C library's, as PyTorch's and Python's
  ``math`` (Numba lowers them to calls of ``log``/``cos``/``sin``). Where Numba would
  vectorise them with Intel's SVML (``numba.config.USING_SVML``), whose results may
  differ in the last bit, :data:`FLOAT64` is False and the float64 fill stays NumPy's.

``cache=True`` keeps the machine code in Numba's cache (``__pycache__`` beside this file,
or the user's cache directory when that is read-only): the first call on a machine
compiles for a few seconds, later processes load it in milliseconds. The kernels hold
no state and release the GIL, so threads drawing at once need no lock here.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from plugrad.extend import MATHFUN_F32

__all__ = ["fill16_float", "fill16_double", "FLOAT64"]

#: the float64 fill reproduces the C library's functions (no SVML vectorisation)
FLOAT64 = not numba.config.USING_SVML

_F32 = np.float32


def _fma_codegen(context, builder, signature, args):
    """A call of ``llvm.fma.f32`` or ``llvm.fma.f64`` on the three operands."""
    t = args[0].type
    fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(t, [t, t, t]),
                                        "llvm.fma.f32" if t == ir.FloatType() else "llvm.fma.f64")
    return builder.call(fn, args)


@intrinsic
def _fma32(typingctx, a, b, c):
    """``fmaf(a, b, c)``: float32 operands only (no silent conversion from float64)."""
    if a == b == c == types.float32:
        return types.float32(types.float32, types.float32, types.float32), _fma_codegen
    return None


@intrinsic
def _fma64(typingctx, a, b, c):
    """``fma(a, b, c)``: float64 operands only."""
    if a == b == c == types.float64:
        return types.float64(types.float64, types.float64, types.float64), _fma_codegen
    return None


@intrinsic
def _bits(typingctx, x):
    """The bits of a float32 as an int32."""
    if x == types.float32:
        return types.int32(types.float32), lambda ctx, builder, sig, args: builder.bitcast(args[0], ir.IntType(32))
    return None


@intrinsic
def _from_bits(typingctx, u):
    """The float32 whose bits are the low 32 bits of the integer ``u`` (Numba widens
    int32 operations to int64)."""
    if isinstance(u, types.Integer):
        def codegen(context, builder, signature, args):
            low = builder.trunc(args[0], ir.IntType(32)) if u.bitwidth > 32 else args[0]
            return builder.bitcast(low, ir.FloatType())
        return types.float32(u), codegen
    return None


_P0, _P1, _P2, _P3, _P4, _P5, _P6, _P7, _P8 = (_F32(v) for v in MATHFUN_F32["log_p"])
_Q1, _Q2, _SQRTHF = (_F32(MATHFUN_F32[k]) for k in ("log_q1", "log_q2", "sqrthf"))
_DP1, _DP2, _DP3 = (_F32(v) for v in MATHFUN_F32["dp"])
_C0, _C1, _C2 = (_F32(v) for v in MATHFUN_F32["cosc"])
_S0, _S1, _S2 = (_F32(v) for v in MATHFUN_F32["sinc"])
_FOPI, _TWO_PI = _F32(MATHFUN_F32["fopi"]), _F32(MATHFUN_F32["two_pi"])
_ONE, _HALF, _MHALF, _MTWO, _U24 = _F32(1), _F32(0.5), _F32(-0.5), _F32(-2), _F32(2.0 ** -24)
_LOW24, _LOW21 = np.uint32(0xFFFFFF), np.uint32(0x1FFFFF)
_EXP_MASK, _HALF_EXP = np.int32(~0x7F800000), np.int32(0x3F000000)
_ONE_I, _TWO_I, _FOUR_I, _NOT_ONE = np.int32(1), np.int32(2), np.int32(4), np.int32(~1)
_BIAS = np.int32(0x7E)
_TWO_PI64, _U53, _TWO32 = 2.0 * math.pi, 2.0 ** -53, 2.0 ** 32


@numba.njit(cache=True, nogil=True)
def _log_ps(x):
    """``plugrad._torchrng.log_ps`` for a float32 in (0, 1] (no clamping needed)."""
    u = _bits(x)
    e = _F32((u >> 23) - _BIAS)
    x = _from_bits((u & _EXP_MASK) | _HALF_EXP)
    if x < _SQRTHF:
        x = (x - _ONE) + x
        e = e - _ONE
    else:
        x = x - _ONE
    z = x * x
    y = _fma32(_P0, x, _P1)
    y = _fma32(y, x, _P2)
    y = _fma32(y, x, _P3)
    y = _fma32(y, x, _P4)
    y = _fma32(y, x, _P5)
    y = _fma32(y, x, _P6)
    y = _fma32(y, x, _P7)
    y = _fma32(y, x, _P8)
    y = _fma32(y * x, z, e * _Q1)
    y = _fma32(z, _MHALF, y)
    return _fma32(e, _Q2, x + y)


@numba.njit(cache=True, nogil=True)
def _sincos_ps(x):
    """``plugrad._torchrng.sincos_ps`` for a float32 angle in [0, 2 pi): ``(sin, cos)``."""
    j = np.int32(x * _FOPI)
    j = (j + _ONE_I) & _NOT_ONE
    y = _F32(j)
    x = _fma32(y, _DP1, x)
    x = _fma32(y, _DP2, x)
    x = _fma32(y, _DP3, x)
    z = x * x
    yc = _fma32(_fma32(_C0, z, _C1), z, _C2)
    yc = _fma32(yc * z, z, -(z * _HALF)) + _ONE
    ys = _fma32(_fma32(_S0, z, _S1), z, _S2)
    ys = _fma32(ys * z, x, x)
    if (j & _TWO_I) == 0:
        s, c = ys, yc
    else:
        s, c = yc, ys
    if (j & _FOUR_I) != 0:
        s = -s
    if ((j - _TWO_I) & _FOUR_I) == 0:
        c = -c
    return s, c


@numba.njit(cache=True, nogil=True)
def fill16_float(words, mean, std, out):
    """``normal_fill_16_AVX2``: ``out`` (float32) from ``words`` (uint32, as many, a
    multiple of 16), each word's low 24 bits a uniform; ``mean`` and ``std`` float32."""
    for b in range(0, words.size, 16):
        for j in range(8):
            u1 = _F32(words[b + j] & _LOW24) * _U24
            u2 = _F32(words[b + j + 8] & _LOW24) * _U24
            radius = np.sqrt(_MTWO * _log_ps(_ONE - u1))
            s, c = _sincos_ps(_TWO_PI * u2)
            out[b + j] = _fma32(radius * c, std, mean)
            out[b + j + 8] = _fma32(radius * s, std, mean)


@numba.njit(cache=True, nogil=True)
def fill16_double(words, mean, std, out):
    """``normal_fill_16<double>``: ``out`` (float64, a multiple of 16 long) from twice as
    many ``words`` (uint32 pairs, the first one high: ``random64()``), each pair's low
    53 bits a uniform; the C library's ``log``, ``cos`` and ``sin``."""
    for b in range(0, out.size, 16):
        for j in range(8):
            k1, k2 = 2 * (b + j), 2 * (b + j + 8)
            u1 = (np.float64(words[k1] & _LOW21) * _TWO32 + np.float64(words[k1 + 1])) * _U53
            u2 = (np.float64(words[k2] & _LOW21) * _TWO32 + np.float64(words[k2 + 1])) * _U53
            radius = math.sqrt(-2.0 * math.log(1.0 - u1))
            theta = _TWO_PI64 * u2
            out[b + j] = _fma64(radius * math.cos(theta), std, mean)
            out[b + j + 8] = _fma64(radius * math.sin(theta), std, mean)
