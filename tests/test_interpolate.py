"""``F.interpolate``, ``nn.Upsample`` and the pixel/channel shuffles agree with PyTorch:
values (the source indices of every mode, in float32 and float64), ``grad_fn`` names,
gradients, double backward, exception classes, and the layers' reprs."""

from __future__ import annotations

import numpy as np
import plugrad
import pytest
from hypothesis import given, strategies as st
from spatial_support import check_against_torch, check_raises_like_torch, to_numpy

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch_oracle
RNG = np.random.default_rng(5)
SHAPES = {1: (2, 3, 5), 2: (2, 3, 5, 7), 3: (1, 2, 3, 4, 5)}
MODES = [("nearest", 1), ("nearest", 2), ("nearest", 3), ("nearest-exact", 1), ("nearest-exact", 2),
         ("nearest-exact", 3), ("linear", 1), ("bilinear", 2), ("bicubic", 2), ("trilinear", 3), ("area", 1),
         ("area", 2), ("area", 3)]
SIZES = [{"scale_factor": 2}, {"scale_factor": 1.7}, {"scale_factor": 0.6}, {"size": 3}, {"size": 11},
         {"scale_factor": 2.3, "recompute_scale_factor": True}, {"scale_factor": "per-dim"}]


@pytest.mark.parametrize("mode,nd", MODES, ids=[f"{m}-{n}d" for m, n in MODES])
@pytest.mark.parametrize("how", SIZES, ids=[str(s) for s in SIZES])
def test_interpolate_matches_torch(mode, nd, how, device):
    kw = dict(how)
    if kw.get("scale_factor") == "per-dim":
        kw["scale_factor"] = (1.5, 0.5, 3)[:nd]
    aligns = [None] if mode in ("nearest", "nearest-exact", "area") else [False, True]
    x = RNG.standard_normal(SHAPES[nd]).astype(np.float32)
    for align in aligns:
        call = dict(kw, mode=mode)
        if align is not None:
            call["align_corners"] = align
        check_against_torch(lambda F, x, call=call: F.interpolate(x, **call), [x], device, atol=1e-5)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("how", [{"size": (3, 4)}, {"scale_factor": 0.3}, {"size": (9, 11)},
                                 {"size": (2, 3), "align_corners": True}])
def test_antialias_matches_torch(mode, how, device):
    x = RNG.standard_normal((2, 3, 8, 9)).astype(np.float32)
    check_against_torch(lambda F, x: F.interpolate(x, mode=mode, antialias=True, **how), [x], device, atol=1e-5)


@given(n_in=st.integers(1, 40), n_out=st.integers(1, 60), scale=st.floats(0.05, 8.0),
       use_scale=st.booleans(), exact=st.booleans())
def test_nearest_indices_are_torchs_float32_arithmetic(n_in, n_out, scale, use_scale, exact):
    """The float32 index arithmetic of nearest: a sweep over sizes and scale factors."""
    x = np.arange(n_in, dtype=np.float32).reshape(1, 1, n_in)
    kw = {"scale_factor": scale} if use_scale else {"size": n_out}
    if use_scale and int(n_in * scale) < 1:
        return
    mode = "nearest-exact" if exact else "nearest"
    check_against_torch(lambda F, x: F.interpolate(x, mode=mode, **kw), [x], "cpu", grad=False, atol=0)


@given(n_in=st.integers(1, 12), n_out=st.integers(1, 20), align=st.booleans(), cubic=st.booleans())
def test_linear_any_size(n_in, n_out, align, cubic):
    x = RNG.standard_normal((1, 2, n_in, 3))
    mode = "bicubic" if cubic else "bilinear"
    check_against_torch(lambda F, x: F.interpolate(x, size=(n_out, 4), mode=mode, align_corners=align), [x], "cpu")


def test_uint8_nearest(device):
    x = RNG.integers(0, 255, (1, 2, 3, 4)).astype(np.uint8)
    yt = torch.nn.functional.interpolate(torch.tensor(x), scale_factor=2.5)
    yp = plugrad.nn.functional.interpolate(plugrad.tensor(x, device=device), scale_factor=2.5)
    assert yp.dtype == plugrad.uint8
    np.testing.assert_array_equal(to_numpy(yp), to_numpy(yt))


