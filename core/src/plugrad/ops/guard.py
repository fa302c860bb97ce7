"""The function forms of the ops refuse a non-Tensor ``input`` with PyTorch's TypeError.

Ops read their input's attributes directly: the per-op path has no type checks. So a
None, a string or a list passed where a Tensor goes fails on an attribute lookup, with
an AttributeError that says nothing useful. ``plugrad.abs(None)`` should say what
PyTorch's argument parser says, a TypeError naming the argument and the type it got.

The public function forms (``plugrad.<op>``, ``plugrad.nn.functional.<op>``) are
wrapped once, at import, to turn exactly that failure into that TypeError. The
wrapper is one Python call more per function-form call (about 0.25 us, ~12% of a
small ``plugrad.add``; a type check in every op would cost about the same and be
written 200 times). Methods and operators, the forms training loops mostly use, are
not wrapped: their receiver is always a Tensor.
"""

from __future__ import annotations

import functools
import types

from ..tensor import Tensor

__all__ = ["guard_function_forms"]


def _checked(fn):
    name = fn.__name__

    @functools.wraps(fn)
    def checked(input, *args, **kwargs):
        try:
            return fn(input, *args, **kwargs)
        except AttributeError:
            if isinstance(input, Tensor):
                raise
            raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                            f"{type(input).__name__}") from None
    return checked


def guard_function_forms(namespace: dict) -> None:
    """Wrap, in ``namespace``, every plugrad function whose first parameter is ``input``."""
    for key, fn in list(namespace.items()):
        if (type(fn) is types.FunctionType and not key.startswith("_") and fn.__module__.split(".")[0] == "plugrad"
                and fn.__code__.co_argcount >= 1 and fn.__code__.co_varnames[0] == "input"):
            namespace[key] = _checked(fn)
