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
    """Idle byte buffers by exact size; arrays built on them return them when they die.

    A buffer goes back to the cache only when the last array that uses its memory
    is gone (views and ``Tensor.numpy()`` results keep the array alive), so memory
    in the cache is never visible to anyone."""

    def __init__(self, limit: int):
        self.limit = limit
        self.idle_bytes = 0
        self._idle = {}                   # nbytes -> [uint8 buffers]
        self._lock = threading.RLock()    # a finalizer may run inside array() on the same thread

    def array(self, nbytes: int, shape: tuple, dtype: np.dtype) -> np.ndarray:
        """An uninitialised C-contiguous array of ``nbytes`` (``shape`` x ``dtype``), on a
        reused buffer when one of that size is idle. The caller decides what is worth
        caching (see :data:`MIN_BYTES`)."""
        with self._lock:
            idle = self._idle.get(nbytes)
            if idle:
                buffer = idle.pop()
                self.idle_bytes -= nbytes
            else:
                buffer = None
        if buffer is None:
            buffer = np.empty(nbytes, np.uint8)
        array = buffer.view(dtype).reshape(shape)
        weakref.finalize(array, self._release, buffer).atexit = False
        return array

    def _release(self, buffer: np.ndarray) -> None:
        with self._lock:
            if self.idle_bytes + buffer.nbytes <= self.limit:
                self._idle.setdefault(buffer.nbytes, []).append(buffer)
                self.idle_bytes += buffer.nbytes

    def clear(self) -> None:
        """Give every idle buffer back to the allocator."""
        with self._lock:
            self._idle.clear()
            self.idle_bytes = 0
