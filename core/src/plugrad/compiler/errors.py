"""What ``plugrad.compile`` raises, and how it names the user's line."""

from __future__ import annotations

import linecache
import os
import sys

__all__ = ["Unsupported", "InvalidBackend", "user_frame"]

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Unsupported(RuntimeError):
    """A compiled function did something that cannot be captured (a graph break) while
    ``fullgraph=True`` asked for one graph (PyTorch's ``torch._dynamo.exc.Unsupported``).
    The message names the reason and the user's source line."""


class InvalidBackend(RuntimeError):
    """``compile(backend=...)`` names no backend (``torch._dynamo.exc.InvalidBackend``)."""


def user_frame(skip: int = 1) -> str:
    """``file:line: source`` of the innermost frame outside the plugrad package: the line
    of the user's code that led to the current call."""
    frame = sys._getframe(skip)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE + os.sep):
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    line = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
    return f"{frame.f_code.co_filename}:{frame.f_lineno}: {line}" if line else \
        f"{frame.f_code.co_filename}:{frame.f_lineno}"
