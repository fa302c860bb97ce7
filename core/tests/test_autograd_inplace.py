"""In-place ops under autograd: version counters, saved-tensor checks, the leaf
rules, and histories rewritten through in-place ops and views (CopySlices)."""

import numpy as np
import pytest

import plugrad

from autograd_support import assert_same_values, node_name, run_both, to_np

A = (np.arange(12, dtype=np.float64).reshape(3, 4) / 10 - 0.4)


# ---- version counters and saved tensors ---------------------------------------------------------

def test_version_counter_is_shared_by_views_and_detach(device):
    x = plugrad.zeros(3, 4, device=device)
    v, d = x[1], x.detach()
    versions = lambda: (x._storage.version, v._storage.version, d._storage.version)  # noqa: E731
    assert versions() == (0, 0, 0)
    v.add_(1)
    d[0, 0] = 5.0
    x.mul_(2)
    assert versions() == (3, 3, 3)
    np.testing.assert_array_equal(to_np(x)[1], [2.0] * 4)


def test_modifying_a_saved_tensor_names_the_node_and_versions():
    x = plugrad.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    y = h * h  # MulBackward0 saves h at version 0
    h.add_(1)
    h.add_(1)
    with pytest.raises(RuntimeError) as info:
        y.sum().backward()
    msg = str(info.value)
    assert "modified by an inplace operation" in msg
    assert "MulBackward0" in msg and "is at version 2; expected version 0 instead" in msg


def test_modifying_a_saved_output_is_detected():
    x = plugrad.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    y.mul_(2)
    with pytest.raises(RuntimeError, match="ExpBackward0.*version 1; expected version 0"):
        y.sum().backward()


def test_in_place_on_a_tensor_nothing_saved_is_fine():
    x = plugrad.tensor([1.0, 2.0], requires_grad=True)
    h = x + 1  # AddBackward0 saves nothing
    y = h * 3  # saves nothing of h either (scalar)
    h.zero_()
    y.sum().backward()
    np.testing.assert_array_equal(to_np(x.grad), [3.0, 3.0])


# ---- leaf rules ---------------------------------------------------------------------------------

def test_in_place_on_a_leaf_that_requires_grad():
    x = plugrad.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        x.add_(1)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        x[0].mul_(2)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        x[0] = 3.0
    with plugrad.no_grad():  # the optimizer's update: allowed, not recorded
        x.sub_(0.5)
        x[1] = 7.0
    assert x.is_leaf and x.requires_grad and x.grad_fn is None
    np.testing.assert_array_equal(to_np(x), [0.5, 7.0])


def test_in_place_on_an_untracked_tensor_with_a_tracked_operand_starts_a_history():
    w = plugrad.tensor([2.0, 3.0], requires_grad=True)
    b = plugrad.zeros(2)
    b.add_(w * w)
    assert b.requires_grad and node_name(b.grad_fn) == "AddBackward0"
    b.sum().backward()
    np.testing.assert_array_equal(to_np(w.grad), [4.0, 6.0])


# ---- histories through in-place ops and views: compared with PyTorch ----------------------------

def _names(*ts):
    return tuple(node_name(t.grad_fn) for t in ts)


CASES = {
    "add_": lambda t, a: _run(a, lambda b: b.add_(1)),
    "mul_ tensor": lambda t, a: _run(a, lambda b: b.mul_(a)),
    "sub_ alpha": lambda t, a: _run(a, lambda b: b.sub_(a, alpha=3)),
    "div_": lambda t, a: _run(a, lambda b: b.div_(a + 5)),
    "pow_": lambda t, a: _run(a, lambda b: b.pow_(2)),
    "sin_": lambda t, a: _run(a, lambda b: b.sin_()),
    "clamp_": lambda t, a: _run(a, lambda b: b.clamp_(min=0)),
    "iadd imul": lambda t, a: _run(a, lambda b: b.__iadd__(a).__imul__(a)),
    "fill_": lambda t, a: _run(a, lambda b: b.fill_(2), lambda b: b * a),
    "zero_": lambda t, a: _run(a, lambda b: b.zero_(), lambda b: b + a),
    "copy_": lambda t, a: _run(a, lambda b: b.copy_(a.t().t() * 3)),
    "masked_fill_": lambda t, a: _run(a, lambda b: b.masked_fill_(b > 0, 1.0)),
    "view row mul_": lambda t, a: _run_view(a, lambda b: b[1], lambda v: v.mul_(3)),
    "transposed view mul_": lambda t, a: _run_view(a.sigmoid() + 1, lambda b: b.t(), lambda v: v.mul_(2), src=a),
    "flat view exp_": lambda t, a: _run_view(a, lambda b: b.view(12), lambda v: v.exp_()),
    "view of view zero_": lambda t, a: _run_view(a, lambda b: b[:, :2][1:], lambda v: v.zero_()),
    "diagonal mul_": lambda t, a: _run_view(a, lambda b: b.diagonal(), lambda v: v.mul_(2)),
    "setitem row": lambda t, a: _run(a, lambda b: b.__setitem__(1, a[0] * 2)),
    "setitem column scalar": lambda t, a: _run(a, lambda b: b.__setitem__((slice(None), 1), 0.0)),
    "setitem mask": lambda t, a: _run(a, lambda b: b.__setitem__(b > 0, 0.0)),
    "setitem index list": lambda t, a: _run(a, lambda b: b.__setitem__([0, 2], t.ones(2, 4, dtype=t.float64) * 2)),
    "fill_ with tensor": lambda t, a: _fill_tensor(t, a),
    "zeros then setitem": lambda t, a: _zeros_setitem(t, a),
    "two views": lambda t, a: _two_views(a),
    "base changed then view used": lambda t, a: _base_then_view(a),
}


