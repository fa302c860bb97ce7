"""Loss functions and loss modules against PyTorch: values for every reduction,
gradients for input and target, second derivatives, grad_fn names and the errors
raised for mismatched shapes, dtypes and bad arguments."""

from __future__ import annotations

import numpy as np
import pytest

import plugrad
import plugrad.nn as nn
import plugrad.nn.functional as F
from nn_support import assert_close, pair

torch = pytest.importorskip("torch")
TF = torch.nn.functional
pytestmark = pytest.mark.torch_oracle

RNG = np.random.default_rng(7)
REDUCTIONS = ["mean", "sum", "none"]


def compare(pg_loss, torch_loss, inputs, targets, rtol=1e-7, atol=1e-10, same_name=True):
    """``inputs`` get gradients; ``targets`` are passed as they are (arrays become tensors
    without gradients)."""
    tt, pp = zip(*(pair(torch, a) for a in inputs))
    t_targets = [torch.tensor(a) if isinstance(a, np.ndarray) else a for a in targets]
    p_targets = [plugrad.tensor(a) if isinstance(a, np.ndarray) else a for a in targets]
    to, po = torch_loss(*tt, *t_targets), pg_loss(*pp, *p_targets)
    assert_close(po, to, rtol, atol)
    if same_name:
        assert po.grad_fn.name() == type(to.grad_fn).__name__
    g = RNG.standard_normal(to.shape)
    to.backward(torch.tensor(g))
    po.backward(plugrad.tensor(g))
    for t, p in zip(tt, pp):
        assert_close(p.grad, t.grad, rtol, atol)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss"])
def test_regression_losses_input_and_target_grads(name, reduction):
    x, y = RNG.standard_normal((4, 3)), RNG.standard_normal((4, 3))
    compare(lambda a, b: getattr(F, name)(a, b, reduction=reduction),
            lambda a, b: getattr(TF, name)(a, b, reduction=reduction), [x, y], [])


def test_huber_loss():
    x, y = RNG.standard_normal((5, 2)) * 2, RNG.standard_normal((5, 2))
    compare(lambda a: F.huber_loss(a, plugrad.tensor(y), delta=0.7),
            lambda a: TF.huber_loss(a, torch.tensor(y), delta=0.7), [x], [])


def test_mse_broadcast_warns_and_promotes_like_torch():
    x = plugrad.randn(4, 3)
    with pytest.warns(UserWarning, match="different to the input size"):
        r = F.mse_loss(x, plugrad.ones(3))
    assert r.dtype == plugrad.float32
    assert F.mse_loss(x, plugrad.ones(4, 3, dtype=plugrad.float64)).dtype == plugrad.float64
    with pytest.raises(RuntimeError), pytest.warns(UserWarning):
        F.mse_loss(x, plugrad.ones(5))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore_index", [-100, 1])
def test_cross_entropy_class_indices(reduction, weighted, ignore_index):
    x = RNG.standard_normal((6, 4))
    t = np.array([0, 1, 3, 2, 1, 1])
    w = RNG.uniform(0.5, 2, 4) if weighted else None

    def run(lib, lib_f):
        weight = None if w is None else lib.tensor(w)
        return lambda a, b: lib_f.cross_entropy(a, b, weight=weight, ignore_index=ignore_index, reduction=reduction)
    compare(run(plugrad, F), run(torch, TF), [x], [t])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_label_smoothing(reduction, weighted):
    x = RNG.standard_normal((5, 3))
    t = np.array([0, 2, -100, 1, 2])
    w = RNG.uniform(0.5, 2, 3) if weighted else None

    def run(lib, lib_f):
        weight = None if w is None else lib.tensor(w)
        return lambda a, b: lib_f.cross_entropy(a, b, weight=weight, reduction=reduction, label_smoothing=0.2)
    compare(run(plugrad, F), run(torch, TF), [x], [t])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_class_probabilities(reduction, smoothing):
    x = RNG.standard_normal((4, 3))
    p = RNG.uniform(0, 1, (4, 3))
    p /= p.sum(1, keepdims=True)
    w = RNG.uniform(0.5, 2, 3)

    def run(lib, lib_f):
        return lambda a, b: lib_f.cross_entropy(a, b, weight=lib.tensor(w), reduction=reduction,
                                                label_smoothing=smoothing)
    compare(run(plugrad, F), run(torch, TF), [x], [p])


