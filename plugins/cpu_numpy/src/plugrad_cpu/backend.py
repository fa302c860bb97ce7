"""The ``cpu`` device: every primitive of plugrad's kernel interface with NumPy.

Arrays are NumPy arrays. A storage is a C-contiguous array; a view is an
``ndarray`` over the storage's buffer with the core's strides and offset, so views
really share memory and ``Tensor.numpy()`` returns the very same memory.

bfloat16 arrays are NumPy arrays of ``ml_dtypes.bfloat16``. Every kernel computes them
as PyTorch's CPU kernels do: the operands widened to float32, the op in float32 (sums,
products and matmuls accumulate there), and the result rounded once to bfloat16, to
nearest even.
"""

from __future__ import annotations

import warnings

import ml_dtypes
import numpy as np

from plugrad.extend import ALL_DTYPES, Backend, OutOfMemoryError, contiguous_strides

from . import dlpack, jit
from .buffers import MIN_BYTES, BufferCache, limit_from_environment
from .rng import random_stream

_NP = {d: np.dtype(ml_dtypes.bfloat16 if d.name == "bfloat16" else d.name) for d in ALL_DTYPES}
_BF16 = np.dtype(ml_dtypes.bfloat16)
_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)
_ndarray, _np_empty = np.ndarray, np.empty
#: the dtypes NumPy computes itself (all but bfloat16): a kernel whose arrays all have one needs no widening
_NATIVE = frozenset(d for d in _NP.values() if d != _BF16)
# PyTorch does not warn on overflow, 0/0 or log(0). NumPy's floating-point warnings
# are attributed to the calling frame, so this filter silences exactly the ones raised
# by this module's kernel calls, at no cost on the per-op path.
warnings.filterwarnings("ignore", category=RuntimeWarning, module=__name__)


def _sigmoid(x, out):
    np.negative(x, out=out)
    np.exp(out, out=out)
    out += 1
    np.reciprocal(out, out=out)


def _rsqrt(x, out):
    np.sqrt(x, out=out)
    np.reciprocal(out, out=out)


def _sign(x, out):
    if x.dtype == np.bool_:
        np.copyto(out, x)
    else:
        np.sign(x, out=out)
        if x.dtype.kind == "f":
            np.copyto(out, 0, where=np.isnan(x))  # PyTorch: sign(nan) is 0, NumPy gives nan (x may broadcast)


def _bitwise_not(x, out):
    if x.dtype == np.bool_:
        np.logical_not(x, out=out)
    else:
        np.invert(x, out=out)


def _erf(x, out):
    """SciPy's erf, imported on first use: ``scipy.special`` takes longer to import than
    NumPy, and most programs never call erf."""
    from scipy.special import erf
    erf(x, out=out)


def _scipy_special(name):
    """A ``scipy.special`` ufunc as a kernel, imported on its first call (see ``_erf``)."""
    def kernel(x, out):
        import scipy.special
        getattr(scipy.special, name)(x, out=out)
    return kernel


def _lgamma(x, out):
    """``log|gamma(x)|``: SciPy's gammaln, except at -inf, where PyTorch (and C's lgamma)
    give +inf and SciPy -inf."""
    from scipy.special import gammaln
    gammaln(x, out=out)
    if x.dtype.kind == "f":
        np.copyto(out, np.inf, where=np.isneginf(x))   # x may broadcast to out


def _ufunc_unary(f):
    return lambda x, out: f(x, out=out)


