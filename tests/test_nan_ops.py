"""``nan_to_num``, ``nansum`` and ``nanmean`` against PyTorch: values, dtypes, ``grad_fn``
names, gradients (zero at NaN and infinities) and exception classes, on every device."""

from __future__ import annotations

import numpy as np
import plugrad
import pytest
from op_oracle_support import compare, same_error

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch_oracle

SPECIAL = np.array([[1.5, np.nan, -2.0], [np.inf, -np.inf, 0.0], [np.nan, np.nan, np.nan]], np.float32)


@pytest.mark.parametrize("args", [(), (1.0, 2.0, -3.0), (None, None, -1.0), (0.5,)])
@pytest.mark.parametrize("dtype", ["float32", "float16", "float64"])
def test_nan_to_num_matches_pytorch(device, args, dtype):
    compare(device, lambda m, x: m.nan_to_num(x, *args), [SPECIAL.astype(dtype)], grad=(0,) if dtype != "float16"
            else ())
    compare(device, lambda m, x: x.nan_to_num(*args), [SPECIAL.astype(dtype)])


def test_nan_to_num_of_integers_is_a_copy_and_has_every_form(device):
    compare(device, lambda m, x: m.nan_to_num(x), [np.arange(3)])
    compare(device, lambda m, x: m.nan_to_num(x), [np.array([True, False])])
    x = plugrad.tensor(SPECIAL, device=device)
    expected = torch.tensor(SPECIAL).nan_to_num_(posinf=7.0).numpy()
    assert x.nan_to_num_(posinf=7.0) is x
    np.testing.assert_array_equal(x.cpu().numpy(), expected)
    out = plugrad.empty(0, device=device)
    assert plugrad.nan_to_num(plugrad.tensor(SPECIAL, device=device), out=out) is out
    np.testing.assert_array_equal(out.cpu().numpy(), torch.nan_to_num(torch.tensor(SPECIAL)).numpy())


@pytest.mark.parametrize("name", ["nansum", "nanmean"])
@pytest.mark.parametrize("dim,keepdim", [(None, False), (0, False), (1, True), ((0, 1), False), (-1, False)])
def test_nan_reductions_match_pytorch(device, name, dim, keepdim):
    data = np.where(np.isinf(SPECIAL), 4.0, SPECIAL).astype(np.float32)
    kwargs = {} if dim is None else {"dim": dim, "keepdim": keepdim}
    compare(device, lambda m, x: getattr(m, name)(x, **kwargs), [data], grad=(0,), rtol=1e-6)
    compare(device, lambda m, x: getattr(x, name)(**kwargs, dtype=m.float64), [data], grad=(0,), rtol=1e-6)


def test_nansum_of_integers_and_bools_matches_pytorch(device):
    compare(device, lambda m, x: m.nansum(x), [np.arange(6, dtype=np.int32).reshape(2, 3)])
    compare(device, lambda m, x: m.nansum(x, 1), [np.array([[True, False], [True, True]])])


@pytest.mark.parametrize("call", [
    lambda m: m.nanmean(m.tensor([1, 2])), lambda m: m.nan_to_num(m.ones(2), nan="a"),
    lambda m: m.nansum(m.ones(2), 2), lambda m: m.nansum(m.ones(2), keepdim=1),
])
def test_nan_op_errors_match_pytorch(call):
    same_error(call)
