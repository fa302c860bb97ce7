"""The opencl device's ``fused_elementwise``: one generated kernel per program, dtypes
and layout, cached, with the unfused kernels' bits (the conformance suite's ``fused``
column checks random programs; these tests pin the mechanics)."""

from __future__ import annotations

import numpy as np
import pytest

import plugrad
from plugrad.backend import Backend


@pytest.fixture
def backend():
    return plugrad.empty(1, device="opencl")._backend


def _run_both(backend, program, inputs, outs_spec):
    got, want = ([(r, backend.empty(shape, d)) for r, shape, d in outs_spec] for _ in range(2))
    backend.fused_elementwise(program, inputs, got)
    Backend.fused_elementwise(backend, program, inputs, want)
    return [backend.to_bytes(a) for _, a in got], [backend.to_bytes(a) for _, a in want]


def test_no_fma_between_steps(backend):
    """``x*y + z`` rounds twice, as two kernels do: 1+2**-12 squared is a tie in float32
    (rounded to 1+2**-11), so minus 1 gives 2**-11; an fma would give 2**-11 + 2**-24."""
    f32 = plugrad.float32
    x = backend.from_bytes(np.full(64, 1 + 2.0 ** -12, np.float32).tobytes(), (64,), f32)
    program = (("binary", "mul", (0, 0), f32), ("binary", "add", (2, 1), f32))
    got, want = _run_both(backend, program, [x, -1.0], [(3, (64,), f32)])
    assert got == want
    assert np.frombuffer(got[0], np.float32)[0] == 2.0 ** -11


def test_kernel_is_cached_per_program_and_layout(backend):
    f32 = plugrad.float32
    program = (("unary", "exp", (0,), f32), ("binary", "mul", (1, 0), f32))
    x = plugrad.rand(5, 7, device="opencl")
    kernels = backend._fused._kernels
    out = plugrad.empty(5, 7, device="opencl")
    backend.fused_elementwise(program, [x._a], [(2, out._a)])
    count = len(kernels)
    for _ in range(3):
        backend.fused_elementwise(program, [plugrad.rand(5, 7, device="opencl")._a], [(2, out._a)])
    assert len(kernels) == count                       # same program, dtypes and layout: no new kernel
    xt = plugrad.rand(7, 5, device="opencl").t()
    backend.fused_elementwise(program, [xt._a], [(2, out._a)])
    assert len(kernels) == count + 1                   # a strided layout is another kernel
    (knl, src), = [v for k, v in kernels.items() if k[0] == program and k[3] == "c"]
    assert "#pragma OPENCL FP_CONTRACT OFF" in src.source


def test_many_dims_wide_indices_and_half(backend, monkeypatch):
    """Nine dims that do not coalesce, 64-bit indices, and float16 rounded after each step."""
    f16 = plugrad.float16
    shape = (2,) * 9
    base = plugrad.randn(*(3,) * 9, device="opencl").to(f16)
    x = base[(slice(0, 2),) * 9]                       # strides of a 3**9 storage: nothing coalesces
    program = (("binary", "mul", (0, 1), f16), ("unary", "sin", (2,), f16), ("binary", "div", (3, 0), f16))
    monkeypatch.setattr(backend, "force_wide", True)
    got, want = _run_both(backend, program, [x._a, 3.3], [(4, shape, f16), (2, shape, f16)])
    assert got == want
    assert any(key[4] for key in backend._fused._kernels)       # the wide kernel was generated


def test_unfusable_program_runs_the_loop(backend):
    """A scalar register written out has no kernel operand: the loop writes it (a fill),
    and the refusal is remembered."""
    f32 = plugrad.float32
    x = plugrad.rand(4, device="opencl")
    program = (("unary", "neg", (0,), f32),)
    got, want = _run_both(backend, program, [x._a, 2.5], [(2, (4,), f32), (1, (4,), f32)])
    assert got == want
    assert np.frombuffer(got[1], np.float32).tolist() == [2.5] * 4
    assert any(v is not None and not isinstance(v, tuple) for v in backend._fused._kernels.values())


def test_unsupported_op_raises_like_the_unfused_kernel(backend):
    """An op a dtype lacks (``sqrt`` of int32) is refused by the unfused kernel's error."""
    i32 = plugrad.int32
    x = plugrad.arange(4, dtype=i32, device="opencl")
    with pytest.raises(plugrad.UnsupportedOperation, match="sqrt"):
        backend.fused_elementwise((("unary", "sqrt", (0,), i32),), [x._a], [(1, backend.empty((4,), i32))])
