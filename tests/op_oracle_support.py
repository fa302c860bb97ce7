"""One comparison with PyTorch for the tests of the product and shaping ops: the same
call in plugrad (on the device under test) and in PyTorch (the oracle), with the same
arrays; the results' values, dtypes and ``grad_fn`` names, and the gradients of the
differentiable inputs under a non-uniform upstream gradient, must match."""

from __future__ import annotations

import numpy as np
import plugrad
import pytest

torch = pytest.importorskip("torch")


def as_list(r):
    return list(r) if isinstance(r, (tuple, list)) else [r]


def to_numpy(t):
    return t.detach().cpu().numpy()


def make(lib, a, device=None, requires_grad=False):
    """``a`` (a NumPy array or a Python number) as a tensor of ``lib``."""
    kwargs = {"device": device} if lib is plugrad else {}
    return lib.tensor(a, requires_grad=requires_grad, **kwargs)


def compare(device, call, arrays, grad=(), rtol=1e-5, atol=1e-6, grad_fn=True, seed=0):
    """``call(lib, *tensors)`` in both libraries; ``grad``: the positions of the arrays
    that require grad (float arrays only). Returns the plugrad results."""
    mine = [make(plugrad, a, device, i in grad) for i, a in enumerate(arrays)]
    theirs = [make(torch, a, None, i in grad) for i, a in enumerate(arrays)]
    got, expected = as_list(call(plugrad, *mine)), as_list(call(torch, *theirs))
    assert len(got) == len(expected)
    for y, z in zip(got, expected):
        assert tuple(y.shape) == tuple(z.shape)
        assert str(y.dtype).split(".")[-1] == str(z.dtype).split(".")[-1]
        np.testing.assert_allclose(to_numpy(y), to_numpy(z), rtol=rtol, atol=atol, equal_nan=True)
        if grad and grad_fn:
            assert type(y.grad_fn).__name__ == type(z.grad_fn).__name__, (y.grad_fn, z.grad_fn)
    if grad:
        rng = np.random.default_rng(seed)
        ups = [rng.standard_normal(tuple(z.shape)).astype(np.float32) for z in expected]
        pairs = [(y, z, u) for y, z, u in zip(got, expected, ups) if z.requires_grad]
        gm = plugrad.autograd.grad([y for y, _, _ in pairs], [mine[i] for i in grad],
                                   [make(plugrad, u, device) for _, _, u in pairs], allow_unused=True)
        gt = torch.autograd.grad([z for _, z, _ in pairs], [theirs[i] for i in grad],
                                 [torch.tensor(u) for _, _, u in pairs], allow_unused=True)
        for a, b in zip(gm, gt):
            if b is None:
                assert a is None or not to_numpy(a).any()
                continue
            np.testing.assert_allclose(to_numpy(a), b.numpy(), rtol=max(rtol, 1e-4), atol=max(atol, 1e-5))
    return got


def same_error(call):
    """``call(lib)`` raises in PyTorch, and plugrad raises the same exception class."""
    with pytest.raises(Exception) as expected:
        call(torch)
    with pytest.raises(expected.type):
        call(plugrad)
