"""``affine_grid``, ``grid_sample`` and ``gumbel_softmax`` against PyTorch: values,
``grad_fn`` names, gradients of input, grid and theta, warnings and errors on every
device; the Gumbel-softmax's distribution and straight-through gradient."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import plugrad
import plugrad.nn.functional as PF
import pytest
from hypothesis import given, strategies as st
from scipy import stats

from oracle_cases import TF, check_case, raises_like, torch

pytestmark = pytest.mark.torch_oracle

RNG = np.random.default_rng(11)

SAMPLE = list(itertools.product(["bilinear", "nearest", "bicubic"], ["zeros", "border", "reflection"],
                                [False, True]))


def _grid(shape):
    """Coordinates spread past [-1, 1], so every padding mode matters."""
    return RNG.uniform(-1.4, 1.4, shape)


@pytest.mark.parametrize("mode,padding_mode,align_corners", SAMPLE, ids=["-".join(map(str, s)) for s in SAMPLE])
def test_grid_sample_2d_matches_torch(mode, padding_mode, align_corners, device):
    grads = (0, 1) if mode != "nearest" else (0,)
    case = ("grid_sample", lambda F, t, x, g: F.grid_sample(x, g, mode, padding_mode, align_corners),
            [RNG.standard_normal((2, 3, 5, 4)), _grid((2, 3, 6, 2))], grads, False)
    check_case(case, device, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("mode,padding_mode,align_corners", [s for s in SAMPLE if s[0] != "bicubic"])
def test_grid_sample_3d_matches_torch(mode, padding_mode, align_corners, device):
    grads = (0, 1) if mode != "nearest" else (0,)
    case = ("grid_sample 3d", lambda F, t, x, g: F.grid_sample(x, g, mode, padding_mode, align_corners),
            [RNG.standard_normal((2, 2, 3, 4, 5)), _grid((2, 2, 3, 4, 3))], grads, False)
    check_case(case, device, rtol=1e-6, atol=1e-9)


@given(st.integers(1, 2), st.integers(1, 3), st.integers(1, 5), st.integers(1, 5), st.integers(1, 4),
       st.integers(1, 4), st.sampled_from(SAMPLE))
def test_grid_sample_any_shape(n, c, h, w, gh, gw, setting):
    mode, padding_mode, align_corners = setting
    x, g = RNG.standard_normal((n, c, h, w)), _grid((n, gh, gw, 2))
    case = ("grid_sample", lambda F, t, a, b: F.grid_sample(a, b, mode, padding_mode, align_corners), [x, g], (0,),
            False)
    check_case(case, "cpu", rtol=1e-6, atol=1e-9)


def test_grid_sample_float32_and_second_derivative():
    x, g = RNG.standard_normal((1, 2, 4, 4)), _grid((1, 3, 3, 2))
    case = ("f32", lambda F, t, a, b: F.grid_sample(a, b, align_corners=False), [x.astype(np.float32),
                                                                                 g.astype(np.float32)], (0, 1), False)
    check_case(case, "cpu", rtol=1e-4, atol=1e-5)
    xi = plugrad.tensor(x, requires_grad=True)
    gi = plugrad.tensor(RNG.uniform(-0.9, 0.9, (1, 3, 3, 2)), requires_grad=True)
    assert plugrad.autograd.gradcheck(lambda a, b: PF.grid_sample(a, b, align_corners=True), (xi, gi))


@pytest.mark.parametrize("size,shape", [([2, 3, 4, 5], (2, 2, 3)), ([1, 1, 3, 1], (1, 2, 3)),
                                        ([2, 2, 3, 4, 5], (2, 3, 4)), ([1, 1, 2, 3, 3], (1, 3, 4))])
@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid_matches_torch(size, shape, align_corners, device):
    case = ("affine_grid", lambda F, t, th: F.affine_grid(th, size, align_corners), [RNG.standard_normal(shape)],
            (0,), True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_case(case, device, rtol=1e-6, atol=1e-9)


def test_spatial_transformer_round_trip_matches_torch(device):
    """affine_grid then grid_sample, gradients into theta: the usual STN."""
    case = ("stn", lambda F, t, x, th: F.grid_sample(x, F.affine_grid(th, [2, 3, 6, 5], False), align_corners=False),
            [RNG.standard_normal((2, 3, 4, 4)), np.array([[[0.9, 0.2, 0.1], [-0.1, 1.1, 0.0]]] * 2)], (0, 1), False)
    check_case(case, device, rtol=1e-6, atol=1e-9)


def _warnings(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return [(type(w.message), str(w.message)) for w in caught]


def test_default_align_corners_warns_like_torch():
    x, g, th = RNG.standard_normal((1, 1, 2, 2)), _grid((1, 2, 2, 2)), RNG.standard_normal((1, 2, 3))
    assert _warnings(lambda: PF.grid_sample(plugrad.tensor(x), plugrad.tensor(g))) == \
        _warnings(lambda: TF.grid_sample(torch.tensor(x), torch.tensor(g)))
    assert _warnings(lambda: PF.affine_grid(plugrad.tensor(th), [1, 1, 2, 2])) == \
        _warnings(lambda: TF.affine_grid(torch.tensor(th), [1, 1, 2, 2]))
    assert _warnings(lambda: PF.affine_grid(plugrad.tensor(th), [1, 1, 1, 2], True)) == \
        _warnings(lambda: TF.affine_grid(torch.tensor(th), [1, 1, 1, 2], True))


BAD_GRID_SAMPLE = [
    ((1, 1, 3, 3), (1, 2, 2, 2), {"mode": "linear"}),
    ((1, 1, 3, 3), (1, 2, 2, 2), {"padding_mode": "wrap"}),
    ((1, 3, 3), (1, 2, 2), {}),
    ((2, 1, 3, 3), (1, 2, 2, 2), {}),
    ((1, 1, 3, 3), (1, 2, 2, 3), {}),
    ((1, 1, 0, 3), (1, 2, 2, 2), {}),
    ((1, 1, 2, 3, 3), (1, 2, 2, 2, 3), {"mode": "bicubic"}),
    ((1, 1, 3, 3), (1, 2, 2, 2, 2), {}),
]


@pytest.mark.parametrize("xs,gs,kw", BAD_GRID_SAMPLE)
def test_grid_sample_errors_like_torch(xs, gs, kw):
    x, g = np.ones(xs), np.zeros(gs)
    raises_like(lambda: PF.grid_sample(plugrad.tensor(x), plugrad.tensor(g), align_corners=False, **kw),
                lambda: TF.grid_sample(torch.tensor(x), torch.tensor(g), align_corners=False, **kw))


def test_grid_sample_dtype_mismatch_like_torch():
    raises_like(lambda: PF.grid_sample(plugrad.ones(1, 1, 2, 2), plugrad.zeros(1, 1, 1, 2, dtype=plugrad.float64),
                                       align_corners=False),
                lambda: TF.grid_sample(torch.ones(1, 1, 2, 2), torch.zeros(1, 1, 1, 2, dtype=torch.float64),
                                       align_corners=False))


@pytest.mark.parametrize("shape,size", [((1, 2, 3), [1, 1, 2]), ((1, 3, 3), [1, 1, 2, 2]), ((1, 2, 3), [1, 1, 2, 2, 2]),
                                        ((1, 2, 3), [1, 1, 0, 2])])
def test_affine_grid_errors_like_torch(shape, size):
    raises_like(lambda: PF.affine_grid(plugrad.ones(*shape), size, False),
                lambda: TF.affine_grid(torch.ones(*shape), size, False))
    raises_like(lambda: PF.affine_grid(plugrad.ones(1, 2, 3, dtype=plugrad.int64), [1, 1, 2, 2], False),
                lambda: TF.affine_grid(torch.ones(1, 2, 3, dtype=torch.int64), [1, 1, 2, 2], False))


def test_argument_types_and_huge_sizes_like_torch():
    th, x, g = np.ones((1, 2, 3)), np.ones((1, 1, 2, 2)), np.zeros((1, 1, 1, 2))
    for bad in ("yes", 1.0, [True]):
        raises_like(lambda b=bad: PF.affine_grid(plugrad.tensor(th), [1, 1, 2, 2], b),
                    lambda b=bad: TF.affine_grid(torch.tensor(th), [1, 1, 2, 2], b))
        raises_like(lambda b=bad: PF.grid_sample(plugrad.tensor(x), plugrad.tensor(g), align_corners=b),
                    lambda b=bad: TF.grid_sample(torch.tensor(x), torch.tensor(g), align_corners=b))
    for size in ([1, 1.5, 2, 2], [1, 1, 2 ** 62, 2], [1, 1, 2, 2 ** 63 - 1]):
        raises_like(lambda s=size: PF.affine_grid(plugrad.tensor(th), s, False),
                    lambda s=size: TF.affine_grid(torch.tensor(th), s, False))
    raises_like(lambda: PF.grid_sample(plugrad.tensor(1.0), plugrad.tensor(g), align_corners=False),
                lambda: TF.grid_sample(torch.tensor(1.0), torch.tensor(g), align_corners=False))


@pytest.mark.parametrize("mode", ["nearest", "bicubic"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
def test_non_finite_coordinates_like_torch(mode, padding_mode):
    """A NaN, infinite or out-of-int-range coordinate reads nothing (PyTorch's
    safe_downgrade_to_int_range), and an inf in the input stays where it is read."""
    x = RNG.standard_normal((1, 2, 3, 3))
    x[0, 0, 1, 1] = np.inf
    g = np.array([[[[np.nan, 0.2], [np.inf, 0.1], [-np.inf, 0.3], [0.1, 0.2], [5e9, 0.1], [-1.2, 0.4]]]])
    for align_corners in (False, True):
        ours = PF.grid_sample(plugrad.tensor(x), plugrad.tensor(g), mode, padding_mode, align_corners).numpy()
        theirs = TF.grid_sample(torch.tensor(x), torch.tensor(g), mode, padding_mode, align_corners).numpy()
        np.testing.assert_allclose(ours, theirs, equal_nan=True)


# ---- gumbel_softmax -------------------------------------------------------------------------

def test_gumbel_softmax_samples_the_categorical(device):
    """argmax of the relaxed sample ~ Categorical(softmax(logits)) (Gumbel-max); a
    chi-square test on 3000 draws."""
    probs = np.array([0.1, 0.2, 0.3, 0.4])
    logits = plugrad.tensor(np.log(probs), device=device).expand(3000, 4)
    plugrad.manual_seed(2)
    y = PF.gumbel_softmax(logits, tau=0.5)
    assert y.shape == (3000, 4) and y.device.type == device
    np.testing.assert_allclose(y.sum(-1).cpu().numpy(), 1.0, rtol=1e-5)
    counts = np.bincount(y.argmax(-1).cpu().numpy(), minlength=4)
    assert stats.chisquare(counts, probs * 3000).pvalue > 1e-3


def test_gumbel_softmax_soft_sample_is_softmax_of_perturbed_logits():
    """Tau scales the perturbed logits: the soft sample at tau and the log of it at
    another tau agree up to a per-row constant for the same noise."""
    logits = plugrad.randn(5, 6, dtype=plugrad.float64)
    plugrad.manual_seed(9)
    a = PF.gumbel_softmax(logits, tau=1.0)
    plugrad.manual_seed(9)
    b = PF.gumbel_softmax(logits, tau=2.0)
    diff = (a.log() / 2 - b.log()).numpy()
    np.testing.assert_allclose(diff, diff[:, :1] * np.ones((1, 6)), atol=1e-10)


def test_gumbel_softmax_hard_is_one_hot_with_the_soft_gradient(device):
    logits = plugrad.randn(4, 5, dtype=plugrad.float64, device=device, requires_grad=True)
    w = plugrad.randn(4, 5, dtype=plugrad.float64, device=device)
    plugrad.manual_seed(5)
    hard = PF.gumbel_softmax(logits, tau=0.7, hard=True, dim=1)
    (g_hard,) = plugrad.autograd.grad((hard * w).sum(), logits)
    plugrad.manual_seed(5)
    soft = PF.gumbel_softmax(logits, tau=0.7, dim=1)
    (g_soft,) = plugrad.autograd.grad((soft * w).sum(), logits)
    h = hard.detach().cpu().numpy()
    assert set(np.unique(h)) <= {0.0, 1.0} and (h.sum(1) == 1).all()
    assert (h.argmax(1) == soft.detach().cpu().numpy().argmax(1)).all()
    np.testing.assert_allclose(g_hard.cpu().numpy(), g_soft.cpu().numpy(), atol=1e-12)
    assert type(hard.grad_fn).__name__ == "AddBackward0" and type(soft.grad_fn).__name__ == "SoftmaxBackward0"


def test_gumbel_softmax_dim_and_eps_warning_like_torch():
    assert PF.gumbel_softmax(plugrad.zeros(3, 4), dim=0).sum(0).allclose(plugrad.ones(4))
    assert _warnings(lambda: PF.gumbel_softmax(plugrad.zeros(2, 2), eps=1e-5)) == \
        _warnings(lambda: TF.gumbel_softmax(torch.zeros(2, 2), eps=1e-5))
    raises_like(lambda: PF.gumbel_softmax(plugrad.zeros(2, 2), dim=2), lambda: TF.gumbel_softmax(torch.zeros(2, 2),
                                                                                                dim=2))