_UNARY = {
    "neg": _ufunc_unary(np.negative), "abs": _ufunc_unary(np.absolute), "exp": _ufunc_unary(np.exp),
    "log": _ufunc_unary(np.log), "sqrt": _ufunc_unary(np.sqrt), "rsqrt": _rsqrt, "sin": _ufunc_unary(np.sin),
    "cos": _ufunc_unary(np.cos), "tan": _ufunc_unary(np.tan), "tanh": _ufunc_unary(np.tanh),
    "sigmoid": _sigmoid, "sign": _sign, "floor": _ufunc_unary(np.floor), "ceil": _ufunc_unary(np.ceil),
    "round": _ufunc_unary(np.rint), "trunc": _ufunc_unary(np.trunc), "reciprocal": _ufunc_unary(np.reciprocal),
    "log1p": _ufunc_unary(np.log1p), "expm1": _ufunc_unary(np.expm1), "asin": _ufunc_unary(np.arcsin),
    "acos": _ufunc_unary(np.arccos), "atan": _ufunc_unary(np.arctan), "sinh": _ufunc_unary(np.sinh),
    "cosh": _ufunc_unary(np.cosh), "log2": _ufunc_unary(np.log2), "exp2": _ufunc_unary(np.exp2),
    "erf": _erf, "erfc": _scipy_special("erfc"), "erfinv": _scipy_special("erfinv"), "lgamma": _lgamma,
    "digamma": _scipy_special("psi"),
    "acosh": _ufunc_unary(np.arccosh), "asinh": _ufunc_unary(np.arcsinh), "atanh": _ufunc_unary(np.arctanh),
    "log10": _ufunc_unary(np.log10),
    "logical_not": _ufunc_unary(np.logical_not), "bitwise_not": _bitwise_not,
    "isnan": _ufunc_unary(np.isnan), "isinf": _ufunc_unary(np.isinf), "isfinite": _ufunc_unary(np.isfinite),
}

_BINARY = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide, "floordiv": np.floor_divide,
    "remainder": np.remainder, "fmod": np.fmod, "pow": np.power, "maximum": np.maximum, "minimum": np.minimum,
    "atan2": np.arctan2, "bitwise_and": np.bitwise_and, "bitwise_or": np.bitwise_or,
    "bitwise_xor": np.bitwise_xor, "eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal,
    "gt": np.greater, "ge": np.greater_equal, "logical_and": np.logical_and, "logical_or": np.logical_or,
    "logical_xor": np.logical_xor, "copysign": np.copysign,
}

_REDUCE = {"sum": np.add.reduce, "prod": np.multiply.reduce, "max": np.maximum.reduce,
           "min": np.minimum.reduce, "any": np.logical_or.reduce, "all": np.logical_and.reduce}

#: a fused program runs in blocks of this many bytes of its widest dtype: a block's
#: intermediates (one per step) stay in the core's L2 cache between the steps
FUSED_BLOCK_BYTES = 1 << 18
#: fused programs run as one compiled loop (``plugrad_cpu.fused_jit``) where Numba is
#: installed and the program is one it compiles
JIT_FUSION = jit.ENABLED
#: a compiled loop's call costs about what three NumPy calls on small arrays do (1.9 µs
#: against 0.6-1 µs each): it pays from four steps on, or from this many bytes of
#: result, where one pass over memory instead of one per step pays for itself
JIT_FUSION_MIN_STEPS = 4
JIT_FUSION_MIN_BYTES = 1 << 13
_STEP_KINDS = frozenset({"unary", "binary", "where", "copy"})

_ARG = {"argmax": np.argmax, "argmin": np.argmin}
_UINT_OF_SIZE = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}
_INT_OF_SIZE = {1: np.int8, 2: np.int16, 4: np.int32, 8: np.int64}
_SCAN = {"cumsum": np.cumsum, "cumprod": np.cumprod}


#: scalar exponents that PyTorch's CPU kernel computes without ``pow`` (and much faster:
#: NumPy's general float power takes 50-100x the time of a multiply)
_POW_BY_PRODUCTS = frozenset({2, 3, -1, -2, -0.5})
_F16 = np.dtype(np.float16)
_POW_DTYPES = frozenset({_F16, _F32, np.dtype(np.float64), _BF16})


