"""``torch.backends.mha``: whether ``MultiheadAttention`` and the Transformer encoder
take PyTorch's inference "fast path".

plugrad has no fused kernels, but the fast path is observable: in it a query that may
attend no key gives NaN (zeros otherwise), and the encoder's padded positions come out
as zeros. The attention modules follow this switch so their values stay PyTorch's.
"""

__all__ = ["get_fastpath_enabled", "set_fastpath_enabled"]

_is_fastpath_enabled: bool = True


def get_fastpath_enabled() -> bool:
    """Whether the fast path may run (True by default; it also needs its input conditions)."""
    return _is_fastpath_enabled


def set_fastpath_enabled(value: bool) -> None:
    """Allow (True) or forbid (False) the fast path."""
    global _is_fastpath_enabled
    _is_fastpath_enabled = value
