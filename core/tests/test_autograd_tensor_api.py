"""The Tensor's autograd API: requires_grad, is_leaf, grad, grad_fn, retain_grad,
backward, accumulation, detach/detach_, .data, hooks, and the legacy Variable."""

import warnings

import numpy as np
import pytest

import plugrad

from autograd_support import assert_same_values, node_name, run_both, to_np


def test_requires_grad_defaults_and_propagation(device):
    a = plugrad.ones(3, device=device)
    assert not a.requires_grad and a.is_leaf and a.grad_fn is None
    b = plugrad.ones(3, device=device, requires_grad=True)
    c = a * b
    assert c.requires_grad and not c.is_leaf and node_name(c.grad_fn) == "MulBackward0"
    d = a * 2
    assert not d.requires_grad and d.is_leaf  # results of untracked tensors are leaves


def test_requires_grad_setter_and_method(device):
    a = plugrad.zeros(2, device=device)
    assert a.requires_grad_() is a and a.requires_grad
    a.requires_grad = False
    assert not a.requires_grad
    y = plugrad.ones(2, device=device, requires_grad=True) * 2
    assert y.requires_grad_(True) is y  # allowed on a non-leaf
    with pytest.raises(RuntimeError, match="you can only change requires_grad flags of leaf variables"):
        y.requires_grad_(False)
    with pytest.raises(RuntimeError, match="only Tensors of floating point dtype can require gradients"):
        plugrad.tensor([1, 2], device=device).requires_grad_()


def test_grad_of_a_non_leaf_warns_and_is_none():
    x = plugrad.ones(2, requires_grad=True)
    y = x * 2
    with pytest.warns(UserWarning, match="not a leaf Tensor is being accessed"):
        assert y.grad is None
    y.retain_grad()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert y.grad is None and y.retains_grad


def test_retain_grad_keeps_the_gradient_of_non_leaves(device):
    x = plugrad.ones(5, device=device, requires_grad=True)
    w1 = plugrad.tensor(2.0, device=device, requires_grad=True)
    l1 = x * w1
    l2 = l1 + 4
    l1.retain_grad()
    l2.retain_grad()
    y = (l2 * 3).mean()
    y.backward()
    np.testing.assert_allclose(to_np(l1.grad), [0.6] * 5, rtol=1e-6)
    np.testing.assert_allclose(to_np(l2.grad), [0.6] * 5, rtol=1e-6)
    x.retain_grad()  # a leaf: nothing to do
    assert not x.retains_grad


def test_gradients_accumulate_across_backward_calls(device):
    x = plugrad.tensor([1.0, 2.0], device=device, requires_grad=True)
    for k in range(1, 4):
        (x * x).sum().backward()
        np.testing.assert_array_equal(to_np(x.grad), k * 2 * np.array([1.0, 2.0]))
    g = x.grad
    x.grad.zero_()
    (x * 3).sum().backward()
    assert x.grad is g  # accumulated in place into the same tensor
    np.testing.assert_array_equal(to_np(x.grad), [3.0, 3.0])
    x.grad = None
    (x * 5).sum().backward()
    np.testing.assert_array_equal(to_np(x.grad), [5.0, 5.0])
    del x.grad
    assert x.grad is None


def test_grad_assignment_is_checked():
    x = plugrad.ones(2, requires_grad=True)
    x.grad = plugrad.full((2,), 7.0)
    (x * 1).sum().backward()
    np.testing.assert_array_equal(to_np(x.grad), [8.0, 8.0])
    with pytest.raises(RuntimeError):
        x.grad = plugrad.ones(3)
    with pytest.raises(RuntimeError):
        x.grad = plugrad.ones(2, dtype=plugrad.float64)
    with pytest.raises(TypeError):
        x.grad = 3


def test_first_gradient_is_a_private_copy():
    x = plugrad.ones(2, requires_grad=True)
    up = plugrad.tensor([1.0, 2.0])
    (x * 1).backward(up)
    up.mul_(100)
    np.testing.assert_array_equal(to_np(x.grad), [1.0, 2.0])


