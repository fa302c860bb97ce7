"""``plugrad.cuda`` (``torch.cuda``): what a PyTorch build without CUDA answers.

Programs written for PyTorch ask ``torch.cuda`` before choosing a device and seed it
alongside the CPU generator; here they take their CPU path unchanged:
``is_available()`` is False and ``device_count()`` 0 (unless a plugin registers a
``cuda`` device type), seeding and ``empty_cache()`` do nothing (PyTorch queues them
until CUDA initialises, which never happens), the memory counters are 0, and what
needs a device (``synchronize``, ``current_device``, ``get_device_name``...) raises
``AssertionError("Torch not compiled with CUDA enabled")`` as PyTorch does.
plugrad's own devices are asked through ``plugrad.<device type>`` (``plugrad.opencl``).
"""

from __future__ import annotations

from ..backend import OutOfMemoryError
from ..plugins import registry as _registry
from . import amp

__all__ = ["amp", "is_available", "device_count", "is_initialized", "init", "manual_seed", "manual_seed_all", "seed",
           "seed_all", "empty_cache", "synchronize", "current_device", "set_device", "get_device_name",
           "memory_allocated", "max_memory_allocated", "memory_reserved", "max_memory_reserved",
           "reset_peak_memory_stats", "is_bf16_supported", "OutOfMemoryError"]

_NOT_COMPILED = "Torch not compiled with CUDA enabled"


def _device_module():
    return _registry.DeviceModule("cuda")


def is_available() -> bool:
    """False, unless a plugin registers a ``cuda`` device type."""
    return _device_module().is_available()


def device_count() -> int:
    return _device_module().device_count()


def is_initialized() -> bool:
    """False: CUDA is never initialised."""
    return False


def _lazy_init():
    if not is_available():
        raise AssertionError(_NOT_COMPILED)


def init() -> None:
    """Initialise CUDA: raises, as in a build without it."""
    _lazy_init()


def manual_seed(seed) -> None:
    """Seed the current CUDA device's generator: nothing to seed here (PyTorch queues
    the call until CUDA initialises)."""
    int(seed)


def manual_seed_all(seed) -> None:
    """Seed every CUDA device's generator: nothing to seed here."""
    int(seed)


def seed() -> None:
    """Seed the CUDA generator randomly: nothing to seed here."""


def seed_all() -> None:
    """Seed every CUDA generator randomly: nothing to seed here."""


def empty_cache() -> None:
    """Release cached CUDA memory: there is none."""


def synchronize(device=None) -> None:
    """Wait for a CUDA device: raises, as in a build without CUDA (a registered
    ``cuda`` device type is synchronised)."""
    _lazy_init()
    _device_module().synchronize(device)


def current_device() -> int:
    _lazy_init()
    return 0


def set_device(device) -> None:
    _lazy_init()


def get_device_name(device=None) -> str:
    _lazy_init()
    index = getattr(device, "index", device)
    return _device_module().get_device_name(0 if index is None else int(index))


def memory_allocated(device=None) -> int:
    """0: no CUDA memory is allocated."""
    return 0


def max_memory_allocated(device=None) -> int:
    return 0


def memory_reserved(device=None) -> int:
    return 0


def max_memory_reserved(device=None) -> int:
    return 0


def reset_peak_memory_stats(device=None) -> None:
    _lazy_init()


def is_bf16_supported(including_emulation: bool = True) -> bool:
    return False
