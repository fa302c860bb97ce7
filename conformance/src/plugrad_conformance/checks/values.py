"""Checks of computed values: forward against the reference in every dtype, the
other call forms, ``out=``, memory layouts, broadcasting, type promotion and
determinism."""

from __future__ import annotations

import numpy as np
import plugrad

from ..compare import Mismatch, assert_array_close, assert_close, assert_same_bits, flatten_result
from ..device import to_numpy
from ..gen import BROADCAST_HARD_CASES
from ..jacobian import diff_outputs, numeric_jacobian
from ..opinfo import data_arrays
from .base import (PREFERRED, Check, NotApplicable, assert_result, assert_unchanged, call_op, expected_dtypes,
                   fixed, main_dtype, promoted_dtype, reference, samples)

__all__ = ["FORWARD", "FORMS", "OUT", "LAYOUT", "BROADCAST", "PROMOTION", "DETERMINISM", "VALUE_CHECKS"]


def _names(sample, dtype):
    return [dtype.name] * len(data_arrays(sample))


def _one_case(op, device, label_dtype=True):
    d = main_dtype(op, device)
    if d is None:
        return [("-", f"the device supports none of the op's dtypes ({', '.join(sorted(op.dtypes))})")]
    return [(d, None)]


def _main_strategy(purpose):
    def strategy(ctx, op, dtype):
        return samples(ctx, op, dtype, purpose)
    return strategy


def _main_fixed(purpose):
    def fixed_samples(ctx, op, dtype):
        s = fixed(ctx, op, dtype, purpose)
        return [s] if s is not None else []
    return fixed_samples


# ---- forward -------------------------------------------------------------------------------

def _forward_cases(op, device):
    out = []
    for name in PREFERRED:
        if name in op.dtypes:
            out.append((name, None if device.supports(name) else f"the device does not advertise {name}"))
    return out


def run_forward(ctx, op, dtype, sample):
    names = _names(sample, dtype)
    expected = reference(op, sample, names)
    result, tensors, before = call_op(ctx, op, sample, names)
    assert_result(op, result, expected, sample, names)
    assert_unchanged(tensors, before, f"{op.name}()")


FORWARD = Check("forward", "the function form against the NumPy reference, in every dtype the op accepts; "
                "result dtypes as the core predicts; inputs left unchanged",
                _forward_cases, run_forward, _main_strategy("forward"), _main_fixed("forward"),
                {"ci": 4, "thorough": 60})


# ---- forms ---------------------------------------------------------------------------------

def _forms_cases(op, device):
    return _one_case(op, device) if op.forms() else []


def run_forms(ctx, op, dtype, sample):
    names = _names(sample, dtype)
    expected = reference(op, sample, names)
    for form in op.forms():
        if form == "operator" and sample.kwargs:
            continue
        if form == "method" and op.method_call is None and not isinstance(sample.args[0], np.ndarray):
            continue
        result, tensors, before = call_op(ctx, op, sample, names, form=form)
        assert_result(op, result, expected, sample, names, what=f"{form} form")
        assert_unchanged(tensors, before, f"the {form} form")


FORMS = Check("forms", "the method and operator forms give the function's result", _forms_cases, run_forms,
              _main_strategy("forward"), _main_fixed("forward"), {"ci": 3, "thorough": 30})


# ---- out= ------------------------------------------------------------------------------------

def _out_cases(op, device):
    return _one_case(op, device) if op.has_out() else []


def _empty_like(t, shape=None, dtype=None):
    return plugrad.empty(tuple(t.shape) if shape is None else shape, dtype=dtype or t.dtype, device=t.device)