def test_detach_shares_storage_and_version(device):
    x = plugrad.tensor([1.0, 2.0], device=device, requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.is_leaf and d.data_ptr() == y.data_ptr()
    d.add_(1)  # visible through y, and counted by y's version
    np.testing.assert_array_equal(to_np(y), [3.0, 5.0])
    z = y * y  # saves y
    y.detach().mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_detach_in_place_makes_a_leaf():
    x = plugrad.ones(2, requires_grad=True)
    y = x * 2
    assert y.detach_() is y
    assert y.is_leaf and not y.requires_grad and y.grad_fn is None
    with pytest.raises(RuntimeError, match="Can't detach views in-place"):
        x[0].detach_()


def test_data_is_an_untracked_alias():
    x = plugrad.tensor([1.0, 2.0], requires_grad=True)
    y = x.tanh()
    y.data.mul_(0)  # invisible to autograd: backward uses the changed values without complaint
    y.sum().backward()
    np.testing.assert_array_equal(to_np(x.grad), [1.0, 1.0])  # 1 - tanh^2 with tanh now 0
    assert not x.data.requires_grad
    x.data = plugrad.tensor([5.0, 6.0])
    assert x.requires_grad and x.is_leaf
    np.testing.assert_array_equal(to_np(x), [5.0, 6.0])


def test_data_writes_do_not_bump_the_version():
    x = plugrad.tensor([1.0, 2.0], requires_grad=True)
    with plugrad.no_grad():
        x.data.add_(1)
    y = x * x
    x.data.add_(1)
    y.sum().backward()  # no error, by design of .data
    np.testing.assert_array_equal(to_np(x.grad), [6.0, 8.0])


def test_register_hook_rules():
    with pytest.raises(RuntimeError, match="doesn't require grad"):
        plugrad.ones(2).register_hook(lambda g: g)
    with pytest.raises(RuntimeError, match="can't retain_grad on Tensor that has requires_grad=False"):
        plugrad.ones(2).retain_grad()
    x = plugrad.ones(2, requires_grad=True)
    x.register_hook(lambda g: g * 2)
    x.register_hook(lambda g: g + 1)
    (x * 3).sum().backward()
    np.testing.assert_array_equal(to_np(x.grad), [7.0, 7.0])


def test_variable_is_a_tensor():
    a = plugrad.autograd.Variable()
    assert type(a) is plugrad.Tensor and tuple(a.shape) == (0,)
    t = plugrad.tensor([1.0, 2.0])
    v = plugrad.autograd.Variable(t, requires_grad=True)
    assert v.requires_grad and v.is_leaf and not t.requires_grad
    assert v.data_ptr() == t.data_ptr()
    with pytest.raises(TypeError):
        plugrad.autograd.Variable([1.0])


@pytest.mark.torch_oracle
@pytest.mark.parametrize("call", [
    lambda t, x, y: y.requires_grad_(False),
    lambda t, x, y: x.add_(1),
    lambda t, x, y: x[0].mul_(2),
    lambda t, x, y: y.backward(),
    lambda t, x, y: x.numpy(),
    lambda t, x, y: t.tensor([1, 2]).requires_grad_(),
    lambda t, x, y: setattr(x, "grad", t.ones(3)),
    lambda t, x, y: setattr(x, "grad", "no"),
    lambda t, x, y: x[0].detach_(),
    lambda t, x, y: t.ones(2).retain_grad(),
    lambda t, x, y: t.ones(2).register_hook(lambda g: g),
    lambda t, x, y: x.detach().add_(1),
])
def test_misuse_raises_pytorchs_exception_class(call):
    def attempt(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        try:
            call(lib, x, y)
        except Exception as e:  # noqa: BLE001 - the class is what is compared
            return type(e).__name__
        return "no error"
    ours, theirs = run_both(attempt)
    assert ours == theirs


@pytest.mark.torch_oracle
def test_api_program_matches_pytorch():
    def program(lib):
        x = lib.tensor([[1.0, -2.0], [3.0, 0.5]], requires_grad=True)
        w = lib.tensor([0.5, -1.0], requires_grad=True)
        h = x @ w
        h.retain_grad()
        loss = (h.tanh() * lib.tensor([1.0, 2.0])).sum()
        loss.backward(retain_graph=True)
        first = (x.grad.clone(), w.grad.clone(), h.grad.clone())
        loss.backward()
        return first, (x.grad, w.grad, h.grad), (x.is_leaf, h.is_leaf, loss.requires_grad), \
            (type(h.grad_fn).__name__, type(loss.grad_fn).__name__)
    ours, theirs = run_both(program)
    assert_same_values(ours, theirs)
