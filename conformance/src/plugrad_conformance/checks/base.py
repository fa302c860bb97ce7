"""What every check shares: the check record, dtype choices, calling an op on a
sample, and the failure context (op, device, dtype, check, one-line repro)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import plugrad

from ..compare import Mismatch, assert_close, flatten_result
from ..device import reference_args, to_numpy
from ..opinfo import data_arrays
from ..repro import repro_line

__all__ = ["Check", "Ctx", "CheckFailure", "samples", "fixed", "main_dtype", "promoted_dtype", "call_op", "reference",
           "expected_dtypes", "assert_result", "snapshot", "assert_unchanged", "PREFERRED", "NotApplicable"]

#: the dtype a single-dtype check runs in: the first one the op and the device share
PREFERRED = ("float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool")


class CheckFailure(AssertionError):
    """A check failed; the message says what, where, and how to reproduce it."""


class NotApplicable(Exception):
    """This example does not exercise the check (e.g. an in-place form whose result
    has another shape); hypothesis draws another."""


@dataclass
class Ctx:
    """What a check runs against: the device, the profile, and the call in flight
    (kept for the failure message)."""

    device: object
    profile: str = "ci"
    current: dict = field(default_factory=dict)

    def calling(self, op, sample, dtype_names, form="function"):
        self.current = {"op": op, "sample": sample, "dtype_names": list(dtype_names), "form": form}

    def repro(self) -> str:
        c = self.current
        if not c:
            return ""
        return repro_line(c["op"], c["sample"], c["dtype_names"], self.device.name, c["form"])


@dataclass
class Check:
    """One column of the matrix.

    ``cases(op, device)`` lists ``(dtype label, skip reason or None)`` for the op;
    an empty list means the check does not apply. ``strategy(ctx, op, dtype)``
    gives hypothesis samples (None: ``run`` is called once with ``sample=None``);
    ``fixed(ctx, op, dtype)`` gives samples that always run first.
    """

    name: str
    doc: str
    cases: Callable
    run: Callable
    strategy: Callable | None = None
    fixed: Callable | None = None
    examples: dict = field(default_factory=lambda: {"ci": 3, "thorough": 30})


def samples(ctx, op, dtype, purpose, max_numel=None):
    """The op's hypothesis samples for ``dtype`` on the device under test."""
    return op.strategy(dtype, purpose, max_numel, available=tuple(ctx.device.dtypes))


def fixed(ctx, op, dtype, purpose, seed=0, shapes=None, max_numel=None):
    """A seeded sample (or None), as :meth:`OpInfo.fixed_sample` on this device."""
    return op.fixed_sample(dtype, purpose, seed, shapes, max_numel, available=tuple(ctx.device.dtypes))


def main_dtype(op, device):
    """The dtype single-dtype checks use for ``op`` on ``device``, or None."""
    for name in PREFERRED:
        if name in op.dtypes and device.supports(name):
            return name
    return None


def promoted_dtype(op, sample, dtype_names):
    """The core's prediction of the dtype the op computes in: its data operands'
    dtypes by tier (tensors with dims, 0-d tensors, Python numbers when the op
    promotes), as ``plugrad.dtypes.result_type_of`` combines them."""
    arrays = data_arrays(sample)
    dims, zero_dims, scalars = [], [], []
    for arr, name in zip(arrays, dtype_names):
        (dims if np.ndim(arr) else zero_dims).append(plugrad.dtypes.dtype_from_name(name))
    if op.promotes and op.scalar_operands:
        for a in sample.args:
            if isinstance(a, (bool, int, float)) and not isinstance(a, np.ndarray):
                scalars.append(plugrad.dtypes.scalar_dtype(a))
    if not (dims or zero_dims or scalars):
        return plugrad.dtypes.dtype_from_name(dtype_names[0]) if dtype_names else None
    return plugrad.dtypes.result_type_of(dims, zero_dims, scalars)


def expected_dtypes(op, sample, dtype_names):
    """The result dtype(s) the op must return (a dtype or a tuple of dtypes)."""
    return op.result_dtype(promoted_dtype(op, sample, dtype_names), sample)


def call_op(ctx, op, sample, dtype_names, *, form="function", requires_grad=False, layout=None, device=None):
    """Materialize ``sample`` on the device and call ``op`` in ``form``.

    Returns ``(result, tensors, before)``: the data tensors, in order, and their
    values before the call (to prove the op left them alone)."""
    dev = ctx.device
    dtypes = [plugrad.dtypes.dtype_from_name(n) for n in dtype_names]
    args, kwargs, tensors = dev.materialize(sample, dtypes[0] if dtypes else plugrad.float32,
                                            dtypes=dtypes, requires_grad=requires_grad, layout=layout,
                                            device=device)
    before = snapshot(tensors)
    ctx.calling(op, sample, dtype_names, form)
    if form == "function":
        result = op.function(*args, **kwargs)
    else:
        result = op.forms()[form](*args, **kwargs)
    return result, tensors, before


def reference(op, sample, dtype_names):
    """The NumPy reference result for ``sample`` with data arrays in ``dtype_names``."""
    rargs, rkwargs = reference_args(sample, dtype_names)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # NumPy's "mean of empty slice" and friends
        return op.ref(*rargs, **rkwargs)


def assert_result(op, result, expected, sample, dtype_names, what="result"):
    """Values within the op's tolerances, and result dtypes as the core predicts."""
    want = expected_dtypes(op, sample, dtype_names)
    if want is not None:
        wants = want if isinstance(want, tuple) else (want,)
        leaves = [r for r in flatten_result(result) if isinstance(r, plugrad.Tensor)]
        for i, (leaf, w) in enumerate(zip(leaves, wants)):
            if w is not None and leaf.dtype != w:
                raise Mismatch(f"{what}: output {i} has dtype {leaf.dtype}, expected {w}")
    assert_close(result, expected, op.tolerance, what)


def snapshot(tensors) -> list:
    return [to_numpy(t) for t in tensors]


def assert_unchanged(tensors, before, what="the op") -> None:
    """The op's inputs must hold the values they had before the call."""
    for i, (t, b) in enumerate(zip(tensors, before)):
        now = to_numpy(t)
        if now.shape != b.shape or not np.array_equal(now, b, equal_nan=now.dtype.kind == "f"):
            raise Mismatch(f"{what} modified its input {i}: it held {b.tolist()}, now {now.tolist()}")
