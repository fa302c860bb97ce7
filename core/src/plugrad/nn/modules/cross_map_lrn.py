"""``CrossMapLRN2d``: the legacy (Lua Torch) local response normalisation across
channels, ``x / (k + alpha / size * window_sum(x^2)) ^ beta``, with PyTorch's
arithmetic (see ``_functions``)."""

from __future__ import annotations

from ._functions import CrossMapLRN2d as _cross_map_lrn2d
from .module import Module

__all__ = ["CrossMapLRN2d"]


class CrossMapLRN2d(Module):
    """Cross-channel local response normalisation of (N, C, H, W) inputs (legacy)."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        return _cross_map_lrn2d.apply(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
