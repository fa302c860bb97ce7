"""One device's OpenCL state: context, in-order queue, memory pool, host transfers
and the lazily built kernel programs.

A single in-order queue orders everything, so a pooled buffer freed while queued
kernels still read it is safe to hand out again (later writers queue after them),
and the waits are the blocking device-to-host reads (``download``),
:meth:`Runtime.finish`, and the bound on how far the host may run ahead of the
device (:meth:`Runtime.launched`).
"""

from __future__ import annotations

import warnings
from collections import deque

import numpy as np
import pyopencl as cl
import pyopencl.tools as cl_tools

from plugrad import __version__ as _core_version

from . import __version__
from .errors import DeviceOutOfMemoryError, KernelBuildError, OpenCLDeviceError
from .kernels.library import program

#: Build options. The versions change the option string, and PoCL's and NVIDIA's
#: on-disk kernel caches are keyed by source + options + device + driver, so a new
#: plugrad never reuses binaries built by an old one.
BUILD_OPTIONS = ("-cl-std=CL1.2", f"-DPLUGRAD_VERSION={_core_version}",
                 f"-DPLUGRAD_OPENCL_VERSION={__version__}")

#: Uploads kept in flight before waiting for them (each holds its host bytes alive).
_MAX_PENDING_UPLOADS = 64
#: How far the host may run ahead of the device: every ``LAUNCHES_PER_MARK``-th launch
#: is remembered, and with more than ``_MAX_MARKS`` remembered the host waits for the
#: oldest, so at most about 1,300 launches are queued. Without a bound, a loop that never
#: reads a value back queues work as fast as Python issues it, and the OpenCL runtime's
#: memory grows with the queue (PoCL: +23% resident memory over 3,000 training steps).
#: The device still has a thousand launches queued when the host waits: it never idles.
LAUNCHES_PER_MARK = 256
_MAX_MARKS = 4
#: Cached layout descriptors (a few hundred bytes of device memory each).
_MAX_CONSTANTS = 4096


