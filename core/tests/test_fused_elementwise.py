"""``Backend.fused_elementwise``: the optional kernel that runs a chain of elementwise
kernels as one (``plugrad.compile``'s replay calls it). Every device's result must be
bit-identical to its own unfused kernels run step by step; the default is that loop.
The conformance suite's ``fused`` column checks random programs per op and dtype;
these tests pin the calling convention on every installed device."""

import numpy as np
import pytest
import torch

import plugrad
from plugrad.backend import Backend


def _bits(t):
    return t.cpu().numpy().tobytes()


def _run(device, fused, program, inputs, out_specs):
    """Run ``program`` on plugrad tensors ``inputs`` (scalars pass as they are) through
    the device's ``fused_elementwise`` (``fused``) or the default loop; returns the out tensors."""
    backend = plugrad.empty(1, device=device)._backend
    outs = [(reg, plugrad.empty(shape, dtype=dt, device=device)) for reg, shape, dt in out_specs]
    args = [x._a if isinstance(x, plugrad.Tensor) else x for x in inputs]
    run = backend.fused_elementwise if fused else (lambda *a: Backend.fused_elementwise(backend, *a))
    run(program, args, [(reg, t._a) for reg, t in outs])
    return [t for _, t in outs]


W3_STEP = (("binary", "mul", (0, 1), plugrad.float32),      # r3 = x * 1.0001
           ("binary", "add", (3, 2), plugrad.float32),      # r4 = r3 + y (broadcast row)
           ("unary", "tanh", (4,), plugrad.float32),        # r5 = tanh(r4)
           ("binary", "mul", (5, 5), plugrad.float32),      # r6 = r5 * r5
           ("binary", "gt", (6, 1), plugrad.bool))          # r7 = r6 > 1.0001


@pytest.mark.parametrize("fused", [False, True], ids=["default", "device"])
def test_program_gives_eager_bits(device, fused):
    """Both the default loop and the device's own version give exactly the bits of the
    same ops run eagerly on the device, and PyTorch's values."""
    rng = np.random.default_rng(0)
    xh, yh = rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal(4).astype(np.float32)
    x, y = plugrad.tensor(xh, device=device), plugrad.tensor(yh, device=device)
    t, sq, mask = _run(device, fused, W3_STEP, [x, 1.0001, y],
                       [(5, (3, 4), plugrad.float32), (6, (3, 4), plugrad.float32), (7, (3, 4), plugrad.bool)])
    want_t = plugrad.tanh(x * 1.0001 + y)
    assert _bits(t) == _bits(want_t)
    assert _bits(sq) == _bits(want_t * want_t)
    assert _bits(mask) == _bits(want_t * want_t > 1.0001)
    ref = torch.tanh(torch.from_numpy(xh) * 1.0001 + torch.from_numpy(yh))
    np.testing.assert_allclose(t.cpu().numpy(), ref.numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("fused", [False, True], ids=["default", "device"])
def test_casts_where_and_strided_inputs(device, fused):
    """A transposed input, a cast to float64 and back, ``where`` with a scalar branch,
    and an integer chain with a bool predicate."""
    rng = np.random.default_rng(1)
    a = plugrad.tensor(rng.standard_normal((4, 3)).astype(np.float32), device=device).t()   # strides (1, 3)
    n = plugrad.tensor(rng.integers(-50, 50, (3, 4)), device=device)
    dt64 = plugrad.float64 if plugrad.float64 in a._backend.dtypes else plugrad.float32
    program = (("copy", None, (0,), dt64),                         # r3 = a as float64
               ("binary", "mul", (3, 3), dt64),                     # r4 = r3 * r3
               ("copy", None, (4,), plugrad.float32),               # r5 = r4 as float32
               ("binary", "lt", (0, 2), plugrad.bool),              # r6 = a < 0.25
               ("where", None, (6, 5, 2), plugrad.float32),         # r7 = r6 ? r5 : 0.25
               ("binary", "mul", (1, 1), plugrad.int64),            # r8 = n * n
               ("unary", "neg", (8,), plugrad.int64),               # r9 = -r8
               ("unary", "logical_not", (9,), plugrad.bool))        # r10 = !r9
    got, sq, nz = _run(device, fused, program, [a, n, 0.25],
                       [(7, (3, 4), plugrad.float32), (9, (3, 4), plugrad.int64), (10, (3, 4), plugrad.bool)])
    square = (a.to(dt64) * a.to(dt64)).to(plugrad.float32)
    assert _bits(got) == _bits(plugrad.where(a < 0.25, square, 0.25))
    assert _bits(sq) == _bits(-(n * n))
    assert _bits(nz) == _bits(plugrad.logical_not(-(n * n)))


@pytest.mark.parametrize("fused", [False, True], ids=["default", "device"])
def test_in_place_out_and_repeated_outs(device, fused):
    """An out that is an input's own array (``x.mul_(2).add_(1)``), one register written to
    two outs, and an input register written out (a plain copy of another input)."""
    x = plugrad.arange(6.0, device=device).reshape(2, 3)
    y = plugrad.full((2, 3), 7.0, device=device)
    backend = x._backend
    o1, o2, o3 = (plugrad.empty((2, 3), device=device) for _ in range(3))
    program = (("binary", "mul", (0, 2), plugrad.float32), ("binary", "add", (4, 3), plugrad.float32))
    run = backend.fused_elementwise if fused else (lambda *a: Backend.fused_elementwise(backend, *a))
    run(program, [x._a, y._a, 2.0, 1.0], [(5, x._a), (5, o1._a), (4, o2._a), (1, o3._a)])
    assert x.tolist() == [[1.0, 3.0, 5.0], [7.0, 9.0, 11.0]]
    assert o1.tolist() == x.tolist()
    assert o2.tolist() == [[0.0, 2.0, 4.0], [6.0, 8.0, 10.0]]
    assert o3.tolist() == y.tolist() == [[7.0] * 3] * 2


def test_unknown_step_kind_is_refused():
    backend = plugrad.empty(1)._backend
    x = plugrad.ones(3)
    with pytest.raises(ValueError, match="unknown step kind 'reduce'"):
        Backend.fused_elementwise(backend, (("reduce", "sum", (0,), plugrad.float32),), [x._a],
                                  [(1, plugrad.empty(3)._a)])


def test_fuses_elementwise_flag():
    """The default loop does not fuse; a device says so only when it overrides the method."""
    assert Backend.fuses_elementwise is False
    for name in ("cpu", "opencl", "pylist"):
        if name in plugrad.plugins.device_types() and getattr(plugrad, name).is_available():
            backend = plugrad.empty(1, device=name)._backend
            if type(backend).fused_elementwise is Backend.fused_elementwise:
                assert backend.fuses_elementwise is False, name
