"""The matmul kernels (generic, CPU vector, GPU local-memory tiles) against the cpu
device: 2-d and batched operands, transposed/sliced/offset operands, broadcast
batches (stride 0), ragged sizes around the tile edges, every dtype."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
from hypothesis import given, strategies as st

from ocl_helpers import ALL_DTYPES, FLOATS, Pair, assert_same_storage, layouts, make, seeded

VARIANTS = ("generic", "v16", "tiled")



@pytest.fixture(scope="module")
def ocl(ocl_both):
    """Every test here runs with the native tuning and with the GPU tuning."""
    return ocl_both

@contextlib.contextmanager
def matmul_kernel(ocl, variant):
    old = ocl.matmul_kernel
    ocl.matmul_kernel = variant
    try:
        yield
    finally:
        ocl.matmul_kernel = old


def _tol(name, k):
    if name not in FLOATS:
        return {}
    eps = {"float16": 2e-3, "float32": 3e-6, "float64": 1e-14}[name]
    return {"rtol": eps * max(k, 1) * 2, "atol": eps * max(k, 1) * 4}


def _case(ocl, cpu, draw, name, batch, m, k, n, variant):
    rng = seeded(draw)
    ashape, bshape = ((batch, m, k), (batch, k, n)) if batch else ((m, k), (k, n))
    oshape = (batch, m, n) if batch else (m, n)
    kw = {"specials": False, "low": -2, "high": 2}
    _, ca, oa = make(ocl, cpu, rng, name, ashape, draw(layouts(ashape)), **kw)
    _, cb, ob = make(ocl, cpu, rng, name, bshape, draw(layouts(bshape)), **kw)
    opair, co, oo = make(ocl, cpu, rng, name, oshape, draw(layouts(oshape, expand=False)), **kw)
    cpu.matmul(ca, cb, co)
    with matmul_kernel(ocl, variant):
        ocl.matmul(oa, ob, oo)
    assert_same_storage(opair, context=f"{variant} {name} a={oa} b={ob} out={oo}", **_tol(name, k))


@pytest.mark.parametrize("variant", VARIANTS)
@given(st.data())
def test_matmul_small(ocl, cpu, variant, data):
    draw = data.draw
    name = draw(st.sampled_from(ALL_DTYPES))
    batch = draw(st.sampled_from((0, 1, 3)))
    m, k, n = (draw(st.integers(1, 6)) for _ in range(3))
    _case(ocl, cpu, draw, name, batch, m, k, n, variant)


@pytest.mark.parametrize("variant", VARIANTS)
@given(st.data())
def test_matmul_ragged_tiles(ocl, cpu, variant, data):
    """Sizes around the 8x16 vector tiles and the 64x64 GPU tiles."""
    draw = data.draw
    name = draw(st.sampled_from(("float32", "float16", "int32")))
    batch = draw(st.sampled_from((0, 2)))
    m = draw(st.sampled_from((7, 8, 9, 17, 33, 65)))
    n = draw(st.sampled_from((15, 16, 17, 31, 64, 70)))
    k = draw(st.sampled_from((1, 5, 16, 40)))
    _case(ocl, cpu, draw, name, batch, m, k, n, variant)


@pytest.mark.parametrize("variant", VARIANTS)
def test_matmul_broadcast_batch_and_transposed_rhs(ocl, cpu, variant):
    """b broadcast over the batch (stride 0) and read transposed (column stride != 1)."""
    rng = np.random.default_rng(5)
    a = Pair(ocl, cpu, rng.standard_normal(4 * 20 * 24).astype(np.float32), "float32")
    b = Pair(ocl, cpu, rng.standard_normal(24 * 33).astype(np.float32), "float32")
    out = Pair(ocl, cpu, np.zeros(4 * 20 * 33, np.float32), "float32")
    ca, oa = a.view((4, 20, 24), (480, 24, 1), 0)
    cb, ob = b.view((4, 24, 33), (0, 1, 24), 0)        # b[i] = w.T for a (33, 24) w, shared by all batches
    co, oo = out.view((4, 20, 33), (660, 33, 1), 0)
    cpu.matmul(ca, cb, co)
    with matmul_kernel(ocl, variant):
        ocl.matmul(oa, ob, oo)
    assert_same_storage(out, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("name", ["float32", "float64", "int64"])
def test_matmul_larger_than_one_tile(ocl, cpu, name, variant):
    if name not in {d.name for d in ocl.dtypes}:
        pytest.skip(f"{name} is not supported by this device")
    rng = np.random.default_rng(6)
    m, k, n = 130, 70, 150
    vals = rng.integers(-3, 4, m * k + k * n).astype(name)
    a = Pair(ocl, cpu, vals[:m * k], name)
    b = Pair(ocl, cpu, vals[m * k:], name)
    out = Pair(ocl, cpu, np.zeros(m * n, name), name)
    ca, oa = a.view((m, k), (k, 1), 0)
    cb, ob = b.view((k, n), (n, 1), 0)
    co, oo = out.view((m, n), (n, 1), 0)
    cpu.matmul(ca, cb, co)
    with matmul_kernel(ocl, variant):
        ocl.matmul(oa, ob, oo)
    assert_same_storage(out)          # small integers: exact in every kernel
