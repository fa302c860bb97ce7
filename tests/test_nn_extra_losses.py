"""The losses and distances added for PyTorch parity (kl_div, poisson_nll_loss,
gaussian_nll_loss, the margin family, the multi-label losses, cosine and triplet losses,
pairwise_distance, cosine_similarity, ctc_loss) and their modules, against PyTorch:
values for every reduction, ``grad_fn`` names, gradients, second derivatives, errors.

(Named apart from core/tests/test_nn_losses.py, which covers the original losses: two
test modules of one name cannot be collected together.)"""

from __future__ import annotations

import numpy as np
import plugrad
import plugrad.nn as nn
import plugrad.nn.functional as PF
import pytest
from hypothesis import given, strategies as st

from oracle_cases import TF, check_case, raises_like, torch

pytestmark = [pytest.mark.torch_oracle, pytest.mark.filterwarnings("ignore:reduction. 'mean' divides")]

RNG = np.random.default_rng(3)
REDUCTIONS = ["mean", "sum", "none"]


def randn(*shape):
    return RNG.standard_normal(shape)


def signs(*shape):
    return RNG.choice([-1.0, 1.0], shape)


def probs(*shape):
    p = RNG.uniform(0.05, 1, shape)
    return p / p.sum(-1, keepdims=True)


def cases(reduction):
    r = {"reduction": reduction}
    tgt = probs(3, 4)
    tgt[0, 0] = 0.0   # 0 log 0 = 0
    return [
        ("kl_div", lambda F, t, x, y: F.kl_div(x, y, **r), [np.log(probs(3, 4)), tgt], (0,), True),
        ("kl_div target grad", lambda F, t, x, y: F.kl_div(x, y, **r), [np.log(probs(3, 4)), probs(3, 4)], (0, 1),
         True),
        ("kl_div log_target", lambda F, t, x, y: F.kl_div(x, y, log_target=True, **r),
         [np.log(probs(3, 4)), np.log(probs(3, 4))], (0, 1), True),
        ("poisson_nll_loss", lambda F, t, x, y: F.poisson_nll_loss(x, y, **r), [randn(3, 4), RNG.poisson(2, (3, 4))
                                                                                * 1.0], (0,), True),
        ("poisson_nll_loss rate full", lambda F, t, x, y: F.poisson_nll_loss(x, y, False, True, **r),
         [RNG.uniform(0.5, 3, (3, 4)), RNG.poisson(2, (3, 4)) * 1.0], (0,), True),
        ("gaussian_nll_loss", lambda F, t, x, y, v: F.gaussian_nll_loss(x, y, v, **r),
         [randn(3, 4), randn(3, 4), RNG.uniform(0.1, 2, (3, 4))], (0, 2), True),
        ("gaussian_nll_loss homoscedastic full", lambda F, t, x, y, v: F.gaussian_nll_loss(x, y, v, full=True,
                                                                                           eps=0.3, **r),
         [randn(3, 4), randn(3, 4), RNG.uniform(0.1, 2, (3,))], (0, 2), True),
        ("gaussian_nll_loss float var", lambda F, t, x, y: F.gaussian_nll_loss(x, y, 0.5, **r),
         [randn(3, 4), randn(3, 4)], (0,), False),
        ("margin_ranking_loss", lambda F, t, a, b, y: F.margin_ranking_loss(a, b, y, 0.3, **r),
         [randn(5), randn(5), signs(5)], (0, 1), True),
        ("hinge_embedding_loss", lambda F, t, x, y: F.hinge_embedding_loss(x, y, 0.7, **r),
         [randn(3, 4), signs(3, 4)], (0,), True),
        ("soft_margin_loss", lambda F, t, x, y: F.soft_margin_loss(x, y, **r), [randn(3, 4), signs(3, 4)], (0,),
         True),
        ("multilabel_soft_margin_loss", lambda F, t, x, y, w: F.multilabel_soft_margin_loss(x, y, w, **r),
         [randn(3, 4), RNG.integers(0, 2, (3, 4)) * 1.0, RNG.uniform(0.5, 2, 4)], (0,), True),
        ("multilabel_margin_loss", lambda F, t, x: F.multilabel_margin_loss(x, t(np.array(
            [[3, 0, -1, 1], [1, 2, 3, -1], [-1, 1, 2, 0]])), **r), [randn(3, 4)], (0,), False),
        ("multilabel_margin_loss 1-d", lambda F, t, x: F.multilabel_margin_loss(x, t(np.array([2, 2, 0, -1])), **r),
         [randn(4)], (0,), False),
        # (PyTorch has no second derivative of the multi-class margin losses)
        ("multi_margin_loss", lambda F, t, x: F.multi_margin_loss(x, t(np.array([0, 3, 1])), **r), [randn(3, 4)],
         (0,), False),
        ("multi_margin_loss p2 weight", lambda F, t, x, w: F.multi_margin_loss(x, t(np.array([0, 3, 1])), 2, 0.5, w,
                                                                               **r),
         [randn(3, 4), RNG.uniform(0.5, 2, 4)], (0,), False),
        ("cosine_embedding_loss", lambda F, t, a, b, y: F.cosine_embedding_loss(a, b, y, 0.2, **r),
         [randn(4, 3), randn(4, 3), signs(4)], (0, 1), True),
        ("triplet_margin_loss", lambda F, t, a, p, n: F.triplet_margin_loss(a, p, n, **r),
         [randn(4, 3), randn(4, 3), randn(4, 3)], (0, 1, 2), True),
        ("triplet_margin_loss swap p1", lambda F, t, a, p, n: F.triplet_margin_loss(a, p, n, 2.0, 1.0, swap=True, **r),
         [randn(4, 3), randn(4, 3), randn(4, 3)], (0, 1, 2), False),
        ("triplet_margin_with_distance_loss", lambda F, t, a, p, n: F.triplet_margin_with_distance_loss(
            a, p, n, margin=1.5, swap=True, **r), [randn(4, 3), randn(4, 3), randn(4, 3)], (0, 1, 2), True),
        ("triplet_margin_with_distance_loss cosine", lambda F, t, a, p, n: F.triplet_margin_with_distance_loss(
            a, p, n, distance_function=lambda u, v: 1 - F.cosine_similarity(u, v), **r),
         [randn(4, 3), randn(4, 3), randn(4, 3)], (0, 1, 2), False),
    ]


