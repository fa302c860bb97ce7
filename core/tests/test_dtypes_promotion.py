"""dtypes, their aliases, and PyTorch's type promotion: tensor/tensor pairs, 0-d tensors
against dimensioned ones, Python scalars, in-place and ``out=`` casting rules.

Same-category promotion is checked against NumPy's ``promote_types``; the category
rules (bool < integer < float, a lower tier only counts when its category is
higher) are checked against PyTorch where it is installed.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, strategies as st

import plugrad
from tensor_api_support import ALL_DTYPES, FLOAT_DTYPES, INT_DTYPES, assert_tensor_equal, broadcastable_pairs, \
    check_like_torch, device_settings, np_dtype, to_np, values_for

PAIRS = list(itertools.product(ALL_DTYPES, ALL_DTYPES))


def category(d) -> int:
    return 0 if d is plugrad.bool else (2 if d.is_floating_point else 1)


def expected_binary(a, a_shape, b, b_shape):
    """Result dtype of ``a_tensor op b_tensor``: a 0-d operand facing a dimensioned one
    only counts when its category is higher."""
    if (len(a_shape) == 0) == (len(b_shape) == 0):
        return expected_promotion(a, b)
    (dim, zero) = (a, b) if a_shape else (b, a)
    return expected_promotion(dim, zero) if category(zero) > category(dim) else dim


def expected_promotion(a, b):
    """Promotion of two tensors of the same tier: NumPy within a category, the higher
    category's dtype across categories."""
    if category(a) != category(b):
        return a if category(a) > category(b) else b
    return getattr(plugrad, np.promote_types(np_dtype(a), np_dtype(b)).name)


# ---- the dtype objects ----------------------------------------------------------------------------

@pytest.mark.parametrize("alias, dtype", [("half", "float16"), ("float", "float32"), ("double", "float64"),
                                          ("short", "int16"), ("int", "int32"), ("long", "int64")])
def test_aliases_are_the_same_objects(alias, dtype):
    assert getattr(plugrad, alias) is getattr(plugrad, dtype)


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_dtype_properties_match_numpy(dtype):
    nd = np_dtype(dtype)
    assert dtype.itemsize == nd.itemsize
    assert dtype.is_floating_point == (nd.kind == "f")
    assert dtype.is_signed == (nd.kind in "if")
    assert repr(dtype) == f"torch.{nd.name}"
    assert plugrad.zeros(1, dtype=dtype).element_size() == nd.itemsize


def test_dtypes_pickle_to_themselves():
    import pickle
    for d in ALL_DTYPES:
        assert pickle.loads(pickle.dumps(d)) is d


# ---- promote_types -----------------------------------------------------------------------------------

@pytest.mark.parametrize("a, b", PAIRS, ids=lambda d: d.name)
def test_promote_types_over_all_pairs(a, b):
    assert plugrad.promote_types(a, b) is expected_promotion(a, b)
    assert plugrad.promote_types(b, a) is plugrad.promote_types(a, b)


@pytest.mark.torch_oracle
def test_promote_types_match_torch():
    torch = pytest.importorskip("torch")
    for a, b in PAIRS:
        assert repr(plugrad.promote_types(a, b)) == repr(torch.promote_types(getattr(torch, a.name),
                                                                             getattr(torch, b.name)))


@pytest.mark.parametrize("a, b", PAIRS, ids=lambda d: d.name)
def test_tensor_tensor_arithmetic_computes_in_the_promoted_dtype(a, b):
    x_np, y_np = np.array([1, 0, 3]).astype(np_dtype(a)), np.array([2, 1, 0]).astype(np_dtype(b))
    r = plugrad.tensor(x_np) * plugrad.tensor(y_np)
    want = expected_promotion(a, b)
    assert r.dtype is want
    assert_tensor_equal(r, x_np.astype(np_dtype(want)) * y_np.astype(np_dtype(want)))


@given(st.sampled_from(PAIRS), broadcastable_pairs(max_dims=3), st.data())
@device_settings
def test_promotion_with_broadcasting_against_numpy(device, pair, shape_pair, data):
    a, b = pair
    xs, ys = shape_pair
    x = data.draw(values_for(a, xs))
    y = data.draw(values_for(b, ys))
    want = expected_binary(a, xs, b, ys)
    r = plugrad.tensor(x, device=device) + plugrad.tensor(y, device=device)
    if want is plugrad.bool:
        expected = np.logical_or(x, y)
    else:
        expected = x.astype(np_dtype(want)) + y.astype(np_dtype(want))
    assert_tensor_equal(r, expected, want)


# ---- tiers: dimensioned tensors, 0-d tensors, Python scalars -----------------------------------------

@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_python_scalars_keep_the_tensor_dtype_category(dtype):
    t = plugrad.ones(2, dtype=dtype)
    default = plugrad.get_default_dtype()
    # int scalar: bool tensors become int64, everything else keeps its dtype
    assert (t + 2).dtype is (plugrad.int64 if dtype is plugrad.bool else dtype)
    # float scalar: float tensors keep their dtype, the others become the default float
    assert (t * 2.5).dtype is (dtype if dtype.is_floating_point else default)
    # bool scalar never changes the category
    assert (t * True).dtype is dtype


@pytest.mark.parametrize("dim_dtype, zero_dtype", PAIRS, ids=lambda d: d.name)
def test_zero_dim_tensor_only_counts_when_of_a_higher_category(dim_dtype, zero_dtype):
    r = plugrad.ones(3, dtype=dim_dtype) * plugrad.ones((), dtype=zero_dtype)
    assert r.dtype is expected_binary(dim_dtype, (3,), zero_dtype, ())
    r0 = plugrad.ones((), dtype=dim_dtype) * plugrad.ones((), dtype=zero_dtype)
    assert r0.dtype is expected_promotion(dim_dtype, zero_dtype) and r0.shape == ()


