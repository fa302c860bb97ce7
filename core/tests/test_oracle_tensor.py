"""The torch oracle: the same expression run with plugrad and with PyTorch must give the
same values, dtypes and shapes, or raise the same exception class (tinygrad's
``helper_test_op`` idea, for the Tensor API). Skipped where PyTorch is not installed.

Each case is a function of the library (``m`` is ``plugrad`` or ``torch``) and of
NumPy inputs, which the helper turns into each library's tensors.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import plugrad
from tensor_api_support import ALL_DTYPES, broadcastable_pairs, check_like_torch, np_dtype

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch_oracle

A = np.arange(12, dtype=np.float32).reshape(3, 4) - 5.5
I = np.arange(24).reshape(2, 3, 4) - 7


def seq(*steps):
    """A case made of statements: each step is ``f(m, x)`` run for its effect; returns x."""
    def run(m, x):
        for step in steps:
            step(m, x)
        return x
    return run


CASES = {
    # creation
    "tensor-nested": (lambda m: m.tensor([[1, 2], [3, 4]]), ()),
    "tensor-mixed": (lambda m: m.tensor([[1, 2.5], [True, 0]]), ()),
    "tensor-scalar": (lambda m: m.tensor(3.5), ()),
    "tensor-dtype": (lambda m: m.tensor([1.7, -2.2], dtype=m.int16), ()),
    "tensor-of-0d-tensors": (lambda m: (m.tensor([m.tensor(3, dtype=m.int8)]), m.tensor([m.tensor(3, dtype=m.int8), 1]),
                                        m.tensor([m.tensor(1.5, dtype=m.float64), 2])), ()),
    "tensor-bad-nesting": (lambda m: m.tensor([[1, 2], 3]), ()),
    "zeros-int": (lambda m: m.zeros(2, 3, dtype=m.int32), ()),
    "ones-like": (lambda m, x: m.ones_like(x), (I,)),
    "full-bool": (lambda m: m.full((2, 2), True), ()),
    "full-like": (lambda m, x: m.full_like(x, 2.5), (A,)),
    "arange-float": (lambda m: m.arange(-1.0, 1.0, 0.25), ()),
    "arange-int": (lambda m: m.arange(10, 0, -3), ()),
    "linspace": (lambda m: m.linspace(-5, 5, 11), ()),
    "linspace-int": (lambda m: m.linspace(0, 10, 5, dtype=m.int64), ()),
    "eye": (lambda m: m.eye(3, 5, dtype=m.float64), ()),
    "empty-shape": (lambda m: m.empty(2, 0, 3).shape, ()),
    # attributes
    "size": (lambda m, x: (x.size(), x.size(-1), x.dim(), x.ndim, x.numel()), (I,)),
    "stride-views": (lambda m, x: (x.stride(), x.t().stride(), x[:, 1].stride(), x[::2, 1:].stride()), (A,)),
    "is-contiguous": (lambda m, x: (x.is_contiguous(), x.t().is_contiguous(), x[:, :1].is_contiguous()), (A,)),
    "item-tolist": (lambda m, x: (x[1, 2].item(), x.tolist()), (A,)),
    "T": (lambda m, x: x.T, (A,)),
    # views
    "view-minus-one": (lambda m, x: x.view(-1, 2), (A,)),
    "view-bad": (lambda m, x: x.t().view(-1), (A,)),
    "reshape-t": (lambda m, x: x.t().reshape(2, 6), (A,)),
    "permute": (lambda m, x: x.permute(2, 0, 1), (I,)),
    "transpose": (lambda m, x: x.transpose(-1, 0), (I,)),
    "squeeze": (lambda m, x: (x.unsqueeze(0).unsqueeze(-1).squeeze().shape, x.squeeze(0).shape), (A,)),
    "squeeze-dims": (lambda m, x: x.reshape(1, 3, 1, 4).squeeze((0, 2)).shape, (A,)),
    "unsqueeze": (lambda m, x: x.unsqueeze(-2), (A,)),
    "expand": (lambda m, x: x[:, :1].expand(3, 5), (A,)),
    "expand-new-dims": (lambda m, x: x[0].expand(2, -1, 4), (I,)),
    "expand-as": (lambda m, x: x[:1].expand_as(x), (A,)),
    "flatten": (lambda m, x: x.flatten(1), (I,)),
    "narrow": (lambda m, x: x.narrow(-1, 1, 2), (I,)),
    "select": (lambda m, x: x.select(1, -1), (I,)),
    "chunk": (lambda m, x: x.chunk(3, dim=-1), (I,)),
    "split": (lambda m, x: x.split([1, 3], dim=2), (I,)),
    "split-size": (lambda m, x: x.split(3, 2), (I,)),
    "contiguous": (lambda m, x: x.t().contiguous().stride(), (A,)),
    "unbind": (lambda m, x: x.unbind(1), (A,)),
    "chunk-empty": (lambda m: m.ones(0, 2).chunk(3), ()),
    "in-place-views": (lambda m, x: (x.clone().t_().stride(), x.clone().unsqueeze_(1).shape,
                                     x.clone().unsqueeze_(0).squeeze_().shape, x.clone().transpose_(0, 1)), (A,)),
    "in-place-view-grad": (lambda m, x: [type(f(x.detach().clone().requires_grad_() * 2).grad_fn).__name__ for f in (
        lambda y: y.t_(), lambda y: y.transpose_(0, 1), lambda y: y.unsqueeze_(0), lambda y: y.squeeze_(),
        lambda y: y.squeeze_(0), lambda y: y.squeeze_((0,)))], (A,)),
    # indexing
    "index-basic": (lambda m, x: x[1:, ::2, None, -1], (I,)),
    "index-ellipsis": (lambda m, x: x[..., 1:3], (I,)),
    "index-list": (lambda m, x: x[[1, 0, 1]], (I,)),
    "index-tensors": (lambda m, x: x[m.tensor([0, 1]), :, m.tensor([3, -1])], (I,)),
    "index-mask": (lambda m, x: x[x > 3], (A,)),
    "index-mask-2d": (lambda m, x: x[x.sum(-1) > 0], (I,)),
    "index-mixed": (lambda m, x: x[1, [0, 2], 1:], (I,)),
    "index-oob": (lambda m, x: x[3], (A,)),
    "setitem-mask": (seq(lambda m, x: x.__setitem__(x < 0, 0)), (A,)),
    "setitem-slice-tensor": (seq(lambda m, x: x.__setitem__((slice(None), 1), m.tensor([1.0, 2.0, 3.0]))), (A,)),
    "setitem-fancy": (seq(lambda m, x: x.__setitem__(([0, 2], [1, 3]), m.tensor([9.0, 8.0]))), (A,)),
    "setitem-view": (seq(lambda m, x: x.t()[1].fill_(7), lambda m, x: x[::2].mul_(2)), (A,)),
    "setitem-iadd": (seq(lambda m, x: x[[0, 2]].__iadd__(1), lambda m, x: x.__setitem__([0, 2], x[[0, 2]] + 1)),
                     (A,)),
    # math
    "add-broadcast": (lambda m, x, y: x + y, (A, A[:1])),
    "int-float": (lambda m, x: x + 1.5, (I,)),
    "int-div": (lambda m, x: (x / 2, x // 3, x % 3, -x // 4), (I,)),
    "reflected": (lambda m, x: (2 - x, 2 / (x + 6), 2 ** (x / 4), 3 // (x + 6), 7 % (x + 6)), (A,)),
    "pow-int": (lambda m, x: (x ** 2, m.tensor([2, 3]) ** m.tensor([3, 2])), (I,)),
    "uint8-wrap": (lambda m: (m.tensor([1, 2, 3], dtype=m.uint8) - 5, m.tensor([200], dtype=m.uint8) * 2), ()),
    "int8-scalar-wrap": (lambda m: m.tensor([1, 2], dtype=m.int8) + 300, ()),
    "unary": (lambda m, x: (x.neg(), x.abs(), x.exp(), x.sin(), x.cos(), x.tanh(), x.sigmoid(), x.relu()), (A,)),
    "log-sqrt": (lambda m, x: (x.log(), x.sqrt()), (A,)),
    "clamp": (lambda m, x: (x.clamp(-1, 2), x.clamp(min=0), x.clamp(max=-1.5), m.clamp(x, 3, 1)), (A,)),
    "clamp-int": (lambda m, x: (x.clamp(-2, 2), x.clamp(0.5)), (I,)),
    "maximum": (lambda m, x, y: (m.maximum(x, y), m.minimum(x, y)), (A, A.T[:1].T)),
    "where": (lambda m, x: (m.where(x > 0, x, 0.0), m.where(x > 0, 1, 0), m.where(x > 0, x, m.tensor(1))), (A,)),
    "matmul-batched": (lambda m, x, y: x.float() @ y, (I, A.T[:, :3].copy())),
    "mm-bmm-dot": (lambda m, x: (m.mm(x, x.t()), m.bmm(x.unsqueeze(0), x.t().unsqueeze(0)), m.dot(x[0], x[1])),
                   (A,)),
    "comparisons": (lambda m, x, y: (x == y, x != y, x < y, x <= y, x > y, x >= y, x.eq(1), x.lt(y)), (I, I[0, 0])),
    "logical": (lambda m, x: (m.logical_and(x, x > 0), m.logical_or(x, x - 1), m.logical_xor(x, x),
                              m.logical_not(x)), (I,)),
    "allclose-equal": (lambda m, x: (m.allclose(x, x + 1e-7), m.equal(x, x.clone()), x.allclose(x * 2)), (A,)),
    "cat-stack": (lambda m, x: (m.cat([x, x], 1), m.stack([x, x], -1), m.cat([x, x.int()])), (A,)),
    # reductions
    "sum": (lambda m, x: (x.sum(), x.sum(0), x.sum((0, 2), keepdim=True), x.sum(-1, dtype=m.float32)), (I,)),
    "mean-var-std": (lambda m, x: (x.mean(), x.mean(1, True), x.var(0), x.std(1, correction=0)), (A,)),
    "prod": (lambda m, x: (x.prod(), x.prod(1)), (I[:, :, :2] % 3 + 1,)),
    "max-min": (lambda m, x: (x.max(), x.min(), x.max(1), x.min(0, keepdim=True), x.argmax(), x.argmin(1)), (A,)),
    "all-any": (lambda m, x: (x.all(), x.any(), (x > 0).all(1), (x > 0).any(0, keepdim=True)), (I,)),
    "cumsum": (lambda m, x: (x.cumsum(0), x.cumsum(-1), (x > 0).cumsum(1)), (I,)),
    "softmax": (lambda m, x: (x.softmax(0), x.log_softmax(-1), m.softmax(x, dim=1)), (A,)),
    "empty-reductions": (lambda m: (m.zeros(0).sum(), m.zeros(0, 3).sum(0), m.zeros(0).prod()), ()),
    # in-place and out=
    "inplace-chain": (seq(lambda m, x: x.add_(1), lambda m, x: x.mul_(2), lambda m, x: x.sub_(0.5),
                          lambda m, x: x.div_(4), lambda m, x: x.pow_(2), lambda m, x: x.clamp_(0, 3)), (A,)),
    "inplace-views": (seq(lambda m, x: x.view(-1)[::3].zero_(), lambda m, x: x.t()[0].fill_(5),
                          lambda m, x: x[1].copy_(m.tensor([1, 2, 3, 4]))), (A,)),
    "inplace-bad-dtype": (lambda m, x: x.add_(0.5), (I,)),
    "inplace-bad-shape": (lambda m, x: x.add_(m.ones(2, 3, 4)), (A,)),
    "out": (lambda m, x, y: m.add(x, y, out=m.empty(3, 4)), (I[0], I[1])),
    "out-resize": (lambda m, x: m.mul(x, 2, out=m.empty(0)), (A,)),
    # conversion
    "to-dtype": (lambda m, x: (x.to(m.int32), x.to(m.float16), x.to("cpu", m.float64), x.to(m.bool)), (A,)),
    "casting-methods": (lambda m, x: (x.float(), x.double(), x.half(), x.long(), x.int(), x.bool(), x.byte()), (A,)),
    "type-strings": (lambda m, x: (x.type(), x.double().type(), x.type(m.int16).type(), x.type("torch.LongTensor")),
                     (A,)),
    "clone": (lambda m, x: x.t().clone(), (A,)),
    "numpy": (lambda m, x: m.tensor(x.numpy() * 2), (A,)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_same_as_torch(name):
    fn, inputs = CASES[name]
    check_like_torch(fn, *[np.array(i) for i in inputs])


def test_seeded_random_shapes_dtypes_and_ranges_match_torch():
    # the values differ (each library has its own generator); everything else must not
    for make in (lambda m: m.rand(2, 3), lambda m: m.randn(4, dtype=m.float64),
                 lambda m: m.randint(3, 9, (5,)), lambda m: m.randint(4, (2, 2), dtype=m.int32),
                 lambda m: m.randperm(6), lambda m: m.rand_like(m.zeros(3, dtype=m.float16))):
        ours, theirs = make(plugrad), make(torch)
        assert ours.shape == theirs.shape and repr(ours.dtype) == repr(theirs.dtype)


# ---- fuzzing binary ops over every dtype pair ---------------------------------------------------------------

BINARY_OPS = {
    "add": lambda m, x, y: x + y, "sub": lambda m, x, y: x - y, "mul": lambda m, x, y: x * y,
    "truediv": lambda m, x, y: x / y, "floordiv": lambda m, x, y: x // y, "mod": lambda m, x, y: x % y,
    "pow": lambda m, x, y: x ** y, "maximum": lambda m, x, y: m.maximum(x, y), "lt": lambda m, x, y: x < y,
    "eq": lambda m, x, y: x == y, "logical_and": lambda m, x, y: m.logical_and(x, y),
    "where": lambda m, x, y: m.where(x > 1, x, y), "matmul": lambda m, x, y: x.reshape(-1) @ y.reshape(-1),
    "cat": lambda m, x, y: m.cat([x.reshape(-1), y.reshape(-1)]),
}


def small_values(dtype, shape):
    nd = np_dtype(dtype)
    if dtype is plugrad.bool:
        return hnp.arrays(nd, shape)
    lo = 0 if dtype is plugrad.uint8 else -3
    return hnp.arrays(nd, shape, elements=st.integers(lo, 4).map(lambda v: v / 2 if nd.kind == "f" else v))


@given(st.sampled_from(list(BINARY_OPS)), st.sampled_from(ALL_DTYPES), st.sampled_from(ALL_DTYPES),
       broadcastable_pairs(max_dims=3, max_side=3), st.data())
def test_binary_ops_over_dtype_pairs_match_torch(op, a, b, shape_pair, data):
    x = data.draw(small_values(a, shape_pair[0]))
    y = data.draw(small_values(b, shape_pair[1]))
    half = plugrad.float16 in (a, b)
    check_like_torch(BINARY_OPS[op], x, y, rtol=1e-2 if half else 1e-5, atol=1e-2 if half else 1e-6)


@given(st.sampled_from(ALL_DTYPES), st.sampled_from([-3, 0, 2, 1.5, True, 300]),
       st.sampled_from(["add", "sub", "mul", "truediv", "floordiv", "mod", "lt", "eq"]),
       st.booleans(), st.data())
def test_tensor_scalar_ops_match_torch(dtype, scalar, op, reflected, data):
    x = data.draw(small_values(dtype, (3,)))
    fn = BINARY_OPS[op]
    half = dtype is plugrad.float16
    if reflected:
        check_like_torch(lambda m, t: fn(m, scalar, t) if op not in ("lt", "eq") else fn(m, t, scalar), x,
                         rtol=1e-2 if half else 1e-5, atol=1e-2 if half else 1e-6)
    else:
        check_like_torch(lambda m, t: fn(m, t, scalar), x, rtol=1e-2 if half else 1e-5, atol=1e-2 if half else 1e-6)