ALL = [(f"{c[0]} {r}",) + c[1:] for r in REDUCTIONS for c in cases(r)]
ALL += [
    ("kl_div batchmean", lambda F, t, x, y: F.kl_div(x, y, reduction="batchmean"), [np.log(probs(3, 4)), probs(3, 4)],
     (0, 1), True),
    ("pairwise_distance", lambda F, t, a, b: F.pairwise_distance(a, b), [randn(4, 3), randn(4, 3)], (0, 1), True),
    ("pairwise_distance p1 keepdim", lambda F, t, a, b: F.pairwise_distance(a, b, 1.0, 1e-3, True),
     [randn(4, 3), randn(3)], (0, 1), False),
    ("torch.pairwise_distance", lambda F, t, a, b: (plugrad if F is PF else torch).pairwise_distance(a, b),
     [randn(2, 3), randn(2, 3)], (0,), False),
    ("cosine_similarity", lambda F, t, a, b: F.cosine_similarity(a, b), [randn(4, 3), randn(4, 3)], (0, 1), True),
    ("cosine_similarity dim broadcast", lambda F, t, a, b: F.cosine_similarity(a, b, -1, 1e-3),
     [randn(2, 4, 3), randn(4, 3)], (0, 1), True),
    ("cosine_similarity zero vector", lambda F, t, a, b: F.cosine_similarity(a, b), [np.zeros((2, 3)), randn(2, 3)],
     (0, 1), False),
    ("torch.cosine_similarity", lambda F, t, a, b: (plugrad if F is PF else torch).cosine_similarity(a, b, 0),
     [randn(3), randn(3)], (0, 1), False),
]


@pytest.mark.parametrize("case", ALL, ids=[c[0] for c in ALL])
def test_values_grad_fn_and_gradients_match_torch(case, device):
    check_case(case, device, rtol=1e-6, atol=1e-8)


@given(st.integers(1, 4), st.integers(2, 5), st.sampled_from([1, 2]), st.sampled_from(REDUCTIONS))
def test_multi_margin_any_shape(n, c, p, reduction):
    x = RNG.standard_normal((n, c))
    target = RNG.integers(0, c, n)
    check_case(("multi_margin_loss", lambda F, t, a: F.multi_margin_loss(a, t(target), p, reduction=reduction),
                [x], (0,), False), "cpu", atol=1e-8)