def _pow_by_products(x, e, out) -> None:
    """``x ** e`` for ``e`` in :data:`_POW_BY_PRODUCTS`, with PyTorch's CPU formulas
    (``pow_tensor_scalar_optimized_kernel``): ``x*x``, ``x*x*x``, ``1/x``, ``1/(x*x)`` and
    ``1/sqrt(x)``, each product rounded to the dtype as there. float16 computes in
    float32 and rounds once (PyTorch's Half kernel calls ``pow`` in float, whose
    correctly rounded results these equal), except ``-0.5``, which stays ``pow``; bfloat16
    rounds ``x*x`` to bfloat16 before the next product, as PyTorch's bfloat16 arithmetic
    does (its ``-0.5``, PyTorch's ``rsqrt`` kernel, is ``1/sqrt`` in float32 rounded once:
    the same specials, within one bfloat16 ulp of PyTorch's approximation)."""
    if x.dtype == _F16 or x.dtype == _BF16:
        w = x.astype(_F32)
        if e == -0.5 and x.dtype == _F16:
            wide = np.power(w, _F32.type(e))
        elif e == -0.5:
            wide = np.sqrt(w)
            np.divide(1, wide, out=wide)
        elif e == 2:
            wide = w * w
        elif e == -1:
            wide = np.divide(1, w)
        else:
            square = (w * w).astype(x.dtype).astype(_F32) if x.dtype == _BF16 else w * w
            wide = square * w if e == 3 else np.divide(1, square)
        np.copyto(out, wide, casting="unsafe")
    elif e == 2:
        np.multiply(x, x, out=out)
    elif e == -1:
        np.divide(1, x, out=out)
    elif e == -0.5:
        _rsqrt(x, out)
    elif e == -2:
        np.multiply(x, x, out=out)
        np.divide(1, out, out=out)
    elif np.may_share_memory(out, x):      # e == 3 in place: the square may not overwrite x
        np.multiply(np.multiply(x, x), x, out=out)
    else:
        np.multiply(x, x, out=out)
        np.multiply(out, x, out=out)


