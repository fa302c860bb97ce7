"""Grad mode: whether ops record a graph. Thread-local, as in PyTorch: a ``no_grad``
block in one thread does not change what another thread records (a new thread
starts with recording on).

Each switch is a context manager and a decorator (with or without parentheses for
those that take no argument); a decorated generator function runs each of its
steps under the mode.
"""

from __future__ import annotations

import functools
import inspect
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
    """True inside an ``inference_mode()`` block."""
    return STATE.inference


class _Mode:
    """Base of the grad-mode switches: a context manager and a decorator."""

    def _enter_state(self):
        """The (enabled, inference) state inside the block, given the state outside."""
        raise TypeError(f"{type(self).__name__} must define _enter_state")  # every subclass defines it

    def __enter__(self):
        self._prev = (STATE.enabled, STATE.inference)
        STATE.enabled, STATE.inference = self._enter_state()
        return self

    def __exit__(self, *exc):
        STATE.enabled, STATE.inference = self._prev
        return False

    def __call__(self, fn):
        if inspect.isgeneratorfunction(fn):
            @functools.wraps(fn)
            def generator(*args, **kwargs):
                gen = fn(*args, **kwargs)
                with self.clone():
                    value = next(gen)
                while True:
                    try:
                        sent = yield value
                    except GeneratorExit:
                        with self.clone():
                            gen.close()
                        raise
                    except BaseException as exc:
                        with self.clone():
                            value = gen.throw(exc)
                        continue
                    with self.clone():
                        try:
                            value = gen.send(sent)
                        except StopIteration as stop:
                            return stop.value
            return generator

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.clone():
                return fn(*args, **kwargs)
        return wrapper

    def _args(self):
        return ()

    def clone(self):
        """A fresh switch with the same settings (each ``with`` needs its own)."""
        return _new_mode(type(self), *self._args())


def _new_mode(cls, *args):
    obj = object.__new__(cls)
    obj.__init__(*args)
    return obj


class _NoArgMode(_Mode):
    """A switch without arguments: ``@switch`` works like ``@switch()``."""

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return _new_mode(cls)(orig_func)

    def __init__(self, orig_func=None):
        pass


class no_grad(_NoArgMode):
    """Ops inside record no graph; results do not require grad."""

    def _enter_state(self):
        return False, STATE.inference


class enable_grad(_NoArgMode):
    """Turn recording back on inside a ``no_grad`` block."""

    def _enter_state(self):
        return True, STATE.inference


class set_grad_enabled(_Mode):
    """Set grad mode to ``mode``: takes effect at once, and is undone at the end of a
    ``with`` block; as a decorator, applies to each call only."""

    def __init__(self, mode: bool):
        self.mode = bool(mode)
        self._prev = (STATE.enabled, STATE.inference)
        STATE.enabled = self.mode

    def _enter_state(self):
        return self.mode, STATE.inference

    def __enter__(self):
        if self._prev is None:  # a clone made for one decorated call
            self._prev = (STATE.enabled, STATE.inference)
        STATE.enabled = self.mode  # the state before the constructor ran is what __exit__ restores
        return self

    def _args(self):
        return (self.mode,)

    def __call__(self, fn):
        # the constructor already switched the mode: used as a decorator, undo that
        STATE.enabled, STATE.inference = self._prev
        return super().__call__(fn)

    def clone(self):
        clone = object.__new__(set_grad_enabled)
        clone.mode, clone._prev = self.mode, None
        return clone


class inference_mode(_Mode):
    """Like ``no_grad``, for code that will never need gradients; ``mode=False``
    changes nothing. Works as ``@inference_mode`` and ``@inference_mode()``."""

    def __new__(cls, mode=True):
        if callable(mode) and not isinstance(mode, bool):
            return _new_mode(cls, True)(mode)
        return super().__new__(cls)

    def __init__(self, mode: bool = True):
        self.mode = bool(mode)

    def _enter_state(self):
        if not self.mode:
            return STATE.enabled, STATE.inference
        return False, True

    def _args(self):
        return (self.mode,)
