"""Optimizers against PyTorch: the same parameters and the same loss give the same
trajectory for every option; parameter groups, zero_grad, closures, state dicts and
argument errors."""

from __future__ import annotations

import io

import numpy as np
import pytest

import plugrad
import plugrad.optim as optim
from nn_support import assert_close

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(11)
W0 = RNG.standard_normal((4, 3)).astype(np.float32)
B0 = RNG.standard_normal(3).astype(np.float32)
X = RNG.standard_normal((8, 4)).astype(np.float32)


def loss_of(lib, w, b):
    """A smooth, non-quadratic loss, so that every step sees a different gradient."""
    x = lib.tensor(X)
    return ((x @ w + b).tanh() ** 2).sum() + (w * w).sum() * 0.1


def trajectory(lib, opt_name, kwargs, steps=12, groups=False):
    w = lib.tensor(W0, requires_grad=True)
    b = lib.tensor(B0, requires_grad=True)
    params = [{"params": [w]}, {"params": [b], "lr": 0.05}] if groups else [w, b]
    opt = getattr(lib.optim, opt_name)(params, **kwargs)
    out = []
    for _ in range(steps):
        opt.zero_grad()
        loss_of(lib, w, b).backward()
        opt.step()
        out.append((w.detach().clone(), b.detach().clone()))
    return out


CASES = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True}),
    ("SGD", {"lr": 0.1, "maximize": True}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("Adam", {"lr": 0.01, "maximize": True}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.3, "amsgrad": True}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "centered": True}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True, "maximize": True}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1, "initial_accumulator_value": 0.5}),
]


@pytest.mark.torch_oracle
@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{'-'.join(k)}" for n, k in CASES])
def test_trajectory_matches_torch(name, kwargs):
    ours, theirs = trajectory(plugrad, name, kwargs), trajectory(torch, name, kwargs)
    for (pw, pb), (tw, tb) in zip(ours, theirs):
        assert_close(pw, tw, rtol=2e-5, atol=2e-6)
        assert_close(pb, tb, rtol=2e-5, atol=2e-6)


@pytest.mark.torch_oracle
@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_param_groups_match_torch(name):
    kwargs = {"lr": 0.01, "momentum": 0.5} if name != "Adam" else {"lr": 0.01}
    ours, theirs = trajectory(plugrad, name, kwargs, groups=True), trajectory(torch, name, kwargs, groups=True)
    for (pw, pb), (tw, tb) in zip(ours, theirs):
        assert_close(pw, tw, rtol=2e-5, atol=2e-6)
        assert_close(pb, tb, rtol=2e-5, atol=2e-6)


def test_step_runs_without_recording_and_keeps_parameter_objects():
    w = plugrad.tensor(W0, requires_grad=True)
    opt = optim.Adam([w], lr=0.1)
    loss_of(plugrad, w, plugrad.tensor(B0)).backward()
    opt.step()
    assert w.is_leaf and w.grad_fn is None and w.requires_grad
    assert not plugrad.equal(w.detach(), plugrad.tensor(W0))


def test_parameters_without_grad_are_skipped():
    a, b = plugrad.ones(2, requires_grad=True), plugrad.ones(2, requires_grad=True)
    opt = optim.SGD([a, b], lr=1.0, momentum=0.9)
    a.sum().backward()
    opt.step()
    assert a.tolist() == [0.0, 0.0] and b.tolist() == [1.0, 1.0]
    assert b not in opt.state or not opt.state[b]