def test_cross_entropy_spatial_and_unbatched():
    x = RNG.standard_normal((2, 3, 4, 5))
    t = RNG.integers(0, 3, (2, 4, 5))
    for reduction in REDUCTIONS:
        compare(lambda a, b, r=reduction: F.cross_entropy(a, b, reduction=r),
                lambda a, b, r=reduction: TF.cross_entropy(a, b, reduction=r), [x], [t])
    compare(lambda a, b: F.cross_entropy(a, b), lambda a, b: TF.cross_entropy(a, b), [RNG.standard_normal(4)],
            [np.array(2)])


def test_nll_loss_all_ignored_mean_is_nan_like_torch():
    x = plugrad.randn(2, 3).log_softmax(1)
    r = F.nll_loss(x, plugrad.tensor([-100, -100]))
    assert bool(r.isnan())
    assert bool(TF.nll_loss(torch.randn(2, 3), torch.tensor([-100, -100])).isnan())


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss(reduction):
    x = np.log(RNG.dirichlet(np.ones(4), 5))
    t = np.array([3, 0, 1, 1, 2])
    compare(lambda a, b: F.nll_loss(a, b, reduction=reduction), lambda a, b: TF.nll_loss(a, b, reduction=reduction),
            [x], [t])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy_input_and_target_grads(reduction, weighted):
    x = RNG.uniform(0.05, 0.95, (4, 3))
    y = RNG.uniform(0, 1, (4, 3))
    w = RNG.uniform(0.5, 2, (4, 3)) if weighted else None

    def run(lib, lib_f):
        weight = None if w is None else lib.tensor(w)
        return lambda a, b: lib_f.binary_cross_entropy(a, b, weight=weight, reduction=reduction)
    compare(run(plugrad, F), run(torch, TF), [x, y], [])


def test_binary_cross_entropy_clamps_logs_at_minus_100():
    x = np.array([0.0, 1.0, 0.5])
    y = np.array([1.0, 0.0, 1.0])
    assert_close(F.binary_cross_entropy(plugrad.tensor(x), plugrad.tensor(y)),
                 TF.binary_cross_entropy(torch.tensor(x), torch.tensor(y)))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("pos_weight", [False, True])
def test_binary_cross_entropy_with_logits(reduction, pos_weight):
    x = RNG.standard_normal((4, 3)) * 4
    y = RNG.uniform(0, 1, (4, 3))
    pw = RNG.uniform(0.5, 3, 3) if pos_weight else None
    w = RNG.uniform(0.5, 2, 3)

    def run(lib, lib_f):
        return lambda a, b: lib_f.binary_cross_entropy_with_logits(
            a, b, weight=lib.tensor(w), reduction=reduction, pos_weight=None if pw is None else lib.tensor(pw))
    compare(run(plugrad, F), run(torch, TF), [x, y], [])


@pytest.mark.parametrize("loss", ["mse", "bce_logits", "cross_entropy", "bce"])
def test_losses_double_backward(loss):
    x = RNG.uniform(0.1, 0.9, (4, 3))
    y = RNG.uniform(0, 1, (4, 3))
    t = np.array([0, 2, 1, 1])
    fns = {
        "mse": lambda lib_f, a, b, c: lib_f.mse_loss(a * a, b),
        "bce_logits": lambda lib_f, a, b, c: lib_f.binary_cross_entropy_with_logits(a * 3, b),
        "cross_entropy": lambda lib_f, a, b, c: lib_f.cross_entropy(a * 2, c),
        "bce": lambda lib_f, a, b, c: lib_f.binary_cross_entropy(a, b),
    }
    grads = []
    for lib, lib_f in ((torch, TF), (plugrad, F)):
        a = lib.tensor(x, requires_grad=True)
        out = fns[loss](lib_f, a, lib.tensor(y), lib.tensor(t))
        (g,) = lib.autograd.grad(out, (a,), create_graph=True)
        (g * g).sum().backward()
        grads.append(a.grad)
    assert_close(grads[1], grads[0], rtol=1e-6, atol=1e-9)


# ---- errors ----------------------------------------------------------------------------------

def _same_error(fn_pg, fn_torch):
    with pytest.raises(Exception) as expected:
        fn_torch()
    with pytest.raises(type(expected.value)):
        fn_pg()