@pytest.mark.torch_oracle
@pytest.mark.parametrize("a, b", PAIRS, ids=lambda d: d.name)
def test_result_dtype_of_every_tier_combination_matches_torch(a, b):
    pytest.importorskip("torch")
    combos = [lambda m, A, B: m.ones(2, dtype=A) + m.ones(2, dtype=B),
              lambda m, A, B: m.ones(2, dtype=A) + m.ones((), dtype=B),
              lambda m, A, B: m.ones((), dtype=A) + m.ones(2, dtype=B),
              lambda m, A, B: m.ones((), dtype=A) + m.ones((), dtype=B),
              lambda m, A, B: m.ones(2, dtype=A) * 3, lambda m, A, B: m.ones(2, dtype=A) * 1.5,
              lambda m, A, B: m.ones(2, dtype=A) * True, lambda m, A, B: 2 * m.ones((), dtype=A),
              lambda m, A, B: m.where(m.ones(2, dtype=m.bool), m.ones(2, dtype=A), m.ones((), dtype=B)),
              lambda m, A, B: m.maximum(m.ones(2, dtype=A), m.ones(2, dtype=B)),
              lambda m, A, B: m.ones(2, dtype=A) == m.ones(2, dtype=B),
              lambda m, A, B: m.cat([m.ones(2, dtype=A), m.ones(1, dtype=B)])]
    for combo in combos:
        check_like_torch(lambda m, combo=combo: combo(m, getattr(m, a.name), getattr(m, b.name)).dtype)


def test_true_division_of_integers_gives_the_default_float():
    for d in INT_DTYPES + (plugrad.bool,):
        assert (plugrad.ones(2, dtype=d) / plugrad.ones(2, dtype=d)).dtype is plugrad.float32
    assert (plugrad.tensor([7, 9]) // 2).dtype is plugrad.int64


def test_default_dtype_governs_python_floats():
    old = plugrad.get_default_dtype()
    try:
        plugrad.set_default_dtype(plugrad.float64)
        assert plugrad.tensor([1.5]).dtype is plugrad.float64
        assert (plugrad.tensor([1, 2]) * 0.5).dtype is plugrad.float64
        assert plugrad.zeros(2).dtype is plugrad.float64
        assert plugrad.arange(0.0, 1.0, 0.5).dtype is plugrad.float64
        with pytest.raises(TypeError, match="floating"):
            plugrad.set_default_dtype(plugrad.int32)
    finally:
        plugrad.set_default_dtype(old)
    assert plugrad.tensor([1.5]).dtype is old


# ---- Python scalars are converted like C casts ------------------------------------------------------

@pytest.mark.parametrize("dtype", INT_DTYPES, ids=str)
@given(values=st.lists(st.integers(0, 100), min_size=1, max_size=5), scalar=st.integers(-1000, 1000))
def test_int_scalars_wrap_into_small_int_dtypes(dtype, values, scalar):
    nd = np_dtype(dtype)
    bits = nd.itemsize * 8
    lo = np.iinfo(nd).min
    wrapped = (np.array(values, dtype=object) + scalar - lo) % (1 << bits) + lo
    r = plugrad.tensor(values, dtype=dtype) + scalar
    assert_tensor_equal(r, wrapped.astype(nd), dtype)


def test_in_place_add_of_a_large_scalar_wraps():
    t = plugrad.tensor([1, 2], dtype=plugrad.int8)
    t += 300
    assert_tensor_equal(t, ((np.array([1, 2]) + 300 + 128) % 256 - 128).astype(np.int8), plugrad.int8)


def test_scalars_beyond_64_bits_overflow():
    with pytest.raises(OverflowError):
        plugrad.zeros(2, dtype=plugrad.int8) + 2 ** 70


def test_float_scalar_too_large_for_half_gives_infinity():
    r = plugrad.zeros(2, dtype=plugrad.float16) + 1e10
    assert r.dtype is plugrad.float16 and np.isinf(to_np(r)).all()


# ---- casting rules of in-place ops and out= ------------------------------------------------------------

@pytest.mark.parametrize("target, source", PAIRS, ids=lambda d: d.name)
def test_in_place_ops_accept_only_results_of_a_lower_or_equal_category(target, source):
    t = plugrad.ones(3, dtype=target)
    before = to_np(t)
    result_dtype = expected_promotion(target, source)
    other = plugrad.ones(3, dtype=source)
    if category(result_dtype) > category(target):
        with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
            t.mul_(other)
        assert_tensor_equal(t, before, target)  # a refused op leaves the tensor unchanged
    else:
        t.mul_(other)
        assert t.dtype is target
        assert_tensor_equal(t, before)


@pytest.mark.parametrize("out_dtype", ALL_DTYPES, ids=str)
def test_out_argument_casts_down_only_within_a_category(out_dtype):
    x, y = plugrad.tensor([1.5, 2.0]), plugrad.tensor([1.0, 2.0])
    out = plugrad.empty(2, dtype=out_dtype)
    if out_dtype.is_floating_point:
        r = plugrad.add(x, y, out=out)
        assert r is out and out.dtype is out_dtype
        assert_tensor_equal(out, np.array([2.5, 4.0]).astype(np_dtype(out_dtype)))
    else:
        with pytest.raises(RuntimeError, match="can't be cast"):
            plugrad.add(x, y, out=out)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
def test_float_dtypes_keep_their_precision(dtype):
    third = plugrad.ones(1, dtype=dtype) / 3
    assert third.item() == float(np.array(1, np_dtype(dtype)) / np.array(3, np_dtype(dtype)))
