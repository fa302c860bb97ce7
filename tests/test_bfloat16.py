"""``plugrad.bfloat16`` against PyTorch: the dtype, promotion, bit-exact casts, arithmetic,
reductions, matmul, softmax, a Linear layer's forward and backward, printing and
serialization; and the refusal on devices without bfloat16 (opencl, pylist).

bfloat16 keeps 8 significant bits, so results that PyTorch and plugrad accumulate in a
different order (sums, matmuls, transcendental functions) may differ by one unit in the
last place; casts and the correctly rounded elementwise ops must match bit for bit.
"""

from __future__ import annotations

import io
import math
import struct

import numpy as np
import plugrad
import pytest
from hypothesis import given, settings, strategies as st

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch_oracle

#: one unit in the last place of a bfloat16 near 1: the tolerance of results that
#: depend on the order of float32 accumulation
ULP = 2.0 ** -7


def bf16_device(device):
    """Skip unless ``device`` computes bfloat16 (the refusal has its own test)."""
    if plugrad.bfloat16 not in plugrad.plugins.backend_for(plugrad.device(device)).dtypes:
        pytest.skip(f"{device} does not support bfloat16")
    return device


def mine(values, dtype=plugrad.bfloat16, device="cpu", requires_grad=False):
    """float32 data as a plugrad tensor of ``dtype`` (cast on the device)."""
    t = plugrad.tensor(np.asarray(values, np.float32), device=device).to(dtype)
    return t.requires_grad_() if requires_grad else t


def theirs(values, dtype=torch.bfloat16, requires_grad=False):
    t = torch.tensor(np.asarray(values, np.float32)).to(dtype)
    return t.requires_grad_() if requires_grad else t


def same_values(got, expected):
    """Bit-equal values (NaN equal to NaN), same dtype name and shape."""
    assert str(got.dtype) == str(expected.dtype)
    assert tuple(got.shape) == tuple(expected.shape)
    a = np.array(got.detach().cpu().float().tolist(), np.float64)
    b = np.array(expected.detach().float().tolist(), np.float64)
    np.testing.assert_array_equal(a, b)


def close(got, expected, rtol=ULP, atol=1e-6):
    assert str(got.dtype) == str(expected.dtype)
    assert tuple(got.shape) == tuple(expected.shape)
    np.testing.assert_allclose(np.array(got.detach().cpu().float().tolist(), np.float64),
                               np.array(expected.detach().float().tolist(), np.float64), rtol=rtol, atol=atol,
                               equal_nan=True)


# ---- the dtype ---------------------------------------------------------------------------

def test_dtype_object_matches_pytorch():
    d = plugrad.bfloat16
    assert d.itemsize == torch.bfloat16.itemsize == 2
    assert d.is_floating_point is torch.bfloat16.is_floating_point is True
    assert d.is_signed and not d.is_complex
    assert repr(d) == repr(torch.bfloat16) and str(d) == str(torch.bfloat16)
    assert d.name == "bfloat16"
    assert plugrad.dtypes.dtype_from_name("bfloat16") is d
    assert d in plugrad.dtypes.ALL_DTYPES
    assert plugrad.tensor([1.5], dtype=d).item() == 1.5
    assert type(plugrad.tensor([1.5], dtype=d).item()) is float
    assert plugrad.tensor([1.0], dtype=d).element_size() == 2


def test_promotion_table_matches_pytorch():
    names = [d.name for d in plugrad.dtypes.ALL_DTYPES]
    for a in names:
        for b in names:
            if "bfloat16" not in (a, b):
                continue
            expected = torch.promote_types(getattr(torch, a), getattr(torch, b))
            assert repr(plugrad.promote_types(getattr(plugrad, a if a != "bool" else "bool"),
                                              getattr(plugrad, b))) == repr(expected), (a, b)


