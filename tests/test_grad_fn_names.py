"""``nn.functional`` ops record PyTorch's ``grad_fn`` and give its values and gradients.

Each case runs in plugrad (on every installed device) and in PyTorch (the oracle, on
the CPU): the result's ``grad_fn`` name, the result, and the gradients of every input
under a non-uniform upstream gradient must match; for the cases marked ``second`` the
gradients of those gradients (a double backward) must match too. Inputs hold the
values where the formulas have kinks (a threshold, zero, a bound) and NaNs, where
PyTorch's choice of gradient is a convention that a composition of other ops would
not reproduce.
"""

from __future__ import annotations

import numpy as np
import plugrad
import plugrad.nn.functional as PF
import pytest

torch = pytest.importorskip("torch")
TF = pytest.importorskip("torch.nn.functional")
pytestmark = [pytest.mark.torch_oracle,
              pytest.mark.filterwarnings("ignore:Using a target size:UserWarning")]   # the broadcast case

RNG = np.random.default_rng(7)
#: kinks and special values of the activations: 0, the default bounds +-1, NaN, large magnitudes
KINKS = np.array([-30.0, -2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 6.0, 30.0, np.nan], np.float32)


def randn(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def probabilities(*shape):
    p = RNG.uniform(0.05, 1.0, shape)
    return (p / p.sum(1, keepdims=True)).astype(np.float32)


def differences(beta):
    """Inputs and targets whose differences sit on, inside and beyond +-beta."""
    x = randn(2, 6)
    d = np.array([[-2 * beta, -beta, -0.5 * beta, 0.0, 0.5 * beta, beta]] * 2, np.float32)
    d[1] *= 3
    return [x, x - d]


# (id, call(F, t, *tensors), arrays, inputs that require grad (indices), second order?); t(values)
# builds a tensor on the device under test
CASES = [
    ("leaky_relu", lambda F, t, x: F.leaky_relu(x, 0.2), [KINKS], (0,), True),
    ("leaky_relu negative slope", lambda F, t, x: F.leaky_relu(x, -0.3), [KINKS], (0,), False),
    ("leaky_relu inplace", lambda F, t, x: F.leaky_relu(x * 1, 0.2, inplace=True), [KINKS], (0,), True),
    ("elu", lambda F, t, x: F.elu(x), [KINKS], (0,), True),
    ("elu alpha 2", lambda F, t, x: F.elu(x, 2.0), [KINKS], (0,), False),
    ("elu inplace", lambda F, t, x: F.elu(x * 1, 0.7, inplace=True), [KINKS], (0,), True),
    ("hardtanh", lambda F, t, x: F.hardtanh(x), [KINKS], (0,), False),
    ("hardtanh bounds", lambda F, t, x: F.hardtanh(x, -0.5, 2.0), [KINKS], (0,), False),
    ("hardtanh inplace", lambda F, t, x: F.hardtanh(x * 1, inplace=True), [KINKS], (0,), False),
    ("relu6", lambda F, t, x: F.relu6(x), [KINKS], (0,), False),
    ("relu6 inplace", lambda F, t, x: F.relu6(x * 1, inplace=True), [KINKS], (0,), False),
    ("silu", lambda F, t, x: F.silu(x), [KINKS], (0,), True),
    ("silu inplace", lambda F, t, x: F.silu(x * 1, inplace=True), [KINKS], (0,), False),
    ("softplus", lambda F, t, x: F.softplus(x), [KINKS], (0,), True),
    ("softplus beta threshold", lambda F, t, x: F.softplus(x, 2.0, 1.0), [KINKS], (0,), True),
    ("logsigmoid", lambda F, t, x: F.logsigmoid(x), [KINKS], (0,), True),
    ("relu", lambda F, t, x: F.relu(x), [KINKS], (0,), True),
    ("softmin", lambda F, t, x: F.softmin(x, 1), [randn(3, 4)], (0,), True),
    ("layer_norm over every dim", lambda F, t, x, w, b: F.layer_norm(x, (2, 3), w, b),
     [randn(2, 3), randn(2, 3), randn(2, 3)], (0, 1, 2), True),
    ("normalize", lambda F, t, x: F.normalize(x), [randn(3, 4)], (0,), False),
    ("mse_loss", lambda F, t, x, y: F.mse_loss(x, y), [randn(2, 6), randn(2, 6)], (0, 1), True),
    ("l1_loss none", lambda F, t, x, y: F.l1_loss(x, y, reduction="none"), [randn(2, 6), randn(2, 6)], (0, 1), False),
    ("l1_loss sum", lambda F, t, x, y: F.l1_loss(x, y, reduction="sum"), [randn(2, 6), randn(2, 6)], (0, 1), False),
    ("smooth_l1_loss", lambda F, t, x, y: F.smooth_l1_loss(x, y), differences(1.0), (0, 1), True),
    ("smooth_l1_loss none beta", lambda F, t, x, y: F.smooth_l1_loss(x, y, reduction="none", beta=0.5),
     differences(0.5), (0, 1), True),
    ("smooth_l1_loss sum", lambda F, t, x, y: F.smooth_l1_loss(x, y, reduction="sum"), differences(1.0), (0,), False),
    ("smooth_l1_loss beta 0", lambda F, t, x, y: F.smooth_l1_loss(x, y, beta=0.0), differences(1.0), (0,), False),
    ("smooth_l1_loss broadcast", lambda F, t, x, y: F.smooth_l1_loss(x, y[0]), differences(1.0), (0, 1), False),
    ("huber_loss", lambda F, t, x, y: F.huber_loss(x, y), differences(1.0), (0, 1), True),
    ("huber_loss none delta", lambda F, t, x, y: F.huber_loss(x, y, reduction="none", delta=0.5),
     differences(0.5), (0, 1), False),
    ("huber_loss sum", lambda F, t, x, y: F.huber_loss(x, y, reduction="sum", delta=2.0), differences(2.0), (1,),
     False),
    ("cross_entropy", lambda F, t, x: F.cross_entropy(x, t([1, 3, 0])), [randn(3, 4)], (0,), True),
    ("cross_entropy 1-d none", lambda F, t, x: F.cross_entropy(x, t(2), reduction="none"), [randn(4)], (0,),
     False),
    ("cross_entropy label smoothing", lambda F, t, x: F.cross_entropy(x, t([1, 3, 0]), label_smoothing=0.2),
     [randn(3, 4)], (0,), False),
    ("cross_entropy 1-d label smoothing none",
     lambda F, t, x: F.cross_entropy(x, t(1), label_smoothing=0.2, reduction="none"), [randn(4)], (0,), False),
    ("cross_entropy probabilities", lambda F, t, x, p: F.cross_entropy(x, p), [randn(3, 4), probabilities(3, 4)],
     (0, 1), True),
    ("cross_entropy probabilities weight smoothing",
     lambda F, t, x, p: F.cross_entropy(x, p, weight=t([1.0, 2.0, 0.5, 1.5]), label_smoothing=0.1),
     [randn(3, 4), probabilities(3, 4)], (0,), False),
    ("cross_entropy 1-d probabilities", lambda F, t, x, p: F.cross_entropy(x, p[0]),
     [randn(4), probabilities(1, 4)], (0,), False),
    ("cross_entropy 1-d probabilities none", lambda F, t, x, p: F.cross_entropy(x, p[0], reduction="none"),
     [randn(4), probabilities(1, 4)], (0,), False),
    ("binary_cross_entropy weight", lambda F, t, x, y: F.binary_cross_entropy(
        x, y, weight=t([1.0, 2.0, 0.5])), [probabilities(2, 3), probabilities(2, 3)], (0, 1), False),
    ("pad reflect 2-d", lambda F, t, x: F.pad(x, (2, 1), mode="reflect"), [randn(2, 5)], (0,), True),
    ("pad reflect 3-d", lambda F, t, x: F.pad(x, (2, 1, 1, 2), mode="reflect"), [randn(2, 4, 5)], (0,), True),
    ("pad reflect 4-d", lambda F, t, x: F.pad(x, (2, 1, 1, 2), mode="reflect"), [randn(1, 2, 4, 5)], (0,), False),
    ("pad reflect 5-d", lambda F, t, x: F.pad(x, (1, 1, 0, 2, 1, 0), mode="reflect"), [randn(1, 1, 3, 4, 5)], (0,),
     False),
    ("pad replicate 2-d", lambda F, t, x: F.pad(x, (3, 1), mode="replicate"), [randn(2, 5)], (0,), True),
    ("pad replicate 4-d", lambda F, t, x: F.pad(x, (2, 1, 1, 3), mode="replicate"), [randn(1, 2, 4, 5)], (0,), False),
    ("pad replicate 5-d", lambda F, t, x: F.pad(x, (1, 2, 2, 0, 1, 1), mode="replicate"), [randn(1, 1, 3, 4, 5)],
     (0,), False),
    ("pad circular 2-d", lambda F, t, x: F.pad(x, (2, 1), mode="circular"), [randn(2, 5)], (0,), True),
    ("pad circular 4-d", lambda F, t, x: F.pad(x, (2, 1, 1, 3), mode="circular"), [randn(1, 2, 4, 5)], (0,), True),
    ("pad circular crop", lambda F, t, x: F.pad(x, (-1, 2, 1, -2), mode="circular"), [randn(1, 2, 4, 5)], (0,),
     False),
    ("pad constant", lambda F, t, x: F.pad(x, (1, 2)), [randn(2, 5)], (0,), False),
    ("adaptive_avg_pool2d 1", lambda F, t, x: F.adaptive_avg_pool2d(x, 1), [randn(1, 2, 4, 5)], (0,), False),
    ("adaptive_avg_pool2d 1 unbatched", lambda F, t, x: F.adaptive_avg_pool2d(x, (1, 1)), [randn(2, 4, 5)], (0,),
     False),
    ("adaptive_avg_pool2d even", lambda F, t, x: F.adaptive_avg_pool2d(x, 2), [randn(1, 2, 4, 6)], (0,), True),
    ("adaptive_avg_pool2d uneven", lambda F, t, x: F.adaptive_avg_pool2d(x, (3, 4)), [randn(1, 2, 5, 7)], (0,),
     True),
    ("adaptive_avg_pool2d larger", lambda F, t, x: F.adaptive_avg_pool2d(x, 5), [randn(2, 3, 3)], (0,), False),
    ("adaptive_avg_pool2d none", lambda F, t, x: F.adaptive_avg_pool2d(x, (None, 3)), [randn(1, 2, 4, 7)], (0,),
     False),
    ("masked_fill tensor value", lambda F, t, x, v: x.masked_fill(t(np.array([True, False, True])), v),
     [randn(2, 3), np.array(2.5, np.float32)], (0, 1), False),
    ("masked_fill tensor value only", lambda F, t, x, v: x.masked_fill(t(np.array([[False], [True]])), v),
     [randn(3), np.array(-1.5, np.float32)], (1,), False),
]


def _run(lib, call, arrays, grads, second, device):
    """The result's grad_fn name, the result, the gradients and (when ``second``) the
    gradients of the gradients' weighted sum, as NumPy arrays."""
    F = PF if lib is plugrad else TF
    dev = {"device": device} if lib is plugrad else {}
    tensors = [lib.tensor(a, requires_grad=i in grads, **dev) for i, a in enumerate(arrays)]
    out = call(F, lambda values: lib.tensor(values, **dev), *tensors)
    name = type(out.grad_fn).__name__
    # the upstream gradient, itself differentiable: a double backward differentiates the
    # gradients with respect to it too (for piecewise linear ops, the only nonzero part)
    weights = lib.tensor(np.linspace(0.5, 1.5, out.numel(), dtype=np.float32).reshape(tuple(out.shape)),
                         requires_grad=second, **dev)
    inputs = [tensors[i] for i in grads]
    firsts = lib.autograd.grad((out * weights).sum(), inputs, create_graph=second)
    result = [out.detach().cpu().numpy()] + [g.detach().cpu().numpy() for g in firsts]
    if second:
        total = sum((g * g).sum() for g in firsts)
        seconds = lib.autograd.grad(total, inputs + [weights], allow_unused=True, materialize_grads=True)
        result += [g.cpu().numpy() for g in seconds]
    return name, result


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_grad_fn_values_and_gradients_match_torch(case, device):
    name, call, arrays, grads, second = case
    ours_name, ours = _run(plugrad, call, arrays, grads, second, device)
    theirs_name, theirs = _run(torch, call, arrays, grads, second, None)
    assert ours_name == theirs_name, f"{name}: grad_fn {ours_name}, PyTorch's {theirs_name}"
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert a.shape == b.shape, f"{name} [{i}]: shape {a.shape}, PyTorch's {b.shape}"
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5, equal_nan=True, err_msg=f"{name} [{i}]")


