"""plugrad.autograd.functional: vjp, jvp, jacobian, hessian, hvp, vhp, checked
against closed forms and against PyTorch (values and result structure)."""

import numpy as np
import pytest

import plugrad
from plugrad.autograd import functional as F

from autograd_support import assert_same_values, run_both, to_np

X = np.array([[0.5, -1.0, 2.0], [0.3, 0.2, -0.7]])
Y = np.array([1.0, -0.5, 0.25])


def test_jacobian_of_an_elementwise_function_is_diagonal(device):
    x = plugrad.tensor([0.5, 1.0, 2.0], dtype=plugrad.float32, device=device)
    jac = F.jacobian(lambda a: a.exp(), x)
    assert tuple(jac.shape) == (3, 3) and not jac.requires_grad
    np.testing.assert_allclose(to_np(jac), np.diag(np.exp([0.5, 1.0, 2.0])), rtol=1e-6)


def test_jacobian_shapes_and_nesting():
    x = plugrad.tensor(X)
    y = plugrad.tensor(Y)
    jac = F.jacobian(lambda a, b: (a * b, (a ** 2).sum() * b), (x, y))
    assert isinstance(jac, tuple) and len(jac) == 2 and all(len(r) == 2 for r in jac)
    assert tuple(jac[0][0].shape) == (2, 3, 2, 3) and tuple(jac[0][1].shape) == (2, 3, 3)
    assert tuple(jac[1][0].shape) == (3, 2, 3) and tuple(jac[1][1].shape) == (3, 3)
    np.testing.assert_allclose(to_np(jac[1][1]), np.eye(3) * (X ** 2).sum())
    np.testing.assert_allclose(to_np(jac[1][0]), Y[:, None, None] * 2 * X[None])


def test_forward_and_reverse_strategies_agree():
    x = plugrad.tensor(X)
    f = lambda a: (a.sin() * a).sum(0)  # noqa: E731
    rev = F.jacobian(f, x)
    fwd = F.jacobian(f, x, vectorize=True, strategy="forward-mode")
    np.testing.assert_allclose(to_np(fwd), to_np(rev), rtol=1e-12)


def test_hessian_of_a_quadratic_form():
    a = np.array([[2.0, 1.0, 0.0], [1.0, 3.0, -1.0], [0.0, -1.0, 4.0]])
    A = plugrad.tensor(a)
    x = plugrad.tensor([0.3, -0.2, 0.5], dtype=plugrad.float64)
    h = F.hessian(lambda v: v @ A @ v / 2, x)
    np.testing.assert_allclose(to_np(h), a, rtol=1e-12)


def test_vjp_jvp_hvp_vhp_closed_forms():
    xv, vv = np.array([0.5, -1.0, 2.0]), np.array([1.0, 2.0, 3.0])
    x, v = plugrad.tensor(xv, dtype=plugrad.float32), plugrad.tensor(vv, dtype=plugrad.float32)
    f = lambda a: (a ** 3).sum()  # noqa: E731 - gradient 3a^2, Hessian diag(6a)
    out, g = F.vjp(f, x)
    assert out.item() == pytest.approx(np.sum(xv ** 3)) and not g.requires_grad
    np.testing.assert_allclose(to_np(g), 3 * xv ** 2)
    _, jv = F.jvp(lambda a: a ** 3, x, v)
    np.testing.assert_allclose(to_np(jv), 3 * xv ** 2 * vv)
    for fn in (F.hvp, F.vhp):
        _, hv = fn(f, x, v)
        np.testing.assert_allclose(to_np(hv), 6 * xv * vv)


def test_create_graph_keeps_results_differentiable():
    x = plugrad.tensor([0.5, 1.0], requires_grad=True)
    jac = F.jacobian(lambda a: a ** 3, x, create_graph=True)
    assert jac.requires_grad
    jac.sum().backward()
    np.testing.assert_allclose(to_np(x.grad), 6 * np.array([0.5, 1.0]))
    assert not F.jacobian(lambda a: a ** 3, x).requires_grad


def test_strict_mode_refuses_independent_outputs():
    x, y = plugrad.ones(2), plugrad.ones(3)
    with pytest.raises(RuntimeError, match="independent"):
        F.jacobian(lambda a, b: a * 2, (x, y), strict=True)
    jac = F.jacobian(lambda a, b: a * 2, (x, y))
    np.testing.assert_array_equal(to_np(jac[1]), np.zeros((2, 3)))
    with pytest.raises(RuntimeError, match="independent"):
        F.vjp(lambda a, b: a.sum(), (x, y), strict=True)


def test_argument_errors():
    x = plugrad.ones(2)
    with pytest.raises(TypeError):
        F.jacobian(lambda a: 3, x)
    with pytest.raises(RuntimeError, match="single element"):
        F.vjp(lambda a: a * 2, x)
    with pytest.raises(RuntimeError):
        F.vjp(lambda a: a * 2, x, plugrad.ones(3))
    with pytest.raises(RuntimeError):
        F.hessian(lambda a: a * 2, x)
    with pytest.raises(ValueError):
        F.jacobian(lambda a: a, x, strategy="sideways")


PROGRAMS = {
    "jacobian": lambda t, F, x, y: F.jacobian(lambda a: (a.exp() * a).sum(1), x),
    "jacobian tuple": lambda t, F, x, y: F.jacobian(lambda a, b: (a * b, (a ** 2).sum() * b), (x, y)),
    "jacobian forward": lambda t, F, x, y: F.jacobian(lambda a, b: (a * b).tanh(), (x, y), vectorize=True,
                                                      strategy="forward-mode"),
    "hessian": lambda t, F, x, y: F.hessian(lambda a: (a ** 3).sum() + (a[0] * a[1]).sum(), x),
    "hessian tuple": lambda t, F, x, y: F.hessian(lambda a, b: (a.sin() * b).sum(), (x, y)),
    "vjp": lambda t, F, x, y: F.vjp(lambda a: (a.exp() * a).sum(1), x, t.tensor([1.0, 2.0], dtype=t.float64)),
    "vjp tuple": lambda t, F, x, y: F.vjp(lambda a, b: (a * b, (a ** 2).sum() * b), (x, y),
                                          (t.ones(2, 3, dtype=t.float64), y * 2)),
    "jvp": lambda t, F, x, y: F.jvp(lambda a: (a.exp() * a).sum(1), x, t.ones(2, 3, dtype=t.float64)),
    "jvp tuple": lambda t, F, x, y: F.jvp(lambda a, b: (a * b, b.sum()), (x, y), (x.flip(0), y)),
    "hvp": lambda t, F, x, y: F.hvp(lambda a: (a ** 3).sum() + (a[0] * a[1]).sum(), x, x.flip(0)),
    "vhp tuple": lambda t, F, x, y: F.vhp(lambda a, b: (a.sin() * b).sum(), (x, y), (x, y)),
    "hvp tuple": lambda t, F, x, y: F.hvp(lambda a, b: (a.sin() * b).sum(), (x, y), (x, y)),
    "vjp default v": lambda t, F, x, y: F.vjp(lambda a: a.sum(), x),
}


@pytest.mark.torch_oracle
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # raised inside torch.autograd.functional
@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_functional_matches_pytorch(name):
    def program(lib):
        x = lib.tensor(X, dtype=lib.float64)
        y = lib.tensor(Y, dtype=lib.float64)
        return PROGRAMS[name](lib, lib.autograd.functional, x, y)
    ours, theirs = run_both(program)
    assert_same_values(ours, theirs, rtol=1e-10, atol=1e-12)
