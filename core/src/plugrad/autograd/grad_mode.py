"""Grad mode: whether ops record a graph. Thread-local, as in PyTorch.

Each context manager also works as a decorator.
"""

from __future__ import annotations

import functools
import threading

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled"]


class _State(threading.local):
    def __init__(self):
        self.enabled = True
        self.inference = False


STATE = _State()


def is_grad_enabled() -> bool:
    """True when ops on tensors that require grad record a graph."""
    return STATE.enabled


def is_inference_mode_enabled() -> bool:
    return STATE.inference


class _Mode:
    """Base of the grad-mode switches: a context manager and a decorator."""

    def _enter_value(self) -> bool:
        raise TypeError  # every subclass defines it

    def __enter__(self):
        self._prev = (STATE.enabled, STATE.inference)
        STATE.enabled = self._enter_value()
        return self

    def __exit__(self, *exc):
        STATE.enabled, STATE.inference = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(*self._args()):
                return fn(*args, **kwargs)
        return wrapper

    def _args(self):
        return ()

    def clone(self):
        return self.__class__(*self._args())


class no_grad(_Mode):
    """Ops inside record no graph; results do not require grad."""

    def _enter_value(self):
        return False


class enable_grad(_Mode):
    """Turn recording back on inside a ``no_grad`` block."""

    def _enter_value(self):
        return True


class set_grad_enabled(_Mode):
    """Set grad mode to ``mode``; takes effect at once, and is undone when used with ``with``."""

    def __init__(self, mode: bool):
        self.mode = bool(mode)
        self._prev = (STATE.enabled, STATE.inference)
        STATE.enabled = self.mode

    def _enter_value(self):
        return self.mode

    def _args(self):
        return (self.mode,)

    def __call__(self, fn):
        # the constructor already switched the mode: used as a decorator, undo that
        STATE.enabled, STATE.inference = self._prev
        return super().__call__(fn)


class inference_mode(_Mode):
    """Like ``no_grad``, for code that will never need gradients (``mode=False`` is a no-op)."""

    def __init__(self, mode: bool = True):
        self.mode = bool(mode)

    def _enter_value(self):
        return STATE.enabled if not self.mode else False

    def __enter__(self):
        super().__enter__()
        if self.mode:
            STATE.inference = True
        return self

    def _args(self):
        return (self.mode,)
