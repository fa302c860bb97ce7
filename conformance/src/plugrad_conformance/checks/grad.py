"""Gradient checks: the full Jacobian of the device's backward against central
differences, and the same for the gradient itself (second derivatives).

In float64 this is ``plugrad.autograd.gradcheck`` / ``gradgradcheck`` on the
device (the numeric side differentiates the device's own forward; the checklist
adds reentrancy, linearity in the upstream gradient, zero upstream, unchanged
inputs). A device without float64 is checked in float32 against the float64
numeric Jacobian of the NumPy reference (first derivatives) or of the ``cpu``
device (second derivatives), at a float32 tolerance.
"""

from __future__ import annotations

import numpy as np
import plugrad

from ..compare import Mismatch, flatten_result
from ..device import to_numpy
from ..jacobian import EPS, analytic_jacobian, compare_jacobians, numeric_jacobian
from ..opinfo import FLOATS, data_arrays
from .base import Check, NotApplicable, assert_unchanged, call_op, fixed, reference, samples

__all__ = ["GRAD", "GRADGRAD", "GRAD_CHECKS", "FLOAT32_GRAD_TOL"]

#: (rtol, atol) when a float32 gradient is compared with a float64 numeric one
FLOAT32_GRAD_TOL = (2e-3, 2e-3)


def _grad_cases(op, device, second=False):
    if not op.differentiable or not (op.dtypes & FLOATS) or (second and not op.gradgrad):
        return []
    gd = device.grad_dtype
    if gd is None:
        return [("-", "the device supports neither float64 nor float32")]
    if second and gd.name != "float64" and device.reference_device() is None:
        return [(gd.name, "the device has no float64 and no cpu device is installed to compute the float64 "
                          "numeric second derivatives")]
    return [(gd.name, None)]


def _split(sample):
    arrays = data_arrays(sample)
    diff = [i for i in range(len(arrays)) if i not in sample.nograd]
    return arrays, diff


def _with(sample, arrays, diff, sub, retarget=None):
    """``sample`` with the differentiated arrays replaced by ``sub``; ``retarget``
    ``(old, new)`` also swaps a dtype argument (``sum(x, dtype=...)``) for the oracle."""
    full = list(arrays)
    for k, a in zip(diff, sub):
        full[k] = a
    s = sample.replace_arrays(full)
    if retarget is not None:
        old, new = retarget
        s.args = tuple(new if a is old else a for a in s.args)
        s.kwargs = {k: new if v is old else v for k, v in s.kwargs.items()}
    return s


def _float_outputs(result):
    leaves = flatten_result(result)
    pos = [k for k, r in enumerate(leaves)
           if isinstance(r, plugrad.Tensor) and r.dtype.is_floating_point and r.requires_grad]
    return pos, [leaves[k] for k in pos]


def _substitute(value, originals, replacements):
    """``value`` (an argument) with each tensor of ``originals`` replaced, by identity."""
    for o, r in zip(originals, replacements):
        if value is o:
            return r
    if isinstance(value, list):
        return [_substitute(v, originals, replacements) for v in value]
    if isinstance(value, tuple):
        return tuple(_substitute(v, originals, replacements) for v in value)
    return value


def _as_function(op, args, kwargs, inputs):
    """``f(*tensors)``: the op called with ``inputs`` replaced by ``tensors``."""
    def f(*tensors):
        a = [_substitute(v, inputs, tensors) for v in args]
        k = {n: _substitute(v, inputs, tensors) for n, v in kwargs.items()}
        return tuple(_float_outputs(op.function(*a, **k))[1])
    f.__qualname__ = op.key
    return f


def _gradcheck_tools():
    try:
        from plugrad.autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck
    except ImportError:
        return None
    return GradcheckError, gradcheck, gradgradcheck


def run_grad(ctx, op, dtype, sample):
    names = [dtype.name] * len(data_arrays(sample))
    tools = _gradcheck_tools()
    if dtype.name == "float64" and tools is not None:
        error, gradcheck, _ = tools
        args, kwargs, tensors = ctx.device.materialize(sample, dtype, requires_grad=True)
        inputs = [t for t in tensors if t.requires_grad]
        ctx.calling(op, sample, names)
        if not inputs or not _float_outputs(op.function(*args, **kwargs))[1]:
            raise NotApplicable()
        rtol, atol = op.grad_tol
        try:
            gradcheck(_as_function(op, args, kwargs, inputs), tuple(inputs), eps=EPS, atol=atol, rtol=rtol,
                      check_grad_dtypes=True)
        except error as exc:
            raise Mismatch(f"plugrad.autograd.gradcheck: {exc}") from None
        return
    result, tensors, before = call_op(ctx, op, sample, names, requires_grad=True)
    inputs = [t for t in tensors if t.requires_grad]
    pos, outs = _float_outputs(result)
    if not inputs or not outs:
        raise NotApplicable()
    where = dict(ctx.current)
    analytic = analytic_jacobian(ctx.device, outs, inputs)
    assert_unchanged(tensors, before, f"{op.name}() or its backward")
    arrays, diff = _split(sample)
    if dtype.name == "float64":
        def f(sub):
            r, _, _ = call_op(ctx, op, _with(sample, arrays, diff, sub), names)
            leaves = flatten_result(r)
            return [to_numpy(leaves[k]).astype(np.float64) for k in pos]
        rtol, atol = op.grad_tol
    else:
        def f(sub):
            ref = flatten_result(reference(op, _with(sample, arrays, diff, sub), ["float64"] * len(arrays)))
            return [np.asarray(ref[k], dtype=np.float64) for k in pos]
        rtol, atol = FLOAT32_GRAD_TOL
    numeric = numeric_jacobian(f, [arrays[i] for i in diff])
    ctx.current = where
    compare_jacobians(analytic, numeric, rtol, atol, [tuple(o.shape) for o in outs],
                      [arrays[i].shape for i in diff], "gradient")