ERROR_CASES = {
    "target batch mismatch": lambda lib, f: f.nll_loss(lib.randn(4, 3), lib.tensor([0, 1, 2])),
    "target out of bounds": lambda lib, f: f.nll_loss(lib.randn(4, 3), lib.tensor([0, 1, 5, 1])),
    "negative target": lambda lib, f: f.cross_entropy(lib.randn(4, 3), lib.tensor([0, 1, -1, 1])),
    "float class target": lambda lib, f: f.cross_entropy(lib.randn(4, 3), lib.tensor([0.0, 1, 2, 1])),
    "int32 target": lambda lib, f: f.nll_loss(lib.randn(4, 3), lib.tensor([0, 1, 2, 1], dtype=lib.int32)),
    "multi-target": lambda lib, f: f.cross_entropy(lib.randn(4, 3), lib.rand(4, 2)),
    "spatial mismatch": lambda lib, f: f.nll_loss(lib.randn(2, 3, 4, 5), lib.zeros(2, 4, 4, dtype=lib.int64)),
    "bce size": lambda lib, f: f.binary_cross_entropy(lib.rand(4, 3), lib.ones(4, 1)),
    "bce range": lambda lib, f: f.binary_cross_entropy(lib.randn(4, 3) * 5, lib.ones(4, 3)),
    "bce target dtype": lambda lib, f: f.binary_cross_entropy(lib.rand(4, 3), lib.ones(4, 3, dtype=lib.int64)),
    "bce logits size": lambda lib, f: f.binary_cross_entropy_with_logits(lib.randn(4, 3), lib.ones(4, 1)),
    "bce logits int target": lambda lib, f: f.binary_cross_entropy_with_logits(
        lib.randn(4, 3), lib.ones(4, 3, dtype=lib.int64)),
    "bad reduction": lambda lib, f: f.mse_loss(lib.randn(2), lib.randn(2), reduction="avg"),
    "bad reduction nll": lambda lib, f: f.nll_loss(lib.randn(2, 3), lib.tensor([0, 1]), reduction="avg"),
    "label smoothing range": lambda lib, f: f.cross_entropy(lib.randn(2, 3), lib.tensor([0, 1]), label_smoothing=2.0),
}


@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_loss_errors_have_torch_classes(case):
    fn = ERROR_CASES[case]
    _same_error(lambda: fn(plugrad, F), lambda: fn(torch, TF))


def test_loss_error_messages_say_what_was_wrong():
    with pytest.raises(ValueError, match=r"Expected input batch_size \(4\) to match target batch_size \(3\)"):
        F.cross_entropy(plugrad.randn(4, 3), plugrad.tensor([0, 1, 2]))
    with pytest.raises(IndexError, match="Target 5 is out of bounds"):
        F.cross_entropy(plugrad.randn(4, 3), plugrad.tensor([0, 1, 5, 1]))
    with pytest.raises(ValueError, match="that is different to the input size"):
        F.binary_cross_entropy(plugrad.rand(4), plugrad.rand(4, 1))


# ---- modules -----------------------------------------------------------------------------------

def test_loss_modules_match_functional_and_repr():
    x, y = plugrad.randn(4, 3), plugrad.tensor([0, 2, 1, 1])
    assert plugrad.equal(nn.CrossEntropyLoss(label_smoothing=0.1)(x, y),
                         F.cross_entropy(x, y, label_smoothing=0.1))
    w = plugrad.rand(3)
    assert plugrad.equal(nn.NLLLoss(weight=w, reduction="sum")(x.log_softmax(1), y),
                         F.nll_loss(x.log_softmax(1), y, weight=w, reduction="sum"))
    p = plugrad.rand(4, 3)
    assert plugrad.equal(nn.BCELoss()(x.sigmoid(), p), F.binary_cross_entropy(x.sigmoid(), p))
    assert plugrad.equal(nn.BCEWithLogitsLoss(pos_weight=w)(x, p), F.binary_cross_entropy_with_logits(x, p,
                                                                                                      pos_weight=w))
    assert plugrad.equal(nn.MSELoss(reduction="none")(x, p), F.mse_loss(x, p, reduction="none"))
    assert plugrad.equal(nn.L1Loss()(x, p), F.l1_loss(x, p))
    for cls in ("MSELoss", "L1Loss", "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss"):
        assert repr(getattr(nn, cls)()) == repr(getattr(torch.nn, cls)())
    assert "weight" in dict(nn.CrossEntropyLoss(weight=w).named_buffers())


def test_legacy_size_average_and_reduce_flags():
    x, y = plugrad.randn(3, 2), plugrad.randn(3, 2)
    with pytest.warns(UserWarning):
        loss = nn.MSELoss(size_average=False)
    assert loss.reduction == "sum"
    with pytest.warns(UserWarning):
        assert F.mse_loss(x, y, reduce=False).shape == (3, 2)
