"""Helpers shared by the nn / optim / data / serialization tests: moving values between
plugrad and the PyTorch oracle, and comparing them."""

from __future__ import annotations

import numpy as np

import plugrad


def np_of(t):
    """The values of a plugrad or torch tensor as a NumPy array."""
    return t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)


def assert_close(actual, expected, rtol=1e-5, atol=1e-6):
    a, e = np_of(actual), np_of(expected)
    assert a.shape == e.shape, f"shape {a.shape} != {e.shape}"
    np.testing.assert_allclose(a, e, rtol=rtol, atol=atol)


def pg(t, requires_grad=None, **kwargs):
    """A plugrad tensor with the values of a torch tensor or array (float64 stays float64)."""
    arr = np_of(t)
    rg = bool(getattr(t, "requires_grad", False)) if requires_grad is None else requires_grad
    return plugrad.tensor(arr, requires_grad=rg, **kwargs)


def pair(torch, arr, requires_grad=True):
    """The same array as a torch tensor and a plugrad tensor."""
    return torch.tensor(arr, requires_grad=requires_grad), plugrad.tensor(arr, requires_grad=requires_grad)


def copy_state(torch_module, pg_module):
    """Give ``pg_module`` the parameters and buffers of ``torch_module`` (same names)."""
    src = {k: v.detach().numpy() for k, v in torch_module.state_dict().items()}
    dst = pg_module.state_dict()
    assert list(src) == list(dst), f"state dict keys differ: {list(src)} vs {list(dst)}"
    pg_module.load_state_dict({k: plugrad.tensor(v) for k, v in src.items()})


def assert_same_grads(torch_module, pg_module, rtol=1e-5, atol=1e-6):
    for (n1, p1), (n2, p2) in zip(torch_module.named_parameters(), pg_module.named_parameters()):
        assert n1 == n2
        if p1.grad is None:
            assert p2.grad is None, n2
        else:
            assert_close(p2.grad, p1.grad, rtol, atol)
