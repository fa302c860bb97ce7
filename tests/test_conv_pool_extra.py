"""Conv3d, the transposed convolutions and the 1-d/3-d, adaptive and LP pools agree with
PyTorch: values, ``grad_fn`` names, gradients, exception classes, and the layers'
parameter names, shapes, initialisation and reprs."""

from __future__ import annotations

import numpy as np
import plugrad
import pytest
from hypothesis import given, strategies as st
from spatial_support import check_against_torch, check_raises_like_torch, copy_state, to_numpy

torch = pytest.importorskip("torch")
pytestmark = [pytest.mark.torch_oracle, pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")]
RNG = np.random.default_rng(3)


def randn(*shape):
    return RNG.standard_normal(shape)


CASES = [
    ("conv3d", lambda F, x, w, b: F.conv3d(x, w, b, stride=(1, 2, 1), padding=(1, 0, 2), dilation=(2, 1, 1),
                                           groups=2), [randn(2, 4, 5, 6, 7), randn(6, 2, 2, 3, 2), randn(6)]),
    ("conv3d same unbatched", lambda F, x, w: F.conv3d(x, w, padding="same"),
     [randn(4, 5, 6, 7), randn(3, 4, 2, 3, 2)]),
    ("conv3d valid", lambda F, x, w: F.conv3d(x, w, padding="valid"), [randn(1, 2, 3, 4, 5), randn(3, 2, 2, 2, 2)]),
    ("conv_transpose1d", lambda F, x, w, b: F.conv_transpose1d(x, w, b, stride=2, padding=1, output_padding=1, groups=2,
                                                               dilation=2), [randn(2, 4, 5), randn(4, 3, 3), randn(6)]),
    ("conv_transpose1d unbatched", lambda F, x, w: F.conv_transpose1d(x, w, stride=3), [randn(2, 4), randn(2, 3, 2)]),
    ("conv_transpose2d", lambda F, x, w: F.conv_transpose2d(x, w, stride=2, output_padding=1),
     [randn(2, 4, 3, 4), randn(4, 3, 3, 2)]),
    ("conv_transpose3d", lambda F, x, w: F.conv_transpose3d(x, w, stride=(2, 1, 2), padding=(1, 0, 0),
                                                            output_padding=(1, 0, 0)), [randn(2, 4, 3, 4, 5),
                                                                                        randn(4, 3, 3, 2, 2)]),
    ("max_pool1d", lambda F, x: F.max_pool1d(x, 3, 2, 1, dilation=2, return_indices=True), [randn(2, 3, 9)]),
    ("max_pool1d unbatched", lambda F, x: F.max_pool1d(x, 2, ceil_mode=True), [randn(3, 9)]),
    ("max_pool1d_with_indices", lambda F, x: F.max_pool1d_with_indices(x, 2), [randn(3, 9)]),
    ("max_pool3d", lambda F, x: F.max_pool3d(x, (2, 3, 2), (1, 2, 2), (1, 1, 0), dilation=(1, 1, 2), ceil_mode=True,
                                             return_indices=True), [randn(2, 3, 5, 7, 8)]),
    ("max_pool3d unbatched", lambda F, x: F.max_pool3d(x, 2), [randn(3, 5, 7, 8)]),
    ("max_pool3d_with_indices", lambda F, x: F.max_pool3d_with_indices(x, 2, 1), [randn(1, 3, 3, 4)]),
    ("avg_pool1d", lambda F, x: F.avg_pool1d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False), [randn(2, 3, 9)]),
    ("avg_pool1d unbatched", lambda F, x: F.avg_pool1d(x, 2), [randn(3, 9)]),
    ("avg_pool3d", lambda F, x: F.avg_pool3d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
     [randn(2, 3, 6, 7, 9)]),
    ("avg_pool3d divisor", lambda F, x: F.avg_pool3d(x, (2, 3, 2), divisor_override=5), [randn(3, 6, 7, 9)]),
    ("adaptive_avg_pool1d", lambda F, x: F.adaptive_avg_pool1d(x, 4), [randn(2, 3, 9)]),
    ("adaptive_avg_pool3d", lambda F, x: F.adaptive_avg_pool3d(x, (2, 3, 4)), [randn(2, 3, 5, 7, 9)]),
    ("adaptive_avg_pool3d none", lambda F, x: F.adaptive_avg_pool3d(x, (None, 3, 4)), [randn(3, 5, 6, 8)]),
    ("adaptive_avg_pool3d even", lambda F, x: F.adaptive_avg_pool3d(x, 2), [randn(1, 2, 4, 4, 6)]),
    ("adaptive_avg_pool3d one", lambda F, x: F.adaptive_avg_pool3d(x, 1), [randn(1, 2, 3, 4, 5)]),
    ("adaptive_max_pool1d", lambda F, x: F.adaptive_max_pool1d(x, 4, return_indices=True), [randn(2, 3, 9)]),
    ("adaptive_max_pool2d", lambda F, x: F.adaptive_max_pool2d(x, (3, 4), return_indices=True), [randn(2, 3, 7, 9)]),
    ("adaptive_max_pool2d unbatched", lambda F, x: F.adaptive_max_pool2d(x, (None, 2)), [randn(3, 7, 9)]),
    ("adaptive_max_pool3d", lambda F, x: F.adaptive_max_pool3d(x, (2, 3, 4), True), [randn(3, 5, 7, 9)]),
    ("lp_pool1d", lambda F, x: F.lp_pool1d(x.abs() + 0.1, 2, 3, 2, ceil_mode=True), [randn(2, 3, 9)]),
    ("lp_pool2d", lambda F, x: F.lp_pool2d(x.abs() + 0.1, 3, (2, 3)), [randn(2, 3, 7, 9)]),
    ("lp_pool3d", lambda F, x: F.lp_pool3d(x.abs() + 0.1, 1.5, 2), [randn(2, 3, 4, 7, 9)]),
    ("lp_pool1d inf", lambda F, x: F.lp_pool1d(x, float("inf"), 2), [randn(2, 3, 9)]),
    ("lp_pool2d -inf", lambda F, x: F.lp_pool2d(x, -float("inf"), 2), [randn(2, 3, 4, 6)]),
    ("max_pool1d last nan", lambda F, x: F.max_pool1d(x, 3, return_indices=True),
     [np.array([[[1.0, np.nan, 3.0, np.nan, 2.0, 5.0, np.nan, 0.0, 7.0]]])]),
    ("adaptive_max_pool1d last nan", lambda F, x: F.adaptive_max_pool1d(x, 2, return_indices=True),
     [np.array([[[1.0, np.nan, 3.0, np.nan, 2.0, 5.0, np.nan, 0.0, 7.0]]])]),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_matches_torch(case, device):
    _, fn, arrays = case
    check_against_torch(fn, arrays, device)


def test_double_backward_conv3d_and_transpose(device):
    for fn, shapes in ((lambda F, x, w: F.conv3d(x, w, stride=2, padding=1), [(1, 2, 3, 4, 3), (2, 2, 2, 2, 2)]),
                       (lambda F, x, w: F.conv_transpose3d(x, w, stride=2), [(1, 2, 2, 2, 2), (2, 1, 2, 2, 2)]),
                       (lambda F, x, w: F.conv_transpose1d(x, w, padding=1), [(2, 2, 4), (2, 3, 3)])):
        arrays = [randn(*s) for s in shapes]
        grads = {}
        for lib, F in (("torch", torch.nn.functional), ("plugrad", plugrad.nn.functional)):
            mk = torch.tensor if lib == "torch" else (lambda a, **k: plugrad.tensor(a, device=device, **k))
            x, w = (mk(a, requires_grad=True) for a in arrays)
            y = fn(F, x, w)
            gx, gw = (torch if lib == "torch" else plugrad).autograd.grad((y * y).sum(), (x, w), create_graph=True)
            grads[lib] = (torch if lib == "torch" else plugrad).autograd.grad((gx.sum() + (gw * gw).sum()), (x, w))
        for a, b in zip(grads["torch"], grads["plugrad"]):
            np.testing.assert_allclose(to_numpy(b), to_numpy(a), rtol=1e-6, atol=1e-8)


@given(n=st.integers(1, 9), out=st.integers(1, 5), k=st.integers(1, 3), s=st.integers(1, 3),
       ceil=st.booleans(), pad=st.integers(0, 1), include=st.booleans())
def test_pools_1d_any_geometry(n, out, k, s, ceil, pad, include):
    pad = min(pad, k // 2)
    if n + 2 * pad < k:
        return
    x = [randn(2, 2, n)]
    check_against_torch(lambda F, x: F.max_pool1d(x, k, s, pad, ceil_mode=ceil, return_indices=True), x, "cpu")
    check_against_torch(lambda F, x: F.avg_pool1d(x, k, s, pad, ceil_mode=ceil, count_include_pad=include), x, "cpu")
    check_against_torch(lambda F, x: F.adaptive_max_pool1d(x, out, True), x, "cpu")
    check_against_torch(lambda F, x: F.adaptive_avg_pool1d(x, out), x, "cpu")


ERRORS = [
    ("avg_pool3d 3-d", lambda F, x: F.avg_pool3d(x, 2), [randn(2, 2, 2)]),
    ("max_pool3d 3-d", lambda F, x: F.max_pool3d(x, 2), [randn(2, 2, 2)]),
    ("max_pool1d 1-d", lambda F, x: F.max_pool1d(x, 2), [randn(4)]),
    ("avg_pool1d 1-d", lambda F, x: F.avg_pool1d(x, 2), [randn(4)]),
    ("adaptive_max_pool3d 3-d", lambda F, x: F.adaptive_max_pool3d(x, 2), [randn(2, 2, 2)]),
    ("adaptive_max_pool2d none", lambda F, x: F.adaptive_max_pool2d(x, None), [randn(1, 2, 2)]),
    ("adaptive_avg_pool3d long size", lambda F, x: F.adaptive_avg_pool3d(x, (1, 1, 1, 1)), [randn(1, 2, 2, 2)]),
    ("max_pool3d big pad", lambda F, x: F.max_pool3d(x, 2, padding=2), [randn(1, 1, 4, 4, 4)]),
    ("conv3d channels", lambda F, x, w: F.conv3d(x, w), [randn(1, 2, 3, 3, 3), randn(1, 3, 1, 1, 1)]),
    ("conv3d 4-d weight", lambda F, x, w: F.conv3d(x, w), [randn(1, 2, 3, 3, 3), randn(1, 2, 1, 1)]),
    ("conv_transpose3d output_padding", lambda F, x, w: F.conv_transpose3d(x, w, stride=2, output_padding=2),
     [randn(1, 2, 2, 2, 2), randn(2, 1, 1, 1, 1)]),
    ("conv_transpose1d channels", lambda F, x, w: F.conv_transpose1d(x, w), [randn(1, 2, 3), randn(3, 1, 2)]),
]


@pytest.mark.parametrize("case", ERRORS, ids=[c[0] for c in ERRORS])
def test_errors_match_torch(case, device):
    _, fn, arrays = case
    check_raises_like_torch(fn, arrays, device)



ADAPTIVE = ["adaptive_avg_pool1d", "adaptive_max_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool2d",
            "adaptive_avg_pool3d", "adaptive_max_pool3d"]


@pytest.mark.parametrize("name", ADAPTIVE)
@pytest.mark.parametrize("batched", [False, True])
def test_adaptive_pools_with_an_empty_dim_as_torch(name, batched, device):
    """Each dim in turn empty: PyTorch's kernels disagree on which dims may be (the 2-d
    average allows an empty channel dim, the 3-d average and every max do not), and
    plugrad gives each its outcome: the result's shape, or the error and its message."""
    nd = int(name[-2])
    shape = (2,) * (nd + 1 + batched)
    for empty in range(len(shape)):
        x = np.ones(tuple(0 if d == empty else n for d, n in enumerate(shape)), np.float32)
        try:
            expected = getattr(torch.nn.functional, name)(torch.tensor(x), 3).shape
        except RuntimeError as e:
            with pytest.raises(RuntimeError) as got:
                getattr(plugrad.nn.functional, name)(plugrad.tensor(x, device=device), 3)
            assert str(got.value).split(": ", 1)[1] == str(e).split(": ", 1)[1]
        else:
            assert getattr(plugrad.nn.functional, name)(plugrad.tensor(x, device=device), 3).shape == expected

# ---- layers ------------------------------------------------------------------------------------

LAYERS = [
    ("Conv3d", lambda nn: nn.Conv3d(4, 6, (2, 3, 2), stride=(1, 2, 1), padding=1, groups=2), (2, 4, 5, 6, 7)),
    ("Conv3d same reflect", lambda nn: nn.Conv3d(2, 3, (2, 3, 2), padding="same", padding_mode="reflect"),
     (1, 2, 4, 5, 6)),
    ("Conv2d same circular", lambda nn: nn.Conv2d(2, 3, (2, 3), padding="same", dilation=2, padding_mode="circular"),
     (1, 2, 5, 6)),
    ("Conv1d same replicate", lambda nn: nn.Conv1d(2, 3, 4, padding="same", padding_mode="replicate"), (2, 2, 7)),
    ("Conv3d valid zeros", lambda nn: nn.Conv3d(2, 3, 2, padding="valid", bias=False), (2, 3, 4, 4)),
    ("ConvTranspose1d", lambda nn: nn.ConvTranspose1d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2),
     (2, 4, 5)),
    ("ConvTranspose3d", lambda nn: nn.ConvTranspose3d(2, 3, 2, stride=2, bias=False), (1, 2, 2, 3, 2)),
    ("MaxPool1d", lambda nn: nn.MaxPool1d(3, 2, 1), (2, 3, 9)),
    ("MaxPool3d", lambda nn: nn.MaxPool3d(2, ceil_mode=True), (1, 2, 3, 5, 4)),
    ("AvgPool1d", lambda nn: nn.AvgPool1d(3, 2, 1, count_include_pad=False), (2, 3, 9)),
    ("AvgPool3d", lambda nn: nn.AvgPool3d(2, 1, 1, divisor_override=3), (1, 2, 3, 5, 4)),
    ("AdaptiveAvgPool1d", lambda nn: nn.AdaptiveAvgPool1d(4), (2, 3, 9)),
    ("AdaptiveAvgPool3d", lambda nn: nn.AdaptiveAvgPool3d((2, None, 3)), (1, 2, 3, 5, 4)),
    ("AdaptiveMaxPool1d", lambda nn: nn.AdaptiveMaxPool1d(4), (2, 3, 9)),
    ("AdaptiveMaxPool2d", lambda nn: nn.AdaptiveMaxPool2d(3), (2, 3, 5, 7)),
    ("AdaptiveMaxPool3d", lambda nn: nn.AdaptiveMaxPool3d((2, 3, 2)), (1, 2, 3, 5, 4)),
    ("LPPool1d", lambda nn: nn.LPPool1d(2, 3), (2, 3, 9)),
    ("LPPool2d", lambda nn: nn.LPPool2d(1.5, (2, 3), stride=1), (2, 3, 5, 7)),
    ("LPPool3d", lambda nn: nn.LPPool3d(3, 2), (1, 2, 4, 4, 4)),
]


@pytest.mark.parametrize("case", LAYERS, ids=[c[0] for c in LAYERS])
def test_layers_match_torch(case, device):
    _, build, shape = case
    tm, pm = build(torch.nn), build(plugrad.nn)
    assert repr(pm) == repr(tm)
    assert [(k, tuple(v.shape)) for k, v in pm.state_dict().items()] == \
           [(k, tuple(v.shape)) for k, v in tm.state_dict().items()]
    copy_state(tm, pm, device)
    x = np.abs(randn(*shape)) + 0.1
    xt, xp = torch.tensor(x, dtype=torch.float32), plugrad.tensor(x, dtype=plugrad.float32, device=device)
    np.testing.assert_allclose(to_numpy(pm(xp)), to_numpy(tm(xt)), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("cls", ["Conv3d", "ConvTranspose1d", "ConvTranspose3d"])
def test_conv_init_bounds(cls):
    """kaiming_uniform(a=sqrt(5)) weights and uniform(+-1/sqrt(fan_in)) biases, as PyTorch's."""
    layer = getattr(plugrad.nn, cls)(4, 6, 3)
    fan_in = (layer.weight.shape[1] * int(np.prod(layer.weight.shape[2:])))
    bound = 1 / np.sqrt(fan_in)
    for p in (layer.weight, layer.bias):
        v = to_numpy(p)
        assert np.abs(v).max() <= bound + 1e-7 and v.std() > bound / 4


def test_conv_transpose_output_size(device):
    tm, pm = torch.nn.ConvTranspose3d(2, 3, 3, stride=2), plugrad.nn.ConvTranspose3d(2, 3, 3, stride=2)
    copy_state(tm, pm, device)
    x = randn(1, 2, 3, 3, 3)
    yt = tm(torch.tensor(x, dtype=torch.float32), output_size=[8, 7, 8])
    yp = pm(plugrad.tensor(x, dtype=plugrad.float32, device=device), output_size=[8, 7, 8])
    assert tuple(yp.shape) == tuple(yt.shape) == (1, 3, 8, 7, 8)
    np.testing.assert_allclose(to_numpy(yp), to_numpy(yt), rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError):
        pm(plugrad.tensor(x, dtype=plugrad.float32, device=device), output_size=[10, 7, 8])
    with pytest.raises(ValueError):
        torch.nn.ConvTranspose1d(2, 3, 2, padding_mode="reflect")
    with pytest.raises(ValueError):
        plugrad.nn.ConvTranspose1d(2, 3, 2, padding_mode="reflect")


# ---- max unpooling ------------------------------------------------------------------------------

UNPOOLS = [(1, (2, 3, 9), 2, None, 0, None), (1, (3, 9), 3, 2, 1, [9]), (2, (1, 2, 4, 6), 2, None, 0, None),
           (2, (2, 5, 5), 2, None, 0, (5, 5)), (2, (1, 2, 6, 7), 3, 2, 1, (6, 7)),
           (3, (1, 2, 4, 4, 4), 2, None, 0, None), (3, (2, 4, 5, 4), 2, 1, 1, (4, 5, 4))]


@pytest.mark.parametrize("nd,shape,k,s,p,size", UNPOOLS)
def test_max_unpool_inverts_the_pool_like_torch(nd, shape, k, s, p, size, device):
    pool = getattr(torch.nn.functional, f"max_pool{nd}d")
    values, indices = pool(torch.tensor(randn(*shape)), k, s, p, return_indices=True)
    idx = indices.numpy()

    def call(F, v):
        lib = torch if F is torch.nn.functional else plugrad
        i = torch.tensor(idx) if lib is torch else plugrad.tensor(idx, device=device)
        return getattr(F, f"max_unpool{nd}d")(v, i, k, s, p, size)
    check_against_torch(call, [values.numpy()], device)
    layer_t, layer_p = getattr(torch.nn, f"MaxUnpool{nd}d")(k, s, p), getattr(plugrad.nn, f"MaxUnpool{nd}d")(k, s, p)
    assert repr(layer_p) == repr(layer_t)
    yp = layer_p(plugrad.tensor(values.numpy(), device=device), plugrad.tensor(idx, device=device), size)
    np.testing.assert_allclose(to_numpy(yp), layer_t(values, indices, size).numpy())


def test_max_unpool_errors_like_torch(device):
    for bad in (lambda lib, v, i: lib.nn.functional.max_unpool2d(v, i, 2, output_size=(9, 9)),
                lambda lib, v, i: lib.nn.functional.max_unpool2d(v, i * 100, 2),
                lambda lib, v, i: lib.nn.functional.max_unpool2d(v, i[..., :1], 2)):
        v, i = torch.nn.functional.max_pool2d(torch.tensor(randn(1, 1, 4, 4)), 2, return_indices=True)
        with pytest.raises(Exception) as expected:
            bad(torch, v, i)
        with pytest.raises(expected.type):
            bad(plugrad, plugrad.tensor(v.numpy(), device=device), plugrad.tensor(i.numpy(), device=device))