@pytest.mark.parametrize("expr", [
    lambda m: m.ones(3, dtype=m.bfloat16) + m.ones(3, dtype=m.float16),
    lambda m: m.ones(3, dtype=m.bfloat16) + m.ones(3, dtype=m.float32),
    lambda m: m.ones(3, dtype=m.int64) + m.ones(3, dtype=m.bfloat16),
    lambda m: m.ones(3, dtype=m.bfloat16) + 2.5,
    lambda m: m.ones(3, dtype=m.bfloat16) * 3,
    lambda m: m.ones(3, dtype=m.bfloat16) + m.tensor(1.0, dtype=m.float64),
    lambda m: m.ones(3, dtype=m.float16) + m.tensor(1.0, dtype=m.bfloat16),
    lambda m: m.ones(3, dtype=m.int32) + m.tensor(1.0, dtype=m.bfloat16),
    lambda m: m.ones(3, dtype=m.bool) * m.tensor(1.0, dtype=m.bfloat16),
    lambda m: m.ones(3, dtype=m.bfloat16) < 2,
    lambda m: m.ones(3, dtype=m.bfloat16) / m.ones(3, dtype=m.int8),
], ids=range(11))
def test_promotion_by_operation_matches_pytorch(expr):
    assert repr(expr(plugrad).dtype) == repr(expr(torch).dtype)


# ---- casts -------------------------------------------------------------------------------

#: values around rounding boundaries: ties to even, just above a tie, overflow near the
#: top, subnormals, infinities, NaN, signed zero
EDGES = np.array([
    1.0, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 1 + 2 ** -8 + 2 ** -20, 1 - 2 ** -9, -1 - 2 ** -8, 0.0, -0.0,
    3.3895313892515355e38, 3.3961775292304286e38, 3.3961e38, 3.4e38, 1e-40, 2 ** -133, -1e-45,
    np.inf, -np.inf, np.nan, 0.1, 1 / 3, 65504.0, 123456.789,
], np.float32)


def test_float32_to_bfloat16_rounds_bit_exactly_at_the_edges():
    same_values(mine(EDGES), theirs(EDGES))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 2 ** 32 - 1), min_size=1, max_size=64))
def test_random_float32_bit_patterns_round_as_in_pytorch(words):
    values = np.array(words, np.uint32).view(np.float32)
    values = np.where(np.isnan(values), np.float32(np.nan), values)   # every NaN reads as NaN
    same_values(mine(values), theirs(values))


def test_double_data_rounds_through_float32_as_in_pytorch():
    data = [1 + 2 ** -8 + 2 ** -30, -(1 + 2 ** -8 + 2 ** -30), 0.1, 1e39, -1e300, 3.3961e38]
    same_values(plugrad.tensor(data, dtype=plugrad.bfloat16), torch.tensor(data, dtype=torch.bfloat16))
    same_values(plugrad.tensor(data, dtype=plugrad.float64).to(plugrad.bfloat16),
                torch.tensor(data, dtype=torch.float64).to(torch.bfloat16))
    same_values(plugrad.full((2,), data[0], dtype=plugrad.bfloat16), torch.full((2,), data[0], dtype=torch.bfloat16))


@pytest.mark.parametrize("other", ["float16", "float32", "float64", "int64", "int8", "uint8", "bool"])
def test_casts_to_and_from_other_dtypes_match_pytorch(other):
    data = np.array([-300.7, -2.5, -1.0, -0.4, 0.0, 0.5, 1.5, 2.5, 100.25, 250.9], np.float32)
    src_mine, src_theirs = mine(data), theirs(data)
    same_values(src_mine.to(getattr(plugrad, other)), src_theirs.to(getattr(torch, other)))
    back_mine = plugrad.tensor(data).to(getattr(plugrad, other)).to(plugrad.bfloat16)
    same_values(back_mine, torch.tensor(data).to(getattr(torch, other)).to(torch.bfloat16))


