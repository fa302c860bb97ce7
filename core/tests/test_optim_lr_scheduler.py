"""Learning-rate schedulers against PyTorch: the learning rate after every step,
epoch jumps, state dicts and resuming."""

from __future__ import annotations

import warnings

import pytest

import plugrad
from plugrad.optim import lr_scheduler

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch_oracle


def schedule(lib, name, kwargs, epochs=40, lrs=(0.1, 0.02)):
    params = [{"params": [lib.ones(1, requires_grad=True)], "lr": lr} for lr in lrs]
    opt = lib.optim.SGD(params, lr=lrs[0])
    sched = getattr(lib.optim.lr_scheduler, name)(opt, **kwargs)
    out = [sched.get_last_lr()]
    for _ in range(epochs):
        opt.step()
        sched.step()
        out.append(sched.get_last_lr())
        assert out[-1] == [g["lr"] for g in opt.param_groups]
    return out


CASES = [
    ("StepLR", {"step_size": 7, "gamma": 0.5}),
    ("MultiStepLR", {"milestones": [3, 10, 10, 25], "gamma": 0.3}),
    ("ExponentialLR", {"gamma": 0.9}),
    ("CosineAnnealingLR", {"T_max": 10}),
    ("CosineAnnealingLR", {"T_max": 13, "eta_min": 0.001}),
    ("LambdaLR", {"lr_lambda": lambda e: 1 / (1 + e)}),
]


@pytest.mark.parametrize("name, kwargs", CASES, ids=[c[0] + str(i) for i, c in enumerate(CASES)])
def test_schedule_matches_torch(name, kwargs):
    ours, theirs = schedule(plugrad, name, kwargs), schedule(torch, name, kwargs)
    flat = [lr for step in ours for lr in step]
    assert flat == pytest.approx([lr for step in theirs for lr in step], rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("name, kwargs", [("StepLR", {"step_size": 3}), ("CosineAnnealingLR", {"T_max": 8}),
                                          ("ExponentialLR", {"gamma": 0.5})])
def test_step_with_epoch_uses_the_closed_form(name, kwargs):
    results = []
    for lib in (plugrad, torch):
        opt = lib.optim.SGD([lib.ones(1, requires_grad=True)], lr=0.1)
        sched = getattr(lib.optim.lr_scheduler, name)(opt, **kwargs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sched.step(5)
        results.append(sched.get_last_lr())
    assert results[0] == pytest.approx(results[1])


def test_state_dict_round_trip_resumes_the_schedule():
    opt = plugrad.optim.SGD([plugrad.ones(1, requires_grad=True)], lr=1.0)
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=10)
    for _ in range(4):
        opt.step()
        sched.step()
    state = sched.state_dict()
    assert "optimizer" not in state and state["last_epoch"] == 4
    opt2 = plugrad.optim.SGD([plugrad.ones(1, requires_grad=True)], lr=1.0)
    opt2.load_state_dict(opt.state_dict())
    sched2 = lr_scheduler.CosineAnnealingLR(opt2, T_max=10)
    sched2.load_state_dict(state)
    for s, o in ((sched, opt), (sched2, opt2)):
        o.step()
        s.step()
    assert sched.get_last_lr() == sched2.get_last_lr()


def test_resume_needs_initial_lr_and_optimizer_type():
    opt = plugrad.optim.SGD([plugrad.ones(1, requires_grad=True)], lr=1.0)
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(opt, 3, last_epoch=5)
    with pytest.raises(TypeError):
        lr_scheduler.StepLR(object(), 3)


def test_lambda_lr_state_dict_keeps_callable_objects_state():
    class Warmup:
        def __init__(self):
            self.scale = 2.0

        def __call__(self, epoch):
            return self.scale * epoch

    opt = plugrad.optim.SGD([plugrad.ones(1, requires_grad=True)], lr=1.0)
    fn = Warmup()
    sched = lr_scheduler.LambdaLR(opt, [fn])
    state = sched.state_dict()
    assert state["lr_lambdas"] == [{"scale": 2.0}]
    fn.scale = 5.0
    sched.load_state_dict(state)
    assert fn.scale == 2.0
    assert lr_scheduler.LambdaLR(opt, lambda e: 1.0).state_dict()["lr_lambdas"] == [None]
