"""``nn.init``'s truncated normal, orthogonal and Dirac fills and the deprecated
underscore-less names, against PyTorch: distributions (Kolmogorov-Smirnov against
SciPy's truncated normal), orthogonality, exact Dirac weights, warnings and errors."""

from __future__ import annotations

import warnings

import numpy as np
import plugrad
import plugrad.nn.init as init
import pytest
from scipy import stats

from oracle_cases import raises_like, torch

pytestmark = pytest.mark.torch_oracle


@pytest.mark.parametrize("mean,std,a,b", [(0.0, 1.0, -2.0, 2.0), (0.5, 2.0, -1.0, 1.0), (0.0, 1.0, 0.5, 3.0),
                                          (1.0, 0.5, 1.5, 4.0)])
def test_trunc_normal_follows_the_truncated_normal(mean, std, a, b, device):
    plugrad.manual_seed(3)
    w = init.trunc_normal_(plugrad.empty(4000, device=device), mean, std, a, b)
    values = w.cpu().numpy().astype(np.float64)
    assert values.min() >= a and values.max() <= b
    ref = stats.truncnorm((a - mean) / std, (b - mean) / std, loc=mean, scale=std)
    assert stats.kstest(values, ref.cdf).pvalue > 1e-3


def test_trunc_normal_is_reproducible_untracked_and_warns_like_torch():
    plugrad.manual_seed(0)
    w = plugrad.nn.Parameter(plugrad.empty(3, 4))
    assert init.trunc_normal_(w) is w and w.grad_fn is None and w.requires_grad
    plugrad.manual_seed(0)
    assert init.trunc_normal_(plugrad.empty(3, 4)).equal(w.detach())
    with pytest.warns(UserWarning, match="more than 2 std"):
        init.trunc_normal_(plugrad.empty(5), mean=10.0)
    with pytest.warns(UserWarning, match="more than 2 std"):
        torch.nn.init.trunc_normal_(torch.empty(5), mean=10.0)


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 4), (6, 2, 3), (2, 3, 2, 2)])
def test_orthogonal_rows_or_columns_are_orthonormal(shape, device):
    w = init.orthogonal_(plugrad.empty(*shape, device=device, dtype=plugrad.float64), gain=2.0)
    m = w.cpu().numpy().reshape(shape[0], -1)
    gram = m @ m.T if m.shape[0] <= m.shape[1] else m.T @ m
    np.testing.assert_allclose(gram, 4.0 * np.eye(gram.shape[0]), atol=1e-10)


def test_orthogonal_is_haar_distributed():
    """The sign fix makes Q's diagonal symmetric around 0 (without it, QR's diagonal
    is biased)."""
    plugrad.manual_seed(1)
    diag = [init.orthogonal_(plugrad.empty(3, 3))[0, 0].item() for _ in range(300)]
    assert abs(np.mean(diag)) < 0.12


def test_orthogonal_errors_and_empty_like_torch():
    raises_like(lambda: init.orthogonal_(plugrad.empty(3)), lambda: torch.nn.init.orthogonal_(torch.empty(3)))
    assert init.orthogonal_(plugrad.empty(0, 3)).shape == (0, 3)


@pytest.mark.parametrize("shape,groups", [((4, 2, 3), 1), ((4, 2, 3, 3), 2), ((3, 5, 2, 3, 4), 1), ((6, 2, 3, 3), 3),
                                          ((2, 4, 5), 1)])
def test_dirac_matches_torch(shape, groups, device):
    ours = init.dirac_(plugrad.full(shape, 7.0, device=device), groups)
    theirs = torch.nn.init.dirac_(torch.full(shape, 7.0), groups)
    np.testing.assert_array_equal(ours.cpu().numpy(), theirs.numpy())


@pytest.mark.parametrize("shape,groups", [((3, 3), 1), ((3, 2, 3), 2)])
def test_dirac_errors_like_torch(shape, groups):
    raises_like(lambda: init.dirac_(plugrad.empty(*shape), groups),
                lambda: torch.nn.init.dirac_(torch.empty(*shape), groups))


DEPRECATED = [("uniform", ()), ("normal", ()), ("constant", (0.5,)), ("xavier_uniform", ()), ("xavier_normal", ()),
              ("kaiming_uniform", ()), ("kaiming_normal", ()), ("orthogonal", ()), ("dirac", ())]


@pytest.mark.parametrize("name,args", DEPRECATED, ids=[d[0] for d in DEPRECATED])
def test_deprecated_names_warn_like_torch_and_fill_like_the_new_ones(name, args):
    shape = (4, 3, 3) if name == "dirac" else (4, 3)
    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        getattr(torch.nn.init, name)(torch.empty(shape), *args)
    with warnings.catch_warnings(record=True) as ours:
        warnings.simplefilter("always")
        plugrad.manual_seed(4)
        w = getattr(init, name)(plugrad.empty(shape), *args)
    assert [(type(m.message), str(m.message)) for m in ours] == [(type(m.message), str(m.message)) for m in theirs]
    assert ours[0].filename == __file__
    plugrad.manual_seed(4)
    assert getattr(init, name + "_")(plugrad.empty(shape), *args).equal(w)
    assert getattr(init, name).__name__ == name


@pytest.mark.parametrize("nonlinearity,param", [("linear", None), ("conv_transpose2d", None), ("sigmoid", None),
                                                ("tanh", None), ("relu", None), ("leaky_relu", None),
                                                ("leaky_relu", 0.2), ("leaky_relu", 3), ("selu", None)])
def test_calculate_gain_matches_torch(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == torch.nn.init.calculate_gain(nonlinearity, param)


@pytest.mark.parametrize("nonlinearity,param", [("softmax", None), ("leaky_relu", "x"), ("leaky_relu", True)])
def test_calculate_gain_errors_like_torch(nonlinearity, param):
    raises_like(lambda: init.calculate_gain(nonlinearity, param),
                lambda: torch.nn.init.calculate_gain(nonlinearity, param))