def test_tensor_and_module_casts_match_pytorch():
    data = np.linspace(-3, 3, 7, dtype=np.float32)
    same_values(plugrad.tensor(data).bfloat16(), torch.tensor(data).bfloat16())
    same_values(plugrad.tensor(data).to(dtype=plugrad.bfloat16), torch.tensor(data).to(dtype=torch.bfloat16))
    assert plugrad.tensor(data).type(plugrad.bfloat16).type() == torch.tensor(data).bfloat16().type()
    net = plugrad.nn.Linear(3, 2).bfloat16()
    assert net.weight.dtype is plugrad.bfloat16 and net.bias.dtype is plugrad.bfloat16
    assert plugrad.BFloat16Tensor([1.0, 2.0]).dtype is plugrad.bfloat16


# ---- arithmetic --------------------------------------------------------------------------

RNG = np.random.default_rng(7)
A = RNG.standard_normal((4, 5)).astype(np.float32) * 3
B = RNG.standard_normal((4, 5)).astype(np.float32) + 0.1


@pytest.mark.parametrize("op", [
    lambda x, y: x + y, lambda x, y: x - y, lambda x, y: x * y, lambda x, y: x / y,
    lambda x, y: x + 0.001, lambda x, y: x * 1.1, lambda x, y: 2.5 - y, lambda x, y: x.maximum(y),
    lambda x, y: x.abs(), lambda x, y: -x, lambda x, y: x.floor(), lambda x, y: x.round(),
    lambda x, y: x.relu(), lambda x, y: x > y, lambda x, y: x == 1.0, lambda x, y: x.clamp(-1, 1),
    lambda x, y: x.abs().sqrt(),
], ids=range(17))
def test_correctly_rounded_elementwise_ops_are_bit_exact(op):
    same_values(op(mine(A), mine(B)), op(theirs(A), theirs(B)))


@pytest.mark.parametrize("op", [
    lambda x: x.exp(), lambda x: x.tanh(), lambda x: x.sigmoid(), lambda x: x.sin(), lambda x: x.abs().log(),
    lambda x: x.erf(), lambda x: x ** 2, lambda x: x.abs() ** 0.5, lambda x: plugrad_or_torch(x).nn.functional.gelu(x),
], ids=range(9))
def test_transcendental_ops_match_pytorch_within_one_ulp(op):
    close(op(mine(A)), op(theirs(A)), rtol=ULP, atol=1e-30)


def plugrad_or_torch(x):
    return plugrad if isinstance(x, plugrad.Tensor) else torch


def test_bfloat16_elementwise_runs_on_the_device_under_test(device):
    dev = bf16_device(device)
    same_values(mine(A, device=dev) * mine(B, device=dev) + 1.5, theirs(A) * theirs(B) + 1.5)


# ---- reductions, matmul, softmax ---------------------------------------------------------

@pytest.mark.parametrize("op", [
    lambda x: x.sum(), lambda x: x.sum(0), lambda x: x.sum(1, keepdim=True), lambda x: x.mean(),
    lambda x: x.mean(1), lambda x: x.prod(1), lambda x: x.amax(0), lambda x: x.min(), lambda x: x.cumsum(1),
    lambda x: x.argmax(1), lambda x: x.var(1), lambda x: x.norm(), lambda x: x.logsumexp(1),
    lambda x: x.sort(1).values, lambda x: x.softmax(1), lambda x: x.log_softmax(0),
], ids=range(16))
def test_reductions_and_softmax_match_pytorch(op):
    close(op(mine(A)), op(theirs(A)), rtol=2 * ULP, atol=1e-2)


def test_large_sums_accumulate_in_float32_as_in_pytorch():
    # 4096 ones: a bfloat16 accumulator would stop at 256; float32 reaches 4096 exactly
    same_values(plugrad.ones(4096, dtype=plugrad.bfloat16).sum(), torch.ones(4096, dtype=torch.bfloat16).sum())
    same_values(plugrad.ones(4096, dtype=plugrad.bfloat16).cumsum(0)[-3:],
                torch.ones(4096, dtype=torch.bfloat16).cumsum(0)[-3:])
    same_values(plugrad.ones(1, 4096, dtype=plugrad.bfloat16) @ plugrad.ones(4096, 2, dtype=plugrad.bfloat16),
                torch.ones(1, 4096, dtype=torch.bfloat16) @ torch.ones(4096, 2, dtype=torch.bfloat16))


