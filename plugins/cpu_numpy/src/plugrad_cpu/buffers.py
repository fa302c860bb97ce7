"""Large host buffers for the ``cpu`` device, kept for reuse when their tensors die.

Why: NumPy asks the C allocator for every array, and glibc hands a multi-megabyte
request fresh pages from the operating system whenever it has trimmed its heap,
which it does as soon as a few large temporaries are freed together. Each fresh
4 KiB page costs a page fault on first touch. A forward and backward pass over
million-element tensors frees and reallocates dozens of such arrays per step, and
the faults then cost more than the arithmetic (the elementwise-chain benchmark, W3,
spent about 40% of its time in them). Reusing the buffers removes the faults.

Only arrays of at least :data:`MIN_BYTES` are cached: small arrays are served well
by NumPy's and glibc's own caches, and the finalizer each cached array needs would
cost more than it saves. The cache holds at most ``limit`` bytes of idle buffers
(environment variable ``PLUGRAD_CPU_CACHE_MB``, default 1024; 0 turns it off);
:meth:`BufferCache.clear` hands every idle buffer back to the allocator.
"""

from __future__ import annotations

import mmap
import os
import threading
import weakref

import numpy as np

__all__ = ["BufferCache", "MIN_BYTES", "limit_from_environment"]

#: arrays smaller than this come straight from NumPy
MIN_BYTES = 1 << 20


def limit_from_environment() -> int:
    """The cache limit in bytes, from ``PLUGRAD_CPU_CACHE_MB`` (default 1024 MiB)."""
    text = os.environ.get("PLUGRAD_CPU_CACHE_MB", "1024").strip()
    try:
        mib = float(text)
    except ValueError:
        raise ValueError(f"PLUGRAD_CPU_CACHE_MB must be a number of MiB (0 disables the cache), got {text!r}") \
            from None
    if mib < 0:
        raise ValueError(f"PLUGRAD_CPU_CACHE_MB must not be negative, got {text!r}")
    return int(mib * 2**20)


class BufferCache:
    """Idle memory blocks by exact size; arrays built on them return them when they die.

    Each block is an anonymous memory map (page-aligned, handed back to the OS when
    dropped) under a flat array that every view of it refers to: NumPy points a view
    at the nearest array whose base is not an array, which is that flat array. So a
    block goes back to the cache only when nothing (a tensor, a view, a
    ``Tensor.numpy()`` result) can see its memory any more."""

    def __init__(self, limit: int):
        self.limit = limit
        self.idle_bytes = 0
        self._idle = {}                   # nbytes -> [mmap blocks]
        self._lock = threading.RLock()    # a finalizer may run inside array() on the same thread

    def array(self, nbytes: int, shape: tuple, dtype: np.dtype) -> np.ndarray:
        """An uninitialised C-contiguous array of ``nbytes`` (``shape`` x ``dtype``), on a
        reused block when one of that size is idle. The caller decides what is worth
        caching (see :data:`MIN_BYTES`)."""
        with self._lock:
            idle = self._idle.get(nbytes)
            if idle:
                block = idle.pop()
                self.idle_bytes -= nbytes
            else:
                block = None
        if block is None:
            block = self._new_block(nbytes)
        flat = np.frombuffer(block, dtype)
        weakref.finalize(flat, self._release, block).atexit = False
        return flat if len(shape) == 1 else flat.reshape(shape)

    def _new_block(self, nbytes: int) -> mmap.mmap:
        """A fresh block; when the system refuses it, the idle blocks are handed back and
        the request is tried once more, then refused with MemoryError (as NumPy's own
        allocations are), not the ``OSError`` ``mmap`` raises."""
        try:
            return mmap.mmap(-1, nbytes)
        except OSError:
            self.clear()
        try:
            return mmap.mmap(-1, nbytes)
        except OSError as exc:
            raise MemoryError(f"cannot map {nbytes} bytes: {exc.strerror}") from None

    def _release(self, block: mmap.mmap) -> None:
        with self._lock:
            if self.idle_bytes + len(block) <= self.limit:
                self._idle.setdefault(len(block), []).append(block)
                self.idle_bytes += len(block)

    def clear(self) -> None:
        """Give every idle block back to the operating system."""
        with self._lock:
            self._idle.clear()
            self.idle_bytes = 0
