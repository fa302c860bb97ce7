"""The activations added for PyTorch parity (selu, celu, mish, hardswish, hardsigmoid,
prelu, glu, softsign, tanhshrink, softshrink, hardshrink, threshold, rrelu and the
in-place function forms) and their modules, against PyTorch: values, ``grad_fn`` names,
gradients, second derivatives, errors, module reprs and state dicts."""

from __future__ import annotations

import numpy as np
import plugrad
import plugrad.nn as nn
import plugrad.nn.functional as PF
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

from oracle_cases import TF, check_case, raises_like, torch

pytestmark = pytest.mark.torch_oracle

RNG = np.random.default_rng(11)
#: kinks of the activations (0, +-0.5, +-3, +-1) and large magnitudes
KINKS = np.array([-30.0, -3.0, -2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 3.0, 6.0, 30.0])


def randn(*shape):
    return RNG.standard_normal(shape)


CASES = [
    ("selu", lambda F, t, x: F.selu(x), [KINKS], (0,), True),
    ("selu inplace", lambda F, t, x: F.selu(x * 1, inplace=True), [KINKS], (0,), True),
    ("selu_", lambda F, t, x: F.selu_(x * 1), [KINKS], (0,), True),
    ("celu", lambda F, t, x: F.celu(x, 0.7), [KINKS], (0,), True),
    ("celu inplace", lambda F, t, x: F.celu(x * 1, 1.5, inplace=True), [KINKS], (0,), True),
    ("celu_", lambda F, t, x: F.celu_(x * 1), [KINKS], (0,), False),
    ("elu_", lambda F, t, x: F.elu_(x * 1, 0.5), [KINKS], (0,), True),
    ("leaky_relu_", lambda F, t, x: F.leaky_relu_(x * 1, 0.2), [KINKS], (0,), False),
    ("hardtanh_", lambda F, t, x: F.hardtanh_(x * 1, -2.0, 2.0), [KINKS], (0,), False),
    ("mish", lambda F, t, x: F.mish(x), [KINKS], (0,), True),
    ("mish inplace", lambda F, t, x: F.mish(x * 1, inplace=True), [KINKS], (0,), False),
    ("hardswish", lambda F, t, x: F.hardswish(x), [KINKS], (0,), True),
    ("hardswish inplace", lambda F, t, x: F.hardswish(x * 1, True), [KINKS], (0,), False),
    ("hardsigmoid", lambda F, t, x: F.hardsigmoid(x), [KINKS], (0,), False),   # PyTorch has no second derivative
    ("prelu one", lambda F, t, x, w: F.prelu(x, w), [randn(2, 3, 4), np.array([0.25])], (0, 1), True),
    ("prelu channels", lambda F, t, x, w: F.prelu(x, w), [randn(2, 3, 4), randn(3)], (0, 1), True),
    ("prelu 1-d", lambda F, t, x, w: F.prelu(x, w), [randn(5), np.array([0.3])], (0, 1), False),
    ("prelu 0-d weight", lambda F, t, x, w: F.prelu(x, w), [randn(2, 3), np.array(0.3)], (0, 1), False),
    ("glu", lambda F, t, x: F.glu(x), [randn(3, 4)], (0,), True),
    ("glu dim", lambda F, t, x: F.glu(x, 0), [randn(4, 3)], (0,), True),
    ("softsign", lambda F, t, x: F.softsign(x), [KINKS], (0,), True),
    ("tanhshrink", lambda F, t, x: F.tanhshrink(x), [KINKS], (0,), True),
    ("softshrink", lambda F, t, x: F.softshrink(x), [KINKS], (0,), True),
    ("softshrink lambd", lambda F, t, x: F.softshrink(x, 2.0), [KINKS], (0,), False),
    ("hardshrink", lambda F, t, x: F.hardshrink(x), [KINKS], (0,), True),
    ("hardshrink method", lambda F, t, x: x.hardshrink(1.0), [KINKS], (0,), False),
    ("threshold", lambda F, t, x: F.threshold(x, 0.5, -7.0), [KINKS], (0,), True),
    ("threshold inplace", lambda F, t, x: F.threshold(x * 1, 0.5, -7.0, True), [KINKS], (0,), False),
    ("threshold_", lambda F, t, x: F.threshold_(x * 1, 0.0, 0.25), [KINKS], (0,), False),
    ("rrelu eval", lambda F, t, x: F.rrelu(x), [KINKS], (0,), True),
    ("rrelu eval inplace", lambda F, t, x: F.rrelu(x * 1, 0.1, 0.2, inplace=True), [KINKS], (0,), False),
    ("rrelu_ eval", lambda F, t, x: F.rrelu_(x * 1), [KINKS], (0,), False),
    ("torch.selu", lambda F, t, x: (plugrad if F is PF else torch).selu(x), [KINKS], (0,), False),
    ("torch.celu", lambda F, t, x: (plugrad if F is PF else torch).celu(x, 2.0), [KINKS], (0,), False),
    ("torch.prelu", lambda F, t, x, w: (plugrad if F is PF else torch).prelu(x, w), [randn(2, 3), randn(3)], (0, 1),
     False),
    ("torch.threshold", lambda F, t, x: (plugrad if F is PF else torch).threshold(x, 1.0, 2.0), [KINKS], (0,),
     False),
    ("torch.rrelu", lambda F, t, x: (plugrad if F is PF else torch).rrelu(x), [KINKS], (0,), False),
    ("torch.hardshrink", lambda F, t, x: (plugrad if F is PF else torch).hardshrink(x), [KINKS], (0,), False),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_values_grad_fn_and_gradients_match_torch(case, device):
    check_case(case, device)


@pytest.mark.parametrize("case", [c for c in CASES if not c[0].startswith("torch.")][:14], ids=lambda c: c[0])
def test_float32(case, device):
    """The same in float32 (the dtype of most models)."""
    name, call, arrays, grads, _ = case
    check_case((name, call, [a.astype(np.float32) for a in arrays], grads, False), device, rtol=2e-5, atol=2e-6)


@given(hnp.arrays(np.float64, hnp.array_shapes(max_dims=3, max_side=4),
                  elements=st.floats(-8, 8, allow_nan=False).filter(lambda v: abs(v) not in (0.5, 3.0))))
def test_any_shape(x):
    for fn in ("selu", "celu", "mish", "hardswish", "hardsigmoid", "softsign", "tanhshrink", "softshrink",
               "hardshrink", "rrelu"):
        check_case((fn, lambda F, t, a, fn=fn: getattr(F, fn)(a), [x], (0,), False), "cpu")


def test_rrelu_training_draws_slopes_in_bounds_and_its_gradient_is_the_slope(device):
    x = plugrad.tensor(np.linspace(-4, 4, 200), requires_grad=True, device=device)
    y = PF.rrelu(x, 0.1, 0.3, training=True)
    assert y.grad_fn.name() == "RreluWithNoiseBackward0"
    y.sum().backward()
    xv, yv, gv = x.detach().cpu().numpy(), y.detach().cpu().numpy(), x.grad.cpu().numpy()
    neg = xv < 0
    slopes = yv[neg] / xv[neg]
    assert np.all((slopes >= 0.1) & (slopes <= 0.3)) and len(np.unique(slopes)) > 10
    np.testing.assert_allclose(gv[neg], slopes)
    np.testing.assert_array_equal(yv[~neg], xv[~neg])
    np.testing.assert_array_equal(gv[~neg], 1.0)
    z = x.detach() * 1
    z.requires_grad_()
    w = z * 1
    assert PF.rrelu(w, training=True, inplace=True).grad_fn.name() == "RreluWithNoiseBackward1"


def test_rrelu_module_is_random_in_training_and_deterministic_in_eval():
    m = nn.RReLU(0.1, 0.3)
    x = plugrad.tensor(-np.ones(50))
    assert len(np.unique(m(x).numpy())) > 5
    m.eval()
    np.testing.assert_allclose(m(x).numpy(), -0.2)


ERRORS = [
    ("glu odd", lambda F, lib: F.glu(lib.ones(3))),
    ("glu 0-d", lambda F, lib: F.glu(lib.tensor(1.0))),
    ("softshrink negative", lambda F, lib: F.softshrink(lib.ones(3), -1.0)),
    ("prelu channels", lambda F, lib: F.prelu(lib.ones(2, 3), lib.ones(2))),
    ("prelu 1-d channels", lambda F, lib: F.prelu(lib.ones(3), lib.ones(3))),
    ("celu alpha 0", lambda F, lib: F.celu(lib.ones(3), 0.0)),
    ("rrelu bounds", lambda F, lib: F.rrelu(lib.ones(3), 0.5, 0.1)),
    ("selu long", lambda F, lib: F.selu(lib.tensor([1, 2]))),
    ("mish long", lambda F, lib: F.mish(lib.tensor([1, 2]))),
    ("hardswish long", lambda F, lib: F.hardswish(lib.tensor([1, 2]))),
    ("hardshrink long", lambda F, lib: F.hardshrink(lib.tensor([1, 2]))),
    ("selu_ leaf", lambda F, lib: F.selu_(lib.ones(3, requires_grad=True))),
    ("softmax2d 1-d", lambda F, lib: lib.nn.Softmax2d()(lib.ones(3))),
]


@pytest.mark.parametrize("case", ERRORS, ids=[c[0] for c in ERRORS])
def test_errors_match_torch(case):
    _, call = case
    raises_like(lambda: call(PF, plugrad), lambda: call(TF, torch))


def test_threshold_keeps_integer_dtype():
    for lib, F in ((plugrad, PF), (torch, TF)):
        r = F.threshold(lib.tensor([1, 2, 3]), 1.5, 0.5)
        assert str(r.dtype).endswith("int64") and r.tolist() == [0, 2, 3]


MODULES = [
    lambda nn: nn.SELU(), lambda nn: nn.SELU(True), lambda nn: nn.CELU(), lambda nn: nn.CELU(2.0, True),
    lambda nn: nn.Mish(), lambda nn: nn.Mish(inplace=True), lambda nn: nn.Hardswish(), lambda nn: nn.Hardsigmoid(True),
    lambda nn: nn.PReLU(), lambda nn: nn.PReLU(3, 0.1), lambda nn: nn.GLU(), lambda nn: nn.GLU(2),
    lambda nn: nn.Softsign(),
    lambda nn: nn.Tanhshrink(), lambda nn: nn.Softshrink(), lambda nn: nn.Hardshrink(0.25),
    lambda nn: nn.Threshold(0.1, 20), lambda nn: nn.Threshold(0.1, 20.0, True), lambda nn: nn.RReLU(),
    lambda nn: nn.RReLU(0.1, 0.3, True), lambda nn: nn.Softmax2d(),
]


@pytest.mark.parametrize("make", MODULES)
def test_modules_repr_state_dict_and_forward(make):
    ours, theirs = make(nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for (_, a), (_, b) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    ours.eval()
    theirs.eval()
    x = randn(2, 3, 4, 2).astype(np.float32)
    np.testing.assert_allclose(ours(plugrad.tensor(x)).detach().numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-6, atol=1e-7)


def test_prelu_module_learns_its_weight():
    m = nn.PReLU(3)
    m(plugrad.tensor(randn(2, 3, 4).astype(np.float32))).sum().backward()
    assert m.weight.grad.shape == (3,)


# ---- channel-wise and alpha dropout -------------------------------------------------------------

@pytest.mark.parametrize("fname, shape", [("dropout1d", (4, 6, 5)), ("dropout1d", (6, 5)), ("dropout2d", (3, 5, 2, 3)),
                                          ("dropout2d", (3, 5, 4)), ("dropout3d", (2, 5, 2, 2, 2)),
                                          ("dropout3d", (5, 2, 2, 3))])
@pytest.mark.filterwarnings("ignore:dropout2d. Received a 3D input")
def test_feature_dropout_zeroes_whole_channels_and_scales_the_rest(fname, shape, device):
    p = 0.4
    x = plugrad.tensor(RNG.uniform(1, 2, shape), requires_grad=True, device=device)
    y = getattr(PF, fname)(x, p)
    assert y.grad_fn.name() == type(getattr(TF, fname)(torch.ones(shape, requires_grad=True), p).grad_fn).__name__
    y.sum().backward()
    batched = len(shape) == {"dropout1d": 3, "dropout2d": 3, "dropout3d": 5}[fname] or fname == "dropout2d"
    lead = 2 if batched else 1
    ratio = (y.detach().cpu().numpy() / x.detach().cpu().numpy()).reshape(shape[:lead] + (-1,))
    per_channel = ratio[..., 0]
    np.testing.assert_allclose(ratio, np.broadcast_to(per_channel[..., None], ratio.shape))
    assert set(np.round(per_channel.reshape(-1), 6)) <= {0.0, round(1 / (1 - p), 6)}
    np.testing.assert_allclose(x.grad.cpu().numpy().reshape(ratio.shape), ratio)


@pytest.mark.parametrize("fname", ["alpha_dropout", "feature_alpha_dropout"])
def test_alpha_dropout_takes_torchs_two_values_and_keeps_mean_and_variance(fname, device):
    zeros = (400, 50)
    ours = np.unique(np.round(getattr(PF, fname)(plugrad.zeros(zeros, device=device), 0.3, True).cpu().numpy(), 6))
    theirs = np.unique(np.round(getattr(TF, fname)(torch.zeros(zeros), 0.3, True).numpy(), 6))
    np.testing.assert_array_equal(ours, theirs)
    x = plugrad.tensor(RNG.standard_normal((2000, 50)), device=device)
    y = getattr(PF, fname)(x, 0.2, True).cpu().numpy()
    assert abs(y.mean()) < 0.05 and abs(y.var() - 1) < 0.1
    assert type(getattr(PF, fname)(x.requires_grad_(), 0.2, True).grad_fn).__name__ == "AddBackward0"


@pytest.mark.parametrize("fname", ["dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout"])
def test_dropout_identity_cases_and_p_one(fname):
    shape = {"dropout3d": (2, 3, 2, 2, 2), "dropout2d": (2, 3, 2, 2)}.get(fname, (2, 3, 4))
    x = plugrad.tensor(RNG.standard_normal(shape))
    fn = getattr(PF, fname)
    assert fn(x, 0.5, False) is x and fn(x, 0.0, True) is x
    np.testing.assert_array_equal(fn(x, 1.0, True).numpy(), getattr(TF, fname)(torch.tensor(x.numpy()), 1.0,
                                                                                 True).numpy())
    y = x.clone()
    assert fn(y, 1.0, True, inplace=True) is y and not y.numpy().any()


DROPOUT_ERRORS = [
    ("dropout1d p", lambda F, lib: F.dropout1d(lib.ones(2, 3, 4), 1.5)),
    ("dropout1d rank", lambda F, lib: F.dropout1d(lib.ones(2, 3, 4, 5))),
    ("alpha_dropout p", lambda F, lib: F.alpha_dropout(lib.ones(2), -0.1)),
    ("feature_alpha_dropout 1-d", lambda F, lib: F.feature_alpha_dropout(lib.ones(3), 0.5, True)),
    ("Dropout2d p", lambda F, lib: lib.nn.Dropout2d(2.0)),
]


@pytest.mark.parametrize("case", DROPOUT_ERRORS, ids=[c[0] for c in DROPOUT_ERRORS])
def test_dropout_errors_match_torch(case):
    _, call = case
    raises_like(lambda: call(PF, plugrad), lambda: call(TF, torch))


def test_dropout2d_warns_as_torch_does():
    with pytest.warns(UserWarning, match="Received a 3D input to dropout2d"):
        PF.dropout2d(plugrad.ones(2, 3, 4))
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout2d"):
        PF.dropout2d(plugrad.ones(2, 3))


@pytest.mark.parametrize("make, shape", [(lambda nn: nn.Dropout1d(), (2, 3, 4)),
                                         (lambda nn: nn.Dropout2d(0.3, True), (2, 3, 2, 2)),
                                         (lambda nn: nn.Dropout3d(0.2), (2, 3, 2, 2, 2)),
                                         (lambda nn: nn.AlphaDropout(), (2, 3)),
                                         (lambda nn: nn.FeatureAlphaDropout(0.1), (2, 3, 4))])
def test_dropout_modules_repr_and_eval(make, shape):
    ours, theirs = make(nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    ours.eval()
    x = plugrad.ones(*shape)
    assert ours(x) is x
