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

__all__ = ["autocast", "is_autocast_available", "custom_fwd", "custom_bwd", "is_autocast_enabled",
           "set_autocast_enabled", "is_autocast_cache_enabled", "set_autocast_cache_enabled", "clear_autocast_cache"]

_DEVICE_TYPES = ("cpu", "cuda")
_CPU_DTYPES = ("bfloat16", "float16")
_state = {"cache_enabled": True}


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
        self._cache_enabled = is_autocast_cache_enabled() if cache_enabled is None else cache_enabled
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
            _refuse(self.fast_dtype.name if self.fast_dtype is not None else "bfloat16")
        self._prev_cache_enabled = _state["cache_enabled"]
        _state["cache_enabled"] = self._cache_enabled
        return self

    def __exit__(self, exc_type, exc_value, traceback) -> bool:
        _state["cache_enabled"] = self._prev_cache_enabled
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


def set_autocast_enabled(device_type, enabled=None) -> None:
    """``set_autocast_enabled(device_type, enabled)`` (or the legacy
    ``set_autocast_enabled(enabled)``, for cuda): turning autocast off is what it
    always is here; turning it on raises, as entering an enabled region does."""
    if enabled is None:
        device_type, enabled = "cuda", device_type
    if not isinstance(enabled, bool):
        raise TypeError(f"set_autocast_enabled(): argument 'enabled' (position 2) must be bool, not "
                        f"{type(enabled).__name__}")
    if device_type not in _DEVICE_TYPES:
        raise RuntimeError("unknown device type for autocast in get_autocast_dispatch_key_from_device_type")
    if enabled:
        _refuse("the default dtype", device_type)


def is_autocast_cache_enabled() -> bool:
    """Whether autocast would cache cast weights (PyTorch's setting; True by default,
    set by ``set_autocast_cache_enabled`` and by ``autocast(cache_enabled=...)`` regions)."""
    return _state["cache_enabled"]


def set_autocast_cache_enabled(enabled: bool) -> None:
    _state["cache_enabled"] = bool(enabled)


def clear_autocast_cache() -> None:
    """Drop autocast's cached casts: plugrad never casts, so the cache is always empty."""


def _refuse(dtype_name: str, device_type: str = "cpu"):
    raise RuntimeError(f"autocast(device_type='{device_type}', dtype={dtype_name}) is not supported by plugrad: "
                       f"plugrad computes every op in its inputs' dtype and has no mixed-precision dispatch. Run the "
                       f"region with enabled=False (an exact no-op), or convert the model and inputs with .to(dtype) "
                       f"to compute in a lower precision.")
