"""The kernel interface: what a device must implement, and nothing more.

A backend is one object per device (``cpu``, ``opencl:0``...). The core computes
every shape, stride, dtype and broadcast; a backend receives arrays whose layout
is already decided and only computes. Arrays are opaque handles that the backend
creates (a NumPy array, an OpenCL buffer plus a layout, a Python list...).

Conventions shared by every primitive
-------------------------------------
* ``shape`` and ``strides`` are tuples of ints; strides and offsets count elements.
* An output ``out`` is preallocated by the core with its final dtype and shape; it
  may be a strided view (in-place ops write through views). An input may be the
  very same array as ``out`` (``x.add_(y)``); partially overlapping inputs and
  outputs never occur.
* Array operands of one call share one dtype, the *compute dtype*, unless a
  primitive says otherwise; the core casts before calling.
* Inputs of elementwise primitives have shapes that broadcast to ``out``'s shape
  (NumPy rules). ``plugrad.layout.broadcast_strides`` gives the stride-0 layout.
* A Python scalar may stand for an array operand of a binary primitive; it is
  already of the compute dtype's Python type (bool, int or float).
* Zero-size arrays are legal everywhere; a kernel on them does nothing.

Optional kernels
----------------
A method of this class that is not abstract has a default written with the
primitives. A backend may override it with a faster, fused version; the
conformance suite checks both paths.
"""

from __future__ import annotations

import abc
import struct

from . import hostlinalg
from ._torchrng import STREAM_KINDS, stream as _reference_stream
from .dtypes import bfloat16 as _BF16, bfloat16_from_words, bfloat16_words, dtype, int64 as _INT64
from .layout import contiguous_strides

__all__ = ["Backend", "KERNEL_INTERFACE_VERSION", "KERNELS_ADDED", "kernels_added_after", "UNARY_OPS", "BINARY_OPS",
           "COMPARISON_OPS", "REDUCE_OPS", "ARG_REDUCE_OPS", "SCAN_OPS", "RANDOM_STREAMS", "UnsupportedOperation",
           "OutOfMemoryError"]

#: Version of the contract in this module. A plugin declares the version it
#: implements; a different major version is refused at load time. A minor version adds
#: kernels (:data:`KERNELS_ADDED`): a plugin of an older minor version still loads, and
#: only a call to a kernel it predates raises :class:`UnsupportedOperation`.
KERNEL_INTERFACE_VERSION = "1.2"

#: the kernels each minor version added: ``{version: {kernel method: op names}}``
KERNELS_ADDED: dict = {"1.1": {"unary": frozenset({"erf"})},
                      "1.2": {"unary": frozenset({"erfc", "erfinv", "lgamma", "digamma",
                                                   "acosh", "asinh", "atanh", "log10"}),
                             "binary": frozenset({"copysign"})}}


def kernels_added_after(version: str) -> dict:
    """``{kernel method: op names}`` added to the interface after ``version`` (same major)."""
    minor = int(str(version).split(".")[1]) if "." in str(version) else 0
    added: dict = {}
    for since, kernels in KERNELS_ADDED.items():
        if int(since.split(".")[1]) > minor:
            for method, names in kernels.items():
                added[method] = added.get(method, frozenset()) | names
    return added

#: ``unary(op, x, out)``: out has x's dtype, except the predicates (bool out).
UNARY_OPS = frozenset({
    "neg", "abs", "exp", "log", "sqrt", "rsqrt", "sin", "cos", "tan", "tanh", "sigmoid",
    "sign", "floor", "ceil", "round", "trunc", "reciprocal", "log1p", "expm1",
    "asin", "acos", "atan", "sinh", "cosh", "log2", "exp2", "erf",
    "erfc", "erfinv", "lgamma", "digamma",
    "acosh", "asinh", "atanh", "log10",
    "logical_not", "bitwise_not", "isnan", "isinf", "isfinite",
})
#: unary predicates whose ``out`` is bool
UNARY_PREDICATES = frozenset({"logical_not", "isnan", "isinf", "isfinite"})

