"""The ops of ``plugrad.ops.shaping`` (broadcasting, NumPy-style stacks and splits,
meshgrid, diff) against PyTorch: values, dtypes, ``grad_fn`` names, gradients and
exception classes, on every device."""

from __future__ import annotations

import warnings

import numpy as np
import plugrad
import pytest
from hypothesis import given, strategies as st
from op_oracle_support import compare, same_error

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch_oracle

RNG = np.random.default_rng(3)


def randn(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("shape,size", [((3,), (2, 3)), ((2, 1), (2, 4)), ((), (3,)), ((1, 3), (-1, 3)),
                                        ((2, 1), (0, 2, 0))])
def test_broadcast_to_matches_pytorch(device, shape, size):
    compare(device, lambda m, x: m.broadcast_to(x, size), [randn(*shape)], grad=(0,))


def test_broadcast_tensors_matches_pytorch(device):
    compare(device, lambda m, a, b, c: m.broadcast_tensors(a, b, c), [randn(3, 1), randn(4), randn()], grad=(0, 1, 2))
    compare(device, lambda m, a, b: m.broadcast_tensors(a, b), [np.arange(3), randn(2, 1)])


def test_broadcast_shapes_matches_pytorch():
    for shapes in [(1, (3, 1), [2, 1, 1]), (), ((0,), (1,)), ((2, 3),), (plugrad.Size([4, 1]), (5,))]:
        got = plugrad.broadcast_shapes(*shapes)
        assert isinstance(got, plugrad.Size) and tuple(got) == tuple(torch.broadcast_shapes(*shapes))


@pytest.mark.parametrize("call", [
    lambda m: m.broadcast_to(m.ones(3), (2,)), lambda m: m.broadcast_tensors(m.ones(3), m.ones(2)),
    lambda m: m.broadcast_shapes((2,), (3,)), lambda m: m.broadcast_shapes(-1),
])
def test_broadcast_errors_match_pytorch(call):
    same_error(call)


@pytest.mark.parametrize("indexing", ["ij", "xy"])
@pytest.mark.parametrize("shapes", [[(3,), (2,)], [(3,), ()], [(2,), (3,), (4,)], [(3,)], [(0,), (2,)]])
def test_meshgrid_matches_pytorch(device, indexing, shapes):
    arrays = [randn(*s) for s in shapes]
    compare(device, lambda m, *ts: m.meshgrid(*ts, indexing=indexing), arrays, grad=tuple(range(len(arrays))))
    compare(device, lambda m, *ts: m.meshgrid(list(ts), indexing=indexing), arrays)


def test_meshgrid_without_indexing_warns_and_uses_ij(device):
    with pytest.warns(UserWarning, match="indexing"):
        grids = plugrad.meshgrid(plugrad.arange(3, device=device), plugrad.arange(2, device=device))
    assert [tuple(g.shape) for g in grids] == [(3, 2), (3, 2)]


@pytest.mark.parametrize("call", [
    lambda m: m.meshgrid(m.ones(2, 2), indexing="ij"), lambda m: m.meshgrid(m.ones(2), indexing="yx"),
    lambda m: m.meshgrid(indexing="ij"), lambda m: m.meshgrid(m.ones(2), m.ones(2).double(), indexing="ij"),
])
def test_meshgrid_errors_match_pytorch(call):
    same_error(call)


@pytest.mark.parametrize("name", ["atleast_1d", "atleast_2d", "atleast_3d"])
@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 1, 3), (1, 2, 1, 2)])
def test_atleast_matches_pytorch(device, name, shape):
    compare(device, lambda m, x: getattr(m, name)(x), [randn(*shape)], grad=(0,))
    compare(device, lambda m, x, y: getattr(m, name)(x, y), [randn(*shape), randn(2)], grad=(0, 1))
    compare(device, lambda m, x, y: getattr(m, name)([x, y]), [randn(*shape), randn()])


def test_atleast_of_one_tensor_that_has_enough_dims_is_that_tensor(device):
    x = plugrad.ones(2, 2, device=device)
    assert plugrad.atleast_1d(x) is x and plugrad.atleast_2d(x) is x


@pytest.mark.parametrize("name", ["dstack", "column_stack", "row_stack", "hstack", "vstack"])
@pytest.mark.parametrize("shapes", [[(3,), (3,)], [(), ()], [(2, 3), (2, 3)], [(2, 1, 3), (2, 1, 3)],
                                    [(3,)]])
def test_stacks_match_pytorch(device, name, shapes):
    arrays = [randn(*s) for s in shapes]
    compare(device, lambda m, *ts: getattr(m, name)(list(ts)), arrays, grad=tuple(range(len(arrays))))