class NumpyBackend(Backend):
    """NumPy implementation of the kernel interface (see ``plugrad.backend``)."""

    dtypes = frozenset(ALL_DTYPES)
    deterministic = True
    dlpack_device_type = 1   # kDLCPU: host memory

    def __init__(self):
        self.buffers = BufferCache(limit_from_environment())
        self._cached_from = MIN_BYTES if self.buffers.limit else float("inf")

    # ---- memory ----------------------------------------------------------------
    def empty(self, shape, dtype):
        nbytes = dtype.itemsize
        for n in shape:
            nbytes *= n
        try:
            if nbytes < self._cached_from:
                return _np_empty(shape, _NP[dtype])
            return self.buffers.array(nbytes, shape, _NP[dtype])
        except MemoryError:
            raise OutOfMemoryError(f"cpu: cannot allocate {nbytes} bytes for a {dtype.name} tensor of shape "
                                   f"{list(shape)}: not enough memory") from None
        except ValueError:
            # NumPy refuses a shape whose non-zero sizes times the item size pass 2**63 - 1
            # bytes even when another size is 0 (PyTorch describes such an empty tensor)
            raise RuntimeError(f"cpu: cannot describe a {dtype.name} tensor of shape {list(shape)}: NumPy limits "
                               f"the product of its non-zero sizes and the item size to 2**63 - 1 bytes") from None

    def from_bytes(self, data, shape, dtype):
        return np.frombuffer(data, dtype=_NP[dtype]).reshape(shape).copy()

    def to_bytes(self, array):
        return np.ascontiguousarray(array).tobytes()

    def to_list(self, array, dtype, n):
        return array.reshape(-1).tolist()

    def view(self, base, shape, strides, offset):
        if offset == 0 and shape == base.shape and strides == contiguous_strides(shape):
            # the whole storage as it is (bases are C-contiguous): the base array itself, as
            # for a fresh tensor, so that a compiled replay sees one buffer (a parameter made
            # by from_numpy can then be updated inside a fused program)
            return base
        isz = base.itemsize
        if 0 in shape:  # nothing is read: the offset and strides may lie past the end of the storage
            return np.ndarray(shape, base.dtype, buffer=base, strides=(0,) * len(shape))
        # a dim of size 1 never moves by its stride: NumPy gets 0 there, so that a huge one
        # (PyTorch accepts any) stays within NumPy's byte range. The arguments are positional
        # (shape, dtype, buffer, offset, strides): NumPy parses keywords here at twice the cost
        # of the view itself, which small tensors pay on every view and expand
        if len(shape) == 1:
            return _ndarray(shape, base.dtype, base, offset * isz, (strides[0] * isz if shape[0] != 1 else 0,))
        return _ndarray(shape, base.dtype, base, offset * isz,
                        tuple([s * isz if n != 1 else 0 for n, s in zip(shape, strides)]))

    def reshape(self, array, shape):
        return array.reshape(shape)

    def wrap_host(self, obj, copy):
        arr = np.asarray(obj)
        if arr.dtype.name not in _SUPPORTED_NAMES:
            raise TypeError(f"can't convert np.ndarray of type numpy.{arr.dtype.name}. The only supported types "
                            f"are: float64, float32, float16, int64, int32, int16, int8, uint8, and bool.")
        if not arr.dtype.isnative:
            arr = arr.astype(arr.dtype.newbyteorder("="))
        return self._host_storage(arr, copy)

    @staticmethod
    def _host_storage(arr, copy):
        """``wrap_host``'s tuple for a native-order NumPy array of a plugrad dtype."""
        if copy or arr.flags.c_contiguous and not arr.flags.writeable:
            arr = np.array(arr, copy=True, order="C")
        isz = arr.itemsize
        if arr.flags.c_contiguous:
            strides = contiguous_strides(arr.shape)
            return arr, arr.dtype.name, arr.shape, strides, 0
        if any(s < 0 for s in arr.strides):
            raise ValueError("At least one stride in the given numpy array is negative, and tensors with "
                             "negative strides are not supported. (Make a copy of the array with "
                             "array.copy() first.)")
        if any(s % isz for s in arr.strides):
            raise ValueError("given numpy array strides are not a multiple of the element byte size. Copy the "
                             "numpy array to reallocate the memory.")
        strides = tuple(s // isz for s in arr.strides)
        span = 1 + sum((n - 1) * s for n, s in zip(arr.shape, strides)) if arr.size else 0
        base = np.lib.stride_tricks.as_strided(arr, (span,), (isz,))
        return base, arr.dtype.name, arr.shape, strides, 0

    def host_view(self, array):
        return array

    def to_dlpack(self, array, max_version, copy):
        return dlpack.export(array, max_version, copy)

    def from_dlpack(self, producer, copy, to_host):
        arr = dlpack.import_array(producer, copy, to_host)
        if arr.dtype.name not in _SUPPORTED_NAMES and arr.dtype != _BF16:
            raise TypeError(f"from_dlpack: plugrad has no dtype for DLPack data of NumPy type {arr.dtype.name}")
        return self._host_storage(arr, copy=False)

    # ---- compute ---------------------------------------------------------------
    def copy(self, src, out):
        if (out.dtype == _BF16) is not (src.dtype == _BF16):   # by way of float32, as c10 converts
            src = src.astype(_F32)
        np.copyto(out, src, casting="unsafe")

    def fill(self, out, value):
        out.fill(value)

    def unary(self, op, x, out):
        if x.dtype == _BF16:
            x = x.astype(_F32)
            if out.dtype == _BF16:
                wide = np.empty(out.shape, _F32)
                _UNARY[op](x, wide)
                np.copyto(out, wide, casting="unsafe")
                return
        _UNARY[op](x, out)

    def binary(self, op, a, b, out):
        if op == "pow" and (b.__class__ is float or b.__class__ is int) and b in _POW_BY_PRODUCTS \
                and a.__class__ is np.ndarray and a.dtype in _POW_DTYPES:
            _pow_by_products(a, b, out)
            return
        if out.dtype in _NATIVE and (a.__class__ is not np.ndarray or a.dtype in _NATIVE) \
                and (b.__class__ is not np.ndarray or b.dtype in _NATIVE):
            _BINARY[op](a, b, out=out)
            return
        a, b = _widen(a), _widen(b)   # bfloat16 somewhere: computed in float32
        if out.dtype == _BF16:
            wide = np.empty(out.shape, _F32)
            _BINARY[op](a, b, out=wide)
            np.copyto(out, wide, casting="unsafe")
            return
        _BINARY[op](a, b, out=out)

    def where(self, cond, a, b, out):
        if np.may_share_memory(out, a) or np.may_share_memory(out, b):   # masked_fill_ writes over b
            np.copyto(out, b, casting="unsafe")
            np.copyto(out, a, casting="unsafe", where=cond)
            return
        # A branch-free select on the bit patterns, b ^ ((a ^ b) & mask): NumPy's masked copy
        # and np.where branch per element, and a random mask (relu's backward) makes those
        # branches mispredict: 3-10x slower. Bits are copied exactly (NaN payloads, -0.0).
        size = out.itemsize
        bits = _UINT_OF_SIZE[size]
        mask = np.negative(cond, dtype=_INT_OF_SIZE[size]).view(bits)
        a_bits = np.asarray(a, out.dtype).view(bits)
        b_bits = np.asarray(b, out.dtype).view(bits)
        o = out.view(bits)
        np.bitwise_xor(a_bits, b_bits, out=o)
        np.bitwise_and(o, mask, out=o)
        np.bitwise_xor(o, b_bits, out=o)

    fuses_elementwise = True
    #: below two blocks fused_elementwise is the NumPy steps' loop (unless compiled)
    fusion_min_bytes = 2 * FUSED_BLOCK_BYTES

    def fusion_pays(self, program, nbytes):
        """Programs of two blocks or more (run block by block), and, with the jit extra,
        programs it compiles into one loop: from :data:`JIT_FUSION_MIN_STEPS` steps, or
        from :data:`JIT_FUSION_MIN_BYTES`."""
        if nbytes >= self.fusion_min_bytes:
            return True
        jitted = _fused_jit() if JIT_FUSION else None
        return jitted is not None and (len(program) >= JIT_FUSION_MIN_STEPS or nbytes >= JIT_FUSION_MIN_BYTES) \
            and jitted.compilable(program)

    def fused_elementwise(self, program, inputs, outs):
        """One compiled loop over the elements where Numba is installed and the program is
        one ``plugrad_cpu.fused_jit`` compiles (IEEE-exact steps on contiguous arrays);
        else the steps over one cache-sized block of the elements at a time, each with the
        unfused kernel on that block: a block's intermediates stay in the cache instead of
        going through memory once per step, and no full-size temporary is allocated.

        Each kernel computes an element from the same elements alone, with the same NumPy
        loop on a block as on the whole (contiguous blocks of contiguous arrays), so the
        bits are the unfused kernels'. Programs over other layouts (broadcast or strided
        operands), or too small for two blocks, run as the plain loop.

        NumExpr (a library made for fused expressions) was measured for this and left out:
        on this device's NumPy it computes transcendental functions with other bits (exp,
        log, tanh... differ in up to 80% of float32 elements), and for the ops it computes
        with NumPy's bits (add, mul, sqrt, abs, where...) a chain of them took 1.3x-4x the
        time of these NumPy calls, from 1e4 to 1e7 elements, in float32 and float64."""
        if not outs:
            return
        jitted = _fused_jit() if JIT_FUSION else None
        if jitted is not None and jitted.run(program, inputs, outs):
            return
        arrays = [a for a in inputs if a.__class__ is np.ndarray] + [out for _, out in outs]
        n = outs[0][1].size
        flat = all(a.flags.c_contiguous and a.size == n for a in arrays)
        width = max([a.itemsize for a in arrays] + [_NP[step[3]].itemsize for step in program])
        block = FUSED_BLOCK_BYTES // width
        if n < 2 * block or not flat or any(step[0] not in _STEP_KINDS for step in program):
            super().fused_elementwise(program, inputs, outs)
            return
        written = {}
        for reg, out in outs:
            written.setdefault(reg, []).append(out.reshape(-1))
        # each step: (kind, op, argument registers, its out (full size) or a block-sized temporary, is it an out)
        plan = []
        for i, (kind, op, args, dtype_) in enumerate(program):
            targets = written.get(len(inputs) + i)
            plan.append((kind, op, args, targets[0] if targets else np.empty(block, _NP[dtype_]), bool(targets)))
        extra = [(reg, targets[0 if reg < len(inputs) else 1:]) for reg, targets in written.items()]
        flat = [a.reshape(-1) if a.__class__ is np.ndarray else a for a in inputs]
        for start in range(0, n, block):
            stop = min(start + block, n)
            regs = [a[start:stop] if a.__class__ is np.ndarray else a for a in flat]
            for kind, op, args, target, full, in plan:
                out = target[start:stop] if full else target[:stop - start]
                if kind == "binary":
                    self.binary(op, regs[args[0]], regs[args[1]], out)
                elif kind == "unary":
                    self.unary(op, regs[args[0]], out)
                elif kind == "where":
                    self.where(regs[args[0]], regs[args[1]], regs[args[2]], out)
                elif regs[args[0]].__class__ is np.ndarray:
                    self.copy(regs[args[0]], out)
                else:                            # a copy of a scalar is a fill
                    self.fill(out, regs[args[0]])
                regs.append(out)
            for reg, targets in extra:
                value = regs[reg]
                for out in targets:
                    if value.__class__ is np.ndarray:
                        self.copy(value, out[start:stop])
                    else:
                        self.fill(out[start:stop], value)

    def reduce(self, op, x, axes, out):
        if x.dtype == _BF16:
            np.copyto(out, _REDUCE[op](x.astype(_F32), axis=axes, keepdims=True), casting="unsafe")
            return
        _REDUCE[op](x, axis=axes, keepdims=True, out=out)

    def arg_reduce(self, op, x, axis, out):
        _ARG[op](_widen(x), axis=axis, keepdims=True, out=out)

    def scan(self, op, x, axis, out):
        if x.dtype == _BF16:
            np.copyto(out, _SCAN[op](x.astype(_F32), axis=axis), casting="unsafe")
            return
        _SCAN[op](x, axis=axis, out=out)

    def matmul(self, a, b, out):
        dt = out.dtype
        if dt is _F32 or dt is _F64:        # the common case first: identity, not dtype equality
            np.matmul(_blas_ready(a), _blas_ready(b), out=out)
        elif dt == np.bool_:
            np.copyto(out, np.matmul(a.astype(np.uint8), b.astype(np.uint8)) != 0)
        elif dt == _BF16:
            np.copyto(out, np.matmul(a.astype(_F32), b.astype(_F32)), casting="unsafe")
        else:
            np.matmul(_blas_ready(a), _blas_ready(b), out=out)

    def take(self, base, index, out):
        out[...] = base.reshape(-1)[index]

    def put(self, base, index, values, accumulate):
        flat = base.reshape(-1)
        if accumulate:
            np.add.at(flat, index, np.broadcast_to(values, index.shape))
        else:
            flat[index] = values

    def nonzero(self, x):
        idx = np.argwhere(x)  # argwhere's result is column-major: the contract wants a contiguous array
        return np.ascontiguousarray(idx, dtype=np.int64), idx.shape[0]

    def random_stream(self, kind, state, n, dtype, args):
        # PyTorch's CPU streams vectorised (plugrad_cpu.rng); a flat byte view of the array
        return memoryview(random_stream(kind, state, n, dtype.name, args).reshape(-1).view(np.uint8))

    def sort(self, x, shape, dtype, axis, descending, stable, values_out, indices_out):
        # NumPy's stable argsort; descending: sort the reversed lanes ascending and read the
        # result backwards, so that equal elements keep their order (PyTorch's stable
        # descending sort) and NaN, last in NumPy's ascending order, comes first.
        keys = _widen(x)
        if descending:
            order = np.flip(np.argsort(np.flip(keys, axis), axis=axis, kind="stable"), axis)
            order = (shape[axis] - 1) - order
        else:
            order = np.argsort(keys, axis=axis, kind="stable")
        np.copyto(indices_out, order)
        np.copyto(values_out, np.take_along_axis(x, order, axis=axis))

    # ---- linalg kernels: LAPACK through numpy.linalg -----------------------------------------
    # A failed factorization (a singular or indefinite matrix, or no convergence on NaN or
    # inf) falls back to the host default, which reports the index LAPACK reports (NumPy's
    # error does not carry it) or gives NaNs, as on every other device.

    def linalg_solve(self, a, b, out, dtype, batch, n, k):
        try:
            np.copyto(out, np.linalg.solve(a, b))
        except np.linalg.LinAlgError:
            return super().linalg_solve(a, b, out, dtype, batch, n, k)
        return [0] * batch

    def linalg_slogdet(self, a, sign, logabsdet, dtype, batch, n):
        s, lad = np.linalg.slogdet(a)
        np.copyto(sign, s)
        np.copyto(logabsdet, lad)

    def linalg_cholesky(self, a, out, dtype, batch, n):
        try:
            np.copyto(out, np.linalg.cholesky(a))
        except np.linalg.LinAlgError:
            return super().linalg_cholesky(a, out, dtype, batch, n)
        return [0] * batch

    def linalg_qr(self, a, q, r, dtype, batch, m, n, complete):
        qm, rm = np.linalg.qr(a, mode="complete" if complete else "reduced")
        np.copyto(q, qm)
        np.copyto(r, rm)

    def linalg_eigh(self, a, w, v, dtype, batch, n):
        try:
            wm, vm = np.linalg.eigh(a, UPLO="L")
        except np.linalg.LinAlgError:  # no convergence (NaN or inf in the input): the host default's NaNs
            return super().linalg_eigh(a, w, v, dtype, batch, n)
        np.copyto(w, wm)
        np.copyto(v, vm)

    def linalg_svd(self, a, u, s, vh, dtype, batch, m, n, full_matrices):
        try:
            um, sm, vhm = np.linalg.svd(a, full_matrices=full_matrices)
        except np.linalg.LinAlgError:
            return super().linalg_svd(a, u, s, vh, dtype, batch, m, n, full_matrices)
        np.copyto(u, um)
        np.copyto(s, sm)
        np.copyto(vh, vhm)


#: the NumPy arrays ``from_numpy`` takes: as PyTorch, none of bfloat16 (NumPy has no such type)
_SUPPORTED_NAMES = frozenset(d.name for d in ALL_DTYPES if d.name != "bfloat16")


def _fused_jit():
    """``plugrad_cpu.fused_jit``, imported on the first fused program (or None)."""
    return jit.load("fused_jit")


def _widen(x):
    """``x`` as float32 when it is a bfloat16 array (bfloat16 computes in float32); else ``x``."""
    return x.astype(_F32) if x.__class__ is np.ndarray and x.dtype == _BF16 else x


def _blas_ready(x):
    """``x`` with matrices BLAS can read: row-major or column-major (a transpose such as
    ``w.t()`` in ``x @ w.t()``) pass as they are; anything else (an expanded gradient, a
    strided slice) is copied to row-major first, which costs far less than NumPy's
    non-BLAS loop on it."""
    if x.ndim >= 2:
        item, (rows, cols), (row_stride, col_stride) = x.itemsize, x.shape[-2:], x.strides[-2:]
        row_major = col_stride == item and row_stride == cols * item
        column_major = row_stride == item and col_stride == rows * item
        if not (row_major or column_major):
            return np.ascontiguousarray(x)
    return x