def _run(a, modify, finish=lambda b: b * b):
    b = a * 1
    modify(b)
    name = node_name(b.grad_fn)
    finish(b).sum().backward()
    return name, a.grad


def _run_view(b0, make_view, modify, src=None):
    src = src if src is not None else b0
    b = b0 * 1 if b0 is src else b0
    v = make_view(b)
    modify(v)
    names = _names(b, v)
    (b * b).sum().backward()
    return names, src.grad


def _fill_tensor(t, a):
    b = a * 1
    w = t.tensor(2.0, dtype=t.float64, requires_grad=True)
    b[1].fill_(w)
    name = node_name(b.grad_fn)
    (b * b).sum().backward()
    return name, a.grad, w.grad


def _zeros_setitem(t, a):
    b = t.zeros(3, 4, dtype=t.float64)
    b[1] = a[0]
    name = node_name(b.grad_fn)
    (b * 2).sum().backward()
    return name, a.grad, b.requires_grad


def _two_views(a):
    b = a * 1
    v1, v2 = b[0], b[:, 0]
    v1.mul_(2)
    v2.mul_(3)
    names = _names(b, v1, v2)
    (b ** 2).sum().backward()
    return names, a.grad


def _base_then_view(a):
    b = a * 1
    x = b[0]
    b.mul_(2)  # x's history must now go through the change of b
    name = node_name(x.grad_fn)
    x.sum().backward()
    return name, a.grad


@pytest.mark.torch_oracle
@pytest.mark.parametrize("case", sorted(CASES))
def test_in_place_history_matches_pytorch(case):
    def program(lib):
        a = lib.tensor(A, requires_grad=True)
        return CASES[case](lib, a)
    ours, theirs = run_both(program)
    assert_same_values(ours, theirs, atol=1e-10, rtol=1e-10)


@pytest.mark.torch_oracle
@pytest.mark.parametrize("case", [
    "leaf add_", "leaf view mul_", "saved output exp", "saved input mul", "expanded target",
    "unbind view", "split view", "leaf view of detached requires grad",
])
def test_in_place_errors_match_pytorch(case):
    def program(lib):
        a = lib.tensor(A, requires_grad=True)
        try:
            if case == "leaf add_":
                a.add_(1)
            elif case == "leaf view mul_":
                a[0].mul_(2)
            elif case == "saved output exp":
                b = a.exp()
                b.add_(1)
                b.sum().backward()
            elif case == "saved input mul":
                b = a * 2
                c = b * b
                b.add_(1)
                c.sum().backward()
            elif case == "expanded target":
                (a * 1).unsqueeze(0).expand(2, 3, 4).add_(1)
            elif case == "unbind view":
                (a * 1).unbind(0)[1].mul_(2)
            elif case == "split view":
                (a * 1).split(1)[1].mul_(2)
            else:
                a.detach().requires_grad_().view(12).add_(1)
        except Exception as e:  # noqa: BLE001 - the class is what is compared
            return type(e).__name__
        return "no error"
    ours, theirs = run_both(program)
    assert ours == theirs == "RuntimeError"


def test_gradient_through_in_place_on_a_view_of_a_non_leaf_against_numpy():
    av = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
    a = plugrad.tensor(av, requires_grad=True)
    b = a * 3
    b[:, 1:] *= 2  # CopySlices: columns 1, 2 doubled
    y = (b * b).sum()
    y.backward()
    factor = np.array([1.0, 2.0, 2.0])
    expected = 2 * (3 * av * factor) * factor * 3
    np.testing.assert_allclose(to_np(a.grad), expected, rtol=1e-12)
    assert node_name(b.grad_fn) == "CopySlices"


def test_gradcheck_through_in_place_on_views():
    def f(x):
        b = x * 1
        b[0, 1:] = x[1, :3] * x[2, 0]
        b.t()[1].mul_(x[2].sum())
        return b
    x = plugrad.tensor(A, requires_grad=True)
    assert plugrad.autograd.gradcheck(f, (x,))
    assert plugrad.autograd.gradgradcheck(f, (x,))
