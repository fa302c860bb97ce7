"""Errors for bad input, aliases, and round trips between the device and the host."""

from __future__ import annotations

import numpy as np
import plugrad

from ..compare import Mismatch, assert_close, flatten_result
from ..device import to_numpy
from ..gen import RandomGen
from ..opinfo import data_arrays
from .base import PREFERRED, Check, call_op, fixed, main_dtype, samples

__all__ = ["ERRORS", "ALIAS", "ROUNDTRIP", "MISC_CHECKS"]


# ---- errors --------------------------------------------------------------------------------

def _error_cases(op, device):
    if not op.errors:
        return []
    usable = [e for e in op.errors if device.supports(e.dtype)]
    if not usable:
        return [("-", "the device supports none of the dtypes the error inputs need")]
    return [("-", None)]


def _raised(fn):
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - the class is what is compared
        return exc
    return None


def run_errors(ctx, op, dtype, sample):
    """Each bad call raises the declared exception class on the device, and the very
    same class as on the cpu device."""
    dev = ctx.device
    oracle = dev.reference_device()
    problems = []
    for err in op.errors:
        if not dev.supports(err.dtype):
            continue
        d = plugrad.dtypes.dtype_from_name(err.dtype)
        s = err.build(RandomGen(0, d, "error"))
        names = [err.dtype] * len(data_arrays(s))

        def attempt(device=None, s=s, names=names):
            call_op(ctx, op, s, names, device=device)
        exc = _raised(attempt)
        if not isinstance(exc, err.exc):
            got = "nothing was raised" if exc is None else f"got {type(exc).__name__}: {exc}"
            problems.append(f"{err.why}: expected {err.exc.__name__}, {got}")
            continue
        if oracle is not None:
            on_cpu = _raised(lambda: attempt(oracle))
            if type(on_cpu) is not type(exc):
                problems.append(f"{err.why}: the device raised {type(exc).__name__}, the cpu device "
                                f"{type(on_cpu).__name__ if on_cpu is not None else 'nothing'}")
    if problems:
        raise Mismatch("bad input: " + "; ".join(problems))


ERRORS = Check("errors", "bad input raises the declared exception class, the same class as on the cpu device",
               _error_cases, run_errors)


# ---- aliases ------------------------------------------------------------------------------------

def run_alias(ctx, op, dtype, sample):
    """``op`` is an alias entry: the alias gives exactly the target's result."""
    target = op.alias_target
    if op.fn is target.fn:
        return
    s = fixed(ctx, target, dtype, "forward", seed=5)
    names = [dtype.name] * len(data_arrays(s))
    want, _, _ = call_op(ctx, target, s, names)
    got, _, _ = call_op(ctx, op, s, names)
    host = [to_numpy(w) if isinstance(w, plugrad.Tensor) else w for w in flatten_result(want)]
    assert_close(got, host, lambda _n: (0.0, 0.0), f"{op.name} (alias of {target.name})")


def _alias_cases(op, device):
    if op.alias_target is None:
        return []
    d = main_dtype(op, device)
    return [(d, None)] if d else [("-", "the device supports none of the op's dtypes")]


ALIAS = Check("alias", "an alias computes exactly what the op it names computes", _alias_cases, run_alias)


# ---- round trips ----------------------------------------------------------------------------------

def _roundtrip_cases(op, device):
    if op.name != "to":
        return []
    return [(n, None if device.supports(n) else f"the device does not advertise {n}") for n in PREFERRED]


def run_roundtrip(ctx, op, dtype, sample):
    """Host data to the device and back (``tensor``/``tolist``), to the cpu device
    and back, and ``to`` the same device: values and dtypes preserved."""
    dev = ctx.device
    arr = sample.args[0]
    t = dev.tensor(arr, dtype)
    if t.dtype != dtype or t.device != dev.backend.device:
        raise Mismatch(f"a {dtype} tensor made on {dev.backend.device} reports {t.dtype} on {t.device}")
    want = to_numpy(plugrad.tensor(arr.reshape(-1).tolist(), dtype=dtype, device=dev.device)).reshape(arr.shape)
    expected_values = np.asarray(arr).astype(want.dtype)
    if not np.array_equal(want, expected_values, equal_nan=want.dtype.kind == "f"):
        raise Mismatch(f"host data {arr.tolist()} came back as {want.tolist()}")
    if t.to(dev.device) is not t:
        raise Mismatch("to() the tensor's own device and dtype returned a new tensor")
    copy = t.to(dev.device, copy=True)
    if copy is t or not np.array_equal(to_numpy(copy), want, equal_nan=want.dtype.kind == "f"):
        raise Mismatch("to(copy=True) did not return an equal new tensor")
    cpu = dev.reference_device()
    if cpu is not None:
        there = t.to(cpu)
        back = there.to(dev.device)
        for label, x in (("on cpu", there), ("back from cpu", back)):
            if x.dtype != dtype:
                raise Mismatch(f"{label}: dtype {x.dtype}, expected {dtype}")
            if not np.array_equal(to_numpy(x), want, equal_nan=want.dtype.kind == "f"):
                raise Mismatch(f"{label}: values {to_numpy(x).tolist()}, expected {want.tolist()}")


ROUNDTRIP = Check("roundtrip", "host -> device -> host, device -> cpu -> device and to(same device) keep "
                  "values and dtypes", _roundtrip_cases, run_roundtrip,
                  lambda ctx, op, dtype: samples(ctx, op, dtype, "forward"),
                  lambda ctx, op, dtype: [s for s in [fixed(ctx, op, dtype, "forward")] if s is not None],
                  {"ci": 2, "thorough": 20})

MISC_CHECKS = (ERRORS, ALIAS, ROUNDTRIP)
