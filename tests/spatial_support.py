"""Shared checks of the spatial-op tests: run one expression in plugrad (on a device) and
in PyTorch, then compare the results, their ``grad_fn`` names and the gradients of
every input under a non-uniform upstream gradient."""

from __future__ import annotations

import numpy as np
import plugrad


def to_numpy(t) -> np.ndarray:
    if hasattr(t, "numpy") and not isinstance(t, plugrad.Tensor):
        return t.detach().numpy()
    return np.array(t.detach().cpu().tolist(), dtype=np.float64 if t.dtype.is_floating_point else np.int64)


def check_against_torch(fn, arrays, device, *, grad=True, atol=1e-5, rtol=1e-5, name=True, seed=0):
    """``fn(F, *tensors)`` with F = torch.nn.functional and plugrad.nn.functional agree."""
    import torch
    import torch.nn.functional as TF
    import plugrad.nn.functional as PF
    ts = [torch.tensor(a, requires_grad=grad) for a in arrays]
    ps = [plugrad.tensor(a, device=device, requires_grad=grad) for a in arrays]
    rt, rp = fn(TF, *ts), fn(PF, *ps)
    outs_t = rt if isinstance(rt, tuple) else (rt,)
    outs_p = rp if isinstance(rp, tuple) else (rp,)
    for a, b in zip(outs_t, outs_p):
        assert tuple(a.shape) == tuple(b.shape)
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
        np.testing.assert_allclose(to_numpy(b), to_numpy(a), rtol=rtol, atol=atol)
    rt, rp = outs_t[0], outs_p[0]
    if name and grad:
        assert type(rp.grad_fn).__name__ == type(rt.grad_fn).__name__
    if grad:
        g = np.random.default_rng(seed).standard_normal(tuple(rt.shape))
        gt = torch.autograd.grad(rt, ts, torch.tensor(g, dtype=rt.dtype), allow_unused=True)
        gp = plugrad.autograd.grad(rp, ps, plugrad.tensor(g, dtype=rp.dtype, device=device), allow_unused=True)
        for a, b in zip(gt, gp):
            assert (a is None) == (b is None)
            if a is not None:
                np.testing.assert_allclose(to_numpy(b), to_numpy(a), rtol=rtol, atol=atol)
    return rt, rp


def check_raises_like_torch(fn, arrays, device):
    """``fn`` raises the same exception class in plugrad as in PyTorch."""
    import pytest
    import torch
    import torch.nn.functional as TF
    import plugrad.nn.functional as PF
    try:
        fn(TF, *[torch.tensor(a) for a in arrays])
    except Exception as e:   # noqa: BLE001 - the class is what is compared
        expected = type(e)
    else:
        raise AssertionError("PyTorch accepted the call")
    with pytest.raises(expected):
        fn(PF, *[plugrad.tensor(a, device=device) for a in arrays])


def copy_state(torch_module, plugrad_module, device):
    """Load a PyTorch module's state into the plugrad module of the same structure."""
    state = {k: plugrad.tensor(v.detach().numpy(), device=device) for k, v in torch_module.state_dict().items()}
    plugrad_module.load_state_dict(state)
    return plugrad_module.to(device)