#: ``binary(op, a, b, out)``. ``div`` is true division (floats only), ``floordiv``
#: rounds toward minus infinity, ``remainder`` has the sign of the divisor (Python's
#: ``%``), ``fmod`` the sign of the dividend. Integer division by zero never reaches a
#: kernel: the core raises first.
BINARY_OPS = frozenset({
    "add", "sub", "mul", "div", "floordiv", "remainder", "fmod", "pow", "maximum", "minimum",
    "atan2", "bitwise_and", "bitwise_or", "bitwise_xor",
    "copysign",
    "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor",
})
#: binary ops whose ``out`` is bool
COMPARISON_OPS = frozenset({"eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor"})

#: ``reduce(op, x, axes, out)``: ``out`` has x's shape with ``axes`` set to 1 and x's
#: dtype (bool for ``any``/``all``). ``max``/``min`` over a zero-size axis never reach
#: a kernel. NaN propagates through ``max``/``min``.
REDUCE_OPS = frozenset({"sum", "prod", "max", "min", "any", "all"})
#: ``arg_reduce(op, x, axis, out)``: int64 ``out`` with ``axis`` set to 1; the first
#: index of the extreme value wins, and NaN counts as the extreme.
ARG_REDUCE_OPS = frozenset({"argmax", "argmin"})
#: ``scan(op, x, axis, out)``: inclusive prefix along ``axis``, same shape and dtype.
SCAN_OPS = frozenset({"cumsum", "cumprod"})
#: ``random_stream(kind, state, n, dtype, args)``: the kinds of PyTorch's CPU random
#: streams (see ``plugrad._torchrng.STREAM_KINDS`` for each one's arguments).
RANDOM_STREAMS = frozenset(STREAM_KINDS)


class UnsupportedOperation(RuntimeError):
    """A device cannot run an op for a dtype. Names the op, the device and the dtype."""

    def __init__(self, op: str, device, dtype_=None, why: str = ""):
        what = f"'{op}'" + (f" for dtype {dtype_!r}" if dtype_ is not None else "")
        msg = f"{what} is not supported on device '{device}'"
        super().__init__(msg + (f": {why}" if why else ""))
        self.op, self.device, self.dtype = op, device, dtype_


class OutOfMemoryError(RuntimeError):
    """A device cannot allocate the memory an op asked for. The op changed nothing, and
    every tensor allocated before stays valid. A backend raises it (or a subclass) from
    ``empty`` and wherever it allocates, so that a user sees one RuntimeError class for
    every device, as PyTorch's ``torch.OutOfMemoryError``, and never an allocator's own
    exception (NumPy's MemoryError, an ``OSError`` from ``mmap``, an OpenCL status)."""


_STRUCT_CODE = {"bool": "?", "uint8": "B", "int8": "b", "int16": "h", "int32": "i", "int64": "q",
                "float16": "e", "bfloat16": "H", "float32": "f", "float64": "d"}


def struct_code(d: dtype) -> str:
    """The ``struct``/``memoryview`` format character of a dtype (little-endian bytes).
    ``struct`` has no bfloat16: its code reads the raw 16-bit words (``pack`` and
    ``Backend.to_list`` convert them to and from Python floats)."""
    return _STRUCT_CODE[d.name]