@pytest.mark.parametrize("shapes", [((4, 5), (5, 3)), ((5,), (5,)), ((2, 4, 5), (5, 6)), ((3, 5), (5,))])
def test_matmul_matches_pytorch(shapes):
    a = RNG.standard_normal(shapes[0]).astype(np.float32)
    b = RNG.standard_normal(shapes[1]).astype(np.float32)
    close(mine(a) @ mine(b), theirs(a) @ theirs(b), rtol=2 * ULP, atol=2e-2)


def test_linear_forward_and_backward_in_bfloat16_match_pytorch():
    torch.manual_seed(0)
    ref = torch.nn.Linear(5, 3).bfloat16()
    net = plugrad.nn.Linear(5, 3).bfloat16()
    net.load_state_dict({k: plugrad.tensor(v.float().numpy()).bfloat16() for k, v in ref.state_dict().items()})
    x_mine, x_theirs = mine(A, requires_grad=True), theirs(A, requires_grad=True)
    y_mine, y_theirs = net(x_mine), ref(x_theirs)
    close(y_mine, y_theirs, rtol=2 * ULP, atol=2e-2)
    assert type(y_mine.grad_fn).__name__ == type(y_theirs.grad_fn).__name__
    (y_mine.softmax(1) * mine(np.arange(12, dtype=np.float32).reshape(4, 3))).sum().backward()
    (y_theirs.softmax(1) * theirs(np.arange(12, dtype=np.float32).reshape(4, 3))).sum().backward()
    for g_mine, g_theirs in [(x_mine.grad, x_theirs.grad), (net.weight.grad, ref.weight.grad),
                             (net.bias.grad, ref.bias.grad)]:
        assert g_mine.dtype is plugrad.bfloat16
        close(g_mine, g_theirs, rtol=4 * ULP, atol=5e-2)


def test_rand_gives_pytorchs_bfloat16_values_below_one():
    """PyTorch rounds float32 uniforms to bfloat16, and a value that rounds up to 1 becomes 0."""
    plugrad.manual_seed(3)
    torch.manual_seed(3)
    x = plugrad.rand(20000, dtype=plugrad.bfloat16)
    values = np.array(x.float().tolist())
    assert x.dtype is plugrad.bfloat16 and values.min() >= 0 and values.max() < 1
    np.testing.assert_array_equal(values, torch.rand(20000, dtype=torch.bfloat16).float().numpy())
    u = plugrad.empty(20000, dtype=plugrad.bfloat16).uniform_()
    assert 0 <= u.min().item() and u.max().item() < 1


def test_nan_to_num_uses_the_bfloat16_limits():
    data = np.array([np.nan, np.inf, -np.inf, 1.0], np.float32)
    same_values(mine(data).nan_to_num(), theirs(data).nan_to_num())


# ---- printing, NumPy, serialization -------------------------------------------------------

def test_printing_matches_pytorch():
    for data in [A, [1.5, 2.25, 3.1], [1e30, -2.0], [0.0], [[1, 2], [3, 4]]]:
        assert str(mine(data)) == str(theirs(data))
    assert repr(mine([1.0, 2.0]).dtype) == "torch.bfloat16"


def test_numpy_refuses_bfloat16_as_pytorch_does():
    with pytest.raises(TypeError) as theirs_error:
        theirs([1.0]).numpy()
    with pytest.raises(TypeError) as mine_error:
        mine([1.0]).numpy()
    assert str(mine_error.value) == str(theirs_error.value)


