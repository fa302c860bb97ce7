"""OneCycleLR, ReduceLROnPlateau, LinearLR, ConstantLR, PolynomialLR, CyclicLR,
SequentialLR, ChainedScheduler, CosineAnnealingWarmRestarts and MultiplicativeLR
against PyTorch: the learning rates (and cycled momenta) over many steps, the
parameter trajectories they drive, state dicts (same keys and values) and resuming."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import plugrad

torch = pytest.importorskip("torch")

W0 = np.random.default_rng(3).standard_normal(5)


def _setup(lib, opt_name="SGD", opt_kwargs=None, lrs=(0.1, 0.02)):
    params = [{"params": [lib.tensor(W0, dtype=lib.float64, requires_grad=True)], "lr": lr} for lr in lrs]
    return getattr(lib.optim, opt_name)(params, **(opt_kwargs or {"lr": lrs[0], "momentum": 0.9}))


def _build(lib, opt, name, kwargs):
    sched = lib.optim.lr_scheduler
    if name == "SequentialLR":
        inner = [sched.LinearLR(opt, start_factor=0.1, total_iters=4), sched.ExponentialLR(opt, gamma=0.9),
                 sched.CosineAnnealingLR(opt, T_max=7)]
        return sched.SequentialLR(opt, inner, milestones=[5, 12])
    if name == "ChainedScheduler":
        return sched.ChainedScheduler([sched.ConstantLR(opt, factor=0.5, total_iters=3),
                                       sched.ExponentialLR(opt, gamma=0.95)])
    if name == "SequentialChained":
        chained = sched.ChainedScheduler([sched.LinearLR(opt, start_factor=0.2, total_iters=3),
                                          sched.MultiplicativeLR(opt, lambda e: 0.97)])
        # SequentialLR steps the chain once when built, before any optimizer step: PyTorch
        # warns about the order then (twice, once per chained schedule), and so does plugrad
        with pytest.warns(UserWarning, match=r"Detected call of `lr_scheduler.step\(\)` before `optimizer.step\(\)`"):
            return sched.SequentialLR(opt, [chained, sched.PolynomialLR(opt, total_iters=6, power=2.0)],
                                      milestones=[6])
    return getattr(sched, name)(opt, **kwargs)


def _momenta(opt):
    return [g["betas"][0] if "betas" in g else g.get("momentum") for g in opt.param_groups]


def run(lib, name, kwargs, steps=45, opt_name="SGD", opt_kwargs=None, metrics=None):
    """The (lr, momentum) per step and the parameters after each optimizer step."""
    opt = _setup(lib, opt_name, opt_kwargs)
    sched = _build(lib, opt, name, kwargs)
    rates, params = [(list(sched.get_last_lr()), _momenta(opt))], []
    for i in range(steps):
        opt.zero_grad()
        for g in opt.param_groups:
            (g["params"][0].sin() ** 2).sum().backward()
        opt.step()
        if metrics is not None:
            sched.step(metrics[i])
        else:
            sched.step()
        rates.append((list(sched.get_last_lr()), _momenta(opt)))
        assert sched.get_last_lr() == [g["lr"] for g in opt.param_groups]
        params.append(np.concatenate([g["params"][0].detach().numpy() for g in opt.param_groups]))
    return rates, np.array(params), sched


def _assert_rates_equal(ours, theirs):
    assert len(ours) == len(theirs)
    for (lr, mom), (tlr, tmom) in zip(ours, theirs):
        np.testing.assert_allclose(lr, tlr, rtol=1e-12, atol=1e-15)
        if tmom[0] is not None:
            np.testing.assert_allclose(mom, tmom, rtol=1e-12, atol=1e-15)


CASES = [
    ("LinearLR", {}),
    ("LinearLR", {"start_factor": 0.25, "end_factor": 0.5, "total_iters": 9}),
    ("ConstantLR", {}),
    ("ConstantLR", {"factor": 0.2, "total_iters": 11}),
    ("PolynomialLR", {}),
    ("PolynomialLR", {"total_iters": 30, "power": 0.7}),
    ("MultiplicativeLR", {"lr_lambda": lambda e: 0.95}),
    ("MultiplicativeLR", {"lr_lambda": [lambda e: 0.9, lambda e: 1.0 / (1 + 0.01 * e)]}),
    ("CosineAnnealingWarmRestarts", {"T_0": 5}),
    ("CosineAnnealingWarmRestarts", {"T_0": 3, "T_mult": 2, "eta_min": 0.001}),
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 4}),
    ("CyclicLR", {"base_lr": [0.01, 0.001], "max_lr": [0.1, 0.05], "step_size_up": 3, "step_size_down": 5,
                  "mode": "triangular2"}),
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 5, "mode": "exp_range", "gamma": 0.97}),
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 5, "scale_fn": lambda x: 0.5 ** x,
                  "scale_mode": "iterations", "cycle_momentum": False}),
    ("OneCycleLR", {"max_lr": 0.5, "total_steps": 45}),
    ("OneCycleLR", {"max_lr": [0.5, 0.1], "epochs": 5, "steps_per_epoch": 9, "pct_start": 0.4,
                    "anneal_strategy": "linear", "div_factor": 10.0, "final_div_factor": 100.0}),
    ("OneCycleLR", {"max_lr": 0.3, "total_steps": 50, "three_phase": True, "base_momentum": 0.7}),
    ("SequentialLR", {}),
    ("ChainedScheduler", {}),
    ("SequentialChained", {}),
]


@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_rates_and_trajectory_match_pytorch(name, kwargs):
    ours, ours_params, sched = run(plugrad, name, kwargs)
    theirs, their_params, tsched = run(torch, name, kwargs)
    _assert_rates_equal(ours, theirs)
    np.testing.assert_allclose(ours_params, their_params, rtol=1e-12, atol=1e-14)
    state, tstate = sched.state_dict(), tsched.state_dict()
    assert sorted(state) == sorted(tstate)


@pytest.mark.parametrize("opt_name, opt_kwargs", [("Adam", {"lr": 0.1}), ("NAdam", {"lr": 0.1})])
@pytest.mark.parametrize("name, kwargs", [("OneCycleLR", {"max_lr": 0.2, "total_steps": 30}),
                                          ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 4})])
def test_momentum_cycles_beta1(name, kwargs, opt_name, opt_kwargs):
    ours, ours_params, _ = run(plugrad, name, kwargs, steps=30, opt_name=opt_name, opt_kwargs=opt_kwargs)
    theirs, their_params, _ = run(torch, name, kwargs, steps=30, opt_name=opt_name, opt_kwargs=opt_kwargs)
    _assert_rates_equal(ours, theirs)
    np.testing.assert_allclose(ours_params, their_params, rtol=1e-11, atol=1e-13)


METRICS = [1.0, 0.9, 0.91, 0.92, 0.93, 0.95, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4,
           0.4, 0.39999, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4]


@pytest.mark.parametrize("kwargs", [{}, {"patience": 2}, {"mode": "max", "factor": 0.5, "patience": 1},
                                    {"patience": 1, "cooldown": 2, "threshold_mode": "abs", "threshold": 0.05},
                                    {"patience": 0, "min_lr": [0.05, 0.019], "factor": 0.5},
                                    {"patience": 0, "factor": 0.5, "eps": 0.02}])
def test_reduce_lr_on_plateau(kwargs):
    metrics = METRICS + METRICS[::-1]
    ours, ours_params, sched = run(plugrad, "ReduceLROnPlateau", kwargs, steps=len(metrics), metrics=metrics)
    theirs, their_params, tsched = run(torch, "ReduceLROnPlateau", kwargs, steps=len(metrics),
                                       metrics=[torch.tensor(m, dtype=torch.float64) for m in metrics])
    _assert_rates_equal(ours, theirs)
    np.testing.assert_allclose(ours_params, their_params, rtol=1e-12, atol=1e-14)
    assert sched.state_dict() == tsched.state_dict()


def test_reduce_lr_on_plateau_takes_a_plugrad_tensor_metric():
    opt = _setup(plugrad)
    sched = plugrad.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0)
    sched.step(plugrad.tensor(1.0))
    sched.step(plugrad.tensor(2.0))
    assert sched.get_last_lr() == pytest.approx([0.01, 0.002])


STATEFUL = [c for c in CASES if c[0] not in ("MultiplicativeLR",) and "scale_fn" not in c[1]]


@pytest.mark.parametrize("name, kwargs", STATEFUL, ids=[f"{n}-{i}" for i, (n, _) in enumerate(STATEFUL)])
def test_state_dict_matches_pytorch_and_resumes(name, kwargs):
    def first_half(lib):
        opt = _setup(lib)
        sched = _build(lib, opt, name, kwargs)
        for _ in range(13):
            opt.step()
            sched.step()
        return opt, sched

    opt, sched = first_half(plugrad)
    topt, tsched = first_half(torch)
    state, tstate = sched.state_dict(), tsched.state_dict()
    _compare(state, tstate)
    opt2 = _setup(plugrad)
    sched2 = _build(plugrad, opt2, name, kwargs)
    opt2.load_state_dict(opt.state_dict())
    sched2.load_state_dict(state)
    for _ in range(20):
        opt.step()
        sched.step()
        opt2.step()
        sched2.step()
        tsched.step()
        assert sched2.get_last_lr() == sched.get_last_lr()
        np.testing.assert_allclose(sched2.get_last_lr(), tsched.get_last_lr(), rtol=1e-12)


def _compare(ours, theirs):
    """Equal state dicts: same keys, numbers equal to 1e-12, nested dicts/lists alike."""
    if isinstance(theirs, dict):
        assert sorted(ours) == sorted(theirs)
        for k in theirs:
            _compare(ours[k], theirs[k])
    elif isinstance(theirs, (list, tuple)):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _compare(a, b)
    elif isinstance(theirs, float) and not math.isinf(theirs):
        assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-15)
    else:
        assert ours == theirs


@pytest.mark.parametrize("name, kwargs", [("LinearLR", {"start_factor": 0.2, "total_iters": 6}),
                                          ("ConstantLR", {"factor": 0.3, "total_iters": 4}),
                                          ("PolynomialLR", {"total_iters": 8, "power": 1.5})])
def test_step_with_epoch_uses_the_closed_form(name, kwargs):
    def jumps(lib):
        opt = _setup(lib)
        sched = _build(lib, opt, name, kwargs)
        out = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for epoch in (3, 1, 7, 12, 5):
                sched.step(epoch)
                out.append(sched.get_last_lr())
        return out
    np.testing.assert_allclose(jumps(plugrad), jumps(torch), rtol=1e-12)


def test_warm_restarts_fractional_epochs():
    def go(lib):
        opt = _setup(lib)
        sched = lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=4, T_mult=3, eta_min=0.01)
        out = []
        for epoch in [0.25, 0.5, 1.75, 4.0, 5.5, 15.9, 16.0, 17.3, 3.0]:
            sched.step(epoch)
            out.append(sched.get_last_lr())
        return out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_allclose(go(plugrad), go(torch), rtol=1e-12)
    with pytest.raises(ValueError, match="Expected non-negative epoch"):
        plugrad.optim.lr_scheduler.CosineAnnealingWarmRestarts(_setup(plugrad), T_0=4).step(-1)


def test_epoch_argument_warns_and_get_lr_outside_step_warns():
    sched = plugrad.optim.lr_scheduler.LinearLR(_setup(plugrad))
    sched.optimizer.step()   # in the right order: the only warning is the epoch argument's
    with pytest.warns(UserWarning, match="epoch parameter in `scheduler.step\\(\\)` was not necessary"):
        sched.step(2)
    with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
        sched.get_lr()


ERRORS = [
    ("LinearLR", {"start_factor": 0.0}), ("LinearLR", {"end_factor": 1.5}), ("ConstantLR", {"factor": 1.5}),
    ("CosineAnnealingWarmRestarts", {"T_0": 0}), ("CosineAnnealingWarmRestarts", {"T_0": 2, "T_mult": 0}),
    ("CosineAnnealingWarmRestarts", {"T_0": 2, "eta_min": "x"}),
    ("CyclicLR", {"base_lr": 0.1, "max_lr": 1.0, "mode": "nope"}),
    ("CyclicLR", {"base_lr": [0.1], "max_lr": 1.0}),
    ("OneCycleLR", {"max_lr": 0.1}), ("OneCycleLR", {"max_lr": 0.1, "total_steps": 0}),
    ("OneCycleLR", {"max_lr": 0.1, "epochs": 0, "steps_per_epoch": 3}),
    ("OneCycleLR", {"max_lr": 0.1, "total_steps": 5, "pct_start": 2.0}),
    ("OneCycleLR", {"max_lr": 0.1, "total_steps": 5, "anneal_strategy": "exp"}),
    ("ReduceLROnPlateau", {"factor": 1.0}), ("ReduceLROnPlateau", {"mode": "avg"}),
    ("ReduceLROnPlateau", {"threshold_mode": "x"}), ("ReduceLROnPlateau", {"min_lr": [0.1]}),
    ("MultiplicativeLR", {"lr_lambda": [lambda e: 1.0]}),
]


@pytest.mark.parametrize("name, kwargs", ERRORS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(ERRORS)])
def test_argument_errors_match_pytorch(name, kwargs):
    with pytest.raises(Exception) as theirs:
        _build(torch, _setup(torch), name, kwargs)
    with pytest.raises(type(theirs.value)) as ours:
        _build(plugrad, _setup(plugrad), name, kwargs)
    assert str(ours.value) == str(theirs.value)


def test_composite_and_momentum_errors_match_pytorch():
    for lib in (plugrad, torch):
        sched = lib.optim.lr_scheduler
        opt, other = _setup(lib), _setup(lib)
        with pytest.raises(ValueError, match="expects at least one scheduler"):
            sched.SequentialLR(opt, [], [])
        with pytest.raises(ValueError, match="number of milestones"):
            sched.SequentialLR(opt, [sched.LinearLR(opt)], [3])
        with pytest.raises(ValueError, match="same optimizer"):
            sched.ChainedScheduler([sched.LinearLR(opt), sched.LinearLR(other)])
        with pytest.raises(ValueError, match="does not support `ReduceLROnPlateau`"):
            sched.ChainedScheduler([sched.ReduceLROnPlateau(opt)])
        plain = lib.optim.Adagrad([lib.zeros(1, requires_grad=True)])
        with pytest.raises(ValueError, match="must support momentum or beta1"):
            sched.OneCycleLR(plain, max_lr=0.1, total_steps=5)
        one = sched.OneCycleLR(_setup(lib), max_lr=0.1, total_steps=2)
        one.optimizer.step()   # in the right order, so that no step-order warning is given
        one.step()
        one.step()
        with pytest.raises(ValueError, match="Tried to step 3 times"):
            one.step()


@pytest.mark.parametrize("scenario", ["scheduler_first", "optimizer_first", "step_overridden", "sequential_chained",
                                      "two_schedulers"])
def test_step_order_warnings_match_pytorch(scenario):
    def run(lib):
        opt = _setup(lib)
        sched = lib.optim.lr_scheduler
        if scenario == "sequential_chained":
            s = _build(lib, opt, "SequentialChained", {})
        elif scenario == "two_schedulers":
            s = sched.ChainedScheduler([sched.LinearLR(opt), sched.ExponentialLR(opt, 0.9)])
        else:
            s = sched.LinearLR(opt)
        if scenario == "step_overridden":
            opt.step = lambda *a, **k: None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for _ in range(3):
                if scenario != "scheduler_first":
                    opt.step()
                s.step()
                if scenario == "scheduler_first":
                    opt.step()
        return [str(w.message) for w in caught]
    assert run(plugrad) == run(torch)


def test_optimizer_with_a_schedule_pickles():
    import pickle
    opt = _setup(plugrad)
    plugrad.optim.lr_scheduler.LinearLR(opt)
    clone = pickle.loads(pickle.dumps(opt))
    assert clone.state_dict()["param_groups"] == opt.state_dict()["param_groups"]
    clone.step()
