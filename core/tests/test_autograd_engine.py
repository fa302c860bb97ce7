"""The backward engine: graph structure and names, traversal order and depth,
accumulation of reused nodes, un-broadcasting, ``backward``/``grad`` arguments,
retained graphs and hooks."""

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import plugrad
from plugrad.autograd.graph import AccumulateGrad

from autograd_support import assert_same_values, graph_names, node_name, run_both, to_np


def seed_graph(lib):
    """Seed 000: y = ((x * w1 + b) * w2).mean()."""
    x = lib.ones(5, requires_grad=True)
    w1 = lib.tensor(2.0, requires_grad=True)
    w2 = lib.tensor(3.0, requires_grad=True)
    b = lib.tensor(4.0, requires_grad=False)
    y = ((x * w1 + b) * w2).mean()
    return x, w1, w2, b, y


# ---- graph structure -----------------------------------------------------------------------------

def test_seed_graph_names_and_edges():
    x, w1, w2, b, y = seed_graph(plugrad)
    mean = y.grad_fn
    assert node_name(mean) == "MeanBackward0"
    (mul2, nr), = mean.next_functions
    assert node_name(mul2) == "MulBackward0" and nr == 0
    (add, _), (acc_w2, _) = mul2.next_functions
    assert node_name(add) == "AddBackward0"
    assert type(acc_w2) is AccumulateGrad and acc_w2.variable is w2
    (mul1, _), (none, _) = add.next_functions
    assert none is None  # b does not require grad: no edge
    (acc_x, _), (acc_w1, _) = mul1.next_functions
    assert acc_x.variable is x and acc_w1.variable is w1
    assert acc_x.next_functions == ()


def test_leaf_has_one_accumulator():
    x = plugrad.ones(3, requires_grad=True)
    a, b = x * 2, x * 3
    assert a.grad_fn.next_functions[0][0] is b.grad_fn.next_functions[0][0]


@pytest.mark.torch_oracle
@pytest.mark.parametrize("program", [
    lambda t, x, w: ((x * w[0] + 4) * w[1]).mean(),
    lambda t, x, w: (x.exp() / x.sum()).sum(),
    lambda t, x, w: t.cat([x, x * 2]).view(2, 5).t().matmul(w).pow(2).sum(),
    lambda t, x, w: (x[1:] - x[:-1]).abs().max(),
    lambda t, x, w: t.stack([x.sin(), x.cos()]).softmax(1)[0].sum(),
    lambda t, x, w: (x.unsqueeze(0).expand(3, 5) * w.sum()).clamp(min=0.5).std(),
    lambda t, x, w: t.where(x > 0.5, x, w[0]).reshape(5, 1).squeeze(1).prod(),
])
def test_graph_shape_matches_pytorch(program):
    def build(lib):
        x = lib.linspace(0.1, 1.0, 5, requires_grad=True)
        w = lib.tensor([2.0, 3.0], requires_grad=True)
        y = program(lib, x, w)
        y.backward()
        return graph_names(y.grad_fn), x.grad, w.grad
    ours, theirs = run_both(build)
    assert ours[0] == theirs[0]
    assert_same_values(ours[1:], theirs[1:], atol=1e-5, rtol=1e-5)


# ---- traversal -----------------------------------------------------------------------------------

