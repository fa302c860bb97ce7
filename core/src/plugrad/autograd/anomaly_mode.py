"""Anomaly detection: remember where each node was created, and stop at the first
backward that produces NaN, naming the forward op and that place."""

from __future__ import annotations

import traceback

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled"]

ENABLED = False


def creation_trace() -> str:
    """The user's stack at node creation, without plugrad's own frames."""
    frames = [f for f in traceback.extract_stack()[:-1] if "/plugrad/" not in f.filename.replace("\\", "/")]
    return "".join(traceback.format_list(frames[-8:]))


def is_anomaly_enabled() -> bool:
    return ENABLED


class set_detect_anomaly:
    """Turn anomaly detection on or off; undone at the end of a ``with`` block."""

    def __init__(self, mode: bool = True):
        global ENABLED
        self._prev = ENABLED
        ENABLED = bool(mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        global ENABLED
        ENABLED = self._prev
        return False


class detect_anomaly(set_detect_anomaly):
    """Context manager: nodes record their creation site, and a NaN produced by a
    backward formula raises a RuntimeError naming the node and that site."""

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan
        super().__init__(True)
