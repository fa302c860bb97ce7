"""The programs with 64-bit indices (used for storages of 2**31 elements or more)
compute what the 32-bit ones do: every kernel family once, on strided, broadcast
and chunked layouts, against the cpu device."""

from __future__ import annotations

import numpy as np
import pytest

from plugrad.extend import contiguous_strides

from ocl_helpers import Pair, assert_same_storage, random_values


@pytest.fixture
def case(ocl_wide, cpu):
    rng = np.random.default_rng(11)

    def make(name, shape, strides=None, offset=0, size=None, **kw):
        strides = strides or contiguous_strides(shape)
        size = size or (offset + sum((n - 1) * s for n, s in zip(shape, strides)) + 1)
        pair = Pair(ocl_wide, cpu, random_values(rng, name, size, **kw), name)
        return (pair,) + pair.view(shape, strides, offset)
    return make


def test_elementwise_copy_and_where(ocl_wide, cpu, case):
    _, ca, oa = case("float32", (4, 5), (1, 4))                  # transposed
    _, cb, ob = case("float32", (5,), (0,))                      # expanded
    out, co, oo = case("float32", (4, 5), (10, 2), offset=1, size=40)
    cpu.binary("atan2", ca, cb, co)
    ocl_wide.binary("atan2", oa, ob, oo)
    assert_same_storage(out)
    out16, c16, o16 = case("float16", (4, 5))
    cpu.copy(ca, c16)
    ocl_wide.copy(oa, o16)
    assert_same_storage(out16)
    _, cc, oc = case("bool", (4, 1))
    cpu.where(cc, ca, 2.5, co)
    ocl_wide.where(oc, oa, 2.5, oo)
    assert_same_storage(out)


@pytest.mark.parametrize("op", ["sum", "max", "all"])
def test_reductions_chunked_and_strided(ocl_wide, cpu, case, op):
    _, cx, ox = case("float32", (3, 9000), specials=False)
    out, co, oo = case("bool" if op == "all" else "float32", (3, 1))
    cpu.reduce(op, cx, (1,), co)
    ocl_wide.reduce(op, ox, (1,), oo)
    assert_same_storage(out, rtol=1e-4, atol=1e-3)
    _, cy, oy = case("int64", (6, 7, 8), (1, 6, 42))
    out2, c2, o2 = case("int64", (1, 7, 1))
    cpu.reduce("sum", cy, (0, 2), c2)
    ocl_wide.reduce("sum", oy, (0, 2), o2)
    assert_same_storage(out2)


def test_arg_reduce_scan_matmul(ocl_wide, cpu, case):
    _, cx, ox = case("float32", (30000, 2), specials=False)
    out, co, oo = case("int64", (1, 2))
    cpu.arg_reduce("argmin", cx, 0, co)
    ocl_wide.arg_reduce("argmin", ox, 0, oo)
    assert_same_storage(out)
    _, cs, os_ = case("int32", (5, 6), (1, 5))
    sout, csc, osc = case("int32", (5, 6))
    cpu.scan("cumsum", cs, 1, csc)
    ocl_wide.scan("cumsum", os_, 1, osc)
    assert_same_storage(sout)
    for kernel in ("generic", "v16", "tiled"):
        ocl_wide.matmul_kernel = kernel
        _, ca, oa = case("float32", (2, 9, 20), specials=False)
        _, cb, ob = case("float32", (2, 20, 17), (0, 1, 20), specials=False)
        mout, cm, om = case("float32", (2, 9, 17))
        cpu.matmul(ca, cb, cm)
        ocl_wide.matmul(oa, ob, om)
        assert_same_storage(mout, rtol=1e-5, atol=1e-5)


def test_indexing_and_random(ocl_wide, cpu, case):
    base, _, _ = case("float32", (10,), specials=False)
    idx = Pair(ocl_wide, cpu, np.array([3, 1, 3, 9, 0, 3]), "int64")
    ci, oi = idx.view((6,), (1,), 0)
    _, cv, ov = case("float32", (6,), specials=False)
    cpu.put(base.cb, ci, cv, True)
    ocl_wide.put(base.ob, oi, ov, True)
    assert_same_storage(base)
    out, co, oo = case("float32", (6,))
    cpu.take(base.cb, ci, co)
    ocl_wide.take(base.ob, oi, oo)
    assert_same_storage(out)
    ca, cn = cpu.nonzero(cv)
    oa, on = ocl_wide.nonzero(ov)
    assert on == cn


def test_only_wide_programs_were_used(ocl_wide):
    ocl_wide.fill(ocl_wide.empty((3,), next(iter(ocl_wide.dtypes))), 1)
    assert ocl_wide._libs[True] and not ocl_wide._libs[False]
    assert all(lib.idx.c == "long" for lib in ocl_wide._libs[True].values())