@pytest.mark.parametrize("fname, slope", [("leaky_relu", -0.1), ("elu", -0.5)])
def test_inplace_backward_with_a_negative_slope_is_refused(fname, slope, device):
    """PyTorch refuses, at backward, the in-place forms whose result no longer tells which
    inputs were negative."""
    x = plugrad.tensor([-1.0, 2.0], requires_grad=True, device=device)
    y = getattr(PF, fname)(x * 1, slope, inplace=True)
    assert y.grad_fn.name() == ("LeakyReluBackward1" if fname == "leaky_relu" else "EluBackward1")
    with pytest.raises(RuntimeError, match="negative"):
        y.sum().backward()


@pytest.mark.parametrize("pads, shape", [((1, 1), (1, 2, 3, 4)), ((1, 1, 1, 1), (4, 5)), ((1, 1), (5,)),
                                         ((), (2, 3)), ((1, 1, 1, 1, 1, 1), (2, 3, 4))])
@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_edge_padding_refuses_what_torch_does_not_support(pads, shape, mode):
    with pytest.raises(NotImplementedError):
        TF.pad(torch.zeros(shape), pads, mode=mode)
    with pytest.raises(NotImplementedError, match=f"Padding size {len(pads)} is not supported"):
        PF.pad(plugrad.zeros(shape), pads, mode=mode)
