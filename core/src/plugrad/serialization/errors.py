"""``LoadError``: the one exception ``plugrad.load`` raises for a file it refuses."""

from __future__ import annotations

__all__ = ["LoadError", "brief"]


class LoadError(RuntimeError):
    """A file that ``plugrad.load`` refuses: not a checkpoint it knows, truncated,
    altered, describing something inconsistent, or asking to run code (a pickle
    naming a function outside PyTorch's ``weights_only`` allowlist). Nothing was
    built from it and no code from it ran."""


def brief(obj, limit: int = 60) -> str:
    """A short description of a value read from a file, for messages. Never the
    value's full ``str``: a crafted pickle can make a list that holds one large list
    a thousand times, whose ``str`` would not fit in memory."""
    if obj is None or isinstance(obj, (bool, float)):
        return repr(obj)
    if isinstance(obj, int):
        return repr(obj) if obj.bit_length() <= 128 else f"<int of {obj.bit_length()} bits>"
    if isinstance(obj, (str, bytes, bytearray)):
        return repr(obj[:limit]) + ("..." if len(obj) > limit else "")
    if isinstance(obj, (list, tuple, dict, set, frozenset)):
        return f"<{type(obj).__name__} of {len(obj)} items>"
    return f"<{type(obj).__name__}>"
