"""Gradient clipping: scale all gradients so that their joint norm is at most
``max_norm``, or clamp each gradient element into ``[-clip_value, clip_value]``."""

from __future__ import annotations

import math

from ...autograd.grad_mode import no_grad
from ...creation import tensor
from ...tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _with_grads(parameters) -> list:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach=None) -> Tensor:
    """Scale the gradients in place so that the ``norm_type`` norm of all of them
    together is at most ``max_norm``; returns that total norm (before clipping)."""
    params = _with_grads(parameters)
    if not params:
        return tensor(0.0)
    norm_type = float(norm_type)
    with no_grad():
        grads = [p.grad.detach() for p in params]
        device = grads[0].device
        if norm_type == math.inf:
            norms = [g.abs().amax().to(device) for g in grads]
            total = norms[0]
            for n in norms[1:]:
                total = total.maximum(n)
        else:
            total = sum(((g.abs() ** norm_type).sum().to(device) for g in grads), tensor(0.0, device=device))
            total = total ** (1.0 / norm_type)
        if error_if_nonfinite and not bool(total.isfinite()):
            raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, "
                               f"so it cannot be clipped. To disable this error and scale the gradients by the "
                               f"non-finite norm anyway, set `error_if_nonfinite=False`")
        coef = (max_norm / (total + 1e-6)).clamp(max=1.0)
        for g in grads:
            g.mul_(coef.to(g.device, g.dtype))
    return total


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient element into ``[-clip_value, clip_value]``, in place."""
    clip_value = float(clip_value)
    with no_grad():
        for p in _with_grads(parameters):
            p.grad.clamp_(-clip_value, clip_value)