class Backend(abc.ABC):
    """One device. Subclass it, implement every abstract method, register a factory.

    Attributes set by the subclass: ``dtypes`` (the frozenset of supported
    :class:`plugrad.dtype` objects) and ``deterministic`` (True when the same op on
    the same inputs always gives the same bits). The registry sets ``device``.
    """

    device = None
    dtypes: frozenset = frozenset()
    deterministic: bool = True
    #: True when :meth:`fused_elementwise` really fuses (one pass over memory, or one
    #: generated kernel); False when it is the default loop over the unfused kernels, so
    #: that a caller (``plugrad.compile``'s replay planner) does not group kernels for nothing
    fuses_elementwise: bool = False
    #: the smallest result, in bytes, for which :meth:`fused_elementwise` beats the unfused
    #: kernels (0: always); the replay planner leaves smaller chains unfused (see
    #: :meth:`fusion_pays`)
    fusion_min_bytes: int = 0
    #: where this device's memory lives, as a DLPack device type code (what
    #: ``Tensor.__dlpack_device__`` reports): 1 (kDLCPU) for host memory, 4 (kDLOpenCL)...;
    #: the default, 12, is DLPack's kDLExtDev, PyTorch's code for out-of-tree devices.
    dlpack_device_type: int = 12

    # ---- memory and transfers -------------------------------------------------
    @abc.abstractmethod
    def empty(self, shape: tuple, dtype: dtype):
        """A new contiguous array of ``shape`` and ``dtype``; contents undefined."""

    @abc.abstractmethod
    def from_bytes(self, data, shape: tuple, dtype: dtype):
        """A new contiguous array holding ``data`` (a bytes-like object in row-major
        order, native little-endian, ``numel(shape) * dtype.itemsize`` bytes)."""

    @abc.abstractmethod
    def to_bytes(self, array) -> bytes:
        """The array's elements in row-major order of its own layout, as bytes. This is
        a synchronisation point: it waits for queued work on the array."""

    @abc.abstractmethod
    def view(self, base, shape: tuple, strides: tuple, offset: int):
        """An array sharing ``base``'s memory, reading element ``offset + sum(i*s)``.

        ``base`` is an array returned by ``empty``, ``from_bytes`` or ``wrap_host`` (a
        storage), never a view. Writes through the view are visible in ``base``."""

    # ---- compute ---------------------------------------------------------------
    @abc.abstractmethod
    def copy(self, src, out) -> None:
        """``out[...] = src``, converting the dtype when they differ (float to int
        truncates toward zero, anything to bool is ``!= 0``); ``src`` broadcasts."""

    @abc.abstractmethod
    def fill(self, out, value) -> None:
        """Set every element of ``out`` to ``value`` (a Python scalar of out's kind)."""

    @abc.abstractmethod
    def unary(self, op: str, x, out) -> None:
        """``out = op(x)`` elementwise, ``op`` in :data:`UNARY_OPS`."""

    @abc.abstractmethod
    def binary(self, op: str, a, b, out) -> None:
        """``out = op(a, b)`` elementwise with broadcasting, ``op`` in :data:`BINARY_OPS`."""

    @abc.abstractmethod
    def where(self, cond, a, b, out) -> None:
        """``out = a if cond else b`` elementwise; ``cond`` is bool, a/b arrays or scalars."""

    @abc.abstractmethod
    def reduce(self, op: str, x, axes: tuple, out) -> None:
        """Reduce ``x`` over the (sorted, non-empty) ``axes``; see :data:`REDUCE_OPS`."""

    @abc.abstractmethod
    def arg_reduce(self, op: str, x, axis: int, out) -> None:
        """Index of the max/min along ``axis``; see :data:`ARG_REDUCE_OPS`."""

    @abc.abstractmethod
    def scan(self, op: str, x, axis: int, out) -> None:
        """Inclusive cumulative sum/product along ``axis``; see :data:`SCAN_OPS`."""

    @abc.abstractmethod
    def matmul(self, a, b, out) -> None:
        """Matrix product ``out = a @ b``: 2-d operands ``(M, K) @ (K, N)``, or 3-d batched
        ones ``(B, M, K) @ (B, K, N)`` (batch strides may be 0: a broadcast operand).
        K is never 0 (the core fills zeros itself)."""

    @abc.abstractmethod
    def take(self, base, index, out) -> None:
        """Gather by storage position: ``out[i] = base[index[i]]`` where ``index`` is an
        int64 array of element offsets into storage ``base`` (already bounds-checked),
        with ``out``'s shape."""

    @abc.abstractmethod
    def put(self, base, index, values, accumulate: bool) -> None:
        """Scatter by storage position: ``base[index[i]] = values[i]`` (or ``+=`` when
        ``accumulate``, summing duplicates). ``values`` broadcasts to ``index``'s shape.
        With duplicates and no accumulation, which value wins is unspecified."""

    @abc.abstractmethod
    def nonzero(self, x):
        """Indices of the non-zero elements of ``x`` as a new contiguous int64 array of
        shape ``(count, x.ndim)`` in row-major order; returns ``(array, count)``."""

    # ---- optional -----------------------------------------------------------
    def synchronize(self) -> None:  # noqa: B027 (optional: eager devices have nothing to wait for)
        """Wait until queued work is done. Devices that compute eagerly do nothing."""

    def reshape(self, array, shape: tuple):
        """``array`` (returned by ``empty``, so contiguous) seen with another shape of the
        same size. A fast path the core uses for reduction outputs; the default is
        ``view``."""
        return self.view(array, shape, contiguous_strides(shape), 0)

    def to_list(self, array, dtype_: dtype, n: int) -> list:
        """The array's ``n`` elements as Python scalars in row-major order."""
        if n == 0:
            return []
        values = struct.unpack(f"<{n}{struct_code(dtype_)}", self.to_bytes(array))
        return bfloat16_from_words(values) if dtype_ is _BF16 else list(values)

    def wrap_host(self, obj, copy: bool):
        """A storage over a host array such as a NumPy array (``from_numpy``, ``tensor``):
        return ``(storage, dtype_name, shape, strides, offset)``, sharing the host memory
        unless ``copy``; None when this device cannot read host arrays."""
        return None

    def host_view(self, array):
        """A host array sharing memory with ``array`` (``Tensor.numpy()``), or None."""
        return None

    def to_dlpack(self, array, max_version, copy):
        """A DLPack capsule over ``array`` (``Tensor.__dlpack__``): a versioned one
        (``"dltensor_versioned"``) when ``max_version`` (the consumer's ``(major, minor)``)
        is at least 1.0, else a legacy ``"dltensor"``; it shares the memory unless ``copy``
        is True, and must share it when ``copy`` is False. None when this device's
        memory cannot be handed out: the core then copies the tensor through the ``cpu``
        device if the consumer asked for host memory, and raises BufferError otherwise."""
        return None

    def from_dlpack(self, producer, copy, to_host: bool):
        """A storage over the memory of a DLPack ``producer`` (an object with
        ``__dlpack__``; ``plugrad.from_dlpack``): ``(storage, dtype_name, shape, strides,
        offset)`` as :meth:`wrap_host` returns, sharing the producer's memory unless
        ``copy`` is True (with ``copy`` False, sharing or BufferError). ``to_host`` asks
        the producer for a copy in host memory (``dl_device=(kDLCPU, 0)``), for a
        producer on a device this one cannot read. None when this device cannot import
        DLPack memory."""
        return None

    def random_stream(self, kind: str, state, n: int, dtype_: dtype, args: tuple):
        """``n`` values of PyTorch's CPU random stream ``kind`` (:data:`RANDOM_STREAMS`) for
        a tensor of ``dtype_``, as a bytes-like object in ``from_bytes``'s layout, advancing
        ``state`` (a ``plugrad._torchrng.MTState``: mt19937 words, position, cached normal
        samples) exactly as PyTorch's CPU kernel advances its generator.

        The contract is bit-identity with the pure-Python reference ``plugrad._torchrng``,
        which is the default: every device gives the same numbers as PyTorch's CPU for the
        same seed and call sequence. The core draws on the host and uploads the values; for
        a device that does not override this kernel it calls the cpu device's (NumPy,
        vectorised) when that device is installed, else this default. A device may override
        it with its own engine; the conformance suite checks it against the reference."""
        return pack(_reference_stream(kind, state, n, dtype_.name, args), dtype_)

    # ---- optional fused kernels ---------------------------------------------------
    def conv2d(self, x, weight, bias, out, stride: tuple, padding: tuple, dilation: tuple, groups: int) -> bool:
        """Fused 2-d convolution (cross-correlation), the forward of ``conv2d``: ``x``
        (N, C, H, W), ``weight`` (O, C/groups, kh, kw) and ``bias`` (O,) or None into the
        preallocated contiguous ``out`` (N, O, oh, ow), all of one floating dtype (the
        inputs may be strided views, like every operand).
        ``stride`` and ``dilation`` are (h, w) pairs; ``padding`` is
        ``((top, bottom), (left, right))`` zeros. Return True when done; return False
        (the default) when the device has no fused kernel for these arguments, and the
        core computes it from primitives instead: one strided ``copy`` of the windows
        into columns and one ``matmul`` per group. Gradients always use the primitives."""
        return False

    def sort(self, x, shape: tuple, dtype_: dtype, axis: int, descending: bool, stable: bool, values_out,
             indices_out) -> None:
        """Sort ``x`` (of ``shape`` and ``dtype_``, any layout, at least 1-d and not empty) along
        ``axis`` (``0 <= axis < len(shape)``) into the contiguous ``values_out`` (``dtype_``) and the contiguous int64
        ``indices_out`` (each element's position along ``axis`` in ``x``), both of
        ``shape``. NaN is larger than every number: last in ascending order, first in
        descending order. Equal elements keep their order (PyTorch's stable sort, in both
        directions); a device may drop that guarantee when ``stable`` is False.

        Sorting has no composition of the primitives that is not quadratic, so the
        default sorts on the host: one ``to_list``, Python's stable ``sorted`` per lane, and
        one ``from_bytes`` per result. A device overrides it with its own sort."""
        n = 1
        for size in shape:
            n *= size
        flat = self.to_list(x, dtype_, n)
        length = shape[axis]
        inner = 1
        for size in shape[axis + 1:]:
            inner *= size
        values, indices = [None] * n, [0] * n
        floating = dtype_.is_floating_point

        def key(v):
            return (v != v, v) if floating else v   # NaN (v != v) after every number
        for start in range(0, n, length * inner):
            for lane in range(start, start + inner):
                lane_values = [flat[lane + k * inner] for k in range(length)]
                order = sorted(range(length), key=lambda k: key(lane_values[k]), reverse=descending)
                for k, src in enumerate(order):
                    values[lane + k * inner] = lane_values[src]
                    indices[lane + k * inner] = src
        self.copy(self.from_bytes(pack(values, dtype_), shape, dtype_), values_out)
        self.copy(self.from_bytes(pack(indices, _INT64), shape, _INT64), indices_out)

    def fused_elementwise(self, program: tuple, inputs: list, outs: list) -> None:
        """Run a chain of elementwise kernels as one.

        ``inputs`` are device arrays (any strides a unary/binary kernel accepts, all
        broadcasting to one common output shape: stride-0 views are allowed) and Python
        scalars (bool, int or float), exactly what the unfused kernels would receive.
        ``program`` is a tuple of steps; step ``i`` writes register ``len(inputs) + i``
        (registers ``0 .. len(inputs) - 1`` are the inputs). A step is one of
        ``("unary", op, (a,), dtype)``, ``("binary", op, (a, b), dtype)``,
        ``("where", None, (c, a, b), dtype)`` or ``("copy", None, (a,), dtype)`` (a cast;
        of a scalar register, a ``fill`` with that scalar),
        where ``op`` is a name of :data:`UNARY_OPS` / :data:`BINARY_OPS`, ``a``/``b``/``c``
        are register indices, and ``dtype`` is the dtype of the step's result (the dtype
        the unfused kernel's ``out`` would have). The operands of a step obey the
        unfused kernel's rules (one compute dtype, a scalar of its Python type).
        ``outs`` lists ``(register, out array)``: the registers written to memory, into
        arrays of the output shape, as the unfused kernels' outs. An out array may be an
        input array itself (an in-place op); then no later step reads that input register.

        Contract: the results are bit-identical to running the steps one by one with the
        unfused kernels, each intermediate rounded to its step's dtype, so that a compiled
        program gives eager's bits. One freedom: where a step meets two NaNs of different
        bits, either may come out (IEEE 754 leaves it open; a compiler may swap the operands
        of a commutative operation). This default is exactly that loop: intermediates not
        written out go to temporaries from ``empty``. A device that evaluates the whole
        program in one pass overrides it and sets :attr:`fuses_elementwise`."""
        regs = list(inputs)
        written = {}
        for reg, out in outs:
            written.setdefault(reg, []).append(out)
        shape = next(out.shape for _, out in outs) if outs else ()
        for step in program:
            kind, op, args, dtype_ = step
            targets = written.get(len(regs))
            out = targets[0] if targets else self.empty(shape, dtype_)
            vals = [regs[a] for a in args]
            if kind == "binary":
                self.binary(op, vals[0], vals[1], out)
            elif kind == "unary":
                self.unary(op, vals[0], out)
            elif kind == "where":
                self.where(vals[0], vals[1], vals[2], out)
            elif kind == "copy" and isinstance(vals[0], (bool, int, float)):
                self.fill(out, vals[0])
            elif kind == "copy":
                self.copy(vals[0], out)
            else:
                raise ValueError(f"fused_elementwise: unknown step kind {kind!r} in {step!r}: expected 'unary', "
                                 f"'binary', 'where' or 'copy'")
            regs.append(out)
        for reg, targets in written.items():
            for out in targets[0 if reg < len(inputs) else 1:]:
                if isinstance(regs[reg], (bool, int, float)):
                    self.fill(out, regs[reg])
                else:
                    self.copy(regs[reg], out)

    def fusion_pays(self, program: tuple, nbytes: int) -> bool:
        """Whether running ``program`` (a :meth:`fused_elementwise` program) fused is worth
        it for results of ``nbytes`` bytes (the largest step dtype's): the replay planner
        asks for each group it formed, and leaves the steps unfused otherwise. By default
        from :attr:`fusion_min_bytes` on; a device whose fused speed depends on the
        program (a compiled loop for some steps only) answers by program."""
        return nbytes >= self.fusion_min_bytes

    def prepare(self, calls: list):
        """A faster way to make these very calls again and again, or None.

        ``calls`` is a list of ``(method name, args, kwargs)``: calls of this backend's
        kernels (``unary``, ``reduce``, ``fused_elementwise``...) on arrays that stay the
        same objects every time, in order. ``plugrad.compile``'s replay hands it each run
        of such calls once, when it plans a recording; a callable returned here is then
        called, with no arguments, at every replay in their place, and must do exactly
        what the calls do, in order, with the same bits. It must not run them now. The
        default returns None (the replay calls the kernels one by one); a device whose
        calls cost more than their work (a kernel launch whose arguments could be set
        once, several small launches that could be one) returns something faster."""
        return None

    # ---- optional linalg kernels: matrix decompositions ----------------------------------
    # Each takes contiguous float32/float64 arrays holding ``batch`` matrices one after
    # the other, and preallocated contiguous outputs. The default reads the matrices to
    # the host and computes them in double precision in plain Python
    # (``plugrad.hostlinalg``); a device overrides them with its own solver.

    def _host_matrices(self, array, dtype_: dtype, batch: int, m: int, n: int) -> list:
        flat = self.to_list(array, dtype_, batch * m * n)
        return [[flat[(b * m + i) * n:(b * m + i + 1) * n] for i in range(m)] for b in range(batch)]

    def _write_host(self, values: list, out, shape: tuple, dtype_: dtype) -> None:
        if values:
            self.copy(self.from_bytes(pack(values, dtype_), shape, dtype_), out)

    def linalg_solve(self, a, b, out, dtype_: dtype, batch: int, n: int, k: int) -> list:
        """``out = A^-1 B`` for each (n, n) matrix of ``a`` and (n, k) matrix of ``b``.
        Returns one ``info`` per matrix, as LAPACK's ``getrf``: 0, or the 1-based index
        of the first zero pivot of A's LU factorization (``out`` is then undefined)."""
        infos, values = [], []
        for am, bm in zip(self._host_matrices(a, dtype_, batch, n, n), self._host_matrices(b, dtype_, batch, n, k)):
            x, info = hostlinalg.solve(am, bm)
            infos.append(info)
            values += [v for row in x for v in row] if x is not None else [0.0] * (n * k)
        self._write_host(values, out, (batch, n, k), dtype_)
        return infos

    def linalg_slogdet(self, a, sign, logabsdet, dtype_: dtype, batch: int, n: int) -> None:
        """The sign (0 for a singular matrix) and log of the absolute determinant of each
        (n, n) matrix of ``a``, into ``sign`` and ``logabsdet`` (both (batch,))."""
        pairs = [hostlinalg.slogdet(am) for am in self._host_matrices(a, dtype_, batch, n, n)]
        self._write_host([p[0] for p in pairs], sign, (batch,), dtype_)
        self._write_host([p[1] for p in pairs], logabsdet, (batch,), dtype_)

    def linalg_cholesky(self, a, out, dtype_: dtype, batch: int, n: int) -> list:
        """The lower Cholesky factor of each (n, n) matrix of ``a`` (read from its lower
        triangle) into ``out``. Returns one ``info`` per matrix, as ``potrf``: 0, or the
        order of the first leading minor that is not positive-definite."""
        infos, values = [], []
        for am in self._host_matrices(a, dtype_, batch, n, n):
            low, info = hostlinalg.cholesky(am)
            infos.append(info)
            values += [v for row in low for v in row] if low is not None else [0.0] * (n * n)
        self._write_host(values, out, (batch, n, n), dtype_)
        return infos

    def linalg_qr(self, a, q, r, dtype_: dtype, batch: int, m: int, n: int, complete: bool) -> None:
        """Householder QR of each (m, n) matrix of ``a``: ``q`` (batch, m, k) and ``r``
        (batch, k, n), k = m when ``complete`` else min(m, n); R's diagonal has LAPACK's
        signs (``geqrf``)."""
        qs, rs = [], []
        for am in self._host_matrices(a, dtype_, batch, m, n):
            qm, rm = hostlinalg.qr(am, complete)
            qs += [v for row in qm for v in row]
            rs += [v for row in rm for v in row]
        k = m if complete else min(m, n)
        self._write_host(qs, q, (batch, m, k), dtype_)
        self._write_host(rs, r, (batch, k, n), dtype_)

    def linalg_eigh(self, a, w, v, dtype_: dtype, batch: int, n: int) -> None:
        """Eigenvalues (ascending, into ``w`` (batch, n)) and orthonormal eigenvectors (the
        columns of ``v`` (batch, n, n)) of the symmetric matrices whose lower triangles
        are ``a``'s."""
        ws, vs = [], []
        for am in self._host_matrices(a, dtype_, batch, n, n):
            wm, vm = hostlinalg.eigh(am)
            ws += wm
            vs += [x for row in vm for x in row]
        self._write_host(ws, w, (batch, n), dtype_)
        self._write_host(vs, v, (batch, n, n), dtype_)

    def linalg_svd(self, a, u, s, vh, dtype_: dtype, batch: int, m: int, n: int, full_matrices: bool) -> None:
        """Singular value decomposition of each (m, n) matrix of ``a``: ``s`` (batch, k)
        descending, k = min(m, n); ``u`` (batch, m, m or k) and ``vh`` (batch, n or k, n)
        by ``full_matrices``."""
        us, ss, vhs = [], [], []
        for am in self._host_matrices(a, dtype_, batch, m, n):
            um, sm, vhm = hostlinalg.svd(am, full_matrices)
            us += [x for row in um for x in row]
            ss += sm
            vhs += [x for row in vhm for x in row]
        k = min(m, n)
        self._write_host(us, u, (batch, m, m if full_matrices else k), dtype_)
        self._write_host(ss, s, (batch, k), dtype_)
        self._write_host(vhs, vh, (batch, n if full_matrices else k, n), dtype_)


def pack(values: list, dtype_: dtype) -> bytes:
    """Flat Python scalars to the little-endian bytes ``from_bytes`` expects."""
    if dtype_ is _BF16:
        values = bfloat16_words(values)
    return struct.pack(f"<{len(values)}{struct_code(dtype_)}", *values)

