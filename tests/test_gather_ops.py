"""The ops of ``plugrad.ops.gather`` (take_along_dim, repeat_interleave, index_copy,
index_fill, masked_scatter, scatter_reduce) against PyTorch: values, dtypes,
``grad_fn`` names, gradients and exception classes, on every device."""

from __future__ import annotations

import numpy as np
import plugrad
import pytest
from hypothesis import given, strategies as st
from op_oracle_support import compare, make, same_error, to_numpy

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch_oracle

RNG = np.random.default_rng(5)


def randn(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def idx(*values):
    return np.array(values, dtype=np.int64)


@pytest.mark.parametrize("shape,index,dim", [((3, 2), [[0], [1], [0]], 1), ((3, 2), [[0, 1]], 0),
                                             ((3, 2), [[0, 1, 0]], -1), ((3, 2), [0, 5], None),
                                             ((2, 3, 4), [[[3, 0]]], 2), ((3,), [2, 2, 0], 0)])
def test_take_along_dim_matches_pytorch(device, shape, index, dim):
    compare(device, lambda m, x, i: m.take_along_dim(x, i, dim), [randn(*shape), np.array(index)], grad=(0,))
    compare(device, lambda m, x, i: x.take_along_dim(i, dim=dim), [np.arange(int(np.prod(shape))).reshape(shape),
                                                                   np.array(index)])


@pytest.mark.parametrize("call", [
    lambda m: m.take_along_dim(m.ones(3, 2), m.tensor([0, 1]), 1),
    lambda m: m.take_along_dim(m.ones(3, 2), m.tensor([[0, 1]], dtype=m.int32), 1),
    lambda m: m.take_along_dim(m.ones(3, 2), m.zeros(2, 2, dtype=m.long), 1),
    lambda m: m.take_along_dim(m.ones(3, 2), m.tensor([[0, 6]])),
])
def test_take_along_dim_errors_match_pytorch(call):
    same_error(call)


@pytest.mark.parametrize("repeats,dim", [(2, None), (2, 1), (0, 0), (3, -1), (np.array(2), 1), (np.array([2]), 0),
                                         (np.array([1, 0, 2]), 0), (np.array([1, 0, 2, 1, 1, 1]), None)])
def test_repeat_interleave_matches_pytorch(device, repeats, dim):
    if isinstance(repeats, np.ndarray):
        compare(device, lambda m, x, r: m.repeat_interleave(x, r, dim), [randn(3, 2), repeats], grad=(0,))
        compare(device, lambda m, x, r: x.repeat_interleave(r, dim=dim), [np.arange(6).reshape(3, 2), repeats])
    else:
        compare(device, lambda m, x: m.repeat_interleave(x, repeats, dim), [randn(3, 2)], grad=(0,))
        compare(device, lambda m, x: x.repeat_interleave(repeats, dim), [np.arange(6).reshape(3, 2) > 2])


def test_repeat_interleave_of_counts_alone_and_output_size(device):
    compare(device, lambda m, r: m.repeat_interleave(r), [idx(1, 0, 2)])
    compare(device, lambda m, r: m.repeat_interleave(r, output_size=3), [idx(1, 0, 2)])
    compare(device, lambda m, x: m.repeat_interleave(x, 2, dim=0, output_size=6), [randn(3, 2)], grad=(0,))
    compare(device, lambda m, x: m.repeat_interleave(x, 2), [randn()], grad=(0,))


@given(st.lists(st.integers(0, 3), min_size=1, max_size=5))
def test_repeat_interleave_counts_match_pytorch(counts):
    compare("cpu", lambda m, x, r: m.repeat_interleave(x, r, 0), [randn(len(counts), 2), np.array(counts)], grad=(0,))


@pytest.mark.parametrize("call", [
    lambda m: m.repeat_interleave(m.tensor(2)), lambda m: m.repeat_interleave(m.tensor([1.0, 2.0])),
    lambda m: m.repeat_interleave(m.ones(3, 2), -1),
    lambda m: m.repeat_interleave(m.ones(3, 2), m.tensor([1, -1, 2]), 0),
    lambda m: m.repeat_interleave(m.ones(3, 2), m.tensor([1, 1]), 0),
    lambda m: m.repeat_interleave(m.ones(3, 2), m.tensor([1.0, 1, 1]), 0),
    lambda m: m.repeat_interleave(m.ones(3, 2), 2, dim=0, output_size=5),
    lambda m: m.repeat_interleave(m.ones(3, 2), 2, dim=2), lambda m: m.repeat_interleave(m.ones(3, 2), 2.0),
    lambda m: m.repeat_interleave(m.ones(3, 2), [1, 2, 3], 0),
])
def test_repeat_interleave_errors_match_pytorch(call):
    same_error(call)


@pytest.mark.parametrize("shape,dim,index,source", [((3, 2), 0, [2, 0], (2, 2)), ((3, 2), 1, [1], (3, 1)),
                                                    ((3, 2), 0, [-1], (1, 2)), ((2, 3, 2), 1, [0, 2], (2, 2, 2)),
                                                    ((3,), 0, [1], (1,)), ((), 0, [0], ())])
def test_index_copy_matches_pytorch(device, shape, dim, index, source):
    if index == [-1]:   # PyTorch refuses a negative index
        same_error(lambda m: m.index_copy(m.ones(*shape), dim, m.tensor(index), m.ones(*source)))
        return
    compare(device, lambda m, x, i, s: m.index_copy(x, dim, i, s), [randn(*shape), np.array(index), randn(*source)],
            grad=(0, 2))
    compare(device, lambda m, x, i, s: x.index_copy(dim, i, s), [np.zeros(shape, np.int32), np.array(index),
                                                                np.ones(source, np.int32)])


def test_index_copy_in_place(device):
    x, s = randn(3, 2), randn(2, 2)
    expected = torch.tensor(x).index_copy_(0, torch.tensor([2, 0]), torch.tensor(s)).numpy()
    y = plugrad.tensor(x, device=device)
    assert y.index_copy_(0, plugrad.tensor([2, 0], device=device), plugrad.tensor(s, device=device)) is y
    np.testing.assert_array_equal(y.cpu().numpy(), expected)


@pytest.mark.parametrize("call", [
    lambda m: m.index_copy(m.ones(3, 2), 0, m.tensor([2, 0], dtype=m.int32), m.ones(2, 2)),
    lambda m: m.index_copy(m.ones(3, 2), 0, m.tensor([2.0, 0]), m.ones(2, 2)),
    lambda m: m.index_copy(m.ones(3, 2), 0, m.tensor([3, 0]), m.ones(2, 2)),
    lambda m: m.index_copy(m.ones(3, 2), 0, m.tensor([2]), m.ones(2, 2)),
    lambda m: m.index_copy(m.ones(3, 2), 0, m.tensor([2, 0]), m.ones(2, 2, dtype=m.float64)),
    lambda m: m.index_copy(m.ones(3, 2), 0, m.tensor([[2, 0]]), m.ones(2, 2)),
])
def test_index_copy_errors_match_pytorch(call):
    same_error(call)


@pytest.mark.parametrize("dim,index,value", [(0, [2, 0], 1.5), (1, [-1], -2.0), (1, 1, 3.0), (0, [], 1.0)])
def test_index_fill_matches_pytorch(device, dim, index, value):
    i = np.array(index, dtype=np.int64)
    compare(device, lambda m, x, i: m.index_fill(x, dim, i, value), [randn(3, 2), i], grad=(0,))
    # (PyTorch's own backward for a tensor value fails on a negative index)
    compare(device, lambda m, x, i, v: x.index_fill(dim, i, v), [randn(3, 2), i, np.float32(value)],
            grad=(0, 2) if (i >= 0).all() else (0,))
    compare(device, lambda m, x, i: m.index_fill(x, dim, i, 2.7), [np.arange(6).reshape(3, 2), i])
    compare(device, lambda m, x, i: m.index_fill(x, dim, i, 0), [np.ones((3, 2), bool), i])


def test_index_fill_in_place(device):
    x = randn(3, 2)
    expected = torch.tensor(x).index_fill_(1, torch.tensor([0]), -1.0).numpy()
    y = plugrad.tensor(x, device=device)
    assert y.index_fill_(1, plugrad.tensor([0], device=device), -1.0) is y
    np.testing.assert_array_equal(y.cpu().numpy(), expected)


@pytest.mark.parametrize("call", [
    lambda m: m.index_fill(m.ones(3, 2), 1, m.tensor([2]), 1.5),
    lambda m: m.index_fill(m.ones(3, 2), 1, m.tensor([1], dtype=m.int32), 1.5),
    lambda m: m.index_fill(m.ones(3, 2), 1, m.tensor([1]), m.tensor([2.0])),
    lambda m: m.index_fill(m.ones(3, 2), 1, m.tensor([[1]]), 1.5),
])
def test_index_fill_errors_match_pytorch(call):
    same_error(call)


@pytest.mark.parametrize("mask,source", [([[True, False], [False, True], [True, True]], (2, 3)),
                                         ([True, False], (6,)), ([[False, False]] * 3, (0,)),
                                         ([[True], [False], [True]], (5,))])
def test_masked_scatter_matches_pytorch(device, mask, source):
    m_ = np.array(mask)
    compare(device, lambda m, x, k, s: m.masked_scatter(x, k, s), [randn(3, 2), m_, randn(*source)], grad=(0, 2))
    compare(device, lambda m, x, k, s: x.masked_scatter(k, s), [np.zeros((3, 2), np.int64), m_,
                                                                np.arange(int(np.prod(source))).reshape(source)])
    x = make(plugrad, randn(3, 2), device)
    expected = make(torch, to_numpy(x)).masked_scatter_(make(torch, m_), torch.ones(source)).numpy()
    assert x.masked_scatter_(make(plugrad, m_, device), plugrad.ones(source, device=device)) is x
    np.testing.assert_array_equal(to_numpy(x), expected)


@pytest.mark.parametrize("call", [
    lambda m: m.ones(3, 2).masked_scatter(m.ones(3, 2, dtype=m.bool), m.arange(3.0)),
    lambda m: m.ones(3, 2).masked_scatter(m.ones(3, 2, dtype=m.int32), m.arange(6.0)),
    lambda m: m.ones(3, 2).masked_scatter(m.ones(3, 2, dtype=m.bool), m.arange(6)),
    lambda m: m.ones(3, 2).masked_scatter_(m.ones(2, 3, 2, dtype=m.bool), m.arange(12.0)),
])
def test_masked_scatter_errors_match_pytorch(call):
    same_error(call)


SCATTER_INDEX = np.array([[0, 1], [0, 0], [2, 1]])


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_matches_pytorch(device, reduce, include_self):
    compare(device, lambda m, x, i, s: m.scatter_reduce(x, 0, i, s, reduce, include_self=include_self),
            [randn(3, 2), SCATTER_INDEX, randn(3, 2)], grad=(0, 2), rtol=1e-5)
    compare(device, lambda m, x, i, s: x.scatter_reduce(1, i, s, reduce, include_self=include_self),
            [randn(2, 4), np.array([[3, 3, 0], [1, 1, 1]]), randn(2, 3)], grad=(0, 2), rtol=1e-5)
    # a src larger than the index: only its leading corner is read (PyTorch's own backward
    # fails there, so the values are compared, and the gradient is zero outside the corner)
    got = compare(device, lambda m, x, i, s: x.scatter_reduce(1, i, s, reduce, include_self=include_self),
                  [randn(2, 4), np.array([[3, 3, 0], [1, 1, 1]]), randn(2, 5)], rtol=1e-5)
    src = plugrad.tensor(randn(2, 5), device=device, requires_grad=True)
    y = plugrad.zeros(2, 4, device=device).scatter_reduce(1, plugrad.tensor([[3, 3, 0]], device=device), src, reduce)
    (g,) = plugrad.autograd.grad(y.sum(), [src])
    assert got and not g.cpu().numpy()[:, 3:].any() and not g.cpu().numpy()[1:].any()


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
def test_scatter_reduce_of_ties_and_zeros_has_pytorchs_gradient(device, reduce):
    x = np.array([[1.0, 0.0], [2.0, 2.0], [0.0, 3.0]], np.float32)
    src = np.array([[2.0, 0.0], [2.0, 3.0], [0.0, 3.0]], np.float32)
    compare(device, lambda m, a, i, s: m.scatter_reduce(a, 0, i, s, reduce), [x, SCATTER_INDEX, src], grad=(0, 2))


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("dtype", ["int8", "int64", "bool"])
def test_scatter_reduce_of_integers_matches_pytorch(device, reduce, dtype):
    x, src = np.array([-7, 3, 5]).astype(dtype), np.array([100, 2, 3, 4]).astype(dtype)
    if dtype == "bool" and reduce == "mean":
        same_error(lambda m: m.scatter_reduce(m.tensor(x), 0, m.tensor([0, 0, 1, 0]), m.tensor(src), reduce))
        return
    for include_self in (True, False):
        compare(device, lambda m, a, i, s, keep=include_self: m.scatter_reduce(a, 0, i, s, reduce, include_self=keep),
                [x, np.array([0, 0, 1, 0]), src])


def test_scatter_reduce_in_place(device):
    x, src = randn(3, 2), randn(3, 2)
    expected = torch.tensor(x).scatter_reduce_(0, torch.tensor(SCATTER_INDEX), torch.tensor(src), "amax").numpy()
    y = plugrad.tensor(x, device=device)
    assert y.scatter_reduce_(0, plugrad.tensor(SCATTER_INDEX, device=device), plugrad.tensor(src, device=device),
                             "amax") is y
    np.testing.assert_array_equal(y.cpu().numpy(), expected)


@pytest.mark.parametrize("call", [
    lambda m: m.scatter_reduce(m.ones(3), 0, m.tensor([0]), m.ones(1), "foo"),
    lambda m: m.scatter_reduce(m.ones(3), 0, m.tensor([0]), m.ones(1, dtype=m.float64), "sum"),
    lambda m: m.scatter_reduce(m.ones(3), 0, m.tensor([3]), m.ones(1), "sum"),
    lambda m: m.scatter_reduce(m.ones(3), 0, m.tensor([0]), m.ones(1)),
    lambda m: m.scatter_reduce(m.ones(3, 2), 0, m.tensor([0]), m.ones(1), "sum"),
])
def test_scatter_reduce_errors_match_pytorch(call):
    same_error(call)


def test_index_copy_and_scatter_reduce_write_out(device):
    x, s = randn(3, 2), randn(2, 2)
    cases = [("index_copy", (0, idx(2, 0), s), {}), ("scatter_reduce", (0, SCATTER_INDEX[:2], s, "amin"), {}),
             ("scatter_reduce", (0, SCATTER_INDEX[:2], s, "mean"), {"include_self": False})]
    for name, args, kwargs in cases:
        expected = getattr(torch, name)(torch.tensor(x), *[torch.tensor(a) if isinstance(a, np.ndarray) else a
                                                           for a in args], **kwargs).numpy()
        out = plugrad.empty(0, device=device)
        got = getattr(plugrad, name)(plugrad.tensor(x, device=device), *[
            plugrad.tensor(a, device=device) if isinstance(a, np.ndarray) else a for a in args], **kwargs, out=out)
        assert got is out
        np.testing.assert_allclose(out.cpu().numpy(), expected, rtol=1e-6)


@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 6),
       st.sampled_from(["sum", "prod", "mean", "amax", "amin"]), st.booleans(), st.integers(0, 2 ** 16))
def test_random_scatter_reduce_matches_pytorch(rows, cols, picks, reduce, include_self, seed):
    rng = np.random.default_rng(seed)
    index = rng.integers(0, rows, (picks, cols))
    # a coarse grid of values: ties and zeros are common
    x = rng.integers(-2, 3, (rows, cols)).astype(np.float32)
    src = rng.integers(-2, 3, (picks, cols)).astype(np.float32)
    compare("cpu", lambda m, a, i, s: m.scatter_reduce(a, 0, i, s, reduce, include_self=include_self),
            [x, index, src], grad=(0, 2), rtol=1e-5)


@given(st.lists(st.integers(1, 3), min_size=1, max_size=3), st.integers(0, 3), st.integers(0, 2 ** 16))
def test_random_take_along_dim_matches_pytorch(shape, dim, seed):
    rng = np.random.default_rng(seed)
    dim %= len(shape)
    ishape = [rng.choice([1, n]) for n in shape]
    ishape[dim] = int(rng.integers(0, 4))
    index = rng.integers(0, shape[dim], ishape)
    compare("cpu", lambda m, x, i: m.take_along_dim(x, i, dim), [randn(*shape), index], grad=(0,))