def test_chain_of_100000_ops_backward_without_recursion():
    x = plugrad.ones(2, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y = y * 2.0
    y.sum().backward()
    np.testing.assert_array_equal(to_np(x.grad), [2.0, 2.0])
    del y  # dropping the chain frees it without recursing either


def test_deep_graph_grad_and_partial_backward():
    x = plugrad.ones(1, requires_grad=True)
    mid = None
    y = x
    for i in range(20_000):
        y = y + 1.0
        if i == 10_000:
            mid = y
    (g,) = plugrad.autograd.grad(y.sum(), mid)
    np.testing.assert_array_equal(to_np(g), [1.0])
    y.sum().backward(inputs=[mid])
    np.testing.assert_array_equal(to_np(mid.grad), [1.0])
    assert x.grad is None


def test_reused_node_gets_the_sum_of_its_gradients():
    x = plugrad.tensor([0.5, -1.0, 2.0], requires_grad=True)
    h = x * x  # used by four consumers below
    y = h + h * 3 + h.exp() + h.sum()
    y.sum().backward()
    xv = np.array([0.5, -1.0, 2.0])
    hv = xv * xv
    expected = (1 + 3 + np.exp(hv) + 3) * 2 * xv
    np.testing.assert_allclose(to_np(x.grad), expected, rtol=1e-5)


def test_diamond_graph_and_same_tensor_twice():
    x = plugrad.tensor(3.0, requires_grad=True)
    a = x * 2
    b = a * a  # both inputs are the same tensor
    c = a + b
    c.backward()
    assert x.grad.item() == pytest.approx(2 + 2 * (2 * 3) * 2)


# ---- un-broadcasting and dtypes -----------------------------------------------------------------

@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3))
def test_gradients_are_unbroadcast_to_each_input(shapes):
    sa, sb = shapes.input_shapes
    rng = np.random.default_rng(0)
    av, bv = rng.standard_normal(sa), rng.standard_normal(sb)
    a = plugrad.tensor(av, requires_grad=True)
    b = plugrad.tensor(bv, requires_grad=True)
    up = rng.standard_normal(shapes.result_shape)
    (a * b + a).backward(plugrad.tensor(up))
    ga = np.broadcast_to(up * (bv + 1), shapes.result_shape)
    gb = np.broadcast_to(up * av, shapes.result_shape)

    def unbroadcast(g, shape):
        lead = g.ndim - len(shape)
        g = g.sum(axis=tuple(range(lead))) if lead else g
        axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
        return g.sum(axis=axes, keepdims=True) if axes else g
    assert tuple(a.grad.shape) == sa and tuple(b.grad.shape) == sb
    np.testing.assert_allclose(to_np(a.grad), unbroadcast(ga, sa), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(to_np(b.grad), unbroadcast(gb, sb), rtol=1e-10, atol=1e-12)


def test_gradients_take_each_inputs_dtype():
    a = plugrad.tensor([1.0, 2.0], dtype=plugrad.float32, requires_grad=True)
    b = plugrad.tensor([3.0, 4.0], dtype=plugrad.float64, requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.dtype is plugrad.float32 and b.grad.dtype is plugrad.float64
    np.testing.assert_array_equal(to_np(a.grad), [3.0, 4.0])


def test_invalid_gradient_shape_from_a_custom_function_is_refused():
    class Bad(plugrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g[:, :1]  # (3, 1) cannot sum down to (3, 4)

    x = plugrad.ones(3, 4, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"returned an invalid gradient at index 0 - got \[3, 1\]"):
        Bad.apply(x).sum().backward()


# ---- backward() and grad() arguments -----------------------------------------------------------

def test_non_scalar_backward_needs_a_gradient():
    x = plugrad.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        (x * 2).backward()


def test_backward_with_gradient_is_a_vector_jacobian_product():
    x = plugrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    v = plugrad.tensor([1.0, 0.1, 0.01])
    (x * x).backward(v)
    np.testing.assert_allclose(to_np(x.grad), 2 * np.array([1.0, 2.0, 3.0]) * [1.0, 0.1, 0.01], rtol=1e-6)


@pytest.mark.torch_oracle
@pytest.mark.parametrize("call", [
    lambda t, x: (x * 2).backward(t.ones(3)),
    lambda t, x: t.tensor(1.0).backward(),
    lambda t, x: (x * 2).sum().backward(inputs=[]),
    lambda t, x: t.autograd.grad((x * 2).sum(), t.ones(2)),
    lambda t, x: t.autograd.grad((x * 2).sum(), [x, t.ones(2, requires_grad=True)]),
    lambda t, x: t.autograd.backward([x.sum(), x.sum()], [t.tensor(1.0)]),
    lambda t, x: (x * 1).sum().backward(t.ones(1)),
    lambda t, x: t.ones(2, dtype=t.int64).sum().backward(),
])
def test_backward_argument_errors_match_pytorch(call):
    def attempt(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        try:
            call(lib, x)
        except Exception as e:  # noqa: BLE001 - the class is what is compared
            return type(e).__name__
        return "no error"
    ours, theirs = run_both(attempt)
    assert ours == theirs


def test_grad_returns_instead_of_accumulating():
    x = plugrad.tensor([1.0, 2.0], requires_grad=True)
    y = plugrad.tensor([3.0, 4.0], requires_grad=True)
    gx, gy = plugrad.autograd.grad((x * y).sum(), [x, y])
    np.testing.assert_array_equal(to_np(gx), [3.0, 4.0])
    np.testing.assert_array_equal(to_np(gy), [1.0, 2.0])
    assert x.grad is None and y.grad is None
    assert not gx.requires_grad


def test_grad_allow_unused_and_materialize():
    x = plugrad.tensor([1.0, 2.0], requires_grad=True)
    z = plugrad.tensor([5.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
        plugrad.autograd.grad((x * 2).sum(), [x, z])
    gx, gz = plugrad.autograd.grad((x * 2).sum(), [x, z], allow_unused=True)
    assert gz is None
    gx, gz = plugrad.autograd.grad((x * 2).sum(), [x, z], materialize_grads=True)
    np.testing.assert_array_equal(to_np(gz), [0.0])


def test_grad_with_respect_to_an_intermediate():
    x = plugrad.tensor([1.0, 2.0], requires_grad=True)
    h = x.exp()
    (g,) = plugrad.autograd.grad((h * h).sum(), h)
    np.testing.assert_allclose(to_np(g), 2 * np.exp([1.0, 2.0]), rtol=1e-6)


def test_grad_of_several_outputs_sums_them():
    x = plugrad.tensor([1.0, 2.0], requires_grad=True)
    (g,) = plugrad.autograd.grad([x.sum(), (x * x).sum()], x)
    np.testing.assert_array_equal(to_np(g), [3.0, 5.0])
    (g,) = plugrad.autograd.grad([x * 1, x * x], x, [plugrad.ones(2), plugrad.tensor([1.0, 10.0])])
    np.testing.assert_array_equal(to_np(g), [3.0, 41.0])


def test_create_graph_gives_second_derivatives():
    x = plugrad.tensor([0.5, 1.5], requires_grad=True)
    y = (x ** 3).sum()
    (g,) = plugrad.autograd.grad(y, x, create_graph=True)
    assert g.requires_grad and node_name(g.grad_fn) is not None
    (h,) = plugrad.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(to_np(h), 6 * np.array([0.5, 1.5]), rtol=1e-6)


def test_backward_create_graph_keeps_grad_differentiable():
    x = plugrad.tensor([2.0], requires_grad=True)
    (x ** 2).sum().backward(create_graph=True)
    g = x.grad
    assert g.requires_grad
    x.grad = None
    g.sum().backward()
    np.testing.assert_array_equal(to_np(x.grad), [2.0])


def test_batched_grads():
    x = plugrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x
    eye = plugrad.eye(3)
    (jac,) = plugrad.autograd.grad(y, x, eye, is_grads_batched=True)
    np.testing.assert_array_equal(to_np(jac), np.diag([2.0, 4.0, 6.0]))


def test_backward_inputs_selects_what_accumulates():
    x = plugrad.tensor([1.0, 2.0], requires_grad=True)
    w = plugrad.tensor([3.0, 4.0], requires_grad=True)
    (x * w).sum().backward(inputs=[w])
    assert x.grad is None
    np.testing.assert_array_equal(to_np(w.grad), [1.0, 2.0])


# ---- retain_graph ---------------------------------------------------------------------------------

def test_second_backward_through_freed_graph_says_retain_graph():
    x = plugrad.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_repeated_backward_and_accumulates():
    x = plugrad.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(to_np(x.grad), [4.0, 8.0])


def test_graph_without_saved_tensors_can_be_walked_twice():
    x = plugrad.ones(2, requires_grad=True)
    y = x + 2  # AddBackward0 saves nothing (seed 004 relies on this)
    y.backward(plugrad.ones(2))
    y.backward(plugrad.ones(2))
    np.testing.assert_array_equal(to_np(x.grad), [2.0, 2.0])


# ---- hooks --------------------------------------------------------------------------------------

def test_tensor_hooks_change_the_gradient_and_can_be_removed():
    x = plugrad.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    handle = y.register_hook(lambda g: g * 10)
    seen = []
    x.register_hook(lambda g: seen.append(to_np(g)))
    (y * y).sum().backward(retain_graph=True)
    np.testing.assert_array_equal(to_np(x.grad), 10 * 18 * np.array([1.0, 2.0]))
    handle.remove()
    x.grad = None
    (y * y).sum().backward()
    np.testing.assert_array_equal(to_np(x.grad), 18 * np.array([1.0, 2.0]))
    assert len(seen) == 2


@pytest.mark.torch_oracle
def test_hook_order_matches_pytorch():
    def program(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        y.retain_grad()
        h = y.register_hook(lambda g: g * 10)
        y.grad_fn.register_prehook(lambda gs: (gs[0] + 1,))
        z = (y * y).sum()
        z.backward(retain_graph=True)
        first = (y.grad.clone(), x.grad.clone())
        h.remove()
        z.backward()
        return first, (y.grad, x.grad)
    ours, theirs = run_both(program)
    assert_same_values(ours, theirs)


def test_node_post_hook_sees_gradients():
    w = plugrad.tensor([1.0, 2.0], requires_grad=True)
    m = w * 2
    calls = []
    m.grad_fn.register_hook(lambda gi, go: calls.append((to_np(gi[0]), to_np(go[0]))))
    m.sum().backward()
    np.testing.assert_array_equal(calls[0][0], [2.0, 2.0])
    np.testing.assert_array_equal(calls[0][1], [1.0, 1.0])


@given(st.integers(min_value=1, max_value=40))
def test_polynomial_chain_matches_closed_form(n):
    x = plugrad.tensor(1.01, dtype=plugrad.float64, requires_grad=True)
    y = x
    for _ in range(n - 1):
        y = y * x
    y.backward()
    assert x.grad.item() == pytest.approx(n * 1.01 ** (n - 1), rel=1e-12)


def _first_grad_and_sources(case):
    """Run one backward whose gradients arrive at a fresh leaf; return the leaf and the
    tensors outside the pass that its ``.grad`` must not alias."""
    F = plugrad.autograd.Function
    outside = plugrad.full((3,), 2.0)

    class ReturnsOutside(F):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return outside

    class ReturnsSaved(F):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(outside)
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return ctx.saved_tensors[0]

    a = plugrad.ones(3, requires_grad=True)
    b = plugrad.ones(3, requires_grad=True)
    if case == "one gradient to two leaves":
        (a + b).backward(plugrad.ones(3))
        return a, (b.grad,)
    if case == "the caller's gradient":
        a.backward(outside)
        return a, (outside,)
    if case == "a tensor the custom function keeps":
        ReturnsOutside.apply(a).sum().backward()
        return a, (outside,)
    if case == "a saved tensor, graph retained":
        ReturnsSaved.apply(a).sum().backward(retain_graph=True)
        return a, (outside,)
    raise AssertionError(case)


@pytest.mark.parametrize("case", ["one gradient to two leaves", "the caller's gradient",
                                  "a tensor the custom function keeps", "a saved tensor, graph retained"])
def test_a_first_gradient_held_elsewhere_is_copied_into_grad(case):
    # the engine keeps an unshared gradient as the leaf's .grad without a copy; anything
    # held outside the pass must not become a leaf's .grad, or a later accumulation
    # into .grad would write into it
    leaf, others = _first_grad_and_sources(case)
    before = [o.clone() for o in others]
    leaf.grad.add_(100.0)
    for other, value in zip(others, before):
        assert plugrad.equal(other, value)


def test_a_broadcast_gradient_becomes_a_contiguous_grad():
    a = plugrad.ones(3, requires_grad=True)
    a.expand(2, 3).sum().backward()
    assert a.grad._base is None and a.grad.is_contiguous() and plugrad.equal(a.grad, plugrad.full((3,), 2.0))


def test_an_unshared_first_gradient_becomes_grad_without_a_copy(monkeypatch):
    from plugrad.autograd import engine
    copies = []
    original = engine._private_copy
    monkeypatch.setattr(engine, "_private_copy", lambda t: copies.append(t) or original(t))
    x = plugrad.ones(5, requires_grad=True)
    w = plugrad.tensor(2.0, requires_grad=True)
    (x * w).sum().backward()
    assert copies == [] and plugrad.equal(x.grad, plugrad.full((5,), 2.0)) and w.grad.item() == 5.0
