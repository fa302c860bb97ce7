"""nn.functional ops against PyTorch: convolution, unfold/fold, pooling, linear,
embedding, batch/layer norm, padding, dropout, one_hot and the activations; values,
gradients (first and second order) and grad_fn names."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import plugrad
import plugrad.nn.functional as F
from nn_support import assert_close, pair

torch = pytest.importorskip("torch")
TF = torch.nn.functional
pytestmark = pytest.mark.torch_oracle

RNG = np.random.default_rng(1234)


def randn(*shape):
    return RNG.standard_normal(shape)


def check_op(pg_fn, torch_fn, arrays, rtol=1e-7, atol=1e-9, same_name=True):
    """Run the op in both libraries on float64 copies of ``arrays``; compare the output,
    its grad_fn name and the gradients of every array."""
    tt, pp = zip(*(pair(torch, a) for a in arrays))
    to, po = torch_fn(*tt), pg_fn(*pp)
    assert_close(po, to, rtol, atol)
    if same_name:
        assert type(po.grad_fn).__name__ == type(to.grad_fn).__name__
    g = randn(*to.shape)
    to.backward(torch.tensor(g))
    po.backward(plugrad.tensor(g))
    for t, p in zip(tt, pp):
        assert_close(p.grad, t.grad, rtol, atol)
    return po


def check_double_backward(pg_fn, torch_fn, arrays, rtol=1e-6, atol=1e-8):
    """Second derivatives: d/d(inputs) of sum(grad^2) where grad = d sum(out^2)/d(inputs)."""
    results = []
    for lib, fn in ((torch, torch_fn), (plugrad, pg_fn)):
        xs = [lib.tensor(a, requires_grad=True) for a in arrays]
        out = fn(*xs)
        grads = lib.autograd.grad((out * out).sum(), xs, create_graph=True)
        sum(((g * g).sum() for g in grads), lib.tensor(0.0, dtype=lib.float64)).backward()
        results.append([x.grad for x in xs])
    for t, p in zip(*results):
        assert_close(p, t, rtol, atol)


# ---- convolution --------------------------------------------------------------------------

CONV_CASES = [
    # (N, C, H, W), (O, kh, kw), stride, padding, dilation, groups, bias
    ((2, 3, 8, 8), (4, 3, 3), 1, 0, 1, 1, True),
    ((2, 4, 9, 7), (6, 3, 2), (2, 1), (1, 2), (1, 2), 2, True),
    ((1, 2, 5, 5), (2, 1, 1), 1, 0, 1, 1, False),
    ((3, 6, 10, 10), (6, 3, 3), 2, 1, 1, 6, True),
    ((2, 3, 7, 7), (4, 3, 3), 1, "same", 2, 1, True),
    ((2, 3, 7, 6), (4, 4, 2), 1, "same", 1, 1, False),
    ((2, 3, 7, 6), (4, 3, 3), 1, "valid", 1, 1, True),
    ((3, 5, 5), (2, 3, 3), 1, 1, 1, 1, True),  # unbatched input
]


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")  # torch's note
@pytest.mark.parametrize("x_shape, w_shape, stride, padding, dilation, groups, bias", CONV_CASES)
def test_conv2d(x_shape, w_shape, stride, padding, dilation, groups, bias):
    c = x_shape[-3]
    arrays = [randn(*x_shape), randn(w_shape[0], c // groups, *w_shape[1:])] + ([randn(w_shape[0])] if bias else [])

    def run(lib_f):
        return lambda x, w, *b: lib_f.conv2d(x, w, b[0] if b else None, stride, padding, dilation, groups)
    out = check_op(run(F), run(TF), arrays)
    if len(x_shape) == 4:
        assert out.grad_fn.name() == "ConvolutionBackward0"


def test_conv2d_double_backward():
    arrays = [randn(2, 2, 6, 6), randn(3, 2, 3, 3), randn(3)]
    check_double_backward(lambda x, w, b: F.conv2d(x, w, b, 2, 1), lambda x, w, b: TF.conv2d(x, w, b, 2, 1), arrays)


def test_conv1d():
    arrays = [randn(2, 3, 11), randn(4, 3, 3), randn(4)]
    check_op(lambda x, w, b: F.conv1d(x, w, b, 2, 1, 1), lambda x, w, b: TF.conv1d(x, w, b, 2, 1, 1), arrays)


@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 2), c=st.integers(1, 3), h=st.integers(1, 7), w=st.integers(1, 7), o=st.integers(1, 3),
       k=st.integers(1, 3), stride=st.integers(1, 3), pad=st.integers(0, 2), dil=st.integers(1, 2))
def test_conv2d_random_geometry(n, c, h, w, o, k, stride, pad, dil):
    x, wt = randn(n, c, h, w), randn(o, c, k, k)
    if (h + 2 * pad - dil * (k - 1) - 1) < 0 or (w + 2 * pad - dil * (k - 1) - 1) < 0:
        with pytest.raises(RuntimeError):
            F.conv2d(plugrad.tensor(x), plugrad.tensor(wt), None, stride, pad, dil)
        return
    check_op(lambda a, b: F.conv2d(a, b, None, stride, pad, dil), lambda a, b: TF.conv2d(a, b, None, stride, pad, dil),
             [x, wt])


def test_conv2d_errors_match_torch():
    x, w = plugrad.randn(2, 3, 5, 5), plugrad.randn(4, 2, 3, 3)
    with pytest.raises(RuntimeError, match="channels"):
        F.conv2d(x, w)
    with pytest.raises(RuntimeError, match="Kernel size can't be greater"):
        F.conv2d(plugrad.randn(1, 2, 2, 2), w)
    with pytest.raises(RuntimeError, match="should be the same"):
        F.conv2d(plugrad.randn(1, 2, 5, 5, dtype=plugrad.float64), w)
    with pytest.raises(RuntimeError):
        F.conv2d(plugrad.randn(5, 5), w)


@pytest.mark.parametrize("x_shape, cout_g, k, stride, padding, output_padding, groups, dilation", [
    ((2, 3, 4, 5), 2, 3, 1, 0, 0, 1, 1),
    ((2, 4, 3, 3), 3, (3, 2), 2, 1, 1, 2, 1),
    ((1, 2, 4, 4), 2, 2, (2, 3), (0, 1), (1, 2), 1, (2, 1)),
    ((3, 5, 5), 2, 3, 2, 1, 0, 1, 1),
])
def test_conv_transpose2d(x_shape, cout_g, k, stride, padding, output_padding, groups, dilation):
    kh, kw = (k, k) if isinstance(k, int) else k
    arrays = [randn(*x_shape), randn(x_shape[-3], cout_g, kh, kw), randn(cout_g * groups)]

    def run(lib_f):
        return lambda x, w, b: lib_f.conv_transpose2d(x, w, b, stride, padding, output_padding, groups, dilation)
    check_op(run(F), run(TF), arrays, same_name=False)  # a composition here (bmm + col2im)


def test_conv_transpose2d_is_the_adjoint_of_conv2d():
    x, w = plugrad.randn(2, 3, 5, 5, dtype=plugrad.float64), plugrad.randn(4, 3, 3, 3, dtype=plugrad.float64)
    y = plugrad.randn(2, 4, 3, 3, dtype=plugrad.float64)
    lhs = (F.conv2d(x, w, stride=2, padding=1) * y).sum()
    rhs = (x * F.conv_transpose2d(y, w, stride=2, padding=1)).sum()
    assert abs(lhs.item() - rhs.item()) < 1e-9


def test_unfold_and_fold():
    arrays = [randn(2, 3, 6, 5)]
    check_op(lambda x: F.unfold(x, (2, 3), dilation=1, padding=1, stride=(2, 1)),
             lambda x: TF.unfold(x, (2, 3), dilation=1, padding=1, stride=(2, 1)), arrays)
    cols = [randn(2, 3 * 2 * 2, 16)]
    check_op(lambda c: F.fold(c, (7, 7), 2, padding=1, stride=2), lambda c: TF.fold(c, (7, 7), 2, padding=1, stride=2),
             cols)


# ---- pooling --------------------------------------------------------------------------------

POOL_CASES = [
    ((2, 3, 8, 8), 2, None, 0, 1, False),
    ((2, 3, 9, 7), 3, 2, 1, 1, True),
    ((1, 2, 10, 10), (3, 2), (2, 3), (1, 1), (2, 1), False),
    ((2, 2, 7, 7), 3, 2, 1, 1, True),
    ((3, 5, 5), 2, 1, 0, 1, False),
    ((1, 1, 6, 6), 3, 3, 1, 1, True),
]


@pytest.mark.parametrize("shape, k, stride, padding, dilation, ceil_mode", POOL_CASES)
def test_max_pool2d(shape, k, stride, padding, dilation, ceil_mode):
    x = randn(*shape)
    out = check_op(lambda a: F.max_pool2d(a, k, stride, padding, dilation, ceil_mode),
                   lambda a: TF.max_pool2d(a, k, stride, padding, dilation, ceil_mode), [x])
    _, pi = F.max_pool2d(plugrad.tensor(x), k, stride, padding, dilation, ceil_mode, return_indices=True)
    _, ti = TF.max_pool2d(torch.tensor(x), k, stride, padding, dilation, ceil_mode, return_indices=True)
    assert pi.dtype == plugrad.int64
    np.testing.assert_array_equal(pi.numpy(), ti.numpy())
    assert out.shape == tuple(TF.max_pool2d(torch.tensor(x), k, stride, padding, dilation, ceil_mode).shape)


@pytest.mark.parametrize("shape, k, stride, padding, dilation, ceil_mode", [c for c in POOL_CASES if c[4] == 1])
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool2d(shape, k, stride, padding, dilation, ceil_mode, count_include_pad):
    check_op(lambda a: F.avg_pool2d(a, k, stride, padding, ceil_mode, count_include_pad),
             lambda a: TF.avg_pool2d(a, k, stride, padding, ceil_mode, count_include_pad), [randn(*shape)])


def test_avg_pool2d_divisor_override():
    check_op(lambda a: F.avg_pool2d(a, 3, 2, 1, divisor_override=5),
             lambda a: TF.avg_pool2d(a, 3, 2, 1, divisor_override=5), [randn(2, 2, 7, 7)])


def test_pool_double_backward():
    check_double_backward(lambda a: F.max_pool2d(a, 3, 2, 1) ** 3, lambda a: TF.max_pool2d(a, 3, 2, 1) ** 3,
                          [randn(2, 2, 6, 6)])
    check_double_backward(lambda a: F.avg_pool2d(a, 3, 2, 1) ** 3, lambda a: TF.avg_pool2d(a, 3, 2, 1) ** 3,
                          [randn(2, 2, 6, 6)])


@pytest.mark.parametrize("size", [(3, 3), (1, 1), (4, 2), (2, 5), (None, 3)])
def test_adaptive_avg_pool2d(size):
    x = randn(2, 3, 7, 10)
    tt, pp = pair(torch, x)
    to, po = TF.adaptive_avg_pool2d(tt, size), F.adaptive_avg_pool2d(pp, size)
    assert_close(po, to)
    to.sum().backward()
    po.sum().backward()
    assert_close(pp.grad, tt.grad)


def test_max_pool2d_rejects_large_padding():
    with pytest.raises(RuntimeError, match="pad should be at most half"):
        F.max_pool2d(plugrad.randn(1, 1, 5, 5), 2, padding=2)


# ---- linear, embedding -------------------------------------------------------------------------

@pytest.mark.parametrize("x_shape", [(5, 3), (2, 4, 3), (3,)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear(x_shape, bias):
    arrays = [randn(*x_shape), randn(4, 3)] + ([randn(4)] if bias else [])
    out = check_op(lambda x, w, *b: F.linear(x, w, *b), lambda x, w, *b: TF.linear(x, w, *b), arrays,
                   same_name=len(x_shape) == 2)  # other ranks: the name of a reshape, which differs
    if len(x_shape) == 2:
        assert out.grad_fn.name() == ("AddmmBackward0" if bias else "MmBackward0")


def test_linear_double_backward():
    check_double_backward(lambda x, w, b: F.linear(x, w, b).tanh(), lambda x, w, b: TF.linear(x, w, b).tanh(),
                          [randn(5, 3), randn(4, 3), randn(4)])


def test_linear_errors_match_torch():
    x, w = plugrad.randn(2, 4), plugrad.randn(5, 3)
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(2x4 and 3x5\)"):
        F.linear(x, w)
    with pytest.raises(RuntimeError, match="same dtype"):
        F.linear(plugrad.randn(2, 3, dtype=plugrad.float64), w)


@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_embedding(padding_idx):
    weight = randn(6, 3)
    idx = np.array([[0, 2, 5], [2, 2, 1]])
    tw, pw = pair(torch, weight)
    to = TF.embedding(torch.tensor(idx), tw, padding_idx=padding_idx)
    po = F.embedding(plugrad.tensor(idx), pw, padding_idx=padding_idx)
    assert_close(po, to)
    assert po.grad_fn.name() == "EmbeddingBackward0"
    g = randn(*to.shape)
    to.backward(torch.tensor(g))
    po.backward(plugrad.tensor(g))
    assert_close(pw.grad, tw.grad)


def test_embedding_errors_match_torch():
    w = plugrad.randn(4, 2)
    with pytest.raises(IndexError, match="index out of range"):
        F.embedding(plugrad.tensor([4]), w)
    with pytest.raises(RuntimeError, match="Long, Int"):
        F.embedding(plugrad.tensor([1.0]), w)


def test_embedding_max_norm_renormalises_rows():
    weight = randn(5, 3) * 3
    tw, pw = torch.tensor(weight), plugrad.tensor(weight)
    idx = np.array([1, 3, 3])
    to = TF.embedding(torch.tensor(idx), tw, max_norm=1.0)
    po = F.embedding(plugrad.tensor(idx), pw, max_norm=1.0)
    assert_close(po, to, rtol=1e-6)
    assert_close(pw, tw, rtol=1e-6)


# ---- normalisation ----------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 4, 4)])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm(shape, training, affine):
    c = shape[1]
    rm, rv = randn(c), np.abs(randn(c)) + 0.5
    t_rm, t_rv = torch.tensor(rm), torch.tensor(rv)
    p_rm, p_rv = plugrad.tensor(rm), plugrad.tensor(rv)
    arrays = [randn(*shape)] + ([randn(c), randn(c)] if affine else [])

    def run(lib_f, r_mean, r_var):
        return lambda x, *wb: lib_f.batch_norm(x, r_mean, r_var, *(wb or (None, None)), training=training,
                                               momentum=0.3, eps=1e-4)
    check_op(run(F, p_rm, p_rv), run(TF, t_rm, t_rv), arrays)
    assert_close(p_rm, t_rm)
    assert_close(p_rv, t_rv)


def test_batch_norm_double_backward():
    arrays = [randn(4, 3, 2, 2), randn(3), randn(3)]
    check_double_backward(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
                          lambda x, w, b: TF.batch_norm(x, None, None, w, b, training=True), arrays)


def test_batch_norm_needs_two_values_per_channel():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(plugrad.randn(1, 3), None, None, training=True)


@pytest.mark.parametrize("normalized", [(5,), (4, 5)])
def test_layer_norm(normalized):
    arrays = [randn(3, 4, 5), randn(*normalized), randn(*normalized)]
    check_op(lambda x, w, b: F.layer_norm(x, normalized, w, b), lambda x, w, b: TF.layer_norm(x, normalized, w, b),
             arrays)
    check_double_backward(lambda x, w, b: F.layer_norm(x, normalized, w, b),
                          lambda x, w, b: TF.layer_norm(x, normalized, w, b), arrays)


# ---- padding -------------------------------------------------------------------------------------

@pytest.mark.parametrize("pads, mode", [((1, 2), "constant"), ((1, 1, 2, 0), "constant"), ((-1, 2, 1, -2), "constant"),
                                        ((2, 1, 1, 2), "reflect"), ((2, 3, 1, 0), "replicate"),
                                        ((2, 1, 3, 1), "circular")])
def test_pad(pads, mode):
    check_op(lambda x: F.pad(x, pads, mode), lambda x: TF.pad(x, pads, mode), [randn(2, 3, 4, 5)])


def test_pad_value_and_errors():
    x = randn(2, 3)
    assert_close(F.pad(plugrad.tensor(x), (1, 1), value=7.5), TF.pad(torch.tensor(x), (1, 1), value=7.5))
    with pytest.raises(RuntimeError, match="divisible by 2"):
        F.pad(plugrad.tensor(x), (1,))
    with pytest.raises(RuntimeError, match="Padding size should be less"):
        F.pad(plugrad.randn(1, 2, 2), (2, 2), mode="reflect")
    with pytest.raises(NotImplementedError, match="Padding size 2 is not supported for 4D input"):
        F.pad(plugrad.randn(1, 1, 2, 2), (1, 1), mode="reflect")


# ---- dropout, one_hot ------------------------------------------------------------------------------

def test_dropout_statistics_and_scaling():
    plugrad.manual_seed(0)
    x = plugrad.ones(200, 100, requires_grad=True)
    y = F.dropout(x, p=0.3)
    values = y.detach().numpy()
    kept = values != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(values[kept], 1 / 0.7, rtol=1e-6)
    assert y.grad_fn.name() == "MulBackward0"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), values)  # gradient flows where kept, scaled


def test_dropout_identity_when_not_training_and_edge_probabilities():
    x = plugrad.randn(5, 4)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    assert (F.dropout(x, 1.0) == 0).all()
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(x, 1.5)


def test_dropout_is_reproducible_with_manual_seed():
    plugrad.manual_seed(5)
    a = F.dropout(plugrad.ones(50))
    plugrad.manual_seed(5)
    b = F.dropout(plugrad.ones(50))
    assert plugrad.equal(a, b)


def test_one_hot():
    idx = np.array([[0, 3], [2, 1]])
    for n in (-1, 6):
        to, po = TF.one_hot(torch.tensor(idx), n), F.one_hot(plugrad.tensor(idx), n)
        assert po.dtype == plugrad.int64
        np.testing.assert_array_equal(po.numpy(), to.numpy())
    with pytest.raises(RuntimeError, match="smaller than num_classes"):
        F.one_hot(plugrad.tensor([3]), 3)
    with pytest.raises(RuntimeError, match="non-negative"):
        F.one_hot(plugrad.tensor([-1]), 3)
    with pytest.raises(RuntimeError, match="LongTensor"):
        F.one_hot(plugrad.tensor([1.0]), 3)


# ---- activations ------------------------------------------------------------------------------------

ACTIVATIONS = [
    ("relu", {}), ("relu6", {}), ("leaky_relu", {"negative_slope": 0.2}), ("elu", {"alpha": 0.7}),
    ("softplus", {"beta": 2.0, "threshold": 3.0}), ("silu", {}), ("hardtanh", {"min_val": -0.5, "max_val": 0.8}),
    ("logsigmoid", {}), ("sigmoid", {}), ("tanh", {}), ("softmax", {"dim": 1}), ("log_softmax", {"dim": 0}),
    ("softmin", {"dim": 1}), ("normalize", {"p": 2.0, "dim": 1}), ("normalize", {"p": 3.0, "dim": 0}),
]


@pytest.mark.parametrize("name, kwargs", ACTIVATIONS)
def test_activation(name, kwargs):
    x = randn(4, 5) * 3
    tt, pp = pair(torch, x)
    to, po = getattr(TF, name)(tt, **kwargs), getattr(F, name)(pp, **kwargs)
    assert_close(po, to, rtol=1e-6, atol=1e-9)
    g = randn(4, 5)
    to.backward(torch.tensor(g))
    po.backward(plugrad.tensor(g))
    assert_close(pp.grad, tt.grad, rtol=1e-6, atol=1e-9)


def test_softmax_implicit_dim_warns_like_torch():
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        F.softmax(plugrad.randn(2, 3))


def test_inplace_activations_modify_their_input():
    x = plugrad.tensor([-1.0, 2.0])
    assert F.relu(x, inplace=True) is x
    assert x.tolist() == [0.0, 2.0]
    y = plugrad.tensor([-1.0, 2.0])
    F.leaky_relu(y, 0.5, inplace=True)
    assert y.tolist() == [-0.5, 2.0]


def test_conv2d_uses_a_fused_device_kernel_when_the_device_has_one(monkeypatch):
    """The optional ``Backend.conv2d`` kernel: when a device provides it, the forward
    comes from it (and must equal the decomposition); gradients still flow."""
    from plugrad.plugins.registry import backend_for
    cpu = backend_for("cpu")
    calls = []

    def fused(x, weight, bias, out, stride, padding, dilation, groups):
        calls.append((stride, padding, dilation, groups))
        tx, tw = torch.tensor(np.ascontiguousarray(x)), torch.tensor(np.ascontiguousarray(weight))
        tx = TF.pad(tx, (padding[1][0], padding[1][1], padding[0][0], padding[0][1]))
        r = TF.conv2d(tx, tw, None if bias is None else torch.tensor(np.ascontiguousarray(bias)), stride, 0, dilation,
                      groups)
        out[...] = r.numpy()
        return True

    x, w, b = randn(2, 4, 7, 6), randn(6, 2, 3, 2), randn(6)
    expected = F.conv2d(plugrad.tensor(x), plugrad.tensor(w), plugrad.tensor(b), 2, (1, 0), 1, 2)
    monkeypatch.setattr(cpu, "conv2d", fused, raising=False)
    px = plugrad.tensor(x, requires_grad=True)
    got = F.conv2d(px, plugrad.tensor(w), plugrad.tensor(b), 2, (1, 0), 1, 2)
    assert calls == [((2, 2), ((1, 1), (0, 0)), (1, 1), 2)]
    assert_close(got, expected, rtol=1e-12, atol=1e-12)
    got.sum().backward()
    assert px.grad.shape == px.shape
    monkeypatch.undo()
    assert type(cpu).conv2d(cpu, None, None, None, None, (1, 1), ((0, 0), (0, 0)), (1, 1), 1) is False
