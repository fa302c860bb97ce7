"""``torch.backends.cudnn``: plugrad has no cuDNN. The flags keep PyTorch's defaults
and accept new values, which change nothing: plugrad's convolutions have one
algorithm, and are deterministic on every device whose plugin says so."""

__all__ = ["is_available", "version", "enabled", "benchmark", "deterministic", "allow_tf32"]

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    """False: plugrad has no cuDNN."""
    return False


def version():
    """None: no cuDNN library is loaded."""
    return None