GRAD = Check("grad", "the full Jacobian of backward against central differences (float64, or float32 "
             "against a float64 reference on devices without float64); gradients have their input's "
             "shape, dtype and device; inputs and upstream gradients are left unchanged",
             lambda op, device: _grad_cases(op, device), run_grad,
             lambda ctx, op, dtype: samples(ctx, op, dtype, "grad"),
             lambda ctx, op, dtype: [s for s in [fixed(ctx, op, dtype, "grad")] if s is not None],
             {"ci": 3, "thorough": 40})


def _first_derivatives(ctx, op, sample, names, x_sub, v_arrays, arrays, diff, device=None, retarget=None):
    """``grad(f(x), x, v, create_graph=True)``: the function whose Jacobian the
    second-derivative check takes. Returns (gradients that exist, leaves x + v)."""
    s = _with(sample, arrays, diff, x_sub, retarget)
    result, tensors, _ = call_op(ctx, op, s, names, requires_grad=True, device=device)
    inputs = [t for t in tensors if t.requires_grad]
    _, outs = _float_outputs(result)
    dev = ctx.device
    vs = [dev.tensor(v, outs[i].dtype, device=device).requires_grad_(True) for i, v in enumerate(v_arrays)]
    grads = plugrad.autograd.grad(outs, inputs, grad_outputs=vs, create_graph=True, allow_unused=True)
    return [g for g in grads if g is not None], inputs + vs


def run_gradgrad(ctx, op, dtype, sample):
    names = [dtype.name] * len(data_arrays(sample))
    arrays, diff = _split(sample)
    probe, tensors, _ = call_op(ctx, op, sample, names, requires_grad=True)
    _, outs = _float_outputs(probe)
    if not outs or not any(t.requires_grad for t in tensors):
        raise NotApplicable()
    rng = np.random.default_rng(11)
    v_arrays = [rng.integers(-64, 64, tuple(o.shape)) / 32.0 for o in outs]
    tools = _gradcheck_tools()
    if dtype.name == "float64" and tools is not None:
        error, _, gradgradcheck = tools
        args, kwargs, tensors = ctx.device.materialize(sample, dtype, requires_grad=True)
        inputs = [t for t in tensors if t.requires_grad]
        vs = tuple(ctx.device.tensor(v, o.dtype).requires_grad_(True) for v, o in zip(v_arrays, outs))
        ctx.calling(op, sample, names)
        rtol, atol = op.grad_tol
        try:
            gradgradcheck(_as_function(op, args, kwargs, inputs), tuple(inputs), vs, eps=EPS, atol=atol,
                          rtol=rtol, check_grad_dtypes=True)
        except error as exc:
            raise Mismatch(f"plugrad.autograd.gradgradcheck: {exc}") from None
        return
    x0 = [arrays[i] for i in diff]
    where = dict(ctx.current)
    grads, leaves = _first_derivatives(ctx, op, sample, names, x0, v_arrays, arrays, diff)
    if not grads:
        raise NotApplicable()
    analytic = analytic_jacobian(ctx.device, grads, leaves)
    if dtype.name == "float64":
        oracle, onames, retarget, (rtol, atol) = None, names, None, op.grad_tol
    else:
        oracle, onames, (rtol, atol) = ctx.device.reference_device(), ["float64"] * len(names), FLOAT32_GRAD_TOL
        retarget = (dtype, plugrad.float64)
    n_x = len(x0)

    def f(sub):
        gs, _ = _first_derivatives(ctx, op, sample, onames, sub[:n_x], sub[n_x:], arrays, diff, device=oracle,
                                   retarget=retarget)
        return [to_numpy(g).astype(np.float64) for g in gs]
    numeric = numeric_jacobian(f, x0 + v_arrays)
    ctx.current = where
    compare_jacobians(analytic, numeric, rtol, atol, [tuple(g.shape) for g in grads],
                      [a.shape for a in x0] + [v.shape for v in v_arrays], "second derivative")


GRADGRAD = Check("gradgrad", "second derivatives: the Jacobian of grad(f(x), x, v, create_graph=True) with "
                 "respect to x and v against central differences",
                 lambda op, device: _grad_cases(op, device, second=True), run_gradgrad,
                 lambda ctx, op, dtype: samples(ctx, op, dtype, "grad", max_numel=4),
                 lambda ctx, op, dtype: [s for s in [fixed(ctx, op, dtype, "grad", max_numel=4)] if s is not None],
                 {"ci": 2, "thorough": 20})

GRAD_CHECKS = (GRAD, GRADGRAD)