def run_out(ctx, op, dtype, sample):
    dev = ctx.device
    if op.out_when is not None and not op.out_when(sample):
        raise NotApplicable()
    names = _names(sample, dtype)
    expected = reference(op, sample, names)
    result, _, _ = call_op(ctx, op, sample, names)
    leaves = flatten_result(result)
    if not all(isinstance(r, plugrad.Tensor) for r in leaves):
        raise NotApplicable()
    outs = [_empty_like(r) for r in leaves]
    out_arg = outs[0] if isinstance(result, plugrad.Tensor) else tuple(outs)
    args, kwargs, tensors = dev.materialize(sample, dtype)
    returned = op.fn(*args, out=out_arg, **kwargs)
    for i, (r, o) in enumerate(zip(flatten_result(returned), outs)):
        if r is not o:
            raise Mismatch(f"out=: the op returned a new tensor for output {i} instead of the out tensor")
    assert_close(out_arg, expected, op.tolerance, "out= result")
    if not isinstance(result, plugrad.Tensor):
        return
    # an out tensor of another shape is resized to the result's shape
    small = _empty_like(result, shape=(0,))
    op.fn(*dev.materialize(sample, dtype)[0], out=small, **dev.materialize(sample, dtype)[1])
    if tuple(small.shape) != tuple(result.shape):
        raise Mismatch(f"out=: a size-0 out tensor was not resized to {list(result.shape)} "
                       f"(it has shape {list(small.shape)})")
    assert_close(small, expected, op.tolerance, "out= result after resizing")
    # a floating result cannot be written into an integer out tensor
    if result.dtype.is_floating_point and dev.supports("int64"):
        wrong = _empty_like(result, dtype=plugrad.int64)
        args, kwargs, _ = dev.materialize(sample, dtype)
        try:
            op.fn(*args, out=wrong, **kwargs)
        except RuntimeError:
            return
        raise Mismatch(f"out=: writing a {result.dtype} result into an int64 out tensor did not raise RuntimeError")


OUT = Check("out", "out= writes into the given tensor, resizes it when needed, refuses a lower category",
            _out_cases, run_out, _main_strategy("forward"), _main_fixed("forward"), {"ci": 2, "thorough": 20})


# ---- layouts ---------------------------------------------------------------------------------

def _layout_cases(op, device):
    return _one_case(op, device) if op.layouts else []


def _expandable(sample):
    """The sample with every data array made constant along dim 0 (so it can be a
    stride-0 expanded view), or None when no array has a dim 0 longer than 1."""
    arrays = data_arrays(sample)
    if not any(a.ndim and a.shape[0] > 1 for a in arrays):
        return None
    return sample.replace_arrays([np.broadcast_to(a[:1], a.shape).copy() if a.ndim and a.shape[0] > 1 else a
                                  for a in arrays])


def _vjp(ctx, op, sample, names, layout, upstream):
    """Gradients of ``sum(out * v)`` for the differentiable inputs (None entries kept)."""
    result, tensors, _ = call_op(ctx, op, sample, names, requires_grad=True, layout=layout)
    outs = [o for o in diff_outputs(result) if o.requires_grad]
    inputs = [t for t in tensors if t.requires_grad]
    if not outs or not inputs:
        return None
    vs = upstream(outs)
    grads = plugrad.autograd.grad(outs, inputs, grad_outputs=vs, allow_unused=True)
    return [None if g is None else to_numpy(g).astype(np.float64) for g in grads]


def _upstream(device, seed):
    rng = np.random.default_rng(seed)

    def make(outs):
        return [device.tensor(rng.integers(-64, 64, tuple(o.shape)) / 32.0, o.dtype) for o in outs]
    return make


def run_layout(ctx, op, dtype, sample):
    names = _names(sample, dtype)
    expected = reference(op, sample, names)
    expandable = _expandable(sample)
    expected_expanded = reference(op, expandable, names) if expandable is not None else None
    differentiable = op.differentiable and dtype.is_floating_point
    base_grads = _vjp(ctx, op, sample, names, None, _upstream(ctx.device, 1)) if differentiable else None
    for layout in ("strided", "transposed", "offset", "expanded"):
        s, exp = (sample, expected) if layout != "expanded" else (expandable, expected_expanded)
        if s is None:
            continue
        result, tensors, before = call_op(ctx, op, s, names, layout=layout)
        assert_result(op, result, exp, s, names, what=f"result for {layout} inputs")
        assert_unchanged(tensors, before, f"{op.name}() on {layout} inputs")
        if differentiable and layout != "expanded" and base_grads is not None:
            grads = _vjp(ctx, op, s, names, layout, _upstream(ctx.device, 1))
            for i, (g0, g1) in enumerate(zip(base_grads, grads)):
                if (g0 is None) != (g1 is None):
                    raise Mismatch(f"gradient of input {i}: present for one layout only ({layout})")
                if g0 is not None:
                    rtol, atol = op.tolerance(dtype.name)
                    assert_array_close(g1, g0, rtol, atol, f"gradient of input {i} for {layout} inputs "
                                                           f"(against contiguous inputs)")


