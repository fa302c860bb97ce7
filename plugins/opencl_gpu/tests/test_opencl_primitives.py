"""Every kernel-interface primitive of the opencl device against the cpu device.

Random layouts (permuted, stepped, offset and expanded views, size-0 and size-1
dims, 0-d arrays), every dtype the device supports, and whole-storage comparisons.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, strategies as st

from plugrad.extend import BINARY_OPS, UNARY_OPS, UnsupportedOperation, broadcast_strides, contiguous_strides

from ocl_helpers import (ALL_DTYPES, FLOATS, Pair, assert_close, assert_same_storage, broadcast_shape, layouts,
                         make, nonempty_shapes, pd, random_values, seeded, shapes)

# ops whose int kernels must not see a zero (or negative, for pow) right operand
_NONZERO_RHS = {"floordiv", "remainder", "fmod"}


def _supported(ocl, name, kernel):
    return name in {d.name for d in ocl.dtypes} and ocl.library(pd(name)).has(kernel)


def _out_case(draw, ocl, cpu, rng, name, shape):
    layout = draw(layouts(shape, expand=False))
    return make(ocl, cpu, rng, name, shape, layout)



@pytest.fixture(scope="module")
def ocl(ocl_both):
    """Every test here runs with the native tuning and with the GPU tuning."""
    return ocl_both

@given(st.data())
def test_unary(ocl, cpu, data):
    draw = data.draw
    name = draw(st.sampled_from(ALL_DTYPES))
    op = draw(st.sampled_from(sorted(UNARY_OPS)))
    if not _supported(ocl, name, f"u_{op}_c"):
        with pytest.raises(UnsupportedOperation, match=op):
            ocl.unary(op, ocl.empty((2,), pd(name)), ocl.empty((2,), pd(name)))
        return
    rng = seeded(draw)
    shape = draw(shapes())
    out_name = "bool" if op in ("logical_not", "isnan", "isinf", "isfinite") else name
    inplace = out_name == name and draw(st.booleans())
    opair, co, oo = _out_case(draw, ocl, cpu, rng, out_name, shape)
    if inplace:
        cx, ox, xpair = co, oo, opair
    else:
        xpair, cx, ox = make(ocl, cpu, rng, name, shape, draw(layouts(shape)))
    if op == "sign" and name in FLOATS:        # PyTorch: sign(nan) is 0 (NumPy says nan)
        vals = xpair.storages()[0].copy()
        vals[np.isnan(vals)] = 0
        xpair = Pair(ocl, cpu, vals, name)
        cx, ox = xpair.view(cx.shape, ox.strides, ox.offset)
        if inplace:
            opair, co, oo = xpair, cx, ox
    if op in ("floor", "ceil", "round", "trunc") and name not in FLOATS:
        cpu.copy(cx, co)          # identity on integers, as in PyTorch (NumPy's rint rejects them)
    else:
        cpu.unary(op, cx, co)
    ocl.unary(op, ox, oo)
    assert_same_storage(opair, context=f"{op} {name} {shape} x={ox} out={oo}")


@given(st.data())
def test_binary(ocl, cpu, data):
    draw = data.draw
    name = draw(st.sampled_from(ALL_DTYPES))
    op = draw(st.sampled_from(sorted(BINARY_OPS)))
    if not _supported(ocl, name, f"b_{op}_c"):
        a = ocl.empty((2,), pd(name))
        with pytest.raises(UnsupportedOperation, match=op):
            ocl.binary(op, a, a, a)
        return
    rng = seeded(draw)
    shape = draw(shapes())
    bool_out = op in ("eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor")
    out_name = "bool" if bool_out else name
    opair, co, oo = _out_case(draw, ocl, cpu, rng, out_name, shape)
    safe_rhs = name not in FLOATS and (op in _NONZERO_RHS or op == "pow")
    kind = draw(st.sampled_from(("arrays", "scalar_b", "scalar_a", "inplace" if out_name == name else "arrays")))
    operands = []
    for side in ("a", "b"):
        if kind == f"scalar_{side}":
            v = random_values(rng, name, 1, specials=False)[0].item()
            if side == "b" and safe_rhs:
                v = 2 if op != "pow" else 3
            operands.append((v, v))
            continue
        if kind == "inplace" and side == "a":
            operands.append((co, oo))
            continue
        sshape = draw(broadcast_shape(shape))
        low, high = (0, 4) if (side == "b" and op == "pow" and name not in FLOATS) else (-3, 3)
        pair, c, o = make(ocl, cpu, rng, name, sshape, draw(layouts(sshape)), low=low, high=high)
        if side == "b" and safe_rhs:
            vals = pair.storages()[0].copy()
            vals[vals == 0] = 1
            if op == "pow":
                vals = np.abs(vals) % 5
            pair = Pair(ocl, cpu, vals, name)
            c, o = pair.view(c.shape, o.strides, o.offset)
        operands.append((c, o))
    (ca, oa), (cb, ob) = operands
    cpu.binary(op, ca, cb, co)
    ocl.binary(op, oa, ob, oo)
    assert_same_storage(opair, context=f"{op} {name} {kind} {shape} a={oa} b={ob} out={oo}")


@given(st.data())
def test_where(ocl, cpu, data):
    draw = data.draw
    name = draw(st.sampled_from(ALL_DTYPES))
    rng = seeded(draw)
    shape = draw(shapes())
    opair, co, oo = _out_case(draw, ocl, cpu, rng, name, shape)
    cshape = draw(broadcast_shape(shape))
    _, cc, oc = make(ocl, cpu, rng, "bool", cshape, draw(layouts(cshape)))
    sides = []
    for _ in range(2):
        if draw(st.booleans()):
            v = random_values(rng, name, 1, specials=False)[0].item()
            sides.append((v, v))
        else:
            s = draw(broadcast_shape(shape))
            _, c, o = make(ocl, cpu, rng, name, s, draw(layouts(s)))
            sides.append((c, o))
    cpu.where(cc, sides[0][0], sides[1][0], co)
    ocl.where(oc, sides[0][1], sides[1][1], oo)
    assert_same_storage(opair, context=f"where {name} {shape}")


@given(st.data())
def test_copy_casts_and_broadcasts(ocl, cpu, data):
    draw = data.draw
    src, dst = draw(st.sampled_from(ALL_DTYPES)), draw(st.sampled_from(ALL_DTYPES))
    rng = seeded(draw)
    shape = draw(shapes())
    opair, co, oo = _out_case(draw, ocl, cpu, rng, dst, shape)
    sshape = draw(broadcast_shape(shape))
    _, cs, os_ = make(ocl, cpu, rng, src, sshape, draw(layouts(sshape)), low=-100, high=100,
                      specials=dst in FLOATS)
    cpu.copy(cs, co)
    ocl.copy(os_, oo)
    assert_same_storage(opair, context=f"copy {src}->{dst} {sshape}->{shape}")


@given(st.data())
def test_fill(ocl, cpu, data):
    draw = data.draw
    name = draw(st.sampled_from(ALL_DTYPES))
    rng = seeded(draw)
    shape = draw(shapes())
    opair, co, oo = _out_case(draw, ocl, cpu, rng, name, shape)
    value = random_values(rng, name, 1)[0].item()
    cpu.fill(co, value)
    ocl.fill(oo, value)
    assert_same_storage(opair)


def _reduce_tolerance(name, op, x_values, reduced):
    if name not in FLOATS or op not in ("sum", "prod"):
        return {}
    finite = x_values[np.isfinite(x_values)]
    scale = float(np.abs(finite).max()) if finite.size else 1.0
    eps = {"float16": 1e-3, "float32": 2e-6, "float64": 1e-14}[name]
    return {"atol": eps * 4 * max(reduced, 1) * max(scale, 1.0) ** (reduced if op == "prod" else 1),
            "rtol": eps * 4 * max(reduced, 1)}


@given(st.data())
def test_reduce(ocl, cpu, data):
    draw = data.draw
    name = draw(st.sampled_from(ALL_DTYPES))
    op = draw(st.sampled_from(("sum", "prod", "max", "min", "any", "all")))
    if not _supported(ocl, name, f"red_{op}"):
        return
    rng = seeded(draw)
    shape = draw(shapes(min_dims=1))
    axes = tuple(sorted(draw(st.sets(st.integers(0, len(shape) - 1), min_size=1))))
    reduced = int(np.prod([shape[a] for a in axes]))
    if op in ("max", "min") and reduced == 0:
        return
    out_shape = tuple(1 if d in axes else n for d, n in enumerate(shape))
    out_name = "bool" if op in ("any", "all") else name
    opair, co, oo = _out_case(draw, ocl, cpu, rng, out_name, out_shape)
    kw = {"low": 0.5, "high": 1.5, "specials": False} if op == "prod" else {}
    xpair, cx, ox = make(ocl, cpu, rng, name, shape, draw(layouts(shape)), **kw)
    cpu.reduce(op, cx, axes, co)
    ocl.reduce(op, ox, axes, oo)
    assert_same_storage(opair, context=f"{op} {name} {shape} axes={axes} x={ox}",
                        **_reduce_tolerance(name, op, xpair.storages()[0], reduced))


@pytest.mark.parametrize("shape,axes", [((3, 20000), (1,)), ((50000,), (0,)), ((9000, 5), (0,)), ((6, 700, 7), (0, 2)),
                                        ((40, 30, 20), (0, 2)), ((2, 3, 4, 5, 6, 7, 8, 9, 2), (1, 3, 5, 7))])
@pytest.mark.parametrize("op", ["sum", "max", "any"])
def test_reduce_long_axes_and_many_dims(ocl, cpu, shape, axes, op):
    """Long axes take the two-launch (chunked) path; many dims split into launches."""
    rng = np.random.default_rng(0)
    name = "float32"
    x = Pair(ocl, cpu, random_values(rng, name, int(np.prod(shape)), specials=False), name)
    cx, ox = x.view(shape, contiguous_strides(shape), 0)
    out_shape = tuple(1 if d in axes else n for d, n in enumerate(shape))
    out_name = "bool" if op == "any" else name
    o = Pair(ocl, cpu, np.zeros(int(np.prod(out_shape)), out_name), out_name)
    co, oo = o.view(out_shape, contiguous_strides(out_shape), 0)
    cpu.reduce(op, cx, axes, co)
    ocl.reduce(op, ox, axes, oo)
    reduced = int(np.prod([shape[a] for a in axes]))
    assert_same_storage(o, **_reduce_tolerance(name, op, x.storages()[0], reduced))


@given(st.data())
def test_arg_reduce(ocl, cpu, data):
    draw = data.draw
    name = draw(st.sampled_from(ALL_DTYPES))
    op = draw(st.sampled_from(("argmax", "argmin")))
    rng = seeded(draw)
    shape = draw(nonempty_shapes(min_dims=1))
    axis = draw(st.integers(0, len(shape) - 1))
    out_shape = tuple(1 if d == axis else n for d, n in enumerate(shape))
    opair, co, oo = _out_case(draw, ocl, cpu, rng, "int64", out_shape)
    _, cx, ox = make(ocl, cpu, rng, name, shape, draw(layouts(shape)))
    cpu.arg_reduce(op, cx, axis, co)
    ocl.arg_reduce(op, ox, axis, oo)
    assert_same_storage(opair, context=f"{op} {name} {shape} axis={axis} x={ox}")


@pytest.mark.parametrize("shape,axis", [((100003,), 0), ((2, 30000), 1), ((30000, 3), 0)])
@pytest.mark.parametrize("op", ["argmax", "argmin"])
def test_arg_reduce_long_axis_first_index_and_nan(ocl, cpu, shape, axis, op):
    rng = np.random.default_rng(1)
    vals = rng.integers(-5, 5, int(np.prod(shape))).astype(np.float32)   # many ties: the first index must win
    vals[len(vals) * 2 // 3] = np.nan
    vals[len(vals) - 2] = np.nan
    x = Pair(ocl, cpu, vals, "float32")
    cx, ox = x.view(shape, contiguous_strides(shape), 0)
    out_shape = tuple(1 if d == axis else n for d, n in enumerate(shape))
    o = Pair(ocl, cpu, np.zeros(int(np.prod(out_shape)), np.int64), "int64")
    co, oo = o.view(out_shape, contiguous_strides(out_shape), 0)
    cpu.arg_reduce(op, cx, axis, co)
    ocl.arg_reduce(op, ox, axis, oo)
    assert_same_storage(o)


@given(st.data())
def test_scan(ocl, cpu, data):
    draw = data.draw
    name = draw(st.sampled_from(ALL_DTYPES))
    op = draw(st.sampled_from(("cumsum", "cumprod")))
    rng = seeded(draw)
    shape = draw(shapes(min_dims=1))
    axis = draw(st.integers(0, len(shape) - 1))
    opair, co, oo = _out_case(draw, ocl, cpu, rng, name, shape)
    kw = {"low": 0.5, "high": 1.5, "specials": False} if op == "cumprod" else {}
    _, cx, ox = make(ocl, cpu, rng, name, shape, draw(layouts(shape)), **kw)
    cpu.scan(op, cx, axis, co)
    ocl.scan(op, ox, axis, oo)
    n = shape[axis]
    tol = {"rtol": TOLS[name] * max(n, 1), "atol": TOLS[name] * max(n, 1) * 3} if name in FLOATS else {}
    assert_same_storage(opair, context=f"{op} {name} {shape} axis={axis}", **tol)


TOLS = {"float16": 2e-3, "float32": 2e-6, "float64": 1e-14}


@given(st.data())
def test_take(ocl, cpu, data):
    draw = data.draw
    name = draw(st.sampled_from(ALL_DTYPES))
    rng = seeded(draw)
    base = Pair(ocl, cpu, random_values(rng, name, draw(st.integers(1, 30))), name)
    shape = draw(shapes())
    opair, co, oo = _out_case(draw, ocl, cpu, rng, name, shape)
    ishape = draw(broadcast_shape(shape))
    size, strides, offset = draw(layouts(ishape))
    n = base.cb.size
    idx = Pair(ocl, cpu, rng.integers(0, n, size), "int64")
    ci, oi = idx.view(ishape, strides, offset)
    if shape != ishape:       # the core passes the index already expanded to out's shape
        bs = broadcast_strides(ishape, strides, shape)
        ci, oi = idx.view(shape, bs, offset)
    cpu.take(base.cb, ci, co)
    ocl.take(base.ob, oi, oo)
    assert_same_storage(opair)


@given(st.data())
def test_put(ocl, cpu, data):
    draw = data.draw
    name = draw(st.sampled_from(ALL_DTYPES))
    accumulate = draw(st.booleans())
    rng = seeded(draw)
    base = Pair(ocl, cpu, random_values(rng, name, draw(st.integers(1, 12)), specials=False), name)
    shape = draw(shapes())
    n = base.cb.size
    size, strides, offset = draw(layouts(shape, expand=accumulate))
    positions = rng.integers(0, n, size) if accumulate else rng.permutation(max(n, size))[:size] % n
    idx = Pair(ocl, cpu, positions, "int64")
    ci, oi = idx.view(shape, strides, offset)
    if not accumulate:
        # unique positions: which duplicate wins is unspecified
        flat = np.frombuffer(cpu.to_bytes(ci), np.int64)
        if len(set(flat.tolist())) != flat.size:
            return
    if draw(st.booleans()):
        v = random_values(rng, name, 1, specials=False)[0].item()
        cv = ov = v
    else:
        vshape = draw(broadcast_shape(shape))
        vpair, cv, ov = make(ocl, cpu, rng, name, vshape, draw(layouts(vshape)), specials=False)
        # the cpu device gets the values expanded: NumPy's add.at broadcasts them wrongly
        cv = cpu.view(vpair.cb, shape, broadcast_strides(vshape, ov.strides, shape), ov.offset)
    cpu.put(base.cb, ci, cv, accumulate)
    ocl.put(base.ob, oi, ov, accumulate)
    assert_same_storage(base, rtol=1e-5 if name != "float16" else 5e-3, atol=1e-5 if name != "float16" else 5e-3,
                        context=f"put {name} acc={accumulate} {shape}")


@pytest.mark.parametrize("name", ALL_DTYPES)
@pytest.mark.parametrize("deterministic", [False, True])
def test_put_accumulate_many_duplicates(ocl, cpu, name, deterministic):
    """Nothing is lost with many duplicates. Deterministic (the default): the sorted
    runs add in index order, bit-equal to the cpu device's sequential adds; otherwise
    float sums use compare-and-swap atomics and equal it up to rounding."""
    if name not in {d.name for d in ocl.dtypes}:
        pytest.skip(f"{name} is not supported by this device")
    rng = np.random.default_rng(2)
    n = 3000
    positions = rng.integers(0, 7, n)
    values = random_values(rng, name, n, low=-2, high=2, specials=False)
    base = Pair(ocl, cpu, random_values(rng, name, 7, specials=False), name)
    idx = Pair(ocl, cpu, positions, "int64")
    vals = Pair(ocl, cpu, values, name)
    ci, oi = idx.view((n,), (1,), 0)
    cv, ov = vals.view((n,), (1,), 0)
    ocl.deterministic = deterministic
    try:
        cpu.put(base.cb, ci, cv, True)
        ocl.put(base.ob, oi, ov, True)
    finally:
        ocl.deterministic = True
    expected, actual = base.storages()
    if deterministic or name not in FLOATS:
        np.testing.assert_array_equal(actual, expected)
    else:
        assert_close(expected, actual, name, rtol=1e-4 if name != "float16" else 2e-2, atol=1e-3 if name != "float16"
                     else 0.5)


def test_deterministic_accumulation_gives_the_same_bits_every_time(ocl):
    rng = np.random.default_rng(4)
    n = 20000
    index = ocl.from_bytes(rng.integers(0, 50, n).astype(np.int64).tobytes(), (n,), pd("int64"))
    values = ocl.from_bytes(rng.standard_normal(n).astype(np.float32).tobytes(), (n,), pd("float32"))
    results = set()
    for _ in range(3):
        base = ocl.empty((50,), pd("float32"))
        ocl.fill(base, 0.0)
        ocl.put(base, index, values, True)
        results.add(ocl.to_bytes(base))
    assert len(results) == 1 and ocl.deterministic


@given(st.data())
def test_nonzero(ocl, cpu, data):
    draw = data.draw
    name = draw(st.sampled_from(ALL_DTYPES))
    rng = seeded(draw)
    shape = draw(shapes())
    _, cx, ox = make(ocl, cpu, rng, name, shape, draw(layouts(shape)))
    ca, cn = cpu.nonzero(cx)
    oa, on = ocl.nonzero(ox)
    assert on == cn
    assert np.frombuffer(ocl.to_bytes(oa), np.int64).tolist() == np.asarray(ca).reshape(-1).tolist()


def test_nonzero_large_many_chunks(ocl, cpu):
    rng = np.random.default_rng(3)
    vals = (rng.random(300000) < 0.01).astype(np.float32)
    x = Pair(ocl, cpu, vals, "float32")
    cx, ox = x.view((300, 1000), (1000, 1), 0)
    ca, cn = cpu.nonzero(cx)
    oa, on = ocl.nonzero(ox)
    assert on == cn
    assert np.array_equal(np.frombuffer(ocl.to_bytes(oa), np.int64).reshape(on, 2), ca)


def test_layouts_with_more_dims_than_a_descriptor_holds(ocl, cpu):
    """Ten dims that do not coalesce (a reversed permutation of a 2x...x2 tensor):
    elementwise ops, copies, accumulating scatters and nonzero still work."""
    rng = np.random.default_rng(9)
    shape = (2,) * 10
    rev = tuple(2 ** d for d in range(10))          # transposed: strides grow along the dims
    x = Pair(ocl, cpu, random_values(rng, "float32", 1024, specials=False), "float32")
    cx, ox = x.view(shape, rev, 0)
    out = Pair(ocl, cpu, np.zeros(1024, np.float32), "float32")
    co, oo = out.view(shape, contiguous_strides(shape), 0)
    cpu.unary("exp", cx, co)
    ocl.unary("exp", ox, oo)
    assert_same_storage(out)
    idx = Pair(ocl, cpu, rng.integers(0, 5, 1024), "int64")
    ci, oi = idx.view(shape, rev, 0)
    base = Pair(ocl, cpu, np.zeros(5, np.float32), "float32")
    cpu.put(base.cb, ci, cx, True)
    ocl.put(base.ob, oi, ox, True)
    assert_same_storage(base)
    ca, cn = cpu.nonzero(cx)
    oa, on = ocl.nonzero(ox)
    assert on == cn and np.array_equal(np.frombuffer(ocl.to_bytes(oa), np.int64).reshape(on, 10), ca)


@pytest.mark.parametrize("op", ["sum", "max", "any"])
def test_reductions_replayed_from_the_plan_cache(ocl, cpu, op):
    """The same layout at other offsets and dtypes reuses a cached launch plan."""
    rng = np.random.default_rng(12)
    for name in ("float32", "int32", "float32"):
        x = Pair(ocl, cpu, random_values(rng, name, 200, specials=False), name)
        for offset in (0, 7, 30):
            cx, ox = x.view((5, 6), (12, 2), offset)
            out_name = "bool" if op == "any" else name
            o = Pair(ocl, cpu, np.zeros(10, out_name), out_name)
            co, oo = o.view((5, 1), (2, 1), 1)
            cpu.reduce(op, cx, (1,), co)
            ocl.reduce(op, ox, (1,), oo)
            assert_same_storage(o, rtol=1e-6, atol=1e-6)
