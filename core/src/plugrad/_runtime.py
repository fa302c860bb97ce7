"""Process-wide settings PyTorch programs set and read back: the float32 matmul
precision and the thread counts.

plugrad computes float32 matmuls in full float32 (there is no TF32 or bfloat16 fast
path to trade precision for), and runs each op in the calling thread (the cpu
plugin's NumPy/BLAS threads follow their own environment, e.g. ``OMP_NUM_THREADS``).
These settings are therefore recorded, validated and reported as PyTorch does, so
that code which sets them and reads them back behaves the same, and
``torch.backends.cuda.matmul.allow_tf32`` stays consistent with the precision, as in
PyTorch (``"high"``/``"medium"`` <-> ``allow_tf32=True``).
"""

from __future__ import annotations

import os
import warnings

__all__ = ["get_float32_matmul_precision", "set_float32_matmul_precision", "get_num_threads", "set_num_threads",
           "get_num_interop_threads", "set_num_interop_threads"]

_PRECISIONS = ("highest", "high", "medium")
_state = {"precision": "highest", "threads": os.cpu_count() or 1, "interop_threads": os.cpu_count() or 1,
          "interop_set": False}


def get_float32_matmul_precision() -> str:
    """``"highest"`` (the default), ``"high"`` or ``"medium"``."""
    return _state["precision"]


def set_float32_matmul_precision(precision: str) -> None:
    """Record the precision PyTorch would allow for float32 matmuls; an unknown name
    warns and changes nothing, as in PyTorch."""
    if not isinstance(precision, str):
        raise RuntimeError(f"set_float32_matmul_precision expects a str, but got {type(precision).__name__}")
    if precision not in _PRECISIONS:
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
                      f"setFloat32MatmulPrecision call has no effect.", UserWarning, stacklevel=2)
        return
    _state["precision"] = precision


def _check_count(value, fname: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise RuntimeError(f"{fname} expects an int, but got {type(value).__name__}")
    if value <= 0:
        raise RuntimeError(f"{fname} expects a positive integer")
    return value


def get_num_threads() -> int:
    """The intra-op thread count (default: the number of CPUs)."""
    return _state["threads"]


def set_num_threads(num: int) -> None:
    _state["threads"] = _check_count(num, "set_num_threads")


def get_num_interop_threads() -> int:
    """The inter-op thread count (default: the number of CPUs)."""
    return _state["interop_threads"]


def set_num_interop_threads(num: int) -> None:
    """Set once per process, as in PyTorch (a second call raises RuntimeError)."""
    num = _check_count(num, "set_num_interop_threads")
    if _state["interop_set"]:
        raise RuntimeError("Error: cannot set number of interop threads after parallel work has started or "
                           "set_num_interop_threads called")
    _state["interop_threads"], _state["interop_set"] = num, True
