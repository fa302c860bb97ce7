"""``x ** e`` for the scalar exponents PyTorch's CPU kernel computes with products
(2, 3, -1, -2, and -0.5 as ``1/sqrt``): the cpu and opencl devices compute them the same
way, so the results are PyTorch's bits (and cost a multiply, not a general ``pow``); the
example pylist device, which computes in Python floats, is checked for closeness."""

import numpy as np
import pytest
import torch

import plugrad

EXPONENTS = [2, 3, -1, -2, -0.5, 2.0, 3.0, -1.0, -2.0]


def _values():
    rng = np.random.default_rng(0)
    v = np.concatenate([rng.standard_normal(4000) * 10, rng.standard_normal(100) * 1e12,
                        [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-20, 3e38, -3e38, 1e-40]])
    return v.astype(np.float32)


def _same(got, want):
    """Equal values, NaN where NaN (PyTorch and NumPy disagree on the sign bit of a NaN)."""
    g = got.to(plugrad.float64).cpu().numpy()
    w = want.double().numpy()
    bad = ~((g == w) & (np.signbit(g) == np.signbit(w)) | np.isnan(g) & np.isnan(w))
    assert not bad.any(), f"{int(bad.sum())} elements differ, e.g. {g[bad][:4]} vs {w[bad][:4]}"


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
@pytest.mark.parametrize("exponent", EXPONENTS)
def test_pytorch_bits(device, dtype, exponent):
    d = getattr(plugrad, dtype)
    probe = plugrad.empty(1, device=device)._backend
    if d not in probe.dtypes:
        pytest.skip(f"{device} has no {dtype}")
    v = _values()
    x = plugrad.tensor(v, device=device).to(d)
    t = torch.tensor(v).to(getattr(torch, dtype))
    if dtype == "bfloat16" and exponent == -0.5:
        # PyTorch's bfloat16 rsqrt is an approximation: its specials, within one bfloat16 ulp
        finite = np.isfinite(v) & (v > 0)
        got = (x ** exponent).to(plugrad.float32).cpu().numpy()
        want = (t ** exponent).float().numpy()
        np.testing.assert_allclose(got[finite], want[finite], rtol=2 ** -7)
        _same(x[~plugrad.tensor(finite, device=device)] ** exponent, t[~torch.tensor(finite)] ** exponent)
        return
    if device not in ("cpu", "opencl"):
        # the example device computes pow in Python floats, rounded once: close to PyTorch's
        # values on positive finite numbers (not its bits, nor its signed zeros and infinities)
        keep = np.isfinite(v) & (v > 0)
        np.testing.assert_allclose((x ** exponent).to(plugrad.float64).cpu().numpy()[keep],
                                   (t ** exponent).double().numpy()[keep], rtol=2e-3 if dtype == "float16" else 2e-7)
        return
    _same(x ** exponent, t ** exponent)
    _same(plugrad.pow(x, exponent), torch.pow(t, exponent))


@pytest.mark.parametrize("exponent", [3, -2, 2])
def test_in_place_and_strided_out(device, exponent):
    """``pow_`` writes over its own input (the cube must not square the square), and
    ``out=`` takes a strided destination."""
    v = _values()[:12].reshape(3, 4)
    x = plugrad.tensor(v, device=device)
    t = torch.tensor(v)
    x.pow_(exponent)
    t.pow_(exponent)
    if device not in ("cpu", "opencl"):
        np.testing.assert_allclose(x.cpu().numpy(), t.numpy(), rtol=2e-7)
        return
    _same(x, t)
    dest = plugrad.empty(4, 3, device=device).t()
    plugrad.pow(plugrad.tensor(v, device=device), exponent, out=dest)
    _same(dest, torch.tensor(v) ** exponent)


@pytest.mark.parametrize("exponent", [3, -2, -0.5])
def test_gradient(device, exponent):
    v = np.abs(_values()[:50]) + 0.5
    x = plugrad.tensor(v, device=device, requires_grad=True)
    t = torch.tensor(v, requires_grad=True)
    (x ** exponent).sum().backward()
    (t ** exponent).sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), t.grad.numpy(), rtol=1e-6)
    assert type((x ** exponent).grad_fn).__name__ == type((t ** exponent).grad_fn).__name__ == "PowBackward0"


def test_tensor_exponents_keep_pow(device):
    """A tensor of exponents (even all 3) is the general ``pow``, as in PyTorch, whose
    ``x ** tensor`` has no product special case."""
    v = _values()[:200]
    x = plugrad.tensor(v, device=device)
    e = plugrad.full((200,), 3.0, device=device)
    got = (x ** e).cpu().numpy()
    want = (torch.tensor(v) ** torch.full((200,), 3.0)).numpy()
    np.testing.assert_allclose(got, want, rtol=2e-7, equal_nan=True)
