"""The ``opencl`` device: every primitive of plugrad's kernel interface as OpenCL kernels.

An array is a :class:`CLArray`: a buffer plus the core's layout (shape, strides and
offset in elements). Views share the buffer and never create sub-buffers; kernels
receive buffer + offset + strides, so strided, transposed and expanded (stride 0)
inputs and strided outputs are computed in place on the device, without copies and
without host round trips. Everything is queued on one in-order queue; only
``to_bytes`` (and ``nonzero``, whose result size depends on the data) wait for it.

Kernels come from :mod:`plugrad_opencl.kernels`: one program per dtype, built the
first time that dtype is used, holding every kernel family for that dtype.
"""

from __future__ import annotations

import math
import os
import struct
import threading

import numpy as np
import pyopencl as cl

from plugrad.extend import (Backend, UnsupportedOperation, broadcast_strides, contiguous_strides, dtype_from_name,
                            is_contiguous, numel)

from .devices import ENV_DISABLE_DTYPES, disabled_dtypes
from .errors import OpenCLDeviceError
from .fused import FusedKernels, Unfusable
from .kernels.common import NARROW, WIDE
from .kernels.ctype import CTYPES
from .kernels.library import Target
from .plans import Planner, coalesce, split_leading
from .prepared import Graphs, prepare
from .runtime import LAUNCHES_PER_MARK, Library, Runtime

#: Arrays with at least this many elements (or views over such storages) use the
#: programs with 64-bit indices.
WIDE_LIMIT = 2 ** 31 - 2 ** 20

ENV_SYNC = "PLUGRAD_OPENCL_SYNC"
ENV_DETERMINISTIC = "PLUGRAD_OPENCL_DETERMINISTIC"
ENV_MATMUL = "PLUGRAD_OPENCL_MATMUL"
#: "gpu" or "cpu": the launch shapes and kernels to use (default: from the device type)
ENV_TUNING = "PLUGRAD_OPENCL_TUNING"
MATMUL_KERNELS = ("auto", "generic", "v16", "tiled")

_IDENTITY = {"sum": 0, "prod": 1, "any": False, "all": True}
_FLT_MAX = 3.4028234663852886e38
_FLT_INF_FROM = 3.4028235677973366e38      # FLT_MAX + half an ulp: from here float32 rounds to inf


def _env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    return default if not value else value not in ("0", "false", "no", "off")


class CLArray:
    """A device array: ``buf`` (None when the storage is empty) and the core's layout."""

    __slots__ = ("buf", "shape", "strides", "offset", "dtype", "size", "contig", "wide")

    def __init__(self, buf, shape, strides, offset, dtype, size, contig, wide):
        self.buf = buf
        self.shape = shape
        self.strides = strides
        self.offset = offset
        self.dtype = dtype
        self.size = size
        self.contig = contig
        self.wide = wide

    def __repr__(self):
        return (f"CLArray(shape={self.shape}, strides={self.strides}, offset={self.offset}, "
                f"dtype={self.dtype.name})")


def _to_f32(v: float) -> float:
    """A Python float as a float32 kernel argument: out-of-range values become inf, as
    they do when PyTorch converts them (packing would raise instead)."""
    if -_FLT_MAX <= v <= _FLT_MAX or v != v:
        return v
    return math.copysign(_FLT_MAX if abs(v) < _FLT_INF_FROM else math.inf, v)


def _int_wrapper(bits: int, signed: bool):
    span = 1 << bits
    lo = -(span >> 1) if signed else 0

    def wrap(v):
        v = int(v)
        return v if lo <= v < lo + span else (v - lo) % span + lo
    return wrap


def _scalar_converters(dtypes) -> dict:
    conv = {}
    for d in dtypes:
        ct = CTYPES[d.name]
        if ct.kind == "b":
            conv[d] = lambda v: 1 if v else 0
        elif ct.name == "float64":
            conv[d] = float
        elif ct.is_float:
            conv[d] = lambda v: _to_f32(float(v))
        else:
            conv[d] = _int_wrapper(ct.itemsize * 8, ct.kind == "i")
    return conv


