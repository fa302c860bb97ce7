"""``torch.backends.openmp``: plugrad's core runs no OpenMP threads of its own."""

__all__ = ["is_available"]


def is_available() -> bool:
    """False: plugrad's core uses no OpenMP (NumPy's BLAS may, on its own)."""
    return False
