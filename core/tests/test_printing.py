"""``repr``/``print`` of tensors, exactly as PyTorch prints them.

With PyTorch installed, hypothesis-generated tensors (every dtype, shapes with size-0
and size-1 dims, magnitudes from 1e-9 to 1e12, nan/inf, > 1000 elements) must print
identically. Without it, the rules themselves are checked: 4 decimals, whole floats
with a trailing dot, scientific notation, one shared width, summaries, suffixes, and
80-column lines.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import plugrad
from tensor_api_support import ALL_DTYPES, captured_stdout, np_dtype, off_host_device

NUMBER = re.compile(r"-?(?:nan|inf|\d+\.?\d*(?:e[+-]\d+)?|True|False)")


def printed_numbers(text):
    """The numbers of a tensor's repr, in order, as strings."""
    body = text[len("tensor("):]
    body = re.sub(r", (?:dtype|device|size|grad_fn|requires_grad)=.*$", "", body, flags=re.S)
    return NUMBER.findall(body)


@pytest.fixture(autouse=True)
def default_print_options():
    plugrad.set_printoptions(profile="default")
    yield
    plugrad.set_printoptions(profile="default")


# ---- against PyTorch ---------------------------------------------------------------------------------------

@st.composite
def printable_arrays(draw):
    dtype = draw(st.sampled_from(ALL_DTYPES))
    if draw(st.integers(0, 15)) == 0:
        shape = (draw(st.integers(990, 1100)),) if draw(st.booleans()) else (draw(st.integers(31, 36)),) * 2
    else:
        shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=6))
    nd = np_dtype(dtype)
    if dtype is plugrad.bool:
        return draw(hnp.arrays(nd, shape))
    if not dtype.is_floating_point:
        info = np.iinfo(nd)
        hi = draw(st.sampled_from([9, 1000, int(info.max)]))
        return draw(hnp.arrays(nd, shape, elements=st.integers(max(int(info.min), -hi), min(int(info.max), hi))))
    scale = 10.0 ** draw(st.integers(-9, 12 if dtype is not plugrad.float16 else 4))
    special = st.sampled_from([np.nan, np.inf, -np.inf, 0.0, -0.0])
    whole = draw(st.booleans())
    base = st.integers(-1000, 1000).map(float) if whole else st.floats(-1, 1)
    elements = st.one_of(base.map(lambda v: v * scale), special) if draw(st.integers(0, 4)) == 0 else \
        base.map(lambda v: v * scale)
    with np.errstate(over="ignore"):
        return draw(hnp.arrays(np.float64, shape, elements=elements)).astype(nd)


@pytest.mark.torch_oracle
@given(printable_arrays(), st.sampled_from(["plain", "requires_grad", "grad_fn", "view"]))
def test_repr_matches_torch(array, kind):
    torch = pytest.importorskip("torch")
    results = []
    for lib in (plugrad, torch):
        t = lib.tensor(array)
        if kind == "requires_grad" and t.is_floating_point():
            t.requires_grad_(True)
        elif kind == "grad_fn" and t.is_floating_point():
            t = t.requires_grad_(True) * 1
        elif kind == "view" and t.dim() >= 2:
            t = t.transpose(0, 1)
        results.append(repr(t))
    assert results[0] == results[1], f"\nplugrad:\n{results[0]}\ntorch:\n{results[1]}"


