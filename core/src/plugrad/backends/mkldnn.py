"""``torch.backends.mkldnn``: plugrad does not use oneDNN (the cpu device computes with
NumPy)."""

__all__ = ["is_available", "enabled"]

enabled = True   # PyTorch's default; nothing reads it here


def is_available() -> bool:
    """False: plugrad does not use oneDNN."""
    return False
