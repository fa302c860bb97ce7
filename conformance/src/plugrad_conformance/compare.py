"""Comparing what a device returned with what the reference expects.

Results can be tensors, tuples of tensors (``max(dim)``, ``split``), Python
numbers or bools (``allclose``, ``equal``). Floats compare with a tolerance,
integers and bools exactly; NaN equals NaN and infinities must match in sign.
Every mismatch message names the output, the worst element and both values.
"""

from __future__ import annotations

import numpy as np
import plugrad

from .device import NP_DTYPE, to_numpy

__all__ = ["Mismatch", "assert_close", "assert_array_close", "expected_as", "flatten_result", "assert_same_bits"]


class Mismatch(AssertionError):
    """A device result differs from the expected one."""


def flatten_result(result) -> list:
    """A result as a flat list of leaves (tensors, numbers, bools, None)."""
    if isinstance(result, (tuple, list)):
        out = []
        for r in result:
            out.extend(flatten_result(r))
        return out
    return [result]


def expected_as(ref, dtype_name: str) -> np.ndarray:
    """The reference result converted the way the device's result dtype stores it:
    integers wrap like fixed-width integers, bools are ``!= 0``, floats are rounded."""
    ref = np.asarray(ref)
    if dtype_name == "bool":
        return ref.astype(bool)
    if dtype_name in ("float16", "float32", "float64"):
        with np.errstate(over="ignore", invalid="ignore"):
            return ref.astype(np.float64).astype(dtype_name).astype(np.float64)
    if ref.dtype.kind == "f":
        if not np.all(np.isfinite(ref)) or np.any(ref != np.round(ref)):
            raise Mismatch(f"the reference gives non-integer values {ref.tolist()} for an {dtype_name} result")
        ref = ref.astype(np.int64)
    return ref.astype(np.int64).astype(NP_DTYPE[dtype_name]).astype(np.int64)


def _values(actual):
    """(array, dtype name) of a device result leaf."""
    if isinstance(actual, plugrad.Tensor):
        return to_numpy(actual), actual.dtype.name
    if isinstance(actual, bool):
        return np.asarray(actual), "bool"
    if isinstance(actual, int):
        return np.asarray(actual, dtype=np.int64), "int64"
    if isinstance(actual, float):
        return np.asarray(actual, dtype=np.float64), "float64"
    raise Mismatch(f"unexpected result type {type(actual).__name__}")


def assert_close(actual, expected, tol, what: str = "result") -> None:
    """Raise :class:`Mismatch` unless ``actual`` (device result) matches ``expected``
    (reference result, same nesting); ``tol(dtype_name)`` gives (rtol, atol) for floats."""
    acts, exps = flatten_result(actual), flatten_result(expected)
    if len(acts) != len(exps):
        raise Mismatch(f"{what}: the device returned {len(acts)} outputs, the reference {len(exps)}")
    for i, (a, e) in enumerate(zip(acts, exps)):
        label = what if len(acts) == 1 else f"{what} output {i}"
        if e is None:
            if a is not None:
                raise Mismatch(f"{label}: expected None, got {type(a).__name__}")
            continue
        arr, dname = _values(a)
        e = np.asarray(e)
        if isinstance(a, plugrad.Tensor) and tuple(a.shape) != e.shape:
            raise Mismatch(f"{label}: shape {list(a.shape)}, expected {list(e.shape)}")
        if not isinstance(a, plugrad.Tensor) and arr.shape != e.shape:
            raise Mismatch(f"{label}: got {arr.tolist()!r}, expected {e.tolist()!r}")
        exp = expected_as(e, dname)
        rtol, atol = tol(dname)
        _compare_arrays(arr, exp, dname, rtol, atol, label)


def assert_array_close(actual: np.ndarray, expected: np.ndarray, rtol: float, atol: float, label: str) -> None:
    """Two float arrays (already on the host) within ``rtol``/``atol``."""
    actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        raise Mismatch(f"{label}: shape {list(actual.shape)}, expected {list(expected.shape)}")
    _compare_arrays(actual, expected, "float64", rtol, atol, label)


def _compare_arrays(arr, exp, dname, rtol, atol, label):
    if dname in ("float16", "float32", "float64"):
        a = arr.astype(np.float64)
        both_nan = np.isnan(a) & np.isnan(exp)
        with np.errstate(invalid="ignore", over="ignore"):
            same_inf = np.isinf(a) & np.isinf(exp) & (np.sign(a) == np.sign(exp))
            err = np.abs(a - exp)
            bad = ~(both_nan | same_inf | (err <= atol + rtol * np.abs(exp)))
    else:
        a = arr.astype(np.int64) if dname != "bool" else arr
        bad = a != exp
    if np.any(bad):
        idx = np.argwhere(bad)
        where = tuple(int(i) for i in idx[0]) if bad.ndim else ()
        n_bad = int(np.sum(bad))
        raise Mismatch(f"{label} ({dname}): {n_bad} of {bad.size} elements differ; at index {list(where)} the "
                       f"device gives {a[where].item()!r}, the reference {exp[where].item()!r}"
                       + (f" (rtol={rtol}, atol={atol})" if dname.startswith("float") else "")
                       + (f"\n  device:    {a.tolist()}\n  reference: {exp.tolist()}" if a.size <= 16 else ""))


def assert_same_bits(first, second, what: str) -> None:
    """Two results of the same call must be bitwise identical (NaN payloads aside)."""
    a, b = flatten_result(first), flatten_result(second)
    for i, (x, y) in enumerate(zip(a, b)):
        if isinstance(x, plugrad.Tensor):
            xa, ya = to_numpy(x), to_numpy(y)
            same = xa.shape == ya.shape and np.array_equal(np.atleast_1d(xa).view(np.uint8),
                                                           np.atleast_1d(ya).view(np.uint8))
            if not same and xa.dtype.kind == "f":
                same = xa.shape == ya.shape and np.array_equal(xa, ya, equal_nan=True) and np.array_equal(
                    np.signbit(xa), np.signbit(ya))
            if not same:
                raise Mismatch(f"{what} output {i}: two runs on the same input differ: {xa.tolist()} vs {ya.tolist()}")
        elif x != y and not (x != x and y != y):
            raise Mismatch(f"{what} output {i}: two runs on the same input differ: {x!r} vs {y!r}")
