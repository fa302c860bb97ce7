"""The harness shared by the nn oracle tests (activations, norms, losses): one call run
in plugrad (on the device under test) and in PyTorch, giving the result's ``grad_fn``
name, the result, the gradients of the inputs that require grad under a non-uniform
upstream gradient and, when asked, the gradients of those gradients."""

from __future__ import annotations

import numpy as np
import plugrad
import plugrad.nn.functional as PF

torch = __import__("pytest").importorskip("torch")
TF = torch.nn.functional


def run(lib, call, arrays, grads, second, device):
    """``call(F, t, *tensors)`` in ``lib`` (plugrad or torch); ``t(values)`` builds a tensor
    on the device. Returns (grad_fn name, [result, gradients..., second gradients...])."""
    F = PF if lib is plugrad else TF
    dev = {"device": device} if lib is plugrad else {}
    tensors = [lib.tensor(a, requires_grad=i in grads, **dev) for i, a in enumerate(arrays)]
    out = call(F, lambda values, **kw: lib.tensor(values, **kw, **dev), *tensors)
    name = type(out.grad_fn).__name__
    result = [out.detach().cpu().numpy()]
    if not grads:
        return name, result
    weights = lib.tensor(np.linspace(0.5, 1.5, out.numel()).reshape(tuple(out.shape)).astype(arrays[grads[0]].dtype),
                         requires_grad=second, **dev)
    inputs = [tensors[i] for i in grads]
    firsts = lib.autograd.grad((out * weights).sum(), inputs, create_graph=second, allow_unused=True,
                               materialize_grads=True)
    result += [g.detach().cpu().numpy() for g in firsts]
    if second:
        total = sum((g * g).sum() for g in firsts)
        seconds = lib.autograd.grad(total, inputs + [weights], allow_unused=True, materialize_grads=True)
        result += [g.detach().cpu().numpy() for g in seconds]
    return name, result


def check_case(case, device, rtol=1e-6, atol=1e-7):
    """Run ``case`` = (id, call, arrays, grads, second) in both libraries and compare."""
    name, call, arrays, grads, second = case
    ours_name, ours = run(plugrad, call, arrays, grads, second, device)
    theirs_name, theirs = run(torch, call, arrays, grads, second, None)
    assert ours_name == theirs_name, f"{name}: grad_fn {ours_name}, PyTorch's {theirs_name}"
    assert len(ours) == len(theirs)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert a.shape == b.shape, f"{name} [{i}]: shape {a.shape}, PyTorch's {b.shape}"
        assert a.dtype == b.dtype, f"{name} [{i}]: dtype {a.dtype}, PyTorch's {b.dtype}"
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True, err_msg=f"{name} [{i}]")


def raises_like(fn_pg, fn_torch):
    """Both calls raise, the same exception class; returns plugrad's exception."""
    theirs = ours = None
    try:
        fn_torch()
    except Exception as e:   # noqa: BLE001 - the oracle's class is the expectation
        theirs = e
    try:
        fn_pg()
    except Exception as e:   # noqa: BLE001
        ours = e
    assert theirs is not None, "PyTorch does not raise"
    assert ours is not None, f"plugrad does not raise (PyTorch raises {type(theirs).__name__}: {theirs})"
    assert type(ours) is type(theirs), f"plugrad raises {type(ours).__name__}: {ours}; PyTorch " \
                                       f"{type(theirs).__name__}: {theirs}"
    return ours