def test_zero_grad_modes():
    w = plugrad.ones(2, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    w.sum().backward()
    opt.zero_grad(set_to_none=False)
    assert w.grad is not None and not w.grad.any()
    opt.zero_grad()
    assert w.grad is None


def test_closure_is_called_with_grad_enabled():
    w = plugrad.ones(2, requires_grad=True)
    opt = optim.SGD([w], lr=0.5)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with plugrad.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 2.0 and w.tolist() == [0.0, 0.0]


def test_add_param_group_and_defaults():
    a, b = plugrad.ones(1, requires_grad=True), plugrad.ones(1, requires_grad=True)
    opt = optim.SGD([a], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": b, "lr": 0.5})
    assert opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[1]["momentum"] == 0.9
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    assert "Parameter Group 1" in repr(opt)


ERRORS = [
    (lambda lib: lib.optim.SGD([], lr=0.1), ValueError),
    (lambda lib: lib.optim.SGD(lib.ones(2, requires_grad=True), lr=0.1), TypeError),
    (lambda lib: lib.optim.SGD([lib.ones(2, requires_grad=True)], lr=-1), ValueError),
    (lambda lib: lib.optim.SGD([lib.ones(2, requires_grad=True)], lr=0.1, nesterov=True), ValueError),
    (lambda lib: lib.optim.SGD([lib.ones(2, requires_grad=True) * 2], lr=0.1), ValueError),
    (lambda lib: lib.optim.SGD([{"params": {lib.ones(2, requires_grad=True)}}], lr=0.1), TypeError),
    (lambda lib: lib.optim.Adam([lib.ones(2, requires_grad=True)], betas=(1.0, 0.9)), ValueError),
    (lambda lib: lib.optim.Adam([lib.ones(2, requires_grad=True)], eps=-1), ValueError),
    (lambda lib: lib.optim.RMSprop([lib.ones(2, requires_grad=True)], alpha=-1), ValueError),
]


@pytest.mark.torch_oracle
@pytest.mark.parametrize("build, error", ERRORS)
def test_argument_errors_match_torch(build, error):
    with pytest.raises(error):
        build(torch)
    with pytest.raises(error):
        build(plugrad)


@pytest.mark.parametrize("name, kwargs", [("SGD", {"lr": 0.1, "momentum": 0.9}), ("Adam", {"lr": 0.01}),
                                          ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5}),
                                          ("Adagrad", {"lr": 0.1})])
def test_state_dict_resume_is_exact(name, kwargs):
    """Save after 5 steps (through plugrad.save), restore into fresh objects, continue:
    the same parameters as 10 uninterrupted steps."""
    straight = trajectory(plugrad, name, kwargs, steps=10)[-1]
    w = plugrad.tensor(W0, requires_grad=True)
    b = plugrad.tensor(B0, requires_grad=True)
    opt = getattr(optim, name)([w, b], **kwargs)
    for _ in range(5):
        opt.zero_grad()
        loss_of(plugrad, w, b).backward()
        opt.step()
    buf = io.BytesIO()
    plugrad.save({"opt": opt.state_dict(), "w": w, "b": b}, buf)
    buf.seek(0)
    saved = plugrad.load(buf)
    w2 = saved["w"].detach().clone().requires_grad_(True)
    b2 = saved["b"].detach().clone().requires_grad_(True)
    opt2 = getattr(optim, name)([w2, b2], **kwargs)
    opt2.load_state_dict(saved["opt"])
    for _ in range(5):
        opt2.zero_grad()
        loss_of(plugrad, w2, b2).backward()
        opt2.step()
    assert plugrad.equal(w2.detach(), straight[0]) and plugrad.equal(b2.detach(), straight[1])


@pytest.mark.torch_oracle
def test_state_dict_layout_matches_torch():
    ours, theirs = [], []
    for lib, out in ((plugrad, ours), (torch, theirs)):
        w = lib.ones(2, requires_grad=True)
        opt = lib.optim.SGD([w], lr=0.1, momentum=0.9)
        w.sum().backward()
        opt.step()
        sd = opt.state_dict()
        out.append((sorted(sd), sorted(sd["state"][0]), sd["param_groups"][0]["params"],
                    sorted(sd["param_groups"][0])))
    assert ours == theirs


def test_load_state_dict_errors():
    opt = optim.SGD([plugrad.ones(1, requires_grad=True)], lr=0.1)
    other = optim.SGD([plugrad.ones(1, requires_grad=True), plugrad.ones(1, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="doesn't match the size"):
        opt.load_state_dict(other.state_dict())
    with pytest.raises(ValueError, match="different number of parameter groups"):
        opt.load_state_dict({"state": {}, "param_groups": []})
    with pytest.raises(ValueError):
        opt.load_state_dict({"param_groups": []})


def test_optimizer_on_device(device):
    w = plugrad.ones(3, device=device, requires_grad=True)
    opt = optim.Adam([w], lr=0.1)
    (w * w).sum().backward()
    opt.step()
    assert w.device.type == device and opt.state[w]["exp_avg"].device.type == device
