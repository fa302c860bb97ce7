"""Training compiled and eager gives the same weights, bit for bit.

The optimizers' Python numbers that change between steps (Adam's step count in the bias
correction, a scheduler's learning rate) are inputs of the replay, not constants of the
recording: after 100 steps with a scheduler that changes the rate, every weight and
every optimizer state tensor equals eager's. These are the optimizers whose numbers
``plugrad.compiler.tracking`` makes symbolic; any other one is guarded by value.
"""

from __future__ import annotations

import re

import pytest

import plugrad as torch
from plugrad import nn

STEPS = 100


def _setup(device, opt_name, sched_name):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3)).to(device)
    params = model.parameters()
    opt = {"adam": lambda: torch.optim.Adam(params, lr=0.01),
           "adamw": lambda: torch.optim.AdamW(params, lr=0.01, weight_decay=0.1, amsgrad=True),
           "sgd": lambda: torch.optim.SGD(params, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
           "rmsprop": lambda: torch.optim.RMSprop(params, lr=0.01, momentum=0.5, centered=True),
           "adagrad": lambda: torch.optim.Adagrad(params, lr=0.05, lr_decay=1e-3, weight_decay=1e-4)}[opt_name]()
    sched = {"step": lambda: torch.optim.lr_scheduler.StepLR(opt, step_size=7, gamma=0.5),
             "cosine": lambda: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=30)}[sched_name]()
    return model, opt, sched


def _data(device):
    torch.manual_seed(1)
    return torch.randn(16, 8, device=device), torch.randint(0, 3, (16,), device=device)


def _train(device, opt_name, sched_name, compiled: bool, sched_inside: bool):
    model, opt, sched = _setup(device, opt_name, sched_name)
    loss_fn = nn.CrossEntropyLoss()
    x, y = _data(device)

    def step(xb, yb):
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        if sched_inside:
            sched.step()
        return loss
    f = torch.compile(step) if compiled else step
    losses = []
    for _ in range(STEPS):
        losses.append(f(x, y))
        if not sched_inside:
            sched.step()
    return model, opt, losses, f


def _assert_same_training(a, b):
    model_a, opt_a, losses_a, _ = a
    model_b, opt_b, losses_b, _ = b
    assert all(torch.equal(la.cpu(), lb.cpu()) for la, lb in zip(losses_a, losses_b))
    for pa, pb in zip(model_a.parameters(), model_b.parameters()):
        assert torch.equal(pa.cpu(), pb.cpu())
        sa, sb = opt_a.state[pa], opt_b.state[pb]
        assert sa.keys() == sb.keys()
        for key in sa:
            if isinstance(sa[key], torch.Tensor):
                assert torch.equal(sa[key].cpu(), sb[key].cpu()), key
            else:
                assert sa[key] == sb[key] and type(sa[key]) is type(sb[key]), key
    assert opt_a.param_groups[0]["lr"] == opt_b.param_groups[0]["lr"]


@pytest.mark.parametrize("opt_name,sched_name", [("adam", "step"), ("adam", "cosine"), ("adamw", "cosine"),
                                                 ("sgd", "step"), ("rmsprop", "cosine"), ("adagrad", "step")])
def test_training_with_a_scheduler_is_bit_equal(device, opt_name, sched_name):
    eager = _train(device, opt_name, sched_name, False, False)
    compiled = _train(device, opt_name, sched_name, True, False)
    _assert_same_training(eager, compiled)
    stats = compiled[3].stats
    # the first call finds no gradients (and, but for Adagrad, no optimizer state), the
    # second records the steady step
    assert stats.recordings == 2 and stats.replays == STEPS - 2, stats


def test_scheduler_stepping_inside_the_function_stays_correct(device):
    eager = _train(device, "adam", "step", False, True)
    compiled = _train(device, "adam", "step", True, True)
    _assert_same_training(eager, compiled)


def _manual_sgd(device):
    torch.manual_seed(0)
    x, y = torch.randn(8, 10, device=device), torch.randn(8, 2, device=device)
    w1 = torch.randn(10, 6, device=device, requires_grad=True)
    w2 = torch.randn(6, 2, device=device, requires_grad=True)

    def step():
        nonlocal w1, w2
        loss = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()
        loss.backward()
        with torch.no_grad():
            w1 -= 1e-3 * w1.grad
            w2 -= 1e-3 * w2.grad
            w1.grad.zero_()
            w2.grad.zero_()
        return loss
    return step, w1, w2


def test_fused_update_takes_the_later_gradient_zeroing(device, monkeypatch):
    """A fused group passes over steps it cannot take (the other weight's update) and
    takes the zeroing of its gradient: one program updates a weight and zeroes its
    gradient, and the weights, gradients and losses are eager's bits."""
    eager, *weights = _manual_sgd(device)
    want = [eager() for _ in range(5)]
    monkeypatch.setattr(type(weights[0]._backend), "fuses_elementwise", True)
    monkeypatch.setattr(type(weights[0]._backend), "fusion_pays", lambda *a: True)
    step, *compiled_weights = _manual_sgd(device)
    g = torch.compile(step)
    got = [g() for _ in range(5)]
    assert g.stats.replays == 3
    steady = g.replay_sources[-1]
    assert not re.search(r"_fill\d+\(_v\d+, 0\.0\)", steady), steady      # no zeroing of a gradient alone
    assert steady.count("0.001, ") == 2, steady                             # each update in one program
    assert all(torch.equal(a, b) for a, b in zip(want, got))
    for a, b in zip(weights, compiled_weights):
        assert torch.equal(a, b) and torch.equal(a.grad, b.grad) and not b.grad.any()


def test_manual_sgd_in_place_updates(device):
    """The seeds' two-layer network trained with in-place updates under no_grad (bench W2)."""
    out = []
    for compiled in (False, True):
        step, w1, w2 = _manual_sgd(device)
        f = torch.compile(step) if compiled else step
        out.append(([f() for _ in range(20)], w1, w2))
        if compiled:
            assert f.stats.replays == 18, f.stats
    (la, a1, a2), (lb, b1, b2) = out
    assert all(torch.equal(p.cpu(), q.cpu()) for p, q in zip(la, lb))
    assert torch.equal(a1.cpu(), b1.cpu()) and torch.equal(a2.cpu(), b2.cpu())


def test_fused_optimizer_updates_are_bit_equal(device, monkeypatch):
    """On a fusing device the optimizer's in-place updates join the elementwise chains that
    compute them (fused programs writing parameters and state): same weights as eager."""
    eager = _train(device, "adam", "cosine", False, False)
    x, _ = _data(device)
    monkeypatch.setattr(type(x._backend), "fuses_elementwise", True)
    monkeypatch.setattr(type(x._backend), "fusion_pays", lambda *a: True)   # group even these small chains
    compiled = _train(device, "adam", "cosine", True, False)
    _assert_same_training(eager, compiled)
    steady = compiled[3]._entries[-1]
    fused = [v for k, v in steady.__globals__.items() if getattr(v, "__name__", "") == "fused_elementwise"]
    assert fused and compiled[3].stats.replays == STEPS - 2
