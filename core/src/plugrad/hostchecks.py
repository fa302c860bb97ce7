"""Host reads that only validate arguments, marked as such.

Some ops read device values into Python only to refuse bad input (``nll_loss``'s
target bounds). ``plugrad.compile`` treats any other read of device memory as a graph
break; a read inside :data:`validating` is not one: the recorded run makes the check,
and replays skip it, as PyTorch's device-side asserts do on an accelerator. This module
sits at the bottom of the core (it imports nothing) so that any op can mark its checks.
"""

from __future__ import annotations

__all__ = ["validating", "is_validating"]


class _Validating:
    """``with validating:`` marks the host reads in the block as argument checks.
    ``capturing`` is True while ``plugrad.compile`` records: an op whose kernels depend
    on a value it read (a negative index wrapped only when there is one) then takes the
    path that is right for every value."""

    depth = 0
    capturing = False

    def __enter__(self):
        _Validating.depth += 1
        return self

    def __exit__(self, *exc):
        _Validating.depth -= 1
        return False


validating = _Validating()


def is_validating() -> bool:
    """True inside a ``with validating:`` block."""
    return _Validating.depth > 0
