"""Anomaly detection: remember where each node was created, and stop at the first
backward that produces NaN, naming the forward op and that place.

While enabled, every graph node records the user's stack (plugrad's own frames
left out) when its forward op runs. The engine then reports that stack when the
node's backward raises, and raises itself when the node returns NaN gradients
(unless ``check_nan=False``). Like PyTorch's, the switch is process-wide.
"""

from __future__ import annotations

import functools
import os
import traceback

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled", "is_anomaly_check_nan_enabled"]

ENABLED = False
CHECK_NAN = True

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def creation_trace() -> str:
    """The user's stack at node creation, without plugrad's own frames."""
    frames = [f for f in traceback.extract_stack()[:-1] if not os.path.abspath(f.filename).startswith(_PACKAGE_DIR)]
    return "".join(traceback.format_list(frames[-8:]))


def is_anomaly_enabled() -> bool:
    return ENABLED


def is_anomaly_check_nan_enabled() -> bool:
    return CHECK_NAN


def _set(mode: bool, check_nan: bool):
    global ENABLED, CHECK_NAN
    ENABLED, CHECK_NAN = bool(mode), bool(check_nan)


class set_detect_anomaly:
    """Turn anomaly detection on or off, at once; a ``with`` block restores the
    previous setting at its end."""

    def __init__(self, mode: bool, check_nan: bool = True):
        self._prev = (ENABLED, CHECK_NAN)
        _set(mode, check_nan)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _set(*self._prev)
        return False


class detect_anomaly:
    """Context manager (or decorator) turning anomaly detection on inside it: nodes
    record their creation site, an error in a backward formula is reported with
    that site, and a NaN gradient raises a RuntimeError naming the node and the site."""

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan

    def __enter__(self):
        self._prev = (ENABLED, CHECK_NAN)
        _set(True, self.check_nan)
        return self

    def __exit__(self, *exc):
        _set(*self._prev)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return fn(*args, **kwargs)
        return wrapper
