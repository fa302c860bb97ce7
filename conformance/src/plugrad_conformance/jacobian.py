"""Jacobians: analytic (from the device's backward) and numeric (central differences).

The gradient check is a checklist, in this order: every differentiable input gets
a gradient of its own shape and dtype; the full analytic Jacobian (one backward
per output element, at small sizes) matches the numeric one; the upstream
gradient tensors are not modified. A mismatch names the output element, the
input element and the two values.
"""

from __future__ import annotations

import numpy as np
import plugrad

from .compare import Mismatch, flatten_result
from .device import to_numpy

__all__ = ["diff_outputs", "analytic_jacobian", "numeric_jacobian", "compare_jacobians", "EPS"]

#: central-difference step in float64; sample values are 1/64 apart, so no kink is
#: ever within reach
EPS = 1e-6


def diff_outputs(result) -> list:
    """The floating-point tensor outputs of a result, flattened (indices are skipped)."""
    return [r for r in flatten_result(result) if isinstance(r, plugrad.Tensor) and r.dtype.is_floating_point]


def analytic_jacobian(device, outputs, inputs):
    """Rows of d(outputs)/d(inputs) by one backward per output element.

    Returns a float64 array of shape (sum of output numels, sum of input numels).
    Every gradient must have its input's shape, dtype and device.
    """
    n_in = [int(t.numel()) for t in inputs]
    n_out = [int(o.numel()) for o in outputs]
    jac = np.zeros((sum(n_out), sum(n_in)))
    row = 0
    for o, m in zip(outputs, n_out):
        if not o.requires_grad:
            row += m
            continue
        for j in range(m):
            onehot = np.zeros(m)
            onehot[j] = 1.0
            seed = device.tensor(onehot.reshape(tuple(o.shape)), o.dtype)
            seed_copy = to_numpy(seed)
            grads = plugrad.autograd.grad([o], inputs, grad_outputs=[seed], retain_graph=True,
                                          allow_unused=True)
            if not np.array_equal(to_numpy(seed), seed_copy):
                raise Mismatch("backward modified the upstream gradient tensor it was given")
            col = 0
            for t, g, n in zip(inputs, grads, n_in):
                if g is not None:
                    _check_grad_meta(t, g)
                    jac[row + j, col:col + n] = to_numpy(g).astype(np.float64).reshape(-1)
                col += n
        row += m
    return jac


def _check_grad_meta(t, g):
    if tuple(g.shape) != tuple(t.shape):
        raise Mismatch(f"gradient of an input of shape {list(t.shape)} has shape {list(g.shape)}")
    if g.dtype != t.dtype:
        raise Mismatch(f"gradient of a {t.dtype} input has dtype {g.dtype}")
    if g.device != t.device:
        raise Mismatch(f"gradient of an input on {t.device} is on {g.device}")


def numeric_jacobian(f, arrays, eps=EPS):
    """d f(arrays) / d arrays by central differences; ``f`` maps a list of float64
    arrays to a list of float64 output arrays."""
    base = [np.array(a, dtype=np.float64) for a in arrays]
    outs = f(base)
    n_out = sum(int(np.asarray(o).size) for o in outs)
    n_in = sum(a.size for a in base)
    jac = np.zeros((n_out, n_in))
    col = 0
    for a in base:
        flat = a.reshape(-1)
        for i in range(flat.size):
            orig = flat[i]
            flat[i] = orig + eps
            plus = _flat(f(base))
            flat[i] = orig - eps
            minus = _flat(f(base))
            flat[i] = orig
            jac[:, col] = (plus - minus) / (2 * eps)
            col += 1
    return jac


def _flat(outs):
    return np.concatenate([np.asarray(o, dtype=np.float64).reshape(-1) for o in outs]) if outs else np.zeros(0)


def compare_jacobians(analytic, numeric, rtol, atol, out_shapes, in_shapes, what="gradient"):
    """Raise :class:`Mismatch` naming the worst element when the Jacobians differ."""
    if analytic.shape != numeric.shape:
        raise Mismatch(f"{what}: Jacobian shapes differ: analytic {analytic.shape}, numeric {numeric.shape}")
    with np.errstate(invalid="ignore"):
        err = np.abs(analytic - numeric)
        bad = ~(err <= atol + rtol * np.abs(numeric))
    if not np.any(bad):
        return
    r, c = (int(i) for i in np.unravel_index(np.argmax(np.where(bad, np.nan_to_num(err, nan=np.inf), -1)),
                                            bad.shape))
    out_i, out_pos = _locate(r, out_shapes)
    in_i, in_pos = _locate(c, in_shapes)
    raise Mismatch(f"{what}: d output[{out_i}]{list(out_pos)} / d input[{in_i}]{list(in_pos)}: analytic "
                   f"{float(analytic[r, c])!r}, numeric {float(numeric[r, c])!r} ({int(np.sum(bad))} of "
                   f"{bad.size} Jacobian entries differ; rtol={rtol}, atol={atol})"
                   + (f"\n  analytic: {np.round(analytic, 6).tolist()}\n  numeric:  {np.round(numeric, 6).tolist()}"
                      if bad.size <= 36 else ""))


def _locate(flat_index, shapes):
    for i, shape in enumerate(shapes):
        n = int(np.prod(shape)) if shape else 1
        if flat_index < n:
            return i, tuple(int(x) for x in np.unravel_index(flat_index, shape)) if shape else ()
        flat_index -= n
    return len(shapes), ()