def test_stacks_promote_and_write_out(device):
    a, b = np.arange(3, dtype=np.int64), randn(3)
    for name in ("dstack", "column_stack", "row_stack"):
        compare(device, lambda m, x, y, name=name: getattr(m, name)([x, y]), [a, b])
        expected = getattr(torch, name)([torch.tensor(b), torch.tensor(b)]).numpy()
        out = plugrad.empty(0, device=device)
        x = plugrad.tensor(b, device=device)
        assert getattr(plugrad, name)([x, x], out=out) is out
        np.testing.assert_array_equal(out.cpu().numpy(), expected)


@pytest.mark.parametrize("call", [
    lambda m: m.dstack([]), lambda m: m.column_stack([]), lambda m: m.column_stack([m.ones(2), m.ones(3)]),
    lambda m: m.row_stack(m.ones(2)),
])
def test_stack_errors_match_pytorch(call):
    same_error(call)


@pytest.mark.parametrize("arg", [3, 1, 5, [1, 5, 3, 9, -2], [], (2,), [0, 0]])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_tensor_split_matches_pytorch(device, arg, dim):
    compare(device, lambda m, x: m.tensor_split(x, arg, dim), [randn(7, 4)], grad=(0,))
    compare(device, lambda m, x: x.tensor_split(arg, dim=dim), [np.arange(28).reshape(7, 4)])


def test_tensor_split_takes_a_tensor_of_sections_or_indices(device):
    for arg in (np.array(3), np.array([2, 5])):
        compare(device, lambda m, x, a: m.tensor_split(x, a), [randn(7), arg])


@given(st.integers(1, 9), st.integers(1, 5))
def test_tensor_split_sections_match_pytorch(n, k):
    compare("cpu", lambda m, x: m.tensor_split(x, k), [np.arange(n)])


@pytest.mark.parametrize("name,shape,arg", [("hsplit", (6,), 3), ("hsplit", (2, 4), [1, 3]), ("hsplit", (2, 4), 2),
                                            ("vsplit", (4, 2), 2), ("vsplit", (4, 2), [3]),
                                            ("dsplit", (2, 2, 4), 4), ("dsplit", (2, 2, 4), [1])])
def test_hvd_split_match_pytorch(device, name, shape, arg):
    compare(device, lambda m, x: getattr(m, name)(x, arg), [randn(*shape)], grad=(0,))
    compare(device, lambda m, x: getattr(x, name)(arg), [randn(*shape)])


@pytest.mark.parametrize("call", [
    lambda m: m.tensor_split(m.tensor(1.0), 2), lambda m: m.tensor_split(m.ones(3), 0),
    lambda m: m.tensor_split(m.ones(3), 2.0), lambda m: m.tensor_split(m.ones(3), m.tensor([[1]])),
    lambda m: m.tensor_split(m.ones(3), m.tensor(1.5)), lambda m: m.hsplit(m.ones(3), 2),
    lambda m: m.vsplit(m.ones(3), 1), lambda m: m.dsplit(m.ones(2, 2), 1), lambda m: m.hsplit(m.tensor(1.0), 1),
    lambda m: m.tensor_split(m.ones(3), 2, dim=1),
])
def test_split_errors_match_pytorch(call):
    same_error(call)


@pytest.mark.parametrize("n", [0, 1, 2, 5])
@pytest.mark.parametrize("dim", [0, -1])
def test_diff_matches_pytorch(device, n, dim):
    compare(device, lambda m, x: m.diff(x, n, dim), [randn(4, 3)], grad=(0,), grad_fn=n > 0)
    compare(device, lambda m, x, p, a: m.diff(x, n, dim, prepend=p, append=a),
            [randn(4, 3), randn(1, 3) if dim == 0 else randn(4, 1), randn(2, 3) if dim == 0 else randn(4, 2)],
            grad=(0, 1, 2), grad_fn=n > 0)


def test_diff_of_bools_and_integers_matches_pytorch(device):
    compare(device, lambda m, x: m.diff(x), [np.array([True, False, False, True])])
    compare(device, lambda m, x: x.diff(2), [np.array([1, 5, 2, 7], np.uint8)])
    compare(device, lambda m, x, p: m.diff(x, prepend=p), [np.array([1, 2]), np.array([1.5], np.float32)])


@pytest.mark.parametrize("call", [
    lambda m: m.diff(m.tensor(1.0)), lambda m: m.diff(m.ones(3), n=-1),
    lambda m: m.diff(m.ones(3), prepend=m.ones(2, 2)), lambda m: m.diff(m.ones(3), prepend=1.0),
    lambda m: m.diff(m.ones(3), dim=3),
])
def test_diff_errors_match_pytorch(call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        same_error(call)


def test_diff_writes_out_and_broadcast_to_is_a_method(device):
    a = randn(4, 3)
    for n in (0, 1, 2):
        out = plugrad.empty(0, device=device)
        assert plugrad.diff(plugrad.tensor(a, device=device), n, 0, out=out) is out
        np.testing.assert_array_equal(out.cpu().numpy(), torch.diff(torch.tensor(a), n, 0).numpy())
    compare(device, lambda m, x: x.broadcast_to((2, 4, 3)), [a], grad=(0,))
