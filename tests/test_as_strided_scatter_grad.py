"""``as_strided_scatter``'s backward takes any upstream gradient: an expanded one (the
gradient of ``sum``, whose storage holds one element) or a view with a storage offset
gives what a dense one gives. The strided positions count from a dense layout, as in
the forward."""

from __future__ import annotations

import plugrad
import pytest

torch = pytest.importorskip("torch")


def _grads(lib, backward, device=None):
    a = lib.arange(6.0, device=device).requires_grad_()
    b = lib.tensor([1.0, 2.0], device=device, requires_grad=True)
    backward(lib.as_strided_scatter(a, b, (2,), (2,), 3))
    return a.grad.tolist(), b.grad.tolist()


def test_expanded_upstream_gradient_is_read_densely(device):
    expanded = _grads(plugrad, lambda out: out.sum().backward(), device)
    dense = _grads(plugrad, lambda out: out.backward(plugrad.ones(6, device=device)), device)
    assert expanded == dense
    # src receives the gradient at the positions it was written to, as in PyTorch
    assert expanded[1] == _grads(torch, lambda out: out.sum().backward())[1]


def test_offset_upstream_gradient_is_read_from_its_own_start(device):
    weights = plugrad.arange(8.0, device=device)
    offset = _grads(plugrad, lambda out: out.backward(weights[2:]), device)
    dense = _grads(plugrad, lambda out: out.backward(weights[2:].clone()), device)
    # (PyTorch reads this gradient's storage from its start, ignoring the view's offset:
    # it gives src [3, 5] here, the values before the view, so it is not the oracle)
    assert offset == dense
    assert dense[1] == weights[2:][[3, 5]].tolist()
