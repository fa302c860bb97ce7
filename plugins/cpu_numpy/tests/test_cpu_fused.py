"""The cpu device's ``fused_elementwise``: programs over contiguous arrays of at least two
blocks run block by block, and must give the bits of the unfused kernels (the default
loop) for every op and dtype, across block boundaries and in the short last block."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import plugrad
from plugrad.extend import BINARY_OPS, UNARY_OPS, Backend
from plugrad_conformance.checks import fused as conformance_fused
from plugrad_conformance.checks.base import Ctx
from plugrad_conformance.device import DeviceUnderTest
from plugrad_cpu import backend as cpu_backend

BACKEND = plugrad.empty(1)._backend
DEVICE = DeviceUnderTest("cpu")
_SPECIAL = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 0.5, 1e-30, 88.0, -88.0, 1e30])


def _values(n, dtype, seed):
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return plugrad.tensor(rng.random(n) < 0.5)
    if dtype.startswith("int"):
        return plugrad.tensor(rng.integers(-100, 100, n), dtype=getattr(plugrad, dtype))
    v = rng.standard_normal(n) * 4
    v[rng.integers(0, n, 2000)] = rng.choice(_SPECIAL, 2000)
    return plugrad.tensor(v, dtype=plugrad.float64).to(getattr(plugrad, dtype))


def _both(program, inputs, out_dtypes, n):
    """Outs of the device's blocked version and of the default loop."""
    args = [x._a if isinstance(x, plugrad.Tensor) else x for x in inputs]
    outs = []
    for run in (BACKEND.fused_elementwise, lambda *a: Backend.fused_elementwise(BACKEND, *a)):
        ts = [plugrad.empty(n, dtype=d) for d in out_dtypes]
        run(program, args, [(len(inputs) + len(program) - len(ts) + k, t._a) for k, t in enumerate(ts)])
        outs.append([BACKEND.to_bytes(t._a) for t in ts])
    return outs


FLOATS = ["float32", "float64", "float16", "bfloat16"]
N = 2 * (cpu_backend.FUSED_BLOCK_BYTES // 4) + 12345     # over two float32 blocks, a short last one


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("op", sorted(UNARY_OPS - {"bitwise_not", "logical_not", "isnan", "isinf", "isfinite"}))
def test_unary_chain_blocked_equals_loop(op, dtype):
    d = getattr(plugrad, dtype)
    program = (("binary", "mul", (0, 1), d), ("unary", op, (2,), d), ("binary", "add", (3, 0), d))
    blocked, loop = _both(program, [_values(N, dtype, 0), 0.75], [d, d], N)
    assert blocked == loop


_FLOAT_BINARY = sorted(BINARY_OPS - {"bitwise_and", "bitwise_or", "bitwise_xor"})


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("op", _FLOAT_BINARY)
def test_binary_chain_blocked_equals_loop(op, dtype):
    d = getattr(plugrad, dtype)
    comparison = op in {"eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor"}
    rd = plugrad.bool if comparison else d
    program = (("binary", op, (0, 1), rd), ("binary", op, (0, 2), rd), ("unary", "neg", (0,), d),
               ("copy", None, (5,), plugrad.float64))
    x, y = _values(N, dtype, 1), _values(N, dtype, 2)
    blocked, loop = _both(program, [x, y, 1.5], [rd, rd, d, plugrad.float64], N)
    assert blocked == loop


@pytest.mark.parametrize("dtype", ["int64", "int32", "int8", "bool"])
def test_integer_and_bool_programs(dtype):
    d = getattr(plugrad, dtype)
    if dtype == "bool":
        program = (("binary", "logical_xor", (0, 1), d), ("unary", "logical_not", (2,), d),
                   ("where", None, (3, 0, 1), d))
    else:
        program = (("binary", "mul", (0, 1), d), ("binary", "floordiv", (3, 2), d),
                   ("binary", "gt", (3, 0), plugrad.bool), ("where", None, (5, 4, 1), d))
    n = 2 * (cpu_backend.FUSED_BLOCK_BYTES // d.itemsize) + 7
    inputs = [_values(n, dtype, 3), _values(n, dtype, 4)] + ([] if dtype == "bool" else [-3])
    outs = [d] if dtype == "bool" else [plugrad.bool, d]
    blocked, loop = _both(program, inputs, outs, n)
    assert blocked == loop


@pytest.mark.parametrize("dtype", ["float32", "float16", "int32", "bool"])
@settings(max_examples=40)
@given(data=st.data())
def test_random_programs_in_tiny_blocks(dtype, data):
    """The conformance check's random programs with blocks of 16 bytes: every program of
    more than two elements runs blocked, in blocks down to two elements."""
    op = "add" if dtype != "bool" else "logical_xor"
    sample = data.draw(conformance_fused._programs("binary", op, dtype))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cpu_backend, "FUSED_BLOCK_BYTES", 16)
        conformance_fused.run_fused(Ctx(DEVICE), _op(op), plugrad.dtypes.dtype_from_name(dtype), sample)


def _op(name):
    from plugrad_conformance.opdb import OPS
    return OPS[name]


def test_small_or_strided_programs_run_the_loop(monkeypatch):
    """Below two blocks (a program the compiled engine does not take: exp), or with a
    broadcast row or a transposed operand, the loop runs (same bits either way)."""
    calls = []
    monkeypatch.setattr(Backend, "fused_elementwise", lambda self, *a: calls.append(a))
    x = plugrad.ones(10)
    BACKEND.fused_elementwise((("unary", "exp", (0,), plugrad.float32),), [x._a], [(1, plugrad.empty(10)._a)])
    y = plugrad.ones(N // 256, 256)
    row = plugrad.ones(256)
    square = plugrad.ones(512, 512)
    add = (("binary", "add", (0, 1), plugrad.float32),)
    BACKEND.fused_elementwise(add, [y._a, row._a], [(2, plugrad.empty(N // 256, 256)._a)])
    BACKEND.fused_elementwise(add, [square._a, square.t()._a], [(2, plugrad.empty(512, 512)._a)])
    assert len(calls) == 3


def test_fuses_elementwise():
    assert BACKEND.fuses_elementwise is True