LAYOUT = Check("layout", "non-contiguous, transposed, offset and expanded inputs give the contiguous results "
               "and gradients", _layout_cases, run_layout, _main_strategy("layout"), _main_fixed("layout"),
               {"ci": 2, "thorough": 25})


# ---- broadcasting ------------------------------------------------------------------------------

def _broadcast_cases(op, device):
    return _one_case(op, device) if op.broadcasts else []


def _broadcast_fixed(ctx, op, dtype):
    out = []
    for i, shapes in enumerate(BROADCAST_HARD_CASES):
        s = fixed(ctx, op, dtype, "broadcast", seed=i, shapes=shapes)
        if s is not None:
            out.append(s)
    return out


def run_broadcast(ctx, op, dtype, sample):
    dev = ctx.device
    names = _names(sample, dtype)
    expected = reference(op, sample, names)
    result, tensors, before = call_op(ctx, op, sample, names)
    assert_result(op, result, expected, sample, names, what="broadcast result")
    assert_unchanged(tensors, before, f"{op.name}()")
    gd = dev.grad_dtype
    if not (op.differentiable and dtype.is_floating_point and gd is not None):
        return
    # gradients under broadcasting: each input's gradient is the upstream gradient
    # summed over the dims the input was broadcast along
    gnames = [gd.name] * len(names)
    result, tensors, _ = call_op(ctx, op, sample, gnames, requires_grad=True)
    leaves = flatten_result(result)
    float_pos = [k for k, r in enumerate(leaves)
                 if isinstance(r, plugrad.Tensor) and r.dtype.is_floating_point and r.requires_grad]
    inputs = [t for t in tensors if t.requires_grad]
    if not float_pos or not inputs:
        return
    outs = [leaves[k] for k in float_pos]
    vs = _upstream(dev, 7)(outs)
    grads = plugrad.autograd.grad(outs, inputs, grad_outputs=vs, allow_unused=True)
    arrays = data_arrays(sample)
    diff = [i for i in range(len(arrays)) if i not in sample.nograd]

    def f(sub):
        full = list(arrays)
        for k, a in zip(diff, sub):
            full[k] = a
        ref = flatten_result(reference(op, sample.replace_arrays(full), ["float64"] * len(full)))
        return [np.asarray(ref[k], dtype=np.float64) for k in float_pos]
    jac = numeric_jacobian(f, [arrays[i] for i in diff])
    want = jac.T @ np.concatenate([to_numpy(v).astype(np.float64).reshape(-1) for v in vs])
    rtol, atol = (1e-6, 1e-7) if gd.name == "float64" else (2e-3, 2e-3)
    col = 0
    for k, g in zip(diff, grads):
        n = arrays[k].size
        w = want[col:col + n].reshape(arrays[k].shape)
        col += n
        label = f"gradient of broadcast input {k} (shape {list(arrays[k].shape)})"
        if g is None:
            if np.any(w != 0):
                raise Mismatch(f"{label}: no gradient, expected {w.tolist()}")
            continue
        if tuple(g.shape) != w.shape:
            raise Mismatch(f"{label}: shape {list(g.shape)}, expected the input's shape {list(w.shape)}")
        assert_array_close(to_numpy(g), w, rtol, atol, label)


BROADCAST = Check("broadcast", "broadcastable shape pairs (size-1, missing and size-0 dims): values, and "
                  "gradients summed back to each input's shape", _broadcast_cases, run_broadcast,
                  _main_strategy("broadcast"), _broadcast_fixed, {"ci": 5, "thorough": 60})


# ---- type promotion ----------------------------------------------------------------------------

def _promotion_cases(op, device):
    return [("mixed", None)] if op.promotes else []


