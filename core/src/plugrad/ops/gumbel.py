"""``gumbel_softmax``: a differentiable sample of a categorical distribution given by
logits (the Gumbel-softmax / Concrete relaxation), optionally one-hot with the
straight-through gradient."""

from __future__ import annotations

import warnings

from ..creation import empty_like, zeros_like
from ..tensor import Tensor
from .checks import check_tensor

__all__ = ["gumbel_softmax"]


def gumbel_softmax(logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10, dim: int = -1) -> Tensor:
    """``softmax((logits + g) / tau, dim)`` with ``g`` ~ Gumbel(0, 1) drawn from
    plugrad's generator. With ``hard``, the result is the one-hot of its argmax,
    whose gradient is the soft sample's (``y_hard - y_soft.detach() + y_soft``)."""
    check_tensor(logits, "gumbel_softmax", "logits")
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    gumbels = -empty_like(logits).exponential_().log()
    y_soft = ((logits + gumbels) / tau).softmax(dim)
    if not hard:
        return y_soft
    index = y_soft.max(dim, keepdim=True)[1]
    y_hard = zeros_like(logits).scatter_(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft
