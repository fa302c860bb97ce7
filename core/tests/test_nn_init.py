"""nn.init: gains and fans against PyTorch, the distributions' bounds and moments, the
default initialisation of Linear/Conv2d, reproducibility and errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import plugrad
import plugrad.nn as nn
from plugrad.nn import init

torch = pytest.importorskip("torch")


@pytest.mark.torch_oracle
@pytest.mark.parametrize("nonlinearity, param", [("linear", None), ("conv2d", None), ("sigmoid", None),
                                                  ("tanh", None), ("relu", None), ("leaky_relu", None),
                                                  ("leaky_relu", 0.2), ("selu", None)])
def test_calculate_gain_matches_torch(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(torch.nn.init.calculate_gain(nonlinearity, param))


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", "a")


@pytest.mark.torch_oracle
@pytest.mark.parametrize("shape", [(3, 5), (4, 3, 2, 2), (6, 2, 3)])
def test_fans_match_torch(shape):
    ours = init._calculate_fan_in_and_fan_out(plugrad.empty(shape))
    assert ours == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(plugrad.empty(3))


def _moments(t):
    a = t.detach().numpy().astype(np.float64)
    return a.min(), a.max(), a.mean(), a.std()


XAVIER_BOUND = 2.0 * math.sqrt(6.0 / (300 + 400))  # gain 2, fan_in 300, fan_out 400
KAIMING_BOUND = 1 / math.sqrt(300)                 # a = sqrt(5): PyTorch's Linear default


@pytest.mark.parametrize("fill, low, high", [
    (lambda t: init.uniform_(t, -2.0, 3.0), -2.0, 3.0),
    (lambda t: init.xavier_uniform_(t, gain=2.0), -XAVIER_BOUND, XAVIER_BOUND),
    (lambda t: init.kaiming_uniform_(t, a=math.sqrt(5)), -KAIMING_BOUND, KAIMING_BOUND),
])
def test_uniform_fills_stay_in_bounds_and_spread(fill, low, high):
    t = plugrad.empty(400, 300)
    fill(t)
    lo, hi, mean, std = _moments(t)
    assert low <= lo and hi <= high
    width = high - low
    assert abs(mean - (low + high) / 2) < 0.01 * width
    assert abs(std - width / math.sqrt(12)) < 0.01 * width


@pytest.mark.parametrize("fill, std", [
    (lambda t: init.normal_(t, 1.5, 0.5), 0.5),
    (lambda t: init.xavier_normal_(t), math.sqrt(2.0 / 700)),
    (lambda t: init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"), math.sqrt(2.0) / math.sqrt(400)),
])
def test_normal_fills_have_the_formula_std(fill, std):
    t = plugrad.empty(400, 300)
    fill(t)
    assert abs(_moments(t)[3] - std) < 0.02 * std


def test_constant_fills_and_eye():
    t = plugrad.empty(3, 4)
    assert (init.constant_(t, 2.5) == 2.5).all()
    assert (init.ones_(t) == 1).all() and not init.zeros_(t).any()
    assert plugrad.equal(init.eye_(t), plugrad.eye(3, 4))
    with pytest.raises(ValueError):
        init.eye_(plugrad.empty(2, 2, 2))


def test_init_is_untracked_and_keeps_the_parameter():
    lin = nn.Linear(3, 2)
    w = lin.weight
    init.normal_(lin.weight)
    assert lin.weight is w and w.is_leaf and w.grad_fn is None


def test_fills_are_reproducible_with_seeds_and_generators():
    plugrad.manual_seed(3)
    a = nn.Linear(5, 4).weight.detach().clone()
    plugrad.manual_seed(3)
    b = nn.Linear(5, 4).weight.detach().clone()
    assert plugrad.equal(a, b)
    g1, g2 = plugrad.Generator().manual_seed(9), plugrad.Generator().manual_seed(9)
    assert plugrad.equal(init.uniform_(plugrad.empty(10), generator=g1), init.uniform_(plugrad.empty(10), generator=g2))


def test_fill_of_a_non_contiguous_view():
    t = plugrad.zeros(4, 6)
    init.uniform_(t[:, ::2], 1.0, 2.0)
    a = t.numpy()
    assert (a[:, 1::2] == 0).all() and (a[:, ::2] >= 1).all()


def test_default_layer_initialisation_bounds():
    lin = nn.Linear(50, 30)
    bound = 1 / math.sqrt(50)
    for p in (lin.weight, lin.bias):
        assert float(p.abs().max()) <= bound
    conv = nn.Conv2d(4, 8, 3, groups=2)
    bound = 1 / math.sqrt(2 * 9)
    for p in (conv.weight, conv.bias):
        assert float(p.abs().max()) <= bound
    big = nn.Linear(400, 400)
    assert float(big.weight.abs().max()) > 0.95 / 20  # spread over the whole range


def test_mode_errors_and_zero_element_warning():
    with pytest.raises(ValueError, match="Mode fan_both not supported"):
        init.kaiming_uniform_(plugrad.empty(3, 3), mode="fan_both")
    with pytest.warns(UserWarning, match="zero-element"):
        init.kaiming_uniform_(plugrad.empty(0, 3))
    with pytest.raises(RuntimeError, match="floating point"):
        init.uniform_(plugrad.zeros(3, dtype=plugrad.int64))
