"""``torch.backends.mps``: Apple's Metal backend, which plugrad does not have."""

__all__ = ["is_available", "is_built"]


def is_available() -> bool:
    """False: plugrad has no Metal backend (an OpenCL device may run on the same GPU)."""
    return False


def is_built() -> bool:
    """False: plugrad is not built with Metal."""
    return False
