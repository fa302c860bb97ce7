"""Graph lifetime: saved tensors are freed by backward unless retain_graph, and
dropping the output frees the graph by reference counting alone (these tests run
with the cyclic garbage collector disabled, so a reference cycle would show up as
memory that stays alive)."""

import gc
import weakref

import pytest

import plugrad


@pytest.fixture(autouse=True)
def no_cycle_collector():
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def graph_nodes(t):
    """Weak references to every node reachable from ``t.grad_fn``."""
    refs, stack, seen = [], [t.grad_fn], set()
    while stack:
        n = stack.pop()
        if n is None or id(n) in seen:
            continue
        seen.add(id(n))
        refs.append(weakref.ref(n))
        stack.extend(m for m, _ in n.next_functions)
    return refs


def alive(refs):
    return [r() for r in refs if r() is not None]


@pytest.mark.parametrize("program", [
    lambda x: (x * 2).exp().sum(),
    lambda x: x.softmax(0).log().mean(),
    lambda x: (x.sigmoid() * x.tanh()).sum(),
    lambda x: x.view(2, 2).t().matmul(x.view(2, 2)).sum(),
    lambda x: plugrad.cat([x, x.sqrt()]).max(),
    lambda x: x.unbind(0)[1] * x.split(2)[0].sum(),
    lambda x: (x ** x).prod(),
    lambda x: x.norm() + x.std() + x.logsumexp(0) + x.cumprod(0).sum(),
])
def test_dropping_the_output_frees_the_graph(program):
    x = plugrad.tensor([0.5, 1.0, 1.5, 2.0], requires_grad=True)
    y = program(x)
    nodes = graph_nodes(y)
    assert len(nodes) > 2
    del y
    assert alive(nodes) == []


def test_dropping_the_output_after_create_graph_frees_both_graphs():
    x = plugrad.tensor([0.5, 1.0], requires_grad=True)
    y = (x.exp() * x).sum()
    (g,) = plugrad.autograd.grad(y, x, create_graph=True)
    nodes = graph_nodes(y) + graph_nodes(g)
    del y, g
    assert alive(nodes) == []


def test_saved_tensors_are_freed_by_backward():
    x = plugrad.tensor([0.5, 1.0], requires_grad=True)
    h = x * 3
    storage = weakref.ref(h._storage)
    y = (h.exp() * 2).sum()  # ExpBackward0 saves exp's result; the MulBackward0 below it saves nothing of h
    saved = weakref.ref(y.grad_fn.next_functions[0][0].next_functions[0][0].saved_tensors[0]._storage)
    del h
    assert storage() is None  # nothing saved h itself
    y.backward()
    assert saved() is None  # exp's result was freed by backward, while y and its graph live on
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_keeps_saved_tensors_until_the_last_backward():
    x = plugrad.tensor([0.5, 1.0], requires_grad=True)
    y = x.exp().sum()
    saved = weakref.ref(y.grad_fn.next_functions[0][0].saved_tensors[0]._storage)
    y.backward(retain_graph=True)
    assert saved() is not None
    y.backward()
    assert saved() is None
    assert x.grad.tolist() == pytest.approx([2 * 1.6487212707, 2 * 2.7182818284], rel=1e-6)


def test_the_graph_keeps_leaves_alive_until_it_is_dropped():
    x = plugrad.ones(3, requires_grad=True)
    ref = weakref.ref(x)
    y = (x * 2).sum()
    del x
    assert ref() is not None  # needed: backward accumulates into it
    y.backward()
    assert ref().grad.tolist() == [2.0, 2.0, 2.0]
    del y
    assert ref() is None


def test_a_leaf_does_not_keep_its_accumulator_alive():
    x = plugrad.ones(3, requires_grad=True)
    acc = weakref.ref((x * 2).grad_fn.next_functions[0][0])
    assert acc() is None
    assert x.requires_grad


def test_retain_grad_does_not_keep_the_tensor_alive():
    x = plugrad.ones(3, requires_grad=True)
    h = x * 2
    h.retain_grad()
    y = (h * 3).sum()  # nothing saves h
    ref = weakref.ref(h)
    del h
    assert ref() is None
    y.backward()
    assert x.grad.tolist() == [6.0, 6.0, 6.0]


def test_custom_function_saving_its_output_makes_no_cycle():
    class Exp(plugrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            r = x.exp()
            ctx.save_for_backward(r)
            return r

        @staticmethod
        def backward(ctx, g):
            (r,) = ctx.saved_tensors
            return g * r

    x = plugrad.ones(3, requires_grad=True)
    y = Exp.apply(x * 2)
    node = weakref.ref(y.grad_fn)
    out_storage = weakref.ref(y._storage)
    del y
    assert node() is None and out_storage() is None


def test_in_place_history_is_freed_with_its_output():
    x = plugrad.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    b = x * 1
    b[0].mul_(3)  # CopySlices on b
    v = b[:, 1]
    v.add_(1)
    y = (b * b).sum()
    nodes = graph_nodes(y) + graph_nodes(v)
    storage = weakref.ref(b._storage)
    del y, b, v
    assert alive(nodes) == [] and storage() is None


def test_anomaly_mode_traces_do_not_keep_graphs_alive():
    x = plugrad.ones(2, requires_grad=True)
    with plugrad.autograd.detect_anomaly():
        y = (x * 2).exp().sum()
    nodes = graph_nodes(y)
    del y
    assert alive(nodes) == []