class OpenCLBackend(Backend):
    """One OpenCL device (see the module docstring). ``PLUGRAD_OPENCL_SYNC=1`` waits
    after every op so that a failing kernel is reported by the op that launched it.
    ``PLUGRAD_OPENCL_DETERMINISTIC=0`` lets accumulating scatters of floats add with
    atomics (faster on large scatters, but the bits of the sums vary between runs)."""

    #: kDLOpenCL. The buffers are not host memory, so ``to_dlpack`` keeps its default:
    #: DLPack consumers that ask for host memory get a copy, others a BufferError.
    dlpack_device_type = 4

    def __init__(self, info, tuning: str | None = None):
        self.info = info
        self.rt = Runtime(info, self._label)
        self.dtypes = frozenset(dtype_from_name(n) for n in info.dtypes)
        self._np = {d: np.dtype(d.name) for d in self.dtypes}
        self._conv = _scalar_converters(self.dtypes)
        tuning = tuning or os.environ.get(ENV_TUNING, "").strip() or ("gpu" if info.is_gpu else "cpu")
        if tuning not in ("cpu", "gpu"):
            raise ValueError(f"{ENV_TUNING}={tuning!r}: expected 'cpu' or 'gpu'")
        self.tuning = tuning
        gpu = tuning == "gpu"
        self.run = 1 if gpu else 16
        self.local = 256 if gpu else 64
        self._local = (self.local,)
        self.parallel = info.compute_units * self.local * (8 if gpu else 2)
        self.min_chunk = 128 if gpu else 2048
        self.max_chunks = 1024 if gpu else 256
        self.target = Target(info.dtypes, info.fp64, info.int64_atomics, self.run, self.local)
        self._libs = ({}, {})
        self._planners = (Planner("i", self.run, self.local, self.rt.constant),
                          Planner("q", self.run, self.local, self.rt.constant))
        self._sync = _env_flag(ENV_SYNC, False)
        self.deterministic = _env_flag(ENV_DETERMINISTIC, True)
        self.matmul_kernel = os.environ.get(ENV_MATMUL, "auto").strip() or "auto"
        if self.matmul_kernel not in MATMUL_KERNELS:
            raise ValueError(f"{ENV_MATMUL}={self.matmul_kernel!r}: expected one of {', '.join(MATMUL_KERNELS)}")
        self.force_wide = False      # use the 64-bit-index programs for every array (tests)
        self._launch_lock = threading.Lock()
        self._reduce_plans = {}           # layouts reduced in one launch -> (descriptor, global size, wide)
        self._fused = FusedKernels(self.rt, info.fp64, self.run)
        self._graphs = Graphs(self)

    def _label(self) -> str:
        return f"{self.device or 'opencl'} ({self.info.name})"

    # ---- programs ------------------------------------------------------------------------
    def library(self, dtype, wide: bool = False) -> Library:
        """The kernel program of ``dtype`` (built on first use)."""
        wide = wide or self.force_wide
        libs = self._libs[wide]
        lib = libs.get(dtype)
        if lib is None:
            lib = libs[dtype] = Library(self.rt, dtype.name, WIDE if wide else NARROW, self.target)
        return lib

    def build_all(self) -> None:
        """Build every dtype's program now (tests and warm-up; otherwise lazy)."""
        for d in sorted(self.dtypes, key=lambda d: d.name):
            self.library(d).build()

    def _pair(self, lib: Library, name: str, op: str):
        try:
            return lib.pair(name)
        except KeyError:
            raise UnsupportedOperation(op, self.device, dtype_from_name(lib.dtype_name)) from None

    def _kernel(self, lib: Library, name: str, op: str):
        try:
            return lib.kernel(name)
        except KeyError:
            raise UnsupportedOperation(op, self.device, dtype_from_name(lib.dtype_name)) from None

    def _run(self, knl, gsize, local, args, op: str) -> None:
        rt = self.rt
        try:
            with self._launch_lock:        # a cl.Kernel holds its arguments: one launch at a time
                event = knl(rt.queue, gsize, local, *args)
        except cl.Error as exc:
            raise OpenCLDeviceError(f"{self._label()}: launching kernel '{knl.function_name}' for '{op}' "
                                    f"failed: {exc}") from exc
        if self._sync:
            rt.finish(op)
        else:
            rt.unmarked += 1
            if rt.unmarked >= LAUNCHES_PER_MARK:
                rt.launched(event)

    def _ew(self, kernels, out, operands, tail, op: str) -> None:
        """One elementwise launch over ``out``'s shape (``out`` is the first operand of the
        kernel; for scatters it is the index array that sets the iteration space).
        ``operands`` follow it: arrays, or None where the kernel takes a scalar instead."""
        args = [out.buf, out.offset]
        contig = out.contig
        shape = out.shape
        wide = out.wide
        for a in operands:
            if a is None:
                args.append(out.buf)
                args.append(0)
            else:
                args.append(a.buf)
                args.append(a.offset)
                if contig and (not a.contig or a.shape != shape):
                    contig = False
                wide = wide or a.wide
        args += tail
        planner = self._planners[wide or self.force_wide]
        if contig:
            n = out.size
            self._run(kernels[0], (planner.pad(n),), self._local, [n] + args, op)
            return
        plan = planner.ew(shape, out.strides, operands)
        if plan.splits is None:
            self._run(kernels[1], plan.gsize, self._local, [plan.layout] + args, op)
            return
        for layout, deltas in plan.splits:
            shifted = list(args)
            for k, d in enumerate(deltas):
                shifted[2 * k + 1] += d
            self._run(kernels[1], plan.gsize, self._local, [layout] + shifted, op)

    @staticmethod
    def _is_wide(*arrays) -> bool:
        return any(a.wide for a in arrays if type(a) is CLArray)

    # ---- memory and transfers -------------------------------------------------------------
    def empty(self, shape, dtype):
        if dtype not in self._np:
            raise self._missing_dtype("empty", dtype)
        n = numel(shape)
        buf = self.rt.alloc(n * dtype.itemsize, f"a {dtype.name} tensor of shape {list(shape)}") if n else None
        return CLArray(buf, shape, contiguous_strides(shape), 0, dtype, n, True, n >= WIDE_LIMIT)

    def _missing_dtype(self, op, dtype):
        if dtype.name in disabled_dtypes():
            why = f"disabled by {ENV_DISABLE_DTYPES}"
        elif dtype.name == "float64":
            why = "the device does not report the cl_khr_fp64 extension"
        else:
            why = "the device does not support this dtype"
        return UnsupportedOperation(op, self.device, dtype, why)

    def from_bytes(self, data, shape, dtype):
        a = self.empty(shape, dtype)
        nbytes = memoryview(data).nbytes
        if nbytes != a.size * dtype.itemsize:
            raise ValueError(f"from_bytes: got {nbytes} bytes for {a.size} elements of {dtype.name}")
        if a.size:
            self.rt.upload(a.buf, data)
        return a

    def to_bytes(self, array) -> bytes:
        if not array.size:
            return b""
        if not array.contig:
            tmp = self.empty(array.shape, array.dtype)
            self.copy(array, tmp)
            array = tmp
        isz = array.dtype.itemsize
        return self.rt.download(array.buf, array.offset * isz, array.size * isz)

    def to_list(self, array, dtype_, n):
        if n == 0:
            return []
        return np.frombuffer(self.to_bytes(array), self._np[dtype_]).tolist()

    def view(self, base, shape, strides, offset):
        size = numel(shape)
        return CLArray(base.buf, shape, strides, offset, base.dtype, size, is_contiguous(shape, strides),
                       base.wide or size >= WIDE_LIMIT)

    def synchronize(self) -> None:
        self.rt.finish()

    # ---- elementwise ------------------------------------------------------------------------
    def copy(self, src, out) -> None:
        if not out.size:
            return
        lib = self.library(out.dtype, out.wide or src.wide)
        self._ew(self._pair(lib, "cast_" + src.dtype.name, "copy"), out, (src,), (), "copy")

    def fill(self, out, value) -> None:
        if not out.size:
            return
        lib = self.library(out.dtype, out.wide)
        self._ew(self._pair(lib, "fill", "fill"), out, (), (self._conv[out.dtype](value),), "fill")

    def unary(self, op, x, out) -> None:
        if not out.size:
            return
        lib = self.library(x.dtype, out.wide or x.wide)
        self._ew(self._pair(lib, "u_" + op, op), out, (x,), (), op)

    def binary(self, op, a, b, out) -> None:
        if not out.size:
            return
        if type(a) is CLArray:
            dt = a.dtype
            if type(b) is CLArray:
                operands, s, mode = (a, b), 0, 0
            else:
                operands, s, mode = (a, None), b, 1
        else:
            dt = b.dtype
            operands, s, mode = (None, b), a, 2
        lib = self.library(dt, out.wide or self._is_wide(a, b))
        self._ew(self._pair(lib, "b_" + op, op), out, operands, (self._conv[dt](s), mode), op)

    def where(self, cond, a, b, out) -> None:
        if not out.size:
            return
        conv = self._conv[out.dtype]
        am, bm = type(a) is not CLArray, type(b) is not CLArray
        lib = self.library(out.dtype, out.wide or self._is_wide(cond, a, b))
        self._ew(self._pair(lib, "where", "where"), out, (cond, None if am else a, None if bm else b),
                 (conv(a) if am else 0, int(am), conv(b) if bm else 0, int(bm)), "where")

    fuses_elementwise = True

    def fused_elementwise(self, program, inputs, outs) -> None:
        """One generated kernel for the whole program (see :mod:`plugrad_opencl.fused`);
        the unfused loop when the program cannot be generated as one."""
        if not outs or not outs[0][1].size:
            return
        shape = outs[0][1].shape
        kinds = tuple(a.dtype.name if type(a) is CLArray else None for a in inputs)
        arrays = [out for _, out in outs] + [a for a in inputs if type(a) is CLArray]
        wide = self.force_wide or any(a.wide for a in arrays)
        contig = all(a.contig and a.shape == shape for a in arrays)
        if contig:
            layout, cshape, cst = "c", None, None
        else:
            strides = [out.strides for _, out in outs]
            strides += [broadcast_strides(a.shape, a.strides, shape) for a in inputs if type(a) is CLArray]
            cshape, cst = coalesce(shape, strides)
            if not cshape:
                cshape, cst = [1], [[0] for _ in strides]
            layout = f"s{len(cshape)}"
        out_regs = tuple(reg for reg, _ in outs)
        try:
            knl, src = self._fused.get((program, kinds, out_regs, layout, wide), program, kinds, out_regs, layout,
                                       WIDE if wide else NARROW)
        except Unfusable:
            super().fused_elementwise(program, inputs, outs)
            return
        args = []
        for a in arrays:
            args.append(a.buf)
            args.append(a.offset)
        for reg, name in src.scalars:
            args.append(self._conv[dtype_from_name(name)](inputs[reg]))
        planner = self._planners[wide]
        if contig:
            n = outs[0][1].size
            self._run(knl, (planner.pad(n),), self._local, [n] + args, "fused_elementwise")
            return
        rows = numel(cshape[:-1])
        fmt = "q" if wide else "i"
        desc = [rows] + cshape[::-1] + [s for st in cst for s in st[::-1]]
        layout_buf = self.rt.constant(struct.pack(f"<{len(desc)}{fmt}", *desc))
        gsize = (planner.pad(rows * -(-cshape[-1] // self.run)),)
        self._run(knl, gsize, self._local, [layout_buf] + args, "fused_elementwise")

    def prepare(self, calls):
        """The calls as preset launches, runs of small ones as one graph kernel (see
        :mod:`plugrad_opencl.prepared`)."""
        return prepare(self, calls)

    # ---- reductions -------------------------------------------------------------------------
    def reduce(self, op, x, axes, out) -> None:
        if not out.size:
            return
        if not x.size:
            if op not in _IDENTITY:
                raise RuntimeError(f"{op}(): cannot reduce over a zero-size dimension")
            self.fill(out, _IDENTITY[op])
            return
        key = (x.shape, x.strides, out.strides, axes, x.wide or out.wide or self.force_wide)
        single = self._reduce_plans.get(key)
        if single is not None:           # a layout reduced before in one launch: skip the planning
            layout, gsize, wide = single
            knl = self._kernel(self.library(x.dtype, wide), "red_" + op, op)
            self._run(knl, gsize, self._local, (layout, out.buf, out.offset, x.buf, x.offset), op)
            return
        kept = [(n, xs, os) for d, (n, xs, os) in enumerate(zip(x.shape, x.strides, out.strides))
                if d not in axes and n != 1]
        reduced = sorted(((x.shape[d], x.strides[d]) for d in axes if x.shape[d] != 1), key=lambda r: -abs(r[1]))
        groups = _merge_axes(reduced)
        if not groups:   # every reduced dim has size 1: the values pass through
            if op == "sum" and x.dtype.is_floating_point:
                self.binary("add", x, 0.0, out)   # as an accumulator from 0 would: -0.0 sums to 0.0
            else:
                self.copy(x, out)
            return
        src = x
        base = [(n, xs) for n, xs, _ in kept]
        if len(groups) == 1:
            single = self._reduce_axis(op, x, kept, *groups[0], out)
            if single is not None:
                if len(self._reduce_plans) > 4096:
                    self._reduce_plans.clear()
                self._reduce_plans[key] = single
            return
        while groups:
            (R, rs), groups = groups[0], groups[1:]
            if not groups:
                self._reduce_axis(op, src, [(n, xs, os) for (n, xs), (_, _, os) in zip(base, kept)], R, rs, out)
                return
            # a temporary holds the kept dims followed by the axes still to reduce
            tshape = tuple(n for n, _ in base) + tuple(n for n, _ in groups)
            tmp = self.empty(tshape, out.dtype)
            tstr = tmp.strides
            dims = [(n, xs, ts) for (n, xs), ts in zip(base + groups, tstr)]
            self._reduce_axis(op, src, dims, R, rs, tmp)
            src = tmp
            base = [(n, ts) for (n, _), ts in zip(base, tstr)]
            groups = [(n, ts) for (n, _), ts in zip(groups, tstr[len(base):])]

    def _chunks(self, R: int, nwork: int):
        """``(chunk, nchunk)``: cut a long axis when there are too few outputs to keep the
        device busy; the partial results are reduced by a second launch."""
        if R < 2 * self.min_chunk or nwork >= self.parallel:
            return R, 1
        nchunk = min(-(-self.parallel // nwork), R // self.min_chunk, self.max_chunks)
        chunk = -(-R // nchunk)
        return chunk, -(-R // chunk)

    def _reduce_axis(self, op, src, dims, R, rs, dst):
        """dst[kept] = op over the axis (length R, stride rs in src); ``dims`` are the kept
        dims as (size, src stride, dst stride). Returns ``(descriptor, global size, wide)``
        when that took exactly one launch (reduce() caches it), else None."""
        kshape, (kx, ko) = coalesce([n for n, _, _ in dims], [[s for _, s, _ in dims], [s for _, _, s in dims]])
        if not kshape:
            kshape, kx, ko = [1], [0], [0]
        run = self.run if self.run > 1 and kx[-1] == 1 and abs(rs) != 1 else 1
        rows = numel(kshape[:-1])
        nrun = -(-kshape[-1] // run)
        chunk, nchunk = self._chunks(R, rows * nrun)
        wide = self.force_wide or src.wide or dst.wide
        if nchunk > 1:
            count = numel(kshape)
            part = self.empty((count * nchunk,), dst.dtype)
            pstr = [s * nchunk for s in contiguous_strides(tuple(kshape))]
            self._launch_reduce(op, src, kshape, kx, pstr, rows, R, rs, chunk, nchunk, 1, run, part, wide)
            self._reduce_axis(op, part, list(zip(kshape, pstr, ko)), nchunk, 1, dst)
            return None
        return self._launch_reduce(op, src, kshape, kx, ko, rows, R, rs, R, 1, 0, run, dst, wide)

    def _launch_reduce(self, op, src, kshape, kx, ko, rows, R, rs, chunk, nchunk, ps, run, dst, wide):
        knl = self._kernel(self.library(src.dtype, wide), "red_" + op, op)
        planner = self._planners[wide]
        kshape, (kx, ko), launches = split_leading(kshape, [kx, ko])
        if launches is not None:
            rows = numel(kshape[:-1])
        layout = planner.pack_r(kshape, kx, ko, rows, R, rs, chunk, nchunk, ps, run)
        gsize = (planner.pad(rows * -(-kshape[-1] // run) * nchunk),)
        for _, (dx, do) in launches or ((0, (0, 0)),):
            self._run(knl, gsize, self._local, (layout, dst.buf, dst.offset + do, src.buf, src.offset + dx), op)
        return (layout, gsize, wide) if launches is None else None

    def arg_reduce(self, op, x, axis, out) -> None:
        if not out.size:
            return
        dims = [(n, xs, os) for d, (n, xs, os) in enumerate(zip(x.shape, x.strides, out.strides)) if d != axis]
        kshape, (kx, ko) = coalesce([n for n, _, _ in dims], [[s for _, s, _ in dims], [s for _, _, s in dims]])
        if not kshape:
            kshape, kx, ko = [1], [0], [0]
        R, rs = x.shape[axis], x.strides[axis]
        wide = self.force_wide or x.wide or out.wide
        rows = numel(kshape)
        chunk, nchunk = self._chunks(R, rows)
        knl = self._kernel(self.library(x.dtype, wide), "arg_" + op, op)
        planner = self._planners[wide]
        if nchunk == 1:
            self._launch_arg(knl, planner, kshape, kx, ko, R, rs, R, 1, 0, out, out, x, out, 0, op)
            return
        pstr = [s * nchunk for s in contiguous_strides(tuple(kshape))]
        pidx = self.empty((rows * nchunk,), out.dtype)
        pval = self.empty((rows * nchunk,), x.dtype)
        self._launch_arg(knl, planner, kshape, kx, pstr, R, rs, chunk, nchunk, 1, pidx, pval, x, pidx, 2, op)
        self._launch_arg(knl, planner, kshape, pstr, ko, nchunk, 1, nchunk, 1, 0, out, out, pval, pidx, 1, op)

    def _launch_arg(self, knl, planner, kshape, kx, ko, R, rs, chunk, nchunk, ps, out, vals, src, idx, mode, op):
        kshape, (kx, ko), launches = split_leading(kshape, [kx, ko])
        rows = numel(kshape)
        layout = planner.pack_r(kshape, kx, ko, rows, R, rs, chunk, nchunk, ps, 1)
        gsize = (planner.pad(rows * nchunk),)
        for _, (dx, do) in launches or ((0, (0, 0)),):
            self._run(knl, gsize, self._local, (layout, out.buf, out.offset + do, vals.buf, vals.offset + do,
                                                src.buf, src.offset + dx, idx.buf, idx.offset + dx, mode), op)

    def scan(self, op, x, axis, out) -> None:
        if not out.size:
            return
        dims = [(n, xs, os) for d, (n, xs, os) in enumerate(zip(x.shape, x.strides, out.strides)) if d != axis]
        kshape, (kx, ko) = coalesce([n for n, _, _ in dims], [[s for _, s, _ in dims], [s for _, _, s in dims]])
        if not kshape:
            kshape, kx, ko = [1], [0], [0]
        R, rs, os_ = x.shape[axis], x.strides[axis], out.strides[axis]
        run = self.run if self.run > 1 and kx[-1] == 1 and abs(rs) != 1 else 1
        wide = self.force_wide or x.wide or out.wide
        knl = self._kernel(self.library(x.dtype, wide), "scan_" + op, op)
        planner = self._planners[wide]
        kshape, (kx, ko), launches = split_leading(kshape, [kx, ko])
        rows = numel(kshape[:-1])
        layout = planner.pack_r(kshape, kx, ko, rows, R, rs, R, 1, os_, run)
        gsize = (planner.pad(rows * -(-kshape[-1] // run)),)
        for _, (dx, do) in launches or ((0, (0, 0)),):
            self._run(knl, gsize, self._local, (layout, out.buf, out.offset + do, x.buf, x.offset + dx), op)

    # ---- matmul -----------------------------------------------------------------------------
    def matmul(self, a, b, out) -> None:
        if not out.size:
            return
        if len(a.shape) == 2:
            nb, (M, K), N = 1, a.shape, b.shape[1]
            (sam, sak), (sbk, sbn), (som, son) = a.strides, b.strides, out.strides
            sab = sbb = sob = 0
        else:
            (nb, M, K), N = a.shape, b.shape[2]
            (sab, sam, sak), (sbb, sbk, sbn), (sob, som, son) = a.strides, b.strides, out.strides
        wide = self.force_wide or self._is_wide(a, b, out)
        lib = self.library(out.dtype, wide)
        planner = self._planners[wide]
        kernel = self._matmul_variant(out.dtype, M, N)
        if kernel == "v16" and son != 1:
            tmp = self.empty(out.shape, out.dtype)
            self.matmul(a, b, tmp)
            self.copy(tmp, out)
            return
        if kernel == "v16" and sbn != 1:       # rows of b must be contiguous for vector loads
            b = self._contiguous_copy(b)
            sbk, sbn = b.strides[-2:]
            sbb = b.strides[0] if len(b.shape) == 3 else 0
        strides = (sab, sam, sak, sbb, sbk, sbn, sob, som, son)
        bufs = (out.buf, out.offset, a.buf, a.offset, b.buf, b.offset)

        def launch(name, m0, m1, n0, n1, gsize, local):
            self._run(self._kernel(lib, name, "matmul"), gsize, local,
                      (planner.pack_mm(m0, m1, n0, n1, K, *strides),) + bufs, "matmul")

        if kernel == "tiled":
            launch("mm_tiled", 0, M, 0, N, (-(-N // 64) * 16, -(-M // 64) * 16, nb), (16, 16, 1))
            return
        m8, n16 = (M // 8 * 8, N // 16 * 16) if kernel == "v16" else (0, 0)
        if m8 and n16:
            launch("mm_v16", 0, m8, 0, n16, (-(-(n16 // 16) // 8) * 8, m8 // 8, nb), (8, 1, 1))
        for m0, m1, n0, n1 in ((0, M, n16, N), (m8, M, 0, n16)) if m8 and n16 else ((0, M, 0, N),):
            if m0 < m1 and n0 < n1:
                gx, gy = -(-(n1 - n0) // 4), -(-(m1 - m0) // 4)
                launch("mm_generic", m0, m1, n0, n1, (-(-gx // 8) * 8, -(-gy // 8) * 8, nb), (8, 8, 1))

    def _matmul_variant(self, dtype, M, N) -> str:
        if not CTYPES[dtype.name].is_float:
            return "generic"
        if self.matmul_kernel != "auto":
            return self.matmul_kernel
        if self.tuning == "gpu":
            return "tiled" if M * N >= 4096 else "generic"
        return "v16" if M >= 8 and N >= 16 else "generic"

    def _contiguous_copy(self, a):
        tmp = self.empty(a.shape, a.dtype)
        self.copy(a, tmp)
        return tmp

    # ---- indexing -----------------------------------------------------------------------------
    def take(self, base, index, out) -> None:
        if not out.size:
            return
        lib = self.library(out.dtype, self._is_wide(base, index, out))
        self._ew(self._pair(lib, "take", "take"), out, (index,), (base.buf,), "take")

    def put(self, base, index, values, accumulate) -> None:
        if not index.size:
            return
        array = type(values) is CLArray
        vals = values if array else None
        s, sm = (0, 0) if array else (self._conv[base.dtype](values), 1)
        lib = self.library(base.dtype, self._is_wide(base, index, values))
        op = "index_put (accumulate)" if accumulate else "index_put"
        if not accumulate:
            self._ew(self._pair(lib, "put", op), index, (vals,), (s, sm, base.buf), op)
        elif lib.has("put_acc_c") and (not CTYPES[base.dtype.name].is_float or not self.deterministic):
            self._ew(self._pair(lib, "put_acc", op), index, (vals,), (s, sm, base.buf), op)
        else:
            self._put_sorted(lib, base, index, vals, s, sm, op)

    def _put_sorted(self, lib, base, index, vals, s, sm, op) -> None:
        """Deterministic accumulation: sort (position, index order) pairs on the device,
        then add each run of equal positions in index order (see ``kernels.indexing``)."""
        int64 = dtype_from_name("int64")
        n = index.size
        size = max(1 << (n - 1).bit_length(), self.local)      # a power of two, whole work-groups
        keys, ids = self.empty((size,), int64), self.empty((size,), int64)
        if size > n:
            self.fill(self.view(keys, (size - n,), (1,), n), 2 ** 63 - 1)   # padding sorts last
        self._ew(self._pair(lib, "put_keys", op), index, (), (keys.buf, ids.buf), op)
        step, local = self._kernel(lib, "sort_step", op), self._kernel(lib, "sort_local", op)
        self._run(local, (size,), self._local, (keys.buf, ids.buf, 0), op)
        k = 2 * self.local
        while k <= size:
            j = k >> 1
            while j >= self.local:
                self._run(step, (size,), self._local, (keys.buf, ids.buf, j, k), op)
                j >>= 1
            self._run(local, (size,), self._local, (keys.buf, ids.buf, k), op)
            k <<= 1
        planner = self._planners[lib.idx is WIDE]
        plan = planner.ew(index.shape, index.strides, (vals,))
        if plan.splits is not None:       # more than MAXD dims that do not coalesce: read a dense copy
            if vals is not None:
                dense = self.empty(index.shape, vals.dtype)
                self.copy(vals, dense)
                vals = dense
            plan = planner.ew(index.shape, contiguous_strides(index.shape), (vals,))
        vbuf, voff = (vals.buf, vals.offset) if vals is not None else (keys.buf, 0)
        self._run(self._kernel(lib, "put_runs", op), (planner.pad(n),), self._local,
                  (plan.layout, vbuf, voff, s, sm, keys.buf, ids.buf, n, base.buf), op)

    def nonzero(self, x):
        int64 = dtype_from_name("int64")
        ndim = len(x.shape)
        if not x.size:
            return self.empty((0, ndim), int64), 0
        wide = self.force_wide or x.wide
        lib = self.library(x.dtype, wide)
        planner = self._planners[wide]
        plan = planner.ew(x.shape, x.strides, ())
        if plan.splits is not None:       # more than MAXD dims that do not coalesce
            x = self._contiguous_copy(x)
            plan = planner.ew(x.shape, x.strides, ())
        total = x.size
        nchunk = max(1, min(self.parallel, total // 1024))
        chunk = -(-total // nchunk)
        nchunk = -(-total // chunk)
        counts = self.empty((nchunk + 1,), int64)
        g = (planner.pad(nchunk),)
        self._run(self._kernel(lib, "nz_count", "nonzero"), g, self._local,
                  (plan.layout, x.buf, x.offset, counts.buf, chunk, total), "nonzero")
        self._run(self._kernel(lib, "nz_scan", "nonzero"), self._local, self._local, (counts.buf, nchunk), "nonzero")
        count = int(np.frombuffer(self.rt.download(counts.buf, nchunk * 8, 8), np.int64)[0])
        out = self.empty((count, ndim), int64)
        if count and ndim:
            shape = self.rt.constant(np.array(x.shape, np.int64).tobytes())
            self._run(self._kernel(lib, "nz_write", "nonzero"), g, self._local,
                      (plan.layout, x.buf, x.offset, out.buf, counts.buf, shape, ndim, chunk, total), "nonzero")
        return out, count


def _merge_axes(reduced):
    """Reduced dims (size, stride), largest stride first, merged where they are
    contiguous with each other: most multi-axis reductions become one axis."""
    groups = []
    for n, s in reduced:
        if groups and groups[-1][1] == s * n:
            groups[-1] = (groups[-1][0] * n, s)
        else:
            groups.append((n, s))
    return groups

