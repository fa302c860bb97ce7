"""Whether the cpu device compiles loops with Numba (the ``jit`` extra), and loading them.

Two parts of the device have a compiled engine beside the NumPy one: the normal fills
(``rng_jit``) and the fused elementwise programs of compiled replays (``fused_jit``).
Both are used only where ``pip install plugrad-cpu[jit]`` put Numba in, and neither
where the environment sets ``PLUGRAD_CPU_JIT=0`` (or false, no, off): then every
result comes from NumPy, with the same bits. Numba is imported on first need, never by
``import plugrad`` (loading it takes about 0.4 s).
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import os

__all__ = ["ENABLED", "load"]

#: Numba is installed and the environment does not turn the compiled engines off
ENABLED = (os.environ.get("PLUGRAD_CPU_JIT", "1").strip().lower() not in ("0", "false", "no", "off")
           and importlib.util.find_spec("numba") is not None)


@functools.cache
def load(name: str):
    """The module ``plugrad_cpu.<name>`` (imported now), or None where Numba cannot be
    imported (a Numba built for another NumPy raises ImportError)."""
    try:
        import numba  # noqa: F401  (the jit extra)
    except ImportError:
        return None
    return importlib.import_module(f"{__package__}.{name}")