@pytest.mark.torch_oracle
@pytest.mark.parametrize("make", [
    lambda m: m.tensor(2.0, requires_grad=True) * 3, lambda m: m.ones(5, requires_grad=True).mean(),
    lambda m: m.ones(2, 3, requires_grad=True) + 1, lambda m: m.ones(3, requires_grad=True).exp(),
    lambda m: m.ones(2, 2, requires_grad=True).t(), lambda m: m.ones(3, requires_grad=True)[1:],
    lambda m: m.ones(40, requires_grad=True, dtype=m.float64) * 1.5, lambda m: m.zeros(0, 3, dtype=m.int32),
    lambda m: m.arange(100.0).reshape(4, 25) / 3, lambda m: m.ones(2, dtype=m.float16, requires_grad=True) * 2,
    lambda m: m.arange(2000).reshape(2, 1000), lambda m: m.tensor([[[]]]), lambda m: m.arange(120).reshape(2, 3, 4, 5),
])
def test_suffixes_and_layouts_match_torch(make):
    torch = pytest.importorskip("torch")
    ours, theirs = repr(make(plugrad)), repr(make(torch))
    assert ours == theirs, f"\nplugrad:\n{ours}\ntorch:\n{theirs}"


@pytest.mark.torch_oracle
@pytest.mark.parametrize("options", [dict(precision=2), dict(sci_mode=True), dict(sci_mode=False),
                                     dict(threshold=5), dict(edgeitems=1, threshold=5), dict(linewidth=40),
                                     dict(profile="short"), dict(profile="full")])
def test_print_options_match_torch(options):
    torch = pytest.importorskip("torch")
    values = np.array([[1.123456, -20.5, 3e-3], [4.0, 0.25, 1234.5]] * 3, np.float32)
    try:
        plugrad.set_printoptions(**options)
        torch.set_printoptions(**options)
        ours, theirs = repr(plugrad.tensor(values)), repr(torch.tensor(values))
    finally:
        torch.set_printoptions(profile="default")
    assert ours == theirs, f"\nplugrad:\n{ours}\ntorch:\n{theirs}"


# ---- the rules, without PyTorch ---------------------------------------------------------------------------------

@given(hnp.arrays(np.int64, st.integers(1, 6), elements=st.integers(-10 ** 6, 10 ** 6)))  # fits one line
def test_int_vectors_print_with_one_shared_width(values):
    width = max(len(str(v)) for v in values.tolist())
    expected = "tensor([" + ", ".join(str(v).rjust(width) for v in values.tolist()) + "])"
    assert repr(plugrad.tensor(values)) == expected


@given(hnp.arrays(np.float32, st.integers(1, 8), elements=st.integers(-999, 999).map(float)))
def test_whole_floats_print_with_a_trailing_dot(values):
    text = repr(plugrad.tensor(values))
    nonzero = np.abs(values[values != 0])
    if nonzero.size and nonzero.max() / nonzero.min() > 1000:
        return
    width = max(len(f"{v:.0f}.") for v in values.tolist())
    assert text == "tensor([" + ", ".join(f"{v:.0f}.".rjust(width) for v in values.tolist()) + "])"


@given(hnp.arrays(np.float32, st.integers(1, 8), elements=st.floats(0.001, 0.9).map(np.float32)))
def test_fractions_print_with_four_decimals(values):
    numbers = printed_numbers(repr(plugrad.tensor(values)))
    nonzero = values[values != 0]
    if nonzero.size and (nonzero.max() / nonzero.min() > 1000 or nonzero.min() < 1e-4):
        assert all(re.fullmatch(r"\d\.\d{4}e[+-]\d\d", n) for n in numbers)
    else:
        assert numbers == [f"{v:.4f}" for v in values.tolist()]


def test_scientific_notation_when_magnitudes_spread():
    for values in ([1e-5, 1.0], [1.0, 2000.5], [1.5e9], [0.00001234]):
        numbers = printed_numbers(repr(plugrad.tensor(values)))
        assert numbers == [f"{v:.4e}" for v in np.array(values, np.float32).tolist()]
    assert printed_numbers(repr(plugrad.tensor([1.0, 999.5]))) == ["1.0000", "999.5000"]