@given(st.integers(1, 3), st.integers(1, 5), st.sampled_from(REDUCTIONS))
def test_multilabel_margin_any_targets(n, c, reduction):
    x = RNG.standard_normal((n, c))
    target = RNG.integers(-1, c, (n, c))
    check_case(("multilabel_margin_loss", lambda F, t, a: F.multilabel_margin_loss(a, t(target),
                                                                                    reduction=reduction),
                [x], (0,), False), "cpu", atol=1e-8)


def test_kl_div_mean_warns_like_torch():
    with pytest.warns(UserWarning, match="batchmean"):
        PF.kl_div(plugrad.zeros(2, 2), plugrad.ones(2, 2))


ERRORS = [
    ("kl_div reduction", lambda F, lib: F.kl_div(lib.zeros(2), lib.ones(2), reduction="avg")),
    ("gaussian var size", lambda F, lib: F.gaussian_nll_loss(lib.zeros(2, 3), lib.zeros(2, 3), lib.ones(3, 2))),
    ("gaussian var negative", lambda F, lib: F.gaussian_nll_loss(lib.zeros(2, 3), lib.zeros(2, 3), -lib.ones(2, 3))),
    ("gaussian reduction", lambda F, lib: F.gaussian_nll_loss(lib.zeros(2), lib.zeros(2), lib.ones(2), reduction="x")),
    ("margin_ranking dims", lambda F, lib: F.margin_ranking_loss(lib.zeros(2), lib.zeros(2), lib.ones(1, 2))),
    ("multi_margin p", lambda F, lib: F.multi_margin_loss(lib.zeros(2, 3), lib.tensor([0, 1]), p=3)),
    ("multi_margin target", lambda F, lib: F.multi_margin_loss(lib.zeros(2, 3), lib.tensor([0, 1, 2]))),
    ("multi_margin weight dtype", lambda F, lib: F.multi_margin_loss(lib.zeros(2, 3, dtype=lib.float64),
                                                                      lib.tensor([0, 1]), weight=lib.ones(3))),
    ("multilabel_margin target size", lambda F, lib: F.multilabel_margin_loss(lib.zeros(2, 3), lib.tensor([0, 1]))),
    ("cosine_embedding shapes", lambda F, lib: F.cosine_embedding_loss(lib.zeros(2, 3), lib.zeros(2, 4),
                                                                        lib.ones(2))),
    ("triplet dims", lambda F, lib: F.triplet_margin_loss(lib.zeros(2, 3), lib.zeros(2, 3), lib.zeros(3))),
    ("triplet_with_distance margin", lambda F, lib: F.triplet_margin_with_distance_loss(
        lib.zeros(2, 3), lib.zeros(2, 3), lib.zeros(2, 3), margin=0.0)),
    ("MultiMarginLoss p", lambda F, lib: lib.nn.MultiMarginLoss(p=3)),
    ("TripletMarginWithDistanceLoss margin", lambda F, lib: lib.nn.TripletMarginWithDistanceLoss(margin=-1.0)),
    ("cosine_similarity dim", lambda F, lib: F.cosine_similarity(lib.zeros(2, 3), lib.zeros(2, 3), 2)),
]


@pytest.mark.parametrize("case", ERRORS, ids=[c[0] for c in ERRORS])
def test_errors_match_torch(case):
    _, call = case
    raises_like(lambda: call(PF, plugrad), lambda: call(TF, torch))


MODULES = [
    (lambda nn, lib: nn.KLDivLoss(reduction="batchmean", log_target=True), 2),
    (lambda nn, lib: nn.PoissonNLLLoss(log_input=False, full=True), 2),
    (lambda nn, lib: nn.GaussianNLLLoss(full=True), 3),
    (lambda nn, lib: nn.MarginRankingLoss(0.5), 3),
    (lambda nn, lib: nn.HingeEmbeddingLoss(2.0, reduction="sum"), 2),
    (lambda nn, lib: nn.SoftMarginLoss(), 2),
    (lambda nn, lib: nn.MultiLabelSoftMarginLoss(lib.ones(4)), 2),
    (lambda nn, lib: nn.CosineEmbeddingLoss(0.1), 3),
    (lambda nn, lib: nn.TripletMarginLoss(swap=True), 3),
    (lambda nn, lib: nn.TripletMarginWithDistanceLoss(swap=True), 3),
]


