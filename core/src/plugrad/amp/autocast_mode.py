"""``autocast``: PyTorch's mixed-precision context manager and decorator.

plugrad computes every op in its inputs' dtype; it has no autocast dispatch that
would run matmuls and convolutions in a lower precision. So:

* ``enabled=False`` is an exact no-op, on every device type;
* ``device_type="cuda"`` behaves as in a PyTorch build without CUDA: a warning, and
  autocast disabled (the region runs in full precision);
* ``device_type="cpu"`` with a dtype CPU autocast does not support warns and disables
  itself, as in PyTorch;
* ``device_type="cpu"`` enabled with ``bfloat16``/``float16`` (PyTorch's real CPU
  autocast) raises a RuntimeError when the region is entered, saying so: silently
  running in float32 would give results that differ from PyTorch's.

``is_autocast_enabled()`` is therefore always False, as it is in PyTorch outside an
enabled region.
"""

from __future__ import annotations

import functools
import warnings

from .. import dtypes

__all__ = ["autocast", "is_autocast_available", "custom_fwd", "custom_bwd"]

_DEVICE_TYPES = ("cpu", "cuda")
_CPU_DTYPES = ("bfloat16", "float16")


def is_autocast_available(device_type: str) -> bool:
    """Whether ``device_type`` is one PyTorch's autocast knows (``cpu``, ``cuda``)."""
    return device_type in _DEVICE_TYPES


def _default_dtype(device_type: str):
    """PyTorch's default autocast dtype: bfloat16 on cpu (None while plugrad has no
    bfloat16), float16 on cuda."""
    return getattr(dtypes, "bfloat16", None) if device_type == "cpu" else dtypes.float16


class autocast:
    """``autocast(device_type, dtype=None, enabled=True, cache_enabled=None)``: a region
    (``with``) or a function (decorator) in mixed precision; see the module docstring
    for what plugrad does with each case."""

    def __init__(self, device_type: str, dtype=None, enabled: bool = True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        if not is_autocast_available(device_type):
            raise RuntimeError(f"User specified an unsupported autocast device_type '{device_type}'")
        self.device = device_type
        self.fast_dtype = _default_dtype(device_type) if dtype is None else dtype
        self._cache_enabled = True if cache_enabled is None else cache_enabled
        self._enabled = enabled
        if not enabled:
            return
        if device_type == "cuda":
            warnings.warn("CUDA is not available or torch_xla is imported. Disabling autocast.", UserWarning,
                          stacklevel=2)
            self._enabled = False
        elif self.fast_dtype is not None and self.fast_dtype.name not in _CPU_DTYPES:
            warnings.warn("In CPU autocast, but the target dtype is not supported. Disabling autocast.\nCPU Autocast "
                          "only supports dtypes of torch.bfloat16, torch.float16 currently.", UserWarning,
                          stacklevel=2)
            self._enabled = False

    def __enter__(self):
        if self._enabled:
            wanted = self.fast_dtype.name if self.fast_dtype is not None else "bfloat16"
            raise RuntimeError(f"autocast(device_type='cpu', dtype={wanted}) is not supported by plugrad: plugrad "
                               f"computes every op in its inputs' dtype and has no mixed-precision dispatch. Run the "
                               f"region with enabled=False (an exact no-op), or convert the model and inputs with "
                               f".to(dtype) to compute in a lower precision.")
        return self

    def __exit__(self, exc_type, exc_value, traceback) -> bool:
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def decorate_autocast(*args, **kwargs):
            with self:
                return func(*args, **kwargs)
        return decorate_autocast


def custom_fwd(fwd=None, *, device_type: str, cast_inputs=None):
    """Decorator for a custom ``autograd.Function``'s ``forward``: PyTorch casts the
    inputs and disables autocast inside when an autocast region is active; plugrad's
    autocast is never active, so ``forward`` runs as written."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args, **kwargs):
        return fwd(*args, **kwargs)
    return decorate_fwd


def custom_bwd(bwd=None, *, device_type: str):
    """Decorator for a custom ``autograd.Function``'s ``backward``: runs it with the
    forward's autocast state, which in plugrad is always off."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args, **kwargs):
        return bwd(*args, **kwargs)
    return decorate_bwd


def is_autocast_enabled(device_type: str | None = None) -> bool:
    """False: no autocast region is ever active in plugrad (see the module docstring)."""
    return False


def is_autocast_cache_enabled() -> bool:
    """True, PyTorch's default (the cast-weight cache is unused: nothing is cast)."""
    return True
