"""Ops declared as compositions of other ops (``tril``/``triu`` from a mask, ``gelu``
from ``erf``): PyTorch's values, gradients, second derivatives, grad_fn names and
errors, on every device."""

from __future__ import annotations

import numpy as np
import pytest

import plugrad

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch_oracle


def _on(lib, array, device=None, requires_grad=False):
    kwargs = {"device": device} if lib is plugrad else {}
    return lib.tensor(array, requires_grad=requires_grad, **kwargs)


def _widest_float(device):
    """float64 where the device has it (OpenCL devices may not), else float32."""
    return plugrad.float64 if plugrad.float64 in plugrad.zeros(1, device=device)._backend.dtypes else plugrad.float32


@pytest.mark.parametrize("name", ["tril", "triu"])
@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 3), (4, 1), (0, 2)])
@pytest.mark.parametrize("diagonal", [-2, 0, 1, 5])
def test_triangles_match_pytorch(device, name, shape, diagonal):
    rng = np.random.default_rng(len(shape) * 10 + diagonal)
    a = rng.standard_normal(shape).astype(np.float32)
    g = rng.standard_normal(shape).astype(np.float32)
    x, t = _on(plugrad, a, device, True), _on(torch, a, requires_grad=True)
    y, z = getattr(plugrad, name)(x, diagonal), getattr(torch, name)(t, diagonal)
    np.testing.assert_array_equal(y.detach().cpu().numpy(), z.detach().numpy())
    assert type(y.grad_fn).__name__ == type(z.grad_fn).__name__
    y.backward(_on(plugrad, g, device))
    z.backward(torch.tensor(g))
    np.testing.assert_array_equal(x.grad.cpu().numpy(), t.grad.numpy())


@pytest.mark.parametrize("name", ["tril", "triu"])
def test_triangles_keep_the_dtype_and_have_every_form(device, name):
    ints = np.arange(12).reshape(3, 4)
    for dtype_name in ("int64", "bool"):
        a = ints.astype(dtype_name)
        expected = getattr(torch, name)(torch.tensor(a), 1).numpy()
        x = plugrad.tensor(a, device=device)
        assert getattr(x, name)(1).cpu().numpy().tolist() == expected.tolist()
        out = plugrad.empty(0, dtype=x.dtype, device=device)
        assert getattr(plugrad, name)(x, 1, out=out) is out and out.cpu().numpy().tolist() == expected.tolist()
        assert getattr(x, name + "_")(1) is x and x.cpu().numpy().tolist() == expected.tolist()


@pytest.mark.parametrize("call", [lambda m: m.tril(m.ones(3)), lambda m: m.triu(m.ones(3, 3), 1.5),
                                  lambda m: m.tril(m.ones(3, 3), diagonal="1"), lambda m: m.triu([[1.0]])],
                         ids=["1-d", "float diagonal", "str diagonal", "list input"])
def test_triangle_errors_match_pytorch(call):
    with pytest.raises(Exception) as expected:
        call(torch)
    with pytest.raises(expected.type):
        call(plugrad)


def test_tril_makes_a_causal_mask_as_attention_code_does(device):
    scores = plugrad.zeros(4, 4, device=device)
    mask = plugrad.tril(plugrad.ones(4, 4, device=device))
    probs = scores.masked_fill(mask == 0, float("-inf")).softmax(-1)
    expected = torch.zeros(4, 4).masked_fill(torch.tril(torch.ones(4, 4)) == 0, float("-inf")).softmax(-1)
    np.testing.assert_allclose(probs.cpu().numpy(), expected.numpy(), rtol=1e-6)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_matches_pytorch_to_second_derivatives(device, approximate):
    a = np.linspace(-5, 5, 21)
    dtype = _widest_float(device)
    x = plugrad.tensor(a, dtype=dtype, device=device, requires_grad=True)
    t = torch.tensor(a, dtype=torch.float64 if dtype is plugrad.float64 else torch.float32, requires_grad=True)
    y = plugrad.nn.functional.gelu(x, approximate=approximate)
    z = torch.nn.functional.gelu(t, approximate=approximate)
    tol = 1e-12 if dtype is plugrad.float64 else 1e-6
    np.testing.assert_allclose(y.detach().cpu().numpy(), z.detach().numpy(), rtol=tol, atol=tol)
    assert type(y.grad_fn).__name__ == type(z.grad_fn).__name__ == "GeluBackward0"
    (gy,) = plugrad.autograd.grad(y.sum(), x, create_graph=True)
    (gz,) = torch.autograd.grad(z.sum(), t, create_graph=True)
    np.testing.assert_allclose(gy.detach().cpu().numpy(), gz.detach().numpy(), rtol=tol, atol=tol)
    (ggy,) = plugrad.autograd.grad(gy.sum(), x)
    (ggz,) = torch.autograd.grad(gz.sum(), t)
    np.testing.assert_allclose(ggy.cpu().numpy(), ggz.numpy(), rtol=10 * tol, atol=10 * tol)


def test_gelu_module_and_errors_match_pytorch():
    assert repr(plugrad.nn.GELU()) == repr(torch.nn.GELU())
    assert repr(plugrad.nn.GELU("tanh")) == repr(torch.nn.GELU("tanh"))
    calls = [lambda m: m.nn.functional.gelu(m.arange(3)), lambda m: m.nn.functional.gelu(m.ones(3), approximate="x"),
             lambda m: m.nn.functional.gelu(m.ones(3), approximate=None)]
    for call in calls:
        with pytest.raises(Exception) as expected:
            call(torch)
        with pytest.raises(expected.type):
            call(plugrad)
