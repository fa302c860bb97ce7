"""The padding layers (ZeroPad, ConstantPad, ReflectionPad, ReplicationPad, CircularPad
over 1, 2 and 3 dims) agree with PyTorch: reprs, values, ``grad_fn`` names, gradients
and the exception classes of bad inputs."""

from __future__ import annotations

import numpy as np
import plugrad
import pytest
from spatial_support import to_numpy

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch_oracle
RNG = np.random.default_rng(11)

LAYERS = [
    ("ZeroPad1d", lambda nn: nn.ZeroPad1d(2), [(2, 3, 4), (3, 4)]),
    ("ZeroPad1d pair", lambda nn: nn.ZeroPad1d((1, 0)), [(2, 3, 4)]),
    ("ZeroPad2d", lambda nn: nn.ZeroPad2d((1, 2, 3, 0)), [(2, 3, 4, 5), (3, 4, 5)]),
    ("ZeroPad2d negative", lambda nn: nn.ZeroPad2d((-1, 2, 0, -1)), [(1, 2, 4, 5)]),
    ("ZeroPad3d", lambda nn: nn.ZeroPad3d(1), [(1, 2, 3, 4, 5), (2, 3, 4, 5)]),
    ("ConstantPad1d", lambda nn: nn.ConstantPad1d(2, 3.5), [(2, 3, 4)]),
    ("ConstantPad2d", lambda nn: nn.ConstantPad2d((1, 2, 0, 1), -1), [(2, 3, 4, 5)]),
    ("ConstantPad3d", lambda nn: nn.ConstantPad3d((1, 0, 2, 1, 0, 1), 2.0), [(1, 2, 3, 4, 5)]),
    ("ReflectionPad1d", lambda nn: nn.ReflectionPad1d(2), [(2, 3, 4), (3, 4)]),
    ("ReflectionPad2d", lambda nn: nn.ReflectionPad2d((1, 0, 2, 1)), [(2, 3, 4, 5), (3, 4, 5)]),
    ("ReflectionPad3d", lambda nn: nn.ReflectionPad3d(1), [(1, 2, 3, 4, 5), (2, 3, 4, 5)]),
    ("ReplicationPad1d", lambda nn: nn.ReplicationPad1d((3, 1)), [(2, 3, 4)]),
    ("ReplicationPad2d", lambda nn: nn.ReplicationPad2d(2), [(2, 3, 4, 5)]),
    ("ReplicationPad3d", lambda nn: nn.ReplicationPad3d((1, 2, 0, 1, 2, 0)), [(1, 2, 3, 4, 5), (2, 3, 4, 5)]),
    ("CircularPad1d", lambda nn: nn.CircularPad1d(2), [(2, 3, 4), (3, 4)]),
    ("CircularPad2d", lambda nn: nn.CircularPad2d((1, 2, 2, 0)), [(2, 3, 4, 5)]),
    ("CircularPad3d", lambda nn: nn.CircularPad3d(1), [(1, 2, 3, 4, 5)]),
]


@pytest.mark.parametrize("case", LAYERS, ids=[c[0] for c in LAYERS])
def test_padding_layers_match_torch(case, device):
    _, build, shapes = case
    tm, pm = build(torch.nn), build(plugrad.nn)
    assert repr(pm) == repr(tm)
    assert pm.padding == tm.padding and getattr(pm, "value", None) == getattr(tm, "value", None)
    for shape in shapes:
        x = RNG.standard_normal(shape).astype(np.float32)
        xt, xp = torch.tensor(x, requires_grad=True), plugrad.tensor(x, device=device, requires_grad=True)
        yt, yp = tm(xt), pm(xp)
        assert type(yp.grad_fn).__name__ == type(yt.grad_fn).__name__
        np.testing.assert_array_equal(to_numpy(yp), to_numpy(yt))
        g = RNG.standard_normal(tuple(yt.shape)).astype(np.float32)
        (gt,) = torch.autograd.grad(yt, xt, torch.tensor(g))
        (gp,) = plugrad.autograd.grad(yp, xp, plugrad.tensor(g, device=device))
        np.testing.assert_allclose(to_numpy(gp), to_numpy(gt), rtol=1e-6, atol=1e-6)


BAD = [
    ("ZeroPad2d 1-d", lambda nn: nn.ZeroPad2d(1), (3,)),
    ("ReflectionPad2d 1-d", lambda nn: nn.ReflectionPad2d(1), (3,)),
    ("ReflectionPad1d too wide", lambda nn: nn.ReflectionPad1d(4), (1, 2, 3)),
    ("ReplicationPad3d 2-d", lambda nn: nn.ReplicationPad3d(1), (3, 4)),
    ("CircularPad1d 4-d", lambda nn: nn.CircularPad1d(1), (1, 2, 3, 4)),
    ("CircularPad2d 2-d", lambda nn: nn.CircularPad2d(1), (3, 4)),
    ("CircularPad3d wraps twice", lambda nn: nn.CircularPad3d(3), (1, 2, 2, 2)),
]


@pytest.mark.parametrize("case", BAD, ids=[c[0] for c in BAD])
def test_bad_inputs_raise_like_torch(case, device):
    _, build, shape = case
    x = RNG.standard_normal(shape).astype(np.float32)
    with pytest.raises(Exception) as expected:
        build(torch.nn)(torch.tensor(x))
    with pytest.raises(expected.type):
        build(plugrad.nn)(plugrad.tensor(x, device=device))
