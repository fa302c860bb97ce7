"""``embedding_bag``/``EmbeddingBag`` and ``bilinear``/``Bilinear`` against PyTorch:
values, ``grad_fn`` names, gradients of the table, the per-sample weights and the
inputs, errors, reprs and state dicts."""

from __future__ import annotations

import numpy as np
import plugrad
import plugrad.nn as nn
import plugrad.nn.functional as PF
import pytest
from hypothesis import given, strategies as st

from oracle_cases import TF, check_case, raises_like, torch

pytestmark = pytest.mark.torch_oracle

RNG = np.random.default_rng(9)


def randn(*shape):
    return RNG.standard_normal(shape)


IDX = np.array([1, 2, 0, 1, 4, 4, 3])
OFFSETS = np.array([0, 2, 2, 5])   # one empty bag

CASES = [
    (f"embedding_bag {mode} pad={pad} last={last}",
     lambda F, t, w, mode=mode, pad=pad, last=last: F.embedding_bag(t(IDX), w, t(OFFSETS), mode=mode, padding_idx=pad,
                                                                    include_last_offset=last),
     [randn(5, 3)], (0,), False)
    for mode in ("sum", "mean", "max") for pad in (None, 1, -1) for last in (False, True)
] + [
    ("embedding_bag 2-d", lambda F, t, w: F.embedding_bag(t(np.array([[0, 2], [3, 3], [1, 0]])), w), [randn(4, 2)],
     (0,), False),
    ("embedding_bag per_sample_weights", lambda F, t, w, p: F.embedding_bag(t(IDX), w, t(OFFSETS), mode="sum",
                                                                            per_sample_weights=p),
     [randn(5, 3), randn(7)], (0, 1), False),
    ("bilinear", lambda F, t, a, b, w, c: F.bilinear(a, b, w, c), [randn(4, 2), randn(4, 3), randn(5, 2, 3), randn(5)],
     (0, 1, 2, 3), True),
    ("bilinear batch dims no bias", lambda F, t, a, b, w: F.bilinear(a, b, w), [randn(2, 3, 2), randn(2, 3, 4),
                                                                                 randn(5, 2, 4)], (0, 1, 2), True),
    ("torch.bilinear", lambda F, t, a, b, w: (plugrad if F is PF else torch).bilinear(a, b, w), [randn(3), randn(2),
                                                                                               randn(4, 3, 2)],
     (0, 1, 2), False),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_values_grad_fn_and_gradients_match_torch(case, device):
    check_case(case, device, rtol=1e-6, atol=1e-8)


@given(st.lists(st.integers(0, 5), max_size=8), st.lists(st.integers(0, 8), max_size=3),
       st.sampled_from(["sum", "mean", "max"]))
def test_embedding_bag_any_bags(indices, cuts, mode):
    offsets = np.array([0] + sorted(min(c, len(indices)) for c in cuts))
    idx = np.array(indices, dtype=np.int64)
    check_case(("embedding_bag", lambda F, t, w: F.embedding_bag(t(idx, dtype=(plugrad if F is PF else torch).int64),
                                                                 w, t(offsets), mode=mode),
                [randn(6, 2)], (0,), False), "cpu")


ERRORS = [
    ("2-d with offsets", lambda F, lib: F.embedding_bag(lib.tensor([[0, 1]]), lib.ones(3, 2), lib.tensor([0]))),
    ("1-d without offsets", lambda F, lib: F.embedding_bag(lib.tensor([0, 1]), lib.ones(3, 2))),
    ("3-d input", lambda F, lib: F.embedding_bag(lib.tensor([[[0]]]), lib.ones(3, 2))),
    ("bad mode", lambda F, lib: F.embedding_bag(lib.tensor([[0]]), lib.ones(3, 2), mode="min")),
    ("per_sample_weights mean", lambda F, lib: F.embedding_bag(lib.tensor([[0]]), lib.ones(3, 2),
                                                               per_sample_weights=lib.ones(1, 1))),
    ("per_sample_weights shape", lambda F, lib: F.embedding_bag(lib.tensor([[0]]), lib.ones(3, 2), mode="sum",
                                                                per_sample_weights=lib.ones(2))),
    ("weight 1-d", lambda F, lib: F.embedding_bag(lib.tensor([[0]]), lib.ones(3))),
    ("index out of range", lambda F, lib: F.embedding_bag(lib.tensor([[3]]), lib.ones(3, 2))),
    ("offsets start", lambda F, lib: F.embedding_bag(lib.tensor([0, 1]), lib.ones(3, 2), lib.tensor([1]))),
    ("bilinear dims", lambda F, lib: F.bilinear(lib.ones(2, 3), lib.ones(3), lib.ones(1, 3, 3))),
    ("bilinear in1", lambda F, lib: F.bilinear(lib.ones(2, 3), lib.ones(2, 3), lib.ones(1, 2, 3))),
    ("bilinear weight rank", lambda F, lib: F.bilinear(lib.ones(2, 3), lib.ones(2, 3), lib.ones(3, 3))),
    ("EmbeddingBag padding_idx", lambda F, lib: lib.nn.EmbeddingBag(3, 2, padding_idx=3)),
]


@pytest.mark.parametrize("case", ERRORS, ids=[c[0] for c in ERRORS])
def test_errors_match_torch(case):
    _, call = case
    raises_like(lambda: call(PF, plugrad), lambda: call(TF, torch))


@pytest.mark.parametrize("kw", [{}, {"mode": "max", "padding_idx": 1}, {"mode": "sum", "max_norm": 1.0},
                                {"norm_type": 1.0, "padding_idx": -1, "include_last_offset": True}])
def test_embedding_bag_module_matches_torch(kw):
    ours, theirs = nn.EmbeddingBag(5, 3, **kw), torch.nn.EmbeddingBag(5, 3, **kw)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    if "padding_idx" in kw:
        assert not ours.weight.detach().numpy()[kw["padding_idx"]].any()
    w = randn(5, 3).astype(np.float32) * 2
    ours.weight.data = plugrad.tensor(w)
    theirs.weight.data = torch.tensor(w)
    o, t = ours(plugrad.tensor(IDX), plugrad.tensor(OFFSETS)), theirs(torch.tensor(IDX), torch.tensor(OFFSETS))
    np.testing.assert_allclose(o.detach().numpy(), t.detach().numpy(), rtol=1e-5, atol=1e-6)   # float32 sums
    o.sum().backward()
    t.sum().backward()
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(ours.weight.detach().numpy(), theirs.weight.detach().numpy(), rtol=1e-6)


def test_embedding_bag_from_pretrained():
    w = randn(4, 2)
    ours = nn.EmbeddingBag.from_pretrained(plugrad.tensor(w), mode="sum")
    theirs = torch.nn.EmbeddingBag.from_pretrained(torch.tensor(w), mode="sum")
    assert repr(ours) == repr(theirs) and not ours.weight.requires_grad
    x = np.array([[0, 3], [2, 2]])
    np.testing.assert_allclose(ours(plugrad.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy())


def test_bilinear_module_matches_torch():
    ours, theirs = nn.Bilinear(2, 3, 4), torch.nn.Bilinear(2, 3, 4)
    assert repr(ours) == repr(theirs) and repr(nn.Bilinear(1, 1, 1, bias=False)) == repr(
        torch.nn.Bilinear(1, 1, 1, bias=False))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    bound = 1 / np.sqrt(2)
    big = nn.Bilinear(2, 30, 40)
    w = big.weight.detach().numpy()
    assert w.shape == (40, 2, 30) and np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    ours.load_state_dict({k: plugrad.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    a, b = randn(5, 2).astype(np.float32), randn(5, 3).astype(np.float32)
    np.testing.assert_allclose(ours(plugrad.tensor(a), plugrad.tensor(b)).detach().numpy(),
                               theirs(torch.tensor(a), torch.tensor(b)).detach().numpy(), rtol=1e-5, atol=1e-6)


# ---- channel shuffle ----------------------------------------------------------------------------------

SHUFFLE = [
    ("channel_shuffle", lambda F, t, x: F.channel_shuffle(x, 2), [randn(2, 4, 3)], (0,), False),
    ("channel_shuffle 4-d", lambda F, t, x: (plugrad if F is PF else torch).channel_shuffle(x, 3), [randn(1, 6, 2, 2)],
     (0,), False),
]


@pytest.mark.parametrize("case", SHUFFLE, ids=[c[0] for c in SHUFFLE])
def test_channel_shuffle_matches_torch(case, device):
    check_case(case, device)


@pytest.mark.parametrize("call", [lambda F, lib: F.channel_shuffle(lib.zeros(2, 3, 2), 2),
                                  lambda F, lib: F.channel_shuffle(lib.zeros(2, 4), 2)])
def test_channel_shuffle_errors_match_torch(call):
    raises_like(lambda: call(PF, plugrad), lambda: call(TF, torch))


def test_channel_shuffle_module():
    assert repr(nn.ChannelShuffle(3)) == repr(torch.nn.ChannelShuffle(3))
    x = randn(2, 6, 2)
    np.testing.assert_array_equal(nn.ChannelShuffle(3)(plugrad.tensor(x)).numpy(),
                                  torch.nn.ChannelShuffle(3)(torch.tensor(x)).numpy())