def test_save_load_round_trip_keeps_bits_and_dtype():
    x = mine(EDGES)
    net = plugrad.nn.Linear(4, 2).bfloat16()
    buf = io.BytesIO()
    plugrad.save({"x": x, "state": net.state_dict(), "dtype": plugrad.bfloat16}, buf)
    buf.seek(0)
    back = plugrad.load(buf)
    assert back["dtype"] is plugrad.bfloat16
    same_values(back["x"], theirs(EDGES))
    fresh = plugrad.nn.Linear(4, 2).bfloat16()
    fresh.load_state_dict(back["state"])
    for k, v in net.state_dict().items():
        assert fresh.state_dict()[k].dtype is plugrad.bfloat16
        assert fresh.state_dict()[k].tolist() == v.tolist()


def test_a_bfloat16_state_dict_loads_into_a_float32_module_as_in_pytorch():
    src = plugrad.nn.Linear(3, 2).bfloat16()
    dst = plugrad.nn.Linear(3, 2)
    dst.load_state_dict(src.state_dict())
    assert dst.weight.dtype is plugrad.float32
    assert dst.weight.tolist() == src.weight.float().tolist()


# ---- devices without bfloat16 ------------------------------------------------------------

def test_devices_without_bfloat16_refuse_it_by_name(device):
    if plugrad.bfloat16 in plugrad.plugins.backend_for(plugrad.device(device)).dtypes:
        assert plugrad.ones(2, dtype=plugrad.bfloat16, device=device).dtype is plugrad.bfloat16
        return
    kind = plugrad.device(device).type
    for make in (lambda: plugrad.ones(2, dtype=plugrad.bfloat16, device=device),
                 lambda: plugrad.ones(2, device=device).bfloat16(),
                 lambda: mine([1.0]).to(device),
                 lambda: plugrad.tensor([1.0], dtype=plugrad.bfloat16, device=device)):
        with pytest.raises(RuntimeError, match=f"bfloat16.*{kind}"):
            make()


# ---- finfo (when plugrad has it) ----------------------------------------------------------

@pytest.mark.skipif(not hasattr(plugrad, "finfo"), reason="plugrad.finfo is added by another branch")
def test_finfo_of_bfloat16_matches_pytorch():
    mine_info, their_info = plugrad.finfo(plugrad.bfloat16), torch.finfo(torch.bfloat16)
    for name in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
        assert getattr(mine_info, name) == getattr(their_info, name), name


def test_pure_python_rounding_helpers_round_to_nearest_even():
    words = plugrad.dtypes.bfloat16_words([1 + 2 ** -8, 1 + 3 * 2 ** -8, math.inf, math.nan, -0.0])
    assert words == [0x3F80, 0x3F82, 0x7F80, 0x7FC0, 0x8000]
    assert plugrad.dtypes.bfloat16_from_words(words[:3]) == [1.0, 1 + 2 ** -6, math.inf]
    assert struct.pack("<H", words[0]) == theirs([1 + 2 ** -8]).view(torch.int16).numpy().tobytes()


@pytest.mark.parametrize("fname", ["inv", "slogdet"])
def test_linalg_refuses_bfloat16_as_pytorch_does(fname):
    a = np.array([[2.0, 1.0], [1.0, 3.0]], np.float32)
    with pytest.raises(RuntimeError) as theirs_error:
        getattr(torch.linalg, fname)(theirs(a))
    with pytest.raises(RuntimeError) as mine_error:
        getattr(plugrad.linalg, fname)(mine(a))
    assert str(mine_error.value) == str(theirs_error.value)


def test_bfloat16_as_the_default_dtype_matches_pytorch():
    def run(m):
        m.set_default_dtype(m.bfloat16)
        try:
            return [str(m.tensor([1.1])), str(m.tensor([1, 2]) / 3), repr(m.arange(3.0).dtype),
                    repr(m.nn.Linear(2, 2).weight.dtype), repr(m.tensor([1.0]) * 2.5)]
        finally:
            m.set_default_dtype(m.float32)
    assert run(plugrad) == run(torch)
