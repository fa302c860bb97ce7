"""One-line reproductions: the failing call as Python a user can paste.

``python -c "<line>"`` runs the op on the device with the failing example's
exact values, so a backend author sees the wrong output without the suite.
"""

from __future__ import annotations

import math

import numpy as np
import plugrad

from .opinfo import Arr

__all__ = ["repro_line", "render_value"]


def _num(v) -> str:
    if isinstance(v, float):
        if math.isnan(v):
            return "float('nan')"
        if math.isinf(v):
            return "float('inf')" if v > 0 else "-float('inf')"
    return repr(v)


def _nested(values) -> str:
    if isinstance(values, list):
        return "[" + ", ".join(_nested(v) for v in values) + "]"
    return _num(values)


def _tensor(arr: np.ndarray, dtype_name: str, device: str) -> str:
    if arr.size == 0 or arr.ndim == 0:
        data = _nested(arr.reshape(-1).tolist())
        shape = f".reshape({list(arr.shape)})"
    else:
        data, shape = _nested(arr.tolist()), ""
    return f"torch.tensor({data}, dtype=torch.{dtype_name}, device='{device}'){shape}"


def render_value(v, dtype_names, device: str) -> str:
    """Python source for one argument (``dtype_names`` is an iterator over the data
    arrays' dtype names, consumed in order)."""
    if isinstance(v, np.ndarray):
        return _tensor(v, next(dtype_names), device)
    if isinstance(v, Arr):
        return _tensor(v.value, v.dtype, device)
    if isinstance(v, list):
        return "[" + ", ".join(render_value(x, dtype_names, device) for x in v) + "]"
    if isinstance(v, tuple):
        inner = ", ".join(render_value(x, dtype_names, device) for x in v)
        return f"({inner},)" if len(v) == 1 else f"({inner})"
    if isinstance(v, plugrad.dtype):
        return f"torch.{v.name}"
    if v is Ellipsis:
        return "..."
    return _num(v)


def repro_line(op, sample, dtype_names, device: str, form: str = "function") -> str:
    """``python -c`` source that performs ``op`` on ``sample`` (data arrays in
    ``dtype_names``) on ``device`` and prints the result."""
    names = iter(dtype_names)
    args = [render_value(a, names, device) for a in sample.args]
    args += [f"{k}={render_value(v, names, device)}" for k, v in sample.kwargs.items()]
    if form == "method" and op.method_name():
        head, *rest = args
        call = f"{head}.{op.method_name()}({', '.join(rest)})"
    elif getattr(plugrad, op.name, None) is op.fn and op.call is None:
        call = f"torch.{op.name}({', '.join(args)})"
    elif op.call is None:
        call = f"__import__('{op.family}', fromlist=['_']).{op.name}({', '.join(args)})"
    else:
        call = f"__import__('plugrad_conformance.opdb', fromlist=['_']).OPS['{op.name}'].function({', '.join(args)})"
    return f"import plugrad, plugrad as torch; print({call})"