@pytest.mark.parametrize("make, n_args", MODULES)
def test_modules_match_torch(make, n_args):
    ours, theirs = make(nn, plugrad), make(torch.nn, torch)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    arrays = [RNG.uniform(0.2, 2, (3, 4)), RNG.uniform(0.2, 2, (3, 4)), signs(3, 4) if n_args == 3 else None]
    if isinstance(theirs, (torch.nn.MarginRankingLoss, torch.nn.CosineEmbeddingLoss)):
        arrays[2] = signs(3, 4) if isinstance(theirs, torch.nn.MarginRankingLoss) else signs(3)
    if isinstance(theirs, torch.nn.GaussianNLLLoss):
        arrays[2] = RNG.uniform(0.2, 2, (3, 4))
    arrays = arrays[:n_args]
    o = ours(*[plugrad.tensor(a) for a in arrays])
    t = theirs(*[torch.tensor(a) for a in arrays])
    np.testing.assert_allclose(o.numpy(), t.numpy(), rtol=1e-7)


def test_multi_margin_and_multilabel_margin_modules():
    x = randn(3, 4)
    for ours, theirs, target in ((nn.MultiMarginLoss(2, 0.5, plugrad.ones(4, dtype=plugrad.float64)),
                                  torch.nn.MultiMarginLoss(2, 0.5, torch.ones(4, dtype=torch.float64)),
                                  np.array([0, 1, 3])),
                                 (nn.MultiLabelMarginLoss(), torch.nn.MultiLabelMarginLoss(),
                                  np.array([[0, -1, 0, 0], [1, 2, -1, 0], [3, 2, 1, 0]]))):
        assert repr(ours) == repr(theirs) and list(ours.state_dict()) == list(theirs.state_dict())
        np.testing.assert_allclose(ours(plugrad.tensor(x), plugrad.tensor(target)).numpy(),
                                   theirs(torch.tensor(x), torch.tensor(target)).numpy(), rtol=1e-7)


@pytest.mark.parametrize("make", [lambda nn: nn.PairwiseDistance(), lambda nn: nn.PairwiseDistance(1.0, 1e-3, True),
                                  lambda nn: nn.CosineSimilarity(), lambda nn: nn.CosineSimilarity(0, 1e-3)])