def run_promotion(ctx, op, dtype, sample):
    """Every pair of advertised dtypes the op accepts, as tensors with dims, as a
    0-d second operand, and against Python scalars: result dtype as the core
    predicts, values as the reference computes them in the promoted dtype."""
    dev = ctx.device
    names = sorted((n for n in op.dtypes if dev.supports(n)), key=PREFERRED.index)
    base = fixed(ctx, op, plugrad.uint8, "promotion", seed=3)
    if base is None or len(data_arrays(base)) < 1:
        raise NotApplicable()
    arrays = data_arrays(base)
    problems = []
    for a in names:
        for b in names:
            for zero_dim in (False, True):
                if zero_dim and (len(arrays) < 2 or not op.broadcasts):
                    continue
                s = base
                if zero_dim:
                    s = base.replace_arrays([arrays[0]] + [np.asarray(x.reshape(-1)[0]) if x.size else x
                                                           for x in arrays[1:]])
                dnames = [a] + [b] * (len(arrays) - 1)
                if not _accepts(op, s, dnames):
                    continue
                problems += _promotion_case(ctx, op, s, dnames, f"{a} with {'0-d ' if zero_dim else ''}{b}")
            if len(arrays) == 1:
                break
    if problems:
        raise Mismatch("type promotion: " + "; ".join(problems[:6]) +
                       (f"; and {len(problems) - 6} more" if len(problems) > 6 else ""))


def _accepts(op, sample, dnames):
    d = promoted_dtype(op, sample, dnames)
    return d is not None and d.name in op.dtypes


def _promotion_case(ctx, op, sample, dnames, label):
    want = expected_dtypes(op, sample, dnames)
    if isinstance(want, plugrad.dtype) and not ctx.device.supports(want.name):
        return []
    try:
        result, _, _ = call_op(ctx, op, sample, dnames)
    except Exception as exc:  # noqa: BLE001 - reported as a failed pair
        return [f"{label}: raised {type(exc).__name__}: {exc}"]
    leaves = [r for r in flatten_result(result) if isinstance(r, plugrad.Tensor)]
    wants = want if isinstance(want, tuple) else (want,)
    for leaf, w in zip(leaves, wants):
        if w is not None and leaf.dtype != w:
            return [f"{label}: result dtype {leaf.dtype}, the core predicts {w}"]
    try:
        assert_close(result, reference(op, sample, dnames), op.tolerance, label)
    except Mismatch as exc:
        return [str(exc)]
    return []


PROMOTION = Check("promotion", "mixed dtypes (with dims, 0-d, Python scalars): result dtypes equal the core's "
                  "prediction (plugrad.dtypes.result_type_of) and values the reference", _promotion_cases,
                  run_promotion)


# ---- determinism -------------------------------------------------------------------------------

def _determinism_cases(op, device):
    cases = _one_case(op, device)
    if not device.deterministic:
        return [(d, "the device declares deterministic=False") for d, _ in cases]
    return cases


def run_determinism(ctx, op, dtype, sample):
    names = _names(sample, dtype)
    first, _, _ = call_op(ctx, op, sample, names)
    second, _, _ = call_op(ctx, op, sample, names)
    assert_same_bits(first, second, "forward")
    if op.differentiable and dtype.is_floating_point:
        g1 = _vjp(ctx, op, sample, names, None, _upstream(ctx.device, 3))
        g2 = _vjp(ctx, op, sample, names, None, _upstream(ctx.device, 3))
        if g1 is not None:
            for i, (a, b) in enumerate(zip(g1, g2)):
                if a is not None and not np.array_equal(a, b, equal_nan=True):
                    raise Mismatch(f"gradient of input {i}: two backward passes differ: {a.tolist()} vs "
                                   f"{b.tolist()}")


DETERMINISM = Check("determinism", "the same call twice gives the same bits, forward and backward",
                    _determinism_cases, run_determinism, _main_strategy("forward"), _main_fixed("forward"),
                    {"ci": 1, "thorough": 10})

VALUE_CHECKS = (FORWARD, FORMS, OUT, LAYOUT, BROADCAST, PROMOTION, DETERMINISM)