def test_double_backward(device):
    for mode in ("bilinear", "bicubic", "nearest"):
        x = RNG.standard_normal((1, 2, 3, 4))
        grads = []
        for lib in (torch, plugrad):
            t = lib.tensor(x, requires_grad=True) if lib is torch else lib.tensor(x, device=device,
                                                                                  requires_grad=True)
            y = lib.nn.functional.interpolate(t * t, size=(5, 7), mode=mode)
            (g,) = lib.autograd.grad((y * y).sum(), t, create_graph=True)
            grads.append(lib.autograd.grad((g * g).sum(), t)[0])
        np.testing.assert_allclose(to_numpy(grads[1]), to_numpy(grads[0]), rtol=1e-6, atol=1e-8)


SHUFFLES = [
    ("pixel_shuffle", lambda F, x: F.pixel_shuffle(x, 2), [RNG.standard_normal((2, 8, 3, 4))]),
    ("pixel_shuffle 5-d", lambda F, x: F.pixel_shuffle(x, 3), [RNG.standard_normal((2, 1, 9, 3, 4))]),
    ("pixel_unshuffle", lambda F, x: F.pixel_unshuffle(x, 2), [RNG.standard_normal((2, 3, 4, 6))]),
    ("pixel_unshuffle 3-d", lambda F, x: F.pixel_unshuffle(x, 2), [RNG.standard_normal((3, 4, 6))]),
    ("channel_shuffle", lambda F, x: F.channel_shuffle(x, 2), [RNG.standard_normal((2, 6, 3))]),
    ("channel_shuffle 4-d", lambda F, x: F.channel_shuffle(x, 3), [RNG.standard_normal((1, 6, 2, 2))]),
]


@pytest.mark.parametrize("case", SHUFFLES, ids=[c[0] for c in SHUFFLES])
def test_shuffles_match_torch(case, device):
    check_against_torch(case[1], case[2], device)


ERRORS = [
    ("size and scale", lambda F, x: F.interpolate(x, size=2, scale_factor=2.0), [RNG.standard_normal((1, 1, 2))]),
    ("neither", lambda F, x: F.interpolate(x), [RNG.standard_normal((1, 1, 2))]),
    ("bilinear 3-d", lambda F, x: F.interpolate(x, size=2, mode="bilinear"), [RNG.standard_normal((1, 1, 2))]),
    ("linear 4-d", lambda F, x: F.interpolate(x, size=2, mode="linear"), [RNG.standard_normal((1, 1, 2, 2))]),
    ("trilinear 4-d", lambda F, x: F.interpolate(x, size=2, mode="trilinear"), [RNG.standard_normal((1, 1, 2, 2))]),
    ("2-d input", lambda F, x: F.interpolate(x, size=2), [RNG.standard_normal((1, 2))]),
    ("align nearest", lambda F, x: F.interpolate(x, size=2, align_corners=True), [RNG.standard_normal((1, 1, 2))]),
    ("size length", lambda F, x: F.interpolate(x, size=(2, 2)), [RNG.standard_normal((1, 1, 2))]),
    ("scale length", lambda F, x: F.interpolate(x, scale_factor=(2.0, 2.0)), [RNG.standard_normal((1, 1, 2))]),
    ("recompute with size", lambda F, x: F.interpolate(x, size=3, recompute_scale_factor=True),
     [RNG.standard_normal((1, 1, 2))]),
    ("float size", lambda F, x: F.interpolate(x, size=(2.5,)), [RNG.standard_normal((1, 1, 2))]),
    ("zero output", lambda F, x: F.interpolate(x, scale_factor=0.1), [RNG.standard_normal((1, 1, 2))]),
    ("huge output", lambda F, x: F.interpolate(x, size=2 ** 62), [RNG.standard_normal((1, 1, 2))]),
    ("infinite scale", lambda F, x: F.interpolate(x, scale_factor=float("inf")), [RNG.standard_normal((1, 1, 2))]),
    ("NaN scale", lambda F, x: F.interpolate(x, scale_factor=(float("nan"),)), [RNG.standard_normal((1, 1, 2))]),
    ("NaN scale, area", lambda F, x: F.interpolate(x, scale_factor=(float("nan"),), mode="area"),
     [RNG.standard_normal((1, 1, 2))]),
    ("antialias nearest", lambda F, x: F.interpolate(x, size=2, antialias=True), [RNG.standard_normal((1, 1, 2, 2))]),
    ("unknown mode", lambda F, x: F.interpolate(x, size=2, mode="cubic"), [RNG.standard_normal((1, 1, 2, 2))]),
    ("pixel_shuffle channels", lambda F, x: F.pixel_shuffle(x, 2), [RNG.standard_normal((3, 2, 2))]),
    ("pixel_shuffle 2-d", lambda F, x: F.pixel_shuffle(x, 1), [RNG.standard_normal((3, 2))]),
    ("pixel_shuffle factor 0", lambda F, x: F.pixel_shuffle(x, 0), [RNG.standard_normal((3, 2, 2))]),
    ("pixel_unshuffle width", lambda F, x: F.pixel_unshuffle(x, 2), [RNG.standard_normal((1, 2, 3))]),
    ("channel_shuffle groups", lambda F, x: F.channel_shuffle(x, 2), [RNG.standard_normal((1, 3, 2))]),
    ("channel_shuffle 2-d", lambda F, x: F.channel_shuffle(x, 2), [RNG.standard_normal((2, 2))]),
]


