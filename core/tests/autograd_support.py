"""Shared helpers of the autograd tests: NumPy views of tensors, the graph's shape
as nested names, and running one program under plugrad and under PyTorch.

Expected values come from NumPy, from closed-form derivatives, or from PyTorch
(the oracle, imported only inside oracle tests).
"""

from __future__ import annotations

import numpy as np
import pytest

import plugrad


def to_np(t):
    """A tensor's values as a float64 NumPy array (None stays None); any device, any library."""
    if t is None:
        return None
    return np.array(t.detach().cpu().numpy(), dtype=np.float64)


def node_name(fn):
    return None if fn is None else type(fn).__name__


def graph_names(fn, depth=6):
    """The graph below ``fn`` as nested ``(name, [children...])`` (None for a missing edge)."""
    if fn is None:
        return None
    if depth == 0:
        return (node_name(fn), "...")
    return (node_name(fn), [graph_names(n, depth - 1) for n, _ in fn.next_functions])


def torch_or_skip():
    """PyTorch, the oracle; the calling test is skipped when it is not installed."""
    return pytest.importorskip("torch")


def run_both(program):
    """``program(lib)`` run with plugrad and with PyTorch; returns (plugrad_result, torch_result)."""
    torch = torch_or_skip()
    return program(plugrad), program(torch)


def assert_same_values(ours, theirs, atol=1e-6, rtol=1e-6):
    """Nested results (tuples/lists/dicts of tensors, arrays, numbers, strings, None) agree."""
    if isinstance(ours, dict):
        assert ours.keys() == theirs.keys()
        for k in ours:
            assert_same_values(ours[k], theirs[k], atol, rtol)
        return
    if isinstance(ours, (tuple, list)):
        assert isinstance(theirs, (tuple, list)) and len(ours) == len(theirs), (ours, theirs)
        for a, b in zip(ours, theirs):
            assert_same_values(a, b, atol, rtol)
        return
    if ours is None or isinstance(ours, (str, bool)):
        assert ours == theirs, (ours, theirs)
        return
    a = to_np(ours) if hasattr(ours, "detach") else np.asarray(ours, dtype=np.float64)
    b = to_np(theirs) if hasattr(theirs, "detach") else np.asarray(theirs, dtype=np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, atol=atol, rtol=rtol, equal_nan=True)


def supports_float64(device) -> bool:
    from plugrad.plugins.registry import backend_for
    return plugrad.float64 in backend_for(device).dtypes