def build_program(ctx, source: str, what: str):
    """``source`` built for ``ctx`` with the project's options, the compiler's warnings
    silenced (PoCL warns about code the generators write on purpose); a failure is a
    ``KernelBuildError`` whose message starts with ``what``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", cl.CompilerWarning)
            return cl.Program(ctx, source).build(options=list(BUILD_OPTIONS))
    except cl.Error as exc:
        raise KernelBuildError(what, str(exc), source) from exc


class Runtime:
    """Context, queue, pool and transfers of one device. ``label()`` names the device
    in error messages (``opencl:0 (device name)``)."""

    def __init__(self, info, label):
        self.info = info
        self.label = label
        self.ctx = cl.Context([info.cl_device])
        self.queue = cl.CommandQueue(self.ctx)
        self.pool = cl_tools.MemoryPool(cl_tools.ImmediateAllocator(self.queue))
        self._pending = []
        self._constants = {}
        self.unmarked = 0               # launches since the last remembered one
        self._marks = deque()

    # ---- memory --------------------------------------------------------------------
    def alloc(self, nbytes: int, what: str):
        """A buffer of at least ``nbytes`` (> 0); ``what`` describes it for errors."""
        nbytes = (nbytes + 7) & ~7       # whole 8-byte words: see the put kernels
        if nbytes > self.info.max_alloc:
            raise DeviceOutOfMemoryError(
                f"{self.label()}: cannot allocate {nbytes} bytes for {what}: the device allocates at most "
                f"{self.info.max_alloc} bytes in one buffer (CL_DEVICE_MAX_MEM_ALLOC_SIZE)")
        try:
            return self.pool.allocate(nbytes)
        except cl.Error:
            self.pool.free_held()
        try:
            return self.pool.allocate(nbytes)
        except cl.Error as exc:
            raise DeviceOutOfMemoryError(
                f"{self.label()}: out of device memory allocating {nbytes} bytes for {what} "
                f"(global memory {self.info.global_mem} bytes): {exc}") from exc

    def constant(self, data: bytes):
        """A read-only device buffer holding ``data``: the layout descriptor of a launch
        (shapes, strides). One buffer per distinct descriptor, kept in a cache, so a loop
        that repeats its layouts creates none after its first iteration. (Descriptors
        passed by value as struct arguments cost PoCL 20-60 us per launch; a cached
        constant buffer costs nothing extra.)"""
        buf = self._constants.get(data)
        if buf is None:
            if len(self._constants) >= _MAX_CONSTANTS:
                self._constants.clear()     # queued kernels keep their buffers alive (OpenCL retains them)
            try:
                buf = cl.Buffer(self.ctx, cl.mem_flags.READ_ONLY | cl.mem_flags.COPY_HOST_PTR, hostbuf=data)
            except cl.Error as exc:
                raise OpenCLDeviceError(f"{self.label()}: creating a {len(data)}-byte layout descriptor failed: "
                                        f"{exc}") from exc
            self._constants[data] = buf
        return buf

    # ---- transfers (the only host <-> device copies of tensor data) -------------------------
    def upload(self, buf, data) -> None:
        """Copy host bytes into ``buf`` without waiting; the event keeps ``data`` alive."""
        try:
            self._pending.append(cl.enqueue_copy(self.queue, buf, data, is_blocking=False))
        except cl.Error as exc:
            raise OpenCLDeviceError(f"{self.label()}: copying {len(data)} bytes to the device failed: {exc}") from exc
        if len(self._pending) > _MAX_PENDING_UPLOADS:
            self.finish("upload")

    def download(self, buf, byte_offset: int, nbytes: int) -> bytes:
        """``nbytes`` from ``buf`` at ``byte_offset``; waits for queued work (a sync point)."""
        host = np.empty(nbytes, np.uint8)
        try:
            cl.enqueue_copy(self.queue, host, buf, src_offset=byte_offset, is_blocking=True)
        except cl.Error as exc:
            raise OpenCLDeviceError(f"{self.label()}: copying {nbytes} bytes from the device failed (an "
                                    f"earlier kernel may have failed; set PLUGRAD_OPENCL_SYNC=1 to find "
                                    f"which): {exc}") from exc
        self._pending.clear()
        self._marks.clear()
        self.unmarked = 0
        return host.tobytes()

    def launched(self, event) -> None:
        """Called by a launch after ``unmarked`` reached ``LAUNCHES_PER_MARK``: remembers
        ``event`` and waits for the oldest remembered launch when too many are queued."""
        self.unmarked = 0
        marks = self._marks
        marks.append(event)
        if len(marks) > _MAX_MARKS:
            try:
                marks.popleft().wait()
            except cl.Error as exc:
                raise OpenCLDeviceError(f"{self.label()}: a queued kernel failed (set PLUGRAD_OPENCL_SYNC=1 to "
                                        f"find which): {exc}") from exc

    def finish(self, op: str = "synchronize") -> None:
        try:
            self.queue.finish()
        except cl.Error as exc:
            raise OpenCLDeviceError(f"{self.label()}: waiting for the queue after '{op}' failed: {exc}") from exc
        self._pending.clear()
        self._marks.clear()
        self.unmarked = 0


class KernelInfo:
    """What a prepared replay (:mod:`.prepared`) needs to know of a built kernel: its
    program and name (to make a kernel object of its own, arguments set once), its
    argument dtypes, and its source (one kernel function) with the dtype of the program
    it belongs to (``"fused"`` for a generated fused kernel, whose source is a
    :class:`.fused.FusedSource`)."""

    __slots__ = ("program", "name", "argtypes", "source", "dtype_name", "idx")

    def __init__(self, program, name, argtypes, source, dtype_name, idx):
        self.program, self.name, self.argtypes = program, name, argtypes
        self.source, self.dtype_name, self.idx = source, dtype_name, idx


class Library:
    """The kernels of one dtype and index width: one program, built on first use,
    and its ``cl.Kernel`` objects (argument dtypes set once), created on demand."""

    def __init__(self, rt: Runtime, dtype_name: str, idx, target):
        self.rt = rt
        self.dtype_name = dtype_name
        self.idx = idx
        self.source, self.specs = program(dtype_name, idx, target)
        self._program = None
        self.kernels = {}
        self.pairs = {}

    def build(self):
        if self._program is None:
            self._program = build_program(
                self.rt.ctx, self.source, f"{self.rt.label()}: building the OpenCL program of the "
                f"{self.dtype_name} kernels ({self.idx.c} indices) failed")
        return self._program

    def has(self, name: str) -> bool:
        return name in self.specs

    def kernel(self, name: str):
        """The kernel ``name``; KeyError when this dtype has no such kernel."""
        k = self.kernels.get(name)
        if k is None:
            spec = self.specs[name]
            prg = self.build()
            k = cl.Kernel(prg, name)
            argtypes = [None if t is None else np.dtype(t) for t in spec.argtypes]
            k.set_scalar_arg_dtypes(argtypes)
            k.plugrad = KernelInfo(prg, name, tuple(argtypes), spec.source, self.dtype_name, self.idx)
            self.kernels[name] = k
        return k

    def pair(self, name: str):
        """``(contiguous, strided)`` kernels of an elementwise family member."""
        p = self.pairs.get(name)
        if p is None:
            p = self.pairs[name] = (self.kernel(name + "_c"), self.kernel(name + "_s"))
        return p
