"""Group, instance, RMS and local response normalisation (functions and modules) and
BatchNorm3d against PyTorch: values, ``grad_fn`` names, gradients of input, weight and
bias, second derivatives, running statistics, errors, reprs and state dicts."""

from __future__ import annotations

import numpy as np
import plugrad
import plugrad.nn as nn
import plugrad.nn.functional as PF
import pytest
from hypothesis import given, strategies as st

from oracle_cases import TF, check_case, raises_like, torch

pytestmark = pytest.mark.torch_oracle

RNG = np.random.default_rng(5)


def randn(*shape):
    return RNG.standard_normal(shape)


CASES = [
    ("group_norm", lambda F, t, x: F.group_norm(x, 2), [randn(2, 4, 3)], (0,), True),
    ("group_norm affine", lambda F, t, x, w, b: F.group_norm(x, 3, w, b, 1e-3), [randn(2, 6, 2, 2), randn(6), randn(6)],
     (0, 1, 2), True),
    ("group_norm 2-d", lambda F, t, x, w: F.group_norm(x, 1, w), [randn(3, 4), randn(4)], (0, 1), False),
    ("torch.group_norm", lambda F, t, x: (plugrad if F is PF else torch).group_norm(x, 2), [randn(2, 4, 3)], (0,),
     False),
    ("instance_norm", lambda F, t, x: F.instance_norm(x), [randn(2, 3, 4)], (0,), True),
    ("instance_norm affine", lambda F, t, x, w, b: F.instance_norm(x, weight=w, bias=b), [randn(2, 3, 2, 3), randn(3),
                                                                                         randn(3)], (0, 1, 2), True),
    ("instance_norm running", lambda F, t, x: F.instance_norm(x, t(np.zeros(3)), t(np.ones(3)), use_input_stats=False),
     [randn(2, 3, 4)], (0,), False),
    ("rms_norm", lambda F, t, x: F.rms_norm(x, (3,)), [randn(2, 4, 3)], (0,), True),
    ("rms_norm weight eps", lambda F, t, x, w: F.rms_norm(x, [4, 3], w, 1e-3), [randn(2, 4, 3), randn(4, 3)], (0, 1),
     True),
    ("torch.rms_norm", lambda F, t, x: (plugrad if F is PF else torch).rms_norm(x, (3,)), [randn(2, 3)], (0,), False),
    ("local_response_norm", lambda F, t, x: F.local_response_norm(x, 3), [randn(2, 5, 4)], (0,), True),
    ("local_response_norm 4-d", lambda F, t, x: F.local_response_norm(x, 2, 0.1, 0.5, 2.0), [randn(2, 4, 3, 2)], (0,),
     False),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_values_grad_fn_and_gradients_match_torch(case, device):
    check_case(case, device, rtol=1e-6, atol=1e-8)


@given(st.integers(1, 3), st.sampled_from([1, 2, 4]), st.integers(1, 3), st.integers(2, 4))
def test_group_norm_any_shape(n, groups, per_group, length):
    x = RNG.standard_normal((n, groups * per_group, length))
    check_case(("group_norm", lambda F, t, a: F.group_norm(a, groups), [x], (0,), False), "cpu", atol=1e-8)


def test_rms_norm_default_eps_is_the_dtypes_epsilon():
    x = np.full((2, 3), 1e-4, np.float32)
    for dt in ("float32", "float64"):
        ours = PF.rms_norm(plugrad.tensor(x.astype(dt)), (3,)).numpy()
        theirs = TF.rms_norm(torch.tensor(x.astype(dt)), (3,)).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_instance_norm_updates_the_running_statistics_with_the_samples_mean():
    x = randn(3, 2, 5)
    rm, rv = plugrad.zeros(2, dtype=plugrad.float64), plugrad.ones(2, dtype=plugrad.float64)
    trm, trv = torch.zeros(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64)
    PF.instance_norm(plugrad.tensor(x), rm, rv, momentum=0.3)
    TF.instance_norm(torch.tensor(x), trm, trv, momentum=0.3)
    np.testing.assert_allclose(rm.numpy(), trm.numpy())
    np.testing.assert_allclose(rv.numpy(), trv.numpy())


MODULES = [
    (lambda nn: nn.GroupNorm(2, 4), (2, 4, 3)),
    (lambda nn: nn.GroupNorm(1, 4, eps=1e-3, affine=False), (2, 4, 3)),
    (lambda nn: nn.GroupNorm(2, 4, bias=False), (2, 4, 3)),
    (lambda nn: nn.InstanceNorm1d(4), (2, 4, 3)),
    (lambda nn: nn.InstanceNorm1d(4), (4, 3)),
    (lambda nn: nn.InstanceNorm2d(4, affine=True, track_running_stats=True), (2, 4, 3, 2)),
    (lambda nn: nn.InstanceNorm3d(4, momentum=None, track_running_stats=True), (2, 4, 3, 2, 2)),
    (lambda nn: nn.RMSNorm(3), (2, 4, 3)),
    (lambda nn: nn.RMSNorm([4, 3], eps=1e-3, elementwise_affine=False), (2, 4, 3)),
    (lambda nn: nn.LocalResponseNorm(2), (2, 4, 3)),
    (lambda nn: nn.BatchNorm3d(4), (2, 4, 3, 2, 2)),
]


@pytest.mark.parametrize("make, shape", MODULES)
def test_modules_match_torch_in_training_and_eval(make, shape):
    ours, theirs = make(nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for a, b in zip(ours.state_dict().values(), theirs.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    x = RNG.standard_normal(shape).astype(np.float32)
    for _ in range(2):
        xo, xt = plugrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        yo, yt = ours(xo), theirs(xt)
        np.testing.assert_allclose(yo.detach().numpy(), yt.detach().numpy(), rtol=2e-5, atol=2e-5)
        yo.sum().backward()
        yt.sum().backward()
        np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=2e-4, atol=2e-5)
        for a, b in zip(ours.state_dict().values(), theirs.state_dict().values()):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
        ours.eval()
        theirs.eval()


ERRORS = [
    ("group_norm groups", lambda F, lib: F.group_norm(lib.ones(2, 3, 4), 2)),
    ("group_norm 1-d", lambda F, lib: F.group_norm(lib.ones(3), 1)),
    ("group_norm weight", lambda F, lib: F.group_norm(lib.ones(2, 4, 3), 2, lib.ones(3))),
    ("GroupNorm channels", lambda F, lib: lib.nn.GroupNorm(3, 4)),
    ("rms_norm shape", lambda F, lib: F.rms_norm(lib.ones(2, 3), (2,))),
    ("instance_norm one element", lambda F, lib: F.instance_norm(lib.ones(2, 3, 1))),
    ("InstanceNorm1d rank", lambda F, lib: lib.nn.InstanceNorm1d(3)(lib.ones(1, 3, 2, 2))),
    ("InstanceNorm1d affine channels", lambda F, lib: lib.nn.InstanceNorm1d(3, affine=True)(lib.ones(1, 4, 2))),
    ("local_response_norm 2-d", lambda F, lib: F.local_response_norm(lib.ones(2, 3), 2)),
    ("BatchNorm3d rank", lambda F, lib: lib.nn.BatchNorm3d(3)(lib.ones(2, 3, 2, 2))),
]


@pytest.mark.parametrize("case", ERRORS, ids=[c[0] for c in ERRORS])
def test_errors_match_torch(case):
    _, call = case
    raises_like(lambda: call(PF, plugrad), lambda: call(TF, torch))
