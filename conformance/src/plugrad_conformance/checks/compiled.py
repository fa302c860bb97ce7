"""The ``compiled`` check (``plugrad-conformance --compile``): an op through ``plugrad.compile``.

The op's forward and, when it is differentiable, its gradients (``autograd.grad`` with
an upstream gradient of ones) are computed eagerly, then by a compiled function twice:
the first call records, the second replays. All three must agree bit for bit (NaN
where NaN): a replay calls the device's kernels in the recorded order, so any
difference is a capture bug (a Python value baked into the recording, a buffer reused
while still needed). A sample whose call breaks the graph (a data-dependent shape such
as ``nonzero``) replays nothing and is not counted.
"""

from __future__ import annotations

import numpy as np
import plugrad

from ..compare import Mismatch, flatten_result
from ..device import to_numpy
from ..opinfo import data_arrays
from .base import Check, NotApplicable, fixed, main_dtype, samples
from .grad import _float_outputs, _substitute

__all__ = ["COMPILED"]


def _cases(op, device):
    if not getattr(device, "compile_mode", False) or op.alias_target is not None:
        return []   # an alias is checked through its target
    d = main_dtype(op, device)
    return [(d, None)] if d is not None else []


def _program(op, args, kwargs, inputs, differentiable):
    """``f(*tensors)``: the op's results, then the gradients of its float outputs."""
    def f(*tensors):
        a = [_substitute(v, inputs, tensors) for v in args]
        k = {n: _substitute(v, inputs, tensors) for n, v in kwargs.items()}
        result = op.function(*a, **k)
        # returned detached: a result whose graph stays alive would be a graph break (its
        # backward could run outside the function); the values are the same
        leaves = [v.detach() if isinstance(v, plugrad.Tensor) else v for v in flatten_result(result)]
        if not differentiable:
            return leaves
        wrt = [t for t in tensors if t.requires_grad]
        outs = _float_outputs(result)[1]
        if not wrt or not outs:
            return leaves
        grads = plugrad.autograd.grad(outs, wrt, [plugrad.ones_like(o) for o in outs], allow_unused=True)
        return leaves + list(grads)
    f.__qualname__ = op.key
    return f


def _values(leaves) -> list:
    return [to_numpy(v) if isinstance(v, plugrad.Tensor) else v for v in leaves]


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)) or a.shape != b.shape or a.dtype != b.dtype:
            return False
        return bool(np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))
    return a == b or (a != a and b != b)


def run_compiled(ctx, op, dtype, sample):
    differentiable = bool(op.differentiable and dtype.is_floating_point)
    args, kwargs, tensors = ctx.device.materialize(sample, dtype, requires_grad=differentiable)
    ctx.calling(op, sample, [dtype.name] * len(data_arrays(sample)))
    inputs = list(tensors)
    fn = _program(op, args, kwargs, inputs, differentiable)
    eager = _values(fn(*inputs))
    compiled = plugrad.compile(fn)
    recorded = _values(compiled(*inputs))
    replayed = _values(compiled(*inputs))
    if compiled.stats.replays == 0:
        raise NotApplicable()   # a graph break: the compiled function runs eagerly
    for what, got in (("the recording call", recorded), ("the replay", replayed)):
        if len(got) != len(eager):
            raise Mismatch(f"{what} returned {len(got)} values, eager {len(eager)}")
        for i, (e, g) in enumerate(zip(eager, got)):
            if not _same(e, g):
                raise Mismatch(f"{what}: value {i} differs from eager: eager {np.asarray(e).tolist()}, "
                               f"compiled {np.asarray(g).tolist()}")


def _strategy(ctx, op, dtype):
    return samples(ctx, op, dtype, "forward")


def _fixed(ctx, op, dtype):
    s = fixed(ctx, op, dtype, "forward")
    return [s] if s is not None else []


COMPILED = Check("compiled", "forward values and gradients through plugrad.compile (recorded, then replayed) "
                 "equal eager's bit for bit (only with --compile)", _cases, run_compiled, _strategy, _fixed,
                 {"ci": 3, "thorough": 30})