@pytest.mark.parametrize("case", ERRORS, ids=[c[0] for c in ERRORS])
def test_errors_match_torch(case, device):
    check_raises_like_torch(case[1], case[2], device)


LAYERS = [
    ("Upsample scale", lambda nn: nn.Upsample(scale_factor=2), (1, 2, 3, 4)),
    ("Upsample size bilinear", lambda nn: nn.Upsample(size=(3, 5), mode="bilinear", align_corners=True), (1, 2, 4, 4)),
    ("Upsample per-dim trilinear", lambda nn: nn.Upsample(scale_factor=(2, 1.5, 1), mode="trilinear"),
     (1, 1, 2, 3, 4)),
    ("Upsample linear", lambda nn: nn.Upsample(scale_factor=1.5, mode="linear"), (2, 3, 5)),
    ("UpsamplingNearest2d", lambda nn: nn.UpsamplingNearest2d(scale_factor=3), (1, 2, 3, 4)),
    ("UpsamplingBilinear2d", lambda nn: nn.UpsamplingBilinear2d(size=5), (1, 2, 3, 4)),
    ("PixelShuffle", lambda nn: nn.PixelShuffle(2), (1, 8, 3, 4)),
    ("PixelUnshuffle", lambda nn: nn.PixelUnshuffle(2), (1, 2, 4, 6)),
    ("ChannelShuffle", lambda nn: nn.ChannelShuffle(2), (1, 4, 3, 3)),
    ("Fold", lambda nn: nn.Fold((4, 5), 2), (1, 8, 12)),
    ("Unfold", lambda nn: nn.Unfold(2, padding=1, stride=2), (1, 2, 4, 5)),
]


@pytest.mark.parametrize("case", LAYERS, ids=[c[0] for c in LAYERS])
def test_layers_match_torch(case, device):
    _, build, shape = case
    tm, pm = build(torch.nn), build(plugrad.nn)
    assert repr(pm) == repr(tm)
    x = RNG.standard_normal(shape).astype(np.float32)
    yt = tm(torch.tensor(x, requires_grad=True))
    yp = pm(plugrad.tensor(x, device=device, requires_grad=True))
    assert type(yp.grad_fn).__name__ == type(yt.grad_fn).__name__
    np.testing.assert_allclose(to_numpy(yp), to_numpy(yt), rtol=1e-5, atol=1e-6)