def test_zero_dim_empty_and_special_values():
    assert repr(plugrad.tensor(5)) == "tensor(5)"
    assert repr(plugrad.tensor(2.5)) == "tensor(2.5000)"
    assert repr(plugrad.tensor(3.0)) == "tensor(3.)"
    assert repr(plugrad.tensor(True)) == "tensor(True)"
    assert repr(plugrad.tensor([])) == "tensor([])"
    assert repr(plugrad.zeros(2, 0)) == "tensor([], size=(2, 0))"
    assert repr(plugrad.zeros(0, dtype=plugrad.int64)) == "tensor([], dtype=torch.int64)"
    assert printed_numbers(repr(plugrad.tensor([float("nan"), 1.5, -float("inf")]))) == ["nan", "1.5000", "-inf"]
    assert printed_numbers(repr(plugrad.tensor([float("inf"), 2.0]))) == ["inf", "2."]


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_dtype_suffix_only_for_non_default_dtypes(dtype):
    text = repr(plugrad.ones(2, dtype=dtype))
    if dtype in (plugrad.float32, plugrad.int64, plugrad.bool):
        assert "dtype=" not in text
    else:
        assert text.endswith(f", dtype={dtype!r})")


def test_autograd_suffixes():
    x = plugrad.ones(2, requires_grad=True)
    assert repr(x) == "tensor([1., 1.], requires_grad=True)"
    assert repr(x * 2).endswith(", grad_fn=<MulBackward0>)")
    assert repr(x + 1).endswith(", grad_fn=<AddBackward0>)")
    assert repr((x * 3).mean()) == "tensor(3., grad_fn=<MeanBackward0>)"
    with plugrad.no_grad():
        assert "grad_fn" not in repr(x * 2)
    assert repr(x.detach()) == "tensor([1., 1.])"


def test_device_suffix():
    with off_host_device() as dev:
        assert repr(plugrad.ones(2, device=dev)) == "tensor([1., 1.], device='offhost:0')"
        assert repr(plugrad.ones(2, dtype=plugrad.float64, device=dev)) == \
            "tensor([1., 1.], device='offhost:0', dtype=torch.float64)"


def test_large_tensors_are_summarised():
    text = repr(plugrad.arange(5000).reshape(50, 100))
    rows = text.split("\n")
    assert "..." in text
    numbers = printed_numbers(text)
    assert len(numbers) == 6 * 6  # 3 edge items at both ends of both dims
    assert numbers[:3] == ["0", "1", "2"] and numbers[-3:] == ["4997", "4998", "4999"]
    assert len(rows) == 7  # 3 rows, an ellipsis row, 3 rows
    assert repr(plugrad.arange(1000)).count("...") == 0


def test_lines_wrap_at_80_columns():
    text = repr(plugrad.arange(200.0) / 7)
    lines = text.split("\n")
    assert len(lines) > 1
    assert all(len(line) <= 80 for line in lines)
    assert all(line.startswith(" " * len("tensor([")) for line in lines[1:])
    wrapped = repr(plugrad.ones(20, dtype=plugrad.float64, requires_grad=True) * 1.5)
    assert all(len(line) <= 80 for line in wrapped.split("\n"))
    assert wrapped.split("\n")[-1].strip().startswith("dtype=") or "grad_fn" in wrapped.split("\n")[-1]


def test_precision_option():
    plugrad.set_printoptions(precision=2)
    assert repr(plugrad.tensor([1.23456, 2.5])) == "tensor([1.23, 2.50])"
    plugrad.set_printoptions(profile="default")
    assert repr(plugrad.tensor([1.23456, 2.5])) == "tensor([1.2346, 2.5000])"


def test_print_and_str_match_repr():
    t = plugrad.tensor([[1, 2], [3, 4]])
    assert str(t) == repr(t)
    out = captured_stdout("print(t)", {"t": t})
    assert out == repr(t) + "\n"
    assert repr(t.size()) == "torch.Size([2, 2])"
    assert repr(t.max(1)) == "torch.return_types.max(\nvalues=tensor([2, 4]),\nindices=tensor([1, 1]))"
