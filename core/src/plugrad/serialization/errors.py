"""``LoadError``: the one exception ``plugrad.load`` raises for a file it refuses."""

from __future__ import annotations

__all__ = ["LoadError"]


class LoadError(RuntimeError):
    """A file that ``plugrad.load`` refuses: not a checkpoint it knows, truncated,
    altered, describing something inconsistent, or asking to run code (a pickle
    naming a function outside PyTorch's ``weights_only`` allowlist). Nothing was
    built from it and no code from it ran."""