def test_distance_modules(make):
    ours, theirs = make(nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    a, b = randn(3, 4), randn(3, 4)
    np.testing.assert_allclose(ours(plugrad.tensor(a), plugrad.tensor(b)).numpy(),
                               theirs(torch.tensor(a), torch.tensor(b)).numpy(), rtol=1e-7)


# ---- CTC ---------------------------------------------------------------------------------------------

def _log_probs(t, n, c):
    x = RNG.standard_normal((t, n, c))
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


CTC = [
    (f"ctc padded {red}", lambda F, t, lp, red=red: F.ctc_loss(lp, t(np.array([[1, 2, 2], [3, 1, 0], [1, 1, 1]])),
                                                               (6, 5, 6), (3, 2, 3), reduction=red),
     [_log_probs(6, 3, 4)], (0,), False)
    for red in REDUCTIONS
] + [
    ("ctc concatenated tensor lengths", lambda F, t, lp: F.ctc_loss(lp, t(np.array([1, 2, 3, 3, 2])),
                                                                    t(np.array([7, 4])), t(np.array([3, 2])), blank=0),
     [_log_probs(7, 2, 4)], (0,), False),
    ("ctc blank 2", lambda F, t, lp: F.ctc_loss(lp, t(np.array([[0, 1], [3, 3]])), (5, 5), (2, 2), blank=2,
                                                reduction="sum"), [_log_probs(5, 2, 4)], (0,), False),
    ("ctc empty target", lambda F, t, lp: F.ctc_loss(lp, t(np.array([[1, 2], [0, 0]])), (4, 3), (2, 0),
                                                     reduction="none"), [_log_probs(4, 2, 3)], (0,), False),
    ("ctc unbatched", lambda F, t, lp: F.ctc_loss(lp, t(np.array([1, 2, 1])), t(np.array(5)), t(np.array(3)),
                                                  reduction="none"), [_log_probs(5, 1, 3)[:, 0]], (0,), False),
    ("ctc impossible", lambda F, t, lp: F.ctc_loss(lp, t(np.array([[1, 1, 1], [2, 1, 2]])), (4, 2), (3, 3),
                                                   reduction="none"), [_log_probs(4, 2, 3)], (0,), False),
    ("ctc impossible zero_infinity", lambda F, t, lp: F.ctc_loss(lp, t(np.array([[1, 1, 1], [2, 1, 2]])), (4, 2),
                                                                 (3, 3), zero_infinity=True),
     [_log_probs(4, 2, 3)], (0,), False),
    ("ctc raw scores", lambda F, t, x: F.ctc_loss(x.log_softmax(2), t(np.array([[1, 2]])), (6,), (2,)),
     [randn(6, 1, 3)], (0,), False),
]


@pytest.mark.parametrize("case", CTC, ids=[c[0] for c in CTC])
def test_ctc_loss_matches_torch(case, device):
    check_case(case, device, rtol=1e-6, atol=1e-8)


@given(st.integers(1, 6), st.integers(1, 3), st.integers(2, 4), st.data())
def test_ctc_loss_any_lengths(t_max, n, c, data):
    in_lens = tuple(data.draw(st.integers(1, t_max)) for _ in range(n))
    tgt_lens = tuple(data.draw(st.integers(0, 3)) for _ in range(n))
    targets = RNG.integers(1, c, (n, max(tgt_lens) + 1))
    zero = data.draw(st.booleans())
    check_case(("ctc", lambda F, t, lp: F.ctc_loss(lp, t(targets), in_lens, tgt_lens, reduction="none",
                                                   zero_infinity=zero),
                [_log_probs(t_max, n, c)], (0,), False), "cpu", atol=1e-8)


CTC_ERRORS = [
    ("input length too long", lambda F, lib: F.ctc_loss(lib.zeros(3, 1, 2), lib.tensor([[1]]), (4,), (1,))),
    ("targets too short", lambda F, lib: F.ctc_loss(lib.zeros(3, 1, 2), lib.tensor([[1]]), (3,), (2,))),
    ("bad reduction", lambda F, lib: F.ctc_loss(lib.zeros(3, 1, 2), lib.tensor([[1]]), (3,), (1,), reduction="x")),
]


@pytest.mark.parametrize("case", CTC_ERRORS, ids=[c[0] for c in CTC_ERRORS])
def test_ctc_errors_match_torch(case):
    _, call = case
    raises_like(lambda: call(PF, plugrad), lambda: call(TF, torch))


def test_ctc_module_matches_torch():
    ours, theirs = nn.CTCLoss(blank=1, zero_infinity=True), torch.nn.CTCLoss(blank=1, zero_infinity=True)
    assert repr(ours) == repr(theirs) and repr(nn.CTCLoss()) == repr(torch.nn.CTCLoss())
    lp = _log_probs(5, 2, 3)
    targets = np.array([[0, 2], [2, 2]])
    o = ours(plugrad.tensor(lp), plugrad.tensor(targets), (5, 4), (2, 2))
    t = theirs(torch.tensor(lp), torch.tensor(targets), (5, 4), (2, 2))
    np.testing.assert_allclose(o.numpy(), t.numpy(), rtol=1e-7)


# ---- pdist, NLLLoss2d ------------------------------------------------------------------------------

PDIST = [(f"pdist p={p}", lambda F, t, x, p=p: (plugrad if F is PF else torch).pdist(x, p), [randn(5, 3)], (0,),
          False) for p in (2.0, 1.0, 0.0, 0.5, 3.0, float("inf"))]
PDIST += [("pdist one row", lambda F, t, x: F.pdist(x), [randn(1, 3)], (0,), False),
          ("pdist equal rows", lambda F, t, x: F.pdist(x), [np.zeros((3, 2))], (0,), False)]


@pytest.mark.parametrize("case", PDIST, ids=[c[0] for c in PDIST])
def test_pdist_matches_torch(case, device):
    check_case(case, device, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("call", [lambda F, lib: F.pdist(lib.zeros(3)), lambda F, lib: F.pdist(lib.zeros(3, 2), -1.0)])
def test_pdist_errors_match_torch(call):
    raises_like(lambda: call(PF, plugrad), lambda: call(TF, torch))


def test_nllloss2d_is_nllloss_with_torchs_warning():
    with pytest.warns(FutureWarning, match="NLLLoss2d"):
        ours = nn.NLLLoss2d(ignore_index=1)
    theirs = torch.nn.NLLLoss(ignore_index=1)
    x, t = np.log(probs(2, 4, 5, 3).transpose(0, 3, 1, 2)), RNG.integers(0, 3, (2, 4, 5))
    o = ours(plugrad.tensor(x, requires_grad=True), plugrad.tensor(t))
    assert o.grad_fn.name() == "NllLoss2DBackward0"
    np.testing.assert_allclose(o.detach().numpy(), theirs(torch.tensor(x), torch.tensor(t)).numpy(), rtol=1e-7)
